/*
 * Networking core: clients and peers, bounded incoming queues with sent callbacks, link
 * status, MAC addresses and the NIC properties, -netdev/-nic parsing.
 *
 * The queue lives with the receiver (as in QEMU): a frame that the receiver cannot take now is
 * copied into its incoming queue and delivered in order by net_flush_queued_packets(), which
 * the receiver calls when it has room again.  The sender learns about delivery through its
 * sent callback, which is how backends reading host fds stop and restart reading.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "net/net.h"
#include "kite/iov.h"
#include "kite/runstate.h"
#include "kite/iothread.h"
#include "kite/thread.h"

typedef struct NetPacket {
    NetClientState *sender;        /* NULL once the sender is gone */
    NetPacketSent *sent_cb;
    size_t len;
    uint8_t data[];
} NetPacket;

struct NetQueue {
    GQueue packets;                /* of NetPacket * */
    bool flushing;                 /* inside net_flush_queued_packets for this client */
    bool flush_again;              /* a flush was requested while flushing */
};

static GList *clients;             /* of NetClientState *, creation order */
static void *vm_change_entry;
static bool mac_used[256];          /* last byte of 52:54:00:12:34:xx in use */
static unsigned nic_counter;

/* ------------------------------------------------------------------ MAC addresses */

bool net_parse_macaddr(MACAddr *mac, const char *text)
{
    MACAddr m;
    const char *p = text;

    for (int i = 0; i < 6; i++) {
        int hi, lo;
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1])) {
            return false;
        }
        hi = g_ascii_xdigit_value(p[0]);
        lo = g_ascii_xdigit_value(p[1]);
        m.a[i] = hi << 4 | lo;
        p += 2;
        if (i < 5) {
            if (*p != ':' && *p != '-') {
                return false;
            }
            p++;
        }
    }
    if (*p) {
        return false;
    }
    *mac = m;
    return true;
}

char *net_format_macaddr(const MACAddr *mac)
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac->a[0], mac->a[1], mac->a[2],
                           mac->a[3], mac->a[4], mac->a[5]);
}

bool net_macaddr_is_zero(const MACAddr *mac)
{
    static const MACAddr zero;
    return !memcmp(mac, &zero, sizeof(zero));
}

bool net_macaddr_is_multicast(const uint8_t *mac)
{
    return mac[0] & 1;
}

bool net_macaddr_is_broadcast(const uint8_t *mac)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    return !memcmp(mac, bcast, 6);
}

static bool mac_is_default_range(const MACAddr *mac)
{
    static const uint8_t prefix[5] = { 0x52, 0x54, 0x00, 0x12, 0x34 };
    return !memcmp(mac->a, prefix, 5);
}

/*
 * QEMU's default: 52:54:00:12:34:56 for the first NIC without mac=, then :57 and so on,
 * skipping addresses that NICs with an explicit mac= in the same range took.
 */
static int macaddr_default_if_unset(MACAddr *mac)
{
    if (!net_macaddr_is_zero(mac)) {
        if (mac_is_default_range(mac) && !mac_used[mac->a[5]]) {
            mac_used[mac->a[5]] = true;
            return mac->a[5];
        }
        return -1;
    }
    for (int i = 0x56; i < 0xff; i++) {
        if (!mac_used[i]) {
            static const uint8_t prefix[5] = { 0x52, 0x54, 0x00, 0x12, 0x34 };
            memcpy(mac->a, prefix, 5);
            mac->a[5] = i;
            mac_used[i] = true;
            return i;
        }
    }
    /* 169 NICs without mac=: keep going with the last address rather than fail. */
    const uint8_t fallback[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0xff };
    memcpy(mac->a, fallback, 6);
    return -1;
}

/* ------------------------------------------------------------------ properties */

static bool macaddr_prop_parse(Object *obj, const Property *prop, void *field, const char *text,
                               Error **errp)
{
    MACAddr mac;

    if (!net_parse_macaddr(&mac, text)) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'",
                   object_get_typename(obj), prop->name, text);
        return false;
    }
    if (net_macaddr_is_multicast(mac.a)) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s': a multicast address",
                   object_get_typename(obj), prop->name, text);
        return false;
    }
    *(MACAddr *)field = mac;
    return true;
}

static char *macaddr_prop_print(Object *obj, const Property *prop, void *field)
{
    return net_format_macaddr(field);
}

const PropertyInfo prop_info_macaddr = {
    .type = "str", .description = "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56",
    .parse = macaddr_prop_parse, .print = macaddr_prop_print,
};

