/*
 * x86 interpreter: segmentation and privilege (SDM vol. 3A, chapters 3 and 5):
 * segment-register loads, far JMP/CALL/RET (with call gates), IRET in every mode,
 * limit checks for legacy-mode memory accesses and the I/O permission bitmap.
 *
 * Not emulated: hardware task switching (JMP/CALL/IRET through a TSS or task gate
 * log LOG_UNIMP and raise #GP), and IRET with NT=1 in protected mode.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/seg.h"
#include "target/i386/tcg/ops.h"

static inline bool is_canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static inline bool real_or_vm86(X86CPU *cpu)
{
    return !(cpu->env.hflags & X86_HF_PE) || (cpu->env.hflags & X86_HF_VM);
}

/* ---- legacy-mode access checks ------------------------------------------------------ */

uint64_t x86_seg_la_check(X86CPU *cpu, const KiteOp *op, int seg, uint64_t ea,
                          unsigned size, bool write)
{
    if (ea < cpu->seg_lo[seg] || ea + size - 1 > cpu->seg_hi[seg] ||
        !(cpu->seg_rw[seg] & (write ? 2 : 1))) {
        x86_raise(cpu, op, seg == R_SS ? EXCP_SS : EXCP_GP, 0);
    }
    return (uint32_t)(cpu->seg_base[seg] + ea);
}

/* ---- descriptors ------------------------------------------------------------------- */

bool x86_desc_read(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t *desc)
{
    CPUX86State *env = &cpu->env;
    uint64_t base;
    uint32_t limit;

    if (sel & 4) {
        if (!(env->ldt.attr & X86_SEG_P)) {
            return false;
        }
        base = env->ldt.base;
        limit = env->ldt.limit;
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    if ((sel | 7) > limit) {
        return false;
    }
    *desc = x86_ld_super(cpu, op, (base + (sel & ~7)) & cpu->la_mask, 8);
    return true;
}

bool x86_desc_read_high(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t *hi)
{
    CPUX86State *env = &cpu->env;
    uint64_t base = (sel & 4) ? env->ldt.base : env->gdt.base;
    uint32_t limit = (sel & 4) ? env->ldt.limit : env->gdt.limit;

    if ((sel | 7) + 8 > limit) {
        return false;
    }
    *hi = x86_ld_super(cpu, op, base + (sel & ~7) + 8, 8);
    return true;
}

/* Set the accessed bit (type bit 0) in memory, as the processor does on a load. */
void x86_desc_set_accessed(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t desc)
{
    CPUX86State *env = &cpu->env;
    uint64_t base = (sel & 4) ? env->ldt.base : env->gdt.base;

    if (!(desc & (1ULL << 40))) {
        x86_st_super(cpu, op, (base + (sel & ~7) + 5) & cpu->la_mask, 1,
                     ((desc >> 40) & 0xff) | 1);
    }
}

void x86_seg_set(X86CPU *cpu, int seg, uint16_t sel, uint64_t desc)
{
    X86Segment *s = &cpu->env.segs[seg];

    s->selector = sel;
    s->base = desc_base(desc);
    s->limit = desc_limit(desc);
    s->attr = desc_attr(desc) | X86_SEG_TYPE_A;
    x86_update_seg_cache(cpu, seg);
}

void x86_set_cpl(X86CPU *cpu, int cpl)
{
    cpu->env.hflags = (cpu->env.hflags & ~X86_HF_CPL_MASK) | cpl;
    x86_update_mmu_idx(cpu);
}

void x86_load_cs(X86CPU *cpu, uint16_t sel, uint64_t desc, int cpl)
{
    x86_seg_set(cpu, R_CS, (sel & ~3) | cpl, desc);
    x86_set_cpl(cpu, cpl);
    x86_update_hflags(cpu);
}

/* Load a null selector: the register becomes unusable (SDM vol. 3A, 5.4.1). */
static void load_null(X86CPU *cpu, int seg, uint16_t sel)
{
    X86Segment *s = &cpu->env.segs[seg];

    s->selector = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = 0;
    x86_update_seg_cache(cpu, seg);
}

void x86_load_seg(X86CPU *cpu, const KiteOp *op, int seg, uint16_t sel)
{
    CPUX86State *env = &cpu->env;
    int cpl = x86_cpl(cpu), rpl = sel & 3, dpl;
    uint64_t desc;
    uint16_t attr;

    if (real_or_vm86(cpu)) {
        X86Segment *s = &env->segs[seg];
        s->selector = sel;
        s->base = (uint32_t)sel << 4;
        if (env->hflags & X86_HF_VM) {
            s->limit = 0xffff;
            s->attr = X86_SEG_P | X86_SEG_S | (3 << X86_SEG_DPL_SHIFT) |
                      X86_SEG_TYPE_RW | X86_SEG_TYPE_A;
        }
        x86_update_seg_cache(cpu, seg);
        if (seg == R_SS) {
            x86_update_hflags(cpu);
        }
        return;
    }
    if ((sel & ~3) == 0) {
        /* 64-bit mode allows a null SS at CPL < 3 with RPL = CPL (SDM vol. 3A, 5.4.1.1). */
        if (seg == R_SS && !((env->hflags & X86_HF_CS64) && cpl != 3 && rpl == cpl)) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        load_null(cpu, seg, sel);
        if (seg == R_SS) {
            x86_update_hflags(cpu);
        }
        return;
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    attr = desc_attr(desc);
    dpl = attr_dpl(attr);
    if (seg == R_SS) {
        if (rpl != cpl || dpl != cpl || !attr_is_data(attr) ||
            !(attr & X86_SEG_TYPE_RW)) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(attr & X86_SEG_P)) {
            x86_raise(cpu, op, EXCP_SS, sel & 0xfffc);
        }
    } else {
        if (!(attr & X86_SEG_S) ||
            (attr_is_code(attr) && !(attr & X86_SEG_TYPE_RW))) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if ((attr_is_data(attr) || !(attr & X86_SEG_TYPE_EC)) &&
            (dpl < cpl || dpl < rpl)) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(attr & X86_SEG_P)) {
            x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
        }
    }
    x86_desc_set_accessed(cpu, op, sel, desc);
    x86_seg_set(cpu, seg, sel, desc);
    if (seg == R_SS) {
        x86_update_hflags(cpu);
    }
}

