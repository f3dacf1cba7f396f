#!/usr/bin/python3
"""load_report.py DIR [COMMAND...]: run a Locust load test and report it.

  load_report.py DIR locust ... --csv DIR/locust ...
      checks that the target answers /health (LOAD_HOST, default
      http://127.0.0.1:8080), runs the command (its output goes to
      DIR/locust.log), measuring the CPU it uses and the CPU the whole
      machine uses meanwhile and in the 2 s before, then reports
  load_report.py DIR
      reports an earlier run again

The report, from DIR/locust_stats.csv: requests, requests/s, p50, p95, p99,
max and failures per endpoint and in total; the 429s recorded as
backpressure (locustfile.py); Locust's own CPU use, which on a small machine
decides whether the figures measure the service or the load generator; and a
verdict against the targets P95_MAX_MS (100) and MAX_FAILURES (0). Exit
status 1 when a target is missed or the command failed for another reason
than failed requests (Locust exits 1 when any request failed: the report
says which).

`make load` is the usual way in (USERS, SPAWN, DURATION, HOST).
"""

import csv
import glob
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request

CPU_FILE = "cpu.json"


def die(msg):
    sys.exit("load_report: error: %s" % msg)


def cpu_jiffies():
    """(busy, total) jiffies of the machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields)
    return total - fields[3] - fields[4], total  # idle, iowait


def busy_between(a, b):
    return (b[0] - a[0]) / (b[1] - a[1]) if b[1] > a[1] else 0.0


def per_command_cpu():
    """CPU seconds used so far by every running process, summed by command
    name (kore, postgres, nginx, redis-server, ...)."""
    hz = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(path) as f:
                line = f.read()
        except OSError:  # gone while we read
            continue
        m = re.match(r"^\d+ \((.*)\) [A-Z] (.*)$", line.strip(), re.S)
        if not m:
            continue
        name = m.group(1).split("/")[0].replace(" ", "_")
        f = m.group(2).split()
        cpu[name] = cpu.get(name, 0.0) + (int(f[10]) + int(f[11])) / hz  # utime, stime
    return cpu


def run(d, cmd):
    host = os.environ.get("LOAD_HOST", "http://127.0.0.1:8080")
    try:
        urllib.request.urlopen(host + "/health", timeout=5).read()
    except OSError as e:
        die("%s/health does not answer (%s): start the stack first (make up)" % (host, e))
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "locust_*.csv")) + glob.glob(os.path.join(d, CPU_FILE)):
        os.remove(old)
    # How busy the machine is before the run: anything else running
    # competes with the stack and with Locust for the same cores.
    j0 = cpu_jiffies()
    time.sleep(2)
    busy_before = busy_between(j0, cpu_jiffies())
    j0, before = cpu_jiffies(), per_command_cpu()
    self0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("load_report: running: %s" % " ".join(cmd), file=sys.stderr)
    t0 = time.monotonic()
    with open(os.path.join(d, "locust.log"), "w") as log:
        try:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        except OSError as e:
            die("%s: %s" % (cmd[0], e))
    wall = time.monotonic() - t0
    j1, after = cpu_jiffies(), per_command_cpu()
    self1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmds = sorted(((n, s - before.get(n, 0.0)) for n, s in after.items()
                   if s - before.get(n, 0.0) > 0.05), key=lambda c: -c[1])
    with open(os.path.join(d, CPU_FILE), "w") as f:
        json.dump({"cores": os.cpu_count(), "busy_before": busy_before, "wall": wall,
                   "machine_busy": busy_between(j0, j1),
                   "locust_user": self1.ru_utime - self0.ru_utime,
                   "locust_sys": self1.ru_stime - self0.ru_stime, "cmds": cmds}, f, indent=1)
    if rc > 1:
        with open(os.path.join(d, "locust.log"), errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-30:]))
        die("the load generator failed (exit %d; log: %s/locust.log)" % (rc, d))


def ms(v):
    return "-" if v in ("", "N/A") else "%.0f" % float(v)


def report_cpu(d):
    path = os.path.join(d, CPU_FILE)
    if not os.path.exists(path):
        return
    with open(path) as f:
        cpu = json.load(f)
    wall = cpu["wall"] or 1
    locust = (cpu["locust_user"] + cpu["locust_sys"]) / wall
    print("\nmachine busy before the run: %.0f%%%s" % (
        100 * cpu["busy_before"], " (something else is running: the figures are not the "
        "stack's alone)" if cpu["busy_before"] > 0.2 else ""))
    print("CPU over %.0f s on %d cores: machine %.0f%% busy; locust %.2f cores (%.0f%% of the "
          "machine, %.0f%% of its one core)" % (wall, cpu["cores"], 100 * cpu["machine_busy"],
                                                locust, 100 * locust / cpu["cores"],
                                                100 * locust))
    if cpu["cmds"]:
        print("  cores used, by command: " + ", ".join(
            "%s %.2f" % (c, s / wall) for c, s in cpu["cmds"][:8]))
    log = os.path.join(d, "locust.log")
    if os.path.exists(log) and "CPU usage above" in open(log, errors="replace").read():
        print("  Locust warned that its CPU usage went above 90% (see locust.log)")
    if locust > 0.9:
        print("  locust used more than 90% of a core: the figures measure the load generator too")


def report(d, p95_max, max_failures):
    stats = os.path.join(d, "locust_stats.csv")
    if not os.path.exists(stats):
        die("%s missing: no run to report" % stats)
    with open(stats) as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    rows = sorted((r for r in rows if r["Name"] != "Aggregated"),
                  key=lambda r: -int(r["Request Count"]))
    fmt = "{:<7} {:<46} {:>8} {:>8} {:>5} {:>5} {:>5} {:>6} {:>8}"
    print(fmt.format("method", "name", "requests", "req/s", "p50", "p95", "p99", "max",
                     "failures"))
    for r in rows + [total]:
        print(fmt.format(r["Type"] or "", r["Name"][:46], r["Request Count"],
                         "%.1f" % float(r["Requests/s"]), ms(r["50%"]), ms(r["95%"]),
                         ms(r["99%"]), ms(r["Max Response Time"]), r["Failure Count"]))
    print("(times in ms)")
    backpressure = sum(int(r["Request Count"]) for r in rows if "429" in r["Name"])
    if backpressure:
        print("\n429 with Retry-After (nginx's write limit, counted as expected): %d"
              % backpressure)
    failures = os.path.join(d, "locust_failures.csv")
    if os.path.exists(failures):
        with open(failures) as f:
            fails = sorted(csv.DictReader(f), key=lambda f: -int(f["Occurrences"]))
        if fails:
            print("\nfailures:")
            for f in fails[:10]:
                print("  %6s  %s %s: %s" % (f["Occurrences"], f["Method"], f["Name"],
                                            f["Error"][:100]))
    report_cpu(d)
    p95, nfail = float(total["95%"]), int(total["Failure Count"])
    ok = p95 < p95_max and nfail <= max_failures
    print("\ntotal: %.0f requests/s, p50 %s ms, p95 %s ms, p99 %s ms, %d failures of %s "
          "requests" % (float(total["Requests/s"]), ms(total["50%"]), ms(total["95%"]),
                        ms(total["99%"]), nfail, total["Request Count"]))
    print("targets (p95 < %.0f ms, failures <= %d): %s"
          % (p95_max, max_failures, "met" if ok else "MISSED"))
    return ok


def main(argv):
    if not argv:
        sys.exit("usage: load_report.py DIR [COMMAND...]")
    d, cmd = argv[0], argv[1:]
    if cmd:
        run(d, cmd)
    ok = report(d, float(os.environ.get("P95_MAX_MS", "100")),
                int(os.environ.get("MAX_FAILURES", "0")))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
