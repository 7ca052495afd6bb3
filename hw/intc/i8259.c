/*
 * Intel 8259A programmable interrupt controller, with the PIIX3 edge/level control register.
 *
 * Datasheet: Intel 8259A Programmable Interrupt Controller (8259A/8259A-2), order number
 * 231468-003, December 1988 (sections cited by title).  ELCR: Intel 82371FB (PIIX) and
 * 82371SB (PIIX3) datasheet, 4.1.10 "ELCR1/ELCR2 - Edge/Level Triggered Control Registers".
 *
 * Emulated: ICW1-ICW4, OCW1-OCW3, IRR/ISR/IMR, fully nested mode, non-specific and specific
 * EOI, automatic EOI, automatic and specific rotation, special mask mode, poll command, edge
 * and level triggering (ICW1 LTIM and the per-line ELCR), special fully nested mode, the
 * spurious IR7 response, cascade through the master's ICW3.
 * Not emulated: MCS-80/85 mode (call instructions on the bus; logged), buffered mode and the
 * CAS lines (wiring is the board's), the one-cycle latency of the INTA pulses.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/intc/i8259.h"
#include "kite/log.h"

/* ICW1 (written to A0=0 with D4=1), "Initialization Command Words". */
#define ICW1_IC4        0x01    /* ICW4 will be written */
#define ICW1_SNGL       0x02    /* single 8259A, no ICW3 */
#define ICW1_LTIM       0x08    /* level-triggered inputs */
#define ICW1_SELECT     0x10
/* ICW4 */
#define ICW4_UPM        0x01    /* 8086 mode (0: MCS-80/85) */
#define ICW4_AEOI       0x02
#define ICW4_SFNM       0x10
/* OCW3 (A0=0, D4=0, D3=1), "Operation Command Words". */
#define OCW3_SELECT     0x08
#define OCW3_RIS        0x01    /* read ISR (else IRR) ... */
#define OCW3_RR         0x02    /* ... if this bit is set */
#define OCW3_POLL       0x04
#define OCW3_SMM        0x20    /* set (else reset) special mask mode ... */
#define OCW3_ESMM       0x40    /* ... if this bit is set */

/* Which init word port A0=1 expects next. */
enum { INIT_DONE = 0, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

OBJECT_DECLARE_SIMPLE_TYPE(PicState, I8259)

struct PicState {
    IsaDevice parent_obj;

    /* Properties. */
    uint32_t iobase;
    uint32_t elcr_addr;
    uint8_t elcr_mask;          /* lines that may be level-triggered */
    bool master;
    PicState *slave;            /* master only: the chip on the cascade (no reference) */

    /* Guest-visible state. */
    uint8_t line;               /* current level of the IR inputs */
    uint8_t irr, isr, imr;
    uint8_t priority_add;       /* the IR with the highest priority (rotation) */
    uint8_t irq_base;           /* ICW2: T7-T3 */
    uint8_t icw3;               /* master: slave-attached IRs; slave: its ID */
    uint8_t init_state;
    bool init4, single_mode, ltim;
    bool auto_eoi, rotate_on_auto_eoi, special_fully_nested;
    bool read_isr, poll, special_mask;
    uint8_t elcr;

