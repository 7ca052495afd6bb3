/*
 * The ISA bus: legacy PC devices with fixed port ranges and IRQs 0-15.
 *
 * The board creates the bus (on the PIIX3 ISA bridge) and hands it the 16 interrupt lines;
 * a device registers its port ranges with isa_register_ioport, and unrealize gives them
 * back with isa_unregister_ioports (the bus remembers which ranges each device took).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ISA_H
#define HW_ISA_H

#include "hw/qdev.h"
#include "kite/memory.h"

#define TYPE_ISA_BUS "ISA"
#define TYPE_ISA_DEVICE "isa-device"
#define ISA_NUM_IRQS 16

typedef struct IsaBus {
    BusState parent_obj;
    IRQState *irqs[ISA_NUM_IRQS];
    MemoryRegion *address_space_io;
    MemoryRegion *address_space_mem;
} IsaBus;

typedef struct IsaDevice {
    DeviceState parent_obj;
    GPtrArray *ioports;           /* of MemoryRegion *, mapped by isa_register_ioport */
} IsaDevice;

IsaBus *ISA_BUS(const void *obj);
IsaDevice *ISA_DEVICE(const void *obj);

IsaBus *isa_bus_new(DeviceState *bridge, MemoryRegion *mem, MemoryRegion *io);
void isa_bus_set_irqs(IsaBus *bus, IRQState **irqs);
IRQState *isa_get_irq(IsaDevice *dev, unsigned isairq);
IsaBus *isa_bus_of(IsaDevice *dev);
void isa_register_ioport(IsaDevice *dev, MemoryRegion *mr, uint16_t port);
void isa_unregister_ioports(IsaDevice *dev);
/* Create and realize an ISA device on bus with its defaults (board helper). */
IsaDevice *isa_create_simple(IsaBus *bus, const char *typename);

#endif
