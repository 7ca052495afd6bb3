/*
 * Accesses: address space reads/writes split over flat ranges, and MMIO accesses adapted to
 * the sizes a device's handlers implement.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "memory/memory-internal.h"
#include "kite/log.h"

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

static unsigned ops_valid_min(const MemoryRegionOps *ops)
{
    return ops->valid.min_access_size ? ops->valid.min_access_size : 1;
}

static unsigned ops_valid_max(const MemoryRegionOps *ops)
{
    return ops->valid.max_access_size ? ops->valid.max_access_size : 4;
}

static unsigned ops_impl_min(const MemoryRegionOps *ops)
{
    return ops->impl.min_access_size ? ops->impl.min_access_size : 1;
}

static unsigned ops_impl_max(const MemoryRegionOps *ops)
{
    return ops->impl.max_access_size ? ops->impl.max_access_size : 4;
}

static bool access_valid(MemoryRegion *mr, hwaddr addr, unsigned size, bool is_write)
{
    const MemoryRegionOps *ops = mr->ops;

    if (size < ops_valid_min(ops) || size > ops_valid_max(ops) ||
        (!ops->valid.unaligned && (addr & (size - 1)))) {
        kite_log_mask(LOG_GUEST_ERROR, "invalid %s of size %u at offset 0x%" PRIx64
                      " of region '%s'", is_write ? "write" : "read", size, addr, mr->name);
        return false;
    }
    return true;
}

/*
 * Call the handler on the aligned chunks of impl size covering [addr, addr+size).  Narrow
 * writes are widened with the other bytes zero (no read-modify-write: reads can have side
 * effects); devices that care about byte writes implement size 1.
 */
static uint64_t access_adjusted(MemoryRegion *mr, hwaddr addr, uint64_t data, unsigned size,
                                bool is_write)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned chunk = MAX(MIN(size, ops_impl_max(ops)), ops_impl_min(ops));
    hwaddr start = ops->impl.unaligned ? addr : addr & ~(hwaddr)(chunk - 1);
    hwaddr end = addr + size;
    uint64_t result = 0;

    for (hwaddr a = start; a < end; a += chunk) {
        /* Byte offset of this chunk relative to addr (may be negative for the first). */
        int64_t shift_bytes = (int64_t)(a - addr);
        if (mr->size != UINT64_MAX && (a >= mr->size || chunk > mr->size - a)) {
            /*
             * An access that starts in this region but runs past its end (QEMU gives it
             * whole to the region at its start address): the device never sees offsets
             * beyond its size; those bytes read as all-ones, writes to them are dropped.
             */
            if (!is_write) {
                uint64_t ones = size_mask(chunk);
                result |= shift_bytes >= 0 ? (shift_bytes < 8 ? ones << (shift_bytes * 8) : 0)
                                           : (-shift_bytes < 8 ? ones >> (-shift_bytes * 8) : 0);
            }
            continue;
        }
        if (is_write) {
            uint64_t v = shift_bytes >= 0 ? data >> (shift_bytes * 8)
                                          : data << (-shift_bytes * 8);
            if (shift_bytes >= 8 || -shift_bytes >= 8) {
                v = 0;
            }
            ops->write(mr->opaque, a, v & size_mask(chunk), chunk);
        } else {
            uint64_t v = ops->read(mr->opaque, a, chunk) & size_mask(chunk);
            if (shift_bytes >= 0) {
                result |= shift_bytes < 8 ? v << (shift_bytes * 8) : 0;
            } else {
                result |= -shift_bytes < 8 ? v >> (-shift_bytes * 8) : 0;
            }
        }
    }
    return result & size_mask(size);
}

MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr, uint64_t *data,
                                        unsigned size)
{
    if (mr->ram) {
        *data = ldn_le_p(mr->ram_block->host + addr, size);
        return MEMTX_OK;
    }
    if (!mr->ops || !mr->ops->read || !access_valid(mr, addr, size, false)) {
        *data = size_mask(size);
        return MEMTX_DECODE_ERROR;
    }
    *data = access_adjusted(mr, addr, 0, size, false);
    return MEMTX_OK;
}

