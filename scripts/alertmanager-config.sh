#!/usr/bin/env bash
#
# alertmanager-config.sh OUT: renders alertmanager/alertmanager.yml.tmpl
# into OUT with the webhook URL from the environment.
#
#   ALERT_WEBHOOK_URL   where Alertmanager POSTs notifications (required,
#                       http:// or https://)
#
# Alertmanager reads no environment itself (and 0.25, Debian 12's, has no
# url_file), hence this step. Only the placeholder ${ALERT_WEBHOOK_URL} on
# non-comment lines is replaced, by the URL as a single-quoted YAML string;
# OUT gets mode 600 since such URLs often carry a token. When amtool is
# installed the result is checked with `amtool check-config`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
	[ $# -eq 1 ] || { echo "usage: ALERT_WEBHOOK_URL=URL $0 OUT" >&2; exit 2; }
	local out="$1" tmpl="$REPO_ROOT/alertmanager/alertmanager.yml.tmpl"
	local url="${ALERT_WEBHOOK_URL:-}"
	[ -n "$url" ] || die "ALERT_WEBHOOK_URL is not set"
	[[ "$url" =~ ^https?://[^[:space:]]+$ ]] || die "ALERT_WEBHOOK_URL must be an http(s) URL without spaces"
	[ -f "$tmpl" ] || die "$tmpl missing"
	# shellcheck disable=SC2016 # the placeholder, literally
	grep -v '^[[:space:]]*#' "$tmpl" | grep -qF '${ALERT_WEBHOOK_URL}' || die "no \${ALERT_WEBHOOK_URL} in $tmpl"
	# YAML single quotes: the only escape is '' for '.
	local quoted="'${url//\'/\'\'}'"
	mkdir -p "$(dirname "$out")"
	(
		umask 077
		QUOTED="$quoted" awk '
			!/^[ \t]*#/ {
				while ((p = index($0, "${ALERT_WEBHOOK_URL}")) > 0)
					$0 = substr($0, 1, p - 1) ENVIRON["QUOTED"] \
					    substr($0, p + 20)
			}
			{ print }' "$tmpl" >"$out.tmp"
	)
	mv "$out.tmp" "$out"
	if command -v amtool >/dev/null 2>&1; then
		amtool check-config "$out" >/dev/null ||
			die "amtool check-config refused $out"
	fi
	log "wrote $out"
}

main "$@"
