/*
 * Devices and buses: realize/unrealize bookkeeping, bus type checks, reset order, GPIOs,
 * the qtree, and vmstate save/load including corrupt streams.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "hw/qdev.h"
#include "hw/isa.h"
#include "hw/sysbus.h"

static GString *events;

/* --- a test ISA device with a counter register and an IRQ line --- */
#define TYPE_TEST_ISA "test-isa-dev"
typedef struct TestIsa {
    IsaDevice parent;
    uint32_t iobase;
    uint8_t reg;
    uint16_t arr[3];
    bool flag;
    MemoryRegion io;
    IRQState *irq;
    bool fail_realize;
} TestIsa;
#define TEST_ISA(obj) OBJECT_CHECK(TestIsa, obj, TYPE_TEST_ISA)

static uint64_t test_read(void *opaque, hwaddr addr, unsigned size)
{
    return TEST_ISA(opaque)->reg;
}

static void test_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    TestIsa *s = TEST_ISA(opaque);

    s->reg = val;
    irq_set_level(s->irq, val & 1);
}

static const MemoryRegionOps test_ops = {
    .read = test_read, .write = test_write, .impl = { 1, 1 },
};

static void test_realize(DeviceState *dev, Error **errp)
{
    TestIsa *s = TEST_ISA(dev);

    if (s->fail_realize) {
        error_setg(errp, "refusing to realize");
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &test_ops, s, "test-io", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
    s->irq = isa_get_irq(ISA_DEVICE(dev), 5);
    g_string_append_printf(events, "realize@%x ", s->iobase);
}

static void test_unrealize(DeviceState *dev)
{
    TestIsa *s = TEST_ISA(dev);

    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
    g_string_append_printf(events, "unrealize@%x ", s->iobase);
}

static void test_reset(DeviceState *dev)
{
    TEST_ISA(dev)->reg = 0x42;
    g_string_append_printf(events, "reset@%x ", TEST_ISA(dev)->iobase);
}

static const Property test_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", TestIsa, iobase, 0x300, 0, 0xffff),
    DEFINE_PROP_BOOL("fail", TestIsa, fail_realize, false),
    DEFINE_PROP_END_OF_LIST(),
};

static bool test_sub_needed(void *opaque)
{
    return TEST_ISA(opaque)->flag;
}

static const VMStateDescription vmstate_test_sub = {
    .name = "test-isa/flag", .version_id = 1, .minimum_version_id = 1,
    .needed = test_sub_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, TestIsa),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_test = {
    .name = "test-isa", .version_id = 2, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(reg, TestIsa),
        VMSTATE_UINT16_ARRAY_V(arr, TestIsa, 3, 2),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) { &vmstate_test_sub, NULL },
};

static const TypeInfo test_isa_type = {
    .name = TYPE_TEST_ISA, .parent = TYPE_ISA_DEVICE, .instance_size = sizeof(TestIsa),
    .realize = test_realize, .unrealize = test_unrealize, .reset = test_reset,
    .props = test_props, .vmsd = &vmstate_test, .user_creatable = true,
};
KITE_TYPE_REGISTER(test_isa_type)

/* --- a bridge device owning the ISA bus --- */
#define TYPE_TEST_BRIDGE "test-bridge"
static const TypeInfo test_bridge_type = {
    .name = TYPE_TEST_BRIDGE, .parent = TYPE_SYS_BUS_DEVICE, .instance_size = sizeof(DeviceState),
};
KITE_TYPE_REGISTER(test_bridge_type)

static int irq_level[16];

static void irq_handler(void *opaque, int n, int level)
{
    irq_level[n] = level;
}

static MemoryRegion io_root;
static AddressSpace io_as;

static IRQState **isa_irqs;

static IsaBus *make_isa(DeviceState **bridge_out)
{
    DeviceState *bridge = qdev_new(TYPE_TEST_BRIDGE);
    IsaBus *isa;

    if (!isa_irqs) {
        isa_irqs = irq_new_array(irq_handler, NULL, 16);
    }
    g_assert_true(sysbus_realize_and_unref(bridge, &error_abort));
    isa = isa_bus_new(bridge, NULL, &io_root);
    isa_bus_set_irqs(isa, isa_irqs);
    *bridge_out = bridge;
    return isa;
}

