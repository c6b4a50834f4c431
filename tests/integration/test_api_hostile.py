"""orders-api under hostile traffic: idle, trickling and kept-alive
connections, a full server, heads civetweb would read in part, smuggling.

Every attack runs while a normal client keeps being served (GET /health
and a POST/GET round trip, each answered within SERVED_WITHIN seconds),
and leaves the database as the normal client alone would have: nothing an
attacker sent is stored, nothing is lost. The attacks use REQUEST_TIMEOUT=2s
so a trickler is cut after two seconds in total.
"""
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN_DIR, ROOT, ApiServer, free_port, http
from helpers_api import counts, unique

TOKEN = "hostile-test-token-0123456789"
RT = 2.0  # REQUEST_TIMEOUT of the servers under test
KEEPALIVE = 2.0  # min(2s, REQUEST_TIMEOUT)
SAN = os.path.basename(os.path.normpath(BIN_DIR)) == "san"
SERVED_WITHIN = 3.0 if SAN else 2.0
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def api(pg):
    """Default worker count, REQUEST_TIMEOUT=2s, writes need a token."""
    raise_nofile(4096 + 200)
    server = ApiServer(pg, env={"REQUEST_TIMEOUT": "2s", "API_TOKEN": TOKEN, "WRITE_RATE_LIMIT": "0",
                                "LOG_LEVEL": "info"}).start()
    yield server
    rc = server.stop()
    server.assert_clean()
    assert rc == 0, server.stderr()[-3000:]


