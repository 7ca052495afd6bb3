/*
 * Block layer core: the driver registry, opening nodes (format over protocol, probing,
 * backing files, -snapshot overlays), the node graph and the generic request wrappers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"
#include <fcntl.h>

static GPtrArray *drivers;          /* of BlockDriver *, in registration order */
static GHashTable *nodes;           /* node_name -> BlockDriverState * */
static unsigned node_counter;

void bdrv_register(BlockDriver *drv)
{
    if (!drivers) {
        drivers = g_ptr_array_new();
    }
    g_ptr_array_add(drivers, drv);
}

BlockDriver *bdrv_find_format(const char *format_name)
{
    for (guint i = 0; drivers && i < drivers->len; i++) {
        BlockDriver *drv = g_ptr_array_index(drivers, i);
        if (!strcmp(drv->format_name, format_name)) {
            return drv;
        }
    }
    return NULL;
}

void bdrv_iterate_format(void (*fn)(void *opaque, const char *name), void *opaque)
{
    for (guint i = 0; drivers && i < drivers->len; i++) {
        fn(opaque, ((BlockDriver *)g_ptr_array_index(drivers, i))->format_name);
    }
}

BlockDriver *bdrv_probe_all(const uint8_t *buf, int len, const char *filename)
{
    BlockDriver *best = NULL;
    int best_score = 0;

    for (guint i = 0; drivers && i < drivers->len; i++) {
        BlockDriver *drv = g_ptr_array_index(drivers, i);
        if (drv->probe && !drv->is_protocol) {
            int score = drv->probe(buf, len, filename);
            if (score > best_score) {
                best_score = score;
                best = drv;
            }
        }
    }
    return best;
}

/* ---------------------------------------------------------------- options */

static KiteOpts *opts_copy(KiteOpts *src)
{
    KiteOpts *o = kite_opts_new();

    for (guint i = 0; src && i < src->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(src->items, i);
        kite_opts_set(o, it->key, it->value);
    }
    return o;
}

/* Move every "prefix.key" of src into a new KiteOpts as "key" (marking them used in src). */
static KiteOpts *opts_extract_prefix(KiteOpts *src, const char *prefix)
{
    KiteOpts *o = kite_opts_new();
    size_t n = strlen(prefix);

    for (guint i = 0; i < src->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(src->items, i);
        if (!strncmp(it->key, prefix, n) && it->key[n] == '.') {
            kite_opts_set(o, it->key + n + 1, it->value);
            it->used = true;
        }
    }
    return o;
}

static bool opts_report_unused(KiteOpts *o, const char *fmt_name, Error **errp)
{
    for (guint i = 0; i < o->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(o->items, i);
        if (!it->used) {
            error_setg(errp, "Block format '%s' does not support the option '%s'",
                       fmt_name, it->key);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ open */

static void bdrv_register_node(BlockDriverState *bs)
{
    if (!nodes) {
        nodes = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_insert(nodes, bs->node_name, bs);
}

BlockDriverState *bdrv_find_node(const char *node_name)
{
    return nodes && node_name ? g_hash_table_lookup(nodes, node_name) : NULL;
}

static bool node_name_valid(const char *s)
{
    if (!g_ascii_isalpha(s[0]) || strlen(s) > 31) {
        return false;
    }
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '.' && *s != '_') {
            return false;
        }
    }
    return true;
}

static void bdrv_free(BlockDriverState *bs)
{
    if (nodes && bs->node_name) {
        g_hash_table_remove(nodes, bs->node_name);
    }
    g_free(bs->opaque);
    g_free(bs->filename);
    g_free(bs->node_name);
    g_free(bs->backing_file);
    g_free(bs->backing_format);
    g_free(bs);
}

static BlockDriverState *bdrv_open_snapshot(const char *filename, const char *fmt,
                                            KiteOpts *options, int flags, Error **errp);

/* Open one node with driver drv; options are this node's (prefixes of children intact). */
static BlockDriverState *bdrv_open_driver(BlockDriver *drv, const char *filename,
                                          BlockDriverState *file, KiteOpts *opts,
                                          const char *node_name, int flags, Error **errp)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    int ret;

    bs->drv = drv;
    bs->refcnt = 1;
    bs->filename = g_strdup(filename);
    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);
    bs->request_alignment = 1;
    bs->file = file;
    bs->opaque = drv->instance_size ? g_malloc0(drv->instance_size) : NULL;
    if (node_name) {
        bs->node_name = g_strdup(node_name);
    } else {
        bs->node_name = g_strdup_printf("#block%03u", node_counter++);
    }
    ret = drv->open(bs, opts, flags, errp);
    if (ret == 0 && !opts_report_unused(opts, drv->format_name, errp)) {
        /* Close with bs->file still attached: a format may write back through it. */
        if (drv->close) {
            drv->close(bs);
        }
        ret = -EINVAL;
    }
    if (ret < 0) {
        bdrv_unref(bs->backing);    /* if the driver opened one before failing */
        bs->file = NULL;            /* the caller still owns it */
        g_free(bs->node_name);
        bs->node_name = NULL;
        bdrv_free(bs);
        return NULL;
    }
    bdrv_register_node(bs);
    return bs;
}

