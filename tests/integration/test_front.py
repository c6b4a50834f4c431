"""The shipped nginx front (deploy/nginx) with Debian's nginx, in front of the
real orders-api and two real orders-relay instances on loopback.

The deploy configuration is rendered for loopback ports only: the listen
lines and the upstream addresses change, every route and setting is the
shipped one. nginx runs from a private folder (prefix, configuration, logs,
pid, temp files), started through deploy/nginx/docker-entrypoint.sh, the
same script that switches TLS on in the compose front.
"""
import http.client as httpclient
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websocket

from conftest import BIN_DIR, ROOT, ApiServer, free_port, http, http_json, wait_until
from relay_helpers import Ws, start_relay, stop_relay

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
DEPLOY = os.path.join(ROOT, "deploy", "nginx")
ENTRYPOINT = os.path.join(DEPLOY, "docker-entrypoint.sh")
API = os.path.join(BIN_DIR, "orders-api")

pytestmark = [
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="needs Debian's nginx (nginx-light)"),
    pytest.mark.skipif(not os.access(OPENSSL, os.X_OK), reason="needs openssl"),
    pytest.mark.skipif(not os.path.exists(os.path.join(BIN_DIR, "orders-relay")),
                       reason="orders-relay is not built"),
]

MAIN_CONF = """\
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include conf.d/orders.conf;
}}
"""


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def replace_once(text, old, new):
    assert text.count(old) == 1, f"expected one {old!r} in the shipped configuration"
    return text.replace(old, new)


def render(d, api_port, relay_ports, http_port, tls_port):
    """The shipped configuration under d, for loopback ports."""
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    os.makedirs(os.path.join(d, "orders", "tls.d"), exist_ok=True)
    write(os.path.join(d, "nginx.conf"), MAIN_CONF.format(d=d))
    write(os.path.join(d, "conf.d", "orders.conf"),
          replace_once(read(os.path.join(DEPLOY, "orders.conf")), "listen 80;",
                       f"listen 127.0.0.1:{http_port};"))
    shutil.copy(os.path.join(DEPLOY, "orders", "locations.conf"), os.path.join(d, "orders"))
    write(os.path.join(d, "orders", "tls.conf"),
          replace_once(read(os.path.join(DEPLOY, "orders", "tls.conf")), "listen 443 ssl;",
                       f"listen 127.0.0.1:{tls_port} ssl;"))
    up = read(os.path.join(DEPLOY, "orders", "upstreams.conf"))
    up = replace_once(up, "server 127.0.0.1:3000 ", f"server 127.0.0.1:{api_port} ")
    for sample, port in zip((8080, 8081), relay_ports):
        up = replace_once(up, f"server 127.0.0.1:{sample} ", f"server 127.0.0.1:{port} ")
    write(os.path.join(d, "orders", "upstreams.conf"), up)
    # workers (nobody when the tests run as root) write temp files under d
    os.chmod(d, 0o755)


