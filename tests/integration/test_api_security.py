"""The api's application-level defences (issue 12, CONTRACT section 6):
origins without trusting Host alone (DNS rebinding), CORS preflights that
give a refused origin nothing, security headers and a page CSP that names
the relay the page really uses, and WRITE_RATE_LIMIT per client address
with X-Forwarded-For honoured only from TRUSTED_PROXIES."""
import concurrent.futures
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import BIN_DIR, ApiServer, Program, http, http_json
from helpers_api import assert_error, counts, create, raw_http, start_private_pg, unique


@pytest.fixture(scope="module")
def pg():
    """A private cluster for this module: the rows its tests write stay out
    of the history other modules read from seq 0."""
    p = start_private_pg()
    yield p
    p.destroy()


WILDCARDS = {"ws:", "wss:", "http:", "https:", "*"}


def started(pg, env):
    return ApiServer(pg, env=env).start()


def stop_clean(server):
    rc = server.stop()
    server.assert_clean()
    assert rc == 0, server.stderr()[-3000:]


def body():
    return {"customer_name": unique("sec"), "product_name": "p"}


def cors_of(hdrs):
    return {k: v for k, v in hdrs.items() if k.startswith("access-control-")}


def directive(csp, name):
    for d in csp.split(";"):
        words = d.split()
        if words and words[0] == name:
            return words[1:]
    return None


# ---------------------------------------------------------------- origins

def test_dns_rebinding_origin_gets_nothing(api):
    """Host: evil.example + Origin: http://evil.example passed before."""
    evil = {"Host": f"evil.example:{api.port}", "Origin": "http://evil.example"}
    st, hdrs, _ = http("GET", api.base + "/api/orders?limit=1", headers=evil)
    assert st == 200 and not cors_of(hdrs)
    st, hdrs, _ = http("OPTIONS", api.base + "/api/orders",
                       headers=dict(evil, **{"Access-Control-Request-Method": "POST"}))
    assert st == 204 and not cors_of(hdrs), hdrs
    st, hdrs, _ = http("OPTIONS", api.base + "/api/orders/1", headers=dict(
        evil, **{"Access-Control-Request-Method": "DELETE",
                 "Access-Control-Request-Headers": "authorization"}))
    assert st == 204 and not cors_of(hdrs), hdrs


@pytest.mark.parametrize("host, origin", [
    ("localhost", "http://localhost:5173"),
    ("127.0.0.1", "http://127.0.0.1:9999"),
    ("127.0.0.2", "https://127.0.0.2"),
    ("[::1]", "http://[::1]:8000"),
])
def test_loopback_origins_allowed(api, host, origin):
    h = {"Host": f"{host}:{api.port}", "Origin": origin}
    st, hdrs, _ = http("GET", api.base + "/api/orders?limit=1", headers=h)
    assert st == 200 and hdrs.get("access-control-allow-origin") == origin
    st, hdrs, _ = http("OPTIONS", api.base + "/api/orders",
                       headers=dict(h, **{"Access-Control-Request-Method": "POST"}))
    assert st == 204 and hdrs.get("access-control-allow-origin") == origin
    assert "POST" in hdrs["access-control-allow-methods"]


def test_machine_host_name_allowed(api):
    name = socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        pytest.skip(f"host name {name!r} is not a plain DNS name")
    h = {"Host": f"{name}:{api.port}", "Origin": f"http://{name}:5173"}
    st, hdrs, _ = http("GET", api.base + "/api/orders?limit=1", headers=h)
    assert hdrs.get("access-control-allow-origin") == f"http://{name}:5173"


def test_bound_address_allowed(pg):
    """HOST names the address the page is loaded from: allowed; other
    hosts (even an address of this machine it is not bound to) are not."""
    s = started(pg, {"HOST": "127.0.0.1"})
    try:
        h = {"Host": f"127.0.0.1:{s.port}", "Origin": "http://127.0.0.1:1234"}
        assert http("GET", s.base + "/health", headers=h)[1].get(
            "access-control-allow-origin") == "http://127.0.0.1:1234"
        h = {"Host": f"orders.example:{s.port}", "Origin": "http://orders.example"}
        assert not cors_of(http("GET", s.base + "/health", headers=h)[1])
    finally:
        stop_clean(s)