void x86_validate_data_segs(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    int cpl = x86_cpl(cpu);

    for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
        X86Segment *s = &env->segs[segs[i]];
        bool conforming_code = attr_is_code(s->attr) && (s->attr & X86_SEG_TYPE_EC);
        if ((s->attr & X86_SEG_P) && !conforming_code && attr_dpl(s->attr) < cpl) {
            load_null(cpu, segs[i], 0);
        }
    }
}

/* ---- segment register ops --------------------------------------------------------- */

/* MOV Sreg, r/m16 (8E): dst = segment; src register or memory (b2 & 2). */
void x86_op_mov_to_seg(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel;

    if (op->b2 & 2) {
        sel = x86_ld16(cpu, op, x86_op_la(cpu, op, 2, false));
    } else {
        sel = REG16(env, op->src);
    }
    x86_load_seg(cpu, op, op->dst, sel);
    if (op->dst == R_SS) {
        /* Interrupts wait for the next instruction (SDM vol. 2B, MOV). */
        env->int_shadow = true;
        x86_update_pending(cpu);
    }
    env->rip += op->next_off;
}

/* MOV r/m, Sreg (8C): src = segment, dst register (size b1) or memory. */
void x86_op_mov_from_seg(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = env->segs[op->src].selector;

    if (op->b2 & 2) {
        x86_st16(cpu, op, x86_op_la(cpu, op, 2, true), sel);
        NEXT_W(cpu, op);
    }
    if (op->b1 == 2) {
        REG16(env, op->dst) = sel;
    } else {
        env->regs[op->dst] = sel;       /* 32/64-bit destinations are zero-extended */
    }
    NEXT(cpu, op);
}

/* PUSH Sreg: src = segment, b1 = size (a 32-bit push may write only 16 bits; we write all). */
void x86_op_push_seg(X86CPU *cpu, const KiteOp *op)
{
    x86_push(cpu, op, cpu->env.segs[op->src].selector, op->b1);
    NEXT_W(cpu, op);
}

void x86_op_pop_seg(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_ESP] & mask;
    uint16_t sel = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, sp, op->b1, false), op->b1);

    x86_load_seg(cpu, op, op->dst, sel);
    x86_set_sp(cpu, mask, sp + op->b1);
    if (op->dst == R_SS) {
        env->int_shadow = true;
        x86_update_pending(cpu);
    }
    env->rip += op->next_off;
}

/* LDS/LES/LSS/LFS/LGS: b1 = segment, b2 = operand size index, dst = register. */
void x86_op_load_far(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b2;
    uint64_t la = x86_op_la(cpu, op, size + 2, false);
    uint64_t off = x86_ldn(cpu, op, la, size);
    uint16_t sel = x86_ld16(cpu, op, (la + size) & cpu->la_mask);

    x86_load_seg(cpu, op, op->b1, sel);
    switch (size) {
    case 2: REG16(env, op->dst) = off; break;
    case 4: env->regs[op->dst] = (uint32_t)off; break;
    default: env->regs[op->dst] = off; break;
    }
    if (op->b1 == R_SS) {
        env->int_shadow = true;
        x86_update_pending(cpu);
    }
    env->rip += op->next_off;
}

