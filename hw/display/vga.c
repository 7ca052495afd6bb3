/*
 * Legacy VGA registers, the 0xa0000 memory window and the Bochs VBE DISPI interface.
 *
 * References: IBM VGA Technical Reference (Personal System/2 Display Adapter, 1987 / the
 * "VGA XGA Technical Reference" chapters "Sequencer", "CRT Controller", "Graphics
 * Controller", "Attribute Controller", "Video DAC", "Programming Considerations" for the
 * memory read/write modes); FreeVGA's register descriptions; Bochs' vbe.h / QEMU's
 * hw/display/vga.c for the DISPI register set, their defaults and the VRAM layout that
 * SeaBIOS's vgabios-stdvga.bin and Linux's bochs-drm expect.
 *
 * Emulated: all VGA register files, DAC read/write with 6- and 8-bit colour, input status
 * retrace bits, the memory map select (GR06 bits 2-3), chain-4, odd/even, read modes 0/1,
 * write modes 0-3 with rotate, set/reset, logical function and bit mask, the map mask; DISPI
 * ids B0C0h-B0C5h, resolution/bpp/enable/bank/virtual size/offsets, get-caps, 8-bit DAC,
 * no-clear-memory.  Not emulated: the CGA shift-register modes (mode 4/5), split screen (line
 * compare), horizontal pel panning, light pen.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/display/vga.h"
#include "kite/log.h"
#include "ui/console.h"

/* Sequencer memory mode (SR04), GR05, GR06 bits. */
#define SR04_ODD_EVEN_DISABLE   0x04
#define SR04_CHAIN4             0x08
#define GR05_READ_MODE1         0x08
#define GR05_HOST_ODD_EVEN      0x10
#define MISC_COLOR_IO           0x01    /* CRTC at 0x3d4, status at 0x3da (else 0x3b4/0x3ba) */

/* ------------------------------------------------------------- ports */

/* 0x3b4/0x3b5/0x3ba answer only in monochrome I/O mode, 0x3d4/0x3d5/0x3da only in colour. */
static bool vga_port_unmapped(VGACommonState *s, uint32_t port)
{
    bool color = s->misc_output & MISC_COLOR_IO;

    if (port >= 0x3b0 && port <= 0x3bf) {
        return color;
    }
    if (port >= 0x3d0 && port <= 0x3df) {
        return !color;
    }
    return false;
}

uint64_t vga_ioport_read(VGACommonState *s, uint32_t port)
{
    uint8_t v;

    if (vga_port_unmapped(s, port)) {
        return 0xff;
    }
    switch (port) {
    case 0x3c0:
        /* Reading 0x3c0 returns the index (with the palette-address-source bit). */
        return s->ar_index;
    case 0x3c1:
        return s->ar[s->ar_index & 0x1f];
    case 0x3c2:
        return 0x00;                        /* input status 0: no switch sense, no IRQ */
    case 0x3c4:
        return s->sr_index;
    case 0x3c5:
        return s->sr[s->sr_index & 7];
    case 0x3c6:
        return s->pel_mask;
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write_index;
    case 0x3c9:
        /* Three reads (R, G, B) per entry, then the read index advances (VGA TR "DAC"). */
        v = s->palette[s->dac_read_index * 3 + s->dac_sub_index];
        if (++s->dac_sub_index == 3) {
            s->dac_sub_index = 0;
            s->dac_read_index++;
        }
        return v;
    case 0x3ca:
        return s->feature_ctrl;
    case 0x3cc:
        return s->misc_output;
    case 0x3ce:
        return s->gr_index;
    case 0x3cf:
        return s->gr[s->gr_index & 15];
    case 0x3b4:
    case 0x3d4:
        return s->cr_index;
    case 0x3b5:
    case 0x3d5:
        return s->cr[s->cr_index];
    case 0x3ba:
    case 0x3da:
        /*
         * Input status 1: reading it resets the attribute flip-flop to "index".  Bits 0
         * (display disabled) and 3 (vertical retrace) toggle so BIOS wait loops finish.
         */
        s->ar_flip_flop = false;
        s->st01_toggle ^= 0x09;
        return s->st01_toggle;
    default:
        return 0xff;
    }
}

