/*
 * MSI-X and MSI (hw/pci/msix.c, msi.c) on a test device behind the i440FX host bridge:
 * table programming through the BAR, masking and the pending bit array, function mask,
 * Bus Master Enable gating, MSI multiple-message data, reset.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/msix.h"
#include "hw/pci-host/i440fx.h"
#include "hw/sysbus.h"

#define TYPE_MSIX_TESTDEV "msix-testdev"
#define BAR_ADDR 0xe0000000ULL

static uint64_t sent_addr[16];
static uint32_t sent_data[16];
static int nsent;

static void capture(uint64_t addr, uint32_t data)
{
    if (nsent < 16) {
        sent_addr[nsent] = addr;
        sent_data[nsent] = data;
    }
    nsent++;
}

static void testdev_realize(PCIDevice *dev, Error **errp)
{
    if (msix_init_exclusive_bar(dev, 4, 1, errp)) {
        msi_init(dev, 0, 4, errp);
    }
}

/* The largest table the capability can describe (Table Size is 11 bits). */
static void bigdev_realize(PCIDevice *dev, Error **errp)
{
    msix_init_exclusive_bar(dev, PCI_MSIX_MAX_ENTRIES, 1, errp);
}

static void testdev_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = 0x1234;
    pc->device_id = 0x5678;
}

static const TypeInfo testdev_type = {
    .name = TYPE_MSIX_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIDevice),
    .class_init = testdev_class_init,
    .realize = (void (*)(DeviceState *, Error **))testdev_realize,
};
KITE_TYPE_REGISTER(testdev_type)

static const TypeInfo bigdev_type = {
    .name = "msix-testdev-2048",
    .parent = TYPE_MSIX_TESTDEV,
    .instance_size = sizeof(PCIDevice),
    .realize = (void (*)(DeviceState *, Error **))bigdev_realize,
};
KITE_TYPE_REGISTER(bigdev_type)

static DeviceState *host;

static PCIDevice *setup(void)
{
    static PCIDevice *dev;

    if (dev) {
        device_cold_reset(DEVICE(dev));
        nsent = 0;
        return dev;
    }
    memory_init();
    host = qdev_new(TYPE_I440FX_PCI_HOST);
    g_assert_true(sysbus_realize_and_unref(host, &error_abort));
    dev = PCI_DEVICE(qdev_new(TYPE_MSIX_TESTDEV));
    g_assert_true(qdev_realize(DEVICE(dev), BUS(I440FX_HOST(host)->bus), &error_abort));
    device_cold_reset(DEVICE(dev));
    pci_msi_trigger = capture;
    return dev;
}

static void write_entry(unsigned v, uint64_t addr, uint32_t data, uint32_t ctrl)
{
    uint64_t base = BAR_ADDR + 16 * v;

    address_space_stl(&address_space_memory, base, (uint32_t)addr);
    address_space_stl(&address_space_memory, base + 4, addr >> 32);
    address_space_stl(&address_space_memory, base + 8, data);
    address_space_stl(&address_space_memory, base + 12, ctrl);
}

