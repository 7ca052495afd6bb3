/*
 * virtio-pci capabilities through the qtest protocol: the vendor capability list a modern
 * driver walks (virtio 1.2, 4.1.4) and the PCI configuration access capability
 * (4.1.4.9), checked against direct accesses to the BAR it is a window into.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <unistd.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))
#define DEVFN 0x18                      /* addr=3 */
#define BAR4 0xe0000000u

/* struct virtio_pci_cap field offsets and cfg_type values (4.1.4). */
enum { CAP_TYPE = 3, CAP_BAR = 4, CAP_OFF = 8, CAP_LEN = 12, CAP_DATA = 16 };
enum { COMMON = 1, NOTIFY = 2, ISR = 3, DEVICE = 4, PCI_CFG = 5 };
/* Common configuration registers (4.1.4.3). */
enum { DFSELECT = 0x00, DF = 0x04, NUMQ = 0x12, STATUS = 0x14 };

static uint32_t cfg_read(KQTest *qt, int reg, int len)
{
    kqtest_outl(qt, 0xcf8, CONF(DEVFN, reg & ~3));
    switch (len) {
    case 1:
        return kqtest_inb(qt, 0xcfc + (reg & 3));
    case 2:
        return kqtest_inw(qt, 0xcfc + (reg & 3));
    default:
        return kqtest_inl(qt, 0xcfc);
    }
}

static void cfg_write(KQTest *qt, int reg, uint32_t v, int len)
{
    kqtest_outl(qt, 0xcf8, CONF(DEVFN, reg & ~3));
    switch (len) {
    case 1:
        kqtest_outb(qt, 0xcfc + (reg & 3), v);
        break;
    case 2:
        kqtest_outw(qt, 0xcfc + (reg & 3), v);
        break;
    default:
        kqtest_outl(qt, 0xcfc, v);
    }
}

/* Walk the capability list; returns the offset of the vendor capability of cfg_type. */
static int find_vendor_cap(KQTest *qt, int cfg_type)
{
    int guard = 0;

    g_assert_true(cfg_read(qt, 0x06, 2) & 0x10);              /* Capabilities List */
    for (int pos = cfg_read(qt, 0x34, 1) & ~3; pos; pos = cfg_read(qt, pos + 1, 1) & ~3) {
        g_assert_cmpint(++guard, <, 48);
        if (cfg_read(qt, pos, 1) == 0x09 && cfg_read(qt, pos + CAP_TYPE, 1) == cfg_type) {
            return pos;
        }
    }
    return -1;
}

/* A window access: program bar/offset/length, then touch pci_cfg_data. */
static uint32_t window_read(KQTest *qt, int cap, int bar, uint32_t off, uint32_t len)
{
    cfg_write(qt, cap + CAP_BAR, bar, 1);
    cfg_write(qt, cap + CAP_OFF, off, 4);
    cfg_write(qt, cap + CAP_LEN, len, 4);
    return cfg_read(qt, cap + CAP_DATA, len == 3 ? 4 : (int)len);
}

static void window_write(KQTest *qt, int cap, int bar, uint32_t off, uint32_t len, uint32_t v)
{
    cfg_write(qt, cap + CAP_BAR, bar, 1);
    cfg_write(qt, cap + CAP_OFF, off, 4);
    cfg_write(qt, cap + CAP_LEN, len, 4);
    cfg_write(qt, cap + CAP_DATA, v, len == 3 ? 4 : (int)len);
}

