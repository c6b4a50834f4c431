"""orders-relay: protocol, filters, ordering under concurrency, resume."""
import json
import random
import re
import socket
import subprocess
import os
import threading
import time

import pytest
import websocket

from conftest import BIN_DIR, free_port, http, wait_until
from relay_helpers import (Ws, WsClosed, health, insert_orders, log_seqs_after, metric,
                           start_relay, stop_relay, wait_caught_up)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def relay(pg):
    r = start_relay(pg)
    yield r
    stop_relay(r)


@pytest.fixture
def fast_ping_relay(pg):
    r = start_relay(pg, {"PING_INTERVAL": "400ms"})
    yield r
    stop_relay(r)


def test_hello_heartbeat_ping(pg, fast_ping_relay):
    relay = fast_ping_relay
    last = pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    ws = Ws(relay.ws_url)
    hello = ws.recv()
    assert hello["type"] == "hello"
    assert hello["seq"] == last
    assert hello["server"].startswith("orders-relay ")
    hb = ws.recv_type("heartbeat", timeout=3)
    assert hb["seq"] == last
    assert ws.pings >= 1
    # an answering client stays connected over several intervals
    deadline = time.time() + 2.0
    beats = 0
    while time.time() < deadline:
        ws.recv_type("heartbeat", timeout=3)  # answers pings as it reads
        beats += 1
    assert beats >= 3
    ws.close()
    ws2 = Ws(relay.ws_url + "ws")
    assert ws2.recv()["type"] == "hello"
    ws2.close()


def test_peer_answering_no_ping_is_dropped(pg, fast_ping_relay):
    relay = fast_ping_relay
    ws = Ws(relay.ws_url)
    assert ws.recv()["type"] == "hello"
    time.sleep(2.0)  # read nothing: pings stay unanswered for 2+ intervals
    with pytest.raises((WsClosed, websocket.WebSocketConnectionClosedException,
                        ConnectionError)):
        for _ in range(100):
            ws.recv(timeout=5)
    wait_until(lambda: health(relay)[1]["connectedClients"] == 0, timeout=5,
               what="dropped client gone")


def test_insert_update_delete_with_old(pg, relay):
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    oid = pg.sql("INSERT INTO orders (customer_name, product_name) VALUES ('John Doe', "
                 "'Laptop') RETURNING id")[0][0]
    pg.sql("UPDATE orders SET status = 'shipped' WHERE id = %s", (oid,))
    pg.sql("UPDATE orders SET customer_name = 'Jane', product_name = 'Phone' WHERE id = %s",
           (oid,))
    pg.sql("DELETE FROM orders WHERE id = %s", (oid,))
    ev = ws.events(4)
    assert [e["data"]["operation"] for e in ev] == ["INSERT", "UPDATE", "UPDATE", "DELETE"]
    assert all(e["data"]["id"] == oid for e in ev)
    seqs = [e["seq"] for e in ev]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert "old" not in ev[0] and "old" not in ev[3]
    assert ev[1]["old"] == {"status": "pending"}
    assert ev[1]["data"]["status"] == "shipped"
    assert ev[2]["old"] == {"customer_name": "John Doe", "product_name": "Laptop"}
    assert ev[3]["data"]["customer_name"] == "Jane"
    for e in ev:
        assert ISO.match(e["timestamp"]), e["timestamp"]
        assert ISO.match(e["data"]["updated_at"]), e["data"]["updated_at"]
        assert set(e["data"]) == {"operation", "id", "customer_name", "product_name",
                                  "status", "created_at", "updated_at"}
    ws.close()


def test_filters(pg, relay):
    by_status = Ws(relay.ws_url + "?status=shipped,cancelled")
    a, b = insert_orders(pg, 2, customer="filt")
    wait_caught_up(relay, pg)
    by_id = Ws(relay.ws_url + f"?id={a}")
    by_op = Ws(relay.ws_url + "?operation=DELETE,insert")
    both = Ws(relay.ws_url + f"?operation=UPDATE&status=pending&id={b}")
    for w in (by_status, by_id, by_op, both):
        w.recv_type("hello")
    pg.sql("UPDATE orders SET status = 'shipped' WHERE id = %s", (a,))    # pending->shipped
    pg.sql("UPDATE orders SET status = 'processing' WHERE id = %s", (b,))  # pending->processing
    pg.sql("INSERT INTO orders (customer_name, product_name) VALUES ('x', 'y')")
    pg.sql("DELETE FROM orders WHERE id = %s", (a,))
    ev = by_status.events(2)
    assert [(e["data"]["id"], e["data"]["operation"]) for e in ev] == [(a, "UPDATE"),
                                                                       (a, "DELETE")]
    ev = by_id.events(2)
    assert [e["data"]["operation"] for e in ev] == ["UPDATE", "DELETE"]
    ev = by_op.events(2)
    assert [e["data"]["operation"] for e in ev] == ["INSERT", "DELETE"]
    ev = both.events(1)  # old status pending matches
    assert ev[0]["data"]["id"] == b and ev[0]["old"] == {"status": "pending"}
    for w in (by_status, by_id, by_op, both):
        w.quiet(0.3)
        w.close()


