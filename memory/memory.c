/*
 * Memory regions, flattening into FlatViews, and listeners.
 *
 * Flattening walks the region tree from the root; a container renders its subregions from
 * the highest priority down (ties: the one added last wins, as in QEMU), and a terminal
 * region only fills the gaps left by what was rendered before it, which is what gives
 * higher-priority regions precedence where they overlap.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/memory.h"
#include "kite/log.h"
#include "memory/memory-internal.h"

static GPtrArray *address_spaces;     /* of AddressSpace * */
static int transaction_depth;
static bool topology_changed;

/* ------------------------------------------------------------- init */

void memory_region_init(MemoryRegion *mr, Object *owner, const char *name, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = g_strdup(name);
    mr->owner = owner;
    mr->size = size;
    mr->enabled = true;
    mr->is_container = true;
    mr->subregions = g_ptr_array_new();
}

void memory_region_init_io(MemoryRegion *mr, Object *owner, const MemoryRegionOps *ops,
                           void *opaque, const char *name, uint64_t size)
{
    memory_region_init(mr, owner, name, size);
    mr->is_container = false;
    mr->ops = ops;
    mr->opaque = opaque;
}

static bool init_ram_common(MemoryRegion *mr, Object *owner, const char *name, uint64_t size,
                            int fd, bool share, Error **errp)
{
    memory_region_init(mr, owner, name, size);
    mr->is_container = false;
    mr->ram = true;
    mr->ram_block = ram_block_new(mr, name, size, fd, share, errp);
    if (!mr->ram_block) {
        memory_region_destroy(mr);
        return false;
    }
    return true;
}

bool memory_region_init_ram(MemoryRegion *mr, Object *owner, const char *name, uint64_t size,
                            Error **errp)
{
    return init_ram_common(mr, owner, name, size, -1, false, errp);
}

bool memory_region_init_ram_from_file(MemoryRegion *mr, Object *owner, const char *name,
                                      uint64_t size, const char *path, bool share,
                                      Error **errp)
{
    int fd = ram_open_backing_file(path, size, errp);

    if (fd < 0) {
        return false;
    }
    return init_ram_common(mr, owner, name, size, fd, share, errp);
}

bool memory_region_init_ram_memfd(MemoryRegion *mr, Object *owner, const char *name,
                                  uint64_t size, Error **errp)
{
    int fd = ram_open_memfd(name, size, errp);

    if (fd < 0) {
        return false;
    }
    return init_ram_common(mr, owner, name, size, fd, true, errp);
}

bool memory_region_init_rom(MemoryRegion *mr, Object *owner, const char *name, uint64_t size,
                            Error **errp)
{
    if (!memory_region_init_ram(mr, owner, name, size, errp)) {
        return false;
    }
    mr->readonly = true;
    return true;
}

bool memory_region_init_rom_device(MemoryRegion *mr, Object *owner, const MemoryRegionOps *ops,
                                   void *opaque, const char *name, uint64_t size, Error **errp)
{
    if (!memory_region_init_ram(mr, owner, name, size, errp)) {
        return false;
    }
    mr->ops = ops;
    mr->opaque = opaque;
    mr->romd = true;
    return true;
}

void memory_region_init_alias(MemoryRegion *mr, Object *owner, const char *name,
                              MemoryRegion *orig, hwaddr offset, uint64_t size)
{
    memory_region_init(mr, owner, name, size);
    mr->is_container = false;
    mr->alias = orig;
    mr->alias_offset = offset;
}

void memory_region_destroy(MemoryRegion *mr)
{
    g_assert(!mr->container);
    if (mr->ram_block) {
        ram_block_free(mr->ram_block);
        mr->ram_block = NULL;
    }
    if (mr->subregions) {
        g_ptr_array_free(mr->subregions, true);
        mr->subregions = NULL;
    }
    if (mr->ioeventfds) {
        g_array_free(mr->ioeventfds, true);
        mr->ioeventfds = NULL;
    }
    g_free(mr->name);
    mr->name = NULL;
}

