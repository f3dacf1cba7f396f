#!/usr/bin/env python3
"""Driver and accountant of the chaos suite, for both topologies.

  suite     the whole suite against a running topology (--target stack: the
            Docker-free one in RUN_DIR; --target compose: the project of
            scripts/compose.py): one fault at a time under load, each a
            phase (the faults are in tests/chaos/targets.py), then `check`
  restarts  restart semantics of an app container (tests/chaos/restarts.py)

Every request it sends is recorded (one JSON line each), so that after the
faults every answer can be checked against what the database holds:

  setup   create the short links the load redirects to (through one
          instance directly: nginx rate-limits writes, and setup is not
          under test); the creates are recorded like any write
  warm    HEAD every link until each answers X-Cache: HIT (HEAD writes no
          click), so that a phase starts with a warm cache
  run     steady mixed load through nginx until SIGTERM or --max-seconds:
          redirects and reads (--rate per second, threads), and one writer
          (--write-rate: POST /urls, then PUT /urls/<id> on its own links)
  check   wait until the click queues are empty, then judge every record
          against the phases (what was broken, when) and the database;
          prints the figures, writes them as JSON and, with --doc, into the
          generated section of docs/failure-modes.md

Identification: request i of a run carries X-Request-Id RID and
User-Agent "chaos/RID". nginx and the app log RID; the app stores the
User-Agent with the click (events.click_user_agent), so the click of
every 302 is found (or found missing, or found twice) by its RID.

Connections are not reused (Connection: close): a client that reuses a
keep-alive connection nginx is closing (a reload) gets an error the
server never saw, which is the client's to retry and says nothing about
the service. Only the Python standard library is used.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

STOP = threading.Event()
TIMEOUT_S = 12.0  # above nginx's proxy_read_timeout (10 s)


# ---- HTTP ------------------------------------------------------------

def connect(base, timeout):
    """A connection to BASE: HTTPS for an https base (the container
    topology's nginx, whose certificate is the local self-signed one: not
    verified here; tests/compose verifies it)."""
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def request(base, method, path, rid, body=None, timeout=TIMEOUT_S):
    """One request on a fresh connection; returns a record (never raises).
    SHORTENER_API_KEY, when set, is sent as X-Api-Key (a topology with keys
    on: the targets set it from the admin key)."""
    headers = {"X-Request-Id": rid, "User-Agent": "chaos/" + rid,
               "Connection": "close"}
    if os.environ.get("SHORTENER_API_KEY"):
        headers["X-Api-Key"] = os.environ["SHORTENER_API_KEY"]
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    rec = {"rid": rid, "method": method, "path": path, "t0": time.time()}
    try:
        conn = connect(base, timeout)
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        rec["status"] = resp.status
        rec["xcache"] = resp.getheader("X-Cache")
        rec["retry_after"] = resp.getheader("Retry-After")
        rec["ctype"] = resp.getheader("Content-Type")
        rec["location"] = resp.getheader("Location")
        if raw:
            try:
                rec["body"] = json.loads(raw)
            except ValueError:
                rec["body_raw"] = raw[:200].decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        rec["status"] = 0
        rec["err"] = "%s: %s" % (type(e).__name__, e)
    rec["t1"] = time.time()
    return rec


def save(path, records):
    with open(path, "a") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def load_records(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".jsonl"):
            with open(os.path.join(directory, name)) as f:
                out.extend(json.loads(line) for line in f if line.strip())
    return out


# ---- setup, warm ------------------------------------------------------

def first_user(base):
    r = request(base, "GET", "/users?per_page=1", "setup-user")
    if r["status"] != 200 or not r.get("body"):
        sys.exit("chaosload: no user to own the links: %s" % r)
    return r["body"][0]["id"]


def cmd_setup(a):
    user = first_user(a.base)
    links, recs = [], []
    for i in range(a.links):
        rid = "%s-setup-%d" % (a.run_id, i)
        body = {"user_id": user,
                "original_url": "https://example.com/chaos/%s/%d" % (a.run_id, i)}
        r = request(a.base, "POST", "/urls", rid, body)
        r.update(phase="setup", kind="create", body_sent=body)
        recs.append(r)
        if r["status"] != 201:
            sys.exit("chaosload: setup POST /urls: %s" % r)
        links.append({"id": r["body"]["id"], "code": r["body"]["short_code"]})
    save(a.records, recs)
    with open(a.out, "w") as f:
        json.dump({"run_id": a.run_id, "user_id": user, "links": links}, f)


def cmd_warm(a):
    links = json.load(open(a.links))["links"]
    deadline = time.time() + a.timeout
    todo = [l["code"] for l in links]
    while todo and time.time() < deadline:
        left = []
        for code in todo:
            r = request(a.base, "HEAD", "/" + code, "warm", timeout=3)
            if r.get("xcache") != "HIT":
                left.append(code)
        todo = left
    if todo:
        sys.exit("chaosload: %d links not cached after %ss" % (len(todo), a.timeout))


# ---- run ----------------------------------------------------------------

def paced(rate, fn):
    """Call fn() rate times a second until STOP; no catch-up bursts."""
    interval = 1.0 / rate
    nxt = time.time()
    while not STOP.is_set():
        now = time.time()
        if nxt > now:
            if STOP.wait(nxt - now):
                break
        nxt = max(nxt + interval, time.time() - interval)
        fn()


def reader(a, links, tid, out):
    rng = random.Random("%s-%s-%d" % (a.run_id, a.phase, tid))
    n = [0]

    def one():
        n[0] += 1
        rid = "%s-%s-r%d-%d" % (a.run_id, a.phase, tid, n[0])
        link = rng.choice(links)
        if rng.random() < a.read_share:
            r = request(a.base, "GET", "/urls/%d" % link["id"], rid)
            r["kind"] = "read"
        else:
            r = request(a.base, "GET", "/" + link["code"], rid)
            r["kind"] = "redirect"
        r["phase"] = a.phase
        out.append(r)

    paced(a.rate / a.threads, one)


def writer(a, user, out):
    """POST a link, then PUT a title on one of this writer's links, in
    turn: one thread, so the last acknowledged title is well defined."""
    rng = random.Random("%s-%s-w" % (a.run_id, a.phase))
    mine = []
    n = [0]

    def one():
        n[0] += 1
        rid = "%s-%s-w-%d" % (a.run_id, a.phase, n[0])
        if n[0] % 2 == 1 or not mine:
            body = {"user_id": user,
                    "original_url": "https://example.com/chaos/%s/w/%s" % (a.run_id, rid)}
            r = request(a.base, "POST", "/urls", rid, body)
            r["kind"] = "create"
            if r["status"] == 201:
                mine.append(r["body"]["id"])
        else:
            uid = rng.choice(mine)
            body = {"title": "t-" + rid}
            r = request(a.base, "PUT", "/urls/%d" % uid, rid, body)
            r["kind"] = "update"
            r["url_id"] = uid
        r["phase"] = a.phase
        r["body_sent"] = body
        out.append(r)

    paced(a.write_rate, one)


def cmd_run(a):
    meta = json.load(open(a.links))
    links, user = meta["links"], meta["user_id"]
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    outs = [[] for _ in range(a.threads + 1)]
    threads = [threading.Thread(target=reader, args=(a, links, i, outs[i]))
               for i in range(a.threads)]
    if a.write_rate > 0:
        threads.append(threading.Thread(target=writer, args=(a, user, outs[-1])))
    for t in threads:
        t.start()
    deadline = time.time() + a.max_seconds
    while not STOP.is_set() and time.time() < deadline:
        STOP.wait(0.2)
    STOP.set()
    for t in threads:
        t.join()
    save(a.records, [r for o in outs for r in o])


# ---- check ---------------------------------------------------------------

def psql(db, sql):
    out = subprocess.run(["psql", db, "-X", "-q", "-At", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def queue_depth(ports):
    """Clicks waiting in every instance (GET /metrics); None when one
    instance does not answer."""
    total = 0.0
    for p in ports:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", int(p), timeout=3)
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            text = resp.read().decode()
            conn.close()
        except (OSError, http.client.HTTPException):
            return None
        if resp.status != 200:
            return None
        for line in text.splitlines():
            if line.startswith("shortener_click_queue_depth"):
                total += float(line.split()[-1])
    return total


def click_counts(db, run_id, link_ids):
    ids = ",".join(str(i) for i in link_ids)
    rows = psql(db, "SELECT click_user_agent, count(*) FROM events_all"
                    " WHERE event_type = 'click' AND url_id IN (%s)"
                    " AND click_user_agent LIKE 'chaos/%s-%%'"
                    " GROUP BY 1" % (ids, run_id))
    return {ua[len("chaos/"):]: int(n) for ua, n in rows}


def settle(a, link_ids):
    """Until every instance's click queue is empty and the stored clicks
    stop changing: the clicks of this run are all written or lost."""
    deadline = time.time() + a.settle_timeout
    last = None
    while time.time() < deadline:
        depth = queue_depth(a.app_ports.split(","))
        n = sum(click_counts(a.db, a.run_id, link_ids).values())
        if depth == 0 and n == last:
            return True
        last = n
        time.sleep(0.5)
    return False


def nginx_log(path):
    """nginx's JSON access log by request id. escape=json leaves bytes
    above 0x7f as the client sent them (a hostile request line may hold
    0xff): they are read as U+FFFD, not refused."""
    entries = {}
    with open(path, errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            entries[e.get("request_id")] = e
    return entries


EXPECTED = {"redirect": 302, "read": 200, "create": 201, "update": 200}


class Judge:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail):
        self.results.append({"name": name, "ok": bool(ok), "detail": detail})
        print("chaos: %s %s: %s" % ("PASS" if ok else "FAIL", name, detail))


def killed_upstream(rec, phase, nlog):
    """True when nginx says the request was answered (or failed) on the
    instance the phase broke something in (phase["upstream"]: the address
    nginx logs for it)."""
    e = nlog.get(rec["rid"])
    if not e or not phase.get("upstream"):
        return False
    ups = [u.strip() for u in e.get("upstream", "").split(",")]
    return ups[-1:] == [phase["upstream"]]


# Faults of one instance: nginx retries GETs and PUTs elsewhere, never a
# POST it has sent (it may have been applied).
INSTANCE_FAULTS = {"kill_instance": "killed", "kill_worker": "killed",
                   "pause": "paused", "disconnect": "disconnected"}


def allowed_failure(rec, phase, nlog):
    """A failed request the design accepts in this phase, with the reason."""
    kind = phase["kind"]
    if kind in INSTANCE_FAULTS:
        if rec["method"] == "POST" and killed_upstream(rec, phase, nlog):
            return "POST in flight on the %s instance" % INSTANCE_FAULTS[kind]
    if kind == "postgres":
        b = rec.get("body") or {}
        answered = (rec.get("retry_after") and "json" in (rec.get("ctype") or "")
                    and phase["fault_start"] <= rec["t1"]
                    and rec["t0"] <= phase["recovered_at"] + 1.0)
        if not answered:
            return None
        if rec["kind"] != "redirect":
            if rec["status"] == 503 and b.get("code") == "service_unavailable":
                return "503 JSON with Retry-After while PostgreSQL was down"
            if rec["status"] == 504 and b.get("code") == "gateway_timeout":
                # A statement already sent when the database vanished
                # (in containers its address goes with it: no reset comes
                # back) waits until it returns; nginx answers 504 first.
                return "504 JSON: in flight when PostgreSQL went away"
        elif (rec["status"] == 503 and b.get("code") == "service_unavailable"
              and rec.get("xcache") == "BYPASS"):
            return KNOWN_503
    return None


# docs/failure-modes.md, "Known problems": a cached redirect's Redis
# lookup runs out of its 5 ms budget while the worker is blocked in a
# synchronous PostgreSQL connect (the database stopping or starting), so
# it falls back to the database and gets its 503. Counted and reported in
# every run (the "known 503s" column), never hidden, and not a failure of
# the container topology; anything else failing a redirect is.
KNOWN_503 = "known problem: cached redirect's lookup timed out during a blocking connect"


def judge_phase(j, phase, recs, nlog, fig):
    name = phase["name"]
    fails = [r for r in recs if r["status"] != EXPECTED[r["kind"]]]
    allowed = [(r, allowed_failure(r, phase, nlog)) for r in fails]
    bad = [r for r, why in allowed if not why]
    known = [r for r, why in allowed if why == KNOWN_503]
    redirect_fails = [r for r in fails if r["kind"] == "redirect" and r not in known]
    fig.update(sent=len(recs), failed=len(fails),
               failed_redirects=len(redirect_fails), known_503=len(known),
               failed_expected=len(fails) - len(bad),
               redirects=sum(r["kind"] == "redirect" for r in recs),
               writes=sum(r["kind"] in ("create", "update") for r in recs))
    if phase.get("recovery_s") is not None:
        fig["recovery_s"] = round(phase["recovery_s"], 2)
    sample = "; ".join("%s %s -> %s %s" % (r["method"], r["path"], r["status"],
                                          r.get("err") or (r.get("body") or {}).get("code", ""))
                       for r in bad[:3])
    j.check("%s: no unexpected failure" % name, not bad,
            "%d sent, %d failed, %d of them expected%s" % (
                len(recs), len(fails), len(fails) - len(bad),
                (" (unexpected: %s)" % sample) if bad else ""))
    j.check("%s: zero failed redirects" % name, not redirect_fails,
            "%d redirects, %d failed%s" % (fig["redirects"], len(redirect_fails),
                                           (", besides %d 503s of the known problem" % len(known))
                                           if known else ""))
    slow = [r for r in recs if r["status"] == EXPECTED[r["kind"]] and r["t1"] - r["t0"] > 1]
    fig.update(slow_over_1s=len(slow), max_latency_s=round(max(
        [r["t1"] - r["t0"] for r in recs] or [0]), 2))
    kind = phase["kind"]
    if kind == "kill_instance":
        limit = phase.get("limit_s", 5)
        j.check("%s: %s back within %d s" % (name, phase.get("what", "instance"), limit),
                phase["recovery_s"] < limit,
                "%s after %.2f s" % (phase.get("back", "new Kore parent serving"), phase["recovery_s"]))
    if kind in ("pause", "disconnect"):
        j.check("%s: nginx routes around it" % name, not [r for r in fails if r["kind"] != "create"],
                "%d requests slower than 1 s (at most %.1f s: nginx's read timeout, then a retry "
                "elsewhere), none failed but POSTs in flight on it%s" % (
                    len(slow), fig["max_latency_s"],
                    "; nginx reloaded: it came back on a new address" if phase.get("reloaded") else ""))
        j.check("%s: serving again after the fault is lifted" % name, phase.get("recovered"),
                "/health 200 on its own port %.2f s after" % phase["recovery_s"])
    if kind == "kill_worker":
        j.check("%s: worker respawned by its parent" % name, phase["recovery_s"] < 5,
                "new worker after %.2f s, same parent" % phase["recovery_s"])
    if kind == "redis":
        during = [r for r in recs if r["kind"] == "redirect"
                  and phase["fault_at"] < r["t0"] and r["t1"] < phase["restore_start"]]
        bypass = sum(r.get("xcache") == "BYPASS" for r in during)
        hits = [r for r in recs if r.get("xcache") == "HIT" and r["t0"] > phase["restored_at"]]
        fig.update(bypass_during_outage=bypass, redirects_during_outage=len(during))
        j.check("%s: redirects served from PostgreSQL while Redis is down" % name,
                during and bypass == len(during),
                "%d of %d redirects during the outage had X-Cache: BYPASS" % (bypass, len(during)))
        fig["recovery_s"] = round(phase["recovery_s"], 2)
        j.check("%s: cache HIT again after Redis restarts" % name, bool(hits),
                "first HIT %.2f s after the restart; %d HITs after it" % (phase["recovery_s"], len(hits)))
    if kind == "postgres":
        w503 = [r for r in fails if r["status"] == 503 and r["kind"] != "redirect"]
        # Sent while the database was down (some answered a little later:
        # a worker's one blocking connect to a vanished database).
        during = [r for r in recs if r["kind"] == "redirect"
                  and phase["fault_at"] < r["t0"] < phase["restore_start"]]
        odd = [r for r in during if r["status"] != 302 and r not in known]
        fig.update(write_503=len(w503), redirects_during_outage=len(during),
                   recovery_s=round(phase["recovery_s"], 2))
        j.check("%s: cached redirects keep working" % name, during and not odd,
                ("%d redirects during the outage, %d of them 302, %d the known problem's 503"
                 % (len(during), sum(r["status"] == 302 for r in during),
                    sum(r in known for r in during))) if during else "no redirect during the outage")
        j.check("%s: writes get 503 JSON with Retry-After" % name, bool(w503),
                "%d writes/reads answered 503 service_unavailable with Retry-After" % len(w503))
        j.check("%s: recovered without restarting the app" % name,
                not phase.get("app_restarted"),
                "all instances ready %.2f s after PostgreSQL restarted; Kore pids %s" % (
                    phase["recovery_s"], "changed" if phase.get("app_restarted") else "unchanged"))
    if kind == "rolling":
        fig["recovery_s"] = round(phase["recovery_s"], 2)
        j.check("%s: all three instances %s" % (name, phase.get("what", "restarted")),
                phase.get("all_restarted"), "took %.2f s" % phase["recovery_s"])


def judge_writes(j, db, recs, fig):
    creates = [r for r in recs if r["kind"] == "create"]
    acked = {r["body"]["id"]: r["body_sent"]["original_url"]
             for r in creates if r["status"] == 201}
    rows = {}
    if acked:
        rows = {int(i): u for i, u in psql(db, "SELECT id, original_url FROM urls WHERE id IN (%s)"
                                           % ",".join(str(i) for i in acked))}
    lost = [i for i, u in acked.items() if rows.get(i) != u]
    unacked = [r["body_sent"]["original_url"] for r in creates if r["status"] != 201]
    committed = 0
    if unacked:
        quoted = ",".join("'%s'" % u.replace("'", "''") for u in unacked)
        committed = int(psql(db, "SELECT count(*) FROM urls WHERE original_url IN (%s)" % quoted)[0][0])
    updates = [r for r in recs if r["kind"] == "update"]
    by_url = {}
    for r in sorted(updates, key=lambda r: r["t0"]):
        by_url.setdefault(r["url_id"], []).append(r)
    titles = {}
    if by_url:
        titles = {int(i): t for i, t in psql(db, "SELECT id, coalesce(title, '') FROM urls WHERE id IN (%s)"
                                             % ",".join(str(i) for i in by_url))}
    wrong = []
    for uid, rs in by_url.items():
        ok_idx = [k for k, r in enumerate(rs) if r["status"] == 200]
        if not ok_idx:
            continue
        # The last acknowledged title, or one sent after it whose answer
        # was lost (it may have been applied).
        allowed = {r["body_sent"]["title"] for r in rs[ok_idx[-1]:]}
        if titles.get(uid) not in allowed:
            wrong.append(uid)
    n_upd = sum(r["status"] == 200 for r in updates)
    fig.update(acked_creates=len(acked), acked_updates=n_upd,
               unacked_creates=len(unacked), unacked_creates_committed=committed)
    j.check("accounting: every acknowledged write is stored", not lost and not wrong,
            "%d acknowledged creates, %d missing; %d acknowledged updates, %d not reflected; "
            "%d unacknowledged creates, %d of which were committed anyway" % (
                len(acked), len(lost), n_upd, len(wrong), len(unacked), committed))


def judge_clicks(j, recs, counts, phases, nlog, figs):
    by_phase = {p["name"]: p for p in phases}
    total_missing_bad = total_dups = 0
    lines = []
    for name, fig in figs.items():
        ok302 = [r for r in recs if r["phase"] == name and r["kind"] == "redirect"
                 and r["status"] == 302]
        missing = [r for r in ok302 if counts.get(r["rid"], 0) == 0]
        dups = sum(counts.get(r["rid"], 0) - 1 for r in ok302 if counts.get(r["rid"], 0) > 1)
        # Every answered click is journaled before its 302 goes out
        # (src/clicks/clickwriter.c): a SIGKILLed worker or instance loses
        # none of them, and its replay doubles none.
        bad = len(missing)
        total_missing_bad += bad
        total_dups += dups
        fig.update(redirects_302=len(ok302), clicks_stored=len(ok302) - len(missing),
                   clicks_lost=bad, clicks_duplicated=dups)
        lines.append("%s: %d 302s, %d lost, %d duplicated" % (
            name, len(ok302), len(missing), dups))
    j.check("accounting: every 302's click is stored exactly once, through kills",
            total_missing_bad == 0 and total_dups == 0, "; ".join(lines))


COLUMNS = [("sent", "requests"), ("failed", "failed"), ("failed_expected", "expected failures"),
           ("failed_redirects", "failed redirects"),
           ("known_503", "redirects 503 (known problem)"), ("recovery_s", "recovery (s)"),
           ("slow_over_1s", "slower than 1 s"), ("max_latency_s", "slowest (s)"),
           ("redirects_302", "302s"), ("clicks_lost", "clicks lost"),
           ("clicks_duplicated", "clicks doubled")]


def table(figs):
    out = ["| phase | " + " | ".join(c[1] for c in COLUMNS) + " |",
           "|---|" + "---|" * len(COLUMNS)]
    for name, fig in figs.items():
        out.append("| %s | " % name + " | ".join(str(fig.get(k, "")) for k, _ in COLUMNS) + " |")
    return "\n".join(out)


def write_doc(path, summary, section="chaos"):
    begin, end = "<!-- %s:begin -->" % section, "<!-- %s:end -->" % section
    text = open(path).read()
    if begin not in text or end not in text:
        sys.exit("chaosload: %s has no %s ... %s section" % (path, begin, end))
    body = [begin, "",
            "Run of `%s` on %s: %s, %s." % (summary["command"], summary["date"],
                                             summary["profile"], summary["machine"]),
            "", table(summary["figures"]), "",
            "Writes: %(acked_creates)s acknowledged creates and %(acked_updates)s acknowledged updates, "
            "all found afterwards; %(unacked_creates)s creates were not acknowledged, "
            "%(unacked_creates_committed)s of them were committed anyway." % summary["writes"],
            "", "Checks: %d passed, %d failed." % (summary["passed"], summary["failed"]), ""]
    for r in summary["results"]:
        body.append("- %s **%s**: %s" % ("✓" if r["ok"] else "✗", r["name"], r["detail"]))
    body += ["", end]
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(head + "\n".join(body) + tail)


def cmd_check(a):
    meta = json.load(open(a.links))
    link_ids = [l["id"] for l in meta["links"]]
    phases = json.load(open(a.phases))
    recs = [r for r in load_records(a.records) if r.get("kind") in EXPECTED]
    j = Judge()
    j.check("clicks settled", settle(a, link_ids),
            "click queues empty and stored clicks stable within %ss" % a.settle_timeout)
    nlog = nginx_log(a.nginx_log)
    figs = {}
    for p in phases:
        figs[p["name"]] = {}
        judge_phase(j, p, [r for r in recs if r["phase"] == p["name"]], nlog, figs[p["name"]])
    counts = click_counts(a.db, a.run_id, link_ids)
    judge_clicks(j, recs, counts, phases, nlog, figs)
    wfig = {}
    judge_writes(j, a.db, recs, wfig)
    passed = sum(r["ok"] for r in j.results)
    failed = len(j.results) - passed
    summary = {"command": a.command, "profile": a.profile,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": "%d cores, loopback only" % os.cpu_count(),
               "figures": figs, "writes": wfig, "results": j.results,
               "passed": passed, "failed": failed}
    print(table(figs))
    with open(a.out, "w") as f:
        json.dump(summary, f, indent=1)
    if a.doc:
        write_doc(a.doc, summary, getattr(a, "section", "chaos"))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


# ---- suite ---------------------------------------------------------------

# Durations in seconds (PRE: load before the fault, OUTAGE: how long a
# fault that is lifted by hand lasts, POST: load after recovery); rates
# per second. Sleeps on purpose: they are how long the service is
# observed in each state; everything else polls.
PROFILES = {"short": dict(pre=1.5, outage=4, post=1.5, rate=60, write_rate=4, links=20),
            "full": dict(pre=10, outage=10, post=10, rate=150, write_rate=8, links=40)}


def poll(seconds, fn):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.02)
    return False


class Suite:
    """One fault at a time under load, each recorded as a phase."""

    def __init__(self, a, target):
        self.a, self.t = a, target
        self.p = PROFILES[a.profile]
        self.work = Path(a.work)
        self.run_id = "c%d" % time.time()
        self.load = None
        self.stopped = set()

    def log(self, msg):
        print("chaos: %s" % msg, flush=True)

    def start_load(self, name):
        self.load = subprocess.Popen([
            sys.executable, __file__, "run", "--base", self.t.base,
            "--links", str(self.work / "links.json"), "--run-id", self.run_id,
            "--phase", name, "--rate", str(self.p["rate"]),
            "--write-rate", str(self.p["write_rate"]), "--max-seconds", "300",
            "--records", str(self.work / ("records-%s.jsonl" % name))])

    def stop_load(self):
        self.load.send_signal(signal.SIGTERM)
        if self.load.wait() != 0:
            sys.exit("chaosload: the load generator failed")
        self.load = None

    def phase(self, name, kind, **kw):
        kw.update(name=name, kind=kind)
        kw["recovery_s"] = kw["recovered_at"] - kw["restored_at"]
        with open(self.work / ("phase-%s.json" % name), "w") as f:
            json.dump(kw, f)
        self.log("%s: back to normal %.3f s after the fault was lifted" % (name, kw["recovery_s"]))

    def observe(self, name, fault, lift=None, recovered=None, timeout=30):
        """Load, PRE, the fault, OUTAGE and its lifting when LIFT is given,
        until RECOVERED, POST. Returns the times of the phase."""
        self.start_load(name)
        time.sleep(self.p["pre"])
        t = {"fault_start": time.time()}
        extra = fault() or {}
        t["fault_at"] = time.time()
        if lift:
            time.sleep(self.p["outage"])
            t["restore_start"] = time.time()
            extra.update(lift() or {})
            t["restored_at"] = time.time()
        else:
            t["restore_start"] = t["restored_at"] = t["fault_start"]
        ok = poll(timeout, recovered) if recovered else True
        if not ok:
            self.log("%s: not recovered within %d s" % (name, timeout))
        t["recovered_at"] = time.time()
        time.sleep(self.p["post"])
        self.stop_load()
        t.update(extra, recovered=ok)
        return t

    # -- the phases ------------------------------------------------------

    def kill_instance(self, name):
        """SIGKILL of app2's Kore parent (in a container: its main process)."""
        t, n = self.t, 2
        if hasattr(t, "ran_for"):
            # Docker restarts only a container that ran for 10 s; one that
            # dies sooner is autoheal's (tests/chaos/restarts.py).
            time.sleep(max(0, 11 - t.ran_for(n)))
        old, up = t.app_pid(n), t.upstream(n)
        limit = 5 if t.name == "stack" else 10
        times = self.observe(name, lambda: {"killed_pid": t.crash(n)},
                             recovered=lambda: t.instance_back(n, old), timeout=limit + 5)
        back = ("new Kore parent serving" if t.name == "stack"
                else "container running again (Docker's restart policy) and healthy")
        self.phase(name, "kill_instance", upstream=up, limit_s=limit,
                   what=t.instance_word, back=back, **times)

    def kill_worker(self, name):
        """SIGKILL of one worker of app1: its parent respawns it."""
        t, n = self.t, 1
        parent, up = t.app_pid(n), t.upstream(n)
        from targets import children
        victim = children(parent)[0]

        def respawned():
            w = children(parent)
            return t.app_pid(n) == parent and len(w) >= 2 and victim not in w
        times = self.observe(name, lambda: os.kill(victim, signal.SIGKILL),
                             recovered=respawned, timeout=10)
        self.phase(name, "kill_worker", upstream=up, **times)

    def pause(self, name):
        t, n = self.t, 2
        up = t.upstream(n)
        self.stopped.add("pause")
        times = self.observe(name, lambda: t.pause(n), lift=lambda: t.unpause(n),
                             recovered=lambda: http_ok(
                                 "http://127.0.0.1:%d/health" % t.app_ports[n - 1]))
        self.stopped.discard("pause")
        self.phase(name, "pause", upstream=up, **times)

    def disconnect(self, name):
        t, n = self.t, 2
        up = t.upstream(n)
        times = self.observe(name, lambda: t.disconnect(n),
                             lift=lambda: {"reloaded": t.reconnect(n, up)},
                             recovered=lambda: http_ok(
                                 "http://127.0.0.1:%d/health" % t.app_ports[n - 1]))
        self.phase(name, "disconnect", upstream=up, **times)

    def redis_down(self, name):
        t = self.t
        code = json.load(open(self.work / "links.json"))["links"][0]["code"]

        def stop():
            self.stopped.add("redis")
            t.stop("redis")

        def start():
            t.start("redis")
            self.stopped.discard("redis")
        times = self.observe(name, stop, lift=start, recovered=lambda: cache_hit(t.base, code))
        self.phase(name, "redis", **times)

    def postgres_down(self, name):
        t = self.t
        # Only cached links can be redirected without the database.
        cmd_warm(argparse.Namespace(base=t.base, links=str(self.work / "links.json"), timeout=15))
        before = all_pids(t)

        def stop():
            self.stopped.add("postgres")
            t.stop("postgres")

        def start():
            t.start("postgres")
            self.stopped.discard("postgres")
        times = self.observe(name, stop, lift=start, recovered=lambda: all(
            http_ok("http://127.0.0.1:%d/ready" % p) for p in t.app_ports))
        self.phase(name, "postgres", app_restarted=all_pids(t) != before, **times)

    def rolling(self, name):
        box = {}
        # No lifting: recovery_s is how long the whole rolling update took.
        times = self.observe(name, lambda: box.update(all_restarted=self.t.rolling()))
        what = "restarted" if self.t.name == "stack" else "replaced by containers of the new image"
        self.phase(name, "rolling", what=what, all_restarted=box.get("all_restarted"), **times)

    PHASES = {"kill-instance": kill_instance, "crash-container": kill_instance,
              "kill-worker": kill_worker, "pause": pause, "disconnect": disconnect,
              "redis-down": redis_down, "postgres-down": postgres_down,
              "rolling-restart": rolling, "rolling-update": rolling}

    def run(self):
        a, t = self.a, self.t
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.log("profile %s against %s (%s topology, run %s, records in %s)" % (
            a.profile, t.base, t.name, self.run_id, self.work))
        cmd_setup(argparse.Namespace(
            base="http://127.0.0.1:%d" % t.app_ports[0], run_id=self.run_id,
            links=self.p["links"], out=str(self.work / "links.json"),
            records=str(self.work / "records-setup.jsonl")))
        try:
            for name in a.phases or t.phases():
                self.PHASES[name](self, name)
        finally:
            if self.load:
                self.load.send_signal(signal.SIGTERM)
                self.load.wait()
            if self.stopped:
                t.restore()
        phases = sorted((json.load(open(f)) for f in self.work.glob("phase-*.json")),
                        key=lambda p: p["fault_at"])
        with open(self.work / "phases.json", "w") as f:
            json.dump(phases, f)
        return cmd_check(argparse.Namespace(
            links=str(self.work / "links.json"), run_id=self.run_id,
            phases=str(self.work / "phases.json"), records=str(self.work),
            nginx_log=t.nginx_log(str(self.work / "nginx-access.log")), db=t.db,
            app_ports=",".join(map(str, t.app_ports)), settle_timeout=30,
            out=str(self.work / "summary.json"), doc=a.doc, section=a.section,
            command=a.command or "chaosload.py suite --target %s --%s" % (t.name, a.profile),
            profile=a.profile))


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def cache_hit(base, code):
    try:
        conn = connect(base, 2)
        conn.request("HEAD", "/" + code)
        return conn.getresponse().getheader("X-Cache") == "HIT"
    except (OSError, http.client.HTTPException):
        return False


