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
    /* Queue notifications through ioeventfds (under KVM, or always with an iothread). */
    bool use_ioeventfd;
    /* Where the ioeventfds are watched: NULL for the main loop, or an iothread's context
     * (iothread=), whose handlers take the BQL to run the queue. */
    KiteContext *notify_ctx;
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

/* PCI identity of a virtio device (4.1.2): transitional devices use the legacy device ID
 * 0x1000-0x103f with the virtio device ID as subsystem ID and revision 0; modern-only ones
 * 0x1040 + virtio ID, revision 1, QEMU's subsystem ID 0x1100. */
typedef struct VirtIOPCIIds {
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint16_t class_id;          /* base class << 8 | subclass, as QEMU gives them */
} VirtIOPCIIds;

#define VIRTIO_PCI_VENDOR_ID        0x1af4
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4
#define VIRTIO_PCI_CAP_PCI_CFG      5
#define VIRTIO_PCI_CAP_LEN          16      /* struct virtio_pci_cap */
#define VIRTIO_PCI_NOTIFY_CAP_LEN   20      /* + notify_off_multiplier */
#define VIRTIO_PCI_CFG_CAP_LEN      20      /* + pci_cfg_data[4] (4.1.4.9) */
/* Offsets inside struct virtio_pci_cap (4.1.4). */
#define VIRTIO_PCI_CAP_BAR          4
#define VIRTIO_PCI_CAP_OFFSET       8
#define VIRTIO_PCI_CAP_LENGTH       12
#define VIRTIO_PCI_CAP_CFG_DATA     16

/* False if virtio_id has no transitional device ID and legacy was asked for. */
bool virtio_pci_get_ids(uint16_t virtio_id, bool transitional, VirtIOPCIIds *ids);
/* Fill a vendor-specific capability (4.1.4) at cap (cap[0] = 0x09 and cap[1] = next are
 * the PCI core's); returns its length. */
unsigned virtio_pci_cap_fill(uint8_t *cap, uint8_t cfg_type, uint8_t bar, uint32_t offset,
                             uint32_t length);

extern const VMStateDescription vmstate_virtio_pci_regs;

#endif
