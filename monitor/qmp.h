/*
 * QMP, the QEMU Machine Protocol: JSON commands, replies and events on a chardev.
 *
 * A QmpSession is the protocol engine for one client, driven from plain buffers: feed it
 * input with qmp_session_input() and it calls output() with complete reply/event lines.  A
 * QmpMonitor glues a session to a chardev (-qmp / -mon mode=control).  Wire format, error
 * classes and messages follow QEMU (docs/interop/qmp-spec.rst).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_QMP_H
#define MONITOR_QMP_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/chardev.h"
#include "monitor/json-splitter.h"

/* query-version's "package" (QEMU's --with-pkgversion); HMP's info version prints it too. */
#define KITE_PACKAGE "kite-" KITE_VERSION

typedef void QmpOutput(void *opaque, const char *text, size_t len);
/* The session must be closed (abuse): the chardev glue disconnects. */
typedef void QmpClose(void *opaque);

typedef struct QmpSession {
    JsonSplitter splitter;
    bool negotiated;        /* qmp_capabilities done: leave capabilities negotiation mode */
    bool oob;               /* qmp_capabilities enabled "oob": exec-oob is accepted */
    bool pretty;
    bool closed;
    /*
     * Set by the chardev glue: a reply is held back (and no further input taken) until
     * qmp_sessions_release() runs from the main loop, after it has acted on the requests the
     * command made.  So system_reset's RESET event comes before its reply, and pipelined
     * commands run one per main loop round, as in QEMU (whose dispatcher yields to the main
     * loop for each command).  Off (unit tests): replies go out at once.
     */
    bool hold_replies;
    GString *held_reply;    /* the reply text waiting for the main loop; NULL if none */
    GByteArray *inq;        /* input received behind a held reply */
    bool feeding;
    QmpOutput *output;
    QmpClose *close;
    void *opaque;
} QmpSession;

void qmp_session_init(QmpSession *s, bool pretty, QmpOutput *output, QmpClose *close,
                      void *opaque);
void qmp_session_destroy(QmpSession *s);
/* A new client: reset the state and send the greeting. */
void qmp_session_start(QmpSession *s);
void qmp_session_input(QmpSession *s, const uint8_t *buf, size_t len);
/* A reply is held back: take no further input from the client until it is released. */
bool qmp_session_busy(QmpSession *s);
/*
 * Send the held reply and take the next queued request (which may hold its own reply).
 * final: the process is ending; send the held reply and drop any further input.
 */
void qmp_session_release(QmpSession *s, bool final);

/* Broadcast an event to every negotiated session (data NULL: no "data" member, as QEMU). */
#ifdef CONFIG_JSON
#include <json-glib/json-glib.h>
void qmp_event_send(const char *name, JsonNode *data);
/* JSON text exactly as QEMU's monitor writes it (spacing, escapes; pretty=on layout). */
char *qmp_json_format(JsonNode *n, bool pretty);
/*
 * Run a QMP command from inside Kite (the human monitor's stop, cont, ... are these, as in
 * QEMU): args may be NULL for none.  The result (NULL on error) is the caller's.
 */
JsonNode *qmp_execute(const char *name, JsonObject *args, Error **errp);

/*
 * Hooks other subsystems install:
 *  query-block: the block layer returns the array of BlockInfo objects (QEMU's schema).
 *  screendump: the display layer writes console `device` (NULL: the first) to filename in
 *  format "ppm" or "png"; false + errp on failure.  Without it screendump is an error.
 */
typedef JsonNode *QmpQueryHook(Error **errp);
typedef bool QmpScreendumpHook(const char *filename, const char *device, const char *format,
                               Error **errp);
extern QmpQueryHook *qmp_query_block_hook;
extern QmpScreendumpHook *qmp_screendump_hook;
#endif

/* -qmp SPEC / -mon chardev=ID,mode=control: a monitor on chr. */
bool qmp_monitor_new(Chardev *chr, bool pretty, Error **errp);

#endif
