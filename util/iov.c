/*
 * Scatter/gather list helpers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/iov.h"

size_t iov_size(const struct iovec *iov, int niov)
{
    size_t n = 0;

    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

/* Walk the iovec from byte offset, calling fn on each piece of up to bytes in total. */
static size_t iov_walk(const struct iovec *iov, int niov, size_t offset, size_t bytes,
                       void (*fn)(void *iov_base, size_t done, size_t len, void *arg),
                       void *arg)
{
    size_t done = 0;

    for (int i = 0; i < niov && done < bytes; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        size_t len = MIN(iov[i].iov_len - offset, bytes - done);
        fn((char *)iov[i].iov_base + offset, done, len, arg);
        done += len;
        offset = 0;
    }
    return done;
}

static void to_buf(void *base, size_t done, size_t len, void *arg)
{
    memcpy((char *)arg + done, base, len);
}

static void from_buf(void *base, size_t done, size_t len, void *arg)
{
    memcpy(base, (const char *)arg + done, len);
}

static void set_byte(void *base, size_t done, size_t len, void *arg)
{
    memset(base, *(int *)arg, len);
}

size_t iov_to_buf(const struct iovec *iov, int niov, size_t offset, void *buf, size_t bytes)
{
    return iov_walk(iov, niov, offset, bytes, to_buf, buf);
}

size_t iov_from_buf(const struct iovec *iov, int niov, size_t offset, const void *buf,
                    size_t bytes)
{
    return iov_walk(iov, niov, offset, bytes, from_buf, (void *)buf);
}

size_t iov_memset(const struct iovec *iov, int niov, size_t offset, int c, size_t bytes)
{
    return iov_walk(iov, niov, offset, bytes, set_byte, &c);
}
