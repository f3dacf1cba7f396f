"""Helpers shared by the pytest suites (tests/stack, tests/compose).

Run by scripts/test.py with `-rs` (skips are listed with their reasons and
never counted as passed) and `--junitxml`. CHAOS_PROFILE (short, the
default, or full) selects the chaos suite's length; CHAOS_DOC names the
document a full run writes its figures into.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

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


def crash_under_load(url, path, kill, stored, record, seconds=10, kill_at=4, settle_s=60):
    """Runs wrk (CRASH_CONNECTIONS connections, as fast as it can) at
    URL+PATH for SECONDS, calls KILL() after KILL_AT seconds, then waits
    until STORED(run) -- (clicks stored, distinct User-Agents among them) of
    this run -- stops changing. Returns the figures, also written to RECORD
    (a JSON file: a passing test shows them there)."""
    import re
    import time
    run = "crash%d" % int(time.time() * 1000)
    wrk = subprocess.Popen(["wrk", "-t2", "-c%d" % CRASH_CONNECTIONS, "-d%ds" % seconds,
                            "--timeout", "5s", "-s", str(CRASH_LUA), url + path, "--", path, run],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(kill_at)
    killed_at = time.time()
    kill()
    out = wrk.communicate(timeout=seconds + 60)[0]
    sys.stdout.write(out)
    m = re.search(r"crash-result responses=(\d+) not_3xx=(\d+)", out)
    assert m, "wrk gave no figures:\n" + out
    answered = int(m.group(1)) - int(m.group(2))
    last, deadline = None, time.time() + settle_s
    while time.time() < deadline:
        now = stored(run)
        if now == last and now[1] >= answered:
            break
        last = now
        time.sleep(2)
    total, distinct = stored(run)
    fig = dict(answered_302=answered, not_3xx=int(m.group(2)), clicks_stored=total,
               distinct=distinct, doubled=total - distinct, lost_at_least=max(0, answered - distinct),
               unanswered_stored=max(0, distinct - answered),
               seconds_to_store=round(time.time() - killed_at, 1))
    print("crash under load: %s" % fig)
    import json
    Path(record).write_text(json.dumps(fig, indent=1) + "\n")
    return fig


def check_crash(fig):
    """No click doubled; every answered one stored. A click of a request
    whose 302 the kill cut off may be stored too: at most one per
    connection."""
    assert fig["doubled"] == 0, "clicks stored twice: %s" % fig
    assert fig["lost_at_least"] == 0, "answered clicks lost: %s" % fig
    assert fig["unanswered_stored"] <= CRASH_CONNECTIONS, \
        "more clicks than answers beyond the requests in flight: %s" % fig
    assert fig["answered_302"] > 5000, "not a load at saturation: %s" % fig
