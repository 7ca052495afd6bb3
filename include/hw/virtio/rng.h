/*
 * Entropy sources for virtio-rng, with QEMU's -object names:
 *   -object rng-random,id=r,filename=/dev/urandom    reads a file or device (non-blocking)
 *   -object rng-builtin,id=r                         the host's getrandom()
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_RNG_H
#define HW_VIRTIO_RNG_H

#include "kite/object.h"

#define TYPE_RNG_BACKEND "rng-backend"
#define TYPE_RNG_RANDOM "rng-random"
#define TYPE_RNG_BUILTIN "rng-builtin"

typedef struct RngBackend {
    Object parent_obj;
    int fd;                     /* rng-random: the open file; -1 otherwise */
    char *filename;
} RngBackend;

/* Read up to len bytes without blocking: > 0 bytes read, -EAGAIN when none are ready now
 * (wait for rng_backend_get_fd to be readable), other -errno on failure. */
ssize_t rng_backend_read(RngBackend *rng, void *buf, size_t len);
/* A file descriptor that becomes readable when more entropy is ready, or -1. */
int rng_backend_get_fd(RngBackend *rng);
/* getrandom() for devices without a backend. */
ssize_t rng_builtin_read(void *buf, size_t len);

#endif
