/*
 * x86 interpreter: MMX and SSE/SSE2 integer instructions and all data moves,
 * shuffles and logic ops of the 0F map (SDM vol. 2, each instruction; opcode map
 * vol. 2D, table A-3).  No-prefix forms of the integer opcodes act on MMX registers,
 * 66-prefixed forms on XMM registers; both run on the host's SSE2 (see sse.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/sse.h"

/* ---- memory operands ---------------------------------------------------------------- */

__m128i x86_sse_load(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    uint64_t la = x86_op_la(cpu, op, size, false);
    uint8_t *p;

    if ((op->b2 & SOP_ALIGN) && (la & 15)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    p = x86_tlb_r(cpu, la, size);
    if (likely(p)) {
        switch (size) {
        case 16: return _mm_loadu_si128((const __m128i *)p);
        case 8: return _mm_loadl_epi64((const __m128i *)p);
        case 4: return _mm_cvtsi32_si128(ldl_le_p(p));
        default: return _mm_cvtsi32_si128(lduw_le_p(p));
        }
    }
    if (size == 16) {
        uint64_t lo = x86_ld_slow(cpu, op, la, 8, X86_ACC_READ);
        uint64_t hi = x86_ld_slow(cpu, op, (la + 8) & cpu->la_mask, 8, X86_ACC_READ);
        return _mm_set_epi64x(hi, lo);
    }
    return _mm_cvtsi64_si128(x86_ld_slow(cpu, op, la, size, X86_ACC_READ));
}

void x86_sse_store_mem(X86CPU *cpu, const KiteOp *op, __m128i v, unsigned size)
{
    uint64_t la = x86_op_la(cpu, op, size, true);
    uint8_t *p;

    if ((op->b2 & SOP_ALIGN) && (la & 15)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    p = x86_tlb_w(cpu, la, size);
    if (likely(p)) {
        switch (size) {
        case 16: _mm_storeu_si128((__m128i *)p, v); return;
        case 8: _mm_storel_epi64((__m128i *)p, v); return;
        default: stl_le_p(p, _mm_cvtsi128_si32(v)); return;
        }
    }
    if (size == 16) {
        x86_probe_write(cpu, op, la, 16, X86_ACC_WRITE);
        x86_st_slow(cpu, op, la, 8, _mm_cvtsi128_si64(v), X86_ACC_WRITE);
        x86_st_slow(cpu, op, (la + 8) & cpu->la_mask, 8,
                    _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)), X86_ACC_WRITE);
        return;
    }
    x86_st_slow(cpu, op, la, size, _mm_cvtsi128_si64(v), X86_ACC_WRITE);
}

G_NORETURN void x86_fp_unavailable(X86CPU *cpu, const KiteOp *op, int vec)
{
    x86_raise(cpu, op, vec, 0);
}

/* ---- binary integer ops: XMM (66) and MMX (no prefix) forms --------------------------- */

#define DEF_BIN2(name, FX, FM) \
static void op_##name##_x(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i b; \
    SSE_CHECK(cpu, op); \
    b = sse_src(cpu, op, 16); \
    xst(env, op->dst, FX(xld(env, op->dst), b)); \
    NEXT(cpu, op); \
} \
static void op_##name##_m(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i b; \
    MMX_CHECK(cpu, op); \
    b = mmx_src(cpu, op); \
    mst(env, op->dst, FM(mld(env, op->dst), b)); \
    NEXT(cpu, op); \
}
#define DEF_BIN(name, F) DEF_BIN2(name, F, F)

/* MMX high unpacks and packs: the 64-bit operands sit in the low halves. */
static inline __m128i m_punpckhbw(__m128i a, __m128i b)
{
    return _mm_srli_si128(_mm_unpacklo_epi8(a, b), 8);
}
static inline __m128i m_punpckhwd(__m128i a, __m128i b)
{
    return _mm_srli_si128(_mm_unpacklo_epi16(a, b), 8);
}
static inline __m128i m_punpckhdq(__m128i a, __m128i b)
{
    return _mm_srli_si128(_mm_unpacklo_epi32(a, b), 8);
}
static inline __m128i m_packsswb(__m128i a, __m128i b)
{
    __m128i x = _mm_unpacklo_epi64(a, b);
    return _mm_packs_epi16(x, x);
}
static inline __m128i m_packuswb(__m128i a, __m128i b)
{
    __m128i x = _mm_unpacklo_epi64(a, b);
    return _mm_packus_epi16(x, x);
}
static inline __m128i m_packssdw(__m128i a, __m128i b)
{
    __m128i x = _mm_unpacklo_epi64(a, b);
    return _mm_packs_epi32(x, x);
}
static inline __m128i x_pandn(__m128i a, __m128i b)
{
    return _mm_andnot_si128(a, b);
}

