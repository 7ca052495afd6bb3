/*
 * Starting and stopping the VM, system reset, and the main loop that carries out requests.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/runstate.h"
#include "hw/core/cpu-common.h"
#include "hw/boards.h"
#include "kite/main-loop.h"
#include "kite/timer.h"
#include "kite/log.h"

static void event(const char *name, ShutdownCause cause)
{
    if (runstate_event_hook) {
        runstate_event_hook(name, cause);
    }
}

void vm_start(void)
{
    if (runstate_is_running()) {
        return;
    }
    runstate_set(RUN_STATE_RUNNING);
    clock_virtual_start();
    system_notify_state_change(true, RUN_STATE_RUNNING);
    resume_all_vcpus();
    event("RESUME", SHUTDOWN_CAUSE_NONE);
}

void vm_stop(RunState s)
{
    bool was_running = runstate_is_running();

    if (was_running) {
        pause_all_vcpus();
        clock_virtual_stop();
    }
    runstate_set(s);
    if (was_running) {
        system_notify_state_change(false, s);
        event("STOP", SHUTDOWN_CAUSE_NONE);
    }
}

void system_reset(ShutdownCause cause)
{
    MachineState *ms = current_machine();
    MachineClass *mc = ms ? MACHINE_GET_CLASS(ms) : NULL;

    kite_log_mask(LOG_RESET, "system reset (%s)", shutdown_cause_name(cause));
    if (mc && mc->reset) {
        mc->reset(ms);
    } else {
        bus_cold_reset(sysbus_get_default());
    }
    system_run_reset_handlers();
    if (cause != SHUTDOWN_CAUSE_NONE) {
        event("RESET", cause);
    }
}

/* Act on pending requests; true with *status set when the process should exit. */
static bool main_loop_should_exit(int *status)
{
    int req;

    if ((req = system_take_exit_request())) {
        *status = req - 1;
        return true;
    }
    if ((req = system_take_stop_request())) {
        vm_stop(req - 1);
    }
    if ((req = system_take_shutdown_request())) {
        event("SHUTDOWN", req - 1);
        if (no_shutdown) {
            vm_stop(RUN_STATE_SHUTDOWN);
        } else {
            *status = 0;
            return true;
        }
    }
    if ((req = system_take_reset_request())) {
        bool was_running = runstate_is_running();
        if (was_running) {
            pause_all_vcpus();
        }
        system_reset(req - 1);
        if (was_running) {
            resume_all_vcpus();
        } else if (runstate_check(RUN_STATE_SHUTDOWN) ||
                   runstate_check(RUN_STATE_GUEST_PANICKED) ||
                   runstate_check(RUN_STATE_INTERNAL_ERROR)) {
            /* As in QEMU: a reset from these states leaves the VM paused. */
            runstate_set(RUN_STATE_PAUSED);
        }
    }
    if (system_take_powerdown_request()) {
        event("POWERDOWN", SHUTDOWN_CAUSE_NONE);
        system_run_powerdown_handlers();
    }
    return false;
}

static void notify_main_loop(void)
{
    kite_context_notify(kite_main_context());
}

int main_loop_run(void)
{
    int status = 0;

    system_request_notify = notify_main_loop;
    while (!main_loop_should_exit(&status)) {
        main_loop_wait(false);
    }
    return status;
}
