/*
 * x86 interpreter: system instruction handlers and helpers (sys.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_SYS_H
#define TARGET_I386_TCG_SYS_H

#include "target/i386/tcg/internal.h"

/* Control register writes with their architectural checks; false => #GP(0). */
bool x86_write_cr0(X86CPU *cpu, uint64_t v);
bool x86_write_cr4(X86CPU *cpu, uint64_t v);
void x86_write_cr3(X86CPU *cpu, uint64_t v);
bool x86_msr_read(X86CPU *cpu, uint32_t msr, uint64_t *val);
bool x86_msr_write(X86CPU *cpu, uint32_t msr, uint64_t val);
uint64_t x86_read_tsc(X86CPU *cpu);

KiteOpFn x86_op_mov_from_cr, x86_op_mov_to_cr, x86_op_mov_dr, x86_op_clts, x86_op_lmsw,
         x86_op_smsw, x86_op_xdt, x86_op_sldt_str, x86_op_lldt, x86_op_ltr,
         x86_op_lar_lsl, x86_op_invlpg, x86_op_wbinvd, x86_op_swapgs, x86_op_rdtsc,
         x86_op_rdwrmsr, x86_op_cpuid, x86_op_syscall, x86_op_sysret, x86_op_sysenter,
         x86_op_sysexit;

/* fpu.c / sse.c handlers reached from the system decoder (group 15). */
KiteOpFn x86_op_fxsave, x86_op_fxrstor, x86_op_ldmxcsr, x86_op_stmxcsr;

#endif
