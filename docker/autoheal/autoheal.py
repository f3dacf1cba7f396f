#!/usr/bin/env python3
"""autoheal: restart the containers of this compose project that Docker
reports unhealthy.

Docker without an orchestrator only records a failing health check: the
container goes on running, marked unhealthy, and its restart policy never
applies, since nothing exited (docs/failure-modes.md has the measurements).
A hung instance would stay in nginx's upstream, answered by timeouts. This
watchdog closes that gap and nothing more:

  - it follows the engine's events and restarts (`docker restart`, stop
    timeout AUTOHEAL_STOP_TIMEOUT, 10 s) a container the moment its health
    status turns `unhealthy`, and at start every one already unhealthy;
  - only containers of its own compose project (read from its own labels)
    that carry the label shortener.autoheal=true;
  - it never starts a stopped container: `docker stop` and `docker kill`
    are an operator's decisions, and a crash is the restart policy's.

Each action is one JSON line on stdout. It needs the engine's socket
(docker-compose.yml mounts DOCKER_SOCKET at /var/run/docker.sock), which is
root on the host: the price of any watchdog that can restart containers.
"""

import json
import os
import socket
import sys
import time

import docker

LABEL = "shortener.autoheal=true"
STOP_TIMEOUT = int(os.environ.get("AUTOHEAL_STOP_TIMEOUT", "10"))


def log(level, event, **kw):
    line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": level, "event": event}
    line.update(kw)
    print(json.dumps(line), flush=True)


def own_project(client):
    """The compose project of this container (its hostname is its id)."""
    me = client.containers.get(socket.gethostname())
    return me.labels["com.docker.compose.project"]


def heal(client, cid, reason):
    try:
        c = client.containers.get(cid)
        name = c.name
        # Looked at again: an event may be old news (the container was
        # stopped, replaced or recovered since).
        health = c.attrs["State"].get("Health") or {}
        if c.status != "running" or health.get("Status") != "unhealthy":
            return
        log("warn", "restart", container=name, reason=reason)
        c.restart(timeout=STOP_TIMEOUT)
        log("info", "restarted", container=name)
    except docker.errors.APIError as e:
        log("error", "restart_failed", container=cid, error=str(e))


def watch(client, labels):
    since = int(time.time())
    for c in client.containers.list(filters={"label": labels, "health": "unhealthy"}):
        heal(client, c.id, "unhealthy at start")
    events = client.events(decode=True, since=since, filters={
        "type": "container", "event": "health_status", "label": labels})
    for ev in events:
        if ev.get("status", "").strip() == "health_status: unhealthy":
            heal(client, ev["id"], "health check failing")


def main():
    client = docker.from_env()
    project = own_project(client)
    labels = [LABEL, "com.docker.compose.project=%s" % project]
    log("info", "start", project=project, label=LABEL, stop_timeout=STOP_TIMEOUT)
    while True:
        try:
            watch(client, labels)
        except (docker.errors.APIError, OSError) as e:
            log("error", "events_lost", error=str(e))
        # The stream ended (an engine restart): follow it again.
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
