/*
 * fd-backed chardev I/O, shared by stdio, file, pipe, pty and socket.
 *
 * Reading: fd_in is polled only while the frontend has room (can_receive > 0), and each wakeup
 * reads at most that much, so input is never dropped on the floor.  Writing: output goes
 * straight to fd_out while it takes it; the rest waits in chr->outbuf (at most
 * CHARDEV_OUTBUF_MAX bytes) and a write handler drains it when the fd becomes writable.  The
 * main loop never blocks on a chardev.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/main-loop.h"
#include <fcntl.h>
#include <sys/socket.h>

#define READ_CHUNK 4096

static ssize_t fd_do_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    ssize_t r;

    do {
        /* MSG_NOSIGNAL: a peer that went away is an EPIPE here, not a SIGPIPE. */
        r = chr->fd_is_socket ? send(chr->fd_out, buf, len, MSG_NOSIGNAL)
                              : write(chr->fd_out, buf, len);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* A write failed for good (peer gone): drop the output and hang up from a BH. */
static void fd_write_error(Chardev *chr)
{
    g_byte_array_set_size(chr->outbuf, 0);
    kite_bh_schedule(chr->hup_bh);
}

static void fd_read_handler(void *opaque)
{
    Chardev *chr = opaque;
    uint8_t buf[READ_CHUNK];
    int room = chardev_be_can_write(chr);
    ssize_t r;

    if (room <= 0 || chr->fd_in < 0) {
        chardev_fd_update(chr);
        return;
    }
    do {
        r = chr->fd_is_socket ? recv(chr->fd_in, buf, MIN(room, READ_CHUNK), 0)
                              : read(chr->fd_in, buf, MIN(room, READ_CHUNK));
    } while (r < 0 && errno == EINTR);
    if (r > 0) {
        chardev_be_write(chr, buf, r);
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        /* EOF, or an error such as EIO on a pty whose slave closed. */
        CHARDEV_GET_CLASS(chr)->hangup(chr);
        return;
    }
    chardev_fd_update(chr);
}

static void fd_write_handler(void *opaque)
{
    Chardev *chr = opaque;
    ssize_t r;

    if (chr->outbuf->len && chr->fd_out >= 0) {
        r = fd_do_write(chr, chr->outbuf->data, chr->outbuf->len);
        if (r > 0) {
            g_byte_array_remove_range(chr->outbuf, 0, r);
        } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            fd_write_error(chr);
        }
    }
    chardev_fd_update(chr);
    if (chr->outbuf->len == 0) {
        chardev_be_writable(chr);
    }
}

void chardev_fd_update(Chardev *chr)
{
    bool want_read = chr->fd_in >= 0 && !chr->in_eof && chardev_be_can_write(chr) > 0;
    bool want_write = chr->fd_out >= 0 && chr->outbuf->len > 0;

    if (want_read == chr->reg_read && want_write == chr->reg_write) {
        return;
    }
    chr->reg_read = want_read;
    chr->reg_write = want_write;
    if (chr->fd_in >= 0 && chr->fd_in == chr->fd_out) {
        kite_set_fd_handler(chr->fd_in, want_read ? fd_read_handler : NULL,
                            want_write ? fd_write_handler : NULL, chr);
        return;
    }
    if (chr->fd_in >= 0) {
        kite_set_fd_handler(chr->fd_in, want_read ? fd_read_handler : NULL, NULL, chr);
    }
    if (chr->fd_out >= 0) {
        kite_set_fd_handler(chr->fd_out, NULL, want_write ? fd_write_handler : NULL, chr);
    }
}

void chardev_fd_attach(Chardev *chr, int fd_in, int fd_out, bool is_socket)
{
    chardev_fd_detach(chr);
    chr->fd_in = fd_in;
    chr->fd_out = fd_out;
    chr->fd_is_socket = is_socket;
    chr->in_eof = false;
    chr->reg_read = chr->reg_write = false;
    chardev_fd_update(chr);
}

void chardev_fd_detach(Chardev *chr)
{
    if (chr->fd_in >= 0) {
        kite_set_fd_handler(chr->fd_in, NULL, NULL, NULL);
    }
    if (chr->fd_out >= 0 && chr->fd_out != chr->fd_in) {
        kite_set_fd_handler(chr->fd_out, NULL, NULL, NULL);
    }
    if (!chr->fd_keep_open) {
        if (chr->fd_in >= 0) {
            close(chr->fd_in);
        }
        if (chr->fd_out >= 0 && chr->fd_out != chr->fd_in) {
            close(chr->fd_out);
        }
    }
    chr->fd_in = chr->fd_out = -1;
    chr->reg_read = chr->reg_write = false;
    g_byte_array_set_size(chr->outbuf, 0);
}

int chardev_fd_write(Chardev *chr, const uint8_t *buf, int len)
{
    int done = 0, room;

    if (chr->fd_out < 0) {
        return len;     /* no peer (disconnected socket): discarded, as on a real line */
    }
    if (chr->outbuf->len == 0) {
        ssize_t r = fd_do_write(chr, buf, len);
        if (r >= 0) {
            done = r;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fd_write_error(chr);
            return len;
        }
    }
    room = CHARDEV_OUTBUF_MAX - (int)chr->outbuf->len;
    if (done < len && room > 0) {
        int n = MIN(len - done, room);
        g_byte_array_append(chr->outbuf, buf + done, n);
        done += n;
    }
    chardev_fd_update(chr);
    return done;
}
