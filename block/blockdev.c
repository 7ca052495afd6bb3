/*
 * -drive, -blockdev and their shorthands, as QEMU spells them (QEMU's blockdev.c,
 * drive_new): the legacy -drive mixes host options (file=, format=, cache=, aio=) with the
 * guest's (if=, bus=, unit=, index=, media=), so the guest half is kept in a DriveInfo for
 * the board, and the host half becomes a node graph behind a named BlockBackend.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/blockdev.h"
#include "block/block_int.h"
#include "kite/object.h"
#ifdef CONFIG_JSON
#include <json-glib/json-glib.h>
#endif

typedef struct PendingOption {
    char *name;
    char *arg;
} PendingOption;

static GPtrArray *pending;          /* of PendingOption *, in command-line order */
static bool snapshot_all;            /* -snapshot */
static GList *drives;                /* of DriveInfo * */
static GList *blockdev_nodes;        /* of BlockDriverState *, -blockdev roots */

static const char *const if_names[IF_COUNT] = {
    [IF_NONE] = "none", [IF_IDE] = "ide", [IF_VIRTIO] = "virtio",
};
/* Units per bus: IDE has master and slave; virtio is one drive per device. */
static const int if_max_devs[IF_COUNT] = { [IF_IDE] = 2 };

bool blockdev_is_option(const char *name)
{
    static const char *const names[] = {
        "drive", "blockdev", "hda", "hdb", "hdc", "hdd", "cdrom", "snapshot",
    };
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(name, names[i])) {
            return true;
        }
    }
    return false;
}

static void print_format(void *opaque, const char *name)
{
    printf(" %s", name);
}

void blockdev_add_option(const char *name, const char *arg)
{
    PendingOption *p;

    if (!strcmp(name, "snapshot")) {
        snapshot_all = true;
        return;
    }
    if (!strcmp(name, "drive") && arg) {
        g_autoptr(KiteOpts) o = kite_opts_parse(arg, NULL, NULL);
        const char *fmt = o ? kite_opts_get(o, "format") : NULL;
        if (fmt && (!strcmp(fmt, "help") || !strcmp(fmt, "?"))) {
            /* QEMU's format=help prints the list at once and exits. */
            printf("Supported formats:");
            bdrv_iterate_format(print_format, NULL);
            printf("\n");
            exit(0);
        }
    }
    if (!pending) {
        pending = g_ptr_array_new();
    }
    p = g_new0(PendingOption, 1);
    p->name = g_strdup(name);
    p->arg = g_strdup(arg);
    g_ptr_array_add(pending, p);
}

/* ------------------------------------------------------------------ drives */

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit)
{
    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        if (d->type == type && d->bus == bus && d->unit == unit) {
            return d;
        }
    }
    return NULL;
}

int drive_get_max_bus(BlockInterfaceType type)
{
    int max = -1;

    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        if (d->type == type && d->bus > max) {
            max = d->bus;
        }
    }
    return max;
}

DriveInfo *drive_get_by_index(BlockInterfaceType type, int index)
{
    int max_devs = if_max_devs[type];

    if (max_devs) {
        return drive_get(type, index / max_devs, index % max_devs);
    }
    return drive_get(type, 0, index);
}

DriveInfo *drive_next(DriveInfo *d)
{
    GList *l = d ? g_list_find(drives, d) : NULL;

    l = d ? (l ? l->next : NULL) : drives;
    return l ? l->data : NULL;
}

bool drive_check_orphaned(Error **errp)
{
    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        if (d->type != IF_NONE && !blk_get_attached_dev(d->blk)) {
            /* QEMU's words (blockdev.c, drive_check_orphaned). */
            error_setg(errp, "machine type does not support if=%s,bus=%d,unit=%d",
                       if_names[d->type], d->bus, d->unit);
            return false;
        }
    }
    return true;
}

const char *drive_if_name(BlockInterfaceType type)
{
    return if_names[type];
}

DriveInfo *blk_legacy_dinfo(BlockBackend *blk)
{
    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        if (d->blk == blk) {
            return d;
        }
    }
    return NULL;
}

