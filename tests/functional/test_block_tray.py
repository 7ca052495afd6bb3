#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CD tray and medium QMP commands on an ide-cd, with QEMU 7.2's semantics (no guest runs).

The tray and the medium move separately: blockdev-open-tray / blockdev-close-tray move the
tray (DEVICE_TRAY_MOVED each time it really moves), blockdev-remove-medium /
blockdev-insert-medium take the medium out or put a -blockdev node in, only while the tray
is open; eject and blockdev-change-medium are made of those steps.  Each error reply is
QEMU's.  The guest-locked tray is covered by tests/unit/test-ide.c (it needs ATAPI packets).

Runs against QEMU too, which is how the expectations were checked:
    test_block_tray.py --emulator qemu-system-x86_64 --accel tcg

Usage: test_block_tray.py --emulator build/kite
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP, QMPError  # noqa: E402


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def err(q, name, want_class, want_desc, **args):
    r = q.cmd(name, args)
    check("error" in r, "%s %s: expected an error, got %s" % (name, args, r))
    check(r["error"]["class"] == want_class and r["error"]["desc"] == want_desc,
          "%s %s: got %s, want %s %r" % (name, args, r["error"], want_class, want_desc))


def ok(q, name, **args):
    r = q.cmd(name, args)
    check(r.get("return") == {}, "%s %s: %s" % (name, args, r))


def drive(q, name):
    for b in q.command("query-block"):
        if b["device"] == name:
            return b
    raise Fail("no drive %s in query-block" % name)


def state(q, name):
    """(tray_open, inserted file or None) as query-block reports it."""
    b = drive(q, name)
    ins = b.get("inserted")
    return b.get("tray_open"), ins["file"] if ins else None


def tray_events(q):
    """DEVICE_TRAY_MOVED events so far (device, id, tray-open), then forgotten.  A cheap
    command first: events sent before its reply are in q.events once it returns."""
    q.command("query-status")
    ev = [(e["data"]["device"], e["data"]["id"], e["data"]["tray-open"])
          for e in q.events if e["event"] == "DEVICE_TRAY_MOVED"]
    q.events = [e for e in q.events if e["event"] != "DEVICE_TRAY_MOVED"]
    return ev


