/*
 * 16550A UART and isa-debugcon through their ports, against a test chardev that records
 * output, can refuse to take more (a stalled peer) and feeds input.  Section numbers are
 * those of the PC16550D data sheet (SNLS378C).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "hw/char/serial.h"
#include "kite/chardev.h"
#include "kite/timer.h"

#define COM1 0x3f8
#define RBR (COM1 + 0)
#define THR (COM1 + 0)
#define IER (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

/* --- a chardev that records output and takes at most `room` more bytes --- */
static GByteArray *out;
static int room = INT_MAX;
static unsigned accepts;

static int testbuf_write(Chardev *chr, const uint8_t *buf, int len)
{
    int n = MIN(len, room);

    room -= n;
    g_byte_array_append(out, buf, n);
    return n;
}

static void testbuf_accept_input(Chardev *chr)
{
    accepts++;
}

static bool testbuf_open(Chardev *chr, Error **errp)
{
    chr->be_open = true;
    return true;
}

static void testbuf_class_init(ObjectClass *oc, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(oc);

    cc->write = testbuf_write;
    cc->accept_input = testbuf_accept_input;
    cc->open = testbuf_open;
}

static const TypeInfo testbuf_type = {
    .name = TYPE_CHARDEV_PREFIX "testbuf", .parent = TYPE_CHARDEV,
    .class_init = testbuf_class_init,
};
KITE_TYPE_REGISTER(testbuf_type)

static Chardev *chr;
static DeviceState *uart;

static Chardev *new_chardev(const char *id)
{
    g_autofree char *spec = g_strdup_printf("testbuf,id=%s", id);
    KiteOpts *o = kite_opts_parse(spec, "backend", &error_abort);
    Chardev *c = chardev_new_from_opts(o, &error_abort);

    kite_opts_free(o);
    return c;
}

static void clock_step(int64_t delta)
{
    int64_t target = clock_get_ns(KITE_CLOCK_VIRTUAL) + delta, d;

    while ((d = timer_next_deadline_ns(KITE_CLOCK_VIRTUAL)) >= 0 && d <= target) {
        clock_virtual_set_ns(MAX(d, clock_get_ns(KITE_CLOCK_VIRTUAL)));
        main_loop_wait(true);
    }
    clock_virtual_set_ns(target);
    main_loop_wait(true);
}

static void setup(void)
{
    g_byte_array_set_size(out, 0);
    room = INT_MAX;
    accepts = 0;
    chr = new_chardev("ser0");
    uart = harness_new(TYPE_ISA_SERIAL, "index=0,chardev=ser0");
}

static void teardown(void)
{
    object_unparent(OBJECT(uart));
    g_assert_true(chardev_delete(chr, &error_abort));
    main_loop_wait(true);
}

static void feed(const char *s)
{
    chardev_be_write(chr, (const uint8_t *)s, strlen(s));
}

static void test_reset_values(void)
{
    setup();
    /* Table I: IER 0, IIR 01h, LCR 0, MCR 0, LSR 60h, MSR deltas 0 (lines asserted). */
    g_assert_cmpuint(inb(IER), ==, 0x00);
    g_assert_cmpuint(inb(IIR), ==, 0x01);
    g_assert_cmpuint(inb(LCR), ==, 0x00);
    g_assert_cmpuint(inb(MCR), ==, 0x00);
    g_assert_cmpuint(inb(LSR), ==, 0x60);
    g_assert_cmpuint(inb(MSR), ==, 0xb0);
    g_assert_cmpint(harness_irq[4], ==, 0);
    /* 8.10 scratchpad; 8.3 divisor latch behind DLAB. */
    outb(SCR, 0xa5);
    g_assert_cmpuint(inb(SCR), ==, 0xa5);
    outb(LCR, 0x83);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x02);
    g_assert_cmpuint(inb(COM1 + 0), ==, 0x01);
    g_assert_cmpuint(inb(COM1 + 1), ==, 0x02);
    outb(LCR, 0x03);
    g_assert_cmpuint(inb(IER), ==, 0x00);
    /* Wider accesses reach consecutive registers byte by byte (QEMU's behaviour). */
    outw(MSR, 0x5aa5);                                 /* MSR is read-only, SCR <- 5Ah */
    g_assert_cmpuint(inb(SCR), ==, 0x5a);
    g_assert_cmpuint(inl(MCR), ==, 0x5ab06000);       /* SCR, MSR, LSR, MCR */
    device_cold_reset(uart);
    g_assert_cmpuint(inb(LCR), ==, 0x00);
    teardown();
}

