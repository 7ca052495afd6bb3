#!/usr/bin/env python3
"""A real ENOSPC from the host file system and the -drive werror= actions (issue 5: "werror=
stop|report|ignore with ENOSPC -> stop by default").

Kite runs in a private mount namespace (unshare -m) with its raw image on a 1 MiB tmpfs that
a filler file has used up.  Over the qtest protocol a PIO WRITE SECTORS on the PIIX3 IDE disk
then fails in the host's pwrite with ENOSPC:
  - default (werror=enospc): the VM stops (query-status "io-error"), BLOCK_IO_ERROR says
    action "stop" and nospace; after the filler is removed, "cont" retries the request, which
    completes, and the sector reads back;
  - werror=report: the guest sees ERR (status DRDY|ERR) and the VM keeps running;
  - werror=ignore: the guest sees success, the VM keeps running.
Needs root (or unprivileged user namespaces) for the tmpfs; skipped otherwise.

Usage: test_enospc.py --emulator build/kite
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

IDE_DEVFN = 0x09                      # 00:01.1
LBA = 100
SECTOR = bytes((i * 7 + 3) & 0xff for i in range(512))


class QTest:
    """The qtest text protocol: 'outb 0x1f2 0x1' -> 'OK', 'inb 0x1f7' -> 'OK 0x50'."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def cmd(self, line):
        self.conn.sendall(line.encode() + b"\n")
        while True:
            while b"\n" not in self.buf:
                data = self.conn.recv(65536)
                if not data:
                    raise RuntimeError("kite closed the qtest connection")
                self.buf += data
            reply, self.buf = self.buf.split(b"\n", 1)
            reply = reply.decode()
            if reply.startswith("IRQ "):
                continue
            if not reply.startswith("OK"):
                raise RuntimeError(f"qtest {line!r}: {reply}")
            return reply[3:]

    def outb(self, port, v):
        self.cmd(f"outb {port:#x} {v:#x}")

    def outw(self, port, v):
        self.cmd(f"outw {port:#x} {v:#x}")

    def outl(self, port, v):
        self.cmd(f"outl {port:#x} {v:#x}")

    def inb(self, port):
        return int(self.cmd(f"inb {port:#x}"), 0)

    def inw(self, port):
        return int(self.cmd(f"inw {port:#x}"), 0)


def ide_wait(qt, timeout=20):
    """Alternate Status until BSY clears; then the status register."""
    deadline = time.monotonic() + timeout
    while qt.inb(0x3f6) & 0x80:
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)
    return qt.inb(0x1f7)


def ide_cmd(qt, cmd):
    qt.outb(0x1f6, 0xe0)
    qt.outb(0x1f2, 1)
    qt.outb(0x1f3, LBA & 0xff)
    qt.outb(0x1f4, LBA >> 8)
    qt.outb(0x1f5, 0)
    qt.outb(0x1f7, cmd)


def ide_write(qt):
    """WRITE SECTORS (ATA8-ACS 7.67), one sector of SECTOR at LBA; returns the status after
    the data phase was handed over (BSY may still be set: the write is in flight)."""
    ide_cmd(qt, 0x30)
    st = ide_wait(qt)
    if st is None or not st & 0x08:
        raise RuntimeError(f"no DRQ for WRITE SECTORS (status {st})")
    for i in range(0, 512, 2):
        qt.outw(0x1f0, SECTOR[i] | SECTOR[i + 1] << 8)


def ide_read(qt):
    ide_cmd(qt, 0x20)
    st = ide_wait(qt)
    if st is None or not st & 0x08:
        raise RuntimeError(f"no DRQ for READ SECTORS (status {st})")
    out = bytearray()
    for _ in range(256):
        w = qt.inw(0x1f0)
        out += bytes((w & 0xff, w >> 8))
    return bytes(out)


