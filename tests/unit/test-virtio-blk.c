/*
 * virtio-blk over a memory disk: reads and writes (scattered buffers), merging of adjacent
 * requests, FLUSH, GET_ID, DISCARD and WRITE_ZEROES, out-of-range and malformed requests,
 * read-only disks, the werror/rerror actions (report, ignore, stop + retry on cont), the
 * config space with CONFIG_WCE, and reset with requests in flight.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/runstate.h"
#include "kite/main-loop.h"
#include "block/block.h"
#include "hw/virtio/virtio-blk.h"

#define RAM_SIZE    (1 * MiB)
#define DISK_SIZE   (1 * MiB)
#define QN          16
#define RING        0x10000
#define HDRS        0x20000         /* request headers, 0x20 each */
#define STATUS      0x30000         /* status bytes, 1 each */
#define DATA        0x40000

static uint8_t *ram, *disk;
static uint16_t avail_idx, seen_used, next_desc;

/* --- the memory disk --- */

typedef struct Pending {
    VirtIOBlkIOCB *cb;
    void *opaque;
    int ret;
} Pending;

static struct {
    unsigned reads, writes, flushes, discards, zeroes, drains;
    bool last_fua, last_unmap;
    bool no_notify_seen;
    bool writethrough;          /* the backend's cache=writethrough */        /* used->flags had NO_NOTIFY during a write */
    bool read_only;
    bool defer;
    int fail_next;              /* -errno for the next request */
    VirtIOBlkErrorAction action;
    GQueue pending;
} io;

static void io_finish(VirtIOBlkIOCB *cb, void *opaque, int ret)
{
    if (io.fail_next) {
        ret = io.fail_next;
        io.fail_next = 0;
    }
    if (io.defer) {
        Pending *p = g_new(Pending, 1);
        p->cb = cb;
        p->opaque = opaque;
        p->ret = ret;
        g_queue_push_tail(&io.pending, p);
        return;
    }
    cb(opaque, ret);
}

static void io_run_pending(void)
{
    Pending *p;

    while ((p = g_queue_pop_head(&io.pending)) != NULL) {
        p->cb(p->opaque, p->ret);
        g_free(p);
    }
}

