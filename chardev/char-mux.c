/*
 * mux: several frontends (serial port, monitor) sharing one backend, with QEMU's Ctrl-A keys.
 *
 * Output from every frontend goes to the backend; input goes to the frontend with the focus,
 * which the newest frontend to set its handlers takes, and Ctrl-A c passes on.  Keys after
 * Ctrl-A:  h/? help   x quit (the hook main sets)   c next frontend   b break
 *          Ctrl-A a literal Ctrl-A   s/t accepted and ignored (no -snapshot, no timestamps).
 * A small per-frontend buffer keeps Ctrl-A working while the focused frontend takes no input,
 * and keeps what was typed for a frontend until it takes it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "chardev-int.h"

#define MUX_MAX 4
#define MUX_BUFFER_SIZE 32
#define MUX_ESCAPE 0x01         /* Ctrl-A */

typedef struct MuxChardev {
    Chardev parent;
    char *drv_id;               /* -chardev mux,chardev=ID */
    Chardev *drv;
    bool owns_drv;              /* mux=on: the base goes away with the mux */
    CharFrontend drv_fe;        /* the mux is the backend's frontend */
    CharFrontend *fes[MUX_MAX];
    int focus;                  /* -1: none */
    bool got_escape;
    uint8_t buf[MUX_MAX][MUX_BUFFER_SIZE];
    unsigned prod[MUX_MAX], cons[MUX_MAX];
} MuxChardev;
#define MUX_CHARDEV(obj) OBJECT_CHECK(MuxChardev, obj, TYPE_CHARDEV_MUX)

static const char mux_help[] =
    "\r\n"
    "C-a h    print this help\r\n"
    "C-a x    exit emulator\r\n"
    "C-a c    switch between console and monitor\r\n"
    "C-a b    send break (magic sysrq)\r\n"
    "C-a C-a  sends C-a\r\n";

static void mux_print(MuxChardev *d, const char *s)
{
    chardev_write(d->drv, (const uint8_t *)s, strlen(s), true);
}

static void mux_send_event(MuxChardev *d, int tag, ChrEvent ev)
{
    CharFrontend *fe = tag >= 0 ? d->fes[tag] : NULL;

    if (fe && fe->event) {
        fe->event(fe->opaque, ev);
    }
}

/* Hand buffered input to frontend tag while it takes it. */
static void mux_flush(MuxChardev *d, int tag)
{
    CharFrontend *fe = d->fes[tag];

    while (fe && fe->receive && d->prod[tag] != d->cons[tag]) {
        unsigned pos = d->cons[tag] % MUX_BUFFER_SIZE;
        int n = MIN(d->prod[tag] - d->cons[tag], MUX_BUFFER_SIZE - pos);
        int room = fe->can_receive ? fe->can_receive(fe->opaque) : 0;
        if (room <= 0) {
            break;
        }
        n = MIN(n, room);
        d->cons[tag] += n;
        fe->receive(fe->opaque, &d->buf[tag][pos], n);
    }
}

/* Input for the focused frontend: straight through while it has room, buffered after. */
static void mux_deliver(MuxChardev *d, const uint8_t *buf, int len)
{
    int tag = d->focus;
    CharFrontend *fe = tag >= 0 ? d->fes[tag] : NULL;

    if (!fe || len <= 0) {
        return;
    }
    mux_flush(d, tag);
    if (d->prod[tag] == d->cons[tag] && fe->receive && fe->can_receive) {
        int n = MIN(len, fe->can_receive(fe->opaque));
        if (n > 0) {
            fe->receive(fe->opaque, buf, n);
            buf += n;
            len -= n;
        }
    }
    /* mux_can_receive promised no more than fits; a focus switch mid-chunk may still spill. */
    for (; len > 0 && d->prod[tag] - d->cons[tag] < MUX_BUFFER_SIZE; len--) {
        d->buf[tag][d->prod[tag]++ % MUX_BUFFER_SIZE] = *buf++;
    }
}

static void mux_set_focus(MuxChardev *d, int tag)
{
    if (tag == d->focus) {
        return;
    }
    mux_send_event(d, d->focus, CHR_EVENT_MUX_OUT);
    d->focus = tag;
    mux_send_event(d, tag, CHR_EVENT_MUX_IN);
    if (tag >= 0) {
        mux_flush(d, tag);
    }
    chr_fe_accept_input(&d->drv_fe);
}

