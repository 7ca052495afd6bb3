/*
 * The x86 vCPU device (QOM type "x86_64-cpu" and its models), shared by every accelerator.
 *
 * The architectural state always lives in the interpreter's CPUX86State (target/i386/cpu.h):
 * the interpreter runs on it directly, and the KVM glue copies it to and from the kernel
 * (synchronize_state / synchronize_post_reset).  The local APIC is a separate device
 * ("apic" in userspace, or KVM's in-kernel one) owned by the vCPU.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_VCPU_H
#define TARGET_I386_VCPU_H

#include "hw/core/cpu.h"
#include "target/i386/cpu.h"

#define TYPE_X86_VCPU "x86_64-cpu"
#define X86_VCPU_TYPE_SUFFIX "-" TYPE_X86_VCPU
#define X86_VCPU_TYPE_NAME(model) model X86_VCPU_TYPE_SUFFIX

typedef struct X86CpuidEntry {
    uint32_t function, index;
    uint32_t eax, ebx, ecx, edx;
} X86CpuidEntry;

#define X86_MCE_BANKS 10

typedef struct X86Vcpu {
    CPUState parent_obj;
    X86CPU *interp;             /* interpreter instance; owns env */
    CPUX86State *env;           /* == x86_cpu_env(interp) */
    DeviceState *apic;          /* local APIC device */
    uint32_t apic_id;           /* property "apic-id" */
    uint32_t nr_cores;          /* property "nr-cores": cores a package (dies x cores) */
    uint32_t nr_threads;        /* property "nr-threads": threads a core */
    bool bsp;
    /* CPUID the guest sees, built at realize by the accelerator's policy. */
    GArray *cpuid;              /* of X86CpuidEntry */
    uint64_t tsc_khz;
    uint32_t saved_eflags;      /* vmstate: the whole EFLAGS, computed at save time */
    /* Machine-check MSRs under the interpreter (tcg-glue.c); kept across resets. */
    uint64_t mcg_status, mcg_ctl;
    uint64_t mce_banks[4 * X86_MCE_BANKS];      /* MCi_CTL, _STATUS, _ADDR, _MISC */
} X86Vcpu;

typedef struct X86VcpuClass {
    CPUClass parent_class;
    const char *model_name;     /* "qemu64", "host", "max" */
    const void *model;          /* model definition (target/i386/cpu-models.c) */
} X86VcpuClass;

X86Vcpu *X86_VCPU(const void *obj);
X86VcpuClass *X86_VCPU_GET_CLASS(const void *obj);

/* Look up a CPUID entry the guest sees (NULL if absent). */
const X86CpuidEntry *x86_vcpu_cpuid(X86Vcpu *cpu, uint32_t function, uint32_t index);
/* The default CPU type of the pc machine. */
#define X86_VCPU_DEFAULT_MODEL "qemu64"

#endif
