"""
bench_redirect.py: the redirect benchmark (`make bench`).

Builds the app (flavor prod), the trivial Kore module that answers every
request with a fixed 302 (tests/bench/trivial302, the same Kore tuning as
conf/shortener.conf) and, when BENCH_BASELINE names a commit, the app of
that commit; starts a private PostgreSQL (seeded with BENCH_URLS generated
URLs), a private Redis, two app instances (LOG_LEVEL=warn and
LOG_LEVEL=info, the latter logging a JSON line per request to a file), the
baseline app and the trivial module, all on free loopback ports, and
drives them with wrk:

  1. HIT      one hot cached code, on the trivial module, the app (GET),
              the app (HEAD: the same redirect without a click) and the
              app logging every request (LOG_LEVEL=info), in turn,
              BENCH_ROUNDS times: requests/s, p50, p99
  2. STEADY   the trivial module, the app's GET and HEAD at steady offered
              loads of BENCH_RATES requests/s over the same connections,
              in turn: p50, p99 (at saturation, latency is a queue:
              docs/performance.md)
  3. MISS     distinct existing codes (tests/bench/miss.lua) after
              emptying Redis before each turn: the app's GET, its HEAD
              (the lookup without the click) and the baseline's GET, in
              turn, BENCH_ROUNDS times
  4. NGINX    the repository's nginx.conf (scripts/nginx_conf.py, its
              rate limits lifted: one address sends everything) in front
              of the trivial module and in front of the app (HIT, GET), in
              turn, BENCH_ROUNDS times: the full path against nginx with
              the cheapest upstream Kore can be
  5. INSTR    instructions per request, counted by valgrind's callgrind
              (no hardware counters here for perf): the app (flavor
              callgrind: prod plus the sandbox rules valgrind needs) and
              the trivial module, each with one worker under valgrind,
              BENCH_INSTR_REQUESTS requests of HIT GET, HIT HEAD, MISS and
              HIT GET with a browser's User-Agent (the app) and GET (the
              trivial module) between a zeroing and
              a dump of the worker's counters (scripts/callgrind.py);
              the dumps stay in .build/bench/callgrind/
  +  clicks   the click writer's batches during each app run: exact, from
              the database (the rows of one insert share its transaction
              id, xmin), and from GET /metrics

wrk, the servers, Redis and PostgreSQL share this machine's cores: each
run also prints the CPU time per request of every party (from /proc,
children that exited included; wrk's from the kernel's accounting of this
process' children) and how busy the machine was with anything else.
Derived figures: PostgreSQL CPU per click (HIT GET minus HEAD, the same
instance, the same rounds), PostgreSQL CPU per MISS (GET and HEAD), the
cost of request logging. Targets are printed PASS/FAIL, not failed: the
exit status is non-zero only when the benchmark could not run or measured
something else than redirects (error responses).

Environment: BENCH_SECONDS (15) of measurement per server and path, split
into BENCH_ROUNDS (6) turns; BENCH_WARMUP (2) seconds of load on each
server before; BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_URLS
(250000) URLs in the seed; BENCH_RATES ("4000 8000") requests/s offered in
phase 2 by one wrk thread; BENCH_BASELINE (e748b39, the build before issue
16; "none" skips it) the commit whose MISS the app's is compared with;
BENCH_INSTR_REQUESTS (2000) requests per path in phase 5; BENCH_PHASES
("hit steady miss nginx instr") the phases to run, e.g. "instr" alone
(targets are evaluated only when the first four all ran); BENCH_INFO_LEVEL
(info) the log level of the second instance: "warn" makes the logging
comparison an A/A run, the instances' own difference.
Everything started is stopped and the temp dir removed on any exit; logs,
wrk reports and /metrics scrapes of the last run stay in .build/bench/logs/.
"""

import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import callgrind  # scripts/, beside this file
import nginx_conf  # scripts/, beside this file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "scripts")
BENCH = os.path.join(REPO, "tests", "bench")
BUILD = os.path.join(REPO, ".build", "bench")
FARM = os.path.join(BUILD, "trivial302")
FARM_CG = os.path.join(BUILD, "callgrind", "trivial302")
DUMPS = os.path.join(BUILD, "callgrind")
PHASES = ("hit", "steady", "miss", "nginx", "instr")
# A browser's User-Agent, for the HIT GET that phase 5 also counts with one
# (wrk's and the other runs' are "bench-NAME").
BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
LOGS = os.path.join(BUILD, "logs")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()

TARGET_RATIO = 0.75		# HIT GET app / trivial module (issue 16; was 0.5)
TARGET_P99_MS = 2.0		# HIT GET at the steady loads
TARGET_LOG_COST = 0.05		# throughput lost to LOG_LEVEL=info
TARGET_MISS_PG_US = 40.0	# PostgreSQL CPU per MISS (GET, with click)
TARGET_MISS_X = 4.0		# MISS req/s against the baseline's
TARGET_CLICK_PG_US = 2.0	# PostgreSQL CPU per click
TARGET_GET_HEAD = 0.8		# HIT GET / HEAD throughput
TARGET_NGINX = 0.8		# nginx -> app / nginx -> trivial throughput


class Failed(Exception):
    pass


def die(msg):
    raise Failed(msg)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def positive(name, default, zero_ok=False):
    v = os.environ.get(name, default)
    if not re.fullmatch(r"[0-9]+", v) or (int(v) == 0 and not zero_ok):
        die(f"{name} must be a {'non-negative' if zero_ok else 'positive'} "
            "integer")
    return int(v)


def settings():
    rates = os.environ.get("BENCH_RATES", "4000 8000")
    if not re.fullmatch(r"[1-9][0-9]*( [1-9][0-9]*)*", rates):
        die("BENCH_RATES must be positive integers separated by single "
            "spaces")
    phases = os.environ.get("BENCH_PHASES", " ".join(PHASES)).split()
    if not phases or any(p not in PHASES for p in phases):
        die(f"BENCH_PHASES must name some of: {' '.join(PHASES)}")
    return {
        "phases": phases,
        "instr_requests": positive("BENCH_INSTR_REQUESTS", "2000"),
        "seconds": positive("BENCH_SECONDS", "15"),
        "rounds": positive("BENCH_ROUNDS", "6"),
        "warmup": positive("BENCH_WARMUP", "2", zero_ok=True),
        "connections": positive("BENCH_CONNECTIONS", "64"),
        "threads": positive("BENCH_THREADS", "2"),
        "urls": positive("BENCH_URLS", "250000"),
        "rates": [int(r) for r in rates.split()],
        "baseline": os.environ.get("BENCH_BASELINE", "e748b39"),
        "info_level": info_level(),
    }


def info_level():
    v = os.environ.get("BENCH_INFO_LEVEL", "info")
    if v not in ("debug", "info", "warn", "error"):
        die("BENCH_INFO_LEVEL must be one of debug, info, warn, error")
    return v


def run(cmd, env=None, cwd=None, out=None):
    """Runs cmd; its output goes to out (a path) or is returned."""
    full = {**os.environ, **(env or {})}
    if out is None:
        p = subprocess.run(cmd, env=full, cwd=cwd, capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stdout + p.stderr)
            die(f"{' '.join(cmd)} failed ({p.returncode})")
        return p.stdout
    with open(out, "w") as f:
        p = subprocess.run(cmd, env=full, cwd=cwd, stdout=f,
                           stderr=subprocess.STDOUT)
    if p.returncode != 0:
        with open(out) as f:
            sys.stderr.write(f.read()[-4000:])
        die(f"{' '.join(cmd)} failed ({p.returncode}), log {out}")
    return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- CPU accounting ---------------------------------------------------------

