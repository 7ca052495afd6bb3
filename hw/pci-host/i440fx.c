/*
 * The i440FX host bridge: PCI configuration mechanism #1 at 0xcf8/0xcfc, the root bus
 * "pci.0", and the bridge's own PCI function 00:00.0 (Intel 82441FX PMC datasheet).
 *
 * Configuration mechanism #1 (PCI 3.0, 3.2.2.3.2): a dword write to 0xcf8 selects
 * enable (bit 31), bus, device, function and register; 0xcfc-0xcff then access that
 * register at byte, word or dword width.  Other widths at 0xcf8 are not the address
 * register (the byte port 0xcf9 is PIIX3's reset control, a separate device).
 *
 * PAM (Programmable Attribute Map, 0x59-0x5f; 82441FX datasheet 3.2.16) steers the 13
 * segments of 0xc0000-0xfffff between DRAM and the PCI side, once the board hands the
 * bridge its RAM with i440fx_init_pam(): SeaBIOS copies itself into shadow RAM at
 * 0xe0000-0xfffff and keeps its variables there, and places option ROMs at 0xc0000.
 * The SMRAM register (0x72) is kept for read-back only (no SMM).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci-host/i440fx.h"
#include "hw/sysbus.h"
#include "kite/vmstate.h"

#define I440FX_PAM      0x59
#define I440FX_PAM_SIZE 7
#define I440FX_SMRAM    0x72

I440FXHost *I440FX_HOST(const void *obj)
{
    return OBJECT_CHECK(I440FXHost, obj, TYPE_I440FX_PCI_HOST);
}

static uint64_t conf_addr_read(void *opaque, hwaddr addr, unsigned size)
{
    return I440FX_HOST(opaque)->config_addr;
}

static void conf_addr_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    /* Bits 1:0 read back as zero; reserved bits 30:24 are kept, as hardware does. */
    I440FX_HOST(opaque)->config_addr = val & ~3u;
}

static const MemoryRegionOps conf_addr_ops = {
    .read = conf_addr_read, .write = conf_addr_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t conf_data_read(void *opaque, hwaddr addr, unsigned size)
{
    I440FXHost *s = I440FX_HOST(opaque);

    if (!(s->config_addr & 0x80000000u)) {
        return ~0ull >> (64 - 8 * size);
    }
    return pci_data_read(s->bus, (s->config_addr & 0x00fffffc) | addr, size);
}

static void conf_data_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    I440FXHost *s = I440FX_HOST(opaque);

    if (s->config_addr & 0x80000000u) {
        pci_data_write(s->bus, (s->config_addr & 0x00fffffc) | addr, val, size);
    }
}

