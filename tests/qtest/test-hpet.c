/*
 * The pc machine's HPET (hw/timer/hpet.c) through the qtest protocol: capabilities as QEMU's,
 * the main counter, one-shot and periodic comparators, 32-bit mode, level interrupts and the
 * status register, LegacyReplacement routing, bad accesses, hpet=off.
 * IA-PC HPET specification 1.0a, section 2.3.  The clock is 100 MHz: 1 tick = 10 ns.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"

#define HPET            0xfed00000ULL
#define GCAP_ID         (HPET + 0x000)
#define GEN_CONF        (HPET + 0x010)
#define GINTR_STA       (HPET + 0x020)
#define MAIN_CNT        (HPET + 0x0f0)
#define TN_CONF(n)      (HPET + 0x100 + 0x20 * (n))
#define TN_CMP(n)       (HPET + 0x108 + 0x20 * (n))

#define CONF_ENABLE     1
#define CONF_LEGACY     2
#define TN_LEVEL        (1u << 1)
#define TN_INT_ENB      (1u << 2)
#define TN_PERIODIC     (1u << 3)
#define TN_VAL_SET      (1u << 6)
#define TN_32MODE       (1u << 8)
#define TN_ROUTE(n)     ((n) << 9)

#define US              1000        /* ns */

static KQTest *start(const char *extra)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults %s", extra);

    kqtest_irq_intercept_in(qt, "ioapic");
    return qt;
}

/* Mode 0 with only the low byte of the count written: OUT0 low, counting stopped. */
static void pit_silence(KQTest *qt)
{
    kqtest_outb(qt, 0x43, 0x30);
    kqtest_outb(qt, 0x40, 0x00);
}

/* 2.3.4, 2.3.8: QEMU's values (3 timers, 10 ns, 8086, legacy capable, route cap pin 2). */
static void test_capabilities(void)
{
    KQTest *qt = start("");

    g_assert_cmphex(kqtest_readq(qt, GCAP_ID), ==, 0x009896808086a201ULL);
    g_assert_cmphex(kqtest_readl(qt, GCAP_ID), ==, 0x8086a201);
    g_assert_cmphex(kqtest_readl(qt, GCAP_ID + 4), ==, 10000000);
    g_assert_cmphex(kqtest_readq(qt, GEN_CONF), ==, 0);
    g_assert_cmphex(kqtest_readq(qt, GINTR_STA), ==, 0);
    for (int n = 0; n < 3; n++) {
        g_assert_cmphex(kqtest_readq(qt, TN_CONF(n)), ==, 0x0000000400000030ULL);
        g_assert_cmphex(kqtest_readq(qt, TN_CMP(n)), ==, ~0ULL);
    }
    /* Capability bits and GCAP_ID are read-only. */
    kqtest_writeq(qt, GCAP_ID, 0);
    kqtest_writeq(qt, TN_CONF(0), ~0ULL);
    g_assert_cmphex(kqtest_readq(qt, GCAP_ID), ==, 0x009896808086a201ULL);
    g_assert_cmphex(kqtest_readq(qt, TN_CONF(0)) >> 32, ==, 0x4);
    g_assert_cmphex(kqtest_readq(qt, TN_CONF(0)) & 0x30, ==, 0x30);
    kqtest_quit(qt);
}

/* hpet=off and -no-hpet: nothing at 0xfed00000. */
static void test_off(void)
{
    const char *opts[] = { "-M hpet=off", "-no-hpet" };

    for (unsigned i = 0; i < G_N_ELEMENTS(opts); i++) {
        KQTest *qt = start(opts[i]);
        g_assert_cmphex(kqtest_readl(qt, GCAP_ID), ==, 0xffffffff);
        kqtest_quit(qt);
    }
}

