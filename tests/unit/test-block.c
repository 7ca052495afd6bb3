/*
 * Block layer core: raw over file, probing, bounds, cache modes with unaligned buffers, image
 * locking (also against qemu-io when it is installed), creation and block status.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char *tmpdir;

static char *make_image(const char *name, int64_t size, uint8_t fill)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree uint8_t *buf = g_malloc(size);
    memset(buf, fill, size);
    g_assert_true(g_file_set_contents(path, (char *)buf, size, NULL));
    return path;
}

static void test_raw_rw(void)
{
    g_autofree char *path = make_image("rw.img", 64 * KiB, 0xaa);
    BlockDriverState *bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    uint8_t buf[4096], chk[4096];

    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "raw");
    g_assert_cmpstr(bdrv_get_format_name(bs->file), ==, "file");
    g_assert_cmpint(bdrv_getlength(bs), ==, 64 * KiB);
    g_assert_cmpint(bdrv_pread(bs, 100, 10, buf), ==, 0);
    for (int i = 0; i < 10; i++) {
        g_assert_cmpint(buf[i], ==, 0xaa);
    }
    for (int i = 0; i < 4096; i++) {
        buf[i] = i * 7;
    }
    g_assert_cmpint(bdrv_pwrite(bs, 8192 + 3, 4096, buf), ==, 0);
    g_assert_cmpint(bdrv_flush(bs), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 8192 + 3, 4096, chk), ==, 0);
    g_assert_cmpmem(buf, 4096, chk, 4096);

    /* Zeroes and discard read back as zeroes. */
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 16384, 8192, 0), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 16384, 4096, chk), ==, 0);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpmem(buf, 4096, chk, 4096);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 32768, 4096, BDRV_REQ_MAY_UNMAP), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 32768, 4096, chk), ==, 0);
    g_assert_cmpmem(buf, 4096, chk, 4096);
    g_assert_cmpint(bdrv_pdiscard(bs, 40960, 4096), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 64 * KiB);
    bdrv_unref(bs);

    /* An odd-sized file is a disk of whole sectors: the tail reads as zeros, as QEMU's. */
    {
        g_autofree char *odd = make_image("odd.img", 1000, 0x5a);
        BlockDriverState *o = bdrv_open(odd, "raw", NULL, BDRV_O_RDWR, &error_abort);
        struct stat st;

        g_assert_cmpint(bdrv_getlength(o), ==, 1024);
        g_assert_cmpint(bdrv_getlength(o->file), ==, 1000);
        memset(chk, 0xee, sizeof(chk));
        g_assert_cmpint(bdrv_pread(o, 512, 512, chk), ==, 0);
        for (int i = 0; i < 512; i++) {
            g_assert_cmpint(chk[i], ==, i < 488 ? 0x5a : 0);
        }
        memset(buf, 0x77, 512);
        g_assert_cmpint(bdrv_pwrite(o, 512, 512, buf), ==, 0);
        g_assert_cmpint(stat(odd, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 1024);
        bdrv_unref(o);
    }

    /* Through the host: the bytes landed where asked. */
    {
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        g_assert_cmpint(len, ==, 64 * KiB);
        for (int i = 0; i < 4096; i++) {
            g_assert_cmpint((uint8_t)data[8192 + 3 + i], ==, (uint8_t)(i * 7));
        }
        g_assert_cmpint((uint8_t)data[8192 + 2], ==, 0xaa);
        g_assert_cmpint((uint8_t)data[16384], ==, 0);
    }
}

static void test_read_only(void)
{
    g_autofree char *path = make_image("ro.img", 4 * KiB, 1);
    BlockDriverState *bs = bdrv_open(path, "raw", NULL, 0, &error_abort);
    uint8_t buf[512] = { 0 };

    g_assert_true(bdrv_is_read_only(bs));
    g_assert_cmpint(bdrv_pwrite(bs, 0, 512, buf), ==, -EACCES);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 0, 512, 0), ==, -EACCES);
    bdrv_unref(bs);
}

