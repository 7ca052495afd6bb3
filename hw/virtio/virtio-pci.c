/*
 * virtio over PCI (virtio 1.2 section 4.1): the PCI face of a virtio device, with QEMU's type
 * names virtio-rng-pci, virtio-serial-pci, virtio-blk-pci and virtio-net-pci.  The register logic is
 * VirtIOPCIRegs (virtio-pci-regs.c); this file gives it BARs and capabilities:
 *   BAR 0  legacy I/O registers of a transitional device (disable-legacy=on drops it)
 *   BAR 1  MSI-X table and PBA (vectors=: one per queue plus config by default; 0: none)
 *   BAR 4  64-bit prefetchable memory: common, ISR, device and notify structures, pointed
 *          at by the vendor capabilities of 4.1.4 (disable-modern=on drops it)
 * A modern device also has the PCI configuration access capability (4.1.4.9), a window
 * into BAR 4 through configuration space for drivers that cannot map it (SeaBIOS with
 * a 64-bit BAR above 4 GiB).
 * Interrupts: an MSI-X vector per queue and one for config changes while the driver has
 * MSI-X enabled (4.1.5.2), else INTx with the ISR (4.1.5.3).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/pci.h"
#include "hw/pci/msix.h"
#include "hw/boards.h"
#include "hw/loader.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-rng.h"
#include "hw/virtio/virtio-serial.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-net.h"
#include "block/blockdev.h"
#include "kite/iothread.h"
#include "accel/kvm.h"

#define TYPE_VIRTIO_PCI "virtio-pci"
#define VIRTIO_PCI_LEGACY_BAR   0
#define VIRTIO_PCI_MSIX_BAR     1
#define VIRTIO_PCI_MODERN_BAR   4
/* num-queues default of virtio-blk-pci: one per vCPU, decided at realize (QEMU's value). */
#define VIRTIO_BLK_AUTO_NUM_QUEUES UINT16_MAX

typedef struct VirtIOPCIProxy {
    PCIDevice parent_obj;
    VirtIODevice *vdev;
    VirtIOPCIRegs regs;
    bool disable_legacy, disable_modern, ioeventfd;
    uint32_t nvectors;          /* property vectors; UINT32_MAX: queues + 1 (at most 2048) */
    uint8_t pci_cfg_cap;        /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability, or 0 */
} VirtIOPCIProxy;

/* Subclasses say which VirtIODevice they embed and how to realize it. */
typedef struct VirtIOPCIClass {
    PCIDeviceClass parent_class;
    VirtIODevice *(*realize_vdev)(VirtIOPCIProxy *proxy, Error **errp);
    void (*unrealize_vdev)(VirtIOPCIProxy *proxy);
} VirtIOPCIClass;

static VirtIOPCIProxy *VIRTIO_PCI(const void *obj)
{
    return OBJECT_CHECK(VirtIOPCIProxy, obj, TYPE_VIRTIO_PCI);
}

static bool proxy_msix_enabled(void *opaque)
{
    return msix_enabled(PCI_DEVICE(opaque));
}

static void proxy_msix_notify(void *opaque, uint16_t vector)
{
    msix_notify(PCI_DEVICE(opaque), vector);
}

static void proxy_set_intx(void *opaque, int level)
{
    pci_set_irq(PCI_DEVICE(opaque), level);
}