DEF_BIN(punpcklbw, _mm_unpacklo_epi8)
DEF_BIN(punpcklwd, _mm_unpacklo_epi16)
DEF_BIN(punpckldq, _mm_unpacklo_epi32)
DEF_BIN2(punpckhbw, _mm_unpackhi_epi8, m_punpckhbw)
DEF_BIN2(punpckhwd, _mm_unpackhi_epi16, m_punpckhwd)
DEF_BIN2(punpckhdq, _mm_unpackhi_epi32, m_punpckhdq)
DEF_BIN2(packsswb, _mm_packs_epi16, m_packsswb)
DEF_BIN2(packuswb, _mm_packus_epi16, m_packuswb)
DEF_BIN2(packssdw, _mm_packs_epi32, m_packssdw)
DEF_BIN(pcmpgtb, _mm_cmpgt_epi8)
DEF_BIN(pcmpgtw, _mm_cmpgt_epi16)
DEF_BIN(pcmpgtd, _mm_cmpgt_epi32)
DEF_BIN(pcmpeqb, _mm_cmpeq_epi8)
DEF_BIN(pcmpeqw, _mm_cmpeq_epi16)
DEF_BIN(pcmpeqd, _mm_cmpeq_epi32)
DEF_BIN(psrlw, _mm_srl_epi16)
DEF_BIN(psrld, _mm_srl_epi32)
DEF_BIN(psrlq, _mm_srl_epi64)
DEF_BIN(psraw, _mm_sra_epi16)
DEF_BIN(psrad, _mm_sra_epi32)
DEF_BIN(psllw, _mm_sll_epi16)
DEF_BIN(pslld, _mm_sll_epi32)
DEF_BIN(psllq, _mm_sll_epi64)
DEF_BIN(paddq, _mm_add_epi64)
DEF_BIN(pmullw, _mm_mullo_epi16)
DEF_BIN(psubusb, _mm_subs_epu8)
DEF_BIN(psubusw, _mm_subs_epu16)
DEF_BIN(pminub, _mm_min_epu8)
DEF_BIN(pand, _mm_and_si128)
DEF_BIN(paddusb, _mm_adds_epu8)
DEF_BIN(paddusw, _mm_adds_epu16)
DEF_BIN(pmaxub, _mm_max_epu8)
DEF_BIN(pandn, x_pandn)
DEF_BIN(pavgb, _mm_avg_epu8)
DEF_BIN(pavgw, _mm_avg_epu16)
DEF_BIN(pmulhuw, _mm_mulhi_epu16)
DEF_BIN(pmulhw, _mm_mulhi_epi16)
DEF_BIN(psubsb, _mm_subs_epi8)
DEF_BIN(psubsw, _mm_subs_epi16)
DEF_BIN(pminsw, _mm_min_epi16)
DEF_BIN(por, _mm_or_si128)
DEF_BIN(paddsb, _mm_adds_epi8)
DEF_BIN(paddsw, _mm_adds_epi16)
DEF_BIN(pmaxsw, _mm_max_epi16)
DEF_BIN(pxor, _mm_xor_si128)
DEF_BIN(pmuludq, _mm_mul_epu32)
DEF_BIN(pmaddwd, _mm_madd_epi16)
DEF_BIN(psadbw, _mm_sad_epu8)
DEF_BIN(psubb, _mm_sub_epi8)
DEF_BIN(psubw, _mm_sub_epi16)
DEF_BIN(psubd, _mm_sub_epi32)
DEF_BIN(psubq, _mm_sub_epi64)
DEF_BIN(paddb, _mm_add_epi8)
DEF_BIN(paddw, _mm_add_epi16)
DEF_BIN(paddd, _mm_add_epi32)

