/*
 * VGA: the standard PCI VGA ("-device VGA", QEMU's stdvga, Bochs' "pcivga"), the VGA core
 * (hw/display/vga.h) with its VRAM as BAR 0 and a register window as BAR 2.
 *
 *   1234:1111, class 0300h (VGA compatible), subsystem 1AF4:1100
 *   BAR 0  VRAM, prefetchable memory, vgamem_mb MiB (linear framebuffer)
 *   BAR 2  4 KiB MMIO, the layout QEMU gives it (bochs-drm uses all of it):
 *          0x000-0x0ff  EDID blob, read-only (edid=on, the default; hw/display/edid.c):
 *                       the preferred mode is xres x yres, 1280x800 if unset (QEMU's)
 *          0x400-0x41f  VGA ports 0x3c0-0x3df (byte access)
 *          0x500-0x515  DISPI registers, index * 2, 16 bits
 *          0x600-0x607  QEMU extended registers (qemu-extended-regs=on, the default):
 *                       0x600 the block's size (8), 0x604 framebuffer byte order
 *   ROM    the option ROM, romfile= (SeaBIOS's vgabios-stdvga.bin by default): the BIOS
 *          copies it to 0xc0000 and runs it, which sets text mode 3 and provides INT 10h
 *          and VBE for the DISPI modes
 *   legacy ports 0x3b0-0x3df and 0x1ce/0x1cf, the 0xa0000 window, always decoded
 *
 * Direct kernel boot: the board asks pci_vga_set_boot_mode() once BAR 0 has its address;
 * the card starts in DISPI xres x yres x 32 (1024x768 if unset).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/display/vga-pci.h"
#include "hw/display/edid.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_regs.h"
#include "hw/loader.h"

#define PCI_VGA_MMIO_SIZE   0x1000
#define PCI_VGA_MMIO_VGA    0x400
#define PCI_VGA_MMIO_DISPI  0x500
#define PCI_VGA_MMIO_EDID   0x000
#define PCI_VGA_MMIO_QEXT   0x600
#define PCI_VGA_QEXT_SIZE   8
#define PCI_VGA_QEXT_ENDIAN_LE  0x1e1e1e1e
#define PCI_VGA_QEXT_ENDIAN_BE  0xbebebebe
/* Defaults when xres/yres are unset: direct kernel boot's mode, and QEMU's EDID mode. */
#define PCI_VGA_BOOT_XRES   1024
#define PCI_VGA_BOOT_YRES   768
#define PCI_VGA_EDID_XRES   1280
#define PCI_VGA_EDID_YRES   800

typedef struct PCIVGAState {
    PCIDevice parent_obj;
    VGACommonState vga;
    uint32_t vram_mb;
    uint16_t xres, yres;
    char *romfile;
    bool edid, qext;
    uint8_t edid_blob[256];
    MemoryRegion mmio, mmio_vga, mmio_dispi, mmio_edid, mmio_qext;
    MemoryRegion rom;
    bool has_rom;
} PCIVGAState;

static PCIVGAState *PCI_VGA(const void *obj)
{
    return OBJECT_CHECK(PCIVGAState, obj, TYPE_PCI_VGA);
}

/* The expansion ROM BAR's contents, padded with zeroes to a power of two (PCI 3.0, 6.3). */
static bool pci_vga_load_rom(PCIVGAState *d, Error **errp)
{
    g_autofree char *path = NULL;

    if (!d->romfile || !*d->romfile) {
        return true;                        /* romfile="": no option ROM */
    }
    path = loader_find_firmware(d->romfile);
    if (!path) {
        error_setg(errp, "could not find the VGA option ROM '%s' (Debian package 'seabios'; "
                   "romfile= names another, romfile= with no value means none)",
                   d->romfile);
        return false;
    }
    if (!pci_rom_init_from_file(PCI_DEVICE(d), &d->rom, "vga.rom", path, errp)) {
        return false;
    }
    d->has_rom = true;
    return true;
}

bool pci_vga_set_boot_mode(DeviceState *dev, uint8_t *si)
{
    PCIVGAState *d = PCI_VGA(dev);
    uint64_t lfb = pci_get_bar_addr(PCI_DEVICE(dev), 0);

    if (lfb == PCI_BAR_UNMAPPED) {
        return false;
    }
    vga_set_boot_mode(&d->vga, d->xres ? d->xres : PCI_VGA_BOOT_XRES,
                      d->yres ? d->yres : PCI_VGA_BOOT_YRES, lfb, si);
    return true;
}

static uint64_t pci_vga_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    return vga_ioport_read(opaque, 0x3c0 + addr);
}

