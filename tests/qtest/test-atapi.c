/*
 * ATAPI CD-ROM (ide-cd) on the PIIX3 secondary channel through the qtest protocol: the
 * PACKET signature and IDENTIFY PACKET DEVICE, INQUIRY, READ CAPACITY, READ(10)/(12) in PIO
 * (DRQ blocks cut to the byte count limit) and bus-master DMA compared with the image file,
 * MODE SENSE(10), GET CONFIGURATION, READ TOC formats 0/1 in LBA and MSF, sense data after
 * errors, tray lock/eject/load with GET EVENT STATUS NOTIFICATION, an empty drive, and
 * the -cdrom shorthand.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))
#define IDE_DEVFN 0x09
#define CD_SECT 300                                /* 2048-byte blocks in the image */
#define BMBASE 0xc000
#define PRD_ADDR 0x10000
#define BUF_ADDR 0x20000
#define CMD 0x170
#define CTL 0x376
#define BM (BMBASE + 8)

static char img_path[] = "/tmp/kite-test-atapi-XXXXXX";

static uint8_t pattern(uint32_t lba, uint32_t off)
{
    return (lba * 13 + off * 5 + (off >> 8)) & 0xff;
}

static void make_image(void)
{
    int fd = mkstemp(img_path);
    uint8_t sec[2048];

    g_assert_cmpint(fd, >=, 0);
    for (uint32_t l = 0; l < CD_SECT; l++) {
        for (int i = 0; i < 2048; i++) {
            sec[i] = pattern(l, i);
        }
        g_assert_cmpint(write(fd, sec, 2048), ==, 2048);
    }
    close(fd);
}

static void cfg_writel(KQTest *qt, int reg, uint32_t v)
{
    kqtest_outl(qt, 0xcf8, CONF(IDE_DEVFN, reg));
    kqtest_outl(qt, 0xcfc, v);
}

static KQTest *start_args(const char *drive)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults %s", drive);

    cfg_writel(qt, 0x20, BMBASE);
    cfg_writel(qt, 0x04, 0x05);
    kqtest_outb(qt, CMD + 6, 0xa0);                /* select the master */
    return qt;
}

static KQTest *start(void)
{
    g_autofree char *a = g_strdup_printf(
        "-drive if=none,id=cd0,file=%s,format=raw,media=cdrom "
        "-device ide-cd,drive=cd0,bus=ide.1,unit=0", img_path);

    return start_args(a);
}

/* Disk I/O is asynchronous: wait for BSY to clear (through Alternate Status, as drivers do). */
static void wait_ready(KQTest *qt)
{
    for (int i = 0; i < 200000 && (kqtest_inb(qt, CTL) & 0x80); i++) {
        if (i > 100) {
            g_usleep(100);
        }
    }
}

/* PACKET with the given byte count limit; the device asks for the packet (CoD=1). */
static void send_packet(KQTest *qt, const uint8_t *cdb, uint16_t limit, bool dma)
{
    kqtest_outb(qt, CMD + 1, dma ? 1 : 0);
    kqtest_outb(qt, CMD + 4, limit & 0xff);
    kqtest_outb(qt, CMD + 5, limit >> 8);
    kqtest_outb(qt, CMD + 7, 0xa0);
    g_assert_cmphex(kqtest_inb(qt, CTL) & 0x89, ==, 0x08);   /* DRQ, not BSY, no ERR */
    g_assert_cmphex(kqtest_inb(qt, CMD + 2) & 3, ==, 1);     /* CoD=1, IO=0 */
    for (int i = 0; i < 12; i += 2) {
        kqtest_outw(qt, CMD, cdb[i] | cdb[i + 1] << 8);
    }
}

