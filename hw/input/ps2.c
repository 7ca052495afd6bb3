/*
 * PS/2 scancode tables and mouse packet encoding.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboards (101- and 102-Key)"
 * (scan code sets 1 and 2, break codes: set 1 sets bit 7, set 2 prefixes F0h) and
 * "Keyboard/Auxiliary Device Controller" (the controller's translation of the keyboard's
 * codes to set 1 when command byte bit 6 is set); "Auxiliary Device" (3-byte data packet,
 * 2:1 scaling table); Microsoft's IntelliMouse PS/2 extensions (4th packet byte).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/input/ps2.h"

/*
 * Set 1 make code -> set 2 make code, for the keys of the 101/102/104-key keyboard.  E0h
 * keys use the entry of their low byte (plus 5Bh-5Dh, the Windows keys, which only exist
 * with E0h).  0 = no such key.
 */
static const uint8_t set1_to_set2[0x80] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25,
    [0x06] = 0x2e, [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46,
    [0x0b] = 0x45, [0x0c] = 0x4e, [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,
    [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24, [0x13] = 0x2d, [0x14] = 0x2c,
    [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44, [0x19] = 0x4d,
    [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33,
    [0x24] = 0x3b, [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52,
    [0x29] = 0x0e, [0x2a] = 0x12, [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,
    [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32, [0x31] = 0x31, [0x32] = 0x3a,
    [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59, [0x37] = 0x7c,
    [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83,
    [0x42] = 0x0a, [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e,
    [0x47] = 0x6c, [0x48] = 0x75, [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,
    [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79, [0x4f] = 0x69, [0x50] = 0x72,
    [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84, [0x56] = 0x61,
    [0x57] = 0x78, [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
};

int ps2_encode_key(int keycode, bool down, int set, uint8_t *out)
{
    uint8_t code = keycode & 0x7f;
    int n = 0;

    if (keycode < 0 || (keycode & ~(PS2_KEY_E0 | 0x7f)) || !set1_to_set2[code]) {
        return 0;
    }
    if (keycode & PS2_KEY_E0) {
        out[n++] = 0xe0;
    }
    if (set == 1) {
        out[n++] = down ? code : code | 0x80;
        return n;
    }
    if (!down) {
        out[n++] = 0xf0;
    }
    out[n++] = set1_to_set2[code];
    return n;
}

int ps2_translate_byte(uint8_t b, bool *break_pending)
{
    int v = b;

    if (b == 0xf0) {
        *break_pending = true;
        return -1;
    }
    /* The controller's table is the inverse of the keyboard's; other bytes pass unchanged. */
    for (int i = 0; i < 0x80; i++) {
        if (set1_to_set2[i] == b) {
            v = i;
            break;
        }
    }
    if (*break_pending) {
        *break_pending = false;
        v |= 0x80;
    }
    return v;
}

/* PS/2 TR "Auxiliary Device", scaling 2:1: small movements are damped, others doubled. */
static int scale21(int d)
{
    static const int table[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int v = a <= 5 ? table[a] : 2 * a;

    return d < 0 ? -v : v;
}

int ps2_mouse_packet(int *dx, int *dy, int *dz, uint8_t buttons, uint8_t id, bool scaling21,
                     uint8_t *out)
{
    /* A packet reports at most the 9-bit range; the rest stays for the next packet. */
    int x = CLAMP(*dx, -256, 255), y = CLAMP(*dy, -256, 255), z = 0;
    int sx = scaling21 ? scale21(x) : x, sy = scaling21 ? scale21(y) : y;
    uint8_t b0 = 0x08 | (buttons & 7);

    *dx -= x;
    *dy -= y;
    if (sx < -256 || sx > 255) {
        b0 |= 0x40;                     /* X overflow */
        sx = CLAMP(sx, -256, 255);
    }
    if (sy < -256 || sy > 255) {
        b0 |= 0x80;                     /* Y overflow */
        sy = CLAMP(sy, -256, 255);
    }
    b0 |= (sx < 0 ? 0x10 : 0) | (sy < 0 ? 0x20 : 0);
    out[0] = b0;
    out[1] = sx & 0xff;
    out[2] = sy & 0xff;
    if (id == PS2_MOUSE_STANDARD) {
        z = *dz;                        /* no wheel to report it with: dropped */
    } else if (id == PS2_MOUSE_INTELLIMOUSE) {
        z = CLAMP(*dz, -127, 127);
        out[3] = z & 0xff;
    } else if (id == PS2_MOUSE_EXPLORER) {
        /* 4-bit wheel, buttons 4 and 5 in bits 4-5. */
        z = CLAMP(*dz, -8, 7);
        out[3] = (z & 0x0f) | ((buttons & PS2_BUTTON_4) ? 0x10 : 0) |
                 ((buttons & PS2_BUTTON_5) ? 0x20 : 0);
    }
    *dz -= z;
    return id == PS2_MOUSE_STANDARD ? 3 : 4;
}
