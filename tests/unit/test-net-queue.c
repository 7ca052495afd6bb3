/*
 * Networking core: delivery between two fake peers, backpressure (queue, bound, flush, sent
 * callbacks), scatter/gather, link status, MAC defaults, the NIC properties and -netdev/-nic.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/runstate.h"
#include "hw/qdev.h"
#include "net/net.h"

typedef struct Fake {
    bool ready;            /* can_receive */
    int refuse;            /* receive() returns 0 this many times */
    unsigned got;          /* frames received */
    uint8_t last[2048];
    size_t last_len;
    GByteArray *order;     /* first byte of each frame received */
    unsigned iov_calls;
    int link_changes;
    unsigned sent_cbs;     /* sent callbacks for frames this client sent */
    ssize_t last_sent_len;
    bool flush_in_receive; /* call net_flush_queued_packets from receive */
    NetClientState *nc;
} Fake;

static bool fake_can_receive(NetClientState *nc)
{
    return ((Fake *)nc->opaque)->ready;
}

static ssize_t fake_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    Fake *f = nc->opaque;

    if (f->refuse > 0) {
        f->refuse--;
        return 0;
    }
    f->got++;
    f->last_len = MIN(len, sizeof(f->last));
    memcpy(f->last, buf, f->last_len);
    g_byte_array_append(f->order, buf, 1);
    if (f->flush_in_receive) {
        net_flush_queued_packets(nc);    /* must be deferred, not recurse */
    }
    return len;
}

static ssize_t fake_receive_iov(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    Fake *f = nc->opaque;
    size_t len = 0;

    f->iov_calls++;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(f->last + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    f->last_len = len;
    f->got++;
    g_byte_array_append(f->order, f->last, 1);
    return len;
}

static void fake_link(NetClientState *nc)
{
    ((Fake *)nc->opaque)->link_changes++;
}

static const NetClientInfo fake_info = {
    .type = NET_CLIENT_OTHER, .can_receive = fake_can_receive, .receive = fake_receive,
    .link_status_changed = fake_link,
};
static const NetClientInfo fake_iov_info = {
    .type = NET_CLIENT_OTHER, .can_receive = fake_can_receive, .receive = fake_receive,
    .receive_iov = fake_receive_iov,
};
static const NetClientInfo fake_nic_info = {
    .type = NET_CLIENT_NIC, .can_receive = fake_can_receive, .receive = fake_receive,
    .link_status_changed = fake_link,
};

static Fake fa, fb;

static void sent_cb(NetClientState *sender, ssize_t len)
{
    Fake *f = sender->opaque;
    f->sent_cbs++;
    f->last_sent_len = len;
}

static void pair_new(const NetClientInfo *ia, const NetClientInfo *ib)
{
    memset(&fa, 0, sizeof(fa));
    memset(&fb, 0, sizeof(fb));
    fa.ready = fb.ready = true;
    fa.order = g_byte_array_new();
    fb.order = g_byte_array_new();
    fa.nc = net_client_new(ia, NULL, "fake", "a", &fa);
    fb.nc = net_client_new(ib, fa.nc, "fake", "b", &fb);
}

static void pair_free(void)
{
    net_client_free(fa.nc);
    net_client_free(fb.nc);
    g_byte_array_unref(fa.order);
    g_byte_array_unref(fb.order);
}

static ssize_t send1(NetClientState *from, uint8_t tag, size_t len, NetPacketSent *cb)
{
    uint8_t buf[1514];
    memset(buf, tag, sizeof(buf));
    return net_send_packet_async(from, buf, len, cb);
}

static void test_direct(void)
{
    pair_new(&fake_info, &fake_info);
    g_assert_true(fa.nc->peer == fb.nc && fb.nc->peer == fa.nc);
    g_assert_cmpint(send1(fa.nc, 7, 60, sent_cb), ==, 60);
    g_assert_cmpuint(fb.got, ==, 1);
    g_assert_cmpuint(fb.last_len, ==, 60);
    g_assert_cmpuint(fb.last[59], ==, 7);
    g_assert_cmpuint(fa.sent_cbs, ==, 0);      /* delivered at once: no callback */
    g_assert_cmpint(send1(fb.nc, 8, 100, NULL), ==, 100);
    g_assert_cmpuint(fa.got, ==, 1);
    /* Over-long frames are refused, never delivered. */
    g_autofree uint8_t *big = g_malloc0(NET_MAX_FRAME + 1);
    g_assert_cmpint(net_send_packet(fa.nc, big, NET_MAX_FRAME + 1), ==, NET_MAX_FRAME + 1);
    g_assert_cmpuint(fb.got, ==, 1);
    pair_free();
}

static void test_backpressure_flush(void)
{
    pair_new(&fake_info, &fake_info);
    fb.ready = false;
    g_assert_false(net_can_send_packet(fa.nc));
    g_assert_cmpint(send1(fa.nc, 1, 60, sent_cb), ==, 0);
    g_assert_cmpint(send1(fa.nc, 2, 60, sent_cb), ==, 0);
    g_assert_cmpuint(net_queue_length(fb.nc), ==, 2);
    g_assert_cmpuint(fb.got, ==, 0);
    g_assert_cmpuint(fa.sent_cbs, ==, 0);
    /* Still not ready: a flush delivers nothing. */
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 0);
    fb.ready = true;
    /* Frames already waiting keep their place: a new one queues behind them. */
    g_assert_cmpint(send1(fa.nc, 3, 60, sent_cb), ==, 0);
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 3);
    g_assert_cmpmem(fb.order->data, 3, "\1\2\3", 3);
    g_assert_cmpuint(fa.sent_cbs, ==, 3);
    g_assert_cmpint(fa.last_sent_len, ==, 60);
    g_assert_cmpuint(net_queue_length(fb.nc), ==, 0);
    g_assert_true(net_can_send_packet(fa.nc));
    pair_free();
}

