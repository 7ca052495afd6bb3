/*
 * x86 interpreter: integer instructions checked against the host CPU.
 *
 * Each snippet of x86-guest.S named alu_* runs twice with the same registers and
 * flags: in the interpreter (64-bit mode) and natively on the host.  All general
 * registers but RSP must match, and so must the flags the SDM defines for the
 * instruction (vol. 2, "Flags Affected" of each instruction; undefined ones are
 * masked).  Inputs mix edge values (0, 1, sign boundaries, all-ones) with random ones.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"

#define F_ALL   0x8d5u         /* OF SF ZF AF PF CF */
#define F_NOAF  0x8c5u
#define F_CFOF  0x801u
#define F_ZF    0x040u
#define F_BT    0x041u         /* CF defined, ZF unchanged */

enum {
    GEN_ANY,        /* random registers */
    GEN_SHIFT,      /* random rcx count, flags depend on it */
    GEN_DIV,        /* unsigned divide that does not fault */
    GEN_IDIV,       /* signed divide that does not fault */
    GEN_CMPXCHG,    /* rax equals the destination half the time */
};

typedef struct AluCase {
    const char *name;
    uint32_t fmask;
    int gen;
    int size;       /* operand bits, for GEN_SHIFT/GEN_DIV */
    int shift_kind; /* 0 rotate, 1 shift, 2 double shift */
} AluCase;

static const uint64_t edges[] = {
    0, 1, 2, 3, 7, 9, 0x0f, 0x10, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7fff, 0x8000,
    0x8001, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff,
    0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xfffffffffffffffeULL,
    0xffffffffffffffffULL,
};

static uint64_t rnd64(void)
{
    return ((uint64_t)g_test_rand_int() << 32) | (uint32_t)g_test_rand_int();
}

static uint64_t pick(void)
{
    switch (g_test_rand_int_range(0, 4)) {
    case 0:
        return edges[g_test_rand_int_range(0, ARRAY_SIZE(edges))];
    case 1:
        /* An edge value in one byte lane or word, random elsewhere. */
        return (rnd64() & ~0xffffULL) | (edges[g_test_rand_int_range(0, 14)] & 0xffff);
    case 2:
        return rnd64() & 0xff;
    default:
        return rnd64();
    }
}

static uint64_t size_mask(int bits)
{
    return bits == 64 ? ~0ULL : (1ULL << bits) - 1;
}

static void gen_inputs(const AluCase *c, X86THostState *s)
{
    for (int r = 0; r < 16; r++) {
        s->regs[r] = pick();
    }
    s->regs[R_ESP] = 0;
    s->mxcsr = 0x1f80;
    /* IF stays set on the host; keep everything but OSZAPC fixed. */
    s->rflags = 0x202 | (g_test_rand_int() & F_ALL);

    switch (c->gen) {
    case GEN_SHIFT:
        s->regs[R_ECX] = g_test_rand_int_range(0, 4) == 0 ? 1 : g_test_rand_int_range(0, 72);
        break;
    case GEN_DIV: {
        uint64_t m = size_mask(c->size);
        uint64_t d = pick() & m;
        if (d == 0) {
            /* 1..128: never 256, which is BL = 0 for the 8-bit form (a host #DE). */
            d = 1 + (rnd64() & m & 0x7f);
        }
        if (c->size == 8) {
            /* AX / BL: AH < BL. */
            s->regs[R_EBX] = (s->regs[R_EBX] & ~0xffULL) | d;
            s->regs[R_EAX] = (s->regs[R_EAX] & ~0xffffULL) | ((pick() % d) << 8) |
                             (pick() & 0xff);
        } else {
            s->regs[R_EBX] = (s->regs[R_EBX] & ~m) | d;
            s->regs[R_EDX] = (s->regs[R_EDX] & ~m) | ((pick() & m) % d);
        }
        break;
    }
    case GEN_IDIV: {
        uint64_t m = size_mask(c->size);
        int64_t a = (int64_t)(pick() << (64 - c->size)) >> (64 - c->size);
        int64_t d = (int64_t)(pick() << (64 - c->size)) >> (64 - c->size);
        if (d == 0 || (d == -1 && a == (int64_t)(~0ULL << (c->size - 1)))) {
            d = 3;
        }
        if (c->size == 8) {
            s->regs[R_EAX] = (s->regs[R_EAX] & ~0xffffULL) | ((uint64_t)a & 0xffff);
            s->regs[R_EBX] = (s->regs[R_EBX] & ~0xffULL) | ((uint64_t)d & 0xff);
        } else {
            s->regs[R_EAX] = (s->regs[R_EAX] & ~m) | ((uint64_t)a & m);
            s->regs[R_EDX] = (s->regs[R_EDX] & ~m) | ((uint64_t)(a < 0 ? -1 : 0) & m);
            s->regs[R_EBX] = (s->regs[R_EBX] & ~m) | ((uint64_t)d & m);
        }
        break;
    }
    case GEN_CMPXCHG:
        if (g_test_rand_int() & 1) {
            s->regs[R_EAX] = s->regs[R_EBX];
        }
        if (g_test_rand_int() & 1) {
            /* cmpxchg8b/16b: memory (rdi, rbp) equals edx:eax / rdx:rax */
            s->regs[R_EDI] = (s->regs[R_EDX] << 32) | (uint32_t)s->regs[R_EAX];
            if (g_test_rand_int() & 1) {
                s->regs[R_EDI] = s->regs[R_EAX];
                s->regs[R_EBP] = s->regs[R_EDX];
            }
        }
        break;
    default:
        break;
    }
}

