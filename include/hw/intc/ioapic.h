/*
 * The I/O APIC in userspace ("ioapic", 82093AA-compatible, 24 pins).  The board maps
 * ioapic_mmio() at IOAPIC_DEFAULT_ADDRESS and connects GSI n to GPIO input n.  Redirected
 * interrupts go to the local APICs through apic_deliver_irq(); a local APIC's EOI of a
 * level-triggered vector comes back through ioapic_eoi_broadcast().  BQL held throughout.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_INTC_IOAPIC_H
#define HW_INTC_IOAPIC_H

#include "hw/sysbus.h"

#define TYPE_IOAPIC "ioapic"
#define IOAPIC_NUM_PINS 24
#define IOAPIC_DEFAULT_ADDRESS 0xfec00000
#define IOAPIC_SPACE_SIZE 0x1000

MemoryRegion *ioapic_mmio(DeviceState *ioapic);
/* Every I/O APIC: clear Remote IRR of level entries with this vector, re-deliver if the
 * line is still asserted (82093AA 3.2.4, bit 14). */
void ioapic_eoi_broadcast(int vector);

#endif