static void io_preadv(void *o, int64_t off, struct iovec *iov, int niov, VirtIOBlkIOCB *cb,
                      void *opaque)
{
    io.reads++;
    for (int i = 0; i < niov; i++) {
        g_assert_cmpint(off + iov[i].iov_len, <=, DISK_SIZE);
        memcpy(iov[i].iov_base, disk + off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    io_finish(cb, opaque, 0);
}

static void io_pwritev(void *o, int64_t off, struct iovec *iov, int niov, bool fua,
                       VirtIOBlkIOCB *cb, void *opaque)
{
    io.writes++;
    io.last_fua = fua;
    io.no_notify_seen = lduw_le_p(ram + RING + 0x200) & VRING_USED_F_NO_NOTIFY;
    for (int i = 0; i < niov; i++) {
        g_assert_cmpint(off + iov[i].iov_len, <=, DISK_SIZE);
        memcpy(disk + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    io_finish(cb, opaque, 0);
}

static void io_flush(void *o, VirtIOBlkIOCB *cb, void *opaque)
{
    io.flushes++;
    io_finish(cb, opaque, 0);
}

static void io_pdiscard(void *o, int64_t off, int64_t bytes, VirtIOBlkIOCB *cb, void *opaque)
{
    io.discards++;
    g_assert_cmpint(off + bytes, <=, DISK_SIZE);
    io_finish(cb, opaque, 0);
}

static void io_pwrite_zeroes(void *o, int64_t off, int64_t bytes, bool unmap,
                             VirtIOBlkIOCB *cb, void *opaque)
{
    io.zeroes++;
    io.last_unmap = unmap;
    g_assert_cmpint(off + bytes, <=, DISK_SIZE);
    memset(disk + off, 0, bytes);
    io_finish(cb, opaque, 0);
}

static int64_t io_getlength(void *o) { return DISK_SIZE; }
static bool io_is_read_only(void *o) { return io.read_only; }
static VirtIOBlkErrorAction io_error_action(void *o, bool is_read, int err)
{
    return io.action;
}
static bool io_enable_write_cache(void *o)
{
    return !io.writethrough;
}

static void io_drain(void *o)
{
    io.drains++;
    io_run_pending();
}

static const VirtIOBlkIO mem_io = {
    .preadv = io_preadv, .pwritev = io_pwritev, .flush = io_flush, .pdiscard = io_pdiscard,
    .pwrite_zeroes = io_pwrite_zeroes, .getlength = io_getlength,
    .is_read_only = io_is_read_only, .error_action = io_error_action, .drain = io_drain,
    .enable_write_cache = io_enable_write_cache,
};

static void *ram_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    if (gpa >= RAM_SIZE) {
        return NULL;
    }
    *plen = MIN(*plen, RAM_SIZE - gpa);
    return ram + gpa;
}

static void ram_unmap(void *opaque, void *host, uint64_t len, bool w, uint64_t alen)
{
}

static const VirtioMemOps ram_mem = { .map = ram_map, .unmap = ram_unmap };

/* --- driver side --- */

typedef struct Buf {
    uint64_t addr;
    uint32_t len;
    bool write;
} Buf;

static VirtIOBlock *dev;
static unsigned notifies;

static void count_notify(void *opaque, uint16_t vector)
{
    notifies++;
}

static const VirtioBusOps count_bus = { .notify = count_notify };

/* Post a request: header, data buffers, status byte; returns its number (for status). */
static unsigned post_req(uint32_t type, uint64_t sector, const Buf *data, unsigned ndata)
{
    unsigned n = avail_idx;
    unsigned head = next_desc % QN, d = head;
    uint64_t hdr = HDRS + 0x20 * n;
    Buf all[8];
    unsigned cnt = 0;

    stl_le_p(ram + hdr, type);
    stl_le_p(ram + hdr + 4, 0);
    stq_le_p(ram + hdr + 8, sector);
    all[cnt++] = (Buf){ hdr, 16, false };
    for (unsigned i = 0; i < ndata; i++) {
        all[cnt++] = data[i];
    }
    ram[STATUS + n] = 0xff;
    all[cnt++] = (Buf){ STATUS + n, 1, true };
    for (unsigned i = 0; i < cnt; i++) {
        uint8_t *p = ram + RING + 16 * d;
        unsigned next = (d + 1) % QN;

        stq_le_p(p, all[i].addr);
        stl_le_p(p + 8, all[i].len);
        stw_le_p(p + 12, (all[i].write ? VRING_DESC_F_WRITE : 0) |
                         (i + 1 < cnt ? VRING_DESC_F_NEXT : 0));
        stw_le_p(p + 14, next);
        d = next;
    }
    next_desc += cnt;
    stw_le_p(ram + RING + 0x100 + 4 + 2 * (avail_idx % QN), head);
    avail_idx++;
    stw_le_p(ram + RING + 0x100 + 2, avail_idx);
    return n;
}

static void kick(void)
{
    virtio_queue_notify(&dev->vdev, 0);
}

static uint8_t status_of(unsigned n)
{
    return ram[STATUS + n];
}

/* Used length of the next completion. */
static uint32_t next_used_len(void)
{
    uint8_t *u = ram + RING + 0x200;

    g_assert_cmpuint(lduw_le_p(u + 2), !=, seen_used);
    return ldl_le_p(u + 8 + 8 * (seen_used++ % QN));
}

static void setup(uint64_t features, const char *serial)
{
    Error *err = NULL;

    memset(ram, 0, RAM_SIZE);
    for (unsigned i = 0; i < DISK_SIZE; i++) {
        disk[i] = i * 7 + (i >> 9);
    }
    memset(&io, 0, sizeof(io));
    g_queue_init(&io.pending);
    avail_idx = seen_used = next_desc = 0;
    dev = g_new0(VirtIOBlock, 1);
    dev->io = &mem_io;
    dev->serial = g_strdup(serial);
    dev->num_queues = 1;
    dev->queue_size = QN;
    dev->logical_block_size = 512;
    dev->physical_block_size = 4096;
    dev->discard = dev->write_zeroes = dev->config_wce = true;
    virtio_blk_realize(dev, &err);
    g_assert_null(err);
    virtio_set_mem_ops(&dev->vdev, &ram_mem, NULL);
    virtio_set_bus_ops(&dev->vdev, &count_bus, NULL);
    notifies = 0;
    virtio_reset(&dev->vdev);
    virtio_set_status(&dev->vdev, 3);
    g_assert_true(virtio_set_features(&dev->vdev, features & dev->vdev.host_features));
    virtio_set_status(&dev->vdev, 0x0b);
    virtio_queue_set_num(&dev->vdev, 0, QN);
    virtio_queue_set_rings(&dev->vdev, 0, RING, RING + 0x100, RING + 0x200);
    dev->vdev.vq[0].enabled = true;
    virtio_set_status(&dev->vdev, 0x0f);
}

static void teardown(void)
{
    virtio_blk_unrealize(dev);
    g_free(dev->serial);
    g_free(dev);
    dev = NULL;
}

#define ALL_FEATURES (~0ULL)

static void test_read_write(void)
{
    Buf w[2] = { { DATA, 512, false }, { DATA + 0x3000, 512, false } };
    Buf r[1] = { { DATA + 0x8000, 1024, true } };
    unsigned a, b;

    setup(ALL_FEATURES, NULL);
    memset(ram + DATA, 0xaa, 512);
    memset(ram + DATA + 0x3000, 0xbb, 512);
    a = post_req(1 /* OUT */, 2, w, 2);
    kick();
    g_assert_cmpuint(status_of(a), ==, 0);
    g_assert_cmpuint(next_used_len(), ==, 1);
    g_assert_cmpuint(disk[1024], ==, 0xaa);
    g_assert_cmpuint(disk[1536], ==, 0xbb);
    g_assert_false(io.last_fua);                    /* write-back cache */
    b = post_req(0 /* IN */, 2, r, 1);
    kick();
    g_assert_cmpuint(status_of(b), ==, 0);
    g_assert_cmpuint(next_used_len(), ==, 1025);
    g_assert_cmpmem(ram + DATA + 0x8000, 1024, disk + 1024, 1024);
    teardown();
}

static void test_merge(void)
{
    Buf r[4];
    unsigned n[4];

    setup(ALL_FEATURES, NULL);
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (Buf){ DATA + 0x1000 * i, 512, true };
        n[i] = post_req(0, 10 + i, &r[i], 1);
    }
    kick();
    g_assert_cmpuint(io.reads, ==, 1);              /* four adjacent reads, one I/O */
    /* Notifications were suppressed while popping and are wanted again afterwards. */
    g_assert_cmpuint(lduw_le_p(ram + RING + 0x200) & VRING_USED_F_NO_NOTIFY, ==, 0);
    g_assert_cmpuint(lduw_le_p(ram + RING + 0x200 + 4 + 8 * QN), ==, 4);     /* avail_event */
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmpuint(status_of(n[i]), ==, 0);
        g_assert_cmpuint(next_used_len(), ==, 513);
        g_assert_cmpmem(ram + DATA + 0x1000 * i, 512, disk + 512 * (10 + i), 512);
    }
    /* Not adjacent, or changing direction: separate I/Os. */
    post_req(0, 20, &r[0], 1);
    post_req(0, 30, &r[1], 1);
    r[2].write = false;
    post_req(1, 31, &r[2], 1);
    kick();
    g_assert_cmpuint(io.reads, ==, 3);
    g_assert_cmpuint(io.writes, ==, 1);
    teardown();
}

/* Without EVENT_IDX every notify is an interrupt: a merged batch raises one, not four. */
static void test_one_interrupt_per_batch(void)
{
    Buf r[4];

    setup((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 9) /* FLUSH */, NULL);
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (Buf){ DATA + 0x1000 * i, 512, true };
        post_req(0, 10 + i, &r[i], 1);
    }
    post_req(8 /* GET_ID */, 0, &r[0], 1);
    kick();
    g_assert_cmpuint(lduw_le_p(ram + RING + 0x200 + 2), ==, 5);
    g_assert_cmpuint(notifies, ==, 1);
    teardown();
}

