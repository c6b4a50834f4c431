"""Programs that run from anywhere: `make install` (DESTDIR, PREFIX) and the
installed programs finding their own www/ and schema/; the api finding the
build tree's www/ or running without one; `orders-api migrate` (concurrent
runs, a failing file, a database that comes up late, config errors, .env
forms through scripts/migrate.sh); `--version`; LOG_FORMAT=json."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BIN_DIR, ROOT, ApiServer, RelayServer, free_port, http, http_json, wait_until
from relay_helpers import Ws

API = os.path.join(BIN_DIR, "orders-api")
SCHEMA = os.path.join(ROOT, "schema")
VERSION_RE = re.compile(r"^orders-(api|relay|cli) \d+\.\d+\.\d+\n$")
DB_VARS = ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
           "WWW_DIR", "SCHEMA_DIR", "LOG_FORMAT", "LOG_LEVEL", "MIGRATE_WAIT")


def schema_files():
    return sorted(f for f in os.listdir(SCHEMA) if re.match(r"^[0-9].*\.sql$", f))


def schema_versions():
    return sorted(f[:-4].split("_", 1)[0] for f in schema_files())


def clean_env(extra=None):
    """The environment without any database or data-folder settings."""
    e = {k: v for k, v in os.environ.items() if k not in DB_VARS}
    e["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=99"
    e["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
    e.update(extra or {})
    return e


def run(argv, env=None, cwd=None, timeout=90):
    return subprocess.run(argv, env=clean_env(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def no_sanitizer_report(text):
    assert "AddressSanitizer" not in text and "runtime error:" not in text, text


@pytest.fixture
def fresh_db(pg):
    """A new empty database on the session cluster; yields (name, url)."""
    made = []

    def make(name=None):
        name = name or "inst_" + uuid.uuid4().hex[:10]
        pg.sql(f'CREATE DATABASE "{name}"')
        made.append(name)
        return name, pg.url.rsplit("/", 1)[0] + "/" + name.replace("#", "%23").replace(" ", "%20")

    yield make
    for name in made:
        pg.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_sql(pg, name, query):
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname=name)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def recorded(pg, name):
    return sorted(r[0] for r in db_sql(pg, name, "SELECT version FROM schema_migrations"))


# ---- make install ----

@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make install DESTDIR=<tmp> PREFIX=/usr` of the binaries under test
    (INSTALL_FROM=$ORDERS_BIN_DIR: nothing is rebuilt)."""
    dest = tmp_path_factory.mktemp("destdir")
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={dest}",
                        "PREFIX=/usr", f"INSTALL_FROM={BIN_DIR}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return str(dest) + "/usr"


def test_install_layout(installed):
    for p in ("orders-api", "orders-relay", "orders-cli"):
        path = os.path.join(installed, "bin", p)
        assert os.path.isfile(path) and os.stat(path).st_mode & 0o777 == 0o755, path
    share = os.path.join(installed, "share", "orders")
    assert sorted(os.listdir(os.path.join(share, "schema"))) == schema_files()
    for f in schema_files():
        with open(os.path.join(SCHEMA, f), "rb") as a, open(os.path.join(share, "schema", f), "rb") as b:
            assert a.read() == b.read(), f
    want = set()
    for d, dirs, files in os.walk(os.path.join(ROOT, "www")):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        want |= {os.path.relpath(os.path.join(d, f), os.path.join(ROOT, "www"))
                 for f in files if not f.startswith(".")}
    got = set()
    for d, _, files in os.walk(os.path.join(share, "www")):
        got |= {os.path.relpath(os.path.join(d, f), os.path.join(share, "www")) for f in files}
    assert got == want


@pytest.mark.parametrize("prog", ["orders-api", "orders-relay", "orders-cli"])
def test_man_pages(installed, prog):
    page = os.path.join(installed, "share", "man", "man1", prog + ".1")
    assert os.path.getsize(page) > 500
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="100"),
                           timeout=30)
        assert r.returncode == 0, r.stderr
        assert "SYNOPSIS" in r.stdout and "EXIT STATUS" in r.stdout
        assert r.stderr.strip() == "", r.stderr
    # every environment variable of --help is documented, with its default
    helps = [[]] if prog != "orders-api" else [[], ["migrate"]]
    text = open(page, encoding="utf-8").read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
    for extra in helps:
        out = run([os.path.join(installed, "bin", prog), *extra, "--help"]).stdout
        for m in re.finditer(r"^  --\S+\s+([A-Z][A-Z0-9_]+)\s.*?(?:\(default ([^)]*)\))?$", out, re.M):
            var, default = m.group(1), m.group(2)
            assert var in text, f"{var} missing from {prog}.1"
            if default and " " not in default:
                assert default in text, f"{var} default {default} missing from {prog}.1"


