#!/usr/bin/env bash
#
# tls-cert.sh [DIR] [NAME...]: a self-signed certificate for local use,
# DIR/cert.pem and DIR/key.pem (default DIR: run/tls), valid for
# localhost, 127.0.0.1, ::1 and any NAME given, for 825 days. An existing
# pair is kept. Production uses a certificate from a real CA instead,
# mounted where TLS_CERT_FILE and TLS_KEY_FILE point (docs/deploy.md).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
	local dir="${1:-$REPO_ROOT/run/tls}" san="DNS:localhost,IP:127.0.0.1,IP:::1" name
	[ $# -gt 0 ] && shift
	for name in "$@"; do
		san="$san,DNS:$name"
	done
	need_cmd openssl
	mkdir -p "$dir"
	if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ]; then
		log "keeping $dir/cert.pem"
		return 0
	fi
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 \
	    -days 825 -subj "/CN=shortener (self-signed)" \
	    -addext "subjectAltName=$san" \
	    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null)
	chmod 644 "$dir/cert.pem"
	log "self-signed certificate for $san in $dir"
}

main "$@"
