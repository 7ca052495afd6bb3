/*
 * PIIX3 IDE (PCI function 1 of the PIIX3, 8086:7010), the ATA disk device "ide-hd" and the
 * ATAPI CD/DVD-ROM device "ide-cd".
 *
 * The function decodes the ISA compatibility ports (primary 0x1f0-0x1f7/0x3f6 on IRQ 14,
 * secondary 0x170-0x177/0x376 on IRQ 15; programming interface 0x80: legacy mode only,
 * bus-master capable) and has the SFF-8038i bus-master registers in BAR4 (16 bytes of I/O,
 * primary at 0, secondary at 8).  Each channel is an "IDE" bus ("ide.0", "ide.1") taking
 * up to two ide-hd/ide-cd devices, unit=0 (master) and unit=1 (slave).
 *
 * Reference: Intel 82371FB/SB (PIIX/PIIX3) datasheet, 2.3 (IDE configuration) and 2.7
 * (bus master IDE registers); SFF-8038i.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/ide/piix-ide.h"
#include "hw/ide/ide-core.h"
#include "hw/pci/pci.h"
#include "block/blockdev.h"
#include "kite/log.h"
#include "kite/runstate.h"

typedef struct IDEBus {
    BusState parent_obj;
    IDEChannel *ch;
} IDEBus;

typedef struct PIIX3IDEState {
    PCIDevice parent_obj;
    IDEChannel ch[2];
    IDEBus *bus[2];
    IRQState *irq_out[2];
    MemoryRegion cmd_io[2], ctl_io[2], bm_io;
    void *vm_change_entry;
} PIIX3IDEState;

typedef struct IDEDevice {
    DeviceState parent_obj;
    BlockBackend *blk;
    uint32_t unit;
    char *serial;
    IDEState *s;                                   /* the position it occupies */
    BlockBackend *own_blk;          /* an ide-cd without drive=: its own empty drive */
} IDEDevice;

static const uint16_t cmd_base[2] = { 0x1f0, 0x170 };
static const uint16_t ctl_base[2] = { 0x3f6, 0x376 };

static PIIX3IDEState *PIIX3_IDE(const void *obj)
{
    return OBJECT_CHECK(PIIX3IDEState, obj, TYPE_PIIX3_IDE);
}

static IDEDevice *IDE_DEVICE(const void *obj)
{
    return OBJECT_CHECK(IDEDevice, obj, TYPE_IDE_DEVICE);
}

/* ---- port I/O -------------------------------------------------------------------- */

static uint64_t cmd_read(void *opaque, hwaddr addr, unsigned size)
{
    return ide_ioport_read(opaque, addr, addr == 0 ? size : 1);
}

static void cmd_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ide_ioport_write(opaque, addr, val, addr == 0 ? size : 1);
}

static const MemoryRegionOps cmd_ops = {
    .read = cmd_read, .write = cmd_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t ctl_read(void *opaque, hwaddr addr, unsigned size)
{
    return ide_altstatus_read(opaque);
}

static void ctl_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ide_devctl_write(opaque, val);
}

static const MemoryRegionOps ctl_ops = {
    .read = ctl_read, .write = ctl_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t bm_read(void *opaque, hwaddr addr, unsigned size)
{
    PIIX3IDEState *d = opaque;

    return ide_bm_read(&d->ch[(addr >> 3) & 1], addr & 7, size);
}

static void bm_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PIIX3IDEState *d = opaque;

    ide_bm_write(&d->ch[(addr >> 3) & 1], addr & 7, val, size);
}

