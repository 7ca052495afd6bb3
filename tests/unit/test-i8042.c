/*
 * The 8042 keyboard controller and port 0x92 through their ports: controller commands, the
 * command byte, IRQ 1/12, keyboard and mouse replies, A20 and the reset paths.
 * "PS/2 TR" is the IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device
 * Controller" chapter.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "kite/runstate.h"
#include "hw/input/i8042.h"
#include "hw/misc/pc-misc.h"

#define STAT_OBF 0x01
#define STAT_SYS 0x04
#define STAT_CMD 0x08
#define STAT_AUX_OBF 0x20

#define irq_level harness_irq

static int a20_level = -1;

static void a20_handler(void *opaque, int n, int level)
{
    a20_level = level;
}

static IRQState a20_line = { .handler = a20_handler };

static DeviceState *make_dev(const char *type)
{
    DeviceState *dev = qdev_new(type);

    qdev_connect_gpio_out_named(dev, "a20", 0, &a20_line);
    qdev_realize_and_unref(dev, &harness_isa->parent_obj, &error_abort);
    device_cold_reset(dev);
    return dev;
}

/* Read one byte the controller has ready; fails the test if there is none. */
static uint8_t read_obuf(void)
{
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, STAT_OBF);
    return inb(0x60);
}

static void test_controller(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);

    /* Power-on: output buffer empty, keyboard not inhibited, last write "command". */
    g_assert_cmpuint(inb(0x64), ==, 0x18);
    /* PS/2 TR "Command AAh, Self-Test": 55h, and the system flag becomes 1. */
    outb(0x64, 0xaa);
    g_assert_cmpuint(inb(0x64) & STAT_SYS, ==, STAT_SYS);
    g_assert_cmpuint(read_obuf(), ==, 0x55);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    /* ABh/A9h interface tests: 00h = no error. */
    outb(0x64, 0xab);
    g_assert_cmpuint(read_obuf(), ==, 0x00);
    outb(0x64, 0xa9);
    g_assert_cmpuint(read_obuf(), ==, 0x00);

    /* 20h/60h: read and write the command byte; writing 60h's data clears the CMD bit. */
    outb(0x64, 0x20);
    g_assert_cmpuint(read_obuf(), ==, 0x03);
    outb(0x64, 0x60);
    g_assert_cmpuint(inb(0x64) & STAT_CMD, ==, STAT_CMD);
    outb(0x60, 0x61);
    g_assert_cmpuint(inb(0x64) & STAT_CMD, ==, 0);
    outb(0x64, 0x20);
    g_assert_cmpuint(read_obuf(), ==, 0x61);
    g_assert_true(i8042_kbd_translating((I8042State *)dev));
    /* Controller RAM bytes 1-31 through 61h-7Fh / 21h-3Fh. */
    outb(0x64, 0x7f);
    outb(0x60, 0x5a);
    outb(0x64, 0x3f);
    g_assert_cmpuint(read_obuf(), ==, 0x5a);

    /* ADh/AEh disable/enable the keyboard: command byte bit 4. */
    outb(0x64, 0xad);
    outb(0x64, 0x20);
    g_assert_cmpuint(read_obuf() & 0x10, ==, 0x10);
    outb(0x64, 0xae);
    outb(0x64, 0x20);
    g_assert_cmpuint(read_obuf() & 0x10, ==, 0);
    /* A7h/A8h: bit 5. */
    outb(0x64, 0xa7);
    outb(0x64, 0x20);
    g_assert_cmpuint(read_obuf() & 0x20, ==, 0x20);
    outb(0x64, 0xa8);

    /* C0h input port: keyboard not inhibited (bit 7). */
    outb(0x64, 0xc0);
    g_assert_cmpuint(read_obuf(), ==, 0x80);
    /* D2h/D3h write the output buffer as keyboard / mouse data. */
    outb(0x64, 0xd2);
    outb(0x60, 0x42);
    g_assert_cmpuint(inb(0x64) & STAT_AUX_OBF, ==, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x42);
    outb(0x64, 0xd3);
    outb(0x60, 0x43);
    g_assert_cmpuint(inb(0x64) & STAT_AUX_OBF, ==, STAT_AUX_OBF);
    g_assert_cmpuint(read_obuf(), ==, 0x43);
    object_unparent(OBJECT(dev));
}

