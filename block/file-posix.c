/*
 * Protocol "file": a POSIX file or host block device.
 *
 * Requests are plain pread/pwrite on one fd (safe from several pool threads at once).  With
 * O_DIRECT (cache=none/directsync) the kernel wants offsets, lengths and buffer addresses
 * aligned to the device's logical block; unaligned requests go through an aligned bounce
 * buffer, writes as read-modify-write of the partial head and tail blocks under a lock.
 *
 * With aio=io_uring (a build with liburing), reads, writes and flushes that need no bounce
 * buffer go to an io_uring owned by the node instead of a pool thread: submitted from the
 * BlockBackend's context, completed there when the ring's eventfd fires.  Short transfers
 * finish synchronously (a read at EOF is zero-filled, as on the pool path).  When the
 * requester's callbacks need only the BQL (BDRV_REQ_BQL_DONE, main loop context), a thread
 * of the ring waits on the eventfd instead and completes them under the BQL: the main loop
 * is not woken for every request (measured: it halved read throughput).
 *
 * Image locking follows QEMU's scheme so that Kite and QEMU exclude each other: open file
 * description (OFD) read locks on single bytes, byte 100+i meaning "I use permission i" and
 * byte 200+i "I do not let others use permission i" (QEMU block/file-posix.c,
 * raw_apply_lock_bytes).  A conflicting holder is found with F_OFD_GETLK for a write lock.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#ifdef CONFIG_LINUX_IO_URING
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include "kite/thread.h"
#endif

/* QEMU's permission bits (include/block/block-common.h) and lock byte bases. */
enum {
    PERM_CONSISTENT_READ = 0x01,
    PERM_WRITE = 0x02,
    PERM_WRITE_UNCHANGED = 0x04,
    PERM_RESIZE = 0x08,
    PERM_COUNT = 4,
};
#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200

static const char *const perm_names[PERM_COUNT] = {
    "consistent read", "write", "write unchanged", "resize",
};

typedef struct FileState {
    int fd;
    bool is_blockdev;
    bool use_lock;
    int lock_held;              /* lock bytes we hold (lock_set layout) */
    bool direct;
    GMutex rmw_lock;            /* serialises O_DIRECT read-modify-write of partial blocks */
    bool use_io_uring;
    /*
     * The length of a regular file, or -1 when unknown (atomic).  Every request checks its
     * range against it (often several times: device, BlockBackend, format), and lseek per
     * check showed in profiles.  QEMU caches a node's length the same way; only this fd
     * changes it (a write past EOF, a zero range, truncate), and each such path updates or
     * drops the cached value.  len_lock orders a refill against a drop so that a length read
     * before a change is never stored after it.
     */
    int64_t len_cache;
    GMutex len_lock;
#ifdef CONFIG_LINUX_IO_URING
    /* aio=io_uring: the ring is set up with the first asynchronous request. */
    struct io_uring ring;
    bool ring_ready;
    int ring_efd;
    KiteContext *ring_ctx;      /* where ring_efd is watched */
    GMutex ring_lock;           /* the SQ and CQ (submitters and reapers may differ) */
    unsigned ring_inflight;
    GThread *reaper;            /* BQL completions: waits on ring_efd (never stopped early) */
    bool reaper_quit;           /* atomic */
    KiteBH *reap_bh;            /* in the main loop, when the reaper cannot get the BQL */
#endif
} FileState;

/* ------------------------------------------------------------- locking */

static int lock_byte(int fd, int byte, short type, bool test, bool *conflict)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = type,
    };

    if (test) {
        if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
            return -errno;
        }
        *conflict = fl.l_type != F_UNLCK;
        return 0;
    }
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* Our lock bytes for (perm, shared): bit i = byte 100+i, bit 8+i = byte 200+i. */
static int lock_set(int perm, int shared)
{
    return (perm & 0xff) | ((~shared & ((1 << PERM_COUNT) - 1)) << 8);
}

