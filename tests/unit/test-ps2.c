/*
 * PS/2 keyboard and mouse behind the 8042, driven through ports 0x60/0x64 as a driver
 * would: key events in scancode sets 1 and 2, the controller's set 2 -> set 1 translation,
 * the IntelliMouse/Explorer sample-rate knocks, stream and remote mode packets, 2:1 scaling
 * and overflow.  "PS/2 TR" is the IBM PS/2 Hardware Interface Technical Reference.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "isa-harness.h"
#include "hw/input/i8042.h"
#include "hw/input/ps2.h"
#include "ui/input.h"

#define STAT_OBF 0x01
#define STAT_AUX_OBF 0x20

static I8042State *make_i8042(void)
{
    return (I8042State *)harness_new(TYPE_I8042, NULL);
}

static bool has_byte(void)
{
    return inb(0x64) & STAT_OBF;
}

static uint8_t read_obuf(void)
{
    g_assert_true(has_byte());
    return inb(0x60);
}

static void set_command_byte(uint8_t v)
{
    outb(0x64, 0x60);
    outb(0x60, v);
}

static void kbd_cmd(uint8_t v)
{
    outb(0x60, v);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
}

static void aux_cmd(uint8_t v)
{
    outb(0x64, 0xd4);
    outb(0x60, v);
    g_assert_cmpuint(inb(0x64) & STAT_AUX_OBF, ==, STAT_AUX_OBF);
    g_assert_cmpuint(read_obuf(), ==, 0xfa);
}

static void test_encode(void)
{
    uint8_t b[4];

    /* 'A' (set 1 1Eh) is set 2 1Ch; release F0h 1Ch. */
    g_assert_cmpint(ps2_encode_key(0x1e, true, 2, b), ==, 1);
    g_assert_cmpuint(b[0], ==, 0x1c);
    g_assert_cmpint(ps2_encode_key(0x1e, false, 2, b), ==, 2);
    g_assert_cmpuint(b[0], ==, 0xf0);
    g_assert_cmpuint(b[1], ==, 0x1c);
    g_assert_cmpint(ps2_encode_key(0x1e, false, 1, b), ==, 1);
    g_assert_cmpuint(b[0], ==, 0x9e);
    /* Right Ctrl: E0 14 / E0 F0 14 in set 2, E0 9D released in set 1. */
    g_assert_cmpint(ps2_encode_key(PS2_KEY_E0 | 0x1d, false, 2, b), ==, 3);
    g_assert_cmpmem(b, 3, ((uint8_t[]){ 0xe0, 0xf0, 0x14 }), 3);
    g_assert_cmpint(ps2_encode_key(PS2_KEY_E0 | 0x1d, false, 1, b), ==, 2);
    g_assert_cmpmem(b, 2, ((uint8_t[]){ 0xe0, 0x9d }), 2);
    /* F7 is 83h in set 2 (the one code above 7Fh). */
    g_assert_cmpint(ps2_encode_key(0x41, true, 2, b), ==, 1);
    g_assert_cmpuint(b[0], ==, 0x83);
    /* Unknown keys and junk send nothing. */
    g_assert_cmpint(ps2_encode_key(0x55, true, 2, b), ==, 0);
    g_assert_cmpint(ps2_encode_key(-1, true, 2, b), ==, 0);
    g_assert_cmpint(ps2_encode_key(0x7fff, true, 2, b), ==, 0);
}

