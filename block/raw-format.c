/*
 * Format "raw": the guest sees its protocol node byte for byte.
 *
 * When the format was probed rather than given, a guest could write another format's header
 * into sector 0 and have the next start-up open a different image (a qcow2 whose backing file
 * is any host file).  Like QEMU (block/raw-format.c, raw_check_write), such writes are refused
 * with -EPERM, and partial writes to sector 0, which cannot be checked, with -EINVAL.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"

#define PROBE_BUF_SIZE 512

static int raw_probe(const uint8_t *buf, int len, const char *filename)
{
    return 1;       /* anything is raw, as a last resort */
}

static int raw_open(BlockDriverState *bs, KiteOpts *opts, int flags, Error **errp)
{
    bs->request_alignment = bs->file->request_alignment;
    return 0;
}

static void raw_close(BlockDriverState *bs)
{
}

static int raw_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                      struct iovec *iov, int niov)
{
    return bdrv_preadv(bs->file, offset, bytes, iov, niov);
}

static int raw_check_write(BlockDriverState *bs, int64_t offset, int64_t bytes,
                           struct iovec *iov, int niov)
{
    uint8_t buf[PROBE_BUF_SIZE];
    BlockDriver *drv;

    if (!(bs->open_flags & BDRV_O_PROBED) || offset >= PROBE_BUF_SIZE || bytes == 0) {
        return 0;
    }
    if (offset != 0 || bytes < PROBE_BUF_SIZE) {
        return -EINVAL;
    }
    iov_to_buf(iov, niov, 0, buf, sizeof(buf));
    drv = bdrv_probe_all(buf, sizeof(buf), NULL);
    return drv == bs->drv ? 0 : -EPERM;
}

static int raw_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                       struct iovec *iov, int niov, int flags)
{
    int ret = raw_check_write(bs, offset, bytes, iov, niov);

    if (ret < 0) {
        return ret;
    }
    return bdrv_pwritev(bs->file, offset, bytes, iov, niov, flags);
}

/* Straight through to the file's asynchronous path, except checked sector-0 writes. */
static bool raw_aio_rw(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                       int64_t bytes, struct iovec *iov, int niov, int flags,
                       BlockCompletionFunc *cb, void *opaque)
{
    if (op == BDRV_AIO_WRITE && (bs->open_flags & BDRV_O_PROBED) && offset < PROBE_BUF_SIZE) {
        return false;
    }
    return bdrv_aio_rw(bs->file, ctx, op, offset, bytes, iov, niov, flags, cb, opaque);
}

static int raw_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags)
{
    /* Zeroes probe as raw, so sector 0 may be zeroed even when probed. */
    return bdrv_pwrite_zeroes(bs->file, offset, bytes, flags);
}

static int raw_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    return bdrv_pdiscard(bs->file, offset, bytes);
}

/*
 * A disk is whole 512-byte sectors, as QEMU's total_sectors: a raw file of 1000 bytes is a
 * 1024-byte disk whose tail reads as zeros (the file layer zero-fills reads past EOF), so
 * the guest does not lose its last partial sector and qemu-img and kite-img agree on the
 * virtual size.  The file node itself keeps its exact byte length.
 */
static int64_t raw_getlength(BlockDriverState *bs)
{
    int64_t len = bdrv_getlength(bs->file);

    return len < 0 ? len : ROUND_UP(len, 512);
}

static int raw_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    return bdrv_truncate(bs->file, size, errp);
}

static int raw_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                            int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    int ret = bdrv_block_status(bs->file, offset, bytes, pnum, map, file);

    if (ret < 0) {
        return ret;
    }
    return (ret & ~BDRV_BLOCK_EOF) | BDRV_BLOCK_ALLOCATED;
}

static int raw_create(const char *filename, KiteOpts *opts, Error **errp)
{
    return bdrv_create_file(filename, opts, errp);
}

/* raw adds nothing of its own: its file is locked for what raw's user does (QEMU). */
static int raw_set_perm(BlockDriverState *bs, int perm, int shared, Error **errp)
{
    return bdrv_set_perm(bs->file, perm, shared, errp);
}

static BlockDriver bdrv_raw = {
    .format_name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .set_perm = raw_set_perm,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .aio_rw = raw_aio_rw,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .getlength = raw_getlength,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .create = raw_create,
};
BLOCK_DRIVER_REGISTER(bdrv_raw)
