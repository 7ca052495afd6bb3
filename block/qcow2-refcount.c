/*
 * qcow2 reference counts (spec "Cluster refcounts"): a refcount table whose entries point to
 * refcount blocks, each holding 2^refcount_order-bit counts for consecutive host clusters.
 * A cluster is free when its count is zero (or its refcount block does not exist).
 *
 * New refcount blocks describe themselves: a missing block is placed inside the range of
 * clusters it counts, at a cluster it then counts as used, so allocating never recurses.
 * A full refcount table is replaced by a bigger copy at the end of the image.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include "kite/thread.h"

/* A cluster range [start, end) that a placement must avoid (a run being allocated). */
typedef struct Avoid {
    uint64_t start[2];
    uint64_t end[2];
} Avoid;

static bool avoided(const Avoid *a, uint64_t ci)
{
    for (int i = 0; a && i < 2; i++) {
        if (ci >= a->start[i] && ci < a->end[i]) {
            return true;
        }
    }
    return false;
}

int qcow2_refcount_init(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t bytes = (uint64_t)s->header.refcount_table_clusters << s->cluster_bits;
    int ret;

    s->refcount_order = s->header.refcount_order;
    s->refcount_block_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX
                                             : (1ULL << (1 << s->refcount_order)) - 1;
    s->refcount_table_offset = s->header.refcount_table_offset;
    s->refcount_table_size = bytes / 8;
    s->refcount_table = g_malloc(bytes);
    ret = bdrv_pread(bs->file, s->refcount_table_offset, bytes, s->refcount_table);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the refcount table");
        return ret;
    }
    for (uint64_t i = 0; i < s->refcount_table_size; i++) {
        s->refcount_table[i] = GUINT64_FROM_BE(s->refcount_table[i]);
    }
    s->pending_frees = g_array_new(false, false, sizeof(uint64_t));
    return 0;
}

/* The refcount block for table index i: 0 if none, -errno if the entry is corrupt. */
static int64_t refblock_offset(BlockDriverState *bs, uint64_t i)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off;

    if (i >= s->refcount_table_size) {
        return 0;
    }
    off = s->refcount_table[i] & REFT_OFFSET_MASK;
    if (!off) {
        return 0;
    }
    if ((off & (s->cluster_size - 1)) || off < s->cluster_size) {
        return qcow2_signal_corruption(bs, "Refblock offset %#" PRIx64 " unaligned or in "
                                       "the header (reftable index %#" PRIx64 ")", off, i);
    }
    return off;
}

int qcow2_get_refcount(BlockDriverState *bs, uint64_t ci, uint64_t *refcount)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t rb = refblock_offset(bs, ci >> s->refcount_block_bits);
    uint8_t *table;
    int ret;

    *refcount = 0;
    if (rb <= 0) {
        return rb;
    }
    ret = qcow2_cache_get(bs, &s->rb_cache, rb, false, &table);
    if (ret < 0) {
        return ret;
    }
    *refcount = qcow2_refcount_get(table, ci & ((1ULL << s->refcount_block_bits) - 1),
                                   s->refcount_order);
    return 0;
}

static int write_reftable_entry(BlockDriverState *bs, uint64_t i)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t be = GUINT64_TO_BE(s->refcount_table[i]);

    return bdrv_pwrite(bs->file, s->refcount_table_offset + i * 8, 8, &be);
}

static int grow_reftable(BlockDriverState *bs, uint64_t min_entries, const Avoid *avoid);

/*
 * Make sure refcount block i exists.  Returns 1 if it had to be placed inside the avoided
 * range (the caller's candidate run is no longer free and must be searched again).
 */
