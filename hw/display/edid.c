/*
 * EDID base block generator (VESA Enhanced EDID standard, release A2 = EDID 1.4).
 *
 * The monitor it describes: digital (DisplayPort-style input, 8 bits per colour), sRGB,
 * the preferred mode as the first detailed timing (section 3.10.2) with CVT reduced
 * blanking timings at 60 Hz (VESA CVT 1.2, section 5.4), the usual 60 Hz established
 * timings (section 3.8), up to eight standard timings (section 3.9) and an established
 * timings III descriptor (section 3.10.3.9) for larger modes, all limited to what fits
 * the device's VRAM at 32 bpp, a range limits descriptor and the monitor name (section
 * 3.10.3).  No extension blocks.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/display/edid.h"

#include <stdbool.h>
#include <string.h>

#define EDID_DESC_OFFSET    54      /* four 18-byte descriptors */
#define EDID_DESC_SIZE      18

/* CVT reduced blanking constants (CVT 1.2, table 5-4). */
#define CVT_RB_MIN_VBLANK_NS    460000u
#define CVT_RB_V_FPORCH         3u
#define CVT_MIN_V_BPORCH        6u
#define CVT_RB_H_BLANK          160u
#define CVT_RB_H_SYNC           32u
#define CVT_RB_H_FPORCH         48u
#define CVT_CLOCK_STEP_HZ       250000u
#define CVT_REFRESH             60u
/* The detailed timing's pixel clock is 16 bits of 10 kHz. */
#define EDID_MAX_CLOCK_HZ       655350000ull

typedef struct Timing {
    uint32_t hactive, hblank, hfporch, hsync;
    uint32_t vactive, vblank, vfporch, vsync;
    uint64_t clock_hz;
} Timing;

/* CVT 1.2 table 3-2: the vertical sync width says the aspect ratio. */
static uint32_t cvt_vsync(uint32_t x, uint32_t y)
{
    if (x * 3 == y * 4) {
        return 4;
    } else if (x * 9 == y * 16) {
        return 5;
    } else if (x * 10 == y * 16) {
        return 6;
    } else if (x * 4 == y * 5 || x * 9 == y * 15) {
        return 7;
    }
    return 10;
}

/* CVT 1.2 section 5.4, reduced blanking: fixed 160-pixel horizontal blank, vertical blank
 * of at least 460 us, pixel clock rounded down to 0.25 MHz. */
static void cvt_rb_timing(uint32_t x, uint32_t y, Timing *t)
{
    uint64_t hperiod_ns = (1000000000u / CVT_REFRESH - CVT_RB_MIN_VBLANK_NS) / y;
    uint32_t vbi = CVT_RB_MIN_VBLANK_NS / hperiod_ns + 1;
    uint32_t vsync = cvt_vsync(x, y);
    uint32_t min_vbi = CVT_RB_V_FPORCH + vsync + CVT_MIN_V_BPORCH;
    uint64_t total;

    t->hactive = x;
    t->hblank = CVT_RB_H_BLANK;
    t->hfporch = CVT_RB_H_FPORCH;
    t->hsync = CVT_RB_H_SYNC;
    t->vactive = y;
    t->vblank = vbi > min_vbi ? vbi : min_vbi;
    t->vfporch = CVT_RB_V_FPORCH;
    t->vsync = vsync;
    total = (uint64_t)(x + t->hblank) * (y + t->vblank) * CVT_REFRESH;
    t->clock_hz = total / CVT_CLOCK_STEP_HZ * CVT_CLOCK_STEP_HZ;
    /* Modes too large for that field at 60 Hz get the highest clock it encodes: the same
     * timing at a lower refresh rate. */
    if (t->clock_hz > EDID_MAX_CLOCK_HZ) {
        t->clock_hz = EDID_MAX_CLOCK_HZ;
    }
}

