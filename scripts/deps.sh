#!/usr/bin/env bash
#
# deps.sh [--compose|--docker]: install the Debian 12 packages the project
# needs, when missing.
#
# The one list of system packages lives here, in three groups:
#   (none)     PACKAGES: everything `make up` and `make test` use
#   --compose  COMPOSE_PACKAGES only: what scripts/compose.py needs to drive
#              an engine (`make compose-up` on a machine that has one)
#   --docker   DOCKER_PACKAGES only: an engine and the tool that makes a
#              base image without a registry; scripts/compose.py installs
#              them when no engine answers (never beside another engine's
#              packages: docker.io conflicts with Docker's own docker-ce) Silent when everything is
# installed, so `make up`/`make test` can call it every time. Installs run
# with a policy-rc.d that forbids starting services: redis, nginx and
# postgresql would otherwise start system daemons on the ports the
# project uses (and fail noisily where there is no init system).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
	# build and unit tests (gcc's ASan/UBSan runtimes come with
	# build-essential)
	kore build-essential pkg-config
	libjansson-dev libcsv-dev libhiredis-dev libpq-dev
	# SHA-256 of API keys (libcrypto), IDNA of link hosts
	libssl-dev libidn2-dev
	libcurl4-openssl-dev libcriterion-dev gcovr
	# fuzz targets: clang and its libFuzzer, ASan and UBSan runtimes
	clang-14 libclang-rt-14-dev
	# the hostile HTTP corpus (tests/hostile)
	python3-pytest
	# services of the stack
	postgresql postgresql-client redis-server nginx prometheus
	# amtool, to check the Alertmanager configuration
	prometheus-alertmanager
	# process supervision of the Docker-free stack (supervisord)
	supervisor
	# load tests and tooling (valgrind: the benchmark's instructions per
	# request; procps: ps and pkill, for the test scripts;
	# openssl: the stacks' self-signed TLS certificate)
	wrk python3 python3-locust python3-pytest python3-yaml curl jq valgrind
	docker-compose procps openssl
	# web app, QR codes, click analytics: build and tests (a real browser,
	# a QR decoder, JSON Schema for the OpenAPI conformance checks, plots
	# for docs/observability.md's dashboard rendering)
	libqrencode-dev libpcre2-dev zlib1g-dev chromium chromium-driver
	python3-selenium zbar-tools python3-jsonschema python3-matplotlib
)

COMPOSE_PACKAGES=(docker-compose python3 python3-yaml curl openssl)
# An engine (dockerd, started by scripts/compose.py when none runs) and
# debootstrap, which makes the debian:bookworm-slim base image where no
# registry can be reached.
DOCKER_PACKAGES=(docker.io debootstrap)

POLICY=/usr/sbin/policy-rc.d

missing_packages() {
	local p status
	for p in "${PACKAGES[@]}"; do
		status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
		[ "$status" = installed ] || echo "$p"
	done
}

# Install a policy-rc.d forbidding service starts, unless one exists
# (Debian container images ship one already): never overwrite it, and
# remove only the one we created.
forbid_service_starts() {
	[ -e "$POLICY" ] && return 0
	printf '#!/bin/sh\n# scripts/deps.sh: no service starts during install\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	trap 'rm -f "$POLICY"' EXIT
}

apt_install() {
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			die "not root and no sudo: install these packages: $*"
		sudo=(sudo)
	fi
	# Through env so that sudo keeps them; needrestart (when present)
	# would otherwise scan and prompt.
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
	    NEEDRESTART_SUSPEND=1 apt-get)
	local opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
	    -o Dpkg::Options::=--force-confold)
	[ ${#sudo[@]} -eq 0 ] && forbid_service_starts
	"${apt[@]}" "${opts[@]}" update
	"${apt[@]}" "${opts[@]}" install -y --no-install-recommends "$@"
}

# npm (for the OpenAPI validator the tests run, and `make assets`): the
# machine's own Node.js when it has one, else Debian's.
missing_npm() {
	command -v npm >/dev/null 2>&1 || echo npm
}

main() {
	case "${1:-}" in
	"") ;;
	--compose) PACKAGES=("${COMPOSE_PACKAGES[@]}") ;;
	--docker) PACKAGES=("${DOCKER_PACKAGES[@]}") ;;
	*) echo "usage: $0 [--compose|--docker]" >&2; exit 2 ;;
	esac
	command -v dpkg-query >/dev/null 2>&1 || die "not a Debian system (no dpkg-query)"
	local missing
	mapfile -t missing < <(missing_packages; missing_npm)
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	apt_install "${missing[@]}" </dev/null
	mapfile -t missing < <(missing_packages; missing_npm)
	[ ${#missing[@]} -eq 0 ] || die "still missing after install: ${missing[*]}"
	log "done"
}

main "$@"