/* Read enough of the protocol node to probe the format. */
static BlockDriver *bdrv_probe_file(BlockDriverState *file, Error **errp)
{
    uint8_t buf[2048];
    int64_t len = bdrv_getlength(file);
    BlockDriver *drv;
    int ret;

    if (len < 0) {
        error_setg_errno(errp, (int)-len, "Could not get the size of '%s'", file->filename);
        return NULL;
    }
    len = MIN(len, (int64_t)sizeof(buf));
    ret = bdrv_pread(file, 0, len, buf);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read image for determining its format");
        return NULL;
    }
    drv = bdrv_probe_all(buf, (int)len, file->filename);
    if (!drv) {
        error_setg(errp, "Could not determine image format: No compatible driver found");
    }
    return drv;
}

BlockDriverState *bdrv_open(const char *filename, const char *fmt, KiteOpts *options,
                            int flags, Error **errp)
{
    g_autoptr(KiteOpts) opts = opts_copy(options);
    g_autoptr(KiteOpts) file_opts = NULL;
    const char *driver = kite_opts_get(opts, "driver");
    const char *node_name = kite_opts_get(opts, "node-name");
    const char *file_ref;
    BlockDriverState *file = NULL, *bs;
    BlockDriver *drv = NULL;
    const char *discard;
    bool b;

    if (flags & BDRV_O_SNAPSHOT) {
        return bdrv_open_snapshot(filename, fmt, options, flags, errp);
    }
    if (driver && fmt && strcmp(driver, fmt)) {
        error_setg(errp, "Cannot specify both 'driver' and 'format'");
        return NULL;
    }
    fmt = fmt ? fmt : driver;
    if (!filename) {
        filename = kite_opts_get(opts, "filename");
    } else if (kite_opts_has(opts, "filename")) {
        error_setg(errp, "Cannot specify both a file name and 'filename'");
        return NULL;
    }
    if (node_name && !node_name_valid(node_name)) {
        error_setg(errp, "Invalid node-name: '%s'", node_name);
        return NULL;
    }
    if (node_name && bdrv_find_node(node_name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", node_name);
        return NULL;
    }
    b = false;
    if (!kite_opts_get_bool(opts, "read-only", &b, errp)) {
        return NULL;
    }
    if (b) {
        flags &= ~BDRV_O_RDWR;
    }
    b = !!(flags & BDRV_O_NOCACHE);
    if (!kite_opts_get_bool(opts, "cache.direct", &b, errp)) {
        return NULL;
    }
    flags = b ? flags | BDRV_O_NOCACHE : flags & ~BDRV_O_NOCACHE;
    b = !!(flags & BDRV_O_NO_FLUSH);
    if (!kite_opts_get_bool(opts, "cache.no-flush", &b, errp)) {
        return NULL;
    }
    flags = b ? flags | BDRV_O_NO_FLUSH : flags & ~BDRV_O_NO_FLUSH;
    flags &= ~BDRV_O_PROBED;
    /* QEMU's force-share: lock nothing against other users; only for reading. */
    b = !!(flags & BDRV_O_FORCE_SHARE);
    if (!kite_opts_get_bool(opts, "force-share", &b, errp)) {
        return NULL;
    }
    flags = b ? flags | BDRV_O_FORCE_SHARE : flags & ~BDRV_O_FORCE_SHARE;
    if ((flags & BDRV_O_FORCE_SHARE) && (flags & BDRV_O_RDWR)) {
        error_setg(errp, "force-share=on can only be used with read-only images");
        return NULL;
    }
    /* discard=ignore (QEMU's default) makes guest discards successful no-ops. */
    discard = kite_opts_get(opts, "discard");
    if (discard) {
        if (!strcmp(discard, "unmap") || !strcmp(discard, "on")) {
            flags |= BDRV_O_UNMAP;
        } else if (!strcmp(discard, "ignore") || !strcmp(discard, "off")) {
            flags &= ~BDRV_O_UNMAP;
        } else {
            error_setg(errp, "Invalid discard option '%s' (expected ignore or unmap)",
                       discard);
            return NULL;
        }
    }

    if (fmt) {
        drv = bdrv_find_format(fmt);
        if (!drv) {
            error_setg(errp, "Unknown driver '%s'", fmt);
            return NULL;
        }
        if (drv->is_protocol) {
            if (!filename) {
                error_setg(errp, "The '%s' block driver requires a file name", fmt);
                return NULL;
            }
            kite_opts_set(opts, "filename", filename);
            return bdrv_open_driver(drv, filename, NULL, opts, node_name, flags, errp);
        }
    }

    /* A format node: open (or reference) its protocol node first. */
    file_opts = opts_extract_prefix(opts, "file");
    file_ref = kite_opts_get(opts, "file");
    if (file_ref) {
        file = bdrv_find_node(file_ref);
        if (!file) {
            error_setg(errp, "Cannot find device='' nor node-name='%s'", file_ref);
            return NULL;
        }
        bdrv_ref(file);
    } else {
        const char *child_drv = kite_opts_get(file_opts, "driver");
        const char *child_name = kite_opts_get(file_opts, "filename");
        if (child_name && filename && strcmp(child_name, filename)) {
            error_setg(errp, "Cannot specify both a file name and 'file.filename'");
            return NULL;
        }
        if (!child_name && !filename) {
            error_setg(errp, "A block device needs a file name (file= or file.filename=)");
            return NULL;
        }
        file = bdrv_open(child_name ? NULL : filename, child_drv ? child_drv : "file",
                         file_opts, (flags & ~BDRV_O_SNAPSHOT) | BDRV_O_LOCK_LATER, errp);
        if (!file) {
            return NULL;
        }
    }
    if (!drv) {
        drv = bdrv_probe_file(file, errp);
        if (!drv) {
            bdrv_unref(file);
            return NULL;
        }
        if (!strcmp(drv->format_name, "raw") && (flags & BDRV_O_RDWR)) {
            /* QEMU's wording: users grep for it.  Read-only images (-cdrom) cannot have
             * block 0 rewritten, so QEMU stays quiet about them, as here. */
            warn_report("Image format was not specified for '%s' and probing guessed raw.\n"
                        "         Automatically detecting the format is dangerous for raw "
                        "images, write operations on block 0 will be restricted.\n"
                        "         Specify the 'raw' format explicitly to remove the "
                        "restrictions.", file->filename);
            flags |= BDRV_O_PROBED;
        }
    }
    /*
     * Lock the file now that the format is known.  A format with metadata (qcow2) uses it
     * for itself.  raw adds nothing: it passes on what its user does, as QEMU's raw
     * driver, so a tool only reading it shares everything (qemu-img info on a running VM's
     * raw image works), and a BlockBackend (BDRV_O_LOCK_LATER from the caller) sets the
     * permissions itself: none until a device attaches (-drive if=none locks nothing).
     */
    if (!file_ref) {
        /* A raw reader (kite-img, qemu-io -r) lets others write; a writer does not. */
        bool raw_ro = !strcmp(drv->format_name, "raw") && !(flags & BDRV_O_RDWR);
        int perm = !raw_ro ? bdrv_default_perm(flags)
                 : (flags & BDRV_O_NO_IO) ? 0 : BLK_PERM_CONSISTENT_READ;
        bool later = !strcmp(drv->format_name, "raw") && (flags & BDRV_O_LOCK_LATER);
        if (!later &&
            bdrv_set_perm(file, perm, raw_ro ? BLK_PERM_ALL : bdrv_default_shared(flags),
                          errp) < 0) {
            bdrv_unref(file);
            return NULL;
        }
    }
    bs = bdrv_open_driver(drv, file->filename, file, opts, node_name,
                          flags & ~BDRV_O_LOCK_LATER, errp);
    if (!bs) {
        bdrv_unref(file);
    }
    return bs;
}

int bdrv_default_perm(int flags)
{
    return BLK_PERM_CONSISTENT_READ |
           ((flags & BDRV_O_RDWR) ? BLK_PERM_WRITE | BLK_PERM_RESIZE : 0);
}

int bdrv_default_shared(int flags)
{
    return BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
           ((flags & BDRV_O_RDWR) ? 0 : BLK_PERM_RESIZE);
}

int bdrv_set_perm(BlockDriverState *bs, int perm, int shared, Error **errp)
{
    if (!bs || !bs->drv || !bs->drv->set_perm) {
        return 0;
    }
    return bs->drv->set_perm(bs, perm, shared, errp);
}

/* A backing file (or -snapshot's base) is read and must not change under its overlay. */
static int bdrv_lock_as_backing(BlockDriverState *bs, Error **errp)
{
    return bdrv_set_perm(bs, BLK_PERM_CONSISTENT_READ,
                         BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
                         BLK_PERM_RESIZE, errp);
}

/*
 * -snapshot / snapshot=on: the image is opened read-only as the backing file of a qcow2
 * overlay created in $TMPDIR and unlinked at once, so guest writes vanish at exit.
 */
static BlockDriverState *bdrv_open_snapshot(const char *filename, const char *fmt,
                                            KiteOpts *options, int flags, Error **errp)
{
    BlockDriverState *base, *overlay;
    g_autoptr(KiteOpts) copts = NULL;
    g_autoptr(KiteOpts) oopts = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *abs = NULL;
    int64_t size;
    int fd;

    if (!bdrv_find_format("qcow2")) {
        error_setg(errp, "snapshot=on needs the qcow2 driver, which this build lacks");
        return NULL;
    }
    base = bdrv_open(filename, fmt, options, (flags & ~(BDRV_O_SNAPSHOT | BDRV_O_RDWR)),
                     errp);
    if (!base) {
        return NULL;
    }
    if (bdrv_lock_as_backing(base, errp) < 0) {
        bdrv_unref(base);
        return NULL;
    }
    size = bdrv_getlength(base);
    if (size < 0) {
        error_setg_errno(errp, (int)-size, "Could not get the size of '%s'", base->filename);
        bdrv_unref(base);
        return NULL;
    }
    fd = g_file_open_tmp("kite-snapshot-XXXXXX.qcow2", &tmp, NULL);
    if (fd < 0) {
        error_setg(errp, "Could not create a temporary overlay in %s", g_get_tmp_dir());
        bdrv_unref(base);
        return NULL;
    }
    close(fd);
    abs = g_canonicalize_filename(base->filename, NULL);
    copts = kite_opts_new();
    g_autofree char *size_str = g_strdup_printf("%" PRId64, size);
    kite_opts_set(copts, "size", size_str);
    kite_opts_set(copts, "backing_file", abs);
    kite_opts_set(copts, "backing_fmt", bdrv_get_format_name(base));
    bdrv_unref(base);
    if (bdrv_create("qcow2", tmp, copts, errp) < 0) {
        unlink(tmp);
        return NULL;
    }
    overlay = bdrv_open(tmp, "qcow2", NULL, (flags & ~BDRV_O_SNAPSHOT) | BDRV_O_RDWR, errp);
    unlink(tmp);
    return overlay;
}

int bdrv_open_backing(BlockDriverState *bs, const char *backing_name, const char *fmt,
                      Error **errp)
{
    g_autofree char *path = bdrv_get_full_backing_filename(bs, backing_name);
    int flags = bs->open_flags & (BDRV_O_NOCACHE | BDRV_O_NO_FLUSH | BDRV_O_FORCE_SHARE);

    bs->backing = bdrv_open(path, fmt, NULL, flags, errp);
    if (!bs->backing) {
        error_prepend(errp, "Could not open backing file: ");
        return -EINVAL;
    }
    if (bdrv_lock_as_backing(bs->backing, errp) < 0) {
        error_prepend(errp, "Could not open backing file: ");
        bdrv_unref(bs->backing);
        bs->backing = NULL;
        return -EINVAL;
    }
    return 0;
}

char *bdrv_get_full_backing_filename(BlockDriverState *bs, const char *backing_name)
{
    const char *slash;

    if (g_path_is_absolute(backing_name) || !bs->filename) {
        return g_strdup(backing_name);
    }
    /* QEMU's path_combine: the overlay's directory part as written, so "a.qcow2" next to
     * "b.qcow2" stays "a.qcow2" (qemu-img map/info print these names). */
    slash = strrchr(bs->filename, '/');
    if (!slash) {
        return g_strdup(backing_name);
    }
    return g_strdup_printf("%.*s%s", (int)(slash - bs->filename + 1), bs->filename,
                           backing_name);
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs || --bs->refcnt > 0) {
        return;
    }
    if (bs->drv->close) {
        bs->drv->close(bs);
    }
    bdrv_unref(bs->backing);
    bdrv_unref(bs->file);
    bdrv_free(bs);
}

