/*
 * QMP commands about the machine's objects: vCPUs (query-cpus-fast, query-hotpluggable-cpus),
 * machine types (query-machines), the QOM tree (qom-list, qom-get, qom-set) and devices
 * (device_add, device_del).  Replies and error texts follow QEMU's QAPI schema
 * (qapi/machine.json, qapi/qom.json, qapi/qdev.json) and QEMU's messages.
 *
 * Kite's QOM properties travel as strings; the property's type name ("bool", "uint16",
 * "str", "link<T>", "child<T>") says how QMP renders a value and which JSON type qom-set
 * accepts, as QEMU's visitors do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "monitor/qmp-cmds.h"

#ifdef CONFIG_JSON
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "hw/qdev.h"
#include "hw/pci/pci.h"
#include "monitor/hmp.h"
#include "block/qmp-block.h"
#include "system/qdev-monitor.h"

/* --- vCPUs --- */

/* Topology of vCPU index i: QEMU's x86 APIC ID order is thread, core, die, socket. */
static void cpu_topo(unsigned i, unsigned *socket, unsigned *die, unsigned *core,
                     unsigned *thread)
{
    MachineState *ms = current_machine();
    SMPConfig one = { .cpus = 1, .sockets = 1, .dies = 1, .cores = 1, .threads = 1 };
    const SMPConfig *smp = ms && ms->smp.threads ? &ms->smp : &one;
    unsigned dies = smp->dies ? smp->dies : 1;

    *thread = i % smp->threads;
    *core = (i / smp->threads) % smp->cores;
    *die = (i / (smp->threads * smp->cores)) % dies;
    *socket = i / (smp->threads * smp->cores * dies);
}

static void add_cpu_props(JsonBuilder *b, unsigned index)
{
    MachineState *ms = current_machine();
    unsigned socket, die, core, thread;

    cpu_topo(index, &socket, &die, &core, &thread);
    json_builder_set_member_name(b, "props");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "core-id");
    json_builder_add_int_value(b, core);
    json_builder_set_member_name(b, "thread-id");
    json_builder_add_int_value(b, thread);
    /* QEMU names the die only when there is more than one per socket. */
    if (ms && ms->smp.dies > 1) {
        json_builder_set_member_name(b, "die-id");
        json_builder_add_int_value(b, die);
    }
    json_builder_set_member_name(b, "socket-id");
    json_builder_add_int_value(b, socket);
    json_builder_end_object(b);
}

