/*
 * Console layer: the link between display devices (VGA, ...) and display front-ends (SDL,
 * VNC, screendump).
 *
 * A device creates a graphic console with graphic_console_init() and a GraphicHwOps table.
 * The console owns a DisplaySurface: 32-bit xRGB (pixman's x8r8g8b8, host byte order), either
 * allocated by the console or borrowing the device's own buffer (qemu_create_displaysurface_
 * from), so a device that already renders xRGB shares it without a copy.  The device reports
 * what changed with dpy_gfx_update() and size changes with dpy_gfx_replace_surface().
 *
 * Front-ends register a DisplayChangeListener.  While at least one is registered, a refresh
 * timer runs every update_interval ms (30 ms, growing to 500 ms while nothing changes): each
 * tick asks the devices to update (GraphicHwOps.gfx_update, which calls dpy_gfx_update for the
 * rectangles it redrew) and then calls each listener's dpy_refresh.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite-config.h"
#ifdef CONFIG_PIXMAN
#include <pixman.h>
#endif

typedef struct DeviceState DeviceState;
typedef struct QemuConsole QemuConsole;
typedef struct DisplayChangeListener DisplayChangeListener;

#define GUI_REFRESH_INTERVAL_DEFAULT 30     /* ms */
#define GUI_REFRESH_INTERVAL_IDLE    500    /* ms, reached after a while without changes */
#define CONSOLE_MAX_DIM              16384  /* a surface larger than this is refused */

typedef struct DisplaySurface {
    int width, height;
    int stride;                 /* bytes per line, >= width * 4 */
    uint8_t *data;              /* width x height xRGB pixels, host-endian uint32_t */
    bool borrowed;              /* data belongs to the device */
#ifdef CONFIG_PIXMAN
    pixman_image_t *image;      /* wraps data, for front-ends that scale or convert */
#endif
} DisplaySurface;

/* A new surface with its own zeroed buffer; NULL (and errp) when the size is not sane. */
DisplaySurface *qemu_create_displaysurface(int width, int height);
/* A surface over the device's buffer; the buffer must outlive the surface. */
DisplaySurface *qemu_create_displaysurface_from(int width, int height, int stride,
                                                uint8_t *data);
void qemu_free_displaysurface(DisplaySurface *s);

static inline uint32_t surface_pixel(const DisplaySurface *s, int x, int y)
{
    return ((const uint32_t *)(s->data + (size_t)y * s->stride))[x];
}

/* The device side. */
typedef struct GraphicHwOps {
    void (*invalidate)(void *opaque);   /* redraw everything at the next update */
    void (*gfx_update)(void *opaque);   /* render what changed, report with dpy_gfx_update */
    /* Text mode contents for a text front-end: width x height cells (char | attr << 8). */
    void (*text_update)(void *opaque, uint32_t *chardata);
} GraphicHwOps;

QemuConsole *graphic_console_init(DeviceState *dev, const GraphicHwOps *ops, void *opaque);
void graphic_console_close(QemuConsole *con);
void graphic_hw_update(QemuConsole *con);           /* NULL: the active console */
void graphic_hw_invalidate(QemuConsole *con);
void dpy_gfx_update(QemuConsole *con, int x, int y, int w, int h);   /* clipped */
void dpy_gfx_update_full(QemuConsole *con);
/* The console takes ownership of surface and frees the old one after telling listeners. */
void dpy_gfx_replace_surface(QemuConsole *con, DisplaySurface *surface);
DisplaySurface *qemu_console_surface(QemuConsole *con);
int qemu_console_get_width(QemuConsole *con, int fallback);
int qemu_console_get_height(QemuConsole *con, int fallback);
bool qemu_console_is_graphic(QemuConsole *con);
DeviceState *qemu_console_device(QemuConsole *con);

/*
 * Consoles are numbered in creation order.  The first graphic console is active; console 0
 * is a text console created on demand when no device provides a display, so front-ends
 * always have something to show (a blank 640x480 surface with the message drawn by nobody:
 * it stays black).
 */
QemuConsole *qemu_console_lookup_by_index(unsigned index);
QemuConsole *qemu_console_active(void);
void console_select(unsigned index);
unsigned qemu_console_count(void);

/* The front-end side. */
typedef struct DisplayChangeListenerOps {
    const char *dpy_name;
    void (*dpy_refresh)(DisplayChangeListener *dcl);        /* once per tick */
    void (*dpy_gfx_update)(DisplayChangeListener *dcl, int x, int y, int w, int h);
    void (*dpy_gfx_switch)(DisplayChangeListener *dcl, DisplaySurface *new_surface);
} DisplayChangeListenerOps;

struct DisplayChangeListener {
    const DisplayChangeListenerOps *ops;
    QemuConsole *con;           /* NULL: follow the active console */
    uint64_t update_interval;   /* ms, maintained by the console layer */
    bool idle_growth_off;       /* keep the default interval (tests, SDL) */
    /* private */
    DisplayChangeListener *next;
};

/* Calls dpy_gfx_switch with the current surface right away. */
void register_displaychangelistener(DisplayChangeListener *dcl);
void unregister_displaychangelistener(DisplayChangeListener *dcl);
/* Run one refresh tick now (what the timer does); for tests and screendump. */
void dpy_refresh_tick(void);

/*
 * Screendump of the active console (refreshed first).  format: "ppm", "png" or NULL to pick
 * by the file name's extension (PPM otherwise).
 */
bool ui_screendump(const char *filename, const char *format, Error **errp);
/* The writers, usable on any surface. */
bool ui_write_ppm(DisplaySurface *s, const char *filename, Error **errp);
bool ui_write_png(DisplaySurface *s, const char *filename, Error **errp);
/* PNG bytes in memory (g_free the result). */
uint8_t *ui_encode_png(DisplaySurface *s, size_t *len);

#endif
