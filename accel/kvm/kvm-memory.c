/*
 * KVM memory slots, dirty logging and ioeventfds, driven by memory listeners.
 *
 * Every RAM or ROM section of address_space_memory becomes a slot (api.rst 4.35,
 * KVM_SET_USER_MEMORY_REGION); ROM and ROM devices are KVM_MEM_READONLY, so the guest's
 * writes to them exit as MMIO and reach the region's ops (or vanish, for plain ROM).  MMIO
 * regions are not slots: accesses exit to userspace.  The memory core reports a changed
 * map as deletions of old sections then additions of new ones, so a split or a move is a
 * slot removal followed by new slots.  KVM needs page granularity: the unaligned head and
 * tail of a section stay unmapped and are served by MMIO exits through the memory core.
 *
 * Dirty logging: a slot logs (KVM_MEM_LOG_DIRTY_PAGES) while a client other than the
 * interpreter's code tracking logs its region; log_sync folds KVM_GET_DIRTY_LOG into the
 * RAM block's bitmaps.  With KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 reading does not re-arm
 * the write protection: KVM_CLEAR_DIRTY_LOG does that for exactly the pages reported.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/kvm/kvm-internal.h"
#include "kite/log.h"
#include "kite/runstate.h"

#define KVM_PAGE_SIZE ((uint64_t)KITE_PAGE_SIZE)

/* Dirty clients KVM has to feed; the interpreter's code client means nothing here. */
static bool kvm_wants_log(uint8_t mask)
{
    return (mask & ~(1u << DIRTY_MEMORY_CODE)) != 0;
}

static uint64_t kvm_slot_pages(const KVMSlot *slot)
{
    return slot->size / KVM_PAGE_SIZE;
}

/* ------------------------------------------------------------ slot table */

static KVMSlot *kvm_slot_alloc(KVMState *s)
{
    for (unsigned i = 0; i < s->nr_slots; i++) {
        if (!s->slots[i].used) {
            return &s->slots[i];
        }
    }
    if (s->nr_slots >= s->max_slots) {
        return NULL;
    }
    /* Grow; slot ids are indices, so existing ids stay valid. */
    {
        unsigned n = MIN(MAX(s->nr_slots * 2, 16u), s->max_slots);
        s->slots = g_renew(KVMSlot, s->slots, n);
        memset(&s->slots[s->nr_slots], 0, (n - s->nr_slots) * sizeof(KVMSlot));
        for (unsigned i = s->nr_slots; i < n; i++) {
            s->slots[i].id = i;
        }
        s->nr_slots = n;
    }
    return kvm_slot_alloc(s);
}

static KVMSlot *kvm_slot_find(KVMState *s, hwaddr start, uint64_t size)
{
    for (unsigned i = 0; i < s->nr_slots; i++) {
        KVMSlot *slot = &s->slots[i];
        if (slot->used && slot->start == start && slot->size == size) {
            return slot;
        }
    }
    return NULL;
}

static int kvm_slot_update(KVMState *s, KVMSlot *slot, bool remove)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot->id,
        .flags = remove ? 0 : slot->flags,
        .guest_phys_addr = slot->start,
        .memory_size = remove ? 0 : slot->size,   /* size 0 deletes the slot */
        .userspace_addr = (uintptr_t)slot->host,
    };

    return kvm_vm_ioctl(KVM_SET_USER_MEMORY_REGION, &r);
}

/*
 * The page-aligned part of a section: guest address, size, and the offset in the region.
 * False if nothing of it can be a slot (smaller than a page, or the region offset is not
 * page-aligned where the guest address is, which KVM cannot express).
 */
