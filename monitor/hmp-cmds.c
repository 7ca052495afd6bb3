/*
 * The human monitor's commands.  Output formats are QEMU's (hmp-commands.hx, hmp-cmds.c,
 * monitor/misc.c as seen from the outside), since people and scripts read them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/hmp.h"
#include "monitor/qmp.h"
#include "monitor/disas.h"
#include "accel/accel.h"
#include "accel/kvm.h"
#include "block/block.h"
#include "block/blockdev.h"
#include "hw/core/cpu.h"
#include "hw/qdev.h"
#include "gdbstub/gdbstub.h"
#include "hw/pci/pci.h"
#include "kite/opts.h"
#include "net/net.h"
#include "system/qdev-monitor.h"
#include "kite/memory.h"
#include "kite/timer.h"
#include "system/runstate.h"
#include "system/system.h"
#include "ui/console.h"
#include "ui/input.h"

/* --- help --- */

static void help_table(HmpMonitor *mon, const HmpCommand *table, const char *prefix,
                       const char *only)
{
    for (const HmpCommand *c = table; c->name; c++) {
        if (only && hmp_find_command(c, only) != c) {
            continue;
        }
        hmp_printf(mon, "%s%s %s -- %s\n", prefix, c->name, c->args_help ? c->args_help : "",
                   c->help);
    }
}

static void hmp_help(HmpMonitor *mon, HmpArg *a)
{
    const char *name = a[0].str;
    const HmpCommand *cmd;

    if (!name) {
        help_table(mon, hmp_commands, "", NULL);
        return;
    }
    {
        g_auto(GStrv) words = g_strsplit_set(name, " \t", -1);
        cmd = hmp_find_command(hmp_commands, words[0]);
        if (!cmd) {
            hmp_printf(mon, "unknown command: '%s'\n", name);
            return;
        }
        if (cmd->sub) {
            const char *subname = words[1] && words[1][0] ? words[1] : NULL;
            if (subname && !hmp_find_command(cmd->sub, subname)) {
                hmp_printf(mon, "unknown command: '%s'\n", name);
                return;
            }
            help_table(mon, cmd->sub, "info ", subname);
            return;
        }
        help_table(mon, hmp_commands, "", words[0]);
    }
}

/*
 * --- commands that are QMP's: run control (so both monitors keep the same run-state rules),
 * device_add/device_del, QOM.  They need json-glib, as QMP does. ---
 */

#ifdef CONFIG_JSON
static void print_from_file(HmpMonitor *mon, void (*fn)(FILE *f, const char *arg),
                            const char *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        return;
    }
    fn(f, arg);
    fclose(f);
    hmp_puts(mon, buf);
    free(buf);
}

static void list_devices(FILE *f, const char *arg)
{
    qdev_print_device_list(f);
}

/* Run QMP command name with args (taken, may be NULL); print the error and return NULL on
 * failure.  The result is the caller's. */
static JsonNode *call_qmp(HmpMonitor *mon, const char *name, JsonObject *args)
{
    Error *err = NULL;
    JsonNode *ret = qmp_execute(name, args, &err);

    if (args) {
        json_object_unref(args);
    }
    if (!ret) {
        hmp_handle_error(mon, err);
    }
    return ret;
}

/* QMP arguments from NULL-terminated key, string value pairs. */
G_GNUC_NULL_TERMINATED static JsonObject *string_args(const char *key, ...)
{
    JsonObject *args = json_object_new();
    va_list ap;

    va_start(ap, key);
    for (; key; key = va_arg(ap, const char *)) {
        json_object_set_string_member(args, key, va_arg(ap, const char *));
    }
    va_end(ap);
    return args;
}

static void call_qmp_void(HmpMonitor *mon, const char *name, JsonObject *args)
{
    JsonNode *ret = call_qmp(mon, name, args);

    if (ret) {
        json_node_unref(ret);
    }
}

static void hmp_stop(HmpMonitor *mon, HmpArg *a)
{
    call_qmp_void(mon, "stop", NULL);
}

static void hmp_cont(HmpMonitor *mon, HmpArg *a)
{
    call_qmp_void(mon, "cont", NULL);
}

static void hmp_system_reset(HmpMonitor *mon, HmpArg *a)
{
    call_qmp_void(mon, "system_reset", NULL);
}

static void hmp_system_powerdown(HmpMonitor *mon, HmpArg *a)
{
    call_qmp_void(mon, "system_powerdown", NULL);
}

static void hmp_quit(HmpMonitor *mon, HmpArg *a)
{
    mon->quit = true;
    call_qmp_void(mon, "quit", NULL);
}

static void hmp_device_add(HmpMonitor *mon, HmpArg *a)
{
    Error *err = NULL;
    g_autoptr(KiteOpts) opts = NULL;
    const char *driver;
    JsonObject *args;

    if (!strcmp(a[0].str, "help") || !strcmp(a[0].str, "?")) {
        print_from_file(mon, list_devices, NULL);
        return;
    }
    opts = kite_opts_parse(a[0].str, "driver", &err);
    if (!opts) {
        hmp_handle_error(mon, err);
        return;
    }
    driver = kite_opts_get(opts, "driver");
    if (driver && kite_opts_get(opts, "help")) {
        print_from_file(mon, qdev_print_props, driver);
        return;
    }
    args = json_object_new();
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        json_object_set_string_member(args, o->key, o->value);
    }
    call_qmp_void(mon, "device_add", args);
}

static void hmp_device_del(HmpMonitor *mon, HmpArg *a)
{
    call_qmp_void(mon, "device_del", string_args("id", a[0].str, NULL));
}