static bool proxy_add_cap(PCIDevice *pd, uint8_t type, uint32_t off, uint32_t len,
                          Error **errp)
{
    unsigned size = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_LEN
                  : type == VIRTIO_PCI_CAP_PCI_CFG    ? VIRTIO_PCI_CFG_CAP_LEN
                                                      : VIRTIO_PCI_CAP_LEN;
    int pos = pci_add_capability(pd, PCI_CAP_ID_VNDR, 0, size, errp);

    if (pos < 0) {
        return false;
    }
    virtio_pci_cap_fill(pd->config + pos, type,
                        type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_MODERN_BAR, off, len);
    if (type == VIRTIO_PCI_CAP_PCI_CFG) {
        /* The driver programs bar, offset and length, and reads/writes the data (4.1.4.9.1). */
        VirtIOPCIProxy *p = VIRTIO_PCI(pd);
        p->pci_cfg_cap = pos;
        pd->wmask[pos + VIRTIO_PCI_CAP_BAR] = 0xff;
        memset(pd->wmask + pos + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
    }
    return true;
}

/*
 * An access to pci_cfg_data of the configuration access capability (4.1.4.9): the device
 * performs an access of cap.length bytes at cap.offset in BAR cap.bar.  The driver must use
 * length 1, 2 or 4 with offset a multiple of it (4.1.4.9.2) and only the BAR the
 * capability structures name; anything else is ignored (reads then return what the data
 * field holds).
 */
static void pci_cfg_window_access(VirtIOPCIProxy *p, bool write)
{
    PCIDevice *pd = &p->parent_obj;
    uint8_t *cap = pd->config + p->pci_cfg_cap;
    uint32_t off = ldl_le_p(cap + VIRTIO_PCI_CAP_OFFSET);
    uint32_t len = ldl_le_p(cap + VIRTIO_PCI_CAP_LENGTH);
    MemoryRegion *const leaf[] = { &p->regs.common, &p->regs.isr, &p->regs.device,
                                   &p->regs.notify };
    MemoryRegion *mr;
    uint64_t val;

    if (cap[VIRTIO_PCI_CAP_BAR] != VIRTIO_PCI_MODERN_BAR || (len != 1 && len != 2 && len != 4) ||
        (off & (len - 1)) || off >= VIRTIO_PCI_MODERN_BAR_SIZE) {
        return;
    }
    /* BAR 4 is a container of four 4 KiB structures (virtio-pci.h); dispatch to the leaf. */
    mr = leaf[off / VIRTIO_PCI_REGION_SIZE];
    off %= VIRTIO_PCI_REGION_SIZE;
    if (off >= memory_region_size(mr)) {
        return;
    }
    if (write) {
        val = ldl_le_p(cap + VIRTIO_PCI_CAP_CFG_DATA) & (~0u >> (32 - 8 * len));
        memory_region_dispatch_write(mr, off, val, len);
    } else if (memory_region_dispatch_read(mr, off, &val, len) == MEMTX_OK) {
        /* The first cap.length bytes of pci_cfg_data take the value (4.1.4.9.1). */
        for (unsigned i = 0; i < len; i++) {
            cap[VIRTIO_PCI_CAP_CFG_DATA + i] = val >> (8 * i);
        }
    }
}

static bool touches_cfg_data(VirtIOPCIProxy *p, uint32_t addr, int len)
{
    uint32_t data = p->pci_cfg_cap + VIRTIO_PCI_CAP_CFG_DATA;

    return p->pci_cfg_cap && addr < data + 4 && addr + len > data;
}

static uint32_t virtio_pci_config_read(PCIDevice *pd, uint32_t addr, int len)
{
    VirtIOPCIProxy *p = VIRTIO_PCI(pd);

    if (touches_cfg_data(p, addr, len)) {
        pci_cfg_window_access(p, false);
    }
    return pci_default_read_config(pd, addr, len);
}

static void virtio_pci_config_write(PCIDevice *pd, uint32_t addr, uint32_t val, int len)
{
    VirtIOPCIProxy *p = VIRTIO_PCI(pd);

    pci_default_write_config(pd, addr, val, len);
    if (touches_cfg_data(p, addr, len)) {
        pci_cfg_window_access(p, true);
    }
}

static void virtio_pci_realize(PCIDevice *pd, Error **errp)
{
    VirtIOPCIProxy *p = VIRTIO_PCI(pd);
    VirtIOPCIClass *vc = (VirtIOPCIClass *)object_get_class(OBJECT(pd));
    VirtIOPCIIds ids;

    if (p->disable_legacy && p->disable_modern) {
        error_setg(errp, "virtio-pci: disable-legacy and disable-modern cannot both be on");
        return;
    }
    p->vdev = vc->realize_vdev(p, errp);
    if (!p->vdev) {
        return;
    }
    if (!virtio_pci_get_ids(p->vdev->device_id, !p->disable_legacy, &ids)) {
        error_setg(errp, "virtio-pci: device %u has no transitional ID; use disable-legacy=on",
                   p->vdev->device_id);
        vc->unrealize_vdev(p);
        return;
    }
    pci_set_word(pd->config + PCI_VENDOR_ID, ids.vendor_id);
    pci_set_word(pd->config + PCI_DEVICE_ID, ids.device_id);
    pci_set_word(pd->config + PCI_SUBSYSTEM_VENDOR_ID, ids.subsystem_vendor_id);
    pci_set_word(pd->config + PCI_SUBSYSTEM_ID, ids.subsystem_id);
    pd->config[PCI_REVISION_ID] = ids.revision;
    pci_set_word(pd->config + PCI_CLASS_DEVICE, ids.class_id);
    pd->config[PCI_INTERRUPT_PIN] = 1;                         /* INTA# */

    if (p->nvectors == UINT32_MAX) {
        unsigned nq = 0;

        for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
            nq += virtio_queue_exists(p->vdev, i);
        }
        /* Fewer than queues + 1 is fine: Linux then shares vectors between queues. */
        p->nvectors = MIN(nq + 1, PCI_MSIX_MAX_ENTRIES);
    }
    if (p->nvectors > PCI_MSIX_MAX_ENTRIES) {
        /*
         * More than PCI 3.0's 2048 MSI-X table entries: like QEMU, warn and go on without
         * MSI-X (the device then interrupts through INTx).
         */
        warn_report("unable to init msix vectors to %" PRIu32, p->nvectors);
        p->nvectors = 0;
    }
    if (p->nvectors && !msix_init_exclusive_bar(pd, p->nvectors, VIRTIO_PCI_MSIX_BAR, errp)) {
        vc->unrealize_vdev(p);
        return;
    }
    p->regs.nvectors = p->nvectors;
    p->regs.opaque = pd;
    p->regs.msix_enabled = proxy_msix_enabled;
    p->regs.msix_notify = proxy_msix_notify;
    p->regs.set_intx = proxy_set_intx;
    /* An iothread is woken through ioeventfds, which the interpreter signals too. */
    virtio_pci_regs_init(&p->regs, OBJECT(pd), p->vdev, !p->disable_modern,
                         !p->disable_legacy,
                         (p->ioeventfd && kvm_enabled()) || p->regs.notify_ctx);
    if (!p->disable_legacy) {
        pci_register_bar(pd, VIRTIO_PCI_LEGACY_BAR, PCI_BASE_ADDRESS_SPACE_IO,
                         &p->regs.legacy_io);
    }
    if (!p->disable_modern) {
        pci_register_bar(pd, VIRTIO_PCI_MODERN_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY |
                         PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                         &p->regs.modern_bar);
        if (!proxy_add_cap(pd, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET,
                           VIRTIO_PCI_REGION_SIZE, errp) ||
            !proxy_add_cap(pd, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET,
                           VIRTIO_PCI_REGION_SIZE, errp) ||
            !proxy_add_cap(pd, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET,
                           VIRTIO_PCI_REGION_SIZE, errp) ||
            !proxy_add_cap(pd, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET,
                           VIRTIO_PCI_REGION_SIZE, errp) ||
            !proxy_add_cap(pd, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, errp)) {
            virtio_pci_regs_destroy(&p->regs);
            if (p->nvectors) {
                msix_uninit(pd);
            }
            vc->unrealize_vdev(p);
            return;
        }
    }
}

