/*
 * The big lock (BQL) and thread helpers.
 *
 * The BQL is a plain mutex plus a per-thread "held" flag: bql_locked() answers for the calling
 * thread, which is what assertions in device code want to know.  It is not recursive on
 * purpose: taking it twice is a bug we want to catch, not paper over.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/thread.h"
#include <pthread.h>
#include <sys/syscall.h>

static GMutex bql;
static __thread bool bql_held;

void bql_lock(void)
{
    g_assert(!bql_held);
    g_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    g_assert(bql_held);
    bql_held = false;
    g_mutex_unlock(&bql);
}

bool bql_trylock(void)
{
    g_assert(!bql_held);
    if (!g_mutex_trylock(&bql)) {
        return false;
    }
    bql_held = true;
    return true;
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_wait(GCond *cond)
{
    g_assert(bql_held);
    bql_held = false;
    g_cond_wait(cond, &bql);
    bql_held = true;
}

bool bql_cond_wait_until(GCond *cond, gint64 end_monotonic_us)
{
    bool signalled;

    g_assert(bql_held);
    bql_held = false;
    signalled = g_cond_wait_until(cond, &bql, end_monotonic_us);
    bql_held = true;
    return signalled;
}

void kite_thread_set_name(const char *name)
{
    char buf[16];   /* Linux limits thread names to 15 characters plus NUL */

    g_strlcpy(buf, name, sizeof(buf));
    pthread_setname_np(pthread_self(), buf);
}

static GMutex tid_lock;
static GCond tid_cond;

void kite_thread_publish_tid(int *tid)
{
    g_mutex_lock(&tid_lock);
    __atomic_store_n(tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    g_cond_broadcast(&tid_cond);
    g_mutex_unlock(&tid_lock);
}

int kite_thread_wait_tid(int *tid)
{
    int t;

    g_mutex_lock(&tid_lock);
    while (!(t = __atomic_load_n(tid, __ATOMIC_ACQUIRE))) {
        g_cond_wait(&tid_cond, &tid_lock);
    }
    g_mutex_unlock(&tid_lock);
    return t;
}
