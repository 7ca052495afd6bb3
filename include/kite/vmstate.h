/*
 * Device state descriptions for save/restore and migration.
 *
 * Every device lists its guest-visible state in a VMStateDescription from its first commit:
 *
 *     static const VMStateDescription vmstate_uart = {
 *         .name = "uart16550", .version_id = 1, .minimum_version_id = 1,
 *         .fields = (const VMStateField[]) {
 *             VMSTATE_UINT8(ier, Uart16550),
 *             VMSTATE_UINT8_ARRAY(fifo, Uart16550, 16),
 *             VMSTATE_END_OF_LIST()
 *         },
 *         .subsections = (const VMStateDescription *const[]) { &vmstate_uart_fcr, NULL },
 *     };
 *
 * Optional state goes into subsections whose needed() says whether to send them, so that a
 * newer Kite can still read an older stream.  The loader checks every length against the
 * buffer: a corrupt stream is an error, never an out-of-bounds write.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_VMSTATE_H
#define KITE_VMSTATE_H

#include "kite/osdep.h"
#include "kite/error.h"

typedef enum VMStateKind {
    VMS_END = 0,
    VMS_UINT8,
    VMS_UINT16,
    VMS_UINT32,
    VMS_UINT64,
    VMS_INT32,
    VMS_INT64,
    VMS_BOOL,
    VMS_BUFFER,       /* raw bytes: size bytes */
    VMS_STRUCT,       /* nested description */
    VMS_STRUCT_PTR,   /* a pointer member: the nested description of what it points to */
    VMS_TIMER,        /* KiteTimer *: its expiry time (or -1) */
    VMS_VBUFFER,      /* a pointer member to as many bytes as a uint32_t member says */
} VMStateKind;

typedef struct VMStateDescription VMStateDescription;

typedef struct VMStateField {
    const char *name;
    VMStateKind kind;
    size_t offset;
    size_t size;                  /* element size */
    unsigned num;                 /* array length (1 for scalars) */
    const VMStateDescription *vmsd;   /* for VMS_STRUCT */
    int version_id;               /* field present from this version on */
    size_t len_offset;            /* VMS_VBUFFER: offset of the uint32_t byte count */
} VMStateField;

struct VMStateDescription {
    const char *name;
    int version_id;
    int minimum_version_id;
    const VMStateField *fields;
    const VMStateDescription *const *subsections;   /* NULL-terminated */
    bool (*needed)(void *opaque);                   /* for subsections */
    int (*pre_save)(void *opaque);
    int (*post_load)(void *opaque, int version_id);
};

#define VMSTATE_TYPE_CHECK_(S, f, t) \
    (offsetof(S, f) + 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((S *)0)->f), t) \
                                       ? 1 : -1]))

#define VMSTATE_SCALAR_(f, S, t, k, ...) \
    { .name = #f, .kind = (k), .offset = VMSTATE_TYPE_CHECK_(S, f, t), .size = sizeof(t), \
      .num = 1, __VA_ARGS__ }
#define VMSTATE_ARRAY_(f, S, n, t, k, ...) \
    { .name = #f, .kind = (k), .offset = VMSTATE_TYPE_CHECK_(S, f, t[n]), .size = sizeof(t), \
      .num = (n), __VA_ARGS__ }

#define VMSTATE_UINT8(f, S) VMSTATE_SCALAR_(f, S, uint8_t, VMS_UINT8)
#define VMSTATE_UINT16(f, S) VMSTATE_SCALAR_(f, S, uint16_t, VMS_UINT16)
#define VMSTATE_UINT32(f, S) VMSTATE_SCALAR_(f, S, uint32_t, VMS_UINT32)
#define VMSTATE_UINT64(f, S) VMSTATE_SCALAR_(f, S, uint64_t, VMS_UINT64)
#define VMSTATE_INT32(f, S) VMSTATE_SCALAR_(f, S, int32_t, VMS_INT32)
#define VMSTATE_INT64(f, S) VMSTATE_SCALAR_(f, S, int64_t, VMS_INT64)
#define VMSTATE_BOOL(f, S) VMSTATE_SCALAR_(f, S, bool, VMS_BOOL)
#define VMSTATE_UINT8_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, uint8_t, VMS_UINT8)
#define VMSTATE_UINT16_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, uint16_t, VMS_UINT16)
#define VMSTATE_UINT32_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, uint32_t, VMS_UINT32)
#define VMSTATE_UINT64_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, uint64_t, VMS_UINT64)
#define VMSTATE_INT32_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, int32_t, VMS_INT32)
#define VMSTATE_BOOL_ARRAY(f, S, n) VMSTATE_ARRAY_(f, S, n, bool, VMS_BOOL)
/* Fields added in version v of a description: the _V forms. */
#define VMSTATE_UINT8_V(f, S, v) VMSTATE_SCALAR_(f, S, uint8_t, VMS_UINT8, .version_id = (v))
#define VMSTATE_UINT16_V(f, S, v) VMSTATE_SCALAR_(f, S, uint16_t, VMS_UINT16, .version_id = (v))
#define VMSTATE_UINT32_V(f, S, v) VMSTATE_SCALAR_(f, S, uint32_t, VMS_UINT32, .version_id = (v))
#define VMSTATE_UINT64_V(f, S, v) VMSTATE_SCALAR_(f, S, uint64_t, VMS_UINT64, .version_id = (v))
#define VMSTATE_BOOL_V(f, S, v) VMSTATE_SCALAR_(f, S, bool, VMS_BOOL, .version_id = (v))
#define VMSTATE_UINT8_ARRAY_V(f, S, n, v) \
    VMSTATE_ARRAY_(f, S, n, uint8_t, VMS_UINT8, .version_id = (v))
