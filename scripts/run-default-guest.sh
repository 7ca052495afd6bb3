#!/usr/bin/env bash
# Boot Kite's default guest: Debian's Linux kernel with a busybox initramfs (both built from
# Debian packages into BUILD/guest on first use) under Kite's x86 interpreter, console on
# this terminal.  Ctrl-A x quits; inside the guest, `poweroff -f` ends the VM.
#   scripts/run-default-guest.sh [BUILD] [extra kite options...]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
shift || true

"$src/scripts/build-linux-guest.sh" "$build/guest" >&2
echo "kite: booting Debian's kernel + busybox under the interpreter (-accel tcg);" \
     "Ctrl-A x quits, Ctrl-A h for help" >&2
exec "$build/kite" -M pc -accel tcg -m 256 -smp 1 \
    -kernel "$build/guest/vmlinuz" -initrd "$build/guest/initrd.gz" \
    -append "console=ttyS0 panic=-1" -nographic "$@"