static void vga_dac_write(VGACommonState *s, uint8_t val)
{
    s->dac_cache[s->dac_sub_index] = val;
    if (++s->dac_sub_index == 3) {
        memcpy(&s->palette[s->dac_write_index * 3], s->dac_cache, 3);
        s->dac_sub_index = 0;
        s->dac_write_index++;
        s->full_update = true;
    }
}

void vga_ioport_write(VGACommonState *s, uint32_t port, uint32_t val)
{
    val &= 0xff;
    if (vga_port_unmapped(s, port)) {
        return;
    }
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip_flop) {
            s->ar_index = val & 0x3f;
        } else {
            uint8_t idx = s->ar_index & 0x1f;

            /* Masks: palette entries are 6 bits; 0x11-0x14 as documented. */
            if (idx < 0x10) {
                s->ar[idx] = val & 0x3f;
            } else if (idx == 0x11) {
                s->ar[idx] = val;
            } else if (idx == 0x12) {
                s->ar[idx] = val & 0x3f;
            } else if (idx == 0x13) {
                s->ar[idx] = val & 0x0f;
            } else if (idx == 0x14) {
                s->ar[idx] = val & 0x0f;
            } else if (idx == 0x10) {
                s->ar[idx] = val & ~0x10;
            }
            s->full_update = true;
        }
        s->ar_flip_flop = !s->ar_flip_flop;
        break;
    case 0x3c2:
        s->misc_output = val & ~0x10;
        s->full_update = true;
        break;
    case 0x3c4:
        s->sr_index = val & 7;
        break;
    case 0x3c5:
        s->sr[s->sr_index & 7] = val;
        s->full_update = true;
        break;
    case 0x3c6:
        s->pel_mask = val;
        s->full_update = true;
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 0;
        break;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 3;
        break;
    case 0x3c9:
        vga_dac_write(s, val);
        break;
    case 0x3ce:
        s->gr_index = val & 15;
        break;
    case 0x3cf:
        s->gr[s->gr_index & 15] = val;
        s->full_update = true;
        break;
    case 0x3b4:
    case 0x3d4:
        s->cr_index = val;
        break;
    case 0x3b5:
    case 0x3d5:
        /* CR11 bit 7 write-protects CR00-CR07 except CR07 bit 4 (VGA TR "CRT Controller"). */
        if ((s->cr[0x11] & 0x80) && s->cr_index <= 7) {
            if (s->cr_index == 7) {
                s->cr[7] = (s->cr[7] & ~0x10) | (val & 0x10);
            }
            return;
        }
        s->cr[s->cr_index] = val;
        s->full_update = true;
        break;
    case 0x3ba:
    case 0x3da:
        s->feature_ctrl = val & 0x10;
        break;
    default:
        break;
    }
}

static uint64_t vga_legacy_io_read(void *opaque, hwaddr addr, unsigned size)
{
    return vga_ioport_read(opaque, 0x3b0 + addr);
}

static void vga_legacy_io_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    vga_ioport_write(opaque, 0x3b0 + addr, val);
}

/* outw 0x3c4/0x3ce/0x3d4 sets index and data at once: split into two byte writes. */
static const MemoryRegionOps vga_legacy_io_ops = {
    .read = vga_legacy_io_read, .write = vga_legacy_io_write,
    .valid = { 1, 2, true }, .impl = { 1, 1 },
};

/* ------------------------------------------------------------- DISPI */

static uint32_t vbe_bytes_per_pixel(VGACommonState *s)
{
    uint16_t bpp = s->vbe_regs[VBE_DISPI_INDEX_BPP];

    return bpp == 15 ? 2 : (bpp + 7) / 8;
}

/*
 * Derive line length and start address from the virtual width and the offsets, clamping
 * everything so the visible screen always lies inside VRAM whatever the guest wrote.
 */