static void virtio_pci_exit(PCIDevice *pd)
{
    VirtIOPCIProxy *p = VIRTIO_PCI(pd);
    VirtIOPCIClass *vc = (VirtIOPCIClass *)object_get_class(OBJECT(pd));

    virtio_pci_regs_destroy(&p->regs);
    if (p->nvectors) {
        msix_uninit(pd);
    }
    vc->unrealize_vdev(p);
    p->pci_cfg_cap = 0;
}

static void virtio_pci_reset(DeviceState *dev)
{
    VirtIOPCIProxy *p = VIRTIO_PCI(dev);

    virtio_pci_regs_reset(&p->regs);
    if (p->pci_cfg_cap) {
        virtio_pci_cap_fill(p->parent_obj.config + p->pci_cfg_cap, VIRTIO_PCI_CAP_PCI_CFG, 0,
                            0, 0);
    }
}

static void virtio_pci_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->config_read = virtio_pci_config_read;
    pc->config_write = virtio_pci_config_write;
}

static const Property virtio_pci_props[] = {
    DEFINE_PROP_BOOL("disable-legacy", VirtIOPCIProxy, disable_legacy, false),
    DEFINE_PROP_BOOL("disable-modern", VirtIOPCIProxy, disable_modern, false),
    DEFINE_PROP_BOOL("ioeventfd", VirtIOPCIProxy, ioeventfd, true),
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors, UINT32_MAX),
    DEFINE_PROP_END_OF_LIST(),
};


