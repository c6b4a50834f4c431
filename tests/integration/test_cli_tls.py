"""orders-cli over TLS: https:// for the api, wss:// for the stream and
https:// for watch --sse, with certificates made at test time by
`openssl req -x509`.

Against the shipped nginx front (test_front's Stack: the real api and two
relays behind Debian's nginx with TLS): a one-shot command works with
--insecure (or ORDERS_INSECURE=1) and with its CA trusted through
SSL_CERT_FILE, and fails in one clear line without either; watch over wss
and over https (SSE) receives a change. Against small Python TLS servers:
a host name or address the certificate does not name, a server that does
not speak TLS, and hostile answers (NUL bytes, escape sequences, oversized
lines, frames and events) all end in a clean error, exit code 1."""
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading

import pytest

from conftest import BIN_DIR, http_json, wait_until
from test_cli_hostile import (NUL_HEADS, Hostile, cli_env, fixed, printable_only, run_cli,
                              ws_upgrade)

CLI = os.path.join(BIN_DIR, "orders-cli")
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")

pytestmark = pytest.mark.skipif(not os.access(OPENSSL, os.X_OK), reason="needs openssl")
needs_front = pytest.mark.skipif(
    not os.access(NGINX, os.X_OK) or not os.path.exists(os.path.join(BIN_DIR, "orders-relay")),
    reason="needs Debian's nginx (nginx-light) and orders-relay")

VERIFY_HINT = "trust its CA with SSL_CERT_FILE, or use --insecure"


def make_cert(d, name, san):
    """A self-signed certificate (its own CA) for CN=name and the given
    subjectAltName; returns (cert, key) paths."""
    os.makedirs(d, exist_ok=True)
    cert, key = os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls"))
    return {"local": make_cert(d, "localhost", "DNS:localhost,IP:127.0.0.1"),
            "other": make_cert(d, "other.example", "DNS:other.example"),
            "name-only": make_cert(d, "localhost", "DNS:localhost")}


def server_context(cert_key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert_key)
    return ctx


def one_line_error(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# --- against the shipped nginx front -------------------------------------

@pytest.fixture(scope="module")
def front(pg):
    if not os.access(NGINX, os.X_OK) or not os.path.exists(os.path.join(BIN_DIR, "orders-relay")):
        pytest.skip("needs Debian's nginx (nginx-light) and orders-relay")
    from relay_helpers import stop_relay
    from test_front import Stack  # its helpers: nginx with the deploy configuration
    s = Stack(pg)
    try:
        yield s
    finally:
        s.front.stop()
        s.api.stop()
        s.api.assert_clean()
        for r in s.relays:
            if r.proc:
                stop_relay(r)


def tls_urls(front, host="localhost"):
    return f"https://{host}:{front.front.tls_port}", f"wss://{host}:{front.front.tls_port}/ws"


def env_with(extra=None):
    return dict(cli_env(), **(extra or {}))


def cli(args, env=None, timeout=30):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                       env=env_with(env))
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in p.stderr, p.stderr[-4000:]
    return p


def count_orders(front, customer):
    status, _, orders = http_json("GET", front.front.base + "/api/orders?limit=1000")
    assert status == 200
    return sum(1 for o in orders if o["customer_name"] == customer)


@needs_front
def test_https_one_shot_needs_a_trusted_certificate(front):
    api, _ = tls_urls(front)
    create = ["--api", api, "--json", "create", "Tls Buyer", "Cert"]
    p = cli(create)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    line = one_line_error(p.stderr)
    assert f"cannot verify {api}: self-signed certificate" in line and VERIFY_HINT in line, line
    assert p.stdout == "" and count_orders(front, "Tls Buyer") == 0

    p = cli(["--insecure", *create])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["customer_name"] == "Tls Buyer"
    p = cli(create, env={"ORDERS_INSECURE": "1"})
    assert p.returncode == 0, p.stderr
    # the CA trusted the way every OpenSSL program takes it: verified, by name and by address
    p = cli(create, env={"SSL_CERT_FILE": front.front.cert})
    assert p.returncode == 0, p.stderr
    api_ip, _ = tls_urls(front, "127.0.0.1")
    p = cli(["--api", api_ip, "health"], env={"SSL_CERT_FILE": front.front.cert})
    assert p.returncode == 0 and "status" in p.stdout, p.stderr
    assert count_orders(front, "Tls Buyer") == 3
    # a bad value of the variable is a usage error, like every boolean
    p = cli(["--api", api, "health"], env={"ORDERS_INSECURE": "maybe"})
    assert p.returncode == 2 and "ORDERS_INSECURE" in p.stderr, p.stderr


