/*
 * Networking core: network clients, peers, packet queues, NIC configuration, -netdev/-nic.
 *
 * Model (QEMU's): every endpoint is a NetClientState.  A NIC frontend (e1000, virtio-net) and a
 * backend (user, socket, tap) are *peers*: what one sends the other receives.  The net core and
 * the NICs run under the BQL.  A backend's fd handlers run in the main loop, or with
 * iothread=ID (tap, socket) in that iothread: there they do their host I/O without the BQL
 * and take it to hand frames to the core (see "backends in an iothread" below).
 *
 * Writing a NIC (the whole recipe):
 *
 *     typedef struct MyNIC {
 *         PCIDevice parent;
 *         NICConf conf;               // "mac" and "netdev" properties
 *         NetClientState *nc;
 *         ...
 *     } MyNIC;
 *
 *     static bool mynic_can_receive(NetClientState *nc) { MyNIC *s = nc->opaque; ...room? }
 *     static ssize_t mynic_receive(NetClientState *nc, const uint8_t *buf, size_t len)
 *     {
 *         // Return len when the frame was consumed (also when the NIC filtered or dropped it
 *         // on purpose), 0 when it cannot be taken now: the core queues it and delivers it
 *         // again after the NIC calls net_flush_queued_packets(nc).
 *     }
 *     static void mynic_link_changed(NetClientState *nc) { ...nc->link_down...; raise LSC }
 *     static const NetClientInfo mynic_info = {
 *         .type = NET_CLIENT_NIC, .can_receive = mynic_can_receive,
 *         .receive = mynic_receive, .link_status_changed = mynic_link_changed,
 *     };
 *     static const Property mynic_props[] = {
 *         DEFINE_NIC_PROPERTIES(MyNIC, conf),
 *         DEFINE_PROP_END_OF_LIST(),
 *     };
 *     realize:   s->nc = net_nic_new(&mynic_info, &s->conf, "mynic", DEVICE(s)->id, s, errp);
 *                (assigns a default MAC 52:54:00:12:34:56+n if mac= was not given; the MAC is
 *                 then in s->conf.macaddr.a[0..5])
 *     unrealize: net_client_free(s->nc); s->nc = NULL;
 *     transmit:  net_send_packet(s->nc, frame, len);             // fire and forget
 *           or   if (net_send_packet_async(s->nc, frame, len, mynic_tx_done) == 0) {
 *                    stop taking tx descriptors until mynic_tx_done(nc, len) is called
 *                }
 *     rx room again (guest gave buffers, RX enabled): net_flush_queued_packets(s->nc);
 *
 * A NIC without a netdev= is fine: it transmits into the void and never receives.  While the
 * VM is not running a NIC does not receive (frames wait in its queue, bounded) and the queue is
 * flushed when the VM resumes, so a stopped VM loses nothing a backend already handed over.
 *
 * Backpressure: each client has an incoming queue of at most NET_QUEUE_MAX_PACKETS frames.
 * A frame is queued (and the send returns 0) when the receiver's can_receive() is false, its
 * receive() returned 0, or frames are already waiting.  A frame sent without a callback into a
 * full queue is dropped.  A frame sent with a callback is always queued (the sender promised to
 * stop until the callback: that bounds the queue by one frame per sender).  The callback runs
 * when the frame was delivered or dropped by a purge.
 *
 * Backends: net_client_new() with a backend NetClientInfo, peer found later by the NIC; a
 * backend reading from a host fd sends with net_send_packet_async() and stops polling its fd
 * until the sent callback when the send returned 0.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef NET_NET_H
#define NET_NET_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/object.h"
#include "kite/opts.h"
#include "kite/property.h"
#include "kite/main-loop.h"
#include <sys/uio.h>

/* Frames larger than this (a 64 KiB GSO frame plus a virtio-net header) are refused. */
#define NET_MAX_FRAME         (65536 + 64)
/* Bound on frames waiting in one client's incoming queue. */
#define NET_QUEUE_MAX_PACKETS 512

typedef enum NetClientType {
    NET_CLIENT_NIC,
    NET_CLIENT_USER,
    NET_CLIENT_SOCKET,
    NET_CLIENT_TAP,
    NET_CLIENT_OTHER,          /* tests */
} NetClientType;

typedef struct NetClientState NetClientState;
typedef struct NetQueue NetQueue;

typedef struct MACAddr {
    uint8_t a[6];
} MACAddr;

/* A queued frame sent by `sender` was delivered (len > 0) or dropped (len 0). */
typedef void NetPacketSent(NetClientState *sender, ssize_t len);

