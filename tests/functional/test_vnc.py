#!/usr/bin/env python3
"""Kite's VNC server with a python RFB client: the 3.8, 3.7 and 3.3 handshakes with security
None, ServerInit, a full Raw update in the server's format and in 16 bpp big endian, a
garbage client disconnected while another keeps working, and password=on refusing clients
while no password is set (VNC Authentication with a wrong response).

    test_vnc.py --emulator build/kite
"""
# SPDX-License-Identifier: GPL-2.0-or-later
import argparse
import socket
import struct
import subprocess
import sys
import time


def connect(port, timeout=20):
    deadline = time.time() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("server closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def handshake(s, minor=8):
    assert recv_exact(s, 12) == b"RFB 003.008\n"
    s.sendall(b"RFB 003.%03d\n" % minor)
    if minor == 3:
        assert struct.unpack(">I", recv_exact(s, 4))[0] == 1, "3.3: expected None"
    else:
        n = recv_exact(s, 1)[0]
        types = recv_exact(s, n)
        assert types == b"\x01", types
        s.sendall(b"\x01")
        if minor == 8:
            assert struct.unpack(">I", recv_exact(s, 4))[0] == 0
    s.sendall(b"\x01")                      # ClientInit, shared
    w, h = struct.unpack(">HH", recv_exact(s, 4))
    pf = recv_exact(s, 16)
    name = recv_exact(s, struct.unpack(">I", recv_exact(s, 4))[0])
    return w, h, pf, name


def full_update(s, w, h, bpp):
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
    hdr = recv_exact(s, 4)
    assert hdr[0] == 0, hdr
    nrects = struct.unpack(">H", hdr[2:])[0]
    assert nrects == 1, nrects
    x, y, rw, rh, enc = struct.unpack(">HHHHi", recv_exact(s, 12))
    assert (x, y, rw, rh, enc) == (0, 0, w, h, 0), (x, y, rw, rh, enc)
    return recv_exact(s, rw * rh * bpp // 8)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--display", type=int, default=47)
    args = p.parse_args()
    port = 5900 + args.display
    procs = []
    try:
        argv = [args.emulator, "-M", "pc", "-S", "-display", "none", "-serial", "null",
                "-vnc", "127.0.0.1:%d" % args.display]
        procs.append(subprocess.Popen(argv))
        s = connect(port)
        w, h, pf, name = handshake(s)
        assert (w, h) == (640, 480) and name == b"Kite", (w, h, name)
        assert pf[:4] == bytes([32, 24, 0, 1]), pf.hex()
        pixels = full_update(s, w, h, 32)
        assert len(pixels) == w * h * 4

        # A garbage client is dropped; the first one still gets updates.
        g = connect(port)
        recv_exact(g, 12)
        g.sendall(b"RFB 003.008\n\x01\x01")
        recv_exact(g, 2 + 4)
        g.sendall(b"\x02\x00\xff\xff" + b"\xaa" * 64)     # SetEncodings, 65535 entries
        g.settimeout(5)
        try:
            rest = g.recv(100)
            while rest:
                rest = g.recv(100)
        except ConnectionResetError:
            pass
        # 16 bpp big endian RGB565 through SetPixelFormat.
        s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 16, 16, 1, 1, 31, 63, 31, 11, 5, 0))
        pixels16 = full_update(s, w, h, 16)
        assert len(pixels16) == w * h * 2

        for minor in (7, 3):
            c = connect(port)
            cw, ch, _, _ = handshake(c, minor)
            assert (cw, ch) == (w, h)
            c.close()
        s.close()
        procs[0].terminate()
        procs[0].wait(10)

        # password=on without a password: VNC Authentication offered, every response fails.
        argv[-1] += ",password=on"
        procs.append(subprocess.Popen(argv))
        s = connect(port)
        recv_exact(s, 12)
        s.sendall(b"RFB 003.008\n")
        assert recv_exact(s, 2) == b"\x01\x02"
        s.sendall(b"\x02")
        recv_exact(s, 16)
        s.sendall(b"\0" * 16)
        assert struct.unpack(">I", recv_exact(s, 4))[0] == 1
        reason = recv_exact(s, struct.unpack(">I", recv_exact(s, 4))[0])
        assert b"failed" in reason, reason
    except (AssertionError, EOFError, OSError) as e:
        print("FAIL vnc: %r" % (e,))
        return 1
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.terminate()
                pr.wait(10)
    print("PASS vnc: RFB 3.8/3.7/3.3, Raw 32/16 bpp, garbage client dropped, auth refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
