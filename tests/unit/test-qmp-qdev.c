/*
 * device_add / device_del / qom-* over a QMP session, on a bus that has a hotplug
 * controller (the harness's ISA bus marked hotplug_capable): plug, use, unplug, the
 * DEVICE_DELETED event on every monitor, and the error paths.  The PC's buses have no
 * hotplug controller yet, so this is where the success path is exercised.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "monitor/qmp.h"

#ifdef CONFIG_JSON
#define TYPE_TEST_HP "test-hp"

typedef struct TestHp {
    IsaDevice parent_obj;
    uint32_t iobase;
    uint8_t val;
    MemoryRegion io;
} TestHp;

static TestHp *TEST_HP(const void *obj)
{
    return OBJECT_CHECK(TestHp, obj, TYPE_TEST_HP);
}

static unsigned realized, unrealized;

static uint64_t hp_read(void *opaque, hwaddr addr, unsigned size)
{
    return TEST_HP(opaque)->val;
}

static void hp_write(void *opaque, hwaddr addr, uint64_t v, unsigned size)
{
}

static const MemoryRegionOps hp_ops = {
    .read = hp_read, .write = hp_write, .valid = { 1, 1 }, .impl = { 1, 1 },
};

static void hp_realize(DeviceState *dev, Error **errp)
{
    TestHp *s = TEST_HP(dev);

    memory_region_init_io(&s->io, OBJECT(dev), &hp_ops, s, "test-hp", 1);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
    realized++;
}

static void hp_unrealize(DeviceState *dev)
{
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&TEST_HP(dev)->io);
    unrealized++;
}

static const Property hp_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", TestHp, iobase, 0x280, 0, 0xffff),
    DEFINE_PROP_UINT8("val", TestHp, val, 0x5a),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo hp_type = {
    .name = TYPE_TEST_HP, .parent = TYPE_ISA_DEVICE, .instance_size = sizeof(TestHp),
    .realize = hp_realize, .unrealize = hp_unrealize, .props = hp_props,
    .user_creatable = true, .hotpluggable = true,
};
KITE_TYPE_REGISTER(hp_type)

static void out_cb(void *opaque, const char *text, size_t len)
{
    g_string_append_len(opaque, text, len);
}

/* Send one command; return the output it produced (replies and events). */
static char *run(QmpSession *s, GString *out, const char *in)
{
    g_string_truncate(out, 0);
    qmp_session_input(s, (const uint8_t *)in, strlen(in));
    return g_strdup(out->str);
}

#define ASSERT_HAS(hay, needle) \
    do { \
        g_autofree char *h_ = (hay); \
        if (!strstr(h_, (needle))) { \
            g_error("expected %s in %s", (needle), h_); \
        } \
    } while (0)

static void test_hotplug(void)
{
    g_autoptr(GString) out = g_string_new(NULL), out2 = g_string_new(NULL);
    QmpSession s, s2;

    harness_isa->parent_obj.hotplug_capable = true;
    qmp_session_init(&s, false, out_cb, NULL, out);
    qmp_session_init(&s2, false, out_cb, NULL, out2);
    qmp_session_start(&s);
    qmp_session_start(&s2);
    g_free(run(&s, out, "{\"execute\":\"qmp_capabilities\"}"));
    g_free(run(&s2, out2, "{\"execute\":\"qmp_capabilities\"}"));

    g_assert_cmpuint(inb(0x2a0), ==, 0xff);
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp1\",\"iobase\":672,\"val\":\"0x33\"}}"), "{\"return\": {}}");
    g_assert_cmpuint(realized, ==, 1);
    g_assert_cmpuint(inb(0x2a0), ==, 0x33);
    ASSERT_HAS(run(&s, out, "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"hp1\","
                   "\"property\":\"val\"}}"), "{\"return\": 51}");
    ASSERT_HAS(run(&s, out, "{\"execute\":\"qom-list\",\"arguments\":{\"path\":"
                   "\"/machine/peripheral/hp1\"}}"),
               "{\"name\": \"val\", \"type\": \"uint8\"}");
    /* An anonymous one, and the errors. */
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"bus\":\"isa.0\",\"iobase\":\"0x2b0\"}}"), "{\"return\": {}}");
    g_assert_cmpuint(inb(0x2b0), ==, 0x5a);
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp1\"}}"), "Duplicate device ID 'hp1'");
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp2\",\"bogus\":1}}"), "Property 'test-hp.bogus' not found");
    /* QemuOpts leave a list-valued property out (QEMU 7.2): no type error, the id checked. */
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp1\",\"val\":[1]}}"), "Duplicate device ID 'hp1'");
    g_assert_cmpuint(realized, ==, 2);

    /* Unplug: the device's resources go, both monitors hear of it. */
    g_string_truncate(out2, 0);
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hp1\"}}"),
               "{\"return\": {}}");
    g_assert_cmpuint(unrealized, ==, 1);
    g_assert_cmpuint(inb(0x2a0), ==, 0xff);
    g_assert_nonnull(strstr(out->str, "\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
                            "\"hp1\", \"path\": \"/machine/peripheral/hp1\"}"));
    g_assert_nonnull(strstr(out2->str, "\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
                            "\"hp1\", \"path\": \"/machine/peripheral/hp1\"}"));
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hp1\"}}"),
               "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'hp1' not found\"}}");
    /* The anonymous one by its QOM path: no "device" member in the event. */
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_del\",\"arguments\":{\"id\":"
                   "\"/machine/peripheral-anon/device[0]\"}}"),
               "\"data\": {\"path\": \"/machine/peripheral-anon/device[0]\"}");
    g_assert_cmpuint(inb(0x2b0), ==, 0xff);
    g_assert_cmpuint(unrealized, ==, 2);
    /* The same id can be used again. */
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp1\"}}"), "{\"return\": {}}");
    g_assert_cmpuint(inb(0x280), ==, 0x5a);

    /* Without the controller: QEMU's refusal, nothing changes. */
    harness_isa->parent_obj.hotplug_capable = false;
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hp1\"}}"),
               "Bus 'isa.0' does not support hotplugging");
    g_assert_cmpuint(inb(0x280), ==, 0x5a);
    ASSERT_HAS(run(&s, out, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"test-hp\","
                   "\"id\":\"hp3\"}}"), "Bus 'isa.0' does not support hotplugging");
    qmp_session_destroy(&s);
    qmp_session_destroy(&s2);
}
#endif

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
#ifdef CONFIG_JSON
    g_test_add_func("/qmp-qdev/hotplug", test_hotplug);
#endif
    return g_test_run();
}