static void test_bad_requests(void)
{
    Buf big = { DATA, 1024, true }, odd = { DATA, 100, true }, id = { DATA, 32, true };
    unsigned a, b, c, d;

    setup(ALL_FEATURES, "KITE-SERIAL-0123456789");
    a = post_req(0, DISK_SIZE / 512 - 1, &big, 1);  /* runs past the end */
    b = post_req(0, 0, &odd, 1);                    /* not whole sectors */
    c = post_req(99, 0, &big, 1);                   /* unknown type */
    d = post_req(8 /* GET_ID */, 0, &id, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 1);
    g_assert_cmpuint(status_of(b), ==, 1);
    g_assert_cmpuint(status_of(c), ==, 2);
    g_assert_cmpuint(status_of(d), ==, 0);
    g_assert_cmpuint(io.reads, ==, 0);
    /* 20 bytes, not NUL-terminated when the serial is that long. */
    g_assert_cmpmem(ram + DATA, 21, "KITE-SERIAL-01234567\0", 21);
    g_assert_false(dev->vdev.broken);
    teardown();
}

static void test_flush_discard_zeroes(void)
{
    Buf seg = { DATA, 16, false };
    unsigned a, b, c, d;

    setup(ALL_FEATURES, NULL);
    a = post_req(4 /* FLUSH */, 0, NULL, 0);
    stq_le_p(ram + DATA, 4);
    stl_le_p(ram + DATA + 8, 2);
    stl_le_p(ram + DATA + 12, 1);                   /* UNMAP */
    b = post_req(13 /* WRITE_ZEROES */, 0, &seg, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 0);
    g_assert_cmpuint(io.flushes, ==, 1);
    g_assert_cmpuint(status_of(b), ==, 0);
    g_assert_true(io.last_unmap);
    for (unsigned i = 2048; i < 3072; i++) {
        g_assert_cmpuint(disk[i], ==, 0);
    }
    g_assert_cmpuint(disk[3072], !=, 0);
    /* Discard must not carry flags; two segments exceed max_discard_seg. */
    seg.addr = DATA + 0x100;
    stq_le_p(ram + DATA + 0x100, 4);
    stl_le_p(ram + DATA + 0x108, 2);
    stl_le_p(ram + DATA + 0x10c, 1);
    c = post_req(11 /* DISCARD */, 0, &seg, 1);
    seg.addr = DATA;
    seg.len = 32;
    stl_le_p(ram + DATA + 12, 0);
    d = post_req(11, 0, &seg, 1);
    kick();
    g_assert_cmpuint(status_of(c), ==, 2);
    g_assert_cmpuint(status_of(d), ==, 2);
    seg.len = 16;
    c = post_req(11, 0, &seg, 1);
    kick();
    g_assert_cmpuint(status_of(c), ==, 0);
    g_assert_cmpuint(io.discards, ==, 1);
    /* A range past the end is an I/O error. */
    stq_le_p(ram + DATA, DISK_SIZE / 512);
    c = post_req(13, 0, &seg, 1);
    kick();
    g_assert_cmpuint(status_of(c), ==, 1);
    teardown();
}