    bool out;                   /* INT output level */
    IRQState *int_out;
    MemoryRegion io, elcr_io;
};

DeviceState *isa_pic;

/* Lines whose IRR bit follows the input level rather than its rising edge. */
static uint8_t pic_level_mask(PicState *s)
{
    return s->ltim ? 0xff : s->elcr;
}

/*
 * "Fully Nested Mode" / "Automatic Rotation": priority is counted from priority_add, so
 * after rotation the IR just serviced becomes the lowest.  Returns 0 (highest) .. 7, or 8
 * when no bit of mask is set.
 */
static int pic_priority(PicState *s, uint8_t mask)
{
    for (int p = 0; p < 8; p++) {
        if (mask & (1 << ((p + s->priority_add) & 7))) {
            return p;
        }
    }
    return 8;
}

/* The IR the chip would signal now, or -1. */
static int pic_get_irq(PicState *s)
{
    int req = pic_priority(s, s->irr & ~s->imr);
    uint8_t in_service = s->isr;

    if (req == 8) {
        return -1;
    }
    /*
     * "Special Mask Mode": a masked level no longer inhibits the others.  "The Special Fully
     * Nested Mode": on the master, a slave's in-service bit does not block further requests
     * from that slave (the slave arbitrates among its own).
     */
    if (s->special_mask) {
        in_service &= ~s->imr;
    }
    if (s->special_fully_nested && s->master) {
        in_service &= ~s->icw3;
    }
    if (req < pic_priority(s, in_service)) {
        return (req + s->priority_add) & 7;
    }
    return -1;
}

static void pic_update(PicState *s)
{
    bool level = pic_get_irq(s) >= 0;

    s->out = level;
    kite_trace("i8259_update", "%s out=%d irr=0x%02x isr=0x%02x imr=0x%02x",
               s->master ? "master" : "slave", level, s->irr, s->isr, s->imr);
    irq_set_level(s->int_out, level);
}

/* An IR input changed ("Edge and Level Triggered Modes"). */
static void pic_set_irq(void *opaque, int n, int level)
{
    PicState *s = I8259(opaque);
    uint8_t bit = 1 << (n & 7);
    bool was = s->line & bit;

    if (level) {
        s->line |= bit;
    } else {
        s->line &= ~bit;
    }
    if (pic_level_mask(s) & bit) {
        /* Level mode: the request lasts as long as the input is high. */
        s->irr = level ? s->irr | bit : s->irr & ~bit;
    } else if (level && !was) {
        /*
         * Edge mode: a rising edge latches the request.  Unlike the chip, the latch is kept
         * if the line falls again before INTA: emulated devices pulse their lines in zero
         * time (irq_pulse), as in QEMU.
         */
        s->irr |= bit;
    }
    pic_update(s);
}

/* One INTA cycle on this chip for IR irq ("Interrupt Sequence", steps 4-6). */
static void pic_intack(PicState *s, int irq)
{
    uint8_t bit = 1 << irq;

    if (s->auto_eoi) {
        /* "Automatic End of Interrupt (AEOI) Mode": the ISR bit is reset at the last INTA. */
        if (s->rotate_on_auto_eoi) {
            s->priority_add = (irq + 1) & 7;
        }
    } else {
        s->isr |= bit;
    }
    /* A level-triggered request stays in IRR while its input is high. */
    if (!(pic_level_mask(s) & bit)) {
        s->irr &= ~bit;
    }
    pic_update(s);
}

int pic_read_irq(DeviceState *dev)
{
    PicState *s = I8259(dev);
    int irq = pic_get_irq(s);
    int vector;

    if (irq < 0) {
        /* "Interrupt Sequence": no request at INTA time -> the IR7 vector, no ISR bit. */
        kite_trace("i8259_spurious", "%s", s->master ? "master" : "slave");
        return s->irq_base + 7;
    }
    if (s->master && !s->single_mode && (s->icw3 & (1 << irq)) && s->slave) {
        /* "Cascade Mode": the slave whose ID the master sends puts the vector on the bus. */
        PicState *slave = s->slave;
        int irq2 = pic_get_irq(slave);
        if (irq2 >= 0) {
            pic_intack(slave, irq2);
        } else {
            irq2 = 7;   /* spurious on the slave: IR15, the master still marks IR2 */
        }
        vector = slave->irq_base + irq2;
    } else {
        vector = s->irq_base + irq;
    }
    pic_intack(s, irq);
    kite_trace("i8259_intack", "irq=%d vector=0x%02x", irq, vector);
    return vector;
}

bool pic_get_output(DeviceState *dev)
{
    return I8259(dev)->out;
}

/* "Poll Command": the read after OCW3 P=1 acknowledges and returns 1000 0 W2 W1 W0. */
static uint8_t pic_poll_read(PicState *s)
{
    int irq = pic_get_irq(s);

    s->poll = false;
    if (irq < 0) {
        return 0;
    }
    pic_intack(s, irq);
    return 0x80 | irq;
}

static uint64_t pic_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    PicState *s = opaque;