static bool netdev_prop_parse(Object *obj, const Property *prop, void *field, const char *text,
                              Error **errp)
{
    NetClientState **pnc = field;
    NetClientState *nc = NULL;

    if (*text) {
        nc = net_find_netdev(text);
        if (!nc) {
            error_setg(errp, "Property '%s.%s' can't find value '%s'",
                       object_get_typename(obj), prop->name, text);
            return false;
        }
        if (nc != *pnc && (nc->peer || (nc->claimed_by && nc->claimed_by != obj))) {
            error_setg(errp, "Property '%s.%s' can't take value '%s', it's in use",
                       object_get_typename(obj), prop->name, text);
            return false;
        }
    }
    if (*pnc && (*pnc)->claimed_by == obj) {
        (*pnc)->claimed_by = NULL;
        (*pnc)->claim_field = NULL;
    }
    if (nc) {
        nc->claimed_by = obj;
        nc->claim_field = pnc;
    }
    *pnc = nc;
    return true;
}

static char *netdev_prop_print(Object *obj, const Property *prop, void *field)
{
    NetClientState *nc = *(NetClientState **)field;
    return g_strdup(nc ? nc->name : "");
}

static void netdev_prop_release(Object *obj, const Property *prop, void *field)
{
    NetClientState **pnc = field;

    if (*pnc && (*pnc)->claimed_by == obj) {
        (*pnc)->claimed_by = NULL;
        (*pnc)->claim_field = NULL;
    }
    *pnc = NULL;
}

const PropertyInfo prop_info_netdev = {
    .type = "str", .description = "ID of a netdev to use as a backend",
    .parse = netdev_prop_parse, .print = netdev_prop_print, .release = netdev_prop_release,
};

/* ------------------------------------------------------------------ clients */

static void vm_change(void *opaque, bool running, RunState state)
{
    if (!running) {
        return;
    }
    /* NICs held frames while the VM was stopped; hand them over now. */
    for (GList *l = clients; l; l = l->next) {
        NetClientState *nc = l->data;
        if (nc->info->type == NET_CLIENT_NIC) {
            net_flush_queued_packets(nc);
        }
    }
}

NetClientState *net_client_new(const NetClientInfo *info, NetClientState *peer,
                               const char *model, const char *name, void *opaque)
{
    NetClientState *nc = g_new0(NetClientState, 1);

    nc->info = info;
    nc->model = g_strdup(model);
    nc->name = name ? g_strdup(name) : g_strdup_printf("%s.%u", model, nic_counter++);
    nc->opaque = opaque;
    nc->mac_index = -1;
    nc->incoming = g_new0(NetQueue, 1);
    g_queue_init(&nc->incoming->packets);
    snprintf(nc->info_str, sizeof(nc->info_str), "model=%s", model);
    if (peer) {
        net_client_set_peer(nc, peer);
    }
    clients = g_list_append(clients, nc);
    if (!vm_change_entry) {
        vm_change_entry = vm_state_change_add(vm_change, NULL);
    }
    return nc;
}

void net_client_set_peer(NetClientState *a, NetClientState *b)
{
    g_assert(!a->peer && !b->peer && a != b);
    a->peer = b;
    b->peer = a;
}

NetClientState *net_nic_new(const NetClientInfo *info, NICConf *conf, const char *model,
                            const char *id, void *opaque, Error **errp)
{
    NetClientState *nc;
    int idx;

    if (conf->peer && conf->peer->peer) {
        error_setg(errp, "netdev '%s' is already connected to '%s'", conf->peer->name,
                   conf->peer->peer->name);
        return NULL;
    }
    idx = macaddr_default_if_unset(&conf->macaddr);
    nc = net_client_new(info, conf->peer, model, id, opaque);
    nc->mac_index = idx;
    nc->macaddr = &conf->macaddr;
    {
        g_autofree char *m = net_format_macaddr(&conf->macaddr);
        snprintf(nc->info_str, sizeof(nc->info_str), "model=%s,macaddr=%s", model, m);
    }
    return nc;
}

static void packet_free_with_cb(NetPacket *p, ssize_t ret)
{
    if (p->sent_cb && p->sender) {
        p->sent_cb(p->sender, ret);
    }
    g_free(p);
}

void net_purge_queued_packets(NetClientState *nc)
{
    NetPacket *p;

    if (!nc) {
        return;
    }
    while ((p = g_queue_pop_head(&nc->incoming->packets))) {
        packet_free_with_cb(p, 0);
    }
}

