/*
 * Devices and buses.
 *
 * A device is created (qdev_new), given properties, then realized onto a bus
 * (qdev_realize): realize claims resources (memory regions, IRQs, backends) and unrealize
 * gives every one of them back, so that any device can later be hot-unplugged.  reset
 * writes the power-on values of every guest-visible register.  A device's vmsd is registered
 * for save/restore at realize time.
 *
 * Devices sit on buses (system bus, ISA, PCI) and may own buses of their own; the resulting
 * tree is what "info qtree" prints.  Independently, every object also sits in the QOM
 * composition tree under /machine.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_QDEV_H
#define HW_QDEV_H

#include "kite/object.h"
#include "kite/property.h"
#include "kite/vmstate.h"
#include "hw/irq.h"

#define TYPE_DEVICE "device"
#define TYPE_BUS "bus"
#define TYPE_SYSTEM_BUS "System"

typedef struct BusState BusState;
typedef struct BusClass BusClass;
typedef struct DeviceClass DeviceClass;

struct DeviceClass {
    ObjectClass parent_class;
    const char *desc;
    void (*realize)(DeviceState *dev, Error **errp);
    void (*unrealize)(DeviceState *dev);
    void (*reset)(DeviceState *dev);
    const VMStateDescription *vmsd;
    const char *bus_type;
    bool user_creatable;
    bool hotpluggable;
};

typedef struct NamedGPIOList {
    char *name;                   /* NULL for the anonymous list */
    IRQState **in;                /* inputs owned by the device */
    IRQState ***out;              /* outputs: pointers to the device's IRQState * fields */
    int num_in, num_out;
} NamedGPIOList;

struct DeviceState {
    Object parent_obj;
    char *id;                     /* user-given id (-device ...,id=) */
    bool realized;
    bool hotplugged;
    BusState *parent_bus;
    GPtrArray *child_buses;       /* of BusState * */
    GPtrArray *gpios;             /* of NamedGPIOList * */
};

struct BusClass {
    ObjectClass parent_class;
    /* Extra lines for "info qtree" about a device on this bus (e.g. PCI slot). */
    void (*print_dev)(GString *out, DeviceState *dev, int indent);
    /* Veto or complete a device's address on this bus before realize. */
    bool (*check_address)(BusState *bus, DeviceState *dev, Error **errp);
    int max_dev;                  /* 0 = unlimited */
};

struct BusState {
    Object obj;
    DeviceState *parent;
    char *name;
    GPtrArray *children;          /* of DeviceState *, in order of plugging */
    bool realized;
    bool hotplug_capable;         /* a hotplug controller serves it: device_add/del work */
};

DeviceClass *DEVICE_CLASS(const void *klass);
DeviceClass *DEVICE_GET_CLASS(const void *obj);
DeviceState *DEVICE(const void *obj);
BusState *BUS(const void *obj);
BusClass *BUS_GET_CLASS(const void *obj);

/* --- lifecycle --- */
DeviceState *qdev_new(const char *typename);
DeviceState *qdev_try_new(const char *typename, Error **errp);
/*
 * A device realized without a QOM parent becomes /machine/unattached/device[N], N counting
 * up in the order this runs (QEMU's numbering).  Realize does it; a board may call it
 * earlier to give a device its place in that order before it can be realized.
 */
void qdev_attach_unattached(DeviceState *dev);
/* Plug into bus (NULL: the device needs no bus) and realize. */
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
/* Same, then drop the caller's reference (the bus/tree keeps the device alive). */
bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp);
void qdev_unrealize(DeviceState *dev);
/* Reset dev and everything on its buses, device before children. */
void device_cold_reset(DeviceState *dev);
void bus_cold_reset(BusState *bus);

/* --- buses --- */
BusState *qbus_new(const char *typename, DeviceState *parent, const char *name);
void qbus_unrealize(BusState *bus);
BusState *qdev_get_child_bus(DeviceState *dev, const char *name);
/* The first bus of type typename found walking down from the system bus. */
BusState *qbus_find_by_type(const char *typename);
BusState *qbus_find_by_name(const char *name);
BusState *sysbus_get_default(void);

/* --- GPIOs and IRQs --- */
void qdev_init_gpio_in(DeviceState *dev, IRQHandler *handler, int n);
void qdev_init_gpio_in_named(DeviceState *dev, IRQHandler *handler, const char *name, int n);
void qdev_init_gpio_out(DeviceState *dev, IRQState **pins, int n);
void qdev_init_gpio_out_named(DeviceState *dev, IRQState **pins, const char *name, int n);
IRQState *qdev_get_gpio_in(DeviceState *dev, int n);
IRQState *qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n);
void qdev_connect_gpio_out(DeviceState *dev, int n, IRQState *irq);
void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n, IRQState *irq);

/* --- the machine object and trees --- */
Object *qdev_get_machine(void);
/* "info qtree" text, starting at the system bus. */
void qdev_print_tree(GString *out);
/* Find a realized device by id or QOM path. */
DeviceState *qdev_find(const char *id_or_path);

#endif
