/*
 * Type registry, classes, interfaces, objects, the composition tree and dynamic properties.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/object.h"
#include "kite/property.h"
#include "kite/cutils.h"

struct TypeImpl {
    const TypeInfo *info;
    const char *name;
    struct TypeImpl *parent;
    size_t class_size, instance_size;
    ObjectClass *klass;
    GPtrArray *iface_types;      /* of TypeImpl *: interfaces declared by this type */
};

static GHashTable *type_table;   /* name -> TypeImpl * */
static GRecMutex type_lock;

typedef struct GlobalProp {
    char *typename, *prop, *value;
} GlobalProp;
static GPtrArray *global_props;

static void type_initialize(Type ti);

/* ------------------------------------------------------------------ types */

static GHashTable *type_get_table(void)
{
    if (!type_table) {
        type_table = g_hash_table_new(g_str_hash, g_str_equal);
    }
    return type_table;
}

Type type_register_static(const TypeInfo *info)
{
    Type ti = g_new0(struct TypeImpl, 1);

    g_assert(info->name);
    if (g_hash_table_lookup(type_get_table(), info->name)) {
        fprintf(stderr, "type '%s' registered twice\n", info->name);
        abort();
    }
    ti->info = info;
    ti->name = info->name;
    g_hash_table_insert(type_get_table(), (gpointer)info->name, ti);
    return ti;
}

static Type type_by_name(const char *name)
{
    return name ? g_hash_table_lookup(type_get_table(), name) : NULL;
}

static Type type_parent(Type ti)
{
    if (!ti->parent && ti->info->parent) {
        ti->parent = type_by_name(ti->info->parent);
        if (!ti->parent) {
            fprintf(stderr, "type '%s' has unknown parent '%s'\n", ti->name, ti->info->parent);
            abort();
        }
    }
    return ti->parent;
}

static bool type_is_ancestor(Type ti, Type ancestor)
{
    for (; ti; ti = type_parent(ti)) {
        if (ti == ancestor) {
            return true;
        }
    }
    return false;
}

static InterfaceClass *new_interface_class(ObjectClass *klass, Type iface, InterfaceClass *from)
{
    InterfaceClass *ic;

    type_initialize(iface);
    ic = g_malloc0(iface->class_size);
    memcpy(ic, from ? (void *)from : (void *)iface->klass, iface->class_size);
    ic->parent_class.type = iface;
    ic->parent_class.interfaces = NULL;
    ic->concrete_class = klass;
    ic->interface_type = iface;
    return ic;
}

static void type_initialize(Type ti)
{
    Type parent;
    ObjectClass *klass;
    GPtrArray *chain;

    g_rec_mutex_lock(&type_lock);
    if (ti->klass) {
        g_rec_mutex_unlock(&type_lock);
        return;
    }
    parent = type_parent(ti);
    if (parent) {
        type_initialize(parent);
    }
    ti->class_size = ti->info->class_size ? ti->info->class_size
                     : parent ? parent->class_size : sizeof(ObjectClass);
    ti->instance_size = ti->info->instance_size ? ti->info->instance_size
                        : parent ? parent->instance_size : sizeof(Object);
    g_assert(!parent || ti->class_size >= parent->class_size);
    g_assert(!parent || ti->instance_size >= parent->instance_size);

    klass = g_malloc0(ti->class_size);
    if (parent) {
        memcpy(klass, parent->klass, parent->class_size);
    }
    klass->type = ti;
    klass->props = g_ptr_array_new();
    klass->prop_index = g_hash_table_new(g_str_hash, g_str_equal);
    klass->interfaces = g_ptr_array_new();

    /* Inherited interfaces get a copy for this class, so it can override their methods. */
    if (parent) {
        for (guint i = 0; i < parent->klass->interfaces->len; i++) {
            InterfaceClass *pic = parent->klass->interfaces->pdata[i];
            g_ptr_array_add(klass->interfaces,
                            new_interface_class(klass, pic->interface_type, pic));
        }
    }
    for (const char *const *n = ti->info->interfaces; n && *n; n++) {
        Type iface = type_by_name(*n);
        bool have = false;
        if (!iface) {
            fprintf(stderr, "type '%s' implements unknown interface '%s'\n", ti->name, *n);
            abort();
        }
        for (guint i = 0; i < klass->interfaces->len; i++) {
            have |= ((InterfaceClass *)klass->interfaces->pdata[i])->interface_type == iface;
        }
        if (!have) {
            g_ptr_array_add(klass->interfaces, new_interface_class(klass, iface, NULL));
        }
    }
    ti->klass = klass;

    /* class_base_init of every ancestor (root first) sees this type's TypeInfo. */
    chain = g_ptr_array_new();
    for (Type t = ti; t; t = type_parent(t)) {
        g_ptr_array_insert(chain, 0, t);
    }
    for (guint i = 0; i < chain->len; i++) {
        Type t = chain->pdata[i];
        if (t->info->class_base_init) {
            t->info->class_base_init(klass, ti->info);
        }
    }
    g_ptr_array_free(chain, true);
    if (ti->info->props) {
        property_add_static_to_class(klass, ti->info->props);
    }
    if (ti->info->class_init) {
        ti->info->class_init(klass, ti->info->class_data);
    }
    g_rec_mutex_unlock(&type_lock);
}

