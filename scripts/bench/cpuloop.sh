#!/usr/bin/env bash
# Interpreter speed benchmark: runs the cpubench64 guest kernel (tests/guest/cpubench.c: a
# CRC-32, a quicksort, a hash, a list walk and copies, repeated ROUNDS times, no device
# access meanwhile) under Kite and under qemu-system-x86_64 with the same accelerator.
# Prints wall and CPU time (user + sys) per run, the medians, and the Kite/QEMU ratios.
# On a shared, busy host the CPU time is the steadier figure.  Never asserts on timings:
# exit status 0 unless the QEMU reference run fails.
#
#   scripts/bench/cpuloop.sh [--kite PATH] [--kernel ELF] [--accel A] [--rounds N]
#                            [--runs N] [--timeout S]
#
#   --kite PATH      Kite binary (default build/kite)
#   --kernel ELF     default build/tests/guest/cpubench64.elf
#   --accel A        tcg or kvm, for both emulators (default tcg)
#   --rounds N       workload rounds (default 500)
#   --runs N         runs per emulator (default 3)
#   --timeout S      per-run limit (default 300)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/bench/lib.sh"

kite=$src/build/kite
kernel=$src/build/tests/guest/cpubench64.elf
accel=tcg
rounds=500
runs=3
limit=300
while [ $# -gt 0 ]; do
    case $1 in
        --kite) kite=$2; shift ;;
        --kernel) kernel=$2; shift ;;
        --accel) accel=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --runs) runs=$2; shift ;;
        --timeout) limit=$2; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[ -r "$kernel" ] || bench_die "$kernel: not readable (build it: ninja -C build)"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || bench_die "--rounds takes a positive number"
bench_need_time
command -v qemu-system-x86_64 >/dev/null || bench_die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure LABEL BINARY: sets M_WALL and M_CPU (medians), or M_WHY and returns 1.
measure() {
    local label=$1 bin=$2 i walls=() cpus=()
    M_WALL= M_CPU= M_WHY=
    for i in $(seq 1 "$runs"); do
        bench_run "$tmp/run" "$limit" "$bin" -nodefaults \
            -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio \
            -machine accel="$accel" -kernel "$kernel" -m 64 -append "rounds=$rounds"
        if [ "$BENCH_RC" != 33 ] || ! grep -q "cpubench: $rounds rounds" "$tmp/run.console"; then
            M_WHY="run $i: exit status $BENCH_RC, expected 33: $(bench_tail "$tmp/run.console")"
            return 1
        fi
        walls+=("$BENCH_WALL") cpus+=("$BENCH_CPU")
        printf '%-5s run %d: wall %7.2f s, cpu %7.2f s\n' "$label" "$i" "$BENCH_WALL" "$BENCH_CPU"
    done
    M_WALL=$(bench_median "${walls[@]}")
    M_CPU=$(bench_median "${cpus[@]}")
    printf '%-5s median: wall %7.2f s, cpu %7.2f s\n' "$label" "$M_WALL" "$M_CPU"
}

echo "cpuloop: $(basename "$kernel") rounds=$rounds, accel $accel, $runs run(s) each"
echo "qemu: $(qemu-system-x86_64 --version | head -1)"
if ! measure qemu qemu-system-x86_64; then
    echo "qemu: FAILED ($M_WHY)"
    exit 1
fi
q_wall=$M_WALL q_cpu=$M_CPU
if [ ! -x "$kite" ]; then
    echo "kite: not runnable yet ($kite not built)"
    exit 0
fi
echo "kite: $kite"
if ! measure kite "$kite"; then
    echo "kite: not runnable yet ($M_WHY)"
    exit 0
fi
echo "ratio kite/qemu: wall $(bench_ratio "$M_WALL" "$q_wall"), cpu $(bench_ratio "$M_CPU" "$q_cpu")"