static void vbe_update_geometry(VGACommonState *s)
{
    uint16_t *r = s->vbe_regs;
    uint32_t bypp = vbe_bytes_per_pixel(s);
    uint32_t line, max_lines;

    if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES]) {
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
    }
    if (r[VBE_DISPI_INDEX_BPP] == 4) {
        line = r[VBE_DISPI_INDEX_VIRT_WIDTH] / 2;
    } else {
        line = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bypp;
    }
    if (line == 0 || (uint64_t)line * r[VBE_DISPI_INDEX_YRES] > s->vram_size) {
        /* Impossible mode: fall back to the largest width that fits. */
        line = line ? line : 1;
    }
    max_lines = s->vram_size / line;
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = MIN(max_lines, 0xffff);
    s->vbe_line_offset = line;
    s->vbe_start_addr = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * line +
                        (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bypp;
    if (s->vbe_start_addr >= s->vram_size) {
        s->vbe_start_addr = 0;
    }
    s->full_update = true;
}

uint16_t vga_vbe_read(VGACommonState *s, uint16_t index)
{
    uint16_t *r = s->vbe_regs;

    if (index >= VBE_DISPI_INDEX_NB) {
        return 0;
    }
    if (r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
        /* With GETCAPS set, XRES/YRES/BPP read back the maxima (Bochs vbe.c). */
        switch (index) {
        case VBE_DISPI_INDEX_XRES:
            return VBE_DISPI_MAX_XRES;
        case VBE_DISPI_INDEX_YRES:
            return VBE_DISPI_MAX_YRES;
        case VBE_DISPI_INDEX_BPP:
            return VBE_DISPI_MAX_BPP;
        }
    }
    if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K) {
        return s->vram_size >> 16;
    }
    return r[index];
}

static void vbe_enable(VGACommonState *s, uint16_t val)
{
    uint16_t *r = s->vbe_regs;

    if (!(val & VBE_DISPI_ENABLED)) {
        r[VBE_DISPI_INDEX_ENABLE] = val;
        s->full_update = true;
        return;
    }
    if (r[VBE_DISPI_INDEX_XRES] == 0 || r[VBE_DISPI_INDEX_YRES] == 0 ||
        r[VBE_DISPI_INDEX_XRES] > VBE_DISPI_MAX_XRES ||
        r[VBE_DISPI_INDEX_YRES] > VBE_DISPI_MAX_YRES) {
        kite_log_mask(LOG_GUEST_ERROR, "vga: DISPI enable with bad mode %ux%u",
                      r[VBE_DISPI_INDEX_XRES], r[VBE_DISPI_INDEX_YRES]);
        return;
    }
    if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)) {
        /* A mode set resets the virtual screen to the visible one and the offsets to 0. */
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
        r[VBE_DISPI_INDEX_X_OFFSET] = 0;
        r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
        r[VBE_DISPI_INDEX_BANK] = 0;
    }
    r[VBE_DISPI_INDEX_ENABLE] = val;
    vbe_update_geometry(s);
    if (!(val & VBE_DISPI_NOCLEARMEM)) {
        uint64_t len = (uint64_t)s->vbe_line_offset * r[VBE_DISPI_INDEX_YRES];

        len = MIN(len, s->vram_size);
        memset(s->vram_ptr, 0, len);
        memory_region_set_dirty(&s->vram, 0, len);
    }
    /*
     * Put the legacy registers into a graphics, chain-4 state (as the Bochs BIOS does) so
     * window accesses through the 64K bank reach VRAM linearly.
     */
    s->gr[6] = (s->gr[6] & ~0x0c) | 0x05;   /* graphics, memory map A0000h 64K */
    s->sr[4] |= SR04_CHAIN4 | SR04_ODD_EVEN_DISABLE;
    s->sr[2] = 0x0f;
}

void vga_vbe_write(VGACommonState *s, uint16_t index, uint16_t val)
{
    uint16_t *r = s->vbe_regs;

    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
        r[index] = val;
        break;
    case VBE_DISPI_INDEX_BPP:
        if (val == 0) {
            val = 8;
        }
        if (val == 4 || val == 8 || val == 15 || val == 16 || val == 24 || val == 32) {
            r[index] = val;
        } else {
            kite_log_mask(LOG_GUEST_ERROR, "vga: DISPI bpp %u not supported", val);
        }
        break;
    case VBE_DISPI_INDEX_ENABLE:
        vbe_enable(s, val);
        break;
    case VBE_DISPI_INDEX_BANK:
        /* Banks are 64 KiB; ignore banks beyond VRAM. */
        if ((uint32_t)val << 16 < s->vram_size) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = val;
        if (r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) {
            vbe_update_geometry(s);
        }
        break;
    default:
        break;
    }
}

