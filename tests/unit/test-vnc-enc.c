/*
 * VNC encoders: every image is encoded with Raw, Hextile and ZRLE in several pixel formats
 * and decoded back here by independent decoders written from RFC 6143 7.7; the decoded
 * pixels must equal vnc_convert_pixel() of the source, byte for byte.  Images cover solid,
 * two-colour, few-colour (each ZRLE palette size class), gradient and noise content at sizes
 * that are not tile multiples; ZRLE's zlib stream must carry over between rectangles.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "ui/vnc-enc.h"

typedef struct Image {
    int w, h, stride;           /* stride in bytes; the surface has a margin */
    uint32_t *pix;              /* the full surface */
    int ox, oy;                 /* the rectangle's origin in it */
} Image;

typedef struct Reader {
    const uint8_t *p;
    size_t len, at;
} Reader;

static uint32_t rd(Reader *r, int n, bool big_endian)
{
    uint32_t v = 0;

    g_assert_cmpuint(r->at + n, <=, r->len);
    for (int i = 0; i < n; i++) {
        int shift = big_endian ? 8 * (n - 1 - i) : 8 * i;
        v |= (uint32_t)r->p[r->at + i] << shift;
    }
    r->at += n;
    return v;
}

static uint8_t rd8(Reader *r)
{
    return rd(r, 1, false);
}

/* The decoded picture: pixel values, compared serialised. */
typedef struct Canvas {
    int w, h;
    uint32_t *v;
} Canvas;

static void fill(Canvas *c, int x, int y, int w, int h, uint32_t v)
{
    g_assert_cmpint(x + w, <=, c->w);
    g_assert_cmpint(y + h, <=, c->h);
    for (int j = 0; j < h; j++) {
        for (int i = 0; i < w; i++) {
            c->v[(y + j) * c->w + x + i] = v;
        }
    }
}

static void check_canvas(const Canvas *c, const Image *img, const VncPixelFormat *pf)
{
    int bpp = pf->bits_per_pixel / 8;

    for (int y = 0; y < img->h; y++) {
        for (int x = 0; x < img->w; x++) {
            uint8_t want[4], got[4];
            uint32_t src = img->pix[(img->oy + y) * (img->stride / 4) + img->ox + x];
            uint32_t v = c->v[y * c->w + x];

            vnc_convert_pixel(pf, src, want);
            for (int i = 0; i < bpp; i++) {
                got[i] = v >> (pf->big_endian ? 8 * (bpp - 1 - i) : 8 * i);
            }
            if (memcmp(want, got, bpp)) {
                g_error("pixel %d,%d of %dx%d: want %08x got %08x", x, y, img->w, img->h,
                        want[0] | want[1] << 8 | want[2] << 16 | want[3] << 24, v);
            }
        }
    }
}

static void decode_raw(Reader *r, Canvas *c, const VncPixelFormat *pf)
{
    for (int i = 0; i < c->w * c->h; i++) {
        c->v[i] = rd(r, pf->bits_per_pixel / 8, pf->big_endian);
    }
}

/* RFC 6143 7.7.4. */
static void decode_hextile(Reader *r, Canvas *c, const VncPixelFormat *pf)
{
    int bpp = pf->bits_per_pixel / 8;
    uint32_t bg = 0, fg = 0;
    bool have_bg = false;

    for (int ty = 0; ty < c->h; ty += 16) {
        for (int tx = 0; tx < c->w; tx += 16) {
            int tw = MIN(16, c->w - tx), th = MIN(16, c->h - ty);
            uint8_t sub = rd8(r);

            g_assert_cmpint(sub & ~31, ==, 0);
            if (sub & 1) {
                for (int y = 0; y < th; y++) {
                    for (int x = 0; x < tw; x++) {
                        c->v[(ty + y) * c->w + tx + x] = rd(r, bpp, pf->big_endian);
                    }
                }
                have_bg = false;        /* our encoder promises to re-send it */
                continue;
            }
            if (sub & 2) {
                bg = rd(r, bpp, pf->big_endian);
                have_bg = true;
            }
            g_assert_true(have_bg);
            fill(c, tx, ty, tw, th, bg);
            if (sub & 4) {
                g_assert_false(sub & 16);
                fg = rd(r, bpp, pf->big_endian);
            }
            if (sub & 8) {
                int n = rd8(r);
                for (int i = 0; i < n; i++) {
                    uint32_t colour = sub & 16 ? rd(r, bpp, pf->big_endian) : fg;
                    uint8_t xy = rd8(r), wh = rd8(r);
                    fill(c, tx + (xy >> 4), ty + (xy & 15), (wh >> 4) + 1, (wh & 15) + 1, colour);
                }
            }
        }
    }
}

