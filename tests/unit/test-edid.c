/*
 * The EDID generator (hw/display/edid.c) against the VESA E-EDID 1.4 layout and the
 * CVT reduced-blanking timings the VESA DMT standard lists for the same modes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "hw/display/edid.h"

static void check_block(const uint8_t *e)
{
    static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
    uint8_t sum = 0;

    g_assert_cmpmem(e, 8, header, 8);
    g_assert_cmpuint(e[18], ==, 1);                 /* version 1.4 */
    g_assert_cmpuint(e[19], ==, 4);
    g_assert_cmpuint(e[126], ==, 0);                /* no extensions */
    for (int i = 0; i < EDID_BLOCK_SIZE; i++) {
        sum += e[i];
    }
    g_assert_cmpuint(sum, ==, 0);
}

/* The first detailed timing: pixel clock (10 kHz), active and total sizes, sync. */
typedef struct {
    uint32_t clock, hactive, htotal, vactive, vtotal, hfp, hsync, vfp, vsync;
} Dtd;

static Dtd decode_dtd(const uint8_t *d)
{
    Dtd t;

    t.clock = d[0] | d[1] << 8;
    t.hactive = d[2] | (d[4] >> 4) << 8;
    t.htotal = t.hactive + (d[3] | (d[4] & 0xf) << 8);
    t.vactive = d[5] | (d[7] >> 4) << 8;
    t.vtotal = t.vactive + (d[6] | (d[7] & 0xf) << 8);
    t.hfp = d[8] | (d[11] >> 6) << 8;
    t.hsync = d[9] | (d[11] >> 4 & 3) << 8;
    t.vfp = (d[10] >> 4) | (d[11] >> 2 & 3) << 4;
    t.vsync = (d[10] & 0xf) | (d[11] & 3) << 4;
    return t;
}

static const uint8_t *find_descriptor(const uint8_t *e, uint8_t tag)
{
    for (int i = 0; i < 4; i++) {
        const uint8_t *d = e + 54 + 18 * i;
        if (!d[0] && !d[1] && d[3] == tag) {
            return d;
        }
    }
    return NULL;
}

static void test_default(void)
{
    EdidInfo info = { .vendor = "RHT", .product = 0x1234, .name = "QEMU Monitor",
                      .prefx = 1280, .prefy = 800, .max_bytes = 16 << 20 };
    uint8_t e[256];
    const uint8_t *d;
    Dtd t;

    memset(e, 0xaa, sizeof(e));
    g_assert_cmpuint(edid_generate(e, sizeof(e), &info), ==, 128);
    check_block(e);
    for (int i = 128; i < 256; i++) {
        g_assert_cmpuint(e[i], ==, 0);
    }
    /* "RHT": three 5-bit letters, big-endian. */
    g_assert_cmphex(e[8] << 8 | e[9], ==, (18 << 10) | (8 << 5) | 20);
    g_assert_cmphex(e[10] | e[11] << 8, ==, 0x1234);
    g_assert_cmphex(e[20], ==, 0xa5);               /* digital, 8 bpc, DisplayPort */
    /* 100 dpi: 1280x800 is 32.5 x 20.3 cm. */
    g_assert_cmpuint(e[21], ==, 33);
    g_assert_cmpuint(e[22], ==, 20);
    /* DMT's 1280x800 reduced blanking: 71.00 MHz, 1440 x 823, 48/32 and 3/6. */
    t = decode_dtd(e + 54);
    g_assert_cmpuint(t.clock, ==, 7100);
    g_assert_cmpuint(t.hactive, ==, 1280);
    g_assert_cmpuint(t.htotal, ==, 1440);
    g_assert_cmpuint(t.vactive, ==, 800);
    g_assert_cmpuint(t.vtotal, ==, 823);
    g_assert_cmpuint(t.hfp, ==, 48);
    g_assert_cmpuint(t.hsync, ==, 32);
    g_assert_cmpuint(t.vfp, ==, 3);
    g_assert_cmpuint(t.vsync, ==, 6);
    g_assert_cmphex(e[54 + 17], ==, 0x1a);          /* digital separate, +hsync -vsync */
    /* Established timings: 640x480, 800x600, 1024x768 at 60 Hz. */
    g_assert_cmphex(e[35], ==, 0x21);
    g_assert_cmphex(e[36], ==, 0x08);
    /* All eight standard timings fit 16 MiB; the first is 2048x1152 16:9 at 60 Hz. */
    g_assert_cmphex(e[38], ==, 2048 / 8 - 31);
    g_assert_cmphex(e[39], ==, 0xc0);
    g_assert_cmphex(e[52] << 8 | e[53], !=, 0x0101);
    d = find_descriptor(e, 0xfc);
    g_assert_nonnull(d);
    g_assert_cmpmem(d + 5, 13, "QEMU Monitor\n", 13);
    /* Established timings III: 1280x768, 1360x768, 1400x1050 and three larger modes. */
    d = find_descriptor(e, 0xf7);
    g_assert_nonnull(d);
    g_assert_cmphex(d[5], ==, 0x0a);
    g_assert_cmphex(d[6], ==, 0x00);
    g_assert_cmphex(d[7], ==, 0x40);
    g_assert_cmphex(d[8], ==, 0x82);
    g_assert_cmphex(d[9], ==, 0x00);
    g_assert_cmphex(d[10], ==, 0x28);
    g_assert_cmphex(d[11], ==, 0x20);
    d = find_descriptor(e, 0xfd);
    g_assert_nonnull(d);
    g_assert_cmpuint(d[5], <=, 60);                 /* 60 Hz within the vertical range */
    g_assert_cmpuint(d[6], >=, 60);
    g_assert_cmpuint(d[9] * 1000, >=, 7100);        /* 10 MHz units vs 10 kHz units */
}