ObjectClass *object_class_by_name(const char *name)
{
    Type ti = type_by_name(name);

    if (!ti) {
        return NULL;
    }
    type_initialize(ti);
    return ti->klass;
}

const char *object_class_get_name(ObjectClass *klass)
{
    return klass->type->name;
}

ObjectClass *object_class_get_parent(ObjectClass *klass)
{
    Type p = type_parent(klass->type);

    if (!p) {
        return NULL;
    }
    type_initialize(p);
    return p->klass;
}

bool object_class_is_abstract(ObjectClass *klass)
{
    return klass->type->info->abstract;
}

const TypeInfo *object_class_get_info(ObjectClass *klass)
{
    return klass->type->info;
}

ObjectClass *object_class_dynamic_cast(ObjectClass *klass, const char *typename)
{
    Type target;

    if (!klass) {
        return NULL;
    }
    /* Fast path: exact match by name pointer or string. */
    if (klass->type->name == typename || !strcmp(klass->type->name, typename)) {
        return klass;
    }
    target = type_by_name(typename);
    if (!target) {
        return NULL;
    }
    if (type_is_ancestor(klass->type, target)) {
        return klass;
    }
    if (klass->interfaces) {
        for (guint i = 0; i < klass->interfaces->len; i++) {
            InterfaceClass *ic = klass->interfaces->pdata[i];
            if (type_is_ancestor(ic->interface_type, target)) {
                return &ic->parent_class;
            }
        }
    }
    return NULL;
}

ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass, const char *typename,
                                              const char *file, int line, const char *func)
{
    ObjectClass *ret = object_class_dynamic_cast(klass, typename);

    if (!ret && klass) {
        fprintf(stderr, "%s:%d:%s: class '%s' is not a '%s'\n", file, line, func,
                klass->type->name, typename);
        abort();
    }
    return ret;
}

static gint class_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(object_class_get_name((ObjectClass *)a),
                  object_class_get_name((ObjectClass *)b));
}

GSList *object_class_get_list(const char *implements_type, bool include_abstract)
{
    GSList *list = NULL;
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, type_get_table());
    while (g_hash_table_iter_next(&it, &key, &value)) {
        Type ti = value;
        type_initialize(ti);
        if (!include_abstract && ti->info->abstract) {
            continue;
        }
        if (implements_type && !object_class_dynamic_cast(ti->klass, implements_type)) {
            continue;
        }
        list = g_slist_prepend(list, ti->klass);
    }
    return g_slist_sort(list, class_name_cmp);
}

/* ---------------------------------------------------------------- objects */

