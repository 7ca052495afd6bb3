/*
 * The block layer, as its users see it: devices, the command line and kite-img.
 *
 * A disk is a graph of BlockDriverState nodes: a format node (raw, qcow2) reads and writes its
 * image through a protocol node (file) below it (bs->file), and may have a backing node.
 * Drivers are synchronous; devices reach the top node through a BlockBackend, whose blk_aio_*
 * calls run the synchronous request on a thread pool and complete in the backend's context
 * (the main loop, or an iothread after blk_set_aio_context).
 *
 * Every function returning int returns 0 (or a byte count where stated) or -errno.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/opts.h"
#include "kite/main-loop.h"
#include <sys/uio.h>

typedef struct BlockDriver BlockDriver;
typedef struct BlockDriverState BlockDriverState;
typedef struct BlockBackend BlockBackend;

#define BDRV_SECTOR_BITS 9
#define BDRV_SECTOR_SIZE (1ULL << BDRV_SECTOR_BITS)

/* Open flags (bdrv_open, blk_new_open); the values are QEMU's. */
#define BDRV_O_RDWR         0x0002
#define BDRV_O_SNAPSHOT     0x0008   /* write to a temporary qcow2 overlay */
#define BDRV_O_NOCACHE      0x0020   /* O_DIRECT (cache=none/directsync) */
#define BDRV_O_UNMAP        0x4000   /* discard=unmap: guest discards reach the host */
#define BDRV_O_NO_BACKING   0x0100   /* do not open the backing file (kite-img info/rebase) */
#define BDRV_O_NO_FLUSH     0x0200   /* flush is a no-op (cache=unsafe) */
#define BDRV_O_NO_IO        0x10000  /* a hint: no guest data I/O (kite-img info) */
#define BDRV_O_PROBED       0x40000  /* internal: the format was guessed, not given */
/* force-share=on / kite-img -U: share every permission with other users (read-only only) */
#define BDRV_O_FORCE_SHARE  0x80000
/* internal: the protocol node is locked by bdrv_open once the format above is known */
#define BDRV_O_LOCK_LATER   0x100000

/*
 * Image locking (QEMU's permissions, its lock bytes, so Kite and QEMU exclude each other):
 * what a user of an image does (perm) and lets other processes do (shared).
 */
#define BLK_PERM_CONSISTENT_READ 0x01
#define BLK_PERM_WRITE           0x02
#define BLK_PERM_WRITE_UNCHANGED 0x04
#define BLK_PERM_RESIZE          0x08
#define BLK_PERM_ALL             0x0f
/* A format's own use of its file (qcow2 metadata): reads; writes and resizes if rw, and
 * nobody else may write (nor resize it while it is written). */
int bdrv_default_perm(int flags);
int bdrv_default_shared(int flags);
/* Change what bs's user does and shares (a raw node passes it to its file; other formats
 * keep their own).  Fails, changing nothing, if another process conflicts. */
int bdrv_set_perm(BlockDriverState *bs, int perm, int shared, Error **errp);

/* Request flags (pwritev, pwrite_zeroes). */
#define BDRV_REQ_FUA        0x1      /* the data is on stable storage when the request completes */
#define BDRV_REQ_MAY_UNMAP  0x2      /* pwrite_zeroes may deallocate (discard) the range */
/* bdrv_aio_rw in the main loop's context: the callback may run in another thread, under the
 * BQL (see blk_set_bql_completions). */
#define BDRV_REQ_BQL_DONE   0x4

/* block_status result bits (QEMU's meanings). */
#define BDRV_BLOCK_DATA          0x01   /* reads come from this node or one below it */
#define BDRV_BLOCK_ZERO          0x02   /* reads return zeroes */
#define BDRV_BLOCK_OFFSET_VALID  0x04   /* *map is the offset in *file */
#define BDRV_BLOCK_ALLOCATED     0x10   /* this layer (not a backing file) defines the content */
#define BDRV_BLOCK_EOF           0x20   /* the range reaches the end of the image */
#define BDRV_BLOCK_COMPRESSED    0x40

