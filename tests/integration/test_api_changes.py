"""Writes made directly in SQL are visible through the API and in the change
log with seq; LISTEN order_changes gets the original payload plus seq;
/api/changes returns the events oldest first and never passes a gap an open
transaction could still fill."""
import json
import select
import time


from conftest import http_json, wait_until
from helpers_api import ISO_TZ, JSON_CT, changes, create, max_seq, unique


def test_sql_writes_visible_and_logged(api, pg):
    since = max_seq(pg)
    cust = unique("sql")
    oid = pg.sql("INSERT INTO orders (customer_name, product_name) VALUES (%s, 'Desk') RETURNING id",
                 (cust,))[0][0]
    st, _, o = http_json("GET", f"{api.base}/api/orders/{oid}")
    assert st == 200 and o["customer_name"] == cust and o["status"] == "pending"
    pg.sql("UPDATE orders SET status = 'shipped' WHERE id = %s", (oid,))
    st, _, o = http_json("GET", f"{api.base}/api/orders/{oid}")
    assert o["status"] == "shipped"
    st, _, lst = http_json("GET", f"{api.base}/api/orders?status=shipped&limit=1000")
    assert oid in [x["id"] for x in lst]
    pg.sql("DELETE FROM orders WHERE id = %s", (oid,))
    st, _, _ = http_json("GET", f"{api.base}/api/orders/{oid}")
    assert st == 404

    rows = pg.sql("SELECT seq, operation, order_id, status, old_status FROM order_changes "
                  "WHERE seq > %s AND order_id = %s ORDER BY seq", (since, oid))
    assert [(r[1], r[3], r[4]) for r in rows] == [("INSERT", "pending", None),
                                                 ("UPDATE", "shipped", "pending"),
                                                 ("DELETE", "shipped", None)]
    seqs = [r[0] for r in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3

    evs = [e for e in changes(api, since) if e["data"]["id"] == oid]
    assert [e["seq"] for e in evs] == seqs
    ins, upd, dele = evs
    for e in evs:
        assert e["type"] == "order_change"
        assert ISO_TZ.match(e["timestamp"]), e
        assert set(e["data"]) == {"operation", "id", "customer_name", "product_name", "status",
                                  "created_at", "updated_at"}
        assert e["data"]["customer_name"] == cust and e["data"]["product_name"] == "Desk"
        assert ISO_TZ.match(e["data"]["created_at"]) and ISO_TZ.match(e["data"]["updated_at"])
    assert ins["data"]["operation"] == "INSERT" and "old" not in ins
    assert upd["data"]["operation"] == "UPDATE" and upd["data"]["status"] == "shipped"
    assert upd["old"] == {"status": "pending"}
    assert dele["data"]["operation"] == "DELETE" and dele["data"]["status"] == "shipped"
    assert "old" not in dele


def test_api_writes_logged_same_as_sql(api, pg):
    since = max_seq(pg)
    o = create(api)
    http_json("PATCH", f"{api.base}/api/orders/{o['id']}", {"customer_name": "renamed", "status": "processing"})
    http_json("DELETE", f"{api.base}/api/orders/{o['id']}")
    evs = [e for e in changes(api, since) if e["data"]["id"] == o["id"]]
    assert [e["data"]["operation"] for e in evs] == ["INSERT", "UPDATE", "DELETE"]
    assert evs[1]["old"] == {"customer_name": o["customer_name"], "status": "pending"}
    assert evs[0]["data"]["created_at"] == o["created_at"]


def test_changes_oldest_first_since_and_limit(api, pg):
    since = max_seq(pg)
    made = [create(api) for _ in range(5)]
    st, hdrs, evs = http_json("GET", f"{api.base}/api/changes?since={since}")
    assert st == 200 and hdrs["content-type"] == JSON_CT
    assert [e["data"]["id"] for e in evs] == [m["id"] for m in made]
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs) and all(s > since for s in seqs)
    st, _, two = http_json("GET", f"{api.base}/api/changes?since={since}&limit=2")
    assert [e["seq"] for e in two] == seqs[:2]
    st, _, rest = http_json("GET", f"{api.base}/api/changes?since={seqs[1]}&limit=1000")
    assert [e["seq"] for e in rest] == seqs[2:]
    st, _, none = http_json("GET", f"{api.base}/api/changes?since={seqs[-1]}")
    assert none == []
    # default since=0 and default limit=100
    st, _, first = http_json("GET", f"{api.base}/api/changes")
    assert st == 200 and 1 <= len(first) <= 100
    assert first[0]["seq"] == pg.sql("SELECT min(seq) FROM order_changes")[0][0]
    if pg.sql("SELECT count(*) FROM order_changes")[0][0] > 100:
        assert len(first) == 100


