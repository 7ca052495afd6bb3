/*
 * The VGA core through isa-vga's ports and memory window: register files, the planar
 * read/write modes, chain-4 and odd/even, the memory map select, the DAC, Bochs DISPI, and
 * the renderers (text mode with the font in plane 2, mode 12h, mode 13h, DISPI 32 bpp) with
 * their dirty tracking.  "VGA TR" is IBM's VGA Technical Reference; mode register values are
 * the standard BIOS mode tables.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "hw/display/vga-isa.h"
#include "ui/console.h"

static DeviceState *vga_dev;
static VGACommonState *vga;

static void memw(uint64_t addr, uint8_t v)
{
    address_space_store(&harness_mem_as, addr, v, 1);
}

static uint8_t memr(uint64_t addr)
{
    uint64_t v;

    address_space_load(&harness_mem_as, addr, &v, 1);
    return v;
}

static void memwl(uint64_t addr, uint32_t v)
{
    address_space_store(&harness_mem_as, addr, v, 4);
}

static void setup(void)
{
    if (vga_dev) {
        qdev_unrealize(vga_dev);
        object_unref(OBJECT(vga_dev));
    }
    vga_dev = qdev_new(TYPE_ISA_VGA);
    object_ref(OBJECT(vga_dev));
    qdev_realize_and_unref(vga_dev, &harness_isa->parent_obj, &error_abort);
    device_cold_reset(vga_dev);
    vga = isa_vga_common(vga_dev);
}

static void sr(uint8_t i, uint8_t v) { outb(0x3c4, i); outb(0x3c5, v); }
static void gr(uint8_t i, uint8_t v) { outb(0x3ce, i); outb(0x3cf, v); }
static void cr(uint8_t i, uint8_t v) { outb(0x3d4, i); outb(0x3d5, v); }

static void ar(uint8_t i, uint8_t v)
{
    inb(0x3da);                     /* flip-flop to "index" */
    outb(0x3c0, i);
    outb(0x3c0, v);
}

static void dac(uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3c8, idx);
    outb(0x3c9, r);
    outb(0x3c9, g);
    outb(0x3c9, b);
}

typedef struct Mode {
    uint8_t misc, seq[4], crtc[25], gc[9], attr[21];
} Mode;

