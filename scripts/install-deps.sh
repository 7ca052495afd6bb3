#!/usr/bin/env bash
# Install the Debian packages Kite needs to build and test, if any are missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite uses)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

build_pkgs=(gcc meson ninja-build pkg-config python3 libglib2.0-dev libpixman-1-dev
            libsdl2-dev libfdt-dev zlib1g-dev libslirp-dev libjson-glib-dev
            liblzma-dev liburing-dev libcapstone-dev)
test_pkgs=(seabios busybox-static cpio qemu-system-x86 qemu-utils acpica-tools socat
           gdb time xvfb xdotool x11-apps imagemagick)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
    want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kite: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
        SUDO=sudo
    else
        echo "kite: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the index only when a package is unknown to it.
if ! apt-cache show "${missing[0]}" >/dev/null 2>&1 || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
