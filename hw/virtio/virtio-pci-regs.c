/*
 * The registers of virtio over PCI (virtio 1.2 section 4.1.4): the modern common
 * configuration, ISR, device configuration and notification structures, and the legacy I/O
 * layout of transitional devices (4.1.4.8).  Interrupts leave through the PCI device's
 * callbacks: an MSI-X vector when MSI-X is enabled, otherwise INTx following the ISR
 * (4.1.5.3, 4.1.5.4).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio-pci.h"
#include "kite/thread.h"
#include "kite/log.h"

static bool regs_msix(VirtIOPCIRegs *r)
{
    return r->nvectors && r->msix_enabled && r->msix_enabled(r->opaque);
}

static void regs_update_intx(VirtIOPCIRegs *r)
{
    if (r->set_intx) {
        r->set_intx(r->opaque, !regs_msix(r) && (r->vdev->isr & 3) != 0);
    }
}

/* VirtioBusOps.notify: the core set an ISR bit and wants the driver interrupted. */
static void regs_notify(void *opaque, uint16_t vector)
{
    VirtIOPCIRegs *r = opaque;

    if (regs_msix(r)) {
        /* 4.1.5.2: with MSI-X, NO_VECTOR means the event is not signalled at all. */
        if (vector != VIRTIO_NO_VECTOR && vector < r->nvectors && r->msix_notify) {
            r->msix_notify(r->opaque, vector);
        }
        return;
    }
    regs_update_intx(r);
}

static const VirtioBusOps regs_bus_ops = { .notify = regs_notify };

/* 4.1.4.3.2 / 4.1.5.1.2: a vector the function does not have reads back as NO_VECTOR. */
static uint16_t regs_check_vector(VirtIOPCIRegs *r, uint16_t v)
{
    return v < r->nvectors ? v : VIRTIO_NO_VECTOR;
}

static void regs_status_write(VirtIOPCIRegs *r, uint8_t val, bool modern)
{
    VirtIODevice *vdev = r->vdev;

    if (val == 0) {
        virtio_reset(vdev);
        r->guest_features = 0;
        r->dfselect = r->gfselect = 0;
        regs_update_intx(r);
        return;
    }
    if (modern && (val & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        /* 3.1.1 step 5: accept the features now, or leave FEATURES_OK clear. */
        if (!virtio_set_features(vdev, r->guest_features)) {
            val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        }
    }
    virtio_set_status(vdev, val);
}

/* --- modern: common configuration --- */

static uint64_t common_read(void *opaque, hwaddr addr, unsigned size)
{
    VirtIOPCIRegs *r = opaque;
    VirtIODevice *vdev = r->vdev;
    unsigned sel = vdev->queue_sel;
    VirtQueue *vq = sel < VIRTIO_QUEUE_MAX ? &vdev->vq[sel] : NULL;
    bool exists = virtio_queue_exists(vdev, sel);

    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return r->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        return r->dfselect <= 1 ? (uint32_t)(vdev->host_features >> (32 * r->dfselect)) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT:
        return r->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return r->gfselect <= 1 ? (uint32_t)(r->guest_features >> (32 * r->gfselect)) : 0;
    case VIRTIO_PCI_COMMON_MSIX:
        return vdev->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ: {
        unsigned n = 0;
        for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
            if (virtio_queue_exists(vdev, i)) {
                n = i + 1;
            }
        }
        return n;
    }
    case VIRTIO_PCI_COMMON_STATUS:
        return vdev->status;
    case VIRTIO_PCI_COMMON_CFGGEN:
        return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return vdev->queue_sel;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return exists ? vq->num : 0;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return exists ? vq->vector : VIRTIO_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return exists && vq->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return sel;             /* queue n notifies at n * notify_off_multiplier */
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return exists ? (uint32_t)vq->desc : 0;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        return exists ? vq->desc >> 32 : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return exists ? (uint32_t)vq->avail : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        return exists ? vq->avail >> 32 : 0;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        return exists ? (uint32_t)vq->used : 0;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return exists ? vq->used >> 32 : 0;
    default:
        return 0;
    }
}

