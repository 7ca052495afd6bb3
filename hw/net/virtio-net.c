/*
 * virtio-net (virtio 1.2 section 5.1): queue 0 receives, queue 1 transmits, queue 2 carries
 * control commands.  Every buffer starts with a struct virtio_net_hdr (5.1.6): 10 bytes, or 12
 * with num_buffers when MRG_RXBUF or VERSION_1 is negotiated.
 *
 * Receive: a frame goes into one buffer, or with MRG_RXBUF (5.1.6.3.1) across as many as it
 * needs, num_buffers telling the driver how many.  When the driver has not posted enough, the
 * frame stays with the net core (receive returns 0) and is delivered when the driver kicks the
 * receive queue.  The receive filter (5.1.6.5.1, 5.1.6.5.2) applies the rx mode, the MAC table
 * and, with CTRL_VLAN, the VLAN filter.
 *
 * Transmit: chains are sent as they are popped; when the backend cannot take more the frame
 * waits in the net core's bounded queue, the device keeps the chain and pops nothing until the
 * sent callback, so nothing grows and the guest sees backpressure as a full ring.
 *
 * Offloads (checksum, TSO) are offered only when the backend passes virtio-net headers through
 * (tap vnet_hdr=on); otherwise the header is all zero both ways.
 *
 * Malformed chains (no room for the header, readable receive buffers, control commands without
 * a status byte) break the device (virtio_error): NEEDS_RESET, and Kite carries on.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio-net.h"
#include "kite/log.h"
#include "kite/main-loop.h"

/* Control classes and commands (5.1.6.5). */
#define VIRTIO_NET_CTRL_RX              0
#define VIRTIO_NET_CTRL_RX_PROMISC      0
#define VIRTIO_NET_CTRL_RX_ALLMULTI     1
#define VIRTIO_NET_CTRL_RX_ALLUNI       2
#define VIRTIO_NET_CTRL_RX_NOMULTI      3
#define VIRTIO_NET_CTRL_RX_NOUNI        4
#define VIRTIO_NET_CTRL_RX_NOBCAST      5
#define VIRTIO_NET_CTRL_MAC             1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET   0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET    1
#define VIRTIO_NET_CTRL_VLAN            2
#define VIRTIO_NET_CTRL_VLAN_ADD        0
#define VIRTIO_NET_CTRL_VLAN_DEL        1
#define VIRTIO_NET_CTRL_ANNOUNCE        3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK    0
#define VIRTIO_NET_CTRL_MQ              4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS  5
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0
#define VIRTIO_NET_OK                   0
#define VIRTIO_NET_ERR                  1

/* Control command payloads are small; a MAC table of 64+64 entries is under 800 bytes. */
#define VIRTIO_NET_CTRL_MAX             4096
/* Chains sent per notification before the rest is left to a bottom half. */
#define VIRTIO_NET_TX_BURST             256

#define OFFLOAD_FEATURES ((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) | \
                          (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) | \
                          (1ull << VIRTIO_NET_F_GUEST_UFO))

static VirtIONet *vdev_net(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIONet, vdev);
}

static bool driver_ok(VirtIONet *n)
{
    return (n->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) && !n->vdev.broken;
}

static bool vlan_allowed(VirtIONet *n, unsigned vid)
{
    return n->vlans[vid >> 5] & (1u << (vid & 31));
}

/* ------------------------------------------------------------------ receive */