static JsonNode *qmp_query_cpus_fast(JsonObject *args, Error **errp)
{
    JsonBuilder *b = json_builder_new();
    CPUState *cpu;
    JsonNode *n;

    json_builder_begin_array(b);
    CPU_FOREACH(cpu) {
        g_autofree char *path = object_get_canonical_path(OBJECT(cpu));
        int tid = __atomic_load_n(&cpu->thread_id, __ATOMIC_ACQUIRE);

        json_builder_begin_object(b);
        /* Before its thread starts a vCPU runs nowhere; QEMU then reports the main thread. */
        json_builder_set_member_name(b, "thread-id");
        json_builder_add_int_value(b, tid ? tid : getpid());
        add_cpu_props(b, cpu->cpu_index);
        json_builder_set_member_name(b, "qom-path");
        json_builder_add_string_value(b, path);
        json_builder_set_member_name(b, "cpu-index");
        json_builder_add_int_value(b, cpu->cpu_index);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, "x86_64");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

/*
 * Every possible vCPU slot up to -smp maxcpus, present ones with their QOM path; like QEMU
 * the list runs from the highest index down.
 */
static JsonNode *qmp_query_hotpluggable_cpus(JsonObject *args, Error **errp)
{
    MachineState *ms = current_machine();
    unsigned max = ms && ms->smp.max_cpus ? ms->smp.max_cpus : (unsigned)cpu_count();
    CPUState *cpu0 = cpu_by_index(0);
    JsonBuilder *b = json_builder_new();
    JsonNode *n;

    json_builder_begin_array(b);
    for (unsigned i = max; i-- > 0;) {
        CPUState *cpu = cpu_by_index(i);

        json_builder_begin_object(b);
        add_cpu_props(b, i);
        json_builder_set_member_name(b, "vcpus-count");
        json_builder_add_int_value(b, 1);
        if (cpu) {
            g_autofree char *path = object_get_canonical_path(OBJECT(cpu));
            json_builder_set_member_name(b, "qom-path");
            json_builder_add_string_value(b, path);
        }
        /* An empty slot would take the same model as the vCPUs there are. */
        if (cpu || cpu0) {
            json_builder_set_member_name(b, "type");
            json_builder_add_string_value(b, object_get_typename(OBJECT(cpu ? cpu : cpu0)));
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

static JsonNode *qmp_query_machines(JsonObject *args, Error **errp)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    JsonBuilder *b = json_builder_new();
    JsonNode *n;

    json_builder_begin_array(b);
    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, mc->name);
        if (mc->alias) {
            json_builder_set_member_name(b, "alias");
            json_builder_add_string_value(b, mc->alias);
        }
        if (mc->is_default) {
            json_builder_set_member_name(b, "is-default");
            json_builder_add_boolean_value(b, true);
        }
        json_builder_set_member_name(b, "cpu-max");
        json_builder_add_int_value(b, mc->max_cpus ? mc->max_cpus : 1);
        /* vCPUs cannot be plugged at run time (yet): say so rather than QEMU's pc "true". */
        json_builder_set_member_name(b, "hotpluggable-cpus");
        json_builder_add_boolean_value(b, false);
        json_builder_set_member_name(b, "numa-mem-supported");
        json_builder_add_boolean_value(b, false);
        json_builder_set_member_name(b, "deprecated");
        json_builder_add_boolean_value(b, false);
        if (mc->default_cpu_type) {
            json_builder_set_member_name(b, "default-cpu-type");
            json_builder_add_string_value(b, mc->default_cpu_type);
        }
        json_builder_set_member_name(b, "default-ram-id");
        json_builder_add_string_value(b, "pc.ram");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    g_slist_free(list);
    n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

/* --- QOM --- */

/* QEMU resolves full paths and unique partial paths (qom/qom-qmp-cmds.c). */
static Object *qom_resolve(const char *path, Error **errp)
{
    bool ambiguous = false;
    Object *obj = object_resolve_path(path, &ambiguous);

    if (!obj) {
        if (ambiguous) {
            error_setg(errp, "Path '%s' is ambiguous", path);
        } else {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", path);
        }
    }
    return obj;
}

/* The JSON type QEMU's visitors use for a property type: 'b'ool, 'i'nteger, 's'tring. */
static char prop_json_kind(const char *type)
{
    if (!strcmp(type, "bool")) {
        return 'b';
    }
    if (g_str_has_prefix(type, "uint") || g_str_has_prefix(type, "int") ||
        !strcmp(type, "size")) {
        return 'i';
    }
    return 's';
}

/* A property's value (Kite's string form) as the JSON value QEMU's visitors produce. */
static JsonNode *prop_value_node(const char *type, const char *val)
{
    JsonNode *n = json_node_alloc();
    char *end;

    switch (prop_json_kind(type)) {
    case 'b':
        return json_node_init_boolean(n, !strcmp(val, "on") || !strcmp(val, "true"));
    case 'i':
        if (type[0] == 'u' || !strcmp(type, "size")) {
            guint64 v = g_ascii_strtoull(val, &end, 0);
            if (*val && !*end) {
                /* json-glib holds gint64; QEMU prints uint64 as unsigned, rare above 2^63. */
                return json_node_init_int(n, (gint64)v);
            }
        } else {
            gint64 v = g_ascii_strtoll(val, &end, 0);
            if (*val && !*end) {
                return json_node_init_int(n, v);
            }
        }
        break;   /* not a plain number (an enum-like print): a string */
    }
    return json_node_init_string(n, val);
}

/*
 * Properties QEMU has on every object ("type") and every device, which Kite's QOM keeps
 * as plain fields: QMP shows them read-only, in QEMU's order.
 */
typedef struct ImplicitProp {
    const char *name;
    const char *type;
    const char *owner;      /* the type that has it; NULL: every object */
} ImplicitProp;

static const ImplicitProp implicit_props[] = {
    { "type", "string", NULL },
    { "parent_bus", "link<bus>", TYPE_DEVICE },
    { "realized", "bool", TYPE_DEVICE },
    { "hotplugged", "bool", TYPE_DEVICE },
    { "hotpluggable", "bool", TYPE_DEVICE },
    /* The machine's -smp topology (QEMU's SMPConfiguration, an object value). */
    { "smp", "SMPConfiguration", TYPE_MACHINE },
};

static const ImplicitProp *implicit_prop(Object *obj, const char *name)
{
    if (object_property_find(obj, name)) {
        return NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(implicit_props); i++) {
        const ImplicitProp *p = &implicit_props[i];
        if (!strcmp(p->name, name) && (!p->owner || object_dynamic_cast(obj, p->owner))) {
            return p;
        }
    }
    return NULL;
}

static JsonNode *implicit_get(Object *obj, const ImplicitProp *p)
{
    JsonNode *n = json_node_alloc();
    DeviceState *dev;

    if (!p->owner) {
        return json_node_init_string(n, object_get_typename(obj));
    }
    if (!strcmp(p->name, "smp")) {
        /* QEMU's member order (machine_get_smp); x86 has no clusters: always 1. */
        const SMPConfig *smp = &MACHINE(obj)->smp;
        JsonObject *o = json_object_new();

        json_object_set_int_member(o, "cpus", smp->cpus);
        json_object_set_int_member(o, "maxcpus", smp->max_cpus);
        json_object_set_int_member(o, "threads", smp->threads);
        json_object_set_int_member(o, "cores", smp->cores);
        json_object_set_int_member(o, "dies", smp->dies);
        json_object_set_int_member(o, "sockets", smp->sockets);
        json_object_set_int_member(o, "clusters", 1);
        json_node_init_object(n, o);
        json_object_unref(o);
        return n;
    }
    dev = DEVICE(obj);
    if (!strcmp(p->name, "parent_bus")) {
        g_autofree char *path = dev->parent_bus ?
                                object_get_canonical_path(OBJECT(dev->parent_bus)) : NULL;
        return json_node_init_string(n, path ? path : "");
    }
    if (!strcmp(p->name, "realized")) {
        return json_node_init_boolean(n, dev->realized);
    }
    if (!strcmp(p->name, "hotplugged")) {
        return json_node_init_boolean(n, dev->hotplugged);
    }
    /* QEMU's device_get_hotpluggable: the type allows it and so does its bus. */
    return json_node_init_boolean(n, DEVICE_GET_CLASS(dev)->hotpluggable &&
                                  (!dev->parent_bus || dev->parent_bus->hotplug_capable));
}

static JsonNode *qmp_qom_list(JsonObject *args, Error **errp)
{
    Object *obj = qom_resolve(json_object_get_string_member(args, "path"), errp);
    ObjectPropertyIter it;
    ObjectProperty *prop;
    JsonBuilder *b;
    JsonNode *n;

    if (!obj) {
        return NULL;
    }
    b = json_builder_new();
    json_builder_begin_array(b);
    for (size_t i = 0; i < G_N_ELEMENTS(implicit_props); i++) {
        const ImplicitProp *p = implicit_prop(obj, implicit_props[i].name);
        if (p) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, p->name);
            json_builder_set_member_name(b, "type");
            json_builder_add_string_value(b, p->type);
            json_builder_end_object(b);
        }
    }
    object_property_iter_init(&it, obj);
    while ((prop = object_property_iter_next(&it))) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, prop->name);
        json_builder_set_member_name(b, "type");
        /* QEMU's qom-list gives name and type only (defaults: device-list-properties). */
        json_builder_add_string_value(b, prop->type);
        json_builder_end_object(b);
    }
    object_property_iter_free(&it);
    json_builder_end_array(b);
    n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