/* 2.3.5/2.3.7: the counter runs only while ENABLE_CNF is set and keeps its value when halted. */
static void test_counter(void)
{
    KQTest *qt = start("");

    kqtest_clock_step(qt, 1000 * US);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 0);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 10 * US);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 1000);
    kqtest_writel(qt, GEN_CONF, 0);
    kqtest_clock_step(qt, 10 * US);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 1000);
    /* Written while halted, in 32-bit halves; it resumes from there. */
    kqtest_writel(qt, MAIN_CNT, 0xfffffff0);
    kqtest_writel(qt, MAIN_CNT + 4, 0x12);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 0x12fffffff0ULL);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 1 * US);
    g_assert_cmphex(kqtest_readl(qt, MAIN_CNT), ==, 0x54);
    g_assert_cmphex(kqtest_readl(qt, MAIN_CNT + 4), ==, 0x13);
    /* A write while running is ignored. */
    kqtest_writeq(qt, MAIN_CNT, 5);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 0x1300000054ULL);
    kqtest_quit(qt);
}

/* 2.3.9.2.1: one-shot, edge, routed to IOAPIC pin 2: one interrupt at the match. */
static void test_oneshot(void)
{
    KQTest *qt = start("");

    pit_silence(qt);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_ROUTE(2));
    g_assert_cmphex(kqtest_readl(qt, TN_CONF(2)) & 0x3e06, ==, TN_INT_ENB | TN_ROUTE(2));
    kqtest_writeq(qt, TN_CMP(2), 1000);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 9 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 0);
    kqtest_clock_step(qt, 2 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 1);
    g_assert_false(kqtest_get_irq(qt, 2));           /* an edge: raised and lowered */
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 0);   /* edge mode: no status */
    kqtest_clock_step(qt, 1000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 1);
    /* A route outside Tn_INT_ROUTE_CAP does not take. */
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_ROUTE(5));
    g_assert_cmphex(kqtest_readl(qt, TN_CONF(2)) & 0x3e00, ==, TN_ROUTE(2));
    /* Halting the counter disables interrupts; the one-shot fires once it runs again. */
    kqtest_writel(qt, GEN_CONF, 0);
    kqtest_writeq(qt, TN_CMP(2), kqtest_readq(qt, MAIN_CNT) + 100);
    kqtest_clock_step(qt, 10 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 1);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 2 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 2);
    kqtest_quit(qt);
}

/* 2.3.9.2.2: periodic mode with VAL_SET: the comparator advances by the period. */
static void test_periodic(void)
{
    KQTest *qt = start("");

    pit_silence(qt);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(2));
    kqtest_writeq(qt, TN_CMP(2), 1000);         /* the accumulator (VAL_SET) */
    g_assert_cmphex(kqtest_readl(qt, TN_CONF(2)) & TN_VAL_SET, ==, 0);   /* self-clearing */
    kqtest_writeq(qt, TN_CMP(2), 2000);         /* the period: 20 us */
    g_assert_cmphex(kqtest_readq(qt, TN_CMP(2)), ==, 1000);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 15 * US);             /* counter 1500: first match at 1000 */
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 1);
    g_assert_cmphex(kqtest_readq(qt, TN_CMP(2)), ==, 3000);
    for (int i = 0; i < 5; i++) {
        kqtest_clock_step(qt, 20 * US);
    }
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 6);
    g_assert_cmphex(kqtest_readq(qt, TN_CMP(2)), ==, 13000);
    /* The qtest clock visits every deadline on the way: one interrupt per period. */
    kqtest_clock_step(qt, 1000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 56);
    g_assert_cmphex(kqtest_readq(qt, TN_CMP(2)), ==, 113000);
    /* Turning interrupts off stops it. */
    kqtest_writel(qt, TN_CONF(2), TN_PERIODIC | TN_ROUTE(2));
    kqtest_clock_step(qt, 100 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 56);
    kqtest_quit(qt);
}

/* A period of one tick is capped at 100 kHz of interrupts, not one per 10 ns. */
static void test_tiny_period(void)
{
    KQTest *qt = start("");

    pit_silence(qt);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(2));
    kqtest_writeq(qt, TN_CMP(2), 1);
    kqtest_writeq(qt, TN_CMP(2), 1);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    for (int i = 0; i < 10; i++) {
        kqtest_clock_step(qt, 10 * US);
    }
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), >=, 9);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), <=, 11);
    kqtest_quit(qt);
}

