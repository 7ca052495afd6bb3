/*
 * Intel 8254 programmable interval timer.
 *
 * Datasheet: Intel 8254 Programmable Interval Timer, order number 231164-005, September 1993
 * (sections cited by title: "Operational Description", "Read Operations", "Read-Back
 * Command", "Mode Definitions").
 *
 * Timing model.  CLK runs at PIT_FREQ from the virtual clock: the number of CLK edges since
 * virtual time 0 is floor(ns * PIT_FREQ / 1e9).  A counting sequence remembers the edge count
 * at which its count was written (load_tick); d = edges elapsed since then, and the counter
 * element (CE) and OUT are pure functions of d, computed when read.  As the datasheet says,
 * the count reaches CE on the first CLK edge after the write (d = 1) and decrements on the
 * following ones, so in mode 0 OUT rises N + 1 edges after the count was written.
 * Only channel 0 drives an interrupt: a timer is armed for each transition of OUT0, and the
 * callback evaluates OUT at the transition's own edge so that even a late callback produces
 * the mode 2 pulse (a falling and a rising edge on IRQ 0).
 *
 * Not emulated: in modes 2 and 3 a count written during counting restarts the counter at
 * once instead of at the end of the current period/half-period (Linux and the BIOS always
 * write a control word first, which restarts the counter anyway).  GATE of channels 0 and 1
 * is tied high, as on the PC.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/timer/i8254.h"
#include "kite/log.h"
#include "kite/timer.h"

#define PIT_CHANNELS 3

/* Control word ("Control Word Format"). */
#define CW_SC(v)        (((v) >> 6) & 3)        /* select counter, 3 = read-back */
#define CW_RW(v)        (((v) >> 4) & 3)        /* 0 = counter latch command */
#define CW_MODE(v)      (((v) >> 1) & 7)
#define CW_BCD          0x01
/* Read-back command ("Read-Back Command"): bits are active low. */
#define RB_NOT_COUNT    0x20
#define RB_NOT_STATUS   0x10
/* Status byte ("Status Byte"). */
#define ST_OUTPUT       0x80
#define ST_NULL_COUNT   0x40

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

typedef struct PitChannel {
    uint8_t mode;               /* 0-5 (6 and 7 are stored as 2 and 3) */
    uint8_t rw_mode;            /* RW_* */
    bool bcd;
    bool gate;
    uint32_t count;             /* count register as a binary number of edges (1..65536) */
    uint32_t cur;               /* the count the running sequence uses */
    bool armed;                 /* a counting sequence runs (or is suspended by GATE) */
    bool held;                  /* GATE low suspends counting in modes 0, 2, 3, 4 */
    bool null_count;            /* a count was written but has not reached CE yet */
    int64_t load_tick;
    int64_t held_d;             /* d frozen while held */
    uint16_t idle_ce;           /* what CE reads while no sequence runs */
    /* Read/write sequencing ("Write Operations", "Read Operations"). */
    bool write_msb_next;
    uint8_t write_lsb;
    bool read_msb_next;
    uint8_t latch_bytes;        /* bytes of latched_count still to be read */
    uint16_t latched_count;
    bool status_latched;
    uint8_t status;
} PitChannel;

OBJECT_DECLARE_SIMPLE_TYPE(PitState, I8254)

struct PitState {
    IsaDevice parent_obj;
    uint32_t iobase, isa_irq;
    PitChannel ch[PIT_CHANNELS];
    KiteTimer *timer;           /* next transition of OUT0 */
    int64_t next_tick;
    IRQState *irq;
    MemoryRegion io;
};

/* ---------------------------------------------------------------- clock */

static int64_t pit_ticks(int64_t ns)
{
    return (int64_t)(((__int128)ns * PIT_FREQ) / NANOSECONDS_PER_SECOND);
}

/* The first virtual time at which pit_ticks() reaches tick. */
static int64_t pit_tick_to_ns(int64_t tick)
{
    return (int64_t)(((__int128)tick * NANOSECONDS_PER_SECOND + PIT_FREQ - 1) / PIT_FREQ);
}

static int64_t pit_now_tick(void)
{
    return pit_ticks(clock_get_ns(KITE_CLOCK_VIRTUAL));
}

/* ----------------------------------------------------- counter arithmetic */

static uint32_t pit_wrap(PitChannel *c)
{
    return c->bcd ? 10000 : 65536;
}

static uint16_t bin_to_bcd(uint32_t v)
{
    return (v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12);
}

