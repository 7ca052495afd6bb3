/*
 * A bare ISA bus for device tests: an I/O space, a memory space with some RAM, 16 IRQ lines
 * whose levels are recorded in harness_irq[], and port helpers.  Include from one test file.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_ISA_HARNESS_H
#define TESTS_UNIT_ISA_HARNESS_H

#include "kite/osdep.h"
#include "hw/isa.h"
#include "hw/sysbus.h"

#define HARNESS_RAM_SIZE (1 * MiB)

static MemoryRegion harness_io_root, harness_mem_root, harness_ram;
static AddressSpace harness_io_as, harness_mem_as;
static IsaBus *harness_isa;
static int harness_irq[ISA_NUM_IRQS];
static unsigned harness_irq_edges[ISA_NUM_IRQS];   /* 0 -> 1 transitions */

static const TypeInfo harness_bridge_type = {
    .name = "test-isa-bridge", .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(DeviceState),
};
KITE_TYPE_REGISTER(harness_bridge_type)

static void harness_irq_handler(void *opaque, int n, int level)
{
    if (level && !harness_irq[n]) {
        harness_irq_edges[n]++;
    }
    harness_irq[n] = level;
}

static void harness_init(void)
{
    DeviceState *bridge = qdev_new("test-isa-bridge");
    IRQState **irqs = irq_new_array(harness_irq_handler, NULL, ISA_NUM_IRQS);

    memory_region_init(&harness_io_root, NULL, "io", 0x10000);
    address_space_init(&harness_io_as, &harness_io_root, "I/O");
    memory_region_init(&harness_mem_root, NULL, "mem", UINT64_MAX);
    memory_region_init_ram(&harness_ram, NULL, "ram", HARNESS_RAM_SIZE, &error_abort);
    memory_region_add_subregion(&harness_mem_root, 0, &harness_ram);
    address_space_init(&harness_mem_as, &harness_mem_root, "memory");
    sysbus_realize_and_unref(bridge, &error_abort);
    harness_isa = isa_bus_new(bridge, &harness_mem_root, &harness_io_root);
    isa_bus_set_irqs(harness_isa, irqs);
    g_free(irqs);                  /* the lines live as long as the test program */
}

/* Create, realize and reset a device of type on the bus; props is "k=v,k=v" or NULL. */
static G_GNUC_UNUSED DeviceState *harness_new(const char *type, const char *props)
{
    DeviceState *dev = qdev_new(type);

    if (props) {
        g_auto(GStrv) kv = g_strsplit(props, ",", -1);
        for (int i = 0; kv[i]; i++) {
            g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
            object_property_set_str(OBJECT(dev), p[0], p[1], &error_abort);
        }
    }
    qdev_realize_and_unref(dev, &harness_isa->parent_obj, &error_abort);
    device_cold_reset(dev);
    return dev;
}

static G_GNUC_UNUSED void outb(uint16_t port, uint8_t v)
{
    address_space_store(&harness_io_as, port, v, 1);
}

static G_GNUC_UNUSED void outw(uint16_t port, uint16_t v)
{
    address_space_store(&harness_io_as, port, v, 2);
}

static G_GNUC_UNUSED void outl(uint16_t port, uint32_t v)
{
    address_space_store(&harness_io_as, port, v, 4);
}

static G_GNUC_UNUSED uint8_t inb(uint16_t port)
{
    uint64_t v;
    address_space_load(&harness_io_as, port, &v, 1);
    return v;
}

static G_GNUC_UNUSED uint16_t inw(uint16_t port)
{
    uint64_t v;
    address_space_load(&harness_io_as, port, &v, 2);
    return v;
}

static G_GNUC_UNUSED uint32_t inl(uint16_t port)
{
    uint64_t v;
    address_space_load(&harness_io_as, port, &v, 4);
    return v;
}

/* Save dev's state, let mutate() change it, load it back; returns the stream length. */
static G_GNUC_UNUSED void harness_vmstate_roundtrip(DeviceState *dev, void (*mutate)(void))
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    size_t pos = 0;

    g_assert_cmpint(vmstate_save(buf, dc->vmsd, dev, &error_abort), ==, 0);
    mutate();
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, dc->vmsd, dev, &error_abort));
    g_assert_cmpuint(pos, ==, buf->len);
}

#endif