bool virtio_net_receive_filter(VirtIONet *n, const uint8_t *frame, size_t len)
{
    const uint8_t *dst = frame;

    if (len < 14) {
        return false;               /* not even an Ethernet header */
    }
    if (n->promisc) {
        return true;
    }
    /* 802.1Q tag: TPID 0x8100 after the addresses, VID in the low 12 bits of the TCI. */
    if (frame[12] == 0x81 && frame[13] == 0x00 && len >= 16) {
        unsigned vid = ((frame[14] << 8) | frame[15]) & 0xfff;
        if (!vlan_allowed(n, vid)) {
            return false;
        }
    }
    if (net_macaddr_is_multicast(dst)) {
        if (net_macaddr_is_broadcast(dst)) {
            return !n->nobcast;
        }
        if (n->nomulti) {
            return false;
        }
        if (n->allmulti || n->multi_overflow) {
            return true;
        }
        for (uint32_t i = n->mac_uni_entries; i < n->mac_uni_entries + n->mac_multi_entries;
             i++) {
            if (!memcmp(dst, &n->mac_table[i * 6], 6)) {
                return true;
            }
        }
        return false;
    }
    if (n->nouni) {
        return false;
    }
    if (n->alluni || n->uni_overflow || !memcmp(dst, n->mac, 6)) {
        return true;
    }
    for (uint32_t i = 0; i < n->mac_uni_entries; i++) {
        if (!memcmp(dst, &n->mac_table[i * 6], 6)) {
            return true;
        }
    }
    return false;
}

static bool virtio_net_can_receive(NetClientState *nc)
{
    VirtIONet *n = nc->opaque;
    return driver_ok(n) && virtio_queue_ready(n->rx_vq);
}

static void rx_unpop_all(VirtIONet *n, unsigned count)
{
    while (count > 0) {
        count--;
        virtqueue_unpop(n->rx_vq, n->rx_elems[count]);
        g_free(n->rx_elems[count]);
    }
}

static ssize_t virtio_net_receive(NetClientState *nc, const uint8_t *buf, size_t size)
{
    VirtIONet *n = nc->opaque;
    VirtIODevice *vdev = &n->vdev;
    uint8_t hdr[VIRTIO_NET_HDR_MRG_LEN] = { 0 };
    const uint8_t *frame = buf;
    size_t len = size, total, space = 0, off;
    unsigned count = 0, max_bufs = n->mergeable_rx ? VIRTQUEUE_MAX_SIZE : 1;

    if (!driver_ok(n)) {
        return size;
    }
    if (n->has_vnet_hdr) {
        if (size < NET_VNET_HDR_LEN) {
            return size;
        }
        /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset pass through. */
        memcpy(hdr, buf, VIRTIO_NET_HDR_LEN);
        frame += NET_VNET_HDR_LEN;
        len -= NET_VNET_HDR_LEN;
    }
    if (!virtio_net_receive_filter(n, frame, len)) {
        return size;
    }
    total = n->guest_hdr_len + len;

again:
    while (space < total && count < max_bufs) {
        VirtQueueElement *elem = virtqueue_pop(n->rx_vq, sizeof(*elem));
        size_t sz;

        if (!elem) {
            break;
        }
        if (elem->out_num || !elem->in_num) {
            virtio_error(vdev, "virtio-net: receive buffer %u is not device-writable",
                         elem->index);
            virtqueue_detach_element(n->rx_vq, elem);
            g_free(elem);
            rx_unpop_all(n, count);
            return size;
        }
        sz = virtio_iov_size(elem->in_sg, elem->in_num);
        if (count == 0 && sz < n->guest_hdr_len) {
            virtio_error(vdev, "virtio-net: receive buffer %u shorter than the header",
                         elem->index);
            virtqueue_detach_element(n->rx_vq, elem);
            g_free(elem);
            return size;
        }
        n->rx_elems[count++] = elem;
        space += sz;
    }
    if (vdev->broken) {
        rx_unpop_all(n, count);
        return size;
    }
    if (space < total) {
        if (count == max_bufs) {
            /* One buffer (or the whole ring) too small for this frame: drop the frame. */
            rx_unpop_all(n, count);
            kite_log_mask(LOG_GUEST_ERROR, "virtio-net: %zu-byte frame does not fit the "
                          "receive buffers, dropped\n", len);
            return size;
        }
        /*
         * Not enough buffers yet.  Ask for a kick and look once more: buffers added before
         * notifications were on would otherwise never be announced.
         */
        virtio_queue_set_notification(n->rx_vq, true);
        if (!virtio_queue_empty(n->rx_vq)) {
            goto again;
        }
        rx_unpop_all(n, count);
        return 0;
    }
    virtio_queue_set_notification(n->rx_vq, false);

    if (n->guest_hdr_len == VIRTIO_NET_HDR_MRG_LEN) {
        hdr[10] = count & 0xff;     /* num_buffers, little-endian (5.1.6.4) */
        hdr[11] = count >> 8;
    }
    off = 0;
    for (unsigned i = 0; i < count; i++) {
        VirtQueueElement *elem = n->rx_elems[i];
        size_t sz = virtio_iov_size(elem->in_sg, elem->in_num), done = 0;

        if (i == 0) {
            done = virtio_iov_from_buf(elem->in_sg, elem->in_num, 0, hdr, n->guest_hdr_len);
        }
        done += virtio_iov_from_buf(elem->in_sg, elem->in_num, done, frame + off,
                                    MIN(sz - done, len - off));
        off += done - (i == 0 ? n->guest_hdr_len : 0);
        virtqueue_push(n->rx_vq, elem, done);
        g_free(elem);
    }
    virtio_notify(vdev, n->rx_vq);
    return size;
}

