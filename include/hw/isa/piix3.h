/*
 * PIIX3 function 0, the PCI-to-ISA bridge with PIRQ routing (hw/isa/piix3.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ISA_PIIX3_H
#define HW_ISA_PIIX3_H

#include "hw/pci/pci.h"
#include "hw/irq.h"

#define TYPE_PIIX3 "PIIX3"

typedef struct PIIX3State {
    PCIDevice parent_obj;
    IRQState *isa_irqs[16];
    int32_t pirq_level[4];
    uint16_t driven;           /* ISA IRQs this bridge currently asserts */
} PIIX3State;

PIIX3State *PIIX3(const void *obj);
/* The 16 ISA IRQ lines the PIRQs are routed onto (board wiring, before reset). */
void piix3_set_isa_irqs(PIIX3State *s, IRQState **irqs);
/* PCISetIrqFn for the bus: PIRQ pirq (0 = A) is at level. */
void piix3_set_pci_irq(void *opaque, int pirq, int level);

#endif
