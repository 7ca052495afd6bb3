/*
 * The QMP command table's types, shared by the protocol engine (qmp.c) and the command
 * files (qmp-cmds.c).  Internal to monitor/.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_QMP_CMDS_H
#define MONITOR_QMP_CMDS_H

#include "monitor/qmp.h"

#ifdef CONFIG_JSON
/* An argument in a command's schema: type is "str", "int", "bool" or "any". */
typedef struct QmpArg {
    const char *name;
    const char *type;
    bool optional;
} QmpArg;

typedef JsonNode *QmpHandler(JsonObject *args, Error **errp);

typedef struct QmpCommand {
    const char *name;
    QmpHandler *fn;
    QmpArg args[4];
    /* Members beyond args are the command's to check (device_add's device properties). */
    bool extra_args;
} QmpCommand;

/* Run control, QOM and qdev commands (qmp-cmds.c). */
extern const QmpCommand qmp_system_commands[];
extern const size_t qmp_system_commands_len;

JsonNode *qmp_empty_object(void);
/* set_link, netdev_add, netdev_del (qmp-net.c). */
JsonNode *qmp_set_link(JsonObject *args, Error **errp);
JsonNode *qmp_netdev_add(JsonObject *args, Error **errp);
JsonNode *qmp_netdev_del(JsonObject *args, Error **errp);
/* human-monitor-command (monitor/hmp.c): an HMP command line, its output as the result. */
JsonNode *qmp_human_monitor_command(JsonObject *args, Error **errp);
#endif

#endif
