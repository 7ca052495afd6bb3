/*
 * x86 disassembly for the monitor's x/i and xp/i (capstone, when Kite is built with it).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_MONITOR_DISAS_H
#define KITE_MONITOR_DISAS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Fill buf with len bytes of guest memory at addr; false if any of them cannot be read. */
typedef bool (*DisasReadFn)(void *opaque, uint64_t addr, uint8_t *buf, size_t len);

/* True if this build can disassemble (capstone was found at configure time). */
bool disas_available(void);

/*
 * Append count (at least one) instructions at pc, decoded for a code segment of
 * mode_bits (16, 32 or 64), to out as QEMU 7.2's monitor prints them: AT&T syntax,
 * "0x%08x: " + up to 8 bytes + mnemonic/operands, the rest of longer instructions on
 * continuation lines, undecodable bytes as ".byte".  Memory comes from read; when it
 * fails, "0x<pc>: unable to read memory" ends the listing.  False (out untouched) if
 * this build has no disassembler or capstone refuses the mode.
 */
bool disas_x86_monitor(GString *out, int mode_bits, uint64_t pc, int count,
                       DisasReadFn read, void *opaque);

#endif
