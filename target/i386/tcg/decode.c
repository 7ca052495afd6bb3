/*
 * x86 interpreter: decoder for the one-byte and two-byte (0F) integer opcode maps.
 *
 * Prefixes, ModRM/SIB (SDM vol. 2A, chapter 2) and operand/address size rules
 * (vol. 1, 3.6 and 3.3.7) are handled here; each opcode picks a handler and fills the
 * KiteOp fields it uses.  x87, SSE/MMX and system instructions are decoded in
 * decode-x87.c, decode-sse.c and decode-sys.c.  Opcode maps: SDM vol. 2D, appendix A.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/ops.h"

/* ---- ModRM ------------------------------------------------------------------------ */

void dec_modrm(X86Dec *d, KiteOp *op)
{
    uint8_t m = dec_u8(d);
    int seg = R_DS;

    d->has_modrm = true;
    d->mod = m >> 6;
    d->reg = ((m >> 3) & 7) | ((d->rex & 4) << 1);
    d->rm = m & 7;
    if (d->mod == 3) {
        d->rm |= (d->rex & 1) << 3;
        d->mem = false;
        return;
    }
    d->mem = true;
    op->asize = d->asize;
    op->base = op->index = X86_REG_NONE;
    op->scale = 0;
    op->disp = 0;
    if (d->asize == 0) {
        /* 16-bit addressing (table 2-1). */
        static const uint8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI,
                                           R_EBP, R_EBX };
        static const uint8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, X86_REG_NONE,
                                            X86_REG_NONE, X86_REG_NONE, X86_REG_NONE };
        if (d->mod == 0 && d->rm == 6) {
            op->disp = (int16_t)dec_u16(d);
        } else {
            op->base = base16[d->rm];
            op->index = index16[d->rm];
            if (op->base == R_EBP) {
                seg = R_SS;
            }
            if (d->mod == 1) {
                op->disp = (int8_t)dec_u8(d);
            } else if (d->mod == 2) {
                op->disp = (int16_t)dec_u16(d);
            }
        }
    } else {
        /* 32/64-bit addressing (tables 2-2, 2-3; 2.2.1.6 for RIP-relative). */
        int rm = d->rm;
        if (rm == 4) {
            uint8_t sib = dec_u8(d);
            int idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
            int base = sib & 7;
            op->scale = sib >> 6;
            if (idx != 4) {
                op->index = idx;
            }
            if (base == 5 && d->mod == 0) {
                op->disp = (int32_t)dec_u32(d);
            } else {
                op->base = base | ((d->rex & 1) << 3);
            }
        } else if (rm == 5 && d->mod == 0) {
            op->disp = (int32_t)dec_u32(d);
            if (d->code64) {
                op->base = X86_REG_RIP;
                d->riprel = true;
            }
        } else {
            op->base = rm | ((d->rex & 1) << 3);
        }
        if (op->base == R_ESP || op->base == R_EBP) {
            seg = R_SS;
        }
        if (d->mod == 1) {
            op->disp += (int8_t)dec_u8(d);
        } else if (d->mod == 2) {
            op->disp += (int32_t)dec_u32(d);
        }
    }
    op->seg = d->seg >= 0 ? d->seg : seg;
}

/* ---- helpers ------------------------------------------------------------------ */

/* Operand size index for byte/full-size opcode pairs: 0 for the byte form. */
static inline int dec_size(const X86Dec *d, bool byte_form)
{
    return byte_form ? 0 : d->osize;
}

/* Default-64 operand size (push/pop, near branches: SDM vol. 1, 3.6.1). */
static inline int dec_osize64(const X86Dec *d)
{
    if (d->code64) {
        return d->p66 ? 1 : 3;
    }
    return d->osize;
}

/* Immediate of operand size s (64-bit operands take a sign-extended imm32). */
static uint64_t dec_imm(X86Dec *d, int s)
{
    switch (s) {
    case 0: return (int8_t)dec_u8(d);
    case 1: return (int16_t)dec_u16(d);
    default: return (int32_t)dec_u32(d);
    }
}

/* r/m operand as register for size s. */
static inline uint8_t dec_rmreg(const X86Dec *d, int s)
{
    return dec_regop(d, d->rm, s);
}

static inline uint8_t dec_regreg(const X86Dec *d, int s)
{
    return dec_regop(d, d->reg, s);
}

/* Fill a "register or memory" generic op: src = register, b2 bit 1 = memory. */
static void dec_rm_generic(X86Dec *d, KiteOp *op, int s)
{
    if (d->mem) {
        op->b2 |= 2;
    } else {
        op->src = dec_rmreg(d, s);
    }
}

/* ---- instruction groups ------------------------------------------------------- */

/* 00-3F pattern: ALU op k in one of six forms. */
static void dec_alu(X86Dec *d, KiteOp *op, int k, int form)
{
    const X86IntOps *t;
    int s;

    switch (form) {
    case 0:     /* Eb,Gb */
    case 1:     /* Ev,Gv */
        s = dec_size(d, form == 0);
        t = &x86_int_ops[s];
        dec_modrm(d, op);
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = t->alu[X86_FORM_MR][k];
            d->lockable = k != 7;
        } else {
            op->exec = t->alu[X86_FORM_RR][k];
            op->dst = dec_rmreg(d, s);
        }
        break;
    case 2:     /* Gb,Eb */
    case 3:     /* Gv,Ev */
        s = dec_size(d, form == 2);
        t = &x86_int_ops[s];
        dec_modrm(d, op);
        op->dst = dec_regreg(d, s);
        if (d->mem) {
            op->exec = t->alu[X86_FORM_RM][k];
        } else {
            op->exec = t->alu[X86_FORM_RR][k];
            op->src = dec_rmreg(d, s);
        }
        break;
    default:    /* AL,Ib / eAX,Iz */
        s = dec_size(d, form == 4);
        op->exec = x86_int_ops[s].alu[X86_FORM_RI][k];
        op->dst = R_EAX;
        op->imm = dec_imm(d, s);
        break;
    }
}

