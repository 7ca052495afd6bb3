/*
 * qcow2: opening (validate the header and tables, honour the corrupt and dirty bits, open
 * the backing file), closing (write back metadata, clear the dirty bit) and creating images
 * with QEMU's layout: header, refcount table, refcount block, L1 table.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"

static void qcow2_free_state(BDRVQcow2State *s)
{
    qcow2_cache_destroy(&s->l2_cache);
    qcow2_cache_destroy(&s->rb_cache);
    g_free(s->l1_table);
    s->l1_table = NULL;
    g_free(s->refcount_table);
    s->refcount_table = NULL;
    if (s->pending_frees) {
        g_array_free(s->pending_frees, true);
        s->pending_frees = NULL;
    }
    qcow2_snapshots_free(s->snapshots, s->nb_snapshots);
    s->snapshots = NULL;
    qcow2_overlap_free(s);
    g_free(s->cluster_cache);
    g_free(s->cluster_data);
    s->cluster_cache = s->cluster_data = NULL;
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->data_io_cond);
}

static int load_l1(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    s->l1_size = s->header.l1_size;
    s->l1_table_offset = s->header.l1_table_offset;
    s->l1_table = g_new0(uint64_t, MAX(s->l1_size, 1));
    if (!s->l1_size) {
        return 0;
    }
    ret = bdrv_pread(bs->file, s->l1_table_offset, (uint64_t)s->l1_size * 8, s->l1_table);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the L1 table");
        return ret;
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        s->l1_table[i] = GUINT64_FROM_BE(s->l1_table[i]);
    }
    return 0;
}

static int load_snapshots(BlockDriverState *bs, int64_t flen, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t len;
    g_autofree uint8_t *buf = NULL;
    int ret;

    if (!s->header.nb_snapshots) {
        return 0;
    }
    /* The table's length is only known by parsing it; read what can be there. */
    len = MIN((uint64_t)flen - s->header.snapshots_offset,
              (uint64_t)s->header.nb_snapshots * (40 + QCOW2_MAX_SNAPSHOT_EXTRA + 2 * 65536));
    len = MIN(len, 64 * MiB);
    buf = g_malloc(len);
    ret = bdrv_pread(bs->file, s->header.snapshots_offset, len, buf);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the snapshot table");
        return ret;
    }
    if (!qcow2_snapshots_parse(buf, len, s->header.nb_snapshots, s->size, &s->snapshots,
                               &s->snapshots_size, errp)) {
        return -EINVAL;
    }
    s->nb_snapshots = s->header.nb_snapshots;
    return 0;
}

