#!/usr/bin/env python3
# Networking under Linux's own drivers (interpreter), one boot per backend:
#   user:   virtio-net-pci on -netdev user.  udhcpc gets 10.0.2.15 from slirp's DHCP; wget
#           through the slirp gateway fetches a file from a python HTTP server on the host
#           and its md5 matches; a hostfwd= port reaches `nc -l` in the guest; the MAC from
#           mac= is what the guest sees and the carrier is up (VIRTIO_NET_S_LINK_UP).
#           guestfwd=: `nc 10.0.2.100 1234` in the guest talks to a host command (cmd:) and
#           `nc 10.0.2.101 1235` to a python server through a tcp: chardev, both ways.
#   socket: two Kite VMs on one -netdev socket segment (listen=/connect=) ping each other;
#           the second VM's other NIC connects to a python peer that speaks QEMU's
#           length-prefixed framing independently and answers ARP and ICMP echo.  The
#           listening backend and the python peer's backend run in iothreads (iothread=).
#   tap:    in a private network namespace (unshare -n; skipped without the privilege), a
#           tap with vnet_hdr=on so checksum/TSO offloads are negotiated: the guest pings the
#           namespace's address and fetches a file from an HTTP server there (md5 checked),
#           and a TCP upload from the guest arrives intact; an e1000 on a second vnet_hdr tap
#           (headers stripped/added for a NIC that does not use them) pings too.  The
#           virtio-net's tap is read in an iothread (iothread=).
# Prints "PASS name" / "FAIL name: reason" / "SKIP ..." per case; exit 1 on a failure, 77 if
# everything was skipped.
#
#   tests/functional/test_net.py [--emulator PATH] [--guest-dir DIR] [--only user|socket]
# SPDX-License-Identifier: GPL-2.0-or-later

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_guest import READY_RE, Guest, GuestError, find_emulator  # noqa: E402
from test_linux_boot import prepare_guest  # noqa: E402
from nettest import (GUEST_IP, BlobServer, SocketPeer, arg_parser, boot,  # noqa: E402
                     expect, free_port, guest_argv, guest_ifname)
from qmp import QMP  # noqa: E402

GUEST_MAC = "52:54:00:ab:cd:01"


def parse_args():
    p = arg_parser(__doc__, boot_timeout=600)
    p.add_argument("--only", choices=["user", "socket", "tap"])
    return p.parse_args()


class GuestfwdServer(threading.Thread):
    """The host end of a chardev guestfwd: sends a line as soon as Kite connects (so it
    waits in the chardev until the guest opens the connection), then reads one line."""

    def __init__(self, hello):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.srv.settimeout(900)
        self.port = self.srv.getsockname()[1]
        self.hello = hello
        self.got = b""

    def run(self):
        try:
            conn, _ = self.srv.accept()
            with conn:
                conn.settimeout(900)
                conn.sendall(self.hello + b"\n")
                while b"\n" not in self.got:
                    d = conn.recv(4096)
                    if not d:
                        break
                    self.got += d
        except OSError:
            pass

    def close(self):
        self.srv.close()


def carrier_wait(want):
    """A guest command printing eth0's carrier once it reads want (or after 60 s)."""
    return ("for i in $(seq 60); do [ \"$(cat /sys/class/net/eth0/carrier)\" = %s ] && break; "
            "sleep 1; done; cat /sys/class/net/eth0/carrier" % want)


