/*
 * Conventional PCI: bus, device base type, configuration space, BAR mapping and INTx
 * (PCI Local Bus Specification 3.0, chapter 6).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/pci.h"
#include "hw/pci/msix.h"
#include "hw/loader.h"
#include "kite/log.h"
#include "kite/property.h"
#include "kite/vmstate.h"

static PCIBus *root_bus;

PCIBus *PCI_BUS(const void *obj)
{
    return OBJECT_CHECK(PCIBus, obj, TYPE_PCI_BUS);
}

PCIDevice *PCI_DEVICE(const void *obj)
{
    return OBJECT_CHECK(PCIDevice, obj, TYPE_PCI_DEVICE);
}

PCIDeviceClass *PCI_DEVICE_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(PCIDeviceClass, obj, TYPE_PCI_DEVICE);
}

static PCIBus *bus_of(PCIDevice *dev)
{
    return PCI_BUS(DEVICE(dev)->parent_bus);
}

static void pci_bus_finalize(Object *obj)
{
    PCIBus *bus = PCI_BUS(obj);

    if (root_bus == bus) {
        root_bus = NULL;
    }
    g_free(bus->irq_count);
}

static const TypeInfo pci_bus_type = {
    .name = TYPE_PCI_BUS,
    .parent = TYPE_BUS,
    .instance_size = sizeof(PCIBus),
    .instance_finalize = pci_bus_finalize,
};
KITE_TYPE_REGISTER(pci_bus_type)

PCIBus *pci_root_bus_new(DeviceState *parent, const char *name, MemoryRegion *mem,
                         MemoryRegion *io)
{
    PCIBus *bus = PCI_BUS(qbus_new(TYPE_PCI_BUS, parent, name));

    bus->address_space_mem = mem;
    bus->address_space_io = io;
    if (!root_bus) {
        root_bus = bus;
    }
    return bus;
}

PCIBus *pci_get_root_bus(void)
{
    return root_bus;
}

void pci_bus_irqs(PCIBus *bus, PCISetIrqFn *set_irq, PCIMapIrqFn *map_irq, void *opaque,
                  int nirq)
{
    bus->set_irq = set_irq;
    bus->map_irq = map_irq;
    bus->irq_opaque = opaque;
    bus->nirq = nirq;
    g_free(bus->irq_count);
    bus->irq_count = g_new0(int, nirq);
}

PCIDevice *pci_find_device(PCIBus *bus, int devfn)
{
    return devfn >= 0 && devfn < 256 ? bus->devices[devfn] : NULL;
}

void pci_for_each_device(PCIBus *bus, void (*fn)(PCIBus *bus, PCIDevice *dev, void *opaque),
                         void *opaque)
{
    for (int devfn = 0; devfn < 256; devfn++) {
        if (bus->devices[devfn]) {
            fn(bus, bus->devices[devfn], opaque);
        }
    }
}

/* ---- INTx ------------------------------------------------------------------------ */

static void bus_change_irq(PCIBus *bus, PCIDevice *dev, int delta)
{
    int pin = dev->config[PCI_INTERRUPT_PIN] - 1;
    int pirq;

    if (pin < 0 || pin >= PCI_NUM_PINS || !bus->map_irq || !bus->set_irq) {
        return;
    }
    pirq = bus->map_irq(dev, pin);
    if (pirq < 0 || pirq >= bus->nirq) {
        return;
    }
    bus->irq_count[pirq] += delta;
    bus->set_irq(bus->irq_opaque, pirq, bus->irq_count[pirq] != 0);
}