static void test_transmit_and_thre(void)
{
    setup();
    outb(THR, 'h');
    outb(THR, 'i');
    g_assert_cmpmem(out->data, out->len, "hi", 2);
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x60);
    /* Enabling ETBEI while THR is empty raises THRE at once (IIR 02h). */
    outb(IER, 0x02);
    g_assert_cmpint(harness_irq[4], ==, 1);
    g_assert_cmpuint(inb(IIR), ==, 0x02);
    /* Table IV: reading IIR reporting THRE clears it. */
    g_assert_cmpint(harness_irq[4], ==, 0);
    g_assert_cmpuint(inb(IIR), ==, 0x01);
    /* Toggling IER.ETBEI off and on raises it again (the IER write quirk). */
    outb(IER, 0x00);
    outb(IER, 0x02);
    g_assert_cmpint(harness_irq[4], ==, 1);
    /* Writing THR clears it, and the emptied THR raises it again. */
    outb(THR, '!');
    g_assert_cmpint(harness_irq[4], ==, 1);
    g_assert_cmpuint(inb(IIR), ==, 0x02);
    g_assert_cmpmem(out->data, out->len, "hi!", 3);
    teardown();
}

static void test_receive(void)
{
    setup();
    outb(IER, 0x01);
    /* Non-FIFO: one character in RBR, DR, RDA interrupt (IIR 04h). */
    g_assert_cmpint(chardev_be_can_write(chr), ==, 1);
    feed("x");
    g_assert_cmpuint(inb(LSR) & 0x01, ==, 0x01);
    g_assert_cmpint(harness_irq[4], ==, 1);
    g_assert_cmpuint(inb(IIR), ==, 0x04);
    /* Flow control: no room until the guest reads. */
    g_assert_cmpint(chardev_be_can_write(chr), ==, 0);
    accepts = 0;
    g_assert_cmpuint(inb(RBR), ==, 'x');
    g_assert_cmpuint(accepts, ==, 1);
    g_assert_cmpuint(inb(LSR) & 0x01, ==, 0);
    g_assert_cmpint(harness_irq[4], ==, 0);
    g_assert_cmpint(chardev_be_can_write(chr), ==, 1);

    /* Overrun (8.4 OE): two characters without a read, via loopback; RLS beats RDA. */
    outb(IER, 0x05);
    outb(MCR, 0x10);
    outb(THR, 'a');
    outb(THR, 'b');
    g_assert_cmpuint(inb(IIR), ==, 0x06);
    g_assert_cmpuint(inb(LSR) & 0x03, ==, 0x03);        /* OE, DR; the read clears OE */
    g_assert_cmpuint(inb(LSR) & 0x02, ==, 0);
    g_assert_cmpuint(inb(IIR), ==, 0x04);
    g_assert_cmpuint(inb(RBR), ==, 'b');                /* the newer one replaced it */
    g_assert_cmpmem(out->data, out->len, "", 0);        /* loopback sends nothing out */
    g_assert_cmpint(chardev_be_can_write(chr), ==, 0);  /* input disconnected */
    outb(MCR, 0x00);
    g_assert_cmpint(chardev_be_can_write(chr), ==, 1);

    /* A break arrives as a zero character with BI. */
    chardev_be_event(chr, CHR_EVENT_BREAK);
    g_assert_cmpuint(inb(IIR), ==, 0x06);
    g_assert_cmpuint(inb(LSR) & 0x11, ==, 0x11);
    g_assert_cmpuint(inb(RBR), ==, 0);
    teardown();
}

