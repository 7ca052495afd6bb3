/*
 * Small PC devices: the 0xcf9 reset control register, isa-debug-exit and pc-testdev.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "kite/runstate.h"
#include "hw/misc/pc-misc.h"
#include "hw/misc/pvpanic.h"

static DeviceState *cur_dev;

static void reset_cur_dev(void)
{
    device_cold_reset(cur_dev);
}

static void test_reset_control(void)
{
    DeviceState *dev = harness_new(TYPE_RESET_CONTROL, NULL);

    system_take_reset_request();
    /* PIIX3 RC register: power-on 00h; SRST (bit 1) is kept and read back. */
    g_assert_cmpuint(inb(0xcf9), ==, 0x00);
    outb(0xcf9, 0x02);
    g_assert_cmpuint(inb(0xcf9), ==, 0x02);
    g_assert_cmpint(system_take_reset_request(), ==, 0);
    /* RCPU (bit 2) starts the reset, soft or hard. */
    outb(0xcf9, 0x06);
    g_assert_cmpint(system_take_reset_request(), ==, SHUTDOWN_CAUSE_GUEST_RESET + 1);
    outb(0xcf9, 0x04);
    g_assert_cmpint(system_take_reset_request(), ==, SHUTDOWN_CAUSE_GUEST_RESET + 1);
    cur_dev = dev;
    harness_vmstate_roundtrip(dev, reset_cur_dev);
    g_assert_cmpuint(inb(0xcf9), ==, 0x02);
    device_cold_reset(dev);
    g_assert_cmpuint(inb(0xcf9), ==, 0x00);
    object_unparent(OBJECT(dev));
    g_assert_cmpuint(inb(0xcf9), ==, 0xff);
}

static void test_debug_exit(void)
{
    DeviceState *dev = harness_new(TYPE_ISA_DEBUG_EXIT, NULL);

    system_take_exit_request();
    /* Default iobase 0x501, iosize 2: a byte write of v exits with (v << 1) | 1. */
    outb(0x501, 0);
    g_assert_cmpint(system_take_exit_request(), ==, 1 + 1);
    outb(0x502, 0x10);
    g_assert_cmpint(system_take_exit_request(), ==, 0x21 + 1);
    outb(0x503, 0x10);
    g_assert_cmpint(system_take_exit_request(), ==, 0);     /* outside iosize */
    g_assert_cmpuint(inb(0x501), ==, 0);
    object_unparent(OBJECT(dev));

    /* kvm-unit-tests' configuration: iobase=0xf4,iosize=0x4, a 32-bit write. */
    dev = harness_new(TYPE_ISA_DEBUG_EXIT, "iobase=0xf4,iosize=0x4");
    outl(0xf4, 0x3e);
    g_assert_cmpint(system_take_exit_request(), ==, 0x7d + 1);
    outw(0xf6, 1);
    g_assert_cmpint(system_take_exit_request(), ==, 3 + 1);
    object_unparent(OBJECT(dev));
}

/* pvpanic (docs/specs/pvpanic.rst): read = recognized bits, write = events, rest ignored. */
static void test_pvpanic(void)
{
    DeviceState *dev;
    Error *err = NULL;

    g_assert_cmpuint(pvpanic_write_events(PVPANIC_EVENTS, 0), ==, 0);
    g_assert_cmpuint(pvpanic_write_events(PVPANIC_EVENTS, 1), ==, PVPANIC_PANICKED);
    g_assert_cmpuint(pvpanic_write_events(PVPANIC_EVENTS, 2), ==, PVPANIC_CRASH_LOADED);
    g_assert_cmpuint(pvpanic_write_events(PVPANIC_EVENTS, 3), ==, PVPANIC_PANICKED);
    g_assert_cmpuint(pvpanic_write_events(PVPANIC_EVENTS, ~0ull << 2), ==, 0);
    g_assert_cmpuint(pvpanic_write_events(PVPANIC_PANICKED, 2), ==, 0);

    system_take_guest_panic_request();
    dev = harness_new(TYPE_PVPANIC_ISA, NULL);
    g_assert_cmpuint(inb(0x505), ==, 3);
    outb(0x505, 2);
    g_assert_cmpuint(system_take_guest_panic_request(), ==, GUEST_PANIC_CRASH_LOADED);
    outb(0x505, 1);
    g_assert_cmpuint(system_take_guest_panic_request(), ==, GUEST_PANIC_PANICKED);
    outb(0x505, 0xfc);
    g_assert_cmpuint(system_take_guest_panic_request(), ==, 0);
    outl(0x505, 0x301);         /* a wide write: only the port's byte counts */
    g_assert_cmpuint(system_take_guest_panic_request(), ==, GUEST_PANIC_PANICKED);
    object_unparent(OBJECT(dev));
    g_assert_cmpuint(inb(0x505), ==, 0xff);

    /* events=1: crash-loaded is not recognized, so not raised; another port. */
    dev = harness_new(TYPE_PVPANIC_ISA, "ioport=0x600,events=1");
    g_assert_cmpuint(inb(0x600), ==, 1);
    outb(0x600, 2);
    g_assert_cmpuint(system_take_guest_panic_request(), ==, 0);
    object_unparent(OBJECT(dev));

    dev = qdev_new(TYPE_PVPANIC_ISA);
    object_property_set_str(OBJECT(dev), "events", "4", &error_abort);
    g_assert_false(qdev_realize(dev, &harness_isa->parent_obj, &err));
    g_assert_nonnull(err);
    error_free(err);
    object_unref(dev);
}