/* What the device drives onto its pin: its level unless INTx Disable (PCI 3.0, 6.2.2). */
static int intx_output(PCIDevice *dev)
{
    return dev->irq_level &&
           !(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

static void update_irq(PCIDevice *dev, int old_output)
{
    int out = intx_output(dev);

    if (out != old_output) {
        bus_change_irq(bus_of(dev), dev, out ? 1 : -1);
    }
}

void pci_set_irq(PCIDevice *dev, int level)
{
    int old = intx_output(dev);
    uint16_t status = pci_get_word(dev->config + PCI_STATUS);

    level = level != 0;
    dev->irq_level = level;
    /* Interrupt Status reflects the device's request even when INTx is disabled. */
    pci_set_word(dev->config + PCI_STATUS,
                 level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
    update_irq(dev, old);
}

/* ---- BARs ------------------------------------------------------------------------- */

static int bar_offset(int n)
{
    return n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * n;
}

void pci_register_bar(PCIDevice *dev, int n, uint8_t type, MemoryRegion *mr)
{
    PCIIORegion *r = &dev->io_regions[n];
    uint64_t size = memory_region_size(mr);
    uint64_t wmask;
    int off = bar_offset(n);

    g_assert(n >= 0 && n < PCI_NUM_REGIONS && !r->size);
    /* Sizes are powers of two, at least 16 bytes of memory or 4 of I/O (PCI 3.0, 6.2.5.1). */
    size = MAX(size, (type & PCI_BASE_ADDRESS_SPACE_IO) ? 4 : 16);
    size = 1ULL << (64 - __builtin_clzll(size - 1));
    r->size = size;
    r->type = type;
    r->mr = mr;
    r->addr = PCI_BAR_UNMAPPED;
    wmask = ~(size - 1);
    if (n == PCI_ROM_SLOT) {
        pci_set_long(dev->wmask + off, (uint32_t)wmask | 1);   /* enable bit */
        pci_set_long(dev->config + off, 0);
        return;
    }
    pci_set_long(dev->config + off, type);
    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        pci_set_long(dev->wmask + off, (uint32_t)wmask & 0xfffffffc);
    } else {
        pci_set_long(dev->wmask + off, (uint32_t)wmask & 0xfffffff0);
        if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            g_assert(n < 5);
            pci_set_long(dev->wmask + off + 4, wmask >> 32);
        }
    }
}

uint64_t pci_get_bar_addr(PCIDevice *dev, int n)
{
    return dev->io_regions[n].addr;
}

/* The address BAR n decodes now, or PCI_BAR_UNMAPPED (disabled, or being sized). */
static uint64_t bar_address(PCIDevice *dev, int n)
{
    PCIIORegion *r = &dev->io_regions[n];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    int off = bar_offset(n);
    uint64_t addr, last;

    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = pci_get_long(dev->config + off) & ~(r->size - 1) & 0xfffffffc;
        last = addr + r->size - 1;
        /* I/O space is 64 KiB; an address of 0 or a wrap means "not programmed". */
        return addr == 0 || last > 0xffff ? PCI_BAR_UNMAPPED : addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    if (n == PCI_ROM_SLOT) {
        uint32_t v = pci_get_long(dev->config + off);
        if (!(v & 1)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = v & ~(r->size - 1) & 0xfffff800;
    } else if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        addr = ((uint64_t)pci_get_long(dev->config + off + 4) << 32 |
                pci_get_long(dev->config + off)) & ~(r->size - 1) & ~0xfULL;
    } else {
        addr = pci_get_long(dev->config + off) & ~(r->size - 1) & 0xfffffff0;
    }
    last = addr + r->size - 1;
    /*
     * While an OS sizes a BAR it holds all-ones, which decodes to the top of the space:
     * treat a range ending at 4 GiB - 1 (32-bit BARs) or wrapping as not mapped, as
     * firmware and QEMU do.
     */
    if (addr == 0 || last < addr ||
        (!(r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) && last >= 0xffffffffULL)) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void update_mappings(PCIDevice *dev)
{
    PCIBus *bus = bus_of(dev);

    memory_region_transaction_begin();
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &dev->io_regions[n];
        uint64_t addr;
        MemoryRegion *space;

        if (!r->size) {
            continue;
        }
        addr = bar_address(dev, n);
        if (addr == r->addr) {
            continue;
        }
        space = (r->type & PCI_BASE_ADDRESS_SPACE_IO) ? bus->address_space_io
                                                      : bus->address_space_mem;
        if (r->addr != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(space, r->mr);
        }
        r->addr = addr;
        if (addr != PCI_BAR_UNMAPPED) {
            /* Below RAM and the chipset's own regions: a BAR over them is hidden. */
            memory_region_add_subregion_overlap(space, addr, r->mr, -1);
        }
    }
    memory_region_transaction_commit();
}

/* ---- configuration space ----------------------------------------------------------- */

uint32_t pci_default_read_config(PCIDevice *dev, uint32_t addr, int len)
{
    uint32_t v = 0;

    for (int i = 0; i < len && addr + i < PCI_CONFIG_SPACE_SIZE; i++) {
        v |= (uint32_t)dev->config[addr + i] << (8 * i);
    }
    return v;
}

void pci_default_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    int old_irq = intx_output(dev);
    bool remap = false;

    for (int i = 0; i < len && addr + i < PCI_CONFIG_SPACE_SIZE; i++) {
        uint32_t a = addr + i;
        uint8_t b = val >> (8 * i);
        dev->config[a] = (dev->config[a] & ~dev->wmask[a]) | (b & dev->wmask[a]);
        dev->config[a] &= ~(b & dev->w1cmask[a]);
        if ((a >= PCI_COMMAND && a < PCI_COMMAND + 2) ||
            (a >= PCI_BASE_ADDRESS_0 && a < PCI_BASE_ADDRESS_0 + 24) ||
            (a >= PCI_ROM_ADDRESS && a < PCI_ROM_ADDRESS + 4)) {
            remap = true;
        }
    }
    if (remap) {
        update_mappings(dev);
        update_irq(dev, old_irq);
    }
    if (dev->msix_cap && addr < dev->msix_cap + 4u && addr + len > dev->msix_cap + 2u) {
        msix_config_changed(dev);
    }
    if (dev->msi_cap && addr < dev->msi_cap + 4u && addr + len > dev->msi_cap + 2u) {
        msi_write_config(dev, addr, val, len);
    }
}