/* CPIXEL (7.7.6), worked out here from the format rather than from VncConv. */
static uint32_t rd_cpixel(Reader *r, const VncPixelFormat *pf)
{
    uint32_t mask = (uint32_t)pf->red_max << pf->red_shift |
                    (uint32_t)pf->green_max << pf->green_shift |
                    (uint32_t)pf->blue_max << pf->blue_shift;

    if (pf->bits_per_pixel == 32 && pf->depth <= 24) {
        if (!(mask >> 24)) {
            return rd(r, 3, pf->big_endian);
        }
        if (!(mask & 0xff)) {
            return rd(r, 3, pf->big_endian) << 8;
        }
    }
    return rd(r, pf->bits_per_pixel / 8, pf->big_endian);
}

static int rd_run(Reader *r)
{
    int run = 1, b;

    do {
        b = rd8(r);
        run += b;
    } while (b == 255);
    return run;
}

static void decode_zrle(Reader *r, Canvas *c, const VncPixelFormat *pf, z_stream *zs)
{
    uint32_t zlen = rd(r, 4, true);
    GByteArray *plain = g_byte_array_new();
    Reader t;

    g_assert_cmpuint(r->at + zlen, ==, r->len);
    zs->next_in = (uint8_t *)r->p + r->at;
    zs->avail_in = zlen;
    while (zs->avail_in) {
        uint8_t buf[65536];
        int ret;
        zs->next_out = buf;
        zs->avail_out = sizeof(buf);
        ret = inflate(zs, Z_SYNC_FLUSH);
        g_assert_true(ret == Z_OK || ret == Z_BUF_ERROR);
        g_byte_array_append(plain, buf, sizeof(buf) - zs->avail_out);
    }
    r->at += zlen;
    t = (Reader) { plain->data, plain->len, 0 };
    for (int ty = 0; ty < c->h; ty += 64) {
        for (int tx = 0; tx < c->w; tx += 64) {
            int tw = MIN(64, c->w - tx), th = MIN(64, c->h - ty), n = tw * th;
            uint8_t sub = rd8(&t);
            uint32_t pal[128], *tile = g_new(uint32_t, n);

            g_assert_true(sub <= 16 || sub >= 128);
            g_assert_cmpint(sub, !=, 129);
            for (int i = 0; i < (sub & 127); i++) {
                pal[i] = rd_cpixel(&t, pf);
            }
            if (sub == 0) {
                for (int i = 0; i < n; i++) {
                    tile[i] = rd_cpixel(&t, pf);
                }
            } else if (sub == 1) {
                for (int i = 0; i < n; i++) {
                    tile[i] = pal[0];
                }
            } else if (sub <= 16) {
                int bits = sub == 2 ? 1 : sub <= 4 ? 2 : 4;
                for (int y = 0; y < th; y++) {
                    int nb = 0;
                    uint8_t byte = 0;
                    for (int x = 0; x < tw; x++) {
                        int idx;
                        if (nb == 0) {
                            byte = rd8(&t);
                            nb = 8;
                        }
                        nb -= bits;
                        idx = (byte >> nb) & ((1 << bits) - 1);
                        g_assert_cmpint(idx, <, sub);
                        tile[y * tw + x] = pal[idx];
                    }
                }
            } else if (sub == 128) {
                for (int i = 0; i < n; ) {
                    uint32_t v = rd_cpixel(&t, pf);
                    int run = rd_run(&t);
                    g_assert_cmpint(i + run, <=, n);
                    while (run--) {
                        tile[i++] = v;
                    }
                }
            } else {
                for (int i = 0; i < n; ) {
                    uint8_t b = rd8(&t);
                    int run = b & 128 ? rd_run(&t) : 1;
                    g_assert_cmpint(b & 127, <, sub - 128);
                    g_assert_cmpint(i + run, <=, n);
                    while (run--) {
                        tile[i++] = pal[b & 127];
                    }
                }
            }
            for (int y = 0; y < th; y++) {
                memcpy(&c->v[(ty + y) * c->w + tx], &tile[y * tw], tw * 4);
            }
            g_free(tile);
        }
    }
    g_assert_cmpuint(t.at, ==, t.len);
    g_byte_array_free(plain, true);
}

