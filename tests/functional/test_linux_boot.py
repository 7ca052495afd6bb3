#!/usr/bin/env python3
# Boot Debian's stock kernel with the busybox initramfs from scripts/build-linux-guest.sh,
# run a few commands in its shell over the serial console, and power it off through ACPI.
# One test case per -smp value.  Prints "PASS name", "FAIL name: reason" or
# "SKIP name: reason" per case and a closing "N passed, N failed, N skipped" line.
# Exit status: 1 if a case failed, 77 if every case was skipped, 0 otherwise.
#
#   tests/functional/test_linux_boot.py [--emulator PATH] [--accel tcg] [--smp 1,2]
#
# The emulator defaults to $KITE_BIN, else build/kite; the reference run is
#   tests/functional/test_linux_boot.py --emulator qemu-system-x86_64
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, find_emulator  # noqa: E402
from qmp import QMP  # noqa: E402

SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", default=os.environ.get("KITE_BIN",
                                                         os.path.join(SRCDIR, "build", "kite")),
                   help="emulator binary (default: $KITE_BIN, else build/kite)")
    p.add_argument("--accel", default=os.environ.get("KITE_ACCEL", "tcg"),
                   help="value for -accel (default: $KITE_ACCEL, else tcg)")
    p.add_argument("--smp", default="1,2", help="comma-separated -smp values, one case each")
    p.add_argument("--guest-dir", default=os.environ.get("KITE_GUEST_DIR",
                                                         os.path.join(SRCDIR, "build", "guest")),
                   help="where vmlinuz and initrd.gz are (built there if missing)")
    p.add_argument("--log-dir", default=None,
                   help="console logs go here (default: GUEST_DIR/logs)")
    p.add_argument("--boot-timeout", type=float, default=float(os.environ.get(
        "KITE_BOOT_TIMEOUT", 300)), help="seconds allowed to reach the marker (default 300)")
    p.add_argument("--cmd-timeout", type=float, default=120,
                   help="seconds allowed per guest command (default 120)")
    p.add_argument("--extra-arg", action="append", default=[],
                   help="extra emulator argument (repeatable)")
    return p.parse_args()