/* ---- virtio-rng-pci ---- */

typedef struct VirtIORNGPCI {
    VirtIOPCIProxy parent_obj;
    VirtIORNG rng;
} VirtIORNGPCI;

static VirtIODevice *rng_pci_realize(VirtIOPCIProxy *p, Error **errp)
{
    VirtIORNGPCI *r = (VirtIORNGPCI *)p;
    Error *err = NULL;

    virtio_rng_realize(&r->rng, &err);
    if (err) {
        error_propagate(errp, err);
        return NULL;
    }
    return &r->rng.vdev;
}

static void rng_pci_unrealize(VirtIOPCIProxy *p)
{
    virtio_rng_unrealize(&((VirtIORNGPCI *)p)->rng);
}

static const Property rng_pci_props[] = {
    DEFINE_PROP_LINK("rng", VirtIORNGPCI, rng.rng, TYPE_RNG_BACKEND, RngBackend *),
    DEFINE_PROP_UINT64("max-bytes", VirtIORNGPCI, rng.max_bytes, INT64_MAX),
    DEFINE_PROP_UINT32("period", VirtIORNGPCI, rng.period_ms, 1 << 16),
    DEFINE_PROP_END_OF_LIST(),
};

/* ---- virtio-serial-pci ---- */

typedef struct VirtIOSerialPCI {
    VirtIOPCIProxy parent_obj;
    VirtIOSerial vser;
} VirtIOSerialPCI;

static VirtIODevice *serial_pci_realize(VirtIOPCIProxy *p, Error **errp)
{
    VirtIOSerialPCI *s = (VirtIOSerialPCI *)p;
    Error *err = NULL;

    virtio_serial_realize(&s->vser, DEVICE(p), &err);
    if (err) {
        error_propagate(errp, err);
        return NULL;
    }
    return &s->vser.vdev;
}

static void serial_pci_unrealize(VirtIOPCIProxy *p)
{
    virtio_serial_unrealize(&((VirtIOSerialPCI *)p)->vser);
}

static const Property serial_pci_props[] = {
    DEFINE_PROP_UINT32("max_ports", VirtIOSerialPCI, vser.max_nr_ports, 31),
    DEFINE_PROP_END_OF_LIST(),
};

/* ---- virtio-blk-pci ---- */

typedef struct VirtIOBlockPCI {
    VirtIOPCIProxy parent_obj;
    VirtIOBlock blk;
    BlockBackend *drive;        /* DEFINE_PROP_DRIVE attaches it */
    char *iothread;             /* id of an -object iothread, or NULL */
} VirtIOBlockPCI;

/*
 * iothread=: the queue notifications (ioeventfds) and the disk's completions are handled in
 * that thread instead of the vCPU thread and the main loop.  The device model itself still
 * runs under the BQL there (a vCPU does not hold it while executing guest code).
 */
static VirtIODevice *blk_pci_realize(VirtIOPCIProxy *p, Error **errp)
{
    VirtIOBlockPCI *b = (VirtIOBlockPCI *)p;
    KiteContext *ctx = NULL;
    Error *err = NULL;

    if (!b->drive) {
        error_setg(errp, "virtio-blk-pci: drive property not set");
        return NULL;
    }
    if (b->iothread) {
        IOThreadObject *t = iothread_find(b->iothread);
        if (!t) {
            error_setg(errp, "Property 'virtio-blk-pci.iothread' can't find value '%s'",
                       b->iothread);
            return NULL;
        }
        ctx = iothread_get_context(t);
    }
    if (b->blk.num_queues == VIRTIO_BLK_AUTO_NUM_QUEUES) {
        /*
         * QEMU's default: a request queue per vCPU (completions on the submitting CPU),
         * bounded so that every queue and the config change get an MSI-X vector.
         */
        MachineState *ms = current_machine();
        unsigned cpus = ms && ms->smp.cpus ? ms->smp.cpus : 1;
        b->blk.num_queues = MIN(cpus, MIN(PCI_MSIX_MAX_ENTRIES - 1, VIRTIO_QUEUE_MAX));
    }
    b->blk.io = &virtio_blk_io_backend;
    b->blk.io_opaque = b->drive;
    virtio_blk_realize(&b->blk, &err);
    if (err) {
        error_propagate(errp, err);
        return NULL;
    }
    if (ctx) {
        blk_set_aio_context(b->drive, ctx);
        p->regs.notify_ctx = ctx;
    }
    /* Its completions need only the BQL (an iothread runs them under it too). */
    blk_set_bql_completions(b->drive, true);
    return &b->blk.vdev;
}