static void virtio_net_handle_rx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = vdev_net(vdev);

    /* The driver posted buffers: frames waiting in the net core can come in now. */
    virtio_queue_set_notification(vq, false);
    if (n->nc) {
        net_flush_queued_packets(n->nc);
    }
}

/* ------------------------------------------------------------------ transmit */

static void virtio_net_flush_tx(VirtIONet *n);

static void virtio_net_tx_done(NetClientState *nc, ssize_t len)
{
    VirtIONet *n = nc->opaque;

    if (!n->tx_elem) {
        return;                     /* the device was reset meanwhile */
    }
    virtqueue_push(n->tx_vq, n->tx_elem, 0);
    g_free(n->tx_elem);
    n->tx_elem = NULL;
    virtio_notify(&n->vdev, n->tx_vq);
    virtio_net_flush_tx(n);
}

/* Send one chain.  False if it now waits for the backend (kept in n->tx_elem). */
static bool virtio_net_tx_one(VirtIONet *n, VirtQueueElement *elem)
{
    uint8_t hdr[VIRTIO_NET_HDR_MRG_LEN] = { 0 };
    size_t size = virtio_iov_size(elem->out_sg, elem->out_num), skip = n->guest_hdr_len;
    unsigned cnt = 0;
    ssize_t ret;

    if (size < n->guest_hdr_len) {
        virtio_error(&n->vdev, "virtio-net: transmit chain %u shorter than the header",
                     elem->index);
        virtqueue_detach_element(n->tx_vq, elem);
        g_free(elem);
        return true;
    }
    if (n->has_vnet_hdr) {
        /* The backend gets the guest's offload request; num_buffers means nothing on tx. */
        virtio_iov_to_buf(elem->out_sg, elem->out_num, 0, hdr, VIRTIO_NET_HDR_LEN);
        n->tx_iov[cnt++] = (struct iovec) { .iov_base = hdr, .iov_len = NET_VNET_HDR_LEN };
    }
    /* The frame: the out buffers with the header bytes cut off. */
    for (unsigned i = 0; i < elem->out_num; i++) {
        struct iovec v = elem->out_sg[i];
        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        v.iov_base = (uint8_t *)v.iov_base + skip;
        v.iov_len -= skip;
        skip = 0;
        n->tx_iov[cnt++] = v;
    }
    ret = net_send_packet_iov_async(n->nc, n->tx_iov, cnt, virtio_net_tx_done);
    if (ret == 0) {
        n->tx_elem = elem;
        return false;
    }
    virtqueue_push(n->tx_vq, elem, 0);
    g_free(elem);
    return true;
}