def prepare_guest(guest_dir):
    """Build (or confirm cached) the guest; return (vmlinuz, initrd, kernel version) or
    raise RuntimeError with the reason the guest is unavailable."""
    script = os.path.join(SRCDIR, "scripts", "build-linux-guest.sh")
    r = subprocess.run(["bash", script, guest_dir], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    files = [os.path.join(guest_dir, f) for f in ("vmlinuz", "initrd.gz", "kernel-version")]
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        if all(os.path.exists(f) for f in files):
            print(f"# build-linux-guest.sh failed ({why}); using the existing guest files")
        else:
            raise RuntimeError(f"cannot build the guest: {why}")
    with open(files[2]) as f:
        kver = f.read().strip()
    return files[0], files[1], kver


def check_hpet_stops_with_vm(qmp_path, timeout):
    """The HPET's main counter (enabled by Linux) stands still while the VM is stopped and
    runs again after cont: it follows the virtual clock.  Read through HMP xp."""
    def counter(q):
        out = q.command("human-monitor-command", {"command-line": "xp /1gx 0xfed000f0"})
        return int(out.split()[-1], 16)

    with QMP(qmp_path, timeout=timeout, connect_timeout=10) as q:
        q.command("stop")
        try:
            a = counter(q)
            time.sleep(0.3)
            b = counter(q)
        finally:
            q.command("cont")
        c = counter(q)
    if a != b or c <= b:
        raise GuestError(f"HPET main counter {a:#x} then {b:#x} while stopped, {c:#x} after "
                         "cont: expected frozen, then running")


def boot_case(args, emulator, vmlinuz, initrd, kver, smp, log_path):
    """One boot; returns a list of timing notes, raises GuestError on failure."""
    with tempfile.TemporaryDirectory(prefix="kite-boot-") as tmp:
        return boot_case_in(args, emulator, vmlinuz, initrd, kver, smp, log_path,
                            os.path.join(tmp, "qmp.sock"))


def boot_case_in(args, emulator, vmlinuz, initrd, kver, smp, log_path, qmp_path):
    argv = [emulator, "-accel", args.accel, "-M", "pc", "-m", "256", "-smp", str(smp),
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-nographic", "-no-reboot", "-net", "none",
            "-device", "pci-testdev,addr=03.0", "-device", "pvpanic",
            "-qmp", f"unix:{qmp_path},server=on,wait=off"] + args.extra_arg
    with Guest(argv, log_path=log_path) as g:
        g.start()
        m = g.expect(READY_RE, args.boot_timeout)
        t_marker = g.elapsed()
        failed = [line for line in g.transcript.splitlines() if "kite-init:" in line]
        if failed:
            raise GuestError("init reported: " + "; ".join(failed))
        g.shell_sync(timeout=args.cmd_timeout)

        def expect_output(cmd, want, compare=lambda out, want: out == want):
            out = g.check(cmd, args.cmd_timeout)
            if not compare(out, want):
                raise GuestError(f"{cmd!r} printed {out!r}, expected {want!r}")

        expect_output("uname -r", kver)
        expect_output("cat /proc/cpuinfo | grep -c processor", str(smp))
        expect_output("echo $((6*7))", "42")
        zeros_md5 = hashlib.md5(bytes(8 << 20)).hexdigest()
        expect_output("dd if=/dev/zero bs=1M count=8 2>/dev/null | md5sum",
                      f"{zeros_md5}  -")
        # The firmware tables Kite builds for direct boot reached the kernel, with QEMU's
        # OEM ids and its WAET.
        expect_output("ls /sys/firmware/acpi/tables", ["APIC", "DSDT", "FACP", "WAET"],
                      lambda out, want: all(d in out.split() for d in want))
        expect_output("dmesg | grep -c 'ACPI: WAET 0x[0-9A-F]* 000028 (v01 BOCHS  BXPC     "
                      "00000001 BXPC 00000001)'", "1")
        # The HPET (hw/timer/hpet.c) as under QEMU: the ACPI HPET table, Linux's driver
        # claiming the block, and the counter registered as a clocksource.
        expect_output("ls /sys/firmware/acpi/tables", "HPET",
                      lambda out, want: want in out.split())
        expect_output("dmesg | grep -c 'hpet0: at MMIO 0xfed00000, IRQs 2, 8, 0'", "1")
        expect_output("cat /sys/bus/acpi/devices/PNP0103:00/status", "15")
        expect_output("cat /sys/devices/system/clocksource/clocksource0/available_clocksource",
                      "hpet", lambda out, want: want in out.split())
        check_hpet_stops_with_vm(qmp_path, args.cmd_timeout)
        g.shell_sync(timeout=args.cmd_timeout)
        # PCI through the DSDT's root bridge: host bridge, ISA bridge, and a pci-testdev
        # whose memory BAR was assigned inside the bridge's window.
        expect_output("ls /sys/bus/pci/devices",
                      ["0000:00:00.0", "0000:00:01.0", "0000:00:03.0"],
                      lambda out, want: all(d in out.split() for d in want))
        expect_output("cat /sys/bus/pci/devices/0000:00:03.0/vendor "
                      "/sys/bus/pci/devices/0000:00:03.0/device", "0x1b36\n0x0005",
                      lambda out, want: out.split() == want.split())
        # IDs as under QEMU: pci-testdev's class 00ff, QEMU's subsystem 1af4:1100 on the
        # PIIX3 ISA bridge and pci-testdev.
        expect_output("cd /sys/bus/pci/devices; cat 0000:00:03.0/class "
                      "0000:00:01.0/subsystem_vendor 0000:00:01.0/subsystem_device "
                      "0000:00:03.0/subsystem_vendor 0000:00:03.0/subsystem_device; cd /",
                      "0x00ff00 0x1af4 0x1100 0x1af4 0x1100",
                      lambda out, want: out.split() == want.split())
        # QEMU's PCI windows in _CRS: from the end of low RAM (256 MiB here) to the IOAPIC,
        # and 2 GiB above 4 GiB.
        expect_output("dmesg | grep -c -E 'root bus resource \\[mem (0x10000000-0xfebfffff|"
                      "0x100000000-0x17fffffff) window\\]'", "2")
        # BARs where SeaBIOS puts them under QEMU (hw/i386/pc-pci.c): the VGA framebuffer
        # first in the prefetchable region at 0xfd000000, pci-testdev's I/O BAR at 0xc000.
        expect_output("head -1 /sys/bus/pci/devices/0000:00:02.0/resource; "
                      "sed -n 2p /sys/bus/pci/devices/0000:00:03.0/resource",
                      "0x00000000fd000000 0x00000000fdffffff 0x0000000000042208\n"
                      "0x000000000000c000 0x000000000000c0ff 0x0000000000040101")
        expect_output("head -1 /sys/bus/pci/devices/0000:00:03.0/resource", "BAR0 assigned",
                      lambda out, want: int(out.split()[0], 16) >= 0xc0000000 and
                      int(out.split()[1], 16) - int(out.split()[0], 16) == 0xfff)
        # QEMU's pc hardware as the guest sees it: the PIIX4 PM function at 00:01.3 with the
        # SCI in Interrupt Line, its PM block at PMBA 0x600 (Linux's PIIX4 quirk claims the
        # 64 bytes, the FADT's blocks sit inside), SMBus at 0x700, GPE0 at 0xafe0, and qemu64's CPUID as QEMU's TCG has it
        # (model name, maximum leaf 0Dh, hypervisor bit; cmp_legacy with 2 CPUs a package;
        # MCA with its MSRs, AMD's patch level), and no MSR Linux touches on it faults.
        expect_output("cd /sys/bus/pci/devices/0000:00:01.3; cat vendor device class irq; cd /",
                      "0x8086 0x7113 0x068000 9",
                      lambda out, want: out.split() == want.split())
        expect_output("grep -E '0600-063f : 0000:00:01.3|0600-0603 : ACPI PM1a_EVT_BLK|"
                      "0608-060b : ACPI PM_TMR|0700-070f : 0000:00:01.3|afe0-afe3 : ACPI GPE0_BLK' "
                      "/proc/ioports | wc -l", "5",
                      lambda out, want: out.strip() == want)
        expect_output("grep -m1 -E '^model name' /proc/cpuinfo; "
                      "grep -m1 -E '^microcode' /proc/cpuinfo; "
                      "grep -m1 -E '^cpuid level' /proc/cpuinfo",
                      "model name\t: QEMU Virtual CPU version 2.5+\nmicrocode\t: 0x1000065\n"
                      "cpuid level\t: 13")
        expect_output("dmesg | grep -c 'unchecked MSR access' || true", "0")
        # The e820 map as QEMU's under TCG: the ACPI tables' area "reserved" (SeaBIOS's
        # high zone), no KVM TSS/identity-map hole at feffc000.
        if args.accel == "tcg":
            expect_output("grep -E '^0ffe0000-0fffffff : Reserved$|^feffc000' /proc/iomem",
                          "0ffe0000-0fffffff : Reserved")
        want_flags = ["cx16", "hypervisor", "lahf_lm", "nx", "lm", "mce", "mca"] + \
            (["ht", "cmp_legacy"] if smp > 1 else [])
        expect_output("grep -m1 '^flags' /proc/cpuinfo", want_flags,
                      lambda out, want: all(f in out.split() for f in want) and
                      "popcnt" not in out.split() and "rdtscp" not in out.split())
        # pvpanic's ACPI device (QEMU0001, its port in _CRS) as Linux's pvpanic driver finds
        # it; the driver itself is not in the initramfs.
        expect_output("cat /sys/bus/acpi/devices/QEMU0001:00/hid "
                      "/sys/bus/acpi/devices/QEMU0001:00/status", "QEMU0001\n15",
                      lambda out, want: out.split() == want.split())
        # The i8042 as SeaBIOS leaves it (translation on, hw/i386/pc.c pc_reset): Linux's
        # atkbd names the keyboard as under QEMU.
        expect_output("grep -h '^N: Name=' /proc/bus/input/devices",
                      'N: Name="AT Translated Set 2 keyboard"',
                      lambda out, want: want in out.splitlines())
        rc, _ = g.run("false")
        if rc != 1:
            raise GuestError(f"'false' reported exit status {rc}, expected 1")
        t_cmds = g.elapsed()
        status = g.poweroff(timeout=args.cmd_timeout)
        if status != 0:
            raise GuestError(g.describe_failure(f"emulator exit status {status}, expected 0"))
        return [f"marker at {t_marker:.1f} s (guest uptime {m.group(1)} s)",
                f"commands done at {t_cmds:.1f} s", f"exited at {g.elapsed():.1f} s"]


def main():
    args = parse_args()
    cases = [(f"linux-boot-smp{n}", int(n)) for n in args.smp.split(",") if n.strip()]
    results = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def report(kind, name, reason=None):
        results[kind] += 1
        if reason is None:
            print(f"{kind} {name}", flush=True)
        else:
            first, _, rest = reason.partition("\n")
            print(f"{kind} {name}: {first}", flush=True)
            for line in rest.splitlines():
                print(f"    {line}", flush=True)

    emulator = find_emulator(args.emulator)
    skip_reason = None
    if emulator is None:
        skip_reason = f"emulator {args.emulator} not found or not executable"
    else:
        try:
            vmlinuz, initrd, kver = prepare_guest(args.guest_dir)
        except RuntimeError as e:
            skip_reason = str(e)

    if skip_reason is not None:
        for name, _ in cases:
            report("SKIP", name, skip_reason)
    else:
        log_dir = args.log_dir or os.path.join(args.guest_dir, "logs")
        os.makedirs(log_dir, exist_ok=True)
        print(f"# emulator {emulator}, accel {args.accel}, kernel {kver}")
        for name, smp in cases:
            log_path = os.path.join(log_dir, f"{name}.log")
            t0 = time.monotonic()
            try:
                notes = boot_case(args, emulator, vmlinuz, initrd, kver, smp, log_path)
            except GuestError as e:
                report("FAIL", name, f"{e}\n(after {time.monotonic() - t0:.1f} s;"
                       f" console log {log_path})" if log_path not in str(e) else
                       f"{e}\n(after {time.monotonic() - t0:.1f} s)")
                continue
            print(f"# {name}: " + ", ".join(notes))
            report("PASS", name)

    print(f"{results['PASS']} passed, {results['FAIL']} failed, {results['SKIP']} skipped")
    if results["FAIL"]:
        return 1
    if results["SKIP"] and not results["PASS"]:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
