/*
 * PCI through the qtest protocol: configuration mechanism #1, the i440FX and PIIX3
 * functions, the PIIX4 PM function (00:01.3) and its ACPI block at PMBA, BAR sizing and
 * mapping, pci-testdev's protocol (memory and I/O BARs, plain and ioeventfd-backed
 * tests), PIRQ routing onto IOAPIC pins, and hostile configuration writes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <string.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))

static uint32_t cfg_readl(KQTest *qt, int devfn, int reg)
{
    kqtest_outl(qt, 0xcf8, CONF(devfn, reg & ~3));
    return kqtest_inl(qt, 0xcfc);
}

static uint8_t cfg_readb(KQTest *qt, int devfn, int reg)
{
    kqtest_outl(qt, 0xcf8, CONF(devfn, reg & ~3));
    return kqtest_inb(qt, 0xcfc + (reg & 3));
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

static void test_host_bridge(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");

    g_assert_cmphex(cfg_readl(qt, 0x00, 0), ==, 0x12378086);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0), ==, 0x70008086);
    g_assert_cmphex(cfg_readl(qt, 0x08, 8) >> 16, ==, 0x0601);        /* ISA bridge */
    g_assert_cmphex(cfg_readb(qt, 0x08, 0x0e), ==, 0x80);              /* multi-function */
    /* QEMU's subsystem IDs on the host bridge and both PIIX3 functions. */
    g_assert_cmphex(cfg_readl(qt, 0x00, 0x2c), ==, 0x11001af4);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x2c), ==, 0x11001af4);
    g_assert_cmphex(cfg_readl(qt, 0x09, 0x2c), ==, 0x11001af4);
    /* No device: all-ones.  Address register reads back without bits 1:0. */
    g_assert_cmphex(cfg_readl(qt, 0x18, 0), ==, 0xffffffff);
    kqtest_outl(qt, 0xcf8, 0x80001003);
    g_assert_cmphex(kqtest_inl(qt, 0xcf8), ==, 0x80001000);
    /* Enable bit clear: data reads all-ones, writes go nowhere. */
    kqtest_outl(qt, 0xcf8, 0x00000000);
    g_assert_cmphex(kqtest_inl(qt, 0xcfc), ==, 0xffffffff);
    /* Vendor/device ID are read-only. */
    cfg_writel(qt, 0x00, 0, 0);
    g_assert_cmphex(cfg_readl(qt, 0x00, 0), ==, 0x12378086);
    /* PIRQ route control: power-on 0x80 (disabled), bits 6:4 are reserved. */
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x60), ==, 0x80808080);
    cfg_writeb(qt, 0x08, 0x61, 0xff);
    g_assert_cmphex(cfg_readb(qt, 0x08, 0x61), ==, 0x8f);
    /* QEMU's PIIX3 power-on values: command 0, status medium DEVSEL, IORT/XBCS, TOM,
     * MBIRQ0, MBDMA, PCSC, SMICNTL, SMIREQ; other bytes read back what is written. */
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x04), ==, 0x02000000);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x4c), ==, 0x0003004d);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x68), ==, 0x00000200);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x70), ==, 0x00000080);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x74), ==, 0x0c0c0000);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x78), ==, 0x00000002);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0xa0), ==, 0x00000008);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0xa8), ==, 0x0000000f);
    cfg_writeb(qt, 0x08, 0x82, 0x02);
    g_assert_cmphex(cfg_readb(qt, 0x08, 0x82), ==, 0x02);
    kqtest_outb(qt, 0xcf9, 0x06);                                      /* system reset */
    g_assert_cmphex(cfg_readb(qt, 0x08, 0x82), ==, 0x00);
    g_assert_cmphex(cfg_readl(qt, 0x08, 0x60), ==, 0x80808080);
    kqtest_quit(qt);
}