/* ------------------------------------------------------- topology edits */

static void memory_changed(void)
{
    topology_changed = true;
    if (!transaction_depth) {
        memory_region_transaction_begin();
        memory_region_transaction_commit();
    }
}

static void add_subregion_common(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub)
{
    guint i;

    g_assert(!sub->container);
    g_assert(mr->is_container);
    sub->container = mr;
    sub->addr = offset;
    /* Keep highest priority first; among equals, the newest goes first. */
    for (i = 0; i < mr->subregions->len; i++) {
        MemoryRegion *other = mr->subregions->pdata[i];
        if (sub->priority >= other->priority) {
            break;
        }
    }
    g_ptr_array_insert(mr->subregions, i, sub);
    memory_changed();
}

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub)
{
    sub->priority = 0;
    add_subregion_common(mr, offset, sub);
}

void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub,
                                         int priority)
{
    sub->priority = priority;
    add_subregion_common(mr, offset, sub);
}

void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *sub)
{
    g_assert(sub->container == mr);
    g_ptr_array_remove(mr->subregions, sub);
    sub->container = NULL;
    memory_changed();
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_changed();
    }
}

void memory_region_set_address(MemoryRegion *mr, hwaddr addr)
{
    MemoryRegion *container = mr->container;

    if (addr == mr->addr) {
        return;
    }
    if (!container) {
        mr->addr = addr;
        return;
    }
    memory_region_transaction_begin();
    memory_region_del_subregion(container, mr);
    add_subregion_common(container, addr, mr);
    memory_region_transaction_commit();
}

