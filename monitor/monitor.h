/*
 * The monitors (QMP and HMP) as seen by the system layer's start-up code.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "kite/osdep.h"
#include "kite/error.h"

/* Record -qmp / -qmp-pretty / -monitor / -mon while parsing the command line. */
void monitor_cli_add(const char *option, const char *arg);
/* Create the recorded human monitors: after -chardev and -serial, before the board. */
bool monitor_cli_start_hmp(Error **errp);
/* Create the recorded QMP monitors; the chardevs (-chardev) must exist already. */
bool monitor_cli_start(Error **errp);
/* Any monitor option given (QEMU then puts no default monitor on the serial mux)? */
bool monitor_cli_given(void);
/* A -monitor/-qmp on "stdio" (the default serial then leaves stdio to it)? */
bool monitor_cli_uses_stdio(void);

#endif