static void test_caps(void)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults -device virtio-rng-pci,addr=3");
    int common, cfgcap;

    g_assert_cmphex(cfg_read(qt, 0, 4), ==, 0x10051af4);      /* transitional rng */
    for (int t = COMMON; t <= PCI_CFG; t++) {
        int pos = find_vendor_cap(qt, t);
        g_assert_cmpint(pos, >, 0x3f);
        g_assert_cmpint(cfg_read(qt, pos + 2, 1), ==, t == NOTIFY || t == PCI_CFG ? 20 : 16);
        if (t != PCI_CFG) {
            g_assert_cmpint(cfg_read(qt, pos + CAP_BAR, 1), ==, 4);
        }
    }
    common = find_vendor_cap(qt, COMMON);
    g_assert_cmphex(cfg_read(qt, common + CAP_OFF, 4), ==, 0);
    /* Capability structures other than the window are read-only. */
    cfg_write(qt, common + CAP_OFF, 0x1234, 4);
    g_assert_cmphex(cfg_read(qt, common + CAP_OFF, 4), ==, 0);

    /* Map BAR 4 (64-bit) and compare the window with direct MMIO. */
    cfg_write(qt, 0x20, BAR4, 4);
    cfg_write(qt, 0x24, 0, 4);
    cfg_write(qt, 0x04, cfg_read(qt, 0x04, 2) | 0x2, 2);
    cfgcap = find_vendor_cap(qt, PCI_CFG);
    g_assert_cmpint(kqtest_readw(qt, BAR4 + NUMQ), ==, 1);
    g_assert_cmpint(window_read(qt, cfgcap, 4, NUMQ, 2), ==, 1);
    kqtest_writel(qt, BAR4 + DFSELECT, 1);                   /* features 63:32 */
    g_assert_cmphex(window_read(qt, cfgcap, 4, DF, 4), ==, kqtest_readl(qt, BAR4 + DF));
    g_assert_true(window_read(qt, cfgcap, 4, DF, 4) & 1);     /* VIRTIO_F_VERSION_1 */
    /* The driver's registers read back what it programmed. */
    g_assert_cmpint(cfg_read(qt, cfgcap + CAP_BAR, 1), ==, 4);
    g_assert_cmphex(cfg_read(qt, cfgcap + CAP_OFF, 4), ==, DF);
    g_assert_cmphex(cfg_read(qt, cfgcap + CAP_LEN, 4), ==, 4);

    /* A write through the window reaches the device: ACKNOWLEDGE in device status. */
    window_write(qt, cfgcap, 4, STATUS, 1, 0x01);
    g_assert_cmphex(kqtest_readb(qt, BAR4 + STATUS), ==, 0x01);
    window_write(qt, cfgcap, 4, STATUS, 1, 0x03);
    g_assert_cmphex(window_read(qt, cfgcap, 4, STATUS, 1), ==, 0x03);

    /* The window works with memory decoding off: that is what it is for. */
    cfg_write(qt, 0x04, cfg_read(qt, 0x04, 2) & ~0x2, 2);
    g_assert_cmphex(kqtest_readb(qt, BAR4 + STATUS), !=, 0x03);
    g_assert_cmphex(window_read(qt, cfgcap, 4, STATUS, 1), ==, 0x03);

    /* Accesses the driver must not make (4.1.4.9.2) do nothing: length 3, a misaligned
     * offset, another BAR, an offset past the BAR. */
    window_write(qt, cfgcap, 4, STATUS, 3, 0x00);
    window_write(qt, cfgcap, 4, STATUS + 1, 2, 0x0000);
    window_write(qt, cfgcap, 0, STATUS, 1, 0x00);
    window_write(qt, cfgcap, 4, 0x100000, 1, 0x00);
    window_write(qt, cfgcap, 4, 0xfffffffc, 4, 0x00);
    g_assert_cmphex(window_read(qt, cfgcap, 4, STATUS, 1), ==, 0x03);

    /* Writing 0 to device status resets the device (4.1.4.3.2). */
    window_write(qt, cfgcap, 4, STATUS, 1, 0);
    g_assert_cmphex(window_read(qt, cfgcap, 4, STATUS, 1), ==, 0);
    kqtest_quit(qt);
}

/* disable-modern=on: no BAR 4, so no capability points at it (4.1.4). */
static void test_legacy_only(void)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults "
                              "-device virtio-rng-pci,addr=3,disable-modern=on");

    for (int t = COMMON; t <= PCI_CFG; t++) {
        g_assert_cmpint(find_vendor_cap(qt, t), ==, -1);
    }
    kqtest_quit(qt);
}

