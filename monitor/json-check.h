/*
 * QEMU's JSON dialect for QMP input, checked before json-glib builds the value.
 *
 * json-glib is lenient where QEMU is strict (leading zeros, "1.", unknown escapes, control
 * characters in strings, duplicate keys) and words its errors its own way; integers beyond
 * int64 come out of it wrapped.  json_check() lexes one message the way QEMU's json-lexer
 * does (qobject/json-lexer.c: tokens, single-quoted strings, keywords) and checks its grammar
 * as QEMU's json-parser does, so the client gets QEMU's verdict and message.  A message that
 * passes is rewritten to plain JSON json-glib reads exactly: strings double-quoted with
 * standard escapes, out-of-range integers as doubles as QEMU converts them.
 * Pure, no I/O: unit tests and fuzzers drive it from plain buffers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_JSON_CHECK_H
#define MONITOR_JSON_CHECK_H

#include "kite/osdep.h"

/*
 * Check msg[0..len).  On success return NULL and append the plain JSON to out; otherwise
 * return the error text QEMU puts after "JSON parse error, " (caller frees).
 */
char *json_check(const char *msg, size_t len, GString *out);

/*
 * What QEMU's streamer makes of msg: usually one message, but after a lexical error QEMU
 * reports it, skips to the next structural or control character and goes on with what
 * follows as new messages (so '{"a": 01}' is "stray '01'" and then a lone '}').  emit gets
 * each in turn: plain JSON (err NULL) or the error text (plain NULL).
 */
typedef void JsonCheckEmit(void *opaque, const char *plain, const char *err);
void json_check_stream(const char *msg, size_t len, JsonCheckEmit *emit, void *opaque);

#endif
