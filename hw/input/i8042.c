/*
 * Intel 8042 keyboard controller, as in the PC/AT and PS/2: data port 0x60, status/command
 * port 0x64, keyboard IRQ 1, auxiliary (mouse) IRQ 12.
 *
 * References: IBM Personal System/2 Hardware Interface Technical Reference (1988),
 * "Keyboard/Auxiliary Device Controller" (status register, command byte, controller commands,
 * output port) and "Keyboard" / "Auxiliary Device" (device commands and responses); the AT
 * Technical Reference for the AT-only commands.  QEMU's hw/input/pckbd.c sets the power-on
 * values that SeaBIOS and Linux have been tested against, and Kite follows it where the
 * references leave a choice.
 *
 * Emulated: the status register, command byte and controller RAM, self-tests, interface
 * tests, enable/disable of both ports, input/output port reads, output port writes (A20 and
 * reset), pulse output lines (FEh reset), writes to either output buffer, the A20 HP Vectra
 * commands DDh/DFh, set 2 -> set 1 translation of everything the keyboard sends while
 * command byte bit 6 is set; a PS/2 keyboard that answers reset (FAh AAh), identify, echo,
 * LEDs, scancode set, typematic and enable/disable and turns key events into scancode set 1
 * or 2 (hw/input/ps2.c); a PS/2 mouse that answers reset, identify, status request, read
 * data, resolution/sample rate/scaling, stream/remote mode and enable/disable, with the
 * IntelliMouse (200/100/80) and Explorer (200/200/80) sample-rate knocks for a wheel.
 * Not emulated: timeouts and parity errors, typematic repeat (the ui layer repeats keys).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/input/i8042.h"
#include "hw/input/ps2.h"
#include "ui/input.h"
#include "kite/log.h"
#include "kite/runstate.h"

/* Status register (port 0x64 read). */
#define STAT_OBF        0x01    /* output buffer full */
#define STAT_IBF        0x02    /* input buffer full (never: writes are handled at once) */
#define STAT_SYS        0x04    /* system flag: command byte bit 2 / passed self-test */
#define STAT_CMD        0x08    /* last write was to 0x64 */
#define STAT_UNLOCKED   0x10    /* keyboard inhibit switch off */
#define STAT_AUX_OBF    0x20    /* the output buffer holds auxiliary device data */

/* Command byte ("mode", controller RAM byte 0). */
#define MODE_KBD_INT    0x01
#define MODE_AUX_INT    0x02
#define MODE_SYS        0x04
#define MODE_DISABLE_KBD 0x10
#define MODE_DISABLE_AUX 0x20
#define MODE_XLAT       0x40    /* translate keyboard scancodes to set 1 */

/* Output port (D0h/D1h). */
#define OUT_RESET       0x01    /* system reset line, active low */
#define OUT_A20         0x02
#define OUT_OBF         0x10    /* wired to IRQ 1 */
#define OUT_AUX_OBF     0x20    /* wired to IRQ 12 */
#define OUT_ONES        0xcc    /* clock/data lines idle high */

/* Controller commands (port 0x64 write). */
#define CCMD_READ_RAM0      0x20    /* 20h-3Fh: read controller RAM (20h: command byte) */
#define CCMD_WRITE_RAM0     0x60    /* 60h-7Fh: write controller RAM (60h: command byte) */
#define CCMD_DISABLE_AUX    0xa7
#define CCMD_ENABLE_AUX     0xa8
#define CCMD_TEST_AUX       0xa9
#define CCMD_SELF_TEST      0xaa
#define CCMD_TEST_KBD       0xab
#define CCMD_DISABLE_KBD    0xad
#define CCMD_ENABLE_KBD     0xae
#define CCMD_READ_INPORT    0xc0
#define CCMD_READ_OUTPORT   0xd0
#define CCMD_WRITE_OUTPORT  0xd1
#define CCMD_WRITE_KBD_OBUF 0xd2
#define CCMD_WRITE_AUX_OBUF 0xd3
#define CCMD_WRITE_AUX      0xd4
#define CCMD_DISABLE_A20    0xdd    /* HP Vectra */
#define CCMD_ENABLE_A20     0xdf
#define CCMD_READ_TEST_IN   0xe0
#define CCMD_PULSE_FIRST    0xf0    /* F0h-FFh: pulse output port bits 0-3 low */

/* Device responses. */
#define REPLY_ACK       0xfa
#define REPLY_RESEND    0xfe
#define REPLY_POR_OK    0xaa    /* basic assurance test passed */
#define REPLY_ECHO      0xee

#define QUEUE_SIZE 16           /* bytes a device can hold for the controller */
#define RAM_SIZE 32

