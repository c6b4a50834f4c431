"""What the stream tests share: a database of their own for each test in
the session's cluster, migrated as users migrate theirs, and every server a
test starts stopped after it, even when it failed half way (by PID).

A test module imports the fixtures by name (`from isolated import db,
reap_servers`) and starts servers with `start_relay` / `track`."""
import itertools
import os
import subprocess

import psycopg2
import pytest

import relay_helpers
from conftest import ROOT

_started = []
_names = itertools.count(1)


def track(prog):
    """Stop prog (a conftest Program) after the test if it still runs."""
    _started.append(prog)
    return prog


def start_relay(*args, **kwargs):
    return track(relay_helpers.start_relay(*args, **kwargs))


@pytest.fixture(autouse=True)
def reap_servers():
    yield
    while _started:
        prog = _started.pop()
        if prog.proc is not None and prog.proc.poll() is None:
            prog.proc.kill()
            prog.proc.wait()


class Db:
    """One database of the session's cluster, with the Postgres fixture's
    interface (url, app_url, sql, connect) so servers can run on it."""

    def __init__(self, pg, name):
        self.pg = pg
        self.name = name
        self.port = pg.port
        base = f"127.0.0.1:{pg.port}/{name}"
        self.url = f"postgresql://postgres@{base}"
        self.app_url = f"postgresql://orders_app@{base}"

    def migrate(self):
        subprocess.run([os.path.join(ROOT, "scripts", "migrate.sh")], check=True,
                       capture_output=True, env=dict(os.environ, DATABASE_URL=self.url))

    def connect(self, autocommit=True):
        conn = psycopg2.connect(self.url)
        conn.autocommit = autocommit
        return conn

    def sql(self, query, params=None):
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture
def db(pg):
    name = f"iso_{os.getpid()}_{next(_names)}"
    pg.sql(f"CREATE DATABASE {name}")
    d = Db(pg, name)
    d.migrate()
    yield d
    pg.sql(f"DROP DATABASE {name} WITH (FORCE)")
