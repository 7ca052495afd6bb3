/*
 * The main loop: KiteContext (fd handlers, bottom halves, timers) on top of a GMainContext.
 *
 * Each KiteContext is a GSource attached to its GMainContext, so any glib source (signal
 * watches, child watches) runs beside Kite's handlers.  Iteration goes through
 * g_main_context_prepare/query, then our own ppoll() with a nanosecond timeout taken from the
 * timer lists (glib only offers milliseconds), then g_main_context_check/dispatch.
 *
 * Locking: ctx->lock protects the handler and BH arrays so that any thread can register a
 * handler or schedule a BH; callbacks always run with ctx->lock released.  While dispatch walks
 * an array, deletions only mark the entry, and the walk's end frees it.  The main context's
 * callbacks run under the BQL: main_loop_wait() drops it only while blocked in ppoll().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "kite/timer.h"
#include "main-loop-int.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

typedef struct KiteFdHandler {
    int fd;
    IOHandler *fd_read, *fd_write;
    void *opaque;
    GPollFD pfd;
    bool deleted;
} KiteFdHandler;

struct KiteBH {
    KiteContext *ctx;
    KiteBHFunc *cb;
    void *opaque;
    int scheduled;       /* atomic: set by any thread, cleared by the context's thread */
    bool deleted;        /* under ctx->lock */
    bool oneshot;
};

static KiteContext *main_ctx;
static GMutex contexts_lock;
static GSList *contexts;

/* --- event notifiers --- */

int event_notifier_init(EventNotifier *e, bool active)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    if (fd < 0) {
        int fds[2];
        /* No eventfd (old kernel, seccomp): a non-blocking pipe does the same job. */
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
            return -errno;
        }
        e->rfd = fds[0];
        e->wfd = fds[1];
    } else {
        e->rfd = e->wfd = fd;
    }
    if (active) {
        event_notifier_set(e);
    }
    return 0;
}

void event_notifier_cleanup(EventNotifier *e)
{
    if (e->rfd < 0) {
        return;
    }
    if (e->wfd != e->rfd) {
        close(e->wfd);
    }
    close(e->rfd);
    e->rfd = e->wfd = -1;
}

