"""Access control on the relay's handshake (CONTRACT section 6)."""
import pytest
import websocket

from conftest import Program, RelayServer
from relay_helpers import Ws, start_relay, stop_relay

WRITE = "write-token-0123456789"
READ = "read.only_token~-4567"


def handshake_status(url, **kw):
    """HTTP status of a refused handshake, or 101 when it succeeds."""
    try:
        ws = websocket.create_connection(url, timeout=5, **kw)
    except websocket.WebSocketBadStatusException as e:
        return e.status_code
    ws.close()
    return 101


@pytest.fixture(scope="module")
def guarded(pg):
    r = start_relay(pg, env={"API_TOKEN": WRITE, "READ_TOKEN": READ})
    yield r
    stop_relay(r)


@pytest.fixture(scope="module")
def open_relay(pg):
    r = start_relay(pg)
    yield r
    stop_relay(r)


def test_open_relay_warns_once(open_relay):
    lines = [l for l in open_relay.stderr().splitlines() if "API_TOKEN" in l]
    assert len(lines) == 1 and "WARN" in lines[0]


def test_stream_needs_a_token_with_read_token(guarded):
    assert handshake_status(guarded.ws_url) == 401
    assert handshake_status(guarded.ws_url + "?access_token=wrong-token-000000000") == 401
    for token in (READ, WRITE):
        ws = Ws(guarded.ws_url + "?access_token=" + token)
        assert ws.recv()["type"] == "hello"
        ws.close()


def test_bearer_header_and_subprotocol(guarded):
    conn = websocket.create_connection(guarded.ws_url, timeout=5,
                                       header=[f"Authorization: Bearer {READ}"])
    assert '"hello"' in conn.recv()
    conn.close()
    conn = websocket.create_connection(guarded.ws_url, timeout=5,
                                       subprotocols=["orders.v1", f"bearer.{READ}"])
    assert conn.getsubprotocol() == "orders.v1"
    assert '"hello"' in conn.recv()
    conn.close()
    assert handshake_status(guarded.ws_url, subprotocols=["orders.v1", "bearer.nope-nope-nope-nope"]) == 401


def test_origins(open_relay):
    # same host, any port: allowed; another host: 403; no Origin: allowed
    assert handshake_status(open_relay.ws_url, origin="http://127.0.0.1:3000") == 101
    assert handshake_status(open_relay.ws_url, origin="http://evil.example") == 403
    assert handshake_status(open_relay.ws_url, suppress_origin=True) == 101


def test_allowed_origins_list(pg):
    r = start_relay(pg, env={"ALLOWED_ORIGINS": "https://shop.example"})
    try:
        assert handshake_status(r.ws_url, origin="https://shop.example") == 101
        assert handshake_status(r.ws_url, origin="http://127.0.0.1:3000") == 403
    finally:
        stop_relay(r)


def test_only_root_and_ws_paths(open_relay):
    assert handshake_status(open_relay.ws_url + "ws") == 101
    assert handshake_status(open_relay.ws_url + "nope") == 404


def test_health_and_metrics_need_no_token(guarded):
    from conftest import http
    assert http("GET", guarded.base + "/health")[0] == 200
    assert http("GET", guarded.base + "/metrics")[0] == 200


def test_tokens_not_logged(guarded):
    Ws(guarded.ws_url + "?access_token=" + READ).close()
    log = guarded.stderr()
    assert READ not in log and WRITE not in log


@pytest.mark.parametrize("env, word", [
    ({"READ_TOKEN": READ}, "READ_TOKEN"),
    ({"API_TOKEN": "short"}, "API_TOKEN"),
    ({"ALLOWED_ORIGINS": "nope"}, "ALLOWED_ORIGINS"),
])
def test_bad_access_settings_exit_2(pg, env, word):
    r = RelayServer(pg, env=env)
    Program.start(r)
    rc = r.proc.wait(timeout=20)
    r.log.close()
    assert rc == 2
    assert word in r.stderr().strip().splitlines()[0]
