/*
 * Serialising VMStateDescriptions.
 *
 * Stream layout of one description: name (u8 length + bytes), version (u32), then each field
 * present in that version in order, little-endian; then subsections, each as 'S' + the
 * description; then 'E'.  A section in the machine stream is 'D' + idstr + description.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/vmstate.h"
#include "kite/timer.h"

typedef struct VMStateEntry {
    char *idstr;
    const VMStateDescription *vmsd;
    void *opaque;
} VMStateEntry;

static GPtrArray *vmstate_entries;

static void put_bytes(GByteArray *out, const void *p, size_t n)
{
    g_byte_array_append(out, p, n);
}

static void put_u8(GByteArray *out, uint8_t v)
{
    put_bytes(out, &v, 1);
}

static void put_le(GByteArray *out, uint64_t v, unsigned size)
{
    uint8_t b[8];

    stn_le_p(b, size, v);
    put_bytes(out, b, size);
}

static void put_name(GByteArray *out, const char *name)
{
    size_t n = strlen(name);

    g_assert(n < 256);
    put_u8(out, n);
    put_bytes(out, name, n);
}

static int save_desc(GByteArray *out, const VMStateDescription *vmsd, void *opaque,
                     Error **errp);

static int save_field(GByteArray *out, const VMStateField *f, void *opaque, Error **errp)
{
    for (unsigned i = 0; i < f->num; i++) {
        uint8_t *p = (uint8_t *)opaque + f->offset + i * f->size;
        switch (f->kind) {
        case VMS_UINT8:
        case VMS_UINT16:
        case VMS_UINT32:
        case VMS_UINT64:
        case VMS_INT32:
        case VMS_INT64:
            put_le(out, ldn_le_p(p, f->size), f->size);
            break;
        case VMS_BOOL:
            put_u8(out, *(bool *)p);
            break;
        case VMS_BUFFER:
            put_bytes(out, p, f->size);
            break;
        case VMS_VBUFFER: {
            uint32_t len = *(uint32_t *)((uint8_t *)opaque + f->len_offset);
            put_le(out, len, 4);
            if (len) {
                put_bytes(out, *(uint8_t **)p, len);
            }
            break;
        }
        case VMS_STRUCT:
            if (save_desc(out, f->vmsd, p, errp) < 0) {
                return -1;
            }
            break;
        case VMS_STRUCT_PTR:
            if (!*(void **)p) {
                error_setg(errp, "'%s': field '%s' points nowhere", f->vmsd->name, f->name);
                return -1;
            }
            if (save_desc(out, f->vmsd, *(void **)p, errp) < 0) {
                return -1;
            }
            break;
        case VMS_TIMER: {
            KiteTimer *t = *(KiteTimer **)p;
            int64_t when = t ? timer_expire_time_ns(t) : -1;
            put_le(out, (uint64_t)when, 8);
            break;
        }
        default:
            g_assert_not_reached();
        }
    }
    return 0;
}

static int save_desc(GByteArray *out, const VMStateDescription *vmsd, void *opaque,
                     Error **errp)
{
    if (vmsd->pre_save && vmsd->pre_save(opaque) < 0) {
        error_setg(errp, "pre_save of '%s' failed", vmsd->name);
        return -1;
    }
    put_name(out, vmsd->name);
    put_le(out, vmsd->version_id, 4);
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        if (f->version_id <= vmsd->version_id && save_field(out, f, opaque, errp) < 0) {
            return -1;
        }
    }
    for (const VMStateDescription *const *sub = vmsd->subsections; sub && *sub; sub++) {
        if (!(*sub)->needed || (*sub)->needed(opaque)) {
            put_u8(out, 'S');
            if (save_desc(out, *sub, opaque, errp) < 0) {
                return -1;
            }
        }
    }
    put_u8(out, 'E');
    return 0;
}

int vmstate_save(GByteArray *out, const VMStateDescription *vmsd, void *opaque, Error **errp)
{
    return save_desc(out, vmsd, opaque, errp);
}

/* ------------------------------------------------------------------ load */

typedef struct Reader {
    const uint8_t *buf;
    size_t len, pos;
    Error **errp;
    bool failed;
} Reader;