int event_notifier_set(EventNotifier *e)
{
    static const uint64_t one = 1;
    ssize_t r;

    do {
        r = write(e->wfd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
    /* EAGAIN: the counter (or pipe) is already full, so it is set anyway. */
    return (r < 0 && errno != EAGAIN) ? -errno : 0;
}

bool event_notifier_test_and_clear(EventNotifier *e)
{
    char buf[512];
    bool was_set = false;
    ssize_t r;

    /* An eventfd is drained by one 8-byte read; a pipe may hold many bytes. */
    do {
        r = read(e->rfd, buf, e->rfd == e->wfd ? 8 : sizeof(buf));
        was_set |= r > 0;
    } while ((r < 0 && errno == EINTR) || (r == sizeof(buf)));
    return was_set;
}

int event_notifier_get_fd(const EventNotifier *e)
{
    return e->rfd;
}

/* --- the GSource --- */

static bool bh_any_scheduled(KiteContext *ctx)
{
    bool any = false;

    g_mutex_lock(&ctx->lock);
    for (guint i = 0; i < ctx->bhs->len && !any; i++) {
        KiteBH *bh = ctx->bhs->pdata[i];
        any = !bh->deleted && g_atomic_int_get(&bh->scheduled);
    }
    g_mutex_unlock(&ctx->lock);
    return any;
}

static gboolean ctx_prepare(GSource *source, gint *timeout)
{
    KiteContext *ctx = (KiteContext *)source;
    int64_t deadline;

    if (bh_any_scheduled(ctx)) {
        *timeout = 0;
        return TRUE;
    }
    deadline = timerlists_deadline_ns(&ctx->timers);
    if (deadline == 0) {
        *timeout = 0;
        return TRUE;
    }
    /* Round up so that a glib-driven loop never wakes before the timer is due. */
    *timeout = deadline < 0 ? -1 : (gint)MIN((deadline + 999999) / 1000000, G_MAXINT);
    return FALSE;
}

static gboolean ctx_check(GSource *source)
{
    KiteContext *ctx = (KiteContext *)source;
    bool ready = false;

    /*
     * Clear the notifier before looking at BHs: a schedule racing with us sets it again and
     * the next iteration sees it, so no wakeup is lost.
     */
    if (ctx->notifier_pfd.revents) {
        event_notifier_test_and_clear(&ctx->notifier);
        ctx->notifier_pfd.revents = 0;
    }
    g_mutex_lock(&ctx->lock);
    for (guint i = 0; i < ctx->handlers->len && !ready; i++) {
        KiteFdHandler *h = ctx->handlers->pdata[i];
        ready = !h->deleted && (h->pfd.revents & (h->pfd.events | G_IO_HUP | G_IO_ERR));
    }
    g_mutex_unlock(&ctx->lock);
    return ready || bh_any_scheduled(ctx) || timerlists_deadline_ns(&ctx->timers) == 0;
}

/* Free entries deleted during a walk; ctx->lock held, walking == 0. */
static void ctx_reap_deleted(KiteContext *ctx)
{
    if (!ctx->has_deleted) {
        return;
    }
    for (guint i = ctx->handlers->len; i-- > 0;) {
        KiteFdHandler *h = ctx->handlers->pdata[i];
        if (h->deleted) {
            g_ptr_array_remove_index(ctx->handlers, i);
            g_free(h);
        }
    }
    for (guint i = ctx->bhs->len; i-- > 0;) {
        KiteBH *bh = ctx->bhs->pdata[i];
        if (bh->deleted) {
            g_ptr_array_remove_index(ctx->bhs, i);
            g_free(bh);
        }
    }
    ctx->has_deleted = false;
}

static bool ctx_dispatch_bhs(KiteContext *ctx)
{
    bool progress = false;

    g_mutex_lock(&ctx->lock);
    ctx->walking++;
    /* BHs scheduled by a callback wait for the next iteration, so one cannot starve fds. */
    for (guint i = 0, n = ctx->bhs->len; i < n; i++) {
        KiteBH *bh = ctx->bhs->pdata[i];
        if (bh->deleted || !g_atomic_int_compare_and_exchange(&bh->scheduled, 1, 0)) {
            continue;
        }
        g_mutex_unlock(&ctx->lock);
        bh->cb(bh->opaque);
        g_mutex_lock(&ctx->lock);
        if (bh->oneshot) {
            bh->deleted = true;
            ctx->has_deleted = true;
        }
        progress = true;
    }
    if (--ctx->walking == 0) {
        ctx_reap_deleted(ctx);
    }
    g_mutex_unlock(&ctx->lock);
    return progress;
}

static bool ctx_dispatch_handlers(KiteContext *ctx)
{
    bool progress = false;

    g_mutex_lock(&ctx->lock);
    ctx->walking++;
    for (guint i = 0, n = ctx->handlers->len; i < n; i++) {
        KiteFdHandler *h = ctx->handlers->pdata[i];
        gushort rev = h->pfd.revents;
        IOHandler *fn;

        h->pfd.revents = 0;
        if (h->deleted || !rev) {
            continue;
        }
        /* HUP and ERR go to the read handler, which sees EOF or the error from read(). */
        fn = h->fd_read;
        if (fn && (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR))) {
            void *opaque = h->opaque;
            g_mutex_unlock(&ctx->lock);
            fn(opaque);
            g_mutex_lock(&ctx->lock);
            progress = true;
        }
        fn = h->fd_write;
        if (!h->deleted && fn && (rev & (G_IO_OUT | G_IO_ERR))) {
            void *opaque = h->opaque;
            g_mutex_unlock(&ctx->lock);
            fn(opaque);
            g_mutex_lock(&ctx->lock);
            progress = true;
        }
    }
    if (--ctx->walking == 0) {
        ctx_reap_deleted(ctx);
    }
    g_mutex_unlock(&ctx->lock);
    return progress;
}

static gboolean ctx_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    KiteContext *ctx = (KiteContext *)source;

    ctx_dispatch_bhs(ctx);
    ctx_dispatch_handlers(ctx);
    timerlists_run_expired(&ctx->timers);
    return G_SOURCE_CONTINUE;
}