static int ensure_refblock(BlockDriverState *bs, uint64_t i, const Avoid *avoid,
                           bool write_entry)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t first = i << s->refcount_block_bits;
    uint64_t n = 1ULL << s->refcount_block_bits;
    uint64_t ci, off;
    uint8_t *table;
    int64_t cur;
    int ret, restart = 0;

    if (i >= s->refcount_table_size) {
        ret = grow_reftable(bs, i + 1, avoid);
        if (ret < 0) {
            return ret;
        }
        restart = 1;    /* the new table took clusters the caller may have chosen */
    }
    cur = refblock_offset(bs, i);
    if (cur != 0) {
        return cur < 0 ? cur : restart;
    }
    /* Every cluster of the range is free (it has no refcount block); skip the caller's. */
    for (ci = first; ci < first + n && avoided(avoid, ci); ci++) {
    }
    if (ci == first + n) {
        ci = first;
        restart = 1;
    }
    if (ci == 0) {
        return qcow2_signal_corruption(bs, "Refcount block 0 is missing");
    }
    off = ci << s->cluster_bits;
    ret = qcow2_cache_get(bs, &s->rb_cache, off, true, &table);
    if (ret < 0) {
        return ret;
    }
    qcow2_refcount_set(table, ci - first, s->refcount_order, 1);
    /* The block must be on disk before the table points to it. */
    ret = bdrv_pwrite(bs->file, off, s->cluster_size, table);
    if (ret == 0 && !s->lazy_refcounts) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        qcow2_cache_discard(&s->rb_cache, off);
        return ret;
    }
    s->refcount_table[i] = off;
    qcow2_overlap_add(s, off, QCOW2_OL_REFCOUNT_BLOCK);
    if (write_entry) {
        ret = write_reftable_entry(bs, i);
        if (ret < 0) {
            return ret;
        }
    }
    return restart;
}

/* Replace the refcount table by one with at least min_entries entries, past the image end. */
static int grow_reftable(BlockDriverState *bs, uint64_t min_entries, const Avoid *avoid)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t old_size = s->refcount_table_size, old_off = s->refcount_table_offset;
    uint64_t old_clusters = (old_size * 8) >> s->cluster_bits;
    uint64_t *old_table = s->refcount_table;
    int64_t flen = bdrv_getlength(bs->file);
    uint64_t p, nclusters, entries;
    uint64_t *be;
    Avoid av = { 0 };
    uint8_t hdr[12];
    int ret;

    if (flen < 0) {
        return flen;
    }
    p = DIV_ROUND_UP((uint64_t)flen, s->cluster_size);
    if (avoid) {
        p = MAX(p, MAX(avoid->end[0], avoid->end[1]));
    }
    entries = MAX(min_entries, old_size * 2);
    for (;;) {
        nclusters = DIV_ROUND_UP(entries * 8, s->cluster_size);
        uint64_t need = ((p + nclusters + 1) >> s->refcount_block_bits) + 2;
        if (entries >= need) {
            break;
        }
        entries = need;
    }
    if (nclusters * s->cluster_size > QCOW2_MAX_REFTABLE_BYTES) {
        return -EFBIG;
    }
    entries = (nclusters * s->cluster_size) / 8;
    s->refcount_table = g_new0(uint64_t, entries);
    memcpy(s->refcount_table, old_table, old_size * 8);
    s->refcount_table_size = entries;
    av.start[0] = p;
    av.end[0] = p + nclusters;
    if (avoid) {
        av.start[1] = avoid->start[0];
        av.end[1] = avoid->end[0];
    }
    /* Blocks for the new table's own clusters (entries go to disk with the table). */
    for (uint64_t i = p >> s->refcount_block_bits;
         i <= (p + nclusters - 1) >> s->refcount_block_bits; i++) {
        ret = ensure_refblock(bs, i, &av, false);
        if (ret < 0) {
            goto fail;
        }
    }
    ret = qcow2_update_refcount(bs, p << s->cluster_bits, nclusters << s->cluster_bits, 1);
    if (ret >= 0) {
        ret = qcow2_cache_writeback(bs, &s->rb_cache);
    }
    if (ret < 0) {
        goto fail;
    }
    be = g_new0(uint64_t, entries);
    for (uint64_t i = 0; i < entries; i++) {
        be[i] = GUINT64_TO_BE(s->refcount_table[i]);
    }
    ret = bdrv_pwrite(bs->file, p << s->cluster_bits, nclusters << s->cluster_bits, be);
    g_free(be);
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        goto fail;
    }
    /* Header fields 48 (offset) and 56 (clusters) in one write. */
    qcow2_st64(hdr, p << s->cluster_bits);
    qcow2_st32(hdr + 8, nclusters);
    ret = bdrv_pwrite_sync(bs->file, 48, 12, hdr);
    if (ret < 0) {
        goto fail;
    }
    s->refcount_table_offset = p << s->cluster_bits;
    s->header.refcount_table_offset = s->refcount_table_offset;
    s->header.refcount_table_clusters = nclusters;
    g_free(old_table);
    return qcow2_update_refcount(bs, old_off, old_clusters << s->cluster_bits, -1);

