/*
 * For target CPU types: the common realize/unrealize steps, and the vCPU thread helpers
 * that accelerators share (system/cpus.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_CORE_CPU_COMMON_H
#define HW_CORE_CPU_COMMON_H

#include "hw/core/cpu.h"

/* Add to the vCPU list and create the accelerator's vCPU; call at the end of realize. */
bool cpu_common_realize(CPUState *cpu, Error **errp);
void cpu_common_unrealize(CPUState *cpu);

/* True if cpu should run guest code now (VM running, no stop request, not halted). */
bool cpu_can_run(CPUState *cpu);
/* In a vCPU thread with the BQL: sleep while there is nothing to do; acknowledge stops. */
void cpu_wait_io_event(CPUState *cpu);
/* Handle a pending stop request (BQL held). */
void cpu_handle_stop_request(CPUState *cpu);
/* True when the VM is running (vCPUs may execute). */
bool cpus_running(void);
void pause_all_vcpus(void);
void resume_all_vcpus(void);
/* Wake a vCPU sleeping in cpu_wait_io_event. */
void cpu_wake(CPUState *cpu);

#endif
