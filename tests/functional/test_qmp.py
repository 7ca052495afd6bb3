#!/usr/bin/env python3
"""QMP over unix sockets: greeting, capabilities negotiation, commands, events, and bad input
(malformed JSON, an oversized message, deep nesting, a client vanishing mid-message) after
which the VM keeps running and a second monitor still answers.  socat as a client.

With --guest-dir (build/tests/guest): run states driven by a guest, the pvpanic test kernel
under each -action panic= (and -no-shutdown), under tcg and kvm (kvm skipped without
/dev/kvm): GUEST_CRASHLOADED, GUEST_PANICKED, STOP/SHUTDOWN as QEMU sends them to every
monitor, query-status guest-panicked/shutdown, cont, system_reset to prelaunch; and under
kvm the mmio-exec kernel's internal-error.

Usage: test_qmp.py --emulator build/kite [--guest-dir build/tests/guest]
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402

results = {"pass": 0, "fail": 0}


def check(name, ok, detail=""):
    results["pass" if ok else "fail"] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)), flush=True)


def raw_qmp(path):
    """A connection for the protocol checks: greeting and negotiation are the caller's."""
    return QMP(path, timeout=30, connect_timeout=10, negotiate=False)


def raw_reply(q):
    """The next reply's bytes as sent (CR LF included), events skipped."""
    while True:
        line = q.recv_raw_line()
        if b'"event"' not in line:
            return line


def accels_or_skip(what):
    """tcg, and kvm when /dev/kvm opens (else a SKIP line naming what is not checked)."""
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return ["tcg", "kvm"]
    except OSError:
        print(f"SKIP {what} (kvm): /dev/kvm cannot be opened")
        return ["tcg"]


