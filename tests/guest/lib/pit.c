/*
 * Kite guest test runtime: the 8254 PIT (ports 0x40-0x43) and port 0x61.
 * Reference: Intel 82C54 datasheet (order 231244-006): control word format,
 * counter latch command, modes 0-5, read-back command.
 *
 * Channel 2 is the runtime's clock: mode 2 (rate generator) with the full
 * 65536 reload, gated on through port 0x61 bit 0 with the speaker (bit 1)
 * off.  time_us() latches and reads the count and accumulates the ticks
 * elapsed since the previous call, so it must be called at least once per
 * wrap (65536 / 1.193182 MHz = 54.9 ms); every polling loop does.
 * Only the BSP uses it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define PIT_CH0  0x40
#define PIT_CH2  0x42
#define PIT_CMD  0x43
#define PORT_61  0x61               /* bit 0 gate 2, bit 1 speaker, bit 5 OUT2 */

static uint16_t last_count;
static uint64_t total_ticks;

static uint16_t ch2_read(void)
{
    outb(PIT_CMD, 0x80);            /* counter latch, channel 2 */
    uint8_t lo = inb(PIT_CH2);
    uint8_t hi = inb(PIT_CH2);
    return lo | (hi << 8);
}

void time_init(void)
{
    outb(PORT_61, (inb(PORT_61) & ~0x02) | 0x01);    /* gate on, speaker off */
    outb(PIT_CMD, 0xb4);            /* channel 2, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH2, 0x00);            /* reload 0 = 65536 */
    outb(PIT_CH2, 0x00);
    last_count = ch2_read();
    total_ticks = 0;
}

uint64_t time_us(void)
{
    uint16_t now = ch2_read();
    total_ticks += (uint16_t)(last_count - now);     /* counts down, wraps */
    last_count = now;
    /* ticks * 1e6 / 1193182 ~= ticks * 838 / 1000 (0.838095 us per tick) */
    return udiv64(total_ticks * 838, 1000, NULL);
}

void udelay(uint32_t us)
{
    uint64_t end = time_us() + us;
    while (time_us() < end) {
        cpu_relax();
    }
}

void pit_set_periodic(uint32_t hz)
{
    uint32_t div = PIT_HZ / hz;
    outb(PIT_CMD, 0x34);            /* channel 0, lobyte/hibyte, mode 2 */
    outb(PIT_CH0, div & 0xff);
    outb(PIT_CH0, div >> 8);
}

void pit_stop(void)
{
    /* Mode 0 with a maximal count: OUT0 goes low and stays low for 55 ms,
     * then rises once; writing only the control word stops counting until
     * a count is loaded (82C54 "Mode 0"). */
    outb(PIT_CMD, 0x30);
}
