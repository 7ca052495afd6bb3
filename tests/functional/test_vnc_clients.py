#!/usr/bin/env python3
"""Kite's VNC server against real clients and real guest input devices.

keyboard+pointer  tests/guest/kbd.c (append "keys=N mouse=1") runs its scancode monitor; the
                  python RFB client (rfb.py) moves and clicks the pointer, then types; the
                  guest prints the PS/2 mouse packets and the (translated set 1) scancodes
                  it read, which must be exactly what those events mean on a PC.
vncsnapshot       Debian's vncsnapshot (TightVNC based) captures the screen of tests/guest/
                  vga.c's 1024x768 pattern; its JPEG must show the pattern (16x16 block
                  averages, since JPEG is lossy) and must not match a shifted pattern.
novnc             Debian's noVNC (1.3, ES modules served over HTTP by this script) in headless
                  Chromium connects to the websocket= port; the page compares every canvas
                  pixel with the pattern and posts the count of mismatches back.

A case whose tool is not installed prints SKIP (vncsnapshot and PIL: Debian packages
vncsnapshot, python3-pil; novnc: novnc, chromium).  Exit status 1 on a failure, 77 when
everything was skipped.

    test_vnc_clients.py --emulator build/kite --kernel-dir build/tests/guest
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rfb  # noqa: E402

NOVNC_DIR = "/usr/share/novnc"


class Skip(Exception):
    pass


def start_vm(args, kernel, append, websocket=False):
    """Kite running the guest test kernel with its serial port on a pipe and -vnc."""
    return rfb.GuestVm(args.emulator, os.path.join(args.kernel_dir, kernel),
                       rfb.free_display(200, 299), append + " accel=tcg", websocket=websocket)


def test_keyboard_pointer(args):
    keys = [  # keysym, down -> the set 1 bytes the guest must read
        (0x61, True, ["1e"]), (0x61, False, ["9e"]),                 # a
        (0xffe1, True, ["2a"]), (0x41, True, ["1e"]), (0x41, False, ["9e"]),
        (0xffe1, False, ["aa"]),                                      # Shift + A
        (0xff0d, True, ["1c"]), (0xff0d, False, ["9c"]),              # Return
        (0xff52, True, ["e0", "48"]), (0xff52, False, ["e0", "c8"]),  # Up (E0-prefixed)
        (0x31, True, ["02"]), (0x31, False, ["82"]),                  # 1
    ]
    want_keys = [b for k in keys for b in k[2]]
    vm = start_vm(args, "kbd.elf", "keys=%d mouse=1 wait=60" % len(want_keys))
    try:
        vm.expect(rb"keys: ready")
        c = rfb.connect(5900 + vm.display)
        # The first position is only remembered; then +10/-5 with the left button down
        # (PS/2: Y grows upwards, so +5), a release, and a wheel notch down (Z +1).
        c.pointer(100, 100)
        c.pointer(110, 95, 1)
        c.pointer(110, 95, 0)
        c.pointer(110, 95, 16)
        c.pointer(110, 95, 0)
        want_mouse = ["09", "0a", "05", "00", "08", "00", "00", "00", "08", "00", "00", "01"]
        vm.expect(rb"(mouse: [0-9a-f]{2}\s+){%d}" % len(want_mouse), timeout=60)
        got = re.findall(rb"mouse: ([0-9a-f]{2})", vm.out)
        got = [g.decode() for g in got]
        assert got == want_mouse, "mouse bytes %s, want %s" % (got, want_mouse)
        # Keys only after the mouse bytes (the 8042 delivers queued keyboard bytes first),
        # one at a time like a typist: the keyboard's 16-byte buffer holds less than all
        # of these in set 2.
        seen = 0
        for keysym, down, codes in keys:
            c.key(keysym, down)
            seen += len(codes)
            vm.expect(rb"(scancode: [0-9a-f]{2}\s+){%d}" % seen, timeout=60)
        vm.expect(rb"keys: done")
        got = [g.decode() for g in re.findall(rb"scancode: ([0-9a-f]{2})", vm.out)]
        assert got == want_keys, "scancodes %s, want %s" % (got, want_keys)
        c.close()
    finally:
        vm.stop()


def pattern_rgb(x, y):
    return (x * 3) & 255, (y * 5) & 255, (x ^ y) & 255


def load_jpeg(path):
    """(w, h, RGB bytes) of a JPEG, through PIL here or in Debian's python3."""
    try:
        from PIL import Image
        im = Image.open(path).convert("RGB")
        return im.size[0], im.size[1], im.tobytes()
    except ImportError:
        pass
    if not os.path.exists("/usr/bin/python3"):
        raise Skip("no PIL to read JPEG (Debian package python3-pil)")
    code = ("import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert('RGB');"
            "sys.stdout.buffer.write(b'%d %d\\n' % im.size + im.tobytes())")
    p = subprocess.run(["/usr/bin/python3", "-c", code, path], capture_output=True)
    if p.returncode:
        raise Skip("no PIL to read JPEG (Debian package python3-pil)")
    head, data = p.stdout.split(b"\n", 1)
    w, h = map(int, head.split())
    return w, h, data


def block_error(w, h, rgb, shift=0, block=16):
    """Mean absolute difference of block averages between the image and the pattern
    (shifted right by shift pixels)."""
    total, n = 0.0, 0
    for by in range(0, h, block):
        for bx in range(0, w, block):
            got, want = [0, 0, 0], [0, 0, 0]
            for y in range(by, by + block):
                row = y * w * 3
                for x in range(bx, bx + block):
                    i = row + x * 3
                    p = pattern_rgb((x - shift) % w, y)
                    for ch in range(3):
                        got[ch] += rgb[i + ch]
                        want[ch] += p[ch]
            total += sum(abs(g - v) for g, v in zip(got, want)) / (3 * block * block)
            n += 1
    return total / n


