/*
 * The x86 vCPU's vmstate (target/i386/machine.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_MACHINE_H
#define TARGET_I386_MACHINE_H

#include "kite/vmstate.h"

extern const VMStateDescription vmstate_x86_vcpu;

#endif