static uint64_t set_lo(uint64_t old, uint32_t v)
{
    return (old & ~0xffffffffULL) | v;
}

static uint64_t set_hi(uint64_t old, uint32_t v)
{
    return (old & 0xffffffffULL) | ((uint64_t)v << 32);
}

static void common_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VirtIOPCIRegs *r = opaque;
    VirtIODevice *vdev = r->vdev;
    unsigned sel = vdev->queue_sel;
    VirtQueue *vq = virtio_queue_exists(vdev, sel) ? &vdev->vq[sel] : NULL;

    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        r->dfselect = val;
        return;
    case VIRTIO_PCI_COMMON_GFSELECT:
        r->gfselect = val;
        return;
    case VIRTIO_PCI_COMMON_GF:
        if (r->gfselect <= 1 && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            r->guest_features = r->gfselect ? set_hi(r->guest_features, val)
                                            : set_lo(r->guest_features, val);
        }
        return;
    case VIRTIO_PCI_COMMON_MSIX:
        vdev->config_vector = regs_check_vector(r, val);
        return;
    case VIRTIO_PCI_COMMON_STATUS:
        regs_status_write(r, val, true);
        return;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        vdev->queue_sel = val;
        return;
    }
    /* 4.1.4.3.2: the driver MUST NOT change a queue's set-up once it enabled the queue. */
    if (!vq || vq->enabled) {
        if (vq && addr == VIRTIO_PCI_COMMON_Q_MSIX) {
            vq->vector = regs_check_vector(r, val);
        }
        return;
    }
    switch (addr) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        virtio_queue_set_num(vdev, sel, val);
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        vq->vector = regs_check_vector(r, val);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        /* Only 1 may be written (4.1.4.3.2); a queue is disabled by device reset. */
        if (val == 1) {
            vq->enabled = true;
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        vq->desc = set_lo(vq->desc, val);
        break;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        vq->desc = set_hi(vq->desc, val);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        vq->avail = set_lo(vq->avail, val);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        vq->avail = set_hi(vq->avail, val);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        vq->used = set_lo(vq->used, val);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        vq->used = set_hi(vq->used, val);
        break;
    default:
        kite_log_mask(LOG_GUEST_ERROR, "%s: write of read-only common cfg offset 0x%x\n",
                      vdev->name, (unsigned)addr);
        break;
    }
}