static void pci_vga_ioport_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    vga_ioport_write(opaque, 0x3c0 + addr, val);
}

/* A word write sets an index and its data, as at the ports. */
static const MemoryRegionOps pci_vga_ioport_ops = {
    .read = pci_vga_ioport_read, .write = pci_vga_ioport_write,
    .valid = { 1, 4, false }, .impl = { 1, 1 },
};

static uint64_t pci_vga_dispi_read(void *opaque, hwaddr addr, unsigned size)
{
    return vga_vbe_read(opaque, addr >> 1);
}

static void pci_vga_dispi_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    vga_vbe_write(opaque, addr >> 1, val);
}

/* As in QEMU: any access size, split into or widened to 16-bit registers. */
static const MemoryRegionOps pci_vga_dispi_ops = {
    .read = pci_vga_dispi_read, .write = pci_vga_dispi_write,
    .valid = { 1, 4, false }, .impl = { 2, 2 },
};

/* The EDID is fixed at realize: reads return the blob, writes are ignored. */
static uint64_t pci_vga_edid_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIVGAState *d = opaque;
    uint64_t val = 0;
    unsigned i;

    /* The core keeps accesses inside the region: addr + size <= sizeof(edid_blob). */
    for (i = 0; i < size; i++) {
        val |= (uint64_t)d->edid_blob[addr + i] << (8 * i);
    }
    return val;
}

static void pci_vga_edid_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps pci_vga_edid_ops = {
    .read = pci_vga_edid_read, .write = pci_vga_edid_write,
    .valid = { 1, 4, false }, .impl = { 1, 4 },
};

/*
 * QEMU's extended registers: 0x600 reads the block's size, 0x604 the framebuffer byte
 * order, which a big-endian guest would switch to 0xbebebebe.  Kite draws little-endian
 * framebuffers only (x86 guests), so that write is ignored and the register keeps
 * reading little-endian: a driver that reads back sees the order it will get.
 */
static uint64_t pci_vga_qext_read(void *opaque, hwaddr addr, unsigned size)
{
    switch (addr) {
    case 0:
        return PCI_VGA_QEXT_SIZE;
    case 4:
        return PCI_VGA_QEXT_ENDIAN_LE;
    }
    return ~0ull;
}

static void pci_vga_qext_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps pci_vga_qext_ops = {
    .read = pci_vga_qext_read, .write = pci_vga_qext_write,
    .valid = { 4, 4, false }, .impl = { 4, 4 },
};

static void pci_vga_realize(PCIDevice *dev, Error **errp)
{
    PCIVGAState *d = (PCIVGAState *)dev;
    VGACommonState *s = &d->vga;

    if (!pci_vga_load_rom(d, errp)) {
        return;
    }
    if (!vga_common_init(s, OBJECT(dev), d->vram_mb, errp)) {
        if (d->has_rom) {
            memory_region_destroy(&d->rom);
            d->has_rom = false;
        }
        return;
    }
    /* A VGA-class device's legacy ranges are not behind a BAR; decoded always, as in QEMU. */
    memory_region_add_subregion(get_system_io(), 0x3b0, &s->legacy_io);
    memory_region_add_subregion(get_system_io(), 0x1ce, &s->vbe_io);
    memory_region_add_subregion_overlap(get_system_memory(), 0xa0000, &s->window, 2);

    memory_region_init(&d->mmio, OBJECT(dev), "vga.mmio", PCI_VGA_MMIO_SIZE);
    memory_region_init_io(&d->mmio_vga, OBJECT(dev), &pci_vga_ioport_ops, s, "vga ioports",
                          0x20);
    memory_region_init_io(&d->mmio_dispi, OBJECT(dev), &pci_vga_dispi_ops, s,
                          "bochs dispi", VBE_DISPI_INDEX_NB * 2);
    memory_region_add_subregion(&d->mmio, PCI_VGA_MMIO_VGA, &d->mmio_vga);
    memory_region_add_subregion(&d->mmio, PCI_VGA_MMIO_DISPI, &d->mmio_dispi);
    if (d->edid) {
        EdidInfo info = {
            /* QEMU's monitor identity, as the PCI IDs are QEMU's. */
            .vendor = "RHT", .product = 0x1234, .name = "QEMU Monitor",
            .prefx = d->xres ? d->xres : PCI_VGA_EDID_XRES,
            .prefy = d->yres ? d->yres : PCI_VGA_EDID_YRES,
            .max_bytes = s->vram_size,
        };
        edid_generate(d->edid_blob, sizeof(d->edid_blob), &info);
        memory_region_init_io(&d->mmio_edid, OBJECT(dev), &pci_vga_edid_ops, d, "edid",
                              sizeof(d->edid_blob));
        memory_region_add_subregion(&d->mmio, PCI_VGA_MMIO_EDID, &d->mmio_edid);
    }
    if (d->qext) {
        memory_region_init_io(&d->mmio_qext, OBJECT(dev), &pci_vga_qext_ops, d,
                              "qemu extended regs", PCI_VGA_QEXT_SIZE);
        memory_region_add_subregion(&d->mmio, PCI_VGA_MMIO_QEXT, &d->mmio_qext);
    }

    pci_register_bar(dev, 0, PCI_BASE_ADDRESS_MEM_PREFETCH, &s->vram);
    pci_register_bar(dev, 2, PCI_BASE_ADDRESS_SPACE_MEMORY, &d->mmio);
    if (d->has_rom) {
        pci_register_bar(dev, PCI_ROM_SLOT, 0, &d->rom);
    }
    vga_console_init(s, DEVICE(dev));
}

