/*
 * Start-up helpers: -object, machine-done notifiers, signals, firmware lookup.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/system.h"
#include "kite/runstate.h"
#include "kite/object-interfaces.h"
#include "hw/core/cpu.h"
#include "block/blockdev.h"
#include <glib-unix.h>

Config kite_config;

const Config *system_config(void)
{
    return &kite_config;
}

Chardev *serial_hd(int i)
{
    return i >= 0 && i < MAX_SERIAL_PORTS ? kite_config.serial_hds[i] : NULL;
}

static const TypeInfo user_creatable_type = {
    .name = TYPE_USER_CREATABLE,
    .parent = TYPE_INTERFACE,
    .abstract = true,
    .class_size = sizeof(UserCreatableClass),
};
KITE_TYPE_REGISTER(user_creatable_type)

bool user_object_create(KiteOpts *opts, Error **errp)
{
    g_autofree char *type = kite_opts_take(opts, "qom-type");
    g_autofree char *id = kite_opts_take(opts, "id");
    ObjectClass *oc;
    UserCreatableClass *ucc;
    Object *obj;

    if (!type) {
        error_setg(errp, "-object: the object type is missing");
        return false;
    }
    oc = object_class_by_name(type);
    if (!oc || object_class_is_abstract(oc) ||
        !(ucc = (UserCreatableClass *)object_class_dynamic_cast(oc, TYPE_USER_CREATABLE))) {
        error_setg(errp, "invalid object type: %s", type);
        return false;
    }
    if (!id) {
        error_setg(errp, "-object %s: parameter 'id' is missing", type);
        return false;
    }
    obj = object_new(type);
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        if (!object_property_set_str(obj, o->key, o->value, errp)) {
            object_unref(obj);
            return false;
        }
    }
    if (!object_property_add_child(container_get(object_get_root(), "/objects"), id, obj,
                                   errp)) {
        object_unref(obj);
        return false;
    }
    if (ucc->complete && !ucc->complete(obj, errp)) {
        object_unparent(obj);
        object_unref(obj);
        return false;
    }
    object_unref(obj);
    return true;
}

void user_object_print_types(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_USER_CREATABLE, false);

    fprintf(f, "List of user creatable objects:\n");
    for (GSList *l = list; l; l = l->next) {
        fprintf(f, "  %s\n", object_class_get_name(l->data));
    }
    g_slist_free(list);
}

void cpu_print_models(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_CPU, false);

    fprintf(f, "Available CPUs:\n");
    for (GSList *l = list; l; l = l->next) {
        const char *name = object_class_get_name(l->data);
        /* Types are named "<model>-<arch>-cpu": print the model. */
        const char *dash = strchr(name, '-');
        fprintf(f, "  %.*s\n", dash ? (int)(dash - name) : (int)strlen(name), name);
    }
    g_slist_free(list);
}

typedef struct DoneNotifier {
    MachineDoneNotifier *fn;
    void *opaque;
} DoneNotifier;

static GArray *done_notifiers;

void machine_add_done_notifier(MachineDoneNotifier *fn, void *opaque)
{
    DoneNotifier n = { fn, opaque };

    if (!done_notifiers) {
        done_notifiers = g_array_new(false, false, sizeof(DoneNotifier));
    }
    g_array_append_val(done_notifiers, n);
}

void machine_done(MachineState *ms)
{
    for (guint i = 0; done_notifiers && i < done_notifiers->len; i++) {
        DoneNotifier *n = &g_array_index(done_notifiers, DoneNotifier, i);
        n->fn(ms, n->opaque);
    }
}

static gboolean on_signal(gpointer data)
{
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    return G_SOURCE_CONTINUE;
}

void system_install_signal_handlers(void)
{
    /* SIGTERM/SIGHUP/SIGINT end the VM cleanly (terminal restored, status 0 like QEMU). */
    g_unix_signal_add(SIGTERM, on_signal, NULL);
    g_unix_signal_add(SIGHUP, on_signal, NULL);
    g_unix_signal_add(SIGINT, on_signal, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void system_cleanup(void)
{
    /* Close drives so formats write back their metadata and drop image locks. */
    blockdev_close_all();
}

char *firmware_find(const char *name)
{
    const Config *c = system_config();
    const char *builtin[] = { KITE_BUILDDIR "/pc-bios", KITE_SRCDIR "/pc-bios",
                              "/usr/share/kite", "/usr/share/seabios",
                              "/usr/lib/ipxe/qemu", NULL };

    if (g_path_is_absolute(name) || strchr(name, '/')) {
        return g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name) : NULL;
    }
    for (guint i = 0; c->firmware_dirs && i < c->firmware_dirs->len; i++) {
        char *p = g_build_filename(c->firmware_dirs->pdata[i], name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    for (int i = 0; builtin[i]; i++) {
        char *p = g_build_filename(builtin[i], name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    return NULL;
}
