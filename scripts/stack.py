#!/usr/bin/python3
"""stack.py up|down|status|logs [-f]|restart|ctl ARGS: the production
topology of docker-compose.yml on this machine, without Docker, supervised
by supervisord (Debian's `supervisor`; conf/supervisord.conf says how each
service runs, restarts, stops and logs). scripts/stack.sh runs this.

  up       install missing packages, build (flavor prod), start supervisord
           if it does not run, then start, in order and each once it answers,
           what is not running yet: PostgreSQL (migrated, seeded when empty),
           Redis, three app instances, nginx in front of them, Alertmanager,
           Prometheus. Running it again is harmless; an instance whose module
           was rebuilt since it started gets a rolling restart. A port that
           something else holds stops it before anything starts, naming it.
  down     stop everything (supervisord's ordered shutdown: the instances
           flush their click queues while PostgreSQL is still up); data stays
           in ./run for the next `up`
  status   one line per service: state, address, pid, uptime; exit 1 if any
           is down
  logs     the tail of every log (-f: follow)
  restart  rolling restart of the app instances, one at a time: take it out
           of nginx, wait until nginx holds no request on it, stop it (SIGTERM
           to its process group: requests in flight are answered, clicks
           flushed), start it, wait for its /health, put it back. No request
           fails (docs/failure-modes.md)
  ctl ARGS supervisorctl on this stack, e.g. `ctl pid app2`, `ctl stop redis`
  instance DIR   (supervisord's command for an app) end the workers a
           SIGKILLed Kore parent of DIR left behind, then exec Kore in DIR

Everything lives under ./run (RUN_DIR): supervisord's socket, pid file and
log; run/pg (the cluster; under /var/tmp when the postgres user cannot reach
./run), run/redis, run/app1..3 (shortener.conf, app.log), run/nginx,
run/prometheus, run/alertmanager, run/seed (a generated seed) and
run/stack.env (the ports of the last `up`, so that status, down and restart
need no environment).

Ports (all on 127.0.0.1; the environment wins, then the last `up`, then
these defaults): NGINX_PORT 8080 (the base URL; APP_PORT is its former
name), APP1_PORT..APP3_PORT 8081..8083, PG_PORT 15432, REDIS_PORT 6380,
PROMETHEUS_PORT 9090, ALERTMANAGER_PORT 9093. The instances get LOG_LEVEL
(info) and TRUSTED_PROXIES=127.0.0.1: nginx is their proxy.

API keys (docs/security.md): off by default here, the open contract;
API_KEYS_REQUIRED=1 at the `up` that starts supervisord turns them on, with
an admin key generated once into run/admin.key (mode 0600; stored in the
database as its hash by scripts/apikey.py bootstrap) and shown by the
banner. The mode is the one supervisord was started with (run/keys_required):
change it with `make down` first. With keys off the app's per-address API
budget is off too (RATE_LIMIT_PER_ADDRESS=0 unless set): every anonymous
client would share it; nginx's per-address limits stay.
ALERT_WEBHOOK_URL (default http://127.0.0.1:9/, where nothing listens:
notifications fail and Alertmanager logs it) is where alerts are posted.

nginx and Prometheus run the repository's own nginx.conf and prometheus.yml,
rewritten mechanically (scripts/nginx_conf.py, the lines marked "# stack:"
and "# env:" in nginx.conf; scripts/prometheus-config.sh for prometheus.yml), never a second
hand-written configuration. Grafana has no Debian package: it runs only
under docker-compose (make compose-up).
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
import zlib
from pathlib import Path

# Debian's supervisor package: the transport supervisorctl itself uses.
from supervisor.xmlrpc import SupervisorTransport

import nginx_conf  # scripts/nginx_conf.py, beside this file

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
PYTHON = sys.executable
RUN = Path(os.environ.get("RUN_DIR") or REPO / "run").absolute()
STATE = RUN / "stack.env"
CONF = REPO / "conf" / "supervisord.conf"
MODULE = REPO / ".build" / "prod" / "shortener" / "shortener.so"
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
START_TIMEOUT = float(os.environ.get("STACK_START_TIMEOUT", "30"))
APPS = ["app1", "app2", "app3"]
# Started in this order; supervisord stops them in the reverse one.
SERVICES = ["postgres", "redis"] + APPS + ["nginx", "alertmanager", "prometheus"]
PORT_DEFAULTS = {"PG_PORT": 15432, "REDIS_PORT": 6380, "APP1_PORT": 8081,
                 "APP2_PORT": 8082, "APP3_PORT": 8083, "NGINX_PORT": 8080,
                 "PROMETHEUS_PORT": 9090, "ALERTMANAGER_PORT": 9093}
PORT_OF = {"postgres": "PG_PORT", "redis": "REDIS_PORT", "app1": "APP1_PORT",
           "app2": "APP2_PORT", "app3": "APP3_PORT", "nginx": "NGINX_PORT",
           "alertmanager": "ALERTMANAGER_PORT", "prometheus": "PROMETHEUS_PORT"}
# What answers 200 once each service is ready (postgres: pg_isready).
READY_PATH = {"nginx": "/health", "alertmanager": "/-/ready", "prometheus": "/-/ready",
              "app1": "/health", "app2": "/health", "app3": "/health"}


def log(msg):
    print("stack: %s" % msg, file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)


def run(cmd, check=True, **kw):
    p = subprocess.run([str(c) for c in cmd], text=True, **kw)
    if check and p.returncode != 0:
        die("%s exited %d" % (" ".join(map(str, cmd)), p.returncode))
    return p


# ---- ports and settings --------------------------------------------------

def read_env(path):
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def load_ports():
    """The environment wins, then the last `up`, then the defaults."""
    last = read_env(STATE)
    ports = {}
    for var, default in PORT_DEFAULTS.items():
        v = os.environ.get(var) or (os.environ.get("APP_PORT") if var == "NGINX_PORT" else None)
        v = v or last.get(var) or str(default)
        if not v.isdigit():
            die("%s is not a port number: %s" % (var, v))
        ports[var] = int(v)
    return ports


def save_ports(ports):
    STATE.write_text("".join("%s=%d\n" % kv for kv in ports.items()))


def pg_url(port):
    return "postgresql://postgres@127.0.0.1:%d/shortener?connect_timeout=2&gssencmode=disable" % port


def pg_user():
    return os.environ.get("PG_OS_USER", "postgres") if os.geteuid() == 0 else \
        subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()


def pg_dir():
    """run/pg, unless the postgres user cannot reach it (a checkout under a
    private home directory, as root): then a directory under /var/tmp
    named after RUN, linked from run/pg so that it is found again."""
    d = RUN / "pg"
    if d.is_symlink():
        return d.resolve()
    if d.is_dir() or os.geteuid() != 0 or run(
            ["runuser", "-u", pg_user(), "--", "test", "-x", RUN], check=False, cwd="/").returncode == 0:
        return d
    alt = Path("/var/tmp/shortener-%d" % zlib.crc32(str(RUN).encode()))
    alt.mkdir(mode=0o711, exist_ok=True)
    os.chmod(alt, 0o711)
    d.symlink_to(alt / "pg")
    return alt / "pg"


def supervisor_sock():
    """Unix socket paths are limited to 107 bytes: a deep RUN gets one in /tmp."""
    sock = RUN / "supervisor.sock"
    if len(str(sock)) < 100:
        return sock
    return Path("/tmp/shortener-supervisor-%d.sock" % zlib.crc32(str(RUN).encode()))


def keys_required():
    """"1" or "0": API_KEYS_REQUIRED of this `up`'s environment."""
    return "1" if os.environ.get("API_KEYS_REQUIRED", "0") == "1" else "0"


