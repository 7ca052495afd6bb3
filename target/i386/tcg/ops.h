/*
 * x86 interpreter: op handlers referenced by the decoder.
 *
 * Field conventions are documented at each handler's definition; in short, dst/src
 * are registers (byte offsets for 8-bit ones), b2 bit 1 (value 2) marks a ModRM
 * memory operand for handlers that take either form, and imm holds immediates or
 * branch targets relative to the trace start.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_OPS_H
#define TARGET_I386_TCG_OPS_H

#include "target/i386/tcg/internal.h"

typedef struct X86Dec X86Dec;

/* Operand forms of the ALU and MOV tables. */
enum { X86_FORM_RR, X86_FORM_RM, X86_FORM_MR, X86_FORM_RI, X86_FORM_MI, X86_NFORMS };

/* Integer handlers of one operand size (ops-int-tmpl.h). */
typedef struct X86IntOps {
    KiteOpFn *alu[X86_NFORMS][9];    /* ADD OR ADC SBB AND SUB XOR CMP TEST */
    KiteOpFn *mov[X86_NFORMS];
    KiteOpFn *inc_r, *dec_r, *inc_m, *dec_m, *not_r, *not_m, *neg_r, *neg_m;
    KiteOpFn *shift_r, *shift_m, *shl_ri, *shr_ri, *sar_ri, *shl_rcl, *shr_rcl, *sar_rcl,
             *rol_ri, *ror_ri;
    /* CMP/TEST + Jcc in 64-bit mode, by form and condition (NULL: not fused). */
    KiteOpFn *const *cmp_jcc[X86_NFORMS], *const *test_jcc[X86_NFORMS];
    /* ADD OR - - AND SUB XOR (register, immediate) and INC/DEC + Jcc (32/64 bits). */
    KiteOpFn *const *alu_rr_jcc[7], *const *alu_ri_jcc[7], *const *inc_jcc, *const *dec_jcc;
    KiteOpFn *xchg_rr, *xchg_mr, *xadd_rr, *xadd_mr, *cmpxchg_rr, *cmpxchg_mr;
    KiteOpFn *muldiv, *imul2, *cmov, *bsf, *bsr, *popcnt;
    KiteOpFn *const *cmov_r;         /* CMOVcc from a register, by condition */
    KiteOpFn *movx, *movzx8_rr, *movzx8_rm, *movzx16_rm, *lea;
} X86IntOps;

extern const X86IntOps x86_int_ops[4];   /* by size: 8, 16, 32, 64 bits */

/* ops-int.c */
KiteOpFn x86_op_nop, x86_op_bcd, x86_op_aam, x86_op_aad, x86_op_salc, x86_op_cbw,
         x86_op_cwd, x86_op_sahf, x86_op_lahf, x86_op_flagop, x86_op_setcc, x86_op_bt_r,
         x86_op_bt_m, x86_op_bt_ri, x86_op_bt_mi, x86_op_shxd, x86_op_cmpxchg8b,
         x86_op_cmpxchg16b, x86_op_bswap, x86_op_movsxd, x86_op_xlat,
         x86_op_mov_moffs_load, x86_op_mov_moffs_store;

/*
 * How op's handler treats OSZAPC, for the decoder's flag liveness (ops-int.c):
 * READ: may read them, fault or leave the trace (they must be exact before it);
 * NEUTRAL: none of that, and writes none; KILL: none of that, and writes all of them.
 * *nf gets a variant that skips the flag update (NULL if none).
 */
enum { X86_FL_READ, X86_FL_NEUTRAL, X86_FL_KILL };
int x86_flag_info(const KiteOp *op, KiteOpFn **nf);

/* SETcc to a register, by condition (ops-int.c). */
extern KiteOpFn *const x86_op_setcc_r[16];

/* ops-ctrl.c */
extern KiteOpFn *const x86_op_jcc64[16];
KiteOpFn x86_op_jmp64, x86_op_jmp_legacy, x86_op_jcc_legacy, x86_op_call64,
         x86_op_call_legacy, x86_op_ret64, x86_op_ret_legacy, x86_op_call_ind,
         x86_op_jmp_ind, x86_op_loop, x86_op_push64_r, x86_op_push_r, x86_op_pop64_r,
         x86_op_pop_r, x86_op_push_i, x86_op_push_rm, x86_op_pop_rm, x86_op_pusha,
         x86_op_popa, x86_op_enter, x86_op_leave, x86_op_pushf, x86_op_popf, x86_op_cli,
         x86_op_sti, x86_op_hlt, x86_op_pause, x86_op_int, x86_op_into, x86_op_bound,
         x86_op_ud, x86_op_ud2, x86_op_gp0, x86_op_in, x86_op_out, x86_op_trace_end;

/* seg.c */
KiteOpFn x86_op_push_seg, x86_op_pop_seg, x86_op_mov_from_seg, x86_op_mov_to_seg,
         x86_op_load_far, x86_op_callf_imm, x86_op_callf_mem, x86_op_jmpf_imm,
         x86_op_jmpf_mem, x86_op_retf, x86_op_iret, x86_op_arpl;

/* ops-string.c */
bool x86_decode_string(X86Dec *d, KiteOp *op, int opc);

/* fpu.c */
KiteOpFn x86_op_fwait, x86_op_x87;

#endif
