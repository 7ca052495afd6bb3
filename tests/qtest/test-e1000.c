/*
 * e1000 through the qtest protocol: PCI identity and BAR sizing, registers through the
 * memory BAR and the I/O window, the mac= property in the EEPROM and RAL0/RAH0, INTx
 * through the PIIX3 PIRQ routing, transmit descriptor write-back by bus-master DMA (and
 * none without Bus Master Enable), a hostile ring that must leave Kite running, -nic and
 * default MACs, and the iPXE option ROM.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))
#define DEVFN   (3 << 3)
#define MMIO    0xfebc0000u
#define IOBASE  0xc000
#define RING    0x100000
#define BUF     0x101000

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

static void cfg_writeb(KQTest *qt, int devfn, int reg, uint8_t v)
{
    kqtest_outl(qt, 0xcf8, CONF(devfn, reg & ~3));
    kqtest_outb(qt, 0xcfc + (reg & 3), v);
}

static KQTest *start_mapped(const char *extra)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -device e1000,addr=03.0%s", extra);

    cfg_writel(qt, DEVFN, 0x10, MMIO);
    cfg_writel(qt, DEVFN, 0x14, IOBASE);
    cfg_writel(qt, DEVFN, 0x04, 0x7);              /* I/O, memory, bus master */
    return qt;
}

static void test_identity(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -device e1000,addr=03.0");

    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x00), ==, 0x100e8086);
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x08), ==, 0x02000003);    /* Ethernet, rev 3 */
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x2c), ==, 0x11001af4);    /* QEMU's subsystem */
    g_assert_cmphex((cfg_readl(qt, DEVFN, 0x3c) >> 8) & 0xff, ==, 1); /* INTA# */
    /* BAR0: 128 KiB of 32-bit memory; BAR1: 64 bytes of I/O (PCI 3.0, 6.2.5.1). */
    cfg_writel(qt, DEVFN, 0x10, 0xffffffff);
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x10), ==, 0xfffe0000);
    cfg_writel(qt, DEVFN, 0x14, 0xffffffff);
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x14), ==, 0xffffffc1);
    for (int bar = 2; bar < 6; bar++) {
        cfg_writel(qt, DEVFN, 0x10 + 4 * bar, 0xffffffff);
        g_assert_cmphex(cfg_readl(qt, DEVFN, 0x10 + 4 * bar), ==, 0);
    }
    kqtest_quit(qt);
}

static void test_registers(void)
{
    KQTest *qt = start_mapped(",mac=02:11:22:33:44:55");

    /* Link up, full duplex, 1000 Mb/s. */
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x8) & 0x83, ==, 0x83);
    /* The MAC address: EEPROM words 0-2 and RAL0/RAH0 (valid). */
    kqtest_writel(qt, MMIO + 0x14, 0x0001);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x14) >> 16, ==, 0x1102);
    kqtest_writel(qt, MMIO + 0x14, 0x0201);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x14) >> 16, ==, 0x5544);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x5400), ==, 0x33221102);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x5404), ==, 0x80005544);
    /* The I/O window reaches the same registers. */
    kqtest_outl(qt, IOBASE, 0x5400);
    g_assert_cmphex(kqtest_inl(qt, IOBASE + 4), ==, 0x33221102);
    kqtest_outl(qt, IOBASE, 0x00d0);                   /* IMS */
    kqtest_outl(qt, IOBASE + 4, 0x4);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0xd0), ==, 0x4);
    /* PHY identifier through MDIC. */
    kqtest_writel(qt, MMIO + 0x20, 0x08000000 | 1 << 21 | 2 << 16);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x20) & 0x1000ffff, ==, 0x10000141);
    /* Software reset restores the interrupt mask. */
    kqtest_writel(qt, MMIO + 0x0, 0x04000000);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0xd0), ==, 0);
    kqtest_quit(qt);
}

