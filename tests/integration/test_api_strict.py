"""Strict parsing (issue 12): each lax form the probe found is refused with
400 in the contract's error shape, and the database is unchanged after it.

One class per test: numbers with another spelling in queries (limit=%095,
since=-0, before_id=01), ids with a leading zero in paths, a lone surrogate
in a JSON body, a key with an escaped NUL, a repeated key, and HTTP/1.1
without Host.
"""
import json

import pytest

from conftest import http, http_json
from helpers_api import assert_error, counts, create, get_order, raw_http, start_private_pg, unique


@pytest.fixture(scope="module")
def pg():
    """A private cluster for this module: the rows its tests write stay out
    of the history other modules read from seq 0."""
    p = start_private_pg()
    yield p
    p.destroy()


def row(pg, oid):
    return pg.sql("SELECT customer_name, product_name, status, updated_at FROM orders WHERE id = %s",
                  (oid,))


@pytest.mark.parametrize("query, field", [
    ("limit=%095", "limit"),      # a tab, then 5: was read as 5
    ("limit=%35", "limit"),       # a percent-encoded digit
    ("limit=05", "limit"),        # a leading zero
    ("limit=-0", "limit"),
    ("before_id=01", "before_id"),
    ("before_id=%31", "before_id"),
])
def test_orders_query_numbers_have_one_spelling(api, pg, query, field):
    before = counts(pg)
    st, hdrs, body = http_json("GET", f"{api.base}/api/orders?{query}")
    assert_error(st, hdrs, body, 400, "invalid_query", field)
    assert counts(pg) == before
    assert http_json("GET", f"{api.base}/api/orders?limit=5")[0] == 200


@pytest.mark.parametrize("query, field", [
    ("since=-0", "since"),        # was read as 0
    ("since=00", "since"),
    ("since=%30", "since"),
    ("since=0&limit=%095", "limit"),
    ("since=0&limit=010", "limit"),
])
def test_changes_query_numbers_have_one_spelling(api, pg, query, field):
    before = counts(pg)
    st, hdrs, body = http_json("GET", f"{api.base}/api/changes?{query}")
    assert_error(st, hdrs, body, 400, "invalid_query", field)
    assert counts(pg) == before
    assert http_json("GET", f"{api.base}/api/changes?since=0&limit=1")[0] == 200


@pytest.mark.parametrize("spelling", ["0{}", "00{}"])
def test_id_with_leading_zero_changes_nothing(api, pg, spelling):
    o = create(api)
    oid = spelling.format(o["id"])
    before, before_row = counts(pg), row(pg, o["id"])
    for method, body in (("GET", None), ("PUT", {"status": "shipped"}),
                         ("PATCH", {"customer_name": "changed"}), ("DELETE", None)):
        st, hdrs, data = http_json(method, f"{api.base}/api/orders/{oid}", body)
        assert_error(st, hdrs, data, 400, "invalid_id", "id")
    assert counts(pg) == before and row(pg, o["id"]) == before_row
    assert get_order(api, o["id"])[0] == 200


LONE_SURROGATES = [
    b'{"customer_name":"\\ud800","product_name":"p"}',
    b'{"customer_name":"a\\udfffb","product_name":"p"}',
    b'{"customer_name":"x","product_name":"\\ud83d"}',
    b'{"customer_name":"x","product_name":"\\ude00\\ud83d"}',
]


@pytest.mark.parametrize("raw", LONE_SURROGATES)
def test_lone_surrogate_is_refused_not_replaced(api, pg, raw):
    """json-c stores a lone surrogate as U+FFFD: the api refuses it instead."""
    before = counts(pg)
    st, hdrs, body = http_json("POST", api.base + "/api/orders", raw=raw,
                               headers={"Content-Type": "application/json"})
    assert_error(st, hdrs, body, 400, "invalid_json")
    assert "surrogate" in body["error"]
    o = create(api)
    before, before_row = counts(pg), row(pg, o["id"])
    st, hdrs, body = http_json("PATCH", f"{api.base}/api/orders/{o['id']}",
                               raw=b'{"product_name":"\\udbff"}',
                               headers={"Content-Type": "application/json"})
    assert_error(st, hdrs, body, 400, "invalid_json")
    assert counts(pg) == before and row(pg, o["id"]) == before_row
    assert pg.sql("SELECT count(*) FROM orders WHERE customer_name LIKE %s OR product_name LIKE %s",
                  ("%\ufffd%", "%\ufffd%")) == [(0,)]


