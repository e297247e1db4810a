# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it, do not run it.
# Each script that sources it sets -euo pipefail itself.

# Print a progress line to stderr, prefixed with the calling script's name.
log() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Print an error line to stderr and exit with status 1.
die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

require_root() {
	if [[ "$(id -u)" != 0 ]]; then
		die "$1 needs root (apt-get, dockerd); run it as root or with sudo"
	fi
}

# Succeed when the Debian package is installed.
package_installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
	[[ "$status" == "install ok installed" ]]
}

# Install the named Debian packages with apt-get. The package lists are
# refreshed once per run of the top-level script: WERK_APT_UPDATED is exported
# so that scripts started from it skip a second `apt-get update`.
install_packages() {
	(($# > 0)) || return 0
	require_root "installing $*"
	command -v apt-get >/dev/null ||
		die "apt-get not found; install these packages by hand: $*"

	if [[ "${WERK_APT_UPDATED:-}" != 1 ]]; then
		log "apt-get update"
		apt-get update -qq ||
			die "apt-get update failed; check the network and /etc/apt/sources.list"
		export WERK_APT_UPDATED=1
	fi

	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >/dev/null ||
		die "apt-get install failed for: $*"
}

# Put Go on PATH: the Go toolchain of this project's machines lives in
# /usr/local/go, which login shells add to PATH but `bash script` may not.
ensure_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	command -v go >/dev/null ||
		die "go not found on PATH or in /usr/local/go/bin; install the Go version that go.mod names"
}
