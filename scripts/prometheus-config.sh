#!/usr/bin/env bash
#
# prometheus-config.sh OUTDIR [--interval D] [HOST:PORT=NEWHOST:NEWPORT | HOST:PORT= ...]
#
# Renders the repository's prometheus.yml for a run outside docker-compose
# (the Docker-free stack, the tests): OUTDIR/prometheus.yml and a copy of
# prometheus/ (the rule files, which prometheus.yml names relative to its
# own directory). Only literal rewrites, as the header of prometheus.yml
# describes, so there is never a second hand-written configuration:
#
#   app1:8080=127.0.0.1:8081   every occurrence of app1:8080 becomes 127.0.0.1:8081
#   app2:8080=                 the target line "- app2:8080" is deleted
#   --interval 1s              scrape_interval and evaluation_interval of `global`
#
# Each HOST:PORT given must occur in prometheus.yml outside comments (a typo would otherwise
# leave a production address in place). Prints OUTDIR/prometheus.yml.
#
# Example (one app on 8081, Prometheus on 9090, no Alertmanager):
#   scripts/prometheus-config.sh run/prometheus app1:8080=127.0.0.1:8081 \
#       app2:8080= app3:8080= alertmanager:9093= localhost:9090=127.0.0.1:9090
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: $0 OUTDIR [--interval D] [HOST:PORT=[NEWHOST:NEWPORT] ...]" >&2
	exit 2
}

main() {
	[ $# -ge 1 ] || usage
	local out="$1" src="$REPO_ROOT/prometheus.yml" interval="" arg
	local -a from=() to=()
	shift
	while [ $# -gt 0 ]; do
		arg="$1"
		shift
		case "$arg" in
		--interval)
			[ $# -ge 1 ] || usage
			interval="$1"
			shift
			[[ "$interval" =~ ^[0-9]+(ms|s|m|h)$ ]] || die "bad interval: $interval"
			;;
		*=*)
			from+=("${arg%%=*}")
			to+=("${arg#*=}")
			[[ "${from[-1]}" =~ ^[A-Za-z0-9_.-]+:[0-9]+$ ]] ||
				die "not HOST:PORT: ${from[-1]}"
			;;
		*) usage ;;
		esac
	done
	[ -f "$src" ] || die "$src missing"
	local i
	for i in "${!from[@]}"; do
		grep -v '^[[:space:]]*#' "$src" | grep -qF -- "${from[$i]}" || die "${from[$i]} does not occur in prometheus.yml"
	done
	mkdir -p "$out"
	# Literal (index/substr) replacement: no regex metacharacters to escape.
	awk -v interval="$interval" -v n="${#from[@]}" \
	    -v froms="$(printf '%s\n' "${from[@]+"${from[@]}"}")" \
	    -v tos="$(printf '%s\n' "${to[@]+"${to[@]}"}")" '
		function replace_all(s, a, b,    r, p) {
			r = ""
			while ((p = index(s, a)) > 0) {
				r = r substr(s, 1, p - 1) b
				s = substr(s, p + length(a))
			}
			return r s
		}
		BEGIN {
			split(froms, f, "\n"); split(tos, t, "\n")
		}
		/^[^ \t#]/ { top = $1 }
		interval != "" && top == "global:" &&
		    $1 ~ /^(scrape|evaluation)_interval:$/ {
			sub(/:.*/, ": " interval)
		}
		{
			for (i = 1; i <= n; i++) {
				if (t[i] == "") {
					line = $0
					gsub(/^[ \t]*-[ \t]*|[ \t]*$/, "", line)
					if (line == f[i]) next
					continue
				}
				$0 = replace_all($0, f[i], t[i])
			}
			print
		}' "$src" >"$out/prometheus.yml.tmp"
	mv "$out/prometheus.yml.tmp" "$out/prometheus.yml"
	rm -rf "$out/prometheus"
	cp -R "$REPO_ROOT/prometheus" "$out/prometheus"
	echo "$out/prometheus.yml"
}

main "$@"
