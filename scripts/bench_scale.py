"""
bench_scale.py: the service at production size (`make bench-scale`).

    make bench-scale [SCALE_USERS=100000 SCALE_URLS=1000000
                      SCALE_EVENTS=10000000 SCALE_LOCUST_USERS=500
                      SCALE_LOCUST_TIME=60s SCALE_SAMPLES=100]

1. Generates the data with tools/seedgen (kept in .build/scale/seed-U-R-E
   for the next run) and brings up the Docker-free stack on free ports in
   .build/scale/run; loads the data there unless that stack already holds
   exactly it (.build/scale/run/loaded names what was loaded).
2. Times every list shape (first page, deep page, keyset page, each
   filter, small and large whole lists), point reads, stats, writes and
   cache MISS and HIT redirects, SCALE_SAMPLES sequential requests each,
   on an instance directly and through nginx: p50 and p95.
3. Measures the memory of whole lists: the anonymous (heap) memory of every
   app worker and PostgreSQL backend, sampled every 10 ms during the
   request, against what it was before.
4. Runs Locust (locustfile.py, SCALE_LOCUST_USERS users) through nginx.
5. Prints the figures and each target with PASS or FAIL (docs/
   performance.md, "Scale"), writes them to .build/scale/report.md, stops
   the stack (SCALE_KEEP=1 leaves it up) and exits 1 if a target failed.

Targets (issue 10): every request p95 < 50 ms direct and < 100 ms through
nginx, whole lists excepted (their time is their size); whole lists grow
a worker by < 64 MB; Locust: no failure, p95 < 100 ms.
"""

import csv
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import http.client
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "scripts")
WORK = os.path.join(REPO, ".build", "scale")
RUN = os.path.join(WORK, "run")

USERS = int(os.environ.get("SCALE_USERS", "100000"))
URLS = int(os.environ.get("SCALE_URLS", "1000000"))
EVENTS = int(os.environ.get("SCALE_EVENTS", "10000000"))
SAMPLES = int(os.environ.get("SCALE_SAMPLES", "100"))
LOCUST_USERS = int(os.environ.get("SCALE_LOCUST_USERS", "500"))
LOCUST_TIME = os.environ.get("SCALE_LOCUST_TIME", "60s")
KEEP = os.environ.get("SCALE_KEEP", "0") == "1"

P95_DIRECT_MS = 50
P95_NGINX_MS = 100
WORKER_GROWTH_MB = 64
LOCUST_P95_MS = 100


def log(msg):
    print(f"bench-scale: {msg}", file=sys.stderr, flush=True)


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True,
                          **kw)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the stack and its data ------------------------------------------------

PORT_VARS = ["PG_PORT", "REDIS_PORT", "APP1_PORT", "APP2_PORT", "APP3_PORT",
             "NGINX_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT"]


def stack_env():
    """The ports of the stack in RUN, or fresh ones."""
    env = {"RUN_DIR": RUN, "PG_FAST": "1"}
    state = os.path.join(RUN, "stack.env")
    if os.path.exists(state):
        with open(state) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k in PORT_VARS:
                    env[k] = v
    for k in PORT_VARS:
        env.setdefault(k, str(free_port()))
    return env


