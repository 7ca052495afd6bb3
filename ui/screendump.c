/*
 * Screendumps: the active console as a binary PPM (Netpbm P6) or a PNG.
 *
 * The PNG writer is the smallest valid encoder (PNG specification, ISO/IEC 15948, 2nd ed.):
 * signature, IHDR (8-bit truecolour, colour type 2, no interlace), one IDAT holding the zlib
 * stream of all scanlines each prefixed with filter type 0 (section 9.2), IEND.  Every chunk
 * carries the CRC-32 of its type and data (section 5.3), which zlib's crc32() computes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/console.h"
#include <zlib.h>

static void surface_row_rgb(DisplaySurface *s, int y, uint8_t *out)
{
    for (int x = 0; x < s->width; x++) {
        uint32_t p = surface_pixel(s, x, y);
        *out++ = p >> 16;
        *out++ = p >> 8;
        *out++ = p;
    }
}

static bool write_all(const char *filename, const void *buf, size_t len, Error **errp)
{
    GError *gerr = NULL;

    if (!g_file_set_contents(filename, buf, len, &gerr)) {
        error_setg(errp, "screendump: %s", gerr->message);
        g_error_free(gerr);
        return false;
    }
    return true;
}

bool ui_write_ppm(DisplaySurface *s, const char *filename, Error **errp)
{
    g_autofree char *header = g_strdup_printf("P6\n%d %d\n255\n", s->width, s->height);
    size_t hlen = strlen(header), row = (size_t)s->width * 3;
    g_autofree uint8_t *buf = g_malloc(hlen + row * s->height);

    memcpy(buf, header, hlen);
    for (int y = 0; y < s->height; y++) {
        surface_row_rgb(s, y, buf + hlen + row * y);
    }
    return write_all(filename, buf, hlen + row * s->height, errp);
}

static void png_chunk(GByteArray *out, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t be[4] = { len >> 24, len >> 16, len >> 8, len };
    uLong crc = crc32(0, (const Bytef *)type, 4);

    g_byte_array_append(out, be, 4);
    g_byte_array_append(out, (const guint8 *)type, 4);
    if (len) {
        g_byte_array_append(out, data, len);
        crc = crc32(crc, data, len);
    }
    be[0] = crc >> 24;
    be[1] = crc >> 16;
    be[2] = crc >> 8;
    be[3] = crc;
    g_byte_array_append(out, be, 4);
}

uint8_t *ui_encode_png(DisplaySurface *s, size_t *len)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    size_t row = (size_t)s->width * 3 + 1, raw_len = row * s->height;
    g_autofree uint8_t *raw = g_malloc(raw_len);
    uLongf zlen = compressBound(raw_len);
    g_autofree uint8_t *z = g_malloc(zlen);
    uint8_t ihdr[13] = {
        s->width >> 24, s->width >> 16, s->width >> 8, s->width,
        s->height >> 24, s->height >> 16, s->height >> 8, s->height,
        8, 2, 0, 0, 0,      /* depth 8, truecolour, deflate, adaptive filters, no interlace */
    };
    GByteArray *out = g_byte_array_new();

    for (int y = 0; y < s->height; y++) {
        raw[row * y] = 0;                       /* filter type None */
        surface_row_rgb(s, y, raw + row * y + 1);
    }
    if (compress2(z, &zlen, raw, raw_len, 6) != Z_OK) {
        g_byte_array_free(out, true);
        return NULL;
    }
    g_byte_array_append(out, sig, sizeof(sig));
    png_chunk(out, "IHDR", ihdr, sizeof(ihdr));
    png_chunk(out, "IDAT", z, zlen);
    png_chunk(out, "IEND", NULL, 0);
    *len = out->len;
    return g_byte_array_free(out, false);
}

bool ui_write_png(DisplaySurface *s, const char *filename, Error **errp)
{
    size_t len;
    g_autofree uint8_t *png = ui_encode_png(s, &len);

    if (!png) {
        error_setg(errp, "screendump: PNG compression failed");
        return false;
    }
    return write_all(filename, png, len, errp);
}

bool ui_screendump(const char *filename, const char *format, Error **errp)
{
    QemuConsole *con = qemu_console_active();
    DisplaySurface *s;
    bool graphic = false;

    /*
     * QEMU's error when no display device made a console (-nodefaults, -vga none): the
     * placeholder text console Kite's front-ends draw is not something to dump.
     */
    for (unsigned i = 0; i < qemu_console_count(); i++) {
        graphic |= qemu_console_is_graphic(qemu_console_lookup_by_index(i));
    }
    if (!graphic) {
        error_setg(errp, "There is no console to take a screendump from");
        return false;
    }
    if (!format) {
        format = g_str_has_suffix(filename, ".png") ? "png" : "ppm";
    }
    graphic_hw_update(con);
    s = qemu_console_surface(con);
    if (!s) {
        error_setg(errp, "screendump: no display surface");
        return false;
    }
    if (!strcmp(format, "png")) {
        return ui_write_png(s, filename, errp);
    }
    if (!strcmp(format, "ppm")) {
        return ui_write_ppm(s, filename, errp);
    }
    error_setg(errp, "screendump: unknown format '%s' (ppm or png)", format);
    return false;
}