static void virtio_net_flush_tx(VirtIONet *n)
{
    unsigned count = 0;

    if (!driver_ok(n) || n->tx_elem) {
        return;
    }
    for (;;) {
        VirtQueueElement *elem;

        virtio_queue_set_notification(n->tx_vq, false);
        while ((elem = virtqueue_pop(n->tx_vq, sizeof(*elem)))) {
            if (!virtio_net_tx_one(n, elem)) {
                /* Backpressure: notifications stay off until the sent callback. */
                if (count) {
                    virtio_notify(&n->vdev, n->tx_vq);
                }
                return;
            }
            if (++count >= VIRTIO_NET_TX_BURST) {
                virtio_notify(&n->vdev, n->tx_vq);
                kite_bh_schedule(n->tx_bh);
                return;
            }
        }
        if (n->vdev.broken) {
            return;
        }
        virtio_queue_set_notification(n->tx_vq, true);
        if (virtio_queue_empty(n->tx_vq)) {
            break;
        }
    }
    if (count) {
        virtio_notify(&n->vdev, n->tx_vq);
    }
}

static void virtio_net_tx_bh(void *opaque)
{
    virtio_net_flush_tx(opaque);
}

/*
 * A kick does not transmit in the kicking thread (a vCPU): it switches further kicks off and
 * leaves the work to a bottom half in the main loop, as QEMU's tx=bh does.  The vCPU goes
 * back to the guest at once, the backend's host I/O (slirp's TCP, tap writes) overlaps with
 * it, and the guest queues more frames without kicking until the flush has drained the ring
 * and switched notifications back on (virtio_net_flush_tx).
 */
static void virtio_net_handle_tx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = vdev_net(vdev);

    if (!driver_ok(n) || n->tx_elem) {
        return;                     /* nothing to do, or waiting for the backend's callback */
    }
    virtio_queue_set_notification(vq, false);
    kite_bh_schedule(n->tx_bh);
}

/* ------------------------------------------------------------------ control queue */

static uint8_t ctrl_rx(VirtIONet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    uint8_t on;

    if (len != 1) {
        return VIRTIO_NET_ERR;
    }
    on = data[0] ? 1 : 0;
    switch (cmd) {
    case VIRTIO_NET_CTRL_RX_PROMISC:  n->promisc = on;  break;
    case VIRTIO_NET_CTRL_RX_ALLMULTI: n->allmulti = on; break;
    case VIRTIO_NET_CTRL_RX_ALLUNI:   n->alluni = on;   break;
    case VIRTIO_NET_CTRL_RX_NOMULTI:  n->nomulti = on;  break;
    case VIRTIO_NET_CTRL_RX_NOUNI:    n->nouni = on;    break;
    case VIRTIO_NET_CTRL_RX_NOBCAST:  n->nobcast = on;  break;
    default:
        return VIRTIO_NET_ERR;
    }
    return VIRTIO_NET_OK;
}

/* One table of MAC_TABLE_SET: le32 entries, then entries * 6 bytes (5.1.6.5.2). */
static bool mac_table_parse(const uint8_t *data, size_t len, size_t *off, uint32_t *entries,
                            const uint8_t **macs)
{
    uint32_t e;

    if (len - *off < 4) {
        return false;
    }
    e = ldl_le_p(data + *off);
    *off += 4;
    if (e > (len - *off) / 6) {
        return false;
    }
    *entries = e;
    *macs = data + *off;
    *off += (size_t)e * 6;
    return true;
}

static uint8_t ctrl_mac(VirtIONet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        if (len != 6) {
            return VIRTIO_NET_ERR;
        }
        memcpy(n->mac, data, 6);
        return VIRTIO_NET_OK;
    }
    if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
        uint32_t uni, multi;
        const uint8_t *umacs, *mmacs;
        size_t off = 0;

        if (!mac_table_parse(data, len, &off, &uni, &umacs) ||
            !mac_table_parse(data, len, &off, &multi, &mmacs) || off != len) {
            return VIRTIO_NET_ERR;
        }
        /* More addresses than the table holds: accept all of that kind, as QEMU does. */
        n->uni_overflow = uni > VIRTIO_NET_MAC_TABLE_ENTRIES;
        n->mac_uni_entries = n->uni_overflow ? 0 : uni;
        memcpy(n->mac_table, umacs, n->mac_uni_entries * 6);
        n->multi_overflow = n->mac_uni_entries + multi > VIRTIO_NET_MAC_TABLE_ENTRIES;
        n->mac_multi_entries = n->multi_overflow ? 0 : multi;
        memcpy(n->mac_table + n->mac_uni_entries * 6, mmacs, n->mac_multi_entries * 6);
        return VIRTIO_NET_OK;
    }
    return VIRTIO_NET_ERR;
}

