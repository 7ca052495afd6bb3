/*
 * qcow2 metadata-overlap check: before guest data goes to a host cluster, make sure that
 * cluster holds no metadata.  A corrupt L2 entry or refcount could otherwise point a write
 * at a table and destroy the image.  This matches what QEMU's default overlap-check mode
 * ("cached") covers: the header cluster, the active L1 table, the active L2 tables, the
 * refcount table, the refcount blocks, the snapshot table and the snapshots' (inactive) L1
 * tables.  Inactive L2 tables (QEMU's "all" mode only) would need reading every snapshot's
 * L1 and are not covered.
 *
 * The check runs on every cluster a write touches, so it must not scan tables:
 *  - the active L1 and refcount table and the header are contiguous ranges kept in the
 *    state, compared directly;
 *  - active L2 tables and refcount blocks are single clusters, kept in a hash table keyed by
 *    host cluster index, updated when an L1 or refcount-table entry changes;
 *  - the snapshot table and the inactive L1 tables (fixed after open: Kite does not create
 *    or delete snapshots) are ranges in an array sorted by start, searched by bisection.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"

/* QEMU's names for the kinds of metadata (they appear in the corruption message). */
static const char *const overlap_names[] = {
    [QCOW2_OL_MAIN_HEADER] = "qcow2_header",
    [QCOW2_OL_ACTIVE_L1] = "active L1 table",
    [QCOW2_OL_ACTIVE_L2] = "active L2 table",
    [QCOW2_OL_REFCOUNT_TABLE] = "refcount table",
    [QCOW2_OL_REFCOUNT_BLOCK] = "refcount block",
    [QCOW2_OL_SNAPSHOT_TABLE] = "snapshot table",
    [QCOW2_OL_INACTIVE_L1] = "inactive L1 table",
};

const char *qcow2_overlap_name(Qcow2OverlapKind kind)
{
    return kind > QCOW2_OL_NONE && kind < QCOW2_OL_COUNT ? overlap_names[kind] : "?";
}

/*
 * Hash values pack a reference count (a corrupt image may point two entries at one
 * cluster; removing one must keep the other) with the kind of the first reference.
 */
#define OL_KIND_BITS 8

void qcow2_overlap_add(BDRVQcow2State *s, uint64_t offset, Qcow2OverlapKind kind)
{
    gpointer key = GSIZE_TO_POINTER(offset >> s->cluster_bits);
    gsize v = GPOINTER_TO_SIZE(g_hash_table_lookup(s->overlap_clusters, key));

    v = v ? v + (1 << OL_KIND_BITS) : ((gsize)1 << OL_KIND_BITS) | kind;
    g_hash_table_insert(s->overlap_clusters, key, GSIZE_TO_POINTER(v));
}

void qcow2_overlap_remove(BDRVQcow2State *s, uint64_t offset)
{
    gpointer key = GSIZE_TO_POINTER(offset >> s->cluster_bits);
    gsize v = GPOINTER_TO_SIZE(g_hash_table_lookup(s->overlap_clusters, key));

    if (v >> OL_KIND_BITS > 1) {
        g_hash_table_insert(s->overlap_clusters, key,
                            GSIZE_TO_POINTER(v - (1 << OL_KIND_BITS)));
    } else if (v) {
        g_hash_table_remove(s->overlap_clusters, key);
    }
}

