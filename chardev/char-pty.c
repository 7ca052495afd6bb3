/*
 * pty backend: a pseudo-terminal whose slave (/dev/pts/N) a terminal program opens.
 *
 * As in QEMU, the slave is set raw and closed again, and the name is printed on stdout:
 * "char device redirected to /dev/pts/N (label ID)".  With no slave open the master reads EIO
 * and reports POLLHUP; Kite then drops output (it would only pile up in the pty) and polls
 * every PTY_POLL_MS for a terminal to connect, sending OPENED/CLOSED as that changes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/timer.h"
#include <fcntl.h>
#include <poll.h>
#include <termios.h>

#define PTY_POLL_MS 100

typedef struct PtyChardev {
    Chardev parent;
    int master;
    char *slave_name;
    bool connected;
    KiteTimer *poll_timer;
} PtyChardev;
#define PTY_CHARDEV(obj) OBJECT_CHECK(PtyChardev, obj, TYPE_CHARDEV_PREFIX "pty")

static bool pty_slave_connected(PtyChardev *p)
{
    struct pollfd pfd = { .fd = p->master, .events = POLLIN };

    /* POLLHUP on the master: no process has the slave open. */
    return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

static void pty_set_connected(PtyChardev *p, bool connected)
{
    Chardev *chr = CHARDEV(p);

    if (connected == p->connected) {
        return;
    }
    p->connected = connected;
    if (connected) {
        timer_del(p->poll_timer);
        chardev_fd_attach(chr, p->master, p->master, false);
        chardev_be_event(chr, CHR_EVENT_OPENED);
    } else {
        /* Stop polling the master (it would report HUP without end) but keep it open. */
        chr->fd_keep_open = true;
        chardev_fd_detach(chr);
        chr->fd_keep_open = false;
        chardev_be_event(chr, CHR_EVENT_CLOSED);
        timer_mod_ns(p->poll_timer, clock_get_ns(KITE_CLOCK_REALTIME) + PTY_POLL_MS * 1000000LL);
    }
}

static void pty_poll(void *opaque)
{
    PtyChardev *p = opaque;

    if (pty_slave_connected(p)) {
        pty_set_connected(p, true);
    } else {
        timer_mod_ns(p->poll_timer, clock_get_ns(KITE_CLOCK_REALTIME) + PTY_POLL_MS * 1000000LL);
    }
}

static void pty_hangup(Chardev *chr)
{
    pty_set_connected(PTY_CHARDEV(chr), false);
}

static int pty_write(Chardev *chr, const uint8_t *buf, int len)
{
    PtyChardev *p = PTY_CHARDEV(chr);

    if (!p->connected) {
        /* Check now, not only on the next poll, so that the first output is not lost. */
        if (!pty_slave_connected(p)) {
            return len;
        }
        pty_set_connected(p, true);
    }
    return chardev_fd_write(chr, buf, len);
}

static bool pty_open(Chardev *chr, Error **errp)
{
    PtyChardev *p = PTY_CHARDEV(chr);
    struct termios tty;
    const char *name;
    int slave;

    p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
        !(name = ptsname(p->master))) {
        error_setg_errno(errp, errno, "chardev '%s': cannot create a pty", chr->id);
        return false;
    }
    p->slave_name = g_strdup(name);
    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
    /* Raw, so bytes pass unchanged whichever program opens the slave first. */
    slave = open(p->slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        if (tcgetattr(slave, &tty) == 0) {
            cfmakeraw(&tty);
            tcsetattr(slave, TCSAFLUSH, &tty);
        }
        close(slave);
    }
    chardev_set_filename(chr, "pty:%s", p->slave_name);
    printf("char device redirected to %s (label %s)\n", p->slave_name, chr->label);
    fflush(stdout);

    p->poll_timer = timer_new_ns(KITE_CLOCK_REALTIME, pty_poll, p);
    {
        bool connected = pty_slave_connected(p);
        p->connected = !connected;      /* so that the call below acts */
        pty_set_connected(p, connected);
    }
    return true;
}

static void pty_instance_init(Object *obj)
{
    PTY_CHARDEV(obj)->master = -1;
}

static void pty_finalize(Object *obj)
{
    PtyChardev *p = PTY_CHARDEV(obj);
    Chardev *chr = CHARDEV(obj);

    timer_free(p->poll_timer);
    chr->fd_keep_open = true;
    chardev_fd_detach(chr);
    if (p->master >= 0) {
        close(p->master);
    }
    g_free(p->slave_name);
}

static void pty_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->open = pty_open;
    cc->write = pty_write;
    cc->hangup = pty_hangup;
}

static const TypeInfo pty_type = {
    .name = TYPE_CHARDEV_PREFIX "pty",
    .parent = TYPE_CHARDEV,
    .desc = "a pseudo-terminal (/dev/pts/N, printed at start-up)",
    .instance_size = sizeof(PtyChardev),
    .class_init = pty_class_init,
    .instance_init = pty_instance_init,
    .instance_finalize = pty_finalize,
};
KITE_TYPE_REGISTER(pty_type)