/* Group 1 (80, 81, 83) and TEST Eb/Ev,imm: ALU op k, r/m with an immediate. */
static void dec_alu_imm(X86Dec *d, KiteOp *op, int k, int s, int imm_size)
{
    const X86IntOps *t = &x86_int_ops[s];

    if (d->mem) {
        op->exec = t->alu[X86_FORM_MI][k];
        d->lockable = k != 7 && k != 8;
    } else {
        op->exec = t->alu[X86_FORM_RI][k];
        op->dst = dec_rmreg(d, s);
    }
    op->imm = dec_imm(d, imm_size);
}

static void dec_mov(X86Dec *d, KiteOp *op, int form)
{
    int s = dec_size(d, !(form & 1));
    const X86IntOps *t = &x86_int_ops[s];

    dec_modrm(d, op);
    if (form < 2) {             /* 88/89: Eb,Gb / Ev,Gv */
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = t->mov[X86_FORM_MR];
        } else {
            op->exec = t->mov[X86_FORM_RR];
            op->dst = dec_rmreg(d, s);
        }
    } else {                    /* 8A/8B: Gb,Eb / Gv,Ev */
        op->dst = dec_regreg(d, s);
        if (d->mem) {
            op->exec = t->mov[X86_FORM_RM];
        } else {
            op->exec = t->mov[X86_FORM_RR];
            op->src = dec_rmreg(d, s);
        }
    }
}

/* Shift group 2: C0/C1 (imm8), D0/D1 (1), D2/D3 (CL). */
static void dec_shift(X86Dec *d, KiteOp *op, bool byte, int count_kind)
{
    int s = dec_size(d, byte);
    const X86IntOps *t = &x86_int_ops[s];
    int kind;

    dec_modrm(d, op);
    kind = d->reg & 7;
    op->src = kind;
    if (count_kind == 0) {
        op->b1 = dec_u8(d);
    } else if (count_kind == 1) {
        op->b1 = 1;
    } else {
        op->b2 |= 1;
    }
    if (d->mem) {
        op->exec = t->shift_m;
        return;
    }
    op->dst = dec_rmreg(d, s);
    op->exec = t->shift_r;
    if (count_kind != 2) {
        unsigned c = op->b1 & (s == 3 ? 63 : 31);
        if (c == 0) {
            op->exec = x86_op_nop;
        } else if (kind == 4 || kind == 6) {
            op->exec = t->shl_ri;
            op->b1 = c;
        } else if (kind == 5) {
            op->exec = t->shr_ri;
            op->b1 = c;
        } else if (kind == 7) {
            op->exec = t->sar_ri;
            op->b1 = c;
        } else if (kind == 0) {
            op->exec = t->rol_ri;
            op->b1 = c;
        } else if (kind == 1) {
            op->exec = t->ror_ri;
            op->b1 = c;
        }
    } else if (kind == 4 || kind == 6) {
        op->exec = t->shl_rcl;
    } else if (kind == 5) {
        op->exec = t->shr_rcl;
    } else if (kind == 7) {
        op->exec = t->sar_rcl;
    }
}

/* Near relative branch: imm = target relative to the trace start. */
static void dec_branch_target(X86Dec *d, KiteOp *op, int64_t rel)
{
    op->imm = (uint64_t)((int64_t)d->pos + rel);
}

static void dec_jmp_rel(X86Dec *d, KiteOp *op, int64_t rel)
{
    int s = dec_osize64(d);

    dec_branch_target(d, op, rel);
    if (d->code64 && s == 3) {
        op->exec = x86_op_jmp64;
        op->b2 = d->idx;                /* for X86_TAKEN64 */
    } else {
        op->exec = x86_op_jmp_legacy;
        op->b2 = s;
    }
    d->end = true;
}

static void dec_jcc(X86Dec *d, KiteOp *op, int cc, int64_t rel)
{
    int s = dec_osize64(d);

    dec_branch_target(d, op, rel);
    op->b1 = cc;
    if (d->code64 && s == 3) {
        op->exec = x86_op_jcc64[cc];
        op->b2 = d->idx;                /* for X86_TAKEN64 */
    } else {
        op->exec = x86_op_jcc_legacy;
        op->b2 = s;
    }
}

/* Far pointer operand (ptr16:16/32) of 9A/EA: imm = offset, b1/b2 = selector. */
static void dec_farptr(X86Dec *d, KiteOp *op)
{
    op->imm = d->osize == 1 ? dec_u16(d) : dec_u32(d);
    op->disp = dec_u16(d);
}

/* ---- the one-byte map --------------------------------------------------------- */

