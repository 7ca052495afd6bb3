/*
 * Block-layer QMP commands: query-block, eject, blockdev-open-tray, blockdev-close-tray,
 * blockdev-remove-medium, blockdev-insert-medium and blockdev-change-medium (QEMU's
 * qapi/block.json semantics).  The drive is named by its -drive id / node name (device) or by the qdev id
 * of the device holding it (id); the device's BlockDevOps move the tray and tell the guest
 * (for ide-cd: unit attention and a media event).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qmp-block.h"
#ifdef CONFIG_JSON
#include "block/block.h"
#include "hw/qdev.h"
#include <string.h>

static const char *opt_str(JsonObject *args, const char *name)
{
    return json_object_has_member(args, name) ? json_object_get_string_member(args, name)
                                              : NULL;
}

/* QEMU's qmp_get_blk. */
static BlockBackend *find_blk(JsonObject *args, const char **name, Error **errp)
{
    const char *device = opt_str(args, "device"), *id = opt_str(args, "id");

    if (!device == !id) {
        error_setg(errp, "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    if (device) {
        BlockBackend *blk = blk_by_name(device);
        if (!blk) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device);
        }
        *name = device;
        return blk;
    }
    *name = id;
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DeviceState *dev = blk_get_attached_dev(blk);
        if (dev && dev->id && !strcmp(dev->id, id)) {
            return blk;
        }
    }
    error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    return NULL;
}

static JsonNode *empty_object(void)
{
    return json_node_init_object(json_node_alloc(), json_object_new());
}