def keys_running():
    """The mode of the running stack (what supervisord was started with),
    else of this environment."""
    try:
        return (RUN / "keys_required").read_text().strip()
    except OSError:
        return keys_required()


def admin_key_bootstrap(env):
    """With keys on: run/admin.key (made once), its hash stored."""
    if keys_running() != "1":
        return
    key = RUN / "admin.key"
    if not key.exists() or not key.read_text().strip():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(run([PYTHON, SCRIPTS / "apikey.py", "generate"],
                        capture_output=True).stdout)
    run([PYTHON, SCRIPTS / "apikey.py", "bootstrap"],
        env=dict(env, ADMIN_API_KEY=key.read_text().strip()))


def environment(ports):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in ports.items()})
    env.update(RUN=str(RUN), SUPERVISOR_SOCK=str(supervisor_sock()),
               STACK=str(Path(__file__).resolve()), PG_BIN=PG_BIN, PG_DIR=str(pg_dir()),
               PG_OS_USER=pg_user(), DATABASE_URL=pg_url(ports["PG_PORT"]),
               REDIS_URL="redis://127.0.0.1:%d/0" % ports["REDIS_PORT"],
               LOG_LEVEL=os.environ.get("LOG_LEVEL", "info"), TRUSTED_PROXIES="127.0.0.1",
               API_KEYS_REQUIRED=keys_required(),
               ALERT_WEBHOOK_URL=os.environ.get("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/"))
    env.setdefault("RATE_LIMIT_PER_ADDRESS", "1200" if keys_required() == "1" else "0")
    # Links the instances print (Location, short_url) and the web app's
    # monitoring link point at the public port and this stack's Prometheus.
    env.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1:%d" % ports["NGINX_PORT"])
    env.setdefault("WEB_PROMETHEUS_URL", "http://127.0.0.1:%d/" % ports["PROMETHEUS_PORT"])
    return env