static bool decode_onebyte(X86Dec *d, KiteOp *op, int b)
{
    int s;

    if (b < 0x40 && (b & 7) < 6) {
        dec_alu(d, op, b >> 3, b & 7);
        return true;
    }
    switch (b) {
    case 0x06: case 0x0e: case 0x16: case 0x1e:     /* PUSH ES/CS/SS/DS */
        if (d->code64) {
            return false;
        }
        op->exec = x86_op_push_seg;
        op->src = b >> 3;
        op->b1 = d->osize == 1 ? 2 : 4;
        return true;
    case 0x07: case 0x17: case 0x1f:                /* POP ES/SS/DS */
        if (d->code64) {
            return false;
        }
        op->exec = x86_op_pop_seg;
        op->dst = b >> 3;
        op->b1 = d->osize == 1 ? 2 : 4;
        d->end = true;
        return true;
    case 0x27: case 0x2f: case 0x37: case 0x3f:     /* DAA DAS AAA AAS */
        if (d->code64) {
            return false;
        }
        op->exec = x86_op_bcd;
        op->b1 = (b >> 3) & 3;
        return true;
    case 0x40 ... 0x4f:                             /* INC/DEC r (not REX here) */
        op->exec = b < 0x48 ? x86_int_ops[d->osize].inc_r : x86_int_ops[d->osize].dec_r;
        op->dst = b & 7;
        return true;
    case 0x50 ... 0x57:                             /* PUSH r */
        s = dec_osize64(d);
        op->src = (b & 7) | ((d->rex & 1) << 3);
        if (d->code64 && s == 3) {
            op->exec = x86_op_push64_r;
        } else {
            op->exec = x86_op_push_r;
            op->b1 = 1 << s;
        }
        return true;
    case 0x58 ... 0x5f:                             /* POP r */
        s = dec_osize64(d);
        op->dst = (b & 7) | ((d->rex & 1) << 3);
        if (d->code64 && s == 3) {
            op->exec = x86_op_pop64_r;
        } else {
            op->exec = x86_op_pop_r;
            op->b1 = 1 << s;
        }
        return true;
    case 0x60: case 0x61:                           /* PUSHA / POPA */
        if (d->code64) {
            return false;
        }
        op->exec = b == 0x60 ? x86_op_pusha : x86_op_popa;
        op->b1 = d->osize == 1 ? 2 : 4;
        return true;
    case 0x62:                                      /* BOUND */
        if (d->code64) {
            return false;
        }
        dec_modrm(d, op);
        if (!d->mem) {
            return false;
        }
        op->exec = x86_op_bound;
        op->dst = d->reg;
        op->b1 = d->osize == 1 ? 2 : 4;
        return true;
    case 0x63:
        dec_modrm(d, op);
        if (d->code64) {                            /* MOVSXD */
            op->dst = d->reg;
            if (d->osize == 3) {
                op->exec = x86_op_movsxd;
                dec_rm_generic(d, op, 2);
            } else {
                s = d->osize;
                op->exec = d->mem ? x86_int_ops[s].mov[X86_FORM_RM] :
                                    x86_int_ops[s].mov[X86_FORM_RR];
                op->src = d->rm;
            }
            return true;
        }
        /* ARPL Ew, Gw: protected mode only. */
        op->exec = x86_op_arpl;
        op->src = d->reg;
        op->dst = d->rm;
        op->b2 = d->mem ? 2 : 0;
        return true;
    case 0x68: case 0x6a:                           /* PUSH imm */
        s = dec_osize64(d);
        op->imm = dec_imm(d, b == 0x6a ? 0 : (s == 1 ? 1 : 2));
        op->exec = x86_op_push_i;
        op->b1 = 1 << s;
        return true;
    case 0x69: case 0x6b:                           /* IMUL Gv,Ev,imm */
        dec_modrm(d, op);
        op->exec = x86_int_ops[d->osize].imul2;
        op->dst = d->reg;
        op->b2 |= 4;
        dec_rm_generic(d, op, d->osize);
        op->imm = dec_imm(d, b == 0x6b ? 0 : d->osize);
        return true;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:     /* INS / OUTS */
        return x86_decode_string(d, op, b);
    case 0x70 ... 0x7f: {                           /* Jcc rel8 */
        int8_t rel = dec_u8(d);
        dec_jcc(d, op, b & 0xf, rel);
        return true;
    }
    case 0x80: case 0x81: case 0x82: case 0x83:     /* group 1 */
        if (b == 0x82 && d->code64) {
            return false;
        }
        s = dec_size(d, b != 0x81 && b != 0x83);
        dec_modrm(d, op);
        op->src = X86_REG_NONE;
        dec_alu_imm(d, op, d->reg & 7, s, b == 0x81 ? s : 0);
        return true;
    case 0x84: case 0x85:                           /* TEST Eb,Gb / Ev,Gv */
        s = dec_size(d, b == 0x84);
        dec_modrm(d, op);
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = x86_int_ops[s].alu[X86_FORM_MR][8];
        } else {
            op->exec = x86_int_ops[s].alu[X86_FORM_RR][8];
            op->dst = dec_rmreg(d, s);
        }
        return true;
    case 0x86: case 0x87:                           /* XCHG */
        s = dec_size(d, b == 0x86);
        dec_modrm(d, op);
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = x86_int_ops[s].xchg_mr;
            d->lockable = true;
        } else {
            op->exec = x86_int_ops[s].xchg_rr;
            op->dst = dec_rmreg(d, s);
        }
        return true;
    case 0x88 ... 0x8b:
        dec_mov(d, op, b & 3);
        return true;
    case 0x8c:                                      /* MOV Ev, Sreg */
        dec_modrm(d, op);
        if ((d->reg & 7) > 5) {
            return false;
        }
        op->exec = x86_op_mov_from_seg;
        op->src = d->reg & 7;
        op->b1 = d->mem ? 2 : 1 << d->osize;
        op->b2 = d->mem ? 2 : 0;
        op->dst = d->rm;
        return true;
    case 0x8d:                                      /* LEA */
        dec_modrm(d, op);
        if (!d->mem) {
            return false;
        }
        op->exec = x86_int_ops[d->osize].lea;
        op->dst = d->reg;
        return true;
    case 0x8e:                                      /* MOV Sreg, Ew */
        dec_modrm(d, op);
        if ((d->reg & 7) > 5 || (d->reg & 7) == R_CS) {
            return false;
        }
        op->exec = x86_op_mov_to_seg;
        op->dst = d->reg & 7;
        dec_rm_generic(d, op, 1);
        d->end = true;
        return true;
    case 0x8f:                                      /* POP Ev */
        dec_modrm(d, op);
        if ((d->reg & 7) != 0) {
            return false;
        }
        s = dec_osize64(d);
        op->exec = x86_op_pop_rm;
        op->b1 = 1 << s;
        dec_rm_generic(d, op, s);
        return true;
    case 0x90:
        if (d->rex & 1) {                           /* XCHG r8, rAX */
            op->exec = x86_int_ops[d->osize].xchg_rr;
            op->dst = R_R8;
            op->src = R_EAX;
            return true;
        }
        op->exec = d->rep ? x86_op_pause : x86_op_nop;
        if (d->rep) {
            d->end = true;
        }
        return true;
    case 0x91 ... 0x97:                             /* XCHG r, rAX */
        op->exec = x86_int_ops[d->osize].xchg_rr;
        op->dst = (b & 7) | ((d->rex & 1) << 3);
        op->src = R_EAX;
        return true;
    case 0x98:                                      /* CBW/CWDE/CDQE */
        op->exec = x86_op_cbw;
        op->b1 = d->osize;
        return true;
    case 0x99:                                      /* CWD/CDQ/CQO */
        op->exec = x86_op_cwd;
        op->b1 = d->osize;
        return true;
    case 0x9a:                                      /* CALLF ptr */
        if (d->code64) {
            return false;
        }
        dec_farptr(d, op);
        op->exec = x86_op_callf_imm;
        op->b1 = d->osize;
        d->end = true;
        return true;
    case 0x9b:                                      /* FWAIT */
        op->exec = x86_op_fwait;
        return true;
    case 0x9c:                                      /* PUSHF */
        op->exec = x86_op_pushf;
        op->b1 = 1 << dec_osize64(d);
        return true;
    case 0x9d:                                      /* POPF */
        op->exec = x86_op_popf;
        op->b1 = 1 << dec_osize64(d);
        d->end = true;
        return true;
    case 0x9e:
        op->exec = x86_op_sahf;
        return true;
    case 0x9f:
        op->exec = x86_op_lahf;
        return true;
    case 0xa0 ... 0xa3:                             /* MOV AL/eAX <-> moffs */
        s = dec_size(d, !(b & 1));
        op->exec = (b & 2) ? x86_op_mov_moffs_store : x86_op_mov_moffs_load;
        op->b1 = s;
        op->seg = d->seg >= 0 ? d->seg : R_DS;
        op->asize = d->asize;
        op->imm = d->asize == 2 ? dec_u64(d) : d->asize == 1 ? dec_u32(d) : dec_u16(d);
        return true;
    case 0xa4 ... 0xa7:
    case 0xaa ... 0xaf:
        return x86_decode_string(d, op, b);
    case 0xa8: case 0xa9:                           /* TEST AL/eAX, imm */
        s = dec_size(d, b == 0xa8);
        op->exec = x86_int_ops[s].alu[X86_FORM_RI][8];
        op->dst = R_EAX;
        op->imm = dec_imm(d, s);
        return true;
    case 0xb0 ... 0xb7:                             /* MOV r8, imm8 */
        op->exec = x86_int_ops[0].mov[X86_FORM_RI];
        op->dst = dec_reg8(d, (b & 7) | ((d->rex & 1) << 3));
        op->imm = dec_u8(d);
        return true;
    case 0xb8 ... 0xbf:                             /* MOV r, imm */
        op->exec = x86_int_ops[d->osize].mov[X86_FORM_RI];
        op->dst = (b & 7) | ((d->rex & 1) << 3);
        op->imm = d->osize == 3 ? dec_u64(d) : d->osize == 2 ? dec_u32(d) : dec_u16(d);
        return true;
    case 0xc0: case 0xc1:
        dec_shift(d, op, b == 0xc0, 0);
        return true;
    case 0xc2: case 0xc3:                           /* RET near */
        s = dec_osize64(d);
        op->imm = b == 0xc2 ? dec_u16(d) : 0;
        if (d->code64 && s == 3) {
            op->exec = x86_op_ret64;
        } else {
            op->exec = x86_op_ret_legacy;
            op->b1 = s;
        }
        d->end = true;
        return true;
    case 0xc4: case 0xc5:                           /* LES / LDS (VEX: no AVX) */
        if (d->code64) {
            return false;
        }
        dec_modrm(d, op);
        if (!d->mem) {
            return false;
        }
        op->exec = x86_op_load_far;
        op->b1 = b == 0xc4 ? R_ES : R_DS;
        op->b2 = d->osize;
        op->dst = d->reg;
        d->end = true;
        return true;
    case 0xc6: case 0xc7:                           /* MOV Eb/Ev, imm */
        s = dec_size(d, b == 0xc6);
        dec_modrm(d, op);
        if ((d->reg & 7) != 0) {
            return false;
        }
        if (d->mem) {
            op->exec = x86_int_ops[s].mov[X86_FORM_MI];
        } else {
            op->exec = x86_int_ops[s].mov[X86_FORM_RI];
            op->dst = dec_rmreg(d, s);
        }
        op->imm = dec_imm(d, s);
        if (s == 2) {
            op->imm = (uint32_t)op->imm;
        }
        return true;
    case 0xc8:                                      /* ENTER */
        op->imm = dec_u16(d);
        op->b1 = dec_u8(d);
        op->b2 = dec_osize64(d);
        op->exec = x86_op_enter;
        return true;
    case 0xc9:                                      /* LEAVE */
        op->exec = x86_op_leave;
        op->b1 = dec_osize64(d);
        return true;
    case 0xca: case 0xcb:                           /* RETF */
        op->imm = b == 0xca ? dec_u16(d) : 0;
        op->exec = x86_op_retf;
        op->b1 = d->osize;
        d->end = true;
        return true;
    case 0xcc:                                      /* INT3 */
        op->exec = x86_op_int;
        op->b1 = EXCP_BP;
        op->b2 = 1;
        d->end = true;
        return true;
    case 0xcd:                                      /* INT imm8 */
        op->exec = x86_op_int;
        op->b1 = dec_u8(d);
        d->end = true;
        return true;
    case 0xce:                                      /* INTO */
        if (d->code64) {
            return false;
        }
        op->exec = x86_op_into;
        d->end = true;
        return true;
    case 0xcf:                                      /* IRET */
        op->exec = x86_op_iret;
        op->b1 = d->osize;
        d->end = true;
        return true;
    case 0xd0 ... 0xd3:
        dec_shift(d, op, !(b & 1), b < 0xd2 ? 1 : 2);
        return true;
    case 0xd4: case 0xd5:                           /* AAM / AAD */
        if (d->code64) {
            return false;
        }
        op->exec = b == 0xd4 ? x86_op_aam : x86_op_aad;
        op->b1 = dec_u8(d);
        return true;
    case 0xd6:                                      /* SALC (undocumented) */
        if (d->code64) {
            return false;
        }
        op->exec = x86_op_salc;
        return true;
    case 0xd7:                                      /* XLAT */
        op->exec = x86_op_xlat;
        op->seg = d->seg >= 0 ? d->seg : R_DS;
        op->asize = d->asize;
        op->base = R_EBX;
        op->index = X86_REG_NONE;
        return true;
    case 0xd8 ... 0xdf:
        return x86_decode_x87(d, op);
    case 0xe0 ... 0xe3: {                           /* LOOPNE/LOOPE/LOOP/JCXZ */
        int8_t rel = dec_u8(d);
        dec_branch_target(d, op, rel);
        op->exec = x86_op_loop;
        op->b1 = b & 3;
        op->b2 = dec_osize64(d);
        op->asize = d->asize;
        return true;
    }
    case 0xe4 ... 0xe7:                             /* IN/OUT imm8 */
    case 0xec ... 0xef:                             /* IN/OUT DX */
        s = dec_size(d, !(b & 1));
        op->exec = (b & 2) ? x86_op_out : x86_op_in;
        op->b1 = s == 0 ? 1 : s == 1 ? 2 : 4;
        if (b < 0xe8) {
            op->imm = dec_u8(d);
        } else {
            op->b2 = 1;                             /* port in DX */
        }
        d->end = true;
        return true;
    case 0xe8: {                                    /* CALL rel */
        int64_t rel;
        s = dec_osize64(d);
        rel = s == 1 ? (int16_t)dec_u16(d) : (int32_t)dec_u32(d);
        dec_branch_target(d, op, rel);
        if (d->code64 && s == 3) {
            op->exec = x86_op_call64;
        } else {
            op->exec = x86_op_call_legacy;
            op->b2 = s;
        }
        d->end = true;
        return true;
    }
    case 0xe9: {                                    /* JMP rel16/32 */
        int64_t rel;
        s = dec_osize64(d);
        rel = s == 1 ? (int16_t)dec_u16(d) : (int32_t)dec_u32(d);
        dec_jmp_rel(d, op, rel);
        return true;
    }
    case 0xea:                                      /* JMPF ptr */
        if (d->code64) {
            return false;
        }
        dec_farptr(d, op);
        op->exec = x86_op_jmpf_imm;
        op->b1 = d->osize;
        d->end = true;
        return true;
    case 0xeb: {
        int8_t rel = dec_u8(d);
        dec_jmp_rel(d, op, rel);
        return true;
    }
    case 0xf1:                                      /* INT1 / ICEBP */
        op->exec = x86_op_int;
        op->b1 = EXCP_DB;
        op->b2 = 2;
        d->end = true;
        return true;
    case 0xf4:                                      /* HLT */
        op->exec = x86_op_hlt;
        d->end = true;
        return true;
    case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd:
        op->exec = x86_op_flagop;
        op->b1 = b;
        return true;
    case 0xfa:
        op->exec = x86_op_cli;
        return true;
    case 0xfb:
        op->exec = x86_op_sti;
        d->end = true;
        return true;
    case 0xf6: case 0xf7: {                         /* group 3 */
        int k;
        s = dec_size(d, b == 0xf6);
        dec_modrm(d, op);
        k = d->reg & 7;
        if (k < 2) {                                /* TEST r/m, imm */
            dec_alu_imm(d, op, 8, s, s);
            if (s == 2) {
                op->imm = (uint32_t)op->imm;
            }
        } else if (k == 2 || k == 3) {              /* NOT / NEG */
            if (d->mem) {
                op->exec = k == 2 ? x86_int_ops[s].not_m : x86_int_ops[s].neg_m;
                d->lockable = true;
            } else {
                op->exec = k == 2 ? x86_int_ops[s].not_r : x86_int_ops[s].neg_r;
                op->dst = dec_rmreg(d, s);
            }
        } else {                                    /* MUL IMUL DIV IDIV */
            op->exec = x86_int_ops[s].muldiv;
            op->b1 = k;
            dec_rm_generic(d, op, s);
        }
        return true;
    }
    case 0xfe: case 0xff: {                         /* groups 4 and 5 */
        int k;
        s = dec_size(d, b == 0xfe);
        dec_modrm(d, op);
        k = d->reg & 7;
        if (k < 2) {                                /* INC / DEC */
            if (d->mem) {
                op->exec = k ? x86_int_ops[s].dec_m : x86_int_ops[s].inc_m;
                d->lockable = true;
            } else {
                op->exec = k ? x86_int_ops[s].dec_r : x86_int_ops[s].inc_r;
                op->dst = dec_rmreg(d, s);
            }
            return true;
        }
        if (b == 0xfe || k == 7) {
            return false;
        }
        switch (k) {
        case 2:                                     /* CALL near r/m */
        case 4:                                     /* JMP near r/m */
            s = d->code64 ? (d->p66 ? 1 : 3) : d->osize;
            op->exec = k == 2 ? x86_op_call_ind : x86_op_jmp_ind;
            op->b1 = s;
            dec_rm_generic(d, op, s);
            break;
        case 3:                                     /* CALLF m16:16/32/64 */
        case 5:                                     /* JMPF m16:16/32/64 */
            if (!d->mem) {
                return false;
            }
            op->exec = k == 3 ? x86_op_callf_mem : x86_op_jmpf_mem;
            op->b1 = d->osize;
            break;
        default:                                    /* PUSH r/m */
            s = dec_osize64(d);
            op->exec = x86_op_push_rm;
            op->b1 = 1 << s;
            dec_rm_generic(d, op, s);
            return true;
        }
        d->end = true;
        return true;
    }
    default:
        return false;
    }
}