typedef struct NetClientInfo {
    NetClientType type;
    /* May the client take a frame now?  NULL: always. */
    bool (*can_receive)(NetClientState *nc);
    /* One frame: return its length if taken (or deliberately dropped), 0 to have it queued. */
    ssize_t (*receive)(NetClientState *nc, const uint8_t *buf, size_t len);
    /* Optional scatter/gather form, preferred when present; same return convention. */
    ssize_t (*receive_iov)(NetClientState *nc, const struct iovec *iov, int iovcnt);
    /* nc->link_down changed (set_link, or the peer's link). */
    void (*link_status_changed)(NetClientState *nc);
    /*
     * Backends: can the client put a virtio-net header (NET_VNET_HDR_LEN bytes, struct
     * virtio_net_hdr_mrg_rxbuf) in front of every frame (tap vnet_hdr=on)?  Frames carry it
     * only after the NIC called net_peer_using_vnet_hdr(nc, true); NICs that never do (e1000)
     * exchange plain Ethernet frames with such a backend.
     */
    bool (*has_vnet_hdr)(NetClientState *nc);
    void (*using_vnet_hdr)(NetClientState *nc, bool enable);
    /* Which offloads the guest accepts in received frames (TUNSETOFFLOAD). */
    void (*set_offload)(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn,
                        bool ufo);
    /* Free the backend's private state (nc->opaque); nc itself is freed by the core. */
    void (*cleanup)(NetClientState *nc);
} NetClientInfo;

struct NetClientState {
    const NetClientInfo *info;
    NetClientState *peer;
    char *model;               /* "user", "tap", "e1000", ... */
    char *name;                /* netdev id, or the NIC's device id / "model.N" */
    char info_str[256];        /* one-line description (info network) */
    void *opaque;              /* the owner's state */
    bool link_down;
    bool receive_disabled;     /* receive() returned 0: deliver nothing until a flush */
    bool is_netdev;            /* created by -netdev / netdev_add (found by id) */
    Object *claimed_by;        /* the device whose netdev= property names this backend */
    NetClientState **claim_field;  /* internal: that property's field, cleared on free */
    MACAddr *macaddr;          /* NICs: the device's conf.macaddr */
    NetQueue *incoming;        /* internal: frames waiting for this client */
    int mac_index;             /* internal: default MAC index taken, or -1 */
};

/* --- MAC addresses and the NIC properties --- */

typedef struct NICConf {
    MACAddr macaddr;           /* all zero until set or defaulted */
    NetClientState *peer;      /* the backend named by netdev=, or NULL */
} NICConf;

extern const PropertyInfo prop_info_macaddr;
extern const PropertyInfo prop_info_netdev;
#define DEFINE_PROP_MACADDR(n, S, f) \
    DEFINE_PROP_FIELD_(n, S, f, MACAddr, prop_info_macaddr)
#define DEFINE_PROP_NETDEV(n, S, f) \
    DEFINE_PROP_FIELD_(n, S, f, NetClientState *, prop_info_netdev)
#define DEFINE_NIC_PROPERTIES(S, conf) \
    DEFINE_PROP_MACADDR("mac", S, conf.macaddr), \
    DEFINE_PROP_NETDEV("netdev", S, conf.peer)

/* "52:54:00:12:34:56" (also accepts '-' separators); false on bad text. */
bool net_parse_macaddr(MACAddr *mac, const char *text);
char *net_format_macaddr(const MACAddr *mac);   /* g_free it */
bool net_macaddr_is_zero(const MACAddr *mac);
bool net_macaddr_is_multicast(const uint8_t *mac);
bool net_macaddr_is_broadcast(const uint8_t *mac);

/* --- clients --- */

/*
 * A new client.  peer may be NULL (linked later).  name NULL picks "model.N".  opaque is the
 * owner's state, available as nc->opaque.  Never fails.
 */
NetClientState *net_client_new(const NetClientInfo *info, NetClientState *peer,
                               const char *model, const char *name, void *opaque);
/*
 * A NIC frontend on conf->peer (the netdev= backend, may be NULL).  Gives conf->macaddr the
 * default 52:54:00:12:34:56+n if it is unset.  Fails if the backend already has a peer.
 */
NetClientState *net_nic_new(const NetClientInfo *info, NICConf *conf, const char *model,
                            const char *id, void *opaque, Error **errp);
/*
 * Unlink from the peer, drop queued frames (calling their sent callbacks with 0), call
 * info->cleanup, free.  Freeing a NIC gives back its default MAC; freeing a backend leaves
 * the NIC unconnected.  NULL is ignored.
 */
