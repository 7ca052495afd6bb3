/*
 * The KVM accelerator: the few entry points other parts of Kite may call.
 *
 * Boards and devices normally reach KVM only through the AccelClass ops (accel/accel.h):
 * GSI lines come from irqchip_create.  PCI MSI and virtio (later) need routes and irqfds,
 * which are here.  Every function works without KVM too (accel/kvm/kvm-stub.c): queries
 * answer false and actions fail with -ENOSYS.
 *
 * Threading: call with the BQL held.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/main-loop.h"
#include "hw/core/cpu.h"

#define TYPE_KVM_ACCEL "kvm-accel"

/* True once the KVM accelerator's init_machine succeeded. */
bool kvm_enabled(void);
/* True if interrupt controllers (PIC, IOAPIC, LAPIC, PIT) live in the kernel. */
bool kvm_irqchip_in_kernel(void);
/* KVM_CHECK_EXTENSION on the VM; 0 when absent. */
int kvm_check_extension(int cap);

/* Raw ioctls on the VM / a vCPU (vCPU ioctls: from its thread or while it is paused). */
int kvm_vm_ioctl(unsigned long type, ...);
int kvm_vcpu_ioctl(CPUState *cpu, unsigned long type, ...);

/* Drive GSI gsi to level (KVM_IRQ_LINE_STATUS); in-kernel irqchip only. */
int kvm_set_irq(int gsi, int level);

/*
 * MSI routes for PCI MSI/MSI-X (virq = a GSI above the board's lines).  Changes become
 * visible after kvm_irqchip_commit_routes().
 */
int kvm_irqchip_add_msi_route(uint64_t addr, uint32_t data, Error **errp);
int kvm_irqchip_update_msi_route(int virq, uint64_t addr, uint32_t data);
void kvm_irqchip_release_virq(int virq);
int kvm_irqchip_commit_routes(void);
/* Deliver one MSI now (KVM_SIGNAL_MSI). */
int kvm_irqchip_send_msi(uint64_t addr, uint32_t data);
/*
 * irqfd: writing e raises virq in the kernel without a trip through Kite.  resample (may
 * be NULL) is signalled when the guest EOIs a level-triggered virq (KVM_IRQFD_FLAG_RESAMPLE).
 */
int kvm_irqchip_add_irqfd(EventNotifier *e, EventNotifier *resample, int virq);
int kvm_irqchip_remove_irqfd(EventNotifier *e, int virq);

/*
 * The in-kernel 8254 (in-kernel irqchip): channel 2's gate and OUT, for a port 0x61 device
 * in userspace.  (KVM's own port 0x61 stub is in use: see kvm_arch_irqchip_create.)
 */
int kvm_pit_set_gate(int channel, bool gate);
int kvm_pit_get_out(int channel, bool *out);

/* Number of KVM_RUN exits of a vCPU, by KVM_EXIT_* reason (tests, benchmarks). */
uint64_t kvm_vcpu_exit_count(CPUState *cpu, unsigned reason);
/* Nanoseconds the vCPU thread spent handling exits between KVM_RUN calls. */
uint64_t kvm_vcpu_exit_handling_ns(CPUState *cpu);

#endif
