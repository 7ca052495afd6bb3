/*
 * A bounded pool of worker threads that run blocking functions (block I/O) and hand the
 * result back to a KiteContext: cb(opaque, ret) runs in that context's thread, through a
 * bottom half, never inside thread_pool_submit.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_THREAD_POOL_H
#define KITE_THREAD_POOL_H

#include "kite/osdep.h"
#include "kite/main-loop.h"

typedef struct ThreadPool ThreadPool;
typedef int ThreadPoolFunc(void *arg);
typedef void ThreadPoolCompletion(void *opaque, int ret);

#define THREAD_POOL_MAX_THREADS 64

/* The pool completing in ctx (NULL: the main loop), created on first use. */
ThreadPool *thread_pool_get(KiteContext *ctx);
ThreadPool *thread_pool_new(KiteContext *ctx, int max_threads);
/* Waits for every submitted function, runs the pending completions, frees. */
void thread_pool_free(ThreadPool *pool);

void thread_pool_submit(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
                        ThreadPoolCompletion *cb, void *opaque);
/*
 * The same, but the completion may run on the worker itself, under the BQL, when the worker
 * can take the BQL at once; otherwise (the BQL is busy, e.g. held by a drain that waits for
 * this request) it runs in the pool's context as usual.  For callbacks that need nothing but
 * the BQL: it saves the hand-off to the main loop, one thread wake-up per request.
 */
void thread_pool_submit_bql(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
                            ThreadPoolCompletion *cb, void *opaque);
/*
 * Run the completions that are ready, in the calling thread (which must be the one running
 * the pool's context, or hold the BQL for the main loop's); returns how many ran.
 */
int thread_pool_run_completions(ThreadPool *pool);
/* Block until some submitted function finishes or timeout_us passes; false on timeout. */
bool thread_pool_wait_progress(ThreadPool *pool, int64_t timeout_us);
/* Submitted functions whose completion has not run yet. */
int thread_pool_pending(ThreadPool *pool);

#endif