static bool kvm_section_range(const MemoryRegionSection *sec, hwaddr *start, uint64_t *size,
                              hwaddr *mr_offset)
{
    hwaddr begin = ROUND_UP(sec->offset_within_address_space, KVM_PAGE_SIZE);
    hwaddr last = sec->offset_within_address_space + sec->size - 1;
    hwaddr end;

    if (sec->size == 0 || begin < sec->offset_within_address_space ||
        last < sec->offset_within_address_space) {
        return false;      /* wraps at the top of the address space */
    }
    end = ROUND_DOWN(last + 1, KVM_PAGE_SIZE);
    if (end <= begin) {
        return false;
    }
    *mr_offset = sec->offset_within_region + (begin - sec->offset_within_address_space);
    if (*mr_offset & (KVM_PAGE_SIZE - 1)) {
        return false;
    }
    *start = begin;
    *size = end - begin;
    return true;
}

static bool kvm_slot_in_section(const KVMSlot *slot, const MemoryRegionSection *sec)
{
    return slot->used && slot->start < sec->offset_within_address_space + sec->size &&
           sec->offset_within_address_space < slot->start + slot->size;
}

/* ------------------------------------------------------------ dirty log */

static void kvm_slot_log_enable(KVMSlot *slot)
{
    if (!slot->dirty_bmap) {
        slot->dirty_bmap = g_new0(unsigned long, BITS_TO_LONGS(kvm_slot_pages(slot)));
    }
    slot->flags |= KVM_MEM_LOG_DIRTY_PAGES;
}

static void kvm_slot_log_disable(KVMSlot *slot)
{
    slot->flags &= ~KVM_MEM_LOG_DIRTY_PAGES;
    g_free(slot->dirty_bmap);
    slot->dirty_bmap = NULL;
}

/* Set bit page in each dirty bitmap that one of the region's clients reads. */
static void kvm_mark_dirty(RAMBlock *rb, uint8_t clients, uint64_t page)
{
    for (unsigned c = 0; c < DIRTY_MEMORY_NUM; c++) {
        if (clients & (1u << c)) {
            rb->dirty[c][page / BITS_PER_LONG] |= 1UL << (page % BITS_PER_LONG);
        }
    }
}

/* Pull the pages the guest wrote since the last sync into the RAM block's bitmaps. */
static void kvm_slot_sync(KVMState *s, KVMSlot *slot)
{
    struct kvm_dirty_log log = { .slot = slot->id, .dirty_bitmap = slot->dirty_bmap };
    RAMBlock *rb = memory_region_get_ram_block(slot->mr);
    uint64_t pages = kvm_slot_pages(slot);
    uint64_t first = slot->mr_offset / KVM_PAGE_SIZE;
    uint8_t clients = slot->mr->dirty_log_mask;
    int r;

    if (!(slot->flags & KVM_MEM_LOG_DIRTY_PAGES) || !slot->dirty_bmap) {
        return;
    }
    r = kvm_vm_ioctl(KVM_GET_DIRTY_LOG, &log);
    if (r < 0) {
        error_report("KVM: KVM_GET_DIRTY_LOG on slot %u failed: %s", slot->id, g_strerror(-r));
        return;
    }
    if (s->manual_dirty_log) {
        /* Re-protect exactly the reported pages; whole-slot ranges need no 64-page alignment. */
        struct kvm_clear_dirty_log clear = {
            .slot = slot->id, .first_page = 0, .num_pages = pages,
            .dirty_bitmap = slot->dirty_bmap,
        };
        r = kvm_vm_ioctl(KVM_CLEAR_DIRTY_LOG, &clear);
        if (r < 0) {
            error_report("KVM: KVM_CLEAR_DIRTY_LOG on slot %u failed: %s", slot->id,
                         g_strerror(-r));
        }
    }
    if (!rb) {
        return;
    }
    for (uint64_t w = 0; w < BITS_TO_LONGS(pages); w++) {
        unsigned long bits = slot->dirty_bmap[w];
        while (bits) {
            unsigned b = __builtin_ctzl(bits);
            uint64_t page = w * BITS_PER_LONG + b;
            bits &= bits - 1;
            if (page < pages && (first + page) * KVM_PAGE_SIZE < rb->size) {
                kvm_mark_dirty(rb, clients, first + page);
            }
        }
    }
}

static void kvm_log_sync(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMState *s = container_of(l, KVMState, mem_listener);

    for (unsigned i = 0; i < s->nr_slots; i++) {
        if (kvm_slot_in_section(&s->slots[i], sec)) {
            kvm_slot_sync(s, &s->slots[i]);
        }
    }
}

