/*
 * Accelerators: how guest code runs (KVM, the interpreter "tcg", or no CPU at all for
 * qtest).  An accelerator is a small ops interface; the machine and devices never include
 * an accelerator's own headers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ACCEL_ACCEL_H
#define ACCEL_ACCEL_H

#include "kite/object.h"
#include "hw/core/cpu.h"
#include "hw/irq.h"

#define TYPE_ACCEL "accel"
#define ACCEL_CLASS_SUFFIX "-accel"

typedef struct MachineState MachineState;

typedef struct AccelState {
    Object parent_obj;
} AccelState;

typedef struct AccelClass {
    ObjectClass parent_class;
    const char *name;                          /* "kvm", "tcg", "qtest" */
    /* Can this host use it?  False with a one-line reason. */
    bool (*available)(Error **errp);
    /* Before the board is built: open devices, create the VM, register memory listeners. */
    bool (*init_machine)(AccelState *accel, MachineState *ms, Error **errp);
    /* Create the vCPU's accelerator state and (if needed) its thread. */
    bool (*create_vcpu)(AccelState *accel, CPUState *cpu, Error **errp);
    void (*destroy_vcpu)(CPUState *cpu);
    /* Get a vCPU out of guest execution or HLT wait (from any thread). */
    void (*kick_vcpu)(CPUState *cpu);
    /* Registers: pull from the accelerator before reading them... */
    void (*synchronize_state)(CPUState *cpu);
    /* ...and push after the board changed them (reset, loader, loadvm). */
    void (*synchronize_post_reset)(CPUState *cpu);
    void (*synchronize_post_init)(CPUState *cpu);
    /* True if interrupt controllers live in the accelerator (KVM in-kernel irqchip). */
    bool (*irqchip_in_kernel)(AccelState *accel);
    /*
     * With irqchip_in_kernel: route the board's num_gsi GSIs (PC: 24; GSI 0-15 reach the
     * PIC too, ISA IRQ 0 is IOAPIC pin 2 as in the MADT override) and return num_gsi input
     * lines in *gsi_lines; setting line n's level drives GSI n inside the accelerator.  (KVM:
     * the 8254 PIT and port 0x61 are in the kernel too, so the board creates neither.)
     */
    bool (*irqchip_create)(AccelState *accel, int num_gsi, IRQState ***gsi_lines,
                           Error **errp);
    /*
     * With irqchip_in_kernel: an HPET's LegacyReplacement mode went on or off, so the
     * accelerator's own 8254 stops or resumes interrupting (KVM_PIT_FLAGS_HPET_LEGACY).
     */
    void (*pit_hpet_legacy)(AccelState *accel, bool on);
    /* Breakpoints or cpu->singlestep_enabled changed (VM stopped, BQL held). */
    void (*update_guest_debug)(CPUState *cpu);
    /* Start/stop vCPU threads running (after vm_start/vm_stop). */
    void (*start_vcpus)(AccelState *accel);
} AccelClass;

AccelClass *ACCEL_GET_CLASS(const void *obj);
AccelClass *accel_find(const char *name);      /* by short name */
/* The accelerator in use (NULL before configure). */
AccelState *current_accel(void);
const char *current_accel_name(void);
void accel_set_current(AccelState *accel);
bool accel_irqchip_in_kernel(void);
/* AccelClass.pit_hpet_legacy of the current accelerator, if it has one. */
void accel_pit_hpet_legacy(bool on);

#endif
