/*
 * QMP protocol engine and the built-in commands: see qmp.h.
 *
 * Each input message goes through the JSON splitter, json-glib, then QEMU's request checks in
 * QEMU's order (qapi/qmp-dispatch.c): must be an object, "execute" must be a string, no
 * unexpected keys, "arguments" must be an object; then the command's argument schema.  A
 * command's failure only produces an error reply; splitter abuse closes the connection.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/qmp.h"
#include "monitor/qmp-cmds.h"

#ifdef CONFIG_JSON
#include "system/runstate.h"
#include "system/system.h"
#include "accel/kvm.h"
#include "block/block.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "hw/qdev.h"

QmpQueryHook *qmp_query_block_hook;
QmpScreendumpHook *qmp_screendump_hook;

static GPtrArray *qmp_sessions;    /* of QmpSession *, for events */
/*
 * Nodes of the message being handled that hold a uint64 above INT64_MAX (json-glib keeps
 * the bits in an int64): printed unsigned, as QEMU echoes them.
 */
static GHashTable *qmp_u64_nodes;

static JsonNode *obj_node(JsonBuilder *b)
{
    JsonNode *n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

JsonNode *qmp_empty_object(void)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, json_object_new());
    return n;
}

/* --- commands --- */

static JsonNode *qmp_query_version(JsonObject *args, Error **errp)
{
    int major = 0, minor = 0, micro = 0;
    JsonBuilder *b = json_builder_new();

    sscanf(KITE_VERSION, "%d.%d.%d", &major, &minor, &micro);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "qemu");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "micro");
    json_builder_add_int_value(b, micro);
    json_builder_set_member_name(b, "minor");
    json_builder_add_int_value(b, minor);
    json_builder_set_member_name(b, "major");
    json_builder_add_int_value(b, major);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "package");
    json_builder_add_string_value(b, KITE_PACKAGE);
    json_builder_end_object(b);
    return obj_node(b);
}

static JsonNode *qmp_query_commands(JsonObject *args, Error **errp);

static JsonNode *qmp_query_status(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, runstate_name(runstate_get()));
    json_builder_set_member_name(b, "singlestep");
    json_builder_add_boolean_value(b, false);
    json_builder_set_member_name(b, "running");
    json_builder_add_boolean_value(b, runstate_is_running());
    json_builder_end_object(b);
    return obj_node(b);
}

static JsonNode *qmp_query_name(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    if (kite_config.name) {
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, kite_config.name);
    }
    json_builder_end_object(b);
    return obj_node(b);
}

static JsonNode *qmp_query_uuid(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "UUID");
    json_builder_add_string_value(b, kite_config.uuid ? kite_config.uuid :
                                  "00000000-0000-0000-0000-000000000000");
    json_builder_end_object(b);
    return obj_node(b);
}

static JsonNode *qmp_query_kvm(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "enabled");
    json_builder_add_boolean_value(b, kvm_enabled());
    json_builder_set_member_name(b, "present");
    json_builder_add_boolean_value(b, access("/dev/kvm", R_OK | W_OK) == 0);
    json_builder_end_object(b);
    return obj_node(b);
}

static int chardev_info(Chardev *chr, void *opaque)
{
    JsonBuilder *b = opaque;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "label");
    json_builder_add_string_value(b, chr->label ? chr->label : "");
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, chr->filename ? chr->filename : "");
    json_builder_set_member_name(b, "frontend-open");
    json_builder_add_boolean_value(b, chr->be_open && chr->n_frontends > 0);
    json_builder_end_object(b);
    return 0;
}

static JsonNode *qmp_query_chardev(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_array(b);
    chardev_foreach(chardev_info, b);
    json_builder_end_array(b);
    return obj_node(b);
}

/* Empty until the block layer installs qmp_query_block_hook. */
static JsonNode *qmp_query_block(JsonObject *args, Error **errp)
{
    if (qmp_query_block_hook) {
        return qmp_query_block_hook(errp);
    }
    return json_node_init_array(json_node_alloc(), json_array_new());
}

static JsonNode *qmp_screendump(JsonObject *args, Error **errp)
{
    const char *device = json_object_has_member(args, "device") ?
                         json_object_get_string_member(args, "device") : NULL;
    const char *format = json_object_has_member(args, "format") ?
                         json_object_get_string_member(args, "format") : "ppm";

    /* The schema's ImageFormat enum, checked before anything else as QEMU's unmarshal does. */
    if (strcmp(format, "ppm") && strcmp(format, "png")) {
        error_setg(errp, "Parameter 'format' does not accept value '%s'", format);
        return NULL;
    }
    if (!qmp_screendump_hook) {
        error_setg(errp, "There is no console to take a screendump from");
        return NULL;
    }
    if (!qmp_screendump_hook(json_object_get_string_member(args, "filename"), device, format,
                             errp)) {
        return NULL;
    }
    return qmp_empty_object();
}

