/*
 * String-to-number helpers with strict error checking.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_CUTILS_H
#define KITE_CUTILS_H

#include "kite/osdep.h"
#include "kite/error.h"

/* Whole-string unsigned/signed integers, decimal, 0x hex or 0 octal; false on junk/overflow. */
bool parse_uint64(const char *s, uint64_t *val);
bool parse_int64(const char *s, int64_t *val);

/*
 * A size with an optional binary suffix: B, K/k, M, G, T, P, E (KiB = 1024...).
 * Without a suffix the number is multiplied by default_unit (1 for bytes, MiB for -m).
 * Fractions ("1.5G") are accepted if the result is a whole number of bytes.
 */
bool parse_size(const char *s, uint64_t default_unit, uint64_t *val);

/* on/off, yes/no, true/false, y/n (QEMU's spellings). */
bool parse_bool(const char *s, bool *val);

/* "64 MiB", "1.5 GiB" for messages. */
char *size_to_str(uint64_t size);

#endif