/* SSE2-only binaries (XMM forms), including the bitwise float ops. */
#define DEF_BINX(name, F) \
static void op_##name(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i b; \
    SSE_CHECK(cpu, op); \
    b = sse_src(cpu, op, 16); \
    xst(env, op->dst, F(xld(env, op->dst), b)); \
    NEXT(cpu, op); \
}

static inline __m128i x_unpcklps(__m128i a, __m128i b)
{
    return _mm_unpacklo_epi32(a, b);
}
static inline __m128i x_unpckhps(__m128i a, __m128i b)
{
    return _mm_unpackhi_epi32(a, b);
}

DEF_BINX(punpcklqdq, _mm_unpacklo_epi64)
DEF_BINX(punpckhqdq, _mm_unpackhi_epi64)
DEF_BINX(unpcklps, x_unpcklps)
DEF_BINX(unpckhps, x_unpckhps)
DEF_BINX(andps, _mm_and_si128)
DEF_BINX(andnps, x_pandn)
DEF_BINX(orps, _mm_or_si128)
DEF_BINX(xorps, _mm_xor_si128)

/* ---- shifts by an immediate (groups 12-14: 0F 71, 72, 73) ------------------------------- */

/* psrldq/pslldq: whole-register byte shifts (XMM only). */
static __m128i byte_shift(__m128i v, int n, bool left)
{
    uint8_t in[16], out[16];

    _mm_storeu_si128((__m128i *)in, v);
    for (int i = 0; i < 16; i++) {
        int s = left ? i - n : i + n;
        out[i] = (n < 16 && s >= 0 && s < 16) ? in[s] : 0;
    }
    return _mm_loadu_si128((const __m128i *)out);
}

/* b1 = count, src = the register; src kind chosen by decode (MMX or XMM). */
#define DEF_SHI(name, EXPR) \
static void op_##name##_xi(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i a; \
    int n = op->b1; \
    SSE_CHECK(cpu, op); \
    a = xld(env, op->src); \
    xst(env, op->src, (EXPR)); \
    NEXT(cpu, op); \
} \
static void op_##name##_mi(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    __m128i a; \
    int n = op->b1; \
    MMX_CHECK(cpu, op); \
    a = mld(env, op->src); \
    mst(env, op->src, (EXPR)); \
    NEXT(cpu, op); \
}

DEF_SHI(psrlw, _mm_srli_epi16(a, n))
DEF_SHI(psraw, _mm_srai_epi16(a, n))
DEF_SHI(psllw, _mm_slli_epi16(a, n))
DEF_SHI(psrld, _mm_srli_epi32(a, n))
DEF_SHI(psrad, _mm_srai_epi32(a, n))
DEF_SHI(pslld, _mm_slli_epi32(a, n))
DEF_SHI(psrlq, _mm_srli_epi64(a, n))
DEF_SHI(psllq, _mm_slli_epi64(a, n))
/* PSRLDQ/PSLLDQ exist only for XMM registers. */
static void op_psrldq_xi(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    xst(&cpu->env, op->src, byte_shift(xld(&cpu->env, op->src), op->b1, false));
    NEXT(cpu, op);
}

static void op_pslldq_xi(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    xst(&cpu->env, op->src, byte_shift(xld(&cpu->env, op->src), op->b1, true));
    NEXT(cpu, op);
}

/* [group: 0 = 0F 71, 1 = 72, 2 = 73][ModRM.reg][0 MMX, 1 XMM] */
KiteOpFn *const x86_sse_shift_imm[3][8][2] = {
    [0] = { [2] = { op_psrlw_mi, op_psrlw_xi }, [4] = { op_psraw_mi, op_psraw_xi },
            [6] = { op_psllw_mi, op_psllw_xi } },
    [1] = { [2] = { op_psrld_mi, op_psrld_xi }, [4] = { op_psrad_mi, op_psrad_xi },
            [6] = { op_pslld_mi, op_pslld_xi } },
    [2] = { [2] = { op_psrlq_mi, op_psrlq_xi }, [3] = { NULL, op_psrldq_xi },
            [6] = { op_psllq_mi, op_psllq_xi }, [7] = { NULL, op_pslldq_xi } },
};

/* ---- shuffles ------------------------------------------------------------------------ */

static void op_pshufd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    X86XMMReg s, r;

    SSE_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&s, sse_src(cpu, op, 16));
    for (int i = 0; i < 4; i++) {
        r.l[i] = s.l[(op->b1 >> (2 * i)) & 3];
    }
    env->xmm[op->dst] = r;
    NEXT(cpu, op);
}

