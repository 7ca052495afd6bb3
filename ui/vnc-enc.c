/*
 * VNC rectangle encoders: Raw (RFC 6143 7.7.1), Hextile (7.7.4) and ZRLE (7.7.6).
 *
 * Each encoder first converts a tile of the xRGB surface into pixel values of the client's
 * format through per-channel tables (VncConv), then picks the smallest sub-encoding it can
 * find cheaply.  Pixel values are compared after conversion, so colours the client cannot
 * tell apart (16 or 8 bpp) also compress together.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/vnc-enc.h"

void vnc_conv_init(VncConv *cv, const VncPixelFormat *pf)
{
    uint32_t mask;

    cv->pf = *pf;
    cv->bpp = pf->bits_per_pixel / 8;
    for (int i = 0; i < 256; i++) {
        /* Same rounding as vnc_convert_pixel: nearest level of max. */
        cv->r[i] = (uint32_t)((i * pf->red_max + 127) / 255) << pf->red_shift;
        cv->g[i] = (uint32_t)((i * pf->green_max + 127) / 255) << pf->green_shift;
        cv->b[i] = (uint32_t)((i * pf->blue_max + 127) / 255) << pf->blue_shift;
    }
    cv->native = pf->bits_per_pixel == 32 && pf->red_max == 255 && pf->green_max == 255 &&
                 pf->blue_max == 255 && pf->red_shift == 16 && pf->green_shift == 8 &&
                 pf->blue_shift == 0 && pf->big_endian == (G_BYTE_ORDER == G_BIG_ENDIAN);
    /* 7.7.6: CPIXEL is 3 bytes for 32 bpp, depth <= 24, colours in 3 adjacent bytes. */
    mask = (uint32_t)pf->red_max << pf->red_shift | (uint32_t)pf->green_max << pf->green_shift |
           (uint32_t)pf->blue_max << pf->blue_shift;
    cv->cbpp = cv->bpp;
    cv->cshift = 0;
    if (pf->bits_per_pixel == 32 && pf->depth <= 24) {
        if (!(mask & 0xff000000u)) {
            cv->cbpp = 3;
        } else if (!(mask & 0xffu)) {
            cv->cbpp = 3;
            cv->cshift = 8;
        }
    }
}

static inline int put_n(uint32_t v, int n, bool big_endian, uint8_t *out)
{
    for (int i = 0; i < n; i++) {
        out[i] = v >> (big_endian ? 8 * (n - 1 - i) : 8 * i);
    }
    return n;
}

int vnc_conv_put(const VncConv *cv, uint32_t v, uint8_t *out)
{
    return put_n(v, cv->bpp, cv->pf.big_endian, out);
}

/* ZRLE's compressed pixel. */
static inline int put_cpixel(const VncConv *cv, uint32_t v, uint8_t *out)
{
    return put_n(v >> cv->cshift, cv->cbpp, cv->pf.big_endian, out);
}

static inline const uint32_t *src_row(const uint8_t *src, int stride, int y)
{
    return (const uint32_t *)(src + (size_t)y * stride);
}

/* Convert a tw x th block into values[ty * tw + tx]. */
static void load_tile(const VncConv *cv, const uint8_t *src, int stride, int tw, int th,
                      uint32_t *values)
{
    for (int y = 0; y < th; y++) {
        const uint32_t *row = src_row(src, stride, y);
        for (int x = 0; x < tw; x++) {
            values[y * tw + x] = vnc_conv_value(cv, row[x]);
        }
    }
}

/* Grow out by n bytes and return where they start. */
static uint8_t *out_reserve(GByteArray *out, size_t n)
{
    size_t at = out->len;

    g_byte_array_set_size(out, at + n);
    return out->data + at;
}

void vnc_enc_raw(const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                 GByteArray *out)
{
    uint8_t *p = out_reserve(out, (size_t)w * h * cv->bpp);

    for (int y = 0; y < h; y++) {
        const uint32_t *row = src_row(src, stride, y);
        if (cv->native) {
            /* The surface's x byte is undefined; the wire's padding bits are zero. */
            for (int x = 0; x < w; x++) {
                uint32_t v = row[x] & 0x00ffffffu;
                memcpy(p + 4 * x, &v, 4);
            }
            p += (size_t)w * 4;
            continue;
        }
        for (int x = 0; x < w; x++) {
            p += vnc_conv_put(cv, vnc_conv_value(cv, row[x]), p);
        }
    }
}