/* ARPL r/m16, r16 (63, protected mode only). */
void x86_op_arpl(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = 0;
    uint16_t d, s = REG16(env, op->src);
    uint32_t f;

    if (real_or_vm86(cpu)) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (op->b2 & 2) {
        la = x86_op_la(cpu, op, 2, true);
        d = x86_ld16(cpu, op, la);
    } else {
        d = REG16(env, op->dst);
    }
    f = x86_cc_compute(env) & ~X86_EFLAGS_ZF;
    if ((d & 3) < (s & 3)) {
        d = (d & ~3) | (s & 3);
        f |= X86_EFLAGS_ZF;
        if (op->b2 & 2) {
            x86_st16(cpu, op, la, d);
        } else {
            REG16(env, op->dst) = d;
        }
    }
    x86_cc_load(env, f);
    NEXT_W(cpu, op);
}

/* ---- far JMP / CALL --------------------------------------------------------------- */

static G_NORETURN void task_switch_unimp(X86CPU *cpu, const KiteOp *op, uint16_t sel)
{
    kite_log_mask(LOG_UNIMP, "x86: hardware task switch to selector 0x%x not emulated\n",
                  sel);
    x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
}

/* Check a code-segment target of a far JMP/CALL (or of a call gate). */
static uint64_t far_code_desc(X86CPU *cpu, const KiteOp *op, uint16_t sel, bool via_gate)
{
    uint64_t desc;
    uint16_t attr;
    int cpl = x86_cpl(cpu), dpl;

    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    attr = desc_attr(desc);
    dpl = attr_dpl(attr);
    if (!attr_is_code(attr)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (attr & X86_SEG_TYPE_EC) {
        if (dpl > cpl) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
    } else if (via_gate ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    if ((cpu->env.efer & X86_EFER_LMA) && (attr & X86_SEG_L) && (attr & X86_SEG_DB)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    return desc;
}

/* The target offset must lie within the new code segment (not checked for 64-bit). */
static void check_far_offset(X86CPU *cpu, const KiteOp *op, uint64_t desc, uint64_t off)
{
    uint16_t attr = desc_attr(desc);

    if ((cpu->env.efer & X86_EFER_LMA) && (attr & X86_SEG_L)) {
        if (!is_canonical(off)) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
    } else if (off > desc_limit(desc)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
}

/* Decoded call gate. */
typedef struct CallGate {
    uint16_t sel;
    uint64_t off;
    int params;
    bool is32;          /* 32-bit (or 64-bit) gate */
} CallGate;

static void read_call_gate(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t g,
                           CallGate *cg)
{
    uint16_t attr = desc_attr(g);
    int type = attr & 0xf, dpl = attr_dpl(attr), cpl = x86_cpl(cpu);
    bool lma = cpu->env.efer & X86_EFER_LMA;

    if (type == DESC_TASKGATE || type == DESC_TSS16_AVAIL || type == DESC_TSS32_AVAIL) {
        if (lma) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        task_switch_unimp(cpu, op, sel);
    }
    if (!(type == DESC_CALLGATE32 || (type == DESC_CALLGATE16 && !lma))) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (dpl < cpl || dpl < (sel & 3)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    cg->sel = g >> 16;
    cg->is32 = type == DESC_CALLGATE32;
    cg->params = (g >> 32) & 0x1f;
    cg->off = g & 0xffff;
    if (cg->is32) {
        cg->off |= (g >> 32) & 0xffff0000;
    }
    if (lma) {
        uint64_t hi;
        if (!x86_desc_read_high(cpu, op, sel, &hi)) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if ((hi >> 40) & 0x1f) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        cg->off |= hi << 32;
        cg->params = 0;
    }
}

static void far_real(X86CPU *cpu, uint16_t sel, uint64_t off)
{
    CPUX86State *env = &cpu->env;

    env->segs[R_CS].selector = sel;
    env->segs[R_CS].base = (uint32_t)sel << 4;
    x86_update_seg_cache(cpu, R_CS);
    env->rip = off;
}

static void far_jmp(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t off, int osize)
{
    int cpl = x86_cpl(cpu);
    uint64_t desc;

    if (real_or_vm86(cpu)) {
        if (off > cpu->env.segs[R_CS].limit) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        far_real(cpu, sel, off);
        return;
    }
    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (desc_attr(desc) & X86_SEG_S) {
        desc = far_code_desc(cpu, op, sel, false);
        if (osize == 1) {
            off &= 0xffff;
        }
        check_far_offset(cpu, op, desc, off);
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, cpl);
        cpu->env.rip = off;
    } else {
        CallGate cg;
        read_call_gate(cpu, op, sel, desc, &cg);
        desc = far_code_desc(cpu, op, cg.sel, true);
        if (!(desc_attr(desc) & X86_SEG_TYPE_EC) && attr_dpl(desc_attr(desc)) != cpl) {
            x86_raise(cpu, op, EXCP_GP, cg.sel & 0xfffc);
        }
        check_far_offset(cpu, op, desc, cg.off);
        x86_desc_set_accessed(cpu, op, cg.sel, desc);
        x86_load_cs(cpu, cg.sel, desc, cpl);
        cpu->env.rip = cg.off;
    }
}

/* Push for a far call/interrupt on a stack given by (ss base, sp, mask), no checks. */
typedef struct StackFrame {
    uint64_t base, sp, mask;
    bool flat64;
    unsigned acc;
} StackFrame;

static void frame_push(X86CPU *cpu, const KiteOp *op, StackFrame *f, uint64_t v,
                       unsigned size)
{
    f->sp = (f->sp - size) & f->mask;
    x86_st_slow(cpu, op, (f->base + f->sp) & cpu->la_mask, size, v, f->acc);
}

static void far_call(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t off, int osize)
{
    CPUX86State *env = &cpu->env;
    int cpl = x86_cpl(cpu);
    unsigned size = 1u << osize;
    uint64_t desc, ret = env->rip + op->next_off;
    uint16_t cs = env->segs[R_CS].selector;

    if (real_or_vm86(cpu)) {
        if (osize == 1) {
            off &= 0xffff;
        }
        if (off > env->segs[R_CS].limit) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        x86_probe_write(cpu, op, x86_seg_la(cpu, op, R_SS,
                                            (env->regs[R_ESP] - 2 * size) & x86_sp_mask(cpu),
                                            2 * size, true), 2 * size, X86_ACC_WRITE);
        x86_push(cpu, op, cs, size);
        x86_push(cpu, op, ret, size);
        far_real(cpu, sel, off);
        return;
    }
    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (desc_attr(desc) & X86_SEG_S) {
        uint64_t mask = x86_sp_mask(cpu), sp = env->regs[R_ESP];
        desc = far_code_desc(cpu, op, sel, false);
        if (osize == 1) {
            off &= 0xffff;
        }
        check_far_offset(cpu, op, desc, off);
        x86_probe_write(cpu, op, x86_seg_la(cpu, op, R_SS, (sp - 2 * size) & mask,
                                            2 * size, true), 2 * size, X86_ACC_WRITE);
        x86_push(cpu, op, cs, size);
        x86_push(cpu, op, ret, size);
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, cpl);
        env->rip = off;
        return;
    } else {
        CallGate cg;
        uint16_t attr;
        int dpl;

        read_call_gate(cpu, op, sel, desc, &cg);
        desc = far_code_desc(cpu, op, cg.sel, true);
        attr = desc_attr(desc);
        dpl = attr_dpl(attr);
        check_far_offset(cpu, op, desc, cg.off);
        size = (env->efer & X86_EFER_LMA) ? 8 : cg.is32 ? 4 : 2;
        if (!(attr & X86_SEG_TYPE_EC) && dpl < cpl) {
            /* More privileged: switch to the inner stack from the TSS (5.8.5). */
            StackFrame f;
            uint16_t new_ss = 0, old_ss = env->segs[R_SS].selector;
            uint64_t new_sp, old_sp = env->regs[R_ESP], ss_desc = 0;
            uint64_t params[31];
            int n = cg.params;

            if (env->efer & X86_EFER_LMA) {
                new_sp = x86_tss_rsp64(cpu, op, dpl, 0);
                new_ss = dpl;
                f = (StackFrame){ .base = 0, .sp = new_sp & ~15ULL, .mask = ~0ULL,
                                  .acc = X86_ACC_WRITE | X86_ACC_SUPER | X86_ACC_STACK };
            } else {
                x86_tss_stack(cpu, op, dpl, &new_ss, &new_sp, 0);
                if (!x86_desc_read(cpu, op, new_ss, &ss_desc)) {
                    x86_raise(cpu, op, EXCP_TS, new_ss & 0xfffc);
                }
                if ((new_ss & 3) != dpl || attr_dpl(desc_attr(ss_desc)) != dpl ||
                    !attr_is_data(desc_attr(ss_desc)) ||
                    !(desc_attr(ss_desc) & X86_SEG_TYPE_RW)) {
                    x86_raise(cpu, op, EXCP_TS, new_ss & 0xfffc);
                }
                if (!(desc_attr(ss_desc) & X86_SEG_P)) {
                    x86_raise(cpu, op, EXCP_SS, new_ss & 0xfffc);
                }
                f = (StackFrame){ .base = desc_base(ss_desc), .sp = new_sp,
                                  .mask = (desc_attr(ss_desc) & X86_SEG_DB) ? 0xffffffff
                                                                             : 0xffff,
                                  .acc = X86_ACC_WRITE | X86_ACC_SUPER | X86_ACC_STACK };
                for (int i = 0; i < n; i++) {
                    uint64_t a = (old_sp + i * size) & x86_sp_mask(cpu);
                    params[i] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, a, size, false),
                                        size);
                }
            }
            frame_push(cpu, op, &f, old_ss, size);
            frame_push(cpu, op, &f, old_sp, size);
            for (int i = n - 1; i >= 0; i--) {
                frame_push(cpu, op, &f, params[i], size);
            }
            frame_push(cpu, op, &f, cs, size);
            frame_push(cpu, op, &f, ret, size);
            if (env->efer & X86_EFER_LMA) {
                load_null(cpu, R_SS, new_ss);
            } else {
                x86_desc_set_accessed(cpu, op, new_ss, ss_desc);
                x86_seg_set(cpu, R_SS, new_ss, ss_desc);
            }
            env->regs[R_ESP] = f.sp;
            x86_desc_set_accessed(cpu, op, cg.sel, desc);
            x86_load_cs(cpu, cg.sel, desc, dpl);
        } else {
            uint64_t mask = x86_sp_mask(cpu), sp = env->regs[R_ESP];
            x86_probe_write(cpu, op, x86_seg_la(cpu, op, R_SS, (sp - 2 * size) & mask,
                                                2 * size, true), 2 * size, X86_ACC_WRITE);
            x86_push(cpu, op, cs, size);
            x86_push(cpu, op, ret, size);
            x86_desc_set_accessed(cpu, op, cg.sel, desc);
            x86_load_cs(cpu, cg.sel, desc, cpl);
        }
        env->rip = cg.off;
    }
}

/* JMPF/CALLF ptr16:16/32 (EA, 9A): imm = offset, disp = selector, b1 = osize. */
void x86_op_jmpf_imm(X86CPU *cpu, const KiteOp *op)
{
    far_jmp(cpu, op, op->disp, op->imm, op->b1);
}

void x86_op_callf_imm(X86CPU *cpu, const KiteOp *op)
{
    far_call(cpu, op, op->disp, op->imm, op->b1);
    cpu->smc_hit = false;
}

/* JMPF/CALLF m16:16/32/64 (FF /5, /3): b1 = osize. */
static void read_far_ptr(X86CPU *cpu, const KiteOp *op, uint16_t *sel, uint64_t *off)
{
    unsigned size = 1u << op->b1;
    uint64_t la = x86_op_la(cpu, op, size + 2, false);

    *off = x86_ldn(cpu, op, la, size);
    *sel = x86_ld16(cpu, op, (la + size) & cpu->la_mask);
}

void x86_op_jmpf_mem(X86CPU *cpu, const KiteOp *op)
{
    uint16_t sel;
    uint64_t off;

    read_far_ptr(cpu, op, &sel, &off);
    far_jmp(cpu, op, sel, off, op->b1);
}

void x86_op_callf_mem(X86CPU *cpu, const KiteOp *op)
{
    uint16_t sel;
    uint64_t off;

    read_far_ptr(cpu, op, &sel, &off);
    far_call(cpu, op, sel, off, op->b1);
    cpu->smc_hit = false;
}

/* ---- far RET and IRET -------------------------------------------------------------- */

/* Check the CS a RETF/IRET returns to; returns its descriptor. */
static uint64_t ret_code_desc(X86CPU *cpu, const KiteOp *op, uint16_t sel)
{
    uint64_t desc;
    uint16_t attr;
    int rpl = sel & 3, dpl;

    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    attr = desc_attr(desc);
    dpl = attr_dpl(attr);
    if (!attr_is_code(attr) || rpl < x86_cpl(cpu)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if ((attr & X86_SEG_TYPE_EC) ? dpl > rpl : dpl != rpl) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    if ((cpu->env.efer & X86_EFER_LMA) && (attr & X86_SEG_L) && (attr & X86_SEG_DB)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    return desc;
}

/* Check the SS a return to an outer level loads; returns its descriptor (0: null). */
static uint64_t ret_stack_desc(X86CPU *cpu, const KiteOp *op, uint16_t ss, int rpl,
                               bool to64)
{
    uint64_t desc;
    uint16_t attr;

    if ((ss & ~3) == 0) {
        /* Allowed returning to 64-bit code at CPL < 3 (SDM vol. 2A, IRET). */
        if (to64 && rpl != 3 && (ss & 3) == rpl) {
            return 0;
        }
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!x86_desc_read(cpu, op, ss, &desc)) {
        x86_raise(cpu, op, EXCP_GP, ss & 0xfffc);
    }
    attr = desc_attr(desc);
    if ((ss & 3) != rpl || attr_dpl(attr) != rpl || !attr_is_data(attr) ||
        !(attr & X86_SEG_TYPE_RW)) {
        x86_raise(cpu, op, EXCP_GP, ss & 0xfffc);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_SS, ss & 0xfffc);
    }
    return desc;
}

/* Read n stack slots of size bytes from the current stack top without popping. */
static void stack_peek(X86CPU *cpu, const KiteOp *op, unsigned size, int n, uint64_t *v)
{
    uint64_t mask = x86_sp_mask(cpu), sp = cpu->env.regs[R_ESP];

    for (int i = 0; i < n; i++) {
        uint64_t a = (sp + i * size) & mask;
        v[i] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, a, size, false), size);
    }
}

