/*
 * qcow2: format helpers over buffers, the driver (create, write, read back, reopen,
 * compressed clusters, zero clusters, grow), interop with qemu-img (check, compare, images
 * it creates) when it is installed, and malformed headers rejected with a clear error.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static bool have_qemu_img(void)
{
    g_autofree char *p = g_find_program_in_path("qemu-img");
    return p != NULL;
}

/* Run a command line; returns its exit status. */
static int run(const char *cmd)
{
    int status = -1;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL, *errout = NULL;

    if (!g_spawn_command_line_sync(cmd, &out, &errout, &status, &err)) {
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("%s:\n%s%s", cmd, out, errout);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void fill(uint8_t *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
    }
}

static void test_format_helpers(void)
{
    uint8_t buf[512] = { 0 }, rb[16] = { 0 };
    Qcow2Header h = { .version = 3, .cluster_bits = 16, .size = 64 * MiB, .l1_size = 1,
                      .l1_table_offset = 0x30000, .refcount_table_offset = 0x10000,
                      .refcount_table_clusters = 1, .refcount_order = 4 }, d;
    uint64_t e, off, len;

    g_assert_cmpint(qcow2_header_encode(&h, buf), ==, 112);
    g_assert_true(qcow2_header_decode(buf, sizeof(buf), &d, &error_abort));
    g_assert_cmpint(d.size, ==, 64 * MiB);
    g_assert_cmpint(d.header_length, ==, 112);
    g_assert_true(qcow2_header_validate(&d, 0x40000, &error_abort));
    g_assert_false(qcow2_header_validate(&d, 0x30004, NULL));      /* L1 beyond EOF */

    g_assert_true(qcow2_compressed_encode(0x12345, 3000, 16, &e));
    g_assert_cmpint(qcow2_l2_entry_type(e), ==, QCOW2_CLUSTER_COMPRESSED);
    qcow2_compressed_decode(e, 16, &off, &len);
    g_assert_cmpint(off, ==, 0x12345);
    g_assert_cmpint(len, >=, 3000);
    g_assert_cmpint(off + len, ==, ROUND_UP(0x12345 + 3000, 512));
    g_assert_cmpint(qcow2_l2_entry_type(QCOW_OFLAG_ZERO), ==, QCOW2_CLUSTER_ZERO_PLAIN);
    g_assert_cmpint(qcow2_l2_entry_type(0x50000 | QCOW_OFLAG_ZERO), ==,
                    QCOW2_CLUSTER_ZERO_ALLOC);

    for (int order = 0; order <= 6; order++) {
        memset(rb, 0, sizeof(rb));
        uint64_t max = order == 6 ? UINT64_MAX : (1ULL << (1 << order)) - 1;
        qcow2_refcount_set(rb, 1, order, max);
        g_assert_cmpuint(qcow2_refcount_get(rb, 1, order), ==, max);
        g_assert_cmpuint(qcow2_refcount_get(rb, 0, order), ==, 0);
    }
}

/* A header with one field changed must be refused with a message containing want. */
static void expect_bad(const char *name, void (*mutate)(Qcow2Header *h), int64_t flen,
                       const char *want)
{
    Qcow2Header h = { .version = 3, .cluster_bits = 16, .size = 64 * MiB, .l1_size = 1,
                      .l1_table_offset = 0x30000, .refcount_table_offset = 0x10000,
                      .refcount_table_clusters = 1, .refcount_order = 4,
                      .header_length = 112 };
    Error *err = NULL;

    mutate(&h);
    g_assert_false(qcow2_header_validate(&h, flen, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("%s: '%s' lacks '%s'", name, error_get_pretty(err), want);
    }
    error_free(err);
}

static void m_bits_low(Qcow2Header *h) { h->cluster_bits = 8; }
static void m_bits_high(Qcow2Header *h) { h->cluster_bits = 22; }
static void m_l1_eof(Qcow2Header *h) { h->l1_table_offset = 0x100000; }
static void m_l1_huge(Qcow2Header *h) { h->l1_size = 0x10000000; }
static void m_l1_header(Qcow2Header *h) { h->l1_table_offset = 0; }
static void m_rc_order(Qcow2Header *h) { h->refcount_order = 7; }
static void m_rt_huge(Qcow2Header *h) { h->refcount_table_clusters = 0xffffffff; }
static void m_incompat(Qcow2Header *h) { h->incompatible_features = 1ULL << 40; }
static void m_zstd(Qcow2Header *h)
{
    h->incompatible_features = QCOW2_INCOMPAT_COMPRESSION;
    h->compression_type = 1;
}
static void m_size(Qcow2Header *h) { h->size = 1ULL << 62; }
static void m_nothing(Qcow2Header *h) { }

static void test_malformed_headers(void)
{
    expect_bad("bits-low", m_bits_low, 0x40000, "cluster size");
    expect_bad("bits-high", m_bits_high, 0x40000, "cluster size");
    expect_bad("l1-eof", m_l1_eof, 0x40000, "beyond the end");
    expect_bad("l1-huge", m_l1_huge, 0x40000, "L1 table too large");
    expect_bad("l1-header", m_l1_header, 0x40000, "overlaps the image header");
    expect_bad("refcount-order", m_rc_order, 0x40000, "Refcount width");
    expect_bad("reftable-huge", m_rt_huge, 0x40000, "too large");
    expect_bad("incompat", m_incompat, 0x40000, "Unsupported qcow2 feature");
    expect_bad("zstd", m_zstd, 0x40000, "zstd");
    expect_bad("size", m_size, 0x40000, "too large");
    expect_bad("truncated", m_nothing, 0x20000, "beyond the end");
}

static BlockDriverState *create_open(const char *path, const char *opts_str)
{
    g_autoptr(KiteOpts) o = kite_opts_parse(opts_str, NULL, &error_abort);

    g_assert_cmpint(bdrv_create("qcow2", path, o, &error_abort), ==, 0);
    return bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
}

static void test_rw_roundtrip(void)
{
    g_autofree char *path = tpath("rw.qcow2");
    g_autofree char *raw = tpath("rw.raw");
    g_autofree uint8_t *data = g_malloc0(4 * MiB), *chk = g_malloc(4 * MiB);
    BlockDriverState *bs = create_open(path, "size=4M,cluster_size=4096");
    g_autofree char *cmd = NULL;

    /* Unaligned writes across clusters, a rewrite, a zero range, a discard. */
    fill(data + 1000, 200000, 1);
    g_assert_cmpint(bdrv_pwrite(bs, 1000, 200000, data + 1000), ==, 0);
    fill(data + 3 * MiB + 77, 9000, 2);
    g_assert_cmpint(bdrv_pwrite(bs, 3 * MiB + 77, 9000, data + 3 * MiB + 77), ==, 0);
    fill(data + 5000, 3000, 3);
    g_assert_cmpint(bdrv_pwrite(bs, 5000, 3000, data + 5000), ==, 0);
    memset(data + 40960, 0, 16384);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 40960, 16384, 0), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, 4 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 4 * MiB, data, 4 * MiB);
    bdrv_unref(bs);

    bs = bdrv_open(path, NULL, NULL, 0, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "qcow2");
    memset(chk, 0x55, 4 * MiB);
    g_assert_cmpint(bdrv_pread(bs, 0, 4 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 4 * MiB, data, 4 * MiB);
    BdrvCheckResult res;
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    bdrv_unref(bs);

    if (!have_qemu_img()) {
        return;
    }
    g_assert_true(g_file_set_contents(raw, (char *)data, 4 * MiB, NULL));
    cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
    g_assert_cmpint(run(cmd), ==, 0);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img compare -f qcow2 -F raw %s %s", path, raw);
    g_assert_cmpint(run(cmd), ==, 0);
}

static void test_grow_and_many_clusters(void)
{
    g_autofree char *path = tpath("grow.qcow2");
    /* 512-byte clusters: many L2 tables and several refcount blocks. */
    BlockDriverState *bs = create_open(path, "size=1M,cluster_size=512");
    g_autofree uint8_t *data = g_malloc(3 * MiB), *chk = g_malloc(3 * MiB);
    Error *err = NULL;
    BdrvCheckResult res;
    g_autofree char *cmd = NULL;

    fill(data, 3 * MiB, 9);
    g_assert_cmpint(bdrv_pwrite(bs, 0, 1 * MiB, data), ==, 0);
    g_assert_cmpint(bdrv_truncate(bs, 3 * MiB, &err), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 3 * MiB);
    g_assert_cmpint(bdrv_pwrite(bs, 1 * MiB, 2 * MiB, data + 1 * MiB), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, 3 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 3 * MiB, data, 3 * MiB);
    g_assert_cmpint(bdrv_truncate(bs, 1 * MiB, &err), <, 0);
    error_free(err);
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions + res.leaks, ==, 0);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 0);
    }
}

