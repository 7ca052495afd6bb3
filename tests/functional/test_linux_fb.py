#!/usr/bin/env python3
"""Linux's firmware framebuffer on Kite's VGA with direct kernel boot: the card starts in
DISPI 1024x768x32, screen_info describes the LFB, vesafb binds to it, and text written to
the console shows up on the screen.  Two boots:

  isa-vga  -device isa-vga (LFB at 0xe0000000), screen from its dump-ppm at exit
  pci      the default -vga std card at 00:02.0: vesafb's framebuffer is its BAR 0, the
           screen comes from QMP screendump

    test_linux_fb.py --emulator build/kite --guest-dir build/guest [--cases isa-vga,pci]
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError  # noqa: E402
from qmp import QMP  # noqa: E402


def qmp_screendump(path, filename):
    with QMP(path, timeout=60, connect_timeout=0) as q:
        r = q.cmd("screendump", filename=filename)
    if "return" not in r:
        raise GuestError("QMP screendump: %s" % r.get("error", r))


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    return (int(m.group(1)), int(m.group(2))), data[m.end():]


def run_case(args, case, tmp):
    vmlinuz = os.path.join(args.guest_dir, "vmlinuz")
    initrd = os.path.join(args.guest_dir, "initrd.gz")
    dump = os.path.join(tmp, "screen.ppm")
    qmp = os.path.join(tmp, "qmp.sock")
    argv = [args.emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet", "-nographic", "-no-reboot",
            "-net", "none"]
    if case == "isa-vga":
        argv += ["-device", "isa-vga,dump-ppm=" + dump]
    else:
        argv += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
    with Guest(argv, log_path=os.path.join(tmp, "console.log")) as g:
        g.start()
        g.expect(READY_RE, 300)
        g.shell_sync(timeout=120)
        out = g.check("dmesg | grep 'vesafb: mode is'", 120)
        if "1024x768x32, linelength=4096" not in out:
            raise GuestError("vesafb did not take the 1024x768x32 LFB: %r" % out)
        out = g.check("cat /proc/fb", 120)
        if "VESA VGA" not in out:
            raise GuestError("/proc/fb: %r" % out)
        if case == "pci":
            # vesafb maps the framebuffer screen_info gives: the card's BAR 0.
            out = g.check("dmesg | grep 'vesafb: framebuffer at'", 120)
            m = re.search(r"framebuffer at 0x([0-9a-f]+)", out)
            bar0 = g.check("head -1 /sys/bus/pci/devices/0000:00:02.0/resource", 120).split()
            if not m or int(m.group(1), 16) != int(bar0[0], 16):
                raise GuestError("vesafb at %r, the VGA's BAR 0 is %r" % (out, bar0))
        # fbcon draws on the framebuffer: an empty screen has no lit pixel.
        g.check("clear > /dev/tty0; echo KITE FRAMEBUFFER > /dev/tty0", 120)
        if case == "pci":
            qmp_screendump(qmp, dump)
        status = g.poweroff(timeout=120)
        if status != 0:
            raise GuestError("emulator exit status %d" % status)
    size, pixels = read_ppm(dump)
    lit = sum(1 for i in range(0, len(pixels), 3) if pixels[i:i + 3] != b"\0\0\0")
    if size != (1024, 768) or lit < 50:
        raise GuestError("screen %dx%d with %d lit pixels" % (size + (lit,)))
    return lit


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--guest-dir", required=True)
    p.add_argument("--accel", default="tcg")
    p.add_argument("--cases", default="isa-vga,pci")
    args = p.parse_args()
    vmlinuz = os.path.join(args.guest_dir, "vmlinuz")
    if not (os.path.getsize(vmlinuz) if os.path.exists(vmlinuz) else 0):
        print("SKIP: no guest kernel in", args.guest_dir)
        return 77
    failed = 0
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                lit = run_case(args, case, tmp)
                print("PASS linux-fb %s: vesafb on the DISPI LFB, %d lit pixels" % (case, lit))
            except GuestError as e:
                print("FAIL linux-fb %s: %s" % (case, e))
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
