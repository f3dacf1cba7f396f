"""
Link lifecycle through the stack (nginx and the three instances behind it):
expires_at and max_clicks are validated strictly; an expired link is a 410
on every instance at once, cached or not; max_clicks holds exactly under
concurrent redirects spread over the three instances (no over-run, no
under-run); HEAD and link previews look without using a click; changing
or removing either field takes effect on every instance for the very next
request.
"""

import concurrent.futures
import datetime
import time

import pytest

from http_util import expect_json_error, uniq

FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
           "Firefox/125.0")


def utc_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def user(public):
    r = public.post("/users", {"username": uniq("life"),
                               "email": uniq("life") + "@example.com"})
    assert r.status == 201, r
    return r.json()


def create(public, user, **fields):
    body = {"user_id": user["id"],
            "original_url": "https://example.com/" + uniq("life")}
    body.update(fields)
    r = public.post("/urls", body)
    assert r.status == 201, r
    return r.json()


def status_everywhere(instances, code, method="GET", ua=FIREFOX):
    return [c.request(method, "/" + code, headers={"User-Agent": ua}).status
            for c in instances]


def warm(instances, code, method="HEAD"):
    """Cached in Redis and in the workers' local copies of every instance."""
    for c in instances:
        for _ in range(12):
            c.request(method, "/" + code)


@pytest.mark.parametrize("value,why", [
    ("2030-01-01 00:00:00", "the contract's T"),
    ("2030-01-01T00:00:00Z", "no zone suffix"),
    ("2030-01-01T00:00:00.5", "no fraction"),
    ("2030-02-30T00:00:00", "a real date"),
    ("tomorrow", "a timestamp"),
    ("2020-01-01T00:00:00", "in the future"),
    (1893456000, "a string"),
    (True, "a string"),
    ({}, "a string"),
])
def test_a_bad_expiry_is_a_422_naming_the_field(public, user, value, why):
    r = public.post("/urls", {"user_id": user["id"],
                              "original_url": "https://example.com/x",
                              "expires_at": value})
    doc = expect_json_error(r, 422, why)
    assert "expires_at" in doc["fields"], doc


@pytest.mark.parametrize("value", [0, -1, "3", 1.5, True, 10**12 + 1, [], {}])
def test_a_bad_click_limit_is_a_422_naming_the_field(public, user, value):
    r = public.post("/urls", {"user_id": user["id"],
                              "original_url": "https://example.com/x",
                              "max_clicks": value})
    doc = expect_json_error(r, 422, f"max_clicks {value!r}")
    assert "max_clicks" in doc["fields"], doc


def test_a_refused_update_changes_nothing(public, user):
    u = create(public, user, max_clicks=5, expires_at=utc_in(3600))
    for body in ({"max_clicks": 0}, {"expires_at": "soon"},
                 {"max_clicks": 7, "expires_at": "2001-01-01T00:00:00"}):
        expect_json_error(public.request("PUT", f"/urls/{u['id']}", body),
                          422, repr(body))
    now = public.get(f"/urls/{u['id']}").json()
    assert (now["max_clicks"], now["expires_at"], now["updated_at"]) == \
        (u["max_clicks"], u["expires_at"], u["updated_at"])


def test_fields_default_to_none_and_null_clears_them(public, user):
    u = create(public, user)
    assert (u["expires_at"], u["max_clicks"], u["clicks_left"]) == \
        (None, None, None)
    when = utc_in(7200)
    u = create(public, user, expires_at=when, max_clicks=4)
    assert (u["expires_at"], u["max_clicks"], u["clicks_left"]) == (when, 4, 4)
    r = public.request("PUT", f"/urls/{u['id']}",
                       {"expires_at": None, "max_clicks": None})
    assert r.status == 200, r
    assert (r.json()["expires_at"], r.json()["max_clicks"]) == (None, None)
    events = public.get(f"/events?url_id={u['id']}&event_type=updated").json()
    assert sorted(e["details"]["field"] for e in events) == \
        ["expires_at", "max_clicks"], events


