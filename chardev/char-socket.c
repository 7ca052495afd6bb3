/*
 * socket backend: unix (path=) or TCP (host=, port=), as a server or a client.
 *
 * A server listens for one peer at a time: while a peer is connected the listening socket is
 * not polled, so a second client waits in the backlog, as in QEMU.  With wait=on (the default
 * for servers) start-up blocks until the first peer connects.  A client connects at start-up
 * and fails if it cannot, unless reconnect=S (or reconnect-ms=MS) is set: then it connects in
 * the background and again after each disconnect, without ever blocking the main loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/cutils.h"
#include "kite/timer.h"
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

typedef struct SocketChardev {
    Chardev parent;
    char *path, *host, *port;
    bool is_unix, server, wait, nodelay, ipv4, ipv6;
    uint64_t reconnect_ms;
    int listen_fd;
    int connect_fd;              /* a non-blocking connect in progress */
    bool connected;
    bool warned;                 /* reconnect failure reported for this outage */
    int local_port;              /* TCP server: the port bound (port=0 resolves here) */
    char *desc;                  /* "unix:/tmp/s,server=on" */
    KiteTimer *reconnect_timer;
} SocketChardev;
#define SOCKET_CHARDEV(obj) OBJECT_CHECK(SocketChardev, obj, TYPE_CHARDEV_SOCKET)

/* --- options --- */

static bool socket_parse(Chardev *chr, KiteOpts *opts, Error **errp)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);
    const char *path = kite_opts_get(opts, "path");
    const char *host = kite_opts_get(opts, "host");
    const char *port = kite_opts_get(opts, "port");
    bool wait_given = kite_opts_has(opts, "wait");
    bool telnet = false;
    uint64_t reconnect_s = 0, portnum = 0;

    s->wait = true;
    if (!kite_opts_get_bool(opts, "server", &s->server, errp) ||
        !kite_opts_get_bool(opts, "wait", &s->wait, errp) ||
        !kite_opts_get_bool(opts, "nodelay", &s->nodelay, errp) ||
        !kite_opts_get_bool(opts, "ipv4", &s->ipv4, errp) ||
        !kite_opts_get_bool(opts, "ipv6", &s->ipv6, errp) ||
        !kite_opts_get_bool(opts, "telnet", &telnet, errp) ||
        !kite_opts_get_uint(opts, "reconnect", &reconnect_s, errp) ||
        !kite_opts_get_uint(opts, "reconnect-ms", &s->reconnect_ms, errp)) {
        return false;
    }
    if (telnet) {
        error_setg(errp, "chardev socket: telnet=on is not supported");
        return false;
    }
    if (reconnect_s) {
        s->reconnect_ms = reconnect_s * 1000;
    }
    if (path && (host || port)) {
        error_setg(errp, "chardev socket: give either 'path' (unix) or 'host'/'port' (tcp)");
        return false;
    }
    if (path) {
        if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            error_setg(errp, "chardev socket: invalid unix socket path '%s'", path);
            return false;
        }
        s->is_unix = true;
        s->path = g_strdup(path);
    } else {
        if (!port) {
            error_setg(errp, "chardev socket: needs 'path' (unix) or 'port' (tcp)");
            return false;
        }
        if (!parse_uint64(port, &portnum) || portnum > 65535) {
            error_setg(errp, "chardev socket: invalid port '%s'", port);
            return false;
        }
        if (portnum == 0 && !s->server) {
            error_setg(errp, "chardev socket: port 0 only makes sense with server=on");
            return false;
        }
        s->host = g_strdup(host ? host : "");
        s->port = g_strdup(port);
    }
    if (!s->server && wait_given) {
        error_setg(errp, "'wait' option is incompatible with socket in client connect mode");
        return false;
    }
    if (s->server && s->reconnect_ms) {
        error_setg(errp, "'reconnect' option is incompatible with socket in server listen mode");
        return false;
    }
    return true;
}

/* --- state --- */

static void socket_update_filename(SocketChardev *s)
{
    g_free(s->desc);
    if (s->is_unix) {
        s->desc = g_strdup_printf("unix:%s%s", s->path, s->server ? ",server=on" : "");
    } else {
        s->desc = g_strdup_printf("tcp:%s:%d%s", s->host, s->server ? s->local_port
                                  : atoi(s->port), s->server ? ",server=on" : "");
    }
    chardev_set_filename(CHARDEV(s), "%s%s", s->connected ? "" : "disconnected:", s->desc);
}

