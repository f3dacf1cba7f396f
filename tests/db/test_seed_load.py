"""scripts/seed-load.sh against a database of its own on the integration
stage's PostgreSQL (DATABASE_URL names the cluster; the test makes and drops
a database beside the app's): a seed loads into an empty database, a second
load without --replace is refused and changes nothing, and --replace swaps
the data even when users hold API keys (their keys go with them, the admin
keys stay, the list counts follow).

`make bench-scale` loads its 1M-URL seed with --replace into a stack whose
database already holds keys; before the fix this refused with "cannot
truncate a table referenced in a foreign key constraint".
"""

import os
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO, sh

SCRIPTS = REPO / "scripts"
DB = "seed_load_test"


def psql(url, sql):
    return sh(["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
              check=True).stdout.strip()


@pytest.fixture(scope="module")
def db():
    base = os.environ.get("DATABASE_URL")
    if not base:
        pytest.fail("DATABASE_URL is not set: run through scripts/test.py integration")
    parts = urllib.parse.urlsplit(base)
    url = urllib.parse.urlunsplit(parts._replace(path="/" + DB))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    psql(admin, f"DROP DATABASE IF EXISTS {DB}")
    psql(admin, f"CREATE DATABASE {DB}")
    env = dict(os.environ, DATABASE_URL=url)
    sh([SCRIPTS / "migrate.sh"], env=env, check=True)
    sh(["make", "-C", REPO, "--no-print-directory", "-s", "seed"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = {}
        for name, users, urls in (("small", 20, 60), ("other", 30, 90)):
            seeds[name] = Path(tmp) / name
            sh([REPO / "tools" / "seedgen", "--users", users, "--urls", urls,
                "--seed", len(seeds), "--out", seeds[name]], check=True)
        yield url, env, seeds
    psql(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def load(env, *args):
    return subprocess.run([SCRIPTS / "seed-load.sh", *map(str, args)], env=env,
                          capture_output=True, text=True)


def counts(url):
    return psql(url, "SELECT (SELECT count(*) FROM users) || ' ' || "
                     "(SELECT count(*) FROM urls) || ' ' || "
                     "(SELECT count(*) FROM api_keys)")


def test_load_then_refuse_then_replace_with_keys(db):
    url, env, seeds = db
    p = load(env, seeds["small"])
    assert p.returncode == 0, p.stderr
    assert counts(url) == "20 60 0"

    p = load(env, seeds["other"])
    assert p.returncode != 0 and "use --replace" in p.stderr, p.stderr
    assert counts(url) == "20 60 0"

    # A user's key and an admin key, as POST /keys stores them.
    psql(url, "INSERT INTO api_keys (name, prefix, key_hash, scope, user_id) "
              "SELECT 'mine', 'sk_u', repeat('a', 64), 'user', min(id) FROM users")
    psql(url, "INSERT INTO api_keys (name, prefix, key_hash, scope) "
              "VALUES ('ops', 'sk_a', repeat('b', 64), 'admin')")

    p = load(env, "--replace", seeds["other"])
    assert p.returncode == 0, p.stderr
    assert counts(url) == "30 90 1"
    assert psql(url, "SELECT name || ' ' || scope FROM api_keys") == "ops admin"
    # The counts the lists read follow the tables.
    assert psql(url, "SELECT coalesce(sum(n), 0) FROM list_counts "
                     "WHERE key = 'api_keys'") == "1"
    assert psql(url, "SELECT coalesce(sum(n), 0) FROM list_counts "
                     "WHERE key = 'users'") == "30"
