/*
 * HPET (hw/timer/hpet.c) without a machine: the register handlers on the device alone,
 * save/restore of a running periodic timer, a fuzz loop of random accesses and clock jumps,
 * realize/unrealize.  IA-PC HPET specification 1.0a, 2.3.  1 tick = 10 ns.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/timer.h"
#include "kite/vmstate.h"
#include "hw/timer/hpet.h"
#include "hw/irq.h"

#define GEN_CONF    0x010
#define GINTR_STA   0x020
#define MAIN_CNT    0x0f0
#define TN_CONF(n)  (0x100 + 0x20 * (n))
#define TN_CMP(n)   (0x108 + 0x20 * (n))

static int levels[HPET_NUM_IRQ_ROUTES];
static unsigned raises[HPET_NUM_IRQ_ROUTES];
static int pit_legacy = -1;

static void line_handler(void *opaque, int n, int level)
{
    if (level && !levels[n]) {
        raises[n]++;
    }
    levels[n] = level;
}

static void legacy_handler(void *opaque, int n, int level)
{
    pit_legacy = level;
}

static void advance(int64_t ns)
{
    clock_virtual_warp(clock_get_ns(KITE_CLOCK_VIRTUAL) + ns);
}

static IRQState **the_lines;
static IRQState *the_legacy;

static DeviceState *setup(void)
{
    DeviceState *dev = qdev_new(TYPE_HPET);

    sysbus_realize_and_unref(dev, &error_abort);
    for (int i = 0; i < HPET_NUM_IRQ_ROUTES; i++) {
        qdev_connect_gpio_out(dev, i, the_lines[i]);
    }
    qdev_connect_gpio_out_named(dev, HPET_PIT_LEGACY_OUT, 0, the_legacy);
    device_cold_reset(dev);
    memset(levels, 0, sizeof(levels));
    memset(raises, 0, sizeof(raises));
    pit_legacy = -1;
    return dev;
}

static void teardown(DeviceState *dev)
{
    object_unparent(OBJECT(dev));
    g_assert_cmpint(timer_next_deadline_ns(KITE_CLOCK_VIRTUAL), ==, -1);  /* timers freed */
}

/* 2.3.5: LegacyReplacement moves the PIT input off line 0 and says so on pit-legacy. */
static void test_legacy_passthrough(void)
{
    DeviceState *dev = setup();

    irq_set_level(qdev_get_gpio_in(dev, HPET_LEGACY_PIT_INT), 1);
    g_assert_cmpint(levels[0], ==, 1);
    irq_set_level(qdev_get_gpio_in(dev, HPET_LEGACY_RTC_INT), 1);
    g_assert_cmpint(levels[8], ==, 1);
    hpet_reg_write(dev, GEN_CONF, 3, 4);
    g_assert_cmpint(pit_legacy, ==, 1);
    g_assert_cmpint(levels[0], ==, 0);
    g_assert_cmpint(levels[8], ==, 0);
    irq_set_level(qdev_get_gpio_in(dev, HPET_LEGACY_PIT_INT), 0);
    irq_set_level(qdev_get_gpio_in(dev, HPET_LEGACY_PIT_INT), 1);
    g_assert_cmpuint(raises[0], ==, 1);
    /* Off again: the RTC's line, still high, comes back at once. */
    hpet_reg_write(dev, GEN_CONF, 1, 4);
    g_assert_cmpint(pit_legacy, ==, 0);
    g_assert_cmpint(levels[8], ==, 1);
    g_assert_cmpint(levels[0], ==, 1);
    /* Reset leaves LegacyReplacement off. */
    hpet_reg_write(dev, GEN_CONF, 3, 4);
    device_cold_reset(dev);
    g_assert_cmpint(pit_legacy, ==, 0);
    g_assert_cmphex(hpet_reg_read(dev, GEN_CONF, 8), ==, 0);
    teardown(dev);
}