# ---- supervisord -----------------------------------------------------------

class Supervisor:
    """supervisord of this stack: started with conf/supervisord.conf, driven
    through its XML-RPC interface on the unix socket (supervisorctl's own
    transport), so that a status or a start costs no process."""

    def __init__(self, ports):
        self.env = environment(ports)
        self.rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(
            None, None, "unix://" + self.env["SUPERVISOR_SOCK"])).supervisor

    def ctl(self, *args):
        """supervisorctl, for the user (`stack.py ctl ...`)."""
        return subprocess.run(["supervisorctl", "-c", str(CONF)] + list(args), env=self.env)

    def call(self, method, *args):
        try:
            return getattr(self.rpc, method)(*args)
        except xmlrpc.client.Fault as e:
            die("supervisord: %s%s: %s" % (method, args, e.faultString))

    def pid(self):
        """supervisord's pid, or None when it does not run."""
        try:
            pid = int((RUN / "supervisord.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def answers(self):
        try:
            return self.rpc.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def start(self):
        if self.pid():
            return
        # supervisord refuses to start when a log file's directory is missing.
        for d in ["redis", "nginx", "alertmanager", "prometheus"] + APPS:
            (RUN / d).mkdir(parents=True, exist_ok=True)
        log("starting supervisord (conf/supervisord.conf, log %s)" % (RUN / "supervisord.log"))
        # The instances' API key mode is supervisord's environment's.
        (RUN / "keys_required").write_text(self.env["API_KEYS_REQUIRED"] + "\n")
        run(["supervisord", "-c", CONF], env=self.env, cwd=RUN)
        deadline = time.time() + 10
        while not self.answers():
            if time.time() > deadline:
                die("supervisord does not answer (log: %s)" % (RUN / "supervisord.log"))
            time.sleep(0.1)

    def states(self):
        """{program: (STATE, pid or None, description)}."""
        if not self.pid() or not self.answers():
            return {}
        return {p["name"]: (p["statename"], p["pid"] or None, p["description"])
                for p in self.call("getAllProcessInfo")}

    def running(self, name):
        return self.states().get(name, ("",))[0] in ("RUNNING", "STARTING")

    def settle(self, names):
        """Until NAMES have run their startsecs (RUNNING): what supervisorctl
        shows, and the proof that they did not die right after answering."""
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            states = self.states()
            if all(states.get(n, ("",))[0] == "RUNNING" for n in names):
                return
            time.sleep(0.1)
        die("not RUNNING after %ds: %s" % (START_TIMEOUT, ", ".join(
            "%s %s" % (n, self.states().get(n, ("?",))[0]) for n in names)))

    def program_pid(self, name):
        return self.states().get(name, (None, None))[1]

    def start_program(self, name, wait=True):
        """Start NAME; with WAIT, until it has run startsecs (RUNNING)."""
        try:
            self.rpc.startProcess(name, wait)
        except xmlrpc.client.Fault as e:
            if "ALREADY_STARTED" not in e.faultString:
                die("supervisord: cannot start %s: %s" % (name, e.faultString))

    def stop_program(self, name):
        """Stop NAME (its whole process group) and wait until it is gone."""
        try:
            self.rpc.stopProcess(name, True)
        except xmlrpc.client.Fault as e:
            if "NOT_RUNNING" not in e.faultString:
                die("supervisord: cannot stop %s: %s" % (name, e.faultString))


# ---- readiness ---------------------------------------------------------------

def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def port_in_use(port):
    import socket
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def ready(sv, name, ports):
    port = ports[PORT_OF[name]]
    if name == "postgres":
        return run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-d", "postgres",
                    "-U", "postgres", "-t", "1"], check=False).returncode == 0
    if name == "redis":
        return run(["timeout", "2", "redis-cli", "-h", "127.0.0.1", "-p", port, "ping"],
                   check=False, capture_output=True).stdout.strip() == "PONG"
    return http_status("http://127.0.0.1:%d%s" % (port, READY_PATH[name])) == 200


