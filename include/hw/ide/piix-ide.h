/*
 * PIIX3 IDE function (hw/ide/piix-ide.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_IDE_PIIX_IDE_H
#define HW_IDE_PIIX_IDE_H

#include "hw/pci/pci.h"

#define TYPE_PIIX3_IDE "piix3-ide"

/* Connect the channels' interrupt outputs (primary, secondary: ISA IRQ 14 and 15). */
void piix3_ide_connect_irqs(DeviceState *dev, IRQState *primary, IRQState *secondary);
/* The pc board's part: 00:01.1 on bus, IRQs from isa_irqs[14/15], an ide-hd per
 * if=ide drive (drive_get(IF_IDE, bus, unit)). */
DeviceState *piix3_ide_create(PCIBus *bus, IRQState **isa_irqs);

#endif
