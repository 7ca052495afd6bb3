#!/usr/bin/env python3
"""Under KVM, Debian's bzImage reaches its first kernel messages on ttyS0.

On hosts whose KVM emulates guest ring 0 (kvm_pvm: a few MIPS) a full Linux boot is not
practical, so this test only waits for the kernel's "Linux version" banner and the e820 map
through earlyprintk, then stops the VM.  Exit status 77 (skip) without a usable /dev/kvm.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_linux_boot import prepare_guest  # noqa: E402


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--timeout", type=float, default=240)
    args = ap.parse_args()
    if not kvm_usable():
        print("SKIP linux-kvm-early: /dev/kvm is missing or cannot be opened")
        return 77
    try:
        vmlinuz, initrd, kver = prepare_guest(args.guest_dir)
    except RuntimeError as e:
        print(f"SKIP linux-kvm-early: {e}")
        return 77
    argv = [args.emulator, "-accel", "kvm", "-M", "pc", "-m", "256", "-kernel", vmlinuz,
            "-initrd", initrd, "-append", "console=ttyS0 earlyprintk=serial,ttyS0,115200",
            "-nodefaults", "-serial", "stdio", "-display", "none", "-no-reboot"]
    want = [re.compile(r"Linux version " + re.escape(kver)),
            re.compile(r"BIOS-e820: \[mem 0x0000000000100000-")]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.set_blocking(p.stdout.fileno(), False)
    out = b""
    start = time.monotonic()
    ok = False
    while time.monotonic() - start < args.timeout and p.poll() is None:
        chunk = p.stdout.read()
        if chunk:
            out += chunk
            text = out.decode(errors="replace")
            if all(w.search(text) for w in want):
                ok = True
                break
        else:
            time.sleep(0.2)
    p.kill()
    p.wait()
    text = out.decode(errors="replace")
    if ok:
        print(f"PASS linux-kvm-early ({time.monotonic() - start:.1f} s to the e820 map)")
        return 0
    print("FAIL linux-kvm-early: no kernel banner and e820 map within "
          f"{args.timeout:.0f} s (exit {p.returncode})\n    " +
          "\n    ".join(text.strip().splitlines()[-15:]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