typedef struct PS2Queue {
    uint8_t data[QUEUE_SIZE];
    uint8_t rptr, count;
} PS2Queue;

struct I8042State {
    IsaDevice parent_obj;
    uint8_t kbd_irq_num, aux_irq_num;

    MemoryRegion data_io, cmd_io;
    IRQState *kbd_irq, *aux_irq;
    IRQState *a20_out;

    /* Controller. */
    uint8_t ram[RAM_SIZE];      /* ram[0] is the command byte */
    uint8_t status;
    uint8_t outport;
    uint8_t obuf;               /* the output buffer the host reads at 0x60 */
    uint8_t pending_cmd;        /* controller command waiting for its data byte, or 0 */
    uint8_t ctrl_reply;         /* controller response not yet in the output buffer */
    bool ctrl_reply_valid;
    bool ctrl_reply_aux;        /* D3h: it goes out as auxiliary data */

    /* Keyboard. */
    PS2Queue kq;
    uint8_t kbd_pending_cmd;    /* ED/F0/F3 waiting for their argument */
    bool kbd_scan_enabled;
    uint8_t kbd_scancode_set;
    uint8_t kbd_leds;
    uint8_t kbd_typematic;
    bool kbd_xlat_break;        /* translation saw F0h: the next byte is a break code */

    /* Mouse. */
    PS2Queue aq;
    uint8_t aux_pending_cmd;    /* E8/F3 waiting for their argument */
    bool aux_reporting;
    bool aux_remote;
    bool aux_scaling21;
    uint8_t aux_resolution;
    uint8_t aux_sample_rate;
    uint8_t aux_id;             /* PS2_MOUSE_*: changed by the sample-rate knocks */
    uint8_t aux_rate_hist[2];   /* the two sample rates set before the last one */
    uint8_t aux_buttons;
    int32_t aux_dx, aux_dy, aux_dz;     /* movement not yet reported (dy up positive) */

    /* ui/input.h handlers; a batch of pointer events is reported at its sync. */
    InputHandlerState *kbd_input, *mouse_input;
    int ui_dx, ui_dy, ui_dz;
    uint8_t ui_buttons;
};

static I8042State *I8042(const void *obj)
{
    return OBJECT_CHECK(I8042State, obj, TYPE_I8042);
}

/* ------------------------------------------------------------ queues */

static void queue_put(PS2Queue *q, uint8_t b)
{
    if (q->count >= QUEUE_SIZE) {
        kite_log_mask(LOG_GUEST_ERROR, "i8042: device queue full, byte 0x%02x dropped", b);
        return;
    }
    q->data[(q->rptr + q->count) % QUEUE_SIZE] = b;
    q->count++;
}

static uint8_t queue_get(PS2Queue *q)
{
    uint8_t b = q->data[q->rptr];

    q->rptr = (q->rptr + 1) % QUEUE_SIZE;
    q->count--;
    return b;
}

static void queue_clear(PS2Queue *q)
{
    q->rptr = q->count = 0;
}

/* ----------------------------------------------------- controller core */

/*
 * Move the next keyboard byte to the output buffer.  With command byte bit 6 the
 * controller translates set 2 codes to set 1 and folds F0h prefixes into bit 7 (PS/2 TR
 * "Command Byte"), so an F0h alone never reaches the host.
 */
static void i8042_take_kbd_byte(I8042State *s, uint8_t mode)
{
    while (s->kq.count) {
        int b = queue_get(&s->kq);

        if (mode & MODE_XLAT) {
            b = ps2_translate_byte(b, &s->kbd_xlat_break);
            if (b < 0) {
                continue;
            }
        }
        s->obuf = b;
        s->status = (s->status | STAT_OBF) & ~STAT_AUX_OBF;
        return;
    }
}

/*
 * Refill the output buffer when it is empty - controller responses first, then the keyboard,
 * then the mouse, each device only while its interface is enabled - and drive IRQ 1/12 from
 * OBF and the command byte's interrupt enables (PS/2 TR "Command Byte", bits 0-1).
 */
