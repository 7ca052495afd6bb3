/*
 * x86 register state between CPUX86State and KVM (api.rst 4.11-4.14 KVM_GET/SET_REGS,
 * SREGS, FPU, MSRS; 4.31 VCPU_EVENTS; 4.32 DEBUGREGS; 4.42 XSAVE; 4.44 XCRS; 4.38
 * MP_STATE; 4.57 LAPIC).
 *
 * A pull (get) reads everything; a push (put) writes what the level covers: RUNTIME is
 * what the guest or a debugger can change, RESET adds the TSC, MP state and the in-kernel
 * LAPIC and first puts the non-env state back to power-on values, FULL writes the saved
 * values of all of it (after loadvm).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/kvm-x86.h"
#include "kite/log.h"

/* ------------------------------------------------------------ segments */

/*
 * env packs descriptor bits 40-47 and 52-55 into attr (see target/i386/cpu.h); KVM has
 * one field per bit.  A segment that is not present is "unusable" for VMX (SDM vol. 3C,
 * 24.4.1: the access-rights "segment unusable" bit).
 */
static void kvm_seg_from_env(struct kvm_segment *k, const X86Segment *s)
{
    memset(k, 0, sizeof(*k));
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = s->attr & X86_SEG_TYPE_MASK;
    k->s = !!(s->attr & X86_SEG_S);
    k->dpl = (s->attr & X86_SEG_DPL_MASK) >> X86_SEG_DPL_SHIFT;
    k->present = !!(s->attr & X86_SEG_P);
    k->avl = !!(s->attr & X86_SEG_AVL);
    k->l = !!(s->attr & X86_SEG_L);
    k->db = !!(s->attr & X86_SEG_DB);
    k->g = !!(s->attr & X86_SEG_G);
    k->unusable = !k->present;
}

/* Virtual-8086 mode: every segment is a 64 KiB read/write data segment at DPL 3. */
static void kvm_seg_vm86(struct kvm_segment *k, const X86Segment *s)
{
    memset(k, 0, sizeof(*k));
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = 3;
    k->present = 1;
    k->dpl = 3;
    k->s = 1;
}

static void kvm_seg_to_env(X86Segment *s, const struct kvm_segment *k)
{
    s->base = k->base;
    s->limit = k->limit;
    s->selector = k->selector;
    s->attr = (k->type & X86_SEG_TYPE_MASK) | (k->s ? X86_SEG_S : 0) |
              ((k->dpl << X86_SEG_DPL_SHIFT) & X86_SEG_DPL_MASK) |
              (k->present && !k->unusable ? X86_SEG_P : 0) | (k->avl ? X86_SEG_AVL : 0) |
              (k->l ? X86_SEG_L : 0) | (k->db ? X86_SEG_DB : 0) | (k->g ? X86_SEG_G : 0);
}

/* ------------------------------------------------------------ GPRs, SREGS */

static int kvm_put_regs(CPUState *cs, CPUX86State *env)
{
    struct kvm_regs r = {
        .rax = env->regs[R_EAX], .rbx = env->regs[R_EBX], .rcx = env->regs[R_ECX],
        .rdx = env->regs[R_EDX], .rsi = env->regs[R_ESI], .rdi = env->regs[R_EDI],
        .rsp = env->regs[R_ESP], .rbp = env->regs[R_EBP],
        .r8 = env->regs[R_R8], .r9 = env->regs[R_R9], .r10 = env->regs[R_R10],
        .r11 = env->regs[R_R11], .r12 = env->regs[R_R12], .r13 = env->regs[R_R13],
        .r14 = env->regs[R_R14], .r15 = env->regs[R_R15],
        .rip = env->rip, .rflags = x86_cpu_get_eflags(env),
    };

    return kvm_vcpu_ioctl(cs, KVM_SET_REGS, &r);
}