static void test_compressed_write(void)
{
    g_autofree char *path = tpath("c.qcow2");
    g_autofree char *raw = tpath("c.raw");
    BlockDriverState *bs = create_open(path, "size=1M");
    g_autofree uint8_t *data = g_malloc0(1 * MiB), *chk = g_malloc(1 * MiB);
    g_autofree char *cmd = NULL;

    for (int i = 0; i < 16; i++) {
        memset(data + i * 65536, 'a' + i, 1000 * (i + 1));
        g_assert_cmpint(qcow2_pwrite_compressed(bs, i * 65536, data + i * 65536, 65536), ==, 0);
    }
    g_assert_cmpint(bdrv_pread(bs, 0, 1 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 1 * MiB, data, 1 * MiB);
    /* Overwrite part of a compressed cluster: copy-on-write decompresses it. */
    memset(data + 65536 + 100, 'Z', 50);
    g_assert_cmpint(bdrv_pwrite(bs, 65536 + 100, 50, data + 65536 + 100), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, 1 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 1 * MiB, data, 1 * MiB);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        g_assert_true(g_file_set_contents(raw, (char *)data, 1 * MiB, NULL));
        cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 0);
        g_free(cmd);
        cmd = g_strdup_printf("qemu-img compare -f qcow2 -F raw %s %s", path, raw);
        g_assert_cmpint(run(cmd), ==, 0);
    }
}

