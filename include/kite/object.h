/*
 * The object model: types with parents, classes and interfaces; objects with properties,
 * reference counts and a composition tree (/machine/..., as in QEMU's QOM).
 *
 * A type is one static TypeInfo registered from a constructor:
 *
 *     static const TypeInfo uart_type = {
 *         .name = TYPE_ISA_SERIAL, .parent = TYPE_ISA_DEVICE,
 *         .instance_size = sizeof(IsaSerial),
 *         .realize = isa_serial_realize, .reset = isa_serial_reset,
 *         .props = isa_serial_props, .vmsd = &vmstate_isa_serial,
 *     };
 *     KITE_TYPE_REGISTER(uart_type)
 *
 * The device hooks (.realize, .reset, .props, .vmsd, ...) sit in TypeInfo itself so that a
 * device needs no class_init; types with virtual methods of their own still write one.
 *
 * Properties are exchanged as strings ("64M", "on", "/machine/foo" for links): the command line
 * gives strings, the monitor prints them, and the property's type name ("uint32", "bool",
 * "str", "link<pci-device>", "child<isa-serial>") tells QMP how to render it as JSON.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_OBJECT_H
#define KITE_OBJECT_H

#include "kite/osdep.h"
#include "kite/error.h"

typedef struct TypeImpl *Type;
typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct InterfaceClass InterfaceClass;
typedef struct ObjectProperty ObjectProperty;
typedef struct Property Property;
typedef struct PropertyInfo PropertyInfo;
typedef struct TypeInfo TypeInfo;
/* Device-level types named by TypeInfo's device hooks (defined in hw/qdev.h). */
typedef struct DeviceState DeviceState;
typedef struct VMStateDescription VMStateDescription;

#define TYPE_OBJECT "object"
#define TYPE_INTERFACE "interface"
#define TYPE_CONTAINER "container"

struct ObjectClass {
    Type type;
    GPtrArray *interfaces;       /* of InterfaceClass *, this class's and its parents' */
    GPtrArray *props;            /* of ObjectProperty *, declared by this class (not parents) */
    GHashTable *prop_index;      /* name -> ObjectProperty *, same set */
    /* Called by object_unparent before the object leaves its parent (devices unrealize). */
    void (*unparent)(Object *obj);
};

struct Object {
    ObjectClass *klass;
    GPtrArray *props;            /* of ObjectProperty *, added to this instance */
    GHashTable *prop_index;
    uint32_t ref;
    Object *parent;              /* in the composition tree */
    char *name;                  /* its child property name in parent, or NULL */
    bool props_frozen;           /* static properties can no longer be set (realized) */
};

struct InterfaceClass {
    ObjectClass parent_class;
    ObjectClass *concrete_class; /* the class implementing the interface */
    Type interface_type;
};

struct TypeInfo {
    const char *name;
    const char *parent;
    const char *desc;            /* one line for "-device help" */
    size_t instance_size;        /* 0: same as parent */
    size_t class_size;           /* 0: same as parent */
    bool abstract;
    /* Runs once when the class is built, after the parent class was copied into it. */
    void (*class_init)(ObjectClass *klass, const void *data);
    const void *class_data;
    /* Runs for this type and every subtype's class, with the subtype's TypeInfo. */
    void (*class_base_init)(ObjectClass *klass, const TypeInfo *info);
    void (*instance_init)(Object *obj);
    /* After every instance_init in the chain, and after defaults/globals are applied. */
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);
    const char *const *interfaces;   /* NULL-terminated list of interface type names */
    const Property *props;           /* static properties, terminated by { .name = NULL } */

    /* Device hooks: read by TYPE_DEVICE's class_base_init (hw/core/qdev.c). */
    void (*realize)(DeviceState *dev, Error **errp);
    void (*unrealize)(DeviceState *dev);
    void (*reset)(DeviceState *dev);
    const VMStateDescription *vmsd;
    const char *bus_type;            /* the bus this device plugs into */
    bool user_creatable;             /* shown by -device help, accepted by -device */
    bool hotpluggable;
};