static void test_receive_refuses(void)
{
    pair_new(&fake_info, &fake_info);
    fb.refuse = 1;
    g_assert_cmpint(send1(fa.nc, 1, 60, sent_cb), ==, 0);
    g_assert_true(fb.nc->receive_disabled);
    /* can_receive says yes, but the receiver refused: nothing until it flushes. */
    g_assert_cmpint(send1(fa.nc, 2, 60, sent_cb), ==, 0);
    g_assert_cmpuint(fb.got, ==, 0);
    fb.refuse = 1;               /* refuses again on the first retry */
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 0);
    g_assert_cmpuint(net_queue_length(fb.nc), ==, 2);
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 2);
    g_assert_cmpmem(fb.order->data, 2, "\1\2", 2);
    g_assert_cmpuint(fa.sent_cbs, ==, 2);
    g_assert_false(fb.nc->receive_disabled);
    pair_free();
}

static void test_bound(void)
{
    pair_new(&fake_info, &fake_info);
    fb.ready = false;
    for (int i = 0; i < NET_QUEUE_MAX_PACKETS + 100; i++) {
        g_assert_cmpint(send1(fa.nc, i, 60, NULL), ==, 0);
    }
    g_assert_cmpuint(net_queue_length(fb.nc), ==, NET_QUEUE_MAX_PACKETS);
    /* A sender with a callback may add its one frame beyond the bound. */
    g_assert_cmpint(send1(fa.nc, 0xee, 60, sent_cb), ==, 0);
    g_assert_cmpuint(net_queue_length(fb.nc), ==, NET_QUEUE_MAX_PACKETS + 1);
    fb.ready = true;
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, NET_QUEUE_MAX_PACKETS + 1);
    g_assert_cmpuint(fb.order->data[NET_QUEUE_MAX_PACKETS], ==, 0xee);
    g_assert_cmpuint(fa.sent_cbs, ==, 1);
    pair_free();
}

static void test_purge_and_free(void)
{
    pair_new(&fake_info, &fake_info);
    fb.ready = false;
    send1(fa.nc, 1, 60, sent_cb);
    send1(fa.nc, 2, 60, sent_cb);
    net_purge_queued_packets(fb.nc);
    g_assert_cmpuint(fa.sent_cbs, ==, 2);
    g_assert_cmpint(fa.last_sent_len, ==, 0);
    /* Freeing the receiver drops its queue and calls the sender back. */
    send1(fa.nc, 3, 60, sent_cb);
    net_client_free(fb.nc);
    fb.nc = NULL;
    g_assert_cmpuint(fa.sent_cbs, ==, 3);
    g_assert_null(fa.nc->peer);
    /* Without a peer, frames go nowhere and the send reports them taken. */
    g_assert_cmpint(send1(fa.nc, 4, 60, sent_cb), ==, 60);
    pair_free();

    /* Freeing the sender while its frames wait: no callback into freed memory. */
    pair_new(&fake_info, &fake_info);
    fb.ready = false;
    send1(fa.nc, 1, 60, sent_cb);
    net_client_free(fa.nc);
    fa.nc = NULL;
    fb.ready = true;
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 1);
    g_assert_cmpuint(fa.sent_cbs, ==, 0);
    pair_free();
}

