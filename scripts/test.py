#!/usr/bin/python3
"""test.py [all|unit|fuzz|integration|stack|compose]: the project's test
command (`make test`; `.ci/run` calls `make test`).

  unit         `make unit` (Criterion, tests/unit/*.c), the same tests under
               ASan+UBSan (`make unit-asan`), and tests/tools (pytest: the
               include-layer check, the configuration renderers)
  fuzz         each fuzz target replays its committed seeds, then fuzzes
               FUZZ_TEST_SECONDS (10) (scripts/fuzz.py test)
  integration  build the app with ASan+UBSan and coverage (flavor asan;
               INTEG_FLAVOR=cov for coverage alone), start a private
               PostgreSQL and a private Redis on free loopback ports in a temp
               dir, migrate, load the generated sample (tools/seedgen, the
               shape of the hackathon's seed), start the app on a free port,
               run tests/bin/integration against it (API keys off: the open
               contract), the web app's pytest suites against it, then
               tests/security (instances of its own with API keys on, beside
               this one on the same PostgreSQL and Redis, on the same build),
               the kodev loop (tests/dev), the monitoring checks
               (tests/observability), seed-load.sh on a database of its
               own (tests/db) and the hostile HTTP corpus
               (tests/hostile) against it directly; stop the apps with SIGTERM
               (workers then write their .gcda files and run LeakSanitizer),
               count every sanitizer report in their logs as a failure, and
               check gcovr's line coverage of src/ (below COVERAGE_MIN, 85%,
               is a failure)
  stack        tests/stack (pytest): the Docker-free topology under
               supervisord on free ports, supervision, the suites a client
               meets through nginx (tests/docs, tests/public, tests/browser,
               the C contract suite, the hostile HTTP corpus), the short chaos
               suite
  compose      tests/compose (pytest): docker-compose.yml validation, then,
               where a Docker engine answers or can be started (root,
               docker.io): image builds, the topology up and healthy, the
               contract suites against a container, restart semantics, the
               short chaos suite, `down -v` leaving nothing. Where no engine
               can be started those tests are SKIPPED with the reason, never
               counted as passed
  all          all of them (default)

Every suite writes a machine-readable report (Criterion's TAP, pytest's
JUnit XML, the fuzzers' JUnit XML) into .build/test-logs/, with its log;
the totals come from those reports through scripts/test_report.py, which
also lists every skip with its reason (and, with CI=true, fails a skip that
tests/expected-skips.txt does not allow). A runner that exits non-zero
without a failed test, or leaves no report, is one failure.

Two kinds of trouble: a failed test is counted and the run goes on (the
integration stage still runs after failed unit tests); a failed step (a
build, a server that does not start) ends the run and counts as one failure
when nothing else failed. Everything started is stopped, and the temp dir
removed, on any exit, SIGINT and SIGTERM included. The last line is
"N passed, M failed, K skipped"; the exit status is 0 only when M is 0.

The integration binary gets SHORTENER_URL, DATABASE_URL, REDIS_URL,
SEED_DIR (the sample loaded) and shell commands to break things:
SHORTENER_PG_STOP / _START (that PostgreSQL), SHORTENER_PG_PAUSE / _RESUME
(SIGSTOP / SIGCONT of its postmaster and every child: a server that accepts
TCP and never answers), SHORTENER_REDIS_STOP / _START, SHORTENER_REDIS_CLI
(a redis-cli bound to it, for CLIENT PAUSE) and SHORTENER_APP_STOP / _START
(SIGTERM the app, start it again on the same port). The resilience suite
runs alone after the rest: it stops the database, the cache and the app
under everyone.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
LOGS = REPO / ".build" / "test-logs"
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
STAGES = ["unit", "fuzz", "integration", "stack", "compose"]
# One build serves the sanitizers and the coverage (docs/testing.md).
FLAVOR = os.environ.get("INTEG_FLAVOR", "asan")
OBJS = REPO / ".build" / FLAVOR / "shortener" / ".objs"
INTEG_TIMEOUT = os.environ.get("INTEG_TIMEOUT", "1800")
COVERAGE_MIN = float(os.environ.get("COVERAGE_MIN", "85"))
PYTEST = [PYTHON, "-m", "pytest", "-rs", "-p", "no:cacheprovider"]
# The two latency bounds beside a 16 MiB import are the deployed build's:
# under ASan even kore's reading of the body goes through the sanitizer's
# interceptors. They run on the cov build; the rest of tests/security on
# the stage's build, its logs checked for sanitizer reports.
LATENCY = ["tests/security/test_bulk.py::test_parsing_16_mib_holds_no_worker",
           "tests/security/test_bulk.py::"
           "test_a_16_mib_import_is_stored_beside_other_requests"]


class StepFailed(Exception):
    """A step that is not a test failed: the run ends here."""


def log(msg):
    print(f"test: {msg}", file=sys.stderr, flush=True)


def call(*cmd, **kw):
    """Runs CMD (paths and ports as they are); its exit status."""
    return subprocess.call([str(c) for c in cmd], **kw)


def step(*cmd, **kw):
    """A command that must succeed (a build, a server start)."""
    rc = call(*cmd, **kw)
    if rc != 0:
        raise StepFailed(f"{' '.join(map(str, cmd))}: exit {rc}")


def tee(cmd, logfile, **kw):
    """Runs CMD, its output both on stdout and in LOGFILE; its exit status."""
    with open(logfile, "wb") as out:
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, **kw)
        for chunk in iter(lambda: p.stdout.read1(65536), b""):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            out.write(chunk)
        return p.wait()


def free_port():
    """A loopback port nobody listens on, chosen by the kernel."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shell_env(**extra):
    """The environment for a child, with EXTRA set (PYTHONDONTWRITEBYTECODE
    always: test runs leave no __pycache__ in the checkout)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def web_deps():
    """The npm packages web/package-lock.json pins (scripts/lib.sh)."""
    step("bash", "-c", f". {shlex.quote(str(SCRIPTS / 'lib.sh'))} && web_deps")


class Totals:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def report(self, path, rc):
        """A JUnit XML or TAP report into the totals; a runner that failed
        without a failed test, or left no report, is one failure."""
        path = Path(path)
        if not path.is_file() or path.stat().st_size == 0:
            log(f"no report in {path} (exit {rc})")
            self.failed += 1
            return
        out = subprocess.run([PYTHON, str(SCRIPTS / "test_report.py"), str(path)],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        p, f, s = map(int, out.split())
        self.passed += p
        self.failed += f
        self.skipped += s
        if rc != 0 and f == 0:
            self.failed += 1

    def pytest(self, name, *args, env=None):
        """A pytest run with its JUnit XML into the totals."""
        xml = LOGS / f"{name}.xml"
        rc = tee(PYTEST + [f"--junitxml={xml}"] + list(args), LOGS / f"{name}.log",
                 cwd=REPO, env=env or shell_env())
        self.report(xml, rc)

    def line(self):
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


class Integration:
    """A private PostgreSQL, Redis and app in a temp dir, and the suites that
    run against them. stop() undoes what start() did, however far it got."""

    def __init__(self, totals):
        self.t = totals
        self.tmp = None
        self.pg = self.redis = self.app = None   # (dir, port)

    def start(self):
        step("make", "-C", REPO, "--no-print-directory", "tests/bin/integration")
        step(SCRIPTS / "build.sh", FLAVOR)
        self.tmp = Path(tempfile.mkdtemp(prefix="shortener-test."))
        os.chmod(self.tmp, 0o711)   # the postgres user must reach the cluster
        self.start_postgres()
        self.start_redis()
        self.start_app()
        self.export_break_commands()

    def start_postgres(self):
        self.pg = (self.tmp / "pg", free_port())
        step(SCRIPTS / "pg.sh", "init", *self.pg, env=shell_env(PG_FAST=1),
             stdout=subprocess.DEVNULL)
        step(SCRIPTS / "pg.sh", "start", *self.pg)
        os.environ["DATABASE_URL"] = (
            f"postgresql://postgres@127.0.0.1:{self.pg[1]}/shortener"
            "?connect_timeout=2&gssencmode=disable")
        log(f"postgresql on 127.0.0.1:{self.pg[1]} ({self.pg[0]})")
        step(SCRIPTS / "migrate.sh")
        step("make", "-C", REPO, "--no-print-directory", "-s", "seed")
        seed = self.tmp / "seed"
        step(REPO / "tools" / "seedgen", "--out", seed, stdout=subprocess.DEVNULL)
        step(SCRIPTS / "seed-load.sh", seed)
        os.environ["SEED_DIR"] = str(seed)

    # Before the app: its workers connect at start-up, and a cache that is
    # down from the first request on would turn every X-Cache into BYPASS.
    def start_redis(self):
        self.redis = (self.tmp / "redis", free_port())
        step(SCRIPTS / "redis.sh", "start", *self.redis)
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{self.redis[1]}/0"
        log(f"redis on 127.0.0.1:{self.redis[1]} ({self.redis[0]})")

    def start_app(self):
        self.app = (self.tmp / "app", free_port())
        # Stale counters from an earlier run would inflate the coverage.
        for gcda in OBJS.rglob("*.gcda") if OBJS.is_dir() else []:
            gcda.unlink()
        url = f"http://127.0.0.1:{self.app[1]}"
        # The open contract: no keys, and no per-address API budget (every
        # test shares one address); tests/security turns both on.
        # A century of clicks kept, the upkeep every 2 s: tests/integration
        # /test_retention.c drops clicks dated 1901 through it.
        os.environ.update(PUBLIC_BASE_URL=url, API_KEYS_REQUIRED="0",
                          RATE_LIMIT_PER_ADDRESS="0", SHORTENER_URL=url,
                          CLICK_RETENTION_DAYS="36500", CLICK_UPKEEP_S="2",
                          SHORTENER_APP_PIDFILE=str(self.app[0] / "app.pid"))
        step(SCRIPTS / "app.sh", "start", self.app[1], self.app[0],
             env=shell_env(FLAVOR=FLAVOR))

    def pg_signal(self, sig):
        """An sh command sending SIG to the cluster's postmaster, then to
        all its children (the postmaster first: it forks none the pkill
        would miss)."""
        pidfile = shlex.quote(str(self.pg[0] / "postmaster.pid"))
        return (f'pid="$(head -n 1 {pidfile})" && kill -{sig} "$pid" && '
                f'{{ pkill -{sig} -P "$pid" || true; }}')

    # The commands the resilience tests run through system(3). A restarted
    # app inherits this environment; each clean exit of a cov worker merges
    # its counters into the .gcda files.
    def export_break_commands(self):
        q = lambda *a: " ".join(shlex.quote(str(x)) for x in a)  # noqa: E731
        os.environ.update(
            SHORTENER_PG_STOP=q(SCRIPTS / "pg.sh", "stop", *self.pg),
            SHORTENER_PG_START=q(SCRIPTS / "pg.sh", "start", *self.pg),
            SHORTENER_PG_PAUSE=self.pg_signal("STOP"),
            SHORTENER_PG_RESUME=self.pg_signal("CONT"),
            SHORTENER_REDIS_STOP=q(SCRIPTS / "redis.sh", "stop", *self.redis),
            SHORTENER_REDIS_START=q(SCRIPTS / "redis.sh", "start", *self.redis),
            SHORTENER_REDIS_CLI=q("redis-cli", "-h", "127.0.0.1", "-p", self.redis[1]),
            SHORTENER_APP_STOP=q(SCRIPTS / "app.sh", "stop", self.app[0]),
            SHORTENER_APP_START=f"FLAVOR={shlex.quote(FLAVOR)} "
                                + q(SCRIPTS / "app.sh", "start", self.app[1], self.app[0]))

    def run_suites(self):
        self.integration_binary()
        self.public_on_instance()
        self.security()
        self.t.pytest("dev", "-q", "-rsP", "tests/dev")   # the kodev loop
        self.t.pytest("observability", "tests/observability")
        self.t.pytest("db", "tests/db")   # seed-load.sh on a database of its own
        self.hostile()
        # SIGTERM now: coverage needs the .gcda files, LeakSanitizer runs at exit.
        self.stop_app()
        self.sanitizer_reports(self.app[0] / "app.log")
        for f in sorted((LOGS / "security").glob("*.log")):
            self.sanitizer_reports(f)
        self.coverage()

    # Everything but the resilience suite in parallel, then the resilience
    # suite alone.
    def integration_binary(self):
        log(f"integration: tests/bin/integration against {os.environ['SHORTENER_URL']}")
        for name, jobs, flt in (("parallel", os.environ.get("CRITERION_JOBS", "2"),
                                 "!(resilience/*)"), ("resilience", "1", "resilience/*")):
            tap = LOGS / f"integration-{name}.tap"
            rc = tee(["timeout", "-k", "10", INTEG_TIMEOUT, "tests/bin/integration",
                      "--filter", flt, f"--tap={tap}"], LOGS / f"integration-{name}.log",
                     cwd=REPO, env=shell_env(CRITERION_JOBS=jobs))
            self.t.report(tap, rc)

    # The pytest suites of the web app's features against this instance too,
    # so that its coverage counts them; the stack stage runs them again
    # through nginx on three instances.
    def public_on_instance(self):
        web_deps()
        url = os.environ["SHORTENER_URL"]
        self.t.pytest("public-instance", "-q",
                      *(f"tests/public/test_{n}.py" for n in
                        ("lifecycle", "qr", "analytics", "openapi")),
                      env=shell_env(PUBLIC_URL=url, APP_URLS=f"{url},{url},{url}",
                                    RUN_DIR=self.app[0]))

    # Keys, scopes, rate limits, hostile links, response headers, the bulk
    # import beside other requests, TLS in front: instances of its own.
    def security(self):
        deselect = [a for t in LATENCY for a in ("--deselect", t)] if FLAVOR != "cov" else []
        self.t.pytest("security", "-q", *deselect, "tests/security",
                      env=shell_env(SECURITY_LOG_DIR=LOGS / "security",
                                    SECURITY_FLAVOR=FLAVOR))
        if FLAVOR == "cov":
            return
        step(SCRIPTS / "build.sh", "cov")
        self.t.pytest("security-latency", "-q", *LATENCY,
                      env=shell_env(SECURITY_FLAVOR="cov"))

    # The hostile corpus against this instance, directly: every worker must
    # survive every case, the database must not change. Its answers on this
    # port are Kore's where Kore answers first (docs/testing.md).
    # HOSTILE_ARGS adds pytest arguments (e.g. -k).
    def hostile(self):
        self.t.pytest("hostile-direct", "-q", "-rfEs", "--tb=short",
                      *shlex.split(os.environ.get("HOSTILE_ARGS", "")), "tests/hostile",
                      env=shell_env(HOSTILE_URL=os.environ["SHORTENER_URL"],
                                    HOSTILE_VIA="direct",
                                    HOSTILE_PIDFILES=self.app[0] / "app.pid"))

    # Every ASan or UBSan report, and every leak with a frame in the module,
    # that an app wrote is one failure (tests/sanitize/reports.py): what no
    # test noticed, such as a leak found at exit.
    def sanitizer_reports(self, logfile):
        if FLAVOR != "asan":
            return
        out = subprocess.run([PYTHON, str(REPO / "tests" / "sanitize" / "reports.py"),
                              str(logfile)], stdout=subprocess.PIPE, text=True).stdout
        print("\n".join(out.splitlines()[-60:]), file=sys.stderr)
        m = re.search(r"^sanitizers: (\d+) reports", out, re.M)
        self.t.failed += int(m.group(1)) if m else 1

    # Sources were compiled as src/... inside kodev's link farm; gcovr follows
    # the links back to the repo, where --filter applies. Its search path is
    # this flavor's objects only. A gcovr that fails is one failure.
    def coverage(self):
        if not any(OBJS.glob("*.gcda")):
            log("coverage: no .gcda files: the workers did not exit cleanly")
            self.t.failed += 1
            return
        with open(LOGS / "gcovr.log", "w") as out:
            rc = call("gcovr", "--root", ".", "--object-directory", OBJS, "--filter", "src/",
                      "--print-summary", "--output", LOGS / "coverage.txt", OBJS, cwd=REPO,
                      stdout=out, stderr=subprocess.STDOUT)
        text = (LOGS / "gcovr.log").read_text(errors="replace")
        if rc != 0:
            print("\n".join(text.splitlines()[-5:]), file=sys.stderr)
            log(f"coverage: gcovr failed ({LOGS / 'gcovr.log'})")
            self.t.failed += 1
            return
        summary = [f"coverage: {ln}" for ln in text.splitlines()
                   if re.match(r"(lines|functions|branches):", ln)]
        (LOGS / "coverage-summary.txt").write_text("\n".join(summary) + "\n")
        print("\n".join(summary), flush=True)
        log(f"coverage report: {LOGS / 'coverage.txt'}")
        m = re.search(r"^lines: ([0-9.]+)%", text, re.M)
        if not m or float(m.group(1)) < COVERAGE_MIN:
            log(f"coverage: lines {m.group(1) if m else '?'}% is below the "
                f"{COVERAGE_MIN:g}% floor")
            self.t.failed += 1

    def stop_app(self):
        if self.app:
            call(SCRIPTS / "app.sh", "stop", self.app[0])

    def stop(self):
        """Stops what runs, keeps the logs, removes the temp dir; each part
        is tried whatever happened to the one before."""
        for part in (self.stop_app, self.stop_postgres, self.stop_redis, self.keep_logs):
            try:
                part()
            except Exception as e:  # noqa: BLE001 -- the rest must still run
                log(f"stopping: {part.__name__}: {e}")
                self.t.failed += 1

    def stop_postgres(self):
        if self.pg:
            # A paused PostgreSQL would not stop; SIGCONT is harmless otherwise.
            call("sh", "-c", self.pg_signal("CONT"), stderr=subprocess.DEVNULL)
            call(SCRIPTS / "pg.sh", "stop", *self.pg, stderr=subprocess.DEVNULL)

    def stop_redis(self):
        if self.redis:
            call(SCRIPTS / "redis.sh", "stop", *self.redis)

    def keep_logs(self):
        if not self.tmp:
            return
        LOGS.mkdir(parents=True, exist_ok=True)
        for where, name, kept in ((self.app, "app.log", "app.log"),
                                  (self.pg, "server.log", "postgresql.log"),
                                  (self.redis, "redis.log", "redis.log")):
            if where and (where[0] / name).is_file():
                shutil.copy(where[0] / name, LOGS / kept)
        shutil.rmtree(self.tmp, ignore_errors=True)


def has_sources(folder):
    return any((REPO / folder).glob("*.c"))


def run_unit(t):
    if not has_sources("tests/unit"):
        log("unit: no tests/unit/*.c yet, skipped")
        return
    for target in ("unit", "unit-asan"):
        log(f"unit: make {target}")
        tap = LOGS / f"{target}.tap"
        rc = tee(["make", "-C", REPO, "--no-print-directory", target,
                  f"UNIT_ARGS=--tap={tap}"], LOGS / f"{target}.log")
        t.report(tap, rc)
    t.pytest("tools", "tests/tools")   # the include-layer check, the renderers


def run_fuzz(t):
    xml = LOGS / "fuzz.xml"
    rc = tee([PYTHON, SCRIPTS / "fuzz.py", "test", os.environ.get("FUZZ_TEST_SECONDS", "10"),
              f"--junitxml={xml}"], LOGS / "fuzz.log")
    t.report(xml, rc)


def run_integration(t):
    if not has_sources("tests/integration"):
        log("integration: no tests/integration/*.c yet, skipped")
        return
    integ = Integration(t)
    try:
        integ.start()
        integ.run_suites()
    finally:
        integ.stop()


# The whole Docker-free topology and the suites it ran through nginx, test
# by test (a failure there has already failed the test that ran the suite).
def run_stack(t):
    web_deps()
    t.pytest("stack", "tests/stack")
    for r in sorted((LOGS / "stack-suites").glob("*")):
        if r.suffix in (".xml", ".tap"):
            t.report(r, 0)


def run_compose(t):
    t.pytest("compose", "tests/compose")


RUNNERS = {"unit": run_unit, "fuzz": run_fuzz, "integration": run_integration,
           "stack": run_stack, "compose": run_compose}


def interrupted(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    what = argv[1] if len(argv) > 1 else "all"
    if what not in RUNNERS and what != "all":
        sys.exit(f"usage: {argv[0]} [all|{'|'.join(STAGES)}]")
    signal.signal(signal.SIGTERM, interrupted)
    t = Totals()
    rc = 0
    try:
        # Logs of an earlier run must not pass for this one's.
        shutil.rmtree(LOGS, ignore_errors=True)
        LOGS.mkdir(parents=True)
        step(SCRIPTS / "deps.sh")
        for name in STAGES if what == "all" else [what]:
            t0 = time.monotonic()
            RUNNERS[name](t)
            log(f"stage {name}: {time.monotonic() - t0:.0f} s")
    except StepFailed as e:
        log(f"a step failed: {e}")
        rc = 1
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    if rc and t.failed == 0:
        log("counted as one failure")
        t.failed = 1
    print(t.line(), flush=True)
    return rc or (1 if t.failed else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