fail:
    g_free(s->refcount_table);
    s->refcount_table = old_table;
    s->refcount_table_size = old_size;
    qcow2_overlap_rebuild(bs);  /* forget refcount blocks only the dropped table had */
    return ret;
}

int qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int64_t delta)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t mask = (1ULL << s->refcount_block_bits) - 1;
    uint64_t first, last;

    if (bytes == 0) {
        return 0;
    }
    first = offset >> s->cluster_bits;
    last = (offset + bytes - 1) >> s->cluster_bits;
    for (uint64_t ci = first; ci <= last; ci++) {
        uint64_t i = ci >> s->refcount_block_bits;
        int64_t rb = refblock_offset(bs, i);
        uint64_t val, nval;
        uint8_t *table;
        int ret;

        if (rb < 0) {
            return rb;
        }
        if (rb == 0) {
            Avoid av = { .start = { ci, 0 }, .end = { ci + 1, 0 } };
            if (delta < 0) {
                return qcow2_signal_corruption(bs, "Freeing cluster %#" PRIx64 " which has "
                                               "no refcount block", ci << s->cluster_bits);
            }
            ret = ensure_refblock(bs, i, &av, true);
            if (ret < 0) {
                return ret;
            }
            rb = refblock_offset(bs, i);
            if (rb <= 0) {
                return rb < 0 ? rb : -EIO;
            }
        }
        ret = qcow2_cache_get(bs, &s->rb_cache, rb, false, &table);
        if (ret < 0) {
            return ret;
        }
        val = qcow2_refcount_get(table, ci & mask, s->refcount_order);
        if (delta < 0 && val < (uint64_t)-delta) {
            return qcow2_signal_corruption(bs, "Refcount of cluster %#" PRIx64 " would drop "
                                           "below zero", ci << s->cluster_bits);
        }
        if (delta > 0 && s->refcount_max - val < (uint64_t)delta) {
            error_report("qcow2: refcount of cluster %#" PRIx64 " would overflow "
                         "(%d-bit refcounts)", ci << s->cluster_bits, 1 << s->refcount_order);
            return -ERANGE;
        }
        nval = val + delta;
        qcow2_refcount_set(table, ci & mask, s->refcount_order, nval);
        qcow2_cache_mark_dirty(&s->rb_cache, table);
        if (nval == 0) {
            if (ci < s->free_cluster_index) {
                s->free_cluster_index = ci;
            }
            qcow2_cache_discard(&s->l2_cache, ci << s->cluster_bits);
            if ((s->free_byte_offset >> s->cluster_bits) == ci) {
                s->free_byte_offset = 0;
            }
        }
    }
    return 0;
}

int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t limit = (L2E_OFFSET_MASK >> s->cluster_bits);
    uint64_t hint, ci;
    int ret;

    if (n == 0) {
        return -EINVAL;
    }