static void prop_free(gpointer p)
{
    ObjectProperty *prop = p;

    g_free(prop->name);
    g_free(prop->type);
    g_free(prop->description);
    g_free(prop->defval);
    g_free(prop->link_type);
    g_free(prop);
}

static void apply_globals(Object *obj)
{
    if (!global_props) {
        return;
    }
    for (guint i = 0; i < global_props->len; i++) {
        GlobalProp *g = global_props->pdata[i];
        Error *err = NULL;

        if (!object_class_dynamic_cast(obj->klass, g->typename)) {
            continue;
        }
        if (!object_property_set_str(obj, g->prop, g->value, &err)) {
            error_prepend(&err, "-global %s.%s=%s: ", g->typename, g->prop, g->value);
            error_report_err(err);
            exit(1);
        }
    }
}

static void object_init_with_type(Object *obj, Type ti)
{
    if (type_parent(ti)) {
        object_init_with_type(obj, type_parent(ti));
    }
    if (ti->info->instance_init) {
        ti->info->instance_init(obj);
    }
}

static void object_post_init_with_type(Object *obj, Type ti)
{
    if (type_parent(ti)) {
        object_post_init_with_type(obj, type_parent(ti));
    }
    if (ti->info->instance_post_init) {
        ti->info->instance_post_init(obj);
    }
}

Object *object_new_checked(const char *typename, Error **errp)
{
    Type ti = type_by_name(typename);
    Object *obj;

    if (!ti) {
        error_setg(errp, "unknown type '%s'", typename);
        return NULL;
    }
    type_initialize(ti);
    if (ti->info->abstract) {
        error_setg(errp, "type '%s' is abstract", typename);
        return NULL;
    }
    obj = g_malloc0(ti->instance_size);
    obj->klass = ti->klass;
    obj->ref = 1;
    obj->props = g_ptr_array_new_with_free_func(prop_free);
    obj->prop_index = g_hash_table_new(g_str_hash, g_str_equal);
    property_set_defaults(obj, ti->klass);
    object_init_with_type(obj, ti);
    apply_globals(obj);
    object_post_init_with_type(obj, ti);
    return obj;
}

Object *object_new(const char *typename)
{
    return object_new_checked(typename, &error_abort);
}

static void object_release_static_props(Object *obj, Type ti)
{
    for (; ti; ti = type_parent(ti)) {
        for (const Property *p = ti->info->props; p && p->name; p++) {
            if (p->info->release) {
                p->info->release(obj, p, (char *)obj + p->offset);
            }
        }
    }
}

static void object_finalize(Object *obj)
{
    /* Instance properties go first: child<> releases drop the children. */
    while (obj->props->len) {
        ObjectProperty *prop = g_ptr_array_index(obj->props, obj->props->len - 1);
        object_property_del(obj, prop->name);
    }
    for (Type ti = obj->klass->type; ti; ti = type_parent(ti)) {
        if (ti->info->instance_finalize) {
            ti->info->instance_finalize(obj);
        }
    }
    object_release_static_props(obj, obj->klass->type);
    g_ptr_array_free(obj->props, true);
    g_hash_table_destroy(obj->prop_index);
    g_free(obj->name);
    g_free(obj);
}

Object *object_ref(void *o)
{
    Object *obj = o;

    if (obj) {
        __atomic_add_fetch(&obj->ref, 1, __ATOMIC_RELAXED);
    }
    return obj;
}

void object_unref(void *o)
{
    Object *obj = o;

    if (!obj) {
        return;
    }
    g_assert(obj->ref > 0);
    if (__atomic_sub_fetch(&obj->ref, 1, __ATOMIC_ACQ_REL) == 0) {
        object_finalize(obj);
    }
}

const char *object_get_typename(const Object *obj)
{
    return obj->klass->type->name;
}

ObjectClass *object_get_class(const Object *obj)
{
    return obj->klass;
}