static void test_msix(void)
{
    PCIDevice *dev = setup();
    int cap = dev->msix_cap;

    g_assert_cmpint(cap, >=, 0x40);
    g_assert_cmphex(dev->config[cap], ==, PCI_CAP_ID_MSIX);
    g_assert_cmphex(pci_get_word(dev->config + cap + 2), ==, 3);       /* 4 vectors */
    g_assert_cmphex(pci_get_long(dev->config + cap + 4), ==, 1);       /* BIR 1, offset 0 */
    g_assert_cmphex(pci_get_long(dev->config + cap + 8), ==, 2048 | 1);
    pci_config_write(dev, PCI_BASE_ADDRESS_0 + 4, BAR_ADDR, 4);
    pci_config_write(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);

    /* Vectors start masked: a notify before anything is set up only sets pending. */
    pci_config_write(dev, cap + 2, 0x8000, 2);                           /* enable */
    write_entry(2, 0xfee01000, 0x41, 1);
    msix_notify(dev, 2);
    g_assert_cmpint(nsent, ==, 0);
    g_assert_cmphex(address_space_ldl(&address_space_memory, BAR_ADDR + 2048), ==, 1u << 2);
    /* Unmasking delivers it and clears pending. */
    address_space_stl(&address_space_memory, BAR_ADDR + 16 * 2 + 12, 0);
    g_assert_cmpint(nsent, ==, 1);
    g_assert_cmphex(sent_addr[0], ==, 0xfee01000);
    g_assert_cmphex(sent_data[0], ==, 0x41);
    g_assert_cmphex(address_space_ldl(&address_space_memory, BAR_ADDR + 2048), ==, 0);
    /* Table reads back; reserved vector-control bits stay 0; the PBA ignores writes. */
    g_assert_cmphex(address_space_ldl(&address_space_memory, BAR_ADDR + 16 * 2 + 8), ==, 0x41);
    address_space_stl(&address_space_memory, BAR_ADDR + 16 * 2 + 12, 0xfffffffe);
    g_assert_cmphex(address_space_ldl(&address_space_memory, BAR_ADDR + 16 * 2 + 12), ==, 0);
    address_space_stl(&address_space_memory, BAR_ADDR + 2048, 0xffffffff);
    g_assert_cmphex(address_space_ldl(&address_space_memory, BAR_ADDR + 2048), ==, 0);
    /* Function mask holds every vector; clearing it flushes. */
    pci_config_write(dev, cap + 2, 0xc000, 2);
    msix_notify(dev, 2);
    g_assert_cmpint(nsent, ==, 1);
    pci_config_write(dev, cap + 2, 0x8000, 2);
    g_assert_cmpint(nsent, ==, 2);
    /* Without Bus Master Enable, no message; out-of-range vectors are ignored. */
    pci_config_write(dev, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    msix_notify(dev, 2);
    msix_notify(dev, 99);
    g_assert_cmpint(nsent, ==, 2);
    /* Accesses past the table are harmless. */
    address_space_stl(&address_space_memory, BAR_ADDR + 16 * 4, 0x1234);
    /* Reset: disabled, all masked. */
    device_cold_reset(DEVICE(dev));
    g_assert_false(msix_enabled(dev));
    g_assert_cmphex(dev->msix_table[16 * 2 + 12], ==, 1);
}

/* 2048 vectors: a 64 KiB BAR with the PBA after the 32 KiB table; the last vector works;
 * the table survives a vmstate round trip, which a 4-vector device refuses. */
static void test_msix_2048(void)
{
    PCIDevice *small = setup();
    PCIDevice *dev = PCI_DEVICE(qdev_new("msix-testdev-2048"));
    const uint64_t bar = 0xe1000000ULL;
    g_autoptr(GByteArray) st = g_byte_array_new();
    size_t pos = 0;
    int cap;

    g_assert_true(qdev_realize(DEVICE(dev), BUS(I440FX_HOST(host)->bus), &error_abort));
    device_cold_reset(DEVICE(dev));
    cap = dev->msix_cap;
    g_assert_cmphex(pci_get_word(dev->config + cap + 2), ==, 2047);
    g_assert_cmphex(pci_get_long(dev->config + cap + 8), ==, 32768 | 1);
    pci_config_write(dev, PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
    g_assert_cmphex(pci_config_read(dev, PCI_BASE_ADDRESS_0 + 4, 4), ==, 0xffff0000);
    pci_config_write(dev, PCI_BASE_ADDRESS_0 + 4, bar, 4);
    pci_config_write(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    pci_config_write(dev, cap + 2, 0x8000, 2);

    address_space_stl(&address_space_memory, bar + 16 * 2047, 0xfee02000);
    address_space_stl(&address_space_memory, bar + 16 * 2047 + 8, 0x77);
    msix_notify(dev, 2047);                                     /* masked: pending */
    g_assert_cmpint(nsent, ==, 0);
    g_assert_cmphex(address_space_ldl(&address_space_memory, bar + 32768 + 252), ==,
                    1u << 31);
    g_assert_cmpint(vmstate_save(st, &vmstate_pci_device, dev, &error_abort), ==, 0);
    address_space_stl(&address_space_memory, bar + 16 * 2047 + 12, 0);   /* unmask */
    g_assert_cmpint(nsent, ==, 1);
    g_assert_cmphex(sent_addr[0], ==, 0xfee02000);
    g_assert_cmphex(sent_data[0], ==, 0x77);

    /* Restore: vector 2047 masked and pending again. */
    g_assert_true(vmstate_load(st->data, st->len, &pos, &vmstate_pci_device, dev,
                               &error_abort));
    g_assert_cmphex(dev->msix_table[16 * 2047 + 12], ==, 1);
    g_assert_cmphex(dev->msix_pba[255], ==, 0x80);
    /* A device with another table size cannot take this state. */
    pos = 0;
    g_assert_false(vmstate_load(st->data, st->len, &pos, &vmstate_pci_device, small, NULL));
    qdev_unrealize(DEVICE(dev));
    object_unref(OBJECT(dev));
}

static void test_msi(void)
{
    PCIDevice *dev = setup();
    int cap = dev->msi_cap;

    g_assert_cmpint(cap, >, dev->msix_cap);
    g_assert_cmphex(dev->config[cap], ==, PCI_CAP_ID_MSI);
    /* 64-bit, 4 vectors requested (MMC = 2). */
    g_assert_cmphex(pci_get_word(dev->config + cap + 2), ==, 0x0080 | 2 << 1);
    pci_config_write(dev, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    pci_config_write(dev, cap + 4, 0xfee00000, 4);
    pci_config_write(dev, cap + 8, 0, 4);
    pci_config_write(dev, cap + 12, 0x4060, 2);
    msi_notify(dev, 0);
    g_assert_cmpint(nsent, ==, 0);                                       /* not enabled */
    /* Enable with MME = 7: clamped to what was asked for (4 vectors). */
    pci_config_write(dev, cap + 2, 0x71, 2);
    g_assert_cmphex((pci_get_word(dev->config + cap + 2) >> 4) & 7, ==, 2);
    msi_notify(dev, 3);
    g_assert_cmpint(nsent, ==, 1);
    g_assert_cmphex(sent_addr[0], ==, 0xfee00000);
    g_assert_cmphex(sent_data[0], ==, 0x4063);
    msi_notify(dev, 4);                                                  /* out of range */
    g_assert_cmpint(nsent, ==, 1);
    device_cold_reset(DEVICE(dev));
    g_assert_false(msi_enabled(dev));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/msix", test_msix);
    g_test_add_func("/pci/msi", test_msi);
    g_test_add_func("/pci/msix-2048", test_msix_2048);
    return g_test_run();
}
