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
#include "kite/opts.h"

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

/* At exit: stop like vm_stop but, as QEMU's vm_shutdown, without a STOP event. */
void vm_shutdown(void)
{
    if (runstate_is_running()) {
        pause_all_vcpus();
        clock_virtual_stop();
        runstate_set(RUN_STATE_SHUTDOWN);
        system_notify_state_change(false, RUN_STATE_SHUTDOWN);
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

static int shutdown_exit_status;      /* -action panic=exit-failure: 1 */

static void panic_event(const char *event, const char *action)
{
    if (guest_panic_event_hook) {
        guest_panic_event_hook(event, action);
    }
}

/* QEMU's order (system/runstate.c): the event, then the state change. */
static void guest_panicked(void)
{
    kite_log_mask(LOG_GUEST_ERROR, "guest crashed (pvpanic)");
    if (panic_action == PANIC_ACTION_PAUSE ||
        (panic_action == PANIC_ACTION_SHUTDOWN && no_shutdown)) {
        panic_event("GUEST_PANICKED", "pause");
        vm_stop(RUN_STATE_GUEST_PANICKED);
    } else if (panic_action == PANIC_ACTION_SHUTDOWN ||
               panic_action == PANIC_ACTION_EXIT_FAILURE) {
        /*
         * The shutdown request is taken right after this, before the VM would be seen
         * stopped: like QEMU, GUEST_PANICKED then SHUTDOWN, no STOP.
         */
        panic_event("GUEST_PANICKED", "poweroff");
        if (panic_action == PANIC_ACTION_EXIT_FAILURE) {
            shutdown_exit_status = 1;
        }
        system_shutdown_request(SHUTDOWN_CAUSE_GUEST_PANIC);
    } else {
        panic_event("GUEST_PANICKED", "run");
    }
}

bool runstate_parse_action(const char *optarg, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_parse(optarg, NULL, errp);
    static const char *const panic_names[] = {
        [PANIC_ACTION_SHUTDOWN] = "shutdown", [PANIC_ACTION_PAUSE] = "pause",
        [PANIC_ACTION_EXIT_FAILURE] = "exit-failure", [PANIC_ACTION_NONE] = "none",
    };

    if (!opts) {
        return false;
    }
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        bool ok = false;

        if (!strcmp(o->key, "panic")) {
            for (size_t a = 0; a < G_N_ELEMENTS(panic_names); a++) {
                if (!strcmp(o->value, panic_names[a])) {
                    panic_action = a;
                    ok = true;
                }
            }
        } else if (!strcmp(o->key, "shutdown")) {
            /* -no-shutdown is shutdown=pause. */
            ok = !strcmp(o->value, "poweroff") || !strcmp(o->value, "pause");
            if (ok) {
                no_shutdown = !strcmp(o->value, "pause");
            }
        } else if (!strcmp(o->key, "reboot")) {
            /* -no-reboot is reboot=shutdown. */
            ok = !strcmp(o->value, "reset") || !strcmp(o->value, "shutdown");
            if (ok) {
                no_reboot = !strcmp(o->value, "shutdown");
            }
        } else if (!strcmp(o->key, "watchdog")) {
            /* No watchdog device exists yet; the value is checked all the same. */
            static const char *const wd[] = { "reset", "shutdown", "poweroff", "pause",
                                              "debug", "none", "inject-nmi" };
            for (size_t a = 0; a < G_N_ELEMENTS(wd); a++) {
                ok |= !strcmp(o->value, wd[a]);
            }
        } else {
            error_setg(errp, "Invalid parameter '%s'", o->key);
            return false;
        }
        if (!ok) {
            error_setg(errp, "Parameter '%s' does not accept value '%s'", o->key, o->value);
            return false;
        }
    }
    return true;
}

/* Act on pending requests; true with *status set when the process should exit. */
static bool main_loop_should_exit(int *status)
{
    unsigned preq;
    int req;

    if ((req = system_take_exit_request())) {
        *status = req - 1;
        return true;
    }
    if ((req = system_take_stop_request())) {
        vm_stop(req - 1);
    }
    if ((preq = system_take_guest_panic_request())) {
        if (preq & GUEST_PANIC_CRASH_LOADED) {
            kite_log_mask(LOG_GUEST_ERROR, "guest crash loaded (pvpanic)");
            panic_event("GUEST_CRASHLOADED", "run");
        }
        if (preq & GUEST_PANIC_PANICKED) {
            guest_panicked();
        }
    }
    if ((req = system_take_shutdown_request())) {
        event("SHUTDOWN", req - 1);
        /* quit and SIGTERM end the process even with -no-shutdown (QEMU's qmp_quit). */
        if (no_shutdown && req - 1 != SHUTDOWN_CAUSE_HOST_QMP_QUIT &&
            req - 1 != SHUTDOWN_CAUSE_HOST_SIGNAL) {
            vm_stop(RUN_STATE_SHUTDOWN);
        } else {
            *status = shutdown_exit_status;
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
        } else if (!runstate_check(RUN_STATE_INMIGRATE) &&
                   !runstate_check(RUN_STATE_FINISH_MIGRATE)) {
            /*
             * As QEMU (main_loop_should_exit): a reset of a stopped VM - paused, shut
             * down, panicked, internal error - leaves it in prelaunch; cont starts it.
             */
            runstate_set(RUN_STATE_PRELAUNCH);
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

void (*main_loop_round_hook)(bool final);

int main_loop_run(void)
{
    int status = 0;

    system_request_notify = notify_main_loop;
    while (!main_loop_should_exit(&status)) {
        if (main_loop_round_hook) {
            main_loop_round_hook(false);
        }
        main_loop_wait(false);
    }
    if (main_loop_round_hook) {
        main_loop_round_hook(true);
    }
    return status;
}