/* Images qemu-img makes: plain, compressed, with a backing file and zero clusters. */
static void test_qemu_images(void)
{
    g_autofree char *raw = tpath("q.raw"), *plain = tpath("q.qcow2"), *comp = tpath("qc.qcow2");
    g_autofree char *ovl = tpath("qo.qcow2");
    g_autofree uint8_t *data = g_malloc(2 * MiB), *chk = g_malloc(2 * MiB);
    g_autofree char *cmd = NULL;
    BlockDriverState *bs;

    if (!have_qemu_img()) {
        g_test_skip("qemu-img not installed");
        return;
    }
    fill(data, 2 * MiB, 5);
    memset(data + MiB, 0, 200000);
    g_assert_true(g_file_set_contents(raw, (char *)data, 2 * MiB, NULL));
    cmd = g_strdup_printf("qemu-img convert -f raw -O qcow2 %s %s", raw, plain);
    g_assert_cmpint(run(cmd), ==, 0);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img convert -c -f raw -O qcow2 %s %s", raw, comp);
    g_assert_cmpint(run(cmd), ==, 0);
    for (int i = 0; i < 2; i++) {
        bs = bdrv_open(i ? comp : plain, "qcow2", NULL, 0, &error_abort);
        g_assert_cmpint(bdrv_pread(bs, 0, 2 * MiB, chk), ==, 0);
        g_assert_cmpmem(chk, 2 * MiB, data, 2 * MiB);
        bdrv_unref(bs);
    }
    /* Overlay on the raw file with a zero write and a data write. */
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img create -f qcow2 -b %s -F raw %s", raw, ovl);
    g_assert_cmpint(run(cmd), ==, 0);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-io -f qcow2 -c 'write -z 65536 131072' "
                          "-c 'write -P 0x77 300000 5000' %s", ovl);
    g_assert_cmpint(run(cmd), ==, 0);
    memset(data + 65536, 0, 131072);
    memset(data + 300000, 0x77, 5000);
    bs = bdrv_open(ovl, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    g_assert_nonnull(bs->backing);
    g_assert_cmpint(bdrv_pread(bs, 0, 2 * MiB, chk), ==, 0);
    g_assert_cmpmem(chk, 2 * MiB, data, 2 * MiB);
    /* A write of ours onto the overlay, checked by qemu-img afterwards. */
    fill(data + 1500000, 70000, 8);
    g_assert_cmpint(bdrv_pwrite(bs, 1500000, 70000, data + 1500000), ==, 0);
    bdrv_unref(bs);
    g_assert_true(g_file_set_contents(raw, (char *)data, 2 * MiB, NULL) || true);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img check -f qcow2 %s", ovl);
    g_assert_cmpint(run(cmd), ==, 0);
}