static int kvm_get_regs(CPUState *cs, CPUX86State *env)
{
    struct kvm_regs r;
    int ret = kvm_vcpu_ioctl(cs, KVM_GET_REGS, &r);

    if (ret < 0) {
        return ret;
    }
    env->regs[R_EAX] = r.rax;
    env->regs[R_EBX] = r.rbx;
    env->regs[R_ECX] = r.rcx;
    env->regs[R_EDX] = r.rdx;
    env->regs[R_ESI] = r.rsi;
    env->regs[R_EDI] = r.rdi;
    env->regs[R_ESP] = r.rsp;
    env->regs[R_EBP] = r.rbp;
    env->regs[R_R8] = r.r8;
    env->regs[R_R9] = r.r9;
    env->regs[R_R10] = r.r10;
    env->regs[R_R11] = r.r11;
    env->regs[R_R12] = r.r12;
    env->regs[R_R13] = r.r13;
    env->regs[R_R14] = r.r14;
    env->regs[R_R15] = r.r15;
    env->rip = r.rip;
    x86_cpu_set_eflags(env, r.rflags);
    return 0;
}

static int kvm_put_sregs(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    struct kvm_sregs sr;
    struct kvm_segment *segs[6] = { &sr.es, &sr.cs, &sr.ss, &sr.ds, &sr.fs, &sr.gs };
    bool vm86 = x86_cpu_get_eflags(env) & X86_EFLAGS_VM;

    memset(&sr, 0, sizeof(sr));
    for (int i = 0; i < 6; i++) {
        if (vm86) {
            kvm_seg_vm86(segs[i], &env->segs[i]);
        } else {
            kvm_seg_from_env(segs[i], &env->segs[i]);
        }
    }
    kvm_seg_from_env(&sr.tr, &env->tr);
    kvm_seg_from_env(&sr.ldt, &env->ldt);
    sr.gdt.base = env->gdt.base;
    sr.gdt.limit = env->gdt.limit;
    sr.idt.base = env->idt.base;
    sr.idt.limit = env->idt.limit;
    sr.cr0 = env->cr[0];
    sr.cr2 = env->cr[2];
    sr.cr3 = env->cr[3];
    sr.cr4 = env->cr[4];
    sr.cr8 = env->tpr;
    sr.efer = env->efer;
    sr.apic_base = xs->apic_base;
    /* interrupt_bitmap stays empty: a pending injection travels in VCPU_EVENTS. */
    return kvm_vcpu_ioctl(cs, KVM_SET_SREGS, &sr);
}

static int kvm_get_sregs(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    struct kvm_sregs sr;
    const struct kvm_segment *segs[6] = { &sr.es, &sr.cs, &sr.ss, &sr.ds, &sr.fs, &sr.gs };
    int r = kvm_vcpu_ioctl(cs, KVM_GET_SREGS, &sr);

    if (r < 0) {
        return r;
    }
    for (int i = 0; i < 6; i++) {
        kvm_seg_to_env(&env->segs[i], segs[i]);
    }
    kvm_seg_to_env(&env->tr, &sr.tr);
    kvm_seg_to_env(&env->ldt, &sr.ldt);
    env->gdt.base = sr.gdt.base;
    env->gdt.limit = sr.gdt.limit;
    env->idt.base = sr.idt.base;
    env->idt.limit = sr.idt.limit;
    env->cr[0] = sr.cr0;
    env->cr[2] = sr.cr2;
    env->cr[3] = sr.cr3;
    env->cr[4] = sr.cr4;
    env->tpr = sr.cr8;
    env->efer = sr.efer;
    xs->apic_base = sr.apic_base;
    return 0;
}

/* ------------------------------------------------------------ x87 / SSE */

/*
 * The legacy region of an FXSAVE/XSAVE image in its 64-bit layout (SDM vol. 1, 10.5.1,
 * table 10-2): control words, then ST(0)-ST(7) in stack order (16 bytes each), then the
 * XMM registers.  env keeps physical registers: ST(i) is R[(TOP + i) & 7].  The tag byte
 * is FXSAVE's abridged tag, one bit per physical register.
 */
enum {
    FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16,
    FX_MXCSR = 24, FX_ST = 32, FX_XMM = 160,
    XSAVE_HDR_XSTATE_BV = 512,
};

static void kvm_fx_from_env(uint8_t *fx, const CPUX86State *env)
{
    stw_le_p(fx + FX_FCW, env->fpuc);
    stw_le_p(fx + FX_FSW, x86_cpu_get_fsw(env));
    fx[FX_FTW] = env->fptag_valid;
    stw_le_p(fx + FX_FOP, env->fpop);
    stq_le_p(fx + FX_FIP, env->fpip);
    stq_le_p(fx + FX_FDP, env->fpdp);
    stl_le_p(fx + FX_MXCSR, env->mxcsr);
    for (int i = 0; i < 8; i++) {
        const X86FPReg *r = &env->fpregs[(env->fpstt + i) & 7];
        memset(fx + FX_ST + 16 * i, 0, 16);
        stq_le_p(fx + FX_ST + 16 * i, r->mant);
        stw_le_p(fx + FX_ST + 16 * i + 8, r->sign_exp);
    }
    for (int i = 0; i < 16; i++) {
        memcpy(fx + FX_XMM + 16 * i, env->xmm[i].b, 16);
    }
}

