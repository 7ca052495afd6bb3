/*
 * Shared by test-apic.c and test-ioapic.c: two fake vCPUs with their local APICs, the xAPIC
 * page and the I/O APIC mapped in a test memory space, and a manual virtual clock.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_APIC_HARNESS_H
#define TESTS_UNIT_APIC_HARNESS_H

#include "kite/osdep.h"
#include "kite/timer.h"
#include "hw/core/cpu-common.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"

#define NCPUS 2

static MemoryRegion mem_root;
static AddressSpace mem_as;

/* A vCPU with nothing but the interrupt_request word the APIC drives. */
#define TYPE_TEST_CPU "test-cpu"

static void test_cpu_realize(DeviceState *dev, Error **errp)
{
    cpu_common_realize(CPU(dev), errp);
}

static void test_cpu_unrealize(DeviceState *dev)
{
    cpu_common_unrealize(CPU(dev));
}

static const TypeInfo test_cpu_type = {
    .name = TYPE_TEST_CPU, .parent = TYPE_CPU, .instance_size = sizeof(CPUState),
    .realize = test_cpu_realize, .unrealize = test_cpu_unrealize,
};
KITE_TYPE_REGISTER(test_cpu_type)

typedef struct Harness {
    CPUState *cpu[NCPUS];
    DeviceState *apic[NCPUS];
    DeviceState *ioapic;
} Harness;

static G_GNUC_UNUSED void harness_init(Harness *h, bool with_ioapic)
{
    for (int i = 0; i < NCPUS; i++) {
        DeviceState *dev = qdev_new(TYPE_TEST_CPU);
        g_assert_true(qdev_realize_and_unref(dev, NULL, &error_abort));
        h->cpu[i] = CPU(dev);
        h->apic[i] = apic_new(h->cpu[i], i, i == 0);
        device_cold_reset(h->apic[i]);
        h->cpu[i]->interrupt_request = 0;
    }
    if (with_ioapic) {
        h->ioapic = qdev_new(TYPE_IOAPIC);
        g_assert_true(sysbus_realize_and_unref(h->ioapic, &error_abort));
        memory_region_add_subregion(&mem_root, IOAPIC_DEFAULT_ADDRESS, ioapic_mmio(h->ioapic));
        device_cold_reset(h->ioapic);
    }
}

static G_GNUC_UNUSED void harness_cleanup(Harness *h)
{
    if (h->ioapic) {
        object_unparent(OBJECT(h->ioapic));
        h->ioapic = NULL;
    }
    for (int i = 0; i < NCPUS; i++) {
        object_unparent(OBJECT(h->cpu[i]));      /* frees the CPU and its "lapic" child */
    }
    /* Every timer went with its device. */
    g_assert_cmpint(timer_next_deadline_ns(KITE_CLOCK_VIRTUAL), ==, -1);
}

static G_GNUC_UNUSED int64_t vnow(void)
{
    return clock_get_ns(KITE_CLOCK_VIRTUAL);
}

/* xAPIC register access as the vCPU cpu would make it. */
static G_GNUC_UNUSED uint32_t apic_rd(CPUState *cpu, unsigned reg)
{
    CPUState *saved = current_cpu;
    uint64_t v;

    current_cpu = cpu;
    g_assert_cmpint(address_space_load(&mem_as, APIC_DEFAULT_ADDRESS + reg, &v, 4), ==,
                    MEMTX_OK);
    current_cpu = saved;
    return v;
}

static G_GNUC_UNUSED void apic_wr(CPUState *cpu, unsigned reg, uint32_t val)
{
    CPUState *saved = current_cpu;

    current_cpu = cpu;
    g_assert_cmpint(address_space_store(&mem_as, APIC_DEFAULT_ADDRESS + reg, val, 4), ==,
                    MEMTX_OK);
    current_cpu = saved;
}

/* Bit v of the 256-bit ISR (0x100), TMR (0x180) or IRR (0x200). */
static G_GNUC_UNUSED bool apic_bit(CPUState *cpu, unsigned base, int v)
{
    return apic_rd(cpu, base + (v / 32) * 0x10) & (1u << (v % 32));
}

static G_GNUC_UNUSED bool has_hard(CPUState *cpu)
{
    return cpu->interrupt_request & CPU_INTERRUPT_HARD;
}

/* Software-enable an APIC with spurious vector 0xff. */
static G_GNUC_UNUSED void apic_enable(CPUState *cpu)
{
    apic_wr(cpu, 0xf0, 0x1ff);
}

/* INTA then EOI: what the guest's handler does; returns the vector taken. */
static G_GNUC_UNUSED int take_and_eoi(CPUState *cpu, DeviceState *apic)
{
    int v = apic_get_interrupt(apic);

    apic_wr(cpu, 0xb0, 0);
    return v;
}

static G_GNUC_UNUSED void harness_main_init(void)
{
    main_loop_init();
    clock_virtual_set_manual(true);
    memory_region_init(&mem_root, NULL, "mem", UINT64_MAX);
    memory_region_add_subregion(&mem_root, APIC_DEFAULT_ADDRESS, apic_mmio_region());
    address_space_init(&mem_as, &mem_root, "memory");
}

#endif
