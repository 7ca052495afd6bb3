/*
 * I/O APIC, 24 pins.
 *
 * Datasheet: Intel 82093AA I/O Advanced Programmable Interrupt Controller (IOAPIC), order
 * number 290566-001, May 1996 (sections 3.1 and 3.2).  Version 0x20 adds the EOI register at
 * offset 0x40 of the ICH I/O APICs (Intel ICH9 datasheet, 13.5.4 "EOI Register"), as QEMU's
 * default model does.
 *
 * The board's lines are logical: 1 means the interrupt is asserted, whatever the polarity
 * bit (13) says, as in QEMU - the PCI INTx lines reach us already inverted, and honouring the
 * polarity again would assert every idle active-low pin.
 * Not emulated: the delivery status bit (12) reads 0 because delivery is synchronous; the
 * ExtINT delivery mode (the board does not wire the 8259 to any pin).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/intc/ioapic.h"
#include "hw/intc/apic.h"
#include "kite/log.h"

/* Memory-mapped registers (3.1). */
#define IOAPIC_IOREGSEL     0x00
#define IOAPIC_IOWIN        0x10
#define IOAPIC_EOI          0x40

/* Indirect registers (3.2). */
#define IOAPIC_REG_ID       0x00
#define IOAPIC_REG_VER      0x01
#define IOAPIC_REG_ARB      0x02
#define IOAPIC_REG_REDTBL   0x10

/* Redirection table entry (3.2.4). */
#define RTE_VECTOR          0xffULL
#define RTE_DELIV_SHIFT     8
#define RTE_DEST_LOGICAL    (1ULL << 11)
#define RTE_DELIV_STATUS    (1ULL << 12)
#define RTE_POLARITY_LOW    (1ULL << 13)
#define RTE_REMOTE_IRR      (1ULL << 14)
#define RTE_TRIGGER_LEVEL   (1ULL << 15)
#define RTE_MASKED          (1ULL << 16)
#define RTE_DEST_SHIFT      56
/* Bits software may write: 11:0, 13, 15, 16 and the destination 63:56. */
#define RTE_WRITABLE        (0x1afffULL | (0xffULL << RTE_DEST_SHIFT))

OBJECT_DECLARE_SIMPLE_TYPE(IoapicState, IOAPIC)

struct IoapicState {
    DeviceState parent_obj;
    uint8_t version;            /* property: 0x11 (82093AA) or 0x20 (with EOI register) */
    uint8_t id;
    uint8_t ioregsel;
    uint32_t line;              /* pin levels */
    uint32_t irr;               /* pending: latched edges, asserted level pins */
    uint64_t redtbl[IOAPIC_NUM_PINS];
    MemoryRegion mmio;
};

static GPtrArray *ioapics;      /* realized I/O APICs, for the EOI broadcast */

/*
 * Level semantics (IRR follows the line, Remote IRR until EOI) apply to fixed and lowest
 * priority entries only: SMI, NMI and INIT are never EOIed (3.2.4: "should be programmed
 * edge triggered"), so those pins fire on rising edges whatever bit 15 says.
 */
static bool rte_is_level(uint64_t rte)
{
    int mode = (rte >> RTE_DELIV_SHIFT) & 7;

    return (rte & RTE_TRIGGER_LEVEL) && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWPRI);
}

/* Send every pending, unmasked pin to the local APICs. */
static void ioapic_service(IoapicState *s)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint32_t bit = 1u << pin;
        uint64_t rte = s->redtbl[pin];
        int mode = (rte >> RTE_DELIV_SHIFT) & 7;
        bool level = rte_is_level(rte);

        if (!(s->irr & bit) || (rte & RTE_MASKED)) {
            continue;
        }
        if (level) {
            /* 3.2.4 bit 14: no new message until the local APIC's EOI clears Remote IRR. */
            if (rte & RTE_REMOTE_IRR) {
                continue;
            }
        } else {
            s->irr &= ~bit;
        }
        if (mode == 3 || mode == 6) {
            kite_log_mask(LOG_GUEST_ERROR, "ioapic: pin %d uses reserved delivery mode %d\n",
                          pin, mode);
            continue;
        }
        if (mode == APIC_DM_EXTINT) {
            kite_log_mask(LOG_UNIMP, "ioapic: ExtINT delivery (pin %d) not wired\n", pin);
            continue;
        }
        if (level) {
            s->redtbl[pin] |= RTE_REMOTE_IRR;
        }
        kite_trace("ioapic_deliver", "pin=%d vector=0x%02x mode=%d dest=0x%02x", pin,
                   (int)(rte & RTE_VECTOR), mode, (int)(rte >> RTE_DEST_SHIFT));
        apic_deliver_irq(rte >> RTE_DEST_SHIFT, rte & RTE_DEST_LOGICAL, mode, rte & RTE_VECTOR,
                         level);
    }
}