@pytest.fixture(scope="module")
def small_api(pg):
    """16 workers (capacity 15), and a relay port that accepts but never
    answers, so each GET /health holds a worker for its 1 s relay query."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(1024)
    server = ApiServer(pg, env={"REQUEST_TIMEOUT": "2s", "API_TOKEN": TOKEN, "WRITE_RATE_LIMIT": "0", "API_THREADS": "16",
                                "WS_PORT": str(hole.getsockname()[1]),
                                "LOG_LEVEL": "info"}).start()
    yield server
    rc = server.stop()
    hole.close()
    server.assert_clean()
    assert rc == 0, server.stderr()[-3000:]


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip(f"open file limit {hard} < {want}")
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class NormalClient(threading.Thread):
    """Keeps doing what a user does: GET /health, then create an order and
    read it back. Records failures and the slowest answer."""

    def __init__(self, server, health=True):
        super().__init__(daemon=True)
        self.base = server.base
        self.health = health
        self.errors, self.created = [], []
        self.worst = 0.0
        self.rounds = 0
        self.halt = threading.Event()

    def timed(self, what, method, url, body=None, want=200):
        t = time.monotonic()
        try:
            st, hdrs, data = http(method, url, body, headers=AUTH if body else None, timeout=10)
        except OSError as e:
            self.errors.append((what, repr(e)))
            return None
        took = time.monotonic() - t
        self.worst = max(self.worst, took)
        if st != want:
            self.errors.append((what, st, data[:200]))
            return None
        return json.loads(data)

    def run(self):
        while not self.halt.is_set():
            if self.health:
                self.timed("health", "GET", self.base + "/health")
            name = unique("normal")
            order = self.timed("create", "POST", self.base + "/api/orders",
                               {"customer_name": name, "product_name": "p"}, want=201)
            if order:
                self.created.append((order["id"], name))
                got = self.timed("get", "GET", f"{self.base}/api/orders/{order['id']}")
                if got and got.get("customer_name") != name:
                    self.errors.append(("get", got))
            self.rounds += 1
            self.halt.wait(0.2)

    def finish(self, min_rounds=3):
        self.halt.set()
        self.join(30)
        assert not self.errors, self.errors[:5]
        assert self.rounds >= min_rounds, self.rounds
        assert self.worst < SERVED_WITHIN, f"a normal request took {self.worst:.2f}s"


class Guarded:
    """A normal client running for the duration, and the database checked
    afterwards: exactly its orders and their changes were added."""

    def __init__(self, server, pg, health=True):
        self.pg = pg
        self.client = NormalClient(server, health)

    def __enter__(self):
        self.before = counts(self.pg)
        self.client.start()
        return self.client

    def __exit__(self, *exc):
        if exc[0]:
            self.client.halt.set()
            return False
        self.client.finish()
        after = counts(self.pg)
        n = len(self.client.created)
        assert after[0] == self.before[0] + n and after[1] == self.before[1] + n, \
            (self.before, after, n)
        names = dict(self.pg.sql("SELECT id, customer_name FROM orders WHERE id = ANY(%s)",
                                 ([i for i, _ in self.client.created],)))
        assert names == dict(self.client.created)
        return False


class Conn:
    """One raw client socket of a crowd: what it sent, what came back, when
    the server closed it."""

    def __init__(self, sock, trickle=b"", tag=""):
        self.sock = sock
        self.trickle = trickle
        self.tag = tag
        self.t0 = time.monotonic()
        self.data = b""
        self.first_data_at = None
        self.closed_at = None

    @property
    def status(self):
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", self.data)
        return int(m.group(1)) if m else None

    def responses(self):
        return len(re.findall(rb"(?:^|\r\n)HTTP/1\.[01] \d{3} ", self.data))


class Crowd:
    """Many raw connections driven from one thread."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.conns = []

    def add(self, port, first=b"", trickle=b"", tag="", blocking_connect=True):
        s = socket.socket()
        if blocking_connect:
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            if first:
                s.sendall(first)
            s.setblocking(False)
        else:
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
        c = Conn(s, trickle, tag)
        self.conns.append(c)
        self.sel.register(s, selectors.EVENT_READ, c)
        return c

    def run(self, seconds, interval=2.0):
        """Read everything, send the next trickle byte every interval."""
        end = time.monotonic() + seconds
        next_send = time.monotonic() + interval
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_send:
                next_send = now + interval
                for c in self.conns:
                    if c.closed_at is None and c.trickle:
                        try:
                            c.sock.send(c.trickle[:1])
                            c.trickle = c.trickle[1:]
                        except OSError:
                            pass  # the server closed it; the read side says when
            for key, _ in self.sel.select(timeout=max(0.0, min(0.05, end - now))):
                c = key.data
                try:
                    chunk = c.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    if c.first_data_at is None:
                        c.first_data_at = time.monotonic()
                    c.data += chunk
                else:
                    c.closed_at = time.monotonic()
                    self.sel.unregister(c.sock)

    def close(self):
        for c in self.conns:
            if c.closed_at is None:
                self.sel.unregister(c.sock)
            c.sock.close()
        self.sel.close()


def head(method, path, extra=b"", host=True):
    return (method.encode() + b" " + path.encode() + b" HTTP/1.1\r\n"
            + (b"Host: x\r\n" if host else b"") + extra)


def post_head(length=None, chunked=False, token=True):
    h = head("POST", "/api/orders", b"Content-Type: application/json\r\n")
    if token:
        h += b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    h += b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % length
    return h + b"\r\n"


def order_body(name):
    return json.dumps({"customer_name": name, "product_name": "p"}).encode()


def no_rows(pg, prefix):
    return pg.sql("SELECT count(*) FROM orders WHERE customer_name LIKE %s", (prefix + "%",))[0][0] == 0


# --- idle, trickling, kept alive -------------------------------------------

def test_2000_idle_connections(api, pg):
    crowd = Crowd()
    try:
        with Guarded(api, pg) as normal:
            for _ in range(2000):
                crowd.add(api.port, blocking_connect=False)
            crowd.run(RT + 2.5)
        assert normal.rounds >= 5
        # none outlived REQUEST_TIMEOUT (a second of slack for this machine)
        open_ = [c for c in crowd.conns if c.closed_at is None]
        assert not open_, f"{len(open_)} idle connections still open"
        late = [c for c in crowd.conns if c.closed_at - c.t0 > RT + 1.5]
        assert not late, f"{len(late)} closed late"
        # closed silently, or told the server was full
        assert all(c.data == b"" or c.status == 503 for c in crowd.conns)
    finally:
        crowd.close()


