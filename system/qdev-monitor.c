/*
 * -device: creating user devices from options, and the help texts for devices, machines
 * and accelerators.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/qdev-monitor.h"
#include "hw/boards.h"
#include "accel/accel.h"

static unsigned anon_count;

static bool prop_is_settable(ObjectProperty *prop)
{
    return prop->set && prop->static_prop;
}

void qdev_print_props(FILE *f, const char *typename)
{
    ObjectClass *oc = object_class_by_name(typename);
    ObjectPropertyIter it;
    ObjectProperty *prop;
    bool any = false;

    object_class_property_iter_init(&it, oc);
    fprintf(f, "%s options:\n", typename);
    while ((prop = object_property_iter_next(&it))) {
        if (!prop_is_settable(prop)) {
            continue;
        }
        any = true;
        fprintf(f, "  %s=<%s>", prop->name, prop->type);
        if (prop->description) {
            fprintf(f, " - %s", prop->description);
        }
        if (prop->defval) {
            fprintf(f, " (default: %s)", prop->defval);
        }
        if (prop->static_prop && prop->static_prop->enum_names) {
            fprintf(f, " [");
            for (int i = 0; prop->static_prop->enum_names[i]; i++) {
                fprintf(f, "%s%s", i ? ", " : "", prop->static_prop->enum_names[i]);
            }
            fprintf(f, "]");
        }
        fputc('\n', f);
    }
    object_property_iter_free(&it);
    if (!any) {
        fprintf(f, "There are no options for %s.\n", typename);
    }
}

void qdev_print_device_list(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_DEVICE, false);
    GHashTable *by_bus = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *buses = g_ptr_array_new();

    /* Grouped by the bus they plug into, as QEMU groups by category. */
    for (GSList *l = list; l; l = l->next) {
        DeviceClass *dc = l->data;
        const char *bus = dc->bus_type ? dc->bus_type : "no bus";
        GSList *group;
        if (!dc->user_creatable) {
            continue;
        }
        group = g_hash_table_lookup(by_bus, bus);
        if (!group) {
            g_ptr_array_add(buses, (gpointer)bus);
        }
        g_hash_table_insert(by_bus, (gpointer)bus, g_slist_append(group, dc));
    }
    for (guint i = 0; i < buses->len; i++) {
        GSList *group = g_hash_table_lookup(by_bus, buses->pdata[i]);
        fprintf(f, "%s devices:\n", (const char *)buses->pdata[i]);
        for (GSList *l = group; l; l = l->next) {
            DeviceClass *dc = l->data;
            fprintf(f, "name \"%s\", bus %s", object_class_get_name(OBJECT_CLASS(dc)),
                    dc->bus_type ? dc->bus_type : "none");
            if (dc->desc) {
                fprintf(f, ", desc \"%s\"", dc->desc);
            }
            fputc('\n', f);
        }
        fputc('\n', f);
        g_slist_free(group);
    }
    g_ptr_array_free(buses, true);
    g_hash_table_destroy(by_bus);
    g_slist_free(list);
}

void machine_print_list(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);

    fprintf(f, "Supported machines are:\n");
    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;
        if (mc->alias) {
            fprintf(f, "%-20s %s (alias of %s)\n", mc->alias, mc->desc ? mc->desc : "",
                    mc->name);
        }
        fprintf(f, "%-20s %s%s\n", mc->name, mc->desc ? mc->desc : "",
                mc->is_default ? " (default)" : "");
    }
    fprintf(f, "%-20s %s\n", "none", "empty machine (not supported yet)");
    g_slist_free(list);
}

void accel_print_list(FILE *f)
{
    GSList *list = object_class_get_list(TYPE_ACCEL, false);

    fprintf(f, "Accelerators supported in Kite binary:\n");
    for (GSList *l = list; l; l = l->next) {
        fprintf(f, "%s\n", ((AccelClass *)l->data)->name);
    }
    g_slist_free(list);
}

