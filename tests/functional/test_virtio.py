#!/usr/bin/env python3
# virtio-pci devices under Linux's own drivers (interpreter): entropy from /dev/hwrng, output
# through /dev/hvc0 and a named /dev/vport port into file chardevs, and a virtio-blk disk
# (raw image) and one on a qcow2 image that each get an ext2 filesystem, a file and its
# checksum, found again after a guest reboot (reboot -f, same process) and by a second boot
# (and the qcow2 passes kite-img check).  Interrupts are MSI-X.  The second boot drives the disk (MSI-X) and the rng (INTx,
# vectors=0, fed by -object rng-random from a file) through the legacy (transitional)
# interface with disable-modern=on, its disk served by an iothread (iothread=) through
# aio=io_uring with num-queues=1, and -smp 2 giving the qcow2 disk a request queue per vCPU
# by default (two blk-mq hardware queues), also through aio=io_uring (qcow2 reads of mapped
# clusters go to the ring from the vCPUs).  Prints "PASS name" / "FAIL name: reason" / "SKIP ..."
# per case and exits 1 on a failure, 77 if all were skipped.
#
#   tests/functional/test_virtio.py [--emulator PATH] [--guest-dir DIR]
# SPDX-License-Identifier: GPL-2.0-or-later

import os
import sys
import subprocess
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, guest_arg_parser, find_emulator  # noqa: E402
from test_linux_boot import prepare_guest  # noqa: E402



def parse_args():
    p = guest_arg_parser(__doc__)
    p.add_argument("--boot-timeout", type=float, default=300)
    p.add_argument("--cmd-timeout", type=float, default=120)
    p.add_argument("--kite-img", default=os.environ.get("KITE_IMG", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "kite-img")))
    # The second boot's disk backend (install-deps.sh brings liburing, so io_uring).
    p.add_argument("--second-aio", default=os.environ.get("KITE_SECOND_AIO", "io_uring"))
    return p.parse_args()