/* Tight: TPIXEL is R, G, B for 32 bpp depth 24 with 8-bit channels. */
static uint32_t rd_tpixel(Reader *r, const VncPixelFormat *pf)
{
    if (pf->bits_per_pixel == 32 && pf->depth == 24 && pf->red_max == 255 &&
        pf->green_max == 255 && pf->blue_max == 255) {
        uint32_t red = rd8(r), green = rd8(r), blue = rd8(r);
        return red << pf->red_shift | green << pf->green_shift | blue << pf->blue_shift;
    }
    return rd(r, pf->bits_per_pixel / 8, pf->big_endian);
}

/* Tight's data: raw below 12 bytes, else compact length + zlib on the given stream. */
static GByteArray *tight_data(Reader *r, size_t len, z_stream *zs)
{
    GByteArray *d = g_byte_array_new();
    size_t zlen = 0;

    if (len < 12) {
        g_assert_cmpuint(r->at + len, <=, r->len);
        g_byte_array_append(d, r->p + r->at, len);
        r->at += len;
        return d;
    }
    for (int i = 0; i < 3; i++) {
        uint8_t b = rd8(r);
        zlen |= (size_t)(i < 2 ? b & 0x7f : b) << (7 * i);
        if (i < 2 && !(b & 0x80)) {
            break;
        }
    }
    g_assert_cmpuint(r->at + zlen, <=, r->len);
    g_byte_array_set_size(d, len);
    zs->next_in = (uint8_t *)r->p + r->at;
    zs->avail_in = zlen;
    zs->next_out = d->data;
    zs->avail_out = len;
    while (zs->avail_in || zs->avail_out) {
        int ret = inflate(zs, Z_SYNC_FLUSH);
        g_assert_true(ret == Z_OK || ret == Z_BUF_ERROR);
        if (ret == Z_BUF_ERROR) {
            break;
        }
    }
    g_assert_cmpuint(zs->avail_out, ==, 0);
    g_assert_cmpuint(zs->avail_in, ==, 0);
    r->at += zlen;
    return d;
}

/* A sequence of Tight rectangles (with headers) covering the canvas. */
static void decode_tight(Reader *r, Canvas *c, const VncPixelFormat *pf, z_stream zs[4],
                         int nrects)
{
    bool tp3 = pf->bits_per_pixel == 32 && pf->depth == 24 && pf->red_max == 255 &&
               pf->green_max == 255 && pf->blue_max == 255;
    int bpp = tp3 ? 3 : pf->bits_per_pixel / 8;

    for (int k = 0; k < nrects; k++) {
        int x = rd(r, 2, true), y = rd(r, 2, true), w = rd(r, 2, true), h = rd(r, 2, true);
        int32_t enc = rd(r, 4, true);
        uint8_t ctl = rd8(r);

        g_assert_cmpint(enc, ==, VNC_ENC_TIGHT);
        g_assert_cmpint(w, <=, 2048);
        g_assert_cmpint(w * h, <=, 65536);
        g_assert_cmpint(ctl & 15, ==, 0);   /* no stream resets */
        if (ctl == 0x80) {
            fill(c, x, y, w, h, rd_tpixel(r, pf));
            continue;
        }
        g_assert_cmpint(ctl >> 4, <, 8);
        {
            int stream = (ctl >> 4) & 3, filter = ctl & 0x40 ? rd8(r) : 0, np = 0;
            uint32_t pal[256];
            GByteArray *d;
            Reader dr;

            g_assert_cmpint(filter, <=, 1);
            if (filter == 1) {
                np = rd8(r) + 1;
                g_assert_cmpint(np, >=, 2);
                for (int i = 0; i < np; i++) {
                    pal[i] = rd_tpixel(r, pf);
                }
                d = tight_data(r, np == 2 ? (size_t)h * ((w + 7) / 8) : (size_t)w * h,
                               &zs[stream]);
            } else {
                d = tight_data(r, (size_t)w * h * bpp, &zs[stream]);
            }
            dr = (Reader) { d->data, d->len, 0 };
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < w; i++) {
                    uint32_t v;
                    if (np == 2) {
                        v = pal[(d->data[j * ((w + 7) / 8) + i / 8] >> (7 - i % 8)) & 1];
                    } else if (np) {
                        uint8_t idx = d->data[j * w + i];
                        g_assert_cmpint(idx, <, np);
                        v = pal[idx];
                    } else {
                        v = rd_tpixel(&dr, pf);
                    }
                    c->v[(y + j) * c->w + x + i] = v;
                }
            }
            g_byte_array_free(d, true);
        }
    }
}

typedef enum Kind { SOLID, TWO, FEW3, FEW12, FEW100, FEW200, GRADIENT, NOISE, BLOCKS } Kind;

