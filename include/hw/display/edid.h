/*
 * EDID: the 128-byte monitor description (VESA E-EDID standard, release A2, EDID 1.4) a
 * display device hands to its guest driver, built from a few parameters.  A plain buffer
 * in, no device state, so tests and fuzzers can call it directly.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DISPLAY_EDID_H
#define HW_DISPLAY_EDID_H

#include <stddef.h>
#include <stdint.h>

#define EDID_BLOCK_SIZE 128

typedef struct EdidInfo {
    const char *vendor;         /* 3-letter PNP manufacturer id, "A".."Z" */
    uint16_t product;
    const char *name;           /* monitor name, at most 13 characters are kept */
    uint32_t prefx, prefy;      /* preferred (native) mode: the detailed timing */
    uint64_t max_bytes;         /* advertise no mode whose 32-bpp frame exceeds this
                                   (the VRAM); 0 = no limit */
    uint32_t dpi;               /* for the physical size; 0 = 100 */
} EdidInfo;

/*
 * Fill buf (size >= EDID_BLOCK_SIZE) with a base EDID block describing a digital monitor
 * whose preferred mode is prefx x prefy at 60 Hz; the rest of buf is zeroed.  The
 * preferred mode is clamped to 640x480 .. 4095x4095 (what the detailed timing encodes).
 * Returns the bytes of EDID written (128), or 0 if size is too small.
 */
size_t edid_generate(uint8_t *buf, size_t size, const EdidInfo *info);

#endif
