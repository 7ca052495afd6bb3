#!/usr/bin/env python3
"""A paused VM leaves the host CPU alone: with nothing to do, the main loop sleeps in poll
whatever network backends it watches.

Why: a backend that re-armed its fds in every main-loop iteration woke the loop at once,
forever (slirp before "keep the poll set while slirp asks for the same fds").  The main thread
then ran at 100% CPU and took the BQL from the vCPU over and over, and test_net's first boot
(-netdev user) took 100-180 s of guest uptime against ~20 s.  Measured here on a VM stopped
with -S, where the only work is the main loop's: a sleeping loop costs no CPU, a spinning one
a whole core (or, on a busy 2-core host, still well over the 5% allowed).

Usage: test_idle.py --emulator build/kite
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import os
import subprocess
import sys
import time
from kite_guest import free_port  # noqa: E402

SECONDS = 3.0
MAX_SHARE = 0.05        # of one CPU, over SECONDS


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def idle_share(emulator, extra):
    argv = [emulator, "-M", "pc", "-m", "32", "-accel", "tcg", "-S", "-display", "none",
            "-serial", "null", "-monitor", "none"] + extra
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)                 # start-up work is not what is measured
        if proc.poll() is not None:
            raise AssertionError("kite exited: " + proc.stderr.read().decode())
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(SECONDS)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        return (c1 - c0) / (t1 - t0)
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--emulator", required=True)
    args = ap.parse_args()
    cases = [
        ("default NIC (-nic user,model=e1000)", []),
        ("-netdev user with a host forward",
         ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % free_port(),
          "-device", "e1000,netdev=n0"]),
        ("-netdev socket,listen=",
         ["-netdev", "socket,id=s0,listen=127.0.0.1:%d" % free_port(),
          "-device", "virtio-net-pci,netdev=s0"]),
        ("-net none", ["-net", "none"]),
    ]
    passed = failed = 0
    for name, extra in cases:
        try:
            share = idle_share(args.emulator, extra)
            assert share <= MAX_SHARE, "%.0f%% of a CPU while paused (at most %.0f%%)" % (
                share * 100, MAX_SHARE * 100)
            print("PASS idle %s: %.1f%% of a CPU" % (name, share * 100))
            passed += 1
        except (AssertionError, OSError) as e:
            print("FAIL idle %s: %s" % (name, e))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