/* ------------------------------------------------------------------ nodes */

/*
 * Open a node.  fmt NULL probes the format (raw by probing gets QEMU's warning and refuses
 * writes to sector 0 that would change the probed format).  options (may be NULL; not taken)
 * holds flat dotted keys: the format driver's own ("lazy-refcounts"), node keys
 * ("node-name", "read-only", "cache.direct", "cache.no-flush", "discard", "driver") and the
 * protocol node's prefixed with "file." ("file.locking=off", "file.aio=threads").  filename
 * may be NULL if options has "filename" or "file.filename".  A format node gets bs->file
 * opened before its driver's open runs.  Unknown keys are an error naming the key.
 */
BlockDriverState *bdrv_open(const char *filename, const char *fmt, KiteOpts *options,
                            int flags, Error **errp);
void bdrv_ref(BlockDriverState *bs);
void bdrv_unref(BlockDriverState *bs);         /* closes at zero (children too); NULL ok */
BlockDriverState *bdrv_find_node(const char *node_name);

int bdrv_pread(BlockDriverState *bs, int64_t offset, int64_t bytes, void *buf);
int bdrv_pwrite(BlockDriverState *bs, int64_t offset, int64_t bytes, const void *buf);
/* pwrite, then flush (metadata updates that must be ordered). */
int bdrv_pwrite_sync(BlockDriverState *bs, int64_t offset, int64_t bytes, const void *buf);
int bdrv_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                struct iovec *iov, int niov);
int bdrv_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                 struct iovec *iov, int niov, int flags);
int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags);
int bdrv_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes);
/* Flush this node, then its file and backing children (no-op with BDRV_O_NO_FLUSH). */
int bdrv_flush(BlockDriverState *bs);
int64_t bdrv_getlength(BlockDriverState *bs);  /* guest-visible size in bytes, or -errno */
/* Bytes the image occupies on the host (kite-img info "disk size"), or -errno. */
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp);
/*
 * Status of [offset, offset+bytes): returns BDRV_BLOCK_* bits (>= 0) valid for *pnum bytes
 * (> 0 unless offset is at the end), or -errno.  *map and *file are set with OFFSET_VALID.
 */
int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file);
/*
 * The same through the backing chain (QEMU's bdrv_block_status_above with no base): the
 * status of the first layer that defines the range, ZERO where no layer does; *depth is
 * the number of backing links followed (qemu-img map's "depth").
 */
int bdrv_block_status_above(BlockDriverState *bs, int64_t offset, int64_t bytes,
                            int64_t *pnum, int64_t *map, BlockDriverState **file, int *depth);
bool bdrv_is_read_only(BlockDriverState *bs);
const char *bdrv_get_format_name(BlockDriverState *bs);   /* "raw", "qcow2", "file" */
const char *bdrv_get_node_name(BlockDriverState *bs);
const char *bdrv_get_filename(BlockDriverState *bs);

/* ------------------------------------------------------- formats and tools */

BlockDriver *bdrv_find_format(const char *format_name);    /* NULL if unknown */
/* Format names in registration order, for help and errors. */
void bdrv_iterate_format(void (*fn)(void *opaque, const char *name), void *opaque);
/*
 * Create an image with the named format.  opts: "size" (bytes, required unless a backing
 * file gives it), and the driver's own ("cluster_size", "backing_file", "backing_fmt",
 * "compression_type", "preallocation"...).  Unknown keys are an error naming the key.
 */
int bdrv_create(const char *fmt, const char *filename, KiteOpts *opts, Error **errp);

typedef struct BlockFragInfo {
    uint64_t allocated_clusters;
    uint64_t total_clusters;
    uint64_t fragmented_clusters;
    uint64_t compressed_clusters;
} BlockFragInfo;

typedef struct BdrvCheckResult {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    int64_t image_end_offset;
    BlockFragInfo bfi;
} BdrvCheckResult;

#define BDRV_FIX_LEAKS  0x1
#define BDRV_FIX_ERRORS 0x2

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix);

