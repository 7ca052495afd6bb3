/*
 * Input layer: key tables (XT codes unique and round-tripping, keysyms of a US layout),
 * routing to the newest handler of each kind, absolute scaling, LED notification.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "ui/input.h"

static void test_xt_table(void)
{
    for (int q = 1; q < Q_KEY_CODE__MAX; q++) {
        int xt = input_qcode_to_xt(q);
        /* Every key has a make code below the break bit, E0 keys flagged with 0x100. */
        g_assert_cmpint(xt & 0xff, >, 0);
        g_assert_cmpint(xt & 0xff, <, 0x80);
        g_assert_cmpint(xt & ~0x1ff, ==, 0);
        if (q != Q_KEY_CODE_KP_MULTIPLY) {
            g_assert_cmpint(input_xt_to_qcode(xt), ==, q);
        }
        g_assert_cmpint(input_qcode_from_name(input_qcode_name(q)), ==, q);
    }
    /* Spot checks against the IBM AT set 1 table. */
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_A), ==, 0x1e);
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_ESC), ==, 0x01);
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_F12), ==, 0x58);
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_RIGHT), ==, 0x14d);
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_CTRL_R), ==, 0x11d);
    g_assert_cmphex(input_qcode_to_xt(Q_KEY_CODE_KP_ENTER), ==, 0x11c);
    g_assert_cmpint(input_qcode_to_xt(Q_KEY_CODE__MAX), ==, 0);
    g_assert_cmpint(input_qcode_to_xt(-1), ==, 0);
    g_assert_cmpstr(input_qcode_name(Q_KEY_CODE_KP_5), ==, "kp_5");
}

