/*
 * irq-window: a pending IRQ 0 is taken in an interrupt window of one or two instructions
 * opened by STI, and never in STI's own shadow.
 *
 * References: Intel SDM vol. 3A, 6.8.3 "Masking Exceptions and Interrupts When Switching
 * Stacks" and vol. 2B, STI: "If IF = 0, maskable hardware interrupts remain inhibited on the
 * instruction boundary following an execution of STI"; the interrupt is recognised at the
 * boundary after that.
 *
 * Why: iPXE's BIOS timer (src/arch/x86/interface/pcbios/bios_timer.c) reads the BIOS tick at
 * 0040:006C after "sti; nop; nop; cli" and otherwise runs with interrupts off.  If an
 * emulator takes a pending interrupt only at the end of the code that follows the window,
 * the tick never advances and iPXE waits forever ("Configuring (net0 ...)").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define TICK_HZ 1000
#define WINDOWS 200

static volatile uint32_t ticks;
static unsigned no_request;         /* windows whose wait for IRR bit 0 timed out */

static void irq0_handler(IntFrame *f)
{
    ticks++;
    pic_eoi(0);
}

enum { WIN_TWO, WIN_ONE, WIN_SHADOW };

/* Open one window while IRQ 0 is pending; true if the handler ran in it. */
static bool window(int kind)
{
    uint32_t before;
    uint64_t end = deadline_ms(200);

    /* With IF = 0, wait until the timer's edge is latched in IRR (INTR is then asserted). */
    while (!(pic_read_irr() & 1)) {
        if (time_after(end)) {
            no_request++;
            return false;
        }
    }
    before = ticks;
    switch (kind) {
    case WIN_TWO:
        asm volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
        break;
    case WIN_ONE:
        asm volatile("sti\n\tnop\n\tcli" ::: "memory");
        break;
    default:
        asm volatile("sti\n\tcli" ::: "memory");
        break;
    }
    return ticks != before;
}

static unsigned windows(int kind)
{
    unsigned hits = 0;

    for (int i = 0; i < WINDOWS; i++) {
        hits += window(kind);
    }
    return hits;
}

void test_main(void)
{
    idt_set_handler(PIC_MASTER_BASE + 0, irq0_handler);
    cli();
    pit_set_periodic(TICK_HZ);
    pic_unmask(0);

    unsigned two = windows(WIN_TWO);
    unsigned one = windows(WIN_ONE);
    unsigned shadow = windows(WIN_SHADOW);
    uint16_t irr = pic_read_irr();
    /* The request the shadow windows left pending is taken by the next real window. */
    bool drained = window(WIN_ONE);

    CHECK_EQ(no_request, 0, "waits for the timer's request in IRR that timed out");
    CHECK(two == WINDOWS, "\"sti; nop; nop; cli\" took the pending IRQ 0 in %u of %u windows",
          two, WINDOWS);
    CHECK(one == WINDOWS, "\"sti; nop; cli\" took the pending IRQ 0 in %u of %u windows",
          one, WINDOWS);
    CHECK(shadow == 0, "\"sti; cli\" took IRQ 0 in STI's shadow in %u of %u windows",
          shadow, WINDOWS);
    CHECK(irr & 1, "IRQ 0 still requested in IRR after the shadow-only windows (IRR 0x%x)",
          irr);
    CHECK(drained, "the next \"sti; nop; cli\" takes the request left pending");

    /* The BIOS tick pattern as iPXE uses it: wait for 20 ticks through 2-instruction windows. */
    uint32_t start = ticks;
    uint64_t end = deadline_ms(2000);
    while (ticks - start < 20 && !time_after(end)) {
        asm volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
    }
    CHECK(ticks - start >= 20, "a tick counter polled through \"sti; nop; nop; cli\" "
          "advanced by %u (want 20)", ticks - start);

    pic_mask(0);
    pit_stop();
}
