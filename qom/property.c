/*
 * Static (struct field) properties: parsing, printing, defaults and range checks.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/property.h"
#include "kite/cutils.h"

/* ----------------------------------------------------------- integers */

static uint64_t uint_type_max(const PropertyInfo *info)
{
    if (info == &prop_info_uint8) {
        return UINT8_MAX;
    } else if (info == &prop_info_uint16) {
        return UINT16_MAX;
    } else if (info == &prop_info_uint32) {
        return UINT32_MAX;
    }
    return UINT64_MAX;
}

static void store_uint(const PropertyInfo *info, void *field, uint64_t v)
{
    if (info == &prop_info_uint8) {
        *(uint8_t *)field = v;
    } else if (info == &prop_info_uint16) {
        *(uint16_t *)field = v;
    } else if (info == &prop_info_uint32) {
        *(uint32_t *)field = v;
    } else {
        *(uint64_t *)field = v;
    }
}

static uint64_t load_uint(const PropertyInfo *info, const void *field)
{
    if (info == &prop_info_uint8) {
        return *(const uint8_t *)field;
    } else if (info == &prop_info_uint16) {
        return *(const uint16_t *)field;
    } else if (info == &prop_info_uint32) {
        return *(const uint32_t *)field;
    }
    return *(const uint64_t *)field;
}

static bool check_urange(const Property *prop, uint64_t v, Error **errp)
{
    uint64_t lo = prop->has_range ? prop->umin : 0;
    uint64_t hi = prop->has_range ? prop->umax : uint_type_max(prop->info);

    if (v < lo || v > hi) {
        error_setg(errp, "property '%s' value %" PRIu64 " out of range [%" PRIu64 ", %" PRIu64 "]",
                   prop->name, v, lo, hi);
        return false;
    }
    return true;
}

static bool uint_parse(Object *obj, const Property *prop, void *field, const char *text,
                       Error **errp)
{
    uint64_t v;

    if (!parse_uint64(text, &v)) {
        error_setg(errp, "property '%s' expects a non-negative integer, not '%s'",
                   prop->name, text);
        return false;
    }
    if (!check_urange(prop, v, errp)) {
        return false;
    }
    store_uint(prop->info, field, v);
    return true;
}

static char *uint_print(Object *obj, const Property *prop, void *field)
{
    return g_strdup_printf("%" PRIu64, load_uint(prop->info, field));
}

static void uint_default(Object *obj, const Property *prop, void *field)
{
    store_uint(prop->info, field, prop->defval.u);
}

const PropertyInfo prop_info_uint8 = {
    .type = "uint8", .parse = uint_parse, .print = uint_print, .set_default = uint_default,
};
const PropertyInfo prop_info_uint16 = {
    .type = "uint16", .parse = uint_parse, .print = uint_print, .set_default = uint_default,
};
const PropertyInfo prop_info_uint32 = {
    .type = "uint32", .parse = uint_parse, .print = uint_print, .set_default = uint_default,
};
const PropertyInfo prop_info_uint64 = {
    .type = "uint64", .parse = uint_parse, .print = uint_print, .set_default = uint_default,
};

static bool size_parse(Object *obj, const Property *prop, void *field, const char *text,
                       Error **errp)
{
    uint64_t v;

    if (!parse_size(text, 1, &v)) {
        error_setg(errp, "property '%s' expects a size (a number with optional suffix "
                   "B, K, M, G, T), not '%s'", prop->name, text);
        return false;
    }
    if (!check_urange(prop, v, errp)) {
        return false;
    }
    *(uint64_t *)field = v;
    return true;
}

const PropertyInfo prop_info_size = {
    .type = "size", .parse = size_parse, .print = uint_print, .set_default = uint_default,
};

