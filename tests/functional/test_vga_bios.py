#!/usr/bin/env python3
"""A firmware boot on the default PCI VGA (-vga std): SeaBIOS runs vgabios-stdvga.bin from the
card's expansion ROM BAR (which needs the i440FX PAM shadow RAM), finds no disk and says so on
the screen.  Checks:

  * the debug port (0x402) log shows the option ROM ran and the boot failed,
  * the text buffer at 0xb8000, read through the gdb stub, holds SeaBIOS's banner and
    "No bootable device.",
  * a QMP screendump is the 720x400 text mode, and each character cell is lit exactly when
    the text buffer has a visible character there, in the attribute's colour,
  * a disk's boot sector printing with INT 10h puts its text on the screen,
  * -vga none (and -nodefaults) leave the card out: SeaBIOS finds no VGA ROM,
  * with no network options the board's default NIC (an e1000 on user networking, as QEMU's)
    is there and SeaBIOS boots its iPXE ROM, which gets an address by DHCP from slirp and
    gives up to the next boot device ("No more network devices"): under the interpreter this
    needs iPXE's BIOS tick, IRQ 0 taken in a "sti; nop; nop; cli" window.

The cases that look at SeaBIOS's own screen pass -net none, so that iPXE's output does not
scroll the banner away.

Usage: test_vga_bios.py --emulator build/kite [--accel tcg]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402
from kite_guest import free_port  # noqa: E402

# The 16 text-mode colours of the default VGA palette (IBM VGA, attribute -> DAC).
EGA_RGB = [0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
           0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff]


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def read_file(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Rsp:
    """Just enough of the gdb remote protocol to stop the VM and read memory."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""

    def send(self, payload):
        body = payload.encode()
        self.s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))

    def packet(self):
        while True:
            m = re.search(rb"\$([^#]*)#([0-9a-f]{2})", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.s.sendall(b"+")
                return m.group(1).decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("gdb stub closed the connection")
            self.buf += chunk

    def stop_reason(self):
        # The stub stops the VM when gdb attaches; '?' says why.
        self.send("?")
        return self.packet()

    def read_mem(self, addr, length):
        out = b""
        while len(out) < length:
            n = min(0x200, length - len(out))
            self.send("m%x,%x" % (addr + len(out), n))
            reply = self.packet()
            if not re.fullmatch(r"([0-9a-f]{2})+", reply):
                raise AssertionError("memory read at 0x%x: %r" % (addr + len(out), reply))
            out += bytes.fromhex(reply)
        return out


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():]


def boot(emulator, accel, tmp, extra):
    log = os.path.join(tmp, "seabios.log")
    qmp = os.path.join(tmp, "qmp.sock")
    port = free_port()
    argv = [emulator, "-M", "pc", "-m", "64", "-accel", accel, "-display", "none",
            "-serial", "null", "-chardev", "file,id=dbg,path=" + log,
            "-device", "isa-debugcon,chardev=dbg,iobase=0x402",
            "-qmp", "unix:%s,server=on,wait=off" % qmp,
            "-gdb", "tcp:127.0.0.1:%d" % port] + extra
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, log, qmp, port


def screen_text(rsp):
    cells = rsp.read_mem(0xb8000, 80 * 25 * 2)
    rows = ["".join(chr(c) if 32 <= c < 127 else " " for c in cells[r * 160:r * 160 + 160:2])
            for r in range(25)]
    return cells, "\n".join(rows)


def check_std(emulator, accel, tmp):
    proc, log, qmp_path, port = boot(emulator, accel, tmp, ["-net", "none"])
    try:
        wait_for(lambda: "No bootable device." in read_file(log) or proc.poll() is not None,
                 120, "SeaBIOS to give up booting")
        text = read_file(log)
        assert proc.poll() is None, "kite exited: " + proc.stderr.read().decode()
        assert "Running option rom at c000:0003" in text, "VGA ROM did not run:\n" + text
        assert "Start SeaVGABIOS" in text, text
        assert "No bootable device." in text, text

        qmp = QMP(qmp_path, timeout=30, connect_timeout=0)
        rsp = Rsp(port)
        stop = rsp.stop_reason()
        assert stop.startswith("T"), stop
        cells, text = screen_text(rsp)
        assert re.search(r"SeaBIOS \(version [^)]+\)", text), text
        assert "No bootable device." in text, text

        shot = os.path.join(tmp, "screen.ppm")
        r = qmp.cmd("screendump", filename=shot, device="nosuch")
        assert "Device 'nosuch' not found" in r.get("error", {}).get("desc", ""), r
        r = qmp.cmd("screendump", filename=shot, format="ppm")
        assert "return" in r, r
        w, h, px = read_ppm(shot)
        assert (w, h) == (720, 400), (w, h)
        # The BIOS data area's cursor position for page 0 (0x450: column, row): that cell
        # also shows the cursor, so it is left out.
        cur_col, cur_row = rsp.read_mem(0x450, 2)
        lit_cells = 0
        for row in range(25):
            for col in range(80):
                ch, attr = cells[(row * 80 + col) * 2], cells[(row * 80 + col) * 2 + 1]
                fg, bg = EGA_RGB[attr & 15], EGA_RGB[(attr >> 4) & 7]
                colours = set()
                if (row, col) == (cur_row, cur_col):
                    continue
                for y in range(row * 16, row * 16 + 16):
                    for x in range(col * 9, col * 9 + 9):
                        o = (y * w + x) * 3
                        colours.add(px[o] << 16 | px[o + 1] << 8 | px[o + 2])
                visible = ch not in (0, 0x20, 0xff) and fg != bg
                if visible:
                    lit_cells += 1
                    assert colours == {fg, bg}, \
                        "cell %d,%d (%r attr %02x): colours %s" % (
                            row, col, chr(ch), attr, sorted("%06x" % c for c in colours))
                else:
                    assert colours == {bg}, "blank cell %d,%d: colours %s" % (
                        row, col, sorted("%06x" % c for c in colours))
        assert lit_cells >= len("No bootable device."), lit_cells
        print("PASS vga-bios: SeaVGABIOS on the PCI VGA, %d characters on screen, "
              "screendump matches the text buffer" % lit_cells)
        qmp.cmd("quit")
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# A boot sector that prints through the VGA BIOS's INT 10h teletype (AH=0Eh) and halts:
#   xor ax,ax / mov ds,ax / mov si,msg / next: lodsb / test al,al / jz done
#   mov ah,0Eh / mov bx,7 / int 10h / jmp next / done: hlt / jmp done / msg db "...",0
BOOT_MSG = b"KITE BOOT OK"
BOOT_CODE = bytes([0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x18, 0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x09,
                   0xB4, 0x0E, 0xBB, 0x07, 0x00, 0xCD, 0x10, 0xEB, 0xF2, 0xF4, 0xEB, 0xFD])