static const MemoryRegionOps common_ops = {
    .read = common_read, .write = common_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

/* --- modern: ISR, device config, notify --- */

/* 4.1.4.5: reading the ISR returns and clears it, and de-asserts INTx. */
static uint8_t regs_isr_read(VirtIOPCIRegs *r)
{
    uint8_t v = r->vdev->isr;

    r->vdev->isr = 0;
    regs_update_intx(r);
    return v;
}

static uint64_t isr_read(void *opaque, hwaddr addr, unsigned size)
{
    return addr == 0 ? regs_isr_read(opaque) : 0;
}

static void ignore_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps isr_ops = {
    .read = isr_read, .write = ignore_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

static uint64_t device_read(void *opaque, hwaddr addr, unsigned size)
{
    VirtIOPCIRegs *r = opaque;

    return virtio_config_read(r->vdev, addr, size);
}

static void device_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VirtIOPCIRegs *r = opaque;

    virtio_config_write(r->vdev, addr, val, size);
}

static const MemoryRegionOps device_ops = {
    .read = device_read, .write = device_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

static uint64_t notify_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void notify_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VirtIOPCIRegs *r = opaque;

    /* 4.1.4.4: queue n's address is n * notify_off_multiplier; the value is the index. */
    virtio_queue_notify(r->vdev, addr / VIRTIO_PCI_NOTIFY_MULT);
}

static const MemoryRegionOps notify_ops = {
    .read = notify_read, .write = notify_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

/* --- legacy I/O BAR --- */

uint64_t virtio_pci_legacy_size(VirtIODevice *vdev, bool msix)
{
    uint64_t size = VIRTIO_PCI_CONFIG_OFF(msix) + vdev->config_len;

    return 1ULL << (64 - __builtin_clzll(size - 1));
}

static uint64_t legacy_read(void *opaque, hwaddr addr, unsigned size)
{
    VirtIOPCIRegs *r = opaque;
    VirtIODevice *vdev = r->vdev;
    bool msix = regs_msix(r);
    unsigned cfg = VIRTIO_PCI_CONFIG_OFF(msix);

    if (addr >= cfg) {
        return virtio_config_read(vdev, addr - cfg, size);
    }
    switch (addr) {
    case VIRTIO_PCI_HOST_FEATURES:
        return (uint32_t)vdev->host_features;
    case VIRTIO_PCI_GUEST_FEATURES:
        return (uint32_t)vdev->guest_features;
    case VIRTIO_PCI_QUEUE_PFN:
        return virtio_queue_get_legacy_pfn(vdev, vdev->queue_sel);
    case VIRTIO_PCI_QUEUE_NUM:
        return virtio_queue_exists(vdev, vdev->queue_sel) ? vdev->vq[vdev->queue_sel].num_max
                                                           : 0;
    case VIRTIO_PCI_QUEUE_SEL:
        return vdev->queue_sel;
    case VIRTIO_PCI_STATUS:
        return vdev->status;
    case VIRTIO_PCI_ISR:
        return regs_isr_read(r);
    case VIRTIO_MSI_CONFIG_VECTOR:
        return vdev->config_vector;
    case VIRTIO_MSI_QUEUE_VECTOR:
        return virtio_queue_exists(vdev, vdev->queue_sel) ? vdev->vq[vdev->queue_sel].vector
                                                           : VIRTIO_NO_VECTOR;
    default:
        return 0;
    }
}

static void legacy_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VirtIOPCIRegs *r = opaque;
    VirtIODevice *vdev = r->vdev;
    bool msix = regs_msix(r);
    unsigned cfg = VIRTIO_PCI_CONFIG_OFF(msix);

    if (addr >= cfg) {
        virtio_config_write(vdev, addr - cfg, val, size);
        return;
    }
    switch (addr) {
    case VIRTIO_PCI_GUEST_FEATURES:
        /* A legacy driver sees and acks only the low 32 bits, never VERSION_1. */
        virtio_set_features(vdev, (uint32_t)val);
        break;
    case VIRTIO_PCI_QUEUE_PFN:
        virtio_queue_set_legacy_pfn(vdev, vdev->queue_sel, val);
        break;
    case VIRTIO_PCI_QUEUE_SEL:
        vdev->queue_sel = val;
        break;
    case VIRTIO_PCI_QUEUE_NOTIFY:
        virtio_queue_notify(vdev, val);
        break;
    case VIRTIO_PCI_STATUS:
        regs_status_write(r, val, false);
        break;
    case VIRTIO_MSI_CONFIG_VECTOR:
        vdev->config_vector = regs_check_vector(r, val);
        break;
    case VIRTIO_MSI_QUEUE_VECTOR:
        if (virtio_queue_exists(vdev, vdev->queue_sel)) {
            vdev->vq[vdev->queue_sel].vector = regs_check_vector(r, val);
        }
        break;
    default:
        break;
    }
}

static const MemoryRegionOps legacy_ops = {
    .read = legacy_read, .write = legacy_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

/* --- ioeventfd --- */

static void regs_ioeventfd_read(void *opaque)
{
    VirtIOPCINotifier *n = opaque;
    /* In an iothread: the device model runs under the BQL like every register access. */
    bool take = !bql_locked();

    if (event_notifier_test_and_clear(&n->e)) {
        if (take) {
            bql_lock();
        }
        if (n->on) {
            virtio_queue_notify(n->regs->vdev, n->queue);
        }
        if (take) {
            bql_unlock();
        }
    }
}

static void regs_ioeventfd_start(VirtIOPCIRegs *r)
{
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtIOPCINotifier *n = &r->notifiers[i];

        if (!virtio_queue_exists(r->vdev, i) || event_notifier_init(&n->e, false)) {
            continue;
        }
        n->regs = r;
        n->queue = i;
        n->on = true;
        kite_context_set_fd_handler(r->notify_ctx ? r->notify_ctx : kite_main_context(),
                                    event_notifier_get_fd(&n->e), regs_ioeventfd_read, NULL, n);
        /* Linux writes the queue index as 16 bits (vp_notify: iowrite16). */
        if (r->modern) {
            memory_region_add_eventfd(&r->notify, i * VIRTIO_PCI_NOTIFY_MULT, 2, false, 0, &n->e);
        }
        if (r->legacy) {
            memory_region_add_eventfd(&r->legacy_io, VIRTIO_PCI_QUEUE_NOTIFY, 2, true, i, &n->e);
        }
    }
}

static void regs_ioeventfd_stop(VirtIOPCIRegs *r)
{
    KiteContext *ctx = r->notify_ctx ? r->notify_ctx : kite_main_context();
    bool any = false;

    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtIOPCINotifier *n = &r->notifiers[i];

        if (!n->on) {
            continue;
        }
        if (r->modern) {
            memory_region_del_eventfd(&r->notify, i * VIRTIO_PCI_NOTIFY_MULT, 2, false, 0, &n->e);
        }
        if (r->legacy) {
            memory_region_del_eventfd(&r->legacy_io, VIRTIO_PCI_QUEUE_NOTIFY, 2, true, i, &n->e);
        }
        kite_context_set_fd_handler(ctx, event_notifier_get_fd(&n->e), NULL, NULL, NULL);
        n->on = false;
        any = true;
    }
    if (any && r->notify_ctx) {
        kite_context_sync(r->notify_ctx);
    }
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtIOPCINotifier *n = &r->notifiers[i];

        if (n->regs) {
            event_notifier_cleanup(&n->e);
            n->regs = NULL;
        }
    }
}