/* Digits above 9 are not valid BCD; they are weighted like the chip's counter would. */
static uint32_t bcd_to_bin(uint16_t v)
{
    return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + (v >> 12) * 1000;
}

static int64_t pit_d(PitChannel *c, int64_t tick)
{
    int64_t d = c->held ? c->held_d : tick - c->load_tick;

    return d < 0 ? 0 : d;
}

/* OUT before the first CLK edge of a sequence ("Mode Definitions": initial OUT state). */
static int pit_initial_out(PitChannel *c)
{
    return c->mode != 0;
}

static int pit_out_at(PitChannel *c, int64_t tick)
{
    int64_t d, n = c->cur;

    if (!c->armed) {
        return pit_initial_out(c);
    }
    if (c->held && (c->mode == 2 || c->mode == 3)) {
        return 1;               /* modes 2 and 3: GATE low sets OUT high immediately */
    }
    d = pit_d(c, tick);
    if (d == 0) {
        return pit_initial_out(c);
    }
    switch (c->mode) {
    case 0:                     /* interrupt on terminal count: high once CE reached 0 */
        return d >= n + 1;
    case 1:                     /* one-shot: low from the edge after the trigger to TC */
        return d >= n + 1;
    case 2:                     /* rate generator: low for the one edge CE is 1 */
        return d % n != 0;
    case 3:                     /* square wave: high for ceil(N/2), low for floor(N/2) */
        return (d - 1) % n < (n + 1) / 2;
    default:                    /* 4, 5: strobe, low for one edge at TC */
        return d != n + 1;
    }
}

/* The binary value of CE (0 .. wrap-1). */
static uint32_t pit_ce_at(PitChannel *c, int64_t tick)
{
    int64_t d, p, h, n = c->cur, wrap = pit_wrap(c), v;

    if (!c->armed) {
        return c->idle_ce;
    }
    d = pit_d(c, tick);
    if (d == 0) {
        return n % wrap;        /* the count is not in CE yet: show the new count */
    }
    switch (c->mode) {
    case 2:
        v = n - (d - 1) % n;
        break;
    case 3:
        /*
         * Mode 3: even counts decrement by two; odd counts load N, then subtract one, then
         * two per edge while OUT is high, and three, then two while OUT is low.
         */
        p = (d - 1) % n;
        h = (n + 1) / 2;
        if (p < h) {
            v = (n & 1) ? (p == 0 ? n : n + 1 - 2 * p) : n - 2 * p;
        } else {
            p -= h;
            v = (n & 1) ? (p == 0 ? n : n - 1 - 2 * p) : n - 2 * p;
        }
        break;
    default:                    /* 0, 1, 4, 5 keep counting down after TC, wrapping */
        v = ((n - (d - 1)) % wrap + wrap) % wrap;
        break;
    }
    return v % wrap;
}

/* Edge count (absolute tick) of the next OUT transition after tick, or -1. */
static int64_t pit_next_edge(PitChannel *c, int64_t tick)
{
    int64_t d, n = c->cur, nd, base, p, h;

    if (!c->armed || c->held) {
        return -1;
    }
    d = pit_d(c, tick);
    switch (c->mode) {
    case 0:
        nd = d < n + 1 ? n + 1 : -1;
        break;
    case 1:
        nd = d < 1 ? 1 : d < n + 1 ? n + 1 : -1;
        break;
    case 2:
        if (n == 1) {
            nd = d < 1 ? 1 : -1;
        } else if (d >= 1 && d % n == 0) {
            nd = d + 1;
        } else {
            nd = (d / n + 1) * n;
        }
        break;
    case 3:
        if (n == 1) {
            nd = -1;            /* illegal count: OUT stays high */
            break;
        }
        h = (n + 1) / 2;
        p = d >= 1 ? (d - 1) % n : 0;
        base = d >= 1 ? d - p : 1;
        nd = p < h ? base + h : base + n;
        break;
    default:
        nd = d < n + 1 ? n + 1 : d == n + 1 ? n + 2 : -1;
        break;
    }
    return nd < 0 ? -1 : c->load_tick + nd;
}

/* ------------------------------------------------------------ channel 0 */

/* Drive IRQ 0 from OUT0 as of tick and arm the timer for its next transition. */
static void pit_irq_update(PitState *s, int64_t tick)
{
    PitChannel *c = &s->ch[0];
    int64_t next = pit_next_edge(c, tick);

    irq_set_level(s->irq, pit_out_at(c, tick));
    if (!s->timer) {
        return;                 /* not realized yet */
    }
    if (next < 0) {
        timer_del(s->timer);
        s->next_tick = -1;
    } else {
        s->next_tick = next;
        timer_mod_ns(s->timer, pit_tick_to_ns(next));
    }
}