static void test_testdev_bar(KQTest *qt, int devfn, int bar, bool io, uint32_t base)
{
    uint32_t v, reg = 0x10 + 4 * bar;

    /* Sizing: all-ones reads back the size mask and the type bits (PCI 3.0, 6.2.5.1). */
    cfg_writel(qt, devfn, reg, 0xffffffff);
    v = cfg_readl(qt, devfn, reg);
    g_assert_cmphex(v, ==, io ? 0xffffff01 : 0xfffff000);
    cfg_writel(qt, devfn, reg, base);
    g_assert_cmphex(cfg_readl(qt, devfn, reg), ==, base | (io ? 1 : 0));
    cfg_writel(qt, devfn, 0x04, cfg_readl(qt, devfn, 0x04) | (io ? 1 : 2));

    for (int t = 0; ; t++) {
        uint32_t width, off, data, count;
        char name[32];
        if (io) {
            kqtest_outb(qt, base, t);
            width = kqtest_inb(qt, base + 1);
            off = kqtest_inl(qt, base + 4);
            data = kqtest_inl(qt, base + 8);
        } else {
            kqtest_writeb(qt, base, t);
            width = kqtest_readb(qt, base + 1);
            off = kqtest_readl(qt, base + 4);
            data = kqtest_readl(qt, base + 8);
        }
        if (width != 1 && width != 2 && width != 4) {
            g_assert_cmpint(t, ==, 3);
            break;
        }
        for (int i = 0; i < (int)sizeof(name); i++) {
            name[i] = io ? kqtest_inb(qt, base + 16 + i) : kqtest_readb(qt, base + 16 + i);
            if (!name[i]) {
                break;
            }
        }
        name[31] = 0;
        if (io) {
            if (t == 2) {
                kqtest_outb(qt, base + off, data + 1);       /* no match: not counted */
            }
            kqtest_outb(qt, base + off, data);
            count = kqtest_inl(qt, base + 12);
        } else {
            if (t == 2) {
                kqtest_writel(qt, base + off, data + 1);
            }
            kqtest_writel(qt, base + off, data);
            count = kqtest_readl(qt, base + 12);
        }
        g_test_message("%s BAR%d test %d '%s': count %u", io ? "io" : "mem", bar, t, name,
                       count);
        g_assert_cmpuint(count, ==, 1);
    }
}

static void test_testdev(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -device pci-testdev,addr=04.0");
    int devfn = 4 << 3;

    g_assert_cmphex(cfg_readl(qt, devfn, 0), ==, 0x00051b36);
    /* Class 00ffh as QEMU has it (its PCI_CLASS_OTHERS), revision 0; QEMU's subsystem. */
    g_assert_cmphex(cfg_readl(qt, devfn, 0x08), ==, 0x00ff0000);
    g_assert_cmphex(cfg_readl(qt, devfn, 0x2c), ==, 0x11001af4);
    test_testdev_bar(qt, devfn, 0, false, 0xe0000000);
    test_testdev_bar(qt, devfn, 1, true, 0xc000);
    /* Memory decoding off: the BAR disappears (unassigned reads all-ones). */
    cfg_writel(qt, devfn, 0x04, 0);
    g_assert_cmphex(kqtest_readl(qt, 0xe0000004), ==, 0xffffffff);
    g_assert_cmphex(kqtest_inl(qt, 0xc004), ==, 0xffffffff);
    kqtest_quit(qt);
}

/*
 * A 64-bit memory BAR (virtio-rng-pci's modern BAR 4, 16 KiB, prefetchable): both dwords
 * size together (PCI 3.0, 6.2.5.1), and a base above 4 GiB maps the BAR there.
 */
