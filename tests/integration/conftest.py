"""Shared fixtures: a throwaway PostgreSQL and the real binaries on loopback.

Every integration test drives the programs as users do: HTTP, WebSocket,
the CLI. Nothing is mocked. Binaries come from $ORDERS_BIN_DIR (build/ or
build/san for `make asan test`).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import psycopg2
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("ORDERS_BIN_DIR", os.path.join(ROOT, "build"))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Postgres:
    """A private cluster started with scripts/pg.sh in a temp dir; url,
    app_url, sql and connect reach its database `dbname`."""

    dbname = "realtime_orders"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="orders-pg-")
        self.port = None

    def database(self, name):
        """The same cluster seen through another of its databases (which
        the caller creates and drops)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.dbname = name
        return other

    def start(self):
        out = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", self.dir],
                             check=True, capture_output=True, text=True,
                             env=dict(os.environ, PG_PORT=str(self.port or "")) if self.port else None)
        self.port = int(out.stdout.strip().splitlines()[-1])
        return self

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.dir],
                       check=False, capture_output=True)

    def restart(self, down_seconds=0.0):
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        """The superuser: migrations and test set-up."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    @property
    def app_url(self):
        """The least-privilege role of schema/004 that api and relay run under."""
        return f"postgresql://orders_app@127.0.0.1:{self.port}/{self.dbname}"

    def migrate(self):
        # migrate.sh runs `orders-api migrate` of the binaries under test
        subprocess.run([os.path.join(ROOT, "scripts", "migrate.sh")], check=True,
                       capture_output=True,
                       env=dict(os.environ, DATABASE_URL=self.url, ORDERS_BIN_DIR=BIN_DIR))

    def connect(self, autocommit=True):
        conn = psycopg2.connect(self.url)
        conn.autocommit = autocommit
        return conn

    def sql(self, query, params=None):
        """Run one statement in its own transaction; return rows (or [])."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture(scope="session")
def pg():
    p = Postgres().start()
    p.migrate()
    yield p
    p.destroy()


class Program:
    """A real binary started on loopback; stderr goes to a log file that is
    checked for sanitizer reports when the program stops."""

    def __init__(self, name, args=(), env=None, cwd=None):
        self.name = name
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.setdefault("LOG_LEVEL", "debug")
        self.env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=99"
        self.env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
        if env:
            self.env.update(env)
        self.cwd = cwd or tempfile.mkdtemp(prefix=f"{name}-cwd-")
        self.log_path = os.path.join(tempfile.mkdtemp(prefix=f"{name}-log-"), "stderr.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN_DIR, self.name)] + self.args,
                                     env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stop by PID; return the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop within {timeout}s")
        self.log.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def assert_clean(self):
        text = self.stderr()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in text, f"{self.name} sanitizer report:\n{text[-6000:]}"


def http(method, url, body=None, headers=None, raw=None, timeout=10):
    """One HTTP request; returns (status, headers dict (lowercase), body bytes)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {}
    if body is not None and raw is None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def http_json(method, url, body=None, headers=None, raw=None):
    status, hdrs, data = http(method, url, body, headers, raw)
    return status, hdrs, (json.loads(data) if data else None)


class ApiServer(Program):
    def __init__(self, pg, env=None, args=()):
        self.port = free_port()
        e = {"DATABASE_URL": pg.app_url, "PORT": str(self.port), "HOST": "127.0.0.1",
             "WWW_DIR": os.path.join(ROOT, "www"), "WS_PORT": str(free_port())}
        e.update(env or {})
        super().__init__("orders-api", args=args, env=e)
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        wait_until(lambda: self._up(), timeout=20, what="orders-api to answer")
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"orders-api exited {self.proc.returncode}:\n{self.stderr()}")
        try:
            http("GET", self.base + "/health", timeout=2)
            return True
        except OSError:
            return False


class RelayServer(Program):
    def __init__(self, pg, env=None, args=(), port=None):
        self.port = port or free_port()
        e = {"DATABASE_URL": pg.app_url, "WS_PORT": str(self.port), "HOST": "127.0.0.1"}
        e.update(env or {})
        super().__init__("orders-relay", args=args, env=e)
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/"

    def start(self):
        super().start()
        wait_until(lambda: self._up(), timeout=20, what="orders-relay to answer")
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"orders-relay exited {self.proc.returncode}:\n{self.stderr()}")
        try:
            http("GET", self.base + "/health", timeout=2)
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def api(pg):
    server = ApiServer(pg).start()
    yield server
    rc = server.stop()
    server.assert_clean()
    assert rc == 0, f"orders-api exit code {rc}:\n{server.stderr()[-3000:]}"
