#!/usr/bin/env bash
# Linux boot benchmark: Debian's kernel + the busybox initramfs of
# scripts/build-linux-guest.sh, booted to its marker and powered off (kite.autorun=poweroff)
# under Kite and under qemu-system-x86_64 -accel tcg -M pc, then once more with
# kite.autorun=cpuloop (a shell arithmetic loop timed inside the guest with /proc/uptime).
# Prints per run: wall time to the KITE-GUEST-READY marker, total wall time, peak RSS; then
# medians and the Kite/QEMU ratios.  Never asserts on timings: exit status is 0 unless the
# QEMU reference itself fails or the guest cannot be built.
#
#   scripts/bench/boot-linux.sh [--kite PATH] [--runs N] [--loops N] [--no-cpuloop]
#                               [--kite-accel ACCEL] [--guest-dir DIR] [--timeout S]
#
#   --kite PATH      Kite binary (default build/kite)
#   --runs N         boots per emulator (default 3)
#   --loops N        cpuloop iterations (default 30000)
#   --kite-accel A   -accel for Kite (default tcg, i.e. its interpreter)
#   --timeout S      per-run limit (default 600)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/bench/lib.sh"

kite=$src/build/kite
runs=3
loops=30000
cpuloop=1
kite_accel=tcg
guest_dir=$src/build/guest
limit=600
while [ $# -gt 0 ]; do
    case $1 in
        --kite) kite=$2; shift ;;
        --runs) runs=$2; shift ;;
        --loops) loops=$2; shift ;;
        --no-cpuloop) cpuloop=0 ;;
        --kite-accel) kite_accel=$2; shift ;;
        --guest-dir) guest_dir=$2; shift ;;
        --timeout) limit=$2; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
    shift
done

bench_need_time
command -v qemu-system-x86_64 >/dev/null || bench_die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
"$src/scripts/build-linux-guest.sh" "$guest_dir" || bench_die "cannot build the guest"
kver=$(cat "$guest_dir/kernel-version")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Same machine for both: the pc board, 256 MiB, console on stdio, no NIC.
guest_args=(-M pc -m 256 -kernel "$guest_dir/vmlinuz" -initrd "$guest_dir/initrd.gz"
            -nographic -no-reboot -net none)
cmdline="console=ttyS0 panic=-1 quiet"

# run_emulator LABEL ACCEL BINARY: boots, prints results, sets global R_* medians.
# Returns 1 (and sets R_WHY) if the emulator did not reach the marker and power off.
run_emulator() {
    local label=$1 accel=$2 bin=$3 i markers=() walls=() rsss=() up
    R_WHY= R_MARKER= R_WALL= R_RSS= R_LOOP=
    for i in $(seq 1 "$runs"); do
        bench_run "$tmp/$label.$i" "$limit" "$bin" -accel "$accel" "${guest_args[@]}" \
            -append "$cmdline kite.autorun=poweroff"
        if [ -z "$BENCH_MARKER" ] || [ "$BENCH_RC" != 0 ] ||
           ! grep -q 'reboot: Power down' "$tmp/$label.$i.console"; then
            R_WHY="run $i: exit status $BENCH_RC$([ "$BENCH_RC" = 124 ] && echo " (timed out after $limit s)")"
            [ -z "$BENCH_MARKER" ] && R_WHY="$R_WHY, no marker"
            local last
            last=$(bench_tail "$tmp/$label.$i.err")
            [ -n "$last" ] || last=$(bench_tail "$tmp/$label.$i.console")
            [ -n "$last" ] && R_WHY="$R_WHY: $last"
            return 1
        fi
        up=$(grep -ao 'KITE-GUEST-READY uptime=[0-9.]*' "$tmp/$label.$i.console" | head -1)
        printf '%-5s run %d: marker %7.2f s, total %7.2f s, peak RSS %7d KiB  (guest %s)\n' \
            "$label" "$i" "$BENCH_MARKER" "$BENCH_WALL" "$BENCH_RSS" "${up#KITE-GUEST-READY }"
        markers+=("$BENCH_MARKER") walls+=("$BENCH_WALL") rsss+=("$BENCH_RSS")
    done
    R_MARKER=$(bench_median "${markers[@]}")
    R_WALL=$(bench_median "${walls[@]}")
    R_RSS=$(bench_median "${rsss[@]}")
    printf '%-5s median: marker %7.2f s, total %7.2f s, peak RSS %7.0f KiB\n' \
        "$label" "$R_MARKER" "$R_WALL" "$R_RSS"
    if [ $cpuloop = 1 ]; then
        bench_run "$tmp/$label.loop" "$limit" "$bin" -accel "$accel" "${guest_args[@]}" \
            -append "$cmdline kite.autorun=cpuloop kite.loops=$loops"
        local l
        l=$(grep -ao 'KITE-CPULOOP iterations=[0-9]* seconds=[0-9.]*' "$tmp/$label.loop.console" | head -1)
        if [ -n "$l" ]; then
            R_LOOP=${l##*seconds=}
            printf '%-5s cpuloop: %s iterations of shell arithmetic in %s s guest time (%s iterations/s)\n' \
                "$label" "$loops" "$R_LOOP" \
                "$(awk -v n="$loops" -v s="$R_LOOP" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "inf" }')"
        else
            printf '%-5s cpuloop: no result (exit status %s)\n' "$label" "$BENCH_RC"
        fi
    fi
    return 0
}

echo "boot-linux: kernel $kver, initrd $(du -k "$guest_dir/initrd.gz" | cut -f1) KiB," \
     "$runs run(s) each, cmdline \"$cmdline kite.autorun=...\""
echo "qemu: $(qemu-system-x86_64 --version | head -1), -accel tcg"
if ! run_emulator qemu tcg qemu-system-x86_64; then
    echo "qemu: FAILED ($R_WHY)"
    exit 1
fi
q_marker=$R_MARKER q_wall=$R_WALL q_rss=$R_RSS q_loop=$R_LOOP

if [ ! -x "$kite" ]; then
    echo "kite: not runnable yet ($kite not built)"
    exit 0
fi
echo "kite: $kite, -accel $kite_accel"
if ! run_emulator kite "$kite_accel" "$kite"; then
    echo "kite: not runnable yet ($R_WHY)"
    exit 0
fi
echo "ratio kite/qemu: marker $(bench_ratio "$R_MARKER" "$q_marker")," \
     "total $(bench_ratio "$R_WALL" "$q_wall"), peak RSS $(bench_ratio "$R_RSS" "$q_rss")," \
     "cpuloop $(bench_ratio "$R_LOOP" "$q_loop")"
