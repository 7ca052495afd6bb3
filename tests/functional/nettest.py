# SPDX-License-Identifier: GPL-2.0-or-later
"""What the Linux network tests (test_net.py, test_e1000.py) share: the command line and
boot of the test guest, a host HTTP server with a random file, guest-command checks, and a
python Ethernet peer on -netdev socket's framing that answers ARP and ping."""

import functools
import hashlib
import http.server
import os
import socket
import struct
import threading

from kite_guest import READY_RE, Guest, GuestError, free_port, guest_arg_parser



def arg_parser(description, boot_timeout):
    """The options every network test takes (the caller may add its own)."""
    p = guest_arg_parser(description)
    p.add_argument("--boot-timeout", type=float, default=boot_timeout)
    p.add_argument("--cmd-timeout", type=float, default=120)
    return p


def guest_argv(args, emulator, vmlinuz, initrd, extra=()):
    """The test guest's command line: serial console on stdio, no reboot, then extra."""
    return [emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet",
            "-nographic", "-no-reboot"] + list(extra)


def boot(args, emulator, vmlinuz, initrd, extra, log_path):
    """Start the guest and wait for its shell (the emulator is stopped if that fails)."""
    g = Guest(guest_argv(args, emulator, vmlinuz, initrd, extra), log_path=log_path)
    g.start()
    try:
        g.expect(READY_RE, args.boot_timeout)
        g.shell_sync(timeout=args.cmd_timeout)
    except BaseException:
        g.kill()
        raise
    return g


def expect(g, args, cmd, check, what, timeout=None):
    """Run cmd in the guest; its output must satisfy check (what describes the wish)."""
    out = g.check(cmd, timeout or args.cmd_timeout)
    if not check(out):
        raise GuestError(f"{cmd!r} printed {out!r}; expected {what}")
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


class BlobServer:
    """An HTTP server on 127.0.0.1 serving the file "blob" (size random bytes, written to
    directory); .port, .md5.  Use with `with`."""

    def __init__(self, directory, size):
        data = os.urandom(size)
        with open(os.path.join(directory, "blob"), "wb") as f:
            f.write(data)
        self.md5 = hashlib.md5(data).hexdigest()
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(QuietHandler, directory=directory))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def guest_ifname(g, args, mac):
    ifc = g.check(f"grep -l {mac} /sys/class/net/*/address | cut -d/ -f5", args.cmd_timeout)
    if not ifc:
        raise GuestError(f"no interface with MAC {mac}")
    return ifc



# --- a tiny Ethernet peer on QEMU's socket framing ---------------------------------------

PEER_MAC = bytes.fromhex("020000000099")
PEER_IP = bytes([192, 168, 77, 1])
GUEST_IP = "192.168.77.2"


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def peer_answer(frame):
    """The reply to an ARP request for PEER_IP or an ICMP echo to it, or None."""
    if len(frame) < 14:
        return None
    dst, src, etype = frame[:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0806 and len(frame) >= 42:
        arp = frame[14:42]
        op = struct.unpack("!H", arp[6:8])[0]
        if op == 1 and arp[24:28] == PEER_IP:
            reply = (struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + PEER_MAC + PEER_IP +
                     arp[8:14] + arp[14:18])
            return src + PEER_MAC + b"\x08\x06" + reply
    if etype == 0x0800 and len(frame) >= 34 and dst == PEER_MAC:
        ip = frame[14:]
        ihl = (ip[0] & 0xf) * 4
        if ip[9] == 1 and ip[16:20] == PEER_IP and ip[ihl] == 8:
            total = struct.unpack("!H", ip[2:4])[0]
            icmp = bytearray(ip[ihl:total])
            icmp[0] = 0
            icmp[2:4] = b"\0\0"
            icmp[2:4] = struct.pack("!H", ip_checksum(bytes(icmp)))
            hdr = bytearray(ip[:ihl])
            hdr[12:16], hdr[16:20] = ip[16:20], ip[12:16]
            hdr[8] = 64
            hdr[10:12] = b"\0\0"
            hdr[10:12] = struct.pack("!H", ip_checksum(bytes(hdr)))
            return src + PEER_MAC + b"\x08\x00" + bytes(hdr) + bytes(icmp)
    return None


class SocketPeer(threading.Thread):
    """Accepts Kite's -netdev socket,connect= and answers ARP/ICMP for 192.168.77.1."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.frames = 0
        self.replies = 0

    def run(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        buf = b""
        with conn:
            while True:
                try:
                    d = conn.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                buf += d
                while len(buf) >= 4:
                    n = struct.unpack("!I", buf[:4])[0]
                    if len(buf) < 4 + n:
                        break
                    frame, buf = buf[4:4 + n], buf[4 + n:]
                    self.frames += 1
                    r = peer_answer(frame)
                    if r is not None:
                        if len(r) < 60:
                            r += b"\0" * (60 - len(r))
                        self.replies += 1
                        conn.sendall(struct.pack("!I", len(r)) + r)

    def close(self):
        self.srv.close()
