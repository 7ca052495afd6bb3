#!/usr/bin/env python3
"""Guest-to-host TCP throughput, Kite next to Debian's qemu-system-x86_64.

The busybox guest of scripts/build-linux-guest.sh boots with a NIC (--nic: virtio-net-pci by
default, or e1000), then runs
`dd if=/dev/zero bs=64k count=N | nc HOST PORT`; a python sink on the host counts the bytes
and times them from the first byte to EOF.  Both emulators get the same machine, NIC and
backend and the same -accel (tcg by default).  Backends:

  user   -netdev user (slirp), the sink on 127.0.0.1, reached as 10.0.2.2
  tap    -netdev tap,vnet_hdr on, in a private network namespace (the script re-runs itself
         under `unshare -n` and creates the tap); the sink on the tap's address

Runs alternate between the emulators (QEMU, Kite, QEMU, ...) so that a change in the host's
load hits both.  --iothread reads Kite's tap in an iothread (-netdev tap,iothread=; QEMU has
no such option, -netdev user always runs in the main loop).
Prints each run's MB/s, the medians and the Kite/QEMU ratio (higher is better for Kite).
Timings are reported, never asserted on.

  scripts/bench/net.py [--kite PATH] [--backend user|tap|both] [--mib N] [--runs N]
                       [--nic virtio-net-pci|e1000] [--accel tcg] [--guest-dir DIR]
                       [--iothread]
SPDX-License-Identifier: GPL-2.0-or-later
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "functional"))
from kite_guest import READY_RE, Guest, GuestError  # noqa: E402

TAP_HOST, TAP_GUEST = "192.168.79.1", "192.168.79.2"


class Sink(threading.Thread):
    """Accepts one connection and times the bytes until EOF."""

    def __init__(self, host):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.bytes = 0
        self.seconds = None

    def run(self):
        c, _ = self.srv.accept()
        t0 = None
        with c:
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                if t0 is None:
                    t0 = time.monotonic()
                self.bytes += len(d)
        if t0 is not None:
            self.seconds = time.monotonic() - t0
        self.srv.close()


def one_run(args, emulator, backend, log_path, kite):
    if backend == "user":
        net = ["-netdev", "user,id=n0", "-device", f"{args.nic},netdev=n0"]
        sink_host, guest_ip, peer = "127.0.0.1", "10.0.2.15", "10.0.2.2"
    else:
        io = kite and args.iothread
        net = (["-object", "iothread,id=nio0"] if io else []) + [
               "-netdev", "tap,id=n0,ifname=kbt0,script=no,downscript=no" +
               (",iothread=nio0" if io else ""),
               "-device", f"{args.nic},netdev=n0"]
        sink_host, guest_ip, peer = TAP_HOST, TAP_GUEST, TAP_HOST
    argv = [emulator, "-accel", args.accel, "-M", "pc", "-m", "256",
            "-kernel", os.path.join(args.guest_dir, "vmlinuz"),
            "-initrd", os.path.join(args.guest_dir, "initrd.gz"),
            "-append", "console=ttyS0 panic=-1 quiet", "-nographic", "-no-reboot"] + net
    sink = Sink(sink_host)
    sink.start()
    g = Guest(argv, log_path=log_path)
    g.start()
    with g:
        g.expect(READY_RE, args.timeout)
        g.shell_sync(timeout=120)
        g.check(f"ip link set eth0 up && ip addr add {guest_ip}/24 dev eth0", 120)
        count = args.mib * 16
        g.check(f"dd if=/dev/zero bs=64k count={count} 2>/dev/null | nc {peer} {sink.port}",
                args.timeout)
        sink.join(60)
        g.poweroff(timeout=120)
    if sink.seconds is None or sink.bytes != args.mib << 20:
        raise GuestError(f"sink got {sink.bytes} bytes, expected {args.mib << 20}")
    return sink.bytes / sink.seconds / 1e6


def bench(args, backend):
    emulators = (("qemu", args.qemu), ("kite", args.kite))
    rates = {label: [] for label, _ in emulators}
    failed = set()
    for i in range(args.runs):
        for label, emu in emulators:
            if label in failed:
                continue
            try:
                r = one_run(args, emu, backend,
                            os.path.join(args.log_dir, f"bench-net-{backend}-{label}-{i}.log"),
                            label == "kite")
            except (GuestError, OSError) as e:
                print(f"{backend:4} {label}: run {i + 1} failed: {e}".splitlines()[0][:200])
                failed.add(label)
                continue
            rates[label].append(r)
            print(f"{backend:4} {label} run {i + 1}: {r:8.2f} MB/s ({args.mib} MiB)", flush=True)
    results = {}
    for label, _ in emulators:
        if rates[label]:
            results[label] = statistics.median(rates[label])
            print(f"{backend:4} {label} median: {results[label]:8.2f} MB/s", flush=True)
    if "kite" in results and "qemu" in results:
        print(f"{backend:4} ratio kite/qemu throughput: {results['kite'] / results['qemu']:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kite", default=os.path.join(SRC, "build", "kite"))
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--backend", choices=["user", "tap", "both"], default="user")
    p.add_argument("--mib", type=int, default=16)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--nic", choices=["virtio-net-pci", "e1000"], default="virtio-net-pci")
    p.add_argument("--accel", default="tcg")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--guest-dir", default=os.path.join(SRC, "build", "guest"))
    p.add_argument("--iothread", action="store_true",
                   help="Kite's tap backend in an iothread")
    p.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.kite = os.path.abspath(args.kite)
    args.guest_dir = os.path.abspath(args.guest_dir)
    args.log_dir = os.path.join(args.guest_dir, "logs")
    os.makedirs(args.log_dir, exist_ok=True)
    if not shutil.which(args.qemu):
        print(f"{args.qemu} not found (apt-get install qemu-system-x86)", file=sys.stderr)
        return 2
    if not args.in_netns and subprocess.run(
            [os.path.join(SRC, "scripts", "build-linux-guest.sh"), args.guest_dir]).returncode:
        print("cannot build the guest", file=sys.stderr)
        return 2
    backends = ["user", "tap"] if args.backend == "both" else [args.backend]
    if not args.in_netns:
        print(f"net bench: guest->host TCP, {args.mib} MiB, {args.nic}, -accel {args.accel}"
              f"{', Kite tap in an iothread' if args.iothread else ''}; "
          f"{subprocess.run([args.qemu, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    for backend in backends:
        if backend == "tap" and not args.in_netns:
            # Re-run in a private network namespace with a tap both emulators attach to.
            cmd = ["unshare", "-n", "sh", "-c",
                   "ip link set lo up && ip tuntap add dev kbt0 mode tap && "
                   f"ip addr add {TAP_HOST}/24 dev kbt0 && ip link set kbt0 up && "
                   'exec "$@"', "sh", sys.executable, os.path.abspath(__file__),
                   "--in-netns", "--backend", "tap", "--kite", args.kite, "--qemu", args.qemu,
                   "--mib", str(args.mib), "--runs", str(args.runs), "--accel", args.accel,
                   "--nic", args.nic,
                   "--guest-dir", args.guest_dir] + (["--iothread"] if args.iothread else [])
            if subprocess.run(cmd).returncode != 0:
                print("tap : not runnable (unshare -n / ip tuntap failed?)")
            continue
        bench(args, backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
