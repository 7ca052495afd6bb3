/*
 * -netdev user: user-mode networking on libslirp.  The guest sees a NAT router at 10.0.2.2
 * that answers DHCP (first lease 10.0.2.15), forwards DNS (10.0.2.3) and turns the guest's
 * TCP/UDP into host sockets; hostfwd= rules listen on the host and connect into the guest;
 * guestfwd= rules give the guest a TCP server (an address in its network) that is a host
 * command or a chardev.
 *
 * libslirp is driven from the main loop through a GSource: prepare() asks slirp which fds it
 * wants (slirp_pollfds_fill), check()/dispatch() hand the poll results back
 * (slirp_pollfds_poll), which also runs slirp's TCP timers.  Slirp's own timers (IPv6 router
 * advertisements) are Kite timers on the virtual clock, as in QEMU, so a stopped VM's network
 * stands still too.  It always runs in the main loop (iothread= is refused): libslirp is not
 * thread-safe, and its guestfwd chardevs are main-loop objects.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "net/net.h"
#include "kite/main-loop.h"
#include "kite/timer.h"
#include "kite/log.h"
#include "kite/chardev.h"
#include <arpa/inet.h>
#include <libslirp.h>

typedef struct SlirpSource SlirpSource;
typedef struct SlirpState SlirpState;

/*
 * guestfwd= to a chardev: slirp hands us what the guest sends to server:port (guestfwd_write),
 * and we feed it what the chardev reads (slirp_socket_recv) when slirp has room for it.
 */
typedef struct GuestFwd {
    SlirpState *s;
    CharFrontend fe;
    struct in_addr server;
    int port;
    bool own_chardev;          /* created from the rule's spec (not chardev:ID): delete it */
    bool input_blocked;        /* can_read said 0: the chardev waits for accept_input */
} GuestFwd;

struct SlirpState {
    NetClientState *nc;
    Slirp *slirp;
    SlirpSource *src;
    GArray *pollfds;           /* of GPollFD, registered with the GSource */
    GArray *fill;              /* of GPollFD, what slirp asked for in this prepare */
    char *vhostname, *vdomainname, *tftp, *bootfile, *tftp_server_name;
    char **dnssearch;
    GPtrArray *guestfwds;      /* of GuestFwd *: the chardev forwards */
    GPtrArray *exec_fwds;      /* of GuestFwd *: cmd: forwards (only server and port set) */
    KiteBH *guestfwd_bh;       /* re-check blocked chardev forwards outside slirp's calls */
};

struct SlirpSource {
    GSource source;
    SlirpState *s;
};

static void guestfwd_kick(SlirpState *s);
static void guestfwd_free(GuestFwd *fwd);

typedef struct SlirpTimer {
    KiteTimer *t;
    SlirpState *s;
    SlirpTimerId id;
    void *cb_opaque;
} SlirpTimer;

/* ------------------------------------------------------------------ slirp callbacks */

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
    SlirpState *s = opaque;

    /*
     * Frames for the guest.  When the NIC is full they queue with it (bounded) or are dropped:
     * slirp's TCP retransmits, as libslirp's contract for send_packet allows.
     */
    net_send_packet(s->nc, buf, len);
    return len;
}

static void slirp_guest_error(const char *msg, void *opaque)
{
    kite_log_mask(LOG_GUEST_ERROR, "slirp: %s", msg);
}

static int64_t slirp_clock_ns(void *opaque)
{
    return clock_get_ns(KITE_CLOCK_VIRTUAL);
}

static void slirp_timer_fire(void *opaque)
{
    SlirpTimer *st = opaque;
    slirp_handle_timer(st->s->slirp, st->id, st->cb_opaque);
}

static void *slirp_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    SlirpTimer *st = g_new0(SlirpTimer, 1);

    st->s = opaque;
    st->id = id;
    st->cb_opaque = cb_opaque;
    st->t = timer_new_ns(KITE_CLOCK_VIRTUAL, slirp_timer_fire, st);
    return st;
}

