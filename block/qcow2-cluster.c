/*
 * qcow2 cluster mapping (spec "Cluster mapping"): the L1 table in memory, L2 tables through
 * the cache, allocation and copy-on-write of L2 tables, growing L1, the metadata flush order
 * and marking an image corrupt.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include <stdarg.h>

int qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree char *msg = NULL;
    va_list ap;

    if (s->corrupt) {
        return -EIO;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    s->corrupt = true;
    if (bs->read_only || s->version < 3) {
        error_report("qcow2: Image is corrupt: %s; further corruption events will be "
                     "suppressed", msg);
        return -EIO;
    }
    error_report("qcow2: Marking image as corrupt: %s; further corruption events will be "
                 "suppressed", msg);
    /* The corrupt bit (spec "incompatible features" bit 1) keeps it from being written. */
    s->incompat |= QCOW2_INCOMPAT_CORRUPT;
    qcow2_write_header_u64(bs, 72, s->incompat);
    return -EIO;
}

int qcow2_write_header_u64(BlockDriverState *bs, int offset, uint64_t value)
{
    uint8_t buf[8];

    qcow2_st64(buf, value);
    return bdrv_pwrite_sync(bs->file, offset, 8, buf);
}

int qcow2_write_header_u32(BlockDriverState *bs, int offset, uint32_t value)
{
    uint8_t buf[4];

    qcow2_st32(buf, value);
    return bdrv_pwrite_sync(bs->file, offset, 4, buf);
}

/* The L2 table of L1 entry l1e, checked: 0 if none, -EIO if corrupt. */
static int64_t l2_table_offset(BlockDriverState *bs, uint64_t l1i)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->l1_table[l1i] & L1E_OFFSET_MASK;

    if (off && ((off & (s->cluster_size - 1)) || off < s->cluster_size)) {
        return qcow2_signal_corruption(bs, "L2 table offset %#" PRIx64 " unaligned or in "
                                       "the header area (L1 index %#" PRIx64 ")", off, l1i);
    }
    return off;
}

static int check_l2_entry(BlockDriverState *bs, uint64_t l2e, uint64_t guest_off)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = l2e & L2E_OFFSET_MASK, coff, clen;

    switch (qcow2_l2_entry_type(l2e)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        if ((off & (s->cluster_size - 1)) || off < s->cluster_size) {
            return qcow2_signal_corruption(bs, "Cluster offset %#" PRIx64 " unaligned or in "
                                           "the header area (guest offset %#" PRIx64 ")",
                                           off, guest_off);
        }
        break;
    case QCOW2_CLUSTER_COMPRESSED:
        qcow2_compressed_decode(l2e, s->cluster_bits, &coff, &clen);
        if (coff < s->cluster_size) {
            return qcow2_signal_corruption(bs, "Compressed cluster at %#" PRIx64 " in the "
                                           "header area (guest offset %#" PRIx64 ")",
                                           coff, guest_off);
        }
        break;
    case QCOW2_CLUSTER_ZERO_PLAIN:
        if (s->version < 3) {
            return qcow2_signal_corruption(bs, "Zero cluster in a version 2 image (guest "
                                           "offset %#" PRIx64 ")", guest_off);
        }
        break;
    default:
        break;
    }
    return 0;
}

int qcow2_get_l2_entry(BlockDriverState *bs, uint64_t guest_off, uint64_t *l2e)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1i = guest_off >> (s->cluster_bits + s->l2_bits);
    uint64_t l2i = (guest_off >> s->cluster_bits) & (s->l2_size - 1);
    uint8_t *table;
    int64_t l2off;
    int ret;

    *l2e = 0;
    if (l1i >= s->l1_size) {
        return 0;
    }
    l2off = l2_table_offset(bs, l1i);
    if (l2off <= 0) {
        return l2off;
    }
    ret = qcow2_cache_get(bs, &s->l2_cache, l2off, false, &table);
    if (ret < 0) {
        return ret;
    }
    *l2e = qcow2_ld64(table + l2i * 8);
    ret = check_l2_entry(bs, *l2e, guest_off);
    if (ret < 0) {
        *l2e = 0;
    }
    return ret;
}

/*
 * A normal cluster's L2 entry from the cache alone: true with *l2e set when the table is
 * cached and the entry is a normal cluster with a sane host offset.  Anything else (table
 * not cached, other kinds, entries check_l2_entry would report) is false with nothing done,
 * so the caller takes the synchronous path, which reads, reports or signals corruption.
 */
bool qcow2_peek_normal_l2_entry(BlockDriverState *bs, uint64_t guest_off, uint64_t *l2e)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1i = guest_off >> (s->cluster_bits + s->l2_bits);
    uint64_t l2i = (guest_off >> s->cluster_bits) & (s->l2_size - 1);
    uint64_t l2off, off;
    uint8_t *table;

    if (l1i >= s->l1_size) {
        return false;
    }
    l2off = s->l1_table[l1i] & L1E_OFFSET_MASK;
    if (!l2off || (l2off & (s->cluster_size - 1)) || l2off < s->cluster_size) {
        return false;
    }
    table = qcow2_cache_peek(&s->l2_cache, l2off);
    if (!table) {
        return false;
    }
    *l2e = qcow2_ld64(table + l2i * 8);
    off = *l2e & L2E_OFFSET_MASK;
    return qcow2_l2_entry_type(*l2e) == QCOW2_CLUSTER_NORMAL &&
           !(off & (s->cluster_size - 1)) && off >= s->cluster_size;
}

