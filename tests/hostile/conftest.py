"""The hostile HTTP corpus: what every case shares.

Run by scripts/test.py (against the sanitized instance directly) and
tests/stack/test_stack.py (through nginx in front of the stack's three
instances), with:

  HOSTILE_URL        http://127.0.0.1:PORT, the service under test
  HOSTILE_VIA        "nginx" or "direct": who answers first
  HOSTILE_PIDFILES   colon-separated pid files of the Kore parents
                     behind it (their workers must survive every case)
  DATABASE_URL       its database (nothing a case sends may change it)

After each case, the `guard` fixture checks that the service still
serves (GET /health), that every Kore parent and worker is the one that
was there before (a crashed worker is forked again with a new pid), and
that the database holds exactly the rows it held (per table, the row
count and the newest row version's transaction id). docs/testing.md lists the cases and the few answers that are not
a JSON 4xx, with the reason.
"""

import json
import os
import subprocess
import time
import urllib.parse

import pytest

import rawhttp

URL = os.environ.get("HOSTILE_URL", "")
VIA = os.environ.get("HOSTILE_VIA", "direct")
PIDFILES = [p for p in os.environ.get("HOSTILE_PIDFILES", "").split(":") if p]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

# Every table a request could write to.
TABLES = ["users", "urls", "events", "url_click_daily", "url_click_hourly",
          "url_click_facets", "list_counts"]


def port():
    return urllib.parse.urlsplit(URL).port


class Psql:
    """One psql session for the whole run: a checksum per case costs a
    query, not a connection. Each query's output ends at a marker line."""

    MARK = "__hostile_end__"

    def __init__(self, url):
        self.proc = subprocess.Popen(
            ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)

    def query(self, sql):
        self.proc.stdin.write(sql.rstrip(";") + ";\n\\echo " + self.MARK +
                              "\n")
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            if line.rstrip("\n") == self.MARK:
                return "\n".join(lines).strip()
            lines.append(line.rstrip("\n"))
        raise AssertionError("psql ended: " + "\n".join(lines))


_psql = None


def psql(sql):
    global _psql
    if _psql is None:
        _psql = Psql(DATABASE_URL)
    return _psql.query(sql)


def db_state():
    """Per table, the row count and the newest xmin (the transaction that
    wrote a row version). Any committed insert, update or delete changes
    one of them: an updated or inserted row gets a newer transaction id
    than every row before it, a delete lowers the count. A scan per
    table, without hashing every row's text for every case."""
    parts = [f"(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), "
             f"0) FROM {table})" for table in TABLES]
    return psql("SELECT " + " || ' ' || ".join(parts))


def children(parent):
    """Pids whose parent is parent, from /proc (no ps per case)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command may hold blanks and parentheses: fields follow ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            kids.append(int(entry))
    return sorted(kids)


def processes():
    """{parent pid: sorted worker pids} of every Kore parent."""
    state = {}
    for f in PIDFILES:
        with open(f) as fh:
            parent = int(fh.read().split()[0])
        assert os.path.exists(f"/proc/{parent}"), f"Kore parent {parent} " \
            f"({f}) is gone"
        state[parent] = children(parent)
    return state


def healthy():
    """GET /health answers 200 {"status":"ok"} (a few tries: a worker
    that is being forked again needs a moment)."""
    last = None
    for _ in range(20):
        try:
            ex = rawhttp.exchange(port(), rawhttp.request("GET", "/health"),
                                  idle=2, want=1)
            last = ex
            if ex.first and ex.first.status == 200 and \
                    ex.first.json() == {"status": "ok"}:
                return True, ex
        except OSError as e:
            last = e
        time.sleep(0.1)
    return False, last


def pytest_configure(config):
    for name, value in (("HOSTILE_URL", URL), ("HOSTILE_PIDFILES",
                        PIDFILES), ("DATABASE_URL", DATABASE_URL)):
        if not value:
            raise pytest.UsageError(f"{name} is not set (see conftest.py)")
    config.addinivalue_line("markers", "slow: waits for a server timeout")


@pytest.fixture(scope="session")
def ids():
    """An existing user id and url id for PUT cases (created if the
    database is empty, before any checksum is taken)."""
    user = psql("SELECT min(id) FROM users")
    url = psql("SELECT min(id) FROM urls")
    if not user or not url:
        base = URL.rstrip("/")
        ex = rawhttp.exchange(port(), rawhttp.request(
            "POST", "/users", body=json.dumps(
                {"username": "hostile", "email": "hostile@example.com"})),
            want=1)
        user = str(ex.first.json()["id"])
        ex = rawhttp.exchange(port(), rawhttp.request(
            "POST", "/urls", body=json.dumps(
                {"user_id": int(user), "original_url": base + "/x"})),
            want=1)
        url = str(ex.first.json()["id"])
    return {"user": int(user), "url": int(url)}


@pytest.fixture(autouse=True)
def guard(request):
    """The worker survives and the database is unchanged, every case."""
    if "ids" in request.fixturenames:
        request.getfixturevalue("ids")
    before_db = db_state()
    before_ps = processes()
    yield
    ok, last = healthy()
    assert ok, f"/health no longer answers 200 after the case: {last}"
    after_ps = processes()
    assert after_ps == before_ps, (
        f"Kore processes changed (a worker died and was forked again): "
        f"{before_ps} -> {after_ps}")
    assert db_state() == before_db, "the case changed the database"


def exchange(data, **kw):
    """rawhttp.exchange() against the service under test. A JSON 429
    (nginx's write limit, which is not what the corpus tests) is waited
    out and the case sent again."""
    kw.setdefault("idle", 3)
    for _ in range(10):
        ex = rawhttp.exchange(port(), data, **kw)
        r = ex.first
        if r is None or r.status != 429 or r.json() is None:
            return ex
        time.sleep(float(r.header("retry-after") or 1))
    return ex


# ---- what an answer must be ----------------------------------------------

def json_error(resp, status=None):
    """None when resp is the contract's JSON error, else what is wrong."""
    if resp is None:
        return "no response"
    if status is not None and resp.status != status:
        return f"status {resp.status}, want {status}: {resp}"
    if not 400 <= resp.status <= 499:
        return f"not a 4xx: {resp}"
    ctype = (resp.header("content-type") or "").lower()
    if not ctype.startswith("application/json"):
        return f"not JSON ({ctype or 'no Content-Type'}): {resp}"
    body = resp.json()
    if not isinstance(body, dict) or body.get("status") != resp.status or \
            not isinstance(body.get("error"), str) or \
            not isinstance(body.get("code"), str):
        return f"not the error shape: {resp}"
    return None


def kore_answer(resp, statuses):
    """A documented answer Kore gives on an instance's own port before
    the module runs: one of statuses, empty body (docs/testing.md)."""
    return resp is not None and resp.status in statuses and resp.body == b""


def expect_json_error(ex, status=None, kore=()):
    """The first answer is a JSON 4xx (of status when given). On an
    instance's own port, Kore's documented empty answers with a status in
    kore are accepted too, and nothing else."""
    problem = json_error(ex.first, status)
    if problem is None:
        return
    if VIA == "direct" and kore and kore_answer(ex.first, kore):
        return
    pytest.fail(f"{problem} -- exchange: {ex}")


def expect_json(ex, status):
    """A JSON answer of this exact status (a success, e.g. a clamped page)."""
    r = ex.first
    assert r is not None and r.status == status and \
        (r.header("content-type") or "").startswith("application/json") and \
        r.json() is not None, f"want a JSON {status}: {ex}"