static void i8042_update(I8042State *s)
{
    uint8_t mode = s->ram[0];
    bool kbd_level, aux_level;

    if (!(s->status & STAT_OBF) && s->ctrl_reply_valid) {
        s->obuf = s->ctrl_reply;
        s->ctrl_reply_valid = false;
        s->status |= STAT_OBF;
        s->status = (s->status & ~STAT_AUX_OBF) | (s->ctrl_reply_aux ? STAT_AUX_OBF : 0);
    }
    if (!(s->status & STAT_OBF) && s->kq.count && !(mode & MODE_DISABLE_KBD)) {
        i8042_take_kbd_byte(s, mode);       /* may swallow a lone F0h */
    }
    if (!(s->status & STAT_OBF) && s->aq.count && !(mode & MODE_DISABLE_AUX)) {
        s->obuf = queue_get(&s->aq);
        s->status |= STAT_OBF | STAT_AUX_OBF;
    }
    kbd_level = (s->status & STAT_OBF) && !(s->status & STAT_AUX_OBF) && (mode & MODE_KBD_INT);
    aux_level = (s->status & STAT_OBF) && (s->status & STAT_AUX_OBF) && (mode & MODE_AUX_INT);
    irq_set_level(s->kbd_irq, kbd_level);
    irq_set_level(s->aux_irq, aux_level);
}

/* A byte the controller itself answers with. */
static void i8042_reply(I8042State *s, uint8_t b, bool aux)
{
    s->ctrl_reply = b;
    s->ctrl_reply_aux = aux;
    s->ctrl_reply_valid = true;
    i8042_update(s);
}

static void i8042_set_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    irq_set_level(s->a20_out, !!(val & OUT_A20));
    /* Output port bit 0 drives the processor reset line, active low. */
    if (!(val & OUT_RESET)) {
        system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static uint8_t i8042_read_outport(I8042State *s)
{
    /* Bits 4/5 are the output-buffer-full lines to IRQ 1 and IRQ 12. */
    uint8_t v = s->outport & (OUT_RESET | OUT_A20 | OUT_ONES);

    if (s->status & STAT_OBF) {
        v |= (s->status & STAT_AUX_OBF) ? OUT_AUX_OBF : OUT_OBF;
    }
    return v;
}

static void i8042_set_mode(I8042State *s, uint8_t mode)
{
    s->ram[0] = mode;
    /* The system flag in the status register follows command byte bit 2. */
    s->status = (s->status & ~STAT_SYS) | ((mode & MODE_SYS) ? STAT_SYS : 0);
    i8042_update(s);
}

void i8042_set_command_byte(DeviceState *dev, uint8_t mode)
{
    i8042_set_mode(I8042(dev), mode);
}

/* ------------------------------------------------------------ keyboard */

static void kbd_reset_defaults(I8042State *s)
{
    s->kbd_scan_enabled = true;
    s->kbd_scancode_set = 2;
    s->kbd_leds = 0;
    s->kbd_pending_cmd = 0;
    s->kbd_typematic = 0x2b;        /* 10.9 characters/s, 500 ms delay */
    s->kbd_xlat_break = false;
}

/* PS/2 TR "Keyboard", "Commands from the System". */
static void kbd_write(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->kbd_pending_cmd;

    if (cmd) {
        s->kbd_pending_cmd = 0;
        switch (cmd) {
        case 0xed:                      /* Set/Reset Mode Indicators */
            s->kbd_leds = val & 7;
            queue_put(&s->kq, REPLY_ACK);
            return;
        case 0xf0:                      /* Select Alternate Scan Codes */
            queue_put(&s->kq, REPLY_ACK);
            if (val == 0) {
                queue_put(&s->kq, s->kbd_scancode_set);
            } else if (val <= 3) {
                s->kbd_scancode_set = val;
            }
            return;
        case 0xf3:                      /* Set Typematic Rate/Delay: kept, not acted on */
            s->kbd_typematic = val & 0x7f;
            queue_put(&s->kq, REPLY_ACK);
            return;
        }
    }
    switch (val) {
    case 0xed:
    case 0xf0:
    case 0xf3:
        s->kbd_pending_cmd = val;
        queue_put(&s->kq, REPLY_ACK);
        break;
    case 0xee:                          /* Echo */
        queue_put(&s->kq, REPLY_ECHO);
        break;
    case 0xf2:                          /* Read ID: MF2 keyboard */
        queue_put(&s->kq, REPLY_ACK);
        queue_put(&s->kq, 0xab);
        queue_put(&s->kq, 0x83);
        break;
    case 0xf4:                          /* Enable */
        queue_clear(&s->kq);
        s->kbd_scan_enabled = true;
        queue_put(&s->kq, REPLY_ACK);
        break;
    case 0xf5:                          /* Default Disable */
        queue_clear(&s->kq);
        kbd_reset_defaults(s);
        s->kbd_scan_enabled = false;
        queue_put(&s->kq, REPLY_ACK);
        break;
    case 0xf6:                          /* Set Default */
        queue_clear(&s->kq);
        kbd_reset_defaults(s);
        queue_put(&s->kq, REPLY_ACK);
        break;
    case 0xf7 ... 0xfd:                 /* set 3 key type commands: accepted, no effect */
        queue_put(&s->kq, REPLY_ACK);
        break;
    case 0xff:                          /* Reset: ACK, then the BAT completion code */
        queue_clear(&s->kq);
        kbd_reset_defaults(s);
        queue_put(&s->kq, REPLY_ACK);
        queue_put(&s->kq, REPLY_POR_OK);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "i8042: keyboard command 0x%02x", val);
        queue_put(&s->kq, REPLY_RESEND);
        break;
    }
}

