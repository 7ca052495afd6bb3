/*
 * The KVM accelerator with the in-kernel irqchip (kernel-irqchip=on): GSI lines and their
 * routing to the 8259s and the IOAPIC, the in-kernel 8254 and port 0x61, HLT in the
 * kernel with pause and register pulls, chip and LAPIC reset, MSI routes and irqfds, and
 * vCPU unplug.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kvm-harness.h"
#include "hw/pci/msix.h"
#include "hw/pci-host/i440fx.h"
#include "hw/i386/pc-pci.h"
#include "hw/sysbus.h"
#include <linux/kvm.h>

static IRQState **gsi;

/* 8259 initialisation (8259A datasheet, ICW1-ICW4): vectors 0x20/0x28, cascade on IR2. */
#define GUEST_INIT_PIC(master_mask) \
    "mov $0x11, %al\n out %al, $0x20\n out %al, $0xa0\n" \
    "mov $0x20, %al\n out %al, $0x21\n" \
    "mov $0x28, %al\n out %al, $0xa1\n" \
    "mov $0x04, %al\n out %al, $0x21\n" \
    "mov $0x02, %al\n out %al, $0xa1\n" \
    "mov $0x01, %al\n out %al, $0x21\n out %al, $0xa1\n" \
    "mov $" master_mask ", %al\n out %al, $0x21\n" \
    "mov $0xff, %al\n out %al, $0xa1\n"

#define GUEST_SET_IVT(vector_offset, handler, start) \
    "xor %ax, %ax\n" \
    "mov %ax, %ds\n" \
    "movw $(" handler " - " start "), " vector_offset "\n" \
    "movw $0x100, " vector_offset " + 2\n"

/* ------------------------------------------------------------ GSI -> 8259 */

KH_GUEST(pic,
    GUEST_INIT_PIC("0xf7")                      /* only IR3 */
    GUEST_SET_IVT("0x8c", "kh_pic_handler", "kh_pic_start")   /* vector 0x23 */
    "sti\n"
    "mov $1, %al\n"
    "out %al, $0xf4\n"
    "hlt\n"
    "mov $2, %al\n"
    "out %al, $0xf4\n"
    "out %al, $0xf0\n"
    "1: cli\n"
    "hlt\n"
    "jmp 1b\n"
    "kh_pic_handler:\n"
    "mov $0x23, %al\n"
    "out %al, $0xf4\n"
    "mov $0x20, %al\n"                          /* non-specific EOI */
    "out %al, $0x20\n"
    "iret\n");

static bool log_nonempty(void)
{
    return kh_log->len > 0;
}

static void test_pic_gsi(void)
{
    uint64_t hlts;

    if (kh_skip()) {
        return;
    }
    kh_load(kh_pic_start, kh_pic_end);
    hlts = kvm_vcpu_exit_count(kh_cpu, KVM_EXIT_HLT);
    kh_start();
    g_assert_true(kh_wait(log_nonempty, 5000));
    bql_unlock();
    g_usleep(20000);
    bql_lock();
    g_assert_cmpuint(kh_log->len, ==, 1);
    g_assert_false(kh_cpu->halted);                 /* HLT stays in the kernel */
    irq_raise(gsi[3]);
    irq_lower(gsi[3]);
    g_assert_true(kh_wait(kh_is_done, 5000));
    pause_all_vcpus();
    g_assert_cmpuint(kh_log->len, ==, 3);
    g_assert_cmphex(kh_log_at(0), ==, 1);
    g_assert_cmphex(kh_log_at(1), ==, 0x23);
    g_assert_cmphex(kh_log_at(2), ==, 2);
    g_assert_cmpuint(kvm_vcpu_exit_count(kh_cpu, KVM_EXIT_HLT), ==, hlts);
}

/* ------------------------------------------------------------ routing table */

static struct kvm_irqchip get_chip(int id)
{
    struct kvm_irqchip c = { .chip_id = id };

