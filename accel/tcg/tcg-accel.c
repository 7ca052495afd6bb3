/*
 * The interpreter accelerator ("tcg", as QEMU users call it): one thread runs every vCPU
 * round-robin through the target's TCGCPUOps.  Architecture-neutral.
 *
 * The thread holds the BQL only between slices and while the target's glue dispatches I/O;
 * guest code runs without it.  A vCPU gives the thread up when its budget runs out, when it
 * halts, or when it is kicked (an interrupt, a stop request, a device wanting attention).
 * With several vCPUs a real-time timer kicks the running one every few milliseconds so that
 * a spinning vCPU cannot starve the others.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/accel.h"
#include "hw/core/cpu-common.h"
#include "hw/boards.h"
#include "kite/memory.h"
#include "kite/thread.h"
#include "kite/timer.h"
#include "kite/runstate.h"
#include "kite/log.h"

#define TYPE_TCG_ACCEL "tcg" ACCEL_CLASS_SUFFIX

/* Instructions per slice: large, since kicks end slices early whenever something happens. */
#define TCG_SLICE_INSNS (20 * 1000 * 1000)
/* Time slice between vCPUs with -smp > 1. */
#define TCG_RR_KICK_NS (2 * 1000 * 1000)

typedef struct TCGAccel {
    AccelState parent_obj;
    GThread *thread;
    int thread_tid;              /* host TID of the thread, published when it starts */
    CPUState *running;           /* atomic: the vCPU currently in exec() */
    GCond idle_cond;             /* the thread sleeps here when no vCPU can run */
    KiteTimer *rr_timer;
    MemoryListener listener;
    bool thread_quit;
} TCGAccel;

static TCGAccel *tcg_state;

static const TCGCPUOps *ops_of(CPUState *cpu)
{
    return CPU_GET_CLASS(cpu)->tcg_ops;
}

static bool tcg_available(Error **errp)
{
    return true;
}

/*
 * The memory map changed: every vCPU drops its translations before it runs again.  That
 * includes the vCPU whose own access changed it (a PAM or BAR write): it leaves its slice
 * after this instruction, or its next accesses would use the old mappings.
 */
static void tcg_listener_commit(MemoryListener *l)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        __atomic_store_n(&cpu->tlb_flush_pending, true, __ATOMIC_RELEASE);
        if (__atomic_load_n(&tcg_state->running, __ATOMIC_ACQUIRE) == cpu) {
            ops_of(cpu)->kick(cpu);
        }
    }
}

static bool tcg_init_machine(AccelState *accel, MachineState *ms, Error **errp)
{
    TCGAccel *s = (TCGAccel *)accel;

    tcg_state = s;
    g_cond_init(&s->idle_cond);
    s->listener.name = "tcg";
    s->listener.commit = tcg_listener_commit;
    memory_listener_register(&s->listener, &address_space_memory);
    return true;
}

static bool any_cpu_runnable(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (cpu_can_run(cpu) && (!cpu->halted || cpu_has_work(cpu))) {
            return true;
        }
    }
    return false;
}

static void handle_stops(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        cpu_handle_stop_request(cpu);
    }
}

static void rr_kick_cb(void *opaque)
{
    CPUState *cpu = __atomic_load_n(&tcg_state->running, __ATOMIC_ACQUIRE);

    if (cpu) {
        ops_of(cpu)->kick(cpu);
    }
    if (cpu_count() > 1) {
        timer_mod_ns(tcg_state->rr_timer, clock_get_ns(KITE_CLOCK_REALTIME) + TCG_RR_KICK_NS);
    }
}

static void run_one(TCGAccel *s, CPUState *cpu)
{
    const TCGCPUOps *ops = ops_of(cpu);
    TCGExitReason r;
    int64_t executed = 0;

    if (__atomic_exchange_n(&cpu->tlb_flush_pending, false, __ATOMIC_ACQ_REL)) {
        ops->flush_tlb(cpu);
    }
    __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELEASE);
    cpu->halted = false;
    __atomic_store_n(&s->running, cpu, __ATOMIC_RELEASE);
    current_cpu = cpu;
    bql_unlock();
    /* Single-stepping for the gdb stub: one instruction, then the VM stops. */
    r = ops->exec(cpu, cpu->singlestep_enabled ? 1 : TCG_SLICE_INSNS, &executed);
    bql_lock();
    current_cpu = NULL;
    __atomic_store_n(&s->running, NULL, __ATOMIC_RELEASE);

    switch (r) {
    case TCG_EXIT_HALTED:
        cpu->halted = true;
        break;
    case TCG_EXIT_SHUTDOWN:
        kite_log_mask(LOG_GUEST_ERROR, "CPU %d: triple fault", cpu->cpu_index);
        system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        break;
    case TCG_EXIT_DEBUG:
        cpu_debug_stop(cpu);
        break;
    case TCG_EXIT_BUDGET:
    case TCG_EXIT_REQUEST:
        if (cpu->singlestep_enabled && executed > 0) {
            cpu_debug_stop(cpu);
        }
        break;
    }
}

