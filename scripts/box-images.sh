#!/usr/bin/env bash
# Build the offline box images that werk's tests and examples run in, with
# `docker import` from Debian's static binaries, so no registry is needed:
#
#   werk-test/busybox:latest  /bin/busybox from busybox-static, a symlink for
#                             every applet, /etc/passwd and /etc/group with
#                             root and nobody, /tmp (mode 1777), /root and
#                             ENV PATH
#   werk-test/bash:latest     the same plus /bin/bash from bash-static and
#                             /usr/bin/tput from ncurses-bin with the shared
#                             libraries and dynamic loader that ldd lists, and
#                             the terminfo entries for xterm-256color, xterm,
#                             screen, tmux-256color, vt100, linux and dumb
#
# Each image carries the label werk.rootfs, a SHA-256 hash of this script and
# of the files copied into it from the host, and is rebuilt only when that
# hash changes.
# busybox:latest is tagged from werk-test/busybox only when no busybox:latest
# exists or when it is an earlier build of this script, so that the example's
# `box: busybox` works offline and a real busybox image is never replaced.
# Run scripts/docker-up.sh first.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$script_dir/lib.sh"

readonly busybox_image=werk-test/busybox:latest
readonly bash_image=werk-test/bash:latest
readonly alias_image=busybox:latest
readonly hash_label=werk.rootfs
readonly image_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Terminal types whose terminfo entries go into the bash image. werk sets
# TERM=xterm-256color in boxes, and the others are common values of TERM.
readonly terminfo_entries=(xterm-256color xterm screen tmux-256color vt100 linux dumb)
# The folders that Debian's ncurses searches for terminfo entries, in the
# order that `infocmp -D` prints on Debian 12 (ncurses 6.4).
readonly terminfo_dirs=(/etc/terminfo /lib/terminfo /usr/share/terminfo)

# Print the path of the first existing file among the arguments.
first_existing() {
	local path
	for path in "$@"; do
		if [[ -f "$path" ]]; then
			printf '%s\n' "$path"
			return 0
		fi
	done
	return 1
}

ensure_static_binaries() {
	local missing=()
	package_installed busybox-static || missing+=(busybox-static)
	package_installed bash-static || missing+=(bash-static)
	install_packages "${missing[@]}"

	busybox_binary="$(first_existing /bin/busybox /usr/bin/busybox)" ||
		die "busybox not found in /bin or /usr/bin although busybox-static is installed"
	bash_binary="$(first_existing /bin/bash-static /usr/bin/bash-static)" ||
		die "bash-static not found in /bin or /usr/bin although bash-static is installed"
}

# Print the path of the compiled terminfo entry for terminal type $1.
find_terminfo() {
	local dir
	for dir in "${terminfo_dirs[@]}"; do
		first_existing "$dir/${1:0:1}/$1" && return 0
	done
	return 1
}

# Print every shared library and the dynamic loader that ldd lists for the
# executable $1, one path a line.
shared_libraries() {
	local listing
	listing="$(ldd "$1")" || die "ldd $1 failed; expected a dynamically linked executable"
	if grep -q 'not found' <<<"$listing"; then
		die "ldd $1 reports missing libraries:"$'\n'"$listing"
	fi
	# Libraries appear as "libtinfo.so.6 => /lib/.../libtinfo.so.6 (0x...)",
	# the loader as "/lib64/ld-linux-x86-64.so.2 (0x...)" and the vDSO,
	# which has no file, as "linux-vdso.so.1 (0x...)".
	awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$listing"
}