static void kvm_log_change(MemoryListener *l, MemoryRegionSection *sec, int new_mask)
{
    KVMState *s = container_of(l, KVMState, mem_listener);
    bool want = kvm_wants_log(new_mask);

    for (unsigned i = 0; i < s->nr_slots; i++) {
        KVMSlot *slot = &s->slots[i];
        bool logging = slot->flags & KVM_MEM_LOG_DIRTY_PAGES;
        int r;

        if (!kvm_slot_in_section(slot, sec) || want == logging ||
            (slot->flags & KVM_MEM_READONLY)) {
            continue;
        }
        if (want) {
            kvm_slot_log_enable(slot);
        } else {
            kvm_slot_sync(s, slot);        /* don't lose what was written meanwhile */
            kvm_slot_log_disable(slot);
        }
        /* Only the logging flag may change on a live slot (api.rst 4.35). */
        r = kvm_slot_update(s, slot, false);
        if (r < 0) {
            error_report("KVM: cannot %s dirty logging on slot %u: %s",
                         want ? "start" : "stop", slot->id, g_strerror(-r));
        }
    }
}

static void kvm_log_start(MemoryListener *l, MemoryRegionSection *sec, int old, int new_)
{
    kvm_log_change(l, sec, new_);
}

static void kvm_log_stop(MemoryListener *l, MemoryRegionSection *sec, int old, int new_)
{
    kvm_log_change(l, sec, new_);
}

/* ------------------------------------------------------------ slots from sections */

static void kvm_region_add(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMState *s = container_of(l, KVMState, mem_listener);
    hwaddr start, mr_offset;
    uint64_t size;
    KVMSlot *slot;
    int r;

    if (!memory_region_is_ram(sec->mr)) {
        return;            /* MMIO: every access exits */
    }
    if (!kvm_section_range(sec, &start, &size, &mr_offset)) {
        kite_log_mask(LOG_UNIMP, "KVM: %s at 0x%" HWADDR_PRIx " is not page-aligned; "
                      "accessed through MMIO exits", memory_region_name(sec->mr),
                      sec->offset_within_address_space);
        return;
    }
    slot = kvm_slot_alloc(s);
    if (!slot) {
        error_report("KVM: out of memory slots (%u) mapping %s", s->max_slots,
                     memory_region_name(sec->mr));
        vm_stop_request(RUN_STATE_INTERNAL_ERROR);
        return;
    }
    slot->used = true;
    slot->start = start;
    slot->size = size;
    slot->mr = sec->mr;
    slot->mr_offset = mr_offset;
    slot->host = (uint8_t *)memory_region_get_ram_ptr(sec->mr) + mr_offset;
    slot->flags = 0;
    if (sec->readonly || sec->mr->readonly || sec->mr->romd) {
        slot->flags |= KVM_MEM_READONLY;
    } else if (kvm_wants_log(sec->mr->dirty_log_mask)) {
        kvm_slot_log_enable(slot);
    }
    r = kvm_slot_update(s, slot, false);
    if (r < 0) {
        error_report("KVM: cannot map %s at 0x%" HWADDR_PRIx " (+0x%" PRIx64 "): %s",
                     memory_region_name(sec->mr), start, size, g_strerror(-r));
        kvm_slot_log_disable(slot);
        slot->used = false;
        vm_stop_request(RUN_STATE_INTERNAL_ERROR);
    }
}

static void kvm_region_del(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMState *s = container_of(l, KVMState, mem_listener);
    hwaddr start, mr_offset;
    uint64_t size;
    KVMSlot *slot;
    int r;

    if (!memory_region_is_ram(sec->mr) || !kvm_section_range(sec, &start, &size, &mr_offset)) {
        return;
    }
    slot = kvm_slot_find(s, start, size);
    if (!slot) {
        return;            /* mapping it had failed */
    }
    kvm_slot_sync(s, slot);
    r = kvm_slot_update(s, slot, true);
    if (r < 0) {
        error_report("KVM: cannot unmap slot %u at 0x%" HWADDR_PRIx ": %s", slot->id, start,
                     g_strerror(-r));
    }
    kvm_slot_log_disable(slot);
    slot->used = false;
    slot->mr = NULL;
}

