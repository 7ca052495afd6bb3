#!/usr/bin/env bash
# Build the Linux functional-test guest from Debian packages only:
#   OUTDIR/vmlinuz    Debian's stock kernel (the package linux-image-amd64 depends on)
#   OUTDIR/initrd.gz  busybox-static, an /init script, and the kernel's modules for
#                     virtio, e1000, PIIX/AHCI disks, ATAPI CD-ROMs (sr_mod, isofs) and
#                     ext4 (with their dependencies); also, not loaded at boot, bochs-drm
#                     (bochs.ko and its DRM/TTM helpers) for tests that 'modprobe bochs'
#   OUTDIR/kernel-version, OUTDIR/busybox-version   what went in
#
#   scripts/build-linux-guest.sh [--force] OUTDIR      (normally OUTDIR = build/guest)
#
# Cached: does nothing if OUTDIR/vmlinuz and OUTDIR/initrd.gz are newer than this script
# (and than the /init template below, which lives in this script).  Downloaded .debs are
# kept in OUTDIR/debs.  Needs apt-get (runs 'apt-get update' if the package index is
# empty), dpkg-deb, cpio and gzip; as root on a fresh Debian 12 it installs cpio if missing.
#
# /init behaviour, chosen by the kernel command line (see tests/functional/README.rst):
#   default                 load modules, print "KITE-GUEST-READY uptime=<s>", run a shell
#                           on the console; leaving the shell powers off
#   kite.autorun=poweroff   print the marker, then 'poweroff -f' (ACPI S5)
#   kite.autorun=cpuloop    print the marker, time a shell arithmetic loop of
#                           kite.loops=N iterations (default 30000) against /proc/uptime,
#                           print "KITE-CPULOOP iterations=N seconds=S", then power off
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

say() { echo "build-linux-guest: $*" >&2; }
die() { echo "build-linux-guest: error: $*" >&2; exit 1; }

force=0
if [ "${1:-}" = "--force" ]; then
    force=1
    shift
fi
[ $# -eq 1 ] || die "usage: $0 [--force] OUTDIR"
outdir=$1
self=$(readlink -f "$0")

if [ $force = 0 ] && [ "$outdir/vmlinuz" -nt "$self" ] && [ "$outdir/initrd.gz" -nt "$self" ]; then
    say "$outdir/vmlinuz and initrd.gz are up to date ($(cat "$outdir/kernel-version" 2>/dev/null))"
    exit 0
fi

# Modules /init loads, in this order (modprobe pulls in modules.dep dependencies).
# crc32c_generic and crct10dif_generic are soft dependencies of ext4 and crc-t10dif
# (sd_mod), which busybox modprobe does not follow, so they are listed first.
wanted_modules="crc32c_generic crct10dif_generic
    virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
    virtio_blk virtio_net virtio_console virtio_rng virtio_scsi
    e1000 scsi_mod sd_mod cdrom sr_mod libata ata_piix ata_generic ahci ext4 isofs"
# Modules shipped in the initramfs (with their dependencies) but loaded only by a test that
# asks ('modprobe bochs'): binding bochs-drm replaces the firmware framebuffer console,
# which every other boot keeps, and DRM init costs interpreter time.
ondemand_modules="bochs"

for tool in apt-get apt-cache dpkg-deb gzip find sort; do
    command -v $tool >/dev/null || die "$tool not found (this script needs a Debian system)"
done
if ! command -v cpio >/dev/null; then
    say "installing cpio"
    apt-get install -y -q cpio >/dev/null || die "cannot install cpio (apt-get install cpio)"
fi

mkdir -p "$outdir/debs"
outdir=$(readlink -f "$outdir")
work=$(mktemp -d "$outdir/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- resolve and download the packages ------------------------------------------------
# Failures return 1 with the reason in $work/why, so the caller can refresh a stale
# package index (security updates retire old kernel ABIs from the mirror) and retry once.
fetch_deb() {
    # Keep one .deb per package in debs/; fetch it only if that version is not there yet.
    local pkg=$1 ver file
    ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        echo "no installable version of $pkg in the package index" >"$work/why"
        return 1
    fi
    file=$( (ls "$outdir/debs/${pkg}_"*.deb 2>/dev/null || true) |
           while read -r f; do
               [ "$(dpkg-deb -f "$f" Version)" = "$ver" ] && echo "$f"
           done | head -1 || true)
    if [ -z "$file" ]; then
        say "downloading $pkg $ver"
        if ! (cd "$work" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$work/apt.err"); then
            echo "apt-get download $pkg=$ver failed: $(grep -v '^W:' "$work/apt.err" | tail -2)" >"$work/why"
            return 1
        fi
        rm -f "$outdir/debs/${pkg}_"*.deb
        mv "$work/${pkg}_"*.deb "$outdir/debs/"
        file=$(ls "$outdir/debs/${pkg}_"*.deb)
    fi
    echo "$file"
}
get_packages() {
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
           awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$kpkg" ]; then
        echo "the package index cannot resolve linux-image-amd64 to a versioned kernel package" >"$work/why"
        return 1
    fi
    kdeb=$(fetch_deb "$kpkg") && bbdeb=$(fetch_deb busybox-static)
}
if ! get_packages; then
    say "$(cat "$work/why"); running apt-get update and retrying"
    apt-get update -q >"$work/update.log" 2>&1 ||
        die "apt-get update failed (no network or no Debian mirror?): $(grep -E '^(E|W):' "$work/update.log" | tail -1)"
    get_packages || die "$(cat "$work/why")"
fi
kver=${kpkg#linux-image-}

say "kernel $kpkg ($(dpkg-deb -f "$kdeb" Version)), busybox-static ($(dpkg-deb -f "$bbdeb" Version))"
dpkg-deb -x "$kdeb" "$work/kernel"
dpkg-deb -x "$bbdeb" "$work/busybox"
bb=$work/busybox/bin/busybox
[ -x "$bb" ] || die "busybox-static package has no bin/busybox"
kmod=lib/modules/$kver
[ -d "$work/kernel/$kmod" ] || die "$kdeb has no /$kmod"
[ -f "$work/kernel/boot/vmlinuz-$kver" ] || die "$kdeb has no /boot/vmlinuz-$kver"

# --- module dependency closure ----------------------------------------------------------
# The package ships no modules.dep (depmod runs at install time); generate one with
# busybox's depmod, which needs no kmod on the host.
say "computing module dependencies"
"$bb" depmod -b "$work/kernel" "$kver" || die "depmod failed"
depfile=$work/kernel/$kmod/modules.dep

rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,mnt,"$kmod"}
: >"$rootfs/etc/kite-modules"
for name in $wanted_modules $ondemand_modules; do
    # Module names treat '-' and '_' alike (virtio_rng is virtio-rng.ko).
    pat=$(echo "$name" | sed 's/[-_]/[-_]/g')
    line=$(grep -E "(^|/)${pat}\.ko(\.[a-z]+)?:" "$depfile" || true)
    if [ -z "$line" ]; then
        if grep -qE "(^|/)${pat}\.ko" "$work/kernel/$kmod/modules.builtin"; then
            continue    # built into this kernel: nothing to load
        fi
        die "module $name is neither a module nor built into $kver"
    fi
    case " $(echo $ondemand_modules) " in
        *" $name "*) ;;
        *) echo "$name" >>"$rootfs/etc/kite-modules" ;;
    esac
    for f in ${line/:/}; do
        mkdir -p "$rootfs/$kmod/$(dirname "$f")"
        cp -n "$work/kernel/$kmod/$f" "$rootfs/$kmod/$f"
    done
done
# busybox insmod reads plain ELF; decompress in case a kernel ships compressed modules
# (Debian 12 ships them uncompressed).
while read -r f; do
    case $f in
        *.xz) xz -d "$f" || die "cannot decompress $f (install xz-utils)" ;;
        *.zst) zstd -q --rm -d "$f" || die "cannot decompress $f (install zstd)" ;;
        *.gz) gzip -d "$f" ;;
    esac