    g_assert_cmpint(kvm_vm_ioctl(KVM_GET_IRQCHIP, &c), ==, 0);
    return c;
}

static void test_routing(void)
{
    if (kh_skip()) {
        return;
    }
    /* ISA IRQ 0 is IOAPIC pin 2 (MADT override) and 8259 IR0. */
    irq_raise(gsi[0]);
    g_assert_true(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 2));
    g_assert_false(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 0));
    g_assert_true(get_chip(KVM_IRQCHIP_PIC_MASTER).chip.pic.irr & (1u << 0));
    irq_lower(gsi[0]);
    g_assert_false(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 2));
    /* GSI 2 goes nowhere (IR2 is the cascade, pin 2 belongs to IRQ 0). */
    irq_raise(gsi[2]);
    g_assert_false(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 2));
    irq_lower(gsi[2]);
    /* The rest map one to one; 8-15 through the slave. */
    irq_raise(gsi[5]);
    g_assert_true(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 5));
    irq_lower(gsi[5]);
    irq_raise(gsi[12]);
    g_assert_true(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 12));
    g_assert_true(get_chip(KVM_IRQCHIP_PIC_SLAVE).chip.pic.irr & (1u << 4));
    irq_lower(gsi[12]);
    irq_raise(gsi[20]);
    g_assert_true(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.irr & (1u << 20));
    irq_lower(gsi[20]);
}

/* ------------------------------------------------------------ in-kernel 8254 */

KH_GUEST(pit,
    GUEST_INIT_PIC("0xfe")                      /* only IR0 */
    GUEST_SET_IVT("0x80", "kh_pit_handler", "kh_pit_start")   /* vector 0x20 */
    "movw $0, 0x3000\n"
    "mov $0x34, %al\n"                          /* channel 0, lo/hi, mode 2 */
    "out %al, $0x43\n"
    "mov $0xa9, %al\n"                          /* 1193: 1 kHz */
    "out %al, $0x40\n"
    "mov $0x04, %al\n"
    "out %al, $0x40\n"
    "sti\n"
    "1: hlt\n"
    "cmpw $5, 0x3000\n"
    "jb 1b\n"
    "cli\n"
    "mov $0xb0, %al\n"                          /* channel 2, lo/hi, mode 0 */
    "out %al, $0x43\n"
    "mov $0x00, %al\n"
    "out %al, $0x42\n"
    "mov $0x20, %al\n"                          /* 0x2000 clocks: 6.9 ms */
    "out %al, $0x42\n"
    "in $0x61, %al\n"                           /* gate 2 low after reset */
    "out %al, $0xf4\n"
    "mov $1, %al\n"
    "out %al, $0x61\n"                          /* gate 2 high */
    "3: in $0x61, %al\n"
    "test $0x20, %al\n"                         /* until OUT2 */
    "jz 3b\n"
    "out %al, $0xf4\n"
    "out %al, $0xf0\n"
    "2: hlt\n"
    "jmp 2b\n"
    "kh_pit_handler:\n"
    "incw 0x3000\n"
    "push %ax\n"
    "mov $0x20, %al\n"
    "out %al, $0x20\n"
    "pop %ax\n"
    "iret\n");