/* Hold exactly the bytes of set (read locks), releasing the others we held. */
static int apply_lock_bytes(FileState *s, int set)
{
    for (int i = 0; i < PERM_COUNT; i++) {
        for (int k = 0; k < 2; k++) {
            int bit = 1 << (i + 8 * k), byte = (k ? LOCK_SHARED_BASE : LOCK_PERM_BASE) + i;
            int ret;
            if ((set & bit) == (s->lock_held & bit)) {
                continue;
            }
            ret = lock_byte(s->fd, byte, (set & bit) ? F_RDLCK : F_UNLCK, false, NULL);
            if (ret < 0) {
                return ret;
            }
            s->lock_held ^= bit;
        }
    }
    return 0;
}

/*
 * Use perm and let others use shared (QEMU's BLK_PERM_* bits), as QEMU's
 * raw_apply_lock_bytes / raw_check_lock_bytes: take our bytes, then look for holders of the
 * opposite bytes: someone using a permission we do not share, or not sharing one we use.
 * Our own read locks never conflict with a test for a write lock on the same open file
 * description, so testing after locking is safe.  On a conflict the previous bytes are
 * restored.  force-share (kite-img -U) shares everything.
 */
static int file_lock_perm(BlockDriverState *bs, FileState *s, int perm, int shared,
                          Error **errp)
{
    int old = s->lock_held;
    bool conflict;
    int ret;

    if (!s->use_lock) {
        return 0;
    }
    if (bs->open_flags & BDRV_O_FORCE_SHARE) {
        shared = (1 << PERM_COUNT) - 1;
    }
    ret = apply_lock_bytes(s, lock_set(perm, shared));
    if (ret < 0) {
        goto fail_set;
    }
    for (int i = 0; i < PERM_COUNT; i++) {
        if (perm & (1 << i)) {
            ret = lock_byte(s->fd, LOCK_SHARED_BASE + i, F_WRLCK, true, &conflict);
            if (ret < 0) {
                goto fail_set;
            }
            if (conflict) {
                error_setg(errp, "Failed to get \"%s\" lock", perm_names[i]);
                error_append_hint(errp, "Is another process using the image [%s]?\n",
                                  bs->filename);
                apply_lock_bytes(s, old);
                return -EAGAIN;
            }
        }
        if (!(shared & (1 << i))) {
            ret = lock_byte(s->fd, LOCK_PERM_BASE + i, F_WRLCK, true, &conflict);
            if (ret < 0) {
                goto fail_set;
            }
            if (conflict) {
                error_setg(errp, "Failed to get shared \"%s\" lock", perm_names[i]);
                error_append_hint(errp, "Is another process using the image [%s]?\n",
                                  bs->filename);
                apply_lock_bytes(s, old);
                return -EAGAIN;
            }
        }
    }
    return 0;

fail_set:
    if (ret == -EINVAL || ret == -ENOTSUP || ret == -EOPNOTSUPP) {
        /* No OFD locks on this file system: go on unlocked, as QEMU does. */
        warn_report("'%s': file system does not support locking; opening it unlocked",
                    bs->filename);
        s->use_lock = false;
        return 0;
    }
    apply_lock_bytes(s, old);
    error_setg_errno(errp, -ret, "Failed to lock '%s'", bs->filename);
    return ret;
}

static int file_set_perm(BlockDriverState *bs, int perm, int shared, Error **errp)
{
    return file_lock_perm(bs, bs->opaque, perm, shared, errp);
}

/* --------------------------------------------------------------- open */

/* The smallest size an O_DIRECT read at offset 0 accepts (QEMU probes likewise). */
static uint32_t probe_alignment(FileState *s)
{
    unsigned int sz = 0;

    if (s->is_blockdev && ioctl(s->fd, BLKSSZGET, &sz) == 0 && sz >= 512) {
        return sz;
    }
    for (uint32_t a = 512; a <= 4096; a <<= 1) {
        void *buf = NULL;
        if (posix_memalign(&buf, 4096, a) != 0) {
            break;
        }
        ssize_t n = pread(s->fd, buf, a, 0);
        free(buf);
        if (n >= 0) {
            return a;
        }
    }
    return 4096;
}