def check_machine_commands(q):
    """query-cpus-fast, query-hotpluggable-cpus, query-machines, qom-*, device_add/del."""
    r = q.cmd("query-cpus-fast")["return"]
    check("query-cpus-fast", [c["cpu-index"] for c in r] == [0, 1]
          and all(c["target"] == "x86_64" and c["thread-id"] > 0 and
                  set(c["props"]) >= {"core-id", "socket-id", "thread-id"} for c in r)
          and r[0]["props"] != r[1]["props"], r)
    cpu0 = r[0]["qom-path"]
    # QEMU's pc makes the vCPUs before any other device: the boot CPU is device[0].
    check("query-cpus-fast qom-path", cpu0 == "/machine/unattached/device[0]" and
          r[1]["qom-path"].startswith("/machine/unattached/device["), r)
    r = q.cmd("qom-get", {"path": r[1]["qom-path"], "property": "type"})
    check("qom-get type of a vCPU", r == {"return": "qemu64-x86_64-cpu"}, r)
    r = q.cmd("qom-get", {"path": "/machine", "property": "type"})
    check("machine QOM type", r == {"return": "pc-i440fx-7.2-machine"}, r)
    # An object-valued property: QMP's object, HMP's pretty layout (QEMU 7.2's bytes).
    r = q.cmd("qom-get", {"path": "/machine", "property": "smp"})
    check("qom-get smp", r == {"return": {"cpus": 2, "maxcpus": 3, "threads": 1, "cores": 3,
                                          "dies": 1, "sockets": 1, "clusters": 1}}, r)
    r = q.cmd("human-monitor-command", {"command-line": "qom-get /machine smp"})
    check("HMP qom-get of an object", r == {"return": '{\r\n    "cpus": 2,\r\n    "maxcpus": 3,'
                                            '\r\n    "threads": 1,\r\n    "cores": 3,\r\n    '
                                            '"dies": 1,\r\n    "sockets": 1,\r\n    '
                                            '"clusters": 1\r\n}\r\n'}, r)
    # QEMU's layout: the host bridge at /machine/i440fx with the IOAPIC and pci.0 under it,
    # both peripheral containers present while empty.
    r = q.cmd("qom-list", {"path": "/machine/i440fx"})["return"]
    check("/machine/i440fx", {"name": "ioapic", "type": "child<ioapic>"} in r and
          {"name": "pci.0", "type": "child<PCI>"} in r and
          q.cmd("qom-get", {"path": "/machine/i440fx", "property": "type"}) ==
          {"return": "i440FX-pcihost"}, r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral-anon"})
    check("empty /machine/peripheral-anon", r == {"return": [{"name": "type",
                                                              "type": "string"}]}, r)
    r = q.cmd("query-hotpluggable-cpus")["return"]
    check("query-hotpluggable-cpus: 3 slots, 2 present", len(r) == 3 and
          sum("qom-path" in c for c in r) == 2 and all(c["vcpus-count"] == 1 for c in r)
          and cpu0 in [c.get("qom-path") for c in r]
          and len({c["type"] for c in r}) == 1, r)
    # -smp 2,maxcpus=3 is one socket of three cores (QEMU 7.2 prefers cores), slots listed
    # last first as QEMU does.
    check("query-hotpluggable-cpus: 1 socket, 3 cores",
          [c["props"] for c in r] == [{"core-id": i, "thread-id": 0, "socket-id": 0}
                                      for i in (2, 1, 0)], r)
    r = q.cmd("query-machines")["return"]
    # QEMU 7.2: the current i440FX machine, "pc" its alias.
    pc = [m for m in r if m["name"] == "pc-i440fx-7.2"]
    check("query-machines", len(pc) == 1 and pc[0]["is-default"] is True and
          pc[0].get("alias") == "pc" and
          pc[0]["cpu-max"] >= 2 and "hotpluggable-cpus" in pc[0] and
          pc[0]["default-cpu-type"] == "qemu64-x86_64-cpu", r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral/dbg"})["return"]
    props = {p["name"]: p["type"] for p in r}
    check("qom-list", props.get("type") == "string" and props.get("iobase") == "uint32" and
          props.get("realized") == "bool" and props.get("parent_bus") == "link<bus>", r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral"})["return"]
    check("qom-list children", {"name": "dbg", "type": "child<isa-debug-exit>"} in r, r)
    r = q.cmd("qom-list", {"path": "dbg"})
    check("qom-list partial path", "return" in r, r)
    r = q.cmd("qom-list", {"path": "/machine/nosuch"})
    check("qom-list bad path", r["error"] == {"class": "DeviceNotFound",
                                              "desc": "Device '/machine/nosuch' not found"}, r)
    r = q.cmd("qom-get", {"path": "/machine/peripheral/dbg", "property": "iobase"})
    check("qom-get integer", r == {"return": 0x501}, r)
    r = q.cmd("qom-get", {"path": "/machine/peripheral/dbg", "property": "type"})
    check("qom-get type", r == {"return": "isa-debug-exit"}, r)
    r = [q.cmd("qom-get", {"path": "/machine/peripheral/dbg", "property": p})
         for p in ("realized", "hotplugged", "hotpluggable", "parent_bus")]
    check("qom-get device state", r[:3] == [{"return": True}, {"return": False},
                                            {"return": False}] and
          r[3]["return"].endswith("/isa.0"), r)
    r = q.cmd("qom-set", {"path": "/machine/peripheral/dbg", "property": "realized",
                          "value": False})
    check("qom-set realized refused", "error" in r, r)
    r = q.cmd("qom-get", {"path": "/machine/peripheral", "property": "dbg"})
    check("qom-get child", r == {"return": "/machine/peripheral/dbg"}, r)
    r = q.cmd("qom-get", {"path": "/machine", "property": "nosuch"})
    check("qom-get unknown property", r["error"]["desc"] == "Property 'pc-i440fx-7.2-machine.nosuch' not found"
          and r["error"]["class"] == "GenericError", r)
    r = q.cmd("qom-get", {"path": "/machine"})
    check("qom-get missing property", r["error"]["desc"] == "Parameter 'property' is missing", r)
    r = q.cmd("qom-set", {"path": "/machine", "property": "usb", "value": True})
    r2 = q.cmd("qom-get", {"path": "/machine", "property": "usb"})
    check("qom-set bool", r == {"return": {}} and r2 == {"return": True}, (r, r2))
    r = q.cmd("qom-set", {"path": "/machine", "property": "kernel", "value": "vmlinuz"})
    r2 = q.cmd("qom-get", {"path": "/machine", "property": "kernel"})
    check("qom-set string", r == {"return": {}} and r2 == {"return": "vmlinuz"}, (r, r2))
    r = q.cmd("qom-set", {"path": "/machine", "property": "usb", "value": "x"})
    check("qom-set wrong type", r["error"]["desc"] ==
          "Invalid parameter type for 'usb', expected: boolean", r)
    r = q.cmd("qom-set", {"path": "/machine/peripheral/dbg", "property": "iobase", "value": 1})
    check("qom-set after realize", r["error"]["desc"] == "Attempt to set property 'iobase' on "
          "device 'dbg' (type 'isa-debug-exit') after it was realized", r)
    r = q.cmd("qom-set", {"path": "/machine", "property": "type", "value": "x"})
    check("qom-set read-only", r["error"]["desc"] ==
          "Property 'pc-i440fx-7.2-machine.type' is not writable", r)
    r = q.cmd("qom-set", {"path": "/machine", "property": "usb"})
    check("qom-set missing value", r["error"]["desc"] == "Parameter 'value' is missing", r)
    # No bus here has a hotplug controller yet: QEMU's errors, and nothing changes.
    r = q.cmd("device_add", {"driver": "pci-testdev", "id": "t1"})
    check("device_add on pci.0", r["error"] == {"class": "GenericError", "desc":
          "Bus 'pci.0' does not support hotplugging"}, r)
    r = q.cmd("device_add", {"driver": "isa-serial", "bus": "isa.0", "iobase": 0x2e8})
    check("device_add on isa.0", r["error"]["desc"] == "Bus 'isa.0' does not support hotplugging", r)
    r = q.cmd("device_add", {"driver": "nosuch"})
    check("device_add bad driver", r["error"]["desc"] == "'nosuch' is not a valid device model name",
          r)
    r = q.cmd("device_add", {"driver": "isa-serial", "bus": "nosuch.0"})
    check("device_add bad bus", r["error"] == {"class": "GenericError",
                                               "desc": "Bus 'nosuch.0' not found"}, r)
    # Arguments as QemuOpts take them: scalars as text, other values and a non-string id
    # left out (QEMU 7.2's answers).
    for args, desc in (({"driver": 5}, "'5' is not a valid device model name"),
                       ({"driver": True}, "'on' is not a valid device model name"),
                       ({"driver": [1]}, "Parameter 'driver' is missing"),
                       ({"driver": "isa-serial", "bus": 5}, "Bus '5' not found"),
                       ({"driver": "isa-serial", "id": 5},
                        "Bus 'isa.0' does not support hotplugging")):
        r = q.cmd("device_add", args)
        check(f"device_add {args}", r.get("error") == {"class": "GenericError", "desc": desc},
              r)
    r = q.cmd("device_add", {"id": "x"})
    check("device_add no driver", r["error"]["desc"] == "Parameter 'driver' is missing", r)
    r = q.cmd("qom-list", {"path": "/machine/peripheral"})["return"]
    check("device_add left no device", not any(p["name"] == "t1" for p in r), r)
    r = q.cmd("device_del", {"id": "dbg"})
    check("device_del on isa.0", r["error"]["desc"] == "Bus 'isa.0' does not support hotplugging", r)
    r = q.cmd("device_del", {"id": "nosuch"})
    check("device_del unknown", r["error"] == {"class": "DeviceNotFound",
                                               "desc": "Device 'nosuch' not found"}, r)
    r = q.cmd("qom-get", {"path": "/machine/peripheral/dbg", "property": "iobase"})
    check("device_del left the device", r == {"return": 0x501}, r)


def start(emulator, tmp, args, n_monitors=1):
    """Start the emulator with -S and n QMP monitors; return (proc, [negotiated QMP])."""
    paths = [os.path.join(tmp, f"m{i}") for i in range(n_monitors)]
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)
    mon = ["-qmp", f"unix:{paths[0]},server=on,wait=off"]
    for i, p in enumerate(paths[1:]):
        mon += ["-chardev", f"socket,id=mon{i},path={p},server=on,wait=off",
                "-mon", f"chardev=mon{i},mode=control"]
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "128", "-nodefaults", "-display", "none",
                             "-S"] + mon + args,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    qs = []
    for p in paths:
        # Guest events: KVM on a slow host takes seconds to boot.
        qs.append(QMP(p, timeout=60, connect_timeout=10))
    return proc, qs


def event_names(q, names):
    """Wait for each event in names, in this order; return them."""
    got = []
    for n in names:
        e = q.wait_event(n)
        got.append(e)
    return got


def check_pvpanic(emulator, guest_dir, accel, tmp):
    kernel = os.path.join(guest_dir, "pvpanic.elf")
    base = ["-accel", accel, "-device", "pvpanic", "-kernel", kernel, "-append", "wait=1"]
    tag = f" ({accel})"

    # panic=pause: two monitors both see the events; the VM stops in guest-panicked.
    proc, (q, q2) = start(emulator, tmp, base + ["-action", "panic=pause", "-smp", "2"], 2)
    try:
        q.cmd("cont")
        q.wait_event("RESUME")
        r = q.cmd("query-cpus-fast")["return"]
        tids = [c["thread-id"] for c in r]
        check("query-cpus-fast thread ids" + tag, len(r) == 2 and all(t > 0 for t in tids) and
              proc.pid not in tids and len(set(tids)) == (2 if accel == "kvm" else 1), r)
        for mon, name in ((q, "monitor 1"), (q2, "monitor 2")):
            evs = event_names(mon, ["GUEST_CRASHLOADED", "GUEST_PANICKED", "STOP"])
            check(f"pvpanic pause: events on {name}{tag}",
                  evs[0]["data"] == {"action": "run"} and evs[1]["data"] == {"action": "pause"}
                  and all(set(e["timestamp"]) == {"seconds", "microseconds"} for e in evs), evs)
        r = q.cmd("query-status")
        check("query-status guest-panicked" + tag, r["return"] == {
            "status": "guest-panicked", "running": False, "singlestep": False}, r)
        r = q2.cmd("system_reset")
        e = q2.wait_event("RESET")
        r = q2.cmd("query-status")
        check("system_reset from guest-panicked: prelaunch" + tag,
              r["return"]["status"] == "prelaunch" and e["data"]["reason"] ==
              "host-qmp-system-reset", (r, e))
        q.events.clear()
        q.cmd("cont")
        evs = event_names(q, ["RESUME", "GUEST_PANICKED", "STOP"])
        check("rebooted guest panics again" + tag, evs[1]["data"] == {"action": "pause"}, evs)
        # QEMU lets a panicked guest go on (runstate_needs_reset is shutdown/internal-error).
        r = q.cmd("cont")
        q.wait_event("RESUME")
        r2 = q.cmd("query-status")
        check("cont from guest-panicked" + tag, r == {"return": {}} and
              r2["return"]["status"] == "running", (r, r2))
        q.cmd("quit")
        check("quit after panic" + tag, proc.wait(timeout=30) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # Default panic=shutdown: GUEST_PANICKED poweroff, SHUTDOWN guest-panic, exit 0, no STOP.
    for action, status in ((None, 0), ("exit-failure", 1)):
        extra = ["-action", f"panic={action}"] if action else []
        proc, (q,) = start(emulator, tmp, base + extra)
        try:
            q.cmd("cont")
            evs = event_names(q, ["GUEST_PANICKED", "SHUTDOWN"])
            rc = proc.wait(timeout=30)
            try:
                while True:
                    q.events.append(q.recv_line())
            except (EOFError, OSError):
                pass
            check(f"panic={action or 'shutdown (default)'}: poweroff, exit {status}" + tag,
                  evs[0]["data"] == {"action": "poweroff"} and
                  evs[1]["data"] == {"guest": True, "reason": "guest-panic"} and rc == status
                  and not any(e["event"] == "STOP" for e in q.events), (evs, rc, q.events))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # -no-shutdown: the default panic action pauses; panic=exit-failure shuts down and the
    # process stays, in the shutdown state, until a reset.
    proc, (q,) = start(emulator, tmp, base + ["-no-shutdown"])
    try:
        q.cmd("cont")
        e = q.wait_event("GUEST_PANICKED")
        q.wait_event("STOP")
        check("-no-shutdown: panic pauses" + tag, e["data"] == {"action": "pause"}, e)
        q.cmd("quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pause in (["-no-shutdown"], ["-action", "shutdown=pause"]):
        check_shutdown_pause(emulator, tmp, base, pause, tag + " " + pause[-1])


def check_shutdown_pause(emulator, tmp, base, pause, tag):
    proc, (q,) = start(emulator, tmp, base + pause + ["-action", "panic=exit-failure"])
    try:
        q.cmd("cont")
        evs = event_names(q, ["GUEST_PANICKED", "SHUTDOWN", "STOP"])
        r = q.cmd("query-status")
        check("-no-shutdown: shutdown state, process stays" + tag,
              r["return"]["status"] == "shutdown" and proc.poll() is None, (evs, r))
        r = q.cmd("cont")
        check("cont in shutdown needs reset" + tag, r.get("error") == {
            "class": "GenericError", "desc": "Resetting the Virtual Machine is required"}, r)
        q.cmd("system_reset")
        q.wait_event("RESET")
        r = q.cmd("query-status")
        check("system_reset from shutdown: prelaunch" + tag, r["return"]["status"] == "prelaunch",
              r)
        q.cmd("cont")
        evs = event_names(q, ["RESUME", "GUEST_PANICKED", "SHUTDOWN"])
        check("after reset the guest runs again" + tag, evs[2]["data"]["reason"] == "guest-panic",
              evs)
        q.cmd("quit")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_internal_error(emulator, guest_dir, tmp):
    """KVM cannot fetch instructions from unmapped memory: internal-error, as in QEMU."""
    kernel = os.path.join(guest_dir, "mmio-exec.elf")
    proc, (q,) = start(emulator, tmp, ["-accel", "kvm", "-kernel", kernel])
    try:
        q.cmd("cont")
        q.wait_event("RESUME")
        q.wait_event("STOP")
        r = q.cmd("query-status")
        check("KVM emulation failure: internal-error", r["return"] == {
            "status": "internal-error", "running": False, "singlestep": False}, r)
        r = q.cmd("cont")
        check("cont in internal-error needs reset", r.get("error") == {
            "class": "GenericError", "desc": "Resetting the Virtual Machine is required"}, r)
        q.cmd("system_reset")
        q.wait_event("RESET")
        r = q.cmd("query-status")
        check("system_reset from internal-error: prelaunch", r["return"]["status"] == "prelaunch",
              r)
        q.cmd("cont")
        q.wait_event("RESUME")
        q.wait_event("STOP")
        r = q.cmd("query-status")
        check("after reset the guest runs (and fails) again", r["return"]["status"] ==
              "internal-error", r)
        q.cmd("quit")
        check("quit from internal-error", proc.wait(timeout=30) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_slow_reader(emulator, tmp):
    """A client that sends requests but does not read: the other monitor still answers at
    once, and when the client finally reads, every reply is there and whole (QMP holds
    its input back rather than dropping output)."""
    proc, (a, b) = start(emulator, tmp, [], 2)
    try:
        msg = b'{"execute":"query-commands"}'
        data = msg * 20000
        a.sock.setblocking(False)
        sent = 0
        deadline = time.time() + 10
        while sent < len(data) and time.time() < deadline:
            try:
                sent += a.sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                break
        check("slow reader: Kite stopped taking its requests", sent < len(data), sent)
        r = b.cmd("query-status")
        check("slow reader: other monitor answers", r["return"]["status"] == "prelaunch", r)
        # Now read: a thread drains while the rest of the requests go out.
        import threading
        replies = []
        bad = []

        def reader():
            buf = b""
            a.sock.setblocking(True)
            a.sock.settimeout(120)
            while len(replies) < 20000:
                chunk = a.sock.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        m = json.loads(line)
                        (replies if "return" in m else bad).append(m)
                    except ValueError:
                        bad.append(line[:80])
        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.1)
        a.sock.sendall(data[sent:])
        # 20000 replies (14 MB) parsed one by one: generous on a loaded 2-core machine.
        t.join(300)
        check("slow reader: all 20000 replies whole", len(replies) == 20000 and not bad and
              all(len(x["return"]) > 10 for x in replies), (len(replies), bad[:3]))
        b.cmd("quit")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_no_reboot(emulator, tmp):
    """-no-reboot / -action reboot=shutdown: system_reset ends the VM, as in QEMU."""
    for opt in (["-no-reboot"], ["-action", "reboot=shutdown"]):
        proc, (q,) = start(emulator, tmp, opt)
        try:
            r = q.cmd("system_reset")
            e = q.wait_event("SHUTDOWN")
            check(f"{' '.join(opt)}: system_reset shuts down", r == {"return": {}} and
                  e["data"] == {"guest": False, "reason": "host-qmp-system-reset"} and
                  proc.wait(timeout=20) == 0, (r, e))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def check_query_pci(emulator, tmp):
    """query-pci as QEMU's: the default config's devices, the default NIC's entry in full
    (its BARs unassigned before the firmware runs: address -1)."""
    path = os.path.join(tmp, "pci")
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-display", "none", "-S",
                             "-serial", "null", "-qmp", f"unix:{path},server=on,wait=off",
                             "-device", "virtio-net-pci,id=vn,netdev=u1",
                             "-netdev", "user,id=u1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = QMP(path, timeout=30, connect_timeout=10)
        r = q.cmd("query-pci")["return"]
        devs = r[0]["devices"] if len(r) == 1 and r[0]["bus"] == 0 else []
        check("query-pci devices", [(d["slot"], d["function"], d["class_info"].get("desc"))
                                    for d in devs] ==
              [(0, 0, "Host bridge"), (1, 0, "ISA bridge"), (1, 1, "IDE controller"),
               (1, 3, "Bridge"), (2, 0, "VGA controller"), (3, 0, "Ethernet controller")], r)
        nic = [d for d in devs if d["qdev_id"] == "vn"]
        # -netdev given: no default NIC; the virtio NIC takes 00:03.0.
        check("query-pci virtio-net-pci", len(nic) == 1 and nic[0]["slot"] == 3 and
              nic[0]["id"]["vendor"] == 0x1af4 and nic[0]["irq_pin"] == 1 and
              {(g["bar"], g["type"], g["address"]) for g in nic[0]["regions"]} >=
              {(1, "memory", -1), (4, "memory", -1)}, nic)
        q.close()
    finally:
        proc.kill()
        proc.wait()
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-display", "none", "-S",
                             "-serial", "null", "-qmp", f"unix:{path}2,server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = QMP(path + "2", timeout=30, connect_timeout=10)
        r = q.cmd("query-pci")["return"]
        e1000 = [d for d in r[0]["devices"] if d["slot"] == 3]
        check("query-pci default e1000", e1000 == [{
            "bus": 0, "slot": 3, "function": 0,
            "class_info": {"desc": "Ethernet controller", "class": 512},
            "id": {"vendor": 0x8086, "device": 0x100e, "subsystem-vendor": 0x1af4,
                   "subsystem": 0x1100},
            "irq": 0, "irq_pin": 1, "qdev_id": "",
            "regions": [{"bar": 0, "type": "memory", "address": -1, "size": 0x20000,
                         "prefetch": False, "mem_type_64": False},
                        {"bar": 1, "type": "io", "address": -1, "size": 64},
                        {"bar": 6, "type": "memory", "address": -1, "size": 0x40000,
                         "prefetch": False, "mem_type_64": False}]}], e1000)
        q.close()
    finally:
        proc.kill()
        proc.wait()


def check_socat(emulator, tmp):
    """The issue's client: socat - UNIX-CONNECT:path, commands on its stdin."""
    if not shutil.which("socat"):
        print("SKIP socat: not installed")
        return
    path = os.path.join(tmp, "socat")
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-nodefaults", "-display", "none",
                             "-S", "-qmp", f"unix:{path},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        cmds = [{"execute": "qmp_capabilities"}, {"execute": "query-status", "id": 1},
                {"execute": "query-cpus-fast", "id": 2}, {"execute": "quit", "id": 3}]
        inp = "".join(json.dumps(c) + "\n" for c in cmds)
        # The file appears at bind(), a moment before listen(): socat retries a refused
        # connect (up to 30 s).
        out = subprocess.run(["socat", "-t", "5", "-",
                              f"UNIX-CONNECT:{path},retry=300,interval=0.1"], input=inp,
                             capture_output=True, text=True, timeout=30).stdout
        msgs = [json.loads(line) for line in out.splitlines() if line.strip()]
        replies = {m.get("id"): m for m in msgs if "return" in m}
        check("socat: greeting", msgs and "QMP" in msgs[0], out)
        check("socat: query-status", replies.get(1, {}).get("return", {}).get("status") ==
              "prelaunch", out)
        check("socat: query-cpus-fast", len(replies.get(2, {}).get("return", [])) == 1, out)
        check("socat: quit + SHUTDOWN", 3 in replies and any(
            m.get("event") == "SHUTDOWN" for m in msgs), out)
        check("socat: process exits", proc.wait(timeout=20) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_tcp(emulator, tmp):
    """-qmp tcp:HOST:PORT,server=on,wait=off, and -chardev socket over TCP + -mon
    mode=control,pretty=on: QEMU's bytes on the wire (", " and ": " on one line; pretty=on
    one member a line, four-space indents, CR LF, an empty object on two lines)."""
    import socket
    from kite_guest import free_port
    p1, p2 = free_port(), free_port()
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-nodefaults", "-display", "none",
                             "-S", "-qmp", f"tcp:127.0.0.1:{p1},server=on,wait=off",
                             "-chardev", f"socket,id=pt,host=127.0.0.1,port={p2},server=on,"
                             "wait=off", "-mon", "chardev=pt,mode=control,pretty=on"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def connect(port):
        deadline = time.time() + 10
        while True:
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=30)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def read_until(sock, end):
        buf = b""
        while not buf.endswith(end):
            d = sock.recv(65536)
            if not d:
                break
            buf += d
        return buf
    try:
        a = connect(p1)
        g = read_until(a, b"\r\n")
        check("tcp: greeting bytes", g.startswith(b'{"QMP": {"version": {"qemu": {"micro": ')
              and g.endswith(b'"capabilities": ["oob"]}}\r\n'), g)
        a.sendall(b'{"execute": "qmp_capabilities"}')
        r = read_until(a, b"\r\n")
        check("tcp: qmp_capabilities", r == b'{"return": {}}\r\n', r)
        a.sendall(b'{"execute": "query-status", "id": "t\\u00e9"}')
        r = read_until(a, b"\r\n")
        check("tcp: query-status bytes", r == b'{"return": {"status": "prelaunch", "singlestep": '
              b'false, "running": false}, "id": "t\\u00E9"}\r\n', r)
        b = connect(p2)
        g = read_until(b, b"\r\n}\r\n")
        check("pretty: greeting", g.startswith(b'{\r\n    "QMP": {\r\n        "version": {'), g)
        b.sendall(b'{"execute": "qmp_capabilities"}')
        r = read_until(b, b"\r\n}\r\n")
        check("pretty: empty return", r == b'{\r\n    "return": {\r\n    }\r\n}\r\n', r)
        b.sendall(b'{"execute": "query-status"}')
        r = read_until(b, b"\r\n}\r\n")
        check("pretty: query-status", r == b'{\r\n    "return": {\r\n        "status": '
              b'"prelaunch",\r\n        "singlestep": false,\r\n        "running": false\r\n'
              b'    }\r\n}\r\n', r)
        a.sendall(b'{"execute": "quit"}')
        check("tcp: quit", proc.wait(timeout=20) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_event_order(emulator, tmp, accel):
    """Pipelined commands, read as raw bytes: QEMU runs its main loop between two requests,
    so the events a command causes there (RESET, POWERDOWN, SHUTDOWN) come before its
    reply, and STOP/RESUME (sent by the command itself) before theirs too.  Guest-caused
    events (a reset by the firmware) may come in between and are left out."""
    import socket
    path = os.path.join(tmp, f"order-{accel}")
    if os.path.exists(path):
        os.unlink(path)
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "64", "-nodefaults", "-display",
                             "none", "-accel", accel, "-smp", "2", "-S",
                             "-qmp", f"unix:{path},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX)
                sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(60)
        cmds = ["qmp_capabilities", "cont", "system_reset", "stop", "system_reset",
                "system_powerdown", "cont", "system_powerdown", "quit"]
        sock.sendall(b"".join(b'{"execute": "%s", "id": %d}' % (c.encode(), i)
                              for i, c in enumerate(cmds)))
        data = b""
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
        got = []
        for line in data.split(b"\r\n")[1:]:
            if not line:
                continue
            m = json.loads(line)
            if "event" in m:
                if m.get("data", {}).get("guest") is not True:
                    got.append(m["event"] + ("" if "data" not in m else " " + m["data"]["reason"]))
            else:
                got.append(m["id"] if "return" in m else m)
        want = [0, "RESUME", 1, "RESET host-qmp-system-reset", 2, "STOP", 3,
                "RESET host-qmp-system-reset", 4, "POWERDOWN", 5, "RESUME", 6, "POWERDOWN", 7,
                "SHUTDOWN host-qmp-quit", 8]
        check(f"pipelined commands: events before each reply, as QEMU ({accel})",
              got == want, got)
        check(f"pipelined commands: exit after quit ({accel})", proc.wait(timeout=20) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_board_nic(emulator, tmp):
    """-nic's NIC is the board's in QEMU (pci_nic_init_nofail): /machine/unattached, while a
    -device without id= goes to /machine/peripheral-anon."""
    path = os.path.join(tmp, "nic")
    proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-nodefaults", "-display",
                             "none", "-S", "-nic", "user,model=e1000",
                             "-device", "isa-debug-exit", "-qmp",
                             f"unix:{path},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = QMP(path, timeout=30, connect_timeout=10)
        un = [p["type"] for p in q.cmd("qom-list", {"path": "/machine/unattached"})["return"]]
        anon = q.cmd("qom-list", {"path": "/machine/peripheral-anon"})["return"]
        check("-nic's NIC in /machine/unattached", "child<e1000>" in un, un)
        check("-device without id in /machine/peripheral-anon",
              [p["type"] for p in anon if p["type"].startswith("child<")] ==
              ["child<isa-debug-exit>"], anon)
        q.close()
    finally:
        proc.kill()
        proc.wait()


def check_default_cdrom(emulator, tmp):
    """QEMU's pc has an empty IDE CD-ROM at ide1-cd0 unless -nodefaults or a drive already
    sits at index 2 (-cdrom, -hdc); a disc goes into the empty drive with
    blockdev-change-medium."""
    def block_devices(args, name):
        path = os.path.join(tmp, name)
        proc = subprocess.Popen([emulator, "-M", "pc", "-m", "32", "-display", "none", "-S",
                                 "-serial", "null", "-net", "none",
                                 "-qmp", f"unix:{path},server=on,wait=off"] + args,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, QMP(path, timeout=30, connect_timeout=10)

    iso = os.path.join(tmp, "cd.iso")
    src = os.path.join(tmp, "cdsrc")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "hello.txt"), "w") as f:
        f.write("hello from the default CD-ROM\n")
    tool = shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool:
        subprocess.run([tool, "-quiet", "-V", "KITECD", "-o", iso, src], check=True)
    else:
        with open(iso, "wb") as f:
            f.write(bytes(2048 * 32))
    disk = os.path.join(tmp, "hdc.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)

    proc, q = block_devices([], "cd-default")
    try:
        r = q.cmd("query-block")["return"]
        cd = [d for d in r if d["device"] == "ide1-cd0"]
        check("default CD-ROM: ide1-cd0 empty and removable", len(cd) == 1 and
              cd[0]["removable"] is True and cd[0]["locked"] is False and
              cd[0]["tray_open"] is False and "inserted" not in cd[0], r)
        check("default CD-ROM: the only IDE drive",
              [d["device"] for d in r if d["device"].startswith("ide")] == ["ide1-cd0"], r)
        r = q.cmd("blockdev-change-medium", {"device": "ide1-cd0", "filename": iso,
                                             "format": "raw"})
        check("default CD-ROM: blockdev-change-medium", r == {"return": {}}, r)
        cd = [d for d in q.cmd("query-block")["return"] if d["device"] == "ide1-cd0"]
        check("default CD-ROM: medium inserted", len(cd) == 1 and
              cd[0].get("inserted", {}).get("file") == iso and
              cd[0]["inserted"]["ro"] is True and cd[0]["tray_open"] is False and
              cd[0]["inserted"]["image"]["virtual-size"] == os.path.getsize(iso), cd)
        r = q.cmd("eject", {"device": "ide1-cd0"})
        cd = [d for d in q.cmd("query-block")["return"] if d["device"] == "ide1-cd0"]
        check("default CD-ROM: eject", r == {"return": {}} and len(cd) == 1 and
              "inserted" not in cd[0] and cd[0]["tray_open"] is True, (r, cd))
        q.close()
    finally:
        proc.kill()
        proc.wait()
    # A drive no device holds is "removable", tray closed, as QEMU reports it.
    proc, q = block_devices(["-nodefaults", "-drive", f"if=none,id=lone,file={disk},format=raw"],
                            "cd-lone")
    try:
        r = [d for d in q.cmd("query-block")["return"] if d["device"] == "lone"]
        check("drive without a device: removable, tray closed", len(r) == 1 and
              r[0]["removable"] is True and r[0]["tray_open"] is False and
              r[0]["locked"] is False and "qdev" not in r[0], r)
        q.close()
    finally:
        proc.kill()
        proc.wait()
    for name, args, want in [
            ("-nodefaults", ["-nodefaults"], []),
            ("-cdrom", ["-cdrom", iso], [("ide1-cd0", iso)]),
            ("-hdc", ["-hdc", disk], [("ide1-hd0", disk)]),
            ("-drive index=2", ["-drive", f"file={disk},format=raw,if=ide,index=2"],
             [("ide1-hd0", disk)]),
            ("-hda", ["-hda", disk], [("ide0-hd0", disk), ("ide1-cd0", None)]),
            # As QEMU's: any -device ide-cd/ide-hd suppresses the default drive.
            ("-device ide-cd", ["-drive", "if=none,id=cdx,media=cdrom",
                                "-device", "ide-cd,drive=cdx,bus=ide.1,unit=0"],
             [("cdx", None)]),
            ("-device ide-hd", ["-drive", f"if=none,id=hdx,file={disk},format=raw",
                                "-device", "ide-hd,drive=hdx,bus=ide.0"],
             [("hdx", disk)])]:
        proc, q = block_devices(args, "cd-" + name.strip("-").split()[0])
        try:
            r = q.cmd("query-block")["return"]
            got = [(d["device"], d.get("inserted", {}).get("file")) for d in r]
            check(f"default CD-ROM with {name}", got == want, r)
            q.close()
        finally:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--guest-dir", help="build/tests/guest: run the pvpanic guest tests")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kite-qmp-")
    s1, s2 = os.path.join(tmp, "q1"), os.path.join(tmp, "q2")
    proc = subprocess.Popen([a.emulator, "-M", "pc", "-m", "32", "-nodefaults", "-accel", "tcg",
                             "-S", "-name", "kitevm", "-smp", "2,maxcpus=3",
                             "-device", "isa-debug-exit,id=dbg,iobase=0x501", "-uuid", "12345678-1234-5678-9abc-def012345678",
                             "-qmp", f"unix:{s1},server=on,wait=off",
                             "-chardev", f"socket,id=m2,path={s2},server=on,wait=off",
                             "-mon", "chardev=m2,mode=control"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        q = raw_qmp(s1)
        g = q.recv_line()
        check("greeting", set(g["QMP"]["version"]["qemu"]) == {"micro", "minor", "major"}
              and g["QMP"]["capabilities"] == ["oob"], g)
        r = q.cmd("query-status")
        check("negotiation required", r.get("error", {}).get("class") == "CommandNotFound", r)
        r = q.cmd("nosuch")
        check("unknown command while negotiating", r.get("error") == {
            "class": "CommandNotFound",
            "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}, r)
        r = q.cmd("qmp_capabilities", {"enable": "oob"})
        check("qmp_capabilities enable not an array", r["error"]["desc"] ==
              "Invalid parameter type for 'enable', expected: array", r)
        r = q.cmd("qmp_capabilities", {"enable": ["foo"]})
        check("qmp_capabilities unknown capability", r["error"]["desc"] ==
              "Parameter 'null' does not accept value 'foo'", r)
        r = q.request({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": "x1"})
        check("qmp_capabilities", r == {"return": {}, "id": "x1"}, r)
        q.send_raw(b'{"exec-oob": "query-status", "id": 5}')
        r = q.reply()
        check("exec-oob of a command that is not OOB-safe", r == {"id": 5, "error": {
            "class": "GenericError", "desc": "The command query-status does not support OOB"}},
              r)
        q.send_raw(b'{"exec-oob": "query-status", "execute": "query-status"}')
        r = q.reply()
        check("execute and exec-oob", r["error"]["desc"] ==
              "QMP input member 'execute' clashes with 'exec-oob'", r)
        r = q.cmd("qmp_capabilities")
        check("qmp_capabilities twice", r.get("error", {}).get("class") == "CommandNotFound", r)
        r = q.cmd("query-status")
        check("query-status prelaunch", r["return"] == {"status": "prelaunch", "running": False,
                                                        "singlestep": False}, r)
        r = q.cmd("query-version")
        check("query-version", "qemu" in r["return"] and "package" in r["return"], r)
        r = q.cmd("query-name")
        check("query-name", r["return"] == {"name": "kitevm"}, r)
        r = q.cmd("query-commands")
        names = {c["name"] for c in r["return"]}
        check("query-commands", {"stop", "cont", "quit", "query-status"} <= names, r)
        r = q.cmd("query-uuid")
        check("query-uuid", r["return"] == {"UUID": "12345678-1234-5678-9abc-def012345678"}, r)
        r = q.cmd("query-kvm")
        check("query-kvm", r["return"]["enabled"] is False and "present" in r["return"], r)
        r = q.cmd("query-chardev")
        labels = {c["label"]: c for c in r["return"]}
        check("query-chardev", "m2" in labels and "compat_monitor0" in labels, r)
        r = q.cmd("query-block")
        check("query-block", r["return"] == [], r)
        r = q.cmd("screendump", {"filename": 5})
        check("screendump wrong type", r["error"]["desc"] ==
              "Invalid parameter type for 'filename', expected: string", r)
        r = q.cmd("screendump")
        check("screendump missing arg", r["error"]["desc"] == "Parameter 'filename' is missing", r)
        r = q.cmd("screendump", {"filename": "x", "format": "bmp"})
        check("screendump bad format", r.get("error") == {
            "class": "GenericError", "desc": "Parameter 'format' does not accept value 'bmp'"}, r)
        r = q.cmd("screendump", {"filename": "x", "device": "nosuch"})
        check("screendump unknown device", r.get("error") == {
            "class": "DeviceNotFound", "desc": "Device 'nosuch' not found"}, r)
        r = q.cmd("screendump", {"filename": os.path.join(os.path.dirname(s1), "no.ppm")})
        check("screendump without a display device", r.get("error") == {
            "class": "GenericError", "desc": "There is no console to take a screendump from"}
              and not os.path.exists(os.path.join(os.path.dirname(s1), "no.ppm")), r)
        check_machine_commands(q)
        r = q.cmd("nosuch")
        check("unknown command", r["error"] == {"class": "CommandNotFound",
                                                "desc": "The command nosuch has not been found"}, r)
        r = q.cmd("stop", {"x": 1})
        check("unexpected argument", r["error"]["desc"] == "Parameter 'x' is unexpected", r)
        r = q.cmd("cont")
        e = q.wait_event("RESUME")
        # QEMU's member order, and no "data" member for an event without data.
        check("cont + RESUME", r == {"return": {}} and set(e["timestamp"]) ==
              {"seconds", "microseconds"} and list(e) == ["timestamp", "event"], (r, e))
        r = q.cmd("query-status")
        check("query-status running", r["return"]["status"] == "running", r)
        r = q.cmd("stop")
        q.wait_event("STOP")
        check("stop + STOP", q.cmd("query-status")["return"]["status"] == "paused")
        q.cmd("cont")
        q.wait_event("RESUME")
        q.cmd("system_reset")
        e = q.wait_event("RESET")
        check("system_reset + RESET", e["data"] == {"guest": False,
                                                   "reason": "host-qmp-system-reset"} and
              list(e) == ["timestamp", "event", "data"], e)
        r = q.cmd("system_powerdown")
        e = q.wait_event("POWERDOWN")
        check("system_powerdown + POWERDOWN", r == {"return": {}}, r)

        q.send_raw(b'{"execute" "query-status"}')
        r = q.reply()
        check("malformed JSON", r.get("error", {}).get("class") == "GenericError", r)
        # json-glib behind the splitter's checks answers as QEMU 7.2 does (raw bytes).
        for raw, want in ((b"{'execute': 'query-name', 'id': 'a\"b'}",
                           b'{"return": {"name": "kitevm"}, "id": "a\\"b"}\r\n'),
                          (b'{"execute": "query-name", "id": 18446744073709551615}',
                           b'{"return": {"name": "kitevm"}, "id": 18446744073709551615}\r\n'),
                          (b'{"execute": "query-name", "id": 1, "id": 2}',
                           b'{"error": {"class": "GenericError", "desc": "JSON parse error, '
                           b'duplicate key"}}\r\n'),
                          (b'{"execute": "query-name", "id": "\\x"}',
                           b'{"error": {"class": "GenericError", "desc": "JSON parse error, '
                           b'invalid escape sequence in string"}}\r\n')):
            q.send_raw(raw)
            r = raw_reply(q)
            check("JSON input as QEMU: " + raw.decode(), r == want, r)
        q.send_raw(b'[1, 2]')
        r = q.reply()
        check("not an object", r["error"]["desc"] == "QMP input must be a JSON object", r)
        q.send_raw(b'{"arguments": {}}')
        r = q.reply()
        check("missing execute", r["error"]["desc"] == "QMP input lacks member 'execute'", r)

        # A second client on monitor 2 is unaffected by what follows on monitor 1.
        q2 = raw_qmp(s2)
        q2.recv_line()
        q2.cmd("qmp_capabilities")
        q2.send_raw(b'{"exec-oob": "query-status"}')
        r = q2.reply()
        check("exec-oob without oob enabled", r["error"]["desc"] ==
              "QMP input member 'exec-oob' is unexpected", r)

        q.send_raw(b"[" * 2000 + b"]" * 2000)
        check("deep nesting closes", q.closed())
        q = raw_qmp(s1)
        q.recv_line()
        q.cmd("qmp_capabilities")
        try:
            q.send_raw(b'{"execute": "x", "arguments": {"a": "' + b"a" * (70 << 20) + b'"}}')
        except (BrokenPipeError, ConnectionResetError):
            pass
        check("70 MiB message closes", q.closed())
        q = raw_qmp(s1)
        q.recv_line()
        q.send_raw(b'{"execute": "qmp_capab')
        q.sock.close()
        q = raw_qmp(s1)
        q.recv_line()
        r = q.cmd("qmp_capabilities")
        check("client vanishing mid-message", r == {"return": {}}, r)
        r = q2.cmd("query-status")
        check("second monitor still works, VM running", r["return"]["status"] == "running", r)

        r = q2.cmd("quit")
        e = q2.wait_event("SHUTDOWN")
        check("quit + SHUTDOWN", e["data"] == {"guest": False, "reason": "host-qmp-quit"}, e)
        check("process exits", proc.wait(timeout=20) == 0)
    except Exception as ex:  # noqa: BLE001 - report any failure as a test failure
        check("exception", False, repr(ex))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out = proc.stdout.read().decode(errors="replace")
        if results["fail"]:
            print(out[-2000:])
    for what, fn in (("query-pci", check_query_pci), ("default CD-ROM", check_default_cdrom),
                     ("socat", check_socat), ("tcp", check_tcp), ("board NIC", check_board_nic), ("no-reboot", check_no_reboot),
                     ("slow reader", check_slow_reader)):
        try:
            fn(a.emulator, tmp)
        except Exception as ex:  # noqa: BLE001
            check(what + " exception", False, repr(ex))
    for accel in accels_or_skip("event order"):
        try:
            check_event_order(a.emulator, tmp, accel)
        except Exception as ex:  # noqa: BLE001
            check(f"event order exception ({accel})", False, repr(ex))
    if a.guest_dir:
        accels = accels_or_skip("pvpanic")
        for accel in accels:
            try:
                check_pvpanic(a.emulator, a.guest_dir, accel, tmp)
            except Exception as ex:  # noqa: BLE001
                check(f"pvpanic exception ({accel})", False, repr(ex))
        # The interpreter has no fatal path (every guest fault is architectural), so
        # internal-error is reached through KVM only.
        if "kvm" in accels:
            try:
                check_internal_error(a.emulator, a.guest_dir, tmp)
            except Exception as ex:  # noqa: BLE001
                check("internal-error exception", False, repr(ex))
    print(f"{results['pass']} passed, {results['fail']} failed")
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
