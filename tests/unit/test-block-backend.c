/*
 * Thread pool, BlockBackend asynchronous I/O (main loop and iothread completion), bounds
 * checks, write-through caching, the werror/rerror policy, and -drive/-blockdev parsing.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/blockdev.h"
#include "block/block_int.h"
#include "block/qcow2.h"
#include "kite/thread-pool.h"
#include "kite/thread.h"
#include "kite/main-loop.h"
#include "kite/runstate.h"
#include "hw/qdev.h"

static char *tmpdir;

static char *make_image(const char *name, int64_t size, uint8_t fill)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree uint8_t *buf = g_malloc(size);
    memset(buf, fill, size);
    g_assert_true(g_file_set_contents(path, (char *)buf, size, NULL));
    return path;
}

/* ------------------------------------------------------------ thread pool */

typedef struct PoolTest {
    int done;
    int sum;
    GThread *main_thread;
    bool wrong_thread;
} PoolTest;

static int square(void *arg)
{
    int v = GPOINTER_TO_INT(arg);
    g_usleep(1000);
    return v * v;
}

static void pool_cb(void *opaque, int ret)
{
    PoolTest *t = opaque;

    t->wrong_thread |= g_thread_self() != t->main_thread;
    t->sum += ret;
    t->done++;
}

static void test_thread_pool(void)
{
    ThreadPool *pool = thread_pool_new(NULL, 4);
    PoolTest t = { .main_thread = g_thread_self() };
    int expect = 0;

    for (int i = 0; i < 100; i++) {
        thread_pool_submit(pool, square, GINT_TO_POINTER(i), pool_cb, &t);
        expect += i * i;
    }
    /* Completions run in the context, never inside submit. */
    g_assert_cmpint(t.done, ==, 0);
    while (t.done < 100) {
        main_loop_wait(false);
    }
    g_assert_cmpint(t.sum, ==, expect);
    g_assert_false(t.wrong_thread);
    g_assert_cmpint(thread_pool_pending(pool), ==, 0);

    /* free waits for queued work and runs its completions. */
    for (int i = 0; i < 10; i++) {
        thread_pool_submit(pool, square, GINT_TO_POINTER(2), pool_cb, &t);
    }
    thread_pool_free(pool);
    g_assert_cmpint(t.done, ==, 110);
}

typedef struct BqlPoolTest {
    int done;                   /* atomic */
    int on_main, unlocked;      /* atomic: callbacks on the test thread / without the BQL */
    GThread *main_thread;
} BqlPoolTest;

static void bql_pool_cb(void *opaque, int ret)
{
    BqlPoolTest *t = opaque;

    g_assert_cmpint(ret, ==, 9);
    if (g_thread_self() == t->main_thread) {
        g_atomic_int_inc(&t->on_main);
    }
    if (!bql_locked()) {
        g_atomic_int_inc(&t->unlocked);
    }
    g_atomic_int_inc(&t->done);
}

/*
 * thread_pool_submit_bql: with the BQL free, the worker runs the callback itself under the
 * BQL (nobody runs the main loop here); with the BQL held, as by a drain waiting for the
 * request, the worker must not wait for it and the holder runs the callback. One worker,
 * so that no other worker holds the BQL when it tries: that case is the next test's.
 */
static void test_thread_pool_bql(void)
{
    ThreadPool *pool = thread_pool_new(NULL, 1);
    BqlPoolTest t = { .main_thread = g_thread_self() };

    for (int i = 0; i < 20; i++) {
        thread_pool_submit_bql(pool, square, GINT_TO_POINTER(3), bql_pool_cb, &t);
    }
    /* Bounded: a pool that left them to the main loop would never finish them here. */
    for (int i = 0; i < 3000 && thread_pool_pending(pool); i++) {
        thread_pool_wait_progress(pool, 10000);
    }
    g_assert_cmpint(g_atomic_int_get(&t.done), ==, 20);
    g_assert_cmpint(g_atomic_int_get(&t.on_main), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&t.unlocked), ==, 0);

    bql_lock();
    for (int i = 0; i < 20; i++) {
        thread_pool_submit_bql(pool, square, GINT_TO_POINTER(3), bql_pool_cb, &t);
    }
    while (thread_pool_pending(pool)) {
        thread_pool_run_completions(pool);
        thread_pool_wait_progress(pool, 10000);
    }
    g_assert_cmpint(g_atomic_int_get(&t.done), ==, 40);
    g_assert_cmpint(g_atomic_int_get(&t.on_main), ==, 20);
    g_assert_cmpint(g_atomic_int_get(&t.unlocked), ==, 0);
    bql_unlock();
    thread_pool_free(pool);
}

/*
 * Several workers: one that finds the BQL taken by another worker's callback leaves its
 * callback to the main loop, played here by the test thread (holding the BQL, as the main
 * loop does when it runs bottom halves). Every callback runs once, and always under the BQL.
 */