def test_allowed_origins_list_still_rules(pg):
    s = started(pg, {"ALLOWED_ORIGINS": "https://shop.example"})
    try:
        h = {"Origin": "https://shop.example", "Access-Control-Request-Method": "PATCH"}
        st, hdrs, _ = http("OPTIONS", s.base + "/api/orders/1", headers=h)
        assert st == 204 and hdrs["access-control-allow-origin"] == "https://shop.example"
        assert "PATCH" in hdrs["access-control-allow-methods"]
        h = {"Origin": "http://localhost", "Host": "localhost",
             "Access-Control-Request-Method": "PATCH"}
        st, hdrs, _ = http("OPTIONS", s.base + "/api/orders/1", headers=h)
        assert st == 204 and not cors_of(hdrs) and "PATCH" in hdrs["allow"]
    finally:
        stop_clean(s)


def test_preflight_from_refused_origin_has_no_cors_headers(api):
    st, hdrs, _ = http("OPTIONS", api.base + "/api/orders", headers={
        "Origin": "http://attacker.test", "Access-Control-Request-Method": "POST"})
    assert st == 204 and not cors_of(hdrs), hdrs
    assert "POST" in hdrs["allow"]
    # without an Origin it is not a CORS request: Allow only
    st, hdrs, _ = http("OPTIONS", api.base + "/api/orders")
    assert st == 204 and not cors_of(hdrs) and "GET" in hdrs["allow"]


# ---------------------------------------------------------------- headers

def assert_security_headers(hdrs):
    assert hdrs.get("referrer-policy") in ("no-referrer", "same-origin"), hdrs
    assert hdrs.get("x-content-type-options") == "nosniff", hdrs
    assert hdrs.get("x-frame-options") == "DENY", hdrs
    csp = hdrs.get("content-security-policy", "")
    assert directive(csp, "frame-ancestors") == ["'none'"], csp
    return csp


def test_security_headers_everywhere(api):
    o = create(api)
    for method, path, data in (("GET", "/api/orders?limit=1", None), ("GET", "/api/orders/0", None),
                               ("GET", f"/api/orders/{o['id']}", None),
                               ("POST", "/api/orders", body()), ("GET", "/api/nope", None),
                               ("GET", "/api/changes?since=0&limit=1", None),
                               ("GET", "/health", None), ("GET", "/metrics", None),
                               ("GET", "/api/config", None), ("OPTIONS", "/api/orders", None),
                               ("DELETE", "/api/orders", None)):
        st, hdrs, _ = http(method, api.base + path, body=data)
        csp = assert_security_headers(hdrs)
        if not path.startswith("/metrics") and method != "OPTIONS":
            assert directive(csp, "default-src") == ["'none'"], (path, csp)
    for path in ("/", "/app.js", "/style.css"):
        st, hdrs, _ = http("GET", api.base + path)
        assert st == 200
        assert_security_headers(hdrs)
        etag = hdrs["etag"]
        st, hdrs, _ = http("GET", api.base + path, headers={"If-None-Match": etag})
        assert st == 304
        assert_security_headers(hdrs)


def page_csp(base, headers=None):
    st, hdrs, _ = http("GET", base + "/", headers=headers)
    assert st == 200
    csp = assert_security_headers(hdrs)
    src = directive(csp, "connect-src")
    assert src is not None and not WILDCARDS & set(src), csp
    return src


