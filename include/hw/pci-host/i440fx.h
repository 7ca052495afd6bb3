/*
 * The i440FX host bridge (hw/pci-host/i440fx.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_PCI_HOST_I440FX_H
#define HW_PCI_HOST_I440FX_H

#include "hw/pci/pci.h"

#define TYPE_I440FX_PCI_HOST "i440FX-pcihost"
#define TYPE_I440FX_PCI_DEVICE "i440FX"

typedef struct I440FXHost {
    DeviceState parent_obj;
    PCIBus *bus;
    MemoryRegion conf_addr, conf_data;
    uint32_t config_addr;
} I440FXHost;

I440FXHost *I440FX_HOST(const void *obj);

#endif
