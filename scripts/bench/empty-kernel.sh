#!/usr/bin/env bash
# Start-up and port-I/O benchmark (issue #3): runs an "empty" multiboot test kernel (prints
# a line, exits through isa-debug-exit) and optionally a PIO-loop kernel (the same plus N
# port writes) under Kite and under qemu-system-x86_64 with the same accelerator.  Prints
# wall time and peak RSS per run, medians, the cost of one port-I/O exit
#     (median time(PIO kernel) - median time(empty kernel)) / N
# and the Kite/QEMU ratios.  Never asserts on timings; exit status 0 unless the QEMU
# reference run fails.
#
#   scripts/bench/empty-kernel.sh [options] EMPTY_KERNEL [PIO_KERNEL]
#
#   --kite PATH      Kite binary (default build/kite)
#   --accel A        kvm or tcg, for both emulators (default tcg)
#   --runs N         runs per kernel and emulator (default 5)
#   --pio-count N    port writes PIO_KERNEL performs (required with PIO_KERNEL)
#   --pio-append S   kernel command line for PIO_KERNEL (e.g. "count=100000")
#   --exit N         exit status meaning success (default 33: isa-debug-exit of 0x10)
#   --mem MiB        guest RAM (default 64)
#   --timeout S      per-run limit (default 120)
#
# Both emulators get: -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x4
#   -display none -serial stdio -machine accel=A -kernel K -m MEM
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/bench/lib.sh"

kite=$src/build/kite
accel=tcg
runs=5
pio_count=
pio_append=
want_exit=33
mem=64
limit=120
kernels=()
while [ $# -gt 0 ]; do
    case $1 in
        --kite) kite=$2; shift ;;
        --accel) accel=$2; shift ;;
        --runs) runs=$2; shift ;;
        --pio-count) pio_count=$2; shift ;;
        --pio-append) pio_append=$2; shift ;;
        --exit) want_exit=$2; shift ;;
        --mem) mem=$2; shift ;;
        --timeout) limit=$2; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) bench_die "unknown option $1 (see --help)" ;;
        *) kernels+=("$1") ;;
    esac
    shift
done
[ ${#kernels[@]} -ge 1 ] && [ ${#kernels[@]} -le 2 ] || bench_die "usage: $0 [options] EMPTY_KERNEL [PIO_KERNEL] (see --help)"
empty=${kernels[0]}
pio=${kernels[1]:-}
[ -r "$empty" ] || bench_die "$empty: not readable"
if [ -n "$pio" ]; then
    [ -r "$pio" ] || bench_die "$pio: not readable"
    [[ "$pio_count" =~ ^[1-9][0-9]*$ ]] || bench_die "--pio-count N is required with a PIO kernel"
fi

bench_need_time
command -v qemu-system-x86_64 >/dev/null || bench_die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure LABEL BINARY KERNEL [APPEND]: runs it $runs times; prints each run; sets M_WALL
# and M_RSS (medians), or M_WHY and returns 1 if a run did not exit with $want_exit.
measure() {
    local label=$1 bin=$2 kernel=$3 append=${4:-} i walls=() rsss=() extra=()
    M_WHY= M_WALL= M_RSS= M_SPREAD=
    [ -n "$append" ] && extra=(-append "$append")
    for i in $(seq 1 "$runs"); do
        bench_run "$tmp/run" "$limit" "$bin" -nodefaults \
            -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio \
            -machine accel="$accel" -kernel "$kernel" -m "$mem" "${extra[@]}"
        if [ "$BENCH_RC" != "$want_exit" ]; then
            local last
            last=$(bench_tail "$tmp/run.err")
            [ -n "$last" ] || last=$(bench_tail "$tmp/run.console")
            M_WHY="$(basename "$kernel") run $i: exit status $BENCH_RC, expected $want_exit$([ "$BENCH_RC" = 124 ] && echo " (timed out after $limit s)")${last:+: $last}"
            return 1
        fi
        printf '%-5s %-24s run %d: %8.3f s, peak RSS %7d KiB\n' \
            "$label" "$(basename "$kernel")" "$i" "$BENCH_WALL" "$BENCH_RSS"
        walls+=("$BENCH_WALL") rsss+=("$BENCH_RSS")
    done
    M_WALL=$(bench_median "${walls[@]}")
    M_RSS=$(bench_median "${rsss[@]}")
    M_SPREAD=$(bench_spread "${walls[@]}")
    printf '%-5s %-24s median: %8.3f s (spread %.3f s), peak RSS %7.0f KiB\n' \
        "$label" "$(basename "$kernel")" "$M_WALL" "$M_SPREAD" "$M_RSS"
}

# bench_emulator LABEL BINARY: sets E_WALL, E_RSS (empty kernel) and E_PIO (us per PIO).
bench_emulator() {
    local label=$1 bin=$2
    E_WALL= E_RSS= E_PIO=
    measure "$label" "$bin" "$empty" || return 1
    E_WALL=$M_WALL E_RSS=$M_RSS
    local empty_spread=$M_SPREAD
    if [ -n "$pio" ]; then
        measure "$label" "$bin" "$pio" "$pio_append" || return 1
        E_PIO=$(awk -v p="$M_WALL" -v e="$E_WALL" -v n="$pio_count" \
                'BEGIN { printf "%.3f", (p - e) / n * 1e6 }')
        echo "$label per-PIO cost: $E_PIO us  (($M_WALL s - $E_WALL s) / $pio_count)"
        # A difference within the run-to-run spread says nothing about the PIO cost.
        if awk -v p="$M_WALL" -v e="$E_WALL" -v s1="$empty_spread" -v s2="$M_SPREAD" \
               'BEGIN { d = p - e; if (d < 0) d = -d; exit !(d <= s1 + s2) }'; then
            echo "$label   (below noise: the difference is within the runs' spread;" \
                 "use a larger --pio-count or more --runs)"
        fi
    fi
}

echo "empty-kernel: accel $accel, $runs run(s) per kernel, ${mem} MiB," \
     "kernels: $empty${pio:+, $pio ($pio_count port writes)}"
echo "qemu: $(qemu-system-x86_64 --version | head -1)"
if ! bench_emulator qemu qemu-system-x86_64; then
    echo "qemu: FAILED ($M_WHY)"
    exit 1
fi
q_wall=$E_WALL q_rss=$E_RSS q_pio=$E_PIO

if [ ! -x "$kite" ]; then
    echo "kite: not runnable yet ($kite not built)"
    exit 0
fi
echo "kite: $kite"
if ! bench_emulator kite "$kite"; then
    echo "kite: not runnable yet ($M_WHY)"
    exit 0
fi
echo "ratio kite/qemu: wall $(bench_ratio "$E_WALL" "$q_wall"), peak RSS $(bench_ratio "$E_RSS" "$q_rss")${pio:+, per-PIO cost $(bench_ratio "$E_PIO" "$q_pio")}"
