/*
 * The frontend (device) side of a chardev, and the calls backends use to reach it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/log.h"

/* --- backend -> frontend --- */

int chardev_be_can_write(Chardev *chr)
{
    CharFrontend *fe = chr->fe;

    return fe && fe->can_receive ? fe->can_receive(fe->opaque) : 0;
}

void chardev_be_write(Chardev *chr, const uint8_t *buf, int len)
{
    CharFrontend *fe = chr->fe;

    if (fe && fe->receive) {
        fe->receive(fe->opaque, buf, len);
    }
}

void chardev_be_event(Chardev *chr, ChrEvent event)
{
    CharFrontend *fe = chr->fe;

    if (event == CHR_EVENT_OPENED) {
        chr->be_open = true;
    } else if (event == CHR_EVENT_CLOSED) {
        chr->be_open = false;
    }
    if (fe && fe->event) {
        fe->event(fe->opaque, event);
    }
}

void chardev_be_writable(Chardev *chr)
{
    CharFrontend *fe = chr->fe;

    if (fe && fe->writable) {
        ChrWritable *cb = fe->writable;
        fe->writable = NULL;
        cb(fe->writable_opaque);
    }
}

int chardev_write(Chardev *chr, const uint8_t *buf, int len, bool all)
{
    int n;

    if (len <= 0) {
        return 0;
    }
    if (chr->logfd >= 0) {
        /* A regular file: it takes everything, and a log must not lose what was dropped. */
        for (int off = 0; off < len;) {
            ssize_t r = write(chr->logfd, buf + off, len - off);
            if (r <= 0 && errno != EINTR) {
                break;
            }
            off += MAX(r, 0);
        }
    }
    n = CHARDEV_GET_CLASS(chr)->write(chr, buf, len);
    if (n >= len) {
        if (chr->dropped) {
            warn_report("chardev '%s': output flowing again, %" PRIu64 " bytes were dropped",
                        chr->id, chr->dropped);
            chr->dropped = 0;
        }
        return n;
    }
    if (!all) {
        return n;
    }
    if (chr->dropped == 0) {
        warn_report("chardev '%s': output blocked, dropping output beyond %u buffered bytes",
                    chr->id, (unsigned)CHARDEV_OUTBUF_MAX);
    }
    chr->dropped += len - n;
    chr->dropped_total += len - n;
    return len;
}

/* --- frontend API --- */

bool chr_fe_init(CharFrontend *fe, Chardev *chr, Error **errp)
{
    memset(fe, 0, sizeof(*fe));
    if (!chr) {
        return true;
    }
    if (!CHARDEV_GET_CLASS(chr)->attach(chr, fe, errp)) {
        return false;
    }
    fe->chr = chr;
    chr->n_frontends++;
    return true;
}

void chr_fe_deinit(CharFrontend *fe, bool del)
{
    Chardev *chr = fe->chr;

    if (!chr) {
        return;
    }
    CHARDEV_GET_CLASS(chr)->detach(chr, fe);
    chr->n_frontends--;
    fe->chr = NULL;
    if (del) {
        chardev_delete(chr, &error_abort);
    }
}

void chr_fe_set_handlers(CharFrontend *fe, ChrCanReceive *can_receive, ChrReceive *receive,
                         ChrEventHandler *event, void *opaque)
{
    Chardev *chr = fe->chr;
    ChardevClass *cc;

    fe->can_receive = can_receive;
    fe->receive = receive;
    fe->event = event;
    fe->opaque = opaque;
    if (!chr) {
        return;
    }
    cc = CHARDEV_GET_CLASS(chr);
    if (cc->handlers_set) {
        cc->handlers_set(chr, fe);
    }
    fe->handlers_seen |= can_receive || receive || event;
    /* A frontend attaching to an open backend must learn that it is open. */
    if (chr->be_open && event) {
        event(opaque, CHR_EVENT_OPENED);
    }
    cc->accept_input(chr);
}

bool chr_fe_backend_connected(CharFrontend *fe)
{
    return fe->chr != NULL;
}

bool chr_fe_backend_open(CharFrontend *fe)
{
    return fe->chr && fe->chr->be_open;
}

Chardev *chr_fe_get_driver(CharFrontend *fe)
{
    return fe->chr;
}

int chr_fe_write(CharFrontend *fe, const uint8_t *buf, int len)
{
    return fe->chr ? chardev_write(fe->chr, buf, len, false) : len;
}

int chr_fe_write_all(CharFrontend *fe, const uint8_t *buf, int len)
{
    return fe->chr ? chardev_write(fe->chr, buf, len, true) : len;
}

void chr_fe_printf(CharFrontend *fe, const char *fmt, ...)
{
    g_autofree char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    chr_fe_write_all(fe, (const uint8_t *)s, strlen(s));
}

void chr_fe_accept_input(CharFrontend *fe)
{
    if (fe->chr) {
        CHARDEV_GET_CLASS(fe->chr)->accept_input(fe->chr);
    }
}

void chr_fe_notify_writable(CharFrontend *fe, ChrWritable *cb, void *opaque)
{
    Chardev *chr = fe->chr;
    ChardevClass *cc;

    fe->writable = cb;
    fe->writable_opaque = opaque;
    if (!chr) {
        return;
    }
    cc = CHARDEV_GET_CLASS(chr);
    if (cc->notify_writable) {
        cc->notify_writable(chr, fe);
    } else if (chr->outbuf->len == 0) {
        /* Nothing queued: writable now, but never call back from inside the caller. */
        kite_bh_schedule(chr->writable_bh);
    }
}

void chr_fe_take_focus(CharFrontend *fe)
{
    if (fe->chr && CHARDEV_GET_CLASS(fe->chr)->take_focus) {
        CHARDEV_GET_CLASS(fe->chr)->take_focus(fe->chr, fe);
    }
}
