/*
 * I/O APIC: register file, edge and level redirection to the local APICs, Remote IRR and
 * the EOI broadcast, the version 0x20 EOI register, masking, destinations, MSI delivery,
 * save/restore.  Section numbers: Intel 82093AA datasheet (290566-001).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "apic-harness.h"

#define IOREGSEL    (IOAPIC_DEFAULT_ADDRESS + 0x00)
#define IOWIN       (IOAPIC_DEFAULT_ADDRESS + 0x10)
#define IOEOI       (IOAPIC_DEFAULT_ADDRESS + 0x40)

#define RTE_REMOTE_IRR  (1u << 14)
#define RTE_LEVEL       (1u << 15)
#define RTE_MASKED      (1u << 16)

static uint32_t io_rd(uint8_t reg)
{
    address_space_stl(&mem_as, IOREGSEL, reg);
    return address_space_ldl(&mem_as, IOWIN);
}

static void io_wr(uint8_t reg, uint32_t val)
{
    address_space_stl(&mem_as, IOREGSEL, reg);
    address_space_stl(&mem_as, IOWIN, val);
}

static void rte_set(int pin, uint32_t lo, uint8_t dest)
{
    io_wr(0x11 + 2 * pin, (uint32_t)dest << 24);
    io_wr(0x10 + 2 * pin, lo);
}

static void pin_set(Harness *h, int pin, int level)
{
    irq_set_level(qdev_get_gpio_in(h->ioapic, pin), level);
}

static void test_registers(void)
{
    Harness h = { 0 };

    harness_init(&h, true);
    /* 3.2.2: version 0x20 (with the EOI register), maximum redirection entry 23. */
    g_assert_cmphex(io_rd(0x01), ==, 0x00170020);
    /* 3.2.1 ID in 27:24, 3.2.3 arbitration ID follows it. */
    g_assert_cmphex(io_rd(0x00), ==, 0);
    io_wr(0x00, 0xff000000);
    g_assert_cmphex(io_rd(0x00), ==, 0x0f000000);
    g_assert_cmphex(io_rd(0x02), ==, 0x0f000000);
    /* The version register is read-only. */
    io_wr(0x01, 0);
    g_assert_cmphex(io_rd(0x01), ==, 0x00170020);
    /* 3.1.1: IOREGSEL reads back bits 7:0. */
    address_space_stl(&mem_as, IOREGSEL, 0x1234);
    g_assert_cmphex(address_space_ldl(&mem_as, IOREGSEL), ==, 0x34);
    /* 3.2.4: every entry masked after reset. */
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        g_assert_cmphex(io_rd(0x10 + 2 * pin), ==, RTE_MASKED);
        g_assert_cmphex(io_rd(0x11 + 2 * pin), ==, 0);
    }
    /* Reserved and read-only bits: delivery status (12) and Remote IRR (14) stay 0. */
    io_wr(0x10, 0xffffffff);
    g_assert_cmphex(io_rd(0x10), ==, 0x1afff);
    io_wr(0x11, 0xffffffff);
    g_assert_cmphex(io_rd(0x11), ==, 0xff000000);
    /* Registers past the table read 0; offsets outside the three windows read all-ones. */
    g_assert_cmphex(io_rd(0x40), ==, 0);
    g_assert_cmphex(address_space_ldl(&mem_as, IOAPIC_DEFAULT_ADDRESS + 0x20), ==,
                    0xffffffff);
    harness_cleanup(&h);
}

static void test_edge(void)
{
    Harness h = { 0 };
    CPUState **c = h.cpu;

    harness_init(&h, true);
    apic_enable(c[0]);
    apic_enable(c[1]);
    /* Pin 4: vector 0x44, fixed, physical destination APIC 1, edge. */
    rte_set(4, 0x44, 1);
    pin_set(&h, 4, 1);
    g_assert_true(apic_bit(c[1], 0x200, 0x44));
    g_assert_false(apic_bit(c[1], 0x180, 0x44));     /* edge: TMR clear */
    g_assert_false(apic_bit(c[0], 0x200, 0x44));
    g_assert_cmphex(io_rd(0x18) & RTE_REMOTE_IRR, ==, 0);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x44);
    /* No new edge while the line stays high. */
    pin_set(&h, 4, 1);
    g_assert_false(apic_bit(c[1], 0x200, 0x44));
    pin_set(&h, 4, 0);
    pin_set(&h, 4, 1);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x44);
    pin_set(&h, 4, 0);
    /* 3.2.4 bit 16: an edge on a masked pin is ignored, not held for the unmask. */
    rte_set(4, RTE_MASKED | 0x44, 1);
    pin_set(&h, 4, 1);
    pin_set(&h, 4, 0);
    rte_set(4, 0x44, 1);
    g_assert_false(apic_bit(c[1], 0x200, 0x44));
    /* Logical destination (flat): LDR bit 1 is CPU 0 here. */
    apic_wr(c[0], 0xd0, 0x02000000);
    rte_set(5, 0x800 | 0x45, 0x02);
    pin_set(&h, 5, 1);
    g_assert_cmpint(take_and_eoi(c[0], h.apic[0]), ==, 0x45);
    g_assert_false(apic_bit(c[1], 0x200, 0x45));
    /* NMI delivery mode sets the CPU's NMI request. */
    rte_set(6, 0x400, 1);
    pin_set(&h, 6, 1);
    g_assert_true(c[1]->interrupt_request & CPU_INTERRUPT_NMI);
    harness_cleanup(&h);
}

