#!/usr/bin/env bash
#
# load-report.sh DIR [COMMAND...]: run a Locust load test and report it.
#
#   load-report.sh DIR locust ... --csv DIR/locust ...
#       checks that the target answers /health (LOAD_HOST, default
#       http://127.0.0.1:8080), runs the command (its output goes to
#       DIR/locust.log), measuring the CPU it uses and the CPU the whole
#       machine uses meanwhile and in the 2 s before, then reports
#   load-report.sh DIR
#       reports an earlier run again
#
# The report, from DIR/locust_stats.csv: requests, requests/s, p50, p95,
# p99, max and failures per endpoint and in total; the 429s recorded as
# backpressure (locustfile.py); Locust's own CPU use, which on a small
# machine decides whether the figures measure the service or the load
# generator; and a verdict against the targets P95_MAX_MS (100) and
# MAX_FAILURES (0). Exit status: 1 when a target is missed or the command
# failed for another reason than failed requests.
#
# `make load` is the usual way in (USERS, SPAWN, DURATION, HOST).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P95_MAX_MS="${P95_MAX_MS:-100}"
MAX_FAILURES="${MAX_FAILURES:-0}"

[ $# -ge 1 ] || { echo "usage: $0 DIR [COMMAND...]" >&2; exit 2; }
DIR="$1"
shift

# cpu_jiffies: busy and total jiffies of the machine, from /proc/stat.
cpu_jiffies() {
	awk '$1 == "cpu" {
		total = 0; for (i = 2; i <= NF; i++) total += $i
		print total - $5 - $6, total }' /proc/stat
}

# per_command_cpu FILE: CPU seconds used so far by every running process,
# summed by command name (kore, postgres, nginx, redis-server, ...).
per_command_cpu() {
	local hz
	hz="$(getconf CLK_TCK)"
	# Processes come and go while cat reads: its status means nothing.
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v hz="$hz" '{
		o = index($0, "("); c = match($0, /\) [A-Z] /)
		if (!o || !c) next
		name = substr($0, o + 1, c - o - 1); sub(/\/.*/, "", name); gsub(/ /, "_", name)
		split(substr($0, c + 2), f, " ")
		cpu[name] += (f[12] + f[13]) / hz
	} END { for (n in cpu) print n, cpu[n] }' >"$1"
}

run() {
	local host="${LOAD_HOST:-http://127.0.0.1:8080}" rc=0 b0 t0 b1 t1 start end idle_busy
	need_cmd "$1"
	curl -fsS -m 5 -o /dev/null "$host/health" ||
	    die "$host/health does not answer: start the stack first (make up)"
	mkdir -p "$DIR"
	rm -f "$DIR"/locust_*.csv "$DIR/cpu.txt"
	# How busy the machine is before the run: anything else running
	# competes with the stack and with Locust for the same cores.
	read -r b0 t0 < <(cpu_jiffies)
	sleep 2
	read -r b1 t1 < <(cpu_jiffies)
	idle_busy="$(awk -v b0="$b0" -v t0="$t0" -v b1="$b1" -v t1="$t1" \
	    'BEGIN { print (t1 > t0) ? (b1 - b0) / (t1 - t0) : 0 }')"
	read -r b0 t0 < <(cpu_jiffies)
	per_command_cpu "$DIR/cpu-before.txt"
	start="$(date +%s.%N)"
	# bash's `time` reports the command's own CPU (user, sys) and the
	# wall time; the command's stderr still goes to the terminal.
	# Its output (the summary tables, warnings) goes to DIR/locust.log:
	# the report below says it more briefly.
	log "running: $*"
	{ TIMEFORMAT='%U %S %R'; time "$@" >"$DIR/locust.log" 2>&1; } \
	    2>"$DIR/time.txt" || rc=$?
	end="$(date +%s.%N)"
	read -r b1 t1 < <(cpu_jiffies)
	per_command_cpu "$DIR/cpu-after.txt"
	{
		echo "cores $(nproc)"
		echo "busy_before $idle_busy"
		echo "wall $(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
		echo "machine_busy $(awk -v b0="$b0" -v t0="$t0" -v b1="$b1" -v t1="$t1" \
		    'BEGIN { print (t1 > t0) ? (b1 - b0) / (t1 - t0) : 0 }')"
		awk '{ print "locust_user", $1; print "locust_sys", $2 }' "$DIR/time.txt"
		# CPU seconds per command name during the run, largest first.
		awk 'NR == FNR { before[$1] = $2; next }
		    { d = $2 - before[$1]; if (d > 0.05) printf "cmd %s %.2f\n", $1, d }' \
		    "$DIR/cpu-before.txt" "$DIR/cpu-after.txt" | sort -k3 -rn
	} >"$DIR/cpu.txt"
	rm -f "$DIR/cpu-before.txt" "$DIR/cpu-after.txt"
	# Locust exits 1 when any request failed: the report says which.
	if [ "$rc" -gt 1 ]; then
		tail -n 30 "$DIR/locust.log" >&2
		die "the load generator failed (exit $rc; log: $DIR/locust.log)"
	fi
}

