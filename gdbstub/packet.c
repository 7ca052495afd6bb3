/*
 * gdb remote protocol framing: receive state machine, packet framing, hex.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "gdbstub/packet.h"

enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void gdb_rx_init(GdbRx *rx)
{
    memset(rx, 0, sizeof(*rx));
    rx->state = RX_IDLE;
}

GdbRxEvent gdb_rx_byte(GdbRx *rx, uint8_t c)
{
    switch (rx->state) {
    case RX_IDLE:
        switch (c) {
        case '$':
            rx->state = RX_DATA;
            rx->len = 0;
            rx->sum = 0;
            rx->escape = rx->overflow = false;
            return GDB_RX_NONE;
        case 0x03:
            return GDB_RX_INTERRUPT;
        case '+':
            return GDB_RX_ACK;
        case '-':
            return GDB_RX_NAK;
        default:
            return GDB_RX_NONE;         /* line noise between packets is ignored */
        }
    case RX_DATA:
        if (c == '#') {
            rx->state = RX_CSUM1;
            return GDB_RX_NONE;
        }
        if (c == '$') {
            /* A new packet start inside one: the previous was cut short, restart. */
            rx->len = 0;
            rx->sum = 0;
            rx->escape = rx->overflow = false;
            return GDB_RX_NONE;
        }
        rx->sum += c;
        if (rx->escape) {
            c ^= 0x20;
            rx->escape = false;
        } else if (c == '}') {
            rx->escape = true;
            return GDB_RX_NONE;
        }
        if (rx->len >= GDB_MAX_PACKET) {
            rx->overflow = true;
        } else {
            rx->data[rx->len++] = c;
        }
        return GDB_RX_NONE;
    case RX_CSUM1:
        if (hexval(c) < 0) {
            rx->state = RX_IDLE;
            return GDB_RX_BAD_PACKET;
        }
        rx->csum = hexval(c) << 4;
        rx->state = RX_CSUM2;
        return GDB_RX_NONE;
    case RX_CSUM2:
    default:
        rx->state = RX_IDLE;
        if (hexval(c) < 0) {
            return GDB_RX_BAD_PACKET;
        }
        rx->csum |= hexval(c);
        if (rx->overflow || rx->csum != rx->sum) {
            return GDB_RX_BAD_PACKET;
        }
        rx->data[rx->len] = 0;
        return GDB_RX_PACKET;
    }
}

void gdb_frame_packet(GString *out, const uint8_t *payload, size_t len)
{
    uint8_t sum = 0;

    g_string_append_c(out, '$');
    for (size_t i = 0; i < len; i++) {
        uint8_t c = payload[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            g_string_append_c(out, '}');
            sum += '}';
            c ^= 0x20;
        }
        g_string_append_c(out, c);
        sum += c;
    }
    g_string_append_printf(out, "#%02x", sum);
}

void gdb_hex_append(GString *out, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        g_string_append_c(out, digits[buf[i] >> 4]);
        g_string_append_c(out, digits[buf[i] & 15]);
    }
}

bool gdb_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = hi << 4 | lo;
    }
    return true;
}

bool gdb_parse_hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int d;

    if (hexval(*s) < 0) {
        return false;
    }
    while ((d = hexval(*s)) >= 0) {
        if (x >> 60) {
            return false;
        }
        x = x << 4 | d;
        s++;
    }
    *v = x;
    *p = s;
    return true;
}

bool gdb_parse_thread_id(const char **p, int64_t *id)
{
    uint64_t v;

    if ((*p)[0] == '-' && (*p)[1] == '1') {
        *p += 2;
        *id = -1;
        return true;
    }
    if (!gdb_parse_hex(p, &v) || v > INT32_MAX) {
        return false;
    }
    *id = v;
    return true;
}
