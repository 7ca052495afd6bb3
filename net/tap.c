/*
 * -netdev tap: frames through a Linux TAP interface (/dev/net/tun, IFF_TAP | IFF_NO_PI).
 *
 *   ifname=NAME          the interface to create or attach to (default: the kernel's tapN)
 *   script=PATH|no       run PATH IFNAME after opening (QEMU's default /etc/qemu-ifup)
 *   downscript=PATH|no   run PATH IFNAME when the netdev goes away (default /etc/qemu-ifdown)
 *   vnet_hdr=on|off      a virtio-net header in front of every frame (IFF_VNET_HDR), so a
 *                        virtio-net NIC can hand checksum and segmentation work to the host
 *                        kernel.  Default: on if the kernel supports it; on fails if not.
 *   iothread=ID          poll and read the tap in that iothread (Kite's; QEMU has no such
 *                        option): a burst of frames is read there without the BQL, which is
 *                        then taken once to hand the burst to the NIC.
 *
 * With vnet_hdr the header (12 bytes, TUNSETVNETHDRSZ) is always on the wire to the kernel;
 * for NICs that did not ask for it (net_peer_using_vnet_hdr) it is stripped on read and a zero
 * header is prepended on write.  Offloads into the guest are only switched on (TUNSETOFFLOAD)
 * when the NIC says the guest accepts them, so otherwise the kernel hands over complete frames.
 *
 * Flow control: frames the NIC cannot take (at most one burst) wait in the net core's queue and
 * reading the tap fd stops until their sent callbacks (the kernel queue then fills and drops, as
 * a real NIC's ring would); a frame the kernel cannot take (EAGAIN) stays in the net core's
 * queue until the fd is writable.  Writes to the tap happen in the NIC's thread, under the BQL.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "net/net.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define TAP_BUF_SIZE (NET_MAX_FRAME + NET_VNET_HDR_LEN)
#define TAP_READ_BURST 64               /* frames per read handler call */
/* The burst buffer: frames are packed, so it holds 64 full-size Ethernet frames, at least 7 of
 * the largest (GSO) ones. */
#define TAP_BURST_BYTES (8 * TAP_BUF_SIZE)
#define DEFAULT_SCRIPT "/etc/qemu-ifup"
#define DEFAULT_DOWNSCRIPT "/etc/qemu-ifdown"

typedef struct TAPState {
    NetClientState *nc;
    int fd;
    char ifname[IFNAMSIZ];
    char *downscript;
    bool vnet_hdr;              /* the fd carries virtio-net headers */
    bool using_vnet_hdr;        /* ... and the NIC wants to see them */
    KiteContext *ctx;           /* where the fd handlers run */
    Object *iothread;           /* iothread=: a reference on it, else NULL */
    /* Under the BQL: */
    bool read_paused;           /* frames wait in the NIC's queue (queued of them) */
    unsigned queued;
    bool write_wait;
    bool closing;               /* cleanup started: never register handlers again */
    /* The read handler's own (one thread at a time): */
    uint8_t *buf;               /* TAP_BURST_BYTES */
    size_t burst_len[TAP_READ_BURST];
    size_t burst_off[TAP_READ_BURST];
} TAPState;

static void tap_read(void *opaque);
static void tap_writable(void *opaque);

/* Under the BQL (or in the main loop). */
static void tap_update_handlers(TAPState *s)
{
    if (s->closing) {
        return;
    }
    kite_context_set_fd_handler(s->ctx, s->fd, s->read_paused ? NULL : tap_read,
                                s->write_wait ? tap_writable : NULL, s);
}

static void tap_send_completed(NetClientState *nc, ssize_t len)
{
    TAPState *s = nc->opaque;

    if (s->queued && --s->queued == 0 && s->read_paused) {
        s->read_paused = false;
        tap_update_handlers(s);
    }
}