/* Pick the bus: bus=<name> or the first bus of the device's type. */
static BusState *find_bus_for(DeviceClass *dc, const char *busname, Error **errp)
{
    BusState *bus;

    if (busname) {
        bus = qbus_find_by_name(busname);
        if (!bus) {
            error_setg(errp, "Bus '%s' not found", busname);
            return NULL;
        }
        if (!dc->bus_type || !object_dynamic_cast(OBJECT(bus), dc->bus_type)) {
            error_setg(errp, "Bus '%s' is not of type '%s'", busname,
                       dc->bus_type ? dc->bus_type : "none");
            return NULL;
        }
        return bus;
    }
    if (!dc->bus_type) {
        return NULL;
    }
    bus = qbus_find_by_type(dc->bus_type);
    if (!bus) {
        error_setg(errp, "No '%s' bus found for device '%s'", dc->bus_type,
                   object_class_get_name(OBJECT_CLASS(dc)));
    }
    return bus;
}

static DeviceState *device_add(KiteOpts *opts, bool hotplug, bool board, Error **errp)
{
    g_autofree char *driver = kite_opts_take(opts, "driver");
    g_autofree char *busname = kite_opts_take(opts, "bus");
    g_autofree char *id = kite_opts_take(opts, "id");
    ObjectClass *oc;
    DeviceClass *dc;
    DeviceState *dev;
    BusState *bus;
    Object *parent;

    if (!driver) {
        error_setg(errp, "-device: the 'driver' parameter is missing");
        return NULL;
    }
    oc = object_class_by_name(driver);
    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        error_append_hint(errp, "Try '-device help' for a list of devices.\n");
        return NULL;
    }
    dc = DEVICE_CLASS(oc);
    if (object_class_is_abstract(oc) || !dc->user_creatable) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device type, not '%s'",
                   driver);
        return NULL;
    }
    if (hotplug && !dc->hotpluggable) {
        error_setg(errp, "Device '%s' does not support hotplugging", driver);
        return NULL;
    }
    if (id && qdev_find(id)) {
        error_setg(errp, "Duplicate device ID '%s'", id);
        return NULL;
    }
    bus = find_bus_for(dc, busname, errp);
    if (dc->bus_type && !bus) {
        return NULL;
    }
    dev = qdev_try_new(driver, errp);
    if (!dev) {
        return NULL;
    }
    dev->id = g_strdup(id);
    dev->hotplugged = hotplug;
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        Error *err = NULL;
        ObjectProperty *prop = object_property_find(OBJECT(dev), o->key);

        if (!prop || !prop_is_settable(prop)) {
            error_setg(errp, "Property '%s.%s' not found", driver, o->key);
            object_unref(dev);
            return NULL;
        }
        if (!object_property_set_str(OBJECT(dev), o->key, o->value, &err)) {
            error_propagate(errp, err);
            error_prepend(errp, "-device %s: ", driver);
            object_unref(dev);
            return NULL;
        }
        o->used = true;
    }
    parent = container_get(qdev_get_machine(), id ? "peripheral" : "peripheral-anon");
    if (board && !id) {
        /* Realize puts it in /machine/unattached. */
    } else if (id) {
        if (!object_property_add_child(parent, id, OBJECT(dev), errp)) {
            object_unref(dev);
            return NULL;
        }
    } else {
        g_autofree char *name = g_strdup_printf("device[%u]", anon_count++);
        object_property_add_child(parent, name, OBJECT(dev), &error_abort);
    }
    if (!qdev_realize(dev, bus, errp)) {
        object_unparent(OBJECT(dev));
        object_unref(dev);
        return NULL;
    }
    object_unref(dev);
    return dev;
}

DeviceState *qdev_device_add(KiteOpts *opts, bool hotplug, Error **errp)
{
    return device_add(opts, hotplug, false, errp);
}

DeviceState *qdev_device_add_board(KiteOpts *opts, Error **errp)
{
    return device_add(opts, false, true, errp);
}