static void test_leak_found(void)
{
    g_autofree char *path = tpath("leak.qcow2");
    g_autofree char *cmd = NULL;
    BlockDriverState *bs = create_open(path, "size=1M");
    BdrvCheckResult res;
    BDRVQcow2State *s = bs->opaque;

    /* Allocate a cluster nothing refers to: a leak both checkers must report. */
    g_autofree uint8_t *z = g_malloc0(65536);
    int64_t off;
    g_mutex_lock(&s->lock);
    off = qcow2_alloc_clusters(bs, 1);
    g_mutex_unlock(&s->lock);
    g_assert_cmpint(off, >, 0);
    g_assert_cmpint(bdrv_pwrite(bs->file, off, 65536, z), ==, 0);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 3);
    }
    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    s = bs->opaque;
    s->check_quiet = true;
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.leaks, ==, 1);
    g_assert_cmpint(bdrv_check(bs, &res, BDRV_FIX_LEAKS), ==, 0);
    g_assert_cmpint(res.leaks_fixed, ==, 1);
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    bdrv_unref(bs);
}

/* A valid image whose L2 entry points into the header is refused at read time. */
static void test_corrupt_l2_entry(void)
{
    g_autofree char *path = tpath("bad.qcow2");
    BlockDriverState *bs = create_open(path, "size=1M");
    uint8_t buf[512] = { 1 };
    BDRVQcow2State *s = bs->opaque;
    uint64_t l2off, be;
    FILE *f;

    g_assert_cmpint(bdrv_pwrite(bs, 0, 512, buf), ==, 0);
    l2off = s->l1_table[0] & L1E_OFFSET_MASK;
    bdrv_unref(bs);
    /* Entry 0 -> host offset 0 (the header cluster). */
    f = fopen(path, "r+b");
    be = GUINT64_TO_BE(QCOW_OFLAG_COPIED | 0);
    fseek(f, l2off, SEEK_SET);
    be = GUINT64_TO_BE(QCOW_OFLAG_COPIED | 0x200ULL);
    fwrite(&be, 8, 1, f);
    fclose(f);
    bs = bdrv_open(path, "qcow2", NULL, 0, &error_abort);
    g_assert_cmpint(bdrv_pread(bs, 0, 512, buf), ==, -EIO);
    bdrv_unref(bs);
}

/* An image with the corrupt bit: read/write open refused, read-only open works (and reads
 * guest data when read_ok). */
static void expect_corrupt_bit(const char *path, bool read_ok)
{
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &err);
    uint8_t buf[512];

    g_assert_null(bs);
    g_assert_nonnull(strstr(error_get_pretty(err), "Image is corrupt; cannot be opened "
                                                   "read/write"));
    error_free(err);
    bs = bdrv_open(path, "qcow2", NULL, 0, &error_abort);
    if (read_ok) {
        uint8_t want[512];
        fill(want, sizeof(want), 3);
        g_assert_cmpint(bdrv_pread(bs, 0, 512, buf), ==, 0);
        g_assert_cmpmem(buf, 512, want, 512);
    }
    bdrv_unref(bs);
}
/* ------------------------------------------------------------ malformed image files */

static void file_put64(const char *path, off_t off, uint64_t v)
{
    int fd = open(path, O_RDWR);
    uint64_t be = GUINT64_TO_BE(v);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, &be, 8, off), ==, 8);
    close(fd);
}

