/*
 * Character devices: the host side of serial ports and monitors (QEMU's -chardev/-serial).
 *
 * A Chardev is the backend (stdio, file, pipe, socket, pty, null, or a mux shared by several
 * frontends); it is a QOM object of type "chardev-<backend>" living at /chardevs/<id>.  A
 * CharFrontend is the device side: a UART embeds one, attaches it to a Chardev with
 * chr_fe_init() and registers can_receive/receive/event callbacks.
 *
 * Everything runs in the main loop under the BQL: backends read only when the frontend's
 * can_receive() says it has room, and writes never block.  Output that cannot be written at once
 * is buffered up to CHARDEV_OUTBUF_MAX bytes per chardev; chr_fe_write() reports how much it
 * took, chr_fe_write_all() drops (and logs) what does not fit, so a stalled socket client can
 * never stall the emulator.
 *
 * Flow control contract: once can_receive() has returned 0, the backend stops reading until the
 * frontend calls chr_fe_accept_input() (a UART does so when the guest empties its FIFO).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_CHARDEV_H
#define KITE_CHARDEV_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/object.h"
#include "kite/opts.h"
#include "kite/main-loop.h"

#define TYPE_CHARDEV "chardev"
/* Backend "socket" is the type "chardev-socket". */
#define TYPE_CHARDEV_PREFIX "chardev-"
#define TYPE_CHARDEV_MUX "chardev-mux"
#define TYPE_CHARDEV_SOCKET "chardev-socket"

/* Per-chardev bound on output waiting for a slow peer. */
#define CHARDEV_OUTBUF_MAX (64 * KiB)

typedef enum ChrEvent {
    CHR_EVENT_OPENED,      /* connected: socket peer arrived, pty slave opened, or always-open */
    CHR_EVENT_CLOSED,      /* the peer went away */
    CHR_EVENT_MUX_IN,      /* this frontend got the mux focus */
    CHR_EVENT_MUX_OUT,     /* ... and lost it */
    CHR_EVENT_BREAK,       /* serial break (mux: Ctrl-A b) */
} ChrEvent;

typedef struct CharFrontend CharFrontend;
typedef int ChrCanReceive(void *opaque);
typedef void ChrReceive(void *opaque, const uint8_t *buf, int len);
typedef void ChrEventHandler(void *opaque, ChrEvent event);
typedef void ChrWritable(void *opaque);

OBJECT_DECLARE_TYPE(Chardev, ChardevClass, CHARDEV)

struct Chardev {
    Object parent;
    char *id;              /* -chardev id=, the name under /chardevs */
    char *label;           /* same as id */
    char *filename;        /* query-chardev text: "pty:/dev/pts/3", "disconnected:unix:..." */
    CharFrontend *fe;      /* the attached frontend (a mux keeps its own list) */
    int n_frontends;       /* attached frontends (0 or 1, up to 4 for a mux) */
    bool be_open;          /* between OPENED and CLOSED */
    bool legacy_monitor;   /* from "mon:SPEC": main must also put a monitor on it */
    int logfd;             /* logfile=: a copy of all output, or -1 */

    /* fd-backed I/O (chardev/char-fd.c); -1 when not connected */
    int fd_in, fd_out;
    bool fd_is_socket;     /* send()/recv() with MSG_NOSIGNAL */
    bool fd_keep_open;     /* not ours to close (stdio) */
    bool in_eof;           /* stop reading: EOF on an input that does not reconnect */
    bool reg_read, reg_write;
    GByteArray *outbuf;
    uint64_t dropped;      /* bytes dropped in the current overflow episode */
    uint64_t dropped_total;
    KiteBH *writable_bh;   /* deferred "writable" notification */
    KiteBH *hup_bh;        /* hang up after a write error, outside the writer's call */
};

struct ChardevClass {
    ObjectClass parent_class;
    /* Read backend options (kite_opts_get marks them used); no side effects yet. */
    bool (*parse)(Chardev *chr, KiteOpts *opts, Error **errp);
    /* Open files/sockets; may deliver OPENED now (be_open) or later. */
    bool (*open)(Chardev *chr, Error **errp);
    /* Output: returns the number of bytes taken (buffered counts).  Default: fd output. */
    int (*write)(Chardev *chr, const uint8_t *buf, int len);
    /* The frontend has room again.  Default: re-enable reading fd_in. */
    void (*accept_input)(Chardev *chr);
    /* fd_in hit EOF or a read/write error.  Default: stop reading. */
    void (*hangup)(Chardev *chr);
    /* Frontend bookkeeping; the default allows a single frontend. */
    bool (*attach)(Chardev *chr, CharFrontend *fe, Error **errp);
    void (*detach)(Chardev *chr, CharFrontend *fe);
    /* After chr_fe_set_handlers (the mux gives the focus to the newest frontend). */
    void (*handlers_set)(Chardev *chr, CharFrontend *fe);
    /* chr_fe_notify_writable on a chardev that forwards output elsewhere (mux). */
    void (*notify_writable)(Chardev *chr, CharFrontend *fe);
    void (*take_focus)(Chardev *chr, CharFrontend *fe);
};

/* --- creating and finding chardevs --- */

