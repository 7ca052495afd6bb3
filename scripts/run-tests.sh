#!/usr/bin/env bash
# Run every Kite test: unit and device (qtest) tests, guest test kernels under each
# accelerator, functional Linux boots, then the unit tests again under ASan+UBSan.
# Ends with "N passed, N failed, N skipped".  Exit status is non-zero if anything failed.
#   scripts/run-tests.sh [--quick]     (--quick: skip the sanitizer build)
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

log() { echo "== $*" >&2; }

scripts/install-deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

build_ok=1
failed_logs=()      # build logs whose errors the summary repeats
if [ ! -f build/build.ninja ]; then
    meson setup build >/dev/null || build_ok=0
fi
if [ $build_ok = 1 ]; then
    log "building"
    ninja -C build >build/ninja.log 2>&1 || { tail -40 build/ninja.log; build_ok=0; failed_logs+=(build/ninja.log); }
fi

results=()
if [ $build_ok = 1 ]; then
    log "running tests (meson test)"
    meson test -C build --no-rebuild --print-errorlogs --num-processes 2 \
        >build/meson-test.log 2>&1
    grep -E "^ *[0-9]+/[0-9]+ " build/meson-test.log | sed 's/^/   /' >&2
    results+=(build/meson-logs/testlog.json)
fi

if [ $quick = 0 ]; then
    log "building and running unit tests under ASan+UBSan"
    asan_ok=1
    if [ ! -f build-asan/build.ninja ]; then
        # -O0: the sanitizers check the same at any optimization level, and the x86
        # interpreter's big instruction files take minutes to optimize with ASan+UBSan
        # instrumentation (ops-int.c alone ~4 min at -O2, ~25 s at -O0 on a CI core); the
        # unit tests run about as long either way.
        meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
            -Dtests_only_unit=true -Doptimization=0 >/dev/null || asan_ok=0
    fi
    if [ $asan_ok = 1 ]; then
        ninja -C build-asan >build-asan/ninja.log 2>&1 || {
            tail -40 build-asan/ninja.log; asan_ok=0; failed_logs+=(build-asan/ninja.log); }
    fi
    if [ $asan_ok = 1 ]; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            meson test -C build-asan --no-rebuild --print-errorlogs --suite unit \
            --num-processes 2 >build-asan/meson-test.log 2>&1
        grep -E "^ *[0-9]+/[0-9]+ " build-asan/meson-test.log | sed 's/^/   asan /' >&2
        results+=(build-asan/meson-logs/testlog.json)
    else
        build_ok=0
    fi
fi

FAILED_LOGS="${failed_logs[*]:-}" python3 - "$build_ok" "${results[@]}" <<'PY'
import json, os, re, sys
build_ok = sys.argv[1] == "1"
passed = failed = skipped = 0
failures = []
for path in sys.argv[2:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t.get("result", "")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append((f"{path.split('/')[0]}: {t.get('name', '?')} ({r})", t))

# Lines of a test's log that say why it failed: GLib/TAP bail-outs and assertion
# messages, python unittest FAIL/ERROR headers and exception lines, sanitizer
# reports first; then weaker hints (timeouts, "assert", panics).  The first few
# such lines are usually enough to tell a flake from a bug.
STRONG = re.compile(r"Bail out!|^not ok|^(FAIL|ERROR)[: ]|ERROR:|\w(Error|Exception)\b:|"
                    r"runtime error:|AddressSanitizer|LeakSanitizer|Segmentation fault")
WEAK = re.compile(r"^File \".*\", line [0-9]+, in test|[Tt]imed? ?out|panic|Aborted|^FAILED")

def why(t, n):
    out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
    text = [l.strip() for l in out.splitlines() if l.strip()]
    picked, seen = [], set()
    for pat in (STRONG, WEAK):
        for l in text:
            key = l.replace("Bail out! ", "")
            if len(picked) < n and key not in seen and pat.search(l):
                seen.add(key)
                picked.append((text.index(l), l))
    picked = [l for _, l in sorted(picked)]
    if not picked:
        picked = text[-n:]
    if t.get("result") == "TIMEOUT":
        picked = [f"timed out after {t.get('duration', 0):.0f} s"] + picked[:n - 1]
    return [l if len(l) <= 150 else l[:147] + "..." for l in picked]

if not build_ok:
    failed += 1
    # A failed build: its first compiler/linker errors (the test listing that follows the
    # build pushed the ninja tail out of CI's view).
    for log in os.environ.get("FAILED_LOGS", "").split():
        try:
            text = open(log, errors="replace").read().splitlines()
        except OSError:
            continue
        errs = [l.strip() for l in text if re.search(r"error:|^FAILED:|undefined reference", l)]
        print(f"FAILED build: {log}")
        for l in (errs or text[-4:])[:4]:
            print(f"    {l if len(l) <= 150 else l[:147] + '...'}")
# CI shows only the last ~25 lines of this output: name what failed, and why, right
# above the summary.  With many failures each gets fewer lines so the tail stays whole.
per = max(1, min(5, 18 // max(1, len(failures))))
for name, t in failures:
    print(f"FAILED {name}")
    for l in why(t, per):
        print(f"    {l}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
