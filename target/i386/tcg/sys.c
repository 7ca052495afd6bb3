/*
 * x86 interpreter: system instructions: control and debug registers, MSRs, CPUID,
 * the TSC, descriptor-table registers, LAR/LSL/VERR/VERW, INVLPG, SWAPGS and the
 * fast system calls (SDM vol. 2, vol. 3A chapters 2-5, vol. 4 for MSRs; AMD APM vol. 2
 * 6.1 for SYSCALL/SYSRET, whose AMD flavour this CPU implements).
 *
 * The CPU identifies as AuthenticAMD family 15 model 107 (like QEMU's "qemu64"),
 * so Linux takes its K8 paths: SYSCALL from compatibility mode, no SYSENTER in long
 * mode, REP MOVSQ string functions.  CPUID advertises exactly what is implemented.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/seg.h"
#include "target/i386/tcg/sys.h"

/* MSR numbers (SDM vol. 4, table 2-2; APM vol. 2, appendix A). */
#define MSR_TSC             0x10
#define MSR_APIC_BASE       0x1b
#define MSR_UCODE_REV       0x8b
#define MSR_MTRRCAP         0xfe
#define MSR_SYSENTER_CS     0x174
#define MSR_SYSENTER_ESP    0x175
#define MSR_SYSENTER_EIP    0x176
#define MSR_MISC_ENABLE     0x1a0
#define MSR_MTRR_PHYS_BASE0 0x200
#define MSR_MTRR_FIX64K     0x250
#define MSR_MTRR_FIX16K_80  0x258
#define MSR_MTRR_FIX16K_A0  0x259
#define MSR_MTRR_FIX4K_C0   0x268
#define MSR_PAT             0x277
#define MSR_MTRR_DEFTYPE    0x2ff
#define MSR_EFER            0xc0000080
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_FMASK           0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102
#define MSR_TSC_AUX         0xc0000103
#define MSR_K7_HWCR         0xc0010015
#define MSR_AMD64_SYSCFG    0xc0010010

#define CR0_WRITABLE (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE | \
                      X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
#define CR4_WRITABLE (X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
                      X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | \
                      X86_CR4_OSXMMEXCPT)

static inline bool is_canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static void require_cpl0(X86CPU *cpu, const KiteOp *op)
{
    if ((cpu->env.hflags & X86_HF_PE) && x86_cpl(cpu) != 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
}

static void require_pm(X86CPU *cpu, const KiteOp *op)
{
    if (!(cpu->env.hflags & X86_HF_PE) || (cpu->env.hflags & X86_HF_VM)) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
}

static inline void end_here(X86CPU *cpu, const KiteOp *op)
{
    cpu->env.rip += op->next_off;
}

/* ---- control registers ------------------------------------------------------------- */

bool x86_write_cr0(X86CPU *cpu, uint64_t v)
{
    CPUX86State *env = &cpu->env;
    uint64_t old = env->cr[0];

    if ((v >> 32) || ((v & X86_CR0_PG) && !(v & X86_CR0_PE)) ||
        ((v & X86_CR0_NW) && !(v & X86_CR0_CD))) {
        return false;
    }
    if ((v & X86_CR0_PG) && !(old & X86_CR0_PG) && (env->efer & X86_EFER_LME)) {
        /* Activating IA-32e mode (SDM vol. 3A, 9.8.5). */
        if (!(env->cr[4] & X86_CR4_PAE)) {
            return false;
        }
        env->efer |= X86_EFER_LMA;
    }
    if (!(v & X86_CR0_PG) && (old & X86_CR0_PG) && (env->efer & X86_EFER_LMA)) {
        if (env->hflags & X86_HF_CS64) {
            return false;
        }
        env->efer &= ~X86_EFER_LMA;
    }
    env->cr[0] = (v & CR0_WRITABLE) | X86_CR0_ET;
    if ((old ^ env->cr[0]) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)) {
        x86_tlb_flush(cpu, true);
    }
    x86_update_hflags(cpu);
    return true;
}

bool x86_write_cr4(X86CPU *cpu, uint64_t v)
{
    CPUX86State *env = &cpu->env;
    uint64_t old = env->cr[4];

    if (v & ~(uint64_t)CR4_WRITABLE) {
        return false;
    }
    if (!(v & X86_CR4_PAE) && (env->efer & X86_EFER_LMA)) {
        return false;
    }
    env->cr[4] = v;
    if ((old ^ v) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE)) {
        x86_tlb_flush(cpu, true);
    }
    x86_update_fp_faults(cpu);
    return true;
}

void x86_write_cr3(X86CPU *cpu, uint64_t v)
{
    cpu->env.cr[3] = v;
    x86_tlb_flush(cpu, false);
}

static uint64_t read_cr8(X86CPU *cpu)
{
    if (cpu->ops->get_tpr) {
        return cpu->ops->get_tpr(cpu->opaque) & 0xf;
    }
    return cpu->env.tpr & 0xf;
}

