/*
 * QMP commands for networking, as QEMU's qapi/net.json: set_link, netdev_add, netdev_del.
 * The work is the net core's (include/net/net.h); this file turns JSON into its calls.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/qmp-cmds.h"

#ifdef CONFIG_JSON
#include "net/net.h"

JsonNode *qmp_set_link(JsonObject *args, Error **errp)
{
    const char *name = json_object_get_string_member(args, "name");
    bool up = json_object_get_boolean_member(args, "up");

    if (!net_find_client(name)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", name);
        return NULL;
    }
    if (!net_set_link(name, up, errp)) {
        return NULL;
    }
    return qmp_empty_object();
}

/* One member of netdev_add as -netdev text: strings as they are, numbers, on/off. */
static bool member_to_opt(KiteOpts *opts, const char *key, JsonNode *n, Error **errp)
{
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        /* hostfwd/guestfwd: a list of {"str": RULE} (QEMU 5.1+), or of plain strings. */
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (JSON_NODE_HOLDS_OBJECT(e) &&
                json_object_has_member(json_node_get_object(e), "str")) {
                e = json_object_get_member(json_node_get_object(e), "str");
            }
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
                error_setg(errp, "Invalid parameter type for '%s', expected: string", key);
                return false;
            }
            kite_opts_set(opts, key, json_node_get_string(e));
        }
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        error_setg(errp, "Invalid parameter type for '%s'", key);
        return false;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING:
        kite_opts_set(opts, key, json_node_get_string(n));
        return true;
    case G_TYPE_BOOLEAN:
        kite_opts_set(opts, key, json_node_get_boolean(n) ? "on" : "off");
        return true;
    case G_TYPE_INT64: {
        g_autofree char *v = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
        kite_opts_set(opts, key, v);
        return true;
    }
    default:
        error_setg(errp, "Invalid parameter type for '%s'", key);
        return false;
    }
}

JsonNode *qmp_netdev_add(JsonObject *args, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_new();
    g_autoptr(GList) members = json_object_get_members(args);

    for (GList *l = members; l; l = l->next) {
        if (!member_to_opt(opts, l->data, json_object_get_member(args, l->data), errp)) {
            return NULL;
        }
    }
    if (!netdev_add_from_opts(opts, errp)) {
        return NULL;
    }
    return qmp_empty_object();
}

JsonNode *qmp_netdev_del(JsonObject *args, Error **errp)
{
    const char *id = json_object_get_string_member(args, "id");

    if (!net_find_netdev(id)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return NULL;
    }
    if (!netdev_del(id, errp)) {
        return NULL;
    }
    return qmp_empty_object();
}
#endif