static void load_ss_for_return(X86CPU *cpu, const KiteOp *op, uint16_t ss, uint64_t desc,
                               int rpl)
{
    if (desc == 0) {
        load_null(cpu, R_SS, ss);
        x86_update_hflags(cpu);
    } else {
        x86_desc_set_accessed(cpu, op, ss, desc);
        x86_seg_set(cpu, R_SS, ss, desc);
    }
}

/* RETF [imm16] (CB, CA): b1 = operand size index, imm = bytes to release. */
void x86_op_retf(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;
    uint64_t v[4], mask = x86_sp_mask(cpu), desc;
    uint16_t sel;
    int cpl = x86_cpl(cpu), rpl;

    if (real_or_vm86(cpu)) {
        stack_peek(cpu, op, size, 2, v);
        if ((v[0] & (size == 2 ? 0xffff : 0xffffffff)) > env->segs[R_CS].limit) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        x86_set_sp(cpu, mask, env->regs[R_ESP] + 2 * size + op->imm);
        far_real(cpu, v[1], v[0] & (size == 2 ? 0xffff : 0xffffffff));
        return;
    }
    stack_peek(cpu, op, size, 2, v);
    sel = v[1];
    rpl = sel & 3;
    desc = ret_code_desc(cpu, op, sel);
    if (rpl == cpl) {
        uint64_t off = size == 2 ? (v[0] & 0xffff) : v[0];
        check_far_offset(cpu, op, desc, off);
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, cpl);
        x86_set_sp(cpu, mask, env->regs[R_ESP] + 2 * size + op->imm);
        env->rip = off;
        return;
    }
    /* Return to an outer privilege level: SS:rSP follow the released bytes. */
    {
        uint64_t sp = env->regs[R_ESP], outer[2], ss_desc, off;
        bool to64 = (env->efer & X86_EFER_LMA) && (desc_attr(desc) & X86_SEG_L);
        for (int i = 0; i < 2; i++) {
            uint64_t a = (sp + 2 * size + op->imm + i * size) & mask;
            outer[i] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, a, size, false), size);
        }
        ss_desc = ret_stack_desc(cpu, op, outer[1], rpl, to64);
        off = size == 2 ? (v[0] & 0xffff) : v[0];
        check_far_offset(cpu, op, desc, off);
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, rpl);
        load_ss_for_return(cpu, op, outer[1], ss_desc, rpl);
        x86_set_sp(cpu, x86_sp_mask(cpu), outer[0] + op->imm);
        env->rip = off;
        x86_validate_data_segs(cpu);
    }
}

