/*
 * x86 interpreter: exceptions and interrupt delivery (SDM vol. 3A, chapter 6).
 *
 * x86_raise() unwinds to the main loop with a long jump; the main loop calls
 * x86_handle_exception(), which applies the double-fault rules (6.15, table 6-5:
 * contributory + contributory or page fault + page fault/contributory give #DF, a
 * fault while delivering #DF shuts the CPU down) and delivers through the IVT (real
 * mode, 20.1.4), a protected-mode IDT (6.10-6.12) or a long-mode IDT with IST stacks
 * (6.14).  Task gates are not emulated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/seg.h"

/* ---- raising ------------------------------------------------------------------------ */

void x86_raise(X86CPU *cpu, const KiteOp *op, int vec, uint32_t err)
{
    if (op) {
        /* Back to the start of the faulting instruction; it did not retire. */
        cpu->env.rip += op->next_off - op->len;
        cpu->icount_left += cpu->cur_n - (op - cpu->cur_ops);
    }
    cpu->excp_vec = vec;
    cpu->excp_err = err;
    cpu->smc_hit = false;
    if (!cpu->jmp_valid) {
        g_error("x86: exception %d raised outside x86_cpu_exec", vec);
    }
    siglongjmp(cpu->jmp, 1);
}

void x86_raise_pf(X86CPU *cpu, const KiteOp *op, uint64_t la, uint32_t err)
{
    cpu->env.cr[2] = la;
    x86_raise(cpu, op, EXCP_PF, err);
}

void x86_log_unimp(X86CPU *cpu, const uint8_t *bytes, int len, int map, int opc)
{
    GString *s;

    if (map < 0 || map > 4 || (cpu->unimp_logged[map][opc >> 3] & (1u << (opc & 7)))) {
        return;
    }
    cpu->unimp_logged[map][opc >> 3] |= 1u << (opc & 7);
    s = g_string_new(NULL);
    for (int i = 0; i < len; i++) {
        g_string_append_printf(s, " %02x", bytes[i]);
    }
    kite_log_mask(LOG_UNIMP, "x86: #UD for unimplemented instruction at %04x:%" PRIx64
                  " (map %d opcode 0x%02x):%s\n", cpu->env.segs[R_CS].selector,
                  cpu->env.rip, map, opc, s->str);
    g_string_free(s, true);
}

void x86_raise_ud(X86CPU *cpu, const KiteOp *op)
{
    uint64_t rip = x86_cur_rip(cpu, op);
    uint64_t la = (cpu->seg_base[R_CS] + rip) & cpu->la_mask, pa;
    uint8_t bytes[16];
    uint32_t err;
    int n = 0;

    /* Best effort: read the bytes without faulting. */
    if (x86_mmu_translate(cpu, la, X86_ACC_EXEC, &pa, &err)) {
        n = MIN(op->len, 4096 - (unsigned)(la & 0xfff));
        for (int i = 0; i < n; i++) {
            bytes[i] = x86_phys_ld(cpu, pa + i, 1);
        }
    }
    x86_log_unimp(cpu, bytes, n, op->b1, op->b2);
    x86_raise(cpu, op, EXCP_UD, 0);
}

/* ---- double faults ------------------------------------------------------------------- */

bool x86_excp_has_error(int vec)
{
    return vec == EXCP_DF || (vec >= EXCP_TS && vec <= EXCP_PF) || vec == EXCP_AC;
}

static bool contributory(int vec)
{
    return vec == EXCP_DE || (vec >= EXCP_TS && vec <= EXCP_GP);
}

bool x86_handle_exception(X86CPU *cpu)
{
    int vec = cpu->excp_vec, prev = cpu->delivering;
    uint32_t err = cpu->excp_err;

    if (prev >= 0) {
        if (prev == EXCP_DF) {
            kite_log_mask(LOG_INT, "x86: triple fault (vector %d while delivering #DF)\n",
                          vec);
            cpu->shutdown = true;
            cpu->delivering = -1;
            return false;
        }
        if ((contributory(prev) && contributory(vec)) ||
            (prev == EXCP_PF && (vec == EXCP_PF || contributory(vec)))) {
            vec = EXCP_DF;
            err = 0;
        }
    }
    kite_log_mask(LOG_INT, "x86: exception %d err 0x%x at %04x:%" PRIx64 " cr2 %" PRIx64
                  "\n", vec, err, cpu->env.segs[R_CS].selector, cpu->env.rip,
                  cpu->env.cr[2]);
    cpu->delivering = vec;
    x86_deliver(cpu, NULL, vec, x86_excp_has_error(vec), err, false, cpu->env.rip, true);
    cpu->delivering = -1;
    return true;
}

