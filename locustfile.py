"""
Load test of the shortener: what a day of real traffic looks like, compressed.

    make load                                   # 500 users, 60 s, http://127.0.0.1:8080
    locust -f locustfile.py --headless -u 500 -r 100 -t 60s --host http://127.0.0.1:8080

The mix, per simulated user, one request every WAIT_MIN..WAIT_MAX seconds
(0.5..1.5 by default, so 500 users make about 480 requests/s):

  ~73%  GET /<code> (allow_redirects=False, expects 302 + Location) on the
        active codes of GET /urls?per_page=1000, drawn from a Zipf law: a few
        hot links take most clicks, the rest form a long tail; a small share
        goes to links created during the run, and some are HEAD (link
        previews, monitors)
  ~22%  reads: paginated GET /urls (page numbers within the first 10 000
        rows, and keyset pages at any depth), GET /events?url_id=, GET /urls?user_id=,
        GET /events?user_id=&event_type=, GET /users/<id>, GET /urls/<id>,
        GET /urls/<id>/stats
   ~2%  writes: POST /urls for a pool of users created at test start,
        POST /events
   ~3%  invalid requests, counted as successes when the expected error
        arrives: unknown code (404), bad JSON (400), wrong types (422)

Writes and the nginx rate limits. nginx limits every client address
(docs/api.md, "Rate limits"): by default 200 writes/s with a burst of
1 000, 2 000 reads/s with a burst of 4 000, 1 024 connections. Every
simulated user here shares one address, and the defaults are chosen so
that this test never meets them: 500 users make about 480 requests/s, 13
of them writes. The test still keeps its writes (the invalid POSTs
included) under one process-wide budget, WRITE_RATE per second (150 by
default, under the limit): a user whose turn is a write while the budget
is spent clicks a link instead, so raising USERS far beyond 500 does not
turn the run into a test of the limiter. A 429 is a failure like any
other unexpected status, 503 included: with the defaults there must be
none.

Settings (environment): WAIT_MIN, WAIT_MAX (seconds between a user's
requests), WRITE_RATE (writes/s for the whole process), POOL_USERS (users
created at start, owners of the new links), ZIPF_S (skew of the code
popularity; 1.1 by default: the top 10 of 1000 codes take about half the
redirects). The budget is per Locust process: with --master/--worker, divide
WRITE_RATE by the number of workers.
"""

import bisect
import itertools
import json
import os
import random
import string
import time
import urllib.error
import urllib.request
from collections import deque

from locust import FastHttpUser, between, events, task
from locust.runners import MasterRunner

WAIT_MIN = float(os.environ.get("WAIT_MIN", "0.5"))
WAIT_MAX = float(os.environ.get("WAIT_MAX", "1.5"))
WRITE_RATE = float(os.environ.get("WRITE_RATE", "150"))
# The deepest row a page number may start at (the service's LIST_OFFSET_MAX).
OFFSET_MAX = int(os.environ.get("LIST_OFFSET_MAX", "10000"))
POOL_USERS = int(os.environ.get("POOL_USERS", "20"))
ZIPF_S = float(os.environ.get("ZIPF_S", "1.1"))

JSON_HEADERS = {"Content-Type": "application/json"}


class Data:
    """What the users share, filled once by on_test_start."""

    total_urls = 0      # X-Total-Count of GET /urls at start
    max_url_id = 1      # about the largest URL id at start (keyset reads)
    urls = []           # active URLs of the first page of GET /urls
    cum_weights = []    # Zipf popularity over `urls`, cumulative
    user_ids = []       # ids seen in that page plus the pool
    pool = []           # users created for this run: they create the links
    fresh = deque(maxlen=500)   # (id, code) of links created during the run

    @classmethod
    def hot_url(cls):
        r = random.random() * cls.cum_weights[-1]
        return cls.urls[bisect.bisect_left(cls.cum_weights, r)]


class WriteBudget:
    """A token bucket for the whole process: rate per second, burst of one second."""

    def __init__(self, rate):
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


budget = WriteBudget(WRITE_RATE)


# ---- set-up -----------------------------------------------------------------