static void ioapic_set_irq(void *opaque, int pin, int level)
{
    IoapicState *s = IOAPIC(opaque);
    uint32_t bit;
    bool was;

    if (pin < 0 || pin >= IOAPIC_NUM_PINS) {
        return;
    }
    bit = 1u << pin;
    was = s->line & bit;
    s->line = level ? s->line | bit : s->line & ~bit;
    if (rte_is_level(s->redtbl[pin])) {
        s->irr = level ? s->irr | bit : s->irr & ~bit;
    } else if (level && !was && !(s->redtbl[pin] & RTE_MASKED)) {
        /* 3.2.4 bit 16: an edge on a masked pin is ignored, neither delivered nor held. */
        s->irr |= bit;
    }
    ioapic_service(s);
}

static void ioapic_eoi(IoapicState *s, uint8_t vector)
{
    bool any = false;

    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t rte = s->redtbl[pin];
        if ((rte & RTE_VECTOR) == vector && rte_is_level(rte) && (rte & RTE_REMOTE_IRR)) {
            s->redtbl[pin] &= ~RTE_REMOTE_IRR;
            any = true;
        }
    }
    if (any) {
        ioapic_service(s);      /* still asserted: delivered again */
    }
}

void ioapic_eoi_broadcast(int vector)
{
    for (guint i = 0; ioapics && i < ioapics->len; i++) {
        ioapic_eoi(ioapics->pdata[i], vector & 0xff);
    }
}

static uint32_t ioapic_reg_read(IoapicState *s)
{
    unsigned idx = s->ioregsel;
    unsigned pin;

    switch (idx) {
    case IOAPIC_REG_ID:
        return (uint32_t)s->id << 24;                   /* 3.2.1: bits 27:24 */
    case IOAPIC_REG_VER:
        /* 3.2.2: maximum redirection entry in 23:16, version in 7:0. */
        return ((IOAPIC_NUM_PINS - 1) << 16) | s->version;
    case IOAPIC_REG_ARB:
        return (uint32_t)s->id << 24;                   /* 3.2.3: loaded from the ID */
    }
    if (idx >= IOAPIC_REG_REDTBL && idx < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        pin = (idx - IOAPIC_REG_REDTBL) / 2;
        return idx & 1 ? s->redtbl[pin] >> 32 : (uint32_t)s->redtbl[pin];
    }
    kite_log_mask(LOG_GUEST_ERROR, "ioapic: read of unknown register 0x%02x\n", idx);
    return 0;
}

static void ioapic_reg_write(IoapicState *s, uint32_t val)
{
    unsigned idx = s->ioregsel;
    unsigned pin;
    uint64_t old, rte;

    if (idx == IOAPIC_REG_ID) {
        s->id = (val >> 24) & 0xf;
        return;
    }
    if (idx < IOAPIC_REG_REDTBL || idx >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        kite_log_mask(LOG_GUEST_ERROR, "ioapic: write 0x%08x to read-only/unknown register "
                      "0x%02x\n", val, idx);
        return;
    }
    pin = (idx - IOAPIC_REG_REDTBL) / 2;
    old = s->redtbl[pin];
    if (idx & 1) {
        rte = (old & 0xffffffffULL) | ((uint64_t)val << 32);
    } else {
        rte = (old & ~0xffffffffULL) | val;
    }
    rte = (rte & RTE_WRITABLE) | (old & RTE_REMOTE_IRR);
    if (!(rte & RTE_TRIGGER_LEVEL)) {
        /*
         * Remote IRR is meaningless for edge pins; Linux clears a stuck Remote IRR on
         * version 0x11 chips by switching the pin to edge and back (__eoi_ioapic_pin).
         */
        rte &= ~RTE_REMOTE_IRR;
    }
    if (rte_is_level(rte)) {
        s->irr = (s->irr & ~(1u << pin)) | (s->line & (1u << pin));
    } else if (rte_is_level(old)) {
        s->irr &= ~(1u << pin);     /* now edge: only a new rising edge requests */
    }
    s->redtbl[pin] = rte;
    ioapic_service(s);
}

