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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/isa-vga-on-pc", test_isa_vga_on_pc);
    g_test_add_func("/vga/nodefaults-no-vga", test_no_vga_by_default);
    return g_test_run();
}