static void test_iov(void)
{
    uint8_t p1[10], p2[20];
    struct iovec iov[2] = { { p1, sizeof(p1) }, { p2, sizeof(p2) } };

    memset(p1, 0x11, sizeof(p1));
    memset(p2, 0x22, sizeof(p2));
    pair_new(&fake_info, &fake_iov_info);
    g_assert_cmpint(net_send_packet_iov_async(fa.nc, iov, 2, NULL), ==, 30);
    g_assert_cmpuint(fb.iov_calls, ==, 1);
    g_assert_cmpuint(fb.last_len, ==, 30);
    g_assert_cmpuint(fb.last[9], ==, 0x11);
    g_assert_cmpuint(fb.last[10], ==, 0x22);
    /* A receiver without receive_iov gets the frame flattened. */
    g_assert_cmpint(net_send_packet_iov_async(fb.nc, iov, 2, NULL), ==, 30);
    g_assert_cmpuint(fa.got, ==, 1);
    g_assert_cmpuint(fa.last_len, ==, 30);
    g_assert_cmpuint(fa.last[29], ==, 0x22);
    /* Queued iov frames keep their content. */
    fa.ready = false;
    g_assert_cmpint(net_send_packet_iov_async(fb.nc, iov, 2, NULL), ==, 0);
    memset(p2, 0x33, sizeof(p2));
    fa.ready = true;
    net_flush_queued_packets(fa.nc);
    g_assert_cmpuint(fa.got, ==, 2);
    g_assert_cmpuint(fa.last[29], ==, 0x22);
    pair_free();
}

static void test_reentrant_flush(void)
{
    pair_new(&fake_info, &fake_info);
    fb.ready = false;
    for (int i = 0; i < 5; i++) {
        send1(fa.nc, i, 60, sent_cb);
    }
    fb.ready = true;
    fb.flush_in_receive = true;
    net_flush_queued_packets(fb.nc);
    g_assert_cmpuint(fb.got, ==, 5);
    g_assert_cmpmem(fb.order->data, 5, "\0\1\2\3\4", 5);
    g_assert_cmpuint(fa.sent_cbs, ==, 5);
    pair_free();
}

static void test_link(void)
{
    Error *err = NULL;

    pair_new(&fake_info, &fake_nic_info);
    /* Pulling the backend's cable also takes the NIC's link down (QEMU's set_link). */
    g_assert_true(net_set_link("a", false, &error_abort));
    g_assert_true(fa.nc->link_down && fb.nc->link_down);
    g_assert_cmpint(fa.link_changes, ==, 1);
    g_assert_cmpint(fb.link_changes, ==, 1);
    runstate_set(RUN_STATE_RUNNING);
    g_assert_cmpint(send1(fa.nc, 1, 60, NULL), ==, 60);   /* dropped */
    g_assert_cmpuint(fb.got, ==, 0);
    g_assert_cmpint(send1(fb.nc, 1, 60, NULL), ==, 60);
    g_assert_cmpuint(fa.got, ==, 0);
    g_assert_true(net_set_link("a", true, &error_abort));
    g_assert_false(fb.nc->link_down);
    g_assert_cmpint(send1(fa.nc, 1, 60, NULL), ==, 60);
    g_assert_cmpuint(fb.got, ==, 1);
    /* The NIC's own link only affects the NIC. */
    net_client_set_link(fb.nc, false);
    g_assert_false(fa.nc->link_down);
    g_assert_false(net_set_link("nosuch", false, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "not found"));
    error_free(err);
    runstate_set(RUN_STATE_PRELAUNCH);
    pair_free();
}

static void test_nic_held_while_stopped(void)
{
    pair_new(&fake_info, &fake_nic_info);
    runstate_set(RUN_STATE_PAUSED);
    g_assert_cmpint(send1(fa.nc, 9, 60, sent_cb), ==, 0);
    g_assert_cmpuint(fb.got, ==, 0);
    runstate_set(RUN_STATE_RUNNING);
    system_notify_state_change(true, RUN_STATE_RUNNING);
    g_assert_cmpuint(fb.got, ==, 1);
    g_assert_cmpuint(fa.sent_cbs, ==, 1);
    runstate_set(RUN_STATE_PRELAUNCH);
    pair_free();
}

