"""
The developer's loop: `kodev build`, `kodev run`, a change, `kodev build`
and `kodev reload` in a checkout named shortener, under load. Every
request is answered, request ids stay unique, log lines carry real pids,
/metrics stays whole, and the workers are new ones afterwards.

The checkout is a directory named shortener whose src/ and assets/ are
the repository's and whose conf/ is a copy binding a free port (kodev
names the application after its directory; the port of conf/shortener.conf
is the documented 8090). DATABASE_URL and REDIS_URL name the test's
PostgreSQL and Redis (scripts/test.py runs this beside the integration
suite).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import kore_conf  # noqa: E402  scripts/kore_conf.py, the one renderer of conf/shortener.conf


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


@pytest.fixture()
def checkout(tmp_path):
    for var in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(var):
            pytest.fail(f"{var} is not set: run through scripts/test.py")
    app = tmp_path / "shortener"
    app.mkdir()
    for d in ("src", "assets"):
        os.makedirs(os.path.join(REPO, d), exist_ok=True)
        os.symlink(os.path.join(REPO, d), app / d)
    (app / "conf").mkdir()
    shutil.copy(os.path.join(REPO, "conf", "build.conf"), app / "conf")
    port = free_port()
    with open(os.path.join(REPO, "conf", "shortener.conf")) as f:
        conf = f.read()
    assert re.search(r"^\s*bind\s+127\.0\.0\.1\s+8090\s*$", conf, re.M), \
        "conf/shortener.conf binds the documented 8090"
    kore_conf.render(os.path.join(REPO, "conf", "shortener.conf"),
                     str(app / "conf" / "shortener.conf"), "127.0.0.1:%d" % port)
    return app, port


def kodev(app, *args, **kw):
    return subprocess.run(["kodev", *args], cwd=app, check=True,
                          capture_output=True, text=True, **kw)


def test_kodev_build_run_reload_under_load(checkout):
    app, port = checkout
    env = {**os.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    kodev(app, "build", timeout=600)
    log = open(app / "run.log", "w")
    run = subprocess.Popen(["kodev", "run"], cwd=app, env=env, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(200):
            try:
                if get(port, "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("kodev run never answered /health")

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/users", json.dumps(
            {"username": "kodev", "email": f"kodev-{time.time()}@example.com"}),
            {"Content-Type": "application/json"})
        user = json.loads(c.getresponse().read())
        c.request("POST", "/urls", json.dumps(
            {"user_id": user["id"], "original_url": "https://example.com/k"}),
            {"Content-Type": "application/json"})
        code = json.loads(c.getresponse().read())["short_code"]
        c.close()

        seen, problems, counts = {}, [], {"requests": 0}
        stop = threading.Event()
        lock = threading.Lock()

        # A keep-alive connection the old worker closes just as a request
        # is sent on it is reset: the race every HTTP/1.1 client meets, and
        # the case RFC 9110 (9.2.2) lets it retry an idempotent request on
        # a new connection (browsers and nginx's proxy_next_upstream do).
        # So a reset of a reused connection is retried once; one on a new
        # connection, or a second one, is a problem.
        def send(conn, method, path):
            reused = conn is not None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request(method, path)
                return conn, conn.getresponse()
            except (ConnectionResetError, BrokenPipeError,
                    http.client.RemoteDisconnected):
                if not reused:
                    raise
                conn.close()
                with lock:
                    counts["retried"] = counts.get("retried", 0) + 1
                return send(None, method, path)

        def load(path, method, want):
            conn = None
            while not stop.is_set():
                try:
                    conn, r = send(conn, method, path)
                    body = r.read()
                    rid = r.getheader("x-request-id")
                    with lock:
                        counts["requests"] += 1
                        if rid in seen:
                            problems.append(f"request id {rid} twice")
                        seen[rid] = 1
                        if r.status != want:
                            problems.append(f"{method} {path}: {r.status}")
                        if path == "/metrics" and \
                                b"http_requests_total{" not in body:
                            problems.append(f"/metrics without counters: "
                                            f"{len(body)} bytes")
                    if r.will_close:
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        problems.append(f"{method} {path}: {e!r}")
                    conn = None

        threads = [threading.Thread(target=load, args=a) for a in
                   [("/users?per_page=2", "GET", 200)] * 3 +
                   [(f"/{code}", "HEAD", 302)] * 3 + [("/metrics", "GET", 200)]]
        for t in threads:
            t.start()
        time.sleep(1.5)
        before = workers(run.pid)
        # A change, rebuilt and reloaded while the load goes on.
        os.utime(os.path.join(REPO, "src", "api", "ops.c"))
        kodev(app, "build", timeout=600)
        kodev(app, "reload")
        deadline = time.time() + 15
        while time.time() < deadline and set(workers(run.pid)) & set(before):
            time.sleep(0.2)
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join()
        after = workers(run.pid)
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
        log.close()

    text = (app / "run.log").read_text()
    assert not problems, f"{len(problems)} problems in {counts['requests']} " \
        f"requests, first: {problems[:5]}"
    assert counts["requests"] > 100, counts
    assert len(after) == 2 and not set(after) & set(before), \
        f"the workers were replaced: before {before}, after {after}"
    assert '"pid":0' not in text
    assert "stopped for a reload" in text
    print(f"kodev reload under load: {counts['requests']} requests answered "
          f"({counts.get('retried', 0)} sent again after a reused connection was reset), "
          f"workers {before} -> {after}")


def workers(kore):
    """The Kore workers: children of the kore parent (kodev run execs it)."""
    return sorted(children(kore))


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p))
        except OSError:
            pass
    return out