class Watch:
    """orders-cli --json watch in the background; stdout lines collected."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen([CLI, "--json", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env_with(env))
        self.lines, self.err = [], []
        self.threads = [threading.Thread(target=self._pump, args=(f, out), daemon=True)
                        for f, out in ((self.proc.stdout, self.lines), (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    @staticmethod
    def _pump(f, out):
        for line in f:
            out.append(line.rstrip("\n"))

    def messages(self, type_):
        return [m for m in map(json.loads, list(self.lines)) if m.get("type") == type_]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=15)
        for t in self.threads:
            t.join(5)
        err = "\n".join(self.err)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in err, err[-4000:]
        return rc


@needs_front
@pytest.mark.parametrize("transport", ["wss", "sse"])
def test_watch_over_tls_receives_a_change(front, transport):
    _, relay = tls_urls(front)
    w = Watch(["--relay", relay, "watch", *(["--sse"] if transport == "sse" else [])],
              env={"SSL_CERT_FILE": front.front.cert})
    try:
        wait_until(lambda: w.messages("hello") or w.proc.poll() is not None, timeout=20,
                   what="hello over TLS")
        assert w.proc.poll() is None, "\n".join(w.err)
        _, order = front.create(customer_name=f"Tls Watch {transport}")
        wait_until(lambda: any(m["data"].get("id") == order["id"]
                               for m in w.messages("order_change")),
                   timeout=20, what="the change over TLS")
    finally:
        rc = w.stop()
    assert rc == 0, "\n".join(w.err)


@needs_front
def test_watch_refuses_an_untrusted_relay(front):
    _, relay = tls_urls(front)
    p = cli(["--relay", relay, "watch"], timeout=30)
    assert p.returncode == 1, (p.returncode, p.stderr)
    line = one_line_error(p.stderr)
    assert f"cannot verify wss://localhost:{front.front.tls_port}" in line, line


# --- against small Python TLS servers --------------------------------------

def test_certificate_for_another_host(certs):
    """The CA is trusted, but the certificate names another host (or only
    a name, when the URL gives an address): refused, one line."""
    for which, host, reason in (("other", "localhost", "hostname mismatch"),
                                ("name-only", "127.0.0.1", "IP address mismatch")):
        srv = Hostile([fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")],
                      tls=server_context(certs[which]))
        try:
            p = cli(["--api", f"https://{host}:{srv.port}", "health"],
                    env={"SSL_CERT_FILE": certs[which][0]})
            ok = cli(["--insecure", "--api", f"https://{host}:{srv.port}", "health"])
        finally:
            srv.close()
        assert p.returncode == 1, (p.returncode, p.stderr)
        line = one_line_error(p.stderr)
        assert f"cannot verify https://{host}:{srv.port}: {reason}" in line, line
        assert ok.returncode == 0, ok.stderr  # --insecure skips the name check too


def test_server_without_tls():
    """A plain HTTP server answers the ClientHello with a 400 in clear text."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]

    def answer():
        conn, _ = sock.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    t = threading.Thread(target=answer, daemon=True)
    t.start()
    try:
        p = cli(["--api", f"https://127.0.0.1:{port}", "--insecure", "health"])
    finally:
        t.join(10)
        sock.close()
    assert p.returncode == 1
    line = one_line_error(p.stderr)
    assert f"TLS handshake with https://127.0.0.1:{port} failed" in line, line


