#!/usr/bin/env bash
# Run every check of the repository: install the Debian packages the tests
# use, start Docker, build the box images, then gofmt, go vet and
# go test -race. CI runs this through .ci/run.
#
# Usage: scripts/test.sh [go test flags] [packages]
#   Arguments that start with ./ or ../, or that are ".", are package
#   patterns for gofmt, go vet and go test (default ./...). All other
#   arguments go to go test only. Example:
#     scripts/test.sh -run TestRegistry ./internal/...
#
# Run it as root on a machine where the packages or Docker may be missing;
# when everything is present it installs nothing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

current_phase=""
phase_started=0
phase_report=()

start_phase() {
	finish_phase
	current_phase="$1"
	phase_started=$SECONDS
	printf '\n==== %s\n' "$current_phase"
}

finish_phase() {
	if [[ -n "$current_phase" ]]; then
		phase_report+=("$(printf '%5ds  %s' $((SECONDS - phase_started)) "$current_phase")")
		current_phase=""
	fi
}

# Print the time of each phase, and on failure the phase that failed.
report_on_exit() {
	local status=$?
	local failed_phase="$current_phase"
	finish_phase
	printf '\n==== timings\n'
	printf '%s\n' "${phase_report[@]}"
	printf '%5ds  total\n' "$SECONDS"
	if ((status != 0)); then
		printf '\n==== FAILED in phase: %s (exit status %d)\n' "${failed_phase:-setup}" "$status"
	fi
}
trap report_on_exit EXIT

install_test_packages() {
	local missing=()
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		missing+=(docker.io)
	fi
	command -v iptables >/dev/null || missing+=(iptables)
	package_installed busybox-static || missing+=(busybox-static)
	package_installed bash-static || missing+=(bash-static)
	[[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
	command -v htpasswd >/dev/null || missing+=(apache2-utils)
	command -v tmux >/dev/null || missing+=(tmux)
	if ((${#missing[@]} == 0)); then
		log "all test packages are installed"
		return 0
	fi
	install_packages "${missing[@]}"
}

# Check the .go files of the packages that the arguments name, as gofmt -l
# lists them. testdata folders are left out, as go vet and go test do.
check_gofmt() {
	local dirs=() files=() unformatted
	mapfile -t dirs < <(go list -e -f '{{.Dir}}' "$@")
	local dir
	for dir in "${dirs[@]}"; do
		files+=("$dir"/*.go)
	done
	unformatted="$(gofmt -l "${files[@]}")"
	if [[ -n "$unformatted" ]]; then
		printf '%s\n' "$unformatted" >&2
		die "these files are not gofmt-formatted; run 'gofmt -w' on them"
	fi
	log "${#files[@]} Go files in ${#dirs[@]} packages are gofmt-formatted"
}

main() {
	local packages=() go_test_flags=() arg
	for arg in "$@"; do
		case "$arg" in
		. | ./* | ../*) packages+=("$arg") ;;
		*) go_test_flags+=("$arg") ;;
		esac
	done
	((${#packages[@]} > 0)) || packages=(./...)

	start_phase "go toolchain"
	ensure_go
	go version

	start_phase "test packages"
	install_test_packages

	start_phase "Docker engine"
	bash scripts/docker-up.sh
	export WERK_TEST_DOCKER=1
	docker version --format 'client {{.Client.Version}}, engine {{.Server.Version}} (API {{.Server.APIVersion}})'

	start_phase "box images"
	bash scripts/box-images.sh

	start_phase "gofmt"
	check_gofmt "${packages[@]}"

	start_phase "go vet"
	go vet "${packages[@]}"

	start_phase "go test"
	go test -race -count=1 -timeout 20m "${go_test_flags[@]}" "${packages[@]}"

	finish_phase
}

main "$@"
