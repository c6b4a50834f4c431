"""A connection string built from DB_* that would pass 2 KiB is refused at
start (exit 2, one line naming the variable), never cut short: a string
missing its password would connect as someone else or fail unexplained."""
import os
import subprocess

import pytest

from conftest import BIN_DIR, ROOT, free_port


def run(args, env):
    e = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",) and not k.startswith("DB_")}
    e.update({"WWW_DIR": os.path.join(ROOT, "www"), "SCHEMA_DIR": os.path.join(ROOT, "schema"),
              "PORT": str(free_port()), "WS_PORT": str(free_port()),
              "ASAN_OPTIONS": "detect_leaks=1:exitcode=99",
              "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=98"})
    e.update(env)
    return subprocess.run(args, env=e, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("program", [["orders-api"], ["orders-api", "migrate"], ["orders-relay"]],
                         ids=["api", "migrate", "relay"])
@pytest.mark.parametrize("var", ["DB_PASSWORD", "DB_USER"])
def test_too_long_conninfo_exits_2_naming_variable(program, var, tmp_path):
    secret = "p" * 1000 + "Sup3rSecret" + "q" * 1200
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": "1", var: secret}
    r = run([os.path.join(BIN_DIR, program[0]), *program[1:]], env)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [line for line in r.stderr.splitlines() if var in line]
    assert len(lines) == 1 and "too long" in lines[0], r.stderr
    assert "Sup3rSecret" not in r.stderr
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr


def test_long_but_fitting_password_still_tried(tmp_path):
    # 1500 bytes fit: the program goes on to connect (and fails: port 1)
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": "1", "DB_PASSWORD": "x" * 1500,
           "MIGRATE_WAIT": "100ms"}
    r = run([os.path.join(BIN_DIR, "orders-api"), "migrate"], env)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "too long" not in r.stderr
