"""The relay's fast path: a notification that is the next seq goes out at
once, without a change-log read, and the stream keeps every guarantee.

Every client's sequence must equal the committed one exactly (no gap, no
duplicate, ascending) under interleaved writers that commit out of seq order
and roll back, notifications too large to carry the event, notifications the
relay never gets (its listener connection cut, the relay stopped or started
while writers run) and epoch renewals; and an event sent from a notification
must be byte for byte the one the change log gives (but the send time).

Each test gets a database of its own in the session's cluster, migrated as
users migrate theirs; the relay runs as orders_app."""
import json
import os
import random
import re
import signal
import threading
import time

import pytest

from relay_helpers import Ws, insert_orders, metric, stop_relay

from isolated import db, reap_servers, start_relay  # noqa: F401 - fixtures


def head(db):
    return db.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]


def committed_after(db, seq):
    return [r[0] for r in db.sql("SELECT seq FROM order_changes WHERE seq > %s ORDER BY seq",
                                 (seq,))]


def fast_events(relay):
    return metric(relay, "orders_relay_fast_path_events_total")


def assert_exact(got, want, who="client"):
    seqs = [e["seq"] for e in got]
    assert seqs == want, (f"{who}: {len(seqs)} events, {len(want)} committed; first "
                          f"difference at {next((i for i, (a, b) in enumerate(zip(seqs, want)) if a != b), min(len(seqs), len(want)))}")


class Writers:
    """Writer threads with their own connections: random multi-row
    transactions (insert, update, delete), pauses inside them so that
    concurrent transactions commit out of seq order, and random rollbacks
    (whole transactions and savepoints)."""

    def __init__(self, db, n=5, seed=None, rollback=0.25, big=None, pause_ms=3):
        self.db = db
        self.n = n
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        self.rollback = rollback
        self.big = big  # a function(rng) -> a customer name, or None
        self.pause_ms = pause_ms
        self.stop = threading.Event()
        self.errors = []
        self.txs = 0
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in range(n)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not self.errors, f"seed {self.seed}: {self.errors[:3]}"

    def _name(self, rng, k, i):
        if self.big and rng.random() < 0.4:
            return self.big(rng)
        return f"w{k}-{i}"

    def _run(self, k):
        rng = random.Random(self.seed * 100 + k)
        try:
            conn = self.db.connect(autocommit=False)
            mine = []
            i = 0
            while not self.stop.is_set():
                with conn.cursor() as cur:
                    for _ in range(rng.randint(1, 3)):
                        i += 1
                        op = rng.random()
                        if op < 0.5 or not mine:
                            rows = rng.choice((1, 1, 2, 5))
                            cur.execute("INSERT INTO orders (customer_name, product_name) "
                                        "SELECT %s || g, 'p' FROM generate_series(1, %s) g "
                                        "RETURNING id", (self._name(rng, k, i), rows))
                            mine += [r[0] for r in cur.fetchall()]
                        elif op < 0.8:
                            cur.execute("UPDATE orders SET status = %s, customer_name = %s "
                                        "WHERE id = %s",
                                        (rng.choice(("processing", "shipped")),
                                         self._name(rng, k, i), rng.choice(mine)))
                        elif op < 0.9 and self.rollback:
                            cur.execute("SAVEPOINT s")
                            cur.execute("INSERT INTO orders (customer_name, product_name) "
                                        "VALUES ('undone', 'p')")
                            cur.execute("ROLLBACK TO SAVEPOINT s")
                        else:
                            cur.execute("DELETE FROM orders WHERE id = %s", (mine.pop(),))
                        if self.pause_ms:
                            time.sleep(rng.random() * self.pause_ms / 1000)
                if rng.random() < self.rollback:
                    conn.rollback()  # its ids may linger in mine: no-op updates
                else:
                    conn.commit()
                self.txs += 1
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported by __exit__
            self.errors.append(e)


def raw_events(ws, n, timeout=30):
    """n order_change frames as received (text), answering pings."""
    import websocket
    out = []
    deadline = time.time() + timeout
    while len(out) < n:
        left = deadline - time.time()
        assert left > 0, f"got {len(out)} of {n} events"
        ws.ws.settimeout(left)
        op, data = ws.ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_PING:
            ws.ws.pong(data)
            continue
        if op != websocket.ABNF.OPCODE_TEXT:
            continue
        text = data.decode()
        if json.loads(text)["type"] == "order_change":
            out.append(text)
    return out