/* PSHUFHW (F3) / PSHUFLW (F2): b2 bit 4 selects the high half. */
static void shuf_words(X86XMMReg *r, const X86XMMReg *s, int base, uint8_t imm)
{
    for (int i = 0; i < 4; i++) {
        r->w[base + i] = s->w[base + ((imm >> (2 * i)) & 3)];
    }
}

static void op_pshufhw(X86CPU *cpu, const KiteOp *op)
{
    X86XMMReg s, r;

    SSE_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&s, sse_src(cpu, op, 16));
    r = s;
    shuf_words(&r, &s, 4, op->b1);
    cpu->env.xmm[op->dst] = r;
    NEXT(cpu, op);
}

static void op_pshuflw(X86CPU *cpu, const KiteOp *op)
{
    X86XMMReg s, r;

    SSE_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&s, sse_src(cpu, op, 16));
    r = s;
    shuf_words(&r, &s, 0, op->b1);
    cpu->env.xmm[op->dst] = r;
    NEXT(cpu, op);
}

static void op_pshufw(X86CPU *cpu, const KiteOp *op)
{
    X86XMMReg s, r;

    MMX_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&s, mmx_src(cpu, op));
    r = s;
    shuf_words(&r, &s, 0, op->b1);
    mst(&cpu->env, op->dst, _mm_loadu_si128((const __m128i *)&r));
    NEXT(cpu, op);
}

static void op_shufps(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    X86XMMReg a = env->xmm[op->dst], b, r;

    SSE_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&b, sse_src(cpu, op, 16));
    r.l[0] = a.l[op->b1 & 3];
    r.l[1] = a.l[(op->b1 >> 2) & 3];
    r.l[2] = b.l[(op->b1 >> 4) & 3];
    r.l[3] = b.l[(op->b1 >> 6) & 3];
    env->xmm[op->dst] = r;
    NEXT(cpu, op);
}

static void op_shufpd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    X86XMMReg a = env->xmm[op->dst], b, r;

    SSE_CHECK(cpu, op);
    _mm_storeu_si128((__m128i *)&b, sse_src(cpu, op, 16));
    r.q[0] = a.q[op->b1 & 1];
    r.q[1] = b.q[(op->b1 >> 1) & 1];
    env->xmm[op->dst] = r;
    NEXT(cpu, op);
}

/* ---- moves between registers and memory ------------------------------------------- */

/* MOVUPS/MOVAPS/MOVDQU/MOVDQA/MOVUPD/MOVAPD loads: xmm <- xmm/m128. */
static void op_movx_load(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    xst(&cpu->env, op->dst, sse_src(cpu, op, 16));
    NEXT(cpu, op);
}

/* ... and stores: xmm/m128 <- xmm (dst = r/m). */
static void op_movx_store(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        x86_sse_store_mem(cpu, op, xld(env, op->src), 16);
        NEXT_W(cpu, op);
    }
    xst(env, op->dst, xld(env, op->src));
    NEXT(cpu, op);
}

/* MOVSS/MOVSD load (F3/F2 0F 10): from memory the rest is zeroed, from a register kept. */
static void op_movss_load(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        xst(env, op->dst, x86_sse_load(cpu, op, 4));
    } else {
        env->xmm[op->dst].l[0] = env->xmm[op->src].l[0];
    }
    NEXT(cpu, op);
}

static void op_movsd_load(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        xst(env, op->dst, x86_sse_load(cpu, op, 8));
    } else {
        env->xmm[op->dst].q[0] = env->xmm[op->src].q[0];
    }
    NEXT(cpu, op);
}

static void op_movss_store(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        x86_sse_store_mem(cpu, op, xld(env, op->src), 4);
        NEXT_W(cpu, op);
    }
    env->xmm[op->dst].l[0] = env->xmm[op->src].l[0];
    NEXT(cpu, op);
}

static void op_movsd_store(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        x86_sse_store_mem(cpu, op, xld(env, op->src), 8);
        NEXT_W(cpu, op);
    }
    env->xmm[op->dst].q[0] = env->xmm[op->src].q[0];
    NEXT(cpu, op);
}