@pytest.mark.parametrize("where", sorted(NUL_HEADS))
def test_nul_in_https_response_head(certs, where):
    srv = Hostile([fixed(NUL_HEADS[where])], tls=server_context(certs["local"]))
    try:
        code, err = run_cli(["--insecure", "--api", f"https://127.0.0.1:{srv.port}", "list"])
    finally:
        srv.close()
    assert code == 1 and "NUL" in err, (code, err)


def test_escapes_over_https_never_reach_the_terminal(certs):
    evil = "\x1b]0;pwned\x07\x1b[2J\u009b"
    orders = json.dumps([{"id": 1, "customer_name": "a" + evil, "product_name": evil,
                          "status": "pending", "updated_at": "2026-01-01T00:00:00Z"}]).encode()
    err_body = json.dumps({"error": "no " + evil + " way", "code": "not_found"}).encode()
    answers = [
        fixed(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(orders)).encode() + b"\r\n\r\n" + orders),
        fixed(b"HTTP/1.1 404 Not\x1b[31mFound\r\nContent-Length: "
              + str(len(err_body)).encode() + b"\r\n\r\n" + err_body),
    ]
    srv = Hostile(answers, tls=server_context(certs["local"]))
    try:
        outs = [subprocess.run([CLI, "--insecure", "--api", f"https://127.0.0.1:{srv.port}",
                                *args], capture_output=True, timeout=20, env=cli_env())
                for args in (["list"], ["get", "1"])]
    finally:
        srv.close()
    assert outs[0].returncode == 0 and outs[1].returncode == 1, outs
    for p in outs:
        for stream in (p.stdout, p.stderr):
            printable_only(stream.decode("utf-8", "replace"))
    assert b"a?]0;pwned??[2J?" in outs[0].stdout, outs[0].stdout
    assert b"no ?]0;pwned??[2J? way" in outs[1].stderr, outs[1].stderr


def test_oversized_head_line_over_https(certs):
    huge = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 100000 + b"\r\nContent-Length: 2\r\n\r\n[]"
    srv = Hostile([fixed(huge)], tls=server_context(certs["local"]))
    try:
        code, err = run_cli(["--insecure", "--api", f"https://127.0.0.1:{srv.port}", "list"])
    finally:
        srv.close()
    assert code == 1 and "head over 65536 bytes" in err, (code, err)


REFUSED = fixed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")


def test_wss_hostile_frames(certs):
    """Over wss: a close reason with escapes is printed cleanly; a frame
    that announces 2^62 bytes is refused (close 1009) without reading it;
    the next connection is refused, so watch ends with exit code 1."""
    hello = b'{"type":"hello","seq":0,"epoch":"e1","server":"hostile"}'
    reason = "bye\x1b[2J\x07now\u009b".encode()

    def close_with_escapes(req):
        payload = struct.pack("!H", 1008) + reason
        return (ws_upgrade(req) + bytes([0x81, len(hello)]) + hello
                + bytes([0x88, len(payload)]) + payload)

    def giant_frame(req):
        return ws_upgrade(req) + bytes([0x81, 127]) + struct.pack("!Q", 1 << 62) + b"x" * 1000

    srv = Hostile([close_with_escapes, giant_frame, REFUSED], tls=server_context(certs["local"]))
    try:
        code, err = run_cli(["--insecure", "--relay", f"wss://127.0.0.1:{srv.port}/ws", "watch"],
                            timeout=30)
    finally:
        srv.close()
    assert code == 1, (code, err)
    printable_only(err)
    assert "1008 bye?[2J?now?" in err and "message too big" in err and "403" in err, err


def test_https_sse_oversized_event(certs):
    """watch --sse over https: an event past SSE_CLIENT_MAX_EVENT (16 MiB)
    is dropped with a clear reason, never buffered without bound."""
    def stream(req):
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                b"event: hello\r\ndata: " + b"x" * (17 * 1024 * 1024))
    srv = Hostile([stream, REFUSED], tls=server_context(certs["local"]))
    try:
        code, err = run_cli(["--insecure", "--relay", f"wss://127.0.0.1:{srv.port}/ws", "watch",
                             "--sse"], timeout=60)
    finally:
        srv.close()
    assert code == 1, (code, err)
    assert "event too large" in err and "403" in err, err