static JsonNode *qmp_qom_get(JsonObject *args, Error **errp)
{
    Object *obj = qom_resolve(json_object_get_string_member(args, "path"), errp);
    const char *name = json_object_get_string_member(args, "property");
    ObjectProperty *prop;
    g_autofree char *val = NULL;

    if (!obj) {
        return NULL;
    }
    prop = object_property_find(obj, name);
    if (!prop) {
        const ImplicitProp *ip = implicit_prop(obj, name);
        if (ip) {
            return implicit_get(obj, ip);
        }
        error_setg(errp, "Property '%s.%s' not found", object_get_typename(obj), name);
        return NULL;
    }
    if (!prop->get) {
        error_setg(errp, "Property '%s.%s' is not readable", object_get_typename(obj), name);
        return NULL;
    }
    val = object_property_get_str(obj, name, errp);
    if (!val) {
        return NULL;
    }
    return prop_value_node(prop->type, val);
}

static JsonNode *qmp_qom_set(JsonObject *args, Error **errp)
{
    Object *obj = qom_resolve(json_object_get_string_member(args, "path"), errp);
    const char *name = json_object_get_string_member(args, "property");
    JsonNode *value = json_object_get_member(args, "value");
    g_autofree char *str = NULL;
    ObjectProperty *prop;
    GType vt = G_TYPE_INVALID;
    Error *err = NULL;

    if (!obj) {
        return NULL;
    }
    prop = object_property_find(obj, name);
    if (!prop && !implicit_prop(obj, name)) {
        error_setg(errp, "Property '%s.%s' not found", object_get_typename(obj), name);
        return NULL;
    }
    if (!prop || !prop->set) {
        error_setg(errp, "Property '%s.%s' is not writable", object_get_typename(obj), name);
        return NULL;
    }
    /*
     * QEMU's words for a device property frozen by realize (hw/core/qdev-properties.c),
     * checked before the value as QEMU's setters do.
     */
    if (obj->props_frozen && prop->static_prop && object_dynamic_cast(obj, TYPE_DEVICE)) {
        DeviceState *dev = DEVICE(obj);
        if (dev->id) {
            error_setg(errp, "Attempt to set property '%s' on device '%s' (type '%s') after "
                       "it was realized", name, dev->id, object_get_typename(obj));
        } else {
            error_setg(errp, "Attempt to set property '%s' on anonymous device (type '%s') "
                       "after it was realized", name, object_get_typename(obj));
        }
        return NULL;
    }
    if (JSON_NODE_HOLDS_VALUE(value)) {
        vt = json_node_get_value_type(value);
    }
    switch (prop_json_kind(prop->type)) {
    case 'b':
        if (vt != G_TYPE_BOOLEAN) {
            error_setg(errp, "Invalid parameter type for '%s', expected: boolean", name);
            return NULL;
        }
        str = g_strdup(json_node_get_boolean(value) ? "on" : "off");
        break;
    case 'i':
        if (vt != G_TYPE_INT64) {
            error_setg(errp, "Invalid parameter type for '%s', expected: integer", name);
            return NULL;
        }
        str = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(value));
        break;
    default:
        if (vt != G_TYPE_STRING) {
            error_setg(errp, "Invalid parameter type for '%s', expected: string", name);
            return NULL;
        }
        str = g_strdup(json_node_get_string(value));
        break;
    }
    if (!object_property_set_str(obj, name, str, &err)) {
        error_propagate(errp, err);
        return NULL;
    }
    return qmp_empty_object();
}