/* --- Hextile ------------------------------------------------------------------------- */

enum {
    HT_RAW = 1, HT_BG = 2, HT_FG = 4, HT_SUBRECTS = 8, HT_COLOURED = 16,
};

typedef struct HextileState {
    uint32_t bg, fg;
    bool bg_valid, fg_valid;
} HextileState;

/*
 * Beyond this many colours a tile goes out raw without trying subrectangles: each colour
 * needs at least one 6-byte coloured subrectangle (at 32 bpp), and noise-like tiles would
 * otherwise cost a palette search per pixel for nothing.
 */
#define HEXTILE_MAX_COLOURS 48

/*
 * The most frequent value of the tile and whether the tile has 1, 2 or more colours;
 * HEXTILE_MAX_COLOURS + 1 means "too many to bother".
 */
static int tile_colours(const uint32_t *t, int n, uint32_t *bg, uint32_t *other)
{
    uint32_t pal[HEXTILE_MAX_COLOURS];
    int count[HEXTILE_MAX_COLOURS], np = 0, best = 0, last = 0;

    for (int i = 0; i < n; i++) {
        int j;
        if (np && pal[last] == t[i]) {
            j = last;
        } else {
            for (j = 0; j < np && pal[j] != t[i]; j++) {
            }
            if (j == np) {
                if (np == HEXTILE_MAX_COLOURS) {
                    return HEXTILE_MAX_COLOURS + 1;
                }
                pal[np] = t[i];
                count[np++] = 0;
            }
        }
        count[j]++;
        last = j;
    }
    for (int j = 1; j < np; j++) {
        if (count[j] > count[best]) {
            best = j;
        }
    }
    *bg = pal[best];
    *other = pal[best == 0 && np > 1 ? 1 : 0];
    return np;
}

static void hextile_tile(const VncConv *cv, HextileState *st, const uint32_t *t, int tw, int th,
                         GByteArray *out)
{
    uint8_t buf[1 + 4 + 4 + 1 + 255 * 6];
    size_t raw_size = 1 + (size_t)tw * th * cv->bpp, len = 0;
    uint32_t bg = 0, other = 0;
    int ncol = tile_colours(t, tw * th, &bg, &other);
    bool coloured = ncol > 2, covered[256] = { false };
    uint8_t subenc = 0;
    int nsub = 0;
    size_t count_at;

    if (ncol > HEXTILE_MAX_COLOURS ||
        1 + 2 * (size_t)cv->bpp + 1 + (size_t)(ncol - 1) * (cv->bpp + 2) >= raw_size) {
        goto raw;
    }
    buf[len++] = 0;                         /* subencoding, filled in below */
    if (!st->bg_valid || st->bg != bg) {
        subenc |= HT_BG;
        len += vnc_conv_put(cv, bg, buf + len);
        st->bg = bg;
        st->bg_valid = true;
    }
    if (ncol == 1) {
        buf[0] = subenc;
        g_byte_array_append(out, buf, len);
        return;
    }
    if (!coloured && (!st->fg_valid || st->fg != other)) {
        subenc |= HT_FG;
        len += vnc_conv_put(cv, other, buf + len);
    }
    subenc |= HT_SUBRECTS | (coloured ? HT_COLOURED : 0);
    count_at = len++;
    /*
     * Greedy subrectangles: from each uncovered non-background pixel, extend right over the
     * same colour, then down while whole rows of that span match.
     */
    for (int y = 0; y < th; y++) {
        for (int x = 0; x < tw; x++) {
            uint32_t c = t[y * tw + x];
            int w = 1, h = 1;

            if (c == bg || covered[y * tw + x]) {
                continue;
            }
            while (x + w < tw && t[y * tw + x + w] == c && !covered[y * tw + x + w]) {
                w++;
            }
            for (bool ok = true; ok && y + h < th; ) {
                for (int i = 0; i < w && ok; i++) {
                    ok = t[(y + h) * tw + x + i] == c && !covered[(y + h) * tw + x + i];
                }
                h += ok;
            }
            for (int j = 0; j < h; j++) {
                memset(&covered[(y + j) * tw + x], true, w);
            }
            if (++nsub > 255 || len + (coloured ? cv->bpp : 0) + 2 >= raw_size) {
                goto raw;
            }
            if (coloured) {
                len += vnc_conv_put(cv, c, buf + len);
            }
            buf[len++] = x << 4 | y;
            buf[len++] = (w - 1) << 4 | (h - 1);
        }
    }
    buf[0] = subenc;
    buf[count_at] = nsub;
    g_byte_array_append(out, buf, len);
    if (subenc & HT_FG) {
        st->fg = other;
        st->fg_valid = true;
    }
    if (coloured) {
        /* Decoders differ on what "last foreground" means after coloured subrects. */
        st->fg_valid = false;
    }
    return;

raw:
    {
        uint8_t *p = out_reserve(out, raw_size);
        *p++ = HT_RAW;
        for (int i = 0; i < tw * th; i++) {
            p += vnc_conv_put(cv, t[i], p);
        }
        /* After a raw tile the next one re-sends both colours (7.7.4 leaves them open). */
        st->bg_valid = st->fg_valid = false;
    }
}