static void test_pit(void)
{
    bool out;

    if (kh_skip()) {
        return;
    }
    kh_load(kh_pit_start, kh_pit_end);
    kh_run_until_done(10000);
    g_assert_cmpuint(lduw_le_p(kh_ram_ptr(0x3000)), >=, 5);
    /* Port 0x61 is KVM's: bit 0 gate 2, bit 5 OUT2 (PIIX4 datasheet, port 61h). */
    g_assert_cmpuint(kh_log->len, ==, 2);
    g_assert_cmphex(kh_log_at(0) & 0x21, ==, 0);
    g_assert_cmphex(kh_log_at(1) & 0x21, ==, 0x21);

    /* Channel 2 in mode 0 again: OUT goes high 0x2000 clocks after the gate opens. */
    g_assert_cmpint(kvm_pit_set_gate(2, false), ==, 0);
    g_assert_cmpint(kvm_pit_set_gate(2, true), ==, 0);
    g_assert_cmpint(kvm_pit_get_out(2, &out), ==, 0);
    g_assert_false(out);
    bql_unlock();
    g_usleep(20000);
    bql_lock();
    g_assert_cmpint(kvm_pit_get_out(2, &out), ==, 0);
    g_assert_true(out);
    g_assert_cmpint(kvm_pit_get_out(3, &out), ==, -EINVAL);
}

/* ------------------------------------------------------------ HLT in the kernel */

KH_GUEST(halt,
    "mov $1, %al\n"
    "out %al, $0xf4\n"
    "cli\n"
    "hlt\n"
    "kh_halt_after:\n"
    "jmp kh_halt_after\n");

static void test_halted_sync_pause(void)
{
    AccelClass *ac;
    extern const uint8_t kh_halt_after[];
    gint64 t0;

    if (kh_skip()) {
        return;
    }
    ac = ACCEL_GET_CLASS(kh_accel);
    kh_load(kh_halt_start, kh_halt_end);
    kh_start();
    g_assert_true(kh_wait(log_nonempty, 5000));
    bql_unlock();
    g_usleep(20000);
    bql_lock();
    /* The vCPU sleeps inside KVM_RUN: pulling its state has to kick it out. */
    ac->synchronize_state(kh_cpu);
    g_assert_true(kh_x86->env->halted);
    g_assert_cmphex(kh_x86->env->rip, ==, (uint64_t)(kh_halt_after - kh_halt_start));
    /*
     * Without a kick the halted vCPU would sleep in the kernel for ever and pause would
     * hang; with one it returns at once.  The bound only tells the two apart, so it is
     * generous: on a busy 2-core host under ASan a woken thread can wait a good part of a
     * second for a CPU.
     */
    t0 = g_get_monotonic_time();
    pause_all_vcpus();
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
    g_assert_true(kh_cpu->stopped);
    /* Resuming puts it back to sleep in the kernel, still halted. */
    resume_all_vcpus();
    bql_unlock();
    g_usleep(10000);
    bql_lock();
    pause_all_vcpus();
    ac->synchronize_state(kh_cpu);
    g_assert_true(kh_x86->env->halted);
}

/* ------------------------------------------------------------ resets */

static void test_reset(void)
{
    struct kvm_lapic_state lapic;

    if (kh_skip()) {
        return;
    }
    /* The guest of test_pic programmed the 8259 (vector base 0x20); a reset undoes it. */
    kh_load(kh_pic_start, kh_pic_end);
    kh_start();
    g_assert_true(kh_wait(log_nonempty, 5000));
    pause_all_vcpus();
    g_assert_cmphex(get_chip(KVM_IRQCHIP_PIC_MASTER).chip.pic.irq_base, ==, 0x20);
    system_run_reset_handlers();
    g_assert_cmphex(get_chip(KVM_IRQCHIP_PIC_MASTER).chip.pic.irq_base, ==, 0);
    g_assert_cmphex(get_chip(KVM_IRQCHIP_PIC_SLAVE).chip.pic.irq_base, ==, 0);
    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        g_assert_true(get_chip(KVM_IRQCHIP_IOAPIC).chip.ioapic.redirtbl[i].fields.mask);
    }

    /* The in-kernel LAPIC goes back to its RESET values (SDM vol. 3A, 10.4.7.1). */
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_GET_LAPIC, &lapic), ==, 0);
    stl_le_p(lapic.regs + 0x80, 0x20);                   /* TPR */
    stl_le_p(lapic.regs + 0xf0, 0x1ff);                  /* SVR: enabled */
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_SET_LAPIC, &lapic), ==, 0);
    device_cold_reset(DEVICE(kh_cpu));
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_GET_LAPIC, &lapic), ==, 0);
    g_assert_cmphex(ldl_le_p(lapic.regs + 0x80), ==, 0);
    g_assert_cmphex(ldl_le_p(lapic.regs + 0xf0), ==, 0xff);
    g_assert_cmphex(ldl_le_p(lapic.regs + 0x20) >> 24, ==, 0);
    g_assert_cmphex(ldl_le_p(lapic.regs + 0x350), ==, 0x700);     /* BSP LINT0: ExtINT */
    g_assert_cmphex(ldl_le_p(lapic.regs + 0x360), ==, 0x10000);   /* LINT1 masked */
}

