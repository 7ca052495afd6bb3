/*
 * PIIX3 IDE through the qtest protocol: the PCI function, IDENTIFY, PIO reads and writes
 * (LBA28, LBA48, 16- and 32-bit data port) compared with the raw image file, out-of-range
 * and malformed commands, SRST, bus-master DMA both ways and a PRD table too short for
 * the transfer.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))
#define IDE_DEVFN 0x09
#define NSECT 2048
#define BMBASE 0xc000
#define PRD_ADDR 0x10000
#define BUF_ADDR 0x20000

static char img_path[] = "/tmp/kite-test-ide-XXXXXX";

static uint32_t cfg_readl(KQTest *qt, int devfn, int reg)
{
    kqtest_outl(qt, 0xcf8, CONF(devfn, reg & ~3));
    return kqtest_inl(qt, 0xcfc);
}

static void cfg_writel(KQTest *qt, int devfn, int reg, uint32_t v)
{
    kqtest_outl(qt, 0xcf8, CONF(devfn, reg & ~3));
    kqtest_outl(qt, 0xcfc, v);
}

static uint8_t pattern(uint32_t lba, uint32_t off)
{
    return (lba * 7 + off * 3 + (lba >> 8)) & 0xff;
}

static void make_image(void)
{
    int fd = mkstemp(img_path);
    uint8_t sec[512];

    g_assert_cmpint(fd, >=, 0);
    for (uint32_t l = 0; l < NSECT; l++) {
        for (int i = 0; i < 512; i++) {
            sec[i] = pattern(l, i);
        }
        g_assert_cmpint(write(fd, sec, 512), ==, 512);
    }
    close(fd);
}

static void file_sector(uint32_t lba, uint8_t *buf)
{
    int fd = open(img_path, O_RDONLY);

    g_assert_cmpint(pread(fd, buf, 512, (off_t)lba * 512), ==, 512);
    close(fd);
}

static KQTest *start(void)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults "
                              "-drive file=%s,if=ide,format=raw", img_path);
    /* What the firmware does: BAR4, I/O decode and bus mastering. */
    cfg_writel(qt, IDE_DEVFN, 0x20, BMBASE);
    cfg_writel(qt, IDE_DEVFN, 0x04, 0x05);
    return qt;
}

/*
 * Disk I/O is asynchronous: the device is BSY until the request completes.  Wait for BSY
 * to clear (as a driver does, through Alternate Status) and read port.
 */
static uint8_t ide_status(KQTest *qt, uint16_t port)
{
    for (int i = 0; i < 200000 && (kqtest_inb(qt, 0x3f6) & 0x80); i++) {
        if (i > 100) {
            g_usleep(100);
        }
    }
    return kqtest_inb(qt, port);
}

static void set_lba28(KQTest *qt, uint32_t lba, uint8_t count)
{
    kqtest_outb(qt, 0x1f6, 0xe0 | ((lba >> 24) & 0xf));
    kqtest_outb(qt, 0x1f2, count);
    kqtest_outb(qt, 0x1f3, lba);
    kqtest_outb(qt, 0x1f4, lba >> 8);
    kqtest_outb(qt, 0x1f5, lba >> 16);
}