/* QMP's qom-list for path: an array of {name, type}, or NULL (error printed when mon). */
static JsonArray *qom_list(HmpMonitor *mon, const char *path)
{
    JsonObject *args = string_args("path", path, NULL);
    JsonNode *ret;
    JsonArray *arr = NULL;
    Error *err = NULL;

    ret = qmp_execute("qom-list", args, &err);
    json_object_unref(args);
    if (ret && JSON_NODE_HOLDS_ARRAY(ret)) {
        arr = json_array_ref(json_node_get_array(ret));
    }
    if (ret) {
        json_node_unref(ret);
    } else if (mon) {
        hmp_handle_error(mon, err);
    } else {
        error_free(err);
    }
    return arr;
}

/* TYPE of a "child<TYPE>" property type, or NULL. */
static char *child_type(JsonObject *prop)
{
    const char *t = json_object_get_string_member(prop, "type");

    return g_str_has_prefix(t, "child<") ? g_strndup(t + 6, strlen(t) - 7) : NULL;
}

static gint cmp_child_name(gconstpointer a, gconstpointer b)
{
    return strcmp(json_object_get_string_member(*(JsonObject *const *)a, "name"),
                  json_object_get_string_member(*(JsonObject *const *)b, "name"));
}

/* QEMU's "info qom-tree": "/name (type)", children indented two spaces, sorted by name. */
static void print_qom_tree(HmpMonitor *mon, const char *path, const char *name,
                           const char *type, int indent)
{
    g_autoptr(GPtrArray) children = g_ptr_array_new();
    JsonArray *props;

    hmp_printf(mon, "%*s/%s (%s)\n", indent, "", name, type);
    if (indent > 2 * 64 || !(props = qom_list(NULL, path))) {
        return;
    }
    for (guint i = 0; i < json_array_get_length(props); i++) {
        JsonObject *p = json_array_get_object_element(props, i);
        if (g_str_has_prefix(json_object_get_string_member(p, "type"), "child<")) {
            g_ptr_array_add(children, p);
        }
    }
    g_ptr_array_sort(children, cmp_child_name);
    for (guint i = 0; i < children->len; i++) {
        const char *cname = json_object_get_string_member(children->pdata[i], "name");
        g_autofree char *ctype = child_type(children->pdata[i]);
        g_autofree char *cpath = g_strdup_printf("%s/%s", strcmp(path, "/") ? path : "",
                                                 cname);
        print_qom_tree(mon, cpath, cname, ctype, indent + 2);
    }
    json_array_unref(props);
}

static void hmp_info_qom_tree(HmpMonitor *mon, HmpArg *a)
{
    const char *path = a[0].present ? a[0].str : "/machine";
    g_autofree char *parent = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *type = NULL;
    JsonArray *props;

    if (!strcmp(path, "/")) {
        print_qom_tree(mon, "/", "", "container", 0);
        return;
    }
    /* The object's type, from its parent's child<TYPE> property. */
    props = path[0] == '/' ? qom_list(NULL, parent) : NULL;
    for (guint i = 0; props && i < json_array_get_length(props) && !type; i++) {
        JsonObject *p = json_array_get_object_element(props, i);
        if (!strcmp(json_object_get_string_member(p, "name"), base)) {
            type = child_type(p);
        }
    }
    if (props) {
        json_array_unref(props);
    }
    if (!type) {
        hmp_printf(mon, "Path '%s' could not be resolved\n", path);
        return;
    }
    print_qom_tree(mon, path, base, type, 0);
}

static void hmp_qom_list(HmpMonitor *mon, HmpArg *a)
{
    JsonArray *props = qom_list(mon, a[0].present ? a[0].str : "/");

    for (guint i = 0; props && i < json_array_get_length(props); i++) {
        JsonObject *p = json_array_get_object_element(props, i);
        hmp_printf(mon, "%s (%s)\n", json_object_get_string_member(p, "name"),
                   json_object_get_string_member(p, "type"));
    }
    if (props) {
        json_array_unref(props);
    }
}

static void hmp_qom_get(HmpMonitor *mon, HmpArg *a)
{
    JsonNode *ret = call_qmp(mon, "qom-get",
                             string_args("path", a[0].str, "property", a[1].str, NULL));

    if (ret) {
        /* QEMU prints the value as its pretty JSON (four-space indents). */
        g_autofree char *text = qmp_json_format(ret, true);
        g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
        g_autofree char *joined = g_strjoinv("\n", lines);
        hmp_printf(mon, "%s\n", joined);
        json_node_unref(ret);
    }
}

/* The type qom-list gives for path's property name, or NULL (no such path or property). */
static char *qom_prop_type(const char *path, const char *name)
{
    JsonArray *props = qom_list(NULL, path);
    char *type = NULL;

    for (guint i = 0; props && i < json_array_get_length(props); i++) {
        JsonObject *o = json_array_get_object_element(props, i);
        if (!strcmp(json_object_get_string_member(o, "name"), name)) {
            type = g_strdup(json_object_get_string_member(o, "type"));
            break;
        }
    }
    if (props) {
        json_array_unref(props);
    }
    return type;
}

/* A size as QEMU's string visitor takes it: a number with an optional k/M/G/T/P/E suffix. */
static bool parse_size(const char *s, guint64 *v)
{
    static const char suffixes[] = "bkmgtpe";
    char *end;
    const char *sfx;

    if (!g_ascii_isdigit(*s)) {
        return false;
    }
    errno = 0;
    *v = g_ascii_strtoull(s, &end, 0);
    if (errno) {
        return false;
    }
    if (*end && !end[1] && (sfx = strchr(suffixes, g_ascii_tolower(*end)))) {
        int shift = (sfx - suffixes) * 10;
        if (shift && *v > (G_MAXUINT64 >> shift)) {
            return false;
        }
        *v <<= shift;
        end++;
    }
    return !*end;
}

/*
 * The text value of "qom-set path property value" as the JSON value QMP's qom-set takes,
 * parsed for the property's type the way QEMU's string input visitor does (and with its
 * error texts); NULL with errp set when the text does not fit the type.
 */
