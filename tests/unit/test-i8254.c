/*
 * 8254 PIT and port 0x61: mode 0-5 output timing in CLK edges, counter reads, the latch and
 * read-back commands, BCD, GATE, IRQ 0 edges from the timer, OUT2 at port 0x61, save/restore.
 * Section names are those of the Intel 8254 datasheet (231164-005).
 *
 * The virtual clock is under the test's control (manual mode): at() puts it at a given CLK
 * edge count, clock_virtual_warp() moves it forward firing the timers in deadline order.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/timer.h"
#include "hw/timer/i8254.h"
#include "hw/sysbus.h"

static MemoryRegion io_root;
static AddressSpace io_as;

/* IRQ 0 as the PIC would see it: its level and the CLK edge of every rising edge. */
static int irq0_level;
static GArray *irq0_rises;

static int64_t tick_ns(int64_t tick)
{
    return (tick * NANOSECONDS_PER_SECOND + PIT_FREQ - 1) / PIT_FREQ;
}

static int64_t now_tick(void)
{
    return clock_get_ns(KITE_CLOCK_VIRTUAL) * PIT_FREQ / NANOSECONDS_PER_SECOND;
}

static void irq_handler(void *opaque, int n, int level)
{
    if (n == 0 && level && !irq0_level) {
        int64_t t = now_tick();
        g_array_append_val(irq0_rises, t);
    }
    if (n == 0) {
        irq0_level = level;
    }
}

/* Put the clock at CLK edge tick, firing what expires on the way. */
static void at(int64_t tick)
{
    clock_virtual_warp(tick_ns(tick));
    g_assert_cmpint(now_tick(), ==, tick);
}

static void outb(uint16_t port, uint8_t val)
{
    g_assert_cmpint(address_space_store(&io_as, port, val, 1), ==, MEMTX_OK);
}

static uint8_t inb(uint16_t port)
{
    uint64_t v;

    g_assert_cmpint(address_space_load(&io_as, port, &v, 1), ==, MEMTX_OK);
    return v;
}

#define TYPE_TEST_BRIDGE "test-isa-bridge"
static const TypeInfo test_bridge_type = {
    .name = TYPE_TEST_BRIDGE, .parent = TYPE_SYS_BUS_DEVICE, .instance_size = sizeof(DeviceState),
};
KITE_TYPE_REGISTER(test_bridge_type)

