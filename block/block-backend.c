/*
 * BlockBackend: what a device holds.  It owns a reference to the top node, checks every
 * request against the image length (a guest sector past the end is -EIO, never a host write
 * past the file), applies the write-cache mode (writethrough = every write FUA), runs
 * requests on the thread pool of its context, and carries the werror/rerror policy.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"
#include "kite/thread-pool.h"
#include "kite/thread.h"
#include "kite/runstate.h"

struct BlockBackend {
    char *name;
    BlockDriverState *bs;           /* NULL: no medium (an empty CD-ROM drive) */
    void *dev;
    KiteContext *ctx;               /* NULL: the main loop */
    ThreadPool *pool;
    bool wce;
    BlockdevOnError on_read_error, on_write_error;
    int in_flight;                  /* atomic */
    int open_flags;                 /* how the medium was (or would be) opened */
    bool bql_completions;           /* blk_set_bql_completions */
    const BlockDevOps *dev_ops;
    void *dev_opaque;
};

static GList *backends;             /* of BlockBackend *, in creation order */

static BlockBackend *blk_new(const char *name, BlockDriverState *bs, Error **errp)
{
    BlockBackend *blk;

    if (name && *name && blk_by_name(name)) {
        error_setg(errp, "Duplicate ID '%s' for drive", name);
        return NULL;
    }
    blk = g_new0(BlockBackend, 1);
    blk->name = g_strdup(name && *name ? name : "");
    blk->bs = bs;
    blk->wce = true;
    blk->on_read_error = BLOCKDEV_ON_ERROR_REPORT;
    blk->on_write_error = BLOCKDEV_ON_ERROR_ENOSPC;
    /* The pool comes with the first asynchronous request: tools never need a main loop. */
    backends = g_list_append(backends, blk);
    return blk;
}