static JsonNode *qom_text_value(const char *type, const char *name, const char *text,
                                Error **errp)
{
    JsonNode *n = json_node_alloc();
    char *end;

    if (type && !strcmp(type, "bool")) {
        static const char *const yes[] = { "on", "yes", "true", "y" };
        static const char *const no[] = { "off", "no", "false", "n" };
        for (int i = 0; i < 4; i++) {
            if (!strcmp(text, yes[i]) || !strcmp(text, no[i])) {
                return json_node_init_boolean(n, !strcmp(text, yes[i]));
            }
        }
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
    } else if (type && !strcmp(type, "size")) {
        guint64 v;
        if (parse_size(text, &v)) {
            return json_node_init_int(n, (gint64)v);
        }
        error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64\n"
                   "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                   "peta-\nand exabytes, respectively.", name);
    } else if (type && (g_str_has_prefix(type, "int") || g_str_has_prefix(type, "uint"))) {
        bool is_unsigned = type[0] == 'u';
        gint64 v;

        /* QEMU's qemu_strtou64 takes "-1" as 2^64-1; both need the whole text. */
        errno = 0;
        v = is_unsigned ? (gint64)g_ascii_strtoull(text, &end, 0)
                        : g_ascii_strtoll(text, &end, 0);
        if (*text && !*end && !errno && !g_ascii_isspace(*text)) {
            return json_node_init_int(n, v);
        }
        error_setg(errp, "Parameter '%s' expects %s", name, is_unsigned ? "uint64" : "int64");
    } else {
        return json_node_init_string(n, text);
    }
    json_node_unref(n);
    return NULL;
}

/* "qom-set [-j] path property value": QMP's qom-set with the text or (-j) JSON value. */
static void hmp_qom_set(HmpMonitor *mon, HmpArg *a)
{
    const char *path = a[1].str, *name = a[2].str, *text = a[3].str;
    JsonObject *args;
    JsonNode *value;
    Error *err = NULL;

    if (a[0].present) {
        g_autoptr(JsonParser) parser = json_parser_new();
        GError *gerr = NULL;

        if (!json_parser_load_from_data(parser, text, -1, &gerr)) {
            error_setg(&err, "JSON parse error, %s", gerr->message);
            g_error_free(gerr);
            hmp_handle_error(mon, err);
            return;
        }
        value = json_parser_steal_root(parser);
        if (!value) {
            error_setg(&err, "JSON parse error, expecting value");
            hmp_handle_error(mon, err);
            return;
        }
    } else {
        g_autofree char *type = qom_prop_type(path, name);

        /* Unknown path or property: qom-set itself says which, in QEMU's words. */
        value = qom_text_value(type, name, text, &err);
        if (!value) {
            /*
             * QEMU checks a read-only or realized-device property before parsing the
             * text: ask qom-set with a null value, which no type accepts (so it never
             * sets anything), and report its error unless it is only about the type.
             */
            Error *probe_err = NULL;
            JsonNode *ret;

            args = string_args("path", path, "property", name, NULL);
            json_object_set_member(args, "value", json_node_new(JSON_NODE_NULL));
            ret = qmp_execute("qom-set", args, &probe_err);
            json_object_unref(args);
            if (ret) {
                json_node_unref(ret);
            }
            if (probe_err && !g_str_has_prefix(error_get_pretty(probe_err),
                                               "Invalid parameter type")) {
                error_free(err);
                err = probe_err;
            } else if (probe_err) {
                error_free(probe_err);
            }
            hmp_handle_error(mon, err);
            return;
        }
    }
    args = string_args("path", path, "property", name, NULL);
    json_object_set_member(args, "value", value);
    call_qmp_void(mon, "qom-set", args);
}

#else /* !CONFIG_JSON */

#define NEEDS_JSON(fn) \
    static void fn(HmpMonitor *mon, HmpArg *a) \
    { \
        hmp_printf(mon, "this command needs json-glib: rebuild with -Djson=enabled\n"); \
    }
NEEDS_JSON(hmp_stop)
NEEDS_JSON(hmp_cont)
NEEDS_JSON(hmp_system_reset)
NEEDS_JSON(hmp_system_powerdown)
NEEDS_JSON(hmp_quit)
NEEDS_JSON(hmp_device_add)
NEEDS_JSON(hmp_device_del)
NEEDS_JSON(hmp_info_qom_tree)
NEEDS_JSON(hmp_qom_list)
NEEDS_JSON(hmp_qom_get)
NEEDS_JSON(hmp_qom_set)

#endif

static void hmp_gdbserver(HmpMonitor *mon, HmpArg *a)
{
    const char *dev = a[0].present ? a[0].str : "tcp::1234";
    Error *err = NULL;

    if (!strcmp(dev, "none")) {
        hmp_printf(mon, "gdbserver none: stopping the gdb stub is not supported\n");
        return;
    }
    if (!gdbserver_start(dev, &err)) {
        hmp_printf(mon, "Could not open gdbserver on device '%s'\n", dev);
        hmp_report_err(mon, err);
        return;
    }
    hmp_printf(mon, "Waiting for gdb connection on device '%s'\n", dev);
}

/* As QEMU's x86 "nmi": an NMI on every vCPU (what the NMI button of a PC does). */
static void hmp_nmi(HmpMonitor *mon, HmpArg *a)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        cpu_interrupt(cpu, CPU_INTERRUPT_NMI);
    }
}

static void hmp_cpu(HmpMonitor *mon, HmpArg *a)
{
    if (a[0].num < 0 || !cpu_by_index(a[0].num)) {
        hmp_printf(mon, "invalid CPU index\n");
        return;
    }
    mon->cpu_index = a[0].num;
}

/* --- memory dumps --- */

static CPUState *mon_cpu(HmpMonitor *mon)
{
    CPUState *cpu = cpu_by_index(mon->cpu_index);
    AccelState *accel = current_accel();

    if (cpu && accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cpu);
    }
    return cpu;
}