def wait_ready(sv, name, ports):
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        if ready(sv, name, ports):
            return
        state = sv.states().get(name, ("?",))[0]
        if state in ("FATAL", "EXITED", "STOPPED"):
            break
        time.sleep(0.1)
    for f in logs_of(name):
        if f.exists():
            log("---- %s:" % f)
            sys.stderr.write("".join(f.read_text(errors="replace").splitlines(True)[-20:]))
    die("%s did not become ready on 127.0.0.1:%d (state %s)" % (
        name, ports[PORT_OF[name]], sv.states().get(name, ("?",))[0]))


# ---- services ------------------------------------------------------------------

def prepare(name, ports, env):
    """What a service needs before supervisord starts it."""
    if name == "postgres":
        env_pg = dict(env, PG_FAST=os.environ.get("PG_FAST", "0"))
        run([SCRIPTS / "pg.sh", "init", env["PG_DIR"], ports["PG_PORT"]], env=env_pg)
    elif name == "redis":
        (RUN / "redis").mkdir(parents=True, exist_ok=True)
    elif name in APPS:
        d = RUN / name
        d.mkdir(parents=True, exist_ok=True)
        run([SCRIPTS / "app.sh", "conf", ports[PORT_OF[name]], d], env=dict(env, FLAVOR="prod"))
    elif name == "nginx":
        (RUN / "nginx" / "tmp").mkdir(parents=True, exist_ok=True)
        render_nginx(ports)
    elif name == "alertmanager":
        (RUN / "alertmanager" / "data").mkdir(parents=True, exist_ok=True)
        run([SCRIPTS / "alertmanager-config.sh", RUN / "alertmanager" / "alertmanager.yml"], env=env)
    elif name == "prometheus":
        (RUN / "prometheus" / "data").mkdir(parents=True, exist_ok=True)
        run([SCRIPTS / "prometheus-config.sh", RUN / "prometheus"]
            + ["%s:8080=127.0.0.1:%d" % (a, ports[PORT_OF[a]]) for a in APPS]
            + ["alertmanager:9093=127.0.0.1:%d" % ports["ALERTMANAGER_PORT"],
               "localhost:9090=127.0.0.1:%d" % ports["PROMETHEUS_PORT"]],
            env=env, stdout=subprocess.DEVNULL)


def after_start(name, ports, env):
    """What a service needs once it answers."""
    if name != "postgres":
        return
    run([SCRIPTS / "pg.sh", "createdb", env["PG_DIR"], ports["PG_PORT"]], env=env)
    run([SCRIPTS / "migrate.sh"], env=env)
    seed_if_empty(env)
    admin_key_bootstrap(env)


def seed_if_empty(env):
    """The generated sample (tools/seedgen: 400 users, 2 000 URLs, the shape
    of the hackathon's seed); never over existing data."""
    n = run(["psql", env["DATABASE_URL"], "-X", "-tAc", "SELECT count(*) FROM users"],
            env=env, capture_output=True).stdout.strip()
    if n != "0":
        log("database holds %s users: not seeding" % n)
        return
    seed = RUN / "seed"
    run(["make", "-C", REPO, "--no-print-directory", "-s", "seed"])
    run([REPO / "tools" / "seedgen", "--out", seed], stdout=subprocess.DEVNULL)
    run([SCRIPTS / "seed-load.sh", seed], env=env)


def logs_of(name):
    if name == "postgres":
        return [RUN / "postgres.log"]
    if name in APPS:
        return [RUN / name / "app.log"]
    if name == "nginx":
        return [RUN / "nginx" / "access.log", RUN / "nginx" / "error.log"]
    return [RUN / name / ("%s.log" % name)]


# ---- nginx --------------------------------------------------------------------

