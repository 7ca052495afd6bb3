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

/* PAM: 0xf0000-0xfffff and twelve 16 KiB segments from 0xc0000. */
#define I440FX_PAM_SEGMENTS 13

typedef struct I440FXState I440FXState;

typedef struct PAMSegment {
    I440FXState *bridge;
    hwaddr start;
    MemoryRegion ro, wo, rw;       /* DRAM read-only, write-only, read/write views */
} PAMSegment;

/* The 00:00.0 function. */
struct I440FXState {
    PCIDevice parent_obj;
    MemoryRegion *system_memory, *ram;
    const uint8_t *bios_low;       /* the BIOS ROM's contents below 1 MiB, or NULL */
    hwaddr bios_low_start;
    MemoryRegion pci_hole;
    PAMSegment pam[I440FX_PAM_SEGMENTS];
};

I440FXState *I440FX(const void *obj);

/*
 * Give the bridge the memory PAM steers: ram (guest RAM from address 0) and, for firmware
 * boot, the BIOS ROM bytes the PCI side shows from bios_low_start up to 1 MiB.
 */
void i440fx_init_pam(PCIDevice *dev, MemoryRegion *system_memory, MemoryRegion *ram,
                     const uint8_t *bios_low, hwaddr bios_low_start);

#endif
