#!/usr/bin/env python3
"""
apikey.py: API keys from the command line, for operators (docs/security.md).

    scripts/apikey.py create --name NAME --scope admin|user|read-only
                             [--user-id ID] [--expires-at 2026-12-31T00:00:00]
    scripts/apikey.py list [--all]
    scripts/apikey.py revoke ID
    scripts/apikey.py bootstrap          # ADMIN_API_KEY from the environment
    scripts/apikey.py generate           # a fresh key on stdout, nothing stored

Works wherever psql reaches $DATABASE_URL: on this machine against
`make up`'s database, and in the container topology as
`docker-compose run --rm db-init python3 scripts/apikey.py ...`.

A key is "shk_" and 40 characters of [A-Za-z0-9] from the kernel's CSPRNG
(Python's secrets, i.e. getrandom(2)), the same shape the API draws
(src/core/apikey.c). It is printed once; the database keeps its SHA-256
and its visible prefix (the first 12 characters), nothing else.

`bootstrap` is how the first admin key comes to be: it stores the hash of
$ADMIN_API_KEY as an admin key named "bootstrap (ADMIN_API_KEY)" unless a
key with that hash exists, revoked or not (a revoked bootstrap key stays
revoked: rotate by creating a new admin key, revoking the old one and
removing ADMIN_API_KEY). The database job of both topologies runs it.

SQL goes to psql on its standard input, every value as a psql variable
quoted by psql itself (:'name'), never pasted into the text.
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import string
import subprocess
import sys

ALPHABET = string.ascii_letters + string.digits
TAG = "shk_"
RANDOM_LEN = 40
PREFIX_LEN = 12
KEY_RE = re.compile(r"^shk_[A-Za-z0-9]{40}$")
SCOPES = ("admin", "user", "read-only")
BOOTSTRAP_NAME = "bootstrap (ADMIN_API_KEY)"


def generate():
    return TAG + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LEN))


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def psql(sql, **variables):
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("apikey: DATABASE_URL must be set")
    cmd = ["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
    for name, value in variables.items():
        cmd += ["-v", f"{name}={'' if value is None else value}"]
    r = subprocess.run(cmd, input=sql, text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"apikey: {r.stderr.strip()}")
    return r.stdout.strip()


def nullable(var):
    """A psql variable that is NULL when empty."""
    return f"nullif(:'{var}', '')"


def insert(key, name, scope, user_id=None, expires_at=None, if_new=False):
    conflict = " ON CONFLICT (key_hash) DO NOTHING" if if_new else ""
    sql = (
        "INSERT INTO api_keys (name, prefix, key_hash, scope, user_id,"
        " expires_at) VALUES (:'name', :'prefix', :'hash', :'scope',"
        f" {nullable('user_id')}::bigint, {nullable('expires_at')}::timestamp)"
        f"{conflict} RETURNING api_key_json(api_keys);\n")
    return psql(sql, name=name, prefix=key[:PREFIX_LEN], hash=key_hash(key),
                scope=scope, user_id=user_id, expires_at=expires_at)


def cmd_create(args):
    if args.scope == "user" and args.user_id is None:
        sys.exit("apikey: a user key needs --user-id")
    if args.scope == "admin" and args.user_id is not None:
        sys.exit("apikey: an admin key has no --user-id")
    key = generate()
    row = json.loads(insert(key, args.name, args.scope, args.user_id,
                            args.expires_at))
    row["key"] = key
    print(json.dumps(row, indent=2))
    print("The key is shown this once; only its hash is stored.",
          file=sys.stderr)


def cmd_list(args):
    where = "" if args.all else " WHERE revoked_at IS NULL"
    out = psql("SELECT api_key_json(k) FROM api_keys k" + where +
               " ORDER BY id;\n")
    rows = [json.loads(line) for line in out.splitlines() if line]
    fmt = "{:>5}  {:<12}  {:<9}  {:>7}  {:<19}  {:<19}  {:<19}  {}"
    print(fmt.format("id", "prefix", "scope", "user", "created_at",
                     "expires_at", "revoked_at", "name"))
    for r in rows:
        print(fmt.format(r["id"], r["prefix"], r["scope"],
                         r["user_id"] or "-", r["created_at"],
                         r["expires_at"] or "-", r["revoked_at"] or "-",
                         r["name"]))


def cmd_revoke(args):
    out = psql("UPDATE api_keys SET revoked_at = coalesce(revoked_at,"
               " now() AT TIME ZONE 'UTC') WHERE id = :'id'::bigint"
               " RETURNING api_key_json(api_keys);\n", id=args.id)
    if not out:
        sys.exit(f"apikey: no key {args.id}")
    print(out)
    print("Instances stop accepting it within API_KEY_CACHE_MS.",
          file=sys.stderr)


def cmd_bootstrap(_args):
    key = os.environ.get("ADMIN_API_KEY", "")
    if not key:
        print("apikey: ADMIN_API_KEY is not set: no bootstrap key",
              file=sys.stderr)
        return
    if not KEY_RE.match(key):
        sys.exit("apikey: ADMIN_API_KEY is not a key (shk_ and 40 letters "
                 "and digits): generate one with scripts/apikey.py generate")
    out = insert(key, BOOTSTRAP_NAME, "admin", if_new=True)
    state = "stored" if out else "already known (revoked keys stay revoked)"
    print(f"apikey: bootstrap admin key {key[:PREFIX_LEN]}... {state}",
          file=sys.stderr)


def cmd_generate(_args):
    print(generate())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create", help="make a key and print it once")
    c.add_argument("--name", required=True)
    c.add_argument("--scope", required=True, choices=SCOPES)
    c.add_argument("--user-id", type=int)
    c.add_argument("--expires-at", help="UTC, e.g. 2026-12-31T00:00:00")
    c.set_defaults(fn=cmd_create)
    ls = sub.add_parser("list", help="keys (prefixes, never secrets)")
    ls.add_argument("--all", action="store_true", help="revoked ones too")
    ls.set_defaults(fn=cmd_list)
    r = sub.add_parser("revoke", help="revoke a key by id")
    r.add_argument("id", type=int)
    r.set_defaults(fn=cmd_revoke)
    sub.add_parser("bootstrap", help="store ADMIN_API_KEY's hash").set_defaults(
        fn=cmd_bootstrap)
    sub.add_parser("generate", help="print a new key").set_defaults(
        fn=cmd_generate)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