void vnc_enc_hextile(const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                     GByteArray *out)
{
    HextileState st = { 0 };
    uint32_t t[256];

    for (int ty = 0; ty < h; ty += 16) {
        int th = MIN(16, h - ty);
        for (int tx = 0; tx < w; tx += 16) {
            int tw = MIN(16, w - tx);
            load_tile(cv, src + (size_t)ty * stride + (size_t)tx * 4, stride, tw, th, t);
            hextile_tile(cv, &st, t, tw, th, out);
        }
    }
}

/* --- ZRLE ---------------------------------------------------------------------------- */

#define ZRLE_TILE 64
#define ZRLE_MAX_PALETTE 127

/* Bytes of a run length: (len - 1) as 255s and a final byte below 255. */
static inline size_t rle_len_size(int run)
{
    return (run - 1) / 255 + 1;
}

static inline uint8_t *put_rle_len(uint8_t *p, int run)
{
    run--;
    for (; run >= 255; run -= 255) {
        *p++ = 255;
    }
    *p++ = run;
    return p;
}

/* Palette of up to 127 values with a small open hash; index or -1 when full. */
typedef struct ZrlePalette {
    uint32_t colour[ZRLE_MAX_PALETTE];
    int n;
    int16_t slot[256];          /* -1 or index into colour */
} ZrlePalette;

static inline unsigned pal_hash(uint32_t v)
{
    return (v * 2654435761u) >> 24;
}

static int pal_lookup(ZrlePalette *p, uint32_t v, bool add)
{
    unsigned h = pal_hash(v);

    for (;; h = (h + 1) & 255) {
        int i = p->slot[h];
        if (i < 0) {
            if (!add || p->n == ZRLE_MAX_PALETTE) {
                return -1;
            }
            p->colour[p->n] = v;
            p->slot[h] = p->n;
            return p->n++;
        }
        if (p->colour[i] == v) {
            return i;
        }
    }
}