static void test_read_only(void)
{
    Buf w = { DATA, 512, false };
    unsigned a;

    setup(ALL_FEATURES, NULL);
    io.read_only = true;
    g_assert_true(dev->vdev.ops->get_features(&dev->vdev, 0) & (1ULL << 5));
    a = post_req(1, 0, &w, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 1);
    g_assert_cmpuint(io.writes, ==, 0);
    teardown();
}

static void test_error_actions(void)
{
    Buf r = { DATA, 512, true };
    unsigned a;

    setup(ALL_FEATURES, NULL);
    io.fail_next = -EIO;
    io.action = VIRTIO_BLK_ERR_REPORT;
    a = post_req(0, 0, &r, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 1);
    io.fail_next = -EIO;
    io.action = VIRTIO_BLK_ERR_IGNORE;
    a = post_req(0, 0, &r, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 0);

    /* stop: the VM is asked to stop, the request waits and is retried on cont. */
    io.fail_next = -ENOSPC;
    io.action = VIRTIO_BLK_ERR_STOP;
    a = post_req(0, 0, &r, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 0xff);
    g_assert_cmpint(system_take_stop_request(), ==, RUN_STATE_IO_ERROR + 1);
    g_assert_cmpuint(io.reads, ==, 3);
    system_notify_state_change(true, RUN_STATE_RUNNING);
    g_assert_cmpuint(io.reads, ==, 4);
    g_assert_cmpuint(status_of(a), ==, 0);
    teardown();
}