/* -------------------------------------------------------------- requests */

int bdrv_preadv(BlockDriverState *bs, int64_t offset, int64_t bytes,
                struct iovec *iov, int niov)
{
    if (offset < 0 || bytes < 0) {
        return -EIO;
    }
    return bs->drv->preadv(bs, offset, bytes, iov, niov);
}

int bdrv_pwritev(BlockDriverState *bs, int64_t offset, int64_t bytes,
                 struct iovec *iov, int niov, int flags)
{
    int ret;

    if (offset < 0 || bytes < 0) {
        return -EIO;
    }
    if (bs->read_only) {
        return -EACCES;
    }
    if (!bs->drv->pwritev) {
        return -ENOTSUP;
    }
    ret = bs->drv->pwritev(bs, offset, bytes, iov, niov, flags & ~BDRV_REQ_FUA);
    if (ret == 0 && (flags & BDRV_REQ_FUA)) {
        ret = bdrv_flush(bs);
    }
    return ret;
}

int bdrv_pread(BlockDriverState *bs, int64_t offset, int64_t bytes, void *buf)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };

    return bdrv_preadv(bs, offset, bytes, &iov, 1);
}

int bdrv_pwrite(BlockDriverState *bs, int64_t offset, int64_t bytes, const void *buf)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes };

    return bdrv_pwritev(bs, offset, bytes, &iov, 1, 0);
}