typedef struct Fixture {
    DeviceState *bridge, *pit, *spk;
    IRQState **irqs;
    int64_t t0;                 /* a CLK edge well after the previous test */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    IsaBus *isa;

    f->bridge = qdev_new(TYPE_TEST_BRIDGE);
    sysbus_realize_and_unref(f->bridge, &error_abort);
    isa = isa_bus_new(f->bridge, NULL, &io_root);
    f->irqs = irq_new_array(irq_handler, NULL, ISA_NUM_IRQS);
    isa_bus_set_irqs(isa, f->irqs);
    f->pit = i8254_create(isa, 0x40, 0);
    f->spk = pcspk_create(isa, f->pit);
    f->t0 = now_tick() + 1000000;
    at(f->t0);
    irq0_rises = g_array_new(false, false, sizeof(int64_t));
    irq0_level = 0;
    device_cold_reset(f->bridge);
    g_assert_cmpint(irq0_level, ==, 1);     /* mode 3 starts with OUT high */
    g_array_set_size(irq0_rises, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unparent(OBJECT(f->bridge));
    g_assert_cmpint(timer_next_deadline_ns(KITE_CLOCK_VIRTUAL), ==, -1);
    irq_free_array(f->irqs, ISA_NUM_IRQS);
    g_array_free(irq0_rises, true);
}

/* Counter latch command + LSB/MSB read of channel n. */
static uint16_t latch_read(int n)
{
    uint8_t lo;

    outb(0x43, n << 6);
    lo = inb(0x40 + n);
    return lo | (inb(0x40 + n) << 8);
}

/* Read-back status byte of channel n. */
static uint8_t status(int n)
{
    outb(0x43, 0xe0 | (2 << n));        /* read-back, status only */
    return inb(0x40 + n);
}

static void program(int n, uint8_t mode_bits, uint16_t count)
{
    outb(0x43, (n << 6) | 0x30 | mode_bits);
    outb(0x40 + n, count & 0xff);
    outb(0x40 + n, count >> 8);
}

static void test_mode0(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0 + 10;

    at(t);
    outb(0x43, 0x30);                   /* ch0, LSB/MSB, mode 0, binary */
    /* "Mode 0": OUT is low after the control word. */
    g_assert_cmpuint(status(0) & 0x80, ==, 0);
    g_assert_cmpint(irq0_level, ==, 0);
    outb(0x40, 100);
    outb(0x40, 0);
    /* NULL COUNT until the count reaches CE on the next CLK edge ("Status Byte"). */
    g_assert_cmpuint(status(0), ==, 0x70);
    at(t + 1);
    g_assert_cmpuint(status(0), ==, 0x30);
    g_assert_cmpuint(latch_read(0), ==, 100);
    at(t + 51);
    g_assert_cmpuint(latch_read(0), ==, 50);
    /* OUT goes high N + 1 edges after the count was written, and stays high. */
    at(t + 100);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 101);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(status(0) & 0x80, ==, 0x80);
    g_assert_cmpuint(irq0_rises->len, ==, 1);
    g_assert_cmpint(g_array_index(irq0_rises, int64_t, 0), ==, t + 101);
    /* The counter wraps past 0 and keeps counting. */
    at(t + 103);
    g_assert_cmpuint(latch_read(0), ==, 0xfffe);
    at(t + 5000);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(irq0_rises->len, ==, 1);

    /* Mode 0: writing the first byte of a new count sets OUT low at once. */
    outb(0x40, 10);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 5100);
    g_assert_cmpint(irq0_level, ==, 0);
    outb(0x40, 0);
    at(t + 5110);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 5111);
    g_assert_cmpint(irq0_level, ==, 1);
}

static void test_mode2_rate(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0 + 7;

    at(t);
    program(0, 0x04, 1000);             /* mode 2 */
    g_assert_cmpint(irq0_level, ==, 1);
    /* "Mode 2": OUT low for one CLK when CE reaches 1, i.e. edges t+1000, t+2000, ... */
    at(t + 999);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(latch_read(0), ==, 2);
    at(t + 1000);
    g_assert_cmpint(irq0_level, ==, 0);
    g_assert_cmpuint(latch_read(0), ==, 1);
    at(t + 1001);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(latch_read(0), ==, 1000);
    /* One IRQ 0 rising edge per period, at the reload. */
    at(t + 10500);
    g_assert_cmpuint(irq0_rises->len, ==, 10);
    for (guint i = 0; i < irq0_rises->len; i++) {
        g_assert_cmpint(g_array_index(irq0_rises, int64_t, i), ==, t + 1001 + 1000 * i);
    }
    /* The Linux PIT calibration reads: the count falls by one per CLK, at any time. */
    for (int i = 0; i < 50; i++) {
        at(t + 10500 + i * 3);
        g_assert_cmpuint(latch_read(0), ==, 1000 - (10500 + i * 3 - 1) % 1000);
    }
}

