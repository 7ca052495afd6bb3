#!/usr/bin/env python3
"""The gdb stub (-gdb / -S) with Debian's gdb in batch mode against guest test kernels, under
the interpreter and under KVM, plus a raw remote-protocol client for what gdb itself never
sends (Ctrl-C timing, bad checksums, malformed and oversized packets).  Under each
accelerator: software/hardware breakpoints, step, SMP threads, a memory write through the
page tables that changes the kernel's verdict, gdb's own Ctrl-C (SIGINT to gdb); -s.

Usage: test_gdb.py --emulator build/kite --guest-dir build/tests/guest [--accel tcg,kvm]
Prints PASS/FAIL/SKIP per case and "N passed, N failed, N skipped"; exit status 1 on failure.
Under kvm_pvm (this project's CI hosts) ring-0 INT3 cannot be intercepted, so the KVM cases
use hardware breakpoints; see the gdb stub's notes.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from kite_guest import free_port  # noqa: E402

results = {"pass": 0, "fail": 0, "skip": 0}


def report(name, ok, detail=""):
    results["pass" if ok else "fail"] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)


def skip(name, why):
    results["skip"] += 1
    print(f"SKIP {name}: {why}", flush=True)


def kvm_usable(kite):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    r = subprocess.run([kite, "-accel", "kvm", "-M", "pc,dump-tree", "-nodefaults"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


class Kite:
    def __init__(self, kite, kernel, accel, extra=(), exit_dev=True, dash_s=False):
        # -s is QEMU's shorthand for -gdb tcp::1234.
        self.port = 1234 if dash_s else free_port()
        self.serial = tempfile.NamedTemporaryFile(prefix="kite-gdb-serial-", delete=False)
        args = [kite, "-M", "pc", "-m", "64", "-nodefaults", "-accel", accel,
                "-serial", "file:" + self.serial.name, "-kernel", kernel, "-S",
                *(["-s"] if dash_s else ["-gdb", f"tcp:127.0.0.1:{self.port}"]), *extra]
        if exit_dev:
            args += ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # The probe connection above attached and detached once; that must be harmless.

    def wait(self, timeout=30):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            return None, out.decode(errors="replace")
        return self.proc.returncode, out.decode(errors="replace")

    def serial_text(self):
        with open(self.serial.name, errors="replace") as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.serial.name)


def run_gdb(elf, port, commands, timeout=60, pre=()):
    script = ["set pagination off", "set confirm off", *pre,
              f"target remote 127.0.0.1:{port}"] + commands
    args = ["gdb", "-nx", "-batch"]
    for c in script:
        args += ["-ex", c]
    args.append(elf)
    r = subprocess.run(args, capture_output=True, timeout=timeout)
    return r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def symbol(elf, name):
    out = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    m = re.search(r"^([0-9a-f]+) [Tt] " + re.escape(name) + "$", out, re.M)
    return int(m.group(1), 16) if m else None


def case_break_step(kite, gdir, accel):
    """Break at a symbol, read registers, step, write a register, continue to the end."""
    name = f"{accel}-break-step-continue"
    elf64, kernel = os.path.join(gdir, "hello64.elf64"), os.path.join(gdir, "hello64.elf")
    addr = symbol(elf64, "test_main")
    brk = "break" if accel == "tcg" else "hbreak"
    k = Kite(kite, kernel, accel)
    try:
        out = run_gdb(elf64, k.port, [
            f"{brk} test_main", "continue", "p/x $pc", "stepi", "p/x $pc",
            "set var $r12 = 0x1122334455667788", "p/x $r12", "info threads",
            "x/4xb $sp", "delete", "continue"])
        rc, kout = k.wait()
        pcs = [int(x, 16) for x in re.findall(r"\$\d+ = (0x[0-9a-f]+)", out)]
        ok = (re.search(r"Breakpoint 1, test_main", out) and len(pcs) >= 3 and
              pcs[0] == addr and pcs[1] != addr and addr < pcs[1] < addr + 16 and
              pcs[2] == 0x1122334455667788 and "Thread 1" in out and rc == 33 and
              "PASS hello64" in k.serial_text())
        report(name, bool(ok), f"rc={rc} test_main={addr:#x} values={pcs}\n{out}\n{kout}")
    finally:
        k.close()


def case_sw_breakpoint_32bit(kite, gdir):
    """A 32-bit kernel: gdb needs 'set architecture i386:x86-64' as with QEMU."""
    name = "tcg-break-32bit-kernel"
    elf = os.path.join(gdir, "hello.elf")
    k = Kite(kite, elf, "tcg")
    try:
        out = run_gdb(elf, k.port, ["break test_main", "continue", "p $pc", "delete",
                                    "continue"], pre=["set architecture i386:x86-64"])
        rc, _ = k.wait()
        ok = "Breakpoint 1, test_main" in out and "<test_main>" in out and rc == 33
        report(name, ok, f"rc={rc}\n{out}")
    finally:
        k.close()


def case_smp_threads(kite, gdir, accel):
    """-smp 2: two threads; a breakpoint in code only the AP runs stops on thread 2."""
    name = f"{accel}-smp-threads"
    elf64, kernel = os.path.join(gdir, "smp64.elf64"), os.path.join(gdir, "smp64.elf")
    if symbol(elf64, "ap_main") is None:
        skip(name, "smp64 kernel has no ap_main symbol")
        return
    brk = "break" if accel == "tcg" else "hbreak"
    k = Kite(kite, kernel, accel, extra=["-smp", "2"])
    try:
        out = run_gdb(elf64, k.port, [f"{brk} ap_main", "continue", "info threads",
                                      "thread 1", "p/x $pc", "thread 2", "p/x $pc",
                                      "delete", "continue"])
        rc, _ = k.wait()
        ok = (re.search(r"Thread 2 .*hit Breakpoint 1, ap_main|Breakpoint 1, ap_main", out)
              and re.search(r"\* 2 +Thread 2", out) and re.search(r"\n +1 +Thread 1", out)
              and rc == 33)
        report(name, bool(ok), f"rc={rc}\n{out}")
    finally:
        k.close()


def gdb_args(elf, port, commands, pre=()):
    script = ["set pagination off", "set confirm off", *pre,
              f"target remote 127.0.0.1:{port}"] + commands
    args = ["gdb", "-nx", "-batch"]
    for c in script:
        args += ["-ex", c]
    return args + [elf]


def case_hbreak_memory_write(kite, gdir, accel):
    """A hardware breakpoint (under the interpreter too), then a write to a guest variable
    through the long-mode page tables that changes the kernel's verdict: 3 failed checks
    where none failed, so the kernel exits FAIL (35) instead of PASS (33)."""
    name = f"{accel}-hbreak-memory-write"
    elf64, kernel = os.path.join(gdir, "hello64.elf64"), os.path.join(gdir, "hello64.elf")
    k = Kite(kite, kernel, accel)
    try:
        out = run_gdb(elf64, k.port, [
            "hbreak test_done", "continue", "p n_failed", "set var n_failed = 3",
            "p n_failed", "x/1dw &n_failed", "delete", "continue"])
        rc, kout = k.wait()
        ok = (re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?test_done", out) and
              re.search(r"\$1 = 0\n", out) and re.search(r"\$2 = 3\n", out) and
              re.search(r"<n_failed>:\s+3\n", out) and rc == 35 and
              "(3 of " in k.serial_text())
        report(name, bool(ok), f"rc={rc}\n{out}\n{kout}")
    finally:
        k.close()


def case_ctrl_c(kite, gdir, accel, dash_s):
    """gdb's own Ctrl-C (SIGINT to gdb while the guest runs: gdb sends 0x03), under each
    accelerator, on a kernel that ends in a cli/hlt loop; with -s when port 1234 is free."""
    name = f"{accel}-gdb-ctrl-c" + (" (-s)" if dash_s else "")
    elf64, kernel = os.path.join(gdir, "hello64.elf64"), os.path.join(gdir, "hello64.elf")
    k = Kite(kite, kernel, accel, exit_dev=False, dash_s=dash_s, extra=["-smp", "2"])
    try:
        g = subprocess.Popen(gdb_args(elf64, k.port, ["continue", "p/x $pc", "info threads",
                                                      "kill"]),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # The kernel reaches its halt loop within a few seconds; the stop must come whenever.
        deadline = time.time() + 60
        while "did not stop the machine" not in k.serial_text() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        g.send_signal(2)
        try:
            out, _ = g.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            g.kill()
            out, _ = g.communicate()
        out = out.decode(errors="replace")
        rc, kout = k.wait()
        exit_addr, done_addr = symbol(elf64, "test_exit"), symbol(elf64, "test_done")
        pcs = [int(x, 16) for x in re.findall(r"\$1 = (0x[0-9a-f]+)", out)]
        # Thread 1 halts in test_exit; thread 2 (the AP) parks wherever the runtime put it.
        ok = ("received signal SIGINT" in out and pcs and
              (exit_addr <= pcs[0] < done_addr or "Thread 2" in out) and
              re.search(r"\n[ *]+1 +Thread 1", out) and re.search(r"\n[ *]+2 +Thread 2", out) and
              # The interpreter knows the vCPU halted; QEMU's thread text pads "halted ".
              (accel != "tcg" or "Thread 1 (CPU#0 [halted ])" in out) and rc is not None)
        report(name, bool(ok), f"rc={rc} test_exit={exit_addr:#x} pcs={pcs}\n{out}\n{kout}")
    finally:
        k.close()


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Rsp:
    """A minimal remote-protocol client for the bad-input cases."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, payload):
        body = payload.encode() if isinstance(payload, str) else payload
        self.send_raw(b"$" + body + b"#%02x" % (sum(body) & 0xff))

    def recv_packet(self, timeout=10):
        self.s.settimeout(timeout)
        while True:
            m = re.search(rb"\$([^#]*)#([0-9a-f]{2})", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.send_raw(b"+")
                return m.group(1).decode(errors="replace")
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("stub closed the connection")
            self.buf += chunk

    def recv_ack(self, timeout=10):
        self.s.settimeout(timeout)
        while not self.buf:
            self.buf += self.s.recv(65536)
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def close(self):
        self.s.close()


def case_protocol(kite, gdir):
    """Raw protocol: Ctrl-C while running, bad checksum, malformed and huge packets."""
    name = "tcg-protocol-bad-input"
    # No isa-debug-exit: after its checks the kernel halts forever, so Ctrl-C has work.
    k = Kite(kite, os.path.join(gdir, "hello64.elf"), "tcg", exit_dev=False)
    errors = []
    try:
        c = Rsp(k.port)
        c.send("qSupported:xmlRegisters=i386")
        if c.recv_ack() != b"+" or "PacketSize" not in c.recv_packet():
            errors.append("qSupported")
        c.send_raw(b"$g#00")                             # bad checksum
        if c.recv_ack() != b"-":
            errors.append("bad checksum not NAKed")
        for bad, want in [("mzz,4", "E22"), ("Z0,1", "E22"), ("Hgzz", "E22"),
                          ("P12345678=00", "E22"), ("Z9,0,1", ""), ("vCont;x", "E22"),
                          ("Tff", "E22"), ("qXfer:features:read:other.xml:0,10", "E00"),
                          ("X100000,4:ab", "E22"), ("mfffffffffffff000,16", "E14")]:
            c.send(bad)
            c.recv_ack()
            got = c.recv_packet()
            if got != want:
                errors.append(f"{bad!r} -> {got!r}, wanted {want!r}")
        c.send_raw(b"$" + b"A" * 100000 + b"#00")         # oversized: dropped with '-'
        if c.recv_ack() != b"-":
            errors.append("oversized packet not NAKed")
        c.send("?")
        c.recv_ack()
        if not c.recv_packet().startswith("T05"):
            errors.append("'?' after junk")
        c.send("c")
        c.recv_ack()
        time.sleep(0.5)
        c.send_raw(b"\x03")
        reply = c.recv_packet()
        if not reply.startswith("T02thread:"):
            errors.append(f"Ctrl-C -> {reply!r}")
        c.send("g")
        c.recv_ack()
        regs = c.recv_packet()
        if len(regs) < 2 * (17 * 8 + 4):
            errors.append(f"short g reply ({len(regs)} hex digits)")
        c.close()
        # A second client after the first vanished mid-packet: still served.
        c = Rsp(k.port)
        c.send_raw(b"$m10000")
        c.close()
        c = Rsp(k.port)
        c.send("qC")
        c.recv_ack()
        if c.recv_packet() != "QC1":
            errors.append("qC after a vanished client")
        c.send("k")
        c.close()
        rc, out = k.wait()
        if rc is None:
            errors.append("k did not end Kite")
        report(name, not errors, "; ".join(errors) + "\n" + (out or ""))
    finally:
        k.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--accel", default="tcg,kvm")
    a = ap.parse_args()
    if not shutil.which("gdb"):
        print("SKIP all: gdb is not installed (scripts/install-deps.sh --test installs it)")
        print("0 passed, 0 failed, 1 skipped")
        return 77
    for accel in a.accel.split(","):
        if accel == "kvm" and not kvm_usable(a.emulator):
            skip("kvm-*", "/dev/kvm is missing or unusable here")
            continue
        case_break_step(a.emulator, a.guest_dir, accel)
        case_smp_threads(a.emulator, a.guest_dir, accel)
        case_hbreak_memory_write(a.emulator, a.guest_dir, accel)
        case_ctrl_c(a.emulator, a.guest_dir, accel, accel == "tcg" and port_free(1234))
    case_sw_breakpoint_32bit(a.emulator, a.guest_dir)
    case_protocol(a.emulator, a.guest_dir)
    print(f"{results['pass']} passed, {results['fail']} failed, {results['skip']} skipped")
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