static void mux_focus_next(MuxChardev *d)
{
    for (int i = 1; i <= MUX_MAX; i++) {
        int tag = (d->focus + i) % MUX_MAX;
        if (tag >= 0 && d->fes[tag]) {
            mux_set_focus(d, tag);
            return;
        }
    }
}

/* The key after Ctrl-A; true if it is to be delivered (Ctrl-A Ctrl-A). */
static bool mux_escape(MuxChardev *d, uint8_t ch)
{
    switch (ch) {
    case MUX_ESCAPE:
        return true;
    case 'h':
    case '?':
        mux_print(d, mux_help);
        break;
    case 'x':
        mux_print(d, "kite: terminated\r\n");
        chardev_mux_quit();
        break;
    case 'c':
        mux_focus_next(d);
        break;
    case 'b':
        mux_send_event(d, d->focus, CHR_EVENT_BREAK);
        break;
    default:
        /* 's' (save -snapshot disks), 't' (timestamps) and unknown keys: ignored. */
        break;
    }
    return false;
}

/* --- the mux as the backend's frontend --- */

static int mux_can_receive(void *opaque)
{
    MuxChardev *d = opaque;
    int tag = d->focus;
    CharFrontend *fe = tag >= 0 ? d->fes[tag] : NULL;
    int room;

    if (!fe) {
        return 0;
    }
    room = MUX_BUFFER_SIZE - (d->prod[tag] - d->cons[tag]);
    if (d->prod[tag] == d->cons[tag] && fe->can_receive) {
        room += MAX(fe->can_receive(fe->opaque), 0);
    }
    return room;
}

static void mux_receive(void *opaque, const uint8_t *buf, int len)
{
    MuxChardev *d = opaque;
    int start = 0;

    for (int i = 0; i < len; i++) {
        if (!d->got_escape && buf[i] != MUX_ESCAPE) {
            continue;
        }
        mux_deliver(d, buf + start, i - start);
        start = i + 1;
        if (!d->got_escape) {
            d->got_escape = true;
        } else {
            d->got_escape = false;
            if (mux_escape(d, buf[i])) {
                mux_deliver(d, &buf[i], 1);
            }
        }
    }
    mux_deliver(d, buf + start, len - start);
}

static void mux_drv_event(void *opaque, ChrEvent ev)
{
    MuxChardev *d = opaque;

    if (ev == CHR_EVENT_BREAK) {
        mux_send_event(d, d->focus, ev);
        return;
    }
    if (ev == CHR_EVENT_OPENED || ev == CHR_EVENT_CLOSED) {
        CHARDEV(d)->be_open = ev == CHR_EVENT_OPENED;
    }
    for (int i = 0; i < MUX_MAX; i++) {
        mux_send_event(d, i, ev);
    }
}

static void mux_drv_writable(void *opaque)
{
    MuxChardev *d = opaque;

    for (int i = 0; i < MUX_MAX; i++) {
        CharFrontend *fe = d->fes[i];
        if (fe && fe->writable) {
            ChrWritable *cb = fe->writable;
            fe->writable = NULL;
            cb(fe->writable_opaque);
        }
    }
}

/* --- the mux as a chardev --- */

static bool mux_attach_drv(MuxChardev *d, Chardev *drv, Error **errp)
{
    if (!chr_fe_init(&d->drv_fe, drv, errp)) {
        return false;
    }
    d->drv = drv;
    chr_fe_set_handlers(&d->drv_fe, mux_can_receive, mux_receive, mux_drv_event, d);
    chardev_set_filename(CHARDEV(d), "mux:%s", drv->id);
    return true;
}

static bool mux_parse(Chardev *chr, KiteOpts *opts, Error **errp)
{
    MuxChardev *d = MUX_CHARDEV(chr);
    const char *id = kite_opts_get(opts, "chardev");

    if (!id) {
        error_setg(errp, "chardev backend 'mux' needs parameter 'chardev'");
        return false;
    }
    d->drv_id = g_strdup(id);
    return true;
}

