/*
 * MSI and MSI-X (PCI Local Bus Specification 3.0, 6.8): hw/pci/msix.c, hw/pci/msi.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_PCI_MSIX_H
#define HW_PCI_MSIX_H

#include "hw/pci/pci.h"
#include "kite/main-loop.h"

/*
 * How a message reaches the interrupt controllers; the board sets it (pc: the local
 * APICs, or KVM_SIGNAL_MSI with KVM's in-kernel irqchip).  NULL: messages are dropped.
 */
extern void (*pci_msi_trigger)(uint64_t addr, uint32_t data);

/*
 * A message source with a stable identity (one MSI-X or MSI vector of a device).  Where
 * the board can route messages by source (pc with KVM's in-kernel irqchip: a GSI route and
 * an irqfd per vector), pci_msi_route_send delivers through that route, creating it on
 * first use and updating it when the vector's address or data changed; it returns false
 * when it cannot, and the caller falls back to pci_msi_trigger.  pci_msi_route_release
 * gives the route back (vector reset, device unplug).  Both hooks NULL: no routing.
 */
typedef struct PCIMsiRoute {
    int virq;                   /* -1: none yet */
    uint64_t addr;
    uint32_t data;
    EventNotifier e;
} PCIMsiRoute;

extern bool (*pci_msi_route_send)(PCIMsiRoute *r, uint64_t addr, uint32_t data);
extern void (*pci_msi_route_release)(PCIMsiRoute *r);
/* Release every route of the device (reset, unrealize). */
void pci_msi_routes_release(PCIDevice *dev);

/*
 * MSI-X with nentries vectors: the table and the PBA are MMIO subregions at the given
 * offsets of the memory regions behind BARs table_bar/pba_bar (the caller registers
 * those BARs).  cap_pos 0 places the capability at the first free offset.
 */
bool msix_init(PCIDevice *dev, unsigned nentries, MemoryRegion *table_bar, int table_bar_nr,
               uint32_t table_offset, MemoryRegion *pba_bar, int pba_bar_nr,
               uint32_t pba_offset, uint8_t cap_pos, Error **errp);
/* MSI-X in a BAR of its own (table at 0, PBA at 2 KiB), registered here. */
bool msix_init_exclusive_bar(PCIDevice *dev, unsigned nentries, int bar_nr, Error **errp);
void msix_uninit(PCIDevice *dev);
bool msix_present(PCIDevice *dev);
/* Enabled and not function-masked: the device should use MSI-X rather than INTx. */
bool msix_enabled(PCIDevice *dev);
/* Send vector (or set its pending bit while masked). */
void msix_notify(PCIDevice *dev, unsigned vector);
unsigned msix_nr_vectors(PCIDevice *dev);
void msix_reset(PCIDevice *dev);
/* The Message Control word changed (called by the generic config write). */
void msix_config_changed(PCIDevice *dev);

/* MSI: one message, up to 32 vectors (multiple message enable), 64-bit address. */
bool msi_init(PCIDevice *dev, uint8_t cap_pos, unsigned nr_vectors, Error **errp);
bool msi_enabled(PCIDevice *dev);
void msi_notify(PCIDevice *dev, unsigned vector);
/* Frees what msi_init took (the generic PCI unrealize calls it). */
void msi_uninit(PCIDevice *dev);
/* Internal to msix.c/msi.c: a vector's message, routed where possible. */
void pci_msi_send_routed(PCIMsiRoute *r, uint64_t addr, uint32_t data);
/* Call from the device's config_write after pci_default_write_config (keeps MSI state). */
void msi_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len);

#endif