def psql(env, sql):
    url = (f"postgresql://postgres@127.0.0.1:{env['PG_PORT']}/shortener"
           "?connect_timeout=5&gssencmode=disable")
    out = subprocess.run(["psql", url, "-X", "-q", "-t", "-A", "-F", "\t",
                          "-c", sql], capture_output=True, text=True,
                         check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def prepare(env):
    sizes = f"{USERS}-{URLS}-{EVENTS}"
    seed = os.path.join(WORK, f"seed-{sizes}")
    if not os.path.exists(os.path.join(seed, "events.csv")):
        run(["make", "-C", REPO, "-s", "seed"])
        log(f"generating {sizes} into {seed}")
        run([os.path.join(REPO, "tools", "seedgen"), "--users", str(USERS),
             "--urls", str(URLS), "--events", str(EVENTS), "--out", seed])
    log("stack up")
    run([os.path.join(SCRIPTS, "stack.sh"), "up"], env=env,
        stdout=subprocess.DEVNULL)
    marker = os.path.join(RUN, "loaded")
    if open(marker).read().strip() == sizes if os.path.exists(marker) else False:
        log(f"the stack already holds {sizes}")
        return
    log(f"loading {sizes} (a few minutes)")
    t0 = time.monotonic()
    url = (f"postgresql://postgres@127.0.0.1:{env['PG_PORT']}/shortener"
           "?connect_timeout=5&gssencmode=disable")
    run([os.path.join(SCRIPTS, "seed-load.sh"), "--replace", seed],
        env={**env, "DATABASE_URL": url})
    psql(env, "VACUUM (ANALYZE) users, urls, events, url_click_daily, "
              "list_counts")
    with open(marker, "w") as f:
        f.write(sizes + "\n")
    log(f"loaded in {time.monotonic() - t0:.0f} s")


# What the click writer stores on top of the seed's rows: PACKS packs of
# clicks (db/migrations/034), most of a few clicks, some full (size
# 1 + 255 * r^4: mean ~52), on random links of the last month. A list
# then merges rows and packs as it does in production.
PACKS = int(os.environ.get("SCALE_PACKS", "50000"))


def add_packs(env):
    if int(psql(env, "SELECT count(*) FROM click_packs")[0][0]) >= PACKS:
        log("the stack already holds its click packs")
        return
    t0 = time.monotonic()
    psql(env, f"""
        WITH p AS (
            SELECT nextval('events_id_seq') AS base, u.id AS url_id,
                u.user_id, u.short_code, s.n, s.at
            FROM (SELECT g, 1 + (255 * random() ^ 4)::int AS n,
                      now() AT TIME ZONE 'UTC' - random() * interval '28 days'
                      AS at,
                      1 + (random() * (SELECT max(id) - 1 FROM urls))::bigint
                      AS url
                  FROM generate_series(1, {PACKS}) g) s
            JOIN urls u ON u.id = s.url),
        ins AS (
            INSERT INTO click_packs (base, n, live, url_id, user_id, "at",
                short_code, clicks)
            SELECT base, n, n, url_id, user_id, at, short_code,
                '[' || (SELECT string_agg(format(
                    '[%s,"Mozilla/5.0 (scale)","https://example.com/",false]',
                    i * 1000), ',') FROM generate_series(0, n - 1) i) || ']'
            FROM p RETURNING n)
        SELECT list_counts_add(jsonb_build_object('events', sum(n),
            'events:event_type=click', sum(n))) FROM ins""")
    psql(env, "VACUUM (ANALYZE) click_packs")
    n = psql(env, "SELECT count(*), sum(n) FROM click_packs")[0]
    log(f"{n[0]} click packs ({n[1]} clicks) added in "
        f"{time.monotonic() - t0:.0f} s")


# ---- timing ------------------------------------------------------------------

class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.base = base
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def request(self, method, path, body=None):
        headers = {}
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=60)
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                ms = (time.perf_counter() - t0) * 1000
                if r.will_close:
                    self.conn.close()
                    self.conn = None
                return r.status, dict(r.getheaders()), data, ms
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def quantiles(ms):
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.95))]