/* Signal an EventNotifier's eventfd (same effect as event_notifier_set). */
static void ioeventfd_signal(EventNotifier *e)
{
    uint64_t one = 1;
    ssize_t r;

    do {
        r = write(e->wfd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
}

static bool dispatch_ioeventfd(MemoryRegion *mr, hwaddr addr, uint64_t data, unsigned size)
{
    for (guint i = 0; i < mr->ioeventfds->len; i++) {
        MemoryRegionIoeventfd *ev = &g_array_index(mr->ioeventfds, MemoryRegionIoeventfd, i);
        if (ev->addr == addr && (!ev->size || ev->size == size) &&
            (!ev->match_data || ev->data == data)) {
            ioeventfd_signal(ev->e);
            return true;
        }
    }
    return false;
}

MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr, uint64_t data,
                                         unsigned size)
{
    if (mr->ram && !mr->romd) {
        if (mr->readonly) {
            return MEMTX_OK;   /* writes to ROM are ignored, as on real hardware */
        }
        stn_le_p(mr->ram_block->host + addr, size, data);
        ram_block_note_write(mr->ram_block, addr, size);
        return MEMTX_OK;
    }
    if (mr->ioeventfds && dispatch_ioeventfd(mr, addr, data, size)) {
        return MEMTX_OK;
    }
    if (!mr->ops || !mr->ops->write || !access_valid(mr, addr, size, true)) {
        return MEMTX_DECODE_ERROR;
    }
    access_adjusted(mr, addr, data, size, true);
    return MEMTX_OK;
}

/* Largest naturally aligned power-of-two access that the region takes at offset. */
static unsigned mmio_access_size(MemoryRegion *mr, hwaddr offset, hwaddr len)
{
    unsigned max = mr->ops ? ops_valid_max(mr->ops) : 4;
    unsigned size;

    if (!mr->ops || !mr->ops->valid.unaligned) {
        hwaddr align = offset & -offset;
        if (align && align < max) {
            max = align;
        }
    }
    size = len < max ? len : max;
    while (size & (size - 1)) {
        size &= size - 1;   /* round down to a power of two */
    }
    return size;
}

static void log_unassigned(AddressSpace *as, hwaddr addr, hwaddr len, bool is_write)
{
    kite_log_mask(LOG_IOPORT, "unassigned %s %s addr 0x%" PRIx64 " len %" PRIu64,
                  as->name, is_write ? "write" : "read", addr, len);
}

/*
 * Every access holds a reference to the flat view it looked up: it may run on a vCPU or an
 * iothread while the main loop replaces the view, and an MMIO write in the middle of a
 * multi-range access may itself change the topology (a BAR being programmed).
 */
static MemTxResult as_rw(AddressSpace *as, hwaddr addr, uint8_t *buf, hwaddr len,
                         bool is_write, bool rom_ok)
{
    FlatView *fv = address_space_flatview_ref(as);
    MemTxResult res = MEMTX_OK;

    while (len) {
        const FlatRange *fr = flatview_lookup(fv, addr);
        hwaddr l, off;
        MemoryRegion *mr;

        if (!fr) {
            /* Unassigned: up to the next range, or the end. */
            l = len;
            for (unsigned i = 0; i < fv->nr; i++) {
                if (fv->ranges[i].start > addr) {
                    l = MIN(len, fv->ranges[i].start - addr);
                    break;
                }
            }
            log_unassigned(as, addr, l, is_write);
            if (!is_write) {
                memset(buf, 0xff, l);
            }
            res |= MEMTX_DECODE_ERROR;
            goto next;
        }
        mr = fr->mr;
        off = fr->offset_in_region + (addr - fr->start);
        l = MIN(len, fr->last - addr + 1);
        if (fr->last - addr + 1 == 0) {
            l = len;   /* the range reaches 2^64 */
        }
        if (mr->ram && (!is_write || !mr->romd || rom_ok)) {
            uint8_t *host = mr->ram_block->host + off;
            if (!is_write) {
                memcpy(buf, host, l);
            } else if (!fr->readonly || rom_ok) {
                memcpy(host, buf, l);
                ram_block_note_write(mr->ram_block, off, l);
            }
            goto next;
        }
        /* MMIO: a sequence of accesses of sizes the device accepts. */
        for (hwaddr done = 0; done < l;) {
            unsigned size = mmio_access_size(mr, off + done, l - done);
            uint64_t v;
            if (is_write) {
                v = ldn_le_p(buf + done, size);
                res |= memory_region_dispatch_write(mr, off + done, v, size);
            } else {
                res |= memory_region_dispatch_read(mr, off + done, &v, size);
                stn_le_p(buf + done, size, v);
            }
            done += size;
        }
    next:
        buf += l;
        addr += l;
        len -= l;
    }
    flatview_unref(fv);
    return res;
}

MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, void *buf, hwaddr len,
                             bool is_write)
{
    return as_rw(as, addr, buf, len, is_write, false);
}

MemTxResult address_space_read(AddressSpace *as, hwaddr addr, void *buf, hwaddr len)
{
    return as_rw(as, addr, buf, len, false, false);
}

MemTxResult address_space_write(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len)
{
    return as_rw(as, addr, (void *)buf, len, true, false);
}

MemTxResult address_space_write_rom(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len)
{
    return as_rw(as, addr, (void *)buf, len, true, true);
}