/* Read the data-in phase in PIO; returns bytes received, checks each block's size. */
static uint32_t pio_in(KQTest *qt, uint8_t *buf, uint32_t max, uint16_t limit)
{
    uint32_t got = 0;

    for (;;) {
        uint8_t st;
        uint32_t n;
        wait_ready(qt);
        st = kqtest_inb(qt, CMD + 7);
        if (!(st & 0x08)) {
            break;
        }
        g_assert_cmphex(kqtest_inb(qt, CMD + 2) & 3, ==, 2);     /* IO=1, CoD=0 */
        n = kqtest_inb(qt, CMD + 4) | kqtest_inb(qt, CMD + 5) << 8;
        g_assert_cmpuint(n, >, 0);
        g_assert_cmpuint(n, <=, limit);
        g_assert_cmpuint(got + n, <=, max);
        for (uint32_t i = 0; i < n; i += 2) {
            uint16_t w = kqtest_inw(qt, CMD);
            buf[got + i] = w;
            if (i + 1 < n) {
                buf[got + i + 1] = w >> 8;
            }
        }
        got += n;
    }
    return got;
}

/* Status after the command: ready (or ERR), IO=1 CoD=1. */
static uint8_t finish(KQTest *qt)
{
    uint8_t st;

    wait_ready(qt);
    st = kqtest_inb(qt, CMD + 7);

    g_assert_cmphex(st & 0x88, ==, 0);
    g_assert_cmphex(kqtest_inb(qt, CMD + 2) & 3, ==, 3);
    return st;
}

/* A command with a data-in reply over PIO; returns its length. */
static uint32_t cmd_in(KQTest *qt, const uint8_t *cdb, uint8_t *buf, uint32_t max)
{
    uint32_t n;

    send_packet(qt, cdb, 0xfffe, false);
    n = pio_in(qt, buf, max, 0xfffe);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    return n;
}

/* A command expected to fail with the sense key/ASC; checks REQUEST SENSE too. */
static void expect_check(KQTest *qt, const uint8_t *cdb, uint8_t key, uint8_t asc, int ascq)
{
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 }, sense[18];

    send_packet(qt, cdb, 0xfffe, false);
    wait_ready(qt);
    g_assert_cmphex(kqtest_inb(qt, CMD + 7) & 0x08, ==, 0);
    g_assert_cmphex(finish(qt) & 1, ==, 1);
    g_assert_cmphex(kqtest_inb(qt, CMD + 1) >> 4, ==, key);
    g_assert_cmpuint(cmd_in(qt, rs, sense, sizeof(sense)), ==, 18);
    g_assert_cmphex(sense[0], ==, 0x70);
    g_assert_cmphex(sense[2] & 0x0f, ==, key);
    g_assert_cmphex(sense[12], ==, asc);
    if (ascq >= 0) {
        g_assert_cmphex(sense[13], ==, ascq);
    }
    /* Reported once: a second REQUEST SENSE says NO SENSE. */
    cmd_in(qt, rs, sense, sizeof(sense));
    g_assert_cmphex(sense[2], ==, 0);
}

static void check_blocks(const uint8_t *buf, uint32_t lba, uint32_t n)
{
    for (uint32_t l = 0; l < n; l++) {
        for (int i = 0; i < 2048; i++) {
            if (buf[l * 2048 + i] != pattern(lba + l, i)) {
                g_error("block %u byte %d: %02x, expected %02x", lba + l, i,
                        buf[l * 2048 + i], pattern(lba + l, i));
            }
        }
    }
}

static void test_signature_identify(void)
{
    KQTest *qt = start();
    uint16_t id[256];
    char model[41];

    g_assert_cmphex(kqtest_inb(qt, CMD + 2), ==, 1);
    g_assert_cmphex(kqtest_inb(qt, CMD + 3), ==, 1);
    g_assert_cmphex(kqtest_inb(qt, CMD + 4), ==, 0x14);
    g_assert_cmphex(kqtest_inb(qt, CMD + 5), ==, 0xeb);
    /* IDENTIFY DEVICE is aborted, the signature stays for the host to see. */
    kqtest_outb(qt, CMD + 4, 0);
    kqtest_outb(qt, CMD + 7, 0xec);
    g_assert_cmphex(kqtest_inb(qt, CMD + 7) & 0x09, ==, 0x01);
    g_assert_cmphex(kqtest_inb(qt, CMD + 1) & 0x04, ==, 0x04);
    g_assert_cmphex(kqtest_inb(qt, CMD + 4), ==, 0x14);
    g_assert_cmphex(kqtest_inb(qt, CMD + 5), ==, 0xeb);

    kqtest_outb(qt, CMD + 7, 0xa1);
    g_assert_cmphex(kqtest_inb(qt, CMD + 7), ==, 0x58);
    for (int i = 0; i < 256; i++) {
        id[i] = kqtest_inw(qt, CMD);
    }
    g_assert_cmphex(kqtest_inb(qt, CMD + 7) & 0x89, ==, 0);
    g_assert_cmphex(id[0] >> 14, ==, 2);                  /* ATAPI */
    g_assert_cmphex((id[0] >> 8) & 0x1f, ==, 5);          /* CD-ROM */
    g_assert_cmphex(id[0] & 0x83, ==, 0x80);               /* removable, 12-byte packets */
    g_assert_true(id[49] & (1 << 8));                      /* DMA */
    for (int i = 0; i < 20; i++) {
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i];
    }
    model[40] = 0;
    g_assert_true(g_str_has_prefix(model, "KITE DVD-ROM "));
    /* The primary channel is empty. */
    g_assert_cmphex(kqtest_inb(qt, 0x1f7), ==, 0);
    kqtest_quit(qt);
}