static void tap_read(void *opaque)
{
    TAPState *s = opaque;
    bool take = !bql_locked();
    bool dead = false;
    size_t off = 0;
    int count = 0;

    /*
     * Read a burst first.  In an iothread this runs without the BQL: only this handler uses
     * the fd for reading and the burst buffer, and it is unregistered (under the BQL) before
     * the state goes away.
     */
    while (count < TAP_READ_BURST && TAP_BURST_BYTES - off >= TAP_BUF_SIZE) {
        ssize_t n = read(s->fd, s->buf + off, TAP_BUF_SIZE);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;              /* drained */
        }
        if (n <= 0) {
            dead = true;
            break;
        }
        s->burst_off[count] = off;
        s->burst_len[count] = n;
        count++;
        off += n;
    }
    if (!count && !dead) {
        return;
    }
    if (take) {
        bql_lock();
    }
    if (s->closing) {
        goto out;
    }
    for (int i = 0; i < count; i++) {
        uint8_t *frame = s->buf + s->burst_off[i];
        size_t len = s->burst_len[i];

        /* using_vnet_hdr belongs to the NIC side: read it under the BQL. */
        if (s->vnet_hdr && !s->using_vnet_hdr) {
            if (len < NET_VNET_HDR_LEN) {
                continue;
            }
            frame += NET_VNET_HDR_LEN;
            len -= NET_VNET_HDR_LEN;
        }
        /* A frame the NIC cannot take now is queued with it (the burst bounds how many). */
        if (net_send_packet_async(s->nc, frame, len, tap_send_completed) == 0) {
            s->queued++;
        }
    }
    if (dead) {
        /* The interface went away under us: stop polling a dead fd. */
        warn_report("netdev %s: reading %s failed; no more frames from it",
                    s->nc->name, s->ifname);
        s->read_paused = true;
        s->write_wait = false;
        kite_context_set_fd_handler(s->ctx, s->fd, NULL, NULL, NULL);
    } else if (s->queued && !s->read_paused) {
        s->read_paused = true;
        tap_update_handlers(s);
    }
out:
    if (take) {
        bql_unlock();
    }
}

static void tap_writable(void *opaque)
{
    TAPState *s = opaque;
    bool take = !bql_locked();

    if (take) {
        bql_lock();
    }
    if (!s->closing) {
        s->write_wait = false;
        tap_update_handlers(s);
        net_flush_queued_packets(s->nc);
    }
    if (take) {
        bql_unlock();
    }
}

static ssize_t tap_receive_iov(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    TAPState *s = nc->opaque;
    static const uint8_t zero_hdr[NET_VNET_HDR_LEN];
    struct iovec *v = g_newa(struct iovec, iovcnt + 1);
    size_t len = 0;
    int cnt = 0;
    ssize_t n;

    if (s->vnet_hdr && !s->using_vnet_hdr) {
        v[cnt++] = (struct iovec) { .iov_base = (void *)zero_hdr, .iov_len = NET_VNET_HDR_LEN };
    }
    for (int i = 0; i < iovcnt; i++) {
        v[cnt++] = iov[i];
        len += iov[i].iov_len;
    }
    n = writev(s->fd, v, cnt);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        s->write_wait = true;
        tap_update_handlers(s);
        return 0;
    }
    /* Other errors (interface down, bad frame): the frame is gone, like on a cable. */
    return len;
}

static bool tap_has_vnet_hdr(NetClientState *nc)
{
    return ((TAPState *)nc->opaque)->vnet_hdr;
}

static void tap_set_offload(NetClientState *nc, bool csum, bool tso4, bool tso6, bool ecn,
                            bool ufo)
{
    TAPState *s = nc->opaque;
    unsigned off = 0;

    if (!s->vnet_hdr) {
        return;
    }
    if (csum) {
        off |= TUN_F_CSUM;
        off |= tso4 ? TUN_F_TSO4 : 0;
        off |= tso6 ? TUN_F_TSO6 : 0;
        off |= (ecn && (tso4 || tso6)) ? TUN_F_TSO_ECN : 0;
        off |= ufo ? TUN_F_UFO : 0;
    }
    if (ioctl(s->fd, TUNSETOFFLOAD, off) < 0 && (off & TUN_F_UFO)) {
        /* Kernels since 4.14 refuse UFO; the rest still helps. */
        ioctl(s->fd, TUNSETOFFLOAD, off & ~TUN_F_UFO);
    }
}

static void tap_using_vnet_hdr(NetClientState *nc, bool enable)
{
    TAPState *s = nc->opaque;

    s->using_vnet_hdr = s->vnet_hdr && enable;
    if (!s->using_vnet_hdr) {
        tap_set_offload(nc, false, false, false, false, false);
    }
}

