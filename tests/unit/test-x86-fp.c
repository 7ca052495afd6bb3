/*
 * x86 interpreter: SSE/SSE2, MMX and x87 instructions checked against the host CPU.
 *
 * As in test-x86-alu, every fp_*, sse*, mmx_* and x87_* snippet of x86-guest.S runs in
 * the interpreter and natively with the same inputs; all general registers, all XMM
 * registers, the arithmetic flags and MXCSR (exception flags included) must match.
 * Inputs mix special values (signed zeros, denormals, infinities, quiet and signalling
 * NaNs, integer-conversion boundaries) with random ones, under random MXCSR rounding
 * modes, FTZ and DAZ, and random x87 rounding/precision control where a snippet
 * loads one.  FXSAVE/FXRSTOR and the #XM path are checked by hand.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"
#include <math.h>

static uint64_t rnd64(void)
{
    return ((uint64_t)g_test_rand_int() << 32) | (uint32_t)g_test_rand_int();
}

static const uint64_t dspecial[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL,
    0xbff0000000000000ULL, 0x3fe0000000000000ULL, 0x4000000000000000ULL,
    0x4008000000000000ULL, 0x7e37e43c8800759cULL /* 1e300 */,
    0x8000000000000001ULL, 0x000fffffffffffffULL, 0x0010000000000000ULL,
    0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL,
    0x7ff0000000000001ULL, 0xfff8000000001234ULL, 0x3fd5555555555555ULL,
    0x400921fb54442d18ULL, 0x43e0000000000000ULL /* 2^63 */,
    0xc3e0000000000000ULL, 0x41dfffffffc00000ULL /* 2^31 - 1 */,
    0x43abc16d674ec800ULL /* 1e18 */, 0x3ff8000000000000ULL /* 1.5 */,
    0x4004000000000000ULL /* 2.5 */, 0xc00c000000000000ULL /* -3.5 */,
};

static const uint32_t fspecial[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x40400000, 0x7f7fffff,
    0x00000001, 0x807fffff, 0x00800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
    0xffc01234, 0x3eaaaaab, 0x40490fdb, 0x4f000000 /* 2^31 */, 0xcf000000, 0x3fc00000,
    0x40200000, 0xc0600000,
};

static uint64_t rnd_double(void)
{
    switch (g_test_rand_int_range(0, 4)) {
    case 0:
        return dspecial[g_test_rand_int_range(0, ARRAY_SIZE(dspecial))];
    case 1:
        return rnd64();
    default: {
        double d = (g_test_rand_double() - 0.5) * ldexp(1.0, g_test_rand_int_range(-40, 70));
        uint64_t b;
        memcpy(&b, &d, 8);
        return b;
    }
    }
}

static uint32_t rnd_float(void)
{
    switch (g_test_rand_int_range(0, 4)) {
    case 0:
        return fspecial[g_test_rand_int_range(0, ARRAY_SIZE(fspecial))];
    case 1:
        return g_test_rand_int();
    default: {
        float f = (g_test_rand_double() - 0.5) * ldexpf(1.0f, g_test_rand_int_range(-30, 40));
        uint32_t b;
        memcpy(&b, &f, 4);
        return b;
    }
    }
}

enum { LANE_INT, LANE_FLOAT, LANE_DOUBLE, LANE_MIX };

static void fill_xmm(X86XMMReg *x, int lanes)
{
    int kind = lanes == LANE_MIX ? g_test_rand_int_range(0, 3) : lanes;

    switch (kind) {
    case LANE_FLOAT:
        for (int i = 0; i < 4; i++) {
            x->l[i] = rnd_float();
        }
        break;
    case LANE_DOUBLE:
        x->q[0] = rnd_double();
        x->q[1] = rnd_double();
        break;
    default:
        x->q[0] = rnd64();
        x->q[1] = rnd64();
        if (g_test_rand_int_range(0, 3) == 0) {
            /* Saturation edges for packs and saturating arithmetic. */
            x->w[g_test_rand_int_range(0, 8)] = 0x7fff;
            x->w[g_test_rand_int_range(0, 8)] = 0x8000;
            x->b[g_test_rand_int_range(0, 16)] = 0xff;
        }
        break;
    }
}