static int file_open(BlockDriverState *bs, KiteOpts *opts, int flags, Error **errp)
{
    FileState *s = bs->opaque;
    const char *locking = kite_opts_get(opts, "locking");
    const char *aio = kite_opts_get(opts, "aio");
    int oflags = O_CLOEXEC | (bs->read_only ? O_RDONLY : O_RDWR);
    struct stat st;
    int ret;

    kite_opts_get(opts, "filename");
    if (aio && !strcmp(aio, "io_uring")) {
#ifdef CONFIG_LINUX_IO_URING
        struct io_uring probe;
        /* Fail at open, like QEMU, when the kernel refuses io_uring (io_uring_disabled). */
        ret = io_uring_queue_init(1, &probe, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Unable to use io_uring");
            return ret;
        }
        io_uring_queue_exit(&probe);
        s->use_io_uring = true;
        bs->has_aio = true;
#else
        error_setg(errp, "aio=io_uring is not supported by this build of Kite (no liburing); "
                   "use aio=threads");
        return -EINVAL;
#endif
    } else if (aio && !strcmp(aio, "native")) {
        /*
         * QEMU's Linux AIO engine: asynchronous O_DIRECT requests, so it needs
         * cache.direct=on.  Kite serves such requests from its thread pool, which gives the
         * guest the same semantics; QEMU's command lines keep working.
         */
        if (!(flags & BDRV_O_NOCACHE)) {
            error_setg(errp, "aio=native was specified, but it requires cache.direct=on, "
                       "which was not specified.");
            return -EINVAL;
        }
    } else if (aio && strcmp(aio, "threads")) {
        error_setg(errp, "Invalid parameter 'aio': '%s' (expected threads, io_uring "
                   "or native)", aio);
        return -EINVAL;
    }
    if (!locking || !strcmp(locking, "auto") || !strcmp(locking, "on")) {
        s->use_lock = true;
    } else if (!strcmp(locking, "off")) {
        s->use_lock = false;
    } else {
        error_setg(errp, "Invalid parameter 'locking': '%s' (expected on, off or auto)",
                   locking);
        return -EINVAL;
    }
    if (flags & BDRV_O_NOCACHE) {
        oflags |= O_DIRECT;
        s->direct = true;
    }
    s->fd = open(bs->filename, oflags);
    if (s->fd < 0) {
        ret = -errno;
        if (ret == -EINVAL && s->direct) {
            error_setg(errp, "Could not open '%s': the file system does not support O_DIRECT "
                       "(cache=none/directsync)", bs->filename);
        } else {
            error_setg_errno(errp, -ret, "Could not open '%s'", bs->filename);
        }
        return ret;
    }
    if (fstat(s->fd, &st) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not stat '%s'", bs->filename);
        close(s->fd);
        return ret;
    }
    if (S_ISDIR(st.st_mode)) {
        error_setg(errp, "'%s' is a directory", bs->filename);
        close(s->fd);
        return -EISDIR;
    }
    s->is_blockdev = S_ISBLK(st.st_mode);
    /*
     * A user of the file node itself locks it now; a format node above (BDRV_O_LOCK_LATER)
     * sets the permissions once it knows what it is (a raw node shares what its user does).
     */
    if (!(flags & BDRV_O_LOCK_LATER) &&
        (ret = file_lock_perm(bs, s, bdrv_default_perm(flags), bdrv_default_shared(flags),
                              errp)) < 0) {
        close(s->fd);
        return ret;
    }
    bs->request_alignment = s->direct ? probe_alignment(s) : 1;
    g_mutex_init(&s->rmw_lock);
    g_mutex_init(&s->len_lock);
    s->len_cache = -1;
#ifdef CONFIG_LINUX_IO_URING
    g_mutex_init(&s->ring_lock);
    s->ring_efd = -1;
#endif
    return 0;
}

static void file_ring_close(FileState *s);

static void file_close(BlockDriverState *bs)
{
    FileState *s = bs->opaque;

    file_ring_close(s);
    /* Closing the fd drops its OFD locks. */
    close(s->fd);
    g_mutex_clear(&s->rmw_lock);
    g_mutex_clear(&s->len_lock);
}