static void kvm_fx_to_env(CPUX86State *env, const uint8_t *fx)
{
    uint16_t fsw = lduw_le_p(fx + FX_FSW);

    env->fpuc = lduw_le_p(fx + FX_FCW);
    env->fpstt = (fsw >> 11) & 7;
    env->fpus = fsw & ~0x3800;
    env->fptag_valid = fx[FX_FTW];
    env->fpop = lduw_le_p(fx + FX_FOP);
    env->fpip = ldq_le_p(fx + FX_FIP);
    env->fpdp = ldq_le_p(fx + FX_FDP);
    env->mxcsr = ldl_le_p(fx + FX_MXCSR);
    for (int i = 0; i < 8; i++) {
        X86FPReg *r = &env->fpregs[(env->fpstt + i) & 7];
        r->mant = ldq_le_p(fx + FX_ST + 16 * i);
        r->sign_exp = lduw_le_p(fx + FX_ST + 16 * i + 8);
    }
    for (int i = 0; i < 16; i++) {
        memcpy(env->xmm[i].b, fx + FX_XMM + 16 * i, 16);
    }
}

static int kvm_put_fpu(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    X86KvmState *ks = x86_kvm_state();

    if (ks->xsave_size) {
        uint64_t bv = ldq_le_p(xs->xsave + XSAVE_HDR_XSTATE_BV);
        kvm_fx_from_env(xs->xsave, env);
        /* Mark x87 and SSE as in use so the image's values are loaded, not init values. */
        stq_le_p(xs->xsave + XSAVE_HDR_XSTATE_BV, bv | 3);
        return kvm_vcpu_ioctl(cs, KVM_SET_XSAVE, xs->xsave);
    } else {
        struct kvm_fpu fpu;
        uint8_t fx[512];

        memset(&fpu, 0, sizeof(fpu));
        kvm_fx_from_env(fx, env);
        fpu.fcw = lduw_le_p(fx + FX_FCW);
        fpu.fsw = lduw_le_p(fx + FX_FSW);
        fpu.ftwx = fx[FX_FTW];
        fpu.last_opcode = env->fpop;
        fpu.last_ip = env->fpip;
        fpu.last_dp = env->fpdp;
        fpu.mxcsr = env->mxcsr;
        memcpy(fpu.fpr, fx + FX_ST, sizeof(fpu.fpr));
        memcpy(fpu.xmm, fx + FX_XMM, sizeof(fpu.xmm));
        return kvm_vcpu_ioctl(cs, KVM_SET_FPU, &fpu);
    }
}

static int kvm_get_fpu(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    X86KvmState *ks = x86_kvm_state();
    int r;

    if (ks->xsave_size) {
        unsigned long op = ks->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2
                                                                      : KVM_GET_XSAVE;
        r = kvm_vcpu_ioctl(cs, op, xs->xsave);
        if (r < 0) {
            return r;
        }
        xs->xsave_valid = true;
        kvm_fx_to_env(env, xs->xsave);
    } else {
        struct kvm_fpu fpu;
        uint8_t fx[512];

        r = kvm_vcpu_ioctl(cs, KVM_GET_FPU, &fpu);
        if (r < 0) {
            return r;
        }
        memset(fx, 0, sizeof(fx));
        stw_le_p(fx + FX_FCW, fpu.fcw);
        stw_le_p(fx + FX_FSW, fpu.fsw);
        fx[FX_FTW] = fpu.ftwx;
        stw_le_p(fx + FX_FOP, fpu.last_opcode);
        stq_le_p(fx + FX_FIP, fpu.last_ip);
        stq_le_p(fx + FX_FDP, fpu.last_dp);
        stl_le_p(fx + FX_MXCSR, fpu.mxcsr);
        memcpy(fx + FX_ST, fpu.fpr, sizeof(fpu.fpr));
        memcpy(fx + FX_XMM, fpu.xmm, sizeof(fpu.xmm));
        kvm_fx_to_env(env, fx);
    }
    return 0;
}