def test_valid_surrogate_pair_is_stored(api, pg):
    raw = b'{"customer_name":"smile \\ud83d\\ude00","product_name":"p"}'
    st, _, o = http_json("POST", api.base + "/api/orders", raw=raw,
                         headers={"Content-Type": "application/json"})
    assert st == 201 and o["customer_name"] == "smile \U0001F600"


@pytest.mark.parametrize("raw", [
    b'{"customer_name\\u0000x":"Mallory","product_name":"p"}',   # was read as customer_name
    b'{"customer_name":"a","product_name":"p","status\\u0000":"shipped"}',
    b'{"\\u0000":"a","customer_name":"a","product_name":"p"}',
])
def test_key_with_escaped_nul_is_refused(api, pg, raw):
    before = counts(pg)
    st, hdrs, body = http_json("POST", api.base + "/api/orders", raw=raw,
                               headers={"Content-Type": "application/json"})
    assert_error(st, hdrs, body, 400, "invalid_json")
    assert counts(pg) == before
    assert pg.sql("SELECT count(*) FROM orders WHERE customer_name = 'Mallory'") == [(0,)]
    o = create(api)
    before, before_row = counts(pg), row(pg, o["id"])
    st, hdrs, body = http_json("PUT", f"{api.base}/api/orders/{o['id']}",
                               raw=b'{"status\\u0000x":"cancelled"}',
                               headers={"Content-Type": "application/json"})
    assert_error(st, hdrs, body, 400, "invalid_json")
    assert counts(pg) == before and row(pg, o["id"]) == before_row


def test_repeated_key_is_refused(api, pg):
    """Which of two values a reader takes differs between parsers."""
    before = counts(pg)
    for raw in (b'{"customer_name":"a","customer_name":"b","product_name":"p"}',
                b'{"customer_name":"a","product_name":"p","status":"pending","status":"shipped"}',
                b'{"customer_name":"a","\\u0063ustomer_name":"b","product_name":"p"}'):
        st, hdrs, body = http_json("POST", api.base + "/api/orders", raw=raw,
                                   headers={"Content-Type": "application/json"})
        assert_error(st, hdrs, body, 400, "invalid_json")
    assert counts(pg) == before


def raw_post(customer, host_lines):
    body = json.dumps({"customer_name": customer, "product_name": "p"}).encode()
    return (b"POST /api/orders HTTP/1.1\r\n" + host_lines +
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\nConnection: close\r\n\r\n" + body)


@pytest.mark.parametrize("host_lines", [
    b"",                                   # HTTP/1.1 needs Host
    b"Host: a\r\nHost: b\r\n",             # exactly one
    b"Host: a b\r\n",                      # a valid host[:port]
    b"Host: a:0\r\n",
    b"Host: user@a\r\n",
])
def test_bad_host_is_400_and_writes_nothing(api, pg, host_lines):
    before = counts(pg)
    name = unique("nohost")
    st, hdrs, body = raw_http(api.port, raw_post(name, host_lines))
    assert_error(st, hdrs, json.loads(body), 400, "bad_request")
    assert "Host" in json.loads(body)["error"]
    assert counts(pg) == before
    assert pg.sql("SELECT count(*) FROM orders WHERE customer_name = %s", (name,)) == [(0,)]
    st, _, _ = raw_http(api.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert st == 200


def test_host_rules(api, pg):
    # HTTP/1.0 may omit Host
    st, _, _ = raw_http(api.port, b"GET /health HTTP/1.0\r\n\r\n")
    assert st == 200
    # and a valid one is served, IPv6 literals included
    for host in (b"127.0.0.1", b"localhost:3000", b"[::1]:80", b"orders.example"):
        st, _, _ = raw_http(api.port, b"GET /health HTTP/1.1\r\nHost: " + host +
                            b"\r\nConnection: close\r\n\r\n")
        assert st == 200, host
    assert http("GET", api.base + "/api/orders?limit=1")[0] == 200
