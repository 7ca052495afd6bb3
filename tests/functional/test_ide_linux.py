#!/usr/bin/env python3
# Linux's ata_piix driver on Kite's PIIX3 IDE: boot the test guest with a raw image on
# -drive if=ide, check /dev/sda and its size, write a pattern with dd and read it back
# (through the page cache and with O_DIRECT-free re-read after drop_caches), power off and
# find the pattern in the host file.  The same boot has an ATAPI CD-ROM (-cdrom, secondary
# master): /dev/sr0's size, the whole disc read with dd and checksummed, and an ISO9660 image
# (made with genisoimage or xorriso when installed) mounted and a file on it checksummed.
# A qcow2 disk as primary slave (sda or sdb: Linux probes the two in parallel) gets a pattern written at an unaligned spot
# (cluster allocation with copy-on-write around it), read back after drop_caches; after
# power-off `qemu-img check` finds the image clean and qemu-img reads the same pattern.
# Removable media over QMP: eject is refused while Linux has the disc mounted (tray locked),
# works after umount (sr0 reports no medium), blockdev-change-medium inserts another image
# that the guest then reads (unit attention -> revalidation); DEVICE_TRAY_MOVED events.
# Then mkfs.ext2 + a file + its checksum on the raw and the qcow2 disk, and a guest reboot
# (reboot -f: a system reset in the same process) after which both files read back.
# Prints PASS/FAIL/SKIP like test_linux_boot.py.
#
#   tests/functional/test_ide_linux.py [--emulator PATH] [--accel tcg] [--guest-dir DIR]
# SPDX-License-Identifier: GPL-2.0-or-later

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, guest_arg_parser, find_emulator  # noqa: E402
from test_linux_boot import prepare_guest  # noqa: E402
from qmp import QMP  # noqa: E402

DISK_SECTORS = 16384            # 8 MiB
PATTERN_OFF = 1 << 20           # dd seek=1 bs=1M
QCOW_DATA = (b"kite-qcow2-pattern\n" * 40000)[:600000]
QCOW_MD5 = hashlib.md5(QCOW_DATA).hexdigest()
QCOW_OFF = 1234000              # dd bs=1000 seek=1234


def parse_args():
    p = guest_arg_parser(__doc__)
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


def qmp_error(r, cls, text):
    e = r.get("error", {})
    if e.get("class") != cls or text not in e.get("desc", ""):
        raise GuestError(f"QMP: expected {cls} '{text}', got {r}")


def cd_info(q):
    for d in q.cmd("query-block")["return"]:
        if d["device"] == "ide1-cd0":
            return d
    raise GuestError("query-block has no ide1-cd0")