/* MOV r, CRn / MOV CRn, r (0F 20 / 0F 22): dst/src = GPR, b1 = CR number. */
void x86_op_mov_from_cr(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t v;

    require_cpl0(cpu, op);
    switch (op->b1) {
    case 0: case 2: case 3: case 4:
        v = env->cr[op->b1];
        break;
    case 8:
        v = read_cr8(cpu);
        break;
    default:
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    env->regs[op->dst] = (env->hflags & X86_HF_CS64) ? v : (uint32_t)v;
    NEXT(cpu, op);
}

void x86_op_mov_to_cr(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t v = env->regs[op->src];
    bool ok = true;

    require_cpl0(cpu, op);
    if (!(env->hflags & X86_HF_CS64)) {
        v = (uint32_t)v;
    }
    switch (op->b1) {
    case 0:
        ok = x86_write_cr0(cpu, v);
        break;
    case 2:
        env->cr[2] = v;
        break;
    case 3:
        if (v >> 52) {
            ok = false;
            break;
        }
        x86_write_cr3(cpu, v);
        break;
    case 4:
        ok = x86_write_cr4(cpu, v);
        break;
    case 8:
        if (v >> 4) {
            ok = false;
            break;
        }
        if (cpu->ops->set_tpr) {
            cpu->ops->set_tpr(cpu->opaque, v);
        } else {
            env->tpr = v;
        }
        break;
    default:
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (!ok) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    end_here(cpu, op);
}

/* MOV r, DRn / MOV DRn, r (0F 21 / 0F 23): debug registers are stored only. */
void x86_op_mov_dr(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int n = op->b1;

    require_cpl0(cpu, op);
    if ((n == 4 || n == 5)) {
        if (env->cr[4] & X86_CR4_DE) {
            x86_raise(cpu, op, EXCP_UD, 0);
        }
        n += 2;
    }
    if (n > 7) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (op->b2 & 1) {           /* to DR */
        uint64_t v = env->regs[op->src];
        if (!(env->hflags & X86_HF_CS64)) {
            v = (uint32_t)v;
        } else if ((n == 6 || n == 7) && (v >> 32)) {
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        if (n == 6) {
            v = (v & 0x1e00f) | 0xffff0ff0;
        } else if (n == 7) {
            v = (v & 0xffff2bff) | 0x400;
        }
        env->dr[n] = v;
    } else {
        uint64_t v = env->dr[n];
        env->regs[op->dst] = (env->hflags & X86_HF_CS64) ? v : (uint32_t)v;
    }
    end_here(cpu, op);
}

void x86_op_clts(X86CPU *cpu, const KiteOp *op)
{
    require_cpl0(cpu, op);
    cpu->env.cr[0] &= ~X86_CR0_TS;
    x86_update_fp_faults(cpu);
    NEXT(cpu, op);
}

/* LMSW r/m16 (0F 01 /6): PE can be set but not cleared. */
void x86_op_lmsw(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t v;

    require_cpl0(cpu, op);
    v = (op->b2 & 2) ? x86_ld16(cpu, op, x86_op_la(cpu, op, 2, false))
                     : REG16(env, op->src);
    x86_write_cr0(cpu, (env->cr[0] & ~0xeULL) | (v & 0xf) | (env->cr[0] & X86_CR0_PE));
    end_here(cpu, op);
}

/* SMSW r/m (0F 01 /4): b1 = register operand size in bytes. */
void x86_op_smsw(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;

    if (op->b2 & 2) {
        x86_st16(cpu, op, x86_op_la(cpu, op, 2, true), env->cr[0]);
        NEXT_W(cpu, op);
    }
    switch (op->b1) {
    case 2: REG16(env, op->src) = env->cr[0]; break;
    case 4: env->regs[op->src] = (uint32_t)env->cr[0]; break;
    default: env->regs[op->src] = env->cr[0]; break;
    }
    NEXT(cpu, op);
}

/* ---- descriptor-table registers --------------------------------------------------- */

/* SGDT/SIDT/LGDT/LIDT (0F 01 /0-/3): b1 = 0 GDT, 1 IDT; b2 bit 0: load. */
void x86_op_xdt(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    X86DescTable *t = op->b1 ? &env->idt : &env->gdt;
    bool l64 = env->hflags & X86_HF_CS64;
    uint64_t la;

    if (op->b2 & 1) {
        uint16_t limit;
        uint64_t base;
        require_cpl0(cpu, op);
        la = x86_op_la(cpu, op, l64 ? 10 : 6, false);
        limit = x86_ld16(cpu, op, la);
        if (l64) {
            base = x86_ld64(cpu, op, la + 2);
            if (!is_canonical(base)) {
                x86_raise(cpu, op, EXCP_GP, 0);
            }
        } else {
            base = x86_ld32(cpu, op, (la + 2) & cpu->la_mask);
            if (op->imm == 1) {
                base &= 0xffffff;   /* 16-bit operand size: 24-bit base */
            }
        }
        t->limit = limit;
        t->base = base;
        end_here(cpu, op);
        return;
    }
    la = x86_op_la(cpu, op, l64 ? 10 : 6, true);
    x86_probe_write(cpu, op, la, l64 ? 10 : 6, X86_ACC_WRITE);
    x86_st16(cpu, op, la, t->limit);
    if (l64) {
        x86_st64(cpu, op, la + 2, t->base);
    } else {
        x86_st32(cpu, op, (la + 2) & cpu->la_mask, t->base);
    }
    env->rip += op->next_off;
}

/* SLDT/STR (0F 00 /0, /1): src = segment (ldt 0, tr 1); register or memory. */
void x86_op_sldt_str(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = op->b1 ? env->tr.selector : env->ldt.selector;

    require_pm(cpu, op);
    if (op->b2 & 2) {
        x86_st16(cpu, op, x86_op_la(cpu, op, 2, true), sel);
    } else if (op->imm == 1) {
        REG16(env, op->src) = sel;
    } else {
        env->regs[op->src] = sel;
    }
    NEXT_W(cpu, op);
}

static uint16_t read_sel_operand(X86CPU *cpu, const KiteOp *op)
{
    if (op->b2 & 2) {
        return x86_ld16(cpu, op, x86_op_la(cpu, op, 2, false));
    }
    return REG16(&cpu->env, op->src);
}

/* Load a system descriptor (16 bytes in long mode) into ldt/tr. */
static void load_sys_seg(X86CPU *cpu, const KiteOp *op, X86Segment *s, uint16_t sel,
                         uint64_t desc)
{
    s->selector = sel;
    s->base = desc_base(desc);
    s->limit = desc_limit(desc);
    s->attr = desc_attr(desc);
    if (cpu->env.efer & X86_EFER_LMA) {
        uint64_t hi;
        if (!x86_desc_read_high(cpu, op, sel, &hi)) {
            x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        s->base |= hi << 32;
    }
}

/* LLDT r/m16 (0F 00 /2). */
void x86_op_lldt(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = read_sel_operand(cpu, op);
    uint64_t desc;

    require_pm(cpu, op);
    require_cpl0(cpu, op);
    if ((sel & ~3) == 0) {
        env->ldt = (X86Segment){ .selector = sel };
        NEXT(cpu, op);
    }
    if ((sel & 4) || !x86_desc_read(cpu, op, sel, &desc) ||
        (desc_attr(desc) & (X86_SEG_S | 0xf)) != DESC_LDT) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(desc_attr(desc) & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    load_sys_seg(cpu, op, &env->ldt, sel, desc);
    NEXT(cpu, op);
}

/* LTR r/m16 (0F 00 /3): the TSS descriptor becomes busy. */
void x86_op_ltr(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = read_sel_operand(cpu, op);
    uint64_t desc;
    int type;

    require_pm(cpu, op);
    require_cpl0(cpu, op);
    if ((sel & ~3) == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if ((sel & 4) || !x86_desc_read(cpu, op, sel, &desc)) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    type = desc_attr(desc) & (X86_SEG_S | 0xf);
    if (type != DESC_TSS32_AVAIL &&
        (type != DESC_TSS16_AVAIL || (env->efer & X86_EFER_LMA))) {
        x86_raise(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(desc_attr(desc) & X86_SEG_P)) {
        x86_raise(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    load_sys_seg(cpu, op, &env->tr, sel, desc);
    env->tr.attr |= 2;                                  /* busy */
    x86_st_super(cpu, op, (env->gdt.base + (sel & ~7) + 5) & cpu->la_mask, 1,
                 ((desc >> 40) & 0xff) | 2);
    NEXT(cpu, op);
}

/*
 * LAR/LSL (0F 02/03) and VERR/VERW (0F 00 /4, /5): b1 = 0 LAR, 1 LSL, 2 VERR, 3 VERW.
 * ZF reports whether the selector is visible at this CPL/RPL (SDM vol. 2A, LAR).
 */
void x86_op_lar_lsl(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = read_sel_operand(cpu, op);
    uint64_t desc = 0;
    uint16_t attr;
    int dpl, type;
    bool ok = false;
    uint32_t f;

    require_pm(cpu, op);
    if ((sel & ~3) && x86_desc_read(cpu, op, sel, &desc)) {
        attr = desc_attr(desc);
        dpl = attr_dpl(attr);
        type = attr & 0xf;
        ok = true;
        if (!(attr & X86_SEG_S)) {
            static const uint16_t lar_ok = 0x1e3e, lsl_ok = 0x0a0e;   /* by type */
            bool lm = env->efer & X86_EFER_LMA;
            uint16_t allowed = op->b1 == 0 ? lar_ok : op->b1 == 1 ? lsl_ok : 0;
            if (lm) {
                allowed &= op->b1 == 0 ? 0x1a04 : 0x0a04;   /* LDT, TSS64, call gate */
            }
            ok = (allowed >> type) & 1;
        }
        if (ok && !(attr_is_code(attr) && (attr & X86_SEG_TYPE_EC)) &&
            (dpl < x86_cpl(cpu) || dpl < (sel & 3))) {
            ok = false;
        }
        if (ok && op->b1 == 2) {
            ok = (attr & X86_SEG_S) && (!attr_is_code(attr) || (attr & X86_SEG_TYPE_RW));
        }
        if (ok && op->b1 == 3) {
            ok = attr_is_data(attr) && (attr & X86_SEG_TYPE_RW);
        }
    }
    f = x86_cc_compute(env) & ~X86_EFLAGS_ZF;
    x86_cc_load(env, f | (ok ? X86_EFLAGS_ZF : 0));
    if (ok && op->b1 < 2) {
        uint64_t v = op->b1 == 0 ? (desc >> 32) & 0x00f0ff00 : desc_limit(desc);
        if (op->imm == 1) {
            REG16(env, op->dst) = v;
        } else {
            env->regs[op->dst] = (uint32_t)v;
        }
    }
    NEXT(cpu, op);
}

/* INVLPG m (0F 01 /7). */
void x86_op_invlpg(X86CPU *cpu, const KiteOp *op)
{
    require_cpl0(cpu, op);
    x86_tlb_flush_page(cpu, x86_seg_la(cpu, op, op->seg, x86_ea(cpu, op), 1, false));
    end_here(cpu, op);
}

/* INVD/WBINVD (0F 08/09): caches are not modelled. */
void x86_op_wbinvd(X86CPU *cpu, const KiteOp *op)
{
    require_cpl0(cpu, op);
    NEXT(cpu, op);
}

/* SWAPGS (0F 01 F8): 64-bit mode, CPL 0 (AMD APM vol. 3, SWAPGS). */
void x86_op_swapgs(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t t;

    if (!(env->hflags & X86_HF_CS64)) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    require_cpl0(cpu, op);
    t = env->segs[R_GS].base;
    env->segs[R_GS].base = env->kernel_gs_base;
    env->kernel_gs_base = t;
    x86_update_seg_cache(cpu, R_GS);
    NEXT(cpu, op);
}

/* ---- TSC --------------------------------------------------------------------------- */

uint64_t x86_read_tsc(X86CPU *cpu)
{
    uint64_t now;

    if (cpu->ops->clock_ns) {
        now = cpu->ops->clock_ns(cpu->opaque);
    } else {
        now = cpu->stats.insns;
    }
    return now + cpu->env.tsc_offset;
}

void x86_op_rdtsc(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t t;

    if ((env->cr[4] & X86_CR4_TSD) && x86_cpl(cpu) != 0 && (env->hflags & X86_HF_PE)) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    t = x86_read_tsc(cpu);
    env->regs[R_EAX] = (uint32_t)t;
    env->regs[R_EDX] = t >> 32;
    if (op->b1) {                                        /* RDTSCP */
        env->regs[R_ECX] = (uint32_t)env->tsc_aux;
    }
    NEXT(cpu, op);
}

/* ---- MSRs -------------------------------------------------------------------------- */

bool x86_msr_read(X86CPU *cpu, uint32_t msr, uint64_t *val)
{
    CPUX86State *env = &cpu->env;

    switch (msr) {
    case MSR_TSC: *val = x86_read_tsc(cpu); return true;
    /* AMD's patch level (MSR 8Bh), the value QEMU gives AMD models: Linux's "microcode". */
    case MSR_UCODE_REV: *val = 0x01000065; return true;
    case MSR_MTRRCAP: *val = 0x500 | X86_MTRR_VCNT; return true;   /* FIX, no WC */
    case MSR_SYSENTER_CS: *val = env->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *val = env->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *val = env->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *val = env->misc_enable; return true;
    case MSR_PAT: *val = env->pat; return true;
    case MSR_MTRR_DEFTYPE: *val = env->mtrr_deftype; return true;
    case MSR_MTRR_FIX64K: *val = env->mtrr_fixed[0]; return true;
    case MSR_MTRR_FIX16K_80: *val = env->mtrr_fixed[1]; return true;
    case MSR_MTRR_FIX16K_A0: *val = env->mtrr_fixed[2]; return true;
    case MSR_MTRR_FIX4K_C0 ... MSR_MTRR_FIX4K_C0 + 7:
        *val = env->mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_C0];
        return true;
    case MSR_MTRR_PHYS_BASE0 ... MSR_MTRR_PHYS_BASE0 + 2 * X86_MTRR_VCNT - 1:
        *val = env->mtrr_var[(msr - MSR_MTRR_PHYS_BASE0) / 2][msr & 1];
        return true;
    case MSR_EFER: *val = env->efer; return true;
    case MSR_STAR: *val = env->star; return true;
    case MSR_LSTAR: *val = env->lstar; return true;
    case MSR_CSTAR: *val = env->cstar; return true;
    case MSR_FMASK: *val = env->fmask; return true;
    case MSR_FS_BASE: *val = env->segs[R_FS].base; return true;
    case MSR_GS_BASE: *val = env->segs[R_GS].base; return true;
    case MSR_KERNEL_GS_BASE: *val = env->kernel_gs_base; return true;
    case MSR_TSC_AUX: *val = env->tsc_aux; return true;
    case MSR_K7_HWCR: *val = env->hwcr; return true;
    case MSR_AMD64_SYSCFG: *val = env->syscfg; return true;
    default:
        return cpu->ops->msr_read && cpu->ops->msr_read(cpu->opaque, msr, val);
    }
}

bool x86_msr_write(X86CPU *cpu, uint32_t msr, uint64_t val)
{
    CPUX86State *env = &cpu->env;

    switch (msr) {
    case MSR_TSC:
        env->tsc_offset = val - (x86_read_tsc(cpu) - env->tsc_offset);
        return true;
    case MSR_SYSENTER_CS: env->sysenter_cs = val & 0xffff; return true;
    case MSR_SYSENTER_ESP: env->sysenter_esp = val; return true;
    case MSR_SYSENTER_EIP: env->sysenter_eip = val; return true;
    case MSR_MISC_ENABLE: env->misc_enable = val; return true;
    case MSR_PAT:
        /* Each byte must be a valid memory type (0, 1, 4-7). */
        for (int i = 0; i < 8; i++) {
            uint8_t t = val >> (8 * i);
            if (t > 7 || t == 2 || t == 3) {
                return false;
            }
        }
        env->pat = val;
        return true;
    case MSR_MTRR_DEFTYPE: env->mtrr_deftype = val; return true;
    case MSR_MTRR_FIX64K: env->mtrr_fixed[0] = val; return true;
    case MSR_MTRR_FIX16K_80: env->mtrr_fixed[1] = val; return true;
    case MSR_MTRR_FIX16K_A0: env->mtrr_fixed[2] = val; return true;
    case MSR_MTRR_FIX4K_C0 ... MSR_MTRR_FIX4K_C0 + 7:
        env->mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_C0] = val;
        return true;
    case MSR_MTRR_PHYS_BASE0 ... MSR_MTRR_PHYS_BASE0 + 2 * X86_MTRR_VCNT - 1:
        env->mtrr_var[(msr - MSR_MTRR_PHYS_BASE0) / 2][msr & 1] = val;
        return true;
    case MSR_EFER: {
        uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
        if (val & ~allowed) {
            return false;
        }
        /* LME cannot change while paging is on; LMA is read-only. */
        if (((val ^ env->efer) & X86_EFER_LME) && (env->cr[0] & X86_CR0_PG)) {
            return false;
        }
        val = (val & ~X86_EFER_LMA) | (env->efer & X86_EFER_LMA);
        if ((val ^ env->efer) & X86_EFER_NXE) {
            x86_tlb_flush(cpu, true);
        }
        env->efer = val;
        x86_update_hflags(cpu);
        return true;
    }
    case MSR_STAR: env->star = val; return true;
    case MSR_LSTAR:
    case MSR_CSTAR:
        if (!is_canonical(val)) {
            return false;
        }
        *(msr == MSR_LSTAR ? &env->lstar : &env->cstar) = val;
        return true;
    case MSR_FMASK: env->fmask = (uint32_t)val; return true;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!is_canonical(val)) {
            return false;
        }
        if (msr == MSR_KERNEL_GS_BASE) {
            env->kernel_gs_base = val;
        } else {
            int seg = msr == MSR_FS_BASE ? R_FS : R_GS;
            env->segs[seg].base = val;
            x86_update_seg_cache(cpu, seg);
        }
        return true;
    case MSR_TSC_AUX: env->tsc_aux = (uint32_t)val; return true;
    case MSR_K7_HWCR: env->hwcr = val; return true;
    case MSR_AMD64_SYSCFG:
        /*
         * K8 SYSCFG (BKDG for family 0Fh, MSRC001_0010): bits 18-21 steer the fixed and
         * variable MTRRs' DRAM attributes and TOM2.  The memory model ignores them, but
         * firmware-visible read-back must hold; other bits are reserved (#GP).
         */
        if (val & ~0x3c0000ULL) {
            return false;
        }
        env->syscfg = val;
        return true;
    default:
        return cpu->ops->msr_write && cpu->ops->msr_write(cpu->opaque, msr, val);
    }
}

/* RDMSR/WRMSR (0F 32/30): b1 = 1 for WRMSR. */
void x86_op_rdwrmsr(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint32_t msr = env->regs[R_ECX];
    uint64_t v;

    require_cpl0(cpu, op);
    if (op->b1) {
        v = ((uint64_t)REG32(env, R_EDX) << 32) | REG32(env, R_EAX);
        if (!x86_msr_write(cpu, msr, v)) {
            kite_log_mask(LOG_UNIMP, "x86: wrmsr 0x%x = 0x%" PRIx64 " -> #GP\n", msr, v);
            x86_raise(cpu, op, EXCP_GP, 0);
        }
    } else {
        if (!x86_msr_read(cpu, msr, &v)) {
            kite_log_mask(LOG_UNIMP, "x86: rdmsr 0x%x -> #GP\n", msr);
            x86_raise(cpu, op, EXCP_GP, 0);
        }
        env->regs[R_EAX] = (uint32_t)v;
        env->regs[R_EDX] = v >> 32;
    }
    end_here(cpu, op);
}

/* ---- CPUID ------------------------------------------------------------------------- */

/*
 * What QEMU 7.2's default CPU model, qemu64, reports under TCG (checked against Debian's
 * qemu-system-x86_64 with a CPUID-dumping test kernel), less the features this
 * interpreter does not implement: SSE3 (leaf 1 ECX bit 0), PSE-36 (EDX bit 17, 4 MiB
 * pages above 4 GiB) and SVM (80000001h ECX bit 2, leaf 8000000Ah).  MCA's MSRs are the
 * machine's (target/i386/tcg-glue.c).  Deliberately kept: invariant TSC (80000007h EDX
 * bit 8), since the TSC runs from the virtual clock and is the same on every vCPU;
 * QEMU's TCG leaves it clear.
 */
#define CPUID_VENDOR_EBX 0x68747541    /* "Auth" */
#define CPUID_VENDOR_EDX 0x69746e65    /* "enti" */
#define CPUID_VENDOR_ECX 0x444d4163    /* "cAMD" */
#define CPUID_SIGNATURE  0x00060fb1    /* family 15, model 107, stepping 1 */
#define CPUID_MAX_BASIC  0x0d
#define CPUID_MAX_EXT    0x8000000a

/* CPUID.1:EDX: FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT CLFSH MMX FXSR
 * SSE SSE2.  MCE: CR4.MCE is accepted; no machine check is ever raised. */
#define CPUID_1_EDX  ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | \
                      (1u << 6) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 11) | \
                      (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) | (1u << 16) | \
                      (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26))
#define CPUID_1_EDX_HTT (1u << 28)
/* CPUID.1:ECX: CX16; bit 31, "running under a hypervisor", as QEMU sets for every model. */
#define CPUID_1_ECX  ((1u << 13) | (1u << 31))
/* 0x80000001:EDX: SYSCALL NX LM, plus leaf 1's bits AMD repeats here (AMD APM vol. 3,
 * CPUID Fn8000_0001_EDX: bits 0-9, 12-17, 23, 24). */
#define CPUID_81_EDX ((CPUID_1_EDX & 0x0183f3ff) | (1u << 11) | (1u << 20) | (1u << 29))
/* 0x80000001:ECX: LAHF/SAHF in 64-bit mode; CmpLegacy with several CPUs a package. */
#define CPUID_81_ECX       (1u << 0)
#define CPUID_81_ECX_CMP   (1u << 1)

static void cpuid_str(const char *s, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    uint32_t w[4];

    memcpy(w, s, 16);
    *a = w[0];
    *b = w[1];
    *c = w[2];
    *d = w[3];
}

/* Bits of an APIC ID field that numbers n units: ceil(log2(n)) (SDM vol. 3A 8.9.1). */
static unsigned cpuid_field_bits(uint32_t n)
{
    unsigned b = 0;

    while (b < 31 && (1u << b) < n) {
        b++;
    }
    return b;
}

void x86_cpu_cpuid(X86CPU *cpu, uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
                   uint32_t *c, uint32_t *d)
{
    /* qemu64's model name (QEMU_HW_VERSION "2.5+"), NUL-padded as QEMU pads it. */
    static const char brand[48] = "QEMU Virtual CPU version 2.5+";
    static const char hv_sig[] = "TCGTCGTCGTCG";
    unsigned smt_bits = cpuid_field_bits(cpu->core_threads);
    unsigned core_bits = cpuid_field_bits(cpu->pkg_cores);

    *a = *b = *c = *d = 0;
    switch (leaf) {
    case 0:
        *a = CPUID_MAX_BASIC;
        *b = CPUID_VENDOR_EBX;
        *d = CPUID_VENDOR_EDX;
        *c = CPUID_VENDOR_ECX;
        break;
    case 1:
        *a = CPUID_SIGNATURE;
        *b = (cpu->apic_id << 24) | (8 << 8);               /* CLFLUSH 64 bytes */
        *c = CPUID_1_ECX;
        *d = CPUID_1_EDX;
        /*
         * Several logical processors a package: HTT and their count (SDM vol. 2A CPUID
         * leaf 1 EBX[23:16]); like QEMU, neither for a single one.
         */
        if (cpu->package_cpus > 1) {
            *b |= MIN(cpu->package_cpus, 255u) << 16;
            *d |= CPUID_1_EDX_HTT;
        }
        break;
    case 5:
        /* No MONITOR/MWAIT; QEMU still fills ECX: EMX and IBE (SDM vol. 2A leaf 05h). */
        *c = 3;
        break;
    case 0xb:
        /*
         * x2APIC topology (SDM vol. 2A leaf 0Bh): level 0 SMT, level 1 core, then invalid
         * levels that echo the subleaf in ECX[7:0]; EAX the APIC ID shift to the next
         * level, EBX the logical processors at this level, EDX the x2APIC ID.  The board
         * numbers APIC IDs package | core | thread with these field widths.
         */
        if (sub == 0) {
            *a = smt_bits;
            *b = cpu->core_threads;
            *c = (1 << 8) | sub;
        } else if (sub == 1) {
            *a = smt_bits + core_bits;
            *b = cpu->package_cpus;
            *c = (2 << 8) | sub;
        } else {
            *c = sub & 0xff;
        }
        *d = cpu->apic_id;
        break;
    case 0x40000000:
        /* QEMU's TCG hypervisor leaf: highest leaf 40000001h, "TCGTCGTCGTCG". */
        *a = 0x40000001;
        memcpy(b, hv_sig, 4);
        memcpy(c, hv_sig + 4, 4);
        memcpy(d, hv_sig + 8, 4);
        break;
    case 0x80000000:
        *a = CPUID_MAX_EXT;
        *b = CPUID_VENDOR_EBX;
        *d = CPUID_VENDOR_EDX;
        *c = CPUID_VENDOR_ECX;
        break;
    case 0x80000001:
        *a = CPUID_SIGNATURE;
        *c = CPUID_81_ECX | (cpu->package_cpus > 1 ? CPUID_81_ECX_CMP : 0);
        *d = CPUID_81_EDX;
        break;
    case 0x80000002: case 0x80000003: case 0x80000004:
        cpuid_str(brand + 16 * (leaf - 0x80000002), a, b, c, d);
        break;
    case 0x80000005:
        /*
         * AMD CPUID spec, Fn8000_0005: L1 TLBs (2M/4M and 4K pages: fully associative,
         * 255 entries, data and instruction), L1 caches 64 KiB 2-way, 1 line a tag,
         * 64-byte lines.
         */
        *a = 0x01ff01ff;
        *b = 0x01ff01ff;
        *c = (64 << 24) | (2 << 16) | (1 << 8) | 64;
        *d = (64 << 24) | (2 << 16) | (1 << 8) | 64;
        break;
    case 0x80000006:
        /*
         * Fn8000_0006: L2 TLB for 4K pages 4-way, 512 entries (data and instruction), none
         * for large pages; L2 512 KiB and L3 16 MiB (in 512 KiB units), both 16-way
         * (encoding 8), 1 line a tag, 64-byte lines.
         */
        *b = (4u << 28) | (512 << 16) | (4 << 12) | 512;
        *c = (512 << 16) | (8 << 12) | (1 << 8) | 64;
        *d = (32 << 18) | (8 << 12) | (1 << 8) | 64;
        break;
    case 0x80000007:
        *d = 1 << 8;    /* invariant TSC: it runs from the virtual clock */
        break;
    case 0x80000008:
        *a = (48 << 8) | 40;   /* virtual / physical address bits */
        /*
         * NC: logical processors a package - 1, and ApicIdCoreIdSize: the APIC ID bits
         * below the package (AMD APM vol. 3, E.4.7).
         */
        if (cpu->package_cpus > 1) {
            *c = MIN(cpu->package_cpus - 1, 255u) | ((smt_bits + core_bits) << 12);
        }
        break;
    default:
        /* 2-4, 6-0Ah, 0Ch, 0Dh (no XSAVE), 40000001h, 80000009h, 8000000Ah (no SVM). */
        break;
    }
}

void x86_op_cpuid(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint32_t a, b, c, d;

    x86_cpu_cpuid(cpu, REG32(env, R_EAX), REG32(env, R_ECX), &a, &b, &c, &d);
    env->regs[R_EAX] = a;
    env->regs[R_EBX] = b;
    env->regs[R_ECX] = c;
    env->regs[R_EDX] = d;
    NEXT(cpu, op);
}

/* ---- SYSCALL / SYSRET / SYSENTER / SYSEXIT ---------------------------------------------- */

static void set_flat(CPUX86State *env, int seg, uint16_t sel, uint16_t attr)
{
    x86_cpu_set_seg(env, seg, sel, 0, 0xffffffff, attr | X86_SEG_P | X86_SEG_S |
                    X86_SEG_G | X86_SEG_TYPE_A);
}

#define FLAT_CODE (X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW)
#define FLAT_DATA (X86_SEG_TYPE_RW | X86_SEG_DB)

void x86_op_syscall(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = (env->star >> 32) & 0xfffc;
    uint64_t next = env->rip + op->next_off;
    uint32_t fl = x86_cpu_get_eflags(env);

    if (!(env->efer & X86_EFER_SCE) || !(env->hflags & X86_HF_PE)) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (env->efer & X86_EFER_LMA) {
        env->regs[R_ECX] = next;
        env->regs[R_R11] = fl & ~X86_EFLAGS_RF;
        set_flat(env, R_CS, sel, FLAT_CODE | X86_SEG_L);
        set_flat(env, R_SS, sel + 8, FLAT_DATA);
        x86_cpu_set_eflags(env, fl & ~env->fmask & ~X86_EFLAGS_RF);
        env->rip = (env->hflags & X86_HF_CS64) ? env->lstar : env->cstar;
    } else {
        env->regs[R_ECX] = (uint32_t)next;
        set_flat(env, R_CS, sel, FLAT_CODE | X86_SEG_DB);
        set_flat(env, R_SS, sel + 8, FLAT_DATA);
        x86_cpu_set_eflags(env, fl & ~(X86_EFLAGS_VM | X86_EFLAGS_IF | X86_EFLAGS_RF));
        env->rip = (uint32_t)env->star;
    }
    x86_set_cpl(cpu, 0);
    x86_update_hflags(cpu);
    x86_update_pending(cpu);
}

/* SYSRET (0F 07): b1 = operand size index (3: return to 64-bit code). */
void x86_op_sysret(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = (env->star >> 48) & 0xfffc;

    if (!(env->efer & X86_EFER_SCE)) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (!(env->hflags & X86_HF_PE) || x86_cpl(cpu) != 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    if (env->efer & X86_EFER_LMA) {
        if (op->b1 == 3) {
            if (!is_canonical(env->regs[R_ECX])) {
                x86_raise(cpu, op, EXCP_GP, 0);
            }
            set_flat(env, R_CS, (sel + 16) | 3,
                     FLAT_CODE | X86_SEG_L | (3 << X86_SEG_DPL_SHIFT));
            env->rip = env->regs[R_ECX];
        } else {
            set_flat(env, R_CS, sel | 3, FLAT_CODE | X86_SEG_DB | (3 << X86_SEG_DPL_SHIFT));
            env->rip = REG32(env, R_ECX);
        }
        set_flat(env, R_SS, (sel + 8) | 3, FLAT_DATA | (3 << X86_SEG_DPL_SHIFT));
        x86_cpu_set_eflags(env, (REG32(env, R_R11) & ~(X86_EFLAGS_RF | X86_EFLAGS_VM)) |
                           X86_EFLAGS_FIXED);
    } else {
        set_flat(env, R_CS, sel | 3, FLAT_CODE | X86_SEG_DB | (3 << X86_SEG_DPL_SHIFT));
        set_flat(env, R_SS, (sel + 8) | 3, FLAT_DATA | (3 << X86_SEG_DPL_SHIFT));
        env->eflags |= X86_EFLAGS_IF;
        env->rip = REG32(env, R_ECX);
    }
    x86_set_cpl(cpu, 3);
    x86_update_hflags(cpu);
    x86_update_pending(cpu);
}

/* SYSENTER/SYSEXIT (0F 34/35): legacy protected mode only on this AMD CPU. */
void x86_op_sysenter(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = env->sysenter_cs & 0xfffc;

    if (env->efer & X86_EFER_LMA) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (!(env->hflags & X86_HF_PE) || sel == 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    set_flat(env, R_CS, sel, FLAT_CODE | X86_SEG_DB);
    set_flat(env, R_SS, sel + 8, FLAT_DATA);
    env->eflags &= ~(X86_EFLAGS_VM | X86_EFLAGS_IF | X86_EFLAGS_RF);
    env->regs[R_ESP] = (uint32_t)env->sysenter_esp;
    env->rip = (uint32_t)env->sysenter_eip;
    x86_set_cpl(cpu, 0);
    x86_update_hflags(cpu);
}

void x86_op_sysexit(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint16_t sel = env->sysenter_cs & 0xfffc;

    if (env->efer & X86_EFER_LMA) {
        x86_raise(cpu, op, EXCP_UD, 0);
    }
    if (!(env->hflags & X86_HF_PE) || sel == 0 || x86_cpl(cpu) != 0) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    set_flat(env, R_CS, (sel + 16) | 3, FLAT_CODE | X86_SEG_DB | (3 << X86_SEG_DPL_SHIFT));
    set_flat(env, R_SS, (sel + 24) | 3, FLAT_DATA | (3 << X86_SEG_DPL_SHIFT));
    env->regs[R_ESP] = REG32(env, R_ECX);
    env->rip = REG32(env, R_EDX);
    x86_set_cpl(cpu, 3);
    x86_update_hflags(cpu);
}
