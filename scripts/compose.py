#!/usr/bin/python3
"""compose.py: the container topology (docker-compose.yml) on this machine.

  up          `make compose-up`: find or start a Docker engine, write .env
              when there is none, make sure every image can be had (the
              base pulled or made, the project's built, Grafana pulled or
              skipped with the reason), `up -d`, wait until every service is
              healthy and db-init has exited 0, print the addresses
  down [-v]   `make compose-down`: `down` (-v: and the volumes); stops the
              engine too when this script started it and nothing else runs
  status      one line per service: state, health, published address
  logs [SVC]  the tail of the logs (docker-compose logs --tail=20)
  roll        rolling update of app1..app3: build, then one at a time: drain
              it in nginx, recreate it, wait until healthy, put it back
  build       build the project's images (cached layers are reused)
  env         `make env`: .env from .env.example with random secrets and an
              admin API key; an existing .env only gets an ADMIN_API_KEY
              when it has none
  base-image  make sure debian:bookworm-slim exists: pulled, or made here
  engine start|stop|status|env
              the engine alone; `env` prints the DOCKER_HOST to export
  dc ARGS...  run docker-compose with this script's settings (project,
              env file, engine), e.g. `scripts/compose.py dc ps`

The engine. An engine that answers is used as it is: DOCKER_HOST when set,
else the system's (/var/run/docker.sock), else the one this script runs. When
none answers (and DOCKER_HOST is unset), this script installs Debian's
docker.io and debootstrap (scripts/deps.sh --docker) and starts dockerd as
docs/deploy.md describes: its own data root, exec root, socket and pid file
under SHORTENER_DOCKER_DIR (/var/lib/shortener-docker; images stay cached
there between runs), no iptables, no default bridge (compose's networks work
without them). Starting one needs root.

Images (docs/decisions.md, "Container images"): every service but Grafana is
built from debian:bookworm-slim with Debian 12's packages. When that base is
neither present nor pullable (no registry reachable), it is made here with
debootstrap from the machine's own Debian mirror and `docker import`ed under
the same name. Grafana's upstream image is pulled; where that fails, the
rest comes up and Grafana is reported as skipped, with the reason.

Settings: the environment wins over the env file (SHORTENER_ENV_FILE, by
default .env in the repository; written from .env.example with fresh random
secrets and an ADMIN_API_KEY when missing, given an ADMIN_API_KEY when it
has none); the compose project is COMPOSE_PROJECT_NAME (from
either; `shortener` by default). Ports default to docker-compose.yml's (the
same as `make up`'s); nginx is published on NGINX_BIND, which this script
sets to 127.0.0.1 unless given (docker-compose.yml's own default is 0.0.0.0).
A published port that is already taken stops `up` before anything starts,
naming it. nginx terminates TLS (NGINX_TLS_PORT, 8443) with the pair in
TLS_DIR (run/tls), self-signed by scripts/tls-cert.sh when none is there;
PUBLIC_BASE_URL defaults to that HTTPS address.

Python standard library and python3-yaml only; docker and docker-compose (or
`docker compose`, COMPOSE="docker compose") are run as commands.
"""

import argparse
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apikey  # noqa: E402  scripts/apikey.py: the key's shape

REPO = Path(__file__).resolve().parent.parent
DOCKER_DIR = Path(os.environ.get("SHORTENER_DOCKER_DIR", "/var/lib/shortener-docker"))
SYSTEM_SOCKET = "/var/run/docker.sock"
BASE_IMAGE = "debian:bookworm-slim"
SUITE = "bookworm"
# One-shot services: done when exited 0, never "running".
ONE_SHOT = {"db-init"}
UP_TIMEOUT = int(os.environ.get("COMPOSE_UP_TIMEOUT", "300"))


def log(msg):
    print("compose: %s" % msg, file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)


