#!/usr/bin/python3
"""kore_conf.py --bind HOST:PORT [--module PATH] SRC DEST: conf/shortener.conf
rendered for where an instance runs. The one renderer of that file:

  --bind HOST:PORT   the first `bind` line (the public HTTP server; kodev run's
                     127.0.0.1:8090 in the repository) becomes HOST PORT
  --module PATH      the `load ...shortener.so` line names PATH (Kore resolves
                     a relative path against its working directory)
  --workers N        the `workers` line says N (scripts/app.sh: APP_WORKERS)

Everything else is copied as it is. SRC without a bind line, or without the
load line --module needs, is an error. scripts/app.sh (hence the test
instances and scripts/stack.py), tests/dev and the app image (Dockerfile:
0.0.0.0:8080) run it. Standard library of python3-minimal only.
"""

import os
import re
import sys


class RenderError(Exception):
    pass


def render_text(text, bind, module=None, workers=None):
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise RenderError("--bind wants HOST:PORT, not %r" % bind)
    out, bound, loaded = [], False, False
    for line in text.splitlines():
        m = re.match(r"^(\s*)bind\s", line)
        if not bound and m:
            line = "%sbind\t\t%s %s" % (m.group(1), host, port)
            bound = True
        elif workers and re.match(r"^\s*workers\s", line):
            line = re.sub(r"workers\s.*", "workers\t\t\t%s" % workers, line)
        elif module and re.match(r"^\s*load\s+\S*shortener\.so\b", line):
            line = re.sub(r"\S*shortener\.so", lambda _: module, line, count=1)
            loaded = True
        out.append(line)
    if not bound:
        raise RenderError("no bind line")
    if module and not loaded:
        raise RenderError("no `load ...shortener.so` line")
    return "\n".join(out) + "\n"


def render(src, dest, bind, module=None, workers=None):
    if workers is not None and not workers.isdigit():
        raise RenderError("--workers wants a number, not %r" % workers)
    with open(src) as f:
        text = render_text(f.read(), bind, module, workers)
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, dest)


def main(argv):
    opts, args = {}, []
    while argv:
        a = argv.pop(0)
        if a in ("--bind", "--module", "--workers") and argv:
            opts[a[2:]] = argv.pop(0)
        else:
            args.append(a)
    if len(args) != 2 or "bind" not in opts:
        sys.exit("usage: kore_conf.py --bind HOST:PORT [--module PATH] [--workers N] "
                 "SRC DEST")
    try:
        render(args[0], args[1], opts["bind"], opts.get("module"), opts.get("workers"))
    except (RenderError, OSError) as e:
        sys.exit("kore_conf: error: %s" % e)


if __name__ == "__main__":
    main(sys.argv[1:])
