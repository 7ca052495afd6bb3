#!/usr/bin/env python3
# Linux's ata_piix driver on Kite's PIIX3 IDE: boot the test guest with a raw image on
# -drive if=ide, check /dev/sda and its size, write a pattern with dd and read it back
# (through the page cache and with O_DIRECT-free re-read after drop_caches), power off and
# find the pattern in the host file.  The same boot has an ATAPI CD-ROM (-cdrom, secondary
# master): /dev/sr0's size, the whole disc read with dd and checksummed, and an ISO9660 image
# (made with genisoimage or xorriso when installed) mounted and a file on it checksummed.
# Prints PASS/FAIL/SKIP like test_linux_boot.py.
#
#   tests/functional/test_ide_linux.py [--emulator PATH] [--accel tcg] [--guest-dir DIR]
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, find_emulator  # noqa: E402
from test_linux_boot import SRCDIR, prepare_guest  # noqa: E402

DISK_SECTORS = 16384            # 8 MiB
PATTERN_OFF = 1 << 20           # dd seek=1 bs=1M


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", default=os.environ.get("KITE_BIN",
                                                         os.path.join(SRCDIR, "build", "kite")))
    p.add_argument("--accel", default=os.environ.get("KITE_ACCEL", "tcg"))
    p.add_argument("--guest-dir", default=os.path.join(SRCDIR, "build", "guest"))
    p.add_argument("--timeout", type=float, default=300)
    return p.parse_args()


def make_cd(tmp):
    """An ISO9660 image holding hello.txt, or (no ISO tool) a plain pattern; returns
    (path, md5 of hello.txt or None)."""
    data = (b"kite-cd-pattern\n" * 20000)[:300000]
    iso = os.path.join(tmp, "cd.iso")
    src = os.path.join(tmp, "cdroot")
    os.makedirs(src)
    with open(os.path.join(src, "hello.txt"), "wb") as f:
        f.write(data)
    for tool in (["genisoimage", "-quiet"], ["xorriso", "-as", "mkisofs", "-quiet"]):
        if shutil.which(tool[0]):
            subprocess.run(tool + ["-V", "KITECD", "-o", iso, src], check=True)
            return iso, hashlib.md5(data).hexdigest()
    with open(iso, "wb") as f:
        f.write(bytes(range(256)) * (8 * 300))     # 300 blocks of 2048 bytes
    return iso, None


def run_case(args, emulator, vmlinuz, initrd, img, cd, log_path):
    argv = [emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-nographic", "-no-reboot", "-net", "none",
            "-drive", f"file={img},if=ide,format=raw", "-cdrom", cd[0]]
    with Guest(argv, log_path=log_path) as g:
        g.start()
        g.expect(READY_RE, args.timeout)
        g.shell_sync(timeout=args.timeout)

        def expect(cmd, want):
            out = g.check(cmd, args.timeout)
            if out.strip() != want:
                raise GuestError(f"{cmd!r} printed {out!r}, expected {want!r}")

        expect("cat /sys/block/sda/size", str(DISK_SECTORS))
        expect("cat /sys/block/sda/device/vendor", "ATA")
        # The image's own first sector (written by the host) reads back.
        expect("dd if=/dev/sda bs=512 count=1 2>/dev/null | md5sum | cut -d' ' -f1",
               hashlib.md5(b"KITE" * 128).hexdigest())
        # Write 256 KiB of a pattern, sync, drop caches and read it back from the disk.
        g.check("yes kite-ide-pattern | head -c 262144 > /tmp/p", args.timeout)
        g.check("dd if=/tmp/p of=/dev/sda bs=1M seek=1 conv=fsync 2>/dev/null", args.timeout)
        g.check("echo 3 > /proc/sys/vm/drop_caches", args.timeout)
        want = hashlib.md5((b"kite-ide-pattern\n" * 20000)[:262144]).hexdigest()
        expect("dd if=/dev/sda bs=1M skip=1 count=1 2>/dev/null | head -c 262144 | md5sum"
               " | cut -d' ' -f1", want)

        # The CD-ROM: capacity in 512-byte units, every block through sr0 (bus-master DMA
        # with ata_piix), and the ISO9660 file system.
        with open(cd[0], "rb") as f:
            iso = f.read()
        expect("cat /sys/block/sr0/size", str(len(iso) // 2048 * 4))
        expect("cat /sys/block/sr0/removable", "1")
        expect("dd if=/dev/sr0 bs=2048 2>/dev/null | md5sum | cut -d' ' -f1",
               hashlib.md5(iso[:len(iso) // 2048 * 2048]).hexdigest())
        if cd[1]:
            g.check("mkdir -p /mnt/cd && mount -t iso9660 -o ro /dev/sr0 /mnt/cd",
                    args.timeout)
            expect("md5sum /mnt/cd/hello.txt | cut -d' ' -f1", cd[1])
            g.check("umount /mnt/cd", args.timeout)
        # Writing to a CD fails; the disc is untouched.
        rc, _ = g.run("dd if=/dev/zero of=/dev/sr0 bs=2048 count=1 conv=fsync 2>/dev/null",
                      args.timeout)
        if rc == 0:
            raise GuestError("a write to /dev/sr0 succeeded")
        status = g.poweroff(timeout=args.timeout)
        if status != 0:
            raise GuestError(f"emulator exit status {status}, expected 0")
    with open(img, "rb") as f:
        f.seek(PATTERN_OFF)
        if hashlib.md5(f.read(262144)).hexdigest() != want:
            raise GuestError("the host image does not hold the pattern the guest wrote")


def main():
    args = parse_args()
    name = "ide-linux"
    emulator = find_emulator(args.emulator)
    if emulator is None:
        print(f"SKIP {name}: emulator not found")
        return 77
    try:
        vmlinuz, initrd, _ = prepare_guest(args.guest_dir)
    except RuntimeError as e:
        print(f"SKIP {name}: {e}")
        return 77
    log_dir = os.path.join(args.guest_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "disk.img")
        with open(img, "wb") as f:
            f.write(b"KITE" * 128)
            f.truncate(DISK_SECTORS * 512)
        try:
            cd = make_cd(tmp)
            run_case(args, emulator, vmlinuz, initrd, img, cd,
                     os.path.join(log_dir, name + ".log"))
        except GuestError as e:
            print(f"FAIL {name}: {e}")
            return 1
    print(f"PASS {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