static void test_thread_pool_bql_contended(void)
{
    ThreadPool *pool = thread_pool_new(NULL, 4);
    BqlPoolTest t = { .main_thread = g_thread_self() };

    for (int i = 0; i < 200; i++) {
        thread_pool_submit_bql(pool, square, GINT_TO_POINTER(3), bql_pool_cb, &t);
    }
    while (thread_pool_pending(pool)) {
        bql_lock();
        thread_pool_run_completions(pool);
        bql_unlock();
        thread_pool_wait_progress(pool, 10000);
    }
    g_assert_cmpint(g_atomic_int_get(&t.done), ==, 200);
    g_assert_cmpint(g_atomic_int_get(&t.unlocked), ==, 0);
    thread_pool_free(pool);
    g_assert_cmpint(g_atomic_int_get(&t.done), ==, 200);
}

/* ------------------------------------------------------------ BlockBackend */

typedef struct AioResult {
    int ret;
    bool done;
    GThread *thread;
} AioResult;

static void aio_cb(void *opaque, int ret)
{
    AioResult *r = opaque;
    r->ret = ret;
    r->done = true;
    r->thread = g_thread_self();
}

static void wait_done(AioResult *r)
{
    while (!r->done) {
        main_loop_wait(false);
    }
}

/* file.aio= for a test that runs with aio=threads and aio=io_uring; NULL: skipped. */
static KiteOpts *aio_opts(const void *aio)
{
    KiteOpts *o = kite_opts_new();

    kite_opts_set(o, "file.aio", aio);
    return o;
}

/* The process has an io_uring instance open (the requests really went through a ring). */
static bool have_io_uring_fd(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename("/proc/self/fd", name, NULL);
        g_autofree char *target = g_file_read_link(p, NULL);
        if (target && strstr(target, "io_uring")) {
            return true;
        }
    }
    return false;
}