static void test_mode3_square(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0 + 3;

    at(t);
    program(0, 0x06, 10);               /* mode 3, even count */
    /* "Mode 3": even N: high N/2, low N/2; CE decrements by two. */
    at(t + 1);
    g_assert_cmpuint(latch_read(0), ==, 10);
    at(t + 2);
    g_assert_cmpuint(latch_read(0), ==, 8);
    at(t + 5);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(latch_read(0), ==, 2);
    at(t + 6);
    g_assert_cmpint(irq0_level, ==, 0);
    g_assert_cmpuint(latch_read(0), ==, 10);
    at(t + 10);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 11);
    g_assert_cmpint(irq0_level, ==, 1);

    /* Odd N = 11: high (N + 1) / 2 = 6 edges, low (N - 1) / 2 = 5. */
    t += 100;
    at(t);
    program(0, 0x06, 11);
    at(t + 1);
    g_assert_cmpuint(latch_read(0), ==, 11);
    at(t + 2);
    g_assert_cmpuint(latch_read(0), ==, 10);
    at(t + 6);
    g_assert_cmpint(irq0_level, ==, 1);
    g_assert_cmpuint(latch_read(0), ==, 2);
    at(t + 7);
    g_assert_cmpint(irq0_level, ==, 0);
    g_assert_cmpuint(latch_read(0), ==, 11);
    at(t + 8);
    g_assert_cmpuint(latch_read(0), ==, 8);     /* "decremented by three" after the reload */
    at(t + 11);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 12);
    g_assert_cmpint(irq0_level, ==, 1);
    g_array_set_size(irq0_rises, 0);
    at(t + 12 + 11 * 20);
    g_assert_cmpuint(irq0_rises->len, ==, 20);

    /* Reset state, as QEMU and the BIOS leave it: mode 3, count 65536 (18.2 Hz). */
    device_cold_reset(f->bridge);
    t = now_tick();
    g_array_set_size(irq0_rises, 0);
    at(t + 65536 * 18 + 1);
    g_assert_cmpuint(irq0_rises->len, ==, 18);
}

static void test_mode4_strobe(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0;

    at(t);
    program(0, 0x08, 50);               /* mode 4 */
    /* "Mode 4": OUT low for one CLK when CE reaches 0, N + 1 edges after the write. */
    at(t + 50);
    g_assert_cmpint(irq0_level, ==, 1);
    at(t + 51);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 52);
    g_assert_cmpint(irq0_level, ==, 1);
    at(t + 1000);
    g_assert_cmpuint(irq0_rises->len, ==, 1);
}

static void test_latch_readback(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0;
    uint8_t lo, hi;

    at(t);
    program(0, 0x04, 1000);
    at(t + 101);
    /* "Counter Latch Command": the value is held until read; a second latch is ignored. */
    outb(0x43, 0x00);
    at(t + 201);
    outb(0x43, 0x00);
    lo = inb(0x40);
    hi = inb(0x40);
    g_assert_cmpuint(lo | hi << 8, ==, 900);
    g_assert_cmpuint(latch_read(0), ==, 800);

    /* "Read-Back Command": status and count of channels 0 and 2 in one command. */
    program(2, 0x00, 0x1234);           /* mode 0; GATE2 is low: held at the count */
    at(t + 300);
    outb(0x43, 0xc0 | 0x08 | 0x02);     /* count and status, ch2 and ch0 */
    /* Status comes first: OUT, NULL COUNT, RW=11, mode, BCD. */
    g_assert_cmpuint(inb(0x40), ==, 0x80 | 0x34);
    g_assert_cmpuint(inb(0x40), ==, 701 & 0xff);  /* CE = N - (d - 1) % N, d = 300 */
    g_assert_cmpuint(inb(0x40), ==, 701 >> 8);
    g_assert_cmpuint(inb(0x42), ==, 0x30);
    g_assert_cmpuint(inb(0x42), ==, 0x34);
    g_assert_cmpuint(inb(0x42), ==, 0x12);

    /* LSB-only and MSB-only access modes. */
    outb(0x43, 0x54);                   /* ch1, LSB only, mode 2 */
    outb(0x41, 200);
    at(t + 351);
    g_assert_cmpuint(inb(0x41), ==, 150);
    outb(0x43, 0x64);                   /* ch1, MSB only, mode 2: count 0x0200 */
    outb(0x41, 0x02);
    at(t + 352);
    g_assert_cmpuint(inb(0x41), ==, 0x02);
    /* The control word register cannot be read. */
    g_assert_cmpuint(inb(0x43), ==, 0xff);
}

static void test_bcd(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0;

    at(t);
    outb(0x43, 0x31);                   /* ch0, mode 0, BCD */
    outb(0x40, 0x00);
    outb(0x40, 0x10);                   /* 1000 decimal */
    at(t + 2);
    g_assert_cmpuint(latch_read(0), ==, 0x0999);
    at(t + 1000);
    g_assert_cmpuint(latch_read(0), ==, 0x0001);
    g_assert_cmpint(irq0_level, ==, 0);
    at(t + 1001);
    g_assert_cmpint(irq0_level, ==, 1);
    /* BCD wraps at 10^4. */
    at(t + 1002);
    g_assert_cmpuint(latch_read(0), ==, 0x9999);
}