/* A character as QEMU's monitor shows it: 'a', '\n', '\x00'. */
static void print_char(HmpMonitor *mon, uint8_t c)
{
    switch (c) {
    case '\'':
        hmp_puts(mon, "'\\''");
        break;
    case '\\':
        hmp_puts(mon, "'\\\\'");
        break;
    case '\n':
        hmp_puts(mon, "'\\n'");
        break;
    case '\r':
        hmp_puts(mon, "'\\r'");
        break;
    default:
        if (c >= 32 && c <= 126) {
            hmp_printf(mon, "'%c'", c);
        } else {
            hmp_printf(mon, "'\\x%02x'", c);
        }
        break;
    }
}

/*
 * The last format and size of x, xp and print.  QEMU keeps them process-wide, not per
 * monitor: an "xp/2xb" through human-monitor-command makes the next bare "x" print bytes.
 */
static char hmp_last_format = 'x';
static int hmp_last_size = 4;

/* The /fmt letter of x, xp and print, or the last one. */
static char resolve_letter(const HmpArg *fmt)
{
    hmp_last_format = fmt->format ? fmt->format : hmp_last_format;
    return hmp_last_format;
}

/*
 * Resolve the /fmt of x and xp against the last one.  As QEMU: 'i' takes no size, so it
 * neither uses nor changes the remembered one (x/i, then x/x prints the old size).
 */
static void resolve_format(const HmpArg *fmt, char *format, int *size)
{
    *format = resolve_letter(fmt);
    if (*format != 'i') {
        *size = fmt->size ? fmt->size : hmp_last_size;
        hmp_last_size = *size;
    }
}

/* One value of size bytes in format; pad: in columns as x/xp print them (print does not). */
static void print_value(HmpMonitor *mon, char format, int size, uint64_t v, bool pad)
{
    int bits = size * 8;

    switch (format) {
    case 'o':
        hmp_printf(mon, "%#*" PRIo64, pad ? (bits + 2) / 3 : 0, v);
        break;
    case 'u':
        hmp_printf(mon, "%*" PRIu64, pad ? (bits * 10 + 32) / 33 : 0, v);
        break;
    case 'd': {
        int64_t s = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
        hmp_printf(mon, "%*" PRId64, pad ? (bits * 10 + 32) / 33 : 0, s);
        break;
    }
    case 'c':
        print_char(mon, v);
        break;
    default:
        if (pad) {
            hmp_printf(mon, "0x%0*" PRIx64, bits / 4, v);
        } else {
            hmp_printf(mon, "%#" PRIx64, v);
        }
        break;
    }
}

/* Guest memory for x/i and xp/i: the same reads as the x/xp dump below. */
typedef struct DisasRead {
    CPUState *cpu;
    bool physical;
} DisasRead;

static bool disas_read(void *opaque, uint64_t addr, uint8_t *buf, size_t len)
{
    DisasRead *r = opaque;

    if (r->physical) {
        return address_space_read(&address_space_memory, addr, buf, len) == MEMTX_OK;
    }
    return cpu_memory_rw_debug(r->cpu, addr, buf, len, false);
}

/* x/Ni and xp/Ni: N instructions decoded for the mode of the monitor's vCPU (QEMU's). */
static void disas_dump(HmpMonitor *mon, int count, uint64_t addr, bool physical)
{
    CPUState *cpu = mon_cpu(mon);
    CPUClass *cc;
    DisasRead r = { .cpu = cpu, .physical = physical };
    g_autoptr(GString) out = g_string_new(NULL);

    /* QEMU needs a CPU for /i even with xp: the CPU's mode picks the decoder. */
    if (!cpu) {
        hmp_printf(mon, "Can not dump without CPU\n");
        return;
    }
    cc = CPU_GET_CLASS(cpu);
    if (!disas_available()) {
        hmp_printf(mon, "format 'i' needs a disassembler: this Kite was built without "
                   "capstone\n");
        return;
    }
    if (!cc->disas_mode ||
        !disas_x86_monitor(out, cc->disas_mode(cpu), addr, count, disas_read, &r)) {
        hmp_printf(mon, "format 'i': cannot disassemble for this CPU\n");
        return;
    }
    hmp_puts(mon, out->str);
}

static void memory_dump(HmpMonitor *mon, const HmpArg *fmt, uint64_t addr, bool physical)
{
    char format;
    int size = 0, line_size;
    uint64_t left;
    CPUState *cpu = NULL;

    resolve_format(fmt, &format, &size);
    if (format == 'i') {
        disas_dump(mon, fmt->count, addr, physical);
        return;
    }
    if (!physical) {
        cpu = mon_cpu(mon);
        if (!cpu) {
            hmp_printf(mon, "No CPU available\n");
            return;
        }
    }
    /*
     * As QEMU: count units of the size make the length and the line; /c then prints each
     * byte of them as a character (x/3c after x/xg shows 24 characters).
     */
    left = (uint64_t)fmt->count * size;
    line_size = size == 1 ? 8 : 16;
    if (format == 'c') {
        size = 1;
    }
    while (left > 0) {
        uint8_t buf[16];
        int l = MIN(left, (uint64_t)line_size);
        bool ok;

        hmp_printf(mon, "%016" PRIx64 ":", addr);
        if (physical) {
            ok = address_space_read(&address_space_memory, addr, buf, l) == MEMTX_OK;
        } else {
            ok = cpu_memory_rw_debug(cpu, addr, buf, l, false);
        }
        if (!ok) {
            hmp_printf(mon, " Cannot access memory\n");
            return;
        }
        for (int i = 0; i < l; i += size) {
            uint64_t v = 0;
            for (int k = size - 1; k >= 0; k--) {
                v = (v << 8) | buf[i + k];        /* guest memory is little-endian */
            }
            hmp_puts(mon, " ");
            print_value(mon, format, size, v, true);
        }
        hmp_puts(mon, "\n");
        addr += l;
        left -= l;
    }
}

