/*
 * Devices and buses: realize/unrealize, reset, GPIO lines, the qtree.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/qdev.h"
#include "kite/log.h"

static BusState *main_system_bus;
static unsigned unattached_count;

DeviceClass *DEVICE_CLASS(const void *klass)
{
    return OBJECT_CLASS_CHECK(DeviceClass, klass, TYPE_DEVICE);
}

DeviceClass *DEVICE_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(DeviceClass, obj, TYPE_DEVICE);
}

DeviceState *DEVICE(const void *obj)
{
    return OBJECT_CHECK(DeviceState, obj, TYPE_DEVICE);
}

BusState *BUS(const void *obj)
{
    return OBJECT_CHECK(BusState, obj, TYPE_BUS);
}

BusClass *BUS_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(BusClass, obj, TYPE_BUS);
}

Object *qdev_get_machine(void)
{
    Object *m = object_resolve_path("/machine", NULL);

    return m ? m : container_get(object_get_root(), "/machine");
}

/* ------------------------------------------------------------- devices */

/* Copy a device type's hooks from its TypeInfo into its class (inherited when NULL). */
static void device_class_base_init(ObjectClass *oc, const TypeInfo *info)
{
    DeviceClass *dc = (DeviceClass *)oc;

    if (info->desc) {
        dc->desc = info->desc;
    }
    if (info->realize) {
        dc->realize = info->realize;
    }
    if (info->unrealize) {
        dc->unrealize = info->unrealize;
    }
    if (info->reset) {
        dc->reset = info->reset;
    }
    if (info->vmsd) {
        dc->vmsd = info->vmsd;
    }
    if (info->bus_type) {
        dc->bus_type = info->bus_type;
    }
    /* Creatability is per type: a subtype must ask for it again. */
    dc->user_creatable = info->user_creatable;
    dc->hotpluggable = info->hotpluggable;
}

static void device_unparent(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    if (dev->realized) {
        qdev_unrealize(dev);
    }
    while (dev->child_buses->len) {
        BusState *bus = dev->child_buses->pdata[dev->child_buses->len - 1];
        g_ptr_array_remove_index(dev->child_buses, dev->child_buses->len - 1);
        bus->parent = NULL;
        object_unparent(OBJECT(bus));
    }
}

static void device_class_init(ObjectClass *oc, const void *data)
{
    oc->unparent = device_unparent;
}

static void device_init(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    dev->child_buses = g_ptr_array_new();
    dev->gpios = g_ptr_array_new();
    object_property_add_str_ptr(obj, "id", &dev->id, true);
}

static void device_finalize(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    for (guint i = 0; i < dev->gpios->len; i++) {
        NamedGPIOList *gl = dev->gpios->pdata[i];
        irq_free_array(gl->in, gl->num_in);
        g_free(gl->out);
        g_free(gl->name);
        g_free(gl);
    }
    g_ptr_array_free(dev->gpios, true);
    g_ptr_array_free(dev->child_buses, true);
    g_free(dev->id);
}

static const TypeInfo device_type = {
    .name = TYPE_DEVICE,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(DeviceState),
    .class_size = sizeof(DeviceClass),
    .class_base_init = device_class_base_init,
    .class_init = device_class_init,
    .instance_init = device_init,
    .instance_finalize = device_finalize,
};
KITE_TYPE_REGISTER(device_type)

DeviceState *qdev_try_new(const char *typename, Error **errp)
{
    ObjectClass *oc = object_class_by_name(typename);

    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_setg(errp, "'%s' is not a valid device type", typename);
        return NULL;
    }
    return DEVICE(object_new_checked(typename, errp));
}

DeviceState *qdev_new(const char *typename)
{
    return qdev_try_new(typename, &error_abort);
}

static void bus_add_child(BusState *bus, DeviceState *dev)
{
    object_ref(dev);
    g_ptr_array_add(bus->children, dev);
    dev->parent_bus = bus;
}

static void bus_remove_child(BusState *bus, DeviceState *dev)
{
    dev->parent_bus = NULL;
    if (g_ptr_array_remove(bus->children, dev)) {
        object_unref(dev);
    }
}

