/*
 * -netdev socket: Ethernet frames over a host socket, QEMU's wire formats.
 *
 *   listen=[HOST]:PORT   accept one TCP connection at a time
 *   connect=HOST:PORT    connect to such a listener
 *   udp=HOST:PORT,localaddr=[HOST]:PORT   one frame per datagram
 *   iothread=ID          poll the sockets in that iothread (Kite's; QEMU has no such option);
 *                        the handlers take the BQL for their work, as the NIC side's state
 *                        is shared with them
 *
 * Over TCP every frame is preceded by its length as a 4-byte big-endian integer, so two Kite
 * (or QEMU) VMs connected this way see one Ethernet segment.
 *
 * Flow control: a frame from the peer that the NIC cannot take waits in the net core's queue
 * and this backend stops reading the socket until the NIC has taken it (sent callback), so
 * the kernel's socket buffer, not Kite's memory, absorbs a fast peer.  Towards a slow peer,
 * at most one frame is buffered here; further frames wait in the net core's bounded queue
 * (receive returns 0) and flow again when the socket is writable.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "net/net.h"
#include "kite/main-loop.h"
#include "kite/log.h"
#include "kite/thread.h"
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define RXBUF_SIZE (NET_MAX_FRAME + 4)

typedef struct NetSocketState {
    NetClientState *nc;
    bool udp;
    int listen_fd;              /* listen=, else -1 */
    int fd;                     /* the connection or the UDP socket, -1 if none */
    struct sockaddr_in dgram_dst;
    char *desc;                 /* for info_str */
    /* receive from the peer: raw bytes, parsed into frames */
    uint8_t *rxbuf;
    size_t rx_len, rx_off;      /* valid bytes, and how far they have been parsed */
    bool read_paused;           /* a frame waits in the NIC's queue */
    /* send to the peer: the unsent rest of one frame */
    GByteArray *outbuf;
    KiteContext *ctx;           /* where the fd handlers run */
    Object *iothread;           /* iothread=: a reference on it, else NULL */
    bool closing;               /* cleanup started: never register handlers again */
} NetSocketState;

static void socket_read(NetSocketState *s);
static void socket_writable(NetSocketState *s);
static void socket_accept(NetSocketState *s);

/*
 * The fd handlers.  All of the state is shared with the NIC side, which runs under the BQL, so
 * in an iothread they take it for their whole run; an invocation that was already waiting for
 * it when the fd changed (disconnect, cleanup) finds that out and does nothing.
 */
typedef void SocketHandler(NetSocketState *s);

static void socket_run_handler(NetSocketState *s, SocketHandler *fn, bool on_listen)
{
    bool take = !bql_locked();

    if (take) {
        bql_lock();
    }
    if (!s->closing && (on_listen ? s->listen_fd >= 0 && s->fd < 0 : s->fd >= 0)) {
        fn(s);
    }
    if (take) {
        bql_unlock();
    }
}

static void socket_read_handler(void *opaque)
{
    socket_run_handler(opaque, socket_read, false);
}

static void socket_write_handler(void *opaque)
{
    socket_run_handler(opaque, socket_writable, false);
}

static void socket_accept_handler(void *opaque)
{
    socket_run_handler(opaque, socket_accept, true);
}

static void socket_set_fd_handler(NetSocketState *s, int fd, IOHandler *rd, IOHandler *wr)
{
    if (s->closing && (rd || wr)) {
        return;
    }
    kite_context_set_fd_handler(s->ctx, fd, rd, wr, s);
}

static void socket_update_handlers(NetSocketState *s)
{
    if (s->fd < 0) {
        return;
    }
    socket_set_fd_handler(s, s->fd, s->read_paused ? NULL : socket_read_handler,
                          s->outbuf->len ? socket_write_handler : NULL);
}

static void socket_set_info(NetSocketState *s, const char *state)
{
    snprintf(s->nc->info_str, sizeof(s->nc->info_str), "socket: %s%s", s->desc, state);
}

static void socket_disconnect(NetSocketState *s)
{
    if (s->fd >= 0) {
        socket_set_fd_handler(s, s->fd, NULL, NULL);
        close(s->fd);
        s->fd = -1;
    }
    s->rx_len = s->rx_off = 0;
    s->read_paused = false;
    g_byte_array_set_size(s->outbuf, 0);
    if (s->listen_fd >= 0) {
        /* Ready for the next connection, as QEMU's listen mode is. */
        socket_set_fd_handler(s, s->listen_fd, socket_accept_handler, NULL);
        socket_set_info(s, " (waiting)");
    } else {
        socket_set_info(s, " (disconnected)");
    }
}

/* ------------------------------------------------------------------ peer -> NIC */

static void socket_parse(NetSocketState *s);

