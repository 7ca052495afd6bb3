/*
 * include/accel/kvm.h on hosts built without KVM: nothing is in the kernel.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/kvm.h"

bool kvm_enabled(void)
{
    return false;
}

bool kvm_irqchip_in_kernel(void)
{
    return false;
}

int kvm_check_extension(int cap)
{
    return 0;
}

int kvm_vm_ioctl(unsigned long type, ...)
{
    return -ENOSYS;
}

int kvm_vcpu_ioctl(CPUState *cpu, unsigned long type, ...)
{
    return -ENOSYS;
}

int kvm_set_irq(int gsi, int level)
{
    return -ENOSYS;
}

int kvm_irqchip_add_msi_route(uint64_t addr, uint32_t data, Error **errp)
{
    error_setg(errp, "KVM is not available in this build");
    return -ENOSYS;
}

int kvm_irqchip_update_msi_route(int virq, uint64_t addr, uint32_t data)
{
    return -ENOSYS;
}

void kvm_irqchip_release_virq(int virq)
{
}

int kvm_irqchip_commit_routes(void)
{
    return -ENOSYS;
}

int kvm_irqchip_send_msi(uint64_t addr, uint32_t data)
{
    return -ENOSYS;
}

int kvm_irqchip_add_irqfd(EventNotifier *e, EventNotifier *resample, int virq)
{
    return -ENOSYS;
}

int kvm_irqchip_remove_irqfd(EventNotifier *e, int virq)
{
    return -ENOSYS;
}

int kvm_pit_set_gate(int channel, bool gate)
{
    return -ENOSYS;
}

int kvm_pit_get_out(int channel, bool *out)
{
    return -ENOSYS;
}

uint64_t kvm_vcpu_exit_count(CPUState *cpu, unsigned reason)
{
    return 0;
}

uint64_t kvm_vcpu_exit_handling_ns(CPUState *cpu)
{
    return 0;
}
