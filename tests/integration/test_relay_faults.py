"""orders-relay under faults and load: relay kill -9, PostgreSQL restart,
slow consumers, a 100 000-row transaction, retention and resync."""
import socket
import threading
import time

import psycopg2
import pytest

from conftest import wait_until
from relay_helpers import (Ws, WsClosed, health, insert_orders, log_seqs_after, metric,
                           start_relay, stop_relay, wait_caught_up)


def steady_writer(pg, stop, errors, pause=0.02):
    """Insert one row at a time until stopped, riding out database restarts."""
    while not stop.is_set():
        try:
            conn = psycopg2.connect(pg.url, connect_timeout=2)
            conn.autocommit = True
            with conn.cursor() as cur:
                while not stop.is_set():
                    cur.execute("INSERT INTO orders (customer_name, product_name) "
                                "VALUES ('steady', 'p')")
                    time.sleep(pause)
            conn.close()
        except psycopg2.Error:
            time.sleep(0.1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            return


def test_relay_kill9_and_restart_clients_resume(pg):
    relay = start_relay(pg)
    port = relay.port
    ws = Ws(relay.ws_url)
    ws.recv_type("hello")
    insert_orders(pg, 10)
    got = [e["seq"] for e in ws.events(10)]
    relay.kill9()
    ws.close()
    stop, errors = threading.Event(), []
    t = threading.Thread(target=steady_writer, args=(pg, stop, errors))
    t.start()
    try:
        time.sleep(0.5)
        relay = start_relay(pg, port=port)
        ws = Ws(relay.ws_url + f"?since={got[-1]}")
        assert ws.recv()["type"] == "hello"
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not errors
    expected = log_seqs_after(pg, got[-1])
    assert [e["seq"] for e in ws.events(len(expected))] == expected
    ws.quiet(0.3)
    ws.close()
    stop_relay(relay)


def test_database_restart_clients_stay_connected(pg):
    relay = start_relay(pg, {"PING_INTERVAL": "1s"})
    ws = Ws(relay.ws_url)
    start = ws.recv_type("hello")["seq"]
    received = []
    reader_errors = []

    def reader():
        try:
            while True:
                m = ws.recv(timeout=30)
                if m["type"] == "order_change":
                    received.append(m["seq"])
        except WsClosed as e:
            reader_errors.append(e)
        except Exception as e:  # noqa: BLE001 - socket closed at the end
            reader_errors.append(e)

    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    stop, errors = threading.Event(), []
    t = threading.Thread(target=steady_writer, args=(pg, stop, errors))
    t.start()
    try:
        time.sleep(0.5)
        pg.restart(down_seconds=1.5)
        wait_until(lambda: health(relay)[1]["database"] == "connected", timeout=20,
                   what="relay reconnected")
        time.sleep(0.8)
    finally:
        stop.set()
        t.join(timeout=15)
        if pg.port is None or not _pg_up(pg):
            pg.start()
    assert not errors
    expected = log_seqs_after(pg, start)
    wait_until(lambda: len(received) >= len(expected), timeout=20, what="catch-up")
    assert received == expected
    assert not reader_errors, reader_errors  # stayed connected throughout
    assert metric(relay, "orders_relay_db_reconnects_total") >= 1
    ws.close()
    stop_relay(relay)


def _pg_up(pg):
    try:
        pg.sql("SELECT 1")
        return True
    except psycopg2.Error:
        return False


def test_health_degraded_while_database_down(pg):
    relay = start_relay(pg)
    try:
        pg.stop()
        wait_until(lambda: health(relay)[1]["status"] == "degraded", timeout=15,
                   what="degraded")
        assert health(relay)[1]["database"] == "reconnecting"
    finally:
        pg.start()
    wait_until(lambda: health(relay)[1]["status"] == "healthy", timeout=20, what="healthy")
    stop_relay(relay)


def test_slow_consumer_closed_1008_others_unaffected(pg):
    relay = start_relay(pg, {"CLIENT_BACKLOG": "256KiB"})
    slow = Ws(relay.ws_url, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    slow.recv_type("hello")
    fast = Ws(relay.ws_url)
    fast.recv_type("hello")
    big = "x" * 190
    lags = []
    deadline = time.time() + 60
    while metric(relay, "orders_relay_slow_consumer_closes_total") < 1:
        assert time.time() < deadline, "slow consumer never closed"
        t0 = time.time()
        insert_orders(pg, 200, customer=big, product=big)
        fast.events(200, timeout=10)
        lags.append(time.time() - t0)
    # the reader that kept up saw every batch promptly
    assert max(lags) < 2.0, lags
    t0 = time.time()
    insert_orders(pg, 1)
    fast.events(1, timeout=5)
    assert time.time() - t0 < 1.0
    # the slow reader finds the close frame after what was already sent
    with pytest.raises(WsClosed) as ei:
        while True:
            slow.recv(timeout=15)
    assert ei.value.code == 1008 and ei.value.reason == "slow consumer"
    wait_until(lambda: health(relay)[1]["connectedClients"] == 1, timeout=15,
               what="slow client gone")
    fast.close()
    stop_relay(relay)


def test_large_transaction_fully_delivered(pg):
    # the Python client parses ~100k messages slower than the relay sends
    # them; a large backlog keeps this test about completeness, not speed
    relay = start_relay(pg, {"CLIENT_BACKLOG": "256MiB"})
    ws = Ws(relay.ws_url)
    start = ws.recv_type("hello")["seq"]
    pg.sql("INSERT INTO orders (customer_name, product_name) "
           "SELECT 'bulk' || g, 'p' FROM generate_series(1, 100000) g")
    ev = ws.events(100000, timeout=180)
    seqs = [e["seq"] for e in ev]
    # exactly the committed rows, in order, once each
    assert len(seqs) == 100000
    assert seqs == log_seqs_after(pg, start)
    ws.close()
    stop_relay(relay)
    pg.sql("DELETE FROM orders WHERE customer_name LIKE 'bulk%%'")


def test_retention_prunes_and_resyncs(pg):
    relay = start_relay(pg, {"CHANGES_RETENTION": "1s"})
    insert_orders(pg, 3)
    last = wait_caught_up(relay, pg)
    wait_until(lambda: pg.sql("SELECT pruned_through FROM order_changes_pruned")[0][0] >= last,
               timeout=15, what="pruning")
    assert pg.sql("SELECT count(*) FROM order_changes WHERE seq <= %s", (last,))[0][0] == 0
    ws = Ws(relay.ws_url + "?since=0")
    assert ws.recv()["type"] == "hello"
    m = ws.recv()
    epoch = pg.sql("SELECT epoch FROM order_changes_epoch")[0][0]
    assert m == {"type": "resync", "seq": last, "epoch": epoch, "reason": "history_truncated"}
    insert_orders(pg, 1)
    ev = ws.events(1)
    assert ev[0]["seq"] > last
    ws.close()
    # since at pruned_through is not truncated history
    ws = Ws(relay.ws_url + f"?since={last}")
    assert ws.recv()["type"] == "hello"
    ev = ws.events(1)
    assert ev[0]["seq"] > last
    ws.close()
    stop_relay(relay)
