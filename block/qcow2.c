/*
 * Format "qcow2" (QEMU copy-on-write v2 and v3, docs/interop/qcow2.txt): open with full
 * header validation, reads (backing file, zero and zlib-compressed clusters), writes with
 * cluster allocation and copy-on-write of partial clusters, zero writes and discard,
 * growing, block status, image creation and information.
 *
 * Requests arrive from the BlockBackend's worker threads; s->lock serialises them, data I/O
 * included, so a cluster is never freed and reused under a request that still uses it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include "kite/cutils.h"

#define RUN_MAX_CLUSTERS 256            /* longest request merged into one host I/O */

static int qcow2_probe(const uint8_t *buf, int len, const char *filename)
{
    if (len >= 8 && qcow2_ld32(buf) == QCOW2_MAGIC && qcow2_ld32(buf + 4) >= 2) {
        return 100;
    }
    return 0;
}

/* -------------------------------------------------------------- iovecs */

/* The part [pos, pos+len) of an iovec array, as a new array (caller frees). */
static struct iovec *iov_slice(struct iovec *iov, int niov, uint64_t pos, uint64_t len,
                               int *out_n)
{
    struct iovec *out = g_new(struct iovec, MAX(niov, 1));
    int n = 0;

    for (int i = 0; i < niov && len; i++) {
        if (pos >= iov[i].iov_len) {
            pos -= iov[i].iov_len;
            continue;
        }
        out[n].iov_base = (uint8_t *)iov[i].iov_base + pos;
        out[n].iov_len = MIN(iov[i].iov_len - pos, len);
        len -= out[n].iov_len;
        pos = 0;
        n++;
    }
    *out_n = n;
    return out;
}

static int file_preadv_part(BlockDriverState *child, uint64_t off, struct iovec *iov, int niov,
                            uint64_t pos, uint64_t len)
{
    int n;
    g_autofree struct iovec *sl = iov_slice(iov, niov, pos, len, &n);

    return bdrv_preadv(child, off, len, sl, n);
}

static int file_pwritev_part(BlockDriverState *child, uint64_t off, struct iovec *iov,
                             int niov, uint64_t pos, uint64_t len)
{
    int n;
    g_autofree struct iovec *sl = iov_slice(iov, niov, pos, len, &n);

    return bdrv_pwritev(child, off, len, sl, n, 0);
}

/* ---------------------------------------------------------------- reads */

/* Guest bytes the backing file defines (zeroes past its end, or without one). */
static int read_backing(BlockDriverState *bs, uint64_t off, struct iovec *iov, int niov,
                        uint64_t pos, uint64_t len)
{
    int64_t blen = bs->backing ? bdrv_getlength(bs->backing) : 0;
    uint64_t n = 0;

    if (blen < 0) {
        return blen;
    }
    if (off < (uint64_t)blen) {
        int ret;
        n = MIN(len, (uint64_t)blen - off);
        ret = file_preadv_part(bs->backing, off, iov, niov, pos, n);
        if (ret < 0) {
            return ret;
        }
    }
    iov_memset(iov, niov, pos + n, 0, len - n);
    return 0;
}

/* Decompress the cluster of a compressed descriptor into s->cluster_cache. */
static int read_compressed(BlockDriverState *bs, uint64_t l2e)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t coff, clen;
    int ret;

    qcow2_compressed_decode(l2e, s->cluster_bits, &coff, &clen);
    if (s->cluster_cache_offset == coff) {
        return 0;
    }
    s->cluster_cache_offset = UINT64_MAX;
    ret = bdrv_pread(bs->file, coff, clen, s->cluster_data);
    if (ret < 0) {
        return ret;
    }
    if (qcow2_inflate(s->cluster_data, clen, s->cluster_cache, s->cluster_size) < 0) {
        error_report("qcow2: compressed cluster at host offset %#" PRIx64 " (%" PRIu64
                     " bytes) does not decompress", coff, clen);
        return -EIO;
    }
    s->cluster_cache_offset = coff;
    return 0;
}

