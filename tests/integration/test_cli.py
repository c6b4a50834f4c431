"""orders-cli one-shot and script mode against the real api (and relay for
watch) with a throwaway PostgreSQL: every command with and without --json,
exit codes 0/1/2, bad arguments, server errors passed through, and watch
across a relay restart."""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN_DIR, RelayServer, free_port, http_json, wait_until
from test_cli_hostile import Hostile, fixed, ws_upgrade

CLI = os.path.join(BIN_DIR, "orders-cli")
HAVE_RELAY = os.path.exists(os.path.join(BIN_DIR, "orders-relay"))
STATUS_ERROR = "error: status: must be one of pending, processing, shipped, delivered, cancelled"


def sanitizer_clean(text):
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in text, f"orders-cli sanitizer report:\n{text[-4000:]}"


def cli_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORDERS_API_URL", "ORDERS_RELAY_URL", "ORDERS_TOKEN", "API_TOKEN")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=99"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
    env.update(extra or {})
    return env


@pytest.fixture(scope="module")
def run(api, tmp_path_factory):
    cwd = str(tmp_path_factory.mktemp("cli-cwd"))

    def go(*args, stdin=None, env=None, timeout=30):
        p = subprocess.run([CLI, "--api", api.base] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=timeout,
                           env=cli_env(env), cwd=cwd)
        sanitizer_clean(p.stderr)
        return p
    return go


def create(run, customer, product, *extra):
    p = run("--json", "create", customer, product, *extra)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_help_and_version():
    p = subprocess.run([CLI, "--help"], capture_output=True, text=True, env=cli_env())
    assert p.returncode == 0
    for word in ("list", "get", "create", "update", "delete", "watch", "history", "health",
                 "ORDERS_API_URL", "ORDERS_RELAY_URL", "--token", "--json"):
        assert word in p.stdout
    p = subprocess.run([CLI, "--version"], capture_output=True, text=True, env=cli_env())
    assert p.returncode == 0 and p.stdout.startswith("orders-cli ")


def test_man_page_in_step_with_help():
    man = open(os.path.join(os.path.dirname(__file__), "..", "..", "cli", "orders-cli.1")).read()
    man = man.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    p = subprocess.run([CLI, "--help"], capture_output=True, text=True, env=cli_env())
    for word in ("list", "get", "create", "update", "delete", "watch", "history", "health",
                 "--since", "--status", "--limit", "--operation", "--id", "--api", "--relay",
                 "--token", "--json", "--no-color", "--insecure", "ORDERS_API_URL",
                 "ORDERS_RELAY_URL", "ORDERS_TOKEN", "ORDERS_INSECURE", "NO_COLOR",
                 "orders_cli_history"):
        assert word in p.stdout, f"{word} missing from --help"
        assert word in man, f"{word} missing from the man page"


def test_create_get_update_delete(run, api):
    p = run("create", "Ann Smith", "Desk")
    assert p.returncode == 0, p.stderr
    assert "created order" in p.stderr
    assert "customer_name  Ann Smith" in p.stdout and "status         pending" in p.stdout
    oid = int(p.stderr.split("created order")[1].split()[0])

    p = run("--json", "get", str(oid))
    assert p.returncode == 0
    status, _, body = http_json("GET", f"{api.base}/api/orders/{oid}")
    assert json.loads(p.stdout) == body

    p = run("get", str(oid))
    assert p.returncode == 0 and f"id             {oid}" in p.stdout

    p = run("update", str(oid), "status=shipped", "product_name=Standing Desk")
    assert p.returncode == 0, p.stderr
    assert "status         shipped" in p.stdout and "Standing Desk" in p.stdout

    p = run("update", str(oid), "customer_name=Ann Jones", "--json")
    assert p.returncode == 0
    doc = json.loads(p.stdout)
    assert doc["customer_name"] == "Ann Jones" and doc["status"] == "shipped"

    p = run("delete", str(oid))
    assert p.returncode == 0 and f"deleted order {oid}" in p.stderr
    p = run("--json", "delete", str(created := create(run, "Bo", "Pen")["id"]))
    assert p.returncode == 0 and json.loads(p.stdout)["id"] == created

    p = run("get", str(oid))
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("error: ") and len(p.stderr.strip().splitlines()) == 1