def test_expiry_is_a_410_on_every_instance_at_once_even_cached(
        public, instances, user):
    when = time.time() + 4
    stamp = datetime.datetime.fromtimestamp(
        int(when) + 1, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    expires = int(when) + 1
    u = create(public, user, expires_at=stamp)
    warm(instances, u["short_code"])
    assert status_everywhere(instances, u["short_code"], "HEAD") == [302] * 3
    # Keep every cache hot up to the moment of the expiry; a round that
    # ended before it must have redirected everywhere.
    while time.time() < expires - 0.2:
        got = status_everywhere(instances, u["short_code"], "HEAD")
        if time.time() < expires - 0.05:
            assert got == [302] * 3, got
        time.sleep(0.05)
    while time.time() < expires + 0.05:
        time.sleep(0.01)
    got = status_everywhere(instances, u["short_code"]) + \
        status_everywhere(instances, u["short_code"], "HEAD") + \
        [public.get("/" + u["short_code"]).status,
         public.get(f"/urls/{u['short_code']}/redirect").status]
    assert got == [410] * 8, got
    doc = expect_json_error(public.get("/" + u["short_code"]), 410, "expired")
    assert doc["code"] == "link_expired", doc
    # Expired links record no click.
    assert public.get(f"/urls/{u['id']}/stats").json()["clicks"] == 0


def test_removing_the_expiry_revives_the_link_everywhere(
        public, instances, user):
    u = create(public, user, expires_at=utc_in(2))
    warm(instances, u["short_code"])
    time.sleep(3.1)
    assert status_everywhere(instances, u["short_code"], "HEAD") == [410] * 3
    r = public.request("PUT", f"/urls/{u['id']}", {"expires_at": None})
    assert r.status == 200, r
    assert status_everywhere(instances, u["short_code"], "HEAD") == [302] * 3


def test_max_clicks_holds_exactly_across_three_instances(
        public, instances, user):
    cap = 60
    u = create(public, user, max_clicks=cap)
    warm(instances, u["short_code"])      # HEAD: looks, uses nothing
    clients = instances + [public]

    def hit(i):
        return clients[i % len(clients)].request(
            "GET", "/" + u["short_code"],
            headers={"User-Agent": FIREFOX}).status

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(hit, range(400)))
    counts = {s: statuses.count(s) for s in set(statuses)}
    assert counts == {302: cap, 410: 400 - cap}, counts
    assert public.get(f"/urls/{u['id']}").json()["clicks_left"] == 0
    doc = expect_json_error(public.get("/" + u["short_code"]), 410, "capped")
    assert doc["code"] == "link_exhausted", doc
    assert status_everywhere(instances, u["short_code"], "HEAD") == [410] * 3
    # Exactly cap click events reach the database.
    deadline = time.time() + 10
    clicks = 0
    while time.time() < deadline:
        clicks = public.get(f"/urls/{u['id']}/stats").json()["clicks"]
        if clicks >= cap:
            break
        time.sleep(0.2)
    time.sleep(0.3)
    assert public.get(f"/urls/{u['id']}/stats").json()["clicks"] == cap


def test_head_and_link_previews_do_not_use_clicks(public, instances, user):
    u = create(public, user, max_clicks=2)
    for c in instances:
        assert c.request("HEAD", "/" + u["short_code"]).status == 302
        r = c.request("GET", "/" + u["short_code"], headers={
            "User-Agent": "facebookexternalhit/1.1 "
                          "(+http://www.facebook.com/externalhit_uatext.php)"})
        assert r.status == 302, r
    assert public.get(f"/urls/{u['id']}").json()["clicks_left"] == 2
    assert status_everywhere(instances, u["short_code"]) == [302, 302, 410]


def test_raising_the_cap_reopens_the_link_on_every_instance(
        public, instances, user):
    u = create(public, user, max_clicks=1)
    warm(instances, u["short_code"])
    assert status_everywhere(instances, u["short_code"]) == [302, 410, 410]
    r = public.request("PUT", f"/urls/{u['id']}", {"max_clicks": 3})
    assert r.status == 200 and r.json()["clicks_left"] == 2, r
    assert status_everywhere(instances, u["short_code"]) == [302, 302, 410]
    # Removing the cap: unlimited, and back on the cache-only path.
    public.request("PUT", f"/urls/{u['id']}", {"max_clicks": None})
    assert status_everywhere(instances, u["short_code"]) == [302] * 3


def test_a_cap_put_on_a_used_link_counts_its_past_clicks(
        public, instances, user):
    u = create(public, user)
    assert status_everywhere(instances, u["short_code"]) == [302] * 3
    deadline = time.time() + 10
    while time.time() < deadline and \
            public.get(f"/urls/{u['id']}/stats").json()["clicks"] < 3:
        time.sleep(0.1)
    r = public.request("PUT", f"/urls/{u['id']}", {"max_clicks": 4})
    assert r.json()["clicks_left"] == 1, r
    assert status_everywhere(instances, u["short_code"]) == [302, 410, 410]