static void test_macaddr(void)
{
    MACAddr m;
    g_autofree char *s = NULL;
    static const NetClientInfo nic = { .type = NET_CLIENT_NIC };
    NICConf c1 = { 0 }, c2 = { 0 }, c3 = { 0 }, c4 = { 0 };
    NetClientState *n1, *n2, *n3, *n4;

    g_assert_true(net_parse_macaddr(&m, "52:54:00:AB:cd:0f"));
    s = net_format_macaddr(&m);
    g_assert_cmpstr(s, ==, "52:54:00:ab:cd:0f");
    g_assert_true(net_parse_macaddr(&m, "02-00-00-00-00-01"));
    g_assert_false(net_parse_macaddr(&m, "52:54:00:ab:cd"));
    g_assert_false(net_parse_macaddr(&m, "52:54:00:ab:cd:0f:00"));
    g_assert_false(net_parse_macaddr(&m, "52:54:00:ab:cd:0g"));
    g_assert_false(net_parse_macaddr(&m, ""));

    n1 = net_nic_new(&nic, &c1, "n", NULL, NULL, &error_abort);
    g_assert_cmpuint(c1.macaddr.a[5], ==, 0x56);
    g_assert_cmpuint(c1.macaddr.a[0], ==, 0x52);
    /* An explicit address in the default range takes that slot. */
    net_parse_macaddr(&c2.macaddr, "52:54:00:12:34:57");
    n2 = net_nic_new(&nic, &c2, "n", NULL, NULL, &error_abort);
    n3 = net_nic_new(&nic, &c3, "n", NULL, NULL, &error_abort);
    g_assert_cmpuint(c3.macaddr.a[5], ==, 0x58);
    net_client_free(n1);
    /* The freed default comes back. */
    n4 = net_nic_new(&nic, &c4, "n", NULL, NULL, &error_abort);
    g_assert_cmpuint(c4.macaddr.a[5], ==, 0x56);
    g_assert_cmpstr(n4->name, !=, n3->name);
    net_client_free(n2);
    net_client_free(n3);
    net_client_free(n4);
}

/* --- -netdev, -nic, and the device properties --- */

static int test_backend_inits;

static NetClientState *testnet_init(KiteOpts *opts, const char *id, Error **errp)
{
    const char *fail = kite_opts_get(opts, "fail");
    if (fail) {
        error_setg(errp, "testnet: asked to fail");
        return NULL;
    }
    test_backend_inits++;
    return net_client_new(&fake_info, NULL, "testnet", id, &fa);
}

static void test_netdev_options(void)
{
    Error *err = NULL;
    NetClientState *nc;
    char *dev = NULL;

    memset(&fa, 0, sizeof(fa));
    netdev_register_backend("testnet", testnet_init);
    nc = netdev_add_from_string("testnet,id=n0", &error_abort);
    g_assert_true(nc == net_find_netdev("n0"));
    g_assert_true(nc->is_netdev);

#define EXPECT_ERR(str, msg) do { \
        g_assert_null(netdev_add_from_string(str, &err)); \
        g_assert_nonnull(err); \
        if (!strstr(error_get_pretty(err), msg)) { \
            g_error("%s: got '%s', expected '%s'", str, error_get_pretty(err), msg); \
        } \
        error_free(err); err = NULL; \
    } while (0)
    EXPECT_ERR("testnet,id=n0", "Duplicate ID 'n0'");
    EXPECT_ERR("testnet", "'id' is missing");
    EXPECT_ERR("nosuch,id=x", "'type' does not accept value 'nosuch'");
    EXPECT_ERR("testnet,id=1x", "identifier");
    EXPECT_ERR("testnet,id=x,bogus=1", "bogus");
    EXPECT_ERR("testnet,id=x,fail=1", "asked to fail");
    /* The failed ones left nothing behind. */
    g_assert_null(net_find_netdev("x"));

    g_assert_true(net_nic_option("testnet", &dev, &error_abort));
    g_assert_cmpstr(dev, ==, "e1000,netdev=__org.qemu.nic0");
    g_free(dev);
    g_assert_nonnull(net_find_netdev("__org.qemu.nic0"));
    g_assert_true(net_nic_option("testnet,model=virtio-net-pci,mac=52:54:00:00:00:01,id=nn",
                                 &dev, &error_abort));
    g_assert_cmpstr(dev, ==, "virtio-net-pci,netdev=nn,mac=52:54:00:00:00:01");
    g_free(dev);
    g_assert_true(net_nic_option("none", &dev, &error_abort));
    g_assert_null(dev);
    g_assert_false(net_nic_option("testnet,mac=zz", &dev, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "ethernet address"));
    error_free(err);
    err = NULL;

    g_assert_true(netdev_del("nn", &error_abort));
    g_assert_false(netdev_del("nn", &err));
    error_free(err);
    err = NULL;
    net_cleanup();
    g_assert_null(net_find_netdev("n0"));
}

