"""Access control on orders-api (CONTRACT section 6): tokens and origins."""
import pytest

from conftest import ApiServer, Program, http, http_json
from helpers_api import unique

WRITE = "write-token-0123456789"
READ = "read.only_token~-4567"


def bearer(t):
    return {"Authorization": f"Bearer {t}"}


def body():
    return {"customer_name": unique("auth"), "product_name": "p"}


@pytest.fixture(scope="module")
def write_only(pg):
    s = ApiServer(pg, env={"API_TOKEN": WRITE}).start()
    yield s
    assert s.stop() == 0
    s.assert_clean()


@pytest.fixture(scope="module")
def read_and_write(pg):
    s = ApiServer(pg, env={"API_TOKEN": WRITE, "READ_TOKEN": READ,
                           "ALLOWED_ORIGINS": "https://shop.example, http://localhost:5173"}).start()
    yield s
    assert s.stop() == 0
    s.assert_clean()


def test_open_api_warns_once(api):
    warnings = [l for l in api.stderr().splitlines() if "API_TOKEN" in l]
    assert len(warnings) == 1 and "WARN" in warnings[0]


def test_writes_need_api_token(write_only, pg):
    before = pg.sql("SELECT count(*) FROM orders")[0][0]
    st, hdrs, data = http_json("POST", write_only.base + "/api/orders", body())
    assert st == 401 and data["code"] == "unauthorized"
    assert hdrs["www-authenticate"].startswith("Bearer")
    st, _, data = http_json("POST", write_only.base + "/api/orders", body(), bearer("x" * 20))
    assert st == 401 and data["code"] == "unauthorized"
    st, _, data = http_json("POST", write_only.base + "/api/orders", body(), {"Authorization": WRITE})
    assert st == 401
    assert pg.sql("SELECT count(*) FROM orders")[0][0] == before
    st, _, created = http_json("POST", write_only.base + "/api/orders", body(), bearer(WRITE))
    assert st == 201
    for method, extra in (("PATCH", {"status": "shipped"}), ("PUT", {"status": "delivered"})):
        st, _, _ = http_json(method, f"{write_only.base}/api/orders/{created['id']}", extra)
        assert st == 401
    st, _, _ = http_json("DELETE", f"{write_only.base}/api/orders/{created['id']}")
    assert st == 401
    st, _, _ = http_json("DELETE", f"{write_only.base}/api/orders/{created['id']}", None, bearer(WRITE))
    assert st == 200


def test_reads_open_without_read_token(write_only):
    assert http("GET", write_only.base + "/api/orders?limit=1")[0] == 200
    assert http("GET", write_only.base + "/api/changes?since=0&limit=1")[0] == 200


def test_read_token_guards_reads_and_cannot_write(read_and_write):
    base = read_and_write.base
    for path in ("/api/orders?limit=1", "/api/changes?since=0&limit=1"):
        st, _, data = http_json("GET", base + path)
        assert st == 401 and data["code"] == "unauthorized"
        assert http("GET", base + path, headers=bearer(READ))[0] == 200
        assert http("GET", base + path, headers=bearer(WRITE))[0] == 200
        assert http("GET", base + path, headers=bearer(READ + "x"))[0] == 401
    st, _, data = http_json("POST", base + "/api/orders", body(), bearer(READ))
    assert st == 403 and data["code"] == "forbidden"


def test_health_metrics_and_page_never_need_a_token(read_and_write):
    base = read_and_write.base
    assert http("GET", base + "/health")[0] == 200
    assert http("GET", base + "/metrics")[0] == 200
    assert http("GET", base + "/api/config")[0] == 200
    assert http("GET", base + "/")[0] == 200


def test_cors_allowed_origins(read_and_write):
    base = read_and_write.base
    st, hdrs, _ = http("GET", base + "/health", headers={"Origin": "https://shop.example"})
    assert hdrs.get("access-control-allow-origin") == "https://shop.example"
    st, hdrs, _ = http("GET", base + "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in hdrs
    st, hdrs, _ = http("OPTIONS", base + "/api/orders", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
    assert st == 204
    assert hdrs["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in hdrs["access-control-allow-methods"]
    assert "Authorization" in hdrs["access-control-allow-headers"]


def test_cors_default_is_same_host_any_port(api):
    st, hdrs, _ = http("GET", api.base + "/health", headers={"Origin": "http://127.0.0.1:9999"})
    assert hdrs.get("access-control-allow-origin") == "http://127.0.0.1:9999"
    st, hdrs, _ = http("GET", api.base + "/health", headers={"Origin": "http://attacker.test"})
    assert "access-control-allow-origin" not in hdrs
    # no Origin: not a browser, not affected
    st, hdrs, _ = http("GET", api.base + "/api/orders?limit=1")
    assert st == 200 and "access-control-allow-origin" not in hdrs


def test_tokens_never_logged(read_and_write):
    http("GET", read_and_write.base + "/api/orders?limit=1", headers=bearer(READ))
    http_json("POST", read_and_write.base + "/api/orders", body(), bearer(WRITE))
    log = read_and_write.stderr()
    assert WRITE not in log and READ not in log


@pytest.mark.parametrize("env, word", [
    ({"API_TOKEN": "short"}, "API_TOKEN"),
    ({"API_TOKEN": "has spaces in the token!!"}, "API_TOKEN"),
    ({"API_TOKEN": "x" * 257}, "API_TOKEN"),
    ({"API_TOKEN": WRITE, "READ_TOKEN": "bad token with spaces"}, "READ_TOKEN"),
    ({"READ_TOKEN": READ}, "READ_TOKEN"),
    ({"API_TOKEN": WRITE, "READ_TOKEN": WRITE}, "READ_TOKEN"),
    ({"ALLOWED_ORIGINS": "shop.example"}, "ALLOWED_ORIGINS"),
    ({"ALLOWED_ORIGINS": "https://shop.example/path"}, "ALLOWED_ORIGINS"),
])
def test_bad_access_settings_exit_2(pg, env, word):
    s = ApiServer(pg, env=env)
    Program.start(s)
    rc = s.proc.wait(timeout=20)
    s.log.close()
    err = s.stderr()
    assert rc == 2, err
    first = err.strip().splitlines()[0]
    assert word in first
    for secret in (WRITE, READ):
        assert secret not in err


def test_empty_token_means_open(pg):
    """API_TOKEN= (empty, as .env files often have it) runs open, with the warning."""
    s = ApiServer(pg, env={"API_TOKEN": "", "READ_TOKEN": ""}).start()
    try:
        st, _, _ = http_json("POST", s.base + "/api/orders", body())
        assert st == 201
    finally:
        assert s.stop() == 0
    assert "no API_TOKEN set" in s.stderr()


def test_database_url_settings_kept(pg):
    """application_name and options in DATABASE_URL are the user's; UTC is added."""
    url = pg.url + "?application_name=orders-custom&options=-c%20statement_timeout%3D12345"
    s = ApiServer(pg, env={"DATABASE_URL": url}).start()
    try:
        assert http("GET", s.base + "/api/orders?limit=1")[0] == 200
        rows = pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orders-custom'")
        assert rows[0][0] >= 1
        st, _, created = http_json("POST", s.base + "/api/orders", body())
        assert created["created_at"].endswith("+00:00")
    finally:
        assert s.stop() == 0