def render_nginx(ports, drained=None):
    """run/nginx/nginx.conf from the repository's nginx.conf (scripts/
    nginx_conf.py: the pid file and access log into run/nginx, the listen
    address onto loopback, app1..app3 onto their ports, DRAINED down, the
    limits from the environment), checked by nginx -t before it replaces
    the running one."""
    d = RUN / "nginx"
    local = dict((a, ports[PORT_OF[a]]) for a in APPS)
    local["listen"] = ports["NGINX_PORT"]
    try:
        text = nginx_conf.render((REPO / "nginx.conf").read_text(), os.environ, drained,
                                 nginx_conf.local_rules(d, local))
    except nginx_conf.RenderError as e:
        die("nginx.conf: %s" % e)
    tmp = d / "nginx.conf.tmp"
    tmp.write_text(text)
    if run(["nginx", "-t", "-q", "-p", "%s/" % d, "-c", tmp, "-e", d / "error.log"],
           check=False).returncode != 0:
        die("nginx -t refused %s" % tmp)
    tmp.replace(d / "nginx.conf")


def nginx_workers():
    try:
        master = int((RUN / "nginx" / "nginx.pid").read_text())
    except (OSError, ValueError):
        return []
    out = run(["ps", "-o", "pid=", "--ppid", master], check=False, capture_output=True).stdout
    return [int(p) for p in out.split()]


def alive(pid):
    """Running and not a zombie."""
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def nginx_reload(ports, drained=None):
    """Render, reload, and wait until every worker of the old configuration
    has exited: old workers finish what they hold and close their upstream
    keepalive connections first, so afterwards a drained instance has no
    request from nginx left."""
    d = RUN / "nginx"
    render_nginx(ports, drained)
    old = nginx_workers()
    run(["nginx", "-p", "%s/" % d, "-c", d / "nginx.conf", "-e", d / "error.log", "-s", "reload"])
    deadline = time.time() + 30
    for pid in old:
        while alive(pid):
            if time.time() > deadline:
                die("nginx worker %d still busy after 30 s" % pid)
            time.sleep(0.05)


# ---- the app instances --------------------------------------------------------

def kore_processes(rundir):
    """Kore processes working in RUNDIR: an instance's parent and workers."""
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            if os.readlink(p / "cwd") == str(rundir) and (p / "comm").read_text().strip() == "kore":
                out.append(int(p.name))
        except OSError:
            continue
    return [pid for pid in out if alive(pid)]


def cmd_instance(rundir):
    """supervisord's command for an app: a SIGKILLed Kore 4.1 parent leaves
    its workers running, orphaned, still serving and holding the port (each
    worker inherited the parent's ends of its siblings' message sockets, so
    none of them sees the parent go), and a new Kore could not bind. Before
    Kore starts, whatever Kore process still works in this instance's
    directory gets SIGTERM (a worker then flushes its click queue and
    exits), SIGKILL if it is still there 5 s later. Then exec Kore."""
    rundir = Path(rundir).resolve()
    os.chdir(rundir)
    orphans = kore_processes(rundir)
    if orphans:
        print("stack: orphaned workers of the dead parent still hold the port: SIGTERM to %s"
              % " ".join(map(str, orphans)), flush=True)
        for pid in orphans:
            os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 5
        while time.time() < deadline and any(alive(p) for p in orphans):
            time.sleep(0.02)
        for pid in orphans:
            if alive(pid):
                print("stack: worker %d still there after 5 s: SIGKILL" % pid, flush=True)
                os.kill(pid, signal.SIGKILL)
    # -f foreground (supervisord keeps the pid), -n no chroot, -r keep the user.
    os.execvp("kore", ["kore", "-f", "-n", "-r", "-c", str(rundir / "shortener.conf")])