#define VMSTATE_UINT16_ARRAY_V(f, S, n, v) \
    VMSTATE_ARRAY_(f, S, n, uint16_t, VMS_UINT16, .version_id = (v))
#define VMSTATE_UINT32_ARRAY_V(f, S, n, v) \
    VMSTATE_ARRAY_(f, S, n, uint32_t, VMS_UINT32, .version_id = (v))
/* A fixed-size member of any type copied as bytes (e.g. a register file struct). */
#define VMSTATE_BUFFER(f, S) \
    { .name = #f, .kind = VMS_BUFFER, .offset = offsetof(S, f), \
      .size = sizeof(((S *)0)->f), .num = 1 }
#define VMSTATE_STRUCT(f, S, desc, T) \
    { .name = #f, .kind = VMS_STRUCT, .offset = VMSTATE_TYPE_CHECK_(S, f, T), \
      .size = sizeof(T), .num = 1, .vmsd = &(desc) }
#define VMSTATE_STRUCT_ARRAY(f, S, n, desc, T) \
    { .name = #f, .kind = VMS_STRUCT, .offset = VMSTATE_TYPE_CHECK_(S, f, T[n]), \
      .size = sizeof(T), .num = (n), .vmsd = &(desc) }
/* A T * member (never NULL once realized): the pointed-to struct, described by desc. */
#define VMSTATE_STRUCT_POINTER(f, S, desc, T) \
    { .name = #f, .kind = VMS_STRUCT_PTR, .offset = VMSTATE_TYPE_CHECK_(S, f, T *), \
      .size = sizeof(T *), .num = 1, .vmsd = &(desc) }
/* A KiteTimer * member: saved as its expiry time, re-armed (or deleted) on load. */
#define VMSTATE_TIMER_PTR(f, S) \
    { .name = #f, .kind = VMS_TIMER, .offset = VMSTATE_TYPE_CHECK_(S, f, struct KiteTimer *), \
      .size = sizeof(void *), .num = 1 }
/*
 * A uint8_t * member f with len (a uint32_t member) bytes behind it, both set by realize:
 * the stream carries the length, and a load whose length differs from the device's is an
 * error (the devices were configured differently).
 */
#define VMSTATE_VBUFFER_UINT32(f, S, len) \
    { .name = #f, .kind = VMS_VBUFFER, .offset = VMSTATE_TYPE_CHECK_(S, f, uint8_t *), \
      .size = sizeof(uint8_t *), .num = 1, \
      .len_offset = VMSTATE_TYPE_CHECK_(S, len, uint32_t) }
#define VMSTATE_END_OF_LIST() { .name = NULL, .kind = VMS_END }

struct KiteTimer;

/* Append the state of opaque described by vmsd to out. */
int vmstate_save(GByteArray *out, const VMStateDescription *vmsd, void *opaque, Error **errp);
/* Read it back from buf at *pos (advanced); errors on truncation, wrong names, versions. */
bool vmstate_load(const uint8_t *buf, size_t len, size_t *pos, const VMStateDescription *vmsd,
                  void *opaque, Error **errp);

/* Registry of state to save: devices register at realize and unregister at unrealize. */
void vmstate_register(const char *idstr, const VMStateDescription *vmsd, void *opaque);
void vmstate_unregister(const VMStateDescription *vmsd, void *opaque);
/* Save/load every registered entry (machine-wide snapshot). */
int vmstate_save_all(GByteArray *out, Error **errp);
bool vmstate_load_all(const uint8_t *buf, size_t len, Error **errp);

#endif