/* 2.3.8 Tn_32MODE_CNF: a 32-bit comparator matches the low half; one-shot also fires at wrap. */
static void test_32bit(void)
{
    KQTest *qt = start("");

    pit_silence(qt);
    kqtest_writeq(qt, MAIN_CNT, 0xffffff00ULL);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_32MODE | TN_ROUTE(2));
    kqtest_writeq(qt, TN_CMP(2), 0x1234500000010ULL);
    g_assert_cmphex(kqtest_readq(qt, TN_CMP(2)), ==, 0x10);     /* 32 bits wide */
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 0x100 * 10 - 5);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 0);
    kqtest_clock_step(qt, 10);                  /* the low half wraps: an interrupt */
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 1);
    g_assert_cmphex(kqtest_readq(qt, MAIN_CNT), ==, 0x100000000ULL);
    kqtest_clock_step(qt, 0x10 * 10);           /* the match itself */
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 2);
    kqtest_clock_step(qt, 1000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 2);

    /* 32-bit periodic across the wrap: matches at ...f800, then 0x800, 0x1800. */
    kqtest_writel(qt, GEN_CONF, 0);
    kqtest_writeq(qt, MAIN_CNT, 0x1fffff000ULL);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_32MODE | TN_PERIODIC | TN_VAL_SET |
                  TN_ROUTE(2));
    kqtest_writel(qt, TN_CMP(2), 0xfffff800);
    kqtest_writel(qt, TN_CMP(2), 0x1000);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 0x801 * 10);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 3);
    g_assert_cmphex(kqtest_readl(qt, TN_CMP(2)), ==, 0x800);
    kqtest_clock_step(qt, 0x1000 * 10);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 4);
    kqtest_clock_step(qt, 0x1000 * 10);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, 5);
    g_assert_cmphex(kqtest_readl(qt, TN_CMP(2)), ==, 0x2800);
    kqtest_quit(qt);
}

/* 2.3.6: level mode holds the line and the status bit until software writes 1 to it. */
static void test_level(void)
{
    KQTest *qt = start("");

    pit_silence(qt);
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_LEVEL | TN_ROUTE(2));
    kqtest_writeq(qt, TN_CMP(2), 100);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    kqtest_clock_step(qt, 2 * US);
    g_assert_true(kqtest_get_irq(qt, 2));
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 1u << 2);
    kqtest_writel(qt, GINTR_STA, 1u << 1);      /* other bits: no effect */
    g_assert_true(kqtest_get_irq(qt, 2));
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 1u << 2);
    kqtest_writel(qt, GINTR_STA, 1u << 2);
    g_assert_false(kqtest_get_irq(qt, 2));
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 0);
    /* Halting the block drops the line but keeps the status. */
    kqtest_writeq(qt, TN_CMP(2), kqtest_readq(qt, MAIN_CNT) + 100);
    kqtest_clock_step(qt, 2 * US);
    g_assert_true(kqtest_get_irq(qt, 2));
    kqtest_writel(qt, GEN_CONF, 0);
    g_assert_false(kqtest_get_irq(qt, 2));
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 1u << 2);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    g_assert_true(kqtest_get_irq(qt, 2));
    /* Switching to edge mode clears the status bit and the line. */
    kqtest_writel(qt, TN_CONF(2), TN_INT_ENB | TN_ROUTE(2));
    g_assert_false(kqtest_get_irq(qt, 2));
    g_assert_cmphex(kqtest_readl(qt, GINTR_STA), ==, 0);
    kqtest_quit(qt);
}

/*
 * 2.3.5 LEG_RT_CNF: timer 0 drives ISA IRQ 0 (IOAPIC pin 2) and timer 1 IRQ 8 whatever
 * their route fields say; the PIT's and RTC's own interrupts are cut off meanwhile.
 */
