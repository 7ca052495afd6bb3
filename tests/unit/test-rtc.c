/*
 * MC146818A RTC through ports 0x70/0x71 under a manually driven virtual clock.  Section
 * names are those of the Motorola MC146818A data sheet.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "hw/rtc/mc146818rtc.h"
#include "kite/timer.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define SEC 1000000000LL

static DeviceState *rtc;

static uint8_t cmos_read(uint8_t r)
{
    outb(0x70, r);
    return inb(0x71);
}

static void cmos_write(uint8_t r, uint8_t v)
{
    outb(0x70, r);
    outb(0x71, v);
}

/* Move the virtual clock to ns, firing every timer due on the way, in order. */
static void clock_step_to(int64_t ns)
{
    int64_t d;

    while ((d = timer_next_deadline_ns(KITE_CLOCK_VIRTUAL)) >= 0 && d <= ns) {
        clock_virtual_set_ns(MAX(d, clock_get_ns(KITE_CLOCK_VIRTUAL)));
        main_loop_wait(true);
    }
    clock_virtual_set_ns(ns);
    main_loop_wait(true);
}

static void clock_step(int64_t delta)
{
    clock_step_to(clock_get_ns(KITE_CLOCK_VIRTUAL) + delta);
}

/* Set 24-hour BCD time with SET (register B), releasing SET at the current instant. */
static void set_time(int yy, int mo, int dd, int hh, int mi, int ss)
{
#define BCD(v) ((((v) / 10) << 4) | ((v) % 10))
    cmos_write(REG_B, cmos_read(REG_B) | 0x80);
    cmos_write(0x00, BCD(ss));
    cmos_write(0x02, BCD(mi));
    cmos_write(0x04, BCD(hh));
    cmos_write(0x07, BCD(dd));
    cmos_write(0x08, BCD(mo));
    cmos_write(0x09, BCD(yy % 100));
    cmos_write(0x32, BCD(yy / 100));
    cmos_write(REG_B, cmos_read(REG_B) & ~0x80);
}

static void setup(void)
{
    clock_step_to(100 * SEC);
    rtc = harness_new(TYPE_MC146818_RTC, NULL);
}

static void teardown(void)
{
    object_unparent(OBJECT(rtc));
}

static void test_power_on(void)
{
    time_t host = clock_get_ns(KITE_CLOCK_HOST) / SEC;
    struct tm tm;
    int year;

    setup();
    /* Register A: 32.768 kHz divider, 1024 Hz rate; B: 24-hour BCD; C clear; D: VRT. */
    g_assert_cmpuint(cmos_read(REG_A) & 0x7f, ==, 0x26);
    g_assert_cmpuint(cmos_read(REG_B), ==, 0x02);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x00);
    g_assert_cmpuint(cmos_read(REG_D), ==, 0x80);
    /* The date is the host's (UTC); compare the year and day, which cannot have moved. */
    gmtime_r(&host, &tm);
    year = (cmos_read(0x32) >> 4) * 1000 + (cmos_read(0x32) & 15) * 100 +
           (cmos_read(0x09) >> 4) * 10 + (cmos_read(0x09) & 15);
    if (tm.tm_hour != 23 || tm.tm_min != 59) {
        g_assert_cmpint(year, ==, tm.tm_year + 1900);
        g_assert_cmpuint(cmos_read(0x07), ==, BCD(tm.tm_mday));
        g_assert_cmpuint(cmos_read(0x06), ==, tm.tm_wday + 1);
    }
    /* Port 0x70 is write-only; D and C ignore writes. */
    g_assert_cmpuint(inb(0x70), ==, 0xff);
    cmos_write(REG_D, 0x00);
    g_assert_cmpuint(cmos_read(REG_D), ==, 0x80);
    teardown();
}