static void zrle_tile(const VncConv *cv, const uint32_t *t, int tw, int th, GByteArray *out)
{
    int n = tw * th, cb = cv->cbpp, runs = 0;
    size_t raw, packed = SIZE_MAX, prle = SIZE_MAX, plain = 0, best;
    ZrlePalette pal;
    bool pal_ok = true;
    uint8_t *p;
    int bits = 0;

    pal.n = 0;
    memset(pal.slot, 0xff, sizeof(pal.slot));
    for (int i = 0; i < n; ) {
        int j = i + 1;
        while (j < n && t[j] == t[i]) {
            j++;
        }
        runs++;
        plain += cb + rle_len_size(j - i);
        if (pal_ok && pal_lookup(&pal, t[i], true) < 0) {
            pal_ok = false;
        }
        i = j;
    }
    if (pal_ok && pal.n == 1) {
        p = out_reserve(out, 1 + cb);
        *p++ = 1;                           /* solid tile */
        put_cpixel(cv, t[0], p);
        return;
    }
    raw = (size_t)n * cb;
    if (pal_ok) {
        if (pal.n <= 16) {
            bits = pal.n <= 2 ? 1 : pal.n <= 4 ? 2 : 4;
            packed = (size_t)pal.n * cb + (size_t)th * ((tw * bits + 7) / 8);
        }
        /* Palette RLE: a run of one is its index byte, longer runs add their length. */
        prle = (size_t)pal.n * cb + runs;
        for (int i = 0; i < n; ) {
            int j = i + 1;
            while (j < n && t[j] == t[i]) {
                j++;
            }
            prle += j - i > 1 ? rle_len_size(j - i) : 0;
            i = j;
        }
    }
    best = MIN(MIN(raw, plain), MIN(packed, prle));
    if (best == raw) {
        p = out_reserve(out, 1 + raw);
        *p++ = 0;
        for (int i = 0; i < n; i++) {
            p += put_cpixel(cv, t[i], p);
        }
    } else if (best == packed) {
        p = out_reserve(out, 1 + packed);
        *p++ = pal.n;
        for (int i = 0; i < pal.n; i++) {
            p += put_cpixel(cv, pal.colour[i], p);
        }
        /* Rows start on a byte boundary, most significant bits first. */
        for (int y = 0; y < th; y++) {
            unsigned acc = 0, nb = 0;
            for (int x = 0; x < tw; x++) {
                acc = acc << bits | pal_lookup(&pal, t[y * tw + x], false);
                nb += bits;
                if (nb == 8) {
                    *p++ = acc;
                    acc = nb = 0;
                }
            }
            if (nb) {
                *p++ = acc << (8 - nb);
            }
        }
    } else if (best == plain) {
        p = out_reserve(out, 1 + plain);
        *p++ = 128;
        for (int i = 0; i < n; ) {
            int j = i + 1;
            while (j < n && t[j] == t[i]) {
                j++;
            }
            p += put_cpixel(cv, t[i], p);
            p = put_rle_len(p, j - i);
            i = j;
        }
    } else {
        p = out_reserve(out, 1 + prle);
        *p++ = 128 + pal.n;
        for (int i = 0; i < pal.n; i++) {
            p += put_cpixel(cv, pal.colour[i], p);
        }
        for (int i = 0; i < n; ) {
            int j = i + 1, idx = pal_lookup(&pal, t[i], false);
            while (j < n && t[j] == t[i]) {
                j++;
            }
            if (j - i == 1) {
                *p++ = idx;
            } else {
                *p++ = idx | 128;
                p = put_rle_len(p, j - i);
            }
            i = j;
        }
    }
}

bool vnc_enc_zrle(VncZrle *z, const VncConv *cv, const uint8_t *src, int stride, int w, int h,
                  GByteArray *out)
{
    uint32_t t[ZRLE_TILE * ZRLE_TILE];
    size_t len_at, start;

    if (!z->active) {
        memset(&z->zs, 0, sizeof(z->zs));
        /* Level 1: most of the gain at a fraction of the CPU (screens compress well). */
        if (deflateInit(&z->zs, 1) != Z_OK) {
            return false;
        }
        z->tiles = g_byte_array_new();
        z->active = true;
    }
    g_byte_array_set_size(z->tiles, 0);
    for (int ty = 0; ty < h; ty += ZRLE_TILE) {
        int th = MIN(ZRLE_TILE, h - ty);
        for (int tx = 0; tx < w; tx += ZRLE_TILE) {
            int tw = MIN(ZRLE_TILE, w - tx);
            load_tile(cv, src + (size_t)ty * stride + (size_t)tx * 4, stride, tw, th, t);
            zrle_tile(cv, t, tw, th, z->tiles);
        }
    }
    /* u32 length, then the zlib data; a sync flush ends each rectangle on a byte boundary. */
    len_at = out->len;
    out_reserve(out, 4);
    start = out->len;
    z->zs.next_in = z->tiles->data;
    z->zs.avail_in = z->tiles->len;
    do {
        size_t room = deflateBound(&z->zs, z->zs.avail_in) + 64;
        uint8_t *p = out_reserve(out, room);
        int ret;

        z->zs.next_out = p;
        z->zs.avail_out = room;
        ret = deflate(&z->zs, Z_SYNC_FLUSH);
        g_byte_array_set_size(out, out->len - z->zs.avail_out);
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            return false;
        }
    } while (z->zs.avail_in || z->zs.avail_out == 0);
    put_n(out->len - start, 4, true, out->data + len_at);
    return true;
}

void vnc_zrle_free(VncZrle *z)
{
    if (z->active) {
        deflateEnd(&z->zs);
        g_byte_array_free(z->tiles, true);
        z->active = false;
    }
}

