/*
 * vCPU run control shared by the accelerators: stop/resume handshakes and the idle wait.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/core/cpu-common.h"
#include "accel/accel.h"
#include "kite/thread.h"
#include "kite/timer.h"
#include "kite/runstate.h"

static GCond pause_cond;
static bool vcpus_running;

bool cpus_running(void)
{
    return __atomic_load_n(&vcpus_running, __ATOMIC_ACQUIRE);
}

bool cpu_can_run(CPUState *cpu)
{
    return !cpu->stop && !cpu->stopped && cpus_running();
}

void cpu_handle_stop_request(CPUState *cpu)
{
    if (cpu->stop) {
        cpu->stop = false;
        cpu->stopped = true;
        g_cond_broadcast(&pause_cond);
    }
}

static bool cpu_idle(CPUState *cpu)
{
    if (cpu->stop || cpu->unplug) {
        return false;
    }
    if (cpu->stopped || !cpus_running()) {
        return true;
    }
    if (cpu->halted && !cpu_has_work(cpu)) {
        return true;
    }
    return false;
}

void cpu_wait_io_event(CPUState *cpu)
{
    while (cpu_idle(cpu)) {
        bql_cond_wait(&cpu->halt_cond);
    }
    cpu_handle_stop_request(cpu);
}

void cpu_wake(CPUState *cpu)
{
    g_cond_broadcast(&cpu->halt_cond);
}

static bool all_vcpus_paused(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (cpu->created && !cpu->stopped && !cpu->thread_exited) {
            return false;
        }
    }
    return true;
}

void pause_all_vcpus(void)
{
    CPUState *cpu;

    __atomic_store_n(&vcpus_running, false, __ATOMIC_RELEASE);
    CPU_FOREACH(cpu) {
        if (current_cpu == cpu) {
            cpu->stop = false;
            cpu->stopped = true;
            continue;
        }
        cpu->stop = true;
        cpu_exit(cpu);
        cpu_wake(cpu);
    }
    /* Only wait for threads that exist: a vCPU without a thread (qtest) is trivially paused. */
    CPU_FOREACH(cpu) {
        if (!cpu->thread) {
            cpu->stop = false;
            cpu->stopped = true;
        }
    }
    while (!all_vcpus_paused()) {
        bql_cond_wait(&pause_cond);
        CPU_FOREACH(cpu) {
            if (cpu->stop) {
                cpu_exit(cpu);
            }
        }
    }
}

void resume_all_vcpus(void)
{
    CPUState *cpu;
    AccelState *accel = current_accel();

    __atomic_store_n(&vcpus_running, true, __ATOMIC_RELEASE);
    CPU_FOREACH(cpu) {
        cpu->stop = false;
        cpu->stopped = false;
        cpu_wake(cpu);
    }
    if (accel && ACCEL_GET_CLASS(accel)->start_vcpus) {
        ACCEL_GET_CLASS(accel)->start_vcpus(accel);
    }
}
