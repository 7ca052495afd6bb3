/*
 * pvpanic (ISA): a guest reports a panic by writing to port 0x505 (see hw/misc/pvpanic.h
 * and QEMU's docs/specs/pvpanic.rst).  The device only forwards events to the run-state
 * layer (system_guest_panic_request); what a panic does (-action panic=) is decided there.
 *
 * No vmstate: nothing the guest can change is kept (the port and the event mask are
 * properties, fixed at realize), and reset has nothing to restore.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "hw/misc/pvpanic.h"
#include "kite/log.h"
#include "kite/runstate.h"

typedef struct PVPanicState {
    IsaDevice parent_obj;
    uint16_t ioport;
    uint8_t events;
    MemoryRegion io;
} PVPanicState;

static PVPanicState *PVPANIC(const void *obj)
{
    return OBJECT_CHECK(PVPanicState, obj, TYPE_PVPANIC_ISA);
}

static uint64_t pvpanic_read(void *opaque, hwaddr addr, unsigned size)
{
    PVPanicState *s = opaque;

    return s->events;
}

static void pvpanic_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PVPanicState *s = opaque;
    unsigned ev = pvpanic_write_events(s->events, val);

    kite_trace("pvpanic", "write 0x%" PRIx64 " -> events 0x%x", val, ev);
    if (val & ~(uint64_t)s->events) {
        kite_log_mask(LOG_GUEST_ERROR, "pvpanic: unknown event bits 0x%" PRIx64 " ignored",
                      val & ~(uint64_t)s->events);
    }
    if (ev & PVPANIC_PANICKED) {
        system_guest_panic_request(GUEST_PANIC_PANICKED);
    } else if (ev & PVPANIC_CRASH_LOADED) {
        system_guest_panic_request(GUEST_PANIC_CRASH_LOADED);
    }
}

/* One byte wide: the spec's port is 8 bits; wider accesses touch only the first byte. */
static const MemoryRegionOps pvpanic_ops = {
    .read = pvpanic_read, .write = pvpanic_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

static void pvpanic_realize(DeviceState *dev, Error **errp)
{
    PVPanicState *s = PVPANIC(dev);

    if (s->events & ~PVPANIC_EVENTS) {
        error_setg(errp, "pvpanic: events 0x%x: only bits 0x%x are supported", s->events,
                   PVPANIC_EVENTS);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &pvpanic_ops, s, "pvpanic", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->ioport);
}

static void pvpanic_unrealize(DeviceState *dev)
{
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&PVPANIC(dev)->io);
}

static const Property pvpanic_props[] = {
    DEFINE_PROP_UINT16("ioport", PVPanicState, ioport, PVPANIC_IOPORT),
    DEFINE_PROP_UINT8("events", PVPanicState, events, PVPANIC_EVENTS),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo pvpanic_type = {
    .name = TYPE_PVPANIC_ISA,
    .parent = TYPE_ISA_DEVICE,
    .desc = "guest panic notification (port 0x505)",
    .instance_size = sizeof(PVPanicState),
    .realize = pvpanic_realize,
    .unrealize = pvpanic_unrealize,
    .props = pvpanic_props,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(pvpanic_type)