def test_vncsnapshot(args):
    if not shutil.which("vncsnapshot"):
        raise Skip("vncsnapshot not installed")
    vm = start_vm(args, "vga.elf", "mode=lfb")
    try:
        vm.expect(rb"drew the lfb pattern")
        with tempfile.TemporaryDirectory() as tmp:
            jpg = os.path.join(tmp, "shot.jpg")
            p = subprocess.run(["vncsnapshot", "-quiet", "-allowblank", "-quality", "95",
                                "127.0.0.1:%d" % vm.display, jpg], capture_output=True,
                               timeout=60)
            assert p.returncode == 0 and os.path.exists(jpg), \
                "vncsnapshot failed (%d): %r" % (p.returncode, p.stderr[-500:])
            w, h, rgb = load_jpeg(jpg)
        assert (w, h) == (1024, 768), (w, h)
        err, wrong = block_error(w, h, rgb), block_error(w, h, rgb, shift=37)
        # JPEG at 95 keeps block averages within a few levels; a shifted pattern is far off.
        assert err < 4 and wrong > 20, "block error %.2f (shifted pattern: %.2f)" % (err, wrong)
        print("  vncsnapshot: block error %.2f, against a shifted pattern %.2f" % (err, wrong))
    finally:
        vm.stop()


NOVNC_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>kite novnc test</title></head>
<body><div id="screen"></div>
<script type="module">
import RFB from './novnc/core/rfb.js';
function report(obj) {
    fetch('/result', { method: 'POST', body: JSON.stringify(obj) });
}
function check(canvas) {
    const w = canvas.width, h = canvas.height;
    if (w !== 1024 || h !== 768) { return { w, h, bad: -1 }; }
    const px = canvas.getContext('2d').getImageData(0, 0, w, h).data;
    let bad = 0, first = null;
    for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
            const i = (y * w + x) * 4;
            if (px[i] !== ((x * 3) & 255) || px[i + 1] !== ((y * 5) & 255) ||
                px[i + 2] !== ((x ^ y) & 255)) {
                if (first === null) { first = [x, y, px[i], px[i + 1], px[i + 2]]; }
                bad++;
            }
        }
    }
    return { w, h, bad, first };
}
try {
    const rfb = new RFB(document.getElementById('screen'), 'ws://127.0.0.1:WSPORT/',
                        { wsProtocols: ['binary'] });
    rfb.addEventListener('disconnect', e => report({ error: 'disconnected', clean: e.detail.clean }));
    rfb.addEventListener('connect', () => {
        const start = Date.now();
        const poll = () => {
            const canvas = document.querySelector('#screen canvas');
            const r = check(canvas);
            if (r.bad === 0 || Date.now() - start > 20000) {
                r.name = rfb._fbName;
                report(r);
            } else {
                setTimeout(poll, 250);
            }
        };
        poll();
    });
} catch (e) {
    report({ error: String(e) });
}
</script></body></html>
"""


def test_novnc(args):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not os.path.exists(os.path.join(NOVNC_DIR, "core", "rfb.js")):
        raise Skip("needs Debian's novnc and chromium packages")
    vm = start_vm(args, "vga.elf", "mode=lfb", websocket=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(NOVNC_DIR, os.path.join(tmp, "novnc"))
        with open(os.path.join(tmp, "index.html"), "w") as f:
            f.write(NOVNC_PAGE.replace("WSPORT", str(5700 + vm.display)))

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=tmp, **kw)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                results.append(json.loads(self.rfile.read(n)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        browser = None
        try:
            vm.expect(rb"drew the lfb pattern")
            url = "http://127.0.0.1:%d/index.html" % httpd.server_address[1]
            browser = subprocess.Popen(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                 "--user-data-dir=" + os.path.join(tmp, "profile"), "--no-first-run",
                 "--remote-debugging-port=0", url],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.time() + 90
            while not results and time.time() < deadline and browser.poll() is None:
                time.sleep(0.2)
            assert results, "no result from the noVNC page (chromium status %r)" % browser.poll()
            r = results[0]
            assert "error" not in r, r
            assert (r["w"], r["h"], r["bad"]) == (1024, 768, 0), r
            assert r.get("name") == "Kite", r
        finally:
            if browser and browser.poll() is None:
                browser.terminate()
                try:
                    browser.wait(10)
                except subprocess.TimeoutExpired:
                    browser.kill()
                    browser.wait()
            httpd.shutdown()
            vm.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--emulator", required=True)
    p.add_argument("--kernel-dir", required=True)
    p.add_argument("--only", help="comma-separated cases")
    args = p.parse_args()
    cases = [("keyboard-pointer", test_keyboard_pointer), ("vncsnapshot", test_vncsnapshot),
             ("novnc", test_novnc)]
    failed = skipped = 0
    for name, fn in cases:
        if args.only and name not in args.only.split(","):
            continue
        t0 = time.time()
        try:
            fn(args)
            print("PASS vnc-%s (%.1f s)" % (name, time.time() - t0))
        except Skip as e:
            print("SKIP vnc-%s: %s" % (name, e))
            skipped += 1
        except (AssertionError, EOFError, OSError, subprocess.SubprocessError) as e:
            print("FAIL vnc-%s: %s" % (name, e))
            failed += 1
        sys.stdout.flush()
    if failed:
        return 1
    return 77 if skipped == len(cases) else 0


if __name__ == "__main__":
    sys.exit(main())