static void socket_send_completed(NetClientState *nc, ssize_t len)
{
    NetSocketState *s = nc->opaque;

    if (!s->read_paused) {
        return;
    }
    s->read_paused = false;
    socket_parse(s);            /* frames already read come first */
    socket_update_handlers(s);
}

/* Deliver the complete frames in rxbuf; stop when the NIC queues one. */
static void socket_parse(NetSocketState *s)
{
    while (!s->read_paused) {
        uint8_t *p = s->rxbuf + s->rx_off;
        size_t avail = s->rx_len - s->rx_off;
        uint32_t flen;

        if (s->udp) {
            return;
        }
        if (avail < 4) {
            break;
        }
        flen = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
        if (flen > NET_MAX_FRAME) {
            /* Not QEMU's framing, or a corrupt stream: nothing sensible follows. */
            warn_report("netdev %s: peer sent a %u-byte frame; disconnecting", s->nc->name,
                        flen);
            socket_disconnect(s);
            return;
        }
        if (avail < 4 + flen) {
            break;
        }
        s->rx_off += 4 + flen;
        if (net_send_packet_async(s->nc, p + 4, flen, socket_send_completed) == 0) {
            s->read_paused = true;
        }
    }
    /* Keep the partial frame at the start of the buffer. */
    if (s->rx_off) {
        memmove(s->rxbuf, s->rxbuf + s->rx_off, s->rx_len - s->rx_off);
        s->rx_len -= s->rx_off;
        s->rx_off = 0;
    }
}

static void socket_read(NetSocketState *s)
{
    ssize_t n;

    if (s->udp) {
        n = recv(s->fd, s->rxbuf, RXBUF_SIZE, MSG_DONTWAIT);
        if (n < 0) {
            return;
        }
        if (n > 0 && n <= NET_MAX_FRAME &&
            net_send_packet_async(s->nc, s->rxbuf, n, socket_send_completed) == 0) {
            s->read_paused = true;
            socket_update_handlers(s);
        }
        return;
    }
    n = recv(s->fd, s->rxbuf + s->rx_len, RXBUF_SIZE - s->rx_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        socket_disconnect(s);
        return;
    }
    s->rx_len += n;
    socket_parse(s);
    if (s->read_paused) {
        socket_update_handlers(s);
    }
}

/* ------------------------------------------------------------------ NIC -> peer */

static void socket_writable(NetSocketState *s)
{
    ssize_t n = send(s->fd, s->outbuf->data, s->outbuf->len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        socket_disconnect(s);
        return;
    }
    g_byte_array_remove_range(s->outbuf, 0, n);
    socket_update_handlers(s);
    if (!s->outbuf->len) {
        net_flush_queued_packets(s->nc);
    }
}

static ssize_t socket_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    NetSocketState *s = nc->opaque;
    uint8_t hdr[4] = { len >> 24, len >> 16, len >> 8, len };
    struct iovec iov[2] = { { hdr, 4 }, { (void *)buf, len } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    ssize_t n;

    if (s->fd < 0) {
        return len;             /* no peer: the cable is unplugged */
    }
    if (s->udp) {
        sendto(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
               (struct sockaddr *)&s->dgram_dst, sizeof(s->dgram_dst));
        return len;             /* datagrams may be lost, as on a wire */
    }
    if (s->outbuf->len) {
        return 0;               /* wait in the net core's queue until the socket drains */
    }
    n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        socket_disconnect(s);
        return len;
    }
    if (n < 0) {
        n = 0;
    }
    if ((size_t)n < 4 + len) {
        /* Keep the rest of this frame; the stream must not lose a byte of it. */
        if ((size_t)n < 4) {
            g_byte_array_append(s->outbuf, hdr + n, 4 - n);
            g_byte_array_append(s->outbuf, buf, len);
        } else {
            g_byte_array_append(s->outbuf, buf + (n - 4), len - (n - 4));
        }
        socket_update_handlers(s);
    }
    return len;
}

static void socket_cleanup(NetClientState *nc)
{
    NetSocketState *s = nc->opaque;

    s->closing = true;
    if (s->fd >= 0) {
        socket_set_fd_handler(s, s->fd, NULL, NULL);
    }
    if (s->listen_fd >= 0) {
        socket_set_fd_handler(s, s->listen_fd, NULL, NULL);
    }
    net_backend_context_release(s->ctx, s->iothread);
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_byte_array_unref(s->outbuf);
    g_free(s->rxbuf);
    g_free(s->desc);
    g_free(s);
}

static const NetClientInfo socket_info = {
    .type = NET_CLIENT_SOCKET,
    .receive = socket_receive,
    .cleanup = socket_cleanup,
};

/* ------------------------------------------------------------------ set-up */

static void socket_connected(NetSocketState *s, int fd)
{
    int one = 1;

    s->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!s->udp) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    socket_set_info(s, "");
    socket_update_handlers(s);
}