/* --- life cycle --- */

void virtio_pci_regs_init(VirtIOPCIRegs *r, Object *owner, VirtIODevice *vdev, bool modern,
                          bool legacy, bool use_ioeventfd)
{
    r->vdev = vdev;
    r->modern = modern;
    r->legacy = legacy;
    virtio_set_bus_ops(vdev, &regs_bus_ops, r);
    if (!modern) {
        /* A legacy-only device must not offer VERSION_1 (its driver could not ack it). */
        vdev->host_features &= ~(1ULL << VIRTIO_F_VERSION_1);
    }
    if (modern) {
        memory_region_init(&r->modern_bar, owner, "virtio-pci", VIRTIO_PCI_MODERN_BAR_SIZE);
        memory_region_init_io(&r->common, owner, &common_ops, r, "virtio-pci-common",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&r->isr, owner, &isr_ops, r, "virtio-pci-isr",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&r->device, owner, &device_ops, r, "virtio-pci-device",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&r->notify, owner, &notify_ops, r, "virtio-pci-notify",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_add_subregion(&r->modern_bar, VIRTIO_PCI_COMMON_OFFSET, &r->common);
        memory_region_add_subregion(&r->modern_bar, VIRTIO_PCI_ISR_OFFSET, &r->isr);
        memory_region_add_subregion(&r->modern_bar, VIRTIO_PCI_DEVICE_OFFSET, &r->device);
        memory_region_add_subregion(&r->modern_bar, VIRTIO_PCI_NOTIFY_OFFSET, &r->notify);
    }
    if (legacy) {
        memory_region_init_io(&r->legacy_io, owner, &legacy_ops, r, "virtio-pci-legacy",
                              virtio_pci_legacy_size(vdev, r->nvectors != 0));
    }
    r->use_ioeventfd = use_ioeventfd;
    if (use_ioeventfd) {
        regs_ioeventfd_start(r);
    }
}

void virtio_pci_regs_destroy(VirtIOPCIRegs *r)
{
    regs_ioeventfd_stop(r);
    if (r->modern) {
        memory_region_del_subregion(&r->modern_bar, &r->common);
        memory_region_del_subregion(&r->modern_bar, &r->isr);
        memory_region_del_subregion(&r->modern_bar, &r->device);
        memory_region_del_subregion(&r->modern_bar, &r->notify);
        memory_region_destroy(&r->common);
        memory_region_destroy(&r->isr);
        memory_region_destroy(&r->device);
        memory_region_destroy(&r->notify);
        memory_region_destroy(&r->modern_bar);
    }
    if (r->legacy) {
        memory_region_destroy(&r->legacy_io);
    }
    virtio_set_bus_ops(r->vdev, NULL, NULL);
}

void virtio_pci_regs_reset(VirtIOPCIRegs *r)
{
    virtio_reset(r->vdev);
    r->dfselect = r->gfselect = 0;
    r->guest_features = 0;
    if (r->set_intx) {
        r->set_intx(r->opaque, 0);
    }
}

/* --- PCI identity and capabilities --- */

bool virtio_pci_get_ids(uint16_t virtio_id, bool transitional, VirtIOPCIIds *ids)
{
    /* 4.1.2.3: the transitional IDs the spec assigns, and QEMU's class codes. */
    static const struct {
        uint16_t virtio_id, legacy_id, class_id;
    } table[] = {
        { 1, 0x1000, 0x0200 },      /* net: PCI_CLASS_NETWORK_ETHERNET */
        { 2, 0x1001, 0x0100 },      /* block: PCI_CLASS_STORAGE_SCSI */
        { 3, 0x1003, 0x0780 },      /* console: PCI_CLASS_COMMUNICATION_OTHER */
        { 4, 0x1005, 0x00ff },      /* entropy: PCI_CLASS_OTHERS */
        { 5, 0x1002, 0x00ff },      /* balloon */
        { 8, 0x1004, 0x0100 },      /* scsi */
        { 9, 0x1009, 0x0002 },      /* 9p */
    };
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(table) && table[i].virtio_id != virtio_id; i++) {
    }
    memset(ids, 0, sizeof(*ids));
    ids->vendor_id = VIRTIO_PCI_VENDOR_ID;
    ids->subsystem_vendor_id = VIRTIO_PCI_VENDOR_ID;
    ids->class_id = i < G_N_ELEMENTS(table) ? table[i].class_id : 0x00ff;
    if (transitional) {
        if (i == G_N_ELEMENTS(table)) {
            return false;
        }
        ids->device_id = table[i].legacy_id;
        ids->subsystem_id = virtio_id;      /* legacy drivers match on it */
        ids->revision = 0;
    } else {
        ids->device_id = 0x1040 + virtio_id;
        ids->subsystem_id = 0x1100;
        ids->revision = 1;                  /* 4.1.2.1: non-transitional devices: >= 1 */
    }
    return true;
}