static Image make_image(GRand *rnd, Kind kind, int w, int h)
{
    Image img = { .w = w, .h = h, .ox = 3, .oy = 2 };
    uint32_t pal[200];
    int sw = w + 7, sh = h + 5;

    img.stride = sw * 4;
    img.pix = g_new(uint32_t, sw * sh);
    for (int i = 0; i < 200; i++) {
        pal[i] = g_rand_int(rnd);       /* the top byte must not matter */
    }
    for (int y = 0; y < sh; y++) {
        for (int x = 0; x < sw; x++) {
            uint32_t v;
            switch (kind) {
            case SOLID:
                v = pal[0];
                break;
            case TWO:
                v = pal[((x / 3) ^ (y / 5)) & 1];
                break;
            case FEW3:
                v = pal[g_rand_int_range(rnd, 0, 3)];
                break;
            case FEW12:
                v = pal[(x * 7 + y) % 12];
                break;
            case FEW100:
                v = pal[g_rand_int_range(rnd, 0, 100)];
                break;
            case FEW200:
                v = pal[g_rand_int_range(rnd, 0, 200)];
                break;
            case GRADIENT:
                v = (x & 0xff) << 16 | (y & 0xff) << 8 | ((x + y) & 0xff);
                break;
            case NOISE:
                v = g_rand_int(rnd);
                break;
            default:                    /* runs of a few colours, like text */
                v = pal[((x / 9) * 3 + y / 4) % 5];
                break;
            }
            img.pix[y * sw + x] = v;
        }
    }
    return img;
}

static const VncPixelFormat formats[] = {
    { 32, 24, false, true, 255, 255, 255, 16, 8, 0 },   /* the server's own */
    { 32, 24, true, true, 255, 255, 255, 16, 8, 0 },
    { 32, 24, false, true, 255, 255, 255, 0, 8, 16 },   /* xBGR */
    { 32, 24, true, true, 255, 255, 255, 24, 16, 8 },   /* colours in the high bytes */
    { 32, 32, false, true, 255, 255, 255, 24, 8, 0 },   /* spread: 4-byte CPIXEL */
    { 16, 16, false, true, 31, 63, 31, 11, 5, 0 },
    { 16, 16, true, true, 31, 63, 31, 11, 5, 0 },
    { 16, 15, false, true, 31, 31, 31, 10, 5, 0 },
    { 8, 8, false, true, 7, 7, 3, 0, 3, 6 },
};

/* Tight's four streams on both sides, as for a new connection. */
static VncTight tight;
static z_stream tzs[4];

static void tight_reset(void)
{
    vnc_tight_free(&tight);
    for (int i = 0; i < 4; i++) {
        inflateEnd(&tzs[i]);
        memset(&tzs[i], 0, sizeof(tzs[i]));
        g_assert_cmpint(inflateInit(&tzs[i]), ==, Z_OK);
    }
}

static void roundtrip(const Image *img, const VncPixelFormat *pf, int enc, VncZrle *z,
                      z_stream *zs, size_t *size)
{
    int nrects = 0;
    const uint8_t *src = (const uint8_t *)img->pix + img->oy * img->stride + img->ox * 4;
    GByteArray *out = g_byte_array_new();
    Canvas c = { img->w, img->h, g_new0(uint32_t, img->w * img->h) };
    VncConv cv;
    Reader r;

    vnc_conv_init(&cv, pf);
    switch (enc) {
    case VNC_ENC_RAW:
        vnc_enc_raw(&cv, src, img->stride, img->w, img->h, out);
        break;
    case VNC_ENC_HEXTILE:
        vnc_enc_hextile(&cv, src, img->stride, img->w, img->h, out);
        break;
    case VNC_ENC_TIGHT:
        nrects = vnc_enc_tight(&tight, &cv, src, img->stride, 0, 0, img->w, img->h, out);
        g_assert_cmpint(nrects, >, 0);
        break;
    default:
        g_assert_true(vnc_enc_zrle(z, &cv, src, img->stride, img->w, img->h, out));
        break;
    }
    r = (Reader) { out->data, out->len, 0 };
    switch (enc) {
    case VNC_ENC_RAW:
        decode_raw(&r, &c, pf);
        break;
    case VNC_ENC_HEXTILE:
        decode_hextile(&r, &c, pf);
        break;
    case VNC_ENC_TIGHT:
        decode_tight(&r, &c, pf, tzs, nrects);
        break;
    default:
        decode_zrle(&r, &c, pf, zs);
        break;
    }
    g_assert_cmpuint(r.at, ==, r.len);
    check_canvas(&c, img, pf);
    if (size) {
        *size = out->len;
    }
    g_free(c.v);
    g_byte_array_free(out, true);
}

