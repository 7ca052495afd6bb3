/*
 * System-bus devices: chipset parts the board wires by hand (host bridge, IOAPIC, HPET).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_SYSBUS_H
#define HW_SYSBUS_H

#include "hw/qdev.h"
#include "kite/memory.h"

#define TYPE_SYS_BUS_DEVICE "sys-bus-device"

/* Realize dev on the main system bus. */
bool sysbus_realize(DeviceState *dev, Error **errp);
bool sysbus_realize_and_unref(DeviceState *dev, Error **errp);

#endif