static int range_cmp(const void *a, const void *b)
{
    const Qcow2OverlapRange *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

static void add_range(GArray *a, uint64_t start, uint64_t bytes, Qcow2OverlapKind kind)
{
    Qcow2OverlapRange r = { .start = start, .end = start + bytes, .kind = kind };

    if (bytes) {
        g_array_append_val(a, r);
    }
}

void qcow2_overlap_rebuild(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    GArray *a = g_array_new(false, false, sizeof(Qcow2OverlapRange));
    uint64_t max_end = 0;

    if (!s->overlap_clusters) {
        s->overlap_clusters = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    g_hash_table_remove_all(s->overlap_clusters);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t off = s->l1_table[i] & L1E_OFFSET_MASK;
        if (off) {
            qcow2_overlap_add(s, off, QCOW2_OL_ACTIVE_L2);
        }
    }
    for (uint64_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t off = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (off) {
            qcow2_overlap_add(s, off, QCOW2_OL_REFCOUNT_BLOCK);
        }
    }

    if (s->nb_snapshots) {
        add_range(a, s->header.snapshots_offset, s->snapshots_size, QCOW2_OL_SNAPSHOT_TABLE);
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        add_range(a, s->snapshots[i].l1_table_offset, (uint64_t)s->snapshots[i].l1_size * 8,
                  QCOW2_OL_INACTIVE_L1);
    }
    g_array_sort(a, range_cmp);
    /* max_end[i] = the furthest end among ranges 0..i: lets bisection handle overlaps. */
    for (guint i = 0; i < a->len; i++) {
        Qcow2OverlapRange *r = &g_array_index(a, Qcow2OverlapRange, i);
        max_end = MAX(max_end, r->end);
        r->max_end = max_end;
    }
    g_free(s->overlap_ranges);
    s->overlap_nranges = a->len;
    s->overlap_ranges = (Qcow2OverlapRange *)g_array_free(a, false);
}

void qcow2_overlap_free(BDRVQcow2State *s)
{
    if (s->overlap_clusters) {
        g_hash_table_destroy(s->overlap_clusters);
        s->overlap_clusters = NULL;
    }
    g_free(s->overlap_ranges);
    s->overlap_ranges = NULL;
    s->overlap_nranges = 0;
}

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* A range of the sorted array meeting [host, end), or NONE. */
static Qcow2OverlapKind range_overlap(BDRVQcow2State *s, uint64_t host, uint64_t end)
{
    size_t lo = 0, hi = s->overlap_nranges;

    /* The last range starting before end. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->overlap_ranges[mid].start < end) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || s->overlap_ranges[lo - 1].max_end <= host) {
        return QCOW2_OL_NONE;
    }
    /* Some range up to lo-1 reaches past host: find it (only on a hit). */
    for (size_t i = lo; i-- > 0;) {
        if (s->overlap_ranges[i].end > host) {
            return s->overlap_ranges[i].kind;
        }
    }
    return QCOW2_OL_NONE;
}

Qcow2OverlapKind qcow2_overlap_check(BDRVQcow2State *s, uint64_t host, uint64_t len)
{
    uint64_t first, last;

    if (!len) {
        return QCOW2_OL_NONE;
    }
    if (host < s->cluster_size) {
        return QCOW2_OL_MAIN_HEADER;
    }
    if (ranges_meet(host, len, s->l1_table_offset, (uint64_t)s->l1_size * 8)) {
        return QCOW2_OL_ACTIVE_L1;
    }
    if (ranges_meet(host, len, s->refcount_table_offset, s->refcount_table_size * 8)) {
        return QCOW2_OL_REFCOUNT_TABLE;
    }
    if (s->overlap_clusters && g_hash_table_size(s->overlap_clusters)) {
        first = host >> s->cluster_bits;
        last = (host + len - 1) >> s->cluster_bits;
        for (uint64_t ci = first; ci <= last; ci++) {
            gsize v = GPOINTER_TO_SIZE(g_hash_table_lookup(s->overlap_clusters,
                                                           GSIZE_TO_POINTER(ci)));
            if (v) {
                return v & ((1 << OL_KIND_BITS) - 1);
            }
        }
    }
    return s->overlap_nranges ? range_overlap(s, host, host + len) : QCOW2_OL_NONE;
}

int qcow2_prevent_overlap(BlockDriverState *bs, uint64_t host, uint64_t len)
{
    Qcow2OverlapKind k = qcow2_overlap_check(bs->opaque, host, len);

    if (k != QCOW2_OL_NONE) {
        return qcow2_signal_corruption(bs, "Preventing invalid write on metadata (overlaps "
                                       "with %s)", qcow2_overlap_name(k));
    }
    return 0;
}
