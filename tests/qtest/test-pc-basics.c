/*
 * The pc machine's fixed devices through the qtest protocol: CMOS memory size, fw_cfg,
 * unassigned space, PIT and RTC interrupts at the IOAPIC, isa-debug-exit.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>

static uint8_t cmos_read(KQTest *qt, uint8_t idx)
{
    kqtest_outb(qt, 0x70, idx);
    return kqtest_inb(qt, 0x71);
}

/* CMOS 0x34/0x35: RAM above 16 MiB in 64 KiB units, as SeaBIOS reads it. */
static void test_cmos_memory(void)
{
    KQTest *qt = kqtest_start("-M pc -m 256 -nodefaults -smp 2");

    g_assert_cmpuint(cmos_read(qt, 0x34) | cmos_read(qt, 0x35) << 8, ==, (256 - 16) * 16);
    /* 0x30/0x31 count KiB above 1 MiB, saturating at 0xffff. */
    g_assert_cmpuint(cmos_read(qt, 0x30) | cmos_read(qt, 0x31) << 8, ==, 0xffff);
    g_assert_cmpuint(cmos_read(qt, 0x5f), ==, 1);   /* CPU count - 1 */
    kqtest_quit(qt);
}

static void fw_cfg_select(KQTest *qt, uint16_t key)
{
    kqtest_outw(qt, 0x510, key);
}

static void fw_cfg_read(KQTest *qt, void *buf, size_t len)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        p[i] = kqtest_inb(qt, 0x511);
    }
}

