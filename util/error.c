/*
 * Error objects and terminal error reporting.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/error.h"

struct Error {
    char *msg;
    GString *hint;
    ErrorClass cls;
    const char *src, *func;
    int line;
};

/* Distinct addresses that mark "exit on error" and "abort on error". */
Error *error_fatal;
Error *error_abort;

static const char *progname = "kite";
static GSList *loc_stack;   /* of char *, innermost first */
static GMutex report_lock;

void error_set_progname(const char *name)
{
    progname = name;
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    g_mutex_lock(&report_lock);
    fprintf(stderr, "%s: ", progname);
    if (loc_stack) {
        fprintf(stderr, "%s: ", (const char *)loc_stack->data);
    }
    fprintf(stderr, "%s%s\n", kind, msg);
    g_mutex_unlock(&report_lock);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

static void report_err(const char *kind, Error *err)
{
    error_report("%s%s", kind, err->msg);
    if (err->hint) {
        fputs(err->hint->str, stderr);
    }
}

void error_report_err(Error *err)
{
    report_err("", err);
    error_free(err);
}

void warn_report_err(Error *err)
{
    report_err("warning: ", err);
    error_free(err);
}

static void error_handle(Error **errp, Error *err)
{
    if (errp == &error_abort) {
        fprintf(stderr, "Unexpected error in %s() at %s:%d:\n", err->func, err->src, err->line);
        report_err("", err);
        abort();
    }
    if (errp == &error_fatal) {
        report_err("", err);
        exit(1);
    }
    if (!errp) {
        error_free(err);
        return;
    }
    g_assert(*errp == NULL);   /* setting an error twice loses the first one */
    *errp = err;
}

void error_set_internal(Error **errp, const char *src, int line, const char *func,
                        ErrorClass cls, const char *fmt, ...)
{
    Error *err;
    va_list ap;

    if (!errp) {
        return;
    }
    err = g_new0(Error, 1);
    va_start(ap, fmt);
    err->msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    err->cls = cls;
    err->src = src;
    err->line = line;
    err->func = func;
    error_handle(errp, err);
}

void error_propagate(Error **dst, Error *local)
{
    if (!local) {
        return;
    }
    error_handle(dst, local);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    va_list ap;
    char *prefix, *msg;

    if (!errp || !*errp || errp == &error_fatal || errp == &error_abort) {
        return;
    }
    va_start(ap, fmt);
    prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    msg = g_strconcat(prefix, (*errp)->msg, NULL);
    g_free(prefix);
    g_free((*errp)->msg);
    (*errp)->msg = msg;
}

void error_append_hint(Error **errp, const char *fmt, ...)
{
    va_list ap;

    if (!errp || !*errp || errp == &error_fatal || errp == &error_abort) {
        return;
    }
    if (!(*errp)->hint) {
        (*errp)->hint = g_string_new(NULL);
    }
    va_start(ap, fmt);
    g_string_append_vprintf((*errp)->hint, fmt, ap);
    va_end(ap);
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

ErrorClass error_get_class(const Error *err)
{
    return err->cls;
}

const char *error_class_name(ErrorClass cls)
{
    switch (cls) {
    case ERROR_CLASS_COMMAND_NOT_FOUND: return "CommandNotFound";
    case ERROR_CLASS_DEVICE_NOT_ACTIVE: return "DeviceNotActive";
    case ERROR_CLASS_DEVICE_NOT_FOUND: return "DeviceNotFound";
    case ERROR_CLASS_KVM_MISSING_CAP: return "KVMMissingCap";
    case ERROR_CLASS_GENERIC_ERROR:
    default: return "GenericError";
    }
}

Error *error_copy(const Error *err)
{
    Error *copy = g_memdup2(err, sizeof(*err));

    copy->msg = g_strdup(err->msg);
    copy->hint = err->hint ? g_string_new(err->hint->str) : NULL;
    return copy;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        if (err->hint) {
            g_string_free(err->hint, true);
        }
        g_free(err);
    }
}

void error_free_or_abort(Error **errp)
{
    g_assert(errp && *errp);
    error_free(*errp);
    *errp = NULL;
}

void loc_push_option(const char *optname, const char *optarg)
{
    char *loc = optarg ? g_strdup_printf("-%s %s", optname, optarg) : g_strdup_printf("-%s", optname);
    loc_stack = g_slist_prepend(loc_stack, loc);
}

void loc_pop(void)
{
    g_assert(loc_stack);
    g_free(loc_stack->data);
    loc_stack = g_slist_delete_link(loc_stack, loc_stack);
}