/* ---- the two-byte map (integer part) --------------------------------------------- */

static bool decode_0f(X86Dec *d, KiteOp *op, int b)
{
    int s;

    switch (b) {
    case 0x0b: case 0xb9: case 0xff:                /* UD2, UD1, UD0 */
        if (b != 0x0b) {
            dec_modrm(d, op);
        }
        op->exec = x86_op_ud2;
        d->end = true;
        return true;
    case 0x0d:                                      /* PREFETCH/PREFETCHW (hint) */
    case 0x18 ... 0x1f:                             /* hint NOPs, PREFETCHh */
        dec_modrm(d, op);
        op->exec = x86_op_nop;
        return true;
    case 0x40 ... 0x4f:                             /* CMOVcc */
        dec_modrm(d, op);
        op->exec = x86_int_ops[d->osize].cmov;
        op->dst = d->reg;
        op->b1 = b & 0xf;
        dec_rm_generic(d, op, d->osize);
        if (!(op->b2 & 2)) {
            op->exec = x86_int_ops[d->osize].cmov_r[b & 0xf];
        }
        return true;
    case 0x80 ... 0x8f: {                           /* Jcc rel16/32 */
        int64_t rel;
        s = dec_osize64(d);
        rel = s == 1 ? (int16_t)dec_u16(d) : (int32_t)dec_u32(d);
        dec_jcc(d, op, b & 0xf, rel);
        return true;
    }
    case 0x90 ... 0x9f:                             /* SETcc */
        dec_modrm(d, op);
        op->exec = x86_op_setcc;
        op->b1 = b & 0xf;
        dec_rm_generic(d, op, 0);
        if (!(op->b2 & 2)) {
            op->exec = x86_op_setcc_r[b & 0xf];
        }
        return true;
    case 0xa0: case 0xa8:                           /* PUSH FS/GS */
        op->exec = x86_op_push_seg;
        op->src = b == 0xa0 ? R_FS : R_GS;
        op->b1 = 1 << dec_osize64(d);
        return true;
    case 0xa1: case 0xa9:                           /* POP FS/GS */
        op->exec = x86_op_pop_seg;
        op->dst = b == 0xa1 ? R_FS : R_GS;
        op->b1 = 1 << dec_osize64(d);
        d->end = true;
        return true;
    case 0xa3: case 0xab: case 0xb3: case 0xbb:     /* BT/BTS/BTR/BTC Ev,Gv */
        dec_modrm(d, op);
        op->exec = d->mem ? x86_op_bt_m : x86_op_bt_r;
        d->lockable = b != 0xa3;
        op->b1 = (b >> 3) & 3;
        op->b2 = d->osize;
        op->src = d->reg;
        op->dst = d->rm;
        return true;
    case 0xba:                                      /* group 8: BT* Ev,Ib */
        dec_modrm(d, op);
        if ((d->reg & 7) < 4) {
            return false;
        }
        op->exec = d->mem ? x86_op_bt_mi : x86_op_bt_ri;
        d->lockable = (d->reg & 7) != 4;
        op->b1 = d->reg & 3;
        op->b2 = d->osize;
        op->dst = d->rm;
        op->imm = dec_u8(d);
        return true;
    case 0xa4: case 0xa5: case 0xac: case 0xad:     /* SHLD / SHRD */
        dec_modrm(d, op);
        op->exec = x86_op_shxd;
        op->src = d->reg;
        op->dst = d->rm;
        op->b1 = d->osize | ((b & 8) ? 0x10 : 0) | ((b & 1) ? 0x20 : 0);
        op->b2 = d->mem ? 2 : 0;
        if (!(b & 1)) {
            op->imm = dec_u8(d);
        }
        return true;
    case 0xaf:                                      /* IMUL Gv,Ev */
        dec_modrm(d, op);
        op->exec = x86_int_ops[d->osize].imul2;
        op->dst = d->reg;
        dec_rm_generic(d, op, d->osize);
        return true;
    case 0xb0: case 0xb1:                           /* CMPXCHG */
        s = dec_size(d, b == 0xb0);
        dec_modrm(d, op);
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = x86_int_ops[s].cmpxchg_mr;
            d->lockable = true;
        } else {
            op->exec = x86_int_ops[s].cmpxchg_rr;
            op->dst = dec_rmreg(d, s);
        }
        return true;
    case 0xb2: case 0xb4: case 0xb5:                /* LSS / LFS / LGS */
        dec_modrm(d, op);
        if (!d->mem) {
            return false;
        }
        op->exec = x86_op_load_far;
        op->b1 = b == 0xb2 ? R_SS : b == 0xb4 ? R_FS : R_GS;
        op->b2 = d->osize;
        op->dst = d->reg;
        d->end = true;
        return true;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf:     /* MOVZX / MOVSX */
        dec_modrm(d, op);
        s = d->osize;
        op->dst = d->reg;
        if (b == 0xb6 && d->mem) {
            op->exec = x86_int_ops[s].movzx8_rm;
        } else if (b == 0xb6) {
            op->exec = x86_int_ops[s].movzx8_rr;
            op->src = dec_rmreg(d, 0);
        } else if (b == 0xb7 && d->mem) {
            op->exec = x86_int_ops[s].movzx16_rm;
        } else {
            op->exec = x86_int_ops[s].movx;
            op->b1 = (b & 1) ? 2 : 1;
            op->b2 = (b & 8) ? 8 : 0;
            if (d->mem) {
                op->b2 |= 2;
            } else {
                op->src = dec_rmreg(d, (b & 1) ? 1 : 0);
            }
        }
        return true;
    case 0xb8:                                      /* POPCNT (F3 0F B8) */
        if (!d->rep) {
            return false;
        }
        dec_modrm(d, op);
        op->exec = x86_int_ops[d->osize].popcnt;
        op->dst = d->reg;
        dec_rm_generic(d, op, d->osize);
        return true;
    case 0xbc: case 0xbd:                           /* BSF / BSR (no BMI: F3 ignored) */
        dec_modrm(d, op);
        op->exec = b == 0xbc ? x86_int_ops[d->osize].bsf : x86_int_ops[d->osize].bsr;
        op->dst = d->reg;
        dec_rm_generic(d, op, d->osize);
        return true;
    case 0xc0: case 0xc1:                           /* XADD */
        s = dec_size(d, b == 0xc0);
        dec_modrm(d, op);
        op->src = dec_regreg(d, s);
        if (d->mem) {
            op->exec = x86_int_ops[s].xadd_mr;
            d->lockable = true;
        } else {
            op->exec = x86_int_ops[s].xadd_rr;
            op->dst = dec_rmreg(d, s);
        }
        return true;
    case 0xc3:                                      /* MOVNTI */
        if (d->p66 || d->rep || d->repne) {
            return false;
        }
        dec_modrm(d, op);
        if (!d->mem) {
            return false;
        }
        s = d->osize == 3 ? 3 : 2;
        op->exec = x86_int_ops[s].mov[X86_FORM_MR];
        op->src = d->reg;
        return true;
    case 0xc7:                                      /* group 9 */
        dec_modrm(d, op);
        if ((d->reg & 7) == 1 && d->mem) {          /* CMPXCHG8B / CMPXCHG16B */
            op->exec = d->osize == 3 ? x86_op_cmpxchg16b : x86_op_cmpxchg8b;
            d->lockable = true;
            return true;
        }
        return false;
    case 0xc8 ... 0xcf:                             /* BSWAP */
        op->exec = x86_op_bswap;
        op->dst = (b & 7) | ((d->rex & 1) << 3);
        op->b1 = d->osize;
        return true;
    default:
        return x86_decode_sys(d, op) || x86_decode_sse(d, op);
    }
}