/* fw_cfg (QEMU docs/specs/fw_cfg.rst): signature, CPU count, the file directory. */
static void test_fw_cfg(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -smp 3");
    char sig[5] = { 0 };
    uint16_t ncpus;
    uint32_t count;
    bool have_e820 = false;

    fw_cfg_select(qt, 0x00);
    fw_cfg_read(qt, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    fw_cfg_select(qt, 0x05);
    fw_cfg_read(qt, &ncpus, 2);
    g_assert_cmpuint(ncpus, ==, 3);
    fw_cfg_select(qt, 0x19);
    fw_cfg_read(qt, &count, 4);
    count = GUINT32_FROM_BE(count);
    g_assert_cmpuint(count, >, 0);
    for (uint32_t i = 0; i < count; i++) {
        struct { uint32_t size; uint16_t select, reserved; char name[56]; } f;
        fw_cfg_read(qt, &f, sizeof(f));
        have_e820 |= !strcmp(f.name, "etc/e820");
    }
    g_assert_true(have_e820);
    kqtest_quit(qt);
}

/*
 * FW_CFG_MAX_CPUS is one past the highest APIC ID, as QEMU's: two sockets of three cores
 * use APIC IDs 0-2 and 4-6 (core field 2 bits wide), so 7 for 6 CPUs.
 */
static void test_fw_cfg_max_cpus(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -smp 6,sockets=2,cores=3");
    uint16_t v;

    fw_cfg_select(qt, 0x05);
    fw_cfg_read(qt, &v, 2);
    g_assert_cmpuint(GUINT16_FROM_LE(v), ==, 6);
    fw_cfg_select(qt, 0x0f);
    fw_cfg_read(qt, &v, 2);
    g_assert_cmpuint(GUINT16_FROM_LE(v), ==, 7);
    kqtest_quit(qt);
}

/* Nothing at a port or address: reads all ones at every width, writes vanish. */
static void test_unassigned(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");

    g_assert_cmphex(kqtest_inb(qt, 0x2a0), ==, 0xff);
    g_assert_cmphex(kqtest_inw(qt, 0x2a0), ==, 0xffff);
    g_assert_cmphex(kqtest_inl(qt, 0x2a0), ==, 0xffffffff);
    kqtest_writel(qt, 0xe0000000, 0x12345678);
    g_assert_cmphex(kqtest_readl(qt, 0xe0000000), ==, 0xffffffff);
    /* RAM works and ends where -m says. */
    kqtest_writel(qt, 0x7fffffc, 0xcafef00d);
    g_assert_cmphex(kqtest_readl(qt, 0x7fffffc), ==, 0xcafef00d);
    g_assert_cmphex(kqtest_readl(qt, 0x8000000), ==, 0xffffffff);
    kqtest_quit(qt);
}

/* PIT channel 0 reaches IOAPIC pin 2 (ISA IRQ 0's override); mode 0 raises OUT at zero. */
static void test_pit_irq(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");

    kqtest_irq_intercept_in(qt, "ioapic");
    kqtest_outb(qt, 0x43, 0x30);            /* channel 0, lo/hi, mode 0 */
    kqtest_outb(qt, 0x40, 1193 & 0xff);     /* ~1 ms at 1.193182 MHz */
    kqtest_outb(qt, 0x40, 1193 >> 8);
    kqtest_clock_step(qt, 500 * 1000);
    g_assert_false(kqtest_get_irq(qt, 2));
    kqtest_clock_step(qt, 1000 * 1000);
    g_assert_true(kqtest_get_irq(qt, 2));
    g_assert_false(kqtest_get_irq(qt, 0));  /* pin 0 is not ISA IRQ 0 on the pc */
    kqtest_quit(qt);
}

/* RTC periodic interrupt (MC146818A register B PIE) on ISA IRQ 8 / IOAPIC pin 8. */
static void test_rtc_periodic_irq(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");

    kqtest_irq_intercept_in(qt, "ioapic");
    kqtest_outb(qt, 0x70, 0x0a);
    kqtest_outb(qt, 0x71, 0x26);            /* 32.768 kHz base, rate 6: 1024 Hz */
    kqtest_outb(qt, 0x70, 0x0b);
    kqtest_outb(qt, 0x71, 0x42);            /* PIE, 24-hour */
    g_assert_false(kqtest_get_irq(qt, 8));
    kqtest_clock_step(qt, 2 * 1000 * 1000);
    g_assert_true(kqtest_get_irq(qt, 8));
    /* Reading register C acknowledges: IRQF clears and the line drops. */
    kqtest_outb(qt, 0x70, 0x0c);
    g_assert_cmphex(kqtest_inb(qt, 0x71) & 0xc0, ==, 0xc0);
    g_assert_false(kqtest_get_irq(qt, 8));
    kqtest_quit(qt);
}

/* isa-debug-exit: writing v ends the process with status (v << 1) | 1. */
static void test_debug_exit(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults "
                              "-device isa-debug-exit,iobase=0xf4,iosize=4");

    g_free(kqtest_cmd_raw(qt, "outb 0xf4 0x10"));
    g_assert_cmpint(kqtest_wait_exit(qt, 10000), ==, 0x21);
    kqtest_quit(qt);
}

/* Malformed protocol lines get FAIL and the VM stays usable. */
static void test_protocol_errors(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");
    const char *bad[] = { "outb", "outb 0x10000 1", "readl zz", "write 0 4 0xzz",
                          "memset 0 99999999999 0", "nosuchcommand", "irq_intercept_in /nope" };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *r = kqtest_cmd_raw(qt, "%s", bad[i]);
        g_assert_true(g_str_has_prefix(r, "FAIL"));
    }
    kqtest_writel(qt, 0x1000, 7);
    g_assert_cmpuint(kqtest_readl(qt, 0x1000), ==, 7);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc/cmos-memory", test_cmos_memory);
    g_test_add_func("/pc/fw-cfg", test_fw_cfg);
    g_test_add_func("/pc/fw-cfg-max-cpus", test_fw_cfg_max_cpus);
    g_test_add_func("/pc/unassigned", test_unassigned);
    g_test_add_func("/pc/pit-irq", test_pit_irq);
    g_test_add_func("/pc/rtc-periodic-irq", test_rtc_periodic_irq);
    g_test_add_func("/pc/debug-exit", test_debug_exit);
    g_test_add_func("/pc/protocol-errors", test_protocol_errors);
    return g_test_run();
}
