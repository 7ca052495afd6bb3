/*
 * Debugger support shared by the accelerators and the gdb stub: guest virtual memory
 * access through a vCPU's page tables, VM-wide breakpoints, single-stepping.
 *
 * Breakpoints are kept here, not in the stub, so that accelerators (the interpreter's INT3
 * and KVM's debug exits) can ask "is this one ours?" without seeing the system layer.
 * Software breakpoints are INT3 bytes the stub writes into guest memory (so they cost
 * nothing until hit, under either accelerator); hardware breakpoints leave memory alone
 * (KVM: debug registers; interpreter: an address check).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/core/cpu.h"
#include "accel/accel.h"
#include "kite/runstate.h"

#define MAX_BREAKPOINTS 256

typedef struct CPUBreakpoint {
    uint64_t pc;
    int kind;
} CPUBreakpoint;

/* Written under the BQL with the VM stopped; read from vCPU threads under the lock. */
static GMutex bp_lock;
static CPUBreakpoint bps[MAX_BREAKPOINTS];
static int n_bps;
static CPUState *debug_stop_cpu;

bool cpu_memory_rw_debug(CPUState *cpu, uint64_t addr, void *buf, size_t len, bool is_write)
{
    CPUClass *cc = CPU_GET_CLASS(cpu);
    uint8_t *p = buf;

    while (len) {
        uint64_t page = addr & ~0xfffULL, pa;
        size_t n = MIN(len, 0x1000 - (addr & 0xfff));

        if (!cc->get_phys_page_debug || !cc->get_phys_page_debug(cpu, page, &pa)) {
            return false;
        }
        pa += addr & 0xfff;
        /* Writes may go to ROM: a breakpoint in firmware code must work too. */
        if ((is_write ? address_space_write_rom(cpu->as, pa, p, n)
                      : address_space_read(cpu->as, pa, p, n)) != MEMTX_OK) {
            return false;
        }
        p += n;
        addr += n;
        len -= n;
    }
    return true;
}

bool cpu_breakpoint_insert(uint64_t pc, int kind)
{
    bool ok = false;
    int hw = 0;

    g_mutex_lock(&bp_lock);
    for (int i = 0; i < n_bps; i++) {
        if (bps[i].pc == pc && bps[i].kind == kind) {
            g_mutex_unlock(&bp_lock);
            return true;
        }
        hw += bps[i].kind == BP_HW;
    }
    if (n_bps < MAX_BREAKPOINTS && (kind != BP_HW || hw < CPU_MAX_HW_BREAKPOINTS)) {
        bps[n_bps++] = (CPUBreakpoint){ pc, kind };
        ok = true;
    }
    g_mutex_unlock(&bp_lock);
    return ok;
}

bool cpu_breakpoint_remove(uint64_t pc, int kind)
{
    bool found = false;

    g_mutex_lock(&bp_lock);
    for (int i = 0; i < n_bps; i++) {
        if (bps[i].pc == pc && bps[i].kind == kind) {
            bps[i] = bps[--n_bps];
            found = true;
            break;
        }
    }
    g_mutex_unlock(&bp_lock);
    return found;
}

void cpu_breakpoint_remove_all(void)
{
    g_mutex_lock(&bp_lock);
    n_bps = 0;
    g_mutex_unlock(&bp_lock);
}

bool cpu_breakpoint_test(uint64_t pc, int mask)
{
    bool hit = false;

    if (!__atomic_load_n(&n_bps, __ATOMIC_ACQUIRE)) {
        return false;
    }
    g_mutex_lock(&bp_lock);
    for (int i = 0; i < n_bps && !hit; i++) {
        hit = bps[i].pc == pc && (bps[i].kind & mask);
    }
    g_mutex_unlock(&bp_lock);
    return hit;
}

int cpu_hw_breakpoints(uint64_t *pcs)
{
    int n = 0;

    g_mutex_lock(&bp_lock);
    for (int i = 0; i < n_bps && n < CPU_MAX_HW_BREAKPOINTS; i++) {
        if (bps[i].kind == BP_HW) {
            pcs[n++] = bps[i].pc;
        }
    }
    g_mutex_unlock(&bp_lock);
    return n;
}

bool cpu_sw_breakpoints_present(void)
{
    bool any = false;

    g_mutex_lock(&bp_lock);
    for (int i = 0; i < n_bps && !any; i++) {
        any = bps[i].kind == BP_SW;
    }
    g_mutex_unlock(&bp_lock);
    return any;
}

void cpu_single_step(CPUState *cpu, int flags)
{
    cpu->singlestep_enabled = flags;
}

void cpu_update_guest_debug_all(void)
{
    AccelState *accel = current_accel();
    AccelClass *ac = accel ? ACCEL_GET_CLASS(accel) : NULL;
    CPUState *cpu;

    if (!ac || !ac->update_guest_debug) {
        return;
    }
    CPU_FOREACH(cpu) {
        ac->update_guest_debug(cpu);
    }
}

void cpu_debug_stop(CPUState *cpu)
{
    if (!debug_stop_cpu) {
        debug_stop_cpu = cpu;
    }
    /* Not one more instruction on this vCPU before the main loop stops the VM. */
    cpu->stop = true;
    vm_stop_request(RUN_STATE_DEBUG);
}

CPUState *cpu_take_debug_stop_cpu(void)
{
    CPUState *cpu = debug_stop_cpu;

    debug_stop_cpu = NULL;
    return cpu;
}