def test_100_header_and_100_body_tricklers(api, pg):
    crowd = Crowd()
    try:
        with Guarded(api, pg) as normal:
            for i in range(100):
                crowd.add(api.port, head("GET", "/health"), b"X-Slow: " + b"a" * 50, "header")
            for i in range(97):
                body = order_body(f"trickle-{i}-" + unique())
                crowd.add(api.port, post_head(len(body)), body, "body")
            for i in range(2):
                body = order_body(f"trickle-chunked-{i}-" + unique())
                chunks = b"".join(b"1\r\n" + bytes([b]) + b"\r\n" for b in body) + b"0\r\n\r\n"
                crowd.add(api.port, post_head(chunked=True), chunks, "chunked")
            body = order_body("trickle-noauth-" + unique())
            noauth = crowd.add(api.port, post_head(len(body), token=False), body, "noauth")
            # a byte a second or so: each trickler sends again before it is cut
            crowd.run(RT + 2.0, interval=0.9)
        assert normal.rounds >= 5
        for c in crowd.conns:
            if c.tag == "noauth":
                continue
            assert c.closed_at is not None, c.tag
            took = c.closed_at - c.t0
            assert RT - 0.3 <= took <= RT + 1.5, (c.tag, took)
            assert c.status == 408 and c.responses() == 1, (c.tag, c.data[:200])
            assert b"\r\nConnection: close\r\n" in c.data
        # 401 at once, and closed, not read to the end of its body
        assert noauth.status == 401 and noauth.responses() == 1, noauth.data[:200]
        assert b"\r\nConnection: close\r\n" in noauth.data
        assert noauth.closed_at is not None and noauth.closed_at - noauth.t0 < 1.0
        assert no_rows(pg, "trickle-")
    finally:
        crowd.close()


def test_keepalive_exhaustion(small_api, pg):
    """Far more kept-alive connections than workers, each idle after one
    request: refused or evicted at once, closed after the keep-alive time."""
    crowd = Crowd()
    try:
        with Guarded(small_api, pg) as normal:
            conns = []
            for i in range(150):
                conns.append(crowd.add(small_api.port,
                                       head("GET", "/api/orders?limit=1") + b"\r\n"))
                crowd.run(0.005)
            crowd.run(KEEPALIVE + 1.5)
        assert normal.rounds >= 3  # GET /health takes 1 s here
        served = [c for c in conns if c.status == 200]
        assert served and all(c.status in (200, 503) for c in conns), \
            {c.status for c in conns}
        assert all(c.closed_at is not None for c in conns)
        # a kept-alive connection is closed once idle for the keep-alive time
        for c in served:
            assert c.closed_at - c.first_data_at <= KEEPALIVE + 1.0, c.closed_at - c.first_data_at
        refused = [c for c in conns if c.status == 503]
        for c in refused:
            assert b"\r\nRetry-After: " in c.data and b'"server_busy"' in c.data
    finally:
        crowd.close()


