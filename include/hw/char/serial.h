/*
 * 16550A UART on the ISA bus ("isa-serial"), QEMU's properties:
 *   index    which COM port (0-3) the defaults come from; -1 (default): the next free one
 *   iobase   -1 (default): 0x3f8, 0x2f8, 0x3e8, 0x2e8 for index 0-3
 *   irq      -1 (default): 4, 3, 4, 3 for index 0-3
 *   chardev  id of the chardev it talks to (none: output is discarded, no input)
 *
 * Board usage: isa_serial_create(isa_bus, i, serial_hd(i)) for each -serial port.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include "hw/isa.h"

#define TYPE_ISA_SERIAL "isa-serial"
/* hw/char/debugcon.c: props iobase (0xe9), chardev, readback (0xe9). */
#define TYPE_ISA_DEBUGCON "isa-debugcon"
#define MAX_ISA_SERIAL_PORTS 4

typedef struct Chardev Chardev;

/* Create and realize COM(index + 1) on bus with chr as its backend (may be NULL). */
DeviceState *isa_serial_create(IsaBus *bus, int index, Chardev *chr);

#endif
