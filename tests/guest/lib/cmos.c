/*
 * Kite guest test runtime: MC146818 CMOS/RTC access through the index port
 * 0x70 and data port 0x71.  Bit 7 of the index is the PC's NMI mask, not an
 * address bit; QEMU and Kite both ignore it for addressing.
 * Reference: Motorola MC146818A datasheet, "Address Map".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

uint8_t cmos_read(uint8_t index)
{
    outb(CMOS_INDEX, index);
    return inb(CMOS_DATA);
}

void cmos_write(uint8_t index, uint8_t v)
{
    outb(CMOS_INDEX, index);
    outb(CMOS_DATA, v);
}
