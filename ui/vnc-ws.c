/*
 * WebSocket (RFC 6455) server side on plain buffers: opening handshake and framing.
 *
 * The VNC websocket port speaks the "binary" subprotocol: RFB bytes travel as the payload
 * of binary frames, fragmented or not.  Text frames carry nothing RFB can use (QEMU refuses
 * them too), so they close the connection with 1003.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/vnc-ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"     /* 4.2.2 item 5.4 */

char *vnc_ws_accept_key(const char *key)
{
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA1);
    uint8_t digest[20];
    gsize dlen = sizeof(digest);

    g_checksum_update(ck, (const guchar *)key, strlen(key));
    g_checksum_update(ck, (const guchar *)WS_GUID, strlen(WS_GUID));
    g_checksum_get_digest(ck, digest, &dlen);
    g_checksum_free(ck);
    return g_base64_encode(digest, dlen);
}

/* Does a comma-separated header value contain token (case-insensitive)? */
static bool has_token(const char *value, const char *token)
{
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);

    for (int i = 0; parts[i]; i++) {
        if (!g_ascii_strcasecmp(g_strstrip(parts[i]), token)) {
            return true;
        }
    }
    return false;
}

static int refuse(GString *reply, const char **why, const char *reason)
{
    *why = reason;
    g_string_append(reply, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                           "Content-Length: 0\r\n\r\n");
    return -1;
}

int vnc_ws_handshake(const uint8_t *buf, size_t len, GString *reply, const char **why)
{
    const uint8_t *end = NULL;
    g_autofree char *text = NULL, *accept = NULL;
    g_auto(GStrv) lines = NULL;
    const char *upgrade = NULL, *connection = NULL, *version = NULL, *key = NULL;
    const char *protocol = NULL;
    size_t req_len;

    for (size_t i = 0; i + 4 <= len; i++) {
        if (!memcmp(buf + i, "\r\n\r\n", 4)) {
            end = buf + i;
            break;
        }
    }
    if (!end) {
        if (len > VNC_WS_MAX_HANDSHAKE) {
            return refuse(reply, why, "WebSocket handshake too long");
        }
        return 0;
    }
    req_len = end - buf + 4;
    if (req_len > VNC_WS_MAX_HANDSHAKE) {
        return refuse(reply, why, "WebSocket handshake too long");
    }
    if (memchr(buf, 0, end - buf)) {
        return refuse(reply, why, "NUL byte in the WebSocket handshake");
    }
    text = g_strndup((const char *)buf, end - buf);
    lines = g_strsplit(text, "\r\n", -1);
    /* 4.2.1 item 1: an HTTP/1.1 (or later) GET. */
    if (!g_str_has_prefix(lines[0], "GET ") || !g_str_has_suffix(lines[0], " HTTP/1.1")) {
        return refuse(reply, why, "not an HTTP/1.1 GET request");
    }
    for (int i = 1; lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        char *name, *value;

        if (!colon) {
            return refuse(reply, why, "malformed HTTP header line");
        }
        *colon = 0;
        name = g_strstrip(lines[i]);
        value = g_strstrip(colon + 1);
        if (!g_ascii_strcasecmp(name, "Upgrade")) {
            upgrade = value;
        } else if (!g_ascii_strcasecmp(name, "Connection")) {
            connection = value;
        } else if (!g_ascii_strcasecmp(name, "Sec-WebSocket-Version")) {
            version = value;
        } else if (!g_ascii_strcasecmp(name, "Sec-WebSocket-Key")) {
            key = value;
        } else if (!g_ascii_strcasecmp(name, "Sec-WebSocket-Protocol")) {
            protocol = value;
        }
    }
    if (!upgrade || !has_token(upgrade, "websocket")) {
        return refuse(reply, why, "missing 'Upgrade: websocket'");
    }
    if (!connection || !has_token(connection, "upgrade")) {
        return refuse(reply, why, "missing 'Connection: Upgrade'");
    }
    if (!version || strcmp(version, "13")) {
        return refuse(reply, why, "unsupported Sec-WebSocket-Version (13 only)");
    }
    /* 4.1: the key is 16 random bytes in base64, i.e. 24 characters. */
    if (!key || strlen(key) != 24) {
        return refuse(reply, why, "missing or malformed Sec-WebSocket-Key");
    }
    /* A client that names subprotocols must be offered one of them: "binary" only. */
    if (protocol && !has_token(protocol, "binary")) {
        return refuse(reply, why, "client does not offer the 'binary' subprotocol");
    }
    accept = vnc_ws_accept_key(key);
    g_string_append_printf(reply, "HTTP/1.1 101 Switching Protocols\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: %s\r\n", accept);
    if (protocol) {
        g_string_append(reply, "Sec-WebSocket-Protocol: binary\r\n");
    }
    g_string_append(reply, "\r\n");
    return req_len;
}