void i8042_kbd_put_scancode(I8042State *s, uint8_t byte)
{
    if (s->kbd_scan_enabled) {
        queue_put(&s->kq, byte);
        i8042_update(s);
    }
}

bool i8042_kbd_translating(I8042State *s)
{
    return (s->ram[0] & MODE_XLAT) != 0;
}

int i8042_kbd_scancode_set(I8042State *s)
{
    return s->kbd_scancode_set;
}

uint8_t i8042_kbd_leds(I8042State *s)
{
    return s->kbd_leds;
}

void i8042_kbd_key_event(I8042State *s, int keycode, bool down)
{
    uint8_t bytes[4];
    int n = ps2_encode_key(keycode, down, s->kbd_scancode_set == 1 ? 1 : 2, bytes);

    /* A key's bytes go in whole or not at all: a split code would confuse the driver. */
    if (!n || !s->kbd_scan_enabled || s->kq.count + n > QUEUE_SIZE) {
        return;
    }
    for (int i = 0; i < n; i++) {
        queue_put(&s->kq, bytes[i]);
    }
    i8042_update(s);
}

/* ------------------------------------------------------------- mouse */

static void aux_reset_defaults(I8042State *s)
{
    s->aux_reporting = false;
    s->aux_remote = false;
    s->aux_scaling21 = false;
    s->aux_resolution = 2;          /* 4 counts/mm */
    s->aux_sample_rate = 100;
    s->aux_pending_cmd = 0;
    s->aux_dx = s->aux_dy = s->aux_dz = 0;
}

/* Queue one packet of the accumulated movement if it fits whole. */
static bool aux_put_packet(I8042State *s)
{
    uint8_t pkt[4];
    int dx = s->aux_dx, dy = s->aux_dy, dz = s->aux_dz;
    int n = ps2_mouse_packet(&dx, &dy, &dz, s->aux_buttons, s->aux_id,
                             s->aux_scaling21 && !s->aux_remote, pkt);

    if (s->aq.count + n > QUEUE_SIZE) {
        return false;
    }
    s->aux_dx = dx;
    s->aux_dy = dy;
    s->aux_dz = dz;
    for (int i = 0; i < n; i++) {
        queue_put(&s->aq, pkt[i]);
    }
    return true;
}

/*
 * Microsoft's wheel detection: sample rates 200, 100, 80 in a row make the mouse an
 * IntelliMouse (id 3); 200, 200, 80 an IntelliMouse Explorer (id 4).
 */
static void aux_sample_rate_knock(I8042State *s, uint8_t rate)
{
    if (s->aux_rate_hist[0] == 200 && rate == 80) {
        if (s->aux_rate_hist[1] == 100) {
            s->aux_id = PS2_MOUSE_INTELLIMOUSE;
        } else if (s->aux_rate_hist[1] == 200) {
            s->aux_id = PS2_MOUSE_EXPLORER;
        }
    }
    s->aux_rate_hist[0] = s->aux_rate_hist[1];
    s->aux_rate_hist[1] = rate;
}