/* Section 3.10.2, table 3.21. */
static void put_detailed_timing(uint8_t *d, const Timing *t, uint32_t hmm, uint32_t vmm)
{
    uint32_t clk = t->clock_hz / 10000;     /* 10 kHz units */

    d[0] = clk;
    d[1] = clk >> 8;
    d[2] = t->hactive;
    d[3] = t->hblank;
    d[4] = (t->hactive >> 8) << 4 | (t->hblank >> 8 & 0xf);
    d[5] = t->vactive;
    d[6] = t->vblank;
    d[7] = (t->vactive >> 8) << 4 | (t->vblank >> 8 & 0xf);
    d[8] = t->hfporch;
    d[9] = t->hsync;
    d[10] = (t->vfporch & 0xf) << 4 | (t->vsync & 0xf);
    d[11] = (t->hfporch >> 8 & 3) << 6 | (t->hsync >> 8 & 3) << 4 |
            (t->vfporch >> 4 & 3) << 2 | (t->vsync >> 4 & 3);
    d[12] = hmm;
    d[13] = vmm;
    d[14] = (hmm >> 8 & 0xf) << 4 | (vmm >> 8 & 0xf);
    d[15] = 0;                              /* no borders */
    d[16] = 0;
    /* Digital separate sync; CVT reduced blanking uses +hsync, -vsync. */
    d[17] = 0x18 | 0x02;
}

/* Display descriptors (section 3.10.3): 00 00 00 tag 00, then 13 bytes. */
static uint8_t *put_descriptor_header(uint8_t *d, uint8_t tag)
{
    memset(d, 0, EDID_DESC_SIZE);
    d[3] = tag;
    return d + 5;
}

static void put_string(uint8_t *p, const char *s)
{
    size_t i = 0;

    for (; s && s[i] && i < 13; i++) {
        p[i] = (uint8_t)s[i];
    }
    if (i < 13) {
        p[i++] = 0x0a;                      /* terminated by LF, padded with spaces */
    }
    for (; i < 13; i++) {
        p[i] = 0x20;
    }
}

static bool fits(const EdidInfo *info, uint32_t x, uint32_t y)
{
    return !info->max_bytes || (uint64_t)x * y * 4 <= info->max_bytes;
}