static void test_intx(void)
{
    KQTest *qt = start_mapped("");

    for (int i = 0; i < 4; i++) {
        cfg_writeb(qt, 0x08, 0x60 + i, 11);            /* every PIRQ to IRQ 11 */
    }
    kqtest_irq_intercept_in(qt, "ioapic");
    kqtest_writel(qt, MMIO + 0xc8, 0x4);               /* ICS: LSC, masked */
    g_assert_false(kqtest_get_irq(qt, 11));
    kqtest_writel(qt, MMIO + 0xd0, 0x4);               /* IMS */
    g_assert_true(kqtest_get_irq(qt, 11));
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0xc0), ==, 0x4);
    g_assert_false(kqtest_get_irq(qt, 11));
    /* INTx Disable in the command register holds the line low. */
    kqtest_writel(qt, MMIO + 0xc8, 0x4);
    g_assert_true(kqtest_get_irq(qt, 11));
    cfg_writel(qt, DEVFN, 0x04, 0x407);
    g_assert_false(kqtest_get_irq(qt, 11));
    kqtest_quit(qt);
}

static void put_txd(KQTest *qt, int i, uint64_t addr, uint16_t len, uint8_t cmd)
{
    kqtest_writeq(qt, RING + 16 * i, addr);
    kqtest_writel(qt, RING + 16 * i + 8, len | (uint32_t)cmd << 24);
    kqtest_writel(qt, RING + 16 * i + 12, 0);
}

static void test_tx_dma(void)
{
    KQTest *qt = start_mapped("");

    kqtest_writel(qt, MMIO + 0x3800, RING);            /* TDBAL */
    kqtest_writel(qt, MMIO + 0x3808, 8 * 16);          /* TDLEN */
    kqtest_writel(qt, MMIO + 0x0400, 0x2);             /* TCTL.EN */
    put_txd(qt, 0, BUF, 60, 0x09);                     /* EOP | RS */
    kqtest_writel(qt, MMIO + 0x3818, 1);               /* TDT */
    g_assert_cmphex(kqtest_readb(qt, RING + 12) & 1, ==, 1);
    g_assert_cmpuint(kqtest_readl(qt, MMIO + 0x3810), ==, 1);
    g_assert_cmpuint(kqtest_readl(qt, MMIO + 0x4080), ==, 1);    /* GPTC */

    /* Without Bus Master Enable the descriptor is never fetched. */
    cfg_writel(qt, DEVFN, 0x04, 0x3);
    put_txd(qt, 1, BUF, 60, 0x09);
    kqtest_writel(qt, MMIO + 0x3818, 2);
    g_assert_cmphex(kqtest_readb(qt, RING + 16 + 12), ==, 0);
    g_assert_cmpuint(kqtest_readl(qt, MMIO + 0x3810), ==, 1);
    kqtest_quit(qt);
}

static void test_hostile(void)
{
    KQTest *qt = start_mapped("");
    GRand *r = g_rand_new_with_seed(0x82540);

    /* Buffers outside RAM and in MMIO space, a ring over the device's own registers. */
    kqtest_writel(qt, MMIO + 0x3800, RING);
    kqtest_writel(qt, MMIO + 0x3808, 8 * 16);
    kqtest_writel(qt, MMIO + 0x0400, 0x2);
    put_txd(qt, 0, 0xfffffffffffff000ull, 0xffff, 0x09);
    put_txd(qt, 1, MMIO, 0x1000, 0x09);
    put_txd(qt, 2, 0x7fff000, 0x2000, 0x09);           /* straddles the end of RAM */
    kqtest_writel(qt, MMIO + 0x3818, 3);
    kqtest_writel(qt, MMIO + 0x3800, MMIO);
    kqtest_writel(qt, MMIO + 0x3810, 0);
    kqtest_writel(qt, MMIO + 0x3818, 7);
    for (int i = 0; i < 2000; i++) {
        static const uint32_t regs[] = { 0x0, 0x10, 0x14, 0x20, 0xc0, 0xc4, 0xc8, 0xd0,
                                         0x100, 0x400, 0x2800, 0x2808, 0x2810, 0x2818,
                                         0x3800, 0x3804, 0x3808, 0x3810, 0x3818 };
        uint32_t reg = regs[g_rand_int_range(r, 0, G_N_ELEMENTS(regs))];
        uint32_t v = g_rand_int(r);
        if (reg == 0x0) {
            v &= ~0x04000000u;
        }
        if (g_rand_boolean(r)) {
            kqtest_writel(qt, MMIO + reg, v);
        } else {
            kqtest_readl(qt, MMIO + reg);
        }
        if (i % 50 == 0) {
            kqtest_writeq(qt, RING + 16 * g_rand_int_range(r, 0, 8),
                          (uint64_t)g_rand_int(r) << 32 | g_rand_int(r));
        }
    }
    g_rand_free(r);
    /* Still alive and still answering. */
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x00), ==, 0x100e8086);
    kqtest_writel(qt, MMIO + 0x0, 0x04000000);
    g_assert_cmphex(kqtest_readl(qt, MMIO + 0x5404) >> 31, ==, 1);
    kqtest_quit(qt);
}