/* ------------------------------------------------------------ ioeventfd */

static void kvm_ioeventfd_update(KVMState *s, MemoryRegionSection *sec, bool match_data,
                                 uint64_t data, EventNotifier *e, bool pio, bool assign)
{
    struct kvm_ioeventfd io = {
        .addr = sec->offset_within_address_space,
        .len = sec->size,
        .fd = event_notifier_get_fd(e),
        .flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
                 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    int r;

    if (match_data) {
        io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
        io.datamatch = sec->size && sec->size < 8 ? data & ((1ull << (sec->size * 8)) - 1)
                                                  : data;
    }
    /* api.rst 4.59: len 0 (any size) needs ANY_LENGTH and cannot match data. */
    if (io.len != 0 && io.len != 1 && io.len != 2 && io.len != 4 && io.len != 8) {
        r = -EINVAL;
    } else if (io.len == 0 && (match_data || (!pio && !s->ioeventfd_any_length))) {
        r = -EINVAL;
    } else {
        r = kvm_vm_ioctl(KVM_IOEVENTFD, &io);
    }
    if (r < 0 && assign) {
        /* Not fatal: the write exits and the memory core signals the notifier itself. */
        warn_report("KVM: ioeventfd at %s 0x%" HWADDR_PRIx " (size %" PRIu64 ") not in "
                    "the kernel (%s); handled in userspace", pio ? "port" : "address",
                    sec->offset_within_address_space, sec->size, g_strerror(-r));
    }
}

static void kvm_mem_eventfd_add(MemoryListener *l, MemoryRegionSection *sec, bool match_data,
                                uint64_t data, EventNotifier *e)
{
    kvm_ioeventfd_update(container_of(l, KVMState, mem_listener), sec, match_data, data, e,
                         false, true);
}

static void kvm_mem_eventfd_del(MemoryListener *l, MemoryRegionSection *sec, bool match_data,
                                uint64_t data, EventNotifier *e)
{
    kvm_ioeventfd_update(container_of(l, KVMState, mem_listener), sec, match_data, data, e,
                         false, false);
}

static void kvm_io_eventfd_add(MemoryListener *l, MemoryRegionSection *sec, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    kvm_ioeventfd_update(container_of(l, KVMState, io_listener), sec, match_data, data, e,
                         true, true);
}

static void kvm_io_eventfd_del(MemoryListener *l, MemoryRegionSection *sec, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    kvm_ioeventfd_update(container_of(l, KVMState, io_listener), sec, match_data, data, e,
                         true, false);
}

/* ------------------------------------------------------------ setup */

void kvm_memory_init(KVMState *s)
{
    if (kvm_check_extension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0) {
        /*
         * Only MANUAL_PROTECT_ENABLE: logging then starts with every page clean and
         * write-protected, as without the capability (INITIALLY_SET is not used).
         */
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
            .args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
        };
        s->manual_dirty_log = kvm_vm_ioctl(KVM_ENABLE_CAP, &cap) == 0;
    }
    s->mem_listener = (MemoryListener) {
        .name = "kvm-memory",
        .priority = 10,
        .region_add = kvm_region_add,
        .region_del = kvm_region_del,
        .log_start = kvm_log_start,
        .log_stop = kvm_log_stop,
        .log_sync = kvm_log_sync,
        .eventfd_add = kvm_mem_eventfd_add,
        .eventfd_del = kvm_mem_eventfd_del,
    };
    s->io_listener = (MemoryListener) {
        .name = "kvm-io",
        .priority = 10,
        .eventfd_add = kvm_io_eventfd_add,
        .eventfd_del = kvm_io_eventfd_del,
    };
    memory_listener_register(&s->mem_listener, &address_space_memory);
    memory_listener_register(&s->io_listener, &address_space_io);
}
