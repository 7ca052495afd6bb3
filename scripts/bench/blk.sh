#!/usr/bin/env bash
# Block I/O benchmark: sequential write then read of a virtio-blk disk from the Linux test
# guest with dd and O_DIRECT (oflag=direct / iflag=direct, 1 MiB blocks, then a read in
# 64 KiB blocks that shows the per-request cost), then random 4 KiB O_DIRECT writes and
# reads over the whole disk (scripts/bench/blkrand.c, built static here and appended to the
# guest's initrd; --rand-count of each, a fixed offset sequence), on a raw and on a
# qcow2 image (cache=none on the host), under qemu-system-x86_64 -accel tcg -M pc and under
# Kite (its interpreter by default).  The guest times each dd with /proc/uptime.  Both
# emulators are booted side by side for each image format and take turns, one pass each, so
# that a shared machine's changing load hits both alike.  Prints MB/s per run, the medians,
# and the Kite/QEMU throughput ratios (>= 1.00 means Kite is as fast).  Never asserts on
# timings: exit status is 0 unless the QEMU reference fails or the guest cannot be built.
#
#   scripts/bench/blk.sh [--kite PATH] [--runs N] [--size MiB] [--kite-accel ACCEL]
#                        [--kite-drive-opts OPTS] [--guest-dir DIR] [--timeout S]
#
#   --kite PATH      Kite binary (default build/kite)
#   --runs N         dd passes per direction and image (default 3)
#   --size MiB       bytes moved per dd (default 256: at several hundred MB/s a smaller dd
#                    lasts a few /proc/uptime ticks of 10 ms, and the ratio is mostly rounding)
#   --kite-accel A   -accel for Kite (default tcg)
#   --kite-drive-opts OPTS  more -drive options for Kite only (e.g. aio=io_uring)
#   --timeout S      limit per boot (default 900)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/bench/lib.sh"

kite=$src/build/kite
runs=3
size=256
kite_accel=tcg
kite_drive_opts=
guest_dir=$src/build/guest
limit=900
while [ $# -gt 0 ]; do
    case $1 in
        --kite) kite=$2; shift ;;
        --runs) runs=$2; shift ;;
        --size) size=$2; shift ;;
        --rand-count) rand_count=$2; shift ;;
        --kite-accel) kite_accel=$2; shift ;;
        --kite-drive-opts) kite_drive_opts=$2; shift ;;
        --guest-dir) guest_dir=$2; shift ;;
        --timeout) limit=$2; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
    shift
done

command -v qemu-system-x86_64 >/dev/null || bench_die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
command -v qemu-img >/dev/null || bench_die "qemu-img not found (apt-get install qemu-utils)"
"$src/scripts/build-linux-guest.sh" "$guest_dir" || bench_die "cannot build the guest"
command -v gcc >/dev/null || bench_die "gcc not found (needed for the random-I/O guest program)"
command -v cpio >/dev/null || bench_die "cpio not found (apt-get install cpio)"
rand_count=${rand_count:-$((size * 4))}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The random-I/O program goes into a second, appended initramfs archive (the kernel unpacks
# concatenated archives in order), so the prebuilt guest needs no rebuild.
mkdir -p "$tmp/extra"
gcc -static -O2 -o "$tmp/extra/blkrand" "$src/scripts/bench/blkrand.c" ||
    bench_die "cannot build scripts/bench/blkrand.c statically (libc6-dev has libc.a)"
(cd "$tmp/extra" && echo blkrand | cpio -o -H newc -R 0:0 --quiet) | gzip >"$tmp/extra.cpio.gz"
cat "$guest_dir/initrd.gz" "$tmp/extra.cpio.gz" >"$tmp/initrd.gz"

echo "blk: kernel $(cat "$guest_dir/kernel-version"), virtio-blk, dd bs=1M count=$size" \
     "with O_DIRECT, $rand_count random 4 KiB requests, $runs pass(es) per direction"
echo "qemu: $(qemu-system-x86_64 --version | head -1), -accel tcg"
echo "kite: $kite, -accel $kite_accel${kite_drive_opts:+, -drive ...,$kite_drive_opts}"

# One boot per emulator and image format; the guest loop prints one line per dd:
#   BLK <write|read> <seconds>
python3 - "$src" "$kite" "$kite_accel" "$guest_dir" "$tmp" "$runs" "$size" "$limit" \
        "$kite_drive_opts" "$rand_count" <<'EOF'
import os, re, statistics, subprocess, sys
src, kite, kite_accel, guest_dir, tmp, runs, size, limit, kite_drive_opts, rand_count = \
    sys.argv[1:]
runs, size, limit, rand_count = int(runs), int(size), float(limit), int(rand_count)
DIRS = ("write", "read", "read64k", "randwrite", "randread")
# MiB each measurement moves
MOVED = {"write": size, "read": size, "read64k": size,
         "randwrite": rand_count * 4096 / 1048576.0, "randread": rand_count * 4096 / 1048576.0}
sys.path.insert(0, os.path.join(src, "tests", "functional"))
from kite_guest import READY_RE, Guest, GuestError  # noqa: E402

# One pass: time each dd in the guest with its own clock (uptime has 10 ms resolution).
PASS = ("a=$(cut -d' ' -f1 /proc/uptime); "
        "dd if=/dev/zero of=/dev/vda bs=1M count={size} oflag=direct 2>/dev/null; "
        "b=$(cut -d' ' -f1 /proc/uptime); echo BLK write $(awk \"BEGIN{{print $b-$a}}\"); "
        "a=$(cut -d' ' -f1 /proc/uptime); "
        "dd if=/dev/vda of=/dev/null bs=1M count={size} iflag=direct 2>/dev/null; "
        "b=$(cut -d' ' -f1 /proc/uptime); echo BLK read $(awk \"BEGIN{{print $b-$a}}\"); "
        "a=$(cut -d' ' -f1 /proc/uptime); "
        "dd if=/dev/vda of=/dev/null bs=64k count={n64} iflag=direct 2>/dev/null; "
        "b=$(cut -d' ' -f1 /proc/uptime); echo BLK read64k $(awk \"BEGIN{{print $b-$a}}\"); "
        "/blkrand /dev/vda write 4096 {rc} {span} randwrite; "
        "/blkrand /dev/vda read 4096 {rc} {span} randread")


def boot(label, binary, accel, fmt, extra):
    img = os.path.join(tmp, "%s-disk.%s" % (label, fmt))
    if os.path.exists(img):
        os.unlink(img)
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, img, "%dM" % (size + 16)],
                   check=True)
    drive = "file=%s,if=virtio,format=%s,cache=none" % (img, fmt)
    if extra:
        drive += "," + extra
    argv = [binary, "-accel", accel, "-M", "pc", "-m", "256",
            "-kernel", os.path.join(guest_dir, "vmlinuz"),
            "-initrd", os.path.join(tmp, "initrd.gz"),
            "-append", "console=ttyS0 panic=-1 quiet", "-nographic", "-no-reboot",
            "-net", "none", "-drive", drive]
    g = Guest(argv, log_path=os.path.join(tmp, "%s-%s.log" % (label, fmt)))
    try:
        g.start()
        g.expect(READY_RE, limit)
        g.shell_sync(timeout=limit)
    except BaseException:
        g.kill()
        raise
    return g