static void slirp_timer_free_cb(void *timer, void *opaque)
{
    SlirpTimer *st = timer;
    timer_free(st->t);
    g_free(st);
}

static void slirp_timer_mod_cb(void *timer, int64_t expire_ms, void *opaque)
{
    SlirpTimer *st = timer;
    timer_mod_ns(st->t, expire_ms * 1000000LL);
}

static void slirp_register_fd(int fd, void *opaque)
{
}

static void slirp_unregister_fd(int fd, void *opaque)
{
}

static void slirp_notify(void *opaque)
{
    SlirpState *s = opaque;

    /* A guestfwd socket may have room again: its chardev may read (outside slirp's call). */
    if (s->guestfwd_bh) {
        kite_bh_schedule(s->guestfwd_bh);
    }
    kite_context_notify(kite_main_context());
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_send_packet,
    .guest_error = slirp_guest_error,
    .clock_get_ns = slirp_clock_ns,
    .timer_free = slirp_timer_free_cb,
    .timer_mod = slirp_timer_mod_cb,
    .register_poll_fd = slirp_register_fd,
    .unregister_poll_fd = slirp_unregister_fd,
    .notify = slirp_notify,
    .timer_new_opaque = slirp_timer_new_opaque,
};

/* ------------------------------------------------------------------ the GSource */

static int slirp_add_poll(int fd, int events, void *opaque)
{
    SlirpState *s = opaque;
    GPollFD pfd = { .fd = fd };

    if (events & SLIRP_POLL_IN) {
        pfd.events |= G_IO_IN;
    }
    if (events & SLIRP_POLL_OUT) {
        pfd.events |= G_IO_OUT;
    }
    if (events & SLIRP_POLL_PRI) {
        pfd.events |= G_IO_PRI;
    }
    if (events & SLIRP_POLL_ERR) {
        pfd.events |= G_IO_ERR;
    }
    if (events & SLIRP_POLL_HUP) {
        pfd.events |= G_IO_HUP;
    }
    g_array_append_val(s->fill, pfd);
    return s->fill->len - 1;
}

static int slirp_get_revents(int idx, void *opaque)
{
    SlirpState *s = opaque;
    GPollFD *pfd;
    int ev = 0;

    if (idx < 0 || idx >= (int)s->pollfds->len) {
        return 0;
    }
    pfd = &g_array_index(s->pollfds, GPollFD, idx);
    if (pfd->revents & G_IO_IN) {
        ev |= SLIRP_POLL_IN;
    }
    if (pfd->revents & G_IO_OUT) {
        ev |= SLIRP_POLL_OUT;
    }
    if (pfd->revents & G_IO_PRI) {
        ev |= SLIRP_POLL_PRI;
    }
    if (pfd->revents & G_IO_ERR) {
        ev |= SLIRP_POLL_ERR;
    }
    if (pfd->revents & G_IO_HUP) {
        ev |= SLIRP_POLL_HUP;
    }
    return ev;
}

static void source_clear_polls(SlirpState *s)
{
    for (guint i = 0; i < s->pollfds->len; i++) {
        g_source_remove_poll(&s->src->source, &g_array_index(s->pollfds, GPollFD, i));
    }
    g_array_set_size(s->pollfds, 0);
}

static bool same_polls(GArray *a, GArray *b)
{
    if (a->len != b->len) {
        return false;
    }
    for (guint i = 0; i < a->len; i++) {
        GPollFD *x = &g_array_index(a, GPollFD, i), *y = &g_array_index(b, GPollFD, i);
        if (x->fd != y->fd || x->events != y->events) {
            return false;
        }
    }
    return true;
}

/*
 * Changing a source's polls wakes its GMainContext (glib signals the context's wakeup fd),
 * so the set is replaced only when slirp asks for something different: re-adding the same
 * polls on every prepare made the main loop spin without sleeping.
 */