static JsonNode *qmp_stop(JsonObject *args, Error **errp)
{
    /* QEMU: stop in prelaunch only leaves autostart off; here the VM simply stays put. */
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
    }
    return qmp_empty_object();
}

static JsonNode *qmp_cont(JsonObject *args, Error **errp)
{
    /* QEMU's runstate_needs_reset(): guest-panicked may go on running (cont). */
    if (runstate_check(RUN_STATE_SHUTDOWN) || runstate_check(RUN_STATE_INTERNAL_ERROR)) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return NULL;
    }
    vm_start();
    return qmp_empty_object();
}

static JsonNode *qmp_system_reset(JsonObject *args, Error **errp)
{
    system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return qmp_empty_object();
}

static JsonNode *qmp_system_powerdown(JsonObject *args, Error **errp)
{
    system_powerdown_request();
    return qmp_empty_object();
}

static JsonNode *qmp_quit(JsonObject *args, Error **errp)
{
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return qmp_empty_object();
}

static const QmpCommand qmp_commands[] = {
    { "qmp_capabilities", NULL, { { "enable", "any", true } } },
    { "query-version", qmp_query_version },
    { "query-commands", qmp_query_commands },
    { "query-status", qmp_query_status },
    { "query-name", qmp_query_name },
    { "query-uuid", qmp_query_uuid },
    { "query-kvm", qmp_query_kvm },
    { "query-chardev", qmp_query_chardev },
    { "query-block", qmp_query_block },
    { "screendump", qmp_screendump,
      { { "filename", "str" }, { "device", "str", true }, { "head", "int", true },
        { "format", "str", true } } },
    { "stop", qmp_stop },
    { "cont", qmp_cont },
    { "system_reset", qmp_system_reset },
    { "system_powerdown", qmp_system_powerdown },
    { "quit", qmp_quit },
};

static JsonNode *qmp_query_commands(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_array(b);
    for (size_t i = 0; i < G_N_ELEMENTS(qmp_commands); i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, qmp_commands[i].name);
        json_builder_end_object(b);
    }
    for (size_t i = 0; i < qmp_system_commands_len; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, qmp_system_commands[i].name);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return obj_node(b);
}

static const QmpCommand *qmp_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(qmp_commands); i++) {
        if (!strcmp(qmp_commands[i].name, name)) {
            return &qmp_commands[i];
        }
    }
    for (size_t i = 0; i < qmp_system_commands_len; i++) {
        if (!strcmp(qmp_system_commands[i].name, name)) {
            return &qmp_system_commands[i];
        }
    }
    return NULL;
}

static bool arg_type_ok(JsonNode *n, const char *type)
{
    GType vt;

    if (!strcmp(type, "any")) {
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        return false;
    }
    vt = json_node_get_value_type(n);
    if (!strcmp(type, "str")) {
        return vt == G_TYPE_STRING;
    }
    if (!strcmp(type, "int")) {
        return vt == G_TYPE_INT64;
    }
    if (!strcmp(type, "bool")) {
        return vt == G_TYPE_BOOLEAN;
    }
    return false;
}

/* QEMU's visitor messages (qapi/qobject-input-visitor.c). */
static bool qmp_check_args(const QmpCommand *cmd, JsonObject *args, Error **errp)
{
    GList *members = json_object_get_members(args);
    bool ok = true;

    for (int i = 0; i < 4 && cmd->args[i].name; i++) {
        const QmpArg *a = &cmd->args[i];
        JsonNode *n = json_object_get_member(args, a->name);

        if (!n) {
            if (!a->optional) {
                error_setg(errp, "Parameter '%s' is missing", a->name);
                ok = false;
                goto out;
            }
        } else if (!arg_type_ok(n, a->type)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s", a->name,
                       !strcmp(a->type, "str") ? "string" :
                       !strcmp(a->type, "int") ? "integer" : "boolean");
            ok = false;
            goto out;
        }
    }
    for (GList *l = cmd->extra_args ? NULL : members; l; l = l->next) {
        bool known = false;
        for (int i = 0; i < 4 && cmd->args[i].name; i++) {
            known |= !strcmp(cmd->args[i].name, l->data);
        }
        if (!known) {
            error_setg(errp, "Parameter '%s' is unexpected", (const char *)l->data);
            ok = false;
            goto out;
        }
    }
out:
    g_list_free(members);
    return ok;
}