static void test_bar64(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -device virtio-rng-pci,addr=05.0");
    int devfn = 5 << 3, reg = 0x10 + 4 * 4;
    uint64_t base = 0x8e0000000ULL;             /* far above this guest's RAM */

    cfg_writel(qt, devfn, reg, 0xffffffff);
    cfg_writel(qt, devfn, reg + 4, 0xffffffff);
    g_assert_cmphex(cfg_readl(qt, devfn, reg), ==, 0xffffc00c);     /* 64-bit, prefetch */
    g_assert_cmphex(cfg_readl(qt, devfn, reg + 4), ==, 0xffffffff);
    cfg_writel(qt, devfn, reg, (uint32_t)base);
    cfg_writel(qt, devfn, reg + 4, base >> 32);
    g_assert_cmphex(kqtest_readw(qt, base + 0x12), ==, 0xffff);     /* decoding off */
    cfg_writel(qt, devfn, 0x04, 2);
    /* Common configuration (virtio 1.x 4.1.4.3): num_queues at 0x12, one for the rng. */
    g_assert_cmphex(kqtest_readw(qt, base + 0x12), ==, 1);
    /* Only the high dword changed: the BAR moves below 4 GiB as a whole. */
    cfg_writel(qt, devfn, reg + 4, 0);
    g_assert_cmphex(kqtest_readw(qt, base + 0x12), ==, 0xffff);
    g_assert_cmphex(kqtest_readw(qt, (uint32_t)base + 0x12), ==, 1);
    kqtest_quit(qt);
}

static void set_pirq(KQTest *qt, int pirq, int level)
{
    /* kqtest_cmd asserts on a FAIL reply (no such device or GPIO). */
    g_free(kqtest_cmd(qt, "set_irq_in /machine/piix3 pirq %d %d", pirq, level));
}

/*
 * PIRQ route control (82371SB datasheet 2.2.7): a PIRQ reaches the ISA IRQ its register
 * names, hence the IOAPIC pin of that number, only while routing is enabled and the IRQ is
 * not reserved; PIRQs routed to one IRQ are wired-OR.
 */
static void test_pirq_routing(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");
    int piix = 0x08;

    kqtest_irq_intercept_in(qt, "ioapic");
    set_pirq(qt, 0, 1);                         /* PIRQA asserted, route disabled */
    for (int i = 0; i < 16; i++) {
        g_assert_false(kqtest_get_irq(qt, i));
    }
    cfg_writeb(qt, piix, 0x60, 10);             /* enabling the route drives IRQ 10 */
    g_assert_true(kqtest_get_irq(qt, 10));
    set_pirq(qt, 0, 0);
    g_assert_false(kqtest_get_irq(qt, 10));
    set_pirq(qt, 0, 1);
    cfg_writeb(qt, piix, 0x60, 11);             /* re-routing moves the level */
    g_assert_false(kqtest_get_irq(qt, 10));
    g_assert_true(kqtest_get_irq(qt, 11));
    cfg_writeb(qt, piix, 0x60, 0x8b);           /* disable bit: released */
    g_assert_false(kqtest_get_irq(qt, 11));
    set_pirq(qt, 0, 0);

    /* PIRQB and PIRQC share IRQ 11: it stays high until both are released. */
    cfg_writeb(qt, piix, 0x61, 11);
    cfg_writeb(qt, piix, 0x62, 11);
    set_pirq(qt, 1, 1);
    set_pirq(qt, 2, 1);
    g_assert_true(kqtest_get_irq(qt, 11));
    set_pirq(qt, 1, 0);
    g_assert_true(kqtest_get_irq(qt, 11));
    set_pirq(qt, 2, 0);
    g_assert_false(kqtest_get_irq(qt, 11));

    /* A reserved IRQ number (13, the FPU's) routes nowhere. */
    cfg_writeb(qt, piix, 0x63, 13);
    set_pirq(qt, 3, 1);
    g_assert_false(kqtest_get_irq(qt, 13));
    cfg_writeb(qt, piix, 0x63, 5);
    g_assert_true(kqtest_get_irq(qt, 5));
    kqtest_quit(qt);
}