unsigned net_queue_length(NetClientState *nc)
{
    return nc ? g_queue_get_length(&nc->incoming->packets) : 0;
}

void net_client_free(NetClientState *nc)
{
    if (!nc) {
        return;
    }
    clients = g_list_remove(clients, nc);
    if (nc->peer) {
        NetClientState *peer = nc->peer;
        /* Frames nc sent that wait in the peer's queue: no one to call back any more. */
        for (GList *l = peer->incoming->packets.head; l; l = l->next) {
            NetPacket *p = l->data;
            if (p->sender == nc) {
                p->sender = NULL;
            }
        }
        peer->peer = NULL;
        nc->peer = NULL;
    }
    if (nc->claim_field) {
        *nc->claim_field = NULL;     /* the device's netdev= no longer names anything */
    }
    net_purge_queued_packets(nc);
    if (nc->info->cleanup) {
        nc->info->cleanup(nc);
    }
    if (nc->mac_index >= 0) {
        mac_used[nc->mac_index] = false;
    }
    g_free(nc->incoming);
    g_free(nc->model);
    g_free(nc->name);
    g_free(nc);
    if (!clients && vm_change_entry) {
        vm_state_change_del(vm_change_entry);
        vm_change_entry = NULL;
    }
}

NetClientState *net_find_netdev(const char *id)
{
    for (GList *l = clients; l; l = l->next) {
        NetClientState *nc = l->data;
        if (nc->is_netdev && !strcmp(nc->name, id)) {
            return nc;
        }
    }
    return NULL;
}

NetClientState *net_find_client(const char *name)
{
    for (GList *l = clients; l; l = l->next) {
        NetClientState *nc = l->data;
        if (!strcmp(nc->name, name)) {
            return nc;
        }
    }
    return NULL;
}

int net_client_foreach(int (*fn)(NetClientState *nc, void *opaque), void *opaque)
{
    for (GList *l = clients; l; l = l->next) {
        int r = fn(l->data, opaque);
        if (r) {
            return r;
        }
    }
    return 0;
}

bool net_peer_has_vnet_hdr(NetClientState *nc)
{
    NetClientState *p = nc ? nc->peer : NULL;
    return p && p->info->has_vnet_hdr && p->info->has_vnet_hdr(p);
}

void net_peer_using_vnet_hdr(NetClientState *nc, bool enable)
{
    NetClientState *p = nc ? nc->peer : NULL;
    if (p && p->info->using_vnet_hdr) {
        p->info->using_vnet_hdr(p, enable);
    }
}

void net_peer_set_offload(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn,
                          bool ufo)
{
    NetClientState *p = nc ? nc->peer : NULL;
    if (p && p->info->set_offload) {
        p->info->set_offload(p, csum, tso4, tso6, ecn, ufo);
    }
}

/* ------------------------------------------------------------------ sending */

static bool receiver_ready(NetClientState *r)
{
    if (r->receive_disabled) {
        return false;
    }
    /* A stopped VM takes no frames: they wait (bounded) until it runs again. */
    if (r->info->type == NET_CLIENT_NIC && !runstate_is_running()) {
        return false;
    }
    return !r->info->can_receive || r->info->can_receive(r);
}

static ssize_t deliver(NetClientState *r, const struct iovec *iov, int iovcnt, size_t len)
{
    if (r->info->receive_iov) {
        return r->info->receive_iov(r, iov, iovcnt);
    }
    if (!r->info->receive) {
        return len;
    }
    if (iovcnt == 1) {
        return r->info->receive(r, iov[0].iov_base, len);
    }
    g_autofree uint8_t *flat = g_malloc(len ? len : 1);
    iov_to_buf(iov, iovcnt, 0, flat, len);
    return r->info->receive(r, flat, len);
}

static void enqueue(NetClientState *r, NetClientState *sender, const struct iovec *iov,
                    int iovcnt, size_t len, NetPacketSent *sent_cb)
{
    NetPacket *p;

    if (g_queue_get_length(&r->incoming->packets) >= NET_QUEUE_MAX_PACKETS && !sent_cb) {
        return;   /* full: a sender that did not ask to be called back loses the frame */
    }
    p = g_malloc(sizeof(*p) + len);
    p->sender = sender;
    p->sent_cb = sent_cb;
    p->len = len;
    iov_to_buf(iov, iovcnt, 0, p->data, len);
    g_queue_push_tail(&r->incoming->packets, p);
}