    if (s->poll) {
        return pic_poll_read(s);
    }
    if (addr == 0) {
        /* "Reading the 8259A Status": OCW3 RR/RIS select IRR or ISR on A0=0. */
        return s->read_isr ? s->isr : s->irr;
    }
    return s->imr;
}

/* ICW1: "Initialization Command Words", the initialization sequence steps a-f. */
static void pic_write_icw1(PicState *s, uint8_t val)
{
    s->init_state = INIT_ICW2;
    s->init4 = val & ICW1_IC4;
    s->single_mode = val & ICW1_SNGL;
    s->ltim = val & ICW1_LTIM;
    /* a: the edge sense circuit is reset - an edge line must rise again to request. */
    s->irr &= pic_level_mask(s) & s->line;
    s->imr = 0;                 /* b */
    s->isr = 0;
    s->priority_add = 0;        /* c: IR7 lowest */
    s->special_mask = false;    /* e: special mask mode off, status read is IRR */
    s->read_isr = false;
    s->poll = false;
    /* f: without IC4 every ICW4 function is zero. */
    s->auto_eoi = false;
    s->special_fully_nested = false;
    s->rotate_on_auto_eoi = false;
    pic_update(s);
}

/* OCW2: EOI, rotation and set priority ("Operation Command Words", Figure 8). */
static void pic_write_ocw2(PicState *s, uint8_t val)
{
    int cmd = val >> 5;
    int level = val & 7;
    uint8_t in_service;
    int p;

    switch (cmd) {
    case 0:     /* rotate in automatic EOI mode (clear) */
    case 4:     /* rotate in automatic EOI mode (set) */
        s->rotate_on_auto_eoi = cmd == 4;
        break;
    case 1:     /* non-specific EOI */
    case 5:     /* rotate on non-specific EOI */
        /*
         * "End of Interrupt (EOI)": reset the highest-priority ISR bit; in special mask
         * mode, ISR bits masked by IMR are not reset by a non-specific EOI.
         */
        in_service = s->special_mask ? s->isr & ~s->imr : s->isr;
        p = pic_priority(s, in_service);
        if (p != 8) {
            level = (p + s->priority_add) & 7;
            s->isr &= ~(1 << level);
            if (cmd == 5) {
                s->priority_add = (level + 1) & 7;
            }
        }
        break;
    case 3:     /* specific EOI */
        s->isr &= ~(1 << level);
        break;
    case 7:     /* rotate on specific EOI: "Specific Rotation" */
        s->isr &= ~(1 << level);
        s->priority_add = (level + 1) & 7;
        break;
    case 6:     /* set priority: level becomes the lowest */
        s->priority_add = (level + 1) & 7;
        break;
    case 2:     /* no operation */
        break;
    }
    pic_update(s);
}

static void pic_write_ocw3(PicState *s, uint8_t val)
{
    if (val & OCW3_POLL) {
        s->poll = true;
    }
    if (val & OCW3_RR) {
        s->read_isr = val & OCW3_RIS;
    }
    if (val & OCW3_ESMM) {
        s->special_mask = val & OCW3_SMM;
    }
    pic_update(s);
}

