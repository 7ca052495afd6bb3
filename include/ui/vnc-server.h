/*
 * The VNC server's entry points for the command line and the monitor.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_VNC_SERVER_H
#define UI_VNC_SERVER_H

#include "kite/osdep.h"
#include "kite/error.h"

/* -vnc [host]:N[,password=on][,websocket=...]: remembered, started by vnc_display_start() after the board. */
void vnc_set_option(const char *optarg);
bool vnc_display_start(Error **errp);
/* For "change vnc password" (QMP/HMP): only with password=on. */
bool vnc_display_set_password(const char *password, Error **errp);
/* The TCP port listened on, -1 when VNC is off. */
int vnc_display_port(void);

#endif