typedef struct FpCase {
    const char *name;
    int lanes;
    bool small_counts;      /* xmm1 / rbx: shift counts 0..70 */
    bool random_mxcsr;
} FpCase;

static void gen(const FpCase *c, X86THostState *s)
{
    for (int r = 0; r < 16; r++) {
        s->regs[r] = g_test_rand_int_range(0, 2) ? rnd_double() : rnd64();
        fill_xmm(&s->xmm[r], c->lanes);
    }
    s->regs[R_ESP] = 0;
    s->rflags = 0x202 | (g_test_rand_int() & 0x8d5);
    s->mxcsr = 0x1f80;
    if (c->random_mxcsr) {
        s->mxcsr |= g_test_rand_int_range(0, 4) << 13;             /* RC */
        if (g_test_rand_int_range(0, 4) == 0) {
            s->mxcsr |= 0x8000;                                     /* FTZ */
        }
        if (g_test_rand_int_range(0, 4) == 0) {
            s->mxcsr |= 0x40;                                       /* DAZ */
        }
        s->mxcsr |= g_test_rand_int() & 0x3f;                       /* sticky flags */
    }
    if (c->small_counts) {
        s->xmm[1].q[0] = g_test_rand_int_range(0, 71);
        s->regs[R_EBX] = g_test_rand_int_range(0, 71);
    }
    /* x87 snippets take a control word in rcx: random RC and PC, all masked. */
    s->regs[R_ECX] = 0x3f | (g_test_rand_int_range(0, 4) << 10) |
                     ((g_test_rand_int_range(0, 2) ? 3 : 2) << 8);
}

static void check(X86T *m, const FpCase *c)
{
    X86THostState in, guest, host;
    bool bad = false;

    gen(c, &in);
    x86t_diff(m, c->name, &in, &guest, &host);
    for (int r = 0; r < 16; r++) {
        if (r != R_ESP && guest.regs[r] != host.regs[r]) {
            g_test_message("%s: reg %d = %" PRIx64 ", host %" PRIx64, c->name, r,
                           guest.regs[r], host.regs[r]);
            bad = true;
        }
        if (memcmp(&guest.xmm[r], &host.xmm[r], 16)) {
            g_test_message("%s: xmm%d = %016" PRIx64 "%016" PRIx64 ", host %016" PRIx64
                           "%016" PRIx64, c->name, r, guest.xmm[r].q[1], guest.xmm[r].q[0],
                           host.xmm[r].q[1], host.xmm[r].q[0]);
            bad = true;
        }
    }
    if ((guest.rflags ^ host.rflags) & 0x8d5) {
        g_test_message("%s: flags %" PRIx64 ", host %" PRIx64, c->name, guest.rflags,
                       host.rflags);
        bad = true;
    }
    if (guest.mxcsr != host.mxcsr) {
        g_test_message("%s: mxcsr %x, host %x (in %x)", c->name, guest.mxcsr, host.mxcsr,
                       in.mxcsr);
        bad = true;
    }
    if (bad) {
        for (int r = 0; r < 16; r++) {
            g_test_message("  in reg %d = %" PRIx64 "  xmm%d = %016" PRIx64 "%016" PRIx64, r,
                           in.regs[r], r, in.xmm[r].q[1], in.xmm[r].q[0]);
        }
        g_test_fail();
    }
}

static void run_cases(const FpCase *cases, size_t n, int iters)
{
    X86T *m = x86t_new();

    x86t_setup_long64(m);
    for (size_t i = 0; i < n && !g_test_failed(); i++) {
        for (int k = 0; k < iters && !g_test_failed(); k++) {
            check(m, &cases[i]);
        }
    }
    x86t_free(m);
}