/* ---- one instruction ---------------------------------------------------------- */

static bool decode_insn(X86Dec *d, KiteOp *op)
{
    int b;

    for (;;) {
        b = dec_u8(d);
        if (d->overrun) {
            return true;
        }
        switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            d->seg = (b >> 3) & 3;
            break;
        case 0x64: case 0x65:
            d->seg = R_FS + (b - 0x64);
            break;
        case 0x66:
            d->p66 = true;
            break;
        case 0x67:
            d->p67 = true;
            break;
        case 0xf0:
            d->lock = true;
            break;
        case 0xf2:
            d->repne = true;
            d->last_rep = b;
            break;
        case 0xf3:
            d->rep = true;
            d->last_rep = b;
            break;
        default:
            if (d->code64 && (b & 0xf0) == 0x40) {
                d->rex = b;
                b = dec_u8(d);
                if ((b & 0xf0) == 0x40 || b == 0x26 || b == 0x2e || b == 0x36 ||
                    b == 0x3e || b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67 ||
                    b == 0xf0 || b == 0xf2 || b == 0xf3) {
                    /* A REX not directly before the opcode is ignored (2.2.1). */
                    d->rex = 0;
                    d->pos--;
                    continue;
                }
            }
            goto opcode;
        }
        d->rex = 0;
        if (d->pos - d->start >= 15) {
            return false;
        }
    }