/* --- Tight ---------------------------------------------------------------------------- */

/*
 * The Tight encoding as TightVNC defined it (RFB community registry, encoding 7; described
 * in the rfbproto document "Tight Encoding"): each rectangle starts with a compression-
 * control byte; fill (8h) sends one TPIXEL, basic compression (0..3 in bits 4-5 pick the zlib
 * stream, bit 6 announces a filter byte) sends copy- or palette-filtered data, zlib
 * compressed from 12 bytes on and prefixed by a 1-3 byte compact length.
 */
#define TIGHT_MAX_WIDTH       2048
#define TIGHT_MAX_PIXELS      65536
#define TIGHT_MIN_TO_COMPRESS 12
#define TIGHT_FILL            0x80
#define TIGHT_EXPLICIT_FILTER 0x40
#define TIGHT_FILTER_COPY     0
#define TIGHT_FILTER_PALETTE  1
#define TIGHT_STREAM_COPY     0
#define TIGHT_STREAM_MONO     1
#define TIGHT_STREAM_INDEXED  2

/* TPIXEL: R, G, B bytes for 32 bpp depth 24 with 8-bit channels, else a PIXEL. */
static bool tight_tpixel3(const VncConv *cv)
{
    const VncPixelFormat *pf = &cv->pf;

    return pf->bits_per_pixel == 32 && pf->depth == 24 && pf->red_max == 255 &&
           pf->green_max == 255 && pf->blue_max == 255;
}

static int put_tpixel(const VncConv *cv, bool tp3, uint32_t v, uint8_t *out)
{
    if (tp3) {
        out[0] = v >> cv->pf.red_shift;
        out[1] = v >> cv->pf.green_shift;
        out[2] = v >> cv->pf.blue_shift;
        return 3;
    }
    return vnc_conv_put(cv, v, out);
}

static void put_compact_len(GByteArray *out, size_t len)
{
    uint8_t b[3];
    int n = 0;

    b[n++] = (len & 0x7f) | (len >= 0x80 ? 0x80 : 0);
    if (len >= 0x80) {
        b[n++] = ((len >> 7) & 0x7f) | (len >= 0x4000 ? 0x80 : 0);
        if (len >= 0x4000) {
            b[n++] = len >> 14;
        }
    }
    g_byte_array_append(out, b, n);
}

/* The chunk's data (t->data) onto out: raw when short, else length + zlib on a stream. */
static bool tight_put_data(VncTight *t, int stream, GByteArray *out)
{
    z_stream *zs = &t->zs[stream];

    if (t->data->len < TIGHT_MIN_TO_COMPRESS) {
        g_byte_array_append(out, t->data->data, t->data->len);
        return true;
    }
    if (!t->active[stream]) {
        memset(zs, 0, sizeof(*zs));
        if (deflateInit(zs, 1) != Z_OK) {
            return false;
        }
        t->active[stream] = true;
    }
    g_byte_array_set_size(t->zbuf, deflateBound(zs, t->data->len) + 64);
    zs->next_in = t->data->data;
    zs->avail_in = t->data->len;
    zs->next_out = t->zbuf->data;
    zs->avail_out = t->zbuf->len;
    if (deflate(zs, Z_SYNC_FLUSH) != Z_OK || zs->avail_in) {
        return false;
    }
    put_compact_len(out, t->zbuf->len - zs->avail_out);
    g_byte_array_append(out, t->zbuf->data, t->zbuf->len - zs->avail_out);
    return true;
}

typedef struct TightPalette {
    uint32_t colour[256];
    int n;
    int16_t slot[1024];
} TightPalette;

static int tight_pal_lookup(TightPalette *p, uint32_t v, bool add)
{
    unsigned h = (v * 2654435761u) >> 22;

    for (;; h = (h + 1) & 1023) {
        int i = p->slot[h];
        if (i < 0) {
            if (!add || p->n == 256) {
                return -1;
            }
            p->colour[p->n] = v;
            p->slot[h] = p->n;
            return p->n++;
        }
        if (p->colour[i] == v) {
            return i;
        }
    }
}