/*
 * -chardev BACKEND,id=ID[,mux=on][,logfile=PATH[,logappend=on]][,backend options]:
 *   null
 *   stdio[,signal=on|off]       raw terminal, echo off; signal=on keeps Ctrl-C killing Kite
 *   file,path=P[,append=on]
 *   pipe,path=P                 P.in and P.out if both exist, else P both ways
 *   socket,path=P | host=H,port=N [,server=on[,wait=off]] [,reconnect=S|reconnect-ms=MS]
 *          [,nodelay=on][,ipv4=on][,ipv6=on]     port=0 picks a free port (servers)
 *   pty                         prints "char device redirected to /dev/pts/N (label ID)"
 *   mux,chardev=ID              a mux over an existing chardev (mux=on does this for you)
 * The implied key is "backend".  Unknown keys and bad values fail with an error naming them.
 * Returns the chardev (owned by /chardevs) or NULL.
 */
Chardev *chardev_new_from_opts(KiteOpts *opts, Error **errp);
/*
 * -serial/-monitor/-qmp syntax: "null", "stdio", "pty", "file:PATH", "pipe:PATH",
 * "unix:PATH[,opts]", "tcp:[HOST]:PORT[,opts]", "chardev:ID" (an existing one), "mon:SPEC"
 * (SPEC with mux=on and legacy_monitor set).  The chardev's id is label.
 * "none" returns NULL WITHOUT setting an error: the caller creates no device.
 */
Chardev *chardev_new_from_legacy(const char *label, const char *spec, Error **errp);
Chardev *chardev_find(const char *id);
/* In creation order; stops at and returns the first non-zero fn result. */
int chardev_foreach(int (*fn)(Chardev *chr, void *opaque), void *opaque);
/* Fails if a frontend is attached ("busy"). */
bool chardev_delete(Chardev *chr, Error **errp);
/* -chardev help */
void chardev_print_backends(FILE *f);
/* Mux Ctrl-A x: called to quit (main requests a shutdown); without a hook, exit(0). */
void chardev_set_mux_quit_hook(void (*hook)(void));
/* The TCP port a socket chardev listens on (port=0 resolves here), or -1. */
int chardev_socket_get_port(Chardev *chr);
bool chardev_is_mux(Chardev *chr);

/* --- the frontend (device) side --- */

struct CharFrontend {
    Chardev *chr;
    ChrCanReceive *can_receive;
    ChrReceive *receive;
    ChrEventHandler *event;
    void *opaque;
    int tag;                   /* index among a mux's frontends */
    bool handlers_seen;
    ChrWritable *writable;     /* pending chr_fe_notify_writable request */
    void *writable_opaque;
};

/* Attach fe (zeroed or deinit'ed) to chr; fails if chr already has a frontend (and is no mux
 * with room for another). chr may be NULL: the frontend is then unconnected and writes are
 * dropped. */
bool chr_fe_init(CharFrontend *fe, Chardev *chr, Error **errp);
/* Detach; with del, also delete the chardev. */
void chr_fe_deinit(CharFrontend *fe, bool del);
/* Set the callbacks.  If the backend is already open, event(OPENED) is delivered at once. */
void chr_fe_set_handlers(CharFrontend *fe, ChrCanReceive *can_receive, ChrReceive *receive,
                         ChrEventHandler *event, void *opaque);
bool chr_fe_backend_connected(CharFrontend *fe);   /* a chardev is attached */
bool chr_fe_backend_open(CharFrontend *fe);        /* ... and its peer is there */
Chardev *chr_fe_get_driver(CharFrontend *fe);
/* Never blocks: returns the bytes taken (0..len), less than len when the buffer is full.
 * With no backend or no peer the data is discarded and len returned. */
int chr_fe_write(CharFrontend *fe, const uint8_t *buf, int len);
/* Never blocks: what does not fit in the bounded buffer is dropped (and logged); returns len. */
int chr_fe_write_all(CharFrontend *fe, const uint8_t *buf, int len);
void chr_fe_printf(CharFrontend *fe, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The frontend has room for input again (see the flow control contract above). */
void chr_fe_accept_input(CharFrontend *fe);
/* cb(opaque) once, from the main loop, when the backend has drained its output buffer. */
void chr_fe_notify_writable(CharFrontend *fe, ChrWritable *cb, void *opaque);
/* Mux: give this frontend the input focus. */
void chr_fe_take_focus(CharFrontend *fe);

/* --- for backends (chardev/) --- */

/* Room the frontend has for input (its can_receive), 0 without a frontend. */
int chardev_be_can_write(Chardev *chr);
/* Hand input to the frontend. */
void chardev_be_write(Chardev *chr, const uint8_t *buf, int len);
/* OPENED/CLOSED update be_open; all events go to the frontend. */
void chardev_be_event(Chardev *chr, ChrEvent event);
/* Output drained: run the frontend's pending writable callback. */
void chardev_be_writable(Chardev *chr);
/* Write through chr's class, log copy included; all: drop (and log) what does not fit. */
int chardev_write(Chardev *chr, const uint8_t *buf, int len, bool all);
void chardev_set_filename(Chardev *chr, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* fd I/O (char-fd.c): attach non-blocking fds (in == out allowed, -1 for none). */
void chardev_fd_attach(Chardev *chr, int fd_in, int fd_out, bool is_socket);
/* Stop polling, drop buffered output and close the fds (unless fd_keep_open). */
void chardev_fd_detach(Chardev *chr);
/* Recompute which fd handlers are needed (after can_receive or the buffer changed). */
void chardev_fd_update(Chardev *chr);
int chardev_fd_write(Chardev *chr, const uint8_t *buf, int len);

#endif