void net_client_free(NetClientState *nc);
void net_client_set_peer(NetClientState *a, NetClientState *b);   /* link two clients */
/* A -netdev backend by id, or NULL. */
NetClientState *net_find_netdev(const char *id);
/* Any client by name (NICs and backends), or NULL. */
NetClientState *net_find_client(const char *name);
/* Visit every client in creation order; stops at the first non-zero return. */
int net_client_foreach(int (*fn)(NetClientState *nc, void *opaque), void *opaque);
#define NET_VNET_HDR_LEN 12
bool net_peer_has_vnet_hdr(NetClientState *nc);
void net_peer_using_vnet_hdr(NetClientState *nc, bool enable);
void net_peer_set_offload(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn,
                          bool ufo);

/* --- sending --- */

/*
 * Send a frame from sender to its peer.  Returns len if delivered (or dropped because there
 * is no peer or the link is down), 0 if it was queued (or dropped on a full queue without a
 * callback).  The frame is copied when queued; the caller keeps its buffer.
 */
ssize_t net_send_packet(NetClientState *sender, const uint8_t *buf, size_t len);
ssize_t net_send_packet_async(NetClientState *sender, const uint8_t *buf, size_t len,
                              NetPacketSent *sent_cb);
ssize_t net_send_packet_iov_async(NetClientState *sender, const struct iovec *iov, int iovcnt,
                                  NetPacketSent *sent_cb);
/* Would a frame sent now be delivered at once (peer present, able, nothing queued)? */
bool net_can_send_packet(NetClientState *sender);
/*
 * nc can receive again: deliver what waits in its incoming queue, in order, until the queue is
 * empty or nc refuses again.  Safe to call from inside nc's own callbacks (deferred then).
 */
void net_flush_queued_packets(NetClientState *nc);
/* Drop every frame queued for nc (their sent callbacks run with 0). */
void net_purge_queued_packets(NetClientState *nc);
unsigned net_queue_length(NetClientState *nc);     /* frames waiting for nc */

/* --- link status (QMP set_link) --- */

/*
 * Set the link of the client named name (a netdev id or NIC id).  Like QEMU, setting a
 * backend's link also sets the link of its NIC peer, so the guest sees the cable pulled.
 */
bool net_set_link(const char *name, bool up, Error **errp);
void net_client_set_link(NetClientState *nc, bool up);

/* --- backends in an iothread --- */

/*
 * The context a backend's fd handlers run in: with iothread=ID in opts (marked used) that
 * iothread's, and *iothread holds a reference on it (net_backend_context_release drops it);
 * otherwise the main context and *iothread is NULL.  False with errp set for an unknown id.
 * Handlers on an iothread context run without the BQL: they take it (bql_lock) around every
 * call into the net core, and the backend's state they share with the NIC side (which runs
 * under the BQL) is touched only under it.
 */
bool net_backend_context(KiteOpts *opts, KiteContext **ctx, Object **iothread, Error **errp);
/*
 * For cleanup: after removing its fd handlers, wait until ctx's thread has left any handler it
 * was running (one may be waiting for the BQL, which is dropped meanwhile if held), then drop
 * the iothread reference.  Nothing to wait for on the main context.
 */
void net_backend_context_release(KiteContext *ctx, Object *iothread);

/* --- -netdev / -nic / netdev_add --- */

/* A backend type: parses its options (kite_opts_get marks them used) and creates the client. */
typedef NetClientState *NetdevInitFunc(KiteOpts *opts, const char *id, Error **errp);
void netdev_register_backend(const char *type, NetdevInitFunc *init);
/*
 * -netdev TYPE,id=ID,...: the implied key is "type".  Unknown keys, duplicate ids, unknown
 * types fail with an error naming them.
 */
NetClientState *netdev_add_from_opts(KiteOpts *opts, Error **errp);
NetClientState *netdev_add_from_string(const char *optstr, Error **errp);
/* netdev_del: fails if the id is unknown; a NIC using it is left unconnected (as QEMU). */
bool netdev_del(const char *id, Error **errp);
void netdev_print_backends(FILE *f);
/*
 * -nic TYPE[,model=M][,mac=MAC][,id=ID][,netdev options]: a netdev with a generated id and the
 * -device string for its NIC ("M,netdev=...,mac=..."; model defaults to e1000).  "-nic none"
 * returns true with *device_str NULL.  The caller creates the device.
 */
bool net_nic_option(const char *optstr, char **device_str, Error **errp);
/* Free every client (exit). */
void net_cleanup(void);

#endif
