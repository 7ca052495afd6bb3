/*
 * The system layer's side of run states: starting and stopping the VM, and the main loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include "kite/runstate.h"
#include "kite/error.h"

/* Start the guest (from prelaunch/paused); stop it into state s. */
void vm_start(void);
void vm_stop(RunState s);
/* Leaving the main loop: stop the vCPUs quietly (no STOP event). */
void vm_shutdown(void);

/* -action reboot=...,shutdown=...,panic=...,watchdog=... (QEMU's option). */
bool runstate_parse_action(const char *optarg, Error **errp);

/* The main loop of the emulator: returns the process exit status. */
int main_loop_run(void);
/*
 * Run by main_loop_run after each round of acting on requests, and once more with final
 * true when it ends: QMP sends the replies it held back and takes its next request.
 */
extern void (*main_loop_round_hook)(bool final);
/* Perform a full system reset now (main loop, BQL held). */
void system_reset(ShutdownCause cause);

#endif