static void test_inquiry_capacity(void)
{
    KQTest *qt = start();
    uint8_t inq[12] = { 0x12, 0, 0, 0, 96 }, tur[12] = { 0 }, cap[12] = { 0x25 };
    uint8_t buf[128];

    g_assert_cmpuint(cmd_in(qt, inq, buf, sizeof(buf)), ==, 36);
    g_assert_cmphex(buf[0], ==, 0x05);
    g_assert_cmphex(buf[1], ==, 0x80);
    g_assert_cmpmem(buf + 16, 12, "KITE DVD-ROM", 12);
    /* The allocation length cuts the reply, odd lengths included. */
    inq[4] = 5;
    g_assert_cmpuint(cmd_in(qt, inq, buf, sizeof(buf)), ==, 5);
    g_assert_cmphex(buf[4], ==, 31);
    /* EVPD pages are not supported. */
    inq[1] = 1;
    expect_check(qt, inq, 5, 0x24, 0);

    send_packet(qt, tur, 0xfffe, false);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    g_assert_cmpuint(cmd_in(qt, cap, buf, sizeof(buf)), ==, 8);
    g_assert_cmphex(buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], ==, CD_SECT - 1);
    g_assert_cmphex(buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7], ==, 2048);
    kqtest_quit(qt);
}

static void test_read_pio(void)
{
    KQTest *qt = start();
    g_autofree uint8_t *buf = g_malloc(40 * 2048);
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 10 };   /* 10 blocks from 7 */
    uint8_t r12[12] = { 0xa8, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 25 };  /* 25 from 256 */

    /* Limit 2048: one block per DRQ. */
    send_packet(qt, r10, 2048, false);
    g_assert_cmpuint(pio_in(qt, buf, 40 * 2048, 2048), ==, 10 * 2048);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    check_blocks(buf, 7, 10);
    /* Limit 1000: blocks are cut inside a sector. */
    memset(buf, 0, 40 * 2048);
    send_packet(qt, r10, 1000, false);
    g_assert_cmpuint(pio_in(qt, buf, 40 * 2048, 1000), ==, 10 * 2048);
    finish(qt);
    check_blocks(buf, 7, 10);
    /* READ(12), largest limit; the last block of the disc is readable. */
    memset(buf, 0, 40 * 2048);
    send_packet(qt, r12, 0xffff, false);
    g_assert_cmpuint(pio_in(qt, buf, 40 * 2048, 0xfffe), ==, 25 * 2048);
    finish(qt);
    check_blocks(buf, 256, 25);
    r10[4] = 1;
    r10[5] = 0x2b;
    r10[8] = 1;
    send_packet(qt, r10, 0xfffe, false);
    g_assert_cmpuint(pio_in(qt, buf, 2048, 0xfffe), ==, 2048);
    finish(qt);
    check_blocks(buf, CD_SECT - 1, 1);
    /* Zero blocks: no data phase. */
    r10[8] = 0;
    send_packet(qt, r10, 0xfffe, false);
    g_assert_cmpuint(pio_in(qt, buf, 0, 0xfffe), ==, 0);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    /* Past the end: ILLEGAL REQUEST, LBA OUT OF RANGE, no data. */
    r10[8] = 2;
    expect_check(qt, r10, 5, 0x21, 0);
    r12[2] = 0xff;
    expect_check(qt, r12, 5, 0x21, 0);
    kqtest_quit(qt);
}