/* ---- delivery --------------------------------------------------------------------- */

typedef struct Frame {
    uint64_t base, sp, mask;
    unsigned acc;
} Frame;

static void push(X86CPU *cpu, const KiteOp *op, Frame *f, uint64_t v, unsigned size)
{
    f->sp = (f->sp - size) & f->mask;
    x86_st_slow(cpu, op, (f->base + f->sp) & cpu->la_mask, size, v, f->acc);
}

/* Real mode: IVT at IDTR.base, 4-byte vectors (SDM vol. 3A, 20.1.4). */
static void deliver_real(X86CPU *cpu, const KiteOp *op, int vec, uint64_t next_rip)
{
    CPUX86State *env = &cpu->env;
    uint64_t ent;
    Frame f = { .base = cpu->seg_base[R_SS], .sp = env->regs[R_ESP], .mask = 0xffff,
                .acc = X86_ACC_WRITE | X86_ACC_STACK };

    if ((unsigned)vec * 4 + 3 > env->idt.limit) {
        x86_raise(cpu, op, EXCP_GP, vec * 8 + 2);
    }
    ent = x86_ld_slow(cpu, op, (env->idt.base + vec * 4) & 0xffffffff, 4, X86_ACC_READ);
    push(cpu, op, &f, x86_cpu_get_eflags(env), 2);
    push(cpu, op, &f, env->segs[R_CS].selector, 2);
    push(cpu, op, &f, next_rip, 2);
    REG16(env, R_ESP) = f.sp;
    env->eflags &= ~(X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_AC | X86_EFLAGS_RF);
    env->segs[R_CS].selector = ent >> 16;
    env->segs[R_CS].base = (ent >> 16) << 4;
    x86_update_seg_cache(cpu, R_CS);
    env->rip = ent & 0xffff;
}

/* Read and check the IDT gate and its target code segment; common to both modes. */
static void gate_target(X86CPU *cpu, const KiteOp *op, int vec, bool software,
                        uint32_t ext, bool lm, uint64_t *gate_lo, uint64_t *gate_hi,
                        uint64_t *cs_desc)
{
    CPUX86State *env = &cpu->env;
    unsigned esz = lm ? 16 : 8;
    uint32_t gerr = vec * 8 + 2 + ext;
    uint64_t g, desc;
    uint16_t attr, sel;
    int type, dpl;

    if ((unsigned)vec * esz + esz - 1 > env->idt.limit) {
        x86_raise(cpu, op, EXCP_GP, gerr);
    }
    g = x86_ld_super(cpu, op, (env->idt.base + vec * esz) & cpu->la_mask, 8);
    *gate_hi = lm ? x86_ld_super(cpu, op, env->idt.base + vec * esz + 8, 8) : 0;
    attr = desc_attr(g);
    type = attr & 0x1f;
    dpl = attr_dpl(attr);
    if (lm ? (type != DESC_INTGATE32 && type != DESC_TRAPGATE32) :
             (type != DESC_INTGATE16 && type != DESC_TRAPGATE16 &&
              type != DESC_INTGATE32 && type != DESC_TRAPGATE32 && type != DESC_TASKGATE)) {
        x86_raise(cpu, op, EXCP_GP, gerr);
    }
    if (software && dpl < x86_cpl(cpu)) {
        x86_raise(cpu, op, EXCP_GP, gerr);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, gerr);
    }
    if (type == DESC_TASKGATE) {
        kite_log_mask(LOG_UNIMP, "x86: interrupt %d through a task gate not emulated\n",
                      vec);
        x86_raise(cpu, op, EXCP_GP, gerr);
    }
    sel = g >> 16;
    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, ext);
    }
    if (!x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, (sel & 0xfffc) | ext);
    }
    attr = desc_attr(desc);
    if (!attr_is_code(attr) || attr_dpl(attr) > x86_cpl(cpu) ||
        (lm && (!(attr & X86_SEG_L) || (attr & X86_SEG_DB)))) {
        x86_raise(cpu, op, EXCP_GP, (sel & 0xfffc) | ext);
    }
    if (!(attr & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, (sel & 0xfffc) | ext);
    }
    *gate_lo = g;
    *cs_desc = desc;
}