def run(cmd, check=True, capture=False, timeout=None, env=None, **kw):
    """subprocess.run with text I/O; capture=True returns stdout."""
    try:
        p = subprocess.run(cmd, check=False, text=True, timeout=timeout, env=env,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None, **kw)
    except subprocess.TimeoutExpired:
        if check:
            die("timed out after %ss: %s" % (timeout, shlex.join(map(str, cmd))))
        return None
    if check and p.returncode != 0:
        err = (p.stderr or "").strip() if capture else ""
        die("%s exited %d%s" % (shlex.join(map(str, cmd)), p.returncode,
                                (": " + err[-2000:]) if err else ""))
    return p


# ---- the engine ---------------------------------------------------------

def own_socket():
    return "unix://%s" % (DOCKER_DIR / "docker.sock")


def answers(host):
    if not shutil.which("docker"):
        return False
    p = run(["docker", "-H", host, "version", "--format", "{{.Server.Version}}"],
            check=False, capture=True, timeout=15)
    return p is not None and p.returncode == 0


def find_engine():
    """The DOCKER_HOST of an engine that answers, or None."""
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        return explicit if answers(explicit) else None
    for host in ("unix://" + SYSTEM_SOCKET, own_socket()):
        if os.path.exists(host[len("unix://"):]) and answers(host):
            return host
    return None


