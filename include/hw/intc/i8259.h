/*
 * Intel 8259A programmable interrupt controller: the PC's master/slave pair.
 *
 * The board creates the pair with i8259_init(), which returns the 16 ISA IRQ input lines
 * (0-7 master, 8-15 slave; the slave's INT is wired to master IR2).  The master's INT output
 * goes to parent_irq (the board fans it out to every local APIC's LINT0 through
 * apic_deliver_pic_intr).  The CPU side acknowledges with pic_read_irq(isa_pic).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_INTC_I8259_H
#define HW_INTC_I8259_H

#include "hw/isa.h"

#define TYPE_I8259 "isa-i8259"

/* The master PIC created by the last i8259_init (NULL once it is unrealized), as in QEMU. */
extern DeviceState *isa_pic;

/*
 * Create and realize master (0x20-0x21, ELCR 0x4d0) and slave (0xa0-0xa1, ELCR 0x4d1) on
 * bus and wire them.  Returns a g_new'd array of the 16 input lines: the caller g_free()s the
 * array, the lines themselves belong to the PIC devices.
 */
IRQState **i8259_init(IsaBus *bus, IRQState *parent_irq);

/*
 * The interrupt acknowledge cycle (8259A datasheet, "Interrupt Sequence"): returns the vector
 * the master (and the slave through the cascade) puts on the bus, moving the request from
 * IRR to ISR.  With nothing pending it returns the spurious IR7 vector (IR15's for the
 * slave) without setting an ISR bit, as the chip does.
 */
int pic_read_irq(DeviceState *master);

/* The level of the chip's INT output (an unmasked request above the in-service priority). */
bool pic_get_output(DeviceState *pic);

#endif
