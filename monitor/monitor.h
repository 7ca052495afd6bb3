/*
 * The monitors (QMP now, HMP later) as seen by the system layer's start-up code.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "kite/osdep.h"
#include "kite/error.h"

/* Record -qmp / -qmp-pretty / -mon while parsing the command line. */
void monitor_cli_add(const char *option, const char *arg);
/* Create the recorded monitors; the chardevs (-chardev) must exist already. */
bool monitor_cli_start(Error **errp);

#endif