/* --- devices --- */

/* A JSON scalar as the string -device would have carried. */
static char *json_scalar_str(JsonNode *n)
{
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        return NULL;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING:
        return g_strdup(json_node_get_string(n));
    case G_TYPE_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    case G_TYPE_BOOLEAN:
        return g_strdup(json_node_get_boolean(n) ? "on" : "off");
    case G_TYPE_DOUBLE:
        return g_strdup_printf("%.17g", json_node_get_double(n));   /* qnum_to_string */
    default:
        return NULL;
    }
}

/*
 * QEMU's checks in QEMU's order (system/qdev-monitor.c, qdev_device_add_from_qdict): the
 * driver, the bus, then whether the bus can take a device while the machine runs.  After
 * machine creation every device_add is a hotplug, also in prelaunch (-S).
 */
static JsonNode *qmp_device_add(JsonObject *args, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_new();
    const char *driver, *busname;
    ObjectClass *oc;
    DeviceClass *dc;
    BusState *bus = NULL;
    GList *members;

    /*
     * device_add takes its arguments as QemuOpts do (qemu_opts_from_qdict): scalars as
     * text (5 -> "5", true -> "on"), anything else left out, and an id that is not a
     * string ignored.  So {"driver": 5} is an unknown model '5', as in QEMU.
     */
    members = json_object_get_members(args);
    for (GList *l = members; l; l = l->next) {
        JsonNode *n = json_object_get_member(args, l->data);
        g_autofree char *v = json_scalar_str(n);

        if (v && (strcmp(l->data, "id") || json_node_get_value_type(n) == G_TYPE_STRING)) {
            kite_opts_set(opts, l->data, v);
        }
    }
    g_list_free(members);
    driver = kite_opts_get(opts, "driver");
    busname = kite_opts_get(opts, "bus");
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    oc = object_class_by_name(driver);
    if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (object_class_is_abstract(oc)) {
        error_setg(errp, "Parameter 'driver' expects a non-abstract device type");
        return NULL;
    }
    dc = DEVICE_CLASS(oc);
    if (!dc->user_creatable) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device type");
        return NULL;
    }
    if (busname) {
        bus = qbus_find_by_name(busname);
        if (!bus) {
            /* GenericError, as QEMU 7.2 answers (qbus_find). */
            error_setg(errp, "Bus '%s' not found", busname);
            return NULL;
        }
        if (!dc->bus_type || !object_dynamic_cast(OBJECT(bus), dc->bus_type)) {
            error_setg(errp, "Device '%s' can't go on %s bus", driver,
                       object_get_typename(OBJECT(bus)));
            return NULL;
        }
    } else if (dc->bus_type) {
        bus = qbus_find_by_type(dc->bus_type);
        if (!bus) {
            error_setg(errp, "No '%s' bus found for device '%s'", dc->bus_type, driver);
            return NULL;
        }
    }
    if (bus && !bus->hotplug_capable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", bus->name);
        return NULL;
    }
    if (!bus) {
        /* No bus, and the machine has no hotplug handler for bus-less devices (DIMMs). */
        error_setg(errp, "Device '%s' can not be hotplugged on this machine", driver);
        return NULL;
    }
    if (!qdev_device_add(opts, true, errp)) {
        return NULL;
    }
    return qmp_empty_object();
}