/* The standard capability (not vendor) with this ID, or -1. */
static int find_cap(KQTest *qt, int id)
{
    int guard = 0;

    for (int pos = cfg_read(qt, 0x34, 1) & ~3; pos; pos = cfg_read(qt, pos + 1, 1) & ~3) {
        g_assert_cmpint(++guard, <, 48);
        if (cfg_read(qt, pos, 1) == id) {
            return pos;
        }
    }
    return -1;
}

/*
 * vectors= and the MSI-X table size (PCI 3.0 6.8.2.3: at most 2048 entries).  As in QEMU,
 * 2048 is honoured, more is a warning and a device without MSI-X (INTx only), 0 means none.
 */
static void test_vectors(void)
{
    static const struct { uint32_t vectors; int table_size; } cases[] = {
        { 2048, 2048 }, { 2049, 0 }, { 100000, 0 }, { 0, 0 }, { 3, 3 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cmd = g_strdup_printf("-M pc -m 64 -nodefaults "
                                               "-device virtio-rng-pci,addr=3,vectors=%u",
                                               cases[i].vectors);
        KQTest *qt = kqtest_start(cmd);
        int msix = find_cap(qt, 0x11);

        g_assert_cmphex(cfg_read(qt, 0, 4), ==, 0x10051af4);
        if (cases[i].table_size) {
            g_assert_cmpint(msix, >, 0x3f);
            g_assert_cmpint((cfg_read(qt, msix + 2, 2) & 0x7ff) + 1, ==, cases[i].table_size);
        } else {
            g_assert_cmpint(msix, ==, -1);
            g_assert_cmpint(cfg_read(qt, 0x3d, 1), ==, 1);       /* INTA# */
        }
        kqtest_quit(qt);
    }
}

/*
 * virtio-blk-pci's request queues (virtio 1.2, 5.2.3 VIRTIO_BLK_F_MQ): one per vCPU unless
 * num-queues= says otherwise, as in QEMU, each with an MSI-X vector plus one for config.
 */
static void test_blk_num_queues(void)
{
    static const struct { const char *smp, *prop; int queues; } cases[] = {
        { "1", "", 1 }, { "2", "", 2 }, { "4", "", 4 }, { "1", ",num-queues=3", 3 },
        { "4", ",num-queues=1", 1 },
    };
    g_autofree char *img = g_build_filename(g_get_tmp_dir(), "kqtest-numq-XXXXXX", NULL);
    int fd = g_mkstemp(img);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 1 << 20), ==, 0);
    close(fd);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "-M pc -m 64 -nodefaults -smp %s -drive file=%s,format=raw,if=none,id=d0 "
            "-device virtio-blk-pci,drive=d0,addr=3%s", cases[i].smp, img, cases[i].prop);
        KQTest *qt = kqtest_start(cmd);
        int msix = find_cap(qt, 0x11);

        g_assert_cmphex(cfg_read(qt, 0, 4), ==, 0x10011af4);  /* transitional blk */
        cfg_write(qt, 0x20, BAR4, 4);
        cfg_write(qt, 0x24, 0, 4);
        cfg_write(qt, 0x04, cfg_read(qt, 0x04, 2) | 0x2, 2);
        g_assert_cmpint(kqtest_readw(qt, BAR4 + NUMQ), ==, cases[i].queues);
        kqtest_writel(qt, BAR4 + DFSELECT, 0);
        /* Feature bit 12, VIRTIO_BLK_F_MQ, exactly when there is more than one queue. */
        g_assert_cmpint(!!(kqtest_readl(qt, BAR4 + DF) & (1u << 12)), ==,
                        cases[i].queues > 1);
        g_assert_cmpint((cfg_read(qt, msix + 2, 2) & 0x7ff) + 1, ==, cases[i].queues + 1);
        kqtest_quit(qt);
    }
    unlink(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-pci/caps", test_caps);
    g_test_add_func("/virtio-pci/legacy-only", test_legacy_only);
    g_test_add_func("/virtio-pci/vectors", test_vectors);
    g_test_add_func("/virtio-pci/blk-num-queues", test_blk_num_queues);
    return g_test_run();
}
