/*
 * isa-vga: the legacy VGA core on the ISA bus, with the Bochs DISPI ports and its linear
 * framebuffer at a fixed address (0xe0000000, where QEMU's isa-vga and the Bochs BIOS put
 * it).  For machines without PCI and for tests; the pc board's default card is the PCI one.
 *
 *   0x3b0-0x3df  VGA registers         0x1ce/0x1cf  DISPI index/data
 *   0xa0000      128 KiB VGA window     lfb-addr     VRAM (vgamem_mb MiB)
 *
 * With -kernel (no BIOS) the card starts in DISPI xres x yres x 32 and the kernel's
 * screen_info points at the LFB (vga_set_boot_mode).
 * dump-ppm=FILE writes the screen as a PPM when Kite exits: the guest display tests use it
 * until the console layer's screendump can be asked for it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/display/vga-isa.h"
#include "hw/isa.h"
#include "kite/log.h"
#include "hw/i386/x86-boot.h"

struct IsaVgaState {
    IsaDevice parent_obj;
    VGACommonState vga;
    uint32_t vram_mb;
    uint64_t lfb_addr;
    MemoryRegion *mem;
    char *dump_ppm;
    uint16_t xres, yres;
};



/* Devices with dump-ppm set, dumped by an atexit handler (exit paths vary: debug-exit, QMP). */
static GSList *dump_devices;

static void isa_vga_dump_at_exit(void)
{
    for (GSList *l = dump_devices; l; l = l->next) {
        IsaVgaState *d = l->data;
        Error *err = NULL;

        if (!vga_write_ppm(&d->vga, d->dump_ppm, &err)) {
            error_report_err(err);
        }
    }
}

static IsaVgaState *ISA_VGA(const void *obj)
{
    return OBJECT_CHECK(IsaVgaState, obj, TYPE_ISA_VGA);
}

VGACommonState *isa_vga_common(DeviceState *dev)
{
    return &ISA_VGA(dev)->vga;
}

static void isa_vga_realize(DeviceState *dev, Error **errp)
{
    IsaVgaState *d = ISA_VGA(dev);
    IsaDevice *isa = ISA_DEVICE(dev);
    uint8_t *si;

    if (!vga_common_init(&d->vga, OBJECT(dev), d->vram_mb, errp)) {
        return;
    }
    d->mem = isa_bus_of(isa)->address_space_mem;
    isa_register_ioport(isa, &d->vga.legacy_io, 0x3b0);
    isa_register_ioport(isa, &d->vga.vbe_io, 0x1ce);
    /* Above the board's empty "vga-window" placeholder (priority 1). */
    memory_region_add_subregion_overlap(d->mem, 0xa0000, &d->vga.window, 2);
    memory_region_add_subregion(d->mem, d->lfb_addr, &d->vga.vram);
    vga_console_init(&d->vga, dev);
    /* Direct Linux boot: the first card with a framebuffer hands it to the kernel. */
    si = x86_linux_screen_info();
    if (si && !si[0x0f]) {
        vga_set_boot_mode(&d->vga, d->xres, d->yres, d->lfb_addr, si);
    }
    if (d->dump_ppm && *d->dump_ppm) {
        static bool registered;

        if (!registered) {
            atexit(isa_vga_dump_at_exit);
            registered = true;
        }
        dump_devices = g_slist_append(dump_devices, d);
    }
}

static void isa_vga_unrealize(DeviceState *dev)
{
    IsaVgaState *d = ISA_VGA(dev);

    dump_devices = g_slist_remove(dump_devices, d);
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_del_subregion(d->mem, &d->vga.window);
    memory_region_del_subregion(d->mem, &d->vga.vram);
    vga_common_destroy(&d->vga);
}

static void isa_vga_reset(DeviceState *dev)
{
    vga_common_reset(&ISA_VGA(dev)->vga);
}

static int isa_vga_post_load(void *opaque, int version_id)
{
    vga_common_post_load(&ISA_VGA(opaque)->vga);
    return 0;
}

static const VMStateDescription vmstate_isa_vga = {
    .name = "isa-vga", .version_id = 1, .minimum_version_id = 1,
    .post_load = isa_vga_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(vga, IsaVgaState, vmstate_vga_common, VGACommonState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property isa_vga_props[] = {
    DEFINE_PROP_UINT32("vgamem_mb", IsaVgaState, vram_mb, VGA_DEFAULT_VRAM_MB),
    DEFINE_PROP_UINT64("lfb-addr", IsaVgaState, lfb_addr, VGA_LFB_ISA_ADDR),
    DEFINE_PROP_STRING("dump-ppm", IsaVgaState, dump_ppm),
    /* The mode direct kernel boot starts in. */
    DEFINE_PROP_UINT16("xres", IsaVgaState, xres, 1024),
    DEFINE_PROP_UINT16("yres", IsaVgaState, yres, 768),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo isa_vga_type = {
    .name = TYPE_ISA_VGA,
    .parent = TYPE_ISA_DEVICE,
    .desc = "ISA VGA with Bochs VBE extensions (ports 0x3b0-0x3df, 0x1ce; 0xa0000)",
    .instance_size = sizeof(IsaVgaState),
    .realize = isa_vga_realize,
    .unrealize = isa_vga_unrealize,
    .reset = isa_vga_reset,
    .props = isa_vga_props,
    .vmsd = &vmstate_isa_vga,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(isa_vga_type)
