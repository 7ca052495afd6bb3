/*
 * ISA bus and device base type.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "kite/log.h"

IsaBus *ISA_BUS(const void *obj)
{
    return OBJECT_CHECK(IsaBus, obj, TYPE_ISA_BUS);
}

IsaDevice *ISA_DEVICE(const void *obj)
{
    return OBJECT_CHECK(IsaDevice, obj, TYPE_ISA_DEVICE);
}

static const TypeInfo isa_bus_type = {
    .name = TYPE_ISA_BUS,
    .parent = TYPE_BUS,
    .instance_size = sizeof(IsaBus),
};
KITE_TYPE_REGISTER(isa_bus_type)

static void isa_device_init(Object *obj)
{
    ISA_DEVICE(obj)->ioports = g_ptr_array_new();
}

static void isa_device_finalize(Object *obj)
{
    IsaDevice *dev = ISA_DEVICE(obj);

    g_assert(dev->ioports->len == 0);   /* unrealize must have unmapped them */
    g_ptr_array_free(dev->ioports, true);
}

static const TypeInfo isa_device_type = {
    .name = TYPE_ISA_DEVICE,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .instance_size = sizeof(IsaDevice),
    .instance_init = isa_device_init,
    .instance_finalize = isa_device_finalize,
    .bus_type = TYPE_ISA_BUS,
};
KITE_TYPE_REGISTER(isa_device_type)

IsaBus *isa_bus_new(DeviceState *bridge, MemoryRegion *mem, MemoryRegion *io)
{
    IsaBus *bus = ISA_BUS(qbus_new(TYPE_ISA_BUS, bridge, NULL));

    bus->address_space_mem = mem;
    bus->address_space_io = io;
    return bus;
}

void isa_bus_set_irqs(IsaBus *bus, IRQState **irqs)
{
    for (int i = 0; i < ISA_NUM_IRQS; i++) {
        bus->irqs[i] = irqs[i];
    }
}

IsaBus *isa_bus_of(IsaDevice *dev)
{
    return ISA_BUS(DEVICE(dev)->parent_bus);
}

IRQState *isa_get_irq(IsaDevice *dev, unsigned isairq)
{
    g_assert(isairq < ISA_NUM_IRQS);
    return isa_bus_of(dev)->irqs[isairq];
}

void isa_register_ioport(IsaDevice *dev, MemoryRegion *mr, uint16_t port)
{
    memory_region_add_subregion(isa_bus_of(dev)->address_space_io, port, mr);
    g_ptr_array_add(dev->ioports, mr);
}

void isa_unregister_ioports(IsaDevice *dev)
{
    while (dev->ioports->len) {
        MemoryRegion *mr = g_ptr_array_steal_index(dev->ioports, dev->ioports->len - 1);
        memory_region_del_subregion(mr->container, mr);
    }
}

IsaDevice *isa_create_simple(IsaBus *bus, const char *typename)
{
    DeviceState *dev = qdev_new(typename);

    qdev_realize_and_unref(dev, &bus->parent_obj, &error_fatal);
    return ISA_DEVICE(dev);
}
