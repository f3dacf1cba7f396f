#!/usr/bin/env bash
#
# build.sh [FLAVOR]: build the Kore module .build/shortener/shortener.so.
#
# kodev names the application after the basename of the current directory,
# so a checkout named anything else (CI clones into a directory of unknown
# name) cannot be built in place. The build therefore runs in a link farm,
# .build/shortener/, whose conf/, src/ and assets/ point back at the repo.
# Each flavor has its own farm, .build/FLAVOR/shortener/, so that building
# one (make test builds cov) never replaces the module a running stack
# (prod) has loaded. Objects land in .build/FLAVOR/shortener/.objs (and, in
# the cov flavor, so do
# the .gcno/.gcda files).
#
# kodev rebuilds by source mtime only: a flavor switch, a header change or
# a build.conf change needs `kodev clean` first, which this script does.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLAVOR="${1:-${FLAVOR:-dev}}"
BUILD_DIR="$REPO_ROOT/.build/$FLAVOR"
FARM="$BUILD_DIR/shortener"

# Relative links keep the farm valid when the checkout moves.
make_farm() {
	local d
	mkdir -p "$FARM"
	for d in conf src assets; do
		[ -e "$REPO_ROOT/$d" ] || mkdir -p "$REPO_ROOT/$d"
		ln -sfn "../../../$d" "$FARM/$d"
	done
}

# needs_clean: true when the objects cannot be trusted for this build.
needs_clean() {
	local so="$FARM/shortener.so" last=""
	[ -f "$BUILD_DIR/flavor" ] && last="$(cat "$BUILD_DIR/flavor")"
	[ "$last" != "$FLAVOR" ] && return 0
	[ -f "$so" ] || return 1
	# Any header or build setting newer than the module invalidates
	# every object: kodev does not track includes.
	[ -n "$(find -L "$FARM/src" "$FARM/conf/build.conf" -newer "$so" \
	    \( -name '*.h' -o -name build.conf \) -print -quit)" ]
}

main() {
	need_cmd kodev
	grep -Eq "^[[:space:]]*${FLAVOR}[[:space:]]*[{]" "$REPO_ROOT/conf/build.conf" ||
		die "no flavor '$FLAVOR' in conf/build.conf"
	make_farm
	cd "$FARM"
	if needs_clean; then
		kodev clean >/dev/null
	fi
	# Record the flavor before building: a failed build must not leave
	# objects that a later build of another flavor would trust.
	echo "$FLAVOR" >"$BUILD_DIR/flavor"
	KORE_BUILD_FLAVOR="$FLAVOR" kodev build
	[ -f "$FARM/shortener.so" ] || die "kodev produced no shortener.so"
}

main "$@"
