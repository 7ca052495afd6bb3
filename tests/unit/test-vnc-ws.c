/*
 * WebSocket pieces of the VNC server without sockets: the handshake against RFC 6455's own
 * example key, refusals of non-WebSocket requests, frames (the RFC 5.7 examples, lengths at
 * the 7/16/64-bit boundaries, fragmentation with interleaved control frames, protocol
 * violations), every truncation of a valid frame, and random input.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "ui/vnc-ws.h"

static const char good_request[] =
    "GET /websockify HTTP/1.1\r\n"
    "Host: localhost:5700\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: binary, base64\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

static void test_accept_key(void)
{
    /* RFC 6455 section 1.3. */
    g_autofree char *a = vnc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==");

    g_assert_cmpstr(a, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_handshake(void)
{
    size_t len = strlen(good_request);
    g_autoptr(GString) reply = g_string_new(NULL);
    g_autofree char *twice = g_strconcat(good_request, "RFB", NULL);
    const char *why = NULL;

    for (size_t i = 0; i < len; i++) {
        g_assert_cmpint(vnc_ws_handshake((const uint8_t *)good_request, i, reply, &why), ==, 0);
    }
    g_assert_cmpuint(reply->len, ==, 0);
    /* Bytes after the request are the first frames: not consumed. */
    g_assert_cmpint(vnc_ws_handshake((const uint8_t *)twice, len + 3, reply, &why), ==, len);
    g_assert_true(g_str_has_prefix(reply->str, "HTTP/1.1 101 Switching Protocols\r\n"));
    g_assert_nonnull(strstr(reply->str, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    g_assert_nonnull(strstr(reply->str, "Sec-WebSocket-Protocol: binary\r\n"));
    g_assert_true(g_str_has_suffix(reply->str, "\r\n\r\n"));
}

static void expect_refused(const char *from, const char *to)
{
    g_autofree char *req = NULL;
    g_autoptr(GString) reply = g_string_new(NULL);
    const char *why = NULL;

    if (from) {
        char *at = strstr(good_request, from);
        g_assert_nonnull(at);
        req = g_strdup_printf("%.*s%s%s", (int)(at - good_request), good_request, to,
                              at + strlen(from));
    } else {
        req = g_strdup(to);
    }
    g_assert_cmpint(vnc_ws_handshake((const uint8_t *)req, strlen(req), reply, &why), ==, -1);
    g_assert_nonnull(why);
    g_assert_true(g_str_has_prefix(reply->str, "HTTP/1.1 400 "));
}

static void test_handshake_refused(void)
{
    uint8_t big[VNC_WS_MAX_HANDSHAKE + 10];
    g_autoptr(GString) reply = g_string_new(NULL);
    const char *why = NULL;

    expect_refused("GET ", "POST ");
    expect_refused(" HTTP/1.1", " HTTP/1.0");
    expect_refused("Upgrade: websocket", "Upgrade: h2c");
    expect_refused("keep-alive, Upgrade", "keep-alive");
    expect_refused("Version: 13", "Version: 8");
    expect_refused("dGhlIHNhbXBsZSBub25jZQ==", "short");
    expect_refused("binary, base64", "base64");
    expect_refused("Host: localhost:5700", "Host localhost");
    expect_refused(NULL, "RFB 003.008\n\r\n\r\n");
    /* No end of headers within the limit. */
    memset(big, 'a', sizeof(big));
    g_assert_cmpint(vnc_ws_handshake(big, sizeof(big), reply, &why), ==, -1);
    /* Without a subprotocol header: accepted, none echoed. */
    {
        const char *req = "GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
                          "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
        g_string_truncate(reply, 0);
        g_assert_cmpint(vnc_ws_handshake((const uint8_t *)req, strlen(req), reply, &why), ==,
                        strlen(req));
        g_assert_null(strstr(reply->str, "Sec-WebSocket-Protocol"));
    }
}

/* A masked client frame. */
static GByteArray *client_frame(uint8_t b0, const uint8_t *payload, size_t len)
{
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    GByteArray *f = g_byte_array_new();
    uint8_t hdr[10];
    size_t n = 2;

    hdr[0] = b0;
    if (len < 126) {
        hdr[1] = 0x80 | len;
    } else if (len < 65536) {
        hdr[1] = 0x80 | 126;
        hdr[2] = len >> 8;
        hdr[3] = len;
        n = 4;
    } else {
        hdr[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) {
            hdr[2 + i] = (uint64_t)len >> (56 - 8 * i);
        }
        n = 10;
    }
    g_byte_array_append(f, hdr, n);
    g_byte_array_append(f, key, 4);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = payload[i] ^ key[i & 3];
        g_byte_array_append(f, &b, 1);
    }
    return f;
}

static void test_frames(void)
{
    /* RFC 6455 5.7, "a single-frame masked text message" turned binary (opcode 2). */
    static const uint8_t hello[] = { 0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,
                                     0x51, 0x58 };
    VncWsDecoder d = { 0 };
    VncWsFrame f;
    GByteArray *data = g_byte_array_new();
    const char *why = NULL;
    uint16_t code = 0;

    for (size_t i = 0; i < sizeof(hello); i++) {
        g_assert_cmpint(vnc_ws_decode(&d, hello, i, &f, data, &why, &code), ==, 0);
    }
    g_assert_cmpint(vnc_ws_decode(&d, hello, sizeof(hello), &f, data, &why, &code), ==,
                    sizeof(hello));
    g_assert_cmpmem(data->data, data->len, "Hello", 5);

    /* Payload lengths around the 7-bit / 16-bit / 64-bit boundaries. */
    {
        static const size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 65537 };
        for (size_t k = 0; k < G_N_ELEMENTS(lens); k++) {
            size_t len = lens[k];
            g_autofree uint8_t *p = g_malloc(len + 1);
            GByteArray *fr;
            for (size_t i = 0; i < len; i++) {
                p[i] = i * 7;
            }
            fr = client_frame(0x82, p, len);
            g_byte_array_set_size(data, 0);
            g_assert_cmpint(vnc_ws_decode(&d, fr->data, fr->len - 1, &f, data, &why, &code),
                            ==, 0);
            g_assert_cmpint(vnc_ws_decode(&d, fr->data, fr->len, &f, data, &why, &code), ==,
                            fr->len);
            g_assert_cmpmem(data->data, data->len, p, len);
            g_byte_array_free(fr, true);
        }
    }

    /* "Hel" + ping + "lo": fragments join, the ping comes back as a control frame. */
    {
        GByteArray *a = client_frame(0x02, (const uint8_t *)"Hel", 3);
        GByteArray *p = client_frame(0x89, (const uint8_t *)"pp", 2);
        GByteArray *b = client_frame(0x80, (const uint8_t *)"lo", 2);
        g_byte_array_set_size(data, 0);
        g_assert_cmpint(vnc_ws_decode(&d, a->data, a->len, &f, data, &why, &code), ==, a->len);
        g_assert_false(f.fin);
        g_assert_cmpint(vnc_ws_decode(&d, p->data, p->len, &f, data, &why, &code), ==, p->len);
        g_assert_cmpint(f.opcode, ==, VNC_WS_OP_PING);
        g_assert_cmpmem(f.control, f.control_len, "pp", 2);
        g_assert_cmpint(vnc_ws_decode(&d, b->data, b->len, &f, data, &why, &code), ==, b->len);
        g_assert_cmpmem(data->data, data->len, "Hello", 5);
        g_assert_false(d.in_message);
        g_byte_array_free(a, true);
        g_byte_array_free(p, true);
        g_byte_array_free(b, true);
    }
    /* Close with a status. */
    {
        GByteArray *c = client_frame(0x88, (const uint8_t *)"\x03\xe8", 2);
        g_assert_cmpint(vnc_ws_decode(&d, c->data, c->len, &f, data, &why, &code), ==, c->len);
        g_assert_cmpint(f.opcode, ==, VNC_WS_OP_CLOSE);
        g_assert_cmpint(f.close_code, ==, 1000);
        g_byte_array_free(c, true);
    }
    g_byte_array_free(data, true);
}

static void expect_violation(VncWsDecoder *d, const uint8_t *buf, size_t len, uint16_t want)
{
    GByteArray *data = g_byte_array_new();
    VncWsFrame f;
    const char *why = NULL;
    uint16_t code = 0;

    g_assert_cmpint(vnc_ws_decode(d, buf, len, &f, data, &why, &code), ==, -1);
    g_assert_nonnull(why);
    g_assert_cmpint(code, ==, want);
    g_byte_array_free(data, true);
}

static void test_violations(void)
{
    VncWsDecoder d = { 0 };
    uint8_t p[200] = { 0 };
    GByteArray *f;

    /* Unmasked (as a server would send), reserved bits, text, unknown opcode. */
    expect_violation(&d, (const uint8_t[]){ 0x82, 0x01, 'x' }, 3, VNC_WS_CLOSE_PROTOCOL);
    f = client_frame(0xc2, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    f = client_frame(0x81, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_UNSUPPORTED);
    g_byte_array_free(f, true);
    f = client_frame(0x83, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    /* Continuation out of the blue; fragmented or long control frames; 1-byte close. */
    f = client_frame(0x80, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    f = client_frame(0x09, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    f = client_frame(0x89, p, 126);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    f = client_frame(0x88, p, 1);
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
    /* A 2^63-byte frame is refused from its header alone. */
    expect_violation(&d, (const uint8_t[]){ 0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff }, 10, VNC_WS_CLOSE_TOO_BIG);
    /* A new message inside an unfinished one. */
    f = client_frame(0x02, p, 1);
    {
        GByteArray *data = g_byte_array_new();
        VncWsFrame fr;
        const char *why;
        uint16_t code;
        g_assert_cmpint(vnc_ws_decode(&d, f->data, f->len, &fr, data, &why, &code), ==, f->len);
        g_byte_array_free(data, true);
    }
    expect_violation(&d, f->data, f->len, VNC_WS_CLOSE_PROTOCOL);
    g_byte_array_free(f, true);
}

static void test_random(void)
{
    GRand *r = g_rand_new_with_seed(6455);
    GByteArray *data = g_byte_array_new();
    g_autoptr(GString) reply = g_string_new(NULL);
    uint8_t buf[256];

    for (int iter = 0; iter < 200000; iter++) {
        size_t len = g_rand_int_range(r, 0, sizeof(buf));
        VncWsDecoder d = { .in_message = g_rand_boolean(r) };
        VncWsFrame f;
        const char *why = NULL;
        uint16_t code = 0;
        int n;

        for (size_t i = 0; i < len; i++) {
            buf[i] = g_rand_int(r);
        }
        g_byte_array_set_size(data, 0);
        n = vnc_ws_decode(&d, buf, len, &f, data, &why, &code);
        g_assert_cmpint(n, >=, -1);
        g_assert_cmpint(n, <=, (int)len);
        g_assert_true(n != -1 || why);
        g_assert_cmpuint(data->len, <=, len);
        if (iter % 16 == 0) {
            g_string_truncate(reply, 0);
            n = vnc_ws_handshake(buf, len, reply, &why);
            g_assert_cmpint(n, >=, -1);
            g_assert_cmpint(n, <=, (int)len);
        }
    }
    g_byte_array_free(data, true);
    g_rand_free(r);
}

static void test_encode(void)
{
    GByteArray *out = g_byte_array_new();
    uint8_t big[70000] = { 0 };

    vnc_ws_encode(out, VNC_WS_OP_BINARY, (const uint8_t *)"abc", 3);
    g_assert_cmpmem(out->data, out->len, "\x82\x03" "abc", 5);
    g_byte_array_set_size(out, 0);
    vnc_ws_encode(out, VNC_WS_OP_BINARY, big, 300);
    g_assert_cmpmem(out->data, 4, "\x82\x7e\x01\x2c", 4);
    g_assert_cmpuint(out->len, ==, 304);
    g_byte_array_set_size(out, 0);
    vnc_ws_encode(out, VNC_WS_OP_BINARY, big, sizeof(big));
    g_assert_cmpmem(out->data, 10, "\x82\x7f\0\0\0\0\0\x01\x11\x70", 10);
    g_byte_array_set_size(out, 0);
    vnc_ws_encode_close(out, 1002);
    g_assert_cmpmem(out->data, out->len, "\x88\x02\x03\xea", 4);
    g_byte_array_free(out, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnc-ws/accept-key", test_accept_key);
    g_test_add_func("/vnc-ws/handshake", test_handshake);
    g_test_add_func("/vnc-ws/handshake-refused", test_handshake_refused);
    g_test_add_func("/vnc-ws/frames", test_frames);
    g_test_add_func("/vnc-ws/violations", test_violations);
    g_test_add_func("/vnc-ws/random", test_random);
    g_test_add_func("/vnc-ws/encode", test_encode);
    return g_test_run();
}