Object *object_dynamic_cast(Object *obj, const char *typename)
{
    if (obj && object_class_dynamic_cast(obj->klass, typename)) {
        return obj;
    }
    return NULL;
}

Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line, const char *func)
{
    if (obj && !object_dynamic_cast(obj, typename)) {
        fprintf(stderr, "%s:%d:%s: object of type '%s' is not a '%s'\n", file, line, func,
                object_get_typename(obj), typename);
        abort();
    }
    return obj;
}

/* ------------------------------------------------------------ properties */

static ObjectProperty *prop_new(const char *name, const char *type, ObjectPropertyGet *get,
                                ObjectPropertySet *set, ObjectPropertyRelease *release,
                                void *opaque)
{
    ObjectProperty *prop = g_new0(ObjectProperty, 1);

    prop->name = g_strdup(name);
    prop->type = g_strdup(type);
    prop->get = get;
    prop->set = set;
    prop->release = release;
    prop->opaque = opaque;
    return prop;
}

ObjectProperty *object_class_property_find(ObjectClass *klass, const char *name)
{
    for (; klass; klass = object_class_get_parent(klass)) {
        ObjectProperty *prop = g_hash_table_lookup(klass->prop_index, name);
        if (prop) {
            return prop;
        }
    }
    return NULL;
}

ObjectProperty *object_property_find(Object *obj, const char *name)
{
    ObjectProperty *prop = object_class_property_find(obj->klass, name);

    return prop ? prop : g_hash_table_lookup(obj->prop_index, name);
}

ObjectProperty *object_property_add(Object *obj, const char *name, const char *type,
                                    ObjectPropertyGet *get, ObjectPropertySet *set,
                                    ObjectPropertyRelease *release, void *opaque)
{
    ObjectProperty *prop;

    if (object_property_find(obj, name)) {
        fprintf(stderr, "property '%s' added twice to object of type '%s'\n", name,
                object_get_typename(obj));
        abort();
    }
    prop = prop_new(name, type, get, set, release, opaque);
    g_ptr_array_add(obj->props, prop);
    g_hash_table_insert(obj->prop_index, prop->name, prop);
    return prop;
}

ObjectProperty *object_class_property_add(ObjectClass *klass, const char *name,
                                          const char *type, ObjectPropertyGet *get,
                                          ObjectPropertySet *set, void *opaque)
{
    ObjectProperty *prop;

    if (object_class_property_find(klass, name)) {
        fprintf(stderr, "property '%s' added twice to class '%s'\n", name,
                object_class_get_name(klass));
        abort();
    }
    prop = prop_new(name, type, get, set, NULL, opaque);
    g_ptr_array_add(klass->props, prop);
    g_hash_table_insert(klass->prop_index, prop->name, prop);
    return prop;
}

void object_property_set_description(ObjectProperty *prop, const char *desc)
{
    g_free(prop->description);
    prop->description = g_strdup(desc);
}

void object_property_del(Object *obj, const char *name)
{
    ObjectProperty *prop = g_hash_table_lookup(obj->prop_index, name);

    if (!prop) {
        return;
    }
    g_hash_table_remove(obj->prop_index, name);
    if (prop->release) {
        prop->release(obj, prop);
    }
    g_ptr_array_remove(obj->props, prop);
}

static ObjectProperty *find_or_error(Object *obj, const char *name, Error **errp)
{
    ObjectProperty *prop = object_property_find(obj, name);

    if (!prop) {
        error_setg(errp, "'%s' has no property '%s'", object_get_typename(obj), name);
    }
    return prop;
}

bool object_property_set_str(Object *obj, const char *name, const char *value, Error **errp)
{
    ObjectProperty *prop = find_or_error(obj, name, errp);

    if (!prop) {
        return false;
    }
    if (!prop->set) {
        error_setg(errp, "property '%s' of '%s' is read-only", name, object_get_typename(obj));
        return false;
    }
    return prop->set(obj, prop, value, errp);
}