def test_page_csp_names_the_default_relay(api):
    ws = api.env["WS_PORT"]
    assert page_csp(api.base) == ["'self'", f"ws://127.0.0.1:{ws}", f"http://127.0.0.1:{ws}"]
    assert page_csp(api.base, {"Host": f"localhost:{api.port}"}) == [
        "'self'", f"ws://localhost:{ws}", f"http://localhost:{ws}"]
    # the page's host, from a validated Host: nothing else gets in
    assert page_csp(api.base, {"Host": "orders.example"}) == [
        "'self'", f"ws://orders.example:{ws}", f"http://orders.example:{ws}"]
    # through a TLS front the page is https: wss and https
    assert page_csp(api.base, {"Host": "orders.example", "X-Forwarded-For": "192.0.2.1",
                               "X-Forwarded-Proto": "https"}) == [
        "'self'", f"wss://orders.example:{ws}", f"https://orders.example:{ws}"]
    # HTTP/1.0 without Host: only its own origin
    st, hdrs, _ = raw_http(api.port, b"GET / HTTP/1.0\r\n\r\n")
    assert st == 200
    assert directive(hdrs["content-security-policy"], "connect-src") == ["'self'"]


def test_page_csp_names_relay_public_url(pg):
    s = started(pg, {"RELAY_PUBLIC_URL": "wss://relay.example:8443/ws"})
    try:
        for h in (None, {"Host": "evil.example"}, {"X-Forwarded-For": "192.0.2.1"}):
            assert page_csp(s.base, h) == ["'self'", "wss://relay.example:8443",
                                           "https://relay.example:8443"]
        assert http_json("GET", s.base + "/api/config")[2]["relay_url"] == \
            "wss://relay.example:8443/ws"
    finally:
        stop_clean(s)
    s = started(pg, {"RELAY_PUBLIC_URL": "/ws"})
    try:
        front = {"Host": "orders.example", "X-Forwarded-For": "192.0.2.1",
                 "X-Forwarded-Proto": "https"}
        assert page_csp(s.base, front) == ["'self'", "wss://orders.example"]
        assert http_json("GET", s.base + "/api/config", headers=front)[2]["relay_url"] == "/ws"
        # straight from the api's port, the page uses WS_PORT (as /api/config says)
        ws = s.env["WS_PORT"]
        assert page_csp(s.base) == ["'self'", f"ws://127.0.0.1:{ws}", f"http://127.0.0.1:{ws}"]
        assert http_json("GET", s.base + "/api/config")[2]["relay_url"] is None
    finally:
        stop_clean(s)


def test_relay_public_url_with_odd_host_exits_2(pg):
    s = ApiServer(pg, env={"RELAY_PUBLIC_URL": "ws://[a;b]:8080/"})
    Program.start(s)
    rc = s.proc.wait(timeout=20)
    s.log.close()
    assert rc == 2 and "RELAY_PUBLIC_URL" in s.stderr().splitlines()[0]


# ---------------------------------------------------------------- rate limit