void memory_region_set_size(MemoryRegion *mr, uint64_t size)
{
    if (mr->size != size) {
        mr->size = size;
        memory_changed();
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset)
{
    if (mr->alias_offset != offset) {
        mr->alias_offset = offset;
        memory_changed();
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->readonly != readonly) {
        mr->readonly = readonly;
        memory_changed();
    }
}

void memory_region_set_romd(MemoryRegion *mr, bool romd)
{
    if (mr->romd != romd) {
        mr->romd = romd;
        memory_changed();
    }
}

uint64_t memory_region_size(MemoryRegion *mr)
{
    return mr->size;
}

const char *memory_region_name(const MemoryRegion *mr)
{
    return mr->name;
}

bool memory_region_is_ram(MemoryRegion *mr)
{
    while (mr->alias) {
        mr = mr->alias;
    }
    return mr->ram;
}

bool memory_region_is_mapped(MemoryRegion *mr)
{
    return mr->container != NULL;
}

void *memory_region_get_ram_ptr(MemoryRegion *mr)
{
    hwaddr offset = 0;

    while (mr->alias) {
        offset += mr->alias_offset;
        mr = mr->alias;
    }
    return mr->ram_block ? mr->ram_block->host + offset : NULL;
}

RAMBlock *memory_region_get_ram_block(MemoryRegion *mr)
{
    while (mr->alias) {
        mr = mr->alias;
    }
    return mr->ram_block;
}

/* ------------------------------------------------------------ flatten */

static void flatview_insert(FlatView *fv, unsigned pos, const FlatRange *fr)
{
    if (fv->nr == fv->nr_alloc) {
        fv->nr_alloc = MAX(16, fv->nr_alloc * 2);
        fv->ranges = g_renew(FlatRange, fv->ranges, fv->nr_alloc);
    }
    memmove(&fv->ranges[pos + 1], &fv->ranges[pos], (fv->nr - pos) * sizeof(FlatRange));
    fv->ranges[pos] = *fr;
    fv->nr++;
}

/*
 * Insert terminal region mr for [start, last] (address space coordinates), mapping start to
 * offset_in_region, into the holes of fv.
 */
static void render_terminal(FlatView *fv, MemoryRegion *mr, hwaddr start, hwaddr last,
                            hwaddr offset_in_region, bool readonly)
{
    unsigned i = 0;
    hwaddr cur = start;

    while (true) {
        FlatRange fr;
        hwaddr hole_last;

        /* Skip ranges entirely before cur. */
        while (i < fv->nr && fv->ranges[i].last < cur) {
            i++;
        }
        if (i < fv->nr && fv->ranges[i].start <= cur) {
            /* cur is covered; jump past this range. */
            if (fv->ranges[i].last >= last) {
                return;
            }
            cur = fv->ranges[i].last + 1;
            i++;
            continue;
        }
        hole_last = (i < fv->nr && fv->ranges[i].start <= last) ? fv->ranges[i].start - 1 : last;
        fr.start = cur;
        fr.last = hole_last;
        fr.mr = mr;
        fr.offset_in_region = offset_in_region + (cur - start);
        fr.readonly = readonly;
        fr.dirty_log_mask = mr->dirty_log_mask;
        flatview_insert(fv, i, &fr);
        i++;
        if (hole_last >= last) {
            return;
        }
        cur = hole_last + 1;
    }
}

static hwaddr region_last(const MemoryRegion *mr)
{
    return mr->size == UINT64_MAX ? UINT64_MAX : mr->size - 1;
}

/*
 * Render the part of mr that is visible through a window: address-space addresses
 * [as_lo, as_hi] show mr's offsets starting at off_lo (the window was already clipped by
 * every container above).  Working in region offsets avoids wrap-around when an alias shows
 * a high part of its target at a low address.
 */
static void render_region(FlatView *fv, MemoryRegion *mr, hwaddr as_lo, hwaddr as_hi,
                          hwaddr off_lo, bool readonly)
{
    hwaddr span = as_hi - as_lo;          /* window length - 1 */
    hwaddr off_hi;

    if (!mr->enabled || mr->size == 0 || off_lo > region_last(mr)) {
        return;
    }
    off_hi = off_lo + span < off_lo ? UINT64_MAX : off_lo + span;
    if (off_hi > region_last(mr)) {
        off_hi = region_last(mr);
        as_hi = as_lo + (off_hi - off_lo);
    }
    readonly |= mr->readonly;

    if (mr->alias) {
        render_region(fv, mr->alias, as_lo, as_hi, mr->alias_offset + off_lo, readonly);
        return;
    }
    if (mr->is_container) {
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = mr->subregions->pdata[i];
            hwaddr sub_last, s_lo, s_hi;

            if (sub->size == 0) {
                continue;
            }
            sub_last = sub->addr + region_last(sub);
            if (sub_last < sub->addr) {
                sub_last = UINT64_MAX;
            }
            s_lo = MAX(off_lo, sub->addr);
            s_hi = MIN(off_hi, sub_last);
            if (s_lo > s_hi) {
                continue;
            }
            render_region(fv, sub, as_lo + (s_lo - off_lo), as_lo + (s_hi - off_lo),
                          s_lo - sub->addr, readonly);
        }
        return;
    }
    render_terminal(fv, mr, as_lo, as_hi, off_lo, readonly);
}

/* Guards AddressSpace.current_map against a swap while a reader takes its reference. */
static GMutex flatview_swap_lock;

static FlatView *flatview_new(void)
{
    FlatView *fv = g_new0(FlatView, 1);

    fv->ref = 1;
    return fv;
}

static void flatview_free(FlatView *fv)
{
    if (fv) {
        g_free(fv->ranges);
        if (fv->ioeventfds) {
            g_array_free(fv->ioeventfds, true);
        }
        g_free(fv);
    }
}