/* ------------------------------------------------------------ MSI routes, irqfd */

static void test_msi_irqfd(void)
{
    EventNotifier e;
    Error *err = NULL;
    int virq;

    if (kh_skip()) {
        return;
    }
    virq = kvm_irqchip_add_msi_route(0xfee00000, 0x4041, &err);
    g_assert_null(err);
    g_assert_cmpint(virq, >=, 24);
    g_assert_cmpint(kvm_irqchip_commit_routes(), ==, 0);
    g_assert_cmpint(kvm_irqchip_update_msi_route(virq, 0xfee01000, 0x4042), ==, 0);
    g_assert_cmpint(kvm_irqchip_update_msi_route(virq + 100, 0, 0), ==, -ESRCH);
    g_assert_cmpint(kvm_irqchip_commit_routes(), ==, 0);
    g_assert_cmpint(event_notifier_init(&e, false), ==, 0);
    g_assert_cmpint(kvm_irqchip_add_irqfd(&e, NULL, virq), ==, 0);
    g_assert_cmpint(event_notifier_set(&e), ==, 0);
    g_assert_cmpint(kvm_irqchip_remove_irqfd(&e, virq), ==, 0);
    kvm_irqchip_release_virq(virq);
    g_assert_cmpint(kvm_irqchip_commit_routes(), ==, 0);
    /* The freed GSI is handed out again. */
    g_assert_cmpint(kvm_irqchip_add_msi_route(0xfee00000, 0x4041, &error_abort), ==, virq);
    kvm_irqchip_release_virq(virq);
    g_assert_cmpint(kvm_irqchip_send_msi(0xfee00000, 0x4041), >=, 0);
    event_notifier_cleanup(&e);
}

/* ------------------------------------------------------------ MSI-X through irqfds */

static void msixdev_realize(PCIDevice *dev, Error **errp)
{
    msix_init_exclusive_bar(dev, 4, 1, errp);
}

static const TypeInfo msixdev_type = {
    .name = "kvm-msix-testdev",
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIDevice),
    .realize = (void (*)(DeviceState *, Error **))msixdev_realize,
};
KITE_TYPE_REGISTER(msixdev_type)

static int fallback_msis;
static void count_fallback(uint64_t addr, uint32_t data)
{
    fallback_msis++;
}

/* Wait (the kernel injects irqfd messages from a worker) for vector's bit in the IRR. */
static bool lapic_irr_has(int vector)
{
    struct kvm_lapic_state lapic;

    for (int i = 0; i < 1000; i++) {
        g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_GET_LAPIC, &lapic), ==, 0);
        if (ldl_le_p(lapic.regs + 0x200 + vector / 32 * 0x10) & (1u << (vector % 32))) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/* The pc board's routing: a vector gets a GSI route and an irqfd on first use, its route
 * follows table changes, and reset gives the GSI back. */