int qcow2_open(BlockDriverState *bs, KiteOpts *opts, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    g_autofree uint8_t *cluster0 = NULL;
    Qcow2Extensions ext;
    uint8_t hbuf[112];
    int64_t flen;
    int ret;

    g_mutex_init(&s->lock);
    g_cond_init(&s->data_io_cond);
    flen = bdrv_getlength(bs->file);
    if (flen < 0) {
        error_setg_errno(errp, (int)-flen, "Could not get the size of the image file");
        ret = flen;
        goto fail;
    }
    ret = bdrv_pread(bs->file, 0, MIN(flen, (int64_t)sizeof(hbuf)), hbuf);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the qcow2 header");
        goto fail;
    }
    ret = -EINVAL;
    if (!qcow2_header_decode(hbuf, MIN(flen, (int64_t)sizeof(hbuf)), &s->header, errp) ||
        !qcow2_header_validate(&s->header, flen, errp)) {
        goto fail;
    }
    s->version = s->header.version;
    s->cluster_bits = s->header.cluster_bits;
    s->cluster_size = 1ULL << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_size = 1ULL << s->l2_bits;
    s->size = s->header.size;
    s->incompat = s->header.incompatible_features;
    s->compat = s->header.compatible_features;
    s->autoclear = s->header.autoclear_features;
    s->lazy_refcounts = !!(s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS);
    s->cluster_cache_offset = UINT64_MAX;

    cluster0 = g_malloc0(s->cluster_size);
    ret = bdrv_pread(bs->file, 0, MIN(flen, (int64_t)s->cluster_size), cluster0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the qcow2 header");
        goto fail;
    }
    if (!qcow2_parse_extensions(cluster0, s->cluster_size, &s->header, &ext, errp)) {
        ret = -EINVAL;
        goto fail;
    }
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !bs->read_only) {
        error_setg(errp, "qcow2: Image is corrupt; cannot be opened read/write");
        ret = -EACCES;
        goto fail;
    }
    qcow2_cache_init(&s->l2_cache, L2_CACHE_TABLES_DEFAULT, s->cluster_size);
    qcow2_cache_init(&s->rb_cache, RB_CACHE_BLOCKS_DEFAULT, s->cluster_size);
    s->cluster_cache = g_malloc(s->cluster_size);
    s->cluster_data = g_malloc(2 * s->cluster_size);
    ret = load_l1(bs, errp);
    if (ret == 0) {
        ret = qcow2_refcount_init(bs, errp);
    }
    if (ret == 0) {
        ret = load_snapshots(bs, flen, errp);
    }
    if (ret < 0) {
        goto fail;
    }
    qcow2_overlap_rebuild(bs);

    if (s->header.backing_file_offset) {
        bs->backing_file = g_strndup((char *)cluster0 + s->header.backing_file_offset,
                                     s->header.backing_file_size);
        if (ext.backing_format[0]) {
            bs->backing_format = g_strdup(ext.backing_format);
        }
    }

    if (!bs->read_only) {
        /* An image not closed cleanly (lazy refcounts): rebuild the refcounts now. */
        if (s->incompat & QCOW2_INCOMPAT_DIRTY) {
            BdrvCheckResult res;
            memset(&res, 0, sizeof(res));
            ret = qcow2_check(bs, &res, BDRV_FIX_LEAKS | BDRV_FIX_ERRORS);
            if (ret == 0) {
                ret = qcow2_flush_metadata(bs);
            }
            if (ret == 0) {
                ret = bdrv_flush(bs->file);
            }
            if (ret == 0) {
                s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
                ret = qcow2_write_header_u64(bs, 72, s->incompat);
            }
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Could not repair dirty image");
                goto fail;
            }
        }
        /* Autoclear features Kite does not maintain are cleared (spec "autoclear"). */
        if (s->autoclear && s->version >= 3) {
            s->autoclear = 0;
            ret = qcow2_write_header_u64(bs, 88, 0);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Could not update the qcow2 header");
                goto fail;
            }
        }
    }

    if (bs->backing_file && !(flags & BDRV_O_NO_BACKING)) {
        ret = bdrv_open_backing(bs, bs->backing_file, bs->backing_format, errp);
        if (ret < 0) {
            goto fail;
        }
    }
    return 0;

fail:
    g_free(bs->backing_file);
    bs->backing_file = NULL;
    g_free(bs->backing_format);
    bs->backing_format = NULL;
    qcow2_free_state(s);
    return ret < 0 ? ret : -EINVAL;
}

void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;

    if (!bs->read_only) {
        int ret = qcow2_flush_metadata(bs);
        if (ret == 0) {
            ret = bdrv_flush(bs->file);
        }
        if (ret == 0 && (s->incompat & QCOW2_INCOMPAT_DIRTY) && !s->corrupt) {
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            qcow2_write_header_u64(bs, 72, s->incompat);
        }
        if (ret < 0) {
            error_report("qcow2: could not write back metadata of '%s': %s", bs->filename,
                         strerror(-ret));
        }
    }
    qcow2_free_state(s);
}

/* --------------------------------------------------------------- create */

typedef struct CreateOpts {
    uint64_t size;
    bool has_size;
    uint64_t cluster_size;
    int version;
    int refcount_order;
    bool lazy_refcounts;
    const char *backing_file;
    const char *backing_fmt;
} CreateOpts;