BlockBackend *blk_new_open(const char *name, const char *filename, const char *fmt,
                           KiteOpts *options, int flags, Error **errp)
{
    BlockDriverState *bs;
    BlockBackend *blk;

    if (name && *name && blk_by_name(name)) {
        error_setg(errp, "Duplicate ID '%s' for drive", name);
        return NULL;
    }
    if (!filename && !options) {
        blk = blk_new(name, NULL, errp);       /* empty drive */
        if (blk) {
            blk->open_flags = flags;
        }
        return blk;
    }
    bs = bdrv_open(filename, fmt, options, flags | BDRV_O_LOCK_LATER, errp);
    if (!bs) {
        return NULL;
    }
    blk = blk_new(name, bs, errp);
    if (!blk) {
        bdrv_unref(bs);
        return NULL;
    }
    blk->open_flags = flags;
    if (blk_update_perm(blk, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    return blk;
}

/*
 * Lock the medium for what the backend's user does, as QEMU: a device reads (and writes
 * unless read-only) and lets others only read; a backend no device holds (-drive if=none)
 * uses nothing and shares everything.  Only a raw node passes this to its file; a qcow2
 * node keeps the lock its own metadata needs.
 */
int blk_update_perm(BlockBackend *blk, Error **errp)
{
    bool ro;

    if (!blk->bs) {
        return 0;
    }
    if (!blk->dev) {
        return bdrv_set_perm(blk->bs, 0, BLK_PERM_ALL, errp);
    }
    ro = bdrv_is_read_only(blk->bs);
    return bdrv_set_perm(blk->bs, BLK_PERM_CONSISTENT_READ | (ro ? 0 : BLK_PERM_WRITE),
                         BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
                         (ro ? BLK_PERM_RESIZE : 0), errp);
}

BlockBackend *blk_new_with_bs(const char *name, BlockDriverState *bs, Error **errp)
{
    BlockBackend *blk = blk_new(name, bs, errp);

    if (blk && bs) {
        bdrv_ref(bs);
        blk_update_perm(blk, NULL);         /* no device yet: fewer permissions */
    }
    return blk;
}

void blk_unref(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    blk_drain(blk);
    backends = g_list_remove(backends, blk);
    bdrv_unref(blk->bs);
    g_free(blk->name);
    g_free(blk);
}

BlockBackend *blk_by_name(const char *name)
{
    for (GList *l = backends; name && l; l = l->next) {
        BlockBackend *blk = l->data;
        if (!strcmp(blk->name, name)) {
            return blk;
        }
    }
    return NULL;
}

BlockBackend *blk_next(BlockBackend *blk)
{
    GList *l = blk ? g_list_find(backends, blk) : NULL;

    l = blk ? (l ? l->next : NULL) : backends;
    return l ? l->data : NULL;
}

const char *blk_name(BlockBackend *blk)
{
    return blk->name;
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->bs;
}

int blk_attach_dev(BlockBackend *blk, void *dev)
{
    if (blk->dev && blk->dev != dev) {
        return -EBUSY;
    }
    blk->dev = dev;
    return 0;
}

void blk_detach_dev(BlockBackend *blk, void *dev)
{
    if (blk->dev == dev) {
        blk->dev = NULL;
        blk_update_perm(blk, NULL);         /* giving permissions up cannot conflict */
    }
}

void *blk_get_attached_dev(BlockBackend *blk)
{
    return blk->dev;
}

void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque)
{
    blk->dev_ops = ops;
    blk->dev_opaque = opaque;
}

bool blk_dev_has_removable_media(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->change_media_cb;
}

bool blk_dev_is_tray_open(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_tray_open &&
           blk->dev_ops->is_tray_open(blk->dev_opaque);
}

bool blk_dev_is_medium_locked(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_medium_locked &&
           blk->dev_ops->is_medium_locked(blk->dev_opaque);
}

int blk_get_open_flags(BlockBackend *blk)
{
    return blk->open_flags;
}

/*
 * Removable media, as QEMU's blockdev.c: the tray and the medium move separately.  The
 * tray opens (blk_open_tray) or closes (blk_close_tray) through the device; the medium
 * (the BlockDriverState) can only be taken out or put in while the tray is open.  eject and
 * blockdev-change-medium are made of these steps.  "name" is what the user called the
 * drive (for error messages).
 */

/* Tell the device the medium is in (load) or out; DEVICE_TRAY_MOVED if its tray moved. */
static void blk_dev_change_media(BlockBackend *blk, bool load)
{
    bool was_open = blk_dev_is_tray_open(blk);

    blk->dev_ops->change_media_cb(blk->dev_opaque, load);
    if (was_open != blk_dev_is_tray_open(blk)) {
        blk_dev_tray_moved(blk, !was_open);
    }
}

static bool blk_dev_has_tray(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_tray_open;
}

int blk_open_tray(BlockBackend *blk, const char *name, bool force, Error **errp)
{
    bool locked;

    if (!blk_dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", name);
        return -ENOTSUP;
    }
    if (!blk_dev_has_tray(blk)) {
        error_setg(errp, "Device '%s' does not have a tray", name);
        return -ENOSYS;
    }
    if (blk_dev_is_tray_open(blk)) {
        return 0;
    }
    locked = blk_dev_is_medium_locked(blk);
    if (locked && blk->dev_ops->eject_request_cb) {
        /* The guest is asked to let go (a GESN eject request); force unlocks the tray. */
        blk->dev_ops->eject_request_cb(blk->dev_opaque, force);
    }
    if (!locked || force) {
        blk_drain(blk);
        blk_dev_change_media(blk, false);
        return 0;
    }
    error_setg(errp, "Device '%s' is locked and force was not specified, wait for tray "
               "to open and try again", name);
    return -EINPROGRESS;
}

bool blk_close_tray(BlockBackend *blk, const char *name, Error **errp)
{
    if (!blk_dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", name);
        return false;
    }
    if (blk_dev_has_tray(blk) && blk_dev_is_tray_open(blk)) {
        blk_dev_change_media(blk, true);
    }
    return true;
}

bool blk_remove_medium(BlockBackend *blk, const char *name, Error **errp)
{
    bool attached = blk->dev != NULL;

    if (attached && !blk_dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", name);
        return false;
    }
    if (attached && blk_dev_has_tray(blk) && !blk_dev_is_tray_open(blk)) {
        error_setg(errp, "Tray of device '%s' is not open", name);
        return false;
    }
    if (!blk->bs) {
        return true;                                /* already empty */
    }
    blk_drain(blk);
    bdrv_set_perm(blk->bs, 0, BLK_PERM_ALL, NULL);     /* a -blockdev node lives on */
    bdrv_unref(blk->bs);
    blk->bs = NULL;
    if (attached && !blk_dev_has_tray(blk)) {
        blk_dev_change_media(blk, false);           /* no tray: the medium just goes */
    }
    return true;
}

bool blk_insert_medium(BlockBackend *blk, BlockDriverState *bs, Error **errp)
{
    bool attached = blk->dev != NULL;

    if (attached && !blk_dev_has_removable_media(blk)) {
        error_setg(errp, "Device is not removable");
        return false;
    }
    if (attached && blk_dev_has_tray(blk) && !blk_dev_is_tray_open(blk)) {
        error_setg(errp, "Tray of the device is not open");
        return false;
    }
    if (blk->bs) {
        error_setg(errp, "There already is a medium in the device");
        return false;
    }
    bdrv_ref(bs);
    blk->bs = bs;
    if (blk_update_perm(blk, errp) < 0) {
        blk->bs = NULL;
        bdrv_unref(bs);
        return false;
    }
    if (attached && !blk_dev_has_tray(blk)) {
        blk_dev_change_media(blk, true);
    }
    return true;
}

BlockBackend *blk_by_bs(BlockDriverState *bs)
{
    for (GList *l = backends; l; l = l->next) {
        BlockBackend *blk = l->data;
        if (blk->bs == bs) {
            return blk;
        }
    }
    return NULL;
}

bool blk_eject(BlockBackend *blk, const char *name, bool force, Error **errp)
{
    Error *err = NULL;
    int rc = blk_open_tray(blk, name, force, &err);

    /* A tray-less device's medium just goes; a locked tray waits for the guest. */
    if (rc && rc != -ENOSYS) {
        error_propagate(errp, err);
        return false;
    }
    error_free(err);
    return blk_remove_medium(blk, name, errp);
}

bool blk_change_medium(BlockBackend *blk, const char *name, const char *filename,
                       const char *format, bool force, Error **errp)
{
    BlockDriverState *bs;
    Error *err = NULL;
    bool ok;
    int rc;

    if (!blk_dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", name);
        return false;
    }
    bs = bdrv_open(filename, format, NULL, blk->open_flags & ~BDRV_O_SNAPSHOT, errp);
    if (!bs) {
        return false;
    }
    rc = blk_open_tray(blk, name, force, &err);
    if (rc && rc != -ENOSYS) {
        error_propagate(errp, err);
        bdrv_unref(bs);
        return false;
    }
    error_free(err);
    ok = blk_remove_medium(blk, name, errp) && blk_insert_medium(blk, bs, errp) &&
         blk_close_tray(blk, name, errp);
    bdrv_unref(bs);                                 /* the backend holds its own reference */
    return ok;
}

int64_t blk_getlength(BlockBackend *blk)
{
    return blk->bs ? bdrv_getlength(blk->bs) : -ENOMEDIUM;
}

bool blk_is_read_only(BlockBackend *blk)
{
    return !blk->bs || bdrv_is_read_only(blk->bs);
}

bool blk_enable_write_cache(BlockBackend *blk)
{
    return blk->wce;
}

void blk_set_enable_write_cache(BlockBackend *blk, bool wce)
{
    blk->wce = wce;
}

/* ---------------------------------------------------------------- requests */

typedef enum BlkOp { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD, BLK_ZEROES } BlkOp;

typedef struct BlkReq {
    BlockBackend *blk;
    BlkOp op;
    int64_t offset, bytes;
    struct iovec *iov;
    int niov;
    int flags;
    BlockCompletionFunc *cb;
    void *opaque;
} BlkReq;

static int blk_check_request(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    int64_t len;

    if (!blk->bs) {
        return -ENOMEDIUM;
    }
    len = bdrv_getlength(blk->bs);
    if (len < 0) {
        return (int)len;
    }
    if (offset < 0 || bytes < 0 || offset > len || bytes > len - offset) {
        return -EIO;
    }
    return 0;
}

/* The synchronous request; runs on a pool thread for blk_aio_*. */
static int blk_do_request(BlkReq *r)
{
    BlockBackend *blk = r->blk;
    int ret;

    if (r->op == BLK_FLUSH) {
        return blk->bs ? bdrv_flush(blk->bs) : -ENOMEDIUM;
    }
    ret = blk_check_request(blk, r->offset, r->bytes);
    if (ret < 0) {
        return ret;
    }
    if (r->op != BLK_READ && bdrv_is_read_only(blk->bs)) {
        return -EACCES;
    }
    if (r->op != BLK_READ && !blk->wce) {
        r->flags |= BDRV_REQ_FUA;
    }
    switch (r->op) {
    case BLK_READ:
        return bdrv_preadv(blk->bs, r->offset, r->bytes, r->iov, r->niov);
    case BLK_WRITE:
        return bdrv_pwritev(blk->bs, r->offset, r->bytes, r->iov, r->niov, r->flags);
    case BLK_DISCARD:
        return bdrv_pdiscard(blk->bs, r->offset, r->bytes);
    case BLK_ZEROES:
        return bdrv_pwrite_zeroes(blk->bs, r->offset, r->bytes, r->flags);
    default:
        return -EINVAL;
    }
}

static int blk_pool_func(void *arg)
{
    return blk_do_request(arg);
}

static void blk_pool_done(void *opaque, int ret)
{
    BlkReq *r = opaque;
    BlockBackend *blk = r->blk;

    r->cb(r->opaque, ret);
    g_free(r->iov);
    g_free(r);
    g_atomic_int_dec_and_test(&blk->in_flight);
}

/* The node's own asynchronous path (aio=io_uring) for a valid read, write or flush. */
static bool blk_try_aio(BlkReq *r)
{
    BlockBackend *blk = r->blk;
    static const BdrvAioOp ops[] = {
        [BLK_READ] = BDRV_AIO_READ, [BLK_WRITE] = BDRV_AIO_WRITE, [BLK_FLUSH] = BDRV_AIO_FLUSH,
    };

    if (!blk->bs || !blk->bs->drv->aio_rw || r->op > BLK_FLUSH) {
        return false;
    }
    if (r->op != BLK_FLUSH) {
        if (blk_check_request(blk, r->offset, r->bytes) < 0) {
            return false;           /* the pool path reports the error */
        }
        if (r->op == BLK_WRITE && !blk->wce) {
            r->flags |= BDRV_REQ_FUA;
        }
    }
    return bdrv_aio_rw(blk->bs, blk_get_aio_context(blk), ops[r->op], r->offset, r->bytes,
                       r->iov, r->niov,
                       r->flags | (blk->bql_completions && !blk->ctx ? BDRV_REQ_BQL_DONE : 0),
                       blk_pool_done, r);
}

static void blk_submit(BlockBackend *blk, BlkOp op, int64_t offset, int64_t bytes,
                       struct iovec *iov, int niov, int flags, BlockCompletionFunc *cb,
                       void *opaque)
{
    BlkReq *r = g_new0(BlkReq, 1);

    r->blk = blk;
    r->op = op;
    r->offset = offset;
    r->bytes = bytes;
    r->flags = flags;
    r->cb = cb;
    r->opaque = opaque;
    if (niov) {
        r->iov = g_memdup2(iov, niov * sizeof(*iov));
        r->niov = niov;
    }
    g_atomic_int_inc(&blk->in_flight);
    if (blk_try_aio(r)) {
        return;
    }
    if (!blk->pool) {
        blk->pool = thread_pool_get(blk->ctx);
    }
    if (blk->bql_completions && !blk->ctx) {
        thread_pool_submit_bql(blk->pool, blk_pool_func, r, blk_pool_done, r);
    } else {
        thread_pool_submit(blk->pool, blk_pool_func, r, blk_pool_done, r);
    }
}

void blk_set_bql_completions(BlockBackend *blk, bool on)
{
    blk->bql_completions = on;
}

void blk_aio_preadv(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_READ, offset, iov_size(iov, niov), iov, niov, 0, cb, opaque);
}