#define ITERS 200

static void run_named(const char *prefix, const char *const *names, size_t n, int lanes,
                      bool small, bool mx)
{
    FpCase *cases = g_new0(FpCase, n);

    for (size_t i = 0; i < n; i++) {
        cases[i] = (FpCase){ g_strdup_printf("%s%s", prefix, names[i]), lanes, small, mx };
    }
    run_cases(cases, n, ITERS);
    for (size_t i = 0; i < n; i++) {
        g_free((char *)cases[i].name);
    }
    g_free(cases);
}

static void test_sse_int(void)
{
    static const char *const ops[] = {
        "paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb",
        "paddsw", "paddusb", "paddusw", "psubsb", "psubsw", "psubusb", "psubusw", "pmullw",
        "pmulhw", "pmulhuw", "pmuludq", "pmaddwd", "pand", "pandn", "por", "pxor",
        "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pavgb",
        "pavgw", "pminub", "pmaxub", "pminsw", "pmaxsw", "psadbw", "punpcklbw",
        "punpcklwd", "punpckldq", "punpcklqdq", "punpckhbw", "punpckhwd", "punpckhdq",
        "punpckhqdq", "packsswb", "packuswb", "packssdw", "unpcklps", "unpckhps",
        "unpcklpd", "unpckhpd", "andps", "andnps", "orps", "xorps",
    };
    static const char *const shifts[] = { "psllw", "pslld", "psllq", "psrlw", "psrld",
                                          "psrlq", "psraw", "psrad" };
    static const char *const misc[] = { "shift_imm", "shuffles", "moves" };

    run_named("sse_", ops, ARRAY_SIZE(ops), LANE_INT, false, false);
    run_named("ssem_", ops, ARRAY_SIZE(ops), LANE_INT, false, false);
    run_named("sse_", shifts, ARRAY_SIZE(shifts), LANE_INT, true, false);
    run_named("sse_", misc, ARRAY_SIZE(misc), LANE_MIX, false, false);
}

static void test_sse_fp(void)
{
    static const char *const sops[] = {
        "addps", "addss", "subps", "subss", "mulps", "mulss", "divps", "divss", "minps",
        "minss", "maxps", "maxss", "sqrtps", "sqrtss", "rcpps", "rcpss", "rsqrtps",
        "rsqrtss", "cvtps2pd", "cvtss2sd", "cvtps2dq", "cvttps2dq", "comiss", "ucomiss",
    };
    static const char *const dops[] = {
        "addpd", "addsd", "subpd", "subsd", "mulpd", "mulsd", "divpd", "divsd", "minpd",
        "minsd", "maxpd", "maxsd", "sqrtpd", "sqrtsd", "cvtpd2ps", "cvtsd2ss", "cvtpd2dq",
        "cvttpd2dq", "comisd", "ucomisd",
    };
    static const char *const iops[] = { "cvtdq2ps", "cvtdq2pd" };
    static const char *const mix[] = { "cmp0", "cmp1", "cmp2", "cmp3", "cmp4", "cmp5",
                                       "cmp6", "cmp7", "cvtint", "mxcsr" };

    run_named("ssef_", sops, ARRAY_SIZE(sops), LANE_FLOAT, false, true);
    run_named("ssef_", dops, ARRAY_SIZE(dops), LANE_DOUBLE, false, true);
    run_named("ssef_", iops, ARRAY_SIZE(iops), LANE_INT, false, true);
    run_named("ssef_", mix, ARRAY_SIZE(mix), LANE_MIX, false, true);
}

