/*
 * virtio-rng (virtio 1.2 section 5.4): the driver posts device-writable buffers on queue 0
 * and the device fills them with entropy.  There is no config space and no feature bit.
 *
 * Rate limiting follows QEMU's virtio-rng: at most max-bytes per period milliseconds of
 * virtual time; a request that finds the quota spent waits for the next period.  A backend
 * with nothing to give (a drained /dev/random) leaves the buffer on the ring and the device
 * retries when the backend's fd becomes readable.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio-rng.h"
#include "kite/log.h"
#include "kite/main-loop.h"
#include "kite/timer.h"

static VirtIORNG *vdev_rng(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIORNG, vdev);
}

static void virtio_rng_process(VirtIORNG *s);

static void virtio_rng_fd_ready(void *opaque)
{
    VirtIORNG *s = opaque;

    kite_set_fd_handler(rng_backend_get_fd(s->rng), NULL, NULL, NULL);
    s->fd_wait = false;
    virtio_rng_process(s);
}

static ssize_t virtio_rng_read(VirtIORNG *s, void *buf, size_t len)
{
    return s->rng ? rng_backend_read(s->rng, buf, len) : rng_builtin_read(buf, len);
}

static void virtio_rng_process(VirtIORNG *s)
{
    VirtIODevice *vdev = &s->vdev;
    VirtQueueElement *elem;
    bool pushed = false;

    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) || s->fd_wait) {
        return;
    }
    while (s->quota_remaining > 0 && (elem = virtqueue_pop(s->vq, sizeof(*elem)))) {
        size_t want = MIN(virtio_iov_size(elem->in_sg, elem->in_num),
                          (uint64_t)s->quota_remaining);
        g_autofree uint8_t *buf = NULL;
        ssize_t n;

        if (want == 0) {
            /* 5.4.6.1: only device-writable buffers carry entropy; give an empty one back. */
            virtqueue_push(s->vq, elem, 0);
            g_free(elem);
            pushed = true;
            continue;
        }
        want = MIN(want, 64 * KiB);
        buf = g_malloc(want);
        n = virtio_rng_read(s, buf, want);
        if (n <= 0) {
            virtqueue_unpop(s->vq, elem);
            g_free(elem);
            if (n == -EAGAIN && s->rng && rng_backend_get_fd(s->rng) >= 0) {
                s->fd_wait = true;
                kite_set_fd_handler(rng_backend_get_fd(s->rng), virtio_rng_fd_ready, NULL, s);
            } else if (n != -EAGAIN) {
                kite_log_mask(LOG_GUEST_ERROR, "virtio-rng: entropy source failed: %s\n",
                              g_strerror((int)-n));
            }
            break;
        }
        virtio_iov_from_buf(elem->in_sg, elem->in_num, 0, buf, n);
        virtqueue_push(s->vq, elem, n);
        g_free(elem);
        pushed = true;
        s->quota_remaining -= n;
        if (!timer_pending(s->rate_timer)) {
            /* The period starts with its first byte. */
            timer_mod_ns(s->rate_timer,
                         clock_get_ns(KITE_CLOCK_VIRTUAL) + (int64_t)s->period_ms * 1000000);
        }
    }
    if (pushed) {
        virtio_notify(vdev, s->vq);
    }
}

static void virtio_rng_rate_expired(void *opaque)
{
    VirtIORNG *s = opaque;

    s->quota_remaining = s->max_bytes > INT64_MAX ? INT64_MAX : (int64_t)s->max_bytes;
    virtio_rng_process(s);
}

static void virtio_rng_handle_request(VirtIODevice *vdev, VirtQueue *vq)
{
    virtio_rng_process(vdev_rng(vdev));
}

static void virtio_rng_cancel_wait(VirtIORNG *s)
{
    if (s->fd_wait) {
        kite_set_fd_handler(rng_backend_get_fd(s->rng), NULL, NULL, NULL);
        s->fd_wait = false;
    }
}

static void virtio_rng_reset(VirtIODevice *vdev)
{
    VirtIORNG *s = vdev_rng(vdev);

    virtio_rng_cancel_wait(s);
    timer_del(s->rate_timer);
    s->quota_remaining = s->max_bytes > INT64_MAX ? INT64_MAX : (int64_t)s->max_bytes;
}

static void virtio_rng_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIORNG *s = vdev_rng(vdev);

    /* Buffers posted before DRIVER_OK are served once the driver is ready. */
    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        vdev->status = status;
        virtio_rng_process(s);
    }
}

static const VirtioDeviceOps virtio_rng_ops = {
    .reset = virtio_rng_reset,
    .set_status = virtio_rng_set_status,
};

void virtio_rng_realize(VirtIORNG *s, Error **errp)
{
    if (s->period_ms == 0) {
        error_setg(errp, "virtio-rng: 'period' parameter expects a positive integer");
        return;
    }
    if (s->max_bytes == 0 || s->max_bytes > INT64_MAX) {
        error_setg(errp, "virtio-rng: 'max-bytes' parameter must be between 1 and 2^63-1");
        return;
    }
    virtio_init(&s->vdev, "virtio-rng", VIRTIO_ID_RNG, &virtio_rng_ops, 0);
    s->vq = virtio_add_queue(&s->vdev, 8, virtio_rng_handle_request);
    s->rate_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, virtio_rng_rate_expired, s);
    s->quota_remaining = (int64_t)s->max_bytes;
}

void virtio_rng_unrealize(VirtIORNG *s)
{
    virtio_rng_cancel_wait(s);
    timer_free(s->rate_timer);
    s->rate_timer = NULL;
    virtio_cleanup(&s->vdev);
}

const VMStateDescription vmstate_virtio_rng = {
    .name = "virtio-rng", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(vdev, VirtIORNG, vmstate_virtio, VirtIODevice),
        VMSTATE_INT64(quota_remaining, VirtIORNG),
        VMSTATE_TIMER_PTR(rate_timer, VirtIORNG),
        VMSTATE_END_OF_LIST()
    },
};