/* Save with a periodic timer armed, reset, load: the same interrupts at the same times. */
static void test_vmstate(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    DeviceState *dev = setup();
    int64_t t0 = clock_get_ns(KITE_CLOCK_VIRTUAL);

    hpet_reg_write(dev, TN_CONF(2), (1 << 2) | (1 << 3) | (1 << 6) | (2 << 9), 4);
    hpet_reg_write(dev, TN_CMP(2), 5000, 8);
    hpet_reg_write(dev, TN_CMP(2), 5000, 8);
    hpet_reg_write(dev, GEN_CONF, 1, 4);
    clock_virtual_warp(t0 + 120 * 1000);        /* matches at 50, 100 us */
    g_assert_cmpuint(raises[2], ==, 2);
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);

    device_cold_reset(dev);
    g_assert_cmphex(hpet_reg_read(dev, GEN_CONF, 4), ==, 0);
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmphex(hpet_reg_read(dev, GEN_CONF, 4), ==, 1);
    g_assert_cmphex(hpet_reg_read(dev, MAIN_CNT, 8), ==, 12000);
    g_assert_cmphex(hpet_reg_read(dev, TN_CMP(2), 8), ==, 15000);
    clock_virtual_warp(t0 + 210 * 1000);        /* 150, 200 us */
    g_assert_cmpuint(raises[2], ==, 4);
    teardown(dev);
}

/* Random accesses, sizes, offsets and clock jumps: no crash, GCAP_ID intact, lines sane. */
static void test_fuzz(void)
{
    DeviceState *dev = setup();
    static const unsigned sizes[] = { 1, 2, 4, 8, 3 };

    for (int i = 0; i < 20000; i++) {
        uint64_t addr = g_test_rand_int_range(0, HPET_LEN + 16);
        unsigned size = sizes[g_test_rand_int_range(0, G_N_ELEMENTS(sizes))];
        uint64_t val = (uint64_t)g_test_rand_int() << 32 | g_test_rand_int();

        if (g_test_rand_bit()) {
            addr &= ~7ULL;          /* mostly real registers */
        }
        if (g_test_rand_int_range(0, 4) == 0) {
            val &= 0x1ff;           /* small comparators and periods too */
        }
        if (g_test_rand_bit()) {
            hpet_reg_write(dev, addr, val, size);
        } else {
            hpet_reg_read(dev, addr, size);
        }
        if (g_test_rand_int_range(0, 16) == 0) {
            advance(g_test_rand_int_range(0, 200000));
        }
    }
    g_assert_cmphex(hpet_reg_read(dev, 0, 8), ==, 0x009896808086a201ULL);
    for (int i = 0; i < HPET_NUM_IRQ_ROUTES; i++) {
        g_assert_true(levels[i] == 0 || levels[i] == 1);
    }
    teardown(dev);
}

/* A bad "timers" property is refused; with 32 (as QEMU allows) GCAP_ID says so, and the
 * timers whose registers fit the 1 KiB block (0-23) work. */
static void test_timers_prop(void)
{
    DeviceState *dev = qdev_new(TYPE_HPET);
    Error *err = NULL;

    object_property_set_uint(OBJECT(dev), "timers", 2, &error_abort);
    g_assert_false(sysbus_realize(dev, &err));
    g_assert_nonnull(err);
    error_free(err);
    object_unref(dev);

    dev = qdev_new(TYPE_HPET);
    object_property_set_uint(OBJECT(dev), "timers", 32, &error_abort);
    sysbus_realize_and_unref(dev, &error_abort);
    device_cold_reset(dev);
    g_assert_cmphex((hpet_reg_read(dev, 0, 4) >> 8) & 0x1f, ==, 31);
    g_assert_cmphex(hpet_reg_read(dev, 0x100 + 23 * 0x20, 8), ==, 0x0000000400000030ULL);
    teardown(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    the_lines = irq_new_array(line_handler, NULL, HPET_NUM_IRQ_ROUTES);
    the_legacy = irq_new(legacy_handler, NULL, 0);
    g_test_add_func("/hpet/legacy-passthrough", test_legacy_passthrough);
    g_test_add_func("/hpet/vmstate", test_vmstate);
    g_test_add_func("/hpet/fuzz", test_fuzz);
    g_test_add_func("/hpet/timers-prop", test_timers_prop);
    return g_test_run();
}