int bdrv_pwrite_sync(BlockDriverState *bs, int64_t offset, int64_t bytes, const void *buf)
{
    int ret = bdrv_pwrite(bs, offset, bytes, buf);

    return ret < 0 ? ret : bdrv_flush(bs);
}

int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags)
{
    int ret = -ENOTSUP;

    if (offset < 0 || bytes < 0) {
        return -EIO;
    }
    if (bs->read_only) {
        return -EACCES;
    }
    if (!(bs->open_flags & BDRV_O_UNMAP)) {
        flags &= ~BDRV_REQ_MAY_UNMAP;
    }
    if (bs->drv->pwrite_zeroes) {
        ret = bs->drv->pwrite_zeroes(bs, offset, bytes, flags & ~BDRV_REQ_FUA);
    }
    if (ret == -ENOTSUP) {
        /* Fallback: write a zero buffer, 1 MiB at a time. */
        int64_t chunk = MIN(bytes, (int64_t)MiB);
        g_autofree void *zero = g_malloc0(MAX(chunk, 1));
        ret = 0;
        while (bytes > 0 && ret == 0) {
            int64_t n = MIN(bytes, chunk);
            struct iovec iov = { .iov_base = zero, .iov_len = n };
            ret = bs->drv->pwritev(bs, offset, n, &iov, 1, 0);
            offset += n;
            bytes -= n;
        }
    }
    if (ret == 0 && (flags & BDRV_REQ_FUA)) {
        ret = bdrv_flush(bs);
    }
    return ret;
}

