"""
Click analytics through nginx: clicks of known User-Agents and Referers
land in the right buckets of GET /urls/<id>/stats (people and bots, Referer
hosts, browsers, operating systems, devices, days and hours); bots are
recorded and flagged; HEAD and link-preview fetchers are not counted; the
period is validated strictly.
"""

import datetime
import time

import pytest

from http_util import expect_json_error, uniq

FIREFOX_LINUX = ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
                 "Firefox/125.0")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
                 "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
                 "Mobile/15E148 Safari/604.1")
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
                  "Safari/537.36")
GOOGLEBOT = ("Mozilla/5.0 (compatible; Googlebot/2.1; "
             "+http://www.google.com/bot.html)")
CURL = "curl/8.5.0"
PREVIEW = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"

# (User-Agent, Referer, how many)
CLICKS = [
    (FIREFOX_LINUX, "https://news.example.com/story?id=1", 3),
    (SAFARI_IPHONE, None, 2),
    (CHROME_WINDOWS, "https://www.Search.example/q", 1),
    (GOOGLEBOT, None, 2),
    (CURL, "https://news.example.com/", 1),
]


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def clicked(public):
    r = public.post("/users", {"username": uniq("stats"),
                               "email": uniq("stats") + "@example.com"})
    assert r.status == 201, r
    r = public.post("/urls", {"user_id": r.json()["id"],
                              "original_url": "https://example.com/stats"})
    assert r.status == 201, r
    u = r.json()
    for ua, ref, n in CLICKS:
        headers = {"User-Agent": ua}
        if ref:
            headers["Referer"] = ref
        for _ in range(n):
            assert public.get("/" + u["short_code"],
                              headers=headers).status == 302
    # Neither counts.
    assert public.get("/" + u["short_code"],
                      headers={"User-Agent": PREVIEW}).status == 302
    assert public.request("HEAD", "/" + u["short_code"],
                          headers={"User-Agent": FIREFOX_LINUX}).status == 302
    want = sum(n for _, _, n in CLICKS)
    deadline = time.time() + 15
    while time.time() < deadline:
        s = public.get(f"/urls/{u['id']}/stats").json()
        if s["period"]["human_clicks"] + s["period"]["bot_clicks"] >= want:
            break
        time.sleep(0.2)
    time.sleep(0.3)
    return u, public.get(f"/urls/{u['id']}/stats").json()


def named(rows):
    return {r["name"]: r["clicks"] for r in rows}


def test_people_and_bots(clicked):
    _, s = clicked
    p = s["period"]
    assert s["clicks"] == 9, s
    assert (p["clicks"], p["human_clicks"], p["bot_clicks"]) == (9, 6, 3), p


def test_breakdowns_count_people_only(clicked):
    _, s = clicked
    p = s["period"]
    assert named(p["referrers"]) == {"news.example.com": 3, "(direct)": 2,
                                     "www.search.example": 1}, p
    assert named(p["browsers"]) == {"Firefox": 3, "Safari": 2, "Chrome": 1}
    assert named(p["os"]) == {"Linux": 3, "iOS": 2, "Windows": 1}
    assert named(p["devices"]) == {"desktop": 4, "mobile": 2}
    assert p["referrers"][0]["name"] == "news.example.com", "most first"


def test_days_and_hours(clicked):
    _, s = clicked
    p = s["period"]
    assert p["to"] == today() and len(p["by_day"]) == 30
    day = p["by_day"][-1]
    assert day == {"date": today(), "clicks": 9, "human_clicks": 6,
                   "bot_clicks": 3}, day
    assert sum(h["clicks"] for h in p["by_hour"]) == 9
    assert sum(h["bot_clicks"] for h in p["by_hour"]) == 3
    assert s["daily"][-1] == {"date": today(), "clicks": 9}


def test_click_events_are_flagged(public, clicked):
    u, _ = clicked
    events = public.get(f"/events?url_id={u['id']}&event_type=click").json()
    assert len(events) == 9
    bots = {e["details"]["user_agent"]: e["details"]["bot"] for e in events}
    assert bots == {FIREFOX_LINUX: False, SAFARI_IPHONE: False,
                    CHROME_WINDOWS: False, GOOGLEBOT: True, CURL: True}


def test_a_period_without_clicks(public, clicked):
    u, _ = clicked
    s = public.get(f"/urls/{u['id']}/stats?from=2024-01-01&to=2024-01-07")
    assert s.status == 200, s
    p = s.json()["period"]
    assert (p["from"], p["to"], p["clicks"], p["human_clicks"]) == \
        ("2024-01-01", "2024-01-07", 0, 0)
    assert [d["date"] for d in p["by_day"]] == \
        [f"2024-01-0{i}" for i in range(1, 8)]
    assert p["by_hour"] == [] and p["referrers"] == [] and p["browsers"] == []
    assert s.json()["clicks"] == 9, "the all-time total stays"


@pytest.mark.parametrize("query,param", [
    ("from=2024-02-30", "from"), ("to=yesterday", "to"),
    ("from=2024-01-08&to=2024-01-07", "from"),
    ("from=2023-01-01&to=2024-01-02", "from"),
    ("from=1999-12-31", "from"), ("days=7", "days"),
])
def test_a_bad_period_is_a_400_naming_it(public, clicked, query, param):
    u, _ = clicked
    doc = expect_json_error(public.get(f"/urls/{u['id']}/stats?{query}"),
                            400, query)
    assert f"'{param}'" in doc["error"], doc


def test_stats_of_an_unknown_url_is_a_404(public):
    expect_json_error(public.get("/urls/999999999/stats"), 404, "unknown")
