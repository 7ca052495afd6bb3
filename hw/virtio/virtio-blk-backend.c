/*
 * virtio-blk's disk as a BlockBackend (drive=): VirtIOBlkIO callbacks onto blk_aio_*, which
 * complete in the device's context (under the BQL, also when that is an iothread), and the
 * backend's werror=/rerror= policy.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block.h"
#include "hw/virtio/virtio-blk.h"
#include "kite/thread.h"

/* A completion delivered in an iothread, handed to the device under the BQL. */
typedef struct BBCompletion {
    VirtIOBlkIOCB *cb;
    void *opaque;
} BBCompletion;

static void bb_complete_locked(void *opaque, int ret)
{
    BBCompletion c = *(BBCompletion *)opaque;
    bool take = !bql_locked();

    g_free(opaque);
    if (take) {
        bql_lock();
    }
    c.cb(c.opaque, ret);
    if (take) {
        bql_unlock();
    }
}

/* The callback to give the block layer: the device's own in the main loop. */
static BlockCompletionFunc *bb_cb(void *io, VirtIOBlkIOCB *cb, void *opaque, void **cb_opaque)
{
    BBCompletion *c;

    if (blk_get_aio_context(io) == kite_main_context()) {
        *cb_opaque = opaque;
        return cb;
    }
    c = g_new(BBCompletion, 1);
    c->cb = cb;
    c->opaque = opaque;
    *cb_opaque = c;
    return bb_complete_locked;
}

static void bb_preadv(void *io, int64_t off, struct iovec *iov, int niov, VirtIOBlkIOCB *cb,
                      void *opaque)
{
    void *o;
    BlockCompletionFunc *f = bb_cb(io, cb, opaque, &o);

    blk_aio_preadv(io, off, iov, niov, f, o);
}

static void bb_pwritev(void *io, int64_t off, struct iovec *iov, int niov, bool fua,
                       VirtIOBlkIOCB *cb, void *opaque)
{
    void *o;
    BlockCompletionFunc *f = bb_cb(io, cb, opaque, &o);

    blk_aio_pwritev(io, off, iov, niov, fua ? BDRV_REQ_FUA : 0, f, o);
}

static void bb_flush(void *io, VirtIOBlkIOCB *cb, void *opaque)
{
    void *o;
    BlockCompletionFunc *f = bb_cb(io, cb, opaque, &o);

    blk_aio_flush(io, f, o);
}

static void bb_pdiscard(void *io, int64_t off, int64_t bytes, VirtIOBlkIOCB *cb, void *opaque)
{
    void *o;
    BlockCompletionFunc *f = bb_cb(io, cb, opaque, &o);

    blk_aio_pdiscard(io, off, bytes, f, o);
}

static void bb_pwrite_zeroes(void *io, int64_t off, int64_t bytes, bool may_unmap,
                             VirtIOBlkIOCB *cb, void *opaque)
{
    void *o;
    BlockCompletionFunc *f = bb_cb(io, cb, opaque, &o);

    blk_aio_pwrite_zeroes(io, off, bytes, may_unmap ? BDRV_REQ_MAY_UNMAP : 0, f, o);
}

static int64_t bb_getlength(void *io)
{
    int64_t len = blk_getlength(io);

    return len < 0 ? 0 : len;
}

static bool bb_is_read_only(void *io)
{
    return blk_is_read_only(io);
}

static VirtIOBlkErrorAction bb_error_action(void *io, bool is_read, int error)
{
    BlockErrorAction action = blk_get_error_action(io, is_read, error);

    switch (action) {
    case BLOCK_ERROR_ACTION_IGNORE:
        blk_error_action(io, action, is_read, error);   /* QMP's BLOCK_IO_ERROR */
        return VIRTIO_BLK_ERR_IGNORE;
    case BLOCK_ERROR_ACTION_STOP:
        return VIRTIO_BLK_ERR_STOP;                     /* reported by bb_error_stop */
    default:
        blk_error_action(io, action, is_read, error);
        return VIRTIO_BLK_ERR_REPORT;
    }
}

static void bb_error_stop(void *io, bool is_read, int error)
{
    blk_error_stop(io, is_read, error);
}

static bool bb_enable_write_cache(void *io)
{
    return blk_enable_write_cache(io);
}

static void bb_drain(void *io)
{
    blk_drain(io);
}

const VirtIOBlkIO virtio_blk_io_backend = {
    .preadv = bb_preadv,
    .pwritev = bb_pwritev,
    .flush = bb_flush,
    .pdiscard = bb_pdiscard,
    .pwrite_zeroes = bb_pwrite_zeroes,
    .getlength = bb_getlength,
    .is_read_only = bb_is_read_only,
    .error_action = bb_error_action,
    .error_stop = bb_error_stop,
    .enable_write_cache = bb_enable_write_cache,
    .drain = bb_drain,
};