def case_user(args, emulator, vmlinuz, initrd, tmp, log_dir):
    # A file with content the guest cannot guess, served from the host.
    blob = BlobServer(tmp, 300 * 1024)
    want, http_port = blob.md5, blob.port
    fwd_port = free_port()
    qmp_path = os.path.join(tmp, "qmp.sock")
    # guestfwd: a command per connection (its stdin/stdout is the connection) ...
    token = os.urandom(4).hex()
    cmd_out = os.path.join(tmp, "guestfwd-cmd.txt")
    gf_cmd = (f"cmd:sh -c 'echo host-cmd-{token}; read line; "
              f"echo \"$line\" > {cmd_out}'")
    # ... and a chardev (a tcp: client spec, connected when the netdev is created).
    gf_srv = GuestfwdServer(f"host-chardev-{token}".encode())
    gf_srv.start()
    extra = ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{fwd_port}-:7777,"
             f"guestfwd=tcp:10.0.2.100:1234-{gf_cmd},"
             f"guestfwd=tcp:10.0.2.101:1235-tcp:127.0.0.1:{gf_srv.port}",
             "-device", f"virtio-net-pci,id=nic0,netdev=n0,mac={GUEST_MAC}",
             "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    try:
        with boot(args, emulator, vmlinuz, initrd, extra,
                  os.path.join(log_dir, "net-user.log")) as g:
            expect(g, args, "cat /sys/class/net/eth0/address", lambda o: o == GUEST_MAC,
                   "the mac= address")
            g.check("ip link set eth0 up", args.cmd_timeout)
            expect(g, args, "cat /sys/class/net/eth0/carrier", lambda o: o == "1",
                   "carrier up (VIRTIO_NET_S_LINK_UP)")
            # QMP set_link on the backend pulls the guest's cable (config interrupt).
            qmp = QMP(qmp_path, timeout=60, connect_timeout=60)
            try:
                r = qmp.cmd("set_link", name="n0", up=False)
                if r != {"return": {}}:
                    raise GuestError(f"set_link off: {r}")
                # The guest applies a config interrupt from a workqueue: poll, no fixed sleep.
                expect(g, args, carrier_wait("0"),
                       lambda o: o == "0", "carrier down after set_link off")
                qmp.cmd("set_link", name="n0", up=True)
                expect(g, args, carrier_wait("1"),
                       lambda o: o == "1", "carrier up again")
                r = qmp.cmd("set_link", name="nosuch", up=True)
                if r.get("error", {}).get("class") != "DeviceNotFound":
                    raise GuestError(f"set_link on a missing device: {r}")
                r = qmp.cmd("netdev_add", type="user", id="n0")
                if "Duplicate ID" not in r.get("error", {}).get("desc", ""):
                    raise GuestError(f"netdev_add of a duplicate id: {r}")
                r = qmp.cmd("netdev_add", type="user", id="n1", restrict=True,
                            hostfwd=[{"str": "tcp:127.0.0.1:0-:22"}])
                if r != {"return": {}}:
                    raise GuestError(f"netdev_add: {r}")
                r = qmp.cmd("netdev_del", id="n1")
                if r != {"return": {}}:
                    raise GuestError(f"netdev_del: {r}")
                # guestfwd over QMP: its chardev exists while the netdev does.
                r = qmp.cmd("netdev_add", type="user", id="n2",
                            guestfwd=[{"str": "tcp:10.0.2.100:80-cmd:cat"},
                                      {"str": "tcp:10.0.2.100:81-null"}])
                if r != {"return": {}}:
                    raise GuestError(f"netdev_add with guestfwd: {r}")
                labels = [c["label"] for c in qmp.cmd("query-chardev").get("return", [])]
                if "guestfwd.tcp.81" not in labels:
                    raise GuestError(f"no guestfwd chardev in query-chardev: {labels}")
                qmp.cmd("netdev_del", id="n2")
                labels = [c["label"] for c in qmp.cmd("query-chardev").get("return", [])]
                if "guestfwd.tcp.81" in labels:
                    raise GuestError("the guestfwd chardev outlived its netdev")
                r = qmp.cmd("netdev_add", type="user", id="n3",
                            guestfwd=[{"str": "tcp:10.0.2.100-cmd:cat"}])
                if "Invalid guest forwarding rule" not in r.get("error", {}).get("desc", ""):
                    raise GuestError(f"netdev_add with a bad guestfwd: {r}")
            finally:
                qmp.close()
            # busybox udhcpc without a script only prints the lease; apply it by hand.
            out = g.check("udhcpc -i eth0 -n -q -t 5 -s /bin/true 2>&1 | grep -o "
                          "'lease of [0-9.]* obtained'", args.cmd_timeout)
            if "lease of 10.0.2.15 obtained" not in out:
                raise GuestError(f"udhcpc printed {out!r}; expected a lease of 10.0.2.15")
            g.check("ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2",
                    args.cmd_timeout)
            # The gateway 10.0.2.2 is the host's loopback as seen from the guest.
            expect(g, args,
                   f"wget -q -O /tmp/blob http://10.0.2.2:{http_port}/blob && "
                   "md5sum /tmp/blob | cut -d' ' -f1",
                   lambda o: o == want, f"md5 {want}")
            # hostfwd: a host connection to fwd_port reaches nc listening in the guest.  Wait
            # until the guest kernel lists the listening socket (port 7777 = 0x1E61, state 0A
            # LISTEN, in tcp or tcp6): a connection that comes earlier is refused by the
            # guest and its message is lost, however long a fixed sleep was.
            g.check("(nc -l -p 7777 > /tmp/fwd.txt &) ; for i in $(seq 60); do "
                    "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | "
                    "grep -Eq ':1E61 0+:0000 0A' && break; sleep 1; done; "
                    "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -Eq ':1E61 0+:0000 0A'",
                    args.cmd_timeout)
            msg = b"hello-through-hostfwd-" + os.urandom(4).hex().encode()
            with socket.create_connection(("127.0.0.1", fwd_port), timeout=60) as c:
                c.sendall(msg + b"\n")
            expect(g, args, "for i in 1 2 3 4 5 6 7 8 9 10; do "
                   "grep -q hello /tmp/fwd.txt && break; sleep 1; done; cat /tmp/fwd.txt",
                   lambda o: o == msg.decode(), "the message sent to the forwarded port")
            # guestfwd to a command: both directions over one connection.
            expect(g, args, f"echo guest-cmd-{token} | nc 10.0.2.100 1234",
                   lambda o: o == f"host-cmd-{token}", "the command's line through guestfwd")
            for _ in range(100):
                if os.path.exists(cmd_out) and os.path.getsize(cmd_out) > 0:
                    break
                time.sleep(0.1)
            with open(cmd_out) as f:
                got = f.read().strip()
            if got != f"guest-cmd-{token}":
                raise GuestError(f"the guestfwd command read {got!r} from the guest")
            # guestfwd to a chardev: the server's line waited in the chardev for the guest to
            # connect, and arrives before the guest writes anything (a fifo holds nc's input
            # back).  Closing the chardev does not close the guest's connection (as in QEMU):
            # kill nc.
            expect(g, args, "rm -f /tmp/gff /tmp/gf2; mkfifo /tmp/gff; "
                   "(nc 10.0.2.101 1235 < /tmp/gff > /tmp/gf2 &); exec 3>/tmp/gff; "
                   "for i in $(seq 30); do grep -q host /tmp/gf2 && break; sleep 1; done; "
                   "cat /tmp/gf2",
                   lambda o: o == f"host-chardev-{token}", "the server's line through guestfwd")
            g.check(f"echo guest-chardev-{token} >&3; exec 3>&-", args.cmd_timeout)
            gf_srv.join(60)
            g.check("killall nc 2>/dev/null; true", args.cmd_timeout)
            if gf_srv.got.strip() != f"guest-chardev-{token}".encode():
                raise GuestError(f"the guestfwd chardev server read {gf_srv.got!r}")
            status = g.poweroff(timeout=args.cmd_timeout)
            if status != 0:
                raise GuestError(f"emulator exit status {status}")
    finally:
        blob.close()
        gf_srv.close()