static void ctx_finalize(GSource *source)
{
    KiteContext *ctx = (KiteContext *)source;

    for (guint i = 0; i < ctx->handlers->len; i++) {
        g_free(ctx->handlers->pdata[i]);
    }
    for (guint i = 0; i < ctx->bhs->len; i++) {
        g_free(ctx->bhs->pdata[i]);
    }
    g_ptr_array_free(ctx->handlers, true);
    g_ptr_array_free(ctx->bhs, true);
    timerlists_cleanup(&ctx->timers);
    event_notifier_cleanup(&ctx->notifier);
    g_free(ctx->pollfds);
    g_mutex_clear(&ctx->lock);
}

static GSourceFuncs ctx_source_funcs = {
    .prepare = ctx_prepare,
    .check = ctx_check,
    .dispatch = ctx_dispatch,
    .finalize = ctx_finalize,
};

KiteContext *kite_context_new(GMainContext *g)
{
    KiteContext *ctx = (KiteContext *)g_source_new(&ctx_source_funcs, sizeof(KiteContext));
    int ret;

    g_mutex_init(&ctx->lock);
    ret = event_notifier_init(&ctx->notifier, false);
    if (ret < 0) {
        error_report("cannot create an event notifier: %s", g_strerror(-ret));
        abort();
    }
    ctx->notifier_pfd.fd = event_notifier_get_fd(&ctx->notifier);
    ctx->notifier_pfd.events = G_IO_IN;
    ctx->handlers = g_ptr_array_new();
    ctx->bhs = g_ptr_array_new();
    timerlists_init(&ctx->timers);
    ctx->g = g_main_context_ref(g);
    g_source_set_name(&ctx->source, "kite-context");
    /*
     * glib "blocks" a source that cannot recurse while dispatching it: it removes the
     * source's polls and adds them back afterwards, and every change signals the context's
     * wakeup fd, so each dispatch cost two eventfd writes and one empty extra iteration.
     * Dispatch is re-entrant (ctx->walking), so let it recurse instead.
     */
    g_source_set_can_recurse(&ctx->source, TRUE);
    g_source_add_poll(&ctx->source, &ctx->notifier_pfd);
    g_source_attach(&ctx->source, g);

    g_mutex_lock(&contexts_lock);
    contexts = g_slist_prepend(contexts, ctx);
    g_mutex_unlock(&contexts_lock);
    return ctx;
}

void kite_context_free(KiteContext *ctx)
{
    GMainContext *g = ctx->g;

    g_mutex_lock(&contexts_lock);
    contexts = g_slist_remove(contexts, ctx);
    g_mutex_unlock(&contexts_lock);
    g_source_destroy(&ctx->source);
    g_source_unref(&ctx->source);
    g_main_context_unref(g);
}

void kite_context_notify_all(void)
{
    g_mutex_lock(&contexts_lock);
    for (GSList *l = contexts; l; l = l->next) {
        kite_context_notify(l->data);
    }
    g_mutex_unlock(&contexts_lock);
}

void main_loop_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        main_ctx = kite_context_new(g_main_context_default());
        main_ctx->is_main = true;
        g_once_init_leave(&done, 1);
    }
}

KiteContext *kite_main_context(void)
{
    main_loop_init();
    return main_ctx;
}

GMainContext *kite_context_get_g(KiteContext *ctx)
{
    return ctx->g;
}

void kite_context_notify(KiteContext *ctx)
{
    event_notifier_set(&ctx->notifier);
}

