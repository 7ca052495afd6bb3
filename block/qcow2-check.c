/*
 * qcow2 consistency check (kite-img check, and the repair of a dirty lazy-refcounts image on
 * open): count every reference the metadata makes to each host cluster (header, L1 and L2
 * tables, data, snapshot tables, refcount table and blocks) and compare with the stored
 * refcounts.  Stored > counted is a leak (wasted space); stored < counted is a corruption
 * (the cluster could be handed out twice).  Messages follow qemu-img's wording.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"

typedef struct CheckState {
    uint64_t *refs;
    uint64_t nrefs;
    int64_t file_len;
    uint64_t last_data;             /* previous data cluster in this L2 table */
    BdrvCheckResult *res;
    bool quiet;
    bool listed;                    /* the mismatches were printed already */
} CheckState;

#define CHECK_MSG(c, ...) do { if (!(c)->quiet) { fprintf(stderr, __VA_ARGS__); } } while (0)

static void inc_refs(BlockDriverState *bs, CheckState *c, uint64_t off, uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t first, last;

    if (!bytes) {
        return;
    }
    first = off >> s->cluster_bits;
    last = (off + bytes - 1) >> s->cluster_bits;
    if (last >= c->nrefs) {
        uint64_t n = MAX(last + 1, c->nrefs * 2);
        c->refs = g_renew(uint64_t, c->refs, n);
        memset(c->refs + c->nrefs, 0, (n - c->nrefs) * 8);
        c->nrefs = n;
    }
    for (uint64_t ci = first; ci <= last; ci++) {
        c->refs[ci]++;
    }
}

/* A table of the metadata: aligned, after the header, inside the file. */
static bool table_ok(BlockDriverState *bs, CheckState *c, const char *what, uint64_t off,
                     uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;

    if ((off & (s->cluster_size - 1)) || off < s->cluster_size ||
        off + bytes > (uint64_t)c->file_len || off > QCOW2_MAX_SIZE) {
        CHECK_MSG(c, "ERROR %s offset=%" PRIx64 ": table is unaligned, in the header or "
                  "beyond the end of the image\n", what, off);
        c->res->corruptions++;
        return false;
    }
    return true;
}

