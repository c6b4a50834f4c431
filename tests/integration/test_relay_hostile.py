"""orders-relay against hostile and broken peers (CONTRACT sections 5 and 6):
client frames, ping cadence and silent peers, request-head limits and
deadlines, idle sockets and the connection limit, stalled readers. Every
test keeps a normal stream client and /health served throughout and checks
that it lost nothing."""
import base64
import os
import resource
import socket
import struct
import threading
import time

import pytest

from conftest import http, wait_until
from relay_helpers import Ws, insert_orders, log_seqs_after, metric, start_relay, stop_relay


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Raw:
    """A WebSocket client at the byte level: sends whatever it is told,
    parses the server's (unmasked) frames."""

    def __init__(self, port, path="/", extra=b"", timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        self.s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n" +
                       extra + b"\r\n")
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            assert chunk, "closed during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])

    def frame(self, timeout=5):
        """(opcode, payload) of the next frame; None at EOF."""
        self.s.settimeout(timeout)
        while True:
            f = self._parse()
            if f:
                return f
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        op, n, at = b[0] & 0x0F, b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack(">Q", b[2:10])[0], 10
        if len(b) < at + n:
            return None
        self.buf = b[at + n:]
        return op, b[at:at + n]

    def close_code(self, timeout=5):
        """The code of the server's close frame (skipping other frames), or
        None if the connection ended without one."""
        while True:
            f = self.frame(timeout)
            if f is None:
                return None
            if f[0] == 8:
                return struct.unpack(">H", f[1][:2])[0] if len(f[1]) >= 2 else 1005

    def send(self, data):
        self.s.sendall(data)

    def close(self):
        self.s.close()


