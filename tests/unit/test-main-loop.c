/*
 * The main loop: bottom halves (also from other threads), fd handlers, event notifiers, the BQL
 * around ppoll, and iothreads.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "kite/timer.h"
#include <fcntl.h>
#include <poll.h>

static void set_flag(void *opaque)
{
    g_atomic_int_set((int *)opaque, 1);
}

/*
 * Iterate the main loop until *flag is set or timeout_ms passes.  True only if the flag was set
 * before the watchdog fired: an event that merely rides along with the watchdog's wakeup means
 * the loop was not woken when it should have been.
 */
static bool run_until(int *flag, int timeout_ms)
{
    int expired = 0;
    KiteTimer *watchdog = timer_new_ns(KITE_CLOCK_REALTIME, set_flag, &expired);

    timer_mod_ns(watchdog, clock_get_ns(KITE_CLOCK_REALTIME) + timeout_ms * 1000000LL);
    while (!g_atomic_int_get(flag) && !expired) {
        main_loop_wait(false);
    }
    timer_free(watchdog);
    return g_atomic_int_get(flag) && !expired;
}

/* --- bottom halves --- */

typedef struct BHState {
    int ran;
    int count;
    GThread *thread;
    bool bql;
    KiteBH *bh;
} BHState;

static void bh_record(void *opaque)
{
    BHState *s = opaque;

    s->thread = g_thread_self();
    s->bql = bql_locked();
    s->count++;
    g_atomic_int_set(&s->ran, 1);
}

static gpointer schedule_later(gpointer opaque)
{
    g_usleep(20 * 1000);
    kite_bh_schedule(opaque);
    return NULL;
}

static void test_bh_from_thread(void)
{
    BHState s = { 0 };
    KiteBH *bh = kite_bh_new(bh_record, &s);
    GThread *t = g_thread_new("sched", schedule_later, bh);

    /* The loop blocks in ppoll with nothing to do: only the notifier can wake it. */
    g_assert_true(run_until(&s.ran, 5000));
    g_thread_join(t);
    g_assert_true(s.thread == g_thread_self());
    g_assert_true(s.bql);
    g_assert_cmpint(s.count, ==, 1);
    kite_bh_delete(bh);
}

static void test_bh_cancel_delete(void)
{
    BHState s = { 0 };
    KiteBH *bh = kite_bh_new(bh_record, &s);

    kite_bh_schedule(bh);
    kite_bh_schedule(bh);           /* scheduling twice still runs it once */
    main_loop_wait(true);
    g_assert_cmpint(s.count, ==, 1);
    main_loop_wait(true);
    g_assert_cmpint(s.count, ==, 1);

    kite_bh_schedule(bh);
    kite_bh_cancel(bh);
    main_loop_wait(true);
    g_assert_cmpint(s.count, ==, 1);

    kite_bh_schedule(bh);
    kite_bh_delete(bh);
    main_loop_wait(true);
    g_assert_cmpint(s.count, ==, 1);
}

static void bh_delete_self(void *opaque)
{
    BHState *s = opaque;

    s->count++;
    kite_bh_delete(s->bh);
    /* A BH created during dispatch runs on a later iteration. */
    kite_bh_oneshot(kite_main_context(), set_flag, &s->ran);
}

static void test_bh_delete_in_callback(void)
{
    BHState s = { 0 };

    s.bh = kite_bh_new(bh_delete_self, &s);
    kite_bh_schedule(s.bh);
    g_assert_true(run_until(&s.ran, 5000));
    g_assert_cmpint(s.count, ==, 1);
}