static void start_dma(KQTest *qt, uint32_t bytes)
{
    /* Two PRD entries splitting the buffer at an odd-sized (even) boundary. */
    uint32_t first = 3000 < bytes ? 3000 : bytes;

    kqtest_writel(qt, PRD_ADDR, BUF_ADDR);
    kqtest_writel(qt, PRD_ADDR + 4, first | (first == bytes ? 0x80000000u : 0));
    kqtest_writel(qt, PRD_ADDR + 8, BUF_ADDR + first);
    kqtest_writel(qt, PRD_ADDR + 12, (bytes - first) | 0x80000000u);
    kqtest_outl(qt, BM + 4, PRD_ADDR);
    kqtest_outb(qt, BM + 2, 0x06);                 /* clear Error and Interrupt */
    kqtest_outb(qt, BM, 0x09);                     /* start, device -> memory */
}

static void test_read_dma(void)
{
    KQTest *qt = start();
    g_autofree uint8_t *buf = g_malloc(8 * 2048);
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 40, 0, 0, 8 };
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };

    send_packet(qt, r10, 0xfffe, true);
    /* Waiting for the bus master: BSY, no PIO data. */
    g_assert_cmphex(kqtest_inb(qt, CTL) & 0x80, ==, 0x80);
    start_dma(qt, 8 * 2048);
    wait_ready(qt);
    g_assert_cmphex(kqtest_inb(qt, BM + 2) & 0x07, ==, 0x04);   /* done, interrupt */
    kqtest_outb(qt, BM, 0x08);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    kqtest_memread(qt, BUF_ADDR, buf, 8 * 2048);
    check_blocks(buf, 40, 8);

    /* A reply through DMA. */
    send_packet(qt, inq, 0xfffe, true);
    start_dma(qt, 36);
    kqtest_outb(qt, BM, 0x08);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    kqtest_memread(qt, BUF_ADDR, buf, 36);
    g_assert_cmphex(buf[0], ==, 5);
    g_assert_cmpmem(buf + 8, 4, "KITE", 4);

    /* A PRD table shorter than the transfer: bus-master error, ATAPI error status. */
    send_packet(qt, r10, 0xfffe, true);
    kqtest_writel(qt, PRD_ADDR, BUF_ADDR);
    kqtest_writel(qt, PRD_ADDR + 4, 4096 | 0x80000000u);
    kqtest_outb(qt, BM + 2, 0x06);
    kqtest_outb(qt, BM, 0x09);
    wait_ready(qt);
    g_assert_cmphex(kqtest_inb(qt, BM + 2) & 0x07, ==, 0x06);
    kqtest_outb(qt, BM, 0x08);
    g_assert_cmphex(finish(qt) & 1, ==, 1);
    kqtest_quit(qt);
}

