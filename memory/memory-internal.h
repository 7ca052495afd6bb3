/*
 * Shared between the memory API's files; not for devices.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MEMORY_INTERNAL_H
#define MEMORY_INTERNAL_H

#include "kite/memory.h"

typedef struct FlatIoeventfd {
    hwaddr addr;                  /* in the address space */
    MemoryRegionIoeventfd ev;
    MemoryRegion *mr;
    unsigned fr_index;
} FlatIoeventfd;

const FlatRange *flatview_lookup(const FlatView *fv, hwaddr addr);
/* The current view, borrowed: only for the BQL holder that also changes topology. */
FlatView *address_space_get_flatview(AddressSpace *as);
/*
 * The current view with a reference, for any thread (vCPUs, iothreads, block workers):
 * a topology change may replace it at any time, the reference keeps it alive until
 * flatview_unref().
 */
FlatView *address_space_flatview_ref(AddressSpace *as);
void flatview_unref(FlatView *fv);

RAMBlock *ram_block_new(MemoryRegion *mr, const char *name, uint64_t size, int fd, bool share,
                        Error **errp);
void ram_block_free(RAMBlock *rb);
int ram_open_backing_file(const char *path, uint64_t size, Error **errp);
int ram_open_memfd(const char *name, uint64_t size, Error **errp);
/* A write by the CPU or DMA landed in RAM: dirty bits and code invalidation. */
void ram_block_note_write(RAMBlock *rb, uint64_t offset, uint64_t len);
/* The block holding host pointer p (and p's offset in it), or NULL. */

#endif