static void test_calendar(void)
{
    setup();
    /* 2024 is a leap year: Thursday Feb 29 23:59:58 -> Friday Mar 1 00:00:00. */
    set_time(2024, 2, 29, 23, 59, 58);
    g_assert_cmpuint(cmos_read(0x06), ==, 5);
    clock_step(SEC);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x59);
    clock_step(SEC);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x00);
    g_assert_cmpuint(cmos_read(0x04), ==, 0x00);
    g_assert_cmpuint(cmos_read(0x07), ==, 0x01);
    g_assert_cmpuint(cmos_read(0x08), ==, 0x03);
    g_assert_cmpuint(cmos_read(0x06), ==, 6);
    g_assert_cmpuint(cmos_read(0x09), ==, 0x24);
    g_assert_cmpuint(cmos_read(0x32), ==, 0x20);
    /* Year rollover into the next century byte. */
    set_time(2099, 12, 31, 23, 59, 59);
    clock_step(SEC);
    g_assert_cmpuint(cmos_read(0x09), ==, 0x00);
    g_assert_cmpuint(cmos_read(0x32), ==, 0x21);
    /* SET holds the registers still (Register B, SET). */
    cmos_write(REG_B, 0x82);
    clock_step(5 * SEC);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x00);
    cmos_write(REG_B, 0x02);
    clock_step(3 * SEC);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x03);
    /* A single register written while running sets the clock (QEMU behaves alike). */
    cmos_write(0x02, 0x45);
    clock_step(SEC);
    g_assert_cmpuint(cmos_read(0x02), ==, 0x45);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x04);
    teardown();
}

static void test_modes(void)
{
    setup();
    /* Table 3: binary, 12-hour: 11 PM is 0x8b. */
    cmos_write(REG_B, 0x80 | 0x04);
    cmos_write(0x00, 59);
    cmos_write(0x02, 59);
    cmos_write(0x04, 0x8b);
    cmos_write(0x07, 31);
    cmos_write(0x08, 12);
    cmos_write(0x09, 30);
    cmos_write(0x32, 20);
    cmos_write(REG_B, 0x04);
    clock_step(SEC);
    /* Midnight is 12 AM: 0x0c, no PM bit; 2031-01-01. */
    g_assert_cmpuint(cmos_read(0x04), ==, 12);
    g_assert_cmpuint(cmos_read(0x09), ==, 31);
    g_assert_cmpuint(cmos_read(0x08), ==, 1);
    clock_step(12 * 3600 * SEC);
    g_assert_cmpuint(cmos_read(0x04), ==, 0x80 | 12);     /* noon: 12 PM */
    clock_step(3600 * SEC);
    g_assert_cmpuint(cmos_read(0x04), ==, 0x80 | 1);
    /* Switch to 24-hour BCD: registers follow the mode from the next read. */
    cmos_write(REG_B, 0x02);
    g_assert_cmpuint(cmos_read(0x04), ==, 0x13);
    teardown();
}

static void test_uip(void)
{
    setup();
    set_time(2020, 1, 1, 0, 0, 0);
    /* Register A / Table 6: UIP from 244 us before the update to the end of the cycle. */
    clock_step(SEC / 2);
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0);
    clock_step(SEC / 2 - 200000);                 /* 200 us before the boundary */
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0x80);
    clock_step(200000 + 1000000);                 /* 1 ms into the update cycle */
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0x80);
    clock_step(1000000);                          /* 2 ms: cycle over */
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0);
    /* SET clears UIP. */
    clock_step(SEC - 2000000 - 100000);
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0x80);
    cmos_write(REG_B, 0x82);
    g_assert_cmpuint(cmos_read(REG_A) & 0x80, ==, 0);
    teardown();
}

static void test_update_interrupt(void)
{
    setup();
    cmos_write(REG_A, 0x20);                    /* no periodic flag in the way */
    set_time(2020, 1, 1, 0, 0, 0);
    /* Polled: UF appears after an update, reading C clears it; no IRQ without UIE. */
    clock_step(SEC + 1000);
    g_assert_cmpint(harness_irq[8], ==, 0);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x10);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x00);
    /* UIE: the IRQ rises at the next update by itself, with IRQF. */
    cmos_write(REG_B, 0x12);
    clock_step(SEC / 2);
    g_assert_cmpint(harness_irq[8], ==, 0);
    clock_step(SEC / 2);
    g_assert_cmpint(harness_irq[8], ==, 1);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x90);
    g_assert_cmpint(harness_irq[8], ==, 0);
    clock_step(SEC);
    g_assert_cmpint(harness_irq[8], ==, 1);
    /* Setting SET clears UIE (Register B, UIE). */
    cmos_read(REG_C);
    cmos_write(REG_B, 0x92);
    g_assert_cmpuint(cmos_read(REG_B), ==, 0x82);
    /* Enabling an interrupt whose flag is already set asserts IRQF at once. */
    cmos_write(REG_B, 0x02);
    clock_step(2 * SEC);
    cmos_write(REG_B, 0x12);
    g_assert_cmpint(harness_irq[8], ==, 1);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x90);
    teardown();
}