static const Mode mode3 = {
    0x67, { 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00,
      0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e,
      0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};

static const Mode mode12 = {
    0xe3, { 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
      0x0f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
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
        sr(i + 1, m->seq[i]);
    }
    cr(0x11, 0);                    /* unlock CR00-CR07 */
    for (int i = 0; i < 25; i++) {
        cr(i, m->crtc[i]);
    }
    for (int i = 0; i < 9; i++) {
        gr(i, m->gc[i]);
    }
    for (int i = 0; i < 21; i++) {
        ar(i, m->attr[i]);
    }
    inb(0x3da);
    outb(0x3c0, 0x20);              /* palette address source: video on */
}

static uint32_t pixel(int x, int y)
{
    g_assert_cmpint(x, <, vga->fb_width);
    g_assert_cmpint(y, <, vga->fb_height);
    return vga->fb[y * vga->fb_width + x];
}

static bool update(int *y, int *h)
{
    int x, w, yy, hh;
    bool resized;
    bool r = vga_update_display(vga, &x, &yy, &w, &hh, &resized);

    if (y) {
        *y = yy;
        *h = hh;
    }
    return r;
}

/* ------------------------------------------------------------ registers */

static void test_registers(void)
{
    setup();
    /* Index/data pairs read back; a word write sets index and data at once. */
    outw(0x3c4, 0x0f02);
    g_assert_cmpuint(inb(0x3c4), ==, 0x02);
    g_assert_cmpuint(inb(0x3c5), ==, 0x0f);
    gr(8, 0x5a);
    g_assert_cmpuint(inb(0x3cf), ==, 0x5a);
    cr(0x0e, 0x12);
    g_assert_cmpuint(inb(0x3d5), ==, 0x12);
    /* Misc output bit 0 selects the CRTC at 0x3d4 (colour) or 0x3b4 (mono). */
    g_assert_cmpuint(inb(0x3cc) & 1, ==, 1);
    g_assert_cmpuint(inb(0x3b5), ==, 0xff);
    outb(0x3c2, 0x66);
    outb(0x3b4, 0x0e);
    g_assert_cmpuint(inb(0x3b5), ==, 0x12);
    g_assert_cmpuint(inb(0x3d5), ==, 0xff);
    outb(0x3c2, 0x67);
    /* CR11 bit 7 protects CR00-CR07 (VGA TR "Vertical Retrace End Register"). */
    cr(0x11, 0x80);
    cr(0x01, 0x4f);
    cr(0x11, 0x00);
    cr(0x01, 0x4f);
    cr(0x11, 0x80);
    cr(0x01, 0x27);
    outb(0x3d4, 0x01);
    g_assert_cmpuint(inb(0x3d5), ==, 0x4f);
    /* Attribute controller: one port, flip-flop reset by reading input status 1. */
    ar(0x05, 0x2a);
    inb(0x3da);
    outb(0x3c0, 0x05);
    g_assert_cmpuint(inb(0x3c1), ==, 0x2a);
    /* Input status 1 retrace bit toggles for polling loops. */
    g_assert_cmpuint((inb(0x3da) ^ inb(0x3da)) & 0x08, ==, 0x08);
    /* DAC: three writes per entry with auto-increment; reads through the read index. */
    dac(7, 0x3f, 0x20, 0x01);
    outb(0x3c9, 0x11);
    outb(0x3c9, 0x22);
    outb(0x3c9, 0x33);
    g_assert_cmpuint(inb(0x3c8), ==, 9);
    g_assert_cmpuint(inb(0x3c7), ==, 3);
    outb(0x3c7, 7);
    g_assert_cmpuint(inb(0x3c7), ==, 0);
    g_assert_cmpuint(inb(0x3c9), ==, 0x3f);
    g_assert_cmpuint(inb(0x3c9), ==, 0x20);
    g_assert_cmpuint(inb(0x3c9), ==, 0x01);
    g_assert_cmpuint(inb(0x3c9), ==, 0x11);
    g_assert_cmpuint(inb(0x3c9), ==, 0x22);
}

/* ------------------------------------------------------------ memory */

static void test_planar(void)
{
    setup();
    set_mode(&mode12);
    /* Write mode 0 with map mask: each enabled plane gets the byte. */
    sr(2, 0x05);
    memw(0xa0010, 0xc3);
    g_assert_cmpuint(vga->vram_ptr[0x10 * 4 + 0], ==, 0xc3);
    g_assert_cmpuint(vga->vram_ptr[0x10 * 4 + 1], ==, 0x00);
    g_assert_cmpuint(vga->vram_ptr[0x10 * 4 + 2], ==, 0xc3);
    /* Read mode 0 returns the plane chosen by GR04 and loads all latches. */
    gr(4, 2);
    g_assert_cmpuint(memr(0xa0010), ==, 0xc3);
    gr(4, 1);
    g_assert_cmpuint(memr(0xa0010), ==, 0x00);
    /* Read mode 1: colour compare 0101b on all planes -> bits where planes 0,2 set, 1,3 clear. */
    gr(5, 0x08);
    gr(2, 0x05);
    gr(7, 0x0f);
    g_assert_cmpuint(memr(0xa0010), ==, 0xc3);
    gr(7, 0x00);                    /* no plane cares: all ones */
    g_assert_cmpuint(memr(0xa0010), ==, 0xff);
    /* Write mode 1 copies the latches (loaded by the read above) to another address. */
    sr(2, 0x0f);
    gr(5, 0x01);
    memw(0xa0020, 0x00);
    g_assert_cmpmem(&vga->vram_ptr[0x20 * 4], 4, &vga->vram_ptr[0x10 * 4], 4);
    /* Write mode 2: the host byte's low 4 bits are the colour, bit mask picks the pixels. */
    gr(5, 0x02);
    gr(8, 0xf0);
    memr(0xa0030);                  /* latches = 0 */
    memw(0xa0030, 0x06);            /* colour 6 = planes 1 and 2 */
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 0], ==, 0x00);
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 1], ==, 0xf0);
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 2], ==, 0xf0);
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 3], ==, 0x00);
    /* Write mode 0 with set/reset on plane 3 and XOR with the latches. */
    gr(5, 0x00);
    gr(8, 0xff);
    gr(0, 0x08);
    gr(1, 0x08);
    gr(3, 0x18);                    /* XOR, no rotate */
    memr(0xa0030);
    memw(0xa0030, 0x0f);
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 0], ==, 0x0f);
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 1], ==, 0xff);   /* f0 ^ 0f */
    g_assert_cmpuint(vga->vram_ptr[0x30 * 4 + 3], ==, 0xff);   /* set/reset 1 ^ 0 */
    /* Rotate count 4 swaps nibbles before the ALU (no function: replace). */
    gr(1, 0x00);
    gr(3, 0x04);
    memw(0xa0040, 0x12);
    g_assert_cmpuint(vga->vram_ptr[0x40 * 4 + 0], ==, 0x21);
    /* Write mode 3: rotated host byte AND bit mask is the mask, set/reset is the colour. */
    gr(3, 0x00);
    gr(5, 0x03);
    gr(0, 0x01);
    gr(8, 0x3c);
    memr(0xa0050);                  /* latches = 0 */
    memw(0xa0050, 0xf0);
    g_assert_cmpuint(vga->vram_ptr[0x50 * 4 + 0], ==, 0x30);
    g_assert_cmpuint(vga->vram_ptr[0x50 * 4 + 1], ==, 0x00);
}

