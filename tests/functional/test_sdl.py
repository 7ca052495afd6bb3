#!/usr/bin/env python3
"""-display sdl under Xvfb: the window shows the guest's screen and feeds it input.

  * pattern: tests/guest/vga.c draws its 1024x768 linear framebuffer pattern; the window
    (captured with xwd) has exactly those pixels; resized to 512x384 it shows the pattern
    scaled (same mean colour); the title is "Kite (NAME)", "Kite (NAME) - Paused" after QMP
    stop; closing the window (WM_DELETE_WINDOW, as a window manager sends it) is a power-down
    request: QMP reports POWERDOWN;
  * input: tests/guest/kbd.c reports the PS/2 bytes it reads: a click grabs the pointer (title
    hint), relative motion reaches the PS/2 mouse, Ctrl-Alt-G ungrabs without passing G on,
    and typed keys arrive as their set 1 scancodes (xdotool through XTEST).

Skips (exit 77) when Xvfb, xdotool, xwd or ImageMagick's convert is missing (Debian: xvfb,
xdotool, x11-apps, imagemagick; scripts/install-deps.sh --test), when Xvfb cannot start, or
when Kite was built without SDL2.

Usage: test_sdl.py --emulator build/kite --guest-dir build/tests/guest
"""
import argparse
import ctypes
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

SKIP = 77


class Skip(Exception):
    pass


def start_xvfb():
    """Start Xvfb on a free display (it picks one and reports it through -displayfd)."""
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp"], pass_fds=(w,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    num = b""
    deadline = time.time() + 20
    while not num.endswith(b"\n") and time.time() < deadline:
        ready, _, _ = select.select([r], [], [], 1)
        if ready:
            chunk = os.read(r, 16)
            if not chunk:
                break
            num += chunk
    os.close(r)
    if not num.strip().isdigit():
        proc.kill()
        proc.wait()
        raise Skip("Xvfb did not start")
    return proc, ":" + num.strip().decode()