/*
 * One iteration of ctx's GMainContext.  With drop_bql, the caller's BQL is released while
 * blocked in ppoll() only, so every callback runs under it.
 */
static bool context_iterate(KiteContext *ctx, bool blocking, bool drop_bql)
{
    GMainContext *g = ctx->g;
    gint max_prio, timeout_ms, n;
    int64_t timeout_ns, deadline;
    bool progress = false;

    if (!g_main_context_acquire(g)) {
        /* Another thread is iterating this context; it will handle the events. */
        return false;
    }
    g_main_context_prepare(g, &max_prio);
    while ((n = g_main_context_query(g, max_prio, &timeout_ms, ctx->pollfds,
                                     ctx->n_pollfds)) > ctx->n_pollfds) {
        ctx->n_pollfds = n;
        ctx->pollfds = g_renew(GPollFD, ctx->pollfds, n);
    }

    timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    deadline = timerlists_deadline_ns(&ctx->timers);
    if (deadline >= 0 && (timeout_ns < 0 || deadline < timeout_ns)) {
        timeout_ns = deadline;
    }
    if (!blocking) {
        timeout_ns = 0;
    }

    if (timeout_ns != 0 && drop_bql) {
        bql_unlock();
    }
    {
        struct timespec ts = {
            .tv_sec = timeout_ns / NANOSECONDS_PER_SECOND,
            .tv_nsec = timeout_ns % NANOSECONDS_PER_SECOND,
        };
        /* GPollFD has struct pollfd's layout on every Unix glib supports. */
        int r = ppoll((struct pollfd *)ctx->pollfds, n, timeout_ns < 0 ? NULL : &ts, NULL);
        if (r < 0 && errno != EINTR) {
            error_report("ppoll: %s", g_strerror(errno));
        }
    }
    if (timeout_ns != 0 && drop_bql) {
        bql_lock();
    }

    if (g_main_context_check(g, max_prio, ctx->pollfds, n)) {
        g_main_context_dispatch(g);
        progress = true;
    }
    g_main_context_release(g);
    return progress;
}

void main_loop_wait(bool nonblocking)
{
    KiteContext *ctx = kite_main_context();
    /* Handlers always run under the BQL; take it here if the caller (a test) does not. */
    bool took = !bql_locked();

    if (took) {
        bql_lock();
    }
    context_iterate(ctx, !nonblocking, true);
    if (took) {
        bql_unlock();
    }
}

bool kite_context_iterate(KiteContext *ctx, bool blocking)
{
    if (ctx->is_main) {
        bool took = !bql_locked();
        bool progress;

        if (took) {
            bql_lock();
        }
        progress = context_iterate(ctx, blocking, true);
        if (took) {
            bql_unlock();
        }
        return progress;
    }
    return context_iterate(ctx, blocking, false);
}

/* --- fd handlers --- */

void kite_context_set_fd_handler(KiteContext *ctx, int fd, IOHandler *fd_read,
                                 IOHandler *fd_write, void *opaque)
{
    KiteFdHandler *h = NULL;

    g_mutex_lock(&ctx->lock);
    for (guint i = 0; i < ctx->handlers->len; i++) {
        KiteFdHandler *cur = ctx->handlers->pdata[i];
        if (cur->fd == fd && !cur->deleted) {
            h = cur;
            break;
        }
    }
    gushort events = (fd_read ? G_IO_IN | G_IO_HUP | G_IO_ERR : 0) |
                     (fd_write ? G_IO_OUT | G_IO_ERR : 0);
    if (h && events && h->pfd.events == events) {
        /*
         * Same events: only the callbacks change. Leaving the poll record alone keeps
         * glib from re-polling and the owner thread from being woken for nothing
         * (chardevs toggle their handlers on every read).
         */
        h->fd_read = fd_read;
        h->fd_write = fd_write;
        h->opaque = opaque;
        g_mutex_unlock(&ctx->lock);
        return;
    }
    if (h) {
        /* glib reads events only at query time, so a change means a new poll record. */
        g_source_remove_poll(&ctx->source, &h->pfd);
        if (!fd_read && !fd_write) {
            h->deleted = true;
            if (ctx->walking) {
                ctx->has_deleted = true;
            } else {
                g_ptr_array_remove(ctx->handlers, h);
                g_free(h);
            }
            h = NULL;
        }
    } else if (fd_read || fd_write) {
        h = g_new0(KiteFdHandler, 1);
        h->fd = fd;
        h->pfd.fd = fd;
        g_ptr_array_add(ctx->handlers, h);
    }
    if (h) {
        h->fd_read = fd_read;
        h->fd_write = fd_write;
        h->opaque = opaque;
        h->pfd.events = events;
        h->pfd.revents = 0;
        g_source_add_poll(&ctx->source, &h->pfd);
    }
    g_mutex_unlock(&ctx->lock);
    if (!g_main_context_is_owner(ctx->g)) {
        kite_context_notify(ctx);
    }
}