static uint64_t file_get64(const char *path, off_t off)
{
    int fd = open(path, O_RDONLY);
    uint64_t be = 0;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, &be, 8, off), ==, 8);
    close(fd);
    return GUINT64_FROM_BE(be);
}

/* Opening path (read-only and read/write) fails with an error containing want. */
static void expect_open_fails(const char *path, const char *want)
{
    for (int rw = 0; rw < 2; rw++) {
        Error *err = NULL;
        BlockDriverState *bs = bdrv_open(path, "qcow2", NULL, rw ? BDRV_O_RDWR : 0, &err);

        g_assert_null(bs);
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), want)) {
            g_error("%s: '%s' lacks '%s'", path, error_get_pretty(err), want);
        }
        error_free(err);
    }
}

/* A small image with data in its first cluster; returns the L2 table's offset. */
static uint64_t make_image(const char *path, const char *opts)
{
    BlockDriverState *bs = create_open(path, opts);
    BDRVQcow2State *s = bs->opaque;
    uint8_t buf[4096];
    uint64_t l2off;

    fill(buf, sizeof(buf), 3);
    g_assert_cmpint(bdrv_pwrite(bs, 0, sizeof(buf), buf), ==, 0);
    l2off = s->l1_table[0] & L1E_OFFSET_MASK;
    bdrv_unref(bs);
    return l2off;
}

/* Truncated files: inside the header, and after the header but before its tables. */
static void test_bad_truncated(void)
{
    g_autofree char *path = tpath("trunc.qcow2");

    make_image(path, "size=1M");
    g_assert_cmpint(truncate(path, 50), ==, 0);
    expect_open_fails(path, "truncated");
    g_assert_cmpint(truncate(path, 0), ==, 0);
    expect_open_fails(path, "truncated");
    make_image(path, "size=1M");
    g_assert_cmpint(truncate(path, 65536), ==, 0);           /* header cluster only */
    expect_open_fails(path, "beyond the end of the image file");
}

/* The L1 table's offset (header byte 40) past the end of the file, and wrapping around. */
static void test_bad_l1_beyond_eof(void)
{
    g_autofree char *path = tpath("l1eof.qcow2");

    make_image(path, "size=1M");
    file_put64(path, 40, 0x7fff0000);
    expect_open_fails(path, "beyond the end of the image file");
    file_put64(path, 40, 0xffffffffffff0000ULL);
    expect_open_fails(path, "L1 table");
}

/*
 * Refcount overflow.  The refcount table's end wrapping past 2^64 is refused at open.  With
 * 1-bit refcounts (refcount_bits=1, maximum 1) compressed clusters must not share host
 * clusters, whose count would overflow: the data reads back and both checkers find no error.
 * A cluster referenced by two L2 entries in such an image is reported as corrupt, and the
 * repair, which would need a refcount of 2, fails cleanly instead of wrapping the count.
 */
static void test_bad_refcount_overflow(void)
{
    g_autofree char *path = tpath("rcovf.qcow2");
    g_autofree uint8_t *data = g_malloc0(8 * 65536), *chk = g_malloc(8 * 65536);
    g_autofree char *cmd = NULL;
    BlockDriverState *bs;
    BdrvCheckResult res;
    uint64_t l2off;

    make_image(path, "size=1M");
    file_put64(path, 48, 0xfffffffffff00000ULL);
    expect_open_fails(path, "Reference count table");

    bs = create_open(path, "size=1M,refcount_bits=1");
    for (int i = 0; i < 8; i++) {
        memset(data + i * 65536, 'a' + i, 100 * (i + 1));     /* compresses to a few bytes */
        g_assert_cmpint(qcow2_pwrite_compressed(bs, i * 65536, data + i * 65536, 65536), ==,
                        0);
    }
    g_assert_cmpint(bdrv_pread(bs, 0, 8 * 65536, chk), ==, 0);
    g_assert_cmpmem(chk, 8 * 65536, data, 8 * 65536);
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions + res.leaks + res.check_errors, ==, 0);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 0);
    }

    /* Guest cluster 1 pointing at guest cluster 0's host cluster: two references. */
    l2off = make_image(path, "size=1M,refcount_bits=1");
    file_put64(path, l2off + 8, file_get64(path, l2off));
    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    ((BDRVQcow2State *)bs->opaque)->check_quiet = true;
    memset(&res, 0, sizeof(res));
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 1);
    memset(&res, 0, sizeof(res));
    bdrv_check(bs, &res, BDRV_FIX_ERRORS | BDRV_FIX_LEAKS);
    g_assert_cmpint(res.corruptions_fixed, ==, 0);
    g_assert_cmpint(res.check_errors, ==, 1);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        g_free(cmd);
        cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 2);                     /* corruptions found */
    }
}