static void test_irqs(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);

    /* Command byte bit 0: IRQ 1 follows OBF for keyboard data. */
    outb(0x64, 0xd2);
    outb(0x60, 0x11);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpint(irq_level[12], ==, 0);
    inb(0x60);
    g_assert_cmpint(irq_level[1], ==, 0);
    /* Bit 1: IRQ 12 for mouse data. */
    outb(0x64, 0xd3);
    outb(0x60, 0x22);
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmpint(irq_level[1], ==, 0);
    inb(0x60);
    g_assert_cmpint(irq_level[12], ==, 0);
    /* With interrupts disabled in the command byte, OBF sets but IRQ 1 stays low. */
    outb(0x64, 0x60);
    outb(0x60, 0x00);
    outb(0x64, 0xd2);
    outb(0x60, 0x33);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, STAT_OBF);
    g_assert_cmpint(irq_level[1], ==, 0);
    /* Re-enabling them raises IRQ 1 for the byte already waiting. */
    outb(0x64, 0x60);
    outb(0x60, 0x01);
    /* (the 60h command's data went in while OBF was full: the byte is still 33h) */
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpuint(inb(0x60), ==, 0x33);

    /*
     * A multi-byte reply (F2h identify: FAh ABh 83h) raises IRQ 1 once per byte: the line
     * drops on each read and rises for the next byte, so the 8259's edge latch sees each.
     */
    outb(0x64, 0x60);
    outb(0x60, 0x01);
    harness_irq_edges[1] = 0;
    outb(0x60, 0xf2);
    g_assert_cmpuint(harness_irq_edges[1], ==, 1);
    g_assert_cmpuint(inb(0x60), ==, 0xfa);
    g_assert_cmpuint(harness_irq_edges[1], ==, 2);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpuint(inb(0x60), ==, 0xab);
    g_assert_cmpuint(harness_irq_edges[1], ==, 3);
    g_assert_cmpuint(inb(0x60), ==, 0x83);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmpuint(harness_irq_edges[1], ==, 3);
    object_unparent(OBJECT(dev));
}

static void test_keyboard(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);
    I8042State *s = (I8042State *)dev;

    /* Reset: ACK then the BAT completion code AAh. */
    outb(0x60, 0xff);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpuint(read_obuf(), ==, 0xaa);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    /* Read ID: ACK AB 83 (MF2). */
    outb(0x60, 0xf2);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpuint(read_obuf(), ==, 0xab);
    g_assert_cmpuint(read_obuf(), ==, 0x83);
    /* Echo. */
    outb(0x60, 0xee);
    g_assert_cmpuint(read_obuf(), ==, 0xee);
    /* LEDs take an argument; each byte is acknowledged. */
    outb(0x60, 0xed);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    outb(0x60, 0x07);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    /* Scancode set: F0 02 selects, F0 00 reports it. */
    outb(0x60, 0xf0);
    read_obuf();
    outb(0x60, 0x03);
    read_obuf();
    g_assert_cmpint(i8042_kbd_scancode_set(s), ==, 3);
    outb(0x60, 0xf0);
    read_obuf();
    outb(0x60, 0x00);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpuint(read_obuf(), ==, 3);
    /* Unknown command: resend. */
    outb(0x60, 0x01);
    g_assert_cmpuint(read_obuf(), ==, 0xfe);

    /* Scancodes flow only while scanning is enabled (F5 disables, F4 enables). */
    outb(0x60, 0xf5);
    read_obuf();
    i8042_kbd_put_scancode(s, 0x1c);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    outb(0x60, 0xf4);
    read_obuf();
    i8042_kbd_put_scancode(s, 0x1c);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpuint(read_obuf(), ==, 0x1c);
    /* ...and reach the host only while the keyboard interface is enabled (ADh). */
    outb(0x64, 0xad);
    i8042_kbd_put_scancode(s, 0x9c);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    outb(0x64, 0xae);
    g_assert_cmpuint(read_obuf(), ==, 0x9c);
    object_unparent(OBJECT(dev));
}

static void test_mouse(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);
    I8042State *s = (I8042State *)dev;
    const uint8_t pkt[3] = { 0x09, 0x01, 0xff };

    /* D4h sends the next data byte to the mouse; replies come back as aux data on IRQ 12. */
    outb(0x64, 0xd4);
    outb(0x60, 0xff);
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmpuint(inb(0x64) & STAT_AUX_OBF, ==, STAT_AUX_OBF);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpuint(read_obuf(), ==, 0xaa);
    g_assert_cmpuint(read_obuf(), ==, 0x00);
    /* Set sample rate 40, then status request reports it. */
    outb(0x64, 0xd4);
    outb(0x60, 0xf3);
    read_obuf();
    outb(0x64, 0xd4);
    outb(0x60, 40);
    read_obuf();
    outb(0x64, 0xd4);
    outb(0x60, 0xe9);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpuint(read_obuf(), ==, 0x00);
    g_assert_cmpuint(read_obuf(), ==, 2);
    g_assert_cmpuint(read_obuf(), ==, 40);
    /* Packets arrive only after Enable (F4h). */
    i8042_aux_put_bytes(s, pkt, 3);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    outb(0x64, 0xd4);
    outb(0x60, 0xf4);
    read_obuf();
    i8042_aux_put_bytes(s, pkt, 3);
    g_assert_cmpuint(read_obuf(), ==, 0x09);
    g_assert_cmpuint(read_obuf(), ==, 0x01);
    g_assert_cmpuint(read_obuf(), ==, 0xff);
    /* A full queue drops whole packets, never overflows. */
    for (int i = 0; i < 20; i++) {
        i8042_aux_put_bytes(s, pkt, 3);
    }
    for (int i = 0; i < 15; i++) {
        g_assert_cmpuint(read_obuf(), ==, pkt[i % 3]);
    }
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    object_unparent(OBJECT(dev));
}