/* EFLAGS after IRET: the bits the old CPL may change (SDM vol. 2A, IRET). */
static void iret_set_eflags(X86CPU *cpu, uint32_t v, unsigned size, int old_cpl)
{
    CPUX86State *env = &cpu->env;
    int iopl = (env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT;
    uint32_t m = X86_EFLAGS_OSZAPC | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_NT |
                 X86_EFLAGS_RF | X86_EFLAGS_AC | X86_EFLAGS_ID;

    if (old_cpl == 0) {
        m |= X86_EFLAGS_IOPL | X86_EFLAGS_VIF | X86_EFLAGS_VIP;
    }
    if (old_cpl <= iopl) {
        m |= X86_EFLAGS_IF;
    }
    if (size == 2) {
        m &= 0xffff;
    }
    x86_cpu_set_eflags(env, (x86_cpu_get_eflags(env) & ~m) | (v & m));
}

static void iret_real(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    CPUX86State *env = &cpu->env;
    uint64_t v[3], mask = x86_sp_mask(cpu);
    uint32_t m;

    if ((env->hflags & X86_HF_VM) &&
        ((env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT) < 3) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    stack_peek(cpu, op, size, 3, v);
    if (size == 2) {
        v[0] &= 0xffff;
    }
    if (v[0] > env->segs[R_CS].limit) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    x86_set_sp(cpu, mask, env->regs[R_ESP] + 3 * size);
    far_real(cpu, v[1], v[0]);
    m = X86_EFLAGS_OSZAPC | X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF |
        X86_EFLAGS_NT | X86_EFLAGS_IOPL | X86_EFLAGS_AC | X86_EFLAGS_ID;
    if (env->hflags & X86_HF_VM) {
        m &= ~X86_EFLAGS_IOPL;
    }
    if (size == 2) {
        m &= 0xffff;
    }
    x86_cpu_set_eflags(env, (x86_cpu_get_eflags(env) & ~m & ~X86_EFLAGS_RF) | (v[2] & m));
}

/* IRET from CPL 0 with VM=1 in the popped EFLAGS: enter virtual-8086 mode (20.2.6). */
static void iret_to_vm86(X86CPU *cpu, const KiteOp *op, uint64_t *v)
{
    CPUX86State *env = &cpu->env;
    uint64_t w[6];
    static const int segs[4] = { R_ES, R_DS, R_FS, R_GS };

    for (int i = 0; i < 6; i++) {
        uint64_t a = (env->regs[R_ESP] + 12 + 4 * i) & x86_sp_mask(cpu);
        w[i] = x86_ld32(cpu, op, x86_seg_la(cpu, op, R_SS, a, 4, false));
    }
    x86_cpu_set_eflags(env, (uint32_t)v[2] | X86_EFLAGS_VM);
    x86_set_cpl(cpu, 3);
    x86_update_hflags(cpu);
    for (int i = 0; i < 4; i++) {
        x86_load_seg(cpu, op, segs[i], w[2 + i]);
    }
    x86_load_seg(cpu, op, R_SS, w[1]);
    env->segs[R_CS].selector = v[1];
    env->segs[R_CS].base = (uint32_t)(uint16_t)v[1] << 4;
    env->segs[R_CS].limit = 0xffff;
    env->segs[R_CS].attr = X86_SEG_P | X86_SEG_S | (3 << X86_SEG_DPL_SHIFT) |
                           X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW | X86_SEG_TYPE_A;
    env->regs[R_ESP] = (uint32_t)w[0];
    env->rip = v[0] & 0xffff;
    x86_update_hflags(cpu);
}

static void iret_protected(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    CPUX86State *env = &cpu->env;
    bool long64 = env->hflags & X86_HF_CS64;
    int cpl = x86_cpl(cpu), rpl;
    uint64_t v[5], desc, mask = x86_sp_mask(cpu), off;
    uint16_t sel;
    bool to64;

    if (!(env->efer & X86_EFER_LMA) && (env->eflags & X86_EFLAGS_NT)) {
        task_switch_unimp(cpu, op, x86_ld_super(cpu, op, env->tr.base, 2));
    }
    stack_peek(cpu, op, size, long64 ? 5 : 3, v);
    if ((v[2] & X86_EFLAGS_VM) && cpl == 0 && !(env->efer & X86_EFER_LMA) && size == 4) {
        iret_to_vm86(cpu, op, v);
        return;
    }
    sel = v[1];
    rpl = sel & 3;
    desc = ret_code_desc(cpu, op, sel);
    to64 = (env->efer & X86_EFER_LMA) && (desc_attr(desc) & X86_SEG_L);
    off = size == 2 ? (v[0] & 0xffff) : size == 4 ? (uint32_t)v[0] : v[0];
    if (!long64 && rpl == cpl) {
        check_far_offset(cpu, op, desc, off);
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, cpl);
        x86_set_sp(cpu, mask, env->regs[R_ESP] + 3 * size);
        iret_set_eflags(cpu, v[2], size, cpl);
    } else {
        uint64_t ss_desc, new_sp;
        if (!long64) {
            uint64_t a0 = (env->regs[R_ESP] + 3 * size) & mask;
            uint64_t a1 = (env->regs[R_ESP] + 4 * size) & mask;
            v[3] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, a0, size, false), size);
            v[4] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, a1, size, false), size);
        }
        ss_desc = ret_stack_desc(cpu, op, v[4], rpl, to64);
        check_far_offset(cpu, op, desc, off);
        new_sp = v[3];
        x86_desc_set_accessed(cpu, op, sel, desc);
        x86_load_cs(cpu, sel, desc, rpl);
        load_ss_for_return(cpu, op, v[4], ss_desc, rpl);
        if (size == 2) {
            REG16(env, R_ESP) = new_sp;
        } else if (size == 4 && !to64) {
            env->regs[R_ESP] = (uint32_t)new_sp;
        } else {
            env->regs[R_ESP] = new_sp;
        }
        iret_set_eflags(cpu, v[2], size, cpl);
        if (rpl > cpl) {
            x86_validate_data_segs(cpu);
        }
    }
    env->rip = off;
    x86_update_hflags(cpu);
}