/* A request parked by werror=stop survives save/restore and completes on the destination. */
static void test_retry_migration(void)
{
    Buf r = { DATA, 512, true };
    GByteArray *buf = g_byte_array_new();
    VirtIOBlock *dst = g_new0(VirtIOBlock, 1);
    Error *err = NULL;
    size_t pos = 0;
    unsigned a;

    setup(ALL_FEATURES, NULL);
    io.fail_next = -ENOSPC;
    io.action = VIRTIO_BLK_ERR_STOP;
    a = post_req(0, 7, &r, 1);
    kick();
    g_assert_cmpint(system_take_stop_request(), ==, RUN_STATE_IO_ERROR + 1);
    g_assert_cmpint(vmstate_save(buf, &vmstate_virtio_blk, dev, &err), ==, 0);
    teardown();                                 /* the source goes away */

    dst->io = &mem_io;
    dst->num_queues = 1;
    dst->queue_size = QN;
    dst->logical_block_size = 512;
    dst->physical_block_size = 4096;
    dst->discard = dst->write_zeroes = dst->config_wce = true;   /* same device options */
    virtio_blk_realize(dst, &error_abort);
    virtio_set_mem_ops(&dst->vdev, &ram_mem, NULL);
    if (!vmstate_load(buf->data, buf->len, &pos, &vmstate_virtio_blk, dst, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_cmpuint(g_queue_get_length(&dst->retry), ==, 1);
    g_assert_cmpuint(status_of(a), ==, 0xff);
    system_notify_state_change(true, RUN_STATE_RUNNING);
    g_assert_cmpuint(status_of(a), ==, 0);
    g_assert_cmpmem(ram + DATA, 512, disk + 7 * 512, 512);
    g_assert_cmpuint(next_used_len(), ==, 513);

    virtio_blk_unrealize(dst);
    g_free(dst);
    g_byte_array_free(buf, true);
}

static void test_malformed(void)
{
    uint8_t *p = ram + RING;

    setup(ALL_FEATURES, NULL);
    /* A lone device-readable 8-byte buffer: no full header, no status byte. */
    stq_le_p(p, DATA);
    stl_le_p(p + 8, 8);
    stw_le_p(p + 12, 0);
    stw_le_p(ram + RING + 0x100 + 4, 0);
    stw_le_p(ram + RING + 0x100 + 2, 1);
    kick();
    g_assert_true(dev->vdev.broken);
    g_assert_cmpuint(dev->vdev.status & VIRTIO_CONFIG_S_NEEDS_RESET, !=, 0);
    teardown();
}

static void test_config_wce(void)
{
    Buf w = { DATA, 512, false };

    setup(ALL_FEATURES, NULL);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 0, 4), ==, DISK_SIZE / 512);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 12, 4), ==, QN - 2);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 20, 4), ==, 512);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 24, 1), ==, 3);    /* 4096 = 512 << 3 */
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 34, 2), ==, 1);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 32, 1), ==, 1);
    virtio_config_write(&dev->vdev, 32, 0, 1);                         /* writethrough */
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 32, 1), ==, 0);
    post_req(1, 0, &w, 1);
    kick();
    g_assert_true(io.last_fua);
    teardown();

    /* cache=writethrough on the backend: the device starts writethrough. */
    setup(ALL_FEATURES, NULL);
    io.writethrough = true;
    virtio_set_status(&dev->vdev, 0);
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 32, 1), ==, 0);
    teardown();

    /* A driver without FLUSH gets writethrough. */
    setup(1ULL << VIRTIO_F_VERSION_1, NULL);
    post_req(1, 0, &w, 1);
    kick();
    g_assert_true(io.last_fua);
    g_assert_true(io.no_notify_seen);               /* suppressed while processing */
    g_assert_cmpuint(lduw_le_p(ram + RING + 0x200) & VRING_USED_F_NO_NOTIFY, ==, 0);
    teardown();
}

static void test_reset_inflight(void)
{
    Buf r = { DATA, 512, true };
    unsigned a;

    setup(ALL_FEATURES, NULL);
    io.defer = true;
    a = post_req(0, 0, &r, 1);
    kick();
    g_assert_cmpuint(status_of(a), ==, 0xff);
    g_assert_cmpuint(g_queue_get_length(&io.pending), ==, 1);
    /* Reset drains: the request completes before the rings are forgotten. */
    io.drains = 0;
    virtio_set_status(&dev->vdev, 0);
    g_assert_cmpuint(io.drains, ==, 1);
    g_assert_cmpuint(status_of(a), ==, 0);
    g_assert_cmpuint(g_queue_get_length(&io.pending), ==, 0);
    teardown();
}

/* The same protocol over the block layer: a raw file through a BlockBackend, completions
 * arriving later from the main loop. */
