# Helpers shared by the benchmark scripts in scripts/bench (sourced, not run).
# Timings are reported, never asserted on.
# SPDX-License-Identifier: GPL-2.0-or-later

bench_die() { echo "$(basename "$0"): error: $*" >&2; exit 2; }

# GNU time gives the peak RSS of the emulator (it is the child of 'timeout', and wait4's
# rusage covers reaped descendants).
bench_need_time() {
    if [ ! -x /usr/bin/time ]; then
        echo "$(basename "$0"): installing GNU time (package 'time')" >&2
        apt-get install -y -q time >/dev/null 2>&1 || bench_die "/usr/bin/time missing and 'apt-get install time' failed"
    fi
}

# bench_run PREFIX TIMEOUT CMD...
# Runs CMD with stdin from /dev/null and a time limit.  Writes
#   PREFIX.console  its stdout,  PREFIX.err  its stderr,
# and sets BENCH_WALL (s, wall time of the whole run), BENCH_MARKER (s from start to the
# first stdout line containing KITE-GUEST-READY, or empty), BENCH_RSS (peak RSS, KiB),
# BENCH_CPU (s, user + system CPU time), BENCH_RC (exit status; 124 = timed out).
bench_run() {
    local prefix=$1 limit=$2
    shift 2
    local t0 t1 line
    rm -f "$prefix.marker" "$prefix.rc"
    t0=$EPOCHREALTIME
    {
        /usr/bin/time -f '%M %U %S' -o "$prefix.time" timeout --kill-after=5 "$limit" "$@" \
            </dev/null 2>"$prefix.err"
        echo $? >"$prefix.rc"
    } | while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            *KITE-GUEST-READY*) [ -e "$prefix.marker" ] || echo "$EPOCHREALTIME" >"$prefix.marker" ;;
        esac
        printf '%s\n' "$line"
    done >"$prefix.console"
    t1=$EPOCHREALTIME
    BENCH_WALL=$(bench_sub "$t1" "$t0")
    BENCH_MARKER=
    [ -e "$prefix.marker" ] && BENCH_MARKER=$(bench_sub "$(cat "$prefix.marker")" "$t0")
    local rss user sys
    read -r rss user sys < <(tail -1 "$prefix.time" 2>/dev/null)
    case $rss in ''|*[!0-9]*) rss=0 ;; esac
    BENCH_RSS=$rss
    BENCH_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
    BENCH_RC=$(cat "$prefix.rc" 2>/dev/null || echo 255)
}

bench_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# bench_median N1 N2 ...: the median of the arguments (mean of the middle two if even).
bench_median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print ""; exit }
              if (NR % 2) { printf "%.3f\n", v[(NR + 1) / 2] }
              else { printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# bench_spread N1 N2 ...: max - min of the arguments.
bench_spread() {
    printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f\n", hi - lo }'
}

# bench_ratio A B: A/B with two decimals, or "n/a".
bench_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a";
                                     else printf "%.2f\n", a / b }'
}

# bench_tail FILE: the last non-empty line of FILE, for "not runnable" reasons.
bench_tail() {
    grep -av '^[[:space:]]*$' "$1" 2>/dev/null | tail -1 | tr -d '\r' | cut -c1-160
}