static bool create_parse(const char *filename, KiteOpts *opts, CreateOpts *c, Error **errp)
{
    const char *v;
    uint64_t rb = 16;

    c->cluster_size = 65536;
    c->version = 3;
    c->has_size = kite_opts_has(opts, "size");
    if (!kite_opts_get_size(opts, "size", 1, &c->size, errp) ||
        !kite_opts_get_size(opts, "cluster_size", 1, &c->cluster_size, errp) ||
        !kite_opts_get_bool(opts, "lazy_refcounts", &c->lazy_refcounts, errp) ||
        !kite_opts_get_uint(opts, "refcount_bits", &rb, errp)) {
        return false;
    }
    if (!IS_POWER_OF_2(c->cluster_size) || c->cluster_size < (1 << QCOW2_MIN_CLUSTER_BITS) ||
        c->cluster_size > (1 << QCOW2_MAX_CLUSTER_BITS)) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    if (!IS_POWER_OF_2(rb) || rb > 64) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return false;
    }
    c->refcount_order = __builtin_ctzll(rb);
    v = kite_opts_get(opts, "compat");
    if (v && (!strcmp(v, "0.10") || !strcmp(v, "v2"))) {
        c->version = 2;
    } else if (v && strcmp(v, "1.1") && strcmp(v, "v3")) {
        error_setg(errp, "Invalid compatibility level: '%s'", v);
        return false;
    }
    if (c->version == 2 && c->lazy_refcounts) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return false;
    }
    if (c->version == 2 && rb != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use compat=1.1 or greater)");
        return false;
    }
    v = kite_opts_get(opts, "compression_type");
    if (v && !strcmp(v, "zstd")) {
        error_setg(errp, "compression_type=zstd is not supported (Kite compresses with zlib)");
        return false;
    } else if (v && strcmp(v, "zlib")) {
        error_setg(errp, "Invalid compression_type '%s' (zlib)", v);
        return false;
    }
    v = kite_opts_get(opts, "preallocation");
    if (v && strcmp(v, "off")) {
        error_setg(errp, "Unsupported preallocation mode '%s' (Kite: off)", v);
        return false;
    }
    v = kite_opts_get(opts, "extended_l2");
    if (v && strcmp(v, "off")) {
        error_setg(errp, "extended_l2 is not supported");
        return false;
    }
    c->backing_file = kite_opts_get(opts, "backing_file");
    c->backing_fmt = kite_opts_get(opts, "backing_fmt");
    if (c->backing_fmt && !c->backing_file) {
        error_setg(errp, "backing_fmt needs backing_file");
        return false;
    }
    if (c->backing_file && strlen(c->backing_file) > QCOW2_MAX_BACKING_NAME) {
        error_setg(errp, "Backing file name too long");
        return false;
    }
    if (c->backing_fmt && strlen(c->backing_fmt) >= 32) {
        error_setg(errp, "Backing format name too long");
        return false;
    }
    if (!c->has_size && c->backing_file) {
        /* The size of the backing file, as QEMU does. */
        BlockDriverState tmp = { .filename = (char *)filename };
        g_autofree char *path = bdrv_get_full_backing_filename(&tmp, c->backing_file);
        BlockDriverState *b = bdrv_open(path, c->backing_fmt, NULL, 0, errp);
        int64_t len;
        if (!b) {
            error_prepend(errp, "Could not open backing image: ");
            return false;
        }
        len = bdrv_getlength(b);
        bdrv_unref(b);
        if (len < 0) {
            error_setg_errno(errp, (int)-len, "Could not get the backing file size");
            return false;
        }
        c->size = len;
        c->has_size = true;
    }
    if (!c->has_size) {
        error_setg(errp, "Image creation needs a size parameter");
        return false;
    }
    if (c->size > QCOW2_MAX_SIZE ||
        (c->size && !qcow2_l1_entries_for(c->size, __builtin_ctzll(c->cluster_size)))) {
        error_setg(errp, "Image size too large for this cluster size");
        return false;
    }
    return true;
}

/* Header extension: type, length, data padded to 8 bytes (spec "Header extensions"). */
static size_t put_ext(uint8_t *p, uint32_t type, const void *data, uint32_t len)
{
    qcow2_st32(p, type);
    qcow2_st32(p + 4, len);
    memcpy(p + 8, data, len);
    return 8 + ROUND_UP(len, 8);
}

