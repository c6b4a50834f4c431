"""The stream never lies: the writer-floor gap rule, pruning seen by every
relay, the epoch, TRUNCATE, and /api/changes sharing the stream's reader.

Each test that changes the log's history gets a database of its own in the
session's cluster (fresh_db), migrated as users migrate theirs; api and relay
run as the least-privilege role orders_app."""
import os
import signal
import subprocess
import threading
import time

import pytest

import conftest
from conftest import BIN_DIR, free_port, http_json, wait_until
from relay_helpers import Ws, WsClosed, insert_orders, stop_relay

from isolated import db, reap_servers, start_relay  # noqa: F401 - fixtures
from isolated import track


def ApiServer(*args, **kwargs):  # noqa: N802 - stands in for the class
    return track(conftest.ApiServer(*args, **kwargs))


def epoch_of(db):
    return db.sql("SELECT epoch FROM order_changes_epoch")[0][0]


def changes(api, since, **params):
    q = "&".join([f"since={since}"] + [f"{k}={v}" for k, v in params.items()])
    return http_json("GET", f"{api.base}/api/changes?{q}")


# -- the gap rule: a hole waits only for writers ------------------------------

def test_polling_never_passes_a_hole_an_open_writer_fills(db):
    api = ApiServer(db).start()
    try:
        insert_orders(db, 1)
        base = db.sql("SELECT max(seq) FROM order_changes")[0][0]
        writer = db.connect(autocommit=False)
        with writer.cursor() as cur:  # takes base+1 and holds it open
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('w', 'p')")
        insert_orders(db, 1)  # base+2 commits first
        status, hdrs, body = changes(api, base)
        assert status == 200 and body == [], body  # never [base+2] alone
        assert hdrs["orders-epoch"] == epoch_of(db)
        writer.commit()
        writer.close()
        status, _, body = changes(api, base)
        assert [e["seq"] for e in body] == [base + 1, base + 2]
        assert body[0]["data"]["customer_name"] == "w"
    finally:
        api.stop()
        api.assert_clean()


def test_polling_passes_a_rolled_back_hole_at_once(db):
    api = ApiServer(db).start()
    try:
        base = db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
        writer = db.connect(autocommit=False)
        with writer.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('w', 'p')")
        insert_orders(db, 1)
        writer.rollback()
        writer.close()
        status, _, body = changes(api, base)
        assert status == 200 and [e["seq"] for e in body] == [base + 2]
    finally:
        api.stop()


def test_unrelated_long_transaction_never_delays_the_stream(db):
    db.sql("CREATE TABLE unrelated (a int)")
    relay = start_relay(db)
    api = ApiServer(db).start()
    ws = Ws(relay.ws_url)
    try:
        ws.recv_type("hello")
        other = db.connect(autocommit=False)  # an xid, open for the whole test
        with other.cursor() as cur:
            cur.execute("INSERT INTO unrelated VALUES (1)")
        failing = db.connect(autocommit=False)  # a permanent hole next to it
        with failing.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('x', 'y')")
        failing.rollback()
        failing.close()
        t0 = time.time()
        insert_orders(db, 3)
        got = ws.events(3, timeout=5)
        assert time.time() - t0 < 3, "the stream waited for an unrelated transaction"
        assert [e["data"]["customer_name"] for e in got] == ["c1", "c2", "c3"]
        last = got[-1]["seq"]
        status, _, body = changes(api, last - 4)
        assert [e["seq"] for e in body] == [e["seq"] for e in got]
        other.rollback()
        other.close()
    finally:
        ws.close()
        api.stop()
        stop_relay(relay)


