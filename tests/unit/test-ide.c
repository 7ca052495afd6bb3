/*
 * The ATA/ATAPI state machine (hw/ide/ide-core.c, atapi.c) driven without a VM: asynchronous
 * disk I/O (BSY while a request runs, the vCPU never waits), werror/rerror (report -> ATA
 * error status, ignore, stop -> io-error run state and a retry when the VM runs again),
 * a request parked by werror=stop migrating to another channel and completing there,
 * a reset cancelling a request in flight, and CD unit attention after a medium change.
 * The disk is a raw file under a test format driver that fails on demand.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/block_int.h"
#include "hw/ide/ide-core.h"
#include "kite/main-loop.h"
#include "kite/runstate.h"
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define NSECT 64
#define RAM_SIZE (1 << 20)
#define PRD 0x1000
#define BUF 0x10000

static int fail_read, fail_write;                 /* positive errno to fail with, or 0 */
static int reads, writes;
static uint8_t ram[RAM_SIZE];
static char *img;
static BlockBackend *blk;
static IDEChannel ch;

/* ---- a format that passes through to its file, or fails --------------------------- */

static int faulty_open(BlockDriverState *bs, KiteOpts *opts, int flags, Error **errp)
{
    return 0;
}

static int faulty_preadv(BlockDriverState *bs, int64_t off, int64_t bytes, struct iovec *iov,
                         int niov)
{
    g_atomic_int_inc(&reads);
    return fail_read ? -fail_read : bdrv_preadv(bs->file, off, bytes, iov, niov);
}

static int faulty_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                          struct iovec *iov, int niov, int flags)
{
    g_atomic_int_inc(&writes);
    return fail_write ? -fail_write : bdrv_pwritev(bs->file, off, bytes, iov, niov, flags);
}

static int64_t faulty_getlength(BlockDriverState *bs)
{
    return bdrv_getlength(bs->file);
}

static BlockDriver faulty = {
    .format_name = "ide-test-faulty",
    .open = faulty_open,
    .preadv = faulty_preadv,
    .pwritev = faulty_pwritev,
    .getlength = faulty_getlength,
};

/* ---- harness ----------------------------------------------------------------------- */

static bool ram_rw(void *opaque, uint64_t addr, void *buf, uint32_t len, bool to_mem)
{
    if (addr >= RAM_SIZE || len > RAM_SIZE - addr) {
        return false;
    }
    memcpy(to_mem ? ram + addr : buf, to_mem ? buf : ram + addr, len);
    return true;
}

static uint8_t pattern(uint32_t lba, uint32_t i)
{
    return lba * 3 + i * 7;
}

static void setup(IDEDriveKind kind, BlockdevOnError rerror, BlockdevOnError werror)
{
    int fd;
    g_autofree uint8_t *data = g_malloc(NSECT * 512);

    for (uint32_t i = 0; i < NSECT * 512; i++) {
        data[i] = pattern(i / 512, i % 512);
    }
    fd = g_file_open_tmp("kite-test-ide-XXXXXX", &img, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, data, NSECT * 512), ==, NSECT * 512);
    close(fd);
    blk = blk_new_open("ide-test", img, "ide-test-faulty", NULL, BDRV_O_RDWR, &error_abort);
    blk_set_on_error(blk, rerror, werror);
    memset(&ch, 0, sizeof(ch));
    ch.dma_rw = ram_rw;
    ide_attach(&ch.ifs[0], kind, blk, "TEST");
    ide_channel_reset(&ch);
    fail_read = fail_write = reads = writes = 0;
}

static void teardown(void)
{
    ide_attach(&ch.ifs[0], IDE_NONE, NULL, NULL);
    blk_unref(blk);
    g_unlink(img);
    g_free(img);
    system_take_stop_request();
}

static uint8_t status(void)
{
    return ide_altstatus_read(&ch);
}

/* Let completions run (what the main loop does between vCPU accesses). */
static void settle(void)
{
    blk_drain(blk);
}

static void command_lba(uint8_t cmd, uint32_t lba, uint8_t count)
{
    ide_ioport_write(&ch, 6, 0xe0, 1);
    ide_ioport_write(&ch, 2, count, 1);
    ide_ioport_write(&ch, 3, lba, 1);
    ide_ioport_write(&ch, 4, lba >> 8, 1);
    ide_ioport_write(&ch, 5, lba >> 16, 1);
    ide_ioport_write(&ch, 7, cmd, 1);
}

