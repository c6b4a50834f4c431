"""Helpers for the orders-relay tests: a small WebSocket client that answers
pings, collects order_change events and reports close frames."""
import json
import socket
import struct
import time

import websocket

from conftest import RelayServer, http

RELAY_ENV = {"MAX_CLIENTS": "64", "PING_INTERVAL": "30s"}


def start_relay(pg, env=None, port=None):
    e = dict(RELAY_ENV)
    e.update(env or {})
    return RelayServer(pg, env=e, port=port).start()


def stop_relay(relay):
    rc = relay.stop()
    relay.assert_clean()
    assert rc == 0, f"orders-relay exit code {rc}:\n{relay.stderr()[-3000:]}"


class WsClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code = code
        self.reason = reason


class Ws:
    def __init__(self, url, timeout=10, sockopt=()):
        self.ws = websocket.create_connection(url, timeout=timeout, sockopt=list(sockopt),
                                              enable_multithread=True)
        self.pings = 0
        self.heartbeats = []

    def recv(self, timeout=10):
        """Next text message as a dict; answers pings; WsClosed on close."""
        self.ws.settimeout(timeout)
        while True:
            op, data = self.ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_PING:
                self.pings += 1
                self.ws.pong(data)
                continue
            if op == websocket.ABNF.OPCODE_PONG:
                continue
            if op == websocket.ABNF.OPCODE_CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                raise WsClosed(code, data[2:].decode("utf-8", "replace"))
            return json.loads(data)

    def recv_type(self, typ, timeout=10):
        deadline = time.time() + timeout
        while True:
            m = self.recv(max(0.05, deadline - time.time()))
            if m["type"] == typ:
                return m
            if m["type"] == "heartbeat":
                self.heartbeats.append(m)

    def events(self, n, timeout=20):
        """Exactly n order_change events (heartbeats skipped)."""
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"got {len(out)} of {n} events")
            try:
                m = self.recv(left)
            except (websocket.WebSocketTimeoutException, socket.timeout):
                raise AssertionError(f"got {len(out)} of {n} events; last seqs "
                                     f"{[e['seq'] for e in out[-5:]]}") from None
            if m["type"] == "order_change":
                out.append(m)
            elif m["type"] == "heartbeat":
                self.heartbeats.append(m)
        return out

    def quiet(self, seconds=0.5):
        """Assert no order_change arrives for a while."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                m = self.recv(max(0.05, deadline - time.time()))
            except (websocket.WebSocketTimeoutException, socket.timeout):
                return
            assert m["type"] != "order_change", f"unexpected event {m}"

    def close(self):
        try:
            self.ws.close(timeout=2)
        except Exception:  # noqa: BLE001 - already gone
            pass


def insert_orders(pg, n, customer="c", product="p", status="pending"):
    rows = pg.sql("INSERT INTO orders (customer_name, product_name, status) "
                  "SELECT %s || g, %s, %s FROM generate_series(1, %s) g RETURNING id",
                  (customer, product, status, n))
    return [r[0] for r in rows]


def log_seqs_after(pg, seq):
    return [r[0] for r in pg.sql("SELECT seq FROM order_changes WHERE seq > %s ORDER BY seq",
                                 (seq,))]


def metric(relay, name):
    status, _, body = http("GET", relay.base + "/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"metric {name} missing")


def health(relay):
    status, _, body = http("GET", relay.base + "/health", timeout=3)
    return status, json.loads(body)


def wait_caught_up(relay, pg, timeout=10):
    """Wait until the relay has delivered everything in the log."""
    last = pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    from conftest import wait_until
    wait_until(lambda: health(relay)[1]["seq"] >= last, timeout=timeout,
               what=f"relay at seq {last}")
    return last
