/*
 * x86 interpreter: decoder for the MMX/SSE/SSE2 part of the 0F map.  The mandatory
 * prefix (none, 66, F3, F2; F2/F3 win over 66, the last of F2/F3 wins) selects an
 * SseDesc from the tables of sse-int.c and sse-fp.c, whose kind bits say which
 * register files the ModRM fields name.  The 0F 38 and 0F 3A maps (SSSE3 and later)
 * are not advertised and decode to #UD.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/sse.h"

static int mandatory_prefix(const X86Dec *d)
{
    if (d->last_rep == 0xf3) {
        return 2;
    }
    if (d->last_rep == 0xf2) {
        return 3;
    }
    return d->p66 ? 1 : 0;
}

bool x86_decode_sse(X86Dec *d, KiteOp *op)
{
    int opc = d->opc, pfx, reg, rm;
    const SseDesc *sd;
    unsigned kind;

    if (d->map != 1) {
        return false;
    }
    pfx = mandatory_prefix(d);
    if (opc == 0x77) {                              /* EMMS */
        if (pfx) {
            return false;
        }
        op->exec = x86_op_emms;
        return true;
    }
    if (opc >= 0x71 && opc <= 0x73) {               /* shift-by-immediate groups */
        KiteOpFn *fn;
        if (pfx > 1) {
            return false;
        }
        dec_modrm(d, op);
        if (d->mem) {
            return false;
        }
        fn = x86_sse_shift_imm[opc - 0x71][d->reg & 7][pfx];
        if (!fn) {
            return false;
        }
        op->exec = fn;
        op->src = pfx ? d->rm : (d->rm & 7);
        op->b1 = dec_u8(d);
        return true;
    }
    sd = &x86_sse_int_desc[opc][pfx];
    if (!sd->fn) {
        sd = &x86_sse_fp_desc[opc][pfx];
    }
    if (!sd->fn) {
        return false;
    }
    kind = sd->kind;
    dec_modrm(d, op);
    if (((kind & SK_MEM) && !d->mem) || ((kind & SK_REG) && d->mem)) {
        return false;
    }
    reg = (kind & (SK_MMX | SK_DST_MMX)) && !(kind & SK_DST_GPR) ? (d->reg & 7) : d->reg;
    if (kind & SK_DST_GPR) {
        reg = d->reg;
    }
    rm = (kind & (SK_MMX | SK_SRC_MMX)) && !(kind & SK_SRC_GPR) ? (d->rm & 7) : d->rm;
    if (d->mem) {
        op->b2 |= SOP_MEM;
        if (kind & SK_A16) {
            op->b2 |= SOP_ALIGN;
        }
        rm = 0;
    }
    if (kind & SK_STORE) {
        op->dst = rm;
        op->src = reg;
    } else {
        op->dst = reg;
        op->src = rm;
    }
    if (d->rex & 8) {
        op->b2 |= SOP_W;
    }
    if (kind & SK_IMM8) {
        op->b1 = dec_u8(d);
    }
    /* CVTT* (0F 2C) share handlers with CVT* (0F 2D): imm selects truncation. */
    op->imm = opc == 0x2c;
    op->exec = sd->fn;
    return true;
}
