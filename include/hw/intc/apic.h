/*
 * The local APIC in userspace ("apic"): one per vCPU, xAPIC mode, used by the interpreter and
 * by KVM with kernel-irqchip=off.  Every function here must be called with the BQL held.
 *
 * Signalling to the vCPU: the APIC keeps CPU_INTERRUPT_HARD set exactly while it has an
 * interrupt to deliver - a fixed vector above the processor priority, or the 8259's INTR
 * through LINT0 in ExtINT mode (or with the APIC hardware-disabled).  It raises
 * CPU_INTERRUPT_NMI, _SMI, _INIT and _SIPI for those messages; the CPU glue clears them.
 *
 * CPU glue, interrupt acknowledge (IF=1, HARD set):
 *     vector = apic_get_interrupt(apic);
 *     if (vector < 0 && apic_accept_pic_intr(apic)) vector = pic_read_irq(isa_pic);
 *     if (vector >= 0) deliver it;
 * INIT: apic_init_reset(apic), then the CPU's INIT state; an AP waits for SIPI.
 * SIPI: v = apic_get_sipi_vector(apic); if v >= 0, start at CS = v << 8, IP = 0.
 * MSRs: 0x1b -> apic_get_base/apic_set_base (false: #GP); 0x6e0 -> apic_get/set_tsc_deadline;
 * CR8 -> apic_get_tpr/apic_set_tpr.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_INTC_APIC_H
#define HW_INTC_APIC_H

#include "hw/qdev.h"
#include "hw/core/cpu.h"
#include "kite/memory.h"

#define TYPE_APIC "apic"

#define APIC_DEFAULT_ADDRESS    0xfee00000
#define APIC_SPACE_SIZE         0x1000
#define MSR_IA32_APICBASE       0x1b
#define MSR_IA32_TSCDEADLINE    0x6e0
#define MSR_IA32_APICBASE_BSP   (1ULL << 8)
#define MSR_IA32_APICBASE_EXTD  (1ULL << 10)
#define MSR_IA32_APICBASE_EN    (1ULL << 11)

/* Delivery modes (SDM vol. 3A, 10.6.1, Figure 10-12). */
#define APIC_DM_FIXED       0
#define APIC_DM_LOWPRI      1
#define APIC_DM_SMI         2
#define APIC_DM_NMI         4
#define APIC_DM_INIT        5
#define APIC_DM_STARTUP     6
#define APIC_DM_EXTINT      7

/*
 * Create the APIC of cpu with APIC ID apic_id, as the QOM child "lapic" of the CPU (freed
 * with it), and realize it.  bsp sets the BSP flag of IA32_APIC_BASE at reset.
 */
DeviceState *apic_new(CPUState *cpu, uint32_t apic_id, bool bsp);

/*
 * The xAPIC register page, shared by all APICs: accesses go to current_cpu's APIC (CPU 0's
 * when current_cpu is NULL).  The board maps it at APIC_DEFAULT_ADDRESS.
 */
MemoryRegion *apic_mmio_region(void);

/* INTA: the highest fixed vector above PPR moves from IRR to ISR; -1 if none (or if the
 * 8259 is to be acknowledged first). */
int apic_get_interrupt(DeviceState *apic);
/* The 8259's INTR reaches the CPU: LINT0 unmasked in ExtINT mode, or the APIC disabled. */
bool apic_accept_pic_intr(DeviceState *apic);
/* The 8259's INT output changed (LINT0 input). */
void apic_deliver_pic_intr(DeviceState *apic, int level);
/* Something HLT should wake up for (the same condition as CPU_INTERRUPT_HARD). */
bool apic_has_pending(DeviceState *apic);

uint64_t apic_get_base(DeviceState *apic);
/* WRMSR IA32_APIC_BASE; false if the value is invalid (reserved bits, x2APIC): #GP. */
bool apic_set_base(DeviceState *apic, uint64_t val);
/* CR8 is TPR[7:4] (SDM vol. 3A, 10.8.6.1). */
uint8_t apic_get_tpr(DeviceState *apic);
void apic_set_tpr(DeviceState *apic, uint8_t cr8);

/*
 * TSC-deadline timer (SDM vol. 3A, 10.5.4.1).  The APIC reads the guest TSC through a hook;
 * without one (the default) TSC = virtual clock nanoseconds, a 1 GHz TSC.  tsc_khz converts
 * TSC differences to virtual time for arming the timer.
 */
typedef uint64_t ApicTscFn(void *opaque);
void apic_set_tsc_clock(DeviceState *apic, ApicTscFn *tsc_now, void *opaque, uint64_t tsc_khz);
uint64_t apic_get_tsc_deadline(DeviceState *apic);
void apic_set_tsc_deadline(DeviceState *apic, uint64_t deadline);

/* INIT (SDM vol. 3A, 10.4.7.3): registers to their INIT values, ID and base kept; an AP
 * then waits for a SIPI. */
void apic_init_reset(DeviceState *apic);
/* The vector of a SIPI received while waiting for one (ends the wait), or -1. */
int apic_get_sipi_vector(DeviceState *apic);

/* Deliver an interrupt message on the APIC bus (IOAPIC redirection entries, MSIs). */
void apic_deliver_irq(uint8_t dest, bool dest_logical, uint8_t delivery_mode, uint8_t vector,
                      bool level_trigger);
/* A message-signalled interrupt: address 0xfeeXXXXX, data (SDM vol. 3A, 10.11). */
void apic_deliver_msi(uint64_t addr, uint32_t data);

#endif