/* PS/2 TR "Auxiliary Device", "Commands from the System". */
static void aux_write(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->aux_pending_cmd;

    if (cmd) {
        s->aux_pending_cmd = 0;
        if (cmd == 0xe8) {                  /* Set Resolution */
            s->aux_resolution = val & 3;
        } else {                            /* F3h Set Sampling Rate */
            s->aux_sample_rate = val;
            aux_sample_rate_knock(s, val);
        }
        queue_put(&s->aq, REPLY_ACK);
        return;
    }
    switch (val) {
    case 0xe6:                              /* Reset Scaling */
    case 0xe7:                              /* Set Scaling 2:1 */
        s->aux_scaling21 = val == 0xe7;
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xe8:
    case 0xf3:
        s->aux_pending_cmd = val;
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xe9:                              /* Status Request: ACK + 3 status bytes */
        queue_put(&s->aq, REPLY_ACK);
        /* Byte 1: mode bits, then left (bit 2), middle (bit 1), right (bit 0) buttons. */
        queue_put(&s->aq, (s->aux_remote ? 0x40 : 0) | (s->aux_reporting ? 0x20 : 0) |
                          (s->aux_scaling21 ? 0x10 : 0) |
                          ((s->aux_buttons & PS2_BUTTON_LEFT) ? 0x04 : 0) |
                          ((s->aux_buttons & PS2_BUTTON_MIDDLE) ? 0x02 : 0) |
                          ((s->aux_buttons & PS2_BUTTON_RIGHT) ? 0x01 : 0));
        queue_put(&s->aq, s->aux_resolution);
        queue_put(&s->aq, s->aux_sample_rate);
        break;
    case 0xea:                              /* Set Stream Mode */
    case 0xf0:                              /* Set Remote Mode */
        s->aux_remote = val == 0xf0;
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xeb:                              /* Read Data: ACK + one packet */
        queue_put(&s->aq, REPLY_ACK);
        aux_put_packet(s);
        break;
    case 0xf2:                              /* Read Device Type */
        queue_put(&s->aq, REPLY_ACK);
        queue_put(&s->aq, s->aux_id);
        break;
    case 0xf4:                              /* Enable */
        s->aux_reporting = true;
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xf5:                              /* Disable */
        s->aux_reporting = false;
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xf6:                              /* Set Default */
        aux_reset_defaults(s);
        queue_put(&s->aq, REPLY_ACK);
        break;
    case 0xff:                              /* Reset: ACK, BAT code, device ID */
        queue_clear(&s->aq);
        aux_reset_defaults(s);
        s->aux_id = PS2_MOUSE_STANDARD;
        s->aux_rate_hist[0] = s->aux_rate_hist[1] = 0;
        queue_put(&s->aq, REPLY_ACK);
        queue_put(&s->aq, REPLY_POR_OK);
        queue_put(&s->aq, 0x00);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "i8042: mouse command 0x%02x", val);
        queue_put(&s->aq, REPLY_RESEND);
        break;
    }
}

void i8042_aux_put_bytes(I8042State *s, const uint8_t *bytes, int n)
{
    if (!s->aux_reporting || s->aux_remote || s->aq.count + n > QUEUE_SIZE) {
        return;                             /* packets are never split */
    }
    for (int i = 0; i < n; i++) {
        queue_put(&s->aq, bytes[i]);
    }
    i8042_update(s);
}

void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, uint8_t buttons)
{
    bool changed = buttons != s->aux_buttons || dx || dy || dz;

    /* Accumulate in 16 bits' worth so a flood of events cannot overflow the counters. */
    s->aux_dx = CLAMP(s->aux_dx + dx, -32768, 32767);
    s->aux_dy = CLAMP(s->aux_dy - dy, -32768, 32767);   /* PS/2 Y grows upwards */
    s->aux_dz = CLAMP(s->aux_dz + dz, -32768, 32767);
    s->aux_buttons = buttons;
    if (!changed || !s->aux_reporting || s->aux_remote) {
        return;
    }
    /* Stream mode: report now, in as many packets as the movement needs and the queue holds. */
    do {
        if (!aux_put_packet(s)) {
            break;
        }
    } while (s->aux_dx || s->aux_dy || s->aux_dz);
    i8042_update(s);
}

/* ------------------------------------------------------- ui input */

static void i8042_ui_key(DeviceState *dev, const InputEvent *evt)
{
    int xt = input_qcode_to_xt(evt->key.qcode);

    if (xt) {
        i8042_kbd_key_event(I8042(dev), xt, evt->key.down);
    }
}

static const InputHandler i8042_kbd_handler = {
    .name = "PS/2 keyboard", .mask = INPUT_EVENT_MASK_KEY, .event = i8042_ui_key,
};

static void i8042_ui_mouse(DeviceState *dev, const InputEvent *evt)
{
    I8042State *s = I8042(dev);
    static const uint8_t bits[INPUT_BUTTON__MAX] = {
        [INPUT_BUTTON_LEFT] = PS2_BUTTON_LEFT, [INPUT_BUTTON_MIDDLE] = PS2_BUTTON_MIDDLE,
        [INPUT_BUTTON_RIGHT] = PS2_BUTTON_RIGHT, [INPUT_BUTTON_SIDE] = PS2_BUTTON_4,
        [INPUT_BUTTON_EXTRA] = PS2_BUTTON_5,
    };

    if (evt->kind == INPUT_EVENT_KIND_REL) {
        int v = CLAMP(evt->move.value, -32768, 32767);

        if (evt->move.axis == INPUT_AXIS_X) {
            s->ui_dx = CLAMP(s->ui_dx + v, -32768, 32767);
        } else {
            s->ui_dy = CLAMP(s->ui_dy + v, -32768, 32767);
        }
    } else if (evt->kind == INPUT_EVENT_KIND_BTN && evt->btn.button < INPUT_BUTTON__MAX) {
        /* A wheel notch is a press of the wheel "button": up is negative Z. */
        if (evt->btn.button == INPUT_BUTTON_WHEEL_UP) {
            s->ui_dz -= evt->btn.down;
        } else if (evt->btn.button == INPUT_BUTTON_WHEEL_DOWN) {
            s->ui_dz += evt->btn.down;
        } else if (evt->btn.down) {
            s->ui_buttons |= bits[evt->btn.button];
        } else {
            s->ui_buttons &= ~bits[evt->btn.button];
        }
    }
}

