#!/usr/bin/env bash
# Make a Docker engine respond to `docker info`.
#
# When the engine at DOCKER_HOST (default: the local socket) already
# responds, this exits 0 at once. Otherwise it installs Debian's docker.io if
# dockerd is missing, removes the pid and socket files that a killed daemon
# left behind, starts dockerd detached from this shell and waits for it. Run
# it as root. It is safe to run again at any time, also several times at once.
#
# Environment:
#   WERK_DOCKERD_LOG      daemon log file (default /var/log/werk-dockerd.log)
#   WERK_DOCKER_TIMEOUT   seconds to wait for the daemon (default 60)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$script_dir/lib.sh"

readonly dockerd_log="${WERK_DOCKERD_LOG:-/var/log/werk-dockerd.log}"
readonly start_timeout_seconds="${WERK_DOCKER_TIMEOUT:-60}"
readonly dockerd_pid_file=/var/run/docker.pid
readonly start_lock_file=/var/run/werk-docker-up.lock
# File descriptor of the open start_lock_file, set in main.
lock_fd=""
readonly managed_containerd_pid_file=/var/run/docker/containerd/containerd.pid
# dockerd 20.10 uses a system containerd instead of starting its own whenever
# this socket file exists, so a stale one makes it wait for a dead containerd.
readonly system_containerd_socket=/run/containerd/containerd.sock

docker_responds() {
	command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1
}

# Succeed when PID is a live process whose command name is NAME. A zombie
# does not count: where PID 1 does not reap orphans, a killed dockerd stays
# in the process table.
process_is() {
	local pid="$1" name="$2" comm stat
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
	[[ "$comm" == "$name" ]] || return 1
	stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
	# The state letter follows the command name, which is in parentheses.
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z ]]
}

# Print the pid of a live dockerd, or nothing. It reads /proc because a
# minimal Debian has no pgrep.
find_running_dockerd() {
	local comm_file pid
	for comm_file in /proc/[0-9]*/comm; do
		pid="${comm_file#/proc/}"
		pid="${pid%/comm}"
		if process_is "$pid" dockerd; then
			printf '%s\n' "$pid"
			return 0
		fi
	done
}

# Succeed when some process in this network namespace listens on the Unix
# socket PATH. In /proc/net/unix, flags 00010000 mark a listening socket and
# the eighth field is the path. A minimal Debian has no ss to ask instead.
socket_listening() {
	awk -v path="$1" '$4 == "00010000" && $8 == path { found = 1 } END { exit !found }' /proc/net/unix
}

# Reject a DOCKER_HOST that this script cannot serve by starting a local
# daemon, because starting one would not make that address respond.
check_docker_host() {
	case "${DOCKER_HOST:-}" in
	"" | unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
	*)
		die "no Docker engine responds at DOCKER_HOST=$DOCKER_HOST; start that engine, or unset DOCKER_HOST so that this script starts a local dockerd"
		;;
	esac
}

install_docker() {
	local missing=()
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		missing+=(docker.io)
	fi
	command -v iptables >/dev/null || missing+=(iptables)
	install_packages "${missing[@]}"
	command -v dockerd >/dev/null ||
		die "dockerd is still not on PATH ($PATH) after installing docker.io"
}

# Mount the cgroup hierarchies when nothing has, as on machines without an
# init system, because runc cannot create containers without them.
# NOTE: every machine this was tried on had cgroups mounted at boot, so the
# cgroupfs-mount branch has not run yet.
ensure_cgroups() {
	if grep -qE '^[^ ]+ /sys/fs/cgroup[^ ]* cgroup2? ' /proc/mounts; then
		return 0
	fi
	command -v cgroupfs-mount >/dev/null || install_packages cgroupfs-mount
	log "mounting cgroups with cgroupfs-mount"
	cgroupfs-mount || die "cgroupfs-mount failed; mount the cgroup hierarchies under /sys/fs/cgroup by hand"
}

# Remove the pid and socket files of a daemon that was killed. A live dockerd
# is never touched: the caller waits for it instead.
remove_stale_files() {
	local pid
	if [[ -f "$dockerd_pid_file" ]]; then
		pid="$(cat "$dockerd_pid_file" 2>/dev/null || true)"
		if ! process_is "$pid" dockerd; then
			log "removing stale $dockerd_pid_file (pid '$pid' is not a running dockerd)"
			rm -f "$dockerd_pid_file"
		fi
	fi

	if [[ -f "$managed_containerd_pid_file" ]]; then
		pid="$(cat "$managed_containerd_pid_file" 2>/dev/null || true)"
		if ! process_is "$pid" containerd; then
			log "removing stale $managed_containerd_pid_file (pid '$pid' is not a running containerd)"
			rm -f "$managed_containerd_pid_file"
		fi
	fi

	if [[ -S "$system_containerd_socket" ]] && ! socket_listening "$system_containerd_socket"; then
		log "removing stale $system_containerd_socket (no containerd listens on it)"
		rm -f "$system_containerd_socket" "$system_containerd_socket.ttrpc"
	fi
}