static int kvm_put_xcrs(CPUState *cs, X86KvmVcpu *xs)
{
    struct kvm_xcrs x = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = xs->xcr0 } };

    return x86_kvm_state()->has_xcrs ? kvm_vcpu_ioctl(cs, KVM_SET_XCRS, &x) : 0;
}

static int kvm_get_xcrs(CPUState *cs, X86KvmVcpu *xs)
{
    struct kvm_xcrs x;
    int r;

    if (!x86_kvm_state()->has_xcrs) {
        return 0;
    }
    r = kvm_vcpu_ioctl(cs, KVM_GET_XCRS, &x);
    for (uint32_t i = 0; r == 0 && i < x.nr_xcrs && i < ARRAY_SIZE(x.xcrs); i++) {
        if (x.xcrs[i].xcr == 0) {
            xs->xcr0 = x.xcrs[i].value;
        }
    }
    return r;
}

/* ------------------------------------------------------------ MSRs */

#define KVM_X86_MAX_MSRS 48

typedef struct KvmMsrBuf {
    struct kvm_msrs hdr;
    struct kvm_msr_entry entries[KVM_X86_MAX_MSRS];
} KvmMsrBuf;

static void msr_add(KvmMsrBuf *b, uint32_t index, uint64_t value)
{
    g_assert(b->hdr.nmsrs < KVM_X86_MAX_MSRS);
    b->entries[b->hdr.nmsrs].index = index;
    b->entries[b->hdr.nmsrs].reserved = 0;
    b->entries[b->hdr.nmsrs].data = value;
    b->hdr.nmsrs++;
}

/*
 * KVM_SET/GET_MSRS stop at the first MSR KVM refuses and return how many it handled.
 * Report the refused one, drop it, and go on with the rest, so one unsupported MSR
 * does not lose the others.
 */
static int kvm_msrs_transfer(CPUState *cs, KvmMsrBuf *b, bool set)
{
    unsigned done = 0;

    while (done < b->hdr.nmsrs) {
        KvmMsrBuf part;
        int r;

        part.hdr.nmsrs = b->hdr.nmsrs - done;
        part.hdr.pad = 0;
        memcpy(part.entries, &b->entries[done], part.hdr.nmsrs * sizeof(part.entries[0]));
        r = kvm_vcpu_ioctl(cs, set ? KVM_SET_MSRS : KVM_GET_MSRS, &part);
        if (r < 0) {
            return r;
        }
        memcpy(&b->entries[done], part.entries, r * sizeof(part.entries[0]));
        done += r;
        if (done < b->hdr.nmsrs) {
            kite_log_mask(LOG_UNIMP, "KVM: %s MSR 0x%x refused", set ? "writing" : "reading",
                          b->entries[done].index);
            memmove(&b->entries[done], &b->entries[done + 1],
                    (b->hdr.nmsrs - done - 1) * sizeof(b->entries[0]));
            b->hdr.nmsrs--;
        }
    }
    return 0;
}

static const uint32_t kvm_mtrr_fixed_msrs[11] = {
    MSR_MTRR_FIX64K_00000, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
    MSR_MTRR_FIX4K_C0000, MSR_MTRR_FIX4K_C0000 + 1, MSR_MTRR_FIX4K_C0000 + 2,
    MSR_MTRR_FIX4K_C0000 + 3, MSR_MTRR_FIX4K_C0000 + 4, MSR_MTRR_FIX4K_C0000 + 5,
    MSR_MTRR_FIX4K_C0000 + 6, MSR_MTRR_FIX4K_C0000 + 7,
};