/*
 * Cluster offsets in the header area (host cluster 0; offset 0 itself means "unallocated"):
 * an L1 entry whose L2 table would be inside the header, and a compressed cluster whose data
 * would be read from the header.  Each read is an I/O error that also sets the corrupt bit
 * (incompatible feature bit 1) in the file, after which the image opens read-only only.
 * (/qcow2/corrupt-l2-entry covers a plain data cluster there.)
 */
static void test_bad_cluster_in_header(void)
{
    g_autofree char *path = tpath("inhdr.qcow2");
    BlockDriverState *bs;
    uint8_t buf[512];
    uint64_t l2off, e;

    for (int i = 0; i < 2; i++) {
        l2off = make_image(path, "size=1M");
        if (i == 0) {
            file_put64(path, file_get64(path, 40), QCOW_OFLAG_COPIED | 0x200);
        } else {
            g_assert_true(qcow2_compressed_encode(0x100, 1000, 16, &e));
            file_put64(path, l2off, e);
        }
        g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, ==, 0);
        bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
        g_assert_cmpint(bdrv_pread(bs, 0, 512, buf), ==, -EIO);
        g_assert_cmpint(bdrv_pwrite(bs, 0, 512, buf), ==, -EIO);
        bdrv_unref(bs);
        g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, !=, 0);
        expect_corrupt_bit(path, false);
    }
}

/*
 * QEMU's overlap check: an L2 entry (marked COPIED, so written in place) pointing at the
 * active L1 table or the refcount table must not let a guest write through; the write fails,
 * the metadata on disk is unchanged and the image is marked corrupt.
 */
static void test_bad_write_over_metadata(void)
{
    g_autofree char *path = tpath("overlap.qcow2");
    uint8_t buf[4096];

    memset(buf, 0xee, sizeof(buf));
    for (int i = 0; i < 2; i++) {
        uint64_t l2off = make_image(path, "size=1M"), target, before;
        BlockDriverState *bs;

        target = file_get64(path, i ? 48 : 40);             /* refcount table / L1 table */
        before = file_get64(path, target);
        file_put64(path, l2off + 8, QCOW_OFLAG_COPIED | target);
        bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
        g_assert_cmpint(bdrv_pwrite(bs, 65536, sizeof(buf), buf), ==, -EIO);
        g_assert_cmpint(bdrv_pwrite(bs, 65536 + 512, 512, buf), ==, -EIO);
        bdrv_unref(bs);
        g_assert_cmphex(file_get64(path, target), ==, before);
        g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, !=, 0);
    }
}

/* The corrupt bit set by hand: read/write refused with QEMU's message, read-only works. */
static void test_corrupt_bit(void)
{
    g_autofree char *path = tpath("cbit.qcow2");

    make_image(path, "size=1M");
    file_put64(path, 72, QCOW2_INCOMPAT_CORRUPT);
    expect_corrupt_bit(path, true);
}

/* Lazy refcounts are off unless asked for; with them on, the dirty bit is set on disk while
 * refcounts may be stale and cleared by a clean close. */
