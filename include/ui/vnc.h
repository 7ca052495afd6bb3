/*
 * VNC (RFB, RFC 6143) pieces that take plain buffers: client message parsing, pixel format
 * checks and conversion, and the DES of VNC Authentication.  The server (sockets, clients,
 * encodings) builds on these; keeping them free of I/O lets tests feed them garbage.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_VNC_H
#define UI_VNC_H

#include "kite/osdep.h"

#define VNC_AUTH_CHALLENGE_SIZE 16
#define VNC_MAX_ENCODINGS       256         /* more in one SetEncodings: a broken client */
#define VNC_MAX_CUT_TEXT        (1 << 20)   /* ClientCutText longer than this: disconnect */

/* RFC 6143 section 7.4: PIXEL_FORMAT. */
typedef struct VncPixelFormat {
    uint8_t bits_per_pixel, depth;
    bool big_endian, true_colour;
    uint16_t red_max, green_max, blue_max;
    uint8_t red_shift, green_shift, blue_shift;
} VncPixelFormat;

/* Client-to-server message types (section 7.5). */
enum {
    VNC_MSG_SET_PIXEL_FORMAT = 0,
    VNC_MSG_SET_ENCODINGS = 2,
    VNC_MSG_FRAMEBUFFER_UPDATE_REQUEST = 3,
    VNC_MSG_KEY_EVENT = 4,
    VNC_MSG_POINTER_EVENT = 5,
    VNC_MSG_CLIENT_CUT_TEXT = 6,
};

/* Encodings (section 7.7 and the IANA RFB registry). */
enum {
    VNC_ENC_RAW = 0,
    VNC_ENC_COPYRECT = 1,
    VNC_ENC_HEXTILE = 5,
    VNC_ENC_TIGHT = 7,
    VNC_ENC_ZRLE = 16,
    VNC_ENC_DESKTOP_SIZE = -223,
};

typedef struct VncClientMsg {
    uint8_t type;
    union {
        VncPixelFormat pf;
        struct { int n; int32_t list[VNC_MAX_ENCODINGS]; } enc;
        struct { bool incremental; uint16_t x, y, w, h; } fur;
        struct { bool down; uint32_t keysym; } key;
        struct { uint8_t mask; uint16_t x, y; } ptr;
        struct { uint32_t len; } cut;               /* text skipped */
    };
} VncClientMsg;

/*
 * Parse one client message from buf[0..len).  Returns the bytes it occupies (> 0), 0 when
 * more bytes are needed, or -1 for a protocol error (unknown type, too many encodings, cut
 * text over the cap, bad pixel format), with *why set to a static string for the log.
 */
int vnc_parse_client_msg(const uint8_t *buf, size_t len, VncClientMsg *msg, const char **why);

/* A pixel format the server can produce: true colour, 8/16/32 bpp, maxima fitting. */
bool vnc_pixel_format_valid(const VncPixelFormat *pf, const char **why);
/* The 16 bytes of a PIXEL_FORMAT (ServerInit, SetPixelFormat). */
void vnc_pixel_format_encode(const VncPixelFormat *pf, uint8_t out[16]);
/* Convert one 0x00RRGGBB pixel; writes bits_per_pixel / 8 bytes and returns that count. */
int vnc_convert_pixel(const VncPixelFormat *pf, uint32_t xrgb, uint8_t *out);

/* vnc-des.c */
uint64_t vnc_des_encrypt_block(uint64_t key, uint64_t block);
void vnc_auth_response(const char *password, const uint8_t challenge[VNC_AUTH_CHALLENGE_SIZE],
                       uint8_t response[VNC_AUTH_CHALLENGE_SIZE]);

#endif
