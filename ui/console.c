/*
 * Console layer: graphic consoles, their surfaces and dirty rectangles, the listeners of the
 * display front-ends and the refresh timer that drives both.  See include/ui/console.h.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/console.h"
#include "kite/timer.h"
#include "kite/log.h"

#define MAX_CONSOLES 16

struct QemuConsole {
    unsigned index;
    DeviceState *dev;
    bool text;                      /* the placeholder text console, no device */
    const GraphicHwOps *ops;
    void *opaque;
    DisplaySurface *surface;
    bool changed;                   /* dpy_gfx_update since the last tick */
};

static QemuConsole *consoles[MAX_CONSOLES];
static unsigned nb_consoles;
static QemuConsole *active_console;
static DisplayChangeListener *listeners;
static KiteTimer *refresh_timer;
static uint64_t refresh_interval = GUI_REFRESH_INTERVAL_DEFAULT;

/* --- surfaces ------------------------------------------------------------------ */

static bool surface_size_ok(int width, int height)
{
    return width > 0 && height > 0 && width <= CONSOLE_MAX_DIM && height <= CONSOLE_MAX_DIM;
}

static void surface_wrap(DisplaySurface *s)
{
#ifdef CONFIG_PIXMAN
    s->image = pixman_image_create_bits(PIXMAN_x8r8g8b8, s->width, s->height,
                                        (uint32_t *)s->data, s->stride);
#endif
}

DisplaySurface *qemu_create_displaysurface(int width, int height)
{
    DisplaySurface *s;

    if (!surface_size_ok(width, height)) {
        return NULL;
    }
    s = g_new0(DisplaySurface, 1);
    s->width = width;
    s->height = height;
    s->stride = width * 4;
    s->data = g_malloc0((size_t)s->stride * height);
    surface_wrap(s);
    return s;
}

DisplaySurface *qemu_create_displaysurface_from(int width, int height, int stride,
                                                uint8_t *data)
{
    DisplaySurface *s;

    if (!surface_size_ok(width, height) || stride < width * 4 || !data) {
        return NULL;
    }
    s = g_new0(DisplaySurface, 1);
    s->width = width;
    s->height = height;
    s->stride = stride;
    s->data = data;
    s->borrowed = true;
    surface_wrap(s);
    return s;
}

void qemu_free_displaysurface(DisplaySurface *s)
{
    if (!s) {
        return;
    }
#ifdef CONFIG_PIXMAN
    if (s->image) {
        pixman_image_unref(s->image);
    }
#endif
    if (!s->borrowed) {
        g_free(s->data);
    }
    g_free(s);
}

/* --- consoles ------------------------------------------------------------------ */

static QemuConsole *console_new(DeviceState *dev, const GraphicHwOps *ops, void *opaque)
{
    QemuConsole *con;

    if (nb_consoles == MAX_CONSOLES) {
        return NULL;
    }
    con = g_new0(QemuConsole, 1);
    con->index = nb_consoles;
    con->dev = dev;
    con->ops = ops;
    con->opaque = opaque;
    con->surface = qemu_create_displaysurface(640, 480);
    consoles[nb_consoles++] = con;
    return con;
}

static DisplayChangeListener *dcl_first_for(QemuConsole *con, DisplayChangeListener *from);

static bool dcl_shows(DisplayChangeListener *dcl, QemuConsole *con)
{
    return dcl->con ? dcl->con == con : active_console == con;
}

static void console_notify_switch(QemuConsole *con)
{
    for (DisplayChangeListener *d = listeners; d; d = d->next) {
        if (dcl_shows(d, con) && d->ops->dpy_gfx_switch) {
            d->ops->dpy_gfx_switch(d, con->surface);
        }
    }
}

QemuConsole *graphic_console_init(DeviceState *dev, const GraphicHwOps *ops, void *opaque)
{
    QemuConsole *con;

    /* A placeholder text console (no device) gives way to the first real display. */
    if (active_console && active_console->text && nb_consoles == 1) {
        con = active_console;
        con->text = false;
        con->dev = dev;
        con->ops = ops;
        con->opaque = opaque;
        return con;
    }
    con = console_new(dev, ops, opaque);
    if (con && (!active_console || active_console->text)) {
        active_console = con;
        console_notify_switch(con);
    }
    return con;
}

void graphic_console_close(QemuConsole *con)
{
    unsigned i;

    if (!con) {
        return;
    }
    for (DisplayChangeListener *d = listeners; d; d = d->next) {
        if (d->con == con) {
            d->con = NULL;
        }
    }
    for (i = 0; i < nb_consoles && consoles[i] != con; i++) {
    }
    if (i < nb_consoles) {
        memmove(&consoles[i], &consoles[i + 1], (nb_consoles - i - 1) * sizeof(consoles[0]));
        nb_consoles--;
        for (unsigned j = 0; j < nb_consoles; j++) {
            consoles[j]->index = j;
        }
    }
    qemu_free_displaysurface(con->surface);
    if (active_console == con) {
        active_console = nb_consoles ? consoles[0] : NULL;
        if (active_console) {
            console_notify_switch(active_console);
        }
    }
    g_free(con);
}

static QemuConsole *console_or_active(QemuConsole *con)
{
    return con ? con : qemu_console_active();
}

void graphic_hw_update(QemuConsole *con)
{
    con = console_or_active(con);
    if (con && con->ops && con->ops->gfx_update) {
        con->ops->gfx_update(con->opaque);
    }
}

void graphic_hw_invalidate(QemuConsole *con)
{
    con = console_or_active(con);
    if (con && con->ops && con->ops->invalidate) {
        con->ops->invalidate(con->opaque);
    }
}

