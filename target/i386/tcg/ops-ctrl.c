/*
 * x86 interpreter: near control transfers, the stack, EFLAGS instructions, HLT,
 * software interrupts and port I/O (SDM vol. 2A-2B; vol. 1, 6.2-6.4 for the stack and
 * near calls; vol. 1, 19.5 and vol. 3A, 20 for I/O permissions).
 *
 * Ops that end a trace set env.rip themselves: relative targets are stored as
 * offsets from the trace start (KiteOp.imm), so "rip + imm" is the target.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/ops.h"
#include "target/i386/tcg/seg.h"

static inline bool is_canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* A terminator that falls through: continue after it. */
static inline void end_here(X86CPU *cpu, const KiteOp *op)
{
    cpu->env.rip += op->next_off;
}

/* Legacy-mode branch target: operand-size wrap and CS limit (#GP(0)). */
static inline uint64_t legacy_target(X86CPU *cpu, const KiteOp *op, uint64_t t, int s)
{
    t &= s == 1 ? 0xffff : 0xffffffff;
    if (t > cpu->env.segs[R_CS].limit && (cpu->env.hflags & X86_HF_PE ?
                                          true : t > 0xffff)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    return t;
}

/* 64-bit mode target: non-canonical RIP faults on the branch itself. */
static inline uint64_t long_target(X86CPU *cpu, const KiteOp *op, uint64_t t, int s)
{
    if (s == 1) {
        return t & 0xffff;
    }
    if (!(cpu->env.hflags & X86_HF_CS64)) {
        return legacy_target(cpu, op, t, s);
    }
    if (!is_canonical(t)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    return t;
}

/* ---- stack ------------------------------------------------------------------------ */

void x86_push(X86CPU *cpu, const KiteOp *op, uint64_t v, unsigned size)
{
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = (cpu->env.regs[R_ESP] - size) & mask;
    uint64_t la = x86_seg_la(cpu, op, R_SS, sp, size, true);

    x86_stn(cpu, op, la, size, v);
    x86_set_sp(cpu, mask, sp);
}

uint64_t x86_pop(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = cpu->env.regs[R_ESP] & mask;
    uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, sp, size, false), size);

    x86_set_sp(cpu, mask, sp + size);
    return v;
}

static inline void reg_write_size(CPUX86State *env, int r, unsigned size, uint64_t v)
{
    switch (size) {
    case 2: REG16(env, r) = v; break;
    case 4: env->regs[r] = (uint32_t)v; break;
    default: env->regs[r] = v; break;
    }
}

static inline uint64_t reg_read_size(CPUX86State *env, int r, unsigned size)
{
    switch (size) {
    case 2: return REG16(env, r);
    case 4: return REG32(env, r);
    default: return env->regs[r];
    }
}

/*
 * 64-bit mode PUSH/POP r64: the stack segment is flat, the pointer 64-bit.  A TLB hit
 * is handled without a call, so without a stack frame; the rest goes to the _full
 * forms as a tail call (as the memory ops of ops-int-tmpl.h do).
 */
static __attribute__((noinline)) void push64_r_full(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP] - 8;

    x86_st64(cpu, op, sp, env->regs[op->src]);
    env->regs[R_ESP] = sp;
    NEXT_W(cpu, op);
}

void x86_op_push64_r(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP] - 8;
    uint8_t *p = x86_tlb_w(cpu, sp, 8);

    if (unlikely(!p)) {
        push64_r_full(cpu, op);
        return;
    }
    memcpy(p, &env->regs[op->src], 8);
    env->regs[R_ESP] = sp;
    NEXT_W(cpu, op);
}

static __attribute__((noinline)) void pop64_r_full(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP];
    uint64_t v = x86_ld64(cpu, op, sp);

    env->regs[R_ESP] = sp + 8;
    env->regs[op->dst] = v;
    NEXT(cpu, op);
}

void x86_op_pop64_r(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP];
    const uint8_t *p = x86_tlb_r(cpu, sp, 8);
    uint64_t v;

    if (unlikely(!p)) {
        pop64_r_full(cpu, op);
        return;
    }
    memcpy(&v, p, 8);
    env->regs[R_ESP] = sp + 8;
    env->regs[op->dst] = v;
    NEXT(cpu, op);
}

