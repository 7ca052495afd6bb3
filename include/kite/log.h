/*
 * Debug logging (-d items, -D file) and tracepoints (-d trace:PATTERN).
 *
 * kite_log_mask(LOG_GUEST_ERROR, ...) is for things a guest did wrong (a device programmed
 * badly): logged when enabled, never fatal.  LOG_UNIMP is for features a guest used that Kite
 * does not emulate.  Tracepoints are declared where they fire:
 *
 *     kite_trace("uart_write", "port=0x%x val=0x%02x", port, val);
 *
 * and enabled with glob patterns (-d trace:uart_*).  A disabled tracepoint costs one load and
 * one compare of a per-call-site cache.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_LOG_H
#define KITE_LOG_H

#include "kite/osdep.h"
#include "kite/error.h"

enum {
    LOG_GUEST_ERROR = 1 << 0,   /* guest programmed a device or the CPU wrongly */
    LOG_UNIMP       = 1 << 1,   /* guest used something not emulated */
    LOG_INT         = 1 << 2,   /* interrupts and exceptions */
    LOG_CPU         = 1 << 3,   /* CPU state at notable events */
    LOG_IOPORT      = 1 << 4,   /* unassigned port and MMIO accesses */
    LOG_EXEC        = 1 << 5,   /* interpreter: each trace executed */
    LOG_RESET       = 1 << 6,   /* resets */
};

extern int kite_loglevel;
extern unsigned kite_trace_generation;

static inline bool kite_log_enabled(int mask)
{
    return (kite_loglevel & mask) != 0;
}

void kite_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
#define kite_log_mask(mask, ...) \
    do { if (unlikely(kite_log_enabled(mask))) { kite_log(__VA_ARGS__); } } while (0)

/* Parse "guest_errors,unimp,trace:uart_*"; false with an error naming the bad item. */
bool kite_log_parse_items(const char *items, Error **errp);
bool kite_log_set_file(const char *path, Error **errp);
/* Text for "-d help". */
void kite_log_print_help(FILE *f);

/* Tracepoints. */
bool kite_trace_enable_pattern(const char *pattern, bool enable);
bool kite_trace_event_enabled(const char *name);
void kite_trace_emit(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

typedef struct TraceSite {
    unsigned generation;
    bool enabled;
} TraceSite;

#define kite_trace(name, ...) \
    do { \
        static TraceSite site_; \
        if (unlikely(site_.generation != kite_trace_generation)) { \
            site_.enabled = kite_trace_event_enabled(name); \
            site_.generation = kite_trace_generation; \
        } \
        if (unlikely(site_.enabled)) { \
            kite_trace_emit(name, __VA_ARGS__); \
        } \
    } while (0)

#endif