char *object_property_get_str(Object *obj, const char *name, Error **errp)
{
    ObjectProperty *prop = find_or_error(obj, name, errp);

    if (!prop) {
        return NULL;
    }
    if (!prop->get) {
        error_setg(errp, "property '%s' of '%s' is write-only", name, object_get_typename(obj));
        return NULL;
    }
    return prop->get(obj, prop, errp);
}

bool object_property_set_bool(Object *obj, const char *name, bool value, Error **errp)
{
    return object_property_set_str(obj, name, value ? "on" : "off", errp);
}

bool object_property_get_bool(Object *obj, const char *name, Error **errp)
{
    g_autofree char *s = object_property_get_str(obj, name, errp);
    bool v = false;

    if (s && !parse_bool(s, &v)) {
        error_setg(errp, "property '%s' is not a boolean", name);
    }
    return v;
}

bool object_property_set_uint(Object *obj, const char *name, uint64_t value, Error **errp)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    return object_property_set_str(obj, name, buf, errp);
}

uint64_t object_property_get_uint(Object *obj, const char *name, Error **errp)
{
    g_autofree char *s = object_property_get_str(obj, name, errp);
    uint64_t v = 0;

    if (s && !parse_uint64(s, &v)) {
        error_setg(errp, "property '%s' is not an unsigned number", name);
    }
    return v;
}

bool object_property_set_int(Object *obj, const char *name, int64_t value, Error **errp)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRId64, value);
    return object_property_set_str(obj, name, buf, errp);
}

int64_t object_property_get_int(Object *obj, const char *name, Error **errp)
{
    g_autofree char *s = object_property_get_str(obj, name, errp);
    int64_t v = 0;

    if (s && !parse_int64(s, &v)) {
        error_setg(errp, "property '%s' is not a number", name);
    }
    return v;
}

/* Links: the field holds a reference to the target. */
static Object **link_field(Object *obj, ObjectProperty *prop)
{
    if (prop->static_prop) {
        return (Object **)((char *)obj + prop->static_prop->offset);
    }
    return prop->link_target;
}

static const char *link_type_of(ObjectProperty *prop)
{
    return prop->static_prop ? prop->static_prop->link_type : prop->link_type;
}

static bool link_store(Object *obj, ObjectProperty *prop, Object *target, Error **errp)
{
    Object **field = link_field(obj, prop);
    const char *type = link_type_of(prop);

    if (target && type && !object_dynamic_cast(target, type)) {
        error_setg(errp, "property '%s' expects a '%s', not a '%s'", prop->name, type,
                   object_get_typename(target));
        return false;
    }
    object_ref(target);
    object_unref(*field);
    *field = target;
    return true;
}

bool object_property_set_link(Object *obj, const char *name, Object *target, Error **errp)
{
    ObjectProperty *prop = find_or_error(obj, name, errp);

    if (!prop) {
        return false;
    }
    if (!link_field(obj, prop)) {
        error_setg(errp, "property '%s' is not a link", name);
        return false;
    }
    if (obj->props_frozen && prop->static_prop) {
        error_setg(errp, "property '%s' cannot be set after the device is realized", name);
        return false;
    }
    return link_store(obj, prop, target, errp);
}

Object *object_property_get_link(Object *obj, const char *name, Error **errp)
{
    ObjectProperty *prop = find_or_error(obj, name, errp);

    if (!prop) {
        return NULL;
    }
    if (!link_field(obj, prop)) {
        error_setg(errp, "property '%s' is not a link", name);
        return NULL;
    }
    return *link_field(obj, prop);
}

static char *link_get(Object *obj, ObjectProperty *prop, Error **errp)
{
    Object *target = *link_field(obj, prop);

    return target ? object_get_canonical_path(target) : g_strdup("");
}

static bool link_set(Object *obj, ObjectProperty *prop, const char *value, Error **errp)
{
    Object *target = NULL;
    bool ambiguous = false;

    if (*value) {
        target = object_resolve_path(value, &ambiguous);
        if (!target) {
            error_setg(errp, ambiguous ? "path '%s' is ambiguous" : "object '%s' not found",
                       value);
            return false;
        }
    }
    return link_store(obj, prop, target, errp);
}