@pytest.mark.parametrize("prog", ["orders-api", "orders-relay", "orders-cli"])
def test_version(installed, prog, tmp_path):
    for path in (os.path.join(installed, "bin", prog), os.path.join(BIN_DIR, prog)):
        r = run([path, "--version"], cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert VERSION_RE.match(r.stdout) and r.stdout.startswith(prog + " "), r.stdout
        assert r.stderr == ""
    r = run([os.path.join(installed, "bin", "orders-api"), "migrate", "--version"], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("orders-api ")


def test_installed_programs_run_from_anywhere(installed, pg, fresh_db, tmp_path):
    name, url = fresh_db()
    bindir = os.path.join(installed, "bin")
    r = run([os.path.join(bindir, "orders-api"), "migrate"], env={"DATABASE_URL": url,
                                                                  "LOG_LEVEL": "debug"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    share = os.path.join(installed, "share", "orders")
    assert f"schema folder {share}/schema" in r.stderr, r.stderr
    for f in schema_files():
        assert f"migrate: applied {f}" in r.stderr, r.stderr
    assert recorded(pg, name) == schema_versions()
    no_sanitizer_report(r.stderr)

    relay = RelayServer(pg, env={"DATABASE_URL": url})
    relay.name = os.path.join(bindir, "orders-relay")  # absolute: os.path.join keeps it
    api = ApiServer(pg, env={"DATABASE_URL": url, "WS_PORT": str(relay.port)})
    api.name = os.path.join(bindir, "orders-api")
    del api.env["WWW_DIR"]
    relay.start()
    api.start()
    try:
        st, hdrs, body = http("GET", api.base + "/")
        assert st == 200 and hdrs["content-type"].startswith("text/html")
        with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
            assert body == f.read()
        assert f"web UI from {share}/www" in api.stderr()
        st, _, orders = http_json("GET", api.base + "/api/orders")
        assert st == 200 and orders == []
        st, _, created = http_json("POST", api.base + "/api/orders",
                                   {"customer_name": "Installed", "product_name": "Thing"})
        assert st == 201, created
        ws = Ws(relay.ws_url + "?since=0")
        try:
            hello = ws.recv()
            assert hello["type"] == "hello" and hello["server"].startswith("orders-relay ")
            ev = ws.events(1)[0]
            assert ev["data"]["id"] == created["id"]
        finally:
            ws.close()
    finally:
        rc_api, rc_relay = api.stop(), relay.stop()
    api.assert_clean()
    relay.assert_clean()
    assert rc_api == 0 and rc_relay == 0


def test_uninstall(tmp_path):
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={tmp_path}",
                        f"INSTALL_FROM={BIN_DIR}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(tmp_path / "usr/local/bin/orders-api")  # PREFIX defaults to /usr/local
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "uninstall",
                        f"DESTDIR={tmp_path}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    left = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files]
    assert left == []


# ---- the api's web UI files ----

def test_api_finds_the_build_tree_www(pg):
    if not os.path.realpath(BIN_DIR).startswith(os.path.realpath(ROOT) + os.sep):
        pytest.skip("the binaries under test are not in this checkout's build tree")
    api = ApiServer(pg)
    del api.env["WWW_DIR"]
    assert not os.path.exists(os.path.join(api.cwd, "www"))
    api.start()
    try:
        st, _, body = http("GET", api.base + "/")
        assert st == 200
        with open(os.path.join(ROOT, "www", "index.html"), "rb") as f:
            assert body == f.read()
        assert f"web UI from {os.path.realpath(ROOT)}/www" in api.stderr()
    finally:
        rc = api.stop()
    api.assert_clean()
    assert rc == 0


def test_api_without_www_serves_the_rest(pg):
    api = ApiServer(pg, env={"WWW_DIR": "/nonexistent"}).start()
    try:
        assert http_json("GET", api.base + "/api/orders")[0] == 200
        assert http_json("GET", api.base + "/health")[0] == 200
        st, hdrs, body = http_json("GET", api.base + "/")
        assert st == 404 and hdrs["content-type"].startswith("application/json")
        assert body["code"] == "not_found"
        warn = [line for line in api.stderr().splitlines() if "WARN" in line and "web UI" in line]
        assert len(warn) == 1 and "WWW_DIR" in warn[0] and "/nonexistent" in warn[0], api.stderr()
    finally:
        rc = api.stop()
    api.assert_clean()
    assert rc == 0


# ---- LOG_FORMAT ----

def assert_json_lines(text, program):
    lines = text.splitlines()
    assert lines, "no log lines"
    for line in lines:
        obj = json.loads(line)
        assert set(obj) == {"time", "level", "program", "msg"}, line
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["time"]), line
        assert obj["level"] in ("debug", "info", "warn", "error"), line
        assert obj["program"] == program, line
        assert isinstance(obj["msg"], str)
    return [json.loads(line) for line in lines]


def test_log_format_json(pg, fresh_db, tmp_path):
    api = ApiServer(pg, env={"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}).start()
    http_json("GET", api.base + "/api/orders?limit=1")
    http("GET", api.base + '/no"such\\path')  # logged with a quote and a backslash
    assert api.stop() == 0
    api.assert_clean()
    objs = assert_json_lines(api.stderr(), "orders-api")
    assert any(o["msg"].startswith("listening on http://") for o in objs)
    assert any(o["msg"] == "stopped" for o in objs)

    relay = RelayServer(pg, env={"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}).start()
    assert relay.stop() == 0
    relay.assert_clean()
    assert_json_lines(relay.stderr(), "orders-relay")

    _, url = fresh_db()
    r = run([API, "migrate"], env={"DATABASE_URL": url, "LOG_FORMAT": "json"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    objs = assert_json_lines(r.stderr, "orders-api")
    assert [o["msg"] for o in objs] == [f"applied {f}" for f in schema_files()]


@pytest.mark.parametrize("argv", [["orders-api"], ["orders-relay"], ["orders-api", "migrate"]])
def test_log_format_bad_value_exits_2(pg, argv, tmp_path):
    r = run([os.path.join(BIN_DIR, argv[0]), *argv[1:]],
            env={"DATABASE_URL": pg.url, "LOG_FORMAT": "xml"}, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if "LOG_FORMAT" in line]
    assert len(lines) == 1 and "xml" in lines[0], r.stderr


# ---- orders-api migrate ----

def test_concurrent_migrators_apply_each_file_once(pg, fresh_db, tmp_path):
    name, url = fresh_db()
    procs = [subprocess.Popen([API, "migrate"], env=clean_env({"DATABASE_URL": url}), cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    errs = []
    for p in procs:
        _, err = p.communicate(timeout=90)
        assert p.returncode == 0, err
        no_sanitizer_report(err)
        errs.append(err)
    everything = "".join(errs)
    for f in schema_files():
        assert everything.count(f"migrate: applied {f}\n") == 1, everything
    rows = db_sql(pg, name, "SELECT version, count(*) FROM schema_migrations GROUP BY version")
    assert sorted(v for v, _ in rows) == schema_versions() and all(n == 1 for _, n in rows)
    r = run([API, "migrate"], env={"DATABASE_URL": url}, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "migrate: schema up to date\n", r.stderr


def test_failing_migration_keeps_nothing(pg, fresh_db, tmp_path):
    name, url = fresh_db()
    schema = tmp_path / "schema"
    schema.mkdir()
    for f in schema_files():
        shutil.copy(os.path.join(SCHEMA, f), schema / f)
    broken = schema / "900_broken.sql"
    broken.write_text("CREATE TABLE half_applied (x int);\n"
                      "INSERT INTO half_applied VALUES (1);\n"
                      "SELEC 'typo';\n")
    (schema / "901_after.sql").write_text("CREATE TABLE after_broken (x int);\n")
    (schema / "README").write_text("not a migration\n")
    r = run([API, "migrate", f"--schema-dir={schema}"], env={"DATABASE_URL": url}, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    no_sanitizer_report(r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    assert "900_broken.sql" in last and "syntax error" in last, r.stderr
    assert last.startswith("migrate: cannot apply 900_broken.sql: ERROR:"), last
    assert recorded(pg, name) == schema_versions()  # the earlier files stay applied
    assert db_sql(pg, name, "SELECT to_regclass('half_applied'), to_regclass('after_broken')") \
        == [(None, None)]
    # fixed, it applies from there on
    broken.write_text("CREATE TABLE half_applied (x int);\n")
    r = run([API, "migrate"], env={"DATABASE_URL": url, "SCHEMA_DIR": str(schema)}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "migrate: applied 900_broken.sql\nmigrate: applied 901_after.sql\n"
    assert recorded(pg, name) == schema_versions() + ["900", "901"]


def test_migrate_config_errors_exit_2(pg, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [({"SCHEMA_DIR": "/nonexistent"}, (), "SCHEMA_DIR"),
             ({"SCHEMA_DIR": str(empty)}, (), "SCHEMA_DIR"),
             ({"MIGRATE_WAIT": "soon"}, (), "MIGRATE_WAIT"),
             ({}, ("--port=3000",), "--port"),
             ({}, ("extra",), "extra")]
    for env, args, word in cases:
        r = run([API, "migrate", *args], env=dict(env, DATABASE_URL=pg.url), cwd=tmp_path)
        assert r.returncode == 2, (env, args, r.stderr)
        assert word in r.stderr.splitlines()[0], r.stderr
        no_sanitizer_report(r.stderr)


def test_migrate_unreachable_database_exits_1(tmp_path):
    t0 = time.monotonic()
    r = run([API, "migrate"], env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x",
                                   "MIGRATE_WAIT": "1s", "LOG_LEVEL": "error"}, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert time.monotonic() - t0 < 15
    assert r.stderr.startswith("migrate: cannot connect to the database"), r.stderr
    no_sanitizer_report(r.stderr)


def forward(listen_port, target_port, stop):
    """A TCP forwarder 127.0.0.1:listen_port -> target_port until stop is set."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(16)
    srv.settimeout(0.2)

    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    while not stop.is_set():
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        t = socket.create_connection(("127.0.0.1", target_port))
        threading.Thread(target=pipe, args=(c, t), daemon=True).start()
        threading.Thread(target=pipe, args=(t, c), daemon=True).start()
    srv.close()


def test_migrate_waits_for_a_database_that_comes_up(pg, fresh_db, tmp_path):
    """compose starts the migrate step with the database: it retries."""
    name, _ = fresh_db()
    port = free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/{name}"
    proc = subprocess.Popen([API, "migrate"], env=clean_env({"DATABASE_URL": url}), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    try:
        time.sleep(2.0)
        assert proc.poll() is None, proc.stderr.read()
        threading.Thread(target=forward, args=(port, pg.port, stop), daemon=True).start()
        _, err = proc.communicate(timeout=60)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "retrying" in err and "migrate: applied 001_orders.sql" in err, err
    assert recorded(pg, name) == schema_versions()


# ---- scripts/migrate.sh and .env ----

def migrate_sh(cwd, env=None):
    e = {"ORDERS_BIN_DIR": BIN_DIR}
    e.update(env or {})
    return run([os.path.join(ROOT, "scripts", "migrate.sh")], env=e, cwd=cwd)


def test_migrate_sh_reads_export_database_url_from_env_file(pg, fresh_db, tmp_path):
    name, url = fresh_db()
    (tmp_path / ".env").write_text(
        "# the database\n"
        "\n"
        f"export DATABASE_URL={url}\n"
        "LOG_LEVEL=info # a comment\n"
        "UNRELATED=\"quoted # not a comment\"\n"
        "OTHER='x'\n")
    r = migrate_sh(tmp_path)
    assert r.returncode == 0, r.stderr
    assert recorded(pg, name) == schema_versions()
    r = migrate_sh(tmp_path)
    assert r.returncode == 0 and r.stderr == "migrate: schema up to date\n", r.stderr


def test_migrate_sh_env_file_forms_and_precedence(pg, fresh_db, tmp_path):
    # a database name that only survives if a quoted " # " is not a comment
    odd, _ = fresh_db("inst odd # name " + uuid.uuid4().hex[:6])
    (tmp_path / ".env").write_text(
        "   # an indented comment\n"
        "\n"
        "export DB_HOST='127.0.0.1'\n"
        f"DB_PORT={pg.port} # the test cluster\n"
        f"DB_NAME=\"{odd}\"\n"
        "DB_USER=postgres\n")
    r = migrate_sh(tmp_path)
    assert r.returncode == 0, r.stderr
    assert recorded(pg, odd) == schema_versions()

    # a variable already set in the environment wins over .env
    other, _ = fresh_db()
    r = migrate_sh(tmp_path, env={"DB_NAME": other})
    assert r.returncode == 0, r.stderr
    assert "applied 001_orders.sql" in r.stderr
    assert recorded(pg, other) == schema_versions()

    # a bad line is a configuration error, not a silent fallback
    (tmp_path / ".env").write_text("DB_PORT=5432\nthis is not a setting\n")
    r = migrate_sh(tmp_path)
    assert r.returncode == 2 and ".env:2" in r.stderr, r.stderr


def test_migrate_sh_falls_back_to_the_private_cluster(pg, tmp_path):
    # nothing configured: scripts/pg.sh url names the cluster (here: PG_DIR's)
    r = migrate_sh(tmp_path, env={"PG_DIR": pg.dir})
    assert r.returncode == 0, r.stderr
    assert r.stderr == "migrate: schema up to date\n", r.stderr
    # an empty value does not count as configured
    (tmp_path / ".env").write_text("DATABASE_URL=\nDB_HOST=\n")
    r = migrate_sh(tmp_path, env={"PG_DIR": pg.dir})
    assert r.returncode == 0 and r.stderr == "migrate: schema up to date\n", r.stderr
    # --if-configured by itself
    r = run([API, "migrate", "--if-configured"], cwd=tmp_path)
    assert r.returncode == 3 and r.stderr == "", r.stderr