/* IRET/IRETD/IRETQ (CF): b1 = operand size index. */
void x86_op_iret(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;

    if (real_or_vm86(cpu)) {
        iret_real(cpu, op, size);
    } else {
        iret_protected(cpu, op, size);
    }
    env->nmi_blocked = false;      /* IRET ends NMI blocking (SDM vol. 3A, 6.7.1) */
    x86_update_pending(cpu);
}

/* ---- TSS ----------------------------------------------------------------------------- */

void x86_tss_stack(X86CPU *cpu, const KiteOp *op, int dpl, uint16_t *ss, uint64_t *sp,
                   uint32_t ext)
{
    CPUX86State *env = &cpu->env;
    int type = env->tr.attr & 0xf;
    bool is32 = type == DESC_TSS32_AVAIL || type == DESC_TSS32_BUSY;
    unsigned off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;

    if (!(env->tr.attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_TS, (env->tr.selector & 0xfffc) | ext);
    }
    if (off + (is32 ? 7 : 3) > env->tr.limit) {
        x86_raise(cpu, op, EXCP_TS, (env->tr.selector & 0xfffc) | ext);
    }
    if (is32) {
        *sp = x86_ld_super(cpu, op, (env->tr.base + off) & cpu->la_mask, 4);
        *ss = x86_ld_super(cpu, op, (env->tr.base + off + 4) & cpu->la_mask, 2);
    } else {
        *sp = x86_ld_super(cpu, op, (env->tr.base + off) & cpu->la_mask, 2);
        *ss = x86_ld_super(cpu, op, (env->tr.base + off + 2) & cpu->la_mask, 2);
    }
}