static void test_open_errors(void)
{
    g_autofree char *path = make_image("err.img", 4 * KiB, 1);
    g_autofree char *missing = g_build_filename(tmpdir, "missing.img", NULL);
    g_autoptr(KiteOpts) o = kite_opts_new();
    Error *err = NULL;

    g_assert_null(bdrv_open(missing, "raw", NULL, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Could not open"));
    g_assert_nonnull(strstr(error_get_pretty(err), "No such file"));
    error_free(err);
    err = NULL;
    g_assert_null(bdrv_open(path, "vmdk9", NULL, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Unknown driver 'vmdk9'");
    error_free(err);
    err = NULL;
    kite_opts_set(o, "bogus", "1");
    g_assert_null(bdrv_open(path, "raw", o, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'bogus'"));
    error_free(err);
    err = NULL;
    g_assert_null(bdrv_open(tmpdir, "raw", NULL, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "directory"));
    error_free(err);
}

static void test_probe_raw(void)
{
    g_autofree char *path = make_image("probe.img", 4 * KiB, 0);
    BlockDriverState *bs = bdrv_open(path, NULL, NULL, BDRV_O_RDWR, &error_abort);
    uint8_t sector[512] = { 0 };

    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "raw");
    /* Writes elsewhere, and sector 0 still raw-looking, are fine. */
    g_assert_cmpint(bdrv_pwrite(bs, 512, 512, sector), ==, 0);
    g_assert_cmpint(bdrv_pwrite(bs, 0, 512, sector), ==, 0);
    /* A partial sector 0 cannot be checked. */
    g_assert_cmpint(bdrv_pwrite(bs, 0, 100, sector), ==, -EINVAL);
    /* A header some format would claim is refused (only if such a format is built in). */
    memcpy(sector, "QFI\xfb\0\0\0\3", 8);
    if (bdrv_find_format("qcow2")) {
        g_assert_cmpint(bdrv_pwrite(bs, 0, 512, sector), ==, -EPERM);
    }
    bdrv_unref(bs);

    /* format=raw given: no restriction. */
    bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(bdrv_pwrite(bs, 0, 100, sector), ==, 0);
    bdrv_unref(bs);
}

static void test_node_names(void)
{
    g_autofree char *path = make_image("node.img", 4 * KiB, 0);
    g_autoptr(KiteOpts) o = kite_opts_new();
    g_autoptr(KiteOpts) o2 = kite_opts_new();
    BlockDriverState *bs, *top;
    Error *err = NULL;

    kite_opts_set(o, "node-name", "disk0");
    kite_opts_set(o, "driver", "file");
    kite_opts_set(o, "filename", path);
    kite_opts_set(o, "locking", "off");
    bs = bdrv_open(NULL, NULL, o, BDRV_O_RDWR, &error_abort);
    g_assert_true(bdrv_find_node("disk0") == bs);
    g_assert_null(bdrv_open(NULL, NULL, o, BDRV_O_RDWR, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Duplicate"));
    error_free(err);
    err = NULL;

    /* A format node over an existing protocol node (file=NODE). */
    kite_opts_set(o2, "driver", "raw");
    kite_opts_set(o2, "file", "disk0");
    top = bdrv_open(NULL, NULL, o2, BDRV_O_RDWR, &error_abort);
    g_assert_true(top->file == bs);
    bdrv_unref(top);
    g_assert_true(bdrv_find_node("disk0") == bs);
    bdrv_unref(bs);
    g_assert_null(bdrv_find_node("disk0"));
}

/* discard=ignore (the default) keeps the data; discard=unmap punches a hole. */
static void test_discard_policy(void)
{
    g_autofree char *path = make_image("discard.img", 64 * KiB, 0x5c);
    g_autoptr(KiteOpts) o = kite_opts_new();
    BlockDriverState *bs;
    Error *err = NULL;
    uint8_t buf[4096];

    bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(bdrv_pdiscard(bs, 8192, 4096), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 8192, 4096, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x5c);
    bdrv_unref(bs);

    kite_opts_set(o, "discard", "unmap");
    bs = bdrv_open(path, "raw", o, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(bdrv_pdiscard(bs, 8192, 4096), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 8192, 4096, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0);
    g_assert_cmpint(buf[4095], ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 12288, 1, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x5c);
    g_assert_cmpint(bdrv_getlength(bs), ==, 64 * KiB);
    bdrv_unref(bs);

    kite_opts_set(o, "discard", "sometimes");
    g_assert_null(bdrv_open(path, "raw", o, BDRV_O_RDWR, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'sometimes'"));
    error_free(err);
}

/* cache=none: O_DIRECT with buffers, offsets and lengths at odd bytes. */
static void test_direct_unaligned(void)
{
    g_autofree char *path = make_image("direct.img", 64 * KiB, 0x11);
    BlockDriverState *bs;
    Error *err = NULL;
    uint8_t *raw = g_malloc(8192 + 1);
    uint8_t *buf = raw + 1;            /* deliberately misaligned */
    uint8_t chk[8192];

    bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR | BDRV_O_NOCACHE, &err);
    if (!bs) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        g_free(raw);
        return;
    }
    g_assert_cmpint(bs->file->request_alignment, >=, 512);
    for (int i = 0; i < 8192; i++) {
        buf[i] = i ^ 0x5a;
    }
    g_assert_cmpint(bdrv_pwrite(bs, 1000, 3000, buf), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 1000, 3000, chk), ==, 0);
    g_assert_cmpmem(buf, 3000, chk, 3000);
    /* Neighbouring bytes of the partial blocks survive the read-modify-write. */
    g_assert_cmpint(bdrv_pread(bs, 999, 1, chk), ==, 0);
    g_assert_cmpint(chk[0], ==, 0x11);
    g_assert_cmpint(bdrv_pread(bs, 4000, 1, chk), ==, 0);
    g_assert_cmpint(chk[0], ==, 0x11);
    /* Aligned offset, misaligned buffer. */
    g_assert_cmpint(bdrv_pwrite(bs, 8192, 4096, buf), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 8192, 4096, chk), ==, 0);
    g_assert_cmpmem(buf, 4096, chk, 4096);
    /* An unaligned write at the end grows the file to exactly its end, not a block more. */
    g_assert_cmpint(bdrv_pwrite(bs->file, 64 * KiB, 100, buf), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs->file), ==, 64 * KiB + 100);
    g_assert_cmpint(bdrv_pread(bs, 64 * KiB, 100, chk), ==, 0);
    g_assert_cmpmem(buf, 100, chk, 100);
    bdrv_unref(bs);
    g_free(raw);
}

static void test_locking(void)
{
    g_autofree char *path = make_image("lock.img", 4 * KiB, 0);
    g_autoptr(KiteOpts) nolock = kite_opts_new();
    BlockDriverState *w, *r, *w2, *r2;
    Error *err = NULL;

    w = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    w2 = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &err);
    g_assert_null(w2);
    g_assert_cmpstr(error_get_pretty(err), ==, "Failed to get \"write\" lock");
    error_free(err);
    err = NULL;
    /* As qemu-io -r: a raw reader lets others write, so it opens beside a writer. */
    r = bdrv_open(path, "raw", NULL, 0, &error_abort);
    bdrv_unref(r);
    kite_opts_set(nolock, "file.locking", "off");
    w2 = bdrv_open(path, "raw", nolock, BDRV_O_RDWR, &error_abort);
    bdrv_unref(w2);
    bdrv_unref(w);

    /* Two raw readers share, and still let a writer in (QEMU's raw passes its user's
     * permissions on; a reader shares everything). */
    r = bdrv_open(path, "raw", NULL, 0, &error_abort);
    r2 = bdrv_open(path, "raw", NULL, 0, &error_abort);
    w = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    bdrv_unref(w);
    bdrv_unref(r);
    bdrv_unref(r2);
}

/* QEMU sees our locks and we see QEMU's. */
static void test_locking_qemu(void)
{
    g_autofree char *path = make_image("lockq.img", 64 * KiB, 0);
    g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
    g_autofree char *out = NULL, *errout = NULL;
    g_autofree char *cmd = NULL;
    BlockDriverState *w;
    int status;

    if (!qemu_io) {
        g_test_skip("qemu-io not installed");
        return;
    }
    w = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    cmd = g_strdup_printf("%s -f raw -c 'write 0 512' %s", qemu_io, path);
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &errout, &status, NULL));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(errout, "lock"));
    bdrv_unref(w);
    g_free(out);
    g_free(errout);
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &errout, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));

    /* The other way: a qemu-io holding the image open while Kite tries to write. */
    {
        g_autofree char *fifo = g_build_filename(tmpdir, "qio.fifo", NULL);
        g_autofree char *bg = NULL;
        Error *err = NULL;
        GPid pid;
        mkfifo(fifo, 0600);
        /* qemu-io reads commands from the fifo: it stays open until we write "quit". */
        bg = g_strdup_printf("sh -c 'exec %s -f raw %s < %s > /dev/null 2>&1'",
                             qemu_io, path, fifo);
        gchar **argv = NULL;
        g_assert_true(g_shell_parse_argv(bg, NULL, &argv, NULL));
        g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL, NULL,
                                    &pid, NULL));
        g_strfreev(argv);
        int fd = open(fifo, O_WRONLY);
        g_assert_cmpint(fd, >=, 0);
        /* Wait until qemu-io has the image open (it answers a command). */
        BlockDriverState *bs = NULL;
        for (int i = 0; i < 200; i++) {
            bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &err);
            if (!bs) {
                break;
            }
            bdrv_unref(bs);
            g_usleep(20000);
        }
        g_assert_null(bs);
        g_assert_nonnull(strstr(error_get_pretty(err), "lock"));
        error_free(err);
        g_assert_cmpint(write(fd, "quit\n", 5), ==, 5);
        close(fd);
        waitpid(pid, NULL, 0);
        g_spawn_close_pid(pid);
    }
}