static void blk_pci_unrealize(VirtIOPCIProxy *p)
{
    VirtIOBlockPCI *b = (VirtIOBlockPCI *)p;

    virtio_blk_unrealize(&b->blk);
    blk_set_bql_completions(b->drive, false);
    if (p->regs.notify_ctx) {
        blk_set_aio_context(b->drive, kite_main_context());
        p->regs.notify_ctx = NULL;
    }
}

static const Property blk_pci_props[] = {
    DEFINE_PROP_DRIVE("drive", VirtIOBlockPCI, drive),
    DEFINE_PROP_STRING("serial", VirtIOBlockPCI, blk.serial),
    DEFINE_PROP_UINT32("num-queues", VirtIOBlockPCI, blk.num_queues,
                       VIRTIO_BLK_AUTO_NUM_QUEUES),
    DEFINE_PROP_UINT32("queue-size", VirtIOBlockPCI, blk.queue_size, 256),
    DEFINE_PROP_UINT32("logical_block_size", VirtIOBlockPCI, blk.logical_block_size, 512),
    DEFINE_PROP_UINT32("physical_block_size", VirtIOBlockPCI, blk.physical_block_size, 512),
    DEFINE_PROP_BOOL("discard", VirtIOBlockPCI, blk.discard, true),
    DEFINE_PROP_BOOL("write-zeroes", VirtIOBlockPCI, blk.write_zeroes, true),
    DEFINE_PROP_BOOL("config-wce", VirtIOBlockPCI, blk.config_wce, true),
    DEFINE_PROP_STRING("iothread", VirtIOBlockPCI, iothread),
    DEFINE_PROP_END_OF_LIST(),
};

/* ---- types ---- */

static const TypeInfo virtio_pci_type = {
    .name = TYPE_VIRTIO_PCI,
    .parent = TYPE_PCI_DEVICE,
    .abstract = true,
    .instance_size = sizeof(VirtIOPCIProxy),
    .class_size = sizeof(VirtIOPCIClass),
    .class_init = virtio_pci_class_init,
    .realize = (void (*)(DeviceState *, Error **))virtio_pci_realize,
    .unrealize = (void (*)(DeviceState *))virtio_pci_exit,
    .reset = virtio_pci_reset,
    .props = virtio_pci_props,
};
KITE_TYPE_REGISTER(virtio_pci_type)

static const VMStateDescription vmstate_virtio_rng_pci = {
    .name = "virtio-rng-pci", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj.parent_obj, VirtIORNGPCI),
        VMSTATE_STRUCT(parent_obj.regs, VirtIORNGPCI, vmstate_virtio_pci_regs, VirtIOPCIRegs),
        VMSTATE_STRUCT(rng, VirtIORNGPCI, vmstate_virtio_rng, VirtIORNG),
        VMSTATE_END_OF_LIST()
    },
};

static void rng_pci_class_init(ObjectClass *oc, const void *data)
{
    VirtIOPCIClass *vc = (VirtIOPCIClass *)oc;

    vc->realize_vdev = rng_pci_realize;
    vc->unrealize_vdev = rng_pci_unrealize;
}

static const TypeInfo virtio_rng_pci_type = {
    .name = "virtio-rng-pci",
    .parent = TYPE_VIRTIO_PCI,
    .desc = "virtio entropy device (rng=, max-bytes=, period=)",
    .instance_size = sizeof(VirtIORNGPCI),
    .class_init = rng_pci_class_init,
    .props = rng_pci_props,
    .vmsd = &vmstate_virtio_rng_pci,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtio_rng_pci_type)