static void test_block_backend(void)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("test-vblk-XXXXXX.raw", &path, NULL);
    Buf w = { DATA, 4096, false }, r = { DATA + 0x2000, 4096, true };
    g_autofree uint8_t *pattern = g_malloc(4096);
    uint8_t back[4096];
    Error *err = NULL;
    BlockBackend *blk;
    unsigned a, b;

    g_assert_cmpint(ftruncate(fd, DISK_SIZE), ==, 0);
    blk = blk_new_open(NULL, path, "raw", NULL, BDRV_O_RDWR, &err);
    g_assert_nonnull(blk);
    setup(ALL_FEATURES, NULL);
    dev->io = &virtio_blk_io_backend;
    dev->io_opaque = blk;
    g_assert_cmpuint(virtio_config_read(&dev->vdev, 0, 4), ==, DISK_SIZE / 512);
    for (unsigned i = 0; i < 4096; i++) {
        pattern[i] = i * 13 + 5;
    }
    memcpy(ram + DATA, pattern, 4096);
    a = post_req(1, 64, &w, 1);
    kick();
    for (int i = 0; i < 1000 && status_of(a) == 0xff; i++) {
        main_loop_wait(false);
    }
    g_assert_cmpuint(status_of(a), ==, 0);
    g_assert_cmpint(pread(fd, back, sizeof(back), 64 * 512), ==, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, 4096);
    b = post_req(0, 64, &r, 1);
    kick();
    for (int i = 0; i < 1000 && status_of(b) == 0xff; i++) {
        main_loop_wait(false);
    }
    g_assert_cmpuint(status_of(b), ==, 0);
    g_assert_cmpmem(ram + DATA + 0x2000, 4096, pattern, 4096);
    /* Four adjacent writes (merged into one backend request), then FLUSH. */
    {
        Buf ws[4];
        unsigned n[5];

        for (unsigned i = 0; i < 4; i++) {
            ws[i] = (Buf){ DATA + 0x4000 + 0x200 * i, 512, false };
            memset(ram + ws[i].addr, 0x30 + i, 512);
            n[i] = post_req(1, 100 + i, &ws[i], 1);
        }
        n[4] = post_req(4, 0, NULL, 0);
        kick();
        for (int i = 0; i < 1000; i++) {
            bool done = true;
            for (unsigned j = 0; j < 5; j++) {
                done &= status_of(n[j]) != 0xff;
            }
            if (done) {
                break;
            }
            main_loop_wait(false);
        }
        for (unsigned i = 0; i < 5; i++) {
            g_assert_cmpuint(status_of(n[i]), ==, 0);
        }
        for (unsigned i = 0; i < 4; i++) {
            g_assert_cmpint(pread(fd, back, 512, (100 + i) * 512), ==, 512);
            g_assert_cmpuint(back[0], ==, 0x30 + i);
            g_assert_cmpuint(back[511], ==, 0x30 + i);
        }
    }
    /* Past the end of the file: an I/O error for the guest, not for Kite. */
    b = post_req(0, DISK_SIZE / 512, &r, 1);
    kick();
    g_assert_cmpuint(status_of(b), ==, 1);
    teardown();
    blk_unref(blk);
    close(fd);
    unlink(path);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    ram = g_malloc0(RAM_SIZE);
    disk = g_malloc0(DISK_SIZE);
    g_test_add_func("/virtio-blk/read-write", test_read_write);
    g_test_add_func("/virtio-blk/merge", test_merge);
    g_test_add_func("/virtio-blk/bad-requests", test_bad_requests);
    g_test_add_func("/virtio-blk/one-interrupt-per-batch", test_one_interrupt_per_batch);
    g_test_add_func("/virtio-blk/flush-discard-zeroes", test_flush_discard_zeroes);
    g_test_add_func("/virtio-blk/read-only", test_read_only);
    g_test_add_func("/virtio-blk/error-actions", test_error_actions);
    g_test_add_func("/virtio-blk/malformed", test_malformed);
    g_test_add_func("/virtio-blk/retry-migration", test_retry_migration);
    g_test_add_func("/virtio-blk/config-wce", test_config_wce);
    g_test_add_func("/virtio-blk/reset-inflight", test_reset_inflight);
    g_test_add_func("/virtio-blk/block-backend", test_block_backend);
    ret = g_test_run();
    g_free(ram);
    g_free(disk);
    return ret;
}
