/*
 * The x86 machine glue shared by the board and the accelerators.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_X86_GLUE_H
#define TARGET_I386_X86_GLUE_H

#include "target/i386/vcpu.h"

/* The interpreter's machine callbacks and the interpreter accelerator's hooks. */
extern const X86MachineOps x86_glue_machine_ops;
extern const TCGCPUOps x86_tcg_ops;
/* Board hooks: the vCPU's APIC factory, the 8259 INTA cycle, a per-reset hook. */
extern DeviceState *(*x86_vcpu_create_apic)(X86Vcpu *cpu, Error **errp);
extern int (*x86_pic_read_irq)(void);
extern void (*x86_vcpu_reset_hook)(X86Vcpu *cpu);

/* The INTA cycle as the CPU does it: the local APIC first, then the 8259 through LINT0. */
int x86_vcpu_ack_interrupt(X86Vcpu *cpu);
/* TSC (1 GHz from the virtual clock plus the CPU's offset). */
uint64_t x86_vcpu_tsc_now(void *opaque);

#endif
