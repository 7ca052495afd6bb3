/*
 * qcow2 metadata-overlap check (block/qcow2-overlap.c): hand-crafted images whose L2 entry
 * (or refcount) sends a guest write onto each kind of metadata QEMU's default "cached"
 * overlap check protects.  The write fails with -EIO, the metadata on disk is unchanged,
 * the image gets the corrupt bit and stderr says QEMU's "Marking image as corrupt:
 * Preventing invalid write on metadata (overlaps with ...)".  When qemu-io is installed the
 * same image is written by QEMU too, which must report the same kind of overlap.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include <sys/wait.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLUSTER 65536

static char *tmpdir;

static void file_put(const char *path, off_t off, const void *buf, size_t len)
{
    int fd = open(path, O_RDWR);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static void file_put64(const char *path, off_t off, uint64_t v)
{
    uint8_t b[8];

    qcow2_st64(b, v);
    file_put(path, off, b, 8);
}

static uint64_t file_get64(const char *path, off_t off)
{
    int fd = open(path, O_RDONLY);
    uint8_t b[8] = { 0 };

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, b, 8, off), ==, 8);
    close(fd);
    return qcow2_ld64(b);
}

typedef enum Case {
    CASE_ACTIVE_L2,
    CASE_REFCOUNT_BLOCK,
    CASE_SNAPSHOT_TABLE,
    CASE_INACTIVE_L1,
    CASE_ALLOC_ON_L2,       /* a zeroed refcount makes the allocator hand out the L2 table */
    CASE_ACTIVE_L1,
    CASE_REFCOUNT_TABLE,
} Case;

static const char *const case_what[] = {
    [CASE_ACTIVE_L2] = "active L2 table",
    [CASE_REFCOUNT_BLOCK] = "refcount block",
    [CASE_SNAPSHOT_TABLE] = "snapshot table",
    [CASE_INACTIVE_L1] = "inactive L1 table",
    [CASE_ALLOC_ON_L2] = "active L2 table",
    [CASE_ACTIVE_L1] = "active L1 table",
    [CASE_REFCOUNT_TABLE] = "refcount table",
};

/*
 * A 1 MiB image (64 KiB clusters) with guest cluster 0 written, then damaged for case c.
 * Returns the host offset of the metadata the next write to guest offset 64 KiB hits.
 */
static uint64_t make_case(const char *path, Case c)
{
    g_autoptr(KiteOpts) o = kite_opts_parse("size=1M", NULL, &error_abort);
    BlockDriverState *bs;
    uint8_t buf[4096];
    uint64_t l1off, l2off, rtoff, rboff, end, data;

    unlink(path);
    g_assert_cmpint(bdrv_create("qcow2", path, o, &error_abort), ==, 0);
    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    memset(buf, 0x5a, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite(bs, 0, sizeof(buf), buf), ==, 0);
    bdrv_unref(bs);

    l1off = file_get64(path, 40);
    rtoff = file_get64(path, 48);
    l2off = file_get64(path, l1off) & L1E_OFFSET_MASK;
    rboff = file_get64(path, rtoff) & REFT_OFFSET_MASK;
    g_assert_cmphex(l2off, !=, 0);
    g_assert_cmphex(rboff, !=, 0);

    switch (c) {
    case CASE_ACTIVE_L2:
        return l2off;
    case CASE_REFCOUNT_BLOCK:
        return rboff;
    case CASE_ACTIVE_L1:
        return l1off;
    case CASE_REFCOUNT_TABLE:
        return rtoff;
    case CASE_ALLOC_ON_L2: {
        /* 16-bit refcounts: the L2 table's count becomes 0, so it looks free. */
        uint8_t zero[2] = { 0, 0 };
        file_put(path, rboff + 2 * (l2off / CLUSTER), zero, 2);
        return l2off;
    }
    case CASE_SNAPSHOT_TABLE:
    case CASE_INACTIVE_L1: {
        /*
         * One snapshot appended at the end of the file: its table entry (spec "Snapshot
         * table entry": 40 bytes, 16 bytes of extra data, id "1", name "s"), then its own
         * L1 table, a copy of the active one.  The L2 table and the data cluster are now
         * shared (refcount 2, no COPIED flags) and the new clusters are counted: a consistent image.
         */
        struct stat st;
        uint8_t e[64] = { 0 }, hdr[12], rc[2];
        g_assert_cmpint(stat(path, &st), ==, 0);
        end = ROUND_UP((uint64_t)st.st_size, CLUSTER);
        qcow2_st64(e, end + CLUSTER);
        qcow2_st32(e + 8, 1);
        qcow2_st16(e + 12, 1);
        qcow2_st16(e + 14, 1);
        qcow2_st32(e + 36, 16);
        qcow2_st64(e + 48, 1 * MiB);
        e[56] = '1';
        e[57] = 's';
        file_put(path, end, e, sizeof(e));
        file_put64(path, end + CLUSTER, l2off);
        g_assert_cmpint(truncate(path, end + 2 * CLUSTER), ==, 0);
        qcow2_st32(hdr, 1);
        qcow2_st64(hdr + 4, end);
        file_put(path, 60, hdr, 12);                /* nb_snapshots, snapshots_offset */
        qcow2_st16(rc, 1);
        file_put(path, rboff + 2 * (end / CLUSTER), rc, 2);
        file_put(path, rboff + 2 * (end / CLUSTER + 1), rc, 2);
        qcow2_st16(rc, 2);
        file_put(path, rboff + 2 * (l2off / CLUSTER), rc, 2);
        file_put64(path, l1off, l2off);
        /* Guest cluster 0's data is shared too. */
        data = file_get64(path, l2off) & L2E_OFFSET_MASK;
        file_put(path, rboff + 2 * (data / CLUSTER), rc, 2);
        file_put64(path, l2off, data);
        return c == CASE_SNAPSHOT_TABLE ? end : end + CLUSTER;
    }
    }
    g_assert_not_reached();
}

