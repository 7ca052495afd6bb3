/*
 * The main system bus and its abstract device type.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/sysbus.h"

static const TypeInfo sys_bus_device_type = {
    .name = TYPE_SYS_BUS_DEVICE,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .bus_type = TYPE_SYSTEM_BUS,
};
KITE_TYPE_REGISTER(sys_bus_device_type)

bool sysbus_realize(DeviceState *dev, Error **errp)
{
    return qdev_realize(dev, sysbus_get_default(), errp);
}

bool sysbus_realize_and_unref(DeviceState *dev, Error **errp)
{
    return qdev_realize_and_unref(dev, sysbus_get_default(), errp);
}