static void socket_accept(void *opaque);

static void socket_listen_poll(SocketChardev *s, bool on)
{
    if (s->listen_fd >= 0) {
        kite_set_fd_handler(s->listen_fd, on ? socket_accept : NULL, NULL, s);
    }
}

static void socket_connected(SocketChardev *s, int fd)
{
    Chardev *chr = CHARDEV(s);
    int one = 1;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!s->is_unix && s->nodelay) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    socket_listen_poll(s, false);     /* one peer at a time */
    s->connected = true;
    s->warned = false;
    chardev_fd_attach(chr, fd, fd, true);
    socket_update_filename(s);
    chardev_be_event(chr, CHR_EVENT_OPENED);
}

static void socket_hangup(Chardev *chr)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);

    if (!s->connected) {
        return;
    }
    chardev_fd_detach(chr);
    s->connected = false;
    socket_update_filename(s);
    chardev_be_event(chr, CHR_EVENT_CLOSED);
    if (s->server) {
        socket_listen_poll(s, true);
    } else if (s->reconnect_ms) {
        timer_mod_ns(s->reconnect_timer,
                     clock_get_ns(KITE_CLOCK_REALTIME) + s->reconnect_ms * 1000000);
    }
}

/* --- server --- */

static void socket_accept(void *opaque)
{
    SocketChardev *s = opaque;
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd >= 0) {
        socket_connected(s, fd);
    }
}

static int socket_listen_unix(SocketChardev *s, Error **errp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
    /* A stale socket from an earlier run would make bind fail; QEMU removes it too. */
    unlink(s->path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "cannot listen on unix socket '%s'", s->path);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static struct addrinfo *socket_resolve(SocketChardev *s, bool passive, Error **errp)
{
    struct addrinfo hints = {
        .ai_family = s->ipv4 && !s->ipv6 ? AF_INET : s->ipv6 && !s->ipv4 ? AF_INET6 : AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = passive ? AI_PASSIVE : 0,
    };
    struct addrinfo *res = NULL;
    const char *host = *s->host ? s->host : passive ? NULL : "localhost";
    int r = getaddrinfo(host, s->port, &hints, &res);

    if (r) {
        error_setg(errp, "cannot resolve '%s:%s': %s", s->host, s->port, gai_strerror(r));
        return NULL;
    }
    return res;
}

static int socket_listen_tcp(SocketChardev *s, Error **errp)
{
    struct addrinfo *res = socket_resolve(s, true, errp), *ai;
    int fd = -1, err = 0, one = 1;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) {
            break;
        }
        err = errno;
        close(fd);
        fd = -1;
    }
    if (res) {
        freeaddrinfo(res);
        if (fd < 0) {
            error_setg_errno(errp, err, "cannot listen on '%s:%s'", s->host, s->port);
        }
    }
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &len);
        s->local_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

/* --- client --- */

static void socket_reconnect(void *opaque);

static void socket_connect_done(void *opaque)
{
    SocketChardev *s = opaque;
    int fd = s->connect_fd, err = 0;
    socklen_t len = sizeof(err);

    kite_set_fd_handler(fd, NULL, NULL, NULL);
    s->connect_fd = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err) {
        close(fd);
        if (!s->warned) {
            s->warned = true;
            warn_report("chardev '%s': cannot connect to '%s': %s (retrying every %" PRIu64
                        " ms)", CHARDEV(s)->id, s->desc, g_strerror(err), s->reconnect_ms);
        }
        timer_mod_ns(s->reconnect_timer,
                     clock_get_ns(KITE_CLOCK_REALTIME) + s->reconnect_ms * 1000000);
        return;
    }
    socket_connected(s, fd);
}