static uint64_t vga_vbe_io_read(void *opaque, hwaddr addr, unsigned size)
{
    VGACommonState *s = opaque;

    return addr == 0 ? s->vbe_index : vga_vbe_read(s, s->vbe_index);

}

static void vga_vbe_io_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VGACommonState *s = opaque;

    if (addr == 0) {
        s->vbe_index = val;
    } else {
        vga_vbe_write(s, s->vbe_index, val);
    }
}

/*
 * The index register is at 0x1ce and data at 0x1cf, both 16 bits wide (Bochs vbe.h), so a
 * word access at the odd port must reach the handler whole: the region spans 0x1ce-0x1d0
 * and takes unaligned accesses as they come.
 */
static const MemoryRegionOps vga_vbe_io_ops = {
    .read = vga_vbe_io_read, .write = vga_vbe_io_write,
    .valid = { 1, 2, true }, .impl = { 1, 2, true },
};

/* ------------------------------------------------------ memory window */

/* Map a window offset to a VRAM planar offset; false if GR06 does not decode it. */
static bool vga_window_offset(VGACommonState *s, hwaddr addr, uint32_t *off)
{
    switch ((s->gr[6] >> 2) & 3) {
    case 0:                                 /* A0000h-BFFFFh, 128K */
        break;
    case 1:                                 /* A0000h-AFFFFh, 64K (+ the DISPI bank) */
        if (addr >= 0x10000) {
            return false;
        }
        addr += (uint32_t)s->vbe_regs[VBE_DISPI_INDEX_BANK] << 16;
        break;
    case 2:                                 /* B0000h-B7FFFh, monochrome text */
        if (addr < 0x10000 || addr >= 0x18000) {
            return false;
        }
        addr -= 0x10000;
        break;
    case 3:                                 /* B8000h-BFFFFh, colour text */
        if (addr < 0x18000) {
            return false;
        }
        addr -= 0x18000;
        break;
    }
    *off = addr;
    return true;
}

uint8_t vga_mem_readb(VGACommonState *s, hwaddr addr)
{
    uint32_t off, plane;

    if (!vga_window_offset(s, addr, &off)) {
        return 0xff;
    }
    if (s->sr[4] & SR04_CHAIN4) {
        /* Chain-4: address bits 0-1 pick the plane, so VRAM reads as a byte array. */
        return off < s->vram_size ? s->vram_ptr[off] : 0xff;
    }
    if (s->gr[5] & GR05_HOST_ODD_EVEN) {
        /* Odd/even: A0 picks plane 0/1 (or 2/3 with GR04 bit 1). */
        plane = (s->gr[4] & 2) | (off & 1);
        off = ((off & ~1u) << 1) | plane;
        return off < s->vram_size ? s->vram_ptr[off] : 0xff;
    }
    if ((uint64_t)off * 4 + 3 >= s->vram_size) {
        return 0xff;
    }
    /* A planar read loads all four latches (VGA TR "Graphics Controller", read modes). */
    memcpy(s->latch, &s->vram_ptr[off * 4], 4);
    if (!(s->gr[5] & GR05_READ_MODE1)) {
        return s->latch[s->gr[4] & 3];
    }
    /* Read mode 1: 1 where every "care" plane matches the colour compare register. */
    {
        uint8_t diff = 0;

        for (int p = 0; p < 4; p++) {
            if (s->gr[7] & (1 << p)) {
                uint8_t want = (s->gr[2] & (1 << p)) ? 0xff : 0x00;
                diff |= s->latch[p] ^ want;
            }
        }
        return ~diff;
    }
}