static const MemoryRegionOps conf_data_ops = {
    .read = conf_data_read, .write = conf_data_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

static void i440fx_host_realize(DeviceState *dev, Error **errp)
{
    I440FXHost *s = I440FX_HOST(dev);

    s->bus = pci_root_bus_new(dev, "pci.0", get_system_memory(), get_system_io());
    memory_region_init_io(&s->conf_addr, OBJECT(dev), &conf_addr_ops, s, "pci-conf-idx", 4);
    memory_region_init_io(&s->conf_data, OBJECT(dev), &conf_data_ops, s, "pci-conf-data", 4);
    /* Below the reset control register that shares 0xcf9. */
    memory_region_add_subregion_overlap(get_system_io(), 0xcf8, &s->conf_addr, -1);
    memory_region_add_subregion(get_system_io(), 0xcfc, &s->conf_data);
}

static void i440fx_host_unrealize(DeviceState *dev)
{
    I440FXHost *s = I440FX_HOST(dev);

    memory_region_del_subregion(get_system_io(), &s->conf_addr);
    memory_region_del_subregion(get_system_io(), &s->conf_data);
    memory_region_destroy(&s->conf_addr);
    memory_region_destroy(&s->conf_data);
}

static void i440fx_host_reset(DeviceState *dev)
{
    I440FX_HOST(dev)->config_addr = 0;
}

static const VMStateDescription vmstate_i440fx_host = {
    .name = "i440FX-pcihost",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(config_addr, I440FXHost),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo i440fx_host_type = {
    .name = TYPE_I440FX_PCI_HOST,
    .parent = TYPE_SYS_BUS_DEVICE,
    .desc = "i440FX PCI host bridge (configuration mechanism #1)",
    .instance_size = sizeof(I440FXHost),
    .realize = i440fx_host_realize,
    .unrealize = i440fx_host_unrealize,
    .reset = i440fx_host_reset,
    .vmsd = &vmstate_i440fx_host,
};
KITE_TYPE_REGISTER(i440fx_host_type)

/* ---- 00:00.0, the bridge as a PCI function ---- */

I440FXState *I440FX(const void *obj)
{
    return OBJECT_CHECK(I440FXState, obj, TYPE_I440FX_PCI_DEVICE);
}

/*
 * PAM segment n: 0 is 0xf0000-0xfffff (PAM0 bits 5:4), then 16 KiB segments from 0xc0000
 * upwards, two per register: PAM1 bits 1:0 = 0xc0000, bits 5:4 = 0xc4000, PAM2 = 0xc8000...
 */
static void pam_segment_range(int n, hwaddr *start, hwaddr *size)
{
    if (n == 0) {
        *start = 0xf0000;
        *size = 0x10000;
    } else {
        *start = 0xc0000 + (n - 1) * 0x4000;
        *size = 0x4000;
    }
}

static unsigned pam_segment_mode(PCIDevice *dev, int n)
{
    uint8_t reg = dev->config[I440FX_PAM + (n + 1) / 2];

    return (n == 0 || !(n & 1) ? reg >> 4 : reg) & 3;
}

/* What the PCI side answers at addr: the BIOS ROM where the board decodes it, else none. */
static uint64_t pam_pci_read(I440FXState *s, hwaddr addr, unsigned size)
{
    if (s->bios_low && addr >= s->bios_low_start && addr + size <= 0x100000) {
        return ldn_le_p(s->bios_low + (addr - s->bios_low_start), size);
    }
    return ~0ull >> (64 - 8 * size);
}

/* Write enable without read enable: writes reach DRAM, reads come from the PCI side. */
static uint64_t pam_wo_read(void *opaque, hwaddr addr, unsigned size)
{
    PAMSegment *seg = opaque;

    return pam_pci_read(seg->bridge, seg->start + addr, size);
}

static void pam_wo_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PAMSegment *seg = opaque;
    uint8_t *ram = memory_region_get_ram_ptr(seg->bridge->ram);

    stn_le_p(ram + seg->start + addr, size, val);
}

/* The PCI side below the BIOS ROM: no device claims it (reads all-ones, writes dropped). */
static uint64_t pam_hole_read(void *opaque, hwaddr addr, unsigned size)
{
    return ~0ull >> (64 - 8 * size);
}

static void pam_hole_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps pam_hole_ops = {
    .read = pam_hole_read, .write = pam_hole_write,
    .valid = { 1, 8, true }, .impl = { 1, 8 },
};

static const MemoryRegionOps pam_wo_ops = {
    .read = pam_wo_read, .write = pam_wo_write,
    .valid = { 1, 8, true }, .impl = { 1, 1 },
};

/*
 * Show each segment as its PAM field says: 11 DRAM, 01 DRAM read-only (writes go to PCI,
 * where nothing takes them), 10 the write-only window, 00 no overlay: the board's map
 * underneath (the BIOS ROM alias at the top, a PCI hole below it).
 */
static void pam_update(I440FXState *s)
{
    PCIDevice *dev = &s->parent_obj;

    if (!s->ram) {
        return;
    }
    memory_region_transaction_begin();
    for (int n = 0; n < I440FX_PAM_SEGMENTS; n++) {
        PAMSegment *seg = &s->pam[n];
        unsigned mode = pam_segment_mode(dev, n);

        memory_region_set_enabled(&seg->ro, mode == 1);
        memory_region_set_enabled(&seg->wo, mode == 2);
        memory_region_set_enabled(&seg->rw, mode == 3);
    }
    memory_region_transaction_commit();
}

void i440fx_init_pam(PCIDevice *dev, MemoryRegion *system_memory, MemoryRegion *ram,
                     const uint8_t *bios_low, hwaddr bios_low_start)
{
    I440FXState *s = I440FX(dev);

    g_assert(!s->ram && memory_region_size(ram) >= 0x100000);
    s->ram = ram;
    s->system_memory = system_memory;
    s->bios_low = bios_low;
    s->bios_low_start = bios_low ? bios_low_start : 0x100000;
    /* Without PAM decoding to DRAM, 0xc0000 up to the BIOS ROM is the PCI side: a hole. */
    memory_region_init_io(&s->pci_hole, OBJECT(dev), &pam_hole_ops, s, "pam-pci-hole",
                          s->bios_low_start - 0xc0000);
    memory_region_add_subregion_overlap(system_memory, 0xc0000, &s->pci_hole, 1);
    for (int n = 0; n < I440FX_PAM_SEGMENTS; n++) {
        PAMSegment *seg = &s->pam[n];
        hwaddr start, size;

        pam_segment_range(n, &start, &size);
        seg->bridge = s;
        seg->start = start;
        memory_region_init_alias(&seg->ro, OBJECT(dev), "pam-ram-ro", ram, start, size);
        memory_region_set_readonly(&seg->ro, true);
        memory_region_init_io(&seg->wo, OBJECT(dev), &pam_wo_ops, seg, "pam-ram-wo", size);
        memory_region_init_alias(&seg->rw, OBJECT(dev), "pam-ram", ram, start, size);
        memory_region_set_enabled(&seg->ro, false);
        memory_region_set_enabled(&seg->wo, false);
        memory_region_set_enabled(&seg->rw, false);
        memory_region_add_subregion_overlap(system_memory, start, &seg->ro, 2);
        memory_region_add_subregion_overlap(system_memory, start, &seg->wo, 2);
        memory_region_add_subregion_overlap(system_memory, start, &seg->rw, 2);
    }
    pam_update(s);
}

static void i440fx_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(dev, addr, val, len);
    if (addr < I440FX_PAM + I440FX_PAM_SIZE && addr + len > I440FX_PAM) {
        pam_update(I440FX(dev));
    }
}