static void test_legacy(void)
{
    KQTest *qt = start("");
    unsigned base;

    /* The PIT's power-on 18.2 Hz square wave reaches pin 2 without LegacyReplacement... */
    kqtest_clock_step(qt, 200 * 1000 * US);
    base = kqtest_irq_raises(qt, 2);
    g_assert_cmpuint(base, >=, 3);
    /* ...and not with it. */
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE | CONF_LEGACY);
    kqtest_clock_step(qt, 200 * 1000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, base);
    g_assert_false(kqtest_get_irq(qt, 2));
    /* Timer 0, periodic 10 ms, takes IRQ 0. */
    kqtest_writel(qt, TN_CONF(0), TN_INT_ENB | TN_PERIODIC | TN_VAL_SET);
    kqtest_writeq(qt, TN_CMP(0), kqtest_readq(qt, MAIN_CNT) + 1000000);
    kqtest_writeq(qt, TN_CMP(0), 1000000);
    kqtest_clock_step(qt, 100 * 1000 * US + 5 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), ==, base + 10);
    g_assert_cmpuint(kqtest_irq_raises(qt, 0), ==, 0);
    /* Timer 1 one-shot on IRQ 8 (pin 8); the RTC's periodic interrupt stays off the line. */
    kqtest_outb(qt, 0x70, 0x0a);
    kqtest_outb(qt, 0x71, 0x26);                /* 1024 Hz */
    kqtest_outb(qt, 0x70, 0x0b);
    kqtest_outb(qt, 0x71, 0x42);                /* PIE */
    kqtest_clock_step(qt, 5000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 8), ==, 0);
    kqtest_writel(qt, TN_CONF(1), TN_INT_ENB);
    kqtest_writeq(qt, TN_CMP(1), kqtest_readq(qt, MAIN_CNT) + 100);
    kqtest_clock_step(qt, 2 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 8), ==, 1);
    /* LegacyReplacement off: timer 0 quiet, the RTC's pending IRQ 8 is back at once. */
    kqtest_writel(qt, TN_CONF(0), 0);
    kqtest_writel(qt, GEN_CONF, CONF_ENABLE);
    g_assert_true(kqtest_get_irq(qt, 8));
    base = kqtest_irq_raises(qt, 2);
    kqtest_clock_step(qt, 200 * 1000 * US);
    g_assert_cmpuint(kqtest_irq_raises(qt, 2), >=, base + 3);
    kqtest_quit(qt);
}

/* Bytes, words, unaligned and reserved offsets, registers of absent timers: all harmless. */
static void test_bad_access(void)
{
    KQTest *qt = start("");

    kqtest_writeb(qt, GEN_CONF, CONF_ENABLE);
    kqtest_writew(qt, GEN_CONF, CONF_ENABLE);
    kqtest_writel(qt, GEN_CONF + 2, CONF_ENABLE);
    kqtest_writeq(qt, GEN_CONF + 4, CONF_ENABLE);
    g_assert_cmphex(kqtest_readl(qt, GEN_CONF), ==, 0);
    kqtest_readb(qt, GCAP_ID);
    kqtest_readw(qt, GCAP_ID + 2);
    kqtest_readl(qt, GCAP_ID + 1);
    for (uint64_t off = 0x160; off < 0x400; off += 8) {      /* timers 3..31: absent */
        kqtest_writeq(qt, HPET + off, ~0ULL);
        g_assert_cmphex(kqtest_readq(qt, HPET + off), ==, 0);
    }
    kqtest_writeq(qt, HPET + 0x30, ~0ULL);                  /* reserved */
    g_assert_cmphex(kqtest_readq(qt, HPET + 0x30), ==, 0);
    g_assert_cmphex(kqtest_readq(qt, GCAP_ID), ==, 0x009896808086a201ULL);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hpet/capabilities", test_capabilities);
    g_test_add_func("/hpet/off", test_off);
    g_test_add_func("/hpet/counter", test_counter);
    g_test_add_func("/hpet/oneshot", test_oneshot);
    g_test_add_func("/hpet/periodic", test_periodic);
    g_test_add_func("/hpet/tiny-period", test_tiny_period);
    g_test_add_func("/hpet/32bit", test_32bit);
    g_test_add_func("/hpet/level", test_level);
    g_test_add_func("/hpet/legacy", test_legacy);
    g_test_add_func("/hpet/bad-access", test_bad_access);
    return g_test_run();
}
