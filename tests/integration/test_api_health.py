"""/health (healthy with a relay, degraded without, unhealthy 503 without the
database) and /metrics (Prometheus text, counts by route and status)."""
from conftest import ApiServer, RelayServer, http, http_json, wait_until
from helpers_api import ISO_TZ, JSON_CT, create, metric_value, start_private_pg


def check_health_shape(body):
    assert set(body) >= {"status", "timestamp", "connectedClients", "database"}, body
    assert ISO_TZ.match(body["timestamp"]), body


def test_health_degraded_without_relay(api):
    st, hdrs, body = http_json("GET", api.base + "/health")
    assert st == 200
    assert hdrs["content-type"] == JSON_CT
    check_health_shape(body)
    assert body["status"] == "degraded"
    assert body["connectedClients"] is None
    assert body["database"] == "connected"


def test_health_reports_relay_clients(pg):
    """connectedClients is the real relay's count of WebSocket clients."""
    from relay_helpers import Ws
    relay = RelayServer(pg).start()
    a = ApiServer(pg, env={"WS_PORT": str(relay.port)}).start()
    clients = []
    try:
        st, _, body = http_json("GET", a.base + "/health")
        assert st == 200, body
        check_health_shape(body)
        assert body["status"] == "healthy" and body["database"] == "connected"
        assert body["connectedClients"] == 0
        for _ in range(2):
            ws = Ws(relay.ws_url)
            ws.recv_type("hello")
            clients.append(ws)
        wait_until(lambda: http_json("GET", a.base + "/health")[2]["connectedClients"] == 2,
                   timeout=5, what="two clients counted")
        clients.pop().close()
        wait_until(lambda: http_json("GET", a.base + "/health")[2]["connectedClients"] == 1,
                   timeout=5, what="one client counted")
    finally:
        for ws in clients:
            ws.close()
        rc = a.stop()
        a.assert_clean()
        assert relay.stop() == 0
        relay.assert_clean()
    assert rc == 0


def test_health_unhealthy_503_when_database_down():
    own = start_private_pg()
    try:
        a = ApiServer(own).start()
        try:
            st, _, body = http_json("GET", a.base + "/health")
            assert st == 200
            own.stop()
            st, hdrs, body = http_json("GET", a.base + "/health")
            assert st == 503, body
            assert hdrs["content-type"] == JSON_CT
            check_health_shape(body)
            assert body["status"] == "unhealthy"
            assert body["database"] != "connected"
            # /metrics still answers and says the database is down
            st, _, text = http("GET", a.base + "/metrics")
            assert st == 200
            assert metric_value(text.decode(), "orders_api_database_up") == 0
            own.start()
            wait_until(lambda: http("GET", a.base + "/health")[0] == 200, timeout=20,
                       what="/health 200 again")
        finally:
            rc = a.stop()
            a.assert_clean()
        assert rc == 0
    finally:
        own.destroy()


def test_metrics_counts_by_route_and_status(api):
    st, hdrs, text = http("GET", api.base + "/metrics")
    assert st == 200
    assert hdrs["content-type"].startswith("text/plain")
    t0 = text.decode()
    assert "# TYPE orders_api_http_requests_total counter" in t0
    name = "orders_api_http_requests_total"
    before_404 = metric_value(t0, name, route="/api/orders/:id", method="GET", status="404")
    before_201 = metric_value(t0, name, route="/api/orders", method="POST", status="201")
    before_422 = metric_value(t0, name, route="/api/orders", method="POST", status="422")
    for _ in range(3):
        http("GET", api.base + "/api/orders/999999999999")
    create(api)
    http_json("POST", api.base + "/api/orders", {"customer_name": ""})
    st, _, text = http("GET", api.base + "/metrics")
    t1 = text.decode()
    assert metric_value(t1, name, route="/api/orders/:id", method="GET", status="404") == before_404 + 3
    assert metric_value(t1, name, route="/api/orders", method="POST", status="201") == before_201 + 1
    assert metric_value(t1, name, route="/api/orders", method="POST", status="422") == before_422 + 1
    # latency histogram by route
    assert "# TYPE orders_api_http_request_duration_seconds histogram" in t1
    assert metric_value(t1, "orders_api_http_request_duration_seconds_count", route="/api/orders/:id") >= 3
    assert 'orders_api_http_request_duration_seconds_bucket{route="/api/orders/:id",le="+Inf"}' in t1
    assert metric_value(t1, "orders_api_database_up") == 1
    # raw paths never become labels (bounded cardinality)
    assert "999999999999" not in t1
    # every sample line is well-formed Prometheus text
    for line in t1.splitlines():
        if line and not line.startswith("#"):
            sample, _, value = line.rpartition(" ")
            float(value)
            assert sample and " " not in sample.split("{")[0]