int bdrv_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes)
{
    int ret;

    if (offset < 0 || bytes < 0) {
        return -EIO;
    }
    if (bs->read_only) {
        return -EACCES;
    }
    if (!bs->drv->pdiscard || !(bs->open_flags & BDRV_O_UNMAP)) {
        return 0;
    }
    ret = bs->drv->pdiscard(bs, offset, bytes);
    /* Discard is a hint: a host that cannot do it has done nothing wrong. */
    return ret == -ENOTSUP || ret == -EOPNOTSUPP ? 0 : ret;
}

bool bdrv_aio_rw(BlockDriverState *bs, KiteContext *ctx, BdrvAioOp op, int64_t offset,
                 int64_t bytes, struct iovec *iov, int niov, int flags,
                 BlockCompletionFunc *cb, void *opaque)
{
    if (!bs->drv->aio_rw || offset < 0 || bytes < 0) {
        return false;
    }
    if (op != BDRV_AIO_READ && (bs->read_only || (bs->open_flags & BDRV_O_NO_FLUSH))) {
        /* The synchronous path refuses the write or skips the flush at once. */
        return false;
    }
    return bs->drv->aio_rw(bs, ctx, op, offset, bytes, iov, niov, flags, cb, opaque);
}

void bdrv_aio_poll(BlockDriverState *bs)
{
    for (; bs; bs = bs->file) {
        if (bs->drv->aio_poll) {
            bs->drv->aio_poll(bs);
        }
    }
}

