/*
 * The block layer, as drivers see it.
 *
 * A driver is a table of SYNCHRONOUS functions on a BlockDriverState.  They may be called
 * from several threads at once (the BlockBackend thread pool); a driver with metadata
 * (qcow2) protects it with its own GMutex in bs->opaque.  Format drivers reach their image
 * through bs->file with bdrv_pread/bdrv_pwrite/...; protocol drivers ("file") talk to the host.
 * Every function returns 0 or -errno unless stated.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include "block/block.h"
#include "kite/iov.h"

typedef enum BdrvAioOp { BDRV_AIO_READ, BDRV_AIO_WRITE, BDRV_AIO_FLUSH } BdrvAioOp;

struct BlockDriver {
    const char *format_name;            /* "raw", "qcow2", "file" */
    size_t instance_size;               /* size of bs->opaque, zero-allocated before open */
    bool is_protocol;                   /* opens a host file itself (no bs->file) */
    bool supports_backing;              /* format with a backing file (qcow2) */

    /* Probe score 0-100 for the first len bytes of a file (len may be < 512). */
    int (*probe)(const uint8_t *buf, int len, const char *filename);
    /*
     * Open: bs->filename, bs->open_flags and bs->read_only are set; a format's bs->file is
     * open.  options holds this node's own keys (prefixes already stripped); the driver
     * reads them with kite_opts_get* so that unknown leftovers can be reported.  On failure
     * the driver frees what it allocated; a bs->backing it leaves set is unref'd by the core.
     */
    int (*open)(BlockDriverState *bs, KiteOpts *options, int flags, Error **errp);
    void (*close)(BlockDriverState *bs);
    /* Image locking: use perm, share shared (BLK_PERM_*); NULL: nothing to change. */
    int (*set_perm)(BlockDriverState *bs, int perm, int shared, Error **errp);

    /* I/O.  Reads past the end of a protocol file return zeroes. */
    int (*preadv)(BlockDriverState *bs, int64_t offset, int64_t bytes,
                  struct iovec *iov, int niov);
    /* flags: BDRV_REQ_FUA (the core flushes afterwards if the driver leaves it). */
    int (*pwritev)(BlockDriverState *bs, int64_t offset, int64_t bytes,
                   struct iovec *iov, int niov, int flags);
    /* Optional; the core falls back to writing a zero buffer. */
    int (*pwrite_zeroes)(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags);
    /* Optional; discard is advisory, so a missing callback means success. */
    int (*pdiscard)(BlockDriverState *bs, int64_t offset, int64_t bytes);
    /* This node's own data to its child (the core then flushes the children). */
    int (*flush)(BlockDriverState *bs);

    /*
     * Optional asynchronous read, write (flags: BDRV_REQ_FUA) or flush, used by the
     * BlockBackend instead of a pool thread (file with aio=io_uring, and raw over it).
     * Called in ctx's thread; cb(opaque, 0 or -errno) runs there later (with
     * BDRV_REQ_BQL_DONE: perhaps in another thread, under the BQL).  Returns false,
     * having submitted nothing, when this request must take the synchronous path.
     */
    bool (*aio_rw)(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                   int64_t bytes, struct iovec *iov, int niov, int flags,
                   BlockCompletionFunc *cb, void *opaque);
    /* With aio_rw: complete what has finished now, without waiting for ctx (drain). */
    void (*aio_poll)(BlockDriverState *bs);

    int64_t (*getlength)(BlockDriverState *bs);
    int64_t (*get_allocated_file_size)(BlockDriverState *bs);   /* optional */
    int (*truncate)(BlockDriverState *bs, int64_t size, Error **errp);
    /*
     * Optional (default: everything DATA|ALLOCATED, mapped 1:1 for protocols and raw).
     * Returns BDRV_BLOCK_* bits for *pnum bytes (0 < *pnum <= bytes).
     */
    int (*block_status)(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                        int64_t *map, BlockDriverState **file);

    /*
     * Create an image.  Format drivers create the protocol file with
     * bdrv_create_file(filename, opts, errp) and open it with bdrv_open(filename, "file", ...).
     * Reads its keys from opts with kite_opts_get*; the core reports unread keys.
     */
    int (*create)(const char *filename, KiteOpts *opts, Error **errp);
    int (*check)(BlockDriverState *bs, BdrvCheckResult *res, int fix);
    int (*get_info)(BlockDriverState *bs, BlockDriverInfo *bdi);
};

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;                       /* drv->instance_size bytes */
    char *filename;                     /* as given (the protocol node's host path) */
    char *node_name;                    /* "node-name=", or generated "#blockN" */
    int open_flags;                     /* BDRV_O_* */
    bool read_only;
    int refcnt;

    BlockDriverState *file;             /* protocol node under a format node, or NULL */
    BlockDriverState *backing;          /* backing node (qcow2), or NULL */
    char *backing_file;                 /* as recorded in the image (the driver sets it) */
    char *backing_format;

    /*
     * Alignment the host requires for offsets, lengths and buffer addresses (512/4096 with
     * O_DIRECT, 1 otherwise); the file driver bounces unaligned requests itself.
     */
    uint32_t request_alignment;
    /* drv->aio_rw may take requests (the file with aio=io_uring): format nodes above it
     * skip their own asynchronous lookups when false. */
    bool has_aio;
};

/* Registration: one line at the end of a driver file. */
void bdrv_register(BlockDriver *drv);
#define BLOCK_DRIVER_REGISTER(drv) \
    static void __attribute__((constructor)) bdrv_register_##drv(void) \
    { \
        bdrv_register(&(drv)); \
    }

/* Create the protocol file: opts NULL gives an empty file, else "size"/"preallocation". */
int bdrv_create_file(const char *filename, KiteOpts *opts, Error **errp);

/*
 * Open bs->backing from a name recorded in the image: relative names are relative to the
 * directory of bs->filename (as QEMU does); fmt NULL probes.  Read-only, same cache flags.
 */
int bdrv_open_backing(BlockDriverState *bs, const char *backing_name, const char *fmt,
                      Error **errp);
/* The path a relative backing name resolves to (caller frees). */
char *bdrv_get_full_backing_filename(BlockDriverState *bs, const char *backing_name);

/* Best probe among registered format drivers for buf (NULL if none scores). */
BlockDriver *bdrv_probe_all(const uint8_t *buf, int len, const char *filename);

/*
 * The node's asynchronous path (BlockDriver.aio_rw) for a read, write or flush, if it has
 * one for this request; false means use the synchronous functions.  bdrv_aio_poll
 * completes finished requests of bs and its file child now (for drain).
 */
bool bdrv_aio_rw(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                 int64_t bytes, struct iovec *iov, int niov, int flags,
                 BlockCompletionFunc *cb, void *opaque);
void bdrv_aio_poll(BlockDriverState *bs);

#endif
