/*
 * The 8042 keyboard controller (ports 0x60/0x64, IRQ 1 and 12) with a minimal PS/2 keyboard
 * and mouse behind it.
 *
 * Board wiring: an output GPIO named I8042_A20_LINE carries the A20 gate (1 = A20 enabled);
 * connect it to the CPU's A20 mask (port92 has the same line).  Resets requested through the
 * controller (pulse output line FEh, output port bit 0) go to
 * system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET).
 *
 * Input: i8042_kbd_key_event and i8042_mouse_event take key and pointer events from the ui
 * layer; i8042_kbd_put_scancode and i8042_aux_put_bytes queue raw device bytes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_INPUT_I8042_H
#define HW_INPUT_I8042_H

#include "hw/isa.h"

#define TYPE_I8042 "i8042"
#define I8042_A20_LINE "a20"

typedef struct I8042State I8042State;

/*
 * Queue one byte from the keyboard (a scancode in the keyboard's current set).  Dropped while
 * the keyboard has scanning disabled (F5h) or its queue is full.  The controller translates
 * it to set 1 on the way to the host while the command byte's XLAT bit is on.
 */
void i8042_kbd_put_scancode(I8042State *s, uint8_t byte);
bool i8042_kbd_translating(I8042State *s);
/*
 * Write the command byte as a host would with controller command 60h (boards use it to leave
 * the controller as firmware does when no firmware runs, e.g. direct kernel boot).
 */
void i8042_set_command_byte(DeviceState *dev, uint8_t mode);
int i8042_kbd_scancode_set(I8042State *s);          /* 1, 2 or 3 (F0h) */
/* Queue a mouse movement packet's bytes; dropped unless data reporting is enabled (F4h). */
void i8042_aux_put_bytes(I8042State *s, const uint8_t *bytes, int n);

/*
 * A key press or release; keycode is an XT keycode (hw/input/ps2.h: set 1 make code, plus
 * PS2_KEY_E0 for E0h keys).  The keyboard sends it in its current scancode set.
 */
void i8042_kbd_key_event(I8042State *s, int keycode, bool down);
uint8_t i8042_kbd_leds(I8042State *s);              /* ED argument: bit 0 scroll, 1 num, 2 caps */
/*
 * Relative pointer motion (dx right, dy down, dz wheel) and the buttons now held
 * (PS2_BUTTON_*).  Reported at once in stream mode, kept for Read Data in remote mode.
 */
void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, uint8_t buttons);

#endif