JsonNode *qmp_execute(const char *name, JsonObject *args, Error **errp)
{
    const QmpCommand *cmd = qmp_find(name);
    JsonObject *empty = args ? NULL : json_object_new();
    JsonNode *ret = NULL;

    if (!cmd || !cmd->fn) {
        error_setg(errp, "The command %s has not been found", name);
    } else if (qmp_check_args(cmd, args ? args : empty, errp)) {
        ret = cmd->fn(args ? args : empty, errp);
    }
    if (empty) {
        json_object_unref(empty);
    }
    return ret;
}

/* --- output --- */

static void json_put_indent(GString *out, int level)
{
    g_string_append(out, "\r\n");
    for (int i = 0; i < level; i++) {
        g_string_append(out, "    ");
    }
}

/*
 * A string as QEMU writes it (qobject/qjson.c): the JSON short escapes for quote, backslash
 * and \b\f\n\r\t, and every other code point outside printable ASCII as \uXXXX with
 * upper-case digits (a surrogate pair beyond the BMP, U+FFFD for bytes that are not UTF-8).
 */
static void json_put_string(GString *out, const char *str)
{
    const char *p = str;

    g_string_append_c(out, '"');
    while (*p) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            c = 0xfffd;
            p++;
        } else {
            p = g_utf8_next_char(p);
        }
        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (c > 0xffff) {
                c -= 0x10000;
                g_string_append_printf(out, "\\u%04X\\u%04X", 0xd800 + (c >> 10),
                                       0xdc00 + (c & 0x3ff));
            } else if (c < 0x20 || c >= 0x7f) {
                g_string_append_printf(out, "\\u%04X", c);
            } else {
                g_string_append_c(out, (char)c);
            }
        }
    }
    g_string_append_c(out, '"');
}

/*
 * JSON text as QEMU's monitor sends it: "key": value pairs separated by ", " on one line,
 * or with pretty=on one member a line indented by four spaces, an empty object or array
 * still opened and closed on two lines.  json-glib's generator is correct JSON but spaced
 * differently, and clients that compare bytes (or log diffs) see the difference.
 */
static void json_put_node(GString *out, JsonNode *n, bool pretty, int level)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(n);
        /* Insertion order (json-glib keeps it), which is the order the commands build. */
        GList *members = json_object_get_members(o);
        bool first = true;

        g_string_append_c(out, '{');
        for (GList *m = members; m; m = m->next) {
            const char *key = m->data;
            JsonNode *v = json_object_get_member(o, key);

            if (!first) {
                g_string_append_c(out, ',');
            }
            if (pretty) {
                json_put_indent(out, level + 1);
            } else if (!first) {
                g_string_append_c(out, ' ');
            }
            json_put_string(out, key);
            g_string_append(out, ": ");
            json_put_node(out, v, pretty, level + 1);
            first = false;
        }
        g_list_free(members);
        if (pretty) {
            json_put_indent(out, level);
        }
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        guint len = json_array_get_length(a);

        g_string_append_c(out, '[');
        for (guint i = 0; i < len; i++) {
            if (i) {
                g_string_append_c(out, ',');
            }
            if (pretty) {
                json_put_indent(out, level + 1);
            } else if (i) {
                g_string_append_c(out, ' ');
            }
            json_put_node(out, json_array_get_element(a, i), pretty, level + 1);
        }
        if (pretty) {
            json_put_indent(out, level);
        }
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(n)) {
        case G_TYPE_BOOLEAN:
            g_string_append(out, json_node_get_boolean(n) ? "true" : "false");
            break;
        case G_TYPE_DOUBLE: {
            /* QEMU: %.17g, enough digits to read back the same double. */
            double d = json_node_get_double(n);
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.17g", d));
            break;
        }
        case G_TYPE_STRING:
            json_put_string(out, json_node_get_string(n));
            break;
        default:
            if (qmp_u64_nodes && g_hash_table_contains(qmp_u64_nodes, n)) {
                g_string_append_printf(out, "%" PRIu64, (uint64_t)json_node_get_int(n));
                break;
            }
            g_string_append_printf(out, "%" PRId64, (int64_t)json_node_get_int(n));
            break;
        }
        break;
    }
}

char *qmp_json_format(JsonNode *n, bool pretty)
{
    GString *out = g_string_new(NULL);

    json_put_node(out, n, pretty, 0);
    return g_string_free(out, FALSE);
}

static void qmp_send(QmpSession *s, JsonNode *root)
{
    char *text = qmp_json_format(root, s->pretty);

    s->output(s->opaque, text, strlen(text));
    s->output(s->opaque, "\r\n", 2);
    g_free(text);
}