MemTxResult address_space_load(AddressSpace *as, hwaddr addr, uint64_t *val, unsigned size)
{
    FlatView *fv = address_space_flatview_ref(as);
    const FlatRange *fr = flatview_lookup(fv, addr);
    uint8_t buf[8];
    MemTxResult res;

    /*
     * As in QEMU, an I/O access goes whole to the region that decodes its first byte (a
     * 32-bit write to 0xcf8 reaches the PCI address register, not the reset register at
     * 0xcf9 that overlays it); only RAM accesses that cross into another range are split.
     */
    if (fr && (!fr->mr->ram || (addr + size - 1 <= fr->last && addr + size - 1 >= addr))) {
        hwaddr off = fr->offset_in_region + (addr - fr->start);
        res = memory_region_dispatch_read(fr->mr, off, val, size);
        if (res & MEMTX_DECODE_ERROR) {
            *val = size_mask(size);
        }
        flatview_unref(fv);
        return res;
    }
    if (!fr) {
        log_unassigned(as, addr, size, false);
    }
    flatview_unref(fv);
    res = as_rw(as, addr, buf, size, false, false);
    *val = ldn_le_p(buf, size);
    return res;
}

MemTxResult address_space_store(AddressSpace *as, hwaddr addr, uint64_t val, unsigned size)
{
    FlatView *fv = address_space_flatview_ref(as);
    const FlatRange *fr = flatview_lookup(fv, addr);
    MemTxResult res = MEMTX_OK;
    uint8_t buf[8];

    if (fr && (!fr->mr->ram || (addr + size - 1 <= fr->last && addr + size - 1 >= addr))) {
        hwaddr off = fr->offset_in_region + (addr - fr->start);
        if (!(fr->readonly && fr->mr->ram && !fr->mr->romd)) {
            res = memory_region_dispatch_write(fr->mr, off, val, size);
        }
        flatview_unref(fv);
        return res;
    }
    flatview_unref(fv);
    stn_le_p(buf, size, val);
    return as_rw(as, addr, buf, size, true, false);
}

uint32_t address_space_ldl(AddressSpace *as, hwaddr addr)
{
    uint64_t v;

    address_space_load(as, addr, &v, 4);
    return v;
}

void address_space_stl(AddressSpace *as, hwaddr addr, uint32_t val)
{
    address_space_store(as, addr, val, 4);
}

MemoryRegionSection address_space_find_section(AddressSpace *as, hwaddr addr)
{
    FlatView *fv = address_space_flatview_ref(as);
    const FlatRange *fr = flatview_lookup(fv, addr);
    MemoryRegionSection s = { .as = as };

    if (fr) {
        s.mr = fr->mr;
        s.offset_within_address_space = fr->start;
        s.offset_within_region = fr->offset_in_region;
        s.size = fr->last - fr->start + 1;
        s.readonly = fr->readonly;
    }
    flatview_unref(fv);
    return s;
}

void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen, bool is_write)
{
    FlatView *fv = address_space_flatview_ref(as);
    const FlatRange *fr = flatview_lookup(fv, addr);
    hwaddr avail;
    void *host;

    if (!fr || !fr->mr->ram || (is_write && (fr->readonly || fr->mr->romd)) || *plen == 0) {
        flatview_unref(fv);
        *plen = 0;
        return NULL;
    }
    avail = fr->last - addr + 1;
    if (avail && avail < *plen) {
        *plen = avail;
    }
    /* Guest RAM blocks outlive views: the pointer stays good after the unref. */
    host = fr->mr->ram_block->host + fr->offset_in_region + (addr - fr->start);
    flatview_unref(fv);
    return host;
}

void address_space_unmap(AddressSpace *as, void *host, hwaddr len, bool is_write,
                         hwaddr access_len)
{
    uint64_t offset;
    RAMBlock *rb;

    if (!is_write || !host || !access_len) {
        return;
    }
    rb = ram_block_from_host(host, &offset);
    if (rb) {
        ram_block_note_write(rb, offset, MIN(access_len, len));
    }
}

void address_space_ram_to_gpa(AddressSpace *as, RAMBlock *rb, uint64_t offset, uint64_t len,
                              void (*fn)(hwaddr gpa, uint64_t len, void *opaque), void *opaque)
{
    FlatView *fv = address_space_flatview_ref(as);
    uint64_t end = offset + len;

    for (unsigned i = 0; i < fv->nr; i++) {
        const FlatRange *fr = &fv->ranges[i];
        uint64_t fr_lo, fr_hi, lo, hi;

        if (fr->mr->ram_block != rb) {
            continue;
        }
        fr_lo = fr->offset_in_region;
        fr_hi = fr_lo + (fr->last - fr->start) + 1;
        lo = MAX(fr_lo, offset);
        hi = MIN(fr_hi, end);
        if (lo < hi) {
            fn(fr->start + (lo - fr_lo), hi - lo, opaque);
        }
    }
    flatview_unref(fv);
}