static void test_pci_identify(void)
{
    KQTest *qt = start();
    uint16_t id[256];
    char model[41];

    g_assert_cmphex(cfg_readl(qt, IDE_DEVFN, 0), ==, 0x70108086);
    g_assert_cmphex(cfg_readl(qt, IDE_DEVFN, 8) >> 8, ==, 0x010180);
    g_assert_cmphex(cfg_readl(qt, IDE_DEVFN, 0x20), ==, BMBASE | 1);
    /* Status 0280h as QEMU's (and the PIIX3's); the latency timer is hard-wired to 0. */
    g_assert_cmphex(cfg_readl(qt, IDE_DEVFN, 4) >> 16, ==, 0x0280);
    kqtest_outl(qt, 0xcf8, 0x80000000 | IDE_DEVFN << 8 | 0x0c);
    kqtest_outb(qt, 0xcfd, 0x40);
    g_assert_cmphex(cfg_readl(qt, IDE_DEVFN, 0x0c) & 0xff00, ==, 0);
    /* Signature after reset, and the register read-back the Linux probe relies on. */
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    g_assert_cmphex(kqtest_inb(qt, 0x1f2), ==, 1);
    kqtest_outb(qt, 0x1f2, 0x55);
    kqtest_outb(qt, 0x1f3, 0xaa);
    g_assert_cmphex(kqtest_inb(qt, 0x1f2), ==, 0x55);
    g_assert_cmphex(kqtest_inb(qt, 0x1f3), ==, 0xaa);
    /* Secondary channel is empty: status reads 0, registers do not hold values. */
    g_assert_cmphex(kqtest_inb(qt, 0x177), ==, 0);
    kqtest_outb(qt, 0x172, 0x55);
    g_assert_cmphex(kqtest_inb(qt, 0x172), ==, 0);

    kqtest_outb(qt, 0x1f6, 0xa0);
    kqtest_outb(qt, 0x1f7, 0xec);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x58);
    for (int i = 0; i < 256; i++) {
        id[i] = kqtest_inw(qt, 0x1f0);
    }
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    g_assert_cmphex(id[0], ==, 0x0040);
    g_assert_cmpuint(id[60] | (uint32_t)id[61] << 16, ==, NSECT);
    g_assert_cmpuint(id[100] | (uint32_t)id[101] << 16, ==, NSECT);
    g_assert_true(id[83] & (1 << 10));
    for (int i = 0; i < 20; i++) {
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i];
    }
    model[40] = 0;
    g_assert_true(g_str_has_prefix(model, "KITE HARDDISK "));

    /* Slave absent: selecting it reads status 0; commands to it do nothing. */
    kqtest_outb(qt, 0x1f6, 0xb0);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0);
    kqtest_outb(qt, 0x1f7, 0xec);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0);
    kqtest_quit(qt);
}

static void test_pio(void)
{
    KQTest *qt = start();
    uint8_t want[512], got[512];

    /* READ SECTORS, 3 sectors from LBA 5, 16-bit then 32-bit data port. */
    set_lba28(qt, 5, 3);
    kqtest_outb(qt, 0x1f7, 0x20);
    for (int s = 0; s < 3; s++) {
        g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x58);
        for (int i = 0; i < 512; i += (s == 1 ? 4 : 2)) {
            uint32_t v = s == 1 ? kqtest_inl(qt, 0x1f0) : kqtest_inw(qt, 0x1f0);
            memcpy(got + i, &v, s == 1 ? 4 : 2);
        }
        file_sector(5 + s, want);
        g_assert_cmpmem(got, 512, want, 512);
    }
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    g_assert_cmphex(kqtest_inb(qt, 0x1f3), ==, 7);          /* last sector read */

    /* WRITE SECTORS EXT to LBA 1000 (HOB bytes first), 2 sectors. */
    kqtest_outb(qt, 0x1f6, 0xe0);
    kqtest_outb(qt, 0x1f2, 0);
    kqtest_outb(qt, 0x1f2, 2);
    kqtest_outb(qt, 0x1f3, 0);
    kqtest_outb(qt, 0x1f3, 1000 & 0xff);
    kqtest_outb(qt, 0x1f4, 0);
    kqtest_outb(qt, 0x1f4, 1000 >> 8);
    kqtest_outb(qt, 0x1f5, 0);
    kqtest_outb(qt, 0x1f5, 0);
    kqtest_outb(qt, 0x1f7, 0x34);
    for (int s = 0; s < 2; s++) {
        g_assert_cmphex(ide_status(qt, 0x3f6) & 0x08, ==, 0x08);
        for (int i = 0; i < 256; i++) {
            kqtest_outw(qt, 0x1f0, (uint16_t)(0xbe00 + i + s * 256));
        }
    }
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    kqtest_outb(qt, 0x1f7, 0xea);                          /* FLUSH CACHE EXT */
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    for (int s = 0; s < 2; s++) {
        file_sector(1000 + s, got);
        for (int i = 0; i < 256; i++) {
            uint16_t v = got[2 * i] | got[2 * i + 1] << 8;
            g_assert_cmphex(v, ==, (uint16_t)(0xbe00 + i + s * 256));
        }
    }

    /* READ MULTIPLE without SET MULTIPLE: aborted; with it, 4 sectors per block. */
    set_lba28(qt, 0, 8);
    kqtest_outb(qt, 0x1f7, 0xc4);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x41);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x04);
    kqtest_outb(qt, 0x1f2, 4);
    kqtest_outb(qt, 0x1f7, 0xc6);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    set_lba28(qt, 0, 8);
    kqtest_outb(qt, 0x1f7, 0xc4);
    for (int i = 0; i < 4 * 256; i++) {
        kqtest_inw(qt, 0x1f0);
    }
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x58);     /* second block ready */
    kqtest_quit(qt);
}