def test_full_server_refuses_at_once_and_evicts_the_idle(small_api):
    # 15 requests busy (each GET /health waits 1 s for the silent relay)
    results = []
    slow = [threading.Thread(target=lambda: results.append(http("GET", small_api.base + "/health",
                                                                timeout=10)[0]))
            for _ in range(15)]
    for t in slow:
        t.start()
    time.sleep(0.4)
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", small_api.port), timeout=5)
    s.sendall(head("GET", "/api/orders?limit=1") + b"\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    took = time.monotonic() - t0
    s.close()
    for t in slow:
        t.join(10)
    assert data.startswith(b"HTTP/1.1 503 "), data[:200]
    assert b"\r\nRetry-After: 1\r\n" in data and b'"code":"server_busy"' in data
    assert took < 1.0, took
    assert results == [200] * 15
    # idle connections filling the server: a new request evicts the oldest
    crowd = Crowd()
    try:
        idle = [crowd.add(small_api.port) for _ in range(15)]
        crowd.run(0.3)
        st, _, _ = http("GET", small_api.base + "/api/orders?limit=1", timeout=5)
        assert st == 200
        crowd.run(0.3)
        assert any(c.closed_at is not None for c in idle)
    finally:
        crowd.close()


# --- REQUEST_TIMEOUT is a total ----------------------------------------------

def test_request_timeout_is_total_not_per_read(api, pg):
    """Bytes arriving every 0.25 s do not extend the deadline; neither does
    moving from the head to the body."""
    crowd = Crowd()
    try:
        with Guarded(api, pg):
            hdr = crowd.add(api.port, head("GET", "/health"), b"X-Slow: " + b"a" * 100, "header")
            body = order_body("slowbody-" + unique())
            bod = crowd.add(api.port, post_head(len(body)), body, "body")
            # the head's last 6 bytes trickled (1.5 s), then its body
            body2 = order_body("slowboth-" + unique())
            whole = post_head(len(body2))
            both = crowd.add(api.port, whole[:-6], whole[-6:] + body2, "both")
            idle = crowd.add(api.port, tag="idle")
            crowd.run(RT + 2.0, interval=0.25)
        for c in (hdr, bod, both):
            assert c.closed_at is not None, c.tag
            assert RT - 0.3 <= c.closed_at - c.t0 <= RT + 1.0, (c.tag, c.closed_at - c.t0)
            assert c.status == 408, (c.tag, c.data[:200])
            assert json.loads(c.data.split(b"\r\n\r\n", 1)[1])["code"] == "request_timeout"
        assert idle.data == b"" and RT - 0.3 <= idle.closed_at - idle.t0 <= RT + 1.0
        assert no_rows(pg, "slowbody-") and no_rows(pg, "slowboth-")
    finally:
        crowd.close()


# --- heads civetweb reads in part ---------------------------------------------

def exchange(port, data, wait=5.0):
    """Send raw bytes; everything the server sends until it closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def one_response(raw):
    """(status, body) of the only response in raw, which ends with a close."""
    assert len(re.findall(rb"HTTP/1\.1 \d{3} ", raw)) == 1, raw[:500]
    head_, body = raw.split(b"\r\n\r\n", 1)
    assert b"\r\nConnection: close" in head_, head_
    assert b"Content-Type: application/json; charset=utf-8" in head_
    return int(head_.split(b" ")[1]), json.loads(body)


def headers_n(n):
    return b"".join(b"X-H%d: v\r\n" % i for i in range(n))


def test_431_for_65_headers_and_for_17_kib(api):
    # 64 lines in all are fine
    raw = exchange(api.port, head("GET", "/health", headers_n(62) + b"Connection: close\r\n\r\n"))
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]
    st, body = one_response(exchange(api.port, head("GET", "/health", headers_n(64) + b"\r\n")))
    assert st == 431 and body["code"] == "headers_too_large", body
    big = b"X-Big: " + b"a" * (17 * 1024) + b"\r\n"
    st, body = one_response(exchange(api.port, head("GET", "/health", big + b"\r\n")))
    assert st == 431 and body["code"] == "headers_too_large", body
    # 17 KiB in many lines too
    lines = b"".join(b"X-L%d: %s\r\n" % (i, b"b" * 500) for i in range(36))
    st, body = one_response(exchange(api.port, head("GET", "/health", lines + b"\r\n")))
    assert st == 431, body


def test_obs_fold_400(api):
    for extra in (b"X-A: 1\r\n continued\r\n", b"X-A: 1\r\n\tcontinued\r\n",
                  b" X-A: 1\r\n"):
        st, body = one_response(exchange(api.port, head("GET", "/health", extra + b"\r\n")))
        assert st == 400 and body["code"] == "bad_request", (extra, body)


SMUGGLED = "smuggled-" + unique()


def smuggled_request():
    body = order_body(SMUGGLED)
    return post_head(len(body)) + body


@pytest.mark.parametrize("name,attack", [
    ("te_after_obs_fold", head("POST", "/api/orders",
                               b"Content-Type: application/json\r\nAuthorization: Bearer "
                               + TOKEN.encode() + b"\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n"
                               b"Content-Length: 5\r\n\r\n0\r\n\r\n")),
    ("te_as_header_65", head("POST", "/api/orders",
                             b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                             + headers_n(61) + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
    ("te_and_cl", head("POST", "/api/orders",
                       b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
    ("repeated_cl", head("POST", "/api/orders",
                         b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                         b"Content-Length: 0\r\n\r\n{\"a\":")),
    ("te_space_colon", head("POST", "/api/orders",
                            b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                            b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n")),
])
def test_smuggling_gives_one_response(api, pg, name, attack):
    before = counts(pg)
    raw = exchange(api.port, attack + smuggled_request())
    st, body = one_response(raw)
    assert st in (400, 431), (name, st, body)
    assert counts(pg) == before
    assert no_rows(pg, SMUGGLED)


def test_unread_body_closes_instead_of_draining(api, pg):
    """A body the api does not read (an error before it, or a GET with one)
    is not drained: Connection: close, and the next request on the
    connection is never read."""
    before = counts(pg)
    body = order_body("undrained-" + unique())
    for first in (post_head(len(body) + 1000, token=False),  # 401 before the body
                  head("GET", "/api/orders?limit=1", b"Content-Length: %d\r\n\r\n" % len(body))):
        t = time.monotonic()
        raw = exchange(api.port, first + body + smuggled_request())
        assert time.monotonic() - t < 1.5  # not waiting for the 1000 missing bytes
        assert len(re.findall(rb"HTTP/1\.1 \d{3} ", raw)) == 1, raw[:300]
        assert b"\r\nConnection: close\r\n" in raw
    assert counts(pg) == before and no_rows(pg, "undrained-") and no_rows(pg, SMUGGLED)


def test_civetweb_errors_are_json(api):
    for raw_req in (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",          # unknown method
                    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",  # control character
                    head("GET", "/health", b"X-Huge: " + b"h" * 40000 + b"\r\n\r\n")):
        raw = exchange(api.port, raw_req)
        st, body = one_response(raw)
        assert st == 400 and body["code"] == "bad_request", (raw_req[:40], body)


# --- configuration --------------------------------------------------------------

@pytest.mark.parametrize("var,value", [
    ("REQUEST_TIMEOUT", "0"), ("REQUEST_TIMEOUT", "-1"), ("REQUEST_TIMEOUT", "abc"),
    ("REQUEST_TIMEOUT", "10x"), ("REQUEST_TIMEOUT", "50ms"), ("REQUEST_TIMEOUT", "2h"),
    ("API_THREADS", "2"), ("API_THREADS", "20000"),
])
def test_bad_limits_exit_2_in_one_line(pg, tmp_path, var, value):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "LOG_LEVEL", "API_THREADS", "REQUEST_TIMEOUT")}
    env.update({"DATABASE_URL": pg.app_url, "PORT": str(free_port()), var: value,
                "WWW_DIR": os.path.join(ROOT, "www"),
                "ASAN_OPTIONS": "detect_leaks=1:exitcode=99"})
    r = subprocess.run([os.path.join(BIN_DIR, "orders-api")], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [line for line in r.stderr.splitlines() if var in line]
    assert len(lines) == 1 and value in lines[0], r.stderr