/* Start connecting; 0 connected (fd in *fdp), 1 in progress (*fdp), -1 failed (errno). */
static int socket_connect_fd(SocketChardev *s, bool blocking, int *fdp, Error **errp)
{
    struct addrinfo *res = NULL, *ai, unix_ai = { 0 };
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = -1, ret = -1, err = 0;

    if (s->is_unix) {
        g_strlcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
        unix_ai = (struct addrinfo){ .ai_family = AF_UNIX, .ai_socktype = SOCK_STREAM,
                                     .ai_addr = (struct sockaddr *)&sun,
                                     .ai_addrlen = sizeof(sun) };
        ai = &unix_ai;
    } else {
        res = socket_resolve(s, false, errp);
        if (!res) {
            return -1;
        }
        ai = res;
    }
    for (; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
                    (blocking ? 0 : SOCK_NONBLOCK), ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            ret = 0;
            break;
        }
        err = errno;
        if (!blocking && err == EINPROGRESS) {
            ret = 1;
            break;
        }
        close(fd);
        fd = -1;
    }
    if (res) {
        freeaddrinfo(res);
    }
    if (ret < 0) {
        errno = err;
        error_setg_errno(errp, err, "cannot connect to '%s'", s->desc);
        return -1;
    }
    *fdp = fd;
    return ret;
}

static void socket_reconnect(void *opaque)
{
    SocketChardev *s = opaque;
    Error *err = NULL;
    int fd, r;

    if (s->connected || s->connect_fd >= 0) {
        return;
    }
    r = socket_connect_fd(s, false, &fd, &err);
    if (r == 0) {
        socket_connected(s, fd);
    } else if (r == 1) {
        s->connect_fd = fd;
        kite_set_fd_handler(fd, NULL, socket_connect_done, s);
    } else {
        if (!s->warned) {
            s->warned = true;
            warn_report("chardev '%s': %s (retrying every %" PRIu64 " ms)",
                        CHARDEV(s)->id, error_get_pretty(err), s->reconnect_ms);
        }
        timer_mod_ns(s->reconnect_timer,
                     clock_get_ns(KITE_CLOCK_REALTIME) + s->reconnect_ms * 1000000);
    }
    error_free(err);
}

/* --- open/close --- */

static bool socket_open(Chardev *chr, Error **errp)
{
    SocketChardev *s = SOCKET_CHARDEV(chr);
    int fd;

    if (!s->server) {
        socket_update_filename(s);
        s->reconnect_timer = timer_new_ns(KITE_CLOCK_REALTIME, socket_reconnect, s);
        if (s->reconnect_ms) {
            socket_reconnect(s);
            return true;
        }
        if (socket_connect_fd(s, true, &fd, errp) < 0) {
            return false;
        }
        socket_connected(s, fd);
        return true;
    }

    s->listen_fd = s->is_unix ? socket_listen_unix(s, errp) : socket_listen_tcp(s, errp);
    if (s->listen_fd < 0) {
        return false;
    }
    fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
    socket_update_filename(s);
    if (s->wait) {
        struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
        /* Start-up only: nothing runs yet that the wait could starve. */
        info_report("waiting for connection on: %s", chr->filename);
        while (!s->connected) {
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
                error_setg_errno(errp, errno, "waiting for a connection on '%s'", s->desc);
                return false;
            }
            socket_accept(s);
        }
        return true;
    }
    socket_listen_poll(s, true);
    return true;
}

int chardev_socket_get_port(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_SOCKET);

    return s && !s->is_unix && s->server ? s->local_port : -1;
}

static void socket_instance_init(Object *obj)
{
    SocketChardev *s = SOCKET_CHARDEV(obj);

    s->listen_fd = s->connect_fd = -1;
}

static void socket_finalize(Object *obj)
{
    SocketChardev *s = SOCKET_CHARDEV(obj);

    timer_free(s->reconnect_timer);
    if (s->connect_fd >= 0) {
        kite_set_fd_handler(s->connect_fd, NULL, NULL, NULL);
        close(s->connect_fd);
    }
    if (s->listen_fd >= 0) {
        kite_set_fd_handler(s->listen_fd, NULL, NULL, NULL);
        close(s->listen_fd);
        if (s->is_unix) {
            unlink(s->path);
        }
    }
    g_free(s->path);
    g_free(s->host);
    g_free(s->port);
    g_free(s->desc);
}

static void socket_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->parse = socket_parse;
    cc->open = socket_open;
    cc->hangup = socket_hangup;
}

static const TypeInfo socket_type = {
    .name = TYPE_CHARDEV_SOCKET,
    .parent = TYPE_CHARDEV,
    .desc = "unix (path=) or tcp (host=,port=) socket, server=on[,wait=off] or client "
            "[reconnect=S]",
    .instance_size = sizeof(SocketChardev),
    .class_init = socket_class_init,
    .instance_init = socket_instance_init,
    .instance_finalize = socket_finalize,
};
KITE_TYPE_REGISTER(socket_type)