static const VMStateDescription vmstate_virtio_serial_pci = {
    .name = "virtio-serial-pci", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj.parent_obj, VirtIOSerialPCI),
        VMSTATE_STRUCT(parent_obj.regs, VirtIOSerialPCI, vmstate_virtio_pci_regs,
                       VirtIOPCIRegs),
        VMSTATE_STRUCT(vser, VirtIOSerialPCI, vmstate_virtio_serial, VirtIOSerial),
        VMSTATE_END_OF_LIST()
    },
};

static void serial_pci_class_init(ObjectClass *oc, const void *data)
{
    VirtIOPCIClass *vc = (VirtIOPCIClass *)oc;

    vc->realize_vdev = serial_pci_realize;
    vc->unrealize_vdev = serial_pci_unrealize;
}

static const TypeInfo virtio_serial_pci_type = {
    .name = "virtio-serial-pci",
    .parent = TYPE_VIRTIO_PCI,
    .desc = "virtio console/serial device with a bus for virtconsole/virtserialport",
    .instance_size = sizeof(VirtIOSerialPCI),
    .class_init = serial_pci_class_init,
    .props = serial_pci_props,
    .vmsd = &vmstate_virtio_serial_pci,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtio_serial_pci_type)

static const VMStateDescription vmstate_virtio_blk_pci = {
    .name = "virtio-blk-pci", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj.parent_obj, VirtIOBlockPCI),
        VMSTATE_STRUCT(parent_obj.regs, VirtIOBlockPCI, vmstate_virtio_pci_regs, VirtIOPCIRegs),
        VMSTATE_STRUCT(blk, VirtIOBlockPCI, vmstate_virtio_blk, VirtIOBlock),
        VMSTATE_END_OF_LIST()
    },
};

static void blk_pci_class_init(ObjectClass *oc, const void *data)
{
    VirtIOPCIClass *vc = (VirtIOPCIClass *)oc;

    vc->realize_vdev = blk_pci_realize;
    vc->unrealize_vdev = blk_pci_unrealize;
}

static const TypeInfo virtio_blk_pci_type = {
    .name = "virtio-blk-pci",
    .parent = TYPE_VIRTIO_PCI,
    .desc = "virtio block device (drive=, serial=, num-queues=, iothread=)",
    .instance_size = sizeof(VirtIOBlockPCI),
    .class_init = blk_pci_class_init,
    .props = blk_pci_props,
    .vmsd = &vmstate_virtio_blk_pci,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtio_blk_pci_type)

/* ---- virtio-net-pci (the device model is hw/net/virtio-net.c) ---- */

typedef struct VirtIONetPCI {
    VirtIOPCIProxy parent_obj;
    VirtIONet net;
    char *romfile;              /* option ROM (PXE); NULL: efi-virtio.rom if present */
    MemoryRegion rom;
    bool has_rom;
} VirtIONetPCI;

#define VIRTIO_NET_DEFAULT_ROM "efi-virtio.rom"     /* iPXE, Debian package ipxe-qemu */

/*
 * The expansion ROM (PCI 3.0, 6.3), as QEMU's virtio-net-pci has: SeaBIOS runs it for
 * network boot, and the 256 KiB ROM BAR is part of the device's layout either way.  An
 * explicit romfile= must exist; the default is used when installed; romfile= with no
 * value means none.
 */
static bool net_pci_load_rom(VirtIONetPCI *v, Error **errp)
{
    const char *name = v->romfile ? v->romfile : VIRTIO_NET_DEFAULT_ROM;
    g_autofree char *path = NULL;

    if (!*name) {
        return true;
    }
    path = loader_find_firmware(name);
    if (!path) {
        if (!v->romfile) {
            return true;
        }
        error_setg(errp, "virtio-net-pci: could not find option ROM '%s' (romfile= with "
                   "no value means none)", name);
        return false;
    }
    if (!pci_rom_init_from_file(PCI_DEVICE(v), &v->rom, "virtio-net.rom", path, errp)) {
        return false;
    }
    v->has_rom = true;
    pci_register_bar(PCI_DEVICE(v), PCI_ROM_SLOT, 0, &v->rom);
    return true;
}