void dpy_gfx_update(QemuConsole *con, int x, int y, int w, int h)
{
    DisplaySurface *s;
    int x1, y1;

    if (!con || !(s = con->surface)) {
        return;
    }
    /* Clip in 64-bit-safe steps: device arithmetic may hand us anything. */
    x1 = (w > 0 && x < s->width - w) ? x + w : s->width;
    y1 = (h > 0 && y < s->height - h) ? y + h : s->height;
    x = MAX(x, 0);
    y = MAX(y, 0);
    if (w <= 0 || h <= 0 || x >= x1 || y >= y1) {
        return;
    }
    con->changed = true;
    for (DisplayChangeListener *d = listeners; d; d = d->next) {
        if (dcl_shows(d, con) && d->ops->dpy_gfx_update) {
            d->ops->dpy_gfx_update(d, x, y, x1 - x, y1 - y);
        }
    }
}

void dpy_gfx_update_full(QemuConsole *con)
{
    if (con && con->surface) {
        dpy_gfx_update(con, 0, 0, con->surface->width, con->surface->height);
    }
}

void dpy_gfx_replace_surface(QemuConsole *con, DisplaySurface *surface)
{
    DisplaySurface *old;

    if (!con) {
        qemu_free_displaysurface(surface);
        return;
    }
    old = con->surface;
    if (!surface) {
        surface = qemu_create_displaysurface(640, 480);
    }
    con->surface = surface;
    con->changed = true;
    console_notify_switch(con);
    qemu_free_displaysurface(old);
}

DisplaySurface *qemu_console_surface(QemuConsole *con)
{
    con = console_or_active(con);
    return con ? con->surface : NULL;
}

int qemu_console_get_width(QemuConsole *con, int fallback)
{
    DisplaySurface *s = qemu_console_surface(con);
    return s ? s->width : fallback;
}

int qemu_console_get_height(QemuConsole *con, int fallback)
{
    DisplaySurface *s = qemu_console_surface(con);
    return s ? s->height : fallback;
}

bool qemu_console_is_graphic(QemuConsole *con)
{
    con = console_or_active(con);
    return con && !con->text;
}

DeviceState *qemu_console_device(QemuConsole *con)
{
    return con ? con->dev : NULL;
}

QemuConsole *qemu_console_lookup_by_index(unsigned index)
{
    return index < nb_consoles ? consoles[index] : NULL;
}

QemuConsole *qemu_console_active(void)
{
    if (!active_console) {
        /* The text console: front-ends always have a surface to show. */
        active_console = console_new(NULL, NULL, NULL);
        active_console->text = true;
    }
    return active_console;
}

void console_select(unsigned index)
{
    QemuConsole *con = qemu_console_lookup_by_index(index);

    if (!con || con == active_console) {
        return;
    }
    active_console = con;
    console_notify_switch(con);
    graphic_hw_invalidate(con);
    dpy_gfx_update_full(con);
}

unsigned qemu_console_count(void)
{
    return nb_consoles;
}

/* --- listeners and the refresh timer ------------------------------------------- */

static DisplayChangeListener *dcl_first_for(QemuConsole *con, DisplayChangeListener *from)
{
    for (; from; from = from->next) {
        if (dcl_shows(from, con)) {
            return from;
        }
    }
    return NULL;
}

static void refresh_timer_cb(void *opaque)
{
    dpy_refresh_tick();
}

static void refresh_timer_arm(void)
{
    if (!refresh_timer) {
        refresh_timer = timer_new_ns(KITE_CLOCK_REALTIME, refresh_timer_cb, NULL);
    }
    timer_mod_ns(refresh_timer, clock_get_ns(KITE_CLOCK_REALTIME) + refresh_interval * 1000000);
}

void dpy_refresh_tick(void)
{
    bool changed = false, grow = true;

    /* Devices shown by a listener render first, so listeners see this tick's pixels. */
    for (unsigned i = 0; i < nb_consoles; i++) {
        QemuConsole *con = consoles[i];
        if (dcl_first_for(con, listeners)) {
            graphic_hw_update(con);
        }
        changed |= con->changed;
        con->changed = false;
    }
    for (DisplayChangeListener *d = listeners; d; d = d->next) {
        grow &= !d->idle_growth_off;
    }
    /* Idle guests (a static screen) cost almost nothing: back off, return on change. */
    if (changed || !grow) {
        refresh_interval = GUI_REFRESH_INTERVAL_DEFAULT;
    } else {
        refresh_interval = MIN(refresh_interval + 50, GUI_REFRESH_INTERVAL_IDLE);
    }
    for (DisplayChangeListener *d = listeners; d; d = d->next) {
        d->update_interval = refresh_interval;
        if (d->ops->dpy_refresh) {
            d->ops->dpy_refresh(d);
        }
    }
    if (listeners) {
        refresh_timer_arm();
    }
}

void register_displaychangelistener(DisplayChangeListener *dcl)
{
    QemuConsole *con = dcl->con ? dcl->con : qemu_console_active();

    dcl->next = listeners;
    listeners = dcl;
    dcl->update_interval = GUI_REFRESH_INTERVAL_DEFAULT;
    refresh_interval = GUI_REFRESH_INTERVAL_DEFAULT;
    if (dcl->ops->dpy_gfx_switch) {
        dcl->ops->dpy_gfx_switch(dcl, con->surface);
    }
    graphic_hw_invalidate(con);
    refresh_timer_arm();
}

void unregister_displaychangelistener(DisplayChangeListener *dcl)
{
    for (DisplayChangeListener **p = &listeners; *p; p = &(*p)->next) {
        if (*p == dcl) {
            *p = dcl->next;
            break;
        }
    }
    dcl->next = NULL;
    if (!listeners && refresh_timer) {
        timer_del(refresh_timer);
    }
}
