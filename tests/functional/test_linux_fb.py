#!/usr/bin/env python3
"""Linux's firmware framebuffer on Kite's VGA with direct kernel boot: the card starts in
DISPI 1024x768x32, screen_info describes the LFB, vesafb binds to it, and text written to
the console shows up on the screen (isa-vga's dump-ppm at exit).

    test_linux_fb.py --emulator build/kite --guest-dir build/guest
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--guest-dir", required=True)
    p.add_argument("--accel", default="tcg")
    args = p.parse_args()
    vmlinuz = os.path.join(args.guest_dir, "vmlinuz")
    initrd = os.path.join(args.guest_dir, "initrd.gz")
    if not (os.path.getsize(vmlinuz) if os.path.exists(vmlinuz) else 0):
        print("SKIP: no guest kernel in", args.guest_dir)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "screen.ppm")
        argv = [args.emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
                "-kernel", vmlinuz, "-initrd", initrd,
                "-append", "console=ttyS0 panic=-1 quiet", "-nographic", "-no-reboot",
                "-net", "none", "-device", "isa-vga,dump-ppm=" + dump]
        try:
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
                # fbcon draws on the framebuffer: an empty screen has no lit pixel.
                g.check("clear > /dev/tty0; echo KITE FRAMEBUFFER > /dev/tty0", 120)
                status = g.poweroff(timeout=120)
                if status != 0:
                    raise GuestError("emulator exit status %d" % status)
        except GuestError as e:
            print("FAIL linux-fb:", e)
            return 1
        with open(dump, "rb") as f:
            magic, size, _, pixels = f.read().split(b"\n", 3)
        lit = sum(1 for i in range(0, len(pixels), 3) if pixels[i:i + 3] != b"\0\0\0")
        if size != b"1024 768" or lit < 50:
            print("FAIL linux-fb: screen %s with %d lit pixels" % (size.decode(), lit))
            return 1
        print("PASS linux-fb: vesafb on the DISPI LFB, %d lit pixels" % lit)
        return 0


if __name__ == "__main__":
    sys.exit(main())