static void test_fifo(void)
{
    setup();
    outb(LCR, 0x03);                                   /* 8N1 */
    outb(IER, 0x01);
    /* FCR: FIFOs on, trigger 14; IIR bits 7-6 report it. */
    outb(FCR, 0xc1);
    g_assert_cmpuint(inb(IIR), ==, 0xc1);
    g_assert_cmpint(chardev_be_can_write(chr), ==, 16);
    /* 13 bytes stay below the trigger: no interrupt... */
    feed("0123456789abc");
    g_assert_cmpint(harness_irq[4], ==, 0);
    /* ...until four character times pass (8.11): CTI (IIR CCh).  9600 8N1: 1.04 ms each. */
    clock_step(4000000);
    g_assert_cmpint(harness_irq[4], ==, 0);
    clock_step(300000);
    g_assert_cmpint(harness_irq[4], ==, 1);
    g_assert_cmpuint(inb(IIR), ==, 0xcc);
    /* Reading a character clears the timeout interrupt and restarts the count. */
    g_assert_cmpuint(inb(RBR), ==, '0');
    g_assert_cmpint(harness_irq[4], ==, 0);
    clock_step(4300000);
    g_assert_cmpuint(inb(IIR), ==, 0xcc);
    for (int i = 1; i < 13; i++) {
        g_assert_cmpuint(inb(RBR), ==, "0123456789abc"[i]);
    }
    g_assert_cmpuint(inb(LSR) & 0x01, ==, 0);
    clock_step(10000000);
    g_assert_cmpint(harness_irq[4], ==, 0);
    /* Reaching the trigger level interrupts at once; dropping below clears it. */
    feed("0123456789abcd");
    g_assert_cmpuint(inb(IIR), ==, 0xc4);
    inb(RBR);
    g_assert_cmpuint(inb(IIR), ==, 0xc1);
    /* The flow control window is the FIFO's free space. */
    g_assert_cmpint(chardev_be_can_write(chr), ==, 3);
    /* FCR bit 1 empties the receiver FIFO. */
    outb(FCR, 0xc3);
    g_assert_cmpuint(inb(LSR) & 0x01, ==, 0);
    /* Trigger level 4 (FCR 41h). */
    outb(FCR, 0x41);
    feed("abc");
    g_assert_cmpint(harness_irq[4], ==, 0);
    feed("d");
    g_assert_cmpint(harness_irq[4], ==, 1);
    /* Turning the FIFOs off empties them (8.5). */
    outb(FCR, 0x00);
    g_assert_cmpuint(inb(LSR) & 0x01, ==, 0);
    g_assert_cmpuint(inb(IIR), ==, 0x01);
    teardown();
}

static void test_stalled_backend(void)
{
    setup();
    /* Non-FIFO: one byte in the shift register, one in THR, then THRE stays clear. */
    room = 0;
    outb(THR, '1');
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x20);       /* THR empty, TSR busy */
    outb(THR, '2');
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x00);
    g_assert_cmpuint(out->len, ==, 0);
    main_loop_wait(true);                              /* still no room: nothing moves */
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x00);
    /* The peer drains: the writable callback sends both, in order. */
    room = INT_MAX;
    main_loop_wait(true);
    main_loop_wait(true);
    g_assert_cmpmem(out->data, out->len, "12", 2);
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x60);

    /* FIFO mode: shift register + 16 bytes are kept; THRE only when space. */
    g_byte_array_set_size(out, 0);
    outb(FCR, 0x07);
    room = 0;
    for (int i = 0; i < 17; i++) {
        outb(THR, 'A' + i);
    }
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x00);
    outb(THR, 'Z');                                    /* FIFO full: lost, as on hardware */
    room = 5;
    main_loop_wait(true);
    main_loop_wait(true);
    g_assert_cmpmem(out->data, out->len, "ABCDE", 5);
    room = INT_MAX;
    for (int i = 0; i < 4; i++) {
        main_loop_wait(true);
    }
    g_assert_cmpmem(out->data, out->len, "ABCDEFGHIJKLMNOPQ", 17);
    g_assert_cmpuint(inb(LSR) & 0x60, ==, 0x60);
    teardown();
}

static void test_modem(void)
{
    setup();
    outb(IER, 0x08);
    /* 8.8 loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2; deltas interrupt. */
    outb(MCR, 0x10 | 0x0a);
    g_assert_cmpuint(inb(IIR), ==, 0x00);
    g_assert_cmpuint(inb(MSR), ==, 0x90 | 0x02);       /* DSR dropped: DDSR */
    g_assert_cmpuint(inb(MSR), ==, 0x90);              /* deltas cleared by the read */
    g_assert_cmpint(harness_irq[4], ==, 0);
    outb(MCR, 0x10 | 0x04);                            /* RI on, RTS and OUT2 off */
    g_assert_cmpuint(inb(MSR), ==, 0x40 | 0x01 | 0x08);
    outb(MCR, 0x10);                                   /* RI trailing edge: TERI */
    g_assert_cmpuint(inb(MSR), ==, 0x04);
    outb(MCR, 0x00);
    g_assert_cmpuint(inb(MSR) & 0xf0, ==, 0xb0);
    teardown();
}