/* Merge neighbours that continue the same region (fewer memslots, faster lookup). */
static void flatview_simplify(FlatView *fv)
{
    unsigned out = 0;

    for (unsigned i = 0; i < fv->nr; i++) {
        FlatRange *prev = out ? &fv->ranges[out - 1] : NULL;
        FlatRange *fr = &fv->ranges[i];
        if (prev && prev->mr == fr->mr && prev->last + 1 == fr->start &&
            prev->offset_in_region + (prev->last - prev->start) + 1 == fr->offset_in_region &&
            prev->readonly == fr->readonly) {
            prev->last = fr->last;
        } else {
            fv->ranges[out++] = *fr;
        }
    }
    fv->nr = out;
}

static void collect_ioeventfds(FlatView *fv)
{
    fv->ioeventfds = g_array_new(false, false, sizeof(FlatIoeventfd));
    for (unsigned i = 0; i < fv->nr; i++) {
        FlatRange *fr = &fv->ranges[i];
        GArray *evs = fr->mr->ioeventfds;
        for (guint j = 0; evs && j < evs->len; j++) {
            MemoryRegionIoeventfd *ev = &g_array_index(evs, MemoryRegionIoeventfd, j);
            if (ev->addr >= fr->offset_in_region &&
                ev->addr - fr->offset_in_region <= fr->last - fr->start) {
                FlatIoeventfd fe = {
                    .addr = fr->start + (ev->addr - fr->offset_in_region),
                    .ev = *ev, .mr = fr->mr, .fr_index = i,
                };
                g_array_append_val(fv->ioeventfds, fe);
            }
        }
    }
}

static FlatView *generate_flatview(MemoryRegion *root)
{
    FlatView *fv = flatview_new();

    render_region(fv, root, 0, UINT64_MAX, 0, false);
    flatview_simplify(fv);
    collect_ioeventfds(fv);
    return fv;
}