static void test_lifecycle(void)
{
    DeviceState *bridge;
    IsaBus *isa = make_isa(&bridge);
    DeviceState *a = qdev_new(TYPE_TEST_ISA), *b = qdev_new(TYPE_TEST_ISA);
    DeviceState *bad = qdev_new(TYPE_TEST_ISA);
    Error *err = NULL;
    uint64_t v;
    g_autoptr(GString) tree = g_string_new(NULL);

    events = g_string_new(NULL);
    g_assert_true(object_property_set_str(OBJECT(b), "iobase", "0x310", &error_abort));
    g_assert_true(qdev_realize(a, &isa->parent_obj, &error_abort));
    g_assert_true(qdev_realize(b, &isa->parent_obj, &error_abort));
    g_assert_cmpstr(isa->parent_obj.name, ==, "isa.0");
    /* Properties are frozen once realized. */
    g_assert_false(object_property_set_str(OBJECT(a), "iobase", "0x320", &err));
    error_free(err);
    err = NULL;

    /* A failing realize leaves nothing behind. */
    object_property_set_bool(OBJECT(bad), "fail", true, &error_abort);
    g_assert_false(qdev_realize(bad, &isa->parent_obj, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "refusing to realize");
    error_free(err);
    err = NULL;
    g_assert_cmpuint(isa->parent_obj.children->len, ==, 2);
    /* Wrong bus type is refused. */
    g_assert_false(qdev_realize(bad, sysbus_get_default(), &err));
    error_free(err);
    err = NULL;
    object_unparent(OBJECT(bad));
    object_unref(bad);

    /* Port I/O reaches the device; the IRQ line follows bit 0. */
    address_space_store(&io_as, 0x310, 0x7, 1);
    g_assert_cmpint(irq_level[5], ==, 1);
    address_space_load(&io_as, 0x310, &v, 1);
    g_assert_cmpuint(v, ==, 7);

    /* Reset runs devices in bus order, after their parent. */
    g_string_truncate(events, 0);
    device_cold_reset(bridge);
    g_assert_cmpstr(events->str, ==, "reset@300 reset@310 ");
    address_space_load(&io_as, 0x310, &v, 1);
    g_assert_cmpuint(v, ==, 0x42);

    qdev_print_tree(tree);
    g_assert_nonnull(strstr(tree->str, "bus: isa.0"));
    g_assert_nonnull(strstr(tree->str, "dev: test-isa-dev"));
    g_assert_nonnull(strstr(tree->str, "iobase = 784"));

    /* Unplugging the bridge unrealizes everything below it and unmaps the ports. */
    g_string_truncate(events, 0);
    object_unref(a);
    object_unref(b);
    object_unparent(OBJECT(bridge));
    g_assert_cmpstr(events->str, ==, "unrealize@310 unrealize@300 ");
    address_space_load(&io_as, 0x310, &v, 1);
    g_assert_cmpuint(v, ==, 0xff);
    g_string_free(events, true);
}

static void test_vmstate(void)
{
    DeviceState *bridge;
    IsaBus *isa = make_isa(&bridge);
    DeviceState *dev = qdev_new(TYPE_TEST_ISA);
    TestIsa *s = TEST_ISA(dev);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    size_t pos = 0;
    Error *err = NULL;

    events = g_string_new(NULL);
    qdev_realize(dev, &isa->parent_obj, &error_abort);
    s->reg = 0x99;
    s->arr[0] = 1;
    s->arr[2] = 0xbeef;
    s->flag = true;
    g_assert_cmpint(vmstate_save(buf, &vmstate_test, s, &error_abort), ==, 0);
    s->reg = 0;
    s->arr[2] = 0;
    s->flag = false;
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, &vmstate_test, s, &error_abort));
    g_assert_cmpuint(pos, ==, buf->len);
    g_assert_cmpuint(s->reg, ==, 0x99);
    g_assert_cmpuint(s->arr[2], ==, 0xbeef);
    g_assert_true(s->flag);

    /* Every truncation is an error, never a crash or a partial success. */
    for (guint cut = 0; cut < buf->len; cut++) {
        pos = 0;
        g_assert_false(vmstate_load(buf->data, cut, &pos, &vmstate_test, s, &err));
        error_free(err);
        err = NULL;
    }
    /* A corrupted name is refused with a message. */
    buf->data[1] ^= 0x20;
    pos = 0;
    g_assert_false(vmstate_load(buf->data, buf->len, &pos, &vmstate_test, s, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "expected"));
    error_free(err);
    err = NULL;

    /* The machine-wide stream finds the device by its path. */
    g_byte_array_set_size(buf, 0);
    s->reg = 0x55;
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);
    s->reg = 0;
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmpuint(s->reg, ==, 0x55);

    object_unref(dev);
    object_unparent(OBJECT(bridge));
    g_string_free(events, true);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    memory_region_init(&io_root, NULL, "io", 0x10000);
    address_space_init(&io_as, &io_root, "I/O");
    g_test_add_func("/qdev/lifecycle", test_lifecycle);
    g_test_add_func("/qdev/vmstate", test_vmstate);
    ret = g_test_run();
    irq_free_array(isa_irqs, 16);
    return ret;
}
