"""orders-api start-up: bad configuration exits 2 with one line naming the
variable, --help, .env and flag precedence, a database without the schema."""
import os
import subprocess
import uuid

import psycopg2
import pytest

from conftest import BIN_DIR, ROOT, ApiServer, free_port, http_json, wait_until

API = os.path.join(BIN_DIR, "orders-api")


def run_api(args=(), env=None, cwd=None, timeout=40):
    e = {k: v for k, v in os.environ.items()
         if k not in ("DATABASE_URL", "PORT", "LOG_LEVEL", "API_THREADS", "HOST", "WS_PORT")}
    e["WWW_DIR"] = os.path.join(ROOT, "www")
    e["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=99"
    e["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
    e.update(env or {})
    return subprocess.run([API, *args], env=e, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def error_lines(stderr, name):
    return [line for line in stderr.splitlines() if name in line]


@pytest.mark.parametrize("var,value", [
    ("PORT", "70000"), ("PORT", "0"), ("PORT", "http"), ("LOG_LEVEL", "loud"),
    ("DATABASE_URL", "postgresql://[::1"), ("DATABASE_URL", "host=localhost junk"),
    ("API_THREADS", "0"), ("API_THREADS", "-4"), ("DB_POOL_SIZE", "0"), ("WS_PORT", "99999"),
    ("RELAY_PUBLIC_URL", "http://not-ws"), ("HOST", "a b"), ("DB_PORT", "x"),
])
def test_bad_value_exits_2_naming_variable(pg, var, value, tmp_path):
    env = {"DATABASE_URL": pg.url, "PORT": str(free_port())}
    env[var] = value
    r = run_api(env=env, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = error_lines(r.stderr, var)
    assert len(lines) == 1, r.stderr
    if var != "DATABASE_URL":
        assert value in lines[0], lines
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr


def test_bad_flag_value_and_unknown_flag_exit_2(pg, tmp_path):
    r = run_api(["--port=70000"], env={"DATABASE_URL": pg.url}, cwd=tmp_path)
    assert r.returncode == 2 and len(error_lines(r.stderr, "PORT")) == 1, r.stderr
    r = run_api(["--no-such-flag"], env={"DATABASE_URL": pg.url}, cwd=tmp_path)
    assert r.returncode == 2 and "no-such-flag" in r.stderr, r.stderr
    r = run_api(["stray"], env={"DATABASE_URL": pg.url}, cwd=tmp_path)
    assert r.returncode == 2 and "stray" in r.stderr


def test_database_url_secret_not_printed(tmp_path):
    r = run_api(env={"DATABASE_URL": "postgresql://user:Sup3rSecretPw@[::1/db"}, cwd=tmp_path)
    assert r.returncode == 2
    assert "DATABASE_URL" in r.stderr
    assert "Sup3rSecretPw" not in r.stderr, r.stderr


def test_help_lists_variables(tmp_path):
    r = run_api(["--help"], cwd=tmp_path, env={"PORT": "70000"})  # --help works even with bad env
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for var in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "HOST",
                "PORT", "WS_PORT", "RELAY_PUBLIC_URL", "LOG_LEVEL", "API_THREADS"):
        assert var in out, var
    assert "--port" in out and "--help" in out
    r = run_api(["--version"], cwd=tmp_path)
    assert r.returncode == 0 and "orders-api" in r.stdout


def test_env_file_and_precedence(pg, tmp_path):
    """./.env is read; the environment wins over it; flags win over both."""
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    (tmp_path / ".env").write_text(f"# settings\nexport DATABASE_URL='{pg.url}'\nPORT={p_file}\n")
    runs = [({}, (), p_file), ({"PORT": str(p_env)}, (), p_env),
            ({"PORT": str(p_env)}, (f"--port={p_flag}",), p_flag)]
    for env, args, want in runs:
        e = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT")}
        e.update(env)
        e["LOG_LEVEL"] = "warn"
        e["WWW_DIR"] = os.path.join(ROOT, "www")
        proc = subprocess.Popen([API, *args], env=e, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            wait_until(lambda: proc.poll() is None and
                       http_json("GET", f"http://127.0.0.1:{want}/health")[0] in (200, 503),
                       timeout=20, what=f"api on port {want}")
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err


def make_db(pg, migrations=None):
    name = "empty_" + uuid.uuid4().hex[:8]
    pg.sql(f"CREATE DATABASE {name}")
    url = pg.url.rsplit("/", 1)[0] + "/" + name
    if migrations is not None:
        c = psycopg2.connect(url)
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY)")
            for v in migrations:
                cur.execute("INSERT INTO schema_migrations VALUES (%s)", (v,))
        c.close()
    return name, url


@pytest.mark.parametrize("migrations", [None, [], ["001"]], ids=["fresh", "no-rows", "only-001"])
def test_database_without_schema(pg, tmp_path, migrations):
    name, url = make_db(pg, migrations)
    try:
        r = run_api(env={"DATABASE_URL": url, "PORT": str(free_port()), "LOG_LEVEL": "error"},
                    cwd=tmp_path)
        assert r.returncode != 0
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, r.stderr
        assert "schema" in lines[0] and "setup-db" in lines[0], lines
    finally:
        pg.sql(f"DROP DATABASE {name}")


def test_port_in_use_fails_cleanly(pg, api, tmp_path):
    r = run_api(env={"DATABASE_URL": pg.url, "PORT": str(api.port), "LOG_LEVEL": "error"}, cwd=tmp_path)
    assert r.returncode not in (0, 98, 99) and r.returncode > 0, r.stderr
    assert str(api.port) in r.stderr


def test_sigterm_exits_0(pg):
    a = ApiServer(pg).start()
    assert http_json("GET", a.base + "/health")[0] == 200
    assert a.stop() == 0
    a.assert_clean()


def test_logs_one_line_per_event_no_secrets(pg):
    url = pg.url.replace("postgres@", "postgres:NotTheRealPw1@")
    a = ApiServer(pg, env={"DATABASE_URL": url, "LOG_LEVEL": "debug"}).start()
    http_json("GET", a.base + "/api/orders?limit=1")
    http_json("GET", a.base + "/nope")
    assert a.stop() == 0
    log = a.stderr()
    assert "NotTheRealPw1" not in log
    for line in log.splitlines():
        assert line.strip(), "empty log line"
