"""CRUD on /api/orders: statuses, headers (Content-Type, Location, ETag, Link),
partial updates, If-Match, pagination, SQL-injection strings stored verbatim."""
import re
import urllib.parse

import pytest

from conftest import http, http_json
from helpers_api import ISO_TZ, JSON_CT, STATUSES, assert_error, counts, create, get_order, unique


def check_order_shape(o):
    assert set(o) == {"id", "customer_name", "product_name", "status", "created_at", "updated_at"}, o
    assert isinstance(o["id"], int) and o["id"] > 0
    assert o["status"] in STATUSES
    assert ISO_TZ.match(o["created_at"]), o["created_at"]
    assert ISO_TZ.match(o["updated_at"]), o["updated_at"]


def test_create_returns_201_location_etag(api, pg):
    cust, prod = unique("Jane"), unique("Laptop")
    st, hdrs, o = http_json("POST", api.base + "/api/orders",
                            {"customer_name": cust, "product_name": prod})
    assert st == 201
    assert hdrs["content-type"] == JSON_CT
    check_order_shape(o)
    assert o["customer_name"] == cust and o["product_name"] == prod
    assert o["status"] == "pending"  # the default
    assert hdrs["location"] in (f"/api/orders/{o['id']}", f"{api.base}/api/orders/{o['id']}")
    assert re.fullmatch(r'"[^"]+"', hdrs["etag"]), hdrs["etag"]
    # it is really in the database
    row = pg.sql("SELECT customer_name, product_name, status FROM orders WHERE id = %s", (o["id"],))
    assert row == [(cust, prod, "pending")]
    # and the Location resolves to it
    st, h2, got = http_json("GET", api.base + f"/api/orders/{o['id']}")
    assert st == 200 and got == o
    assert h2["etag"] == hdrs["etag"]


@pytest.mark.parametrize("status", STATUSES)
def test_create_with_each_status(api, status):
    o = create(api, status=status)
    assert o["status"] == status


def test_create_content_type_with_charset_and_case(api):
    body = b'{"customer_name":"ct-a","product_name":"ct-b"}'
    for ct in ("application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"):
        st, _, o = http_json("POST", api.base + "/api/orders", raw=body, headers={"Content-Type": ct})
        assert st == 201, (ct, o)


def test_get_one_and_404(api):
    o = create(api)
    st, hdrs, got = get_order(api, o["id"])
    assert st == 200 and got == o
    assert hdrs["content-type"] == JSON_CT
    assert "etag" in hdrs
    st, hdrs, body = http_json("GET", api.base + "/api/orders/999999999999")
    assert_error(st, hdrs, body, 404, "not_found")


def test_list_newest_first_and_shape(api):
    made = [create(api) for _ in range(3)]
    st, hdrs, lst = http_json("GET", api.base + "/api/orders")
    assert st == 200
    assert hdrs["content-type"] == JSON_CT
    assert isinstance(lst, list) and 1 <= len(lst) <= 100
    ids = [o["id"] for o in lst]
    assert ids == sorted(ids, reverse=True)
    for o in lst:
        check_order_shape(o)
    # the newest three are ours (nothing else writes concurrently in this module)
    assert ids[:3] == [m["id"] for m in reversed(made)]


def test_list_default_limit_is_100(api, pg):
    have = pg.sql("SELECT count(*) FROM orders")[0][0]
    # rows made in SQL: 101 POSTs at once would meet WRITE_RATE_LIMIT (100/s)
    pg.sql("INSERT INTO orders (customer_name, product_name) "
           "SELECT 'limit-100', 'p' FROM generate_series(1, %s)", (max(0, 101 - have),))
    st, hdrs, lst = http_json("GET", api.base + "/api/orders")
    assert st == 200 and len(lst) == 100
    assert "link" in hdrs
    st, hdrs, lst = http_json("GET", api.base + "/api/orders?limit=1000")
    assert st == 200 and len(lst) == min(1000, pg.sql("SELECT count(*) FROM orders")[0][0])


def parse_next(link):
    m = re.fullmatch(r'<([^>]+)>;\s*rel="next"', link.strip())
    assert m, link
    return m.group(1)


def test_pagination_link_walks_every_row_once(api, pg):
    made = [create(api) for _ in range(7)]
    top = made[-1]["id"] + 1
    lo = made[0]["id"]
    seen = []
    url = f"/api/orders?limit=3&before_id={top}"
    pages = 0
    while url and pages < 50:
        st, hdrs, lst = http_json("GET", api.base + url)
        assert st == 200
        assert len(lst) <= 3
        seen += [o["id"] for o in lst]
        url = parse_next(hdrs["link"]) if "link" in hdrs else None
        if url:
            assert len(lst) == 3
            q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
            assert q["limit"] == ["3"]
            assert q["before_id"] == [str(lst[-1]["id"])]
        pages += 1
    all_ids = [r[0] for r in pg.sql("SELECT id FROM orders WHERE id < %s ORDER BY id DESC", (top,))]
    assert seen == all_ids  # every row exactly once, newest first
    assert [m["id"] for m in reversed(made)] == [i for i in seen if i >= lo][:7]