static uint8_t ctrl_vlan(VirtIONet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    uint16_t vid;

    if (len != 2) {
        return VIRTIO_NET_ERR;
    }
    vid = lduw_le_p(data);
    if (vid >= VIRTIO_NET_MAX_VLAN) {
        return VIRTIO_NET_ERR;
    }
    if (cmd == VIRTIO_NET_CTRL_VLAN_ADD) {
        n->vlans[vid >> 5] |= 1u << (vid & 31);
    } else if (cmd == VIRTIO_NET_CTRL_VLAN_DEL) {
        n->vlans[vid >> 5] &= ~(1u << (vid & 31));
    } else {
        return VIRTIO_NET_ERR;
    }
    return VIRTIO_NET_OK;
}

static void apply_offloads(VirtIONet *n)
{
    uint64_t o = n->curr_guest_offloads;

    if (!n->has_vnet_hdr) {
        return;
    }
    net_peer_set_offload(n->nc, virtio_has_feature(o, VIRTIO_NET_F_GUEST_CSUM),
                         virtio_has_feature(o, VIRTIO_NET_F_GUEST_TSO4),
                         virtio_has_feature(o, VIRTIO_NET_F_GUEST_TSO6),
                         virtio_has_feature(o, VIRTIO_NET_F_GUEST_ECN),
                         virtio_has_feature(o, VIRTIO_NET_F_GUEST_UFO));
}

static uint8_t ctrl_offloads(VirtIONet *n, uint8_t cmd, const uint8_t *data, size_t len)
{
    uint64_t o;

    if (cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || len != 8 ||
        !virtio_vdev_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) {
        return VIRTIO_NET_ERR;
    }
    o = ldq_le_p(data);
    /* Only offloads that were negotiated may be switched on (5.1.6.5.6.1). */
    if (o & ~(n->vdev.guest_features & OFFLOAD_FEATURES)) {
        return VIRTIO_NET_ERR;
    }
    n->curr_guest_offloads = o;
    apply_offloads(n);
    return VIRTIO_NET_OK;
}

static uint8_t virtio_net_ctrl_cmd(VirtIONet *n, uint8_t cls, uint8_t cmd,
                                   const uint8_t *data, size_t len)
{
    switch (cls) {
    case VIRTIO_NET_CTRL_RX:
        return ctrl_rx(n, cmd, data, len);
    case VIRTIO_NET_CTRL_MAC:
        return ctrl_mac(n, cmd, data, len);
    case VIRTIO_NET_CTRL_VLAN:
        return ctrl_vlan(n, cmd, data, len);
    case VIRTIO_NET_CTRL_ANNOUNCE:
        if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK) {
            return VIRTIO_NET_ERR;
        }
        n->status &= ~VIRTIO_NET_S_ANNOUNCE;
        return VIRTIO_NET_OK;
    case VIRTIO_NET_CTRL_MQ:
        /* One queue pair: setting one pair is the only valid request. */
        return cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && len == 2 && lduw_le_p(data) == 1
               ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
    case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
        return ctrl_offloads(n, cmd, data, len);
    default:
        return VIRTIO_NET_ERR;
    }
}