/* A BAR programmed over RAM is hidden by RAM; random config writes never crash Kite. */
static void test_hostile(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults -device pci-testdev,addr=03.0");
    int devfn = 3 << 3;
    GRand *r = g_rand_new_with_seed(42);

    kqtest_writel(qt, 0x100000, 0x12345678);
    cfg_writel(qt, devfn, 0x10, 0x00100000);
    cfg_writel(qt, devfn, 0x04, 2);
    g_assert_cmphex(kqtest_readl(qt, 0x100000), ==, 0x12345678);
    for (int i = 0; i < 3000; i++) {
        int fn = g_rand_int_range(r, 0, 5);
        int dev = fn == 4 ? devfn : fn == 3 ? 0x08 : fn == 2 ? 0x00 : g_rand_int_range(r, 0, 256);
        int reg = g_rand_int_range(r, 0, 256);
        uint32_t v = g_rand_int(r);
        switch (g_rand_int_range(r, 0, 3)) {
        case 0: cfg_writel(qt, dev, reg, i % 7 ? v : 0xffffffff); break;
        case 1: cfg_writeb(qt, dev, reg, v); break;
        default: cfg_readl(qt, dev, reg); break;
        }
    }
    g_rand_free(r);
    /* Still alive and still a PCI machine. */
    g_assert_cmphex(cfg_readl(qt, 0x00, 0), ==, 0x12378086);
    g_assert_cmphex(kqtest_readl(qt, 0x100000), ==, 0x12345678);
    kqtest_quit(qt);
}

/*
 * PIIX4 PM at 00:01.3 as on QEMU's pc (82371AB datasheet, function 3): 8086:7113 rev 3,
 * class 0680h, INTA; the 64-byte PM block decodes at PMBA (40h, bits 15:6) only while
 * PMREGMISC (80h) bit 0 is set; the SCI (here TMR_STS with TMR_EN) is ISA IRQ 9; a reset
 * returns PMBA to 1 and unmaps the block.
 */
