/*
 * The ACPI PM device through its ports under a manually driven virtual clock: PM timer
 * (ACPI 6.4 §4.8.3.3), TMR_STS and the SCI, the power button, S5 soft-off, vmstate.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "hw/acpi/acpi.h"
#include "kite/runstate.h"
#include "kite/timer.h"

#define PM1_STS 0x600
#define PM1_EN  0x602
#define PM1_CNT 0x604
#define PM_TMR  0x608

static DeviceState *dev;

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

static int64_t ticks_to_ns(uint64_t ticks)
{
    return (ticks * NANOSECONDS_PER_SECOND + ACPI_PM_TIMER_FREQUENCY - 1) /
           ACPI_PM_TIMER_FREQUENCY;
}

static void setup(void)
{
    clock_virtual_set_ns(0);
    dev = harness_new(TYPE_ACPI_PM, NULL);
}

static void teardown(void)
{
    object_unparent(OBJECT(dev));
    dev = NULL;
}

static void test_reset_values(void)
{
    setup();
    /* §4.8.3.1/§4.8.3.2.1: status and enables clear; SCI_EN set (no SMI_CMD, ACPI mode). */
    g_assert_cmpuint(inw(PM1_STS), ==, 0);
    g_assert_cmpuint(inw(PM1_EN), ==, 0);
    g_assert_cmpuint(inw(PM1_CNT), ==, ACPI_BITMASK_SCI_ENABLE);
    outw(PM1_CNT, 0);
    g_assert_cmpuint(inw(PM1_CNT) & ACPI_BITMASK_SCI_ENABLE, ==, ACPI_BITMASK_SCI_ENABLE);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    teardown();
}

static void test_pm_timer(void)
{
    setup();
    g_assert_cmpuint(inl(PM_TMR), ==, 0);
    /* 3.579545 MHz: one second later it has counted 3579545. */
    clock_step_to(NANOSECONDS_PER_SECOND);
    g_assert_cmpuint(inl(PM_TMR), ==, 3579545);
    /* Narrow reads see the same counter. */
    g_assert_cmpuint(inw(PM_TMR), ==, 3579545 & 0xffff);
    g_assert_cmpuint(inb(PM_TMR + 2), ==, (3579545 >> 16) & 0xff);
    /* 24 bits: it wraps after 2^24 ticks, and bit 24 and up read as 0. */
    clock_step_to(ticks_to_ns((1 << 24) + 5));
    g_assert_cmpuint(inl(PM_TMR), ==, 5);
    /* Writes do nothing. */
    outl(PM_TMR, 0x123456);
    g_assert_cmpuint(inl(PM_TMR), ==, 5);
    teardown();
}

static void test_tmr_sts_and_sci(void)
{
    setup();
    /* §4.8.3.3: TMR_STS is set when bit 23 of the counter changes. */
    clock_step_to(ticks_to_ns((1 << 23) - 10));
    g_assert_cmpuint(inw(PM1_STS) & ACPI_BITMASK_TIMER_STATUS, ==, 0);
    clock_step_to(ticks_to_ns((1 << 23) + 1));
    g_assert_cmpuint(inw(PM1_STS) & ACPI_BITMASK_TIMER_STATUS, ==, ACPI_BITMASK_TIMER_STATUS);
    /* Not enabled: no SCI.  Writing 1 clears it; it stays clear until the next toggle. */
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    outw(PM1_STS, ACPI_BITMASK_TIMER_STATUS);
    g_assert_cmpuint(inw(PM1_STS) & ACPI_BITMASK_TIMER_STATUS, ==, 0);

    /* With TMR_EN the SCI rises at the next toggle (bit 23 falling at 2^24) by itself. */
    outw(PM1_EN, ACPI_BITMASK_TIMER_STATUS);
    clock_step_to(ticks_to_ns((1 << 24) - 100));
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    clock_step_to(ticks_to_ns((1 << 24) + 100));
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    /* Clearing the status drops the SCI (level-triggered). */
    outb(PM1_STS, ACPI_BITMASK_TIMER_STATUS);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    /* Writing 0s clears nothing. */
    clock_step_to(ticks_to_ns((3 << 23) + 1));
    outw(PM1_STS, 0);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    outw(PM1_EN, 0);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    teardown();
}