def test_create_with_status_and_json_exact(run, api):
    p = run("--json", "create", "Cy", "Lamp", "--status", "processing")
    assert p.returncode == 0
    doc = json.loads(p.stdout)
    assert doc["status"] == "processing" and doc["customer_name"] == "Cy"
    _, _, body = http_json("GET", f"{api.base}/api/orders/{doc['id']}")
    assert body == doc


def test_list(run, api):
    a = create(run, "List Alpha", "Chair", "--status", "delivered")
    b = create(run, "List Beta", "Table", "--status", "cancelled")
    p = run("list")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "CUSTOMER", "PRODUCT", "STATUS", "UPDATED"]
    assert any("List Alpha" in l and "delivered" in l for l in lines)
    assert "\033[" not in p.stdout  # not a terminal: no colours
    assert lines[-1].startswith("(") and "orders)" in lines[-1]
    # newest first
    assert p.stdout.index("List Beta") < p.stdout.index("List Alpha")

    p = run("list", "--json")
    _, _, body = http_json("GET", f"{api.base}/api/orders")
    assert p.returncode == 0 and json.loads(p.stdout) == body

    p = run("--json", "list", "--status", "cancelled", "--limit", "1")
    rows = json.loads(p.stdout)
    assert len(rows) == 1 and rows[0]["id"] == b["id"]
    p = run("list", "--status=delivered")
    assert "List Alpha" in p.stdout and "List Beta" not in p.stdout


def test_history_and_health(run, api):
    o = create(run, "Hist", "Mug")
    run("update", str(o["id"]), "status=shipped")
    p = run("--json", "history", "--limit", "1000")
    assert p.returncode == 0
    events = json.loads(p.stdout)
    mine = [e for e in events if e["data"]["id"] == o["id"]]
    assert [e["data"]["operation"] for e in mine] == ["INSERT", "UPDATE"]
    since = mine[0]["seq"]
    p = run("history", "--since", str(since - 1), "--limit", "2")
    assert p.returncode == 0
    assert p.stdout.splitlines()[0].split()[:3] == ["SEQ", "TIME", "OP"]
    assert "pending -> shipped" in p.stdout and "(2 changes)" in p.stdout

    p = run("health")
    assert p.returncode in (0, 1)
    assert "status" in p.stdout and "database" in p.stdout
    p = run("--json", "health")
    doc = json.loads(p.stdout)
    assert doc["database"] == "connected"


def test_server_errors_passed_through(run):
    o = create(run, "Err", "Box")
    p = run("update", str(o["id"]), "status=bogus")
    assert p.returncode == 1
    assert p.stderr.strip() == STATUS_ERROR
    p = run("--json", "update", str(o["id"]), "status=bogus")
    assert p.returncode == 1 and p.stdout == "" and p.stderr.strip() == STATUS_ERROR
    p = run("create", "Ann", "")
    assert p.returncode == 1 and "product_name" in p.stderr
    p = run("create", "x" * 201, "Desk")
    assert p.returncode == 1 and "customer_name" in p.stderr
    p = run("get", "999999999")
    assert p.returncode == 1 and p.stderr.startswith("error: ")
    # a bad --limit or --since is a usage error, whatever the command
    for args in (["list", "--limit", "0"], ["list", "--limit", "1001"], ["list", "--limit", "x"],
                 ["history", "--limit", "0"], ["history", "--since", "abc"]):
        p = run(*args)
        assert p.returncode == 2 and args[1] in p.stderr, (args, p.stderr)
    p = run("list", "--status", "bogus")
    assert p.returncode == 1 and "status" in p.stderr
    assert len(run("get", "999999999").stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args,needle", [
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["list", "--bogus"], "unknown option '--bogus'"),
    (["list", "--limit"], "needs a value"),
    (["get"], "missing argument ID"),
    (["get", "abc"], "cannot parse order id 'abc'"),
    (["delete", "1", "2"], "unexpected argument '2'"),
    (["create", "OnlyCustomer"], "missing argument PRODUCT"),
    (["update", "5"], "give at least one of"),
    (["update", "5", "colour=red"], "colour: unknown field"),
    (["update", "5", "created_at=now"], "created_at: is read-only"),
    (["watch", "--since", "x"], "--since"),
    (["--bogus", "list"], "unknown option '--bogus'"),
])
def test_usage_errors(run, args, needle):
    p = run(*args)
    assert p.returncode == 2, (args, p.stderr)
    assert needle in p.stderr
    assert p.stdout == ""