static void test_a20_and_reset(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);
    DeviceState *p92;

    system_take_reset_request();
    /* D0h: output port after reset has A20 and the reset line high. */
    outb(0x64, 0xd0);
    g_assert_cmpuint(read_obuf() & 0x03, ==, 0x03);
    /* D1h with bit 1 clear: A20 off, no reset while bit 0 stays 1. */
    outb(0x64, 0xd1);
    outb(0x60, 0xdd);
    g_assert_cmpint(a20_level, ==, 0);
    g_assert_cmpint(system_take_reset_request(), ==, 0);
    outb(0x64, 0xd1);
    outb(0x60, 0xdf);
    g_assert_cmpint(a20_level, ==, 1);
    /* DDh/DFh (HP Vectra) also gate A20. */
    outb(0x64, 0xdd);
    g_assert_cmpint(a20_level, ==, 0);
    outb(0x64, 0xdf);
    g_assert_cmpint(a20_level, ==, 1);
    /* FEh pulses output line 0, the CPU reset. */
    outb(0x64, 0xfe);
    g_assert_cmpint(system_take_reset_request(), ==, SHUTDOWN_CAUSE_GUEST_RESET + 1);
    /* FFh pulses nothing. */
    outb(0x64, 0xff);
    g_assert_cmpint(system_take_reset_request(), ==, 0);
    /* Writing the output port with bit 0 clear resets too. */
    outb(0x64, 0xd1);
    outb(0x60, 0xde);
    g_assert_cmpint(system_take_reset_request(), ==, SHUTDOWN_CAUSE_GUEST_RESET + 1);
    object_unparent(OBJECT(dev));

    /* Port 92h: power-on 00h, bit 1 = A20, bit 0 rising edge = reset. */
    p92 = make_dev(TYPE_PORT92);
    g_assert_cmpuint(inb(0x92), ==, 0x00);
    outb(0x92, 0x02);
    g_assert_cmpint(a20_level, ==, 1);
    g_assert_cmpuint(inb(0x92), ==, 0x02);
    g_assert_cmpint(system_take_reset_request(), ==, 0);
    outb(0x92, 0x00);
    g_assert_cmpint(a20_level, ==, 0);
    outb(0x92, 0x03);
    g_assert_cmpint(system_take_reset_request(), ==, SHUTDOWN_CAUSE_GUEST_RESET + 1);
    /* No edge, no reset. */
    outb(0x92, 0x03);
    g_assert_cmpint(system_take_reset_request(), ==, 0);
    device_cold_reset(p92);
    g_assert_cmpuint(inb(0x92), ==, 0x00);
    object_unparent(OBJECT(p92));
}

static void test_vmstate(void)
{
    DeviceState *dev = make_dev(TYPE_I8042);
    DeviceClass *dc = DEVICE_GET_CLASS(dev);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    size_t pos = 0;

    outb(0x60, 0xf2);                   /* FA AB 83 queued, FA in the buffer */
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
    g_assert_cmpint(vmstate_save(buf, dc->vmsd, dev, &error_abort), ==, 0);
    device_cold_reset(dev);
    g_assert_cmpuint(inb(0x64) & STAT_OBF, ==, 0);
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, dc->vmsd, dev, &error_abort));
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpuint(read_obuf(), ==, 0xab);
    g_assert_cmpuint(read_obuf(), ==, 0x83);
    /* A stream with out-of-range queue indices is clamped, not trusted. */
    for (guint i = 0; i < buf->len; i++) {
        pos = 0;
        g_byte_array_set_size(buf, 0);
        vmstate_save(buf, dc->vmsd, dev, &error_abort);
        buf->data[i] = 0xff;
        if (vmstate_load(buf->data, buf->len, &pos, dc->vmsd, dev, NULL)) {
            for (int j = 0; j < 40; j++) {
                inb(0x60);
                outb(0x60, 0xee);
            }
        }
    }
    object_unparent(OBJECT(dev));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    g_test_add_func("/i8042/controller", test_controller);
    g_test_add_func("/i8042/irqs", test_irqs);
    g_test_add_func("/i8042/keyboard", test_keyboard);
    g_test_add_func("/i8042/mouse", test_mouse);
    g_test_add_func("/i8042/a20-reset", test_a20_and_reset);
    g_test_add_func("/i8042/vmstate", test_vmstate);
    return g_test_run();
}