/* --- types --- */
Type type_register_static(const TypeInfo *info);
#define KITE_TYPE_REGISTER(info) \
    static void __attribute__((constructor)) register_##info(void) { type_register_static(&info); }

ObjectClass *object_class_by_name(const char *name);
const char *object_class_get_name(ObjectClass *klass);
ObjectClass *object_class_get_parent(ObjectClass *klass);
bool object_class_is_abstract(ObjectClass *klass);
const TypeInfo *object_class_get_info(ObjectClass *klass);
/* klass itself if it is or derives from typename, its InterfaceClass if it implements it. */
ObjectClass *object_class_dynamic_cast(ObjectClass *klass, const char *typename);
ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass, const char *typename,
                                              const char *file, int line, const char *func);
/* All classes deriving from implements_type (NULL: all), sorted by name; g_slist_free after. */
GSList *object_class_get_list(const char *implements_type, bool include_abstract);

/* --- objects --- */
Object *object_new(const char *typename);
/* Like object_new but errors for unknown/abstract types instead of aborting. */
Object *object_new_checked(const char *typename, Error **errp);
Object *object_ref(void *obj);
void object_unref(void *obj);
const char *object_get_typename(const Object *obj);
ObjectClass *object_get_class(const Object *obj);
Object *object_dynamic_cast(Object *obj, const char *typename);
Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line, const char *func);

#define OBJECT(obj) ((Object *)(obj))
#define OBJECT_CLASS(klass) ((ObjectClass *)(klass))
#define OBJECT_CHECK(type, obj, name) \
    ((type *)object_dynamic_cast_assert(OBJECT(obj), (name), __FILE__, __LINE__, __func__))
#define OBJECT_CLASS_CHECK(type, klass, name) \
    ((type *)object_class_dynamic_cast_assert(OBJECT_CLASS(klass), (name), \
                                              __FILE__, __LINE__, __func__))
#define OBJECT_GET_CLASS(type, obj, name) OBJECT_CLASS_CHECK(type, object_get_class(OBJECT(obj)), name)

/*
 * OBJECT_DECLARE_SIMPLE_TYPE(IsaSerial, ISA_SERIAL): the typedef and a checked cast
 * ISA_SERIAL(obj) for TYPE_ISA_SERIAL.  OBJECT_DECLARE_TYPE adds the class typedef and
 * ISA_SERIAL_CLASS(klass) / ISA_SERIAL_GET_CLASS(obj).
 */