def media_change(g, q, args, cd2):
    """query-block, eject and blockdev-change-medium on the -cdrom drive (ide1-cd0)."""
    info = cd_info(q)
    if not (info["removable"] and not info["tray_open"] and info["inserted"]["ro"] and
            info["inserted"]["drv"] == "raw"):
        raise GuestError(f"query-block for the CD: {info}")
    hd = [d for d in q.cmd("query-block")["return"] if d["device"] == "ide0-hd0"]
    if not hd or hd[0]["removable"] or hd[0]["inserted"]["image"]["virtual-size"] != \
            DISK_SECTORS * 512:
        raise GuestError(f"query-block for the disk: {hd}")
    def expect(cmd, want):
        out = g.check(cmd, args.timeout).strip()
        if out != want:
            raise GuestError(f"{cmd!r} printed {out!r}, expected {want!r}")

    qmp_error(q.cmd("eject", {"device": "nope"}), "DeviceNotFound", "Device 'nope' not found")
    qmp_error(q.cmd("eject", {"device": "ide0-hd0"}), "GenericError", "is not removable")
    qmp_error(q.cmd("eject"), "GenericError", "Need exactly one of 'device' and 'id'")
    # Mounted: Linux holds PREVENT MEDIUM REMOVAL, so only force would take the disc.
    g.check("mount -t iso9660 -o ro /dev/sr0 /mnt/cd 2>/dev/null || mount /dev/sr0 /mnt/cd"
            " 2>/dev/null || true", args.timeout)
    locked = g.run("grep -q sr0 /proc/mounts", args.timeout)[0] == 0
    if locked:
        if not cd_info(q)["locked"]:
            raise GuestError("query-block: the mounted CD is not reported locked")
        qmp_error(q.cmd("eject", {"device": "ide1-cd0"}), "GenericError", "is locked")
        g.check("umount /mnt/cd", args.timeout)
    q.events.clear()
    r = q.cmd("eject", {"device": "ide1-cd0"})
    if r != {"return": {}}:
        raise GuestError(f"eject: {r}")
    # DEVICE_TRAY_MOVED as QEMU sends it (the id is the device's QOM path here).
    ev = [e["data"] for e in q.events if e["event"] == "DEVICE_TRAY_MOVED"]
    if len(ev) != 1 or ev[0]["device"] != "ide1-cd0" or ev[0]["tray-open"] is not True or \
       not ev[0]["id"].startswith("/machine/"):
        raise GuestError(f"DEVICE_TRAY_MOVED after eject: {ev}")
    info = cd_info(q)
    if not info["tray_open"] or "inserted" in info:
        raise GuestError(f"query-block after eject: {info}")
    # (Linux's cdrom driver closes the empty tray again when sr0 is opened.)
    rc, _ = g.run("dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null", args.timeout)
    if rc == 0:
        raise GuestError("/dev/sr0 still reads after eject")
    q.events.clear()
    r = q.cmd("blockdev-change-medium", {"device": "ide1-cd0", "filename": cd2[0],
                                         "format": "raw"})
    if r != {"return": {}}:
        raise GuestError(f"blockdev-change-medium: {r}")
    ev = [e["data"]["tray-open"] for e in q.events if e["event"] == "DEVICE_TRAY_MOVED"]
    if not ev or ev[-1] is not False:
        raise GuestError(f"DEVICE_TRAY_MOVED during blockdev-change-medium: {ev}")
    # The first access after the change meets the unit attention; sr revalidates.
    g.run("dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null", args.timeout)
    expect("dd if=/dev/sr0 bs=2048 2>/dev/null | md5sum | cut -d' ' -f1", cd2[1])
    expect("cat /sys/block/sr0/size", str(cd2[2] * 4))
    info = cd_info(q)
    if info["tray_open"] or info.get("inserted", {}).get("file") != cd2[0]:
        raise GuestError(f"query-block after the change: {info}")