static bool int_parse(Object *obj, const Property *prop, void *field, const char *text,
                      Error **errp)
{
    bool is32 = prop->info == &prop_info_int32;
    int64_t lo = prop->has_range ? prop->imin : is32 ? INT32_MIN : INT64_MIN;
    int64_t hi = prop->has_range ? prop->imax : is32 ? INT32_MAX : INT64_MAX;
    int64_t v;

    if (!parse_int64(text, &v)) {
        error_setg(errp, "property '%s' expects an integer, not '%s'", prop->name, text);
        return false;
    }
    if (v < lo || v > hi) {
        error_setg(errp, "property '%s' value %" PRId64 " out of range [%" PRId64 ", %" PRId64 "]",
                   prop->name, v, lo, hi);
        return false;
    }
    if (is32) {
        *(int32_t *)field = v;
    } else {
        *(int64_t *)field = v;
    }
    return true;
}

static char *int_print(Object *obj, const Property *prop, void *field)
{
    int64_t v = prop->info == &prop_info_int32 ? *(int32_t *)field : *(int64_t *)field;
    return g_strdup_printf("%" PRId64, v);
}

static void int_default(Object *obj, const Property *prop, void *field)
{
    if (prop->info == &prop_info_int32) {
        *(int32_t *)field = prop->defval.i;
    } else {
        *(int64_t *)field = prop->defval.i;
    }
}

const PropertyInfo prop_info_int32 = {
    .type = "int32", .parse = int_parse, .print = int_print, .set_default = int_default,
};
const PropertyInfo prop_info_int64 = {
    .type = "int64", .parse = int_parse, .print = int_print, .set_default = int_default,
};

/* ------------------------------------------------------- bool, string, enum */

static bool bool_parse(Object *obj, const Property *prop, void *field, const char *text,
                       Error **errp)
{
    if (!parse_bool(text, field)) {
        error_setg(errp, "property '%s' expects 'on' or 'off', not '%s'", prop->name, text);
        return false;
    }
    return true;
}

static char *bool_print(Object *obj, const Property *prop, void *field)
{
    return g_strdup(*(bool *)field ? "on" : "off");
}

static void bool_default(Object *obj, const Property *prop, void *field)
{
    *(bool *)field = prop->defval.b;
}

const PropertyInfo prop_info_bool = {
    .type = "bool", .parse = bool_parse, .print = bool_print, .set_default = bool_default,
};

static bool string_parse(Object *obj, const Property *prop, void *field, const char *text,
                         Error **errp)
{
    g_free(*(char **)field);
    *(char **)field = g_strdup(text);
    return true;
}

static char *string_print(Object *obj, const Property *prop, void *field)
{
    const char *s = *(char **)field;
    return g_strdup(s ? s : "");
}

static void string_default(Object *obj, const Property *prop, void *field)
{
    *(char **)field = prop->has_default ? g_strdup(prop->defval.s) : NULL;
}

static void string_release(Object *obj, const Property *prop, void *field)
{
    g_free(*(char **)field);
    *(char **)field = NULL;
}

const PropertyInfo prop_info_string = {
    .type = "str", .parse = string_parse, .print = string_print,
    .set_default = string_default, .release = string_release,
};

static bool enum_parse(Object *obj, const Property *prop, void *field, const char *text,
                       Error **errp)
{
    g_autoptr(GString) choices = g_string_new(NULL);

    for (int i = 0; prop->enum_names[i]; i++) {
        if (!strcmp(prop->enum_names[i], text)) {
            *(int *)field = i;
            return true;
        }
        g_string_append_printf(choices, "%s%s", i ? ", " : "", prop->enum_names[i]);
    }
    error_setg(errp, "property '%s' does not accept '%s' (choose from %s)", prop->name, text,
               choices->str);
    return false;
}

static char *enum_print(Object *obj, const Property *prop, void *field)
{
    int v = *(int *)field;

    for (int i = 0; prop->enum_names[i]; i++) {
        if (i == v) {
            return g_strdup(prop->enum_names[i]);
        }
    }
    return g_strdup_printf("%d", v);
}