/* A reply: at once, or held for the main loop (see hold_replies); then take no more input. */
static void qmp_send_reply(QmpSession *s, JsonNode *root)
{
    char *text;

    if (!s->hold_replies) {
        qmp_send(s, root);
        return;
    }
    text = qmp_json_format(root, s->pretty);
    if (!s->held_reply) {
        s->held_reply = g_string_new(NULL);
    }
    g_string_append(s->held_reply, text);
    g_string_append(s->held_reply, "\r\n");
    g_free(text);
    s->splitter.pause = true;
}

static void qmp_reply(QmpSession *s, JsonNode *ret, Error *err, JsonNode *id)
{
    JsonObject *o = json_object_new();
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);

    if (err) {
        JsonObject *e = json_object_new();
        json_object_set_string_member(e, "class", error_class_name(error_get_class(err)));
        json_object_set_string_member(e, "desc", error_get_pretty(err));
        json_object_set_object_member(o, "error", e);
        error_free(err);
    } else {
        json_object_set_member(o, "return", ret ? ret : qmp_empty_object());
    }
    if (id) {
        JsonNode *copy = json_node_copy(id);

        /* A value node is copied, containers share their members: keep uint64 marks. */
        if (qmp_u64_nodes && g_hash_table_contains(qmp_u64_nodes, id)) {
            g_hash_table_add(qmp_u64_nodes, copy);
        }
        json_object_set_member(o, "id", copy);
    }
    json_node_take_object(root, o);
    qmp_send_reply(s, root);
    json_node_unref(root);
}

/* --- dispatch --- */

/* "enable": an array of capability names; "oob" is the only one (QEMU's QMPCapability). */
static JsonNode *qmp_capabilities(QmpSession *s, JsonNode *enable, Error **errp)
{
    bool oob = false;

    if (enable) {
        JsonArray *a;

        if (!JSON_NODE_HOLDS_ARRAY(enable)) {
            error_setg(errp, "Invalid parameter type for 'enable', expected: array");
            return NULL;
        }
        a = json_node_get_array(enable);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
                error_setg(errp, "Invalid parameter type for 'enable[%u]', expected: string",
                           i);
                return NULL;
            }
            if (strcmp(json_node_get_string(e), "oob")) {
                /* QEMU's text, 'null' included (the visitor has no name for the element). */
                error_setg(errp, "Parameter 'null' does not accept value '%s'",
                           json_node_get_string(e));
                return NULL;
            }
            oob = true;
        }
    }
    s->oob = oob;
    s->negotiated = true;
    return qmp_empty_object();
}

static JsonNode *qmp_dispatch(QmpSession *s, JsonNode *req, Error **errp)
{
    JsonObject *o, *args = NULL;
    JsonNode *exec, *argn;
    const QmpCommand *cmd;
    const char *name;
    GList *members;
    JsonNode *ret;
    bool oob = false;

    if (!JSON_NODE_HOLDS_OBJECT(req)) {
        error_setg(errp, "QMP input must be a JSON object");
        return NULL;
    }
    o = json_node_get_object(req);
    /*
     * QEMU's qmp_dispatch_check_obj: "exec-oob" is a key only once "oob" is enabled, and
     * one of "execute" / "exec-oob", a string, names the command.
     */
    exec = NULL;
    members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
        const char *k = l->data;
        JsonNode *v = json_object_get_member(o, k);

        if (!strcmp(k, "execute") || (!strcmp(k, "exec-oob") && s->oob)) {
            if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
                error_setg(errp, "QMP input member '%s' must be a string", k);
                g_list_free(members);
                return NULL;
            }
            if (exec) {
                error_setg(errp, "QMP input member 'execute' clashes with 'exec-oob'");
                g_list_free(members);
                return NULL;
            }
            exec = v;
            oob = !strcmp(k, "exec-oob");
        } else if (!strcmp(k, "arguments")) {
            if (!JSON_NODE_HOLDS_OBJECT(v)) {
                error_setg(errp, "QMP input member 'arguments' must be an object");
                g_list_free(members);
                return NULL;
            }
        } else if (strcmp(k, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", k);
            g_list_free(members);
            return NULL;
        }
    }
    g_list_free(members);
    if (!exec) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return NULL;
    }
    argn = json_object_get_member(o, "arguments");
    name = json_node_get_string(exec);
    /* While negotiating only qmp_capabilities exists (QEMU's qmp_cap_negotiation_commands). */
    if (!s->negotiated && strcmp(name, "qmp_capabilities")) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    cmd = qmp_find(name);
    if (!cmd) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND, "The command %s has not been found",
                  name);
        return NULL;
    }
    /* None of Kite's commands is out-of-band safe (QEMU's are migration recovery ones). */
    if (oob) {
        error_setg(errp, "The command %s does not support OOB", name);
        return NULL;
    }
    if (s->negotiated && !strcmp(name, "qmp_capabilities")) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    args = argn ? json_object_ref(json_node_get_object(argn)) : json_object_new();
    if (!qmp_check_args(cmd, args, errp)) {
        ret = NULL;
    } else if (!cmd->fn) {
        ret = qmp_capabilities(s, json_object_get_member(args, "enable"), errp);
    } else {
        ret = cmd->fn(args, errp);
    }
    json_object_unref(args);
    return ret;
}