static void pic_ioport_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    PicState *s = opaque;
    uint8_t val = data;

    kite_trace("i8259_write", "%s port=%d val=0x%02x", s->master ? "master" : "slave",
               (int)addr, val);
    if (addr == 0) {
        if (val & ICW1_SELECT) {
            pic_write_icw1(s, val);
        } else if (val & OCW3_SELECT) {
            pic_write_ocw3(s, val);
        } else {
            pic_write_ocw2(s, val);
        }
        return;
    }
    switch (s->init_state) {
    case INIT_DONE:             /* OCW1: the interrupt mask */
        s->imr = val;
        pic_update(s);
        break;
    case INIT_ICW2:
        s->irq_base = val & 0xf8;
        s->init_state = s->single_mode ? (s->init4 ? INIT_ICW4 : INIT_DONE) : INIT_ICW3;
        break;
    case INIT_ICW3:
        s->icw3 = val;
        s->init_state = s->init4 ? INIT_ICW4 : INIT_DONE;
        break;
    case INIT_ICW4:
        if (!(val & ICW4_UPM)) {
            kite_log_mask(LOG_UNIMP, "i8259: MCS-80/85 mode (ICW4=0x%02x) not emulated\n", val);
        }
        s->auto_eoi = val & ICW4_AEOI;
        s->special_fully_nested = val & ICW4_SFNM;
        s->init_state = INIT_DONE;
        pic_update(s);
        break;
    }
}

static uint64_t elcr_read(void *opaque, hwaddr addr, unsigned size)
{
    return ((PicState *)opaque)->elcr;
}

static void elcr_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    PicState *s = opaque;
    uint8_t level_now;

    /* PIIX3 4.1.10: IRQ0, 1, 2, 8 and 13 cannot be level-sensitive (bits reserved). */
    if (data & ~s->elcr_mask & 0xff) {
        kite_log_mask(LOG_GUEST_ERROR, "i8259: ELCR write 0x%02x sets reserved bits\n",
                      (unsigned)data);
    }
    s->elcr = data & s->elcr_mask;
    /* Lines now level-triggered report their input level. */
    level_now = pic_level_mask(s);
    s->irr = (s->irr & ~level_now) | (s->line & level_now);
    pic_update(s);
}