void qdev_attach_unattached(DeviceState *dev)
{
    if (!OBJECT(dev)->parent) {
        g_autofree char *name = g_strdup_printf("device[%u]", unattached_count++);
        object_property_add_child(container_get(qdev_get_machine(), "unattached"), name,
                                  OBJECT(dev), &error_abort);
    }
}

bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);
    BusClass *bc;
    Error *err = NULL;
    g_autofree char *path = NULL;

    if (dev->realized) {
        error_setg(errp, "device '%s' is already realized", object_get_typename(OBJECT(dev)));
        return false;
    }
    if (dc->bus_type && !bus) {
        error_setg(errp, "device '%s' needs a bus of type '%s'",
                   object_get_typename(OBJECT(dev)), dc->bus_type);
        return false;
    }
    if (bus) {
        if (!dc->bus_type || !object_dynamic_cast(OBJECT(bus), dc->bus_type)) {
            error_setg(errp, "device '%s' cannot plug into bus '%s' (type '%s')",
                       object_get_typename(OBJECT(dev)), bus->name,
                       object_get_typename(OBJECT(bus)));
            return false;
        }
        bc = BUS_GET_CLASS(bus);
        if (bc->max_dev && (int)bus->children->len >= bc->max_dev) {
            error_setg(errp, "bus '%s' is full", bus->name);
            return false;
        }
        if (bc->check_address && !bc->check_address(bus, dev, errp)) {
            return false;
        }
    }
    qdev_attach_unattached(dev);
    if (bus) {
        bus_add_child(bus, dev);
    }
    if (dc->realize) {
        dc->realize(dev, &err);
        if (err) {
            if (bus) {
                bus_remove_child(bus, dev);
            }
            error_propagate(errp, err);
            return false;
        }
    }
    dev->realized = true;
    OBJECT(dev)->props_frozen = true;
    for (guint i = 0; i < dev->child_buses->len; i++) {
        ((BusState *)dev->child_buses->pdata[i])->realized = true;
    }
    if (dc->vmsd) {
        path = object_get_canonical_path(OBJECT(dev));
        vmstate_register(path, dc->vmsd, dev);
    }
    if (dev->hotplugged) {
        device_cold_reset(dev);
    }
    return true;
}

bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp)
{
    bool ok = qdev_realize(dev, bus, errp);

    object_unref(dev);
    return ok;
}

void qbus_unrealize(BusState *bus)
{
    while (bus->children->len) {
        DeviceState *child = bus->children->pdata[bus->children->len - 1];
        object_ref(child);
        if (child->realized) {
            qdev_unrealize(child);
        } else {
            bus_remove_child(bus, child);
        }
        object_unparent(OBJECT(child));
        object_unref(child);
    }
    bus->realized = false;
}

void qdev_unrealize(DeviceState *dev)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);

    if (!dev->realized) {
        return;
    }
    for (guint i = dev->child_buses->len; i-- > 0;) {
        qbus_unrealize(dev->child_buses->pdata[i]);
    }
    if (dc->vmsd) {
        vmstate_unregister(dc->vmsd, dev);
    }
    if (dc->unrealize) {
        dc->unrealize(dev);
    }
    dev->realized = false;
    OBJECT(dev)->props_frozen = false;
    if (dev->parent_bus) {
        bus_remove_child(dev->parent_bus, dev);
    }
}

void bus_cold_reset(BusState *bus)
{
    for (guint i = 0; i < bus->children->len; i++) {
        device_cold_reset(bus->children->pdata[i]);
    }
}

void device_cold_reset(DeviceState *dev)
{
    DeviceClass *dc = DEVICE_GET_CLASS(dev);

    kite_log_mask(LOG_RESET, "reset %s", object_get_typename(OBJECT(dev)));
    if (dc->reset) {
        dc->reset(dev);
    }
    for (guint i = 0; i < dev->child_buses->len; i++) {
        bus_cold_reset(dev->child_buses->pdata[i]);
    }
}

/* --------------------------------------------------------------- buses */

static void bus_init(Object *obj)
{
    BUS(obj)->children = g_ptr_array_new();
}

static void bus_finalize(Object *obj)
{
    BusState *bus = BUS(obj);

    g_ptr_array_free(bus->children, true);
    g_free(bus->name);
}

