/*
 * Chardev objects: the abstract "chardev" type, creation from -chardev options and from the
 * legacy -serial/-monitor syntax, the /chardevs registry, and the null backend.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/main-loop.h"
#include "chardev-int.h"
#include <fcntl.h>

static void (*mux_quit_hook)(void);

void chardev_set_mux_quit_hook(void (*hook)(void))
{
    mux_quit_hook = hook;
}

void chardev_mux_quit(void)
{
    if (mux_quit_hook) {
        mux_quit_hook();
    } else {
        exit(0);
    }
}

void chardev_set_filename(Chardev *chr, const char *fmt, ...)
{
    va_list ap;

    g_free(chr->filename);
    va_start(ap, fmt);
    chr->filename = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* --- the abstract type --- */

static void chardev_hup_bh(void *opaque)
{
    Chardev *chr = opaque;

    CHARDEV_GET_CLASS(chr)->hangup(chr);
}

static void chardev_writable_bh(void *opaque)
{
    chardev_be_writable(opaque);
}

static void chardev_instance_init(Object *obj)
{
    Chardev *chr = CHARDEV(obj);

    chr->fd_in = chr->fd_out = -1;
    chr->logfd = -1;
    chr->outbuf = g_byte_array_new();
    chr->writable_bh = kite_bh_new(chardev_writable_bh, chr);
    chr->hup_bh = kite_bh_new(chardev_hup_bh, chr);
}

static void chardev_instance_finalize(Object *obj)
{
    Chardev *chr = CHARDEV(obj);

    chardev_fd_detach(chr);
    kite_bh_delete(chr->writable_bh);
    kite_bh_delete(chr->hup_bh);
    g_byte_array_free(chr->outbuf, true);
    if (chr->logfd >= 0) {
        close(chr->logfd);
    }
    g_free(chr->id);
    g_free(chr->label);
    g_free(chr->filename);
}

/* Input stops for good: the default for backends whose input cannot come back. */
static void chardev_default_hangup(Chardev *chr)
{
    chr->in_eof = true;
    chardev_fd_update(chr);
}

static bool chardev_default_attach(Chardev *chr, CharFrontend *fe, Error **errp)
{
    if (chr->fe) {
        error_setg(errp, "chardev '%s' is already in use (add mux=on to share it)", chr->id);
        return false;
    }
    chr->fe = fe;
    return true;
}

static void chardev_default_detach(Chardev *chr, CharFrontend *fe)
{
    if (chr->fe == fe) {
        chr->fe = NULL;
        chardev_fd_update(chr);
    }
}

static void chardev_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->write = chardev_fd_write;
    cc->accept_input = chardev_fd_update;
    cc->hangup = chardev_default_hangup;
    cc->attach = chardev_default_attach;
    cc->detach = chardev_default_detach;
}

static const TypeInfo chardev_type = {
    .name = TYPE_CHARDEV,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(Chardev),
    .class_size = sizeof(ChardevClass),
    .instance_init = chardev_instance_init,
    .instance_finalize = chardev_instance_finalize,
    .class_init = chardev_class_init,
};
KITE_TYPE_REGISTER(chardev_type)

/* --- null: discards output, never has input --- */

static int null_write(Chardev *chr, const uint8_t *buf, int len)
{
    return len;
}

static bool null_open(Chardev *chr, Error **errp)
{
    chardev_set_filename(chr, "null");
    chr->be_open = true;
    return true;
}

static void null_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->open = null_open;
    cc->write = null_write;
}

static const TypeInfo null_type = {
    .name = TYPE_CHARDEV_PREFIX "null",
    .parent = TYPE_CHARDEV,
    .desc = "discards output, no input",
    .class_init = null_class_init,
};
KITE_TYPE_REGISTER(null_type)

/* --- registry --- */

static Object *chardev_container(void)
{
    return container_get(object_get_root(), "/chardevs");
}

bool chardev_add_to_tree(Chardev *chr, Error **errp)
{
    if (!object_property_add_child(chardev_container(), chr->id, OBJECT(chr), errp)) {
        return false;
    }
    object_unref(chr);   /* the container holds the only reference now */
    return true;
}

Chardev *chardev_find(const char *id)
{
    Object *obj = NULL;
    ObjectProperty *prop = object_property_find(chardev_container(), id);

    if (prop && g_str_has_prefix(prop->type, "child<")) {
        obj = prop->opaque;
    }
    return obj ? (Chardev *)object_dynamic_cast(obj, TYPE_CHARDEV) : NULL;
}

typedef struct ForeachData {
    int (*fn)(Chardev *chr, void *opaque);
    void *opaque;
} ForeachData;