static gboolean slirp_source_prepare(GSource *source, gint *timeout)
{
    SlirpState *s = ((SlirpSource *)source)->s;
    uint32_t t = UINT32_MAX;

    g_array_set_size(s->fill, 0);
    slirp_pollfds_fill(s->slirp, &t, slirp_add_poll, s);
    if (!same_polls(s->fill, s->pollfds)) {
        source_clear_polls(s);
        g_array_append_vals(s->pollfds, s->fill->data, s->fill->len);
        /* Complete now: the elements keep their addresses until the set changes. */
        for (guint i = 0; i < s->pollfds->len; i++) {
            g_source_add_poll(source, &g_array_index(s->pollfds, GPollFD, i));
        }
    }
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    return FALSE;
}

static gboolean slirp_source_check(GSource *source)
{
    /* slirp_pollfds_poll must follow every fill: it also runs slirp's TCP timers. */
    return TRUE;
}

static gboolean slirp_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    SlirpState *s = ((SlirpSource *)source)->s;

    slirp_pollfds_poll(s->slirp, 0, slirp_get_revents, s);
    guestfwd_kick(s);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs slirp_source_funcs = {
    .prepare = slirp_source_prepare,
    .check = slirp_source_check,
    .dispatch = slirp_source_dispatch,
};

/* ------------------------------------------------------------------ the net client */

static ssize_t slirp_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    SlirpState *s = nc->opaque;

    slirp_input(s->slirp, buf, len);
    guestfwd_kick(s);          /* the guest may have connected to a forwarded port */
    return len;
}

static void slirp_state_free(SlirpState *s)
{
    for (guint i = 0; s->guestfwds && i < s->guestfwds->len; i++) {
        guestfwd_free(s->guestfwds->pdata[i]);
    }
    for (guint i = 0; s->exec_fwds && i < s->exec_fwds->len; i++) {
        guestfwd_free(s->exec_fwds->pdata[i]);
    }
    if (s->guestfwds) {
        g_ptr_array_free(s->guestfwds, true);
    }
    if (s->exec_fwds) {
        g_ptr_array_free(s->exec_fwds, true);
    }
    if (s->guestfwd_bh) {
        kite_bh_delete(s->guestfwd_bh);
    }
    if (s->src) {
        source_clear_polls(s);
        g_source_destroy(&s->src->source);
        g_source_unref(&s->src->source);
    }
    if (s->slirp) {
        slirp_cleanup(s->slirp);
    }
    if (s->pollfds) {
        g_array_free(s->pollfds, true);
    }
    if (s->fill) {
        g_array_free(s->fill, true);
    }
    g_free(s->vhostname);
    g_free(s->vdomainname);
    g_free(s->tftp);
    g_free(s->bootfile);
    g_free(s->tftp_server_name);
    g_strfreev(s->dnssearch);
    g_free(s);
}

static void slirp_nc_cleanup(NetClientState *nc)
{
    slirp_state_free(nc->opaque);
    nc->opaque = NULL;
}

static const NetClientInfo slirp_info = {
    .type = NET_CLIENT_USER,
    .receive = slirp_receive,
    .cleanup = slirp_nc_cleanup,
};

/* ------------------------------------------------------------------ options */