static void test_mmx(void)
{
    static const char *const ops[] = {
        "paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb",
        "paddusw", "psubsw", "psubusb", "pmullw", "pmulhw", "pmulhuw", "pmuludq",
        "pmaddwd", "pand", "pandn", "por", "pxor", "pcmpeqb", "pcmpgtw", "pcmpgtd",
        "pavgb", "pminub", "pmaxsw", "psadbw", "punpcklbw", "punpcklwd", "punpckldq",
        "punpckhbw", "punpckhwd", "punpckhdq", "packsswb", "packuswb", "packssdw",
        "misc",
    };
    static const char *const shifts[] = { "psllw", "psrld", "psraw", "psrlq" };

    run_named("mmx_", ops, ARRAY_SIZE(ops), LANE_INT, false, false);
    run_named("mmx_", shifts, ARRAY_SIZE(shifts), LANE_INT, true, false);
}

static void test_x87(void)
{
    static const char *const ops[] = {
        "add", "sub", "subr", "mul", "div", "divr", "prem", "prem1", "scale", "patan",
        "yl2x", "yl2xp1", "st0i", "subst", "divrst", "sqrt", "sin", "cos", "tan", "sincos",
        "f2xm1", "rndint", "xtract", "chs", "abs", "ldpi", "ldl2e", "compare", "int",
        "store",
    };

    run_named("x87_", ops, ARRAY_SIZE(ops), LANE_INT, false, false);
}

/* FXSAVE image layout (SDM vol. 1, table 10-2) and the round trip through FXRSTOR. */
static void test_fxsave(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    /* fxsave (%rdi); fxrstor (%rsi); hlt */
    uint8_t code[] = { 0x0f, 0xae, 0x07, 0x0f, 0xae, 0x0e, 0xf4 };
    X86FPReg one = { .mant = 0x8000000000000000ULL, .sign_exp = 0x3fff };

    x86t_setup_long64(m);
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    env->fpuc = 0x27f;
    env->fpstt = 6;
    env->fptag_valid = 0xc0;                            /* R6, R7 in use */
    env->fpregs[6] = one;                               /* ST(0) */
    env->fpregs[7] = (X86FPReg){ .mant = 0xc000000000000000ULL, .sign_exp = 0xc000 };
    env->fpus = 0x0021;
    env->mxcsr = 0x9fc0;
    for (int i = 0; i < 16; i++) {
        env->xmm[i].q[0] = 0x1111111111111111ULL * i;
        env->xmm[i].q[1] = ~env->xmm[i].q[0];
    }
    /* A restore image with different content. */
    memset(m->ram + 0x410000, 0, 512);
    stw_le_p(m->ram + 0x410000, 0x37f);
    stl_le_p(m->ram + 0x410018, 0x1f80);
    stq_le_p(m->ram + 0x4100a0 + 16 * 15, 0xabcdef);
    env->regs[R_EDI] = 0x400000;
    env->regs[R_ESI] = 0x410000;
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);

    g_assert_cmphex(x86t_rd(m, 0x400000, 2), ==, 0x27f);               /* FCW */
    g_assert_cmphex(x86t_rd(m, 0x400002, 2), ==, 0x0021 | (6 << 11));  /* FSW with TOP */
    g_assert_cmphex(x86t_rd(m, 0x400004, 1), ==, 0xc0);                /* abridged FTW */
    g_assert_cmphex(x86t_rd(m, 0x400018, 4), ==, 0x9fc0);              /* MXCSR */
    g_assert_cmphex(x86t_rd(m, 0x40001c, 4), ==, 0xffff);              /* MXCSR_MASK */
    g_assert_cmphex(x86t_rd(m, 0x400020, 8), ==, one.mant);            /* ST(0) */
    g_assert_cmphex(x86t_rd(m, 0x400028, 2), ==, 0x3fff);
    g_assert_cmphex(x86t_rd(m, 0x400038, 2), ==, 0xc000);              /* ST(1) = R7 */
    g_assert_cmphex(x86t_rd(m, 0x4000a0 + 16 * 15, 8), ==, 0x1111111111111111ULL * 15);
    g_assert_cmphex(x86t_rd(m, 0x4000a8 + 16 * 15, 8), ==, ~(0x1111111111111111ULL * 15));

    g_assert_cmphex(env->fpuc, ==, 0x37f);
    g_assert_cmphex(env->mxcsr, ==, 0x1f80);
    g_assert_cmphex(env->fptag_valid, ==, 0);
    g_assert_cmphex(env->xmm[15].q[0], ==, 0xabcdef);
    g_assert_cmphex(env->xmm[3].q[0], ==, 0);

    /* Misaligned: #GP(0); reserved MXCSR bits on restore: #GP(0). */
    x86t_set_gate64(m, 13, x86t_sym(m, "excp_handler_hlt"), 0, 0, false);
    env->halted = false;
    env->regs[R_EDI] = 0x400008;
    env->regs[R_ESP] = X86T_STACK;
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP] + 8, 8), ==, 0x300000);
    env->halted = false;
    env->regs[R_EDI] = 0x400000;
    stl_le_p(m->ram + 0x410018, 0x10000);
    env->regs[R_ESP] = X86T_STACK;
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP] + 8, 8), ==, 0x300003);
    x86t_free(m);
}