/*
 * Checks on json-glib's parse as it builds the tree (its signals come in document order):
 * a key repeated in one object is an error for QEMU, json-glib keeps the last; and the
 * splitter's record of integer literals fixes the int64 nodes json-glib could not fill in.
 */
typedef struct QmpParseCheck {
    GHashTable *keys;           /* JsonObject * -> GHashTable of its member names */
    GArray *ints;               /* the splitter's JsonSplitInt list */
    guint next_int;
    bool duplicate;
} QmpParseCheck;


static void qmp_check_int(QmpParseCheck *pc, JsonNode *n)
{
    const JsonSplitInt *v;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        pc->next_int >= pc->ints->len) {
        return;
    }
    v = &g_array_index(pc->ints, JsonSplitInt, pc->next_int++);
    if (v->kind == JSON_INT_BIG) {
        json_node_set_double(n, v->d);              /* QEMU: beyond (u)int64, a double */
    } else if (v->kind == JSON_INT_U64) {
        json_node_set_int(n, (int64_t)v->u);
        g_hash_table_add(qmp_u64_nodes, n);
    }
}

static void qmp_parse_member(JsonParser *p, JsonObject *o, const char *name, gpointer opaque)
{
    QmpParseCheck *pc = opaque;
    GHashTable *names = g_hash_table_lookup(pc->keys, o);

    if (!names) {
        names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(pc->keys, o, names);
    }
    if (!g_hash_table_add(names, g_strdup(name))) {
        pc->duplicate = true;
    }
    qmp_check_int(pc, json_object_get_member(o, name));
}

static void qmp_parse_element(JsonParser *p, JsonArray *a, int index, gpointer opaque)
{
    qmp_check_int(opaque, json_array_get_element(a, index));
}

static bool qmp_on_message(void *opaque, const char *msg, size_t len)
{
    QmpSession *s = opaque;
    JsonParser *p;
    GError *gerr = NULL;
    Error *err = NULL;
    JsonNode *ret = NULL, *id = NULL, *root;
    QmpParseCheck pc = { .ints = s->splitter.ints };

    if (s->splitter.lex_error) {
        error_setg(&err, "JSON parse error, %s", s->splitter.lex_error);
        qmp_reply(s, NULL, err, NULL);
        return !s->closed;
    }
    if (!qmp_u64_nodes) {
        qmp_u64_nodes = g_hash_table_new(NULL, NULL);
    }
    pc.keys = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_hash_table_unref);
    p = json_parser_new();
    g_signal_connect(p, "object-member", G_CALLBACK(qmp_parse_member), &pc);
    g_signal_connect(p, "array-element", G_CALLBACK(qmp_parse_element), &pc);
    if (!json_parser_load_from_data(p, msg, len, &gerr)) {
        /* QEMU reports every lexical/syntax problem with this one message. */
        error_setg(&err, "JSON parse error, %s", gerr->message);
        g_error_free(gerr);
        qmp_reply(s, NULL, err, NULL);
        goto out;
    }
    if (pc.duplicate) {
        error_setg(&err, "JSON parse error, duplicate key");
        qmp_reply(s, NULL, err, NULL);
        goto out;
    }
    root = json_parser_get_root(p);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        id = json_object_get_member(json_node_get_object(root), "id");
    }
    if (!root) {
        error_setg(&err, "QMP input must be a JSON object");
    } else {
        ret = qmp_dispatch(s, root, &err);
    }
    qmp_reply(s, ret, err, id);
out:
    g_hash_table_remove_all(qmp_u64_nodes);
    g_hash_table_unref(pc.keys);
    g_object_unref(p);
    return !s->closed;
}

static bool qmp_on_split_error(void *opaque, JsonSplitError e)
{
    QmpSession *s = opaque;

    if (e == JSON_SPLIT_BAD_CLOSE) {
        Error *err = NULL;
        error_setg(&err, "JSON parse error, expecting value");
        qmp_reply(s, NULL, err, NULL);
        return true;
    }
    /* Too big or too deep: QEMU drops the client; so do we, the VM is unaffected. */
    s->closed = true;
    if (s->close) {
        s->close(s->opaque);
    }
    return false;
}

