"""
With API_KEYS_REQUIRED=1, no request without a valid key changes or
reveals anything beyond redirects and health: every endpoint without a
key, with a wrong, malformed, expired or revoked one is the contract's
401, and the database is as it was.
"""

import time

import pytest

import client
from conftest import KEY_CACHE_MS, make_key, psql

WRONG = "shk_" + "A" * 40


def endpoints(w, key_id):
    """Every API endpoint, with ids of rows that exist, and a body."""
    user, url, ev = w.users[1]["id"], w.urls[1]["id"], w.events[1]["id"]
    return [
        ("GET", "/users", None), ("POST", "/users", {"username": "x",
                                                     "email": "x@x.io"}),
        ("POST", "/users/bulk", None),
        ("GET", f"/users/{user}", None),
        ("PUT", f"/users/{user}", {"username": "stolen"}),
        ("DELETE", f"/users/{user}", None),
        ("GET", "/urls", None),
        ("POST", "/urls", {"user_id": user,
                           "original_url": "https://evil.example/"}),
        ("GET", f"/urls/{url}", None),
        ("PUT", f"/urls/{url}", {"original_url": "https://evil.example/"}),
        ("DELETE", f"/urls/{url}", None),
        ("GET", f"/urls/{url}/stats", None),
        ("GET", "/events", None),
        ("POST", "/events", {"url_id": url, "user_id": user,
                             "event_type": "forged"}),
        ("GET", f"/events/{ev}", None),
        ("DELETE", f"/events/{ev}", None),
        ("GET", "/keys", None),
        ("POST", "/keys", {"name": "mine", "scope": "admin"}),
        ("GET", f"/keys/{key_id}", None),
        ("DELETE", f"/keys/{key_id}", None),
    ]


def snapshot():
    return psql(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM urls),"
        " (SELECT count(*) FROM events_all), (SELECT count(*) FROM api_keys),"
        " (SELECT coalesce(max(updated_at)::text, '') FROM urls),"
        " (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL),"
        " (SELECT string_agg(username || email, ',' ORDER BY id) FROM"
        "  (SELECT * FROM users ORDER BY id DESC LIMIT 20) u);")


def expect_401(r, what):
    assert r.status == 401, f"{what}: {r}"
    assert r.json()["code"] == "unauthorized", what
    assert r.header("www-authenticate") is not None, what
    assert r.header("x-ratelimit-limit") is not None, what


@pytest.mark.parametrize("given", [
    {}, {"X-Api-Key": WRONG}, {"Authorization": f"Bearer {WRONG}"},
    {"X-Api-Key": "not a key"}, {"Authorization": "Basic dXNlcjpwYXNz"},
    {"X-Api-Key": WRONG[:-1]},
], ids=["none", "wrong", "wrong-bearer", "malformed", "basic", "short"])
def test_every_endpoint_refuses_a_request_without_a_valid_key(
        a, world, given):
    key = make_key("read-only")
    given = {**given, "X-Forwarded-For": client.address()}
    before = snapshot()
    for method, path, body in endpoints(world, key["id"]):
        r = a.request(method, path, body=body, headers=given)
        expect_401(r, f"{method} {path} {given}")
    assert snapshot() == before


def test_expired_and_revoked_keys_are_refused(a, b, world):
    expired = make_key("admin", expires_at="2099-01-01T00:00:00")
    psql("UPDATE api_keys SET expires_at = '2000-01-01' WHERE id = :'id'",
         id=expired["id"])
    revoked = make_key("admin")
    for c in (a, b):
        assert c.get("/users?per_page=1", headers={
            "X-Api-Key": revoked["key"]}).status == 200
    admin = world.admin
    assert a.delete(f"/keys/{revoked['id']}", headers=admin).status == 204
    before = snapshot()
    xff = {"X-Forwarded-For": client.address()}
    for method, path, body in endpoints(world, expired["id"]):
        expect_401(a.request(method, path, body=body,
                             headers={"X-Api-Key": expired["key"], **xff}),
                   f"expired {method} {path}")
    # The worker that revoked forgets the key at once; every other worker
    # of every instance within API_KEY_CACHE_MS.
    deadline = time.monotonic() + KEY_CACHE_MS / 1000 + 1.0
    for c in (a, b):
        while True:
            r = c.get("/users?per_page=1",
                      headers={"X-Api-Key": revoked["key"], **xff})
            if r.status == 401 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        expect_401(r, "revoked")
    for method, path, body in endpoints(world, expired["id"]):
        expect_401(a.request(method, path, body=body,
                             headers={"X-Api-Key": revoked["key"], **xff}),
                   f"revoked {method} {path}")
    assert snapshot() == before
    row = psql("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = :'id'",
               id=revoked["id"])
    assert row == "t"