def start_time(pid):
    """When PID started, in epoch seconds."""
    ticks = int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[19])
    btime = next(int(l.split()[1]) for l in Path("/proc/stat").read_text().splitlines()
                 if l.startswith("btime"))
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def restart_instance(sv, ports, app):
    """Out of nginx, stop, start (with the current module), back in once its
    /health answers. Kore 4.1 drops the requests a worker holds on SIGTERM
    unless the module's teardown drains them; draining through nginx first
    keeps new requests away while it stops."""
    if not sv.running(app):
        die("%s is not running (make up)" % app)
    others = [a for a in APPS if a != app and
              http_status("http://127.0.0.1:%d/health" % ports[PORT_OF[a]]) == 200]
    if not others:
        die("no other instance is healthy: restarting %s would drop traffic" % app)
    old = sv.program_pid(app)
    nginx_up = sv.running("nginx")
    if nginx_up:
        nginx_reload(ports, app)
    sv.stop_program(app)
    # Not waiting for supervisord's startsecs: readiness is /health.
    sv.start_program(app, wait=False)
    wait_ready(sv, app, ports)
    if nginx_up:
        nginx_reload(ports)
    log("%s restarted (kore pid %s -> %s)" % (app, old, sv.program_pid(app)))


def restart_stale(sv, ports):
    """Instances running an older module than the build: rolled, not stopped."""
    rolled = []
    for app in APPS:
        pid = sv.program_pid(app)
        if pid and MODULE.exists() and MODULE.stat().st_mtime > start_time(pid):
            log("module rebuilt: rolling restart of %s" % app)
            restart_instance(sv, ports, app)
            rolled.append(app)
    sv.settle(rolled)


# ---- the layout before supervisord ------------------------------------------

def legacy_down():
    """A stack started by the shell scripts before supervisord (pid files,
    a bash supervisor per instance, pg_ctl) is stopped first: its
    processes hold the ports."""
    files = [RUN / a / "supervisor.pid" for a in APPS] + [RUN / a / "app.pid" for a in APPS] + [
        RUN / "app" / "app.pid", RUN / "nginx" / "nginx.pid", RUN / "redis" / "redis.pid",
        RUN / "alertmanager" / "alertmanager.pid", RUN / "prometheus" / "prometheus.pid"]
    pids = []
    for f in files:
        try:
            pid = int(f.read_text())
        except (OSError, ValueError):
            continue
        if alive(pid):
            pids.append(pid)
    pg = RUN / "pg"
    if not pids and not (pg / "postmaster.pid").exists():
        return
    log("stopping the stack of the earlier layout (pid files in %s)" % RUN)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 30
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    for f in files:
        f.unlink(missing_ok=True)
    if pg.exists():
        run([SCRIPTS / "pg.sh", "stop", pg.resolve(), "0"], check=False)


# ---- commands -------------------------------------------------------------------

def banner(ports):
    base = "http://127.0.0.1:%d" % ports["NGINX_PORT"]
    mode = "open: API keys not required (make down, then API_KEYS_REQUIRED=1 make up for keys)"
    key = ""
    if keys_running() == "1":
        mode = "API keys required; the admin key is in %s" % (RUN / "admin.key")
        key = " -H 'X-Api-Key: %s'" % (RUN / "admin.key").read_text().strip()
    print("""
The shortener runs at %(base)s (nginx in front of 3 instances, under supervisord)
Mode:         %(mode)s

  Open %(base)s/ in a browser: create, manage and study links
  API reference: %(base)s/docs (OpenAPI document: %(base)s/openapi.json)

  curl -s %(base)s/health
  curl -s%(key)s '%(base)s/users?per_page=3'
  curl -s -X POST %(base)s/urls%(key)s -H 'Content-Type: application/json' \\
      -d '{"user_id": 1, "original_url": "https://example.com/hello"}'
  curl -si %(base)s/<short_code>          # 302 to the original URL

Instances:    127.0.0.1:%(a1)d, :%(a2)d, :%(a3)d (GET /metrics on each)
Prometheus:   http://127.0.0.1:%(prom)d    Alertmanager: http://127.0.0.1:%(am)d
Grafana:      only in the container topology (make compose-up; no Debian package)
Database:     psql '%(db)s'
Keys:         DATABASE_URL='%(db)s' scripts/apikey.py create|list|revoke
Status: make status   Logs: make logs   Rolling restart: scripts/stack.sh restart   Stop: make down
""" % dict(base=base, a1=ports["APP1_PORT"], a2=ports["APP2_PORT"], a3=ports["APP3_PORT"],
           prom=ports["PROMETHEUS_PORT"], am=ports["ALERTMANAGER_PORT"], db=pg_url(ports["PG_PORT"]),
           mode=mode, key=key))