typedef struct BlockDriverInfo {
    int cluster_size;          /* 0 if the format has no clusters */
    bool is_dirty;
    /*
     * "Format specific information" for kite-img info, in order: keys and values as
     * qemu-img prints them ("compat" -> "1.1", "lazy refcounts" -> "false").  The block
     * layer allocates it before get_info; the driver adds with kite_opts_set.
     */
    KiteOpts *specific;
} BlockDriverInfo;

/* Fills bdi (zeroed first; caller frees bdi->specific with kite_opts_free). */
int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi);
/* The backing node, the name recorded in the image, and its format (NULL if none). */
BlockDriverState *bdrv_get_backing(BlockDriverState *bs);
const char *bdrv_get_backing_filename(BlockDriverState *bs);
const char *bdrv_get_backing_format(BlockDriverState *bs);

/* ------------------------------------------------------------ BlockBackend */

typedef void BlockCompletionFunc(void *opaque, int ret);

/* Open a node (as bdrv_open) and put a backend named name ("" or NULL: anonymous) on it. */
BlockBackend *blk_new_open(const char *name, const char *filename, const char *fmt,
                           KiteOpts *options, int flags, Error **errp);
/* A backend on an existing node (takes a reference to bs). */
BlockBackend *blk_new_with_bs(const char *name, BlockDriverState *bs, Error **errp);
void blk_unref(BlockBackend *blk);              /* drains, detaches, frees; NULL ok */
BlockBackend *blk_by_name(const char *name);   /* -drive id= / -blockdev node-name= */
const char *blk_name(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);

/*
 * What a device with removable media tells the block layer (QEMU's BlockDevOps): the
 * medium was inserted (load) or removed, where its tray is, whether the guest locked it.
 */
typedef struct BlockDevOps {
    void (*change_media_cb)(void *opaque, bool load);
    bool (*is_tray_open)(void *opaque);
    bool (*is_medium_locked)(void *opaque);
    /* The user wants the tray open while the guest locks it (force: unlock it). */
    void (*eject_request_cb)(void *opaque, bool force);
} BlockDevOps;
void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque);
bool blk_dev_has_removable_media(BlockBackend *blk);
bool blk_dev_is_tray_open(BlockBackend *blk);
bool blk_dev_is_medium_locked(BlockBackend *blk);
/* BDRV_O_* the medium was opened with (cache mode, read-only) for query-block. */
int blk_get_open_flags(BlockBackend *blk);
/*
 * Removable media with QEMU's semantics and error messages (block-backend.c).
 * blk_open_tray: 0 when the tray is open; -ENOTSUP not removable, -ENOSYS no tray,
 * -EINPROGRESS locked by the guest (it was sent an eject request; force opens anyway).
 * The medium can be removed or inserted (bs gets a new reference) only with the tray open
 * (or on a device without a tray).
 */
int blk_open_tray(BlockBackend *blk, const char *name, bool force, Error **errp);
bool blk_close_tray(BlockBackend *blk, const char *name, Error **errp);
bool blk_remove_medium(BlockBackend *blk, const char *name, Error **errp);
bool blk_insert_medium(BlockBackend *blk, BlockDriverState *bs, Error **errp);
/* The backend whose medium is bs, or NULL. */
BlockBackend *blk_by_bs(BlockDriverState *bs);
/* QMP eject: open the tray (see blk_open_tray) and remove the medium. */
bool blk_eject(BlockBackend *blk, const char *name, bool force, Error **errp);
/* QMP blockdev-change-medium: open filename (format probed if NULL) read-only like the
 * previous medium, open the tray, swap the medium, close the tray. */
bool blk_change_medium(BlockBackend *blk, const char *name, const char *filename,
                       const char *format, bool force, Error **errp);

/* One device per backend: -EBUSY if another device has it. */
int blk_attach_dev(BlockBackend *blk, void *dev);
/* Lock the medium for the attached device's use (or none without one); see block-backend.c */
int blk_update_perm(BlockBackend *blk, Error **errp);
void blk_detach_dev(BlockBackend *blk, void *dev);
void *blk_get_attached_dev(BlockBackend *blk);

