/*
 * Run state bookkeeping, request flags and handler registries (see kite/runstate.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/runstate.h"
#include "hw/core/cpu.h"

bool no_reboot;
bool no_shutdown;
PanicAction panic_action = PANIC_ACTION_SHUTDOWN;
GuestPanicEventHook *guest_panic_event_hook;
static unsigned guest_panic_requested;   /* GUEST_PANIC_* bits */
RunstateEventHook *runstate_event_hook;
void (*system_request_notify)(void);

static RunState current_state = RUN_STATE_PRELAUNCH;

/* Pending requests: value + 1, or 0. */
static int reset_requested;
static int shutdown_requested;
static int powerdown_requested;
static int exit_requested;
static int stop_requested;

typedef struct Handler {
    void (*fn)(void *opaque);
    void *opaque;
} Handler;

typedef struct StateChangeEntry {
    VMChangeStateHandler *cb;
    void *opaque;
} StateChangeEntry;

static GArray *reset_handlers;
static GArray *powerdown_handlers;
static GPtrArray *state_change_handlers;

static const char *const runstate_names[RUN_STATE_MAX] = {
    [RUN_STATE_PRELAUNCH] = "prelaunch",
    [RUN_STATE_RUNNING] = "running",
    [RUN_STATE_PAUSED] = "paused",
    [RUN_STATE_SHUTDOWN] = "shutdown",
    [RUN_STATE_INTERNAL_ERROR] = "internal-error",
    [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [RUN_STATE_DEBUG] = "debug",
    [RUN_STATE_IO_ERROR] = "io-error",
    [RUN_STATE_SAVE_VM] = "save-vm",
    [RUN_STATE_RESTORE_VM] = "restore-vm",
    [RUN_STATE_INMIGRATE] = "inmigrate",
    [RUN_STATE_POSTMIGRATE] = "postmigrate",
    [RUN_STATE_FINISH_MIGRATE] = "finish-migrate",
};

static const char *const cause_names[SHUTDOWN_CAUSE_MAX] = {
    [SHUTDOWN_CAUSE_NONE] = "none",
    [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
    [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    [SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
};

const char *runstate_name(RunState s)
{
    return s < RUN_STATE_MAX ? runstate_names[s] : "unknown";
}

const char *shutdown_cause_name(ShutdownCause c)
{
    return c < SHUTDOWN_CAUSE_MAX ? cause_names[c] : "unknown";
}

RunState runstate_get(void)
{
    return __atomic_load_n(&current_state, __ATOMIC_ACQUIRE);
}

bool runstate_check(RunState s)
{
    return runstate_get() == s;
}

bool runstate_is_running(void)
{
    return runstate_get() == RUN_STATE_RUNNING;
}

void runstate_set(RunState s)
{
    __atomic_store_n(&current_state, s, __ATOMIC_RELEASE);
}

/* ----------------------------------------------------------- requests */

static void set_request(int *req, int value, bool kick_cpus)
{
    CPUState *cpu;

    __atomic_store_n(req, value, __ATOMIC_SEQ_CST);
    if (kick_cpus) {
        /* Stop running guest code now: the request must not race with the vCPUs. */
        CPU_FOREACH(cpu) {
            cpu_exit(cpu);
        }
    }
    if (system_request_notify) {
        system_request_notify();
    }
}

static int take_request(int *req)
{
    return __atomic_exchange_n(req, 0, __ATOMIC_SEQ_CST);
}

void system_reset_request(ShutdownCause cause)
{
    if (no_reboot && cause != SHUTDOWN_CAUSE_SUBSYSTEM_RESET) {
        /*
         * -no-reboot (-action reboot=shutdown): any reset ends the VM instead, QMP's
         * system_reset included, as in QEMU (qemu_system_reset_request).
         */
        set_request(&shutdown_requested, cause + 1, true);
    } else {
        set_request(&reset_requested, cause + 1, true);
    }
}

void system_shutdown_request(ShutdownCause cause)
{
    set_request(&shutdown_requested, cause + 1, true);
}

void system_powerdown_request(void)
{
    set_request(&powerdown_requested, 1, false);
}

void system_exit_request(int status)
{
    /*
     * From a vCPU (isa-debug-exit): that vCPU runs no further guest code while the main
     * loop winds down, as the exit takes effect at the write on real test setups (QEMU
     * exits inside the port write).
     */
    if (current_cpu) {
        current_cpu->stop = true;
        cpu_exit(current_cpu);
    }
    set_request(&exit_requested, status + 1, true);
}

void system_guest_panic_request(unsigned events)
{
    CPUState *cpu;

    __atomic_fetch_or(&guest_panic_requested, events, __ATOMIC_SEQ_CST);
    /* As for a stop request: the VM should not run on past a panic it will act on. */
    CPU_FOREACH(cpu) {
        cpu_exit(cpu);
    }
    if (system_request_notify) {
        system_request_notify();
    }
}

unsigned system_take_guest_panic_request(void)
{
    return __atomic_exchange_n(&guest_panic_requested, 0, __ATOMIC_SEQ_CST);
}

void vm_stop_request(RunState s)
{
    set_request(&stop_requested, s + 1, true);
}

void system_wakeup(void)
{
    if (system_request_notify) {
        system_request_notify();
    }
}

int system_take_reset_request(void)
{
    return take_request(&reset_requested);
}

int system_take_shutdown_request(void)
{
    return take_request(&shutdown_requested);
}

int system_take_exit_request(void)
{
    return take_request(&exit_requested);
}

bool system_take_powerdown_request(void)
{
    return take_request(&powerdown_requested) != 0;
}

int system_take_stop_request(void)
{
    return take_request(&stop_requested);
}

/* ----------------------------------------------------------- handlers */

static void handler_add(GArray **arr, void (*fn)(void *), void *opaque)
{
    Handler h = { fn, opaque };

    if (!*arr) {
        *arr = g_array_new(false, false, sizeof(Handler));
    }
    g_array_append_val(*arr, h);
}

static void handler_del(GArray *arr, void (*fn)(void *), void *opaque)
{
    for (guint i = 0; arr && i < arr->len; i++) {
        Handler *h = &g_array_index(arr, Handler, i);
        if (h->fn == fn && h->opaque == opaque) {
            g_array_remove_index(arr, i);
            return;
        }
    }
}

static void handlers_run(GArray *arr)
{
    for (guint i = 0; arr && i < arr->len; i++) {
        Handler *h = &g_array_index(arr, Handler, i);
        h->fn(h->opaque);
    }
}

void system_register_reset(ResetHandler *fn, void *opaque)
{
    handler_add(&reset_handlers, fn, opaque);
}

void system_unregister_reset(ResetHandler *fn, void *opaque)
{
    handler_del(reset_handlers, fn, opaque);
}

void system_register_powerdown(PowerdownHandler *fn, void *opaque)
{
    handler_add(&powerdown_handlers, fn, opaque);
}

void system_run_reset_handlers(void)
{
    handlers_run(reset_handlers);
}

void system_run_powerdown_handlers(void)
{
    handlers_run(powerdown_handlers);
}

void *vm_state_change_add(VMChangeStateHandler *cb, void *opaque)
{
    StateChangeEntry *e = g_new0(StateChangeEntry, 1);

    if (!state_change_handlers) {
        state_change_handlers = g_ptr_array_new_with_free_func(g_free);
    }
    e->cb = cb;
    e->opaque = opaque;
    g_ptr_array_add(state_change_handlers, e);
    return e;
}

void vm_state_change_del(void *entry)
{
    g_ptr_array_remove(state_change_handlers, entry);
}

void system_notify_state_change(bool running, RunState s)
{
    for (guint i = 0; state_change_handlers && i < state_change_handlers->len; i++) {
        StateChangeEntry *e = state_change_handlers->pdata[i];
        e->cb(e->opaque, running, s);
    }
}