/* 64-bit TSS: idx 0-2 = RSP0-2, 4-10 = IST1-7 (SDM vol. 3A, 8.7, figure 8-11). */
uint64_t x86_tss_rsp64(X86CPU *cpu, const KiteOp *op, int idx, uint32_t ext)
{
    CPUX86State *env = &cpu->env;
    unsigned off = 4 + idx * 8;

    if (!(env->tr.attr & X86_SEG_P) || off + 7 > env->tr.limit) {
        x86_raise(cpu, op, EXCP_TS, (env->tr.selector & 0xfffc) | ext);
    }
    return x86_ld_super(cpu, op, env->tr.base + off, 8);
}

/* ---- I/O permission -------------------------------------------------------------- */

void x86_check_io(X86CPU *cpu, const KiteOp *op, uint16_t port, unsigned size)
{
    CPUX86State *env = &cpu->env;
    int iopl = (env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT;
    int type = env->tr.attr & 0xf;
    uint32_t base, bits;

    if (!(env->hflags & X86_HF_PE) ||
        (!(env->hflags & X86_HF_VM) && x86_cpl(cpu) <= iopl)) {
        return;
    }
    /* Only a 32/64-bit TSS has a bitmap (SDM vol. 1, 19.5.2). */
    if (!(env->tr.attr & X86_SEG_P) ||
        (type != DESC_TSS32_AVAIL && type != DESC_TSS32_BUSY) || env->tr.limit < 103) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    base = x86_ld_super(cpu, op, (env->tr.base + 0x66) & cpu->la_mask, 2);
    if (base + (port >> 3) + 1 > env->tr.limit) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    bits = x86_ld_super(cpu, op, (env->tr.base + base + (port >> 3)) & cpu->la_mask, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
}