def why(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


results = {}
emulators = [("qemu", "qemu-system-x86_64", "tcg", "")]
if os.access(kite, os.X_OK):
    emulators.append(("kite", kite, kite_accel, kite_drive_opts))
else:
    print("kite: not runnable (%s not built)" % kite)
for fmt in ("raw", "qcow2"):
    guests = []
    for label, binary, accel, extra in emulators:
        try:
            guests.append((label, boot(label, binary, accel, fmt, extra)))
        except (GuestError, subprocess.CalledProcessError, OSError) as e:
            print("%-5s %-5s: FAILED (%s)" % (label, fmt, why(e)))
            if label == "qemu":
                for _, g in guests:
                    g.kill()
                sys.exit(1)
    res = {(label, d): [] for label, _ in guests for d in DIRS}
    for i in range(runs):
        # Alternate who goes first, so neither always follows the other's disk traffic.
        for label, g in (guests if i % 2 == 0 else guests[::-1]):
            if g is None:
                continue
            try:
                out = g.check(PASS.format(size=size, n64=size * 16, rc=rand_count,
                                          span=size * 1048576), limit)
            except (GuestError, OSError) as e:
                print("%-5s %-5s: FAILED (%s)" % (label, fmt, why(e)))
                for lb, gg in guests:
                    if gg is not None and (lb == label or label == "qemu"):
                        gg.kill()
                if label == "qemu":
                    sys.exit(1)
                guests = [(lb, gg if lb != label else None) for lb, gg in guests]
                continue
            for m in re.finditer(r"BLK (randwrite|randread|write|read64k|read) ([0-9.]+)", out):
                secs = float(m.group(2))
                res[(label, m.group(1))].append(MOVED[m.group(1)] * 1.048576 / secs
                                                if secs > 0 else float("inf"))
    for label, g in guests:
        if g is None:
            continue
        try:
            g.poweroff(timeout=limit)
        except (GuestError, OSError) as e:
            print("%-5s %-5s: poweroff failed (%s)" % (label, fmt, why(e)))
            g.kill()
        for d in DIRS:
            v = res[(label, d)]
            med = statistics.median(v) if v else 0.0
            results[(label, fmt, d)] = med
            print("%-5s %-5s %-9s: %s MB/s, median %.1f MB/s" % (
                label, fmt, d, " ".join("%.1f" % x for x in v), med))
for fmt in ("raw", "qcow2"):
    for d in DIRS:
        k, q = results.get(("kite", fmt, d)), results.get(("qemu", fmt, d))
        ratio = "n/a" if not k or not q else "%.2f" % (k / q)
        print("ratio kite/qemu %-5s %-9s: %s" % (fmt, d, ratio))
EOF