static int fail(const char **why, uint16_t *close_code, const char *reason, uint16_t code)
{
    *why = reason;
    *close_code = code;
    return -1;
}

int vnc_ws_decode(VncWsDecoder *d, const uint8_t *buf, size_t len, VncWsFrame *f,
                  GByteArray *data, const char **why, uint16_t *close_code)
{
    uint64_t plen;
    size_t hdr = 2;
    const uint8_t *mask, *payload;
    bool control;

    if (len < 2) {
        return 0;
    }
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0f;
    f->close_code = 0;
    f->control_len = 0;
    control = f->opcode & 8;
    /* 5.2: RSV1-3 must be 0 without a negotiated extension (none is). */
    if (buf[0] & 0x70) {
        return fail(why, close_code, "WebSocket frame with reserved bits set",
                    VNC_WS_CLOSE_PROTOCOL);
    }
    /* 5.1: a server must close on an unmasked client frame. */
    if (!(buf[1] & 0x80)) {
        return fail(why, close_code, "unmasked WebSocket client frame", VNC_WS_CLOSE_PROTOCOL);
    }
    plen = buf[1] & 0x7f;
    if (plen == 126) {
        if (len < 4) {
            return 0;
        }
        plen = (uint64_t)buf[2] << 8 | buf[3];
        hdr = 4;
    } else if (plen == 127) {
        if (len < 10) {
            return 0;
        }
        plen = 0;
        for (int i = 0; i < 8; i++) {
            plen = plen << 8 | buf[2 + i];
        }
        hdr = 10;
    }
    switch (f->opcode) {
    case VNC_WS_OP_CONTINUATION:
        if (!d->in_message) {
            return fail(why, close_code, "WebSocket continuation without a message",
                        VNC_WS_CLOSE_PROTOCOL);
        }
        break;
    case VNC_WS_OP_BINARY:
        if (d->in_message) {
            return fail(why, close_code, "WebSocket message inside an unfinished one",
                        VNC_WS_CLOSE_PROTOCOL);
        }
        break;
    case VNC_WS_OP_TEXT:
        return fail(why, close_code, "WebSocket text frames are not supported (binary only)",
                    VNC_WS_CLOSE_UNSUPPORTED);
    case VNC_WS_OP_CLOSE:
    case VNC_WS_OP_PING:
    case VNC_WS_OP_PONG:
        /* 5.5: control frames are short and never fragmented. */
        if (plen > 125 || !f->fin) {
            return fail(why, close_code, "malformed WebSocket control frame",
                        VNC_WS_CLOSE_PROTOCOL);
        }
        break;
    default:
        return fail(why, close_code, "unknown WebSocket opcode", VNC_WS_CLOSE_PROTOCOL);
    }
    if (plen > VNC_WS_MAX_FRAME) {
        return fail(why, close_code, "WebSocket frame too big", VNC_WS_CLOSE_TOO_BIG);
    }
    if (len < hdr + 4 + plen) {
        return 0;
    }
    mask = buf + hdr;
    payload = mask + 4;
    if (control) {
        for (size_t i = 0; i < plen; i++) {
            f->control[i] = payload[i] ^ mask[i & 3];
        }
        f->control_len = plen;
        if (f->opcode == VNC_WS_OP_CLOSE) {
            /* 5.5.1: an optional 2-byte status code (a 1-byte body is malformed). */
            if (plen == 1) {
                return fail(why, close_code, "malformed WebSocket close frame",
                            VNC_WS_CLOSE_PROTOCOL);
            }
            if (plen >= 2) {
                f->close_code = f->control[0] << 8 | f->control[1];
            }
        }
    } else {
        size_t at = data->len;

        g_byte_array_set_size(data, at + plen);
        for (size_t i = 0; i < plen; i++) {
            data->data[at + i] = payload[i] ^ mask[i & 3];
        }
        d->in_message = !f->fin;
    }
    return hdr + 4 + plen;
}

void vnc_ws_encode(GByteArray *out, uint8_t opcode, const uint8_t *payload, size_t len)
{
    uint8_t hdr[10];
    size_t n = 2;

    hdr[0] = 0x80 | opcode;
    if (len < 126) {
        hdr[1] = len;
    } else if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = len >> 8;
        hdr[3] = len;
        n = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++) {
            hdr[2 + i] = (uint64_t)len >> (56 - 8 * i);
        }
        n = 10;
    }
    g_byte_array_append(out, hdr, n);
    if (len) {
        g_byte_array_append(out, payload, len);
    }
}

void vnc_ws_encode_close(GByteArray *out, uint16_t code)
{
    uint8_t body[2] = { code >> 8, code };

    vnc_ws_encode(out, VNC_WS_OP_CLOSE, body, 2);
}
