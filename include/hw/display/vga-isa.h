/*
 * isa-vga: the VGA core (hw/display/vga.h) on the ISA bus.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DISPLAY_VGA_ISA_H
#define HW_DISPLAY_VGA_ISA_H

#include "hw/qdev.h"
#include "hw/display/vga.h"

#define TYPE_ISA_VGA "isa-vga"
typedef struct IsaVgaState IsaVgaState;

/* The VGA core of an isa-vga device (for the console layer and tests). */
VGACommonState *isa_vga_common(DeviceState *dev);

#endif
