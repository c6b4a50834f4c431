"""What the stream tests share: a database of their own for each test in
the session's cluster, migrated as users migrate theirs, and every server a
test starts stopped after it, even when it failed half way (by PID).

A test module imports the fixtures by name (`from isolated import db,
reap_servers`) and starts servers with `start_relay` / `track`."""
import itertools
import os

import pytest

import relay_helpers

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


@pytest.fixture
def db(pg):
    name = f"iso_{os.getpid()}_{next(_names)}"
    pg.sql(f"CREATE DATABASE {name}")
    d = pg.database(name)
    d.migrate()
    yield d
    pg.sql(f"DROP DATABASE {name} WITH (FORCE)")