static void test_chain4_oddeven_map(void)
{
    setup();
    set_mode(&mode13);
    /* Chain-4: consecutive host bytes land in consecutive VRAM bytes. */
    for (int i = 0; i < 8; i++) {
        memw(0xa0100 + i, 0x10 + i);
    }
    for (int i = 0; i < 8; i++) {
        g_assert_cmpuint(vga->vram_ptr[0x100 + i], ==, 0x10 + i);
        g_assert_cmpuint(memr(0xa0100 + i), ==, 0x10 + i);
    }
    /* Mode 13h decodes A0000h-AFFFFh only (GR06 map 1). */
    g_assert_cmpuint(memr(0xb8000), ==, 0xff);
    memw(0xb8000, 0x55);
    g_assert_cmpuint(vga->vram_ptr[0x18000], ==, 0);

    /* Text mode: odd/even, B8000h only; chars in plane 0, attributes in plane 1. */
    set_mode(&mode3);
    g_assert_cmpuint(memr(0xa0000), ==, 0xff);
    memw(0xb8000, 'A');
    memw(0xb8001, 0x1f);
    memw(0xb8002, 'B');
    g_assert_cmpuint(vga->vram_ptr[0], ==, 'A');
    g_assert_cmpuint(vga->vram_ptr[1], ==, 0x1f);
    g_assert_cmpuint(vga->vram_ptr[4], ==, 'B');
    g_assert_cmpuint(memr(0xb8001), ==, 0x1f);
    /* Map 2 (B0000h-B7FFFh) for monochrome. */
    gr(6, 0x0a);
    g_assert_cmpuint(memr(0xb0000), ==, 'A');
    g_assert_cmpuint(memr(0xb8000), ==, 0xff);
}

/* ------------------------------------------------------------- DISPI */

static uint16_t vbe_read(uint16_t idx)
{
    outw(0x1ce, idx);
    return inw(0x1cf);
}

static void vbe_write(uint16_t idx, uint16_t v)
{
    outw(0x1ce, idx);
    outw(0x1cf, v);
}