static void count_up(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_bh_oneshot(void)
{
    int n = 0;

    kite_bh_oneshot(kite_main_context(), count_up, &n);
    main_loop_wait(true);
    main_loop_wait(true);
    g_assert_cmpint(n, ==, 1);
}

/* --- fd handlers --- */

typedef struct FdState {
    int fds[2];
    int reads, writes;
    char last;
} FdState;

static void fd_read_cb(void *opaque)
{
    FdState *s = opaque;

    g_assert_cmpint(read(s->fds[0], &s->last, 1), ==, 1);
    s->reads++;
}

static void fd_write_cb(void *opaque)
{
    FdState *s = opaque;

    s->writes++;
    /* Writability persists: a write handler must remove itself once done. */
    kite_set_fd_handler(s->fds[1], NULL, NULL, NULL);
}

static void test_fd_handlers(void)
{
    FdState s = { 0 };

    g_assert_cmpint(pipe2(s.fds, O_NONBLOCK), ==, 0);
    kite_set_fd_handler(s.fds[0], fd_read_cb, NULL, &s);
    main_loop_wait(true);
    g_assert_cmpint(s.reads, ==, 0);

    g_assert_cmpint(write(s.fds[1], "a", 1), ==, 1);
    main_loop_wait(true);
    g_assert_cmpint(s.reads, ==, 1);
    g_assert_cmpint(s.last, ==, 'a');

    kite_set_fd_handler(s.fds[1], NULL, fd_write_cb, &s);
    main_loop_wait(true);
    main_loop_wait(true);
    g_assert_cmpint(s.writes, ==, 1);

    /*
     * Re-registering with the same events keeps the poll record but must switch to the
     * new callback and opaque; a pending readiness goes to the new one.
     */
    FdState t = { .fds = { s.fds[0], s.fds[1] } };
    g_assert_cmpint(write(s.fds[1], "c", 1), ==, 1);
    kite_set_fd_handler(s.fds[0], fd_read_cb, NULL, &t);
    main_loop_wait(true);
    g_assert_cmpint(s.reads, ==, 1);
    g_assert_cmpint(t.reads, ==, 1);
    g_assert_cmpint(t.last, ==, 'c');

    /* Removed handlers are not called even though the fd is readable. */
    kite_set_fd_handler(s.fds[0], NULL, NULL, NULL);
    g_assert_cmpint(write(s.fds[1], "b", 1), ==, 1);
    main_loop_wait(true);
    g_assert_cmpint(s.reads, ==, 1);
    close(s.fds[0]);
    close(s.fds[1]);
}

/* --- event notifiers --- */

typedef struct NotifierState {
    EventNotifier e;
    int hits;
    int done;
} NotifierState;

static void notifier_cb(void *opaque)
{
    NotifierState *s = opaque;

    if (event_notifier_test_and_clear(&s->e)) {
        s->hits++;
        g_atomic_int_set(&s->done, 1);
    }
}

static gpointer notifier_set_later(gpointer opaque)
{
    NotifierState *s = opaque;

    g_usleep(20 * 1000);
    event_notifier_set(&s->e);
    event_notifier_set(&s->e);
    return NULL;
}

static void test_event_notifier(void)
{
    NotifierState s = { 0 };
    struct pollfd pfd;
    GThread *t;

    g_assert_cmpint(event_notifier_init(&s.e, true), ==, 0);
    pfd = (struct pollfd){ .fd = event_notifier_get_fd(&s.e), .events = POLLIN };
    g_assert_cmpint(poll(&pfd, 1, 0), ==, 1);
    g_assert_true(event_notifier_test_and_clear(&s.e));
    g_assert_false(event_notifier_test_and_clear(&s.e));
    g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);

    /*
     * Two sets from another thread, both done before the loop looks: they collapse into
     * one wake-up.  (Registering the handler first would let the loop run between the two
     * sets, and then two hits would be right.)
     */
    t = g_thread_new("notify", notifier_set_later, &s);
    g_thread_join(t);
    kite_set_fd_handler(event_notifier_get_fd(&s.e), notifier_cb, NULL, &s);
    g_assert_true(run_until(&s.done, 5000));
    main_loop_wait(true);
    g_assert_cmpint(s.hits, ==, 1);
    kite_set_fd_handler(event_notifier_get_fd(&s.e), NULL, NULL, NULL);
    event_notifier_cleanup(&s.e);
}

/* --- the BQL is dropped only while blocked --- */

typedef struct BqlState {
    int taken;
    KiteBH *bh;
} BqlState;

static gpointer take_bql(gpointer opaque)
{
    BqlState *s = opaque;

    g_usleep(20 * 1000);
    /* Succeeds only because the main thread released the BQL while blocked in ppoll. */
    bql_lock();
    g_assert_true(bql_locked());
    bql_unlock();
    kite_bh_schedule(s->bh);
    return NULL;
}

static void test_bql_released_in_poll(void)
{
    BqlState s = { 0 };
    GThread *t;

    s.bh = kite_bh_new(set_flag, &s.taken);
    bql_lock();
    t = g_thread_new("bql", take_bql, &s);
    g_assert_true(run_until(&s.taken, 5000));
    g_assert_true(bql_locked());      /* the loop gives it back to its caller */
    bql_unlock();
    g_assert_false(bql_locked());
    g_thread_join(t);
    kite_bh_delete(s.bh);
}