static bool parse_on_off(KiteOpts *opts, const char *key, bool *val, Error **errp)
{
    const char *v = kite_opts_get(opts, key);

    if (!v) {
        return true;
    }
    /* QEMU's restrict= also takes yes/no. */
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *val = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *val = false;
    } else {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

static bool parse_ip4(const char *text, struct in_addr *a)
{
    return text && inet_pton(AF_INET, text, a) == 1;
}

/* net=ADDR[/MASK], MASK as a prefix length or a dotted mask; default /24. */
static bool parse_net(const char *text, struct in_addr *net, struct in_addr *mask,
                      Error **errp)
{
    g_autofree char *addr = g_strdup(text);
    char *slash = strchr(addr, '/');
    uint32_t m = 0xffffff00;

    if (slash) {
        *slash++ = 0;
        if (strchr(slash, '.')) {
            struct in_addr ma;
            if (!parse_ip4(slash, &ma)) {
                goto bad;
            }
            m = ntohl(ma.s_addr);
        } else {
            char *end;
            long bits = strtol(slash, &end, 10);
            if (*end || end == slash || bits < 0 || bits > 32) {
                goto bad;
            }
            m = bits ? 0xffffffffu << (32 - bits) : 0;
        }
    }
    if (!parse_ip4(addr, net)) {
        goto bad;
    }
    /* Mask must be contiguous and leave room for the router, DNS and a DHCP pool. */
    if ((~m & (~m + 1)) != 0 || m > 0xfffffff8) {
        error_setg(errp, "Parameter 'net' has an unusable netmask in '%s'", text);
        return false;
    }
    mask->s_addr = htonl(m);
    net->s_addr &= mask->s_addr;
    return true;
bad:
    error_setg(errp, "Parameter 'net' expects an IPv4 address[/mask], got '%s'", text);
    return false;
}

static bool in_net(struct in_addr a, struct in_addr net, struct in_addr mask)
{
    return (a.s_addr & mask.s_addr) == net.s_addr;
}

/* Address option inside the network; default net + host_part. */
static bool parse_net_addr(KiteOpts *opts, const char *key, struct in_addr net,
                           struct in_addr mask, uint32_t host_part, struct in_addr *out,
                           Error **errp)
{
    const char *v = kite_opts_get(opts, key);

    if (!v) {
        out->s_addr = htonl(ntohl(net.s_addr) | host_part);
        return true;
    }
    if (!parse_ip4(v, out)) {
        error_setg(errp, "Parameter '%s' expects an IPv4 address, got '%s'", key, v);
        return false;
    }
    if (!in_net(*out, net, mask)) {
        error_setg(errp, "Parameter '%s': %s is not in the guest network", key, v);
        return false;
    }
    return true;
}

static bool parse_port(const char *text, int *port)
{
    char *end;
    long v;

    if (!*text) {
        return false;
    }
    v = strtol(text, &end, 10);
    if (*end || v < 0 || v > 65535) {
        return false;
    }
    *port = v;
    return true;
}

/*
 * hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport.  An empty host address
 * listens on all addresses; an empty guest address is the first DHCP lease.
 */
static bool add_hostfwd(SlirpState *s, const char *rule, struct in_addr dhcp_start,
                        Error **errp)
{
    g_auto(GStrv) halves = g_strsplit(rule, "-", 2);
    g_auto(GStrv) h = NULL, g = NULL;
    struct in_addr haddr = { .s_addr = INADDR_ANY }, gaddr = dhcp_start;
    int hport, gport, is_udp = 0;
    const char *why = NULL;

    if (!halves[0] || !halves[1]) {
        why = "missing '-'";
        goto bad;
    }
    h = g_strsplit(halves[0], ":", -1);
    g = g_strsplit(halves[1], ":", -1);
    if (g_strv_length(h) != 3) {
        why = "expected PROTO:HOSTADDR:HOSTPORT before '-'";
        goto bad;
    }
    if (!strcmp(h[0], "udp")) {
        is_udp = 1;
    } else if (*h[0] && strcmp(h[0], "tcp")) {
        why = "bad protocol name";
        goto bad;
    }
    if (*h[1] && !parse_ip4(h[1], &haddr)) {
        why = "bad host address";
        goto bad;
    }
    if (!parse_port(h[2], &hport)) {
        why = "bad host port";
        goto bad;
    }
    if (g_strv_length(g) != 2) {
        why = "expected GUESTADDR:GUESTPORT after '-'";
        goto bad;
    }
    if (*g[0] && !parse_ip4(g[0], &gaddr)) {
        why = "bad guest address";
        goto bad;
    }
    if (!parse_port(g[1], &gport) || gport == 0) {
        why = "bad guest port";
        goto bad;
    }
    if (slirp_add_hostfwd(s->slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
        error_setg(errp, "Could not set up host forwarding rule '%s'", rule);
        return false;
    }
    return true;
bad:
    error_setg(errp, "Invalid host forwarding rule '%s' (%s)", rule, why);
    return false;
}

/* ------------------------------------------------------------------ guestfwd= */

/* Data the guest sent to a forwarded server:port, for the chardev. */
static ssize_t guestfwd_write(const void *buf, size_t len, void *opaque)
{
    GuestFwd *fwd = opaque;

    /*
     * libslirp does not buffer on this path and ignores what we return (the guest's segment
     * is acknowledged already), so the chardev's bounded output buffer takes it all; what
     * does not fit is dropped and logged by the chardev rather than blocking the main loop
     * (QEMU blocks here instead).
     */
    chr_fe_write_all(&fwd->fe, buf, len);
    return len;
}

static int guestfwd_can_read(void *opaque)
{
    GuestFwd *fwd = opaque;
    size_t room = slirp_socket_can_recv(fwd->s->slirp, fwd->server, fwd->port);

    /* 0 also while the guest has not connected yet: the chardev keeps its input. */
    fwd->input_blocked = room == 0;
    return MIN(room, (size_t)G_MAXINT);
}

static void guestfwd_read(void *opaque, const uint8_t *buf, int len)
{
    GuestFwd *fwd = opaque;

    slirp_socket_recv(fwd->s->slirp, fwd->server, fwd->port, buf, len);
}

/*
 * Chardevs stop reading after can_read said 0 until accept_input; slirp gains room (or the
 * guest connects) inside its own calls, so look again after each of them.
 */
static void guestfwd_kick(SlirpState *s)
{
    for (guint i = 0; s->guestfwds && i < s->guestfwds->len; i++) {
        GuestFwd *fwd = s->guestfwds->pdata[i];
        if (fwd->input_blocked &&
            slirp_socket_can_recv(s->slirp, fwd->server, fwd->port) > 0) {
            fwd->input_blocked = false;
            chr_fe_accept_input(&fwd->fe);
        }
    }
}

static void guestfwd_bh_cb(void *opaque)
{
    guestfwd_kick(opaque);
}

static void guestfwd_free(GuestFwd *fwd)
{
    SlirpState *s = fwd->s;

    slirp_remove_guestfwd(s->slirp, fwd->server, fwd->port);
    if (fwd->fe.chr) {
        chr_fe_deinit(&fwd->fe, fwd->own_chardev);
    }
    g_free(fwd);
}

static bool guestfwd_taken(GPtrArray *a, struct in_addr server, int port)
{
    for (guint i = 0; i < a->len; i++) {
        GuestFwd *f = a->pdata[i];
        if (f->server.s_addr == server.s_addr && f->port == port) {
            return true;
        }
    }
    return false;
}

/*
 * guestfwd=[tcp]:[server]:port-DEV (QEMU's syntax): a guest connection to server:port (default
 * server: the network's .4) reaches DEV, which is "cmd:COMMAND" (run once per connection with
 * the connection as its stdin and stdout) or a chardev: "chardev:ID" or any -serial style spec
 * such as tcp:HOST:PORT or unix:PATH.
 */
static bool add_guestfwd(SlirpState *s, const char *rule, struct in_addr net,
                         struct in_addr mask, Error **errp)
{
    g_autofree char *copy = g_strdup(rule);
    char *proto = copy, *addr, *port_s, *dev, *end;
    struct in_addr server = { .s_addr = 0 };
    g_autofree char *label = NULL;
    GuestFwd *fwd;
    Chardev *chr;
    long port;

    addr = strchr(proto, ':');
    if (!addr) {
        goto bad;
    }
    *addr++ = 0;
    port_s = strchr(addr, ':');
    if (!port_s) {
        goto bad;
    }
    *port_s++ = 0;
    dev = strchr(port_s, '-');
    if (!dev) {
        goto bad;
    }
    *dev++ = 0;
    if (*proto && strcmp(proto, "tcp")) {
        goto bad;          /* slirp forwards TCP only */
    }
    if (*addr && !parse_ip4(addr, &server)) {
        goto bad;
    }
    port = strtol(port_s, &end, 10);
    if (!*port_s || *end || port < 1 || port > 65535) {
        goto bad;
    }
    if (!server.s_addr) {
        /* libslirp's default; resolved here so the duplicate check below sees it. */
        server.s_addr = htonl(ntohl(net.s_addr) | (0x0204 & ~ntohl(mask.s_addr)));
    }
    if (guestfwd_taken(s->exec_fwds, server, port) ||
        guestfwd_taken(s->guestfwds, server, port)) {
        goto conflict;
    }

    if (g_str_has_prefix(dev, "cmd:")) {
        if (!dev[4]) {
            goto bad;
        }
        /* libslirp checks that server is in the network and not the host or DNS address. */
        if (slirp_add_exec(s->slirp, dev + 4, &server, port) < 0) {
            goto conflict;
        }
        fwd = g_new0(GuestFwd, 1);
        fwd->s = s;
        fwd->server = server;
        fwd->port = port;
        g_ptr_array_add(s->exec_fwds, fwd);
        return true;
    }

    if (g_str_has_prefix(dev, "mon:")) {
        error_setg(errp, "Guest forwarding device '%s': a monitor cannot be forwarded to", dev);
        return false;
    }
    label = g_strdup_printf("guestfwd.tcp.%ld", port);
    chr = chardev_new_from_legacy(label, dev, errp);
    if (!chr) {
        error_prepend(errp, "Could not open guest forwarding device '%s': ", label);
        return false;
    }
    fwd = g_new0(GuestFwd, 1);
    fwd->s = s;
    fwd->own_chardev = !g_str_has_prefix(dev, "chardev:");
    if (!chr_fe_init(&fwd->fe, chr, errp)) {
        if (fwd->own_chardev) {
            chardev_delete(chr, NULL);
        }
        g_free(fwd);
        return false;
    }
    if (slirp_add_guestfwd(s->slirp, guestfwd_write, fwd, &server, port) < 0) {
        chr_fe_deinit(&fwd->fe, fwd->own_chardev);
        g_free(fwd);
        goto conflict;
    }
    fwd->server = server;
    fwd->port = port;
    g_ptr_array_add(s->guestfwds, fwd);
    chr_fe_set_handlers(&fwd->fe, guestfwd_can_read, guestfwd_read, NULL, fwd);
    return true;

bad:
    error_setg(errp, "Invalid guest forwarding rule '%s'", rule);
    return false;
conflict:
    error_setg(errp, "Conflicting/invalid host:port in guest forwarding rule '%s'", rule);
    return false;
}

static NetClientState *net_slirp_init(KiteOpts *opts, const char *id, Error **errp)
{
    SlirpState *s = g_new0(SlirpState, 1);
    SlirpConfig cfg = { .version = 4 };
    struct in_addr net, mask, host, dhcp, dns;
    bool restricted = false, ipv4 = true, ipv6 = true;
    const char *v;
    NetClientState *nc;

    s->pollfds = g_array_new(false, false, sizeof(GPollFD));
    s->fill = g_array_new(false, false, sizeof(GPollFD));
    if (kite_opts_get(opts, "iothread")) {
        /* libslirp is single-threaded and its guestfwd chardevs live in the main loop. */
        error_setg(errp, "-netdev user runs in the main loop; iothread= is not supported");
        goto fail;
    }
    s->guestfwds = g_ptr_array_new();
    s->exec_fwds = g_ptr_array_new();
    v = kite_opts_get(opts, "net");
    if (!parse_net(v ? v : "10.0.2.0/24", &net, &mask, errp)) {
        goto fail;
    }
    if (!parse_net_addr(opts, "host", net, mask, 2, &host, errp) ||
        !parse_net_addr(opts, "dhcpstart", net, mask, 15, &dhcp, errp) ||
        !parse_net_addr(opts, "dns", net, mask, 3, &dns, errp) ||
        !parse_on_off(opts, "restrict", &restricted, errp) ||
        !parse_on_off(opts, "ipv4", &ipv4, errp) ||
        !parse_on_off(opts, "ipv6", &ipv6, errp)) {
        goto fail;
    }
    if (host.s_addr == dhcp.s_addr || dns.s_addr == dhcp.s_addr) {
        error_setg(errp, "DHCP start address must not be the host or DNS address");
        goto fail;
    }
    if (!ipv4 && !ipv6) {
        error_setg(errp, "IPv4 and IPv6 cannot both be disabled");
        goto fail;
    }
    s->vhostname = g_strdup(kite_opts_get(opts, "hostname"));
    s->vdomainname = g_strdup(kite_opts_get(opts, "domainname"));
    s->tftp = g_strdup(kite_opts_get(opts, "tftp"));
    s->bootfile = g_strdup(kite_opts_get(opts, "bootfile"));
    s->tftp_server_name = g_strdup(kite_opts_get(opts, "tftp-server-name"));
    v = kite_opts_get(opts, "dnssearch");
    if (v) {
        s->dnssearch = g_strsplit(v, ":", -1);
    }

    cfg.restricted = restricted;
    cfg.in_enabled = ipv4;
    cfg.vnetwork = net;
    cfg.vnetmask = mask;
    cfg.vhost = host;
    cfg.in6_enabled = ipv6;
    /* QEMU's default IPv6 prefix: fec0::/64 with the host at ::2, DNS at ::3. */
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.vhostname = s->vhostname;
    cfg.tftp_server_name = s->tftp_server_name;
    cfg.tftp_path = s->tftp;
    cfg.bootfile = s->bootfile;
    cfg.vdhcp_start = dhcp;
    cfg.vnameserver = dns;
    cfg.vdnssearch = (const char **)s->dnssearch;
    cfg.vdomainname = s->vdomainname;

    s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
    if (!s->slirp) {
        error_setg(errp, "libslirp refused the configuration");
        goto fail;
    }
    /* Every hostfwd= given, in order (the option may repeat). */
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        if (!strcmp(o->key, "hostfwd")) {
            o->used = true;
            if (!add_hostfwd(s, o->value, dhcp, errp)) {
                goto fail;
            }
        } else if (!strcmp(o->key, "guestfwd")) {
            o->used = true;
            if (!add_guestfwd(s, o->value, net, mask, errp)) {
                goto fail;
            }
        }
    }
    s->guestfwd_bh = kite_bh_new(guestfwd_bh_cb, s);
    s->src = (SlirpSource *)g_source_new(&slirp_source_funcs, sizeof(SlirpSource));
    s->src->s = s;
    /* Not blocked while dispatched: blocking re-adds the polls and wakes the loop again. */
    g_source_set_can_recurse(&s->src->source, TRUE);
    g_source_attach(&s->src->source, kite_context_get_g(kite_main_context()));

    nc = net_client_new(&slirp_info, NULL, "user", id, s);
    {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &net, a, sizeof(a));
        /* As QEMU's "info network". */
        snprintf(nc->info_str, sizeof(nc->info_str), "net=%s,restrict=%s", a,
                 restricted ? "on" : "off");
    }
    s->nc = nc;
    return nc;
fail:
    slirp_state_free(s);
    return NULL;
}

static void __attribute__((constructor)) net_slirp_register(void)
{
    netdev_register_backend("user", net_slirp_init);
}