static void test_msix_irqfd(void)
{
    const uint64_t bar = 0xe0000000ULL;
    struct kvm_lapic_state lapic;
    DeviceState *host;
    PCIDevice *dev;
    int virq;

    if (kh_skip()) {
        return;
    }
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_GET_LAPIC, &lapic), ==, 0);
    stl_le_p(lapic.regs + 0x80, 0);                      /* TPR */
    stl_le_p(lapic.regs + 0xf0, 0x1ff);                  /* SVR: enabled */
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_SET_LAPIC, &lapic), ==, 0);

    host = qdev_new(TYPE_I440FX_PCI_HOST);
    g_assert_true(sysbus_realize_and_unref(host, &error_abort));
    dev = PCI_DEVICE(qdev_new("kvm-msix-testdev"));
    g_assert_true(qdev_realize(DEVICE(dev), BUS(I440FX_HOST(host)->bus), &error_abort));
    device_cold_reset(DEVICE(dev));
    pci_msi_trigger = count_fallback;
    pci_msi_route_send = pc_msi_route_send;
    pci_msi_route_release = pc_msi_route_release;

    pci_config_write(dev, PCI_BASE_ADDRESS_0 + 4, bar, 4);
    pci_config_write(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    pci_config_write(dev, dev->msix_cap + 2, 0x8000, 2);            /* MSI-X enable */
    address_space_stl(&address_space_memory, bar + 16, 0xfee00000);  /* vector 1: APIC 0 */
    address_space_stl(&address_space_memory, bar + 16 + 8, 0x41);    /* fixed, vector 0x41 */
    address_space_stl(&address_space_memory, bar + 16 + 12, 0);      /* unmasked */

    msix_notify(dev, 1);
    g_assert_true(lapic_irr_has(0x41));
    virq = dev->msix_routes[1].virq;
    g_assert_cmpint(virq, >=, 24);
    g_assert_cmpint(dev->msix_routes[0].virq, ==, -1);              /* never fired */
    /* The guest retargets the vector: the same GSI, its route updated. */
    address_space_stl(&address_space_memory, bar + 16 + 8, 0x52);
    msix_notify(dev, 1);
    g_assert_true(lapic_irr_has(0x52));
    g_assert_cmpint(dev->msix_routes[1].virq, ==, virq);
    g_assert_cmpint(fallback_msis, ==, 0);

    /* Reset releases the route: the GSI is free again. */
    device_cold_reset(DEVICE(dev));
    g_assert_cmpint(dev->msix_routes[1].virq, ==, -1);
    g_assert_cmpint(kvm_irqchip_add_msi_route(0xfee00000, 0x41, &error_abort), ==, virq);
    kvm_irqchip_release_virq(virq);
    g_assert_cmpint(kvm_irqchip_commit_routes(), ==, 0);

    qdev_unrealize(DEVICE(dev));
    object_unref(OBJECT(dev));
    pci_msi_route_send = NULL;
    pci_msi_route_release = NULL;
    pci_msi_trigger = NULL;
    device_cold_reset(DEVICE(kh_cpu));                   /* drop the pending vectors */
}

/* ------------------------------------------------------------ INIT */

KH_GUEST(spin,
    "mov $1, %al\n"
    "out %al, $0xf4\n"
    "1: jmp 1b\n");

KH_GUEST(reset_vector,
    "mov $0x99, %al\n"
    "out %al, $0xf0\n"
    "1: cli\n"
    "hlt\n"
    "jmp 1b\n");

