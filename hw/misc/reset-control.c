/*
 * The Reset Control Register at I/O port 0xcf9 (Intel 82371FB/SB PIIX/PIIX3 datasheet,
 * "RC - Reset Control Register (I/O)"): bit 1 (SRST) chooses a hard (system) or soft (CPU only)
 * reset, and writing bit 2 (RCPU) as 1 starts the reset.  Kite resets the whole machine for
 * both kinds, as QEMU does; the register keeps bit 1 and reads it back.  Power-on value 00h.
 * This stands alone until the PIIX3 model absorbs it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "hw/misc/pc-misc.h"
#include "kite/log.h"
#include "kite/runstate.h"

#define RCR_SRST    0x02    /* system (hard) reset rather than CPU-only */
#define RCR_RCPU    0x04    /* start the reset */

typedef struct ResetControlState {
    IsaDevice parent_obj;
    MemoryRegion io;
    uint8_t rcr;
} ResetControlState;

static ResetControlState *RESET_CONTROL(const void *obj)
{
    return OBJECT_CHECK(ResetControlState, obj, TYPE_RESET_CONTROL);
}

static uint64_t rcr_read(void *opaque, hwaddr addr, unsigned size)
{
    return RESET_CONTROL(opaque)->rcr;
}

static void rcr_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ResetControlState *s = opaque;

    kite_trace("rcr_write", "0x%02x", (unsigned)val);
    if (val & RCR_RCPU) {
        system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        return;
    }
    s->rcr = val & RCR_SRST;
}

/* Byte-wide: 0xcf8 is the 32-bit PCI configuration address register next door. */
static const MemoryRegionOps rcr_ops = {
    .read = rcr_read, .write = rcr_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

static void rcr_reset(DeviceState *dev)
{
    RESET_CONTROL(dev)->rcr = 0;
}

static void rcr_realize(DeviceState *dev, Error **errp)
{
    ResetControlState *s = RESET_CONTROL(dev);

    memory_region_init_io(&s->io, OBJECT(dev), &rcr_ops, s, "reset-control", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, 0xcf9);
}

static void rcr_unrealize(DeviceState *dev)
{
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&RESET_CONTROL(dev)->io);
}

static const VMStateDescription vmstate_rcr = {
    .name = "reset-control", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(rcr, ResetControlState),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo rcr_type = {
    .name = TYPE_RESET_CONTROL,
    .parent = TYPE_ISA_DEVICE,
    .desc = "PIIX3 Reset Control Register (port 0xcf9)",
    .instance_size = sizeof(ResetControlState),
    .realize = rcr_realize,
    .unrealize = rcr_unrealize,
    .reset = rcr_reset,
    .vmsd = &vmstate_rcr,
};
KITE_TYPE_REGISTER(rcr_type)