static bool run_script(const char *script, const char *ifname, Error **errp)
{
    pid_t pid = fork();
    int status;

    if (pid < 0) {
        error_setg_errno(errp, errno, "could not launch network script %s", script);
        return false;
    }
    if (pid == 0) {
        execl(script, script, ifname, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            error_setg_errno(errp, errno, "network script %s", script);
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error_setg(errp, "network script %s failed with status %d", script, status);
        return false;
    }
    return true;
}

static void tap_cleanup(NetClientState *nc)
{
    TAPState *s = nc->opaque;

    s->closing = true;
    kite_context_set_fd_handler(s->ctx, s->fd, NULL, NULL, NULL);
    net_backend_context_release(s->ctx, s->iothread);
    if (s->downscript) {
        Error *err = NULL;
        if (!run_script(s->downscript, s->ifname, &err)) {
            warn_report_err(err);
        }
    }
    close(s->fd);
    g_free(s->downscript);
    g_free(s->buf);
    g_free(s);
}

static const NetClientInfo tap_info = {
    .type = NET_CLIENT_TAP,
    .receive_iov = tap_receive_iov,
    .has_vnet_hdr = tap_has_vnet_hdr,
    .using_vnet_hdr = tap_using_vnet_hdr,
    .set_offload = tap_set_offload,
    .cleanup = tap_cleanup,
};

static NetClientState *net_tap_init(KiteOpts *opts, const char *id, Error **errp)
{
    const char *ifname = kite_opts_get(opts, "ifname");
    const char *script = kite_opts_get(opts, "script");
    const char *downscript = kite_opts_get(opts, "downscript");
    const char *vh = kite_opts_get(opts, "vnet_hdr");
    struct ifreq ifr = { 0 };
    unsigned features = 0;
    bool want_vnet = true, vnet_required = false;
    int fd, hdrsz = NET_VNET_HDR_LEN;
    KiteContext *ctx;
    Object *iothread;
    TAPState *s;

    if (kite_opts_get(opts, "fd") || kite_opts_get(opts, "fds") ||
        kite_opts_get(opts, "helper") || kite_opts_get(opts, "queues")) {
        error_setg(errp, "-netdev tap: fd=, fds=, helper= and queues= are not supported");
        return NULL;
    }
    if (vh) {
        if (!strcmp(vh, "on")) {
            vnet_required = true;
        } else if (!strcmp(vh, "off")) {
            want_vnet = false;
        } else {
            error_setg(errp, "Parameter 'vnet_hdr' expects 'on' or 'off'");
            return NULL;
        }
    }
    if (!net_backend_context(opts, &ctx, &iothread, errp)) {
        return NULL;
    }
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        error_setg(errp, "Parameter 'ifname': '%s' is longer than %d characters", ifname,
                   IFNAMSIZ - 1);
        goto fail;
    }
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open /dev/net/tun");
        goto fail;
    }
    if (ioctl(fd, TUNGETFEATURES, &features) < 0) {
        features = 0;
    }
    if (vnet_required && !(features & IFF_VNET_HDR)) {
        error_setg(errp, "vnet_hdr=on, but the host kernel does not support IFF_VNET_HDR");
        close(fd);
        goto fail;
    }
    want_vnet = want_vnet && (features & IFF_VNET_HDR);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (want_vnet ? IFF_VNET_HDR : 0);
    if (ifname) {
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error_setg_errno(errp, errno, "could not configure /dev/net/tun (%s)",
                         ifname ? ifname : "tap%d");
        close(fd);
        goto fail;
    }
    if (want_vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
        error_setg_errno(errp, errno, "could not set the vnet header size of %s",
                         ifr.ifr_name);
        close(fd);
        goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!script) {
        script = DEFAULT_SCRIPT;
    }
    if (!downscript) {
        downscript = DEFAULT_DOWNSCRIPT;
    }
    if (strcmp(script, "no") && !run_script(script, ifr.ifr_name, errp)) {
        close(fd);
        goto fail;
    }

    s = g_new0(TAPState, 1);
    s->fd = fd;
    memcpy(s->ifname, ifr.ifr_name, IFNAMSIZ);
    s->ifname[IFNAMSIZ - 1] = 0;
    s->vnet_hdr = want_vnet;
    s->downscript = strcmp(downscript, "no") ? g_strdup(downscript) : NULL;
    s->buf = g_malloc(TAP_BURST_BYTES);
    s->ctx = ctx;
    s->iothread = iothread;
    s->nc = net_client_new(&tap_info, NULL, "tap", id, s);
    snprintf(s->nc->info_str, sizeof(s->nc->info_str), "ifname=%s,script=%s,downscript=%s%s%s",
             s->ifname, script, downscript, iothread ? ",iothread=" : "",
             iothread ? kite_opts_get(opts, "iothread") : "");
    /* Frames are plain until a NIC asks for headers. */
    tap_set_offload(s->nc, false, false, false, false, false);
    tap_update_handlers(s);
    return s->nc;

fail:
    if (iothread) {
        object_unref(iothread);
    }
    return NULL;
}

static void __attribute__((constructor)) net_tap_register(void)
{
    netdev_register_backend("tap", net_tap_init);
}