static void device_deleted_event(const char *id, const char *path)
{
    JsonObject *o = json_object_new();
    JsonNode *data = json_node_new(JSON_NODE_OBJECT);

    if (id) {
        json_object_set_string_member(o, "device", id);
    }
    json_object_set_string_member(o, "path", path);
    json_node_take_object(data, o);
    qmp_event_send("DEVICE_DELETED", data);
}

/* id is a -device id (under /machine/peripheral) or a QOM path (QEMU's find_device_state). */
static JsonNode *qmp_device_del(JsonObject *args, Error **errp)
{
    const char *id = json_object_get_string_member(args, "id");
    g_autofree char *path = NULL;
    g_autofree char *devid = NULL;
    Object *obj;
    DeviceState *dev;
    DeviceClass *dc;

    if (id[0] == '/') {
        obj = object_resolve_path(id, NULL);
    } else {
        g_autofree char *p = g_strdup_printf("/machine/peripheral/%s", id);
        obj = object_resolve_path(p, NULL);
    }
    if (!obj) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return NULL;
    }
    if (!object_dynamic_cast(obj, TYPE_DEVICE)) {
        error_setg(errp, "%s is not a hotpluggable device", id);
        return NULL;
    }
    dev = DEVICE(obj);
    dc = DEVICE_GET_CLASS(dev);
    if (dev->parent_bus && !dev->parent_bus->hotplug_capable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", dev->parent_bus->name);
        return NULL;
    }
    if (!dc->hotpluggable) {
        error_setg(errp, "Device '%s' does not support hotplugging", object_get_typename(obj));
        return NULL;
    }
    if (!dev->parent_bus) {
        error_setg(errp, "Device '%s' can not be hotplugged on this machine",
                   object_get_typename(obj));
        return NULL;
    }
    /*
     * Surprise removal: unrealize gives back everything realize took.  A bus whose hotplug
     * controller needs the guest's consent would defer this until the guest ejects.
     */
    path = object_get_canonical_path(obj);
    devid = g_strdup(dev->id);
    object_ref(obj);
    qdev_unrealize(dev);
    object_unparent(obj);
    object_unref(obj);
    device_deleted_event(devid, path);
    return qmp_empty_object();
}