done < <(find "$rootfs/$kmod" -name '*.ko.*')
cp "$work/kernel/$kmod/modules.builtin" "$work/kernel/$kmod/modules.order" "$rootfs/$kmod/"
"$bb" depmod -b "$rootfs" "$kver" || die "depmod on the initramfs failed"

# --- busybox and /init ------------------------------------------------------------------
cp "$bb" "$rootfs/bin/busybox"
"$bb" --list-full | while read -r applet; do
    [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done

cat >"$rootfs/init" <<'EOF'
#!/bin/sh
# Kite functional-test guest init (written by scripts/build-linux-guest.sh).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp

# A driver whose device is absent loads and binds nothing; only a module that fails to
# load is reported.
while read -r m; do
    modprobe -q "$m" || echo "kite-init: modprobe $m failed"
done </etc/kite-modules

autorun= loops=30000
for arg in $(cat /proc/cmdline); do
    case $arg in
        kite.autorun=*) autorun=${arg#kite.autorun=} ;;
        kite.loops=*) loops=${arg#kite.loops=} ;;
    esac
done

read -r up _ </proc/uptime
echo "KITE-GUEST-READY uptime=$up"

case $autorun in
    poweroff)
        poweroff -f
        ;;
    cpuloop)
        read -r t0 _ </proc/uptime
        i=0 acc=0
        while [ $i -lt "$loops" ]; do
            acc=$(( (acc * 31 + i) % 1000003 ))
            i=$((i + 1))
        done
        read -r t1 _ </proc/uptime
        echo "KITE-CPULOOP iterations=$loops seconds=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') checksum=$acc"
        poweroff -f
        ;;
    '')
        ;;
    *)
        echo "kite-init: unknown kite.autorun=$autorun, starting a shell"
        ;;
esac

# cttyhack opens the real console (ttyS0) so the shell gets a controlling tty and job
# control; setsid makes it a session leader.  Leaving the shell powers the guest off.
setsid cttyhack sh -l
echo "kite-init: shell exited, powering off"
poweroff -f
EOF
chmod 755 "$rootfs/init"
cat >"$rootfs/etc/profile" <<'EOF'
PS1='kite-guest:\w# '
export PS1
EOF

# --- pack --------------------------------------------------------------------------------
say "packing initramfs"
(cd "$rootfs" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) \
    >"$work/initrd.gz" || die "cpio/gzip failed"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
echo "$kver" >"$work/kernel-version"
dpkg-deb -f "$bbdeb" Version >"$work/busybox-version"
mv "$work/vmlinuz" "$work/initrd.gz" "$work/kernel-version" "$work/busybox-version" "$outdir/"
say "wrote $outdir/vmlinuz ($kver) and $outdir/initrd.gz ($(du -k "$outdir/initrd.gz" | cut -f1) KiB," \
    "$(wc -l <"$rootfs/etc/kite-modules") modules)"