def stat_ticks(pid, reaped=True):
    """utime + stime of pid, and of its children it has reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return 0
    t = int(v[11]) + int(v[12])
    if reaped:
        t += int(v[13]) + int(v[14])
    return t


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                if int(f.read().rsplit(") ", 1)[1].split()[1]) == ppid:
                    out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def tree_ticks(pid):
    """A server's CPU: itself, its workers or backends, those that exited."""
    if not pid:
        return 0
    return stat_ticks(pid) + sum(stat_ticks(c, False) for c in children(pid))


def busy_ticks():
    with open("/proc/stat") as f:
        v = f.readline().split()
    return sum(int(v[i]) for i in (1, 2, 3, 6, 7, 8))


def wrk_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# ---- one named run, summed over its rounds ----------------------------------

class Run:
    def __init__(self, name):
        self.name = name
        self.requests = self.duration_us = self.wall_us = 0
        self.srv = self.rds = self.pg = self.busy = 0	# ticks
        self.wrk = 0.0					# seconds
        self.errors = dict.fromkeys(
            ("connect", "read", "write", "timeout", "status"), 0)
        self.p50 = []
        self.p99 = []
        self.round_rps = []	# requests/s of each round, in order

    @property
    def rps(self):
        return self.requests / (self.duration_us / 1e6)

    def per_req_us(self, ticks):
        return ticks / CLK_TCK / self.requests * 1e6

    @property
    def pg_us(self):
        return self.per_req_us(self.pg)

    @property
    def srv_us(self):
        return self.per_req_us(self.srv)

    @property
    def cpu_us(self):
        """All parties: server, wrk, Redis, PostgreSQL."""
        return ((self.srv + self.rds + self.pg) / CLK_TCK + self.wrk) / \
            self.requests * 1e6

    @property
    def p50_ms(self):
        return statistics.median(self.p50) / 1000

    @property
    def p99_ms(self):
        return statistics.median(self.p99) / 1000


# ---- the benchmark ----------------------------------------------------------

