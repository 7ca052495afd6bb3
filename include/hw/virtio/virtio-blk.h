/*
 * virtio block device (virtio 1.2 section 5.2), transport-independent.
 *
 * The device reaches its disk through VirtIOBlkIO: asynchronous read/write/flush/discard/
 * write-zeroes completing with cb(opaque, 0 or -errno) in the main loop, and the error
 * policy (werror=/rerror=).  The transport device fills it from its BlockBackend (drive=), so
 * this file carries the protocol only and a unit test can run it over a memory disk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_BLK_H
#define HW_VIRTIO_VIRTIO_BLK_H

#include "hw/virtio/virtio.h"

#define VIRTIO_ID_BLOCK 2

typedef void VirtIOBlkIOCB(void *opaque, int ret);

typedef enum VirtIOBlkErrorAction {
    VIRTIO_BLK_ERR_REPORT,      /* the guest sees VIRTIO_BLK_S_IOERR */
    VIRTIO_BLK_ERR_IGNORE,      /* the guest sees success */
    VIRTIO_BLK_ERR_STOP,        /* the VM stops (io-error); the request is retried on cont */
} VirtIOBlkErrorAction;

typedef struct VirtIOBlkIO {
    void (*preadv)(void *io, int64_t offset, struct iovec *iov, int niov, VirtIOBlkIOCB *cb,
                   void *opaque);
    void (*pwritev)(void *io, int64_t offset, struct iovec *iov, int niov, bool fua,
                    VirtIOBlkIOCB *cb, void *opaque);
    void (*flush)(void *io, VirtIOBlkIOCB *cb, void *opaque);
    void (*pdiscard)(void *io, int64_t offset, int64_t bytes, VirtIOBlkIOCB *cb, void *opaque);
    void (*pwrite_zeroes)(void *io, int64_t offset, int64_t bytes, bool may_unmap,
                          VirtIOBlkIOCB *cb, void *opaque);
    int64_t (*getlength)(void *io);
    bool (*is_read_only)(void *io);
    VirtIOBlkErrorAction (*error_action)(void *io, bool is_read, int error);
    /* For STOP: stop the VM (and report the event); NULL: vm_stop_request(io-error). */
    void (*error_stop)(void *io, bool is_read, int error);
    /* The backend's cache mode (cache=writeback: true); NULL: write-back. */
    bool (*enable_write_cache)(void *io);
    /* Wait for every submitted request to complete (device reset). */
    void (*drain)(void *io);
} VirtIOBlkIO;

#define VIRTIO_BLK_RETRY_MAX 1024

typedef struct VirtIOBlock {
    VirtIODevice vdev;
    const VirtIOBlkIO *io;
    void *io_opaque;
    /* properties (QEMU's names) */
    char *serial;
    uint32_t num_queues;
    uint32_t queue_size;
    uint32_t logical_block_size;
    uint32_t physical_block_size;
    bool discard;
    bool write_zeroes;
    bool config_wce;
    /* state */
    uint8_t writeback;          /* config.writeback: 0 = writethrough (FUA writes) */
    GQueue retry;               /* of VirtIOBlockReq *: waiting for the VM to continue */
    unsigned notify_batch;      /* > 0: completions only mark their queue in notify_pending */
    uint64_t notify_pending;
    /* save/restore of the retry list: queue and head of each parked request */
    uint32_t saved_retry;
    uint16_t saved_retry_head[VIRTIO_BLK_RETRY_MAX];
    uint8_t saved_retry_queue[VIRTIO_BLK_RETRY_MAX];
    void *vmstate_entry;
} VirtIOBlock;

void virtio_blk_realize(VirtIOBlock *s, Error **errp);
void virtio_blk_unrealize(VirtIOBlock *s);

/* VirtIOBlkIO over a BlockBackend (io opaque = the BlockBackend *). */
extern const VirtIOBlkIO virtio_blk_io_backend;

extern const VMStateDescription vmstate_virtio_blk;

#endif
