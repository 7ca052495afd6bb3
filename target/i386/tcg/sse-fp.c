/*
 * x86 interpreter: SSE/SSE2 floating-point arithmetic, compares and conversions
 * (SDM vol. 2; exceptions: vol. 1, 11.5).  Each computation runs on the host with the
 * guest's MXCSR control bits; with all exceptions masked (the normal case) nothing
 * else is needed.  With an unmasked exception the result is computed into a local,
 * the raised flags are checked (FP_END) and #XM (or #UD without CR4.OSXMMEXCPT) is
 * delivered before anything is written, as the SDM requires.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/sse.h"
#include "target/i386/tcg/flags.h"

static inline __m128 ps(__m128i v)
{
    return _mm_castsi128_ps(v);
}

static inline __m128d pd(__m128i v)
{
    return _mm_castsi128_pd(v);
}

static inline __m128i ips(__m128 v)
{
    return _mm_castps_si128(v);
}

static inline __m128i ipd(__m128d v)
{
    return _mm_castpd_si128(v);
}

/*
 * The host instruction itself runs on the guest operands (dst = a, src = b): the
 * compiler may not commute operands, which matters for which NaN is returned and for
 * MINPS/MAXPS with zeros.
 */
#define ASM2(insn, a, b) \
    ({ __m128i r_ = (a); __asm__ volatile(insn " %1, %0" : "+x"(r_) : "x"(b)); r_; })
#define ASM1(insn, b) \
    ({ __m128i r_; __asm__ volatile(insn " %1, %0" : "=x"(r_) : "x"(b)); r_; })
