/*
 * Internals shared by the main loop, timers and iothreads (util/ only).
 *
 * A KiteContext is a GSource (like QEMU's AioContext): attaching it to a GMainContext makes
 * every g_main_context iteration run Kite's bottom halves, fd handlers and timers, while
 * main_loop_wait()/kite_context_iterate() drive that GMainContext with ppoll() so that timer
 * deadlines keep nanosecond precision.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_MAIN_LOOP_INT_H
#define KITE_MAIN_LOOP_INT_H

#include "kite/main-loop.h"
#include "kite/timer.h"

/* Per-context timer lists, one per clock, each sorted by expiry (util/timer.c). */
typedef struct KiteTimerLists {
    GMutex lock;
    KiteTimer *head[KITE_CLOCK_MAX];
} KiteTimerLists;

struct KiteContext {
    GSource source;              /* first: the context is allocated by g_source_new */
    GMainContext *g;
    GMutex lock;                 /* protects handlers, bhs, walking, has_deleted */
    EventNotifier notifier;      /* kite_context_notify() sets it */
    GPollFD notifier_pfd;
    GPtrArray *handlers;         /* of KiteFdHandler * */
    GPtrArray *bhs;              /* of KiteBH * */
    unsigned walking;            /* > 0 while dispatch walks the lists: deletes only mark */
    bool has_deleted;
    KiteTimerLists timers;
    GPollFD *pollfds;            /* scratch array for ppoll, owner thread only */
    int n_pollfds;
    bool is_main;
};

void timerlists_init(KiteTimerLists *tl);
/* Unlinks timers still pending (they must not be used afterwards). */
void timerlists_cleanup(KiteTimerLists *tl);
/* ns until the earliest runnable timer expires, 0 if one already has, -1 if none. */
int64_t timerlists_deadline_ns(KiteTimerLists *tl);
/* Run expired timers (callbacks run without tl->lock); true if any ran. */
bool timerlists_run_expired(KiteTimerLists *tl);

/* A new context attached to g (which it references); freed by kite_context_free. */
KiteContext *kite_context_new(GMainContext *g);
void kite_context_free(KiteContext *ctx);
/* Wake every context, e.g. because the virtual clock started and deadlines moved. */
void kite_context_notify_all(void);

#endif
