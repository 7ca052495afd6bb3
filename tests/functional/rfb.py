# A small RFB (VNC, RFC 6143) client for Kite's tests and benchmark: handshake with security
# None, SetPixelFormat, SetEncodings, FramebufferUpdateRequest and decoding of Raw, Hextile,
# ZRLE and DesktopSize into a framebuffer of raw pixel bytes in the negotiated format; key
# and pointer events.  The transport is a TCP socket or a WebSocket (RFC 6455 client side,
# binary frames, masked as a client must).  Tight is decoded without JPEG.  Python 3 standard library only.
#
#   c = connect(5900 + n, [rfb.HEXTILE])     # TCP, handshake, SetEncodings
#   c.update(incremental=False)     # until the whole screen arrived once
#   c.fb                            # w * h * 4 bytes, little-endian xRGB
#
# And what the VNC tests and the benchmark share around it: free_display() picks a display
# number, GuestVm runs Kite with a guest test kernel, its serial port on a pipe and -vnc.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import base64
import hashlib
import os
import random
import re
import select
import socket
import struct
import subprocess
import time
import zlib

RAW, COPYRECT, HEXTILE, TIGHT, ZRLE, DESKTOP_SIZE = 0, 1, 5, 7, 16, -223

# 32 bpp depth 24 little-endian xRGB: the server's native format.
PF_XRGB = (32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
PF_RGB565_BE = (16, 16, 1, 1, 31, 63, 31, 11, 5, 0)


def connect_tcp(port, host="127.0.0.1", timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            # Reads wait for the guest (an incremental update comes only once it draws):
            # on a loaded 2-core machine an interpreted guest can take well over 10 s.
            return socket.create_connection((host, port), timeout=60)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def connect(port, encodings=None, host="127.0.0.1"):
    """An RfbClient on TCP port (retrying until the server listens) after the handshake
    (security None, shared), with SetEncodings sent when encodings are given."""
    c = RfbClient(connect_tcp(port, host))
    c.handshake()
    if encodings is not None:
        c.set_encodings(encodings)
    return c


def free_display(first, last, websocket=True):
    """A display number in [first, last] whose VNC port (5900 + n) and, with websocket, the
    port 5700 + n are both free now.  Random, so that tests of several worktrees running at
    once rarely pick the same one; callers use disjoint ranges."""
    for _ in range(200):
        n = random.randint(first, last)
        try:
            for port in (5900 + n, 5700 + n) if websocket else (5900 + n,):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", port))
            return n
        except OSError:
            continue
    raise AssertionError("no free VNC display number in %d-%d" % (first, last))


class GuestVm:
    """Kite running a guest test kernel (tests/guest) with its serial port on a pipe and
    its screen on -vnc 127.0.0.1:display; expect() waits for the kernel's serial output."""

    def __init__(self, emulator, kernel, display, append=None, websocket=False,
                 accel="tcg", vga="isa-vga", extra=(), stderr=subprocess.STDOUT):
        self.display = display
        argv = [emulator, "-M", "pc", "-m", "128", "-nodefaults", "-display", "none",
                "-serial", "stdio", "-device", vga, "-accel", accel, "-kernel", kernel]
        if append is not None:
            argv += ["-append", append]
        argv += ["-vnc", "127.0.0.1:%d" % display + (",websocket=on" if websocket else "")]
        self.p = subprocess.Popen(argv + list(extra), stdout=subprocess.PIPE, stderr=stderr)
        self.out = b""

    def poll_serial(self, timeout=0.0):
        """Append what the serial port printed within timeout to self.out; False at EOF."""
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if r:
            data = os.read(self.p.stdout.fileno(), 65536)
            if not data:
                return False
            self.out += data
        return True

    def expect(self, pattern, timeout=120):
        deadline = time.time() + timeout
        while not re.search(pattern, self.out):
            if time.time() > deadline or self.p.poll() is not None:
                raise AssertionError("no %r on the serial port; got %r" % (pattern,
                                                                         self.out[-600:]))
            self.poll_serial(0.5)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class TcpTransport:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_some(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("server closed the connection")
        return data

    def close(self):
        self.sock.close()


class WsTransport:
    """RFC 6455 client: opening handshake, masked binary frames out, frames in."""

    def __init__(self, sock, host="127.0.0.1", path="/", protocol="binary"):
        self.sock = sock
        self.raw = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (path, host, key))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        sock.sendall((req + "\r\n").encode())
        while b"\r\n\r\n" not in self.raw:
            data = sock.recv(4096)
            if not data:
                raise EOFError("server closed during the WebSocket handshake")
            self.raw += data
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise AssertionError("handshake refused: %r" % lines[0])
        fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                  for l in lines[1:] if ":" in l}
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if fields.get("sec-websocket-accept") != want:
            raise AssertionError("bad Sec-WebSocket-Accept %r" % fields)
        self.protocol = fields.get("sec-websocket-protocol")
        self.closed = None

    @staticmethod
    def frame(opcode, payload, fin=True, mask=True):
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack(">Q", n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))

    def send(self, data, opcode=2):
        self.sock.sendall(self.frame(opcode, data))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.raw) < n:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("server closed the connection")
            self.raw += data

    def recv_frame(self):
        """(fin, opcode, payload) of the next frame."""
        self._fill(2)
        b0, b1 = self.raw[0], self.raw[1]
        n, at = b1 & 0x7f, 2
        if n == 126:
            self._fill(4)
            n, at = struct.unpack(">H", self.raw[2:4])[0], 4
        elif n == 127:
            self._fill(10)
            n, at = struct.unpack(">Q", self.raw[2:10])[0], 10
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked")
        self._fill(at + n)
        payload, self.raw = self.raw[at:at + n], self.raw[at + n:]
        return bool(b0 & 0x80), b0 & 0x0f, payload

    def recv_some(self):
        while True:
            fin, op, payload = self.recv_frame()
            if op in (0, 2):
                return payload
            if op == 8:
                self.closed = payload
                raise EOFError("WebSocket close %r" % payload)
            if op == 10:
                continue                    # pong
            raise AssertionError("unexpected opcode %d" % op)

    def close(self):
        self.sock.close()