/* The MSRs env holds and KVM knows (the TSC only from RESET level up). */
static void kvm_msrs_list(KvmMsrBuf *b, const CPUX86State *env, const X86KvmVcpu *xs,
                          int level, bool for_put)
{
    b->hdr.nmsrs = 0;
    b->hdr.pad = 0;
    msr_add(b, MSR_IA32_SYSENTER_CS, env->sysenter_cs);
    msr_add(b, MSR_IA32_SYSENTER_ESP, env->sysenter_esp);
    msr_add(b, MSR_IA32_SYSENTER_EIP, env->sysenter_eip);
    msr_add(b, MSR_IA32_PAT, env->pat);
    if (kvm_x86_has_msr(MSR_IA32_MISC_ENABLE)) {
        msr_add(b, MSR_IA32_MISC_ENABLE, env->misc_enable);
    }
    if (xs->has_lm) {
        msr_add(b, MSR_STAR, env->star);
        msr_add(b, MSR_LSTAR, env->lstar);
        msr_add(b, MSR_CSTAR, env->cstar);
        msr_add(b, MSR_FMASK, env->fmask);
        msr_add(b, MSR_KERNEL_GS_BASE, env->kernel_gs_base);
    }
    if (kvm_x86_has_msr(MSR_TSC_AUX)) {
        msr_add(b, MSR_TSC_AUX, env->tsc_aux);
    }
    if (xs->has_mtrr) {
        msr_add(b, MSR_MTRR_DEF_TYPE, env->mtrr_deftype);
        for (int i = 0; i < 11; i++) {
            msr_add(b, kvm_mtrr_fixed_msrs[i], env->mtrr_fixed[i]);
        }
        for (int i = 0; i < X86_MTRR_VCNT; i++) {
            msr_add(b, MSR_MTRR_PHYSBASE0 + 2 * i, env->mtrr_var[i][0]);
            msr_add(b, MSR_MTRR_PHYSBASE0 + 2 * i + 1, env->mtrr_var[i][1]);
        }
    }
    if (!for_put || level >= KVM_PUT_RESET_STATE) {
        /* Writing the TSC at runtime would make guest time jump. */
        msr_add(b, MSR_IA32_TSC, xs->tsc);
        if (kvm_irqchip_in_kernel() && kvm_x86_has_msr(MSR_IA32_TSC_DEADLINE) &&
            for_put && level == KVM_PUT_RESET_STATE) {
            msr_add(b, MSR_IA32_TSC_DEADLINE, 0);
        }
    }
}

static int kvm_put_msrs(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs, int level)
{
    KvmMsrBuf b;

    kvm_msrs_list(&b, env, xs, level, true);
    return kvm_msrs_transfer(cs, &b, true);
}