static void add_int(JsonBuilder *b, const char *name, int64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

/* One PciDeviceInfo (QEMU's qapi/pci.json), from the device's config space and BARs. */
static void query_pci_device(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    JsonBuilder *b = opaque;
    const uint8_t *c = dev->config;
    uint16_t class = pci_get_word(c + PCI_CLASS_DEVICE);
    const char *desc = pci_class_description(class);

    json_builder_begin_object(b);
    add_int(b, "bus", 0);
    add_int(b, "slot", PCI_SLOT(dev->devfn));
    add_int(b, "function", PCI_FUNC(dev->devfn));
    json_builder_set_member_name(b, "class_info");
    json_builder_begin_object(b);
    if (desc) {
        json_builder_set_member_name(b, "desc");
        json_builder_add_string_value(b, desc);
    }
    add_int(b, "class", class);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_begin_object(b);
    add_int(b, "vendor", pci_get_word(c + PCI_VENDOR_ID));
    add_int(b, "device", pci_get_word(c + PCI_DEVICE_ID));
    if ((c[PCI_HEADER_TYPE] & 0x7f) == 0) {
        add_int(b, "subsystem-vendor", pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID));
        add_int(b, "subsystem", pci_get_word(c + PCI_SUBSYSTEM_ID));
    }
    json_builder_end_object(b);
    if (c[PCI_INTERRUPT_PIN]) {
        add_int(b, "irq", c[PCI_INTERRUPT_LINE]);
    }
    add_int(b, "irq_pin", c[PCI_INTERRUPT_PIN]);
    json_builder_set_member_name(b, "qdev_id");
    json_builder_add_string_value(b, DEVICE(dev)->id ? DEVICE(dev)->id : "");
    json_builder_set_member_name(b, "regions");
    json_builder_begin_array(b);
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        const PCIIORegion *r = &dev->io_regions[i];
        bool io = r->type & PCI_BASE_ADDRESS_SPACE_IO;

        if (!r->size) {
            continue;
        }
        json_builder_begin_object(b);
        add_int(b, "bar", i);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, io ? "io" : "memory");
        add_int(b, "address", (int64_t)r->addr);     /* unmapped: all-ones, -1 as in QEMU */
        add_int(b, "size", (int64_t)r->size);
        if (!io) {
            json_builder_set_member_name(b, "prefetch");
            json_builder_add_boolean_value(b, r->type & PCI_BASE_ADDRESS_MEM_PREFETCH);
            json_builder_set_member_name(b, "mem_type_64");
            json_builder_add_boolean_value(b, r->type & PCI_BASE_ADDRESS_MEM_TYPE_64);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* query-pci: the root bus and its devices, as QEMU's (no PCI-PCI bridges on pc). */
static JsonNode *qmp_query_pci(JsonObject *args, Error **errp)
{
    PCIBus *bus = pci_get_root_bus();
    JsonBuilder *b = json_builder_new();
    JsonNode *n;

    json_builder_begin_array(b);
    if (bus) {
        json_builder_begin_object(b);
        add_int(b, "bus", 0);
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        pci_for_each_device(bus, query_pci_device, b);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    n = json_builder_get_root(b);
    g_object_unref(b);
    return n;
}

const QmpCommand qmp_system_commands[] = {
    { "query-pci", qmp_query_pci },
    { "query-cpus-fast", qmp_query_cpus_fast },
    { "query-hotpluggable-cpus", qmp_query_hotpluggable_cpus },
    { "query-machines", qmp_query_machines, { { "compat-props", "bool", true } } },
    { "qom-list", qmp_qom_list, { { "path", "str" } } },
    { "qom-get", qmp_qom_get, { { "path", "str" }, { "property", "str" } } },
    { "qom-set", qmp_qom_set, { { "path", "str" }, { "property", "str" }, { "value", "any" } } },
    { "device_add", qmp_device_add,
      { { "driver", "any" }, { "bus", "any", true }, { "id", "any", true } }, true },
    { "device_del", qmp_device_del, { { "id", "str" } } },
    { "set_link", qmp_set_link, { { "name", "str" }, { "up", "bool" } } },
    { "netdev_add", qmp_netdev_add, { { "type", "str" }, { "id", "str" } }, true },
    { "netdev_del", qmp_netdev_del, { { "id", "str" } } },
    { "human-monitor-command", qmp_human_monitor_command,
      { { "command-line", "str" }, { "cpu-index", "int", true } } },
    /* Removable media (block/qmp-block.c). */
    { "eject", qmp_block_eject,
      { { "device", "str", true }, { "id", "str", true }, { "force", "bool", true } } },
    { "blockdev-change-medium", qmp_block_change_medium, { { "device", "str", true } }, true },
    { "blockdev-open-tray", qmp_blockdev_open_tray,
      { { "device", "str", true }, { "id", "str", true }, { "force", "bool", true } } },
    { "blockdev-close-tray", qmp_blockdev_close_tray,
      { { "device", "str", true }, { "id", "str", true } } },
    { "blockdev-remove-medium", qmp_blockdev_remove_medium, { { "id", "str" } } },
    { "blockdev-insert-medium", qmp_blockdev_insert_medium,
      { { "id", "str" }, { "node-name", "str" } } },
};
const size_t qmp_system_commands_len = G_N_ELEMENTS(qmp_system_commands);

#endif