def test_relay_starts_at_once_behind_open_writers(db, pg):
    insert_orders(db, 2)
    writer = db.connect(autocommit=False)
    with writer.cursor() as cur:
        cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('early', 'p')")
    unrelated = db.connect(autocommit=False)
    with unrelated.cursor() as cur:
        cur.execute("SELECT pg_current_xact_id()")
    t0 = time.time()
    relay = start_relay(db)
    try:
        assert time.time() - t0 < 10
        ws = Ws(relay.ws_url)
        hello = ws.recv_type("hello")
        insert_orders(db, 1, customer="after")
        writer.commit()  # its seq is below the one that committed first
        got = ws.events(2, timeout=10)
        assert [e["data"]["customer_name"] for e in got] == ["early", "after1"]
        assert got[0]["seq"] > hello["seq"]
        ws.close()
    finally:
        writer.close()
        unrelated.rollback()
        unrelated.close()
        stop_relay(relay)


def test_relay_starts_with_a_forgotten_prepared_transaction(db):
    db.sql("CREATE TABLE IF NOT EXISTS side (a int)")
    conn = db.connect(autocommit=False)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO side VALUES (1)")
        cur.execute("PREPARE TRANSACTION 'forgotten'")
    conn.close()
    try:
        relay = start_relay(db)
        ws = Ws(relay.ws_url)
        ws.recv_type("hello")
        insert_orders(db, 1)
        assert len(ws.events(1, timeout=5)) == 1
        ws.close()
        stop_relay(relay)
    finally:
        db.sql("ROLLBACK PREPARED 'forgotten'")


def test_concurrent_writers_stream_and_poll_the_committed_sequence(db):
    relay = start_relay(db)
    api = ApiServer(db).start()
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    base = db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    errors = []

    def writer(k):
        try:
            conn = db.connect(autocommit=False)
            for i in range(40):
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO orders (customer_name, product_name) "
                                "VALUES (%s, 'p')", (f"w{k}-{i}",))
                    if i % 3 == 0:
                        cur.execute("INSERT INTO orders (customer_name, product_name) "
                                    "VALUES (%s, 'p')", (f"w{k}-{i}b",))
                time.sleep(0.002 * ((k + i) % 4))
                if i % 5 == 4:
                    conn.rollback()
                else:
                    conn.commit()
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    # a polling client reads while the writers run
    polled, since = [], base
    deadline = time.time() + 30
    while any(t.is_alive() for t in threads) and time.time() < deadline:
        status, _, body = changes(api, since, limit=50)
        assert status == 200
        polled += [e["seq"] for e in body]
        if body:
            since = body[-1]["seq"]
        time.sleep(0.01)
    for t in threads:
        t.join()
    assert not errors, errors
    committed = [r[0] for r in db.sql("SELECT seq FROM order_changes WHERE seq > %s "
                                      "ORDER BY seq", (base,))]
    while True:
        status, _, body = changes(api, since, limit=1000)
        if not body:
            break
        polled += [e["seq"] for e in body]
        since = body[-1]["seq"]
    streamed = [e["seq"] for e in ws.events(len(committed), timeout=20)]
    assert streamed == committed
    assert polled == committed
    ws.close()
    api.stop()
    stop_relay(relay)


# -- pruning every relay can see ----------------------------------------------

def test_lagging_relay_resyncs_instead_of_skipping_pruned_events(db):
    fast = start_relay(db, env={"CHANGES_RETENTION": "1s"})
    slow = start_relay(db, env={"CHANGES_RETENTION": "24h"})
    ws = Ws(slow.ws_url)
    ws.recv_type("hello")
    insert_orders(db, 2)
    first = ws.events(2)
    os.kill(slow.proc.pid, signal.SIGSTOP)
    try:
        # a rolled-back write first: its hole makes the relay read the log
        # (a relay that gets every notification sends them and loses
        # nothing, however far another relay has pruned)
        failing = db.connect(autocommit=False)
        with failing.cursor() as cur:
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('x', 'y')")
        failing.rollback()
        failing.close()
        insert_orders(db, 3)
        wait_until(lambda: db.sql("SELECT pruned_through FROM order_changes_pruned")[0][0]
                   >= first[-1]["seq"] + 3, timeout=20, what="the fast relay to prune")
    finally:
        os.kill(slow.proc.pid, signal.SIGCONT)
    m = ws.recv_type("resync", timeout=10)
    assert m["reason"] == "history_truncated" and m["epoch"] == epoch_of(db)
    assert m["seq"] >= first[-1]["seq"] + 3
    insert_orders(db, 1, customer="later")
    after = ws.events(1)
    assert after[0]["seq"] > m["seq"] and after[0]["data"]["customer_name"] == "later1"
    ws.close()
    stop_relay(slow)
    stop_relay(fast)