static void enum_default(Object *obj, const Property *prop, void *field)
{
    *(int *)field = prop->defval.i;
}

const PropertyInfo prop_info_enum = {
    .type = "enum", .parse = enum_parse, .print = enum_print, .set_default = enum_default,
};

/* ------------------------------------------------------------------ links */

static bool link_parse(Object *obj, const Property *prop, void *field, const char *text,
                       Error **errp)
{
    Object *target = NULL;
    bool ambiguous;

    if (*text) {
        target = object_resolve_path(text, &ambiguous);
        if (!target) {
            error_setg(errp, ambiguous ? "property '%s': path '%s' is ambiguous"
                                       : "property '%s': object '%s' not found",
                       prop->name, text);
            return false;
        }
        if (prop->link_type && !object_dynamic_cast(target, prop->link_type)) {
            error_setg(errp, "property '%s' expects a '%s', not a '%s'", prop->name,
                       prop->link_type, object_get_typename(target));
            return false;
        }
    }
    object_ref(target);
    object_unref(*(Object **)field);
    *(Object **)field = target;
    return true;
}

static char *link_print(Object *obj, const Property *prop, void *field)
{
    Object *target = *(Object **)field;
    return target ? object_get_canonical_path(target) : g_strdup("");
}

static void link_release(Object *obj, const Property *prop, void *field)
{
    object_unref(*(Object **)field);
    *(Object **)field = NULL;
}

const PropertyInfo prop_info_link = {
    .type = "link", .parse = link_parse, .print = link_print, .release = link_release,
};

/* --------------------------------------------------- glue to ObjectProperty */

static char *static_get(Object *obj, ObjectProperty *op, Error **errp)
{
    const Property *prop = op->static_prop;
    return prop->info->print(obj, prop, (char *)obj + prop->offset);
}

static bool static_set(Object *obj, ObjectProperty *op, const char *value, Error **errp)
{
    const Property *prop = op->static_prop;

    if (obj->props_frozen) {
        error_setg(errp, "property '%s' of '%s' cannot be set after the device is realized",
                   prop->name, object_get_typename(obj));
        return false;
    }
    return prop->info->parse(obj, prop, (char *)obj + prop->offset, value, errp);
}

static char *default_as_text(const Property *prop)
{
    if (!prop->has_default) {
        return NULL;
    }
    if (prop->info == &prop_info_bool) {
        return g_strdup(prop->defval.b ? "on" : "off");
    } else if (prop->info == &prop_info_string) {
        return g_strdup(prop->defval.s);
    } else if (prop->info == &prop_info_enum) {
        return g_strdup(prop->enum_names[prop->defval.i]);
    } else if (prop->info == &prop_info_int32 || prop->info == &prop_info_int64) {
        return g_strdup_printf("%" PRId64, prop->defval.i);
    } else if (prop->info == &prop_info_link) {
        return NULL;
    }
    return g_strdup_printf("%" PRIu64, prop->defval.u);
}

void property_add_static_to_class(ObjectClass *klass, const Property *props)
{
    for (const Property *p = props; p->name; p++) {
        g_autofree char *type = p->info == &prop_info_link
            ? g_strdup_printf("link<%s>", p->link_type ? p->link_type : TYPE_OBJECT)
            : g_strdup(p->info->type);
        ObjectProperty *op = object_class_property_add(klass, p->name, type, static_get,
                                                       static_set, NULL);
        op->static_prop = p;
        op->defval = default_as_text(p);
        if (p->description) {
            object_property_set_description(op, p->description);
        }
    }
}

void property_set_defaults(Object *obj, ObjectClass *klass)
{
    ObjectClass *parent = object_class_get_parent(klass);

    if (parent) {
        property_set_defaults(obj, parent);
    }
    for (const Property *p = object_class_get_info(klass)->props; p && p->name; p++) {
        if (p->info->set_default) {
            p->info->set_default(obj, p, (char *)obj + p->offset);
        }
    }
}
