/*
 * isa-vga on the pc board over qtest: the device is creatable with -device, its DISPI ports
 * and the 0xa0000 window answer, and the LFB is VRAM at 0xe0000000.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"

static void test_isa_vga_on_pc(void)
{
    KQTest *qt = kqtest_start("-M pc -nodefaults -device isa-vga");

    /* Bochs DISPI: the id register reads B0C5h; VIDEO_MEMORY_64K is 16 MiB / 64 KiB. */
    kqtest_outw(qt, 0x1ce, 0);
    g_assert_cmphex(kqtest_inw(qt, 0x1cf), ==, 0xb0c5);
    kqtest_outw(qt, 0x1ce, 0xa);
    g_assert_cmphex(kqtest_inw(qt, 0x1cf), ==, 0x100);
    /* Sequencer index/data and the attribute flip-flop reset by input status 1. */
    kqtest_outw(qt, 0x3c4, 0x0f02);
    kqtest_outb(qt, 0x3c4, 0x02);
    g_assert_cmphex(kqtest_inb(qt, 0x3c5), ==, 0x0f);
    /* Chain-4 (SR04 bit 3), map A0000h 64K (GR06): window bytes are VRAM bytes. */
    kqtest_outw(qt, 0x3c4, 0x0e04);
    kqtest_outw(qt, 0x3ce, 0x0506);
    kqtest_writeb(qt, 0xa0123, 0x5a);
    g_assert_cmphex(kqtest_readb(qt, 0xa0123), ==, 0x5a);
    g_assert_cmphex(kqtest_readb(qt, 0xe0000123), ==, 0x5a);
    /* Not decoded with map 1: B8000h reads as all-ones (no RAM behind the VGA hole). */
    g_assert_cmphex(kqtest_readb(qt, 0xb8000), ==, 0xff);
    kqtest_quit(qt);
}

static void test_no_vga_by_default(void)
{
    KQTest *qt = kqtest_start("-M pc -nodefaults");

    kqtest_outw(qt, 0x1ce, 0);
    g_assert_cmphex(kqtest_inw(qt, 0x1cf), ==, 0xffff);
    kqtest_quit(qt);
}

static uint32_t cfg_read(KQTest *qt, int devfn, int reg)
{
    kqtest_outl(qt, 0xcf8, 0x80000000u | devfn << 8 | reg);
    return kqtest_inl(qt, 0xcfc);
}

static void cfg_write(KQTest *qt, int devfn, int reg, uint32_t v)
{
    kqtest_outl(qt, 0xcf8, 0x80000000u | devfn << 8 | reg);
    kqtest_outl(qt, 0xcfc, v);
}

/* -device VGA: IDs, BAR types and sizes, and the MMIO register window bochs-drm uses. */
static void test_pci_vga(void)
{
    KQTest *qt = kqtest_start("-M pc -nodefaults -device VGA,addr=5");
    int devfn = 5 << 3;

    g_assert_cmphex(cfg_read(qt, devfn, 0x00), ==, 0x11111234);
    g_assert_cmphex(cfg_read(qt, devfn, 0x08) >> 8, ==, 0x030000);     /* class, prog-if */
    g_assert_cmphex(cfg_read(qt, devfn, 0x08) & 0xff, ==, 2);
    g_assert_cmphex(cfg_read(qt, devfn, 0x2c), ==, 0x11001af4);
    /* BAR 0: 16 MiB prefetchable memory; BAR 2: 4 KiB memory. */
    cfg_write(qt, devfn, 0x10, 0xffffffff);
    g_assert_cmphex(cfg_read(qt, devfn, 0x10), ==, 0xff000008);
    cfg_write(qt, devfn, 0x18, 0xffffffff);
    g_assert_cmphex(cfg_read(qt, devfn, 0x18), ==, 0xfffff000);
    cfg_write(qt, devfn, 0x10, 0xc0000000);
    cfg_write(qt, devfn, 0x18, 0xc1000000);
    cfg_write(qt, devfn, 0x04, 0x0002);                  /* memory decode on */
    /* DISPI through MMIO at 0x500 + index * 2, and through the legacy ports. */
    g_assert_cmphex(kqtest_readw(qt, 0xc1000500), ==, 0xb0c5);
    kqtest_writew(qt, 0xc1000500 + 2 * 1, 800);          /* XRES */
    kqtest_outw(qt, 0x1ce, 1);
    g_assert_cmpuint(kqtest_inw(qt, 0x1cf), ==, 800);
    g_assert_cmphex(kqtest_readw(qt, 0xc1000500 + 2 * 0xa), ==, 0x100);
    /* VGA ports through MMIO at 0x400 + (port - 0x3c0). */
    kqtest_writeb(qt, 0xc1000400 + 4, 0x02);             /* 0x3c4: SR index */
    kqtest_writeb(qt, 0xc1000400 + 5, 0x0f);
    kqtest_outb(qt, 0x3c4, 0x02);
    g_assert_cmphex(kqtest_inb(qt, 0x3c5), ==, 0x0f);
    /* BAR 0 is the VRAM the window writes: chain-4, map A0000h 64K. */
    kqtest_outw(qt, 0x3c4, 0x0e04);
    kqtest_outw(qt, 0x3ce, 0x0506);
    kqtest_writeb(qt, 0xa0042, 0xa5);
    g_assert_cmphex(kqtest_readb(qt, 0xc0000042), ==, 0xa5);
    /* A 32-bit DISPI read covers two registers (ID, XRES), as in QEMU. */
    g_assert_cmphex(kqtest_readl(qt, 0xc1000500), ==, 800u << 16 | 0xb0c5);
    /* QEMU's extended registers at 0x600: size 8, little-endian framebuffer, which a
     * request for big-endian does not change (Kite draws little-endian only). */
    g_assert_cmphex(kqtest_readl(qt, 0xc1000600), ==, 8);
    g_assert_cmphex(kqtest_readl(qt, 0xc1000604), ==, 0x1e1e1e1e);
    kqtest_writel(qt, 0xc1000604, 0xbebebebe);
    g_assert_cmphex(kqtest_readl(qt, 0xc1000604), ==, 0x1e1e1e1e);
    kqtest_quit(qt);
}

