/*
 * VNC pieces without sockets: DES against FIPS/known vectors and VNC Authentication against a
 * response computed with OpenSSL's DES-ECB (bit-reversed key "kite"), the client message
 * parser fed complete, truncated, oversized and random input, pixel format checks and
 * conversion for 8/16/32 bpp in both byte orders.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "ui/vnc.h"

static void test_des(void)
{
    /* FIPS 46 worked example, and a well-known weak-looking vector that encrypts to zero. */
    g_assert_cmphex(vnc_des_encrypt_block(0x133457799BBCDFF1ull, 0x0123456789ABCDEFull), ==,
                    0x85E813540F0AB405ull);
    g_assert_cmphex(vnc_des_encrypt_block(0x0E329232EA6D0D73ull, 0x8787878787878787ull), ==,
                    0x0000000000000000ull);
}

static void test_auth_response(void)
{
    static const uint8_t challenge[16] = {
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    };
    /* openssl enc -des-ecb -nopad -K 16962e0000000000 (bit-reversed "kite\0\0\0\0") */
    static const uint8_t expect[16] = {
        0x43, 0xb9, 0x5a, 0x9b, 0x23, 0x7d, 0x50, 0xa2,
        0x6c, 0x23, 0xd6, 0x07, 0x42, 0x74, 0x8c, 0x8f,
    };
    uint8_t out[16], out2[16];

    vnc_auth_response("kite", challenge, out);
    g_assert_cmpmem(out, 16, expect, 16);
    /* Only the first 8 password bytes count (RFC 6143 7.2.2). */
    vnc_auth_response("12345678", challenge, out);
    vnc_auth_response("123456789abc", challenge, out2);
    g_assert_cmpmem(out, 16, out2, 16);
    vnc_auth_response("kitf", challenge, out2);
    g_assert_true(memcmp(expect, out2, 16) != 0);
}