static const MemoryRegionOps bm_ops = {
    .read = bm_read, .write = bm_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static bool piix_dma_rw(void *opaque, uint64_t addr, void *buf, uint32_t len, bool to_mem)
{
    PCIDevice *dev = opaque;

    return (to_mem ? pci_dma_write(dev, addr, buf, len)
                   : pci_dma_read(dev, addr, buf, len)) == MEMTX_OK;
}

/* ---- the PCI function ------------------------------------------------------------ */

static void piix3_ide_vm_change(void *opaque, bool running, RunState state)
{
    PIIX3IDEState *d = opaque;

    if (running) {
        /* cont after werror/rerror=stop: the parked requests go again. */
        ide_channel_resume(&d->ch[0]);
        ide_channel_resume(&d->ch[1]);
    }
}

static void piix3_ide_realize(PCIDevice *dev, Error **errp)
{
    PIIX3IDEState *d = PIIX3_IDE(dev);

    /* IDETIM (40h-43h) and SIDETIM (44h) are the firmware's to program (datasheet 2.3.3). */
    for (int r = 0x40; r <= 0x44; r++) {
        dev->wmask[r] = 0xff;
    }
    dev->config[PCI_INTERRUPT_PIN] = 0;            /* legacy IRQ 14/15, no INTx */
    /* PCISTS power-on value 0280h: fast back-to-back capable, medium DEVSEL (PIIX3
     * datasheet 2.3.4); read-only, so reset keeps it. */
    pci_set_word(dev->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    qdev_init_gpio_out(DEVICE(dev), d->irq_out, 2);
    for (int i = 0; i < 2; i++) {
        char name[8];
        IDEChannel *ch = &d->ch[i];
        ch->dma_opaque = dev;
        ch->dma_rw = piix_dma_rw;
        ch->irq = NULL;                            /* wired in reset (after the board connects) */
        memory_region_init_io(&d->cmd_io[i], OBJECT(d), &cmd_ops, ch, "ide-cmd", 8);
        memory_region_init_io(&d->ctl_io[i], OBJECT(d), &ctl_ops, ch, "ide-ctl", 1);
        memory_region_add_subregion(get_system_io(), cmd_base[i], &d->cmd_io[i]);
        memory_region_add_subregion(get_system_io(), ctl_base[i], &d->ctl_io[i]);
        snprintf(name, sizeof(name), "ide.%d", i);
        d->bus[i] = (IDEBus *)qbus_new(TYPE_IDE_BUS, DEVICE(dev), name);
        d->bus[i]->ch = ch;
    }
    memory_region_init_io(&d->bm_io, OBJECT(d), &bm_ops, d, "piix-bmdma", 16);
    pci_register_bar(dev, 4, PCI_BASE_ADDRESS_SPACE_IO, &d->bm_io);
    d->vm_change_entry = vm_state_change_add(piix3_ide_vm_change, d);
}

static void piix3_ide_exit(PCIDevice *dev)
{
    PIIX3IDEState *d = PIIX3_IDE(dev);

    if (d->vm_change_entry) {
        vm_state_change_del(d->vm_change_entry);
        d->vm_change_entry = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (d->bus[i]) {
            qbus_unrealize(BUS(d->bus[i]));
            d->bus[i] = NULL;
        }
        memory_region_del_subregion(get_system_io(), &d->cmd_io[i]);
        memory_region_del_subregion(get_system_io(), &d->ctl_io[i]);
        memory_region_destroy(&d->cmd_io[i]);
        memory_region_destroy(&d->ctl_io[i]);
    }
    memory_region_destroy(&d->bm_io);
}

static void piix3_ide_reset(PCIDevice *dev)
{
    PIIX3IDEState *d = PIIX3_IDE(dev);

    memset(dev->config + 0x40, 0, 5);
    for (int i = 0; i < 2; i++) {
        d->ch[i].irq = d->irq_out[i];
        /* BM status bits 5/6: the device at that position can do DMA. */
        d->ch[i].bm_status = (d->ch[i].ifs[0].kind ? 0x20 : 0) | (d->ch[i].ifs[1].kind ? 0x40 : 0);
        ide_channel_reset(&d->ch[i]);
    }
}

static const VMStateDescription vmstate_piix3_ide = {
    .name = "piix3-ide", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PIIX3IDEState),
        VMSTATE_STRUCT_ARRAY(ch, PIIX3IDEState, 2, vmstate_ide_channel, IDEChannel),
        VMSTATE_END_OF_LIST()
    },
};

