/*
 * Clocks and timers: ordering, re-arming, cross-thread arming, and the virtual clock's
 * stop/start semantics (a stopped clock stands still and its timers do not fire).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/timer.h"

#define MS 1000000LL

static void set_flag(void *opaque)
{
    g_atomic_int_set((int *)opaque, 1);
}

/* Run the main loop for ms milliseconds of host time. */
static void run_for(int ms)
{
    int done = 0;
    KiteTimer *t = timer_new_ns(KITE_CLOCK_REALTIME, set_flag, &done);

    timer_mod_ns(t, clock_get_ns(KITE_CLOCK_REALTIME) + ms * MS);
    while (!done) {
        main_loop_wait(false);
    }
    timer_free(t);
}

typedef struct Fired {
    GString *order;
    char name;
    KiteClockType clock;
    int64_t expire;
    int64_t fired_at;
} Fired;

static void record(void *opaque)
{
    Fired *f = opaque;

    g_string_append_c(f->order, f->name);
    f->fired_at = clock_get_ns(f->clock);
}

/* Must run first: nothing has started the virtual clock yet. */
static void test_virtual_starts_stopped(void)
{
    int64_t v0 = clock_get_ns(KITE_CLOCK_VIRTUAL);

    g_assert_false(clock_virtual_running());
    g_assert_cmpint(v0, ==, 0);
    g_usleep(10 * 1000);
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), ==, v0);
}

static void test_clocks(void)
{
    int64_t host = clock_get_ns(KITE_CLOCK_HOST);
    int64_t r0 = clock_get_ns(KITE_CLOCK_REALTIME), r1;

    /* CLOCK_HOST is wall-clock time, in nanoseconds. */
    g_assert_cmpint(llabs(host / 1000 - g_get_real_time()), <, 1000000);
    g_usleep(5 * 1000);
    r1 = clock_get_ns(KITE_CLOCK_REALTIME);
    g_assert_cmpint(r1 - r0, >=, 5 * MS);
}

static void test_realtime_order(void)
{
    g_autoptr(GString) order = g_string_new(NULL);
    int64_t now = clock_get_ns(KITE_CLOCK_REALTIME);
    Fired f[4] = {
        { order, 'a', KITE_CLOCK_REALTIME, now + 30 * MS },
        { order, 'b', KITE_CLOCK_REALTIME, now + 10 * MS },
        { order, 'c', KITE_CLOCK_REALTIME, now + 20 * MS },
        { order, 'd', KITE_CLOCK_REALTIME, now + 20 * MS },   /* same time: arming order */
    };
    KiteTimer *t[4];

    for (int i = 0; i < 4; i++) {
        t[i] = timer_new_ns(KITE_CLOCK_REALTIME, record, &f[i]);
        timer_mod_ns(t[i], f[i].expire);
        g_assert_true(timer_pending(t[i]));
        g_assert_cmpint(timer_expire_time_ns(t[i]), ==, f[i].expire);
    }
    run_for(60);
    g_assert_cmpstr(order->str, ==, "bcda");
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(f[i].fired_at, >=, f[i].expire);
        /* Never early (glib's ms rounding would be), and not wildly late. */
        g_assert_cmpint(f[i].fired_at - f[i].expire, <, 100 * MS);
        g_assert_false(timer_pending(t[i]));
        g_assert_cmpint(timer_expire_time_ns(t[i]), ==, -1);
        timer_free(t[i]);
    }
}

static void test_mod_and_del(void)
{
    g_autoptr(GString) order = g_string_new(NULL);
    int64_t now = clock_get_ns(KITE_CLOCK_REALTIME);
    Fired a = { order, 'a', KITE_CLOCK_REALTIME }, b = { order, 'b', KITE_CLOCK_REALTIME };
    KiteTimer *ta = timer_new_ns(KITE_CLOCK_REALTIME, record, &a);
    KiteTimer *tb = timer_new_ns(KITE_CLOCK_REALTIME, record, &b);

    timer_mod_ns(ta, now + 5 * MS);
    timer_mod_ns(tb, now + 10 * MS);
    timer_mod_ns(ta, now + 15 * MS);      /* re-arming moves it after b */
    run_for(30);
    g_assert_cmpstr(order->str, ==, "ba");

    timer_mod_ns(ta, clock_get_ns(KITE_CLOCK_REALTIME) + 5 * MS);
    timer_del(ta);
    g_assert_false(timer_pending(ta));
    timer_mod_ns(tb, clock_get_ns(KITE_CLOCK_REALTIME) + 5 * MS);
    timer_free(tb);                       /* freeing a pending timer unlinks it */
    run_for(20);
    g_assert_cmpstr(order->str, ==, "ba");
    timer_free(ta);
}