static void deliver_protected(X86CPU *cpu, const KiteOp *op, int vec, bool has_err,
                              uint32_t err, bool software, uint64_t next_rip, uint32_t ext)
{
    CPUX86State *env = &cpu->env;
    uint64_t g, ghi, desc, ss_desc = 0, off;
    uint16_t sel, new_ss = 0, attr;
    int cpl = x86_cpl(cpu), dpl, type;
    bool vm86 = env->hflags & X86_HF_VM, is32, inner;
    uint32_t eflags = x86_cpu_get_eflags(env);
    unsigned size;
    Frame f;

    gate_target(cpu, op, vec, software, ext, false, &g, &ghi, &desc);
    type = desc_attr(g) & 0xf;
    is32 = type >= 8;
    size = is32 ? 4 : 2;
    sel = g >> 16;
    off = is32 ? ((g & 0xffff) | ((g >> 32) & 0xffff0000)) : (g & 0xffff);
    attr = desc_attr(desc);
    dpl = attr_dpl(attr);
    inner = !(attr & X86_SEG_TYPE_EC) && dpl < cpl;
    if (vm86 && dpl != 0) {
        /* From virtual-8086 mode only ring 0 handlers are reachable (6.12.1). */
        x86_raise(cpu, op, EXCP_GP, (sel & 0xfffc) | ext);
    }
    if (off > desc_limit(desc)) {
        x86_raise(cpu, op, EXCP_GP, ext);
    }
    if (inner) {
        uint64_t sp;
        x86_tss_stack(cpu, op, dpl, &new_ss, &sp, ext);
        if ((new_ss & ~3) == 0) {
            x86_raise(cpu, op, EXCP_TS, ext);
        }
        if (!x86_desc_read(cpu, op, new_ss, &ss_desc)) {
            x86_raise(cpu, op, EXCP_TS, (new_ss & 0xfffc) | ext);
        }
        if ((new_ss & 3) != dpl || attr_dpl(desc_attr(ss_desc)) != dpl ||
            !attr_is_data(desc_attr(ss_desc)) || !(desc_attr(ss_desc) & X86_SEG_TYPE_RW)) {
            x86_raise(cpu, op, EXCP_TS, (new_ss & 0xfffc) | ext);
        }
        if (!(desc_attr(ss_desc) & X86_SEG_P)) {
            x86_raise(cpu, op, EXCP_SS, (new_ss & 0xfffc) | ext);
        }
        f = (Frame){ .base = desc_base(ss_desc), .sp = sp,
                     .mask = (desc_attr(ss_desc) & X86_SEG_DB) ? 0xffffffff : 0xffff,
                     .acc = X86_ACC_WRITE | X86_ACC_SUPER | X86_ACC_STACK };
        if (vm86) {
            push(cpu, op, &f, env->segs[R_GS].selector, size);
            push(cpu, op, &f, env->segs[R_FS].selector, size);
            push(cpu, op, &f, env->segs[R_DS].selector, size);
            push(cpu, op, &f, env->segs[R_ES].selector, size);
        }
        push(cpu, op, &f, env->segs[R_SS].selector, size);
        push(cpu, op, &f, env->regs[R_ESP], size);
    } else {
        f = (Frame){ .base = cpu->seg_base[R_SS], .sp = env->regs[R_ESP],
                     .mask = x86_sp_mask(cpu),
                     .acc = X86_ACC_WRITE | X86_ACC_STACK |
                            (dpl < 3 ? X86_ACC_SUPER : 0) };
    }
    push(cpu, op, &f, eflags, size);
    push(cpu, op, &f, env->segs[R_CS].selector, size);
    push(cpu, op, &f, next_rip, size);
    if (has_err) {
        push(cpu, op, &f, err, size);
    }

    /* Commit. */
    if (inner) {
        x86_desc_set_accessed(cpu, op, new_ss, ss_desc);
        if (vm86) {
            static const int segs[4] = { R_ES, R_DS, R_FS, R_GS };
            env->eflags &= ~X86_EFLAGS_VM;
            for (int i = 0; i < 4; i++) {
                env->segs[segs[i]] = (X86Segment){ 0 };
            }
        }
        x86_seg_set(cpu, R_SS, new_ss, ss_desc);
        env->regs[R_ESP] = (env->regs[R_ESP] & ~f.mask) | f.sp;
    } else {
        x86_set_sp(cpu, f.mask, f.sp);
    }
    x86_desc_set_accessed(cpu, op, sel, desc);
    env->eflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM);
    if (!(type & 1)) {
        env->eflags &= ~X86_EFLAGS_IF;
    }
    x86_load_cs(cpu, sel, desc, inner ? dpl : cpl);
    x86_update_hflags(cpu);
    env->rip = off;
}