unsigned virtio_pci_cap_fill(uint8_t *cap, uint8_t cfg_type, uint8_t bar, uint32_t offset,
                             uint32_t length)
{
    unsigned len = cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_LEN
                 : cfg_type == VIRTIO_PCI_CAP_PCI_CFG    ? VIRTIO_PCI_CFG_CAP_LEN
                                                         : VIRTIO_PCI_CAP_LEN;

    /* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, padding[2], offset, length */
    cap[2] = len;
    cap[3] = cfg_type;
    cap[4] = bar;
    cap[5] = 0;
    cap[6] = cap[7] = 0;
    stl_le_p(cap + 8, offset);
    stl_le_p(cap + 12, length);
    if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
        stl_le_p(cap + 16, VIRTIO_PCI_NOTIFY_MULT);
    } else if (cfg_type == VIRTIO_PCI_CAP_PCI_CFG) {
        stl_le_p(cap + 16, 0);                       /* pci_cfg_data */
    }
    return len;
}

const VMStateDescription vmstate_virtio_pci_regs = {
    .name = "virtio-pci-regs", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(dfselect, VirtIOPCIRegs),
        VMSTATE_UINT32(gfselect, VirtIOPCIRegs),
        VMSTATE_UINT64(guest_features, VirtIOPCIRegs),
        VMSTATE_END_OF_LIST()
    },
};
