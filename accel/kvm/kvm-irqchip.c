/*
 * KVM in-kernel interrupt routing: GSI lines, MSI routes and irqfds.
 *
 * With the in-kernel irqchip a GSI is whatever the routing table says (api.rst 4.52,
 * KVM_SET_GSI_ROUTING): one GSI may feed several chip pins (on the PC, ISA IRQs reach both
 * the 8259 and the IOAPIC), and GSIs above the board's lines carry MSI messages for PCI
 * devices.  The architecture adds the board's pin routes (target/i386/kvm.c); this file
 * keeps the table, allocates MSI GSIs, and raises lines with KVM_IRQ_LINE.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/kvm/kvm-internal.h"

static bool gsi_test(KVMState *s, unsigned gsi)
{
    return s->used_gsi[gsi / BITS_PER_LONG] & (1UL << (gsi % BITS_PER_LONG));
}

static void gsi_set(KVMState *s, unsigned gsi, bool used)
{
    if (used) {
        s->used_gsi[gsi / BITS_PER_LONG] |= 1UL << (gsi % BITS_PER_LONG);
    } else {
        s->used_gsi[gsi / BITS_PER_LONG] &= ~(1UL << (gsi % BITS_PER_LONG));
    }
}

void kvm_irqchip_routes_init(KVMState *s)
{
    s->gsi_count = kvm_check_extension(KVM_CAP_IRQ_ROUTING);
    s->used_gsi = g_new0(unsigned long, BITS_TO_LONGS(MAX(s->gsi_count, 1u)));
    s->routes = g_malloc0(sizeof(*s->routes));
    s->nr_routes_alloc = 0;
}

static void kvm_add_routing_entry(KVMState *s, const struct kvm_irq_routing_entry *e)
{
    if (s->routes->nr == s->nr_routes_alloc) {
        s->nr_routes_alloc = MAX(64u, s->nr_routes_alloc * 2);
        s->routes = g_realloc(s->routes, sizeof(*s->routes) +
                              s->nr_routes_alloc * sizeof(struct kvm_irq_routing_entry));
    }
    s->routes->entries[s->routes->nr++] = *e;
    gsi_set(s, e->gsi, true);
}

void kvm_irqchip_add_irq_route(KVMState *s, unsigned gsi, unsigned chip, unsigned pin)
{
    struct kvm_irq_routing_entry e = {
        .gsi = gsi,
        .type = KVM_IRQ_ROUTING_IRQCHIP,
        .u.irqchip = { .irqchip = chip, .pin = pin },
    };

    g_assert(gsi < s->gsi_count);
    kvm_add_routing_entry(s, &e);
}

int kvm_irqchip_commit_routes_state(KVMState *s)
{
    s->routes->flags = 0;
    return kvm_vm_ioctl(KVM_SET_GSI_ROUTING, s->routes);
}

int kvm_irqchip_commit_routes(void)
{
    if (!kvm_irqchip_in_kernel()) {
        return -ENOSYS;
    }
    return kvm_irqchip_commit_routes_state(kvm_state);
}

int kvm_set_irq(int gsi, int level)
{
    struct kvm_irq_level irq = { .irq = gsi, .level = level };

    if (!kvm_irqchip_in_kernel()) {
        return -ENOSYS;
    }
    return kvm_vm_ioctl(KVM_IRQ_LINE, &irq);
}

static void kvm_gsi_line_handler(void *opaque, int n, int level)
{
    int r = kvm_set_irq(n, level);

    if (r < 0) {
        error_report("KVM: setting GSI %d to %d failed: %s", n, level, g_strerror(-r));
    }
}

IRQState **kvm_irqchip_gsi_lines(KVMState *s, int num_gsi)
{
    s->gsi_lines = irq_new_array(kvm_gsi_line_handler, s, num_gsi);
    s->num_gsi = num_gsi;
    return s->gsi_lines;
}

/* ------------------------------------------------------------ MSI */

static void kvm_msi_entry(struct kvm_irq_routing_entry *e, unsigned gsi, uint64_t addr,
                          uint32_t data)
{
    memset(e, 0, sizeof(*e));
    e->gsi = gsi;
    e->type = KVM_IRQ_ROUTING_MSI;
    e->u.msi.address_lo = (uint32_t)addr;
    e->u.msi.address_hi = addr >> 32;
    e->u.msi.data = data;
}

int kvm_irqchip_add_msi_route(uint64_t addr, uint32_t data, Error **errp)
{
    KVMState *s = kvm_state;
    struct kvm_irq_routing_entry e;

    if (!kvm_irqchip_in_kernel()) {
        error_setg(errp, "KVM: MSI routes need the in-kernel irqchip");
        return -ENOSYS;
    }
    /* The board's lines come first; MSI GSIs are the free ones above them. */
    for (unsigned gsi = s->num_gsi; gsi < s->gsi_count; gsi++) {
        if (!gsi_test(s, gsi)) {
            kvm_msi_entry(&e, gsi, addr, data);
            kvm_add_routing_entry(s, &e);
            return gsi;
        }
    }
    error_setg(errp, "KVM: all %u GSIs are in use", s->gsi_count);
    return -ENOSPC;
}

int kvm_irqchip_update_msi_route(int virq, uint64_t addr, uint32_t data)
{
    KVMState *s = kvm_state;

    if (!kvm_irqchip_in_kernel()) {
        return -ENOSYS;
    }
    for (unsigned i = 0; i < s->routes->nr; i++) {
        struct kvm_irq_routing_entry *e = &s->routes->entries[i];
        if (e->gsi == (unsigned)virq && e->type == KVM_IRQ_ROUTING_MSI) {
            kvm_msi_entry(e, virq, addr, data);
            return 0;
        }
    }
    return -ESRCH;
}

void kvm_irqchip_release_virq(int virq)
{
    KVMState *s = kvm_state;
    unsigned out = 0;

    if (!kvm_irqchip_in_kernel() || virq < s->num_gsi || virq >= (int)s->gsi_count) {
        return;
    }
    for (unsigned i = 0; i < s->routes->nr; i++) {
        if (s->routes->entries[i].gsi != (unsigned)virq) {
            s->routes->entries[out++] = s->routes->entries[i];
        }
    }
    s->routes->nr = out;
    gsi_set(s, virq, false);
}

int kvm_irqchip_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = addr >> 32,
        .data = data,
    };

    if (!kvm_irqchip_in_kernel()) {
        return -ENOSYS;
    }
    return kvm_vm_ioctl(KVM_SIGNAL_MSI, &msi);
}

/* ------------------------------------------------------------ irqfd */

static int kvm_irqfd(EventNotifier *e, EventNotifier *resample, int virq, bool assign)
{
    struct kvm_irqfd irqfd = {
        .fd = event_notifier_get_fd(e),
        .gsi = virq,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };

    if (!kvm_irqchip_in_kernel()) {
        return -ENOSYS;
    }
    if (resample && assign) {
        irqfd.flags |= KVM_IRQFD_FLAG_RESAMPLE;
        irqfd.resamplefd = event_notifier_get_fd(resample);
    }
    return kvm_vm_ioctl(KVM_IRQFD, &irqfd);
}

int kvm_irqchip_add_irqfd(EventNotifier *e, EventNotifier *resample, int virq)
{
    return kvm_irqfd(e, resample, virq, true);
}

int kvm_irqchip_remove_irqfd(EventNotifier *e, int virq)
{
    return kvm_irqfd(e, NULL, virq, false);
}
