/*
 * HMP, the human monitor: QEMU's "(qemu) " command line on a chardev (-monitor, -mon
 * mode=readline, "mon:" serial specs), and the same commands for QMP's human-monitor-command.
 *
 * A command is a table entry with QEMU-style parameter letters (hmp_parse_args):
 *   s  a word (or a "quoted string")          F  a file name (a word)
 *   S  the rest of the line                   i  a 32-bit expression    l  a 64-bit one
 *   /  a format: /[count][x|d|u|o|c|i][b|h|w|g]
 *   -X a flag "-X" (its value is 1 when given)   -Xs a flag with a word: "-f png"
 *   a trailing '?' makes the parameter optional.
 * The parser and the expression evaluator take plain strings so unit tests drive them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MONITOR_HMP_H
#define MONITOR_HMP_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/chardev.h"
#include "monitor/readline.h"

#define HMP_MAX_ARGS 6

typedef struct HmpArg {
    bool present;
    char *str;              /* s S F */
    int64_t num;            /* i l, and 1 for a given flag */
    int count;              /* / : items (default 1) */
    char format;            /* / : 0 when not given */
    int size;               /* / : bytes per item, 0 when not given */
} HmpArg;

typedef struct HmpMonitor HmpMonitor;
typedef void HmpHandler(HmpMonitor *mon, HmpArg *args);

typedef struct HmpCommand {
    const char *name;       /* "x", or "p|print" for an alias */
    const char *params;     /* "name:type,...", see above */
    const char *args_help;  /* "/fmt addr" */
    const char *help;
    HmpHandler *fn;
    const struct HmpCommand *sub;   /* "info": its sub-command table */
} HmpCommand;

struct HmpMonitor {
    GString *out;           /* output not yet written ("\n" already turned into "\r\n") */
    bool capture;           /* human-monitor-command: keep output in out */
    CharFrontend fe;
    ReadLineState rs;
    bool mux_out;           /* another mux frontend has the focus: hold output */
    bool opened;
    bool has_focus;         /* mux: the last focus event said we have it */
    bool startup_hold;      /* mux: hold output until start-up is over (hmp_startup_done) */
    KiteBH *startup_bh;
    int cpu_index;          /* the "current CPU" of x, info registers */
    bool quit;              /* quit ran: no prompt after it, the process is going away */
};

/* Command tables (hmp-cmds.c), ending with a NULL name. */
extern const HmpCommand hmp_commands[];
extern const HmpCommand hmp_info_commands[];

void hmp_printf(HmpMonitor *mon, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void hmp_puts(HmpMonitor *mon, const char *s);
/* Print err's message and free it. */
void hmp_report_err(HmpMonitor *mon, Error *err);
/* The same with QEMU's "Error: " prefix (hmp_handle_error), for a command's own failure. */
void hmp_handle_error(HmpMonitor *mon, Error *err);

/* A monitor without chardev whose output collects in mon->out (tests, human-monitor-command). */
void hmp_monitor_init_capture(HmpMonitor *mon);
void hmp_monitor_destroy(HmpMonitor *mon);
/* Run one command line; output and errors go to mon. */
void hmp_handle_command(HmpMonitor *mon, const char *cmdline);
/* human-monitor-command: run cmdline on CPU cpu_index (-1: 0), return what it printed. */
char *hmp_run_command_capture(const char *cmdline, int cpu_index, Error **errp);

/* The parser, for unit tests. */
const HmpCommand *hmp_find_command(const HmpCommand *table, const char *name);
/* Parse p (the text after the command name) against cmd->params into args[]. */
bool hmp_parse_args(const HmpCommand *cmd, const char *p, HmpArg *args, Error **errp);
void hmp_free_args(HmpArg *args);
/* An expression: numbers (0x, 0 octal, decimal), $pc/$rip/$eip, + - * / % & | ^ ~ ( ). */
bool hmp_eval_expr(const char **p, int64_t *val, Error **errp);
/* Tab completion candidates for cmdline (the readline callback). */
void hmp_complete(const char *cmdline, GPtrArray *out);

/* -monitor / -mon mode=readline / "mon:" chardevs: a human monitor on chr. */
bool hmp_monitor_new(Chardev *chr, Error **errp);

/* QEMU's name for a PCI class (base class << 8 | subclass), or NULL: info pci, query-pci. */
const char *pci_class_description(uint16_t class);

#endif