static int find_e1000(KQTest *qt, int from)
{
    for (int devfn = from; devfn < 256; devfn += 8) {
        if (cfg_readl(qt, devfn, 0) == 0x100e8086) {
            return devfn;
        }
    }
    return -1;
}

static uint64_t station_address(KQTest *qt, int devfn)
{
    cfg_writel(qt, devfn, 0x10, MMIO);
    cfg_writel(qt, devfn, 0x04, 0x2);
    return (uint64_t)(kqtest_readl(qt, MMIO + 0x5404) & 0xffff) << 32 |
           kqtest_readl(qt, MMIO + 0x5400);
}

/* -nic picks e1000 (the pc default model); default MACs count up from 52:54:00:12:34:56. */
static void test_nic_option(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults "
                              "-nic user,model=e1000,mac=52:54:00:12:34:99");
    int devfn = find_e1000(qt, 0);

    g_assert_cmpint(devfn, >=, 0);
    g_assert_cmphex(station_address(qt, devfn), ==, 0x993412005452ull);
    kqtest_quit(qt);

    qt = kqtest_start("-M pc -m 128 -nodefaults -nic user");
    devfn = find_e1000(qt, 0);
    g_assert_cmpint(devfn, >=, 0);
    g_assert_cmphex(station_address(qt, devfn), ==, 0x563412005452ull);
    kqtest_quit(qt);

    qt = kqtest_start("-M pc -m 128 -nodefaults -device e1000,addr=03.0 "
                      "-device e1000,addr=04.0");
    g_assert_cmphex(station_address(qt, 3 << 3), ==, 0x563412005452ull);
    cfg_writel(qt, 3 << 3, 0x04, 0);                   /* unmap before reusing MMIO */
    g_assert_cmphex(station_address(qt, 4 << 3), ==, 0x573412005452ull);
    kqtest_quit(qt);
}


/* The expansion ROM: iPXE's efi-e1000.rom by default when installed, romfile= none. */
static void test_option_rom(void)
{
    KQTest *qt;

    if (!g_file_test("/usr/lib/ipxe/qemu/efi-e1000.rom", G_FILE_TEST_EXISTS)) {
        g_test_skip("no /usr/lib/ipxe/qemu/efi-e1000.rom (Debian package ipxe-qemu)");
        return;
    }
    qt = kqtest_start("-M pc -m 128 -nodefaults -device e1000,addr=03.0");
    cfg_writel(qt, DEVFN, 0x30, 0xfffff800);
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x30), ==, 0xfffc0000);       /* 256 KiB */
    cfg_writel(qt, DEVFN, 0x30, 0xfeb00001);
    cfg_writel(qt, DEVFN, 0x04, 0x2);
    g_assert_cmphex(kqtest_readw(qt, 0xfeb00000), ==, 0xaa55);
    kqtest_quit(qt);

    qt = kqtest_start("-M pc -m 128 -nodefaults -device e1000,addr=03.0,romfile=");
    cfg_writel(qt, DEVFN, 0x30, 0xfffff800);
    g_assert_cmphex(cfg_readl(qt, DEVFN, 0x30), ==, 0);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e1000/identity", test_identity);
    g_test_add_func("/e1000/registers", test_registers);
    g_test_add_func("/e1000/intx", test_intx);
    g_test_add_func("/e1000/tx-dma", test_tx_dma);
    g_test_add_func("/e1000/hostile", test_hostile);
    g_test_add_func("/e1000/nic-option", test_nic_option);
    g_test_add_func("/e1000/option-rom", test_option_rom);
    return g_test_run();
}