size_t edid_generate(uint8_t *buf, size_t size, const EdidInfo *info)
{
    /* Standard timings (section 3.9): aspect codes 0 = 16:10, 1 = 4:3, 2 = 5:4, 3 = 16:9. */
    static const struct { uint16_t x, y; uint8_t aspect; } std_modes[] = {
        { 2048, 1152, 3 }, { 1920, 1080, 3 }, { 1920, 1200, 0 }, { 1600, 1200, 1 },
        { 1680, 1050, 0 }, { 1440, 900, 0 }, { 1280, 1024, 2 }, { 1280, 960, 1 },
    };
    /* sRGB primaries and D65 white in thousandths (IEC 61966-2-1): Rx Ry Gx Gy Bx By Wx Wy. */
    static const uint16_t srgb[8] = { 640, 330, 300, 600, 150, 60, 313, 329 };
    /* Established timings III (table 3.29): byte 6 + byte, bit; all 60 Hz, not RB. */
    static const struct { uint16_t x, y; uint8_t byte, bit; } est3_modes[] = {
        { 1280, 768, 1, 6 }, { 1360, 768, 2, 7 }, { 1400, 1050, 2, 1 },
        { 1792, 1344, 4, 5 }, { 1856, 1392, 4, 3 }, { 1920, 1440, 5, 5 },
    };
    const char *vendor = info->vendor ? info->vendor : "XXX";
    uint32_t dpi = info->dpi ? info->dpi : 100;
    uint32_t x = info->prefx, y = info->prefy;
    uint32_t hmm, vmm, chroma[8], hfreq_khz, clk_10mhz, refresh;
    uint16_t mfg = 0;
    uint8_t *d, sum = 0;
    Timing t;
    size_t i, n;

    if (size < EDID_BLOCK_SIZE) {
        return 0;
    }
    memset(buf, 0, size);
    if (x < 640 || y < 480) {
        x = 640;
        y = 480;
    }
    x = x > 4095 ? 4095 : x;
    y = y > 4095 ? 4095 : y;
    cvt_rb_timing(x, y, &t);
    hmm = x * 254 / (dpi * 10);
    vmm = y * 254 / (dpi * 10);

    /* Header, vendor and product (section 3.3, 3.4). */
    memset(buf + 1, 0xff, 6);
    for (i = 0, n = strlen(vendor); i < 3; i++) {
        char c = i < n ? vendor[i] : 0;
        mfg = mfg << 5 | ((c >= 'A' && c <= 'Z') ? c - 'A' + 1 : 0);
    }
    buf[8] = mfg >> 8;
    buf[9] = mfg;
    buf[10] = info->product;
    buf[11] = info->product >> 8;
    buf[16] = 42;                           /* week 42 of 2014 */
    buf[17] = 2014 - 1990;
    buf[18] = 1;                            /* EDID 1.4 */
    buf[19] = 4;
    /* Basic display parameters (section 3.6): digital, 8 bits per colour, DisplayPort;
     * size in cm; gamma 2.2; sRGB default colour space, preferred timing is native. */
    buf[20] = 0x80 | 0x20 | 0x05;
    buf[21] = (hmm + 5) / 10;
    buf[22] = (vmm + 5) / 10;
    buf[23] = 220 - 100;
    buf[24] = 0x04 | 0x02;
    /* Chromaticity (section 3.7): 10-bit binary fractions, low bits packed first. */
    for (i = 0; i < 8; i++) {
        chroma[i] = (srgb[i] * 1024 + 500) / 1000;
    }
    buf[25] = (chroma[0] & 3) << 6 | (chroma[1] & 3) << 4 | (chroma[2] & 3) << 2 | (chroma[3] & 3);
    buf[26] = (chroma[4] & 3) << 6 | (chroma[5] & 3) << 4 | (chroma[6] & 3) << 2 | (chroma[7] & 3);
    for (i = 0; i < 8; i++) {
        buf[27 + i] = chroma[i] >> 2;
    }
    /* Established timings I and II (section 3.8): 640x480, 800x600, 1024x768 at 60 Hz. */
    buf[35] = 0x20 | (fits(info, 800, 600) ? 0x01 : 0);
    buf[36] = fits(info, 1024, 768) ? 0x08 : 0;
    /* Standard timings: unused slots are 01 01. */
    for (i = 0, n = 0; i < sizeof(std_modes) / sizeof(std_modes[0]); i++) {
        if (fits(info, std_modes[i].x, std_modes[i].y)) {
            buf[38 + 2 * n] = std_modes[i].x / 8 - 31;
            buf[39 + 2 * n] = std_modes[i].aspect << 6 | (60 - 60);
            n++;
        }
    }
    for (; n < 8; n++) {
        buf[38 + 2 * n] = 1;
        buf[39 + 2 * n] = 1;
    }

    d = buf + EDID_DESC_OFFSET;
    put_detailed_timing(d, &t, hmm, vmm);
    d += EDID_DESC_SIZE;
    /* Range limits (tag FDh, section 3.10.3.3): 50-125 Hz vertical (lower if the
     * preferred mode's clock was capped), 30 kHz up to the
     * preferred mode's line rate (at least 160 kHz) horizontal, pixel clock in 10 MHz
     * units; 01h = range limits only, no timing formula. */
    hfreq_khz = t.clock_hz / (t.hactive + t.hblank) / 1000 + 1;
    clk_10mhz = t.clock_hz / 10000000 + 1;
    refresh = t.clock_hz / ((uint64_t)(t.hactive + t.hblank) * (t.vactive + t.vblank));
    {
        uint8_t *p = put_descriptor_header(d, 0xfd);
        p[0] = refresh < 50 ? (refresh ? refresh : 1) : 50;
        p[1] = 125;
        p[2] = 30;
        p[3] = hfreq_khz < 160 ? 160 : hfreq_khz > 255 ? 255 : hfreq_khz;
        p[4] = clk_10mhz < 16 ? 16 : clk_10mhz > 255 ? 255 : clk_10mhz;
        p[5] = 0x01;
        p[6] = 0x0a;
        memset(p + 7, 0x20, 6);
    }
    d += EDID_DESC_SIZE;
    put_string(put_descriptor_header(d, 0xfc), info->name);     /* monitor name */
    d += EDID_DESC_SIZE;
    {
        uint8_t *p = put_descriptor_header(d, 0xf7);
        p[0] = 0x0a;                                            /* revision */
        for (i = 0; i < sizeof(est3_modes) / sizeof(est3_modes[0]); i++) {
            if (fits(info, est3_modes[i].x, est3_modes[i].y)) {
                p[1 + est3_modes[i].byte] |= 1 << est3_modes[i].bit;
            }
        }
    }

    buf[126] = 0;                           /* no extension blocks */
    for (i = 0; i < EDID_BLOCK_SIZE - 1; i++) {
        sum += buf[i];
    }
    buf[127] = (uint8_t)(0x100 - sum);
    return EDID_BLOCK_SIZE;
}