def boot(args, emulator, vmlinuz, initrd, extra, log_path, no_reboot=True):
    argv = [emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-nographic", "-net", "none"] + (["-no-reboot"] if no_reboot else []) + extra
    g = Guest(argv, log_path=log_path)
    g.start()
    g.expect(READY_RE, args.boot_timeout)
    g.shell_sync(timeout=args.cmd_timeout)
    return g


def iothread_wakeups(pid, name):
    """Voluntary context switches of the emulator's thread for -object iothread,id=name."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            if comm != f"IO {name}"[:15]:
                continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        return int(line.split()[1])
        except OSError:
            continue
    raise GuestError(f"no thread 'IO {name}' in the emulator")


def expect(g, args, cmd, check, what):
    out = g.check(cmd, args.cmd_timeout)
    if not check(out):
        raise GuestError(f"{cmd!r} printed {out!r}; expected {what}")
    return out


def case_first_boot(args, emulator, vmlinuz, initrd, tmp, log_dir):
    hvc = os.path.join(tmp, "hvc0.out")
    port = os.path.join(tmp, "port.out")
    disk = os.path.join(tmp, "disk.raw")
    with open(disk, "wb") as f:
        f.truncate(32 << 20)
    qcow = os.path.join(tmp, "disk.qcow2")
    subprocess.run([args.kite_img, "create", "-f", "qcow2", qcow, "16M"], check=True,
                   stdout=subprocess.DEVNULL)
    extra = ["-device", "virtio-rng-pci",
             "-chardev", f"file,id=c0,path={hvc}", "-chardev", f"file,id=c1,path={port}",
             "-device", "virtio-serial-pci,id=vser0",
             "-device", "virtconsole,chardev=c0",
             "-device", "virtserialport,chardev=c1,name=org.kite.test",
             "-drive", f"file={disk},format=raw,if=none,id=d0",
             "-device", "virtio-blk-pci,drive=d0,serial=KITE0001",
             "-drive", f"file={qcow},format=qcow2,if=none,id=d1",
             "-device", "virtio-blk-pci,drive=d1,serial=KITEQCOW"]
    with boot(args, emulator, vmlinuz, initrd, extra,
              os.path.join(log_dir, "virtio-boot1.log"), no_reboot=False) as g:
        expect(g, args, "cat /sys/class/misc/hw_random/rng_current",
               lambda o: o.startswith("virtio_rng"), "virtio_rng.N")
        expect(g, args, "dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | wc -w",
               lambda o: o == "32", "32 random bytes")
        expect(g, args, "ls /dev/hvc0 /dev/vport*p1",
               lambda o: "/dev/hvc0" in o and "p1" in o, "/dev/hvc0 and a vport")
        expect(g, args, "cat /sys/class/virtio-ports/vport*p1/name",
               lambda o: o == "org.kite.test", "the port's name")
        g.check("echo hello-hvc > /dev/hvc0", args.cmd_timeout)
        g.check("for p in /dev/vport*p1; do echo hello-port > $p; done", args.cmd_timeout)
        expect(g, args, "cat /sys/block/vda/serial", lambda o: o == "KITE0001", "the serial")
        expect(g, args, "grep virtio /proc/interrupts | grep -c PCI-MSI", lambda o: int(o) >= 3,
               "MSI-X vectors for the virtio devices")
        expect(g, args, "cat /sys/block/vda/size", lambda o: o == str(32 << 11),
               "32 MiB in sectors")
        g.check("busybox mke2fs /dev/vda >/dev/null 2>&1", args.cmd_timeout)
        g.check("mkdir -p /mnt && mount -t ext2 /dev/vda /mnt", args.cmd_timeout)
        g.check("dd if=/dev/urandom of=/mnt/data bs=64k count=32 2>/dev/null",
                args.cmd_timeout)
        s1 = g.check("md5sum /mnt/data | cut -d' ' -f1", args.cmd_timeout)
        g.check("umount /mnt && mount -t ext2 /dev/vda /mnt", args.cmd_timeout)
        expect(g, args, "md5sum /mnt/data | cut -d' ' -f1", lambda o: o == s1,
               "the same checksum after remount")
        g.check("umount /mnt && sync", args.cmd_timeout)
        # The same on the qcow2 disk (clusters allocated by the guest's writes).
        expect(g, args, "cat /sys/block/vdb/serial", lambda o: o == "KITEQCOW",
               "the qcow2 disk's serial")
        g.check("busybox mke2fs /dev/vdb >/dev/null 2>&1", args.cmd_timeout)
        g.check("mkdir -p /mq && mount -t ext2 /dev/vdb /mq", args.cmd_timeout)
        g.check("dd if=/dev/urandom of=/mq/data bs=64k count=16 2>/dev/null",
                args.cmd_timeout)
        q1 = g.check("md5sum /mq/data | cut -d' ' -f1", args.cmd_timeout)
        g.check("umount /mq && sync", args.cmd_timeout)
        # A guest reboot (system reset in the same process: every virtio device is reset
        # and set up again by the drivers) finds both files.
        g.reboot(args.cmd_timeout, args.boot_timeout)
        for dev, mnt, want in (("vda", "/mnt", s1), ("vdb", "/mq", q1)):
            g.check(f"mkdir -p {mnt} && mount -t ext2 -o ro /dev/{dev} {mnt}",
                    args.cmd_timeout)
            expect(g, args, f"md5sum {mnt}/data | cut -d' ' -f1", lambda o: o == want,
                   f"the checksum on {dev} after the guest reboot")
            g.check(f"umount {mnt}", args.cmd_timeout)
        status = g.poweroff(timeout=args.cmd_timeout)
        if status != 0:
            raise GuestError(f"emulator exit status {status}")
    for path, want in ((hvc, "hello-hvc"), (port, "hello-port")):
        with open(path, errors="replace") as f:
            if want not in f.read():
                raise GuestError(f"{want!r} did not reach {os.path.basename(path)}")
    chk = subprocess.run([args.kite_img, "check", qcow], capture_output=True, text=True)
    if chk.returncode != 0:
        raise GuestError("kite-img check on the guest's qcow2: " + chk.stdout + chk.stderr)
    return disk, s1, qcow, q1


def case_second_boot(args, emulator, vmlinuz, initrd, disk, s1, qcow, q1, log_dir):
    # The rng reads a file of 0x5a bytes through -object rng-random: what the guest gets
    # proves the backend is used.
    entropy = os.path.join(os.path.dirname(disk), "entropy.bin")
    with open(entropy, "wb") as f:
        f.write(b"\x5a" * (4 << 20))
    extra = ["-smp", "2", "-object", f"rng-random,id=rng0,filename={entropy}",
             "-device", "virtio-rng-pci,rng=rng0,disable-modern=on,vectors=0",
             "-object", "iothread,id=io0",
             "-drive", f"file={disk},format=raw,if=none,id=d0,aio={args.second_aio}",
             "-device",
             "virtio-blk-pci,drive=d0,disable-modern=on,iothread=io0,num-queues=1",
             "-drive", f"file={qcow},format=qcow2,if=none,id=d1,aio={args.second_aio}",
             "-device", "virtio-blk-pci,drive=d1"]
    with boot(args, emulator, vmlinuz, initrd, extra,
              os.path.join(log_dir, "virtio-boot2.log")) as g:
        expect(g, args, "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | "
               "tr ' ' '\\n' | grep -c 5a", lambda o: o == "16",
               "16 bytes of the rng-random file (legacy interface)")
        # Two vCPUs: by default (as in QEMU) a request queue each, and Linux's virtio_blk
        # a blk-mq hardware queue per virtqueue; num-queues=1 keeps one.
        expect(g, args, "ls /sys/block/vdb/mq | wc -l", lambda o: o == "2",
               "two hardware queues on the default disk with -smp 2")
        expect(g, args, "ls /sys/block/vda/mq | wc -l", lambda o: o == "1",
               "one hardware queue with num-queues=1")
        g.check("mkdir -p /mnt && mount -t ext2 /dev/vda /mnt", args.cmd_timeout)
        before = iothread_wakeups(g.proc.pid, "io0")
        expect(g, args, "md5sum /mnt/data | cut -d' ' -f1", lambda o: o == s1,
               "the first boot's checksum")
        after = iothread_wakeups(g.proc.pid, "io0")
        # 2 MiB read with a cold page cache: several requests, each waking the iothread.
        print(f"# iothread io0: {after - before} wakeups during the 2 MiB read")
        if after - before < 4:
            raise GuestError(f"iothread io0 woke {after - before} times during the read; "
                             "the disk requests did not go through it")
        g.check("umount /mnt", args.cmd_timeout)
        g.check("mkdir -p /mq && mount -t ext2 /dev/vdb /mq", args.cmd_timeout)
        expect(g, args, "md5sum /mq/data | cut -d' ' -f1", lambda o: o == q1,
               "the first boot's checksum on the qcow2 disk")
        g.check("umount /mq", args.cmd_timeout)
        status = g.poweroff(timeout=args.cmd_timeout)
        if status != 0:
            raise GuestError(f"emulator exit status {status}")


def main():
    args = parse_args()
    emulator = find_emulator(args.emulator)
    names = ["virtio-modern", "virtio-legacy-reboot"]
    if emulator is None:
        for n in names:
            print(f"SKIP {n}: emulator {args.emulator} not found")
        return 77
    try:
        vmlinuz, initrd, _ = prepare_guest(args.guest_dir)
    except RuntimeError as e:
        for n in names:
            print(f"SKIP {n}: {e}")
        return 77
    log_dir = os.path.join(args.guest_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kite-virtio-") as tmp:
        try:
            disk, s1, qcow, q1 = case_first_boot(args, emulator, vmlinuz, initrd, tmp,
                                                 log_dir)
            print(f"PASS {names[0]}", flush=True)
        except (GuestError, OSError) as e:
            print(f"FAIL {names[0]}: {e}", flush=True)
            print(f"SKIP {names[1]}: needs the first boot's disk", flush=True)
            return 1
        try:
            case_second_boot(args, emulator, vmlinuz, initrd, disk, s1, qcow, q1, log_dir)
            print(f"PASS {names[1]}", flush=True)
        except (GuestError, OSError) as e:
            print(f"FAIL {names[1]}: {e}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