static void test_dispi(void)
{
    int w, h, bpp, stride, y, n;

    setup();
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_ID), ==, 0xb0c5);
    vbe_write(VBE_DISPI_INDEX_ID, 0xb0c0);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_ID), ==, 0xb0c0);
    vbe_write(VBE_DISPI_INDEX_ID, 0x1234);          /* not an id: ignored */
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_ID), ==, 0xb0c0);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), ==, 16 * MiB >> 16);
    /* GETCAPS: XRES/YRES/BPP read the maxima. */
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_XRES), ==, VBE_DISPI_MAX_XRES);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_BPP), ==, 32);
    vbe_write(VBE_DISPI_INDEX_ENABLE, 0);
    g_assert_false(vga_get_linear_mode(vga, &w, &h, &bpp, &stride));

    vbe_write(VBE_DISPI_INDEX_XRES, 1024);
    vbe_write(VBE_DISPI_INDEX_YRES, 768);
    vbe_write(VBE_DISPI_INDEX_BPP, 32);
    vbe_write(VBE_DISPI_INDEX_BPP, 17);             /* invalid: ignored */
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_BPP), ==, 32);
    vbe_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    g_assert_true(vga_get_linear_mode(vga, &w, &h, &bpp, &stride));
    g_assert_cmpint(w, ==, 1024);
    g_assert_cmpint(h, ==, 768);
    g_assert_cmpint(stride, ==, 4096);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_VIRT_WIDTH), ==, 1024);
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_VIRT_HEIGHT), ==, 16 * MiB / 4096);

    /* The LFB is VRAM; a pixel written there shows up in the rendered frame. */
    g_assert_true(update(NULL, NULL));
    g_assert_cmpint(vga->fb_width, ==, 1024);
    g_assert_cmpint(vga->fb_height, ==, 768);
    g_assert_false(update(NULL, NULL));             /* nothing changed */
    memwl(VGA_LFB_ISA_ADDR + 100 * 4096 + 10 * 4, 0x00123456);
    g_assert_true(update(&y, &n));
    g_assert_cmpint(y, ==, 100);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpuint(pixel(10, 100), ==, 0x123456);
    g_assert_cmpuint(pixel(11, 100), ==, 0);

    /* Banked window: bank 1 maps VRAM 64K-128K at A0000h. */
    vbe_write(VBE_DISPI_INDEX_BANK, 1);
    memw(0xa0004, 0x77);
    g_assert_cmpuint(vga->vram_ptr[0x10004], ==, 0x77);
    vbe_write(VBE_DISPI_INDEX_BANK, 0x7fff);        /* beyond VRAM: ignored */
    g_assert_cmpuint(vbe_read(VBE_DISPI_INDEX_BANK), ==, 1);

    /* Y offset scrolls: the first visible line is now line 100. */
    vbe_write(VBE_DISPI_INDEX_Y_OFFSET, 100);
    g_assert_true(update(NULL, NULL));
    g_assert_cmpuint(pixel(10, 0), ==, 0x123456);

    /* Hostile values never move the screen outside VRAM. */
    vbe_write(VBE_DISPI_INDEX_VIRT_WIDTH, 0xffff);
    vbe_write(VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    vbe_write(VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    update(NULL, NULL);
    g_assert_cmpuint(vga->vbe_start_addr, <, vga->vram_size);
}

/* ------------------------------------------------------------ renderers */

static void test_render_text(void)
{
    int y, h;

    setup();
    set_mode(&mode3);
    /* Load glyph 'A' as a box into plane 2 font slot 0 (sequential addressing, plane 2). */
    sr(2, 0x04);
    sr(4, 0x06);
    gr(5, 0x00);
    gr(6, 0x04);
    for (int l = 0; l < 16; l++) {
        memw(0xa0000 + 'A' * 32 + l, l == 0 || l == 15 ? 0xff : 0x81);
    }
    set_mode(&mode3);
    dac(0x01, 0x00, 0x00, 0x2a);    /* attribute palette 1 -> DAC 1 */
    dac(0x3f, 0x3f, 0x3f, 0x3f);    /* palette 15 -> DAC 3Fh */
    /* Row 1, column 2: 'A' white on blue. */
    memw(0xb8000 + (80 + 2) * 2, 'A');
    memw(0xb8000 + (80 + 2) * 2 + 1, 0x1f);
    cr(0x0a, 0x20);                 /* cursor off */
    g_assert_true(update(&y, &h));
    g_assert_cmpint(vga->fb_width, ==, 720);
    g_assert_cmpint(vga->fb_height, ==, 400);
    /* Glyph top row all foreground, second row foreground at the edges only. */
    g_assert_cmpuint(pixel(2 * 9, 16), ==, 0xffffff);
    g_assert_cmpuint(pixel(2 * 9 + 7, 16), ==, 0xffffff);
    g_assert_cmpuint(pixel(2 * 9 + 1, 17), ==, 0x0000aa);
    g_assert_cmpuint(pixel(2 * 9 + 7, 17), ==, 0xffffff);
    g_assert_cmpuint(pixel(2 * 9 + 8, 17), ==, 0x0000aa);     /* 9th dot: background */
    g_assert_cmpuint(pixel(0, 0), ==, 0);
    /* Cursor at row 0 col 5, lines 14-15: drawn in the cell's foreground. */
    memw(0xb8000 + 5 * 2 + 1, 0x0f);
    cr(0x0a, 0x0e);
    cr(0x0b, 0x0f);
    cr(0x0e, 0x00);
    cr(0x0f, 0x05);
    g_assert_true(update(NULL, NULL));
    g_assert_cmpuint(pixel(5 * 9 + 3, 14), ==, 0xffffff);
    g_assert_cmpuint(pixel(5 * 9 + 3, 13), ==, 0);
    g_assert_false(update(NULL, NULL));
}

static void test_render_mode13(void)
{
    int y, h;

    setup();
    set_mode(&mode13);
    dac(5, 0x3f, 0x00, 0x00);
    dac(9, 0x00, 0x3f, 0x00);
    memw(0xa0000 + 10 * 320 + 7, 5);
    memw(0xa0000 + 199 * 320 + 319, 9);
    g_assert_true(update(NULL, NULL));
    g_assert_cmpint(vga->fb_width, ==, 320);
    g_assert_cmpint(vga->fb_height, ==, 200);
    g_assert_cmpuint(pixel(7, 10), ==, 0xff0000);
    g_assert_cmpuint(pixel(319, 199), ==, 0x00ff00);
    g_assert_cmpuint(pixel(8, 10), ==, 0);
    /* Dirty tracking: one write redraws only the lines on that 4 KiB VRAM page. */
    g_assert_false(update(NULL, NULL));
    memw(0xa0000 + 50 * 320 + 1, 9);
    g_assert_true(update(&y, &h));
    g_assert_cmpint(y, <=, 50);
    g_assert_cmpint(y + h, >, 50);
    g_assert_cmpint(h, <=, 4096 / 320 + 2);
    g_assert_cmpuint(pixel(1, 50), ==, 0x00ff00);
    /* A palette change redraws everything. */
    dac(9, 0x00, 0x00, 0x3f);
    g_assert_true(update(&y, &h));
    g_assert_cmpint(h, ==, 200);
    g_assert_cmpuint(pixel(319, 199), ==, 0x0000ff);
}

static void test_render_mode12(void)
{
    setup();
    set_mode(&mode12);
    dac(0x0c, 0x3f, 0x15, 0x15);
    /* Write mode 2, bit mask 01h: pixel 7 of byte 0 on line 3 gets colour 12. */
    gr(5, 0x02);
    gr(8, 0x01);
    memr(0xa0000 + 3 * 80);
    memw(0xa0000 + 3 * 80, 0x0c);
    g_assert_true(update(NULL, NULL));
    g_assert_cmpint(vga->fb_width, ==, 640);
    g_assert_cmpint(vga->fb_height, ==, 480);
    g_assert_cmpuint(pixel(7, 3), ==, 0xff5555);
    g_assert_cmpuint(pixel(6, 3), ==, 0);
    /* AR12 colour plane enable masks planes out of the pixel value. */
    ar(0x12, 0x03);
    inb(0x3da);
    outb(0x3c0, 0x20);
    update(NULL, NULL);
    g_assert_cmpuint(pixel(7, 3), ==, 0);
}

/* Direct kernel boot: the preset mode and Linux's screen_info for it. */
static void test_boot_mode(void)
{
    uint8_t si[0x40];
    int w, h, bpp, stride;

    setup();
    memset(si, 0xcc, sizeof(si));
    vga_set_boot_mode(vga, 1024, 768, 0xe0000000, si);
    g_assert_true(vga_get_linear_mode(vga, &w, &h, &bpp, &stride));
    g_assert_cmpint(w, ==, 1024);
    g_assert_cmpint(bpp, ==, 32);
    g_assert_cmpuint(si[0x0f], ==, 0x23);                   /* VIDEO_TYPE_VLFB */
    g_assert_cmpuint(lduw_le_p(si + 0x12), ==, 1024);       /* lfb_width */
    g_assert_cmpuint(lduw_le_p(si + 0x14), ==, 768);
    g_assert_cmpuint(lduw_le_p(si + 0x16), ==, 32);
    g_assert_cmphex(ldl_le_p(si + 0x18), ==, 0xe0000000);   /* lfb_base */
    g_assert_cmpuint(ldl_le_p(si + 0x1c), ==, 16 * MiB >> 16);  /* 64 KiB units */
    g_assert_cmpuint(lduw_le_p(si + 0x24), ==, 4096);       /* lfb_linelength */
    g_assert_cmpuint(si[0x27], ==, 16);                     /* red_pos */
    g_assert_cmpuint(si[0x2b], ==, 0);                      /* blue_pos */
    g_assert_cmpuint(ldl_le_p(si + 0x3a), ==, 0);           /* ext_lfb_base */
    /* The mode comes back after a reset (a reboot re-enters the kernel directly). */
    device_cold_reset(vga_dev);
    g_assert_true(vga_get_linear_mode(vga, &w, &h, &bpp, &stride));
    g_assert_cmpint(h, ==, 768);
    /* A mode larger than VRAM falls back to 640x480. */
    vga_set_boot_mode(vga, 16000, 12000, 0xe0000000, si);
    g_assert_cmpuint(lduw_le_p(si + 0x12), ==, 640);
}

/* The card is the active graphic console: refreshes draw into its surface, screendump works. */
static void test_console(void)
{
    DisplaySurface *surf;
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    gsize len;
    /* A unique name: this test may run twice at once (meson --repeat, or two builds). */
    int fd = g_file_open_tmp("kite-test-vga-XXXXXX.ppm", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    setup();
    set_mode(&mode13);
    dac(3, 0x3f, 0x3f, 0x00);
    memw(0xa0000 + 5 * 320 + 6, 3);
    graphic_hw_update(NULL);
    surf = qemu_console_surface(qemu_console_active());
    g_assert_nonnull(surf);
    g_assert_cmpint(surf->width, ==, 320);
    g_assert_cmpint(surf->height, ==, 200);
    g_assert_cmphex(surface_pixel(surf, 6, 5) & 0xffffff, ==, 0xffff00);
    /* A mode change gives the console a new surface. */
    set_mode(&mode12);
    graphic_hw_update(NULL);
    surf = qemu_console_surface(qemu_console_active());
    g_assert_cmpint(surf->width, ==, 640);
    g_assert_true(ui_screendump(path, "ppm", &error_abort));
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_true(g_str_has_prefix(data, "P6\n640 480\n255\n"));
    unlink(path);
}

static void mutate_regs(void)
{
    cr(0x0e, 0x99);
    dac(1, 0, 0, 0);
}

static void test_vmstate(void)
{
    setup();
    set_mode(&mode3);
    cr(0x0e, 0x07);
    dac(1, 1, 2, 3);
    harness_vmstate_roundtrip(vga_dev, mutate_regs);
    outb(0x3d4, 0x0e);
    g_assert_cmpuint(inb(0x3d5), ==, 0x07);
    outb(0x3c7, 1);
    g_assert_cmpuint(inb(0x3c9), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    g_test_add_func("/vga/registers", test_registers);
    g_test_add_func("/vga/planar", test_planar);
    g_test_add_func("/vga/chain4-oddeven-map", test_chain4_oddeven_map);
    g_test_add_func("/vga/dispi", test_dispi);
    g_test_add_func("/vga/render-text", test_render_text);
    g_test_add_func("/vga/render-mode13", test_render_mode13);
    g_test_add_func("/vga/render-mode12", test_render_mode12);
    g_test_add_func("/vga/boot-mode", test_boot_mode);
    g_test_add_func("/vga/console", test_console);
    g_test_add_func("/vga/vmstate", test_vmstate);
    return g_test_run();
}