void qmp_session_init(QmpSession *s, bool pretty, QmpOutput *output, QmpClose *close,
                      void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->pretty = pretty;
    s->output = output;
    s->close = close;
    s->opaque = opaque;
    json_splitter_init(&s->splitter, qmp_on_message, qmp_on_split_error, s);
    if (!qmp_sessions) {
        qmp_sessions = g_ptr_array_new();
    }
    g_ptr_array_add(qmp_sessions, s);
}

void qmp_session_destroy(QmpSession *s)
{
    g_ptr_array_remove(qmp_sessions, s);
    json_splitter_destroy(&s->splitter);
    if (s->held_reply) {
        g_string_free(s->held_reply, TRUE);
    }
    if (s->inq) {
        g_byte_array_free(s->inq, TRUE);
    }
}

/* Forget held output and queued input (a new client, or the old one went away). */
static void qmp_session_drop_pending(QmpSession *s)
{
    json_splitter_reset(&s->splitter);
    if (s->held_reply) {
        g_string_free(s->held_reply, TRUE);
        s->held_reply = NULL;
    }
    if (s->inq) {
        g_byte_array_set_size(s->inq, 0);
    }
}

void qmp_session_start(QmpSession *s)
{
    JsonParser *p = json_parser_new();
    JsonNode *ver = qmp_query_version(NULL, NULL);
    JsonObject *qmp = json_object_new(), *o = json_object_new();
    JsonArray *caps = json_array_new();
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);

    qmp_session_drop_pending(s);
    s->negotiated = false;
    s->oob = false;
    s->closed = false;
    json_object_set_member(qmp, "version", ver);
    json_array_add_string_element(caps, "oob");
    json_object_set_array_member(qmp, "capabilities", caps);
    json_object_set_object_member(o, "QMP", qmp);
    json_node_take_object(root, o);
    qmp_send(s, root);
    json_node_unref(root);
    g_object_unref(p);
}

/* Feed queued input until a reply is held, the queue is empty or the session closes. */
static void qmp_session_feed_queue(QmpSession *s)
{
    bool ok = true;

    if (s->feeding) {
        return;     /* re-entered from output flow control: the outer call goes on */
    }
    s->feeding = true;
    while (ok && !s->closed && !s->held_reply && s->inq && s->inq->len) {
        size_t n = json_splitter_feed_some(&s->splitter, s->inq->data, s->inq->len, &ok);
        g_byte_array_remove_range(s->inq, 0, ok ? n : s->inq->len);
    }
    s->feeding = false;
}

void qmp_session_input(QmpSession *s, const uint8_t *buf, size_t len)
{
    if (s->closed) {
        return;
    }
    if (!s->hold_replies) {
        json_splitter_feed(&s->splitter, buf, len);
        return;
    }
    if (!s->inq) {
        s->inq = g_byte_array_new();
    }
    g_byte_array_append(s->inq, buf, len);
    qmp_session_feed_queue(s);
}

bool qmp_session_busy(QmpSession *s)
{
    return s->held_reply != NULL;
}

void qmp_session_release(QmpSession *s, bool final)
{
    GString *reply = s->held_reply;

    if (!reply) {
        return;
    }
    s->held_reply = NULL;
    if (!s->closed) {
        s->output(s->opaque, reply->str, reply->len);
    }
    g_string_free(reply, TRUE);
    if (final) {
        /* QEMU's monitor_cleanup: the command in flight is answered, no further one runs. */
        if (s->inq) {
            g_byte_array_set_size(s->inq, 0);
        }
        return;
    }
    qmp_session_feed_queue(s);
}

/* After the main loop has acted on requests: release every session's held reply. */
static void qmp_sessions_release(bool final)
{
    bool more = false;

    for (guint i = 0; qmp_sessions && i < qmp_sessions->len; i++) {
        QmpSession *s = g_ptr_array_index(qmp_sessions, i);
        qmp_session_release(s, final);
        more |= qmp_session_busy(s);
    }
    if (more && !final) {
        /* The next request's reply waits for another round: do not block in between. */
        kite_context_notify(kite_main_context());
    }
}