static void test_create_and_status(void)
{
    g_autofree char *path = g_build_filename(tmpdir, "created.img", NULL);
    g_autoptr(KiteOpts) o = kite_opts_new();
    BlockDriverState *bs;
    Error *err = NULL;
    int64_t pnum, map;
    BlockDriverState *file;
    uint8_t buf[4096];
    int ret;

    kite_opts_set(o, "size", "1M");
    g_assert_cmpint(bdrv_create("raw", path, o, &error_abort), ==, 0);
    bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(bdrv_getlength(bs), ==, MiB);
    ret = bdrv_block_status(bs, 0, MiB, &pnum, &map, &file);
    g_assert_cmpint(ret, >=, 0);
    g_assert_true(ret & BDRV_BLOCK_ZERO);      /* a fresh sparse file is one hole */
    memset(buf, 0xcc, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite(bs, 512 * KiB, 4096, buf), ==, 0);
    ret = bdrv_block_status(bs, 512 * KiB, 4096, &pnum, &map, &file);
    g_assert_true(ret & BDRV_BLOCK_DATA);
    g_assert_cmpint(map, ==, 512 * KiB);
    g_assert_true(file == bs->file);
    g_assert_cmpint(bdrv_truncate(bs, 2 * MiB, &error_abort), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 2 * MiB);
    bdrv_unref(bs);

    kite_opts_set(o, "colour", "blue");
    g_assert_cmpint(bdrv_create("raw", path, o, &err), <, 0);
    g_assert_cmpstr(error_get_pretty(err), ==, "Invalid parameter 'colour'");
    error_free(err);
}