class Shapes:
    """Every request shape, each a function of a random generator."""

    def __init__(self, env):
        self.rows = {t: int(n) for t, n in psql(env,
                     "SELECT 'users', max(id) FROM users UNION ALL "
                     "SELECT 'urls', max(id) FROM urls UNION ALL "
                     "SELECT 'events', max(id) FROM events")}
        # Ids of rows: since migration 034, event ids step by 256 (the
        # packs' blocks), so ids below max(id) are not all events.
        self.row_events = [int(i) for (i,) in psql(env,
                           "SELECT id FROM events TABLESAMPLE SYSTEM (0.1) "
                           "LIMIT 5000")]
        self.pack_clicks = [int(i) for (i,) in psql(env,
                            "SELECT base + n / 2 FROM click_packs "
                            "TABLESAMPLE SYSTEM (5) LIMIT 2000")]
        self.codes = [c for (c,) in psql(env,
                      "SELECT short_code FROM urls TABLESAMPLE SYSTEM (1) "
                      "WHERE is_active LIMIT 20000")]
        self.users_with_urls = [int(u) for (u,) in psql(env,
                                "SELECT DISTINCT user_id FROM urls "
                                "TABLESAMPLE SYSTEM (0.5) LIMIT 2000")]
        self.usernames = [u for (u,) in psql(env,
                          "SELECT username FROM users TABLESAMPLE SYSTEM (1) "
                          "LIMIT 500")]
        self.write_user = self.users_with_urls[0]
        self.miss = list(self.codes)
        random.shuffle(self.miss)
        self.hit = self.codes[:20]

    def rid(self, table):
        return random.randint(1, self.rows[table])

    def all(self):
        u, e = self.rows["urls"], self.rows["events"]
        return [
            ("GET /users first page", "GET",
             lambda: "/users?per_page=50"),
            ("GET /urls first page", "GET", lambda: "/urls?per_page=50"),
            ("GET /events first page", "GET", lambda: "/events?per_page=50"),
            ("GET /urls page 200", "GET",
             lambda: "/urls?page=200&per_page=50"),
            ("GET /events page 200", "GET",
             lambda: "/events?page=200&per_page=50"),
            ("GET /urls keyset, deep", "GET",
             lambda: f"/urls?after_id={random.randint(u // 2, u - 100)}&per_page=50"),
            ("GET /events keyset, deep", "GET",
             lambda: f"/events?after_id={random.randint(e // 2, e - 100)}&per_page=50"),
            ("GET /users?username=", "GET",
             lambda: "/users?per_page=50&username=" +
             urllib.parse.quote(random.choice(self.usernames))),
            ("GET /urls?user_id=", "GET",
             lambda: f"/urls?per_page=50&user_id={random.choice(self.users_with_urls)}"),
            ("GET /urls?is_active=false", "GET",
             lambda: "/urls?per_page=50&is_active=false"),
            ("GET /urls?short_code=", "GET",
             lambda: f"/urls?per_page=50&short_code={random.choice(self.codes)}"),
            ("GET /events?url_id=", "GET",
             lambda: f"/events?per_page=50&url_id={self.rid('urls')}"),
            ("GET /events?user_id=", "GET",
             lambda: f"/events?per_page=50&user_id={random.choice(self.users_with_urls)}"),
            ("GET /events?event_type=click", "GET",
             lambda: "/events?per_page=50&event_type=click"),
            ("GET /events?event_type=click, keyset", "GET",
             lambda: f"/events?per_page=50&event_type=click&after_id={random.randint(e // 2, e - 1000)}"),
            ("GET /events?user_id=&event_type=click", "GET",
             lambda: f"/events?per_page=50&event_type=click&user_id={random.choice(self.users_with_urls)}"),
            ("GET /urls?user_id= (whole list)", "GET",
             lambda: f"/urls?user_id={random.choice(self.users_with_urls)}"),
            ("GET /events?url_id= (whole list)", "GET",
             lambda: f"/events?url_id={self.rid('urls')}"),
            ("GET /urls (whole list: 400 above the cap)", "GET",
             lambda: "/urls"),
            ("GET /events (whole list: 400 above the cap)", "GET",
             lambda: "/events"),
            ("GET /users/<id>", "GET", lambda: f"/users/{self.rid('users')}"),
            ("GET /urls/<id>", "GET", lambda: f"/urls/{self.rid('urls')}"),
            ("GET /events/<id>", "GET",
             lambda: f"/events/{random.choice(self.row_events)}"),
            ("GET /events/<id> of a click pack", "GET",
             lambda: f"/events/{random.choice(self.pack_clicks)}"),
            ("GET /urls/<id>/stats", "GET",
             lambda: f"/urls/{self.rid('urls')}/stats"),
            ("POST /urls", "POST", lambda: "/urls"),
            ("redirect, cache MISS", "HEAD", lambda: f"/{self.miss.pop()}"),
            ("redirect, cache HIT", "HEAD",
             lambda: f"/{random.choice(self.hit)}"),
        ]


def time_shapes(shapes, client, label):
    results = []
    for name, method, path in shapes.all():
        if name == "redirect, cache HIT":
            for code in shapes.hit:      # cached before they are timed
                client.request("HEAD", f"/{code}")
        ms, statuses = [], {}
        for _ in range(SAMPLES):
            body = None
            if method == "POST":
                body = {"user_id": shapes.write_user,
                        "original_url": "https://example.com/bench"}
            status, _, _, t = client.request(method, path(), body)
            statuses[status] = statuses.get(status, 0) + 1
            ms.append(t)
        p50, p95 = quantiles(ms)
        results.append((name, p50, p95, statuses))
        log(f"{label}: {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms {statuses}")
    return results


# ---- memory --------------------------------------------------------------------

def children(ppid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(pid))
        except OSError:
            pass
    return out


def rss_anon_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def workers():
    """The Kore workers of the three instances: the children of each Kore
    parent, whose pid supervisord knows (`stack.sh ctl pid appN`)."""
    pids = []
    for n in (1, 2, 3):
        p = subprocess.run([os.path.join(SCRIPTS, "stack.sh"), "ctl", "pid", f"app{n}"],
                           env=dict(os.environ, **stack_env()), capture_output=True, text=True,
                           check=True)
        pids += children(int(p.stdout.split()[0]))
    return pids


def pg_backends():
    with open(os.path.join(os.path.realpath(os.path.join(RUN, "pg")),
                           "postmaster.pid")) as f:
        return children(int(f.readline()))


def whole_list_memory(client, path):
    """Peak growth of anonymous memory per worker and per backend."""
    wk, pg = workers(), pg_backends()
    base = {p: rss_anon_kb(p) for p in wk + pg}
    peak = dict(base)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for p in wk + pg_backends():
                peak[p] = max(peak.get(p, 0), rss_anon_kb(p))
                base.setdefault(p, peak[p])
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    status, _, body, ms = client.request("GET", path)
    time.sleep(0.1)
    stop.set()
    t.join()
    after = {p: rss_anon_kb(p) for p in wk}
    rows = len(json.loads(body)) if status == 200 else 0
    w_growth = max(peak[p] - base[p] for p in wk) / 1024
    w_kept = max(after[p] - base[p] for p in wk) / 1024
    pg_growth = max((peak[p] - base[p] for p in base if p not in wk),
                    default=0) / 1024
    return status, rows, len(body), ms, w_growth, w_kept, pg_growth


