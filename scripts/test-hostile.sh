#!/usr/bin/env bash
#
# test-hostile.sh NAME: the hostile HTTP corpus (tests/hostile, pytest)
# against the service named by HOSTILE_URL, as HOSTILE_VIA (direct or
# nginx) sees it; see tests/hostile/conftest.py for the environment it
# needs (HOSTILE_PIDFILES, DATABASE_URL). scripts/test.sh runs it against
# the sanitized instance directly; tests/stack/test_stack.py runs the
# corpus through nginx itself (pytest, the same environment).
#
# HOSTILE_ARGS adds pytest arguments (e.g. -k, or -m "not slow").
# Results: .build/test-logs/hostile-NAME.xml (JUnit) and .log; the last
# line is "N passed, M failed" (skips and errors reported, errors
# counted as failures).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="hostile"

main() {
	local name="${1:-}" logs="$REPO_ROOT/.build/test-logs" out rc=0
	local passed failed errors
	[ -n "$name" ] || { echo "usage: $0 NAME" >&2; exit 2; }
	need_cmd pytest-3
	need_cmd psql
	mkdir -p "$logs"
	out="$logs/hostile-$name.log"
	log "$name: ${HOSTILE_URL:?} via ${HOSTILE_VIA:?}"
	# shellcheck disable=SC2086 # HOSTILE_ARGS is a list of arguments
	(cd "$REPO_ROOT/tests/hostile" && PYTHONDONTWRITEBYTECODE=1 \
	    pytest-3 -p no:cacheprovider -q -rfEs --tb=short \
	    --junitxml="$logs/hostile-$name.xml" ${HOSTILE_ARGS:-} .) \
	    >"$out" 2>&1 || rc=$?
	grep -E '^(FAILED|ERROR|SKIPPED)' "$out" | sed 's/^/  /' >&2 || true
	tail -n 1 "$out" >&2
	passed="$(tail -n 1 "$out" | grep -oE '[0-9]+ passed' | cut -d' ' -f1 || true)"
	failed="$(tail -n 1 "$out" | grep -oE '[0-9]+ failed' | cut -d' ' -f1 || true)"
	errors="$(tail -n 1 "$out" | grep -oE '[0-9]+ errors?' | cut -d' ' -f1 || true)"
	passed="${passed:-0}"
	failed=$(( ${failed:-0} + ${errors:-0} ))
	# pytest failed without a failed test (a usage error, a crash).
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
	log "$name: details in $out"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