static void test_lazy_refcounts(void)
{
    g_autofree char *path = tpath("lazy.qcow2");
    uint8_t buf[4096] = { 7 };
    BlockDriverState *bs;

    make_image(path, "size=1M");
    g_assert_cmpint(file_get64(path, 80) & QCOW2_COMPAT_LAZY_REFCOUNTS, ==, 0);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, ==, 0);

    bs = create_open(path, "size=1M,lazy_refcounts=on");
    g_assert_cmpint(file_get64(path, 80) & QCOW2_COMPAT_LAZY_REFCOUNTS, !=, 0);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, ==, 0);
    g_assert_cmpint(bdrv_pwrite(bs, 65536, sizeof(buf), buf), ==, 0);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, !=, 0);
    bdrv_unref(bs);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, ==, 0);
}

/*
 * The dirty bit honoured: an image left dirty with a stale refcount (a data cluster counted
 * 0, as after a crash with lazy refcounts) is repaired when opened read/write, the bit is
 * cleared, and the data survives; opened read-only it is left alone.
 */
static void test_dirty_bit(void)
{
    g_autofree char *path = tpath("dirty.qcow2");
    uint8_t buf[4096], want[4096];
    BlockDriverState *bs;
    BdrvCheckResult res;
    uint64_t l2off, data_off, rt, rb;

    l2off = make_image(path, "size=1M,lazy_refcounts=on");
    fill(want, sizeof(want), 3);
    data_off = file_get64(path, l2off) & L2E_OFFSET_MASK;
    rt = file_get64(path, 48);
    rb = file_get64(path, rt);
    /* 16-bit refcounts: zero the data cluster's entry in the first refcount block. */
    {
        int fd = open(path, O_RDWR);
        uint16_t zero = 0;
        g_assert_cmpint(pwrite(fd, &zero, 2, rb + 2 * (data_off >> 16)), ==, 2);
        close(fd);
    }
    file_put64(path, 72, QCOW2_INCOMPAT_DIRTY);

    bs = bdrv_open(path, "qcow2", NULL, 0, &error_abort);
    ((BDRVQcow2State *)bs->opaque)->check_quiet = true;
    memset(&res, 0, sizeof(res));
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    /* As qemu-img counts: the refcount, and QCOW_OFLAG_COPIED on a refcount-0 cluster. */
    g_assert_cmpint(res.corruptions, ==, 2);
    bdrv_unref(bs);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, !=, 0);

    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_DIRTY, ==, 0);
    memset(&res, 0, sizeof(res));
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions + res.leaks, ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, sizeof(buf), buf), ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));
    bdrv_unref(bs);
}

/*
 * Guest data moves without the driver lock: threads writing (allocating, then in place),
 * discarding (frees, applied by a flushing thread) and reading back their own regions of
 * one image at once must each see exactly their data, and the image must check clean.
 */
#define CC_THREADS 4
#define CC_CLUSTERS 64                      /* per thread, 4 KiB clusters */

typedef struct CcThread {
    BlockDriverState *bs;
    int id;
    uint8_t *model;                         /* CC_CLUSTERS * 4096 expected bytes */
    bool ok;
} CcThread;

static gint cc_stop;

static gpointer cc_worker(gpointer opaque)
{
    CcThread *t = opaque;
    GRand *r = g_rand_new_with_seed(1234 + t->id);
    uint8_t buf[4096], chk[4096];

    t->ok = true;
    for (int it = 0; it < 600 && t->ok; it++) {
        /* Region: this thread's clusters interleaved with the others'. */
        int c = g_rand_int_range(r, 0, CC_CLUSTERS - 1);
        int64_t off = ((int64_t)c * CC_THREADS + t->id) * 4096;
        int op = g_rand_int_range(r, 0, 10);
        if (op < 5) {
            int k = g_rand_int_range(r, 1, 9), len = 512 * k;
            int in = 512 * g_rand_int_range(r, 0, 9 - k);      /* inside the cluster */
            fill(buf, len, it * 31 + t->id);
            if (bdrv_pwrite(t->bs, off + in, len, buf) != 0) {
                t->ok = false;
            }
            memcpy(t->model + (int64_t)c * 4096 + in, buf, len);
        } else if (op < 7) {
            if (bdrv_pdiscard(t->bs, off, 4096) != 0 ||
                bdrv_pwrite_zeroes(t->bs, off, 4096, 0) != 0) {
                t->ok = false;
            }
            memset(t->model + (int64_t)c * 4096, 0, 4096);
        } else {
            if (bdrv_pread(t->bs, off, 4096, chk) != 0 ||
                memcmp(chk, t->model + (int64_t)c * 4096, 4096)) {
                t->ok = false;
            }
        }
    }
    g_rand_free(r);
    return NULL;
}