#define ASM2I(insn, k, a, b) \
    ({ __m128i r_ = (a); \
       __asm__ volatile(insn " $" #k ", %1, %0" : "+x"(r_) : "x"(b)); r_; })

/* Generic handler: EXPR computes r from a (destination) and b (source). */
#define DEF_FP(name, EXPR, size) \
static void op_##name(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i a, b, r; \
    SSE_CHECK(cpu, op); \
    b = sse_src(cpu, op, size); \
    a = xld(env, op->dst); \
    (void)a; \
    { \
        FP_BEGIN(cpu); \
        r = (EXPR); \
        FP_END(cpu, op); \
    } \
    xst(env, op->dst, r); \
    NEXT(cpu, op); \
}

#define DEF_ARITH(name) \
    DEF_FP(name##ps, ASM2(#name "ps", a, b), 16) \
    DEF_FP(name##pd, ASM2(#name "pd", a, b), 16) \
    DEF_FP(name##ss, ASM2(#name "ss", a, b), 4) \
    DEF_FP(name##sd, ASM2(#name "sd", a, b), 8)

DEF_ARITH(add)
DEF_ARITH(sub)
DEF_ARITH(mul)
DEF_ARITH(div)
DEF_ARITH(min)
DEF_ARITH(max)

DEF_FP(sqrtps, ASM1("sqrtps", b), 16)
DEF_FP(sqrtpd, ASM1("sqrtpd", b), 16)
DEF_FP(sqrtss, ASM2("sqrtss", a, b), 4)
DEF_FP(sqrtsd, ASM2("sqrtsd", a, b), 8)
DEF_FP(rsqrtps, ASM1("rsqrtps", b), 16)
DEF_FP(rsqrtss, ASM2("rsqrtss", a, b), 4)
DEF_FP(rcpps, ASM1("rcpps", b), 16)
DEF_FP(rcpss, ASM2("rcpss", a, b), 4)
DEF_FP(cvtps2pd, ASM1("cvtps2pd", b), 8)
DEF_FP(cvtpd2ps, ASM1("cvtpd2ps", b), 16)
DEF_FP(cvtss2sd, ASM2("cvtss2sd", a, b), 4)
DEF_FP(cvtsd2ss, ASM2("cvtsd2ss", a, b), 8)
DEF_FP(cvtdq2ps, ASM1("cvtdq2ps", b), 16)
DEF_FP(cvtps2dq, ASM1("cvtps2dq", b), 16)
DEF_FP(cvttps2dq, ASM1("cvttps2dq", b), 16)
DEF_FP(cvtdq2pd, ASM1("cvtdq2pd", b), 8)
DEF_FP(cvtpd2dq, ASM1("cvtpd2dq", b), 16)
DEF_FP(cvttpd2dq, ASM1("cvttpd2dq", b), 16)

/* ---- compares --------------------------------------------------------------------- */

/* CMPPS/CMPPD/CMPSS/CMPSD predicates 0-7 (SDM vol. 2A, CMPPS table 3-7). */
#define CMP_SWITCH(insn, p, a, b) \
    ({ __m128i c_; \
       switch ((p) & 7) { \
       case 0: c_ = ASM2I(insn, 0, a, b); break; \
       case 1: c_ = ASM2I(insn, 1, a, b); break; \
       case 2: c_ = ASM2I(insn, 2, a, b); break; \
       case 3: c_ = ASM2I(insn, 3, a, b); break; \
       case 4: c_ = ASM2I(insn, 4, a, b); break; \
       case 5: c_ = ASM2I(insn, 5, a, b); break; \
       case 6: c_ = ASM2I(insn, 6, a, b); break; \
       default: c_ = ASM2I(insn, 7, a, b); break; \
       } \
       c_; })

DEF_FP(cmpps, CMP_SWITCH("cmpps", op->b1, a, b), 16)
DEF_FP(cmppd, CMP_SWITCH("cmppd", op->b1, a, b), 16)
DEF_FP(cmpss, CMP_SWITCH("cmpss", op->b1, a, b), 4)
DEF_FP(cmpsd, CMP_SWITCH("cmpsd", op->b1, a, b), 8)

/*
 * COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF from the comparison (all set if
 * unordered), OF SF AF cleared.  The host instruction itself runs, so the invalid
 * flag follows the signalling rules of each form.
 */
#define DEF_COMI(name, insn, size) \
static void op_##name(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i a, b; \
    uint8_t z, p, c; \
    SSE_CHECK(cpu, op); \
    b = sse_src(cpu, op, size); \
    a = xld(env, op->dst); \
    { \
        FP_BEGIN(cpu); \
        __asm__ volatile(insn " %4, %3\n\tsetz %0\n\tsetp %1\n\tsetc %2" \
                         : "=q"(z), "=q"(p), "=q"(c) : "x"(a), "x"(b) : "cc"); \
        FP_END(cpu, op); \
    } \
    x86_cc_load(env, (z ? X86_EFLAGS_ZF : 0) | (p ? X86_EFLAGS_PF : 0) | \
                     (c ? X86_EFLAGS_CF : 0)); \
    NEXT(cpu, op); \
}

DEF_COMI(comiss, "comiss", 4)
DEF_COMI(ucomiss, "ucomiss", 4)
DEF_COMI(comisd, "comisd", 8)
DEF_COMI(ucomisd, "ucomisd", 8)

/* ---- conversions involving MMX or general registers ------------------------------- */

/* CVTPI2PS xmm, mm/m64: two int32 to the low floats; the upper half is kept. */
static void op_cvtpi2ps(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    __m128i b, r;

    SSE_CHECK(cpu, op);
    if (!(op->b2 & SOP_MEM)) {
        MMX_CHECK(cpu, op);
    }
    b = mmx_src(cpu, op);
    {
        FP_BEGIN(cpu);
        r = ips(_mm_cvtepi32_ps(b));
        FP_END(cpu, op);
    }
    env->xmm[op->dst].q[0] = _mm_cvtsi128_si64(r);
    NEXT(cpu, op);
}

/* CVTPI2PD xmm, mm/m64: exact. */
static void op_cvtpi2pd(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    if (!(op->b2 & SOP_MEM)) {
        MMX_CHECK(cpu, op);
    }
    xst(&cpu->env, op->dst, ipd(_mm_cvtepi32_pd(mmx_src(cpu, op))));
    NEXT(cpu, op);
}

/* CVT(T)PS2PI / CVT(T)PD2PI: to an MMX register (b1: 1 = truncate). */
static void op_cvtps2pi(X86CPU *cpu, const KiteOp *op)
{
    __m128i b, r;

    SSE_CHECK(cpu, op);
    MMX_CHECK(cpu, op);
    b = sse_src(cpu, op, 8);
    {
        FP_BEGIN(cpu);
        r = op->imm ? _mm_cvttps_epi32(ps(b)) : _mm_cvtps_epi32(ps(b));
        FP_END(cpu, op);
    }
    mst(&cpu->env, op->dst, r);
    NEXT(cpu, op);
}

static void op_cvtpd2pi(X86CPU *cpu, const KiteOp *op)
{
    __m128i b, r;

    SSE_CHECK(cpu, op);
    MMX_CHECK(cpu, op);
    b = sse_src(cpu, op, 16);
    {
        FP_BEGIN(cpu);
        r = op->imm ? _mm_cvttpd_epi32(pd(b)) : _mm_cvtpd_epi32(pd(b));
        FP_END(cpu, op);
    }
    mst(&cpu->env, op->dst, r);
    NEXT(cpu, op);
}

/* CVTSI2SS/CVTSI2SD xmm, r/m32/64 (REX.W: 64-bit source). */
static int64_t int_src(X86CPU *cpu, const KiteOp *op)
{
    if (op->b2 & SOP_MEM) {
        uint64_t la = x86_op_la(cpu, op, (op->b2 & SOP_W) ? 8 : 4, false);
        return (op->b2 & SOP_W) ? (int64_t)x86_ld64(cpu, op, la)
                                : (int32_t)x86_ld32(cpu, op, la);
    }
    return (op->b2 & SOP_W) ? (int64_t)cpu->env.regs[op->src]
                            : (int32_t)REG32(&cpu->env, op->src);
}

static void op_cvtsi2ss(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int64_t v;
    __m128i r;

    SSE_CHECK(cpu, op);
    v = int_src(cpu, op);
    {
        FP_BEGIN(cpu);
        r = ips((op->b2 & SOP_W) ? _mm_cvtsi64_ss(ps(xld(env, op->dst)), v)
                                 : _mm_cvtsi32_ss(ps(xld(env, op->dst)), (int32_t)v));
        FP_END(cpu, op);
    }
    xst(env, op->dst, r);
    NEXT(cpu, op);
}

static void op_cvtsi2sd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int64_t v;
    __m128i r;

    SSE_CHECK(cpu, op);
    v = int_src(cpu, op);
    {
        FP_BEGIN(cpu);
        r = ipd((op->b2 & SOP_W) ? _mm_cvtsi64_sd(pd(xld(env, op->dst)), v)
                                 : _mm_cvtsi32_sd(pd(xld(env, op->dst)), (int32_t)v));
        FP_END(cpu, op);
    }
    xst(env, op->dst, r);
    NEXT(cpu, op);
}

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m: imm = 1 truncates; dst is a GPR. */
static void op_cvtss2si(X86CPU *cpu, const KiteOp *op)
{
    __m128 b;
    uint64_t r;

    SSE_CHECK(cpu, op);
    b = ps(sse_src(cpu, op, 4));
    {
        FP_BEGIN(cpu);
        if (op->b2 & SOP_W) {
            r = op->imm ? _mm_cvttss_si64(b) : _mm_cvtss_si64(b);
        } else {
            r = (uint32_t)(op->imm ? _mm_cvttss_si32(b) : _mm_cvtss_si32(b));
        }
        FP_END(cpu, op);
    }
    cpu->env.regs[op->dst] = r;
    NEXT(cpu, op);
}

static void op_cvtsd2si(X86CPU *cpu, const KiteOp *op)
{
    __m128d b;
    uint64_t r;

    SSE_CHECK(cpu, op);
    b = pd(sse_src(cpu, op, 8));
    {
        FP_BEGIN(cpu);
        if (op->b2 & SOP_W) {
            r = op->imm ? _mm_cvttsd_si64(b) : _mm_cvtsd_si64(b);
        } else {
            r = (uint32_t)(op->imm ? _mm_cvttsd_si32(b) : _mm_cvtsd_si32(b));
        }
        FP_END(cpu, op);
    }
    cpu->env.regs[op->dst] = r;
    NEXT(cpu, op);
}

/* Truncating variants share the handlers; decode-sse.c sets imm = 1 for them. */
#define A16 SK_A16
#define M4  SK_M4
#define M8  SK_M8

const SseDesc x86_sse_fp_desc[256][4] = {
    [0x2a] = { { op_cvtpi2ps, SK_SRC_MMX | M8 }, { op_cvtpi2pd, SK_SRC_MMX | M8 },
               { op_cvtsi2ss, SK_SRC_GPR }, { op_cvtsi2sd, SK_SRC_GPR } },
    [0x2c] = { { op_cvtps2pi, SK_DST_MMX | M8 }, { op_cvtpd2pi, SK_DST_MMX | A16 },
               { op_cvtss2si, SK_DST_GPR | M4 }, { op_cvtsd2si, SK_DST_GPR | M8 } },
    [0x2d] = { { op_cvtps2pi, SK_DST_MMX | M8 }, { op_cvtpd2pi, SK_DST_MMX | A16 },
               { op_cvtss2si, SK_DST_GPR | M4 }, { op_cvtsd2si, SK_DST_GPR | M8 } },
    [0x2e] = { { op_ucomiss, M4 }, { op_ucomisd, M8 } },
    [0x2f] = { { op_comiss, M4 }, { op_comisd, M8 } },
    [0x51] = { { op_sqrtps, A16 }, { op_sqrtpd, A16 }, { op_sqrtss, M4 }, { op_sqrtsd, M8 } },
    [0x52] = { { op_rsqrtps, A16 }, { NULL }, { op_rsqrtss, M4 } },
    [0x53] = { { op_rcpps, A16 }, { NULL }, { op_rcpss, M4 } },
    [0x58] = { { op_addps, A16 }, { op_addpd, A16 }, { op_addss, M4 }, { op_addsd, M8 } },
    [0x59] = { { op_mulps, A16 }, { op_mulpd, A16 }, { op_mulss, M4 }, { op_mulsd, M8 } },
    [0x5a] = { { op_cvtps2pd, M8 }, { op_cvtpd2ps, A16 }, { op_cvtss2sd, M4 },
               { op_cvtsd2ss, M8 } },
    [0x5b] = { { op_cvtdq2ps, A16 }, { op_cvtps2dq, A16 }, { op_cvttps2dq, A16 } },
    [0x5c] = { { op_subps, A16 }, { op_subpd, A16 }, { op_subss, M4 }, { op_subsd, M8 } },
    [0x5d] = { { op_minps, A16 }, { op_minpd, A16 }, { op_minss, M4 }, { op_minsd, M8 } },
    [0x5e] = { { op_divps, A16 }, { op_divpd, A16 }, { op_divss, M4 }, { op_divsd, M8 } },
    [0x5f] = { { op_maxps, A16 }, { op_maxpd, A16 }, { op_maxss, M4 }, { op_maxsd, M8 } },
    [0xc2] = { { op_cmpps, A16 | SK_IMM8 }, { op_cmppd, A16 | SK_IMM8 },
               { op_cmpss, M4 | SK_IMM8 }, { op_cmpsd, M8 | SK_IMM8 } },
    [0xe6] = { { NULL }, { op_cvttpd2dq, A16 }, { op_cvtdq2pd, M8 },
               { op_cvtpd2dq, A16 } },
};