def test_bad_configuration():
    for env, needle in ((["--api", "ftp://x"], "ORDERS_API_URL"),
                        (["--relay", "http://x"], "ORDERS_RELAY_URL"),
                        (["--token", "short"], "ORDERS_TOKEN")):
        p = subprocess.run([CLI] + env + ["list"], capture_output=True, text=True,
                           env=cli_env())
        assert p.returncode == 2 and needle in p.stderr, p.stderr
    p = subprocess.run([CLI, "list"], capture_output=True, text=True,
                       env=cli_env({"ORDERS_API_URL": "nope"}))
    assert p.returncode == 2 and "ORDERS_API_URL" in p.stderr


def test_unreachable_server_names_url():
    url = f"http://127.0.0.1:{free_port()}"
    p = subprocess.run([CLI, "--api", url, "list"], capture_output=True, text=True,
                       env=cli_env(), timeout=30)
    assert p.returncode == 1
    assert url in p.stderr and len(p.stderr.strip().splitlines()) == 1
    ws = f"ws://127.0.0.1:{free_port()}"
    p = subprocess.run([CLI, "--relay", ws, "watch"], capture_output=True, text=True,
                       env=cli_env(), timeout=30)
    assert p.returncode == 1 and ws in p.stderr


def test_env_and_dotenv(api, tmp_path):
    p = subprocess.run([CLI, "--json", "list", "--limit", "1"], capture_output=True, text=True,
                       env=cli_env({"ORDERS_API_URL": api.base}), timeout=30)
    assert p.returncode == 0 and isinstance(json.loads(p.stdout), list)
    (tmp_path / ".env").write_text(f"ORDERS_API_URL={api.base}\n")
    p = subprocess.run([CLI, "--json", "list", "--limit", "1"], capture_output=True, text=True,
                       env=cli_env(), timeout=30, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr


def test_script_mode(run):
    script = ("# a comment\n"
              "create 'Script Sam' \"Big Box\" --status processing\n"
              "\n"
              "list --status processing --json\n"
              "frobnicate\n"
              "health --json\n")
    p = run(stdin=script)
    assert p.returncode == 2  # the unknown command; the others still ran
    assert "created order" in p.stderr and "unknown command 'frobnicate'" in p.stderr
    assert "Script Sam" in p.stdout and "Big Box" in p.stdout
    p = run(stdin="list --limit 1\nquit\nfrobnicate\n")
    assert p.returncode == 0


# ---------------------------------------------------------------- watch

needs_relay = pytest.mark.skipif(not HAVE_RELAY, reason="orders-relay is not built yet")


@pytest.fixture(scope="module")
def relay(pg):
    if not HAVE_RELAY:
        pytest.skip("orders-relay is not built yet")
    server = RelayServer(pg, env={"PING_INTERVAL": "2s"}).start()
    yield server
    server.stop()
    server.assert_clean()


class Watch:
    """orders-cli watch in the background; stdout lines collected by a thread."""

    def __init__(self, api, relay_url, *args, json_mode=True):
        cmd = [CLI, "--api", api.base, "--relay", relay_url]
        cmd += (["--json"] if json_mode else []) + ["watch"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=cli_env())
        self.lines, self.err = [], []
        self.t1 = threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines))
        self.t2 = threading.Thread(target=self._pump, args=(self.proc.stderr, self.err))
        self.t1.start()
        self.t2.start()

    @staticmethod
    def _pump(f, out):
        for line in f:
            out.append(line.rstrip("\n"))

    def messages(self, type_=None):
        out = [json.loads(l) for l in list(self.lines)]
        return [m for m in out if type_ is None or m.get("type") == type_]

    def changes_for(self, ids):
        return [m for m in self.messages("order_change") if m["data"]["id"] in ids]

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=15)
        self.t1.join(5)
        self.t2.join(5)
        sanitizer_clean("\n".join(self.err))
        return rc


