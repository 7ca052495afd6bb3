/*
 * The memory API: regions arranged in a tree, flattened per address space.
 *
 * A MemoryRegion is RAM, ROM, MMIO (callbacks), a container of subregions, or an alias of a
 * window into another region.  An AddressSpace (guest physical memory, I/O ports) has a root
 * region; after every topology change the tree is flattened into a sorted FlatView that
 * lookups binary-search, and MemoryListeners (KVM memslots, interpreter TLBs) are told which
 * ranges appeared and disappeared.
 *
 * Accesses to MMIO are split or widened so that the handler only sees the sizes its ops table
 * implements (impl); accesses the device doesn't accept (valid) are dropped like unassigned
 * space: reads return all-ones, writes vanish, both logged with -d guest_errors.  Devices are
 * little-endian: values are passed in host order and bytes are assembled little-endian.
 *
 * Threading: topology changes and dispatch run under the BQL.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_MEMORY_H
#define KITE_MEMORY_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/object.h"
#include "kite/main-loop.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct MemoryRegionOps MemoryRegionOps;
typedef struct AddressSpace AddressSpace;
typedef struct FlatView FlatView;
typedef struct MemoryListener MemoryListener;
typedef struct RAMBlock RAMBlock;

typedef enum MemTxResult {
    MEMTX_OK = 0,
    MEMTX_ERROR = 1,          /* device reported an error */
    MEMTX_DECODE_ERROR = 2,   /* nothing there, or an access the device does not accept */
} MemTxResult;

struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
    void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
    /* What the guest may do: other sizes/alignments are dropped (defaults 1..4, aligned). */
    struct {
        unsigned min_access_size, max_access_size;
        bool unaligned;
    } valid;
    /* What the handlers implement: the core splits/widens to fit (defaults 1..4). */
    struct {
        unsigned min_access_size, max_access_size;
        bool unaligned;
    } impl;
};

/* Dirty-memory clients: each has its own bitmap per RAM block. */
enum {
    DIRTY_MEMORY_VGA = 0,
    DIRTY_MEMORY_CODE = 1,        /* pages holding interpreted code were written */
    DIRTY_MEMORY_MIGRATION = 2,
    DIRTY_MEMORY_NUM = 3,
};

typedef struct MemoryRegionIoeventfd {
    hwaddr addr;
    unsigned size;                /* 0 = any size */
    bool match_data;
    uint64_t data;
    EventNotifier *e;
} MemoryRegionIoeventfd;

struct MemoryRegion {
    char *name;
    Object *owner;
    const MemoryRegionOps *ops;
    void *opaque;
    uint64_t size;                /* UINT64_MAX means the whole 2^64 space */
    hwaddr addr;                  /* offset within container */
    MemoryRegion *container;
    int priority;
    bool enabled;
    bool ram;                     /* backed by host memory: ram_block */
    bool readonly;                /* ROM: guest writes are dropped */
    bool romd;                    /* ROM device: reads from RAM, writes go to ops */
    bool is_container;
    RAMBlock *ram_block;
    MemoryRegion *alias;
    hwaddr alias_offset;
    GPtrArray *subregions;        /* of MemoryRegion *, highest priority first */
    uint8_t dirty_log_mask;       /* 1 << DIRTY_MEMORY_* clients logging this region */
    GArray *ioeventfds;           /* of MemoryRegionIoeventfd */
    bool warned_invalid;
};

typedef struct MemoryRegionSection {
    MemoryRegion *mr;             /* the terminal region (RAM, ROM or MMIO) */
    AddressSpace *as;
    hwaddr offset_within_region;
    hwaddr offset_within_address_space;
    uint64_t size;
    bool readonly;
} MemoryRegionSection;

struct MemoryListener {
    const char *name;
    int priority;                 /* add: lowest first; del: highest first */
    void (*begin)(MemoryListener *l);
    void (*commit)(MemoryListener *l);
    void (*region_add)(MemoryListener *l, MemoryRegionSection *s);
    void (*region_del)(MemoryListener *l, MemoryRegionSection *s);
    /* Dirty logging for a client switched on/off on a section (old/new masks). */
    void (*log_start)(MemoryListener *l, MemoryRegionSection *s, int old, int new_);
    void (*log_stop)(MemoryListener *l, MemoryRegionSection *s, int old, int new_);
    /* Fold the accelerator's dirty information (KVM dirty log) into the bitmaps. */
    void (*log_sync)(MemoryListener *l, MemoryRegionSection *s);
    void (*eventfd_add)(MemoryListener *l, MemoryRegionSection *s, bool match_data,
                        uint64_t data, EventNotifier *e);
    void (*eventfd_del)(MemoryListener *l, MemoryRegionSection *s, bool match_data,
                        uint64_t data, EventNotifier *e);
    AddressSpace *as;             /* set by memory_listener_register */
};