/* DMT's 1920x1200 reduced blanking: 154.00 MHz, 2080 x 1235; a small VRAM drops the
 * larger modes, a short name is padded, a short vendor id is zero-filled. */
static void test_limits(void)
{
    EdidInfo info = { .vendor = "AB", .name = "Kite", .prefx = 1920, .prefy = 1200,
                      .max_bytes = 4 << 20 };
    uint8_t e[128];
    const uint8_t *d;
    Dtd t;

    g_assert_cmpuint(edid_generate(e, sizeof(e), &info), ==, 128);
    check_block(e);
    g_assert_cmphex(e[8] << 8 | e[9], ==, (1 << 10) | (2 << 5));
    t = decode_dtd(e + 54);
    g_assert_cmpuint(t.clock, ==, 15400);
    g_assert_cmpuint(t.htotal, ==, 2080);
    g_assert_cmpuint(t.vtotal, ==, 1235);
    /* 4 MiB: 1024x768x4 fits, 1280x960x4 does not: no standard timing is used. */
    g_assert_cmphex(e[36], ==, 0x08);
    for (int i = 38; i < 54; i++) {
        g_assert_cmphex(e[i], ==, 0x01);
    }
    d = find_descriptor(e, 0xfc);
    g_assert_cmpmem(d + 5, 13, "Kite\n        ", 13);
    /* 1280x768x4 and 1360x768x4 (3.98 MiB) fit, 1400x1050x4 does not. */
    d = find_descriptor(e, 0xf7);
    g_assert_cmphex(d[7], ==, 0x40);
    g_assert_cmphex(d[8], ==, 0x80);
    g_assert_cmphex(d[10] | d[11], ==, 0);
}

/* Out-of-range requests are clamped, never overflow the 12-bit fields; short buffers are
 * refused. */
static void test_clamp(void)
{
    EdidInfo info = { .prefx = 100000, .prefy = 1 };
    uint8_t e[128];
    Dtd t;

    g_assert_cmpuint(edid_generate(e, 127, &info), ==, 0);
    g_assert_cmpuint(edid_generate(e, sizeof(e), &info), ==, 128);
    check_block(e);
    t = decode_dtd(e + 54);
    g_assert_cmpuint(t.hactive, ==, 640);
    g_assert_cmpuint(t.vactive, ==, 480);
    info.prefx = 8000;
    info.prefy = 6000;
    g_assert_cmpuint(edid_generate(e, sizeof(e), &info), ==, 128);
    check_block(e);
    t = decode_dtd(e + 54);
    g_assert_cmpuint(t.hactive, ==, 4095);
    g_assert_cmpuint(t.vactive, ==, 4095);
    /* 60 Hz would need about 1.07 GHz: the clock saturates at 655.35 MHz (~37 Hz), and
     * the range limits admit that refresh rate. */
    g_assert_cmpuint(t.clock, ==, 65535);
    g_assert_cmpuint(find_descriptor(e, 0xfd)[5], <=,
                     6553500000ull / ((uint64_t)t.htotal * t.vtotal) / 10);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/edid/default", test_default);
    g_test_add_func("/edid/limits", test_limits);
    g_test_add_func("/edid/clamp", test_clamp);
    return g_test_run();
}