static uint8_t vga_alu(VGACommonState *s, uint8_t v, uint8_t latch)
{
    switch ((s->gr[3] >> 3) & 3) {
    case 1:
        return v & latch;
    case 2:
        return v | latch;
    case 3:
        return v ^ latch;
    default:
        return v;
    }
}

void vga_mem_writeb(VGACommonState *s, hwaddr addr, uint8_t val)
{
    uint32_t off, plane;
    uint8_t mask = s->sr[2] & 0x0f, rot, bitmask, out[4];

    if (!vga_window_offset(s, addr, &off)) {
        return;
    }
    if (s->sr[4] & SR04_CHAIN4) {
        plane = off & 3;
        if ((mask & (1 << plane)) && off < s->vram_size) {
            s->vram_ptr[off] = val;
            memory_region_set_dirty(&s->vram, off, 1);
        }
        return;
    }
    if (!(s->sr[4] & SR04_ODD_EVEN_DISABLE)) {
        plane = (s->gr[4] & 2) | (off & 1);
        if (mask & (1 << plane)) {
            off = ((off & ~1u) << 1) | plane;
            if (off < s->vram_size) {
                s->vram_ptr[off] = val;
                memory_region_set_dirty(&s->vram, off, 1);
            }
        }
        return;
    }
    if ((uint64_t)off * 4 + 3 >= s->vram_size) {
        return;
    }
    /* Planar write modes (VGA TR "Graphics Controller", GR05 bits 0-1). */
    rot = s->gr[3] & 7;
    bitmask = s->gr[8];
    switch (s->gr[5] & 3) {
    case 0:
        val = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
        for (int p = 0; p < 4; p++) {
            uint8_t v = val;

            if (s->gr[1] & (1 << p)) {
                v = (s->gr[0] & (1 << p)) ? 0xff : 0x00;
            }
            v = vga_alu(s, v, s->latch[p]);
            out[p] = (v & bitmask) | (s->latch[p] & ~bitmask);
        }
        break;
    case 1:
        /* The latches go out unchanged (screen-to-screen copies). */
        memcpy(out, s->latch, 4);
        break;
    case 2:
        for (int p = 0; p < 4; p++) {
            uint8_t v = vga_alu(s, (val & (1 << p)) ? 0xff : 0x00, s->latch[p]);

            out[p] = (v & bitmask) | (s->latch[p] & ~bitmask);
        }
        break;
    default:
        /* Mode 3: the rotated byte ANDed with the bit mask is the mask; set/reset the colour. */
        val = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
        bitmask &= val;
        for (int p = 0; p < 4; p++) {
            uint8_t v = vga_alu(s, (s->gr[0] & (1 << p)) ? 0xff : 0x00, s->latch[p]);

            out[p] = (v & bitmask) | (s->latch[p] & ~bitmask);
        }
        break;
    }
    for (int p = 0; p < 4; p++) {
        if (mask & (1 << p)) {
            s->vram_ptr[off * 4 + p] = out[p];
        }
    }
    memory_region_set_dirty(&s->vram, off * 4, 4);
}

static uint64_t vga_window_read(void *opaque, hwaddr addr, unsigned size)
{
    return vga_mem_readb(opaque, addr);
}

static void vga_window_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    vga_mem_writeb(opaque, addr, val);
}

/* Wider accesses become consecutive byte accesses, as on the 8-bit-per-plane hardware. */
static const MemoryRegionOps vga_window_ops = {
    .read = vga_window_read, .write = vga_window_write,
    .valid = { 1, 8, true }, .impl = { 1, 1 },
};

/* --------------------------------------------------------- lifecycle */