/* The file changed size in a way we cannot tell exactly: read it again next time. */
static void file_len_drop(FileState *s)
{
    g_mutex_lock(&s->len_lock);
    __atomic_store_n(&s->len_cache, -1, __ATOMIC_RELEASE);
    g_mutex_unlock(&s->len_lock);
}

/* Bytes up to end were written: the file is at least that long now. */
static void file_len_grew(FileState *s, int64_t end)
{
    int64_t cur = __atomic_load_n(&s->len_cache, __ATOMIC_ACQUIRE);

    if (cur >= 0 && end <= cur) {
        return;             /* unchanged: the common case */
    }
    /* Unknown: a refill may be reading the old length right now; wait for it, then fix. */
    g_mutex_lock(&s->len_lock);
    cur = __atomic_load_n(&s->len_cache, __ATOMIC_ACQUIRE);
    if (cur >= 0 && end > cur) {
        __atomic_store_n(&s->len_cache, end, __ATOMIC_RELEASE);
    }
    g_mutex_unlock(&s->len_lock);
}

/* ----------------------------------------------------------------- I/O */

/* Full-length pread/pwrite over an iovec; a read past EOF is zero-filled. */
/* The same, for the part of the request from byte done on (the rest of a short transfer). */
static int file_rw_from(FileState *s, bool write, int64_t offset, int64_t bytes,
                        struct iovec *iov, int niov, int64_t done)
{
    struct iovec local[64];
    struct iovec *v = niov <= (int)ARRAY_SIZE(local) ? local : g_new(struct iovec, niov);
    int ret = 0;

    memcpy(v, iov, niov * sizeof(*v));
    while (done < bytes) {
        /* Skip the iovec entries already transferred. */
        int first = 0;
        int64_t skip = done;
        while (first < niov && skip >= (int64_t)v[first].iov_len) {
            skip -= v[first].iov_len;
            first++;
        }
        if (first == niov) {
            break;
        }
        struct iovec save = v[first];
        v[first].iov_base = (char *)v[first].iov_base + skip;
        v[first].iov_len -= skip;
        int cnt = MIN(niov - first, IOV_MAX);
        ssize_t n = write ? pwritev(s->fd, v + first, cnt, offset + done)
                          : preadv(s->fd, v + first, cnt, offset + done);
        v[first] = save;
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ret = -errno;
            break;
        }
        if (n == 0) {
            if (write) {
                ret = -EIO;
            } else {
                iov_memset(iov, niov, done, 0, bytes - done);
            }
            break;
        }
        done += n;
    }
    if (v != local) {
        g_free(v);
    }
    return ret;
}

static int file_rw(FileState *s, bool write, int64_t offset, int64_t bytes,
                   struct iovec *iov, int niov)
{
    return file_rw_from(s, write, offset, bytes, iov, niov, 0);
}

static bool iov_aligned(struct iovec *iov, int niov, uint32_t align)
{
    for (int i = 0; i < niov; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (align - 1)) {
            return false;
        }
    }
    return true;
}

/*
 * O_DIRECT with something unaligned: go through an aligned buffer covering whole blocks.
 * A write reads the partial blocks at both ends first (under rmw_lock, so two unaligned
 * writes into one block cannot lose each other's bytes).
 */
static int file_rw_bounce(BlockDriverState *bs, bool write, int64_t offset, int64_t bytes,
                          struct iovec *iov, int niov)
{
    FileState *s = bs->opaque;
    uint32_t align = bs->request_alignment;
    int64_t start = ROUND_DOWN(offset, (int64_t)align);
    int64_t end = ROUND_UP(offset + bytes, (int64_t)align);
    void *buf = NULL;
    struct iovec biov;
    off_t old_len;
    int ret;