static void hmp_x(HmpMonitor *mon, HmpArg *a)
{
    memory_dump(mon, &a[0], a[1].num, false);
}

static void hmp_xp(HmpMonitor *mon, HmpArg *a)
{
    memory_dump(mon, &a[0], a[1].num, true);
}

static void hmp_print(HmpMonitor *mon, HmpArg *a)
{
    char format = resolve_letter(&a[0]);

    /* QEMU's print has no case for 'i': the value comes out as a signed decimal. */
    print_value(mon, format == 'i' ? 'd' : format, 8, a[1].num, false);
    hmp_puts(mon, "\n");
}

/* --- sendkey --- */

#define SENDKEY_MAX 64          /* QEMU sets no limit; a bound keeps the arrays fixed */

static KiteTimer *sendkey_timer;
static QKeyCode sendkey_down[SENDKEY_MAX];
static int sendkey_count;

/* Release what the last sendkey pressed, last key first. */
static void sendkey_release(void *opaque)
{
    while (sendkey_count > 0) {
        input_event_send_key_qcode(sendkey_down[--sendkey_count], false);
    }
}

static void hmp_sendkey(HmpMonitor *mon, HmpArg *a)
{
    g_auto(GStrv) names = g_strsplit(a[0].str, "-", -1);
    QKeyCode keys[SENDKEY_MAX];
    int n = 0;
    int64_t hold_ms = a[1].present ? a[1].num : 100;

    for (int i = 0; names[i]; i++) {
        QKeyCode q;
        if (n == SENDKEY_MAX) {
            hmp_printf(mon, "too many keys\n");
            return;
        }
        if (g_str_has_prefix(names[i], "0x")) {
            /* A raw XT scancode, as QEMU accepts (0x1c = Enter, 0x11c = keypad Enter). */
            char *end;
            uint64_t xt = g_ascii_strtoull(names[i] + 2, &end, 16);
            q = *end || xt > 0x1ff ? Q_KEY_CODE_UNMAPPED : input_xt_to_qcode(xt);
        } else {
            q = input_qcode_from_name(names[i]);
        }
        if (q == Q_KEY_CODE_UNMAPPED) {
            hmp_printf(mon, "invalid parameter: %s\n", names[i]);
            return;
        }
        keys[n++] = q;
    }
    if (hold_ms <= 0) {
        hold_ms = 100;
    }
    if (!sendkey_timer) {
        sendkey_timer = timer_new_ns(KITE_CLOCK_REALTIME, sendkey_release, NULL);
    }
    /* A sendkey while the previous one still holds its keys: let those go first. */
    timer_del(sendkey_timer);
    sendkey_release(NULL);
    for (int i = 0; i < n; i++) {
        input_event_send_key_qcode(keys[i], true);
        sendkey_down[sendkey_count++] = keys[i];
    }
    timer_mod_ns(sendkey_timer, clock_get_ns(KITE_CLOCK_REALTIME) + hold_ms * 1000000);
}

/* --- mouse --- */

/* An integer word ("-5", "0x10"); false (and a message) otherwise. */
static bool word_to_int(HmpMonitor *mon, const char *s, int64_t *v)
{
    char *end;

    errno = 0;
    *v = g_ascii_strtoll(s, &end, 0);
    if (errno || end == s || *end || *v < INT32_MIN || *v > INT32_MAX) {
        hmp_printf(mon, "invalid number: '%s'\n", s);
        return false;
    }
    return true;
}

/* Words, not expressions (as QEMU): "mouse_move 10 -5" is two numbers, not 10 - 5. */
static void hmp_mouse_move(HmpMonitor *mon, HmpArg *a)
{
    int64_t dx, dy, dz = 0;

    if (!word_to_int(mon, a[0].str, &dx) || !word_to_int(mon, a[1].str, &dy) ||
        (a[2].present && !word_to_int(mon, a[2].str, &dz))) {
        return;
    }
    input_queue_rel(INPUT_AXIS_X, dx);
    input_queue_rel(INPUT_AXIS_Y, dy);
    if (dz) {
        /* The wheel is a button press and release, as QEMU sends it. */
        InputButton b = dz > 0 ? INPUT_BUTTON_WHEEL_UP : INPUT_BUTTON_WHEEL_DOWN;
        input_queue_btn(b, true);
        input_event_sync();
        input_queue_btn(b, false);
    }
    input_event_sync();
}

/* The state is a PS/2-style mask: 1 left, 2 right, 4 middle (what QEMU's code uses). */
static void hmp_mouse_button(HmpMonitor *mon, HmpArg *a)
{
    static const struct { uint32_t bit; InputButton btn; } map[] = {
        { 1, INPUT_BUTTON_LEFT }, { 2, INPUT_BUTTON_RIGHT }, { 4, INPUT_BUTTON_MIDDLE },
    };
    static uint32_t state;
    uint32_t want = a[0].num;

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if ((state ^ want) & map[i].bit) {
            input_queue_btn(map[i].btn, want & map[i].bit);
        }
    }
    state = want & 7;
    input_event_sync();
}

static void hmp_screendump(HmpMonitor *mon, HmpArg *a)
{
    Error *err = NULL;

    if (!ui_screendump(a[0].str, a[1].present ? a[1].str : NULL, &err)) {
        hmp_handle_error(mon, err);
    }
}

/* QEMU's "eject [-f] device": open the tray and take the medium out (QMP eject). */
static void hmp_eject(HmpMonitor *mon, HmpArg *a)
{
    BlockBackend *blk = blk_by_name(a[1].str);
    Error *err = NULL;

    if (!blk) {
        hmp_printf(mon, "Error: Device '%s' not found\n", a[1].str);
        return;
    }
    if (!blk_eject(blk, a[1].str, a[0].present, &err)) {
        hmp_handle_error(mon, err);
    }
}

/*
 * QEMU's "change device filename [format [read-only-mode]]" for a block device: QMP's
 * blockdev-change-medium (the medium goes in and the tray closes).
 */
