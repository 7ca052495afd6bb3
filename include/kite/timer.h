/*
 * Clocks and timers.
 *
 * CLOCK_VIRTUAL is the guest's time: it follows the host's monotonic clock while the VM runs
 * and stands still while it is stopped, so device timers (PIT, RTC periodic, APIC) neither fire
 * nor fall behind during a pause.  CLOCK_REALTIME is the host's monotonic clock (UI refresh,
 * backends); CLOCK_HOST is wall-clock time (the RTC's date).
 * Timers fire in their context's thread: main-context timers run with the BQL held.
 *
 * CLOCK_VIRTUAL starts STOPPED at 0: it does not advance, and its timers do not fire, until
 * clock_virtual_start() (vm_start() calls it when the VM first runs).  Time spent stopped is
 * not counted, so virtual = host monotonic time minus the time spent stopped.
 * clock_get_ns() is lock-free and may be called from any thread.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_TIMER_H
#define KITE_TIMER_H

#include "kite/osdep.h"
#include "kite/main-loop.h"

typedef enum KiteClockType {
    KITE_CLOCK_REALTIME,
    KITE_CLOCK_VIRTUAL,
    KITE_CLOCK_HOST,
    KITE_CLOCK_MAX
} KiteClockType;

#define NANOSECONDS_PER_SECOND 1000000000LL

int64_t clock_get_ns(KiteClockType type);
/* Stop/start the virtual clock (the run state code calls these on stop/cont). */
void clock_virtual_stop(void);
void clock_virtual_start(void);
bool clock_virtual_running(void);
/* For save/restore: the virtual clock's value while stopped can be set. */
void clock_virtual_set_ns(int64_t ns);

/*
 * qtest: the virtual clock stays stopped and moves only by clock_virtual_set_ns(), but its
 * timers still fire when that time reaches them (QEMU's qtest clock).
 */
void clock_virtual_set_manual(bool manual);

typedef struct KiteTimer KiteTimer;
typedef void KiteTimerCB(void *opaque);

KiteTimer *timer_new_ns(KiteClockType type, KiteTimerCB *cb, void *opaque);
KiteTimer *timer_new_ns_ctx(KiteContext *ctx, KiteClockType type, KiteTimerCB *cb,
                            void *opaque);
void timer_free(KiteTimer *t);              /* deletes it first if pending */
/*
 * Arm for absolute time expire_ns on its clock (re-arming moves it).  Thread-safe: arming from
 * another thread wakes the context if the deadline moved earlier.  Timers with equal expiry
 * fire in arming order.  timer_free() must not race with the timer's callback.
 */
void timer_mod_ns(KiteTimer *t, int64_t expire_ns);
void timer_del(KiteTimer *t);
bool timer_pending(KiteTimer *t);
int64_t timer_expire_time_ns(KiteTimer *t);  /* -1 if not pending */
/* Earliest expiry (absolute ns) of the main context's timers on clock type, or -1. */
int64_t timer_next_deadline_ns(KiteClockType type);
/* Run the main context's expired timers now (qtest clock steps); true if any ran. */
bool timers_run_expired_main(void);
/*
 * Move a manual virtual clock (clock_virtual_set_manual) forward to target, firing each of
 * the main context's virtual timers at its own expiry on the way, in deadline order (QEMU's
 * qtest clock_step).  Used by qtest's clock commands and device unit tests.
 */
void clock_virtual_warp(int64_t target);

#endif
