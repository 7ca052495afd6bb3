/*
 * The human monitor: command parsing and dispatch, output, and the chardev glue.
 *
 * Output follows QEMU's monitor: every "\n" goes out as "\r\n" (the terminal is raw), the
 * banner is "<name> <version> monitor - type 'help' for more information" and the prompt
 * "(qemu) ", which management tools scrape, so it stays QEMU's.  On a mux (serial and monitor
 * sharing stdio, Ctrl-A c) the monitor holds its output while the serial port has the focus.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "hw/core/cpu.h"

#define HMP_PROMPT "(qemu) "
/* Held output (no focus, or a client that does not read) is bounded like chardev output. */
#define HMP_OUT_MAX (64 * KiB)

/* The CPU $pc refers to while a command runs. */
static int hmp_expr_cpu;

/* --- output --- */

static void hmp_flush(HmpMonitor *mon)
{
    if (mon->capture || mon->mux_out || !mon->out->len) {
        return;
    }
    chr_fe_write_all(&mon->fe, (const uint8_t *)mon->out->str, mon->out->len);
    g_string_truncate(mon->out, 0);
}

void hmp_puts(HmpMonitor *mon, const char *s)
{
    for (; *s; s++) {
        if (mon->out->len >= HMP_OUT_MAX && !mon->capture) {
            hmp_flush(mon);
            if (mon->out->len >= HMP_OUT_MAX) {
                break;          /* held (no focus): the bound applies */
            }
        }
        if (*s == '\n') {
            g_string_append_c(mon->out, '\r');
        }
        g_string_append_c(mon->out, *s);
    }
    hmp_flush(mon);
}

void hmp_printf(HmpMonitor *mon, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *s = NULL;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    hmp_puts(mon, s);
}

void hmp_report_err(HmpMonitor *mon, Error *err)
{
    hmp_printf(mon, "%s\n", error_get_pretty(err));
    error_free(err);
}

void hmp_handle_error(HmpMonitor *mon, Error *err)
{
    hmp_printf(mon, "Error: %s\n", error_get_pretty(err));
    error_free(err);
}

/* --- expressions --- */

/* Nesting bound: human-monitor-command lines have no length limit, the C stack has one. */
#define EXPR_MAX_DEPTH 256

typedef struct ExprState {
    const char *p;
    Error **errp;
    bool failed;
    int depth;
} ExprState;

static void expr_error(ExprState *e, const char *msg)
{
    if (!e->failed) {
        error_setg(e->errp, "%s", msg);
        e->failed = true;
    }
}

static void expr_skip(ExprState *e)
{
    while (*e->p == ' ' || *e->p == '\t') {
        e->p++;
    }
}

static int64_t expr_or(ExprState *e);

static int64_t expr_register(ExprState *e)
{
    const char *start = e->p;
    CPUState *cpu = cpu_by_index(hmp_expr_cpu);
    CPUClass *cc = cpu ? CPU_GET_CLASS(cpu) : NULL;
    g_autofree char *name = NULL;
    uint64_t v;

    /* A name, and QEMU's ".base"/".limit" of a segment register. */
    while (g_ascii_isalnum(*e->p) || *e->p == '_' || *e->p == '.') {
        e->p++;
    }
    name = g_ascii_strdown(start, e->p - start);
    if (cc && cc->monitor_get_register && cc->monitor_get_register(cpu, name, &v)) {
        return v;
    }
    if (cc && !strcmp(name, "pc") && cc->get_pc) {
        return cc->get_pc(cpu);
    }
    expr_error(e, "unknown register");
    return 0;
}

static int64_t expr_primary_nested(ExprState *e);

static int64_t expr_primary(ExprState *e)
{
    int64_t v;

    if (e->failed) {
        return 0;
    }
    if (++e->depth > EXPR_MAX_DEPTH) {
        expr_error(e, "expression too deeply nested");
        return 0;
    }
    v = expr_primary_nested(e);
    e->depth--;
    return v;
}