static void socket_accept(NetSocketState *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0) {
        return;
    }
    /* One peer at a time: stop listening until it goes away. */
    socket_set_fd_handler(s, s->listen_fd, NULL, NULL);
    socket_connected(s, fd);
}

/* "HOST:PORT" (HOST may be empty when allow_any) into an IPv4 address. */
static bool parse_host_port(const char *key, const char *text, bool allow_any,
                            struct sockaddr_in *sa, Error **errp)
{
    const char *colon = strrchr(text, ':');
    g_autofree char *host = NULL;
    struct addrinfo hints = { .ai_family = AF_INET }, *res = NULL;
    char *end;
    long port;

    if (!colon) {
        error_setg(errp, "Parameter '%s' expects HOST:PORT, got '%s'", key, text);
        return false;
    }
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) {
        error_setg(errp, "Parameter '%s': invalid port in '%s'", key, text);
        return false;
    }
    host = g_strndup(text, colon - text);
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (!*host) {
        if (!allow_any) {
            error_setg(errp, "Parameter '%s': a host is needed in '%s'", key, text);
            return false;
        }
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        return true;
    }
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        error_setg(errp, "Parameter '%s': cannot resolve host '%s'", key, host);
        return false;
    }
    sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

static NetClientState *net_socket_init(KiteOpts *opts, const char *id, Error **errp)
{
    const char *listen_s = kite_opts_get(opts, "listen");
    const char *connect_s = kite_opts_get(opts, "connect");
    const char *udp_s = kite_opts_get(opts, "udp");
    const char *local_s = kite_opts_get(opts, "localaddr");
    const char *mcast_s = kite_opts_get(opts, "mcast");
    const char *fd_s = kite_opts_get(opts, "fd");
    struct sockaddr_in sa, la;
    NetSocketState *s;
    int n = !!listen_s + !!connect_s + !!udp_s + !!mcast_s + !!fd_s, fd, one = 1;

    if (n != 1) {
        error_setg(errp, "exactly one of listen=, connect=, udp= or mcast= is required");
        return NULL;
    }
    if (mcast_s || fd_s) {
        error_setg(errp, "-netdev socket: %s= is not supported; use listen=/connect= or udp=",
                   mcast_s ? "mcast" : "fd");
        return NULL;
    }
    if (local_s && !udp_s) {
        error_setg(errp, "localaddr= is only valid with udp=");
        return NULL;
    }
    if (udp_s && !local_s) {
        error_setg(errp, "udp= requires localaddr=");
        return NULL;
    }

    s = g_new0(NetSocketState, 1);
    s->fd = s->listen_fd = -1;
    if (!net_backend_context(opts, &s->ctx, &s->iothread, errp)) {
        g_free(s);
        return NULL;
    }
    s->outbuf = g_byte_array_new();
    s->rxbuf = g_malloc(RXBUF_SIZE);

    if (listen_s) {
        if (!parse_host_port("listen", listen_s, true, &sa, errp)) {
            goto fail;
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
            error_setg_errno(errp, errno, "-netdev socket: cannot listen on %s", listen_s);
            if (fd >= 0) {
                close(fd);
            }
            goto fail;
        }
        s->listen_fd = fd;
        s->desc = g_strdup_printf("listen=%s", listen_s);
    } else if (connect_s) {
        if (!parse_host_port("connect", connect_s, false, &sa, errp)) {
            goto fail;
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            error_setg_errno(errp, errno, "-netdev socket: cannot connect to %s", connect_s);
            if (fd >= 0) {
                close(fd);
            }
            goto fail;
        }
        s->desc = g_strdup_printf("connect=%s", connect_s);
        s->fd = fd;
    } else {
        if (!parse_host_port("udp", udp_s, false, &sa, errp) ||
            !parse_host_port("localaddr", local_s, true, &la, errp)) {
            goto fail;
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)&la, sizeof(la)) < 0) {
            error_setg_errno(errp, errno, "-netdev socket: cannot bind %s", local_s);
            if (fd >= 0) {
                close(fd);
            }
            goto fail;
        }
        s->udp = true;
        s->dgram_dst = sa;
        s->desc = g_strdup_printf("udp=%s,localaddr=%s", udp_s, local_s);
        s->fd = fd;
    }

    s->nc = net_client_new(&socket_info, NULL, "socket", id, s);
    if (s->fd >= 0) {
        fd = s->fd;
        s->fd = -1;
        socket_connected(s, fd);
    } else {
        socket_set_fd_handler(s, s->listen_fd, socket_accept_handler, NULL);
        socket_set_info(s, " (waiting)");
    }
    return s->nc;

fail:
    if (s->iothread) {
        object_unref(s->iothread);
    }
    g_byte_array_unref(s->outbuf);
    g_free(s->rxbuf);
    g_free(s->desc);
    g_free(s);
    return NULL;
}

static void __attribute__((constructor)) net_socket_register(void)
{
    netdev_register_backend("socket", net_socket_init);
}
