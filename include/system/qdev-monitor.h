/*
 * -device handling and help listings.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_QDEV_MONITOR_H
#define SYSTEM_QDEV_MONITOR_H

#include "hw/qdev.h"
#include "kite/opts.h"

/* Create, configure and realize a device from "-device driver,prop=val,..." options. */
DeviceState *qdev_device_add(KiteOpts *opts, bool hotplug, Error **errp);
/*
 * The same for a device QEMU's board makes itself (-nic's NICs, pci_nic_init_nofail): it
 * goes to /machine/unattached rather than /machine/peripheral-anon.
 */
DeviceState *qdev_device_add_board(KiteOpts *opts, Error **errp);
void qdev_print_device_list(FILE *f);
void qdev_print_props(FILE *f, const char *typename);
void machine_print_list(FILE *f);
void accel_print_list(FILE *f);

#endif