void blk_aio_pwritev(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                     int flags, BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_WRITE, offset, iov_size(iov, niov), iov, niov, flags, cb, opaque);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_FLUSH, 0, 0, NULL, 0, 0, cb, opaque);
}

void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_DISCARD, offset, bytes, NULL, 0, 0, cb, opaque);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags,
                           BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_ZEROES, offset, bytes, NULL, 0, flags, cb, opaque);
}

int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };
    BlkReq r = { .blk = blk, .op = BLK_READ, .offset = offset, .bytes = bytes,
                 .iov = &iov, .niov = 1 };

    return blk_do_request(&r);
}

int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes, const void *buf, int flags)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes };
    BlkReq r = { .blk = blk, .op = BLK_WRITE, .offset = offset, .bytes = bytes,
                 .iov = &iov, .niov = 1, .flags = flags };

    return blk_do_request(&r);
}

int blk_flush(BlockBackend *blk)
{
    BlkReq r = { .blk = blk, .op = BLK_FLUSH };

    return blk_do_request(&r);
}

int blk_in_flight(BlockBackend *blk)
{
    return g_atomic_int_get(&blk->in_flight);
}

void blk_drain(BlockBackend *blk)
{
    bool main_ctx = !blk->ctx;
    bool aio = blk->bs && blk->bs->drv->aio_rw;
    /* An iothread's completions may need the BQL (devices run theirs under it): wait
     * without holding it. */
    bool dropped = !main_ctx && bql_locked();

    if (dropped) {
        bql_unlock();
    }
    while (g_atomic_int_get(&blk->in_flight) > 0) {
        if (!main_ctx) {
            /* The iothread runs them; wait for it. */
            if (blk->pool) {
                thread_pool_wait_progress(blk->pool, 1000);
            }
            g_usleep(100);
            continue;
        }
        /* We are the main loop's thread (or hold the BQL): run completions here. */
        if (aio) {
            bdrv_aio_poll(blk->bs);                 /* io_uring completions */
        }
        if (blk->pool) {
            thread_pool_run_completions(blk->pool);
            if (g_atomic_int_get(&blk->in_flight) > 0) {
                thread_pool_wait_progress(blk->pool, aio ? 1000 : 10000);
            }
        } else if (g_atomic_int_get(&blk->in_flight) > 0) {
            g_usleep(50);
        }
    }
    if (dropped) {
        bql_lock();
    }
}

