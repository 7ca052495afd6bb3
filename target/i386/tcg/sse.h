/*
 * x86 interpreter: MMX/SSE/SSE2 support shared by sse-int.c, sse-fp.c and
 * decode-sse.c.
 *
 * Vector arithmetic runs on the host's own SSE2 unit through compiler intrinsics (the
 * interpreter requires an x86-64 host), so results, NaN propagation and the
 * "integer indefinite" conversions are the hardware's.  MMX instructions are done
 * with the same SSE2 operations on the low 64 bits; the host MMX/x87 registers are
 * never touched by them.  The host MXCSR carries the guest's rounding mode, FTZ and
 * DAZ while x86_cpu_exec() runs (fpu.c), with every exception masked; exception flags
 * are merged back into env.mxcsr when the guest reads MXCSR.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_SSE_H
#define TARGET_I386_TCG_SSE_H

#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/mem.h"

#if !defined(__x86_64__)
#error "the x86 interpreter's SSE/x87 code needs an x86-64 host"
#endif
#include <emmintrin.h>

/* Decode descriptor of one (opcode, mandatory prefix) pair of the 0F map. */
typedef struct SseDesc {
    KiteOpFn *fn;
    uint16_t kind;
} SseDesc;

#define SK_MMX      0x0001   /* ModRM reg and r/m registers are MMX registers */
#define SK_SRC_MMX  0x0002   /* only the r/m register is MMX (CVTPI2PS, MOVQ2DQ) */
#define SK_DST_MMX  0x0004   /* only the reg-field register is MMX (CVTPS2PI, MOVDQ2Q) */
#define SK_SRC_GPR  0x0008   /* r/m register is a general register (MOVD, CVTSI2SS) */
#define SK_DST_GPR  0x0010   /* reg field is a general register (CVTSS2SI, PEXTRW) */
#define SK_IMM8     0x0020   /* an imm8 follows (in KiteOp.b1) */
#define SK_A16      0x0040   /* a memory operand must be 16-byte aligned */
#define SK_MEM      0x0080   /* memory operand only */
#define SK_REG      0x0100   /* register operand only */
#define SK_STORE    0x0200   /* r/m is the destination: dst = r/m, src = reg */
#define SK_M4       0x0400   /* memory operand of 4 bytes */
#define SK_M8       0x0800   /* memory operand of 8 bytes */
#define SK_M2       0x1000   /* memory operand of 2 bytes */

/* KiteOp.b2 bits used by SSE handlers. */
#define SOP_MEM     0x02     /* the r/m operand is memory */
#define SOP_ALIGN   0x04     /* check 16-byte alignment */
#define SOP_W       0x08     /* REX.W */

/*
 * Indexed [opcode][prefix: 0 none, 1 66, 2 F3, 3 F2].  Register kinds: the ModRM reg
 * field is a GPR with SK_DST_GPR, an MMX register with SK_MMX or SK_DST_MMX, else an
 * XMM register; the r/m register likewise with SK_SRC_GPR, SK_MMX or SK_SRC_MMX.
 * SK_STORE swaps the roles: KiteOp.dst is then the r/m operand, src the reg field.
 */
extern const SseDesc x86_sse_int_desc[256][4];
extern const SseDesc x86_sse_fp_desc[256][4];
/* Shift-by-immediate groups 0F 71-73: [opcode - 0x71][ModRM.reg][0 MMX, 1 XMM]. */
extern KiteOpFn *const x86_sse_shift_imm[3][8][2];
KiteOpFn x86_op_emms;

/* Raise the #UD/#NM that CR0/CR4 demand for SSE, MMX or x87 instructions. */
G_NORETURN void x86_fp_unavailable(X86CPU *cpu, const KiteOp *op, int vec);

#define SSE_CHECK(cpu, op) \
    do { if (unlikely((cpu)->sse_fault)) { x86_fp_unavailable(cpu, op, (cpu)->sse_fault); } } while (0)
#define MMX_CHECK(cpu, op) \
    do { \
        if (unlikely((cpu)->mmx_fault)) { x86_fp_unavailable(cpu, op, (cpu)->mmx_fault); } \
        (cpu)->env.fpstt = 0; \
        (cpu)->env.fptag_valid = 0xff; \
    } while (0)

static inline __m128i xld(const CPUX86State *env, int r)
{
    return _mm_load_si128((const __m128i *)&env->xmm[r]);
}

static inline void xst(CPUX86State *env, int r, __m128i v)
{
    _mm_store_si128((__m128i *)&env->xmm[r], v);
}

static inline __m128i mld(const CPUX86State *env, int r)
{
    return _mm_cvtsi64_si128(env->fpregs[r].mant);
}

/* Writing an MMX register sets its exponent field to all ones (SDM vol. 1, 9.5.1). */
static inline void mst(CPUX86State *env, int r, __m128i v)
{
    env->fpregs[r].mant = _mm_cvtsi128_si64(v);
    env->fpregs[r].sign_exp = 0xffff;
}

/* 16-, 8- or 4-byte memory operand, zero-extended, with the alignment check. */
__m128i x86_sse_load(X86CPU *cpu, const KiteOp *op, unsigned size);
void x86_sse_store_mem(X86CPU *cpu, const KiteOp *op, __m128i v, unsigned size);

/* The r/m source: an XMM register or memory of size bytes. */
static inline __m128i sse_src(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    if (op->b2 & SOP_MEM) {
        return x86_sse_load(cpu, op, size);
    }
    return xld(&cpu->env, op->src);
}

/* The r/m source of an MMX instruction: an MMX register or 8 bytes of memory. */
static inline __m128i mmx_src(X86CPU *cpu, const KiteOp *op)
{
    if (op->b2 & SOP_MEM) {
        return x86_sse_load(cpu, op, 8);
    }
    return mld(&cpu->env, op->src);
}

/* After a guest write to MXCSR: load the host MXCSR (fpu.c). */
void x86_mxcsr_changed(X86CPU *cpu);
/* Collect exception flags the host raised for the guest into env.mxcsr. */
void x86_mxcsr_sync(X86CPU *cpu);
/* With unmasked SIMD exceptions: raise #XM/#UD for flags raised since *saved. */
void x86_sse_exc_check(X86CPU *cpu, const KiteOp *op, uint32_t saved);

#define FP_BEGIN(cpu) \
    uint32_t fp_saved_ = 0; \
    if (unlikely((cpu)->mxcsr_unmasked)) { \
        fp_saved_ = _mm_getcsr(); \
        _mm_setcsr(fp_saved_ & ~0x3fu); \
    }
#define FP_END(cpu, op) \
    do { \
        if (unlikely((cpu)->mxcsr_unmasked)) { \
            x86_sse_exc_check(cpu, op, fp_saved_); \
        } \
    } while (0)

#endif