static void link_release(Object *obj, ObjectProperty *prop)
{
    Object **field = link_field(obj, prop);

    object_unref(*field);
    *field = NULL;
}

ObjectProperty *object_property_add_link(Object *obj, const char *name, const char *type,
                                         Object **target)
{
    g_autofree char *ptype = g_strdup_printf("link<%s>", type);
    ObjectProperty *prop = object_property_add(obj, name, ptype, link_get, link_set,
                                               link_release, NULL);

    prop->link_target = target;
    prop->link_type = g_strdup(type);
    return prop;
}

static char *bool_ptr_get(Object *obj, ObjectProperty *prop, Error **errp)
{
    return g_strdup(*(bool *)prop->opaque ? "on" : "off");
}

static bool bool_ptr_set(Object *obj, ObjectProperty *prop, const char *value, Error **errp)
{
    if (!parse_bool(value, (bool *)prop->opaque)) {
        error_setg(errp, "property '%s' expects 'on' or 'off', not '%s'", prop->name, value);
        return false;
    }
    return true;
}

ObjectProperty *object_property_add_bool_ptr(Object *obj, const char *name, bool *field,
                                             bool read_only)
{
    return object_property_add(obj, name, "bool", bool_ptr_get,
                               read_only ? NULL : bool_ptr_set, NULL, field);
}

static char *u64_ptr_get(Object *obj, ObjectProperty *prop, Error **errp)
{
    return g_strdup_printf("%" PRIu64, *(uint64_t *)prop->opaque);
}

static bool u64_ptr_set(Object *obj, ObjectProperty *prop, const char *value, Error **errp)
{
    if (!parse_uint64(value, (uint64_t *)prop->opaque)) {
        error_setg(errp, "property '%s' expects a number, not '%s'", prop->name, value);
        return false;
    }
    return true;
}

ObjectProperty *object_property_add_uint64_ptr(Object *obj, const char *name, uint64_t *field,
                                               bool read_only)
{
    return object_property_add(obj, name, "uint64", u64_ptr_get,
                               read_only ? NULL : u64_ptr_set, NULL, field);
}

static char *str_ptr_get(Object *obj, ObjectProperty *prop, Error **errp)
{
    char *s = *(char **)prop->opaque;
    return g_strdup(s ? s : "");
}

static bool str_ptr_set(Object *obj, ObjectProperty *prop, const char *value, Error **errp)
{
    char **field = prop->opaque;

    g_free(*field);
    *field = g_strdup(value);
    return true;
}

ObjectProperty *object_property_add_str_ptr(Object *obj, const char *name, char **field,
                                            bool read_only)
{
    return object_property_add(obj, name, "str", str_ptr_get,
                               read_only ? NULL : str_ptr_set, NULL, field);
}

void object_property_iter_init(ObjectPropertyIter *iter, Object *obj)
{
    memset(iter, 0, sizeof(*iter));
    iter->obj = obj;
    iter->chain = g_ptr_array_new();
    for (ObjectClass *k = obj ? obj->klass : NULL; k; k = object_class_get_parent(k)) {
        g_ptr_array_insert(iter->chain, 0, k);
    }
}

void object_class_property_iter_init(ObjectPropertyIter *iter, ObjectClass *klass)
{
    memset(iter, 0, sizeof(*iter));
    iter->chain = g_ptr_array_new();
    for (ObjectClass *k = klass; k; k = object_class_get_parent(k)) {
        g_ptr_array_insert(iter->chain, 0, k);
    }
}

ObjectProperty *object_property_iter_next(ObjectPropertyIter *iter)
{
    while (iter->chain_pos < iter->chain->len) {
        ObjectClass *k = iter->chain->pdata[iter->chain_pos];
        if (iter->idx < k->props->len) {
            return k->props->pdata[iter->idx++];
        }
        iter->chain_pos++;
        iter->idx = 0;
    }
    if (iter->obj && iter->chain_pos == iter->chain->len) {
        if (iter->idx < iter->obj->props->len) {
            return iter->obj->props->pdata[iter->idx++];
        }
    }
    return NULL;
}