static void test_power_button(void)
{
    setup();
    /* §4.8.2.2.1.1: a press sets PWRBTN_STS; the SCI follows PWRBTN_EN. */
    system_run_powerdown_handlers();
    g_assert_cmpuint(inw(PM1_STS) & ACPI_BITMASK_POWER_BUTTON_STATUS, ==,
                     ACPI_BITMASK_POWER_BUTTON_STATUS);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    outb(PM1_EN + 1, ACPI_BITMASK_POWER_BUTTON_STATUS >> 8);
    g_assert_cmpuint(inw(PM1_EN), ==, ACPI_BITMASK_POWER_BUTTON_STATUS);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    /* The low byte of PM1_EN is independent of the high one. */
    outb(PM1_EN, 0);
    g_assert_cmpuint(inw(PM1_EN), ==, ACPI_BITMASK_POWER_BUTTON_STATUS);
    outw(PM1_STS, ACPI_BITMASK_POWER_BUTTON_STATUS);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 0);
    teardown();
}

static void test_sleep(void)
{
    setup();
    system_take_shutdown_request();
    /* SLP_TYP alone does nothing; SLP_EN starts the transition; S3 is not emulated. */
    outw(PM1_CNT, ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_BITMASK_SCI_ENABLE);
    g_assert_cmpint(system_take_shutdown_request(), ==, 0);
    outw(PM1_CNT, (ACPI_SLP_TYP_S3 << ACPI_SLP_TYP_SHIFT) | ACPI_BITMASK_SLEEP_ENABLE);
    g_assert_cmpint(system_take_shutdown_request(), ==, 0);
    /* SLP_EN is write-only; SLP_TYP reads back. */
    g_assert_cmpuint(inw(PM1_CNT), ==, (ACPI_SLP_TYP_S3 << ACPI_SLP_TYP_SHIFT) |
                                       ACPI_BITMASK_SCI_ENABLE);
    /* S5 (\_S5 says SLP_TYP 0) with SLP_EN: soft-off, as a 16-bit or a high-byte write. */
    outw(PM1_CNT, (ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT) | ACPI_BITMASK_SLEEP_ENABLE);
    g_assert_cmpint(system_take_shutdown_request(), ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN + 1);
    outb(PM1_CNT + 1, ACPI_BITMASK_SLEEP_ENABLE >> 8);
    g_assert_cmpint(system_take_shutdown_request(), ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN + 1);
    teardown();
}

static void reset_dev(void)
{
    device_cold_reset(dev);
}

static void test_vmstate_and_unrealize(void)
{
    setup();
    outw(PM1_EN, ACPI_BITMASK_POWER_BUTTON_STATUS | ACPI_BITMASK_TIMER_STATUS);
    system_run_powerdown_handlers();
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    harness_vmstate_roundtrip(dev, reset_dev);
    g_assert_cmpuint(inw(PM1_EN), ==, ACPI_BITMASK_POWER_BUTTON_STATUS |
                                      ACPI_BITMASK_TIMER_STATUS);
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    outw(PM1_STS, 0xffff);
    /* The restored TMR_EN re-armed the timer: the SCI comes at the next toggle. */
    clock_step_to(ticks_to_ns((1 << 23) + 1));
    g_assert_cmpint(harness_irq[ACPI_SCI_IRQ], ==, 1);
    teardown();
    /* Unrealize unmapped the ports and freed the timer (nothing left to fire). */
    g_assert_cmpuint(inw(PM1_STS), ==, 0xffff);
    g_assert_cmpint(timer_next_deadline_ns(KITE_CLOCK_VIRTUAL), ==, -1);
    /* A power button press with no device is harmless. */
    system_run_powerdown_handlers();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    harness_init();
    g_test_add_func("/acpi-pm/reset-values", test_reset_values);
    g_test_add_func("/acpi-pm/pm-timer", test_pm_timer);
    g_test_add_func("/acpi-pm/tmr-sts-sci", test_tmr_sts_and_sci);
    g_test_add_func("/acpi-pm/power-button", test_power_button);
    g_test_add_func("/acpi-pm/sleep", test_sleep);
    g_test_add_func("/acpi-pm/vmstate-unrealize", test_vmstate_and_unrealize);
    return g_test_run();
}
