/*
 * Clocks and timers.
 *
 * CLOCK_VIRTUAL starts STOPPED at 0 and only advances between clock_virtual_start() and
 * clock_virtual_stop() (the run state code calls them on vm_start/vm_stop), so device timers
 * armed before the VM runs wait for it.  While it runs, virtual = monotonic + offset; stop
 * freezes the value and start recomputes the offset from it, so it never jumps or goes back.
 *
 * Readers (vCPU threads reading the PIT, the APIC timer) take no lock: the virtual clock's
 * state is published through a sequence counter that is odd while a writer updates it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/timer.h"
#include "main-loop-int.h"
#include <time.h>

struct KiteTimer {
    KiteContext *ctx;
    KiteClockType type;
    KiteTimerCB *cb;
    void *opaque;
    int64_t expire;          /* -1: not pending; under ctx->timers.lock */
    KiteTimer *next;
};

static GMutex vclock_lock;       /* serialises writers */
static unsigned vclock_seq;      /* odd while a writer updates the fields below */
static bool vclock_running;
static bool vclock_manual;       /* qtest: stopped, but timers run as time is set */
static int64_t vclock_offset;    /* running: virtual = monotonic + offset */
static int64_t vclock_frozen;    /* stopped: the value it stands at */

static int64_t get_clock(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

static int64_t vclock_read(bool *running)
{
    unsigned seq;
    bool r;
    int64_t off, frozen;

    do {
        seq = __atomic_load_n(&vclock_seq, __ATOMIC_ACQUIRE);
        r = __atomic_load_n(&vclock_running, __ATOMIC_RELAXED);
        off = __atomic_load_n(&vclock_offset, __ATOMIC_RELAXED);
        frozen = __atomic_load_n(&vclock_frozen, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((seq & 1) || __atomic_load_n(&vclock_seq, __ATOMIC_RELAXED) != seq);
    if (running) {
        *running = r;
    }
    return r ? get_clock(CLOCK_MONOTONIC) + off : frozen;
}

static void vclock_write_begin(void)
{
    g_mutex_lock(&vclock_lock);
    __atomic_store_n(&vclock_seq, vclock_seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void vclock_write_end(void)
{
    __atomic_store_n(&vclock_seq, vclock_seq + 1, __ATOMIC_RELEASE);
    g_mutex_unlock(&vclock_lock);
}

int64_t clock_get_ns(KiteClockType type)
{
    switch (type) {
    case KITE_CLOCK_REALTIME:
        return get_clock(CLOCK_MONOTONIC);
    case KITE_CLOCK_VIRTUAL:
        return vclock_read(NULL);
    case KITE_CLOCK_HOST:
        return get_clock(CLOCK_REALTIME);
    default:
        g_assert_not_reached();
    }
}

void clock_virtual_stop(void)
{
    vclock_write_begin();
    if (vclock_running) {
        __atomic_store_n(&vclock_frozen, get_clock(CLOCK_MONOTONIC) + vclock_offset,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&vclock_running, false, __ATOMIC_RELAXED);
    }
    vclock_write_end();
}

void clock_virtual_start(void)
{
    vclock_write_begin();
    /* In manual (qtest) mode the clock only moves when told to. */
    if (!vclock_running && !__atomic_load_n(&vclock_manual, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&vclock_offset, vclock_frozen - get_clock(CLOCK_MONOTONIC),
                         __ATOMIC_RELAXED);
        __atomic_store_n(&vclock_running, true, __ATOMIC_RELAXED);
    }
    vclock_write_end();
    /* Virtual timers that were parked now have deadlines: recompute every poll timeout. */
    kite_context_notify_all();
}

bool clock_virtual_running(void)
{
    bool running;

    vclock_read(&running);
    return running;
}

void clock_virtual_set_ns(int64_t ns)
{
    vclock_write_begin();
    if (vclock_running) {
        __atomic_store_n(&vclock_offset, ns - get_clock(CLOCK_MONOTONIC), __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&vclock_frozen, ns, __ATOMIC_RELAXED);
    }
    vclock_write_end();
    kite_context_notify_all();
}

/* --- per-context timer lists --- */

void timerlists_init(KiteTimerLists *tl)
{
    g_mutex_init(&tl->lock);
    memset(tl->head, 0, sizeof(tl->head));
}

void timerlists_cleanup(KiteTimerLists *tl)
{
    g_mutex_lock(&tl->lock);
    for (int c = 0; c < KITE_CLOCK_MAX; c++) {
        while (tl->head[c]) {
            KiteTimer *t = tl->head[c];
            tl->head[c] = t->next;
            t->expire = -1;
            t->next = NULL;
        }
    }
    g_mutex_unlock(&tl->lock);
    g_mutex_clear(&tl->lock);
}

static bool clock_is_runnable(KiteClockType type, int64_t *now)
{
    bool running = true;

    *now = type == KITE_CLOCK_VIRTUAL ? vclock_read(&running) : clock_get_ns(type);
    return running || (type == KITE_CLOCK_VIRTUAL &&
                       __atomic_load_n(&vclock_manual, __ATOMIC_ACQUIRE));
}

int64_t timerlists_deadline_ns(KiteTimerLists *tl)
{
    int64_t deadline = -1;

    g_mutex_lock(&tl->lock);
    for (int c = 0; c < KITE_CLOCK_MAX; c++) {
        int64_t now, d;
        if (!tl->head[c] || !clock_is_runnable(c, &now)) {
            continue;   /* a stopped virtual clock has no deadline */
        }
        d = MAX(tl->head[c]->expire - now, 0);
        if (deadline < 0 || d < deadline) {
            deadline = d;
        }
    }
    g_mutex_unlock(&tl->lock);
    return deadline;
}

bool timerlists_run_expired(KiteTimerLists *tl)
{
    bool progress = false;

    g_mutex_lock(&tl->lock);
    for (int c = 0; c < KITE_CLOCK_MAX; c++) {
        int64_t now, unused;
        if (!clock_is_runnable(c, &now)) {
            continue;
        }
        /*
         * `now` stays fixed for the walk: a timer its callback re-arms for a time still
         * before it runs again (a periodic device catching up), one re-armed for "now"
         * waits for the next iteration, so a callback cannot starve the loop.
         */
        while (tl->head[c] && tl->head[c]->expire <= now) {
            KiteTimer *t = tl->head[c];
            KiteTimerCB *cb = t->cb;
            void *opaque = t->opaque;

            tl->head[c] = t->next;
            t->next = NULL;
            t->expire = -1;
            g_mutex_unlock(&tl->lock);
            cb(opaque);
            progress = true;
            g_mutex_lock(&tl->lock);
            if (!clock_is_runnable(c, &unused)) {
                break;   /* the callback stopped the VM */
            }
        }
    }
    g_mutex_unlock(&tl->lock);
    return progress;
}

/* --- timers --- */

KiteTimer *timer_new_ns_ctx(KiteContext *ctx, KiteClockType type, KiteTimerCB *cb,
                            void *opaque)
{
    KiteTimer *t = g_new0(KiteTimer, 1);

    g_assert(type < KITE_CLOCK_MAX);
    t->ctx = ctx;
    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    return t;
}

KiteTimer *timer_new_ns(KiteClockType type, KiteTimerCB *cb, void *opaque)
{
    return timer_new_ns_ctx(kite_main_context(), type, cb, opaque);
}

/* Unlink t; tl->lock held. */
static void timer_unlink(KiteTimerLists *tl, KiteTimer *t)
{
    for (KiteTimer **p = &tl->head[t->type]; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    t->expire = -1;
}

void timer_del(KiteTimer *t)
{
    KiteTimerLists *tl = &t->ctx->timers;

    g_mutex_lock(&tl->lock);
    if (t->expire >= 0) {
        timer_unlink(tl, t);
    }
    g_mutex_unlock(&tl->lock);
}

void timer_free(KiteTimer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

void timer_mod_ns(KiteTimer *t, int64_t expire_ns)
{
    KiteTimerLists *tl = &t->ctx->timers;
    KiteTimer **p;
    bool first;

    expire_ns = MAX(expire_ns, 0);
    g_mutex_lock(&tl->lock);
    if (t->expire >= 0) {
        timer_unlink(tl, t);
    }
    /* Equal expiry times keep arming order: insert after the timers already due then. */
    for (p = &tl->head[t->type]; *p && (*p)->expire <= expire_ns; p = &(*p)->next) {
    }
    t->expire = expire_ns;
    t->next = *p;
    *p = t;
    first = tl->head[t->type] == t;
    g_mutex_unlock(&tl->lock);
    /* A new earliest deadline must shorten the poll the context may be blocked in. */
    if (first && !g_main_context_is_owner(kite_context_get_g(t->ctx))) {
        kite_context_notify(t->ctx);
    }
}

bool timer_pending(KiteTimer *t)
{
    return timer_expire_time_ns(t) >= 0;
}

int64_t timer_expire_time_ns(KiteTimer *t)
{
    int64_t e;

    g_mutex_lock(&t->ctx->timers.lock);
    e = t->expire;
    g_mutex_unlock(&t->ctx->timers.lock);
    return e;
}

/* --- manual virtual time (qtest) --- */

void clock_virtual_set_manual(bool manual)
{
    __atomic_store_n(&vclock_manual, manual, __ATOMIC_RELEASE);
    kite_context_notify_all();
}

int64_t timer_next_deadline_ns(KiteClockType type)
{
    KiteTimerLists *tl = &kite_main_context()->timers;
    int64_t when;

    g_mutex_lock(&tl->lock);
    when = tl->head[type] ? tl->head[type]->expire : -1;
    g_mutex_unlock(&tl->lock);
    return when;
}

bool timers_run_expired_main(void)
{
    return timerlists_run_expired(&kite_main_context()->timers);
}

void clock_virtual_warp(int64_t target)
{
    for (;;) {
        int64_t next = timer_next_deadline_ns(KITE_CLOCK_VIRTUAL);
        if (next < 0 || next > target) {
            break;
        }
        if (next > clock_get_ns(KITE_CLOCK_VIRTUAL)) {
            clock_virtual_set_ns(next);
        }
        if (!timers_run_expired_main()) {
            break;
        }
    }
    if (target > clock_get_ns(KITE_CLOCK_VIRTUAL)) {
        clock_virtual_set_ns(target);
    }
    timers_run_expired_main();
}