def run_case(args, emulator, vmlinuz, initrd, img, cd, qcow, log_path):
    qmp_path = os.path.join(os.path.dirname(img), "qmp.sock")
    cd2_path = os.path.join(os.path.dirname(img), "cd2.raw")
    cd2_data = bytes((i * 7 + i // 2048) & 0xff for i in range(2048 * 150))
    with open(cd2_path, "wb") as f:
        f.write(cd2_data)
    cd2 = (cd2_path, hashlib.md5(cd2_data).hexdigest(), 150)
    argv = [emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-nographic", "-net", "none",
            "-drive", f"file={img},if=ide,format=raw", "-cdrom", cd[0],
            "-drive", f"file={qcow},if=ide,index=1,format=qcow2",
            "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    with Guest(argv, log_path=log_path) as g:
        g.start()
        g.expect(READY_RE, args.timeout)
        g.shell_sync(timeout=args.timeout)

        # Which of sda/sdb is the raw disk: the two units are probed in parallel.
        hd = "sda" if g.check("cat /sys/block/sda/size", args.timeout).strip() == \
            str(DISK_SECTORS) else "sdb"
        qd = "sdb" if hd == "sda" else "sda"

        def gc(cmd, timeout):
            return g.check(cmd.replace("{hd}", hd).replace("{qd}", qd), timeout)

        def expect(cmd, want):
            out = gc(cmd, args.timeout)
            if out.strip() != want:
                raise GuestError(f"{cmd!r} printed {out!r}, expected {want!r}")

        expect("cat /sys/block/{hd}/size", str(DISK_SECTORS))
        expect("cat /sys/block/{hd}/device/vendor", "ATA")
        # The image's own first sector (written by the host) reads back.
        expect("dd if=/dev/{hd} bs=512 count=1 2>/dev/null | md5sum | cut -d' ' -f1",
               hashlib.md5(b"KITE" * 128).hexdigest())
        # Write 256 KiB of a pattern, sync, drop caches and read it back from the disk.
        g.check("yes kite-ide-pattern | head -c 262144 > /tmp/p", args.timeout)
        gc("dd if=/tmp/p of=/dev/{hd} bs=1M seek=1 conv=fsync 2>/dev/null", args.timeout)
        g.check("echo 3 > /proc/sys/vm/drop_caches", args.timeout)
        want = hashlib.md5((b"kite-ide-pattern\n" * 20000)[:262144]).hexdigest()
        expect("dd if=/dev/{hd} bs=1M skip=1 count=1 2>/dev/null | head -c 262144 | md5sum"
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
        # The qcow2 disk: allocating writes (partial clusters), then the read-back.
        g.check("yes kite-qcow2-pattern | head -c 600000 > /tmp/q", args.timeout)
        gc("dd if=/tmp/q of=/dev/{qd} bs=1000 seek=1234 conv=fsync 2>/dev/null",
                args.timeout)
        g.check("echo 3 > /proc/sys/vm/drop_caches", args.timeout)
        expect("dd if=/dev/{qd} bs=1000 skip=1234 count=600 2>/dev/null | md5sum"
               " | cut -d' ' -f1", QCOW_MD5)
        q = QMP(qmp_path, timeout=10, connect_timeout=10)
        media_change(g, q, args, cd2)
        # Writing to a CD fails; the disc is untouched.
        rc, _ = g.run("dd if=/dev/zero of=/dev/sr0 bs=2048 count=1 conv=fsync 2>/dev/null",
                      args.timeout)
        if rc == 0:
            raise GuestError("a write to /dev/sr0 succeeded")
        # ext2 on the raw and the qcow2 disk (their first MiB, below the patterns above), a
        # file and its checksum on each; then a guest reboot (a system reset: the disks,
        # the controller and bus-master DMA start over) must find both files again.
        sums = {}
        for dev in (hd, qd):
            g.check(f"busybox mke2fs /dev/{dev} 1024 >/dev/null 2>&1", args.timeout)
            g.check(f"mkdir -p /mnt/{dev} && mount -t ext2 /dev/{dev} /mnt/{dev}",
                    args.timeout)
            g.check(f"dd if=/dev/urandom of=/mnt/{dev}/data bs=1k count=300 2>/dev/null",
                    args.timeout)
            sums[dev] = g.check(f"md5sum /mnt/{dev}/data | cut -d' ' -f1", args.timeout)
            g.check(f"umount /mnt/{dev} && echo 3 > /proc/sys/vm/drop_caches", args.timeout)
            g.check(f"mount -t ext2 /dev/{dev} /mnt/{dev}", args.timeout)
            expect(f"md5sum /mnt/{dev}/data | cut -d' ' -f1", sums[dev])
            g.check(f"umount /mnt/{dev} && sync", args.timeout)
        g.reboot(args.timeout, args.timeout)
        # The two disks may swap names again after the reboot: find each by its size.
        hd2 = "sda" if g.check("cat /sys/block/sda/size", args.timeout).strip() == \
            str(DISK_SECTORS) else "sdb"
        for dev, dev2 in ((hd, hd2), (qd, "sdb" if hd2 == "sda" else "sda")):
            g.check(f"mkdir -p /mnt/{dev2} && mount -t ext2 -o ro /dev/{dev2} /mnt/{dev2}",
                    args.timeout)
            expect(f"md5sum /mnt/{dev2}/data | cut -d' ' -f1", sums[dev])
            g.check(f"umount /mnt/{dev2}", args.timeout)
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
            qcow = os.path.join(tmp, "disk.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow, "32M"]
                           if shutil.which("qemu-img") else
                           ["true"], check=True)
            if not os.path.exists(qcow):
                print(f"SKIP {name}: qemu-img not installed")
                return 77
            run_case(args, emulator, vmlinuz, initrd, img, cd, qcow,
                     os.path.join(log_dir, name + ".log"))
            chk = subprocess.run(["qemu-img", "check", "-q", qcow], capture_output=True,
                                 text=True)
            if chk.returncode != 0:
                raise GuestError("qemu-img check on the guest's qcow2: " + chk.stdout +
                                 chk.stderr)
            back = os.path.join(tmp, "back.raw")
            subprocess.run(["qemu-img", "convert", "-O", "raw", qcow, back], check=True)
            with open(back, "rb") as f:
                f.seek(QCOW_OFF)
                if f.read(len(QCOW_DATA)) != QCOW_DATA:
                    raise GuestError("qemu-img reads other data than the guest wrote to qcow2")
        except GuestError as e:
            print(f"FAIL {name}: {e}")
            return 1
    print(f"PASS {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