/* The whole current content of the guest cluster at gc with entry l2e, into buf. */
static int read_cluster(BlockDriverState *bs, uint64_t gc, uint64_t l2e, uint8_t *buf)
{
    BDRVQcow2State *s = bs->opaque;
    struct iovec iov = { .iov_base = buf, .iov_len = s->cluster_size };
    int ret;

    switch (qcow2_l2_entry_type(l2e)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return read_backing(bs, gc, &iov, 1, 0, s->cluster_size);
    case QCOW2_CLUSTER_NORMAL:
        return bdrv_pread(bs->file, l2e & L2E_OFFSET_MASK, s->cluster_size, buf);
    case QCOW2_CLUSTER_COMPRESSED:
        ret = read_compressed(bs, l2e);
        if (ret == 0) {
            memcpy(buf, s->cluster_cache, s->cluster_size);
        }
        return ret;
    default:
        memset(buf, 0, s->cluster_size);
        return 0;
    }
}

/* Clusters after the first that can join its run (same kind, contiguous on the host). */
static int extend_run(BlockDriverState *bs, uint64_t off, uint64_t l2e, uint64_t avail,
                      uint64_t *n, bool exact)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2ClusterType t = qcow2_l2_entry_type(l2e);
    uint64_t next_host = (l2e & L2E_OFFSET_MASK) + s->cluster_size;
    int count = 1;

    if (t == QCOW2_CLUSTER_COMPRESSED) {
        return 0;
    }
    while (*n < avail && count < RUN_MAX_CLUSTERS) {
        uint64_t e;
        int ret = qcow2_get_l2_entry(bs, off + *n, &e);
        Qcow2ClusterType t2 = qcow2_l2_entry_type(e);
        if (ret < 0) {
            return ret;
        }
        /* exact (block status): zero clusters only join their own kind, and reserved
         * ones only when their host clusters are contiguous. */
        if (exact && t == QCOW2_CLUSTER_ZERO_PLAIN && t2 != t) {
            break;
        }
        if ((t == QCOW2_CLUSTER_NORMAL || (exact && t == QCOW2_CLUSTER_ZERO_ALLOC))
            ? (t2 != t || (e & L2E_OFFSET_MASK) != next_host)
            : (t == QCOW2_CLUSTER_UNALLOCATED ? t2 != t
               : (t2 != QCOW2_CLUSTER_ZERO_PLAIN && t2 != QCOW2_CLUSTER_ZERO_ALLOC))) {
            break;
        }
        *n += MIN(avail - *n, s->cluster_size);
        next_host += s->cluster_size;
        count++;
    }
    return 0;
}

/* Around guest-data I/O done without s->lock (held on entry and on return). */
static void data_io_begin(BDRVQcow2State *s)
{
    s->data_io++;
    g_mutex_unlock(&s->lock);
}

static void data_io_end(BDRVQcow2State *s)
{
    g_mutex_lock(&s->lock);
    if (--s->data_io == 0) {
        g_cond_broadcast(&s->data_io_cond);
    }
}