def dockerd_pid():
    try:
        pid = int((DOCKER_DIR / "dockerd.pid").read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start_engine():
    """dockerd with everything under DOCKER_DIR; returns its DOCKER_HOST."""
    if os.geteuid() != 0:
        die("no Docker engine answers, and starting one needs root")
    run([str(REPO / "scripts/deps.sh"), "--docker"])
    if not shutil.which("dockerd"):
        die("dockerd not found after installing docker.io")
    DOCKER_DIR.mkdir(parents=True, exist_ok=True)
    if dockerd_pid():
        die("dockerd (pid %d, %s) runs but does not answer; see %s"
            % (dockerd_pid(), DOCKER_DIR, DOCKER_DIR / "dockerd.log"))
    host = own_socket()
    cmd = ["dockerd", "--iptables=false", "--ip-masq=false", "--bridge=none",
           "--data-root", str(DOCKER_DIR / "root"), "--exec-root", str(DOCKER_DIR / "exec"),
           "--pidfile", str(DOCKER_DIR / "dockerd.pid"), "-H", host]
    log("starting dockerd (%s; log %s)" % (DOCKER_DIR, DOCKER_DIR / "dockerd.log"))
    with open(DOCKER_DIR / "dockerd.log", "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd="/", start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = (DOCKER_DIR / "dockerd.log").read_text(errors="replace")[-1500:]
            die("dockerd exited with status %d:\n%s" % (proc.returncode, tail))
        if answers(host):
            (DOCKER_DIR / "started-by-compose.py").write_text("%d\n" % proc.pid)
            return host
        time.sleep(0.3)
    die("dockerd did not answer within 60 s (log: %s)" % (DOCKER_DIR / "dockerd.log"))


def ensure_engine():
    """(DOCKER_HOST, started): an engine that answers, started if need be."""
    host = find_engine()
    if host:
        return host, False
    if os.environ.get("DOCKER_HOST"):
        die("DOCKER_HOST=%s does not answer" % os.environ["DOCKER_HOST"])
    return start_engine(), True


def managed(host):
    """True for the engine this script started (and may stop)."""
    return host == own_socket() and (DOCKER_DIR / "started-by-compose.py").exists()


def stop_engine():
    pid = dockerd_pid()
    if not pid:
        (DOCKER_DIR / "started-by-compose.py").unlink(missing_ok=True)
        return
    log("stopping dockerd (pid %d)" % pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 60
    while time.time() < deadline and dockerd_pid():
        time.sleep(0.2)
    if dockerd_pid():
        log("dockerd still runs after 60 s: SIGKILL")
        os.kill(pid, signal.SIGKILL)
    (DOCKER_DIR / "started-by-compose.py").unlink(missing_ok=True)


def socket_path(host):
    """The engine's socket as a path on this host, for the autoheal mount."""
    return host[len("unix://"):] if host.startswith("unix://") else SYSTEM_SOCKET


# ---- images ---------------------------------------------------------------

def docker(host, *args, **kw):
    return run(["docker", "-H", host] + list(args), **kw)


def image_exists(host, ref):
    return docker(host, "image", "inspect", ref, check=False, capture=True).returncode == 0


def pull(host, ref):
    """None when pulled, else the reason it could not be."""
    log("pulling %s" % ref)
    p = docker(host, "pull", ref, check=False, capture=True, timeout=900)
    if p is None:
        return "docker pull %s timed out" % ref
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or ["docker pull failed"])[-1]
    return None


def apt_mirrors():
    """(main mirror, security mirror) of the machine's Debian sources."""
    main, security = None, None
    files = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        entries = []
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
                if "deb" in fields.get("Types", "").split():
                    for uri in fields.get("URIs", "").split():
                        entries += [(uri, s) for s in fields.get("Suites", "").split()]
        else:
            for m in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
                entries.append((m.group(1), m.group(2)))
        for uri, suite in entries:
            if suite == SUITE and not main:
                main = uri
            elif suite == SUITE + "-security" and not security:
                security = uri
    return (main or "http://deb.debian.org/debian",
            security or "http://deb.debian.org/debian-security")


# Files that make a debootstrapped tree look like Docker's debian:*-slim:
# no docs, man pages or translations installed, apt caches cleaned.
SLIM_FILES = {
    "etc/dpkg/dpkg.cfg.d/docker": (
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n"
        "path-exclude /usr/share/man/*\npath-exclude /usr/share/groff/*\n"
        "path-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n"
        "path-exclude /usr/share/lintian/*\npath-exclude /usr/share/linda/*\n"),
    "etc/apt/apt.conf.d/docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n'),
    "etc/apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
    "etc/apt/apt.conf.d/docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}


def make_base_image(host):
    """debian:bookworm-slim from debootstrap --variant=minbase."""
    run([str(REPO / "scripts/deps.sh"), "--docker"])
    main, security = apt_mirrors()
    t0 = time.time()
    DOCKER_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DOCKER_DIR, prefix="rootfs.") as tmp:
        root = Path(tmp) / "rootfs"
        log("making %s: debootstrap --variant=minbase %s from %s" % (BASE_IMAGE, SUITE, main))
        p = run(["debootstrap", "--variant=minbase", SUITE, str(root), main],
                check=False, capture=True)
        if p.returncode != 0:
            die("debootstrap failed:\n%s" % (p.stdout + p.stderr)[-2000:])
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        (root / "etc/apt/sources.list.d/debian.sources").write_text(
            "Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            "Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            % (main, SUITE, SUITE, security, SUITE))
        for rel, text in SLIM_FILES.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        for pattern in ("var/lib/apt/lists/*", "var/cache/apt/*.bin",
                        "var/cache/apt/archives/*.deb", "usr/share/doc/*",
                        "usr/share/man/*", "usr/share/locale/*", "usr/share/info/*",
                        "var/log/*.log", "var/log/apt/*"):
            for path in root.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.name != "copyright":
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                               stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "-H", host, "import", "-c", 'CMD ["bash"]', "-",
                              BASE_IMAGE], stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        if tar.wait() != 0 or imp.returncode != 0:
            die("docker import failed: %s" % imp.stderr.strip())
    log("made %s in %.0f s" % (BASE_IMAGE, time.time() - t0))


def ensure_base_image(host):
    if image_exists(host, BASE_IMAGE):
        return "present"
    reason = pull(host, BASE_IMAGE)
    if reason is None:
        return "pulled"
    log("cannot pull %s (%s): making it locally" % (BASE_IMAGE, reason))
    make_base_image(host)
    return "made locally (debootstrap)"


# ---- settings and docker-compose ------------------------------------------

def read_env_file(path):
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip()
    return values


def write_env_file(path):
    """.env from .env.example, every change-me replaced by a random secret
    and an empty ADMIN_API_KEY by a new key (scripts/apikey.py's shape)."""
    text = (REPO / ".env.example").read_text()
    text = re.sub(r"change-me", lambda _: secrets.token_urlsafe(18), text)
    text = re.sub(r"(?m)^ADMIN_API_KEY=$", lambda _: "ADMIN_API_KEY=" + apikey.generate(), text)
    old = os.umask(0o077)
    try:
        path.write_text(text)
    finally:
        os.umask(old)
    log("wrote %s (from .env.example, with random secrets and an admin API key)" % path)


def ensure_admin_key(path):
    """An .env written before API keys (or with ADMIN_API_KEY emptied) gets
    a new admin key; one that is there is kept (docs/security.md)."""
    if apikey.KEY_RE.match(read_env_file(path).get("ADMIN_API_KEY", "")):
        return
    lines = [l for l in path.read_text().splitlines() if not l.startswith("ADMIN_API_KEY=")]
    lines.append("ADMIN_API_KEY=" + apikey.generate())
    path.write_text("\n".join(lines) + "\n")
    log("%s: a new ADMIN_API_KEY (db-init stores its hash)" % path)


def ensure_tls(env):
    """TLS_DIR (run/tls by default) with a certificate and key for nginx:
    scripts/tls-cert.sh's self-signed pair where there is none."""
    d = Path(env.get("TLS_DIR") or REPO / "run" / "tls")
    if not d.is_absolute():
        d = REPO / d
    env["TLS_DIR"] = str(d)
    if not ((d / "cert.pem").exists() and (d / "key.pem").exists()):
        run([str(REPO / "scripts" / "tls-cert.sh"), str(d)])


def git_info():
    def git(*a):
        p = run(["git", "-C", str(REPO)] + list(a), check=False, capture=True)
        return p.stdout.strip() if p and p.returncode == 0 else ""
    return git("describe", "--tags", "--always") or "unknown", git("rev-parse", "HEAD") or "unknown"


class Compose:
    """docker-compose with this project's settings."""

    def __init__(self, host, create_env=True):
        self.host = host
        self.env_file = Path(os.environ.get("SHORTENER_ENV_FILE", REPO / ".env"))
        if not self.env_file.exists():
            if not create_env:
                die("%s missing" % self.env_file)
            write_env_file(self.env_file)
        elif create_env:
            ensure_admin_key(self.env_file)
        # The environment wins, then what the last `up` took from the
        # environment (so that `roll` recreates an instance on the ports it
        # had), then the file.
        self.env = dict(os.environ)
        self.project = self.env.get("COMPOSE_PROJECT_NAME") or read_env_file(
            self.env_file).get("COMPOSE_PROJECT_NAME") or "shortener"
        self.state = REPO / ".build" / "compose" / (self.project + ".env")
        for src in (read_env_file(self.state), read_env_file(self.env_file)):
            for k, v in src.items():
                self.env.setdefault(k, v)
        self.env["DOCKER_HOST"] = host
        self.env.setdefault("DOCKER_SOCKET", socket_path(host))
        self.env.setdefault("NGINX_BIND", "127.0.0.1")
        # short_url names nginx's HTTPS address as this machine reaches it.
        self.env.setdefault("PUBLIC_BASE_URL", "https://127.0.0.1:%s"
                            % self.env.get("NGINX_TLS_PORT", "8443"))
        version, commit = git_info()
        self.env.setdefault("SHORTENER_VERSION", version)
        self.env.setdefault("SHORTENER_COMMIT", commit)
        self.cmd = shlex.split(os.environ.get("COMPOSE", "")) or (
            ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"])
        self._config = None

    def pick_network(self):
        """NETWORK_PREFIX, unless set: the subnet of the project's network
        when it exists, else the first /24 from 172.31.254 down that no
        network of the engine overlaps."""
        if self.env.get("NETWORK_PREFIX"):
            return
        nets = docker(self.host, "network", "ls", "-q", capture=True).stdout.split()
        used = {}
        for n in json.loads(docker(self.host, "network", "inspect", *nets, capture=True).stdout):
            for c in (n.get("IPAM") or {}).get("Config") or []:
                if c.get("Subnet") and ":" not in c["Subnet"]:
                    used[n["Name"]] = ipaddress.ip_network(c["Subnet"], strict=False)
        mine = used.get("%s_default" % self.project)
        if mine:
            self.env["NETWORK_PREFIX"] = str(mine.network_address).rsplit(".", 1)[0]
            return
        for third in range(254, 0, -1):
            cand = ipaddress.ip_network("172.31.%d.0/24" % third)
            if not any(cand.overlaps(u) for u in used.values()):
                self.env["NETWORK_PREFIX"] = "172.31.%d" % third
                return
        die("no free /24 in 172.31.0.0/16 for the project network: set NETWORK_PREFIX")

    def save_state(self):
        """Remember what this `up` took from the environment (ports, bind
        address) and the network it picked; what .env says stays .env's."""
        file_values = read_env_file(self.env_file)
        keys = sorted(k for k in self.env if (k.endswith("_PORT") or k in ("NGINX_BIND", "TLS_DIR"))
                      and k in os.environ)
        if "NETWORK_PREFIX" not in os.environ and "NETWORK_PREFIX" not in file_values:
            keys.append("NETWORK_PREFIX")
        self.state.parent.mkdir(parents=True, exist_ok=True)
        self.state.write_text("".join("%s=%s\n" % (k, self.env[k]) for k in keys))

    def forget_state(self):
        self.state.unlink(missing_ok=True)

    def argv(self, args):
        return self.cmd + ["--env-file", str(self.env_file), "-p", self.project,
                           "-f", str(REPO / "docker-compose.yml")] + list(args)

    def __call__(self, *args, **kw):
        return run(self.argv(args), env=self.env, **kw)

    def config(self):
        """The resolved file (docker-compose config), as a dict."""
        if self._config is None:
            self._config = yaml.safe_load(self("config", capture=True).stdout)
        return self._config

    def services(self):
        return self.config()["services"]

    def published(self):
        """{service: [(host ip, host port)]} of every published port."""
        out = {}
        for name, svc in self.services().items():
            for p in svc.get("ports", []):
                if isinstance(p, dict):   # docker compose v2: long syntax
                    out.setdefault(name, []).append((p.get("host_ip", "0.0.0.0"), int(p["published"])))
                    continue
                parts = str(p).split("/")[0].split(":")
                ip = parts[0] if len(parts) == 3 else "0.0.0.0"
                out.setdefault(name, []).append((ip, int(parts[-2])))
        return out

    def containers(self):
        """{service: inspect dict} of this project's containers."""
        ids = docker(self.host, "ps", "-aq", "--filter",
                     "label=com.docker.compose.project=%s" % self.project,
                     capture=True).stdout.split()
        if not ids:
            return {}
        out = {}
        for c in json.loads(docker(self.host, "inspect", *ids, capture=True).stdout):
            out[c["Config"]["Labels"].get("com.docker.compose.service", c["Name"])] = c
        return out


def state_of(c):
    """'healthy', 'running', 'exited N', 'starting', 'unhealthy', ..."""
    st = c["State"]
    if st.get("Restarting"):
        return "restarting"
    if st.get("Paused"):
        return "paused"
    if not st.get("Running"):
        return "exited %d" % st.get("ExitCode", -1)
    health = st.get("Health")
    return health["Status"] if health else "running"


def ready(name, c):
    s = state_of(c)
    if name in ONE_SHOT:
        return s == "exited 0"
    return s in ("healthy", "running")


def port_in_use(ip, port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1" if ip in ("0.0.0.0", "") else ip, port)) == 0


def preflight(dc, services):
    """Every port a stopped service will publish must be free."""
    running = {n for n, c in dc.containers().items() if c["State"].get("Running")}
    names = {v: k for k, v in dc.env.items() if k.endswith("_PORT")}
    for svc, ports in dc.published().items():
        if svc not in services or svc in running:
            continue
        for ip, port in ports:
            if port_in_use(ip, port):
                var = names.get(str(port), "its *_PORT variable")
                die("port %d is already in use: cannot publish %s on %s:%d (set %s to another port)"
                    % (port, svc, ip, port, var))


def wait_healthy(dc, services, timeout=UP_TIMEOUT):
    deadline = time.time() + timeout
    while True:
        cs = dc.containers()
        missing = [s for s in services if s not in cs]
        pending = {s: state_of(cs[s]) for s in services if s in cs and not ready(s, cs[s])}
        if not missing and not pending:
            return
        failed = {s: st for s, st in pending.items()
                  if s in ONE_SHOT and st.startswith("exited") and st != "exited 0"}
        if failed or time.time() > deadline:
            for s in list(pending) + missing:
                log("---- %s: %s; last log lines:" % (s, pending.get(s, "no container")))
                dc("logs", "--tail=30", "--no-color", s, check=False)
            die("not healthy after %d s: %s" % (
                timeout, ", ".join("%s (%s)" % kv for kv in list(pending.items()) +
                                   [(m, "missing") for m in missing])))
        time.sleep(1)


def pullable_services(dc, host):
    """{service: reason} for pull-only services whose image cannot be had
    here; only a service nothing depends on may be skipped."""
    skipped = {}
    services = dc.services()
    for name, svc in services.items():
        if "build" in svc or image_exists(host, svc["image"]):
            continue
        reason = pull(host, svc["image"])
        if reason is None:
            continue
        needed_by = [n for n, s in services.items() if name in (s.get("depends_on") or {})]
        if needed_by:
            die("image %s of %s cannot be pulled (%s), and %s need it"
                % (svc["image"], name, reason, ", ".join(needed_by)))
        skipped[name] = "image %s cannot be pulled here: %s" % (svc["image"], reason)
    return skipped


# ---- commands ---------------------------------------------------------------

def build(dc, host):
    base = ensure_base_image(host)
    t0 = time.time()
    log("building the images (base %s: %s)" % (BASE_IMAGE, base))
    dc("build")
    log("images built in %.0f s" % (time.time() - t0))
    if managed(host):
        # Every build of changed sources leaves the previous images and
        # build stages untagged (~0.6 GB); on this script's own engine,
        # those older than an hour go (the newer ones are the build cache).
        p = docker(host, "image", "prune", "-f", "--filter", "until=1h", check=False, capture=True)
        freed = (p.stdout or "").strip().splitlines()[-1:] if p.returncode == 0 else []
        if freed and not freed[0].endswith(" 0B"):
            log("pruned old untagged images: %s" % freed[0])


def compose_up(dc, services):
    """`up -d` of the built images. A subnet picked before a long build may
    have been taken meanwhile by another project on the same engine (two
    runs at once pick the same free /24 before either creates it): unless
    NETWORK_PREFIX was given, the network is picked again right before
    `up`, and again after an "overlaps" refusal."""
    auto = "NETWORK_PREFIX" not in os.environ and \
        "NETWORK_PREFIX" not in read_env_file(dc.env_file)
    for attempt in range(5):
        if auto:
            dc.env.pop("NETWORK_PREFIX", None)
            dc.pick_network()
        dc.save_state()
        p = dc("up", "-d", "--no-build", "--remove-orphans", *services,
               check=False, capture=True)
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr)
        if p.returncode == 0:
            return
        if not auto or "overlaps" not in p.stderr + p.stdout:
            break
        log("network %s.0/24 was taken meanwhile: picking another"
            % dc.env["NETWORK_PREFIX"])
    die("%s exited %d" % (shlex.join(map(str, dc.argv(["up", "-d"]))), p.returncode))


def cmd_up(a):
    t0 = time.time()
    host, started = ensure_engine()
    dc = Compose(host)
    dc.pick_network()
    skipped = pullable_services(dc, host)
    services = [s for s in dc.services() if s not in skipped]
    preflight(dc, services)
    ensure_tls(dc.env)
    build(dc, host)
    t1 = time.time()
    compose_up(dc, services)
    wait_healthy(dc, services)
    log("all %d services healthy in %.0f s (up %.0f s after the build)"
        % (len(services), time.time() - t0, time.time() - t1))
    for s, why in skipped.items():
        log("SKIPPED %s: %s" % (s, why))
    if not a.quiet:
        banner(dc, skipped)


def banner(dc, skipped):
    e = dc.env
    pub = {s: p[0][1] for s, p in dc.published().items()}
    tls = [port for _, port in dc.published()["nginx"] if port != pub["nginx"]]
    base = "https://127.0.0.1:%d" % (tls[0] if tls else pub["nginx"])
    grafana = ("http://127.0.0.1:%d (user admin, password GF_SECURITY_ADMIN_PASSWORD in %s)"
               % (pub["grafana"], dc.env_file) if "grafana" not in skipped
               else "skipped: " + skipped["grafana"])
    engine = ""
    if dc.host != "unix://" + SYSTEM_SOCKET:
        engine = "\nEngine:       export DOCKER_HOST=%s   (docker, docker-compose)" % dc.host
    keys = e.get("API_KEYS_REQUIRED", "1") != "0"
    mode = ("API keys required; the admin key is ADMIN_API_KEY in %s" % dc.env_file if keys
            else "open: API keys not required (API_KEYS_REQUIRED=0)")
    key = " -H 'X-Api-Key: %s'" % e.get("ADMIN_API_KEY", "") if keys else ""
    print("""
The shortener runs at %(base)s (nginx in front of 3 containers, project %(project)s)
Mode:         %(mode)s
TLS:          certificate %(cert)s (self-signed unless yours: curl --cacert it, or -k);
              http://127.0.0.1:%(plain)d redirects to HTTPS

  curl -s --cacert %(cert)s %(base)s/health
  curl -s --cacert %(cert)s%(key)s '%(base)s/users?per_page=3'
  curl -s --cacert %(cert)s -X POST %(base)s/urls%(key)s -H 'Content-Type: application/json' \\
      -d '{"user_id": 1, "original_url": "https://example.com/hello"}'
  curl -si --cacert %(cert)s %(base)s/<short_code>          # 302 to the original URL

Instances:    127.0.0.1:%(a1)d, :%(a2)d, :%(a3)d (GET /metrics on each)
Prometheus:   http://127.0.0.1:%(prom)d    Alertmanager: http://127.0.0.1:%(am)d
Grafana:      %(grafana)s
Database:     psql 'postgresql://shortener:%(pw)s@127.0.0.1:%(pg)d/shortener'%(engine)s
Keys:         scripts/compose.py dc run --rm db-init python3 scripts/apikey.py create|list|revoke
Status: scripts/compose.py status   Logs: scripts/compose.py logs   Rolling update: scripts/compose.py roll   Stop: make compose-down
""" % dict(base=base, project=dc.project, a1=pub["app1"], a2=pub["app2"], a3=pub["app3"],
           prom=pub["prometheus"], am=pub["alertmanager"], grafana=grafana,
           pw=e.get("POSTGRES_PASSWORD", ""), pg=pub["postgres"], engine=engine, mode=mode,
           key=key, cert=os.path.join(e.get("TLS_DIR", str(REPO / "run" / "tls")), "cert.pem"),
           plain=pub["nginx"]))


def cmd_down(a):
    host = find_engine()
    if not host:
        log("no Docker engine answers: nothing runs")
        return
    dc = Compose(host, create_env=False) if Path(os.environ.get(
        "SHORTENER_ENV_FILE", REPO / ".env")).exists() else None
    if dc:
        args = ["down", "--remove-orphans"] + (["-v"] if a.volumes else [])
        dc(*args)
        dc.forget_state()
    if managed(host) and not a.keep_engine:
        left = docker(host, "ps", "-aq", capture=True).stdout.split()
        if left:
            log("engine kept: %d other container(s) on it" % len(left))
        else:
            stop_engine()


def cmd_status(a):
    host = find_engine()
    if not host:
        die("no Docker engine answers")
    dc = Compose(host, create_env=False)
    cs = dc.containers()
    rc = 0
    for name in dc.services():
        c = cs.get(name)
        st = state_of(c) if c else "absent"
        addr = ", ".join(published_of(c)) if c else "-"
        print("%-13s %-11s %s" % (name, st, addr))
        if not (c and ready(name, c)):
            rc = 1
    return rc


def published_of(c):
    """The host addresses a container publishes, as HOST:PORT."""
    out = []
    for binds in (c["HostConfig"].get("PortBindings") or {}).values():
        for b in binds or []:
            out.append("%s:%s" % (b.get("HostIp") or "0.0.0.0", b.get("HostPort")))
    return out or ["-"]


def app_services(dc):
    return sorted(s for s, v in dc.services().items()
                  if (v.get("labels") or {}).get("shortener.autoheal") == "true")


def nginx_ctl(dc, *args):
    c = dc.containers().get("nginx")
    if not c or not c["State"].get("Running"):
        die("nginx does not run")
    docker(dc.host, "exec", c["Id"], "nginx-ctl", *args)


def cmd_roll(a):
    """Rolling update of the instances; no request fails meanwhile."""
    host = find_engine() or die("no Docker engine answers")
    dc = Compose(host, create_env=False)
    apps = app_services(dc)
    if not a.no_build:
        build(dc, host)
    for app in apps:
        cs = dc.containers()
        others = [s for s in apps if s != app and s in cs and ready(s, cs[s])]
        if not others:
            die("no other instance is healthy: replacing %s would drop traffic" % app)
        t0 = time.time()
        nginx_ctl(dc, "reload", app)
        dc("up", "-d", "--no-deps", "--no-build", "--force-recreate", app)
        wait_healthy(dc, [app], timeout=120)
        nginx_ctl(dc, "reload")
        log("%s replaced in %.1f s" % (app, time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up")
    p.add_argument("--quiet", action="store_true", help="no banner")
    p = sub.add_parser("down")
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("--keep-engine", action="store_true")
    sub.add_parser("status")
    p = sub.add_parser("logs")
    p.add_argument("service", nargs="*")
    p = sub.add_parser("roll")
    p.add_argument("--no-build", action="store_true")
    sub.add_parser("build")
    sub.add_parser("env")
    sub.add_parser("base-image")
    p = sub.add_parser("engine")
    p.add_argument("action", choices=["start", "stop", "status", "env"])
    p.add_argument("--force", action="store_true", help="stop: even with containers on it")
    p = sub.add_parser("dc")
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()

    if a.cmd == "up":
        cmd_up(a)
    elif a.cmd == "down":
        cmd_down(a)
    elif a.cmd == "status":
        return cmd_status(a)
    elif a.cmd == "logs":
        host = find_engine() or die("no Docker engine answers")
        Compose(host, create_env=False)("logs", "--tail=20", "--no-color", *a.service)
    elif a.cmd == "roll":
        cmd_roll(a)
    elif a.cmd == "build":
        host, _ = ensure_engine()
        build(Compose(host), host)
    elif a.cmd == "env":
        path = Path(os.environ.get("SHORTENER_ENV_FILE", REPO / ".env"))
        if path.exists():
            ensure_admin_key(path)
            log("%s: kept (ADMIN_API_KEY present)" % path)
        else:
            write_env_file(path)
    elif a.cmd == "base-image":
        host, _ = ensure_engine()
        log("%s: %s" % (BASE_IMAGE, ensure_base_image(host)))
    elif a.cmd == "engine":
        if a.action == "start":
            host, started = ensure_engine()
            log("engine %s at %s" % ("started" if started else "already answers", host))
        elif a.action == "stop":
            host = find_engine()
            if host and not managed(host):
                die("the engine at %s was not started by this script" % host)
            left = docker(host, "ps", "-aq", capture=True).stdout.split() if host else []
            if left and not a.force:
                log("engine kept: %d container(s) on it (--force stops it anyway)" % len(left))
                return 0
            stop_engine()
        elif a.action == "status":
            host = find_engine()
            print(host or "no engine answers")
            return 0 if host else 1
        else:
            host = find_engine() or die("no Docker engine answers")
            print("export DOCKER_HOST=%s" % host)
    elif a.cmd == "dc":
        host = find_engine() or die("no Docker engine answers")
        return Compose(host, create_env=False)(*a.args, check=False).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