def test_no_link_on_last_page(api, pg):
    create(api)
    create(api)
    ids = [r[0] for r in pg.sql("SELECT id FROM orders ORDER BY id LIMIT 2")]
    # exactly the two oldest rows: a full page, yet nothing older -> no Link
    st, hdrs, lst = http_json("GET", api.base + f"/api/orders?limit=2&before_id={ids[1] + 1}")
    assert st == 200 and [o["id"] for o in lst] == [ids[1], ids[0]]
    assert "link" not in hdrs, hdrs
    # one less: Link to the last row
    st, hdrs, lst = http_json("GET", api.base + f"/api/orders?limit=1&before_id={ids[1] + 1}")
    assert [o["id"] for o in lst] == [ids[1]]
    nxt = parse_next(hdrs["link"])
    st, hdrs, lst = http_json("GET", api.base + nxt)
    assert [o["id"] for o in lst] == [ids[0]] and "link" not in hdrs
    # before the first row: an empty page, no Link
    st, hdrs, lst = http_json("GET", api.base + f"/api/orders?before_id={ids[0]}")
    assert st == 200 and lst == [] and "link" not in hdrs


def test_status_filter_and_link_keeps_status(api, pg):
    mine = [create(api, status="delivered") for _ in range(3)]
    create(api, status="pending")
    st, hdrs, lst = http_json("GET", api.base + "/api/orders?status=delivered&limit=2")
    assert st == 200 and len(lst) == 2
    assert all(o["status"] == "delivered" for o in lst)
    assert [o["id"] for o in lst] == [mine[2]["id"], mine[1]["id"]]
    nxt = parse_next(hdrs["link"])
    assert urllib.parse.parse_qs(urllib.parse.urlparse(nxt).query)["status"] == ["delivered"]
    st, hdrs, lst2 = http_json("GET", api.base + nxt)
    assert st == 200 and lst2[0]["id"] == mine[0]["id"]
    assert all(o["status"] == "delivered" for o in lst2)
    total = pg.sql("SELECT count(*) FROM orders WHERE status = 'delivered'")[0][0]
    st, hdrs, every = http_json("GET", api.base + "/api/orders?status=delivered&limit=1000")
    assert len(every) == total


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update_each_field(api, pg, method):
    o = create(api)
    url = f"{api.base}/api/orders/{o['id']}"
    etag0 = http("GET", url)[1]["etag"]
    st, hdrs, u = http_json(method, url, {"status": "shipped"})
    assert st == 200, u
    assert hdrs["content-type"] == JSON_CT
    assert u["status"] == "shipped"
    assert u["customer_name"] == o["customer_name"] and u["product_name"] == o["product_name"]
    assert u["created_at"] == o["created_at"]
    assert u["updated_at"] != o["updated_at"]
    assert hdrs["etag"] != etag0
    new_c = unique("renamed")
    st, _, u2 = http_json(method, url, {"customer_name": new_c})
    assert st == 200 and u2["customer_name"] == new_c and u2["status"] == "shipped"
    new_p = unique("prod2")
    st, _, u3 = http_json(method, url, {"product_name": new_p, "status": "delivered"})
    assert st == 200 and u3["product_name"] == new_p and u3["status"] == "delivered"
    assert u3["customer_name"] == new_c
    row = pg.sql("SELECT customer_name, product_name, status FROM orders WHERE id = %s", (o["id"],))
    assert row == [(new_c, new_p, "delivered")]
    st, _, body = http_json(method, f"{api.base}/api/orders/999999999999", {"status": "shipped"})
    assert_error(st, _, body, 404, "not_found")


def test_etag_changes_on_update_and_if_match(api, pg):
    o = create(api)
    url = f"{api.base}/api/orders/{o['id']}"
    st, h0, _ = http_json("GET", url)
    etag0 = h0["etag"]
    # fresh ETag -> 200, new ETag returned
    st, h1, u = http_json("PUT", url, {"status": "processing"}, headers={"If-Match": etag0})
    assert st == 200, u
    etag1 = h1["etag"]
    assert etag1 != etag0
    st, hg, _ = http_json("GET", url)
    assert hg["etag"] == etag1
    # the old ETag is stale now -> 412, nothing changed
    before = counts(pg)
    st, hdrs, body = http_json("PUT", url, {"status": "cancelled"}, headers={"If-Match": etag0})
    assert_error(st, hdrs, body, 412, "precondition_failed")
    assert counts(pg) == before
    assert pg.sql("SELECT status FROM orders WHERE id = %s", (o["id"],)) == [("processing",)]
    st, hdrs, body = http_json("PATCH", url, {"status": "cancelled"}, headers={"If-Match": '"1"'})
    assert_error(st, hdrs, body, 412, "precondition_failed")
    # "*" and a list containing the current tag match
    st, h2, _ = http_json("PATCH", url, {"status": "shipped"}, headers={"If-Match": f'"0", {etag1}'})
    assert st == 200
    st, h3, _ = http_json("PATCH", url, {"status": "delivered"}, headers={"If-Match": "*"})
    assert st == 200
    # DELETE with a stale ETag -> 412 and the row stays
    st, hdrs, body = http_json("DELETE", url, headers={"If-Match": etag0})
    assert_error(st, hdrs, body, 412, "precondition_failed")
    assert pg.sql("SELECT count(*) FROM orders WHERE id = %s", (o["id"],)) == [(1,)]
    st, _, d = http_json("DELETE", url, headers={"If-Match": h3["etag"]})
    assert st == 200 and d["id"] == o["id"]
    # If-Match on an absent order is 404, not 412
    st, hdrs, body = http_json("PUT", url, {"status": "shipped"}, headers={"If-Match": etag1})
    assert_error(st, hdrs, body, 404, "not_found")