void qmp_event_send(const char *name, JsonNode *data)
{
    gint64 now = g_get_real_time();
    JsonObject *o = json_object_new(), *ts = json_object_new();
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);

    /* QEMU's order, and no "data" member for an event that has none (STOP, RESUME...). */
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(o, "timestamp", ts);
    json_object_set_string_member(o, "event", name);
    if (data) {
        json_object_set_member(o, "data", data);
    }
    json_node_take_object(root, o);
    for (guint i = 0; qmp_sessions && i < qmp_sessions->len; i++) {
        QmpSession *s = g_ptr_array_index(qmp_sessions, i);
        if (s->negotiated && !s->closed) {
            qmp_send(s, root);
        }
    }
    json_node_unref(root);
}

/* runstate_event_hook: STOP, RESUME, RESET, POWERDOWN, SHUTDOWN with QEMU's data. */
static void qmp_runstate_event(const char *event, ShutdownCause cause)
{
    JsonNode *data = NULL;

    if (!strcmp(event, "RESET") || !strcmp(event, "SHUTDOWN")) {
        JsonObject *o = json_object_new();
        bool guest = cause == SHUTDOWN_CAUSE_GUEST_SHUTDOWN ||
                     cause == SHUTDOWN_CAUSE_GUEST_RESET ||
                     cause == SHUTDOWN_CAUSE_GUEST_PANIC;
        json_object_set_boolean_member(o, "guest", guest);
        json_object_set_string_member(o, "reason", shutdown_cause_name(cause));
        data = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(data, o);
    }
    qmp_event_send(event, data);
}

/* guest_panic_event_hook: GUEST_PANICKED / GUEST_CRASHLOADED {"action": ...}. */
static void qmp_guest_panic_event(const char *event, const char *action)
{
    JsonObject *o = json_object_new();
    JsonNode *data = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(o, "action", action);
    json_node_take_object(data, o);
    qmp_event_send(event, data);
}

static void qmp_block_io_error_send(void *opaque)
{
    qmp_event_send("BLOCK_IO_ERROR", opaque);
}

/*
 * block_io_error_hook: BLOCK_IO_ERROR with QEMU's members; "nospace" only where the error
 * policy distinguishes ENOSPC (QEMU's iostatus: werror=enospc|stop or rerror=stop).  The
 * hook runs in whichever thread completed the request, so the event is sent from the main
 * loop.
 */
static void qmp_block_io_error(BlockBackend *blk, bool is_read, BlockErrorAction action,
                               int error)
{
    BlockDriverState *bs = blk_bs(blk);
    JsonObject *o = json_object_new();
    JsonNode *data = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(o, "device", blk_name(blk));
    if (bs && bdrv_get_node_name(bs)) {
        json_object_set_string_member(o, "node-name", bdrv_get_node_name(bs));
    }
    json_object_set_string_member(o, "operation", is_read ? "read" : "write");
    json_object_set_string_member(o, "action", action == BLOCK_ERROR_ACTION_STOP ? "stop" :
                                  action == BLOCK_ERROR_ACTION_IGNORE ? "ignore" : "report");
    if (blk_get_error_action(blk, false, ENOSPC) == BLOCK_ERROR_ACTION_STOP ||
        blk_get_error_action(blk, true, EIO) == BLOCK_ERROR_ACTION_STOP) {
        json_object_set_boolean_member(o, "nospace", error == ENOSPC);
    }
    json_object_set_string_member(o, "reason", g_strerror(error));
    json_node_take_object(data, o);
    kite_bh_oneshot(kite_main_context(), qmp_block_io_error_send, data);
}

static void qmp_tray_moved_send(void *opaque)
{
    qmp_event_send("DEVICE_TRAY_MOVED", opaque);
}

/*
 * block_tray_moved_hook: DEVICE_TRAY_MOVED as QEMU sends it (the backend's name, tray-open,
 * and the device's id or, without one, its QOM path).  Sent at once under the BQL, so it
 * comes before the reply to the eject that moved the tray, as in QEMU.
 */
static void qmp_block_tray_moved(BlockBackend *blk, bool open)
{
    Object *dev = blk_get_attached_dev(blk);
    JsonObject *o = json_object_new();
    JsonNode *data = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(o, "device", blk_name(blk) ? blk_name(blk) : "");
    json_object_set_boolean_member(o, "tray-open", open);
    if (dev && DEVICE(dev)->id) {
        json_object_set_string_member(o, "id", DEVICE(dev)->id);
    } else if (dev) {
        g_autofree char *path = object_get_canonical_path(dev);
        json_object_set_string_member(o, "id", path ? path : "");
    }
    json_node_take_object(data, o);
    if (bql_locked()) {
        qmp_event_send("DEVICE_TRAY_MOVED", data);
    } else {
        kite_bh_oneshot(kite_main_context(), qmp_tray_moved_send, data);
    }
}