static void pit_timer_cb(void *opaque)
{
    PitState *s = opaque;
    int64_t now = pit_now_tick();
    int64_t tick = s->next_tick;

    /* Far behind (the host could not keep up): drop the missed periods. */
    if (tick < 0 || now - tick > PIT_FREQ / 10) {
        tick = now;
    }
    pit_irq_update(s, tick);
}

static void pit_channel_changed(PitState *s, int n, int64_t tick)
{
    if (n == 0) {
        pit_irq_update(s, tick);
    }
}

/* ------------------------------------------------------- gate and count */

static void pit_start(PitChannel *c, int64_t tick)
{
    c->cur = c->count;
    c->armed = true;
    c->load_tick = tick;
    c->held = !c->gate && c->mode != 1 && c->mode != 5;
    c->held_d = 0;
}

/* A complete count was written ("Write Operations" and each mode's "new count" rule). */
static void pit_load_count(PitState *s, int n, uint16_t raw, int64_t tick)
{
    PitChannel *c = &s->ch[n];
    uint32_t v = c->bcd ? bcd_to_bin(raw) : raw;

    c->count = v ? v : pit_wrap(c);     /* 0 is the maximum count: 2^16 or 10^4 */
    c->null_count = true;
    switch (c->mode) {
    case 1:
    case 5:
        /* Hardware triggered: the count waits for a GATE rising edge. */
        break;
    default:
        pit_start(c, tick);
        break;
    }
    pit_channel_changed(s, n, tick);
}

static void pit_gate(PitState *s, int n, bool level, int64_t tick)
{
    PitChannel *c = &s->ch[n];

    if (level == c->gate) {
        return;
    }
    c->gate = level;
    if (level) {
        switch (c->mode) {
        case 1:
        case 5:
            /* A trigger: CE is (re)loaded on the next edge ("retriggerable"). */
            if (c->count) {
                pit_start(c, tick);
            }
            break;
        case 2:
        case 3:
            /* Counting restarts from the initial count on the next edge. */
            if (c->armed) {
                c->held = false;
                c->load_tick = tick;
            }
            break;
        default:
            /* Modes 0 and 4: counting resumes where it stopped. */
            if (c->armed && c->held) {
                c->held = false;
                c->load_tick = tick - c->held_d;
            }
            break;
        }
    } else if (c->armed && c->mode != 1 && c->mode != 5) {
        c->held_d = pit_d(c, tick);
        c->held = true;
    }
    pit_channel_changed(s, n, tick);
}

void pit_set_gate(DeviceState *dev, int channel, int level)
{
    if (channel < 0 || channel >= PIT_CHANNELS) {
        return;
    }
    pit_gate(I8254(dev), channel, level, pit_now_tick());
}

bool pit_get_gate(DeviceState *dev, int channel)
{
    return channel >= 0 && channel < PIT_CHANNELS && I8254(dev)->ch[channel].gate;
}

int pit_get_out(DeviceState *dev, int channel)
{
    if (channel < 0 || channel >= PIT_CHANNELS) {
        return 0;
    }
    return pit_out_at(&I8254(dev)->ch[channel], pit_now_tick());
}

/* ------------------------------------------------------------- registers */

static uint16_t pit_ce_display(PitChannel *c, int64_t tick)
{
    uint32_t v = pit_ce_at(c, tick);

    return c->bcd ? bin_to_bcd(v) : v;
}

static void pit_latch_count(PitChannel *c, int64_t tick)
{
    /* "Counter Latch Command": a second latch before the first is read is ignored. */
    if (c->latch_bytes == 0) {
        c->latched_count = pit_ce_display(c, tick);
        c->latch_bytes = c->rw_mode == RW_WORD ? 2 : 1;
    }
}

static void pit_latch_status(PitChannel *c, int64_t tick)
{
    if (c->status_latched) {
        return;                 /* "Read-Back Command": only the first status latch counts */
    }
    if (c->null_count && c->armed && tick - c->load_tick >= 1) {
        c->null_count = false;  /* the count reached CE on the first edge after the write */
    }
    c->status = (pit_out_at(c, tick) ? ST_OUTPUT : 0) | (c->null_count ? ST_NULL_COUNT : 0) |
                (c->rw_mode << 4) | (c->mode << 1) | (c->bcd ? CW_BCD : 0);
    c->status_latched = true;
}