static int64_t expr_primary_nested(ExprState *e)
{
    int64_t v = 0;

    expr_skip(e);
    switch (*e->p) {
    case '(':
        e->p++;
        v = expr_or(e);
        expr_skip(e);
        if (*e->p != ')') {
            expr_error(e, "')' expected");
            return 0;
        }
        e->p++;
        return v;
    case '-':
        e->p++;
        return -(uint64_t)expr_primary(e);
    case '+':
        e->p++;
        return expr_primary(e);
    case '~':
        e->p++;
        return ~expr_primary(e);
    case '$':
        e->p++;
        return expr_register(e);
    case '\'':
        if (e->p[1] && e->p[2] == '\'') {
            v = (uint8_t)e->p[1];
            e->p += 3;
            return v;
        }
        expr_error(e, "invalid char constant");
        return 0;
    case 0:
        expr_error(e, "unexpected end of expression");
        return 0;
    default:
        if (g_ascii_isdigit(*e->p)) {
            char *end;
            errno = 0;
            v = g_ascii_strtoull(e->p, &end, 0);
            if (errno == ERANGE) {
                expr_error(e, "number too large");
                return 0;
            }
            e->p = end;
            if (g_ascii_isalnum(*e->p) || *e->p == '_') {
                expr_error(e, "invalid number");
                return 0;
            }
            return v;
        }
        {
            /* QEMU names the character. */
            g_autofree char *msg = g_strdup_printf("invalid char '%c' in expression", *e->p);
            expr_error(e, msg);
        }
        return 0;
    }
}

static int64_t expr_mul(ExprState *e)
{
    int64_t v = expr_primary(e);

    for (;;) {
        char op;
        int64_t r;

        expr_skip(e);
        op = *e->p;
        if (e->failed || (op != '*' && op != '/' && op != '%')) {
            return v;
        }
        e->p++;
        r = expr_primary(e);
        if (op == '*') {
            v = (uint64_t)v * (uint64_t)r;
        } else if (r == 0) {
            expr_error(e, "division by zero");
            return 0;
        } else if (r == -1) {
            v = op == '/' ? -(uint64_t)v : 0;     /* INT64_MIN / -1 would trap */
        } else {
            v = op == '/' ? v / r : v % r;
        }
    }
}

static int64_t expr_add(ExprState *e)
{
    int64_t v = expr_mul(e);

    for (;;) {
        char op;

        expr_skip(e);
        op = *e->p;
        if (e->failed || (op != '+' && op != '-')) {
            return v;
        }
        e->p++;
        if (op == '+') {
            v = (uint64_t)v + (uint64_t)expr_mul(e);
        } else {
            v = (uint64_t)v - (uint64_t)expr_mul(e);
        }
    }
}

/* & binds tighter than ^, which binds tighter than |, as in C. */
static int64_t expr_and(ExprState *e)
{
    int64_t v = expr_add(e);

    for (expr_skip(e); !e->failed && *e->p == '&'; expr_skip(e)) {
        e->p++;
        v &= expr_add(e);
    }
    return v;
}

static int64_t expr_xor(ExprState *e)
{
    int64_t v = expr_and(e);

    for (expr_skip(e); !e->failed && *e->p == '^'; expr_skip(e)) {
        e->p++;
        v ^= expr_and(e);
    }
    return v;
}

static int64_t expr_or(ExprState *e)
{
    int64_t v = expr_xor(e);

    for (expr_skip(e); !e->failed && *e->p == '|'; expr_skip(e)) {
        e->p++;
        v |= expr_xor(e);
    }
    return v;
}

bool hmp_eval_expr(const char **p, int64_t *val, Error **errp)
{
    ExprState e = { .p = *p, .errp = errp };
    int64_t v = expr_or(&e);

    if (e.failed) {
        return false;
    }
    *p = e.p;
    *val = v;
    return true;
}

/* --- the argument parser --- */

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* A word, or a double-quoted string with \" and \\ escapes; NULL at the end of the line. */
static char *get_word(const char **pp, Error **errp)
{
    const char *p = skip_spaces(*pp);
    GString *s;

    if (!*p) {
        return NULL;
    }
    s = g_string_new(NULL);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                p++;
            }
            g_string_append_c(s, *p);
        }
        if (*p != '"') {
            error_setg(errp, "unterminated string");
            g_string_free(s, true);
            return NULL;
        }
        p++;
    } else {
        while (*p && *p != ' ' && *p != '\t') {
            g_string_append_c(s, *p++);
        }
    }
    *pp = p;
    return g_string_free(s, false);
}