static void virtio_net_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = vdev_net(vdev);
    VirtQueueElement *elem;
    bool done = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        size_t out = virtio_iov_size(elem->out_sg, elem->out_num);
        size_t in = virtio_iov_size(elem->in_sg, elem->in_num);
        uint8_t hdr[2], status = VIRTIO_NET_ERR;

        /* 5.1.6.5: class and command readable, one writable ack byte at the end. */
        if (out < 2 || in < 1) {
            virtio_error(vdev, "virtio-net: control command %u without header or ack",
                         elem->index);
            virtqueue_detach_element(vq, elem);
            g_free(elem);
            break;
        }
        virtio_iov_to_buf(elem->out_sg, elem->out_num, 0, hdr, 2);
        if (out - 2 <= VIRTIO_NET_CTRL_MAX) {
            g_autofree uint8_t *data = g_malloc(out - 2 + 1);
            virtio_iov_to_buf(elem->out_sg, elem->out_num, 2, data, out - 2);
            status = virtio_net_ctrl_cmd(n, hdr[0], hdr[1], data, out - 2);
        }
        virtio_iov_from_buf(elem->in_sg, elem->in_num, 0, &status, 1);
        virtqueue_push(vq, elem, 1);
        g_free(elem);
        done = true;
    }
    if (done) {
        virtio_notify(vdev, vq);
        /* The filter may accept more now; frames held back are retried. */
        if (n->nc) {
            net_flush_queued_packets(n->nc);
        }
    }
}

/* ------------------------------------------------------------------ device ops */

static uint64_t virtio_net_get_features(VirtIODevice *vdev, uint64_t f)
{
    VirtIONet *n = vdev_net(vdev);

    f |= 1ull << VIRTIO_NET_F_MAC;
    if (n->prop_mrg_rxbuf) {
        f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
    }
    if (n->prop_status) {
        f |= 1ull << VIRTIO_NET_F_STATUS;
    }
    if (n->prop_ctrl_vq) {
        f |= 1ull << VIRTIO_NET_F_CTRL_VQ;
        if (n->prop_ctrl_rx) {
            f |= (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_NET_F_CTRL_RX_EXTRA);
        }
        if (n->prop_ctrl_vlan) {
            f |= 1ull << VIRTIO_NET_F_CTRL_VLAN;
        }
        if (n->prop_ctrl_mac_addr) {
            f |= 1ull << VIRTIO_NET_F_CTRL_MAC_ADDR;
        }
    }
    if (n->has_vnet_hdr) {
        /* The backend can carry the offload metadata, so offer what it can do. */
        if (n->prop_csum) {
            f |= 1ull << VIRTIO_NET_F_CSUM;
            if (n->prop_gso) {
                f |= (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                     (1ull << VIRTIO_NET_F_HOST_ECN);
            }
        }
        if (n->prop_guest_csum) {
            f |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
            if (n->prop_gso) {
                f |= (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6) |
                     (1ull << VIRTIO_NET_F_GUEST_ECN);
            }
            if (n->prop_ctrl_vq) {
                f |= 1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS;
            }
        }
    }
    return f;
}

static void virtio_net_apply_features(VirtIONet *n, uint64_t features)
{
    n->mergeable_rx = virtio_has_feature(features, VIRTIO_NET_F_MRG_RXBUF);
    n->guest_hdr_len = (n->mergeable_rx || virtio_has_feature(features, VIRTIO_F_VERSION_1))
                       ? VIRTIO_NET_HDR_MRG_LEN : VIRTIO_NET_HDR_LEN;
}

static void virtio_net_set_features(VirtIODevice *vdev, uint64_t features)
{
    VirtIONet *n = vdev_net(vdev);

    virtio_net_apply_features(n, features);
    /* Without the VLAN filter feature every VLAN passes (5.1.6.5.3). */
    memset(n->vlans, virtio_has_feature(features, VIRTIO_NET_F_CTRL_VLAN) ? 0 : 0xff,
           sizeof(n->vlans));
    n->curr_guest_offloads = features & OFFLOAD_FEATURES;
    apply_offloads(n);
}

static void virtio_net_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIONet *n = vdev_net(vdev);

    memcpy(config, n->mac, 6);
    if (vdev->config_len >= VIRTIO_NET_CONFIG_SIZE) {
        stw_le_p(config + 6, n->status);
    }
}

static void virtio_net_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIONet *n = vdev_net(vdev);

    /* Legacy drivers without CTRL_MAC_ADDR change the MAC by writing it here (5.1.4.2). */
    if (!virtio_vdev_has_feature(vdev, VIRTIO_NET_F_CTRL_MAC_ADDR) &&
        !virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        memcpy(n->mac, config, 6);
    }
}