typedef struct FlatRange {
    hwaddr start;
    hwaddr last;                  /* inclusive, so the range can reach 2^64 - 1 */
    MemoryRegion *mr;
    hwaddr offset_in_region;
    bool readonly;
    uint8_t dirty_log_mask;
} FlatRange;

struct FlatView {
    int ref;                      /* atomic: the address space's, plus readers in flight */
    FlatRange *ranges;
    unsigned nr, nr_alloc;
    GArray *ioeventfds;           /* of FlatIoeventfd, for listeners */
};

struct AddressSpace {
    char *name;
    MemoryRegion *root;
    FlatView *current_map;
    GPtrArray *listeners;
};

/* --- regions --- */
void memory_region_init(MemoryRegion *mr, Object *owner, const char *name, uint64_t size);
void memory_region_init_io(MemoryRegion *mr, Object *owner, const MemoryRegionOps *ops,
                           void *opaque, const char *name, uint64_t size);
/* Anonymous RAM (private, zero-filled, lazily allocated by the host). */
bool memory_region_init_ram(MemoryRegion *mr, Object *owner, const char *name, uint64_t size,
                            Error **errp);
/* RAM backed by a file or a memfd; share=true maps it MAP_SHARED (migration, vhost). */
bool memory_region_init_ram_from_file(MemoryRegion *mr, Object *owner, const char *name,
                                      uint64_t size, const char *path, bool share,
                                      Error **errp);
bool memory_region_init_ram_memfd(MemoryRegion *mr, Object *owner, const char *name,
                                  uint64_t size, Error **errp);
bool memory_region_init_rom(MemoryRegion *mr, Object *owner, const char *name, uint64_t size,
                            Error **errp);
bool memory_region_init_rom_device(MemoryRegion *mr, Object *owner, const MemoryRegionOps *ops,
                                   void *opaque, const char *name, uint64_t size, Error **errp);
void memory_region_init_alias(MemoryRegion *mr, Object *owner, const char *name,
                              MemoryRegion *orig, hwaddr offset, uint64_t size);
/* Free what init took.  The region must not be mapped. */
void memory_region_destroy(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub);
/* Subregions with a higher priority hide lower ones where they overlap. */
void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub,
                                         int priority);
void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *sub);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, hwaddr addr);
void memory_region_set_size(MemoryRegion *mr, uint64_t size);
void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset);
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);
void memory_region_set_romd(MemoryRegion *mr, bool romd);

uint64_t memory_region_size(MemoryRegion *mr);
const char *memory_region_name(const MemoryRegion *mr);
bool memory_region_is_ram(MemoryRegion *mr);
bool memory_region_is_mapped(MemoryRegion *mr);
/* Host pointer to the region's RAM (follows aliases); NULL for MMIO. */
void *memory_region_get_ram_ptr(MemoryRegion *mr);
RAMBlock *memory_region_get_ram_block(MemoryRegion *mr);
/* Host advice for a RAM region: KSM merging, inclusion in core dumps. */
void memory_region_set_ram_advice(MemoryRegion *mr, bool mergeable, bool dump);

/* Batch topology changes: listeners are told once, at the outermost commit. */
void memory_region_transaction_begin(void);
void memory_region_transaction_commit(void);

/* --- ioeventfd: a write of data (if match_data) to addr signals e instead of the handler --- */
void memory_region_add_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e);
void memory_region_del_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e);

/* --- dirty tracking (RAM regions) --- */
void memory_region_set_log(MemoryRegion *mr, bool log, unsigned client);
/* Pull the accelerator's dirty log for mr into the bitmaps. */
void memory_region_sync_dirty_bitmap(MemoryRegion *mr);
void memory_region_set_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size);
/* True if any page in [addr, addr+size) is dirty for client; clears those bits. */
bool memory_region_test_and_clear_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size,
                                        unsigned client);
bool memory_region_get_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client);
void memory_region_reset_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client);

