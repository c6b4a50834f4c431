"""The change stream as Server-Sent Events (GET /events on the relay): the
same stream, filters, tokens and guarantees as the WebSocket, framed as
text/event-stream; Last-Event-ID resumes; lag is visible in metrics."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import free_port, http, wait_until
from relay_helpers import (RelayServer, insert_orders, log_seqs_after, metric, start_relay,
                           stop_relay)

TOKEN_W = "write-token-0123456789"
TOKEN_R = "read-token-0123456789"


def head(pg):
    """The last seq handed out: the stream's position even when retention
    (other tests) pruned the whole log."""
    return pg.sql("SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                  "FROM order_changes_seq")[0][0]


class Sse:
    """A minimal EventSource over a raw socket: one GET, then events as they
    come ({"event", "id", "data"} with data parsed as JSON)."""

    def __init__(self, port, path="/events", headers=None, rcvbuf=None, timeout=10):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        first, *rest = head.decode("latin-1").split("\r\n")
        self.status = int(first.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in rest)}

    def next(self, timeout=10):
        """The next event; EOFError when the relay closed the stream."""
        self.sock.settimeout(timeout)
        while b"\n\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed")
            self.buf += chunk
        block, _, self.buf = self.buf.partition(b"\n\n")
        ev = {"event": "message", "id": None, "data": []}
        for line in block.decode().split("\n"):
            if line.startswith(":") or not line:
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                ev["data"].append(value)
            elif field in ("event", "id"):
                ev[field] = value
            elif field == "retry":
                ev["retry"] = value
        if not ev["data"]:
            return self.next(timeout) if "retry" in ev else ev
        ev["data"] = json.loads("\n".join(ev["data"]))
        return ev

    def next_of(self, kind, timeout=10):
        deadline = time.time() + timeout
        while True:
            ev = self.next(max(0.05, deadline - time.time()))
            if ev["event"] == kind:
                return ev

    def changes(self, n, timeout=20):
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            ev = self.next(max(0.05, deadline - time.time()))
            if ev["event"] == "order_change":
                out.append(ev)
        return out

    def close(self):
        self.sock.close()


def test_curl_prints_events(pg):
    relay = start_relay(pg, {"PING_INTERVAL": "1s"})
    start = head(pg)
    p = subprocess.Popen(["curl", "-sN", "--max-time", "4",
                          f"http://127.0.0.1:{relay.port}/events?since={start}"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    insert_orders(pg, 2, customer="curl")
    out, _ = p.communicate(timeout=10)
    assert "event: hello\n" in out
    assert f"id: {start + 1}\nevent: order_change\ndata: " in out
    assert f"id: {start + 2}\n" in out
    assert "event: heartbeat\ndata: {\"type\":\"heartbeat\"" in out
    stop_relay(relay)


def test_headers_and_same_json_as_the_websocket(pg):
    relay = start_relay(pg)
    from relay_helpers import Ws
    start = head(pg)
    insert_orders(pg, 1, customer="same")
    s = Sse(relay.port, f"/events?since={start}")
    assert s.status == 200
    assert s.headers["content-type"].startswith("text/event-stream")
    assert s.headers["cache-control"] == "no-store"
    hello = s.next_of("hello")
    assert hello["data"]["type"] == "hello" and hello["data"]["epoch"]
    ev = s.changes(1)[0]
    assert ev["id"] == str(ev["data"]["seq"]) == str(start + 1)
    ws = Ws(relay.ws_url + f"?since={start}")
    frame = ws.events(1)[0]
    for m in (frame, ev["data"]):
        m.pop("timestamp")
    assert frame == ev["data"]
    ws.close()
    s.close()
    stop_relay(relay)


def test_last_event_id_resumes_across_a_relay_restart(pg):
    port = free_port()
    relay = start_relay(pg, port=port)
    start = head(pg)
    s = Sse(port, f"/events?since={start}")
    insert_orders(pg, 3)
    got = s.changes(3)
    assert relay.stop() == 0  # the stream ends with the relay's last word
    relay.assert_clean()
    with pytest.raises(EOFError):
        while True:
            ev = s.next(timeout=10)
            if ev["event"] == "error":
                assert ev["data"]["code"] == 1001
    s.close()
    insert_orders(pg, 4)  # while no relay runs
    relay = RelayServer(pg, port=port).start()
    s = Sse(port, "/events", headers={"Last-Event-ID": got[-1]["id"]})
    insert_orders(pg, 1)
    got += s.changes(5)
    seqs = [int(e["id"]) for e in got]
    assert seqs == log_seqs_after(pg, start)
    s.close()
    stop_relay(relay)


def test_filters_tokens_and_origins(pg):
    relay = start_relay(pg, {"API_TOKEN": TOKEN_W, "READ_TOKEN": TOKEN_R,
                             "ALLOWED_ORIGINS": "http://app.example"})
    assert Sse(relay.port).status == 401
    assert Sse(relay.port, "/events?access_token=not-a-valid-token-000").status == 401
    s = Sse(relay.port, "/events?status=shipped",
            headers={"Authorization": f"Bearer {TOKEN_R}", "Origin": "http://app.example"})
    assert s.status == 200
    assert s.headers["access-control-allow-origin"] == "http://app.example"
    s.next_of("hello")
    insert_orders(pg, 1, status="pending")
    insert_orders(pg, 1, customer="ship", status="shipped")
    ev = s.changes(1)[0]
    assert ev["data"]["data"]["customer_name"] == "ship1"
    s.close()
    refused = Sse(relay.port, f"/events?access_token={TOKEN_R}",
                  headers={"Origin": "http://evil.example"})
    assert refused.status == 403
    assert "access-control-allow-origin" not in refused.headers
    s = Sse(relay.port, f"/events?access_token={TOKEN_W}")
    assert s.status == 200
    s.close()
    stop_relay(relay)


@pytest.mark.parametrize("path,headers,status", [
    ("/events?since=abc", {}, 400),
    ("/events?operation=UPSERT", {}, 400),
    ("/events?epoch=bad%20epoch", {}, 400),
    ("/events", {"Last-Event-ID": "12x"}, 400),
    ("/events", {"Last-Event-ID": "-1"}, 400),
    ("/events/more", {}, 404),
])
def test_bad_requests(pg, path, headers, status):
    relay = start_relay(pg)
    s = Sse(relay.port, path, headers=headers)
    assert s.status == status
    body = json.loads(s.buf.decode() or "{}") if s.buf else {}
    if status == 400:
        assert body.get("code") == "invalid_query", body
    s.close()
    st, hdrs, _ = http("POST", f"{relay.base}/events", raw=b"")
    assert st == 405 and "GET" in hdrs["allow"]
    stop_relay(relay)


def test_slow_reader_is_cut_while_a_fast_one_gets_everything(pg):
    relay = start_relay(pg, {"CLIENT_BACKLOG": "64KiB", "WRITE_TIMEOUT": "2s"})
    start = head(pg)
    slow = Sse(relay.port, rcvbuf=4096)
    fast = Sse(relay.port)
    fast.next_of("hello")
    big = "x" * 190
    deadline = time.time() + 60
    n = 0
    while metric(relay, "orders_relay_slow_consumer_closes_total") < 1:
        assert time.time() < deadline, "the slow reader was never cut"
        insert_orders(pg, 200, customer=big, product=big)
        n += 200
        fast.changes(200, timeout=15)
    # the slow reader finds the relay's last word after what was sent
    last = None
    with pytest.raises(EOFError):
        while True:
            last = slow.next(timeout=15)
    assert last["event"] == "error"
    assert last["data"] == {"type": "error", "code": 1008, "reason": "slow consumer"}
    fast.close()
    slow.close()
    assert n > 0 and start >= 0
    stop_relay(relay)


def test_lag_is_visible_while_a_paused_client_catches_up(pg):
    from relay_helpers import health
    start = head(pg)
    insert_orders(pg, 3000, customer="y" * 100)
    relay = start_relay(pg, {"CLIENT_BACKLOG": "64KiB"})
    s = Sse(relay.port, f"/events?since={start}", rcvbuf=4096)
    # the client reads nothing yet: it is behind, by transport
    wait_until(lambda: metric(relay, 'orders_relay_client_lag_events_max{transport="sse"}') > 0,
               timeout=10, what="lag to show")
    assert health(relay)[1]["maxLag"] > 0
    got = s.changes(3000, timeout=60)
    assert [int(e["id"]) for e in got] == list(range(start + 1, start + 3001))
    wait_until(lambda: metric(relay, 'orders_relay_client_lag_events_max{transport="sse"}') == 0,
               timeout=10, what="lag back to 0")
    assert health(relay)[1]["maxLag"] == 0
    s.close()
    stop_relay(relay)


def test_api_health_and_cli_show_relay_lag(pg):
    from conftest import BIN_DIR, ApiServer, http_json
    relay = start_relay(pg)
    api = ApiServer(pg, env={"WS_PORT": str(relay.port)}).start()
    try:
        status, _, body = http_json("GET", api.base + "/health")
        assert status == 200 and body["relayLag"] == 0, body
        p = subprocess.run([os.path.join(BIN_DIR, "orders-cli"), "--api", api.base, "health"],
                           capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, NO_COLOR="1"))
        assert p.returncode == 0, p.stderr
        assert any(l.split()[:2] == ["relayLag", "0"] for l in p.stdout.splitlines()), p.stdout
    finally:
        api.stop()
        stop_relay(relay)


# -- the page falls back to EventSource ---------------------------------------

class UpgradeBlocker:
    """A TCP proxy to the relay that refuses WebSocket upgrades, as some
    corporate proxies do, and passes every other request through."""

    def __init__(self, target_port):
        import threading
        self.target = target_port
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.refused = 0
        self.stopped = False
        self.threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _pump(self, a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self, c):
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                d = c.recv(65536)
                if not d:
                    c.close()
                    return
                head += d
            if b"upgrade: websocket" in head.lower():
                self.refused += 1
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                c.close()
                return
            up = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            up.settimeout(None)
            up.sendall(head)
        except OSError:
            c.close()
            return
        self.threading.Thread(target=self._pump, args=(up, c), daemon=True).start()
        self._pump(c, up)

    def close(self):
        self.stopped = True
        self.srv.close()


def test_page_falls_back_to_eventsource_and_survives_a_relay_restart(pg):
    import test_browser as tb
    if not (os.access(tb.CHROMIUM, os.X_OK) and os.access(tb.CHROMEDRIVER, os.X_OK)):
        pytest.skip("needs Debian's chromium and chromedriver")
    from conftest import ApiServer
    port = free_port()
    relay = start_relay(pg, {"PING_INTERVAL": "1s"}, port=port)
    proxy = UpgradeBlocker(port)
    api = ApiServer(pg, env={"WS_PORT": str(port),
                             "RELAY_PUBLIC_URL": f"ws://127.0.0.1:{proxy.port}/"}).start()
    driver = tb.start_chromium()
    try:
        page = tb.Page(driver, api.base)
        page.open()
        assert page.js("return window.ordersDashboard.transport") == "sse"
        assert proxy.refused >= 1
        oid = tb.create_sql(pg, tb.unique("Over SSE"), "EventSource")
        wait_until(lambda: page.row(oid), timeout=5, what="a change over SSE")
        relay.kill9()
        wait_until(lambda: page.state()["conn"] in ("reconnecting", "offline"), timeout=10,
                   what="the page to notice")
        missed = tb.create_sql(pg, tb.unique("While the relay was down"), "EventSource")
        relay = RelayServer(pg, port=port, env={"PING_INTERVAL": "1s"}).start()
        wait_until(lambda: page.row(missed), timeout=20, what="the missed change after restart")
        assert page.js("return window.ordersDashboard.transport") == "sse"
        after = tb.create_sql(pg, tb.unique("Live again"), "EventSource")
        wait_until(lambda: page.row(after), timeout=5, what="live changes over SSE again")
        notes = [n for n in page.notes() if n["id"] in (oid, missed, after)]
        assert len(notes) == len({n["seq"] for n in notes})  # nothing twice
    finally:
        print(f"--- browser console ---\n{page.logs() if 'page' in dir() else ''}")
        tb.quit_chromium(driver)
        api.stop()
        proxy.close()
        stop_relay(relay)


def test_cli_watch_over_sse_resumes_across_a_restart(pg):
    import threading
    from conftest import BIN_DIR
    port = free_port()
    relay = start_relay(pg, port=port)
    start = head(pg)
    out, err = [], []
    proc = subprocess.Popen([os.path.join(BIN_DIR, "orders-cli"), "--relay",
                             f"ws://127.0.0.1:{port}", "--json", "watch", "--sse"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pumps = [threading.Thread(target=lambda f=f, o=o: [o.append(l.rstrip("\n")) for l in f])
             for f, o in ((proc.stdout, out), (proc.stderr, err))]
    for t in pumps:
        t.start()

    def changes():
        return [m for m in map(json.loads, list(out)) if m["type"] == "order_change"]

    try:
        wait_until(lambda: any(json.loads(l)["type"] == "hello" for l in list(out)),
                   timeout=15, what="hello over SSE")
        insert_orders(pg, 2)
        wait_until(lambda: len(changes()) == 2, timeout=10, what="two events")
        assert relay.stop() == 0
        insert_orders(pg, 2)  # while the relay is down
        relay = RelayServer(pg, port=port).start()
        insert_orders(pg, 1)
        wait_until(lambda: len(changes()) == 5, timeout=20, what="resumed after restart")
        time.sleep(0.5)
        assert [m["seq"] for m in changes()] == log_seqs_after(pg, start)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        for t in pumps:
            t.join(5)
        stop_relay(relay)
    assert rc == 0, "\n".join(err)
    assert any("reconnected" in l for l in err), err


def test_cli_watch_sse_refused_and_bad_flag(pg):
    from conftest import BIN_DIR
    relay = start_relay(pg, {"API_TOKEN": TOKEN_W, "READ_TOKEN": TOKEN_R})
    cli = os.path.join(BIN_DIR, "orders-cli")
    env = {k: v for k, v in os.environ.items() if k not in ("API_TOKEN", "READ_TOKEN",
                                                             "ORDERS_TOKEN")}
    p = subprocess.run([cli, "--relay", relay.ws_url, "watch", "--sse"], capture_output=True,
                       text=True, timeout=20, env=env)
    assert p.returncode == 1 and "401" in p.stderr, p.stderr
    p = subprocess.run([cli, "list", "--sse"], capture_output=True, text=True, timeout=20,
                       env=env)
    assert p.returncode == 2 and "--sse" in p.stderr
    stop_relay(relay)
