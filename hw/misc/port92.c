/*
 * Port 0x92, "System Control Port A" of the PS/2 (IBM PS/2 Hardware Interface Technical
 * Reference, "System Control Port A"), kept by every PC chipset since (Intel ICH datasheets:
 * "PORT92 - Init Register"): bit 1 gates A20 without going through the 8042, and a 0 -> 1
 * transition of bit 0 resets the processor ("fast reset").  Power-on value 00h.
 * Kite, like QEMU, turns the fast reset into a full guest reset.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "hw/misc/pc-misc.h"
#include "kite/log.h"
#include "kite/runstate.h"

#define PORT92_RESET    0x01
#define PORT92_A20      0x02

typedef struct Port92State {
    IsaDevice parent_obj;
    MemoryRegion io;
    IRQState *a20_out;
    uint8_t outport;
} Port92State;

static Port92State *PORT92(const void *obj)
{
    return OBJECT_CHECK(Port92State, obj, TYPE_PORT92);
}

static uint64_t port92_read(void *opaque, hwaddr addr, unsigned size)
{
    return PORT92(opaque)->outport;
}

static void port92_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    Port92State *s = opaque;
    uint8_t old = s->outport;

    kite_trace("port92_write", "0x%02x", (unsigned)val);
    s->outport = val;
    irq_set_level(s->a20_out, !!(val & PORT92_A20));
    if ((val & PORT92_RESET) && !(old & PORT92_RESET)) {
        system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

/* Wider accesses split into byte accesses of consecutive ports, as in QEMU. */
static const MemoryRegionOps port92_ops = {
    .read = port92_read, .write = port92_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

static void port92_reset(DeviceState *dev)
{
    /* The A20 line is not driven: the CPU's reset puts its A20 mask in the reset state. */
    PORT92(dev)->outport = 0;
}

static void port92_init(Object *obj)
{
    qdev_init_gpio_out_named(DEVICE(obj), &PORT92(obj)->a20_out, PORT92_A20_LINE, 1);
}

static void port92_realize(DeviceState *dev, Error **errp)
{
    Port92State *s = PORT92(dev);

    memory_region_init_io(&s->io, OBJECT(dev), &port92_ops, s, "port92", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, 0x92);
}

static void port92_unrealize(DeviceState *dev)
{
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&PORT92(dev)->io);
}

static const VMStateDescription vmstate_port92 = {
    .name = "port92", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(outport, Port92State),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo port92_type = {
    .name = TYPE_PORT92,
    .parent = TYPE_ISA_DEVICE,
    .desc = "System Control Port A (port 0x92: A20 gate, fast reset)",
    .instance_size = sizeof(Port92State),
    .instance_init = port92_init,
    .realize = port92_realize,
    .unrealize = port92_unrealize,
    .reset = port92_reset,
    .vmsd = &vmstate_port92,
};
KITE_TYPE_REGISTER(port92_type)