static void pci_vga_exit(PCIDevice *dev)
{
    PCIVGAState *d = (PCIVGAState *)dev;
    VGACommonState *s = &d->vga;

    memory_region_del_subregion(get_system_io(), &s->legacy_io);
    memory_region_del_subregion(get_system_io(), &s->vbe_io);
    memory_region_del_subregion(get_system_memory(), &s->window);
    memory_region_del_subregion(&d->mmio, &d->mmio_vga);
    memory_region_del_subregion(&d->mmio, &d->mmio_dispi);
    memory_region_destroy(&d->mmio_vga);
    memory_region_destroy(&d->mmio_dispi);
    if (d->edid) {
        memory_region_del_subregion(&d->mmio, &d->mmio_edid);
        memory_region_destroy(&d->mmio_edid);
    }
    if (d->qext) {
        memory_region_del_subregion(&d->mmio, &d->mmio_qext);
        memory_region_destroy(&d->mmio_qext);
    }
    memory_region_destroy(&d->mmio);
    if (d->has_rom) {
        memory_region_destroy(&d->rom);
        d->has_rom = false;
    }
    vga_common_destroy(s);
}

static void pci_vga_reset(PCIDevice *dev)
{
    vga_common_reset(&((PCIVGAState *)dev)->vga);
}

static int pci_vga_post_load(void *opaque, int version_id)
{
    vga_common_post_load(&((PCIVGAState *)opaque)->vga);
    return 0;
}

static const VMStateDescription vmstate_pci_vga = {
    .name = "vga-pci", .version_id = 1, .minimum_version_id = 1,
    .post_load = pci_vga_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PCIVGAState),
        VMSTATE_STRUCT(vga, PCIVGAState, vmstate_vga_common, VGACommonState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property pci_vga_props[] = {
    DEFINE_PROP_UINT32("vgamem_mb", PCIVGAState, vram_mb, VGA_DEFAULT_VRAM_MB),
    DEFINE_PROP_STRING_DEFAULT("romfile", PCIVGAState, romfile, PCI_VGA_DEFAULT_ROM),
    /* QEMU's: the EDID's preferred mode; Kite's direct kernel boot starts in it too.
     * 0 = unset (EDID 1280x800, boot 1024x768). */
    DEFINE_PROP_UINT16("xres", PCIVGAState, xres, 0),
    DEFINE_PROP_UINT16("yres", PCIVGAState, yres, 0),
    DEFINE_PROP_BOOL("edid", PCIVGAState, edid, true),
    DEFINE_PROP_BOOL("qemu-extended-regs", PCIVGAState, qext, true),
    DEFINE_PROP_END_OF_LIST(),
};

static void pci_vga_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = 0x1234;                 /* Bochs/QEMU stdvga */
    pc->device_id = 0x1111;
    pc->subsystem_vendor_id = 0x1af4;
    pc->subsystem_id = 0x1100;
    pc->revision = 2;                       /* 2: the MMIO BAR exists (bochs-drm checks) */
    pc->class_id = 0x0300;                  /* display controller, VGA compatible */
}

static const TypeInfo pci_vga_type = {
    .name = TYPE_PCI_VGA,
    .parent = TYPE_PCI_DEVICE,
    .desc = "PCI VGA with Bochs VBE extensions (1234:1111, stdvga)",
    .instance_size = sizeof(PCIVGAState),
    .class_init = pci_vga_class_init,
    .realize = (void (*)(DeviceState *, Error **))pci_vga_realize,
    .unrealize = (void (*)(DeviceState *))pci_vga_exit,
    .reset = (void (*)(DeviceState *))pci_vga_reset,
    .props = pci_vga_props,
    .vmsd = &vmstate_pci_vga,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(pci_vga_type)
