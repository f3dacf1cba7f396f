"""Helpers shared by the pytest suites (tests/stack, tests/compose).

Run by scripts/test.py with `-rs` (skips are listed with their reasons and
never counted as passed) and `--junitxml`. CHAOS_PROFILE (short, the
default, or full) selects the chaos suite's length; CHAOS_DOC names the
document a full run writes its figures into.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "chaos"))

PROFILE = os.environ.get("CHAOS_PROFILE", "short")
DOC = os.environ.get("CHAOS_DOC")


def free_port():
    """A loopback port nobody listens on, chosen by the kernel."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd, env=None, timeout=None, check=False, cwd=None):
    """Run CMD; returns the CompletedProcess (stdout and stderr as text).
    Output is also echoed, so that a failing test shows what happened."""
    p = subprocess.run([str(c) for c in cmd], env=env, timeout=timeout, cwd=cwd,
                       capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if check:
        assert p.returncode == 0, "%s exited %d:\n%s" % (
            " ".join(map(str, cmd)), p.returncode, (p.stdout + p.stderr)[-3000:])
    return p


def last_totals(text):
    """(passed, failed) of a runner's last "N passed, M failed" line."""
    for line in reversed(text.splitlines()):
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "passed," and parts[3].startswith("failed"):
            return int(parts[0]), int(parts[2])
    return None


# The SIGKILL tests (tests/stack, tests/compose): an instance killed at
# saturation loses none of the clicks it answered and stores none twice.
CRASH_LUA = REPO / "tests" / "stack" / "crashload.lua"
CRASH_CONNECTIONS = 32
CRASH_TRACKED = 8


def tracked_client(host, port, path, run, stop, answered, tid):
    """Keep-alive GETs, each with a User-Agent of its own; the ones whose
    302 arrived go into ANSWERED."""
    conn, n = None, 0
    while not stop.is_set():
        n += 1
        ua = "%s-py%d-%d" % (run, tid, n)
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", path, headers={"User-Agent": ua})
            r = conn.getresponse()
            r.read()
            if r.status == 302:
                answered.append(ua)
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None


def crash_under_load(url, path, link_id, kill, rows, record, seconds=10, kill_at=4,
                     settle_s=60):
    """Runs wrk (CRASH_CONNECTIONS connections, as fast as it can) and
    CRASH_TRACKED Python clients that remember every request answered 302,
    at URL+PATH for SECONDS, calls KILL() after KILL_AT seconds, then waits
    until the clicks of this run stored for LINK_ID stop changing. ROWS(sql)
    runs a query on the database and returns its rows. Returns the figures,
    also written to RECORD (a JSON file: a passing test shows them there):
    for wrk's requests counts (a 302 the kill cut off, or one wrk stopped
    reading at its deadline, may have its click stored: at most two per
    connection), for the tracked ones every answered
    request's click by its User-Agent."""
    run = "crash%d" % int(time.time() * 1000)
    u = urlsplit(url)
    stop, answered = threading.Event(), []
    clients = [threading.Thread(target=tracked_client, daemon=True,
                                args=(u.hostname, u.port, path, run, stop, answered, t))
               for t in range(CRASH_TRACKED)]
    for t in clients:
        t.start()
    wrk = subprocess.Popen(["wrk", "-t2", "-c%d" % CRASH_CONNECTIONS, "-d%ds" % seconds,
                            "--timeout", "5s", "-s", str(CRASH_LUA), url + path, "--", path,
                            run + "-wrk"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(kill_at)
    killed_at = time.time()
    kill()
    out = wrk.communicate(timeout=seconds + 60)[0]
    stop.set()
    for t in clients:
        t.join(10)
    sys.stdout.write(out)
    m = re.search(r"crash-result responses=(\d+) not_3xx=(\d+)", out)
    assert m, "wrk gave no figures:\n" + out
    wrk_answered = int(m.group(1)) - int(m.group(2))

    where = "url_id = %d AND click_user_agent LIKE '%s-%%'" % (link_id, run)
    last, deadline = None, time.time() + settle_s
    while time.time() < deadline:
        now = rows("SELECT count(*) FROM events_all WHERE " + where)
        if now == last:
            break
        last = now
        time.sleep(2)
    stored = {ua: int(n) for ua, n in rows(
        "SELECT click_user_agent, count(*) FROM events_all WHERE %s GROUP BY 1" % where)}
    answered_set = set(answered)
    wrk_stored = {ua: n for ua, n in stored.items() if ua.startswith(run + "-wrk-")}
    py_stored = {ua: n for ua, n in stored.items() if ua.startswith(run + "-py")}
    fig = dict(
        wrk_answered_302=wrk_answered, wrk_not_3xx=int(m.group(2)),
        wrk_clicks_stored=sum(wrk_stored.values()),
        wrk_doubled=sum(n - 1 for n in wrk_stored.values()),
        wrk_lost_at_least=max(0, wrk_answered - len(wrk_stored)),
        wrk_unanswered_stored=max(0, len(wrk_stored) - wrk_answered),
        tracked_answered_302=len(answered),
        tracked_lost=sum(1 for ua in answered if ua not in py_stored),
        tracked_doubled=sum(n - 1 for n in py_stored.values()),
        tracked_unanswered_stored=sum(1 for ua in py_stored if ua not in answered_set),
        seconds_to_store=round(time.time() - killed_at, 1))
    print("crash under load: %s" % fig)
    Path(record).write_text(json.dumps(fig, indent=1) + "\n")
    return fig


def check_crash(fig):
    """No click lost or doubled among the tracked requests, none doubled
    among wrk's and their count whole (a click of a request whose 302 the
    kill cut off, or that wrk stopped waiting for at the end, may be stored
    too: at most two per connection)."""
    assert fig["tracked_lost"] == 0, "answered clicks lost: %s" % fig
    assert fig["tracked_doubled"] == 0 and fig["wrk_doubled"] == 0, \
        "clicks stored twice: %s" % fig
    assert fig["wrk_lost_at_least"] == 0, "answered clicks lost: %s" % fig
    # Per connection: the request the kill cut off, and the one wrk left
    # unread when its time was up (it counts only whole responses).
    assert fig["wrk_unanswered_stored"] <= 2 * CRASH_CONNECTIONS, \
        "more clicks than answers beyond the requests in flight: %s" % fig
    assert fig["tracked_unanswered_stored"] <= CRASH_TRACKED, \
        "more clicks than answers beyond the requests in flight: %s" % fig
    assert fig["wrk_answered_302"] > 5000, "not a load at saturation: %s" % fig
    assert fig["tracked_answered_302"] > 200, "too few tracked requests: %s" % fig
