#!/usr/bin/env python3
"""The human monitor (HMP) against a guest test kernel (kbd.elf, no Linux):

 - -monitor unix:...,server,wait=off driven by socat: banner and "(qemu) " prompt, info
   status across stop/cont, info registers (RIP), xp and x read the kernel image's bytes
   where the loader put them, info qtree/chardev/cpus/mtree, line editing and Tab completion
   over the socket, sendkey reaching the guest's PS/2 keyboard (scancodes on its serial port),
   errors, quit.
 - QMP human-monitor-command: output as a string with QEMU's "\\r\\n", cpu-index checks.
 - -serial mon:stdio: Ctrl-A c switches between the serial console and the monitor.
 - x through long64.elf's page tables (identity map below 4 GiB, nothing above), with the
   monitor given as -chardev socket + -mon chardev=ID,mode=readline.
 - -monitor stdio on a pty: raw mode, line editing keys, Tab, history, the terminal restored
   on quit (the same keys and expectations pass against Debian's QEMU).

Usage: test_hmp.py --emulator build/kite --guest-dir build/tests/guest
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on failure.
"""
import argparse
import contextlib
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

results = {"pass": 0, "fail": 0}
PROMPT = b"(qemu) "


def check(name, ok, detail=""):
    results["pass" if ok else "fail"] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + repr(detail)), flush=True)


def wait_for_path(path, proc, timeout=20):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("%s did not appear (kite exit %s)" % (path, proc.poll()))
        time.sleep(0.05)