static void test_mode_config_toc(void)
{
    KQTest *qt = start();
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 200 };
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 200 };
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 200 };
    uint8_t buf[256];
    uint32_t n, lo;

    n = cmd_in(qt, ms, buf, sizeof(buf));
    g_assert_cmpuint(n, ==, 8 + 22);
    g_assert_cmpuint(buf[0] << 8 | buf[1], ==, n - 2);
    g_assert_cmphex(buf[8], ==, 0x2a);
    g_assert_cmphex(buf[9], ==, 20);
    g_assert_cmphex(buf[8 + 6] & 0x09, ==, 0x09);         /* lock and eject */
    ms[2] = 0x3f;
    g_assert_cmpuint(cmd_in(qt, ms, buf, sizeof(buf)), ==, 8 + 8 + 22);
    ms[2] = 0x05;                                          /* write parameters: none */
    expect_check(qt, ms, 5, 0x24, 0);
    ms[2] = 0xc0 | 0x2a;                                   /* saved values */
    expect_check(qt, ms, 5, 0x39, 0);

    n = cmd_in(qt, gc, buf, sizeof(buf));
    g_assert_cmpuint((uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], ==, n - 4);
    g_assert_cmphex(buf[6] << 8 | buf[7], ==, 0x0008);    /* CD-ROM profile current */
    g_assert_cmphex(buf[8] << 8 | buf[9], ==, 0x0000);    /* profile list first */
    g_assert_cmphex(buf[16] << 8 | buf[17], ==, 0x0008);
    g_assert_cmphex(buf[18] & 1, ==, 1);
    /* RT=2: exactly the feature asked for (Core). */
    gc[1] = 2;
    gc[3] = 1;
    n = cmd_in(qt, gc, buf, sizeof(buf));
    g_assert_cmpuint(n, ==, 8 + 4 + 8);
    g_assert_cmphex(buf[8] << 8 | buf[9], ==, 0x0001);
    g_assert_cmphex(buf[15], ==, 2);                       /* ATAPI interface */

    /* TOC: track 1 at 0, lead-out at the capacity. */
    n = cmd_in(qt, toc, buf, sizeof(buf));
    g_assert_cmpuint(n, ==, 4 + 16);
    g_assert_cmpuint(buf[0] << 8 | buf[1], ==, 18);
    g_assert_cmphex(buf[2], ==, 1);
    g_assert_cmphex(buf[3], ==, 1);
    g_assert_cmphex(buf[5], ==, 0x14);
    g_assert_cmphex(buf[6], ==, 1);
    g_assert_cmphex(buf[14], ==, 0xaa);
    lo = (uint32_t)buf[16] << 24 | buf[17] << 16 | buf[18] << 8 | buf[19];
    g_assert_cmpuint(lo, ==, CD_SECT);
    /* MSF: lead-out at 300 + 150 frames = 00:06:00. */
    toc[1] = 2;
    n = cmd_in(qt, toc, buf, sizeof(buf));
    g_assert_cmphex(buf[12 + 5], ==, 0);
    g_assert_cmphex(buf[12 + 6], ==, 6);
    g_assert_cmphex(buf[12 + 7], ==, 0);
    g_assert_cmphex(buf[4 + 6], ==, 2);                    /* track 1 at 00:02:00 */
    /* Starting at the lead-out: one descriptor. */
    toc[1] = 0;
    toc[6] = 0xaa;
    g_assert_cmpuint(cmd_in(qt, toc, buf, sizeof(buf)), ==, 12);
    toc[6] = 5;
    expect_check(qt, toc, 5, 0x24, 0);
    /* Format 1: session information. */
    toc[6] = 0;
    toc[2] = 1;
    n = cmd_in(qt, toc, buf, sizeof(buf));
    g_assert_cmpuint(n, ==, 12);
    g_assert_cmpuint(buf[0] << 8 | buf[1], ==, 10);
    g_assert_cmphex(buf[6], ==, 1);
    toc[2] = 4;                                            /* ATIP: not a recordable */
    expect_check(qt, toc, 5, 0x24, 0);
    {
        uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 200 };
        uint8_t ms[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
        g_assert_cmpuint(cmd_in(qt, di, buf, sizeof(buf)), ==, 34);
        g_assert_cmpuint(buf[0] << 8 | buf[1], ==, 32);
        g_assert_cmphex(buf[2], ==, 0x0e);                 /* complete disc */
        g_assert_cmphex(buf[4], ==, 1);                    /* one session */
        di[1] = 1;                                         /* track resources: no */
        expect_check(qt, di, 5, 0x24, 0);
        g_assert_cmpuint(cmd_in(qt, ms, buf, sizeof(buf)), ==, 8);
        g_assert_cmphex(buf[1] & 0x10, ==, 0);             /* door closed */
        g_assert_cmphex(buf[5], ==, 0);                    /* no changer slots */
    }
    kqtest_quit(qt);
}

