/*
 * 8259A pair: initialization, priority, EOI, cascade, ELCR level mode, spurious IR7/IR15,
 * auto-EOI, poll, rotation, special mask mode, save/restore.  Section names are those of the
 * Intel 8259A datasheet (231468-003); ELCR is PIIX3 4.1.10.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "hw/intc/i8259.h"
#include "hw/sysbus.h"

static MemoryRegion io_root;
static AddressSpace io_as;
static int int_level;           /* the master's INT output */
static int int_changes;

static void int_handler(void *opaque, int n, int level)
{
    if (level != int_level) {
        int_changes++;
    }
    int_level = level;
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
    DeviceState *bridge;
    IsaBus *isa;
    IRQState *parent;
    IRQState **irq;
} Fixture;

/* The pair as the BIOS and Linux program it: vectors 0x08 and 0x70, slave on IR2. */
static void pic_program(void)
{
    outb(0x20, 0x11);           /* ICW1: edge, cascade, ICW4 needed */
    outb(0x21, 0x08);           /* ICW2 */
    outb(0x21, 0x04);           /* ICW3: slave on IR2 */
    outb(0x21, 0x01);           /* ICW4: 8086 mode */
    outb(0xa0, 0x11);
    outb(0xa1, 0x70);
    outb(0xa1, 0x02);           /* ICW3: slave ID 2 */
    outb(0xa1, 0x01);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->bridge = qdev_new(TYPE_TEST_BRIDGE);
    sysbus_realize_and_unref(f->bridge, &error_abort);
    f->isa = isa_bus_new(f->bridge, NULL, &io_root);
    f->parent = irq_new(int_handler, NULL, 0);
    f->irq = i8259_init(f->isa, f->parent);
    device_cold_reset(f->bridge);
    int_level = 0;
    int_changes = 0;
    pic_program();
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    object_unparent(OBJECT(f->bridge));
    g_assert_null(isa_pic);
    g_free(f->irq);
    irq_free(f->parent);
}

static uint8_t read_isr(uint16_t base)
{
    outb(base, 0x0b);           /* OCW3: read ISR */
    return inb(base);
}

static uint8_t read_irr(uint16_t base)
{
    outb(base, 0x0a);           /* OCW3: read IRR */
    return inb(base);
}

static void test_init_sequence(Fixture *f, gconstpointer data)
{
    /* "Initialization Command Words" step b: ICW1 clears the IMR. */
    outb(0x21, 0xff);
    g_assert_cmpuint(inb(0x21), ==, 0xff);
    outb(0x20, 0x11);
    g_assert_cmpuint(inb(0x21), ==, 0x00);
    /* ICW2..4 go to A0=1 in sequence; after them A0=1 is OCW1 again. */
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0x21, 0x01);
    g_assert_cmpuint(inb(0x21), ==, 0x01);
    /* Step e: status read is IRR after ICW1. */
    irq_raise(f->irq[3]);
    g_assert_cmpuint(inb(0x20), ==, 0x08);
    irq_lower(f->irq[3]);
    /* ICW2 T2-T0 are ignored in 8086 mode: the vector of IR3 is 0x20 + 3. */
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x23);

    /* Single mode (SNGL): no ICW3, and without IC4 the next write is OCW1. */
    outb(0x20, 0x12);
    outb(0x21, 0x40);
    outb(0x21, 0x7f);
    g_assert_cmpuint(inb(0x21), ==, 0x7f);
}

static void test_priority_and_eoi(Fixture *f, gconstpointer data)
{
    /* "Fully Nested Mode": IR0 highest, IR7 lowest. */
    irq_raise(f->irq[3]);
    irq_raise(f->irq[1]);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpuint(read_irr(0x20), ==, 0x0a);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x09);
    g_assert_cmpuint(read_isr(0x20), ==, 0x02);
    /* Edge request latched in IRR is cleared by INTA ("Interrupt Sequence" step 4). */
    g_assert_cmpuint(read_irr(0x20), ==, 0x08);
    /* IR3 is below the in-service IR1: INT stays low until the EOI. */
    g_assert_cmpint(int_level, ==, 0);
    /* A higher level interrupts the service routine. */
    irq_raise(f->irq[0]);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x08);
    g_assert_cmpuint(read_isr(0x20), ==, 0x03);
    g_assert_cmpint(int_level, ==, 0);
    /* Non-specific EOI resets the highest ISR bit (IR0), then IR1. */
    outb(0x20, 0x20);
    g_assert_cmpuint(read_isr(0x20), ==, 0x02);
    g_assert_cmpint(int_level, ==, 0);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0b);
    /* Specific EOI (OCW2 011 L2-L0). */
    outb(0x20, 0x63);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);

    /* OCW1 masks a request; unmasking delivers it. */
    outb(0x21, 0x20);
    irq_raise(f->irq[5]);
    g_assert_cmpint(int_level, ==, 0);
    outb(0x21, 0x00);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0d);
    outb(0x20, 0x20);
}