static const TypeInfo bus_type = {
    .name = TYPE_BUS,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(BusState),
    .class_size = sizeof(BusClass),
    .instance_init = bus_init,
    .instance_finalize = bus_finalize,
};
KITE_TYPE_REGISTER(bus_type)

static const TypeInfo system_bus_type = {
    .name = TYPE_SYSTEM_BUS,
    .parent = TYPE_BUS,
};
KITE_TYPE_REGISTER(system_bus_type)

static unsigned count_buses_named(const char *prefix);

BusState *qbus_new(const char *typename, DeviceState *parent, const char *name)
{
    BusState *bus = BUS(object_new(typename));

    if (name) {
        bus->name = g_strdup(name);
    } else {
        /* "isa.0", "pci.1": the type name lower-cased plus a machine-wide index. */
        g_autofree char *base = g_ascii_strdown(typename, -1);
        bus->name = g_strdup_printf("%s.%u", base, count_buses_named(base));
    }
    if (parent) {
        bus->parent = parent;
        g_ptr_array_add(parent->child_buses, bus);
        object_property_add_child(OBJECT(parent), bus->name, OBJECT(bus), &error_abort);
        object_unref(bus);
        if (parent->realized) {
            bus->realized = true;
        }
    }
    return bus;
}

BusState *sysbus_get_default(void)
{
    if (!main_system_bus) {
        main_system_bus = qbus_new(TYPE_SYSTEM_BUS, NULL, "main-system-bus");
        main_system_bus->realized = true;
        object_property_add_child(container_get(qdev_get_machine(), "unattached"), "sysbus",
                                  OBJECT(main_system_bus), &error_abort);
        object_unref(main_system_bus);
    }
    return main_system_bus;
}

BusState *qdev_get_child_bus(DeviceState *dev, const char *name)
{
    for (guint i = 0; i < dev->child_buses->len; i++) {
        BusState *bus = dev->child_buses->pdata[i];
        if (!strcmp(bus->name, name)) {
            return bus;
        }
    }
    return NULL;
}

typedef bool BusMatch(BusState *bus, const void *key);

static BusState *bus_walk(BusState *bus, BusMatch *match, const void *key)
{
    if (match(bus, key)) {
        return bus;
    }
    for (guint i = 0; i < bus->children->len; i++) {
        DeviceState *dev = bus->children->pdata[i];
        for (guint j = 0; j < dev->child_buses->len; j++) {
            BusState *found = bus_walk(dev->child_buses->pdata[j], match, key);
            if (found) {
                return found;
            }
        }
    }
    return NULL;
}

static bool match_type(BusState *bus, const void *key)
{
    return object_dynamic_cast(OBJECT(bus), key) != NULL;
}

static bool match_name(BusState *bus, const void *key)
{
    return !strcmp(bus->name, key);
}

BusState *qbus_find_by_type(const char *typename)
{
    return bus_walk(sysbus_get_default(), match_type, typename);
}

BusState *qbus_find_by_name(const char *name)
{
    return bus_walk(sysbus_get_default(), match_name, name);
}

typedef struct CountPrefix {
    const char *prefix;
    unsigned n;
} CountPrefix;

static bool count_prefix(BusState *bus, const void *key)
{
    CountPrefix *cp = (CountPrefix *)key;
    size_t len = strlen(cp->prefix);

    if (!strncmp(bus->name, cp->prefix, len) && bus->name[len] == '.') {
        cp->n++;
    }
    return false;
}

static unsigned count_buses_named(const char *prefix)
{
    CountPrefix cp = { prefix, 0 };

    if (main_system_bus) {
        bus_walk(main_system_bus, count_prefix, &cp);
    }
    return cp.n;
}

/* --------------------------------------------------------------- GPIOs */

static NamedGPIOList *gpio_list(DeviceState *dev, const char *name)
{
    NamedGPIOList *gl;

    for (guint i = 0; i < dev->gpios->len; i++) {
        gl = dev->gpios->pdata[i];
        if (g_strcmp0(gl->name, name) == 0) {
            return gl;
        }
    }
    gl = g_new0(NamedGPIOList, 1);
    gl->name = g_strdup(name);
    g_ptr_array_add(dev->gpios, gl);
    return gl;
}