static int qcow2_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                        struct iovec *iov, int niov)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t pos = 0;
    int ret = 0;

    g_mutex_lock(&s->lock);
    while (pos < (uint64_t)bytes && ret == 0) {
        uint64_t off = offset + pos, in = off & (s->cluster_size - 1);
        uint64_t n = MIN(bytes - pos, s->cluster_size - in), l2e;

        ret = qcow2_get_l2_entry(bs, off, &l2e);
        if (ret == 0) {
            ret = extend_run(bs, off, l2e, bytes - pos, &n, false);
        }
        if (ret < 0) {
            break;
        }
        switch (qcow2_l2_entry_type(l2e)) {
        case QCOW2_CLUSTER_UNALLOCATED:
            data_io_begin(s);
            ret = read_backing(bs, off, iov, niov, pos, n);
            data_io_end(s);
            break;
        case QCOW2_CLUSTER_NORMAL:
            data_io_begin(s);
            ret = file_preadv_part(bs->file, (l2e & L2E_OFFSET_MASK) + in, iov, niov, pos, n);
            data_io_end(s);
            break;
        case QCOW2_CLUSTER_COMPRESSED:
            ret = read_compressed(bs, l2e);
            if (ret == 0) {
                iov_from_buf(iov, niov, pos, s->cluster_cache + in, n);
            }
            break;
        default:
            iov_memset(iov, niov, pos, 0, n);
            break;
        }
        pos += n;
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

/*
 * Asynchronous reads (aio=io_uring on the file): a read whose clusters are all normal,
 * contiguous on the host and mapped by cached L2 tables goes straight to the file's ring as
 * one request, from the submitting thread, with no pool thread in between (the pool hop and
 * its wake-ups are most of the per-request cost).  Everything else, and any request that
 * finds s->lock busy (a pool thread doing metadata I/O), returns false for the pool path.
 * The request counts in data_io until it completes, so its clusters cannot be freed and
 * reused under it.
 */
typedef struct Qcow2AioRead {
    BlockDriverState *bs;
    BlockCompletionFunc *cb;
    void *opaque;
} Qcow2AioRead;

static void qcow2_aio_read_end(BDRVQcow2State *s)
{
    g_mutex_lock(&s->lock);
    s->data_aio--;
    if (--s->data_io == 0) {
        g_cond_broadcast(&s->data_io_cond);
    }
    g_mutex_unlock(&s->lock);
}

static void qcow2_aio_read_done(void *opaque, int ret)
{
    Qcow2AioRead *r = opaque;

    qcow2_aio_read_end(r->bs->opaque);
    r->cb(r->opaque, ret);
    g_free(r);
}

static bool qcow2_aio_rw(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                         int64_t bytes, struct iovec *iov, int niov, int flags,
                         BlockCompletionFunc *cb, void *opaque)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t in = offset & (s->cluster_size - 1), l2e, e, next_host, pos;
    Qcow2AioRead *r;

    if (op != BDRV_AIO_READ || bytes <= 0 || !bs->file->has_aio ||
        !g_mutex_trylock(&s->lock)) {
        return false;
    }
    if (!qcow2_peek_normal_l2_entry(bs, offset, &l2e)) {
        g_mutex_unlock(&s->lock);
        return false;
    }
    next_host = (l2e & L2E_OFFSET_MASK) + s->cluster_size;
    for (pos = s->cluster_size - in; pos < (uint64_t)bytes; pos += s->cluster_size) {
        if (!qcow2_peek_normal_l2_entry(bs, offset + pos, &e) ||
            (e & L2E_OFFSET_MASK) != next_host) {
            g_mutex_unlock(&s->lock);
            return false;
        }
        next_host += s->cluster_size;
    }
    s->data_io++;
    s->data_aio++;
    g_mutex_unlock(&s->lock);

    /* Submitted without s->lock: a completion may run before bdrv_aio_rw returns. */
    r = g_new(Qcow2AioRead, 1);
    *r = (Qcow2AioRead){ .bs = bs, .cb = cb, .opaque = opaque };
    if (!bdrv_aio_rw(bs->file, ctx, BDRV_AIO_READ, (l2e & L2E_OFFSET_MASK) + in, bytes, iov,
                     niov, flags, qcow2_aio_read_done, r)) {
        g_free(r);
        qcow2_aio_read_end(s);
        return false;
    }
    return true;
}

/* --------------------------------------------------------------- writes */

/* Lazy refcounts: the dirty bit goes on disk before the first unflushed refcount change. */
static int mark_dirty(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    if (!s->lazy_refcounts || (s->incompat & QCOW2_INCOMPAT_DIRTY)) {
        return 0;
    }
    ret = bdrv_flush(bs->file);
    if (ret == 0) {
        ret = qcow2_write_header_u64(bs, 72, s->incompat | QCOW2_INCOMPAT_DIRTY);
    }
    if (ret == 0) {
        s->incompat |= QCOW2_INCOMPAT_DIRTY;
    }
    return ret;
}

static int set_l2_entry(BlockDriverState *bs, uint64_t off, uint64_t l2e)
{
    BDRVQcow2State *s = bs->opaque;
    uint8_t *table;
    uint64_t idx;
    int ret = qcow2_get_l2_for_write(bs, off, &table, &idx);

    if (ret < 0) {
        return ret;
    }
    qcow2_st64(table + idx * 8, l2e);
    qcow2_cache_mark_dirty(&s->l2_cache, table);
    return 0;
}

/* Consecutive guest bytes going to consecutive host bytes, written as one request. */
typedef struct WriteRun {
    uint64_t host, pos, len;
} WriteRun;

static int run_flush(BlockDriverState *bs, WriteRun *r, struct iovec *iov, int niov)
{
    int ret = 0;

    if (r->len) {
        ret = file_pwritev_part(bs->file, r->host, iov, niov, r->pos, r->len);
    }
    r->len = 0;
    return ret;
}

