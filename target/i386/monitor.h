/*
 * x86 for the human monitor ("info mem", "info tlb"): see monitor.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_MONITOR_H
#define TARGET_I386_MONITOR_H

#include "hw/core/cpu.h"
#include "target/i386/cpu.h"

/* The guest's page-table mappings: ranges with rights, or (tlb) one line per leaf. */
void x86_dump_mmu(CPUState *cs, GString *out, bool tlb);
/* The same from a register state (CR0, CR3, CR4, EFER) and address_space_memory (tests). */
void x86_dump_mmu_env(const CPUX86State *env, GString *out, bool tlb);

/*
 * $name in the monitor's expressions, QEMU's x86 table: eax..edi (and r8..r15) at the
 * register's full width, eflags, eip, the selectors es..gs and their .base/.limit, and pc
 * (CS base + EIP).
 */
bool x86_monitor_get_register(CPUState *cs, const char *name, uint64_t *val);
bool x86_monitor_get_register_env(const CPUX86State *env, const char *name, uint64_t *val);

/* The code size x/i decodes for, as QEMU's: 64 (EFER.LMA and CS.L), 32 (CS.D) or 16. */
int x86_disas_mode(CPUState *cs);
int x86_disas_mode_env(const CPUX86State *env);

#endif
