/*
 * Images the machine writes into guest memory itself: kernels, initrds, boot tables.
 *
 * Like QEMU's ROM blobs (rom_add_blob/rom_reset), a blob is a host copy of some bytes and
 * the guest-physical address they belong at.  Each blob is written when it is added and
 * again at every system reset (from a reset handler), because a rebooting guest must find
 * the kernel, its command line and boot parameters intact even though it overwrote them
 * while it ran.  Blobs are written with address_space_write_rom, so ROM is fine too.
 *
 * A blob must lie wholly in RAM or ROM of address_space_memory when it is added, and must
 * not overlap another blob: both are configuration errors reported before the VM starts.
 *
 * Threading: machine init and reset, under the BQL.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_LOADER_H
#define HW_LOADER_H

#include "kite/osdep.h"
#include "kite/error.h"

/* Copy len bytes of data into a new blob for gpa, and write it there now. */
bool loader_add_blob(const char *name, const void *data, size_t len, hwaddr gpa,
                     Error **errp);
/* The same, taking ownership of data (g_malloc'd): it is freed even on failure. */
bool loader_add_blob_owned(const char *name, void *data, size_t len, hwaddr gpa,
                           Error **errp);
/* len zero bytes at gpa (a kernel's bss), without a host copy. */
bool loader_add_zeroes(const char *name, size_t len, hwaddr gpa, Error **errp);

/*
 * Read a whole regular file into *buf (g_malloc'd, to g_free) and *len.  Fails with a
 * message naming the path for a missing or unreadable file, a directory or other non-file,
 * an empty file, and a file larger than max bytes.
 */
bool loader_load_file(const char *path, uint8_t **buf, size_t *len, size_t max,
                      Error **errp);

/*
 * The path of a firmware file (a BIOS, an option ROM) by name, searched in -L directories,
 * the build tree and the system's firmware directories; NULL if not found.  Devices call
 * this; the system layer installs the search (loader_firmware_finder) at start-up, and
 * without it only paths with a '/' are found.
 */
char *loader_find_firmware(const char *name);
extern char *(*loader_firmware_finder)(const char *name);

/*
 * The host copy of the first blob called name (NULL if none or if it is zeroes), e.g.
 * to fill in a table after loading.  Changes reach the guest at the next
 * loader_write_all() or reset.
 */
void *loader_blob_data(const char *name, size_t *len, hwaddr *gpa);

/* Write every blob into guest memory (what the reset handler does). */
void loader_write_all(void);

/* One line per blob for "info roms": name, guest-physical range, size. */
void loader_print_info(GString *out);

/*
 * Undo a failed load: loader_mark() before registering, loader_rollback(mark) to drop
 * every blob registered since.  Guest memory already written is not restored.
 */
unsigned loader_mark(void);
void loader_rollback(unsigned mark);

/* Drop every blob and the reset handler (machine teardown, tests). */
void loader_clear(void);

#endif
