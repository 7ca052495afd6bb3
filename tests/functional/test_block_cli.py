#!/usr/bin/env python3
"""-drive, -blockdev, -hda/-cdrom and -snapshot on Kite's command line: valid drives open
(the machine is built and dumped), mistakes give a one-line error and exit status 1, never
a crash, and a second Kite writing the same image is refused by the image lock.

Usage: test_block_cli.py --emulator build/kite
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

DUMP = ["-M", "pc,dump-tree", "-nodefaults", "-accel", "qtest"]


def devices(emulator):
    p = subprocess.run([emulator, "-device", "help"], capture_output=True, text=True,
                       timeout=30)
    return p.stdout + p.stderr


def if_cases(emulator_path, img, img2, devs):
    """Drives for the board's interfaces: taken by a device when Kite has it, else the
    error QEMU gives for a drive no device took."""
    out = []
    if '"ide-hd"' in devs:
        out.append(("hda", DUMP + ["-hda", img], 0, "dev:"))
    else:
        out.append(("hda-orphan", DUMP + ["-hda", img], 1,
                    "machine type does not support if=ide,bus=0,unit=0"))
    if '"ide-cd"' in devs:
        out.append(("cdrom", DUMP + ["-cdrom", img2], 0, "dev:"))
        out.append(("cdrom-empty", DUMP + ["-drive", "if=ide,index=2,media=cdrom"], 0,
                    "dev:"))
    else:
        out.append(("cdrom-orphan", DUMP + ["-cdrom", img2], 1,
                    "machine type does not support if=ide,bus=1,unit=0"))
    formats = subprocess.run([emulator_path, "-drive", "format=help"], capture_output=True,
                             text=True, timeout=30).stdout
    snap = DUMP + ["-snapshot", "-drive", f"file={img},format=raw,if=none,id=s0"]
    if " qcow2" in formats:
        out.append(("snapshot", snap, 0, "dev:"))
    else:
        out.append(("snapshot-needs-qcow2", snap, 1, "snapshot=on needs the qcow2 driver"))
    if '"virtio-blk-pci"' in devs:
        out.append(("drive-virtio", DUMP + ["-drive", f"file={img},format=raw,if=virtio"], 0,
                    "virtio-blk"))
    else:
        out.append(("drive-virtio-missing", DUMP + ["-drive",
                    f"file={img},format=raw,if=virtio"], 1, "needs the virtio-blk-pci device"))
    return out


def cases(img, img2):
    # (name, args, expected exit status, text that must appear in stdout+stderr)
    return [
        ("format-help", ["-drive", "format=help"], 0, "Supported formats:"),
        ("drive-raw", DUMP + ["-drive", f"file={img},format=raw,if=none,id=d0"], 0, "dev:"),
        ("drive-probe-warns", DUMP + ["-drive", f"file={img},if=none"], 0,
         "probing guessed raw"),
        ("drive-all-options", DUMP + ["-drive",
         f"file={img},format=raw,if=none,index=1,cache=writethrough,aio=threads,"
         "werror=stop,rerror=report,discard=unmap"], 0, "dev:"),
        ("drive-cache-unsafe", DUMP + ["-drive",
         f"file={img},format=raw,cache=unsafe,if=none"], 0, "dev:"),
        ("drive-cache-none", DUMP + ["-drive",
         f"file={img},format=raw,cache=none,if=none"], 0, "dev:"),
        ("drive-cdrom-none", DUMP + ["-drive", "if=none,id=cd,media=cdrom"], 0, "dev:"),
        ("drive-bad-id", DUMP + ["-drive", f"file={img},if=none,id=9x"], 1,
         "Parameter 'id' expects an identifier"),
        ("blockdev", DUMP + ["-blockdev",
         f"driver=raw,node-name=n0,file.driver=file,file.filename={img}"], 0, "dev:"),
        ("blockdev-json", DUMP + ["-blockdev",
         '{"driver":"raw","node-name":"n0","file":{"driver":"file","filename":"%s"}}' % img],
         0, "dev:"),
        ("blockdev-file-ref", DUMP + [
            "-blockdev", f"driver=file,node-name=f0,filename={img}",
            "-blockdev", "driver=raw,node-name=r0,file=f0"], 0, "dev:"),
        ("drive-missing", DUMP + ["-drive", "file=/nonexistent/d.img,format=raw"], 1,
         "Could not open '/nonexistent/d.img': No such file or directory"),
        ("drive-bad-format", DUMP + ["-drive", f"file={img},format=vmdk99"], 1,
         "Unknown driver 'vmdk99'"),
        ("drive-bad-if", DUMP + ["-drive", f"file={img},if=scsi"], 1, "if=scsi"),
        ("drive-bad-cache", DUMP + ["-drive", f"file={img},format=raw,cache=maybe"], 1,
         "invalid cache option 'maybe'"),
        ("drive-aio-native-needs-direct", DUMP + ["-drive",
         f"file={img},format=raw,aio=native"], 1, "aio=native was specified, but it requires "
         "cache.direct=on, which was not specified."),
        ("drive-aio-native", DUMP + ["-drive", f"file={img},format=raw,aio=native,cache=none"],
         0, "dev:"),
        ("drive-aio-bogus", DUMP + ["-drive", f"file={img},format=raw,aio=fast"], 1,
         "Invalid parameter 'aio': 'fast'"),
        ("drive-aio-io-uring", DUMP + ["-drive", f"file={img},format=raw,aio=io_uring"], 0,
         "dev:"),
        ("virtio-blk-no-iothread", DUMP + [
            "-drive", f"file={img},format=raw,if=none,id=d0",
            "-device", "virtio-blk-pci,drive=d0,iothread=nope"], 1,
         "Property 'virtio-blk-pci.iothread' can't find value 'nope'"),
        ("virtio-blk-iothread", DUMP + [
            "-object", "iothread,id=io0", "-drive", f"file={img},format=raw,if=none,id=d0",
            "-device", "virtio-blk-pci,drive=d0,iothread=io0"], 0, "virtio-blk-pci"),
        ("drive-bad-werror", DUMP + ["-drive", f"file={img},format=raw,werror=panic"], 1,
         "'panic' invalid write error action"),
        ("drive-bad-discard", DUMP + ["-drive", f"file={img},format=raw,discard=maybe"], 1,
         "Invalid discard option 'maybe'"),
        ("drive-unknown-key", DUMP + ["-drive", f"file={img},format=raw,colour=red"], 1,
         "'colour'"),
        ("drive-dup-id", DUMP + ["-drive", f"file={img},format=raw,if=none,id=a,readonly=on",
                                 "-drive", f"file={img},format=raw,if=none,id=a,readonly=on"],
         1, "Duplicate ID 'a'"),
        ("drive-dup-index", DUMP + ["-drive", f"file={img},format=raw,index=0,readonly=on",
                                    "-drive", f"file={img2},format=raw,index=0"], 1,
         "exists"),
        ("drive-index-and-unit", DUMP + ["-drive", f"file={img},index=1,unit=0"], 1,
         "index cannot be used with bus and unit"),
        ("drive-no-file", DUMP + ["-drive", "if=none,id=x"], 1, "needs a file"),
        ("drive-dir", DUMP + ["-drive", "file=/,format=raw"], 1, "directory"),
        # As QEMU: a raw -drive locks only once a device uses it, and the error names it.
        ("drive-write-lock", DUMP + ["-drive", f"file={img},format=raw,if=none,id=a",
                                     "-drive", f"file={img},format=raw,if=none,id=b",
                                     "-device", "virtio-blk-pci,drive=a",
                                     "-device", "virtio-blk-pci,drive=b"], 1,
         'Failed to get "write" lock\nIs another process using the image [%s]?' % img),
        ("drive-nodev-no-lock", DUMP + ["-drive", f"file={img},format=raw,if=none,id=a",
                                        "-drive", f"file={img},format=raw,if=none,id=b"],
         0, "dev:"),
        ("drive-locking-off", DUMP + [
            "-drive", f"file={img},format=raw,if=none,id=a,file.locking=off",
            "-drive", f"file={img},format=raw,if=none,id=b,file.locking=off"], 0, "dev:"),
        ("blockdev-no-node-name", DUMP + ["-blockdev", f"driver=raw,file.filename={img}"], 1,
         "'node-name' must be specified"),
        ("blockdev-no-driver", DUMP + ["-blockdev", "node-name=n0"], 1,
         "Parameter 'driver' is missing"),
        ("blockdev-bad-json", DUMP + ["-blockdev", '{"driver":'], 1, "JSON"),
        ("blockdev-bad-ref", DUMP + ["-blockdev", "driver=raw,node-name=r0,file=nope"], 1,
         "nope"),
        ("blockdev-dup-node", DUMP + [
            "-blockdev", f"driver=file,node-name=f0,filename={img},read-only=on",
            "-blockdev", f"driver=file,node-name=f0,filename={img2}"], 1,
         "Duplicate nodes with node-name='f0'"),
        ("blockdev-bad-node-name", DUMP + ["-blockdev",
         f"driver=file,node-name=0bad,filename={img}"], 1, "Invalid node-name"),
    ]


def qcow2_image(path, mutate=None):
    """A valid empty qcow2 v3 image (64 KiB clusters, 1 MiB, header + refcount table +
    refcount block + L1 table), written after mutate(bytearray) changed it."""
    b = bytearray(0x40000)
    struct.pack_into(">IIQIIQIIQQIIQQQQII", b, 0, 0x514649fb, 3, 0, 0, 16, 1 << 20, 0, 1,
                     0x30000, 0x10000, 1, 0, 0, 0, 0, 0, 4, 104)
    struct.pack_into(">Q", b, 0x10000, 0x20000)               # refcount table -> block
    for i in range(4):                                         # clusters 0-3 in use
        struct.pack_into(">H", b, 0x20000 + 2 * i, 1)
    if mutate:
        b = mutate(b)
    with open(path, "wb") as f:
        f.write(b)
    return path


def malformed_cases(d):
    """Malformed qcow2 images on -drive: Kite exits 1 with a clear error (never a crash)."""
    def put(off, v):
        return lambda b: b[:off] + struct.pack(">Q", v) + b[off + 8:]
    imgs = [("qcow2-good", None, 0, "dev:"),
            ("qcow2-truncated", lambda b: b[:50], 1, "truncated"),
            ("qcow2-header-only", lambda b: b[:0x10000], 1, "beyond the end of the image file"),
            ("qcow2-l1-beyond-eof", put(40, 0x7fff0000), 1, "beyond the end of the image file"),
            ("qcow2-refcount-table-wraps", put(48, 0xfffffffffff00000), 1,
             "Reference count table"),
            ("qcow2-l1-in-header", put(40, 0), 1, "overlaps the image header"),
            ("qcow2-corrupt-bit", put(72, 2), 1, "Image is corrupt; cannot be opened "
             "read/write"),
            ("qcow2-corrupt-bit-readonly", put(72, 2), 0, "dev:")]
    out = []
    for name, mutate, status, text in imgs:
        path = qcow2_image(os.path.join(d, name + ".qcow2"), mutate)
        ro = ",readonly=on" if name.endswith("readonly") else ""
        out.append((name, DUMP + ["-drive", f"file={path},format=qcow2,if=none,id=q{ro}"],
                    status, text))
    return out


def run_case(emulator, name, argv, status, text):
    try:
        p = subprocess.run([emulator] + argv, capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        if p.returncode != status:
            return f"exit status {p.returncode}, expected {status}", out
        if text not in out:
            return f"output lacks {text!r}", out
        # Warnings (raw probing) may precede it; the error itself is one or two lines.
        errors = [ln for ln in p.stderr.strip().splitlines()
                  if not ln.startswith("kite: warning:") and not ln.startswith(" ")]
        if status == 1 and len(errors) > 2:
            return "error is not short", out
        return None, out
    except subprocess.TimeoutExpired:
        return "timed out", ""


def start_holder(emulator, img, drive_opts, extra=()):
    """A Kite that keeps img open and locked (paused); returns once its monitor answers.
    Drives are opened and locked while the machine is built, before the monitor runs; the
    image's fd showing in /proc came a moment before the locks, too early on a busy host
    (the second process could get in first)."""
    qmp_path = img + ".qmp"
    holder = subprocess.Popen([emulator, "-nodefaults", "-accel", "qtest", "-S", "-display",
                               "none", "-drive", f"file={img},{drive_opts}",
                               "-qmp", f"unix:{qmp_path},server=on,wait=off"] + list(extra),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with QMP(qmp_path, timeout=30, connect_timeout=30) as q:
            q.cmd("query-status")
    except (OSError, EOFError):
        pass        # the holder died or hung: the caller's checks say so
    return holder


def force_share(emulator, d):
    """kite-img on a qcow2 image a running Kite writes: refused with qemu-img's message and
    hint; -U / --force-share opens it anyway (read-only only), as qemu-img -U."""
    kite_img = os.path.join(os.path.dirname(os.path.abspath(emulator)), "kite-img")
    img = os.path.join(d, "shared.qcow2")
    p = subprocess.run([kite_img, "create", "-q", "-f", "qcow2", img, "1M"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode:
        return "kite-img create failed", p.stderr
    holder = start_holder(emulator, img, "format=qcow2,if=none,id=d0")
    try:
        checks = [
            (["info", img], 1, 'Could not open \'%s\': Failed to get shared "write" lock\n'
             'Is another process using the image [%s]?\n' % (img, img)),
            (["info", "-U", img], 0, "file format: qcow2"),
            (["info", "--force-share", "--output=json", img], 0, '"format": "qcow2"'),
            (["check", "-U", img], 0, "No errors were found on the image."),
            (["map", "-U", img], 0, "Offset"),
            (["compare", "-U", img, img], 0, "Images are identical."),
            (["check", "-U", "-r", "all", img], 1,
             "force-share=on can only be used with read-only images"),
        ]
        for args, status, text in checks:
            p = subprocess.run([kite_img] + args, capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            if p.returncode != status or text not in out:
                return f"kite-img {' '.join(args)}: status {p.returncode}, lacks {text!r}", out
        if holder.poll() is not None:
            return "the holder exited: " + holder.stderr.read(), ""
        return None, ""
    finally:
        holder.kill()
        holder.wait()


def two_processes(emulator, img):
    """A running Kite's device holds the write lock: a second Kite's device is refused, and
    QEMU too; a -drive no device uses, and kite-img info, are not (as with QEMU)."""
    kite_img = os.path.join(os.path.dirname(os.path.abspath(emulator)), "kite-img")
    holder = start_holder(emulator, img, "format=raw,if=none,id=d0",
                          ["-device", "virtio-blk-pci,drive=d0"])
    try:
        for name, extra, status, text in [
                ("device", ["-device", "virtio-blk-pci,drive=d1"], 1,
                 'Failed to get "write" lock'),
                ("device-readonly", ["-device", "virtio-blk-pci,drive=d1"], 1,
                 'Failed to get shared "write" lock'),
                ("no-device", [], 0, "dev:")]:
            ro = ",readonly=on" if name == "device-readonly" else ""
            why, out = run_case(emulator, "second", DUMP + [
                "-drive", f"file={img},format=raw,if=none,id=d1{ro}"] + extra, status, text)
            if why:
                return f"second Kite, {name}: {why}", out
        p = subprocess.run([kite_img, "info", "-f", "raw", img], capture_output=True,
                           text=True, timeout=30)
        if p.returncode:
            return "kite-img info on the raw image was refused", p.stderr
        qemu_io = shutil.which("qemu-io")
        if qemu_io:
            p = subprocess.run([qemu_io, "-f", "raw", "-c", "write 0 512", img],
                               capture_output=True, text=True, timeout=30)
            if p.returncode == 0 or "lock" not in p.stderr:
                return "qemu-io was not refused: " + p.stderr, ""
        if holder.poll() is not None:
            return "the first Kite exited: " + holder.stderr.read(), ""
        return None, ""
    finally:
        holder.kill()
        holder.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    args = ap.parse_args()
    passed = failed = 0
    devs = devices(args.emulator)
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        img2 = os.path.join(d, "disk2.img")
        for p in (img, img2):
            with open(p, "wb") as f:
                f.truncate(1 << 20)
        tests = [(n, lambda a=a, s=s, t=t: run_case(args.emulator, n, a, s, t))
                 for n, a, s, t in cases(img, img2) +
                 if_cases(args.emulator, img, img2, devs) + malformed_cases(d)]
        tests.append(("two-processes", lambda: two_processes(args.emulator, img)))
        tests.append(("force-share", lambda: force_share(args.emulator, d)))
        for name, fn in tests:
            why, out = fn()
            if why:
                failed += 1
                print(f"FAIL {name}: {why}\n    " + out.strip().replace("\n", "\n    "))
            else:
                passed += 1
                print(f"PASS {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
