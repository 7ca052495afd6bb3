/*
 * Interrupt lines: a device raises or lowers an IRQState, whose handler (the interrupt
 * controller's input, or the board's routing) decides what that means.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

#include "kite/osdep.h"

typedef void IRQHandler(void *opaque, int n, int level);

typedef struct IRQState {
    IRQHandler *handler;
    void *opaque;
    int n;
} IRQState;

IRQState *irq_new(IRQHandler *handler, void *opaque, int n);
/* n lines numbered 0..n-1 sharing handler and opaque; free with irq_free_array. */
IRQState **irq_new_array(IRQHandler *handler, void *opaque, int n);
void irq_free(IRQState *irq);
void irq_free_array(IRQState **irqs, int n);

/* A NULL line (unconnected output) is silently ignored. */
static inline void irq_set_level(IRQState *irq, int level)
{
    if (irq) {
        irq->handler(irq->opaque, irq->n, level);
    }
}

static inline void irq_raise(IRQState *irq)
{
    irq_set_level(irq, 1);
}

static inline void irq_lower(IRQState *irq)
{
    irq_set_level(irq, 0);
}

/* Edge: raise then lower. */
static inline void irq_pulse(IRQState *irq)
{
    irq_set_level(irq, 1);
    irq_set_level(irq, 0);
}

/* One input fanned out to several outputs. */
IRQState *irq_split(IRQState *a, IRQState *b);

#endif
