/*
 * virtio-net-pci through the qtest protocol, driven as a legacy driver would (virtio 1.2
 * 4.1.4.8 registers, 2.7 split rings), with the test itself as the far end of
 * -netdev socket,listen= (4-byte big-endian length framing):
 *   - config space: MAC from mac=, link up; no offloads without a vnet-header backend
 *   - transmit reaches the socket; frames from the socket land in receive buffers
 *   - backpressure: frames sent while the driver has no buffers wait (the socket is not
 *     read) and all arrive, in order, once buffers are posted
 *   - the control queue's rx mode and MAC table filter frames
 *   - malformed chains (buffer outside RAM, descriptor loop, short header, read-only receive
 *     buffer, control command without ack, runaway avail index) break the device: it sends
 *     nothing more; Kite keeps answering, and a reset brings the device back
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONF(devfn, reg) (0x80000000u | (devfn) << 8 | (reg))
#define DEVFN 0x18                      /* addr=3 */
#define IOBASE 0xc000

/* Legacy registers (4.1.4.8); config at 0x14 without MSI-X. */
enum { HOST_F = 0x00, GUEST_F = 0x04, Q_PFN = 0x08, Q_NUM = 0x0c, Q_SEL = 0x0e,
       Q_NOTIFY = 0x10, STATUS = 0x12, ISR = 0x13, CFG = 0x14 };
enum { RXQ = 0, TXQ = 1, CTRLQ = 2 };
#define F_MAC       (1u << 5)
#define F_MRG       (1u << 15)
#define F_STATUS    (1u << 16)
#define F_CTRL_VQ   (1u << 17)
#define F_CTRL_RX   (1u << 18)
#define F_CSUM      (1u << 0)
#define DESC_NEXT 1
#define DESC_WRITE 2
#define HDR 10                          /* no MRG_RXBUF, no VERSION_1 */
#define MAC "52:54:00:12:34:99"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x99 };

typedef struct VQ {
    uint64_t base, desc, avail, used;
    unsigned num;
    uint16_t avail_idx, used_seen;
    unsigned next_desc;
} VQ;

typedef struct Env {
    KQTest *qt;
    int peer;                           /* our end of the socket netdev */
    VQ vq[3];
    uint64_t bufs;                      /* next free buffer address */
} Env;

static void cfg_write(KQTest *qt, int reg, uint32_t v, int len)
{
    kqtest_outl(qt, 0xcf8, CONF(DEVFN, reg & ~3));
    if (len == 2) {
        kqtest_outw(qt, 0xcfc + (reg & 2), v);
    } else {
        kqtest_outl(qt, 0xcfc, v);
    }
}

static uint32_t cfg_read(KQTest *qt, int reg)
{
    kqtest_outl(qt, 0xcf8, CONF(DEVFN, reg & ~3));
    return kqtest_inl(qt, 0xcfc);
}

static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &l), ==, 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void vq_setup(Env *e, int q, uint64_t base)
{
    VQ *v = &e->vq[q];

    kqtest_outw(e->qt, IOBASE + Q_SEL, q);
    v->num = kqtest_inw(e->qt, IOBASE + Q_NUM);
    g_assert_cmpuint(v->num, >=, 8);
    v->base = v->desc = base;
    v->avail = base + 16 * v->num;
    /* Legacy layout (2.7.2): used ring at the next 4096 boundary after avail. */
    v->used = (v->avail + 6 + 2 * v->num + 4095) & ~4095ull;
    v->avail_idx = v->used_seen = 0;
    v->next_desc = 0;
    for (uint64_t a = base; a < v->used + 6 + 8 * v->num; a += 8) {
        kqtest_writeq(e->qt, a, 0);
    }
    kqtest_outl(e->qt, IOBASE + Q_PFN, base >> 12);
}

static void env_driver_init(Env *e, uint32_t features)
{
    kqtest_outb(e->qt, IOBASE + STATUS, 0);
    kqtest_outb(e->qt, IOBASE + STATUS, 1 | 2);              /* ACKNOWLEDGE | DRIVER */
    kqtest_outl(e->qt, IOBASE + GUEST_F, features);
    vq_setup(e, RXQ, 0x100000);
    vq_setup(e, TXQ, 0x110000);
    vq_setup(e, CTRLQ, 0x120000);
    kqtest_outb(e->qt, IOBASE + STATUS, 1 | 2 | 4);          /* DRIVER_OK */
    e->bufs = 0x200000;
}

