/*
 * x86 for debuggers (target/i386/gdbstub.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_GDBSTUB_H
#define TARGET_I386_GDBSTUB_H

#include "target/i386/cpu.h"
#include "hw/core/cpu.h"

/* Linear -> physical through env's page tables, no side effects; false if not mapped. */
bool x86_debug_translate(const CPUX86State *env, uint64_t la, uint64_t *pa);
/* Fill the CPUClass debugger hooks. */
void x86_gdb_class_init(CPUClass *cc);

#endif