def test_etag_changes_when_row_changes_in_sql(api, pg):
    o = create(api)
    url = f"{api.base}/api/orders/{o['id']}"
    etag = http("GET", url)[1]["etag"]
    pg.sql("UPDATE orders SET status = 'shipped' WHERE id = %s", (o["id"],))
    assert http("GET", url)[1]["etag"] != etag
    st, hdrs, body = http_json("PUT", url, {"status": "delivered"}, headers={"If-Match": etag})
    assert_error(st, hdrs, body, 412, "precondition_failed")


def test_weak_etag_does_not_satisfy_if_match(api):
    # If-Match uses the strong comparison (RFC 9110 13.1.1): W/"x" never matches
    o = create(api)
    url = f"{api.base}/api/orders/{o['id']}"
    etag = http("GET", url)[1]["etag"]
    st, hdrs, body = http_json("PUT", url, {"status": "shipped"}, headers={"If-Match": "W/" + etag})
    assert st == 412, body


def test_delete_returns_deleted_order_then_404(api, pg):
    o = create(api, status="processing")
    url = f"{api.base}/api/orders/{o['id']}"
    st, hdrs, d = http_json("DELETE", url)
    assert st == 200 and hdrs["content-type"] == JSON_CT
    assert d == o
    assert pg.sql("SELECT count(*) FROM orders WHERE id = %s", (o["id"],)) == [(0,)]
    st, hdrs, body = http_json("GET", url)
    assert_error(st, hdrs, body, 404, "not_found")
    st, hdrs, body = http_json("DELETE", url)
    assert_error(st, hdrs, body, 404, "not_found")


INJECTIONS = [
    "Robert'); DROP TABLE orders;--",
    "' OR '1'='1",
    "\"; DELETE FROM orders; --",
    "1; SELECT pg_sleep(5)",
    "$1 $2 $$ $$; \\x00 %s %d {{}}",
    "back\\slash \\' \\\" \\n",
    "Zoë Ünïcødé 日本語 عربى",
    "emoji \U0001F600\U0001F680\U0001F1EB\U0001F1F7 e\u0301",
    "tab\tnewline\ncr\r",
    "<script>alert(1)</script>",
    "\u2028\u2029 \uFEFF",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_hostile_strings_stored_verbatim(api, pg, text):
    tag = unique("inj")
    st, _, o = http_json("POST", api.base + "/api/orders",
                         {"customer_name": text, "product_name": tag + text[:20]})
    assert st == 201, o
    assert o["customer_name"] == text
    st, _, got = get_order(api, o["id"])
    assert got["customer_name"] == text
    assert pg.sql("SELECT customer_name FROM orders WHERE id = %s", (o["id"],)) == [(text,)]
    st, _, u = http_json("PATCH", f"{api.base}/api/orders/{o['id']}", {"product_name": text})
    assert st == 200 and u["product_name"] == text
    assert pg.sql("SELECT to_regclass('orders') IS NOT NULL")[0][0] is True


def test_injection_in_path_and_query(api, pg):
    before = counts(pg)
    for path in ["/api/orders/1;DROP%20TABLE%20orders", "/api/orders/1%27%20OR%20%271%27=%271",
                 "/api/orders?status=shipped%27%20OR%20%271%27=%271",
                 "/api/orders?limit=1;DROP%20TABLE%20orders",
                 "/api/orders?before_id=1%20OR%201=1"]:
        st, hdrs, body = http_json("GET", api.base + path)
        assert st == 400, (path, body)
    assert counts(pg) == before


def test_200_and_201_characters(api):
    for unit in ("a", "\u00e9", "\u20ac", "\U0001F600"):
        st, _, o = http_json("POST", api.base + "/api/orders",
                             {"customer_name": unit * 200, "product_name": unit * 200})
        assert st == 201, (unit, o)
        assert o["customer_name"] == unit * 200


def test_timestamps_and_updated_at_bumped(api, pg):
    o = create(api)
    assert o["created_at"] == o["updated_at"] or o["updated_at"] >= o["created_at"]
    st, _, u = http_json("PATCH", f"{api.base}/api/orders/{o['id']}", {"status": "shipped"})
    db = pg.sql("SELECT updated_at > created_at FROM orders WHERE id = %s", (o["id"],))
    assert db == [(True,)]
    assert ISO_TZ.match(u["updated_at"])