void qdev_init_gpio_in_named(DeviceState *dev, IRQHandler *handler, const char *name, int n)
{
    NamedGPIOList *gl = gpio_list(dev, name);

    g_assert(!gl->in);
    gl->in = irq_new_array(handler, dev, n);
    gl->num_in = n;
}

void qdev_init_gpio_in(DeviceState *dev, IRQHandler *handler, int n)
{
    qdev_init_gpio_in_named(dev, handler, NULL, n);
}

void qdev_init_gpio_out_named(DeviceState *dev, IRQState **pins, const char *name, int n)
{
    NamedGPIOList *gl = gpio_list(dev, name);

    g_assert(!gl->out);
    gl->out = g_new0(IRQState **, n);
    for (int i = 0; i < n; i++) {
        gl->out[i] = &pins[i];
    }
    gl->num_out = n;
}

void qdev_init_gpio_out(DeviceState *dev, IRQState **pins, int n)
{
    qdev_init_gpio_out_named(dev, pins, NULL, n);
}

IRQState *qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n)
{
    NamedGPIOList *gl = gpio_list(dev, name);

    g_assert(n >= 0 && n < gl->num_in);
    return gl->in[n];
}

IRQState *qdev_get_gpio_in(DeviceState *dev, int n)
{
    return qdev_get_gpio_in_named(dev, NULL, n);
}

void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n, IRQState *irq)
{
    NamedGPIOList *gl = gpio_list(dev, name);

    g_assert(n >= 0 && n < gl->num_out);
    *gl->out[n] = irq;
}

void qdev_connect_gpio_out(DeviceState *dev, int n, IRQState *irq)
{
    qdev_connect_gpio_out_named(dev, NULL, n, irq);
}

/* --------------------------------------------------------------- qtree */

static void print_bus(GString *out, BusState *bus, int indent);

static void print_dev(GString *out, DeviceState *dev, int indent)
{
    ObjectPropertyIter it;
    ObjectProperty *prop;
    BusState *bus = dev->parent_bus;

    g_string_append_printf(out, "%*sdev: %s, id \"%s\"\n", indent, "",
                           object_get_typename(OBJECT(dev)), dev->id ? dev->id : "");
    indent += 2;
    object_property_iter_init(&it, OBJECT(dev));
    while ((prop = object_property_iter_next(&it))) {
        g_autofree char *v = NULL;
        if (!prop->static_prop) {
            continue;
        }
        v = prop->get(OBJECT(dev), prop, NULL);
        g_string_append_printf(out, "%*s%s = %s\n", indent, "", prop->name, v ? v : "");
    }
    object_property_iter_free(&it);
    if (bus && BUS_GET_CLASS(bus)->print_dev) {
        BUS_GET_CLASS(bus)->print_dev(out, dev, indent);
    }
    for (guint i = 0; i < dev->child_buses->len; i++) {
        print_bus(out, dev->child_buses->pdata[i], indent);
    }
}

static void print_bus(GString *out, BusState *bus, int indent)
{
    g_string_append_printf(out, "%*sbus: %s\n", indent, "", bus->name);
    g_string_append_printf(out, "%*stype %s\n", indent + 2, "", object_get_typename(OBJECT(bus)));
    for (guint i = 0; i < bus->children->len; i++) {
        print_dev(out, bus->children->pdata[i], indent + 2);
    }
}

void qdev_print_tree(GString *out)
{
    print_bus(out, sysbus_get_default(), 0);
}

static int find_dev_by_id(Object *obj, void *opaque)
{
    void **args = opaque;
    DeviceState *dev = (DeviceState *)object_dynamic_cast(obj, TYPE_DEVICE);

    if (dev && dev->id && !strcmp(dev->id, args[0])) {
        args[1] = dev;
        return 1;
    }
    return 0;
}

DeviceState *qdev_find(const char *id_or_path)
{
    void *args[2] = { (void *)id_or_path, NULL };
    Object *obj;

    object_child_foreach_recursive(object_get_root(), find_dev_by_id, args);
    if (args[1]) {
        return args[1];
    }
    obj = object_resolve_path_type(id_or_path, TYPE_DEVICE, NULL);
    return obj ? DEVICE(obj) : NULL;
}