typedef struct Periodic {
    KiteTimer *t;
    int n;
} Periodic;

static void periodic_cb(void *opaque)
{
    Periodic *p = opaque;

    if (++p->n < 5) {
        timer_mod_ns(p->t, clock_get_ns(KITE_CLOCK_REALTIME) + 2 * MS);
    }
}

static void test_rearm_in_callback(void)
{
    Periodic p = { 0 };

    p.t = timer_new_ns(KITE_CLOCK_REALTIME, periodic_cb, &p);
    timer_mod_ns(p.t, clock_get_ns(KITE_CLOCK_REALTIME));
    run_for(60);
    g_assert_cmpint(p.n, ==, 5);
    timer_free(p.t);
}

typedef struct CrossThread {
    KiteTimer *t;
    int64_t armed_at;
} CrossThread;

static gpointer arm_from_thread(gpointer opaque)
{
    CrossThread *c = opaque;

    g_usleep(10 * 1000);
    c->armed_at = clock_get_ns(KITE_CLOCK_REALTIME);
    timer_mod_ns(c->t, c->armed_at + 5 * MS);
    return NULL;
}

static void test_arm_from_thread(void)
{
    g_autoptr(GString) order = g_string_new(NULL);
    Fired f = { order, 'x', KITE_CLOCK_REALTIME };
    CrossThread c = { 0 };
    GThread *th;

    c.t = timer_new_ns(KITE_CLOCK_REALTIME, record, &f);
    th = g_thread_new("arm", arm_from_thread, &c);
    /*
     * The loop is blocked with a 500 ms timeout when the thread arms a 5 ms timer: unless
     * timer_mod_ns wakes it to shorten the poll, the timer fires ~500 ms late.
     */
    run_for(500);
    g_thread_join(th);
    g_assert_cmpstr(order->str, ==, "x");
    g_assert_cmpint(f.fired_at - c.armed_at, <, 200 * MS);
    timer_free(c.t);
}

static void test_virtual_stop_start(void)
{
    g_autoptr(GString) order = g_string_new(NULL);
    Fired f = { order, 'v', KITE_CLOCK_VIRTUAL };
    KiteTimer *t = timer_new_ns(KITE_CLOCK_VIRTUAL, record, &f);
    int64_t v0, v1;

    g_assert_false(clock_virtual_running());
    clock_virtual_set_ns(1000 * MS);
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), ==, 1000 * MS);

    /* Armed while stopped: does not fire however long the loop runs. */
    f.expire = 1000 * MS + 1 * MS;
    timer_mod_ns(t, f.expire);
    run_for(30);
    g_assert_cmpstr(order->str, ==, "");
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), ==, 1000 * MS);

    /* Running: it advances with host time and the timer fires once its time comes. */
    clock_virtual_start();
    g_assert_true(clock_virtual_running());
    run_for(20);
    g_assert_cmpstr(order->str, ==, "v");
    g_assert_cmpint(f.fired_at, >=, f.expire);
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), >=, 1000 * MS + 20 * MS);

    /* Stopped time is not counted: a 50 ms pause adds (almost) nothing. */
    clock_virtual_stop();
    v0 = clock_get_ns(KITE_CLOCK_VIRTUAL);
    timer_mod_ns(t, v0 + 200 * MS);
    run_for(50);
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), ==, v0);
    g_assert_cmpstr(order->str, ==, "v");
    clock_virtual_start();
    v1 = clock_get_ns(KITE_CLOCK_VIRTUAL);
    g_assert_cmpint(v1 - v0, >=, 0);
    g_assert_cmpint(v1 - v0, <, 5 * MS);
    /* The parked timer fires 200 ms of virtual time after the restart, not at once. */
    run_for(5);
    g_assert_cmpstr(order->str, ==, "v");
    run_for(300);
    g_assert_cmpstr(order->str, ==, "vv");
    g_assert_cmpint(f.fired_at, >=, v0 + 200 * MS);

    /* Monotonic across stop/start even while running. */
    v0 = clock_get_ns(KITE_CLOCK_VIRTUAL);
    clock_virtual_stop();
    clock_virtual_start();
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_VIRTUAL), >=, v0);
    clock_virtual_stop();
    timer_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/timer/virtual-starts-stopped", test_virtual_starts_stopped);
    g_test_add_func("/timer/clocks", test_clocks);
    g_test_add_func("/timer/realtime-order", test_realtime_order);
    g_test_add_func("/timer/mod-and-del", test_mod_and_del);
    g_test_add_func("/timer/rearm-in-callback", test_rearm_in_callback);
    g_test_add_func("/timer/arm-from-thread", test_arm_from_thread);
    g_test_add_func("/timer/virtual-stop-start", test_virtual_stop_start);
    return g_test_run();
}