# Choose how dockerd manages firewall rules, in dockerd_flags and
# dockerd_path. dockerd needs a working iptables for the NAT of published
# ports and for the DNS server that resolves network aliases inside
# containers. When the default iptables (the nf_tables backend on Debian 12)
# cannot list the nat table but the legacy backend can, dockerd gets a PATH
# whose iptables is the legacy one. The system alternatives stay unchanged.
choose_iptables() {
	dockerd_flags=()
	dockerd_path="$PATH"
	if iptables -t nat -L -n >/dev/null 2>&1; then
		return 0
	fi

	local legacy_dir=/run/werk-iptables-legacy name
	if command -v xtables-legacy-multi >/dev/null && iptables-legacy -t nat -L -n >/dev/null 2>&1; then
		log "iptables does not work here but iptables-legacy does; dockerd will use the legacy backend"
		mkdir -p "$legacy_dir"
		for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
			ln -sfn "$(command -v xtables-legacy-multi)" "$legacy_dir/$name"
		done
		dockerd_path="$legacy_dir:$PATH"
		return 0
	fi

	log "warning: neither iptables nor iptables-legacy can list the nat table; starting dockerd with --iptables=false"
	log "warning: containers will not resolve network aliases and get no outbound NAT, so werk services will not be reachable by name"
	dockerd_flags=(--iptables=false --ip-masq=false)
}

# Print the lines that dockerd logged after byte offset $1 of its log.
print_log_since() {
	log "last lines of $dockerd_log:"
	tail -c "+$(($1 + 1))" "$dockerd_log" | tail -n 40 >&2
}

# Wait for a daemon that is running but not responding yet, such as one that
# an init system or a user started a moment ago.
wait_for_running_daemon() {
	local pid="$1" deadline=$((SECONDS + start_timeout_seconds))
	log "dockerd (pid $pid) is running but not responding yet; waiting up to ${start_timeout_seconds}s"
	while ((SECONDS < deadline)); do
		docker_responds && return 0
		process_is "$pid" dockerd || break
		sleep 0.5
	done
	docker_responds && return 0
	die "timed out after ${start_timeout_seconds}s waiting for dockerd (pid $pid) to respond to 'docker info'; see $dockerd_log, or stop it with 'kill $pid' and run this script again"
}

start_dockerd() {
	local log_offset pid deadline dockerd_flags dockerd_path
	choose_iptables

	mkdir -p "$(dirname "$dockerd_log")"
	touch "$dockerd_log"
	log_offset="$(stat -c %s "$dockerd_log")"
	printf '=== %s: %s starting dockerd %s\n' "$(date -Is)" "${0##*/}" "${dockerd_flags[*]}" >>"$dockerd_log"

	# setsid and nohup detach the daemon from this shell's session, so that it
	# outlives the script and the terminal that ran it. The daemon must not
	# inherit the lock descriptor, or it would hold the lock until it exits.
	PATH="$dockerd_path" setsid nohup dockerd "${dockerd_flags[@]}" \
		>>"$dockerd_log" 2>&1 </dev/null {lock_fd}>&- &
	pid=$!
	log "started dockerd (pid $pid), log in $dockerd_log; waiting up to ${start_timeout_seconds}s"

	deadline=$((SECONDS + start_timeout_seconds))
	while ((SECONDS < deadline)); do
		if docker_responds; then
			log "Docker engine $(docker version --format '{{.Server.Version}}') is up"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			print_log_since "$log_offset"
			die "dockerd exited during start-up; read the log lines above, fix the cause and run this script again"
		fi
		sleep 0.5
	done

	print_log_since "$log_offset"
	die "timed out after ${start_timeout_seconds}s waiting for dockerd (pid $pid) to respond to 'docker info'; read the log lines above"
}

main() {
	if docker_responds; then
		exit 0
	fi
	check_docker_host
	require_root "starting dockerd"

	# Serialize concurrent runs, so that only one of them starts dockerd and
	# the others find it running once they get the lock.
	exec {lock_fd}>"$start_lock_file"
	flock -w "$((start_timeout_seconds + 30))" "$lock_fd" ||
		die "timed out waiting for another run of this script to release $start_lock_file"
	if docker_responds; then
		exit 0
	fi

	install_docker
	ensure_cgroups
	remove_stale_files

	local running_pid
	running_pid="$(find_running_dockerd)"
	if [[ -n "$running_pid" ]]; then
		wait_for_running_daemon "$running_pid"
		exit 0
	fi

	start_dockerd
}

main "$@"
