# killtree.sh SIGNAL PID...: send SIGNAL to each PID and to all their
# descendants. Descendants are found by reading the parent PID from
# /proc/PID/stat, so no ps is needed and busybox boxes work.
sig=$1
shift
tree=" $* "
grew=1
while [ "$grew" = 1 ]; do
	grew=0
	for stat in /proc/[0-9]*/stat; do
		line=
		read -r line <"$stat" 2>/dev/null || continue
		pid=${stat#/proc/}
		pid=${pid%/stat}
		case "$tree" in *" $pid "*) continue ;; esac
		# The command name in field 2 may contain spaces and parentheses;
		# the state and the parent PID follow its last ')'.
		rest=${line##*) }
		ppid=${rest#* }
		ppid=${ppid%% *}
		case "$tree" in *" $ppid "*)
			tree="$tree$pid "
			grew=1
			;;
		esac
	done
done
for pid in $tree; do
	[ "$pid" = "$$" ] && continue
	kill -s "$sig" "$pid" 2>/dev/null
done
exit 0