static const MemoryRegionOps pic_ops = {
    .read = pic_ioport_read, .write = pic_ioport_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

static const MemoryRegionOps elcr_ops = {
    .read = elcr_read, .write = elcr_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

/*
 * The chip has no defined state before ICW1; like QEMU, reset leaves it as if programmed with
 * vector base 0 and everything cleared.  ICW3 starts out as the board's wiring (slave on IR2)
 * so that the cascade works for guests that never initialize the pair.  ELCR: PIIX3 4.1.10,
 * default 00h.
 */
static void pic_reset(DeviceState *dev)
{
    PicState *s = I8259(dev);

    s->irr = 0;
    s->isr = 0;
    s->imr = 0;
    s->priority_add = 0;
    s->irq_base = 0;
    s->icw3 = s->master ? 1 << 2 : 2;
    s->init_state = INIT_DONE;
    s->init4 = s->single_mode = s->ltim = false;
    s->auto_eoi = s->rotate_on_auto_eoi = s->special_fully_nested = false;
    s->read_isr = s->poll = s->special_mask = false;
    s->elcr = 0;
    pic_update(s);
}

static void pic_instance_init(Object *obj)
{
    PicState *s = I8259(obj);

    qdev_init_gpio_in(DEVICE(obj), pic_set_irq, 8);
    qdev_init_gpio_out(DEVICE(obj), &s->int_out, 1);
}

static void pic_realize(DeviceState *dev, Error **errp)
{
    PicState *s = I8259(dev);

    if (s->iobase > 0xfffe || s->elcr_addr > 0xffff) {
        error_setg(errp, "isa-i8259: iobase 0x%x / elcr_addr 0x%x out of the port space",
                   s->iobase, s->elcr_addr);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &pic_ops, s, "pic", 2);
    memory_region_init_io(&s->elcr_io, OBJECT(dev), &elcr_ops, s, "elcr", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
    isa_register_ioport(ISA_DEVICE(dev), &s->elcr_io, s->elcr_addr);
}

static void pic_unrealize(DeviceState *dev)
{
    PicState *s = I8259(dev);

    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
    memory_region_destroy(&s->elcr_io);
    if (isa_pic == dev) {
        isa_pic = NULL;
    }
}

IRQState **i8259_init(IsaBus *bus, IRQState *parent_irq)
{
    DeviceState *master = qdev_new(TYPE_I8259);
    DeviceState *slave = qdev_new(TYPE_I8259);
    IRQState **irqs = g_new0(IRQState *, ISA_NUM_IRQS);

    object_property_set_bool(OBJECT(master), "master", true, &error_abort);
    object_property_set_uint(OBJECT(master), "iobase", 0x20, &error_abort);
    object_property_set_uint(OBJECT(master), "elcr_addr", 0x4d0, &error_abort);
    object_property_set_uint(OBJECT(master), "elcr_mask", 0xf8, &error_abort);
    object_property_set_uint(OBJECT(slave), "iobase", 0xa0, &error_abort);
    object_property_set_uint(OBJECT(slave), "elcr_addr", 0x4d1, &error_abort);
    object_property_set_uint(OBJECT(slave), "elcr_mask", 0xde, &error_abort);
    qdev_realize_and_unref(master, &bus->parent_obj, &error_fatal);
    qdev_realize_and_unref(slave, &bus->parent_obj, &error_fatal);

    I8259(master)->slave = I8259(slave);
    qdev_connect_gpio_out(master, 0, parent_irq);
    qdev_connect_gpio_out(slave, 0, qdev_get_gpio_in(master, 2));
    for (int i = 0; i < 8; i++) {
        irqs[i] = qdev_get_gpio_in(master, i);
        irqs[8 + i] = qdev_get_gpio_in(slave, i);
    }
    isa_pic = master;
    return irqs;
}

static int pic_post_load(void *opaque, int version_id)
{
    PicState *s = opaque;

    if (s->init_state > INIT_ICW4) {
        return -1;
    }
    s->priority_add &= 7;
    pic_update(s);
    return 0;
}

static const VMStateDescription vmstate_i8259 = {
    .name = "i8259", .version_id = 1, .minimum_version_id = 1,
    .post_load = pic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(line, PicState),
        VMSTATE_UINT8(irr, PicState),
        VMSTATE_UINT8(isr, PicState),
        VMSTATE_UINT8(imr, PicState),
        VMSTATE_UINT8(priority_add, PicState),
        VMSTATE_UINT8(irq_base, PicState),
        VMSTATE_UINT8(icw3, PicState),
        VMSTATE_UINT8(init_state, PicState),
        VMSTATE_BOOL(init4, PicState),
        VMSTATE_BOOL(single_mode, PicState),
        VMSTATE_BOOL(ltim, PicState),
        VMSTATE_BOOL(auto_eoi, PicState),
        VMSTATE_BOOL(rotate_on_auto_eoi, PicState),
        VMSTATE_BOOL(special_fully_nested, PicState),
        VMSTATE_BOOL(read_isr, PicState),
        VMSTATE_BOOL(poll, PicState),
        VMSTATE_BOOL(special_mask, PicState),
        VMSTATE_UINT8(elcr, PicState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property pic_props[] = {
    DEFINE_PROP_UINT32("iobase", PicState, iobase, 0x20),
    DEFINE_PROP_UINT32("elcr_addr", PicState, elcr_addr, 0x4d0),
    DEFINE_PROP_UINT8("elcr_mask", PicState, elcr_mask, 0xf8),
    DEFINE_PROP_BOOL("master", PicState, master, false),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo i8259_type = {
    .name = TYPE_I8259,
    .parent = TYPE_ISA_DEVICE,
    .desc = "Intel 8259A interrupt controller (one chip of the master/slave pair)",
    .instance_size = sizeof(PicState),
    .instance_init = pic_instance_init,
    .realize = pic_realize,
    .unrealize = pic_unrealize,
    .reset = pic_reset,
    .props = pic_props,
    .vmsd = &vmstate_i8259,
};
KITE_TYPE_REGISTER(i8259_type)