static void test_pc_testdev(void)
{
    DeviceState *dev = harness_new(TYPE_PC_TESTDEV, NULL);
    uint64_t v;

    /* 0xe0: a 32-bit register at any width and offset. */
    outl(0xe0, 0x12345678);
    g_assert_cmpuint(inl(0xe0), ==, 0x12345678);
    g_assert_cmpuint(inb(0xe1), ==, 0x56);
    g_assert_cmpuint(inw(0xe2), ==, 0x1234);
    outb(0xe3, 0xab);
    g_assert_cmpuint(inl(0xe0), ==, 0xab345678);
    /* 0xe8: the same register through byte-wide handlers. */
    g_assert_cmpuint(inl(0xe8), ==, 0xab345678);
    outw(0xea, 0xcdef);
    g_assert_cmpuint(inl(0xe0), ==, 0xcdef5678);

    /* 0x2000 + n: ISA IRQ line n follows !!value; lines 16-23 are ignored. */
    outb(0x2000 + 5, 0x80);
    g_assert_cmpint(harness_irq[5], ==, 1);
    outb(0x2000 + 5, 0);
    g_assert_cmpint(harness_irq[5], ==, 0);
    outb(0x2000 + 20, 1);

    /* 0xe4: flush page - any address, including non-RAM, must be harmless. */
    outl(0xe4, 0x1000);
    outl(0xe4, 0xfffff000);

    /* 0xff000000: 64 KiB that reads back what was written, at every width. */
    address_space_store(&harness_mem_as, 0xff000010, 0x1122334455667788ULL, 8);
    address_space_load(&harness_mem_as, 0xff000010, &v, 8);
    g_assert_cmpuint(v, ==, 0x1122334455667788ULL);
    address_space_load(&harness_mem_as, 0xff000014, &v, 2);
    g_assert_cmpuint(v, ==, 0x3344);
    address_space_store(&harness_mem_as, 0xff00ffff, 0x99, 1);
    address_space_load(&harness_mem_as, 0xff00ffff, &v, 1);
    g_assert_cmpuint(v, ==, 0x99);

    cur_dev = dev;
    harness_vmstate_roundtrip(dev, reset_cur_dev);
    g_assert_cmpuint(inl(0xe0), ==, 0xcdef5678);
    address_space_load(&harness_mem_as, 0xff00ffff, &v, 1);
    g_assert_cmpuint(v, ==, 0x99);
    device_cold_reset(dev);
    g_assert_cmpuint(inl(0xe0), ==, 0);
    address_space_load(&harness_mem_as, 0xff000010, &v, 8);
    g_assert_cmpuint(v, ==, 0);
    object_unparent(OBJECT(dev));
    /* Unrealize unmapped everything. */
    g_assert_cmpuint(inl(0xe0), ==, 0xffffffff);
    address_space_load(&harness_mem_as, 0xff000010, &v, 4);
    g_assert_cmpuint(v, ==, 0xffffffff);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    g_test_add_func("/pc-misc/reset-control", test_reset_control);
    g_test_add_func("/pc-misc/debug-exit", test_debug_exit);
    g_test_add_func("/pc-misc/pc-testdev", test_pc_testdev);
    g_test_add_func("/pc-misc/pvpanic", test_pvpanic);
    return g_test_run();
}