opcode:
    if (d->code64) {
        d->osize = (d->rex & 8) ? 3 : d->p66 ? 1 : 2;
        d->asize = d->p67 ? 1 : 2;
    } else {
        d->osize = (d->code32 ^ d->p66) ? 2 : 1;
        d->asize = (d->code32 ^ d->p67) ? 1 : 0;
    }
    op->seg = d->seg >= 0 ? d->seg : R_DS;
    op->asize = d->asize;
    if (b == 0x0f) {
        b = dec_u8(d);
        d->map = 1;
        d->opc = b;
        if (b == 0x38 || b == 0x3a) {               /* SSSE3+ maps: not advertised */
            d->map = b == 0x38 ? 2 : 3;
            d->opc = dec_u8(d);
            return x86_decode_sse(d, op);
        }
        return decode_0f(d, op, b);
    }
    d->map = 0;
    d->opc = b;
    return decode_onebyte(d, op, b);
}

/*
 * Peephole: a CMP or TEST followed by a Jcc in 64-bit mode becomes one fused op at the
 * CMP's place (ops-int-tmpl.h); the Jcc op stays behind it, holding the target, and is
 * skipped.  Most loops and ifs end in such a pair.  So do ADD/OR/AND/SUB/XOR (register
 * and immediate forms) and INC/DEC of 32 and 64 bits: counters and masks.
 */