/* MOVLPS/MOVLPD xmm, m64 (0F 12 mem) and MOVHLPS xmm, xmm (0F 12 reg). */
static void op_movlps_load(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        env->xmm[op->dst].q[0] = _mm_cvtsi128_si64(x86_sse_load(cpu, op, 8));
    } else {
        env->xmm[op->dst].q[0] = env->xmm[op->src].q[1];
    }
    NEXT(cpu, op);
}

/* MOVHPS/MOVHPD xmm, m64 (0F 16 mem) and MOVLHPS xmm, xmm (0F 16 reg). */
static void op_movhps_load(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        env->xmm[op->dst].q[1] = _mm_cvtsi128_si64(x86_sse_load(cpu, op, 8));
    } else {
        env->xmm[op->dst].q[1] = env->xmm[op->src].q[0];
    }
    NEXT(cpu, op);
}

/* MOVLPS/MOVLPD m64, xmm (0F 13) and MOVHPS/MOVHPD m64, xmm (0F 17). */
static void op_movlps_store(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    x86_sse_store_mem(cpu, op, xld(&cpu->env, op->src), 8);
    NEXT_W(cpu, op);
}

static void op_movhps_store(X86CPU *cpu, const KiteOp *op)
{
    __m128i v;

    SSE_CHECK(cpu, op);
    v = xld(&cpu->env, op->src);
    x86_sse_store_mem(cpu, op, _mm_unpackhi_epi64(v, v), 8);
    NEXT_W(cpu, op);
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E): upper quadword zeroed. */
static void op_movq_xload(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    xst(&cpu->env, op->dst, _mm_move_epi64(sse_src(cpu, op, 8)));
    NEXT(cpu, op);
}

/* MOVQ xmm/m64, xmm (66 0F D6): a register destination gets its upper half zeroed. */
static void op_movq_xstore(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        x86_sse_store_mem(cpu, op, xld(env, op->src), 8);
        NEXT_W(cpu, op);
    }
    xst(env, op->dst, _mm_move_epi64(xld(env, op->src)));
    NEXT(cpu, op);
}

/* MOVD/MOVQ xmm, r/m32/64 (66 0F 6E) and mm, r/m32/64 (0F 6E). */
static uint64_t gpr_or_mem_src(X86CPU *cpu, const KiteOp *op)
{
    unsigned size = (op->b2 & SOP_W) ? 8 : 4;

    if (op->b2 & SOP_MEM) {
        uint64_t la = x86_op_la(cpu, op, size, false);
        return size == 8 ? x86_ld64(cpu, op, la) : x86_ld32(cpu, op, la);
    }
    return size == 8 ? cpu->env.regs[op->src] : REG32(&cpu->env, op->src);
}

static void op_movd_xload(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    xst(&cpu->env, op->dst, _mm_cvtsi64_si128(gpr_or_mem_src(cpu, op)));
    NEXT(cpu, op);
}

static void op_movd_mload(X86CPU *cpu, const KiteOp *op)
{
    uint64_t v;

    MMX_CHECK(cpu, op);
    v = gpr_or_mem_src(cpu, op);
    mst(&cpu->env, op->dst, _mm_cvtsi64_si128(v));
    NEXT(cpu, op);
}

/* MOVD/MOVQ r/m32/64, xmm (66 0F 7E) and r/m32/64, mm (0F 7E): dst = r/m. */
static void gpr_or_mem_dst(X86CPU *cpu, const KiteOp *op, uint64_t v)
{
    if (op->b2 & SOP_MEM) {
        uint64_t la = x86_op_la(cpu, op, (op->b2 & SOP_W) ? 8 : 4, true);
        if (op->b2 & SOP_W) {
            x86_st64(cpu, op, la, v);
        } else {
            x86_st32(cpu, op, la, v);
        }
    } else {
        cpu->env.regs[op->dst] = (op->b2 & SOP_W) ? v : (uint32_t)v;
    }
}

static void op_movd_xstore(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    gpr_or_mem_dst(cpu, op, cpu->env.xmm[op->src].q[0]);
    NEXT_W(cpu, op);
}

static void op_movd_mstore(X86CPU *cpu, const KiteOp *op)
{
    MMX_CHECK(cpu, op);
    gpr_or_mem_dst(cpu, op, cpu->env.fpregs[op->src].mant);
    NEXT_W(cpu, op);
}