static int run_add(BlockDriverState *bs, WriteRun *r, uint64_t host, uint64_t pos,
                   uint64_t len, struct iovec *iov, int niov)
{
    BDRVQcow2State *s = bs->opaque;

    if (r->len && (r->host + r->len != host || r->pos + r->len != pos ||
                   r->len >= RUN_MAX_CLUSTERS * s->cluster_size)) {
        int ret = run_flush(bs, r, iov, niov);
        if (ret < 0) {
            return ret;
        }
    }
    if (!r->len) {
        r->host = host;
        r->pos = pos;
    }
    r->len += len;
    return 0;
}

static int do_pwritev(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                      struct iovec *iov, int niov)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l2_span = 1ULL << (s->cluster_bits + s->l2_bits);
    WriteRun run = { 0 };
    uint64_t pos = 0;
    int ret;

    if (s->corrupt) {
        return -EIO;
    }
    if (offset + bytes > s->size) {
        return -EIO;
    }
    ret = mark_dirty(bs);
    while (ret == 0 && pos < bytes) {
        uint64_t off = offset + pos, in = off & (s->cluster_size - 1);
        uint64_t n = MIN(bytes - pos, s->cluster_size - in), l2e, host;
        Qcow2ClusterType t;

        /* Data mapped by an L2 table reaches the file before that table may be evicted. */
        if (pos && !(off & (l2_span - 1))) {
            ret = run_flush(bs, &run, iov, niov);
            if (ret < 0) {
                break;
            }
        }
        ret = qcow2_get_l2_entry(bs, off, &l2e);
        if (ret < 0) {
            break;
        }
        t = qcow2_l2_entry_type(l2e);
        if (t == QCOW2_CLUSTER_NORMAL && (l2e & QCOW_OFLAG_COPIED)) {
            ret = qcow2_prevent_overlap(bs, l2e & L2E_OFFSET_MASK, s->cluster_size);
            if (ret == 0) {
                ret = run_add(bs, &run, (l2e & L2E_OFFSET_MASK) + in, pos, n, iov, niov);
            }
            pos += n;
            continue;
        }
        /* A new cluster (or the reserved one of a zero cluster only this image uses). */
        if (t == QCOW2_CLUSTER_ZERO_ALLOC && (l2e & QCOW_OFLAG_COPIED)) {
            host = l2e & L2E_OFFSET_MASK;
        } else {
            int64_t h = qcow2_alloc_clusters(bs, 1);
            if (h < 0) {
                ret = h;
                break;
            }
            host = h;
        }
        ret = qcow2_prevent_overlap(bs, host, s->cluster_size);
        if (ret < 0) {
            break;
        }
        if (n == s->cluster_size) {
            ret = run_add(bs, &run, host, pos, n, iov, niov);
        } else {
            /* Copy-on-write: the old content around the new bytes. */
            g_autofree uint8_t *buf = g_malloc(s->cluster_size);
            ret = run_flush(bs, &run, iov, niov);
            if (ret == 0) {
                ret = read_cluster(bs, off - in, l2e, buf);
            }
            if (ret == 0) {
                iov_to_buf(iov, niov, pos, buf + in, n);
                ret = bdrv_pwrite(bs->file, host, s->cluster_size, buf);
            }
        }
        if (ret == 0) {
            ret = set_l2_entry(bs, off, host | QCOW_OFLAG_COPIED);
        }
        if (ret == 0 && host != (l2e & L2E_OFFSET_MASK)) {
            qcow2_free_entry_deferred(bs, l2e);
        }
        pos += n;
    }
    if (ret == 0) {
        ret = run_flush(bs, &run, iov, niov);
    }
    if (ret == 0 && s->pending_frees->len > 4096) {
        ret = qcow2_flush_metadata(bs);
    }
    return ret;
}

#define INPLACE_MAX_RUNS 16

/*
 * The common case once an image is populated: every cluster of the request is allocated
 * and only this image uses it (COPIED), so no metadata changes.  Find the host runs under
 * the lock and write them without it.  Returns 1 if the request needs do_pwritev.
 */