/* Generic PUSH/POP r: b1 = operand size in bytes. */
void x86_op_push_r(X86CPU *cpu, const KiteOp *op)
{
    x86_push(cpu, op, reg_read_size(&cpu->env, op->src, op->b1), op->b1);
    NEXT_W(cpu, op);
}

void x86_op_pop_r(X86CPU *cpu, const KiteOp *op)
{
    uint64_t v = x86_pop(cpu, op, op->b1);
    reg_write_size(&cpu->env, op->dst, op->b1, v);
    NEXT(cpu, op);
}

void x86_op_push_i(X86CPU *cpu, const KiteOp *op)
{
    x86_push(cpu, op, op->imm, op->b1);
    NEXT_W(cpu, op);
}

/* PUSH r/m (FF /6): b1 = size; memory if b2 & 2, else register src. */
void x86_op_push_rm(X86CPU *cpu, const KiteOp *op)
{
    uint64_t v;

    if (op->b2 & 2) {
        v = x86_ldn(cpu, op, x86_op_la(cpu, op, op->b1, false), op->b1);
    } else {
        v = reg_read_size(&cpu->env, op->src, op->b1);
    }
    x86_push(cpu, op, v, op->b1);
    NEXT_W(cpu, op);
}

/* POP r/m (8F /0): a memory operand based on rSP uses the incremented rSP. */
void x86_op_pop_rm(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_ESP] & mask;
    uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, sp, size, false), size);

    if (op->b2 & 2) {
        uint64_t old = env->regs[R_ESP], la;
        x86_set_sp(cpu, mask, sp + size);
        la = x86_ea(cpu, op);
        env->regs[R_ESP] = old;
        la = x86_seg_la(cpu, op, op->seg, la, size, true);
        x86_stn(cpu, op, la, size, v);
        x86_set_sp(cpu, mask, sp + size);
        NEXT_W(cpu, op);
    }
    x86_set_sp(cpu, mask, sp + size);
    reg_write_size(env, op->src, size, v);
    NEXT(cpu, op);
}

/* PUSHA/POPA (60/61): b1 = 2 or 4.  All stack slots are checked before any write. */
void x86_op_pusha(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    uint64_t mask = x86_sp_mask(cpu), sp = env->regs[R_ESP];
    uint64_t la[8];

    for (int i = 0; i < 8; i++) {
        la[i] = x86_seg_la(cpu, op, R_SS, (sp - (i + 1) * size) & mask, size, true);
        x86_probe_write(cpu, op, la[i], size, X86_ACC_WRITE);
    }
    for (int i = 0; i < 8; i++) {
        x86_stn(cpu, op, la[i], size, reg_read_size(env, i, size));
    }
    x86_set_sp(cpu, mask, sp - 8 * size);
    NEXT_W(cpu, op);
}

void x86_op_popa(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    uint64_t mask = x86_sp_mask(cpu), sp = env->regs[R_ESP];
    uint64_t v[8];

    for (int i = 0; i < 8; i++) {
        v[7 - i] = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, (sp + i * size) & mask,
                                                size, false), size);
    }
    for (int i = 0; i < 8; i++) {
        if (i != R_ESP) {
            reg_write_size(env, i, size, v[i]);
        }
    }
    x86_set_sp(cpu, mask, sp + 8 * size);
    NEXT(cpu, op);
}

/* ENTER imm16, imm8 (C8): imm = frame size, b1 = nesting level, b2 = size index. */
void x86_op_enter(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b2, level = op->b1 & 31;
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t frame, bp = env->regs[R_EBP];

    x86_probe_write(cpu, op, x86_seg_la(cpu, op, R_SS,
                                        (env->regs[R_ESP] - size) & mask, size, true),
                    size, X86_ACC_WRITE);
    x86_push(cpu, op, reg_read_size(env, R_EBP, size), size);
    frame = env->regs[R_ESP] & mask;
    if (level > 0) {
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - size) & mask;
            x86_push(cpu, op, x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, bp, size, false),
                                      size), size);
        }
        x86_push(cpu, op, frame, size);
    }
    reg_write_size(env, R_EBP, size, frame);
    x86_set_sp(cpu, mask, env->regs[R_ESP] - op->imm);
    NEXT_W(cpu, op);
}