/* MOVQ mm, mm/m64 (0F 6F) and MOVQ mm/m64, mm (0F 7F), MOVNTQ (0F E7). */
static void op_movq_mload(X86CPU *cpu, const KiteOp *op)
{
    __m128i v;

    MMX_CHECK(cpu, op);
    v = mmx_src(cpu, op);
    mst(&cpu->env, op->dst, v);
    NEXT(cpu, op);
}

static void op_movq_mstore(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    MMX_CHECK(cpu, op);
    if (op->b2 & SOP_MEM) {
        x86_sse_store_mem(cpu, op, mld(env, op->src), 8);
        NEXT_W(cpu, op);
    }
    mst(env, op->dst, mld(env, op->src));
    NEXT(cpu, op);
}

/* MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6). */
static void op_movq2dq(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    MMX_CHECK(cpu, op);
    xst(&cpu->env, op->dst, mld(&cpu->env, op->src));
    NEXT(cpu, op);
}

static void op_movdq2q(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    MMX_CHECK(cpu, op);
    mst(&cpu->env, op->dst, xld(&cpu->env, op->src));
    NEXT(cpu, op);
}

/* PMOVMSKB r32, mm/xmm (0F D7, register only); MOVMSKPS/PD r32, xmm (0F 50). */
static void op_pmovmskb_x(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    cpu->env.regs[op->dst] = (uint32_t)_mm_movemask_epi8(xld(&cpu->env, op->src));
    NEXT(cpu, op);
}

static void op_pmovmskb_m(X86CPU *cpu, const KiteOp *op)
{
    MMX_CHECK(cpu, op);
    cpu->env.regs[op->dst] = _mm_movemask_epi8(mld(&cpu->env, op->src)) & 0xff;
    NEXT(cpu, op);
}

static void op_movmskps(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    cpu->env.regs[op->dst] = _mm_movemask_ps(_mm_castsi128_ps(xld(&cpu->env, op->src)));
    NEXT(cpu, op);
}

static void op_movmskpd(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    cpu->env.regs[op->dst] = _mm_movemask_pd(_mm_castsi128_pd(xld(&cpu->env, op->src)));
    NEXT(cpu, op);
}

/* PEXTRW r32, mm/xmm, imm8 (0F C5, register source); PINSRW (0F C4). */
static void op_pextrw_x(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    cpu->env.regs[op->dst] = cpu->env.xmm[op->src].w[op->b1 & 7];
    NEXT(cpu, op);
}

static void op_pextrw_m(X86CPU *cpu, const KiteOp *op)
{
    MMX_CHECK(cpu, op);
    cpu->env.regs[op->dst] = (cpu->env.fpregs[op->src].mant >> (16 * (op->b1 & 3))) & 0xffff;
    NEXT(cpu, op);
}

static uint16_t pinsrw_src(X86CPU *cpu, const KiteOp *op)
{
    if (op->b2 & SOP_MEM) {
        return x86_ld16(cpu, op, x86_op_la(cpu, op, 2, false));
    }
    return REG16(&cpu->env, op->src);
}

static void op_pinsrw_x(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    cpu->env.xmm[op->dst].w[op->b1 & 7] = pinsrw_src(cpu, op);
    NEXT(cpu, op);
}

static void op_pinsrw_m(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned sh;
    uint16_t v;

    MMX_CHECK(cpu, op);
    v = pinsrw_src(cpu, op);
    sh = 16 * (op->b1 & 3);
    env->fpregs[op->dst].mant = (env->fpregs[op->dst].mant & ~(0xffffULL << sh)) |
                                ((uint64_t)v << sh);
    env->fpregs[op->dst].sign_exp = 0xffff;
    NEXT(cpu, op);
}

/* MASKMOVQ / MASKMOVDQU: byte-masked store to DS:rDI (segment overridable). */
static void maskmov(X86CPU *cpu, const KiteOp *op, const uint8_t *data,
                    const uint8_t *mask, int n)
{
    CPUX86State *env = &cpu->env;
    uint64_t ea = env->regs[R_EDI] & x86_amask[op->asize];

    for (int i = 0; i < n; i++) {
        if (mask[i] & 0x80) {
            uint64_t la = x86_seg_la(cpu, op, op->seg, (ea + i) & x86_amask[op->asize], 1,
                                     true);
            x86_st8(cpu, op, la, data[i]);
        }
    }
}

