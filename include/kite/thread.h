/*
 * Threads and the big lock.
 *
 * All device emulation runs under the big lock (BQL): the main loop holds it while it
 * dispatches handlers, vCPU threads take it around MMIO/PIO dispatch and drop it while the
 * guest runs.  Iothreads run block/network backends without it and hand results to devices
 * through bottom halves on the main loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_THREAD_H
#define KITE_THREAD_H

#include "kite/osdep.h"

void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);          /* by the calling thread */
bool bql_trylock(void);         /* true if it took the BQL (not held by the caller) */
/* Wait on cond with the BQL as its mutex. */
void bql_cond_wait(GCond *cond);
bool bql_cond_wait_until(GCond *cond, gint64 end_monotonic_us);

/* Name the calling thread (visible in gdb/top), best effort. */
void kite_thread_set_name(const char *name);

/*
 * Thread-id handshake: a new thread stores its host TID in *tid with
 * kite_thread_publish_tid(), and its creator calls kite_thread_wait_tid(tid) so the TID is
 * known as soon as creation returns (as QEMU's vCPU creation waits for cpu->created).
 * Neither needs the BQL, so the creator may hold it.
 */
void kite_thread_publish_tid(int *tid);
int kite_thread_wait_tid(int *tid);

#endif
