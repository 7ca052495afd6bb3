/*
 * VNC server (RFB 3.3/3.7/3.8, RFC 6143): listening socket, per-client handshake state
 * machine, security None and VNC Authentication, Raw, Hextile, ZRLE and Tight rectangles (the
 * first of these in the client's SetEncodings list, as QEMU picks; CopyRect is accepted but
 * never needed since the server does not track moves), the DesktopSize pseudo-encoding, key
 * and pointer events into ui/input.  websocket= adds a second port whose clients first do the
 * RFC 6455 handshake and then carry the same RFB stream in binary frames (ui/vnc-ws.c), so
 * browsers (noVNC) connect without a proxy.
 *
 * Flow control: sockets are non-blocking and every client has its own output buffer.  Screen
 * changes only grow the client's dirty rectangle; an update is built when the client has
 * asked for one (FramebufferUpdateRequest) and its previous output has drained, so a slow
 * client gets fewer, larger updates and never stalls the guest.  A client whose buffer still
 * exceeds VNC_OUTPUT_CAP is dropped.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/vnc.h"
#include "ui/vnc-enc.h"
#include "ui/vnc-ws.h"
#include "ui/vnc-server.h"
#include "ui/console.h"
#include "ui/input.h"
#include "kite/error.h"
#include "kite/main-loop.h"
#include <netdb.h>
#include <sys/socket.h>

#define VNC_OUTPUT_CAP (64u << 20)      /* buffered bytes before a client is dropped */
#define VNC_INPUT_MAX  (VNC_MAX_CUT_TEXT + 64)

typedef enum VncState {
    VNC_STATE_VERSION, VNC_STATE_SECURITY, VNC_STATE_AUTH, VNC_STATE_INIT, VNC_STATE_NORMAL,
} VncState;

typedef struct VncClient {
    int fd;
    VncState state;
    int minor;                  /* RFB 3.minor */
    GByteArray *in, *out;
    size_t out_off;             /* bytes of out already sent */
    /*
     * WebSocket clients: raw socket bytes arrive in ws_in and leave from wire (out framed);
     * in and out hold the RFB stream as for TCP clients.
     */
    bool ws, ws_open;
    GByteArray *ws_in, *wire;
    size_t wire_off;
    VncWsDecoder ws_dec;
    uint8_t challenge[VNC_AUTH_CHALLENGE_SIZE];
    VncPixelFormat pf;
    VncConv conv;               /* pf as lookup tables */
    int encoding;               /* VNC_ENC_RAW, _HEXTILE, _ZRLE or _TIGHT */
    VncZrle zrle;
    VncTight tight;
    bool update_requested, size_changed, desktop_size_ok;
    int dx0, dy0, dx1, dy1;     /* dirty rectangle; empty when dx0 >= dx1 */
    int fb_w, fb_h;             /* the framebuffer size the client was told */
    uint8_t buttons;
    int last_x, last_y;         /* previous pointer position, -1: none yet */
    struct VncClient *next;
} VncClient;

typedef struct VncServer {
    int listen_fd;
    int ws_listen_fd;           /* -1: no websocket= */
    bool auth_vnc;
    char *password;
    VncClient *clients;
    DisplayChangeListener dcl;
    DisplaySurface *surface;
} VncServer;

static VncServer *vnc;
static char *vnc_option;

static void vnc_client_free(VncClient *c);

static void put8(VncClient *c, uint8_t v)
{
    g_byte_array_append(c->out, &v, 1);
}

static void put16(VncClient *c, uint16_t v)
{
    uint8_t b[2] = { v >> 8, v };
    g_byte_array_append(c->out, b, 2);
}

static void put32(VncClient *c, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
    g_byte_array_append(c->out, b, 4);
}

static void vnc_client_write(void *opaque);


static void vnc_client_read(void *opaque);

/* Bytes produced for the client and not yet taken by its socket. */
static size_t vnc_pending(VncClient *c)
{
    return c->out->len - c->out_off + (c->ws ? c->wire->len - c->wire_off : 0);
}

static void vnc_client_arm(VncClient *c)
{
    kite_set_fd_handler(c->fd, vnc_client_read, vnc_pending(c) ? vnc_client_write : NULL, c);
}

