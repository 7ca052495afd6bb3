/*
 * Input layer: front-ends (SDL, VNC) send key, button and pointer events here; devices
 * (PS/2 keyboard and mouse, USB tablet later) register handlers that receive them.
 *
 * Keys travel as QKeyCode, QEMU's names for the keys of a PC keyboard, independent of host
 * layout and guest scancode set.  input_qcode_to_xt() gives the "XT keycode" the PS/2
 * keyboard model takes (hw/input/ps2.h: set 1 make code, + 0x100 for E0-prefixed keys);
 * input_keysym_to_qcode() maps X11 keysyms (what RFB KeyEvent carries, RFC 6143 7.5.4) for a
 * US layout, the PS/2 model encodes set 2.
 *
 * Pointer events: relative motion (INPUT_AXIS_X/Y deltas), absolute motion scaled to
 * INPUT_ABS_MIN..INPUT_ABS_MAX across the console, buttons (the wheel is the WHEEL_UP/DOWN
 * buttons, pressed and released).  Each batch ends with input_event_sync(), at which the
 * handler sends a packet.  Events go to the most recently activated handler that accepts
 * their kind; when only an absolute handler is missing, absolute moves are dropped (front-
 * ends then use relative mode: input_mouse_is_absolute()).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_INPUT_H
#define UI_INPUT_H

#include "kite/osdep.h"

typedef struct DeviceState DeviceState;

#define KITE_KEYS(KEY_) \
    KEY_(SHIFT, 0x2a) KEY_(SHIFT_R, 0x36) KEY_(ALT, 0x38) KEY_(ALT_R, 0x138) KEY_(CTRL, 0x1d) \
    KEY_(CTRL_R, 0x11d) KEY_(MENU, 0x15d) KEY_(ESC, 0x01) \
    KEY_(1, 0x02) KEY_(2, 0x03) KEY_(3, 0x04) KEY_(4, 0x05) KEY_(5, 0x06) KEY_(6, 0x07) KEY_(7, 0x08) \
    KEY_(8, 0x09) KEY_(9, 0x0a) KEY_(0, 0x0b) KEY_(MINUS, 0x0c) KEY_(EQUAL, 0x0d) KEY_(BACKSPACE, 0x0e) \
    KEY_(TAB, 0x0f) KEY_(Q, 0x10) KEY_(W, 0x11) KEY_(E, 0x12) KEY_(R, 0x13) KEY_(T, 0x14) KEY_(Y, 0x15) \
    KEY_(U, 0x16) KEY_(I, 0x17) KEY_(O, 0x18) KEY_(P, 0x19) KEY_(BRACKET_LEFT, 0x1a) \
    KEY_(BRACKET_RIGHT, 0x1b) KEY_(RET, 0x1c) KEY_(A, 0x1e) KEY_(S, 0x1f) KEY_(D, 0x20) KEY_(F, 0x21) \
    KEY_(G, 0x22) KEY_(H, 0x23) KEY_(J, 0x24) KEY_(K, 0x25) KEY_(L, 0x26) KEY_(SEMICOLON, 0x27) \
    KEY_(APOSTROPHE, 0x28) KEY_(GRAVE_ACCENT, 0x29) KEY_(BACKSLASH, 0x2b) KEY_(Z, 0x2c) KEY_(X, 0x2d) \
    KEY_(C, 0x2e) KEY_(V, 0x2f) KEY_(B, 0x30) KEY_(N, 0x31) KEY_(M, 0x32) KEY_(COMMA, 0x33) KEY_(DOT, 0x34) \
    KEY_(SLASH, 0x35) KEY_(ASTERISK, 0x37) KEY_(SPC, 0x39) KEY_(CAPS_LOCK, 0x3a) KEY_(F1, 0x3b) \
    KEY_(F2, 0x3c) KEY_(F3, 0x3d) KEY_(F4, 0x3e) KEY_(F5, 0x3f) KEY_(F6, 0x40) KEY_(F7, 0x41) KEY_(F8, 0x42) \
    KEY_(F9, 0x43) KEY_(F10, 0x44) KEY_(NUM_LOCK, 0x45) KEY_(SCROLL_LOCK, 0x46) KEY_(KP_DIVIDE, 0x135) \
    KEY_(KP_MULTIPLY, 0x37) KEY_(KP_SUBTRACT, 0x4a) KEY_(KP_ADD, 0x4e) KEY_(KP_ENTER, 0x11c) \
    KEY_(KP_DECIMAL, 0x53) KEY_(SYSRQ, 0x54) KEY_(KP_0, 0x52) KEY_(KP_1, 0x4f) KEY_(KP_2, 0x50) \
    KEY_(KP_3, 0x51) KEY_(KP_4, 0x4b) KEY_(KP_5, 0x4c) KEY_(KP_6, 0x4d) KEY_(KP_7, 0x47) KEY_(KP_8, 0x48) \
    KEY_(KP_9, 0x49) KEY_(LESS, 0x56) KEY_(F11, 0x57) KEY_(F12, 0x58) KEY_(PRINT, 0x137) KEY_(HOME, 0x147) \
    KEY_(PGUP, 0x149) KEY_(PGDN, 0x151) KEY_(END, 0x14f) KEY_(LEFT, 0x14b) KEY_(UP, 0x148) \
    KEY_(DOWN, 0x150) KEY_(RIGHT, 0x14d) KEY_(INSERT, 0x152) KEY_(DELETE, 0x153) KEY_(PAUSE, 0x145) \
    KEY_(META_L, 0x15b) KEY_(META_R, 0x15c)

typedef enum QKeyCode {
    Q_KEY_CODE_UNMAPPED,
#define KITE_KEY_ENUM(name, xt) Q_KEY_CODE_##name,
    KITE_KEYS(KITE_KEY_ENUM)
#undef KITE_KEY_ENUM
    Q_KEY_CODE__MAX
} QKeyCode;

typedef enum InputButton {
    INPUT_BUTTON_LEFT, INPUT_BUTTON_MIDDLE, INPUT_BUTTON_RIGHT,
    INPUT_BUTTON_WHEEL_UP, INPUT_BUTTON_WHEEL_DOWN, INPUT_BUTTON_SIDE, INPUT_BUTTON_EXTRA,
    INPUT_BUTTON__MAX
} InputButton;

typedef enum InputAxis { INPUT_AXIS_X, INPUT_AXIS_Y, INPUT_AXIS__MAX } InputAxis;

typedef enum InputEventKind {
    INPUT_EVENT_KIND_KEY, INPUT_EVENT_KIND_BTN, INPUT_EVENT_KIND_REL, INPUT_EVENT_KIND_ABS,
} InputEventKind;

#define INPUT_EVENT_MASK_KEY (1u << INPUT_EVENT_KIND_KEY)
#define INPUT_EVENT_MASK_BTN (1u << INPUT_EVENT_KIND_BTN)
#define INPUT_EVENT_MASK_REL (1u << INPUT_EVENT_KIND_REL)
#define INPUT_EVENT_MASK_ABS (1u << INPUT_EVENT_KIND_ABS)

#define INPUT_ABS_MIN 0
#define INPUT_ABS_MAX 0x7fff

typedef struct InputEvent {
    InputEventKind kind;
    union {
        struct { QKeyCode qcode; bool down; } key;
        struct { InputButton button; bool down; } btn;
        struct { InputAxis axis; int64_t value; } move;     /* REL and ABS */
    };
} InputEvent;

