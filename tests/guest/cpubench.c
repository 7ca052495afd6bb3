/*
 * cpubench: a fixed CPU-bound workload for the interpreter benchmark
 * (scripts/bench/cpuloop.sh), and a correctness check of what it computes.
 *
 * Each round rebuilds the same data from a seed and runs code shaped like a
 * kernel's hot paths: a table-driven CRC-32 (byte loads, shifts, xors), a
 * recursive quicksort (calls, returns, compares, unpredictable branches), an
 * FNV-1a hash of 16-bit words, a linked-list walk (dependent loads) and
 * word-wise copies.  Nothing touches a device inside a round, so the run time
 * is the interpreter's alone.  Every round must produce CPUBENCH_SUM (computed
 * by the same code compiled for the host); a wrong result fails the kernel.
 * Command line: rounds=N (default 1).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define N_SORT   4096
#define N_BUF    16384
#define N_LIST   2048
/* One round's checksum; see the header comment. */
#define CPUBENCH_SUM 0xfec8b695u

static uint32_t sort_a[N_SORT];
static uint8_t buf[N_BUF];
static uint8_t copy[N_BUF];
static uint32_t crc_table[256];
static struct node {
    struct node *next;
    uint32_t val;
} nodes[N_LIST];

static uint32_t rng_state;

static uint32_t rng(void)
{
    /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    for (size_t i = 0; i < n; i++) {
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

static void quicksort(uint32_t *a, int lo, int hi)
{
    while (lo < hi) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) {
                i++;
            }
            while (a[j] > pivot) {
                j--;
            }
            if (i <= j) {
                uint32_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* Recurse into the smaller part, loop on the larger. */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static uint32_t fnv16(const uint16_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static uint32_t one_round(void)
{
    uint32_t sum;

    rng_state = 2463534242u;
    for (int i = 0; i < N_BUF; i++) {
        buf[i] = (uint8_t)rng();
    }
    for (int i = 0; i < N_SORT; i++) {
        sort_a[i] = rng();
    }
    /* A list threaded through the array in a scrambled order. */
    for (int i = 0; i < N_LIST; i++) {
        nodes[i].val = rng();
        nodes[i].next = &nodes[(i * 1031 + 7) % N_LIST];
    }

    sum = crc32(buf, N_BUF);
    quicksort(sort_a, 0, N_SORT - 1);
    for (int i = 1; i < N_SORT; i++) {
        if (sort_a[i - 1] > sort_a[i]) {
            return 0;               /* not sorted: cannot match CPUBENCH_SUM */
        }
    }
    sum = sum * 31 + sort_a[N_SORT / 3] + sort_a[N_SORT - 1];
    sum = sum * 31 + fnv16((const uint16_t *)buf, N_BUF / 2);
    {
        const struct node *n = &nodes[0];
        uint32_t acc = 0;
        for (int i = 0; i < 4 * N_LIST; i++) {
            acc += n->val ^ (uint32_t)i;
            n = n->next;
        }
        sum = sum * 31 + acc;
    }
    for (int k = 0; k < 4; k++) {
        uint32_t *d = (uint32_t *)copy;
        const uint32_t *s = (const uint32_t *)buf;
        for (int i = 0; i < N_BUF / 4; i++) {
            d[i] = s[(i + k * 97) % (N_BUF / 4)] + (uint32_t)k;
        }
        sum = sum * 31 + crc32(copy, N_BUF);
    }
    return sum;
}

#ifdef CPUBENCH_HOST
/* cc -DCPUBENCH_HOST -I DIR cpubench.c, with a DIR/kernel.h including stdint.h,
 * stddef.h, stdbool.h and stdio.h: prints CPUBENCH_SUM. */
int main(void)
{
    crc_init();
    printf("0x%08xu\n", one_round());
    return 0;
}
#else
void test_main(void)
{
    uint32_t rounds = (uint32_t)cmdline_get_uint("rounds", 1);

    crc_init();
    for (uint32_t r = 0; r < rounds; r++) {
        uint32_t sum = one_round();
        if (sum != CPUBENCH_SUM) {
            CHECK(false, "cpubench: round %u computed 0x%08x, expected 0x%08x", r, sum,
                  CPUBENCH_SUM);
            return;
        }
    }
    printf("cpubench: %u rounds, checksum 0x%08x\n", rounds, CPUBENCH_SUM);
}
#endif