int bdrv_flush(BlockDriverState *bs)
{
    int ret = 0;

    if (!bs || bs->read_only || (bs->open_flags & BDRV_O_NO_FLUSH)) {
        return 0;
    }
    if (bs->drv->flush) {
        ret = bs->drv->flush(bs);
    }
    if (ret == 0 && bs->file) {
        ret = bdrv_flush(bs->file);
    }
    return ret;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    if (!bs->drv->getlength) {
        return bs->file ? bdrv_getlength(bs->file) : -ENOMEDIUM;
    }
    return bs->drv->getlength(bs);
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    if (bs->drv->get_allocated_file_size) {
        return bs->drv->get_allocated_file_size(bs);
    }
    return bs->file ? bdrv_get_allocated_file_size(bs->file) : -ENOTSUP;
}

int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    if (size < 0) {
        error_setg(errp, "Image size cannot be negative");
        return -EINVAL;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    if (!bs->drv->truncate) {
        error_setg(errp, "Image format '%s' does not support resizing",
                   bs->drv->format_name);
        return -ENOTSUP;
    }
    return bs->drv->truncate(bs, size, errp);
}

int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                      int64_t *map, BlockDriverState **file)
{
    int64_t len = bdrv_getlength(bs);
    int64_t dummy_map;
    BlockDriverState *dummy_file;
    int ret;

    map = map ? map : &dummy_map;
    file = file ? file : &dummy_file;
    *pnum = 0;
    if (len < 0) {
        return (int)len;
    }
    if (offset < 0 || bytes < 0) {
        return -EINVAL;
    }
    if (offset >= len) {
        return BDRV_BLOCK_EOF;
    }
    bytes = MIN(bytes, len - offset);
    if (bytes == 0) {
        return 0;
    }
    if (bs->drv->block_status) {
        ret = bs->drv->block_status(bs, offset, bytes, pnum, map, file);
        if (ret < 0) {
            return ret;
        }
        *pnum = MIN(*pnum, bytes);
    } else {
        *pnum = bytes;
        *map = offset;
        *file = bs->drv->is_protocol ? bs : bs->file;
        ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
    }
    if (offset + *pnum == len) {
        ret |= BDRV_BLOCK_EOF;
    }
    return ret;
}