static void pci_vga_map(KQTest *qt, int devfn)
{
    cfg_write(qt, devfn, 0x10, 0xc0000000);
    cfg_write(qt, devfn, 0x18, 0xc1000000);
    cfg_write(qt, devfn, 0x04, 0x0002);
}

/* The preferred mode of the EDID at BAR 2 offset 0 (its first detailed timing). */
static void edid_preferred(KQTest *qt, uint32_t *x, uint32_t *y)
{
    uint8_t sum = 0;

    g_assert_cmphex(kqtest_readl(qt, 0xc1000000), ==, 0xffffff00);    /* EDID header */
    g_assert_cmphex(kqtest_readl(qt, 0xc1000004), ==, 0x00ffffff);
    for (int i = 0; i < 128; i++) {
        sum += kqtest_readb(qt, 0xc1000000 + i);
    }
    g_assert_cmpuint(sum, ==, 0);
    *x = kqtest_readb(qt, 0xc1000038) | (kqtest_readb(qt, 0xc100003a) >> 4) << 8;
    *y = kqtest_readb(qt, 0xc100003b) | (kqtest_readb(qt, 0xc100003d) >> 4) << 8;
}

/* edid= and xres/yres, as QEMU's: 1280x800 by default, xres x yres if given, none if off. */
static void test_pci_vga_edid(void)
{
    KQTest *qt = kqtest_start("-M pc -nodefaults -device VGA,addr=5");
    uint32_t x, y;

    pci_vga_map(qt, 5 << 3);
    edid_preferred(qt, &x, &y);
    g_assert_cmpuint(x, ==, 1280);
    g_assert_cmpuint(y, ==, 800);
    kqtest_writel(qt, 0xc1000000, 0);                    /* read-only */
    g_assert_cmphex(kqtest_readl(qt, 0xc1000000), ==, 0xffffff00);
    /* Nothing between the blob (256 bytes) and the VGA ports at 0x400. */
    g_assert_cmphex(kqtest_readl(qt, 0xc1000100), ==, 0xffffffff);
    kqtest_quit(qt);

    qt = kqtest_start("-M pc -nodefaults -device VGA,addr=5,xres=1920,yres=1080");
    pci_vga_map(qt, 5 << 3);
    edid_preferred(qt, &x, &y);
    g_assert_cmpuint(x, ==, 1920);
    g_assert_cmpuint(y, ==, 1080);
    kqtest_quit(qt);

    qt = kqtest_start("-M pc -nodefaults -device VGA,addr=5,edid=off,qemu-extended-regs=off");
    pci_vga_map(qt, 5 << 3);
    g_assert_cmphex(kqtest_readl(qt, 0xc1000000), ==, 0xffffffff);
    g_assert_cmphex(kqtest_readl(qt, 0xc1000600), ==, 0xffffffff);
    g_assert_cmphex(kqtest_readw(qt, 0xc1000500), ==, 0xb0c5);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/isa-vga-on-pc", test_isa_vga_on_pc);
    g_test_add_func("/vga/nodefaults-no-vga", test_no_vga_by_default);
    g_test_add_func("/vga/pci-vga", test_pci_vga);
    g_test_add_func("/vga/pci-vga-edid", test_pci_vga_edid);
    return g_test_run();
}