def test_changes_410_when_history_was_pruned(db):
    api = ApiServer(db).start()
    insert_orders(db, 5)
    top = db.sql("SELECT max(seq) FROM order_changes")[0][0]
    db.sql("WITH d AS (DELETE FROM order_changes WHERE seq <= %s RETURNING seq) "
           "UPDATE order_changes_pruned SET pruned_through = (SELECT max(seq) FROM d)",
           (top - 2,))
    status, _, body = changes(api, 0)
    assert status == 410 and body["code"] == "history_truncated"
    assert body["seq"] == top and body["epoch"] == epoch_of(db)
    status, _, body = changes(api, top - 2)
    assert status == 200 and [e["seq"] for e in body] == [top - 1, top]
    api.stop()


# -- the epoch -------------------------------------------------------------

def test_epoch_in_hello_and_foreign_epoch_resyncs(db):
    relay = start_relay(db)
    api = ApiServer(db).start()
    epoch = epoch_of(db)
    ws = Ws(relay.ws_url)
    assert ws.recv_type("hello")["epoch"] == epoch
    ws.close()
    insert_orders(db, 2)
    ws = Ws(relay.ws_url + "?since=0&epoch=someotherhistory")
    ws.recv_type("hello")
    m = ws.recv_type("resync")
    assert m["reason"] == "epoch_changed" and m["epoch"] == epoch
    ws.close()
    ws = Ws(relay.ws_url + f"?since=0&epoch={epoch}")
    assert len(ws.events(2)) == 2
    ws.close()
    status, _, body = changes(api, 0, epoch="someotherhistory")
    assert status == 410 and body["code"] == "epoch_changed" and body["epoch"] == epoch
    status, _, body = changes(api, 0, epoch="bad%20epoch")
    assert status == 400 and body["field"] == "epoch"
    api.stop()
    stop_relay(relay)


def test_restore_step_and_reset_sequence_renew_the_epoch(db):
    relay = start_relay(db)
    api = ApiServer(db).start()
    ws = Ws(relay.ws_url)
    e1 = ws.recv_type("hello")["epoch"]
    insert_orders(db, 3)
    got = ws.events(3)
    # the documented restore step
    db.sql("SELECT orders_new_epoch(NULL)")
    insert_orders(db, 1)
    m = ws.recv_type("resync", timeout=10)
    e2 = epoch_of(db)
    assert m["reason"] == "epoch_changed" and m["epoch"] == e2 != e1
    # a sequence reset below what clients hold: no silent stall
    db.sql("TRUNCATE order_changes")
    # retention had pruned part of the old history: that mark must not hide
    # the new one
    db.sql("UPDATE order_changes_pruned SET pruned_through = %s", (got[-1]["seq"],))
    db.sql("ALTER SEQUENCE order_changes_seq RESTART WITH 1")
    insert_orders(db, 1, customer="new")
    m = ws.recv_type("resync", timeout=10)
    e3 = epoch_of(db)
    assert m["reason"] == "epoch_changed" and m["epoch"] == e3 != e2
    status, _, body = changes(api, got[-1]["seq"], epoch=e1)
    assert status == 410 and body["code"] == "epoch_changed"
    status, _, body = changes(api, 0, epoch=e3)
    assert status == 200 and body[-1]["data"]["customer_name"] == "new1"
    # a client resuming with a seq never handed out in this history
    ws2 = Ws(relay.ws_url + "?since=5000")
    ws2.recv_type("hello")
    assert ws2.recv_type("resync")["reason"] == "epoch_changed"
    ws2.close()
    ws.close()
    api.stop()
    stop_relay(relay)


