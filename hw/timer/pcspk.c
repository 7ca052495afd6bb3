/*
 * PC port 0x61: PIT channel 2 gate, speaker data, refresh toggle, OUT2 (QEMU's "isa-pcspk").
 *
 * Reference: Intel 82371AB PIIX4 datasheet, "NMI Status and Control Register" (I/O 61h), the
 * AT's port B:
 *   bit 0  timer counter 2 enable (GATE2)        RW
 *   bit 1  speaker data enable                   RW
 *   bit 2  PCI SERR# NMI disable                 RW
 *   bit 3  IOCHK# NMI disable                    RW
 *   bit 4  refresh cycle toggle                  RO
 *   bit 5  timer counter 2 OUT status            RO
 *   bit 6  IOCHK# NMI source status              RO (no source here: 0)
 *   bit 7  SERR# NMI source status               RO (no source here: 0)
 * Not emulated: sound (OUT2 AND speaker data would drive the speaker).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/timer/i8254.h"
#include "kite/log.h"
#include "kite/timer.h"

#define PORTB_GATE2         0x01
#define PORTB_SPKR_DATA     0x02
#define PORTB_SERR_DIS      0x04
#define PORTB_IOCHK_DIS     0x08
#define PORTB_REFRESH       0x10
#define PORTB_OUT2          0x20
#define PORTB_RW_MASK       0x0f

/* The refresh request comes every 15.085 us (PIT channel 1 with the BIOS's count of 18). */
#define REFRESH_PERIOD_NS   15085

OBJECT_DECLARE_SIMPLE_TYPE(PcspkState, PCSPK)

struct PcspkState {
    IsaDevice parent_obj;
    uint32_t iobase;
    DeviceState *pit;           /* link, set before realize */
    uint8_t ctrl;               /* the read/write bits 3-0 */
    MemoryRegion io;
};

static uint64_t pcspk_read(void *opaque, hwaddr addr, unsigned size)
{
    PcspkState *s = opaque;
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
    uint8_t val = s->ctrl;

    if ((now / REFRESH_PERIOD_NS) & 1) {
        val |= PORTB_REFRESH;
    }
    if (pit_get_out(s->pit, 2)) {
        val |= PORTB_OUT2;
    }
    return val;
}

static void pcspk_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    PcspkState *s = opaque;

    s->ctrl = data & PORTB_RW_MASK;
    pit_set_gate(s->pit, 2, s->ctrl & PORTB_GATE2);
}

static const MemoryRegionOps pcspk_ops = {
    .read = pcspk_read, .write = pcspk_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

/* Power-on: all read/write bits 0 (GATE2 low, speaker off, NMI sources enabled). */
static void pcspk_reset(DeviceState *dev)
{
    PcspkState *s = PCSPK(dev);

    s->ctrl = 0;
    if (s->pit) {
        pit_set_gate(s->pit, 2, 0);
    }
}

static void pcspk_realize(DeviceState *dev, Error **errp)
{
    PcspkState *s = PCSPK(dev);

    if (!s->pit) {
        error_setg(errp, "isa-pcspk: property 'pit' must point to the isa-pit");
        return;
    }
    if (s->iobase > 0xffff) {
        error_setg(errp, "isa-pcspk: iobase 0x%x out of the port space", s->iobase);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &pcspk_ops, s, "pcspk", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
}

static void pcspk_unrealize(DeviceState *dev)
{
    PcspkState *s = PCSPK(dev);

    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
}

DeviceState *pcspk_create(IsaBus *bus, DeviceState *pit)
{
    DeviceState *dev = qdev_new(TYPE_PCSPK);

    object_property_set_link(OBJECT(dev), "pit", OBJECT(pit), &error_abort);
    qdev_realize_and_unref(dev, &bus->parent_obj, &error_fatal);
    return dev;
}

static int pcspk_post_load(void *opaque, int version_id)
{
    PcspkState *s = opaque;

    s->ctrl &= PORTB_RW_MASK;
    return 0;
}

/* GATE2 itself is saved with the PIT. */
static const VMStateDescription vmstate_pcspk = {
    .name = "pcspk", .version_id = 1, .minimum_version_id = 1,
    .post_load = pcspk_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(ctrl, PcspkState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property pcspk_props[] = {
    DEFINE_PROP_UINT32("iobase", PcspkState, iobase, 0x61),
    DEFINE_PROP_LINK("pit", PcspkState, pit, TYPE_I8254, DeviceState *),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo pcspk_type = {
    .name = TYPE_PCSPK,
    .parent = TYPE_ISA_DEVICE,
    .desc = "PC port 0x61: PIT channel 2 gate and output, speaker enable",
    .instance_size = sizeof(PcspkState),
    .realize = pcspk_realize,
    .unrealize = pcspk_unrealize,
    .reset = pcspk_reset,
    .props = pcspk_props,
    .vmsd = &vmstate_pcspk,
};
KITE_TYPE_REGISTER(pcspk_type)