def without_time(text):
    return re.sub(r',"timestamp":"[^"]*"}$', "}", text)


# -- the fast path is taken, and sends what the log sends --------------------

def test_notified_events_are_the_logs_byte_for_byte(db):
    relay = start_relay(db)
    live = Ws(relay.ws_url)
    live.recv_type("hello")
    base = head(db)
    ids = insert_orders(db, 2, customer='J "quoted" \\ \u00e9\u20ac\u0001 {x}', status="pending")
    db.sql("UPDATE orders SET status = 'shipped', product_name = 'q' WHERE id = %s", (ids[0],))
    db.sql("UPDATE orders SET status = status WHERE id = %s", (ids[0],))  # old is {}
    db.sql("DELETE FROM orders WHERE id = %s", (ids[1],))
    db.sql("TRUNCATE orders")
    want = committed_after(db, base)
    assert len(want) == 6
    got = raw_events(live, len(want))
    assert [json.loads(t)["seq"] for t in got] == want
    # the same history read from the log (a replay)
    replay = Ws(relay.ws_url + f"?since={base}")
    replay.recv_type("hello")
    logged = raw_events(replay, len(want))
    assert [without_time(t) for t in got] == [without_time(t) for t in logged]
    # ...and as /api/changes's reader renders it: the same data and old
    rows = db.sql("SELECT seq, data::text, old::text FROM order_changes WHERE seq > %s "
                  "ORDER BY seq", (base,))
    for text, (seq, data, old) in zip(got, rows):
        expect = f'{{"type":"order_change","seq":{seq},"data":{data}'
        expect += f',"old":{old}}}' if old is not None else "}"
        assert without_time(text) == expect
    assert fast_events(relay) == len(want)
    live.close()
    replay.close()
    stop_relay(relay)


def test_out_of_order_commit_waits_and_then_both_go_in_order(db):
    relay = start_relay(db)
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    base = head(db)
    a = db.connect(autocommit=False)
    with a.cursor() as cur:  # takes base+1 and stays open
        cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('a', 'p')")
    insert_orders(db, 1, customer="b")  # base+2 commits first
    ws.quiet(0.5)  # base+2 waits: base+1 may still come
    a.commit()
    got = ws.events(2)
    assert [e["seq"] for e in got] == [base + 1, base + 2]
    assert [e["data"]["customer_name"] for e in got] == ["a", "b1"]
    # and a rollback: the hole passes as soon as the writer has ended
    c = db.connect(autocommit=False)
    with c.cursor() as cur:
        cur.execute("INSERT INTO orders (customer_name, product_name) VALUES ('c', 'p')")
    insert_orders(db, 2, customer="d")
    ws.quiet(0.3)
    t0 = time.time()
    c.rollback()
    got = ws.events(2)
    assert time.time() - t0 < 2
    assert [e["seq"] for e in got] == [base + 4, base + 5]
    a.close()
    c.close()
    assert fast_events(relay) >= 2  # base+1 (its own notification), base+2 (held)
    ws.close()
    stop_relay(relay)


# -- the gap rule itself ------------------------------------------------------

def test_writer_floor_never_passes_a_seq_a_writer_still_holds(db):
    """What every hole decision rests on: a seq below a floor measured before
    a read, and missing from that read, never appears later. (005's one-
    statement orders_writer_floor() read the sequence after the locks and
    broke this under concurrent writers with rollbacks within seconds.)"""
    conn = db.connect()
    cur = conn.cursor()
    cursor = head(db)
    passed = set()
    with Writers(db, n=4, rollback=0.25, pause_ms=1) as w:
        deadline = time.time() + 6
        while time.time() < deadline:
            cur.execute("SELECT orders_writer_floor()")
            floor = cur.fetchone()[0]
            cur.execute("SELECT seq FROM order_changes WHERE seq > %s AND seq < %s",
                        (cursor, floor))
            seen = {r[0] for r in cur.fetchall()}
            passed |= set(range(cursor + 1, floor)) - seen
            cursor = max(cursor, floor - 1)
    conn.close()
    filled = db.sql("SELECT seq FROM order_changes WHERE seq = ANY(%s)", (sorted(passed),))
    assert len(passed) > 50, f"seed {w.seed}: only {len(passed)} holes to check"
    assert filled == [], f"seed {w.seed}: holes passed, then committed: {filled[:10]}"


# -- interleaved writers, rollbacks, several clients --------------------------

