/*
 * VGA renderers: text modes (font from plane 2), 16-colour planar modes, the 256-colour
 * chain-4 mode and the DISPI linear modes, into VGACommonState.fb (32-bit xRGB).
 *
 * References: IBM VGA Technical Reference, "Attribute Controller" (palette, mode control
 * AR10, colour plane enable AR12, colour select AR14), "CRT Controller" (CR01 horizontal
 * display end, CR07/CR12 vertical display end, CR09 maximum scan line, CR0A/CR0B cursor,
 * CR0C/CR0D start address, CR0E/CR0F cursor location, CR13 offset), "Sequencer" (SR01 8/9
 * dot characters, SR03 character map select).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/display/vga.h"
#include "kite/log.h"
#include "ui/console.h"

#define FB_MAX_DIM 8192
#define TEXT_VRAM_SPAN (256 * KiB)      /* 64K planar offsets x 4 planes: cells and fonts */

/* A DAC entry as xRGB; entries are 6 bits unless DISPI's 8-bit DAC is on. */
static uint32_t vga_dac_rgb(VGACommonState *s, uint8_t idx)
{
    const uint8_t *p = &s->palette[(idx & s->pel_mask) * 3];

    if (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) {
        return (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
    }
    return (uint32_t)((p[0] << 2) | (p[0] >> 4)) << 16 | ((p[1] << 2) | (p[1] >> 4)) << 8 |
           ((p[2] << 2) | (p[2] >> 4));
}

/* A 4-bit attribute colour through the attribute palette and AR10/AR14 into the DAC. */
static uint32_t vga_attr_rgb(VGACommonState *s, uint8_t c)
{
    uint8_t v = s->ar[c & 15];

    if (s->ar[0x10] & 0x80) {
        v = (v & 0x0f) | ((s->ar[0x14] & 3) << 4);      /* P5-P4 from AR14 */
    }
    v = (v & 0x3f) | ((s->ar[0x14] & 0x0c) << 4);       /* P7-P6 from AR14 */
    return vga_dac_rgb(s, v);
}

static bool vga_dispi_on(VGACommonState *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static int vga_vertical_display(VGACommonState *s)
{
    return (s->cr[0x12] | ((s->cr[7] & 0x02) << 7) | ((s->cr[7] & 0x40) << 3)) + 1;
}

/*
 * A CRTC nobody has programmed yet (horizontal and vertical display end at their reset
 * value 0, before the VGA BIOS sets a mode): show a black 640x480 screen, as QEMU does,
 * rather than a one-cell text mode.
 */
static bool vga_crtc_unprogrammed(VGACommonState *s)
{
    return !vga_dispi_on(s) && s->cr[1] == 0 && s->cr[0x12] == 0 && !(s->cr[7] & 0x42);
}

void vga_render_geometry(VGACommonState *s, int *width, int *height)
{
    int w, h;

    if (vga_crtc_unprogrammed(s)) {
        w = 640;
        h = 480;
    } else if (vga_dispi_on(s)) {
        w = s->vbe_regs[VBE_DISPI_INDEX_XRES];
        h = s->vbe_regs[VBE_DISPI_INDEX_YRES];
    } else if (s->gr[6] & 1) {
        w = (s->cr[1] + 1) * 8;
        /* 256-colour mode latches two 4-bit pixels per dot; SR01 bit 3 halves the clock. */
        if ((s->gr[5] & 0x40) || (s->sr[1] & 0x08)) {
            w /= 2;
        }
        h = vga_vertical_display(s);
        if (s->cr[9] & 0x80) {
            h /= 2;                                     /* double scan */
        }
        h /= (s->cr[9] & 0x1f) + 1;
    } else {
        int cw = (s->sr[1] & 1) ? 8 : 9, ch = (s->cr[9] & 0x1f) + 1;

        w = (s->cr[1] + 1) * cw;
        h = (vga_vertical_display(s) / ch) * ch;
    }
    *width = CLAMP(w, 1, FB_MAX_DIM);
    *height = CLAMP(h, 1, FB_MAX_DIM);
}

static uint8_t vram_byte(VGACommonState *s, uint64_t off)
{
    return off < s->vram_size ? s->vram_ptr[off] : 0;
}

/* ---------------------------------------------------------------- text */

/* Pages of [base, base+len) written before the frame started (the snapshot taken then). */
static bool vram_dirty(VGACommonState *s, uint64_t base, uint64_t len)
{
    if (!s->dirty_snap) {
        return memory_region_get_dirty(&s->vram, base, len, DIRTY_MEMORY_VGA);
    }
    return memory_region_snapshot_get_dirty(&s->vram, s->dirty_snap, base, len);
}

static void vga_render_text(VGACommonState *s, int *y0, int *y1)
{
    int cw = (s->sr[1] & 1) ? 8 : 9, ch = (s->cr[9] & 0x1f) + 1;
    int cols = s->fb_width / cw, rows = s->fb_height / ch;
    uint32_t start = s->cr[0x0c] << 8 | s->cr[0x0d];
    uint32_t row_off = s->cr[0x13] * 2;                 /* character cells per row */
    uint32_t cursor = (s->cr[0x0e] << 8 | s->cr[0x0f]) - start;
    int cur_start = s->cr[0x0a] & 0x1f, cur_end = s->cr[0x0b] & 0x1f;
    bool cursor_on = !(s->cr[0x0a] & 0x20);
    /* SR03: map A for attribute bit 3 set, map B otherwise; 8 KiB font slots in plane 2. */
    uint8_t sr3 = s->sr[3];
    uint32_t map_a = ((sr3 >> 2) & 3) * 2 + ((sr3 >> 5) & 1);
    uint32_t map_b = (sr3 & 3) * 2 + ((sr3 >> 4) & 1);
    bool blink = s->ar[0x10] & 0x08;

    if (!s->full_update &&
        !vram_dirty(s, 0, MIN(TEXT_VRAM_SPAN, s->vram_size))) {
        return;
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            uint32_t cell = start + r * row_off + c;
            uint8_t chr = vram_byte(s, (uint64_t)cell * 4);
            uint8_t attr = vram_byte(s, (uint64_t)cell * 4 + 1);
            uint32_t font = ((attr & 8) ? map_a : map_b) * 0x2000 + chr * 32;
            uint8_t bgc = blink ? (attr >> 4) & 7 : attr >> 4;
            uint32_t fg = vga_attr_rgb(s, attr & 15), bg = vga_attr_rgb(s, bgc);
            bool is_cursor = cursor_on && r * row_off + c == cursor;

            for (int l = 0; l < ch; l++) {
                uint32_t *d = s->fb + (size_t)(r * ch + l) * s->fb_width + c * cw;
                uint8_t bits = vram_byte(s, (uint64_t)(font + l) * 4 + 2);
                /* The 9th dot repeats the 8th for line-graphics characters C0h-DFh (AR10 bit 2). */
                bool ninth = cw == 9 && (s->ar[0x10] & 0x04) && chr >= 0xc0 && chr <= 0xdf &&
                             (bits & 1);

                if (is_cursor && l >= cur_start && l <= cur_end) {
                    bits = 0xff;
                    ninth = cw == 9;
                }
                for (int x = 0; x < 8; x++) {
                    d[x] = (bits & (0x80 >> x)) ? fg : bg;
                }
                if (cw == 9) {
                    d[8] = ninth ? fg : bg;
                }
            }
        }
    }
    *y0 = 0;
    *y1 = s->fb_height;
}

/* ------------------------------------------------------------ graphics */

/* Render one output line of a legacy graphics mode from VRAM offset base. */
static void vga_draw_line_legacy(VGACommonState *s, uint32_t *d, uint64_t base)
{
    if (s->gr[5] & 0x40) {
        /* 256 colours: chain-4 puts pixel x at byte x. */
        for (int x = 0; x < s->fb_width; x++) {
            d[x] = vga_dac_rgb(s, vram_byte(s, base + x));
        }
        return;
    }
    for (int x = 0; x < s->fb_width; x++) {
        uint64_t off = base + (uint64_t)(x >> 3) * 4;
        int bit = 7 - (x & 7);
        uint8_t c = 0;

        for (int p = 0; p < 4; p++) {
            c |= ((vram_byte(s, off + p) >> bit) & 1) << p;
        }
        d[x] = vga_attr_rgb(s, c & s->ar[0x12]);        /* AR12 colour plane enable */
    }
}

static void vga_draw_line_dispi(VGACommonState *s, uint32_t *d, uint64_t base)
{
    uint16_t bpp = s->vbe_regs[VBE_DISPI_INDEX_BPP];

    for (int x = 0; x < s->fb_width; x++) {
        uint32_t v;

        switch (bpp) {
        case 4: {
            uint8_t b = vram_byte(s, base + x / 2);
            d[x] = vga_dac_rgb(s, (x & 1) ? b & 15 : b >> 4);
            continue;
        }
        case 8:
            d[x] = vga_dac_rgb(s, vram_byte(s, base + x));
            continue;
        case 15:
            v = vram_byte(s, base + x * 2) | vram_byte(s, base + x * 2 + 1) << 8;
            d[x] = ((v >> 10) & 31) << 19 | ((v >> 5) & 31) << 11 | (v & 31) << 3;
            continue;
        case 16:
            v = vram_byte(s, base + x * 2) | vram_byte(s, base + x * 2 + 1) << 8;
            d[x] = ((v >> 11) & 31) << 19 | ((v >> 5) & 63) << 10 | (v & 31) << 3;
            continue;
        case 24:
            d[x] = vram_byte(s, base + x * 3) | vram_byte(s, base + x * 3 + 1) << 8 |
                   (uint32_t)vram_byte(s, base + x * 3 + 2) << 16;
            continue;
        default:
            d[x] = (vram_byte(s, base + x * 4) | vram_byte(s, base + x * 4 + 1) << 8 |
                    (uint32_t)vram_byte(s, base + x * 4 + 2) << 16);
            continue;
        }
    }
}

static void vga_render_graphics(VGACommonState *s, int *y0, int *y1)
{
    bool dispi = vga_dispi_on(s);
    uint64_t start, line;

    if (dispi) {
        start = s->vbe_start_addr;
        line = s->vbe_line_offset;
    } else {
        /* CR0C/CR0D and CR13 count 4-plane units: 4 VRAM bytes each, 8 per offset unit. */
        start = (uint64_t)(s->cr[0x0c] << 8 | s->cr[0x0d]) * 4;
        line = (uint64_t)s->cr[0x13] * 8;
    }
    for (int y = 0; y < s->fb_height; y++) {
        uint64_t base = start + y * line;
        uint64_t len = dispi ? line : (s->gr[5] & 0x40) ? s->fb_width : s->fb_width / 2;

        if (!s->full_update) {
            if (base >= s->vram_size) {
                continue;
            }
            len = MIN(MAX(len, 1), s->vram_size - base);
            if (!vram_dirty(s, base, len)) {
                continue;
            }
        }
        if (dispi) {
            vga_draw_line_dispi(s, s->fb + (size_t)y * s->fb_width, base);
        } else {
            vga_draw_line_legacy(s, s->fb + (size_t)y * s->fb_width, base);
        }
        if (*y0 < 0) {
            *y0 = y;
        }
        *y1 = y + 1;
    }
}

void vga_render(VGACommonState *s, int *y0, int *y1)
{
    *y0 = -1;
    *y1 = -1;
    if (vga_crtc_unprogrammed(s)) {
        if (s->full_update) {
            memset(s->fb, 0, (size_t)s->fb_width * s->fb_height * 4);
            *y0 = 0;
            *y1 = s->fb_height;
        }
    } else if (vga_dispi_on(s) || (s->gr[6] & 1)) {
        vga_render_graphics(s, y0, y1);
    } else {
        vga_render_text(s, y0, y1);
    }
}

bool vga_update_display(VGACommonState *s, int *x, int *y, int *w, int *h, bool *resized)
{
    int width, height, y0, y1;

    vga_render_geometry(s, &width, &height);
    *resized = false;
    if (width != s->fb_width || height != s->fb_height || !s->fb) {
        /*
         * The console's surface borrows the buffer it was last given (fb_old once a resize
         * is pending): keep that one until the console switches, free any other.
         */
        if (!s->con || s->fb_old) {
            g_free(s->fb);
        } else {
            s->fb_old = s->fb;
        }
        s->surface_pending = true;
        s->fb = g_new0(uint32_t, (size_t)width * height);
        s->fb_width = width;
        s->fb_height = height;
        s->full_update = true;
        *resized = true;
    }
    /*
     * Take the dirty bits before reading VRAM: the vCPU keeps storing while we render, and
     * clearing afterwards would drop the stores that land in between (a line half drawn
     * would stay half drawn on screen until the guest writes that page again).
     */
    memory_region_sync_dirty_bitmap(&s->vram);
    s->dirty_snap = memory_region_snapshot_and_clear_dirty(&s->vram, 0, s->vram_size,
                                                           DIRTY_MEMORY_VGA);
    vga_render(s, &y0, &y1);
    g_free(s->dirty_snap);
    s->dirty_snap = NULL;
    s->full_update = false;
    if (y0 < 0) {
        return false;
    }
    *x = 0;
    *y = y0;
    *w = s->fb_width;
    *h = y1 - y0;
    return true;
}

bool vga_write_ppm(VGACommonState *s, const char *path, Error **errp)
{
    int x, y, w, h;
    bool resized;
    FILE *f;

    s->full_update = true;
    vga_update_display(s, &x, &y, &w, &h, &resized);
    f = fopen(path, "wb");
    if (!f) {
        error_setg(errp, "cannot create '%s': %s", path, strerror(errno));
        return false;
    }
    fprintf(f, "P6\n%d %d\n255\n", s->fb_width, s->fb_height);
    for (size_t i = 0; i < (size_t)s->fb_width * s->fb_height; i++) {
        uint8_t rgb[3] = { s->fb[i] >> 16, s->fb[i] >> 8, s->fb[i] };

        fwrite(rgb, 1, 3, f);
    }
    if (fclose(f) != 0) {
        error_setg(errp, "cannot write '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

static void vga_console_invalidate(void *opaque)
{
    VGACommonState *s = opaque;

    s->full_update = true;
}

static void vga_console_gfx_update(void *opaque)
{
    VGACommonState *s = opaque;
    int x, y, w, h;
    bool resized;
    bool changed = vga_update_display(s, &x, &y, &w, &h, &resized);

    (void)resized;                  /* surface_pending also covers resizes by screen dumps */
    if (s->surface_pending) {
        DisplaySurface *surf = qemu_create_displaysurface_from(s->fb_width, s->fb_height,
                                                               s->fb_width * 4,
                                                               (uint8_t *)s->fb);

        if (surf) {
            dpy_gfx_replace_surface(s->con, surf);
            g_free(s->fb_old);
            s->fb_old = NULL;
            s->surface_pending = false;
        }
    }
    if (changed) {
        dpy_gfx_update(s->con, x, y, w, h);
    }
}

static const GraphicHwOps vga_console_ops = {
    .invalidate = vga_console_invalidate,
    .gfx_update = vga_console_gfx_update,
};

void vga_console_init(VGACommonState *s, DeviceState *dev)
{
    s->con = graphic_console_init(dev, &vga_console_ops, s);
}
