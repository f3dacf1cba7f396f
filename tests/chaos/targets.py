"""The two topologies the chaos suite breaks (tests/chaos/chaosload.py suite).

Both publish the same interface on 127.0.0.1: nginx (the base URL), the three
instances (setup bypasses nginx's write limit through app1; /metrics for the
click queues), PostgreSQL (the accountant's queries). What differs is how a
fault is made and lifted:

  StackTarget    the Docker-free stack (scripts/stack.py, supervisord):
                 processes are killed by pid, services stopped and started
                 with supervisorctl, the rolling restart is `stack.py restart`
  ComposeTarget  the container topology (scripts/compose.py): a crash is a
                 SIGKILL of the container's main process from the host (what
                 a crash looks like to Docker; `docker kill` is an operator's
                 stop and is not restarted), services are stopped with
                 docker-compose, the rolling update is `compose.py roll` onto
                 a new image

Every method returns once the fault has taken effect; the suite times it.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def sh(cmd, check=True, env=None, capture=True):
    p = subprocess.run([str(c) for c in cmd], text=True, env=env,
                       capture_output=capture)
    if check and p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(map(str, cmd)), p.returncode,
                                                   (p.stderr or "").strip()[-1500:]))
    return (p.stdout or "").strip() if capture else ""


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def alive(pid):
    try:
        return Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, TypeError):
        return False


def children(pid):
    out = sh(["ps", "-o", "pid=", "--ppid", pid], check=False)
    return sorted(int(p) for p in out.split())


def read_env(path):
    out = {}
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


class StackTarget:
    name = "stack"
    instance_word = "instance"

    def __init__(self, run_dir):
        self.run = Path(run_dir).resolve()
        state = read_env(self.run / "stack.env")
        if not state:
            sys.exit("chaosload: no stack in %s (scripts/stack.sh up first)" % self.run)
        self.env = dict(os.environ, RUN_DIR=str(self.run))
        self.ports = {k: int(v) for k, v in state.items()}
        self.base = "http://127.0.0.1:%d" % self.ports["NGINX_PORT"]
        self.app_ports = [self.ports["APP%d_PORT" % n] for n in (1, 2, 3)]
        self.db = ("postgresql://postgres@127.0.0.1:%d/shortener?connect_timeout=2"
                   "&gssencmode=disable" % self.ports["PG_PORT"])

    def ctl(self, *args):
        return sh([REPO / "scripts/stack.py", "ctl"] + list(args), env=self.env, check=False)

    def app_pid(self, n):
        out = self.ctl("pid", "app%d" % n)
        return int(out) if out.isdigit() and out != "0" else None

    def upstream(self, n):
        return "127.0.0.1:%d" % self.app_ports[n - 1]

    def instance_back(self, n, old):
        """A new Kore parent (not OLD) with both workers answers /health, and
        no process of the old one still holds the port."""
        new = self.app_pid(n)
        if not new or new == old or not alive(new) or len(children(new)) < 2:
            return False
        if http_status("http://127.0.0.1:%d/health" % self.app_ports[n - 1]) != 200:
            return False
        out = sh(["ss", "-Hltnp", "sport = :%d" % self.app_ports[n - 1]], check=False)
        holders = {int(p.split("=")[1]) for p in out.replace(",", " ").split() if p.startswith("pid=")}
        return holders == {new, *children(new)}

    def crash(self, n):
        pid = self.app_pid(n)
        os.kill(pid, 9)
        return pid

    def stop(self, service):
        self.ctl("stop", service)

    def start(self, service):
        self.ctl("start", service)

    def rolling(self):
        before = [self.app_pid(n) for n in (1, 2, 3)]
        sh([REPO / "scripts/stack.py", "restart"], env=self.env)
        return all(self.app_pid(n) not in before for n in (1, 2, 3))

    def nginx_log(self, out):
        return str(self.run / "nginx" / "access.log")

    def phases(self):
        return ["kill-instance", "kill-worker", "redis-down", "postgres-down", "rolling-restart"]

    def restore(self):
        for s in ("redis", "postgres"):
            self.start(s)


class ComposeTarget:
    """The project of scripts/compose.py named by COMPOSE_PROJECT_NAME (and
    SHORTENER_ENV_FILE) in the environment, on the engine it finds."""
    name = "compose"
    instance_word = "container"

    def __init__(self):
        self.env = dict(os.environ)
        host = sh([REPO / "scripts/compose.py", "engine", "status"], check=False)
        if not host.startswith(("unix://", "tcp://")):
            sys.exit("chaosload: no Docker engine answers")
        self.env["DOCKER_HOST"] = host
        self.project = self.env.get("COMPOSE_PROJECT_NAME") or read_env(
            self.env.get("SHORTENER_ENV_FILE", REPO / ".env")).get("COMPOSE_PROJECT_NAME", "shortener")
        env_file = read_env(self.env.get("SHORTENER_ENV_FILE", REPO / ".env"))
        self.run = REPO / ".build" / ("chaos-" + self.project)
        # nginx's HTTPS (its plain HTTP only redirects), and the project's
        # admin key: keys are on in this topology (docs/security.md).
        self.base = "https://127.0.0.1:%s" % self.published("nginx", "8443/tcp")
        key = self.env.get("ADMIN_API_KEY") or env_file.get("ADMIN_API_KEY", "")
        if key and not os.environ.get("SHORTENER_API_KEY"):
            os.environ["SHORTENER_API_KEY"] = key
        self.app_ports = [int(self.published("app%d" % n)) for n in (1, 2, 3)]
        pw = self.env.get("POSTGRES_PASSWORD") or env_file.get("POSTGRES_PASSWORD", "")
        self.db = "postgresql://shortener:%s@127.0.0.1:%s/shortener?connect_timeout=2" % (
            pw, self.published("postgres"))

    def docker(self, *args, check=True):
        return sh(["docker"] + list(args), env=self.env, check=check)

    def dc(self, *args):
        return sh([REPO / "scripts/compose.py", "dc"] + list(args), env=self.env)

    def inspect(self, service):
        cid = self.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % self.project,
                          "--filter", "label=com.docker.compose.service=%s" % service)
        if not cid:
            raise RuntimeError("no container for %s in project %s" % (service, self.project))
        return json.loads(self.docker("inspect", cid.split()[0]))[0]

    def published(self, service, port=None):
        """The host port of SERVICE's PORT ("8443/tcp"; its only one when
        None)."""
        ports = self.inspect(service)["HostConfig"]["PortBindings"]
        if port is not None:
            return ports[port][0]["HostPort"]
        return next(iter(ports.values()))[0]["HostPort"]

    def container(self, n):
        return self.inspect("app%d" % n)["Name"].lstrip("/")

    def app_pid(self, n):
        pid = self.inspect("app%d" % n)["State"]["Pid"]
        return pid or None

    def upstream(self, n):
        nets = self.inspect("app%d" % n)["NetworkSettings"]["Networks"]
        return "%s:8080" % next(iter(nets.values()))["IPAddress"]

    def ran_for(self, n):
        """Seconds since app N's container (re)started."""
        started = self.inspect("app%d" % n)["State"]["StartedAt"]
        return time.time() - (time.mktime(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S"))
                              - time.timezone)

    def health(self, n):
        st = self.inspect("app%d" % n)["State"]
        return (st.get("Health") or {}).get("Status")

    def instance_back(self, n, old):
        """The container runs a new main process, Docker reports it healthy,
        and it answers /health on its published port."""
        st = self.inspect("app%d" % n)["State"]
        return (st["Running"] and st["Pid"] not in (0, old)
                and (st.get("Health") or {}).get("Status") == "healthy"
                and http_status("http://127.0.0.1:%d/health" % self.app_ports[n - 1]) == 200)

    def crash(self, n):
        """SIGKILL of the container's main process (Kore's parent, PID 1 in
        the container) from the host: how a crash looks to Docker."""
        pid = self.app_pid(n)
        os.kill(pid, 9)
        return pid

    def pause(self, n):
        self.docker("pause", self.container(n))

    def unpause(self, n):
        self.docker("unpause", self.container(n))

    def network(self):
        """docker-compose's default network of the project."""
        return "%s_default" % self.project

    def disconnect(self, n):
        self.docker("network", "disconnect", self.network(), self.container(n))

    def reconnect(self, n, old_upstream):
        """Back on the network under its service name (`docker network
        connect` alone would drop the alias nginx and Prometheus resolve;
        it also rewrites /etc/hosts without the extra_hosts entries, so the
        instance resolves postgres and redis through Docker's DNS until it is
        recreated). nginx resolves names when it loads its configuration: a
        container that came back on another address needs a reload."""
        net = self.network()
        self.docker("network", "connect", "--alias", "app%d" % n, net, self.container(n))
        if self.upstream(n) != old_upstream:
            self.nginx_ctl("reload")
            return True
        return False

    def nginx_ctl(self, *args):
        self.docker("exec", self.inspect("nginx")["Id"], "nginx-ctl", *args)

    def stop(self, service):
        self.dc("stop", service)

    def start(self, service):
        self.dc("start", service)

    def rolling(self):
        """A new image (the current one plus a label: a new image id, no
        rebuild), then `compose.py roll`: one instance at a time drained in
        nginx, recreated, healthy, back in."""
        ref = self.inspect("app1")["Config"]["Image"]
        label = "shortener.rollout=%d" % time.time()
        p = subprocess.run(["docker", "build", "-q", "--label", label, "-t", ref, "-"],
                           input="FROM %s\n" % ref, text=True, capture_output=True, env=self.env)
        if p.returncode != 0:
            raise RuntimeError("docker build of the new image failed: %s" % p.stderr)
        new = self.docker("image", "inspect", "-f", "{{.Id}}", ref)
        sh([REPO / "scripts/compose.py", "roll", "--no-build"], env=self.env, capture=False)
        return all(self.inspect("app%d" % n)["Image"] == new for n in (1, 2, 3))

    def nginx_log(self, out):
        """nginx's access log is its container's stdout."""
        cid = self.inspect("nginx")["Id"]
        with open(out, "w") as f:
            subprocess.run(["docker", "logs", cid], stdout=f, stderr=subprocess.DEVNULL,
                           env=self.env, check=True)
        return out

    def phases(self):
        # disconnect late: `docker network connect` rewrites the container's
        # /etc/hosts without its extra_hosts, and only the rolling update
        # (a new container) restores them.
        return ["crash-container", "kill-worker", "pause", "redis-down", "postgres-down",
                "disconnect", "rolling-update"]

    def restore(self):
        for n in (1, 2, 3):
            try:
                if self.inspect("app%d" % n)["State"]["Paused"]:
                    self.unpause(n)
                if not self.inspect("app%d" % n)["NetworkSettings"]["Networks"]:
                    self.docker("network", "connect", "--alias", "app%d" % n, self.network(),
                                self.container(n), check=False)
            except RuntimeError:
                pass
        for s in ("redis", "postgres"):
            self.start(s)