def check_boot_sector(emulator, accel, tmp):
    """SeaBIOS boots a disk whose boot sector writes with INT 10h: the text reaches the
    screen through SeaVGABIOS's teletype."""
    img = os.path.join(tmp, "boot.img")
    sector = BOOT_CODE + BOOT_MSG + b"\0"
    with open(img, "wb") as f:
        f.write(sector + bytes(510 - len(sector)) + b"\x55\xaa")
        f.truncate(1 << 20)                     # enough cylinders for a CHS geometry
    proc, log, _, port = boot(emulator, accel, tmp,
                              ["-drive", "file=%s,format=raw" % img])
    try:
        wait_for(lambda: "Booting from 0000:7c00" in read_file(log) or proc.poll() is not None,
                 120, "SeaBIOS to boot the disk")
        assert proc.poll() is None, "kite exited: " + proc.stderr.read().decode()
        deadline = time.time() + 30
        while True:
            rsp = Rsp(port)
            rsp.stop_reason()
            cells = rsp.read_mem(0xb8000, 80 * 25 * 2)
            text = bytes(cells[0::2])
            rsp.send("c")                       # let it run on if the text is not there yet
            rsp.s.close()
            if BOOT_MSG in text or time.time() > deadline:
                break
            time.sleep(0.5)
        assert BOOT_MSG in text, text
        print("PASS vga-bios boot sector: INT 10h teletype output on screen")
    finally:
        proc.kill()
        proc.wait()


def check_pxe(emulator, accel, tmp):
    """No network options: the default e1000 at 00:03.0 and its iPXE ROM network-boot."""
    proc, log, _, port = boot(emulator, accel, tmp, [])
    try:
        wait_for(lambda: "No bootable device." in read_file(log) or proc.poll() is not None,
                 150, "SeaBIOS to give up booting after iPXE")
        text = read_file(log)
        assert proc.poll() is None, "kite exited: " + proc.stderr.read().decode()
        assert "PCI: init bdf=00:03.0 id=8086:100e" in text, "no e1000 at 00:03.0:\n" + text
        assert "Booting from ROM" in text, "SeaBIOS did not boot the NIC's ROM:\n" + text
        rsp = Rsp(port)
        rsp.stop_reason()
        _, screen = screen_text(rsp)
        assert "iPXE" in screen, screen
        # DHCP from slirp's server reached iPXE, which then found nothing to boot.
        assert "net0: 10.0.2.15/255.255.255.0 gw 10.0.2.2" in screen, screen
        assert "No more network devices" in screen, screen
        print("PASS vga-bios pxe: default e1000, iPXE got 10.0.2.15 by DHCP and returned")
    finally:
        proc.kill()
        proc.wait()


def check_none(emulator, accel, tmp, extra, name):
    proc, log, _, _ = boot(emulator, accel, tmp, extra)
    try:
        wait_for(lambda: "No bootable device." in read_file(log) or proc.poll() is not None,
                 120, "SeaBIOS to give up booting")
        text = read_file(log)
        assert proc.poll() is None, "kite exited: " + proc.stderr.read().decode()
        assert "Running option rom at c000" not in text and "SeaVGABIOS" not in text, text
        assert "1234:1111" not in text, "a VGA was found on PCI:\n" + text
        print("PASS vga-bios %s: no VGA card, SeaBIOS still boots" % name)
    finally:
        proc.kill()
        proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--emulator", required=True)
    p.add_argument("--accel", default="tcg")
    args = p.parse_args()
    failed = 0
    cases = [("std", lambda t: check_std(args.emulator, args.accel, t)),
             ("boot-sector", lambda t: check_boot_sector(args.emulator, args.accel, t)),
             ("-vga none", lambda t: check_none(args.emulator, args.accel, t,
                                                ["-vga", "none", "-net", "none"],
                                                "-vga none")),
             ("-nodefaults", lambda t: check_none(args.emulator, args.accel, t,
                                                  ["-nodefaults"], "-nodefaults")),
             ("pxe", lambda t: check_pxe(args.emulator, args.accel, t))]
    for name, fn in cases:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                fn(tmp)
            except (AssertionError, OSError, EOFError, ValueError) as e:
                print("FAIL vga-bios %s: %s" % (name, e))
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