static void point_l2_entry_at(const char *path, uint64_t target)
{
    uint64_t l2off = file_get64(path, file_get64(path, 40)) & L1E_OFFSET_MASK;

    /* Guest cluster 1, allocated and COPIED: written in place at target. */
    file_put64(path, l2off + 8, QCOW_OFLAG_COPIED | target);
}

/* Runs in a subprocess so its stderr can be checked. */
static void run_case(Case c)
{
    g_autofree char *path = g_build_filename(tmpdir, "ol.qcow2", NULL);
    uint64_t target = make_case(path, c), before;
    BlockDriverState *bs;
    uint8_t buf[4096];

    if (c != CASE_ALLOC_ON_L2) {
        point_l2_entry_at(path, target);
    }
    before = file_get64(path, target + 8);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, ==, 0);

    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite(bs, CLUSTER, sizeof(buf), buf), ==, -EIO);
    /* Marked corrupt: every later write fails too, reads of good data still work. */
    g_assert_cmpint(bdrv_pwrite(bs, 0, 512, buf), ==, -EIO);
    g_assert_cmpint(bdrv_pread(bs, 0, 512, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x5a);
    bdrv_unref(bs);

    g_assert_cmphex(file_get64(path, target + 8), ==, before);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, !=, 0);
    /* A read/write open is now refused, as QEMU does. */
    g_assert_null(bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, NULL));
}

/* QEMU on the same damaged image: the same overlap kind is reported. */
static void qemu_io_case(Case c)
{
    g_autofree char *path = g_build_filename(tmpdir, "ol-qemu.qcow2", NULL);
    g_autofree char *prog = g_find_program_in_path("qemu-io");
    g_autofree char *cmd = NULL, *out = NULL, *err = NULL;
    g_autofree char *want = g_strdup_printf("overlaps with %s", case_what[c]);
    uint64_t target;
    int status;

    if (!prog) {
        g_test_message("qemu-io not installed: QEMU comparison skipped");
        return;
    }
    target = make_case(path, c);
    if (c != CASE_ALLOC_ON_L2) {
        point_l2_entry_at(path, target);
    }
    cmd = g_strdup_printf("%s -f qcow2 -c 'write 64k 4k' %s", prog, path);
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
    if (!strstr(err, want) && !strstr(out, want)) {
        g_error("qemu-io: '%s%s' lacks '%s'", out, err, want);
    }
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, !=, 0);
}

static void test_overlap(gconstpointer data)
{
    Case c = GPOINTER_TO_INT(data);
    g_autofree char *want = NULL;

    if (g_test_subprocess()) {
        run_case(c);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed();
    want = g_strdup_printf("*qcow2: Marking image as corrupt: Preventing invalid write on "
                           "metadata (overlaps with %s); further corruption events will be "
                           "suppressed*", case_what[c]);
    g_test_trap_assert_stderr(want);
    qemu_io_case(c);
}

/* Snapshots present, no damage: writes (including the L2 copy-on-write) go through. */
static void test_no_false_positive(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "ok.qcow2", NULL);
    BlockDriverState *bs;
    uint8_t buf[4096], rd[4096];

    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");

    make_case(path, CASE_INACTIVE_L1);
    if (qemu_img) {
        /* The crafted snapshot is a valid one. */
        g_autofree char *cmd = g_strdup_printf("%s check -q %s", qemu_img, path);
        int status;
        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
    }
    bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &error_abort);
    for (int i = 0; i < 16; i++) {
        memset(buf, i + 1, sizeof(buf));
        g_assert_cmpint(bdrv_pwrite(bs, (uint64_t)i * CLUSTER, sizeof(buf), buf), ==, 0);
        g_assert_cmpint(bdrv_pread(bs, (uint64_t)i * CLUSTER, sizeof(rd), rd), ==, 0);
        g_assert_cmpmem(buf, sizeof(buf), rd, sizeof(rd));
    }
    bdrv_unref(bs);
    g_assert_cmpint(file_get64(path, 72) & QCOW2_INCOMPAT_CORRUPT, ==, 0);
    if (qemu_img) {
        g_autofree char *cmd = g_strdup_printf("%s check -q %s", qemu_img, path);
        int status;
        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
    }
}

int main(int argc, char **argv)
{
    static const struct { const char *name; Case c; } cases[] = {
        { "active-l2", CASE_ACTIVE_L2 },
        { "refcount-block", CASE_REFCOUNT_BLOCK },
        { "snapshot-table", CASE_SNAPSHOT_TABLE },
        { "inactive-l1", CASE_INACTIVE_L1 },
        { "alloc-on-l2", CASE_ALLOC_ON_L2 },
        { "active-l1", CASE_ACTIVE_L1 },
        { "refcount-table", CASE_REFCOUNT_TABLE },
    };
    g_autofree char *cmd = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("kite-qcow2-ol-XXXXXX", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *p = g_strdup_printf("/qcow2/overlap/%s", cases[i].name);
        g_test_add_data_func(p, GINT_TO_POINTER(cases[i].c), test_overlap);
    }
    g_test_add_func("/qcow2/overlap/no-false-positive", test_no_false_positive);
    ret = g_test_run();
    cmd = g_strdup_printf("rm -rf %s", tmpdir);
    g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL);
    g_free(tmpdir);
    return ret;
}