report() {
	[ -f "$DIR/locust_stats.csv" ] || die "$DIR/locust_stats.csv missing: no run to report"
	python3 - "$DIR" "$P95_MAX_MS" "$MAX_FAILURES" <<'EOF'
import csv, os, sys

d, p95_max, max_failures = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rows = list(csv.DictReader(open(os.path.join(d, "locust_stats.csv"))))
total = next(r for r in rows if r["Name"] == "Aggregated")
rows = [r for r in rows if r["Name"] != "Aggregated"]
rows.sort(key=lambda r: -int(r["Request Count"]))

def ms(v):
    return "-" if v in ("", "N/A") else f"{float(v):.0f}"

fmt = "{:<7} {:<46} {:>8} {:>8} {:>5} {:>5} {:>5} {:>6} {:>8}"
print(fmt.format("method", "name", "requests", "req/s", "p50", "p95", "p99", "max", "failures"))
for r in rows + [total]:
    print(fmt.format(r["Type"] or "", r["Name"][:46], r["Request Count"],
                     f"{float(r['Requests/s']):.1f}", ms(r["50%"]), ms(r["95%"]),
                     ms(r["99%"]), ms(r["Max Response Time"]), r["Failure Count"]))
print("(times in ms)")

backpressure = sum(int(r["Request Count"]) for r in rows if "429" in r["Name"])
if backpressure:
    print(f"\n429 with Retry-After (nginx's write limit, counted as expected): {backpressure}")

failures_csv = os.path.join(d, "locust_failures.csv")
if os.path.exists(failures_csv):
    fails = list(csv.DictReader(open(failures_csv)))
    if fails:
        print("\nfailures:")
        for f in sorted(fails, key=lambda f: -int(f["Occurrences"]))[:10]:
            print(f"  {f['Occurrences']:>6}  {f['Method']} {f['Name']}: {f['Error'][:100]}")

cpu_txt = os.path.join(d, "cpu.txt")
if os.path.exists(cpu_txt):
    cpu, cmds = {}, []
    for line in open(cpu_txt):
        k, *v = line.split()
        if k == "cmd":
            cmds.append((v[0], float(v[1])))
        else:
            cpu[k] = float(v[0])
    wall = cpu["wall"] or 1
    locust = (cpu["locust_user"] + cpu["locust_sys"]) / wall
    if "busy_before" in cpu:
        print(f"\nmachine busy before the run: {cpu['busy_before']:.0%}"
              + (" (something else is running: the figures are not the stack's alone)"
                 if cpu["busy_before"] > 0.2 else ""))
    print(f"CPU over {wall:.0f} s on {cpu['cores']:.0f} cores: machine {cpu['machine_busy']:.0%} busy; "
          f"locust {locust:.2f} cores ({locust / cpu['cores']:.0%} of the machine, "
          f"{locust:.0%} of its one core)")
    if cmds:
        print("  cores used, by command: " + ", ".join(
            f"{c} {s / wall:.2f}" for c, s in cmds[:8]))
    log = os.path.join(d, "locust.log")
    if os.path.exists(log) and "CPU usage above" in open(log, errors="replace").read():
        print("  Locust warned that its CPU usage went above 90% (see locust.log)")
    if locust > 0.9:
        print("  locust used more than 90% of a core: the figures measure the load generator too")

p95, failures = float(total["95%"]), int(total["Failure Count"])
ok = p95 < p95_max and failures <= max_failures
print(f"\ntotal: {float(total['Requests/s']):.0f} requests/s, p50 {ms(total['50%'])} ms, "
      f"p95 {ms(total['95%'])} ms, p99 {ms(total['99%'])} ms, {failures} failures "
      f"of {total['Request Count']} requests")
print(f"targets (p95 < {p95_max:.0f} ms, failures <= {max_failures}): {'met' if ok else 'MISSED'}")
sys.exit(0 if ok else 1)
EOF
}

if [ $# -gt 0 ]; then
	run "$@"
fi
report
