/*
 * -d/-D debug logging and tracepoint patterns.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/log.h"

int kite_loglevel;
/* Starts at 1 so that the zero-initialised TraceSite of every call site is stale. */
unsigned kite_trace_generation = 1;

static FILE *logfile;
static GMutex log_lock;
static GPtrArray *trace_patterns;   /* of char *: "+glob" or "-glob", applied in order */

static const struct {
    const char *name;
    int mask;
    const char *help;
} log_items[] = {
    { "guest_errors", LOG_GUEST_ERROR, "log when the guest programs a device or CPU wrongly" },
    { "unimp", LOG_UNIMP, "log unimplemented functionality the guest used" },
    { "int", LOG_INT, "log interrupts and exceptions" },
    { "cpu", LOG_CPU, "log CPU state at notable events" },
    { "ioport", LOG_IOPORT, "log accesses to unassigned ports and memory" },
    { "exec", LOG_EXEC, "log each translated block the interpreter runs (slow)" },
    { "reset", LOG_RESET, "log resets" },
};

void kite_log(const char *fmt, ...)
{
    va_list ap;

    g_mutex_lock(&log_lock);
    va_start(ap, fmt);
    vfprintf(logfile ? logfile : stderr, fmt, ap);
    va_end(ap);
    if (fmt[0] && fmt[strlen(fmt) - 1] != '\n') {
        fputc('\n', logfile ? logfile : stderr);
    }
    fflush(logfile ? logfile : stderr);
    g_mutex_unlock(&log_lock);
}

bool kite_log_set_file(const char *path, Error **errp)
{
    FILE *f = fopen(path, "a");

    if (!f) {
        error_setg_errno(errp, errno, "cannot open log file '%s'", path);
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (logfile) {
        fclose(logfile);
    }
    logfile = f;
    return true;
}

bool kite_trace_enable_pattern(const char *pattern, bool enable)
{
    if (!trace_patterns) {
        trace_patterns = g_ptr_array_new_with_free_func(g_free);
    }
    g_ptr_array_add(trace_patterns, g_strdup_printf("%c%s", enable ? '+' : '-', pattern));
    __atomic_add_fetch(&kite_trace_generation, 1, __ATOMIC_RELEASE);
    return true;
}

bool kite_trace_event_enabled(const char *name)
{
    bool on = false;

    if (!trace_patterns) {
        return false;
    }
    for (guint i = 0; i < trace_patterns->len; i++) {
        const char *p = trace_patterns->pdata[i];
        if (g_pattern_match_simple(p + 1, name)) {
            on = p[0] == '+';
        }
    }
    return on;
}

void kite_trace_emit(const char *name, const char *fmt, ...)
{
    va_list ap;
    FILE *f = logfile ? logfile : stderr;

    g_mutex_lock(&log_lock);
    fprintf(f, "%s ", name);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    g_mutex_unlock(&log_lock);
}

bool kite_log_parse_items(const char *items, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(items, ",", -1);
    int mask = 0;

    for (int i = 0; parts[i]; i++) {
        const char *item = parts[i];
        bool found = false;

        if (!*item) {
            continue;
        }
        if (g_str_has_prefix(item, "trace:")) {
            kite_trace_enable_pattern(item + 6, true);
            continue;
        }
        if (!strcmp(item, "all")) {
            for (size_t j = 0; j < ARRAY_SIZE(log_items); j++) {
                if (log_items[j].mask != LOG_EXEC) {
                    mask |= log_items[j].mask;
                }
            }
            continue;
        }
        for (size_t j = 0; j < ARRAY_SIZE(log_items); j++) {
            if (!strcmp(item, log_items[j].name)) {
                mask |= log_items[j].mask;
                found = true;
            }
        }
        if (!found) {
            error_setg(errp, "unknown log item '%s' (try -d help)", item);
            return false;
        }
    }
    kite_loglevel |= mask;
    return true;
}

void kite_log_print_help(FILE *f)
{
    fprintf(f, "Log items (comma separated):\n");
    for (size_t i = 0; i < ARRAY_SIZE(log_items); i++) {
        fprintf(f, "%-12s %s\n", log_items[i].name, log_items[i].help);
    }
    fprintf(f, "%-12s %s\n", "all", "all of the above but exec");
    fprintf(f, "%-12s %s\n", "trace:PAT", "enable tracepoints whose name matches glob PAT");
}
