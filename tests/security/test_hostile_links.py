"""
Hostile links: each class the validator refuses is a 422 naming
original_url, on create and on update, and nothing is stored. A URL that
would break the Location header cannot be stored by anyone (the CHECK of
migration 014), and one that got into the database or the cache behind
the service's back is never sent.
"""

import pytest

import client
from conftest import PUBLIC_BASE, psql

HOSTILE = [
    ("http://user:pass@example.com/", "user information"),
    ("http://a@b/", "user information"),
    ("http://a\\@b/", "backslash"),
    ("http://good.example\\@evil.example/", "backslash"),
    ("http://pay\u00adpal.example/", "invisible"),
    ("http://exa\u200bmple.com/", "whitespace"),
    ("http://a\u202eb.example/", "bidirectional"),
    ("https://example.com/\u202egnp.exe", "bidirectional"),
    ("http://ex\x01ample.com/", "control"),
    ("http://127.0.0.1/admin", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/latest", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "loopback"),
    ("http://10.0.0.1/", "loopback"),
    ("http://192.168.1.1/", "loopback"),
    ("http://172.16.0.1/", "loopback"),
    ("http://localhost:8080/", "loopback"),
    ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/",
     "loopback"),
    (PUBLIC_BASE + "/abc", "this service"),
    (PUBLIC_BASE.upper() + "./abc", "this service"),
    ("https://blocked.example/login", "blocked"),
    ("https://www.blocked.example/", "blocked"),
    ("https://a.phish.example/", "blocked"),
    ("https://phish.example/", "blocked"),
]


@pytest.mark.parametrize("url,why", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_link_is_refused_on_create_and_update(a, world, url, why):
    before = psql("SELECT count(*), max(updated_at) FROM urls")
    r = a.post("/urls", {"user_id": world.users[0]["id"],
                         "original_url": url}, headers=world.admin)
    assert r.status == 422, r
    assert why in r.json()["fields"]["original_url"], r
    r = a.put(f"/urls/{world.urls[0]['id']}", {"original_url": url},
              headers=world.admin)
    assert r.status == 422, r
    assert why in r.json()["fields"]["original_url"], r
    assert psql("SELECT count(*), max(updated_at) FROM urls") == before


def test_near_misses_are_links_like_any_other(a, world):
    for url in ["https://example.com/@user", "https://example.com/a\\b",
                "http://8.8.8.8/", "https://notblocked.example/",
                "https://sub.sho.rt/", "https://xn--bcher-kva.example/"]:
        r = a.post("/urls", {"user_id": world.users[0]["id"],
                             "original_url": url}, headers=world.admin)
        assert r.status == 201, (url, r)


def test_no_loader_can_store_a_header_breaking_url(world):
    with pytest.raises(RuntimeError) as e:
        psql("INSERT INTO urls (user_id, short_code, original_url)"
             " VALUES (:'u', :'c', E'https://example.com/\\r\\nSet-Cookie:"
             " a=b')", u=world.users[0]["id"], c=client.uniq("crlf")[:32])
    assert "urls_original_url_header_safe" in str(e.value)


def test_a_header_breaking_url_is_never_sent(a, b, world, redis_cli):
    """Behind the service's back: the constraint dropped for one insert
    (then put back, NOT VALID so the row may stay for the test), and a
    cache entry written straight into Redis."""
    code = "crlf" + client.uniq("")[-20:]
    bad = "https://example.com/\r\nSet-Cookie: session=stolen"
    psql("BEGIN;"
         " ALTER TABLE urls DROP CONSTRAINT urls_original_url_header_safe;"
         " INSERT INTO urls (user_id, short_code, original_url)"
         "  VALUES (:'u', :'c', :'bad');"
         " ALTER TABLE urls ADD CONSTRAINT urls_original_url_header_safe"
         "  CHECK (original_url !~ '[\\x01-\\x1f\\x7f-\\x9f]') NOT VALID;"
         " COMMIT;", u=world.users[0]["id"], c=code, bad=bad)
    assert psql("SELECT position(E'\\r\\n' IN original_url) > 0 FROM urls"
                " WHERE short_code = :'c'", c=code) == "t"
    try:
        for c in (a, b, a, b):
            for path in (f"/{code}", f"/urls/{code}/redirect"):
                r = c.get(path)
                assert r.status == 404, (path, r)
                assert r.header("location") is None
                assert r.header("set-cookie") is None
        # A poisoned cache entry, for a code whose row is fine: read as
        # no entry (core/cacheentry.c), the row is asked for instead.
        good = world.urls[0]
        redis_cli("SET", f"sc:{good['short_code']}",
                  f"1:{good['id']}:{good['user_id']}:{bad}", "EX", "60")
        for c in (a, b):
            r = c.get(f"/{good['short_code']}")
            assert r.status == 302, r
            assert r.header("location") == good["original_url"]
            assert r.header("set-cookie") is None
    finally:
        redis_cli("DEL", f"sc:{world.urls[0]['short_code']}")
        psql("DELETE FROM urls WHERE short_code = :'c';"
             " ALTER TABLE urls VALIDATE CONSTRAINT"
             " urls_original_url_header_safe;", c=code)