static int pwritev_in_place(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                            struct iovec *iov, int niov)
{
    BDRVQcow2State *s = bs->opaque;
    WriteRun runs[INPLACE_MAX_RUNS];
    int nruns = 0, ret = 0;
    uint64_t pos = 0;

    if (s->corrupt || offset + bytes > s->size) {
        return 1;
    }
    while (pos < bytes) {
        uint64_t off = offset + pos, in = off & (s->cluster_size - 1);
        uint64_t n = MIN(bytes - pos, s->cluster_size - in), l2e, host;
        if (qcow2_get_l2_entry(bs, off, &l2e) < 0 ||
            qcow2_l2_entry_type(l2e) != QCOW2_CLUSTER_NORMAL || !(l2e & QCOW_OFLAG_COPIED)) {
            return 1;
        }
        host = (l2e & L2E_OFFSET_MASK) + in;
        if (qcow2_overlap_check(s, host - in, s->cluster_size)) {
            return 1;                       /* do_pwritev reports it */
        }
        if (nruns && runs[nruns - 1].host + runs[nruns - 1].len == host) {
            runs[nruns - 1].len += n;
        } else if (nruns == INPLACE_MAX_RUNS) {
            return 1;
        } else {
            runs[nruns++] = (WriteRun) { .host = host, .pos = pos, .len = n };
        }
        pos += n;
    }
    data_io_begin(s);
    for (int i = 0; i < nruns && ret == 0; i++) {
        ret = file_pwritev_part(bs->file, runs[i].host, iov, niov, runs[i].pos, runs[i].len);
    }
    data_io_end(s);
    return ret;
}

static int qcow2_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                         struct iovec *iov, int niov, int flags)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    g_mutex_lock(&s->lock);
    ret = pwritev_in_place(bs, offset, bytes, iov, niov);
    if (ret == 1) {
        ret = do_pwritev(bs, offset, bytes, iov, niov);
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_pwrite_compressed(BlockDriverState *bs, int64_t offset, const void *buf,
                            int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *cluster = g_malloc0(s->cluster_size);
    g_autofree uint8_t *out = g_malloc(s->cluster_size);
    uint64_t l2e, desc;
    int64_t host;
    ssize_t clen;
    int ret;

    if (offset & (s->cluster_size - 1) || bytes > (int64_t)s->cluster_size || bytes <= 0 ||
        (bytes < (int64_t)s->cluster_size && offset + bytes != (int64_t)s->size)) {
        return -EINVAL;     /* whole clusters only (a short last one is padded) */
    }
    memcpy(cluster, buf, bytes);
    clen = qcow2_deflate(cluster, s->cluster_size, out, s->cluster_size - 1);
    if (clen < 0) {
        /* Does not compress: store it as is. */
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes };
        return qcow2_pwritev(bs, offset, bytes, &iov, 1, 0);
    }
    g_mutex_lock(&s->lock);
    ret = s->corrupt ? -EIO : mark_dirty(bs);
    if (ret == 0) {
        ret = qcow2_get_l2_entry(bs, offset, &l2e);
    }
    if (ret < 0) {
        goto out;
    }
    host = qcow2_alloc_bytes(bs, clen);
    if (host < 0) {
        ret = host;
        goto out;
    }
    ret = qcow2_prevent_overlap(bs, host, clen);
    if (ret < 0) {
        goto out;
    }
    if (!qcow2_compressed_encode(host, clen, s->cluster_bits, &desc)) {
        qcow2_free_deferred(bs, host, clen);
        ret = -EFBIG;
        goto out;
    }
    ret = bdrv_pwrite(bs->file, host, clen, out);
    if (ret == 0) {
        ret = set_l2_entry(bs, offset, desc);
    }
    if (ret == 0) {
        qcow2_free_entry_deferred(bs, l2e);
    }
out:
    g_mutex_unlock(&s->lock);
    return ret;
}

