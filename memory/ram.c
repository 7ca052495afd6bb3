/*
 * RAM blocks: host memory behind RAM/ROM regions, and their dirty bitmaps.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "memory/memory-internal.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>

static GPtrArray *ram_blocks;   /* of RAMBlock * */

void (*ram_code_write_hook)(RAMBlock *rb, uint64_t offset, uint64_t len);

static uint64_t host_page_align(uint64_t size)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) & ~(page - 1);
}

int ram_open_backing_file(const char *path, uint64_t size, Error **errp)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot open memory backing file '%s'", path);
        return -1;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < size &&
        ftruncate(fd, size) < 0) {
        error_setg_errno(errp, errno, "cannot size memory backing file '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

int ram_open_memfd(const char *name, uint64_t size, Error **errp)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "memfd_create failed");
        return -1;
    }
    if (ftruncate(fd, host_page_align(size)) < 0) {
        error_setg_errno(errp, errno, "cannot size memfd for '%s'", name);
        close(fd);
        return -1;
    }
    return fd;
}

RAMBlock *ram_block_new(MemoryRegion *mr, const char *name, uint64_t size, int fd, bool share,
                        Error **errp)
{
    RAMBlock *rb;
    uint64_t mapsize = host_page_align(size);
    uint64_t pages = DIV_ROUND_UP(mapsize, KITE_PAGE_SIZE);
    void *host;

    if (size == 0 || size == UINT64_MAX) {
        error_setg(errp, "invalid RAM size for '%s'", name);
        return NULL;
    }
    if (fd < 0) {
        /* NORESERVE: guest RAM is committed as the guest touches it, as on a real host. */
        host = mmap(NULL, mapsize, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    } else {
        host = mmap(NULL, mapsize, PROT_READ | PROT_WRITE, share ? MAP_SHARED : MAP_PRIVATE,
                    fd, 0);
    }
    if (host == MAP_FAILED) {
        char *s = g_strdup_printf("%" PRIu64, size);
        error_setg_errno(errp, errno, "cannot allocate %s bytes of guest memory for '%s'", s,
                         name);
        g_free(s);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    rb = g_new0(RAMBlock, 1);
    rb->mr = mr;
    rb->idstr = g_strdup(name);
    rb->host = host;
    rb->size = mapsize;
    rb->fd = fd;
    for (int i = 0; i < DIRTY_MEMORY_NUM; i++) {
        rb->dirty[i] = g_new0(unsigned long, BITS_TO_LONGS(pages));
    }
    if (!ram_blocks) {
        ram_blocks = g_ptr_array_new();
    }
    g_ptr_array_add(ram_blocks, rb);
    return rb;
}

void ram_block_free(RAMBlock *rb)
{
    g_ptr_array_remove(ram_blocks, rb);
    munmap(rb->host, rb->size);
    if (rb->fd >= 0) {
        close(rb->fd);
    }
    for (int i = 0; i < DIRTY_MEMORY_NUM; i++) {
        g_free(rb->dirty[i]);
    }
    g_free(rb->idstr);
    g_free(rb);
}

void ram_block_foreach(void (*fn)(RAMBlock *rb, void *opaque), void *opaque)
{
    for (guint i = 0; ram_blocks && i < ram_blocks->len; i++) {
        fn(ram_blocks->pdata[i], opaque);
    }
}

/*
 * Atomic: an interpreter vCPU sets bits without the BQL while the display clears them.
 * The locked OR also orders the data store before the bit (a full barrier on x86), so a
 * reader that clears a bit and then reads the page cannot miss a write whose bit it saw.
 */
static void bitmap_set_range(unsigned long *map, uint64_t first, uint64_t n)
{
    for (uint64_t i = first; i < first + n; i++) {
        __atomic_fetch_or(&map[i / BITS_PER_LONG], 1UL << (i % BITS_PER_LONG),
                          __ATOMIC_SEQ_CST);
    }
}

void ram_block_set_dirty(RAMBlock *rb, uint64_t offset, uint64_t len)
{
    uint64_t first, last;

    if (len == 0 || offset >= rb->size) {
        return;
    }
    len = MIN(len, rb->size - offset);
    first = offset >> KITE_PAGE_BITS;
    last = (offset + len - 1) >> KITE_PAGE_BITS;
    for (int i = 0; i < DIRTY_MEMORY_NUM; i++) {
        bitmap_set_range(rb->dirty[i], first, last - first + 1);
    }
}

void ram_block_note_write(RAMBlock *rb, uint64_t offset, uint64_t len)
{
    ram_block_set_dirty(rb, offset, len);
    if (ram_code_write_hook) {
        ram_code_write_hook(rb, offset, len);
    }
}

/* Region-relative dirty queries (follow aliases to the block). */
static RAMBlock *dirty_block(MemoryRegion *mr, hwaddr *addr)
{
    while (mr->alias) {
        *addr += mr->alias_offset;
        mr = mr->alias;
    }
    return mr->ram_block;
}

void memory_region_set_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size)
{
    RAMBlock *rb = dirty_block(mr, &addr);

    if (rb) {
        ram_block_set_dirty(rb, addr, size);
    }
}

static bool dirty_range_op(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client,
                           bool clear, bool test)
{
    RAMBlock *rb = dirty_block(mr, &addr);
    bool any = false;

    if (!rb || size == 0 || addr >= rb->size || client >= DIRTY_MEMORY_NUM) {
        return false;
    }
    size = MIN(size, rb->size - addr);
    for (uint64_t p = addr >> KITE_PAGE_BITS; p <= (addr + size - 1) >> KITE_PAGE_BITS; p++) {
        unsigned long bit = 1UL << (p % BITS_PER_LONG);
        unsigned long *word = &rb->dirty[client][p / BITS_PER_LONG];
        if (clear) {
            if (__atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST) & bit) {
                any = true;
            }
        } else if (__atomic_load_n(word, __ATOMIC_ACQUIRE) & bit) {
            any = true;
        }
    }
    return any;
}