static void test_gate_and_port61(Fixture *f, gconstpointer data)
{
    int64_t t = f->t0;
    bool seen[2] = { false, false };

    at(t);
    g_assert_cmpuint(inb(0x61) & 0x0f, ==, 0x00);
    /* Mode 1 one-shot on channel 2: nothing happens until GATE2 rises (port 0x61 bit 0). */
    program(2, 0x02, 100);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x20);
    at(t + 500);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x20);
    outb(0x61, 0x03);                   /* GATE2 + speaker data */
    g_assert_cmpuint(inb(0x61) & 0x0f, ==, 0x03);
    at(t + 501);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);   /* low from the edge after the trigger */
    at(t + 600);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);
    at(t + 601);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x20);
    /* Retriggerable: a new GATE edge restarts the pulse. */
    outb(0x61, 0x00);
    outb(0x61, 0x01);
    at(t + 602);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);

    /* Mode 0 with GATE low: counting is suspended and resumes where it stopped. */
    t += 1000;
    at(t);
    outb(0x61, 0x00);
    program(2, 0x00, 100);
    at(t + 50);
    outb(0x61, 0x01);
    at(t + 100);
    g_assert_cmpuint(latch_read(2), ==, 51);
    outb(0x61, 0x00);
    at(t + 300);
    g_assert_cmpuint(latch_read(2), ==, 51);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);
    outb(0x61, 0x01);
    at(t + 350);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);
    at(t + 351);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x20);

    /* Mode 2 on channel 2: GATE low forces OUT high; rising restarts the period. */
    t += 1000;
    at(t);
    program(2, 0x04, 10);
    at(t + 20);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);   /* the pulse at edge 20 */
    outb(0x61, 0x00);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x20);
    outb(0x61, 0x01);
    at(t + 30);
    g_assert_cmpuint(latch_read(2), ==, 1);
    g_assert_cmpuint(inb(0x61) & 0x20, ==, 0x00);

    /* Bit 4 toggles with the DRAM refresh, every 15.085 us. */
    for (int i = 0; i < 8; i++) {
        clock_virtual_warp(clock_get_ns(KITE_CLOCK_VIRTUAL) + 7000);
        seen[(inb(0x61) >> 4) & 1] = true;
    }
    g_assert_true(seen[0] && seen[1]);
}

static void test_vmstate(Fixture *f, gconstpointer data)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    int64_t t = f->t0;

    at(t);
    program(0, 0x04, 1000);
    program(2, 0x06, 500);
    outb(0x61, 0x01);
    at(t + 1234);
    outb(0x43, 0x80);                   /* latch ch2, leave it unread */
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);

    device_cold_reset(f->bridge);
    g_assert_cmpuint(inb(0x61) & 1, ==, 0);
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmpuint(inb(0x61) & 1, ==, 1);
    /* The latched count survived; the counters continue from the restored time base. */
    g_assert_cmpuint(inb(0x42) | inb(0x42) << 8, ==, 500 - 2 * ((1233 % 500) % 250));
    g_assert_cmpuint(latch_read(0), ==, 1000 - 1233 % 1000);
    g_array_set_size(irq0_rises, 0);
    at(t + 3001);
    g_assert_cmpuint(irq0_rises->len, ==, 2);
    g_assert_cmpint(g_array_index(irq0_rises, int64_t, 1), ==, t + 3001);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    memory_region_init(&io_root, NULL, "io", 0x10000);
    address_space_init(&io_as, &io_root, "I/O");
#define ADD(path, fn) g_test_add("/i8254/" path, Fixture, NULL, fixture_setup, fn, \
                                 fixture_teardown)
    ADD("mode0", test_mode0);
    ADD("mode2-rate", test_mode2_rate);
    ADD("mode3-square", test_mode3_square);
    ADD("mode4-strobe", test_mode4_strobe);
    ADD("latch-readback", test_latch_readback);
    ADD("bcd", test_bcd);
    ADD("gate-port61", test_gate_and_port61);
    ADD("vmstate", test_vmstate);
    return g_test_run();
}