static const uint8_t msg_pf[20] = { 0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0 };
static const uint8_t msg_enc[16] = { 2, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21 };
static const uint8_t msg_fur[10] = { 3, 1, 0, 10, 0, 20, 1, 0, 0, 200 };
static const uint8_t msg_key[8] = { 4, 1, 0, 0, 0, 0, 0xff, 0x0d };
static const uint8_t msg_ptr[6] = { 5, 5, 1, 2, 0, 7 };
static const uint8_t msg_cut[11] = { 6, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c' };

static void expect_truncations(const uint8_t *m, size_t len)
{
    VncClientMsg msg;
    const char *why = NULL;

    for (size_t i = 0; i < len; i++) {
        g_assert_cmpint(vnc_parse_client_msg(m, i, &msg, &why), ==, 0);
    }
    g_assert_cmpint(vnc_parse_client_msg(m, len, &msg, &why), ==, len);
}

static void test_parse_valid(void)
{
    VncClientMsg msg;
    const char *why = NULL;
    uint8_t two[18];

    expect_truncations(msg_pf, sizeof(msg_pf));
    vnc_parse_client_msg(msg_pf, sizeof(msg_pf), &msg, &why);
    g_assert_cmpint(msg.pf.bits_per_pixel, ==, 16);
    g_assert_true(msg.pf.big_endian);
    g_assert_cmpint(msg.pf.green_max, ==, 63);
    g_assert_cmpint(msg.pf.red_shift, ==, 11);

    expect_truncations(msg_enc, sizeof(msg_enc));
    vnc_parse_client_msg(msg_enc, sizeof(msg_enc), &msg, &why);
    g_assert_cmpint(msg.enc.n, ==, 3);
    g_assert_cmpint(msg.enc.list[0], ==, VNC_ENC_ZRLE);
    g_assert_cmpint(msg.enc.list[2], ==, VNC_ENC_DESKTOP_SIZE);

    expect_truncations(msg_fur, sizeof(msg_fur));
    vnc_parse_client_msg(msg_fur, sizeof(msg_fur), &msg, &why);
    g_assert_true(msg.fur.incremental);
    g_assert_cmpint(msg.fur.x, ==, 10);
    g_assert_cmpint(msg.fur.w, ==, 256);
    g_assert_cmpint(msg.fur.h, ==, 200);

    expect_truncations(msg_key, sizeof(msg_key));
    vnc_parse_client_msg(msg_key, sizeof(msg_key), &msg, &why);
    g_assert_true(msg.key.down);
    g_assert_cmphex(msg.key.keysym, ==, 0xff0d);

    expect_truncations(msg_ptr, sizeof(msg_ptr));
    vnc_parse_client_msg(msg_ptr, sizeof(msg_ptr), &msg, &why);
    g_assert_cmpint(msg.ptr.mask, ==, 5);
    g_assert_cmpint(msg.ptr.x, ==, 258);
    g_assert_cmpint(msg.ptr.y, ==, 7);

    expect_truncations(msg_cut, sizeof(msg_cut));

    /* Two messages back to back: only the first is consumed. */
    memcpy(two, msg_key, 8);
    memcpy(two + 8, msg_fur, 10);
    g_assert_cmpint(vnc_parse_client_msg(two, sizeof(two), &msg, &why), ==, 8);
    g_assert_cmpint(vnc_parse_client_msg(two + 8, 10, &msg, &why), ==, 10);
}

static void expect_error(const uint8_t *m, size_t len)
{
    VncClientMsg msg;
    const char *why = NULL;

    g_assert_cmpint(vnc_parse_client_msg(m, len, &msg, &why), ==, -1);
    g_assert_nonnull(why);
}

static void test_parse_garbage(void)
{
    uint8_t m[32];

    for (int t = 7; t < 256; t++) {
        uint8_t b = t;
        expect_error(&b, 1);
    }
    /* A huge encoding count is refused before its body arrives. */
    memcpy(m, (uint8_t[]){ 2, 0, 0xff, 0xff }, 4);
    expect_error(m, 4);
    memcpy(m, (uint8_t[]){ 2, 0, (VNC_MAX_ENCODINGS + 1) >> 8, (VNC_MAX_ENCODINGS + 1) & 0xff }, 4);
    expect_error(m, 4);
    /* 4 GiB of cut text. */
    memcpy(m, (uint8_t[]){ 6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 8);
    expect_error(m, 8);
    /* Bad pixel formats: colour map, 24 bpp, shift past the pixel, max too wide. */
    memcpy(m, msg_pf, 20);
    m[7] = 0;
    expect_error(m, 20);
    memcpy(m, msg_pf, 20);
    m[4] = 24;
    expect_error(m, 20);
    memcpy(m, msg_pf, 20);
    m[14] = 16;
    expect_error(m, 20);
    memcpy(m, msg_pf, 20);
    m[8] = 0x01;        /* red_max 0x11f << 11 does not fit 16 bits */
    expect_error(m, 20);
}

static void test_parse_random(void)
{
    GRand *r = g_rand_new_with_seed(6143);
    uint8_t buf[300];
    VncClientMsg msg;

    for (int iter = 0; iter < 200000; iter++) {
        size_t len = g_rand_int_range(r, 0, sizeof(buf));
        const char *why = NULL;
        int n;
        for (size_t i = 0; i < len; i++) {
            buf[i] = g_rand_int(r);
        }
        if (len) {
            buf[0] = g_rand_int_range(r, 0, 8);     /* mostly valid types */
        }
        n = vnc_parse_client_msg(buf, len, &msg, &why);
        g_assert_cmpint(n, >=, -1);
        g_assert_cmpint(n, <=, (int)len);
        if (n < 0) {
            g_assert_nonnull(why);
        }
    }
    g_rand_free(r);
}

static void test_pixels(void)
{
    VncPixelFormat rgb565 = { 16, 16, false, true, 31, 63, 31, 11, 5, 0 };
    VncPixelFormat bgr233 = { 8, 8, false, true, 7, 7, 3, 0, 3, 6 };
    VncPixelFormat xrgb = { 32, 24, false, true, 255, 255, 255, 16, 8, 0 };
    const char *why = NULL;
    uint8_t out[4];

    g_assert_true(vnc_pixel_format_valid(&rgb565, &why));
    g_assert_true(vnc_pixel_format_valid(&bgr233, &why));
    g_assert_cmpint(vnc_convert_pixel(&rgb565, 0xff0000, out), ==, 2);
    g_assert_cmphex(out[0] | out[1] << 8, ==, 0xf800);
    rgb565.big_endian = true;
    vnc_convert_pixel(&rgb565, 0x00ff00, out);
    g_assert_cmphex(out[0] << 8 | out[1], ==, 0x07e0);
    g_assert_cmpint(vnc_convert_pixel(&bgr233, 0xffffff, out), ==, 1);
    g_assert_cmphex(out[0], ==, 0xff);
    vnc_convert_pixel(&bgr233, 0x0000ff, out);
    g_assert_cmphex(out[0], ==, 0xc0);
    g_assert_cmpint(vnc_convert_pixel(&xrgb, 0x123456, out), ==, 4);
    g_assert_cmpmem(out, 4, ((uint8_t[]){ 0x56, 0x34, 0x12, 0 }), 4);
    xrgb.big_endian = true;
    vnc_convert_pixel(&xrgb, 0x123456, out);
    g_assert_cmpmem(out, 4, ((uint8_t[]){ 0, 0x12, 0x34, 0x56 }), 4);
    {
        uint8_t pf[16];
        vnc_pixel_format_encode(&rgb565, pf);
        g_assert_cmpmem(pf, 16, ((uint8_t[16]){ 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0 }),
                        16);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnc/des", test_des);
    g_test_add_func("/vnc/auth-response", test_auth_response);
    g_test_add_func("/vnc/parse-valid", test_parse_valid);
    g_test_add_func("/vnc/parse-garbage", test_parse_garbage);
    g_test_add_func("/vnc/parse-random", test_parse_random);
    g_test_add_func("/vnc/pixels", test_pixels);
    return g_test_run();
}
