/*
 * Monitor command-line options: -qmp SPEC, -qmp-pretty SPEC, -mon chardev=ID[,mode=control]
 * [,pretty=on].  Options are recorded while parsing and the monitors created once the
 * chardevs exist (monitor_cli_start, from main).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/monitor.h"
#include "monitor/qmp.h"

typedef struct MonitorArg {
    char *option;
    char *arg;
} MonitorArg;

static GPtrArray *monitor_args;
static int monitor_count;

void monitor_cli_add(const char *option, const char *arg)
{
    MonitorArg *a = g_new0(MonitorArg, 1);

    a->option = g_strdup(option);
    a->arg = g_strdup(arg);
    if (!monitor_args) {
        monitor_args = g_ptr_array_new();
    }
    g_ptr_array_add(monitor_args, a);
}

static bool monitor_start_mon(const char *arg, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    const char *chr_id = NULL, *mode = "readline";
    bool pretty = false;
    Chardev *chr;

    for (int i = 0; parts[i]; i++) {
        const char *p = parts[i];
        if (g_str_has_prefix(p, "chardev=")) {
            chr_id = p + 8;
        } else if (g_str_has_prefix(p, "mode=")) {
            mode = p + 5;
        } else if (!strcmp(p, "pretty=on")) {
            pretty = true;
        } else if (!strcmp(p, "pretty=off")) {
            pretty = false;
        } else if (i == 0 && !strchr(p, '=')) {
            chr_id = p;
        } else {
            error_setg(errp, "Invalid parameter '%s'", p);
            return false;
        }
    }
    if (!chr_id) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    chr = chardev_find(chr_id);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", chr_id);
        return false;
    }
    if (!strcmp(mode, "control")) {
        return qmp_monitor_new(chr, pretty, errp);
    }
    if (!strcmp(mode, "readline")) {
        error_setg(errp, "the human monitor (mode=readline) is not implemented yet");
        return false;
    }
    error_setg(errp, "Parameter 'mode' does not accept value '%s'", mode);
    return false;
}

bool monitor_cli_start(Error **errp)
{
    for (guint i = 0; monitor_args && i < monitor_args->len; i++) {
        MonitorArg *a = g_ptr_array_index(monitor_args, i);
        bool ok;

        if (!strcmp(a->option, "mon")) {
            ok = monitor_start_mon(a->arg, errp);
        } else {
            g_autofree char *label = g_strdup_printf("compat_monitor%d", monitor_count++);
            Chardev *chr = chardev_new_from_legacy(label, a->arg, errp);
            if (!chr) {
                if (errp && *errp) {
                    error_prepend(errp, "-%s %s: ", a->option, a->arg);
                    return false;
                }
                continue;   /* "none" */
            }
            ok = qmp_monitor_new(chr, !strcmp(a->option, "qmp-pretty"), errp);
        }
        if (!ok) {
            error_prepend(errp, "-%s %s: ", a->option, a->arg);
            return false;
        }
    }
    return true;
}
