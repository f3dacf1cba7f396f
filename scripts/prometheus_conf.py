#!/usr/bin/python3
"""prometheus_conf.py OUTDIR [--interval D] [HOST:PORT=[NEWHOST:NEWPORT] ...]:
the repository's prometheus.yml rendered for a run outside docker-compose
(the Docker-free stack, the tests): OUTDIR/prometheus.yml and a copy of
prometheus/ (the rule files, which prometheus.yml names relative to its own
directory). Only literal rewrites, as the header of prometheus.yml
describes, so that there is never a second hand-written configuration:

  app1:8080=127.0.0.1:8081   every occurrence of app1:8080 becomes 127.0.0.1:8081
  app2:8080=                 the target line "- app2:8080" is deleted
  --interval 1s              scrape_interval and evaluation_interval of `global`

Each HOST:PORT given must occur in prometheus.yml outside comments (a typo
would otherwise leave a container address in place). Prints the path of
OUTDIR/prometheus.yml. scripts/stack.py and tests/observability import
render(); docker-compose mounts prometheus.yml as it is.

Example (one app on 8081, Prometheus on 9090, no Alertmanager):
  scripts/prometheus_conf.py run/prometheus app1:8080=127.0.0.1:8081 \\
      app2:8080= app3:8080= alertmanager:9093= localhost:9090=127.0.0.1:9090
"""

import os
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"^[A-Za-z0-9_.-]+:[0-9]+$")
INTERVAL = re.compile(r"^[0-9]+(ms|s|m|h)$")


class RenderError(Exception):
    pass


def parse_rewrite(arg):
    """"HOST:PORT=NEW" as (HOST:PORT, NEW); NEW "" deletes the target."""
    old, sep, new = arg.partition("=")
    if not sep or not ADDRESS.match(old):
        raise RenderError("not HOST:PORT=[NEWHOST:NEWPORT]: %s" % arg)
    return old, new


def render_text(text, interval=None, rewrites=()):
    """TEXT (a prometheus.yml) with REWRITES [(old, new)] and INTERVAL applied."""
    if interval is not None and not INTERVAL.match(interval):
        raise RenderError("bad interval: %s" % interval)
    live = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    for old, _ in rewrites:
        if old not in live:
            raise RenderError("%s does not occur in prometheus.yml" % old)
    out, top = [], None
    for line in text.splitlines():
        if line[:1] not in ("", " ", "\t", "#"):
            top = line.split()[0]
        if interval and top == "global:" and re.match(
                r"^\s+(scrape|evaluation)_interval:", line):
            line = line.split(":", 1)[0] + ": " + interval
        target = re.sub(r"^\s*-\s*|\s*$", "", line)
        if any(new == "" and target == old for old, new in rewrites):
            continue
        for old, new in rewrites:
            if new:
                line = line.replace(old, new)
        out.append(line)
    return "\n".join(out) + "\n"


def render(outdir, interval=None, rewrites=(), src=REPO / "prometheus.yml"):
    """OUTDIR/prometheus.yml and OUTDIR/prometheus/; returns the former."""
    outdir = Path(outdir)
    text = render_text(Path(src).read_text(), interval, rewrites)
    outdir.mkdir(parents=True, exist_ok=True)
    dest = outdir / "prometheus.yml"
    tmp = outdir / "prometheus.yml.tmp"
    tmp.write_text(text)
    os.replace(tmp, dest)
    shutil.rmtree(outdir / "prometheus", ignore_errors=True)
    shutil.copytree(Path(src).parent / "prometheus", outdir / "prometheus")
    return dest


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit("usage: prometheus_conf.py OUTDIR [--interval D] "
                 "[HOST:PORT=[NEWHOST:NEWPORT] ...]")
    outdir, args, interval, rewrites = argv[0], argv[1:], None, []
    try:
        while args:
            arg = args.pop(0)
            if arg == "--interval" and args:
                interval = args.pop(0)
            else:
                rewrites.append(parse_rewrite(arg))
        print(render(outdir, interval, rewrites))
    except (RenderError, OSError) as e:
        sys.exit("prometheus_conf: error: %s" % e)


if __name__ == "__main__":
    main(sys.argv[1:])
