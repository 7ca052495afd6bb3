/*
 * Iothreads: a thread that runs its own KiteContext until destroyed.
 *
 * Work reaches an iothread through its context: BHs (kite_bh_oneshot), fd handlers and timers
 * created on kite_iothread_get_context().  Callbacks there run WITHOUT the BQL; results go back
 * to devices through a BH on the main context.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "main-loop-int.h"

struct KiteIOThread {
    char *name;
    GThread *thread;
    KiteContext *ctx;
    int stopping;        /* atomic */
};

static gpointer iothread_run(gpointer opaque)
{
    KiteIOThread *t = opaque;
    GMainContext *g = kite_context_get_g(t->ctx);

    kite_thread_set_name(t->name);
    /* glib sources created in this thread (g_timeout_add_...) land on our context. */
    g_main_context_push_thread_default(g);
    while (!g_atomic_int_get(&t->stopping)) {
        kite_context_iterate(t->ctx, true);
    }
    g_main_context_pop_thread_default(g);
    return NULL;
}

KiteIOThread *kite_iothread_new(const char *name, Error **errp)
{
    KiteIOThread *t = g_new0(KiteIOThread, 1);
    GMainContext *g = g_main_context_new();
    GError *gerr = NULL;

    t->name = g_strdup(name);
    /* The context exists before the thread, so the caller can use it right away. */
    t->ctx = kite_context_new(g);
    g_main_context_unref(g);
    t->thread = g_thread_try_new(name, iothread_run, t, &gerr);
    if (!t->thread) {
        error_setg(errp, "cannot create iothread '%s': %s", name, gerr->message);
        g_error_free(gerr);
        kite_context_free(t->ctx);
        g_free(t->name);
        g_free(t);
        return NULL;
    }
    return t;
}

KiteContext *kite_iothread_get_context(KiteIOThread *t)
{
    return t->ctx;
}

void kite_iothread_destroy(KiteIOThread *t)
{
    if (!t) {
        return;
    }
    g_atomic_int_set(&t->stopping, 1);
    kite_context_notify(t->ctx);
    g_thread_join(t->thread);
    kite_context_free(t->ctx);
    g_free(t->name);
    g_free(t);
}