void kite_set_fd_handler(int fd, IOHandler *fd_read, IOHandler *fd_write, void *opaque)
{
    kite_context_set_fd_handler(kite_main_context(), fd, fd_read, fd_write, opaque);
}

/* --- bottom halves --- */

KiteBH *kite_bh_new_ctx(KiteContext *ctx, KiteBHFunc *cb, void *opaque)
{
    KiteBH *bh = g_new0(KiteBH, 1);

    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    g_mutex_lock(&ctx->lock);
    g_ptr_array_add(ctx->bhs, bh);
    g_mutex_unlock(&ctx->lock);
    return bh;
}

KiteBH *kite_bh_new(KiteBHFunc *cb, void *opaque)
{
    return kite_bh_new_ctx(kite_main_context(), cb, opaque);
}

void kite_bh_schedule(KiteBH *bh)
{
    if (g_atomic_int_compare_and_exchange(&bh->scheduled, 0, 1)) {
        kite_context_notify(bh->ctx);
    }
}

void kite_bh_cancel(KiteBH *bh)
{
    g_atomic_int_set(&bh->scheduled, 0);
}

void kite_bh_delete(KiteBH *bh)
{
    KiteContext *ctx = bh->ctx;

    g_mutex_lock(&ctx->lock);
    g_atomic_int_set(&bh->scheduled, 0);
    if (ctx->walking) {
        bh->deleted = true;
        ctx->has_deleted = true;
    } else {
        g_ptr_array_remove(ctx->bhs, bh);
        g_free(bh);
    }
    g_mutex_unlock(&ctx->lock);
}

void kite_bh_oneshot(KiteContext *ctx, KiteBHFunc *cb, void *opaque)
{
    KiteBH *bh = kite_bh_new_ctx(ctx, cb, opaque);

    bh->oneshot = true;
    kite_bh_schedule(bh);
}

typedef struct ContextSync {
    GMutex lock;
    GCond cond;
    bool done;
} ContextSync;

static void context_sync_bh(void *opaque)
{
    ContextSync *cs = opaque;

    g_mutex_lock(&cs->lock);
    cs->done = true;
    g_cond_signal(&cs->cond);
    g_mutex_unlock(&cs->lock);
}

void kite_context_sync(KiteContext *ctx)
{
    ContextSync cs = { .done = false };
    bool locked = bql_locked();

    g_mutex_init(&cs.lock);
    g_cond_init(&cs.cond);
    kite_bh_oneshot(ctx, context_sync_bh, &cs);
    if (locked) {
        bql_unlock();
    }
    g_mutex_lock(&cs.lock);
    while (!cs.done) {
        g_cond_wait(&cs.cond, &cs.lock);
    }
    g_mutex_unlock(&cs.lock);
    if (locked) {
        bql_lock();
    }
    g_mutex_clear(&cs.lock);
    g_cond_clear(&cs.cond);
}
