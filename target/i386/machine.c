/*
 * The x86 vCPU's guest-visible state for save/restore and migration.
 *
 * What is saved is architectural (SDM vol. 3A: registers, descriptor-table and control
 * registers, MSRs, x87/SSE state, the interrupt shadow and NMI blocking), never the
 * interpreter's private encodings: EFLAGS goes out whole (the interpreter keeps its
 * arithmetic flags lazily), hflags and segment caches are recomputed after loading.  Under
 * KVM the registers are pulled from the kernel before saving and pushed back after loading.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "target/i386/machine.h"
#include "accel/accel.h"
#include "kite/vmstate.h"

static const VMStateDescription vmstate_x86_segment = {
    .name = "x86-segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, X86Segment),
        VMSTATE_UINT32(limit, X86Segment),
        VMSTATE_UINT16(selector, X86Segment),
        VMSTATE_UINT16(attr, X86Segment),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_x86_dtable = {
    .name = "x86-dtable",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, X86DescTable),
        VMSTATE_UINT16(limit, X86DescTable),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_x86_env = {
    .name = "x86-env",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64_ARRAY(regs, CPUX86State, 16),
        VMSTATE_UINT64(rip, CPUX86State),
        VMSTATE_STRUCT_ARRAY(segs, CPUX86State, 6, vmstate_x86_segment, X86Segment),
        VMSTATE_STRUCT(ldt, CPUX86State, vmstate_x86_segment, X86Segment),
        VMSTATE_STRUCT(tr, CPUX86State, vmstate_x86_segment, X86Segment),
        VMSTATE_STRUCT(gdt, CPUX86State, vmstate_x86_dtable, X86DescTable),
        VMSTATE_STRUCT(idt, CPUX86State, vmstate_x86_dtable, X86DescTable),
        VMSTATE_UINT64_ARRAY(cr, CPUX86State, 5),
        VMSTATE_UINT64(efer, CPUX86State),
        VMSTATE_UINT64_ARRAY(dr, CPUX86State, 8),
        VMSTATE_UINT8(tpr, CPUX86State),
        VMSTATE_UINT64(star, CPUX86State),
        VMSTATE_UINT64(lstar, CPUX86State),
        VMSTATE_UINT64(cstar, CPUX86State),
        VMSTATE_UINT64(fmask, CPUX86State),
        VMSTATE_UINT64(kernel_gs_base, CPUX86State),
        VMSTATE_UINT64(sysenter_cs, CPUX86State),
        VMSTATE_UINT64(sysenter_esp, CPUX86State),
        VMSTATE_UINT64(sysenter_eip, CPUX86State),
        VMSTATE_UINT64(pat, CPUX86State),
        VMSTATE_INT64(tsc_offset, CPUX86State),
        VMSTATE_UINT64(tsc_aux, CPUX86State),
        VMSTATE_UINT64(misc_enable, CPUX86State),
        VMSTATE_UINT64(hwcr, CPUX86State),
        VMSTATE_UINT64(syscfg, CPUX86State),
        VMSTATE_UINT64(mtrr_deftype, CPUX86State),
        VMSTATE_UINT64_ARRAY(mtrr_fixed, CPUX86State, 11),
        VMSTATE_BUFFER(mtrr_var, CPUX86State),
        VMSTATE_BUFFER(fpregs, CPUX86State),
        VMSTATE_UINT16(fpuc, CPUX86State),
        VMSTATE_UINT16(fpus, CPUX86State),
        VMSTATE_UINT8(fpstt, CPUX86State),
        VMSTATE_UINT8(fptag_valid, CPUX86State),
        VMSTATE_UINT16(fpop, CPUX86State),
        VMSTATE_UINT64(fpip, CPUX86State),
        VMSTATE_UINT64(fpdp, CPUX86State),
        VMSTATE_UINT16(fpcs, CPUX86State),
        VMSTATE_UINT16(fpds, CPUX86State),
        VMSTATE_BUFFER(xmm, CPUX86State),
        VMSTATE_UINT32(mxcsr, CPUX86State),
        VMSTATE_BOOL(halted, CPUX86State),
        VMSTATE_BOOL(wait_sipi, CPUX86State),
        VMSTATE_BOOL(int_shadow, CPUX86State),
        VMSTATE_BOOL(nmi_blocked, CPUX86State),
        VMSTATE_BOOL(a20_masked, CPUX86State),
        VMSTATE_UINT8(sipi_vector, CPUX86State),
        VMSTATE_END_OF_LIST()
    },
};

static int x86_vcpu_pre_save(void *opaque)
{
    X86Vcpu *cpu = opaque;
    AccelState *accel = current_accel();

    if (!cpu->env) {
        return -1;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(CPU(cpu));
    }
    cpu->saved_eflags = x86_cpu_get_eflags(cpu->env);
    return 0;
}

static int x86_vcpu_post_load(void *opaque, int version_id)
{
    X86Vcpu *cpu = opaque;
    AccelState *accel = current_accel();

    x86_cpu_set_eflags(cpu->env, cpu->saved_eflags);
    /* Derived state: hflags, segment caches, and translations made for the old state. */
    x86_cpu_sync_state(cpu->interp);
    x86_cpu_tlb_flush_all(cpu->interp);
    CPU(cpu)->halted = cpu->env->halted || cpu->env->wait_sipi;
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_post_init) {
        ACCEL_GET_CLASS(accel)->synchronize_post_init(CPU(cpu));
    }
    return 0;
}

/* Machine-check MSRs (tcg-glue.c): sent when they differ from their power-on values. */
static bool x86_vcpu_mca_needed(void *opaque)
{
    X86Vcpu *cpu = opaque;

    if (cpu->mcg_status || cpu->mcg_ctl != ~0ULL) {
        return true;
    }
    for (int i = 0; i < 4 * X86_MCE_BANKS; i++) {
        if (cpu->mce_banks[i] != (i % 4 ? 0 : ~0ULL)) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription vmstate_x86_vcpu_mca = {
    .name = "x86-cpu/mca",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = x86_vcpu_mca_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(mcg_status, X86Vcpu),
        VMSTATE_UINT64(mcg_ctl, X86Vcpu),
        VMSTATE_UINT64_ARRAY(mce_banks, X86Vcpu, 4 * X86_MCE_BANKS),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_x86_vcpu = {
    .name = "x86-cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = x86_vcpu_pre_save,
    .post_load = x86_vcpu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(env, X86Vcpu, vmstate_x86_env, CPUX86State),
        VMSTATE_UINT32(saved_eflags, X86Vcpu),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) { &vmstate_x86_vcpu_mca, NULL },
};