/* Flags the SDM defines for this run (shifts depend on the count). */
static uint32_t defined_flags(const AluCase *c, const X86THostState *in)
{
    unsigned cnt, masked;

    if (c->gen != GEN_SHIFT) {
        return c->fmask;
    }
    cnt = in->regs[R_ECX] & 0xff;
    masked = cnt & (c->size == 64 ? 63 : 31);
    if (masked == 0) {
        return F_ALL;                               /* nothing changes */
    }
    switch (c->shift_kind) {
    case 0:                                         /* rotates: CF, OF only */
        return masked == 1 ? F_ALL : F_ALL & ~0x800u;
    case 1:                                         /* shifts: AF undefined */
        if (masked >= (unsigned)c->size) {
            return (masked == 1 ? F_NOAF : F_NOAF & ~0x800u) & ~1u;
        }
        return masked == 1 ? F_NOAF : F_NOAF & ~0x800u;
    default:                                        /* SHLD/SHRD */
        if (masked > (unsigned)c->size) {
            return 0;
        }
        return masked == 1 ? F_NOAF : F_NOAF & ~0x800u;
    }
}

static void check_case(X86T *m, const AluCase *c, const X86THostState *in)
{
    X86THostState host, guest;
    uint32_t fmask = defined_flags(c, in);
    uint32_t gflags;
    bool bad = false;

    x86t_diff(m, c->name, in, &guest, &host);
    gflags = guest.rflags;

    /* SHLD/SHRD with a count above the operand size: result undefined too. */
    bool result_undefined = c->gen == GEN_SHIFT && c->shift_kind == 2 &&
                            (in->regs[R_ECX] & (c->size == 64 ? 63 : 31)) > c->size;

    for (int r = 0; r < 16; r++) {
        if (result_undefined && r == R_EAX) {
            continue;
        }
        if (r != R_ESP && guest.regs[r] != host.regs[r]) {
            g_test_message("%s: reg %d = %" PRIx64 ", host %" PRIx64, c->name, r,
                           guest.regs[r], host.regs[r]);
            bad = true;
        }
    }
    if ((gflags ^ host.rflags) & fmask) {
        g_test_message("%s: flags %x, host %x (mask %x)", c->name, gflags,
                       (uint32_t)host.rflags, fmask);
        bad = true;
    }
    if (bad) {
        for (int r = 0; r < 16; r++) {
            g_test_message("  in reg %d = %" PRIx64, r, in->regs[r]);
        }
        g_test_message("  in flags %" PRIx64, in->rflags);
        g_test_fail();
    }
}

static void run_cases(const AluCase *cases, size_t n, int iters)
{
    X86T *m = x86t_new();

    x86t_setup_long64(m);
    for (size_t i = 0; i < n && !g_test_failed(); i++) {
        for (int k = 0; k < iters && !g_test_failed(); k++) {
            X86THostState in;
            gen_inputs(&cases[i], &in);
            check_case(m, &cases[i], &in);
        }
    }
    x86t_free(m);
}

#define ITERS 300

/* ---- the cases -------------------------------------------------------------------- */

static void test_alu_binary(void)
{
    static const char *const ops[] = { "add", "or", "adc", "sbb", "and", "sub", "xor",
                                       "cmp", "test" };
    static const char *const forms[] = { "8", "8h", "16", "32", "64", "i8", "i16", "i32",
                                         "i64", "m32", "rm16" };
    GArray *cases = g_array_new(false, false, sizeof(AluCase));

    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        bool logic = i == 1 || i == 4 || i == 6 || i == 8;
        for (unsigned f = 0; f < ARRAY_SIZE(forms); f++) {
            AluCase c = { .name = g_strdup_printf("alu_%s%s", ops[i], forms[f]),
                          .fmask = logic ? F_NOAF : F_ALL };
            g_array_append_val(cases, c);
        }
    }
    run_cases((AluCase *)cases->data, cases->len, ITERS);
    for (unsigned i = 0; i < cases->len; i++) {
        g_free((char *)g_array_index(cases, AluCase, i).name);
    }
    g_array_free(cases, true);
}