static void test_alarm(void)
{
    setup();
    cmos_write(REG_A, 0x20);
    set_time(2020, 1, 1, 10, 20, 0);
    /* Alarm at 10:20:05 with AIE. */
    cmos_write(0x01, 0x05);
    cmos_write(0x03, 0x20);
    cmos_write(0x05, 0x10);
    cmos_write(REG_B, 0x22);
    clock_step(4 * SEC + SEC / 2);
    g_assert_cmpint(harness_irq[8], ==, 0);
    clock_step(SEC / 2);
    g_assert_cmpint(harness_irq[8], ==, 1);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0x80 | 0x20 | 0x10);
    clock_step(SEC);
    g_assert_cmpint(harness_irq[8], ==, 0);     /* UF without UIE: no interrupt */
    /* Don't-care hours and minutes (C0h-FFh): every minute at :30. */
    cmos_write(0x05, 0xff);
    cmos_write(0x03, 0xc0);
    cmos_write(0x01, 0x30);
    cmos_read(REG_C);
    clock_step(24 * SEC);                       /* 10:20:30 */
    g_assert_cmpint(harness_irq[8], ==, 1);
    cmos_read(REG_C);
    clock_step(59 * SEC);
    g_assert_cmpint(harness_irq[8], ==, 0);
    clock_step(SEC);                            /* 10:21:30 */
    g_assert_cmpint(harness_irq[8], ==, 1);
    /* Polled over a long gap: AF is still reported. */
    cmos_write(REG_B, 0x02);
    cmos_read(REG_C);
    clock_step(3600 * SEC);
    g_assert_cmpuint(cmos_read(REG_C) & 0x20, ==, 0x20);
    teardown();
}

static void test_periodic(void)
{
    setup();
    /* Table 5: RS = 0110 is 976.5625 us.  PF is set without PIE, the IRQ needs PIE. */
    cmos_read(REG_C);
    clock_step(1000000);
    g_assert_cmpuint(cmos_read(REG_C) & 0x40, ==, 0x40);
    g_assert_cmpint(harness_irq[8], ==, 0);
    cmos_write(REG_B, 0x42);
    clock_step(977000);
    g_assert_cmpint(harness_irq[8], ==, 1);
    g_assert_cmpuint(cmos_read(REG_C) & 0xc0, ==, 0xc0);
    g_assert_cmpint(harness_irq[8], ==, 0);
    /* Count edges over 1/8 s at 1024 Hz: 128 +- 1 interrupts if the guest acknowledges. */
    harness_irq_edges[8] = 0;
    for (int i = 0; i < 128; i++) {
        clock_step(976563);
        if (harness_irq[8]) {
            cmos_read(REG_C);
        }
    }
    g_assert_cmpuint(harness_irq_edges[8], >=, 127);
    g_assert_cmpuint(harness_irq_edges[8], <=, 129);
    /* RS = 1111: 500 ms. */
    cmos_write(REG_A, 0x2f);
    cmos_read(REG_C);
    harness_irq_edges[8] = 0;
    clock_step(2 * SEC);
    g_assert_cmpuint(harness_irq_edges[8], ==, 1);     /* never acknowledged: one edge */
    g_assert_cmpuint(cmos_read(REG_C), ==, 0xc0 | 0x10);
    /* RS = 0000: no periodic flag at all. */
    cmos_write(REG_A, 0x20);
    cmos_read(REG_C);
    clock_step(SEC / 4);
    g_assert_cmpuint(cmos_read(REG_C) & 0x40, ==, 0);
    teardown();
}

static void test_divider(void)
{
    setup();
    set_time(2020, 1, 1, 0, 0, 10);
    clock_step(SEC / 4);
    /* DV = 11x holds the divider in reset: time stops. */
    cmos_write(REG_A, 0x70);
    clock_step(5 * SEC);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x10);
    g_assert_cmpuint(cmos_read(REG_C) & 0x10, ==, 0);
    /* Releasing it: the first update comes half a second later. */
    cmos_write(REG_A, 0x26);
    clock_step(SEC / 2 - 1000);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x10);
    clock_step(2000);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x11);
    teardown();
}