static void pit_write_control(PitState *s, uint8_t val, int64_t tick)
{
    int n = CW_SC(val);
    PitChannel *c;

    if (n == 3) {
        for (int i = 0; i < PIT_CHANNELS; i++) {
            if (!(val & (2 << i))) {
                continue;
            }
            /* "Read-Back Command": if both are latched, status is read first. */
            if (!(val & RB_NOT_COUNT)) {
                pit_latch_count(&s->ch[i], tick);
            }
            if (!(val & RB_NOT_STATUS)) {
                pit_latch_status(&s->ch[i], tick);
            }
        }
        return;
    }
    c = &s->ch[n];
    if (CW_RW(val) == 0) {
        pit_latch_count(c, tick);
        return;
    }
    /*
     * "Operational Description": a control word resets the counter's control logic and sets
     * OUT to the mode's initial state; counting waits for a new count.
     */
    c->idle_ce = pit_ce_at(c, tick);
    c->rw_mode = CW_RW(val);
    c->mode = CW_MODE(val);
    if (c->mode > 5) {
        c->mode -= 4;           /* 110 and 111 are modes 2 and 3 */
    }
    c->bcd = val & CW_BCD;
    c->idle_ce %= pit_wrap(c);
    c->armed = false;
    c->held = false;
    c->null_count = true;
    c->count = 0;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_bytes = 0;
    c->status_latched = false;
    pit_channel_changed(s, n, tick);
}

static void pit_write_counter(PitState *s, int n, uint8_t val, int64_t tick)
{
    PitChannel *c = &s->ch[n];

    switch (c->rw_mode) {
    case RW_LSB:
        pit_load_count(s, n, val, tick);
        break;
    case RW_MSB:
        pit_load_count(s, n, val << 8, tick);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = val;
            c->write_msb_next = true;
            if (c->mode == 0 && c->armed) {
                /* Mode 0: writing the first byte stops counting and sets OUT low. */
                c->idle_ce = pit_ce_at(c, tick);
                c->armed = false;
                pit_channel_changed(s, n, tick);
            }
        } else {
            c->write_msb_next = false;
            pit_load_count(s, n, c->write_lsb | (val << 8), tick);
        }
        break;
    }
}

static uint8_t pit_read_counter(PitChannel *c, int64_t tick)
{
    uint16_t v;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_bytes) {
        /* "Read Operations": the latch holds until read in the programmed format. */
        if (c->rw_mode == RW_WORD && c->latch_bytes == 2) {
            c->latch_bytes = 1;
            return c->latched_count & 0xff;
        }
        c->latch_bytes = 0;
        return c->rw_mode == RW_LSB ? c->latched_count & 0xff : c->latched_count >> 8;
    }
    v = pit_ce_display(c, tick);
    switch (c->rw_mode) {
    case RW_LSB:
        return v & 0xff;
    case RW_MSB:
        return v >> 8;
    default:
        c->read_msb_next = !c->read_msb_next;
        return c->read_msb_next ? v & 0xff : v >> 8;
    }
}

static uint64_t pit_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    PitState *s = opaque;

    if (addr == 3) {
        /* "Read Operations": the control word register cannot be read. */
        kite_log_mask(LOG_GUEST_ERROR, "i8254: read of the control word register\n");
        return 0xff;
    }
    return pit_read_counter(&s->ch[addr], pit_now_tick());
}

static void pit_ioport_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    PitState *s = opaque;
    int64_t tick = pit_now_tick();

    kite_trace("i8254_write", "port=%d val=0x%02x", (int)addr, (unsigned)data);
    if (addr == 3) {
        pit_write_control(s, data, tick);
    } else {
        pit_write_counter(s, addr, data, tick);
    }
}