uint32_t pci_config_read(PCIDevice *dev, uint32_t addr, int len)
{
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);

    return pc->config_read ? pc->config_read(dev, addr, len)
                           : pci_default_read_config(dev, addr, len);
}

void pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);

    if (pc->config_write) {
        pc->config_write(dev, addr, val, len);
    } else {
        pci_default_write_config(dev, addr, val, len);
    }
}

/* addr: bus (23:16), devfn (15:8), register (7:0) as in configuration mechanism #1. */
uint32_t pci_data_read(PCIBus *bus, uint32_t addr, int len)
{
    PCIDevice *dev;
    uint32_t reg = addr & 0xff;

    if ((addr >> 16) & 0xff) {
        return ~0u >> (32 - 8 * len);        /* no bridges: other buses are absent */
    }
    dev = bus->devices[(addr >> 8) & 0xff];
    if (!dev || reg + len > PCI_CONFIG_SPACE_SIZE) {
        /* No device: the master aborts and reads all-ones (PCI 3.0, 6.1). */
        return ~0u >> (32 - 8 * len);
    }
    return pci_config_read(dev, reg, len);
}

void pci_data_write(PCIBus *bus, uint32_t addr, uint32_t val, int len)
{
    PCIDevice *dev;
    uint32_t reg = addr & 0xff;

    if ((addr >> 16) & 0xff) {
        return;
    }
    dev = bus->devices[(addr >> 8) & 0xff];
    if (dev && reg + len <= PCI_CONFIG_SPACE_SIZE) {
        pci_config_write(dev, reg, val, len);
    }
}

int pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t offset, uint8_t size,
                       Error **errp)
{
    uint8_t *prev;

    if (!offset) {
        offset = dev->cap_next;
    }
    if (offset < 0x40 || (offset & 3) || offset + size > PCI_CONFIG_SPACE_SIZE ||
        size < 2) {
        error_setg(errp, "capability 0x%02x: %u bytes at 0x%02x do not fit", cap_id, size,
                   offset);
        return -1;
    }
    /* Append to the list (PCI 3.0, 6.7): the last entry's next pointer. */
    prev = &dev->config[PCI_CAPABILITY_LIST];
    while (*prev) {
        prev = &dev->config[*prev + 1];
    }
    *prev = offset;
    dev->config[offset] = cap_id;
    dev->config[offset + 1] = 0;
    pci_set_word(dev->config + PCI_STATUS,
                 pci_get_word(dev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    dev->cap_next = MAX(dev->cap_next, (offset + size + 3) & ~3);
    return offset;
}

MemTxResult pci_dma_read(PCIDevice *dev, uint64_t addr, void *buf, uint64_t len)
{
    if (!(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        memset(buf, 0xff, len);
        return MEMTX_ERROR;
    }
    return address_space_read(&address_space_memory, addr, buf, len);
}

MemTxResult pci_dma_write(PCIDevice *dev, uint64_t addr, const void *buf, uint64_t len)
{
    if (!(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return MEMTX_ERROR;
    }
    return address_space_write(&address_space_memory, addr, buf, len);
}

/* ---- the device base type ---------------------------------------------------------- */

static int pci_post_load(void *opaque, int version_id)
{
    PCIDevice *dev = opaque;
    int old = intx_output(dev);

    update_mappings(dev);
    update_irq(dev, old);
    return 0;
}

static bool msix_state_needed(void *opaque)
{
    return ((PCIDevice *)opaque)->msix_cap != 0;
}

static const VMStateDescription vmstate_pci_msix = {
    .name = "pci-device/msix",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = msix_state_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_VBUFFER_UINT32(msix_table, PCIDevice, msix_table_len),
        VMSTATE_VBUFFER_UINT32(msix_pba, PCIDevice, msix_pba_len),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_pci_device = {
    .name = "pci-device",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pci_post_load,
    .subsections = (const VMStateDescription *const[]) { &vmstate_pci_msix, NULL },
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(config, PCIDevice),
        VMSTATE_INT32(irq_level, PCIDevice),
        VMSTATE_END_OF_LIST()
    },
};

static void pci_fill_header(PCIDevice *dev)
{
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);

    pci_set_word(dev->config + PCI_VENDOR_ID, pc->vendor_id);
    pci_set_word(dev->config + PCI_DEVICE_ID, pc->device_id);
    dev->config[PCI_REVISION_ID] = pc->revision;
    dev->config[PCI_CLASS_PROG] = pc->prog_if;
    pci_set_word(dev->config + PCI_CLASS_DEVICE, pc->class_id);
    /*
     * A device that names no subsystem gets QEMU's (Red Hat, "QEMU virtual machine"),
     * as every QEMU PCI device without its own does: the PIIX3 functions, pci-testdev,
     * e1000 (checked with Debian's qemu-system-x86_64 7.2, config offset 2Ch).
     */
    if (pc->subsystem_vendor_id || pc->subsystem_id) {
        pci_set_word(dev->config + PCI_SUBSYSTEM_VENDOR_ID, pc->subsystem_vendor_id);
        pci_set_word(dev->config + PCI_SUBSYSTEM_ID, pc->subsystem_id);
    } else {
        pci_set_word(dev->config + PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBVENDOR_ID_QEMU);
        pci_set_word(dev->config + PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_ID_QEMU);
    }
    if (dev->multifunction) {
        dev->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
    }
    /* Writable: command (I/O, memory, master, parity, SERR, INTx disable), cache line,
     * interrupt line.  Status error bits are write-1-to-clear.  The latency timer stays
     * 0 (a virtual bus has no burst to bound; QEMU's devices hard-wire it too). */
    pci_set_word(dev->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                 PCI_COMMAND_INTX_DISABLE);
    pci_set_word(dev->w1cmask + PCI_STATUS, PCI_STATUS_W1C);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
    dev->cap_next = 0x40;
}

/* "addr" as QEMU takes it: "SLOT[.FN]" in hex, or a devfn number; errors in its words. */
static bool pci_addr_parse(const char *type, const char *s, int32_t *devfn, Error **errp)
{
    char *end;
    unsigned long slot = strtoul(s, &end, 16), fn = 0;

    if (end == s) {
        goto bad;
    }
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 16);
        if (end == f) {
            goto bad;
        }
    }
    if (*end || slot > 31 || fn > 7) {
        goto bad;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
bad:
    error_setg(errp, "Property '%s.addr' doesn't take value '%s'", type, s);
    return false;
}

static void pci_qdev_realize(DeviceState *d, Error **errp)
{
    PCIDevice *dev = PCI_DEVICE(d);
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    PCIBus *bus = bus_of(dev);
    int32_t devfn = -1;

    if (dev->addr && *dev->addr &&
        !pci_addr_parse(object_get_typename(OBJECT(d)), dev->addr, &devfn, errp)) {
        return;
    }
    if (devfn < 0) {
        /* First free slot, function 0 (slot 0 is the host bridge's). */
        for (devfn = 0; devfn < 256 && bus->devices[devfn]; devfn += 8) {
        }
        if (devfn >= 256) {
            error_setg(errp, "PCI: no slot/function available for %s, all in use or "
                       "reserved", object_get_typename(OBJECT(d)));
            return;
        }
    } else if (devfn > 255) {
        error_setg(errp, "PCI address %d.%d is out of range", devfn >> 3, devfn & 7);
        return;
    } else if (bus->devices[devfn]) {
        /* QEMU's words, including "(null)" for a device without an id. */
        const char *id = DEVICE(bus->devices[devfn])->id;
        error_setg(errp, "PCI: slot %d function %d not available for %s, in use by %s,id=%s",
                   PCI_SLOT(devfn), PCI_FUNC(devfn), object_get_typename(OBJECT(d)),
                   object_get_typename(OBJECT(bus->devices[devfn])), id ? id : "(null)");
        return;
    }
    dev->devfn = devfn;
    memset(dev->config, 0, sizeof(dev->config));
    memset(dev->wmask, 0, sizeof(dev->wmask));
    memset(dev->w1cmask, 0, sizeof(dev->w1cmask));
    pci_fill_header(dev);
    bus->devices[devfn] = dev;
    if (pc->realize) {
        Error *err = NULL;
        pc->realize(dev, &err);
        if (err) {
            bus->devices[devfn] = NULL;
            error_propagate(errp, err);
            return;
        }
    }
}

static void pci_qdev_unrealize(DeviceState *d)
{
    PCIDevice *dev = PCI_DEVICE(d);
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    PCIBus *bus = bus_of(dev);

    /* Drop the INTx and the BARs before the device's own teardown frees its regions. */
    pci_set_irq(dev, 0);
    pci_set_word(dev->config + PCI_COMMAND, 0);
    update_mappings(dev);
    if (pc->exit) {
        pc->exit(dev);
    }
    msix_uninit(dev);
    msi_uninit(dev);
    bus->devices[dev->devfn] = NULL;
    memset(dev->io_regions, 0, sizeof(dev->io_regions));
}

/* Power-on: command cleared (BARs unmapped), BAR addresses and interrupt line zero. */
static void pci_qdev_reset(DeviceState *d)
{
    PCIDevice *dev = PCI_DEVICE(d);
    PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);

    pci_set_irq(dev, 0);
    pci_set_word(dev->config + PCI_COMMAND, 0);
    pci_set_word(dev->config + PCI_STATUS,
                 pci_get_word(dev->config + PCI_STATUS) & ~PCI_STATUS_W1C);
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &dev->io_regions[n];
        if (r->size) {
            int off = bar_offset(n);
            pci_set_long(dev->config + off, n == PCI_ROM_SLOT ? 0 : r->type);
            if (n != PCI_ROM_SLOT && (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
                !(r->type & PCI_BASE_ADDRESS_SPACE_IO)) {
                pci_set_long(dev->config + off + 4, 0);
            }
        }
    }
    pci_msi_routes_release(dev);
    dev->config[PCI_INTERRUPT_LINE] = 0;
    dev->config[PCI_CACHE_LINE_SIZE] = 0;
    dev->config[PCI_LATENCY_TIMER] = 0;
    msix_reset(dev);
    if (dev->msi_cap) {
        /* MSI disabled, one message, address and data zero (6.8.1). */
        uint8_t *c = dev->config + dev->msi_cap;
        pci_set_word(c + 2, pci_get_word(c + 2) & ~0x71);
        memset(c + 4, 0, 10);
    }
    update_mappings(dev);
    if (pc->reset) {
        pc->reset(dev);
    }
}

static const Property pci_props[] = {
    DEFINE_PROP_STRING("addr", PCIDevice, addr),
    DEFINE_PROP_BOOL("multifunction", PCIDevice, multifunction, false),
    DEFINE_PROP_END_OF_LIST(),
};

/* A PCI type's TypeInfo realize/unrealize run inside the generic PCI ones. */
static void pci_device_class_base_init(ObjectClass *oc, const TypeInfo *info)
{
    DeviceClass *dc = (DeviceClass *)oc;
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    if (info->realize && info->realize != pci_qdev_realize) {
        pc->realize = (void (*)(PCIDevice *, Error **))info->realize;
    }
    if (info->unrealize && info->unrealize != pci_qdev_unrealize) {
        pc->exit = (void (*)(PCIDevice *))info->unrealize;
    }
    if (info->reset && info->reset != pci_qdev_reset) {
        /* The device's own reset runs after the generic one (pci_qdev_reset calls it). */
        pc->reset = (void (*)(PCIDevice *))info->reset;
    }
    dc->realize = pci_qdev_realize;
    dc->unrealize = pci_qdev_unrealize;
    dc->reset = pci_qdev_reset;
}

static const TypeInfo pci_device_type = {
    .name = TYPE_PCI_DEVICE,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .instance_size = sizeof(PCIDevice),
    .class_size = sizeof(PCIDeviceClass),
    .class_base_init = pci_device_class_base_init,
    .props = pci_props,
    .bus_type = TYPE_PCI_BUS,
    .vmsd = &vmstate_pci_device,
};
KITE_TYPE_REGISTER(pci_device_type)

bool pci_rom_init_from_file(PCIDevice *dev, MemoryRegion *rom, const char *name,
                            const char *path, Error **errp)
{
    g_autofree uint8_t *data = NULL;
    size_t len = 0;
    uint64_t size;

    if (!loader_load_file(path, &data, &len, 16 * MiB, errp)) {
        return false;
    }
    if (len < 3 || data[0] != 0x55 || data[1] != 0xaa) {
        error_setg(errp, "'%s' is not a PCI option ROM (no 55h AAh signature)", path);
        return false;
    }
    size = 1ull << g_bit_storage(len - 1);
    if (!memory_region_init_rom(rom, OBJECT(dev), name, size, errp)) {
        return false;
    }
    memcpy(memory_region_get_ram_ptr(rom), data, len);
    memset((uint8_t *)memory_region_get_ram_ptr(rom) + len, 0, size - len);
    return true;
}