    if (posix_memalign(&buf, MAX(align, 4096), end - start) != 0) {
        return -ENOMEM;
    }
    biov.iov_base = buf;
    biov.iov_len = end - start;
    if (!write) {
        ret = file_rw(s, false, start, end - start, &biov, 1);
        if (ret == 0) {
            iov_from_buf(iov, niov, 0, (char *)buf + (offset - start), bytes);
        }
        free(buf);
        return ret;
    }
    g_mutex_lock(&s->rmw_lock);
    ret = 0;
    old_len = s->is_blockdev ? end : lseek(s->fd, 0, SEEK_END);
    if (start != offset || end != offset + bytes) {
        /* Simplest correct choice: read the whole span, then overlay the new bytes. */
        ret = file_rw(s, false, start, end - start, &biov, 1);
    }
    if (ret == 0) {
        iov_to_buf(iov, niov, 0, (char *)buf + (offset - start), bytes);
        ret = file_rw(s, true, start, end - start, &biov, 1);
    }
    /* A padded tail must not grow the file past what was asked for. */
    if (ret == 0 && old_len >= 0 && end > old_len && end > offset + bytes &&
        ftruncate(s->fd, MAX(old_len, offset + bytes)) < 0) {
        ret = -errno;
    }
    if (end > old_len) {
        file_len_drop(s);   /* grown, perhaps padded and cut back */
    }
    g_mutex_unlock(&s->rmw_lock);
    free(buf);
    return ret;
}

static bool needs_bounce(BlockDriverState *bs, int64_t offset, int64_t bytes,
                         struct iovec *iov, int niov)
{
    uint32_t a = bs->request_alignment;

    return a > 1 && (((offset | bytes) & (a - 1)) || !iov_aligned(iov, niov, a));
}

static int file_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                       struct iovec *iov, int niov)
{
    if (needs_bounce(bs, offset, bytes, iov, niov)) {
        return file_rw_bounce(bs, false, offset, bytes, iov, niov);
    }
    return file_rw(bs->opaque, false, offset, bytes, iov, niov);
}

static int file_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                        struct iovec *iov, int niov, int flags)
{
    FileState *s = bs->opaque;
    int ret;

    if (needs_bounce(bs, offset, bytes, iov, niov)) {
        return file_rw_bounce(bs, true, offset, bytes, iov, niov);
    }
    ret = file_rw(s, true, offset, bytes, iov, niov);
    if (ret == 0) {
        file_len_grew(s, offset + bytes);
    }
    return ret;
}

static int file_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags)
{
    FileState *s = bs->opaque;

    if (s->is_blockdev) {
        uint64_t range[2] = { offset, bytes };
        if ((flags & BDRV_REQ_MAY_UNMAP) && ioctl(s->fd, BLKZEROOUT, range) == 0) {
            return 0;
        }
        return -ENOTSUP;
    }
    if ((flags & BDRV_REQ_MAY_UNMAP) &&
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes) == 0) {
        /* A hole past EOF does not extend the file; writes past EOF must. */
        goto extend;
    }
    if (fallocate(s->fd, FALLOC_FL_ZERO_RANGE, offset, bytes) == 0) {
        file_len_grew(s, offset + bytes);
        return 0;
    }
    return -ENOTSUP;     /* the core writes zero buffers */

extend:
    {
        struct stat st;
        if (fstat(s->fd, &st) == 0 && st.st_size < offset + bytes &&
            ftruncate(s->fd, offset + bytes) < 0) {
            return -errno;
        }
    }
    file_len_grew(s, offset + bytes);
    return 0;
}

static int file_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    FileState *s = bs->opaque;

    if (s->is_blockdev) {
        uint64_t range[2] = { offset, bytes };
        return ioctl(s->fd, BLKDISCARD, range) == 0 ? 0 : -errno;
    }
    if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes) < 0) {
        return -errno;
    }
    return 0;
}

static int file_flush(BlockDriverState *bs)
{
    FileState *s = bs->opaque;

    return fdatasync(s->fd) < 0 ? -errno : 0;
}

/* ------------------------------------------------------- aio=io_uring */

#ifdef CONFIG_LINUX_IO_URING
#define FILE_RING_ENTRIES 128

typedef struct FileAioReq {
    FileState *s;
    BdrvAioOp op;
    int64_t offset, bytes;
    struct iovec *iov;
    int niov;
    int flags;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
} FileAioReq;

static void file_ring_reap(FileState *s);

