/*
 * Error reporting: functions that can fail take `Error **errp` as their last argument.
 *
 * Pass NULL to ignore the error, &error_fatal to print it and exit(1), &error_abort to abort,
 * or the address of a local `Error *err = NULL` to inspect it.  Each error carries a class so
 * that QMP can report it with the class name clients expect.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_ERROR_H
#define KITE_ERROR_H

#include "kite/osdep.h"

typedef enum ErrorClass {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
} ErrorClass;

typedef struct Error Error;

extern Error *error_fatal;
extern Error *error_abort;

void error_set_internal(Error **errp, const char *src, int line, const char *func,
                        ErrorClass cls, const char *fmt, ...) G_GNUC_PRINTF(6, 7);
#define error_setg(errp, ...) \
    error_set_internal(errp, __FILE__, __LINE__, __func__, ERROR_CLASS_GENERIC_ERROR, __VA_ARGS__)
#define error_set(errp, cls, ...) \
    error_set_internal(errp, __FILE__, __LINE__, __func__, cls, __VA_ARGS__)
/* Like error_setg, appending ": strerror(os_errno)". */
#define error_setg_errno(errp, os_errno, fmt, ...) \
    error_setg(errp, fmt ": %s", ##__VA_ARGS__, g_strerror(os_errno))

/* Move *local into *dst (or report it per dst's special value).  local may be NULL. */
void error_propagate(Error **dst, Error *local);
/* Prefix the message of an already set error. */
void error_prepend(Error **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Add a hint printed after the message on the terminal (not sent over QMP). */
void error_append_hint(Error **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

const char *error_get_pretty(const Error *err);
ErrorClass error_get_class(const Error *err);
const char *error_class_name(ErrorClass cls);
Error *error_copy(const Error *err);
void error_free(Error *err);
void error_free_or_abort(Error **errp);

/* Print "kite: <msg>" (with the current location, if any) to stderr. */
void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void info_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void error_report_err(Error *err);
void warn_report_err(Error *err);

/*
 * Error location: while parsing an option, messages are prefixed with it, e.g.
 * "kite: -m 12Q: invalid size".  loc_push_option/loc_pop are nested.
 */
void loc_push_option(const char *optname, const char *optarg);
void loc_pop(void);

/* Where reports go: stderr by default; tests redirect it. */
void error_set_progname(const char *name);

#endif
