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