typedef struct TestNIC {
    DeviceState parent;
    NICConf conf;
    NetClientState *nc;
} TestNIC;

static void testnic_realize(DeviceState *dev, Error **errp)
{
    TestNIC *s = (TestNIC *)dev;
    s->nc = net_nic_new(&fake_nic_info, &s->conf, "test-nic", dev->id, &fb, errp);
}

static void testnic_unrealize(DeviceState *dev)
{
    TestNIC *s = (TestNIC *)dev;
    net_client_free(s->nc);
    s->nc = NULL;
}

static const Property testnic_props[] = {
    DEFINE_NIC_PROPERTIES(TestNIC, conf),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo testnic_type = {
    .name = "test-nic", .parent = TYPE_DEVICE, .instance_size = sizeof(TestNIC),
    .realize = testnic_realize, .unrealize = testnic_unrealize, .props = testnic_props,
};
KITE_TYPE_REGISTER(testnic_type)

static void test_nic_properties(void)
{
    Error *err = NULL;
    DeviceState *d1 = qdev_new("test-nic"), *d2 = qdev_new("test-nic");
    NetClientState *be = netdev_add_from_string("testnet,id=be", &error_abort);
    g_autofree char *mac = NULL, *nd = NULL;

    g_assert_true(object_property_set_str(OBJECT(d1), "netdev", "be", &error_abort));
    g_assert_false(object_property_set_str(OBJECT(d2), "netdev", "be", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "in use"));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(d2), "netdev", "nosuch", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "can't find value"));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(d2), "mac", "01:00:00:00:00:01", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(OBJECT(d2), "mac", "nonsense", &err));
    error_free(err);
    err = NULL;
    g_assert_true(object_property_set_str(OBJECT(d1), "mac", "02:00:00:00:00:07", &error_abort));

    g_assert_true(qdev_realize(d1, NULL, &error_abort));
    TestNIC *s = (TestNIC *)d1;
    g_assert_true(s->nc->peer == be && be->peer == s->nc);
    mac = object_property_get_str(OBJECT(d1), "mac", &error_abort);
    g_assert_cmpstr(mac, ==, "02:00:00:00:00:07");
    nd = object_property_get_str(OBJECT(d1), "netdev", &error_abort);
    g_assert_cmpstr(nd, ==, "be");
    /* Frames flow both ways through the real peer link. */
    runstate_set(RUN_STATE_RUNNING);
    memset(&fb, 0, sizeof(fb));
    fb.ready = true;
    fb.order = g_byte_array_new();
    send1(be, 5, 64, NULL);
    g_assert_cmpuint(fb.got, ==, 1);
    runstate_set(RUN_STATE_PRELAUNCH);

    /* Deleting the backend under the NIC leaves the NIC unconnected, not dangling. */
    g_assert_true(netdev_del("be", &error_abort));
    g_assert_null(s->nc->peer);
    g_assert_null(s->conf.peer);
    qdev_unrealize(d1);
    object_unref(d1);
    object_unref(d2);
    g_byte_array_unref(fb.order);
    net_cleanup();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/net/direct", test_direct);
    g_test_add_func("/net/backpressure-flush", test_backpressure_flush);
    g_test_add_func("/net/receive-refuses", test_receive_refuses);
    g_test_add_func("/net/bound", test_bound);
    g_test_add_func("/net/purge-and-free", test_purge_and_free);
    g_test_add_func("/net/iov", test_iov);
    g_test_add_func("/net/reentrant-flush", test_reentrant_flush);
    g_test_add_func("/net/link", test_link);
    g_test_add_func("/net/nic-held-while-stopped", test_nic_held_while_stopped);
    g_test_add_func("/net/macaddr", test_macaddr);
    g_test_add_func("/net/netdev-options", test_netdev_options);
    g_test_add_func("/net/nic-properties", test_nic_properties);
    return g_test_run();
}