typedef struct InputHandler {
    const char *name;
    uint32_t mask;                                  /* INPUT_EVENT_MASK_* it accepts */
    void (*event)(DeviceState *dev, const InputEvent *evt);
    void (*sync)(DeviceState *dev);                 /* end of a batch; may be NULL */
} InputHandler;

typedef struct InputHandlerState InputHandlerState;

/* Registered handlers start active (the newest wins); the state is freed by unregister. */
InputHandlerState *input_handler_register(DeviceState *dev, const InputHandler *h);
void input_handler_activate(InputHandlerState *s);
void input_handler_unregister(InputHandlerState *s);

void input_event_send_key_qcode(QKeyCode qcode, bool down);   /* syncs by itself */
void input_queue_btn(InputButton btn, bool down);
void input_queue_rel(InputAxis axis, int64_t delta);
/* value in 0..size-1 of the console, scaled to INPUT_ABS_MIN..MAX */
void input_queue_abs(InputAxis axis, int64_t value, int64_t size);
void input_event_sync(void);
bool input_mouse_is_absolute(void);

/* Keyboard LEDs, set by the keyboard device, shown by front-ends (caps/num/scroll). */
#define INPUT_LED_SCROLL 1
#define INPUT_LED_NUM    2
#define INPUT_LED_CAPS   4
typedef void InputLedNotify(void *opaque, unsigned ledstate);
void input_led_notifier_add(InputLedNotify *cb, void *opaque);
void input_led_notifier_remove(InputLedNotify *cb, void *opaque);
void input_set_leds(unsigned ledstate);
unsigned input_get_leds(void);

/* ui/keymaps.c */
int input_qcode_to_xt(QKeyCode qcode);          /* 0 for UNMAPPED/out of range */
QKeyCode input_xt_to_qcode(int xt);
QKeyCode input_keysym_to_qcode(uint32_t keysym);
/* USB HID keyboard usage IDs (page 07h), which SDL2's scancodes are. */
QKeyCode input_usb_hid_to_qcode(unsigned usage);
const char *input_qcode_name(QKeyCode qcode);
QKeyCode input_qcode_from_name(const char *name);   /* "a", "ctrl", "kp_5"... */

#endif
