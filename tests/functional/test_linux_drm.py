#!/usr/bin/env python3
"""Linux's bochs-drm driver on Kite's default PCI VGA (-vga std, 1234:1111), one boot under
the interpreter with direct kernel boot:

  - before: vesafb drives the firmware framebuffer the board set up (screen_info)
  - 'modprobe bochs' (the initramfs ships it but /init does not load it): the driver finds
    the DISPI interface through BAR 2, binds, removes vesafb and registers card0 with a
    connected Virtual-1 connector; fb0 becomes "bochs-drmdrmfb"
  - the connector's modes come from the EDID at BAR 2 offset 0: 1280x800 preferred
  - the kernel command line asks for video=Virtual-1:800x600, a mode other than the
    1024x768 of direct kernel boot, so the DRM mode set has to reprogram the card:
    fb0 is 800x600x32 with a 3200-byte stride
  - the guest writes a pattern into /dev/fb0 (a 7-pixel colour cycle, which does not divide
    the line, so a wrong stride or offset shows) and QMP screendump must show exactly that
    pattern at 800x600

    test_linux_drm.py [--emulator build/kite|qemu-system-x86_64] [--guest-dir build/guest]
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, guest_arg_parser  # noqa: E402
from test_linux_boot import prepare_guest  # noqa: E402
from qmp import QMP  # noqa: E402

WIDTH, HEIGHT = 800, 600
# (R, G, B); in the XRGB8888 framebuffer each pixel is the bytes B, G, R, 0.
COLOURS = [(0xff, 0x00, 0x00), (0x00, 0xff, 0x00), (0x00, 0x00, 0xff), (0x12, 0x34, 0x56),
           (0xff, 0xff, 0xff), (0x80, 0x40, 0xc0), (0x00, 0x00, 0x00)]


def parse_args():
    p = guest_arg_parser(__doc__)
    p.add_argument("--timeout", type=float, default=300)
    return p.parse_args()


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    if not m:
        raise GuestError("screendump %s is not a binary PPM" % path)
    return (int(m.group(1)), int(m.group(2))), data[m.end():]


def expected_screen():
    cycle = b"".join(bytes(c) for c in COLOURS)
    n = WIDTH * HEIGHT
    return (cycle * (n // len(COLOURS) + 1))[:n * 3]


def compare(pixels, want):
    """None if equal, else a description of the first difference and how many differ."""
    if pixels == want:
        return None
    if len(pixels) != len(want):
        return "%d bytes of pixels, expected %d" % (len(pixels), len(want))
    bad = [i for i in range(0, len(want), 3) if pixels[i:i + 3] != want[i:i + 3]]
    i = bad[0]
    return "%d of %d pixels differ; first at (%d,%d): %s, expected %s" % (
        len(bad), len(want) // 3, (i // 3) % WIDTH, (i // 3) // WIDTH,
        pixels[i:i + 3].hex(), want[i:i + 3].hex())


def fb_attr(g, name, t):
    return g.check("cat /sys/class/graphics/fb0/" + name, t).strip()


def run(args, tmp):
    vmlinuz, initrd, _ = prepare_guest(args.guest_dir)
    qmp_path = os.path.join(tmp, "qmp.sock")
    dump = os.path.join(tmp, "screen.ppm")
    t = args.timeout
    argv = [args.emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet video=Virtual-1:%dx%d" % (WIDTH, HEIGHT),
            "-nographic", "-no-reboot", "-net", "none", "-vga", "std",
            "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    with Guest(argv, log_path=os.path.join(tmp, "console.log")) as g:
        try:
            g.start()
            g.expect(READY_RE, t)
            g.shell_sync(timeout=120)
            # Kite starts the card in the linear mode for direct kernel boot (QEMU leaves it
            # in text mode: no framebuffer before bochs-drm).
            out = g.check("cat /proc/fb", t)
            if "qemu" not in os.path.basename(args.emulator) and "VESA VGA" not in out:
                raise GuestError("before modprobe, /proc/fb: %r (expected vesafb)" % out)

            g.check("modprobe bochs", t)
            out = g.check("dmesg | grep -E 'bochs|drm'", t)
            for want in ("[drm] Found bochs VGA, ID 0xb0c5", "[drm] Found EDID data blob",
                         "[drm] Initialized bochs-drm 1.0.0 20130925 for 0000:00:02.0",
                         "fb0: bochs-drmdrmfb frame buffer device"):
                if want not in out:
                    raise GuestError("dmesg lacks %r:\n%s" % (want, out))
            # The driver's view of the BARs must be the card's: VRAM at BAR 0, MMIO at BAR 2.
            res = g.check("cat /sys/bus/pci/devices/0000:00:02.0/resource", t).splitlines()
            m = re.search(r"Framebuffer size (\d+) kB @ 0x([0-9a-f]+), mmio @ 0x([0-9a-f]+)", out)
            bar0, bar0_end = (int(x, 16) for x in res[0].split()[:2])
            bar2 = int(res[2].split()[0], 16)
            if (not m or int(m.group(2), 16) != bar0 or int(m.group(3), 16) != bar2 or
                    int(m.group(1)) * 1024 != bar0_end - bar0 + 1):
                raise GuestError("bochs-drm's BARs %r, sysfs: %r" % (m and m.group(0), res[:3]))
            out = g.check("readlink /sys/class/drm/card0/device; "
                          "cat /sys/class/drm/card0-Virtual-1/status "
                          "/sys/class/drm/card0-Virtual-1/modes", t).splitlines()
            if not out[0].endswith("0000:00:02.0") or out[1] != "connected":
                raise GuestError("card0: %r" % out[:2])
            # The EDID's preferred mode comes first: 1280x800 by default, as QEMU's.
            if out[2:3] != ["1280x800"]:
                raise GuestError("Virtual-1's preferred mode is not the EDID's 1280x800: %r"
                                 % out[2:])
            for mode in ("1024x768", "%dx%d" % (WIDTH, HEIGHT)):
                if mode not in out[2:]:
                    raise GuestError("Virtual-1 does not offer %s: %r" % (mode, out[2:]))

            out = g.check("cat /proc/fb", t)
            if out.strip() != "0 bochs-drmdrmfb":
                raise GuestError("/proc/fb after modprobe: %r (vesafb must be gone)" % out)
            got = {a: fb_attr(g, a, t) for a in ("name", "virtual_size", "bits_per_pixel",
                                                  "stride")}
            want = {"name": "bochs-drmdrmfb", "virtual_size": "%d,%d" % (WIDTH, HEIGHT),
                    "bits_per_pixel": "32", "stride": str(WIDTH * 4)}
            if got != want:
                raise GuestError("fb0 is %r, expected %r" % (got, want))

            # fbcon must not draw over the pattern: no blinking cursor, cursor hidden.
            g.check("echo 0 > /sys/class/graphics/fbcon/cursor_blink; "
                    "printf '\\033[?25l' > /dev/tty1", t)
            unit = "".join("\\%03o\\%03o\\%03o\\000" % (b, gr, r) for r, gr, b in COLOURS)
            # 28 bytes doubled 17 times = 3.5 MiB, more than the 1.83 MiB screen.  The
            # screen goes in one write(): Linux 6.1's fbdev damage clip is empty for a write
            # that stays within one line and ends at its end (QEMU shows the same), which
            # the last chunk of a chunked copy does.
            g.check("printf '%s' > /tmp/p; i=0; while [ $i -lt 17 ]; do "
                    "cat /tmp/p /tmp/p > /tmp/q; mv /tmp/q /tmp/p; i=$((i + 1)); done; "
                    "dd if=/tmp/p of=/dev/fb0 bs=%d count=1; rm /tmp/p" % (unit, WIDTH * HEIGHT * 4), t)

            # The DRM fbdev copies its shadow buffer to VRAM from a worker shortly after a
            # write: allow it a few seconds.
            want = expected_screen()
            q = QMP(qmp_path, timeout=60, connect_timeout=10)
            diff = "no screendump"
            for _ in range(20):
                r = q.cmd("screendump", {"filename": dump})
                if "return" not in r:
                    raise GuestError("QMP screendump: %r" % r)
                size, pixels = read_ppm(dump)
                if size != (WIDTH, HEIGHT):
                    diff = "screen is %dx%d, the guest set %dx%d" % (size + (WIDTH, HEIGHT))
                else:
                    diff = compare(pixels, want)
                    if diff is None:
                        break
                time.sleep(1)
            if diff is not None:
                raise GuestError("screendump: " + diff)
            status = g.poweroff(timeout=120)
            if status != 0:
                raise GuestError("emulator exit status %d" % status)
        except GuestError as e:
            if "console (tail)" in str(e):
                raise
            raise GuestError(g.describe_failure(str(e)))


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run(args, tmp)
        except GuestError as e:
            print("FAIL linux-drm: %s" % e)
            return 1
        except RuntimeError as e:
            print("SKIP linux-drm: %s" % e)
            return 77
    print("PASS linux-drm: bochs-drm bound to 00:02.0, %dx%d mode set, fb0 pattern "
          "matches the screendump" % (WIDTH, HEIGHT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
