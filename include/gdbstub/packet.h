/*
 * The gdb remote serial protocol's framing, as plain functions over buffers (no I/O, no VM),
 * so tests and fuzzers can drive them.  Reference: the GDB manual, appendix E "GDB Remote
 * Serial Protocol": E.1 overview (packets $data#cs, acks, escapes, run-length encoding),
 * E.11 interrupts (a bare 0x03 byte).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GDBSTUB_PACKET_H
#define GDBSTUB_PACKET_H

#include "kite/osdep.h"

/* Largest packet we accept or send (announced as PacketSize in qSupported). */
#define GDB_MAX_PACKET 16384

typedef enum GdbRxEvent {
    GDB_RX_NONE,            /* byte consumed, nothing complete yet */
    GDB_RX_PACKET,          /* rx->data[0..len) holds a packet's payload, unescaped */
    GDB_RX_BAD_PACKET,      /* checksum mismatch or overflow: answer '-' */
    GDB_RX_INTERRUPT,       /* 0x03 outside a packet (Ctrl-C) */
    GDB_RX_ACK,             /* '+' */
    GDB_RX_NAK,             /* '-': resend the last packet */
} GdbRxEvent;

typedef struct GdbRx {
    int state;
    uint8_t data[GDB_MAX_PACKET + 1];   /* NUL-terminated payload */
    size_t len;
    uint8_t sum;            /* running checksum of the raw bytes */
    uint8_t csum;           /* received checksum */
    bool escape, overflow;
} GdbRx;

void gdb_rx_init(GdbRx *rx);
GdbRxEvent gdb_rx_byte(GdbRx *rx, uint8_t c);

/* Frame payload as "$...#cs" into out (escaping '$', '#', '}' and '*'). */
void gdb_frame_packet(GString *out, const uint8_t *payload, size_t len);

/* Hex helpers.  Decoding stops at the first non-hex character. */
void gdb_hex_append(GString *out, const uint8_t *buf, size_t len);
/* Decode exactly len bytes from 2*len hex digits; false on a bad digit. */
bool gdb_hex_decode(const char *hex, uint8_t *out, size_t len);
/* Parse a hex number at *p, advancing *p; false if no digit or it overflows 64 bits. */
bool gdb_parse_hex(const char **p, uint64_t *v);
/* Thread id: "-1" (all), "0" (any) or hex; false on junk. */
bool gdb_parse_thread_id(const char **p, int64_t *id);

#endif
