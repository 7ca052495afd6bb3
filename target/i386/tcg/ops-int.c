/*
 * x86 interpreter: integer instructions (SDM vol. 2A-2D).
 *
 * The per-size handlers come from ops-int-tmpl.h; this file holds the handler
 * tables and the integer instructions that are not worth a handler per size: BCD,
 * bit tests, double shifts, CMPXCHG8B/16B, flag instructions, SETcc, BSWAP, XLAT.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/ops.h"

#define SZ 8
#include "target/i386/tcg/ops-int-tmpl.h"
#define SZ 16
#include "target/i386/tcg/ops-int-tmpl.h"
#define SZ 32
#include "target/i386/tcg/ops-int-tmpl.h"
#define SZ 64
#include "target/i386/tcg/ops-int-tmpl.h"

#define ALU_FORM(form, sz) { op_add_##form##sz, op_or_##form##sz, op_adc_##form##sz, \
    op_sbb_##form##sz, op_and_##form##sz, op_sub_##form##sz, op_xor_##form##sz, \
    op_cmp_##form##sz, op_test_##form##sz }

#define COMMON_OPS(sz) \
    .alu = { ALU_FORM(rr, sz), ALU_FORM(rm, sz), ALU_FORM(mr, sz), ALU_FORM(ri, sz), \
             ALU_FORM(mi, sz) }, \
    .mov = { op_mov_rr##sz, op_mov_rm##sz, op_mov_mr##sz, op_mov_ri##sz, op_mov_mi##sz }, \
    .inc_r = op_inc_r##sz, .dec_r = op_dec_r##sz, .inc_m = op_inc_m##sz, \
    .dec_m = op_dec_m##sz, .not_r = op_not_r##sz, .not_m = op_not_m##sz, \
    .neg_r = op_neg_r##sz, .neg_m = op_neg_m##sz, .shift_r = op_shift_r##sz, \
    .shift_m = op_shift_m##sz, .shl_ri = op_shl_ri##sz, .shr_ri = op_shr_ri##sz, \
    .sar_ri = op_sar_ri##sz, .shl_rcl = op_shl_rcl##sz, .shr_rcl = op_shr_rcl##sz, \
    .sar_rcl = op_sar_rcl##sz, .rol_ri = op_rol_ri##sz, .ror_ri = op_ror_ri##sz, .xchg_rr = op_xchg_rr##sz, .xchg_mr = op_xchg_mr##sz, \
    .xadd_rr = op_xadd_rr##sz, .xadd_mr = op_xadd_mr##sz, \
    .cmpxchg_rr = op_cmpxchg_rr##sz, .cmpxchg_mr = op_cmpxchg_mr##sz, \
    .cmp_jcc = { cmp_rr_jcc##sz, cmp_rm_jcc##sz, cmp_mr_jcc##sz, cmp_ri_jcc##sz, \
                 cmp_mi_jcc##sz }, \
    .test_jcc = { test_rr_jcc##sz, NULL, NULL, test_ri_jcc##sz, test_mi_jcc##sz }, \
    .muldiv = op_muldiv##sz

#define ALU_JCC_OPS(sz) \
    .alu_rr_jcc = { add_rr_jcc##sz, or_rr_jcc##sz, NULL, NULL, and_rr_jcc##sz, \
                    sub_rr_jcc##sz, xor_rr_jcc##sz }, \
    .alu_ri_jcc = { add_ri_jcc##sz, or_ri_jcc##sz, NULL, NULL, and_ri_jcc##sz, \
                    sub_ri_jcc##sz, xor_ri_jcc##sz }, \
    .inc_jcc = inc_r_jcc##sz, .dec_jcc = dec_r_jcc##sz

#define WIDE_OPS(sz) \
    .imul2 = op_imul2##sz, .cmov = op_cmov##sz, .cmov_r = cmov_r##sz, \
    .bsf = op_bsf##sz, .bsr = op_bsr##sz, \
    .popcnt = op_popcnt##sz, .movx = op_movx##sz, .movzx8_rr = op_movzx8_rr##sz, \
    .movzx8_rm = op_movzx8_rm##sz, .movzx16_rm = op_movzx16_rm##sz, .lea = op_lea##sz

const X86IntOps x86_int_ops[4] = {
    { COMMON_OPS(8) },
    { COMMON_OPS(16), WIDE_OPS(16) },
    { COMMON_OPS(32), WIDE_OPS(32), ALU_JCC_OPS(32) },
    { COMMON_OPS(64), WIDE_OPS(64), ALU_JCC_OPS(64) },
};

/*
 * ---- flag effects, for decode.c's flag liveness ----------------------------------
 *
 * A table by handler: X86_FL_KILL for handlers that write all of OSZAPC without reading
 * any and can neither fault nor leave the trace; X86_FL_NEUTRAL for those that touch no
 * flag and can neither fault nor leave the trace; and the flag-less variant where one
 * exists.  Handlers not in it are X86_FL_READ (the safe answer).
 */
