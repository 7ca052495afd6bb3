/*
 * Legacy VGA core with the Bochs VBE "DISPI" extension, shared by the ISA and PCI wrappers.
 *
 * The core owns the VGA registers, the VRAM (a RAM region the wrapper maps as a linear
 * framebuffer), the 0xa0000-0xbffff window and the renderers.  A wrapper embeds VGACommonState,
 * calls vga_common_init() from realize, maps vga_common_legacy_io()/vga_window()/the VRAM where
 * its bus wants them and calls vga_common_reset() from reset.
 *
 * VRAM layout (as QEMU's, which SeaBIOS's vgabios and bochs-drm are tested against): planar
 * byte offset N of plane P lives at vram[N * 4 + P], so chain-4 (mode 13h) and the DISPI
 * linear modes see VRAM as one flat byte array.
 *
 * Rendering: vga_update_display() draws the current mode into s->fb (32-bit xRGB, width x
 * height, stride width * 4) and returns the rectangle that changed since the last call; the
 * console layer wraps s->fb in its surface.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DISPLAY_VGA_H
#define HW_DISPLAY_VGA_H

#include "kite/osdep.h"
#include "kite/memory.h"
#include "kite/vmstate.h"

typedef struct DeviceState DeviceState;

#define VGA_DEFAULT_VRAM_MB 16
#define VGA_LFB_ISA_ADDR    0xe0000000u     /* where isa-vga maps the framebuffer */

/* Bochs VBE DISPI registers (index port 0x1ce, data port 0x1cf). */
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB          0xb

#define VBE_DISPI_ID0               0xb0c0
#define VBE_DISPI_ID5               0xb0c5

#define VBE_DISPI_ENABLED           0x01
#define VBE_DISPI_GETCAPS           0x02
#define VBE_DISPI_8BIT_DAC          0x20
#define VBE_DISPI_LFB_ENABLED       0x40
#define VBE_DISPI_NOCLEARMEM        0x80

#define VBE_DISPI_MAX_XRES          16000
#define VBE_DISPI_MAX_YRES          12000
#define VBE_DISPI_MAX_BPP           32

typedef struct VGACommonState {
    Object *owner;
    uint32_t vram_size;
    MemoryRegion vram;              /* RAM: the wrapper maps it as the LFB */
    uint8_t *vram_ptr;
    MemoryRegion legacy_io;         /* ports 0x3b0-0x3df */
    MemoryRegion vbe_io;            /* ports 0x1ce-0x1cf (0x1d0 on some BIOSes: not mapped) */
    MemoryRegion window;            /* 0xa0000-0xbffff */

    /* VGA registers (IBM VGA Technical Reference, "Registers"). */
    uint8_t misc_output;
    uint8_t feature_ctrl;
    uint8_t sr_index, sr[8];        /* sequencer */
    uint8_t gr_index, gr[16];       /* graphics controller */
    uint8_t cr_index, cr[256];      /* CRT controller */
    uint8_t ar_index, ar[32];       /* attribute controller */
    bool ar_flip_flop;              /* false: next 0x3c0 write is the index */
    uint8_t dac_state;              /* 0: last index write was 0x3c7 (read), 3: 0x3c8 */
    uint8_t dac_read_index, dac_write_index, dac_sub_index;
    uint8_t dac_cache[3];
    uint8_t pel_mask;
    uint8_t palette[768];           /* 6-bit (or 8-bit with VBE_DISPI_8BIT_DAC) R,G,B */
    uint8_t latch[4];
    uint8_t st01_toggle;            /* makes retrace bits move for BIOS polling loops */

    /* Bochs VBE. */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vbe_line_offset;       /* bytes per scanline of the virtual screen */
    uint32_t vbe_start_addr;        /* byte offset of the visible screen in VRAM */

    /* Direct kernel boot: the DISPI mode set at reset (0 = none). */
    uint16_t boot_xres, boot_yres;

    /* Renderer output. */
    struct QemuConsole *con;        /* the graphic console (vga_console_init) */
    uint32_t *fb_old;               /* the buffer the console's surface still borrows */
    bool surface_pending;           /* fb was reallocated: the console needs a new surface */
    uint32_t *fb;
    int fb_width, fb_height;
    bool full_update;               /* mode, palette or font changed: redraw everything */
    DirtyBitmapSnapshot *dirty_snap;    /* VRAM pages written before this frame's render */
    uint32_t last_palette[256];
} VGACommonState;

/* Allocate VRAM (vram_mb MiB, a power of two from 1 to 256) and the regions. */
bool vga_common_init(VGACommonState *s, Object *owner, uint32_t vram_mb, Error **errp);
void vga_common_destroy(VGACommonState *s);
void vga_common_reset(VGACommonState *s);
/* After migration: recompute derived values, redraw. */
void vga_common_post_load(VGACommonState *s);
extern const VMStateDescription vmstate_vga_common;

/* Register access for the PCI wrapper's MMIO window (0x400: VGA ports 0x3c0.., 0x500: DISPI). */
uint64_t vga_ioport_read(VGACommonState *s, uint32_t port);
void vga_ioport_write(VGACommonState *s, uint32_t port, uint32_t val);
uint16_t vga_vbe_read(VGACommonState *s, uint16_t index);
void vga_vbe_write(VGACommonState *s, uint16_t index, uint16_t val);

/* The 0xa0000 window, offset from 0xa0000. */
uint8_t vga_mem_readb(VGACommonState *s, hwaddr addr);
void vga_mem_writeb(VGACommonState *s, hwaddr addr, uint8_t val);

/*
 * Redraw into s->fb.  Returns false when nothing changed; otherwise the changed rectangle.
 * *resized is set when fb_width/fb_height changed (the console must re-create its surface).
 */
bool vga_update_display(VGACommonState *s, int *x, int *y, int *w, int *h, bool *resized);
/* The framebuffer geometry DISPI is set to, for the boot protocol's screen_info. */
bool vga_get_linear_mode(VGACommonState *s, int *width, int *height, int *bpp, int *stride);

/*
 * Direct kernel boot: put the card in xres x yres x 32 with the LFB on (now and at every
 * reset) and describe it in screen_info (Linux's struct screen_info, 0x40 bytes) as a VESA
 * linear framebuffer at lfb_addr, so vesafb/simplefb draw on it.
 */
void vga_set_boot_mode(VGACommonState *s, uint16_t xres, uint16_t yres, uint64_t lfb_addr,
                       uint8_t *screen_info);

/*
 * Give the card a graphic console (ui/console.h): s->fb becomes the console's surface and
 * each refresh tick redraws what changed.  vga_common_destroy closes it.
 */
void vga_console_init(VGACommonState *s, DeviceState *dev);

/* Render the whole screen and write it as a binary PPM (P6). */
bool vga_write_ppm(VGACommonState *s, const char *path, Error **errp);

/* vga-render.c, used by vga.c */
void vga_render(VGACommonState *s, int *y0, int *y1);
void vga_render_geometry(VGACommonState *s, int *width, int *height);

#endif