static gpointer cc_flusher(gpointer opaque)
{
    while (!g_atomic_int_get(&cc_stop)) {
        g_assert_cmpint(bdrv_flush(opaque), ==, 0);
        g_usleep(200);
    }
    return NULL;
}

static void test_concurrent_io(void)
{
    g_autofree char *path = tpath("cc.qcow2");
    BlockDriverState *bs = create_open(path, "size=4M,cluster_size=4096");
    CcThread t[CC_THREADS];
    GThread *th[CC_THREADS], *fl;
    BdrvCheckResult res;
    uint8_t chk[4096];

    g_atomic_int_set(&cc_stop, 0);
    fl = g_thread_new("cc-flush", cc_flusher, bs);
    for (int i = 0; i < CC_THREADS; i++) {
        t[i] = (CcThread) { .bs = bs, .id = i, .model = g_malloc0(CC_CLUSTERS * 4096) };
        th[i] = g_thread_new("cc", cc_worker, &t[i]);
    }
    for (int i = 0; i < CC_THREADS; i++) {
        g_thread_join(th[i]);
        g_assert_true(t[i].ok);
    }
    g_atomic_int_set(&cc_stop, 1);
    g_thread_join(fl);
    for (int i = 0; i < CC_THREADS; i++) {
        for (int c = 0; c < CC_CLUSTERS; c++) {
            g_assert_cmpint(bdrv_pread(bs, ((int64_t)c * CC_THREADS + i) * 4096, 4096, chk),
                            ==, 0);
            g_assert_cmpmem(chk, 4096, t[i].model + c * 4096, 4096);
        }
        g_free(t[i].model);
    }
    g_assert_cmpint(bdrv_flush(bs), ==, 0);
    g_assert_cmpint(bdrv_check(bs, &res, 0), ==, 0);
    g_assert_cmpint(res.corruptions, ==, 0);
    g_assert_cmpint(res.leaks, ==, 0);
    bdrv_unref(bs);
    if (have_qemu_img()) {
        g_autofree char *cmd = g_strdup_printf("qemu-img check -f qcow2 %s", path);
        g_assert_cmpint(run(cmd), ==, 0);
    }
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("kite-qcow2-XXXXXX", NULL);
    g_test_add_func("/qcow2/format-helpers", test_format_helpers);
    g_test_add_func("/qcow2/malformed-headers", test_malformed_headers);
    g_test_add_func("/qcow2/rw-roundtrip", test_rw_roundtrip);
    g_test_add_func("/qcow2/grow-small-clusters", test_grow_and_many_clusters);
    g_test_add_func("/qcow2/compressed-write", test_compressed_write);
    g_test_add_func("/qcow2/qemu-images", test_qemu_images);
    g_test_add_func("/qcow2/leak", test_leak_found);
    g_test_add_func("/qcow2/corrupt-l2-entry", test_corrupt_l2_entry);
    g_test_add_func("/qcow2/malformed/truncated-file", test_bad_truncated);
    g_test_add_func("/qcow2/malformed/l1-beyond-eof", test_bad_l1_beyond_eof);
    g_test_add_func("/qcow2/malformed/refcount-overflow", test_bad_refcount_overflow);
    g_test_add_func("/qcow2/malformed/cluster-in-header", test_bad_cluster_in_header);
    g_test_add_func("/qcow2/malformed/write-over-metadata", test_bad_write_over_metadata);
    g_test_add_func("/qcow2/corrupt-bit", test_corrupt_bit);
    g_test_add_func("/qcow2/lazy-refcounts", test_lazy_refcounts);
    g_test_add_func("/qcow2/dirty-bit", test_dirty_bit);
    g_test_add_func("/qcow2/concurrent-io", test_concurrent_io);
    ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", tmpdir);
    run(cmd);
    g_free(tmpdir);
    return ret;
}