const FlatRange *flatview_lookup(const FlatView *fv, hwaddr addr)
{
    unsigned lo = 0, hi = fv->nr;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const FlatRange *fr = &fv->ranges[mid];
        if (addr < fr->start) {
            hi = mid;
        } else if (addr > fr->last) {
            lo = mid + 1;
        } else {
            return fr;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ listeners */

static MemoryRegionSection section_of(AddressSpace *as, const FlatRange *fr)
{
    MemoryRegionSection s = {
        .mr = fr->mr,
        .as = as,
        .offset_within_region = fr->offset_in_region,
        .offset_within_address_space = fr->start,
        .size = fr->last - fr->start + 1,
        .readonly = fr->readonly,
    };
    return s;
}

static bool fr_equal(const FlatRange *a, const FlatRange *b)
{
    return a->mr == b->mr && a->start == b->start && a->last == b->last &&
           a->offset_in_region == b->offset_in_region && a->readonly == b->readonly;
}

static bool fv_contains(const FlatView *fv, const FlatRange *fr)
{
    const FlatRange *other = flatview_lookup(fv, fr->start);
    return other && fr_equal(other, fr);
}

static bool ioeventfd_in(GArray *set, const FlatIoeventfd *fe)
{
    for (guint i = 0; set && i < set->len; i++) {
        FlatIoeventfd *o = &g_array_index(set, FlatIoeventfd, i);
        if (o->addr == fe->addr && o->ev.size == fe->ev.size && o->ev.e == fe->ev.e &&
            o->ev.match_data == fe->ev.match_data && o->ev.data == fe->ev.data) {
            return true;
        }
    }
    return false;
}

static void notify_eventfd(AddressSpace *as, const FlatIoeventfd *fe, bool add)
{
    MemoryRegionSection s = {
        .mr = fe->mr, .as = as, .offset_within_address_space = fe->addr, .size = fe->ev.size,
    };

    for (guint k = 0; k < as->listeners->len; k++) {
        MemoryListener *l = as->listeners->pdata[k];
        if (add && l->eventfd_add) {
            l->eventfd_add(l, &s, fe->ev.match_data, fe->ev.data, fe->ev.e);
        } else if (!add && l->eventfd_del) {
            l->eventfd_del(l, &s, fe->ev.match_data, fe->ev.data, fe->ev.e);
        }
    }
}

/* Tell as's listeners how old became new: deletions (highest priority first), then adds. */
static void address_space_notify(AddressSpace *as, FlatView *old, FlatView *new_)
{
    GPtrArray *ls = as->listeners;

    for (unsigned i = 0; old && i < old->nr; i++) {
        FlatRange *fr = &old->ranges[i];
        if (!fv_contains(new_, fr)) {
            MemoryRegionSection s = section_of(as, fr);
            for (guint k = ls->len; k-- > 0;) {
                MemoryListener *l = ls->pdata[k];
                if (l->region_del) {
                    l->region_del(l, &s);
                }
            }
        }
    }
    for (unsigned i = 0; i < new_->nr; i++) {
        FlatRange *fr = &new_->ranges[i];
        const FlatRange *prev = old ? flatview_lookup(old, fr->start) : NULL;
        MemoryRegionSection s = section_of(as, fr);
        bool existed = prev && fr_equal(prev, fr);

        for (guint k = 0; k < ls->len; k++) {
            MemoryListener *l = ls->pdata[k];
            if (!existed) {
                if (l->region_add) {
                    l->region_add(l, &s);
                }
            } else if (prev->dirty_log_mask != fr->dirty_log_mask) {
                if (fr->dirty_log_mask & ~prev->dirty_log_mask && l->log_start) {
                    l->log_start(l, &s, prev->dirty_log_mask, fr->dirty_log_mask);
                }
                if (prev->dirty_log_mask & ~fr->dirty_log_mask && l->log_stop) {
                    l->log_stop(l, &s, prev->dirty_log_mask, fr->dirty_log_mask);
                }
            }
        }
    }
    for (guint i = 0; old && old->ioeventfds && i < old->ioeventfds->len; i++) {
        FlatIoeventfd *fe = &g_array_index(old->ioeventfds, FlatIoeventfd, i);
        if (!ioeventfd_in(new_->ioeventfds, fe)) {
            notify_eventfd(as, fe, false);
        }
    }
    for (guint i = 0; i < new_->ioeventfds->len; i++) {
        FlatIoeventfd *fe = &g_array_index(new_->ioeventfds, FlatIoeventfd, i);
        if (!old || !ioeventfd_in(old->ioeventfds, fe)) {
            notify_eventfd(as, fe, true);
        }
    }
}

void memory_region_transaction_begin(void)
{
    transaction_depth++;
}

void memory_region_transaction_commit(void)
{
    g_assert(transaction_depth > 0);
    if (--transaction_depth || !topology_changed) {
        return;
    }
    topology_changed = false;
    for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
        AddressSpace *as = address_spaces->pdata[i];
        FlatView *old = as->current_map;
        FlatView *new_ = generate_flatview(as->root);

        for (guint k = 0; k < as->listeners->len; k++) {
            MemoryListener *l = as->listeners->pdata[k];
            if (l->begin) {
                l->begin(l);
            }
        }
        address_space_notify(as, old, new_);
        g_mutex_lock(&flatview_swap_lock);
        as->current_map = new_;
        g_mutex_unlock(&flatview_swap_lock);
        for (guint k = 0; k < as->listeners->len; k++) {
            MemoryListener *l = as->listeners->pdata[k];
            if (l->commit) {
                l->commit(l);
            }
        }
        flatview_unref(old);
    }
}

static gint listener_cmp(gconstpointer a, gconstpointer b)
{
    const MemoryListener *la = *(MemoryListener *const *)a;
    const MemoryListener *lb = *(MemoryListener *const *)b;
    return la->priority - lb->priority;
}

void memory_listener_register(MemoryListener *l, AddressSpace *as)
{
    l->as = as;
    g_ptr_array_add(as->listeners, l);
    g_ptr_array_sort(as->listeners, listener_cmp);
    /* Replay the current map so the listener starts in sync. */
    if (l->begin) {
        l->begin(l);
    }
    for (unsigned i = 0; as->current_map && i < as->current_map->nr; i++) {
        MemoryRegionSection s = section_of(as, &as->current_map->ranges[i]);
        if (l->region_add) {
            l->region_add(l, &s);
        }
        if (s.mr->dirty_log_mask && l->log_start) {
            l->log_start(l, &s, 0, s.mr->dirty_log_mask);
        }
    }
    for (guint i = 0; as->current_map && i < as->current_map->ioeventfds->len; i++) {
        FlatIoeventfd *fe = &g_array_index(as->current_map->ioeventfds, FlatIoeventfd, i);
        MemoryRegionSection s = { .mr = fe->mr, .as = as,
                                  .offset_within_address_space = fe->addr,
                                  .size = fe->ev.size };
        if (l->eventfd_add) {
            l->eventfd_add(l, &s, fe->ev.match_data, fe->ev.data, fe->ev.e);
        }
    }
    if (l->commit) {
        l->commit(l);
    }
}

void memory_listener_unregister(MemoryListener *l)
{
    AddressSpace *as = l->as;

    if (!as) {
        return;
    }
    if (l->begin) {
        l->begin(l);
    }
    for (guint i = 0; as->current_map && i < as->current_map->ioeventfds->len; i++) {
        FlatIoeventfd *fe = &g_array_index(as->current_map->ioeventfds, FlatIoeventfd, i);
        MemoryRegionSection s = { .mr = fe->mr, .as = as,
                                  .offset_within_address_space = fe->addr,
                                  .size = fe->ev.size };
        if (l->eventfd_del) {
            l->eventfd_del(l, &s, fe->ev.match_data, fe->ev.data, fe->ev.e);
        }
    }
    for (unsigned i = as->current_map ? as->current_map->nr : 0; i-- > 0;) {
        MemoryRegionSection s = section_of(as, &as->current_map->ranges[i]);
        if (l->region_del) {
            l->region_del(l, &s);
        }
    }
    if (l->commit) {
        l->commit(l);
    }
    g_ptr_array_remove(as->listeners, l);
    l->as = NULL;
}

/* ------------------------------------------------------- address spaces */

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    memset(as, 0, sizeof(*as));
    as->name = g_strdup(name);
    as->root = root;
    as->listeners = g_ptr_array_new();
    as->current_map = generate_flatview(root);
    if (!address_spaces) {
        address_spaces = g_ptr_array_new();
    }
    g_ptr_array_add(address_spaces, as);
}

