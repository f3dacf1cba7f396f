"""Restart semantics of an app container, measured (chaosload.py restarts).

For each way an instance can go away, app2 of a running compose project is
broken once, Docker's own events are recorded (die with its exit code, oom,
start, health_status), and what happened is judged against what the
project expects of its restart policy (`restart: unless-stopped`) and of
the watchdog (autoheal) for the case Docker does not cover:

  crash           SIGKILL of the container's main process (Kore's parent,
                  PID 1 in the container) from the host, the container
                  having run for more than 10 s. A real crash (a SIGSEGV)
                  looks the same to Docker: the main process died of a
                  signal nobody sent through Docker. Expected: Docker
                  restarts it (its RestartCount grows); should it not,
                  autoheal starts it 3 s later, and the row says so.
  crash-unrestarted  the same with the restart policy switched off
                  (docker update --restart no), standing in for a crash
                  Docker does not follow with a restart (seen once).
                  Expected: autoheal starts it 3 s later.
  oom             a memory limit (96 MB, docker update), oom_score_adj 1000
                  on Kore's parent, and a process in the container that
                  allocates until the cgroup is full: the kernel's OOM
                  killer kills Kore's parent. Expected: restarted.
  docker-kill     `docker kill`: Docker counts it as a manual stop.
                  Expected: not restarted; `make compose-up` (docker-compose
                  up -d) brings it back.
  docker-kill-always  the same with `restart: always` (docker update): not
                  restarted either, which is why the project keeps
                  unless-stopped (always differs only after a daemon
                  restart).
  docker-stop     `docker stop`: SIGTERM (drain, click flush), a manual stop.
                  Expected: not restarted; compose up brings it back.
  docker-restart  `docker restart`. Expected: back.
  unhealthy       both workers SIGSTOPped: the process lives, /health times
                  out. First with the watchdog stopped: Docker marks the
                  container unhealthy and does nothing else. Then with
                  autoheal running: it restarts the container.

Each case ends with app2 running and healthy again (restored the way an
operator would: compose up, or a recreate to drop the test's memory
limit). The short profile (the test command) runs crash, crash-unrestarted,
docker-kill and unhealthy with shorter observation windows; full (`make chaos-compose`)
runs all of them and writes the table into docs/failure-modes.md.
"""

import json
import os
import signal
import subprocess
import threading
import time

from targets import REPO, children, sh

CASES = {
    "crash": "SIGKILL of the main process (Kore's parent, PID 1) from the host",
    "crash-unrestarted": "the same with the restart policy off (`docker update --restart no`)",
    "oom": "96 MB memory limit, Kore's parent first in line for the OOM killer, "
           "a process allocating in the container",
    "docker-kill": "`docker kill`",
    "docker-kill-always": "`docker kill` with `restart: always`",
    "docker-stop": "`docker stop` (SIGTERM, then SIGKILL after 30 s)",
    "docker-restart": "`docker restart`",
    "unhealthy": "both workers SIGSTOPped: the process lives, /health times out",
}
SHORT = ["crash", "crash-unrestarted", "docker-kill", "unhealthy"]


class Events:
    """`docker events` of one container, collected in the background."""

    def __init__(self, t, cid):
        self.list = []
        self.p = subprocess.Popen(["docker", "events", "--filter", "container=%s" % cid,
                                   "--format", "{{json .}}"], stdout=subprocess.PIPE,
                                  text=True, env=t.env)
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()

    def _read(self):
        for line in self.p.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            self.list.append((e["timeNano"] / 1e9, e["status"].strip(),
                              e.get("Actor", {}).get("Attributes", {})))

    def first(self, status, after=0.0):
        for ts, st, attrs in list(self.list):
            if ts >= after and st == status:
                return ts, attrs
        return None, None

    def close(self):
        self.p.terminate()
        self.p.wait()