static Env *env_start(const char *extra)
{
    Env *e = g_new0(Env, 1);
    int port = free_port();
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

    e->qt = kqtest_start("-M pc -m 64 -nodefaults -netdev socket,id=s0,listen=127.0.0.1:%d "
                         "-device virtio-net-pci,netdev=s0,addr=3,mac=" MAC
                         ",disable-modern=on,vectors=0%s", port, extra);
    /* The qtest connection comes up before -netdev is created: retry until it listens. */
    for (int i = 0;; i++) {
        e->peer = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(e->peer, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            break;
        }
        close(e->peer);
        g_assert_cmpint(i, <, 500);
        g_usleep(10000);
    }
    /* One round trip: by now the machine is built. */
    kqtest_inb(e->qt, 0x80);
    cfg_write(e->qt, 0x10, IOBASE | 1, 4);                    /* BAR 0: I/O */
    cfg_write(e->qt, 0x04, 0x5, 2);                           /* I/O space, bus master */
    return e;
}

static void env_stop(Env *e)
{
    close(e->peer);
    kqtest_quit(e->qt);
    g_free(e);
}

/* Add a chain of n buffers; returns the head.  Buffer contents are written by the caller. */
static unsigned vq_add(Env *e, int q, const uint64_t *addr, const uint32_t *len,
                       const uint16_t *flags, int n)
{
    VQ *v = &e->vq[q];
    unsigned head = v->next_desc;

    for (int i = 0; i < n; i++) {
        unsigned d = (head + i) % v->num;
        uint64_t da = v->desc + 16 * d;
        kqtest_writeq(e->qt, da, addr[i]);
        kqtest_writel(e->qt, da + 8, len[i]);
        kqtest_writew(e->qt, da + 12, flags[i] | (i + 1 < n ? DESC_NEXT : 0));
        kqtest_writew(e->qt, da + 14, (d + 1) % v->num);
    }
    v->next_desc = (head + n) % v->num;
    kqtest_writew(e->qt, v->avail + 4 + 2 * (v->avail_idx % v->num), head);
    v->avail_idx++;
    kqtest_writew(e->qt, v->avail + 2, v->avail_idx);
    return head;
}

static void vq_kick(Env *e, int q)
{
    kqtest_outw(e->qt, IOBASE + Q_NOTIFY, q);
}

static uint16_t used_idx(Env *e, int q)
{
    return kqtest_readw(e->qt, e->vq[q].used + 2);
}

/* Wait until the used index of q reaches want (the socket side runs in Kite's main loop). */
static bool wait_used(Env *e, int q, uint16_t want)
{
    for (int i = 0; i < 500; i++) {
        if ((uint16_t)(used_idx(e, q) - want) < 0x8000) {
            return true;
        }
        g_usleep(10000);
    }
    return false;
}

static void used_elem(Env *e, int q, unsigned i, uint32_t *id, uint32_t *len)
{
    uint64_t a = e->vq[q].used + 4 + 8 * (i % e->vq[q].num);
    *id = kqtest_readl(e->qt, a);
    *len = kqtest_readl(e->qt, a + 4);
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t tag)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\0\0\0\0\x01", 6);
    f[12] = 0x88;
    f[13] = 0xb5;                       /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = tag + i;
    }
}

static void peer_send(Env *e, const uint8_t *f, uint32_t len)
{
    uint32_t be = htonl(len);
    g_assert_cmpint(send(e->peer, &be, 4, 0), ==, 4);
    g_assert_cmpint(send(e->peer, f, len, 0), ==, (ssize_t)len);
}

static bool peer_recv_exact(Env *e, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = { .fd = e->peer, .events = POLLIN };
        ssize_t n;
        if (poll(&p, 1, 5000) <= 0) {
            return false;
        }
        n = recv(e->peer, (uint8_t *)buf + got, len - got, 0);
        if (n <= 0) {
            return false;
        }
        got += n;
    }
    return true;
}