static void prd(uint32_t addr, uint32_t len)
{
    uint32_t e[2] = { GUINT32_TO_LE(addr), GUINT32_TO_LE(len | 0x80000000u) };

    memcpy(ram + PRD, e, 8);
    ide_bm_write(&ch, 4, PRD, 4);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_async_pio_dma(void)
{
    setup(IDE_HD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_AUTO);
    /* READ SECTORS: BSY (no DRQ) until the disk answers; the caller did not wait. */
    command_lba(0x20, 5, 2);
    g_assert_cmphex(status() & 0x88, ==, 0x80);
    settle();
    g_assert_cmphex(status(), ==, 0x58);
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 512; i += 2) {
            uint16_t w = ide_ioport_read(&ch, 0, 2);
            g_assert_cmphex(w & 0xff, ==, pattern(5 + s, i));
            g_assert_cmphex(w >> 8, ==, pattern(5 + s, i + 1));
        }
        settle();
    }
    g_assert_cmphex(status(), ==, 0x50);

    /* WRITE DMA of 3 sectors (spanning DMA chunks is the same path), then read back. */
    for (int i = 0; i < 3 * 512; i++) {
        ram[BUF + i] = i ^ 0xa5;
    }
    prd(BUF, 3 * 512);
    command_lba(0xca, 10, 3);
    ide_bm_write(&ch, 0, 0x01, 1);
    settle();
    g_assert_cmphex(status(), ==, 0x50);
    g_assert_cmphex(ide_bm_read(&ch, 2, 1) & 0x07, ==, 0x04);
    ide_bm_write(&ch, 0, 0, 1);
    memset(ram + BUF, 0, 3 * 512);
    prd(BUF, 3 * 512);
    command_lba(0xc8, 10, 3);
    ide_bm_write(&ch, 0, 0x09, 1);
    settle();
    for (int i = 0; i < 3 * 512; i++) {
        g_assert_cmphex(ram[BUF + i], ==, (uint8_t)(i ^ 0xa5));
    }
    /* FLUSH CACHE is a request too. */
    ide_ioport_write(&ch, 7, 0xe7, 1);
    settle();
    g_assert_cmphex(status(), ==, 0x50);
    teardown();
}

static void test_rerror_report_ignore(void)
{
    setup(IDE_HD, BLOCKDEV_ON_ERROR_REPORT, BLOCKDEV_ON_ERROR_IGNORE);
    fail_read = EIO;
    command_lba(0x20, 0, 1);
    settle();
    /* report: ERR with UNC/ABRT, no data phase, the VM keeps running. */
    g_assert_cmphex(status(), ==, 0x41);
    g_assert_cmphex(ide_ioport_read(&ch, 1, 1), ==, 0x44);
    g_assert_cmpint(system_take_stop_request(), ==, 0);
    /* werror=ignore: the failed write completes as if it had worked. */
    fail_read = 0;
    fail_write = EIO;
    command_lba(0x30, 0, 1);
    for (int i = 0; i < 256; i++) {
        ide_ioport_write(&ch, 0, 0x1234, 2);
    }
    settle();
    g_assert_cmphex(status(), ==, 0x50);
    g_assert_cmpint(writes, ==, 1);
    teardown();
}

static void test_werror_stop_retry(void)
{
    setup(IDE_HD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_AUTO);
    /* Default werror=enospc: ENOSPC stops the VM (io-error), the request waits, BSY. */
    fail_write = ENOSPC;
    for (int i = 0; i < 512; i++) {
        ram[BUF + i] = 0x77;
    }
    prd(BUF, 512);
    command_lba(0xca, 20, 1);
    ide_bm_write(&ch, 0, 0x01, 1);
    settle();
    g_assert_cmpint(system_take_stop_request(), ==, RUN_STATE_IO_ERROR + 1);
    g_assert_cmphex(status() & 0x80, ==, 0x80);
    g_assert_cmpint(writes, ==, 1);
    /* Space freed, cont: the same write goes again and the command completes. */
    fail_write = 0;
    ide_channel_resume(&ch);
    settle();
    g_assert_cmpint(writes, ==, 2);
    g_assert_cmphex(status(), ==, 0x50);
    {
        uint8_t sec[512];
        g_assert_cmpint(blk_pread(blk, 20 * 512, 512, sec), ==, 0);
        for (int i = 0; i < 512; i++) {
            g_assert_cmphex(sec[i], ==, 0x77);
        }
    }
    /* Other write errors are reported under enospc. */
    fail_write = EIO;
    command_lba(0x30, 0, 1);
    for (int i = 0; i < 256; i++) {
        ide_ioport_write(&ch, 0, 0, 2);
    }
    settle();
    g_assert_cmphex(status(), ==, 0x41);
    g_assert_cmpint(system_take_stop_request(), ==, 0);
    teardown();
}

