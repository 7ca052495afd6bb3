/*
 * PS/2 keyboard scancode tables and mouse packet encoding, used by the i8042 model.
 *
 * Key events use "XT keycodes": the scancode set 1 make code of the key, with 0x100 added
 * for keys set 1 sends with an E0h prefix (so Right Ctrl is 0x11d).  The ui layer's keymaps
 * produce them; the keyboard turns them into bytes of its current scancode set.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_INPUT_PS2_H
#define HW_INPUT_PS2_H

#include "kite/osdep.h"

#define PS2_KEY_E0  0x100       /* XT keycode flag: the key is sent with an E0h prefix */

/* Mouse buttons for i8042_mouse_event. */
#define PS2_BUTTON_LEFT     0x01
#define PS2_BUTTON_RIGHT    0x02
#define PS2_BUTTON_MIDDLE   0x04
#define PS2_BUTTON_4        0x08
#define PS2_BUTTON_5        0x10

/* Mouse device ids (F2h Read Device Type). */
#define PS2_MOUSE_STANDARD      0x00
#define PS2_MOUSE_INTELLIMOUSE  0x03    /* wheel, 4-byte packets */
#define PS2_MOUSE_EXPLORER      0x04    /* wheel + buttons 4/5, 4-byte packets */

/*
 * Encode a key event as the bytes the keyboard sends in scancode set 1 or 2 (set 3 uses the
 * set 2 codes, which match it for the common keys).  Returns the number of bytes (0 for an
 * unknown key); out must hold 4 bytes.
 */
int ps2_encode_key(int keycode, bool down, int set, uint8_t *out);

/*
 * The 8042's set 2 -> set 1 translation of one byte from the keyboard.  *break_pending
 * carries an F0h prefix to the next byte, which is returned with bit 7 set.  Returns -1
 * when the byte is swallowed (the F0h itself).
 */
int ps2_translate_byte(uint8_t b, bool *break_pending);

/*
 * Build one movement packet from the accumulated deltas (dx right, dy up, dz wheel down
 * positive) and subtract what it reported.  Returns the packet length (3 or 4 by id).
 */
int ps2_mouse_packet(int *dx, int *dy, int *dz, uint8_t buttons, uint8_t id, bool scaling21,
                     uint8_t *out);

#endif
