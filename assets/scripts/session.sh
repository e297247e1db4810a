# werk step session. Sourced once into the long-lived shell that runs every
# step of a pipeline, so exports, functions and shell options carry over from
# one step to the next, as in wercker.
#
# __werk_run STEPDIR runs one step: it resets errexit and the working
# directory, loads the step's variables from STEPDIR/env.sh, sources
# STEPDIR/init.sh and STEPDIR/run.sh with stdin from /dev/null, and prints the
# status after the marker in $__werk_token on stdout and stderr. The marker on
# both streams tells werk that everything the step wrote to either stream has
# arrived. A step that exits the shell (exit, or a failure under set -e) never
# prints the marker; werk then reads the shell's exit status instead.

__werk_done() {
	printf '%s %s\n' "$__werk_token" "$1"
	printf '%s %s\n' "$__werk_token" "$1" >&2
}

__werk_run() {
	set +e
	cd "$WERCKER_SOURCE_DIR" || { __werk_done 1; return 0; }
	__werk_cwd=
	. "$1/env.sh" || { __werk_done $?; return 0; }
	if [ -n "$__werk_cwd" ]; then
		cd "$__werk_cwd" || { __werk_done 1; return 0; }
	fi
	mkdir -p "$WERCKER_REPORT_ARTIFACTS_DIR" 2>/dev/null
	if [ -f "$1/init.sh" ]; then
		. "$1/init.sh" </dev/null
		__werk_rc=$?
		if [ "$__werk_rc" -ne 0 ]; then
			__werk_done "$__werk_rc"
			return 0
		fi
	fi
	if [ -f "$1/run.sh" ]; then
		. "$1/run.sh" </dev/null
		__werk_rc=$?
	else
		__werk_rc=0
	fi
	# Keep the exports of every passed step, so a shell that a later step
	# ends (exit, set -e) can be replaced by one with the same variables.
	if [ "$__werk_rc" -eq 0 ]; then
		cat /proc/self/environ >/werk/env.last 2>/dev/null
	fi
	__werk_done "$__werk_rc"
	return 0
}

# __werk_capture FILE writes the shell's exported environment to FILE as
# NUL-separated NAME=VALUE entries. cat's own environment is exactly what the
# shell exports, and /proc needs no GNU tools.
__werk_capture() {
	cat /proc/self/environ >"$1"
	__werk_done $?
}