void object_property_iter_free(ObjectPropertyIter *iter)
{
    g_ptr_array_free(iter->chain, true);
    iter->chain = NULL;
}

/* ------------------------------------------------------- composition tree */

static const TypeInfo object_type = {
    .name = TYPE_OBJECT,
    .instance_size = sizeof(Object),
    .class_size = sizeof(ObjectClass),
    .abstract = true,
};
KITE_TYPE_REGISTER(object_type)

static const TypeInfo interface_type = {
    .name = TYPE_INTERFACE,
    .class_size = sizeof(InterfaceClass),
    .abstract = true,
};
KITE_TYPE_REGISTER(interface_type)

static const TypeInfo container_type = {
    .name = TYPE_CONTAINER,
    .parent = TYPE_OBJECT,
};
KITE_TYPE_REGISTER(container_type)

Object *object_get_root(void)
{
    static Object *root;

    if (!root) {
        root = object_new(TYPE_CONTAINER);
    }
    return root;
}

static char *child_get(Object *obj, ObjectProperty *prop, Error **errp)
{
    return object_get_canonical_path(prop->opaque);
}

static void child_release(Object *obj, ObjectProperty *prop)
{
    Object *child = prop->opaque;

    if (child->klass->unparent) {
        child->klass->unparent(child);
    }
    child->parent = NULL;
    g_free(child->name);
    child->name = NULL;
    object_unref(child);
}

bool object_property_add_child(Object *parent, const char *name, Object *child, Error **errp)
{
    g_autofree char *type = NULL;

    if (child->parent) {
        error_setg(errp, "object '%s' already has a parent", name);
        return false;
    }
    if (strchr(name, '/') || !*name) {
        error_setg(errp, "invalid child name '%s'", name);
        return false;
    }
    if (object_property_find(parent, name)) {
        error_setg(errp, "duplicate ID '%s'", name);
        return false;
    }
    type = g_strdup_printf("child<%s>", object_get_typename(child));
    object_property_add(parent, name, type, child_get, NULL, child_release, child);
    object_ref(child);
    child->parent = parent;
    child->name = g_strdup(name);
    return true;
}

void object_unparent(Object *obj)
{
    if (obj->parent) {
        object_property_del(obj->parent, obj->name);
    }
}

Object *object_get_parent(Object *obj)
{
    return obj->parent;
}

const char *object_get_name(Object *obj)
{
    return obj->name;
}

char *object_get_canonical_path(Object *obj)
{
    Object *root = object_get_root();
    GString *path = g_string_new(NULL);

    if (obj == root) {
        g_string_append_c(path, '/');
        return g_string_free(path, false);
    }
    for (; obj && obj != root; obj = obj->parent) {
        if (!obj->name) {
            g_string_free(path, true);
            return g_strdup("");   /* not in the tree */
        }
        g_string_prepend(path, obj->name);
        g_string_prepend_c(path, '/');
    }
    if (!obj) {
        g_string_free(path, true);
        return g_strdup("");
    }
    return g_string_free(path, false);
}

static bool prop_is_child(ObjectProperty *prop)
{
    return g_str_has_prefix(prop->type, "child<");
}

