#!/usr/bin/env bash
# Podman and debootstrap (Debian's packages) for the image test (`make test-image`): the
# test makes its own base image with debootstrap and builds the Containerfile with podman.
# Nothing is started here.
set -euo pipefail
if command -v podman >/dev/null && command -v debootstrap >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "podman and debootstrap are missing; run as root or: apt-get install podman debootstrap" >&2
    exit 1
fi
echo "installing podman and debootstrap (Debian packages) for the image test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends podman debootstrap uidmap fuse-overlayfs \
    slirp4netns >/dev/null