#define OBJECT_DECLARE_SIMPLE_TYPE(Inst, NAME) \
    typedef struct Inst Inst; \
    G_DEFINE_AUTOPTR_CLEANUP_FUNC(Inst, object_unref) \
    static inline G_GNUC_UNUSED Inst *NAME(const void *obj) \
    { return OBJECT_CHECK(Inst, obj, TYPE_##NAME); }

#define OBJECT_DECLARE_TYPE(Inst, Klass, NAME) \
    OBJECT_DECLARE_SIMPLE_TYPE(Inst, NAME) \
    typedef struct Klass Klass; \
    static inline G_GNUC_UNUSED Klass *NAME##_CLASS(const void *klass) \
    { return OBJECT_CLASS_CHECK(Klass, klass, TYPE_##NAME); } \
    static inline G_GNUC_UNUSED Klass *NAME##_GET_CLASS(const void *obj) \
    { return OBJECT_GET_CLASS(Klass, obj, TYPE_##NAME); }

/* --- composition tree --- */
Object *object_get_root(void);
/* The container at path below root (e.g. "/machine/peripheral"), created if missing. */
Object *container_get(Object *root, const char *path);
/* Adds a reference to child; fails if name is taken or child already has a parent. */
bool object_property_add_child(Object *parent, const char *name, Object *child, Error **errp);
/* Detach from parent (calls klass->unparent first) and drop the parent's reference. */
void object_unparent(Object *obj);
Object *object_get_parent(Object *obj);
const char *object_get_name(Object *obj);
char *object_get_canonical_path(Object *obj);
/* Absolute ("/machine/x") or partial ("x": unique match anywhere) path; NULL if not found
 * or (partial) ambiguous. */
Object *object_resolve_path(const char *path, bool *ambiguous);
Object *object_resolve_path_type(const char *path, const char *typename, bool *ambiguous);
/* Children in order of addition; stops and returns the first non-zero return. */
int object_child_foreach(Object *obj, int (*fn)(Object *child, void *opaque), void *opaque);
int object_child_foreach_recursive(Object *obj, int (*fn)(Object *child, void *opaque),
                                   void *opaque);

/* --- properties --- */
typedef char *ObjectPropertyGet(Object *obj, ObjectProperty *prop, Error **errp);
typedef bool ObjectPropertySet(Object *obj, ObjectProperty *prop, const char *value,
                               Error **errp);
typedef void ObjectPropertyRelease(Object *obj, ObjectProperty *prop);

struct ObjectProperty {
    char *name;
    char *type;                  /* "uint32", "bool", "str", "link<T>", "child<T>", ... */
    char *description;
    char *defval;                /* default as a string, for help output; may be NULL */
    ObjectPropertyGet *get;      /* NULL: write-only */
    ObjectPropertySet *set;      /* NULL: read-only */
    ObjectPropertyRelease *release;
    void *opaque;
    const Property *static_prop; /* for static (field) properties */
    Object **link_target;        /* for link properties: the field holding the target */
    char *link_type;
};

ObjectProperty *object_property_add(Object *obj, const char *name, const char *type,
                                    ObjectPropertyGet *get, ObjectPropertySet *set,
                                    ObjectPropertyRelease *release, void *opaque);
ObjectProperty *object_class_property_add(ObjectClass *klass, const char *name,
                                          const char *type, ObjectPropertyGet *get,
                                          ObjectPropertySet *set, void *opaque);
void object_property_set_description(ObjectProperty *prop, const char *desc);
void object_property_del(Object *obj, const char *name);
ObjectProperty *object_property_find(Object *obj, const char *name);
ObjectProperty *object_class_property_find(ObjectClass *klass, const char *name);

/* A link<T> property backed by the field *target; check() may veto a target. */
ObjectProperty *object_property_add_link(Object *obj, const char *name, const char *type,
                                         Object **target);
ObjectProperty *object_property_add_bool_ptr(Object *obj, const char *name, bool *field,
                                             bool read_only);
ObjectProperty *object_property_add_uint64_ptr(Object *obj, const char *name, uint64_t *field,
                                               bool read_only);
ObjectProperty *object_property_add_str_ptr(Object *obj, const char *name, char **field,
                                            bool read_only);

/* Iterate over class (root first) then instance properties. */
typedef struct ObjectPropertyIter {
    Object *obj;
    ObjectClass *klass;          /* current class in the chain, NULL when on instance props */
    GPtrArray *chain;
    guint chain_pos, idx;
} ObjectPropertyIter;
void object_property_iter_init(ObjectPropertyIter *iter, Object *obj);
ObjectProperty *object_property_iter_next(ObjectPropertyIter *iter);
void object_property_iter_free(ObjectPropertyIter *iter);
/* Class-only variant (for "-device foo,help" without instantiating). */
void object_class_property_iter_init(ObjectPropertyIter *iter, ObjectClass *klass);

bool object_property_set_str(Object *obj, const char *name, const char *value, Error **errp);
char *object_property_get_str(Object *obj, const char *name, Error **errp);
bool object_property_set_bool(Object *obj, const char *name, bool value, Error **errp);
bool object_property_get_bool(Object *obj, const char *name, Error **errp);
bool object_property_set_uint(Object *obj, const char *name, uint64_t value, Error **errp);
uint64_t object_property_get_uint(Object *obj, const char *name, Error **errp);
bool object_property_set_int(Object *obj, const char *name, int64_t value, Error **errp);
int64_t object_property_get_int(Object *obj, const char *name, Error **errp);
bool object_property_set_link(Object *obj, const char *name, Object *target, Error **errp);
Object *object_property_get_link(Object *obj, const char *name, Error **errp);

/* --- -global TYPE.prop=value: defaults applied to every new object of TYPE (or subtype) --- */
void object_register_global(const char *typename, const char *prop, const char *value);
/* Error naming the first global whose type or property does not exist. */
bool object_check_globals(Error **errp);

#endif
