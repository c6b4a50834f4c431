"""The web UI's files: served from www/ only, exact names only, no listings,
no traversal (raw-socket requests, since clients normalise paths)."""
import os

import pytest

from conftest import ROOT, http
from helpers_api import parse_response, raw_request

WWW = os.path.join(ROOT, "www")


def www_files():
    out = []
    for d, dirs, files in os.walk(WWW):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if not f.startswith("."):
                out.append("/" + os.path.relpath(os.path.join(d, f), WWW).replace(os.sep, "/"))
    return sorted(out)


def get_raw(api, target, method=b"GET"):
    req = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    raw = raw_request(api.port, req)
    if raw == b"":
        return 0, {}, b""  # connection closed without an answer: refused
    return parse_response(raw)


def test_index_served_at_root(api):
    st, hdrs, body = http("GET", api.base + "/")
    assert st == 200
    assert hdrs["content-type"].startswith("text/html")
    with open(os.path.join(WWW, "index.html"), "rb") as f:
        assert body == f.read()
    st2, _, body2 = http("GET", api.base + "/index.html")
    assert st2 == 200 and body2 == body


def test_every_www_file_served_with_type(api):
    files = www_files()
    assert files, "www/ is empty"
    for url in files:
        st, hdrs, body = http("GET", api.base + url)
        assert st == 200, url
        with open(os.path.join(WWW, url[1:]), "rb") as f:
            assert body == f.read(), url
        if url.endswith(".js"):
            assert hdrs["content-type"].startswith("text/javascript"), url
        elif url.endswith(".css"):
            assert hdrs["content-type"].startswith("text/css"), url
        assert hdrs.get("x-content-type-options") == "nosniff"


def test_head_and_etag_revalidation(api):
    st, hdrs, body = http("GET", api.base + "/index.html")
    etag = hdrs["etag"]
    st, h2, b2 = http("HEAD", api.base + "/index.html")
    assert st == 200 and b2 == b"" and h2["content-length"] == str(len(body))
    st, h3, b3 = http("GET", api.base + "/index.html", headers={"If-None-Match": etag})
    assert st == 304 and b3 == b""


@pytest.mark.parametrize("target", [
    b"/../../etc/passwd", b"/../../../../../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd",
    b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd", b"/..%2f..%2fetc%2fpasswd", b"/..%5c..%5cetc%5cpasswd",
    b"/%252e%252e/etc/passwd", b"/www/../Makefile", b"/../Makefile", b"/./../Makefile",
    b"/js/../../Makefile", b"/js/..%2f..%2fMakefile", b"/js%2f..%2f..%2fMakefile", b"/Makefile",
    b"/..", b"/.", b"//etc/passwd", b"/etc/passwd", b"/%2fetc%2fpasswd", b"/js/%2e%2e/%2e%2e/Makefile",
    b"/index.html/../../Makefile", b"/index.html%00.js", b"/.git/config", b"/.env",
    b"/api/../Makefile", b"/js/../index.html/../../Makefile", b"/\\..\\Makefile",
    b"/common/config.c", b"/schema/001_orders.sql", b"/tests/integration/conftest.py",
    b"/proc/self/environ", b"http://127.0.0.1/../Makefile",
])
def test_traversal_refused(api, target):
    st, hdrs, body = get_raw(api, target)
    assert st in (0, 400, 403, 404), (target, st)
    assert b"root:" not in body and b"non-recursive Makefile" not in body
    assert b"[core]" not in body and b"CREATE TABLE" not in body and b"#include" not in body
    assert b"PATH=" not in body


@pytest.mark.parametrize("target", [b"/js/", b"/js", b"/js/.", b"/.%2f", b"/www/", b"/www", b"//"])
def test_no_directory_listing(api, target):
    st, hdrs, body = get_raw(api, target)
    assert st in (0, 400, 403, 404), (target, st)
    assert b"Index of" not in body and b"app.js" not in body and b"<a href" not in body


def test_static_files_listed_at_start_only_exact_names(api):
    # a query string is not part of the name; a changed case is a different name
    st, _, _ = http("GET", api.base + "/app.js?v=1")
    assert st == 200
    st, _, _ = http("GET", api.base + "/APP.JS")
    assert st == 404
    st, _, _ = http("GET", api.base + "/app.js/")
    assert st == 404


def test_write_methods_on_static_refused(api):
    for m in ("POST", "PUT", "DELETE"):
        st, hdrs, body = http(m, api.base + "/index.html", raw=b"x",
                              headers={"Content-Type": "text/plain"})
        assert st in (404, 405), (m, st)
