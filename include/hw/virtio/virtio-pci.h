/*
 * virtio over PCI (virtio 1.2 section 4.1): the register blocks of the modern interface
 * (common config, ISR, device config, notifications: one 16 KiB memory BAR) and of the
 * transitional legacy interface (I/O BAR 0, 4.1.4.8).
 *
 * VirtIOPCIRegs holds the register logic and knows nothing of PCI config space: the PCI
 * device (virtio-pci.c) maps its regions into BARs, points the vendor capabilities at them
 * and supplies the interrupt callbacks (MSI-X vector, or INTx).  That split lets a unit test
 * drive a complete virtio device through the registers alone.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/virtio/virtio.h"
#include "kite/memory.h"
#include "kite/main-loop.h"

/* Offsets inside the modern BAR (QEMU's layout: 4 KiB per structure). */
#define VIRTIO_PCI_COMMON_OFFSET    0x0000
#define VIRTIO_PCI_ISR_OFFSET       0x1000
#define VIRTIO_PCI_DEVICE_OFFSET    0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET    0x3000
#define VIRTIO_PCI_REGION_SIZE      0x1000
#define VIRTIO_PCI_MODERN_BAR_SIZE  0x4000
#define VIRTIO_PCI_NOTIFY_MULT      4       /* notify_off_multiplier */

/* Common configuration structure (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34
#define VIRTIO_PCI_COMMON_SIZE      0x38

/* Legacy I/O registers (4.1.4.8). */
#define VIRTIO_PCI_HOST_FEATURES    0x00
#define VIRTIO_PCI_GUEST_FEATURES   0x04
#define VIRTIO_PCI_QUEUE_PFN        0x08
#define VIRTIO_PCI_QUEUE_NUM        0x0c
#define VIRTIO_PCI_QUEUE_SEL        0x0e
#define VIRTIO_PCI_QUEUE_NOTIFY     0x10
#define VIRTIO_PCI_STATUS           0x12
#define VIRTIO_PCI_ISR              0x13
#define VIRTIO_MSI_CONFIG_VECTOR    0x14
#define VIRTIO_MSI_QUEUE_VECTOR     0x16
/* Device config follows at 0x14, or at 0x18 while MSI-X is enabled. */
#define VIRTIO_PCI_CONFIG_OFF(msix) ((msix) ? 0x18 : 0x14)

typedef struct VirtIOPCIRegs VirtIOPCIRegs;

typedef struct VirtIOPCINotifier {
    EventNotifier e;
    VirtIOPCIRegs *regs;
    uint16_t queue;
    bool on;
} VirtIOPCINotifier;

struct VirtIOPCIRegs {
    VirtIODevice *vdev;
    MemoryRegion modern_bar;    /* container: common, isr, device, notify */
    MemoryRegion common, isr, device, notify;
    MemoryRegion legacy_io;     /* BAR 0 of a transitional device */
    bool modern, legacy;
    uint32_t dfselect, gfselect;
    uint64_t guest_features;    /* the driver's writes, applied at FEATURES_OK */
    uint16_t nvectors;          /* MSI-X vectors; 0: INTx only */
    /* From the PCI device. */
    void *opaque;
    bool (*msix_enabled)(void *opaque);
    void (*msix_notify)(void *opaque, uint16_t vector);
    void (*set_intx)(void *opaque, int level);
    /* Queue notifications through ioeventfds (under KVM). */
    bool use_ioeventfd;
    VirtIOPCINotifier notifiers[VIRTIO_QUEUE_MAX];
};

/* Create the regions for vdev (modern and/or legacy) and hook vdev's notifications.  The
 * opaque and callbacks must be set before. */
void virtio_pci_regs_init(VirtIOPCIRegs *r, Object *owner, VirtIODevice *vdev, bool modern,
                          bool legacy, bool use_ioeventfd);
void virtio_pci_regs_destroy(VirtIOPCIRegs *r);
/* Transport reset (PCI reset): the device and the transport registers. */
void virtio_pci_regs_reset(VirtIOPCIRegs *r);
/* Size of the legacy I/O BAR for this device (a power of 2). */
uint64_t virtio_pci_legacy_size(VirtIODevice *vdev, bool msix);

extern const VMStateDescription vmstate_virtio_pci_regs;

#endif