/* LEAVE (C9): rSP = rBP, pop rBP; b1 = size index. */
void x86_op_leave(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_EBP] & mask;
    uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, sp, size, false), size);

    x86_set_sp(cpu, mask, sp + size);
    reg_write_size(env, R_EBP, size, v);
    NEXT(cpu, op);
}

/* ---- near branches ---------------------------------------------------------------- */

void x86_op_jmp64(X86CPU *cpu, const KiteOp *op)
{
    X86_TAKEN64(cpu, op, op->imm);
}

/* b2 = operand size index. */
void x86_op_jmp_legacy(X86CPU *cpu, const KiteOp *op)
{
    cpu->env.rip = long_target(cpu, op, cpu->env.rip + op->imm, op->b2);
}

#define DEF_JCC(cc) \
static void op_jcc64_##cc(X86CPU *cpu, const KiteOp *op) \
{ \
    if (cc_test(&cpu->env, cc)) { \
        X86_TAKEN64(cpu, op, op->imm); \
    } \
    NEXT(cpu, op); \
}
DEF_JCC(0) DEF_JCC(1) DEF_JCC(2) DEF_JCC(3) DEF_JCC(4) DEF_JCC(5) DEF_JCC(6) DEF_JCC(7)
DEF_JCC(8) DEF_JCC(9) DEF_JCC(10) DEF_JCC(11) DEF_JCC(12) DEF_JCC(13) DEF_JCC(14)
DEF_JCC(15)

KiteOpFn *const x86_op_jcc64[16] = {
    op_jcc64_0, op_jcc64_1, op_jcc64_2, op_jcc64_3, op_jcc64_4, op_jcc64_5, op_jcc64_6,
    op_jcc64_7, op_jcc64_8, op_jcc64_9, op_jcc64_10, op_jcc64_11, op_jcc64_12,
    op_jcc64_13, op_jcc64_14, op_jcc64_15,
};

void x86_op_jcc_legacy(X86CPU *cpu, const KiteOp *op)
{
    if (cc_test(&cpu->env, op->b1)) {
        uint64_t t = long_target(cpu, op, cpu->env.rip + op->imm, op->b2);
        x86_trace_exit_to(cpu, op, t);
        return;
    }
    NEXT(cpu, op);
}

/* LOOPNE/LOOPE/LOOP/JCXZ (E0-E3): b1 = kind, b2 = operand size, asize = counter. */
void x86_op_loop(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t amask = x86_amask[op->asize];
    uint64_t c = env->regs[R_ECX] & amask;
    bool taken;

    if (op->b1 == 3) {
        taken = c == 0;
    } else {
        c = (c - 1) & amask;
        env->regs[R_ECX] = op->asize == 1 ? c : (env->regs[R_ECX] & ~amask) | c;
        taken = c != 0;
        if (op->b1 == 0) {
            taken = taken && !cc_zf(env);
        } else if (op->b1 == 1) {
            taken = taken && cc_zf(env);
        }
    }
    if (taken) {
        uint64_t t = long_target(cpu, op, env->rip + op->imm, op->b2);
        x86_trace_exit_to(cpu, op, t);
        return;
    }
    NEXT(cpu, op);
}

void x86_op_call64(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP] - 8;

    x86_st64(cpu, op, sp, env->rip + op->next_off);
    env->regs[R_ESP] = sp;
    cpu->smc_hit = false;
    env->rip += op->imm;
}

void x86_op_call_legacy(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 2u << (op->b2 - 1);
    uint64_t t = long_target(cpu, op, env->rip + op->imm, op->b2);

    x86_push(cpu, op, env->rip + op->next_off, size);
    cpu->smc_hit = false;
    env->rip = t;
}

