#!/usr/bin/env python3
"""Kite's VNC server with a python RFB client (rfb.py).

Without a guest: the 3.8, 3.7 and 3.3 handshakes with security None, ServerInit, a full Raw
update in the server's format and in 16 bpp big endian, garbage, truncated and huge-
SetEncodings clients disconnected with a log line while another client keeps working, and
password=on refusing clients while no password is set.  websocket=on (port 5700 + N): the
RFC 6455 handshake, RFB in binary frames (fragmented, with a ping in between), refusals of
non-WebSocket requests, text frames and unmasked frames, the close handshake.

With --vga-kernel (tests/guest/vga.c drawing its 1024x768 linear framebuffer pattern): the
pattern arrives pixel-exact as Raw, Hextile, ZRLE and Tight (picked by SetEncodings order), in
32 bpp and in 16 bpp big endian, to two clients at once; incremental requests with nothing
changed stay unanswered until something changes; a client connected while the VM is stopped
(-S) gets a DesktopSize rectangle when the guest switches to 1024x768 after QMP "cont".

With --repaint-kernel (tests/guest/fb-repaint.c, repainting the screen forever): a client
that asks for updates but never reads does not stall the guest or another client, its
updates coalesce (it receives a bounded amount once it reads again) and it stays connected.

    test_vnc.py --emulator build/kite [--vga-kernel build/tests/guest/vga.elf]
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rfb  # noqa: E402
from qmp import QMP  # noqa: E402


def drain_until_closed(s, timeout=10):
    """True when the server closes the connection within timeout."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return True


def garbage_clients(port, proc):
    """Broken clients are dropped with a log line; returns the log lines seen."""
    cases = [
        # SetEncodings claiming 65535 entries.
        b"\x02\x00\xff\xff" + b"\xaa" * 64,
        # An unknown message type.
        b"\x99" + b"\0" * 16,
        # A colour-map SetPixelFormat.
        struct.pack(">B3xBBBBHHHBBB3x", 0, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0),
    ]
    for body in cases:
        g = rfb.connect_tcp(port)
        assert g.recv(12) == b"RFB 003.008\n"
        g.sendall(b"RFB 003.008\n\x01\x01")
        hdr = b""
        while len(hdr) < 2 + 4:
            hdr += g.recv(6 - len(hdr))
        g.sendall(body)
        assert drain_until_closed(g), "garbage client %r not disconnected" % body[:8]
        g.close()
    # Truncated: half a message, then the client goes away; the server must not care.
    g = rfb.connect_tcp(port)
    g.recv(12)
    g.sendall(b"RFB 003.008\n\x01\x01\x03\x00\x00")
    g.close()
    # Garbage instead of a version.
    g = rfb.connect_tcp(port)
    g.recv(12)
    g.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert drain_until_closed(g), "bad version not disconnected"
    g.close()


def ws_connect(port):
    return rfb.RfbClient(rfb.WsTransport(rfb.connect_tcp(port)))