static void i8042_ui_mouse_sync(DeviceState *dev)
{
    I8042State *s = I8042(dev);

    i8042_mouse_event(s, s->ui_dx, s->ui_dy, s->ui_dz, s->ui_buttons);
    s->ui_dx = s->ui_dy = s->ui_dz = 0;
}

static const InputHandler i8042_mouse_handler = {
    .name = "PS/2 mouse", .mask = INPUT_EVENT_MASK_BTN | INPUT_EVENT_MASK_REL,
    .event = i8042_ui_mouse, .sync = i8042_ui_mouse_sync,
};

/* ---------------------------------------------------- port handlers */

/* Port 0x64 write: a controller command (PS/2 TR "Commands (I/O Address Hex 64)"). */
static void i8042_command(I8042State *s, uint8_t cmd)
{
    s->status |= STAT_CMD;
    s->pending_cmd = 0;
    if (cmd >= CCMD_READ_RAM0 && cmd < CCMD_READ_RAM0 + RAM_SIZE) {
        i8042_reply(s, s->ram[cmd - CCMD_READ_RAM0], false);
        return;
    }
    if (cmd >= CCMD_WRITE_RAM0 && cmd < CCMD_WRITE_RAM0 + RAM_SIZE) {
        s->pending_cmd = cmd;
        return;
    }
    if (cmd >= CCMD_PULSE_FIRST) {
        /* Bits 0-3 select output port lines to pulse low; bit 0 is the reset line. */
        if (!(cmd & 1)) {
            system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        return;
    }
    switch (cmd) {
    case CCMD_DISABLE_AUX:
        i8042_set_mode(s, s->ram[0] | MODE_DISABLE_AUX);
        break;
    case CCMD_ENABLE_AUX:
        i8042_set_mode(s, s->ram[0] & ~MODE_DISABLE_AUX);
        break;
    case CCMD_TEST_AUX:
    case CCMD_TEST_KBD:
        i8042_reply(s, 0x00, false);        /* interface test: no error */
        break;
    case CCMD_SELF_TEST:
        /* 55h = passed; the system flag is set and the reset line released. */
        s->status |= STAT_SYS;
        s->outport |= OUT_RESET;
        i8042_reply(s, 0x55, false);
        break;
    case CCMD_DISABLE_KBD:
        i8042_set_mode(s, s->ram[0] | MODE_DISABLE_KBD);
        break;
    case CCMD_ENABLE_KBD:
        i8042_set_mode(s, s->ram[0] & ~MODE_DISABLE_KBD);
        break;
    case CCMD_READ_INPORT:
        i8042_reply(s, 0x80, false);        /* bit 7: keyboard not inhibited */
        break;
    case CCMD_READ_OUTPORT:
        i8042_reply(s, i8042_read_outport(s), false);
        break;
    case CCMD_WRITE_OUTPORT:
    case CCMD_WRITE_KBD_OBUF:
    case CCMD_WRITE_AUX_OBUF:
    case CCMD_WRITE_AUX:
        s->pending_cmd = cmd;
        break;
    case CCMD_DISABLE_A20:
        i8042_set_outport(s, s->outport & ~OUT_A20);
        break;
    case CCMD_ENABLE_A20:
        i8042_set_outport(s, s->outport | OUT_A20);
        break;
    case CCMD_READ_TEST_IN:
        i8042_reply(s, 0x00, false);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "i8042: controller command 0x%02x", cmd);
        break;
    }
}