static VirtIODevice *net_pci_realize(VirtIOPCIProxy *p, Error **errp)
{
    VirtIONetPCI *v = (VirtIONetPCI *)p;
    Error *err = NULL;

    if (!net_pci_load_rom(v, errp)) {
        return NULL;
    }
    virtio_net_realize(&v->net, DEVICE(p)->id, &err);
    if (err) {
        error_propagate(errp, err);
        if (v->has_rom) {
            memory_region_destroy(&v->rom);
            memset(&PCI_DEVICE(v)->io_regions[PCI_ROM_SLOT], 0, sizeof(PCIIORegion));
            v->has_rom = false;
        }
        return NULL;
    }
    return &v->net.vdev;
}

static void net_pci_unrealize(VirtIOPCIProxy *p)
{
    VirtIONetPCI *v = (VirtIONetPCI *)p;

    virtio_net_unrealize(&v->net);
    if (v->has_rom) {
        /* Unmapped by the PCI core (unrealize), or never mapped (a realize failure). */
        memory_region_destroy(&v->rom);
        memset(&PCI_DEVICE(v)->io_regions[PCI_ROM_SLOT], 0, sizeof(PCIIORegion));
        v->has_rom = false;
    }
}

/* QEMU's property names and defaults. */
static const Property net_pci_props[] = {
    DEFINE_NIC_PROPERTIES(VirtIONetPCI, net.conf),
    DEFINE_PROP_BOOL("mrg_rxbuf", VirtIONetPCI, net.prop_mrg_rxbuf, true),
    DEFINE_PROP_BOOL("status", VirtIONetPCI, net.prop_status, true),
    DEFINE_PROP_BOOL("ctrl_vq", VirtIONetPCI, net.prop_ctrl_vq, true),
    DEFINE_PROP_BOOL("ctrl_rx", VirtIONetPCI, net.prop_ctrl_rx, true),
    DEFINE_PROP_BOOL("ctrl_vlan", VirtIONetPCI, net.prop_ctrl_vlan, true),
    DEFINE_PROP_BOOL("ctrl_mac_addr", VirtIONetPCI, net.prop_ctrl_mac_addr, true),
    DEFINE_PROP_BOOL("csum", VirtIONetPCI, net.prop_csum, true),
    DEFINE_PROP_BOOL("guest_csum", VirtIONetPCI, net.prop_guest_csum, true),
    DEFINE_PROP_BOOL("gso", VirtIONetPCI, net.prop_gso, true),
    DEFINE_PROP_UINT16("rx_queue_size", VirtIONetPCI, net.rx_queue_size, 256),
    DEFINE_PROP_UINT16("tx_queue_size", VirtIONetPCI, net.tx_queue_size, 256),
    DEFINE_PROP_STRING("romfile", VirtIONetPCI, romfile),
    DEFINE_PROP_END_OF_LIST(),
};

static const VMStateDescription vmstate_virtio_net_pci = {
    .name = "virtio-net-pci", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj.parent_obj, VirtIONetPCI),
        VMSTATE_STRUCT(parent_obj.regs, VirtIONetPCI, vmstate_virtio_pci_regs, VirtIOPCIRegs),
        VMSTATE_STRUCT(net, VirtIONetPCI, vmstate_virtio_net, VirtIONet),
        VMSTATE_END_OF_LIST()
    },
};

static void net_pci_class_init(ObjectClass *oc, const void *data)
{
    VirtIOPCIClass *vc = (VirtIOPCIClass *)oc;

    vc->realize_vdev = net_pci_realize;
    vc->unrealize_vdev = net_pci_unrealize;
}

static const TypeInfo virtio_net_pci_type = {
    .name = "virtio-net-pci",
    .parent = TYPE_VIRTIO_PCI,
    .desc = "virtio network device (netdev=, mac=, mrg_rxbuf=, ctrl_vq=, ...)",
    .instance_size = sizeof(VirtIONetPCI),
    .class_init = net_pci_class_init,
    .props = net_pci_props,
    .vmsd = &vmstate_virtio_net_pci,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtio_net_pci_type)
