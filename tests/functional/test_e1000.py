#!/usr/bin/env python3
# Linux's e1000 driver on Kite's 82540EM model under the interpreter, one boot:
#   - a second e1000 on -netdev socket (when built) pings a python peer on QEMU's framing;
#   - the driver binds to 8086:100e, the MAC from mac= is eth0's, carrier comes up at
#     1000 Mb/s full duplex (EEPROM checksum, PHY and STATUS as the driver reads them);
#   - udhcpc gets 10.0.2.15 from -netdev user (slirp's DHCP);
#   - wget through the slirp gateway fetches a file from a python HTTP server on the host
#     and its md5 matches (receive ring, interrupts);
#   - the guest sends a file to a host TCP listener with busybox nc and the host's md5 of
#     what arrived matches the guest's (transmit ring, checksum offload, and TSO for the
#     packets Linux builds larger than the MSS -- how many depends on timing);
#   - the interface counted the traffic both ways;
#   - with the driver unbound, a loop of random register writes (rings over the NIC's own
#     registers, the BIOS ROM or beyond RAM, bus mastering on) leaves Kite running, and the
#     rebound driver's reset brings the NIC back for another download.
# Prints "PASS name" / "FAIL name: reason" / "SKIP ..."; exit 1 on failure, 77 if skipped.
#
#   tests/functional/test_e1000.py [--emulator PATH] [--guest-dir DIR]
# SPDX-License-Identifier: GPL-2.0-or-later

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import GuestError, find_emulator  # noqa: E402
from test_linux_boot import prepare_guest  # noqa: E402
from nettest import (GUEST_IP, BlobServer, SocketPeer, arg_parser, boot,  # noqa: E402
                     expect, guest_ifname)

GUEST_MAC = "52:54:00:e1:00:01"
SOCKET_MAC = "52:54:00:e1:00:02"
UPLOAD_KB = 512


def parse_args():
    return arg_parser(__doc__, boot_timeout=300).parse_args()