void address_space_destroy(AddressSpace *as)
{
    while (as->listeners->len) {
        memory_listener_unregister(as->listeners->pdata[0]);
    }
    g_ptr_array_remove(address_spaces, as);
    g_ptr_array_free(as->listeners, true);
    flatview_unref(as->current_map);
    g_free(as->name);
    memset(as, 0, sizeof(*as));
}

FlatView *address_space_get_flatview(AddressSpace *as)
{
    return as->current_map;
}

FlatView *address_space_flatview_ref(AddressSpace *as)
{
    FlatView *fv;

    g_mutex_lock(&flatview_swap_lock);
    fv = as->current_map;
    __atomic_add_fetch(&fv->ref, 1, __ATOMIC_RELAXED);
    g_mutex_unlock(&flatview_swap_lock);
    return fv;
}

void flatview_unref(FlatView *fv)
{
    if (fv && __atomic_sub_fetch(&fv->ref, 1, __ATOMIC_ACQ_REL) == 0) {
        flatview_free(fv);
    }
}

/* ------------------------------------------------------------- ioeventfd */

void memory_region_add_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    MemoryRegionIoeventfd ev = { addr, size, match_data, data, e };

    if (!mr->ioeventfds) {
        mr->ioeventfds = g_array_new(false, false, sizeof(MemoryRegionIoeventfd));
    }
    g_array_append_val(mr->ioeventfds, ev);
    memory_changed();
}

