/*
 * x86 interpreter: decoder for system instructions of the 0F map (groups 6, 7, 15,
 * MOV CR/DR, MSRs, CPUID, fast system calls).  SDM vol. 2D, tables.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/ops.h"
#include "target/i386/tcg/sys.h"

/* r/m16 selector operand: register in src, or memory (b2 & 2). */
static void sel_operand(X86Dec *d, KiteOp *op)
{
    if (d->mem) {
        op->b2 |= 2;
    } else {
        op->src = d->rm;
    }
}

bool x86_decode_sys(X86Dec *d, KiteOp *op)
{
    int k;

    switch (d->opc) {
    case 0x00:                                      /* group 6 */
        dec_modrm(d, op);
        k = d->reg & 7;
        sel_operand(d, op);
        op->imm = d->osize;
        switch (k) {
        case 0: case 1:                             /* SLDT, STR */
            op->exec = x86_op_sldt_str;
            op->b1 = k;
            return true;
        case 2:
            op->exec = x86_op_lldt;
            return true;
        case 3:
            op->exec = x86_op_ltr;
            return true;
        case 4: case 5:                             /* VERR, VERW */
            op->exec = x86_op_lar_lsl;
            op->b1 = k - 2;
            return true;
        default:
            return false;
        }
    case 0x01:                                      /* group 7 */
        dec_modrm(d, op);
        k = d->reg & 7;
        if (d->mem) {
            switch (k) {
            case 0: case 1: case 2: case 3:         /* SGDT SIDT LGDT LIDT */
                op->exec = x86_op_xdt;
                op->b1 = k & 1;
                op->b2 = k >> 1;
                op->imm = d->osize;
                d->end = true;
                return true;
            case 4:                                 /* SMSW m16 */
                op->exec = x86_op_smsw;
                op->b2 = 2;
                return true;
            case 6:                                 /* LMSW m16 */
                op->exec = x86_op_lmsw;
                op->b2 = 2;
                d->end = true;
                return true;
            case 7:                                 /* INVLPG */
                op->exec = x86_op_invlpg;
                d->end = true;
                return true;
            default:
                return false;
            }
        }
        switch (k) {
        case 4:                                     /* SMSW r */
            op->exec = x86_op_smsw;
            op->src = d->rm;
            op->b1 = 1u << d->osize;
            return true;
        case 6:                                     /* LMSW r16 */
            op->exec = x86_op_lmsw;
            op->src = d->rm;
            d->end = true;
            return true;
        case 7:
            if ((d->rm & 7) == 0) {                 /* SWAPGS */
                op->exec = x86_op_swapgs;
                return d->code64;
            }
            if ((d->rm & 7) == 1) {                 /* RDTSCP */
                op->exec = x86_op_rdtsc;
                op->b1 = 1;
                return true;
            }
            return false;
        default:
            return false;                           /* MONITOR, XGETBV, VMX... */
        }
    case 0x02: case 0x03:                           /* LAR, LSL */
        dec_modrm(d, op);
        op->exec = x86_op_lar_lsl;
        op->b1 = d->opc - 2;
        op->dst = d->reg;
        op->imm = d->osize;
        sel_operand(d, op);
        return true;
    case 0x05:
        op->exec = x86_op_syscall;
        d->end = true;
        return true;
    case 0x06:
        op->exec = x86_op_clts;
        return true;
    case 0x07:
        op->exec = x86_op_sysret;
        op->b1 = d->osize;
        d->end = true;
        return true;
    case 0x08: case 0x09:
        op->exec = x86_op_wbinvd;
        return true;
    case 0x20: case 0x22:                           /* MOV CR (mod is ignored) */
        dec_modrm(d, op);
        op->b1 = d->reg;
        if (d->opc == 0x20) {
            op->exec = x86_op_mov_from_cr;
            op->dst = (d->rm & 7) | ((d->rex & 1) << 3);
        } else {
            op->exec = x86_op_mov_to_cr;
            op->src = (d->rm & 7) | ((d->rex & 1) << 3);
            d->end = true;
        }
        d->mem = false;
        return true;
    case 0x21: case 0x23:                           /* MOV DR */
        dec_modrm(d, op);
        if (d->reg > 7) {
            return false;
        }
        op->exec = x86_op_mov_dr;
        op->b1 = d->reg;
        op->b2 = d->opc == 0x23;
        op->dst = op->src = (d->rm & 7) | ((d->rex & 1) << 3);
        d->mem = false;
        d->end = true;
        return true;
    case 0x30: case 0x32:                           /* WRMSR, RDMSR */
        op->exec = x86_op_rdwrmsr;
        op->b1 = d->opc == 0x30;
        d->end = true;
        return true;
    case 0x31:
        op->exec = x86_op_rdtsc;
        return true;
    case 0x34:
        op->exec = x86_op_sysenter;
        d->end = true;
        return true;
    case 0x35:
        op->exec = x86_op_sysexit;
        d->end = true;
        return true;
    case 0xa2:
        op->exec = x86_op_cpuid;
        return true;
    case 0xae:                                      /* group 15 */
        if (d->p66 || d->rep || d->repne) {
            return false;
        }
        dec_modrm(d, op);
        k = d->reg & 7;
        if (!d->mem) {
            if (k >= 5) {                           /* LFENCE MFENCE SFENCE */
                op->exec = x86_op_nop;
                return true;
            }
            return false;
        }
        switch (k) {
        case 0:
            op->exec = x86_op_fxsave;
            op->b1 = d->rex & 8 ? 1 : 0;
            return true;
        case 1:
            op->exec = x86_op_fxrstor;
            op->b1 = d->rex & 8 ? 1 : 0;
            d->end = true;
            return true;
        case 2:
            op->exec = x86_op_ldmxcsr;
            return true;
        case 3:
            op->exec = x86_op_stmxcsr;
            return true;
        case 7:                                     /* CLFLUSH: caches not modelled */
            op->exec = x86_op_nop;
            return true;
        default:
            return false;                           /* XSAVE family: not advertised */
        }
    default:
        return false;
    }
}
