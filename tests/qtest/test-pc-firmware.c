/*
 * What the pc board gives firmware: the i440FX PAM registers steering 0xc0000-0xfffff
 * between shadow RAM and the PCI side (BIOS ROM, or nothing), and the default VGA's
 * expansion ROM BAR holding SeaBIOS's vgabios.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>

#define PAM0 0x59

static void cfg_writeb(KQTest *qt, int devfn, uint8_t reg, uint8_t v)
{
    kqtest_outl(qt, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
    kqtest_outb(qt, 0xcfc + (reg & 3), v);
}

static uint32_t cfg_readl(KQTest *qt, int devfn, uint8_t reg)
{
    kqtest_outl(qt, 0xcf8, 0x80000000u | devfn << 8 | reg);
    return kqtest_inl(qt, 0xcfc);
}

static void cfg_writel(KQTest *qt, int devfn, uint8_t reg, uint32_t v)
{
    kqtest_outl(qt, 0xcf8, 0x80000000u | devfn << 8 | reg);
    kqtest_outl(qt, 0xcfc, v);
}

/* PAM0 bits 5:4 for 0xf0000-0xfffff (82441FX datasheet 3.2.16): 00 ROM, 01 read RAM, 10 write
 * RAM, 11 both. */
static void test_pam_bios_segment(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");
    uint32_t rom_word = kqtest_readl(qt, 0xffff0);

    /* The reset vector below 1 MiB is the top of the BIOS image at 4 GiB. */
    g_assert_cmphex(rom_word, ==, kqtest_readl(qt, 0xfffffff0));
    kqtest_writel(qt, 0xffff0, 0x12345678);
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, rom_word);       /* ROM ignores writes */

    cfg_writeb(qt, 0, PAM0, 0x30);                                   /* RAM read/write */
    kqtest_writel(qt, 0xffff0, 0x12345678);
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, 0x12345678);

    cfg_writeb(qt, 0, PAM0, 0x10);                                   /* RAM read-only */
    kqtest_writel(qt, 0xffff0, 0xdeadbeef);
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, 0x12345678);

    cfg_writeb(qt, 0, PAM0, 0x20);                                   /* RAM write-only */
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, rom_word);       /* reads the ROM */
    kqtest_writel(qt, 0xffff0, 0xcafef00d);
    cfg_writeb(qt, 0, PAM0, 0x30);
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, 0xcafef00d);      /* the write hit RAM */

    cfg_writeb(qt, 0, PAM0, 0x00);
    g_assert_cmphex(kqtest_readl(qt, 0xffff0), ==, rom_word);
    /* Bits outside 5:4 of PAM0 are reserved and read as zero. */
    cfg_writeb(qt, 0, PAM0, 0xff);
    g_assert_cmphex(cfg_readl(qt, 0, 0x58) >> 8 & 0xff, ==, 0x30);
    kqtest_quit(qt);
}

/* PAM1 covers 0xc0000 (bits 1:0) and 0xc4000 (bits 5:4); unshadowed, that is PCI: nothing. */
static void test_pam_expansion_segments(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");

    kqtest_writel(qt, 0xc0000, 0x11111111);
    g_assert_cmphex(kqtest_readl(qt, 0xc0000), ==, 0xffffffff);
    cfg_writeb(qt, 0, PAM0 + 1, 0x03);
    kqtest_writel(qt, 0xc0000, 0x11111111);
    kqtest_writel(qt, 0xc4000, 0x22222222);
    g_assert_cmphex(kqtest_readl(qt, 0xc0000), ==, 0x11111111);
    g_assert_cmphex(kqtest_readl(qt, 0xc4000), ==, 0xffffffff);
    cfg_writeb(qt, 0, PAM0 + 1, 0x30);
    g_assert_cmphex(kqtest_readl(qt, 0xc0000), ==, 0xffffffff);
    kqtest_writel(qt, 0xc4000, 0x22222222);
    g_assert_cmphex(kqtest_readl(qt, 0xc4000), ==, 0x22222222);
    /* PAM6 bits 5:4 = 0xec000, the last 16 KiB segment below the BIOS segment. */
    cfg_writeb(qt, 0, PAM0 + 6, 0x30);
    kqtest_writel(qt, 0xefffc, 0x33333333);
    g_assert_cmphex(kqtest_readl(qt, 0xefffc), ==, 0x33333333);
    kqtest_quit(qt);
}

/* Direct kernel boot keeps plain RAM at 0xc0000-0xfffff: PAM has nothing to steer. */
static void test_pam_direct_boot(void)
{
    g_autofree char *dir = g_path_get_dirname(kqtest_binary());
    g_autofree char *kernel = g_build_filename(dir, "tests", "guest", "hello.elf", NULL);
    g_autofree char *args = NULL;
    KQTest *qt;

    if (!g_file_test(kernel, G_FILE_TEST_EXISTS)) {
        g_test_skip("no guest kernel hello.elf");
        return;
    }
    args = g_strdup_printf("-M pc -m 128 -nodefaults -kernel %s", kernel);
    qt = kqtest_start(args);
    kqtest_writel(qt, 0xc0000, 0x44444444);
    g_assert_cmphex(kqtest_readl(qt, 0xc0000), ==, 0x44444444);
    kqtest_quit(qt);
}

/* The default VGA (00:02.0) has a 64 KiB expansion ROM BAR with the vgabios in it. */
static void test_vga_rom_bar(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -serial null");
    int vga = 2 << 3;
    uint32_t size;

    g_assert_cmphex(cfg_readl(qt, vga, 0x00), ==, 0x11111234);
    cfg_writel(qt, vga, 0x30, 0xfffff800);
    size = ~(cfg_readl(qt, vga, 0x30) & 0xfffff800) + 1;
    g_assert_cmphex(size, ==, 0x10000);
    cfg_writel(qt, vga, 0x30, 0xfeb00000 | 1);                      /* address, enable */
    cfg_writel(qt, vga, 0x04, 0x0002);                              /* memory space on */
    g_assert_cmphex(kqtest_readw(qt, 0xfeb00000), ==, 0xaa55);      /* option ROM signature */
    g_assert_cmphex(kqtest_readl(qt, 0xfeb00000 + kqtest_readw(qt, 0xfeb00018)), ==,
                    0x52494350);                                    /* "PCIR" data structure */
    cfg_writel(qt, vga, 0x30, 0xfeb00000);                          /* enable bit off */
    g_assert_cmphex(kqtest_readw(qt, 0xfeb00000), ==, 0xffff);
    kqtest_quit(qt);

    /*
     * -vga none: nothing at 00:02.0, and the legacy VGA window is not RAM either (-net none:
     * the default NIC would take the free slot).
     */
    qt = kqtest_start("-M pc -m 128 -serial null -vga none -net none");
    g_assert_cmphex(cfg_readl(qt, vga, 0x00), ==, 0xffffffff);
    kqtest_writel(qt, 0xa0000, 0x12345678);
    kqtest_writel(qt, 0xbfffc, 0x12345678);
    g_assert_cmphex(kqtest_readl(qt, 0xa0000), ==, 0xffffffff);
    g_assert_cmphex(kqtest_readl(qt, 0xbfffc), ==, 0xffffffff);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pc-firmware/pam/bios-segment", test_pam_bios_segment);
    g_test_add_func("/pc-firmware/pam/expansion-segments", test_pam_expansion_segments);
    g_test_add_func("/pc-firmware/pam/direct-boot", test_pam_direct_boot);
    g_test_add_func("/pc-firmware/vga-rom-bar", test_vga_rom_bar);
    return g_test_run();
}