static bool parse_format(const char **pp, HmpArg *a, Error **errp)
{
    const char *p = skip_spaces(*pp);

    a->count = 1;
    if (*p != '/') {
        return true;
    }
    p++;
    if (g_ascii_isdigit(*p)) {
        char *end;
        uint64_t n = g_ascii_strtoull(p, &end, 10);
        if (n > 0x10000) {
            error_setg(errp, "count too large");
            return false;
        }
        a->count = n;
        p = end;
    }
    for (; *p && *p != ' ' && *p != '\t'; p++) {
        switch (*p) {
        case 'x': case 'd': case 'u': case 'o': case 'c': case 'i':
            a->format = *p;
            break;
        case 'b':
            a->size = 1;
            break;
        case 'h':
            a->size = 2;
            break;
        case 'w':
            a->size = 4;
            break;
        case 'g':
        case 'L':
            a->size = 8;
            break;
        default:
            error_setg(errp, "invalid char in format: '%c'", *p);
            return false;
        }
    }
    a->present = true;
    *pp = p;
    return true;
}

bool hmp_parse_args(const HmpCommand *cmd, const char *p, HmpArg *args, Error **errp)
{
    g_auto(GStrv) params = g_strsplit(cmd->params ? cmd->params : "", ",", -1);
    int n = 0;

    memset(args, 0, sizeof(HmpArg) * HMP_MAX_ARGS);
    for (int i = 0; params[i] && params[i][0]; i++, n++) {
        const char *colon = strchr(params[i], ':');
        const char *type = colon ? colon + 1 : "s";
        g_autofree char *name = g_strndup(params[i], colon ? colon - params[i] : 0);
        bool optional = g_str_has_suffix(type, "?");
        HmpArg *a = &args[n];

        g_assert(n < HMP_MAX_ARGS);
        p = skip_spaces(p);
        switch (type[0]) {
        case '-': {
            /* "-x": a flag; "-xs": a flag followed by a word ("-f png"). */
            bool has_value = type[2] == 's';
            if (p[0] == '-' && p[1] == type[1] && (!p[2] || p[2] == ' ' || p[2] == '\t')) {
                a->present = true;
                a->num = 1;
                p += 2;
                if (has_value) {
                    Error *err = NULL;
                    a->str = get_word(&p, &err);
                    if (!a->str) {
                        if (!err) {
                            error_setg(&err, "%s: missing value for '-%c'", cmd->name, type[1]);
                        }
                        error_propagate(errp, err);
                        goto fail;
                    }
                }
            }
            break;
        }
        case '/':
            if (!parse_format(&p, a, errp)) {
                goto fail;
            }
            break;
        case 'i':
        case 'l': {
            Error *err = NULL;
            if (!*p && optional) {
                break;
            }
            if (!hmp_eval_expr(&p, &a->num, &err)) {
                error_propagate(errp, err);
                goto fail;
            }
            if (type[0] == 'i' && (a->num > UINT32_MAX || a->num < INT32_MIN)) {
                error_setg(errp, "integer is for 32-bit values");
                goto fail;
            }
            a->present = true;
            break;
        }
        case 'S':
            if (*p) {
                a->str = g_strdup(p);
                a->present = true;
                p += strlen(p);
            } else if (!optional) {
                error_setg(errp, "%s: string expected", cmd->name);      /* QEMU's words */
                goto fail;
            }
            break;
        default: {     /* s, F */
            Error *err = NULL;
            a->str = get_word(&p, &err);
            if (err) {
                error_propagate(errp, err);
                goto fail;
            }
            if (!a->str && !optional) {
                error_setg(errp, "%s: %s expected", cmd->name,
                           type[0] == 'F' ? "filename" : "string");
                goto fail;
            }
            a->present = a->str != NULL;
            break;
        }
        }
    }
    p = skip_spaces(p);
    if (*p) {
        error_setg(errp, "%s: extraneous characters at the end of line", cmd->name);
        goto fail;
    }
    return true;

fail:
    hmp_free_args(args);
    return false;
}

void hmp_free_args(HmpArg *args)
{
    for (int i = 0; i < HMP_MAX_ARGS; i++) {
        g_clear_pointer(&args[i].str, g_free);
    }
}

/* --- dispatch --- */

static bool name_matches(const char *names, const char *name, size_t len)
{
    while (*names) {
        const char *bar = strchr(names, '|');
        size_t n = bar ? (size_t)(bar - names) : strlen(names);
        if (n == len && !strncmp(names, name, len)) {
            return true;
        }
        if (!bar) {
            break;
        }
        names = bar + 1;
    }
    return false;
}

const HmpCommand *hmp_find_command(const HmpCommand *table, const char *name)
{
    for (const HmpCommand *c = table; c->name; c++) {
        if (name_matches(c->name, name, strlen(name))) {
            return c;
        }
    }
    return NULL;
}