int bdrv_block_status_above(BlockDriverState *bs, int64_t offset, int64_t bytes,
                            int64_t *pnum, int64_t *map, BlockDriverState **file, int *depth)
{
    int d = 0, ret;

    for (;;) {
        BlockDriverState *backing;
        ret = bdrv_block_status(bs, offset, bytes, pnum, map, file);
        if (ret < 0 || (ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) || *pnum == 0) {
            break;
        }
        /* Not defined here: the backing file decides, and without one it reads as zero
         * (as QEMU's generic block-status layer adds ZERO for a format without backing). */
        backing = bs->drv->supports_backing ? bs->backing : NULL;
        if (!backing) {
            ret |= BDRV_BLOCK_ZERO;
            break;
        }
        if (offset >= bdrv_getlength(backing)) {
            ret |= BDRV_BLOCK_ZERO;            /* beyond a shorter backing file */
            break;
        }
        bytes = *pnum;
        bs = backing;
        d++;
    }
    if (depth) {
        *depth = d;
    }
    return ret;
}

bool bdrv_is_read_only(BlockDriverState *bs)
{
    return bs->read_only;
}

const char *bdrv_get_format_name(BlockDriverState *bs)
{
    return bs->drv->format_name;
}

const char *bdrv_get_node_name(BlockDriverState *bs)
{
    return bs->node_name;
}

const char *bdrv_get_filename(BlockDriverState *bs)
{
    return bs->filename;
}

BlockDriverState *bdrv_get_backing(BlockDriverState *bs)
{
    return bs->backing;
}

const char *bdrv_get_backing_filename(BlockDriverState *bs)
{
    return bs->backing_file;
}

const char *bdrv_get_backing_format(BlockDriverState *bs)
{
    return bs->backing_format;
}

/* ------------------------------------------------------------------ tools */

int bdrv_create(const char *fmt, const char *filename, KiteOpts *opts, Error **errp)
{
    BlockDriver *drv = bdrv_find_format(fmt);
    g_autoptr(KiteOpts) o = opts_copy(opts);
    int ret;

    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return -EINVAL;
    }
    if (!drv->create) {
        error_setg(errp, "Format driver '%s' does not support image creation", fmt);
        return -ENOTSUP;
    }
    ret = drv->create(filename, o, errp);
    if (ret < 0) {
        return ret;
    }
    for (guint i = 0; i < o->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(o->items, i);
        if (!it->used) {
            error_setg(errp, "Invalid parameter '%s'", it->key);
            unlink(filename);
            return -EINVAL;
        }
    }
    return 0;
}

int bdrv_create_file(const char *filename, KiteOpts *opts, Error **errp)
{
    BlockDriver *drv = bdrv_find_format("file");
    g_autoptr(KiteOpts) empty = kite_opts_new();

    return drv->create(filename, opts ? opts : empty, errp);
}

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv->check) {
        return -ENOTSUP;
    }
    return bs->drv->check(bs, res, fix);
}

int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    bdi->specific = kite_opts_new();
    if (!bs->drv->get_info) {
        return 0;
    }
    return bs->drv->get_info(bs, bdi);
}

BlockTrayMovedHook *block_tray_moved_hook;

void blk_dev_tray_moved(BlockBackend *blk, bool open)
{
    if (blk && block_tray_moved_hook) {
        block_tray_moved_hook(blk, open);
    }
}