/* Set whole clusters [offset, offset+bytes) to zero or discard them (spec "zero flag"). */
static int zero_clusters(BlockDriverState *bs, uint64_t offset, uint64_t bytes, bool unmap,
                         bool discard)
{
    BDRVQcow2State *s = bs->opaque;

    for (uint64_t off = offset; off < offset + bytes; off += s->cluster_size) {
        uint64_t l2e, ne;
        Qcow2ClusterType t;
        int ret = qcow2_get_l2_entry(bs, off, &l2e);

        if (ret < 0) {
            return ret;
        }
        t = qcow2_l2_entry_type(l2e);
        if (t == QCOW2_CLUSTER_ZERO_PLAIN ||
            (t == QCOW2_CLUSTER_UNALLOCATED && (!bs->backing || s->version < 3))) {
            continue;       /* already reads as zeroes */
        }
        if (discard && s->version < 3) {
            ne = 0;         /* a v2 image can only expose the backing file again */
        } else if (!unmap && (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) &&
                   (l2e & QCOW_OFLAG_COPIED)) {
            ne = l2e | QCOW_OFLAG_ZERO;     /* keep the host cluster for later writes */
        } else {
            ne = QCOW_OFLAG_ZERO;
        }
        ret = set_l2_entry(bs, off, ne);
        if (ret < 0) {
            return ret;
        }
        if ((ne & L2E_OFFSET_MASK) != (l2e & L2E_OFFSET_MASK) ||
            t == QCOW2_CLUSTER_COMPRESSED) {
            qcow2_free_entry_deferred(bs, l2e);
        }
    }
    return 0;
}

static int qcow2_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t head = ROUND_UP((uint64_t)offset, s->cluster_size);
    uint64_t tail = ROUND_DOWN((uint64_t)(offset + bytes), s->cluster_size);
    int ret = 0;

    if (s->version < 3) {
        return -ENOTSUP;    /* the block layer writes zero buffers */
    }
    if (offset + bytes == (int64_t)s->size) {
        tail = ROUND_UP(s->size, s->cluster_size);     /* the short last cluster */
    }
    g_mutex_lock(&s->lock);
    if (head >= tail) {
        head = tail = offset + bytes;
    }
    /* Partial clusters at either end: ordinary writes of zeroes. */
    for (int part = 0; part < 2 && ret == 0; part++) {
        uint64_t a = part ? MAX(tail, head) : offset;
        uint64_t b = part ? offset + bytes : MIN(head, (uint64_t)(offset + bytes));
        if (b > a) {
            g_autofree void *z = g_malloc0(b - a);
            struct iovec iov = { .iov_base = z, .iov_len = b - a };
            ret = do_pwritev(bs, a, b - a, &iov, 1);
        }
    }
    if (ret == 0 && tail > head) {
        ret = s->corrupt ? -EIO : mark_dirty(bs);
        if (ret == 0) {
            ret = zero_clusters(bs, head, tail - head, flags & BDRV_REQ_MAY_UNMAP, false);
        }
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static int qcow2_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t head = ROUND_UP((uint64_t)offset, s->cluster_size);
    uint64_t tail = ROUND_DOWN((uint64_t)(offset + bytes), s->cluster_size);
    int ret = 0;

    if (offset + bytes == (int64_t)s->size) {
        tail = ROUND_UP(s->size, s->cluster_size);
    }
    if (tail <= head) {
        return 0;           /* discard is advisory: partial clusters stay */
    }
    g_mutex_lock(&s->lock);
    ret = s->corrupt ? -EIO : mark_dirty(bs);
    if (ret == 0) {
        ret = zero_clusters(bs, head, tail - head, true, true);
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static int qcow2_flush(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    g_mutex_lock(&s->lock);
    ret = qcow2_flush_metadata(bs);
    g_mutex_unlock(&s->lock);
    return ret;
}

static int64_t qcow2_getlength(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    return s->size;
}

static int qcow2_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    if ((uint64_t)size < s->size) {
        error_setg(errp, "Shrinking qcow2 images is not supported");
        return -ENOTSUP;
    }
    if (s->nb_snapshots) {
        error_setg(errp, "Can't resize an image which has snapshots");
        return -ENOTSUP;
    }
    if ((uint64_t)size > QCOW2_MAX_SIZE || !qcow2_l1_entries_for(size, s->cluster_bits)) {
        error_setg(errp, "Image size too large");
        return -EFBIG;
    }
    g_mutex_lock(&s->lock);
    ret = qcow2_grow_l1(bs, qcow2_l1_entries_for(size, s->cluster_bits));
    if (ret == 0) {
        ret = qcow2_write_header_u64(bs, 24, size);
    }
    if (ret == 0) {
        s->size = size;
    }
    g_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to grow the qcow2 image");
    }
    return ret;
}

/*
 * QEMU's qcow2_detect_metadata_preallocation: an image whose refcounts cover clearly more
 * clusters than the host file really occupies was preallocated (metadata or falloc), so
 * "allocated" says little about data.  Called with s->lock held.
 */