static size_t feature_table(uint8_t *t)
{
    static const struct { uint8_t type, bit; const char *name; } f[] = {
        { 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" }, { 0, 2, "external data file" },
        { 0, 3, "compression type" }, { 0, 4, "extended L2 entries" },
        { 1, 0, "lazy refcounts" }, { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
    };

    memset(t, 0, ARRAY_SIZE(f) * 48);
    for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
        t[i * 48] = f[i].type;
        t[i * 48 + 1] = f[i].bit;
        memcpy(t + i * 48 + 2, f[i].name, strlen(f[i].name));
    }
    return ARRAY_SIZE(f) * 48;
}

int qcow2_create(const char *filename, KiteOpts *opts, Error **errp)
{
    CreateOpts c = { 0 };
    Qcow2Header h = { 0 };
    BlockDriverState *file;
    g_autofree uint8_t *buf = NULL;
    uint64_t cs, l1_entries, l1_clusters, rt = 1, rb = 1, n, per_block;
    uint8_t table[8 * 48];
    size_t off;
    int cb, ret;

    if (!create_parse(filename, opts, &c, errp)) {
        return -EINVAL;
    }
    cs = c.cluster_size;
    cb = __builtin_ctzll(cs);
    l1_entries = qcow2_l1_entries_for(c.size, cb);
    l1_clusters = DIV_ROUND_UP(l1_entries * 8, cs);
    per_block = (cs * 8) >> c.refcount_order;
    /* Enough refcount blocks for every initial cluster, and table entries for them. */
    for (;;) {
        n = 1 + rt + rb + MAX(l1_clusters, 1);
        uint64_t nrb = DIV_ROUND_UP(n, per_block);
        uint64_t nrt = DIV_ROUND_UP(nrb * 8, cs);
        if (nrb == rb && nrt == rt) {
            break;
        }
        rb = nrb;
        rt = nrt;
    }

    h.version = c.version;
    h.cluster_bits = cb;
    h.size = c.size;
    h.l1_size = l1_entries;
    h.refcount_table_offset = cs;
    h.refcount_table_clusters = rt;
    h.l1_table_offset = (1 + rt + rb) * cs;
    h.refcount_order = c.refcount_order;
    h.compatible_features = c.lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0;

    buf = g_malloc0(n * cs);
    off = qcow2_header_encode(&h, buf);
    if (c.backing_fmt) {
        off += put_ext(buf + off, QCOW2_EXT_BACKING_FORMAT, c.backing_fmt,
                       strlen(c.backing_fmt));
    }
    if (off + 8 + sizeof(table) + 8 + (c.backing_file ? strlen(c.backing_file) : 0) <= cs) {
        off += put_ext(buf + off, QCOW2_EXT_FEATURE_TABLE, table, feature_table(table));
    }
    off += 8;           /* end of extensions */
    if (c.backing_file) {
        size_t len = strlen(c.backing_file);
        if (off + len > cs) {
            error_setg(errp, "Backing file name too long for the cluster size");
            return -EINVAL;
        }
        memcpy(buf + off, c.backing_file, len);
        qcow2_st64(buf + 8, off);
        qcow2_st32(buf + 16, len);
    }
    /* Refcount table entries, then one reference for every initial cluster. */
    for (uint64_t i = 0; i < rb; i++) {
        qcow2_st64(buf + cs + i * 8, (1 + rt + i) * cs);
    }
    for (uint64_t ci = 0; ci < n; ci++) {
        qcow2_refcount_set(buf + (1 + rt) * cs, ci, c.refcount_order, 1);
    }

    ret = bdrv_create_file(filename, NULL, errp);
    if (ret < 0) {
        return ret;
    }
    file = bdrv_open(filename, "file", NULL, BDRV_O_RDWR, errp);
    if (!file) {
        return -EIO;
    }
    ret = bdrv_pwrite(file, 0, n * cs, buf);
    if (ret == 0) {
        ret = bdrv_flush(file);
    }
    bdrv_unref(file);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write the qcow2 image '%s'", filename);
    }
    return ret;
}