def test_sequence_cache_above_one_is_refused(db):
    db.sql("ALTER SEQUENCE order_changes_seq CACHE 10")
    for prog, port_var in (("orders-relay", "WS_PORT"), ("orders-api", "PORT")):
        e = dict(os.environ, DATABASE_URL=db.app_url, **{port_var: str(free_port())})
        p = subprocess.run([os.path.join(BIN_DIR, prog)], env=e, capture_output=True,
                           text=True, timeout=60, cwd="/tmp")
        assert p.returncode != 0, p.stderr
        assert "CACHE 1" in p.stderr, p.stderr


# -- TRUNCATE -----------------------------------------------------------------

def test_truncate_is_streamed_in_order(db):
    relay = start_relay(db)
    api = ApiServer(db).start()
    ws = Ws(relay.ws_url + "?status=shipped")  # TRUNCATE passes every filter
    ws.recv_type("hello")
    base = db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    insert_orders(db, 2, status="shipped")
    db.sql("TRUNCATE orders")
    insert_orders(db, 1, status="shipped")
    got = ws.events(4)
    assert [e["data"]["operation"] for e in got] == ["INSERT", "INSERT", "TRUNCATE", "INSERT"]
    assert got[2]["data"] == {"operation": "TRUNCATE"} and "old" not in got[2]
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    status, _, body = changes(api, base)
    assert [e["data"]["operation"] for e in body] == ["INSERT", "INSERT", "TRUNCATE", "INSERT"]
    ws.close()
    ws = Ws(relay.ws_url + "?operation=TRUNCATE&since=0")
    assert ws.events(1)[0]["data"]["operation"] == "TRUNCATE"
    ws.close()
    api.stop()
    stop_relay(relay)


# -- replay -------------------------------------------------------------------

def test_replay_goes_at_the_clients_pace_under_a_small_backlog(db):
    base = db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    insert_orders(db, 1500, customer="x" * 150, product="y" * 150)
    relay = start_relay(db, env={"CLIENT_BACKLOG": "128KiB"})
    ws = Ws(relay.ws_url + f"?since={base}")
    ws.recv_type("hello")
    got = ws.events(1500, timeout=60)
    assert [e["seq"] for e in got] == list(range(base + 1, base + 1501))
    ws.close()
    stop_relay(relay)


def test_undecodable_row_in_replay_is_told_not_skipped(db):
    insert_orders(db, 2)
    bad = db.sql("SELECT nextval('order_changes_seq')")[0][0]
    db.sql("INSERT INTO order_changes (seq, operation, order_id, status, data) "
           "VALUES (%s, 'INSERT', 1, 'bogus', '{}')", (bad,))
    insert_orders(db, 2)
    relay = start_relay(db)
    ws = Ws(relay.ws_url + "?since=0")
    ws.recv_type("hello")
    seen = []
    with pytest.raises(WsClosed) as closed:
        while True:
            m = ws.recv(timeout=10)
            if m["type"] == "order_change":
                seen.append(m["seq"])
    assert closed.value.code == 1011
    assert seen == [bad - 2, bad - 1]  # nothing past the bad row
    ws.close()
    stop_relay(relay)


