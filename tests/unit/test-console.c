/*
 * Console layer: surfaces, dirty rectangles reaching listeners, surface switches, the
 * refresh tick driving devices, and the PPM/PNG screendump writers (the PNG is decoded here:
 * chunk CRCs checked, IDAT inflated with zlib and compared pixel by pixel).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "ui/console.h"
#include <glib/gstdio.h>
#include <zlib.h>

typedef struct FakeDisplay {
    uint32_t fb[64 * 48];
    int updates;                    /* gfx_update calls */
    int invalidates;
    QemuConsole *con;
} FakeDisplay;

static void fake_invalidate(void *opaque)
{
    ((FakeDisplay *)opaque)->invalidates++;
}

/* Draws a moving pixel each update and reports it, as a device renderer does. */
static void fake_update(void *opaque)
{
    FakeDisplay *d = opaque;

    d->fb[d->updates % (64 * 48)] = 0x00ff8040;
    dpy_gfx_update(d->con, d->updates % 64, d->updates / 64 % 48, 1, 1);
    d->updates++;
}

static const GraphicHwOps fake_ops = {
    .invalidate = fake_invalidate,
    .gfx_update = fake_update,
};

typedef struct Recorder {
    DisplayChangeListener dcl;
    int switches, refreshes, updates;
    DisplaySurface *surface;
    int x0, y0, x1, y1;             /* union of the updated rectangles */
} Recorder;

static void rec_update(DisplayChangeListener *dcl, int x, int y, int w, int h)
{
    Recorder *r = container_of(dcl, Recorder, dcl);

    g_assert_cmpint(w, >, 0);
    g_assert_cmpint(h, >, 0);
    g_assert_cmpint(x + w, <=, r->surface->width);
    g_assert_cmpint(y + h, <=, r->surface->height);
    if (!r->updates++) {
        r->x0 = x, r->y0 = y, r->x1 = x + w, r->y1 = y + h;
    } else {
        r->x0 = MIN(r->x0, x), r->y0 = MIN(r->y0, y);
        r->x1 = MAX(r->x1, x + w), r->y1 = MAX(r->y1, y + h);
    }
}

static void rec_switch(DisplayChangeListener *dcl, DisplaySurface *s)
{
    Recorder *r = container_of(dcl, Recorder, dcl);
    r->switches++;
    r->surface = s;
}

static void rec_refresh(DisplayChangeListener *dcl)
{
    container_of(dcl, Recorder, dcl)->refreshes++;
}

static const DisplayChangeListenerOps rec_ops = {
    .dpy_name = "recorder",
    .dpy_refresh = rec_refresh,
    .dpy_gfx_update = rec_update,
    .dpy_gfx_switch = rec_switch,
};

static FakeDisplay fake;

static void test_surface_sizes(void)
{
    uint8_t buf[16 * 4 * 2];
    DisplaySurface *s = qemu_create_displaysurface(3, 2);

    g_assert_nonnull(s);
    g_assert_cmpint(s->stride, ==, 12);
    g_assert_cmpuint(surface_pixel(s, 2, 1), ==, 0);
    qemu_free_displaysurface(s);
    g_assert_null(qemu_create_displaysurface(0, 10));
    g_assert_null(qemu_create_displaysurface(10, -1));
    g_assert_null(qemu_create_displaysurface(CONSOLE_MAX_DIM + 1, 1));
    g_assert_null(qemu_create_displaysurface_from(16, 2, 60, buf));    /* stride < w*4 */
    s = qemu_create_displaysurface_from(16, 2, 64, buf);
    g_assert_nonnull(s);
    g_assert_true(s->borrowed);
#ifdef CONFIG_PIXMAN
    g_assert_nonnull(s->image);
    g_assert_cmpint(pixman_image_get_width(s->image), ==, 16);
#endif
    qemu_free_displaysurface(s);        /* must not free buf */
}