/*
 * The file driver caches the file's length: every way this node changes the size must show
 * in the next bdrv_getlength (a stale length would turn valid guest I/O into EIO, or let
 * qcow2 allocate clusters over data it just wrote).
 */
static void test_length_cache(void)
{
    g_autofree char *path = make_image("len.img", 64 * KiB, 0x22);
    BlockDriverState *bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &error_abort);
    BlockDriverState *d;
    Error *err = NULL;
    uint8_t *buf = g_malloc0(8192 + 1);
    struct stat st;

    g_assert_cmpint(bdrv_getlength(bs), ==, 64 * KiB);
    g_assert_cmpint(bdrv_pwrite(bs->file, 64 * KiB + 4096, 4096, buf), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 72 * KiB);
    g_assert_cmpint(bdrv_pwrite(bs->file, 1024, 4096, buf), ==, 0);   /* inside: no change */
    g_assert_cmpint(bdrv_getlength(bs), ==, 72 * KiB);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs->file, 72 * KiB, 8192, 0), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 80 * KiB);
    g_assert_cmpint(bdrv_pwrite_zeroes(bs->file, 80 * KiB, 4096, BDRV_REQ_MAY_UNMAP), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 84 * KiB);
    g_assert_cmpint(bdrv_truncate(bs, 16 * KiB, &error_abort), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 16 * KiB);
    g_assert_cmpint(bdrv_truncate(bs, 128 * KiB, &error_abort), ==, 0);
    g_assert_cmpint(bdrv_getlength(bs), ==, 128 * KiB);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 128 * KiB);
    bdrv_unref(bs);

    /* cache=none: a misaligned tail past the end is padded, then cut back to its end. */
    d = bdrv_open(path, "raw", NULL, BDRV_O_RDWR | BDRV_O_NOCACHE, &err);
    if (!d) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        g_free(buf);
        return;
    }
    g_assert_cmpint(bdrv_getlength(d->file), ==, 128 * KiB);
    g_assert_cmpint(bdrv_pwrite(d->file, 128 * KiB, 100, buf + 1), ==, 0);
    g_assert_cmpint(bdrv_getlength(d->file), ==, 128 * KiB + 100);
    g_assert_cmpint(bdrv_pwrite(d->file, 128 * KiB + 100, 8192, buf), ==, 0);
    g_assert_cmpint(bdrv_getlength(d->file), ==, 128 * KiB + 100 + 8192);
    bdrv_unref(d);
    g_free(buf);
}