int qcow2_get_l2_for_write(BlockDriverState *bs, uint64_t guest_off, uint8_t **table,
                           uint64_t *index)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1i = guest_off >> (s->cluster_bits + s->l2_bits);
    int64_t l2off, nl2;
    g_autofree uint8_t *copy = NULL;
    int ret;

    *index = (guest_off >> s->cluster_bits) & (s->l2_size - 1);
    if (l1i >= s->l1_size) {
        return -EIO;
    }
    l2off = l2_table_offset(bs, l1i);
    if (l2off < 0) {
        return l2off;
    }
    if (l2off && (s->l1_table[l1i] & QCOW_OFLAG_COPIED)) {
        return qcow2_cache_get(bs, &s->l2_cache, l2off, false, table);
    }
    if (l2off) {
        /* Shared with a snapshot: the active L1 gets its own copy (spec "refcount 1"). */
        ret = qcow2_cache_get(bs, &s->l2_cache, l2off, false, table);
        if (ret < 0) {
            return ret;
        }
        copy = g_memdup2(*table, s->cluster_size);
    }
    nl2 = qcow2_alloc_clusters(bs, 1);
    if (nl2 < 0) {
        return nl2;
    }
    ret = qcow2_cache_get(bs, &s->l2_cache, nl2, true, table);
    if (ret < 0) {
        return ret;
    }
    if (copy) {
        memcpy(*table, copy, s->cluster_size);
        qcow2_free_deferred(bs, l2off, s->cluster_size);
    }
    qcow2_cache_mark_dirty(&s->l2_cache, *table);
    if (l2off) {
        qcow2_overlap_remove(s, l2off);     /* now the snapshot's (inactive) table only */
    }
    qcow2_overlap_add(s, nl2, QCOW2_OL_ACTIVE_L2);
    s->l1_table[l1i] = nl2 | QCOW_OFLAG_COPIED;
    s->l1_dirty = true;
    return 0;
}

static int write_l1(BlockDriverState *bs, uint64_t offset, uint32_t entries)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t bytes = ROUND_UP((uint64_t)entries * 8, 512);
    g_autofree uint64_t *be = g_malloc0(MAX(bytes, 8));

    for (uint32_t i = 0; i < s->l1_size && i < entries; i++) {
        be[i] = GUINT64_TO_BE(s->l1_table[i]);
    }
    /* Whole sectors: the rest of a partial sector of the table is zero. */
    return bdrv_pwrite(bs->file, offset, bytes, be);
}

int qcow2_flush_metadata(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    ret = qcow2_cache_writeback(bs, &s->rb_cache);
    if (ret > 0 && !s->lazy_refcounts) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_cache_writeback(bs, &s->l2_cache);
    if (ret < 0) {
        return ret;
    }
    if (s->l1_dirty) {
        /* The L2 tables it points to first. */
        ret = bdrv_flush(bs->file);
        if (ret == 0) {
            ret = write_l1(bs, s->l1_table_offset, s->l1_size);
        }
        if (ret < 0) {
            return ret;
        }
        s->l1_dirty = false;
    }
    if (s->pending_frees->len) {
        /* Only once nothing on disk refers to them any more. */
        ret = bdrv_flush(bs->file);
        if (ret == 0) {
            ret = qcow2_apply_pending_frees(bs);
        }
        if (ret == 0) {
            ret = qcow2_cache_writeback(bs, &s->rb_cache);
        }
    }
    return ret < 0 ? ret : 0;
}

int qcow2_grow_l1(BlockDriverState *bs, uint64_t min_size)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t old_off = s->l1_table_offset, old_size = s->l1_size;
    uint64_t new_size, bytes;
    int64_t new_off;
    uint8_t hdr[12];
    int ret;

    if (min_size <= s->l1_size) {
        return 0;
    }
    if (min_size * 8 > QCOW2_MAX_L1_BYTES) {
        return -EFBIG;
    }
    /* Grow by half again at least, as QEMU does, so repeated resizes stay cheap. */
    new_size = MAX(min_size, MIN(s->l1_size + s->l1_size / 2, QCOW2_MAX_L1_BYTES / 8));
    bytes = ROUND_UP(new_size * 8, s->cluster_size);
    ret = qcow2_flush_metadata(bs);
    if (ret < 0) {
        return ret;
    }
    new_off = qcow2_alloc_clusters(bs, bytes >> s->cluster_bits);
    if (new_off < 0) {
        return new_off;
    }
    ret = qcow2_cache_writeback(bs, &s->rb_cache);
    if (ret >= 0) {
        s->l1_table = g_renew(uint64_t, s->l1_table, new_size);
        memset(s->l1_table + s->l1_size, 0, (new_size - s->l1_size) * 8);
        s->l1_size = new_size;
        ret = write_l1(bs, new_off, new_size);
    }
    if (ret >= 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        s->l1_size = old_size;
        return ret;
    }
    qcow2_st32(hdr, new_size);
    qcow2_st64(hdr + 4, new_off);
    ret = bdrv_pwrite_sync(bs->file, 36, 12, hdr);
    if (ret < 0) {
        s->l1_size = old_size;
        return ret;
    }
    s->l1_table_offset = new_off;
    if (old_size) {
        ret = qcow2_update_refcount(bs, old_off,
                                    ROUND_UP(old_size * 8, s->cluster_size), -1);
    }
    return ret;
}