static void test_console_listener(void)
{
    Recorder r = { .dcl.ops = &rec_ops };
    QemuConsole *con;

    /* Before any device: a text console with a blank surface is active. */
    g_assert_false(qemu_console_is_graphic(NULL));
    g_assert_cmpint(qemu_console_get_width(NULL, 0), ==, 640);

    con = fake.con = graphic_console_init(NULL, &fake_ops, &fake);
    g_assert_true(con == qemu_console_active());
    g_assert_cmpuint(qemu_console_count(), ==, 1);     /* the placeholder was reused */
    dpy_gfx_replace_surface(con, qemu_create_displaysurface_from(64, 48, 64 * 4,
                                                                 (uint8_t *)fake.fb));

    register_displaychangelistener(&r.dcl);
    g_assert_cmpint(r.switches, ==, 1);
    g_assert_true(r.surface == qemu_console_surface(con));
    g_assert_cmpint(fake.invalidates, ==, 1);

    /* Clipping: off-surface and empty rectangles never reach listeners. */
    dpy_gfx_update(con, -10, -10, 20, 15);
    g_assert_cmpint(r.updates, ==, 1);
    g_assert_cmpint(r.x0, ==, 0);
    g_assert_cmpint(r.x1, ==, 10);
    g_assert_cmpint(r.y1, ==, 5);
    dpy_gfx_update(con, 100, 0, 5, 5);
    dpy_gfx_update(con, 0, 0, 0, 5);
    dpy_gfx_update(con, 60, 40, INT_MAX, INT_MAX);
    g_assert_cmpint(r.updates, ==, 2);
    g_assert_cmpint(r.x1, ==, 64);
    g_assert_cmpint(r.y1, ==, 48);

    /* A tick makes the device render, then refreshes the listener. */
    r.updates = 0;
    dpy_refresh_tick();
    g_assert_cmpint(fake.updates, ==, 1);
    g_assert_cmpint(r.updates, ==, 1);
    g_assert_cmpint(r.refreshes, ==, 1);
    g_assert_cmpuint(surface_pixel(r.surface, 0, 0), ==, 0x00ff8040);
    g_assert_cmpuint(r.dcl.update_interval, ==, GUI_REFRESH_INTERVAL_DEFAULT);

    /* Resize: listeners switch to the new surface. */
    dpy_gfx_replace_surface(con, qemu_create_displaysurface(32, 16));
    g_assert_cmpint(r.switches, ==, 2);
    g_assert_cmpint(r.surface->width, ==, 32);
    dpy_gfx_replace_surface(con, qemu_create_displaysurface_from(64, 48, 64 * 4,
                                                                 (uint8_t *)fake.fb));

    unregister_displaychangelistener(&r.dcl);
    dpy_gfx_update(con, 0, 0, 4, 4);
    g_assert_cmpint(r.updates, ==, 1);
}