# -- bursts at the client's pace ---------------------------------------------

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def test_bulk_insert_reaches_a_slow_reader_within_a_small_backlog(db):
    """A client that reads slower than the relay sends is not cut by a
    100 000-row transaction: it falls behind, reads the rest from the log at
    its pace and rejoins live; the relay holds at most its backlog for it."""
    import socket
    from relay_helpers import metric
    relay = start_relay(db, env={"CLIENT_BACKLOG": "1MiB"})
    ws = Ws(relay.ws_url, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)])
    start = ws.recv_type("hello")["seq"]
    rss0 = rss_mib(relay.proc.pid)
    db.sql("INSERT INTO orders (customer_name, product_name) "
           "SELECT 'bulk' || g, repeat('p', 100) FROM generate_series(1, 100000) g")
    got, peak = [], rss0
    while len(got) < 100000:
        m = ws.recv(timeout=30)
        if m["type"] != "order_change":
            continue
        got.append(m["seq"])
        if len(got) % 250 == 0:  # a reader much slower than the relay
            time.sleep(0.05)
        if len(got) % 5000 == 0:
            peak = max(peak, rss_mib(relay.proc.pid))
    committed = [r[0] for r in db.sql("SELECT seq FROM order_changes WHERE seq > %s "
                                      "ORDER BY seq", (start,))]
    assert got == committed
    assert metric(relay, "orders_relay_slow_consumer_closes_total") == 0
    if "/san" not in BIN_DIR:  # an ASan relay may be slower than this reader
        assert metric(relay, "orders_relay_catchups_total") >= 1
    # live again afterwards
    insert_orders(db, 1, customer="after")
    assert ws.events(1)[0]["data"]["customer_name"] == "after1"
    if "/san" not in BIN_DIR:  # ASan keeps freed memory in quarantine
        assert peak - rss0 < 48, f"relay grew {peak - rss0:.0f} MiB for one slow reader"
    ws.close()
    stop_relay(relay)


def test_many_replays_share_one_read(db):
    """Clients replaying the same history after a restart all get all of it
    (the catch-up thread reads each page once for all of them)."""
    base = db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    insert_orders(db, 3000)
    relay = start_relay(db)
    clients = [Ws(relay.ws_url + f"?since={base}") for _ in range(20)]
    for ws in clients:
        ws.recv_type("hello")
    want = list(range(base + 1, base + 3001))
    for ws in clients:
        assert [e["seq"] for e in ws.events(3000, timeout=60)] == want
        ws.close()
    stop_relay(relay)


def test_cli_watch_keeps_epoch_and_shows_truncate(db):
    import json
    cli = os.path.join(BIN_DIR, "orders-cli")
    port = free_port()
    relay = start_relay(db, port=port)
    out, err = [], []
    proc = subprocess.Popen([cli, "--relay", relay.ws_url, "--json", "watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, NO_COLOR="1"))
    pumps = [threading.Thread(target=lambda f=f, o=o: [o.append(l.rstrip("\n")) for l in f])
             for f, o in ((proc.stdout, out), (proc.stderr, err))]
    for t in pumps:
        t.start()

    def msgs(kind):
        return [m for m in map(json.loads, list(out)) if m["type"] == kind]

    try:
        wait_until(lambda: msgs("hello"), timeout=15, what="hello")
        insert_orders(db, 1, customer="one")
        db.sql("TRUNCATE orders")
        wait_until(lambda: len(msgs("order_change")) == 2, timeout=10, what="two events")
        assert [m["data"]["operation"] for m in msgs("order_change")] == ["INSERT", "TRUNCATE"]
        # a restore step while watching: told on stderr and as the relay's message
        db.sql("SELECT orders_new_epoch(NULL)")
        insert_orders(db, 1, customer="two")
        wait_until(lambda: msgs("resync"), timeout=10, what="resync")
        assert msgs("resync")[0]["reason"] == "epoch_changed"
        assert msgs("resync")[0]["epoch"] == epoch_of(db)
        # the relay restarts: watch resumes with since and the new epoch, once
        relay.stop()
        insert_orders(db, 1, customer="three")
        relay = start_relay(db, port=port)
        wait_until(lambda: any(m["data"].get("customer_name") == "three1"
                               for m in msgs("order_change")), timeout=20, what="resume")
        time.sleep(0.5)
        seqs = [m["seq"] for m in msgs("order_change")]
        assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs)
        assert len(msgs("resync")) == 1  # resumed in the new epoch: nothing to resync
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        for t in pumps:
            t.join(5)
        stop_relay(relay)
    assert rc == 0, "\n".join(err)