class Restarts:
    def __init__(self, target, profile):
        self.t = target
        self.window = 8 if profile == "short" else 20
        self.rows = []

    def log(self, msg):
        print("restarts: %s" % msg, flush=True)

    def app(self):
        return self.t.inspect("app2")

    def wait(self, fn, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if fn():
                return True
            time.sleep(0.1)
        return False

    def started_ago(self):
        """Seconds since app2's container (re)started."""
        started = self.app()["State"]["StartedAt"]
        t = time.mktime(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        return time.time() - t

    def ran(self, seconds):
        """Wait until app2 has run SECONDS since its last start."""
        left = seconds - self.started_ago()
        if left > 0:
            time.sleep(left)

    def healthy(self):
        st = self.app()["State"]
        return st["Running"] and (st.get("Health") or {}).get("Status") == "healthy"

    def compose_up(self, *extra):
        """What `make compose-up` does for a stopped instance."""
        sh([REPO / "scripts/compose.py", "dc", "up", "-d", "--no-deps", "--no-build"]
           + list(extra) + ["app2"], env=self.t.env)

    def run_case(self, name):
        if not self.healthy():
            self.compose_up()
            self.wait(self.healthy, 60)
        c = self.app()
        ev = Events(self.t, c["Id"])
        time.sleep(0.5)
        row = {"case": name, "how": CASES[name]}
        try:
            getattr(self, "case_" + name.replace("-", "_"))(c, ev, row)
        finally:
            ev.close()
        if not self.healthy():
            self.compose_up()
            self.wait(self.healthy, 60)
        self.rows.append(row)
        self.log("%s: %s" % (name, json.dumps(row)))

    def measure_back(self, ev, t0, row, count0, timeout=60):
        """Docker's die, oom, start and healthy after T0, as seconds, and who
        started it again: Docker's restart policy counts its restarts
        (RestartCount, from COUNT0), a start through the API does not."""
        self.wait(self.healthy, timeout)
        row["restart_count"] = self.app()["RestartCount"] - count0
        time.sleep(0.3)
        die, attrs = ev.first("die", t0)
        oom, _ = ev.first("oom", t0)
        start, _ = ev.first("start", t0)
        healthy, _ = ev.first("health_status: healthy", start or t0)
        row.update(exit_code=int(attrs["exitCode"]) if attrs else None, oom_event=oom is not None,
                   restarted_by_docker=row["restart_count"] > 0 or (
                       row["case"] == "docker-restart" and start is not None),
                   running_after_s=round(start - t0, 2) if start else None,
                   healthy_after_s=round(healthy - t0, 2) if start and healthy else None)

    def measure_stays_down(self, ev, t0, row):
        """Observed for the window: Docker must not start it again."""
        time.sleep(self.window)
        die, attrs = ev.first("die", t0)
        start, _ = ev.first("start", t0)
        row.update(exit_code=int(attrs["exitCode"]) if attrs else None,
                   restarted_by_docker=start is not None, observed_s=self.window,
                   state_after=self.app()["State"]["Status"])
        t1 = time.time()
        self.compose_up()
        self.wait(self.healthy, 60)
        row["project"] = "compose up brings it back"
        row["compose_up_healthy_s"] = round(time.time() - t1, 2)

    # ---- the cases ------------------------------------------------------

    def case_crash(self, c, ev, row):
        # A restart policy applies to a container that ran for 10 s.
        self.ran(11)
        count0 = self.app()["RestartCount"]
        t0 = time.time()
        os.kill(self.app()["State"]["Pid"], signal.SIGKILL)
        self.measure_back(ev, t0, row, count0)
        row["project"] = self.project_for_crash(row)

    def case_crash_unrestarted(self, c, ev, row):
        self.t.docker("update", "--restart", "no", c["Id"])
        try:
            count0 = self.app()["RestartCount"]
            t0 = time.time()
            os.kill(self.app()["State"]["Pid"], signal.SIGKILL)
            self.measure_back(ev, t0, row, count0)
        finally:
            self.t.docker("update", "--restart", "unless-stopped", c["Id"])
        row["project"] = self.project_for_crash(row)

    def project_for_crash(self, row):
        if row["restarted_by_docker"]:
            return "nothing to do: the restart policy"
        return "autoheal started it (Docker did not)" if row.get("running_after_s") else "nothing"

    def case_oom(self, c, ev, row):
        self.ran(11)
        cid = c["Id"]
        self.t.docker("update", "--memory", "96m", "--memory-swap", "96m", cid)
        with open("/proc/%d/oom_score_adj" % c["State"]["Pid"], "w") as f:
            f.write("1000")
        count0 = self.app()["RestartCount"]
        t0 = time.time()
        subprocess.run(["docker", "exec", cid, "sh", "-c",
                        "head -c 400000000 /dev/zero | tail -n 1 >/dev/null"],
                       env=self.t.env, capture_output=True)
        self.measure_back(ev, t0, row, count0)
        row["project"] = self.project_for_crash(row)
        # The limit was the test's: a recreated container has none.
        self.compose_up("--force-recreate")
        self.wait(self.healthy, 60)

    def case_docker_kill(self, c, ev, row):
        t0 = time.time()
        self.t.docker("kill", c["Id"])
        self.measure_stays_down(ev, t0, row)

    def case_docker_kill_always(self, c, ev, row):
        self.t.docker("update", "--restart", "always", c["Id"])
        try:
            t0 = time.time()
            self.t.docker("kill", c["Id"])
            self.measure_stays_down(ev, t0, row)
        finally:
            self.t.docker("update", "--restart", "unless-stopped", c["Id"])

    def case_docker_stop(self, c, ev, row):
        t0 = time.time()
        self.t.docker("stop", c["Id"])
        row["stop_took_s"] = round(time.time() - t0, 2)
        self.measure_stays_down(ev, t0, row)

    def case_docker_restart(self, c, ev, row):
        count0 = self.app()["RestartCount"]
        t0 = time.time()
        self.t.docker("restart", c["Id"])
        self.measure_back(ev, t0, row, count0)
        row["project"] = "nothing to do"

    def case_unhealthy(self, c, ev, row):
        sh([REPO / "scripts/compose.py", "dc", "stop", "autoheal"], env=self.t.env)
        try:
            t0 = time.time()
            for w in children(c["State"]["Pid"]):
                os.kill(w, signal.SIGSTOP)
            self.wait(lambda: ev.first("health_status: unhealthy", t0)[0], 60)
            unhealthy, _ = ev.first("health_status: unhealthy", t0)
            time.sleep(self.window)
            row.update(unhealthy_after_s=round(unhealthy - t0, 2) if unhealthy else None,
                       restarted_by_docker=ev.first("die", t0)[0] is not None,
                       observed_s=self.window,
                       state_after=self.app()["State"].get("Health", {}).get("Status"))
        finally:
            t1 = time.time()
            sh([REPO / "scripts/compose.py", "dc", "start", "autoheal"], env=self.t.env)
        self.wait(self.healthy, 90)
        start, _ = ev.first("start", t1)
        healthy, _ = ev.first("health_status: healthy", start or t1)
        row.update(project="autoheal restarts it",
                   autoheal_running_after_s=round(start - t1, 2) if start else None,
                   autoheal_healthy_after_s=round(healthy - t1, 2) if start and healthy else None)

    # ---- judging ----------------------------------------------------------

    EXPECT_BACK = {"crash", "oom", "docker-restart"}
    EXPECT_DOWN = {"docker-kill", "docker-kill-always", "docker-stop"}

    def judge(self, j):
        for r in self.rows:
            n = r["case"]
            if n in self.EXPECT_BACK:
                ok = r.get("healthy_after_s") is not None and r["healthy_after_s"] < 20
                j.check("restarts: %s: back and healthy" % n, ok,
                        "exit %s%s, %s, running again after %s s, healthy after %s s" % (
                            r.get("exit_code"), ", OOM event" if r.get("oom_event") else "",
                            "restarted by Docker" if r.get("restarted_by_docker")
                            else "NOT restarted by Docker: " + r.get("project", ""),
                            r.get("running_after_s"), r.get("healthy_after_s")))
            elif n == "crash-unrestarted":
                j.check("restarts: crash-unrestarted: autoheal starts it",
                        not r.get("restarted_by_docker") and r.get("healthy_after_s") is not None
                        and r["healthy_after_s"] < 20,
                        "exit %s, not restarted by Docker; started after %s s, healthy after %s s"
                        % (r.get("exit_code"), r.get("running_after_s"), r.get("healthy_after_s")))
            elif n in self.EXPECT_DOWN:
                j.check("restarts: %s: a manual stop, not restarted" % n,
                        not r.get("restarted_by_docker") and r.get("compose_up_healthy_s") is not None,
                        "exit %s, still %s after %s s; compose up: healthy after %s s" % (
                            r.get("exit_code"), r.get("state_after"), r.get("observed_s"),
                            r.get("compose_up_healthy_s")))
            elif n == "unhealthy":
                j.check("restarts: unhealthy: Docker alone does nothing",
                        r.get("unhealthy_after_s") is not None and not r.get("restarted_by_docker")
                        and r.get("state_after") == "unhealthy",
                        "unhealthy after %s s, still running unhealthy %s s later" % (
                            r.get("unhealthy_after_s"), r.get("observed_s")))
                j.check("restarts: unhealthy: autoheal restarts it",
                        r.get("autoheal_healthy_after_s") is not None,
                        "restarted %s s after autoheal started, healthy after %s s" % (
                            r.get("autoheal_running_after_s"), r.get("autoheal_healthy_after_s")))


COLUMNS = [("how", "how"), ("exit_code", "exit code"),
           ("restarted_by_docker", "restarted by Docker"),
           ("running_after_s", "running again (s)"), ("healthy_after_s", "healthy again (s)"),
           ("project", "what the project does"), ("compose_up_healthy_s", "compose up: healthy (s)")]


def table(rows):
    out = ["| case | " + " | ".join(c[1] for c in COLUMNS) + " |",
           "|---|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for k, _ in COLUMNS:
            v = r.get(k, "")
            if k == "restarted_by_docker":
                v = "yes" if v else "no"
            if r["case"] == "unhealthy" and k == "running_after_s":
                v = "unhealthy after %s, still unhealthy %s s later" % (
                    r.get("unhealthy_after_s"), r.get("observed_s"))
            if r["case"] == "unhealthy" and k == "compose_up_healthy_s":
                v = "autoheal: healthy %s s after it started" % r.get("autoheal_healthy_after_s")
            if r["case"] == "oom" and k == "exit_code" and r.get("oom_event"):
                v = "%s (OOM event)" % v
            cells.append("" if v is None else str(v))
        out.append("| %s | " % r["case"] + " | ".join(cells) + " |")
    return "\n".join(out)


def write_doc(path, rows, results, command):
    begin, end = "<!-- restarts:begin -->", "<!-- restarts:end -->"
    text = open(path).read()
    if begin not in text or end not in text:
        raise SystemExit("restarts: %s has no %s ... %s section" % (path, begin, end))
    body = [begin, "", "Run of `%s` on %s, %d cores, `restart: unless-stopped`, autoheal "
            "running (except where the case says): app2 of the container topology." % (
                command, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count()),
            "", table(rows), ""]
    for r in results:
        body.append("- %s **%s**: %s" % ("✓" if r["ok"] else "✗", r["name"], r["detail"]))
    body += ["", end]
    head, rest = text.split(begin, 1)
    with open(path, "w") as f:
        f.write(head + "\n".join(body) + rest.split(end, 1)[1])