static void test_cascade_and_spurious(Fixture *f, gconstpointer data)
{
    /* "Cascade Mode": IRQ12 = slave IR4 reaches the CPU through master IR2. */
    irq_raise(f->irq[12]);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x74);
    g_assert_cmpuint(read_isr(0x20), ==, 0x04);
    g_assert_cmpuint(read_isr(0xa0), ==, 0x10);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);
    irq_lower(f->irq[12]);

    /* "Interrupt Sequence": a level request gone before INTA gives IR7 without ISR. */
    outb(0x4d0, 0x20);          /* IRQ5 level-triggered */
    irq_raise(f->irq[5]);
    g_assert_cmpint(int_level, ==, 1);
    irq_lower(f->irq[5]);
    g_assert_cmpint(int_level, ==, 0);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0f);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);

    /* On the slave: IR15's vector, and the master still marks IR2 in service. */
    outb(0x4d1, 0x08);          /* IRQ11 level-triggered */
    irq_raise(f->irq[11]);
    g_assert_cmpint(int_level, ==, 1);
    irq_lower(f->irq[11]);
    /* The master latched the cascade edge; the slave has nothing left. */
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x77);
    g_assert_cmpuint(read_isr(0x20), ==, 0x04);
    g_assert_cmpuint(read_isr(0xa0), ==, 0x00);
    outb(0x20, 0x20);
}

static void test_elcr_level(Fixture *f, gconstpointer data)
{
    /* PIIX3 4.1.10: IRQ0-2 (ELCR1 bits 0-2) and IRQ8, 13 (ELCR2 bits 0, 5) are reserved. */
    outb(0x4d0, 0xff);
    g_assert_cmpuint(inb(0x4d0), ==, 0xf8);
    outb(0x4d1, 0xff);
    g_assert_cmpuint(inb(0x4d1), ==, 0xde);
    outb(0x4d0, 0x00);
    outb(0x4d1, 0x08);          /* IRQ11 level */

    /* "Edge and Level Triggered Modes": a level request persists after INTA and EOI. */
    irq_raise(f->irq[11]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x73);
    g_assert_cmpuint(read_irr(0xa0), ==, 0x08);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x73);
    irq_lower(f->irq[11]);
    g_assert_cmpuint(read_irr(0xa0), ==, 0x00);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 0);

    /* An edge line still high after its EOI does not request again. */
    irq_raise(f->irq[4]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0c);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 0);
    /* Switching it to level mode makes the high line a request. */
    outb(0x4d0, 0x10);
    g_assert_cmpint(int_level, ==, 1);
    irq_lower(f->irq[4]);
    g_assert_cmpint(int_level, ==, 0);

    /* ICW1 LTIM makes every input level-triggered. */
    outb(0x4d0, 0x00);
    outb(0x20, 0x19);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    irq_raise(f->irq[6]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0e);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 1);
    irq_lower(f->irq[6]);
    g_assert_cmpint(int_level, ==, 0);
}

