/*
 * kbd: the PS/2 keyboard and mouse through the 8042 from guest code (polled, interrupts
 * masked), then optionally a scancode monitor for display tests.
 *
 * Checks: controller self-test (55h) and interface test, keyboard reset (FAh AAh), echo,
 * Read ID under translation (AB 41, as Linux expects), scancode set select/report, LEDs;
 * mouse reset over D4h (FAh AAh 00h), the IntelliMouse knock (id 3), status request.
 * With append "keys=N" it then prints "scancode: XX" for each byte the keyboard sends
 * (translated to set 1) until N bytes arrived or "wait=SECONDS" (default 30) passed, and
 * "keys: done" - a VNC or monitor test sends keys and reads them back from the serial port.
 * With "mouse=1" the mouse is enabled (stream mode) first and its bytes are printed as
 * "mouse: XX" (not counted in N), so pointer events can be checked the same way.
 * "PS/2 TR" is the IBM PS/2 Hardware Interface Technical Reference.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define STAT_OBF 0x01
#define STAT_IBF 0x02
#define STAT_AUX 0x20

/* Wait (bounded) for a byte; -1 on timeout. */
static int read_byte(bool *aux)
{
    uint64_t end = deadline_ms(500);

    while (!time_after(end)) {
        uint8_t st = inb(0x64);

        if (st & STAT_OBF) {
            if (aux) {
                *aux = st & STAT_AUX;
            }
            return inb(0x60);
        }
    }
    return -1;
}

static void write_ctrl(uint8_t v)
{
    while (inb(0x64) & STAT_IBF) {
    }
    outb(0x64, v);
}

static void write_data(uint8_t v)
{
    while (inb(0x64) & STAT_IBF) {
    }
    outb(0x60, v);
}

static void drain(void)
{
    while (inb(0x64) & STAT_OBF) {
        inb(0x60);
    }
}

static void expect(int want, const char *what)
{
    bool aux;
    int got = read_byte(&aux);

    CHECK(got == want, "%s: got 0x%x, want 0x%x", what, got, want);
}

static void kbd_cmd(uint8_t v, const char *what)
{
    write_data(v);
    expect(0xfa, what);
}

static void aux_cmd(uint8_t v, const char *what)
{
    write_ctrl(0xd4);
    write_data(v);
    expect(0xfa, what);
}

static bool report_mouse;

static void monitor_keys(unsigned n, unsigned wait_s)
{
    uint64_t end = deadline_ms(wait_s * 1000);
    unsigned seen = 0;

    printf("keys: ready\n");
    while (seen < n && !time_after(end)) {
        uint8_t st = inb(0x64);

        if ((st & STAT_OBF) && !(st & STAT_AUX)) {
            printf("scancode: %02x\n", inb(0x60));
            seen++;
        } else if (st & STAT_OBF) {
            uint8_t b = inb(0x60);
            if (report_mouse) {
                printf("mouse: %02x\n", b);
            }
        }
    }
    printf("keys: done (%u)\n", seen);
}

void test_main(void)
{
    bool aux = false;

    drain();
    /* Command byte: interrupts off (polled), translation on, both interfaces enabled. */
    write_ctrl(0x60);
    write_data(0x44);
    write_ctrl(0xaa);
    expect(0x55, "controller self-test");
    write_ctrl(0xab);
    expect(0x00, "keyboard interface test");
    write_ctrl(0x20);
    expect(0x44, "command byte reads back");

    kbd_cmd(0xff, "keyboard reset ACK");
    expect(0xaa, "keyboard BAT passed");
    write_data(0xee);
    expect(0xee, "echo");
    kbd_cmd(0xf2, "read ID ACK");
    expect(0xab, "ID byte 1");
    expect(0x41, "ID byte 2 (translated 83h)");
    kbd_cmd(0xed, "set LEDs");
    kbd_cmd(0x02, "LED argument");
    /* Scancode set: select 2 and report it, with translation off for the raw answer. */
    write_ctrl(0x60);
    write_data(0x04);
    kbd_cmd(0xf0, "select set");
    kbd_cmd(0x02, "set 2");
    kbd_cmd(0xf0, "report set");
    kbd_cmd(0x00, "report argument");
    expect(0x02, "current set is 2");

    /* Mouse over D4h: replies come back flagged as auxiliary data. */
    write_ctrl(0xa8);
    write_ctrl(0xd4);
    write_data(0xff);
    CHECK(read_byte(&aux) == 0xfa && aux, "mouse reset ACK as aux data");
    expect(0xaa, "mouse BAT passed");
    expect(0x00, "mouse id after reset");
    for (unsigned i = 0; i < 3; i++) {
        static const uint8_t knock[3] = { 200, 100, 80 };

        aux_cmd(0xf3, "set sample rate");
        aux_cmd(knock[i], "sample rate argument");
    }
    aux_cmd(0xf2, "read device type");
    expect(0x03, "IntelliMouse id after 200/100/80");
    aux_cmd(0xe9, "status request");
    expect(0x00, "status: stream mode, disabled, 1:1");
    expect(0x02, "status: resolution 4 counts/mm");
    expect(80, "status: sample rate");

    /* Back to translated set 1 for the key monitor (what Linux and DOS use). */
    write_ctrl(0x60);
    write_data(0x44);
    kbd_cmd(0xf4, "enable scanning");
    if (cmdline_get_uint("mouse", 0)) {
        aux_cmd(0xf4, "enable mouse data reporting");
        report_mouse = true;
    }
    if (cmdline_get_uint("keys", 0)) {
        monitor_keys(cmdline_get_uint("keys", 0), cmdline_get_uint("wait", 30));
    }
    printf("kbd: PS/2 checks done\n");
}
