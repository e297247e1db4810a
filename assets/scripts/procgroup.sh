# procgroup.sh runs a command as the leader of its own session in a box, and
# stops every process of that session. It reads /proc instead of running ps,
# so busybox boxes work. Modes:
#
# procgroup.sh wait PIDFILE DIR FILE TOKEN
#   Reads lines from stdin until the line TOKEN and exports them as
#   WERK_CHANGED_PATHS (one per line). Then it writes the session id to
#   PIDFILE, enters DIR and prints TOKEN on stderr. Last it replaces itself
#   with FILE, run by /bin/bash when the box has it, else /bin/sh, with stdin
#   from /dev/null, so the exec's exit status is the command's. An exec started
#   ahead in this mode starts the command with a write instead of an exec
#   round trip. It exits quietly when stdin ends before TOKEN.
# procgroup.sh stop SIGNAL GRACE PIDFILE
#   Sends SIGNAL to every process of the session in PIDFILE, waits up to GRACE
#   hundredths of a second for them to end, then sends SIGKILL to the rest and
#   waits for them. Prints "exited" when SIGNAL was enough, "killed" when
#   SIGKILL was needed, and "left PID..." when processes outlived SIGKILL.
# procgroup.sh serve
#   Reads "stop SIGNAL GRACE PIDFILE TOKEN" lines from stdin and answers each
#   with "TOKEN VERDICT", the verdict as stop prints it, until stdin ends.

# __werk_now sets __werk_t to the uptime in hundredths of a second.
__werk_now() {
	read -r __werk_up __werk_idle </proc/uptime
	__werk_t=${__werk_up%.*}${__werk_up#*.}
	while [ "${__werk_t#0}" != "$__werk_t" ] && [ "$__werk_t" != 0 ]; do
		__werk_t=${__werk_t#0}
	done
}

# __werk_members sets __werk_m to the PIDs whose session or process group is
# $__werk_id, without zombies, which are dead and only wait to be reaped.
__werk_members() {
	__werk_m=
	for __werk_stat in /proc/[0-9]*/stat; do
		__werk_line=
		read -r __werk_line 2>/dev/null <"$__werk_stat" || continue
		# The command name in field 2 may contain spaces and parentheses;
		# state, parent, process group and session follow its last ')'.
		set -- ${__werk_line##*) }
		[ "$1" = Z ] && continue
		if [ "$3" = "$__werk_id" ] || [ "$4" = "$__werk_id" ]; then
			__werk_pid=${__werk_stat#/proc/}
			__werk_m="$__werk_m ${__werk_pid%/stat}"
		fi
	done
}

# __werk_pause sleeps a little longer at each call of one wait, from 5 ms up
# to 50 ms, so a quick exit is seen at once and a slow one costs few forks.
__werk_pause() {
	case $__werk_nap in
	0.005) __werk_nap=0.01 ;;
	0.01) __werk_nap=0.02 ;;
	*) __werk_nap=0.05 ;;
	esac
	sleep "$__werk_nap" 2>/dev/null || sleep 1
}

# __werk_stop SIGNAL GRACE PIDFILE sets __werk_verdict as the stop mode
# prints it.
__werk_stop() {
	__werk_id=
	if [ -r "$3" ]; then
		read -r __werk_id <"$3"
	fi
	if [ -z "$__werk_id" ]; then
		__werk_verdict=exited
		return
	fi
	__werk_members
	__werk_sent=" $__werk_m "
	if [ -n "$__werk_m" ]; then
		kill -s "$1" $__werk_m 2>/dev/null
	fi
	__werk_now
	__werk_deadline=$((__werk_t + $2))
	__werk_nap=0.005
	while [ -n "$__werk_m" ]; do
		__werk_members
		[ -z "$__werk_m" ] && break
		# Processes forked after the first signal get it too, but no
		# process gets it twice: a second SIGINT means "quit now" to many servers.
		for __werk_pid in $__werk_m; do
			case $__werk_sent in *" $__werk_pid "*) continue ;; esac
			__werk_sent="$__werk_sent$__werk_pid "
			kill -s "$1" "$__werk_pid" 2>/dev/null
		done
		__werk_now
		[ "$__werk_t" -ge "$__werk_deadline" ] && break
		__werk_pause
	done
	if [ -z "$__werk_m" ]; then
		__werk_verdict=exited
		return
	fi
	kill -s KILL $__werk_m 2>/dev/null
	__werk_now
	__werk_deadline=$((__werk_t + 1000))
	__werk_nap=0.005
	while [ -n "$__werk_m" ]; do
		__werk_pause
		__werk_members
		[ -n "$__werk_m" ] && kill -s KILL $__werk_m 2>/dev/null
		__werk_now
		[ "$__werk_t" -ge "$__werk_deadline" ] && break
	done
	if [ -n "$__werk_m" ]; then
		__werk_verdict="left$__werk_m"
	else
		__werk_verdict=killed
	fi
}

# __werk_start PIDFILE DIR FILE TOKEN replaces the shell with the command,
# after it wrote PIDFILE and printed TOKEN on stderr.
__werk_start() {
	__werk_shell=/bin/sh
	if [ -x /bin/bash ]; then
		__werk_shell=/bin/bash
	fi
	read -r __werk_line </proc/self/stat
	set -- "$1" "$2" "$3" "$4" ${__werk_line##*) }
	# runc makes every exec the leader of a new session. Where a runtime does
	# not, setsid makes one; it may fork, and then the exit status is lost.
	if [ "$8" != "$$" ] && command -v setsid >/dev/null 2>&1; then
		exec setsid /bin/sh -c 'printf "%s\n" "$$" >"$1" && cd "$2" || exit 126
			printf "%s\n" "$5" >&2
			exec "$3" "$4" </dev/null' \
			procgroup "$1" "$2" "$__werk_shell" "$3" "$4"
	fi
	printf '%s\n' "$$" >"$1" || exit 126
	cd "$2" || exit 126
	printf '%s\n' "$4" >&2
	exec "$__werk_shell" "$3" </dev/null
}

case $1 in
wait)
	WERK_CHANGED_PATHS=
	while :; do
		IFS= read -r __werk_path || exit 0
		[ "$__werk_path" = "$5" ] && break
		WERK_CHANGED_PATHS="$WERK_CHANGED_PATHS${WERK_CHANGED_PATHS:+
}$__werk_path"
	done
	export WERK_CHANGED_PATHS
	__werk_start "$2" "$3" "$4" "$5"
	;;
stop)
	__werk_stop "$2" "$3" "$4"
	echo "$__werk_verdict"
	;;
serve)
	while read -r __werk_cmd __werk_sig __werk_grace __werk_file __werk_token; do
		if [ "$__werk_cmd" = stop ]; then
			__werk_stop "$__werk_sig" "$__werk_grace" "$__werk_file"
		else
			__werk_verdict="unknown command $__werk_cmd"
		fi
		printf '%s %s\n' "$__werk_token" "$__werk_verdict"
	done
	;;
*)
	echo "procgroup.sh: unknown mode $1 (use wait, stop or serve)" >&2
	exit 2
	;;
esac