# ---- Locust -------------------------------------------------------------------

def locust(base):
    out = os.path.join(WORK, "locust")
    os.makedirs(out, exist_ok=True)
    log(f"Locust: {LOCUST_USERS} users for {LOCUST_TIME} through nginx")
    subprocess.run(["locust", "-f", os.path.join(REPO, "locustfile.py"),
                    "--headless", "-u", str(LOCUST_USERS), "-r", "100",
                    "-t", LOCUST_TIME, "--host", base, "--stop-timeout", "5",
                    "--only-summary", "--csv", os.path.join(out, "locust")],
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    with open(os.path.join(out, "locust_stats.csv")) as f:
        rows = list(csv.DictReader(f))
    total = [r for r in rows if r["Name"] == "Aggregated"][0]
    return (int(total["Request Count"]), int(total["Failure Count"]),
            float(total["50%"]), float(total["95%"]),
            float(total["Requests/s"]))


# ---- report ------------------------------------------------------------------

def main():
    os.makedirs(WORK, exist_ok=True)
    env = stack_env()
    verdicts, lines = [], []
    try:
        prepare(env)
        add_packs(env)
        direct = Client(f"http://127.0.0.1:{env['APP1_PORT']}")
        nginx = Client(f"http://127.0.0.1:{env['NGINX_PORT']}")
        shapes = Shapes(env)
        lines.append(f"# Scale benchmark: {USERS} users, {URLS} URLs, "
                     f"{EVENTS} events\n")
        lines.append(f"{SAMPLES} sequential requests per shape, one "
                     "connection, ms.\n")
        lines.append("| request | direct p50 | direct p95 | nginx p50 | "
                     "nginx p95 | statuses |")
        lines.append("|---|---:|---:|---:|---:|---|")
        d = time_shapes(shapes, direct, "direct")
        shapes = Shapes(env)
        n = time_shapes(shapes, nginx, "nginx")
        for (name, p50, p95, st), (_, q50, q95, st2) in zip(d, n):
            lines.append(f"| {name} | {p50:.1f} | {p95:.1f} | {q50:.1f} | "
                         f"{q95:.1f} | {st2} |")
            if "(whole list)" in name:
                continue
            verdicts.append((f"{name}: p95 direct {p95:.1f} ms < "
                             f"{P95_DIRECT_MS}", p95 < P95_DIRECT_MS))
            verdicts.append((f"{name}: p95 through nginx {q95:.1f} ms < "
                             f"{P95_NGINX_MS}", q95 < P95_NGINX_MS))

        lines.append("\n## Whole lists: memory\n")
        lines.append("| request | status | rows | bytes | ms | worker peak "
                     "growth MB | worker kept MB | PostgreSQL backend peak "
                     "growth MB |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        u = shapes.rows["urls"]
        for path in (f"/urls?after_id={max(0, u - 99000)}",
                     "/events?event_type=click", "/urls"):
            st, rows, size, ms, wg, wk, pg = whole_list_memory(nginx, path)
            lines.append(f"| GET {path} | {st} | {rows} | {size} | {ms:.0f} "
                         f"| {wg:.1f} | {wk:.1f} | {pg:.1f} |")
            verdicts.append((f"GET {path}: a worker grew {wg:.1f} MB < "
                             f"{WORKER_GROWTH_MB}", wg < WORKER_GROWTH_MB))

        reqs, fails, p50, p95, rps = locust(nginx.base)
        lines.append(f"\n## Locust: {LOCUST_USERS} users, {LOCUST_TIME}, "
                     "through nginx\n")
        lines.append(f"{reqs} requests ({rps:.0f}/s), {fails} failures, "
                     f"p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        verdicts.append((f"Locust: {fails} failures of {reqs}", fails == 0))
        verdicts.append((f"Locust: p95 {p95:.0f} ms < {LOCUST_P95_MS}",
                         p95 < LOCUST_P95_MS))
    finally:
        if not KEEP:
            subprocess.run([os.path.join(SCRIPTS, "stack.sh"), "down"],
                           env={**os.environ, **env},
                           stdout=subprocess.DEVNULL, check=False)
    lines.append("\n## Targets\n")
    for what, ok in verdicts:
        lines.append(f"- {'PASS' if ok else 'FAIL'} {what}")
    report = "\n".join(lines) + "\n"
    with open(os.path.join(WORK, "report.md"), "w") as f:
        f.write(report)
    print(report)
    failed = sum(not ok for _, ok in verdicts)
    print(f"{len(verdicts) - failed} targets met, {failed} missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
