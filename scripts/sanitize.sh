# shellcheck shell=sh
#
# The sanitizer runtime settings, in one place: `make unit-asan`, the
# asan flavor of the app (scripts/app.sh) and the fuzzers
# (scripts/fuzz.py) source this file. POSIX sh, so make's recipes can
# source it too. Sourced, never run.
#
#   halt_on_error / -fno-sanitize-recover: the first report ends the
#       process with a non-zero status, so a test cannot pass over it
#   detect_leaks: LeakSanitizer at exit (SANITIZE_LEAKS=0 turns it off,
#       e.g. for a process that cannot exit normally)
#   abort_on_error=0: exit with exitcode, not SIGABRT, so no core files
#
# Settings already in the environment win (a developer's log_path=...):
# ours come first and later entries of the same variable override.
SANITIZE_LEAKS="${SANITIZE_LEAKS:-1}"
ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=$SANITIZE_LEAKS:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
LSAN_OPTIONS="exitcode=88${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
