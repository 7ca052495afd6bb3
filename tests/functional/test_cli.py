#!/usr/bin/env python3
"""Kite's command line: help listings, QEMU option syntax, and one-line errors with
exit status 1 for bad options and values.

Usage: test_cli.py --emulator build/kite
Prints PASS/FAIL per case and "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import subprocess
import sys

# (name, args, expected exit status, text that must appear in stdout+stderr; "!text": text
# that must not appear)
CASES = [
    ("version", ["-version"], 0, "Kite emulator version"),
    ("help", ["-h"], 0, "-device"),
    ("machine-help", ["-M", "help"], 0, "pc "),
    ("device-help", ["-device", "help"], 0, 'name "isa-serial"'),
    ("device-props", ["-device", "isa-debug-exit,help"], 0, "iobase=<uint32>"),
    ("accel-help", ["-accel", "help"], 0, "tcg"),
    ("cpu-help", ["-cpu", "help"], 0, "qemu64"),
    ("object-help", ["-object", "help"], 0, "iothread"),
    ("chardev-help", ["-chardev", "help"], 0, "socket"),
    ("log-help", ["-d", "help"], 0, "guest_errors"),
    ("dump-tree", ["-M", "pc,dump-tree", "-nodefaults", "-device", "isa-debug-exit",
                   "-global", "isa-debug-exit.iobase=0x600"], 0, "iobase = 1536"),
    # The HPET (QEMU's pc default), -machine hpet=off and QEMU's old -no-hpet.
    ("hpet-default", ["-M", "pc,dump-tree", "-nodefaults"], 0, 'dev: hpet, id ""'),
    ("hpet-off", ["-M", "pc,hpet=off,dump-tree", "-nodefaults"], 0, "!dev: hpet"),
    ("no-hpet", ["-no-hpet", "-M", "pc,dump-tree", "-nodefaults"], 0, "!dev: hpet"),
    ("no-hpet-after", ["-M", "pc,dump-tree", "-nodefaults", "-no-hpet"], 0, "!dev: hpet"),
    ("hpet-bad", ["-M", "pc,hpet=maybe"], 1, "'hpet' expects 'on' or 'off'"),
    ("dump-tree-cpus", ["-M", "pc,dump-tree", "-nodefaults", "-smp", "2", "-serial", "null"],
     0, "dev: isa-serial"),
    # PCI addr= mistakes in QEMU's words.
    ("pci-addr-in-use", ["-M", "pc,dump-tree", "-nodefaults", "-device",
     "virtio-rng-pci,addr=3,id=r0", "-device", "virtio-rng-pci,addr=3"], 1,
     "PCI: slot 3 function 0 not available for virtio-rng-pci, in use by virtio-rng-pci,id=r0"),
    ("pci-addr-host-bridge", ["-M", "pc,dump-tree", "-nodefaults", "-device",
     "virtio-rng-pci,addr=0"], 1,
     "PCI: slot 0 function 0 not available for virtio-rng-pci, in use by i440FX,id=(null)"),
    ("pci-addr-bad", ["-M", "pc,dump-tree", "-nodefaults", "-device",
     "virtio-rng-pci,addr=0x20"], 1, "Property 'virtio-rng-pci.addr' doesn't take value '0x20'"),
    ("bad-option", ["-frobnicate"], 1, "-frobnicate: invalid option"),
    ("missing-arg", ["-m"], 1, "-m: requires an argument"),
    ("bad-size", ["-m", "12Q"], 1, "-m 12Q"),
    # -smp with QEMU 7.2's rules and messages.
    ("bad-smp", ["-smp", "cpus=2,sockets=1,cores=1,threads=1,maxcpus=2"], 1,
     "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * "
     "dies (1) * cores (1) * threads (1) != maxcpus (2)"),
    ("smp-threads-derived", ["-smp", "3,sockets=2,cores=2"], 1,
     "sockets (2) * dies (1) * cores (2) * threads (0) != maxcpus (3)"),
    ("smp-maxcpus", ["-smp", "2,maxcpus=1"], 1,
     "maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (1) * "
     "threads (1) == maxcpus (1) < smp_cpus (2)"),
    ("smp-too-many", ["-smp", "300"], 1, "Invalid SMP CPUs 300. The max CPUs supported by"),
    ("smp-clusters", ["-smp", "2,clusters=2"], 1,
     "clusters not supported by this machine's CPU topology"),
    ("smp-zero", ["-M", "pc,dump-tree", "-nodefaults", "-smp", "cpus=0,sockets=2"], 0,
     "Deprecated CPU topology (considered invalid): CPU topology parameters must be "
     "greater than zero"),
    ("bad-machine", ["-M", "nosuch"], 1, "unsupported machine type 'nosuch'"),
    ("bad-machine-prop", ["-M", "pc,frob=1", "-nodefaults"], 1, "frob"),
    ("bad-device", ["-device", "nosuch"], 1, "'nosuch' is not a valid device model name"),
    ("bad-device-prop", ["-nodefaults", "-device", "isa-debug-exit,iobase=zz"], 1,
     "iobase"),
    ("unknown-device-prop", ["-nodefaults", "-device", "isa-debug-exit,colour=red"], 1,
     "colour"),
    ("bad-global", ["-global", "isa-serial.nosuch=1"], 1, "no property 'nosuch'"),
    ("bad-global-syntax", ["-global", "isa-serial"], 1, "TYPE.PROPERTY=VALUE"),
    ("bad-accel", ["-accel", "warp"], 1, "invalid accelerator 'warp'"),
    ("drive-missing-file", ["-drive", "file=/nonexistent/x.img,format=raw"], 1,
     "Could not open '/nonexistent/x.img'"),
    ("netdev-bad-type", ["-netdev", "nosuch,id=n"], 1, "'type' does not accept value 'nosuch'"),
    ("netdev-no-type", ["-netdev", "id=n"], 1, "'type' is missing"),
    ("netdev-help", ["-netdev", "help"], 0, "Available netdev backend types"),
    ("legacy-net", ["-net", "nic"], 1, "use -nic or -netdev"),
    ("nic-bad-mac", ["-nic", "none,mac=zz"], 1, "mac"),
    ("netdev-socket-none", ["-netdev", "socket,id=s"], 1, "exactly one of listen="),
    ("netdev-socket-port", ["-netdev", "socket,id=s,listen=:x"], 1, "invalid port"),
    ("netdev-user-hostfwd", ["-netdev", "user,id=u,hostfwd=tcp::22"], 1,
     "Invalid host forwarding rule"),
    ("netdev-user-net", ["-netdev", "user,id=u,net=10.0.2.0/33"], 1, "net"),
    ("netdev-user-dhcp", ["-netdev", "user,id=u,dhcpstart=192.168.1.5"], 1,
     "not in the guest network"),
    ("netdev-user-guestfwd-syntax", ["-netdev", "user,id=u,guestfwd=udp:10.0.2.100:1234-cmd:cat"],
     1, "Invalid guest forwarding rule 'udp:10.0.2.100:1234-cmd:cat'"),
    ("netdev-user-guestfwd-port", ["-netdev", "user,id=u,guestfwd=tcp:10.0.2.100:0-null"], 1,
     "Invalid guest forwarding rule"),
    ("netdev-user-guestfwd-host", ["-netdev", "user,id=u,guestfwd=tcp:10.0.2.2:1234-cmd:cat"],
     1, "Conflicting/invalid host:port in guest forwarding rule"),
    ("netdev-user-guestfwd-outside", ["-netdev", "user,id=u,guestfwd=tcp:10.9.9.9:1-null"], 1,
     "Conflicting/invalid host:port in guest forwarding rule"),
    ("netdev-user-guestfwd-twice", ["-netdev", "user,id=u,guestfwd=tcp::80-cmd:cat,"
                                    "guestfwd=tcp:10.0.2.4:80-null"], 1, "Conflicting"),
    ("netdev-user-guestfwd-dev", ["-netdev", "user,id=u,guestfwd=tcp::80-chardev:nosuch"], 1,
     "Could not open guest forwarding device 'guestfwd.tcp.80': chardev 'nosuch' not found"),
    ("netdev-tap-vnet", ["-netdev", "tap,id=t,vnet_hdr=maybe"], 1, "vnet_hdr"),
    ("netdev-tap-fd", ["-netdev", "tap,id=t,fd=3"], 1, "not supported"),
    ("netdev-in-use", ["-nodefaults", "-netdev", "socket,id=s,listen=127.0.0.1:0",
                       "-device", "virtio-net-pci,netdev=s",
                       "-device", "virtio-net-pci,netdev=s"], 1, "in use"),
    ("bad-vnc", ["-vnc", "nodisplay"], 1, "expected [host]:display"),
    ("bad-vnc-option", ["-vnc", ":0,bogus=1"], 1, "unsupported option 'bogus=1'"),
    ("bad-vnc-websocket", ["-vnc", ":0,websocket=abc"], 1, "websocket=abc: expected on"),
    ("bad-vnc-websocket-port", ["-vnc", ":0,websocket=127.0.0.1:70000"], 1, "expected on"),
    ("bad-kernel", ["-nodefaults", "-accel", "qtest", "-kernel", "/etc/hostname"], 1,
     "kernel"),
    ("missing-kernel", ["-nodefaults", "-kernel", "/nonexistent/vmlinuz"], 1, "nonexistent"),
    ("initrd-without-kernel", ["-initrd", "/etc/hostname"], 1, "need -kernel"),
    ("bad-chardev", ["-chardev", "socket,id=c0,port=notaport"], 1, "port"),
    ("bad-serial", ["-serial", "bogus:thing"], 1, "bogus"),
    ("bad-gdb", ["-nodefaults", "-gdb", "bogus:thing"], 1, "-gdb bogus:thing"),
    ("bad-gdb-port", ["-nodefaults", "-gdb", "tcp::notaport"], 1, "invalid port"),
    ("bad-object", ["-object", "iothread"], 1, "'id' is missing"),
    ("bad-uuid", ["-uuid", "xyz"], 1, "not a valid UUID"),
    ("bad-action-value", ["-action", "panic=foo"], 1,
     "-action panic=foo: Parameter 'panic' does not accept value 'foo'"),
    ("bad-action-key", ["-action", "foo=1"], 1, "-action foo=1: Invalid parameter 'foo'"),
    ("bad-cpu", ["-nodefaults", "-cpu", "pentium9"], 1, "pentium9"),
    ("vga-help", ["-vga", "help"], 0, "standard VGA (default)"),
    ("bad-vga", ["-vga", "frob"], 1, "unknown vga type: frob"),
    ("qemu-only-vga", ["-vga", "cirrus"], 1, "-vga cirrus: not supported"),
    ("default-vga", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null"], 0,
     'dev: VGA, id ""'),
    ("missing-vga-rom", ["-M", "pc", "-accel", "qtest", "-serial", "null", "-vga", "none",
                         "-device", "VGA,romfile=nosuch.rom"], 1,
     "could not find the VGA option ROM 'nosuch.rom'"),
    # QEMU's default NIC on pc: -nic user,model=e1000, unless -net/-nic/-netdev/-nodefaults.
    ("default-nic", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null"], 0,
     'dev: e1000, id ""\n        addr = \n        multifunction = off\n'
     '        mac = 52:54:00:12:34:56\n        netdev = __org.qemu.nic0'),
    ("net-none", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null", "-net", "none"],
     0, "!dev: e1000"),
    ("nic-none", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null", "-nic", "none"],
     0, "!dev: e1000"),
    ("netdev-no-default-nic", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null",
                               "-netdev", "user,id=u0"], 0, "!dev: e1000"),
    ("nodefaults-no-nic", ["-M", "pc,dump-tree", "-accel", "qtest", "-nodefaults"], 0,
     "!dev: e1000"),
    ("default-nic-first", ["-M", "pc,dump-tree", "-accel", "qtest", "-serial", "null",
                           "-device", "e1000,id=mine"], 0,
     'mac = 52:54:00:12:34:56\n        netdev = __org.qemu.nic0'),
    ("display-help", ["-display", "help"], 0, "none"),
    ("bad-display", ["-display", "frob"], 1, "-display frob: unknown display type"),
    ("bad-display-option", ["-display", "sdl,frob=1"], 1, "frob"),
    ("bad-window-close", ["-display", "sdl,window-close=maybe"], 1, "expects 'on' or 'off'"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    args = ap.parse_args()
    passed = failed = 0
    for name, argv, status, text in CASES:
        try:
            p = subprocess.run([args.emulator] + argv, capture_output=True, text=True,
                               timeout=30)
            out = p.stdout + p.stderr
            why = None
            if p.returncode != status:
                why = f"exit status {p.returncode}, expected {status}"
            elif text.startswith("!") and text[1:] in out:
                why = f"output has {text[1:]!r}"
            elif not text.startswith("!") and text not in out:
                why = f"output lacks {text!r}"
            elif status == 1 and len(p.stderr.strip().splitlines()) > 2:
                why = "error is not short: " + p.stderr.strip().replace("\n", " | ")
        except subprocess.TimeoutExpired:
            why, out = "timed out", ""
        if why:
            failed += 1
            print(f"FAIL {name}: {why}\n    $ kite {' '.join(argv)}\n    " +
                  out.strip().replace("\n", "\n    "))
        else:
            passed += 1
            print(f"PASS {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