static bool tight_chunk(VncTight *t, const VncConv *cv, int w, int h, GByteArray *out)
{
    const uint32_t *px = t->px;
    bool tp3 = tight_tpixel3(cv);
    int n = w * h, bpp = tp3 ? 3 : cv->bpp;
    TightPalette pal;
    bool pal_ok = true;
    uint8_t b[8];

    pal.n = 0;
    memset(pal.slot, 0xff, sizeof(pal.slot));
    for (int i = 0; i < n && pal_ok; i++) {
        if ((i == 0 || px[i] != px[i - 1]) && tight_pal_lookup(&pal, px[i], true) < 0) {
            pal_ok = false;
        }
    }
    g_byte_array_set_size(t->data, 0);
    if (pal_ok && pal.n == 1) {
        b[0] = TIGHT_FILL;
        g_byte_array_append(out, b, 1 + put_tpixel(cv, tp3, px[0], b + 1));
        return true;
    }
    /* A palette pays off when its indices (1 byte, or 1 bit for two colours) beat pixels. */
    if (pal_ok && (pal.n == 2 || bpp > 1)) {
        int stream = pal.n == 2 ? TIGHT_STREAM_MONO : TIGHT_STREAM_INDEXED;

        b[0] = stream << 4 | TIGHT_EXPLICIT_FILTER;
        b[1] = TIGHT_FILTER_PALETTE;
        b[2] = pal.n - 1;
        g_byte_array_append(out, b, 3);
        for (int i = 0; i < pal.n; i++) {
            g_byte_array_append(out, b, put_tpixel(cv, tp3, pal.colour[i], b));
        }
        if (pal.n == 2) {
            /* One bit per pixel, rows padded to a byte, most significant bit first. */
            uint8_t *p = out_reserve(t->data, (size_t)h * ((w + 7) / 8));
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x += 8) {
                    uint8_t byte = 0;
                    for (int i = 0; i < 8 && x + i < w; i++) {
                        byte |= (px[y * w + x + i] == pal.colour[1]) << (7 - i);
                    }
                    *p++ = byte;
                }
            }
        } else {
            uint8_t *p = out_reserve(t->data, n);
            for (int i = 0; i < n; i++) {
                p[i] = tight_pal_lookup(&pal, px[i], false);
            }
        }
        return tight_put_data(t, stream, out);
    }
    b[0] = TIGHT_STREAM_COPY << 4;          /* no filter byte: copy */
    g_byte_array_append(out, b, 1);
    {
        uint8_t *p = out_reserve(t->data, (size_t)n * bpp);
        for (int i = 0; i < n; i++) {
            p += put_tpixel(cv, tp3, px[i], p);
        }
    }
    return tight_put_data(t, TIGHT_STREAM_COPY, out);
}

int vnc_enc_tight(VncTight *t, const VncConv *cv, const uint8_t *src, int stride,
                  int x, int y, int w, int h, GByteArray *out)
{
    int cw = MIN(w, TIGHT_MAX_WIDTH), ch = MAX(1, TIGHT_MAX_PIXELS / MAX(cw, 1)), n = 0;

    if (!t->px) {
        t->px = g_new(uint32_t, TIGHT_MAX_PIXELS);
        t->data = g_byte_array_new();
        t->zbuf = g_byte_array_new();
    }
    for (int cy = 0; cy < h; cy += ch) {
        int th = MIN(ch, h - cy);
        for (int cx = 0; cx < w; cx += cw) {
            int tw = MIN(cw, w - cx);
            uint8_t hdr[12] = {
                (x + cx) >> 8, x + cx, (y + cy) >> 8, y + cy, tw >> 8, tw, th >> 8, th,
                0, 0, 0, VNC_ENC_TIGHT,
            };
            g_byte_array_append(out, hdr, 12);
            load_tile(cv, src + (size_t)cy * stride + (size_t)cx * 4, stride, tw, th, t->px);
            if (!tight_chunk(t, cv, tw, th, out)) {
                return 0;
            }
            n++;
        }
    }
    return n;
}

void vnc_tight_free(VncTight *t)
{
    for (int i = 0; i < 4; i++) {
        if (t->active[i]) {
            deflateEnd(&t->zs[i]);
            t->active[i] = false;
        }
    }
    g_free(t->px);
    t->px = NULL;
    if (t->data) {
        g_byte_array_free(t->data, true);
        g_byte_array_free(t->zbuf, true);
        t->data = t->zbuf = NULL;
    }
}