static void test_alu_unary(void)
{
    static const AluCase cases[] = {
        { "alu_inc8", F_ALL }, { "alu_inc16", F_ALL }, { "alu_inc32", F_ALL },
        { "alu_inc64", F_ALL }, { "alu_incm64", F_ALL },
        { "alu_dec8", F_ALL }, { "alu_dec16", F_ALL }, { "alu_dec32", F_ALL },
        { "alu_dec64", F_ALL }, { "alu_decm64", F_ALL },
        { "alu_neg8", F_ALL }, { "alu_neg16", F_ALL }, { "alu_neg32", F_ALL },
        { "alu_neg64", F_ALL }, { "alu_negm64", F_ALL },
        { "alu_not8", F_ALL }, { "alu_not16", F_ALL }, { "alu_not32", F_ALL },
        { "alu_not64", F_ALL }, { "alu_notm64", F_ALL },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

/* CMP/TEST + Jcc pairs, which the interpreter fuses: every condition, taken or not. */
static void test_alu_jcc(void)
{
    static const AluCase cases[] = {
        { "alu_cmpj64", F_NOAF }, { "alu_cmpj32", F_NOAF }, { "alu_cmpj16", F_NOAF },
        { "alu_cmpj8", F_NOAF }, { "alu_cmpji32", F_NOAF }, { "alu_cmpji8", F_NOAF },
        { "alu_testj64", F_NOAF }, { "alu_testj8", F_NOAF }, { "alu_testji32", F_NOAF },
        { "alu_cmpjm32", F_NOAF }, { "alu_aluj64", F_NOAF }, { "alu_aluj32", F_NOAF },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

/*
 * Instructions whose flags are overwritten before being read run without computing
 * them: their results must not change.  Each snippet mixes dead and live flags.
 */
static void test_alu_deadflags(void)
{
    static const AluCase cases[] = {
        { "alu_dead64", F_NOAF }, { "alu_dead32", F_NOAF }, { "alu_dead16", F_NOAF },
        { "alu_dead8", F_NOAF }, { "alu_deadmov", F_ALL }, { "alu_deadrot", F_NOAF },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

static void test_alu_shift(void)
{
    static const char *const ops[] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sar" };
    GArray *cases = g_array_new(false, false, sizeof(AluCase));

    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        static const struct { const char *suffix; int size; } forms[] = {
            { "8", 8 }, { "16", 16 }, { "32", 32 }, { "64", 64 }, { "m32", 32 },
        };
        int kind = i < 4 ? 0 : 1;
        for (unsigned f = 0; f < ARRAY_SIZE(forms); f++) {
            AluCase c = { .name = g_strdup_printf("alu_%s%s", ops[i], forms[f].suffix),
                          .gen = GEN_SHIFT, .size = forms[f].size, .shift_kind = kind };
            g_array_append_val(cases, c);
        }
        /* Constant counts: 1 defines OF; 7 and 13 do not. */
        {
            AluCase c1 = { .name = g_strdup_printf("alu_%s1_32", ops[i]), .fmask = F_ALL };
            AluCase c2 = { .name = g_strdup_printf("alu_%s1_8", ops[i]), .fmask = F_ALL };
            AluCase c3 = { .name = g_strdup_printf("alu_%si7_16", ops[i]),
                           .fmask = F_ALL & ~0x800u };
            AluCase c4 = { .name = g_strdup_printf("alu_%si13_64", ops[i]),
                           .fmask = F_ALL & ~0x800u };
            if (kind == 1) {
                c1.fmask = c2.fmask = F_NOAF;
                c3.fmask = c4.fmask = F_NOAF & ~0x800u;
            }
            g_array_append_val(cases, c1);
            g_array_append_val(cases, c2);
            g_array_append_val(cases, c3);
            g_array_append_val(cases, c4);
        }
    }
    {
        static const char *const dbl[] = { "shld", "shrd" };
        for (int i = 0; i < 2; i++) {
            static const int sizes[] = { 16, 32, 64 };
            for (int s = 0; s < 3; s++) {
                AluCase c = { .name = g_strdup_printf("alu_%s%d", dbl[i], sizes[s]),
                              .gen = GEN_SHIFT, .size = sizes[s], .shift_kind = 2 };
                g_array_append_val(cases, c);
            }
            {
                AluCase c = { .name = g_strdup_printf("alu_%si64", dbl[i]),
                              .fmask = F_NOAF & ~0x800u };
                g_array_append_val(cases, c);
            }
        }
    }
    run_cases((AluCase *)cases->data, cases->len, ITERS);
    for (unsigned i = 0; i < cases->len; i++) {
        g_free((char *)g_array_index(cases, AluCase, i).name);
    }
    g_array_free(cases, true);
}

static void test_alu_muldiv(void)
{
    static const AluCase cases[] = {
        { "alu_mul8", F_CFOF }, { "alu_mul16", F_CFOF }, { "alu_mul32", F_CFOF },
        { "alu_mul64", F_CFOF },
        { "alu_imul8", F_CFOF }, { "alu_imul16", F_CFOF }, { "alu_imul32", F_CFOF },
        { "alu_imul64", F_CFOF },
        { "alu_imul2_16", F_CFOF }, { "alu_imul2_32", F_CFOF }, { "alu_imul2_64", F_CFOF },
        { "alu_imul3_16", F_CFOF }, { "alu_imul3_32", F_CFOF }, { "alu_imul3_64", F_CFOF },
        { "alu_div8", 0, GEN_DIV, 8 }, { "alu_div16", 0, GEN_DIV, 16 },
        { "alu_div32", 0, GEN_DIV, 32 }, { "alu_div64", 0, GEN_DIV, 64 },
        { "alu_idiv8", 0, GEN_IDIV, 8 }, { "alu_idiv16", 0, GEN_IDIV, 16 },
        { "alu_idiv32", 0, GEN_IDIV, 32 }, { "alu_idiv64", 0, GEN_IDIV, 64 },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

static void test_alu_bits(void)
{
    static const AluCase cases[] = {
        { "alu_bsf16", F_ZF }, { "alu_bsf32", F_ZF }, { "alu_bsf64", F_ZF },
        { "alu_bsr16", F_ZF }, { "alu_bsr32", F_ZF }, { "alu_bsr64", F_ZF },
        { "alu_popcnt16", F_ALL }, { "alu_popcnt32", F_ALL }, { "alu_popcnt64", F_ALL },
        { "alu_bt16", F_BT }, { "alu_bt32", F_BT }, { "alu_bt64", F_BT },
        { "alu_bti32", F_BT }, { "alu_btm", F_BT },
        { "alu_bts16", F_BT }, { "alu_bts32", F_BT }, { "alu_bts64", F_BT },
        { "alu_btsi32", F_BT }, { "alu_btsm", F_BT },
        { "alu_btr16", F_BT }, { "alu_btr32", F_BT }, { "alu_btr64", F_BT },
        { "alu_btri32", F_BT }, { "alu_btrm", F_BT },
        { "alu_btc16", F_BT }, { "alu_btc32", F_BT }, { "alu_btc64", F_BT },
        { "alu_btci32", F_BT }, { "alu_btcm", F_BT },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

static void test_alu_misc(void)
{
    static const AluCase cases[] = {
        { "alu_cmpxchg8", F_ALL, GEN_CMPXCHG }, { "alu_cmpxchg32", F_ALL, GEN_CMPXCHG },
        { "alu_cmpxchg64", F_ALL, GEN_CMPXCHG }, { "alu_cmpxchgm32", F_ALL, GEN_CMPXCHG },
        { "alu_cmpxchg8b", F_ALL, GEN_CMPXCHG }, { "alu_cmpxchg16b", F_ALL, GEN_CMPXCHG },
        { "alu_xadd16", F_ALL }, { "alu_xadd64", F_ALL },
        { "alu_xchg8", F_ALL }, { "alu_xchg32", F_ALL },
        { "alu_conv", F_ALL }, { "alu_movx", F_ALL }, { "alu_lea", F_ALL },
        { "alu_lahf", F_ALL }, { "alu_cmc", F_ALL }, { "alu_setcc", F_ALL },
        { "alu_cmov", F_ALL }, { "alu_cmov_all", F_ALL }, { "alu_adc_chain", F_ALL }, { "alu_loop", F_ALL },
        { "alu_stack", F_ALL }, { "alu_enter_leave", F_ALL }, { "alu_xlat", F_ALL },
        { "alu_string", F_ALL }, { "alu_jcc", F_ALL },
    };
    run_cases(cases, ARRAY_SIZE(cases), ITERS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/alu/binary", test_alu_binary);
    g_test_add_func("/x86/alu/unary", test_alu_unary);
    g_test_add_func("/x86/alu/jcc", test_alu_jcc);
    g_test_add_func("/x86/alu/deadflags", test_alu_deadflags);
    g_test_add_func("/x86/alu/shift", test_alu_shift);
    g_test_add_func("/x86/alu/muldiv", test_alu_muldiv);
    g_test_add_func("/x86/alu/bits", test_alu_bits);
    g_test_add_func("/x86/alu/misc", test_alu_misc);
    return g_test_run();
}