def case_socket(args, emulator, vmlinuz, initrd, tmp, log_dir):
    """Two Kite VMs on one -netdev socket segment (listen= and connect=) ping each other;
    B's second NIC is connected to a python peer speaking the framing independently."""
    port = free_port()
    peer = SocketPeer()
    peer.start()
    a = Guest(guest_argv(args, emulator, vmlinuz, initrd,
                         ["-object", "iothread,id=io0",
                          "-netdev", f"socket,id=s0,listen=127.0.0.1:{port},iothread=io0",
                          "-device", "virtio-net-pci,netdev=s0,mac=52:54:00:12:36:01"]),
              log_path=os.path.join(log_dir, "net-socket-a.log"))
    a.start()
    with a:
        # B may only connect once A listens (a probe takes and frees A's one slot).
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise GuestError("VM A never listened")
                time.sleep(0.2)
        time.sleep(0.5)
        b = boot(args, emulator, vmlinuz, initrd,
                 ["-netdev", f"socket,id=s0,connect=127.0.0.1:{port}",
                  "-device", "virtio-net-pci,netdev=s0,mac=52:54:00:12:36:02",
                  "-object", "iothread,id=io1",
                  "-netdev", f"socket,id=s1,connect=127.0.0.1:{peer.port},iothread=io1",
                  "-device", "virtio-net-pci,netdev=s1,mac=52:54:00:12:36:03"],
                 os.path.join(log_dir, "net-socket-b.log"))
        with b:
            a.expect(READY_RE, args.boot_timeout)
            a.shell_sync(timeout=args.cmd_timeout)
            a.check("ip link set eth0 up && ip addr add 192.168.76.10/24 dev eth0",
                    args.cmd_timeout)
            b0 = guest_ifname(b, args, "52:54:00:12:36:02")
            b1 = guest_ifname(b, args, "52:54:00:12:36:03")
            b.check(f"ip link set {b0} up && ip addr add 192.168.76.11/24 dev {b0} && "
                    f"ip link set {b1} up && ip addr add {GUEST_IP}/24 dev {b1}",
                    args.cmd_timeout)
            expect(b, args, "ping -c 3 -W 10 192.168.76.10 | grep -c 'bytes from'",
                   lambda o: o == "3", "3 replies from the other VM")
            expect(a, args, "ping -c 2 -W 10 192.168.76.11 | grep -c 'bytes from'",
                   lambda o: o == "2", "2 replies from the other VM")
            expect(b, args, "ping -c 3 -W 10 192.168.77.1 | grep -c 'bytes from'",
                   lambda o: o == "3", "3 echo replies from the python socket peer")
            for g in (b, a):
                status = g.poweroff(timeout=args.cmd_timeout)
                if status != 0:
                    raise GuestError(f"emulator exit status {status}")
    peer.close()
    if peer.replies < 4:
        raise GuestError(f"the peer answered only {peer.replies} of {peer.frames} frames")