static bool get_int_opt(KiteOpts *o, const char *key, int *val, Error **errp)
{
    uint64_t v;

    if (!kite_opts_has(o, key)) {
        return true;
    }
    if (!kite_opts_get_uint(o, key, &v, errp)) {
        return false;
    }
    if (v > 1024) {
        error_setg(errp, "%s=%" PRIu64 " is out of range", key, v);
        return false;
    }
    *val = (int)v;
    return true;
}

static bool id_valid(const char *s)
{
    if (!g_ascii_isalpha(s[0])) {
        return false;
    }
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '.' && *s != '_') {
            return false;
        }
    }
    return true;
}

/* cache=MODE -> (write cache, O_DIRECT, no flush), as QEMU's bdrv_parse_cache_mode. */
static bool parse_cache_mode(const char *mode, bool *wce, bool *direct, bool *no_flush,
                             Error **errp)
{
    *wce = true;
    *direct = false;
    *no_flush = false;
    if (!strcmp(mode, "writeback")) {
        return true;
    } else if (!strcmp(mode, "none") || !strcmp(mode, "off")) {
        *direct = true;
    } else if (!strcmp(mode, "writethrough")) {
        *wce = false;
    } else if (!strcmp(mode, "directsync")) {
        *wce = false;
        *direct = true;
    } else if (!strcmp(mode, "unsafe")) {
        *no_flush = true;
    } else {
        error_setg(errp, "invalid cache option '%s' (expected writeback, none, writethrough, "
                   "directsync or unsafe)", mode);
        return false;
    }
    return true;
}