def all_pids(t):
    """Every Kore parent and worker of the three instances."""
    from targets import children
    out = []
    for n in (1, 2, 3):
        p = t.app_pid(n)
        out += [p] + children(p)
    return out


def cmd_suite(a):
    import targets
    t = (targets.StackTarget(a.run_dir or targets.REPO / "run") if a.target == "stack"
         else targets.ComposeTarget())
    if not a.work:
        a.work = str(Path(t.run) / "chaos")
    return Suite(a, t).run()


def cmd_restarts(a):
    import restarts
    import targets
    r = restarts.Restarts(targets.ComposeTarget(), a.profile)
    for case in a.cases or (restarts.SHORT if a.profile == "short" else list(restarts.CASES)):
        r.run_case(case)
    j = Judge()
    r.judge(j)
    print(restarts.table(r.rows))
    if a.doc:
        restarts.write_doc(a.doc, r.rows, j.results, a.command or "chaosload.py restarts --full")
    passed = sum(x["ok"] for x in j.results)
    print("%d passed, %d failed" % (passed, len(j.results) - passed))
    return 0 if passed == len(j.results) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--base", required=True)
    s.add_argument("--run-id", required=True)
    s.add_argument("--links", type=int, default=30)
    s.add_argument("--out", required=True)
    s.add_argument("--records", required=True)
    w = sub.add_parser("warm")
    w.add_argument("--base", required=True)
    w.add_argument("--links", required=True)
    w.add_argument("--timeout", type=float, default=15)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--links", required=True)
    r.add_argument("--run-id", required=True)
    r.add_argument("--phase", required=True)
    r.add_argument("--rate", type=float, default=100)
    r.add_argument("--threads", type=int, default=8)
    r.add_argument("--read-share", type=float, default=0.15)
    r.add_argument("--write-rate", type=float, default=5)
    r.add_argument("--max-seconds", type=float, default=120)
    r.add_argument("--records", required=True)
    c = sub.add_parser("check")
    c.add_argument("--links", required=True)
    c.add_argument("--run-id", required=True)
    c.add_argument("--phases", required=True)
    c.add_argument("--records", required=True)
    c.add_argument("--nginx-log", required=True)
    c.add_argument("--db", required=True)
    c.add_argument("--app-ports", required=True)
    c.add_argument("--settle-timeout", type=float, default=30)
    c.add_argument("--out", required=True)
    c.add_argument("--doc")
    c.add_argument("--command", default="make chaos")
    c.add_argument("--profile", default="full")
    u = sub.add_parser("suite", help="the whole suite against a running topology")
    u.add_argument("--target", choices=["stack", "compose"], default="stack")
    u.add_argument("--run-dir", help="the stack's RUN_DIR (stack target; default ./run)")
    u.add_argument("--work", help="records, phases, summary (default RUN_DIR/chaos)")
    u.add_argument("--profile", choices=sorted(PROFILES), default="full")
    u.add_argument("--phase", dest="phases", action="append",
                   help="run only this phase (repeatable)")
    u.add_argument("--doc")
    u.add_argument("--section", default="chaos")
    u.add_argument("--command")
    x = sub.add_parser("restarts", help="restart semantics of an app container")
    x.add_argument("--profile", choices=sorted(PROFILES), default="full")
    x.add_argument("--case", dest="cases", action="append")
    x.add_argument("--doc")
    x.add_argument("--command")
    a = ap.parse_args()
    if a.cmd == "restarts":
        sys.exit(cmd_restarts(a))
    if a.cmd == "suite":
        sys.exit(cmd_suite(a))
    if a.cmd == "setup":
        cmd_setup(a)
    elif a.cmd == "warm":
        cmd_warm(a)
    elif a.cmd == "run":
        cmd_run(a)
    else:
        sys.exit(cmd_check(a))


if __name__ == "__main__":
    main()
