"""
The contract's edge families through nginx with its default limits: a
burst of writes from one client, writes without a body, request URIs and
headers of every length, unknown query parameters, Location and short_url,
and whole lists. Every error is the contract's JSON, never HTML, never a
500.
"""

import concurrent.futures
import json

import pytest

from http_util import expect_json_error, uniq


def make_user(public):
    r = public.post("/users", {"username": uniq("edge"),
                               "email": uniq("edge") + "@example.com"})
    assert r.status == 201, r
    return r.json()


def test_a_burst_of_300_writes_from_one_client_is_never_throttled(public):
    user = make_user(public)

    def create(i):
        return public.post("/urls", {"user_id": user["id"],
                                     "original_url": f"https://example.com/b/{i}"})

    # As fast as one client can: 8 connections, 300 creates.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = [r.status for r in pool.map(create, range(300))]
    assert statuses.count(201) == 300, {s: statuses.count(s) for s in set(statuses)}


@pytest.mark.parametrize("method,path", [
    ("POST", "/users"), ("POST", "/urls"), ("POST", "/events"),
    ("POST", "/users/bulk"), ("PUT", "/users/1"), ("PUT", "/urls/1"),
])
def test_a_write_without_a_body_is_a_json_400(public, method, path):
    # No Content-Length at all (curl -X POST): nginx answers.
    r = public.raw(f"{method} {path} HTTP/1.1\r\nHost: t\r\n"
                   "Connection: close\r\n\r\n".encode())
    doc = expect_json_error(r, 400, f"{method} {path} without a body")
    assert "body" in doc["error"], doc
    # Content-Length: 0: the app answers.
    r = public.request(method, path, body=b"",
                       headers={"Content-Length": "0"})
    expect_json_error(r, 400, f"{method} {path} with an empty body")


@pytest.mark.parametrize("length", [1000, 1500, 1980, 1989, 1990, 2000, 2100,
                                    2200, 4096, 8000, 8192, 9000, 16384,
                                    65536, 100000])
def test_request_uris_of_every_length(public, length):
    # A path and a query string of the same total length.
    for target in (f"/{'a' * (length - 1)}",
                   f"/users?username={'b' * (length - 16)}"):
        r = public.raw(f"GET {target} HTTP/1.1\r\nHost: t\r\n"
                       "Connection: close\r\n\r\n".encode())
        assert r.status in (200, 404, 414), (length, r)
        doc = json.loads(r.body)
        if length >= 1990:
            expect_json_error(r, 414, f"URI of {length} bytes")
        else:
            assert r.status in (200, 404), (length, doc)


@pytest.mark.parametrize("length", [1000, 4000, 7000, 8100, 9000, 16384,
                                    65536, 100000])
def test_request_headers_of_every_length(public, length):
    r = public.raw(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " +
                   b"h" * length + b"\r\nConnection: close\r\n\r\n")
    if length <= 8100:
        assert r.status == 200, (length, r)
    else:
        expect_json_error(r, 431, f"header of {length} bytes")


def test_many_headers_and_non_ascii_values_still_reach_the_app(public):
    user = make_user(public)
    url = public.post("/urls", {"user_id": user["id"],
                                "original_url": "https://example.com/h"}).json()
    headers = "".join(f"X-Extra-{i}: v{i}\r\n" for i in range(60))
    r = public.raw((f"HEAD /{url['short_code']} HTTP/1.1\r\nHost: t\r\n"
                    + headers + "Referer: \r\n"
                    "Connection: close\r\n\r\n").encode())
    assert r.status == 302, r
    # A browser may send UTF-8 in Referer and User-Agent.
    r = public.raw(f"GET /{url['short_code']} HTTP/1.1\r\nHost: t\r\n"
                   .encode() + "User-Agent: café-browser/1.0\r\n"
                   "Referer: https://exämple.org/ü\r\n".encode()
                   + b"Connection: close\r\n\r\n")
    assert r.status == 302, r


def test_garbage_and_unknown_methods_are_json(public):
    for data, status in [(b"GARBAGE\r\n\r\n", 400),
                         (b"GET / HTTP/9.9\r\nHost: t\r\n\r\n", 505),
                         (b"FOO /users HTTP/1.1\r\nHost: t\r\n"
                          b"Connection: close\r\n\r\n", 405),
                         (b"GET /users HTTP/1.1\r\nHost: t\r\n"
                          b"Content-Length: abc\r\nConnection: close\r\n\r\n",
                          400)]:
        r = public.raw(data)
        expect_json_error(r, status, repr(data[:20]))


def test_unknown_query_parameters_name_the_accepted_ones(public):
    r = public.get("/urls?userid=1")
    doc = expect_json_error(r, 400, "/urls?userid=1")
    assert "userid" in doc["error"] and "user_id" in doc["error"], doc
    r = public.get("/events?event=click")
    doc = expect_json_error(r, 400, "/events?event=click")
    assert "event_type" in doc["error"], doc


def test_created_resources_say_where_they_are(public):
    user = make_user(public)
    r = public.post("/urls", {"user_id": user["id"],
                              "original_url": "https://example.com/loc"})
    assert r.status == 201, r
    url = r.json()
    assert r.header("location") == f"{public.base}/urls/{url['id']}"
    assert url["short_url"] == f"{public.base}/{url['short_code']}"
    # The short URL works where it says.
    assert public.get(f"/urls/{url['id']}").json() == url
    r = public.request("GET", "/" + url["short_url"].rsplit("/", 1)[1])
    assert r.status == 302 and r.header("location") == "https://example.com/loc"
    r = public.post("/events", {"url_id": url["id"], "user_id": user["id"],
                                "event_type": "share"})
    assert r.status == 201
    assert r.header("location") == f"{public.base}/events/{r.json()['id']}"


def walk(public, path):
    """A list walked page by page through its Link headers."""
    rows = []
    while path:
        r = public.get(path)
        assert r.status == 200, r
        rows += r.json()
        nxt = None
        for part in (r.header("link") or "").split(","):
            if 'rel="next"' in part:
                nxt = part.split(">")[0].strip().lstrip("<")
        path = nxt
    return rows


def test_whole_lists_equal_their_pages(public):
    user = make_user(public)
    for i in range(120):
        assert public.post("/urls", {"user_id": user["id"],
                                     "original_url": f"https://example.com/w/{i}"}).status == 201
    whole = public.get(f"/urls?user_id={user['id']}")
    assert whole.status == 200
    rows = whole.json()
    assert len(rows) == 120
    assert rows == walk(public, f"/urls?user_id={user['id']}&per_page=7")
    # The biggest list there is on this stack comes back whole too.
    r = public.get("/users")
    assert r.status == 200 and isinstance(r.json(), list), r