static int check_l2(BlockDriverState *bs, CheckState *c, uint64_t l2off, bool active)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *t = g_malloc(s->cluster_size);
    int ret = bdrv_pread(bs->file, l2off, s->cluster_size, t);

    if (ret < 0) {
        c->res->check_errors++;
        return ret;
    }
    c->last_data = 0;
    for (uint64_t i = 0; i < s->l2_size; i++) {
        uint64_t e = qcow2_ld64(t + i * 8), off = e & L2E_OFFSET_MASK, coff, clen;

        switch (qcow2_l2_entry_type(e)) {
        case QCOW2_CLUSTER_COMPRESSED:
            qcow2_compressed_decode(e, s->cluster_bits, &coff, &clen);
            if (coff < s->cluster_size) {
                CHECK_MSG(c, "ERROR compressed cluster offset=%" PRIx64 " in the header\n",
                          coff);
                c->res->corruptions++;
                break;
            }
            inc_refs(bs, c, coff, clen);
            if (active) {
                /* As qemu-img counts them: every compressed cluster is fragmented (its
                 * sectors are shared with neighbours and read again for each). */
                c->res->bfi.allocated_clusters++;
                c->res->bfi.compressed_clusters++;
                c->res->bfi.fragmented_clusters++;
            }
            break;
        case QCOW2_CLUSTER_ZERO_PLAIN:
            if (s->version < 3) {
                CHECK_MSG(c, "ERROR zero cluster in a version 2 image (L2 entry %" PRIx64
                          ")\n", e);
                c->res->corruptions++;
            }
            break;
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            if ((off & (s->cluster_size - 1)) || off < s->cluster_size) {
                CHECK_MSG(c, "ERROR offset=%" PRIx64 ": Cluster is not properly aligned or "
                          "in the header; L2 entry corrupted.\n", off);
                c->res->corruptions++;
                break;
            }
            inc_refs(bs, c, off, s->cluster_size);
            if (active) {
                /* Preallocated zero clusters are allocated too; contiguity counts within
                 * one L2 table (qemu-img's figures). */
                c->res->bfi.allocated_clusters++;
                if (c->last_data && off != c->last_data + s->cluster_size) {
                    c->res->bfi.fragmented_clusters++;
                }
                c->last_data = off;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

static int check_l1(BlockDriverState *bs, CheckState *c, const uint64_t *l1, uint32_t n,
                    bool active)
{
    BDRVQcow2State *s = bs->opaque;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2off = l1[i] & L1E_OFFSET_MASK;
        if (!l2off) {
            continue;
        }
        if (!table_ok(bs, c, "l2_offset", l2off, s->cluster_size)) {
            continue;
        }
        inc_refs(bs, c, l2off, s->cluster_size);
        if (check_l2(bs, c, l2off, active) < 0) {
            return -EIO;
        }
    }
    return 0;
}

static int check_snapshots(BlockDriverState *bs, CheckState *c)
{
    BDRVQcow2State *s = bs->opaque;

    if (s->nb_snapshots) {
        inc_refs(bs, c, s->header.snapshots_offset, s->snapshots_size);
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        g_autofree uint64_t *l1 = NULL;

        if (!sn->l1_size || !table_ok(bs, c, "snapshot L1", sn->l1_table_offset, bytes)) {
            continue;
        }
        inc_refs(bs, c, sn->l1_table_offset, bytes);
        l1 = g_new(uint64_t, sn->l1_size);
        if (bdrv_pread(bs->file, sn->l1_table_offset, bytes, l1) < 0) {
            c->res->check_errors++;
            continue;
        }
        for (uint32_t j = 0; j < sn->l1_size; j++) {
            l1[j] = GUINT64_FROM_BE(l1[j]);
        }
        check_l1(bs, c, l1, sn->l1_size, false);
    }
    return 0;
}

/*
 * QCOW_OFLAG_COPIED must be set exactly when the cluster's refcount is 1 (spec "Cluster
 * mapping": writes go in place only then).  A mismatch either way is a corruption: set where
 * the cluster is shared, a write would change a snapshot's data too.  With BDRV_FIX_ERRORS
 * the flag is made to agree with the (already repaired) refcount.  Active tables only, as in
 * qemu-img; messages in its words.
 */
static void check_oflag_copied(BlockDriverState *bs, CheckState *c, int fix)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *t = g_malloc(s->cluster_size);
    bool repair = fix & BDRV_FIX_ERRORS;

    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l1e = s->l1_table[i], l2off = l1e & L1E_OFFSET_MASK, rc;
        bool dirty = false;

        if (!l2off || (l2off & (s->cluster_size - 1)) || l2off < s->cluster_size ||
            l2off + s->cluster_size > (uint64_t)c->file_len) {
            continue;                               /* reported by check_l1 */
        }
        if (qcow2_get_refcount(bs, l2off >> s->cluster_bits, &rc) < 0) {
            c->res->check_errors++;
            continue;
        }
        if ((rc == 1) != !!(l1e & QCOW_OFLAG_COPIED)) {
            CHECK_MSG(c, "%s OFLAG_COPIED L2 cluster: l1_index=%" PRIu32 " l1_entry=%" PRIx64
                      " refcount=%" PRIu64 "\n", repair ? "Repairing" : "ERROR", i, l1e, rc);
            if (repair) {
                uint8_t be[8];
                s->l1_table[i] = rc == 1 ? l1e | QCOW_OFLAG_COPIED : l1e & ~QCOW_OFLAG_COPIED;
                qcow2_st64(be, s->l1_table[i]);
                if (bdrv_pwrite(bs->file, s->l1_table_offset + 8 * i, 8, be) < 0) {
                    c->res->check_errors++;
                } else {
                    c->res->corruptions_fixed++;
                }
            } else {
                c->res->corruptions++;
            }
        }
        if (bdrv_pread(bs->file, l2off, s->cluster_size, t) < 0) {
            c->res->check_errors++;
            continue;
        }
        for (uint64_t j = 0; j < s->l2_size; j++) {
            uint64_t e = qcow2_ld64(t + j * 8), off = e & L2E_OFFSET_MASK;
            int type = qcow2_l2_entry_type(e);

            if ((type != QCOW2_CLUSTER_NORMAL && type != QCOW2_CLUSTER_ZERO_ALLOC) ||
                (off & (s->cluster_size - 1)) || off < s->cluster_size) {
                continue;
            }
            if (qcow2_get_refcount(bs, off >> s->cluster_bits, &rc) < 0) {
                c->res->check_errors++;
                continue;
            }
            if ((rc == 1) == !!(e & QCOW_OFLAG_COPIED)) {
                continue;
            }
            CHECK_MSG(c, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%"
                      PRIu64 "\n", repair ? "Repairing" : "ERROR", e, rc);
            if (repair) {
                qcow2_st64(t + j * 8, rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED);
                dirty = true;
                c->res->corruptions_fixed++;
            } else {
                c->res->corruptions++;
            }
        }
        if (dirty) {
            /* The cached copy (if any) goes; the next access reads the repaired table. */
            qcow2_cache_discard(&s->l2_cache, l2off);
            if (bdrv_pwrite(bs->file, l2off, s->cluster_size, t) < 0) {
                c->res->check_errors++;
            }
        }
    }
}

