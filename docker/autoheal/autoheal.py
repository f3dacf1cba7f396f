#!/usr/bin/env python3
"""autoheal: restart the containers of this compose project that Docker
leaves down or hung.

Docker without an orchestrator covers less than a restart policy suggests
(docs/failure-modes.md has the measurements):

  - a failing health check is only recorded: the container goes on
    running, marked unhealthy, and its restart policy never applies, since
    nothing exited. A hung instance would stay in nginx's upstream,
    answered by timeouts;
  - a crashed container is restarted by the policy within a second,
    nearly always: once in the test runs a crashed instance stayed exited
    with no restart for a minute (Docker's log said nothing). Docker's
    documentation also says a policy applies only to a container that ran
    for 10 s.

This watchdog closes those gaps and nothing more:

  - it restarts (`docker restart`, stop timeout AUTOHEAL_STOP_TIMEOUT, 10 s)
    a container the moment its health status turns `unhealthy`, and at
    start every one already unhealthy;
  - when a container dies with no `kill` event before it (no `docker stop`,
    `docker kill`, `docker restart` or compose command: a crash), it looks
    again AUTOHEAL_GRACE_S (3 s) later, and starts it if Docker has not;
    a container that dies again within a minute of such a start waits
    twice as long before the next one (up to 60 s), so a crash loop is
    slowed down, not hidden;
  - only containers of its own compose project (read from its own labels)
    that carry the label shortener.autoheal=true;
  - a container an operator stopped (`docker stop`, `docker kill`) is left
    stopped.

Each action is one JSON line on stdout. It needs the engine's socket
(docker-compose.yml mounts DOCKER_SOCKET at /var/run/docker.sock), which is
root on the host: the price of any watchdog that can restart containers.
"""

import json
import os
import socket
import sys
import threading
import time

import docker

LABEL = "shortener.autoheal=true"
STOP_TIMEOUT = int(os.environ.get("AUTOHEAL_STOP_TIMEOUT", "10"))
GRACE_S = float(os.environ.get("AUTOHEAL_GRACE_S", "3"))
BACKOFF_MAX_S = 60

# Owned by the event loop and the revive timers, under LOCK: the ids of
# containers that got a `kill` event (a stop, kill or restart through the
# API) not yet followed by their death, and per id (time, delay) of the
# last start this watchdog made.
LOCK = threading.Lock()
KILLED = set()
REVIVED = {}


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


def on_die(client, cid, exit_code):
    """A death without a `kill` before it: a crash. Docker should restart
    it at once: look again after a grace delay."""
    now = time.time()
    with LOCK:
        if cid in KILLED:
            KILLED.discard(cid)
            return
        last, delay = REVIVED.get(cid, (0, 0))
        delay = GRACE_S if now - last > BACKOFF_MAX_S else min(max(delay, GRACE_S) * 2, BACKOFF_MAX_S)
        REVIVED[cid] = (last, delay)
    threading.Timer(delay, revive, (client, cid, exit_code, delay)).start()


def revive(client, cid, exit_code, delay):
    try:
        c = client.containers.get(cid)
        state = c.attrs["State"]
        if state["Running"] or state["Restarting"]:
            return
        log("warn", "start", container=c.name, reason="exited (status %s) and not restarted "
            "by Docker" % exit_code, waited_s=delay)
        with LOCK:
            REVIVED[cid] = (time.time(), delay)
        c.start()
        log("info", "started", container=c.name)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as e:
        log("error", "start_failed", container=cid, error=str(e))


def watch(client, labels):
    since = int(time.time())
    for c in client.containers.list(filters={"label": labels, "health": "unhealthy"}):
        heal(client, c.id, "unhealthy at start")
    events = client.events(decode=True, since=since, filters={
        "type": "container", "event": ["health_status", "die", "kill"], "label": labels})
    for ev in events:
        status = ev.get("status", "").strip()
        if status == "kill":
            # SIGTERM or SIGKILL (a stop, kill or restart), not a signal
            # sent to reload something.
            if ev.get("Actor", {}).get("Attributes", {}).get("signal") in ("9", "15"):
                with LOCK:
                    KILLED.add(ev["id"])
        elif status == "die":
            on_die(client, ev["id"], ev.get("Actor", {}).get("Attributes", {}).get("exitCode"))
        elif status == "health_status: unhealthy":
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