static void i440fx_unrealize(PCIDevice *dev)
{
    I440FXState *s = I440FX(dev);

    if (!s->ram) {
        return;
    }
    for (int n = 0; n < I440FX_PAM_SEGMENTS; n++) {
        PAMSegment *seg = &s->pam[n];

        memory_region_del_subregion(s->system_memory, &seg->ro);
        memory_region_del_subregion(s->system_memory, &seg->wo);
        memory_region_del_subregion(s->system_memory, &seg->rw);
        memory_region_destroy(&seg->ro);
        memory_region_destroy(&seg->wo);
        memory_region_destroy(&seg->rw);
    }
    memory_region_del_subregion(s->system_memory, &s->pci_hole);
    memory_region_destroy(&s->pci_hole);
    s->ram = NULL;
}

static int i440fx_post_load(void *opaque, int version_id)
{
    pam_update(I440FX(opaque));
    return 0;
}

static const VMStateDescription vmstate_i440fx = {
    .name = "I440FX", .version_id = 1, .minimum_version_id = 1,
    .post_load = i440fx_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, I440FXState),
        VMSTATE_END_OF_LIST()
    },
};

static void i440fx_realize(PCIDevice *dev, Error **errp)
{
    /* PAM0 (0x59) has only the BIOS-area bits 5:4; PAM1-6 two nibbles each. */
    dev->wmask[I440FX_PAM] = 0x30;
    memset(dev->wmask + I440FX_PAM + 1, 0x33, I440FX_PAM_SIZE - 1);
    dev->wmask[I440FX_SMRAM] = 0x78;
}

static void i440fx_reset(PCIDevice *dev)
{
    memset(dev->config + I440FX_PAM, 0, I440FX_PAM_SIZE);
    dev->config[I440FX_SMRAM] = 0x02;                 /* 82441FX power-on value */
    pam_update(I440FX(dev));
}

static void i440fx_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = 0x1237;
    pc->revision = 0x02;
    pc->class_id = PCI_CLASS_BRIDGE_HOST;
    /*
     * QEMU's default subsystem IDs (Red Hat, "QEMU virtual machine"): SeaBIOS checks them
     * on 00:00.0 to know it runs on QEMU's board and may trust fw_cfg (paravirt.c).
     */
    pc->subsystem_vendor_id = 0x1af4;
    pc->subsystem_id = 0x1100;
    pc->config_write = i440fx_write_config;
}

static const TypeInfo i440fx_type = {
    .name = TYPE_I440FX_PCI_DEVICE,
    .parent = TYPE_PCI_DEVICE,
    .desc = "i440FX host bridge function (00:00.0)",
    .instance_size = sizeof(I440FXState),
    .class_init = i440fx_class_init,
    .realize = (void (*)(DeviceState *, Error **))i440fx_realize,
    .unrealize = (void (*)(DeviceState *))i440fx_unrealize,
    .reset = (void (*)(DeviceState *))i440fx_reset,
    .vmsd = &vmstate_i440fx,
};
KITE_TYPE_REGISTER(i440fx_type)
