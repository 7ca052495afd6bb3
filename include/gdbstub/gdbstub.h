/*
 * The gdb stub (gdbstub/gdbstub.c): -gdb DEV and -s.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GDBSTUB_GDBSTUB_H
#define GDBSTUB_GDBSTUB_H

#include "kite/osdep.h"
#include "kite/error.h"

/*
 * Start the stub on a chardev in -serial syntax ("tcp::1234", "unix:PATH", "stdio",
 * "chardev:ID"); tcp: and unix: without "server" listen without waiting, as QEMU's do.
 * "none" does nothing.  Call after the machine's vCPUs exist.
 */
bool gdbserver_start(const char *spec, Error **errp);

#endif