static void test_blk_aio(const void *aio)
{
    g_autofree char *path = make_image("aio.img", 1 * MiB, 0);
    g_autoptr(KiteOpts) o = aio_opts(aio);
    BlockBackend *blk = blk_new_open("aio0", path, "raw", o, BDRV_O_RDWR, &error_abort);
    bool uring = !strcmp(aio, "io_uring");
    uint8_t wbuf[8192], rbuf[8192];
    struct iovec wiov[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
    struct iovec riov = { rbuf, 8192 };
    AioResult r = { 0 };

    g_assert_true(blk_by_name("aio0") == blk);
    for (int i = 0; i < 8192; i++) {
        wbuf[i] = i * 13;
    }
    blk_aio_pwritev(blk, 65536, wiov, 2, 0, aio_cb, &r);
    g_assert_false(r.done);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.thread == g_thread_self());

    g_assert_true(have_io_uring_fd() == uring);

    memset(&r, 0, sizeof(r));
    blk_aio_preadv(blk, 65536, &riov, 1, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpmem(wbuf, 8192, rbuf, 8192);

    memset(&r, 0, sizeof(r));
    blk_aio_flush(blk, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);

    memset(&r, 0, sizeof(r));
    blk_aio_pwrite_zeroes(blk, 65536, 4096, BDRV_REQ_MAY_UNMAP, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    memset(&r, 0, sizeof(r));
    blk_aio_pdiscard(blk, 65536 + 4096, 4096, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpint(blk_pread(blk, 65536, 4096, rbuf), ==, 0);
    for (int i = 0; i < 4096; i++) {
        g_assert_cmpint(rbuf[i], ==, 0);
    }

    /* Bounds: the last sector is fine, one past it is -EIO, and the file does not grow. */
    memset(&r, 0, sizeof(r));
    riov.iov_len = 512;
    blk_aio_preadv(blk, MiB - 512, &riov, 1, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    memset(&r, 0, sizeof(r));
    blk_aio_pwritev(blk, MiB - 511, &riov, 1, 0, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, -EIO);
    memset(&r, 0, sizeof(r));
    blk_aio_pwrite_zeroes(blk, MiB, 512, 0, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, -EIO);
    g_assert_cmpint(blk_pwrite(blk, INT64_MAX - 100, 512, wbuf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, -512, 512, rbuf), ==, -EIO);
    g_assert_cmpint(blk_getlength(blk), ==, MiB);

    /* Many requests in flight, then drain. */
    AioResult many[64] = { 0 };
    static uint8_t bufs[64][512];
    for (int i = 0; i < 64; i++) {
        struct iovec v = { bufs[i], 512 };
        memset(bufs[i], i, 512);
        blk_aio_pwritev(blk, i * 512, &v, 1, 0, aio_cb, &many[i]);
    }
    blk_drain(blk);
    g_assert_cmpint(blk_in_flight(blk), ==, 0);
    for (int i = 0; i < 64; i++) {
        g_assert_true(many[i].done);
        g_assert_cmpint(many[i].ret, ==, 0);
        g_assert_cmpint(blk_pread(blk, i * 512, 512, rbuf), ==, 0);
        g_assert_cmpint(rbuf[0], ==, i);
        g_assert_cmpint(rbuf[511], ==, i);
    }
    /* Writes and reads interleaved in flight; a write-through write (FUA). */
    blk_set_enable_write_cache(blk, false);
    for (int i = 0; i < 64; i++) {
        struct iovec v = { bufs[i], 512 };
        memset(&many[i], 0, sizeof(many[i]));
        if (i & 1) {
            memset(bufs[i], 0xa0 + i, 512);
            blk_aio_pwritev(blk, 256 * KiB + i * 512, &v, 1, 0, aio_cb, &many[i]);
        } else {
            blk_aio_preadv(blk, (i + 1) * 512, &v, 1, aio_cb, &many[i]);
        }
    }
    blk_drain(blk);
    blk_set_enable_write_cache(blk, true);
    for (int i = 0; i < 64; i++) {
        g_assert_true(many[i].done);
        g_assert_cmpint(many[i].ret, ==, 0);
        if (i & 1) {
            g_assert_cmpint(blk_pread(blk, 256 * KiB + i * 512, 512, rbuf), ==, 0);
            g_assert_cmpint(rbuf[100], ==, (uint8_t)(0xa0 + i));
        } else {
            g_assert_cmpint(bufs[i][0], ==, i + 1);
        }
    }
    blk_unref(blk);
    g_assert_null(blk_by_name("aio0"));
    g_assert_false(have_io_uring_fd());
}

/*
 * qcow2 reads with file.aio=io_uring: a read of contiguous normal clusters whose L2 table is
 * cached goes straight to the file's ring (the only asynchronous request here, so the ring
 * exists only if that path ran); reads that cross an unallocated cluster or clusters that are
 * not contiguous on the host take the pool and read right too.  With aio=threads there is
 * never a ring.
 */
static void test_blk_qcow2_aio_read(const void *aio)
{
    g_autofree char *path = g_build_filename(tmpdir, "aio.qcow2", NULL);
    g_autoptr(KiteOpts) co = kite_opts_parse("size=4M,cluster_size=4096", NULL, &error_abort);
    g_autoptr(KiteOpts) o = aio_opts(aio);
    bool uring = !strcmp(aio, "io_uring");
    g_autofree uint8_t *data = g_malloc(128 * KiB), *rbuf = g_malloc(128 * KiB);
    BlockBackend *blk;
    BDRVQcow2State *s;
    AioResult r = { 0 };
    struct iovec riov[2];

    g_assert_cmpint(bdrv_create("qcow2", path, co, &error_abort), ==, 0);
    blk = blk_new_open("qaio0", path, "qcow2", o, BDRV_O_RDWR | BDRV_O_UNMAP, &error_abort);
    s = blk_bs(blk)->opaque;
    for (int i = 0; i < 128 * KiB; i++) {
        data[i] = i * 7 + i / 4096;
    }
    /* Guest clusters 0-15 in order (1-15 contiguous on the host: the L2 table follows 0),
     * then 17 before 16. */
    g_assert_cmpint(blk_pwrite(blk, 0, 64 * KiB, data, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 68 * KiB, 4 * KiB, data + 68 * KiB, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 64 * KiB, 4 * KiB, data + 64 * KiB, 0), ==, 0);
    g_assert_false(have_io_uring_fd());

    /* Eleven contiguous clusters (1-11), unaligned ends, two iovecs. */
    memset(rbuf, 0xee, 128 * KiB);
    riov[0] = (struct iovec){ rbuf, 5000 };
    riov[1] = (struct iovec){ rbuf + 5000, 36000 };
    blk_aio_preadv(blk, 6144, riov, 2, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.thread == g_thread_self());
    g_assert_cmpmem(rbuf, 41000, data + 6144, 41000);
    g_assert_true(have_io_uring_fd() == uring);
    g_assert_cmpint(s->data_io, ==, 0);
    g_assert_cmpint(s->data_aio, ==, 0);

    /* 16 and 17 are not contiguous on the host; 18 is unallocated (zeroes). */
    memset(&r, 0, sizeof(r));
    memset(rbuf, 0xee, 128 * KiB);
    riov[0] = (struct iovec){ rbuf, 16 * KiB };
    blk_aio_preadv(blk, 60 * KiB, riov, 1, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpmem(rbuf, 12 * KiB, data + 60 * KiB, 12 * KiB);
    for (int i = 12 * KiB; i < 16 * KiB; i++) {
        g_assert_cmpint(rbuf[i], ==, 0);
    }

    /* Many reads in flight, then drain: every one done, right, and accounted for. */
    AioResult many[32] = { 0 };
    struct iovec v[32];
    for (int i = 0; i < 32; i++) {
        v[i] = (struct iovec){ rbuf + i * 4 * KiB, 2 * KiB };
        blk_aio_preadv(blk, i * 2 * KiB + 100, &v[i], 1, aio_cb, &many[i]);
    }
    blk_drain(blk);
    g_assert_cmpint(blk_in_flight(blk), ==, 0);
    g_assert_cmpint(s->data_io, ==, 0);
    g_assert_cmpint(s->data_aio, ==, 0);
    for (int i = 0; i < 32; i++) {
        g_assert_true(many[i].done);
        g_assert_cmpint(many[i].ret, ==, 0);
        g_assert_cmpmem(rbuf + i * 4 * KiB, 2 * KiB, data + i * 2 * KiB + 100, 2 * KiB);
    }

    /* A freed cluster reads as zeroes afterwards (no stale mapping on the fast path). */
    memset(&r, 0, sizeof(r));
    blk_aio_pdiscard(blk, 8 * KiB, 4 * KiB, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    memset(&r, 0, sizeof(r));
    riov[0] = (struct iovec){ rbuf, 12 * KiB };
    blk_aio_preadv(blk, 4 * KiB, riov, 1, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpmem(rbuf, 4 * KiB, data + 4 * KiB, 4 * KiB);
    for (int i = 4 * KiB; i < 8 * KiB; i++) {
        g_assert_cmpint(rbuf[i], ==, 0);
    }
    g_assert_cmpmem(rbuf + 8 * KiB, 4 * KiB, data + 12 * KiB, 4 * KiB);
    blk_unref(blk);
    g_assert_false(have_io_uring_fd());
}

/*
 * cache=none with many concurrent unaligned writes whose byte ranges are disjoint but share
 * 512-byte blocks: the read-modify-write of one must not undo another's bytes.
 */
typedef struct BqlResult {
    int ret;
    int done;                   /* atomic */
    bool had_bql;
    GThread *thread;
} BqlResult;

static void bql_aio_cb(void *opaque, int ret)
{
    BqlResult *r = opaque;

    r->ret = ret;
    r->had_bql = bql_locked();
    r->thread = g_thread_self();
    g_atomic_int_set(&r->done, 1);
}

/* Wait for a completion nobody runs the main loop for (bounded: 10 s). */
static bool wait_done_elsewhere(BqlResult *r)
{
    for (int i = 0; i < 10000 && !g_atomic_int_get(&r->done); i++) {
        g_usleep(1000);
    }
    return g_atomic_int_get(&r->done);
}

/*
 * blk_set_bql_completions: in the main loop's context, the pool thread (aio=threads) or the
 * ring's thread (aio=io_uring) completes requests under the BQL without the main loop; with
 * the BQL held by a drain, the drain completes them itself.
 */
static void test_blk_bql_completions(const void *aio)
{
    g_autofree char *path = make_image("bqlc.img", 1 * MiB, 0x5c);
    g_autoptr(KiteOpts) o = aio_opts(aio);
    BlockBackend *blk = blk_new_open("bqlc0", path, "raw", o, BDRV_O_RDWR, &error_abort);
    uint8_t *buf = g_malloc(2 * 4096 + 4096), *b = (uint8_t *)ROUND_UP((uintptr_t)buf, 4096);
    struct iovec iov = { b, 8192 };
    BqlResult r = { 0 };

    blk_set_bql_completions(blk, true);
    memset(b, 0xa7, 8192);
    blk_aio_pwritev(blk, 8192, &iov, 1, 0, bql_aio_cb, &r);
    g_assert_true(wait_done_elsewhere(&r));
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.had_bql);
    g_assert_true(r.thread != g_thread_self());

    memset(&r, 0, sizeof(r));
    memset(b, 0, 8192);
    blk_aio_preadv(blk, 8192, &iov, 1, bql_aio_cb, &r);
    g_assert_true(wait_done_elsewhere(&r));
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.had_bql && r.thread != g_thread_self());
    for (int i = 0; i < 8192; i++) {
        g_assert_cmpint(b[i], ==, 0xa7);
    }

    memset(&r, 0, sizeof(r));
    blk_aio_flush(blk, bql_aio_cb, &r);
    g_assert_true(wait_done_elsewhere(&r));
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.had_bql);

    /* A drain under the BQL: nobody else may take it, the drain finishes the request. */
    bql_lock();
    memset(&r, 0, sizeof(r));
    blk_aio_preadv(blk, 0, &iov, 1, bql_aio_cb, &r);
    blk_drain(blk);
    g_assert_true(g_atomic_int_get(&r.done));
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.had_bql && r.thread == g_thread_self());
    g_assert_cmpint(b[0], ==, 0x5c);
    bql_unlock();

    /* A late eventfd signal or bottom half of a finished ring must find nothing to do. */
    for (int i = 0; i < 5; i++) {
        main_loop_wait(true)     /* non-blocking */;
    }
    blk_unref(blk);
    g_free(buf);
}

static void test_blk_direct_concurrent(const void *aio)
{
    enum { N = 256, LEN = 300 };
    g_autofree char *path = make_image("dconc.img", 256 * KiB, 0);
    g_autoptr(KiteOpts) o = aio_opts(aio);
    static uint8_t data[N][LEN];
    static AioResult res[N];
    g_autofree uint8_t *chk = g_malloc(N * LEN);
    BlockBackend *blk;
    Error *err = NULL;

    blk = blk_new_open(NULL, path, "raw", o, BDRV_O_RDWR | BDRV_O_NOCACHE, &err);
    if (!blk) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        return;
    }
    memset(res, 0, sizeof(res));
    for (int i = 0; i < N; i++) {
        struct iovec v = { data[i], LEN };
        memset(data[i], i + 1, LEN);
        /* Request i covers [i*LEN, (i+1)*LEN): neighbours share a block, never a byte. */
        blk_aio_pwritev(blk, (int64_t)i * LEN, &v, 1, 0, aio_cb, &res[i]);
    }
    blk_drain(blk);
    for (int i = 0; i < N; i++) {
        g_assert_true(res[i].done);
        g_assert_cmpint(res[i].ret, ==, 0);
    }
    g_assert_cmpint(blk_pread(blk, 0, N * LEN, chk), ==, 0);
    for (int i = 0; i < N * LEN; i++) {
        if (chk[i] != (uint8_t)(i / LEN + 1)) {
            g_error("byte %d is %d, expected %d", i, chk[i], i / LEN + 1);
        }
    }
    blk_unref(blk);
}

static void test_blk_read_only(void)
{
    g_autofree char *path = make_image("ro.img", 64 * KiB, 0);
    BlockBackend *blk = blk_new_open(NULL, path, "raw", NULL, 0, &error_abort);
    uint8_t buf[512] = { 0 };
    AioResult r = { 0 };
    struct iovec v = { buf, 512 };

    g_assert_true(blk_is_read_only(blk));
    blk_aio_pwritev(blk, 0, &v, 1, 0, aio_cb, &r);
    wait_done(&r);
    g_assert_cmpint(r.ret, ==, -EACCES);
    blk_unref(blk);
}

/* An iothread's backend completes on the iothread. */
typedef struct IOThreadTest {
    AioResult r;
    GMutex lock;
    GCond cond;
} IOThreadTest;

static void iot_cb(void *opaque, int ret)
{
    IOThreadTest *t = opaque;
    g_mutex_lock(&t->lock);
    aio_cb(&t->r, ret);
    g_cond_signal(&t->cond);
    g_mutex_unlock(&t->lock);
}

static void test_blk_iothread(const void *aio)
{
    g_autofree char *path = make_image("iot.img", 64 * KiB, 0x42);
    g_autoptr(KiteOpts) o = aio_opts(aio);
    BlockBackend *blk = blk_new_open(NULL, path, "raw", o, BDRV_O_RDWR, &error_abort);
    KiteIOThread *io = kite_iothread_new("test-blk-io", &error_abort);
    IOThreadTest t = { 0 };
    uint8_t buf[512];
    struct iovec v = { buf, 512 };

    g_mutex_init(&t.lock);
    g_cond_init(&t.cond);
    blk_set_aio_context(blk, kite_iothread_get_context(io));
    g_assert_true(blk_get_aio_context(blk) == kite_iothread_get_context(io));
    blk_aio_preadv(blk, 512, &v, 1, iot_cb, &t);
    g_mutex_lock(&t.lock);
    while (!t.r.done) {
        g_cond_wait(&t.cond, &t.lock);
    }
    g_mutex_unlock(&t.lock);
    g_assert_cmpint(t.r.ret, ==, 0);
    g_assert_cmpint(buf[0], ==, 0x42);
    g_assert_true(t.r.thread != g_thread_self());

    /* Drain from the main thread waits for the iothread to run the completions. */
    t.r.done = false;
    blk_aio_flush(blk, iot_cb, &t);
    blk_drain(blk);
    g_assert_true(t.r.done);
    blk_set_aio_context(blk, NULL);
    blk_unref(blk);
    kite_iothread_destroy(io);
}

/* writethrough: every write is followed by a flush (the file driver's fdatasync). */
static int flushes;
static int count_flush(BlockDriverState *bs)
{
    flushes++;
    return 0;
}

static void test_writethrough(void)
{
    g_autofree char *path = make_image("wt.img", 64 * KiB, 0);
    BlockBackend *blk = blk_new_open(NULL, path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    BlockDriver *file_drv = bdrv_find_format("file");
    int (*saved)(BlockDriverState *) = file_drv->flush;
    uint8_t buf[512] = { 1 };

    file_drv->flush = count_flush;
    g_assert_true(blk_enable_write_cache(blk));
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(flushes, ==, 0);
    blk_set_enable_write_cache(blk, false);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(flushes, ==, 1);
    g_assert_cmpint(blk_pwrite(blk, 512, 512, buf, BDRV_REQ_FUA), ==, 0);
    g_assert_cmpint(flushes, ==, 2);
    blk_unref(blk);

    /* cache=unsafe: flush is a no-op. */
    blk = blk_new_open(NULL, path, "raw", NULL, BDRV_O_RDWR | BDRV_O_NO_FLUSH, &error_abort);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(flushes, ==, 2);
    blk_unref(blk);
    file_drv->flush = saved;
}

static struct {
    BlockBackend *blk;
    bool is_read;
    BlockErrorAction action;
    int error;
} last_error;

static void record_io_error(BlockBackend *blk, bool is_read, BlockErrorAction action,
                            int error)
{
    last_error.blk = blk;
    last_error.is_read = is_read;
    last_error.action = action;
    last_error.error = error;
}

static void test_error_policy(void)
{
    g_autofree char *path = make_image("err.img", 4 * KiB, 0);
    BlockBackend *blk = blk_new_open(NULL, path, "raw", NULL, 0, &error_abort);
    BlockdevOnError e;
    Error *err = NULL;

    /* Defaults: reads report, writes stop on ENOSPC only. */
    g_assert_cmpint(blk_get_error_action(blk, true, ENOSPC), ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==, BLOCK_ERROR_ACTION_STOP);
    g_assert_cmpint(blk_get_error_action(blk, false, -ENOSPC), ==, BLOCK_ERROR_ACTION_STOP);
    g_assert_cmpint(blk_get_error_action(blk, false, EIO), ==, BLOCK_ERROR_ACTION_REPORT);
    blk_set_on_error(blk, BLOCKDEV_ON_ERROR_STOP, BLOCKDEV_ON_ERROR_IGNORE);
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==, BLOCK_ERROR_ACTION_STOP);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==, BLOCK_ERROR_ACTION_IGNORE);
    blk_set_on_error(blk, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_true(blockdev_on_error_parse("enospc", "write", &e, &error_abort));
    g_assert_cmpint(e, ==, BLOCKDEV_ON_ERROR_ENOSPC);
    g_assert_false(blockdev_on_error_parse("sometimes", "write", &e, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'sometimes'"));
    error_free(err);

    /* The monitor hears every action; STOP also requests the io-error stop. */
    block_io_error_hook = record_io_error;
    blk_error_action(blk, BLOCK_ERROR_ACTION_REPORT, true, -EIO);
    g_assert_true(last_error.blk == blk);
    g_assert_true(last_error.is_read);
    g_assert_cmpint(last_error.action, ==, BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(last_error.error, ==, EIO);
    g_assert_cmpint(system_take_stop_request(), ==, 0);
    blk_error_stop(blk, false, ENOSPC);
    g_assert_cmpint(last_error.action, ==, BLOCK_ERROR_ACTION_STOP);
    g_assert_false(last_error.is_read);
    g_assert_cmpint(last_error.error, ==, ENOSPC);
    g_assert_cmpint(system_take_stop_request(), ==, RUN_STATE_IO_ERROR + 1);
    block_io_error_hook = NULL;
    blk_unref(blk);
}

/* --------------------------------------------------------- -drive parsing */

static void expect_drive_error(const char *fmt, const char *path, const char *msg)
{
    g_autofree char *s = g_strdup_printf(fmt, path);
    Error *err = NULL;

    g_assert_null(drive_new(s, &err));
    if (!strstr(error_get_pretty(err), msg)) {
        g_error("-drive %s: got '%s', expected '%s'", s, error_get_pretty(err), msg);
    }
    error_free(err);
}

static void test_drive_options(void)
{
    g_autofree char *path = make_image("drv.img", 1 * MiB, 0);
    g_autofree char *s = NULL;
    DriveInfo *d;

    s = g_strdup_printf("file=%s,format=raw,if=ide,cache=writethrough,werror=stop", path);
    d = drive_new(s, &error_abort);
    g_assert_cmpint(d->type, ==, IF_IDE);
    g_assert_cmpint(d->bus, ==, 0);
    g_assert_cmpint(d->unit, ==, 0);
    g_assert_cmpstr(d->id, ==, "ide0-hd0");
    g_assert_false(blk_enable_write_cache(d->blk));
    g_assert_cmpint(blk_get_error_action(d->blk, false, EIO), ==, BLOCK_ERROR_ACTION_STOP);
    g_assert_true(drive_get(IF_IDE, 0, 0) == d);
    g_assert_true(blk_by_name("ide0-hd0") == d->blk);

    /* The next IDE drive takes the free unit; index=2 is the secondary master. */
    g_free(s);
    s = g_strdup_printf("file=%s,format=raw,readonly=on,file.locking=off", path);
    d = drive_new(s, &error_abort);
    g_assert_cmpint(d->unit, ==, 1);
    g_assert_true(blk_is_read_only(d->blk));
    g_free(s);
    s = g_strdup_printf("file=%s,format=raw,index=2,media=cdrom,file.locking=off", path);
    d = drive_new(s, &error_abort);
    g_assert_cmpint(d->bus, ==, 1);
    g_assert_cmpint(d->unit, ==, 0);
    g_assert_true(d->is_cdrom);
    g_assert_true(blk_is_read_only(d->blk));
    g_assert_cmpstr(d->id, ==, "ide1-cd0");
    g_assert_true(drive_get_by_index(IF_IDE, 2) == d);
    g_assert_cmpint(drive_get_max_bus(IF_IDE), ==, 1);

    /* virtio and none, with ids. */
    g_free(s);
    s = g_strdup_printf("file=%s,format=raw,if=virtio,cache=unsafe,file.locking=off,"
                        "readonly=on", path);
    d = drive_new(s, &error_abort);
    g_assert_cmpstr(d->id, ==, "virtio0");
    g_free(s);
    s = g_strdup_printf("file=%s,format=raw,if=none,id=disk7,aio=threads,readonly=on,"
                        "file.locking=off", path);
    d = drive_new(s, &error_abort);
    g_assert_cmpstr(d->id, ==, "disk7");
    g_assert_true(blk_by_name("disk7") == d->blk);

    /* An empty CD-ROM drive has no medium. */
    d = drive_new("if=none,id=cd9,media=cdrom", &error_abort);
    g_assert_null(blk_bs(d->blk));
    g_assert_cmpint(blk_getlength(d->blk), ==, -ENOMEDIUM);

    expect_drive_error("file=%s,format=raw,id=disk7,if=none,readonly=on", path,
                       "Duplicate ID 'disk7'");
    expect_drive_error("file=%s,format=raw,index=0", path, "exists");
    expect_drive_error("file=%s,format=raw,unit=2,bus=3", path, "unit 2 too big");
    expect_drive_error("file=%s,format=raw,index=5,unit=1", path, "index cannot be used");
    expect_drive_error("file=%s,format=qcow9,if=none", path, "Unknown driver 'qcow9'");
    expect_drive_error("file=%s,if=floppy", path, "not supported");
    expect_drive_error("file=%s,if=bus9", path, "unsupported bus type 'bus9'");
    expect_drive_error("file=%s,media=tape,if=none", path, "invalid media");
    expect_drive_error("file=%s,cache=sometimes,if=none", path, "invalid cache option");
    expect_drive_error("file=%s,rerror=enospc,if=none", path, "rerror=enospc");
    expect_drive_error("file=%s,readonly=perhaps,if=none", path, "readonly");
    expect_drive_error("file=%s,aio=native,if=none,format=raw", path, "requires cache.direct=on");
    expect_drive_error("file=%s,frobnicate=1,if=none,format=raw,file.locking=off", path, "'frobnicate'");
    expect_drive_error("file=%s/nope,if=none,format=raw", tmpdir, "No such file");
    expect_drive_error("if=none,id=x%s", "", "needs a file");
    blockdev_close_all();
    g_assert_null(drive_get(IF_IDE, 0, 0));
}

static void test_blockdev_options(void)
{
    g_autofree char *path = make_image("bd.img", 1 * MiB, 0);
    g_autofree char *s = NULL;
    BlockDriverState *bs;
    Error *err = NULL;

    s = g_strdup_printf("driver=raw,node-name=n0,file.driver=file,file.filename=%s", path);
    bs = blockdev_new(s, &error_abort);
    g_assert_true(bdrv_find_node("n0") == bs);
    g_assert_cmpstr(bdrv_get_format_name(bs->file), ==, "file");
    g_assert_false(bdrv_is_read_only(bs));
    g_free(s);
#ifdef CONFIG_JSON
    s = g_strdup_printf("{\"driver\":\"raw\",\"node-name\":\"n1\",\"read-only\":true,"
                        "\"file\":{\"driver\":\"file\",\"filename\":\"%s\","
                        "\"locking\":\"off\"}}", path);
    bs = blockdev_new(s, &error_abort);
    g_assert_true(bdrv_find_node("n1") == bs);
    g_assert_true(bdrv_is_read_only(bs));
    g_free(s);
#endif
    s = g_strdup_printf("driver=raw,file.filename=%s", path);
    g_assert_null(blockdev_new(s, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "node-name"));
    error_free(err);
    err = NULL;
    g_assert_null(blockdev_new("node-name=x", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'driver' is missing"));
    error_free(err);
    err = NULL;
    g_assert_null(blockdev_new("{\"driver\":", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "JSON"));
    error_free(err);
    blockdev_close_all();
    g_assert_null(bdrv_find_node("n0"));
}

/* ------------------------------------------------------ drive property */

typedef struct TestBlkDev {
    DeviceState parent_obj;
    BlockBackend *blk;
} TestBlkDev;

static const Property test_blk_props[] = {
    DEFINE_PROP_DRIVE("drive", TestBlkDev, blk),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo test_blk_type = {
    .name = "test-blk-dev", .parent = TYPE_DEVICE, .instance_size = sizeof(TestBlkDev),
    .props = test_blk_props,
};
KITE_TYPE_REGISTER(test_blk_type)

static void test_drive_property(void)
{
    g_autofree char *path = make_image("prop.img", 64 * KiB, 0);
    g_autofree char *s = g_strdup_printf("file=%s,format=raw,if=none,id=pd0", path);
    g_autofree char *n = g_strdup_printf("driver=file,node-name=pn0,filename=%s,"
                                         "read-only=on,locking=off", path);
    DriveInfo *d = drive_new(s, &error_abort);
    DeviceState *a = qdev_new("test-blk-dev"), *b = qdev_new("test-blk-dev");
    Error *err = NULL;
    g_autofree char *v = NULL;

    g_assert_true(object_property_set_str(OBJECT(a), "drive", "pd0", &error_abort));
    g_assert_true(((TestBlkDev *)a)->blk == d->blk);
    g_assert_true(blk_get_attached_dev(d->blk) == a);
    g_assert_true(d->claimed);
    v = object_property_get_str(OBJECT(a), "drive", &error_abort);
    g_assert_cmpstr(v, ==, "pd0");

    /* One device per drive; unknown names are named in the error. */
    g_assert_false(object_property_set_str(OBJECT(b), "drive", "pd0", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'test-blk-dev.drive' can't take value 'pd0', it's in use");
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(b), "drive", "nosuch", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'test-blk-dev.drive' can't find value 'nosuch'");
    error_free(err);

    /* A -blockdev node name works too, through an anonymous backend. */
    g_assert_nonnull(blockdev_new(n, &error_abort));
    g_assert_true(object_property_set_str(OBJECT(b), "drive", "pn0", &error_abort));
    g_assert_nonnull(((TestBlkDev *)b)->blk);
    g_assert_true(blk_bs(((TestBlkDev *)b)->blk) == bdrv_find_node("pn0"));

    object_unref(OBJECT(a));
    g_assert_null(blk_get_attached_dev(d->blk));
    object_unref(OBJECT(b));
    blockdev_close_all();
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    tmpdir = g_dir_make_tmp("kite-test-blk-XXXXXX", NULL);
    g_test_add_func("/block/thread-pool", test_thread_pool);
    g_test_add_func("/block/thread-pool-bql", test_thread_pool_bql);
    g_test_add_func("/block/thread-pool-bql-contended", test_thread_pool_bql_contended);
    for (int i = 0; i < 2; i++) {
        const char *aio = i ? "io_uring" : "threads";
        g_autofree char *p1 = g_strdup_printf("/block/backend/%s/aio", aio);
        g_autofree char *p2 = g_strdup_printf("/block/backend/%s/direct-concurrent", aio);
        g_autofree char *p3 = g_strdup_printf("/block/backend/%s/iothread", aio);
        g_autofree char *p4 = g_strdup_printf("/block/backend/%s/bql-completions", aio);
        g_autofree char *p5 = g_strdup_printf("/block/backend/%s/qcow2-read", aio);
#ifndef CONFIG_LINUX_IO_URING
        if (i) {
            break;          /* built without liburing: aio=io_uring is refused (cli test) */
        }
#endif
        g_test_add_data_func(p1, aio, test_blk_aio);
        g_test_add_data_func(p2, aio, test_blk_direct_concurrent);
        g_test_add_data_func(p3, aio, test_blk_iothread);
        g_test_add_data_func(p4, aio, test_blk_bql_completions);
        g_test_add_data_func(p5, aio, test_blk_qcow2_aio_read);
    }
    g_test_add_func("/block/backend/read-only", test_blk_read_only);
    g_test_add_func("/block/backend/writethrough", test_writethrough);
    g_test_add_func("/block/backend/error-policy", test_error_policy);
    g_test_add_func("/block/drive-options", test_drive_options);
    g_test_add_func("/block/blockdev-options", test_blockdev_options);
    g_test_add_func("/block/drive-property", test_drive_property);
    ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        ret = ret ? ret : 1;
    }
    return ret;
}
