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
