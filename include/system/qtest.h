/*
 * The qtest protocol server (see system/qtest.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_QTEST_H
#define SYSTEM_QTEST_H

#include "kite/osdep.h"
#include "kite/error.h"

/* Execute one command line; the reply (without newline) is appended to reply. */
void qtest_process_line(const char *line, GString *reply);

/* Where asynchronous "IRQ raise n" lines go. */
typedef void QTestIrqSink(void *opaque, const char *line);
void qtest_set_irq_sink(QTestIrqSink *sink, void *opaque);

/* -qtest SPEC: serve the protocol on a chardev; -qtest-log FILE logs the traffic. */
bool qtest_server_start(const char *spec, const char *logfile, Error **errp);
bool qtest_enabled(void);

#endif
