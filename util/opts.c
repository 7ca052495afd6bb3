/*
 * Parser for QEMU-style "key=value,..." option strings.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/opts.h"
#include "kite/cutils.h"

static void opt_free(gpointer p)
{
    KiteOpt *o = p;
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

KiteOpts *kite_opts_new(void)
{
    KiteOpts *opts = g_new0(KiteOpts, 1);
    opts->items = g_ptr_array_new_with_free_func(opt_free);
    return opts;
}

void kite_opts_free(KiteOpts *opts)
{
    if (opts) {
        g_ptr_array_free(opts->items, true);
        g_free(opts);
    }
}

void kite_opts_set(KiteOpts *opts, const char *key, const char *value)
{
    KiteOpt *o = g_new0(KiteOpt, 1);
    o->key = g_strdup(key);
    o->value = g_strdup(value);
    g_ptr_array_add(opts->items, o);
}

/* Read up to an unescaped delimiter (',' or, for keys, also '='); ",," yields ','. */
static const char *get_token(const char *p, bool stop_at_eq, GString *out)
{
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                g_string_append_c(out, ',');
                p += 2;
                continue;
            }
            break;
        }
        if (stop_at_eq && *p == '=') {
            break;
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

KiteOpts *kite_opts_parse(const char *str, const char *implied_key, Error **errp)
{
    KiteOpts *opts = kite_opts_new();
    const char *p = str;
    bool first = true;

    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        g_autoptr(GString) value = g_string_new(NULL);
        const char *after_key = get_token(p, true, key);

        if (*after_key == '=') {
            p = get_token(after_key + 1, false, value);
            if (key->len == 0) {
                error_setg(errp, "empty parameter name before '='");
                goto fail;
            }
            kite_opts_set(opts, key->str, value->str);
        } else if (first && implied_key) {
            /* The whole first element, commas unescaped, is the implied key's value. */
            p = get_token(p, false, value);
            kite_opts_set(opts, implied_key, value->str);
        } else {
            p = after_key;
            if (key->len == 0) {
                error_setg(errp, "empty parameter in '%s'", str);
                goto fail;
            }
            if (g_str_has_prefix(key->str, "no") && key->len > 2) {
                kite_opts_set(opts, key->str + 2, "off");
            } else {
                kite_opts_set(opts, key->str, "on");
            }
        }
        first = false;
        if (*p == ',') {
            p++;
            if (!*p) {
                break;   /* a trailing comma is harmless */
            }
        }
    }
    return opts;

fail:
    kite_opts_free(opts);
    return NULL;
}

static KiteOpt *find_last(KiteOpts *opts, const char *key)
{
    for (guint i = opts->items->len; i-- > 0;) {
        KiteOpt *o = opts->items->pdata[i];
        if (!strcmp(o->key, key)) {
            return o;
        }
    }
    return NULL;
}

bool kite_opts_has(KiteOpts *opts, const char *key)
{
    return find_last(opts, key) != NULL;
}

const char *kite_opts_get(KiteOpts *opts, const char *key)
{
    KiteOpt *last = NULL;

    /* Earlier duplicates are overridden, so they count as used too. */
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        if (!strcmp(o->key, key)) {
            o->used = true;
            last = o;
        }
    }
    return last ? last->value : NULL;
}

char *kite_opts_take(KiteOpts *opts, const char *key)
{
    char *value = g_strdup(kite_opts_get(opts, key));

    for (guint i = opts->items->len; i-- > 0;) {
        KiteOpt *o = opts->items->pdata[i];
        if (!strcmp(o->key, key)) {
            g_ptr_array_remove_index(opts->items, i);
        }
    }
    return value;
}

bool kite_opts_get_bool(KiteOpts *opts, const char *key, bool *val, Error **errp)
{
    const char *s = kite_opts_get(opts, key);

    if (s && !parse_bool(s, val)) {
        error_setg(errp, "parameter '%s' expects 'on' or 'off', not '%s'", key, s);
        return false;
    }
    return true;
}

bool kite_opts_get_uint(KiteOpts *opts, const char *key, uint64_t *val, Error **errp)
{
    const char *s = kite_opts_get(opts, key);

    if (s && !parse_uint64(s, val)) {
        error_setg(errp, "parameter '%s' expects a non-negative number, not '%s'", key, s);
        return false;
    }
    return true;
}

bool kite_opts_get_size(KiteOpts *opts, const char *key, uint64_t default_unit, uint64_t *val,
                        Error **errp)
{
    const char *s = kite_opts_get(opts, key);

    if (s && !parse_size(s, default_unit, val)) {
        error_setg(errp, "parameter '%s' expects a size (e.g. 64M, 2G), not '%s'", key, s);
        return false;
    }
    return true;
}

bool kite_opts_check_unused(KiteOpts *opts, const char *what, Error **errp)
{
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        if (!o->used) {
            error_setg(errp, "%s does not take parameter '%s'", what, o->key);
            return false;
        }
    }
    return true;
}

char *kite_opts_to_string(KiteOpts *opts)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        if (i) {
            g_string_append_c(s, ',');
        }
        g_string_append_printf(s, "%s=", o->key);
        for (const char *c = o->value; *c; c++) {
            if (*c == ',') {
                g_string_append_c(s, ',');
            }
            g_string_append_c(s, *c);
        }
    }
    return g_string_free(s, false);
}
