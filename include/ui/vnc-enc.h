/*
 * VNC rectangle encoders (RFC 6143 section 7.7): Raw, Hextile, ZRLE and Tight, on plain
 * buffers.
 *
 * The source is always the console's 32-bit xRGB surface (host-endian uint32_t per pixel);
 * the output is the rectangle's payload (after the 12-byte rectangle header) in the client's
 * pixel format, appended to a GByteArray.  Nothing here touches sockets or the console, so
 * unit tests and fuzzers can encode arbitrary images and decode them back.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_VNC_ENC_H
#define UI_VNC_ENC_H

#include "ui/vnc.h"
#include <zlib.h>

/* A pixel format turned into lookup tables: value = r[R] | g[G] | b[B]. */
typedef struct VncConv {
    VncPixelFormat pf;
    int bpp;                    /* bytes per pixel on the wire: 1, 2 or 4 */
    bool native;                /* 32 bpp xRGB in host order: the surface bytes as they are */
    uint32_t r[256], g[256], b[256];
    /*
     * ZRLE's CPIXEL (7.7.6): 3 bytes instead of 4 when the colours fit in the low or the
     * high 3 bytes of a 32-bit pixel; cshift says which (0 or 8), cbpp is 3 or bpp.
     */
    int cbpp, cshift;
} VncConv;

void vnc_conv_init(VncConv *cv, const VncPixelFormat *pf);

static inline uint32_t vnc_conv_value(const VncConv *cv, uint32_t xrgb)
{
    return cv->r[(xrgb >> 16) & 0xff] | cv->g[(xrgb >> 8) & 0xff] | cv->b[xrgb & 0xff];
}

/* Serialise a pixel value in the format's byte order; returns bytes written. */
int vnc_conv_put(const VncConv *cv, uint32_t v, uint8_t *out);

/*
 * src points at the rectangle's top-left pixel, stride is the surface's bytes per line,
 * w and h are at most 65535 (RFB's 16-bit fields).
 */
void vnc_enc_raw(const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                 GByteArray *out);
void vnc_enc_hextile(const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                     GByteArray *out);

/* ZRLE keeps one zlib stream for the whole connection (7.7.6). */
typedef struct VncZrle {
    z_stream zs;
    bool active;
    GByteArray *tiles;          /* the uncompressed tile data of the current rectangle */
} VncZrle;

bool vnc_enc_zrle(VncZrle *z, const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                  GByteArray *out);
void vnc_zrle_free(VncZrle *z);

/*
 * Tight (RFB community encoding 7): fill, palette and copy with per-stream zlib; no JPEG.
 * A rectangle goes out as several Tight rectangles (at most 2048 wide and 65536 pixels):
 * vnc_enc_tight writes their headers itself and returns how many it wrote, 0 on a zlib
 * failure.  x and y are the rectangle's screen position for those headers.
 */
typedef struct VncTight {
    z_stream zs[4];
    bool active[4];
    uint32_t *px;               /* one chunk's pixel values */
    GByteArray *data, *zbuf;    /* a chunk's uncompressed and compressed data */
} VncTight;

int vnc_enc_tight(VncTight *t, const VncConv *cv, const uint8_t *src, int stride,
                  int x, int y, int w, int h, GByteArray *out);
void vnc_tight_free(VncTight *t);

#endif
