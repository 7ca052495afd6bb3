/*
 * Scatter/gather lists (struct iovec) as the block layer and devices pass them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_IOV_H
#define KITE_IOV_H

#include "kite/osdep.h"
#include <sys/uio.h>

size_t iov_size(const struct iovec *iov, int niov);
/* Copy between a flat buffer and the iovec starting at byte offset; returns bytes copied. */
size_t iov_to_buf(const struct iovec *iov, int niov, size_t offset, void *buf, size_t bytes);
size_t iov_from_buf(const struct iovec *iov, int niov, size_t offset, const void *buf,
                    size_t bytes);
size_t iov_memset(const struct iovec *iov, int niov, size_t offset, int c, size_t bytes);

#endif