static void file_ring_efd_read(void *opaque)
{
    FileState *s = opaque;
    uint64_t n;

    if (read(s->ring_efd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
        return;
    }
    file_ring_reap(s);
}

/* Under ring_lock.  A request goes on the SQ and is submitted at once. */
static bool file_ring_queue(FileState *s, FileAioReq *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

    if (!sqe) {
        io_uring_submit(&s->ring);
        sqe = io_uring_get_sqe(&s->ring);
        if (!sqe) {
            return false;
        }
    }
    switch (r->op) {
    case BDRV_AIO_READ:
        io_uring_prep_readv(sqe, s->fd, r->iov, r->niov, r->offset);
        break;
    case BDRV_AIO_WRITE:
        io_uring_prep_writev(sqe, s->fd, r->iov, r->niov, r->offset);
        if (r->flags & BDRV_REQ_FUA) {
            sqe->rw_flags = RWF_DSYNC;
        }
        break;
    case BDRV_AIO_FLUSH:
        io_uring_prep_fsync(sqe, s->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
    for (;;) {
        int ret = io_uring_submit(&s->ring);
        if (ret >= 0 || (ret != -EINTR && ret != -EAGAIN)) {
            break;
        }
    }
    s->ring_inflight++;
    return true;
}

/* A finished request's result; short transfers are finished synchronously. */
static int file_aio_result(FileAioReq *r, int res)
{
    if (res < 0) {
        return res;
    }
    if (r->op == BDRV_AIO_FLUSH) {
        return 0;
    }
    if (res >= r->bytes) {
        if (r->op == BDRV_AIO_WRITE) {
            file_len_grew(r->s, r->offset + r->bytes);
        }
        return 0;
    }
    if (r->op == BDRV_AIO_READ && res == 0) {
        iov_memset(r->iov, r->niov, 0, 0, r->bytes);     /* wholly past EOF */
        return 0;
    }
    res = file_rw_from(r->s, r->op == BDRV_AIO_WRITE, r->offset, r->bytes, r->iov, r->niov,
                       res);
    if (res == 0 && r->op == BDRV_AIO_WRITE) {
        file_len_grew(r->s, r->offset + r->bytes);
        if ((r->flags & BDRV_REQ_FUA) && fdatasync(r->s->fd) < 0) {
            res = -errno;
        }
    }
    return res;
}

/* Take every completion off the CQ, then run the callbacks without the lock (a callback
 * may submit the next request). */
static void file_ring_reap(FileState *s)
{
    GSList *done = NULL;
    struct io_uring_cqe *cqe;

    g_mutex_lock(&s->ring_lock);
    while (s->ring_ready && io_uring_peek_cqe(&s->ring, &cqe) == 0) {
        FileAioReq *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;

        io_uring_cqe_seen(&s->ring, cqe);
        s->ring_inflight--;
        if ((res == -EAGAIN || res == -EINTR) && file_ring_queue(s, r)) {
            continue;
        }
        r->ret = res;
        done = g_slist_prepend(done, r);
    }
    g_mutex_unlock(&s->ring_lock);
    done = g_slist_reverse(done);
    for (GSList *l = done; l; l = l->next) {
        FileAioReq *r = l->data;
        r->cb(r->opaque, file_aio_result(r, r->ret));
        g_free(r);
    }
    g_slist_free(done);
}

static void file_ring_reap_bh(void *opaque)
{
    file_ring_reap(opaque);
}

/*
 * The reaper: completions, under the BQL, as soon as the ring's eventfd fires.  It never
 * waits for the BQL (its holder may be draining this ring, or closing it and joining us):
 * when the BQL is busy the main loop reaps instead.
 */
static gpointer file_ring_reaper(gpointer opaque)
{
    FileState *s = opaque;

    kite_thread_set_name("io_uring");
    while (!__atomic_load_n(&s->reaper_quit, __ATOMIC_ACQUIRE)) {
        struct pollfd pfd = { .fd = s->ring_efd, .events = POLLIN };
        uint64_t n;

        if (poll(&pfd, 1, -1) < 0 || __atomic_load_n(&s->reaper_quit, __ATOMIC_ACQUIRE)) {
            continue;
        }
        if (read(s->ring_efd, &n, sizeof(n)) < 0) {
            continue;               /* EAGAIN: someone else took the signal */
        }
        if (bql_trylock()) {
            file_ring_reap(s);
            bql_unlock();
        } else {
            kite_bh_schedule(s->reap_bh);
        }
    }
    return NULL;
}

/* Under ring_lock: the ring exists and its eventfd is watched by ctx. */
static bool file_ring_attach(FileState *s, KiteContext *ctx, bool bql_done)
{
    if (!s->ring_ready) {
        if (io_uring_queue_init(FILE_RING_ENTRIES, &s->ring, 0) < 0) {
            return false;
        }
        s->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->ring_efd < 0 || io_uring_register_eventfd(&s->ring, s->ring_efd) < 0) {
            if (s->ring_efd >= 0) {
                close(s->ring_efd);
                s->ring_efd = -1;
            }
            io_uring_queue_exit(&s->ring);
            return false;
        }
        s->ring_ready = true;
        if (bql_done && ctx == kite_main_context()) {
            s->reap_bh = kite_bh_new_ctx(ctx, file_ring_reap_bh, s);
            s->reaper = g_thread_new("io_uring", file_ring_reaper, s);
        }
    }
    if (s->reaper) {
        /* Its completions run under the BQL outside the main loop: only for requesters
         * that allow it, in the main loop's context (the others take the pool). */
        return bql_done && ctx == kite_main_context();
    }
    if (s->ring_ctx != ctx) {
        /* The BlockBackend moved (it drains first, so nothing is in flight). */
        if (s->ring_ctx) {
            kite_context_set_fd_handler(s->ring_ctx, s->ring_efd, NULL, NULL, NULL);
        }
        kite_context_set_fd_handler(ctx, s->ring_efd, file_ring_efd_read, NULL, s);
        s->ring_ctx = ctx;
    }
    return true;
}

static bool file_aio_rw(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                        int64_t bytes, struct iovec *iov, int niov, int flags,
                        BlockCompletionFunc *cb, void *opaque)
{
    FileState *s = bs->opaque;
    FileAioReq *r;
    bool ok;

    if (!s->use_io_uring || niov > IOV_MAX ||
        (op != BDRV_AIO_FLUSH && needs_bounce(bs, offset, bytes, iov, niov))) {
        return false;
    }
    r = g_new0(FileAioReq, 1);
    *r = (FileAioReq){ .s = s, .op = op, .offset = offset, .bytes = bytes, .iov = iov,
                       .niov = niov, .flags = flags, .cb = cb, .opaque = opaque };
    g_mutex_lock(&s->ring_lock);
    ok = file_ring_attach(s, ctx, flags & BDRV_REQ_BQL_DONE) && file_ring_queue(s, r);
    g_mutex_unlock(&s->ring_lock);
    if (!ok) {
        g_free(r);
    }
    return ok;
}

static void file_aio_poll(BlockDriverState *bs)
{
    FileState *s = bs->opaque;

    if (s->ring_ready) {
        file_ring_reap(s);
    }
}

static void file_ring_close(FileState *s)
{
    if (s->ring_ready) {
        /* Owners drain before closing; finish anything left so no callback is lost. */
        while (s->ring_inflight) {
            struct io_uring_cqe *cqe;
            if (io_uring_wait_cqe(&s->ring, &cqe) < 0) {
                break;
            }
            file_ring_reap(s);
        }
        if (s->reaper) {
            __atomic_store_n(&s->reaper_quit, true, __ATOMIC_RELEASE);
            eventfd_write(s->ring_efd, 1);
            g_thread_join(s->reaper);
            s->reaper = NULL;
            kite_bh_delete(s->reap_bh);
            s->reap_bh = NULL;
        }
        if (s->ring_ctx) {
            kite_context_set_fd_handler(s->ring_ctx, s->ring_efd, NULL, NULL, NULL);
        }
        io_uring_queue_exit(&s->ring);
        close(s->ring_efd);
        s->ring_ready = false;
    }
    g_mutex_clear(&s->ring_lock);
}
#else
static void file_ring_close(FileState *s)
{
}
#endif

static int64_t file_getlength(BlockDriverState *bs)
{
    FileState *s = bs->opaque;
    int64_t len = __atomic_load_n(&s->len_cache, __ATOMIC_ACQUIRE);

    if (len >= 0) {
        return len;
    }
    /* Host block devices (a CD-ROM's medium) may change under us: always ask. */
    if (s->is_blockdev) {
        len = lseek(s->fd, 0, SEEK_END);
        return len < 0 ? -errno : len;
    }
    g_mutex_lock(&s->len_lock);
    len = lseek(s->fd, 0, SEEK_END);
    if (len < 0) {
        len = -errno;
    } else {
        __atomic_store_n(&s->len_cache, len, __ATOMIC_RELEASE);
    }
    g_mutex_unlock(&s->len_lock);
    return len;
}

static int64_t file_get_allocated_file_size(BlockDriverState *bs)
{
    FileState *s = bs->opaque;
    struct stat st;

    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

static int file_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    FileState *s = bs->opaque;

    if (s->is_blockdev) {
        int64_t cur = file_getlength(bs);
        if (size > cur) {
            error_setg(errp, "Cannot grow device files");
            return -EINVAL;
        }
        return 0;
    }
    if (ftruncate(s->fd, size) < 0) {
        int ret = -errno;
        file_len_drop(s);
        error_setg_errno(errp, -ret, "Failed to resize '%s'", bs->filename);
        return ret;
    }
    file_len_drop(s);
    return 0;
}

/* Holes read as zeroes: SEEK_DATA/SEEK_HOLE tell where they are. */
static int file_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                             int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    FileState *s = bs->opaque;
    off_t data, hole;
    int ret = BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;

    *map = offset;
    *file = bs;
    *pnum = bytes;
    if (s->is_blockdev) {
        return ret | BDRV_BLOCK_DATA;
    }
    data = lseek(s->fd, offset, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {        /* only a hole up to EOF */
            return ret | BDRV_BLOCK_ZERO;
        }
        return ret | BDRV_BLOCK_DATA;
    }
    if (data > offset) {
        *pnum = MIN(bytes, data - offset);
        return ret | BDRV_BLOCK_ZERO;
    }
    hole = lseek(s->fd, offset, SEEK_HOLE);
    if (hole > offset) {
        *pnum = MIN(bytes, hole - offset);
    }
    return ret | BDRV_BLOCK_DATA;
}

static int file_create(const char *filename, KiteOpts *opts, Error **errp)
{
    uint64_t size = 0;
    const char *prealloc = kite_opts_get(opts, "preallocation");
    int fd, ret = 0;

    if (!kite_opts_get_size(opts, "size", 1, &size, errp)) {
        return -EINVAL;
    }
    if (prealloc && strcmp(prealloc, "off") && strcmp(prealloc, "falloc") &&
        strcmp(prealloc, "full")) {
        error_setg(errp, "Invalid preallocation mode: '%s'", prealloc);
        return -EINVAL;
    }
    fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not create '%s'", filename);
        return ret;
    }
    if (ftruncate(fd, size) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not resize file");
    } else if (prealloc && strcmp(prealloc, "off") && size &&
               posix_fallocate(fd, 0, size) != 0) {
        ret = -ENOSPC;
        error_setg(errp, "Could not preallocate data for the new file");
    }
    close(fd);
    return ret;
}

static int file_probe(const uint8_t *buf, int len, const char *filename)
{
    return 0;       /* a protocol, never a guessed format */
}

static BlockDriver bdrv_file = {
    .format_name = "file",
    .instance_size = sizeof(FileState),
    .is_protocol = true,
    .probe = file_probe,
    .open = file_open,
    .close = file_close,
    .set_perm = file_set_perm,
    .preadv = file_preadv,
    .pwritev = file_pwritev,
    .pwrite_zeroes = file_pwrite_zeroes,
    .pdiscard = file_pdiscard,
    .flush = file_flush,
#ifdef CONFIG_LINUX_IO_URING
    .aio_rw = file_aio_rw,
    .aio_poll = file_aio_poll,
#endif
    .getlength = file_getlength,
    .get_allocated_file_size = file_get_allocated_file_size,
    .truncate = file_truncate,
    .block_status = file_block_status,
    .create = file_create,
};
BLOCK_DRIVER_REGISTER(bdrv_file)