static void test_keys(void)
{
    I8042State *s = make_i8042();

    /* Power-on command byte 03h: no translation, set 2 codes reach the host as they are. */
    i8042_kbd_key_event(s, 0x1e, true);
    g_assert_cmpuint(read_obuf(), ==, 0x1c);
    i8042_kbd_key_event(s, 0x1e, false);
    g_assert_cmpuint(read_obuf(), ==, 0xf0);
    g_assert_cmpuint(read_obuf(), ==, 0x1c);
    g_assert_false(has_byte());

    /* Command byte bit 6: the controller translates to set 1 and folds F0h into bit 7. */
    set_command_byte(0x43);
    i8042_kbd_key_event(s, 0x1e, true);
    g_assert_cmpuint(read_obuf(), ==, 0x1e);
    i8042_kbd_key_event(s, PS2_KEY_E0 | 0x48, false);     /* Up released */
    g_assert_cmpuint(read_obuf(), ==, 0xe0);
    g_assert_cmpuint(read_obuf(), ==, 0xc8);
    g_assert_false(has_byte());
    /* Translation applies to replies too: Read ID answers AB 41 (what Linux expects). */
    kbd_cmd(0xf2);
    g_assert_cmpuint(read_obuf(), ==, 0xab);
    g_assert_cmpuint(read_obuf(), ==, 0x41);

    /* Set 1 selected in the keyboard, no translation. */
    set_command_byte(0x03);
    kbd_cmd(0xf0);
    kbd_cmd(0x01);
    i8042_kbd_key_event(s, 0x1c, true);
    i8042_kbd_key_event(s, 0x1c, false);
    g_assert_cmpuint(read_obuf(), ==, 0x1c);
    g_assert_cmpuint(read_obuf(), ==, 0x9c);

    /* LEDs and typematic arguments are kept; F5h drops key events. */
    kbd_cmd(0xed);
    kbd_cmd(0x04);
    g_assert_cmpuint(i8042_kbd_leds(s), ==, 0x04);
    kbd_cmd(0xf3);
    kbd_cmd(0x20);
    kbd_cmd(0xf5);
    i8042_kbd_key_event(s, 0x1e, true);
    g_assert_false(has_byte());
    kbd_cmd(0xf4);
    /*
     * F5h also restored the defaults (set 2).  A full queue takes no partial key: 16 bytes
     * of room hold five E0 F0 14 releases, not a sixth's first byte.
     */
    g_assert_cmpint(i8042_kbd_scancode_set(s), ==, 2);
    for (int i = 0; i < 10; i++) {
        i8042_kbd_key_event(s, PS2_KEY_E0 | 0x1d, false);
    }
    for (int i = 0; i < 5; i++) {
        g_assert_cmpuint(read_obuf(), ==, 0xe0);
        g_assert_cmpuint(read_obuf(), ==, 0xf0);
        g_assert_cmpuint(read_obuf(), ==, 0x14);
    }
    g_assert_false(has_byte());
    object_unparent(OBJECT(s));
}

static uint8_t mouse_id(void)
{
    aux_cmd(0xf2);
    return read_obuf();
}

static void set_rate(uint8_t r)
{
    aux_cmd(0xf3);
    aux_cmd(r);
}