static bool get_bytes(Reader *r, void *dst, size_t n)
{
    if (r->failed || n > r->len - r->pos) {
        if (!r->failed) {
            error_setg(r->errp, "state stream truncated");
        }
        r->failed = true;
        return false;
    }
    if (dst) {
        memcpy(dst, r->buf + r->pos, n);
    }
    r->pos += n;
    return true;
}

static bool get_le(Reader *r, uint64_t *v, unsigned size)
{
    uint8_t b[8];

    if (!get_bytes(r, b, size)) {
        return false;
    }
    *v = ldn_le_p(b, size);
    return true;
}

static bool get_name(Reader *r, char out[256])
{
    uint8_t n;

    if (!get_bytes(r, &n, 1) || !get_bytes(r, out, n)) {
        return false;
    }
    out[n] = '\0';
    return true;
}

static bool load_desc(Reader *r, const VMStateDescription *vmsd, void *opaque);

static bool load_field(Reader *r, const VMStateField *f, void *opaque)
{
    for (unsigned i = 0; i < f->num; i++) {
        uint8_t *p = (uint8_t *)opaque + f->offset + i * f->size;
        uint64_t v;
        switch (f->kind) {
        case VMS_UINT8:
        case VMS_UINT16:
        case VMS_UINT32:
        case VMS_UINT64:
        case VMS_INT32:
        case VMS_INT64:
            if (!get_le(r, &v, f->size)) {
                return false;
            }
            stn_le_p(p, f->size, v);
            break;
        case VMS_BOOL:
            if (!get_le(r, &v, 1)) {
                return false;
            }
            if (v > 1) {
                error_setg(r->errp, "field '%s': invalid boolean %" PRIu64, f->name, v);
                return false;
            }
            *(bool *)p = v;
            break;
        case VMS_BUFFER:
            if (!get_bytes(r, p, f->size)) {
                return false;
            }
            break;
        case VMS_VBUFFER: {
            uint32_t len = *(uint32_t *)((uint8_t *)opaque + f->len_offset);
            if (!get_le(r, &v, 4)) {
                return false;
            }
            if (v != len) {
                error_setg(r->errp, "field '%s': %" PRIu64 " bytes in the stream, %u expected",
                           f->name, v, len);
                return false;
            }
            if (len && !get_bytes(r, *(uint8_t **)p, len)) {
                return false;
            }
            break;
        }
        case VMS_STRUCT:
            if (!load_desc(r, f->vmsd, p)) {
                return false;
            }
            break;
        case VMS_STRUCT_PTR:
            if (!*(void **)p || !load_desc(r, f->vmsd, *(void **)p)) {
                return false;
            }
            break;
        case VMS_TIMER: {
            KiteTimer *t = *(KiteTimer **)p;
            if (!get_le(r, &v, 8)) {
                return false;
            }
            if (t) {
                if ((int64_t)v < 0) {
                    timer_del(t);
                } else {
                    timer_mod_ns(t, v);
                }
            }
            break;
        }
        default:
            g_assert_not_reached();
        }
    }
    return true;
}

static bool load_desc(Reader *r, const VMStateDescription *vmsd, void *opaque)
{
    char name[256];
    uint64_t version;
    uint8_t marker;

    if (!get_name(r, name) || !get_le(r, &version, 4)) {
        return false;
    }
    if (strcmp(name, vmsd->name)) {
        error_setg(r->errp, "state stream has '%s' where '%s' was expected", name, vmsd->name);
        return false;
    }
    if ((int64_t)version > vmsd->version_id || (int64_t)version < vmsd->minimum_version_id) {
        error_setg(r->errp, "'%s': version %" PRIu64 " not supported (accepts %d..%d)",
                   vmsd->name, version, vmsd->minimum_version_id, vmsd->version_id);
        return false;
    }
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        if (f->version_id <= (int)version && !load_field(r, f, opaque)) {
            if (!r->failed && r->errp && !*r->errp) {
                error_setg(r->errp, "'%s': bad field '%s'", vmsd->name, f->name);
            }
            return false;
        }
    }
    while (true) {
        const VMStateDescription *const *sub;
        size_t save_pos;

        if (!get_bytes(r, &marker, 1)) {
            return false;
        }
        if (marker == 'E') {
            break;
        }
        if (marker != 'S') {
            error_setg(r->errp, "'%s': corrupt subsection marker 0x%02x", vmsd->name, marker);
            return false;
        }
        save_pos = r->pos;
        if (!get_name(r, name)) {
            return false;
        }
        r->pos = save_pos;
        for (sub = vmsd->subsections; sub && *sub; sub++) {
            if (!strcmp((*sub)->name, name)) {
                break;
            }
        }
        if (!sub || !*sub) {
            error_setg(r->errp, "'%s': unknown subsection '%s'", vmsd->name, name);
            return false;
        }
        if (!load_desc(r, *sub, opaque)) {
            return false;
        }
    }
    if (vmsd->post_load && vmsd->post_load(opaque, version) < 0) {
        error_setg(r->errp, "'%s': post_load failed", vmsd->name);
        return false;
    }
    return true;
}