void x86_op_ret64(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t sp = env->regs[R_ESP];
    uint64_t t = x86_ld64(cpu, op, sp);

    if (!is_canonical(t)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    env->regs[R_ESP] = sp + 8 + op->imm;
    env->rip = t;
}

/* RET near (C3, C2 imm16): b1 = operand size index. */
void x86_op_ret_legacy(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = 1u << op->b1;
    uint64_t mask = x86_sp_mask(cpu);
    uint64_t sp = env->regs[R_ESP] & mask;
    uint64_t t = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_SS, sp, size, false), size);

    t = long_target(cpu, op, t, op->b1);
    x86_set_sp(cpu, mask, sp + size + op->imm);
    env->rip = t;
}

static uint64_t ind_target(X86CPU *cpu, const KiteOp *op)
{
    unsigned size = 1u << op->b1;
    uint64_t t;

    if (op->b2 & 2) {
        t = x86_ldn(cpu, op, x86_op_la(cpu, op, size, false), size);
    } else {
        t = reg_read_size(&cpu->env, op->src, size);
    }
    return long_target(cpu, op, t, op->b1);
}

/* CALL/JMP near r/m (FF /2, /4): b1 = operand size index, b2 & 2 = memory. */
void x86_op_call_ind(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t t = ind_target(cpu, op);

    x86_push(cpu, op, env->rip + op->next_off, 1u << op->b1);
    cpu->smc_hit = false;
    env->rip = t;
}

void x86_op_jmp_ind(X86CPU *cpu, const KiteOp *op)
{
    cpu->env.rip = ind_target(cpu, op);
}

/* ---- EFLAGS ------------------------------------------------------------------------ */