static void test_piix4_pm(void)
{
    KQTest *qt = kqtest_start("-M pc -m 128 -nodefaults");
    const int pm = 0x0b;                            /* devfn 1.3 */

    g_assert_cmphex(cfg_readl(qt, pm, 0), ==, 0x71138086);
    g_assert_cmphex(cfg_readl(qt, pm, 8), ==, 0x06800003);
    g_assert_cmphex(cfg_readl(qt, pm, 4) >> 16, ==, 0x0280);         /* status */
    g_assert_cmphex(cfg_readb(qt, pm, 0x0e), ==, 0x00);              /* header type */
    g_assert_cmphex(cfg_readb(qt, pm, 0x3d), ==, 1);                 /* INTA */
    g_assert_cmphex(cfg_readl(qt, pm, 0x2c), ==, 0x11001af4);
    g_assert_cmphex(cfg_readl(qt, pm, 0x40), ==, 1);                 /* PMBA */
    g_assert_cmphex(cfg_readl(qt, pm, 0x90), ==, 1);                 /* SMBBA */
    g_assert_cmphex(cfg_readb(qt, pm, 0x5b), ==, 0x02);              /* APMC_EN: no SMM */
    /* Device resource bytes as QEMU fills them: no LPT1, COM1 or COM2 here. */
    g_assert_cmphex(cfg_readl(qt, pm, 0x5c), ==, 0x10000000);
    g_assert_cmphex(cfg_readl(qt, pm, 0x60), ==, 0x60000000);
    g_assert_cmphex(cfg_readl(qt, pm, 0x64), ==, 0x00000000);
    /* Nothing decodes until firmware places the block. */
    g_assert_cmphex(kqtest_inw(qt, 0x604), ==, 0xffff);
    cfg_writel(qt, pm, 0x40, 0x601);
    g_assert_cmphex(kqtest_inw(qt, 0x604), ==, 0xffff);              /* PMIOSE still 0 */
    cfg_writeb(qt, pm, 0x80, 1);
    g_assert_cmphex(kqtest_inw(qt, 0x604), ==, 1);                   /* PM1_CNT: SCI_EN */

    /* GPE0 at QEMU's 0xafe0: enables read back, status is write-1-to-clear and stays 0. */
    kqtest_outw(qt, 0xafe2, 0x0003);
    g_assert_cmphex(kqtest_inw(qt, 0xafe2), ==, 0x0003);
    kqtest_outw(qt, 0xafe0, 0xffff);
    g_assert_cmphex(kqtest_inw(qt, 0xafe0), ==, 0);
    kqtest_outw(qt, 0xafe2, 0);

    /* Moving PMBA moves the block; the low bits are fixed (15:6 writable, bit 0 = 1). */
    cfg_writel(qt, pm, 0x40, 0xb0ff);
    g_assert_cmphex(cfg_readl(qt, pm, 0x40), ==, 0xb0c1);
    g_assert_cmphex(kqtest_inw(qt, 0x604), ==, 0xffff);
    g_assert_cmphex(kqtest_inw(qt, 0xb0c4), ==, 1);
    cfg_writel(qt, pm, 0x90, 0xffffffff);
    g_assert_cmphex(cfg_readl(qt, pm, 0x90), ==, 0xfff1);

    /* SMBus: decoded at SMBBA only with SMBHSTCFG bit 0; an EEPROM answers at 50h. */
    cfg_writel(qt, pm, 0x90, 0x701);
    g_assert_cmphex(kqtest_inb(qt, 0x700), ==, 0xff);
    cfg_writeb(qt, pm, 0xd2, 0x09);
    g_assert_cmphex(kqtest_inb(qt, 0x700), ==, 0x00);                /* SMBHSTSTS */
    kqtest_outb(qt, 0x704, 0x50 << 1 | 1);                          /* read from 50h */
    kqtest_outb(qt, 0x703, 0x00);
    kqtest_outb(qt, 0x702, 0x48);                                   /* byte data, START */
    g_assert_cmphex(kqtest_inb(qt, 0x700), ==, 0x02);                /* INTR: done */
    kqtest_outb(qt, 0x700, 0x1e);
    kqtest_outb(qt, 0x704, 0x60 << 1 | 1);                          /* nobody at 60h */
    kqtest_outb(qt, 0x702, 0x48);
    g_assert_cmphex(kqtest_inb(qt, 0x700), ==, 0x04);                /* DEV_ERR */

    /* SCI: TMR_EN, then bit 23 of the 3.579545 MHz timer toggles within 2.35 s. */
    kqtest_irq_intercept_in(qt, "ioapic");
    kqtest_outw(qt, 0xb0c2, 0x0001);
    g_assert_false(kqtest_get_irq(qt, 9));
    kqtest_clock_step(qt, 2400 * 1000 * 1000LL);
    g_assert_true(kqtest_get_irq(qt, 9));
    kqtest_outw(qt, 0xb0c0, 0x0001);                                 /* clear TMR_STS */
    g_assert_false(kqtest_get_irq(qt, 9));

    /* Disabling PMIOSE unmaps it; a system reset (0xcf9) restores the power-on PMBA. */
    cfg_writeb(qt, pm, 0x80, 0);
    g_assert_cmphex(kqtest_inw(qt, 0xb0c4), ==, 0xffff);
    cfg_writeb(qt, pm, 0x80, 1);
    kqtest_outb(qt, 0xcf9, 0x06);
    g_assert_cmphex(cfg_readl(qt, pm, 0x40), ==, 1);
    g_assert_cmphex(cfg_readb(qt, pm, 0x80), ==, 0);
    g_assert_cmphex(kqtest_inw(qt, 0xb0c4), ==, 0xffff);
    g_assert_cmphex(kqtest_inb(qt, 0x700), ==, 0xff);                /* SMBus off again */
    kqtest_quit(qt);

    /* COM1 and COM2 present: 67h = 08h | 90h. */
    qt = kqtest_start("-M pc -m 128 -nodefaults -serial null -serial null");
    g_assert_cmphex(cfg_readl(qt, pm, 0x64), ==, 0x98000000);
    kqtest_quit(qt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/host-bridge", test_host_bridge);
    g_test_add_func("/pci/testdev", test_testdev);
    g_test_add_func("/pci/hostile-config", test_hostile);
    g_test_add_func("/pci/pirq-routing", test_pirq_routing);
    g_test_add_func("/pci/bar64", test_bar64);
    g_test_add_func("/pci/piix4-pm", test_piix4_pm);
    return g_test_run();
}
