/*
 * virtio network device (virtio 1.2 section 5.1): receive queue 0, transmit queue 1, control
 * queue 2.  Transport-independent: virtio-net-pci embeds a VirtIONet, sets its NICConf
 * properties and calls virtio_net_realize/unrealize.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_NET_H
#define HW_VIRTIO_VIRTIO_NET_H

#include "hw/virtio/virtio.h"
#include "net/net.h"

#define VIRTIO_ID_NET               1

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_ECN      9
#define VIRTIO_NET_F_GUEST_UFO      10
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_HOST_UFO       14
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_F_CTRL_RX        18
#define VIRTIO_NET_F_CTRL_VLAN      19
#define VIRTIO_NET_F_CTRL_RX_EXTRA  20
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ             22
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23

/* Config status (5.1.4). */
#define VIRTIO_NET_S_LINK_UP        1
#define VIRTIO_NET_S_ANNOUNCE       2

/* struct virtio_net_hdr (5.1.6): 10 bytes, 12 with num_buffers. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_LEN          10
#define VIRTIO_NET_HDR_MRG_LEN      12

#define VIRTIO_NET_MAC_TABLE_ENTRIES 64
#define VIRTIO_NET_MAX_VLAN         4096
#define VIRTIO_NET_CONFIG_SIZE      8      /* mac, status (no MQ offered) */

typedef struct KiteBH KiteBH;

typedef struct VirtIONet {
    VirtIODevice vdev;
    VirtQueue *rx_vq, *tx_vq, *ctrl_vq;
    NICConf conf;
    NetClientState *nc;
    /* properties (QEMU's names) */
    bool prop_mrg_rxbuf, prop_status, prop_ctrl_vq, prop_ctrl_rx, prop_ctrl_vlan;
    bool prop_ctrl_mac_addr, prop_csum, prop_guest_csum, prop_gso;
    uint16_t rx_queue_size, tx_queue_size;

    /* guest-visible state */
    uint8_t mac[6];             /* config space MAC (MAC_ADDR_SET can change it) */
    uint16_t status;            /* config status: LINK_UP, ANNOUNCE */
    uint8_t promisc, allmulti, alluni, nomulti, nouni, nobcast;
    uint32_t mac_uni_entries, mac_multi_entries;
    uint8_t uni_overflow, multi_overflow;
    uint8_t mac_table[VIRTIO_NET_MAC_TABLE_ENTRIES * 6]; /* unicast first, then multicast */
    uint32_t vlans[VIRTIO_NET_MAX_VLAN / 32];
    uint64_t curr_guest_offloads;

    /* derived from features */
    uint32_t guest_hdr_len;     /* 10, or 12 with MRG_RXBUF or VERSION_1 */
    bool mergeable_rx;
    bool has_vnet_hdr;          /* the backend passes virtio-net headers (tap vnet_hdr=on) */

    /* transmit */
    VirtQueueElement *tx_elem;  /* sent, waiting for the backend's sent callback */
    uint32_t saved_tx_head;     /* vmstate: head of tx_elem, or UINT32_MAX */
    KiteBH *tx_bh;              /* continue a long transmit burst */
    struct iovec *tx_iov;       /* scratch, VIRTQUEUE_MAX_SIZE + 1 entries */
    VirtQueueElement **rx_elems;/* scratch for one mergeable frame */
} VirtIONet;

/* id names the NIC client (the -device id, may be NULL). */
void virtio_net_realize(VirtIONet *n, const char *id, Error **errp);
void virtio_net_unrealize(VirtIONet *n);

/* For tests: the receive filter (5.1.6.5) applied to a frame (without header). */
bool virtio_net_receive_filter(VirtIONet *n, const uint8_t *frame, size_t len);

extern const VMStateDescription vmstate_virtio_net;

#endif