static void test_ram_and_reset(void)
{
    setup();
    /* Bytes 0x0e-0x7f are plain RAM; bit 7 of the index is the NMI mask, not address. */
    for (int i = 0x0e; i < 0x80; i++) {
        cmos_write(i, i ^ 0x5a);
    }
    outb(0x70, 0x80 | 0x20);
    g_assert_cmpuint(inb(0x71), ==, 0x20 ^ 0x5a);
    /* A word write to 0x70 is the index then the data, as two byte cycles. */
    outw(0x70, 0x21 | (0x99 << 8));
    g_assert_cmpuint(cmos_read(0x21), ==, 0x99);
    outb(0x70, 0x22);
    g_assert_cmpuint(inw(0x70) >> 8, ==, 0x22 ^ 0x5a);
    /* Reset: enables and flags clear, IRQ low; time, RAM and register A stay. */
    cmos_write(REG_A, 0x2a);
    cmos_write(REG_B, 0x7e);
    clock_step(SEC);
    g_assert_cmpint(harness_irq[8], ==, 1);
    device_cold_reset(rtc);
    g_assert_cmpint(harness_irq[8], ==, 0);
    g_assert_cmpuint(cmos_read(REG_B), ==, 0x02 | 0x04);
    g_assert_cmpuint(cmos_read(REG_C), ==, 0);
    g_assert_cmpuint(cmos_read(REG_A) & 0x7f, ==, 0x2a);
    g_assert_cmpuint(cmos_read(0x40), ==, 0x40 ^ 0x5a);

    /* The board's memory-size bytes, as SeaBIOS reads them. */
    rtc_set_pc_memory(rtc, 32 * MiB, 1 * GiB);
    rtc_set_cpu_count(rtc, 4);
    g_assert_cmpuint(cmos_read(0x15) | cmos_read(0x16) << 8, ==, 640);
    g_assert_cmpuint(cmos_read(0x17) | cmos_read(0x18) << 8, ==, 31 * 1024);
    g_assert_cmpuint(cmos_read(0x30) | cmos_read(0x31) << 8, ==, 31 * 1024);
    g_assert_cmpuint(cmos_read(0x34) | cmos_read(0x35) << 8, ==, 16 * 16);
    g_assert_cmpuint(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, ==,
                     16384);
    g_assert_cmpuint(cmos_read(0x5f), ==, 3);
    rtc_set_pc_memory(rtc, 3 * GiB + 512 * MiB, 0);        /* 0x17/0x18 cap at 0xffff */
    g_assert_cmpuint(cmos_read(0x17) | cmos_read(0x18) << 8, ==, 0xffff);
    g_assert_cmpuint(cmos_read(0x34) | cmos_read(0x35) << 8, ==, (3584 - 16) * 16);
    teardown();
}

static void scramble(void)
{
    set_time(1999, 9, 9, 9, 9, 9);
    cmos_write(0x50, 0);
    cmos_write(REG_B, 0x02);
}

static void test_vmstate(void)
{
    setup();
    set_time(2021, 6, 15, 12, 0, 0);
    cmos_write(0x50, 0xab);
    cmos_write(REG_B, 0x12);
    clock_step(SEC / 2);
    harness_vmstate_roundtrip(rtc, scramble);
    g_assert_cmpuint(cmos_read(0x50), ==, 0xab);
    g_assert_cmpuint(cmos_read(0x08), ==, 0x06);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x00);
    /* The update interrupt is armed again after the load. */
    clock_step(SEC / 2);
    g_assert_cmpint(harness_irq[8], ==, 1);
    g_assert_cmpuint(cmos_read(0x00), ==, 0x01);
    teardown();
    /* Unrealize freed both timers. */
    g_assert_cmpint(timer_next_deadline_ns(KITE_CLOCK_VIRTUAL), ==, -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    harness_init();
    g_test_add_func("/rtc/power-on", test_power_on);
    g_test_add_func("/rtc/calendar", test_calendar);
    g_test_add_func("/rtc/modes", test_modes);
    g_test_add_func("/rtc/uip", test_uip);
    g_test_add_func("/rtc/update-interrupt", test_update_interrupt);
    g_test_add_func("/rtc/alarm", test_alarm);
    g_test_add_func("/rtc/periodic", test_periodic);
    g_test_add_func("/rtc/divider", test_divider);
    g_test_add_func("/rtc/ram-reset", test_ram_and_reset);
    g_test_add_func("/rtc/vmstate", test_vmstate);
    return g_test_run();
}