static gpointer tcg_rr_thread(gpointer opaque)
{
    TCGAccel *s = opaque;
    CPUState *cpu;

    kite_thread_set_name("CPU/TCG");
    /* Before the BQL: tcg_create_vcpu holds it while it waits for this. */
    kite_thread_publish_tid(&s->thread_tid);
    bql_lock();
    while (!s->thread_quit) {
        handle_stops();
        if (!any_cpu_runnable()) {
            bql_cond_wait(&s->idle_cond);
            continue;
        }
        CPU_FOREACH(cpu) {
            if (s->thread_quit) {
                break;
            }
            if (!cpu_can_run(cpu) || (cpu->halted && !cpu_has_work(cpu))) {
                continue;
            }
            run_one(s, cpu);
            cpu_handle_stop_request(cpu);
        }
    }
    CPU_FOREACH(cpu) {
        cpu->thread_exited = true;
    }
    bql_unlock();
    return NULL;
}

/* All vCPUs share one thread; the first vCPU created starts it. */
static bool tcg_create_vcpu(AccelState *accel, CPUState *cpu, Error **errp)
{
    TCGAccel *s = (TCGAccel *)accel;
    const TCGCPUOps *ops = ops_of(cpu);

    if (!ops || !ops->exec) {
        error_setg(errp, "CPU type '%s' has no interpreter",
                   object_get_typename(OBJECT(cpu)));
        return false;
    }
    if (ops->init_vcpu) {
        ops->init_vcpu(cpu);
    }
    /* Wake-ups for any vCPU go to the shared thread's condition. */
    if (!s->thread) {
        s->rr_timer = timer_new_ns(KITE_CLOCK_REALTIME, rr_kick_cb, NULL);
        s->thread = g_thread_new("tcg-rr", tcg_rr_thread, s);
    }
    cpu->thread = s->thread;
    /*
     * Every vCPU, hot-plugged ones too, reports the shared thread's TID from the start
     * (query-cpus-fast), not the main thread's while that thread is still being scheduled.
     */
    __atomic_store_n(&cpu->thread_id, kite_thread_wait_tid(&s->thread_tid), __ATOMIC_RELEASE);
    return true;
}

static void tcg_kick_vcpu(CPUState *cpu)
{
    TCGAccel *s = tcg_state;

    if (__atomic_load_n(&s->running, __ATOMIC_ACQUIRE) == cpu) {
        ops_of(cpu)->kick(cpu);
    }
    /* The thread may be asleep waiting for work: wake it (it re-checks under the BQL). */
    g_cond_broadcast(&s->idle_cond);
}

static void tcg_start_vcpus(AccelState *accel)
{
    TCGAccel *s = (TCGAccel *)accel;

    g_cond_broadcast(&s->idle_cond);
    if (cpu_count() > 1 && s->rr_timer) {
        timer_mod_ns(s->rr_timer, clock_get_ns(KITE_CLOCK_REALTIME) + TCG_RR_KICK_NS);
    }
}

static void tcg_destroy_vcpu(CPUState *cpu)
{
}

static void tcg_update_guest_debug(CPUState *cpu)
{
    if (ops_of(cpu)->update_debug) {
        ops_of(cpu)->update_debug(cpu);
    }
}

static void tcg_class_init(ObjectClass *oc, const void *data)
{
    AccelClass *ac = (AccelClass *)oc;

    ac->name = "tcg";
    ac->available = tcg_available;
    ac->init_machine = tcg_init_machine;
    ac->create_vcpu = tcg_create_vcpu;
    ac->destroy_vcpu = tcg_destroy_vcpu;
    ac->kick_vcpu = tcg_kick_vcpu;
    ac->start_vcpus = tcg_start_vcpus;
    ac->update_guest_debug = tcg_update_guest_debug;
}

static const TypeInfo tcg_accel_type = {
    .name = TYPE_TCG_ACCEL,
    .parent = TYPE_ACCEL,
    .instance_size = sizeof(TCGAccel),
    .class_init = tcg_class_init,
};
KITE_TYPE_REGISTER(tcg_accel_type)
