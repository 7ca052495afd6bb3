/*
 * e820 memory map builder (see e820.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/e820.h"

void e820_init(E820Table *t)
{
    memset(t, 0, sizeof(*t));
}

static int entry_cmp(const void *a, const void *b)
{
    const E820Entry *x = a, *y = b;

    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

bool e820_add(E820Table *t, uint64_t addr, uint64_t size, uint32_t type)
{
    E820Entry tmp[2 * E820_MAX_ENTRIES + 1];
    uint64_t end = addr + size;
    unsigned n = 0, out = 0;

    if (size == 0) {
        return true;
    }
    if (end < addr) {
        return false;
    }
    /* Keep what lies outside [addr, end) of every entry: at most two pieces each. */
    for (unsigned i = 0; i < t->nr; i++) {
        const E820Entry *e = &t->entries[i];
        uint64_t e_end = e->addr + e->size;

        if (e_end <= addr || e->addr >= end) {
            tmp[n++] = *e;
            continue;
        }
        if (e->addr < addr) {
            tmp[n++] = (E820Entry) { e->addr, addr - e->addr, e->type };
        }
        if (e_end > end) {
            tmp[n++] = (E820Entry) { end, e_end - end, e->type };
        }
    }
    tmp[n++] = (E820Entry) { addr, size, type };
    qsort(tmp, n, sizeof(tmp[0]), entry_cmp);

    /* Merge neighbours of one type that touch. */
    for (unsigned i = 0; i < n; i++) {
        if (out && tmp[out - 1].type == tmp[i].type &&
            tmp[out - 1].addr + tmp[out - 1].size == tmp[i].addr) {
            tmp[out - 1].size += tmp[i].size;
        } else {
            tmp[out++] = tmp[i];
        }
    }
    if (out > E820_MAX_ENTRIES) {
        return false;
    }
    memcpy(t->entries, tmp, out * sizeof(tmp[0]));
    t->nr = out;
    return true;
}

void e820_init_pc(E820Table *t, uint64_t below_4g, uint64_t above_4g)
{
    e820_init(t);
    e820_add(t, 0, MIN(below_4g, E820_EBDA_START), E820_RAM);
    if (below_4g > E820_EBDA_START) {
        e820_add(t, E820_EBDA_START, E820_LOW_END - E820_EBDA_START, E820_RESERVED);
    }
    e820_add(t, E820_BIOS_START, E820_HIGH_START - E820_BIOS_START, E820_RESERVED);
    if (below_4g > E820_HIGH_START) {
        e820_add(t, E820_HIGH_START, MIN(below_4g, E820_FLASH_START) - E820_HIGH_START,
                 E820_RAM);
    }
    e820_add(t, E820_FLASH_START, E820_4G - E820_FLASH_START, E820_RESERVED);
    if (above_4g) {
        e820_add(t, E820_4G, above_4g, E820_RAM);
    }
}

static const E820Entry *ram_entry(const E820Table *t, uint64_t addr)
{
    for (unsigned i = 0; i < t->nr; i++) {
        const E820Entry *e = &t->entries[i];
        if (e->type == E820_RAM && addr >= e->addr && addr - e->addr < e->size) {
            return e;
        }
    }
    return NULL;
}

bool e820_is_ram(const E820Table *t, uint64_t addr, uint64_t size)
{
    const E820Entry *e = ram_entry(t, addr);

    return e && size <= e->size - (addr - e->addr);
}

uint64_t e820_ram_end(const E820Table *t, uint64_t addr)
{
    const E820Entry *e = ram_entry(t, addr);

    return e ? e->addr + e->size : 0;
}

uint64_t e820_ram_size(const E820Table *t, uint64_t lo, uint64_t hi)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < t->nr; i++) {
        const E820Entry *e = &t->entries[i];
        uint64_t a = MAX(e->addr, lo), b = MIN(e->addr + e->size, hi);
        if (e->type == E820_RAM && a < b) {
            total += b - a;
        }
    }
    return total;
}

bool e820_find_ram_top(const E820Table *t, uint64_t lo, uint64_t hi, uint64_t size,
                       uint64_t align, uint64_t *addr)
{
    bool found = false;

    for (unsigned i = 0; i < t->nr; i++) {
        const E820Entry *e = &t->entries[i];
        uint64_t a = MAX(e->addr, lo), b = MIN(e->addr + e->size, hi), cand;

        if (e->type != E820_RAM || a >= b || b - a < size) {
            continue;
        }
        cand = ROUND_DOWN(b - size, align);
        if (cand >= a && (!found || cand > *addr)) {
            *addr = cand;
            found = true;
        }
    }
    return found;
}

void e820_store_le(const E820Table *t, uint8_t *out)
{
    for (unsigned i = 0; i < t->nr; i++, out += E820_ENTRY_SIZE) {
        stq_le_p(out, t->entries[i].addr);
        stq_le_p(out + 8, t->entries[i].size);
        stl_le_p(out + 16, t->entries[i].type);
    }
}

uint8_t *e820_to_le(const E820Table *t, size_t *len)
{
    uint8_t *buf = g_malloc0(MAX(t->nr, 1) * E820_ENTRY_SIZE);

    e820_store_le(t, buf);
    *len = t->nr * E820_ENTRY_SIZE;
    return buf;
}