class Sink(threading.Thread):
    """Accepts one TCP connection and hashes the first `size` bytes it receives."""

    def __init__(self, size):
        super().__init__(daemon=True)
        self.size = size
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.srv.settimeout(600)
        self.port = self.srv.getsockname()[1]
        self.received = 0
        self.md5 = None

    def run(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        h = hashlib.md5()
        with conn:
            conn.settimeout(600)
            while self.received < self.size:
                try:
                    d = conn.recv(65536)
                except OSError:
                    return
                if not d:
                    break
                d = d[:self.size - self.received]
                h.update(d)
                self.received += len(d)
        self.md5 = h.hexdigest()

    def close(self):
        self.srv.close()


# Registers a hostile program hammers: ring bases/lengths/heads/tails, TCTL, ICS, ITR, MDIC,
# EECD.  RCTL stays 0 so no received frame is written into guest RAM the kernel owns, and
# the interrupt mask stays clear: an unhandled level on the shared INTx line would make
# Linux disable it ("nobody cared") for the other NIC too.
HOSTILE_REGS = [0x3800, 0x3804, 0x3808, 0x3810, 0x3818, 0x2800, 0x2804, 0x2808, 0x2810,
                0x2818, 0x400, 0xc8, 0xc4, 0x20, 0x10, 0x3820, 0x282c]


def hostile_then_recover(g, args, http_port, want):
    """Unbind the driver, program the NIC with random values (rings over its own registers,
    the BIOS ROM, or above RAM, bus mastering on), then rebind: the driver's reset brings
    it back and a download works again."""
    dev = g.check("basename $(readlink /sys/class/net/eth0/device)", args.cmd_timeout)
    bar = int(g.check(f"head -1 /sys/bus/pci/devices/{dev}/resource | cut -d' ' -f1",
                      args.cmd_timeout), 16)
    g.check(f"echo {dev} > /sys/bus/pci/drivers/e1000/unbind", args.cmd_timeout)
    # Memory space and bus master on (the command register, config offset 4).
    g.check(f"printf '\\007' | dd of=/sys/bus/pci/devices/{dev}/config bs=1 seek=4 "
            "count=1 conv=notrunc 2>/dev/null", args.cmd_timeout)
    g.check(f"devmem {bar + 0x100} 32 0; devmem {bar + 0xd8} 32 0xffffffff",
            args.cmd_timeout)
    # The BAR decodes: STATUS shows link up, full duplex.
    expect(g, args, f"devmem {bar + 0x8} 32", lambda o: int(o, 16) & 0x83 == 0x83,
           "STATUS with LU and FD through devmem")
    bases = " ".join(str(b) for b in (bar, bar + 0x3000, 0xfffc0000, 0xfffffff0))
    regs = " ".join(str(bar + r) for r in HOSTILE_REGS)
    script = (f"set -- {regs}; n=$#; i=0; while [ $i -lt 400 ]; do "
              "k=$((RANDOM % n + 1)); eval a=\\${$k}; v=$(( (RANDOM << 17) ^ RANDOM ));"
              f" case $((RANDOM % 4)) in 0) set -- {bases}; eval v=\\${{$((RANDOM % 4 + 1))}};"
              f" set -- {regs};; esac; devmem $a 32 $v; i=$((i + 1)); done; echo survived")
    expect(g, args, script, lambda o: o.endswith("survived"), "the hostile loop to finish",
           timeout=600)
    g.check(f"devmem {bar + 0x400} 32 0; devmem {bar} 32 0x04000000", args.cmd_timeout)
    g.check(f"echo {dev} > /sys/bus/pci/drivers/e1000/bind", args.cmd_timeout)
    eth = guest_ifname(g, args, GUEST_MAC)
    g.check(f"ip link set {eth} up && ip addr add 10.0.2.15/24 dev {eth} && "
            f"ip route add default via 10.0.2.2 dev {eth}", args.cmd_timeout)
    expect(g, args, "for i in $(seq 1 30); do "
           f"[ \"$(cat /sys/class/net/{eth}/carrier)\" = 1 ] && break; sleep 1; done; "
           f"wget -q -O /tmp/blob2 http://10.0.2.2:{http_port}/blob && "
           "md5sum /tmp/blob2 | cut -d' ' -f1",
           lambda o: o == want, f"md5 {want} after the driver was rebound", timeout=300)


def case_e1000_user(args, emulator, vmlinuz, initrd, tmp, log_dir, with_socket):
    blob = BlobServer(tmp, 400 * 1024)
    want, http_port = blob.md5, blob.port
    sink = Sink(UPLOAD_KB * 1024)
    sink.start()
    extra = ["-netdev", "user,id=n0", "-device", f"e1000,netdev=n0,mac={GUEST_MAC}"]
    peer = None
    if with_socket:
        # A second e1000 on -netdev socket to a python peer that answers ARP and ping.
        peer = SocketPeer()
        peer.start()
        extra += ["-netdev", f"socket,id=s0,connect=127.0.0.1:{peer.port}",
                  "-device", f"e1000,netdev=s0,mac={SOCKET_MAC}"]
    try:
        with boot(args, emulator, vmlinuz, initrd, extra,
                  os.path.join(log_dir, "e1000.log")) as g:
            if guest_ifname(g, args, GUEST_MAC) != "eth0":
                raise GuestError(f"eth0 does not have the mac= address {GUEST_MAC}")
            expect(g, args, "basename $(readlink /sys/class/net/eth0/device/driver)",
                   lambda o: o == "e1000", "eth0 driven by e1000")
            g.check("ip link set eth0 up", args.cmd_timeout)
            # The watchdog notices the link after the LSC interrupt the driver provokes.
            expect(g, args, "for i in $(seq 1 30); do "
                   "[ \"$(cat /sys/class/net/eth0/carrier)\" = 1 ] && break; sleep 1; done; "
                   "cat /sys/class/net/eth0/carrier /sys/class/net/eth0/speed "
                   "/sys/class/net/eth0/duplex",
                   lambda o: o.split() == ["1", "1000", "full"],
                   "carrier up at 1000 Mb/s full duplex")
            out = g.check("udhcpc -i eth0 -n -q -t 5 -s /bin/true 2>&1 | grep -o "
                          "'lease of [0-9.]* obtained'", args.cmd_timeout)
            if "lease of 10.0.2.15 obtained" not in out:
                raise GuestError(f"udhcpc printed {out!r}; expected a lease of 10.0.2.15")
            g.check("ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2",
                    args.cmd_timeout)
            expect(g, args,
                   f"wget -q -O /tmp/blob http://10.0.2.2:{http_port}/blob && "
                   "md5sum /tmp/blob | cut -d' ' -f1",
                   lambda o: o == want, f"md5 {want}", timeout=300)
            # Guest to host: TSO and checksum offload on the transmit side.
            sent = g.check(f"dd if=/dev/urandom of=/tmp/up bs=1k count={UPLOAD_KB} "
                           "2>/dev/null && md5sum /tmp/up | cut -d' ' -f1", args.cmd_timeout)
            # In the foreground: nc ends when the host closes after the last byte.  (A job
            # ending while ash waits at its prompt can end busybox's interactive shell.)
            g.check(f"nc 10.0.2.2 {sink.port} < /tmp/up", 300)
            sink.join(timeout=60)
            if sink.md5 != sent:
                raise GuestError(f"host received {sink.received} bytes with md5 {sink.md5}; "
                                 f"the guest sent {UPLOAD_KB * 1024} with md5 {sent}")
            expect(g, args, "cat /sys/class/net/eth0/statistics/rx_packets "
                   "/sys/class/net/eth0/statistics/tx_packets",
                   lambda o: all(int(x) > 100 for x in o.split()),
                   "more than 100 packets each way")
            if peer:
                eth = guest_ifname(g, args, SOCKET_MAC)
                g.check(f"ip link set {eth} up && ip addr add {GUEST_IP}/24 dev {eth}",
                        args.cmd_timeout)
                expect(g, args, "ping -c 3 -W 10 192.168.77.1 | grep -c 'bytes from'",
                       lambda o: o == "3", "3 echo replies from the socket peer")
            hostile_then_recover(g, args, http_port, want)
            status = g.poweroff(timeout=args.cmd_timeout)
            if status != 0:
                raise GuestError(f"emulator exit status {status}")
    finally:
        blob.close()
        sink.close()
        if peer:
            peer.close()


def main():
    args = parse_args()
    emulator = find_emulator(args.emulator)
    name = "e1000-user"
    if emulator is None:
        print(f"SKIP {name}: emulator {args.emulator} not found")
        return 77
    helps = subprocess.run([emulator, "-netdev", "help"], capture_output=True,
                           text=True).stdout.split()
    if "user" not in helps:
        print(f"SKIP {name}: this build has no -netdev user")
        return 77
    try:
        vmlinuz, initrd, _ = prepare_guest(args.guest_dir)
    except RuntimeError as e:
        print(f"SKIP {name}: {e}")
        return 77
    log_dir = os.path.join(args.guest_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kite-e1000-") as tmp:
        try:
            case_e1000_user(args, emulator, vmlinuz, initrd, tmp, log_dir, "socket" in helps)
            print(f"PASS {name}", flush=True)
        except (GuestError, OSError) as e:
            print(f"FAIL {name}: {e}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
