/*
 * MSI (PCI Local Bus Specification 3.0, 6.8.1): the 64-bit capability without per-vector
 * masking (Message Control, Message Address low/high, Message Data).  With Multiple
 * Message Enable = n, vector v is sent as data with its low n bits replaced by v.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/msix.h"

#define MSI_CONTROL     2
#define  MSI_ENABLE     0x0001
#define  MSI_64BIT      0x0080
#define MSI_ADDR_LO     4
#define MSI_ADDR_HI     8
#define MSI_DATA        12
#define MSI_CAP_SIZE    14

bool msi_init(PCIDevice *dev, uint8_t cap_pos, unsigned nr_vectors, Error **errp)
{
    unsigned log2 = 0;
    int cap;

    if (nr_vectors == 0 || nr_vectors > 32 || (nr_vectors & (nr_vectors - 1))) {
        error_setg(errp, "MSI: %u vectors is not a power of two up to 32", nr_vectors);
        return false;
    }
    while ((1u << log2) < nr_vectors) {
        log2++;
    }
    cap = pci_add_capability(dev, PCI_CAP_ID_MSI, cap_pos, MSI_CAP_SIZE, errp);
    if (cap < 0) {
        return false;
    }
    dev->msi_cap = cap;
    dev->msi_routes = g_new0(PCIMsiRoute, 32);
    for (unsigned i = 0; i < 32; i++) {
        dev->msi_routes[i].virq = -1;
    }
    pci_set_word(dev->config + cap + MSI_CONTROL, MSI_64BIT | log2 << 1);
    /* Writable: enable and Multiple Message Enable; address (dword aligned) and data. */
    pci_set_word(dev->wmask + cap + MSI_CONTROL, MSI_ENABLE | 0x70);
    pci_set_long(dev->wmask + cap + MSI_ADDR_LO, 0xfffffffc);
    pci_set_long(dev->wmask + cap + MSI_ADDR_HI, 0xffffffff);
    pci_set_word(dev->wmask + cap + MSI_DATA, 0xffff);
    return true;
}

bool msi_enabled(PCIDevice *dev)
{
    return dev->msi_cap &&
           (pci_get_word(dev->config + dev->msi_cap + MSI_CONTROL) & MSI_ENABLE);
}

void msi_notify(PCIDevice *dev, unsigned vector)
{
    uint8_t *c = dev->config + dev->msi_cap;
    unsigned mme = (pci_get_word(c + MSI_CONTROL) >> 4) & 7;
    uint32_t data = pci_get_word(c + MSI_DATA);
    uint64_t addr = pci_get_long(c + MSI_ADDR_LO) | (uint64_t)pci_get_long(c + MSI_ADDR_HI) << 32;

    if (!msi_enabled(dev) || vector >= (1u << mme) ||
        !(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return;
    }
    data = (data & ~((1u << mme) - 1)) | vector;
    pci_msi_send_routed(&dev->msi_routes[vector], addr, data);
}

void msi_uninit(PCIDevice *dev)
{
    if (dev->msi_routes) {
        pci_msi_routes_release(dev);
        g_clear_pointer(&dev->msi_routes, g_free);
    }
    dev->msi_cap = 0;
}

void msi_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    uint8_t *c = dev->config + dev->msi_cap;
    unsigned mmc = (pci_get_word(c + MSI_CONTROL) >> 1) & 7;
    unsigned mme = (pci_get_word(c + MSI_CONTROL) >> 4) & 7;

    /* Multiple Message Enable above what the function asked for is clamped (6.8.1.3). */
    if (dev->msi_cap && mme > mmc) {
        pci_set_word(c + MSI_CONTROL, (pci_get_word(c + MSI_CONTROL) & ~0x70) | mmc << 4);
    }
}
