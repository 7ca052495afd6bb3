/*
 * The i440FX host bridge: PCI configuration mechanism #1 at 0xcf8/0xcfc, the root bus
 * "pci.0", and the bridge's own PCI function 00:00.0 (Intel 82441FX PMC datasheet).
 *
 * Configuration mechanism #1 (PCI 3.0, 3.2.2.3.2): a dword write to 0xcf8 selects
 * enable (bit 31), bus, device, function and register; 0xcfc-0xcff then access that
 * register at byte, word or dword width.  Other widths at 0xcf8 are not the address
 * register (the byte port 0xcf9 is PIIX3's reset control, a separate device).
 *
 * The PAM (0x59-0x5f) and SMRAM (0x72) registers are kept for read-back; their effect
 * on the 0xc0000-0xfffff window is not emulated yet (direct kernel boot has RAM there).
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
}

static void i440fx_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = 0x1237;
    pc->revision = 0x02;
    pc->class_id = PCI_CLASS_BRIDGE_HOST;
}

static const TypeInfo i440fx_type = {
    .name = TYPE_I440FX_PCI_DEVICE,
    .parent = TYPE_PCI_DEVICE,
    .desc = "i440FX host bridge function (00:00.0)",
    .class_init = i440fx_class_init,
    .realize = (void (*)(DeviceState *, Error **))i440fx_realize,
    .reset = (void (*)(DeviceState *))i440fx_reset,
};
KITE_TYPE_REGISTER(i440fx_type)