static void add_int(JsonBuilder *b, const char *k, int64_t v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

static void add_bool(JsonBuilder *b, const char *k, bool v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_boolean_value(b, v);
}

static void add_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

/* BlockDeviceInfo ("inserted") for the medium of blk (QEMU's bdrv_block_device_info). */
static void add_inserted(JsonBuilder *b, BlockBackend *blk, BlockDriverState *bs)
{
    int flags = blk_get_open_flags(blk), depth = 0;
    BlockDriverInfo bdi;
    int64_t actual = bdrv_get_allocated_file_size(bs);

    for (BlockDriverState *p = bdrv_get_backing(bs); p; p = bdrv_get_backing(p)) {
        depth++;
    }
    json_builder_set_member_name(b, "inserted");
    json_builder_begin_object(b);
    add_str(b, "file", bdrv_get_filename(bs));
    add_str(b, "node-name", bdrv_get_node_name(bs));
    add_bool(b, "ro", blk_is_read_only(blk));
    add_str(b, "drv", bdrv_get_format_name(bs));
    if (bdrv_get_backing_filename(bs)) {
        add_str(b, "backing_file", bdrv_get_backing_filename(bs));
    }
    add_int(b, "backing_file_depth", depth);
    add_bool(b, "encrypted", false);
    add_str(b, "detect_zeroes", "off");
    for (const char *const *k = (const char *const[]) { "bps", "bps_rd", "bps_wr", "iops",
                                                        "iops_rd", "iops_wr", NULL }; *k; k++) {
        add_int(b, *k, 0);
    }
    add_int(b, "write_threshold", 0);
    json_builder_set_member_name(b, "cache");
    json_builder_begin_object(b);
    add_bool(b, "writeback", blk_enable_write_cache(blk));
    add_bool(b, "direct", flags & BDRV_O_NOCACHE);
    add_bool(b, "no-flush", flags & BDRV_O_NO_FLUSH);
    json_builder_end_object(b);
    bdrv_get_info(bs, &bdi);
    json_builder_set_member_name(b, "image");
    json_builder_begin_object(b);
    add_str(b, "filename", bdrv_get_filename(bs));
    add_str(b, "format", bdrv_get_format_name(bs));
    add_int(b, "virtual-size", bdrv_getlength(bs));
    if (actual >= 0) {
        add_int(b, "actual-size", actual);
    }
    if (bdi.cluster_size) {
        add_int(b, "cluster-size", bdi.cluster_size);
    }
    add_bool(b, "dirty-flag", bdi.is_dirty);
    if (bdrv_get_backing_filename(bs)) {
        add_str(b, "backing-filename", bdrv_get_backing_filename(bs));
    }
    json_builder_end_object(b);
    kite_opts_free(bdi.specific);
    json_builder_end_object(b);
}

JsonNode *qmp_block_query_block(Error **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_array(b);
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DeviceState *dev = blk_get_attached_dev(blk);
        BlockDriverState *bs = blk_bs(blk);
        /* As QEMU's blk_dev_has_removable_media(): a drive no device holds counts too. */
        bool removable = !dev || blk_dev_has_removable_media(blk);
        if (!*blk_name(blk)) {
            continue;                              /* anonymous (-device's own) */
        }
        json_builder_begin_object(b);
        add_str(b, "device", blk_name(blk));
        if (dev) {
            g_autofree char *path = object_get_canonical_path(OBJECT(dev));
            add_str(b, "qdev", dev->id ? dev->id : path);
        }
        add_bool(b, "locked", blk_dev_is_medium_locked(blk));
        add_bool(b, "removable", removable);
        if (removable) {
            add_bool(b, "tray_open", blk_dev_is_tray_open(blk));
        }
        if (dev) {
            add_str(b, "io-status", "ok");
        }
        if (bs) {
            add_inserted(b, blk, bs);
        }
        add_str(b, "type", "unknown");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

JsonNode *qmp_block_eject(JsonObject *args, Error **errp)
{
    const char *name = NULL;
    BlockBackend *blk = find_blk(args, &name, errp);
    bool force = json_object_has_member(args, "force") &&
                 json_object_get_boolean_member(args, "force");

    if (!blk || !blk_eject(blk, name, force, errp)) {
        return NULL;
    }
    return empty_object();
}

static bool opt_bool(JsonObject *args, const char *name)
{
    return json_object_has_member(args, name) && json_object_get_boolean_member(args, name);
}

/*
 * blockdev-open-tray: a locked tray (the guest said PREVENT MEDIUM REMOVAL) is not opened
 * without force, but the command succeeds: the guest gets an eject request and
 * DEVICE_TRAY_MOVED follows if it lets go.  A device without a tray: nothing to do.
 */
JsonNode *qmp_blockdev_open_tray(JsonObject *args, Error **errp)
{
    const char *name = NULL;
    BlockBackend *blk = find_blk(args, &name, errp);
    Error *err = NULL;
    int rc;

    if (!blk) {
        return NULL;
    }
    rc = blk_open_tray(blk, name, opt_bool(args, "force"), &err);
    if (rc && rc != -ENOSYS && rc != -EINPROGRESS) {
        error_propagate(errp, err);
        return NULL;
    }
    error_free(err);
    return empty_object();
}

JsonNode *qmp_blockdev_close_tray(JsonObject *args, Error **errp)
{
    const char *name = NULL;
    BlockBackend *blk = find_blk(args, &name, errp);

    if (!blk || !blk_close_tray(blk, name, errp)) {
        return NULL;
    }
    return empty_object();
}

/* blockdev-remove-medium and -insert-medium name the device by its qdev id only. */
static BlockBackend *find_blk_by_id(JsonObject *args, const char **name, Error **errp)
{
    g_autoptr(JsonObject) o = json_object_new();
    BlockBackend *blk;

    json_object_set_string_member(o, "id", json_object_get_string_member(args, "id"));
    blk = find_blk(o, name, errp);
    *name = json_object_get_string_member(args, "id");     /* outlives o */
    return blk;
}

JsonNode *qmp_blockdev_remove_medium(JsonObject *args, Error **errp)
{
    const char *name = NULL;
    BlockBackend *blk = find_blk_by_id(args, &name, errp);

    if (!blk || !blk_remove_medium(blk, name, errp)) {
        return NULL;
    }
    return empty_object();
}

JsonNode *qmp_blockdev_insert_medium(JsonObject *args, Error **errp)
{
    const char *name = NULL, *node = json_object_get_string_member(args, "node-name");
    BlockBackend *blk = find_blk_by_id(args, &name, errp);
    BlockDriverState *bs;

    if (!blk) {
        return NULL;
    }
    bs = bdrv_find_node(node);
    if (!bs) {
        error_setg(errp, "Node '%s' not found", node);
        return NULL;
    }
    if (blk_by_bs(bs)) {
        error_setg(errp, "Node '%s' is already in use", node);
        return NULL;
    }
    if (!blk_insert_medium(blk, bs, errp)) {
        return NULL;
    }
    return empty_object();
}

JsonNode *qmp_block_change_medium(JsonObject *args, Error **errp)
{
    const char *name = NULL, *mode = opt_str(args, "read-only-mode");
    BlockBackend *blk;

    GList *members = json_object_get_members(args);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;
        if (strcmp(m, "device") && strcmp(m, "id") && strcmp(m, "filename") &&
            strcmp(m, "format") && strcmp(m, "read-only-mode") && strcmp(m, "force")) {
            error_setg(errp, "Parameter '%s' is unexpected", m);
            g_list_free(members);
            return NULL;
        }
    }
    g_list_free(members);
    if (!json_object_has_member(args, "filename")) {
        error_setg(errp, "Parameter 'filename' is missing");
        return NULL;
    }
    if (mode && strcmp(mode, "retain") && strcmp(mode, "read-only")) {
        error_setg(errp, "Parameter 'read-only-mode' does not accept value '%s' for this "
                   "device (retain or read-only)", mode);
        return NULL;
    }
    blk = find_blk(args, &name, errp);
    if (!blk || !blk_change_medium(blk, name, json_object_get_string_member(args, "filename"),
                                   opt_str(args, "format"), opt_bool(args, "force"), errp)) {
        return NULL;
    }
    return empty_object();
}
#endif
