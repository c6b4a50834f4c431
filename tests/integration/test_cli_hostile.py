"""orders-cli against a hostile server (a tiny Python socket server, no
PostgreSQL): a NUL byte in a response head or a WebSocket handshake answer
is refused with a message and exit 1, never a crash; control characters in
a refusal or a close reason never reach the terminal."""
import base64
import hashlib
import os
import socket
import struct
import subprocess
import threading

import pytest

from conftest import BIN_DIR

CLI = os.path.join(BIN_DIR, "orders-cli")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def cli_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORDERS_API_URL", "ORDERS_RELAY_URL", "ORDERS_TOKEN", "API_TOKEN")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=99"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
    return env


class Hostile:
    """Accepts connections; answers the i-th with answers[min(i, last)](request).
    With tls (an ssl.SSLContext for a server), over TLS (test_cli_tls)."""

    def __init__(self, answers, tls=None):
        self.answers = answers
        self.tls = tls
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.n = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                req = b""
                conn.settimeout(5)
                try:
                    if self.tls:
                        conn = self.tls.wrap_socket(conn, server_side=True)
                    while b"\r\n\r\n" not in req:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        req += chunk
                    answer = self.answers[min(self.n, len(self.answers) - 1)]
                    self.n += 1
                    conn.sendall(answer(req))
                    conn.shutdown(socket.SHUT_WR)
                    while conn.recv(4096):
                        pass
                except OSError:  # ssl.SSLError too: a client that refused the certificate
                    pass
                finally:
                    conn.close()

    def close(self):
        self.sock.close()


def fixed(data):
    return lambda req: data


def ws_accept(req):
    key = [line.split(b":", 1)[1].strip() for line in req.split(b"\r\n")
           if line.lower().startswith(b"sec-websocket-key:")][0]
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


def ws_upgrade(req, extra=b""):
    """The head of a server's 101 answer to the WebSocket handshake req."""
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + ws_accept(req) + b"\r\n"
            + extra + b"\r\n")


def run_cli(args, timeout=20):
    p = subprocess.run([CLI, *args], capture_output=True, timeout=timeout, env=cli_env())
    err = p.stderr.decode("utf-8", "replace")
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in err, err[-4000:]
    return p.returncode, err


NUL_HEADS = {
    "status-line": b"HTTP/1.1 200 OK\x00\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
    "header": b"HTTP/1.1 200 OK\r\nContent-Type: appli\x00cation/json\r\nContent-Length: 2\r\n\r\n[]",
    "header-name": b"HTTP/1.1 200 OK\r\nX\x00: y\r\nContent-Length: 2\r\n\r\n[]",
}


@pytest.mark.parametrize("where", sorted(NUL_HEADS))
def test_nul_in_api_response_head(where):
    srv = Hostile([fixed(NUL_HEADS[where])])
    try:
        code, err = run_cli(["--api", f"http://127.0.0.1:{srv.port}", "list"])
    finally:
        srv.close()
    assert code == 1, (code, err)
    assert "NUL" in err, err


@pytest.mark.parametrize("where", ["status-line", "header"])
def test_nul_in_websocket_handshake(where):
    def answer(req):
        if where == "status-line":
            return ws_upgrade(req).replace(b"Switching", b"Switching\x00")
        return ws_upgrade(req).replace(b"Upgrade: websocket", b"Upgrade: web\x00socket")
    srv = Hostile([answer])
    try:
        code, err = run_cli(["--relay", f"ws://127.0.0.1:{srv.port}", "watch"])
    finally:
        srv.close()
    assert code == 1, (code, err)
    assert "NUL" in err, err


def printable_only(text):
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
    assert not bad, repr(text)


def test_handshake_refusal_is_printable():
    body = b'{"error":"go \\u001b]0;pwned\\u0007away\\u009b2J now"}'
    refusal = (b"HTTP/1.1 403 Forb\x1b[31midden\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    srv = Hostile([fixed(refusal)])
    try:
        code, err = run_cli(["--relay", f"ws://127.0.0.1:{srv.port}", "watch"])
    finally:
        srv.close()
    assert code == 1, (code, err)
    assert "403" in err and "pwned" in err and "away" in err, err
    printable_only(err)


def test_close_reason_is_printable():
    reason = "slow\x1b[2J\x07consumer\u009b".encode()

    def accept_then_close(req):
        head = ws_upgrade(req)
        hello = b'{"type":"hello","seq":0,"epoch":"e1","server":"hostile"}'
        payload = struct.pack("!H", 1008) + reason
        return (head + bytes([0x81, len(hello)]) + hello +
                bytes([0x88, len(payload)]) + payload)
    # the second connection is refused, so watch ends after printing the reason
    srv = Hostile([accept_then_close, fixed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")])
    try:
        code, err = run_cli(["--relay", f"ws://127.0.0.1:{srv.port}", "watch"])
    finally:
        srv.close()
    assert code == 1, (code, err)
    assert "1008" in err and "slow" in err and "consumer" in err, err
    printable_only(err)
