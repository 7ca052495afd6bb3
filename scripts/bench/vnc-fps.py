#!/usr/bin/env python3
"""VNC benchmark: frames per second and bytes per full-screen update, Kite next to Debian's
qemu-system-x86_64, on loopback.  Not a test: it never asserts on numbers.

The guest is tests/guest/fb-repaint.c: the PCI stdvga (-device VGA, what -vga std creates)
at 1024x768x32, the whole framebuffer repainted forever with every pixel changing.  For each
emulator and encoding a python RFB client (tests/functional/rfb.py, walking the data without
decoding it) measures for --seconds each:

  incremental  a client that always has an incremental FramebufferUpdateRequest
               outstanding, like a viewer: updates/s, and the guest's own repaint rate
               (from its serial port) since that bounds what any server can show;
  on-demand    non-incremental full-screen requests back to back: the server encodes and
               sends the whole screen each time, so this is the server's own throughput,
               independent of how fast the guest paints;

and bytes on the wire per full-screen update.  The table prints Kite, QEMU and Kite/QEMU.

    scripts/bench/vnc-fps.py [--kite build/kite] [--kernel build/tests/guest/fb-repaint.elf]
                             [--accel tcg|kvm] [--seconds 10] [--encodings raw,hextile,zrle,tight]
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "functional"))
import rfb  # noqa: E402

ENCODINGS = {"raw": rfb.RAW, "hextile": rfb.HEXTILE, "zrle": rfb.ZRLE, "tight": rfb.TIGHT}


class Vm(rfb.GuestVm):
    def __init__(self, emulator, kernel, accel):
        super().__init__(emulator, kernel, rfb.free_display(300, 399, websocket=False),
                         accel=accel, vga="VGA", stderr=subprocess.DEVNULL)

    def poll_serial(self, timeout=0.0):
        if not super().poll_serial(timeout):
            raise RuntimeError("emulator exited")
        return True

    def wait_for(self, pattern, timeout=120):
        try:
            self.expect(pattern, timeout)
        except AssertionError:
            raise RuntimeError("guest did not print %r" % pattern)

    def guest_frames(self):
        self.poll_serial()
        counts = re.findall(rb"repaint: (\d+) frames", self.out)
        return int(counts[-1]) if counts else 0


def full_screen(rects, w, h):
    return sum(r[2] * r[3] for r in rects if r[4] != rfb.DESKTOP_SIZE) >= w * h


def measure(emulator, kernel, accel, encoding, seconds):
    vm = Vm(emulator, kernel, accel)
    try:
        vm.wait_for(rb"repaint: running")
        c = rfb.connect(5900 + vm.display, [encoding, rfb.DESKTOP_SIZE])
        c.t.sock.settimeout(60)
        # Until the mode switch has reached the server: a 1024x768 screen.
        deadline = time.time() + 60
        while (c.w, c.h) != (1024, 768) and time.time() < deadline:
            c.request(False)
            c.read_update(decode=False)
        if (c.w, c.h) != (1024, 768):
            raise RuntimeError("screen is %dx%d, not 1024x768" % (c.w, c.h))

        # Incremental: one request outstanding at all times.
        frames0, t0, b0 = vm.guest_frames(), time.time(), c.bytes_in
        updates = full = 0
        c.request(True)
        while time.time() - t0 < seconds:
            rects = c.read_update(decode=False)
            c.request(True)
            updates += 1
            full += full_screen(rects, c.w, c.h)
            vm.poll_serial()
        elapsed = time.time() - t0
        inc = {"fps": updates / elapsed, "full_fps": full / elapsed,
               "guest_fps": (vm.guest_frames() - frames0) / elapsed,
               "bytes_per_update": (c.bytes_in - b0) / max(updates, 1)}
        c.read_update(decode=False)         # the last outstanding request

        # On demand: full-screen non-incremental requests back to back.
        t0, b0, n = time.time(), c.bytes_in, 0
        while time.time() - t0 < seconds:
            c.request(False)
            c.read_update(decode=False)
            n += 1
            vm.poll_serial()
        elapsed = time.time() - t0
        dem = {"fps": n / elapsed, "bytes_per_update": (c.bytes_in - b0) / n}
        c.close()
        return inc, dem
    finally:
        vm.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kite", default=os.path.join(SRC, "build", "kite"))
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--kernel", default=os.path.join(SRC, "build", "tests", "guest",
                                                    "fb-repaint.elf"))
    p.add_argument("--accel", default="tcg")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--encodings", default="raw,hextile,zrle,tight")
    args = p.parse_args()
    if not os.path.exists(args.kernel):
        sys.exit("%s missing: build with ninja -C build" % args.kernel)
    if not shutil.which(args.qemu):
        sys.exit("%s not found (apt-get install qemu-system-x86)" % args.qemu)

    rows = []
    for name in args.encodings.split(","):
        enc = ENCODINGS[name]
        res = {}
        for label, emu in (("kite", args.kite), ("qemu", args.qemu)):
            print("... %s %s (%s, %g s per phase)" % (label, name, args.accel, args.seconds),
                  file=sys.stderr)
            try:
                res[label] = measure(emu, args.kernel, args.accel, enc, args.seconds)
            except (RuntimeError, OSError, EOFError, AssertionError) as e:
                print("    %s failed: %s" % (label, e), file=sys.stderr)
                res[label] = None
        for key, phase, field, fmt in (
                ("guest repaints/s", 0, "guest_fps", "%.1f"),
                ("incremental updates/s", 0, "fps", "%.1f"),
                ("  of them full-screen/s", 0, "full_fps", "%.1f"),
                ("bytes per incremental update", 0, "bytes_per_update", "%.0f"),
                ("on-demand full updates/s", 1, "fps", "%.1f"),
                ("bytes per full update", 1, "bytes_per_update", "%.0f")):
            vals = [res[l][phase][field] if res[l] else None for l in ("kite", "qemu")]
            ratio = ("%.2f" % (vals[0] / vals[1])) if None not in vals and vals[1] else "-"
            rows.append((name, key, *[fmt % v if v is not None else "-" for v in vals], ratio))

    print("\nVNC, 1024x768x32 guest repainting every pixel, -accel %s, %g s per phase"
          % (args.accel, args.seconds))
    print("%-8s %-30s %14s %14s %10s" % ("encoding", "metric", "Kite", "QEMU", "Kite/QEMU"))
    for r in rows:
        print("%-8s %-30s %14s %14s %10s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