static void test_errors(void)
{
    KQTest *qt = start();

    /* Past the end: IDNF, no data phase. */
    set_lba28(qt, NSECT - 1, 2);
    kqtest_outb(qt, 0x1f7, 0x20);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x41);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x10);
    g_assert_cmphex(kqtest_inw(qt, 0x1f0), ==, 0);
    /* LBA48 far beyond the disk, count 0 (= 65536). */
    kqtest_outb(qt, 0x1f2, 0);
    kqtest_outb(qt, 0x1f2, 0);
    kqtest_outb(qt, 0x1f5, 0xff);
    kqtest_outb(qt, 0x1f5, 0xff);
    kqtest_outb(qt, 0x1f7, 0x24);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x41);
    /* Unknown command and bad SET FEATURES: ABRT. */
    kqtest_outb(qt, 0x1f7, 0xfe);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x41);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x04);
    kqtest_outb(qt, 0x1f1, 0x77);
    kqtest_outb(qt, 0x1f7, 0xef);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x04);
    /* CHS sector 0 is invalid. */
    kqtest_outb(qt, 0x1f6, 0xa0);
    kqtest_outb(qt, 0x1f3, 0);
    kqtest_outb(qt, 0x1f2, 1);
    kqtest_outb(qt, 0x1f7, 0x20);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x10);
    /* SRST: busy while set, then the signature and ready. */
    kqtest_outb(qt, 0x3f6, 0x04);
    g_assert_cmphex(kqtest_inb(qt, 0x3f6) & 0x80, ==, 0x80);
    kqtest_outb(qt, 0x3f6, 0x00);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    g_assert_cmphex(kqtest_inb(qt, 0x1f1), ==, 0x01);
    g_assert_cmphex(kqtest_inb(qt, 0x1f2), ==, 0x01);
    kqtest_quit(qt);
}

static void write_prd(KQTest *qt, int idx, uint32_t addr, uint32_t count, bool eot)
{
    kqtest_writel(qt, PRD_ADDR + 8 * idx, addr);
    kqtest_writel(qt, PRD_ADDR + 8 * idx + 4, (count & 0xffff) | (eot ? 0x80000000u : 0));
}

static void test_dma(void)
{
    KQTest *qt = start();
    uint8_t got[1024], want[512];

    g_assert_cmphex(ide_status(qt, BMBASE + 2) & 0x60, ==, 0x20);   /* master DMA capable */
    /* READ DMA of 2 sectors from LBA 3 through two PRDs (600 + 424 bytes). */
    write_prd(qt, 0, BUF_ADDR, 600, false);
    write_prd(qt, 1, BUF_ADDR + 600, 424, true);
    kqtest_outl(qt, BMBASE + 4, PRD_ADDR);
    kqtest_outb(qt, BMBASE, 0x08);
    set_lba28(qt, 3, 2);
    kqtest_outb(qt, 0x1f7, 0xc8);
    kqtest_outb(qt, BMBASE, 0x09);
    g_assert_cmphex(ide_status(qt, BMBASE + 2), ==, 0x24);          /* INTR, not active */
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    kqtest_memread(qt, BUF_ADDR, got, 1024);
    for (int s = 0; s < 2; s++) {
        file_sector(3 + s, want);
        g_assert_cmpmem(got + 512 * s, 512, want, 512);
    }
    kqtest_outb(qt, BMBASE, 0x00);
    kqtest_outb(qt, BMBASE + 2, 0x26);     /* clear INTR/ERR, keep DMA-capable */
    g_assert_cmphex(ide_status(qt, BMBASE + 2), ==, 0x20);

    /* WRITE DMA EXT of one sector to LBA 77. */
    for (int i = 0; i < 512; i++) {
        got[i] = i ^ 0x5a;
    }
    kqtest_memwrite(qt, BUF_ADDR, got, 512);
    write_prd(qt, 0, BUF_ADDR, 512, true);
    kqtest_outb(qt, 0x1f6, 0xe0);
    kqtest_outb(qt, 0x1f2, 0);
    kqtest_outb(qt, 0x1f2, 1);
    kqtest_outb(qt, 0x1f3, 0);
    kqtest_outb(qt, 0x1f3, 77);
    kqtest_outb(qt, 0x1f4, 0);
    kqtest_outb(qt, 0x1f4, 0);
    kqtest_outb(qt, 0x1f5, 0);
    kqtest_outb(qt, 0x1f5, 0);
    kqtest_outb(qt, 0x1f7, 0x35);
    kqtest_outb(qt, BMBASE, 0x01);
    g_assert_cmphex(ide_status(qt, BMBASE + 2), ==, 0x24);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x50);
    file_sector(77, want);
    g_assert_cmpmem(got, 512, want, 512);
    kqtest_outb(qt, BMBASE, 0x00);
    kqtest_outb(qt, BMBASE + 2, 0x26);

    /* A PRD table short of the transfer (512 bytes for 2 sectors): error + interrupt. */
    write_prd(qt, 0, BUF_ADDR, 512, true);
    set_lba28(qt, 3, 2);
    kqtest_outb(qt, 0x1f7, 0xc8);
    kqtest_outb(qt, BMBASE, 0x09);
    g_assert_cmphex(ide_status(qt, BMBASE + 2), ==, 0x26);
    g_assert_cmphex(ide_status(qt, 0x1f7) & 0x01, ==, 0x01);
    kqtest_outb(qt, BMBASE, 0x00);
    kqtest_outb(qt, BMBASE + 2, 0x26);

    /* Bus mastering disabled: the engine's reads are refused, the command fails. */
    cfg_writel(qt, IDE_DEVFN, 0x04, 0x01);
    write_prd(qt, 0, BUF_ADDR, 1024, true);
    set_lba28(qt, 3, 2);
    kqtest_outb(qt, 0x1f7, 0xc8);
    kqtest_outb(qt, BMBASE, 0x09);
    g_assert_cmphex(ide_status(qt, BMBASE + 2) & 0x02, ==, 0x02);
    g_assert_cmphex(ide_status(qt, 0x1f7) & 0x01, ==, 0x01);
    kqtest_quit(qt);
}