class Reader:
    """Reads a pipe or socket until a pattern appears."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""
        os.set_blocking(fd, False)

    def read_until(self, pattern, timeout=30):
        deadline = time.time() + timeout
        while True:
            i = self.buf.find(pattern)
            if i >= 0:
                out, self.buf = self.buf[:i + len(pattern)], self.buf[i + len(pattern):]
                return out
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("waiting for %r, got %r" % (pattern, self.buf[-400:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                data = os.read(self.fd, 65536)
                if not data:
                    raise EOFError("EOF waiting for %r, got %r" % (pattern, self.buf[-400:]))
                self.buf += data

    def drain(self, wait=0.3):
        time.sleep(wait)
        try:
            while True:
                data = os.read(self.fd, 65536)
                if not data:
                    break
                self.buf += data
        except BlockingIOError:
            pass
        out, self.buf = self.buf, b""
        return out


class SocatMonitor:
    """An HMP client: socat between our pipes and the monitor's unix socket."""

    def __init__(self, path):
        # The socket file appears at bind(), a moment before Kite (like QEMU) calls listen();
        # a connect() in between is refused.  socat retries that (up to 30 s).
        self.proc = subprocess.Popen(["socat", "-",
                                      "UNIX-CONNECT:%s,retry=300,interval=0.1" % path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.reader = Reader(self.proc.stdout.fileno())

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def banner(self):
        return self.reader.read_until(PROMPT)

    def cmd(self, line):
        """Run a command; return its output (after the echoed line, before the next prompt)."""
        self.send(line.encode() + b"\n")
        out = self.reader.read_until(PROMPT)[:-len(PROMPT)]
        echo, _, rest = out.partition(b"\r\n")
        return rest.decode(errors="replace")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def elf_bytes_at(path, pattern):
    """The guest-physical address where the loader puts pattern from the ELF file, and the
    32 bytes from there as in the file."""
    data = open(path, "rb").read()
    off = data.find(pattern)
    assert off >= 0, "pattern not in " + path
    assert data[:4] == b"\x7fELF" and data[4] == 1, "expects a 32-bit ELF"
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<IIIII", data, phoff + i * phentsize)
        if p_type == 1 and p_offset <= off < p_offset + p_filesz:
            return p_paddr + off - p_offset, data[off:off + 32]
    raise AssertionError("pattern outside any PT_LOAD segment")


def words_from_dump(text):
    """0x.. words of "ADDR: 0x........ 0x........" lines."""
    return [int(w, 16) for w in re.findall(r"0x([0-9a-f]+)", text)]


def has_disas(mon):
    """False (and says so) when this Kite was built without capstone: x/i then refuses."""
    out = mon.cmd("xp /1i 0")
    if "built without capstone" in out:
        print("SKIP x/i checks: no capstone in this build", flush=True)
        return False
    return True


INSN = re.compile(r"^0x([0-9a-f]{8,}): ((?: [0-9a-f]{2}){1,8}) {2,}(\S+)")


def disas_lines(out):
    """(address, mnemonic) of each instruction line of an x/i listing (continuations
    carry only bytes)."""
    return [(int(m.group(1), 16), m.group(3)) for m in map(INSN.match, out.split("\r\n"))
            if m]


def multiboot_header_insn(addr, expect, reg):
    """QEMU's line for the header's first 6 bytes (02 b0 ...: addb disp32(reg), %dh)."""
    disp, = struct.unpack_from("<I", expect, 2)
    return "0x%08x:  %s        addb     %#x(%%%s), %%dh\r\n" % (
        addr, " ".join("%02x" % b for b in expect[:6]), disp, reg)


def check_disas_32(mon, addr, expect):
    """x/i and xp/i in 32-bit protected mode (kbd.elf at its entry point, paging off)."""
    if not has_disas(mon):
        return
    out = mon.cmd("xp /2i 0x%x" % addr)
    lines = out.split("\r\n")
    check("xp/2i: QEMU's layout, 32-bit registers",
          out.startswith(multiboot_header_insn(addr, expect, "eax")) and len(lines) == 3
          and disas_lines(out)[1][0] == addr + 6, out)
    regs = mon.cmd("info registers")
    eip = int(re.search(r"EIP=([0-9a-f]{8})", regs).group(1), 16)
    out = mon.cmd("x /3i $eip")
    insns = disas_lines(out)
    check("x/3i $eip starts at EIP", len(insns) == 3 and insns[0][0] == eip
          and out == mon.cmd("xp /3i 0x%x" % eip), out)
    # As QEMU: the format sticks (a bare x disassembles), 'i' leaves the size alone.
    out = mon.cmd("x 0x%x" % eip)
    check("x after x/i disassembles one insn", len(disas_lines(out)) == 1
          and disas_lines(out)[0][0] == eip, out)
    mon.cmd("xp /xh 0x%x" % addr)
    mon.cmd("xp /2i 0x%x" % addr)
    out = mon.cmd("xp /x 0x%x" % addr)
    check("x/i keeps the last size", out == "%016x: 0x%04x\r\n" % (
        addr, struct.unpack_from("<H", expect)[0]), out)
    mon.cmd("xp /4xw 0")


def test_socket_monitor(kite, kernel, tmp):
    mon_path = os.path.join(tmp, "hmp.sock")
    qmp_path = os.path.join(tmp, "qmp.sock")
    serial_log = os.path.join(tmp, "serial.log")
    # keys=6: "a" (1e 9e) and "shift-b" (2a 30 b0 aa) as set-1 make/break codes.
    proc = subprocess.Popen([kite, "-M", "pc", "-m", "32", "-nodefaults", "-accel", "tcg", "-S",
                             "-kernel", kernel, "-append", "keys=6 wait=120",
                             "-serial", "file:" + serial_log, "-device", "isa-vga",
                             "-monitor", "unix:%s,server=on,wait=off" % mon_path,
                             "-qmp", "unix:%s,server=on,wait=off" % qmp_path],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    mon = None
    try:
        wait_for_path(mon_path, proc)
        wait_for_path(qmp_path, proc)
        wait_for_path(serial_log, proc)
        mon = SocatMonitor(mon_path)
        banner = mon.banner().decode()
        check("banner", re.search(r"^Kite \S+ monitor - type 'help' for more information\r\n"
                                  r"\(qemu\) $", banner) is not None, banner)

        out = mon.cmd("info status")
        check("info status in prelaunch", out == "VM status: paused (prelaunch)\r\n", out)

        out = mon.cmd("info registers")
        # kbd.elf starts in 32-bit protected mode: QEMU's 32-bit layout.
        # QEMU 7.2 heads the dump with the CPU's number even without -a.
        check("info registers (32-bit)", re.match(r"\r\nCPU#0\r\nEAX=[0-9a-f]{8} EBX=", out)
              is not None
              and re.search(r"\nEIP=[0-9a-f]{8} EFL=[0-9a-f]{8} \[[-DOSZAPC]{7}\] CPL=0 ", out)
              is not None and re.search(r"\nCS =[0-9a-f]{4} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}"
                                        r" DPL=0 CS32 \[", out) is not None, out)

        # The multiboot header (magic 0x1BADB002) where the ELF loader put it.
        addr, expect = elf_bytes_at(kernel, struct.pack("<I", 0x1BADB002))
        want = list(struct.unpack("<4I", expect[:16]))
        out = mon.cmd("xp /4xw 0x%x" % addr)
        check("xp line format", out.startswith("%016x: 0x" % addr) and out.endswith("\r\n"),
              out)
        check("xp reads guest memory", words_from_dump(out.split(":", 1)[1]) == want,
              (out, want))
        # Paging is off at the entry point: virtual == physical.
        out = mon.cmd("x /4xw 0x%x" % addr)
        check("x reads through the CPU", words_from_dump(out.split(":", 1)[1]) == want,
              (out, want))
        out = mon.cmd("xp /20xb 0x%x" % addr)
        lines = out.strip().split("\r\n")
        got = [int(w, 16) for l in lines for w in re.findall(r"0x([0-9a-f]{2})\b", l)]
        check("xp bytes, 8 a line", len(lines) == 3 and got == list(expect[:20]), out)
        out = mon.cmd("xp /2dh 0x%x" % addr)
        h = struct.unpack("<2h", expect[:4])
        check("xp signed halfwords", out.split(":", 1)[1].split() == [str(v) for v in h], out)
        check_disas_32(mon, addr, expect)
        out = mon.cmd("xp /1xg 0x7fffffffffff000")
        check("xp outside RAM does not crash", "07fffffffffff000:" in out, out)
        out = mon.cmd("x /4xw 0xfffffffffffffff8")
        check("x wraps/faults cleanly", out.count("\r\n") >= 1, out)
        out = mon.cmd("info mem")
        check("info mem without paging", out == "PG disabled\r\n", out)
        out = mon.cmd("print 0x10 + 2*3")
        check("print", out == "0x16\r\n", out)
        # QEMU's x86 register names; $pc is CS base + EIP, $eip EIP alone.
        regs = mon.cmd("info registers")
        eip = int(re.search(r"EIP=([0-9a-f]{8})", regs).group(1), 16)
        esp = int(re.search(r"ESP=([0-9a-f]{8})", regs).group(1), 16)
        cs = int(re.search(r"\nCS =([0-9a-f]{4})", regs).group(1), 16)
        out = [mon.cmd("print " + e) for e in ("$eip", "$pc", "$esp", "$cs", "$cs.base",
                                                "$ss.limit", "$eflags & 2")]
        check("print $registers", out == [("%#x\r\n" % v if v else "0\r\n") for v in
                                          (eip, eip, esp, cs, 0, 0xffffffff, 2)], (out, regs))
        out = mon.cmd("print $rax")
        check("unknown register", out.startswith("unknown register\r\n"), out)
        out = mon.cmd("print 1 + x")
        check("invalid char named", out.startswith("invalid char 'x' in expression\r\n"), out)
        # The last format and size stick, as in QEMU: a bare xp after /2xh shows halfwords,
        # and /c prints every byte of count units of the last size.
        mon.cmd("xp /2xh 0x%x" % addr)
        out = mon.cmd("xp 0x%x" % addr)
        check("xp remembers format and size", out == "%016x: 0x%04x\r\n" % (
            addr, struct.unpack("<H", expect[:2])[0]), out)
        mon.cmd("xp /1xg 0x%x" % addr)
        out = mon.cmd("xp /2c 0x%x" % addr)
        check("xp /c after /g: 16 characters", out.startswith("%016x: '\\x02' '\\xb0'" % addr)
              and out.count("'") == 32 and out.count("\r\n") == 1, out)
        mon.cmd("xp /1xw 0x%x" % addr)

        out = mon.cmd("info qtree")
        check("info qtree lists devices", "dev: i8042" in out and "dev: isa-serial" in out
              and "bus: pci.0" in out, out[:300])
        out = mon.cmd("info pci")
        check("info pci", "  Bus  0, device   0, function 0:\r\n"
              "    Host bridge: PCI device 8086:1237\r\n" in out
              and "    ISA bridge: PCI device 8086:7000\r\n" in out
              and re.search(r"IDE controller: PCI device 8086:7010\r\n.*\r\n"
                            r"      BAR4: I/O at 0x[0-9a-f]{4,} \[0x[0-9a-f]{4,}\]\.\r\n", out)
              is not None, out)
        out = mon.cmd("info qom-tree")
        check("info qom-tree", out.startswith("/machine (") and "\r\n  /unattached (container)\r\n"
              in out and re.search(r"\r\n    /device\[0\] \(\S+-x86_64-cpu\)\r\n", out) is not None,
              out[:300])
        out = mon.cmd("qom-list /machine")
        check("qom-list", "\r\nunattached (child<container>)\r\n" in out, out[:300])
        out = mon.cmd("qom-get /machine/unattached type")
        check("qom-get", out == '"container"\r\n', out)
        out = mon.cmd("qom-get /nosuch type")
        check("qom-get error", out.endswith("\r\n") and "nosuch" in out, out)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        out = mon.cmd("gdbserver tcp:127.0.0.1:%d" % port)
        check("gdbserver", out == "Waiting for gdb connection on device 'tcp:127.0.0.1:%d'\r\n"
              % port, out)
        try:
            g = socket.create_connection(("127.0.0.1", port), timeout=5)
            g.close()
            check("gdbserver listens", True)
        except OSError as e:
            check("gdbserver listens", False, e)
        out = mon.cmd("info chardev")
        check("info chardev", re.search(r"compat_monitor0: filename=unix:", out) is not None
              and "serial0: filename=" in out, out)
        out = mon.cmd("info cpus")
        check("info cpus", re.match(r"\* CPU #0: thread_id=\d+\r\n$", out) is not None, out)
        out = mon.cmd("info mtree")
        check("info mtree", "address-space: memory" in out and "address-space: I/O" in out,
              out[:200])
        out = mon.cmd("device_add nosuch,id=x")
        check("device_add error from QMP", out ==
              "Error: 'nosuch' is not a valid device model name\r\n",
              out)
        out = mon.cmd("device_del nosuch")
        check("device_del error from QMP", out == "Error: Device 'nosuch' not found\r\n", out)
        out = mon.cmd("device_add help")
        check("device_add help", 'name "isa-serial", bus ISA' in out, out[:300])
        out = mon.cmd("device_add isa-serial,help")
        check("device_add TYPE,help", out.startswith("isa-serial options:\r\n"), out[:200])
        out = mon.cmd("info kvm")
        check("info kvm", out == "kvm support: disabled\r\n", out)
        out = mon.cmd("info nosuch")
        check("unknown info", out == "unknown command: 'info nosuch'\r\n", out)
        out = mon.cmd("frobnicate 1 2")
        check("unknown command", out == "unknown command: 'frobnicate'\r\n", out)
        out = mon.cmd("xp /4xw")
        check("missing argument", out == "unexpected end of expression\r\n"
              "Try \"help xp\" for more information\r\n", out)

        # Terminal editing over a plain socket: backspaces, cursor keys, Tab completion.
        out = mon.cmd("info stXX\x7f\x7fatus")
        check("backspace", "VM status: paused (prelaunch)" in out, out)
        out = mon.cmd("atus\x1b[D\x1b[D\x1b[D\x1b[D\x01info st")
        check("cursor keys and Ctrl-A", "VM status: paused (prelaunch)" in out, out)
        out = mon.cmd("inf\t sta\t")
        check("Tab completion", "VM status: paused (prelaunch)" in out, out)
        out = mon.cmd("\x1b[A\x1b[A")
        check("history", "VM status: paused (prelaunch)" in out, out)

        qmp = QMP(qmp_path, timeout=20, connect_timeout=0)
        r = qmp.cmd("human-monitor-command", {"command-line": "info status"})
        check("human-monitor-command", r == {"return": "VM status: paused (prelaunch)\r\n"}, r)
        r = qmp.cmd("human-monitor-command", {"command-line": "xp /1xw 0x%x" % addr})
        check("human-monitor-command xp", r.get("return") == "%016x: 0x1badb002\r\n" % addr, r)
        r = qmp.cmd("human-monitor-command", {"command-line": "info registers",
                                              "cpu-index": 0})
        check("human-monitor-command cpu-index", "EIP=" in r.get("return", ""), r)
        r = qmp.cmd("human-monitor-command", {"command-line": "info status", "cpu-index": 7})
        check("human-monitor-command bad cpu-index",
              r.get("error", {}).get("desc") == "Parameter 'cpu-index' expects a CPU number", r)
        v = qmp.cmd("query-version")["return"]
        r = qmp.cmd("human-monitor-command", {"command-line": "info version"})
        check("info version: version and package as QEMU prints them", r.get("return") ==
              "%d.%d.%d%s\r\n" % (v["qemu"]["major"], v["qemu"]["minor"], v["qemu"]["micro"],
                                   v["package"]), (r, v))
        r = qmp.cmd("human-monitor-command", {"command-line": "nosuch"})
        check("human-monitor-command unknown", r == {"return": "unknown command: 'nosuch'\r\n"},
              r)
        r = qmp.cmd("human-monitor-command", {})
        check("human-monitor-command without command-line",
              r.get("error", {}).get("class") == "GenericError", r)

        out = mon.cmd("cont")
        out = mon.cmd("info status")
        check("info status after cont", out == "VM status: running\r\n", out)
        r = qmp.cmd("query-status")
        check("QMP agrees", r.get("return", {}).get("status") == "running", r)

        # sendkey: the guest prints each scancode byte its PS/2 keyboard delivers.
        deadline = time.time() + 120
        while "keys: ready" not in open(serial_log, errors="replace").read():
            if time.time() > deadline:
                raise TimeoutError("guest never said 'keys: ready'")
            time.sleep(0.1)
        out = mon.cmd("sendkey a")
        check("sendkey quiet", out == "", out)
        time.sleep(0.5)
        out = mon.cmd("sendkey shift-b 50")
        out = mon.cmd("sendkey nosuchkey")
        check("sendkey bad key", out == "invalid parameter: nosuchkey\r\n", out)
        deadline = time.time() + 60
        log = ""
        while "keys: done" not in log and time.time() < deadline:
            time.sleep(0.1)
            log = open(serial_log, errors="replace").read()
        codes = re.findall(r"scancode: ([0-9a-f]{2})", log)
        check("sendkey reaches the guest", codes == ["1e", "9e", "2a", "30", "b0", "aa"],
              log[-300:])

        out = mon.cmd("stop")
        out = mon.cmd("info status")
        check("info status after stop", out == "VM status: paused\r\n", out)

        ppm = os.path.join(tmp, "shot.ppm")
        out = mon.cmd("screendump " + ppm)
        head = open(ppm, "rb").read(2) if os.path.exists(ppm) else b""
        check("screendump writes a PPM", out == "" and head == b"P6", (out, head))
        png = os.path.join(tmp, "shot.png")
        out = mon.cmd("screendump %s -f png" % png)
        head = open(png, "rb").read(8) if os.path.exists(png) else b""
        check("screendump -f png", out == "" and head == b"\x89PNG\r\n\x1a\n", (out, head))
        out = mon.cmd("screendump /nonexistent/dir/x.ppm")
        check("screendump error", out.endswith("\r\n") and "nonexistent" in out, out)

        # Run control from HMP shows up as QMP events with QEMU's reasons.
        mon.cmd("system_reset")
        e = qmp.wait_event("RESET")
        check("system_reset", e["data"] == {"guest": False, "reason": "host-qmp-system-reset"},
              e)
        mon.cmd("cont")
        qmp.wait_event("RESUME")
        mon.cmd("system_powerdown")
        e = qmp.wait_event("POWERDOWN")
        check("system_powerdown", e is not None, e)

        mon.send(b"quit\n")
        rc = proc.wait(timeout=20)
        check("quit exits 0", rc == 0, rc)
        e = qmp.wait_event("SHUTDOWN")
        check("quit is a host-qmp-quit shutdown", e["data"] == {"guest": False,
                                                               "reason": "host-qmp-quit"}, e)
    finally:
        if mon:
            mon.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_mux_stdio(kite, kernel):
    proc = subprocess.Popen([kite, "-M", "pc", "-m", "32", "-nodefaults", "-accel", "tcg",
                             "-kernel", kernel, "-append", "keys=1 wait=120",
                             "-serial", "mon:stdio"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = Reader(proc.stdout.fileno())

    def send(b):
        proc.stdin.write(b)
        proc.stdin.flush()

    try:
        before = out.read_until(b"keys: ready", timeout=120)
        check("serial console has the focus at start", b"monitor" not in before
              and PROMPT not in before, before[-200:])
        send(b"\x01c")
        text = out.read_until(PROMPT)
        check("Ctrl-A c shows the monitor", re.search(
            rb"Kite \S+ monitor - type 'help' for more information\r\n\(qemu\) $", text)
            is not None, text)
        send(b"info status\n")
        text = out.read_until(PROMPT)
        check("monitor on the mux answers", b"VM status: running\r\n" in text, text)
        send(b"\x01c")
        time.sleep(0.3)
        # Back on the serial console: keys go to the guest, not the monitor.
        send(b"info status\n")
        text = out.drain(1.0)
        check("serial has the focus again", b"VM status" not in text, text)
        send(b"\x01c")
        text = out.read_until(PROMPT)
        check("Ctrl-A c back to the monitor", text.endswith(PROMPT), text)
        send(b"quit\n")
        rc = proc.wait(timeout=20)
        check("quit from the mux", rc == 0, rc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_paging(kite, kernel, tmp):
    """x walks the guest's page tables: long64.elf identity-maps the first 4 GiB only."""
    mon_path = os.path.join(tmp, "hmp-paging.sock")
    serial_log = os.path.join(tmp, "serial-paging.log")
    proc = subprocess.Popen([kite, "-M", "pc", "-m", "64", "-nodefaults", "-accel", "tcg",
                             "-kernel", kernel, "-serial", "file:" + serial_log,
                             "-chardev", "socket,id=mon0,path=%s,server=on,wait=off" % mon_path,
                             "-mon", "chardev=mon0,mode=readline"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    mon = None
    try:
        wait_for_path(mon_path, proc)
        wait_for_path(serial_log, proc)
        deadline = time.time() + 120
        while "did not stop the machine" not in open(serial_log, errors="replace").read():
            if time.time() > deadline:
                raise TimeoutError("long64 did not finish")
            time.sleep(0.2)
        mon = SocatMonitor(mon_path)
        mon.banner()
        out = mon.cmd("info registers")
        check("info registers shows RIP (64-bit layout)",
              re.match(r"\r\nCPU#0\r\nRAX=[0-9a-f]{16} RBX=", out) is not None
              and re.search(r"\nRIP=[0-9a-f]{16} RFL=", out) is not None
              and re.search(r"\nCS =0008 [0-9a-f]{16} [0-9a-f]{8} 00a09b00 DPL=0 CS64", out)
              is not None and "XMM15=" in out, out)
        efer = re.search(r"EFER=([0-9a-f]+)", out)
        check("long64 runs with paging", re.search(r"CR0=8", out) is not None
              and efer is not None and int(efer.group(1), 16) & 0x400, out)
        phys = mon.cmd("xp /4xw 0x100000")
        virt = mon.cmd("x /4xw 0x100000")
        check("x through identity-mapped page tables", virt == phys and "0x1badb002" in virt,
              (virt, phys))
        out = mon.cmd("info mem")
        check("info mem", out == "0000000000000000-0000000100000000 0000000100000000 urw\r\n",
              out)
        if has_disas(mon):
            # 64-bit code: the same header decodes with %rax; x/i walks the page tables.
            hdr, expect = elf_bytes_at(kernel, struct.pack("<I", 0x1BADB002))
            out = mon.cmd("xp /1i 0x%x" % hdr)
            check("xp/1i in long mode", out == multiboot_header_insn(hdr, expect, "rax"), out)
            rip = int(re.search(r"RIP=([0-9a-f]{16})", mon.cmd("info registers")).group(1), 16)
            out = mon.cmd("x /5i $eip")
            insns = disas_lines(out)
            check("x/5i $eip in long mode", len(insns) == 5 and insns[0][0] == rip
                  and out == mon.cmd("xp /5i 0x%x" % rip), out)
            out = mon.cmd("x /2i 0x140000000")
            check("x/i on an unmapped page", out == "0x140000000: unable to read memory\r\n",
                  out)
            mon.cmd("x /4xw 0")
        out = mon.cmd("info tlb")
        lines = out.split("\r\n")[:-1]
        check("info tlb: 2048 2 MiB identity pages", len(lines) == 2048 and all(
            re.match(r"^([0-9a-f]{16}): \1 [-X][-G]P[-D][-A][-C][-T]UW$", l) for l in lines),
            (len(lines), lines[:3]))
        out = mon.cmd("x /2xw 0x140000000")
        check("x on an unmapped page", out == "0000000140000000: Cannot access memory\r\n", out)
        out = mon.cmd("x /2xg 0x8000000000000000")
        check("x on a non-canonical address", "Cannot access memory" in out, out)
        # nmi: the halted guest takes vector 2, which its runtime reports as unexpected.
        out = mon.cmd("nmi")
        deadline = time.time() + 30
        log = ""
        while "vector 2 " not in log and time.time() < deadline:
            time.sleep(0.1)
            log = open(serial_log, errors="replace").read()
        check("nmi reaches the guest", out == "" and "UNEXPECTED" in log and "vector 2 " in log,
              (out, log[-300:]))
        # A client leaving mid-line and a new one arriving: a fresh banner and an empty line.
        mon.send(b"info sta")
        mon.close()
        mon = SocatMonitor(mon_path)
        check("second client gets the banner", b"monitor - type 'help'" in mon.banner())
        out = mon.cmd("tus")
        check("half line forgotten", out == "unknown command: 'tus'\r\n", out)
        mon.send(b"quit\n")
        check("quit", proc.wait(timeout=20) == 0)
    finally:
        if mon:
            mon.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@contextlib.contextmanager
def paused_vm_monitor(kite, mon_path, extra=()):
    """A paused pc VM (-S) with the human monitor on a unix socket: yields the connected
    monitor past its banner, and kills the VM afterwards."""
    proc = subprocess.Popen([kite, "-M", "pc", "-m", "32", "-accel", "tcg", "-S",
                             "-display", "none", "-serial", "null",
                             "-monitor", "unix:%s,server=on,wait=off" % mon_path] + list(extra),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    mon = None
    try:
        wait_for_path(mon_path, proc)
        mon = SocatMonitor(mon_path)
        mon.banner()
        yield mon
    finally:
        if mon:
            mon.close()
        proc.kill()
        proc.wait()


def test_info_network(kite, tmp):
    """info network as QEMU prints it: each NIC, its backend indented under it.  Without
    network options the pc board has QEMU's default NIC (-nic user,model=e1000)."""
    cases = [
        ("default", [],
         "e1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56\r\n"
         " \\ __org.qemu.nic0: index=0,type=user,net=10.0.2.0,restrict=off\r\n"),
        ("explicit", ["-netdev", "user,id=u0,restrict=on,net=10.1.0.0/16",
                      "-device", "e1000,netdev=u0,id=nic0,mac=52:54:00:00:00:07",
                      "-netdev", "user,id=alone", "-device", "e1000,id=nic1"],
         # QEMU's order: clients as created (netdevs before devices), peers under NICs.
         "alone: index=0,type=user,net=10.0.2.0,restrict=off\r\n"
         "nic0: index=0,type=nic,model=e1000,macaddr=52:54:00:00:00:07\r\n"
         " \\ u0: index=0,type=user,net=10.1.0.0,restrict=on\r\n"
         "nic1: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56\r\n"),
        ("none", ["-net", "none"], ""),
    ]
    for name, extra, want in cases:
        with paused_vm_monitor(kite, os.path.join(tmp, "hmp-net-%s.sock" % name), extra) as mon:
            out = mon.cmd("info network")
            check("info network (%s)" % name, out == want, repr(out))


def test_qom_set(kite, tmp):
    """qom-set [-j] path property value: the text parsed for the property's type as QEMU's
    string visitor does (on/yes/true/y), -j for JSON, QEMU's errors (each case's text came
    from qemu-system-x86_64 7.2 on the same commands; Kite's own type names differ)."""
    with paused_vm_monitor(kite, os.path.join(tmp, "hmp-qomset.sock")) as mon:
        steps = [
            ("qom-set /nosuch x 1", "Error: Device '/nosuch' not found\r\n"),
            ("qom-set /machine nosuch 1", "Error: Property 'pc-i440fx-7.2-machine.nosuch' not found\r\n"),
            ("qom-set /machine dump-guest-core off", ""),
            ("qom-get /machine dump-guest-core", "false\r\n"),
            ("qom-set /machine dump-guest-core y", ""),
            ("qom-get /machine dump-guest-core", "true\r\n"),
            ("qom-set /machine dump-guest-core maybe",
             "Error: Parameter 'dump-guest-core' expects 'on' or 'off'\r\n"),
            ("qom-set /machine append  hello world ", ""),
            ("qom-get /machine append", '"hello world "\r\n'),
            ("qom-set -j /machine dump-guest-core false", ""),
            ("qom-get /machine dump-guest-core", "false\r\n"),
            ("qom-set -j /machine dump-guest-core 1",
             "Error: Invalid parameter type for 'dump-guest-core', expected: boolean\r\n"),
            ("qom-set -j /machine append \"x y\"", ""),
            ("qom-get /machine append", '"x y"\r\n'),
            ("qom-set /machine dump-guest-core",
             'qom-set: string expected\r\nTry "help qom-set" for more information\r\n'),
            # A realized device's property: that error wins over the unparsable text.
            ("qom-set /machine/fw_cfg x-file-slots abc",
             "Error: Attempt to set property 'x-file-slots' on anonymous device (type "
             "'fw_cfg_io') after it was realized\r\n"),
            ("qom-set /machine type x", "Error: Property 'pc-i440fx-7.2-machine.type' is not writable\r\n"),
        ]
        for cmd, want in steps:
            out = mon.cmd(cmd)
            check("qom-set: " + cmd, out == want, out)
        out = mon.cmd("qom-set -j /machine append {")
        check("qom-set -j with bad JSON", out.startswith("Error: JSON parse error, "), out)


def test_change_eject(kite, tmp):
    """change and eject on the pc board's default empty CD-ROM (ide1-cd0), as with QEMU."""
    src = os.path.join(tmp, "isosrc")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("cd\n")
    iso = os.path.join(tmp, "cd.iso")
    tool = shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool:
        subprocess.run([tool, "-quiet", "-o", iso, src], check=True)
    else:
        with open(iso, "wb") as f:
            f.write(bytes(2048 * 16))
    lone = os.path.join(tmp, "lone.img")
    with open(lone, "wb") as f:
        f.truncate(1 << 20)
    with paused_vm_monitor(kite, os.path.join(tmp, "hmp-cd.sock"),
                           ["-net", "none", "-drive", "if=none,id=lone,format=raw,file=" + lone]
                           ) as mon:
        out = mon.cmd("info block ide1-cd0")
        check("default CD-ROM empty", out.startswith("\r\nide1-cd0: [not inserted]\r\n") and
              "tray closed" in out, repr(out))
        out = mon.cmd("change ide1-cd0 %s raw" % iso)
        check("change: no error", out == "", repr(out))
        out = mon.cmd("info block ide1-cd0")
        check("change: medium inserted", ": %s (raw, read-only)\r\n" % iso in out and
              "tray closed" in out, repr(out))
        out = mon.cmd("eject ide1-cd0")
        check("eject: no error", out == "", repr(out))
        out = mon.cmd("info block ide1-cd0")
        check("eject: tray open, no medium", out.startswith("\r\nide1-cd0: [not inserted]\r\n")
              and "tray open" in out, repr(out))
        # QEMU's blank line before every drive but the list's first ("lone" here).
        out = mon.cmd("info block nosuch")
        check("info block of no drive prints nothing", out == "", repr(out))
        out = mon.cmd("info block lone")
        check("info block: a drive without a device", out == "lone (#block%s): %s (raw)\r\n"
              "    Removable device: not locked, tray closed\r\n    Cache mode:       writeback"
              "\r\n" % (re.search(r"#block(\d+)", out).group(1) if "#block" in out else "?", lone),
              repr(out))
        out = mon.cmd("eject nope")
        check("eject unknown device", out == "Error: Device 'nope' not found\r\n", repr(out))
        out = mon.cmd("change ide1-cd0 %s" % os.path.join(tmp, "nosuch.iso"))
        check("change to a missing file", "nosuch.iso" in out and
              "No such file or directory" in out, repr(out))


def test_smp_registers(kite, tmp):
    """-smp 2 before the guest runs: QEMU's HLT=1 for the AP waiting for its SIPI, info
    registers N / -a, and a long sendkey chord as QEMU takes it."""
    with paused_vm_monitor(kite, os.path.join(tmp, "hmp-smp.sock"), ["-smp", "2"]) as mon:
        out0, out1 = mon.cmd("info registers 0"), mon.cmd("info registers 1")
        check("info registers: BSP running, AP halted",
              out0.startswith("\r\nCPU#0\r\n") and " HLT=0\r\n" in out0 and
              out1.startswith("\r\nCPU#1\r\n") and " HLT=1\r\n" in out1, (out0, out1))
        out = mon.cmd("info registers -a")
        check("info registers -a", out.count("\r\nCPU#") == 2, out[:200])
        out = mon.cmd("info registers 2")
        check("info registers of a missing CPU", out == "CPU#2 not available\r\n", out)
        out = mon.cmd("sendkey a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r")
        check("sendkey with 18 keys", out == "", out)


def test_pty_readline(kite):
    """-monitor stdio on a real terminal (a pty): Kite puts it in raw mode, so the line editor
    sees every key: cursor keys, backspace, Home/End (Ctrl-A/E and the VT sequences), Delete,
    Ctrl-W, Tab completion, history with Up/Down; quit restores the terminal's modes."""
    import pty
    import termios
    # The child waits for the parent to read the terminal's modes first: Kite switches them
    # to raw as it starts, and a busy host may run it before the parent looks.
    go_r, go_w = os.pipe()
    pid, fd = pty.fork()
    if pid == 0:
        os.close(go_w)
        os.read(go_r, 1)
        os.execv(kite, [kite, "-M", "pc", "-m", "32", "-nodefaults", "-display", "none",
                        "-S", "-monitor", "stdio"])
    os.close(go_r)
    before = termios.tcgetattr(fd)
    os.write(go_w, b"x")
    os.close(go_w)
    buf = b""

    def read_until(pattern, timeout=30):
        nonlocal buf
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, buf, re.S)
            if m:
                buf = buf[m.end():]
                return m
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    d = os.read(fd, 65536)
                except OSError:
                    break
                if not d:
                    break
                buf += d
        return None

    def run(keys):
        """Type keys (ending in Enter); the command's output up to the next prompt."""
        os.write(fd, keys)
        m = read_until(rb"\r\n(.*?)\(qemu\) $")
        # The terminal's own output processing (ONLCR, left on as by QEMU) adds a CR.
        return m.group(1).decode(errors="replace").replace("\r\r\n", "\r\n") if m else None

    try:
        check("pty: banner and prompt", read_until(rb"monitor - type 'help'.*\(qemu\) $")
              is not None, buf)
        lflag = termios.tcgetattr(fd)[3]
        check("pty: raw mode (no ICANON, no ECHO)",
              not lflag & termios.ICANON and not lflag & termios.ECHO, lflag)
        status = "VM status: paused (prelaunch)\r\n"
        # Left, Backspace (deletes 'a'), Right, then "us": "info status".
        out = run(b"info stat\x1b[D\x7f\x1b[Cus\r")
        check("pty: Left, Backspace, Right", out == "unknown command: 'info sttus'\r\n", out)
        out = run(b"xinfo status\x01\x1b[3~\r")
        check("pty: Ctrl-A then Delete", out == status, out)
        out = run(b"nfo status\x1b[Hi\x1b[F\r")
        check("pty: Home/End sequences", out == status, out)
        out = run(b"info sta\x01\x05tus\r")
        check("pty: Ctrl-E", out == status, out)
        out = run(b"info status\x17\x17name\r")
        check("pty: Ctrl-W deletes words", out == "unknown command: 'name'\r\n", out)
        out = run(b"info vers\t\r")
        check("pty: Tab completes", out is not None and re.fullmatch(r"\d+\.\d+\.\d+.*\r\n", out)
              is not None, out)
        # History: Up three times is "info status"; Up/Down walk back and forth.
        out = run(b"\x1b[A\x1b[A\x1b[A\r")
        check("pty: history Up", out == status, out)
        # Now [..., name, version, status]: Up x3 is "name", Down once "info version".
        out = run(b"\x1b[A\x1b[A\x1b[A\x1b[B\r")
        check("pty: history Down", out is not None and out.endswith("\r\n") and
              re.fullmatch(r"\d+\.\d+\.\d+.*\r\n", out) is not None, out)
        out = run(b"info history\r")
        hist = re.findall(r"\d+: '([^']*)'", out or "")
        check("pty: info history, repeats moved to the end",
              hist[-4:] == ["name", "info status", "info version ", "info history"] and
              hist.count("info status") == 1, out)
        os.write(fd, b"quit\r")
        _, st = os.waitpid(pid, 0)
        pid = None
        after = termios.tcgetattr(fd)
        check("pty: quit exits 0 and restores the terminal",
              os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 and after[3] == before[3],
              (st, before[3], after[3]))
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--guest-dir", required=True)
    a = ap.parse_args()
    kernel = os.path.join(a.guest_dir, "kbd.elf")
    if not shutil.which("socat"):
        print("SKIP: socat not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="kite-hmp-")
    try:
        test_socket_monitor(a.emulator, kernel, tmp)
        test_mux_stdio(a.emulator, kernel)
        test_paging(a.emulator, os.path.join(a.guest_dir, "long64.elf"), tmp)
        test_info_network(a.emulator, tmp)
        test_qom_set(a.emulator, tmp)
        test_change_eject(a.emulator, tmp)
        test_pty_readline(a.emulator)
        test_smp_registers(a.emulator, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (results["pass"], results["fail"]))
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