/* --- the chardev glue --- */

/*
 * Output flow control.  The chardev buffers a bounded amount and drops the rest, which
 * would cut a JSON line in two for a client that reads slowly.  Like QEMU's monitor, QMP
 * keeps what the chardev has not taken in its own queue, and reads no further requests
 * until the queue has drained; events still queue.  A client that lets the queue reach
 * QMP_OUTQ_MAX reads nothing at all: it is hung up on, and other monitors never wait.
 */
#define QMP_OUTQ_MAX (16 * MiB)

typedef struct QmpMonitor {
    QmpSession session;
    CharFrontend fe;
    GByteArray *outq;
    bool writable_pending;
    bool input_held;            /* can_receive said 0: tell the chardev when that ends */
} QmpMonitor;

static void qmp_mon_close(void *opaque);

static void qmp_mon_writable(void *opaque);

static void qmp_mon_flush(QmpMonitor *m)
{
    while (m->outq->len) {
        int n = chr_fe_write(&m->fe, m->outq->data, MIN(m->outq->len, (guint)INT_MAX));
        if (n <= 0) {
            break;
        }
        g_byte_array_remove_range(m->outq, 0, n);
    }
    if (m->outq->len && !m->writable_pending) {
        m->writable_pending = true;
        chr_fe_notify_writable(&m->fe, qmp_mon_writable, m);
    }
    if (!m->outq->len && m->input_held && !qmp_session_busy(&m->session)) {
        m->input_held = false;
        chr_fe_accept_input(&m->fe);    /* take requests again */
    }
}

static void qmp_mon_writable(void *opaque)
{
    QmpMonitor *m = opaque;

    m->writable_pending = false;
    qmp_mon_flush(m);
}

static void qmp_mon_output(void *opaque, const char *text, size_t len)
{
    QmpMonitor *m = opaque;

    if (m->session.closed) {
        return;
    }
    if (m->outq->len + len > QMP_OUTQ_MAX) {
        g_byte_array_set_size(m->outq, 0);
        m->session.closed = true;
        qmp_mon_close(m);
        return;
    }
    g_byte_array_append(m->outq, (const uint8_t *)text, len);
    qmp_mon_flush(m);
}

static void qmp_mon_close(void *opaque)
{
    QmpMonitor *m = opaque;
    Chardev *chr = chr_fe_get_driver(&m->fe);
    ChardevClass *cc = chr ? CHARDEV_GET_CLASS(chr) : NULL;

    /* Hang up the peer; a server socket then waits for the next client. */
    if (cc && cc->hangup) {
        cc->hangup(chr);
    }
}

static int qmp_mon_can_receive(void *opaque)
{
    QmpMonitor *m = opaque;

    if (m->outq->len || qmp_session_busy(&m->session)) {
        m->input_held = true;
        return 0;
    }
    return 4096;
}

static void qmp_mon_receive(void *opaque, const uint8_t *buf, int len)
{
    QmpMonitor *m = opaque;
    qmp_session_input(&m->session, buf, len);
}

static void qmp_mon_event(void *opaque, ChrEvent ev)
{
    QmpMonitor *m = opaque;

    if (ev == CHR_EVENT_OPENED) {
        qmp_session_start(&m->session);
    } else if (ev == CHR_EVENT_CLOSED) {
        /* A client vanishing mid-message: forget the partial input and unsent output. */
        qmp_session_drop_pending(&m->session);
        m->session.negotiated = false;
        g_byte_array_set_size(m->outq, 0);
        m->input_held = false;
    }
}

bool qmp_monitor_new(Chardev *chr, bool pretty, Error **errp)
{
    QmpMonitor *m = g_new0(QmpMonitor, 1);

    if (!chr_fe_init(&m->fe, chr, errp)) {
        g_free(m);
        return false;
    }
    m->outq = g_byte_array_new();
    qmp_session_init(&m->session, pretty, qmp_mon_output, qmp_mon_close, m);
    m->session.hold_replies = true;
    main_loop_round_hook = qmp_sessions_release;
    runstate_event_hook = qmp_runstate_event;
    guest_panic_event_hook = qmp_guest_panic_event;
    block_io_error_hook = qmp_block_io_error;
    block_tray_moved_hook = qmp_block_tray_moved;
    chr_fe_set_handlers(&m->fe, qmp_mon_can_receive, qmp_mon_receive, qmp_mon_event, m);
    return true;
}

#else /* !CONFIG_JSON */

bool qmp_monitor_new(Chardev *chr, bool pretty, Error **errp)
{
    error_setg(errp, "QMP needs json-glib: rebuild with -Djson=enabled");
    return false;
}

#endif
