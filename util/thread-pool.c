/*
 * Thread pool for blocking work.
 *
 * Workers come from a GThreadPool bounded at max_threads (QEMU's pool also stops at 64).
 * A finished request goes on a done list and a bottom half in the requester's context runs
 * the completions, so device callbacks never run on a worker thread, unless the requester
 * allowed it (thread_pool_submit_bql): then a worker that gets the BQL without waiting runs
 * the callback itself under it, sparing the main loop a wake-up.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/thread-pool.h"
#include "kite/thread.h"

typedef struct PoolReq {
    ThreadPoolFunc *func;
    void *arg;
    ThreadPoolCompletion *cb;
    void *opaque;
    int ret;
    bool bql_ok;                /* the callback may run here under the BQL */
} PoolReq;

struct ThreadPool {
    KiteContext *ctx;
    GThreadPool *workers;
    KiteBH *bh;
    GMutex lock;
    GCond progress;             /* signalled when a request is done */
    GQueue done;                /* of PoolReq *, completed, callback not run yet */
    int pending;                /* submitted, callback not run yet (under lock) */
};

static GMutex pools_lock;
static GHashTable *pools;      /* KiteContext * -> ThreadPool * */

static void pool_worker(gpointer data, gpointer user_data)
{
    PoolReq *req = data;
    ThreadPool *pool = user_data;

    req->ret = req->func(req->arg);
    /* Never wait for the BQL: its holder may be draining this pool. */
    if (req->bql_ok && bql_trylock()) {
        req->cb(req->opaque, req->ret);
        bql_unlock();
        g_mutex_lock(&pool->lock);
        pool->pending--;
        g_cond_broadcast(&pool->progress);
        g_mutex_unlock(&pool->lock);
        g_free(req);
        return;
    }
    g_mutex_lock(&pool->lock);
    g_queue_push_tail(&pool->done, req);
    g_cond_broadcast(&pool->progress);
    g_mutex_unlock(&pool->lock);
    kite_bh_schedule(pool->bh);
}

int thread_pool_run_completions(ThreadPool *pool)
{
    int n = 0;

    for (;;) {
        PoolReq *req;

        g_mutex_lock(&pool->lock);
        req = g_queue_pop_head(&pool->done);
        g_mutex_unlock(&pool->lock);
        if (!req) {
            return n;
        }
        /* Call without the lock: the callback may submit more work. */
        req->cb(req->opaque, req->ret);
        g_mutex_lock(&pool->lock);
        pool->pending--;
        g_cond_broadcast(&pool->progress);
        g_mutex_unlock(&pool->lock);
        g_free(req);
        n++;
    }
}

static void pool_bh(void *opaque)
{
    thread_pool_run_completions(opaque);
}

ThreadPool *thread_pool_new(KiteContext *ctx, int max_threads)
{
    ThreadPool *pool = g_new0(ThreadPool, 1);

    pool->ctx = ctx ? ctx : kite_main_context();
    g_mutex_init(&pool->lock);
    g_cond_init(&pool->progress);
    g_queue_init(&pool->done);
    pool->bh = kite_bh_new_ctx(pool->ctx, pool_bh, pool);
    pool->workers = g_thread_pool_new(pool_worker, pool, max_threads, FALSE, NULL);
    return pool;
}

ThreadPool *thread_pool_get(KiteContext *ctx)
{
    ThreadPool *pool;

    ctx = ctx ? ctx : kite_main_context();
    g_mutex_lock(&pools_lock);
    if (!pools) {
        pools = g_hash_table_new(NULL, NULL);
    }
    pool = g_hash_table_lookup(pools, ctx);
    if (!pool) {
        pool = thread_pool_new(ctx, THREAD_POOL_MAX_THREADS);
        g_hash_table_insert(pools, ctx, pool);
    }
    g_mutex_unlock(&pools_lock);
    return pool;
}

static void pool_submit(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
                        ThreadPoolCompletion *cb, void *opaque, bool bql_ok)
{
    PoolReq *req = g_new0(PoolReq, 1);

    req->bql_ok = bql_ok;
    req->func = func;
    req->arg = arg;
    req->cb = cb;
    req->opaque = opaque;
    g_mutex_lock(&pool->lock);
    pool->pending++;
    g_mutex_unlock(&pool->lock);
    g_thread_pool_push(pool->workers, req, NULL);
}

void thread_pool_submit(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
                        ThreadPoolCompletion *cb, void *opaque)
{
    pool_submit(pool, func, arg, cb, opaque, false);
}

void thread_pool_submit_bql(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
                            ThreadPoolCompletion *cb, void *opaque)
{
    pool_submit(pool, func, arg, cb, opaque, true);
}

bool thread_pool_wait_progress(ThreadPool *pool, int64_t timeout_us)
{
    bool ok = true;

    g_mutex_lock(&pool->lock);
    if (g_queue_is_empty(&pool->done) && pool->pending) {
        ok = g_cond_wait_until(&pool->progress, &pool->lock,
                               g_get_monotonic_time() + timeout_us);
    }
    g_mutex_unlock(&pool->lock);
    return ok;
}

int thread_pool_pending(ThreadPool *pool)
{
    int n;

    g_mutex_lock(&pool->lock);
    n = pool->pending;
    g_mutex_unlock(&pool->lock);
    return n;
}

void thread_pool_free(ThreadPool *pool)
{
    /* Let the workers finish everything queued, then run what they completed. */
    g_thread_pool_free(pool->workers, FALSE, TRUE);
    thread_pool_run_completions(pool);
    kite_bh_delete(pool->bh);
    g_mutex_lock(&pools_lock);
    if (pools && g_hash_table_lookup(pools, pool->ctx) == pool) {
        g_hash_table_remove(pools, pool->ctx);
    }
    g_mutex_unlock(&pools_lock);
    g_queue_clear(&pool->done);
    g_mutex_clear(&pool->lock);
    g_cond_clear(&pool->progress);
    g_free(pool);
}