def _call(base, method, path, body=None, attempts=10, headers_out=None):
    """One request outside Locust's statistics; waits out 429/503 as told."""
    data = None if body is None else json.dumps(body).encode()
    for _ in range(attempts):
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers=JSON_HEADERS if data else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                if headers_out is not None:
                    headers_out.update((k.lower(), v) for k, v in resp.headers.items())
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code not in (429, 503):
                raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:200]!r}")
            time.sleep(float(e.headers.get("Retry-After") or 1))
    raise RuntimeError(f"{method} {path}: still refused after {attempts} attempts")


@events.test_start.add_listener
def on_test_start(environment, **_kw):
    if isinstance(environment.runner, MasterRunner):
        return      # the workers send the requests and need the data
    base = environment.host.rstrip("/")

    headers = {}
    urls = _call(base, "GET", "/urls?per_page=1000", headers_out=headers)
    Data.total_urls = int(headers.get("x-total-count", len(urls)))
    last = _call(base, "GET", f"/urls?after_id={max(Data.total_urls - 1, 0)}&per_page=1000")
    Data.max_url_id = max([u["id"] for u in last + urls] or [1])
    Data.urls = [u for u in urls if u["is_active"]]
    if not Data.urls:
        raise RuntimeError(f"{base}/urls has no active URL: is the database seeded?")
    # Popularity is not the id order: shuffle once (seeded, so every run
    # has the same hot codes), then rank r gets weight 1 / r^s.
    random.Random(42).shuffle(Data.urls)
    Data.cum_weights = list(itertools.accumulate(
        1 / (rank ** ZIPF_S) for rank in range(1, len(Data.urls) + 1)))
    Data.user_ids = sorted({u["user_id"] for u in urls})

    run = f"{int(time.time())}-{os.getpid()}"
    Data.pool = [
        _call(base, "POST", "/users",
              {"username": f"load{i}", "email": f"load-{run}-{i}@loadtest.example"})["id"]
        for i in range(POOL_USERS)
    ]
    Data.user_ids += Data.pool
    print(f"locustfile: {len(Data.urls)} active codes, {len(Data.pool)} pool users "
          f"(ids {Data.pool[0]}..{Data.pool[-1]}), write budget {WRITE_RATE}/s")


# ---- the user -----------------------------------------------------------------

def _random_code():
    # Well-formed (3..32 of [A-Za-z0-9_-]) and never issued: random codes
    # are 6 characters without '-'.
    return "nx-" + "".join(random.choices(string.ascii_letters + string.digits, k=8))