@pytest.mark.parametrize("rollback", [0.25, 0.0])
def test_interleaved_writers_with_rollbacks_give_every_client_the_committed_sequence(db, rollback):
    relay = start_relay(db)
    base = head(db)
    clients = [Ws(relay.ws_url) for _ in range(3)]
    for ws in clients:
        ws.recv_type("hello")
    with Writers(db, n=6, rollback=rollback) as w:
        time.sleep(4)
    want = committed_after(db, base)
    assert len(want) > 100, f"seed {w.seed}: only {len(want)} changes committed"
    for i, ws in enumerate(clients):
        assert_exact(ws.events(len(want), timeout=30), want, f"client {i} (seed {w.seed})")
        ws.quiet(0.3)
        ws.close()
    # a client resuming from the middle gets the rest from the log
    mid = want[len(want) // 2]
    late = Ws(relay.ws_url + f"?since={mid}")
    late.recv_type("hello")
    assert_exact(late.events(len(want) - len(want) // 2 - 1), want[len(want) // 2 + 1:], "late")
    late.close()
    fast = fast_events(relay)
    print(f"rollback {rollback}: {fast:.0f} of {len(want)} events took the fast path")
    # rollbacks leave holes that only a log read passes; without them
    # nearly every event goes out from its notification (99 % here)
    assert fast > (len(want) // 2 if rollback == 0 else 0)
    stop_relay(relay)


# -- notifications too large to carry the event ------------------------------

def test_events_too_large_to_notify_come_from_the_log_in_order(db):
    # the schema caps names at 200 characters; lift it to pass NOTIFY's
    # 8000-byte payload limit (the write must not fail either)
    db.sql("ALTER TABLE orders DROP CONSTRAINT orders_customer_name_check")
    relay = start_relay(db)
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    base = head(db)
    sizes = [7500, 7700, 7800, 8000, 12000, 20]
    for n in sizes:  # around the limit: the payload is the name plus about 300 bytes
        insert_orders(db, 1, customer="n" * n)
    # an UPDATE carries the old name too: 2 x 3900 does not fit
    oid = insert_orders(db, 1, customer="o" * 3900)[0]
    db.sql("UPDATE orders SET customer_name = %s WHERE id = %s", ("u" * 3900, oid))
    # large and small in one transaction
    conn = db.connect(autocommit=False)
    with conn.cursor() as cur:
        for n in (10, 9000, 10, 9000, 10):
            cur.execute("INSERT INTO orders (customer_name, product_name) VALUES (%s, 'p')",
                        ("m" * n,))
    conn.commit()
    conn.close()
    want = committed_after(db, base)
    got = ws.events(len(want), timeout=30)
    assert_exact(got, want)
    names = [r[0] for r in db.sql("SELECT data->>'customer_name' FROM order_changes "
                                  "WHERE seq > %s ORDER BY seq", (base,))]
    assert [e["data"]["customer_name"] for e in got] == names
    assert got[len(sizes) + 1]["old"] == {"customer_name": "o" * 3900 + "1"}
    # the small ones took the fast path, the large ones the log
    fast = fast_events(relay)
    assert 0 < fast < len(want), fast
    # with the relay's help, under concurrent writers
    with Writers(db, n=4, big=lambda rng: "b" * rng.choice((100, 7900, 8100, 15000))) as w:
        time.sleep(3)
    more = committed_after(db, want[-1])
    assert_exact(ws.events(len(more), timeout=30), more, f"seed {w.seed}")
    ws.close()
    stop_relay(relay)


# -- notifications the relay never gets --------------------------------------

def listener_pids(db):
    return [r[0] for r in db.sql("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                                 "application_name = 'orders-relay listener'", (db.dbname,))]


def test_lost_notifications_are_read_from_the_log(db):
    """The listener's connection is cut (its notifications are lost) and the
    relay is stopped (they pile up) while writers run."""
    relay = start_relay(db)
    base = head(db)
    clients = [Ws(relay.ws_url) for _ in range(2)]
    for ws in clients:
        ws.recv_type("hello")
    with Writers(db, n=4) as w:
        time.sleep(1)
        for _ in range(2):
            pids = listener_pids(db)
            assert pids
            db.sql("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", (pids,))
            time.sleep(0.7)
        os.kill(relay.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(1)
        finally:
            os.kill(relay.proc.pid, signal.SIGCONT)
        time.sleep(1)
    want = committed_after(db, base)
    for i, ws in enumerate(clients):
        assert_exact(ws.events(len(want), timeout=30), want, f"client {i} (seed {w.seed})")
        ws.quiet(0.3)
        ws.close()
    assert metric(relay, "orders_relay_db_reconnects_total") >= 2
    stop_relay(relay)


def test_relay_started_and_restarted_while_writers_run(db):
    base = head(db)
    with Writers(db, n=4) as w:
        time.sleep(0.5)
        relay = start_relay(db)
        ws = Ws(relay.ws_url)
        start = ws.recv_type("hello")["seq"]
        since = Ws(relay.ws_url + f"?since={base}")  # all of it, replay then live
        since.recv_type("hello")
        time.sleep(1.5)
        first = ws.events(20, timeout=30)
        ws.close()
        # restart: a client resumes where it was
        got = since.events(len(committed_after(db, base)) // 2, timeout=30)
        since.close()
        stop_relay(relay)
        relay = start_relay(db)
        resumed = Ws(relay.ws_url + f"?since={got[-1]['seq']}")
        resumed.recv_type("hello")
        time.sleep(1.5)
    want = committed_after(db, base)
    after = [s for s in want if s > got[-1]["seq"]]
    assert_exact(got, want[:len(got)], f"before the restart (seed {w.seed})")
    assert_exact(resumed.events(len(after), timeout=30), after, f"resumed (seed {w.seed})")
    resumed.quiet(0.3)
    resumed.close()
    assert start >= base
    assert [e["seq"] for e in first] == [s for s in want if s > start][:20]
    stop_relay(relay)


# -- epoch renewals while writers run ----------------------------------------

def test_epoch_renewal_while_writers_run(db):
    relay = start_relay(db)
    ws = Ws(relay.ws_url)
    e1 = ws.recv_type("hello")["epoch"]
    base = head(db)
    with Writers(db, n=4, rollback=0.1) as w:
        time.sleep(1)
        db.sql("SELECT orders_new_epoch(NULL)")
        time.sleep(1)
    e2 = db.sql("SELECT epoch FROM order_changes_epoch")[0][0]
    assert e2 != e1
    want = committed_after(db, base)
    before, resync, after = [], None, []
    deadline = time.time() + 30
    while time.time() < deadline:
        m = ws.recv(timeout=max(0.1, deadline - time.time()))
        if m["type"] == "resync":
            assert resync is None, "one resync"
            resync = m
        elif m["type"] == "order_change":
            (after if resync else before).append(m["seq"])
        if resync and max(before + after) >= want[-1]:
            break
    assert resync and resync["reason"] == "epoch_changed" and resync["epoch"] == e2, resync
    # before the resync: a gapless prefix of the committed sequence; after
    # it, exactly what was committed after the seq it names
    assert before == want[:len(before)], f"seed {w.seed}"
    assert all(s <= resync["seq"] for s in before)
    assert after == [s for s in want if s > resync["seq"]], f"seed {w.seed}"
    ws.close()
    stop_relay(relay)


# -- who may hand the relay an event -------------------------------------------

def test_forged_notification_is_not_sent_and_no_channel_means_log_reads(db):
    relay = start_relay(db)
    ws = Ws(relay.ws_url)
    hello = ws.recv_type("hello")
    # anyone who may connect can NOTIFY; the public channel is not trusted
    fake = json.dumps({"seq": hello["seq"] + 1, "epoch": hello["epoch"], "changed_at": 1,
                       "operation": "INSERT", "id": 1, "status": "pending", "old_status": None,
                       "old": None, "data": {"operation": "INSERT", "id": 1,
                                             "customer_name": "forged"}},
                      separators=(",", ":"))
    db.sql("SELECT pg_notify('order_changes', %s)", (fake,))
    ws.quiet(0.5)
    insert_orders(db, 1, customer="real")
    got = ws.events(1)
    assert got[0]["seq"] == hello["seq"] + 1 and got[0]["data"]["customer_name"] == "real1"
    ws.close()
    stop_relay(relay)
    # a role that may not read the private channel's name: every
    # notification is a wake-up and the log is read, as before schema 006
    db.sql("REVOKE SELECT ON order_changes_notify FROM orders_app")
    relay = start_relay(db)
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    base = head(db)
    with Writers(db, n=3, rollback=0.2) as w:
        time.sleep(1.5)
    want = committed_after(db, base)
    assert_exact(ws.events(len(want)), want, f"seed {w.seed}")
    assert fast_events(relay) == 0
    assert "no private notification channel" in relay.stderr()
    ws.close()
    stop_relay(relay)
