/*
 * RFB client message parsing and pixel formats (RFC 6143 sections 7.4 and 7.5), on plain
 * buffers: the server hands in whatever it has received, so every length is checked before
 * it is read and a message is only consumed once complete.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/vnc.h"

static uint16_t rd16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

bool vnc_pixel_format_valid(const VncPixelFormat *pf, const char **why)
{
    unsigned bpp = pf->bits_per_pixel;

    /* Colour maps (true-colour-flag 0) would need SetColourMapEntries: not offered. */
    if (!pf->true_colour) {
        *why = "colour-map pixel formats are not supported";
        return false;
    }
    if (bpp != 8 && bpp != 16 && bpp != 32) {
        *why = "bits-per-pixel must be 8, 16 or 32";
        return false;
    }
    if (!pf->red_max || !pf->green_max || !pf->blue_max ||
        pf->red_shift >= bpp || pf->green_shift >= bpp || pf->blue_shift >= bpp ||
        (uint64_t)pf->red_max << pf->red_shift >> bpp ||
        (uint64_t)pf->green_max << pf->green_shift >> bpp ||
        (uint64_t)pf->blue_max << pf->blue_shift >> bpp) {
        *why = "colour maxima or shifts do not fit the pixel";
        return false;
    }
    return true;
}

void vnc_pixel_format_encode(const VncPixelFormat *pf, uint8_t out[16])
{
    out[0] = pf->bits_per_pixel;
    out[1] = pf->depth;
    out[2] = pf->big_endian;
    out[3] = pf->true_colour;
    out[4] = pf->red_max >> 8;
    out[5] = pf->red_max;
    out[6] = pf->green_max >> 8;
    out[7] = pf->green_max;
    out[8] = pf->blue_max >> 8;
    out[9] = pf->blue_max;
    out[10] = pf->red_shift;
    out[11] = pf->green_shift;
    out[12] = pf->blue_shift;
    out[13] = out[14] = out[15] = 0;    /* padding */
}

static uint32_t scale(uint32_t v8, uint16_t max)
{
    return (v8 * max + 127) / 255;
}

int vnc_convert_pixel(const VncPixelFormat *pf, uint32_t xrgb, uint8_t *out)
{
    uint32_t v = scale((xrgb >> 16) & 0xff, pf->red_max) << pf->red_shift |
                 scale((xrgb >> 8) & 0xff, pf->green_max) << pf->green_shift |
                 scale(xrgb & 0xff, pf->blue_max) << pf->blue_shift;
    int n = pf->bits_per_pixel / 8;

    for (int i = 0; i < n; i++) {
        int shift = pf->big_endian ? 8 * (n - 1 - i) : 8 * i;
        out[i] = v >> shift;
    }
    return n;
}

int vnc_parse_client_msg(const uint8_t *buf, size_t len, VncClientMsg *msg, const char **why)
{
    uint32_t n;

    if (len < 1) {
        return 0;
    }
    msg->type = buf[0];
    switch (buf[0]) {
    case VNC_MSG_SET_PIXEL_FORMAT:          /* 1 type, 3 padding, 16 PIXEL_FORMAT */
        if (len < 20) {
            return 0;
        }
        msg->pf = (VncPixelFormat) {
            .bits_per_pixel = buf[4], .depth = buf[5],
            .big_endian = buf[6] != 0, .true_colour = buf[7] != 0,
            .red_max = rd16(buf + 8), .green_max = rd16(buf + 10), .blue_max = rd16(buf + 12),
            .red_shift = buf[14], .green_shift = buf[15], .blue_shift = buf[16],
        };
        if (!vnc_pixel_format_valid(&msg->pf, why)) {
            return -1;
        }
        return 20;
    case VNC_MSG_SET_ENCODINGS:             /* 1 type, 1 padding, 2 count, 4 per encoding */
        if (len < 4) {
            return 0;
        }
        n = rd16(buf + 2);
        if (n > VNC_MAX_ENCODINGS) {
            *why = "SetEncodings with too many encodings";
            return -1;
        }
        if (len < 4 + 4 * n) {
            return 0;
        }
        msg->enc.n = n;
        for (uint32_t i = 0; i < n; i++) {
            msg->enc.list[i] = (int32_t)rd32(buf + 4 + 4 * i);
        }
        return 4 + 4 * n;
    case VNC_MSG_FRAMEBUFFER_UPDATE_REQUEST:
        if (len < 10) {
            return 0;
        }
        msg->fur.incremental = buf[1] != 0;
        msg->fur.x = rd16(buf + 2);
        msg->fur.y = rd16(buf + 4);
        msg->fur.w = rd16(buf + 6);
        msg->fur.h = rd16(buf + 8);
        return 10;
    case VNC_MSG_KEY_EVENT:                 /* 1 type, 1 down, 2 padding, 4 keysym */
        if (len < 8) {
            return 0;
        }
        msg->key.down = buf[1] != 0;
        msg->key.keysym = rd32(buf + 4);
        return 8;
    case VNC_MSG_POINTER_EVENT:
        if (len < 6) {
            return 0;
        }
        msg->ptr.mask = buf[1];
        msg->ptr.x = rd16(buf + 2);
        msg->ptr.y = rd16(buf + 4);
        return 6;
    case VNC_MSG_CLIENT_CUT_TEXT:           /* 1 type, 3 padding, 4 length, text */
        if (len < 8) {
            return 0;
        }
        n = rd32(buf + 4);
        if (n > VNC_MAX_CUT_TEXT) {
            *why = "ClientCutText too long";
            return -1;
        }
        if (len < 8 + (size_t)n) {
            return 0;
        }
        msg->cut.len = n;
        return 8 + n;
    default:
        *why = "unknown client message type";
        return -1;
    }
}