# Set tput_files to the host paths of tput, the libraries it loads and the
# terminfo entries. ncurses-bin and ncurses-base are installed when missing,
# and ncurses-term when an entry is not found without it.
ensure_tput_files() {
	local missing=() entry entry_path tput_binary
	package_installed ncurses-bin || missing+=(ncurses-bin)
	package_installed ncurses-base || missing+=(ncurses-base)
	install_packages "${missing[@]}"

	tput_binary="$(first_existing /usr/bin/tput /bin/tput)" ||
		die "tput not found in /usr/bin or /bin although ncurses-bin is installed"
	mapfile -t tput_files < <(shared_libraries "$tput_binary")
	((${#tput_files[@]} > 0)) ||
		die "ldd $tput_binary lists no libraries; expected the dynamically linked tput of ncurses-bin"
	tput_files=("$tput_binary" "${tput_files[@]}")

	for entry in "${terminfo_entries[@]}"; do
		if ! entry_path="$(find_terminfo "$entry")"; then
			package_installed ncurses-term ||
				install_packages ncurses-term
			entry_path="$(find_terminfo "$entry")" ||
				die "terminfo entry $entry not found in ${terminfo_dirs[*]} although ncurses-term is installed"
		fi
		tput_files+=("$entry_path")
	done
}

# Print the SHA-256 hash of the named files' contents together with this
# script, so that a change to the recipe or to a copied file forces a rebuild.
content_hash() {
	sha256sum "${BASH_SOURCE[0]}" "$@" | awk '{print $1}' | sha256sum | awk '{print $1}'
}

# Print the werk.rootfs label of an image, or nothing when the image is absent.
image_hash() {
	docker image inspect --format "{{index .Config.Labels \"$hash_label\"}}" "$1" 2>/dev/null || true
}

write_busybox_rootfs() {
	local root="$1" applet
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,proc,sys,dev,tmp}
	chmod 1777 "$root/tmp"
	chmod 700 "$root/root"
	cp "$busybox_binary" "$root/bin/busybox"

	# `busybox --list-full` prints each applet's install path, such as
	# usr/bin/wget. Entries without a folder (linuxrc) are for an initramfs
	# and are left out.
	while IFS= read -r applet; do
		[[ "$applet" == */* ]] || continue
		[[ -e "$root/$applet" ]] || ln -s /bin/busybox "$root/$applet"
	done < <("$busybox_binary" --list-full)
	[[ -L "$root/bin/sh" ]] ||
		die "the sh applet is missing from '$busybox_binary --list-full'; reinstall busybox-static"

	cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
	cat >"$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
}

# Copy the files in tput_files into the folder $1 at their host paths. cp -L
# copies a symlink's target under the symlink's name, which is the name that
# the loader and ncurses look up.
write_tput_files() {
	local root="$1" path
	for path in "${tput_files[@]}"; do
		mkdir -p "$root/$(dirname "$path")"
		cp -L "$path" "$root/$path"
	done
}

# Import the folder $1 as image $2 with label value $3, then run a shell in it
# to prove that the image starts.
import_rootfs() {
	local root="$1" image="$2" hash="$3"
	tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . |
		docker import \
			--change "LABEL $hash_label=$hash" \
			--change "ENV PATH=$image_path" \
			--change 'CMD ["/bin/sh"]' \
			- "$image" >/dev/null ||
		die "docker import of $image failed"
	docker run --rm --network none "$image" /bin/sh -c 'test -d /tmp' ||
		die "the new image $image does not start a shell; see the docker error above"
}

build_images() {
	local busybox_hash bash_hash work
	busybox_hash="$(content_hash "$busybox_binary")"
	bash_hash="$(content_hash "$busybox_binary" "$bash_binary" "${tput_files[@]}")"

	if [[ "$(image_hash "$busybox_image")" == "$busybox_hash" &&
		"$(image_hash "$bash_image")" == "$bash_hash" ]]; then
		log "$busybox_image and $bash_image are up to date"
		return 0
	fi

	work="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand $work now, while it is set
	trap "rm -rf '$work'" EXIT

	write_busybox_rootfs "$work/rootfs"
	if [[ "$(image_hash "$busybox_image")" != "$busybox_hash" ]]; then
		log "building $busybox_image"
		import_rootfs "$work/rootfs" "$busybox_image" "$busybox_hash"
	fi

	if [[ "$(image_hash "$bash_image")" != "$bash_hash" ]]; then
		log "building $bash_image"
		cp "$bash_binary" "$work/rootfs/bin/bash"
		write_tput_files "$work/rootfs"
		import_rootfs "$work/rootfs" "$bash_image" "$bash_hash"
		docker run --rm --network none "$bash_image" tput -T xterm-256color colors >/dev/null ||
			die "tput does not run in the new image $bash_image; see the error above"
	fi
}

# Tag busybox:latest unless it is an image that this script did not build.
tag_busybox_alias() {
	local alias_hash
	if ! docker image inspect "$alias_image" >/dev/null 2>&1; then
		log "tagging $alias_image from $busybox_image (no $alias_image existed)"
		docker tag "$busybox_image" "$alias_image"
		return 0
	fi

	alias_hash="$(image_hash "$alias_image")"
	if [[ -z "$alias_hash" ]]; then
		log "keeping the existing $alias_image, which this script did not build"
	elif [[ "$alias_hash" != "$(image_hash "$busybox_image")" ]]; then
		log "retagging $alias_image to the new $busybox_image"
		docker tag "$busybox_image" "$alias_image"
	fi
}

main() {
	command -v docker >/dev/null || die "docker not found; run scripts/docker-up.sh first"
	docker info >/dev/null 2>&1 ||
		die "no Docker engine responds to 'docker info'; run scripts/docker-up.sh first"

	ensure_static_binaries
	ensure_tput_files
	build_images
	tag_busybox_alias

	# A rebuild leaves the previous build untagged. Prune removes only
	# untagged images, and the label limits it to builds of this script.
	docker image prune --force --filter "label=$hash_label" >/dev/null
}

main "$@"
