/*
 * virtio entropy device (virtio 1.2 section 5.4): one request queue whose device-writable
 * buffers the device fills with random bytes.  Transport-independent: a transport device
 * (virtio-rng-pci) embeds a VirtIORNG and calls virtio_rng_realize/unrealize.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_RNG_H
#define HW_VIRTIO_VIRTIO_RNG_H

#include "hw/virtio/virtio.h"
#include "hw/virtio/rng.h"

#define VIRTIO_ID_RNG 4

typedef struct KiteTimer KiteTimer;

typedef struct VirtIORNG {
    VirtIODevice vdev;
    VirtQueue *vq;
    /* properties (QEMU's names): rng=, max-bytes=, period= (ms) */
    RngBackend *rng;            /* NULL: getrandom */
    uint64_t max_bytes;
    uint32_t period_ms;
    /* rate limiting: bytes still allowed in this period; the timer starts the next one */
    int64_t quota_remaining;
    KiteTimer *rate_timer;
    bool fd_wait;               /* waiting for the backend's fd to become readable */
} VirtIORNG;

void virtio_rng_realize(VirtIORNG *s, Error **errp);
void virtio_rng_unrealize(VirtIORNG *s);

extern const VMStateDescription vmstate_virtio_rng;

#endif