/* IA-32e mode (6.14): 16-byte gates, 64-bit frames, IST, SS = NULL on a ring change. */
static void deliver_long(X86CPU *cpu, const KiteOp *op, int vec, bool has_err,
                         uint32_t err, bool software, uint64_t next_rip, uint32_t ext)
{
    CPUX86State *env = &cpu->env;
    uint64_t g, ghi, desc, off, sp;
    uint16_t sel;
    int cpl = x86_cpl(cpu), dpl, ist;
    bool inner;
    Frame f;

    gate_target(cpu, op, vec, software, ext, true, &g, &ghi, &desc);
    sel = g >> 16;
    off = (g & 0xffff) | ((g >> 32) & 0xffff0000) | (ghi << 32);
    ist = (g >> 32) & 7;
    dpl = attr_dpl(desc_attr(desc));
    inner = !(desc_attr(desc) & X86_SEG_TYPE_EC) && dpl < cpl;
    if (!((uint64_t)((int64_t)(off << 16) >> 16) == off)) {
        x86_raise(cpu, op, EXCP_GP, ext);
    }
    if (ist) {
        sp = x86_tss_rsp64(cpu, op, 3 + ist, ext);
    } else if (inner) {
        sp = x86_tss_rsp64(cpu, op, dpl, ext);
    } else {
        sp = env->regs[R_ESP];
    }
    f = (Frame){ .base = 0, .sp = sp & ~15ULL, .mask = ~0ULL,
                 .acc = X86_ACC_WRITE | X86_ACC_STACK | (dpl < 3 ? X86_ACC_SUPER : 0) };
    push(cpu, op, &f, env->segs[R_SS].selector, 8);
    push(cpu, op, &f, env->regs[R_ESP], 8);
    push(cpu, op, &f, x86_cpu_get_eflags(env), 8);
    push(cpu, op, &f, env->segs[R_CS].selector, 8);
    push(cpu, op, &f, next_rip, 8);
    if (has_err) {
        push(cpu, op, &f, err, 8);
    }

    if (inner) {
        /* The new SS is a null selector with RPL = new CPL (6.14.4). */
        X86Segment *ss = &env->segs[R_SS];
        ss->selector = dpl;
        ss->base = 0;
        ss->limit = 0;
        ss->attr = 0;
        x86_update_seg_cache(cpu, R_SS);
    }
    env->regs[R_ESP] = f.sp;
    x86_desc_set_accessed(cpu, op, sel, desc);
    env->eflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM);
    if (!(desc_attr(g) & 1)) {
        env->eflags &= ~X86_EFLAGS_IF;
    }
    x86_load_cs(cpu, sel, desc, inner ? dpl : cpl);
    env->rip = off;
}

void x86_deliver(X86CPU *cpu, const KiteOp *op, int vec, bool has_err, uint32_t err,
                 bool software, uint64_t next_rip, bool external)
{
    CPUX86State *env = &cpu->env;
    uint32_t ext = external ? 1 : 0;

    if (!(env->hflags & X86_HF_PE)) {
        deliver_real(cpu, op, vec, next_rip);
    } else if (env->efer & X86_EFER_LMA) {
        deliver_long(cpu, op, vec, has_err, err, software, next_rip, ext);
    } else {
        deliver_protected(cpu, op, vec, has_err, err, software, next_rip, ext);
    }
    env->int_shadow = false;
    cpu->smc_hit = false;
    x86_update_pending(cpu);
}
