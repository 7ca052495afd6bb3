/*
 * A -netdev socket backend with iothread=: frames from a host peer reach a fake NIC through
 * the iothread's handlers, which hold the BQL while they call into the net core; a NIC that
 * cannot take frames stops the backend reading (one frame queued, the rest stays in the
 * socket) and a flush resumes it in order; NIC -> peer keeps QEMU's framing; netdev_del while
 * the peer keeps sending waits for the iothread to leave its handlers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "kite/iothread.h"
#include "system/system.h"
#include "net/net.h"
#include <netinet/in.h>
#include <sys/socket.h>

#define FRAMES 40
#define FRAME_LEN 60

typedef struct Fake {
    bool ready;            /* can_receive (under the BQL) */
    unsigned got;
    GByteArray *order;     /* first byte of each frame */
    GThread *last_thread;  /* who delivered the last frame */
    NetClientState *nc;
} Fake;

static GThread *main_thread;

static bool fake_can_receive(NetClientState *nc)
{
    g_assert_true(bql_locked());
    return ((Fake *)nc->opaque)->ready;
}

static ssize_t fake_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    Fake *f = nc->opaque;

    /* The contract for iothread backends: the core and the NIC run under the BQL. */
    g_assert_true(bql_locked());
    g_assert_cmpuint(len, ==, FRAME_LEN);
    f->got++;
    g_byte_array_append(f->order, buf, 1);
    f->last_thread = g_thread_self();
    return len;
}

static const NetClientInfo fake_info = {
    .type = NET_CLIENT_OTHER, .can_receive = fake_can_receive, .receive = fake_receive,
};

static void send_frame(int fd, uint8_t tag)
{
    uint8_t b[4 + FRAME_LEN] = { 0, 0, 0, FRAME_LEN };

    memset(b + 4, 0xa5, FRAME_LEN);
    b[4] = tag;
    g_assert_cmpint(send(fd, b, sizeof(b), MSG_NOSIGNAL), ==, sizeof(b));
}

/* Wait (the BQL not held) until cond(f) holds under the BQL; fail after 20 s. */
static void wait_for(Fake *f, bool (*cond)(Fake *f))
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    for (;;) {
        bool ok;
        bql_lock();
        ok = cond(f);
        bql_unlock();
        if (ok) {
            return;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(1000);
    }
}

static bool one_queued(Fake *f)
{
    return net_queue_length(f->nc) == 1;
}

static bool got_all(Fake *f)
{
    return f->got == FRAMES;
}

static bool got_one_more(Fake *f)
{
    return f->got == FRAMES + 1;
}

static void test_socket_iothread(void)
{
    g_autoptr(KiteOpts) oo = kite_opts_parse("iothread,id=nio0", "qom-type", &error_abort);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int lfd, peer;
    g_autofree char *spec = NULL;
    NetClientState *be;
    Fake f = { .order = g_byte_array_new() };
    uint8_t rx[4 + FRAME_LEN], out[FRAME_LEN];
    size_t have = 0;

    main_thread = g_thread_self();
    g_assert_true(user_object_create(oo, &error_abort));

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    g_assert_cmpint(getsockname(lfd, (struct sockaddr *)&sa, &sl), ==, 0);
    spec = g_strdup_printf("socket,id=s0,connect=127.0.0.1:%d,iothread=nio0",
                           ntohs(sa.sin_port));

    bql_lock();
    be = netdev_add_from_string(spec, &error_abort);
    g_assert_nonnull(strstr(be->info_str, "connect="));
    f.nc = net_client_new(&fake_info, be, "fake", "fake0", &f);
    bql_unlock();
    peer = accept(lfd, NULL, NULL);
    g_assert_cmpint(peer, >=, 0);

    /* The NIC has no room: the backend queues one frame and stops reading. */
    for (int i = 0; i < FRAMES; i++) {
        send_frame(peer, i);
    }
    wait_for(&f, one_queued);
    g_usleep(100 * 1000);         /* room for a wrong backend to queue more */
    bql_lock();
    g_assert_cmpuint(net_queue_length(f.nc), ==, 1);
    g_assert_cmpuint(f.got, ==, 0);
    /* Room again: everything arrives, in order. */
    f.ready = true;
    net_flush_queued_packets(f.nc);
    bql_unlock();
    wait_for(&f, got_all);
    for (int i = 0; i < FRAMES; i++) {
        g_assert_cmpuint(f.order->data[i], ==, i);
    }
    /* With the backend reading again, a new frame is delivered by the iothread itself. */
    send_frame(peer, 0x77);
    wait_for(&f, got_one_more);
    g_assert_cmpuint(f.order->data[FRAMES], ==, 0x77);
    g_assert_true(f.last_thread != main_thread);

    /* NIC -> peer, with the 4-byte length in front. */
    memset(out, 0x3c, sizeof(out));
    bql_lock();
    g_assert_cmpint(net_send_packet(f.nc, out, sizeof(out)), ==, sizeof(out));
    bql_unlock();
    while (have < sizeof(rx)) {
        ssize_t n = recv(peer, rx + have, sizeof(rx) - have, 0);
        g_assert_cmpint(n, >, 0);
        have += n;
    }
    g_assert_cmpuint(rx[3], ==, FRAME_LEN);
    g_assert_cmpmem(rx + 4, FRAME_LEN, out, FRAME_LEN);

    /* Delete the backend while the peer keeps it busy in the iothread. */
    f.ready = false;
    for (int i = 0; i < 200; i++) {
        send_frame(peer, i);
    }
    bql_lock();
    g_assert_true(netdev_del("s0", &error_abort));
    g_assert_null(f.nc->peer);
    net_client_free(f.nc);
    bql_unlock();

    object_unparent(object_resolve_path("/objects/nio0", NULL));
    close(peer);
    close(lfd);
    g_byte_array_free(f.order, true);
}

static void test_bad_iothread(void)
{
    Error *err = NULL;

    bql_lock();
    g_assert_null(netdev_add_from_string("socket,id=s1,listen=127.0.0.1:0,iothread=nope",
                                         &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "cannot find iothread 'nope'"));
    error_free(err);
    g_assert_null(net_find_netdev("s1"));
    bql_unlock();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/net/iothread/socket", test_socket_iothread);
    g_test_add_func("/net/iothread/bad-id", test_bad_iothread);
    return g_test_run();
}