static void fuse_cmp_jcc(KiteOp *prev, const KiteOp *jcc)
{
    int cc = 0;

    while (cc < 16 && jcc->exec != x86_op_jcc64[cc]) {
        cc++;
    }
    if (cc == 16) {
        return;
    }
    for (int s = 0; s < 4; s++) {
        const X86IntOps *t = &x86_int_ops[s];
        for (int f = 0; f < X86_NFORMS; f++) {
            if (prev->exec == t->alu[f][7] && t->cmp_jcc[f]) {
                prev->exec = t->cmp_jcc[f][cc];
                return;
            }
            if (prev->exec == t->alu[f][8] && t->test_jcc[f]) {
                prev->exec = t->test_jcc[f][cc];
                return;
            }
        }
        if (!t->inc_jcc) {
            continue;
        }
        for (int k = 0; k < 7; k++) {
            if (t->alu_rr_jcc[k] && prev->exec == t->alu[X86_FORM_RR][k]) {
                prev->exec = t->alu_rr_jcc[k][cc];
                return;
            }
            if (t->alu_ri_jcc[k] && prev->exec == t->alu[X86_FORM_RI][k]) {
                prev->exec = t->alu_ri_jcc[k][cc];
                return;
            }
        }
        if (prev->exec == t->inc_r) {
            prev->exec = t->inc_jcc[cc];
            return;
        }
        if (prev->exec == t->dec_r) {
            prev->exec = t->dec_jcc[cc];
            return;
        }
    }
}