/* Post one writable receive buffer of len bytes. */
static uint64_t post_rx(Env *e, uint32_t len)
{
    uint64_t a = e->bufs;
    uint16_t fl = DESC_WRITE;
    e->bufs += 4096;
    vq_add(e, RXQ, &a, &len, &fl, 1);
    return a;
}

static void test_config_and_features(void)
{
    Env *e = env_start("");
    uint32_t hf = kqtest_inl(e->qt, IOBASE + HOST_F);

    g_assert_cmphex(cfg_read(e->qt, 0) , ==, 0x10001af4);    /* transitional net */
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(kqtest_inb(e->qt, IOBASE + CFG + i), ==, mac[i]);
    }
    g_assert_cmphex(kqtest_inw(e->qt, IOBASE + CFG + 6), ==, 1);    /* LINK_UP */
    g_assert_true(hf & F_MAC);
    g_assert_true(hf & F_MRG);
    g_assert_true(hf & F_STATUS);
    g_assert_true(hf & F_CTRL_VQ);
    /* No checksum offload: the socket backend has no vnet header to carry it. */
    g_assert_false(hf & F_CSUM);
    env_stop(e);
}

/*
 * QEMU 7.2's virtio-net-pci: the configuration space is mac + status (8 bytes, no MQ
 * offered), so the legacy I/O BAR with MSI-X (24-byte header) is 32 bytes; a BAR sizing
 * write of all ones reads back the size mask (PCI 3.0 6.2.5.1).
 */
static void test_legacy_bar_size(void)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults -netdev user,id=n0 "
                              "-device virtio-net-pci,netdev=n0,addr=3");

    cfg_write(qt, 0x10, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(qt, 0x10), ==, 0xffffffe1);
    /* MSI-X not enabled yet: the config space starts at 20 (virtio 1.2 4.1.4.10). */
    cfg_write(qt, 0x10, IOBASE | 1, 4);
    cfg_write(qt, 0x04, 0x1, 2);
    g_assert_cmphex(kqtest_inb(qt, IOBASE + CFG), ==, 0x52);
    g_assert_cmphex(kqtest_inw(qt, IOBASE + CFG + 6), ==, 1);     /* LINK_UP */
    kqtest_quit(qt);

    /* status=off: mac only (6 bytes), the status word is outside the config space. */
    qt = kqtest_start("-M pc -m 64 -nodefaults -netdev user,id=n0 "
                      "-device virtio-net-pci,netdev=n0,addr=3,status=off,vectors=0");
    cfg_write(qt, 0x10, IOBASE | 1, 4);
    cfg_write(qt, 0x04, 0x1, 2);
    g_assert_cmphex(kqtest_inb(qt, IOBASE + CFG + 5), ==, 0x56);
    g_assert_cmphex(kqtest_inw(qt, IOBASE + CFG + 6), ==, 0xffff);
    kqtest_quit(qt);
}

/*
 * QEMU's expansion ROM: efi-virtio.rom (iPXE) by default, a 256 KiB ROM BAR; romfile=
 * with no value: none.
 */
static void test_rom(void)
{
    KQTest *qt = kqtest_start("-M pc -m 64 -nodefaults -netdev user,id=n0 "
                              "-device virtio-net-pci,netdev=n0,addr=3");
    uint32_t rom;

    cfg_write(qt, 0x30, 0xfffff800, 4);
    rom = cfg_read(qt, 0x30);
    kqtest_quit(qt);
    if (!rom) {
        g_test_skip("efi-virtio.rom is not installed (Debian: ipxe-qemu)");
    } else {
        g_assert_cmphex(rom, ==, 0xfffc0000);
    }
    qt = kqtest_start("-M pc -m 64 -nodefaults -netdev user,id=n0 "
                      "-device virtio-net-pci,netdev=n0,addr=3,romfile=");
    cfg_write(qt, 0x30, 0xfffff800, 4);
    g_assert_cmphex(cfg_read(qt, 0x30), ==, 0);
    kqtest_quit(qt);
}