/* Port 0x60 write: the data byte of a pending command, else a byte for the keyboard. */
static void i8042_write_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->pending_cmd;

    s->status &= ~STAT_CMD;
    s->pending_cmd = 0;
    if (cmd >= CCMD_WRITE_RAM0 && cmd < CCMD_WRITE_RAM0 + RAM_SIZE) {
        if (cmd == CCMD_WRITE_RAM0) {
            i8042_set_mode(s, val);
        } else {
            s->ram[cmd - CCMD_WRITE_RAM0] = val;
        }
        return;
    }
    switch (cmd) {
    case CCMD_WRITE_OUTPORT:
        i8042_set_outport(s, val);
        break;
    case CCMD_WRITE_KBD_OBUF:
        i8042_reply(s, val, false);
        break;
    case CCMD_WRITE_AUX_OBUF:
        i8042_reply(s, val, true);
        break;
    case CCMD_WRITE_AUX:
        aux_write(s, val);
        i8042_update(s);
        break;
    default:
        /* Sending data to the keyboard re-enables its interface (as QEMU does). */
        s->ram[0] &= ~MODE_DISABLE_KBD;
        kbd_write(s, val);
        i8042_update(s);
        break;
    }
}

static uint64_t i8042_data_read(void *opaque, hwaddr addr, unsigned size)
{
    I8042State *s = opaque;
    uint8_t v = s->obuf;

    /*
     * Reading the output buffer empties it, which drops IRQ 1/12 (they are OBF gated by the
     * command byte); the next queued byte then moves in and raises its line again.  The drop
     * must reach the interrupt controller: the 8259 latches IRQ 1/12 on the rising edge, so
     * a line left high across the read would never signal the second byte (a keyboard's
     * F2h reply FAh ABh 83h would stop at FAh and Linux's atkbd would time out).
     */
    s->status &= ~(STAT_OBF | STAT_AUX_OBF);
    irq_lower(s->kbd_irq);
    irq_lower(s->aux_irq);
    i8042_update(s);
    kite_trace("i8042_read_data", "0x%02x", v);
    return v;
}

static void i8042_data_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    kite_trace("i8042_write_data", "0x%02x", (unsigned)val);
    i8042_write_data(opaque, val);
}

static uint64_t i8042_status_read(void *opaque, hwaddr addr, unsigned size)
{
    return I8042(opaque)->status;
}

static void i8042_cmd_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    kite_trace("i8042_write_cmd", "0x%02x", (unsigned)val);
    i8042_command(opaque, val);
}

/* Wider accesses split into byte accesses of consecutive ports, as in QEMU. */
static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read, .write = i8042_data_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_status_read, .write = i8042_cmd_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

/* ---------------------------------------------------------- lifecycle */

static void i8042_reset(DeviceState *dev)
{
    I8042State *s = I8042(dev);

    /*
     * QEMU's power-on values: both interrupts enabled, A20 on, reset line released.  The A20
     * line is not driven here: the CPU's own reset re-enables A20, matching this value.
     */
    memset(s->ram, 0, sizeof(s->ram));
    s->ram[0] = MODE_KBD_INT | MODE_AUX_INT;
    s->status = STAT_CMD | STAT_UNLOCKED;
    s->outport = OUT_RESET | OUT_A20 | OUT_ONES;
    s->obuf = 0;
    s->pending_cmd = 0;
    s->ctrl_reply_valid = false;
    s->ctrl_reply_aux = false;
    queue_clear(&s->kq);
    queue_clear(&s->aq);
    kbd_reset_defaults(s);
    aux_reset_defaults(s);
    irq_lower(s->kbd_irq);
    irq_lower(s->aux_irq);
}

static void i8042_init(Object *obj)
{
    I8042State *s = I8042(obj);

    qdev_init_gpio_out_named(DEVICE(obj), &s->a20_out, I8042_A20_LINE, 1);
}

static void i8042_realize(DeviceState *dev, Error **errp)
{
    I8042State *s = I8042(dev);
    IsaDevice *isa = ISA_DEVICE(dev);

    if (s->kbd_irq_num >= ISA_NUM_IRQS || s->aux_irq_num >= ISA_NUM_IRQS) {
        error_setg(errp, "i8042: IRQ numbers must be below %d", ISA_NUM_IRQS);
        return;
    }
    memory_region_init_io(&s->data_io, OBJECT(dev), &i8042_data_ops, s, "i8042-data", 1);
    memory_region_init_io(&s->cmd_io, OBJECT(dev), &i8042_cmd_ops, s, "i8042-cmd", 1);
    isa_register_ioport(isa, &s->data_io, 0x60);
    isa_register_ioport(isa, &s->cmd_io, 0x64);
    s->kbd_irq = isa_get_irq(isa, s->kbd_irq_num);
    s->aux_irq = isa_get_irq(isa, s->aux_irq_num);
    s->kbd_input = input_handler_register(dev, &i8042_kbd_handler);
    s->mouse_input = input_handler_register(dev, &i8042_mouse_handler);
}