/* snapshot=on: writes go to a temporary qcow2 overlay; the image itself is untouched. */
static void test_snapshot(void)
{
    g_autofree char *path = make_image("snap.img", 64 * KiB, 0x33);
    BlockDriverState *bs, *w;
    Error *err = NULL;
    uint8_t buf[512];

    bs = bdrv_open(path, "raw", NULL, BDRV_O_RDWR | BDRV_O_SNAPSHOT, &err);
    if (!bdrv_find_format("qcow2")) {
        g_assert_null(bs);
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "snapshot=on needs the qcow2 driver, which this build lacks");
        error_free(err);
        return;
    }
    g_assert_nonnull(bs);
    g_assert_cmpstr(bdrv_get_format_name(bs), ==, "qcow2");
    g_assert_cmpint(bdrv_getlength(bs), ==, 64 * KiB);
    memset(buf, 0x77, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite(bs, 512, 512, buf), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, 512, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x33);
    g_assert_cmpint(bdrv_pread(bs, 512, 512, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x77);
    /* The base is opened read-only: another reader may share it, a writer may not. */
    g_assert_null(bdrv_open(path, "raw", NULL, BDRV_O_RDWR, &err));
    error_free(err);
    bdrv_unref(bs);
    w = bdrv_open(path, "raw", NULL, 0, &error_abort);
    g_assert_cmpint(bdrv_pread(w, 512, 512, buf), ==, 0);
    g_assert_cmpint(buf[0], ==, 0x33);
    bdrv_unref(w);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* $TMPDIR: on tmpfs the O_DIRECT test skips itself (tmpfs has no O_DIRECT). */
    tmpdir = g_dir_make_tmp("kite-test-block-XXXXXX", NULL);
    g_test_add_func("/block/raw-rw", test_raw_rw);
    g_test_add_func("/block/read-only", test_read_only);
    g_test_add_func("/block/open-errors", test_open_errors);
    g_test_add_func("/block/probe-raw", test_probe_raw);
    g_test_add_func("/block/node-names", test_node_names);
    g_test_add_func("/block/discard-policy", test_discard_policy);
    g_test_add_func("/block/direct-unaligned", test_direct_unaligned);
    g_test_add_func("/block/locking", test_locking);
    g_test_add_func("/block/locking-qemu", test_locking_qemu);
    g_test_add_func("/block/create-status", test_create_and_status);
    g_test_add_func("/block/snapshot", test_snapshot);
    g_test_add_func("/block/length-cache", test_length_cache);
    ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        ret = ret ? ret : 1;
    }
    return ret;
}