ssize_t net_send_packet_iov_async(NetClientState *sender, const struct iovec *iov, int iovcnt,
                                  NetPacketSent *sent_cb)
{
    size_t len = iov_size(iov, iovcnt);
    NetClientState *r = sender->peer;
    ssize_t ret;

    if (!r || sender->link_down || r->link_down || len > NET_MAX_FRAME) {
        return len;   /* into the void, as a cable to nowhere */
    }
    if (r->incoming->flushing || !g_queue_is_empty(&r->incoming->packets) ||
        !receiver_ready(r)) {
        enqueue(r, sender, iov, iovcnt, len, sent_cb);
        return 0;
    }
    ret = deliver(r, iov, iovcnt, len);
    if (ret == 0) {
        r->receive_disabled = true;
        enqueue(r, sender, iov, iovcnt, len, sent_cb);
        return 0;
    }
    return ret > 0 ? ret : (ssize_t)len;
}

ssize_t net_send_packet_async(NetClientState *sender, const uint8_t *buf, size_t len,
                              NetPacketSent *sent_cb)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    return net_send_packet_iov_async(sender, &iov, 1, sent_cb);
}

ssize_t net_send_packet(NetClientState *sender, const uint8_t *buf, size_t len)
{
    return net_send_packet_async(sender, buf, len, NULL);
}

bool net_can_send_packet(NetClientState *sender)
{
    NetClientState *r = sender->peer;

    if (!r) {
        return true;
    }
    return !r->incoming->flushing && g_queue_is_empty(&r->incoming->packets) &&
           receiver_ready(r);
}

void net_flush_queued_packets(NetClientState *nc)
{
    NetQueue *q = nc->incoming;

    if (q->flushing) {
        q->flush_again = true;
        return;
    }
    nc->receive_disabled = false;
    q->flushing = true;
    do {
        q->flush_again = false;
        while (!g_queue_is_empty(&q->packets)) {
            NetPacket *p = g_queue_peek_head(&q->packets);
            struct iovec iov = { .iov_base = p->data, .iov_len = p->len };
            ssize_t ret;

            if (!receiver_ready(nc)) {
                break;
            }
            if (nc->link_down || (p->sender && p->sender->link_down)) {
                ret = p->len;     /* the link went down while it waited: gone */
            } else {
                ret = deliver(nc, &iov, 1, p->len);
            }
            if (ret == 0) {
                nc->receive_disabled = true;
                break;
            }
            g_queue_pop_head(&q->packets);
            packet_free_with_cb(p, ret > 0 ? ret : (ssize_t)p->len);
        }
        if (q->flush_again) {
            nc->receive_disabled = false;
        }
    } while (q->flush_again);
    q->flushing = false;
}

/* ------------------------------------------------------------------ link status */

void net_client_set_link(NetClientState *nc, bool up)
{
    nc->link_down = !up;
    if (nc->info->link_status_changed) {
        nc->info->link_status_changed(nc);
    }
    /*
     * Pulling the backend's cable is what the guest must notice: a NIC peer follows it
     * (QEMU's set_link does the same).
     */
    if (nc->peer && nc->info->type != NET_CLIENT_NIC && nc->peer->info->type == NET_CLIENT_NIC) {
        nc->peer->link_down = !up;
        if (nc->peer->info->link_status_changed) {
            nc->peer->info->link_status_changed(nc->peer);
        }
    }
}

bool net_set_link(const char *name, bool up, Error **errp)
{
    NetClientState *nc = net_find_client(name);

    if (!nc) {
        error_setg(errp, "Device '%s' not found", name);
        return false;
    }
    net_client_set_link(nc, up);
    return true;
}

/* ------------------------------------------------------------------ backends in an iothread */

bool net_backend_context(KiteOpts *opts, KiteContext **ctx, Object **iothread, Error **errp)
{
    const char *id = kite_opts_get(opts, "iothread");
    IOThreadObject *t;

    *ctx = kite_main_context();
    *iothread = NULL;
    if (!id) {
        return true;
    }
    t = iothread_find(id);
    if (!t) {
        error_setg(errp, "Parameter 'iothread': cannot find iothread '%s'", id);
        return false;
    }
    /* The reference keeps the thread (and its context) alive while the backend uses it. */
    *iothread = object_ref(t);
    *ctx = iothread_get_context(t);
    return true;
}

void net_backend_context_release(KiteContext *ctx, Object *iothread)
{
    if (!iothread) {
        return;
    }
    kite_context_sync(ctx);
    object_unref(iothread);
}

