#!/usr/bin/python3
"""nginx_conf.py [--drain appN] [--tls TEMPLATE] SRC DEST: the repository's
nginx.conf rendered for where it runs. Both topologies run this one file
and only this renderer rewrites it, line by line, where a comment marks the
line:

  "# env: NAME"     with NAME set in the environment, the last number before
                    the ";" becomes $NAME (the rate limits and the
                    per-address connection cap, docs/configuration.md)
  "# stack: appN"   the upstream server appN; with --drain appN it is marked
                    `down` (a rolling restart drains an instance this way)
  "# stack: pid", "# stack: access log", "# stack: listen", "# stack: appN"
                    the Docker-free stack (scripts/stack.py) moves the pid
                    file and access log into its run directory, the listen
                    address onto loopback and app1..app3 onto their ports

With --tls TEMPLATE (nginx/tls.conf.template) and TLS_CERT_FILE set, the
TLS part is rendered too, into tls.d/tls.conf beside DEST, which the server
block of nginx.conf includes (`include tls.d/*.conf`): TEMPLATE with
${PUBLIC_TLS_PORT} (the HTTPS port clients see, named by the redirect from
plain HTTP), ${TLS_CERT_FILE} and ${TLS_KEY_FILE} from the environment.
Without TLS_CERT_FILE that file is removed: plain HTTP (the Docker-free
stack never asks for it). The container topology always does
(docker-compose.yml, docs/deploy.md "TLS").

A marked line that a rule did not match is an error: an edit of nginx.conf
cannot silently leave a container address or a default limit in place. The
nginx container (docker/nginx/nginx-ctl) runs this file's command line;
scripts/stack.py imports it.
"""

import os
import re
import sys

APPS = ["app1", "app2", "app3"]


class RenderError(Exception):
    pass


def env_number(line, env):
    """LINE with its "# env: NAME" value applied, if NAME is set."""
    m = re.search(r"# env: ([A-Z_]+)\s*$", line)
    if not m or not env.get(m.group(1)):
        return line
    value = env[m.group(1)]
    if not value.isdigit():
        raise RenderError("%s must be a number, not %r" % (m.group(1), value))
    semi = line.find(";")
    if semi < 0:
        raise RenderError("the line marked %s has no ';'" % m.group(1))
    head, n = re.subn(r"[0-9]+(?=[^0-9]*$)", value, line[:semi], count=1)
    if n != 1:
        raise RenderError("the line marked %s has no number" % m.group(1))
    return head + line[semi:]


def local_rules(rundir, ports):
    """The rewrites of the Docker-free stack: RUNDIR holds nginx's pid file
    and access log; PORTS maps listen and app1..app3 to loopback ports."""
    rules = {
        "pid": (r"pid\s+[^;]+;", "pid %s/nginx.pid;" % rundir),
        "access log": (r"access_log\s+[^\s;]+", "access_log %s/access.log" % rundir),
        "listen": (r"listen\s+[^;]+;", "listen 127.0.0.1:%d;" % ports["listen"]),
    }
    for a in APPS:
        rules[a] = (re.escape(a + ":8080"), "127.0.0.1:%d" % ports[a])
    return rules


def render(text, env, drained=None, rules=None):
    """TEXT (nginx.conf) rendered: RULES ({marker: (pattern, replacement)},
    each to match exactly once), DRAINED marked down, ENV's limits."""
    rules = dict(rules or {})
    if drained is not None and drained not in APPS:
        raise RenderError("no instance %r (one of %s)" % (drained, ", ".join(APPS)))
    done = {k: 0 for k in rules}
    seen = set()
    out = []
    for line in text.splitlines(True):
        m = re.search(r"# stack: (.+?)\s*$", line)
        marker = m.group(1) if m else None
        if marker in rules:
            pattern, repl = rules[marker]
            line, n = re.subn(pattern, lambda _g, r=repl: r, line, count=1)
            done[marker] += n
        if marker in APPS:
            seen.add(marker)
            if marker == drained:
                line = line.replace(";", " down;", 1)
        out.append(env_number(line, env))
    bad = [k for k, n in done.items() if n != 1]
    if drained is not None and drained not in seen:
        bad.append(drained)
    if bad:
        raise RenderError("the line(s) marked %s are missing or did not match"
                          % ", ".join('"# stack: %s"' % k for k in bad))
    return "".join(out)


TLS_VARS = ("PUBLIC_TLS_PORT", "TLS_CERT_FILE", "TLS_KEY_FILE")


def render_tls(template, env, listen=None):
    """TEMPLATE (nginx/tls.conf.template) with ENV's TLS_VARS filled in;
    LISTEN, when given, replaces the address of its `listen` line (a
    loopback port where no container maps 8443)."""
    missing = [v for v in TLS_VARS if not env.get(v)]
    if missing:
        raise RenderError("TLS needs %s" % ", ".join(missing))
    if not env["PUBLIC_TLS_PORT"].isdigit():
        raise RenderError("PUBLIC_TLS_PORT must be a port number, not %r"
                          % env["PUBLIC_TLS_PORT"])
    for v in ("TLS_CERT_FILE", "TLS_KEY_FILE"):
        if re.search(r"[\s;{}'\"$]", env[v]):
            raise RenderError("%s must be a plain path, not %r" % (v, env[v]))
    text = template
    for v in TLS_VARS:
        text = text.replace("${%s}" % v, env[v])
    if listen is not None:
        text, n = re.subn(r"(?m)^(\s*listen\s+)\S+", lambda m: m.group(1) + listen, text,
                          count=1)
        if n != 1:
            raise RenderError("the TLS template has no listen line")
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    if left:
        raise RenderError("the TLS template names unknown settings: %s" % ", ".join(left))
    return text


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_tls(template_path, dest, env):
    """tls.d/tls.conf beside DEST from TEMPLATE_PATH when TLS_CERT_FILE is
    set, else no such file."""
    tls = os.path.join(os.path.dirname(os.path.abspath(dest)), "tls.d", "tls.conf")
    if not env.get("TLS_CERT_FILE"):
        if os.path.exists(tls):
            os.unlink(tls)
        return
    with open(template_path) as f:
        text = render_tls(f.read(), env)
    os.makedirs(os.path.dirname(tls), exist_ok=True)
    write(tls, text)


def main(argv):
    args = list(argv)
    drained = tls = None
    while args[:1] in (["--drain"], ["--tls"]) and len(args) > 1:
        if args[0] == "--drain":
            drained = args[1]
        else:
            tls = args[1]
        args = args[2:]
    if len(args) != 2:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    src, dest = args
    try:
        with open(src) as f:
            text = render(f.read(), os.environ, drained)
        if tls is not None:
            write_tls(tls, dest, os.environ)
    except (OSError, RenderError) as e:
        print("nginx_conf: %s" % e, file=sys.stderr)
        return 1
    write(dest, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