@needs_relay
def test_watch_json_api_and_sql(api, relay, pg, run):
    w = Watch(api, relay.ws_url)
    try:
        wait_until(lambda: w.messages("hello"), timeout=15, what="hello")
        o = create(run, "Watch Api", "Phone")
        run("update", str(o["id"]), "status=shipped")
        rows = pg.sql("INSERT INTO orders (customer_name, product_name) VALUES ('Sql', 'Fax') "
                      "RETURNING id")
        sid = rows[0][0]
        pg.sql("UPDATE orders SET status = 'delivered' WHERE id = %s", (sid,))
        pg.sql("DELETE FROM orders WHERE id = %s", (sid,))
        want = 5
        wait_until(lambda: len(w.changes_for({o["id"], sid})) >= want, timeout=15,
                   what="five changes")
        time.sleep(0.3)
        ch = w.changes_for({o["id"], sid})
        assert [(c["data"]["id"], c["data"]["operation"]) for c in ch] == [
            (o["id"], "INSERT"), (o["id"], "UPDATE"), (sid, "INSERT"), (sid, "UPDATE"),
            (sid, "DELETE")]
        assert ch[1]["old"]["status"] == "pending" and ch[1]["data"]["status"] == "shipped"
        seqs = [c["seq"] for c in ch]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        rc = w.stop()
    assert rc == 0


@needs_relay
def test_watch_human_output(api, relay, run):
    w = Watch(api, relay.ws_url, json_mode=False)
    try:
        wait_until(lambda: any("watching" in l for l in w.err), timeout=15, what="watching")
        o = create(run, "Human Watch", "Kettle")
        run("update", str(o["id"]), "status=processing")
        wait_until(lambda: any("pending -> processing" in l for l in w.lines), timeout=15,
                   what="update line")
        lines = [l for l in w.lines if f"order {o['id']} " in l]
        assert "INSERT" in lines[0] and "Human Watch" in lines[0]
        assert "UPDATE" in lines[1] and "pending -> processing" in lines[1]
    finally:
        rc = w.stop(signal.SIGINT)
    assert rc == 0


@needs_relay
def test_watch_filters_and_since(api, relay, run):
    a = create(run, "Filter A", "Item")
    run("update", str(a["id"]), "status=cancelled")
    p = run("--json", "history", "--limit", "1000")
    first = [e for e in json.loads(p.stdout) if e["data"]["id"] == a["id"]][0]["seq"]
    w = Watch(api, relay.ws_url, "--since", str(first - 1), "--id", str(a["id"]))
    try:
        wait_until(lambda: len(w.changes_for({a["id"]})) >= 2, timeout=15, what="replay")
        run("update", str(a["id"]), "product_name=Other")
        create(run, "Filter B", "Item")  # filtered out by --id
        wait_until(lambda: len(w.changes_for({a["id"]})) >= 3, timeout=15, what="live")
        time.sleep(0.5)
        ops = [m["data"]["operation"] for m in w.messages("order_change")]
        assert ops == ["INSERT", "UPDATE", "UPDATE"]
    finally:
        assert w.stop() == 0


@needs_relay
def test_watch_survives_relay_restart(api, pg, run):
    relay = RelayServer(pg).start()
    w = Watch(api, relay.ws_url)
    second = None
    try:
        wait_until(lambda: w.messages("hello"), timeout=15, what="hello")
        ids = set()
        for i in range(3):
            ids.add(create(run, f"Before {i}", "X")["id"])
        wait_until(lambda: len(w.changes_for(ids)) >= 3, timeout=15, what="first three")
        relay.stop()
        relay.assert_clean()
        # changes while the relay is down: the CLI must catch up with since=
        for i in range(3):
            ids.add(create(run, f"During {i}", "Y")["id"])
        wait_until(lambda: any("lost the relay" in l or "reconnect" in l for l in w.err),
                   timeout=15, what="reconnect notice")
        second = RelayServer(pg, port=relay.port).start()
        for i in range(3):
            ids.add(create(run, f"After {i}", "Z")["id"])
        wait_until(lambda: len(w.changes_for(ids)) >= 9, timeout=30, what="all nine")
        time.sleep(0.5)
        ch = w.changes_for(ids)
        assert len(ch) == 9, [c["seq"] for c in ch]
        seqs = [c["seq"] for c in w.messages("order_change")]
        assert seqs == sorted(set(seqs)), "duplicate or out-of-order event"
        assert any("reconnected" in l for l in w.err), w.err
    finally:
        rc = w.stop()
        if second:
            second.stop()
            second.assert_clean()
    assert rc == 0


