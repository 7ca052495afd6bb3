/*
 * Block-layer QMP commands (block/qmp-block.c) for the monitor's command table: eject and
 * blockdev-change-medium, with QEMU's arguments and errors.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_QMP_BLOCK_H
#define BLOCK_QMP_BLOCK_H

#include "kite-config.h"
#ifdef CONFIG_JSON
#include "kite/error.h"
#include <json-glib/json-glib.h>

/* eject {device | id, force?} */
JsonNode *qmp_block_eject(JsonObject *args, Error **errp);
/* blockdev-change-medium {device | id, filename, format?, read-only-mode?} */
JsonNode *qmp_block_change_medium(JsonObject *args, Error **errp);
JsonNode *qmp_blockdev_open_tray(JsonObject *args, Error **errp);
JsonNode *qmp_blockdev_close_tray(JsonObject *args, Error **errp);
JsonNode *qmp_blockdev_remove_medium(JsonObject *args, Error **errp);
JsonNode *qmp_blockdev_insert_medium(JsonObject *args, Error **errp);
/* query-block: the BlockInfo array (the monitor's qmp_query_block_hook). */
JsonNode *qmp_block_query_block(Error **errp);
#endif

#endif
