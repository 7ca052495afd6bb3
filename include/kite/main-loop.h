/*
 * The main loop: fd handlers, bottom halves, event notifiers and timers on a GMainContext.
 *
 * Kite polls with ppoll() itself (through g_main_context_query/check) so that timers keep
 * nanosecond precision; any GSource attached to the context works too.  Each iothread has its
 * own KiteContext; the main loop's is kite_main_context().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_MAIN_LOOP_H
#define KITE_MAIN_LOOP_H

#include "kite/osdep.h"
#include "kite/error.h"

typedef struct KiteContext KiteContext;   /* a GMainContext plus Kite timers and BHs */

KiteContext *kite_main_context(void);
GMainContext *kite_context_get_g(KiteContext *ctx);

/* Set up the main loop (idempotent).  Must run before any other call here. */
void main_loop_init(void);
/*
 * One iteration: wait for events (not at all if nonblocking), then dispatch them.  Call it with
 * the BQL held (main() does): it is released only while blocked in ppoll(), so every handler,
 * BH and timer of the main context runs under the BQL.  Without the BQL (unit tests) it takes
 * it for the dispatch and gives it back before returning.
 */
void main_loop_wait(bool nonblocking);
/*
 * Run one iteration of ctx from the thread that runs it (iothreads); true if anything was
 * dispatched.  On the main context it behaves like main_loop_wait().  Returns false at once if
 * another thread is iterating ctx.
 */
bool kite_context_iterate(KiteContext *ctx, bool blocking);
/* Wake a blocked main_loop_wait/kite_context_iterate from any thread. */
void kite_context_notify(KiteContext *ctx);

/* --- fd handlers --- */
typedef void IOHandler(void *opaque);
/*
 * Register/replace/remove (both NULL) the handlers for fd on the main context.  Thread-safe.
 * fd_read also runs on hangup/error (read() then reports EOF or the error); a write handler
 * keeps firing while the fd is writable, so remove it when there is nothing left to write.
 */
void kite_set_fd_handler(int fd, IOHandler *fd_read, IOHandler *fd_write, void *opaque);
void kite_context_set_fd_handler(KiteContext *ctx, int fd, IOHandler *fd_read,
                                 IOHandler *fd_write, void *opaque);

/*
 * --- bottom halves: run cb once, soon, in the context's thread; schedule is thread-safe ---
 * Scheduling an already scheduled BH does nothing; a BH scheduled from its own callback runs
 * on the next iteration.  kite_bh_delete may be called from the callback itself.
 */
typedef struct KiteBH KiteBH;
typedef void KiteBHFunc(void *opaque);
KiteBH *kite_bh_new(KiteBHFunc *cb, void *opaque);          /* on the main context */
KiteBH *kite_bh_new_ctx(KiteContext *ctx, KiteBHFunc *cb, void *opaque);
void kite_bh_schedule(KiteBH *bh);
void kite_bh_cancel(KiteBH *bh);
void kite_bh_delete(KiteBH *bh);
/* Run cb(opaque) once in ctx's thread and free the BH afterwards. */
void kite_bh_oneshot(KiteContext *ctx, KiteBHFunc *cb, void *opaque);
/*
 * Wait until ctx's thread has finished the handler it may be in (or be waiting to lock the
 * BQL in): a BH queued now runs after it.  Callers remove their handlers first, then call
 * this before freeing what the handlers use.  Drops the BQL while waiting if it is held.
 * Must not be called from ctx's own thread.
 */
void kite_context_sync(KiteContext *ctx);

/* --- event notifiers (eventfd) --- */
typedef struct EventNotifier {
    int rfd, wfd;
} EventNotifier;
int event_notifier_init(EventNotifier *e, bool active);    /* 0 or -errno */
void event_notifier_cleanup(EventNotifier *e);
int event_notifier_set(EventNotifier *e);
bool event_notifier_test_and_clear(EventNotifier *e);
int event_notifier_get_fd(const EventNotifier *e);

/*
 * --- iothreads: a thread running its own KiteContext ---
 * Callbacks on an iothread's context run WITHOUT the BQL.  Destroy stops the thread, joins it,
 * and frees the context with its BHs and fd handlers; timers created on it must be freed first.
 */
typedef struct KiteIOThread KiteIOThread;
KiteIOThread *kite_iothread_new(const char *name, Error **errp);
KiteContext *kite_iothread_get_context(KiteIOThread *t);
void kite_iothread_destroy(KiteIOThread *t);   /* stops and joins the thread */

#endif
