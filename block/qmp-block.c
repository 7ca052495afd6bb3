/*
 * Block-layer QMP commands: eject and blockdev-change-medium (QEMU's qapi/block.json
 * semantics).  The drive is named by its -drive id / node name (device) or by the qdev id
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
                                   opt_str(args, "format"), errp)) {
        return NULL;
    }
    return empty_object();
}
#endif
