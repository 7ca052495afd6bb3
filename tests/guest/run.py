#!/usr/bin/env python3
# Run the guest test kernels listed in tests/guest/manifest under an emulator
# with QEMU's command line (Kite, or qemu-system-x86_64 for reference).
#
#   tests/guest/run.py [--emulator PATH] [--kernel-dir DIR] [--accel kvm|tcg]
#                      [--only NAME[,NAME...]] [-j N] [--log-dir DIR] [-q]
#
# Prints "PASS|FAIL|SKIP name (accel) [reason]" per run and a summary line.
# Exit status: 0 if nothing failed, 1 if something failed, 77 (meson's SKIP)
# if nothing ran because every run was skipped.  Standard library only.
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import concurrent.futures
import os
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))

# isa-debug-exit turns OUT v into exit status (v << 1) | 1; see README.rst.
EXIT_PASS = 33
EXIT_MEANING = {
    33: "PASS (0x10)",
    35: "a check failed (0x11)",
    37: "unexpected exception or interrupt (0x12)",
    0: "emulator exited without isa-debug-exit (shutdown or triple fault with -no-reboot?)",
}

MANIFEST_KEYS = {"name", "smp", "mem", "accel", "timeout", "append", "args",
                 "exit", "expect", "reboot"}


class Entry:
    def __init__(self, kernel, opts, lineno):
        self.kernel = kernel
        self.lineno = lineno
        self.name = opts.get("name", os.path.splitext(kernel)[0])
        self.smp = opts.get("smp", "1")           # a -smp value
        self.mem = opts.get("mem", "128")
        self.accel = opts.get("accel", "both")
        self.timeout = float(opts.get("timeout", "30"))
        self.append = opts.get("append")
        self.args = shlex.split(opts.get("args", ""))
        self.exit = int(opts.get("exit", str(EXIT_PASS)))
        self.expect = opts.get("expect")
        self.reboot = opts.get("reboot", "0") == "1"
        if self.accel not in ("both", "kvm", "tcg"):
            raise ValueError("accel must be kvm, tcg or both")

    def accels(self):
        return ["tcg", "kvm"] if self.accel == "both" else [self.accel]


def parse_manifest(path):
    entries = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            opts = {}
            for w in words[1:]:
                key, sep, value = w.partition("=")
                if not sep or key not in MANIFEST_KEYS:
                    sys.exit(f"{path}:{lineno}: bad field {w!r} "
                             f"(known keys: {', '.join(sorted(MANIFEST_KEYS))})")
                opts[key] = value
            try:
                entries.append(Entry(words[0], opts, lineno))
            except ValueError as e:
                sys.exit(f"{path}:{lineno}: {e}")
    names = [e.name for e in entries]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        sys.exit(f"{path}: duplicate test names {sorted(dups)}; add name=")
    return entries


def kvm_usable():
    """(True, '') if /dev/kvm can be opened read-write, else (False, why)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"/dev/kvm not usable: {e.strerror}"
    os.close(fd)
    return True, ""


def command(emulator, kernel_path, entry, accel):
    cmd = [emulator, "-M", "pc", "-m", entry.mem, "-smp", entry.smp,
           "-nodefaults", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-display", "none", "-accel", accel, "-kernel", kernel_path]
    if not entry.reboot:
        cmd.append("-no-reboot")
    # The kernel learns the accelerator from its command line (README.rst).
    append = f"{entry.append} accel={accel}" if entry.append else f"accel={accel}"
    return cmd + ["-append", append] + entry.args


def run_one(args, entry, accel):
    """Returns (verdict, reason, serial_output, stderr, seconds)."""
    kernel_path = os.path.join(args.kernel_dir, entry.kernel)
    if not os.path.exists(kernel_path):
        return "FAIL", f"kernel {kernel_path} not built", "", "", 0.0
    cmd = command(args.emulator, kernel_path, entry, accel)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return "FAIL", f"cannot run {args.emulator}: {e.strerror}", "", "", 0.0
    try:
        out, err = proc.communicate(timeout=entry.timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    secs = time.monotonic() - start
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    if timed_out:
        return "FAIL", f"timed out after {entry.timeout:g} s", out, err, secs
    rc = proc.returncode
    if rc != entry.exit:
        meaning = EXIT_MEANING.get(rc, "killed by a signal" if rc < 0 else "unknown")
        return ("FAIL", f"exit status {rc} ({meaning}), expected {entry.exit}",
                out, err, secs)
    if entry.expect is not None and entry.expect not in out:
        return "FAIL", f"serial output lacks {entry.expect!r}", out, err, secs
    return "PASS", "", out, err, secs


def main():
    ap = argparse.ArgumentParser(description="Run the Kite guest test kernels.")
    ap.add_argument("--emulator", default=os.path.join(SRCDIR, "build", "kite"),
                    help="emulator binary (default: build/kite)")
    ap.add_argument("--kernel-dir", default=os.path.join(SRCDIR, "build", "tests", "guest"),
                    help="directory holding the built *.elf kernels")
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest"))
    ap.add_argument("--accel", choices=["kvm", "tcg"], help="only runs with this accelerator")
    ap.add_argument("--only", help="comma-separated test names (or kernel file names)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="parallel runs")
    ap.add_argument("--log-dir", help="write each run's serial output to DIR/NAME-ACCEL.log")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="do not print the serial output of failed runs")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every run's command and serial output")
    args = ap.parse_args()

    entries = parse_manifest(args.manifest)
    if args.only:
        wanted = set(args.only.split(","))
        entries = [e for e in entries if e.name in wanted or e.kernel in wanted
                   or os.path.splitext(e.kernel)[0] in wanted]
        if not entries:
            sys.exit(f"no manifest entry matches {args.only}")

    kvm_ok, kvm_why = kvm_usable()
    runs = [(e, a) for e in entries for a in e.accels() if not args.accel or a == args.accel]
    if not runs:
        print(f"SKIP: no run in the manifest for accel {args.accel}")
        return 77
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)

    def job(run):
        entry, accel = run
        if accel == "kvm" and not kvm_ok:
            return "SKIP", kvm_why, "", "", 0.0
        return run_one(args, entry, accel)

    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for (entry, accel), result in zip(runs, pool.map(job, runs)):
            verdict, reason, out, err, secs = result
            counts[verdict] += 1
            line = f"{verdict} {entry.name} ({accel})"
            if verdict != "SKIP":
                line += f" {secs:.2f}s"
            if reason:
                line += f" [{reason}]"
            print(line, flush=True)
            if args.log_dir and verdict != "SKIP":
                with open(os.path.join(args.log_dir, f"{entry.name}-{accel}.log"), "w") as f:
                    f.write(out)
                    if err:
                        f.write("\n--- emulator stderr ---\n" + err)
            if args.verbose or (verdict == "FAIL" and not args.quiet):
                kernel_path = os.path.join(args.kernel_dir, entry.kernel)
                print("    $ " + shlex.join(command(args.emulator, kernel_path, entry, accel)))
                for l in out.splitlines()[-40:]:
                    print("    | " + l)
                for l in err.splitlines()[-10:]:
                    print("    ! " + l)

    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    if counts["FAIL"]:
        return 1
    if counts["SKIP"] and not counts["PASS"]:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