int object_child_foreach(Object *obj, int (*fn)(Object *child, void *opaque), void *opaque)
{
    /* Copy the list: fn may unparent children. */
    g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(object_unref);

    for (guint i = 0; i < obj->props->len; i++) {
        ObjectProperty *prop = obj->props->pdata[i];
        if (prop_is_child(prop)) {
            g_ptr_array_add(children, object_ref(prop->opaque));
        }
    }
    for (guint i = 0; i < children->len; i++) {
        int ret = fn(children->pdata[i], opaque);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

typedef struct RecurseData {
    int (*fn)(Object *child, void *opaque);
    void *opaque;
} RecurseData;

static int recurse_one(Object *child, void *opaque)
{
    RecurseData *d = opaque;
    int ret = d->fn(child, d->opaque);

    return ret ? ret : object_child_foreach(child, recurse_one, d);
}

int object_child_foreach_recursive(Object *obj, int (*fn)(Object *child, void *opaque),
                                   void *opaque)
{
    RecurseData d = { fn, opaque };
    return object_child_foreach(obj, recurse_one, &d);
}

static Object *child_by_name(Object *obj, const char *name)
{
    ObjectProperty *prop = g_hash_table_lookup(obj->prop_index, name);

    return prop && prop_is_child(prop) ? prop->opaque : NULL;
}

Object *container_get(Object *root, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    Object *obj = root;

    for (int i = 0; parts[i]; i++) {
        Object *child;
        if (!*parts[i]) {
            continue;
        }
        child = child_by_name(obj, parts[i]);
        if (!child) {
            child = object_new(TYPE_CONTAINER);
            object_property_add_child(obj, parts[i], child, &error_abort);
            object_unref(child);
        }
        obj = child;
    }
    return obj;
}

typedef struct PartialMatch {
    const char *suffix;          /* "/a/b" */
    const char *typename;
    Object *found;
    int count;
} PartialMatch;

static int partial_match_one(Object *obj, void *opaque)
{
    PartialMatch *pm = opaque;
    g_autofree char *path = object_get_canonical_path(obj);

    if (g_str_has_suffix(path, pm->suffix) &&
        (!pm->typename || object_dynamic_cast(obj, pm->typename))) {
        pm->found = obj;
        pm->count++;
    }
    return 0;
}

Object *object_resolve_path_type(const char *path, const char *typename, bool *ambiguous)
{
    Object *obj;

    if (ambiguous) {
        *ambiguous = false;
    }
    if (!path || !*path) {
        return NULL;
    }
    if (path[0] == '/') {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        obj = object_get_root();
        for (int i = 0; parts[i] && obj; i++) {
            if (*parts[i]) {
                obj = child_by_name(obj, parts[i]);
            }
        }
        if (obj && typename && !object_dynamic_cast(obj, typename)) {
            return NULL;
        }
        return obj;
    } else {
        g_autofree char *suffix = g_strconcat("/", path, NULL);
        PartialMatch pm = { .suffix = suffix, .typename = typename };

        object_child_foreach_recursive(object_get_root(), partial_match_one, &pm);
        if (pm.count > 1) {
            if (ambiguous) {
                *ambiguous = true;
            }
            return NULL;
        }
        return pm.found;
    }
}

Object *object_resolve_path(const char *path, bool *ambiguous)
{
    return object_resolve_path_type(path, NULL, ambiguous);
}

/* ---------------------------------------------------------------- globals */

static void global_free(gpointer p)
{
    GlobalProp *g = p;

    g_free(g->typename);
    g_free(g->prop);
    g_free(g->value);
    g_free(g);
}

void object_register_global(const char *typename, const char *prop, const char *value)
{
    GlobalProp *g = g_new0(GlobalProp, 1);

    if (!global_props) {
        global_props = g_ptr_array_new_with_free_func(global_free);
    }
    g->typename = g_strdup(typename);
    g->prop = g_strdup(prop);
    g->value = g_strdup(value);
    g_ptr_array_add(global_props, g);
}

bool object_check_globals(Error **errp)
{
    if (!global_props) {
        return true;
    }
    for (guint i = 0; i < global_props->len; i++) {
        GlobalProp *g = global_props->pdata[i];
        ObjectClass *klass = object_class_by_name(g->typename);

        if (!klass) {
            error_setg(errp, "-global %s.%s: no type named '%s'", g->typename, g->prop,
                       g->typename);
            return false;
        }
        if (!object_class_property_find(klass, g->prop)) {
            error_setg(errp, "-global %s.%s: '%s' has no property '%s'", g->typename, g->prop,
                       g->typename, g->prop);
            return false;
        }
    }
    return true;
}