static void i8042_unrealize(DeviceState *dev)
{
    I8042State *s = I8042(dev);

    input_handler_unregister(s->kbd_input);
    input_handler_unregister(s->mouse_input);
    s->kbd_input = s->mouse_input = NULL;
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->data_io);
    memory_region_destroy(&s->cmd_io);
    s->kbd_irq = s->aux_irq = NULL;
}

static int i8042_post_load(void *opaque, int version_id)
{
    I8042State *s = opaque;

    /* Queue indices come from the stream: keep them inside the buffers. */
    s->kq.rptr %= QUEUE_SIZE;
    s->aq.rptr %= QUEUE_SIZE;
    s->kq.count = MIN(s->kq.count, QUEUE_SIZE);
    s->aq.count = MIN(s->aq.count, QUEUE_SIZE);
    if (s->aux_id != PS2_MOUSE_INTELLIMOUSE && s->aux_id != PS2_MOUSE_EXPLORER) {
        s->aux_id = PS2_MOUSE_STANDARD;
    }
    s->aux_dx = CLAMP(s->aux_dx, -32768, 32767);
    s->aux_dy = CLAMP(s->aux_dy, -32768, 32767);
    s->aux_dz = CLAMP(s->aux_dz, -32768, 32767);
    irq_set_level(s->a20_out, !!(s->outport & OUT_A20));
    i8042_update(s);
    return 0;
}

static const VMStateDescription vmstate_ps2_queue = {
    .name = "ps2-queue", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(data, PS2Queue, QUEUE_SIZE),
        VMSTATE_UINT8(rptr, PS2Queue),
        VMSTATE_UINT8(count, PS2Queue),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_i8042 = {
    .name = "i8042", .version_id = 2, .minimum_version_id = 1,
    .post_load = i8042_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(ram, I8042State, RAM_SIZE),
        VMSTATE_UINT8(status, I8042State),
        VMSTATE_UINT8(outport, I8042State),
        VMSTATE_UINT8(obuf, I8042State),
        VMSTATE_UINT8(pending_cmd, I8042State),
        VMSTATE_UINT8(ctrl_reply, I8042State),
        VMSTATE_BOOL(ctrl_reply_valid, I8042State),
        VMSTATE_BOOL(ctrl_reply_aux, I8042State),
        VMSTATE_STRUCT(kq, I8042State, vmstate_ps2_queue, PS2Queue),
        VMSTATE_UINT8(kbd_pending_cmd, I8042State),
        VMSTATE_BOOL(kbd_scan_enabled, I8042State),
        VMSTATE_UINT8(kbd_scancode_set, I8042State),
        VMSTATE_UINT8(kbd_leds, I8042State),
        VMSTATE_STRUCT(aq, I8042State, vmstate_ps2_queue, PS2Queue),
        VMSTATE_UINT8(aux_pending_cmd, I8042State),
        VMSTATE_BOOL(aux_reporting, I8042State),
        VMSTATE_BOOL(aux_remote, I8042State),
        VMSTATE_BOOL(aux_scaling21, I8042State),
        VMSTATE_UINT8(aux_resolution, I8042State),
        VMSTATE_UINT8(aux_sample_rate, I8042State),
        VMSTATE_UINT8_V(kbd_typematic, I8042State, 2),
        VMSTATE_BOOL_V(kbd_xlat_break, I8042State, 2),
        VMSTATE_UINT8_V(aux_id, I8042State, 2),
        VMSTATE_UINT8_ARRAY_V(aux_rate_hist, I8042State, 2, 2),
        VMSTATE_UINT8_V(aux_buttons, I8042State, 2),
        VMSTATE_SCALAR_(aux_dx, I8042State, int32_t, VMS_INT32, .version_id = 2),
        VMSTATE_SCALAR_(aux_dy, I8042State, int32_t, VMS_INT32, .version_id = 2),
        VMSTATE_SCALAR_(aux_dz, I8042State, int32_t, VMS_INT32, .version_id = 2),
        VMSTATE_END_OF_LIST()
    },
};

static const Property i8042_props[] = {
    DEFINE_PROP_UINT8("kbd-irq", I8042State, kbd_irq_num, 1),
    DEFINE_PROP_UINT8("mouse-irq", I8042State, aux_irq_num, 12),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo i8042_type = {
    .name = TYPE_I8042,
    .parent = TYPE_ISA_DEVICE,
    .desc = "8042 PS/2 keyboard controller (ports 0x60/0x64, IRQ 1/12)",
    .instance_size = sizeof(I8042State),
    .instance_init = i8042_init,
    .realize = i8042_realize,
    .unrealize = i8042_unrealize,
    .reset = i8042_reset,
    .props = i8042_props,
    .vmsd = &vmstate_i8042,
};
KITE_TYPE_REGISTER(i8042_type)