bool vmstate_load(const uint8_t *buf, size_t len, size_t *pos, const VMStateDescription *vmsd,
                  void *opaque, Error **errp)
{
    Error *err = NULL;
    Reader r = { .buf = buf, .len = len, .pos = *pos, .errp = &err };
    bool ok = *pos <= len && load_desc(&r, vmsd, opaque);

    if (!ok) {
        if (!err) {
            error_setg(&err, "state stream truncated");
        }
        error_propagate(errp, err);
        return false;
    }
    *pos = r.pos;
    return true;
}

/* -------------------------------------------------------------- registry */

void vmstate_register(const char *idstr, const VMStateDescription *vmsd, void *opaque)
{
    VMStateEntry *e = g_new0(VMStateEntry, 1);

    if (!vmstate_entries) {
        vmstate_entries = g_ptr_array_new();
    }
    e->idstr = g_strdup(idstr);
    e->vmsd = vmsd;
    e->opaque = opaque;
    g_ptr_array_add(vmstate_entries, e);
}

void vmstate_unregister(const VMStateDescription *vmsd, void *opaque)
{
    for (guint i = 0; vmstate_entries && i < vmstate_entries->len; i++) {
        VMStateEntry *e = vmstate_entries->pdata[i];
        if (e->vmsd == vmsd && e->opaque == opaque) {
            g_ptr_array_remove_index(vmstate_entries, i);
            g_free(e->idstr);
            g_free(e);
            return;
        }
    }
}

int vmstate_save_all(GByteArray *out, Error **errp)
{
    for (guint i = 0; vmstate_entries && i < vmstate_entries->len; i++) {
        VMStateEntry *e = vmstate_entries->pdata[i];
        put_u8(out, 'D');
        put_le(out, strlen(e->idstr), 2);
        put_bytes(out, e->idstr, strlen(e->idstr));
        if (save_desc(out, e->vmsd, e->opaque, errp) < 0) {
            return -1;
        }
    }
    put_u8(out, 'Z');
    return 0;
}

bool vmstate_load_all(const uint8_t *buf, size_t len, Error **errp)
{
    size_t pos = 0;

    while (true) {
        uint64_t n;
        g_autofree char *id = NULL;
        VMStateEntry *found = NULL;

        if (pos >= len) {
            error_setg(errp, "state stream truncated");
            return false;
        }
        if (buf[pos] == 'Z') {
            return true;
        }
        if (buf[pos] != 'D' || len - pos < 3) {
            error_setg(errp, "corrupt state stream at byte %zu", pos);
            return false;
        }
        n = lduw_le_p(buf + pos + 1);
        pos += 3;
        if (n > len - pos) {
            error_setg(errp, "state stream truncated");
            return false;
        }
        id = g_strndup((const char *)buf + pos, n);
        pos += n;
        for (guint i = 0; vmstate_entries && i < vmstate_entries->len; i++) {
            VMStateEntry *e = vmstate_entries->pdata[i];
            if (!strcmp(e->idstr, id)) {
                found = e;
                break;
            }
        }
        if (!found) {
            error_setg(errp, "state stream has unknown section '%s'", id);
            return false;
        }
        if (!vmstate_load(buf, len, &pos, found->vmsd, found->opaque, errp)) {
            error_prepend(errp, "%s: ", id);
            return false;
        }
    }
}