static void test_keysyms(void)
{
    g_assert_cmpint(input_keysym_to_qcode('a'), ==, Q_KEY_CODE_A);
    g_assert_cmpint(input_keysym_to_qcode('Z'), ==, Q_KEY_CODE_Z);
    g_assert_cmpint(input_keysym_to_qcode('1'), ==, Q_KEY_CODE_1);
    g_assert_cmpint(input_keysym_to_qcode('!'), ==, Q_KEY_CODE_1);
    g_assert_cmpint(input_keysym_to_qcode('0'), ==, Q_KEY_CODE_0);
    g_assert_cmpint(input_keysym_to_qcode(')'), ==, Q_KEY_CODE_0);
    g_assert_cmpint(input_keysym_to_qcode('('), ==, Q_KEY_CODE_9);
    g_assert_cmpint(input_keysym_to_qcode('?'), ==, Q_KEY_CODE_SLASH);
    g_assert_cmpint(input_keysym_to_qcode(' '), ==, Q_KEY_CODE_SPC);
    g_assert_cmpint(input_keysym_to_qcode(0xff0d), ==, Q_KEY_CODE_RET);
    g_assert_cmpint(input_keysym_to_qcode(0xffe3), ==, Q_KEY_CODE_CTRL);
    g_assert_cmpint(input_keysym_to_qcode(0xffbe), ==, Q_KEY_CODE_F1);
    g_assert_cmpint(input_keysym_to_qcode(0xffc9), ==, Q_KEY_CODE_F12);
    g_assert_cmpint(input_keysym_to_qcode(0xff51), ==, Q_KEY_CODE_LEFT);
    g_assert_cmpint(input_keysym_to_qcode(0), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(input_keysym_to_qcode(0x7f), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(input_keysym_to_qcode(0xffffffff), ==, Q_KEY_CODE_UNMAPPED);
    /* Every printable ASCII character has a key on a US keyboard. */
    for (uint32_t c = 0x20; c < 0x7f; c++) {
        g_assert_cmpint(input_keysym_to_qcode(c), !=, Q_KEY_CODE_UNMAPPED);
    }
}

/* USB HID usages (SDL scancodes) by physical position, to the XT codes a PC keyboard sends. */
static void test_usb_hid(void)
{
    static const struct { unsigned usage; int xt; } cases[] = {
        { 0x04, 0x1e },     /* a */
        { 0x1d, 0x2c },     /* z */
        { 0x1e, 0x02 },     /* 1 */
        { 0x27, 0x0b },     /* 0 */
        { 0x28, 0x1c },     /* Enter */
        { 0x2c, 0x39 },     /* space */
        { 0x35, 0x29 },     /* ` */
        { 0x3a, 0x3b },     /* F1 */
        { 0x45, 0x58 },     /* F12 */
        { 0x50, 0x14b },    /* Left: E0 4B */
        { 0x54, 0x135 },    /* keypad /: E0 35 */
        { 0x58, 0x11c },    /* keypad Enter: E0 1C */
        { 0x62, 0x52 },     /* keypad 0 */
        { 0x64, 0x56 },     /* ISO key left of Z */
        { 0xe0, 0x1d },     /* left Ctrl */
        { 0xe4, 0x11d },    /* right Ctrl: E0 1D */
        { 0xe6, 0x138 },    /* AltGr: E0 38 */
        { 0xe7, 0x15c },    /* right GUI */
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmphex(input_qcode_to_xt(input_usb_hid_to_qcode(cases[i].usage)), ==,
                        cases[i].xt);
    }
    /* Reserved, error roll-over and unassigned usages are not keys. */
    for (unsigned u = 0; u < 4; u++) {
        g_assert_cmpint(input_usb_hid_to_qcode(u), ==, Q_KEY_CODE_UNMAPPED);
    }
    g_assert_cmpint(input_usb_hid_to_qcode(0xe8), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(input_usb_hid_to_qcode(0x1000), ==, Q_KEY_CODE_UNMAPPED);
    /* All letters and digits are there, and map to distinct keys. */
    for (unsigned u = 0x04; u <= 0x27; u++) {
        for (unsigned v = u + 1; v <= 0x27; v++) {
            g_assert_cmpint(input_usb_hid_to_qcode(u), !=, input_usb_hid_to_qcode(v));
        }
        g_assert_cmpint(input_usb_hid_to_qcode(u), !=, Q_KEY_CODE_UNMAPPED);
    }
}

typedef struct Sink {
    GString *log;
} Sink;

static Sink kbd_sink, mouse_sink, tablet_sink;

static void sink_event(DeviceState *dev, const InputEvent *evt)
{
    Sink *s = (Sink *)dev;

    switch (evt->kind) {
    case INPUT_EVENT_KIND_KEY:
        g_string_append_printf(s->log, "k%x%c ", input_qcode_to_xt(evt->key.qcode),
                               evt->key.down ? 'd' : 'u');
        break;
    case INPUT_EVENT_KIND_BTN:
        g_string_append_printf(s->log, "b%d%c ", evt->btn.button, evt->btn.down ? 'd' : 'u');
        break;
    case INPUT_EVENT_KIND_REL:
        g_string_append_printf(s->log, "r%d:%" PRId64 " ", evt->move.axis, evt->move.value);
        break;
    case INPUT_EVENT_KIND_ABS:
        g_string_append_printf(s->log, "a%d:%" PRId64 " ", evt->move.axis, evt->move.value);
        break;
    }
}

static void sink_sync(DeviceState *dev)
{
    g_string_append(((Sink *)dev)->log, "| ");
}

static const InputHandler kbd_handler = {
    "kbd", INPUT_EVENT_MASK_KEY, sink_event, sink_sync,
};
static const InputHandler mouse_handler = {
    "mouse", INPUT_EVENT_MASK_BTN | INPUT_EVENT_MASK_REL, sink_event, sink_sync,
};
static const InputHandler tablet_handler = {
    "tablet", INPUT_EVENT_MASK_BTN | INPUT_EVENT_MASK_ABS, sink_event, sink_sync,
};

static void test_routing(void)
{
    InputHandlerState *k, *m, *t;

    kbd_sink.log = g_string_new("");
    mouse_sink.log = g_string_new("");
    tablet_sink.log = g_string_new("");

    /* Nobody registered: events vanish without harm. */
    input_event_send_key_qcode(Q_KEY_CODE_A, true);
    input_queue_rel(INPUT_AXIS_X, 5);
    input_event_sync();

    k = input_handler_register((DeviceState *)&kbd_sink, &kbd_handler);
    m = input_handler_register((DeviceState *)&mouse_sink, &mouse_handler);
    input_event_send_key_qcode(Q_KEY_CODE_A, true);
    input_event_send_key_qcode(Q_KEY_CODE_A, false);
    input_event_send_key_qcode(Q_KEY_CODE__MAX, true);
    input_event_send_key_qcode(Q_KEY_CODE_UNMAPPED, true);
    g_assert_cmpstr(kbd_sink.log->str, ==, "k1ed | k1eu | ");
    g_assert_false(input_mouse_is_absolute());

    input_queue_btn(INPUT_BUTTON_LEFT, true);
    input_queue_rel(INPUT_AXIS_X, -3);
    input_queue_rel(INPUT_AXIS_Y, 0);           /* no motion: dropped */
    input_queue_btn(INPUT_BUTTON__MAX, true);   /* garbage: dropped */
    input_queue_abs(INPUT_AXIS_X, 10, 100);     /* no absolute handler */
    input_event_sync();
    g_assert_cmpstr(mouse_sink.log->str, ==, "b0d r0:-3 | ");

    /* A tablet takes over buttons and gets scaled absolute positions, clamped. */
    t = input_handler_register((DeviceState *)&tablet_sink, &tablet_handler);
    g_assert_true(input_mouse_is_absolute());
    input_queue_abs(INPUT_AXIS_X, 0, 640);
    input_queue_abs(INPUT_AXIS_Y, 479, 480);
    input_queue_abs(INPUT_AXIS_X, 5000, 640);
    input_queue_abs(INPUT_AXIS_Y, -7, 480);
    input_queue_btn(INPUT_BUTTON_RIGHT, true);
    input_event_sync();
    g_assert_cmpstr(tablet_sink.log->str, ==, "a0:0 a1:32767 a0:32767 a1:0 b2d | ");

    /* Re-activating the mouse puts it in front again. */
    input_handler_activate(m);
    g_assert_false(input_mouse_is_absolute());
    input_queue_btn(INPUT_BUTTON_RIGHT, false);
    input_event_sync();
    g_assert_cmpstr(mouse_sink.log->str, ==, "b0d r0:-3 | b2u | ");

    input_handler_unregister(m);
    input_handler_unregister(t);
    input_handler_unregister(k);
    input_event_send_key_qcode(Q_KEY_CODE_B, true);
    g_assert_cmpstr(kbd_sink.log->str, ==, "k1ed | k1eu | ");
    g_string_free(kbd_sink.log, true);
    g_string_free(mouse_sink.log, true);
    g_string_free(tablet_sink.log, true);
}

static void led_cb(void *opaque, unsigned leds)
{
    GString *log = opaque;
    g_string_append_printf(log, "%u ", leds);
}

static void test_leds(void)
{
    GString *log = g_string_new("");

    input_led_notifier_add(led_cb, log);
    input_set_leds(INPUT_LED_CAPS);
    input_set_leds(INPUT_LED_CAPS);             /* unchanged: not repeated */
    input_set_leds(INPUT_LED_NUM | 0xf0);       /* unknown bits ignored */
    g_assert_cmpuint(input_get_leds(), ==, INPUT_LED_NUM);
    input_led_notifier_remove(led_cb, log);
    input_set_leds(0);
    g_assert_cmpstr(log->str, ==, "4 2 ");
    g_string_free(log, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/input/xt-table", test_xt_table);
    g_test_add_func("/input/keysyms", test_keysyms);
    g_test_add_func("/input/usb-hid", test_usb_hid);
    g_test_add_func("/input/routing", test_routing);
    g_test_add_func("/input/leds", test_leds);
    return g_test_run();
}