class Visitor(FastHttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)
    # A slow answer is a slow answer, not a dropped connection.
    network_timeout = 10.0
    connection_timeout = 5.0

    # -- checking answers --

    def _expect(self, resp, status, check=None):
        """Success when `status` arrived (and `check(resp)` holds)."""
        if resp.status_code == status:
            if check is None or check(resp):
                resp.success()
            else:
                resp.failure(f"{status} with an unexpected body: {resp.text[:120]!r}")
            return True
        resp.failure(f"expected {status}, got {resp.status_code}: {(resp.text or '')[:120]!r}")
        return False

    @staticmethod
    def _error_code(code):
        return lambda resp: f'"code":"{code}"' in (resp.text or "")

    # -- redirects: most of the traffic --

    def _redirect(self, code, name, method="GET"):
        with self.client.request(method, f"/{code}", name=name, allow_redirects=False,
                                 catch_response=True) as resp:
            self._expect(resp, 302, lambda r: bool(r.headers.get("Location")))

    @task(600)
    def redirect(self):
        self._redirect(Data.hot_url()["short_code"], "/:code")

    @task(30)
    def redirect_fresh(self):
        if not Data.fresh:
            return self.redirect()
        self._redirect(random.choice(Data.fresh)[1], "/:code (created in the run)")

    @task(20)
    def preview(self):
        self._redirect(Data.hot_url()["short_code"], "/:code", method="HEAD")

    # -- reads --

    def _get(self, path, name, check=None):
        with self.client.get(path, name=name, catch_response=True) as resp:
            self._expect(resp, 200, check)

    @staticmethod
    def _paginated(resp):
        return resp.text.startswith("[") and resp.headers.get("X-Total-Count") is not None

    @task(30)
    def list_urls(self):
        per_page = random.choice((10, 20, 50))
        # Any page a page number reaches (LIST_OFFSET_MAX rows in), up to
        # one past the end of a short list (an empty page is still a 200).
        last = min(Data.total_urls, OFFSET_MAX) // per_page + 1
        page = random.randint(1, last)
        self._get(f"/urls?page={page}&per_page={per_page}", "/urls?page&per_page",
                  self._paginated)

    @task(10)
    def list_urls_keyset(self):
        # Deeper than page numbers reach: keyset, as the Link header leads.
        after = random.randint(0, max(Data.max_url_id - 50, 0))
        self._get(f"/urls?after_id={after}&per_page=50", "/urls?after_id&per_page",
                  self._paginated)

    @task(40)
    def list_events_of_url(self):
        url_id = Data.hot_url()["id"]
        per_page = random.choice((10, 20, 50))
        self._get(f"/events?url_id={url_id}&per_page={per_page}",
                  "/events?url_id&per_page", self._paginated)

    @task(20)
    def list_urls_of_user(self):
        user_id = random.choice(Data.user_ids)
        self._get(f"/urls?user_id={user_id}&page=1&per_page=20", "/urls?user_id&per_page",
                  self._paginated)

    @task(30)
    def get_user(self):
        self._get(f"/users/{random.choice(Data.user_ids)}", "/users/:id")

    @task(30)
    def get_url(self):
        self._get(f"/urls/{Data.hot_url()['id']}", "/urls/:id")

    @task(30)
    def get_stats(self):
        self._get(f"/urls/{Data.hot_url()['id']}/stats", "/urls/:id/stats")

    @task(10)
    def get_events_of_type(self):
        self._get(f"/events?user_id={random.choice(Data.user_ids)}&event_type=created"
                  "&per_page=20", "/events?user_id&event_type&per_page", self._paginated)

    # -- writes, under the budget --

    @task(12)
    def create_url(self):
        if not budget.take():
            return self.redirect()
        n = random.randrange(10**9)
        body = {"user_id": random.choice(Data.pool),
                "original_url": f"https://example.com/load/{n}?utm_source=locust",
                "title": f"load test {n}" if n % 2 else None}
        with self.client.post("/urls", json=body, name="/urls", catch_response=True) as resp:
            if self._expect(resp, 201, lambda r: '"short_code"' in r.text):
                url = resp.json()
                Data.fresh.append((url["id"], url["short_code"]))

    @task(6)
    def create_event(self):
        if not budget.take():
            return self.redirect()
        url = Data.hot_url()
        body = {"url_id": url["id"], "user_id": url["user_id"], "event_type": "share",
                "details": {"channel": random.choice(("email", "chat", "social"))}}
        with self.client.post("/events", json=body, name="/events", catch_response=True) as resp:
            self._expect(resp, 201)

    # -- invalid requests: the expected error is a success --

    @task(20)
    def unknown_code(self):
        with self.client.get(f"/{_random_code()}", name="/:code (unknown, 404)",
                             allow_redirects=False, catch_response=True) as resp:
            self._expect(resp, 404, self._error_code("not_found"))

    @task(3)
    def bad_json(self):
        if not budget.take():
            return self.redirect()
        with self.client.post("/urls", data='{"user_id": 1, "original_url": ',
                              headers=JSON_HEADERS, name="/urls (bad JSON, 400)",
                              catch_response=True) as resp:
            self._expect(resp, 400, self._error_code("bad_request"))

    @task(3)
    def wrong_types(self):
        if not budget.take():
            return self.redirect()
        body = {"user_id": str(random.choice(Data.pool)), "original_url": "https://example.com/",
                "is_active": 1}
        with self.client.post("/urls", json=body, name="/urls (wrong types, 422)",
                              catch_response=True) as resp:
            self._expect(resp, 422, self._error_code("validation_failed"))
