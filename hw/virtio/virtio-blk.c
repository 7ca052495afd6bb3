/*
 * virtio-blk (virtio 1.2 section 5.2).  A request (5.2.6) is a 16-byte header the device
 * reads (type, reserved, sector), data, and a status byte the device writes last.  Types:
 * IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES (one segment each, as QEMU).
 *
 * A chain without room for the header or the status byte breaks the device (virtio_error):
 * there is nowhere to report the failure.  Everything else the guest can get wrong (sector
 * ranges past the end, unaligned lengths, unknown types, writes to a read-only disk) is
 * answered with IOERR or UNSUPP.  Adjacent reads or writes popped in one batch are merged
 * into one backend request (QEMU's multireq, without the sort): one I/O instead of many for
 * Linux's sequential requests.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio-blk.h"
#include "kite/log.h"
#include "kite/runstate.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_CONFIG_WCE     11
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_T_BARRIER        0x80000000u     /* legacy, ignored */
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
#define VIRTIO_BLK_WZ_F_UNMAP       1
#define VIRTIO_BLK_ID_BYTES         20
#define VIRTIO_BLK_SECTOR_BITS      9
#define VIRTIO_BLK_HDR_SIZE         16
#define VIRTIO_BLK_SEG_SIZE         16              /* discard/write-zeroes segment */
#define VIRTIO_BLK_CONFIG_SIZE      60
#define VIRTIO_BLK_MAX_DISCARD_SECTORS ((1u << 31) >> VIRTIO_BLK_SECTOR_BITS)

typedef struct VirtIOBlockReq {
    VirtQueueElement elem;      /* first: virtqueue_pop allocates the request */
    VirtIOBlock *s;
    VirtQueue *vq;
    uint32_t type;
    uint64_t sector;
    struct iovec *iov;          /* data buffers (header and status byte cut off) */
    int niov;
    size_t size;
    uint8_t *status;
    uint32_t in_len;            /* bytes written to the guest, reported in the used ring */
} VirtIOBlockReq;

/* Several adjacent requests submitted as one. */
typedef struct MultiReq {
    VirtIOBlockReq **reqs;
    unsigned num;
    struct iovec *iov;
    int niov;
} MultiReq;

static VirtIOBlock *vdev_blk(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIOBlock, vdev);
}

static void blk_req_free(VirtIOBlockReq *req)
{
    g_free(req->iov);
    g_free(req);
}

static void blk_req_complete(VirtIOBlockReq *req, uint8_t status)
{
    VirtIOBlock *s = req->s;

    *req->status = status;
    virtqueue_push(req->vq, &req->elem, req->in_len + 1);
    if (s->notify_batch) {
        s->notify_pending |= 1ULL << req->vq->queue_index;
    } else {
        virtio_notify(&s->vdev, req->vq);
    }
    blk_req_free(req);
}

/* Completions between begin and end interrupt the driver once per queue, not per request. */
static void blk_batch_begin(VirtIOBlock *s)
{
    s->notify_batch++;
}

static void blk_batch_end(VirtIOBlock *s)
{
    if (--s->notify_batch == 0) {
        for (unsigned i = 0; s->notify_pending; i++) {
            if (s->notify_pending & (1ULL << i)) {
                s->notify_pending &= ~(1ULL << i);
                virtio_notify(&s->vdev, &s->vdev.vq[i]);
            }
        }
    }
}

static void blk_submit(VirtIOBlockReq *req);

/* Apply werror/rerror: false when the request was parked for a retry (VM stopped). */
static bool blk_handle_error(VirtIOBlockReq *req, int ret)
{
    VirtIOBlock *s = req->s;
    bool is_read = req->type == VIRTIO_BLK_T_IN;
    VirtIOBlkErrorAction action = s->io->error_action
        ? s->io->error_action(s->io_opaque, is_read, ret) : VIRTIO_BLK_ERR_REPORT;

    switch (action) {
    case VIRTIO_BLK_ERR_STOP:
        g_queue_push_tail(&s->retry, req);
        if (s->io->error_stop) {
            s->io->error_stop(s->io_opaque, is_read, ret);
        } else {
            vm_stop_request(RUN_STATE_IO_ERROR);
        }
        return false;
    case VIRTIO_BLK_ERR_IGNORE:
        blk_req_complete(req, VIRTIO_BLK_S_OK);
        return false;
    default:
        blk_req_complete(req, VIRTIO_BLK_S_IOERR);
        return false;
    }
}