def start(emulator, tmp, werror):
    mnt = os.path.join(tmp, "mnt")
    os.makedirs(mnt, exist_ok=True)
    qsock = os.path.join(tmp, "qtest.sock")
    msock = os.path.join(tmp, "qmp.sock")
    for p in (qsock, msock):
        if os.path.exists(p):
            os.unlink(p)
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(qsock)
    lsock.listen(1)
    drive = f"file={mnt}/disk.img,format=raw,if=ide" + (f",werror={werror}" if werror else "")
    script = (f"mount -t tmpfs -o size=1m kite-enospc {mnt} || exit 77; "
              f"truncate -s 8M {mnt}/disk.img && "
              f"{{ dd if=/dev/zero of={mnt}/fill bs=4k 2>/dev/null; true; }} && "
              f"exec {emulator} -qtest unix:{qsock} -display none -M pc -nodefaults "
              f"-qmp unix:{msock},server=on,wait=off -drive {drive}")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                             script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lsock.settimeout(30)
    try:
        conn, _ = lsock.accept()
    except socket.timeout:
        proc.kill()
        out, err = proc.communicate()
        if proc.returncode == 77:
            return None, None, None, "cannot mount a tmpfs here: " + err.strip()
        raise RuntimeError("kite did not connect: " + err)
    finally:
        lsock.close()
    conn.settimeout(30)
    qt = QTest(conn)
    # What the firmware does: I/O decode and bus mastering on the IDE function.
    qt.outl(0xcf8, 0x80000000 | IDE_DEVFN << 8 | 0x04)
    qt.outl(0xcfc, 0x05)
    q = QMP(msock, timeout=30, connect_timeout=30)
    return proc, qt, q, None


def stop(proc, qt, q):
    q.close()
    qt.conn.close()                   # Kite exits when its qtest peer goes away
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def case_stop(emulator, tmp):
    proc, qt, q, skip = start(emulator, tmp, None)
    if skip:
        return skip
    try:
        ide_write(qt)
        ev = q.wait_event("BLOCK_IO_ERROR")["data"]
        if ev.get("action") != "stop" or ev.get("nospace") is not True or \
           ev.get("operation") != "write":
            return f"BLOCK_IO_ERROR {ev}, expected a stop on nospace"
        st = q.command("query-status")
        if st.get("status") != "io-error" or st.get("running"):
            return f"query-status {st}, expected io-error"
        # Space again (the filler lives in Kite's mount namespace), then cont: the parked
        # request is retried and completes.
        subprocess.run(["nsenter", "-t", str(proc.pid), "-m", "rm",
                        os.path.join(tmp, "mnt", "fill")], check=True)
        q.command("cont")
        st = ide_wait(qt)
        if st != 0x50:
            return f"status {st} after cont, expected 0x50 (DRDY DSC)"
        if not q.command("query-status").get("running"):
            return "not running after cont"
        if ide_read(qt) != SECTOR:
            return "the retried write did not reach the image"
        return None
    finally:
        stop(proc, qt, q)


def case_action(emulator, tmp, werror, want_status):
    proc, qt, q, skip = start(emulator, tmp, werror)
    if skip:
        return skip
    try:
        ide_write(qt)
        st = ide_wait(qt)
        if st != want_status:
            return f"status {st}, expected {want_status:#x}"
        ev = q.wait_event("BLOCK_IO_ERROR")["data"]
        # QEMU leaves "nospace" out where the policy does not tell ENOSPC apart.
        if ev.get("action") != werror or ev.get("operation") != "write" or \
           "nospace" in ev or ev.get("reason") != "No space left on device":
            return f"BLOCK_IO_ERROR {ev}, expected action {werror} on nospace"
        if not q.command("query-status").get("running"):
            return "the VM stopped"
        return None
    finally:
        stop(proc, qt, q)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    args = ap.parse_args()
    for tool in ("unshare", "nsenter"):
        if not shutil.which(tool):
            print(f"SKIP enospc: {tool} not installed")
            return 77
    failed = skipped = 0
    cases = [("enospc-stops-by-default", lambda t: case_stop(args.emulator, t)),
             ("enospc-werror-report", lambda t: case_action(args.emulator, t, "report", 0x41)),
             ("enospc-werror-ignore", lambda t: case_action(args.emulator, t, "ignore", 0x50))]
    for name, fn in cases:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                why = fn(tmp)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                why = f"{type(e).__name__}: {e}"
        if why and why.startswith("cannot mount"):
            print(f"SKIP {name}: {why}")
            skipped += 1
        elif why:
            print(f"FAIL {name}: {why}")
            failed += 1
        else:
            print(f"PASS {name}")
    if failed:
        return 1
    return 77 if skipped == len(cases) else 0


if __name__ == "__main__":
    sys.exit(main())
