/*
 * isa-debug-exit: QEMU's device for test kernels.  Any write of a value v to its ports makes
 * the emulator exit with status (v << 1) | 1, so a status of 1 (a plain exit or a crash) can
 * never pass for a test's success.  Reads return 0.  It has no guest state.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "hw/misc/pc-misc.h"
#include "kite/log.h"
#include "kite/runstate.h"

typedef struct DebugExitState {
    IsaDevice parent_obj;
    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
} DebugExitState;

static DebugExitState *ISA_DEBUG_EXIT(const void *obj)
{
    return OBJECT_CHECK(DebugExitState, obj, TYPE_ISA_DEBUG_EXIT);
}

static uint64_t debug_exit_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    kite_trace("debug_exit", "value=0x%" PRIx64 " size=%u", val, size);
    system_exit_request((int)((val << 1) | 1));
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read, .write = debug_exit_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

static void debug_exit_realize(DeviceState *dev, Error **errp)
{
    DebugExitState *s = ISA_DEBUG_EXIT(dev);

    if (s->iosize == 0 || s->iobase + s->iosize > 0x10000) {
        error_setg(errp, "isa-debug-exit: iobase 0x%x + iosize 0x%x is outside the I/O space",
                   s->iobase, s->iosize);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &debug_exit_ops, s, "isa-debug-exit",
                          s->iosize);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
}

static void debug_exit_unrealize(DeviceState *dev)
{
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&ISA_DEBUG_EXIT(dev)->io);
}

static const Property debug_exit_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", DebugExitState, iobase, 0x501, 0, 0xffff),
    DEFINE_PROP_UINT32_RANGE("iosize", DebugExitState, iosize, 0x02, 1, 0x10000),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo debug_exit_type = {
    .name = TYPE_ISA_DEBUG_EXIT,
    .parent = TYPE_ISA_DEVICE,
    .desc = "exit the emulator with status (v << 1) | 1 when v is written",
    .instance_size = sizeof(DebugExitState),
    .realize = debug_exit_realize,
    .unrealize = debug_exit_unrealize,
    .props = debug_exit_props,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(debug_exit_type)
