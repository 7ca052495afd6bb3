/*
 * Key tables: QKeyCode <-> XT keycode (scancode set 1 make code, + 0x100 for E0h keys; IBM
 * PC AT Technical Reference "Keyboard Scan Codes", and Microsoft's "Keyboard Scan Code
 * Specification" rev 1.3a appendix C for the E0 keys) and X11 keysyms -> QKeyCode for a US
 * layout (X11 keysymdef.h values; RFC 6143 section 7.5.4 says RFB key events carry them).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/input.h"

static const struct {
    const char *name;
    uint16_t xt;
} key_info[Q_KEY_CODE__MAX] = {
#define KITE_KEY_INFO(n, code) [Q_KEY_CODE_##n] = { #n, code },
    KITE_KEYS(KITE_KEY_INFO)
#undef KITE_KEY_INFO
};

int input_qcode_to_xt(QKeyCode qcode)
{
    if ((unsigned)qcode >= Q_KEY_CODE__MAX) {
        return 0;
    }
    return key_info[qcode].xt;
}

QKeyCode input_xt_to_qcode(int xt)
{
    /* First match: ASTERISK and KP_MULTIPLY share 0x37, ASTERISK (listed first) wins. */
    for (int q = 1; q < Q_KEY_CODE__MAX; q++) {
        if (key_info[q].xt == xt) {
            return q;
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}

const char *input_qcode_name(QKeyCode qcode)
{
    static char names[Q_KEY_CODE__MAX][16];

    if ((unsigned)qcode >= Q_KEY_CODE__MAX || qcode == Q_KEY_CODE_UNMAPPED) {
        return "unmapped";
    }
    if (!names[qcode][0]) {
        /* QEMU's spelling is the lower-case enum name ("kp_5", "ctrl_r"). */
        g_strlcpy(names[qcode], key_info[qcode].name, sizeof(names[qcode]));
        for (char *p = names[qcode]; *p; p++) {
            *p = g_ascii_tolower(*p);
        }
    }
    return names[qcode];
}

QKeyCode input_qcode_from_name(const char *name)
{
    for (int q = 1; q < Q_KEY_CODE__MAX; q++) {
        if (!g_ascii_strcasecmp(key_info[q].name, name)) {
            return q;
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}

/* Printable ASCII keysyms (0x20-0x7e equal the character) on a US keyboard. */
static QKeyCode keysym_ascii(char c)
{
    static const char digits_shifted[] = ")!@#$%^&*(";
    static const struct { char plain, shifted; QKeyCode q; } punct[] = {
        { '-', '_', Q_KEY_CODE_MINUS }, { '=', '+', Q_KEY_CODE_EQUAL },
        { '[', '{', Q_KEY_CODE_BRACKET_LEFT }, { ']', '}', Q_KEY_CODE_BRACKET_RIGHT },
        { ';', ':', Q_KEY_CODE_SEMICOLON }, { '\'', '"', Q_KEY_CODE_APOSTROPHE },
        { '`', '~', Q_KEY_CODE_GRAVE_ACCENT }, { '\\', '|', Q_KEY_CODE_BACKSLASH },
        { ',', '<', Q_KEY_CODE_COMMA }, { '.', '>', Q_KEY_CODE_DOT },
        { '/', '?', Q_KEY_CODE_SLASH }, { ' ', ' ', Q_KEY_CODE_SPC },
    };
    const char *d;

    if (g_ascii_isalpha(c)) {
        /* Q_KEY_CODE_A.. are not contiguous (keyboard order): look the letter up by name. */
        char name[2] = { g_ascii_toupper(c), 0 };
        return input_qcode_from_name(name);
    }
    if (c >= '0' && c <= '9') {
        return c == '0' ? Q_KEY_CODE_0 : Q_KEY_CODE_1 + (c - '1');
    }
    if (c && (d = strchr(digits_shifted, c))) {
        int n = d - digits_shifted;
        return n == 0 ? Q_KEY_CODE_0 : Q_KEY_CODE_1 + (n - 1);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(punct); i++) {
        if (c == punct[i].plain || c == punct[i].shifted) {
            return punct[i].q;
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}

static const struct {
    uint16_t keysym;
    uint8_t qcode;
} keysym_fn[] = {
    { 0xff08, Q_KEY_CODE_BACKSPACE }, { 0xff09, Q_KEY_CODE_TAB },
    { 0xff0d, Q_KEY_CODE_RET }, { 0xff13, Q_KEY_CODE_PAUSE },
    { 0xff14, Q_KEY_CODE_SCROLL_LOCK }, { 0xff15, Q_KEY_CODE_SYSRQ },
    { 0xff1b, Q_KEY_CODE_ESC }, { 0xffff, Q_KEY_CODE_DELETE },
    { 0xff50, Q_KEY_CODE_HOME }, { 0xff51, Q_KEY_CODE_LEFT }, { 0xff52, Q_KEY_CODE_UP },
    { 0xff53, Q_KEY_CODE_RIGHT }, { 0xff54, Q_KEY_CODE_DOWN }, { 0xff55, Q_KEY_CODE_PGUP },
    { 0xff56, Q_KEY_CODE_PGDN }, { 0xff57, Q_KEY_CODE_END }, { 0xff61, Q_KEY_CODE_PRINT },
    { 0xff63, Q_KEY_CODE_INSERT }, { 0xff67, Q_KEY_CODE_MENU },
    { 0xff7f, Q_KEY_CODE_NUM_LOCK }, { 0xff8d, Q_KEY_CODE_KP_ENTER },
    { 0xff95, Q_KEY_CODE_KP_7 }, { 0xff96, Q_KEY_CODE_KP_4 }, { 0xff97, Q_KEY_CODE_KP_8 },
    { 0xff98, Q_KEY_CODE_KP_6 }, { 0xff99, Q_KEY_CODE_KP_2 }, { 0xff9a, Q_KEY_CODE_KP_9 },
    { 0xff9b, Q_KEY_CODE_KP_3 }, { 0xff9c, Q_KEY_CODE_KP_1 }, { 0xff9d, Q_KEY_CODE_KP_5 },
    { 0xff9e, Q_KEY_CODE_KP_0 }, { 0xff9f, Q_KEY_CODE_KP_DECIMAL },
    { 0xffaa, Q_KEY_CODE_KP_MULTIPLY }, { 0xffab, Q_KEY_CODE_KP_ADD },
    { 0xffad, Q_KEY_CODE_KP_SUBTRACT }, { 0xffae, Q_KEY_CODE_KP_DECIMAL },
    { 0xffaf, Q_KEY_CODE_KP_DIVIDE },
    { 0xffb0, Q_KEY_CODE_KP_0 }, { 0xffb1, Q_KEY_CODE_KP_1 }, { 0xffb2, Q_KEY_CODE_KP_2 },
    { 0xffb3, Q_KEY_CODE_KP_3 }, { 0xffb4, Q_KEY_CODE_KP_4 }, { 0xffb5, Q_KEY_CODE_KP_5 },
    { 0xffb6, Q_KEY_CODE_KP_6 }, { 0xffb7, Q_KEY_CODE_KP_7 }, { 0xffb8, Q_KEY_CODE_KP_8 },
    { 0xffb9, Q_KEY_CODE_KP_9 },
    { 0xffbe, Q_KEY_CODE_F1 }, { 0xffbf, Q_KEY_CODE_F2 }, { 0xffc0, Q_KEY_CODE_F3 },
    { 0xffc1, Q_KEY_CODE_F4 }, { 0xffc2, Q_KEY_CODE_F5 }, { 0xffc3, Q_KEY_CODE_F6 },
    { 0xffc4, Q_KEY_CODE_F7 }, { 0xffc5, Q_KEY_CODE_F8 }, { 0xffc6, Q_KEY_CODE_F9 },
    { 0xffc7, Q_KEY_CODE_F10 }, { 0xffc8, Q_KEY_CODE_F11 }, { 0xffc9, Q_KEY_CODE_F12 },
    { 0xffe1, Q_KEY_CODE_SHIFT }, { 0xffe2, Q_KEY_CODE_SHIFT_R },
    { 0xffe3, Q_KEY_CODE_CTRL }, { 0xffe4, Q_KEY_CODE_CTRL_R },
    { 0xffe5, Q_KEY_CODE_CAPS_LOCK }, { 0xffe7, Q_KEY_CODE_META_L },
    { 0xffe8, Q_KEY_CODE_META_R }, { 0xffe9, Q_KEY_CODE_ALT }, { 0xffea, Q_KEY_CODE_ALT_R },
    { 0xffeb, Q_KEY_CODE_META_L }, { 0xffec, Q_KEY_CODE_META_R },
    { 0xfe03, Q_KEY_CODE_ALT_R },       /* ISO_Level3_Shift: AltGr */
};

QKeyCode input_keysym_to_qcode(uint32_t keysym)
{
    if (keysym >= 0x20 && keysym <= 0x7e) {
        return keysym_ascii(keysym);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(keysym_fn); i++) {
        if (keysym_fn[i].keysym == keysym) {
            return keysym_fn[i].qcode;
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}

/*
 * USB HID usage IDs of the Keyboard/Keypad page (07h; HID Usage Tables 1.12, chapter 10),
 * which are also SDL2's SDL_Scancode values: physical key positions, independent of the
 * host's layout.  0x32 (Non-US # and ~) sits where a US keyboard has backslash; 0x64
 * (Non-US \ and |) is the extra key left of Z on ISO keyboards, the PC's 56h "LESS".
 */
static const uint8_t usb_hid_keys[][2] = {
    { 0x04, Q_KEY_CODE_A }, { 0x05, Q_KEY_CODE_B }, { 0x06, Q_KEY_CODE_C },
    { 0x07, Q_KEY_CODE_D }, { 0x08, Q_KEY_CODE_E }, { 0x09, Q_KEY_CODE_F },
    { 0x0a, Q_KEY_CODE_G }, { 0x0b, Q_KEY_CODE_H }, { 0x0c, Q_KEY_CODE_I },
    { 0x0d, Q_KEY_CODE_J }, { 0x0e, Q_KEY_CODE_K }, { 0x0f, Q_KEY_CODE_L },
    { 0x10, Q_KEY_CODE_M }, { 0x11, Q_KEY_CODE_N }, { 0x12, Q_KEY_CODE_O },
    { 0x13, Q_KEY_CODE_P }, { 0x14, Q_KEY_CODE_Q }, { 0x15, Q_KEY_CODE_R },
    { 0x16, Q_KEY_CODE_S }, { 0x17, Q_KEY_CODE_T }, { 0x18, Q_KEY_CODE_U },
    { 0x19, Q_KEY_CODE_V }, { 0x1a, Q_KEY_CODE_W }, { 0x1b, Q_KEY_CODE_X },
    { 0x1c, Q_KEY_CODE_Y }, { 0x1d, Q_KEY_CODE_Z },
    { 0x1e, Q_KEY_CODE_1 }, { 0x1f, Q_KEY_CODE_2 }, { 0x20, Q_KEY_CODE_3 },
    { 0x21, Q_KEY_CODE_4 }, { 0x22, Q_KEY_CODE_5 }, { 0x23, Q_KEY_CODE_6 },
    { 0x24, Q_KEY_CODE_7 }, { 0x25, Q_KEY_CODE_8 }, { 0x26, Q_KEY_CODE_9 },
    { 0x27, Q_KEY_CODE_0 },
    { 0x28, Q_KEY_CODE_RET }, { 0x29, Q_KEY_CODE_ESC }, { 0x2a, Q_KEY_CODE_BACKSPACE },
    { 0x2b, Q_KEY_CODE_TAB }, { 0x2c, Q_KEY_CODE_SPC }, { 0x2d, Q_KEY_CODE_MINUS },
    { 0x2e, Q_KEY_CODE_EQUAL }, { 0x2f, Q_KEY_CODE_BRACKET_LEFT },
    { 0x30, Q_KEY_CODE_BRACKET_RIGHT }, { 0x31, Q_KEY_CODE_BACKSLASH },
    { 0x32, Q_KEY_CODE_BACKSLASH }, { 0x33, Q_KEY_CODE_SEMICOLON },
    { 0x34, Q_KEY_CODE_APOSTROPHE }, { 0x35, Q_KEY_CODE_GRAVE_ACCENT },
    { 0x36, Q_KEY_CODE_COMMA }, { 0x37, Q_KEY_CODE_DOT }, { 0x38, Q_KEY_CODE_SLASH },
    { 0x39, Q_KEY_CODE_CAPS_LOCK },
    { 0x3a, Q_KEY_CODE_F1 }, { 0x3b, Q_KEY_CODE_F2 }, { 0x3c, Q_KEY_CODE_F3 },
    { 0x3d, Q_KEY_CODE_F4 }, { 0x3e, Q_KEY_CODE_F5 }, { 0x3f, Q_KEY_CODE_F6 },
    { 0x40, Q_KEY_CODE_F7 }, { 0x41, Q_KEY_CODE_F8 }, { 0x42, Q_KEY_CODE_F9 },
    { 0x43, Q_KEY_CODE_F10 }, { 0x44, Q_KEY_CODE_F11 }, { 0x45, Q_KEY_CODE_F12 },
    { 0x46, Q_KEY_CODE_PRINT }, { 0x47, Q_KEY_CODE_SCROLL_LOCK }, { 0x48, Q_KEY_CODE_PAUSE },
    { 0x49, Q_KEY_CODE_INSERT }, { 0x4a, Q_KEY_CODE_HOME }, { 0x4b, Q_KEY_CODE_PGUP },
    { 0x4c, Q_KEY_CODE_DELETE }, { 0x4d, Q_KEY_CODE_END }, { 0x4e, Q_KEY_CODE_PGDN },
    { 0x4f, Q_KEY_CODE_RIGHT }, { 0x50, Q_KEY_CODE_LEFT }, { 0x51, Q_KEY_CODE_DOWN },
    { 0x52, Q_KEY_CODE_UP }, { 0x53, Q_KEY_CODE_NUM_LOCK },
    { 0x54, Q_KEY_CODE_KP_DIVIDE }, { 0x55, Q_KEY_CODE_KP_MULTIPLY },
    { 0x56, Q_KEY_CODE_KP_SUBTRACT }, { 0x57, Q_KEY_CODE_KP_ADD },
    { 0x58, Q_KEY_CODE_KP_ENTER }, { 0x59, Q_KEY_CODE_KP_1 }, { 0x5a, Q_KEY_CODE_KP_2 },
    { 0x5b, Q_KEY_CODE_KP_3 }, { 0x5c, Q_KEY_CODE_KP_4 }, { 0x5d, Q_KEY_CODE_KP_5 },
    { 0x5e, Q_KEY_CODE_KP_6 }, { 0x5f, Q_KEY_CODE_KP_7 }, { 0x60, Q_KEY_CODE_KP_8 },
    { 0x61, Q_KEY_CODE_KP_9 }, { 0x62, Q_KEY_CODE_KP_0 }, { 0x63, Q_KEY_CODE_KP_DECIMAL },
    { 0x64, Q_KEY_CODE_LESS }, { 0x65, Q_KEY_CODE_MENU }, { 0x9a, Q_KEY_CODE_SYSRQ },
    { 0xe0, Q_KEY_CODE_CTRL }, { 0xe1, Q_KEY_CODE_SHIFT }, { 0xe2, Q_KEY_CODE_ALT },
    { 0xe3, Q_KEY_CODE_META_L }, { 0xe4, Q_KEY_CODE_CTRL_R }, { 0xe5, Q_KEY_CODE_SHIFT_R },
    { 0xe6, Q_KEY_CODE_ALT_R }, { 0xe7, Q_KEY_CODE_META_R },
};

QKeyCode input_usb_hid_to_qcode(unsigned usage)
{
    for (size_t i = 0; i < G_N_ELEMENTS(usb_hid_keys); i++) {
        if (usb_hid_keys[i][0] == usage) {
            return usb_hid_keys[i][1];
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}