static void hmp_change(HmpMonitor *mon, HmpArg *a)
{
    BlockBackend *blk = blk_by_name(a[0].str);
    Error *err = NULL;

    if (a[3].present && strcmp(a[3].str, "retain") && strcmp(a[3].str, "read-only")) {
        hmp_printf(mon, "invalid read-only-mode '%s' (retain or read-only)\n", a[3].str);
        return;
    }
    if (!blk) {
        hmp_printf(mon, "Error: Device '%s' not found\n", a[0].str);
        return;
    }
    if (!blk_change_medium(blk, a[0].str, a[1].str, a[2].present ? a[2].str : NULL, false,
                           &err)) {
        hmp_handle_error(mon, err);
    }
}

/* --- info --- */

static void hmp_info_status(HmpMonitor *mon, HmpArg *a)
{
    RunState s = runstate_get();

    hmp_printf(mon, "VM status: %s", runstate_is_running() ? "running" : "paused");
    if (!runstate_is_running() && s != RUN_STATE_PAUSED) {
        hmp_printf(mon, " (%s)", runstate_name(s));
    }
    hmp_puts(mon, "\n");
}

static void dump_cpu(HmpMonitor *mon, CPUState *cpu, bool header)
{
    CPUClass *cc = CPU_GET_CLASS(cpu);
    g_autoptr(GString) s = g_string_new(NULL);

    if (header) {
        hmp_printf(mon, "\nCPU#%d\n", cpu->cpu_index);
    }
    if (cc->dump_state) {
        cc->dump_state(cpu, s);
    }
    hmp_puts(mon, s->str);
}

static void hmp_info_registers(HmpMonitor *mon, HmpArg *a)
{
    CPUState *cpu;

    if (a[0].present) {
        CPU_FOREACH(cpu) {
            dump_cpu(mon, cpu, true);
        }
        return;
    }
    cpu = cpu_by_index(a[1].present ? a[1].num : mon->cpu_index);
    if (!cpu) {
        hmp_printf(mon, a[1].present ? "CPU#%" PRId64 " not available\n" : "No CPU available\n",
                   a[1].num);
        return;
    }
    dump_cpu(mon, cpu, true);           /* QEMU 7.2 heads even one CPU's dump */
}

/* QEMU's format: "* CPU #0: thread_id=1234", the star on the monitor's current CPU. */
static void dump_mmu(HmpMonitor *mon, bool tlb)
{
    CPUState *cpu = cpu_by_index(mon->cpu_index);
    CPUClass *cc = cpu ? CPU_GET_CLASS(cpu) : NULL;
    g_autoptr(GString) s = g_string_new(NULL);

    if (!cc || !cc->dump_mmu) {
        hmp_printf(mon, "No CPU available\n");
        return;
    }
    cc->dump_mmu(cpu, s, tlb);
    hmp_puts(mon, s->str);
}

static void hmp_info_mem(HmpMonitor *mon, HmpArg *a)
{
    dump_mmu(mon, false);
}

static void hmp_info_tlb(HmpMonitor *mon, HmpArg *a)
{
    dump_mmu(mon, true);
}

static void hmp_info_cpus(HmpMonitor *mon, HmpArg *a)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        int tid = __atomic_load_n(&cpu->thread_id, __ATOMIC_ACQUIRE);

        /* Before its thread starts a vCPU runs nowhere; QEMU then shows the main thread. */
        hmp_printf(mon, "%c CPU #%d: thread_id=%d\n",
                   cpu->cpu_index == mon->cpu_index ? '*' : ' ', cpu->cpu_index,
                   tid ? tid : (int)getpid());
    }
}

/* --- info pci, in QEMU's layout --- */

static const struct {
    uint16_t class;
    const char *desc;
} pci_class_names[] = {
    { 0x0100, "SCSI controller" }, { 0x0101, "IDE controller" },
    { 0x0102, "Floppy controller" }, { 0x0103, "IPI controller" },
    { 0x0104, "RAID controller" }, { 0x0106, "SATA controller" },
    { 0x0107, "SAS controller" }, { 0x0180, "Storage controller" },
    { 0x0200, "Ethernet controller" }, { 0x0201, "Token Ring controller" },
    { 0x0202, "FDDI controller" }, { 0x0203, "ATM controller" },
    { 0x0280, "Network controller" }, { 0x0300, "VGA controller" },
    { 0x0301, "XGA controller" }, { 0x0302, "3D controller" },
    { 0x0380, "Display controller" }, { 0x0400, "Video controller" },
    { 0x0401, "Audio controller" }, { 0x0402, "Phone" }, { 0x0403, "Audio controller" },
    { 0x0480, "Multimedia controller" }, { 0x0500, "RAM controller" },
    { 0x0501, "Flash controller" }, { 0x0580, "Memory controller" },
    { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" }, { 0x0602, "EISA bridge" },
    { 0x0603, "MC bridge" }, { 0x0604, "PCI bridge" }, { 0x0605, "PCMCIA bridge" },
    { 0x0606, "NUBUS bridge" }, { 0x0607, "CARDBUS bridge" }, { 0x0608, "RACEWAY bridge" },
    { 0x0680, "Bridge" }, { 0x0700, "Serial port" }, { 0x0701, "Parallel port" },
    { 0x0703, "Modem" }, { 0x0c00, "Firewire controller" }, { 0x0c03, "USB controller" },
    { 0x0c05, "SMBus" },
};

/* QEMU's name for a PCI class (base class and subclass), or NULL (info pci, query-pci). */
const char *pci_class_description(uint16_t class)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pci_class_names); i++) {
        if (pci_class_names[i].class == class) {
            return pci_class_names[i].desc;
        }
    }
    return NULL;
}

