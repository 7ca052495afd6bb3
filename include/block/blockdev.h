/*
 * Drives from the command line: -drive, -blockdev, -hda..-hdd, -cdrom, -snapshot.
 *
 * Options are recorded while the command line is parsed and opened by blockdev_init() before
 * the board is built.  The board creates devices for if=ide and if=virtio drives from
 * drive_get(); -device ...,drive=ID finds any drive (or -blockdev node) by name through the
 * "drive" property (DEFINE_PROP_DRIVE), which attaches the device to the BlockBackend.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_BLOCKDEV_H
#define BLOCK_BLOCKDEV_H

#include "block/block.h"
#include "kite/property.h"

typedef enum BlockInterfaceType {
    IF_NONE,
    IF_IDE,
    IF_VIRTIO,
    IF_COUNT
} BlockInterfaceType;

typedef struct DriveInfo {
    BlockInterfaceType type;
    int bus, unit;
    bool is_cdrom;              /* media=cdrom */
    char *id;
    BlockBackend *blk;
    bool claimed;               /* a board or device took it (drive_get_claim) */
} DriveInfo;

/* True if name is a drive option ("drive", "blockdev", "hda", "cdrom", "snapshot"...). */
bool blockdev_is_option(const char *name);
/* Record it (arg may be NULL for -snapshot). */
void blockdev_add_option(const char *name, const char *arg);
/* Open every recorded drive and node; false with an error naming the option. */
bool blockdev_init(Error **errp);
/* Parse and open one -drive string now (tests, the monitor). */
DriveInfo *drive_new(const char *optstr, Error **errp);
/* Parse and open one -blockdev string now (key=val or JSON). */
BlockDriverState *blockdev_new(const char *optstr, Error **errp);

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit);
/* The n-th drive of a type in order of (bus, unit), or NULL. */
DriveInfo *drive_get_by_index(BlockInterfaceType type, int index);
int drive_get_max_bus(BlockInterfaceType type);          /* -1 if none */
/* Iterate over all drives in creation order (NULL starts). */
DriveInfo *drive_next(DriveInfo *d);
const char *drive_if_name(BlockInterfaceType type);
/* After the board and -device: an if=ide/virtio drive no device took is an error, as in QEMU. */
bool drive_check_orphaned(Error **errp);
/* Drive for a BlockBackend, or NULL. */
DriveInfo *blk_legacy_dinfo(BlockBackend *blk);
/* Close every drive (exit). */
void blockdev_close_all(void);

/* The "drive" device property: a BlockBackend * field, set from a drive id or node name. */
extern const PropertyInfo prop_info_drive;
#define DEFINE_PROP_DRIVE(n, S, f) \
    DEFINE_PROP_FIELD_(n, S, f, BlockBackend *, prop_info_drive)

#endif