/* An unmasked SIMD exception: #XM with nothing written; masked: flags only. */
static void test_simd_exception(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    /* divsd %xmm1, %xmm0; hlt */
    uint8_t code[] = { 0xf2, 0x0f, 0x5e, 0xc1, 0xf4 };

    x86t_setup_long64(m);
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    x86t_set_gate64(m, 19, x86t_sym(m, "excp_handler_hlt"), 0, 0, false);
    env->xmm[0].d[0] = 1.0;
    env->xmm[1].d[0] = 0.0;
    env->mxcsr = 0x1f80 & ~0x200;                       /* ZM unmasked */
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP], 8), ==, 0x300000);   /* #XM frame */
    g_assert_true(env->xmm[0].d[0] == 1.0);
    g_assert_cmphex(env->mxcsr & 0x3f, ==, 0x4);                      /* ZE */

    env->halted = false;
    env->mxcsr = 0x1f80;
    env->regs[R_ESP] = X86T_STACK;
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmphex(env->rip, ==, 0x300005);
    g_assert_true(isinf(env->xmm[0].d[0]));
    g_assert_cmphex(env->mxcsr & 0x3f, ==, 0x4);
    x86t_free(m);
}

/* CR0.TS gives #NM for SSE and x87; CR4.OSFXSR clear gives #UD for SSE. */
static void test_fp_faults(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    /* addps %xmm1, %xmm0; hlt */
    uint8_t code[] = { 0x0f, 0x58, 0xc1, 0xf4 };

    x86t_setup_long64(m);
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    x86t_set_gate64(m, 6, x86t_sym(m, "h_6"), 0, 0, false);
    x86t_set_gate64(m, 7, x86t_sym(m, "h_7"), 0, 0, false);
    env->cr[0] |= X86_CR0_TS;
    x86_cpu_sync_state(m->cpu);
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmpuint(x86t_rd(m, 0x40000 + 7 * 128, 8), ==, 1);
    env->cr[0] &= ~X86_CR0_TS;
    env->cr[4] &= ~X86_CR4_OSFXSR;
    x86_cpu_sync_state(m->cpu);
    env->halted = false;
    env->regs[R_ESP] = X86T_STACK;
    g_assert_cmpint(x86t_run(m, 0x300000, 100), ==, X86_EXIT_HLT);
    g_assert_cmpuint(x86t_rd(m, 0x40000 + 6 * 128, 8), ==, 1);
    x86t_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/fp/sse-int", test_sse_int);
    g_test_add_func("/x86/fp/sse-fp", test_sse_fp);
    g_test_add_func("/x86/fp/mmx", test_mmx);
    g_test_add_func("/x86/fp/x87", test_x87);
    g_test_add_func("/x86/fp/fxsave", test_fxsave);
    g_test_add_func("/x86/fp/simd-exception", test_simd_exception);
    g_test_add_func("/x86/fp/faults", test_fp_faults);
    return g_test_run();
}