def test_notify_payload_original_fields_plus_seq(api, pg):
    conn = pg.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("LISTEN order_changes")
        o = create(api, status="processing")
        pg.sql("UPDATE orders SET status = 'shipped' WHERE id = %s", (o["id"],))
        got = []
        deadline = time.time() + 10
        while len(got) < 2 and time.time() < deadline:
            if select.select([conn], [], [], 0.5)[0]:
                conn.poll()
                while conn.notifies:
                    n = conn.notifies.pop(0)
                    assert n.channel == "order_changes"
                    p = json.loads(n.payload)
                    if p.get("id") == o["id"]:
                        got.append(p)
        assert len(got) == 2, got
        ins, upd = got
        assert set(ins) == {"operation", "id", "customer_name", "product_name", "status",
                            "updated_at", "seq"}
        assert ins["operation"] == "INSERT" and ins["status"] == "processing"
        assert ins["customer_name"] == o["customer_name"] and ins["product_name"] == o["product_name"]
        assert upd["operation"] == "UPDATE" and upd["status"] == "shipped"
        assert upd["seq"] > ins["seq"]
        log = dict(pg.sql("SELECT seq, operation FROM order_changes WHERE order_id = %s", (o["id"],)))
        assert log == {ins["seq"]: "INSERT", upd["seq"]: "UPDATE"}
    finally:
        conn.close()


def test_rolled_back_write_leaves_no_event(api, pg):
    since = max_seq(pg)
    conn = pg.connect(autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('rb', 'rb') RETURNING id")
            rb_id = cur.fetchone()[0]
        conn.rollback()
    finally:
        conn.close()
    o = create(api)
    evs = changes(api, since)
    ids = [e["data"]["id"] for e in evs]
    assert rb_id not in ids
    assert o["id"] in ids  # the rolled-back gap is passed once nothing is open


def test_changes_stop_before_gap_of_open_transaction(api, pg):
    since = max_seq(pg)
    first = create(api)  # committed before the gap: must be returned
    slow = pg.connect(autocommit=False)
    try:
        with slow.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES (%s, 'held') RETURNING id",
                        (unique("held"),))
            held_id = cur.fetchone()[0]
        # a later transaction takes a higher seq and commits first
        after = create(api)
        after_seq = pg.sql("SELECT seq FROM order_changes WHERE order_id = %s", (after["id"],))[0][0]
        assert after_seq > since
        for _ in range(3):
            evs = changes(api, since)
            ids = [e["data"]["id"] for e in evs]
            assert first["id"] in ids, "a change before the gap was held back"
            assert after["id"] not in ids, "returned an event past a gap an open transaction can fill"
            time.sleep(0.2)
        # also with since just below the gap
        evs = changes(api, [e["seq"] for e in evs if e["data"]["id"] == first["id"]][0])
        assert evs == []
        slow.commit()
    finally:
        slow.close()
    evs = wait_until(lambda: (lambda ev: ev if after["id"] in [e["data"]["id"] for e in ev] else None)(
        changes(api, since)), timeout=5, what="both events after commit")
    ids = [e["data"]["id"] for e in evs]
    assert ids.index(first["id"]) < ids.index(held_id) < ids.index(after["id"])
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs)


def test_open_read_only_transaction_does_not_block(api, pg):
    """A transaction without a write cannot fill a gap: it must not hold events back."""
    since = max_seq(pg)
    idle = pg.connect(autocommit=False)
    try:
        with idle.cursor() as cur:
            cur.execute("SELECT count(*) FROM orders")
        o = create(api)
        assert o["id"] in [e["data"]["id"] for e in changes(api, since)]
    finally:
        idle.rollback()
        idle.close()
