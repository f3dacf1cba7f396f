#!/usr/bin/env python3
"""Load driver and accountant of the chaos suite (scripts/chaos.sh).

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
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

STOP = threading.Event()
TIMEOUT_S = 12.0  # above nginx's proxy_read_timeout (10 s)


# ---- HTTP ------------------------------------------------------------

def request(base, method, path, rid, body=None, timeout=TIMEOUT_S):
    """One request on a fresh connection; returns a record (never raises)."""
    u = urllib.parse.urlsplit(base)
    headers = {"X-Request-Id": rid, "User-Agent": "chaos/" + rid,
               "Connection": "close"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    rec = {"rid": rid, "method": method, "path": path, "t0": time.time()}
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
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
    rows = psql(db, "SELECT click_user_agent, count(*) FROM events"
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
    entries = {}
    with open(path) as f:
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
    instance the phase killed something in."""
    e = nlog.get(rec["rid"])
    if not e or not phase.get("port"):
        return False
    ups = [u.strip() for u in e.get("upstream", "").split(",")]
    return ups[-1:] == ["127.0.0.1:%s" % phase["port"]]


def allowed_failure(rec, phase, nlog):
    """A failed request the design accepts in this phase, with the reason."""
    kind = phase["kind"]
    if kind in ("kill_instance", "kill_worker"):
        # GETs and PUTs are retried by nginx on another instance; a POST
        # is never sent twice, so one in flight on the killed process fails.
        if rec["method"] == "POST" and killed_upstream(rec, phase, nlog):
            return "POST in flight on the killed process"
    if kind == "postgres" and rec["kind"] != "redirect":
        b = rec.get("body") or {}
        if (rec["status"] == 503 and b.get("code") == "service_unavailable"
                and rec.get("retry_after") and "json" in (rec.get("ctype") or "")
                and phase["fault_start"] <= rec["t1"]
                and rec["t0"] <= phase["recovered_at"] + 1.0):
            return "503 JSON with Retry-After while PostgreSQL was down"
    return None


def judge_phase(j, phase, recs, nlog, fig):
    name = phase["name"]
    fails = [r for r in recs if r["status"] != EXPECTED[r["kind"]]]
    allowed = [(r, allowed_failure(r, phase, nlog)) for r in fails]
    bad = [r for r, why in allowed if not why]
    redirect_fails = [r for r in fails if r["kind"] == "redirect"]
    fig.update(sent=len(recs), failed=len(fails),
               failed_redirects=len(redirect_fails),
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
            "%d redirects, %d failed" % (fig["redirects"], len(redirect_fails)))
    kind = phase["kind"]
    if kind == "kill_instance":
        j.check("%s: instance back within 5 s" % name, phase["recovery_s"] < 5,
                "new Kore parent serving after %.2f s" % phase["recovery_s"])
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
        w503 = [r for r in fails if r["status"] == 503]
        during = [r for r in recs if r["kind"] == "redirect"
                  and phase["fault_at"] < r["t0"] and r["t1"] < phase["restore_start"]]
        fig.update(write_503=len(w503), redirects_during_outage=len(during),
                   recovery_s=round(phase["recovery_s"], 2))
        j.check("%s: cached redirects keep working" % name,
                during and all(r["status"] == 302 for r in during),
                "%d redirects during the outage, all 302" % len(during) if during else "no redirect during the outage")
        j.check("%s: writes get 503 JSON with Retry-After" % name, bool(w503),
                "%d writes/reads answered 503 service_unavailable with Retry-After" % len(w503))
        j.check("%s: recovered without restarting the app" % name,
                not phase.get("app_restarted"),
                "all instances ready %.2f s after PostgreSQL restarted; Kore pids %s" % (
                    phase["recovery_s"], "changed" if phase.get("app_restarted") else "unchanged"))
    if kind == "rolling":
        fig["recovery_s"] = round(phase["recovery_s"], 2)
        j.check("%s: all three instances restarted" % name, phase.get("all_restarted"),
                "rolling restart took %.2f s" % phase["recovery_s"])


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
    total_missing_bad = 0
    lines = []
    for name, fig in figs.items():
        ok302 = [r for r in recs if r["phase"] == name and r["kind"] == "redirect"
                 and r["status"] == 302]
        missing = [r for r in ok302 if counts.get(r["rid"], 0) == 0]
        dups = sum(counts.get(r["rid"], 0) - 1 for r in ok302 if counts.get(r["rid"], 0) > 1)
        phase = by_phase.get(name, {"kind": name})
        # The documented loss: clicks a SIGKILLed worker held in memory,
        # i.e. answered by the killed instance before the kill.
        documented = [r for r in missing if phase["kind"] in ("kill_instance", "kill_worker")
                      and killed_upstream(r, phase, nlog) and r["t1"] <= phase["fault_at"] + 0.05]
        bad = len(missing) - len(documented)
        total_missing_bad += bad
        fig.update(redirects_302=len(ok302), clicks_stored=len(ok302) - len(missing),
                   clicks_lost_documented=len(documented), clicks_lost_unexplained=bad,
                   clicks_duplicated=dups)
        lines.append("%s: %d 302s, %d lost (%d documented), %d duplicated" % (
            name, len(ok302), len(missing), len(documented), dups))
    j.check("accounting: every 302's click is stored, except the documented loss",
            total_missing_bad == 0, "; ".join(lines))


COLUMNS = [("sent", "requests"), ("failed", "failed"), ("failed_expected", "expected failures"),
           ("failed_redirects", "failed redirects"), ("recovery_s", "recovery (s)"),
           ("redirects_302", "302s"), ("clicks_lost_documented", "clicks lost (documented)"),
           ("clicks_lost_unexplained", "clicks lost (unexplained)"),
           ("clicks_duplicated", "clicks doubled")]


def table(figs):
    out = ["| phase | " + " | ".join(c[1] for c in COLUMNS) + " |",
           "|---|" + "---|" * len(COLUMNS)]
    for name, fig in figs.items():
        out.append("| %s | " % name + " | ".join(str(fig.get(k, "")) for k, _ in COLUMNS) + " |")
    return "\n".join(out)


def write_doc(path, summary):
    begin, end = "<!-- chaos:begin -->", "<!-- chaos:end -->"
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
        write_doc(a.doc, summary)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


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
    a = ap.parse_args()
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
