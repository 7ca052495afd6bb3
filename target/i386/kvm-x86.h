/*
 * x86 KVM glue shared by target/i386/kvm.c (VM, vCPU run hooks, in-kernel PIC/IOAPIC/PIT),
 * kvm-state.c (register transfer) and kvm-cpuid.c (the CPUID the guest sees).
 *
 * Architectural state lives in the interpreter's CPUX86State.  What it has no field for
 * - pending event injection, XCR0, the XSAVE image beyond x87/SSE, the in-kernel LAPIC,
 * the TSC value and the APIC base - is kept here per vCPU, so it survives a pull/push.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_KVM_X86_H
#define TARGET_I386_KVM_X86_H

#include "accel/kvm/kvm-internal.h"
#include "target/i386/vcpu.h"
#include "hw/intc/apic.h"          /* IA32_APIC_BASE bits */

/* MSR numbers (SDM vol. 4, table 2-2; APM vol. 2, appendix A); APIC base in apic.h. */
#define MSR_IA32_TSC              0x10
#define MSR_MTRR_PHYSBASE0        0x200
#define MSR_MTRR_FIX64K_00000     0x250
#define MSR_MTRR_FIX16K_80000     0x258
#define MSR_MTRR_FIX16K_A0000     0x259
#define MSR_MTRR_FIX4K_C0000      0x268
#define MSR_MTRR_DEF_TYPE         0x2ff
#define MSR_IA32_SYSENTER_CS      0x174
#define MSR_IA32_SYSENTER_ESP     0x175
#define MSR_IA32_SYSENTER_EIP     0x176
#define MSR_IA32_MISC_ENABLE      0x1a0
#define MSR_IA32_PAT              0x277
#define MSR_IA32_TSC_DEADLINE     0x6e0
#define MSR_STAR                  0xc0000081
#define MSR_LSTAR                 0xc0000082
#define MSR_CSTAR                 0xc0000083
#define MSR_FMASK                 0xc0000084
#define MSR_KERNEL_GS_BASE        0xc0000102
#define MSR_TSC_AUX               0xc0000103

/* Where KVM puts the real-mode TSS and EPT identity map on VMX (3 + 1 pages, as QEMU). */
#define KVM_X86_IDENTITY_MAP_ADDR 0xfeffc000u
#define KVM_X86_TSS_ADDR          0xfeffd000u

/* Per-VM x86 state (KVMState.arch). */
typedef struct X86KvmState {
    struct kvm_cpuid2 *supported;     /* KVM_GET_SUPPORTED_CPUID */
    uint32_t *msrs;                   /* KVM_GET_MSR_INDEX_LIST */
    unsigned nmsrs;
    SMPConfig smp;
    size_t xsave_size;                /* 0: no XSAVE, use KVM_GET/SET_FPU */
    bool has_xcrs, has_debugregs;
    /* In-kernel chips as KVM created them: what a system reset restores. */
    struct kvm_irqchip pic_reset[2], ioapic_reset;
    struct kvm_pit_state2 pit_reset;
    bool has_pit;
} X86KvmState;

/* Per-vCPU x86 state (KVMVcpu.arch). */
typedef struct X86KvmVcpu {
    struct kvm_vcpu_events events;    /* pending exception/interrupt/NMI, last pulled */
    uint64_t xcr0;
    uint8_t *xsave;                   /* XSAVE image (xsave_size bytes) */
    bool xsave_valid;                 /* xsave holds a pulled image */
    struct kvm_lapic_state lapic;     /* in-kernel LAPIC registers, last pulled */
    bool lapic_valid;
    uint64_t apic_base;
    uint64_t tsc;
    uint32_t mp_state;
    bool has_mtrr;                    /* CPUID.1:EDX.MTRR */
    bool has_lm;                      /* CPUID.80000001h:EDX.LM: 64-bit MSRs */
} X86KvmVcpu;

static inline X86KvmState *x86_kvm_state(void)
{
    return kvm_state->arch;
}

static inline X86KvmVcpu *x86_kvm_vcpu(CPUState *cs)
{
    return kvm_vcpu(cs)->arch;
}

bool kvm_x86_has_msr(uint32_t index);

/* kvm-cpuid.c: fill cpu->cpuid for the model and hand it to KVM_SET_CPUID2. */
bool kvm_x86_setup_cpuid(X86Vcpu *cpu, Error **errp);

/* kvm-state.c */
int kvm_x86_get_registers(CPUState *cs);
int kvm_x86_put_registers(CPUState *cs, int level);
/* The power-on state of the parts env does not hold (events, XCR0, TSC, APIC base...). */
void kvm_x86_reset_vcpu_state(X86Vcpu *cpu);
/* In-kernel LAPIC registers to their RESET/INIT values in X86KvmVcpu.lapic (not pushed). */
int kvm_x86_lapic_reset_state(X86Vcpu *cpu);

#endif
