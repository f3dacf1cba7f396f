"""
Response hardening: nosniff everywhere, no-store on API JSON, a
Referrer-Policy on redirects; CORS for the configured origin only, with
preflights answered without a key; OPTIONS on every route without
breaking 405 and Allow.
"""

from conftest import ORIGIN


def test_every_response_says_nosniff_and_json_is_not_stored(a, world):
    code = world.urls[0]["short_code"]
    for method, path, hdrs in [
        ("GET", "/users?per_page=1", world.admin),
        ("GET", "/users?per_page=1", {}),
        ("GET", "/health", {}), ("GET", "/nope/nope/nope", {}),
        ("GET", f"/{code}", {}), ("GET", "/zzzzzz404", {}),
        ("DELETE", "/health", {}), ("OPTIONS", "/urls", {}),
    ]:
        r = a.request(method, path, headers=hdrs)
        assert r.header("x-content-type-options") == "nosniff", (path, r)
        if (r.header("content-type") or "").startswith("application/json"):
            assert r.header("cache-control") == "no-store", (path, r)


def test_a_redirect_sends_no_referrer_on(a, world):
    r = a.get(f"/{world.urls[0]['short_code']}")
    assert r.status == 302
    assert r.header("referrer-policy") == "no-referrer"
    assert r.header("cache-control") == "private, max-age=0"


def test_cors_for_the_configured_origin_only(a, world):
    r = a.get("/urls?per_page=1", headers={**world.admin, "Origin": ORIGIN})
    assert r.status == 200
    assert r.header("access-control-allow-origin") == ORIGIN
    assert "X-RateLimit-Remaining" in r.header(
        "access-control-expose-headers")
    assert "Origin" in r.header("vary")
    r = a.get("/urls?per_page=1", headers={**world.admin,
                                           "Origin": "https://evil.example"})
    assert r.status == 200
    assert r.header("access-control-allow-origin") is None


def test_preflights_need_no_key(a):
    r = a.request("OPTIONS", "/urls/1", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == ORIGIN
    assert r.header("access-control-allow-methods") == "GET, HEAD, PUT, DELETE"
    assert "X-Api-Key" in r.header("access-control-allow-headers")
    assert int(r.header("access-control-max-age")) > 0
    assert r.header("allow") == "GET, HEAD, PUT, DELETE, OPTIONS"
    # Another origin, or a method the route lacks: no permission given.
    for origin, method in [("https://evil.example", "PUT"), (ORIGIN, "POST")]:
        r = a.request("OPTIONS", "/urls/1", headers={
            "Origin": origin, "Access-Control-Request-Method": method})
        assert r.status == 204
        assert r.header("access-control-allow-methods") is None
        assert r.header("access-control-allow-origin") in (None, ORIGIN)


def test_options_and_405_keep_their_meaning(a):
    r = a.request("OPTIONS", "/users")
    assert r.status == 204 and r.header("allow") == "GET, HEAD, POST, OPTIONS"
    r = a.request("OPTIONS", "/no/such/route/here")
    assert r.status == 404
    r = a.request("PATCH", "/users/1", body=b"{}")
    assert r.status == 405
    assert r.header("allow") == "GET, HEAD, PUT, DELETE, OPTIONS"
    r = a.request("DELETE", "/health")
    assert r.status == 405 and r.header("allow") == "GET, HEAD, OPTIONS"