def run(emulator, accel, d):
    iso = os.path.join(d, "a.iso")
    iso2 = os.path.join(d, "b.iso")
    hd = os.path.join(d, "hd.img")
    for p in (iso, iso2, hd):
        with open(p, "wb") as f:
            f.truncate(2048 * 64)
    sock = os.path.join(d, "qmp.sock")
    argv = [emulator, "-M", "pc", "-nodefaults", "-display", "none", "-S", "-accel", accel,
            "-qmp", "unix:%s,server=on,wait=off" % sock,
            "-drive", "if=none,id=cd0,file=%s,format=raw,media=cdrom,readonly=on" % iso,
            "-device", "ide-cd,drive=cd0,bus=ide.1,unit=0,id=cd",
            "-device", "ide-cd,bus=ide.1,unit=1,id=cd2",
            "-blockdev", "driver=raw,node-name=newcd,read-only=on,"
                         "file.driver=file,file.filename=%s" % iso2,
            "-drive", "if=none,id=hd0,file=%s,format=raw" % hd,
            "-device", "ide-hd,drive=hd0,bus=ide.0,unit=0,id=hd"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            q = QMP(sock)
        except OSError:
            p.kill()
            raise Fail("no QMP socket: %s" % p.communicate()[0].decode(errors="replace"))
        check(state(q, "cd0") == (False, iso), "start: %s" % (state(q, "cd0"),))

        # Open: the tray moves, the medium stays in.  Opening again is a no-op.
        ok(q, "blockdev-open-tray", id="cd")
        check(tray_events(q) == [("cd0", "cd", True)], "open-tray event")
        check(state(q, "cd0") == (True, iso), "open: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-open-tray", device="cd0")
        check(tray_events(q) == [], "second open moved the tray")
        err(q, "blockdev-insert-medium", "GenericError",
            "There already is a medium in the device", id="cd", **{"node-name": "newcd"})

        # Remove (twice: the second finds it empty), then the insert errors.
        ok(q, "blockdev-remove-medium", id="cd")
        check(state(q, "cd0") == (True, None), "removed: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-remove-medium", id="cd")
        err(q, "blockdev-insert-medium", "GenericError", "Node 'nosuch' not found",
            id="cd", **{"node-name": "nosuch"})
        err(q, "blockdev-insert-medium", "DeviceNotFound", "Device 'nosuch' not found",
            id="nosuch", **{"node-name": "newcd"})

        # Closed on nothing: the tray moves; nothing goes in or out through a closed tray.
        ok(q, "blockdev-close-tray", id="cd")
        check(tray_events(q) == [("cd0", "cd", False)], "close-tray event")
        check(state(q, "cd0") == (False, None), "closed empty: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-close-tray", id="cd")
        check(tray_events(q) == [], "second close moved the tray")
        err(q, "blockdev-insert-medium", "GenericError", "Tray of the device is not open",
            id="cd", **{"node-name": "newcd"})
        err(q, "blockdev-remove-medium", "GenericError", "Tray of device 'cd' is not open",
            id="cd")

        # The -blockdev node goes in, and cannot go into a second drive as well.
        ok(q, "blockdev-open-tray", id="cd")
        ok(q, "blockdev-insert-medium", id="cd", **{"node-name": "newcd"})
        check(state(q, "cd0") == (True, iso2), "inserted: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-close-tray", id="cd")
        check(tray_events(q) == [("cd0", "cd", True), ("cd0", "cd", False)], "insert events")
        check(state(q, "cd0") == (False, iso2), "closed on it: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-open-tray", id="cd2")
        err(q, "blockdev-insert-medium", "GenericError", "Node 'newcd' is already in use",
            id="cd2", **{"node-name": "newcd"})
        ok(q, "blockdev-close-tray", id="cd2")
        tray_events(q)

        # A disk has no tray and no removable medium.
        for cmd in ("blockdev-open-tray", "blockdev-close-tray", "eject"):
            err(q, cmd, "GenericError", "Device 'hd' is not removable", id="hd")
        err(q, "eject", "GenericError", "Device 'hd0' is not removable", device="hd0")
        err(q, "blockdev-remove-medium", "GenericError", "Device 'hd' is not removable",
            id="hd")
        err(q, "blockdev-open-tray", "DeviceNotFound", "Device 'nosuch' not found",
            device="nosuch")
        check(tray_events(q) == [], "events from failed commands")

        # eject = open the tray + take the medium out; change-medium = the whole round.
        ok(q, "eject", id="cd")
        check(tray_events(q) == [("cd0", "cd", True)], "eject events")
        check(state(q, "cd0") == (True, None), "ejected: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-change-medium", id="cd", filename=iso, format="raw")
        check(tray_events(q) == [("cd0", "cd", False)], "change from open tray events")
        check(state(q, "cd0") == (False, iso), "changed: %s" % (state(q, "cd0"),))
        ok(q, "blockdev-change-medium", device="cd0", filename=iso2, format="raw")
        check(tray_events(q) == [("cd0", "cd", True), ("cd0", "cd", False)],
              "change from closed tray events")
        check(state(q, "cd0") == (False, iso2), "changed again: %s" % (state(q, "cd0"),))
        q.command("quit")
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--accel", default="qtest", help="tcg for QEMU (no qtest in Debian's)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        try:
            run(args.emulator, args.accel, d)
        except (Fail, QMPError) as e:
            print("not ok 1 tray-qmp # %s" % e)
            return 1
    print("ok 1 tray-qmp")
    return 0


if __name__ == "__main__":
    sys.exit(main())
