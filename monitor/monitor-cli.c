/*
 * Monitor command-line options: -qmp SPEC, -qmp-pretty SPEC, -monitor SPEC,
 * -mon chardev=ID[,mode=control|readline][,pretty=on].  Options are recorded while parsing;
 * human monitors are created before the board (monitor_cli_start_hmp: a serial port on the
 * same mux then takes the focus, as in QEMU), QMP monitors once the machine is done
 * (monitor_cli_start).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "monitor/hmp.h"

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

static bool monitor_start_mon(const char *arg, bool hmp_phase, Error **errp)
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
    if (strcmp(mode, "control") && strcmp(mode, "readline")) {
        error_setg(errp, "Parameter 'mode' does not accept value '%s'", mode);
        return false;
    }
    if (hmp_phase != !strcmp(mode, "readline")) {
        return true;        /* the other phase's */
    }
    chr = chardev_find(chr_id);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", chr_id);
        return false;
    }
    if (!strcmp(mode, "control")) {
        return qmp_monitor_new(chr, pretty, errp);
    }
    return hmp_monitor_new(chr, errp);
}

static bool monitor_cli_start_phase(bool hmp_phase, Error **errp)
{
    for (guint i = 0; monitor_args && i < monitor_args->len; i++) {
        MonitorArg *a = g_ptr_array_index(monitor_args, i);
        bool hmp = !strcmp(a->option, "monitor");
        bool ok;

        if (!strcmp(a->option, "mon")) {
            ok = monitor_start_mon(a->arg, hmp_phase, errp);
        } else if (hmp != hmp_phase) {
            continue;
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
            ok = hmp ? hmp_monitor_new(chr, errp)
                     : qmp_monitor_new(chr, !strcmp(a->option, "qmp-pretty"), errp);
        }
        if (!ok) {
            error_prepend(errp, "-%s %s: ", a->option, a->arg);
            return false;
        }
    }
    return true;
}

bool monitor_cli_start_hmp(Error **errp)
{
    return monitor_cli_start_phase(true, errp);
}

bool monitor_cli_start(Error **errp)
{
    return monitor_cli_start_phase(false, errp);
}

bool monitor_cli_given(void)
{
    return monitor_args && monitor_args->len;
}

bool monitor_cli_uses_stdio(void)
{
    for (guint i = 0; monitor_args && i < monitor_args->len; i++) {
        MonitorArg *a = g_ptr_array_index(monitor_args, i);
        if (strcmp(a->option, "mon") && !strcmp(a->arg, "stdio")) {
            return true;
        }
    }
    return false;
}