/*
 * A renderer that reads memory while the guest keeps writing it must take the dirty bits
 * before reading, never clear them afterwards: a store landing between its read and a
 * later clear would be lost until the page is written again.  The snapshot holds client's
 * bits for [addr, addr+size) and clears them in one atomic step per bitmap word; stores
 * after it mark the page dirty again for the next snapshot.  Free with g_free.
 */
typedef struct DirtyBitmapSnapshot DirtyBitmapSnapshot;
DirtyBitmapSnapshot *memory_region_snapshot_and_clear_dirty(MemoryRegion *mr, hwaddr addr,
                                                            hwaddr size, unsigned client);
/* True if any page of [addr, addr+size) (region offsets) was dirty in snap. */
bool memory_region_snapshot_get_dirty(MemoryRegion *mr, const DirtyBitmapSnapshot *snap,
                                      hwaddr addr, hwaddr size);

/* Dispatch an access to a terminal region (MMIO path used by the address space code). */
MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr, uint64_t *data,
                                        unsigned size);
MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr, uint64_t data,
                                         unsigned size);

/* --- address spaces --- */
void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name);
void address_space_destroy(AddressSpace *as);
/* Copy between buf and the address space; splits at region boundaries. */
MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, void *buf, hwaddr len,
                             bool is_write);
MemTxResult address_space_read(AddressSpace *as, hwaddr addr, void *buf, hwaddr len);
MemTxResult address_space_write(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len);
/* Write into ROM too (firmware and kernel loading). */
MemTxResult address_space_write_rom(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len);
/* One access of size 1/2/4/8 as the CPU does it (port I/O, MMIO exits). */
MemTxResult address_space_load(AddressSpace *as, hwaddr addr, uint64_t *val, unsigned size);
MemTxResult address_space_store(AddressSpace *as, hwaddr addr, uint64_t val, unsigned size);
uint32_t address_space_ldl(AddressSpace *as, hwaddr addr);
void address_space_stl(AddressSpace *as, hwaddr addr, uint32_t val);

/*
 * Direct host access to guest RAM.  Returns a pointer to addr if it lies in RAM (writable RAM
 * when is_write) and *plen shrunk to the contiguous run, or NULL (MMIO, ROM for writes,
 * unassigned).  For DMA: call address_space_unmap after writing so dirty bits are set.
 */
void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen, bool is_write);
void address_space_unmap(AddressSpace *as, void *host, hwaddr len, bool is_write,
                         hwaddr access_len);
/* Call fn for each guest-physical range of as that shows [offset, offset+len) of rb. */
void address_space_ram_to_gpa(AddressSpace *as, RAMBlock *rb, uint64_t offset, uint64_t len,
                              void (*fn)(hwaddr gpa, uint64_t len, void *opaque), void *opaque);
/* The region section covering addr (mr NULL if unassigned); no reference is taken. */
MemoryRegionSection address_space_find_section(AddressSpace *as, hwaddr addr);

void memory_listener_register(MemoryListener *l, AddressSpace *as);
void memory_listener_unregister(MemoryListener *l);

/* "info mtree"-style dump of an address space's tree and its flat view. */
void memory_print_tree(GString *out, AddressSpace *as, bool flat);

/* The PC's two address spaces, created by memory_init(). */
MemoryRegion *get_system_memory(void);
MemoryRegion *get_system_io(void);
extern AddressSpace address_space_memory;
extern AddressSpace address_space_io;
void memory_init(void);

/* --- RAM blocks (migration, dirty bitmaps) --- */
struct RAMBlock {
    MemoryRegion *mr;
    char *idstr;
    uint8_t *host;
    uint64_t size;                /* bytes, a multiple of the host page size */
    int fd;                       /* -1 for anonymous memory */
    unsigned long *dirty[DIRTY_MEMORY_NUM];   /* one bit per 4 KiB page */
};
#define KITE_PAGE_BITS 12
#define KITE_PAGE_SIZE (1u << KITE_PAGE_BITS)
void ram_block_foreach(void (*fn)(RAMBlock *rb, void *opaque), void *opaque);
/* Mark written guest RAM dirty for every client (DMA into host pointers from _map). */
void ram_block_set_dirty(RAMBlock *rb, uint64_t offset, uint64_t len);
/* The block holding host address p (and p's offset in it), or NULL. */
RAMBlock *ram_block_from_host(const void *p, uint64_t *offset);
/* Called when RAM with the CODE client logging is written (interpreter invalidation). */
extern void (*ram_code_write_hook)(RAMBlock *rb, uint64_t offset, uint64_t len);

#endif
