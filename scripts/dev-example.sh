#!/usr/bin/env bash
# First command on a fresh machine: start Docker, build the offline box
# images and werk, then run the dev pipeline of examples/hello-web.
# It publishes the site on http://localhost:8080; further arguments go to
# `werk dev`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_go
bash scripts/docker-up.sh
bash scripts/box-images.sh
log "building bin/werk"
go build -o bin/werk .
exec bin/werk dev --expose-ports examples/hello-web "$@"