/* A DMA write parked by werror=stop moves to another channel and completes there. */
static void test_retry_migration(void)
{
    static IDEChannel dst;
    GByteArray *buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    uint8_t sec[512];

    setup(IDE_HD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_STOP);
    for (int i = 0; i < 2 * 512; i++) {
        ram[BUF + i] = i * 13;
    }
    prd(BUF, 2 * 512);
    fail_write = EIO;
    command_lba(0xca, 30, 2);
    ide_bm_write(&ch, 0, 0x01, 1);
    settle();
    g_assert_cmpint(system_take_stop_request(), ==, RUN_STATE_IO_ERROR + 1);
    g_assert_true(ch.ifs[0].io_retry);
    g_assert_cmpint(vmstate_save(buf, &vmstate_ide_channel, &ch, &err), ==, 0);
    fail_write = 0;
    /* The source goes away (its parked request with it); the destination loads. */
    ch.ifs[0].io_retry = false;
    memset(&dst, 0, sizeof(dst));
    dst.dma_rw = ram_rw;
    ide_attach(&dst.ifs[0], IDE_HD, blk, "TEST");
    ide_channel_reset(&dst);
    memset(ram + BUF, 0, 2 * 512);                 /* the data travels in the stream */
    if (!vmstate_load(buf->data, buf->len, &pos, &vmstate_ide_channel, &dst, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_true(dst.ifs[0].io_retry);
    g_assert_cmphex(ide_altstatus_read(&dst) & 0x80, ==, 0x80);
    ide_channel_resume(&dst);
    blk_drain(blk);
    g_assert_cmphex(ide_altstatus_read(&dst), ==, 0x50);
    for (int s = 0; s < 2; s++) {
        g_assert_cmpint(blk_pread(blk, (30 + s) * 512, 512, sec), ==, 0);
        for (int i = 0; i < 512; i++) {
            g_assert_cmphex(sec[i], ==, (uint8_t)((s * 512 + i) * 13));
        }
    }
    ide_attach(&dst.ifs[0], IDE_NONE, NULL, NULL);
    g_byte_array_free(buf, true);
    teardown();
}

static void test_reset_cancels(void)
{
    setup(IDE_HD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_AUTO);
    command_lba(0x20, 1, 1);
    /* SRST while the read is in flight: the result is dropped, the device is reset. */
    ide_devctl_write(&ch, 0x04);
    ide_devctl_write(&ch, 0x00);
    settle();
    g_assert_cmphex(status(), ==, 0x50);
    g_assert_false(ch.ifs[0].io_busy);
    g_assert_cmpuint(ch.ifs[0].xfer, ==, XFER_NONE);
    teardown();
}

static void packet(const uint8_t *cdb)
{
    ide_ioport_write(&ch, 1, 0, 1);
    ide_ioport_write(&ch, 4, 0xfe, 1);
    ide_ioport_write(&ch, 5, 0xff, 1);
    ide_ioport_write(&ch, 7, 0xa0, 1);
    for (int i = 0; i < 12; i += 2) {
        ide_ioport_write(&ch, 0, cdb[i] | cdb[i + 1] << 8, 2);
    }
    settle();
}

static void test_cd_unit_attention(void)
{
    uint8_t tur[12] = { 0 }, rs[12] = { 0x03, 0, 0, 0, 18 };
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 1 };
    uint8_t buf[2048];

    setup(IDE_CD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_AUTO);
    packet(tur);
    g_assert_cmphex(status() & 0x01, ==, 0);
    ide_cd_medium_changed(&ch.ifs[0], true);
    /* GESN is exempt from the unit attention and reports NewMedia once. */
    packet(gesn);
    for (int i = 0; i < 8; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        buf[i] = w;
        buf[i + 1] = w >> 8;
    }
    g_assert_cmphex(buf[4], ==, 2);
    /*
     * As QEMU: the next TEST UNIT READY fails NOT READY / MEDIUM NOT PRESENT (the old
     * medium went), the one after UNIT ATTENTION / 28h (a new one came), then it is ready.
     */
    packet(tur);
    g_assert_cmphex(status() & 0x01, ==, 0x01);
    g_assert_cmphex(ide_ioport_read(&ch, 1, 1) >> 4, ==, 2);
    packet(rs);
    for (int i = 0; i < 18; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        buf[i] = w;
        buf[i + 1] = w >> 8;
    }
    g_assert_cmphex(buf[2], ==, 2);
    g_assert_cmphex(buf[12], ==, 0x3a);
    packet(tur);
    g_assert_cmphex(status() & 0x01, ==, 0x01);
    g_assert_cmphex(ide_ioport_read(&ch, 1, 1) >> 4, ==, 6);
    packet(rs);
    for (int i = 0; i < 18; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        buf[i] = w;
        buf[i + 1] = w >> 8;
    }
    g_assert_cmphex(buf[2], ==, 6);
    g_assert_cmphex(buf[12], ==, 0x28);
    packet(tur);
    g_assert_cmphex(status() & 0x01, ==, 0);
    /* A read through PIO (asynchronous), then rerror=report on a failing read. */
    packet(r10);
    g_assert_cmphex(status(), ==, 0x58);
    for (int i = 0; i < 2048; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        g_assert_cmphex(w & 0xff, ==, pattern(4 + i / 512, i % 512));
    }
    settle();
    g_assert_cmphex(status() & 0x89, ==, 0);
    fail_read = EIO;
    packet(r10);
    g_assert_cmphex(status() & 0x01, ==, 0x01);
    g_assert_cmphex(ide_ioport_read(&ch, 1, 1) >> 4, ==, 3);   /* MEDIUM ERROR */
    teardown();
}

/* ---- the tray and the medium through the block layer (QMP's blockdev-*-tray) ---- */

static int tray_moves, tray_last_open;

static void count_tray_moved(BlockBackend *b, bool open)
{
    g_assert_true(b == blk);
    tray_moves++;
    tray_last_open = open;
}

static void cd_change_media(void *opaque, bool load)
{
    ide_cd_medium_changed(opaque, load);
}

static bool cd_tray_open(void *opaque)
{
    return ((IDEState *)opaque)->tray_open;
}

static bool cd_locked(void *opaque)
{
    return ((IDEState *)opaque)->tray_locked;
}

static void cd_eject_request(void *opaque, bool force)
{
    ide_cd_eject_request(opaque, force);
}

static const BlockDevOps cd_ops = {
    .change_media_cb = cd_change_media,
    .is_tray_open = cd_tray_open,
    .is_medium_locked = cd_locked,
    .eject_request_cb = cd_eject_request,
};

/* Sense key of the last command (0: it succeeded), and its ASC through REQUEST SENSE. */
static int sense_of(const uint8_t *cdb, uint8_t *asc)
{
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 }, b[18];

    packet(cdb);
    if (!(status() & 0x01)) {
        return 0;
    }
    packet(rs);
    for (int i = 0; i < 18; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        b[i] = w;
        b[i + 1] = w >> 8;
    }
    *asc = b[12];
    return b[2] & 0x0f;
}