static int foreach_one(Object *child, void *opaque)
{
    ForeachData *d = opaque;
    Chardev *chr = (Chardev *)object_dynamic_cast(child, TYPE_CHARDEV);

    return chr ? d->fn(chr, d->opaque) : 0;
}

int chardev_foreach(int (*fn)(Chardev *chr, void *opaque), void *opaque)
{
    ForeachData d = { fn, opaque };

    return object_child_foreach(chardev_container(), foreach_one, &d);
}

bool chardev_is_mux(Chardev *chr)
{
    return object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_MUX) != NULL;
}

bool chardev_delete(Chardev *chr, Error **errp)
{
    /* A mux's backend counts as busy too: the mux is its frontend. */
    if (chr->n_frontends) {
        error_setg(errp, "chardev '%s' is busy", chr->id);
        return false;
    }
    object_unparent(OBJECT(chr));
    return true;
}

void chardev_print_backends(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_CHARDEV, false);

    fprintf(f, "Available chardev backend types:\n");
    for (GSList *l = list; l; l = l->next) {
        const TypeInfo *info = object_class_get_info(l->data);
        const char *name = object_class_get_name(l->data);
        if (g_str_has_prefix(name, TYPE_CHARDEV_PREFIX)) {
            fprintf(f, "  %-10s %s\n", name + strlen(TYPE_CHARDEV_PREFIX),
                    info->desc ? info->desc : "");
        }
    }
    g_slist_free(list);
}

/* --- creation --- */

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static ChardevClass *backend_class(const char *backend, Error **errp)
{
    g_autofree char *typename = g_strconcat(TYPE_CHARDEV_PREFIX, backend, NULL);
    ObjectClass *oc = object_class_by_name(typename);

    if (!oc || !object_class_dynamic_cast(oc, TYPE_CHARDEV) || object_class_is_abstract(oc)) {
        error_setg(errp, "unknown chardev backend '%s' (-chardev help lists them)", backend);
        return NULL;
    }
    return CHARDEV_CLASS(oc);
}

/* Parse, check every key was understood, then open: nothing is touched on a bad option. */
static Chardev *chardev_create(ChardevClass *cc, const char *backend, const char *id,
                               KiteOpts *opts, Error **errp)
{
    Chardev *chr = CHARDEV(object_new(object_class_get_name(OBJECT_CLASS(cc))));
    g_autofree char *what = g_strdup_printf("chardev backend '%s'", backend);
    const char *logfile = kite_opts_get(opts, "logfile");
    bool logappend = false;

    chr->id = g_strdup(id);
    chr->label = g_strdup(id);
    if ((cc->parse && !cc->parse(chr, opts, errp)) ||
        !kite_opts_get_bool(opts, "logappend", &logappend, errp) ||
        !kite_opts_check_unused(opts, what, errp)) {
        goto fail;
    }
    if (logfile) {
        chr->logfd = open(logfile, O_WRONLY | O_CREAT | O_CLOEXEC |
                          (logappend ? O_APPEND : O_TRUNC), 0666);
        if (chr->logfd < 0) {
            error_setg_errno(errp, errno, "chardev '%s': cannot open logfile '%s'", id,
                             logfile);
            goto fail;
        }
    }
    if (cc->open && !cc->open(chr, errp)) {
        goto fail;
    }
    if (!chardev_add_to_tree(chr, errp)) {
        goto fail;
    }
    return chr;

fail:
    object_unref(chr);
    return NULL;
}

Chardev *chardev_new_from_opts(KiteOpts *opts, Error **errp)
{
    const char *backend = kite_opts_get(opts, "backend");
    const char *id = kite_opts_get(opts, "id");
    g_autofree char *base_id = NULL;
    ChardevClass *cc;
    bool mux = false;
    Chardev *chr, *m;

    if (!backend || !*backend) {
        error_setg(errp, "chardev: parameter 'backend' is missing");
        return NULL;
    }
    if (!id) {
        error_setg(errp, "chardev: parameter 'id' is missing");
        return NULL;
    }
    if (!id_wellformed(id)) {
        error_setg(errp, "chardev: invalid id '%s' (a letter, then letters, digits, "
                   "'-', '.' or '_')", id);
        return NULL;
    }
    if (chardev_find(id)) {
        error_setg(errp, "chardev '%s' already exists", id);
        return NULL;
    }
    if (!kite_opts_get_bool(opts, "mux", &mux, errp)) {
        return NULL;
    }
    cc = backend_class(backend, errp);
    if (!cc) {
        return NULL;
    }
    if (!mux) {
        return chardev_create(cc, backend, id, opts, errp);
    }
    if (object_class_dynamic_cast(OBJECT_CLASS(cc), TYPE_CHARDEV_MUX)) {
        error_setg(errp, "chardev '%s': mux=on on a mux", id);
        return NULL;
    }
    /* As in QEMU: the backend is "<id>-base", the mux that frontends use is "<id>". */
    base_id = g_strdup_printf("%s-base", id);
    if (chardev_find(base_id)) {
        error_setg(errp, "chardev '%s' already exists", base_id);
        return NULL;
    }
    chr = chardev_create(cc, backend, base_id, opts, errp);
    if (!chr) {
        return NULL;
    }
    m = chardev_mux_create(id, chr, errp);
    if (!m) {
        object_unparent(OBJECT(chr));
    }
    return m;
}