bool memory_region_test_and_clear_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size,
                                        unsigned client)
{
    return dirty_range_op(mr, addr, size, client, true, true);
}

bool memory_region_get_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client)
{
    return dirty_range_op(mr, addr, size, client, false, true);
}

void memory_region_reset_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client)
{
    dirty_range_op(mr, addr, size, client, true, false);
}

struct DirtyBitmapSnapshot {
    uint64_t first, end;        /* block page numbers covered: [first, end) */
    unsigned long bits[];       /* bit i is page first + i */
};

DirtyBitmapSnapshot *memory_region_snapshot_and_clear_dirty(MemoryRegion *mr, hwaddr addr,
                                                            hwaddr size, unsigned client)
{
    RAMBlock *rb = dirty_block(mr, &addr);
    DirtyBitmapSnapshot *snap;
    uint64_t first, end;

    if (!rb || size == 0 || addr >= rb->size || client >= DIRTY_MEMORY_NUM) {
        return g_malloc0(sizeof(*snap));
    }
    size = MIN(size, rb->size - addr);
    first = addr >> KITE_PAGE_BITS;
    end = ((addr + size - 1) >> KITE_PAGE_BITS) + 1;
    snap = g_malloc0(sizeof(*snap) + BITS_TO_LONGS(end - first) * sizeof(unsigned long));
    snap->first = first;
    snap->end = end;
    for (uint64_t p = first; p < end;) {
        unsigned shift = p % BITS_PER_LONG;
        uint64_t n = MIN(end - p, (uint64_t)(BITS_PER_LONG - shift));
        unsigned long mask = (n == BITS_PER_LONG ? ~0UL : ((1UL << n) - 1)) << shift;
        unsigned long got = __atomic_fetch_and(&rb->dirty[client][p / BITS_PER_LONG], ~mask,
                                               __ATOMIC_SEQ_CST) & mask;
        for (uint64_t i = 0; i < n; i++) {
            if (got & (1UL << (shift + i))) {
                uint64_t b = p + i - first;
                snap->bits[b / BITS_PER_LONG] |= 1UL << (b % BITS_PER_LONG);
            }
        }
        p += n;
    }
    return snap;
}

bool memory_region_snapshot_get_dirty(MemoryRegion *mr, const DirtyBitmapSnapshot *snap,
                                      hwaddr addr, hwaddr size)
{
    RAMBlock *rb = dirty_block(mr, &addr);

    if (!rb || size == 0) {
        return false;
    }
    for (uint64_t p = addr >> KITE_PAGE_BITS; p <= (addr + size - 1) >> KITE_PAGE_BITS; p++) {
        if (p >= snap->first && p < snap->end) {
            uint64_t b = p - snap->first;
            if (snap->bits[b / BITS_PER_LONG] & (1UL << (b % BITS_PER_LONG))) {
                return true;
            }
        }
    }
    return false;
}

RAMBlock *ram_block_from_host(const void *p, uint64_t *offset)
{
    const uint8_t *host = p;

    for (guint i = 0; ram_blocks && i < ram_blocks->len; i++) {
        RAMBlock *rb = ram_blocks->pdata[i];
        if (host >= rb->host && host < rb->host + rb->size) {
            *offset = host - rb->host;
            return rb;
        }
    }
    return NULL;
}

void memory_region_set_ram_advice(MemoryRegion *mr, bool mergeable, bool dump)
{
    RAMBlock *rb = memory_region_get_ram_block(mr);

    if (!rb) {
        return;
    }
    /* KSM may merge identical guest pages (-M mem-merge, on by default as in QEMU). */
    if (madvise(rb->host, rb->size, mergeable ? MADV_MERGEABLE : MADV_UNMERGEABLE) < 0 &&
        mergeable) {
        /* Kernels without KSM refuse: not an error for the guest. */
    }
    /* -M dump-guest-core=off keeps guest RAM out of Kite's core dumps. */
    madvise(rb->host, rb->size, dump ? MADV_DODUMP : MADV_DONTDUMP);
}