static bool qcow2_looks_preallocated(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t flen = bdrv_getlength(bs->file), real = bdrv_get_allocated_file_size(bs->file);
    int64_t real_clusters, threshold, count = 0, end;

    if (flen < 0 || real < 0) {
        return false;
    }
    real_clusters = real / s->cluster_size;
    threshold = MAX(real_clusters * 10 / 9, real_clusters + 2);
    end = DIV_ROUND_UP(flen, s->cluster_size);
    for (int64_t i = 0; i < end && count < threshold; i++) {
        uint64_t rc;
        if (qcow2_get_refcount(bs, i, &rc) < 0) {
            return false;
        }
        count += rc != 0;
    }
    return count >= threshold;
}

static int qcow2_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                              int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t in = offset & (s->cluster_size - 1);
    uint64_t n = MIN((uint64_t)bytes, s->cluster_size - in), l2e;
    int ret;

    g_mutex_lock(&s->lock);
    if (!s->metadata_prealloc_checked) {
        s->metadata_prealloc = qcow2_looks_preallocated(bs);
        s->metadata_prealloc_checked = true;
    }
    ret = qcow2_get_l2_entry(bs, offset, &l2e);
    if (ret == 0) {
        ret = extend_run(bs, offset, l2e, bytes, &n, true);
    }
    g_mutex_unlock(&s->lock);
    if (ret < 0) {
        return ret;
    }
    *pnum = n;
    switch (qcow2_l2_entry_type(l2e)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return 0;
    case QCOW2_CLUSTER_NORMAL:
        *map = (l2e & L2E_OFFSET_MASK) + in;
        *file = bs->file;
        ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
        if (s->metadata_prealloc) {
            /* Ask the file: past its end or in a hole the cluster reads as zero. */
            int64_t fpnum;
            int fst = bdrv_block_status(bs->file, *map, n, &fpnum, NULL, NULL);
            if (fst >= 0) {
                if ((fst & BDRV_BLOCK_EOF) && (!fpnum || (fst & BDRV_BLOCK_ZERO))) {
                    ret |= BDRV_BLOCK_ZERO;
                } else if (fpnum > 0) {
                    *pnum = fpnum;
                    ret |= fst & BDRV_BLOCK_ZERO;
                }
            }
        }
        return ret;
    case QCOW2_CLUSTER_COMPRESSED:
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_COMPRESSED;
    case QCOW2_CLUSTER_ZERO_ALLOC:
        /* Reads as zero, but a host cluster is reserved: say where (qemu-img map). */
        *map = (l2e & L2E_OFFSET_MASK) + in;
        *file = bs->file;
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
    default:
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
    }
}

static int qcow2_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree char *rb = g_strdup_printf("%d", 1 << s->refcount_order);

    bdi->cluster_size = s->cluster_size;
    bdi->is_dirty = !!(s->incompat & QCOW2_INCOMPAT_DIRTY);
    kite_opts_set(bdi->specific, "compat", s->version >= 3 ? "1.1" : "0.10");
    kite_opts_set(bdi->specific, "compression type", "zlib");
    if (s->version >= 3) {
        kite_opts_set(bdi->specific, "lazy refcounts", s->lazy_refcounts ? "true" : "false");
    }
    kite_opts_set(bdi->specific, "refcount bits", rb);
    if (s->version >= 3) {
        kite_opts_set(bdi->specific, "corrupt",
                      (s->incompat & QCOW2_INCOMPAT_CORRUPT) ? "true" : "false");
        kite_opts_set(bdi->specific, "extended l2", "false");
    }
    return 0;
}

static int qcow2_check_locked(BlockDriverState *bs, BdrvCheckResult *res, int fix)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    g_mutex_lock(&s->lock);
    ret = qcow2_check(bs, res, fix);
    if (fix) {
        qcow2_overlap_rebuild(bs);  /* a repair may have changed the tables */
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .instance_size = sizeof(BDRVQcow2State),
    .supports_backing = true,
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .preadv = qcow2_preadv,
    .aio_rw = qcow2_aio_rw,
    .pwritev = qcow2_pwritev,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pdiscard = qcow2_pdiscard,
    .flush = qcow2_flush,
    .getlength = qcow2_getlength,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status,
    .create = qcow2_create,
    .check = qcow2_check_locked,
    .get_info = qcow2_get_info,
};
BLOCK_DRIVER_REGISTER(bdrv_qcow2)