int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix)
{
    BDRVQcow2State *s = bs->opaque;
    CheckState c = { .res = res, .quiet = s->check_quiet };
    uint64_t n, end = 0;
    int ret;

    if (!bs->read_only) {
        ret = qcow2_flush_metadata(bs);     /* the walk reads tables from the file */
        if (ret < 0) {
            return ret;
        }
    }
    c.file_len = bdrv_getlength(bs->file);
    if (c.file_len < 0) {
        return c.file_len;
    }
    c.nrefs = DIV_ROUND_UP((uint64_t)c.file_len, s->cluster_size) + 1;
    c.refs = g_new0(uint64_t, c.nrefs);

    inc_refs(bs, &c, 0, s->cluster_size);
    if (s->l1_size) {
        inc_refs(bs, &c, s->l1_table_offset, (uint64_t)s->l1_size * 8);
    }
    ret = check_l1(bs, &c, s->l1_table, s->l1_size, true);
    if (ret == 0) {
        ret = check_snapshots(bs, &c);
    }
    inc_refs(bs, &c, s->refcount_table_offset, s->refcount_table_size * 8);
    for (uint64_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t rb = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (rb && table_ok(bs, &c, "refcount block", rb, s->cluster_size)) {
            inc_refs(bs, &c, rb, s->cluster_size);
        }
    }
    res->bfi.total_clusters = DIV_ROUND_UP(s->size, s->cluster_size);

    n = c.nrefs;
    /*
     * A used cluster counted 0 can be handed out again by the next allocation: fixing leaks
     * alone (which frees) is unsafe then.  Like qemu-img, -r leaks reports what it found and
     * fails; -r all repairs the count.
     */
    if ((fix & BDRV_FIX_LEAKS) && !(fix & BDRV_FIX_ERRORS)) {
        bool rebuild = false;
        for (uint64_t ci = 0; ci < n && ret == 0; ci++) {
            uint64_t disk;
            if (qcow2_get_refcount(bs, ci, &disk) < 0 || disk == c.refs[ci]) {
                continue;
            }
            rebuild |= disk == 0;
            CHECK_MSG(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64
                      "\n", disk > c.refs[ci] ? "Leaked" : "ERROR", ci, disk, c.refs[ci]);
        }
        if (rebuild) {
            CHECK_MSG(&c, "ERROR need to rebuild refcount structures\n");
            res->check_errors++;
            g_free(c.refs);
            return -EIO;
        }
        c.listed = true;                /* printed above; the repair pass says "Repairing" */
    }
    /* Repairs allocate past everything referenced, never over a miscounted cluster. */
    s->free_cluster_index = MAX(s->free_cluster_index, n);
    for (uint64_t ci = 0; ci < n; ci++) {
        uint64_t disk;
        if (c.refs[ci]) {
            end = ci + 1;
        }
        if (qcow2_get_refcount(bs, ci, &disk) < 0) {
            res->check_errors++;
            continue;
        }
        if (disk) {
            end = ci + 1;               /* leaked clusters count, as in qemu-img */
        }
        if (disk == c.refs[ci]) {
            continue;
        }
        bool leak = disk > c.refs[ci];
        if (!c.listed) {
            CHECK_MSG(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64
                      "\n", leak ? "Leaked" : "ERROR", ci, disk, c.refs[ci]);
        }
        if (leak) {
            res->leaks++;
        } else {
            res->corruptions++;
        }
        if ((leak && (fix & BDRV_FIX_LEAKS)) || (!leak && (fix & BDRV_FIX_ERRORS))) {
            int r = qcow2_update_refcount(bs, ci << s->cluster_bits, 1,
                                          (int64_t)(c.refs[ci] - disk));
            if (r < 0) {
                res->check_errors++;
                continue;
            }
            CHECK_MSG(&c, "Repairing cluster %" PRIu64 " refcount=%" PRIu64 " reference=%"
                      PRIu64 "\n", ci, disk, c.refs[ci]);
            if (leak) {
                res->leaks_fixed++;
            } else {
                res->corruptions_fixed++;
            }
        }
    }
    s->free_cluster_index = 0;
    if (ret == 0 && (!(fix & BDRV_FIX_ERRORS) || !bs->read_only)) {
        if (fix & BDRV_FIX_ERRORS) {
            qcow2_flush_metadata(bs);   /* refcount repairs reach the blocks read below */
        }
        check_oflag_copied(bs, &c, fix);
    }
    res->image_end_offset = end << s->cluster_bits;
    g_free(c.refs);
    if (res->leaks_fixed || res->corruptions_fixed) {
        ret = qcow2_flush_metadata(bs);
    }
    return ret;
}