/* Turn -drive options (which it consumes) into a drive; opts holds only keys. */
static DriveInfo *drive_new_opts(KiteOpts *opts, Error **errp)
{
    BlockInterfaceType type = IF_IDE;       /* the pc machine's default interface */
    g_autofree char *file = kite_opts_take(opts, "file");
    g_autofree char *format = kite_opts_take(opts, "format");
    g_autofree char *id = kite_opts_take(opts, "id");
    g_autofree char *media = kite_opts_take(opts, "media");
    g_autofree char *cache = kite_opts_take(opts, "cache");
    g_autofree char *aio = kite_opts_take(opts, "aio");
    g_autofree char *werror = kite_opts_take(opts, "werror");
    g_autofree char *rerror = kite_opts_take(opts, "rerror");
    g_autofree char *ifname = kite_opts_take(opts, "if");
    BlockdevOnError on_werror = BLOCKDEV_ON_ERROR_AUTO, on_rerror = BLOCKDEV_ON_ERROR_AUTO;
    bool readonly = false, snapshot = snapshot_all, cdrom = false;
    bool wce = true, direct = false, no_flush = false;
    int index = -1, bus = -1, unit = -1, max_devs, flags;
    BlockBackend *blk;
    DriveInfo *dinfo;

    if (ifname) {
        for (type = 0; type < IF_COUNT; type++) {
            if (!strcmp(ifname, if_names[type])) {
                break;
            }
        }
        if (type == IF_COUNT) {
            if (!strcmp(ifname, "scsi") || !strcmp(ifname, "floppy") ||
                !strcmp(ifname, "sd") || !strcmp(ifname, "pflash") || !strcmp(ifname, "mtd")) {
                error_setg(errp, "if=%s is not supported by Kite (use if=ide, if=virtio or "
                           "if=none)", ifname);
            } else {
                error_setg(errp, "unsupported bus type '%s'", ifname);
            }
            return NULL;
        }
    }
    if (media) {
        if (!strcmp(media, "cdrom")) {
            cdrom = true;
        } else if (strcmp(media, "disk")) {
            error_setg(errp, "'%s' invalid media (expected disk or cdrom)", media);
            return NULL;
        }
    }
    if (!kite_opts_get_bool(opts, "readonly", &readonly, errp) ||
        !kite_opts_get_bool(opts, "read-only", &readonly, errp) ||
        !kite_opts_get_bool(opts, "snapshot", &snapshot, errp) ||
        !get_int_opt(opts, "index", &index, errp) ||
        !get_int_opt(opts, "bus", &bus, errp) ||
        !get_int_opt(opts, "unit", &unit, errp)) {
        return NULL;
    }
    g_free(kite_opts_take(opts, "readonly"));
    g_free(kite_opts_take(opts, "read-only"));
    g_free(kite_opts_take(opts, "snapshot"));
    g_free(kite_opts_take(opts, "index"));
    g_free(kite_opts_take(opts, "bus"));
    g_free(kite_opts_take(opts, "unit"));
    if (cache && !parse_cache_mode(cache, &wce, &direct, &no_flush, errp)) {
        return NULL;
    }
    if (kite_opts_has(opts, "cache.writeback")) {
        if (!kite_opts_get_bool(opts, "cache.writeback", &wce, errp)) {
            return NULL;
        }
        g_free(kite_opts_take(opts, "cache.writeback"));
    }
    if ((werror && !blockdev_on_error_parse(werror, "write", &on_werror, errp)) ||
        (rerror && !blockdev_on_error_parse(rerror, "read", &on_rerror, errp))) {
        return NULL;
    }
    if (rerror && on_rerror == BLOCKDEV_ON_ERROR_ENOSPC) {
        error_setg(errp, "rerror=enospc is not supported (only werror=enospc)");
        return NULL;
    }
    if (aio) {
        kite_opts_set(opts, "file.aio", aio);
    }
    if (cdrom) {
        readonly = true;
    }

    /* Where the drive sits: index= or bus=/unit=, else the first free unit. */
    max_devs = if_max_devs[type];
    if (index >= 0) {
        if (bus >= 0 || unit >= 0) {
            error_setg(errp, "index cannot be used with bus and unit");
            return NULL;
        }
        bus = max_devs ? index / max_devs : 0;
        unit = max_devs ? index % max_devs : index;
    }
    bus = bus < 0 ? 0 : bus;
    if (unit < 0) {
        unit = 0;
        while (drive_get(type, bus, unit)) {
            unit++;
            if (max_devs && unit >= max_devs) {
                unit = 0;
                bus++;
            }
        }
    }
    if (max_devs && unit >= max_devs) {
        error_setg(errp, "unit %d too big (max is %d)", unit, max_devs - 1);
        return NULL;
    }
    if (drive_get(type, bus, unit)) {
        error_setg(errp, "drive with bus=%d, unit=%d (index=%d) exists", bus, unit,
                   max_devs ? bus * max_devs + unit : unit);
        return NULL;
    }
    if (id && !id_valid(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier (a letter, then letters, "
                   "digits, '-', '.', '_'), not '%s'", id);
        return NULL;
    }
    if (!id) {
        if (type == IF_IDE) {
            id = g_strdup_printf("ide%d-%s%d", bus, cdrom ? "cd" : "hd", unit);
        } else {
            id = g_strdup_printf("%s%s%d", if_names[type], cdrom ? "-cd" : "", unit);
        }
    }
    if (!file && !cdrom && opts->items->len == 0) {
        error_setg(errp, "drive '%s' needs a file (file=)", id);
        return NULL;
    }
    if (snapshot && readonly) {
        snapshot = false;       /* nothing would be written anyway */
    }

    flags = (readonly ? 0 : BDRV_O_RDWR) | (direct ? BDRV_O_NOCACHE : 0) |
            (no_flush ? BDRV_O_NO_FLUSH : 0) | (snapshot ? BDRV_O_SNAPSHOT : 0);
    if (file && !*file) {
        g_free(file);
        file = NULL;
    }
    blk = blk_new_open(id, file, format, (file || opts->items->len) ? opts : NULL, flags,
                       errp);
    if (!blk) {
        return NULL;
    }
    blk_set_enable_write_cache(blk, wce);
    blk_set_on_error(blk, on_rerror, on_werror);

    dinfo = g_new0(DriveInfo, 1);
    dinfo->type = type;
    dinfo->bus = bus;
    dinfo->unit = unit;
    dinfo->is_cdrom = cdrom;
    dinfo->id = g_strdup(id);
    dinfo->blk = blk;
    drives = g_list_append(drives, dinfo);
    return dinfo;
}

DriveInfo *drive_new(const char *optstr, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_parse(optstr, NULL, errp);

    return opts ? drive_new_opts(opts, errp) : NULL;
}

/* -hda FILE etc.: the file name is taken whole (it may contain commas). */
static DriveInfo *drive_new_shorthand(const char *name, const char *file, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_new();
    int index = !strcmp(name, "cdrom") ? 2 : name[2] - 'a';
    g_autofree char *idx = g_strdup_printf("%d", index);

    kite_opts_set(opts, "file", file);
    kite_opts_set(opts, "index", idx);
    kite_opts_set(opts, "media", !strcmp(name, "cdrom") ? "cdrom" : "disk");
    return drive_new_opts(opts, errp);
}

/* ---------------------------------------------------------------- -blockdev */

#ifdef CONFIG_JSON
static void json_flatten(KiteOpts *o, const char *prefix, JsonObject *obj);

static void json_flatten_member(JsonObject *obj, const gchar *name, JsonNode *node,
                                gpointer data)
{
    void **args = data;
    KiteOpts *o = args[0];
    const char *prefix = args[1];
    g_autofree char *key = prefix ? g_strdup_printf("%s.%s", prefix, name) : g_strdup(name);

    if (JSON_NODE_HOLDS_OBJECT(node)) {
        json_flatten(o, key, json_node_get_object(node));
    } else if (JSON_NODE_HOLDS_VALUE(node)) {
        GType t = json_node_get_value_type(node);
        g_autofree char *v = NULL;
        if (t == G_TYPE_BOOLEAN) {
            v = g_strdup(json_node_get_boolean(node) ? "on" : "off");
        } else if (t == G_TYPE_INT64) {
            v = g_strdup_printf("%" PRId64, json_node_get_int(node));
        } else if (t == G_TYPE_DOUBLE) {
            v = g_strdup_printf("%g", json_node_get_double(node));
        } else {
            v = g_strdup(json_node_get_string(node));
        }
        kite_opts_set(o, key, v);
    } else {
        /* Arrays and null have no -blockdev meaning here: keep the key so it is reported. */
        kite_opts_set(o, key, "");
    }
}

static void json_flatten(KiteOpts *o, const char *prefix, JsonObject *obj)
{
    void *args[2] = { o, (void *)prefix };

    json_object_foreach_member(obj, json_flatten_member, args);
}
#endif

static KiteOpts *blockdev_parse(const char *optstr, Error **errp)
{
    if (optstr[0] != '{') {
        return kite_opts_parse(optstr, NULL, errp);
    }
#ifdef CONFIG_JSON
    {
        g_autoptr(JsonParser) parser = json_parser_new();
        GError *gerr = NULL;
        JsonNode *root;
        KiteOpts *o;

        if (!json_parser_load_from_data(parser, optstr, -1, &gerr)) {
            error_setg(errp, "JSON parse error: %s", gerr->message);
            g_error_free(gerr);
            return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            error_setg(errp, "-blockdev JSON must be an object");
            return NULL;
        }
        o = kite_opts_new();
        json_flatten(o, NULL, json_node_get_object(root));
        return o;
    }
#else
    error_setg(errp, "-blockdev JSON needs json-glib, which this build lacks");
    return NULL;
#endif
}

BlockDriverState *blockdev_new(const char *optstr, Error **errp)
{
    g_autoptr(KiteOpts) opts = blockdev_parse(optstr, errp);
    BlockDriverState *bs;
    bool ro = false;

    if (!opts) {
        return NULL;
    }
    if (!kite_opts_has(opts, "driver")) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (!kite_opts_has(opts, "node-name")) {
        error_setg(errp, "'node-name' must be specified for the root node");
        return NULL;
    }
    if (!kite_opts_get_bool(opts, "read-only", &ro, errp)) {
        return NULL;
    }
    /* Accepted and meaningless here (QEMU's auto-read-only). */
    g_free(kite_opts_take(opts, "auto-read-only"));
    bs = bdrv_open(NULL, NULL, opts, (ro ? 0 : BDRV_O_RDWR) | BDRV_O_LOCK_LATER, errp);
    if (bs) {
        /* No user yet: a raw or file node locks nothing until a device takes it (QEMU). */
        bdrv_set_perm(bs, 0, BLK_PERM_ALL, NULL);
        blockdev_nodes = g_list_append(blockdev_nodes, bs);
    }
    return bs;
}

/* -------------------------------------------------------------- start-up */

bool blockdev_init(Error **errp)
{
    /* -blockdev nodes first: a -drive or -device may refer to them. */
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; pending && i < pending->len; i++) {
            PendingOption *p = g_ptr_array_index(pending, i);
            bool is_blockdev = !strcmp(p->name, "blockdev");
            bool ok;

            if (is_blockdev != (pass == 0)) {
                continue;
            }
            if (is_blockdev) {
                ok = blockdev_new(p->arg, errp) != NULL;
            } else if (!strcmp(p->name, "drive")) {
                ok = drive_new(p->arg, errp) != NULL;
            } else {
                ok = drive_new_shorthand(p->name, p->arg, errp) != NULL;
            }
            if (!ok) {
                error_prepend(errp, "-%s %s: ", p->name, p->arg);
                return false;
            }
        }
    }
    return true;
}