static uint64_t ioapic_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    IoapicState *s = opaque;

    switch (addr) {
    case IOAPIC_IOREGSEL:
        return s->ioregsel;
    case IOAPIC_IOWIN:
        return ioapic_reg_read(s);
    }
    kite_log_mask(LOG_GUEST_ERROR, "ioapic: read at unknown offset 0x%" PRIx64 "\n", addr);
    return 0xffffffff;
}

static void ioapic_mmio_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    IoapicState *s = opaque;

    switch (addr) {
    case IOAPIC_IOREGSEL:
        s->ioregsel = data & 0xff;                      /* 3.1.1: bits 7:0 */
        return;
    case IOAPIC_IOWIN:
        ioapic_reg_write(s, data);
        return;
    case IOAPIC_EOI:
        if (s->version >= 0x20) {
            ioapic_eoi(s, data & 0xff);
            return;
        }
        break;
    }
    kite_log_mask(LOG_GUEST_ERROR, "ioapic: write at unknown offset 0x%" PRIx64 "\n", addr);
}

static const MemoryRegionOps ioapic_ops = {
    .read = ioapic_mmio_read, .write = ioapic_mmio_write,
    .valid = { 1, 4 }, .impl = { 4, 4 },
};

MemoryRegion *ioapic_mmio(DeviceState *dev)
{
    return &IOAPIC(dev)->mmio;
}

/* 3.2.1-3.2.4: ID 0, every redirection entry masked, edge, vector 0. */
static void ioapic_reset(DeviceState *dev)
{
    IoapicState *s = IOAPIC(dev);

    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->redtbl[i] = RTE_MASKED;
    }
}

static void ioapic_instance_init(Object *obj)
{
    qdev_init_gpio_in(DEVICE(obj), ioapic_set_irq, IOAPIC_NUM_PINS);
}

static void ioapic_realize(DeviceState *dev, Error **errp)
{
    IoapicState *s = IOAPIC(dev);

    if (s->version != 0x11 && s->version != 0x20) {
        error_setg(errp, "ioapic: version must be 0x11 or 0x20, not 0x%x", s->version);
        return;
    }
    memory_region_init_io(&s->mmio, OBJECT(dev), &ioapic_ops, s, "ioapic", IOAPIC_SPACE_SIZE);
    if (!ioapics) {
        ioapics = g_ptr_array_new();
    }
    g_ptr_array_add(ioapics, s);
}

static void ioapic_unrealize(DeviceState *dev)
{
    IoapicState *s = IOAPIC(dev);

    g_ptr_array_remove(ioapics, s);
    if (memory_region_is_mapped(&s->mmio)) {
        memory_region_del_subregion(s->mmio.container, &s->mmio);
    }
    memory_region_destroy(&s->mmio);
}

static int ioapic_post_load(void *opaque, int version_id)
{
    IoapicState *s = opaque;

    s->id &= 0xf;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->redtbl[i] &= RTE_WRITABLE | RTE_REMOTE_IRR;
    }
    return 0;
}

static const VMStateDescription vmstate_ioapic = {
    .name = "ioapic", .version_id = 1, .minimum_version_id = 1,
    .post_load = ioapic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(id, IoapicState),
        VMSTATE_UINT8(ioregsel, IoapicState),
        VMSTATE_UINT32(line, IoapicState),
        VMSTATE_UINT32(irr, IoapicState),
        VMSTATE_UINT64_ARRAY(redtbl, IoapicState, IOAPIC_NUM_PINS),
        VMSTATE_END_OF_LIST()
    },
};

static const Property ioapic_props[] = {
    DEFINE_PROP_UINT8("version", IoapicState, version, 0x20),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo ioapic_type = {
    .name = TYPE_IOAPIC,
    .parent = TYPE_SYS_BUS_DEVICE,
    .desc = "I/O APIC (82093AA compatible, 24 pins)",
    .instance_size = sizeof(IoapicState),
    .instance_init = ioapic_instance_init,
    .realize = ioapic_realize,
    .unrealize = ioapic_unrealize,
    .reset = ioapic_reset,
    .props = ioapic_props,
    .vmsd = &vmstate_ioapic,
};
KITE_TYPE_REGISTER(ioapic_type)