static uint8_t gesn_event(void)
{
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 }, b[8];

    packet(gesn);
    for (int i = 0; i < 8; i += 2) {
        uint16_t w = ide_ioport_read(&ch, 0, 2);
        b[i] = w;
        b[i + 1] = w >> 8;
    }
    return b[4];
}

/*
 * QEMU's tray semantics: a tray the guest locked (PREVENT MEDIUM REMOVAL) is not opened
 * by blockdev-open-tray / eject without force; the guest gets a GESN EjectRequest and the
 * tray moves (DEVICE_TRAY_MOVED) only when the guest allows it and ejects.  The medium
 * goes out and in only with the tray open; closing the tray on a new medium is reported
 * NOT READY then UNIT ATTENTION.  force unlocks and opens at once.
 */
static void test_cd_tray_block_layer(void)
{
    uint8_t tur[12] = { 0 }, lock[12] = { 0x1e, 0, 0, 0, 1 }, unlock[12] = { 0x1e };
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 }, asc = 0;
    int dummy_dev;
    Error *err = NULL;
    BlockDriverState *bs;

    setup(IDE_CD, BLOCKDEV_ON_ERROR_AUTO, BLOCKDEV_ON_ERROR_AUTO);
    blk_attach_dev(blk, &dummy_dev);
    blk_set_dev_ops(blk, &cd_ops, &ch.ifs[0]);
    block_tray_moved_hook = count_tray_moved;
    tray_moves = 0;

    g_assert_cmpint(sense_of(tur, &asc), ==, 0);
    g_assert_cmpint(sense_of(lock, &asc), ==, 0);
    g_assert_cmpint(blk_open_tray(blk, "cd", false, &err), ==, -EINPROGRESS);
    g_assert_nonnull(strstr(error_get_pretty(err), "Device 'cd' is locked and force was "
                            "not specified, wait for tray to open and try again"));
    error_free(err);
    err = NULL;
    g_assert_false(blk_eject(blk, "cd", false, &err));
    error_free(err);
    err = NULL;
    g_assert_cmpint(tray_moves, ==, 0);
    g_assert_false(ch.ifs[0].tray_open);
    g_assert_cmpint(sense_of(tur, &asc), ==, 0);            /* the medium is still there */
    g_assert_cmpint(gesn_event(), ==, 1);                   /* EjectRequest */
    g_assert_false(blk_remove_medium(blk, "cd", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Tray of device 'cd' is not open"));
    error_free(err);
    err = NULL;

    /* The guest lets go: the tray moves now. */
    g_assert_cmpint(sense_of(unlock, &asc), ==, 0);
    g_assert_cmpint(sense_of(eject, &asc), ==, 0);
    g_assert_cmpint(tray_moves, ==, 1);
    g_assert_true(tray_last_open);
    g_assert_true(blk_remove_medium(blk, "cd", &error_abort));
    g_assert_null(blk_bs(blk));
    g_assert_cmpint(sense_of(tur, &asc), ==, 2);            /* NOT READY */
    g_assert_cmphex(asc, ==, 0x3a);                         /* MEDIUM NOT PRESENT */

    /* A medium goes in and the tray closes: NOT READY once, then UNIT ATTENTION. */
    bs = bdrv_open(img, "ide-test-faulty", NULL, 0, &error_abort);
    g_assert_true(blk_insert_medium(blk, bs, &error_abort));
    g_assert_false(blk_insert_medium(blk, bs, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "There already is a medium"));
    error_free(err);
    err = NULL;
    bdrv_unref(bs);
    g_assert_cmpint(tray_moves, ==, 1);
    g_assert_true(blk_close_tray(blk, "cd", &error_abort));
    g_assert_cmpint(tray_moves, ==, 2);
    g_assert_false(tray_last_open);
    g_assert_cmpint(sense_of(tur, &asc), ==, 2);
    g_assert_cmphex(asc, ==, 0x3a);
    g_assert_cmpint(sense_of(tur, &asc), ==, 6);            /* UNIT ATTENTION */
    g_assert_cmphex(asc, ==, 0x28);                         /* MEDIUM MAY HAVE CHANGED */
    g_assert_cmpint(sense_of(tur, &asc), ==, 0);

    /* force: unlocked and opened at once. */
    g_assert_cmpint(sense_of(lock, &asc), ==, 0);
    g_assert_cmpint(blk_open_tray(blk, "cd", true, &error_abort), ==, 0);
    g_assert_cmpint(tray_moves, ==, 3);
    g_assert_true(tray_last_open);
    g_assert_false(ch.ifs[0].tray_locked);
    g_assert_true(blk_eject(blk, "cd", false, &error_abort));
    g_assert_null(blk_bs(blk));
    g_assert_cmpint(tray_moves, ==, 3);                     /* it was open already */

    block_tray_moved_hook = NULL;
    blk_set_dev_ops(blk, NULL, NULL);
    blk_detach_dev(blk, &dummy_dev);
    teardown();
}

/*
 * Random packets (any opcode, any field, any byte count limit, PIO or DMA with a random
 * PRD table) interleaved with random register writes and resets: the device must always
 * end each command in a state the task file can describe, never touch memory outside
 * its buffers (ASan in CI), and still answer INQUIRY afterwards.
 */
static void test_cd_random_packets(void)
{
    GRand *r = g_rand_new_with_seed(0x1de);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };

    setup(IDE_CD, BLOCKDEV_ON_ERROR_REPORT, BLOCKDEV_ON_ERROR_REPORT);
    for (int it = 0; it < 3000; it++) {
        uint8_t cdb[12];
        uint32_t limit = g_rand_int(r) & 0xffff;
        bool dma = g_rand_boolean(r);
        static const uint8_t ops[] = { 0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0xa8, 0x2b,
                                       0x43, 0x46, 0x4a, 0x5a, 0xbd, 0x51, 0xff };
        for (int i = 0; i < 12; i++) {
            cdb[i] = g_rand_int(r);
        }
        cdb[0] = ops[g_rand_int_range(r, 0, sizeof(ops))];
        if (g_rand_boolean(r)) {
            /* Small reads/lengths so data phases actually happen. */
            cdb[2] = cdb[3] = cdb[4] = cdb[6] = cdb[7] = 0;
            cdb[5] &= 7;
            cdb[8] &= 7;
            cdb[9] &= 7;
        }
        ide_ioport_write(&ch, 1, dma, 1);
        ide_ioport_write(&ch, 4, limit, 1);
        ide_ioport_write(&ch, 5, limit >> 8, 1);
        ide_ioport_write(&ch, 7, 0xa0, 1);
        for (int i = 0; i < 12; i += 2) {
            ide_ioport_write(&ch, 0, cdb[i] | cdb[i + 1] << 8, 2);
        }
        settle();
        if (dma) {
            uint32_t e[2] = { GUINT32_TO_LE(g_rand_int_range(r, 0, RAM_SIZE)),
                              GUINT32_TO_LE(g_rand_int(r)) };
            memcpy(ram + PRD, e, 8);
            ide_bm_write(&ch, 4, PRD, 4);
            ide_bm_write(&ch, 0, 0x09, 1);
            settle();
            ide_bm_write(&ch, 0, 0x00, 1);
        } else {
            /* Drain a few blocks of PIO data, or abandon the transfer. */
            for (int blocks = g_rand_int_range(r, 0, 4); blocks > 0; blocks--) {
                for (int w = 0; w < 0x8000 && (status() & 0x08); w++) {
                    ide_ioport_read(&ch, 0, 2);
                }
                settle();
            }
        }
        if (g_rand_int_range(r, 0, 50) == 0) {
            ide_devctl_write(&ch, 0x04);
            ide_devctl_write(&ch, 0x00);
        }
        if (g_rand_int_range(r, 0, 200) == 0) {
            ide_cd_medium_changed(&ch.ifs[0], g_rand_boolean(r));
        }
        g_assert_cmpuint(ch.ifs[0].data_end, <=, IDE_BUF_SIZE);
        g_assert_cmpuint(ch.ifs[0].data_pos, <=, ch.ifs[0].data_end);
        g_assert_cmpuint(ch.ifs[0].atapi_buf_len, <=, IDE_BUF_SIZE);
    }
    g_rand_free(r);
    g_assert_cmpint(reads, >, 50);                 /* media reads really happened */
    /* Recover: reset, then INQUIRY answers (unit attention does not block it). */
    ide_devctl_write(&ch, 0x04);
    ide_devctl_write(&ch, 0x00);
    packet(inq);
    g_assert_cmphex(status(), ==, 0x58);
    g_assert_cmphex(ide_ioport_read(&ch, 0, 2) & 0xff, ==, 0x05);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    bdrv_register(&faulty);
    g_test_add_func("/ide/async-pio-dma", test_async_pio_dma);
    g_test_add_func("/ide/rerror-report-werror-ignore", test_rerror_report_ignore);
    g_test_add_func("/ide/werror-stop-retry", test_werror_stop_retry);
    g_test_add_func("/ide/retry-migration", test_retry_migration);
    g_test_add_func("/ide/reset-cancels", test_reset_cancels);
    g_test_add_func("/ide/cd-unit-attention", test_cd_unit_attention);
    g_test_add_func("/ide/cd-tray-block-layer", test_cd_tray_block_layer);
    g_test_add_func("/ide/cd-random-packets", test_cd_random_packets);
    return g_test_run();
}
