/*
 * VGA: the PCI stdvga (hw/display/vga-pci.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DISPLAY_VGA_PCI_H
#define HW_DISPLAY_VGA_PCI_H

#include "hw/qdev.h"
#include "hw/display/vga.h"

#define TYPE_PCI_VGA "VGA"
#define PCI_VGA_DEFAULT_ROM "vgabios-stdvga.bin"

/*
 * Direct kernel boot: start the card in its xres x yres x 32 DISPI mode (now and at every
 * reset) and describe the linear framebuffer at BAR 0's current address in screen_info
 * (si, Linux's struct screen_info).  False if BAR 0 is not mapped.
 */
bool pci_vga_set_boot_mode(DeviceState *dev, uint8_t *si);

#endif