bool vga_common_init(VGACommonState *s, Object *owner, uint32_t vram_mb, Error **errp)
{
    if (vram_mb < 1 || vram_mb > 256 || (vram_mb & (vram_mb - 1))) {
        error_setg(errp, "vgamem_mb must be a power of 2 from 1 to 256 (got %u)", vram_mb);
        return false;
    }
    s->owner = owner;
    s->vram_size = vram_mb * MiB;
    if (!memory_region_init_ram(&s->vram, owner, "vga.vram", s->vram_size, errp)) {
        return false;
    }
    s->vram_ptr = memory_region_get_ram_ptr(&s->vram);
    /* The renderer redraws only pages written since the last frame. */
    memory_region_set_log(&s->vram, true, DIRTY_MEMORY_VGA);
    memory_region_init_io(&s->legacy_io, owner, &vga_legacy_io_ops, s, "vga", 0x30);
    memory_region_init_io(&s->vbe_io, owner, &vga_vbe_io_ops, s, "vbe", 3);
    memory_region_init_io(&s->window, owner, &vga_window_ops, s, "vga-lowmem", 0x20000);
    return true;
}

void vga_common_destroy(VGACommonState *s)
{
    if (s->con) {
        graphic_console_close(s->con);
        s->con = NULL;
    }
    memory_region_destroy(&s->legacy_io);
    memory_region_destroy(&s->vbe_io);
    memory_region_destroy(&s->window);
    memory_region_destroy(&s->vram);
    g_free(s->fb);
    g_free(s->fb_old);
    s->fb = s->fb_old = NULL;
    s->fb_width = s->fb_height = 0;
}

static void vga_apply_boot_mode(VGACommonState *s);

/*
 * Power-on: the registers of BIOS mode 3 are what a VGA BIOS programs, not the reset state;
 * a real card powers up with them undefined.  Kite leaves them zero except those that keep
 * the window decoding, as QEMU does, and DISPI disabled.
 */
void vga_common_reset(VGACommonState *s)
{
    s->misc_output = MISC_COLOR_IO;
    s->feature_ctrl = 0;
    s->sr_index = s->gr_index = s->cr_index = s->ar_index = 0;
    memset(s->sr, 0, sizeof(s->sr));
    memset(s->gr, 0, sizeof(s->gr));
    memset(s->cr, 0, sizeof(s->cr));
    memset(s->ar, 0, sizeof(s->ar));
    s->ar_flip_flop = false;
    s->dac_state = 0;
    s->dac_read_index = s->dac_write_index = s->dac_sub_index = 0;
    s->pel_mask = 0xff;
    memset(s->palette, 0, sizeof(s->palette));
    memset(s->latch, 0, sizeof(s->latch));
    s->st01_toggle = 0;
    s->vbe_index = 0;
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
    s->vbe_line_offset = 0;
    s->vbe_start_addr = 0;
    s->full_update = true;
    if (s->boot_xres) {
        vga_apply_boot_mode(s);
    }
}

void vga_common_post_load(VGACommonState *s)
{
    s->sr_index &= 7;
    s->gr_index &= 15;
    s->ar_index &= 0x3f;
    s->dac_sub_index %= 3;
    if (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) {
        vbe_update_geometry(s);
    }
    if ((uint32_t)s->vbe_regs[VBE_DISPI_INDEX_BANK] << 16 >= s->vram_size) {
        s->vbe_regs[VBE_DISPI_INDEX_BANK] = 0;
    }
    s->full_update = true;
}

