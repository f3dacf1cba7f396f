"""
The service with API keys on: instances of its own, started here beside
whatever else uses the same PostgreSQL and Redis (scripts/test.py runs
this after the open contract suite). From the environment:

    DATABASE_URL, REDIS_URL   the test's PostgreSQL (migrated) and Redis
    SECURITY_FLAVOR           the build to run (default cov: scripts/test.py
                              builds it and counts its coverage)
    SECURITY_LOG_DIR          where the instances' logs are kept

The instances (each scripts/app.sh, API_KEYS_REQUIRED=1):

    a, b      two instances sharing one rate-limit budget (Redis), small
              budgets, a blocklist, CORS for one origin, a public base URL
              of their own (https://sho.rt), 127.0.0.1 a trusted proxy
    single    one worker: the bulk import beside other requests
    isolated  a Redis where nothing listens (the per-worker fallback),
              no trusted proxy

Keys are made with scripts/apikey.py, as an operator would. Only the
standard library is used besides pytest.
"""

import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

import client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPO, "scripts")
PUBLIC_BASE = "https://sho.rt"
ORIGIN = "https://app.example"
RATE_KEY = 400
RATE_ADDRESS = 200
KEY_CACHE_MS = 500
BULK_ROWS_MAX = 20000


def need(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through scripts/test.py")
    return value


def psql(sql, **variables):
    """Runs sql (psql variables quoted by psql); its rows, '|'-separated."""
    cmd = ["psql", need("DATABASE_URL"), "-X", "-q", "-At", "-v",
           "ON_ERROR_STOP=1"]
    for k, v in variables.items():
        cmd += ["-v", f"{k}={v}"]
    r = subprocess.run(cmd, input=sql, text=True, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r.stdout.strip()


def apikey(*args, env=None):
    r = subprocess.run(["/usr/bin/python3", os.path.join(SCRIPTS, "apikey.py"),
                        *args], text=True, capture_output=True,
                       env={**os.environ, **(env or {})})
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r


class Instance:
    def __init__(self, name, workdir, env):
        self.name = name
        self.port = client.free_port()
        self.dir = os.path.join(workdir, name)
        self.env = {**os.environ, **env,
                    "FLAVOR": os.environ.get("SECURITY_FLAVOR", "cov")}
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        r = subprocess.run([os.path.join(SCRIPTS, "app.sh"), "start",
                            str(self.port), self.dir], env=self.env,
                           text=True, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: {r.stderr}")
        return client.Client(self.url)

    def stop(self):
        subprocess.run([os.path.join(SCRIPTS, "app.sh"), "stop", self.dir],
                       env=self.env, capture_output=True)

    def log(self):
        with open(os.path.join(self.dir, "app.log"), errors="replace") as f:
            return f.read()


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="shortener-security.")
    yield d
    logs = os.environ.get("SECURITY_LOG_DIR")
    if logs:
        os.makedirs(logs, exist_ok=True)
        for name in os.listdir(d):
            log = os.path.join(d, name, "app.log")
            if os.path.exists(log):
                shutil.copy(log, os.path.join(logs, f"{name}.log"))
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def instances(workdir):
    need("DATABASE_URL")
    need("REDIS_URL")
    blocklist = os.path.join(workdir, "blocklist.txt")
    with open(blocklist, "w") as f:
        f.write("# test blocklist\nblocked.example\n*.phish.example\n")
    keyed = {"API_KEYS_REQUIRED": "1", "API_KEY_CACHE_MS": str(KEY_CACHE_MS),
             "RATE_LIMIT_PER_KEY": str(RATE_KEY),
             "RATE_LIMIT_PER_ADDRESS": str(RATE_ADDRESS),
             "PUBLIC_BASE_URL": PUBLIC_BASE, "TRUSTED_PROXIES": "127.0.0.1",
             "CORS_ALLOWED_ORIGINS": ORIGIN, "URL_BLOCKLIST_FILE": blocklist,
             "BULK_MAX_ROWS": str(BULK_ROWS_MAX),
             # Counts shared through Redis, even on a busy test machine
             # where a 5 ms budget would send some to the per-worker
             # fallback (tested apart, on "isolated").
             "REDIS_TIMEOUT_MS": "500"}
    free = client.free_port()
    made = {
        "a": Instance("a", workdir, keyed),
        "b": Instance("b", workdir, keyed),
        "single": Instance("single", workdir, {
            **keyed, "APP_WORKERS": "1", "RATE_LIMIT_PER_KEY": "100000",
            "BULK_MAX_ROWS": "1000000"}),
        "isolated": Instance("isolated", workdir, {
            **keyed, "REDIS_URL": f"redis://127.0.0.1:{free}/0",
            "RATE_LIMIT_PER_KEY": "10", "TRUSTED_PROXIES": "",
            "RATE_LIMIT_PER_ADDRESS": "10", "BULK_BODY_MAX": "65536"}),
    }
    clients = {}
    try:
        for name, inst in made.items():
            clients[name] = inst.start()
        yield {"clients": clients, "instances": made}
    finally:
        for c in clients.values():
            c.close()
        for inst in made.values():
            inst.stop()


@pytest.fixture(scope="session")
def redis_cli():
    u = urllib.parse.urlsplit(need("REDIS_URL"))

    def run(*args):
        r = subprocess.run(["redis-cli", "-h", u.hostname, "-p",
                            str(u.port or 6379), *args], text=True,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout.strip()
    return run


@pytest.fixture(scope="session")
def a(instances):
    return instances["clients"]["a"]


@pytest.fixture(scope="session")
def b(instances):
    return instances["clients"]["b"]


def make_key(scope, user_id=None, name=None, expires_at=None):
    args = ["create", "--name", name or f"test {scope}", "--scope", scope]
    if user_id is not None:
        args += ["--user-id", str(user_id)]
    if expires_at is not None:
        args += ["--expires-at", expires_at]
    return json.loads(apikey(*args).stdout)


@pytest.fixture(scope="session")
def admin(instances):
    return make_key("admin")["key"]


class World:
    """Two users, each with a link and an event, made with an admin key."""

    def __init__(self, c, admin_key):
        self.admin = {"X-Api-Key": admin_key}
        self.users, self.urls, self.events = [], [], []
        for i in range(2):
            tag = client.uniq("owner")
            u = c.post("/users", {"username": tag,
                                  "email": f"{tag}@example.com"},
                       headers=self.admin)
            assert u.status == 201, u
            self.users.append(u.json())
            url = c.post("/urls", {"user_id": u.json()["id"],
                                   "original_url": f"https://example.com/{tag}"},
                         headers=self.admin)
            assert url.status == 201, url
            self.urls.append(url.json())
            ev = c.post("/events", {"url_id": url.json()["id"],
                                    "user_id": u.json()["id"],
                                    "event_type": "test"}, headers=self.admin)
            assert ev.status == 201, ev
            self.events.append(ev.json())


@pytest.fixture()
def world(a, admin):
    return World(a, admin)