static void blk_rw_done(void *opaque, int ret)
{
    VirtIOBlockReq *req = opaque;

    if (ret < 0) {
        blk_handle_error(req, ret);
        return;
    }
    blk_req_complete(req, VIRTIO_BLK_S_OK);
}

static void blk_multi_done(void *opaque, int ret)
{
    MultiReq *mr = opaque;
    VirtIOBlock *s = mr->reqs[0]->s;

    blk_batch_begin(s);
    for (unsigned i = 0; i < mr->num; i++) {
        blk_rw_done(mr->reqs[i], ret);
    }
    blk_batch_end(s);
    g_free(mr->reqs);
    g_free(mr->iov);
    g_free(mr);
}

/* 5.2.6.2: the range must lie inside the disk and match its logical block size. */
static bool blk_range_ok(VirtIOBlock *s, uint64_t sector, uint64_t bytes)
{
    uint64_t total = s->io->getlength(s->io_opaque) >> VIRTIO_BLK_SECTOR_BITS;
    uint64_t align = s->logical_block_size >> VIRTIO_BLK_SECTOR_BITS;

    if (sector & (align - 1) || bytes % s->logical_block_size) {
        return false;
    }
    return sector <= total && (bytes >> VIRTIO_BLK_SECTOR_BITS) <= total - sector;
}