static void piix3_ide_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = 0x7010;
    pc->revision = 0;
    pc->class_id = 0x0101;                         /* mass storage, IDE */
    pc->prog_if = 0x80;                            /* bus master, compatibility mode */
}

static const TypeInfo piix3_ide_type = {
    .name = TYPE_PIIX3_IDE,
    .parent = TYPE_PCI_DEVICE,
    .desc = "PIIX3 IDE controller (two channels, bus-master DMA)",
    .instance_size = sizeof(PIIX3IDEState),
    .class_init = piix3_ide_class_init,
    .realize = (void (*)(DeviceState *, Error **))piix3_ide_realize,
    .unrealize = (void (*)(DeviceState *))piix3_ide_exit,
    .reset = (void (*)(DeviceState *))piix3_ide_reset,
    .vmsd = &vmstate_piix3_ide,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(piix3_ide_type)

static const TypeInfo ide_bus_type = {
    .name = TYPE_IDE_BUS,
    .parent = TYPE_BUS,
    .instance_size = sizeof(IDEBus),
};
KITE_TYPE_REGISTER(ide_bus_type)

void piix3_ide_connect_irqs(DeviceState *dev, IRQState *primary, IRQState *secondary)
{
    PIIX3IDEState *d = PIIX3_IDE(dev);

    qdev_connect_gpio_out(dev, 0, primary);
    qdev_connect_gpio_out(dev, 1, secondary);
    d->ch[0].irq = primary;
    d->ch[1].irq = secondary;
}

/* ---- ide-hd, ide-cd -------------------------------------------------------------- */

/* The monitor's eject / blockdev-change-medium reach the drive through these. */
static void ide_cd_change_media(void *opaque, bool load)
{
    ide_cd_medium_changed(opaque, load);
}

static void ide_cd_eject_request_cb(void *opaque, bool force)
{
    ide_cd_eject_request(opaque, force);
}

static bool ide_cd_tray_open(void *opaque)
{
    return ((IDEState *)opaque)->tray_open;
}

static bool ide_cd_locked(void *opaque)
{
    return ((IDEState *)opaque)->tray_locked;
}

static const BlockDevOps ide_cd_block_ops = {
    .change_media_cb = ide_cd_change_media,
    .is_tray_open = ide_cd_tray_open,
    .is_medium_locked = ide_cd_locked,
    .eject_request_cb = ide_cd_eject_request_cb,
};

static void ide_dev_realize(DeviceState *dev, Error **errp)
{
    IDEDevice *idev = IDE_DEVICE(dev);
    IDEBus *bus = (IDEBus *)dev->parent_bus;
    IDEChannel *ch = bus ? bus->ch : NULL;
    uint32_t unit = idev->unit;
    bool cd = object_dynamic_cast(OBJECT(dev), TYPE_IDE_CD) != NULL;
    const char *type = cd ? TYPE_IDE_CD : TYPE_IDE_HD;

    if (!ch) {
        error_setg(errp, "%s: needs an IDE bus", type);
        return;
    }
    if (!idev->blk && !cd) {
        /* A CD drive may be empty; a disk may not. */
        error_setg(errp, "%s: drive property not set", type);
        return;
    }
    if (idev->blk && !cd && !blk_bs(idev->blk)) {
        error_setg(errp, "%s: drive '%s' has no medium", type, blk_name(idev->blk));
        return;
    }
    if (unit == UINT32_MAX) {
        unit = ch->ifs[0].kind ? 1 : 0;
    }
    if (unit > 1 || ch->ifs[unit].kind) {
        error_setg(errp, "%s: unit %u is taken or invalid (0 or 1)", type, unit);
        return;
    }
    if (cd && !idev->blk) {
        /* As QEMU: an empty anonymous drive, so QMP can put a medium in (by the qdev id). */
        idev->own_blk = blk_new_open(NULL, NULL, NULL, NULL, 0, errp);
        if (!idev->own_blk) {
            return;
        }
        blk_attach_dev(idev->own_blk, dev);
        idev->blk = idev->own_blk;
    }
    idev->unit = unit;
    idev->s = &ch->ifs[unit];
    ide_attach(idev->s, cd ? IDE_CD : IDE_HD, idev->blk, idev->serial);
    if (cd) {
        blk_set_dev_ops(idev->blk, &ide_cd_block_ops, idev->s);
    }
    ch->bm_status |= 0x20 << unit;
}

static void ide_dev_unrealize(DeviceState *dev)
{
    IDEDevice *idev = IDE_DEVICE(dev);

    if (idev->s) {
        if (idev->blk) {
            blk_set_dev_ops(idev->blk, NULL, NULL);
        }
        ide_attach(idev->s, IDE_NONE, NULL, NULL);
        idev->s = NULL;
    }
    if (idev->own_blk) {
        blk_detach_dev(idev->own_blk, dev);
        blk_unref(idev->own_blk);
        idev->blk = idev->own_blk = NULL;
    }
}

static const Property ide_dev_props[] = {
    DEFINE_PROP_DRIVE("drive", IDEDevice, blk),
    DEFINE_PROP_UINT32("unit", IDEDevice, unit, UINT32_MAX),
    DEFINE_PROP_STRING("serial", IDEDevice, serial),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo ide_device_type = {
    .name = TYPE_IDE_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(IDEDevice),
    .abstract = true,
    .realize = ide_dev_realize,
    .unrealize = ide_dev_unrealize,
    .props = ide_dev_props,
    .bus_type = TYPE_IDE_BUS,
};
KITE_TYPE_REGISTER(ide_device_type)

static const TypeInfo ide_hd_type = {
    .name = TYPE_IDE_HD,
    .parent = TYPE_IDE_DEVICE,
    .desc = "ATA hard disk on an IDE bus (drive=, unit=0|1, serial=)",
    .instance_size = sizeof(IDEDevice),
    .user_creatable = true,
};
KITE_TYPE_REGISTER(ide_hd_type)

static const TypeInfo ide_cd_type = {
    .name = TYPE_IDE_CD,
    .parent = TYPE_IDE_DEVICE,
    .desc = "ATAPI CD/DVD-ROM on an IDE bus (drive= optional, unit=0|1, serial=)",
    .instance_size = sizeof(IDEDevice),
    .user_creatable = true,
};
KITE_TYPE_REGISTER(ide_cd_type)

/* ---- board helper ---------------------------------------------------------------- */

DeviceState *piix3_ide_create(PCIBus *bus, IRQState **isa_irqs)
{
    DeviceState *dev = qdev_new(TYPE_PIIX3_IDE);
    PIIX3IDEState *d;

    object_property_set_str(OBJECT(dev), "addr", "01.1", &error_fatal);
    qdev_realize_and_unref(dev, BUS(bus), &error_fatal);
    piix3_ide_connect_irqs(dev, isa_irqs[14], isa_irqs[15]);
    d = PIIX3_IDE(dev);
    for (int b = 0; b < 2; b++) {
        for (int u = 0; u < 2; u++) {
            DriveInfo *di = drive_get(IF_IDE, b, u);
            DeviceState *hd;
            char unit[4];
            if (!di) {
                continue;
            }
            hd = qdev_new(di->is_cdrom ? TYPE_IDE_CD : TYPE_IDE_HD);
            object_property_set_str(OBJECT(hd), "drive", di->id, &error_fatal);
            snprintf(unit, sizeof(unit), "%d", u);
            object_property_set_str(OBJECT(hd), "unit", unit, &error_fatal);
            qdev_realize_and_unref(hd, BUS(d->bus[b]), &error_fatal);
        }
    }
    return dev;
}