def make_cert(tls_dir):
    os.makedirs(tls_dir, exist_ok=True)
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", os.path.join(tls_dir, "key.pem"),
                    "-out", os.path.join(tls_dir, "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    return os.path.join(tls_dir, "cert.pem")


def entrypoint(d, *cmd, timeout=30):
    """Run the front's entrypoint with its orders/ folder in d; returns the result."""
    return subprocess.run(["sh", ENTRYPOINT, *cmd], env=dict(os.environ, ORDERS_NGINX_DIR=os.path.join(d, "orders")),
                          capture_output=True, text=True, timeout=timeout)


def nginx_args(d):
    return [NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")]


class Front:
    """nginx with the deploy configuration, started by the compose entrypoint."""

    def __init__(self, api_port, relay_ports):
        self.dir = tempfile.mkdtemp(prefix="orders-nginx-")
        self.port, self.tls_port = free_port(), free_port()
        render(self.dir, api_port, relay_ports, self.port, self.tls_port)
        self.cert = make_cert(os.path.join(self.dir, "orders", "tls"))
        self.base = f"http://127.0.0.1:{self.port}"
        self.tls_base = f"https://127.0.0.1:{self.tls_port}"
        self.log_path = os.path.join(self.dir, "entrypoint.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["sh", ENTRYPOINT, *nginx_args(self.dir), "-g", "daemon off;"],
                                     env=dict(os.environ, ORDERS_NGINX_DIR=os.path.join(self.dir, "orders")),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_until(self._up, timeout=20, what="nginx to answer")
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"nginx exited {self.proc.returncode}:\n{self.logs()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def logs(self):
        out = []
        for name in ("entrypoint.log", "error.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                out.append(f"--- {name}\n{read(p)[-4000:]}")
        return "\n".join(out)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful, as docker stop (STOPSIGNAL)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    def __init__(self, pg):
        self.pg = pg
        self.relays = [start_relay(pg), start_relay(pg)]
        self.api = ApiServer(pg, env={"RELAY_PUBLIC_URL": "/ws",
                                      "WS_PORT": str(self.relays[0].port)}).start()
        self.front = Front(self.api.port, [r.port for r in self.relays]).start()

    def ws(self, path="/ws", query=""):
        return Ws(f"ws://127.0.0.1:{self.front.port}{path}{query}")

    def create(self, base=None, **kw):
        body = {"customer_name": "Front Door", "product_name": "Proxy"}
        body.update(kw)
        status, hdrs, order = http_json("POST", (base or self.front.base) + "/api/orders", body)
        assert status == 201, (status, order)
        return hdrs, order


@pytest.fixture(scope="module")
def stack(pg):
    s = Stack(pg)
    try:
        yield s
    finally:
        s.front.stop()
        rc = s.api.stop()
        s.api.assert_clean()
        assert rc == 0, s.api.stderr()[-3000:]
        for r in s.relays:
            if r.proc:
                stop_relay(r)


def wait_insert(ws, order_id, timeout=10):
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        assert left > 0, f"INSERT of order {order_id} did not arrive"
        for ev in ws.events(1, timeout=left):
            if ev["data"]["operation"] == "INSERT" and ev["data"]["id"] == order_id:
                return ev


# ---------------------------------------------------------------- the shipped configuration

def location_block(text, name):
    m = re.search(r"location\s+" + re.escape(name) + r"\s*\{(.*?)\n\}", text, re.S)
    assert m, f"no location {name}"
    return m.group(1)


def test_shipped_config_streams_and_balances():
    loc = read(os.path.join(DEPLOY, "orders", "locations.conf"))
    events = location_block(loc, "= /events")
    for setting in ("proxy_buffering off;", "proxy_cache off;", "proxy_pass http://orders_relay;",
                    "X-Accel-Buffering no"):
        assert setting in events, setting
    ws = location_block(loc, "= /ws")
    for setting in ("proxy_pass http://orders_relay;", "proxy_http_version 1.1;",
                    "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Host $host;",
                    "proxy_set_header Connection $orders_connection_upgrade;"):
        assert setting in ws, setting
    for block in (ws, events):
        secs = int(re.search(r"proxy_read_timeout (\d+)s;", block).group(1))
        assert secs > 2 * 30, "proxy_read_timeout must exceed two PING_INTERVALs"
    assert "X-Forwarded-For" in loc and "limit_conn orders_per_addr" in loc
    main = read(os.path.join(DEPLOY, "orders.conf"))
    assert "limit_conn_zone $binary_remote_addr zone=orders_per_addr" in main
    for f in ("orders/upstreams.conf", "compose/upstreams.conf"):
        up = read(os.path.join(DEPLOY, f))
        relay = re.search(r"upstream orders_relay \{(.*?)\}", up, re.S).group(1)
        assert "least_conn;" in relay or "ip_hash;" in relay, f
    host_relays = re.search(r"upstream orders_relay \{(.*?)\}",
                            read(os.path.join(DEPLOY, "orders", "upstreams.conf")), re.S).group(1)
    assert len(re.findall(r"^\s*server ", host_relays, re.M)) >= 2


def test_tls_stays_off_without_a_certificate():
    """The entrypoint leaves the 443 server out unless both files exist, and
    the configuration is valid either way."""
    d = tempfile.mkdtemp(prefix="orders-nginx-off-")
    try:
        render(d, free_port(), [free_port(), free_port()], free_port(), free_port())
        r = entrypoint(d, *nginx_args(d), "-t", "-q")
        assert r.returncode == 0, r.stderr
        assert "TLS off" in r.stderr and os.listdir(os.path.join(d, "orders", "tls.d")) == []
        write(os.path.join(d, "orders", "tls", "cert.pem"), "x")  # a key is missing
        r = entrypoint(d, *nginx_args(d), "-t", "-q")
        assert r.returncode == 0 and "needs both" in r.stderr, r.stderr
        assert os.listdir(os.path.join(d, "orders", "tls.d")) == []
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- one origin

def test_page_and_config_through_front(stack):
    status, hdrs, body = http("GET", stack.front.base + "/")
    assert status == 200 and b"<html" in body.lower()
    assert "connect-src 'self'" in hdrs.get("content-security-policy", "")
    status, _, js = http("GET", stack.front.base + "/app.js")
    assert status == 200 and b"relayUrl" in js
    status, _, cfg = http_json("GET", stack.front.base + "/api/config")
    assert status == 200 and cfg["relay_url"] == "/ws", cfg
    status, _, health = http_json("GET", stack.front.base + "/health")
    assert status == 200 and health["status"] == "healthy", health


def test_config_path_only_for_proxied_pages(stack):
    """A page loaded from the api's own port still finds the relay on
    WS_PORT; one loaded through a proxy gets the path."""
    status, _, cfg = http_json("GET", stack.api.base + "/api/config")
    assert status == 200 and cfg["relay_url"] is None and cfg["ws_port"] == stack.relays[0].port
    for h in ({"X-Forwarded-For": "192.0.2.7"}, {"Forwarded": "for=192.0.2.7;proto=https"}):
        status, _, cfg = http_json("GET", stack.api.base + "/api/config", headers=h)
        assert status == 200 and cfg["relay_url"] == "/ws", (h, cfg)


def test_metrics_not_public_through_front(stack):
    # loopback is allowed; the rule is there for every other address
    status, _, body = http("GET", stack.front.base + "/metrics")
    assert status == 200 and b"orders_api" in body
    assert "deny all;" in location_block(read(os.path.join(DEPLOY, "orders", "locations.conf")),
                                         "= /metrics")


def test_rest_through_front(stack):
    hdrs, order = stack.create()
    assert hdrs["location"] == f"/api/orders/{order['id']}"
    status, _, got = http_json("GET", stack.front.base + hdrs["location"])
    assert status == 200 and got == order
    status, _, upd = http_json("PATCH", stack.front.base + hdrs["location"], {"status": "shipped"})
    assert status == 200 and upd["status"] == "shipped"
    status, _, err = http_json("GET", stack.front.base + "/api/orders/nope")
    assert status == 400 and err["code"] == "invalid_id"
    status, _, lst = http_json("GET", stack.front.base + "/api/orders?limit=5")
    assert status == 200 and any(o["id"] == order["id"] for o in lst)


def test_websocket_through_front(stack):
    ws = stack.ws()
    try:
        hello = ws.recv()
        assert hello["type"] == "hello" and hello["server"].startswith("orders-relay")
        _, order = stack.create()
        ev = wait_insert(ws, order["id"])
        assert ev["data"]["customer_name"] == "Front Door"
    finally:
        ws.close()
    # the query string reaches the relay: since= replays the same event
    ws = stack.ws(query=f"?since={ev['seq'] - 1}&operation=INSERT")
    try:
        assert ws.recv()["type"] == "hello"
        again = ws.events(1)[0]
        assert again["seq"] == ev["seq"] and again["data"]["id"] == order["id"]
    finally:
        ws.close()


def read_sse_event(resp, want_type, timeout=10):
    """The next SSE message of a type from a streaming response: (fields, data)."""
    deadline = time.time() + timeout
    fields = {}
    while time.time() < deadline:
        line = resp.readline()
        if not line:
            raise AssertionError("event stream ended")
        line = line.decode().rstrip("\r\n")
        if line == "":
            if fields.get("event") == want_type:
                return fields, json.loads(fields.get("data", "null"))
            fields = {}
        elif not line.startswith(":") and ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v[1:] if v.startswith(" ") else v
    raise AssertionError(f"no {want_type} event within {timeout}s")


def test_events_reach_a_relay_unbuffered(stack):
    """/events goes to a relay as Server-Sent Events, unbuffered: an order
    created through the front arrives at once, with its id line."""
    seq = stack.pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]
    conn = httpclient.HTTPConnection("127.0.0.1", stack.front.port, timeout=10)
    try:
        conn.request("GET", f"/events?since={seq}", headers={"Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("X-Accel-Buffering") == "no"
        assert resp.getheader("Content-Type", "").startswith("text/event-stream")
        read_sse_event(resp, "hello", timeout=5)
        _, order = stack.create()
        t0 = time.time()
        while True:
            fields, msg = read_sse_event(resp, "order_change", timeout=max(0.1, 10 - (time.time() - t0)))
            if msg["data"]["id"] == order["id"]:
                break
        assert time.time() - t0 < 2, "the front buffered the stream"
        assert fields["id"] == str(msg["seq"])
    finally:
        conn.close()


class Wss(Ws):
    """Ws over TLS, verifying the server against one certificate."""

    def __init__(self, url, cafile):
        self.ws = websocket.create_connection(url, timeout=10, enable_multithread=True,
                                              sslopt={"cert_reqs": ssl.CERT_REQUIRED,
                                                      "ca_certs": cafile})
        self.pings = 0
        self.heartbeats = []


def test_tls_round_trip(stack):
    ctx = ssl.create_default_context(cafile=stack.front.cert)
    with urllib.request.urlopen(stack.front.tls_base + "/health", context=ctx, timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["status"] == "healthy"
    with urllib.request.urlopen(stack.front.tls_base + "/api/config", context=ctx, timeout=10) as r:
        assert json.loads(r.read())["relay_url"] == "/ws"
    # the certificate is really checked: the system CAs do not know it
    with pytest.raises(Exception) as e:
        urllib.request.urlopen(stack.front.tls_base + "/health", timeout=10,
                               context=ssl.create_default_context())
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    ws = Wss(f"wss://127.0.0.1:{stack.front.tls_port}/ws", stack.front.cert)
    try:
        assert ws.recv()["type"] == "hello"
        req = urllib.request.Request(stack.front.tls_base + "/api/orders", method="POST",
                                     data=json.dumps({"customer_name": "Tls", "product_name": "Wss"}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            assert r.status == 201
            order = json.loads(r.read())
        assert wait_insert(ws, order["id"])["data"]["customer_name"] == "Tls"
    finally:
        ws.close()


def test_stream_survives_a_relay_killed(stack):
    """SIGKILL one relay: new WebSockets through the front go to the other one,
    get hello and live events, and resume with since= without a gap."""
    ws = stack.ws()
    hello = ws.recv()
    ws.close()
    victim = stack.relays[0]
    port = victim.port
    victim.kill9()
    try:
        _, missed = stack.create(customer_name="While Killed")
        for i in range(4):  # least_conn tries the dead one too: every attempt must work
            c = stack.ws(query=f"?since={hello['seq']}" if i == 0 else "")
            try:
                assert c.recv()["type"] == "hello"
                if i == 0:
                    assert wait_insert(c, missed["id"])["data"]["customer_name"] == "While Killed"
                _, order = stack.create()
                wait_insert(c, order["id"])
            finally:
                c.close()
    finally:
        stack.relays[0] = start_relay(stack.pg, port=port)


def test_bad_relay_public_url_exits_2(pg, tmp_path):
    for value in ("//evil.example/ws", "/a b", "/../ws", "/ws#x", "/ws\\x", "ws", "http://x/ws", "/w\ts"):
        env = {k: v for k, v in os.environ.items() if k not in ("PORT", "WS_PORT")}
        env.update(DATABASE_URL=pg.url, PORT=str(free_port()), RELAY_PUBLIC_URL=value)
        r = subprocess.run([API], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (value, r.returncode, r.stderr)
        lines = [line for line in r.stderr.splitlines() if "RELAY_PUBLIC_URL" in line]
        assert len(lines) == 1, (value, r.stderr)


def test_page_goes_live_through_front_and_directly(stack):
    """A real browser: the page finds the stream through the front (/ws on
    its own origin) and from the api's port (ws://host:WS_PORT/)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver_bin = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    if not (os.access(chromium, os.X_OK) and os.access(driver_bin, os.X_OK)):
        pytest.skip("needs Debian's chromium and chromedriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="orders-chromium-")
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    d = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        d.set_page_load_timeout(30)
        want = {stack.front.base: f"ws://127.0.0.1:{stack.front.port}/ws",
                stack.api.base: f"ws://127.0.0.1:{stack.relays[0].port}/"}
        for base, ws_url in want.items():
            d.get_log("performance")  # drop what came before
            d.get(base + "/")
            wait_until(lambda: d.execute_script(
                "return window.ordersDashboard && window.ordersDashboard.state") == "live",
                timeout=15, what=f"the page from {base} to be live")
            _, order = stack.create(base=base, customer_name="Browser")
            wait_until(lambda: d.execute_script(
                f"return !!document.querySelector('#orders-body tr[data-id=\"{order['id']}\"]')"),
                timeout=10, what=f"the new order in the page from {base}")
            opened = [json.loads(e["message"])["message"] for e in d.get_log("performance")]
            opened = [m["params"]["url"] for m in opened if m["method"] == "Network.webSocketCreated"]
            assert opened and all(u.split("?")[0] == ws_url for u in opened), (base, opened)
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