/* The command word: letters, digits and _-. (QEMU's "x/4x" works without a space). */
static char *get_command_name(const char **pp)
{
    const char *p = skip_spaces(*pp), *start = p;

    while (*p && *p != ' ' && *p != '\t' && *p != '/') {
        p++;
    }
    *pp = p;
    return p > start ? g_strndup(start, p - start) : NULL;
}

static void hmp_run(HmpMonitor *mon, const HmpCommand *table, const char *prefix,
                    const char *cmdline)
{
    const char *p = cmdline;
    g_autofree char *name = get_command_name(&p);
    const HmpCommand *cmd;
    HmpArg args[HMP_MAX_ARGS];
    Error *err = NULL;

    if (!name) {
        if (prefix) {
            /* A bare "info": list its sub-commands, as QEMU does. */
            hmp_handle_command(mon, "help info");
        }
        return;
    }
    cmd = hmp_find_command(table, name);
    if (!cmd) {
        hmp_printf(mon, "unknown command: '%s%s%.*s'\n", prefix ? prefix : "",
                   prefix ? " " : "", (int)(p - cmdline) - (int)(skip_spaces(cmdline) - cmdline),
                   skip_spaces(cmdline));
        return;
    }
    if (cmd->sub) {
        hmp_run(mon, cmd->sub, name, p);
        return;
    }
    if (!hmp_parse_args(cmd, p, args, &err)) {
        g_autofree char *first = g_strndup(cmd->name, strcspn(cmd->name, "|"));
        hmp_report_err(mon, err);
        hmp_printf(mon, "Try \"help %s%s%s\" for more information\n", prefix ? prefix : "",
                   prefix ? " " : "", first);
        return;
    }
    cmd->fn(mon, args);
    hmp_free_args(args);
}

void hmp_handle_command(HmpMonitor *mon, const char *cmdline)
{
    hmp_expr_cpu = mon->cpu_index;
    hmp_run(mon, hmp_commands, NULL, cmdline);
}

/* --- completion --- */

static void add_names(const HmpCommand *table, GPtrArray *out)
{
    for (const HmpCommand *c = table; c->name; c++) {
        g_auto(GStrv) names = g_strsplit(c->name, "|", -1);
        for (int i = 0; names[i]; i++) {
            g_ptr_array_add(out, g_strdup(names[i]));
        }
    }
}

void hmp_complete(const char *cmdline, GPtrArray *out)
{
    g_auto(GStrv) words = NULL;
    g_autofree char *trimmed = g_strdup(skip_spaces(cmdline));
    int nwords;

    words = g_strsplit_set(trimmed, " \t", -1);
    /* Drop empty words from repeated spaces, but remember a trailing space (a new word). */
    nwords = 0;
    for (int i = 0; words[i]; i++) {
        if (words[i][0] || !words[i + 1]) {
            char *w = words[i];
            words[i] = NULL;
            words[nwords++] = w;
        } else {
            g_free(words[i]);
            words[i] = NULL;
        }
    }
    if (nwords <= 1) {
        add_names(hmp_commands, out);
        return;
    }
    if (nwords == 2) {
        const HmpCommand *cmd = hmp_find_command(hmp_commands, words[0]);
        if (cmd && cmd->sub) {
            add_names(cmd->sub, out);
        } else if (cmd && !strcmp(cmd->name, "help|?")) {
            add_names(hmp_commands, out);
        }
    }
}

static void hmp_rl_complete(void *opaque, const char *cmdline, GPtrArray *out)
{
    hmp_complete(cmdline, out);
}

/* --- monitors --- */

static void hmp_monitor_init_common(HmpMonitor *mon)
{
    mon->out = g_string_new(NULL);
}

void hmp_monitor_init_capture(HmpMonitor *mon)
{
    memset(mon, 0, sizeof(*mon));
    hmp_monitor_init_common(mon);
    mon->capture = true;
}

void hmp_monitor_destroy(HmpMonitor *mon)
{
    if (mon->out) {
        g_string_free(mon->out, true);
        mon->out = NULL;
    }
    if (!mon->capture) {
        readline_free(&mon->rs);
    }
}

char *hmp_run_command_capture(const char *cmdline, int cpu_index, Error **errp)
{
    HmpMonitor mon;
    char *ret;

    if (cpu_index >= 0 && !cpu_by_index(cpu_index)) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    hmp_monitor_init_capture(&mon);
    mon.cpu_index = MAX(cpu_index, 0);
    hmp_handle_command(&mon, cmdline);
    ret = g_string_free(mon.out, false);
    mon.out = NULL;
    hmp_monitor_destroy(&mon);
    return ret;
}