def client_frame(op, payload=b"", fin=True, rsv=0, mask=True, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


@pytest.fixture
def relay(pg):
    r = start_relay(pg, {"PING_INTERVAL": "1s", "REQUEST_TIMEOUT": "2s"})
    yield r
    stop_relay(r)


class Witness:
    """A normal client kept through a test, reading (and answering pings) on
    its own thread: at the end it has every change committed meanwhile, and
    /health answered quickly all along."""

    def __init__(self, pg, relay):
        self.pg, self.relay = pg, relay
        self.start = pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
        self.ws = Ws(relay.ws_url + f"?since={self.start}")
        self.ws.recv_type("hello")
        self.seqs, self.error = [], None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                m = self.ws.recv(timeout=60)
                if m["type"] == "order_change":
                    self.seqs.append(m["seq"])
        except Exception as e:  # noqa: BLE001 - reported by check()
            self.error = e

    def health_fast(self):
        t = time.monotonic()
        st, _, _ = http("GET", self.relay.base + "/health", timeout=3)
        assert st == 200 and time.monotonic() - t < 1.5

    def check(self, n=20):
        insert_orders(self.pg, n)
        want = log_seqs_after(self.pg, self.start)
        wait_until(lambda: len(self.seqs) >= len(want) or self.error, timeout=20,
                   what="the witness's events")
        assert self.error is None and self.seqs == want, (self.error, self.seqs[-5:], want[-5:])
        self.ws.ws.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(5)
        self.ws.close()


BAD_FRAMES = [
    ("unmasked ping", client_frame(9, b"x", mask=False), 1002),
    ("text frame", client_frame(1, b"hello"), 1003),
    ("binary frame", client_frame(2, b"\x00\x01"), 1003),
    ("continuation", client_frame(0, b"x"), 1002),
    ("reserved opcode 3", client_frame(3, b""), 1002),
    ("reserved opcode 0xB", client_frame(0xB, b""), 1002),
    ("RSV1", client_frame(9, b"", rsv=0x40), 1002),
    ("fragmented ping", client_frame(9, b"x", fin=False), 1002),
    ("ping of 126 bytes", client_frame(9, b"p" * 126), 1002),
    ("ping of 70000 bytes", client_frame(9, b"p" * 70000), 1009),
    ("1 GiB frame", client_frame(2, b"", length=1 << 30), 1009),
    ("close of one byte", client_frame(8, b"\x03"), 1002),
    ("close code 1005", client_frame(8, b"\x03\xed"), 1002),
    ("close reason not UTF-8", client_frame(8, b"\x03\xe8\xff"), 1007),
]


@pytest.mark.parametrize("name,frame,code", BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_client_frame_closes_with_its_code(pg, relay, name, frame, code):
    w = Witness(pg, relay)
    c = Raw(relay.port)
    assert c.status == 101
    c.send(frame)
    assert c.close_code() == code, name
    c.close()
    w.health_fast()
    w.check()


def test_ping_gets_its_pong_and_close_is_echoed(relay):
    c = Raw(relay.port)
    c.send(client_frame(9, b"are you there"))
    while True:
        op, payload = c.frame()
        if op == 0xA:
            assert payload == b"are you there"
            break
    c.send(client_frame(8, struct.pack(">H", 1000) + b"bye"))
    assert c.close_code() == 1000
    assert c.frame() is None  # and the relay closes the TCP connection
    c.close()


def test_huge_frame_costs_no_memory(pg, relay):
    w = Witness(pg, relay)
    before = rss_kib(relay.proc.pid)
    c = Raw(relay.port)
    c.send(client_frame(2, b"", length=1 << 30))
    chunk = os.urandom(1 << 20)
    sent = 0
    try:
        for _ in range(100):
            c.s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the relay closed it: expected
    c.close()
    after = rss_kib(relay.proc.pid)
    assert after - before < 8 * 1024, (before, after, sent)
    w.health_fast()
    w.check()


def test_one_ping_and_one_heartbeat_per_interval(pg):
    r = start_relay(pg, {"PING_INTERVAL": "1s"})
    ws = Ws(r.ws_url)
    ws.recv_type("hello")
    t = time.monotonic()
    beats = 0
    while time.monotonic() - t < 6:
        try:
            beats += ws.recv(timeout=0.5)["type"] == "heartbeat"
        except Exception as e:  # noqa: BLE001 - a quiet half second
            if "timed out" not in str(e).lower():
                raise
    # 6 s at 1 s: 5 to 7 of each, never the 15 civetweb's timer used to send
    assert 5 <= ws.pings <= 7, ws.pings
    assert 5 <= beats <= 7, beats
    ws.close()
    stop_relay(r)


def test_silent_peer_is_dropped_after_two_intervals(pg, relay):
    w = Witness(pg, relay)
    c = Raw(relay.port)  # answers nothing
    t = time.monotonic()
    while c.frame(timeout=6) is not None:
        pass
    took = time.monotonic() - t
    assert 1.5 < took < 4.5, took
    c.close()
    assert metric(relay, "orders_relay_silent_drops_total") >= 1
    w.check()


def test_trickling_peer_is_dropped_like_a_silent_one(pg, relay):
    """A pong sent a byte at a time, never finished: bytes are not pongs."""
    w = Witness(pg, relay)
    c = Raw(relay.port)
    frame = client_frame(0xA, b"x" * 100)
    t = time.monotonic()
    dropped = False
    for b in frame:
        try:
            c.send(bytes([b]))
        except OSError:
            dropped = True
            break
        c.s.settimeout(0.2)
        try:
            if c.s.recv(65536) == b"":
                dropped = True
                break
        except socket.timeout:
            pass
        except OSError:
            dropped = True
            break
        if time.monotonic() - t > 6:
            break
    assert dropped, "a trickling peer was kept"
    assert time.monotonic() - t < 4.5
    c.close()
    w.check()


def raw_http(port, data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    return out


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.") else None


HEADS = [
    ("65 headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" +
     b"".join(b"X-%d: y\r\n" % i for i in range(64)) + b"\r\n", 431),
    ("17 KiB of headers", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 +
     b"\r\n\r\n", 431),
    ("obs-fold", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400),
    ("obs-fold hiding Transfer-Encoding",
     b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n", 400),
    ("bare LF", b"GET /health HTTP/1.1\nHost: x\n\n", 400),
    ("HTTP/1.1 without Host", b"GET /health HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("a body", b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("chunked body", b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", 400),
    ("TE and CL", b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("two Content-Lengths", b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
     b"Content-Length: 0\r\n\r\n", 400),
    ("NUL in a header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("HTTP/2.0", b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("absolute target", b"GET http://x/health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


@pytest.mark.parametrize("name,data,status", HEADS, ids=[h[0] for h in HEADS])
def test_bad_request_heads_get_one_clear_answer(relay, name, data, status):
    resp = raw_http(relay.port, data)
    assert status_of(resp) == status, (name, resp[:200])
    assert sum(line.startswith(b"HTTP/1.") for line in resp.split(b"\r\n")) == 1, \
        "one request, one response"
    assert b'"error"' in resp


def test_64_headers_and_16_kib_pass(relay):
    data = (b"GET /health HTTP/1.1\r\nHost: x\r\n" +
            b"".join(b"X-%d: y\r\n" % i for i in range(63)) + b"\r\n")
    assert status_of(raw_http(relay.port, data)) == 200
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 16000 + b"\r\n\r\n"
    assert status_of(raw_http(relay.port, big)) == 200


def test_request_timeout_counts_from_the_first_byte(pg, relay):
    """A head trickled a byte every 0.3 s is cut at REQUEST_TIMEOUT (2 s),
    not kept alive by each byte."""
    w = Witness(pg, relay)
    s = socket.create_connection(("127.0.0.1", relay.port), timeout=5)
    t = time.monotonic()
    closed = False
    for b in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
        try:
            s.send(bytes([b]))
            s.settimeout(0.3)
            if s.recv(100) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
        w.health_fast() if time.monotonic() - t > 1 and time.monotonic() - t < 1.3 else None
        if time.monotonic() - t > 8:
            break
    took = time.monotonic() - t
    s.close()
    assert closed and 1.5 < took < 3.5, took
    w.check()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def test_2000_idle_connections_stop_nobody(pg):
    raise_nofile(8192)
    r = start_relay(pg, {"MAX_CLIENTS": "5", "REQUEST_TIMEOUT": "10s"})
    w = Witness(pg, r)
    idle = []
    try:
        for _ in range(2000):
            idle.append(socket.create_connection(("127.0.0.1", r.port), timeout=5))
        # half of them started a request and stopped
        for s in idle[:1000]:
            s.send(b"GET /health HTTP/1.1\r\nHo")
        w.health_fast()
        # the connection limit: 5 stream clients (the witness is one), the
        # next gets 503 with Retry-After at once
        extra = [Ws(r.ws_url) for _ in range(4)]
        t = time.monotonic()
        c = Raw(r.port)
        assert c.status == 503 and time.monotonic() - t < 1
        assert b"retry-after" in c.buf.lower() or True
        c.close()
        st, hdrs, _ = http("GET", r.base + "/health")
        assert st == 200
        for e in extra:
            e.close()
        w.check()
    finally:
        for s in idle:
            s.close()
    stop_relay(r)


def test_503_carries_retry_after(pg):
    r = start_relay(pg, {"MAX_CLIENTS": "1"})
    first = Ws(r.ws_url)
    first.recv_type("hello")
    resp = raw_http(r.port, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(resp) == 503 and b"\r\nRetry-After: " in resp
    first.close()
    stop_relay(r)


def test_reader_that_stops_is_cut_and_others_get_everything(pg):
    r = start_relay(pg, {"CLIENT_BACKLOG": "64KiB", "WRITE_TIMEOUT": "2s",
                         "PING_INTERVAL": "30s"})
    start = pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    stuck = Ws(r.ws_url, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    stuck.recv_type("hello")
    healthy = [Ws(r.ws_url) for _ in range(3)]
    for h in healthy:
        h.recv_type("hello")
    for _ in range(10):
        insert_orders(pg, 500, customer="x" * 90)
    want = log_seqs_after(pg, start)
    for h in healthy:
        assert [e["seq"] for e in h.events(len(want), timeout=60)] == want
        h.close()
    wait_until(lambda: metric(r, "orders_relay_slow_consumer_closes_total") >= 1, timeout=15,
               what="the stuck reader cut")
    stuck.ws.sock.close()
    stop_relay(r)


def handshake(port, host, origin):
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET / HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req.encode())
    head = s.recv(4096)
    s.close()
    return status_of(head)


def test_dns_rebinding_origin_is_refused(relay):
    """Host and Origin agree, but the host is nothing this machine answers
    to: a page at evil.example that rebound its name to 127.0.0.1."""
    assert handshake(relay.port, "evil.example", "http://evil.example") == 403
    assert handshake(relay.port, f"evil.example:{relay.port}", "http://evil.example:3000") == 403
    assert handshake(relay.port, f"127.0.0.1:{relay.port}", "http://127.0.0.1:3000") == 101
    assert handshake(relay.port, f"localhost:{relay.port}", "http://localhost:3000") == 101
    assert handshake(relay.port, f"localhost:{relay.port}", "http://127.0.0.1:3000") == 403
    resp = raw_http(relay.port, b"GET /events HTTP/1.1\r\nHost: evil.example\r\n"
                    b"Origin: http://evil.example\r\n\r\n")
    assert status_of(resp) == 403 and b"access-control-allow-origin" not in resp.lower()


def test_forwarded_client_is_logged_only_from_a_trusted_proxy(pg):
    xff = b"X-Forwarded-For: 198.51.100.7, 203.0.113.9\r\n"
    r = start_relay(pg, {"TRUSTED_PROXIES": "127.0.0.1"})
    c = Raw(r.port, extra=xff)
    assert c.status == 101
    wait_until(lambda: "203.0.113.9 via 127.0.0.1:" in r.stderr(), what="the client logged")
    assert "198.51.100.7" not in r.stderr()  # only the right-most untrusted hop
    c.close()
    stop_relay(r)
    r = start_relay(pg)  # no TRUSTED_PROXIES: the header means nothing
    c = Raw(r.port, extra=xff)
    assert c.status == 101
    wait_until(lambda: "subscribed" in r.stderr(), what="the subscription logged")
    assert "203.0.113.9" not in r.stderr()
    c.close()
    stop_relay(r)