TAP_HOST_IP = "192.168.78.1"
TAP_GUEST_IP = "192.168.78.2"
TAP2_HOST_IP = "192.168.80.1"
TAP2_GUEST_IP = "192.168.80.2"
TAP2_MAC = "52:54:00:12:35:01"


def tap_possible():
    try:
        r = subprocess.run(["unshare", "-n", "sh", "-c",
                            "ip tuntap add dev kt0 mode tap && ip link del kt0"],
                           capture_output=True, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def case_tap(args, emulator, vmlinuz, initrd, tmp, log_dir):
    data = os.urandom(400 * 1024)
    with open(os.path.join(tmp, "tapblob"), "wb") as f:
        f.write(data)
    want = hashlib.md5(data).hexdigest()
    upload = os.path.join(tmp, "upload.bin")
    # Everything host-side lives in the namespace: the tap's address, an HTTP server, and a
    # TCP sink for the upload (python, so no netcat flavour matters).
    setup = (
        "set -e; ip link set lo up; "
        "ip tuntap add dev kt0 mode tap; "
        f"ip addr add {TAP_HOST_IP}/24 dev kt0; ip link set kt0 up; "
        "ip tuntap add dev kt1 mode tap; "
        f"ip addr add {TAP2_HOST_IP}/24 dev kt1; ip link set kt1 up; "
        f"cd {tmp}; python3 -m http.server --bind {TAP_HOST_IP} 8000 >/dev/null 2>&1 & "
        "python3 -c 'import socket,sys\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind((\"{TAP_HOST_IP}\", 9000)); s.listen(1); c,_=s.accept()\n"
        f"f=open(\"{upload}\",\"wb\")\n"
        "while True:\n"
        "    d=c.recv(65536)\n"
        "    if not d: break\n"
        "    f.write(d)\n"
        "f.close()' & "
        'exec "$@"')
    kite = guest_argv(args, emulator, vmlinuz, initrd, [
        "-object", "iothread,id=io0",
        "-netdev", "tap,id=t0,ifname=kt0,script=no,downscript=no,vnet_hdr=on,iothread=io0",
        "-device", "virtio-net-pci,netdev=t0",
        # An e1000 on a vnet_hdr tap: it never asks for headers, so the tap strips and
        # adds them; the NIC must see plain frames.
        "-netdev", "tap,id=t1,ifname=kt1,script=no,downscript=no,vnet_hdr=on",
        "-device", f"e1000,netdev=t1,mac={TAP2_MAC}"])
    argv = ["unshare", "-n", "sh", "-c", setup.replace("\\n", "\n"), "sh"] + kite
    g = Guest(argv, log_path=os.path.join(log_dir, "net-tap.log"))
    g.start()
    with g:
        g.expect(READY_RE, args.boot_timeout)
        g.shell_sync(timeout=args.cmd_timeout)
        g.check(f"ip link set eth0 up && ip addr add {TAP_GUEST_IP}/24 dev eth0",
                args.cmd_timeout)
        # vnet_hdr=on: CSUM and GUEST_CSUM (feature bits 0 and 1) were offered and taken;
        # the virtio core lists negotiated bits as a 0/1 string, bit 0 first.
        expect(g, args, "cut -c1-2 /sys/class/net/eth0/device/features", lambda o: o == "11",
               "checksum offloads negotiated")
        expect(g, args, f"ping -c 2 -W 10 {TAP_HOST_IP} | grep -c 'bytes from'",
               lambda o: o == "2", "2 echo replies from the namespace")
        ifc = guest_ifname(g, args, TAP2_MAC)
        g.check(f"ip link set {ifc} up && ip addr add {TAP2_GUEST_IP}/24 dev {ifc}",
                args.cmd_timeout)
        expect(g, args, f"ping -c 2 -W 10 {TAP2_HOST_IP} | grep -c 'bytes from'",
               lambda o: o == "2", "2 echo replies through the e1000 on a vnet_hdr tap")
        expect(g, args,
               f"wget -q -O /tmp/b http://{TAP_HOST_IP}:8000/tapblob && "
               "md5sum /tmp/b | cut -d' ' -f1", lambda o: o == want, f"md5 {want}")
        up = g.check("dd if=/dev/urandom of=/tmp/up bs=1k count=256 2>/dev/null && "
                     "md5sum /tmp/up | cut -d' ' -f1", args.cmd_timeout)
        g.check(f"nc {TAP_HOST_IP} 9000 < /tmp/up", args.cmd_timeout)
        status = g.poweroff(timeout=args.cmd_timeout)
        if status != 0:
            raise GuestError(f"emulator exit status {status}")
    for _ in range(50):
        if os.path.exists(upload) and os.path.getsize(upload) == 256 * 1024:
            break
        time.sleep(0.1)
    with open(upload, "rb") as f:
        got = hashlib.md5(f.read()).hexdigest()
    if got != up:
        raise GuestError(f"upload md5 {got}, guest had {up}")


def main():
    args = parse_args()
    emulator = find_emulator(args.emulator)
    cases = [("net-user", case_user), ("net-socket", case_socket), ("net-tap", case_tap)]
    if args.only:
        cases = [c for c in cases if c[0] == "net-" + args.only]
    if emulator is None:
        for n, _ in cases:
            print(f"SKIP {n}: emulator {args.emulator} not found")
        return 77
    helps = subprocess.run([emulator, "-netdev", "help"], capture_output=True,
                           text=True).stdout.split()
    try:
        vmlinuz, initrd, _ = prepare_guest(args.guest_dir)
    except RuntimeError as e:
        for n, _ in cases:
            print(f"SKIP {n}: {e}")
        return 77
    log_dir = os.path.join(args.guest_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    failed = ran = 0
    with tempfile.TemporaryDirectory(prefix="kite-net-") as tmp:
        for name, fn in cases:
            backend = name.split("-", 1)[1]
            if backend not in helps:
                print(f"SKIP {name}: this build has no -netdev {backend}", flush=True)
                continue
            if backend == "tap" and not tap_possible():
                print(f"SKIP {name}: cannot create a tap in a new network namespace",
                      flush=True)
                continue
            ran += 1
            try:
                fn(args, emulator, vmlinuz, initrd, tmp, log_dir)
                print(f"PASS {name}", flush=True)
            except (GuestError, OSError) as e:
                print(f"FAIL {name}: {e}", flush=True)
                failed += 1
    if failed:
        return 1
    return 0 if ran else 77


if __name__ == "__main__":
    sys.exit(main())
