/*
 * WebSocket (RFC 6455) server side for the VNC websocket port, on plain buffers: the HTTP
 * opening handshake and the framing.  The VNC server feeds received bytes in and gets RFB
 * bytes out; nothing here does I/O, so tests can drive it with truncated and random input.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_VNC_WS_H
#define UI_VNC_WS_H

#include "kite/osdep.h"

#define VNC_WS_MAX_HANDSHAKE 8192           /* a longer HTTP request: refused */
#define VNC_WS_MAX_FRAME     (1u << 21)     /* bigger client frames: refused */

enum {
    VNC_WS_OP_CONTINUATION = 0,
    VNC_WS_OP_TEXT = 1,
    VNC_WS_OP_BINARY = 2,
    VNC_WS_OP_CLOSE = 8,
    VNC_WS_OP_PING = 9,
    VNC_WS_OP_PONG = 10,
};

/* Close status codes (RFC 6455 7.4.1). */
#define VNC_WS_CLOSE_NORMAL        1000
#define VNC_WS_CLOSE_PROTOCOL      1002
#define VNC_WS_CLOSE_UNSUPPORTED   1003
#define VNC_WS_CLOSE_TOO_BIG       1009

/*
 * Parse the client's opening handshake (RFC 6455 4.2.1) from buf[0..len).  Returns the
 * bytes of the request (> 0) with the "101 Switching Protocols" response appended to reply,
 * 0 when the request is not complete yet, or -1 when it is not an acceptable WebSocket
 * request: then reply holds a "400 Bad Request" (best effort) and *why a static reason.
 */
int vnc_ws_handshake(const uint8_t *buf, size_t len, GString *reply, const char **why);

/* Sec-WebSocket-Accept for a key (4.2.2 item 5.4): base64(SHA-1(key GUID)); g_free it. */
char *vnc_ws_accept_key(const char *key);

/* Per-connection receive state. */
typedef struct VncWsDecoder {
    bool in_message;            /* a fragmented data message is in progress */
} VncWsDecoder;

typedef struct VncWsFrame {
    uint8_t opcode;
    bool fin;
    uint16_t close_code;        /* for CLOSE frames with a body, else 0 */
    uint8_t control[125];       /* control frame payload (ping data to echo) */
    size_t control_len;
} VncWsFrame;

/*
 * Decode one client frame from buf[0..len) (RFC 6455 5.2).  Data frames (binary and their
 * continuations) have their unmasked payload appended to data; control frames are returned
 * in *f for the caller to answer.  Returns the bytes consumed (> 0), 0 when the frame is
 * incomplete, or -1 on a protocol violation (unmasked, reserved bits, text frames, bad
 * fragmentation, oversized), with *why and *close_code (the status to close with) set.
 */
int vnc_ws_decode(VncWsDecoder *d, const uint8_t *buf, size_t len, VncWsFrame *f,
                  GByteArray *data, const char **why, uint16_t *close_code);

/* Append a server frame (FIN set, unmasked, as 5.1 requires of servers). */
void vnc_ws_encode(GByteArray *out, uint8_t opcode, const uint8_t *payload, size_t len);
/* A CLOSE frame with a status code. */
void vnc_ws_encode_close(GByteArray *out, uint16_t code);

#endif
