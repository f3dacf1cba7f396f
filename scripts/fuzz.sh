#!/usr/bin/env bash
#
# fuzz.sh run|test SECONDS [TARGET...]: the libFuzzer targets of
# tests/fuzz/ (built by `make fuzz-build` into .build/fuzz/bin/).
#
#   run   `make fuzz`: each target fuzzes for SECONDS, one after the
#         other, into a corpus that grows across runs,
#         .build/fuzz/corpus/TARGET (started from the committed seeds,
#         tests/fuzz/corpus/TARGET); a table of the figures (executions,
#         coverage, corpus) goes to .build/fuzz/summary.md
#   test  the test command's version: each target first replays its
#         committed seeds (a regression run), then fuzzes SECONDS from
#         them into a throwaway corpus
#
# Every target gets its dictionary (tests/fuzz/dict/TARGET.dict) and its
# libFuzzer options (tests/fuzz/TARGET.options, one per line) when it has
# them. A crash, a leak, a sanitizer report, a violated property, a
# timeout or an out-of-memory is a failure: the input that caused it is
# kept in .build/fuzz/crashes/TARGET/ and its path printed with the
# command that replays it. The last line is "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="fuzz"

FUZZ_DIR="$REPO_ROOT/.build/fuzz"
SEEDS="$REPO_ROOT/tests/fuzz/corpus"
PASSED=0
FAILED=0
ROWS=()

usage() {
	echo "usage: $0 run|test SECONDS [TARGET...]" >&2
	exit 2
}

# final_stat NAME LOG: a figure of libFuzzer's -print_final_stats=1.
final_stat() {
	sed -n "s/^stat::$1: *\\([0-9]*\\)$/\\1/p" "$2" | tail -n 1
}

# last_status FIELD LOG: cov, ft or corp of the last status line.
last_status() {
	grep -a -E '^#[0-9]+' "$2" | tail -n 1 |
	    sed -n "s/.* $1: \\([0-9/a-zA-Z]*\\).*/\\1/p"
}

# fuzz_one MODE SECONDS TARGET
fuzz_one() {
	local mode="$1" seconds="$2" target="$3" bin corpus log rc=0 t0 args
	local crashes="$FUZZ_DIR/crashes/$target" artifact
	bin="$FUZZ_DIR/bin/$target"
	[ -x "$bin" ] || die "$bin missing: make fuzz-build"
	mkdir -p "$crashes" "$FUZZ_DIR/logs" "$SEEDS/$target"
	log="$FUZZ_DIR/logs/$target.log"
	if [ "$mode" = run ]; then
		corpus="$FUZZ_DIR/corpus/$target"
	else
		corpus="$FUZZ_DIR/tmp/$target"
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus"

	args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10
	    -rss_limit_mb=2048 -artifact_prefix="$crashes/")
	[ -f "$REPO_ROOT/tests/fuzz/dict/$target.dict" ] &&
	    args+=(-dict="$REPO_ROOT/tests/fuzz/dict/$target.dict")
	if [ -f "$REPO_ROOT/tests/fuzz/$target.options" ]; then
		mapfile -t -O "${#args[@]}" args < <(grep -v '^#' \
		    "$REPO_ROOT/tests/fuzz/$target.options" | grep .)
	fi

	t0=$SECONDS
	# shellcheck source=scripts/sanitize.sh
	# BOT_PATTERNS: the bot list fuzz_uaclass classifies with.
	(. "$SCRIPTS/sanitize.sh" && cd "$FUZZ_DIR" &&
	    BOT_PATTERNS="$REPO_ROOT/assets/data/isbot-patterns.json" \
	    "$bin" "${args[@]}" "$corpus" "$SEEDS/$target") >"$log" 2>&1 || rc=$?

	if [ "$rc" -ne 0 ]; then
		FAILED=$((FAILED + 1))
		artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
		grep -a -E 'ERROR|property violated|runtime error|SUMMARY' "$log" | head -n 5 >&2 || true
		log "FAIL $target (exit $rc after $((SECONDS - t0)) s; log $log)"
		if [ -n "$artifact" ]; then
			log "  reproducer: $artifact"
			log "  replay:     $bin $artifact"
		fi
		return 0
	fi

	PASSED=$((PASSED + 1))
	local execs rate cov ft corp
	execs="$(final_stat number_of_executed_units "$log")"
	rate="$(final_stat average_exec_per_sec "$log")"
	cov="$(last_status cov "$log")"
	ft="$(last_status ft "$log")"
	corp="$(last_status corp "$log")"
	log "PASS $target: ${execs:-?} executions in $((SECONDS - t0)) s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (inputs/bytes)"
	ROWS+=("| $target | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $(find "$SEEDS/$target" -type f | wc -l) | ${corp:-?} |")
}

summary() {
	local out="$FUZZ_DIR/summary.md" row
	{
		echo "| target | executions | per second | coverage (edges) | features | seeds | corpus (inputs/bytes) |"
		echo "|---|---|---|---|---|---|---|"
		for row in "${ROWS[@]}"; do
			echo "$row"
		done
	} >"$out"
	log "figures: $out"
}

main() {
	local mode="${1:-}" seconds="${2:-}" targets t
	case "$mode" in run | test) ;; *) usage ;; esac
	[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
	shift 2
	if [ $# -gt 0 ]; then
		targets=("$@")
	else
		mapfile -t targets < <(cd "$REPO_ROOT/tests/fuzz" &&
		    ls fuzz_*.c | sed 's/\.c$//')
	fi
	[ ${#targets[@]} -gt 0 ] || die "no fuzz targets in tests/fuzz"
	make -C "$REPO_ROOT" --no-print-directory -s fuzz-build
	log "$mode: ${#targets[@]} targets, $seconds s each"
	for t in "${targets[@]}"; do
		fuzz_one "$mode" "$seconds" "$t"
	done
	[ "$mode" = run ] && summary
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

main "$@"