static void print_pci_device(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    HmpMonitor *mon = opaque;
    const uint8_t *c = dev->config;
    uint16_t class = pci_get_word(c + PCI_CLASS_DEVICE);
    const char *desc = pci_class_description(class);

    hmp_printf(mon, "  Bus %2d, device %3d, function %d:\n", 0, PCI_SLOT(dev->devfn),
               PCI_FUNC(dev->devfn));
    if (desc) {
        hmp_printf(mon, "    %s", desc);
    } else {
        hmp_printf(mon, "    Class %04d", class);     /* decimal, as QEMU prints it */
    }
    hmp_printf(mon, ": PCI device %04x:%04x\n", pci_get_word(c + PCI_VENDOR_ID),
               pci_get_word(c + PCI_DEVICE_ID));
    if ((c[PCI_HEADER_TYPE] & 0x7f) == 0) {
        hmp_printf(mon, "      PCI subsystem %04x:%04x\n",
                   pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID), pci_get_word(c + PCI_SUBSYSTEM_ID));
    }
    if (c[PCI_INTERRUPT_PIN]) {
        hmp_printf(mon, "      IRQ %d, pin %c\n", c[PCI_INTERRUPT_LINE],
                   'A' + (c[PCI_INTERRUPT_PIN] - 1) % 4);
    }
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        const PCIIORegion *r = &dev->io_regions[i];
        uint64_t last = r->addr + r->size - 1;     /* unmapped: all-ones wraps, as in QEMU */

        if (!r->size) {
            continue;
        }
        if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
            hmp_printf(mon, "      BAR%d: I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n", i,
                       r->addr, last);
        } else {
            hmp_printf(mon, "      BAR%d: %d bit%s memory at 0x%08" PRIx64 " [0x%08" PRIx64
                       "].\n", i, (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) ? 64 : 32,
                       (r->type & PCI_BASE_ADDRESS_MEM_PREFETCH) ? " prefetchable" : "",
                       r->addr, last);
        }
    }
    hmp_printf(mon, "      id \"%s\"\n", DEVICE(dev)->id ? DEVICE(dev)->id : "");
}

static void hmp_info_pci(HmpMonitor *mon, HmpArg *a)
{
    PCIBus *bus = pci_get_root_bus();

    if (bus) {
        pci_for_each_device(bus, print_pci_device, mon);
    }
}

static void hmp_info_qtree(HmpMonitor *mon, HmpArg *a)
{
    g_autoptr(GString) s = g_string_new(NULL);

    qdev_print_tree(s);
    hmp_puts(mon, s->str);
}

static void hmp_info_mtree(HmpMonitor *mon, HmpArg *a)
{
    g_autoptr(GString) s = g_string_new(NULL);

    memory_print_tree(s, &address_space_memory, a[0].present);
    g_string_append_c(s, '\n');
    memory_print_tree(s, &address_space_io, a[0].present);
    hmp_puts(mon, s->str);
}

static void hmp_info_block(HmpMonitor *mon, HmpArg *a)
{
    bool first = true;

    for (DriveInfo *d = drive_next(NULL); d; d = drive_next(d)) {
        BlockDriverState *bs = d->blk ? blk_bs(d->blk) : NULL;
        DeviceState *dev = d->blk ? blk_get_attached_dev(d->blk) : NULL;

        /*
         * As QEMU: a blank line before every drive but the first of the whole list, named
         * or not (so "info block ide1-cd0" can start with one), and nothing for a name that
         * matches no drive.
         */
        if (!first && !(a[0].present && strcmp(a[0].str, d->id))) {
            hmp_puts(mon, "\n");
        }
        first = false;
        if (a[0].present && strcmp(a[0].str, d->id)) {
            continue;
        }
        if (bs) {
            hmp_printf(mon, "%s (%s): %s (%s%s)\n", d->id, bdrv_get_node_name(bs),
                       bdrv_get_filename(bs), bdrv_get_format_name(bs),
                       blk_is_read_only(d->blk) ? ", read-only" : "");
        } else {
            hmp_printf(mon, "%s: [not inserted]\n", d->id);
        }
        if (dev) {
            g_autofree char *path = object_get_canonical_path(OBJECT(dev));
            hmp_printf(mon, "    Attached to:      %s\n", path);
        }
        /* A drive no device holds counts as removable, as in QEMU's query-block. */
        if (d->blk && (!dev || blk_dev_has_removable_media(d->blk))) {
            hmp_printf(mon, "    Removable device: %slocked, tray %s\n",
                       blk_dev_is_medium_locked(d->blk) ? "" : "not ",
                       blk_dev_is_tray_open(d->blk) ? "open" : "closed");
        }
        if (bs) {
            hmp_printf(mon, "    Cache mode:       %s\n",
                       blk_enable_write_cache(d->blk) ? "writeback" : "writethrough");
        }
    }
}

static int print_chardev(Chardev *chr, void *opaque)
{
    hmp_printf(opaque, "%s: filename=%s\n", chr->label, chr->filename ? chr->filename : "");
    return 0;
}

static void hmp_info_chardev(HmpMonitor *mon, HmpArg *a)
{
    chardev_foreach(print_chardev, mon);
}

static const char *net_type_name(const NetClientState *nc)
{
    switch (nc->info->type) {
    case NET_CLIENT_NIC:
        return "nic";
    case NET_CLIENT_USER:
        return "user";
    case NET_CLIENT_SOCKET:
        return "socket";
    case NET_CLIENT_TAP:
        return "tap";
    default:
        return "other";
    }
}

static void print_net_client(HmpMonitor *mon, const NetClientState *nc)
{
    /* QEMU's line: every client has queue index 0 here (no multiqueue backend). */
    hmp_printf(mon, "%s: index=0,type=%s,%s\n", nc->name, net_type_name(nc), nc->info_str);
}

/*
 * As QEMU's "info network": a NIC with its backend indented under it; a backend with no peer,
 * or a NIC without one, on its own line.
 */
