/*
 * libkqtest: drive a Kite process over the qtest protocol from a GTest program.
 *
 *     KQTest *qt = kqtest_start("-M pc -nodefaults -device isa-debugcon");
 *     kqtest_outb(qt, 0xe9, 'x');
 *     g_assert_cmpuint(kqtest_inb(qt, 0xe9), ==, 0xe9);
 *     kqtest_quit(qt);
 *
 * The library starts Kite with -accel qtest on a socket it listens on, so no CPU runs and
 * the test owns the virtual clock (kqtest_clock_step).  Interrupt lines of a device can be
 * intercepted (kqtest_irq_intercept_in) and observed with kqtest_get_irq.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LIBKQTEST_H
#define LIBKQTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct KQTest KQTest;

/* The Kite binary: $KITE_BIN, else the build tree's. */
const char *kqtest_binary(void);
/* Start Kite with extra args (split on spaces; printf-style); aborts the test on failure. */
KQTest *kqtest_start(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Wait for Kite to exit by itself; returns its exit status (-1 on signal / timeout). */
int kqtest_wait_exit(KQTest *qt, int timeout_ms);
void kqtest_quit(KQTest *qt);

/* Raw command; returns the reply line after "OK " (g_free it); asserts on FAIL. */
char *kqtest_cmd(KQTest *qt, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Same but returns the whole reply, FAIL included. */
char *kqtest_cmd_raw(KQTest *qt, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

void kqtest_outb(KQTest *qt, uint16_t port, uint8_t v);
void kqtest_outw(KQTest *qt, uint16_t port, uint16_t v);
void kqtest_outl(KQTest *qt, uint16_t port, uint32_t v);
uint8_t kqtest_inb(KQTest *qt, uint16_t port);
uint16_t kqtest_inw(KQTest *qt, uint16_t port);
uint32_t kqtest_inl(KQTest *qt, uint16_t port);
void kqtest_writeb(KQTest *qt, uint64_t addr, uint8_t v);
void kqtest_writew(KQTest *qt, uint64_t addr, uint16_t v);
void kqtest_writel(KQTest *qt, uint64_t addr, uint32_t v);
void kqtest_writeq(KQTest *qt, uint64_t addr, uint64_t v);
uint8_t kqtest_readb(KQTest *qt, uint64_t addr);
uint16_t kqtest_readw(KQTest *qt, uint64_t addr);
uint32_t kqtest_readl(KQTest *qt, uint64_t addr);
uint64_t kqtest_readq(KQTest *qt, uint64_t addr);
void kqtest_memread(KQTest *qt, uint64_t addr, void *buf, size_t len);
void kqtest_memwrite(KQTest *qt, uint64_t addr, const void *buf, size_t len);

/* Advance the virtual clock by ns (0: to the next timer); returns the new time. */
int64_t kqtest_clock_step(KQTest *qt, int64_t ns);
int64_t kqtest_clock_now(KQTest *qt);

/* Intercept the GPIO inputs (or outputs) of the device at path (id or QOM path). */
void kqtest_irq_intercept_in(KQTest *qt, const char *path);
void kqtest_irq_intercept_out(KQTest *qt, const char *path);
/* The last level seen on intercepted line n. */
bool kqtest_get_irq(KQTest *qt, int n);
/* How many "IRQ raise" notifications line n has had (edge interrupts are raise+lower). */
unsigned kqtest_irq_raises(KQTest *qt, int n);

#endif
