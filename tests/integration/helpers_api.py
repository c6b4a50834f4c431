"""Helpers for the orders-api integration tests (test_api_*.py, test_config.py).

Raw-socket HTTP for requests urllib will not send, unique names so tests
never depend on each other's rows, and before/after counts to prove a bad
request changed nothing.
"""
import json
import re
import socket
import time
import uuid

from conftest import http, http_json

ISO_TZ = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
STATUSES = ("pending", "processing", "shipped", "delivered", "cancelled")
JSON_CT = "application/json; charset=utf-8"


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(api, customer=None, product=None, status=None):
    body = {"customer_name": customer or unique("cust"), "product_name": product or unique("prod")}
    if status:
        body["status"] = status
    st, hdrs, data = http_json("POST", api.base + "/api/orders", body)
    assert st == 201, (st, data)
    return data


def counts(pg):
    """(orders rows, change-log rows, max seq) - to show a request changed nothing."""
    return tuple(pg.sql("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_changes), "
                        "(SELECT coalesce(max(seq), 0) FROM order_changes)")[0])


def max_seq(pg):
    return pg.sql("SELECT coalesce(max(seq), 0) FROM order_changes")[0][0]


def assert_error(status, hdrs, body, want_status, want_code, field=None):
    """The contract's error shape."""
    assert status == want_status, (status, body)
    assert hdrs.get("content-type") == JSON_CT, hdrs
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
    assert body.get("code") == want_code, body
    if field is not None:
        assert body.get("field") == field, body
    return body


def raw_request(port, data, timeout=10.0, read_all=True):
    """Send raw bytes; return the raw response bytes (until close or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
            if not read_all and parse_response(b"".join(chunks), complete_only=True):
                break
        return b"".join(chunks)
    finally:
        s.close()


def parse_response(raw, complete_only=False):
    """Parse the first HTTP/1.1 response in raw: (status, headers (lowercase, list values
    joined by ', '), body). None if incomplete and complete_only."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        if complete_only:
            return None
        raise AssertionError(f"no complete response head: {raw[:500]!r}")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert m, lines[0]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        hdrs[k] = (hdrs[k] + ", " + v.strip()) if k in hdrs else v.strip()
    n = int(hdrs.get("content-length", len(rest)))
    if complete_only and len(rest) < n:
        return None
    return int(m.group(1)), hdrs, rest[:n]


def raw_http(port, data, timeout=10.0):
    resp = raw_request(port, data, timeout=timeout, read_all=False)
    return parse_response(resp)


def get_order(api, oid):
    return http_json("GET", f"{api.base}/api/orders/{oid}")


def changes(api, since, limit=1000):
    st, hdrs, data = http_json("GET", f"{api.base}/api/changes?since={since}&limit={limit}")
    assert st == 200, (st, data)
    return data


def metric_value(text, name, **labels):
    """The value of one Prometheus sample, 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        sample, _, value = line.rpartition(" ")
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', sample))
        if sample.split("{")[0] == name and all(got.get(k) == str(v) for k, v in labels.items()):
            return float(value)
    return 0.0


__all__ = ["ISO_TZ", "STATUSES", "JSON_CT", "unique", "create", "counts", "max_seq", "assert_error",
           "raw_request", "parse_response", "raw_http", "get_order", "changes", "metric_value",
           "http", "http_json", "json"]


def start_private_pg(attempts=5):
    """A private migrated cluster. scripts/pg.sh picks a port in the kernel's
    ephemeral range, where a client socket in TIME_WAIT can make the bind fail
    ("Address already in use"); retry with a fresh cluster."""
    import subprocess

    from conftest import Postgres
    last = None
    for _ in range(attempts):
        p = Postgres()
        try:
            p.start()
            p.migrate()
            return p
        except subprocess.CalledProcessError as e:
            last = e
            p.destroy()
    raise AssertionError(f"could not start a private PostgreSQL: {last.stderr if last else ''}")