static void test_tray_events(void)
{
    KQTest *qt = start();
    uint8_t tur[12] = { 0 }, lock[12] = { 0x1e, 0, 0, 0, 1 };
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 }, load[12] = { 0x1b, 0, 0, 0, 0x03 };
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t cap[12] = { 0x25 }, buf[16];

    /* No event pending; medium present. */
    g_assert_cmpuint(cmd_in(qt, gesn, buf, sizeof(buf)), ==, 8);
    g_assert_cmpuint(buf[0] << 8 | buf[1], ==, 6);
    g_assert_cmphex(buf[2], ==, 4);
    g_assert_cmphex(buf[3], ==, 0x10);
    g_assert_cmphex(buf[4], ==, 0);
    g_assert_cmphex(buf[5], ==, 2);

    /* Locked: eject refused with MEDIUM REMOVAL PREVENTED. */
    send_packet(qt, lock, 0xfffe, false);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    expect_check(qt, eject, 5, 0x53, 2);
    lock[4] = 0;
    send_packet(qt, lock, 0xfffe, false);
    finish(qt);
    send_packet(qt, eject, 0xfffe, false);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    expect_check(qt, tur, 2, 0x3a, 2);                     /* no medium, tray open */
    expect_check(qt, cap, 2, 0x3a, 2);
    cmd_in(qt, gesn, buf, sizeof(buf));
    g_assert_cmphex(buf[4], ==, 3);                        /* MediaRemoval */
    g_assert_cmphex(buf[5], ==, 1);                        /* tray open, no medium */
    cmd_in(qt, gesn, buf, sizeof(buf));
    g_assert_cmphex(buf[4], ==, 0);                        /* reported once */

    send_packet(qt, load, 0xfffe, false);
    g_assert_cmphex(finish(qt) & 1, ==, 0);
    cmd_in(qt, gesn, buf, sizeof(buf));
    g_assert_cmphex(buf[4], ==, 2);                        /* NewMedia */
    g_assert_cmphex(buf[5], ==, 2);
    send_packet(qt, tur, 0xfffe, false);
    g_assert_cmphex(finish(qt) & 1, ==, 0);

    /* Not polled: asynchronous notification is refused.  No media class asked: NEA. */
    gesn[1] = 0;
    expect_check(qt, gesn, 5, 0x24, 0);
    gesn[1] = 1;
    gesn[4] = 0x02;
    g_assert_cmpuint(cmd_in(qt, gesn, buf, sizeof(buf)), ==, 4);
    g_assert_cmphex(buf[2] & 0x80, ==, 0x80);
    /* Unknown opcode (READ(6) is not an MMC command). */
    buf[0] = 0x08;
    memset(buf + 1, 0, 11);
    expect_check(qt, buf, 5, 0x20, 0);
    kqtest_quit(qt);
}

static void test_empty_drive(void)
{
    KQTest *qt = start_args("-device ide-cd,bus=ide.1");
    uint8_t tur[12] = { 0 }, inq[12] = { 0x12, 0, 0, 0, 36 }, buf[64];
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };

    g_assert_cmphex(kqtest_inb(qt, CMD + 5), ==, 0xeb);
    expect_check(qt, tur, 2, 0x3a, 1);
    expect_check(qt, r10, 2, 0x3a, 1);
    g_assert_cmpuint(cmd_in(qt, inq, buf, sizeof(buf)), ==, 36);
    cmd_in(qt, gc, buf, sizeof(buf));
    g_assert_cmphex(buf[6] << 8 | buf[7], ==, 0);          /* no current profile */
    kqtest_quit(qt);
}

static void test_cdrom_shorthand(void)
{
    /* -cdrom is IDE index 2: secondary master, as in QEMU. */
    g_autofree char *a = g_strdup_printf("-cdrom %s", img_path);
    KQTest *qt = start_args(a);
    uint8_t cap[12] = { 0x25 }, buf[8];

    g_assert_cmphex(kqtest_inb(qt, CMD + 4), ==, 0x14);
    cmd_in(qt, cap, buf, sizeof(buf));
    g_assert_cmphex(buf[2] << 8 | buf[3], ==, CD_SECT - 1);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    make_image();
    g_test_add_func("/atapi/signature-identify", test_signature_identify);
    g_test_add_func("/atapi/inquiry-capacity", test_inquiry_capacity);
    g_test_add_func("/atapi/read-pio", test_read_pio);
    g_test_add_func("/atapi/read-dma", test_read_dma);
    g_test_add_func("/atapi/mode-config-toc", test_mode_config_toc);
    g_test_add_func("/atapi/tray-events", test_tray_events);
    g_test_add_func("/atapi/empty-drive", test_empty_drive);
    g_test_add_func("/atapi/cdrom-shorthand", test_cdrom_shorthand);
    ret = g_test_run();
    unlink(img_path);
    return ret;
}
