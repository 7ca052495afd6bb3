/*
 * Common includes and helpers every Kite source file starts with.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_OSDEP_H
#define KITE_OSDEP_H

#include "kite-config.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <glib.h>

typedef uint64_t hwaddr;
#define HWADDR_PRIx PRIx64
#define HWADDR_MAX UINT64_MAX

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define BITS_PER_LONG (sizeof(unsigned long) * 8)
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ROUND_UP(n, d) (((n) + (d) - 1) & -(0 ? (n) : (d)))
#define ROUND_DOWN(n, d) ((n) & -(0 ? (n) : (d)))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define IS_POWER_OF_2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Build-time assertion usable at file scope. */
#define KITE_BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

static inline uint64_t extract64(uint64_t v, int start, int len)
{
    return (v >> start) & (~0ULL >> (64 - len));
}

static inline uint64_t deposit64(uint64_t v, int start, int len, uint64_t field)
{
    uint64_t mask = (~0ULL >> (64 - len)) << start;
    return (v & ~mask) | ((field << start) & mask);
}

/* Little-endian loads/stores on unaligned host memory (guest RAM, device buffers). */
static inline uint16_t lduw_le_p(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ldl_le_p(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ldq_le_p(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void stw_le_p(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void stl_le_p(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void stq_le_p(void *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint64_t ldn_le_p(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: return lduw_le_p(p);
    case 4: return ldl_le_p(p);
    default: return ldq_le_p(p);
    }
}
static inline void stn_le_p(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)p = v; break;
    case 2: stw_le_p(p, v); break;
    case 4: stl_le_p(p, v); break;
    default: stq_le_p(p, v); break;
    }
}

#endif