static DeviceState *vm_dev;

static void reset_vm_dev(void)
{
    device_cold_reset(vm_dev);
}

static void test_vmstate_and_ports(void)
{
    DeviceState *com2, *com3;
    Error *err = NULL;

    setup();
    outb(FCR, 0x41);                                   /* trigger level 4 */
    outb(IER, 0x01);
    outb(SCR, 0x42);
    feed("hello");
    vm_dev = uart;
    harness_vmstate_roundtrip(uart, reset_vm_dev);
    g_assert_cmpuint(inb(SCR), ==, 0x42);
    g_assert_cmpuint(inb(IIR), ==, 0xc4);
    g_assert_cmpuint(inb(RBR), ==, 'h');
    g_assert_cmpuint(inb(RBR), ==, 'e');

    /* Without an index, the next free COM port's address and IRQ are used. */
    com2 = harness_new(TYPE_ISA_SERIAL, NULL);
    g_assert_cmpuint(object_property_get_uint(OBJECT(com2), "iobase", NULL), ==, 0x2f8);
    g_assert_cmpuint(object_property_get_uint(OBJECT(com2), "irq", NULL), ==, 3);
    outb(0x2f8 + 7, 0x77);
    g_assert_cmpuint(inb(0x2f8 + 7), ==, 0x77);
    /* A port without a chardev discards output and never blocks. */
    outb(0x2f8, 'q');
    g_assert_cmpuint(inb(0x2f8 + 5) & 0x60, ==, 0x60);
    /* An index in use, or an unknown chardev, is refused. */
    com3 = qdev_new(TYPE_ISA_SERIAL);
    object_property_set_str(OBJECT(com3), "index", "1", &error_abort);
    g_assert_false(qdev_realize(com3, &harness_isa->parent_obj, &err));
    error_free(err);
    err = NULL;
    object_property_set_str(OBJECT(com3), "index", "2", &error_abort);
    object_property_set_str(OBJECT(com3), "chardev", "nosuch", &error_abort);
    g_assert_false(qdev_realize(com3, &harness_isa->parent_obj, &err));
    error_free(err);
    object_unref(com3);
    object_unparent(OBJECT(com2));
    teardown();
    g_assert_cmpuint(inb(LSR), ==, 0xff);
}

static void test_debugcon(void)
{
    Chardev *c = new_chardev("dbg");
    DeviceState *dev = harness_new(TYPE_ISA_DEBUGCON, "chardev=dbg");

    g_byte_array_set_size(out, 0);
    room = INT_MAX;
    outb(0xe9, 'o');
    outb(0xe9, 'k');
    g_assert_cmpmem(out->data, out->len, "ok", 2);
    /* Reads return the readback value that identifies the port. */
    g_assert_cmpuint(inb(0xe9), ==, 0xe9);
    /* A stalled peer: the byte is dropped, the guest is not held up. */
    room = 0;
    outb(0xe9, '?');
    g_assert_cmpuint(out->len, ==, 2);
    room = INT_MAX;
    object_unparent(OBJECT(dev));
    g_assert_true(chardev_delete(c, &error_abort));
    dev = harness_new(TYPE_ISA_DEBUGCON, "iobase=0x402,readback=0x42");
    g_assert_cmpuint(inb(0x402), ==, 0x42);
    object_unparent(OBJECT(dev));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    harness_init();
    out = g_byte_array_new();
    g_test_add_func("/serial/reset-values", test_reset_values);
    g_test_add_func("/serial/transmit-thre", test_transmit_and_thre);
    g_test_add_func("/serial/receive", test_receive);
    g_test_add_func("/serial/fifo", test_fifo);
    g_test_add_func("/serial/stalled-backend", test_stalled_backend);
    g_test_add_func("/serial/modem", test_modem);
    g_test_add_func("/serial/vmstate-ports", test_vmstate_and_ports);
    g_test_add_func("/serial/debugcon", test_debugcon);
    return g_test_run();
}