static bool mux_open(Chardev *chr, Error **errp)
{
    MuxChardev *d = MUX_CHARDEV(chr);
    Chardev *drv = chardev_find(d->drv_id);

    if (!drv) {
        error_setg(errp, "chardev '%s' not found", d->drv_id);
        return false;
    }
    return mux_attach_drv(d, drv, errp);
}

Chardev *chardev_mux_create(const char *id, Chardev *drv, Error **errp)
{
    MuxChardev *d = MUX_CHARDEV(object_new(TYPE_CHARDEV_MUX));
    Chardev *chr = CHARDEV(d);

    chr->id = g_strdup(id);
    chr->label = g_strdup(id);
    if (!mux_attach_drv(d, drv, errp)) {
        object_unref(d);
        return NULL;
    }
    if (!chardev_add_to_tree(chr, errp)) {
        chr_fe_deinit(&d->drv_fe, false);
        object_unref(d);
        return NULL;
    }
    d->owns_drv = true;
    return chr;
}

static int mux_write(Chardev *chr, const uint8_t *buf, int len)
{
    return chardev_write(MUX_CHARDEV(chr)->drv, buf, len, false);
}

static bool mux_attach(Chardev *chr, CharFrontend *fe, Error **errp)
{
    MuxChardev *d = MUX_CHARDEV(chr);

    for (int i = 0; i < MUX_MAX; i++) {
        if (!d->fes[i]) {
            d->fes[i] = fe;
            fe->tag = i;
            d->prod[i] = d->cons[i] = 0;
            return true;
        }
    }
    error_setg(errp, "chardev '%s': a mux takes at most %d frontends", chr->id, MUX_MAX);
    return false;
}

static void mux_detach(Chardev *chr, CharFrontend *fe)
{
    MuxChardev *d = MUX_CHARDEV(chr);

    if (d->fes[fe->tag] != fe) {
        return;
    }
    d->fes[fe->tag] = NULL;
    if (d->focus == fe->tag) {
        d->focus = -1;
        mux_focus_next(d);
    }
}

static void mux_handlers_set(Chardev *chr, CharFrontend *fe)
{
    /* As in QEMU, the newest frontend gets the focus (the serial port after the monitor). */
    if (!fe->handlers_seen && (fe->receive || fe->event)) {
        mux_set_focus(MUX_CHARDEV(chr), fe->tag);
    }
}

static void mux_accept_input(Chardev *chr)
{
    MuxChardev *d = MUX_CHARDEV(chr);

    for (int i = 0; i < MUX_MAX; i++) {
        mux_flush(d, i);
    }
    if (d->drv) {
        chr_fe_accept_input(&d->drv_fe);
    }
}

static void mux_notify_writable(Chardev *chr, CharFrontend *fe)
{
    MuxChardev *d = MUX_CHARDEV(chr);

    chr_fe_notify_writable(&d->drv_fe, mux_drv_writable, d);
}

static void mux_take_focus(Chardev *chr, CharFrontend *fe)
{
    mux_set_focus(MUX_CHARDEV(chr), fe->tag);
}

static void mux_instance_init(Object *obj)
{
    MUX_CHARDEV(obj)->focus = -1;
}

static void mux_finalize(Object *obj)
{
    MuxChardev *d = MUX_CHARDEV(obj);

    chr_fe_deinit(&d->drv_fe, d->owns_drv);
    g_free(d->drv_id);
}

static void mux_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->parse = mux_parse;
    cc->open = mux_open;
    cc->write = mux_write;
    cc->attach = mux_attach;
    cc->detach = mux_detach;
    cc->handlers_set = mux_handlers_set;
    cc->accept_input = mux_accept_input;
    cc->notify_writable = mux_notify_writable;
    cc->take_focus = mux_take_focus;
}

static const TypeInfo mux_type = {
    .name = TYPE_CHARDEV_MUX,
    .parent = TYPE_CHARDEV,
    .desc = "share a chardev between frontends: chardev=ID (or mux=on on any backend)",
    .instance_size = sizeof(MuxChardev),
    .class_init = mux_class_init,
    .instance_init = mux_instance_init,
    .instance_finalize = mux_finalize,
};
KITE_TYPE_REGISTER(mux_type)