static void vnc_disconnect(VncClient *c, const char *why)
{
    if (why) {
        warn_report("vnc: client disconnected: %s", why);
    }
    for (VncClient **p = &vnc->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    kite_set_fd_handler(c->fd, NULL, NULL, NULL);
    vnc_client_free(c);
}

static void vnc_client_free(VncClient *c)
{
    close(c->fd);
    g_byte_array_free(c->in, true);
    g_byte_array_free(c->out, true);
    if (c->ws) {
        g_byte_array_free(c->ws_in, true);
        g_byte_array_free(c->wire, true);
    }
    vnc_zrle_free(&c->zrle);
    vnc_tight_free(&c->tight);
    g_free(c);
}

/* WebSocket: what the RFB layer produced becomes one binary frame (after the handshake). */
static void vnc_ws_frame_out(VncClient *c)
{
    if (c->ws && c->ws_open && c->out->len > c->out_off) {
        vnc_ws_encode(c->wire, VNC_WS_OP_BINARY, c->out->data + c->out_off,
                      c->out->len - c->out_off);
        g_byte_array_set_size(c->out, 0);
        c->out_off = 0;
    }
}

/* Send what the socket takes now; false when the client is gone. */
static bool vnc_client_send(VncClient *c)
{
    GByteArray *buf = c->ws ? c->wire : c->out;
    size_t *off = c->ws ? &c->wire_off : &c->out_off;

    vnc_ws_frame_out(c);
    while (buf->len > *off) {
        ssize_t n = send(c->fd, buf->data + *off, buf->len - *off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            vnc_disconnect(c, NULL);
            return false;
        }
        *off += n;
    }
    if (*off == buf->len) {
        /* Drained: start over at the front instead of moving bytes around. */
        g_byte_array_set_size(buf, 0);
        *off = 0;
    }
    if (vnc_pending(c) > VNC_OUTPUT_CAP) {
        vnc_disconnect(c, "output buffer over its cap");
        return false;
    }
    vnc_client_arm(c);
    return true;
}

static void vnc_client_write(void *opaque)
{
    vnc_client_send(opaque);
}

static void vnc_dirty_all(VncClient *c)
{
    c->dx0 = c->dy0 = 0;
    c->dx1 = vnc->surface ? vnc->surface->width : 0;
    c->dy1 = vnc->surface ? vnc->surface->height : 0;
}

/* FramebufferUpdate with the dirty rectangle in the client's encoding (section 7.6.1). */
static void vnc_send_update(VncClient *c)
{
    DisplaySurface *s = vnc->surface;
    int nrects = 0;
    bool dirty;
    size_t count_at;

    /*
     * Only with a request outstanding and the previous update gone to the socket: until
     * then changes just grow the dirty rectangle (a slow client gets fewer updates).
     */
    if (!s || !c->update_requested || vnc_pending(c)) {
        return;
    }
    if (c->size_changed && c->desktop_size_ok) {
        c->fb_w = s->width;
        c->fb_h = s->height;
    }
    /*
     * A client that cannot be told about a new size keeps the old one: rectangles outside it
     * would be protocol errors, so it sees the part of the new screen that fits.
     */
    c->dx1 = MIN(c->dx1, MIN(c->fb_w, s->width));
    c->dy1 = MIN(c->dy1, MIN(c->fb_h, s->height));
    dirty = c->dx0 < c->dx1 && c->dy0 < c->dy1;
    if (!dirty && !(c->size_changed && c->desktop_size_ok)) {
        c->size_changed = false;
        return;
    }
    c->update_requested = false;
    put8(c, 0);                             /* FramebufferUpdate */
    put8(c, 0);
    nrects = (c->size_changed && c->desktop_size_ok) + dirty;
    count_at = c->out->len;
    put16(c, nrects);
    if (c->size_changed && c->desktop_size_ok) {
        put16(c, 0);
        put16(c, 0);
        put16(c, s->width);
        put16(c, s->height);
        put32(c, (uint32_t)VNC_ENC_DESKTOP_SIZE);
    }
    c->size_changed = false;
    if (dirty) {
        int x = c->dx0, y = c->dy0, w = c->dx1 - c->dx0, h = c->dy1 - c->dy0;
        const uint8_t *src = s->data + (size_t)y * s->stride + (size_t)x * 4;
        int enc = c->encoding, n;
        size_t hdr = c->out->len;

        if (enc == VNC_ENC_TIGHT) {
            /* Tight splits the rectangle and writes the rectangle headers itself. */
            n = vnc_enc_tight(&c->tight, &c->conv, src, s->stride, x, y, w, h, c->out);
            if (n > 0) {
                nrects += n - 1;
                c->out->data[count_at] = nrects >> 8;
                c->out->data[count_at + 1] = nrects;
            } else {
                g_byte_array_set_size(c->out, hdr);
            }
        }
        if (enc != VNC_ENC_TIGHT || c->out->len == hdr) {
            put16(c, x);
            put16(c, y);
            put16(c, w);
            put16(c, h);
            put32(c, enc == VNC_ENC_TIGHT ? VNC_ENC_RAW : enc);
        }
        if (enc == VNC_ENC_ZRLE && !vnc_enc_zrle(&c->zrle, &c->conv, src, s->stride, w, h,
                                                 c->out)) {
            g_byte_array_set_size(c->out, hdr + 12);
            c->out->data[hdr + 8] = c->out->data[hdr + 9] = 0;
            c->out->data[hdr + 10] = c->out->data[hdr + 11] = 0;
            enc = VNC_ENC_RAW;
        }
        if (enc == VNC_ENC_TIGHT && c->out->len == hdr + 12) {
            enc = VNC_ENC_RAW;
        }
        if (enc != c->encoding) {
            /*
             * zlib failed (out of memory): the client's stream is out of step now, so this
             * and all later rectangles go out as Raw.
             */
            warn_report("vnc: zlib failed, client falls back to Raw");
            c->encoding = VNC_ENC_RAW;
        }
        if (enc == VNC_ENC_HEXTILE) {
            vnc_enc_hextile(&c->conv, src, s->stride, w, h, c->out);
        } else if (enc == VNC_ENC_RAW) {
            vnc_enc_raw(&c->conv, src, s->stride, w, h, c->out);
        }
        c->dx0 = c->dx1 = c->dy0 = c->dy1 = 0;
    }
    /* The caller sends: sending may drop the client. */
}

static void vnc_send_server_init(VncClient *c)
{
    static const char name[] = "Kite";
    uint8_t pf[16];

    c->fb_w = vnc->surface->width;
    c->fb_h = vnc->surface->height;
    put16(c, c->fb_w);
    put16(c, c->fb_h);
    vnc_pixel_format_encode(&c->pf, pf);
    g_byte_array_append(c->out, pf, 16);
    put32(c, strlen(name));
    g_byte_array_append(c->out, (const guint8 *)name, strlen(name));
}

static void vnc_handle_pointer(VncClient *c, uint8_t mask, uint16_t x, uint16_t y)
{
    static const InputButton map[] = {
        INPUT_BUTTON_LEFT, INPUT_BUTTON_MIDDLE, INPUT_BUTTON_RIGHT,
        INPUT_BUTTON_WHEEL_UP, INPUT_BUTTON_WHEEL_DOWN,
    };
    DisplaySurface *s = vnc->surface;

    for (int i = 0; i < 5; i++) {
        if ((mask ^ c->buttons) & (1u << i)) {
            input_queue_btn(map[i], mask & (1u << i));
        }
    }
    c->buttons = mask;
    if (input_mouse_is_absolute()) {
        if (s) {
            input_queue_abs(INPUT_AXIS_X, x, s->width);
            input_queue_abs(INPUT_AXIS_Y, y, s->height);
        }
    } else if (c->last_x >= 0) {
        /*
         * Only a relative mouse (PS/2): RFB positions become deltas from the previous
         * event, as QEMU does; the guest cursor follows as long as it is not accelerated.
         */
        if (x != c->last_x) {
            input_queue_rel(INPUT_AXIS_X, x - c->last_x);
        }
        if (y != c->last_y) {
            input_queue_rel(INPUT_AXIS_Y, y - c->last_y);
        }
    }
    c->last_x = x;
    c->last_y = y;
    input_event_sync();
}

static void vnc_handle_msg(VncClient *c, const VncClientMsg *m)
{
    DisplaySurface *s = vnc->surface;

    switch (m->type) {
    case VNC_MSG_SET_PIXEL_FORMAT:
        c->pf = m->pf;
        vnc_conv_init(&c->conv, &c->pf);
        vnc_dirty_all(c);
        break;
    case VNC_MSG_SET_ENCODINGS:
        /* The client lists encodings by preference (7.5.2): the first one we have wins. */
        c->desktop_size_ok = false;
        c->encoding = VNC_ENC_RAW;
        for (int i = m->enc.n - 1; i >= 0; i--) {
            int32_t e = m->enc.list[i];
            if (e == VNC_ENC_RAW || e == VNC_ENC_HEXTILE || e == VNC_ENC_ZRLE ||
                e == VNC_ENC_TIGHT) {
                c->encoding = e;
            }
            c->desktop_size_ok |= e == VNC_ENC_DESKTOP_SIZE;
        }
        break;
    case VNC_MSG_FRAMEBUFFER_UPDATE_REQUEST:
        c->update_requested = true;
        if (!m->fur.incremental) {
            /*
             * Answered now, so render the guest's screen first: between refresh ticks
             * (up to GUI_REFRESH_INTERVAL_IDLE apart on a quiet screen) the surface can
             * lag VRAM, and a one-shot client (vncsnapshot) would keep the stale picture.
             * Rendering may switch the surface (a mode change): take it afresh.
             */
            graphic_hw_update(NULL);
            s = vnc->surface;
        }
        if (!m->fur.incremental && s) {
            /* Clip the request to the screen, then merge it into the dirty area. */
            int x0 = MIN(m->fur.x, s->width), y0 = MIN(m->fur.y, s->height);
            int x1 = MIN(m->fur.x + m->fur.w, s->width);
            int y1 = MIN(m->fur.y + m->fur.h, s->height);
            if (x0 < x1 && y0 < y1) {
                if (c->dx0 >= c->dx1 || c->dy0 >= c->dy1) {
                    c->dx0 = x0, c->dy0 = y0, c->dx1 = x1, c->dy1 = y1;
                } else {
                    c->dx0 = MIN(c->dx0, x0), c->dy0 = MIN(c->dy0, y0);
                    c->dx1 = MAX(c->dx1, x1), c->dy1 = MAX(c->dy1, y1);
                }
            }
        }
        vnc_send_update(c);
        break;
    case VNC_MSG_KEY_EVENT:
        input_event_send_key_qcode(input_keysym_to_qcode(m->key.keysym), m->key.down);
        break;
    case VNC_MSG_POINTER_EVENT:
        vnc_handle_pointer(c, m->ptr.mask, m->ptr.x, m->ptr.y);
        break;
    default:
        break;      /* ClientCutText: no clipboard */
    }
}

/* Best effort before a disconnect: whatever the socket takes now. */
static void vnc_send_final(VncClient *c)
{
    GByteArray *buf = c->ws ? c->wire : c->out;
    size_t off = c->ws ? c->wire_off : c->out_off;

    vnc_ws_frame_out(c);
    if (send(c->fd, buf->data + off, buf->len - off, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* nothing to do: the client is dropped anyway */
    }
}

/*
 * WebSocket: do the handshake, then unwrap frames from ws_in into in and answer control
 * frames.  False: the client was dropped.
 */
static bool vnc_ws_process(VncClient *c)
{
    const char *why = NULL;
    int n;

    if (!c->ws_open) {
        g_autoptr(GString) reply = g_string_new(NULL);

        n = vnc_ws_handshake(c->ws_in->data, c->ws_in->len, reply, &why);
        g_byte_array_append(c->wire, (const guint8 *)reply->str, reply->len);
        if (n < 0) {
            vnc_send_final(c);
            vnc_disconnect(c, why);
            return false;
        }
        if (n == 0) {
            return true;
        }
        g_byte_array_remove_range(c->ws_in, 0, n);
        c->ws_open = true;              /* the version greeting in out goes out framed now */
    }
    for (;;) {
        VncWsFrame f;
        uint16_t code = 0;

        n = vnc_ws_decode(&c->ws_dec, c->ws_in->data, c->ws_in->len, &f, c->in, &why, &code);
        if (n < 0) {
            vnc_ws_frame_out(c);
            vnc_ws_encode_close(c->wire, code);
            vnc_send_final(c);
            vnc_disconnect(c, why);
            return false;
        }
        if (n == 0) {
            return true;
        }
        g_byte_array_remove_range(c->ws_in, 0, n);
        switch (f.opcode) {
        case VNC_WS_OP_PING:            /* 5.5.2: answer with the same data */
            vnc_ws_frame_out(c);
            vnc_ws_encode(c->wire, VNC_WS_OP_PONG, f.control, f.control_len);
            break;
        case VNC_WS_OP_CLOSE:           /* 5.5.1: echo the status, then close */
            vnc_ws_frame_out(c);
            vnc_ws_encode_close(c->wire, f.close_code ? f.close_code : VNC_WS_CLOSE_NORMAL);
            vnc_send_final(c);
            vnc_disconnect(c, NULL);
            return false;
        default:
            break;
        }
    }
}

/* Consume complete handshake steps and messages from c->in; false: client dropped. */
static bool vnc_process(VncClient *c)
{
    for (;;) {
        const uint8_t *b = c->in->data;
        size_t len = c->in->len;
        const char *why = NULL;
        VncClientMsg msg;
        int n;

        switch (c->state) {
        case VNC_STATE_VERSION:             /* section 7.1.1: "RFB 003.00x\n" */
            if (len < 12) {
                return true;
            }
            if (memcmp(b, "RFB 003.", 8) || b[11] != '\n' || !g_ascii_isdigit(b[8]) ||
                !g_ascii_isdigit(b[9]) || !g_ascii_isdigit(b[10])) {
                vnc_disconnect(c, "bad protocol version");
                return false;
            }
            c->minor = (b[8] - '0') * 100 + (b[9] - '0') * 10 + (b[10] - '0');
            /* Unknown minors are treated as 3.3, as the RFC recommends. */
            c->minor = c->minor >= 8 ? 8 : c->minor == 7 ? 7 : 3;
            g_byte_array_remove_range(c->in, 0, 12);
            if (c->minor == 3) {
                /* 3.3: the server decides (section 7.1.2, "Version 3.3"). */
                put32(c, vnc->auth_vnc ? 2 : 1);
                c->state = vnc->auth_vnc ? VNC_STATE_AUTH : VNC_STATE_INIT;
                if (vnc->auth_vnc) {
                    g_byte_array_append(c->out, c->challenge, sizeof(c->challenge));
                }
            } else {
                put8(c, 1);
                put8(c, vnc->auth_vnc ? 2 : 1);
                c->state = VNC_STATE_SECURITY;
            }
            break;
        case VNC_STATE_SECURITY:
            if (len < 1) {
                return true;
            }
            if (b[0] != (vnc->auth_vnc ? 2 : 1)) {
                vnc_disconnect(c, "client chose a security type not offered");
                return false;
            }
            g_byte_array_remove_range(c->in, 0, 1);
            if (vnc->auth_vnc) {
                g_byte_array_append(c->out, c->challenge, sizeof(c->challenge));
                c->state = VNC_STATE_AUTH;
            } else {
                if (c->minor == 8) {
                    put32(c, 0);            /* SecurityResult OK (3.8 sends it for None) */
                }
                c->state = VNC_STATE_INIT;
            }
            break;
        case VNC_STATE_AUTH: {
            uint8_t expect[VNC_AUTH_CHALLENGE_SIZE];
            bool ok;

            if (len < VNC_AUTH_CHALLENGE_SIZE) {
                return true;
            }
            /* No password set (password=on alone): every attempt fails, as in QEMU. */
            vnc_auth_response(vnc->password, c->challenge, expect);
            ok = vnc->password && !memcmp(expect, b, sizeof(expect));
            g_byte_array_remove_range(c->in, 0, VNC_AUTH_CHALLENGE_SIZE);
            put32(c, ok ? 0 : 1);
            if (!ok) {
                if (c->minor == 8) {
                    static const char reason[] = "Authentication failed";
                    put32(c, strlen(reason));
                    g_byte_array_append(c->out, (const guint8 *)reason, strlen(reason));
                }
                vnc_send_final(c);
                vnc_disconnect(c, "authentication failed");
                return false;
            }
            c->state = VNC_STATE_INIT;
            break;
        }
        case VNC_STATE_INIT:                /* ClientInit: the shared flag (all share) */
            if (len < 1) {
                return true;
            }
            g_byte_array_remove_range(c->in, 0, 1);
            vnc_send_server_init(c);
            c->state = VNC_STATE_NORMAL;
            break;
        case VNC_STATE_NORMAL:
            n = vnc_parse_client_msg(b, len, &msg, &why);
            if (n < 0) {
                vnc_disconnect(c, why);
                return false;
            }
            if (n == 0) {
                return true;
            }
            g_byte_array_remove_range(c->in, 0, n);
            vnc_handle_msg(c, &msg);
            break;
        }
    }
}

static void vnc_client_read(void *opaque)
{
    VncClient *c = opaque;
    uint8_t buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        vnc_disconnect(c, NULL);
        return;
    }
    if (c->ws) {
        g_byte_array_append(c->ws_in, buf, n);
        if (c->ws_in->len > VNC_WS_MAX_FRAME + 64) {
            vnc_disconnect(c, "WebSocket input buffer overflow");
            return;
        }
        if (!vnc_ws_process(c)) {
            return;
        }
    } else {
        g_byte_array_append(c->in, buf, n);
    }
    if (c->in->len > VNC_INPUT_MAX) {
        vnc_disconnect(c, "input buffer overflow");
        return;
    }
    if (vnc_process(c)) {
        vnc_client_send(c);
    }
}

static void vnc_accept(void *opaque)
{
    bool ws = opaque != NULL;
    int fd = accept4(ws ? vnc->ws_listen_fd : vnc->listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    VncClient *c;

    if (fd < 0) {
        return;
    }
    c = g_new0(VncClient, 1);
    c->fd = fd;
    c->in = g_byte_array_new();
    c->out = g_byte_array_new();
    if (ws) {
        c->ws = true;
        c->ws_in = g_byte_array_new();
        c->wire = g_byte_array_new();
    }
    /* The server's native format until SetPixelFormat: 32 bpp xRGB little endian. */
    c->pf = (VncPixelFormat) { 32, 24, false, true, 255, 255, 255, 16, 8, 0 };
    vnc_conv_init(&c->conv, &c->pf);
    c->encoding = VNC_ENC_RAW;
    c->last_x = c->last_y = -1;
    for (int i = 0; i < VNC_AUTH_CHALLENGE_SIZE; i += 4) {
        uint32_t r = g_random_int();
        memcpy(c->challenge + i, &r, 4);
    }
    vnc_dirty_all(c);
    c->next = vnc->clients;
    vnc->clients = c;
    g_byte_array_append(c->out, (const guint8 *)"RFB 003.008\n", 12);
    vnc_client_send(c);
}

/* --- console listener -------------------------------------------------------- */

static void vnc_dpy_update(DisplayChangeListener *dcl, int x, int y, int w, int h)
{
    for (VncClient *c = vnc->clients; c; c = c->next) {
        if (c->dx0 >= c->dx1 || c->dy0 >= c->dy1) {
            c->dx0 = x, c->dy0 = y, c->dx1 = x + w, c->dy1 = y + h;
        } else {
            c->dx0 = MIN(c->dx0, x), c->dy0 = MIN(c->dy0, y);
            c->dx1 = MAX(c->dx1, x + w), c->dy1 = MAX(c->dy1, y + h);
        }
    }
}

static void vnc_dpy_switch(DisplayChangeListener *dcl, DisplaySurface *s)
{
    vnc->surface = s;
    for (VncClient *c = vnc->clients; c; c = c->next) {
        c->size_changed = true;
        vnc_dirty_all(c);
    }
}

static void vnc_dpy_refresh(DisplayChangeListener *dcl)
{
    VncClient *next;

    for (VncClient *c = vnc->clients; c; c = next) {
        next = c->next;
        if (c->state == VNC_STATE_NORMAL) {
            vnc_send_update(c);
            vnc_client_send(c);
        }
    }
}

static const DisplayChangeListenerOps vnc_dcl_ops = {
    .dpy_name = "vnc",
    .dpy_refresh = vnc_dpy_refresh,
    .dpy_gfx_update = vnc_dpy_update,
    .dpy_gfx_switch = vnc_dpy_switch,
};

/* --- set-up ---------------------------------------------------------------------- */

void vnc_set_option(const char *optarg)
{
    g_free(vnc_option);
    vnc_option = g_strdup(optarg);
}

bool vnc_display_set_password(const char *password, Error **errp)
{
    if (!vnc || !vnc->auth_vnc) {
        error_setg(errp, "vnc: password authentication is not enabled (password=on)");
        return false;
    }
    g_free(vnc->password);
    vnc->password = g_strdup(password);
    return true;
}

int vnc_display_port(void)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (!vnc || getsockname(vnc->listen_fd, (struct sockaddr *)&ss, &len) < 0) {
        return -1;
    }
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* A listening TCP socket on host (empty: any) and port; -1 and errp on failure. */
static int vnc_listen(const char *host, long port, Error **errp)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *ai = NULL;
    char service[16];
    int fd, one = 1;

    snprintf(service, sizeof(service), "%ld", port);
    if (getaddrinfo(*host ? host : NULL, service, &hints, &ai) != 0 || !ai) {
        error_setg(errp, "-vnc: cannot resolve '%s'", host);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 8) < 0) {
        error_setg_errno(errp, errno, "-vnc: cannot listen on port %s", service);
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static bool parse_port(const char *s, long *port)
{
    char *end;

    errno = 0;
    *port = strtol(s, &end, 10);
    return *s && !*end && !errno && *port >= 0 && *port <= 65535;
}

/*
 * "[host]:N[,password=on][,websocket=on|PORT|HOST:PORT]": display N listens on TCP port
 * 5900 + N; a bare websocket (or =on) adds port 5700 + N on the same host, as QEMU does.
 */
bool vnc_display_start(Error **errp)
{
    g_auto(GStrv) parts = NULL;
    g_autofree char *host = NULL, *ws_host = NULL;
    const char *colon;
    char *end;
    long display, ws_port = -1;
    bool auth = false;
    int fd, ws_fd = -1;

    if (!vnc_option || !strcmp(vnc_option, "none")) {
        return true;
    }
    parts = g_strsplit(vnc_option, ",", -1);
    colon = strrchr(parts[0], ':');
    display = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || end == colon + 1 || *end || display < 0 || display > 59635) {
        error_setg(errp, "-vnc %s: expected [host]:display", vnc_option);
        return false;
    }
    host = g_strndup(parts[0], colon - parts[0]);
    for (int i = 1; parts[i]; i++) {
        const char *p = parts[i];

        if (!strcmp(p, "password=on") || !strcmp(p, "password")) {
            auth = true;
        } else if (!strcmp(p, "websocket") || !strcmp(p, "websocket=on")) {
            ws_port = 5700 + display;
            g_free(ws_host);
            ws_host = g_strdup(host);
        } else if (!strcmp(p, "websocket=off")) {
            ws_port = -1;
        } else if (g_str_has_prefix(p, "websocket=")) {
            const char *v = p + strlen("websocket="), *c = strrchr(v, ':');
            g_free(ws_host);
            ws_host = c ? g_strndup(v, c - v) : g_strdup(host);
            if (!parse_port(c ? c + 1 : v, &ws_port)) {
                error_setg(errp, "-vnc: websocket=%s: expected on, off, a port or host:port",
                           v);
                return false;
            }
        } else if (strcmp(p, "password=off") && strcmp(p, "share=ignore") &&
                   strcmp(p, "share=allow-exclusive")) {
            error_setg(errp, "-vnc: unsupported option '%s'", p);
            return false;
        }
    }
    fd = vnc_listen(host, 5900 + display, errp);
    if (fd < 0) {
        return false;
    }
    if (ws_port >= 0) {
        ws_fd = vnc_listen(ws_host, ws_port, errp);
        if (ws_fd < 0) {
            close(fd);
            return false;
        }
    }
    vnc = g_new0(VncServer, 1);
    vnc->listen_fd = fd;
    vnc->ws_listen_fd = ws_fd;
    vnc->auth_vnc = auth;
    vnc->dcl.ops = &vnc_dcl_ops;
    register_displaychangelistener(&vnc->dcl);
    kite_set_fd_handler(fd, vnc_accept, NULL, NULL);
    if (ws_fd >= 0) {
        /* A non-NULL opaque tells vnc_accept which socket it was. */
        kite_set_fd_handler(ws_fd, vnc_accept, NULL, vnc);
    }
    return true;
}
