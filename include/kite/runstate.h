/*
 * Run states, shutdown causes and system requests, for devices and the system layer alike.
 *
 * Requests (reset, shutdown, powerdown, exit) may come from any thread - a vCPU writing the
 * reset port, the monitor, a signal - and only set a flag and wake the main loop, which
 * carries them out (system/runstate.c).  Devices include this header, never system/'s.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_RUNSTATE_H
#define KITE_RUNSTATE_H

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

/* -action panic=: what a guest panic (pvpanic) does, as QEMU's PanicAction. */
typedef enum PanicAction {
    PANIC_ACTION_SHUTDOWN,        /* the default: GUEST_PANICKED, then shut down */
    PANIC_ACTION_PAUSE,           /* stop in guest-panicked */
    PANIC_ACTION_EXIT_FAILURE,    /* like shutdown, and the process exits with status 1 */
    PANIC_ACTION_NONE,            /* only the event; the guest runs on */
} PanicAction;
extern PanicAction panic_action;

/*
 * Guest panic notifications (the pvpanic device), any thread: GUEST_PANIC_PANICKED is
 * handled by panic_action; GUEST_PANIC_CRASH_LOADED only reports (the guest's kdump
 * kernel takes over).  The main loop sends the events and changes the run state.
 */
#define GUEST_PANIC_PANICKED     (1u << 0)
#define GUEST_PANIC_CRASH_LOADED (1u << 1)
void system_guest_panic_request(unsigned events);
unsigned system_take_guest_panic_request(void);
/* Event hook for GUEST_PANICKED / GUEST_CRASHLOADED with QEMU's action name. */
typedef void GuestPanicEventHook(const char *event, const char *action);
extern GuestPanicEventHook *guest_panic_event_hook;

/* For the system layer: take (and clear) a pending request; 0 if none, else value + 1. */
int system_take_reset_request(void);
int system_take_shutdown_request(void);
int system_take_exit_request(void);
bool system_take_powerdown_request(void);
int system_take_stop_request(void);
void vm_stop_request(RunState s);
/* Called after a request is recorded: wakes the main loop (set by the system layer). */
extern void (*system_request_notify)(void);
/* Run the registered reset and powerdown handlers / state change handlers. */
void system_run_reset_handlers(void);
void system_run_powerdown_handlers(void);
void system_notify_state_change(bool running, RunState s);

#endif