static void test_modes(Fixture *f, gconstpointer data)
{
    /* "Automatic End of Interrupt (AEOI) Mode": no ISR bit is left after INTA. */
    outb(0x20, 0x11);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x03);
    irq_raise(f->irq[3]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0b);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);
    irq_lower(f->irq[3]);
    pic_program();

    /* "Poll Command": the read after OCW3 P=1 returns 1000 0 W2-W0 and acknowledges. */
    irq_raise(f->irq[6]);
    outb(0x20, 0x0c);
    g_assert_cmpuint(inb(0x20), ==, 0x86);
    g_assert_cmpuint(read_isr(0x20), ==, 0x40);
    outb(0x20, 0x0c);
    g_assert_cmpuint(inb(0x20), ==, 0x00);
    outb(0x20, 0x20);
    irq_lower(f->irq[6]);

    /* "Automatic Rotation": rotate on non-specific EOI makes IR1 the lowest. */
    irq_raise(f->irq[1]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x09);
    outb(0x20, 0xa0);
    irq_lower(f->irq[1]);
    irq_raise(f->irq[0]);
    irq_raise(f->irq[5]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0d);   /* order is now 2..7, 0, 1 */
    outb(0x20, 0x65);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x08);
    outb(0x20, 0x60);
    irq_lower(f->irq[0]);
    irq_lower(f->irq[5]);

    /* "Specific Rotation": set priority (OCW2 11000 L) makes IR4 the lowest, IR5 the highest. */
    outb(0x20, 0xc4);
    irq_raise(f->irq[4]);
    irq_raise(f->irq[7]);
    irq_raise(f->irq[5]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0d);
    /* IR5 in service is now the highest level: nothing else gets through. */
    g_assert_cmpint(int_level, ==, 0);
    outb(0x20, 0x20);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0f);
    g_assert_cmpuint(read_isr(0x20), ==, 0x80);   /* a real IR7, not the spurious one */
    outb(0x20, 0x20);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0c);
    outb(0x20, 0x20);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);
    outb(0x20, 0xc7);           /* back to IR0 highest */
    irq_lower(f->irq[4]);
    irq_lower(f->irq[5]);
    irq_lower(f->irq[7]);

    /* "Special Mask Mode": with IR3 in service and masked, lower IR5 is enabled. */
    irq_raise(f->irq[3]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0b);
    irq_raise(f->irq[5]);
    g_assert_cmpint(int_level, ==, 0);
    outb(0x21, 0x08);
    outb(0x20, 0x68);           /* OCW3: set special mask */
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0d);
    /* A non-specific EOI does not reset the masked IR3 bit in special mask mode. */
    outb(0x20, 0x20);
    g_assert_cmpuint(read_isr(0x20), ==, 0x08);
    outb(0x20, 0x48);           /* reset special mask */
    outb(0x21, 0x00);
    outb(0x20, 0x63);
    g_assert_cmpuint(read_isr(0x20), ==, 0x00);
}

static void test_special_fully_nested(Fixture *f, gconstpointer data)
{
    /* "The Special Fully Nested Mode": a higher slave request while a slave is in service. */
    outb(0x20, 0x11);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x11);           /* ICW4: SFNM, 8086 */
    irq_raise(f->irq[13]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x75);
    irq_raise(f->irq[9]);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x71);
    g_assert_cmpuint(read_isr(0xa0), ==, 0x22);
}

static void test_vmstate(Fixture *f, gconstpointer data)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    uint8_t isr, irr, imr, elcr;

    outb(0x4d1, 0x08);
    outb(0xa1, 0x40);
    irq_raise(f->irq[11]);
    irq_raise(f->irq[4]);
    irq_raise(f->irq[3]);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x73);
    isr = read_isr(0xa0);
    irr = read_irr(0x20);
    imr = inb(0xa1);
    elcr = inb(0x4d1);
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);

    device_cold_reset(f->bridge);
    g_assert_cmpuint(inb(0x4d1), ==, 0x00);
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmpuint(read_isr(0xa0), ==, isr);
    g_assert_cmpuint(read_irr(0x20), ==, irr);
    g_assert_cmpuint(inb(0xa1), ==, imr);
    g_assert_cmpuint(inb(0x4d1), ==, elcr);
    /* The restored state goes on working: EOI slave and master, IR3 comes next. */
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x73);   /* IRQ11 still high (level) */
    irq_lower(f->irq[11]);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpint(pic_read_irq(isa_pic), ==, 0x0b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_region_init(&io_root, NULL, "io", 0x10000);
    address_space_init(&io_as, &io_root, "I/O");
#define ADD(path, fn) g_test_add("/i8259/" path, Fixture, NULL, fixture_setup, fn, \
                                 fixture_teardown)
    ADD("init-sequence", test_init_sequence);
    ADD("priority-eoi", test_priority_and_eoi);
    ADD("cascade-spurious", test_cascade_and_spurious);
    ADD("elcr-level", test_elcr_level);
    ADD("modes", test_modes);
    ADD("special-fully-nested", test_special_fully_nested);
    ADD("vmstate", test_vmstate);
    return g_test_run();
}
