#!/usr/bin/env bash
# Measures werk's engine against bare docker commands in the same run and
# prints a Markdown section for docs/benchmarks.md. Needs a running engine and
# the werk-test/busybox image (scripts/docker-up.sh, scripts/box-images.sh).
#
# Usage: scripts/bench-engine.sh [RUNS]   (RUNS per measurement, default 7)
set -euo pipefail

runs=${1:-7}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rm -f werk-bench-box >/dev/null 2>&1 || true' EXIT
image=werk-test/busybox:latest

cd "$repo"
go build -o "$work/werk" .
werk="$work/werk"

now_ms() { date +%s%3N; }

# median_ms CMD...: runs CMD $runs times and prints the median in ms.
median_ms() {
	local samples=() start end
	for _ in $(seq "$runs"); do
		start=$(now_ms)
		"$@" >/dev/null 2>&1
		end=$(now_ms)
		samples+=($((end - start)))
	done
	printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# make_tree DIR COUNT SIZE: COUNT files of SIZE random bytes, 1000 a folder.
make_tree() {
	python3 - "$@" <<'PY'
import os, sys
root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    d = os.path.join(root, str(i // 1000))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d" % i), "wb") as f:
        f.write(os.urandom(size))
PY
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.2f", a / b }'; }

write_pipeline() { # DIR STEPS
	local dir=$1 steps=$2
	mkdir -p "$dir"
	{
		echo "box: $image"
		for p in build dev; do
			echo "$p:"
			echo "  steps:"
			for i in $(seq "$steps"); do
				echo "    - script:"
				echo "        name: step-$i"
				echo "        code: \"true\""
			done
		done
	} >"$dir/wercker.yml"
}

# 1. One-step build against docker run --rm.
write_pipeline "$work/one" 1
floor_run=$(median_ms docker run --rm "$image" true)
werk_one=$(median_ms "$werk" build --no-tui "$work/one")

# 2. Per-step overhead: 21 steps against 1 step, per extra step, against a
# bare docker exec in a running container.
write_pipeline "$work/many" 21
werk_many=$(median_ms "$werk" build --no-tui "$work/many")
per_step=$(((werk_many - werk_one) / 20))
docker run -d --name werk-bench-box "$image" sleep 3600 >/dev/null
floor_exec=$(median_ms docker exec werk-bench-box true)

# 3. dev start on trees of 1k, 10k and 100k files (the source is mounted).
dev_rows=""
dev_floor=""
for n in 1000 10000 100000; do
	dir="$work/tree-$n"
	write_pipeline "$dir" 1
	make_tree "$dir/src" "$n" 0
	t=$(median_ms "$werk" dev --no-tui "$dir")
	dev_floor=${dev_floor:-$t}
	dev_rows+="| werk dev, one step, $n files | $t ms | $(ratio "$t" "$dev_floor")x |"$'\n'
done

# 4. build copy of a 10k-file, 100 MB tree against docker cp of the same tree.
tree="$work/copy"
write_pipeline "$tree" 1
make_tree "$tree/data" 10000 10240
copy_samples=()
for _ in $(seq "$runs"); do
	ms=$("$werk" build --no-tui "$tree" | sed -n 's/^--> copy source: .*(\(.*\))$/\1/p' |
		awk '{v=$1; if (v ~ /ms$/) {sub(/ms$/, "", v); print v} else if (v ~ /s$/) {sub(/s$/, "", v); print v*1000}}')
	copy_samples+=("${ms%.*}")
done
werk_copy=$(printf '%s\n' "${copy_samples[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
docker create --name werk-bench-cp "$image" true >/dev/null
floor_cp=$(median_ms docker cp "$tree/." werk-bench-cp:/pipeline-copy)
docker rm -f werk-bench-cp >/dev/null

cat <<MD
## Engine

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Docker $(docker version --format '{{.Server.Version}}'),
box $image; median of $runs runs each; rerun with \`scripts/bench-engine.sh\`.

| measurement | werk | floor (same run) | ratio | target |
| --- | --- | --- | --- | --- |
| one-step \`werk build\` against \`docker run --rm BOX true\` | $werk_one ms | $floor_run ms | $(ratio "$werk_one" "$floor_run")x | under 1.5x |
| overhead per extra step (21-step minus 1-step build, /20) against \`docker exec BOX true\` | $per_step ms | $floor_exec ms | $(ratio "$per_step" "$floor_exec")x | under 50 ms |
| build copy of 10,000 files, 100 MB, against \`docker cp\` of the same tree | $werk_copy ms | $floor_cp ms | $(ratio "$werk_copy" "$floor_cp")x | within 1.5x |

\`werk dev\` start as the source tree grows (the source is bind-mounted, so the
time should not grow with the tree):

| measurement | time | ratio to 1,000 files |
| --- | --- | --- |
${dev_rows}
MD