class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.tmp = None
        self.pg_dir = self.redis_dir = None
        self.pg_port = self.redis_port = None
        self.servers = {}	# name: {"port", "dir", "scripts"}
        self.runs = {}
        self.invalid = False
        self.hot = None
        self.env = {}

    # -- builds --

    def build(self):
        log("building the app (prod) and the trivial module")
        run([os.path.join(SCRIPTS, "build.sh"), "prod"],
            out=os.path.join(BUILD, "app-build.log"))
        self.build_trivial(FARM, "prod", "../../../tests/bench/trivial302")
        if "instr" in self.cfg["phases"]:
            log("building both again in the callgrind flavor")
            run([os.path.join(SCRIPTS, "build.sh"), "callgrind"],
                out=os.path.join(BUILD, "app-callgrind-build.log"))
            self.build_trivial(FARM_CG, "callgrind",
                               "../../../../tests/bench/trivial302")
        if self.cfg["baseline"] != "none" and "miss" in self.cfg["phases"]:
            self.build_baseline()

    @staticmethod
    def build_trivial(farm, flavor, src):
        os.makedirs(farm, exist_ok=True)
        for d in ("conf", "src"):
            link = os.path.join(farm, d)
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(f"{src}/{d}", link)
        run(["kodev", "clean"], cwd=farm)
        run(["kodev", "build"], cwd=farm, env={"KORE_BUILD_FLAVOR": flavor},
            out=os.path.join(BUILD, f"trivial-{flavor}-build.log"))
        if not os.path.exists(os.path.join(farm, "trivial302.so")):
            die(f"kodev produced no trivial302.so ({flavor})")

    def build_baseline(self):
        """The baseline commit's tree, exported and built once per commit."""
        rev = run(["git", "-C", REPO, "rev-parse", "--short",
                   self.cfg["baseline"] + "^{commit}"]).strip()
        self.base_tree = os.path.join(BUILD, f"baseline-{rev}")
        so = os.path.join(self.base_tree, ".build", "prod", "shortener",
                          "shortener.so")
        if os.path.exists(so):
            log(f"baseline {rev}: built already")
            return
        log(f"building the baseline {rev}")
        shutil.rmtree(self.base_tree, ignore_errors=True)
        os.makedirs(self.base_tree)
        archive = subprocess.Popen(["git", "-C", REPO, "archive", rev],
                                   stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", self.base_tree],
                       stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            die(f"git archive {rev} failed")
        run([os.path.join(self.base_tree, "scripts", "build.sh"), "prod"],
            out=os.path.join(BUILD, "baseline-build.log"))

    def check_same_tuning(self):
        def tuning(path):
            lines = []
            with open(path) as f:
                for line in f:
                    line = " ".join(line.split("#", 1)[0].split())
                    if line and not line.startswith(("bind ", "load ")):
                        lines.append(line)
            return lines
        a = tuning(os.path.join(REPO, "conf", "shortener.conf"))
        b = tuning(os.path.join(BENCH, "trivial302", "conf",
                                "trivial302.conf"))
        if a != b:
            die("tests/bench/trivial302/conf/trivial302.conf has drifted "
                "from conf/shortener.conf: copy the change, or the "
                "comparison is unfair")

    # -- services --

    def sql(self, q):
        q = " ".join(q.split())
        return run(["psql", self.env["DATABASE_URL"], "-X", "-q", "-t", "-A",
                    "-v", "ON_ERROR_STOP=1", "-c", q]).strip()

    def start_postgres(self):
        self.pg_port = str(free_port())
        self.pg_dir = os.path.join(self.tmp, "pg")
        pg = os.path.join(SCRIPTS, "pg.sh")
        run([pg, "init", self.pg_dir, self.pg_port])
        run([pg, "start", self.pg_dir, self.pg_port])
        self.env["DATABASE_URL"] = run([pg, "url", self.pg_dir,
                                        self.pg_port]).strip()
        os.environ.update(self.env)
        run([os.path.join(SCRIPTS, "migrate.sh")])
        urls = self.cfg["urls"]
        seed = os.path.join(BUILD, f"seed-{urls}")
        if not os.path.exists(os.path.join(seed, ".done")):
            run(["make", "-C", REPO, "--no-print-directory", "-s", "seed"])
            shutil.rmtree(seed, ignore_errors=True)
            run([os.path.join(REPO, "tools", "seedgen"), "--users",
                 str(urls // 5 + 1), "--urls", str(urls), "--out", seed])
            open(os.path.join(seed, ".done"), "w").close()
        run([os.path.join(SCRIPTS, "seed-load.sh"), seed])
        log(f"postgresql on 127.0.0.1:{self.pg_port}: "
            f"{self.sql('SELECT count(*) FROM urls')} URLs, "
            f"{self.sql('SELECT count(*) FROM events')} events")

    def start_redis(self):
        self.redis_port = str(free_port())
        self.redis_dir = os.path.join(self.tmp, "redis")
        run([os.path.join(SCRIPTS, "redis.sh"), "start", self.redis_dir,
             self.redis_port])
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        os.environ.update(self.env)
        log(f"redis on 127.0.0.1:{self.redis_port}")

    def redis(self, *args):
        return run(["redis-cli", "-h", "127.0.0.1", "-p", self.redis_port,
                    *args]).strip()

    def start_app(self, name, level, scripts=SCRIPTS):
        port, d = str(free_port()), os.path.join(self.tmp, name)
        os.makedirs(d)
        self.servers[name] = {"port": port, "dir": d, "scripts": scripts}
        self.launch_app(self.servers[name], level)

    @staticmethod
    def launch_app(s, level):
        run([os.path.join(s["scripts"], "app.sh"), "start", s["port"],
             s["dir"]], env={"LOG_LEVEL": level, "FLAVOR": "prod"})

    def swap_levels(self):
        """Restarts the two app instances, each at the other's log level,
        on the same port and directory; "app-warn" names the instance at
        warn from then on. Phase 1 runs each level half of its rounds on
        either instance: what sets two instances of one build apart (an
        A/A run, BENCH_INFO_LEVEL=warn, measured 3-4% either way from run
        to run) falls on both levels alike."""
        a, b = self.servers["app-warn"], self.servers["app-info"]
        for s in (a, b):
            run([os.path.join(s["scripts"], "app.sh"), "stop", s["dir"]])
        self.launch_app(a, self.cfg["info_level"])
        self.launch_app(b, "warn")
        self.servers["app-warn"], self.servers["app-info"] = b, a
        self.warm_hot("app-warn")
        self.warm_hot("app-info")

    @staticmethod
    def trivial_conf(port, d, farm, workers=None):
        """The trivial module's configuration in D, bound to PORT."""
        conf = []
        bound = False
        with open(os.path.join(BENCH, "trivial302", "conf",
                               "trivial302.conf")) as f:
            for line in f:
                w = line.split()
                if w and w[0] == "bind" and not bound:
                    line = f"bind\t\t127.0.0.1 {port}\n"
                    bound = True
                elif w and w[0] == "load":
                    line = re.sub(r"\S*trivial302\.so",
                                  os.path.join(farm, "trivial302.so"), line)
                elif w and w[0] == "workers" and workers:
                    line = f"workers\t\t\t{workers}\n"
                conf.append(line)
        path = os.path.join(d, "trivial302.conf")
        with open(path, "w") as f:
            f.writelines(conf)
        return path

    def start_trivial(self):
        port, d = str(free_port()), os.path.join(self.tmp, "trivial")
        os.makedirs(d)
        self.servers["trivial"] = {"port": port, "dir": d, "scripts": None}
        self.trivial_conf(port, d, FARM)
        logf = open(os.path.join(d, "kore.log"), "a")
        p = subprocess.Popen(["kore", "-f", "-n", "-r", "-c",
                              os.path.join(d, "trivial302.conf")], cwd=d,
                             stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT)
        self.servers["trivial"]["proc"] = p
        for _ in range(100):
            if self.status_of("trivial", "/x") == 302:
                break
            if p.poll() is not None:
                break
            time.sleep(0.1)
        else:
            die("the trivial module does not answer 302")
        if p.poll() is not None:
            die("the trivial module exited")
        log(f"trivial module on 127.0.0.1:{port}")

    def start_nginx(self, name, upstream):
        """nginx.conf rendered as the Docker-free stack renders it, its
        three upstream servers all UPSTREAM, its read limits lifted."""
        port, d = free_port(), os.path.join(self.tmp, name)
        os.makedirs(os.path.join(d, "tmp"))
        up = int(self.servers[upstream]["port"])
        rules = nginx_conf.local_rules(d, {"listen": port, "app1": up, "app2": up, "app3": up})
        env = dict(os.environ, NGINX_READ_RATE="100000000", NGINX_READ_BURST="100000000",
                   NGINX_CONN_PER_ADDR="60000")
        with open(os.path.join(REPO, "nginx.conf")) as f:
            text = nginx_conf.render(f.read(), env, None, rules)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(text)
        logf = open(os.path.join(d, "nginx.log"), "a")
        p = subprocess.Popen(["nginx", "-p", d + "/", "-c", conf, "-e",
                              os.path.join(d, "error.log"), "-g", "daemon off;"],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        self.servers[name] = {"port": str(port), "dir": d, "scripts": None, "proc": p}
        for _ in range(100):
            if self.status_of(name, f"/{self.hot}") == 302:
                break
            if p.poll() is not None:
                die(f"nginx ({name}) exited: see {d}/error.log")
            time.sleep(0.1)
        else:
            die(f"nginx ({name}) does not answer 302")
        log(f"nginx in front of {upstream} on 127.0.0.1:{port}")

    def server_pid(self, name):
        s = self.servers[name]
        if "proc" in s:
            return s["proc"].pid
        with open(os.path.join(s["dir"], "app.pid")) as f:
            return int(f.read())

    def pg_pid(self):
        with open(os.path.join(self.pg_dir, "postmaster.pid")) as f:
            return int(f.readline())

    def redis_pid(self):
        with open(os.path.join(self.redis_dir, "redis.pid")) as f:
            return int(f.read())

    def stop_all(self):
        for name, s in self.servers.items():
            try:
                if "proc" in s:
                    s["proc"].terminate()
                    try:
                        s["proc"].wait(10)
                    except subprocess.TimeoutExpired:
                        s["proc"].kill()
                else:
                    subprocess.run([os.path.join(s["scripts"], "app.sh"),
                                    "stop", s["dir"]], capture_output=True)
            except OSError:
                pass
        if self.redis_dir:
            subprocess.run([os.path.join(SCRIPTS, "redis.sh"), "stop",
                            self.redis_dir, self.redis_port],
                           capture_output=True)
        if self.pg_dir:
            subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "stop",
                            self.pg_dir, self.pg_port], capture_output=True)

    def keep_logs(self):
        if not self.tmp:
            return
        shutil.rmtree(LOGS, ignore_errors=True)
        os.makedirs(LOGS)
        for f in os.listdir(self.tmp):
            if f.startswith(("wrk-", "metrics-")):
                shutil.copy(os.path.join(self.tmp, f), LOGS)
        for name, s in self.servers.items():
            for f in os.listdir(s["dir"]):
                if f.endswith(".log"):
                    shutil.copy(os.path.join(s["dir"], f),
                                os.path.join(LOGS, f"{name}.log"))
        for src, dst in (((self.pg_dir, "server.log"), "postgresql.log"),
                         ((self.redis_dir, "redis.log"), "redis.log")):
            if src[0] and os.path.exists(os.path.join(*src)):
                shutil.copy(os.path.join(*src), os.path.join(LOGS, dst))
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- requests --

    def url(self, name, path=""):
        return f"http://127.0.0.1:{self.servers[name]['port']}{path}"

    def status_of(self, name, path, header=None):
        p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-D", "-", "-m",
                            "2", self.url(name, path)], capture_output=True,
                           text=True)
        status = None
        for line in p.stdout.splitlines():
            if line.startswith("HTTP/"):
                status = int(line.split()[1])
            elif header and line.lower().startswith(header + ":"):
                return line.split(":", 1)[1].strip()
        return None if header else status

    def warm_hot(self, name):
        for _ in range(50):
            if self.status_of(name, f"/{self.hot}", "x-cache") == "HIT":
                return
            time.sleep(0.05)
        die(f"{name}: /{self.hot} never became X-Cache: HIT")

    def wrk(self, label, server, secs, out, method="GET", lua=None,
            args=(), threads=None, delay=None):
        lua = lua or os.path.join(BENCH, "report.lua")
        url = self.url(server) if args else self.url(server, f"/{self.hot}")
        cmd = ["wrk", "-t", str(threads or self.cfg["threads"]), "-c",
               str(self.cfg["connections"]), "-d", f"{secs}s", "--latency",
               "-H", f"User-Agent: bench-{label}", "-s", lua, url]
        if args:
            cmd += ["--", *args]
        env = {"BENCH_METHOD": method}
        if delay:
            env["BENCH_DELAY_MS"] = str(delay)
        p = subprocess.run(cmd, env={**os.environ, **env},
                           capture_output=True, text=True)
        with open(out, "w") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode != 0:
            sys.stderr.write(p.stdout + p.stderr)
            die(f"wrk failed ({label} against {server})")
        return p.stdout

    def warm(self, label, server, method="GET"):
        if self.cfg["warmup"] > 0:
            self.wrk(label, server, self.cfg["warmup"],
                     os.path.join(self.tmp, "warmup.txt"), method)

    def measure(self, name, server, secs, method="GET", behind=None, **kw):
        """BEHIND: the server behind SERVER (nginx's upstream), whose CPU
        counts as the server's too."""
        r = self.runs.setdefault(name, Run(name))
        out = os.path.join(self.tmp, f"wrk-{name}.round")
        pids = [self.server_pid(server)] + ([self.server_pid(behind)] if behind else [])

        def srv():
            return sum(tree_ticks(p) for p in pids)
        b = (srv(), tree_ticks(self.redis_pid()),
             tree_ticks(self.pg_pid()), busy_ticks(), wrk_seconds())
        t0 = time.monotonic()
        text = self.wrk(name, server, secs, out, method, **kw)
        wall = time.monotonic() - t0
        a = (srv(), tree_ticks(self.redis_pid()),
             tree_ticks(self.pg_pid()), busy_ticks(), wrk_seconds())
        with open(out) as f, open(os.path.join(self.tmp, f"wrk-{name}.txt"),
                                  "a") as g:
            g.write(f.read())
        os.remove(out)
        m = re.search(r"^bench-result (.*)$", text, re.M)
        if not m:
            sys.stderr.write(text)
            die(f"no result from wrk ({name})")
        res = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}
        r.requests += res["requests"]
        r.duration_us += res["duration_us"]
        r.wall_us += int(wall * 1e6)
        r.p50.append(res["p50_us"])
        r.p99.append(res["p99_us"])
        r.round_rps.append(res["requests"] / (res["duration_us"] / 1e6))
        for k in r.errors:
            r.errors[k] += res[k]
        r.srv += a[0] - b[0]
        r.rds += a[1] - b[1]
        r.pg += a[2] - b[2]
        r.busy += a[3] - b[3]
        r.wrk += a[4] - b[4]
        if res["status"] > 0 or "Non-2xx or 3xx responses" in text:
            log(f"error: {name}: {server} answered errors, not redirects")
            self.invalid = True
        print(f"    {name:<13} {res['requests'] / (res['duration_us'] / 1e6):8.0f}"
              f" req/s  p50 {res['p50_us'] / 1000:6.2f} ms  p99 "
              f"{res['p99_us'] / 1000:6.2f} ms", flush=True)

    def finish(self, name):
        r = self.runs[name]
        p99s = " ".join(f"{v / 1000:.2f}" for v in r.p99)
        print(f"  {name:<13} {r.rps:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
              f"p99 {r.p99_ms:6.2f} ms  ({r.requests} requests; p99 of each "
              f"round: {p99s} ms)")
        e = r.errors
        print(f"  {'':<13} errors: connect {e['connect']}, read {e['read']},"
              f" write {e['write']}, timeout {e['timeout']}, status >= 400 "
              f"{e['status']}")
        s = r.wall_us / 1e6
        srv, rds, pg = (t / CLK_TCK for t in (r.srv, r.rds, r.pg))
        other = max(0.0, r.busy / CLK_TCK - srv - rds - pg - r.wrk)
        n = r.requests
        print(f"  {'':<13} CPU per request: server {srv / n * 1e6:.1f} us, "
              f"wrk {r.wrk / n * 1e6:.1f} us, redis {rds / n * 1e6:.1f} us, "
              f"postgres {pg / n * 1e6:.1f} us")
        print(f"  {'':<13} CPU use: server {100 * srv / s:.0f}%, wrk "
              f"{100 * r.wrk / s:.0f}%, redis {100 * rds / s:.0f}%, postgres "
              f"{100 * pg / s:.0f}%, other processes {100 * other / s:.0f}% "
              f"(of {100 * NCPU}%)", flush=True)

    # -- the click writer --

    def max_event_id(self):
        return int(self.sql("SELECT greatest((SELECT max(id) FROM events), "
                            "(SELECT max(base + n - 1) FROM click_packs), 0)"))

    def drain(self):
        """Waits until the click count stops moving; seconds it took."""
        last, start = -1, time.monotonic()
        for _ in range(120):
            now = self.sql("SELECT (SELECT count(*) FROM events WHERE "
                           "event_type = 'click') + (SELECT coalesce("
                           "sum(live), 0) FROM click_packs)")
            if now == last:
                break
            last = now
            time.sleep(0.5)
        return round(time.monotonic() - start)

    def batches(self, since, name):
        return self.sql(f"""
            SELECT format('%s clicks in %s inserts; clicks per insert: mean %s,
                p50 %s, p90 %s, p99 %s, max %s',
                coalesce(sum(n), 0), count(*), coalesce(round(avg(n), 1), 0),
                coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0),
                coalesce(percentile_disc(0.9) WITHIN GROUP (ORDER BY n), 0),
                coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY n), 0),
                coalesce(max(n), 0))
            FROM (SELECT xmin::text::bigint AS tx, sum(n) AS n
                FROM click_packs
                WHERE base > {int(since)}
                    AND clicks LIKE '[[0,"bench-{name}",%'
                GROUP BY 1) b""")

    def scrape(self, server):
        p = subprocess.run(["curl", "-s", "-m", "5", "-w", "\n%{http_code}",
                            self.url(server, "/metrics")],
                           capture_output=True, text=True)
        body, _, code = p.stdout.rpartition("\n")
        path = os.path.join(self.tmp, f"metrics-{server}.txt")
        with open(path, "w") as f:
            f.write(body)
        if code != "200" or "shortener_" not in body:
            return {}
        samples = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                samples[k] = float(v)
        return samples

    @staticmethod
    def metric(samples, name):
        return sum(v for k, v in samples.items()
                   if k == name or k.startswith(name + "{"))

    def clicks_report(self, since, server, names, before, spans=()):
        """SPANS: earlier (before, after) scrapes of the same role, on an
        instance since restarted (swap_levels); their deltas add up."""
        for name in names:
            print(f"    {name}: {self.batches(since, name)}")
        after = self.scrape(server)
        spans = [*spans, (before, after)]
        if not all(b and a for b, a in spans):
            print("    /metrics: not served: figures from the database only")
            return after

        def d(n):
            return sum(self.metric(a, n) - self.metric(b, n)
                       for b, a in spans)
        count = d("shortener_click_batch_size_count")
        mean = d("shortener_click_batch_size_sum") / count if count else 0
        print(f"    /metrics: shortener_clicks_written_total "
              f"+{d('shortener_clicks_written_total'):.0f}, "
              f"shortener_clicks_dropped_total "
              f"+{d('shortener_clicks_dropped_total'):.0f}; "
              f"shortener_click_batch_size +{count:.0f} batches, mean "
              f"{mean:.1f} (the instance's runs together)")
        looks = d("shortener_lookup_batch_size_count")
        if looks:
            print(f"    /metrics: shortener_lookup_batch_size +{looks:.0f} "
                  "lookup statements, mean "
                  f"{d('shortener_lookup_batch_size_sum') / looks:.1f} "
                  "codes each (cache misses that reached PostgreSQL)")
        key = 'shortener_cache_lookups_total{result="%s"}'
        parts = ", ".join(f"{r} {d(key % r):.0f}" for r in (
            "local_hit", "hit", "miss", "negative", "bypass", "error"))
        print(f"    /metrics: cache lookups: {parts} (local_hit: the "
              "worker's own copy, Redis not asked; error: no answer from "
              "Redis in time, the request read PostgreSQL)")
        return after

    # -- the phases --

    def settle(self):
        """Stores every click, vacuums, checkpoints: no run pays for the
        one before it."""
        self.drain()
        self.sql("VACUUM (ANALYZE) events, click_packs")
        self.sql("CHECKPOINT")

    def round_secs(self):
        return -(-self.cfg["seconds"] // self.cfg["rounds"])

    def phase_hit(self):
        secs, rounds = self.round_secs(), self.cfg["rounds"]
        print(f"== 1. cache HIT: one hot code (/{self.hot}), {rounds} rounds "
              f"of {secs}s, servers in turn (reversed every other round)",
              flush=True)
        self.settle()
        since = self.max_event_id()
        roles = ("app-warn", "app-info")
        before = {s: self.scrape(s) for s in roles}
        spans = {s: [] for s in roles}	# /metrics before and after
        # In turn, the order reversed every other round (ABBA): whatever
        # drifts during a round (the machine, PostgreSQL's upkeep of the
        # clicks the round before wrote) falls on every server alike. The
        # instances swap their log levels half way (swap_levels).
        turn = [("trivial", "trivial", "GET"), ("app-hit", "app-warn", "GET"),
                ("app-head", "app-warn", "HEAD"),
                ("app-hit-info", "app-info", "GET")]
        swap_at = rounds // 2 + 1 if rounds > 1 else 0
        for r in range(1, rounds + 1):
            if r == 1 or r == swap_at:
                if r == swap_at:
                    print("  the two instances swap their log levels "
                          "(restarted)", flush=True)
                    self.drain()
                    for s in roles:
                        spans[s].append((before[s], self.scrape(s)))
                    self.swap_levels()
                    before = {s: self.scrape(s) for s in roles}
                for name, server, method in turn:
                    self.warm(name, server, method)
            print(f"  round {r}")
            for name, server, method in (turn if r % 2 else turn[::-1]):
                self.measure(name, server, secs, method)
        for s in ("app-warn", "app-info"):
            if self.status_of(s, f"/{self.hot}", "x-cache") != "HIT":
                die(f"{s}: /{self.hot} is no longer a cache HIT after the "
                    "runs")
        print("  totals (requests/s over all rounds; p50 and p99: median of "
              "the rounds):")
        for n in ("trivial", "app-hit", "app-head", "app-hit-info"):
            self.finish(n)
        print(f"  click writer (app-hit and app-hit-info; stored "
              f"{self.drain()}s after the load stopped):")
        self.clicks_report(
            since, "app-warn", ["app-hit", "app-head"], before["app-warn"],
            spans["app-warn"])
        self.clicks_report(since, "app-info", ["app-hit-info"],
                           before["app-info"], spans["app-info"])

    def phase_nginx(self):
        secs, rounds = self.round_secs(), self.cfg["rounds"]
        print()
        print(f"== 4. through nginx (the repository's nginx.conf, one "
              f"upstream): the trivial module and the app, HIT GET, "
              f"{rounds} rounds of {secs}s, in turn; CPU of nginx and its "
              f"upstream together as the server's", flush=True)
        self.warm("nginx-trivial", "nginx-trivial")
        self.warm("nginx-app", "nginx-app")
        turn = [("nginx-trivial", "trivial"), ("nginx-app", "app-warn")]
        for r in range(1, rounds + 1):
            print(f"  round {r}")
            for name, behind in (turn if r % 2 else turn[::-1]):
                self.measure(name, name, secs, behind=behind)
        for n in ("nginx-trivial", "nginx-app"):
            self.finish(n)

    def phase_steady(self):
        print()
        print("== 2. cache HIT at steady loads of "
              f"{', '.join(map(str, self.cfg['rates']))} requests/s offered")
        for rate in self.cfg["rates"]:
            self.steady_at(rate)

    def steady_at(self, rate):
        secs, rounds, conns = (self.round_secs(), self.cfg["rounds"],
                               self.cfg["connections"])
        delay = (conns * 1000 + rate // 2) // rate
        if delay < 1:
            die(f"BENCH_RATES: {rate} is more than {conns} connections can "
                "offer with 1 ms waits")
        print(f"  -- about {rate} requests/s ({conns} connections, each "
              f"waiting 0-{2 * delay} ms between requests, 1 wrk thread), "
              f"{rounds} rounds of {secs}s", flush=True)
        self.settle()
        since = self.max_event_id()
        before = self.scrape("app-warn")
        for r in range(1, rounds + 1):
            print(f"  round {r}")
            kw = {"threads": 1, "delay": delay}
            self.measure(f"trivial-{rate}", "trivial", secs, **kw)
            self.measure(f"app-{rate}", "app-warn", secs, **kw)
            self.measure(f"app-head-{rate}", "app-warn", secs, "HEAD", **kw)
        print("  totals (requests/s over all rounds; p50 and p99: median of "
              "the rounds):")
        for n in (f"trivial-{rate}", f"app-{rate}", f"app-head-{rate}"):
            self.finish(n)
        print(f"  click writer (stored {self.drain()}s after the load "
              "stopped):")
        self.clicks_report(since, "app-warn", [f"app-{rate}"], before)

    # The issue's figures (docs/performance.md, "Issue 16"): the machine
    # its absolute targets were set on.
    ISSUE_TRIVIAL_US = 19.3	# trivial module, CPU per request, all parties
    ISSUE_BASE_MISS_PG_US = 181.1	# the baseline's PostgreSQL CPU per MISS

    def machine_note(self, m, b):
        """Says how this machine compares with the one the absolute
        targets (us of PostgreSQL CPU) were set on: a report, not a
        verdict; the targets stay as the issue wrote them."""
        t = self.runs.get("trivial")
        if t is None or b.pg_us <= 0:
            return
        print(f"  this machine against the issue's: the trivial module "
              f"{t.cpu_us:.1f} against {self.ISSUE_TRIVIAL_US} us a request "
              f"({t.cpu_us / self.ISSUE_TRIVIAL_US:.2f}x), the baseline's "
              f"PostgreSQL per MISS {b.pg_us:.1f} against "
              f"{self.ISSUE_BASE_MISS_PG_US} us "
              f"({b.pg_us / self.ISSUE_BASE_MISS_PG_US:.2f}x); PostgreSQL "
              f"per MISS is {m.pg_us / b.pg_us:.2f} of the baseline's here, "
              f"the target {TARGET_MISS_PG_US / self.ISSUE_BASE_MISS_PG_US:.2f}"
              " of it there (the verdicts above use the absolute targets)")

    def phase_miss(self):
        codes = os.path.join(self.tmp, "codes.txt")
        secs, rounds = self.round_secs(), self.cfg["rounds"]
        with open(codes, "w") as f:
            f.write(self.sql("SELECT short_code FROM urls WHERE is_active AND "
                             f"short_code <> '{self.hot}' "
                             "ORDER BY md5(short_code)") + "\n")
        with open(codes) as f:
            n_codes = sum(1 for _ in f)
        turns = [("app-miss", "app-warn", "GET"),
                 ("app-miss-head", "app-warn", "HEAD")]
        if "app-base" in self.servers:
            turns.append(("base-miss", "app-base", "GET"))
        print()
        print(f"== 3. cache MISS: distinct existing codes, Redis emptied "
              f"before each turn, {rounds} rounds of {secs}s: "
              + ", ".join(t[0] for t in turns), flush=True)
        self.settle()
        since = self.max_event_id()
        before = self.scrape("app-warn")
        for r in range(1, rounds + 1):
            print(f"  round {r}")
            for name, server, method in turns:
                # No warm-up: it would spend codes; each turn starts cold.
                self.redis("FLUSHDB")
                self.measure(name, server, secs, method,
                             lua=os.path.join(BENCH, "miss.lua"),
                             args=(codes, str(self.cfg["threads"])))
        print("  totals (requests/s over all rounds; p50 and p99: median of "
              "the rounds):")
        for name, _, _ in turns:
            self.finish(name)
            r = self.runs[name]
            if r.requests / rounds > n_codes:
                print(f"  note: {name}: up to {r.requests} requests for "
                      f"{n_codes} codes per turn: some were repeats, i.e. "
                      "cache hits; raise BENCH_URLS")
        print(f"  every turn walks the same {n_codes} codes from their "
              "start, from an empty Redis")
        print(f"  click writer (stored {self.drain()}s after the load "
              "stopped):")
        self.clicks_report(since, "app-warn", ["app-miss"], before)

    # -- instructions per request (callgrind) --

    INSTR_WARMUP = 200	# requests before the counters are zeroed
    INSTR_IDLE = 2.0	# s of an idle window: the timers' own cost

    def start_callgrind(self, name, conf_of, level="warn"):
        """A server with one worker under callgrind; conf_of(port, dir)
        writes its configuration and returns the path."""
        port, d = free_port(), os.path.join(self.tmp, name)
        os.makedirs(d)
        conf = conf_of(port, d)
        env = {**os.environ, "LOG_LEVEL": level}
        srv = callgrind.Server(name, conf, d, env)
        self.servers[name] = {"port": str(port), "dir": d, "scripts": None,
                              "proc": srv.proc}
        srv.port = port
        return srv

    def count(self, srv, label, paths, method="GET",
              agent="bench-callgrind"):
        """Warm-up, zero, the requests, dump: (Ir, answered, seconds of
        the window), the dump kept as DUMPS/LABEL.out. The counters are
        zeroed and dumped once the clicks sent so far are stored (drain()):
        no window carries the inserts of the requests before it, each
        carries all of its own."""
        warm, paths = paths[:self.INSTR_WARMUP], paths[self.INSTR_WARMUP:]
        callgrind.drive(srv.port, warm, method, agent=agent)
        self.drain()
        srv.zero()
        t0 = time.monotonic()
        answered = callgrind.drive(srv.port, paths, method, agent=agent)
        self.drain()
        dump = srv.dump()
        secs = time.monotonic() - t0
        shutil.copy(dump, os.path.join(DUMPS, f"{label}.out"))
        with open(dump) as f:
            ir = callgrind.summary_ir(f.read())
        self.instr[label] = (ir, answered, secs)
        print(f"    {label:<13} {answered:6d} answered  {ir:13,d} Ir  "
              f"{ir / answered:9,.0f} Ir/request  ({secs:.1f}s window)",
              flush=True)
        return dump

    def idle_rate(self, srv):
        """Instructions per second of a worker that serves nothing."""
        srv.zero()
        t0 = time.monotonic()
        time.sleep(self.INSTR_IDLE)
        dump = srv.dump()
        secs = time.monotonic() - t0
        with open(dump) as f:
            return callgrind.summary_ir(f.read()) / secs

    def phase_instr(self):
        n, warm = self.cfg["instr_requests"], self.INSTR_WARMUP
        self.instr = {}
        for f in os.listdir(DUMPS) if os.path.isdir(DUMPS) else ():
            if f.endswith((".out", ".txt")):
                os.remove(os.path.join(DUMPS, f))
        os.makedirs(DUMPS, exist_ok=True)
        print()
        print(f"== 5. instructions per request (callgrind): one worker under "
              f"valgrind, {n} requests per path after {warm} of warm-up, "
              f"{callgrind.CONNECTIONS} keep-alive connections in lock step; "
              f"the worker's user-space instructions between zeroing and "
              f"dumping its counters (each once the clicks sent so far are "
              f"stored) over the requests answered", flush=True)
        codes = self.sql("SELECT short_code FROM urls WHERE is_active AND "
                         f"short_code <> '{self.hot}' ORDER BY "
                         f"md5(short_code) LIMIT {n + warm}").split()
        if len(codes) < n + warm:
            die(f"phase 5 needs {n + warm} URLs for its MISS run; raise "
                "BENCH_URLS or lower BENCH_INSTR_REQUESTS")
        trivial = self.start_callgrind(
            "cg-trivial",
            lambda port, d: self.trivial_conf(port, d, FARM_CG, workers=1))
        app = self.start_callgrind("cg-app", self.app_conf_callgrind)
        try:
            callgrind.wait_answering(trivial.port, "/x", 302)
            callgrind.wait_answering(app.port, f"/{self.hot}", 302)
            hot = [f"/{self.hot}"] * (n + warm)
            self.count(trivial, "trivial", hot)
            trivial.stop()
            get = self.count(app, "app-hit-get", hot)
            if self.status_of("cg-app", f"/{self.hot}", "x-cache") != "HIT":
                die(f"cg-app: /{self.hot} is not a cache HIT")
            self.count(app, "app-hit-head", hot, "HEAD")
            self.count(app, "app-hit-get-ua", hot, agent=BROWSER_UA)
            self.redis("FLUSHDB")
            self.count(app, "app-miss", [f"/{c}" for c in codes])
            idle = self.idle_rate(app)
        except (callgrind.Error, OSError) as e:
            die(f"phase 5: {e} (valgrind's output: .build/bench/logs/"
                "cg-*.log)")
        finally:
            trivial.stop()
            app.stop()
        self.count_info(hot)
        self.instr_report(get, idle)

    def count_info(self, hot):
        """HIT GET again on an instance at LOG_LEVEL=info: the logging's
        own instructions, and the request lines it wrote for them."""
        app = self.start_callgrind("cg-app-info", self.app_conf_callgrind,
                                   "info")
        try:
            callgrind.wait_answering(app.port, f"/{self.hot}", 302)
            self.count(app, "app-hit-get-info", hot)
        except (callgrind.Error, OSError) as e:
            die(f"phase 5: {e} (valgrind's output: .build/bench/logs/"
                "cg-*.log)")
        finally:
            app.stop()
        with open(os.path.join(app.dir, "callgrind.log"),
                  errors="replace") as f:
            self.info_lines = sum(1 for line in f
                                  if '"event":"request"' in line)

    def app_conf_callgrind(self, port, d):
        run([os.path.join(SCRIPTS, "app.sh"), "conf", str(port), d],
            env={"FLAVOR": "callgrind", "APP_WORKERS": "1"})
        return os.path.join(d, "shortener.conf")

    def instr_report(self, get_dump, idle):
        with open(get_dump) as f:
            text = f.read()
        funcs, total = callgrind.functions(text), callgrind.summary_ir(text)
        n = self.instr["app-hit-get"][1]
        for inclusive in (False, True):
            kind = "inclusive" if inclusive else "self"
            path = os.path.join(DUMPS, f"app-hit-get-top-{kind}.txt")
            rows = callgrind.top(funcs, 40, inclusive, below=total)
            with open(path, "w") as f:
                for ir, name in rows:
                    f.write(f"{ir:13,d} {ir / n:9,.0f}/req  {name}\n")
            print(f"  the app's HIT GET, top 10 functions by {kind} "
                  f"instructions per request (40 in {path}):")
            for ir, name in rows[:10]:
                print(f"    {ir / n:9,.0f}  {name}")
        print(f"  an idle worker of the app executes {idle:,.0f} Ir/s (its "
              "timers); in each window above, that is included")
        print(f"  dumps: {DUMPS}/*.out (callgrind_annotate FILE, or "
              "kcachegrind)")

    # -- report --

    def machine(self):
        model = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / 1048576
        wrkv = subprocess.run(["wrk", "--version"], capture_output=True,
                              text=True)
        wrkv = " ".join((wrkv.stdout + wrkv.stderr).split()[:2])
        print(f"machine: {NCPU} cores ({model}), {mem:.1f} GiB, "
              f"{os.uname().sysname} {os.uname().release}")
        print(f"load: {wrkv} -t {self.cfg['threads']} -c "
              f"{self.cfg['connections']}, {self.cfg['seconds']}s per path "
              f"after {self.cfg['warmup']}s of warm-up")
        print(f"note: wrk shares the {NCPU} cores with the server under "
              "test, Redis and PostgreSQL (and with whatever else runs "
              "here: see 'other processes' above)")

    @staticmethod
    def verdict(ok):
        return "PASS" if ok else "FAIL"

    def summary(self):
        R = self.runs
        print()
        print("== summary")
        self.machine()
        print("CPU us/req: CPU time per request of the server, wrk, Redis "
              "and PostgreSQL together")
        print()
        if R:
            self.table()
        if all(p in self.cfg["phases"] for p in PHASES[:4]):
            self.targets()
        else:
            print(f"targets: not evaluated (BENCH_PHASES="
                  f"\"{' '.join(self.cfg['phases'])}\")")
        self.instr_summary()

    def table(self):
        R = self.runs
        print(f"| {'run':<34} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7}"
              f" | {'CPU us/req':>12} | {'of which PG':>11} |")
        print(f"|{'-' * 36}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 14}|"
              f"{'-' * 13}|")

        def row(label, n):
            if n not in R:
                return
            r = R[n]
            print(f"| {label:<34} | {r.rps:8.0f} | {r.p50_ms:7.2f} | "
                  f"{r.p99_ms:7.2f} | {r.cpu_us:12.1f} | {r.pg_us:11.1f} |")
        row("trivial 302 module", "trivial")
        row("app, HIT, GET (LOG_LEVEL=warn)", "app-hit")
        row("app, HIT, HEAD: no click", "app-head")
        row(f"app, HIT, GET (LOG_LEVEL={self.cfg['info_level']})", "app-hit-info")
        for rate in self.cfg["rates"]:
            row(f"trivial, steady {rate}/s offered", f"trivial-{rate}")
            row(f"app, HIT, GET, steady {rate}/s", f"app-{rate}")
            row(f"app, HIT, HEAD, steady {rate}/s", f"app-head-{rate}")
        row("nginx -> trivial 302 module", "nginx-trivial")
        row("nginx -> app, HIT, GET", "nginx-app")
        row("app, MISS, GET (LOG_LEVEL=warn)", "app-miss")
        row("app, MISS, HEAD: no click", "app-miss-head")
        row(f"baseline {self.cfg['baseline']}, MISS, GET", "base-miss")
        print()

    @staticmethod
    def paired(a, b):
        """Throughput of a against b: the median of the rounds' own ratios
        (each round ran a and b seconds apart), and the ratio over all
        rounds. A slow spell of the machine lasting a few seconds lands
        on whichever servers run then, and moves the total of the runs it
        hits, whatever their order; it moves one ratio of the median.
        docs/decisions.md, "The benchmark judges paired rounds"."""
        rs = [x / y for x, y in zip(a.round_rps, b.round_rps)]
        return statistics.median(rs), a.rps / b.rps, rs

    @staticmethod
    def rounds_text(rs, fmt=".2f"):
        return " ".join(f"{r:{fmt}}" for r in rs)

    def targets(self):
        R = self.runs
        t, hit, head, info = (R["trivial"], R["app-hit"], R["app-head"],
                              R["app-hit-info"])
        ratio, total, rs = self.paired(hit, t)
        print(f"HIT throughput app/trivial: {ratio:.2f} (target >= "
              f"{TARGET_RATIO}): {self.verdict(ratio >= TARGET_RATIO)}")
        print(f"  the median of the rounds' ratios ({self.rounds_text(rs)});"
              f" over all rounds {total:.2f}")
        print(f"  CPU per request, all parties: trivial {t.cpu_us:.1f} us, "
              f"app {hit.cpu_us:.1f} us (HEAD {head.cpu_us:.1f} us); the "
              f"server alone: trivial {t.srv_us:.1f} us, app "
              f"{hit.srv_us:.1f} us (HEAD {head.srv_us:.1f} us)")
        print(f"  on a machine doing nothing else, CPU-bound, the ratio would "
              f"be about {t.cpu_us / hit.cpu_us:.2f} "
              f"({t.cpu_us / head.cpu_us:.2f} without the click)")
        gh, total, rs = self.paired(hit, head)
        print(f"HIT GET/HEAD throughput: {gh:.2f} (target >= "
              f"{TARGET_GET_HEAD}): {self.verdict(gh >= TARGET_GET_HEAD)}")
        print(f"  the median of the rounds' ratios ({self.rounds_text(rs)});"
              f" over all rounds {total:.2f}")
        click = hit.pg_us - head.pg_us
        print(f"PostgreSQL CPU per click (HIT GET minus HEAD, same instance, "
              f"same rounds): {click:.2f} us (target <= "
              f"{TARGET_CLICK_PG_US:.0f} us): "
              f"{self.verdict(click <= TARGET_CLICK_PG_US)}")
        for rate in self.cfg["rates"]:
            a = R[f"app-{rate}"]
            print(f"HIT p99 of the app at a steady {rate} requests/s offered "
                  f"on {self.cfg['connections']} connections: {a.p99_ms:.2f} "
                  f"ms (target < {TARGET_P99_MS:.0f} ms): "
                  f"{self.verdict(a.p99_ms < TARGET_P99_MS)}")
            print(f"  (same load: trivial module "
                  f"{R[f'trivial-{rate}'].p99_ms:.2f} ms, app HEAD without "
                  f"the click {R[f'app-head-{rate}'].p99_ms:.2f} ms; "
                  f"PostgreSQL CPU per click here "
                  f"{a.pg_us - R[f'app-head-{rate}'].pg_us:.1f} us)")
        print(f"  at saturation (phase 1): app {hit.p99_ms:.2f} ms, trivial "
              f"module {t.p99_ms:.2f} ms; there {self.cfg['connections']} "
              f"connections at {hit.rps:.0f} requests/s make the app's mean "
              f"latency {self.cfg['connections'] / hit.rps * 1000:.2f} ms by "
              "Little's law, whatever the code")
        li, total, rs = self.paired(info, hit)
        print(f"request logging: throughput info/warn {li:.2f}, a cost of "
              f"{(1 - li) * 100:.0f}% (target <= {TARGET_LOG_COST * 100:.0f}"
              f"%): {self.verdict(li >= 1 - TARGET_LOG_COST)}")
        print(f"  the median of the rounds' ratios ({self.rounds_text(rs)});"
              f" over all rounds {total:.2f}, a cost of "
              f"{(1 - total) * 100:.0f}%")
        print(f"  CPU per request, all parties: {info.cpu_us:.1f} us at info,"
              f" {hit.cpu_us:.1f} us at warn: "
              f"{(info.cpu_us / hit.cpu_us - 1) * 100:+.0f}%; the server "
              f"alone: {info.srv_us:.2f} us against {hit.srv_us:.2f} us "
              f"({info.srv_us - hit.srv_us:+.2f} us)")
        lines = size = 0
        for s in ("app-warn", "app-info"):
            logf = os.path.join(self.servers[s]["dir"], "app.log")
            with open(logf, errors="replace") as f:
                lines += sum(1 for line in f if '"event":"request"' in line)
            size += os.path.getsize(logf)
        print(f"  (the instances wrote {lines} request lines at "
              f"{self.cfg['info_level']}, {size / 1048576:.0f} MB of log; "
              "each instance ran half of the rounds at each level)")
        m, mh = R["app-miss"], R["app-miss-head"]
        print(f"PostgreSQL CPU per MISS (GET, lookup and click): "
              f"{m.pg_us:.1f} us (target <= {TARGET_MISS_PG_US:.0f} us): "
              f"{self.verdict(m.pg_us <= TARGET_MISS_PG_US)}")
        print(f"  the lookup alone (HEAD): {mh.pg_us:.1f} us; so the click "
              f"of a MISS (a URL of its own in its batch) "
              f"{m.pg_us - mh.pg_us:.1f} us")
        if "base-miss" in R:
            b = R["base-miss"]
            x, total, rs = self.paired(m, b)
            print(f"MISS throughput against the baseline "
                  f"{self.cfg['baseline']} in this run: {x:.1f}x (target >= "
                  f"{TARGET_MISS_X:.0f}x): {self.verdict(x >= TARGET_MISS_X)}")
            print(f"  the median of the rounds' ratios "
                  f"({self.rounds_text(rs, '.1f')}); over all rounds "
                  f"{m.rps:.0f} / {b.rps:.0f} = {total:.1f}x")
            print(f"  CPU per MISS, all parties: {m.cpu_us:.1f} us against "
                  f"{b.cpu_us:.1f} us ({b.cpu_us / m.cpu_us:.1f}x less); "
                  f"PostgreSQL {m.pg_us:.1f} against {b.pg_us:.1f} us; the "
                  f"server {m.srv_us:.1f} against {b.srv_us:.1f} us")
            self.machine_note(m, b)
        else:
            print("MISS throughput against a baseline: not measured "
                  "(BENCH_BASELINE=none)")
        if "nginx-app" in R:
            nt, na = R["nginx-trivial"], R["nginx-app"]
            x, total, rs = self.paired(na, nt)
            print(f"through nginx, app/trivial: {x:.2f} (target >= "
                  f"{TARGET_NGINX}): {self.verdict(x >= TARGET_NGINX)}")
            print(f"  the median of the rounds' ratios "
                  f"({self.rounds_text(rs)}); over all rounds {na.rps:.0f} / "
                  f"{nt.rps:.0f} = {total:.2f}")
            print(f"  CPU per request, all parties: nginx -> trivial "
                  f"{nt.cpu_us:.1f} us, nginx -> app {na.cpu_us:.1f} us; nginx and "
                  f"its upstream: {nt.srv_us:.1f} against {na.srv_us:.1f} us "
                  f"(directly: trivial {t.srv_us:.1f}, app {hit.srv_us:.1f} us)")

    def instr_summary(self):
        if not getattr(self, "instr", None):
            print("instructions per request: not measured (BENCH_PHASES "
                  "without instr)")
            return
        per = {k: ir / n for k, (ir, n, _) in self.instr.items()}
        print(f"instructions per request (callgrind, worker): HIT GET "
              f"{per['app-hit-get']:,.0f}, HIT HEAD {per['app-hit-head']:,.0f},"
              f" MISS {per['app-miss']:,.0f}, trivial {per['trivial']:,.0f}; "
              f"app/trivial ratio {per['app-hit-get'] / per['trivial']:.2f}")
        print(f"  HIT GET with a browser's User-Agent ({len(BROWSER_UA)} "
              f"characters, not bench-NAME): {per['app-hit-get-ua']:,.0f}")
        info, n = per["app-hit-get-info"], self.instr["app-hit-get-info"][1]
        print(f"  HIT GET at LOG_LEVEL=info: {info:,.0f} "
              f"({(info / per['app-hit-get'] - 1) * 100:+.1f}%); the "
              f"instance wrote {self.info_lines} request lines, warm-up "
              f"included, for {n} requests counted (under valgrind a worker "
              "stays below the rate at which lines are sampled: this is "
              "the cost of a line for nearly every request)")
        print("  user space of the one worker only: not the kernel (system "
              "calls, TCP), not Redis, PostgreSQL or the Kore parent")

    def main(self):
        run([os.path.join(SCRIPTS, "deps.sh")], out=os.path.join(
            tempfile.gettempdir(), f"bench-deps-{os.getpid()}.log"))
        for c in ("wrk", "kodev", "redis-cli", "psql", "curl", "valgrind",
                  "callgrind_control"):
            if shutil.which(c) is None:
                die(f"{c} is missing")
        self.check_same_tuning()
        os.makedirs(BUILD, exist_ok=True)
        self.build()
        self.tmp = tempfile.mkdtemp(prefix="shortener-bench.")
        # The postgres user must reach the cluster inside it.
        os.chmod(self.tmp, 0o711)
        self.start_postgres()
        self.start_redis()
        phases = self.cfg["phases"]
        self.start_app("app-warn", "warn")
        self.start_app("app-info", self.cfg["info_level"])
        if self.cfg["baseline"] != "none" and "miss" in phases:
            self.start_app("app-base", "warn",
                           os.path.join(self.base_tree, "scripts"))
        self.start_trivial()
        self.hot = self.sql("SELECT short_code FROM urls WHERE is_active "
                            "ORDER BY id LIMIT 1")
        if not self.hot:
            die("no active URL in the seed")
        self.warm_hot("app-warn")
        self.warm_hot("app-info")
        print()
        self.machine()
        print()
        if "hit" in phases:
            self.phase_hit()
        if "steady" in phases:
            self.phase_steady()
        if "miss" in phases:
            self.phase_miss()
        if "nginx" in phases:
            self.warm_hot("app-warn")
            self.start_nginx("nginx-trivial", "trivial")
            self.start_nginx("nginx-app", "app-warn")
            self.phase_nginx()
        if "instr" in phases:
            self.phase_instr()
        self.summary()
        if self.invalid:
            die("some runs measured error responses, not redirects (see "
                "above)")


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, interrupted)
    bench = None
    try:
        bench = Bench(settings())
        bench.main()
        return 0
    except Failed as e:
        log(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if bench is not None:
            bench.stop_all()
            bench.keep_logs()


if __name__ == "__main__":
    sys.exit(main())