/* INIT requested by Kite (not by an IPI) with the LAPIC in the kernel: the BSP restarts. */
static void test_init(void)
{
    static MemoryRegion bios;
    struct kvm_lapic_state lapic;

    if (kh_skip()) {
        return;
    }
    memory_region_init_ram(&bios, NULL, "test-bios", 0x1000, &error_abort);
    memcpy((uint8_t *)memory_region_get_ram_ptr(&bios) + 0xff0, kh_reset_vector_start,
           kh_reset_vector_end - kh_reset_vector_start);
    memory_region_add_subregion(get_system_memory(), 0xfffff000, &bios);
    kh_load(kh_spin_start, kh_spin_end);
    kh_start();
    g_assert_true(kh_wait(log_nonempty, 5000));
    cpu_interrupt(kh_cpu, CPU_INTERRUPT_INIT);
    g_assert_true(kh_wait(kh_is_done, 5000));
    pause_all_vcpus();
    g_assert_cmphex(kh_done_value, ==, 0x99);
    g_assert_cmpint(kvm_vcpu_ioctl(kh_cpu, KVM_GET_LAPIC, &lapic), ==, 0);
    g_assert_cmphex(ldl_le_p(lapic.regs + 0xf0), ==, 0xff);
    memory_region_del_subregion(get_system_memory(), &bios);
    memory_region_destroy(&bios);
}

/* ------------------------------------------------------------ unplug */

KH_GUEST(hello,
    "mov $0x42, %al\n"
    "out %al, $0xf0\n"
    "1: cli\n"
    "hlt\n"
    "jmp 1b\n");

static DeviceState *new_vcpu(uint32_t apic_id, Error **errp)
{
    DeviceState *dev = qdev_new(X86_VCPU_TYPE_NAME("qemu64"));

    object_property_set_uint(OBJECT(dev), "apic-id", apic_id, &error_abort);
    object_property_set_bool(OBJECT(dev), "bsp", true, &error_abort);
    if (!qdev_realize(dev, NULL, errp)) {
        object_unref(OBJECT(dev));
        return NULL;
    }
    return dev;
}

static void unplug(DeviceState *dev)
{
    qdev_unrealize(dev);
    g_assert_null(CPU(dev)->thread);
    g_assert_cmpint(CPU(dev)->kvm_fd, ==, -1);
    object_unref(OBJECT(dev));
}

/*
 * A vCPU that never ran is unplugged and plugged again: KVM cannot create the same vCPU
 * id twice, so this only works if the parked fd is reused.  (Re-plugging one that ran
 * works on KVM too as long as the CPUID is the same; kvm_pvm rewrites some of it.)
 */
static void test_unplug(void)
{
    DeviceState *dev;

    if (kh_skip()) {
        return;
    }
    g_assert_false(cpus_running());
    dev = new_vcpu(1, &error_abort);
    g_assert_nonnull(CPU(dev)->thread);
    unplug(dev);
    unplug(DEVICE(kh_cpu));
    g_assert_null(new_vcpu(0x7fffffff, NULL));        /* beyond KVM's vCPU ids */

    dev = new_vcpu(1, &error_abort);
    kh_cpu = CPU(dev);
    kh_x86 = X86_VCPU(dev);
    kh_load(kh_hello_start, kh_hello_end);
    kh_run_until_done(5000);
    g_assert_cmphex(kh_done_value, ==, 0x42);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (kh_init(ON_OFF_SPLIT_ON)) {
        AccelClass *ac = ACCEL_GET_CLASS(kh_accel);
        Error *err = NULL;

        g_assert_true(kvm_irqchip_in_kernel());
        if (!ac->irqchip_create(kh_accel, 24, &gsi, &err)) {
            g_error("irqchip_create: %s", error_get_pretty(err));
        }
    }
    g_test_add_func("/kvm-irqchip/pic-gsi", test_pic_gsi);
    g_test_add_func("/kvm-irqchip/routing", test_routing);
    g_test_add_func("/kvm-irqchip/pit", test_pit);
    g_test_add_func("/kvm-irqchip/halted-sync-pause", test_halted_sync_pause);
    g_test_add_func("/kvm-irqchip/reset", test_reset);
    g_test_add_func("/kvm-irqchip/msi-irqfd", test_msi_irqfd);
    g_test_add_func("/kvm-irqchip/msix-irqfd", test_msix_irqfd);
    g_test_add_func("/kvm-irqchip/init", test_init);
    g_test_add_func("/kvm-irqchip/unplug", test_unplug);
    return g_test_run();
}