static int kvm_get_msrs(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    KvmMsrBuf b;
    int r;

    kvm_msrs_list(&b, env, xs, KVM_PUT_FULL_STATE, false);
    r = kvm_msrs_transfer(cs, &b, false);
    if (r < 0) {
        return r;
    }
    for (unsigned i = 0; i < b.hdr.nmsrs; i++) {
        uint32_t idx = b.entries[i].index;
        uint64_t v = b.entries[i].data;

        switch (idx) {
        case MSR_IA32_SYSENTER_CS: env->sysenter_cs = v; break;
        case MSR_IA32_SYSENTER_ESP: env->sysenter_esp = v; break;
        case MSR_IA32_SYSENTER_EIP: env->sysenter_eip = v; break;
        case MSR_IA32_PAT: env->pat = v; break;
        case MSR_IA32_MISC_ENABLE: env->misc_enable = v; break;
        case MSR_STAR: env->star = v; break;
        case MSR_LSTAR: env->lstar = v; break;
        case MSR_CSTAR: env->cstar = v; break;
        case MSR_FMASK: env->fmask = v; break;
        case MSR_KERNEL_GS_BASE: env->kernel_gs_base = v; break;
        case MSR_TSC_AUX: env->tsc_aux = v; break;
        case MSR_IA32_TSC: xs->tsc = v; break;
        case MSR_MTRR_DEF_TYPE: env->mtrr_deftype = v; break;
        default:
            if (idx >= MSR_MTRR_PHYSBASE0 && idx < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_VCNT) {
                env->mtrr_var[(idx - MSR_MTRR_PHYSBASE0) / 2][idx & 1] = v;
            }
            for (int f = 0; f < 11; f++) {
                if (idx == kvm_mtrr_fixed_msrs[f]) {
                    env->mtrr_fixed[f] = v;
                }
            }
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ events, MP state, LAPIC */

static int kvm_put_events(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    struct kvm_vcpu_events ev = xs->events;

    /* env holds the interrupt shadow and NMI blocking; KVM's view of the kind is kept. */
    if (env->int_shadow && !ev.interrupt.shadow) {
        ev.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
    } else if (!env->int_shadow) {
        ev.interrupt.shadow = 0;
    }
    ev.nmi.masked = env->nmi_blocked;
    ev.sipi_vector = env->sipi_vector;
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
    if (kvm_irqchip_in_kernel()) {
        ev.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    }
    return kvm_vcpu_ioctl(cs, KVM_SET_VCPU_EVENTS, &ev);
}

static int kvm_get_events(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    int r = kvm_vcpu_ioctl(cs, KVM_GET_VCPU_EVENTS, &xs->events);

    if (r < 0) {
        return r;
    }
    env->int_shadow = xs->events.interrupt.shadow != 0;
    env->nmi_blocked = xs->events.nmi.masked;
    if (kvm_irqchip_in_kernel()) {
        env->sipi_vector = xs->events.sipi_vector;
    }
    return 0;
}

static int kvm_put_debugregs(CPUState *cs, CPUX86State *env)
{
    struct kvm_debugregs d;

    if (!x86_kvm_state()->has_debugregs) {
        return 0;
    }
    memset(&d, 0, sizeof(d));
    for (int i = 0; i < 4; i++) {
        d.db[i] = env->dr[i];
    }
    d.dr6 = env->dr[6];
    d.dr7 = env->dr[7];
    return kvm_vcpu_ioctl(cs, KVM_SET_DEBUGREGS, &d);
}

static int kvm_get_debugregs(CPUState *cs, CPUX86State *env)
{
    struct kvm_debugregs d;
    int r;

    if (!x86_kvm_state()->has_debugregs) {
        return 0;
    }
    r = kvm_vcpu_ioctl(cs, KVM_GET_DEBUGREGS, &d);
    if (r < 0) {
        return r;
    }
    for (int i = 0; i < 4; i++) {
        env->dr[i] = d.db[i];
    }
    env->dr[6] = d.dr6;
    env->dr[7] = d.dr7;
    return 0;
}

/* In-kernel irqchip only: HLT and wait-for-SIPI are KVM's MP states. */
static int kvm_put_mp_state(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    struct kvm_mp_state mp;

    if (env->wait_sipi) {
        /* Keep INIT_RECEIVED if the pulled state had it; after reset an AP is UNINITIALIZED. */
        mp.mp_state = xs->mp_state == KVM_MP_STATE_INIT_RECEIVED ? KVM_MP_STATE_INIT_RECEIVED
                                                                 : KVM_MP_STATE_UNINITIALIZED;
    } else {
        mp.mp_state = env->halted ? KVM_MP_STATE_HALTED : KVM_MP_STATE_RUNNABLE;
    }
    xs->mp_state = mp.mp_state;
    return kvm_vcpu_ioctl(cs, KVM_SET_MP_STATE, &mp);
}

static int kvm_get_mp_state(CPUState *cs, CPUX86State *env, X86KvmVcpu *xs)
{
    struct kvm_mp_state mp;
    int r = kvm_vcpu_ioctl(cs, KVM_GET_MP_STATE, &mp);

    if (r < 0) {
        return r;
    }
    xs->mp_state = mp.mp_state;
    if (kvm_irqchip_in_kernel()) {
        env->halted = mp.mp_state == KVM_MP_STATE_HALTED;
        env->wait_sipi = mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
                         mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
    } else {
        env->halted = cs->halted;
    }
    return 0;
}

/*
 * Local APIC registers after RESET (SDM vol. 3A, 10.4.7.1): zero except the ID, the
 * destination format (all ones), the spurious-vector register (0xff, APIC software-
 * disabled) and the LVT entries (masked).  The version register is KVM's own.  As in
 * QEMU and KVM, the BSP's LINT0 is left in ExtINT mode, unmasked, as PC firmware sets it,
 * so that the 8259's interrupts reach the BSP once the guest enables its APIC.
 */
static void kvm_lapic_reset_regs(struct kvm_lapic_state *l, uint32_t apic_id, bool bsp)
{
    static const unsigned lvt[] = { 0x2f0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370 };
    uint32_t version = ldl_le_p(l->regs + 0x30);

    memset(l->regs, 0, sizeof(l->regs));
    stl_le_p(l->regs + 0x20, apic_id << 24);
    stl_le_p(l->regs + 0x30, version);
    stl_le_p(l->regs + 0xe0, 0xffffffff);
    stl_le_p(l->regs + 0xf0, 0xff);
    for (size_t i = 0; i < ARRAY_SIZE(lvt); i++) {
        stl_le_p(l->regs + lvt[i], 1u << 16);
    }
    if (bsp) {
        stl_le_p(l->regs + 0x350, 7u << 8);        /* LVT LINT0: ExtINT */
    }
}

int kvm_x86_lapic_reset_state(X86Vcpu *cpu)
{
    X86KvmVcpu *xs = x86_kvm_vcpu(CPU(cpu));
    int r = kvm_vcpu_ioctl(CPU(cpu), KVM_GET_LAPIC, &xs->lapic);   /* for the version */

    if (r < 0) {
        return r;
    }
    kvm_lapic_reset_regs(&xs->lapic, cpu->apic_id, cpu->bsp);
    xs->lapic_valid = true;
    return 0;
}

/* ------------------------------------------------------------ the whole state */

void kvm_x86_reset_vcpu_state(X86Vcpu *cpu)
{
    X86KvmVcpu *xs = x86_kvm_vcpu(CPU(cpu));
    X86KvmState *ks = x86_kvm_state();

    memset(&xs->events, 0, sizeof(xs->events));
    xs->xcr0 = 1;                    /* x87 only (SDM vol. 1, 13.3) */
    if (xs->xsave) {
        /* Every XSAVE component in its initial configuration. */
        memset(xs->xsave, 0, ks->xsave_size);
        xs->xsave_valid = false;
    }
    xs->tsc = 0;                     /* SDM vol. 3B, 17.17: the TSC is zeroed on RESET */
    xs->apic_base = APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_EN |
                    (cpu->bsp ? MSR_IA32_APICBASE_BSP : 0);
    if (!kvm_irqchip_in_kernel() && cpu->apic) {
        xs->apic_base = apic_get_base(cpu->apic);   /* the userspace APIC's own value */
    }
    xs->mp_state = KVM_MP_STATE_RUNNABLE;
}

int kvm_x86_get_registers(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    X86KvmVcpu *xs = x86_kvm_vcpu(cs);
    int r;

    if ((r = kvm_get_regs(cs, env)) < 0 || (r = kvm_get_fpu(cs, env, xs)) < 0 ||
        (r = kvm_get_xcrs(cs, xs)) < 0 || (r = kvm_get_sregs(cs, env, xs)) < 0 ||
        (r = kvm_get_msrs(cs, env, xs)) < 0 || (r = kvm_get_events(cs, env, xs)) < 0 ||
        (r = kvm_get_mp_state(cs, env, xs)) < 0 || (r = kvm_get_debugregs(cs, env)) < 0) {
        return r;
    }
    if (kvm_irqchip_in_kernel()) {
        r = kvm_vcpu_ioctl(cs, KVM_GET_LAPIC, &xs->lapic);
        if (r < 0) {
            return r;
        }
        xs->lapic_valid = true;
    }
    x86_cpu_sync_state(cpu->interp);
    return 0;
}

int kvm_x86_put_registers(CPUState *cs, int level)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    X86KvmVcpu *xs = x86_kvm_vcpu(cs);
    int r;

    if (level == KVM_PUT_RESET_STATE) {
        kvm_x86_reset_vcpu_state(cpu);
    }
    /* SREGS before MSRs (EFER decides which MSRs make sense), events after both. */
    if ((r = kvm_put_regs(cs, env)) < 0 || (r = kvm_put_xcrs(cs, xs)) < 0 ||
        (r = kvm_put_fpu(cs, env, xs)) < 0 || (r = kvm_put_sregs(cs, env, xs)) < 0 ||
        (r = kvm_put_msrs(cs, env, xs, level)) < 0) {
        return r;
    }
    if (level >= KVM_PUT_RESET_STATE && kvm_irqchip_in_kernel()) {
        if ((level == KVM_PUT_RESET_STATE || !xs->lapic_valid) &&
            (r = kvm_x86_lapic_reset_state(cpu)) < 0) {
            return r;
        }
        if ((r = kvm_vcpu_ioctl(cs, KVM_SET_LAPIC, &xs->lapic)) < 0 ||
            (r = kvm_put_mp_state(cs, env, xs)) < 0) {
            return r;
        }
    }
    if ((r = kvm_put_events(cs, env, xs)) < 0) {
        return r;
    }
    return kvm_put_debugregs(cs, env);
}