static void blk_discard_wz(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    bool wz = req->type == VIRTIO_BLK_T_WRITE_ZEROES;
    uint8_t seg[VIRTIO_BLK_SEG_SIZE];
    uint64_t sector;
    uint32_t num, flags;

    /* One segment, as the config's max_*_seg says (5.2.6.2). */
    if (req->size != VIRTIO_BLK_SEG_SIZE) {
        blk_req_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    virtio_iov_to_buf(req->iov, req->niov, 0, seg, sizeof(seg));
    sector = ldq_le_p(seg);
    num = ldl_le_p(seg + 8);
    flags = ldl_le_p(seg + 12);
    if ((!wz && flags) || (wz && (flags & ~VIRTIO_BLK_WZ_F_UNMAP))) {
        blk_req_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (num > VIRTIO_BLK_MAX_DISCARD_SECTORS ||
        !blk_range_ok(s, sector, (uint64_t)num << VIRTIO_BLK_SECTOR_BITS)) {
        blk_req_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (s->io->is_read_only(s->io_opaque)) {
        blk_req_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (wz) {
        s->io->pwrite_zeroes(s->io_opaque, sector << VIRTIO_BLK_SECTOR_BITS,
                             (int64_t)num << VIRTIO_BLK_SECTOR_BITS,
                             flags & VIRTIO_BLK_WZ_F_UNMAP, blk_rw_done, req);
    } else {
        s->io->pdiscard(s->io_opaque, sector << VIRTIO_BLK_SECTOR_BITS,
                        (int64_t)num << VIRTIO_BLK_SECTOR_BITS, blk_rw_done, req);
    }
}

/* Requests that need no merging partner (and retries) go here one by one. */
static void blk_submit(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;

    switch (req->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        if (!blk_range_ok(s, req->sector, req->size)) {
            blk_req_complete(req, VIRTIO_BLK_S_IOERR);
            return;
        }
        if (req->type == VIRTIO_BLK_T_IN) {
            req->in_len = req->size;
            s->io->preadv(s->io_opaque, req->sector << VIRTIO_BLK_SECTOR_BITS, req->iov,
                          req->niov, blk_rw_done, req);
        } else {
            s->io->pwritev(s->io_opaque, req->sector << VIRTIO_BLK_SECTOR_BITS, req->iov,
                           req->niov, !s->writeback, blk_rw_done, req);
        }
        return;
    case VIRTIO_BLK_T_FLUSH:
        s->io->flush(s->io_opaque, blk_rw_done, req);
        return;
    case VIRTIO_BLK_T_GET_ID: {
        char id[VIRTIO_BLK_ID_BYTES] = { 0 };

        /* 5.2.6: 20 bytes, NUL-padded, not terminated when the serial is 20 long. */
        if (s->serial) {
            memcpy(id, s->serial, MIN(strlen(s->serial), sizeof(id)));
        }
        req->in_len = virtio_iov_from_buf(req->iov, req->niov, 0, id, sizeof(id));
        blk_req_complete(req, VIRTIO_BLK_S_OK);
        return;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if ((req->type == VIRTIO_BLK_T_DISCARD && !s->discard) ||
            (req->type == VIRTIO_BLK_T_WRITE_ZEROES && !s->write_zeroes)) {
            blk_req_complete(req, VIRTIO_BLK_S_UNSUPP);
            return;
        }
        blk_discard_wz(req);
        return;
    default:
        blk_req_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
}

/* Copy the part [off, off+len) of src into a new iovec array. */
static int iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
                     struct iovec **out)
{
    struct iovec *dst = g_new(struct iovec, n ? n : 1);
    int cnt = 0;

    for (unsigned i = 0; i < n && len > 0; i++) {
        size_t l;

        if (off >= src[i].iov_len) {
            off -= src[i].iov_len;
            continue;
        }
        l = MIN(src[i].iov_len - off, len);
        dst[cnt].iov_base = (uint8_t *)src[i].iov_base + off;
        dst[cnt].iov_len = l;
        cnt++;
        len -= l;
        off = 0;
    }
    *out = dst;
    return cnt;
}

/* Parse the header and find the status byte; false if the chain cannot hold them. */
static bool blk_parse(VirtIOBlockReq *req)
{
    VirtQueueElement *e = &req->elem;
    size_t out_size = virtio_iov_size(e->out_sg, e->out_num);
    size_t in_size = virtio_iov_size(e->in_sg, e->in_num);
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
    struct iovec *last;

    if (out_size < VIRTIO_BLK_HDR_SIZE || in_size < 1) {
        virtio_error(&req->s->vdev, "virtio-blk request without header or status byte");
        return false;
    }
    virtio_iov_to_buf(e->out_sg, e->out_num, 0, hdr, sizeof(hdr));
    req->type = ldl_le_p(hdr) & ~VIRTIO_BLK_T_BARRIER;
    req->sector = ldq_le_p(hdr + 8);
    last = &e->in_sg[e->in_num - 1];
    while (last->iov_len == 0) {
        last--;                 /* in_size >= 1: some in buffer has a byte */
    }
    req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    if (req->type == VIRTIO_BLK_T_OUT || req->type == VIRTIO_BLK_T_DISCARD ||
        req->type == VIRTIO_BLK_T_WRITE_ZEROES) {
        req->size = out_size - VIRTIO_BLK_HDR_SIZE;
        req->niov = iov_slice(e->out_sg, e->out_num, VIRTIO_BLK_HDR_SIZE, req->size,
                              &req->iov);
    } else {
        req->size = in_size - 1;
        req->niov = iov_slice(e->in_sg, e->in_num, 0, req->size, &req->iov);
    }
    return true;
}

static void blk_submit_multi(VirtIOBlock *s, GPtrArray *batch)
{
    VirtIOBlockReq *first;
    MultiReq *mr;
    int niov = 0;

    if (batch->len == 0) {
        return;
    }
    first = batch->pdata[0];
    if (batch->len == 1) {
        blk_submit(first);
        g_ptr_array_set_size(batch, 0);
        return;
    }
    mr = g_new0(MultiReq, 1);
    mr->num = batch->len;
    mr->reqs = (VirtIOBlockReq **)g_ptr_array_steal(batch, NULL);
    for (unsigned i = 0; i < mr->num; i++) {
        niov += mr->reqs[i]->niov;
    }
    mr->iov = g_new(struct iovec, niov);
    for (unsigned i = 0; i < mr->num; i++) {
        memcpy(mr->iov + mr->niov, mr->reqs[i]->iov, mr->reqs[i]->niov * sizeof(struct iovec));
        mr->niov += mr->reqs[i]->niov;
        if (first->type == VIRTIO_BLK_T_IN) {
            mr->reqs[i]->in_len = mr->reqs[i]->size;
        }
    }
    if (first->type == VIRTIO_BLK_T_IN) {
        s->io->preadv(s->io_opaque, first->sector << VIRTIO_BLK_SECTOR_BITS, mr->iov, mr->niov,
                      blk_multi_done, mr);
    } else {
        s->io->pwritev(s->io_opaque, first->sector << VIRTIO_BLK_SECTOR_BITS, mr->iov, mr->niov,
                       !s->writeback, blk_multi_done, mr);
    }
}

/* Whether req continues the batch: same direction, next sector, bounded size. */
static bool blk_can_merge(GPtrArray *batch, VirtIOBlockReq *req, int niov)
{
    VirtIOBlockReq *prev;

    if (batch->len == 0) {
        return true;
    }
    prev = g_ptr_array_index(batch, batch->len - 1);
    return prev->type == req->type &&
           prev->sector + (prev->size >> VIRTIO_BLK_SECTOR_BITS) == req->sector &&
           niov + req->niov <= VIRTQUEUE_MAX_SIZE && batch->len < 32;
}

/* Pop everything available, merging what can be merged; false if the ring broke. */
static bool blk_process_queue(VirtIOBlock *s, VirtQueue *vq)
{
    g_autoptr(GPtrArray) batch = g_ptr_array_new();
    VirtIOBlockReq *req;
    int batch_niov = 0;
    bool ok = true;

    while ((req = virtqueue_pop(vq, sizeof(VirtIOBlockReq))) != NULL) {
        req->s = s;
        req->vq = vq;
        if (!blk_parse(req)) {
            virtqueue_detach_element(vq, &req->elem);
            blk_req_free(req);
            ok = false;
            break;
        }
        /* Only in-range, aligned reads/writes merge; the rest go through blk_submit. */
        if ((req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_OUT) &&
            blk_range_ok(s, req->sector, req->size) &&
            !(req->type == VIRTIO_BLK_T_OUT && s->io->is_read_only(s->io_opaque))) {
            if (!blk_can_merge(batch, req, batch_niov)) {
                blk_submit_multi(s, batch);
                batch_niov = 0;
            }
            g_ptr_array_add(batch, req);
            batch_niov += req->niov;
            continue;
        }
        blk_submit_multi(s, batch);
        batch_niov = 0;
        if (req->type == VIRTIO_BLK_T_OUT && s->io->is_read_only(s->io_opaque)) {
            blk_req_complete(req, VIRTIO_BLK_S_IOERR);
        } else {
            blk_submit(req);
        }
    }
    blk_submit_multi(s, batch);
    return ok && !s->vdev.broken;
}

static void blk_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = vdev_blk(vdev);

    if (!s->io) {
        return;
    }
    /* While we drain the ring the driver need not notify us (each notification is a VM
     * exit); afterwards ask again and look once more for what arrived meanwhile. */
    blk_batch_begin(s);
    do {
        virtio_queue_set_notification(vq, false);
        if (!blk_process_queue(s, vq)) {
            break;
        }
        virtio_queue_set_notification(vq, true);
    } while (!virtio_queue_empty(vq));
    blk_batch_end(s);
}

/* The power-on cache mode: the backend's (cache=), write-back by default. */
static uint8_t blk_default_writeback(VirtIOBlock *s)
{
    return s->io && s->io->enable_write_cache ? s->io->enable_write_cache(s->io_opaque) : 1;
}

static uint64_t blk_get_features(VirtIODevice *vdev, uint64_t f)
{
    VirtIOBlock *s = vdev_blk(vdev);

    f |= (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
         (1ULL << VIRTIO_BLK_F_TOPOLOGY) | (1ULL << VIRTIO_BLK_F_FLUSH);
    if (s->config_wce) {
        f |= 1ULL << VIRTIO_BLK_F_CONFIG_WCE;
    }
    if (s->num_queues > 1) {
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    }
    if (s->discard) {
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    }
    if (s->write_zeroes) {
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->io && s->io->is_read_only(s->io_opaque)) {
        f |= 1ULL << VIRTIO_BLK_F_RO;
    }
    return f;
}

static void blk_set_features(VirtIODevice *vdev, uint64_t f)
{
    VirtIOBlock *s = vdev_blk(vdev);

    /* A driver that cannot flush gets a writethrough disk (5.2.5.1). */
    s->writeback = virtio_has_feature(f, VIRTIO_BLK_F_FLUSH) ? blk_default_writeback(s) : 0;
}

static void blk_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOBlock *s = vdev_blk(vdev);
    uint32_t bs_sectors = s->logical_block_size >> VIRTIO_BLK_SECTOR_BITS;

    memset(c, 0, VIRTIO_BLK_CONFIG_SIZE);
    stq_le_p(c, s->io ? s->io->getlength(s->io_opaque) >> VIRTIO_BLK_SECTOR_BITS : 0);
    stl_le_p(c + 12, s->queue_size - 2);                   /* seg_max */
    stl_le_p(c + 20, s->logical_block_size);               /* blk_size */
    c[24] = __builtin_ctz(s->physical_block_size / s->logical_block_size);
    stw_le_p(c + 26, 1);                                    /* min_io_size, in blocks */
    c[32] = s->writeback;
    stw_le_p(c + 34, s->num_queues);
    stl_le_p(c + 36, VIRTIO_BLK_MAX_DISCARD_SECTORS);      /* max_discard_sectors */
    stl_le_p(c + 40, 1);                                    /* max_discard_seg */
    stl_le_p(c + 44, bs_sectors);                           /* discard_sector_alignment */
    stl_le_p(c + 48, VIRTIO_BLK_MAX_DISCARD_SECTORS);      /* max_write_zeroes_sectors */
    stl_le_p(c + 52, 1);                                    /* max_write_zeroes_seg */
    c[56] = 1;                                              /* write_zeroes_may_unmap */
}

static void blk_set_config(VirtIODevice *vdev, const uint8_t *c)
{
    VirtIOBlock *s = vdev_blk(vdev);

    /* Only the writeback byte is writable, and only with CONFIG_WCE (5.2.5.1). */
    if (virtio_vdev_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE)) {
        s->writeback = c[32] != 0;
    }
}

static void blk_reset(VirtIODevice *vdev)
{
    VirtIOBlock *s = vdev_blk(vdev);
    VirtIOBlockReq *req;

    /* Requests in flight write into guest memory and the rings: finish them first. */
    if (s->io && s->io->drain) {
        s->io->drain(s->io_opaque);
    }
    while ((req = g_queue_pop_head(&s->retry)) != NULL) {
        virtqueue_detach_element(req->vq, &req->elem);
        blk_req_free(req);
    }
    s->writeback = blk_default_writeback(s);
}

static void blk_vm_state_change(void *opaque, bool running, RunState state)
{
    VirtIOBlock *s = opaque;
    VirtIOBlockReq *req;
    GQueue again = G_QUEUE_INIT;

    if (!running) {
        return;
    }
    /* cont after werror=stop: submit the parked requests again. */
    while ((req = g_queue_pop_head(&s->retry)) != NULL) {
        g_queue_push_tail(&again, req);
    }
    while ((req = g_queue_pop_head(&again)) != NULL) {
        blk_submit(req);
    }
}

static const VirtioDeviceOps virtio_blk_ops = {
    .get_features = blk_get_features,
    .set_features = blk_set_features,
    .get_config = blk_get_config,
    .set_config = blk_set_config,
    .reset = blk_reset,
};

void virtio_blk_realize(VirtIOBlock *s, Error **errp)
{
    if (!s->io) {
        error_setg(errp, "virtio-blk: drive property not set");
        return;
    }
    if (s->num_queues == 0 || s->num_queues > VIRTIO_QUEUE_MAX) {
        error_setg(errp, "virtio-blk: num-queues must be between 1 and %u", VIRTIO_QUEUE_MAX);
        return;
    }
    if (s->queue_size < 4 || s->queue_size > VIRTQUEUE_MAX_SIZE ||
        !IS_POWER_OF_2(s->queue_size)) {
        error_setg(errp, "virtio-blk: queue-size must be a power of 2 between 4 and %u",
                   VIRTQUEUE_MAX_SIZE);
        return;
    }
    if (s->logical_block_size < 512 || s->logical_block_size > 32768 ||
        !IS_POWER_OF_2(s->logical_block_size) || s->physical_block_size == 0 ||
        !IS_POWER_OF_2(s->physical_block_size) ||
        s->physical_block_size < s->logical_block_size) {
        error_setg(errp, "virtio-blk: block sizes must be powers of 2, 512 <= logical <= "
                   "physical");
        return;
    }
    if (s->serial && strlen(s->serial) > VIRTIO_BLK_ID_BYTES) {
        kite_log_mask(LOG_UNIMP, "virtio-blk: serial truncated to %u bytes\n",
                      VIRTIO_BLK_ID_BYTES);
    }
    virtio_init(&s->vdev, "virtio-blk", VIRTIO_ID_BLOCK, &virtio_blk_ops,
                VIRTIO_BLK_CONFIG_SIZE);
    for (uint32_t i = 0; i < s->num_queues; i++) {
        virtio_add_queue(&s->vdev, s->queue_size, blk_handle_output);
    }
    g_queue_init(&s->retry);
    s->writeback = blk_default_writeback(s);
    s->vmstate_entry = vm_state_change_add(blk_vm_state_change, s);
}

void virtio_blk_unrealize(VirtIOBlock *s)
{
    blk_reset(&s->vdev);
    if (s->vmstate_entry) {
        vm_state_change_del(s->vmstate_entry);
        s->vmstate_entry = NULL;
    }
    virtio_cleanup(&s->vdev);
}

/*
 * Requests parked by werror=stop are saved as (queue, head): the descriptor table is guest
 * memory and travels with it, so the destination rebuilds each request from its head and
 * submits it when the VM continues, as QEMU does.  Requests still at the backend were
 * finished by the drain that precedes a save.
 */
static int blk_pre_save(void *opaque)
{
    VirtIOBlock *s = opaque;
    unsigned n = 0;

    if (g_queue_get_length(&s->retry) > VIRTIO_BLK_RETRY_MAX) {
        return -E2BIG;
    }
    for (GList *l = s->retry.head; l; l = l->next) {
        VirtIOBlockReq *req = l->data;

        s->saved_retry_head[n] = req->elem.index;
        s->saved_retry_queue[n] = req->vq->queue_index;
        n++;
    }
    s->saved_retry = n;
    return 0;
}

static int blk_post_load(void *opaque, int version_id)
{
    VirtIOBlock *s = opaque;

    if (s->saved_retry > VIRTIO_BLK_RETRY_MAX) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < s->saved_retry; i++) {
        unsigned q = s->saved_retry_queue[i];
        VirtIOBlockReq *req;

        if (q >= s->num_queues) {
            return -EINVAL;
        }
        req = virtqueue_pop_head(&s->vdev.vq[q], s->saved_retry_head[i],
                                 sizeof(VirtIOBlockReq));
        if (!req) {
            return -EINVAL;
        }
        req->s = s;
        req->vq = &s->vdev.vq[q];
        if (!blk_parse(req)) {
            virtqueue_detach_element(req->vq, &req->elem);
            blk_req_free(req);
            return -EINVAL;
        }
        g_queue_push_tail(&s->retry, req);
    }
    return 0;
}

static bool blk_retry_needed(void *opaque)
{
    return ((VirtIOBlock *)opaque)->saved_retry != 0;
}

static const VMStateDescription vmstate_virtio_blk_retry = {
    .name = "virtio-blk/retry", .version_id = 1, .minimum_version_id = 1,
    .needed = blk_retry_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(saved_retry, VirtIOBlock),
        VMSTATE_UINT16_ARRAY(saved_retry_head, VirtIOBlock, VIRTIO_BLK_RETRY_MAX),
        VMSTATE_UINT8_ARRAY(saved_retry_queue, VirtIOBlock, VIRTIO_BLK_RETRY_MAX),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_virtio_blk = {
    .name = "virtio-blk", .version_id = 1, .minimum_version_id = 1,
    .pre_save = blk_pre_save,
    .post_load = blk_post_load,
    .subsections = (const VMStateDescription *const[]) { &vmstate_virtio_blk_retry, NULL },
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(vdev, VirtIOBlock, vmstate_virtio, VirtIODevice),
        VMSTATE_UINT8(writeback, VirtIOBlock),
        VMSTATE_END_OF_LIST()
    },
};