static void test_idle_backoff(void)
{
    Recorder r = { .dcl.ops = &rec_ops };
    static const GraphicHwOps still_ops = { 0 };
    QemuConsole *con = graphic_console_init(NULL, &still_ops, NULL);

    /* A listener on a console whose device never changes: the interval grows, capped. */
    r.dcl.con = con;
    register_displaychangelistener(&r.dcl);
    for (int i = 0; i < 40; i++) {
        dpy_refresh_tick();
    }
    g_assert_cmpuint(r.dcl.update_interval, ==, GUI_REFRESH_INTERVAL_IDLE);
    dpy_gfx_update(con, 0, 0, 1, 1);
    dpy_refresh_tick();
    g_assert_cmpuint(r.dcl.update_interval, ==, GUI_REFRESH_INTERVAL_DEFAULT);
    unregister_displaychangelistener(&r.dcl);
    /* The first graphic console stays active. */
    g_assert_true(qemu_console_active() == fake.con);
    graphic_console_close(con);
    g_assert_cmpuint(qemu_console_count(), ==, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Checks the PNG's structure and returns its pixels as RGB rows. */
static uint8_t *png_decode(const uint8_t *png, size_t len, int *w, int *h)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    GByteArray *idat = g_byte_array_new();
    size_t off = 8;
    bool end = false;
    uint8_t *raw, *rgb;
    uLongf raw_len;

    g_assert_cmpmem(png, 8, sig, 8);
    while (!end) {
        uint32_t clen;
        g_assert_cmpuint(off + 12, <=, len);
        clen = be32(png + off);
        g_assert_cmpuint(off + 12 + clen, <=, len);
        g_assert_cmpuint(crc32(0, png + off + 4, clen + 4), ==, be32(png + off + 8 + clen));
        if (!memcmp(png + off + 4, "IHDR", 4)) {
            g_assert_cmpuint(clen, ==, 13);
            *w = be32(png + off + 8);
            *h = be32(png + off + 12);
            g_assert_cmpuint(png[off + 16], ==, 8);      /* bit depth */
            g_assert_cmpuint(png[off + 17], ==, 2);      /* truecolour */
        } else if (!memcmp(png + off + 4, "IDAT", 4)) {
            g_byte_array_append(idat, png + off + 8, clen);
        } else if (!memcmp(png + off + 4, "IEND", 4)) {
            end = true;
        }
        off += 12 + clen;
    }
    g_assert_cmpuint(off, ==, len);
    raw_len = (uLongf)(*w * 3 + 1) * *h;
    raw = g_malloc(raw_len);
    g_assert_cmpint(uncompress(raw, &raw_len, idat->data, idat->len), ==, Z_OK);
    g_assert_cmpuint(raw_len, ==, (uLongf)(*w * 3 + 1) * *h);
    rgb = g_malloc((size_t)*w * 3 * *h);
    for (int y = 0; y < *h; y++) {
        g_assert_cmpuint(raw[y * (*w * 3 + 1)], ==, 0);
        memcpy(rgb + y * *w * 3, raw + y * (*w * 3 + 1) + 1, *w * 3);
    }
    g_free(raw);
    g_byte_array_free(idat, true);
    return rgb;
}

static void fill_pattern(DisplaySurface *s)
{
    for (int y = 0; y < s->height; y++) {
        for (int x = 0; x < s->width; x++) {
            ((uint32_t *)(s->data + y * s->stride))[x] = (x * 7) << 16 | (y * 5) << 8 | (x ^ y);
        }
    }
}

static void check_rgb(DisplaySurface *s, const uint8_t *rgb)
{
    for (int y = 0; y < s->height; y++) {
        for (int x = 0; x < s->width; x++) {
            const uint8_t *p = rgb + (y * s->width + x) * 3;
            uint32_t v = surface_pixel(s, x, y);
            g_assert_cmpuint(p[0], ==, (v >> 16) & 0xff);
            g_assert_cmpuint(p[1], ==, (v >> 8) & 0xff);
            g_assert_cmpuint(p[2], ==, v & 0xff);
        }
    }
}

static void test_png_ppm(void)
{
    g_autofree char *dir = g_dir_make_tmp("kite-console-XXXXXX", NULL);
    g_autofree char *ppm = g_build_filename(dir, "s.ppm", NULL);
    g_autofree char *png = g_build_filename(dir, "s.png", NULL);
    g_autofree char *bad = g_build_filename(dir, "nodir", "s.png", NULL);
    DisplaySurface *s = qemu_console_surface(NULL);
    g_autofree uint8_t *mem = NULL, *rgb = NULL;
    g_autofree gchar *contents = NULL;
    Error *err = NULL;
    size_t len;
    gsize flen;
    int w, h;

    /* The active console is the fake device's: draw on its (borrowed) surface. */
    g_assert_cmpint(s->width, ==, 64);
    fill_pattern(s);
    mem = ui_encode_png(s, &len);
    rgb = png_decode(mem, len, &w, &h);
    g_assert_cmpint(w, ==, 64);
    g_assert_cmpint(h, ==, 48);

    check_rgb(s, rgb);

    /* Each screendump refreshes the device first (one more pixel drawn): compare each file
     * with the surface right after it was written. */
    g_assert_true(ui_screendump(png, NULL, &error_abort));
    g_assert_cmpuint(surface_pixel(s, 1, 0), ==, 0x00ff8040);
    g_assert_true(g_file_get_contents(png, &contents, &flen, NULL));
    g_free(rgb);
    rgb = png_decode((uint8_t *)contents, flen, &w, &h);
    check_rgb(s, rgb);
    g_free(contents);
    g_assert_true(ui_screendump(ppm, NULL, &error_abort));
    g_assert_true(g_file_get_contents(ppm, &contents, &flen, NULL));
    g_assert_true(g_str_has_prefix(contents, "P6\n64 48\n255\n"));
    g_assert_cmpuint(flen, ==, strlen("P6\n64 48\n255\n") + 64 * 48 * 3);
    check_rgb(s, (uint8_t *)contents + strlen("P6\n64 48\n255\n"));

    g_assert_false(ui_screendump(ppm, "bmp", &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    g_assert_false(ui_screendump(bad, "png", &err));
    g_assert_nonnull(err);
    error_free(err);
    g_unlink(png);
    g_unlink(ppm);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/console/surface-sizes", test_surface_sizes);
    g_test_add_func("/console/listener", test_console_listener);
    g_test_add_func("/console/idle-backoff", test_idle_backoff);
    g_test_add_func("/console/png-ppm", test_png_ppm);
    return g_test_run();
}