static bool vm86_iopl_fault(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    return (env->hflags & X86_HF_VM) &&
           ((env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT) < 3;
}

/* PUSHF (9C): the image has VM and RF cleared (SDM vol. 2B, PUSHF). */
void x86_op_pushf(X86CPU *cpu, const KiteOp *op)
{
    if (vm86_iopl_fault(cpu)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    x86_push(cpu, op, x86_cpu_get_eflags(&cpu->env) & ~(X86_EFLAGS_VM | X86_EFLAGS_RF),
             op->b1);
    NEXT_W(cpu, op);
}

/* Flags POPF/IRET may change at the current privilege (SDM vol. 2B, POPF). */
uint32_t x86_eflags_writable(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    uint32_t m = X86_EFLAGS_OSZAPC | X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF |
                 X86_EFLAGS_NT | X86_EFLAGS_AC | X86_EFLAGS_ID | X86_EFLAGS_IOPL;
    int iopl = (env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT;

    if (env->hflags & X86_HF_VM) {
        m &= ~X86_EFLAGS_IOPL;
    } else if (env->hflags & X86_HF_PE) {
        if (x86_cpl(cpu) > 0) {
            m &= ~X86_EFLAGS_IOPL;
        }
        if (x86_cpl(cpu) > iopl) {
            m &= ~X86_EFLAGS_IF;
        }
    }
    return m;
}

void x86_op_popf(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint32_t m, v;

    if (vm86_iopl_fault(cpu)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    v = x86_pop(cpu, op, op->b1);
    m = x86_eflags_writable(cpu);
    if (op->b1 == 2) {
        m &= 0xffff;
    }
    x86_cpu_set_eflags(env, (x86_cpu_get_eflags(env) & ~m & ~X86_EFLAGS_RF) | (v & m));
    x86_update_pending(cpu);
    end_here(cpu, op);
}

static bool cli_sti_fault(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    int iopl = (env->eflags & X86_EFLAGS_IOPL) >> X86_EFLAGS_IOPL_SHIFT;

    if (env->hflags & X86_HF_VM) {
        return iopl < 3;
    }
    return (env->hflags & X86_HF_PE) && x86_cpl(cpu) > iopl;
}

void x86_op_cli(X86CPU *cpu, const KiteOp *op)
{
    if (cli_sti_fault(cpu)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    cpu->env.eflags &= ~X86_EFLAGS_IF;
    NEXT(cpu, op);
}

/* STI (FB): interrupts stay inhibited until after the next instruction. */
void x86_op_sti(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    if (cli_sti_fault(cpu)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (!(env->eflags & X86_EFLAGS_IF)) {
        env->eflags |= X86_EFLAGS_IF;
        env->int_shadow = true;
        x86_update_pending(cpu);
    }
    end_here(cpu, op);
}

/* ---- HLT, PAUSE, INT, BOUND, #UD ---------------------------------------------------- */

void x86_op_hlt(X86CPU *cpu, const KiteOp *op)
{
    if ((cpu->env.hflags & X86_HF_PE) && x86_cpl(cpu) != 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    cpu->env.halted = true;
    x86_update_pending(cpu);
    end_here(cpu, op);
}

void x86_op_pause(X86CPU *cpu, const KiteOp *op)
{
    end_here(cpu, op);
}

/* INT n / INT3 / INT1: b1 = vector, b2 = 0 INT n, 1 INT3, 2 INT1 (ICEBP). */
void x86_op_int(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    if (unlikely(cpu->dbg_swbp) && op->b2 == 1) {
        /* INT3 (CC), possibly a debugger's breakpoint: then stop on it instead. */
        uint64_t rip = env->rip + op->next_off - op->len;
        if (cpu->ops->debug_bp_hit &&
            cpu->ops->debug_bp_hit(cpu->opaque, (cpu->seg_base[R_CS] + rip) & cpu->la_mask)) {
            env->rip = rip;
            cpu->icount_left++;
            cpu->dbg_exit = true;
            cpu->pending_local = true;
            return;
        }
    }

    /* INT n in virtual-8086 mode with IOPL < 3 faults (SDM vol. 3A, 20.3.3). */
    if (op->b2 == 0 && vm86_iopl_fault(cpu)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    x86_deliver(cpu, op, op->b1, false, 0, op->b2 != 2, env->rip + op->next_off,
                op->b2 == 2);
}

void x86_op_into(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    if (cc_of(env)) {
        x86_deliver(cpu, op, EXCP_OF, false, 0, true, env->rip + op->next_off, false);
        return;
    }
    end_here(cpu, op);
}

/* BOUND r, m (62): b1 = operand size; #BR if the index is outside [lower, upper]. */
void x86_op_bound(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    uint64_t la = x86_op_la(cpu, op, 2 * size, false);
    int64_t lo, hi, idx;

    if (size == 2) {
        lo = (int16_t)x86_ld16(cpu, op, la);
        hi = (int16_t)x86_ld16(cpu, op, la + 2);
        idx = (int16_t)REG16(env, op->dst);
    } else {
        lo = (int32_t)x86_ld32(cpu, op, la);
        hi = (int32_t)x86_ld32(cpu, op, (la + 4) & cpu->la_mask);
        idx = (int32_t)REG32(env, op->dst);
    }
    if (idx < lo || idx > hi) {
        x86_raise(cpu, op, EXCP_BR, 0);
    }
    NEXT(cpu, op);
}

void x86_op_ud(X86CPU *cpu, const KiteOp *op)
{
    x86_raise_ud(cpu, op);
}

void x86_op_ud2(X86CPU *cpu, const KiteOp *op)
{
    x86_raise(cpu, op, EXCP_UD, 0);
}

void x86_op_gp0(X86CPU *cpu, const KiteOp *op)
{
    x86_raise(cpu, op, EXCP_GP, 0);
}

/* ---- port I/O -------------------------------------------------------------------- */

/* IN/OUT (E4-E7, EC-EF): b1 = size, b2 = 1: port in DX, else imm. */
void x86_op_in(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t port = op->b2 ? REG16(env, R_EDX) : op->imm;
    uint32_t v;

    x86_check_io(cpu, op, port, op->b1);
    v = cpu->ops->pio_read(cpu->opaque, port, op->b1);
    switch (op->b1) {
    case 1: REG8(env, 0) = v; break;
    case 2: REG16(env, R_EAX) = v; break;
    default: env->regs[R_EAX] = v; break;
    }
    cpu->smc_hit = false;
    end_here(cpu, op);
}

void x86_op_out(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t port = op->b2 ? REG16(env, R_EDX) : op->imm;
    uint32_t mask = op->b1 == 4 ? 0xffffffffu : (1u << (8 * op->b1)) - 1;

    x86_check_io(cpu, op, port, op->b1);
    cpu->ops->pio_write(cpu->opaque, port, env->regs[R_EAX] & mask, op->b1);
    cpu->smc_hit = false;
    end_here(cpu, op);
}