class Emulator:
    """Kite with its serial port on stdout and a QMP socket."""

    def __init__(self, argv, qmp_path, env):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env)
        self.out = b""
        self.qmp_path = qmp_path
        self.qmp = None

    def expect(self, pattern, timeout=60):
        deadline = time.time() + timeout
        while not re.search(pattern, self.out):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("waiting for %r; output: %r" % (pattern, self.out[-800:]))
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                self.out += os.read(self.proc.stdout.fileno(), 4096)
        return re.search(pattern, self.out)

    def qmp_connect(self):
        self.qmp = QMP(self.qmp_path, timeout=30, connect_timeout=20)

    def cmd(self, name, **args):
        return self.qmp.cmd(name, args)

    def wait_event(self, name, timeout=20):
        # Events arrive between command replies; cmd() collects them.
        deadline = time.time() + timeout
        while not any(e["event"] == name for e in self.qmp.events):
            if time.time() > deadline:
                raise AssertionError("no %s event (got %s)"
                                     % (name, [e["event"] for e in self.qmp.events]))
            self.cmd("query-status")
            time.sleep(0.2)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def x(env, *argv, check=True):
    r = subprocess.run(list(argv), env=env, capture_output=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s failed: %s" % (argv[0], r.stderr.decode(errors="replace")))
    return r.stdout.decode(errors="replace").strip()


def find_window(env, title_re, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(["xdotool", "search", "--name", title_re], env=env,
                           capture_output=True, timeout=30)
        ids = r.stdout.split()
        if ids:
            return ids[0].decode()
        time.sleep(0.2)
    raise AssertionError("no window titled %r" % title_re)


def wait_title(env, wid, want, timeout=20):
    deadline = time.time() + timeout
    name = None
    while time.time() < deadline:
        name = x(env, "xdotool", "getwindowname", wid)
        if name == want:
            return
        time.sleep(0.1)
    raise AssertionError("title %r, wanted %r" % (name, want))


def capture(env, wid):
    """The window's pixels as (width, height, RGB bytes)."""
    xwd = subprocess.run(["xwd", "-silent", "-id", wid], env=env, capture_output=True,
                         timeout=30, check=True).stdout
    ppm = subprocess.run(["convert", "xwd:-", "ppm:-"], input=xwd, capture_output=True,
                         timeout=60, check=True).stdout
    m = re.match(rb"P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s+255\s", ppm)
    return int(m.group(1)), int(m.group(2)), ppm[m.end():]


def expect_lfb_rgb():
    """tests/guest/vga.c's linear framebuffer pattern, as RGB."""
    rows = []
    for yy in range(768):
        g = (yy * 5) & 255
        rows.append(b"".join(bytes(((xx * 3) & 255, g, (xx ^ yy) & 255)) for xx in range(1024)))
    return b"".join(rows)


def mean_rgb(px):
    n = len(px) // 3
    return tuple(sum(px[c::3]) / n for c in range(3))


def wait_capture(env, wid, pred, timeout=20):
    deadline = time.time() + timeout
    while True:
        w, h, px = capture(env, wid)
        if pred(w, h, px) or time.time() > deadline:
            return w, h, px
        time.sleep(0.3)


def send_wm_delete(display, wid):
    """What a window manager does when the user closes a window (ICCCM 4.2.8.1): a
    WM_PROTOCOLS ClientMessage carrying WM_DELETE_WINDOW."""
    xlib = ctypes.CDLL("libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                ctypes.c_void_p]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5),
                    ("pad", ctypes.c_long * 12)]   # XEvent is 24 longs

    dpy = xlib.XOpenDisplay(display.encode())
    if not dpy:
        raise AssertionError("cannot open display " + display)
    ev = ClientMessage()
    ev.type = 33                                # ClientMessage
    ev.window = int(wid)
    ev.message_type = xlib.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.data[0] = xlib.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
    ev.data[1] = 0                              # CurrentTime
    xlib.XSendEvent(dpy, int(wid), 0, 0, ctypes.byref(ev))
    xlib.XFlush(dpy)
    xlib.XCloseDisplay(dpy)


def case_pattern(args, env, display, tmp):
    qmp = os.path.join(tmp, "qmp-pattern.sock")
    argv = [args.emulator, "-M", "pc", "-m", "128", "-nodefaults", "-display", "sdl",
            "-name", "sdltest", "-serial", "stdio", "-device", "isa-vga", "-accel", "tcg",
            "-kernel", os.path.join(args.guest_dir, "vga.elf"),
            "-append", "mode=lfb accel=tcg", "-qmp", "unix:%s,server=on,wait=off" % qmp]
    emu = Emulator(argv, qmp, env)
    try:
        emu.expect(rb"drew the lfb pattern")
        emu.qmp_connect()
        wid = find_window(env, r"^Kite \(sdltest\)$")
        # No window manager: put it where all of it is on the 1280x1024 screen (xwd only
        # sees the visible part).
        x(env, "xdotool", "windowmove", "--sync", wid, "0", "0")
        want = expect_lfb_rgb()
        w, h, px = wait_capture(env, wid, lambda w, h, px: (w, h) == (1024, 768) and px == want)
        assert (w, h) == (1024, 768), "window is %dx%d, not the guest's 1024x768" % (w, h)
        if px != want:
            bad = next(i for i in range(len(px)) if px[i] != want[i]) // 3
            raise AssertionError("pixel (%d,%d) is %s, pattern has %s" % (
                bad % w, bad // w, px[bad * 3:bad * 3 + 3].hex(), want[bad * 3:bad * 3 + 3].hex()))
        print("PASS sdl pattern: 1024x768 window, every pixel is the guest's")

        # Scaled: the window at half size shows the whole pattern shrunk.
        x(env, "xdotool", "windowsize", wid, "512", "384")
        full = mean_rgb(want)
        w, h, px = wait_capture(env, wid, lambda w, h, px: (w, h) == (512, 384) and all(
            abs(a - b) < 6 for a, b in zip(mean_rgb(px), full)))
        got = mean_rgb(px)
        assert (w, h) == (512, 384), (w, h)
        assert all(abs(a - b) < 6 for a, b in zip(got, full)), (got, full)
        print("PASS sdl scaled: 512x384 window shows the pattern (mean colour %s)" %
              ", ".join("%.1f" % c for c in got))
        # Ctrl-Alt-U: back to the guest's size, pixel-exact again.
        x(env, "xdotool", "windowfocus", "--sync", wid)
        x(env, "xdotool", "key", "ctrl+alt+u")
        w, h, px = wait_capture(env, wid, lambda w, h, px: (w, h) == (1024, 768) and px == want)
        assert (w, h) == (1024, 768) and px == want, "after Ctrl-Alt-U: %dx%d" % (w, h)
        print("PASS sdl Ctrl-Alt-U: back to 1024x768, 1:1")

        # The title follows the run state.
        assert "return" in emu.cmd("stop")
        wait_title(env, wid, "Kite (sdltest) - Paused")
        assert "return" in emu.cmd("cont")
        wait_title(env, wid, "Kite (sdltest)")
        print("PASS sdl title: 'Kite (sdltest)', ' - Paused' while stopped")

        # Closing the window is a power-down request; the VM keeps running until the guest
        # acts on it (this one has no ACPI driver).
        send_wm_delete(display, wid)
        emu.wait_event("POWERDOWN")
        assert emu.proc.poll() is None, "kite exited on window close"
        print("PASS sdl close: POWERDOWN requested")
        emu.cmd("quit")
        emu.proc.wait(30)
    finally:
        emu.close()


def case_input(args, env, display, tmp):
    qmp = os.path.join(tmp, "qmp-input.sock")
    argv = [args.emulator, "-M", "pc", "-m", "128", "-nodefaults", "-display", "sdl",
            "-serial", "stdio", "-device", "isa-vga", "-accel", "tcg",
            "-kernel", os.path.join(args.guest_dir, "kbd.elf"),
            "-append", "keys=10 wait=120 mouse=1", "-qmp", "unix:%s,server=on,wait=off" % qmp]
    emu = Emulator(argv, qmp, env)
    try:
        emu.expect(rb"keys: ready")
        wid = find_window(env, r"^Kite$")
        x(env, "xdotool", "windowfocus", "--sync", wid)
        # A click grabs the pointer (the click itself is the host's).
        # (Retried: without a window manager the first click may race the window mapping.)
        for attempt in range(5):
            x(env, "xdotool", "mousemove", "--window", wid, "--sync", "100", "100")
            x(env, "xdotool", "click", "1")
            try:
                wait_title(env, wid, "Kite - Press Ctrl-Alt-G to exit grab", 3)
                break
            except AssertionError:
                if attempt == 4:
                    raise
        before = emu.out.count(b"mouse: ")
        for _ in range(5):
            x(env, "xdotool", "mousemove_relative", "--", "7", "0")
            time.sleep(0.1)
        # A PS/2 movement packet: 3 bytes, X positive and no Y overflow.
        m = emu.expect(rb"mouse: ([0-9a-f]{2})\r?\nmouse: ([0-9a-f]{2})\r?\nmouse: "
                       rb"([0-9a-f]{2})", 30)
        assert emu.out.count(b"mouse: ") > before
        status, dx = int(m.group(1), 16), int(m.group(2), 16)
        assert status & 0x08 and not status & 0x10 and dx > 0, (status, dx)
        print("PASS sdl grab: click grabbed, relative motion reached the PS/2 mouse")
        x(env, "xdotool", "key", "ctrl+alt+g")
        wait_title(env, wid, "Kite")
        x(env, "xdotool", "key", "a", "Left")
        emu.expect(rb"keys: done", 60)
        codes = re.findall(rb"scancode: ([0-9a-f]{2})", emu.out)
        # Ctrl and Alt make and break (xdotool releases them in its own order), no G
        # (22/a2), then 'a' and the E0-prefixed Left arrow.
        want = [b"1d", b"38", b"9d", b"b8", b"1e", b"9e", b"e0", b"4b", b"e0", b"cb"]
        got = codes[:2] + sorted(codes[2:4]) + codes[4:]
        assert got == want, "scancodes %s, wanted %s" % (
            b" ".join(codes).decode(), b" ".join(want).decode())
        print("PASS sdl keys: Ctrl-Alt-G ungrabbed (G not passed on), 'a' and Left arrived")
    finally:
        emu.close()


def case_default_and_errors(args, env, display, tmp):
    """With $DISPLAY and no -display, the SDL window is the default (QEMU picks its first
    usable UI); -display sdl without a desktop is an error, the default then is none."""
    argv = [args.emulator, "-M", "pc", "-m", "32", "-nodefaults", "-S", "-serial", "null",
            "-name", "dflt"]
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wid = find_window(env, r"^Kite \(dflt\) - Paused$")
        assert wid
    finally:
        p.kill()
        p.wait()
    nox = {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(argv + ["-display", "sdl"], env=nox, capture_output=True, timeout=30)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1 and "SDL2 cannot initialise video" in err, (r.returncode, err)
    r = subprocess.run(argv + ["-display", "sdl", "-nographic"], env=env, capture_output=True,
                       timeout=30)
    assert r.returncode == 1 and b"-nographic cannot be used" in r.stderr, r.stderr
    # No desktop, no -display: runs headless (QMP quit ends it).
    p = subprocess.Popen(argv + ["-qmp", "stdio"], env=nox, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', 30)
    assert p.returncode == 0 and b'"return"' in out, (p.returncode, out, err)
    print("PASS sdl default: window with $DISPLAY, none without; -display sdl without a "
          "desktop fails cleanly")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--guest-dir", required=True)
    args = p.parse_args()
    for tool in ("Xvfb", "xdotool", "xwd", "convert"):
        if not shutil.which(tool):
            print("SKIP sdl: %s is not installed" % tool)
            return SKIP
    r = subprocess.run([args.emulator, "-display", "help"], capture_output=True, timeout=30)
    if b"sdl" not in r.stdout:
        print("SKIP sdl: this Kite was built without SDL2")
        return SKIP
    for k in ("vga.elf", "kbd.elf"):
        if not os.path.exists(os.path.join(args.guest_dir, k)):
            print("SKIP sdl: no guest kernel " + k)
            return SKIP
    try:
        xvfb, display = start_xvfb()
    except Skip as e:
        print("SKIP sdl: %s" % e)
        return SKIP
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    failed = 0
    try:
        for name, fn in (("pattern", case_pattern), ("input", case_input),
                         ("default", case_default_and_errors)):
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    fn(args, env, display, tmp)
                except (AssertionError, OSError, subprocess.SubprocessError, ValueError) as e:
                    print("FAIL sdl %s: %s" % (name, e))
                    failed += 1
    finally:
        xvfb.kill()
        xvfb.wait()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