static void vga_apply_boot_mode(VGACommonState *s)
{
    vga_vbe_write(s, VBE_DISPI_INDEX_ENABLE, 0);
    vga_vbe_write(s, VBE_DISPI_INDEX_XRES, s->boot_xres);
    vga_vbe_write(s, VBE_DISPI_INDEX_YRES, s->boot_yres);
    vga_vbe_write(s, VBE_DISPI_INDEX_BPP, 32);
    vga_vbe_write(s, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
}

/* struct screen_info offsets (include/uapi/linux/screen_info.h). */
#define SI_ORIG_VIDEO_ISVGA 0x0f
#define SI_LFB_WIDTH        0x12
#define SI_LFB_HEIGHT       0x14
#define SI_LFB_DEPTH        0x16
#define SI_LFB_BASE         0x18
#define SI_LFB_SIZE         0x1c
#define SI_LFB_LINELENGTH   0x24
#define SI_RED_SIZE         0x26        /* then red_pos, green, blue, rsvd size/pos */
#define SI_PAGES            0x32
#define SI_CAPABILITIES     0x36
#define SI_EXT_LFB_BASE     0x3a
#define VIDEO_TYPE_VLFB     0x23        /* VESA VGA in graphic mode */
#define VIDEO_CAPABILITY_64BIT_BASE 0x02

void vga_set_boot_mode(VGACommonState *s, uint16_t xres, uint16_t yres, uint64_t lfb_addr,
                       uint8_t *si)
{
    static const uint8_t xrgb8888[8] = { 8, 16, 8, 8, 8, 0, 8, 24 };

    /* Fit the mode into VRAM; fall back to 640x480 (fits even 2 MiB). */
    if (!xres || !yres || xres > VBE_DISPI_MAX_XRES || yres > VBE_DISPI_MAX_YRES ||
        (uint64_t)xres * yres * 4 > s->vram_size) {
        xres = 640;
        yres = 480;
    }
    s->boot_xres = xres;
    s->boot_yres = yres;
    vga_apply_boot_mode(s);

    memset(si, 0, 0x40);
    si[SI_ORIG_VIDEO_ISVGA] = VIDEO_TYPE_VLFB;
    stw_le_p(si + SI_LFB_WIDTH, xres);
    stw_le_p(si + SI_LFB_HEIGHT, yres);
    stw_le_p(si + SI_LFB_DEPTH, 32);
    stl_le_p(si + SI_LFB_BASE, (uint32_t)lfb_addr);
    stl_le_p(si + SI_LFB_SIZE, s->vram_size >> 16);     /* 64 KiB units for VESA */
    stw_le_p(si + SI_LFB_LINELENGTH, s->vbe_line_offset);
    memcpy(si + SI_RED_SIZE, xrgb8888, sizeof(xrgb8888));
    stw_le_p(si + SI_PAGES, 1);
    if (lfb_addr >> 32) {
        stl_le_p(si + SI_CAPABILITIES, VIDEO_CAPABILITY_64BIT_BASE);
        stl_le_p(si + SI_EXT_LFB_BASE, lfb_addr >> 32);
    }
}

bool vga_get_linear_mode(VGACommonState *s, int *width, int *height, int *bpp, int *stride)
{
    uint16_t *r = s->vbe_regs;

    if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)) {
        return false;
    }
    *width = r[VBE_DISPI_INDEX_XRES];
    *height = r[VBE_DISPI_INDEX_YRES];
    *bpp = r[VBE_DISPI_INDEX_BPP];
    *stride = s->vbe_line_offset;
    return true;
}

const VMStateDescription vmstate_vga_common = {
    .name = "vga", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(misc_output, VGACommonState),
        VMSTATE_UINT8(feature_ctrl, VGACommonState),
        VMSTATE_UINT8(sr_index, VGACommonState),
        VMSTATE_UINT8_ARRAY(sr, VGACommonState, 8),
        VMSTATE_UINT8(gr_index, VGACommonState),
        VMSTATE_UINT8_ARRAY(gr, VGACommonState, 16),
        VMSTATE_UINT8(cr_index, VGACommonState),
        VMSTATE_UINT8_ARRAY(cr, VGACommonState, 256),
        VMSTATE_UINT8(ar_index, VGACommonState),
        VMSTATE_UINT8_ARRAY(ar, VGACommonState, 32),
        VMSTATE_BOOL(ar_flip_flop, VGACommonState),
        VMSTATE_UINT8(dac_state, VGACommonState),
        VMSTATE_UINT8(dac_read_index, VGACommonState),
        VMSTATE_UINT8(dac_write_index, VGACommonState),
        VMSTATE_UINT8(dac_sub_index, VGACommonState),
        VMSTATE_UINT8_ARRAY(dac_cache, VGACommonState, 3),
        VMSTATE_UINT8(pel_mask, VGACommonState),
        VMSTATE_UINT8_ARRAY(palette, VGACommonState, 768),
        VMSTATE_UINT8_ARRAY(latch, VGACommonState, 4),
        VMSTATE_UINT16(vbe_index, VGACommonState),
        VMSTATE_UINT16_ARRAY(vbe_regs, VGACommonState, VBE_DISPI_INDEX_NB),
        VMSTATE_END_OF_LIST()
    },
};