def test_a_key_is_shown_once_and_stored_as_its_hash(a, world):
    r = a.post("/keys", {"name": "shown once", "scope": "read-only",
                         "user_id": world.users[0]["id"]},
               headers=world.admin)
    assert r.status == 201, r
    made = r.json()
    key = made["key"]
    assert key.startswith("shk_") and len(key) == 44
    assert made["prefix"] == key[:12]
    assert r.header("location").endswith(f"/keys/{made['id']}")
    got = a.get(f"/keys/{made['id']}", headers=world.admin).json()
    assert "key" not in got and got["prefix"] == made["prefix"]
    listed = a.get(f"/keys?user_id={world.users[0]['id']}",
                   headers=world.admin).json()
    assert all("key" not in k for k in listed)
    row = psql("SELECT key_hash = encode(sha256(convert_to(:'k', 'UTF8')),"
               " 'hex'), position(:'k' IN key_hash || name || prefix)"
               " FROM api_keys WHERE id = :'id'", k=key, id=made["id"])
    assert row == "t|0"
    # The key works, by either header.
    assert a.get("/urls?per_page=1",
                 headers={"Authorization": f"Bearer {key}"}).status == 200


def test_key_creation_is_validated(a, world):
    cases = [
        ({"scope": "admin"}, "name"),
        ({"name": "x", "scope": "root"}, "scope"),
        ({"name": "x", "scope": "user"}, "user_id"),
        ({"name": "x", "scope": "admin", "user_id": world.users[0]["id"]},
         "user_id"),
        ({"name": "x", "scope": "admin",
          "expires_at": "2001-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scope": "admin", "expires_at": "tomorrow"},
         "expires_at"),
        ({"name": " ", "scope": "admin"}, "name"),
    ]
    before = psql("SELECT count(*) FROM api_keys")
    for body, field in cases:
        r = a.post("/keys", body, headers=world.admin)
        assert r.status == 422, (body, r)
        assert field in r.json()["fields"], (body, r)
    r = a.post("/keys", {"name": "x", "scope": "user", "user_id": 999999999},
               headers=world.admin)
    assert r.status == 404, r
    assert psql("SELECT count(*) FROM api_keys") == before


def test_open_endpoints_need_no_key_and_pay_nothing(a, world):
    code = world.urls[0]["short_code"]
    for method, path in [("GET", f"/{code}"), ("HEAD", f"/{code}"),
                         ("GET", f"/urls/{code}/redirect"),
                         ("GET", "/health"), ("GET", "/ready"),
                         ("GET", "/metrics"), ("GET", "/nope-nope")]:
        r = a.request(method, path)
        assert r.status in (200, 302, 404), (method, path, r)
        assert r.status != 401
        assert r.header("x-ratelimit-limit") is None, (method, path)
    r = a.get(f"/{code}")
    assert r.status == 302 and r.header("location") == world.urls[0][
        "original_url"]


def test_the_cli_bootstraps_an_admin_key_once(a):
    from conftest import apikey
    key = apikey("generate").stdout.strip()
    env = {"ADMIN_API_KEY": key}
    apikey("bootstrap", env=env)
    apikey("bootstrap", env=env)
    rows = psql("SELECT id, revoked_at IS NULL FROM api_keys WHERE key_hash ="
                " encode(sha256(convert_to(:'k', 'UTF8')), 'hex')", k=key)
    assert len(rows.splitlines()) == 1 and rows.endswith("|t")
    assert a.get("/keys?per_page=1", headers={"X-Api-Key": key}).status == 200
    kid = rows.split("|")[0]
    apikey("revoke", kid)
    apikey("bootstrap", env=env)
    assert psql("SELECT count(*), bool_and(revoked_at IS NOT NULL) FROM"
                " api_keys WHERE id = :'id'", id=kid) == "1|t"
    bad = None
    try:
        apikey("bootstrap", env={"ADMIN_API_KEY": "change-me"})
    except RuntimeError as e:
        bad = str(e)
    assert bad and "not a key" in bad
