#!/usr/bin/env bash
# Build the offline box images that werk's tests and examples run in, with
# `docker import` from Debian's static binaries, so no registry is needed:
#
#   werk-test/busybox:latest  /bin/busybox from busybox-static, a symlink for
#                             every applet, /etc/passwd and /etc/group with
#                             root and nobody, /tmp (mode 1777), /root and
#                             ENV PATH
#   werk-test/bash:latest     the same plus /bin/bash from bash-static
#
# Each image carries the label werk.rootfs, a SHA-256 hash of this script and
# of the binaries in it, and is rebuilt only when that hash changes.
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

# Print the SHA-256 hash of the named files' contents together with this
# script, so that a change to the recipe or to a binary forces a rebuild.
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
	bash_hash="$(content_hash "$busybox_binary" "$bash_binary")"

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
		import_rootfs "$work/rootfs" "$bash_image" "$bash_hash"
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
	build_images
	tag_busybox_alias

	# A rebuild leaves the previous build untagged. Prune removes only
	# untagged images, and the label limits it to builds of this script.
	docker image prune --force --filter "label=$hash_label" >/dev/null
}

main "$@"