/* --- iothreads --- */

typedef struct IOThreadState {
    GThread *thread;
    bool bql;
    int timer_fired;
    int done;
    KiteTimer *timer;
} IOThreadState;

static void in_iothread(void *opaque)
{
    IOThreadState *s = opaque;

    s->thread = g_thread_self();
    s->bql = bql_locked();
    /* Hand the result back the way devices get it: a BH on the main context. */
    kite_bh_oneshot(kite_main_context(), set_flag, &s->done);
}

static void iothread_timer_cb(void *opaque)
{
    IOThreadState *s = opaque;

    g_atomic_int_set(&s->timer_fired, 1);
}

static void test_iothread(void)
{
    IOThreadState s = { 0 };
    KiteIOThread *io = kite_iothread_new("test-io", &error_abort);
    KiteContext *ctx = kite_iothread_get_context(io);

    g_assert_true(ctx != kite_main_context());
    kite_bh_oneshot(ctx, in_iothread, &s);
    g_assert_true(run_until(&s.done, 5000));
    g_assert_nonnull(s.thread);
    g_assert_true(s.thread != g_thread_self());
    g_assert_false(s.bql);

    /* A timer on the iothread's context fires there, with the main loop not running. */
    s.timer = timer_new_ns_ctx(ctx, KITE_CLOCK_REALTIME, iothread_timer_cb, &s);
    timer_mod_ns(s.timer, clock_get_ns(KITE_CLOCK_REALTIME) + 10 * 1000000);
    for (int i = 0; i < 500 && !g_atomic_int_get(&s.timer_fired); i++) {
        g_usleep(10 * 1000);
    }
    g_assert_true(g_atomic_int_get(&s.timer_fired));
    timer_free(s.timer);

    /* Destroy joins: a BH left pending is freed with the context, not run afterwards. */
    kite_iothread_destroy(io);
}

static void test_iothread_many(void)
{
    /* Create/destroy cycles must not leak threads or hang on join. */
    for (int i = 0; i < 20; i++) {
        KiteIOThread *io = kite_iothread_new("cycle", &error_abort);
        int n = 0;
        if (i & 1) {
            kite_bh_oneshot(kite_iothread_get_context(io), count_up, &n);
        }
        kite_iothread_destroy(io);
        g_assert_cmpint(n, <=, 1);
    }
}

/* An iothread handler that needs the BQL, as net backends' handlers do. */
static void handler_taking_bql(void *opaque)
{
    int *state = opaque;

    g_atomic_int_set(state, 1);
    bql_lock();
    g_usleep(20 * 1000);
    g_atomic_int_set(state, 2);
    bql_unlock();
}

static void test_context_sync(void)
{
    KiteIOThread *io = kite_iothread_new("sync", &error_abort);
    KiteContext *ctx = kite_iothread_get_context(io);
    int state = 0;

    bql_lock();
    kite_bh_oneshot(ctx, handler_taking_bql, &state);
    for (int i = 0; i < 500 && g_atomic_int_get(&state) == 0; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(g_atomic_int_get(&state), ==, 1);     /* now waiting for our BQL */
    /* Returns only after the handler finished: it drops the BQL so the handler can. */
    kite_context_sync(ctx);
    g_assert_cmpint(g_atomic_int_get(&state), ==, 2);
    g_assert_true(bql_locked());
    bql_unlock();
    /* Without the BQL held, and with nothing running: returns at once. */
    kite_context_sync(ctx);
    g_assert_false(bql_locked());
    kite_iothread_destroy(io);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/main-loop/bh/from-thread", test_bh_from_thread);
    g_test_add_func("/main-loop/bh/cancel-delete", test_bh_cancel_delete);
    g_test_add_func("/main-loop/bh/delete-in-callback", test_bh_delete_in_callback);
    g_test_add_func("/main-loop/bh/oneshot", test_bh_oneshot);
    g_test_add_func("/main-loop/fd-handlers", test_fd_handlers);
    g_test_add_func("/main-loop/event-notifier", test_event_notifier);
    g_test_add_func("/main-loop/bql-released-in-poll", test_bql_released_in_poll);
    g_test_add_func("/main-loop/iothread/bh-and-timer", test_iothread);
    g_test_add_func("/main-loop/iothread/create-destroy", test_iothread_many);
    g_test_add_func("/main-loop/iothread/context-sync", test_context_sync);
    return g_test_run();
}