static void test_level_eoi(void)
{
    Harness h = { 0 };
    CPUState *c;

    harness_init(&h, true);
    c = h.cpu[1];
    apic_enable(c);
    /* Pin 10: vector 0x50, level-triggered, to APIC 1. */
    rte_set(10, RTE_LEVEL | 0x50, 1);
    pin_set(&h, 10, 1);
    g_assert_true(apic_bit(c, 0x200, 0x50));
    g_assert_true(apic_bit(c, 0x180, 0x50));          /* level: TMR set (SDM 10.8.4) */
    g_assert_cmphex(io_rd(0x24) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x50);
    /* Remote IRR holds further messages while the line stays asserted. */
    pin_set(&h, 10, 1);
    g_assert_false(apic_bit(c, 0x200, 0x50));
    /* The local APIC's EOI of a TMR vector clears Remote IRR; the line is still high,
     * so the interrupt comes again. */
    apic_wr(c, 0xb0, 0);
    g_assert_true(apic_bit(c, 0x200, 0x50));
    g_assert_cmphex(io_rd(0x24) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
    /* Deasserted in the handler: the EOI leaves nothing pending. */
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x50);
    pin_set(&h, 10, 0);
    apic_wr(c, 0xb0, 0);
    g_assert_false(apic_bit(c, 0x200, 0x50));
    g_assert_cmphex(io_rd(0x24) & RTE_REMOTE_IRR, ==, 0);

    /* A level pin asserted while masked is delivered when unmasked. */
    rte_set(11, RTE_MASKED | RTE_LEVEL | 0x51, 1);
    pin_set(&h, 11, 1);
    g_assert_false(apic_bit(c, 0x200, 0x51));
    rte_set(11, RTE_LEVEL | 0x51, 1);
    g_assert_true(apic_bit(c, 0x200, 0x51));
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x51);
    /* The version 0x20 EOI register (ICH9 13.5.4) clears Remote IRR by vector. */
    pin_set(&h, 11, 0);
    address_space_stl(&mem_as, IOEOI, 0x51);
    g_assert_cmphex(io_rd(0x26) & RTE_REMOTE_IRR, ==, 0);
    apic_wr(c, 0xb0, 0);

    /* Linux's fallback for version 0x11 chips: edge then level again clears Remote IRR. */
    pin_set(&h, 11, 1);
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x51);
    pin_set(&h, 11, 0);
    g_assert_cmphex(io_rd(0x26) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
    rte_set(11, RTE_MASKED | 0x51, 1);
    rte_set(11, RTE_MASKED | RTE_LEVEL | 0x51, 1);
    g_assert_cmphex(io_rd(0x26) & RTE_REMOTE_IRR, ==, 0);
    /* The APIC's EOI afterwards (TMR set) finds nothing to clear. */
    apic_wr(c, 0xb0, 0);
    g_assert_false(apic_bit(c, 0x100, 0x51));
    harness_cleanup(&h);
}

static void test_lowest_priority_and_msi(void)
{
    Harness h = { 0 };
    CPUState **c = h.cpu;

    harness_init(&h, true);
    apic_enable(c[0]);
    apic_enable(c[1]);
    apic_wr(c[0], 0xd0, 0x01000000);
    apic_wr(c[1], 0xd0, 0x02000000);
    apic_wr(c[0], 0x80, 0x40);
    /* Lowest priority, logical 0x03: CPU 1 has the lower TPR. */
    rte_set(9, 0x100 | 0x800 | 0x59, 0x03);
    pin_set(&h, 9, 1);
    g_assert_true(apic_bit(c[1], 0x200, 0x59));
    g_assert_false(apic_bit(c[0], 0x200, 0x59));
    /* MSI (SDM 10.11): address 0xfee01000 = APIC 1, data = edge fixed vector 0x61. */
    apic_deliver_msi(0xfee01000, 0x61);
    g_assert_true(apic_bit(c[1], 0x200, 0x61));
    /* Logical MSI (DM bit 2) to LDR bit 0, level-triggered. */
    apic_deliver_msi(0xfee01004, 0xc062);
    g_assert_true(apic_bit(c[0], 0x200, 0x62));
    g_assert_true(apic_bit(c[0], 0x180, 0x62));
    /* Outside 0xfeexxxxx nothing is delivered. */
    apic_deliver_msi(0xfed01000, 0x63);
    g_assert_false(apic_bit(c[1], 0x200, 0x63));
    harness_cleanup(&h);
}

static void test_vmstate(void)
{
    Harness h = { 0 };
    CPUState *c;
    g_autoptr(GByteArray) buf = g_byte_array_new();

    harness_init(&h, true);
    c = h.cpu[1];
    apic_enable(c);
    io_wr(0x00, 0x02000000);
    rte_set(10, RTE_LEVEL | 0x50, 1);
    rte_set(3, 0x43, 1);
    pin_set(&h, 10, 1);
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x50);
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);

    device_cold_reset(h.ioapic);
    g_assert_cmphex(io_rd(0x24), ==, RTE_MASKED);
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmphex(io_rd(0x00), ==, 0x02000000);
    g_assert_cmphex(io_rd(0x24), ==, RTE_REMOTE_IRR | RTE_LEVEL | 0x50);
    g_assert_cmphex(io_rd(0x25), ==, 1u << 24);
    g_assert_cmphex(io_rd(0x16), ==, 0x43);
    /* The restored line level and Remote IRR go on working: EOI re-delivers. */
    apic_wr(c, 0xb0, 0);
    g_assert_true(apic_bit(c, 0x200, 0x50));
    harness_cleanup(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_main_init();
    g_test_add_func("/ioapic/registers", test_registers);
    g_test_add_func("/ioapic/edge", test_edge);
    g_test_add_func("/ioapic/level-eoi", test_level_eoi);
    g_test_add_func("/ioapic/lowest-priority-msi", test_lowest_priority_and_msi);
    g_test_add_func("/ioapic/vmstate", test_vmstate);
    return g_test_run();
}