class RfbClient:
    def __init__(self, transport):
        if isinstance(transport, socket.socket):
            transport = TcpTransport(transport)
        self.t = transport
        self.buf = bytearray()
        self.pos = 0
        self.bytes_in = 0
        self.zs = zlib.decompressobj()
        self.tzs = [zlib.decompressobj() for _ in range(4)]
        self.fb = None

    def recv(self, n):
        # A read position instead of slicing the buffer: many small reads of a big update
        # would otherwise copy it over and over.
        while len(self.buf) - self.pos < n:
            data = self.t.recv_some()
            self.bytes_in += len(data)
            if self.pos > (1 << 20):
                del self.buf[:self.pos]
                self.pos = 0
            self.buf += data
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def send(self, data):
        self.t.send(data)

    def handshake(self, minor=8, shared=True):
        version = self.recv(12)
        assert version == b"RFB 003.008\n", version
        self.send(b"RFB 003.%03d\n" % minor)
        if minor == 3:
            assert struct.unpack(">I", self.recv(4))[0] == 1, "3.3: expected None"
        else:
            types = self.recv(self.recv(1)[0])
            assert types == b"\x01", types
            self.send(b"\x01")
            if minor == 8:
                assert struct.unpack(">I", self.recv(4))[0] == 0
        self.send(b"\x01" if shared else b"\x00")
        self.w, self.h = struct.unpack(">HH", self.recv(4))
        self.set_pf_fields(struct.unpack(">BBBBHHHBBB3x", self.recv(16)))
        self.name = self.recv(struct.unpack(">I", self.recv(4))[0])
        self.fb = bytearray(self.w * self.h * self.bpp)
        return self.w, self.h

    def set_pf_fields(self, pf):
        self.pf = tuple(pf)
        self.bpp = pf[0] // 8
        self.big_endian = bool(pf[2])
        mask = pf[4] << pf[7] | pf[5] << pf[8] | pf[6] << pf[9]
        self.cbpp, self.cpad_front = self.bpp, False
        if pf[0] == 32 and pf[1] <= 24:
            if mask >> 24 == 0:
                self.cbpp = 3
                self.cpad_front = self.big_endian   # the zero byte is the most significant
            elif mask & 0xff == 0:
                self.cbpp = 3
                self.cpad_front = not self.big_endian

    def set_pixel_format(self, pf):
        self.send(struct.pack(">B3xBBBBHHHBBB3x", 0, *pf))
        self.set_pf_fields(pf)
        self.fb = bytearray(self.w * self.h * self.bpp)

    def set_encodings(self, encs):
        self.send(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e)
                                                              for e in encs))

    def request(self, incremental, x=0, y=0, w=None, h=None):
        self.send(struct.pack(">BBHHHH", 3, int(incremental), x, y,
                              self.w if w is None else w, self.h if h is None else h))

    def key(self, keysym, down):
        self.send(struct.pack(">BBxxI", 4, int(down), keysym))

    def pointer(self, x, y, mask=0):
        self.send(struct.pack(">BBHH", 5, mask, x, y))

    def read_update(self, decode=True):
        """Read one FramebufferUpdate (skipping Bell/ServerCutText); returns the list of
        (x, y, w, h, encoding) rectangles.  decode=False only walks the data (benchmarks:
        pure python decoding would be the bottleneck)."""
        while True:
            t = self.recv(1)[0]
            if t == 0:
                break
            if t == 2:
                continue
            if t == 3:
                self.recv(3)
                self.recv(struct.unpack(">I", self.recv(4))[0])
                continue
            raise AssertionError("unexpected server message %d" % t)
        self.recv(1)
        rects = []
        for _ in range(struct.unpack(">H", self.recv(2))[0]):
            x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
            rects.append((x, y, w, h, enc))
            if enc == DESKTOP_SIZE:
                self.w, self.h = w, h
                self.fb = bytearray(w * h * self.bpp)
                continue
            assert x + w <= self.w and y + h <= self.h, (x, y, w, h, self.w, self.h)
            if not decode:
                self.skip_rect(x, y, w, h, enc)
            elif enc == RAW:
                data = self.recv(w * h * self.bpp)
                for j in range(h):
                    self.put_row(x, y + j, data[j * w * self.bpp:(j + 1) * w * self.bpp])
            elif enc == HEXTILE:
                self.hextile(x, y, w, h)
            elif enc == ZRLE:
                self.zrle(x, y, w, h)
            elif enc == TIGHT:
                self.tight(x, y, w, h)
            else:
                raise AssertionError("unexpected encoding %d" % enc)
        return rects

    def update(self, incremental=False, timeout=30):
        """Request and read updates until one with a pixel rectangle arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.request(incremental)
            rects = self.read_update()
            if any(r[4] != DESKTOP_SIZE for r in rects):
                return rects
        raise AssertionError("no update within %d s" % timeout)

    def skip_rect(self, x, y, w, h, enc):
        if enc == RAW:
            self.recv(w * h * self.bpp)
        elif enc == ZRLE:
            self.recv(struct.unpack(">I", self.recv(4))[0])
        elif enc == TIGHT:
            self.tight(x, y, w, h, decode=False)
        elif enc == HEXTILE:
            bpp = self.bpp
            for ty in range(0, h, 16):
                th = min(16, h - ty)
                for tx in range(0, w, 16):
                    sub = self.recv(1)[0]
                    if sub & 1:
                        self.recv(min(16, w - tx) * th * bpp)
                        continue
                    n = (bpp if sub & 2 else 0) + (bpp if sub & 4 else 0)
                    if n:
                        self.recv(n)
                    if sub & 8:
                        count = self.recv(1)[0]
                        self.recv(count * (2 + (bpp if sub & 16 else 0)))
        else:
            raise AssertionError("cannot skip encoding %d" % enc)

    def put_row(self, x, y, data):
        at = (y * self.w + x) * self.bpp
        self.fb[at:at + len(data)] = data

    def fill(self, x, y, w, h, px):
        row = px * w
        for j in range(h):
            self.put_row(x, y + j, row)

    def hextile(self, rx, ry, rw, rh):
        bpp, bg, fg = self.bpp, None, None
        for ty in range(ry, ry + rh, 16):
            th = min(16, ry + rh - ty)
            for tx in range(rx, rx + rw, 16):
                tw = min(16, rx + rw - tx)
                sub = self.recv(1)[0]
                if sub & 1:
                    data = self.recv(tw * th * bpp)
                    for j in range(th):
                        self.put_row(tx, ty + j, data[j * tw * bpp:(j + 1) * tw * bpp])
                    continue
                if sub & 2:
                    bg = self.recv(bpp)
                assert bg is not None, "hextile tile without a background"
                self.fill(tx, ty, tw, th, bg)
                if sub & 4:
                    fg = self.recv(bpp)
                if sub & 8:
                    for _ in range(self.recv(1)[0]):
                        colour = self.recv(bpp) if sub & 16 else fg
                        xy, wh = self.recv(2)
                        self.fill(tx + (xy >> 4), ty + (xy & 15), (wh >> 4) + 1,
                                  (wh & 15) + 1, colour)

    def cpixel(self, data, at):
        if self.cbpp == self.bpp:
            return data[at:at + self.bpp]
        c = data[at:at + 3]
        return b"\0" + c if self.cpad_front else c + b"\0"

    def zrle(self, rx, ry, rw, rh):
        n = struct.unpack(">I", self.recv(4))[0]
        d = self.zs.decompress(self.recv(n))
        at, cb = 0, self.cbpp

        def run_len():
            nonlocal at
            r = 1
            while True:
                b = d[at]
                at += 1
                r += b
                if b != 255:
                    return r

        for ty in range(ry, ry + rh, 64):
            th = min(64, ry + rh - ty)
            for tx in range(rx, rx + rw, 64):
                tw = min(64, rx + rw - tx)
                sub = d[at]
                at += 1
                pal = []
                for _ in range(sub & 127):
                    pal.append(self.cpixel(d, at))
                    at += cb
                px = []
                if sub == 0:
                    for _ in range(tw * th):
                        px.append(self.cpixel(d, at))
                        at += cb
                elif sub == 1:
                    px = pal * (tw * th)
                elif sub <= 16:
                    bits = 1 if sub == 2 else 2 if sub <= 4 else 4
                    rowbytes = (tw * bits + 7) // 8
                    for j in range(th):
                        row = d[at:at + rowbytes]
                        at += rowbytes
                        for i in range(tw):
                            bit = i * bits
                            idx = (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1)
                            px.append(pal[idx])
                elif sub == 128:
                    while len(px) < tw * th:
                        c = self.cpixel(d, at)
                        at += cb
                        px.extend([c] * run_len())
                elif sub >= 130:
                    while len(px) < tw * th:
                        b = d[at]
                        at += 1
                        px.extend([pal[b & 127]] * (run_len() if b & 128 else 1))
                else:
                    raise AssertionError("bad ZRLE subencoding %d" % sub)
                assert len(px) == tw * th, (len(px), tw, th)
                for j in range(th):
                    self.put_row(tx, ty + j, b"".join(px[j * tw:(j + 1) * tw]))
        assert at == len(d), "ZRLE rectangle has %d trailing bytes" % (len(d) - at)

    def tpixel_size(self):
        pf = self.pf
        return 3 if pf[0] == 32 and pf[1] == 24 and pf[4:7] == (255, 255, 255) else self.bpp

    def tpixel_to_pixel(self, t):
        """A TPIXEL as the pixel bytes of the format."""
        if len(t) == self.bpp:
            return t
        pf = self.pf
        v = t[0] << pf[7] | t[1] << pf[8] | t[2] << pf[9]
        return v.to_bytes(4, "big" if self.big_endian else "little")

    def tight_data(self, n, stream):
        if n < 12:
            return self.recv(n)
        zlen = 0
        for i in range(3):
            b = self.recv(1)[0]
            zlen |= (b & 0x7f if i < 2 else b) << (7 * i)
            if i < 2 and not b & 0x80:
                break
        data = self.tzs[stream].decompress(self.recv(zlen))
        assert len(data) == n, "Tight data: %d bytes, want %d" % (len(data), n)
        return data

    def tight(self, rx, ry, rw, rh, decode=True):
        """Tight without JPEG (the server never sends it): fill, copy and palette."""
        ctl = self.recv(1)[0]
        for i in range(4):
            if ctl & (1 << i):
                self.tzs[i] = zlib.decompressobj()
        ctl >>= 4
        tps = self.tpixel_size()
        if ctl == 8:
            px = self.tpixel_to_pixel(self.recv(tps))
            if decode:
                self.fill(rx, ry, rw, rh, px)
            return
        assert ctl < 8, "Tight compression %x" % ctl
        stream, filt = ctl & 3, self.recv(1)[0] if ctl & 4 else 0
        if filt == 1:
            n = self.recv(1)[0] + 1
            raw = self.recv(n * tps)
            pal = [self.tpixel_to_pixel(raw[i * tps:(i + 1) * tps]) for i in range(n)]
            row = (rw + 7) // 8 if n == 2 else rw
            data = self.tight_data(row * rh, stream)
            if decode:
                for j in range(rh):
                    if n == 2:
                        bits = data[j * row:(j + 1) * row]
                        line = b"".join(pal[(bits[i >> 3] >> (7 - (i & 7))) & 1]
                                        for i in range(rw))
                    else:
                        line = b"".join(pal[i] for i in data[j * rw:(j + 1) * rw])
                    self.put_row(rx, ry + j, line)
        else:
            assert filt == 0, "Tight filter %d" % filt
            data = self.tight_data(rw * rh * tps, stream)
            if decode:
                for j in range(rh):
                    line = data[j * rw * tps:(j + 1) * rw * tps]
                    if tps != self.bpp:
                        line = b"".join(self.tpixel_to_pixel(line[i:i + 3])
                                        for i in range(0, len(line), 3))
                    self.put_row(rx, ry + j, line)

    def rgb(self):
        """The framebuffer as RGB bytes (only for the 32 bpp xRGB little-endian format)."""
        assert self.pf[:4] == (32, 24, 0, 1) and self.pf[7:] == (16, 8, 0), self.pf
        out = bytearray(self.w * self.h * 3)
        out[0::3] = self.fb[2::4]
        out[1::3] = self.fb[1::4]
        out[2::3] = self.fb[0::4]
        return bytes(out)

    def close(self):
        self.t.close()