/* "tcp:HOST:PORT" or "tcp:[V6]:PORT" into opts. */
static bool legacy_tcp(KiteOpts *opts, const char *hostport, Error **errp)
{
    const char *colon = strrchr(hostport, ':');
    g_autofree char *host = NULL;

    if (!colon || !colon[1]) {
        error_setg(errp, "'tcp:%s' needs HOST:PORT", hostport);
        return false;
    }
    host = g_strndup(hostport, colon - hostport);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }
    kite_opts_set(opts, "host", host);
    kite_opts_set(opts, "port", colon + 1);
    return true;
}

/* A legacy spec to -chardev options (without id). */
static KiteOpts *legacy_to_opts(const char *spec, Error **errp)
{
    static const char *const plain[] = { "null", "stdio", "pty" };
    g_autoptr(KiteOpts) opts = NULL;
    const char *rest;

    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        if (!strcmp(spec, plain[i])) {
            opts = kite_opts_new();
            kite_opts_set(opts, "backend", plain[i]);
            return g_steal_pointer(&opts);
        }
    }
    if (g_str_has_prefix(spec, "file:") || g_str_has_prefix(spec, "pipe:")) {
        if (!spec[5]) {
            error_setg(errp, "'%s' needs a path", spec);
            return NULL;
        }
        opts = kite_opts_new();
        kite_opts_set(opts, "backend", g_str_has_prefix(spec, "file:") ? "file" : "pipe");
        kite_opts_set(opts, "path", spec + 5);
        return g_steal_pointer(&opts);
    }
    if (g_str_has_prefix(spec, "unix:") || g_str_has_prefix(spec, "tcp:")) {
        bool is_unix = spec[0] == 'u';
        const char *addr = spec + (is_unix ? 5 : 4);
        const char *comma = strchr(addr, ',');
        g_autofree char *a = comma ? g_strndup(addr, comma - addr) : g_strdup(addr);

        rest = comma ? comma + 1 : "";
        opts = *rest ? kite_opts_parse(rest, NULL, errp) : kite_opts_new();
        if (!opts) {
            return NULL;
        }
        kite_opts_set(opts, "backend", "socket");
        if (is_unix) {
            if (!*a) {
                error_setg(errp, "'%s' needs a socket path", spec);
                return NULL;
            }
            kite_opts_set(opts, "path", a);
        } else if (!legacy_tcp(opts, a, errp)) {
            return NULL;
        }
        return g_steal_pointer(&opts);
    }
    if (g_str_has_prefix(spec, "vc") || g_str_has_prefix(spec, "telnet:") ||
        g_str_has_prefix(spec, "udp:") || g_str_has_prefix(spec, "/dev/")) {
        error_setg(errp, "chardev '%s' is not supported (use stdio, pty, file:, pipe:, "
                   "unix:, tcp: or null)", spec);
        return NULL;
    }
    error_setg(errp, "unknown chardev spec '%s'", spec);
    return NULL;
}

Chardev *chardev_new_from_legacy(const char *label, const char *spec, Error **errp)
{
    g_autoptr(KiteOpts) opts = NULL;
    bool monitor = false;
    Chardev *chr;

    if (g_str_has_prefix(spec, "mon:")) {
        monitor = true;
        spec += 4;
    }
    if (!strcmp(spec, "none")) {
        if (monitor) {
            error_setg(errp, "'mon:none' has nothing to put the monitor on");
        }
        return NULL;
    }
    if (g_str_has_prefix(spec, "chardev:")) {
        chr = chardev_find(spec + 8);
        if (!chr) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
            return NULL;
        }
        if (monitor) {
            chr->legacy_monitor = true;
        }
        return chr;
    }
    opts = legacy_to_opts(spec, errp);
    if (!opts) {
        return NULL;
    }
    kite_opts_set(opts, "id", label);
    if (monitor) {
        kite_opts_set(opts, "mux", "on");
    }
    chr = chardev_new_from_opts(opts, errp);
    if (chr && monitor) {
        chr->legacy_monitor = true;
    }
    return chr;
}