static void test_mouse_stream(void)
{
    I8042State *s = make_i8042();

    aux_cmd(0xff);
    g_assert_cmpuint(read_obuf(), ==, 0xaa);
    g_assert_cmpuint(read_obuf(), ==, 0x00);
    /* Not reporting yet: motion accumulates silently. */
    i8042_mouse_event(s, 5, 0, 0, 0);
    g_assert_false(has_byte());
    aux_cmd(0xf4);
    /* Right 10, down 3 (PS/2 Y is up: -3), left button. */
    i8042_mouse_event(s, 5, 3, 0, PS2_BUTTON_LEFT);
    g_assert_cmpint(harness_irq[12], ==, 1);
    g_assert_cmpuint(read_obuf(), ==, 0x08 | 0x01 | 0x20);
    g_assert_cmpuint(read_obuf(), ==, 10);
    g_assert_cmpuint(read_obuf(), ==, 0xfd);
    g_assert_false(has_byte());
    /* Large motion is split into packets of at most 255. */
    i8042_mouse_event(s, 300, 0, 0, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    g_assert_cmpuint(read_obuf(), ==, 255);
    g_assert_cmpuint(read_obuf(), ==, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    g_assert_cmpuint(read_obuf(), ==, 45);
    g_assert_cmpuint(read_obuf(), ==, 0);
    /* Scaling 2:1 (PS/2 TR table): 3 -> 3, 4 -> 6, 200 -> 400 = overflow. */
    aux_cmd(0xe7);
    i8042_mouse_event(s, 4, 0, 0, 0);
    read_obuf();
    g_assert_cmpuint(read_obuf(), ==, 6);
    read_obuf();
    i8042_mouse_event(s, 200, 0, 0, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x08 | 0x40);
    g_assert_cmpuint(read_obuf(), ==, 255);
    read_obuf();
    aux_cmd(0xe6);
    /* The wheel is not reported by a standard mouse: 3-byte packets. */
    i8042_mouse_event(s, 0, 0, 1, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    read_obuf();
    read_obuf();
    g_assert_false(has_byte());
    object_unparent(OBJECT(s));
}

static void test_mouse_wheel_and_remote(void)
{
    I8042State *s = make_i8042();

    g_assert_cmpuint(mouse_id(), ==, 0);
    /* IntelliMouse knock 200/100/80 -> id 3; 4-byte packets with a signed wheel byte. */
    set_rate(200);
    set_rate(100);
    set_rate(80);
    g_assert_cmpuint(mouse_id(), ==, 3);
    aux_cmd(0xf4);
    i8042_mouse_event(s, 0, 0, -2, 0);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    read_obuf();
    read_obuf();
    g_assert_cmpuint(read_obuf(), ==, 0xfe);
    /* Explorer knock 200/200/80 -> id 4: 4-bit wheel, buttons 4/5 in bits 4-5. */
    aux_cmd(0xf5);
    set_rate(200);
    set_rate(200);
    set_rate(80);
    g_assert_cmpuint(mouse_id(), ==, 4);
    aux_cmd(0xf4);
    i8042_mouse_event(s, 0, 0, 1, PS2_BUTTON_4);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    read_obuf();
    read_obuf();
    g_assert_cmpuint(read_obuf(), ==, 0x11);
    /* Reset returns to the standard mouse. */
    aux_cmd(0xff);
    read_obuf();
    read_obuf();
    g_assert_cmpuint(mouse_id(), ==, 0);

    /* Remote mode: nothing is sent until Read Data (EBh), which reports the motion. */
    aux_cmd(0xf4);
    aux_cmd(0xf0);
    i8042_mouse_event(s, -7, 0, 0, PS2_BUTTON_RIGHT);
    g_assert_false(has_byte());
    aux_cmd(0xeb);
    g_assert_cmpuint(read_obuf(), ==, 0x08 | 0x02 | 0x10);
    g_assert_cmpuint(read_obuf(), ==, 0xf9);
    g_assert_cmpuint(read_obuf(), ==, 0);
    /* Status request: remote mode bit 6, reporting enabled bit 5, right button bit 0. */
    aux_cmd(0xe9);
    g_assert_cmpuint(read_obuf(), ==, 0x61);
    read_obuf();
    read_obuf();
    /* AUX disabled at the controller (A7h): bytes wait in the mouse until A8h. */
    aux_cmd(0xea);
    outb(0x64, 0xa7);
    i8042_mouse_event(s, 1, 0, 0, 0);
    g_assert_false(has_byte());
    outb(0x64, 0xa8);
    g_assert_cmpuint(read_obuf(), ==, 0x08);
    g_assert_cmpuint(read_obuf(), ==, 1);
    read_obuf();
    object_unparent(OBJECT(s));
}

/* The ui layer's events reach the keyboard and mouse (ui/input.h handlers). */
static void test_ui_input(void)
{
    I8042State *s = make_i8042();

    input_event_send_key_qcode(Q_KEY_CODE_A, true);
    g_assert_cmpuint(read_obuf(), ==, 0x1c);
    input_event_send_key_qcode(Q_KEY_CODE_CTRL_R, false);
    g_assert_cmpuint(read_obuf(), ==, 0xe0);
    g_assert_cmpuint(read_obuf(), ==, 0xf0);
    g_assert_cmpuint(read_obuf(), ==, 0x14);
    aux_cmd(0xf4);
    input_queue_rel(INPUT_AXIS_X, 3);
    input_queue_rel(INPUT_AXIS_Y, 2);                       /* screen down = PS/2 -2 */
    input_queue_btn(INPUT_BUTTON_LEFT, true);
    input_event_sync();
    g_assert_cmpuint(read_obuf(), ==, 0x08 | 0x01 | 0x20);
    g_assert_cmpuint(read_obuf(), ==, 3);
    g_assert_cmpuint(read_obuf(), ==, 0xfe);
    g_assert_false(has_byte());
    object_unparent(OBJECT(s));
}

static I8042State *vm_dev;

static void mutate(void)
{
    aux_cmd(0xff);
    read_obuf();
    read_obuf();
}

static void test_vmstate(void)
{
    vm_dev = make_i8042();
    set_rate(200);
    set_rate(100);
    set_rate(80);
    harness_vmstate_roundtrip(DEVICE(vm_dev), mutate);
    g_assert_cmpuint(mouse_id(), ==, 3);
    object_unparent(OBJECT(vm_dev));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    g_test_add_func("/ps2/encode", test_encode);
    g_test_add_func("/ps2/keys", test_keys);
    g_test_add_func("/ps2/mouse-stream", test_mouse_stream);
    g_test_add_func("/ps2/mouse-wheel-remote", test_mouse_wheel_and_remote);
    g_test_add_func("/ps2/ui-input", test_ui_input);
    g_test_add_func("/ps2/vmstate", test_vmstate);
    return g_test_run();
}
