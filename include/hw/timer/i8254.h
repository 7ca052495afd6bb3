/*
 * Intel 8254 programmable interval timer ("isa-pit") and the PC's port 0x61 ("isa-pcspk").
 *
 * Counters run from the virtual clock at 1.193182 MHz: a read computes the counter from the
 * time elapsed since it was loaded, so software that spins reading counter values (Linux's
 * TSC calibration) sees a clock as exact as the virtual clock itself.  Channel 0's OUT drives
 * ISA IRQ 0 through a timer armed for each output transition.  Channel 2's gate and output
 * belong to port 0x61, which the pcspk device models with a link to the PIT.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_TIMER_I8254_H
#define HW_TIMER_I8254_H

#include "hw/isa.h"

#define TYPE_I8254 "isa-pit"
#define TYPE_PCSPK "isa-pcspk"

#define PIT_FREQ 1193182        /* Hz: the PC's 14.31818 MHz crystal divided by 12 */

/* Create and realize the PIT at iobase (0x40) with OUT0 on isa_irq (0). */
DeviceState *i8254_create(IsaBus *bus, uint32_t iobase, uint32_t isa_irq);
/* Port 0x61 on bus, linked to pit. */
DeviceState *pcspk_create(IsaBus *bus, DeviceState *pit);

/* GATE input of a channel (only channel 2's is not tied high on the PC). */
void pit_set_gate(DeviceState *pit, int channel, int level);
/* OUT of a channel now (0 or 1). */
int pit_get_out(DeviceState *pit, int channel);
bool pit_get_gate(DeviceState *pit, int channel);

#endif
