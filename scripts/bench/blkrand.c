/*
 * Random-offset block I/O for scripts/bench/blk.sh, run inside the Linux benchmark guest
 * (built static on the host and appended to the guest's initrd as a second cpio archive).
 *
 *   blkrand DEVICE read|write BLOCK COUNT SPAN_BYTES LABEL
 *
 * Does COUNT O_DIRECT preads or pwrites of BLOCK bytes at BLOCK-aligned offsets below
 * SPAN_BYTES, chosen by a fixed-seed generator so every emulator sees the same sequence,
 * and prints "BLK LABEL <seconds>" measured with the guest's CLOCK_MONOTONIC.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t state = 0x9e3779b97f4a7c15ull, block, count, slots;
    int writing, fd;
    void *buf;
    double t0;

    if (argc != 7 || (strcmp(argv[2], "read") && strcmp(argv[2], "write"))) {
        fprintf(stderr, "usage: blkrand DEVICE read|write BLOCK COUNT SPAN_BYTES LABEL\n");
        return 2;
    }
    writing = !strcmp(argv[2], "write");
    block = strtoull(argv[3], NULL, 0);
    count = strtoull(argv[4], NULL, 0);
    slots = block ? strtoull(argv[5], NULL, 0) / block : 0;
    if (block == 0 || block % 512 || slots == 0) {
        fprintf(stderr, "blkrand: BLOCK must be a multiple of 512 no larger than SPAN\n");
        return 2;
    }
    fd = open(argv[1], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0 || posix_memalign(&buf, 4096, block)) {
        perror("blkrand");
        return 1;
    }
    memset(buf, 0x5a, block);
    t0 = now();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t off;
        ssize_t n;

        /* xorshift64*: cheap, and the same offsets on every run */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        off = ((state * 0x2545f4914f6cdd1dull) >> 11) % slots * block;
        n = writing ? pwrite(fd, buf, block, off) : pread(fd, buf, block, off);
        if (n != (ssize_t)block) {
            fprintf(stderr, "blkrand: %s at %llu: %s\n", argv[2], (unsigned long long)off,
                    n < 0 ? strerror(errno) : "short transfer");
            return 1;
        }
    }
    printf("BLK %s %.6f\n", argv[6], now() - t0);
    return 0;
}
