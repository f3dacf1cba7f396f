"""The Docker-free topology (`make up`, scripts/stack.py under supervisord),
end to end, on free loopback ports in a temp dir (never the developer's
./run or their `make up` ports):

  up; every example of docs/api.md on the fresh stack (tests/docs); status;
  a second up changes nothing; a busy port is refused by name before
  anything starts; supervision (a SIGKILLed Kore parent is restarted
  and its orphaned workers ended, a stop takes the whole process group, the
  logs are where they were); never stale (a link cached on all three
  instances and deactivated through nginx is a 404 on every instance at
  once); the suites a client of the public port meets, through nginx:
  tests/public (the contract's edges, mass invalidation, the web app's
  API), tests/browser (the web app in headless Chromium) and the C contract
  suite (tests/integration, black box, TAP); the hostile HTTP corpus
  (tests/hostile: every answer JSON, every worker of the three instances
  alive after every case, the database unchanged); the chaos suite (CHAOS_PROFILE: short by default, full for
  `make chaos`, which writes its figures into CHAOS_DOC); down leaves no
  process and no port.

The tests depend on each other in file order (one stack for the module).
Logs are kept in .build/test-logs/stack/; the reports of the suites run
through nginx (JUnit XML, TAP) in .build/test-logs/stack-suites/, where
scripts/test.py counts their tests and lists their skips.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import (DOC, PROFILE, REPO, check_crash, crash_under_load, free_port,
                      last_totals, sh)

STACK = REPO / "scripts" / "stack.py"
PORT_VARS = ["PG_PORT", "REDIS_PORT", "APP1_PORT", "APP2_PORT", "APP3_PORT", "NGINX_PORT",
             "PROMETHEUS_PORT", "ALERTMANAGER_PORT"]
PROGRAMS = ["postgres", "redis", "app1", "app2", "app3", "nginx", "alertmanager", "prometheus"]
LOGS = REPO / ".build" / "test-logs" / "stack"
SUITES = REPO / ".build" / "test-logs" / "stack-suites"
PYTHON = "/usr/bin/python3"
# What an earlier stage of scripts/test.py (its private instance) exported
# is not this stack's.
FOREIGN = ["PUBLIC_BASE_URL", "SHORTENER_URL", "REDIS_URL", "DATABASE_URL",
           "SHORTENER_REDIS_CLI", "SHORTENER_PG_STOP", "SHORTENER_PG_START",
           "SHORTENER_PG_PAUSE", "SHORTENER_PG_RESUME", "SHORTENER_REDIS_STOP",
           "SHORTENER_REDIS_START", "SHORTENER_APP_STOP", "SHORTENER_APP_START",
           "SHORTENER_APP_PIDFILE", "PUBLIC_URL", "APP_URL", "APP_URLS", "SEED_DIR"]


class Stack:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="shortener-stack."))
        # The postgres user must reach the cluster under it.
        os.chmod(self.tmp, 0o711)
        self.run = self.tmp / "run"
        self.ports = {v: free_port() for v in PORT_VARS}
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        # The open contract, as `make up` runs by default; the keyed mode
        # is test_up_with_api_keys_required's.
        env.pop("SHORTENER_API_KEY", None)
        self.env = dict(env, RUN_DIR=str(self.run), PG_FAST="1", API_KEYS_REQUIRED="0",
                        **{k: str(v) for k, v in self.ports.items()})
        self.up_ok = False

    def __call__(self, *args, env=None, timeout=600):
        return sh([STACK] + list(args), env=env or self.env, timeout=timeout)

    def pids(self):
        """{program: pid} from supervisord."""
        out = self("ctl", "status").stdout
        res = {}
        for line in out.splitlines():
            parts = line.split()
            if "pid" in parts:
                res[parts[0]] = int(parts[parts.index("pid") + 1].rstrip(","))
        return res

    def supervisord_pid(self):
        try:
            return int((self.run / "supervisord.pid").read_text())
        except (OSError, ValueError):
            return None

    def url(self, var, path=""):
        return "http://127.0.0.1:%d%s" % (self.ports[var], path)

    def keep_logs(self):
        shutil.rmtree(LOGS, ignore_errors=True)
        LOGS.mkdir(parents=True)
        for f in ["supervisord.log", "postgres.log", "app1/app.log", "app2/app.log",
                  "app3/app.log", "nginx/access.log", "nginx/error.log", "redis/redis.log",
                  "prometheus/prometheus.log", "alertmanager/alertmanager.log"]:
            if (self.run / f).exists():
                shutil.copy(self.run / f, LOGS / f.replace("/", "-"))
        if (self.run / "chaos").is_dir():
            shutil.copytree(self.run / "chaos", LOGS / "chaos")


    def client_env(self, **extra):
        """The environment of a suite that is a client of this stack."""
        apps = ",".join(self.url(v) for v in ("APP1_PORT", "APP2_PORT", "APP3_PORT"))
        return dict(self.env, PUBLIC_URL=self.url("NGINX_PORT"), APP_URL=self.url("APP1_PORT"),
                    APP_URLS=apps, PYTHONDONTWRITEBYTECODE="1",
                    DATABASE_URL="postgresql://postgres@127.0.0.1:%d/shortener"
                    "?connect_timeout=2&gssencmode=disable" % self.ports["PG_PORT"],
                    **extra)


@pytest.fixture(scope="module")
def stack():
    shutil.rmtree(SUITES, ignore_errors=True)
    SUITES.mkdir(parents=True)
    s = Stack()
    yield s
    if s.supervisord_pid():
        s("down")
    s.keep_logs()
    shutil.rmtree(s.tmp, ignore_errors=True)


def alive(pid):
    try:
        return Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def status(url, method="GET", body=None, timeout=5):
    req = urllib.request.Request(url, method=method, data=body and json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except OSError:
        return None, None, None


def need_up(stack):
    if not stack.up_ok:
        pytest.fail("the stack did not come up (test_up)")


def test_up(stack):
    t0 = time.time()
    p = stack("up")
    assert p.returncode == 0, "stack up failed"
    stack.up_ok = True
    print("stack up in %.0f s (nginx on 127.0.0.1:%d)" % (time.time() - t0, stack.ports["NGINX_PORT"]))
    assert "The shortener runs at http://127.0.0.1:%d" % stack.ports["NGINX_PORT"] in p.stdout
    # The open contract here, unless asked for keys; the banner says which.
    assert "Mode:         open: API keys not required" in p.stdout


def report_totals(report):
    """(passed, failed, skipped) of a JUnit XML or TAP report
    (scripts/test_report.py, which also prints each skip's reason)."""
    p = sh([PYTHON, REPO / "scripts" / "test_report.py", report])
    assert p.returncode == 0 and p.stdout.split(), "no totals in %s" % report
    return tuple(int(n) for n in p.stdout.split())


def run_suite(name, cmd, env, report, timeout=900):
    """Run a suite whose report lands in REPORT; fail on any failure or on
    a suite that ended without its report."""
    p = sh(cmd, env=env, timeout=timeout, cwd=REPO)
    (SUITES / ("%s.log" % name)).write_text(p.stdout + p.stderr)
    assert report.exists() and report.stat().st_size, \
        "%s left no report (exit %d)" % (name, p.returncode)
    passed, failed, skipped = report_totals(report)
    print("%s: %d passed, %d failed, %d skipped" % (name, passed, failed, skipped))
    assert failed == 0, "%s: %d failed (%s)" % (name, failed, SUITES / ("%s.log" % name))
    assert p.returncode == 0, "%s exited %d without a failed test" % (name, p.returncode)
    assert passed > 0, "%s ran no test" % name


def pytest_suite(stack, name, path, select=None, **env):
    """The pytest suite at PATH as a client of STACK; SELECT a -k expression."""
    report = SUITES / ("%s.xml" % name)
    run_suite(name, [PYTHON, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                     "--junitxml=%s" % report, REPO / path] + (["-k", select] if select else []),
              stack.client_env(**env), report)


def test_api_examples_on_the_fresh_stack(stack):
    """Every example of docs/api.md, before anything else writes (the
    examples show the generated sample's rows)."""
    need_up(stack)
    pytest_suite(stack, "docs", "tests/docs")


def test_status_every_service_up(stack):
    need_up(stack)
    p = stack("status")
    assert p.returncode == 0
    assert sum(" up " in line for line in p.stdout.splitlines()) == len(PROGRAMS) + 1


def test_postgres_runs_with_the_project_settings(stack):
    """supervisord starts postgres itself, so the settings of
    conf/postgresql.conf must be in the cluster before (pg.sh init): every
    one of them comes from that file (without them, JIT alone put the first
    page of GET /events at ~1 s at 10M events)."""
    need_up(stack)
    names = []
    for line in (REPO / "conf" / "postgresql.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line.split("=", 1)[0].strip())
    assert "jit" in names and "shared_buffers" in names
    url = "postgresql://postgres@127.0.0.1:%d/shortener" % stack.ports["PG_PORT"]
    p = sh(["psql", url, "-X", "-At", "-F", " ", "-c",
            "SELECT name, coalesce(sourcefile, source) FROM pg_settings "
            "WHERE name IN (%s) ORDER BY 1" % ",".join("'%s'" % n for n in names)])
    assert p.returncode == 0
    rows = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    assert sorted(rows) == sorted(names)
    assert [n for n, src in rows.items() if not src.endswith("/shortener.conf")] == []
    assert sh(["psql", url, "-X", "-At", "-c", "SHOW jit"]).stdout.strip() == "off"


def test_second_up_is_harmless(stack):
    need_up(stack)
    before = stack.pids()
    module = REPO / ".build" / "prod" / "shortener" / "shortener.so"
    stamp = module.stat().st_mtime
    assert stack("up").returncode == 0
    after = stack.pids()
    others = [p for p in PROGRAMS if not p.startswith("app")]
    assert {p: after[p] for p in others} == {p: before[p] for p in others}, "services restarted"
    if module.stat().st_mtime == stamp:
        assert after == before, "instances restarted although the module did not change"


def test_busy_port_is_refused_by_name(stack):
    need_up(stack)
    other = stack.tmp / "other"
    env = dict(stack.env, RUN_DIR=str(other), **{v: str(free_port()) for v in PORT_VARS
                                                  if v != "NGINX_PORT"})
    p = stack("up", env=env)
    assert p.returncode != 0
    assert "port %d is already in use" % stack.ports["NGINX_PORT"] in p.stderr
    assert not (other / "pg").exists() and not (other / "supervisord.pid").exists()


def kore_in(rundir):
    out = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and os.readlink(p / "cwd") == str(rundir) \
                    and (p / "comm").read_text().strip() == "kore" and alive(int(p.name)):
                out.append(int(p.name))
        except OSError:
            pass
    return sorted(out)


def test_supervision_restarts_a_killed_instance_and_ends_its_orphans(stack):
    need_up(stack)
    rundir = (stack.run / "app3").resolve()
    old = stack.pids()["app3"]
    orphans = [p for p in kore_in(rundir) if p != old]
    assert len(orphans) == 2, "expected two workers of app3, found %s" % orphans
    os.kill(old, signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline:
        new = stack.pids().get("app3")
        if new and new != old and status(stack.url("APP3_PORT", "/health"))[0] == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail("app3 was not serving again within 5 s")
    assert not [p for p in orphans if alive(p)], "orphaned workers still run"
    log = (stack.run / "supervisord.log").read_text()
    assert "exited: app3 (terminated by SIGKILL; not expected)" in log
    assert "orphaned workers of the dead parent" in (stack.run / "app3" / "app.log").read_text()


def test_supervision_stops_the_whole_group_and_keeps_the_logs(stack):
    need_up(stack)
    rundir = (stack.run / "app3").resolve()
    assert len(kore_in(rundir)) == 3
    assert stack("ctl", "stop", "app3").returncode == 0
    assert kore_in(rundir) == [], "a process of app3 outlived its stop"
    assert status(stack.url("APP3_PORT", "/health"))[0] is None, "app3 still answers"
    assert stack("ctl", "start", "app3").returncode == 0
    deadline = time.time() + 10
    while status(stack.url("APP3_PORT", "/health"))[0] != 200:
        assert time.time() < deadline, "app3 not back after start"
        time.sleep(0.1)
    lines = (stack.run / "app3" / "app.log").read_text().splitlines()
    assert any(l.startswith("{") and '"event":"instance_stop"' in l for l in lines)
    logs = stack("logs").stdout
    for f in ["app1/app.log", "nginx/access.log", "supervisord.log", "postgres.log"]:
        assert "==> %s <==" % (stack.run / f) in logs


def head(port, code):
    req = urllib.request.Request("http://127.0.0.1:%d/%s" % (port, code), method="HEAD")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    try:
        r = urllib.request.build_opener(NoRedirect).open(req, timeout=5)
        return r.status, r.headers.get("X-Cache")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("X-Cache")


def new_link(stack, name):
    """A user and a link of its own, created through nginx."""
    base = stack.url("NGINX_PORT")
    st, _, body = status(base + "/users", "POST", {
        "username": name, "email": "%s-%d@example.com" % (name, os.getpid())})
    assert st == 201, body
    st, _, body = status(base + "/urls", "POST", {"user_id": json.loads(body)["id"],
                                                  "original_url": "https://example.com/" + name})
    assert st == 201, body
    return json.loads(body)


def test_never_stale_across_instances(stack):
    """A link cached on all three instances (Redis and the workers' local
    copies), deactivated through nginx: the next redirect on each instance
    is a 404 (docs/decisions.md, local cache)."""
    need_up(stack)
    base = stack.url("NGINX_PORT")
    link = new_link(stack, "stale")
    ports = [stack.ports[v] for v in ("APP1_PORT", "APP2_PORT", "APP3_PORT")]
    warm = sum(head(p, link["short_code"]) == (302, "HIT") for p in ports for _ in range(20))
    assert warm > 0, "the link never became a cache HIT"
    st, _, _ = status(base + "/urls/%d" % link["id"], "PUT", {"is_active": False})
    assert st == 200
    stale = [(p, head(p, link["short_code"])) for p in ports for _ in range(5)]
    assert all(s[0] == 404 for _, s in stale), "served after the PUT: %s" % stale


def test_sigkill_at_saturation_loses_and_doubles_no_click(stack):
    """wrk at full speed on app1 directly, every Kore process of app1
    SIGKILLed after 4 s (supervisord starts it again): every click a 302
    answered is stored, none twice (docs/decisions.md, clicks that survive
    a crash)."""
    need_up(stack)
    link = new_link(stack, "crash")
    rundir = (stack.run / "app1").resolve()
    db = stack.client_env()["DATABASE_URL"]

    def kill():
        victims = kore_in(rundir)
        assert len(victims) == 3, "expected app1's parent and two workers: %s" % victims
        for pid in victims:
            os.kill(pid, signal.SIGKILL)

    def rows(sql):
        p = subprocess.run(["psql", "-At", "-F", "\t", db, "-c", sql], capture_output=True,
                           text=True, check=True)
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    fig = crash_under_load(stack.url("APP1_PORT"), "/" + link["short_code"], link["id"],
                           kill, rows, SUITES / "sigkill-at-saturation.json")
    check_crash(fig)
    logs = "".join(p.read_text(errors="replace") for p in (stack.run / "app1").glob("app.log*"))
    print("app1 after the kill: %s" % [ln[-120:] for ln in logs.splitlines()
                                       if '"clicks_replayed"' in ln])


def test_public_port(stack):
    """The contract's edge families, the mass invalidation and the web
    app's API through nginx with its default limits (tests/public)."""
    need_up(stack)
    pytest_suite(stack, "public", "tests/public", RUN_DIR=str(stack.run))


def test_browser(stack):
    """The web app in headless Chromium through nginx (tests/browser); its
    screenshots stay with the logs."""
    need_up(stack)
    pytest_suite(stack, "browser", "tests/browser", "not keys_on",
                 SCREENSHOT_DIR=str(SUITES / "screenshots"))


def test_contract_through_nginx(stack):
    """The C integration suite (the contract, black box) through nginx, as
    an API client meets it. Left out: resilience (it stops the
    dependencies of a private instance), retention (it needs the instance
    run with CLICK_RETENTION_DAYS and a 2 s CLICK_UPKEEP_S, as the
    integration stage runs it) and what reads /metrics, which is not on
    the public port."""
    need_up(stack)
    sh(["make", "-C", REPO, "--no-print-directory", "tests/bin/integration"], check=True)
    report = SUITES / "contract.tap"
    env = stack.client_env(
        SHORTENER_URL=stack.url("NGINX_PORT"), SHORTENER_BEHIND_NGINX="1",
        PUBLIC_BASE_URL=stack.url("NGINX_PORT"), SEED_DIR=str(stack.run / "seed"),
        REDIS_URL="redis://127.0.0.1:%d/0" % stack.ports["REDIS_PORT"],
        SHORTENER_REDIS_CLI="redis-cli -h 127.0.0.1 -p %d" % stack.ports["REDIS_PORT"],
        CRITERION_JOBS="2")
    run_suite("contract", [
        "timeout", "-k", "10", "900", REPO / "tests" / "bin" / "integration",
        "--filter", "!(resilience/*|retention/*|metrics/*|"
        "cache/hot_code_is_answered_from_the_workers_local_copy)",
        "--tap=%s" % report], env, report, timeout=960)


def test_hostile_through_nginx(stack):
    """The hostile HTTP corpus (tests/hostile) through nginx: every answer
    the contract's JSON, every Kore parent and worker of the three
    instances the same after each case, the database unchanged. Under
    supervisord each instance's program pid is its Kore parent."""
    need_up(stack)
    pids = SUITES / "hostile-pids"
    pids.mkdir(exist_ok=True)
    files = []
    for app, pid in sorted(stack.pids().items()):
        if app.startswith("app"):
            (pids / ("%s.pid" % app)).write_text("%d\n" % pid)
            files.append(str(pids / ("%s.pid" % app)))
    assert len(files) == 3, "instances: %s" % files
    report = SUITES / "hostile.xml"
    run_suite("hostile", [PYTHON, "-m", "pytest", "-q", "-rfEs", "--tb=short",
                          "-p", "no:cacheprovider", "--junitxml=%s" % report,
                          REPO / "tests" / "hostile"],
              stack.client_env(HOSTILE_URL=stack.url("NGINX_PORT"), HOSTILE_VIA="nginx",
                               HOSTILE_PIDFILES=":".join(files)),
              report, timeout=1200)


def test_chaos(stack):
    need_up(stack)
    args = ["suite", "--target", "stack", "--run-dir", stack.run, "--profile", PROFILE]
    if DOC:
        args += ["--doc", DOC, "--command", "make chaos"]
    p = sh([PYTHON, REPO / "tests" / "chaos" / "chaosload.py"] + args, env=stack.env,
           timeout=1800)
    totals = last_totals(p.stdout)
    assert totals, "the chaos suite did not finish"
    assert totals[1] == 0, "%d chaos checks failed" % totals[1]


def test_down_leaves_no_process_and_no_port(stack):
    need_up(stack)
    pids = list(stack.pids().values()) + [stack.supervisord_pid()]
    kore = [p for a in ("app1", "app2", "app3") for p in kore_in((stack.run / a).resolve())]
    assert stack("down").returncode == 0
    left = [p for p in pids + kore if alive(p)]
    import socket
    busy = []
    for v, port in stack.ports.items():
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                busy.append("%s %d" % (v, port))
    assert not left and not busy, "left behind: pids %s, ports %s" % (left, busy)


def test_up_with_api_keys_required(stack):
    """`API_KEYS_REQUIRED=1 make up` after a `make down`: the banner names
    the mode and the admin key's file (mode 0600), whose key the database
    knows (scripts/apikey.py bootstrap); through nginx the API is a 401
    without it and answers with it; redirects and /health need none. The
    mode is what supervisord started with, and `down` forgets it."""
    need_up(stack)
    if stack.supervisord_pid():
        assert stack("down").returncode == 0
    p = stack("up", env=dict(stack.env, API_KEYS_REQUIRED="1"))
    assert p.returncode == 0, "keyed up failed"
    try:
        assert "Mode:         API keys required; the admin key is in %s" % (
            stack.run / "admin.key") in p.stdout
        key = (stack.run / "admin.key").read_text().strip()
        assert key.startswith("shk_") and len(key) == 44
        assert (stack.run / "admin.key").stat().st_mode & 0o777 == 0o600
        assert "X-Api-Key: %s" % key in p.stdout
        base = stack.url("NGINX_PORT")
        st, _, body = status(base + "/users?per_page=1")
        assert st == 401 and json.loads(body)["code"] == "unauthorized", body
        req = urllib.request.Request(base + "/users?per_page=1", headers={"X-Api-Key": key})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
            link = json.loads(r.read())
        assert link, "no user in the seeded database"
        st, _, _ = status(base + "/health")
        assert st == 200
        # The web app with keys on, in Chromium: a wrong key refused,
        # the admin key accepted (tests/browser).
        pytest_suite(stack, "browser-keyed", "tests/browser", "keys_on",
                     SHORTENER_KEYED_URL=base, SHORTENER_KEYED_API_KEY=key,
                     SCREENSHOT_DIR=str(SUITES / "screenshots"))
        # A second up without the setting keeps the running mode.
        p = stack("up")
        assert p.returncode == 0 and "Mode:         API keys required" in p.stdout
    finally:
        assert stack("down").returncode == 0
    assert not (stack.run / "keys_required").exists()