#ifdef CONFIG_JSON
#include "monitor/qmp-cmds.h"

JsonNode *qmp_human_monitor_command(JsonObject *args, Error **errp)
{
    const char *cmdline = json_object_get_string_member(args, "command-line");
    int64_t cpu = json_object_has_member(args, "cpu-index") ?
                  json_object_get_int_member(args, "cpu-index") : -1;
    g_autofree char *out = NULL;
    JsonNode *n;

    if (json_object_has_member(args, "cpu-index") && (cpu < 0 || cpu > INT_MAX)) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    out = hmp_run_command_capture(cmdline, cpu, errp);
    if (!out) {
        return NULL;
    }
    n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, out);
    return n;
}
#endif

static void hmp_rl_output(void *opaque, const char *buf, size_t len)
{
    HmpMonitor *mon = opaque;

    if (mon->out->len + len <= HMP_OUT_MAX) {
        g_string_append_len(mon->out, buf, len);
    }
    hmp_flush(mon);
}

static void hmp_rl_line(void *opaque, const char *line)
{
    HmpMonitor *mon = opaque;

    hmp_handle_command(mon, line);
    if (!mon->quit) {
        readline_show_prompt(&mon->rs);
    }
}

static int hmp_can_receive(void *opaque)
{
    return 4096;
}

static void hmp_receive(void *opaque, const uint8_t *buf, int len)
{
    HmpMonitor *mon = opaque;

    readline_feed(&mon->rs, buf, len);
}

static void hmp_banner(HmpMonitor *mon)
{
    hmp_printf(mon, "Kite %s monitor - type 'help' for more information\n", KITE_VERSION);
}

static void hmp_event(void *opaque, ChrEvent ev)
{
    HmpMonitor *mon = opaque;

    switch (ev) {
    case CHR_EVENT_OPENED:
        /* A new client (or the always-open stdio): banner, then a fresh prompt. */
        readline_restart(&mon->rs);
        mon->opened = true;
        hmp_banner(mon);
        readline_show_prompt(&mon->rs);
        break;
    case CHR_EVENT_CLOSED:
        readline_restart(&mon->rs);
        mon->opened = false;
        g_string_truncate(mon->out, 0);     /* held output was for the client that left */
        break;
    case CHR_EVENT_MUX_IN:
        mon->has_focus = true;
        if (mon->startup_hold) {
            break;
        }
        mon->mux_out = false;
        if (mon->out->len) {
            hmp_flush(mon);         /* the banner and prompt held since start-up */
        } else if (mon->opened) {
            /* Back from the serial console: the prompt again on a line of its own. */
            hmp_puts(mon, "\n");
            readline_show_prompt(&mon->rs);
        }
        break;
    case CHR_EVENT_MUX_OUT:
        mon->has_focus = false;
        if (mon->startup_hold) {
            break;
        }
        if (mon->opened) {
            hmp_puts(mon, "\n");
        }
        mon->mux_out = true;
        break;
    case CHR_EVENT_BREAK:
        break;
    }
}

/*
 * Start-up on a mux is over (main loop running, serial ports attached): show the monitor only if
 * it still has the focus.  As in QEMU, a serial port attached after the monitor takes the focus,
 * and the banner waits for the first Ctrl-A c.
 */
static void hmp_startup_done(void *opaque)
{
    HmpMonitor *mon = opaque;

    mon->startup_hold = false;
    kite_bh_delete(mon->startup_bh);
    mon->startup_bh = NULL;
    mon->mux_out = !mon->has_focus;
    hmp_flush(mon);
}

bool hmp_monitor_new(Chardev *chr, Error **errp)
{
    HmpMonitor *mon = g_new0(HmpMonitor, 1);

    hmp_monitor_init_common(mon);
    if (!chr_fe_init(&mon->fe, chr, errp)) {
        g_string_free(mon->out, true);
        g_free(mon);
        return false;
    }
    readline_init(&mon->rs, hmp_rl_output, hmp_rl_line, hmp_rl_complete, mon);
    readline_set_prompt(&mon->rs, HMP_PROMPT);
    if (chardev_is_mux(chr)) {
        mon->startup_hold = mon->mux_out = true;
        mon->startup_bh = kite_bh_new(hmp_startup_done, mon);
        kite_bh_schedule(mon->startup_bh);
    }
    chr_fe_set_handlers(&mon->fe, hmp_can_receive, hmp_receive, hmp_event, mon);
    return true;
}