static void test_roundtrip(gconstpointer data)
{
    int enc = GPOINTER_TO_INT(data);
    static const int sizes[][2] = { { 1, 1 }, { 17, 33 }, { 64, 64 }, { 100, 70 }, { 130, 129 },
                                    { 600, 130 } };
    GRand *rnd = g_rand_new_with_seed(7776 + enc);

    for (size_t f = 0; f < G_N_ELEMENTS(formats); f++) {
        /* One ZRLE stream per "connection": all rectangles of this format go through it. */
        VncZrle z = { 0 };
        z_stream zs = { 0 };

        g_assert_cmpint(inflateInit(&zs), ==, Z_OK);
        tight_reset();
        for (Kind k = SOLID; k <= BLOCKS; k++) {
            for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
                Image img = make_image(rnd, k, sizes[s][0], sizes[s][1]);
                roundtrip(&img, &formats[f], enc, &z, &zs, NULL);
                g_free(img.pix);
            }
        }
        inflateEnd(&zs);
        vnc_zrle_free(&z);
    }
    g_rand_free(rnd);
}

/* The encoders must actually compress what compresses. */
static void test_sizes(void)
{
    GRand *rnd = g_rand_new_with_seed(1);
    Image solid = make_image(rnd, SOLID, 256, 256), two = make_image(rnd, TWO, 256, 256);
    Image noise = make_image(rnd, NOISE, 64, 64);
    VncZrle z = { 0 };
    z_stream zs = { 0 };
    size_t n;

    g_assert_cmpint(inflateInit(&zs), ==, Z_OK);
    /* Hextile solid: the first tile sends the background, the other 255 one byte each. */
    roundtrip(&solid, &formats[0], VNC_ENC_HEXTILE, NULL, NULL, &n);
    g_assert_cmpuint(n, ==, 1 + 4 + 255);
    roundtrip(&two, &formats[0], VNC_ENC_HEXTILE, NULL, NULL, &n);
    g_assert_cmpuint(n, <, 256 * 256 * 4 / 4);
    /* Noise cannot be smaller than raw tiles: 16 tiles of 1 + 256 * 2 bytes. */
    roundtrip(&noise, &formats[5], VNC_ENC_HEXTILE, NULL, NULL, &n);
    g_assert_cmpuint(n, ==, 16 * (1 + 256 * 2));
    /* ZRLE solid: 16 tiles of 4 bytes deflate to next to nothing. */
    roundtrip(&solid, &formats[0], VNC_ENC_ZRLE, &z, &zs, &n);
    g_assert_cmpuint(n, <, 64);
    roundtrip(&two, &formats[0], VNC_ENC_ZRLE, &z, &zs, &n);
    g_assert_cmpuint(n, <, 4096);
    inflateEnd(&zs);
    vnc_zrle_free(&z);
    g_free(solid.pix);
    g_free(two.pix);
    g_free(noise.pix);
    g_rand_free(rnd);
}

static void test_cpixel(void)
{
    VncConv cv;

    vnc_conv_init(&cv, &formats[0]);
    g_assert_cmpint(cv.cbpp, ==, 3);
    g_assert_cmpint(cv.cshift, ==, 0);
    g_assert_true(cv.native == (G_BYTE_ORDER == G_LITTLE_ENDIAN));
    vnc_conv_init(&cv, &formats[3]);
    g_assert_cmpint(cv.cbpp, ==, 3);
    g_assert_cmpint(cv.cshift, ==, 8);
    vnc_conv_init(&cv, &formats[4]);
    g_assert_cmpint(cv.cbpp, ==, 4);
    vnc_conv_init(&cv, &formats[5]);
    g_assert_cmpint(cv.cbpp, ==, 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/vnc-enc/raw", GINT_TO_POINTER(VNC_ENC_RAW), test_roundtrip);
    g_test_add_data_func("/vnc-enc/hextile", GINT_TO_POINTER(VNC_ENC_HEXTILE), test_roundtrip);
    g_test_add_data_func("/vnc-enc/zrle", GINT_TO_POINTER(VNC_ENC_ZRLE), test_roundtrip);
    g_test_add_data_func("/vnc-enc/tight", GINT_TO_POINTER(VNC_ENC_TIGHT), test_roundtrip);
    g_test_add_func("/vnc-enc/sizes", test_sizes);
    g_test_add_func("/vnc-enc/cpixel", test_cpixel);
    return g_test_run();
}