restart:
    hint = MAX(s->free_cluster_index, 1);
    ci = hint;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t rc;
        if (ci + n > limit) {
            return -EFBIG;
        }
        ret = qcow2_get_refcount(bs, ci + i, &rc);
        if (ret < 0) {
            return ret;
        }
        if (rc) {
            ci = ci + i + 1;
            i = -1;             /* the loop's i++ makes it 0 */
        }
    }
    for (uint64_t i = ci >> s->refcount_block_bits;
         i <= (ci + n - 1) >> s->refcount_block_bits; i++) {
        Avoid av = { .start = { ci, 0 }, .end = { ci + n, 0 } };
        ret = ensure_refblock(bs, i, &av, true);
        if (ret < 0) {
            return ret;
        }
        if (ret == 1) {
            goto restart;
        }
    }
    ret = qcow2_update_refcount(bs, ci << s->cluster_bits, n << s->cluster_bits, 1);
    if (ret < 0) {
        return ret;
    }
    /* With n == 1 every cluster the search skipped is in use. */
    if (ci == hint || n == 1) {
        s->free_cluster_index = ci + n;
    }
    return ci << s->cluster_bits;
}

int64_t qcow2_alloc_bytes(BlockDriverState *bs, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->free_byte_offset;
    int64_t ret;

    /* Share the partly filled cluster if the data fits and its count can take one more. */
    if (off && (off & (s->cluster_size - 1)) &&
        s->cluster_size - (off & (s->cluster_size - 1)) >= bytes) {
        uint64_t rc;
        ret = qcow2_get_refcount(bs, off >> s->cluster_bits, &rc);
        if (ret < 0) {
            return ret;
        }
        if (rc > 0 && rc < s->refcount_max &&
            qcow2_update_refcount(bs, off, 1, 1) == 0) {
            s->free_byte_offset = off + bytes;
            if (!(s->free_byte_offset & (s->cluster_size - 1))) {
                s->free_byte_offset = 0;
            }
            return off;
        }
    }
    ret = qcow2_alloc_clusters(bs, DIV_ROUND_UP(bytes, s->cluster_size));
    if (ret < 0) {
        return ret;
    }
    s->free_byte_offset = ret + bytes;
    if (!(s->free_byte_offset & (s->cluster_size - 1))) {
        s->free_byte_offset = 0;
    }
    return ret;
}

void qcow2_free_deferred(BlockDriverState *bs, uint64_t offset, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t pair[2] = { offset, bytes };

    g_array_append_vals(s->pending_frees, pair, 2);
}

void qcow2_free_entry_deferred(BlockDriverState *bs, uint64_t l2e)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off, bytes;

    switch (qcow2_l2_entry_type(l2e)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qcow2_free_deferred(bs, l2e & L2E_OFFSET_MASK, s->cluster_size);
        break;
    case QCOW2_CLUSTER_COMPRESSED:
        qcow2_compressed_decode(l2e, s->cluster_bits, &off, &bytes);
        qcow2_free_deferred(bs, off, bytes);
        break;
    default:
        break;
    }
}

int qcow2_apply_pending_frees(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;

    /*
     * Asynchronous reads finish under the BQL: its holder cannot wait for them, so it keeps
     * the frees for a later flush (until then those clusters are only leaked, never reused).
     */
    if (s->data_aio > 0 && bql_locked()) {
        return 0;
    }
    /* No freed cluster may be handed out while unlocked data I/O might still touch it. */
    while (s->data_io > 0) {
        g_cond_wait(&s->data_io_cond, &s->lock);
    }
    for (guint i = 0; i + 1 < s->pending_frees->len; i += 2) {
        uint64_t off = g_array_index(s->pending_frees, uint64_t, i);
        uint64_t bytes = g_array_index(s->pending_frees, uint64_t, i + 1);
        int r = qcow2_update_refcount(bs, off, bytes, -1);
        if (r < 0 && ret == 0) {
            ret = r;    /* a failed free is a leak: go on with the others */
        }
    }
    g_array_set_size(s->pending_frees, 0);
    return ret;
}