def websocket_checks(port, w, h):
    # RFB over WebSocket, the client's messages split across frames with a ping inside.
    c = ws_connect(port)
    assert c.t.protocol == "binary", c.t.protocol
    assert c.handshake() == (w, h)
    msg = struct.pack(">BxH", 2, 2) + struct.pack(">ii", rfb.HEXTILE, rfb.DESKTOP_SIZE)
    msg += struct.pack(">BBHHHH", 3, 0, 0, 0, w, h)
    c.t.send_raw(c.t.frame(2, msg[:5], fin=False))
    c.t.send_raw(c.t.frame(9, b"are you there"))
    c.t.send_raw(c.t.frame(0, msg[5:11], fin=False))
    c.t.send_raw(c.t.frame(0, msg[11:], fin=True))
    fin, op, payload = c.t.recv_frame()
    assert (fin, op, payload) == (True, 10, b"are you there"), (fin, op, payload)
    rects = c.read_update()
    assert rects == [(0, 0, w, h, rfb.HEXTILE)], rects
    # Closing: the server answers with the same status and hangs up.
    c.t.send_raw(c.t.frame(8, struct.pack(">H", 1000)))
    fin, op, payload = c.t.recv_frame()
    assert (op, payload) == (8, struct.pack(">H", 1000)), (op, payload)
    assert drain_until_closed(c.t.sock)
    # Text and unmasked frames: closed with 1003 and 1002.
    for bad, code in ((rfb.WsTransport.frame(1, b"RFB 003.008\n"), 1003),
                      (rfb.WsTransport.frame(2, b"RFB 003.008\n", mask=False), 1002)):
        c = ws_connect(port)
        c.recv(12)
        c.t.send_raw(bad)
        fin, op, payload = c.t.recv_frame()
        assert (op, payload) == (8, struct.pack(">H", code)), (op, payload)
        assert drain_until_closed(c.t.sock)
    # Not a WebSocket request at all: 400 and closed.
    s = rfb.connect_tcp(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(10)
    reply = s.recv(100)
    assert reply.startswith(b"HTTP/1.1 400"), reply
    assert drain_until_closed(s)
    # Plain RFB on the websocket port: not a handshake either.
    s = rfb.connect_tcp(port)
    s.sendall(b"RFB 003.008\n" * 1000)
    assert drain_until_closed(s)


def expect_lfb_bgrx():
    rows = []
    for y in range(768):
        g = (y * 5) & 255
        rows.append(b"".join(bytes(((x ^ y) & 255, g, (x * 3) & 255, 0)) for x in range(1024)))
    return b"".join(rows)


def rgb565_be(bgrx):
    out = bytearray(len(bgrx) // 2)
    for i in range(len(bgrx) // 4):
        b, g, r = bgrx[4 * i], bgrx[4 * i + 1], bgrx[4 * i + 2]
        v = ((r * 31 + 127) // 255) << 11 | ((g * 63 + 127) // 255) << 5 | (b * 31 + 127) // 255
        out[2 * i], out[2 * i + 1] = v >> 8, v & 255
    return bytes(out)


def first_diff(a, b, bpp, w):
    n = next(i for i in range(min(len(a), len(b))) if a[i] != b[i]) // bpp
    return "pixel (%d,%d) differs" % (n % w, n // w)


def start_guest(args, display, extra=()):
    vm = rfb.GuestVm(args.emulator, args.vga_kernel, display, "mode=lfb accel=tcg",
                     websocket=True, extra=extra)
    try:
        vm.expect(rb"drew the lfb pattern")
    except AssertionError:
        vm.stop()
        raise
    return vm


def guest_pattern(args, port):
    want = expect_lfb_bgrx()
    want16 = rgb565_be(want)
    a = rfb.connect(port)
    b = ws_connect(port - 200)          # the websocket port of the same display
    assert (a.w, a.h) == (1024, 768), (a.w, a.h)
    b.handshake()
    # SetEncodings order decides: the first known one wins, unknown ones are skipped.
    for client, encs, expect in ((a, [6, rfb.ZRLE, rfb.HEXTILE, rfb.RAW], rfb.ZRLE),
                                 (b, [-239, rfb.HEXTILE, rfb.ZRLE], rfb.HEXTILE)):
        client.set_encodings(encs + [rfb.DESKTOP_SIZE])
        rects = client.update()
        assert [r[4] for r in rects] == [expect], rects
        assert client.fb == want, "%s: %s" % (expect, first_diff(client.fb, want, 4, 1024))
    n_zrle, n_hextile = a.bytes_in, b.bytes_in
    for client, enc in ((a, rfb.RAW), (a, rfb.HEXTILE), (b, rfb.ZRLE), (a, rfb.TIGHT)):
        client.set_encodings([enc])
        client.fb = bytearray(len(client.fb))
        client.update()
        assert client.fb == want, "%d: %s" % (enc, first_diff(client.fb, want, 4, 1024))
    # 16 bpp big endian RGB565 in Hextile, ZRLE and Tight.
    for client, enc in ((a, rfb.HEXTILE), (b, rfb.ZRLE), (b, rfb.TIGHT)):
        client.set_pixel_format(rfb.PF_RGB565_BE)
        client.set_encodings([enc])
        client.update()
        assert client.fb == want16, "565 %d: %s" % (enc, first_diff(client.fb, want16, 2, 1024))
    # Nothing changes on screen: an incremental request gets no answer yet.
    a.request(True)
    a.t.sock.settimeout(1.5)
    try:
        got = a.t.sock.recv(1)
        raise AssertionError("incremental update with nothing changed: %r" % got)
    except socket.timeout:
        pass
    a.close()
    b.close()
    print("  bytes for the full 1024x768 pattern: ZRLE %d, Hextile %d, Raw %d" %
          (n_zrle, n_hextile, 1024 * 768 * 4))


def qmp_command(path, cmd):
    with QMP(path, timeout=30, connect_timeout=30) as q:
        q.command(cmd)


def desktop_resize(args, display):
    """Connected before the guest sets its mode: DesktopSize tells the client."""
    with tempfile.TemporaryDirectory() as tmp:
        qmp = os.path.join(tmp, "qmp.sock")
        argv = [args.emulator, "-M", "pc", "-m", "128", "-nodefaults", "-display", "none",
                "-serial", "null", "-device", "isa-vga", "-accel", "tcg", "-S",
                "-qmp", "unix:%s,server=on,wait=off" % qmp,
                "-kernel", args.vga_kernel, "-append", "mode=lfb accel=tcg",
                "-vnc", "127.0.0.1:%d" % display]
        p = subprocess.Popen(argv)
        try:
            c = rfb.connect(5900 + display, [rfb.RAW, rfb.DESKTOP_SIZE])
            w0, h0 = c.w, c.h
            assert (w0, h0) != (1024, 768), (w0, h0)
            c.update()
            # A client without DesktopSize keeps its size: no rectangle may leave it.
            old = rfb.connect(5900 + display, [rfb.HEXTILE])
            old.update()
            qmp_command(qmp, "cont")
            deadline, resized = time.time() + 120, False
            while time.time() < deadline and not resized:
                c.request(True)
                rects = c.read_update()
                resized = (0, 0, 1024, 768, rfb.DESKTOP_SIZE) in rects
            assert resized, "no DesktopSize rectangle for 1024x768"
            want = expect_lfb_bgrx()
            deadline = time.time() + 60
            while c.fb != want and time.time() < deadline:
                c.request(True)
                c.read_update()
            assert c.fb == want, "after the resize: " + first_diff(c.fb, want, 4, 1024)
            c.close()
            old.request(False)
            rects = old.read_update()      # read_update checks every rectangle's bounds
            assert (old.w, old.h) == (w0, h0) and rects, rects
            want_part = b"".join(want[y * 4096:y * 4096 + w0 * 4] for y in range(h0))
            assert old.fb == want_part, "old-size client: " + first_diff(old.fb, want_part,
                                                                           4, w0)
            old.close()
        finally:
            p.terminate()
            p.wait(10)


def slow_client(args, display):
    vm = rfb.GuestVm(args.emulator, args.repaint_kernel, display, vga="VGA",
                     stderr=subprocess.DEVNULL)
    try:
        vm.expect(rb"repaint: running")
        # The slow client: a small receive buffer, requests, and no reading.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", 5900 + display))
        slow = rfb.RfbClient(s)
        slow.handshake()
        deadline = time.time() + 60
        while (slow.w, slow.h) != (1024, 768) and time.time() < deadline:
            slow.set_encodings([rfb.RAW, rfb.DESKTOP_SIZE])
            slow.request(False)
            slow.read_update(decode=False)
        assert (slow.w, slow.h) == (1024, 768), (slow.w, slow.h)
        before = slow.bytes_in
        for _ in range(50):
            slow.request(False)
            slow.request(True)
        # Meanwhile another client keeps getting the guest's changes.
        fast = rfb.connect(5900 + display, [rfb.ZRLE, rfb.DESKTOP_SIZE])
        fast.request(False)
        fast.read_update(decode=False)
        t0, n = time.time(), 0
        while time.time() - t0 < 8:
            fast.request(True)
            fast.read_update(decode=False)
            n += 1
        assert n >= 3, "only %d updates in 8 s while another client stalls" % n
        # The slow client reads again: what piled up is a few updates, not 100.
        s.settimeout(3)
        try:
            while True:
                slow.read_update(decode=False)
        except socket.timeout:
            pass
        got = slow.bytes_in - before
        assert got <= 4 * 1024 * 768 * 4 + 4096, "slow client got %d bytes" % got
        s.settimeout(30)
        slow.request(False)
        assert slow.read_update(decode=False), "slow client dropped"
        print("  slow client: %d bytes after 100 requests; other client %d updates in 8 s"
              % (got, n))
    finally:
        vm.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--vga-kernel")
    p.add_argument("--repaint-kernel")
    p.add_argument("--display", type=int, help="display number (default: a free one)")
    args = p.parse_args()
    if args.display is None:
        args.display = rfb.free_display(20, 199)
    port = 5900 + args.display
    procs = []
    try:
        argv = [args.emulator, "-M", "pc", "-S", "-display", "none", "-serial", "null",
                "-vnc", "127.0.0.1:%d,websocket=on" % args.display]
        procs.append(subprocess.Popen(argv, stderr=subprocess.PIPE))
        c = rfb.connect(port)
        w, h = c.w, c.h
        assert (w, h) == (640, 480) and c.name == b"Kite", (w, h, c.name)
        assert c.pf[:4] == (32, 24, 0, 1), c.pf
        rects = c.update()
        assert rects == [(0, 0, w, h, rfb.RAW)], rects

        garbage_clients(port, procs[0])
        websocket_checks(port - 200, w, h)
        # The first client still works: 16 bpp big endian RGB565 through SetPixelFormat.
        c.set_pixel_format(rfb.PF_RGB565_BE)
        rects = c.update()
        assert rects == [(0, 0, w, h, rfb.RAW)] and len(c.fb) == w * h * 2, rects

        for minor in (7, 3):
            d = rfb.RfbClient(rfb.connect_tcp(port))
            assert d.handshake(minor) == (w, h)
            d.close()
        c.close()
        procs[0].terminate()
        _, err = procs[0].communicate(timeout=10)
        for what in (b"too many encodings", b"unknown client message type",
                     b"colour-map", b"bad protocol version", b"text frames",
                     b"unmasked WebSocket", b"Upgrade: websocket"):
            assert what in err, "no log line for %r in %r" % (what, err)

        # password=on without a password: VNC Authentication offered, every response fails.
        argv[-1] += ",password=on"
        procs.append(subprocess.Popen(argv))
        s = rfb.connect_tcp(port)
        c = rfb.RfbClient(s)
        c.recv(12)
        s.sendall(b"RFB 003.008\n")
        assert c.recv(2) == b"\x01\x02"
        s.sendall(b"\x02")
        c.recv(16)
        s.sendall(b"\0" * 16)
        assert struct.unpack(">I", c.recv(4))[0] == 1
        reason = c.recv(struct.unpack(">I", c.recv(4))[0])
        assert b"failed" in reason, reason
        s.close()
        procs[-1].terminate()
        procs[-1].wait(10)

        if args.vga_kernel:
            procs.append(start_guest(args, args.display).p)
            guest_pattern(args, port)
            procs[-1].terminate()
            procs[-1].wait(10)
            desktop_resize(args, args.display)
        if args.repaint_kernel:
            slow_client(args, args.display)
    except (AssertionError, EOFError, OSError) as e:
        print("FAIL vnc: %r" % (e,))
        return 1
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.terminate()
                pr.wait(10)
    print("PASS vnc: RFB 3.8/3.7/3.3, Raw 32/16 bpp, broken clients dropped, auth refused, "
          "WebSocket%s%s" %
          (", guest pattern in Raw/Hextile/ZRLE/Tight 32/16 bpp over TCP and WebSocket, "
           "DesktopSize" if args.vga_kernel else "",
           ", slow client coalesced" if args.repaint_kernel else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
