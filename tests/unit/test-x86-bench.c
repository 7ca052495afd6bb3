/*
 * x86 interpreter: throughput benchmark.  Runs a tight integer loop and a mixed
 * loop (loads, stores, calls, a data-dependent branch, a multiply) and prints the
 * rate in millions of guest instructions per second.  The results are checked
 * against the same computation in C, so the benchmark is also a test.
 *
 * As a unit test it runs a short workload; X86_BENCH_SCALE=N multiplies it, e.g.
 *     X86_BENCH_SCALE=50 tests/unit/test-x86-bench
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"

static uint64_t scale(void)
{
    const char *s = g_getenv("X86_BENCH_SCALE");
    return s ? MAX(1, g_ascii_strtoull(s, NULL, 10)) : 1;
}

static double run_timed(X86T *m, uint64_t rip, uint64_t *insns)
{
    gint64 t0 = g_get_monotonic_time();
    int64_t done;
    X86ExitReason r;

    m->env->rip = rip;
    r = x86_cpu_exec(m->cpu, INT64_MAX, &done);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    *insns = done;
    return (g_get_monotonic_time() - t0) / 1e6;
}

static void report(const char *what, uint64_t insns, double secs)
{
    X86CPUStats st;
    (void)st;
    g_test_message("%s: %" PRIu64 " insns in %.3f s = %.0f MIPS", what, insns, secs,
                   insns / secs / 1e6);
    if (g_getenv("X86_BENCH_SCALE")) {
        printf("%s: %" PRIu64 " insns in %.3f s = %.0f MIPS\n", what, insns, secs,
               insns / secs / 1e6);
    }
}

static void test_bench_loop(void)
{
    X86T *m = x86t_new();
    uint64_t n = 2000000 * scale(), insns, rax = 0, rdx = 0;
    double secs;

    x86t_setup_long64(m);
    m->env->regs[R_ECX] = n;
    secs = run_timed(m, x86t_sym(m, "bench_loop"), &insns);
    for (uint64_t c = n; c; c--) {
        rax += c;
        rdx ^= rax;
    }
    g_assert_cmphex(m->env->regs[R_EAX], ==, rax);
    g_assert_cmphex(m->env->regs[R_EDX], ==, rdx);
    g_assert_cmpuint(insns, ==, 2 + 4 * n + 1);
    report("tight loop", insns, secs);
    x86t_free(m);
}

static void test_bench_mixed(void)
{
    X86T *m = x86t_new();
    uint64_t n = 500000 * scale(), insns, rax = 0, data[264] = { 0 };
    double secs;

    x86t_setup_long64(m);
    m->env->regs[R_ECX] = n;
    secs = run_timed(m, x86t_sym(m, "bench_mixed"), &insns);
    for (uint64_t c = n; c; c--) {
        uint64_t d = c & 255, b = data[d];
        rax += b;
        data[d + 1] = rax;
        rax ^= b >> 3;
        if (c & 3) {
            rax *= 3;
        }
    }
    g_assert_cmphex(m->env->regs[R_EAX], ==, rax);
    report("mixed loop", insns, secs);
    x86t_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/bench/loop", test_bench_loop);
    g_test_add_func("/x86/bench/mixed", test_bench_mixed);
    return g_test_run();
}