def cmd_up(ports):
    run([SCRIPTS / "deps.sh"])
    run([SCRIPTS / "build.sh", "prod"])
    RUN.mkdir(parents=True, exist_ok=True)
    sv = Supervisor(ports)
    if not sv.pid():
        legacy_down()
    states = sv.states()
    todo = [s for s in SERVICES if states.get(s, ("",))[0] != "RUNNING"]
    # Every port of a service that is not running yet must be free,
    # checked before anything starts.
    for s in todo:
        port = ports[PORT_OF[s]]
        if port_in_use(port):
            die("port %d is already in use: cannot start %s on 127.0.0.1:%d (set %s to another port)"
                % (port, s, port, PORT_OF[s]))
    sv.start()
    for s in SERVICES:
        if s not in todo:
            log("%s already running on 127.0.0.1:%d" % (s, ports[PORT_OF[s]]))
            if s == "postgres":
                after_start(s, ports, sv.env)
            continue
        prepare(s, ports, sv.env)
        sv.start_program(s, wait=False)
        wait_ready(sv, s, ports)
        after_start(s, ports, sv.env)
        log("%s up on 127.0.0.1:%d (pid %s)" % (s, ports[PORT_OF[s]], sv.program_pid(s)))
    sv.settle(SERVICES)
    # Only ports that worked are remembered for status/down/next up.
    save_ports(ports)
    restart_stale(sv, ports)
    banner(ports)


def cmd_down(ports):
    sv = Supervisor(ports)
    pid = sv.pid()
    if pid:
        sv.call("shutdown")
        deadline = time.time() + 120
        while alive(pid):
            if time.time() > deadline:
                die("supervisord (pid %d) still runs after 120 s" % pid)
            time.sleep(0.1)
    legacy_down()
    # The next up chooses the API key mode afresh (run/admin.key stays).
    (RUN / "keys_required").unlink(missing_ok=True)
    log("stopped (data kept in %s; remove it for a fresh start)" % RUN)


def uptime(desc):
    m = re.search(r"uptime (\S+)", desc)
    return ", up " + m.group(1) if m else ""


def cmd_status(ports):
    sv = Supervisor(ports)
    states = sv.states()
    rc = 0
    for s in SERVICES:
        state, pid, desc = states.get(s, ("STOPPED", None, ""))
        addr = "127.0.0.1:%d" % ports[PORT_OF[s]]
        ok = state == "RUNNING" and ready(sv, s, ports)
        detail = ""
        if state == "RUNNING":
            detail = "pid %d%s" % (pid, uptime(desc))
            if s in READY_PATH:
                detail += ", %s %s" % (READY_PATH[s], http_status("http://%s%s" % (addr, READY_PATH[s])))
        else:
            detail = state.lower()
        print("%-13s %-5s %-22s %s" % (s, "up" if ok else "down", addr, detail))
        rc |= 0 if ok else 1
    print("%-13s %-5s %-22s %s" % ("grafana", "-", "-", "only in the container topology (make compose-up)"))
    if sv.pid():
        print("%-13s %-5s %-22s %s" % ("supervisord", "up", "-", "pid %d, log %s" % (sv.pid(), RUN / "supervisord.log")))
    else:
        print("%-13s %-5s %-22s %s" % ("supervisord", "down", "-", ""))
        rc = 1
    return rc


def cmd_logs(follow):
    files = [f for s in SERVICES for f in logs_of(s) if f.exists()]
    if (RUN / "supervisord.log").exists():
        files.append(RUN / "supervisord.log")
    if not files:
        log("no logs yet")
        return 0
    argv = ["tail", "-n", "20"] + (["-F"] if follow else []) + [str(f) for f in files]
    os.execvp("tail", argv)


def main():
    args = sys.argv[1:]
    cmd = args[0] if args else ""
    if cmd == "instance" and len(args) == 2:
        return cmd_instance(args[1])
    ports = load_ports()
    if cmd == "up":
        cmd_up(ports)
    elif cmd == "down":
        cmd_down(ports)
    elif cmd == "status":
        return cmd_status(ports)
    elif cmd == "logs":
        return cmd_logs(args[1:2] == ["-f"])
    elif cmd == "restart":
        sv = Supervisor(ports)
        for app in APPS:
            restart_instance(sv, ports, app)
        sv.settle(APPS)
    elif cmd == "ctl":
        return Supervisor(ports).ctl(*args[1:]).returncode
    else:
        print("usage: %s up|down|status|logs [-f]|restart|ctl ARGS" % sys.argv[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