static void virtio_net_drop_tx(VirtIONet *n)
{
    if (n->tx_elem) {
        virtqueue_detach_element(n->tx_vq, n->tx_elem);
        g_free(n->tx_elem);
        n->tx_elem = NULL;
    }
    kite_bh_cancel(n->tx_bh);
}

static void virtio_net_reset(VirtIODevice *vdev)
{
    VirtIONet *n = vdev_net(vdev);

    virtio_net_drop_tx(n);
    /* QEMU resets to promiscuous mode; drivers that filter say so through the control queue. */
    n->promisc = 1;
    n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = 0;
    n->mac_uni_entries = n->mac_multi_entries = 0;
    n->uni_overflow = n->multi_overflow = 0;
    memset(n->mac_table, 0, sizeof(n->mac_table));
    memset(n->vlans, 0, sizeof(n->vlans));
    memcpy(n->mac, n->conf.macaddr.a, 6);
    n->status = (n->nc && n->nc->link_down) ? 0 : VIRTIO_NET_S_LINK_UP;
    n->curr_guest_offloads = 0;
    virtio_net_apply_features(n, 0);
    n->saved_tx_head = UINT32_MAX;
}

static void virtio_net_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIONet *n = vdev_net(vdev);
    bool was_ok = vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;

    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !was_ok) {
        vdev->status = status;
        /* Frames that arrived before the driver was ready, and chains it queued already. */
        if (n->nc) {
            net_flush_queued_packets(n->nc);
        }
        virtio_net_flush_tx(n);
    }
}

static const VirtioDeviceOps virtio_net_ops = {
    .get_features = virtio_net_get_features,
    .set_features = virtio_net_set_features,
    .get_config = virtio_net_get_config,
    .set_config = virtio_net_set_config,
    .reset = virtio_net_reset,
    .set_status = virtio_net_set_status,
};

static void virtio_net_link_changed(NetClientState *nc)
{
    VirtIONet *n = nc->opaque;
    uint16_t old = n->status;

    if (nc->link_down) {
        n->status &= ~VIRTIO_NET_S_LINK_UP;
    } else {
        n->status |= VIRTIO_NET_S_LINK_UP;
    }
    if (n->status != old && virtio_vdev_has_feature(&n->vdev, VIRTIO_NET_F_STATUS)) {
        virtio_notify_config(&n->vdev);
    }
}

static const NetClientInfo virtio_net_info = {
    .type = NET_CLIENT_NIC,
    .can_receive = virtio_net_can_receive,
    .receive = virtio_net_receive,
    .link_status_changed = virtio_net_link_changed,
};

static bool queue_size_valid(uint16_t s)
{
    return s >= 8 && s <= VIRTQUEUE_MAX_SIZE && !(s & (s - 1));
}

void virtio_net_realize(VirtIONet *n, const char *id, Error **errp)
{
    if (!queue_size_valid(n->rx_queue_size) || !queue_size_valid(n->tx_queue_size)) {
        error_setg(errp, "virtio-net: rx_queue_size and tx_queue_size must be powers of 2 "
                   "between 8 and %d", VIRTQUEUE_MAX_SIZE);
        return;
    }
    n->nc = net_nic_new(&virtio_net_info, &n->conf, "virtio-net-pci", id, n, errp);
    if (!n->nc) {
        return;
    }
    n->has_vnet_hdr = net_peer_has_vnet_hdr(n->nc);
    if (n->has_vnet_hdr) {
        net_peer_using_vnet_hdr(n->nc, true);
    }
    /*
     * The configuration space ends with the last field an offered feature gives meaning
     * (virtio 1.2 5.1.4): mac always, status with VIRTIO_NET_F_STATUS.  No MQ, MTU or
     * SPEED_DUPLEX is offered, so as in QEMU the legacy I/O BAR (24-byte header with
     * MSI-X + 8) is 32 bytes.
     */
    virtio_init(&n->vdev, "virtio-net", VIRTIO_ID_NET, &virtio_net_ops,
                n->prop_status ? VIRTIO_NET_CONFIG_SIZE : 6);
    n->rx_vq = virtio_add_queue(&n->vdev, n->rx_queue_size, virtio_net_handle_rx);
    n->tx_vq = virtio_add_queue(&n->vdev, n->tx_queue_size, virtio_net_handle_tx);
    if (n->prop_ctrl_vq) {
        n->ctrl_vq = virtio_add_queue(&n->vdev, 64, virtio_net_handle_ctrl);
    }
    n->tx_bh = kite_bh_new(virtio_net_tx_bh, n);
    n->tx_iov = g_new(struct iovec, VIRTQUEUE_MAX_SIZE + 1);
    n->rx_elems = g_new(VirtQueueElement *, VIRTQUEUE_MAX_SIZE);
    virtio_net_reset(&n->vdev);
}