@needs_relay
def test_watch_reconnects_when_the_relay_goes_silent(api, pg, run):
    """A relay that keeps the TCP connection but sends nothing (SIGSTOP) is
    noticed by the missing heartbeats; watch reconnects and loses nothing."""
    relay = RelayServer(pg, env={"PING_INTERVAL": "500ms"}).start()
    w = Watch(api, relay.ws_url)
    try:
        wait_until(lambda: w.messages("hello"), timeout=15, what="hello")
        wait_until(lambda: len(w.messages("heartbeat")) >= 3, timeout=10,
                   what="a few heartbeats: the interval is learned")
        relay.proc.send_signal(signal.SIGSTOP)
        oid = create(run, "During silence", "Q")["id"]
        try:
            wait_until(lambda: any("no heartbeat" in l for l in w.err), timeout=10,
                       what="the silence noticed")
        finally:
            relay.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: w.changes_for({oid}), timeout=20, what="the change made meanwhile")
        assert len(w.changes_for({oid})) == 1
    finally:
        rc = w.stop()
        relay.stop()
        relay.assert_clean()
    assert rc == 0


@needs_relay
def test_sigterm_during_watch_ends_script_mode(api, relay):
    """In script mode SIGTERM during watch ends the program (exit 0); the
    next command is not run."""
    proc = subprocess.Popen([CLI, "--api", api.base, "--relay", relay.ws_url],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env())
    proc.stdin.write("watch --json\ncreate Never Run\n")
    proc.stdin.flush()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert '"hello"' in out
    assert "Never" not in out


def serve_raw(answers):
    """A server answering the i-th request with answers[i] (raw bytes) and
    closing; returns its base URL and the server (close it)."""
    srv = Hostile([fixed(a) for a in answers])
    return f"http://127.0.0.1:{srv.port}", srv


def raw_answer(status_line, body):
    return (status_line + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def test_server_text_cannot_drive_the_terminal():
    """The API's error text, the HTTP reason phrase and health's keys and
    values reach the terminal with control characters replaced."""
    evil = "\x1b]0;pwned\x07\x1b[2J"
    body_err = json.dumps({"error": "bad " + evil + " thing"}).encode()
    body_health = json.dumps({"status": "healthy" + evil, "x" + evil: "y\u009b"}).encode()
    base, srv = serve_raw([
        raw_answer(b"HTTP/1.1 400 Bad Request", body_err),
        raw_answer(b"HTTP/1.1 502 Bad\x1b[2JGateway\x07", b"not json"),
        raw_answer(b"HTTP/1.1 200 OK", body_health),
    ])
    outs = []
    try:
        for args in (["get", "1"], ["list"], ["health"]):
            p = subprocess.run([CLI, "--api", base, *args], capture_output=True,
                               env=cli_env(), timeout=30)
            sanitizer_clean(p.stderr.decode(errors="replace"))
            outs.append(p)
    finally:
        srv.close()
        for stream in (p.stdout, p.stderr):
            assert b"\x1b" not in stream and b"\x07" not in stream and b"\xc2\x9b" not in stream, (args, stream)
    assert outs[0].returncode == 1 and b"bad ?]0;pwned??[2J thing" in outs[0].stderr
    assert outs[1].returncode == 1 and b"HTTP 502 Bad?[2JGateway?" in outs[1].stderr
    assert outs[2].returncode == 0 and b"healthy?]0;pwned??[2J" in outs[2].stdout


def test_watch_backs_off_when_the_relay_accepts_then_closes():
    """A relay that completes the handshake, says hello and hangs up must
    not be redialled ten times a second: the backoff grows because no
    attempt stayed up, though each was briefly accepted."""
    accepted = []

    def hello_then_close(req):
        accepted.append(time.monotonic())
        hello = json.dumps({"type": "hello", "seq": 5}).encode()
        return (ws_upgrade(req, b"Sec-WebSocket-Protocol: orders.v1\r\n")
                + bytes([0x81, len(hello)]) + hello)
    srv = Hostile([hello_then_close])
    relay = f"ws://127.0.0.1:{srv.port}"
    p = subprocess.Popen([CLI, "--relay", relay, "watch"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=cli_env())
    try:
        time.sleep(3)
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        srv.close()
    sanitizer_clean(err.decode(errors="replace"))
    assert p.returncode == 0, err
    # 100, 200, 400, 800, 1600 ms apart: 5 or 6 connections in 3 s
    assert 2 <= len(accepted) <= 8, (len(accepted), err.decode()[-2000:])
