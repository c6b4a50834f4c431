"""PostgreSQL restarts (503 while down, recovery without restarting the api),
200 concurrent requests, graceful shutdown."""
import concurrent.futures
import signal
import threading
import time

import pytest

from conftest import ApiServer, http, http_json, wait_until
from helpers_api import start_private_pg, unique


@pytest.fixture(scope="module")
def own_pg():
    """A private cluster: restarting it must not disturb other modules."""
    p = start_private_pg()
    yield p
    p.destroy()


@pytest.fixture
def own_api(own_pg):
    a = ApiServer(own_pg).start()
    yield a
    rc = a.stop()
    a.assert_clean()
    assert rc == 0, a.stderr()[-3000:]


def test_restart_503_then_recovers(own_pg, own_api):
    a = own_api
    st, _, o = http_json("POST", a.base + "/api/orders", {"customer_name": unique("r"), "product_name": "p"})
    assert st == 201
    own_pg.stop()
    for method, path, body in (("GET", f"/api/orders/{o['id']}", None), ("GET", "/api/orders", None),
                               ("POST", "/api/orders", {"customer_name": "down", "product_name": "p"}),
                               ("PATCH", f"/api/orders/{o['id']}", {"status": "shipped"}),
                               ("GET", "/api/changes", None)):
        t0 = time.time()
        st, hdrs, resp = http_json(method, a.base + path, body)
        assert st == 503, (method, path, st, resp)
        assert resp["code"] == "database_unavailable"
        assert time.time() - t0 < 8, "a request while the database is down took too long"
    own_pg.start()
    wait_until(lambda: http("GET", f"{a.base}/api/orders/{o['id']}")[0] == 200, timeout=30,
               what="GET to succeed after the restart")
    st, _, o2 = http_json("POST", a.base + "/api/orders", {"customer_name": unique("after"), "product_name": "p"})
    assert st == 201
    assert own_pg.sql("SELECT count(*) FROM orders WHERE customer_name = 'down'") == [(0,)]


def test_no_spurious_503_after_database_is_back(own_pg, own_api):
    """Once the database is back, writes on every pooled connection succeed:
    connections broken by the restart must not each fail one more request."""
    a = own_api

    def burst(n):
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
            futs = [ex.submit(http_json, "POST", a.base + "/api/orders",
                              {"customer_name": unique("burst"), "product_name": "p"}) for _ in range(n)]
            return [f.result()[0] for f in futs]

    # open every pool connection (default pool of 8)
    assert set(burst(32)) == {201}
    own_pg.restart()
    wait_until(lambda: http("GET", a.base + "/api/orders?limit=1")[0] == 200, timeout=30,
               what="API to answer again")
    codes = burst(32)
    assert codes.count(201) == 32, f"writes failed after the database was back: {sorted(codes)}"


def test_200_concurrent_requests(own_pg, own_api):
    a = own_api
    tag = unique("conc")
    barrier = threading.Barrier(200, timeout=30)

    def one(i):
        barrier.wait()
        if i % 4 == 0:
            return http_json("POST", a.base + "/api/orders", {"customer_name": f"{tag}-{i}", "product_name": "p"},
                             )[0]
        if i % 4 == 1:
            return http("GET", a.base + "/api/orders?limit=50", timeout=30)[0]
        if i % 4 == 2:
            return http("GET", a.base + "/api/changes?limit=50", timeout=30)[0]
        return http("GET", a.base + "/health", timeout=30)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
        codes = list(ex.map(one, range(200)))
    assert all(c == 200 or c == 201 for c in codes), sorted(set(codes))
    assert own_pg.sql("SELECT count(*) FROM orders WHERE customer_name LIKE %s", (tag + "-%",)) == [(50,)]
    assert a.proc.poll() is None
    assert http("GET", a.base + "/health")[0] == 200


def test_graceful_shutdown_finishes_in_flight_request(own_pg):
    a = ApiServer(own_pg).start()
    st, _, o = http_json("POST", a.base + "/api/orders", {"customer_name": unique("g"), "product_name": "p"})
    lock = own_pg.connect(autocommit=False)
    result = {}
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT 1 FROM orders WHERE id = %s FOR UPDATE", (o["id"],))
        # this request blocks on the row lock
        def patch():
            try:
                result["r"] = http_json("PATCH", f"{a.base}/api/orders/{o['id']}", {"status": "shipped"})
            except Exception as e:  # noqa: BLE001 - reported below
                result["r"] = (repr(e), None, None)
        t = threading.Thread(target=patch)
        t.start()
        wait_until(lambda: own_pg.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0][0] >= 1,
            timeout=10, what="the PATCH to wait on the lock")
        a.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert a.proc.poll() is None, "exited with a request in flight"
    finally:
        lock.commit()
        lock.close()
    t.join(15)
    stored = own_pg.sql("SELECT status FROM orders WHERE id = %s", (o["id"],))[0][0]
    assert result["r"][0] == 200, (result, "status in the database:", stored, a.stderr()[-1500:])
    assert result["r"][2]["status"] == "shipped"
    rc = a.stop()
    a.assert_clean()
    assert rc == 0
    # nothing listens any more
    with pytest.raises(OSError):
        http("GET", a.base + "/health", timeout=2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero(own_pg, sig):
    a = ApiServer(own_pg).start()
    assert http("GET", a.base + "/health")[0] == 200
    t0 = time.time()
    rc = a.stop(sig=sig, timeout=10)
    assert rc == 0, a.stderr()[-2000:]
    assert time.time() - t0 < 10
    a.assert_clean()