/*
 * Flag liveness: walking the trace backwards, an instruction whose OSZAPC result no
 * later one can observe before another overwrites all of them gets its flag-less
 * variant.  Observers are instructions that read flags, and any that can fault or
 * leave the trace: an exception frame's RFLAGS and the state at a trace exit must be
 * exact.  Only handlers x86_flag_info knows to do none of that are looked through, and
 * the trace's end observes everything.
 */
static void flag_liveness(KiteOp *ops, int n)
{
    bool live = true;

    for (int i = n - 1; i >= 0; i--) {
        KiteOpFn *nf;
        int cls = x86_flag_info(&ops[i], &nf);

        if (!live && nf) {
            ops[i].exec = nf;
        }
        if (cls == X86_FL_KILL) {
            live = false;
        } else if (cls == X86_FL_READ) {
            live = true;
        }
    }
}

int x86_decode_trace(X86CPU *cpu, const uint8_t *code, unsigned avail, KiteOp *ops,
                     int max, int *nops, unsigned *bytes)
{
    CPUX86State *env = &cpu->env;
    X86Dec d;
    int n = 0;
    bool ended = false;

    memset(&d, 0, sizeof(d));
    d.cpu = cpu;
    d.code = code;
    d.avail = avail;
    d.code64 = env->hflags & X86_HF_CS64;
    d.code32 = env->hflags & X86_HF_CS32;
    d.ss32 = env->hflags & X86_HF_SS32;

    while (n < max && !ended) {
        KiteOp *op = &ops[n];
        unsigned start = d.pos;
        bool ok;

        /* Reset the per-instruction state. */
        d.start = start;
        d.idx = n;
        d.overrun = false;
        d.rex = 0;
        d.p66 = d.p67 = d.lock = d.rep = d.repne = false;
        d.last_rep = 0;
        d.seg = -1;
        d.has_modrm = d.mem = d.riprel = d.end = d.lockable = false;
        memset(op, 0, sizeof(*op));
        op->base = op->index = X86_REG_NONE;

        ok = decode_insn(&d, op);
        if (d.overrun) {
            /* Needs bytes we do not have: stop before it (the caller fetches). */
            d.pos = start;
            break;
        }
        if (d.pos - start > 15) {
            ok = true;
            op->exec = x86_op_gp0;
            d.end = true;
        } else if (!ok) {
            op->exec = x86_op_ud;
            op->b1 = d.map;
            op->b2 = d.opc;
            d.end = true;
        } else if (d.lock && !(d.lockable && d.mem)) {
            op->exec = x86_op_ud;
            op->b1 = 4;
            op->b2 = d.opc;
            d.end = true;
        }
        op->len = d.pos - start;
        op->next_off = d.pos;
        if (d.riprel) {
            int64_t disp = (int64_t)op->disp + d.pos;
            /* Pathological displacements near +2 GiB wrap here (documented gap). */
            op->disp = (int32_t)disp;
        }
        if (n > 0 && d.code64) {
            fuse_cmp_jcc(&ops[n - 1], op);
        }
        n++;
        ended = d.end;
    }
    if (n == 0) {
        return 0;
    }
    flag_liveness(ops, n);
    *bytes = d.pos;
    if (!ended) {
        KiteOp *op = &ops[n];
        memset(op, 0, sizeof(*op));
        op->exec = x86_op_trace_end;
        op->next_off = d.pos;
        *nops = n + 1;
    } else {
        *nops = n;
    }
    return n;
}