void blk_set_aio_context(BlockBackend *blk, KiteContext *ctx)
{
    blk_drain(blk);
    blk->ctx = ctx == kite_main_context() ? NULL : ctx;
    blk->pool = NULL;
}

KiteContext *blk_get_aio_context(BlockBackend *blk)
{
    return blk->ctx ? blk->ctx : kite_main_context();
}

/* ------------------------------------------------------------ error policy */

static const char *const on_error_names[] = {
    [BLOCKDEV_ON_ERROR_REPORT] = "report",
    [BLOCKDEV_ON_ERROR_IGNORE] = "ignore",
    [BLOCKDEV_ON_ERROR_ENOSPC] = "enospc",
    [BLOCKDEV_ON_ERROR_STOP] = "stop",
    [BLOCKDEV_ON_ERROR_AUTO] = "auto",
};

bool blockdev_on_error_parse(const char *s, const char *what, BlockdevOnError *out,
                             Error **errp)
{
    for (unsigned i = 0; i < ARRAY_SIZE(on_error_names); i++) {
        if (!strcmp(s, on_error_names[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "'%s' invalid %s error action (expected report, ignore, enospc, stop "
               "or auto)", s, what);
    return false;
}

void blk_set_on_error(BlockBackend *blk, BlockdevOnError rerror, BlockdevOnError werror)
{
    /* QEMU's defaults: reads report, writes stop on ENOSPC (thin-provisioned hosts). */
    blk->on_read_error = rerror == BLOCKDEV_ON_ERROR_AUTO ? BLOCKDEV_ON_ERROR_REPORT : rerror;
    blk->on_write_error = werror == BLOCKDEV_ON_ERROR_AUTO ? BLOCKDEV_ON_ERROR_ENOSPC : werror;
}

BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error)
{
    BlockdevOnError policy = is_read ? blk->on_read_error : blk->on_write_error;

    error = error < 0 ? -error : error;
    switch (policy) {
    case BLOCKDEV_ON_ERROR_ENOSPC:
        return error == ENOSPC ? BLOCK_ERROR_ACTION_STOP : BLOCK_ERROR_ACTION_REPORT;
    case BLOCKDEV_ON_ERROR_STOP:
        return BLOCK_ERROR_ACTION_STOP;
    case BLOCKDEV_ON_ERROR_IGNORE:
        return BLOCK_ERROR_ACTION_IGNORE;
    default:
        return BLOCK_ERROR_ACTION_REPORT;
    }
}

BlockIOErrorHook *block_io_error_hook;

void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error)
{
    error = error < 0 ? -error : error;
    if (block_io_error_hook) {
        block_io_error_hook(blk, is_read, action, error);
    }
    if (action == BLOCK_ERROR_ACTION_STOP) {
        warn_report("drive '%s': %s error (%s): stopping the VM (io-error); 'cont' retries",
                    blk->name, is_read ? "read" : "write", g_strerror(error));
        vm_stop_request(RUN_STATE_IO_ERROR);
    }
}

void blk_error_stop(BlockBackend *blk, bool is_read, int error)
{
    blk_error_action(blk, BLOCK_ERROR_ACTION_STOP, is_read, error);
}