static void op_maskmovdqu(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    SSE_CHECK(cpu, op);
    maskmov(cpu, op, env->xmm[op->dst].b, env->xmm[op->src].b, 16);
    NEXT_W(cpu, op);
}

static void op_maskmovq(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t d, m;

    MMX_CHECK(cpu, op);
    d = env->fpregs[op->dst].mant;
    m = env->fpregs[op->src].mant;
    maskmov(cpu, op, (const uint8_t *)&d, (const uint8_t *)&m, 8);
    NEXT_W(cpu, op);
}

/* EMMS (0F 77): every x87 register becomes empty. */
void x86_op_emms(X86CPU *cpu, const KiteOp *op)
{
    if (unlikely(cpu->mmx_fault)) {
        x86_fp_unavailable(cpu, op, cpu->mmx_fault);
    }
    cpu->env.fptag_valid = 0;
    NEXT(cpu, op);
}

/* ---- decode table ------------------------------------------------------------------ */

#define XX(fn)     { fn, 0 }
#define XA(fn)     { fn, SK_A16 }
#define PAIR(name) { op_##name##_m, SK_MMX }, { op_##name##_x, SK_A16 }

const SseDesc x86_sse_int_desc[256][4] = {
    /* 0F 10/11: MOVUPS MOVUPD MOVSS MOVSD */
    [0x10] = { XX(op_movx_load), XX(op_movx_load), { op_movss_load, SK_M4 },
               { op_movsd_load, SK_M8 } },
    [0x11] = { { op_movx_store, SK_STORE }, { op_movx_store, SK_STORE },
               { op_movss_store, SK_STORE | SK_M4 }, { op_movsd_store, SK_STORE | SK_M8 } },
    [0x12] = { { op_movlps_load, SK_M8 }, { op_movlps_load, SK_M8 | SK_MEM } },
    [0x13] = { { op_movlps_store, SK_STORE | SK_MEM | SK_M8 },
               { op_movlps_store, SK_STORE | SK_MEM | SK_M8 } },
    [0x14] = { XA(op_unpcklps), XA(op_punpcklqdq) },      /* UNPCKLPD = PUNPCKLQDQ */
    [0x15] = { XA(op_unpckhps), XA(op_punpckhqdq) },
    [0x16] = { { op_movhps_load, SK_M8 }, { op_movhps_load, SK_M8 | SK_MEM } },
    [0x17] = { { op_movhps_store, SK_STORE | SK_MEM | SK_M8 },
               { op_movhps_store, SK_STORE | SK_MEM | SK_M8 } },
    [0x28] = { XA(op_movx_load), XA(op_movx_load) },
    [0x29] = { { op_movx_store, SK_STORE | SK_A16 }, { op_movx_store, SK_STORE | SK_A16 } },
    [0x2b] = { { op_movx_store, SK_STORE | SK_A16 | SK_MEM },
               { op_movx_store, SK_STORE | SK_A16 | SK_MEM } },
    [0x50] = { { op_movmskps, SK_DST_GPR | SK_REG }, { op_movmskpd, SK_DST_GPR | SK_REG } },
    [0x54] = { XA(op_andps), XA(op_andps) },
    [0x55] = { XA(op_andnps), XA(op_andnps) },
    [0x56] = { XA(op_orps), XA(op_orps) },
    [0x57] = { XA(op_xorps), XA(op_xorps) },
    [0x60] = { PAIR(punpcklbw) }, [0x61] = { PAIR(punpcklwd) },
    [0x62] = { PAIR(punpckldq) }, [0x63] = { PAIR(packsswb) },
    [0x64] = { PAIR(pcmpgtb) }, [0x65] = { PAIR(pcmpgtw) }, [0x66] = { PAIR(pcmpgtd) },
    [0x67] = { PAIR(packuswb) }, [0x68] = { PAIR(punpckhbw) },
    [0x69] = { PAIR(punpckhwd) }, [0x6a] = { PAIR(punpckhdq) },
    [0x6b] = { PAIR(packssdw) },
    [0x6c] = { { NULL }, XA(op_punpcklqdq) },
    [0x6d] = { { NULL }, XA(op_punpckhqdq) },
    [0x6e] = { { op_movd_mload, SK_DST_MMX | SK_SRC_GPR },
               { op_movd_xload, SK_SRC_GPR } },
    [0x6f] = { { op_movq_mload, SK_MMX }, XA(op_movx_load), XX(op_movx_load) },
    [0x70] = { { op_pshufw, SK_MMX | SK_IMM8 }, { op_pshufd, SK_A16 | SK_IMM8 },
               { op_pshufhw, SK_A16 | SK_IMM8 }, { op_pshuflw, SK_A16 | SK_IMM8 } },
    [0x74] = { PAIR(pcmpeqb) }, [0x75] = { PAIR(pcmpeqw) }, [0x76] = { PAIR(pcmpeqd) },
    [0x7e] = { { op_movd_mstore, SK_DST_MMX | SK_STORE | SK_SRC_GPR },
               { op_movd_xstore, SK_STORE | SK_SRC_GPR },
               { op_movq_xload, SK_M8 } },
    [0x7f] = { { op_movq_mstore, SK_MMX | SK_STORE }, { op_movx_store, SK_STORE | SK_A16 },
               { op_movx_store, SK_STORE } },
    [0xc4] = { { op_pinsrw_m, SK_DST_MMX | SK_SRC_GPR | SK_IMM8 | SK_M2 },
               { op_pinsrw_x, SK_SRC_GPR | SK_IMM8 | SK_M2 } },
    [0xc5] = { { op_pextrw_m, SK_SRC_MMX | SK_DST_GPR | SK_REG | SK_IMM8 },
               { op_pextrw_x, SK_DST_GPR | SK_REG | SK_IMM8 } },
    [0xc6] = { { op_shufps, SK_A16 | SK_IMM8 }, { op_shufpd, SK_A16 | SK_IMM8 } },
    [0xd1] = { PAIR(psrlw) }, [0xd2] = { PAIR(psrld) }, [0xd3] = { PAIR(psrlq) },
    [0xd4] = { PAIR(paddq) }, [0xd5] = { PAIR(pmullw) },
    [0xd6] = { { NULL }, { op_movq_xstore, SK_STORE | SK_M8 },
               { op_movq2dq, SK_SRC_MMX | SK_REG }, { op_movdq2q, SK_DST_MMX | SK_REG } },
    [0xd7] = { { op_pmovmskb_m, SK_SRC_MMX | SK_DST_GPR | SK_REG },
               { op_pmovmskb_x, SK_DST_GPR | SK_REG } },
    [0xd8] = { PAIR(psubusb) }, [0xd9] = { PAIR(psubusw) }, [0xda] = { PAIR(pminub) },
    [0xdb] = { PAIR(pand) }, [0xdc] = { PAIR(paddusb) }, [0xdd] = { PAIR(paddusw) },
    [0xde] = { PAIR(pmaxub) }, [0xdf] = { PAIR(pandn) },
    [0xe0] = { PAIR(pavgb) }, [0xe1] = { PAIR(psraw) }, [0xe2] = { PAIR(psrad) },
    [0xe3] = { PAIR(pavgw) }, [0xe4] = { PAIR(pmulhuw) }, [0xe5] = { PAIR(pmulhw) },
    [0xe7] = { { op_movq_mstore, SK_MMX | SK_STORE | SK_MEM },
               { op_movx_store, SK_STORE | SK_MEM | SK_A16 } },
    [0xe8] = { PAIR(psubsb) }, [0xe9] = { PAIR(psubsw) }, [0xea] = { PAIR(pminsw) },
    [0xeb] = { PAIR(por) }, [0xec] = { PAIR(paddsb) }, [0xed] = { PAIR(paddsw) },
    [0xee] = { PAIR(pmaxsw) }, [0xef] = { PAIR(pxor) },
    [0xf1] = { PAIR(psllw) }, [0xf2] = { PAIR(pslld) }, [0xf3] = { PAIR(psllq) },
    [0xf4] = { PAIR(pmuludq) }, [0xf5] = { PAIR(pmaddwd) }, [0xf6] = { PAIR(psadbw) },
    [0xf7] = { { op_maskmovq, SK_MMX | SK_REG }, { op_maskmovdqu, SK_REG } },
    [0xf8] = { PAIR(psubb) }, [0xf9] = { PAIR(psubw) }, [0xfa] = { PAIR(psubd) },
    [0xfb] = { PAIR(psubq) }, [0xfc] = { PAIR(paddb) }, [0xfd] = { PAIR(paddw) },
    [0xfe] = { PAIR(paddd) },
};
