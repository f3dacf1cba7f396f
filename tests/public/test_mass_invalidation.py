"""
Deleting a user who owns 20 000 cached links, under redirect load: none of
the links redirects afterwards on any instance, from Redis or from a
worker's local copy, and the Redis connection of no worker was declared
down (its breaker did not trip) while it happened.

The links are written straight into PostgreSQL (creating 20 000 through
the API would test the API, not the invalidation), then every one is
cached on every instance by a HEAD on that instance.
"""

import concurrent.futures
import glob
import os
import random
import threading
import time

from http_util import psql, uniq

LINKS = int(os.environ.get("MASS_LINKS", "20000"))


def cache_down_lines(run_dir):
    n = 0
    for log in glob.glob(os.path.join(run_dir, "app*", "app.log")):
        with open(log, errors="replace") as f:
            n += sum('"event":"cache_down"' in line for line in f)
    return n


def heads(client, codes, want=None):
    """HEAD every code on one instance; the statuses."""
    def one(chunk):
        out = []
        for code in chunk:
            r = client.request("HEAD", f"/{code}")
            out.append((code, r.status, r.header("x-cache")))
        return out
    chunks = [codes[i::4] for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return [x for part in pool.map(one, chunks) for x in part]


def test_deleting_a_user_with_20000_cached_links(public, instances,
                                                 database_url, run_dir):
    email = uniq("mass") + "@example.com"
    user = public.post("/users", {"username": "mass", "email": email}).json()
    prefix = "m" + uniq("")[-8:]
    psql(database_url,
         "INSERT INTO urls (user_id, short_code, original_url) "
         "SELECT :p1, :'p2' || g, 'https://example.com/mass/' || g "
         "FROM generate_series(1, :p3) g", user["id"], prefix, LINKS)
    codes = [f"{prefix}{i}" for i in range(1, LINKS + 1)]

    # Cached everywhere: every instance has asked Redis for every code.
    for inst in instances:
        got = heads(inst, codes)
        assert all(s == 302 for _, s, _ in got), \
            [g for g in got if g[1] != 302][:5]
    hits = sum(x == "HIT" for inst in instances
               for _, _, x in heads(inst, random.sample(codes, 200)))
    assert hits >= 500, f"the links are cached ({hits} HITs of 600)"

    downs_before = cache_down_lines(run_dir)
    stop = threading.Event()
    load = {"requests": 0, "errors": 0}

    def redirect_load(inst):
        while not stop.is_set():
            r = inst.request("HEAD", f"/{random.choice(codes)}")
            load["requests"] += 1
            if r.status not in (302, 404):
                load["errors"] += 1

    threads = [threading.Thread(target=redirect_load, args=(inst,))
               for inst in instances]
    for t in threads:
        t.start()
    time.sleep(1)
    t0 = time.monotonic()
    r = public.request("DELETE", f"/users/{user['id']}")
    took = time.monotonic() - t0
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert r.status == 204, r
    assert load["errors"] == 0, load

    # Not one of them answers anywhere.
    for inst in instances:
        stale = [g for g in heads(inst, codes) if g[1] != 404]
        assert not stale, (f"{len(stale)} links still redirect on "
                           f"{inst.base}, e.g. {stale[:5]}")
    assert cache_down_lines(run_dir) == downs_before, \
        "a worker declared Redis down during the deletion"
    print(f"deleted {LINKS} cached links in {took:.2f} s under "
          f"{load['requests']} redirects")