void memory_region_del_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    for (guint i = 0; mr->ioeventfds && i < mr->ioeventfds->len; i++) {
        MemoryRegionIoeventfd *ev = &g_array_index(mr->ioeventfds, MemoryRegionIoeventfd, i);
        if (ev->addr == addr && ev->size == size && ev->match_data == match_data &&
            ev->data == data && ev->e == e) {
            g_array_remove_index(mr->ioeventfds, i);
            memory_changed();
            return;
        }
    }
}

/* ------------------------------------------------------------ dirty log */

void memory_region_set_log(MemoryRegion *mr, bool log, unsigned client)
{
    uint8_t mask = log ? mr->dirty_log_mask | (1u << client)
                       : mr->dirty_log_mask & ~(1u << client);

    if (mask != mr->dirty_log_mask) {
        mr->dirty_log_mask = mask;
        memory_changed();
    }
}

void memory_region_sync_dirty_bitmap(MemoryRegion *mr)
{
    for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
        AddressSpace *as = address_spaces->pdata[i];
        FlatView *fv = as->current_map;
        for (unsigned j = 0; j < fv->nr; j++) {
            MemoryRegionSection s;
            if (fv->ranges[j].mr != mr) {
                continue;
            }
            s = section_of(as, &fv->ranges[j]);
            for (guint k = 0; k < as->listeners->len; k++) {
                MemoryListener *l = as->listeners->pdata[k];
                if (l->log_sync) {
                    l->log_sync(l, &s);
                }
            }
        }
    }
}

/* ------------------------------------------------------------ mtree dump */

static void print_region(GString *out, MemoryRegion *mr, hwaddr base, int level)
{
    hwaddr last = mr->size == UINT64_MAX ? UINT64_MAX : base + mr->size - 1;
    const char *kind = mr->alias ? "alias" : mr->is_container ? "container"
                       : mr->romd ? "romd" : mr->ram ? (mr->readonly ? "rom" : "ram") : "i/o";

    g_string_append_printf(out, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s): %s",
                           level * 2, "", base, last, mr->priority, kind, mr->name);
    if (mr->alias) {
        g_string_append_printf(out, " @%s %016" PRIx64, mr->alias->name, mr->alias_offset);
    }
    if (!mr->enabled) {
        g_string_append(out, " [disabled]");
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; mr->subregions && i < mr->subregions->len; i++) {
        MemoryRegion *sub = mr->subregions->pdata[i];
        print_region(out, sub, base + sub->addr, level + 1);
    }
}

void memory_print_tree(GString *out, AddressSpace *as, bool flat)
{
    g_string_append_printf(out, "address-space: %s\n", as->name);
    if (!flat) {
        print_region(out, as->root, 0, 1);
        return;
    }
    for (unsigned i = 0; i < as->current_map->nr; i++) {
        FlatRange *fr = &as->current_map->ranges[i];
        g_string_append_printf(out, "  %016" PRIx64 "-%016" PRIx64 " %s%s @%016" PRIx64 "\n",
                               fr->start, fr->last, fr->mr->name,
                               fr->readonly ? " (ro)" : "", fr->offset_in_region);
    }
}

/* ---------------------------------------------------- the PC's spaces */

static MemoryRegion system_memory, system_io;
AddressSpace address_space_memory, address_space_io;

void memory_init(void)
{
    if (system_memory.name) {
        return;
    }
    memory_region_init(&system_memory, NULL, "system", UINT64_MAX);
    memory_region_init(&system_io, NULL, "io", 65536);
    address_space_init(&address_space_memory, &system_memory, "memory");
    address_space_init(&address_space_io, &system_io, "I/O");
}

MemoryRegion *get_system_memory(void)
{
    return &system_memory;
}

MemoryRegion *get_system_io(void)
{
    return &system_io;
}