void virtio_net_unrealize(VirtIONet *n)
{
    virtio_net_drop_tx(n);
    if (n->nc) {
        net_peer_using_vnet_hdr(n->nc, false);
    }
    net_client_free(n->nc);
    n->nc = NULL;
    kite_bh_delete(n->tx_bh);
    n->tx_bh = NULL;
    g_free(n->tx_iov);
    n->tx_iov = NULL;
    g_free(n->rx_elems);
    n->rx_elems = NULL;
    virtio_cleanup(&n->vdev);
}

/* ------------------------------------------------------------------ vmstate */

static int virtio_net_pre_save(void *opaque)
{
    VirtIONet *n = opaque;
    n->saved_tx_head = n->tx_elem ? n->tx_elem->index : UINT32_MAX;
    return 0;
}

static int virtio_net_post_load(void *opaque, int version_id)
{
    VirtIONet *n = opaque;

    if (n->mac_uni_entries + n->mac_multi_entries > VIRTIO_NET_MAC_TABLE_ENTRIES) {
        return -EINVAL;
    }
    virtio_net_apply_features(n, n->vdev.guest_features);
    if (n->saved_tx_head != UINT32_MAX) {
        /*
         * A chain the source handed to its backend: the frame left with the old host, so
         * complete the chain here.
         */
        VirtQueueElement *elem = virtqueue_pop_head(n->tx_vq, n->saved_tx_head, sizeof(*elem));
        if (!elem) {
            return -EINVAL;
        }
        virtqueue_push(n->tx_vq, elem, 0);
        g_free(elem);
        n->saved_tx_head = UINT32_MAX;
    }
    apply_offloads(n);
    return 0;
}

const VMStateDescription vmstate_virtio_net = {
    .name = "virtio-net", .version_id = 1, .minimum_version_id = 1,
    .pre_save = virtio_net_pre_save,
    .post_load = virtio_net_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(vdev, VirtIONet, vmstate_virtio, VirtIODevice),
        VMSTATE_UINT8_ARRAY(mac, VirtIONet, 6),
        VMSTATE_UINT16(status, VirtIONet),
        VMSTATE_UINT8(promisc, VirtIONet),
        VMSTATE_UINT8(allmulti, VirtIONet),
        VMSTATE_UINT8(alluni, VirtIONet),
        VMSTATE_UINT8(nomulti, VirtIONet),
        VMSTATE_UINT8(nouni, VirtIONet),
        VMSTATE_UINT8(nobcast, VirtIONet),
        VMSTATE_UINT32(mac_uni_entries, VirtIONet),
        VMSTATE_UINT32(mac_multi_entries, VirtIONet),
        VMSTATE_UINT8(uni_overflow, VirtIONet),
        VMSTATE_UINT8(multi_overflow, VirtIONet),
        VMSTATE_UINT8_ARRAY(mac_table, VirtIONet, VIRTIO_NET_MAC_TABLE_ENTRIES * 6),
        VMSTATE_UINT32_ARRAY(vlans, VirtIONet, VIRTIO_NET_MAX_VLAN / 32),
        VMSTATE_UINT64(curr_guest_offloads, VirtIONet),
        VMSTATE_UINT32(saved_tx_head, VirtIONet),
        VMSTATE_END_OF_LIST()
    },
};
