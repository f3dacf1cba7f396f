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