/*
 * Random register traffic with a fixed seed (reproducible): commands, task-file values,
 * data-port accesses of every width, bus-master starts with random PRD tables.  The device
 * must survive all of it and still answer IDENTIFY after a soft reset.
 */
static void test_random_traffic(void)
{
    KQTest *qt = start();
    GRand *r = g_rand_new_with_seed(0x1de);
    static const uint8_t cmds[] = {
        0x20, 0x24, 0x30, 0x34, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0x25, 0x35, 0x40, 0x42,
        0xec, 0xef, 0xe7, 0xea, 0x91, 0x90, 0xe5, 0xa0, 0xa1, 0x00, 0xff,
    };

    for (int i = 0; i < 4000; i++) {
        uint32_t op = g_rand_int_range(r, 0, 10), v = g_rand_int(r);
        uint16_t port;
        switch (op) {
        case 0:
            kqtest_outb(qt, 0x1f7, cmds[v % sizeof(cmds)]);
            break;
        case 1: case 2:
            kqtest_outb(qt, 0x1f1 + v % 6, v >> 8);
            break;
        case 3:
            kqtest_inw(qt, 0x1f0);
            break;
        case 4:
            kqtest_outl(qt, 0x1f0, v);
            break;
        case 5:
            port = BMBASE + (v % 16);
            kqtest_outb(qt, port, v >> 8);
            break;
        case 6:
            kqtest_writel(qt, PRD_ADDR + 4 * (v % 8), g_rand_int(r));
            kqtest_outl(qt, BMBASE + 4, PRD_ADDR + (v & 0x7c));
            break;
        case 7:
            kqtest_outb(qt, 0x3f6, (v >> 8) & 0x86);
            break;
        case 8:
            kqtest_inb(qt, 0x1f0 + v % 8);
            kqtest_inl(qt, 0x1f0);
            break;
        default:
            kqtest_outb(qt, 0x170 + v % 8, v >> 8);
            kqtest_outb(qt, 0x376, v >> 16);
            break;
        }
    }
    g_rand_free(r);
    kqtest_outb(qt, BMBASE, 0);
    kqtest_outb(qt, 0x3f6, 0x04);
    kqtest_outb(qt, 0x3f6, 0x00);
    kqtest_outb(qt, 0x1f6, 0xa0);
    kqtest_outb(qt, 0x1f7, 0xec);
    g_assert_cmphex(ide_status(qt, 0x1f7), ==, 0x58);
    g_assert_cmphex(kqtest_inw(qt, 0x1f0), ==, 0x0040);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    int r;

    g_test_init(&argc, &argv, NULL);
    make_image();
    g_test_add_func("/ide/pci-identify", test_pci_identify);
    g_test_add_func("/ide/pio", test_pio);
    g_test_add_func("/ide/errors", test_errors);
    g_test_add_func("/ide/dma", test_dma);
    g_test_add_func("/ide/random-traffic", test_random_traffic);
    r = g_test_run();
    unlink(img_path);
    return r;
}