@pytest.mark.parametrize("query,field", [
    ("since=abc", "since"), ("since=-1", "since"), ("since=1&since=2", "since"),
    ("status=bogus", "status"), ("status=", "status"), ("status=pending,,shipped", "status"),
    ("id=0", "id"), ("id=x", "id"), ("operation=UPSERT", "operation"),
])
def test_bad_query_refused(relay, query, field):
    with pytest.raises(websocket.WebSocketBadStatusException) as ei:
        websocket.create_connection(relay.ws_url + "?" + query, timeout=5)
    assert ei.value.status_code == 400
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as sock:
        sock.sendall((f"GET /?{query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400")
    body = json.loads(body)
    assert body["code"] == "invalid_query" and body["field"] == field


def writer(pg, stop, committed_ids, errors, seed):
    rnd = random.Random(seed)
    conn = pg.connect(autocommit=False)
    try:
        while not stop.is_set():
            with conn.cursor() as cur:
                n = rnd.randint(1, 4)
                cur.execute("INSERT INTO orders (customer_name, product_name) SELECT "
                            "'w' || g, 'p' FROM generate_series(1, %s) g RETURNING id", (n,))
                ids = [r[0] for r in cur.fetchall()]
                if rnd.random() < 0.3:
                    cur.execute("UPDATE orders SET status = 'processing' WHERE id = %s",
                                (ids[0],))
                if rnd.random() < 0.3:
                    time.sleep(rnd.uniform(0.05, 0.3))  # a long transaction
                else:
                    time.sleep(rnd.uniform(0, 0.01))
                if rnd.random() < 0.25:
                    conn.rollback()
                else:
                    conn.commit()
                    committed_ids.extend(ids)
    except Exception as e:  # noqa: BLE001
        errors.append(e)
    finally:
        conn.close()


def test_concurrent_writers_gapless_exactly_once(pg, relay):
    ws = Ws(relay.ws_url)
    start = ws.recv_type("hello")["seq"]
    stop = threading.Event()
    committed, errors = [], []
    threads = [threading.Thread(target=writer, args=(pg, stop, committed, errors, i))
               for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert not errors, errors
    expected = log_seqs_after(pg, start)  # exactly the committed changes
    assert len(expected) > 50
    try:
        ev = ws.events(len(expected), timeout=20)
    except AssertionError as e:
        last = pg.sql("SELECT pg_current_snapshot()::text, (SELECT max(seq) FROM order_changes)")
        with open("/tmp/relay-concurrent-fail.log", "w") as f:
            f.write(relay.stderr())
        raise AssertionError(f"{e}; expected {len(expected)} up to {expected[-5:]}; db {last}; "
                             f"health {health(relay)}\n{relay.stderr()[-2000:]}") from None
    got = [e["seq"] for e in ev]
    assert got == expected, (sorted(set(expected) - set(got)), relay.stderr()[-3000:])
    inserted = {e["data"]["id"] for e in ev if e["data"]["operation"] == "INSERT"}
    assert inserted == set(committed)
    ws.quiet(0.5)
    ws.close()


def test_since_resume_no_gap_no_duplicate(pg, relay):
    ws = Ws(relay.ws_url)
    start = ws.recv_type("hello")["seq"]
    insert_orders(pg, 20, customer="resume")
    first = ws.events(20)
    cut = first[9]["seq"]
    ws.close()
    stop = threading.Event()
    committed, errors = [], []
    t = threading.Thread(target=writer, args=(pg, stop, committed, errors, 99))
    t.start()
    try:
        time.sleep(0.3)
        # resume on this relay and on a second instance while writes go on
        other = start_relay(pg)
        try:
            a = Ws(relay.ws_url + f"?since={cut}")
            b = Ws(other.ws_url + f"?since={cut}")
            assert a.recv()["type"] == "hello" and b.recv()["type"] == "hello"
            time.sleep(1.0)
        finally:
            stop.set()
            t.join(timeout=10)
        assert not errors
        expected = log_seqs_after(pg, cut)
        for w in (a, b):
            got = [e["seq"] for e in w.events(len(expected), timeout=20)]
            assert got == expected
            w.quiet(0.3)
            w.close()
        assert expected[:10] == [e["seq"] for e in first[10:]]
        assert start < cut
        stop_relay(other)
    finally:
        stop.set()


def test_since_ahead_of_relay_and_replay_filter(pg, relay):
    ids = insert_orders(pg, 5, customer="ahead")
    last = wait_caught_up(relay, pg)
    w = Ws(relay.ws_url + f"?since={last - 5}&id={ids[2]}")
    assert w.recv()["type"] == "hello"
    ev = w.events(1)
    assert ev[0]["data"]["id"] == ids[2]
    w.quiet(0.3)
    w.close()
    # a seq the sequence never handed out belongs to another history: the
    # client is told (resync) and continues live instead of waiting forever
    w = Ws(relay.ws_url + f"?since={last + 1000}")
    assert w.recv()["type"] == "hello"
    m = w.recv_type("resync")
    assert m["reason"] == "epoch_changed" and m["seq"] == last
    insert_orders(pg, 1)
    assert w.events(1)[0]["seq"] > last
    w.close()


def test_health_and_metrics(pg, relay):
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    insert_orders(pg, 3)
    ws.events(3)
    status, h = health(relay)
    assert status == 200
    assert h["status"] == "healthy" and h["database"] == "connected"
    assert h["connectedClients"] == 1
    assert h["seq"] == pg.sql("SELECT max(seq) FROM order_changes")[0][0]
    status, hdrs, body = http("GET", relay.base + "/metrics")
    assert status == 200 and hdrs["content-type"].startswith("text/plain")
    text = body.decode()
    for name in ("orders_relay_clients 1", "orders_relay_events_total",
                 "orders_relay_messages_sent_total", "orders_relay_bytes_sent_total",
                 "orders_relay_slow_consumer_closes_total", "orders_relay_db_reconnects_total",
                 "orders_relay_delivery_lag_seconds_bucket{le=\"+Inf\"}",
                 "orders_relay_delivery_lag_seconds_count"):
        assert name in text, name
    assert metric(relay, "orders_relay_messages_sent_total") >= 4
    ws.close()
    wait_until(lambda: health(relay)[1]["connectedClients"] == 0, timeout=5)


def test_sigterm_closes_clients_with_1001(pg):
    r = start_relay(pg)
    ws = Ws(r.ws_url)
    ws.recv_type("hello")
    r.proc.send_signal(15)
    with pytest.raises(WsClosed) as ei:
        for _ in range(10):
            ws.recv(timeout=10)
    assert ei.value.code == 1001
    stop_relay(r)


@pytest.mark.parametrize("env,var", [
    ({"WS_PORT": "70000"}, "WS_PORT"), ({"PING_INTERVAL": "soon"}, "PING_INTERVAL"),
    ({"CLIENT_BACKLOG": "lots"}, "CLIENT_BACKLOG"), ({"CHANGES_RETENTION": "0"},
                                                    "CHANGES_RETENTION"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"), ({"MAX_CLIENTS": "900000"}, "MAX_CLIENTS"),
    ({"DATABASE_URL": "postgresql://[bad"}, "DATABASE_URL"),
    ({"REQUEST_TIMEOUT": "later"}, "REQUEST_TIMEOUT"), ({"REQUEST_TIMEOUT": "0"},
                                                        "REQUEST_TIMEOUT"),
    ({"WRITE_TIMEOUT": "-1s"}, "WRITE_TIMEOUT"),
    ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "proxy.example"}, "TRUSTED_PROXIES"),
    ({"ALLOWED_ORIGINS": "evil.example"}, "ALLOWED_ORIGINS"),
])
def test_bad_config_exits_2(pg, env, var):
    e = dict(os.environ, DATABASE_URL=pg.url, WS_PORT=str(free_port()))
    e.update(env)
    p = subprocess.run([os.path.join(BIN_DIR, "orders-relay")], env=e, capture_output=True,
                       text=True, timeout=20, cwd="/tmp")
    assert p.returncode == 2, p.stderr
    assert var in p.stderr.splitlines()[0]


def test_help_explains_connections():
    p = subprocess.run([os.path.join(BIN_DIR, "orders-relay"), "--help"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0
    assert "MAX_CLIENTS" in p.stdout and "503" in p.stdout
    for var in ("WS_PORT", "PING_INTERVAL", "CHANGES_RETENTION", "CLIENT_BACKLOG",
                "WRITE_TIMEOUT", "REQUEST_TIMEOUT"):
        assert var in p.stdout


def test_refuses_database_without_schema(pg):
    pg.sql("DROP DATABASE IF EXISTS relay_empty")
    pg.sql("CREATE DATABASE relay_empty")
    url = pg.url.rsplit("/", 1)[0] + "/relay_empty"
    e = dict(os.environ, DATABASE_URL=url, WS_PORT=str(free_port()))
    p = subprocess.run([os.path.join(BIN_DIR, "orders-relay")], env=e, capture_output=True,
                       text=True, timeout=30, cwd="/tmp")
    assert p.returncode != 0
    assert "schema" in p.stderr
    pg.sql("DROP DATABASE relay_empty")