int64_t blk_getlength(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
/* cache=writeback|none|unsafe: true; writethrough|directsync: false (each write is FUA). */
bool blk_enable_write_cache(BlockBackend *blk);
void blk_set_enable_write_cache(BlockBackend *blk, bool wce);

/*
 * Synchronous I/O for device setup and tools.  Requests are checked against the length:
 * beyond the end is -EIO, negative offsets -EIO; writes on a read-only backend -EACCES.
 */
int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf);
int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes, const void *buf, int flags);
int blk_flush(BlockBackend *blk);

/*
 * Asynchronous I/O: cb(opaque, 0 or -errno) runs later in the backend's context (never from
 * inside the call).  The iovec array is copied; the buffers must stay valid until cb.
 */
void blk_aio_preadv(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                     int flags, BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags,
                           BlockCompletionFunc *cb, void *opaque);
/* Wait until every submitted request of blk has completed (its cb has run). */
void blk_drain(BlockBackend *blk);
/* Requests submitted but whose cb has not run yet. */
int blk_in_flight(BlockBackend *blk);

/* Completions run in ctx (an iothread's); NULL means the main loop.  Drains first. */
void blk_set_aio_context(BlockBackend *blk, KiteContext *ctx);
KiteContext *blk_get_aio_context(BlockBackend *blk);
/*
 * The device's completion callbacks need only the BQL (as in the main loop): in the main
 * loop's context they may then run on the pool thread that did the I/O, under the BQL,
 * instead of waking the main loop for each request.
 */
void blk_set_bql_completions(BlockBackend *blk, bool on);

/* werror=/rerror= */
typedef enum BlockdevOnError {
    BLOCKDEV_ON_ERROR_REPORT,
    BLOCKDEV_ON_ERROR_IGNORE,
    BLOCKDEV_ON_ERROR_ENOSPC,     /* stop on ENOSPC, report anything else */
    BLOCKDEV_ON_ERROR_STOP,
    BLOCKDEV_ON_ERROR_AUTO,       /* werror: enospc; rerror: report (QEMU's defaults) */
} BlockdevOnError;

typedef enum BlockErrorAction {
    BLOCK_ERROR_ACTION_REPORT,    /* the guest sees the error */
    BLOCK_ERROR_ACTION_IGNORE,    /* the guest sees success */
    BLOCK_ERROR_ACTION_STOP,      /* the device parks the request and calls blk_error_stop */
} BlockErrorAction;

/* Parse "report|ignore|enospc|stop|auto"; false with an error naming what. */
bool blockdev_on_error_parse(const char *s, const char *what, BlockdevOnError *out,
                             Error **errp);
void blk_set_on_error(BlockBackend *blk, BlockdevOnError rerror, BlockdevOnError werror);
BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error);
/*
 * Carry out an action get_error_action chose (QEMU's blk_error_action): tell the monitor
 * (block_io_error_hook, QMP's BLOCK_IO_ERROR), and for STOP stop the VM in run state
 * io-error (from any thread); the device parks the request and retries it on cont.
 */
void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error);
/* blk_error_action(blk, BLOCK_ERROR_ACTION_STOP, ...). */
void blk_error_stop(BlockBackend *blk, bool is_read, int error);
/* Set by the monitor; error is a positive errno. */
typedef void BlockIOErrorHook(BlockBackend *blk, bool is_read, BlockErrorAction action,
                              int error);
extern BlockIOErrorHook *block_io_error_hook;
/*
 * A device's tray moved (QEMU's blk_dev_change_media_cb -> DEVICE_TRAY_MOVED): QMP eject
 * or blockdev-change-medium, or the guest's START STOP UNIT.  The device is the one
 * attached to blk (its id goes into the event); the monitor sets the hook.
 */
typedef void BlockTrayMovedHook(BlockBackend *blk, bool open);
extern BlockTrayMovedHook *block_tray_moved_hook;
void blk_dev_tray_moved(BlockBackend *blk, bool open);

/* Iterate over named backends (for info block). */
BlockBackend *blk_next(BlockBackend *blk);

#endif
