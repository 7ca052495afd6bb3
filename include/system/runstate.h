/*
 * Run states and the requests that change them (QEMU's names and semantics).
 *
 * Requests (reset, shutdown, powerdown) may come from any thread — a vCPU writing to the
 * reset port, the monitor, a signal — and are carried out by the main loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include "kite/osdep.h"

typedef enum RunState {
    RUN_STATE_PRELAUNCH,          /* -S: built but not started */
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,             /* stopped by the user (stop) */
    RUN_STATE_SHUTDOWN,           /* guest shut down with -no-shutdown */
    RUN_STATE_INTERNAL_ERROR,     /* the accelerator could not continue */
    RUN_STATE_GUEST_PANICKED,
    RUN_STATE_DEBUG,              /* stopped by the gdb stub */
    RUN_STATE_IO_ERROR,           /* block device error with werror=stop */
    RUN_STATE_SAVE_VM,
    RUN_STATE_RESTORE_VM,
    RUN_STATE_INMIGRATE,
    RUN_STATE_POSTMIGRATE,
    RUN_STATE_FINISH_MIGRATE,
    RUN_STATE_MAX
} RunState;

typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
    SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
    SHUTDOWN_CAUSE_MAX
} ShutdownCause;

const char *runstate_name(RunState s);
const char *shutdown_cause_name(ShutdownCause c);
RunState runstate_get(void);
bool runstate_is_running(void);
bool runstate_check(RunState s);
void runstate_set(RunState s);

/* Start the guest (from prelaunch/paused); stop it into state s. */
void vm_start(void);
void vm_stop(RunState s);
/* Like vm_stop but callable from a vCPU thread: the main loop completes it. */
void vm_stop_request(RunState s);

typedef void VMChangeStateHandler(void *opaque, bool running, RunState state);
void *vm_state_change_add(VMChangeStateHandler *cb, void *opaque);
void vm_state_change_del(void *entry);

/* Requests, thread-safe. */
void system_reset_request(ShutdownCause cause);
void system_shutdown_request(ShutdownCause cause);
void system_powerdown_request(void);
/* Guest exit with a status (isa-debug-exit): the process exits with it. */
void system_exit_request(int status);
void system_wakeup(void);

/* Hooks for the machine and monitor. */
typedef void ResetHandler(void *opaque);
void system_register_reset(ResetHandler *fn, void *opaque);
void system_unregister_reset(ResetHandler *fn, void *opaque);
typedef void PowerdownHandler(void *opaque);
void system_register_powerdown(PowerdownHandler *fn, void *opaque);
/* Called at each event (for QMP events); cause/state as text. */
typedef void RunstateEventHook(const char *event, ShutdownCause cause);
extern RunstateEventHook *runstate_event_hook;

/* Options. */
extern bool no_reboot;            /* -no-reboot: guest reset = shutdown */
extern bool no_shutdown;          /* -no-shutdown: stay in shutdown state */

/* The main loop of the emulator: returns the process exit status. */
int main_loop_run(void);
/* Perform a full system reset now (main loop, BQL held). */
void system_reset(ShutdownCause cause);

#endif