/* ------------------------------------------------------------------ -netdev, -nic */

typedef struct NetdevBackend {
    const char *type;
    NetdevInitFunc *init;
} NetdevBackend;

static GArray *backends;      /* of NetdevBackend */

void netdev_register_backend(const char *type, NetdevInitFunc *init)
{
    NetdevBackend b = { .type = type, .init = init };

    if (!backends) {
        backends = g_array_new(false, false, sizeof(NetdevBackend));
    }
    g_array_append_val(backends, b);
}

static const NetdevBackend *find_backend(const char *type)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        const NetdevBackend *b = &g_array_index(backends, NetdevBackend, i);
        if (!strcmp(b->type, type)) {
            return b;
        }
    }
    return NULL;
}

static gint backend_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(((const NetdevBackend *)a)->type, ((const NetdevBackend *)b)->type);
}

void netdev_print_backends(FILE *f)
{
    fprintf(f, "Available netdev backend types:\n");
    if (backends) {
        g_array_sort(backends, backend_cmp);
    }
    for (guint i = 0; backends && i < backends->len; i++) {
        fprintf(f, "%s\n", g_array_index(backends, NetdevBackend, i).type);
    }
}

/* QEMU's id rule: a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static NetClientState *netdev_add_internal(KiteOpts *opts, bool internal_id, Error **errp)
{
    const char *type = kite_opts_get(opts, "type");
    const char *id = kite_opts_get(opts, "id");
    const NetdevBackend *b;
    NetClientState *nc;

    if (!type) {
        error_setg(errp, "Parameter 'type' is missing");
        return NULL;
    }
    b = find_backend(type);
    if (!b) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return NULL;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    if (!internal_id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    if (net_find_netdev(id)) {
        error_setg(errp, "Duplicate ID '%s' for netdev", id);
        return NULL;
    }
    nc = b->init(opts, id, errp);
    if (!nc) {
        return NULL;
    }
    if (!kite_opts_check_unused(opts, "-netdev", errp)) {
        net_client_free(nc);
        return NULL;
    }
    nc->is_netdev = true;
    return nc;
}

NetClientState *netdev_add_from_opts(KiteOpts *opts, Error **errp)
{
    return netdev_add_internal(opts, false, errp);
}

NetClientState *netdev_add_from_string(const char *optstr, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_parse(optstr, "type", errp);
    return opts ? netdev_add_from_opts(opts, errp) : NULL;
}

bool netdev_del(const char *id, Error **errp)
{
    NetClientState *nc = net_find_netdev(id);

    if (!nc) {
        error_setg(errp, "Device '%s' not found", id);
        return false;
    }
    net_client_free(nc);
    return true;
}

bool net_nic_option(const char *optstr, char **device_str, Error **errp)
{
    static unsigned nic_idx;
    g_autoptr(KiteOpts) opts = kite_opts_parse(optstr, "type", errp);
    g_autofree char *model = NULL, *mac = NULL, *id = NULL;
    const char *type;
    GString *dev;

    *device_str = NULL;
    if (!opts) {
        return false;
    }
    type = kite_opts_get(opts, "type");
    if (type && !strcmp(type, "none")) {
        return kite_opts_check_unused(opts, "-nic", errp);
    }
    model = kite_opts_take(opts, "model");
    mac = kite_opts_take(opts, "mac");
    id = kite_opts_take(opts, "id");
    if (mac) {
        MACAddr m;
        if (!net_parse_macaddr(&m, mac)) {
            error_setg(errp, "invalid syntax for ethernet address '%s'", mac);
            return false;
        }
    }
    if (!id) {
        id = g_strdup_printf("__org.qemu.nic%u", nic_idx++);
    }
    kite_opts_set(opts, "id", id);
    if (!netdev_add_internal(opts, true, errp)) {
        return false;
    }
    dev = g_string_new(model ? model : "e1000");
    g_string_append_printf(dev, ",netdev=%s", id);
    if (mac) {
        g_string_append_printf(dev, ",mac=%s", mac);
    }
    *device_str = g_string_free(dev, false);
    return true;
}

void net_cleanup(void)
{
    /* NICs first, so that no backend is freed under a NIC still pointing at it. */
    GList *copy = g_list_copy(clients);
    for (GList *l = copy; l; l = l->next) {
        NetClientState *nc = l->data;
        if (nc->info->type == NET_CLIENT_NIC) {
            net_client_free(nc);
        }
    }
    g_list_free(copy);
    while (clients) {
        net_client_free(clients->data);
    }
}
