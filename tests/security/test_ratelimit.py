"""
Rate limits: one budget per key shared by every instance (Redis), one per
client address for requests without a valid key, 429 with Retry-After
past it, and a per-worker budget, never an outage, while Redis cannot be
reached.
"""

import client
from conftest import RATE_ADDRESS, RATE_KEY, make_key


def counts(r):
    return (int(r.header("x-ratelimit-limit")),
            int(r.header("x-ratelimit-remaining")),
            int(r.header("x-ratelimit-reset")))


def expect_429(r):
    assert r.status == 429, r
    assert r.json()["code"] == "rate_limited"
    retry = int(r.header("retry-after"))
    assert 1 <= retry <= 60
    limit, remaining, reset = counts(r)
    assert remaining == 0 and reset == retry


def test_a_key_has_one_budget_across_instances(a, b):
    key = {"X-Api-Key": make_key("read-only")["key"]}
    seen = []
    for i in range(RATE_KEY):
        r = (a, b)[i % 2].get("/users?per_page=1", headers=key)
        assert r.status == 200, (i, r)
        limit, remaining, reset = counts(r)
        assert limit == RATE_KEY and 1 <= reset <= 60
        seen.append(remaining)
    # Counting down by one a request, whichever instance answered.
    assert seen == list(range(RATE_KEY - 1, -1, -1)), seen[:10]
    for c in (a, b):
        expect_429(c.get("/users?per_page=1", headers=key))
        expect_429(c.post("/urls", {"user_id": 1, "original_url":
                                    "https://example.com/"}, headers=key))
    # Another key is not affected.
    other = {"X-Api-Key": make_key("read-only")["key"]}
    r = a.get("/users?per_page=1", headers=other)
    assert r.status == 200 and counts(r)[1] == RATE_KEY - 1


def test_requests_without_a_key_share_their_address_budget(a, b, world):
    me = {"X-Forwarded-For": client.address()}
    seen = []
    for i in range(RATE_ADDRESS):
        r = (a, b)[i % 2].get("/users", headers=me)
        assert r.status == 401, (i, r)
        seen.append(counts(r)[1])
    assert seen == list(range(RATE_ADDRESS - 1, -1, -1)), seen[:10]
    expect_429(a.get("/users", headers=me))
    # Guessing keys counts against the same budget.
    expect_429(b.get("/users", headers={**me, "X-Api-Key": "shk_" + "b" * 40}))
    # Another address, and the redirects, are not affected.
    r = a.get("/users", headers={"X-Forwarded-For": client.address()})
    assert r.status == 401 and counts(r)[1] == RATE_ADDRESS - 1
    code = world.urls[0]["short_code"]
    for _ in range(5):
        assert a.get(f"/{code}", headers=me).status == 302


def test_without_redis_each_worker_counts_its_share(instances):
    """The isolated instance's Redis does not exist: per key 10 a minute,
    split over its 2 workers; a single connection stays on one worker."""
    c = instances["clients"]["isolated"]
    key = {"X-Api-Key": make_key("read-only")["key"]}
    statuses = []
    for _ in range(8):
        r = c.get("/users?per_page=1", headers=key)
        statuses.append(r.status)
        if r.status == 200:
            assert counts(r)[0] == 5
    assert statuses == [200] * 5 + [429] * 3, statuses
    expect_429(c.get("/users?per_page=1", headers=key))
    assert c.get("/ready").json()["cache"] == "degraded"
    assert c.get("/health").status == 200


def test_an_untrusted_peer_cannot_choose_its_address(instances):
    """TRUSTED_PROXIES is empty there: X-Forwarded-For is not believed, so
    one peer gets one address budget (10, per worker 5) whatever it says."""
    c = instances["clients"]["isolated"]
    statuses = [c.get("/users", headers={
        "X-Forwarded-For": client.address(), "X-Real-IP": client.address()
    }).status for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3, statuses
