/*
 * vga: draw a known pattern on the VGA without any BIOS help and stop, so the emulator's
 * screen dump can be compared with the pattern (tests/guest/vga_check.py computes the same
 * pattern).  append "mode=text|13h|lfb" picks the screen:
 *   text  BIOS mode 3 registers, a synthetic font loaded into plane 2, every cell filled
 *   13h   mode 13h registers (chain-4, 320x200x256), a 256-entry DAC ramp, a pixel ramp
 *   lfb   Bochs DISPI 1024x768x32 and the linear framebuffer (lfb=ADDR, default 0xe0000000)
 * Register values are the standard BIOS mode tables (IBM VGA Technical Reference).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

typedef struct Mode {
    uint8_t misc, seq[4], crtc[25], gc[9], attr[21];
} Mode;

static const Mode mode3 = {
    0x67, { 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00,
      0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    /* Attribute palette identity, AR10 04h: line graphics on, blink off. */
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
      0x0f, 0x04, 0x00, 0x0f, 0x08, 0x00 },
};

static const Mode mode13 = {
    0x63, { 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
      0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

static void set_mode(const Mode *m)
{
    outb(0x3c2, m->misc);
    for (int i = 0; i < 4; i++) {
        outw(0x3c4, (m->seq[i] << 8) | (i + 1));
    }
    outw(0x3d4, 0x0011);                    /* unlock CR00-CR07 */
    for (int i = 0; i < 25; i++) {
        outw(0x3d4, (m->crtc[i] << 8) | i);
    }
    for (int i = 0; i < 9; i++) {
        outw(0x3ce, (m->gc[i] << 8) | i);
    }
    inb(0x3da);                             /* attribute flip-flop to index */
    for (int i = 0; i < 21; i++) {
        outb(0x3c0, i);
        outb(0x3c0, m->attr[i]);
    }
    outb(0x3c0, 0x20);                      /* video on */
}

static void set_dac(uint8_t i, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3c8, i);
    outb(0x3c9, r);
    outb(0x3c9, g);
    outb(0x3c9, b);
}

/* The pattern; vga_check.py has the same functions. */
static uint8_t glyph_row(unsigned c, unsigned l)
{
    return (c * 7 + l * 29 + 1) & 0xff;
}

static uint8_t cell_attr(unsigned i)
{
    return (i * 13 + i / 80) & 0x7f;
}

static void draw_text(void)
{
    volatile uint8_t *win = phys_ptr(0xa0000), *txt = phys_ptr(0xb8000);

    set_mode(&mode3);
    /* Font load: plane 2 only, sequential addressing, A0000h 64K (VGA TR "Sequencer"). */
    outw(0x3c4, 0x0402);
    outw(0x3c4, 0x0604);
    outw(0x3ce, 0x0204);
    outw(0x3ce, 0x0005);
    outw(0x3ce, 0x0406);
    for (unsigned c = 0; c < 256; c++) {
        for (unsigned l = 0; l < 32; l++) {
            win[c * 32 + l] = l < 16 ? glyph_row(c, l) : 0;
        }
    }
    CHECK_EQ(win[65 * 32 + 3], glyph_row(65, 3), "font byte reads back from plane 2");
    set_mode(&mode3);
    outw(0x3d4, 0x200a);                    /* cursor off */
    for (unsigned i = 0; i < 16; i++) {
        set_dac(i, i * 4, 63 - i * 4, (i * 7) & 63);
    }
    for (unsigned i = 0; i < 80 * 25; i++) {
        txt[i * 2] = i & 0xff;
        txt[i * 2 + 1] = cell_attr(i);
    }
    CHECK_EQ(txt[2 * 81 + 1], cell_attr(81), "attribute reads back through odd/even");
}

static void draw_13h(void)
{
    volatile uint8_t *win = phys_ptr(0xa0000);

    set_mode(&mode13);
    for (unsigned i = 0; i < 256; i++) {
        set_dac(i, i & 63, (i >> 2) & 63, (i * 5) & 63);
    }
    for (unsigned y = 0; y < 200; y++) {
        for (unsigned x = 0; x < 320; x++) {
            win[y * 320 + x] = (x + 2 * y) & 0xff;
        }
    }
    CHECK_EQ(win[199 * 320 + 319], (319 + 398) & 0xff, "chain-4 pixel reads back");
}

static void dispi(uint16_t idx, uint16_t v)
{
    outw(0x1ce, idx);
    outw(0x1cf, v);
}

static void draw_lfb(void)
{
    volatile uint32_t *fb = phys_ptr(cmdline_get_uint("lfb", 0xe0000000));
    uint16_t id;

    outw(0x1ce, 0);
    id = inw(0x1cf);
    CHECK(id >= 0xb0c0 && id <= 0xb0c5, "DISPI id register 0x%x", id);
    dispi(4, 0);                            /* disable */
    dispi(1, 1024);
    dispi(2, 768);
    dispi(3, 32);
    dispi(4, 0x41);                         /* enabled, LFB */
    outw(0x1ce, 6);
    CHECK_EQ(inw(0x1cf), 1024, "virtual width follows XRES");
    for (unsigned y = 0; y < 768; y++) {
        for (unsigned x = 0; x < 1024; x++) {
            fb[y * 1024 + x] = ((x * 3) & 255) << 16 | ((y * 5) & 255) << 8 | ((x ^ y) & 255);
        }
    }
}

void test_main(void)
{
    char mode[8] = "text";

    cmdline_get("mode", mode, sizeof(mode));
    if (!strcmp(mode, "text")) {
        draw_text();
    } else if (!strcmp(mode, "13h")) {
        draw_13h();
    } else if (!strcmp(mode, "lfb")) {
        draw_lfb();
    } else {
        test_fail("unknown mode=%s", mode);
    }
    printf("vga: drew the %s pattern\n", mode);
}