static const MemoryRegionOps pit_ops = {
    .read = pit_ioport_read, .write = pit_ioport_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

/* ------------------------------------------------------------- lifecycle */

/*
 * The datasheet leaves the state after power-on undefined.  Like QEMU (and the state every PC
 * BIOS leaves behind), each channel starts in mode 3, LSB/MSB, binary, count 0 (65536):
 * channel 0 gives the 18.2 Hz tick without any programming.  GATE 2 starts low.
 */
static void pit_reset(DeviceState *dev)
{
    PitState *s = I8254(dev);
    int64_t tick = pit_now_tick();

    for (int i = 0; i < PIT_CHANNELS; i++) {
        PitChannel *c = &s->ch[i];
        memset(c, 0, sizeof(*c));
        c->mode = 3;
        c->rw_mode = RW_WORD;
        c->gate = i != 2;
        c->count = 65536;
        pit_start(c, tick);
        c->null_count = false;
    }
    pit_irq_update(s, tick);
}

static void pit_realize(DeviceState *dev, Error **errp)
{
    PitState *s = I8254(dev);

    if (s->iobase > 0xfffc) {
        error_setg(errp, "isa-pit: iobase 0x%x out of the port space", s->iobase);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &pit_ops, s, "pit", 4);
    isa_register_ioport(ISA_DEVICE(dev), &s->io, s->iobase);
    s->irq = isa_get_irq(ISA_DEVICE(dev), s->isa_irq);
    s->timer = timer_new_ns(KITE_CLOCK_VIRTUAL, pit_timer_cb, s);
}

static void pit_unrealize(DeviceState *dev)
{
    PitState *s = I8254(dev);

    timer_free(s->timer);
    s->timer = NULL;
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
}

DeviceState *i8254_create(IsaBus *bus, uint32_t iobase, uint32_t isa_irq)
{
    DeviceState *dev = qdev_new(TYPE_I8254);

    object_property_set_uint(OBJECT(dev), "iobase", iobase, &error_abort);
    object_property_set_uint(OBJECT(dev), "irq", isa_irq, &error_abort);
    qdev_realize_and_unref(dev, &bus->parent_obj, &error_fatal);
    return dev;
}

static int pit_post_load(void *opaque, int version_id)
{
    PitState *s = opaque;

    for (int i = 0; i < PIT_CHANNELS; i++) {
        PitChannel *c = &s->ch[i];
        uint32_t wrap;
        /* A corrupt stream must not leave a zero divisor or an impossible mode behind. */
        if (c->mode > 5 || c->rw_mode < RW_LSB || c->rw_mode > RW_WORD || c->latch_bytes > 2) {
            return -1;
        }
        wrap = pit_wrap(c);
        if ((c->armed && (c->cur == 0 || c->cur > wrap)) || c->count > wrap) {
            return -1;
        }
        c->idle_ce %= wrap;
    }
    return 0;
}

static const VMStateDescription vmstate_pit_channel = {
    .name = "i8254-channel", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(mode, PitChannel),
        VMSTATE_UINT8(rw_mode, PitChannel),
        VMSTATE_BOOL(bcd, PitChannel),
        VMSTATE_BOOL(gate, PitChannel),
        VMSTATE_UINT32(count, PitChannel),
        VMSTATE_UINT32(cur, PitChannel),
        VMSTATE_BOOL(armed, PitChannel),
        VMSTATE_BOOL(held, PitChannel),
        VMSTATE_BOOL(null_count, PitChannel),
        VMSTATE_INT64(load_tick, PitChannel),
        VMSTATE_INT64(held_d, PitChannel),
        VMSTATE_UINT16(idle_ce, PitChannel),
        VMSTATE_BOOL(write_msb_next, PitChannel),
        VMSTATE_UINT8(write_lsb, PitChannel),
        VMSTATE_BOOL(read_msb_next, PitChannel),
        VMSTATE_UINT8(latch_bytes, PitChannel),
        VMSTATE_UINT16(latched_count, PitChannel),
        VMSTATE_BOOL(status_latched, PitChannel),
        VMSTATE_UINT8(status, PitChannel),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_pit = {
    .name = "i8254", .version_id = 1, .minimum_version_id = 1,
    .post_load = pit_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(ch, PitState, PIT_CHANNELS, vmstate_pit_channel, PitChannel),
        VMSTATE_INT64(next_tick, PitState),
        VMSTATE_TIMER_PTR(timer, PitState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property pit_props[] = {
    DEFINE_PROP_UINT32("iobase", PitState, iobase, 0x40),
    DEFINE_PROP_UINT32_RANGE("irq", PitState, isa_irq, 0, 0, ISA_NUM_IRQS - 1),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo i8254_type = {
    .name = TYPE_I8254,
    .parent = TYPE_ISA_DEVICE,
    .desc = "Intel 8254 programmable interval timer",
    .instance_size = sizeof(PitState),
    .realize = pit_realize,
    .unrealize = pit_unrealize,
    .reset = pit_reset,
    .props = pit_props,
    .vmsd = &vmstate_pit,
};
KITE_TYPE_REGISTER(i8254_type)