def post(base, headers=None, token=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    return http_json("POST", base + "/api/orders", body(), headers=h)


@pytest.fixture(scope="module")
def limited(pg):
    """5 writes a minute: a burst of 5, then one more every 12 s."""
    s = started(pg, {"WRITE_RATE_LIMIT": "5/m", "TRUSTED_PROXIES": "127.0.0.1/32, 10.0.0.0/8"})
    yield s
    stop_clean(s)


def test_burst_gets_429_with_retry_after(limited, pg):
    xff = {"X-Forwarded-For": "203.0.113.10"}
    before = counts(pg)
    codes = [post(limited.base, xff)[0] for _ in range(5)]
    assert codes == [201] * 5
    st, hdrs, data = post(limited.base, xff)
    assert_error(st, hdrs, data, 429, "rate_limited")
    assert re.fullmatch(r"[1-9][0-9]*", hdrs["retry-after"]), hdrs
    assert 1 <= int(hdrs["retry-after"]) <= 12
    # every write counts: updates and deletes are refused too, and change nothing
    for method in ("PUT", "PATCH", "DELETE"):
        st, hdrs, data = http_json(method, limited.base + "/api/orders/1", {"status": "shipped"},
                                   headers=xff)
        assert_error(st, hdrs, data, 429, "rate_limited")
    after = counts(pg)
    assert after[0] == before[0] + 5 and after[2] == before[2] + 5
    # reads are not limited
    for _ in range(30):
        assert http("GET", limited.base + "/api/orders?limit=1", headers=xff)[0] == 200
    # another client behind the trusted proxy is not affected
    assert post(limited.base, {"X-Forwarded-For": "203.0.113.11"})[0] == 201
    # behind two trusted proxies: the right-most untrusted address counts
    assert post(limited.base, {"X-Forwarded-For": "203.0.113.10, 10.1.1.1"})[0] == 429
    assert post(limited.base, {"X-Forwarded-For": "203.0.113.10, 203.0.113.12"})[0] == 201
    # the proxy's own address (no X-Forwarded-For) is a client of its own
    assert post(limited.base)[0] == 201
    # logs show the forwarded client
    assert "203.0.113.10 POST /api/orders" in limited.stderr()


def test_retry_after_is_honest(pg):
    s = started(pg, {"WRITE_RATE_LIMIT": "2/s"})
    try:
        assert [post(s.base)[0] for _ in range(2)] == [201, 201]
        st, hdrs, _ = post(s.base)
        assert st == 429 and hdrs["retry-after"] == "1"
        time.sleep(1.05)
        assert post(s.base)[0] == 201
    finally:
        stop_clean(s)


def test_untrusted_peer_x_forwarded_for_ignored(pg):
    s = started(pg, {"WRITE_RATE_LIMIT": "3/m"})
    try:
        codes = [post(s.base, {"X-Forwarded-For": f"198.51.100.{i}"})[0] for i in range(6)]
        assert codes == [201, 201, 201, 429, 429, 429]
        assert "198.51.100." not in s.stderr()
    finally:
        stop_clean(s)


def test_token_holders_are_limited_too(pg):
    token = "writer-token-0123456789"
    s = started(pg, {"WRITE_RATE_LIMIT": "2/m", "API_TOKEN": token})
    try:
        assert [post(s.base, token=token)[0] for _ in range(3)] == [201, 201, 429]
        # a flood without the token counts as writes as well
        assert post(s.base)[0] == 429
    finally:
        stop_clean(s)


def test_rate_limit_off(pg):
    s = started(pg, {"WRITE_RATE_LIMIT": "0"})
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            codes = list(ex.map(lambda _: post(s.base)[0], range(150)))
        assert codes == [201] * 150
        assert "not rate limited" in s.stderr()
    finally:
        stop_clean(s)


@pytest.mark.parametrize("env, word", [
    ({"WRITE_RATE_LIMIT": "fast"}, "WRITE_RATE_LIMIT"),
    ({"WRITE_RATE_LIMIT": "100"}, "WRITE_RATE_LIMIT"),
    ({"WRITE_RATE_LIMIT": "5/h"}, "WRITE_RATE_LIMIT"),
    ({"WRITE_RATE_LIMIT": "-1/s"}, "WRITE_RATE_LIMIT"),
    ({"WRITE_RATE_LIMIT": "2000000/s"}, "WRITE_RATE_LIMIT"),
    ({"TRUSTED_PROXIES": "nginx"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "127.0.0.1,"}, None),
])
def test_bad_values_exit_2(pg, env, word):
    s = ApiServer(pg, env=env)
    if word is None:  # a trailing comma is an empty item: fine
        s.start()
        stop_clean(s)
        return
    Program.start(s)
    rc = s.proc.wait(timeout=20)
    s.log.close()
    err = s.stderr()
    assert rc == 2, err
    first = err.strip().splitlines()[0]
    assert first.startswith(f"orders-api: {word}: "), first
    assert list(env.values())[0] in first


def test_help_lists_the_settings():
    out = subprocess.run([os.path.join(BIN_DIR, "orders-api"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert re.search(r"--write-rate-limit=RATE\s+WRITE_RATE_LIMIT .*\(default 100/s\)", out), out
    assert re.search(r"--trusted-proxies=ADDRESSES\s+TRUSTED_PROXIES", out), out
