/*
 * Interrupt lines.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/irq.h"

IRQState *irq_new(IRQHandler *handler, void *opaque, int n)
{
    IRQState *irq = g_new0(IRQState, 1);

    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
    return irq;
}

IRQState **irq_new_array(IRQHandler *handler, void *opaque, int n)
{
    IRQState **irqs = g_new0(IRQState *, n);

    for (int i = 0; i < n; i++) {
        irqs[i] = irq_new(handler, opaque, i);
    }
    return irqs;
}

void irq_free(IRQState *irq)
{
    g_free(irq);
}

void irq_free_array(IRQState **irqs, int n)
{
    if (irqs) {
        for (int i = 0; i < n; i++) {
            irq_free(irqs[i]);
        }
        g_free(irqs);
    }
}

static void split_handler(void *opaque, int n, int level)
{
    IRQState **pair = opaque;

    irq_set_level(pair[0], level);
    irq_set_level(pair[1], level);
}

IRQState *irq_split(IRQState *a, IRQState *b)
{
    IRQState **pair = g_new0(IRQState *, 2);

    pair[0] = a;
    pair[1] = b;
    return irq_new(split_handler, pair, 0);
}
