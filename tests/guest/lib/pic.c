/*
 * Kite guest test runtime: the 8259A pair (master 0x20-0x21, slave
 * 0xa0-0xa1, cascaded on master IRQ 2), as wired on every PC.
 * Reference: Intel 8259A datasheet (order 231468-003), "Programming the
 * 8259A": ICW1-ICW4 initialisation sequence, OCW1 (mask), OCW2 (EOI), OCW3
 * (read IRR/ISR).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

void pic_init(uint8_t master_vec, uint8_t slave_vec)
{
    outb(PIC1_CMD, 0x11);           /* ICW1: edge, cascade, ICW4 needed */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, master_vec);    /* ICW2: vector base (low 3 bits 0) */
    outb(PIC2_DATA, slave_vec);
    outb(PIC1_DATA, 0x04);          /* ICW3 master: slave on IR2 */
    outb(PIC2_DATA, 0x02);          /* ICW3 slave: cascade identity 2 */
    outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    pic_set_mask(0xffff);           /* OCW1: everything masked */
}

void pic_set_mask(uint16_t mask)
{
    outb(PIC1_DATA, mask & 0xff);
    outb(PIC2_DATA, mask >> 8);
}

uint16_t pic_get_mask(void)
{
    return inb(PIC1_DATA) | (inb(PIC2_DATA) << 8);
}

void pic_unmask(int irq)
{
    uint16_t m = pic_get_mask() & ~(1u << irq);
    if (irq >= 8) {
        m &= ~(1u << 2);            /* the cascade line */
    }
    pic_set_mask(m);
}

void pic_mask(int irq)
{
    pic_set_mask(pic_get_mask() | (1u << irq));
}

void pic_eoi(int irq)
{
    if (irq >= 8) {
        outb(PIC2_CMD, 0x20);       /* OCW2: non-specific EOI */
    }
    outb(PIC1_CMD, 0x20);
}

uint16_t pic_read_irr(void)
{
    outb(PIC1_CMD, 0x0a);           /* OCW3: next read of CMD gives IRR */
    outb(PIC2_CMD, 0x0a);
    return inb(PIC1_CMD) | (inb(PIC2_CMD) << 8);
}

uint16_t pic_read_isr(void)
{
    outb(PIC1_CMD, 0x0b);           /* OCW3: next read of CMD gives ISR */
    outb(PIC2_CMD, 0x0b);
    uint16_t v = inb(PIC1_CMD) | (inb(PIC2_CMD) << 8);
    outb(PIC1_CMD, 0x0a);           /* back to IRR, the power-on default */
    outb(PIC2_CMD, 0x0a);
    return v;
}
