/*
 * isa-debugcon: QEMU's debug console port, used by SeaBIOS, OVMF and test kernels to print
 * without a UART.  A byte written to iobase (0xe9, Bochs' "port e9 hack") goes to the
 * chardev; a read returns the "readback" property (0xe9), which is how software detects the
 * port.  It has no guest state.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/char/serial.h"
#include "kite/chardev.h"
#include "kite/log.h"

typedef struct DebugconState {
    IsaDevice parent_obj;
    uint32_t iobase;
    uint32_t readback;
    char *chardev;
    MemoryRegion io;
    CharFrontend fe;
} DebugconState;

static DebugconState *ISA_DEBUGCON(const void *obj)
{
    return OBJECT_CHECK(DebugconState, obj, TYPE_ISA_DEBUGCON);
}

static uint64_t debugcon_read(void *opaque, hwaddr addr, unsigned size)
{
    return ISA_DEBUGCON(opaque)->readback;
}

static void debugcon_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    DebugconState *s = opaque;
    uint8_t ch = val;

    /* Never blocks: a stalled backend drops what its bounded buffer cannot hold. */
    chr_fe_write_all(&s->fe, &ch, 1);
}

/* Wider accesses split into bytes (QEMU's impl-1 ops): only the first reaches iobase. */
static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read, .write = debugcon_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

static void debugcon_realize(DeviceState *dev, Error **errp)
{
    DebugconState *s = ISA_DEBUGCON(dev);
    Chardev *chr = NULL;

    if (s->chardev) {
        chr = chardev_find(s->chardev);
        if (!chr) {
            error_setg(errp, "isa-debugcon: chardev '%s' not found", s->chardev);
            return;
        }
    }
    if (!chr_fe_init(&s->fe, chr, errp)) {
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &debugcon_ops, s, "isa-debugcon", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
}

static void debugcon_unrealize(DeviceState *dev)
{
    DebugconState *s = ISA_DEBUGCON(dev);

    chr_fe_deinit(&s->fe, false);
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
}

static const Property debugcon_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", DebugconState, iobase, 0xe9, 0, 0xffff),
    DEFINE_PROP_STRING("chardev", DebugconState, chardev),
    DEFINE_PROP_UINT32_RANGE("readback", DebugconState, readback, 0xe9, 0, 0xff),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo debugcon_type = {
    .name = TYPE_ISA_DEBUGCON,
    .parent = TYPE_ISA_DEVICE,
    .desc = "debug console port (0xe9)",
    .instance_size = sizeof(DebugconState),
    .realize = debugcon_realize,
    .unrealize = debugcon_unrealize,
    .props = debugcon_props,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(debugcon_type)
