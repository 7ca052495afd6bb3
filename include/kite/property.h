/*
 * Static properties: typed fields of an object's struct, declared in a table.
 *
 *     static const Property isa_serial_props[] = {
 *         DEFINE_PROP_UINT32("iobase", IsaSerial, iobase, 0x3f8),
 *         DEFINE_PROP_UINT32_RANGE("irq", IsaSerial, irq, 4, 0, 15),
 *         DEFINE_PROP_END_OF_LIST(),
 *     };
 *
 * The default is written into the field before instance_init runs; -global and -device
 * key=value override it; setters check ranges and reject bad text with a message naming the
 * property.  Once a device is realized its static properties are frozen.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_PROPERTY_H
#define KITE_PROPERTY_H

#include "kite/object.h"

struct PropertyInfo {
    const char *type;            /* type name shown in help and used by QMP */
    const char *description;
    /* Parse text into the field; false with an error naming prop->name. */
    bool (*parse)(Object *obj, const Property *prop, void *field, const char *text,
                  Error **errp);
    char *(*print)(Object *obj, const Property *prop, void *field);
    void (*set_default)(Object *obj, const Property *prop, void *field);
    void (*release)(Object *obj, const Property *prop, void *field);
};

struct Property {
    const char *name;
    const PropertyInfo *info;
    size_t offset;
    bool has_default;
    union {
        int64_t i;
        uint64_t u;
        bool b;
        const char *s;
    } defval;
    bool has_range;
    uint64_t umin, umax;         /* unsigned range (inclusive) */
    int64_t imin, imax;          /* signed range (inclusive) */
    const char *const *enum_names;   /* NULL-terminated, for enum properties (int field) */
    const char *link_type;           /* for link properties */
    const char *description;
};

extern const PropertyInfo prop_info_bool;
extern const PropertyInfo prop_info_uint8;
extern const PropertyInfo prop_info_uint16;
extern const PropertyInfo prop_info_uint32;
extern const PropertyInfo prop_info_uint64;
extern const PropertyInfo prop_info_int32;
extern const PropertyInfo prop_info_int64;
extern const PropertyInfo prop_info_size;
extern const PropertyInfo prop_info_string;
extern const PropertyInfo prop_info_enum;
extern const PropertyInfo prop_info_link;

/* Compile-time check that the field has the type the property expects. */
#define PROP_FIELD_CHECK(State, field, type) \
    (offsetof(State, field) + \
     0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((State *)0)->field), type) \
                     ? 1 : -1]))

#define DEFINE_PROP_FIELD_(n, State, field, type, pinfo, ...) \
    { .name = (n), .info = &(pinfo), .offset = PROP_FIELD_CHECK(State, field, type), \
      __VA_ARGS__ }

#define DEFINE_PROP_BOOL(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, bool, prop_info_bool, .has_default = true, .defval.b = (d))
#define DEFINE_PROP_UINT8(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, uint8_t, prop_info_uint8, .has_default = true, .defval.u = (d))
#define DEFINE_PROP_UINT16(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, uint16_t, prop_info_uint16, .has_default = true, .defval.u = (d))
#define DEFINE_PROP_UINT32(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, uint32_t, prop_info_uint32, .has_default = true, .defval.u = (d))
#define DEFINE_PROP_UINT64(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, uint64_t, prop_info_uint64, .has_default = true, .defval.u = (d))
#define DEFINE_PROP_INT32(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, int32_t, prop_info_int32, .has_default = true, .defval.i = (d))
#define DEFINE_PROP_INT64(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, int64_t, prop_info_int64, .has_default = true, .defval.i = (d))
/* A uint64_t byte count accepting suffixes: 64M, 1G. */
#define DEFINE_PROP_SIZE(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, uint64_t, prop_info_size, .has_default = true, .defval.u = (d))
#define DEFINE_PROP_UINT32_RANGE(n, S, f, d, lo, hi) \
    DEFINE_PROP_FIELD_(n, S, f, uint32_t, prop_info_uint32, .has_default = true, \
                       .defval.u = (d), .has_range = true, .umin = (lo), .umax = (hi))
#define DEFINE_PROP_UINT64_RANGE(n, S, f, d, lo, hi) \
    DEFINE_PROP_FIELD_(n, S, f, uint64_t, prop_info_uint64, .has_default = true, \
                       .defval.u = (d), .has_range = true, .umin = (lo), .umax = (hi))
#define DEFINE_PROP_SIZE_RANGE(n, S, f, d, lo, hi) \
    DEFINE_PROP_FIELD_(n, S, f, uint64_t, prop_info_size, .has_default = true, \
                       .defval.u = (d), .has_range = true, .umin = (lo), .umax = (hi))
#define DEFINE_PROP_INT32_RANGE(n, S, f, d, lo, hi) \
    DEFINE_PROP_FIELD_(n, S, f, int32_t, prop_info_int32, .has_default = true, \
                       .defval.i = (d), .has_range = true, .imin = (lo), .imax = (hi))
/* char * field, g_strdup'd; NULL default allowed. */
#define DEFINE_PROP_STRING(n, S, f) \
    DEFINE_PROP_FIELD_(n, S, f, char *, prop_info_string)
#define DEFINE_PROP_STRING_DEFAULT(n, S, f, d) \
    DEFINE_PROP_FIELD_(n, S, f, char *, prop_info_string, .has_default = true, .defval.s = (d))
/* int field holding an index into names (NULL-terminated array of spellings). */
#define DEFINE_PROP_ENUM(n, S, f, d, names) \
    DEFINE_PROP_FIELD_(n, S, f, int, prop_info_enum, .has_default = true, .defval.i = (d), \
                       .enum_names = (names))
/* Object * field (pointer to the target type), set with a path or object_property_set_link. */
#define DEFINE_PROP_LINK(n, S, f, ltype, ptrtype) \
    DEFINE_PROP_FIELD_(n, S, f, ptrtype, prop_info_link, .link_type = (ltype))
#define DEFINE_PROP_END_OF_LIST() { .name = NULL }

/* Used by the object core: add a class's static properties as class properties. */
void property_add_static_to_class(ObjectClass *klass, const Property *props);
/* Write every static property's default into obj (class chain, root first). */
void property_set_defaults(Object *obj, ObjectClass *klass);

#endif