typedef struct FlagInfo {
    KiteOpFn *fn, *nf;
    uint8_t cls;
    bool b2mem;     /* b2 & 2 marks a memory operand: then it may fault (READ) */
} FlagInfo;

#define FLAG_INFO_BITS 11
static FlagInfo flag_info[1u << FLAG_INFO_BITS];

static unsigned flag_info_hash(KiteOpFn *fn)
{
    return (uint32_t)(((uintptr_t)fn * 0x9e3779b97f4a7c15ULL) >> 40) &
           ((1u << FLAG_INFO_BITS) - 1);
}

static void flag_info_add_rm(KiteOpFn *fn, KiteOpFn *nf, int cls, bool b2mem)
{
    unsigned h = flag_info_hash(fn);

    while (flag_info[h].fn && flag_info[h].fn != fn) {
        h = (h + 1) & ((1u << FLAG_INFO_BITS) - 1);
    }
    flag_info[h] = (FlagInfo){ fn, nf, cls, b2mem };
}

static void flag_info_add(KiteOpFn *fn, KiteOpFn *nf, int cls)
{
    flag_info_add_rm(fn, nf, cls, false);
}

#define FLAG_INFO_SIZE(sz) do { \
        const X86IntOps *t = &x86_int_ops[__builtin_ctz(sz) - 3]; \
        KiteOpFn *const *jt[] = { cmp_rr_jcc##sz, cmp_ri_jcc##sz, test_rr_jcc##sz, \
                                  test_ri_jcc##sz, t->alu_rr_jcc[0], t->alu_rr_jcc[1], \
                                  t->alu_rr_jcc[4], t->alu_rr_jcc[5], t->alu_rr_jcc[6], \
                                  t->alu_ri_jcc[0], t->alu_ri_jcc[1], t->alu_ri_jcc[4], \
                                  t->alu_ri_jcc[5], t->alu_ri_jcc[6] }; \
        flag_info_add(op_add_rr##sz, op_add_rr_nf##sz, X86_FL_KILL); \
        flag_info_add(op_or_rr##sz, op_or_rr_nf##sz, X86_FL_KILL); \
        flag_info_add(op_and_rr##sz, op_and_rr_nf##sz, X86_FL_KILL); \
        flag_info_add(op_sub_rr##sz, op_sub_rr_nf##sz, X86_FL_KILL); \
        flag_info_add(op_xor_rr##sz, op_xor_rr_nf##sz, X86_FL_KILL); \
        flag_info_add(op_cmp_rr##sz, NULL, X86_FL_KILL); \
        flag_info_add(op_test_rr##sz, NULL, X86_FL_KILL); \
        flag_info_add(op_add_ri##sz, op_add_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_or_ri##sz, op_or_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_and_ri##sz, op_and_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_sub_ri##sz, op_sub_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_xor_ri##sz, op_xor_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_cmp_ri##sz, NULL, X86_FL_KILL); \
        flag_info_add(op_test_ri##sz, NULL, X86_FL_KILL); \
        /* Loads can fault: they stay observers, but their own flags can go. */ \
        flag_info_add(op_add_rm##sz, op_add_rm_nf##sz, X86_FL_READ); \
        flag_info_add(op_or_rm##sz, op_or_rm_nf##sz, X86_FL_READ); \
        flag_info_add(op_and_rm##sz, op_and_rm_nf##sz, X86_FL_READ); \
        flag_info_add(op_sub_rm##sz, op_sub_rm_nf##sz, X86_FL_READ); \
        flag_info_add(op_xor_rm##sz, op_xor_rm_nf##sz, X86_FL_READ); \
        /* Counts are non-zero here (a zero count decodes to x86_op_nop). */ \
        flag_info_add(op_shl_ri##sz, op_shl_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_shr_ri##sz, op_shr_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_sar_ri##sz, op_sar_ri_nf##sz, X86_FL_KILL); \
        flag_info_add(op_neg_r##sz, op_neg_r_nf##sz, X86_FL_KILL); \
        /* Rotates write CF and OF only: the others pass through. */ \
        flag_info_add(op_rol_ri##sz, op_rol_ri_nf##sz, X86_FL_READ); \
        flag_info_add(op_ror_ri##sz, op_ror_ri_nf##sz, X86_FL_READ); \
        /* INC/DEC keep CF: they read it. */ \
        flag_info_add(op_inc_r##sz, op_inc_r_nf##sz, X86_FL_READ); \
        flag_info_add(op_dec_r##sz, op_dec_r_nf##sz, X86_FL_READ); \
        flag_info_add(op_not_r##sz, NULL, X86_FL_NEUTRAL); \
        flag_info_add(op_mov_rr##sz, NULL, X86_FL_NEUTRAL); \
        flag_info_add(op_mov_ri##sz, NULL, X86_FL_NEUTRAL); \
        flag_info_add(op_xchg_rr##sz, NULL, X86_FL_NEUTRAL); \
        /* CMP/TEST/ALU + Jcc: the Jcc op behind reads what the pair computed (the */ \
        /* fused INC/DEC keep CF: readers, not in the table). */ \
        for (unsigned j = 0; j < ARRAY_SIZE(jt); j++) { \
            if (!jt[j]) { \
                continue; \
            } \
            for (int cc = 0; cc < 16; cc++) { \
                flag_info_add(jt[j][cc], NULL, X86_FL_KILL); \
            } \
        } \
    } while (0)

static gpointer flag_info_init(gpointer unused)
{
    FLAG_INFO_SIZE(8);
    FLAG_INFO_SIZE(16);
    FLAG_INFO_SIZE(32);
    FLAG_INFO_SIZE(64);
    flag_info_add_rm(op_imul216, op_imul2_nf16, X86_FL_KILL, true);
    flag_info_add_rm(op_imul232, op_imul2_nf32, X86_FL_KILL, true);
    flag_info_add_rm(op_imul264, op_imul2_nf64, X86_FL_KILL, true);
    for (int s = 1; s < 4; s++) {
        flag_info_add(x86_int_ops[s].movzx8_rr, NULL, X86_FL_NEUTRAL);
        flag_info_add(x86_int_ops[s].lea, NULL, X86_FL_NEUTRAL);
        /* MOVZX/MOVSX (register or memory source) */
        flag_info_add_rm(x86_int_ops[s].movx, NULL, X86_FL_NEUTRAL, true);
    }
    flag_info_add_rm(x86_op_movsxd, NULL, X86_FL_NEUTRAL, true);
    flag_info_add(x86_op_nop, NULL, X86_FL_NEUTRAL);
    return NULL;
}

int x86_flag_info(const KiteOp *op, KiteOpFn **nf)
{
    static GOnce once = G_ONCE_INIT;
    unsigned h;

    g_once(&once, flag_info_init, NULL);
    *nf = NULL;
    for (h = flag_info_hash(op->exec); flag_info[h].fn;
         h = (h + 1) & ((1u << FLAG_INFO_BITS) - 1)) {
        if (flag_info[h].fn == op->exec) {
            *nf = flag_info[h].nf;
            return flag_info[h].b2mem && (op->b2 & 2) ? X86_FL_READ : flag_info[h].cls;
        }
    }
    return X86_FL_READ;
}

void x86_op_nop(X86CPU *cpu, const KiteOp *op)
{
    NEXT(cpu, op);
}

/* ---- flags ------------------------------------------------------------------------ */

uint32_t x86_cc_compute(const CPUX86State *env)
{
    return (cc_cf(env) ? X86_EFLAGS_CF : 0) | (cc_pf(env) ? X86_EFLAGS_PF : 0) |
           (cc_af(env) ? X86_EFLAGS_AF : 0) | (cc_zf(env) ? X86_EFLAGS_ZF : 0) |
           (cc_sf(env) ? X86_EFLAGS_SF : 0) | (cc_of(env) ? X86_EFLAGS_OF : 0);
}

void x86_cc_load(CPUX86State *env, uint32_t f)
{
    bool zf = f & X86_EFLAGS_ZF, pf = f & X86_EFLAGS_PF;
    bool cf = f & X86_EFLAGS_CF, of = f & X86_EFLAGS_OF;
    /* res = 0 or 1 gives ZF; the deltas fix SF and PF (see flags.h). */
    uint64_t pdb = zf ? !pf : pf;

    env->cc_res = zf ? 0 : 1;
    env->cc_aux = ((f & X86_EFLAGS_SF) ? CC_SD : 0) | ((f & X86_EFLAGS_AF) ? CC_AF : 0) |
                  (pdb << CC_PDB_SHIFT) | ((uint64_t)cf << 31) |
                  ((uint64_t)(cf ^ of) << 30);
}

/* LAHF/SAHF (9F/9E): AH <-> SF:ZF:0:AF:0:PF:1:CF. */
void x86_op_lahf(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    REG8(env, 1) = (x86_cc_compute(env) & 0xd5) | X86_EFLAGS_FIXED;
    NEXT(cpu, op);
}

void x86_op_sahf(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint32_t f = x86_cc_compute(env) & X86_EFLAGS_OF;
    x86_cc_load(env, f | (REG8(env, 1) & 0xd5));
    NEXT(cpu, op);
}

/* CMC F5, CLC F8, STC F9, CLD FC, STD FD. */
void x86_op_flagop(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    switch (op->b1) {
    case 0xf5: cc_set_cf(env, !cc_cf(env)); break;
    case 0xf8: cc_set_cf(env, false); break;
    case 0xf9: cc_set_cf(env, true); break;
    case 0xfc: env->eflags &= ~X86_EFLAGS_DF; break;
    default: env->eflags |= X86_EFLAGS_DF; break;
    }
    NEXT(cpu, op);
}

/* SETcc r/m8: b1 = condition; register form: src is a byte offset. */
void x86_op_setcc(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint8_t v = cc_test(env, op->b1);

    if (op->b2 & 2) {
        x86_st8(cpu, op, x86_op_la(cpu, op, 1, true), v);
        NEXT_W(cpu, op);
    }
    REG8(env, op->src) = v;
    NEXT(cpu, op);
}

/* SETcc to a register, a handler per condition. */
#define DEF_SETCC_R(cc) \
static void op_setcc_r##cc(X86CPU *cpu, const KiteOp *op) \
{ \
    REG8(&cpu->env, op->src) = cc_test(&cpu->env, cc); \
    NEXT(cpu, op); \
}
DEF_SETCC_R(0) DEF_SETCC_R(1) DEF_SETCC_R(2) DEF_SETCC_R(3) DEF_SETCC_R(4) DEF_SETCC_R(5)
DEF_SETCC_R(6) DEF_SETCC_R(7) DEF_SETCC_R(8) DEF_SETCC_R(9) DEF_SETCC_R(10)
DEF_SETCC_R(11) DEF_SETCC_R(12) DEF_SETCC_R(13) DEF_SETCC_R(14) DEF_SETCC_R(15)
#undef DEF_SETCC_R

KiteOpFn *const x86_op_setcc_r[16] = {
    op_setcc_r0, op_setcc_r1, op_setcc_r2, op_setcc_r3, op_setcc_r4, op_setcc_r5,
    op_setcc_r6, op_setcc_r7, op_setcc_r8, op_setcc_r9, op_setcc_r10, op_setcc_r11,
    op_setcc_r12, op_setcc_r13, op_setcc_r14, op_setcc_r15,
};

/* ---- BCD (DAA DAS AAA AAS AAM AAD: SDM vol. 2A) ------------------------------------- */

void x86_op_bcd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint8_t al = REG8(env, 0), old_al = al;
    bool cf = cc_cf(env), af = cc_af(env), old_cf = cf;
    uint32_t f;

    switch (op->b1) {
    case 0:     /* DAA */
        cf = false;
        if ((al & 0xf) > 9 || af) {
            cf = old_cf || al > 0xf9;
            al += 6;
            af = true;
        } else {
            af = false;
        }
        if (old_al > 0x99 || old_cf) {
            al += 0x60;
            cf = true;
        }
        break;
    case 1:     /* DAS */
        cf = false;
        if ((al & 0xf) > 9 || af) {
            cf = old_cf || al < 6;
            al -= 6;
            af = true;
        } else {
            af = false;
        }
        if (old_al > 0x99 || old_cf) {
            al -= 0x60;
            cf = true;
        }
        break;
    case 2:     /* AAA */
        if ((al & 0xf) > 9 || af) {
            REG16(env, R_EAX) += 0x106;
            af = cf = true;
        } else {
            af = cf = false;
        }
        al = REG8(env, 0) & 0xf;
        break;
    default:    /* AAS */
        if ((al & 0xf) > 9 || af) {
            REG16(env, R_EAX) -= 6;
            REG8(env, 1) -= 1;
            af = cf = true;
        } else {
            af = cf = false;
        }
        al = REG8(env, 0) & 0xf;
        break;
    }
    REG8(env, 0) = al;
    f = (cf ? X86_EFLAGS_CF : 0) | (af ? X86_EFLAGS_AF : 0) |
        (al == 0 ? X86_EFLAGS_ZF : 0) | ((al & 0x80) ? X86_EFLAGS_SF : 0) |
        (__builtin_parity(al) ? 0 : X86_EFLAGS_PF);
    x86_cc_load(env, f);
    NEXT(cpu, op);
}

void x86_op_aam(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint8_t al = REG8(env, 0);

    if (op->b1 == 0) {
        x86_raise(cpu, op, EXCP_DE, 0);
    }
    REG8(env, 1) = al / op->b1;
    REG8(env, 0) = al % op->b1;
    cc_set_logic(env, (int8_t)REG8(env, 0));
    NEXT(cpu, op);
}

void x86_op_aad(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint8_t al = REG8(env, 0) + REG8(env, 1) * op->b1;

    REG16(env, R_EAX) = al;
    cc_set_logic(env, (int8_t)al);
    NEXT(cpu, op);
}

void x86_op_salc(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    REG8(env, 0) = cc_cf(env) ? 0xff : 0;
    NEXT(cpu, op);
}

/* ---- conversions ------------------------------------------------------------------ */

void x86_op_cbw(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    switch (op->b1) {
    case 1: REG16(env, R_EAX) = (int8_t)REG8(env, 0); break;
    case 2: env->regs[R_EAX] = (uint32_t)(int16_t)REG16(env, R_EAX); break;
    default: env->regs[R_EAX] = (int32_t)REG32(env, R_EAX); break;
    }
    NEXT(cpu, op);
}

void x86_op_cwd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    switch (op->b1) {
    case 1: REG16(env, R_EDX) = (int16_t)REG16(env, R_EAX) < 0 ? 0xffff : 0; break;
    case 2: env->regs[R_EDX] = (int32_t)REG32(env, R_EAX) < 0 ? 0xffffffffu : 0; break;
    default: env->regs[R_EDX] = (int64_t)env->regs[R_EAX] < 0 ? ~0ULL : 0; break;
    }
    NEXT(cpu, op);
}

void x86_op_movsxd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int32_t v;

    if (op->b2 & 2) {
        v = x86_ld32(cpu, op, x86_op_la(cpu, op, 4, false));
    } else {
        v = REG32(env, op->src);
    }
    env->regs[op->dst] = (int64_t)v;
    NEXT(cpu, op);
}

/* BSWAP (0F C8+r); with a 16-bit operand the result is undefined: 0 like hardware. */
void x86_op_bswap(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    switch (op->b1) {
    case 1: REG16(env, op->dst) = 0; break;
    case 2: env->regs[op->dst] = __builtin_bswap32(REG32(env, op->dst)); break;
    default: env->regs[op->dst] = __builtin_bswap64(env->regs[op->dst]); break;
    }
    NEXT(cpu, op);
}

/* XLAT: AL = [seg:rBX + AL], address-size wrap. */
void x86_op_xlat(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t ea = (env->regs[R_EBX] + REG8(env, 0)) & x86_amask[op->asize];

    REG8(env, 0) = x86_ld8(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 1, false));
    NEXT(cpu, op);
}

/* MOV AL/AX/EAX/RAX <-> [moffs] (A0-A3): imm = offset, b1 = size index. */
void x86_op_mov_moffs_load(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;
    uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, op->seg, op->imm, size, false),
                         size);

    switch (op->b1) {
    case 0: REG8(env, 0) = v; break;
    case 1: REG16(env, R_EAX) = v; break;
    case 2: env->regs[R_EAX] = (uint32_t)v; break;
    default: env->regs[R_EAX] = v; break;
    }
    NEXT(cpu, op);
}

void x86_op_mov_moffs_store(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;

    x86_stn(cpu, op, x86_seg_la(cpu, op, op->seg, op->imm, size, true), size,
            env->regs[R_EAX]);
    NEXT_W(cpu, op);
}

/* ---- bit tests (BT BTS BTR BTC: SDM vol. 2A) ------------------------------------------ */

/* Apply bit op k to v at bit n; CF = old bit, other arithmetic flags kept. */
static inline uint64_t bt_apply(CPUX86State *env, int k, uint64_t v, unsigned n)
{
    uint64_t m = 1ULL << n;

    cc_set_cf(env, (v & m) != 0);
    switch (k) {
    case 1: return v | m;
    case 2: return v & ~m;
    case 3: return v ^ m;
    default: return v;
    }
}

static inline uint64_t reg_read(CPUX86State *env, int r, int s)
{
    switch (s) {
    case 1: return REG16(env, r);
    case 2: return REG32(env, r);
    default: return env->regs[r];
    }
}

static inline void reg_write(CPUX86State *env, int r, int s, uint64_t v)
{
    switch (s) {
    case 1: REG16(env, r) = v; break;
    case 2: env->regs[r] = (uint32_t)v; break;
    default: env->regs[r] = v; break;
    }
}

/* BT* r, r: dst = operand register, src = bit offset register, b2 = size. */
void x86_op_bt_r(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int s = op->b2, bits = 8 << s;
    uint64_t v = reg_read(env, op->dst, s);
    uint64_t r = bt_apply(env, op->b1, v, reg_read(env, op->src, s) & (bits - 1));

    if (op->b1) {
        reg_write(env, op->dst, s, r);
    }
    NEXT(cpu, op);
}

void x86_op_bt_ri(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int s = op->b2, bits = 8 << s;
    uint64_t r = bt_apply(env, op->b1, reg_read(env, op->dst, s), op->imm & (bits - 1));

    if (op->b1) {
        reg_write(env, op->dst, s, r);
    }
    NEXT(cpu, op);
}

static void bt_mem(X86CPU *cpu, const KiteOp *op, int64_t bitoff)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b2, bits = 8 * size;
    /* The bit string may extend past the operand (SDM vol. 2A, BT: bit base). */
    uint64_t ea = (x86_ea(cpu, op) + (bitoff >> (3 + op->b2)) * (int64_t)size) &
                  x86_amask[op->asize];
    uint64_t la = x86_seg_la(cpu, op, op->seg, ea, size, op->b1 != 0);
    unsigned n = bitoff & (bits - 1);

    if (op->b1 == 0) {
        bt_apply(env, 0, x86_ldn(cpu, op, la, size), n);
        return;
    }
    x86_probe_write(cpu, op, la, size, X86_ACC_WRITE);
    x86_stn(cpu, op, la, size, bt_apply(env, op->b1, x86_ldn(cpu, op, la, size), n));
}

void x86_op_bt_m(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int s = op->b2;
    int64_t off;

    switch (s) {
    case 1: off = (int16_t)REG16(env, op->src); break;
    case 2: off = (int32_t)REG32(env, op->src); break;
    default: off = env->regs[op->src]; break;
    }
    bt_mem(cpu, op, off);
    NEXT_W(cpu, op);
}

void x86_op_bt_mi(X86CPU *cpu, const KiteOp *op)
{
    bt_mem(cpu, op, op->imm & ((8 << op->b2) - 1));
    NEXT_W(cpu, op);
}

/* ---- SHLD / SHRD -------------------------------------------------------------------- */

/*
 * b1: size index | 0x10 SHRD | 0x20 count in CL (else imm); dst = r/m register
 * (b2 & 2: memory), src = register supplying the shifted-in bits.
 */
void x86_op_shxd(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int s = op->b1 & 3, bits = 8 << s;
    bool right = op->b1 & 0x10;
    unsigned c = ((op->b1 & 0x20) ? REG8(env, R_ECX * 8) : op->imm) & (s == 3 ? 63 : 31);
    unsigned size = 1u << s;
    uint64_t la = 0, a, b = reg_read(env, op->src, s), r, mask = ~0ULL >> (64 - bits);
    unsigned __int128 wide;
    bool cf, of;

    if (op->b2 & 2) {
        la = x86_op_la(cpu, op, size, true);
        x86_probe_write(cpu, op, la, size, X86_ACC_WRITE);
        a = x86_ldn(cpu, op, la, size);
    } else {
        a = reg_read(env, op->dst, s);
    }
    if (c == 0) {
        if (!(op->b2 & 2) && s == 2) {
            env->regs[op->dst] = (uint32_t)a;     /* a 32-bit destination is written */
        }
        NEXT(cpu, op);
    }
    if (!right) {
        wide = ((unsigned __int128)a << bits) | b;
        wide <<= c;
        r = (uint64_t)(wide >> bits) & mask;
        cf = c <= (unsigned)bits ? (a >> (bits - c)) & 1 : 0;
    } else {
        wide = ((unsigned __int128)b << bits) | a;
        wide >>= c;
        r = (uint64_t)wide & mask;
        cf = (a >> ((c - 1) & 63)) & 1;
    }
    of = ((r ^ a) >> (bits - 1)) & 1;
    if (op->b2 & 2) {
        x86_stn(cpu, op, la, size, r);
    } else {
        reg_write(env, op->dst, s, r);
    }
    env->cc_res = (int64_t)(r << (64 - bits)) >> (64 - bits);
    env->cc_aux = ((uint64_t)cf << 31) | ((uint64_t)(cf ^ of) << 30);
    NEXT_W(cpu, op);
}

/* ---- CMPXCHG8B / CMPXCHG16B (SDM vol. 2A) --------------------------------------------- */

static void set_zf(CPUX86State *env, bool zf)
{
    uint32_t f = x86_cc_compute(env) & ~X86_EFLAGS_ZF;
    x86_cc_load(env, f | (zf ? X86_EFLAGS_ZF : 0));
}

void x86_op_cmpxchg8b(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, 8, true);
    uint64_t cmp = ((uint64_t)REG32(env, R_EDX) << 32) | REG32(env, R_EAX);
    uint64_t v;

    x86_probe_write(cpu, op, la, 8, X86_ACC_WRITE);
    v = x86_ld64(cpu, op, la);
    if (v == cmp) {
        x86_st64(cpu, op, la, ((uint64_t)REG32(env, R_ECX) << 32) | REG32(env, R_EBX));
        set_zf(env, true);
    } else {
        x86_st64(cpu, op, la, v);       /* the destination is always written */
        env->regs[R_EAX] = (uint32_t)v;
        env->regs[R_EDX] = v >> 32;
        set_zf(env, false);
    }
    NEXT_W(cpu, op);
}

void x86_op_cmpxchg16b(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, 16, true);
    uint64_t lo, hi;

    if (la & 15) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    x86_probe_write(cpu, op, la, 16, X86_ACC_WRITE);
    lo = x86_ld64(cpu, op, la);
    hi = x86_ld64(cpu, op, la + 8);
    if (lo == env->regs[R_EAX] && hi == env->regs[R_EDX]) {
        x86_st64(cpu, op, la, env->regs[R_EBX]);
        x86_st64(cpu, op, la + 8, env->regs[R_ECX]);
        set_zf(env, true);
    } else {
        x86_st64(cpu, op, la, lo);
        x86_st64(cpu, op, la + 8, hi);
        env->regs[R_EAX] = lo;
        env->regs[R_EDX] = hi;
        set_zf(env, false);
    }
    NEXT_W(cpu, op);
}