static int print_network(NetClientState *nc, void *opaque)
{
    HmpMonitor *mon = opaque;

    if (nc->peer && nc->info->type != NET_CLIENT_NIC) {
        return 0;               /* printed under its NIC */
    }
    print_net_client(mon, nc);
    if (nc->peer) {
        hmp_puts(mon, " \\ ");
        print_net_client(mon, nc->peer);
    }
    return 0;
}

static void hmp_info_network(HmpMonitor *mon, HmpArg *a)
{
    net_client_foreach(print_network, mon);
}

static void hmp_info_version(HmpMonitor *mon, HmpArg *a)
{
    /* QEMU's hmp_info_version: the version and the package string, glued. */
    hmp_printf(mon, "%s%s\n", KITE_VERSION, KITE_PACKAGE);
}

static void hmp_info_kvm(HmpMonitor *mon, HmpArg *a)
{
    hmp_printf(mon, "kvm support: %s\n", kvm_enabled() ? "enabled" : "disabled");
}

static void hmp_info_name(HmpMonitor *mon, HmpArg *a)
{
    if (kite_config.name) {
        hmp_printf(mon, "%s\n", kite_config.name);
    }
}

static void hmp_info_uuid(HmpMonitor *mon, HmpArg *a)
{
    hmp_printf(mon, "%s\n", kite_config.uuid ? kite_config.uuid :
               "00000000-0000-0000-0000-000000000000");
}

static void hmp_info_history(HmpMonitor *mon, HmpArg *a)
{
    const char *h;

    if (mon->capture) {
        return;
    }
    for (int i = 0; (h = readline_get_history(&mon->rs, i)); i++) {
        hmp_printf(mon, "%d: '%s'\n", i, h);
    }
}

const HmpCommand hmp_info_commands[] = {
    { "block", "device:s?", "[device]", "show info of one block device or all block devices",
      hmp_info_block },
    { "chardev", "", "", "show the character devices", hmp_info_chardev },
    { "cpus", "", "", "show infos for each CPU", hmp_info_cpus },
    { "history", "", "", "show the command line history", hmp_info_history },
    { "kvm", "", "", "show KVM information", hmp_info_kvm },
    { "mem", "", "", "show the active virtual memory mappings", hmp_info_mem },
    { "mtree", "flatview:-f?", "[-f]",
      "show memory tree (-f: dump flat view for address spaces)", hmp_info_mtree },
    { "name", "", "", "show the current VM name", hmp_info_name },
    { "network", "", "", "show the network state", hmp_info_network },
    { "pci", "", "", "show PCI info", hmp_info_pci },
    { "qom-tree", "path:s?", "[path]", "show QOM composition tree", hmp_info_qom_tree },
    { "qtree", "", "", "show device tree", hmp_info_qtree },
    { "registers", "cpustate_all:-a?,vcpu:i?", "[-a|vcpu]",
      "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to "
      "query; show the current CPU's registers if no argument is specified)",
      hmp_info_registers },
    { "status", "", "", "show the current VM status (running|paused)", hmp_info_status },
    { "tlb", "", "", "show virtual to physical memory mappings", hmp_info_tlb },
    { "uuid", "", "", "show the current VM UUID", hmp_info_uuid },
    { "version", "", "", "show the version of Kite", hmp_info_version },
    { NULL },
};

const HmpCommand hmp_commands[] = {
    { "help|?", "name:S?", "[cmd]", "show the help", hmp_help },
    { "cont|c", "", "", "resume emulation", hmp_cont },
    { "cpu", "index:i", "index", "set the default CPU", hmp_cpu },
    { "device_add", "device:S", "driver[,prop=value][,...]",
      "add device, like -device on the command line", hmp_device_add },
    { "device_del", "id:s", "device", "remove device", hmp_device_del },
    { "eject", "force:-f?,device:s", "[-f] device", "eject a removable medium (use -f to force "
      "it)", hmp_eject },
    { "change", "device:s,target:F,arg:s?,read-only-mode:s?",
      "device filename [format [read-only-mode]]", "change a removable medium", hmp_change },
    { "gdbserver", "device:s?", "[device]",
      "start gdbserver on given device (default 'tcp::1234')", hmp_gdbserver },
    { "info", "", "[subcommand]", "show various information about the system state",
      NULL, hmp_info_commands },
    { "mouse_button", "state:i", "state",
      "change mouse button state (1=L, 2=R, 4=M, ORed)", hmp_mouse_button },
    { "mouse_move", "dx:s,dy:s,dz:s?", "dx dy [dz]", "send mouse move events",
      hmp_mouse_move },
    { "nmi", "", "", "inject an NMI", hmp_nmi },
    { "print|p", "fmt:/,val:l", "/fmt expr", "print expression value (use $pc for the "
      "CPU's instruction pointer)", hmp_print },
    { "qom-get", "path:s,property:s", "path property", "print QOM property",
      hmp_qom_get },
    { "qom-list", "path:s?", "path", "list QOM properties", hmp_qom_list },
    { "qom-set", "json:-j,path:s,property:s,value:S", "[-j] path property value",
      "set QOM property.\n\t\t\t-j: the value is specified in json format.", hmp_qom_set },
    { "quit|q", "", "", "quit the emulator", hmp_quit },
    { "screendump", "filename:F,format:-fs?", "filename [-f format]",
      "save screen from the active console into a PPM (default) or PNG image 'filename'",
      hmp_screendump },
    { "sendkey", "keys:s,hold-time:i?", "keys [hold_ms]",
      "send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=100 ms)",
      hmp_sendkey },
    { "stop|s", "", "", "stop emulation", hmp_stop },
    { "system_powerdown", "", "", "send system power down event", hmp_system_powerdown },
    { "system_reset", "", "", "reset the system", hmp_system_reset },
    { "x", "fmt:/,addr:l", "/fmt addr", "virtual memory dump starting at 'addr'", hmp_x },
    { "xp", "fmt:/,addr:l", "/fmt addr", "physical memory dump starting at 'addr'", hmp_xp },
    { NULL },
};