void blockdev_close_all(void)
{
    for (GList *l = drives; l; l = l->next) {
        DriveInfo *d = l->data;
        blk_unref(d->blk);
        g_free(d->id);
        g_free(d);
    }
    g_list_free(drives);
    drives = NULL;
    g_list_free_full(blockdev_nodes, (GDestroyNotify)bdrv_unref);
    blockdev_nodes = NULL;
}

/* ------------------------------------------------------- drive property */

static bool drive_prop_parse(Object *obj, const Property *prop, void *field, const char *text,
                             Error **errp)
{
    BlockBackend **pblk = field;
    BlockBackend *blk = NULL;
    bool anonymous = false;

    if (*text) {
        blk = blk_by_name(text);
        if (!blk) {
            BlockDriverState *bs = bdrv_find_node(text);
            if (bs) {
                /* -device ...,drive=NODE: an anonymous backend on the node. */
                blk = blk_new_with_bs(NULL, bs, errp);
                anonymous = true;
            }
        }
        if (!blk) {
            error_setg(errp, "Property '%s.%s' can't find value '%s'",
                       object_get_typename(obj), prop->name, text);
            return false;
        }
        if (blk_attach_dev(blk, obj) < 0) {
            error_setg(errp, "Property '%s.%s' can't take value '%s', it's in use",
                       object_get_typename(obj), prop->name, text);
            if (anonymous) {
                blk_unref(blk);
            }
            return false;
        }
        /* The device's use of the image is locked now, as QEMU: errors name -device. */
        if (blk_update_perm(blk, errp) < 0) {
            blk_detach_dev(blk, obj);
            if (anonymous) {
                blk_unref(blk);
            }
            return false;
        }
        DriveInfo *d = blk_legacy_dinfo(blk);
        if (d) {
            d->claimed = true;
        }
    }
    if (*pblk) {
        blk_detach_dev(*pblk, obj);
        if (!*blk_name(*pblk)) {
            blk_unref(*pblk);
        }
    }
    *pblk = blk;
    return true;
}

static char *drive_prop_print(Object *obj, const Property *prop, void *field)
{
    BlockBackend *blk = *(BlockBackend **)field;

    if (!blk) {
        return g_strdup("");
    }
    if (*blk_name(blk)) {
        return g_strdup(blk_name(blk));
    }
    return g_strdup(blk_bs(blk) ? bdrv_get_node_name(blk_bs(blk)) : "");
}

static void drive_prop_release(Object *obj, const Property *prop, void *field)
{
    BlockBackend **pblk = field;

    if (*pblk) {
        blk_detach_dev(*pblk, obj);
        if (!*blk_name(*pblk)) {
            blk_unref(*pblk);
        }
        *pblk = NULL;
    }
}

const PropertyInfo prop_info_drive = {
    .type = "str", .description = "Node name or ID of a block device to use as a backend",
    .parse = drive_prop_parse, .print = drive_prop_print, .release = drive_prop_release,
};