static void test_tx_rx(void)
{
    Env *e = env_start("");
    uint8_t f[60], got[128], hdr[HDR] = { 0 };
    uint64_t a = 0x300000;
    uint32_t len[2] = { HDR, sizeof(f) }, be, id, ulen;
    uint16_t fl[2] = { 0, 0 };
    uint64_t addrs[2] = { a, a + 64 };

    env_driver_init(e, F_MAC | F_STATUS);
    /* Transmit: header and frame in two descriptors. */
    make_frame(f, sizeof(f), (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 1);
    kqtest_memwrite(e->qt, a, hdr, HDR);
    kqtest_memwrite(e->qt, a + 64, f, sizeof(f));
    vq_add(e, TXQ, addrs, len, fl, 2);
    vq_kick(e, TXQ);
    g_assert_true(peer_recv_exact(e, &be, 4));
    g_assert_cmpuint(ntohl(be), ==, sizeof(f));
    g_assert_true(peer_recv_exact(e, got, sizeof(f)));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_true(wait_used(e, TXQ, 1));

    /* Receive: one frame for our MAC into a posted buffer, behind a zero header. */
    uint64_t rb = post_rx(e, 2048);
    vq_kick(e, RXQ);
    make_frame(f, sizeof(f), mac, 7);
    peer_send(e, f, sizeof(f));
    g_assert_true(wait_used(e, RXQ, 1));
    used_elem(e, RXQ, 0, &id, &ulen);
    g_assert_cmpuint(ulen, ==, HDR + sizeof(f));
    kqtest_memread(e->qt, rb, got, HDR + sizeof(f));
    g_assert_cmpmem(got, HDR, hdr, HDR);
    g_assert_cmpmem(got + HDR, sizeof(f), f, sizeof(f));
    g_assert_cmphex(kqtest_inb(e->qt, IOBASE + ISR) & 1, ==, 1);
    env_stop(e);
}

static void test_mergeable(void)
{
    Env *e = env_start("");
    uint8_t f[1500], got[1600];
    uint32_t id, l0, l1;
    uint64_t b0, b1;

    env_driver_init(e, F_MAC | F_MRG);
    /* Two 1024-byte buffers for a 1500-byte frame: num_buffers = 2 in a 12-byte header. */
    b0 = post_rx(e, 1024);
    b1 = post_rx(e, 1024);
    vq_kick(e, RXQ);
    make_frame(f, sizeof(f), mac, 3);
    peer_send(e, f, sizeof(f));
    g_assert_true(wait_used(e, RXQ, 2));
    used_elem(e, RXQ, 0, &id, &l0);
    used_elem(e, RXQ, 1, &id, &l1);
    g_assert_cmpuint(l0, ==, 1024);
    g_assert_cmpuint(l1, ==, 12 + sizeof(f) - 1024);
    kqtest_memread(e->qt, b0, got, 1024);
    kqtest_memread(e->qt, b1, got + 1024, l1);
    g_assert_cmpuint(got[10] | got[11] << 8, ==, 2);
    g_assert_cmpmem(got + 12, sizeof(f), f, sizeof(f));
    env_stop(e);
}

static void test_backpressure(void)
{
    Env *e = env_start("");
    enum { N = 40 };
    uint8_t f[100], got[128];
    uint64_t rb[N];

    env_driver_init(e, F_MAC);
    /* The driver has posted nothing: frames must wait, not vanish. */
    for (int i = 0; i < N; i++) {
        make_frame(f, sizeof(f), mac, i);
        peer_send(e, f, sizeof(f));
    }
    g_usleep(200000);
    g_assert_cmpuint(used_idx(e, RXQ), ==, 0);
    for (int i = 0; i < N; i++) {
        rb[i] = post_rx(e, 2048);
    }
    vq_kick(e, RXQ);
    g_assert_true(wait_used(e, RXQ, N));
    for (int i = 0; i < N; i++) {
        uint32_t id, len;
        used_elem(e, RXQ, i, &id, &len);
        g_assert_cmpuint(len, ==, HDR + sizeof(f));
        kqtest_memread(e->qt, rb[i], got, HDR + sizeof(f));
        make_frame(f, sizeof(f), mac, i);
        g_assert_cmpmem(got + HDR, sizeof(f), f, sizeof(f));      /* in order, none lost */
    }
    env_stop(e);
}

static uint8_t ctrl_cmd(Env *e, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
    uint64_t a = 0x380000;
    uint8_t h[2] = { cls, cmd }, ack = 0xee;
    uint64_t addrs[3] = { a, a + 16, a + 4096 };
    uint32_t lens[3] = { 2, len, 1 };
    uint16_t fl[3] = { 0, 0, DESC_WRITE };
    uint16_t want = e->vq[CTRLQ].avail_idx + 1;

    kqtest_memwrite(e->qt, a, h, 2);
    kqtest_memwrite(e->qt, a + 16, data, len);
    kqtest_memwrite(e->qt, a + 4096, &ack, 1);
    vq_add(e, CTRLQ, addrs, lens, fl, 3);
    vq_kick(e, CTRLQ);
    g_assert_true(wait_used(e, CTRLQ, want));
    return kqtest_readb(e->qt, a + 4096);
}

static void test_ctrl_filter(void)
{
    Env *e = env_start("");
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
    uint8_t off = 0, f[60];
    uint8_t table[4 + 6 + 4] = { 1, 0, 0, 0 };
    uint32_t id, len;
    uint64_t rb;

    env_driver_init(e, F_MAC | F_CTRL_VQ | F_CTRL_RX);
    g_assert_cmpuint(ctrl_cmd(e, 0, 0, &off, 1), ==, 0);      /* PROMISC off: OK */
    g_assert_cmpuint(ctrl_cmd(e, 0, 9, &off, 1), ==, 1);      /* unknown command: ERR */
    g_assert_cmpuint(ctrl_cmd(e, 0, 0, &off, 0), ==, 1);      /* missing argument: ERR */

    rb = post_rx(e, 2048);
    vq_kick(e, RXQ);
    /* A unicast frame for another MAC is filtered out; ours arrives. */
    make_frame(f, sizeof(f), other, 1);
    peer_send(e, f, sizeof(f));
    make_frame(f, sizeof(f), mac, 2);
    peer_send(e, f, sizeof(f));
    g_assert_true(wait_used(e, RXQ, 1));
    used_elem(e, RXQ, 0, &id, &len);
    g_assert_cmpuint(kqtest_readb(e->qt, rb + HDR + 14), ==, (uint8_t)(2 + 14));

    /* The MAC table adds the other address (1 unicast entry, 0 multicast). */
    memcpy(table + 4, other, 6);
    g_assert_cmpuint(ctrl_cmd(e, 1, 0, table, sizeof(table)), ==, 0);
    /* A table whose counts do not match its length is refused. */
    table[0] = 9;
    g_assert_cmpuint(ctrl_cmd(e, 1, 0, table, sizeof(table)), ==, 1);
    rb = post_rx(e, 2048);
    vq_kick(e, RXQ);
    make_frame(f, sizeof(f), other, 3);
    peer_send(e, f, sizeof(f));
    g_assert_true(wait_used(e, RXQ, 2));
    g_assert_cmpuint(kqtest_readb(e->qt, rb + HDR + 14), ==, (uint8_t)(3 + 14));
    env_stop(e);
}

static void send_valid_tx(Env *e, uint8_t tag)
{
    uint8_t f[60], hdr[HDR] = { 0 };
    uint64_t a = 0x3c0000;
    uint32_t len[2] = { HDR, sizeof(f) };
    uint16_t fl[2] = { 0, 0 };
    uint64_t addrs[2] = { a, a + 64 };

    make_frame(f, sizeof(f), mac, tag);
    kqtest_memwrite(e->qt, a, hdr, HDR);
    kqtest_memwrite(e->qt, a + 64, f, sizeof(f));
    vq_add(e, TXQ, addrs, len, fl, 2);
    vq_kick(e, TXQ);
}

/*
 * After a malformed chain the device is broken: a legacy driver has no NEEDS_RESET bit to
 * read (2.1.2 sets it only for VERSION_1), so check what it does: a valid frame queued
 * behind the bad chain is not sent.  Kite keeps answering, and a reset brings it back.
 */
static void expect_broken_then_recover(Env *e)
{
    struct pollfd p = { .fd = e->peer, .events = POLLIN };
    uint8_t buf[4 + 60];

    g_usleep(100000);
    send_valid_tx(e, 8);
    g_assert_cmpint(poll(&p, 1, 300), ==, 0);
    g_assert_cmphex(kqtest_inl(e->qt, IOBASE + HOST_F) & F_MAC, ==, F_MAC);
    env_driver_init(e, F_MAC);
    send_valid_tx(e, 9);
    g_assert_true(peer_recv_exact(e, buf, sizeof(buf)));
    g_assert_cmpuint(ntohl(*(uint32_t *)buf), ==, 60);
    g_assert_cmpuint(buf[4 + 20], ==, (uint8_t)(9 + 20));
}

static void test_malformed(void)
{
    Env *e = env_start("");
    uint64_t addr;
    uint32_t len;
    uint16_t fl;
    uint8_t f[60];

    /* 1: a transmit buffer outside guest RAM. */
    env_driver_init(e, F_MAC);
    addr = 0xfff00000000ull;
    len = 100;
    fl = 0;
    vq_add(e, TXQ, &addr, &len, &fl, 1);
    vq_kick(e, TXQ);
    expect_broken_then_recover(e);

    /* 2: a descriptor chain that loops onto itself. */
    env_driver_init(e, F_MAC);
    kqtest_writeq(e->qt, e->vq[TXQ].desc, 0x300000);
    kqtest_writel(e->qt, e->vq[TXQ].desc + 8, 64);
    kqtest_writew(e->qt, e->vq[TXQ].desc + 12, DESC_NEXT);
    kqtest_writew(e->qt, e->vq[TXQ].desc + 14, 0);
    kqtest_writew(e->qt, e->vq[TXQ].avail + 4, 0);
    kqtest_writew(e->qt, e->vq[TXQ].avail + 2, 1);
    e->vq[TXQ].avail_idx = 1;
    e->vq[TXQ].next_desc = 1;
    vq_kick(e, TXQ);
    expect_broken_then_recover(e);

    /* 3: a transmit chain shorter than the virtio-net header. */
    env_driver_init(e, F_MAC);
    addr = 0x300000;
    len = 4;
    vq_add(e, TXQ, &addr, &len, &fl, 1);
    vq_kick(e, TXQ);
    expect_broken_then_recover(e);

    /* 4: a receive buffer the device may not write. */
    env_driver_init(e, F_MAC);
    addr = 0x300000;
    len = 2048;
    fl = 0;
    vq_add(e, RXQ, &addr, &len, &fl, 1);
    vq_kick(e, RXQ);
    make_frame(f, sizeof(f), mac, 1);
    peer_send(e, f, sizeof(f));
    expect_broken_then_recover(e);

    /* 5: a control command without the ack byte. */
    env_driver_init(e, F_MAC | F_CTRL_VQ | F_CTRL_RX);
    addr = 0x300000;
    len = 3;
    fl = 0;
    vq_add(e, CTRLQ, &addr, &len, &fl, 1);
    vq_kick(e, CTRLQ);
    expect_broken_then_recover(e);

    /* 6: an avail index far ahead of the ring size. */
    env_driver_init(e, F_MAC);
    kqtest_writew(e->qt, e->vq[TXQ].avail + 2, 0x8000);
    vq_kick(e, TXQ);
    expect_broken_then_recover(e);
    env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net/config-features", test_config_and_features);
    g_test_add_func("/virtio-net/legacy-bar-size", test_legacy_bar_size);
    g_test_add_func("/virtio-net/rom", test_rom);
    g_test_add_func("/virtio-net/tx-rx", test_tx_rx);
    g_test_add_func("/virtio-net/mergeable", test_mergeable);
    g_test_add_func("/virtio-net/backpressure", test_backpressure);
    g_test_add_func("/virtio-net/ctrl-filter", test_ctrl_filter);
    g_test_add_func("/virtio-net/malformed", test_malformed);
    return g_test_run();
}
