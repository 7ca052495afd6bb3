/*
 * qcow2 metadata caches: a few cluster-sized tables (L2 tables, refcount blocks) kept in
 * memory and written back on flush or eviction.
 *
 * Ordering is what keeps a crashed image consistent (only leaks, never a reference to an
 * unaccounted cluster): a dirty L2 table is written only after the refcount blocks that
 * account for the clusters it points to are on disk, so evicting one first writes back and
 * flushes the refcount cache.  Data reaches the file before the L2 table that maps it
 * because data is written synchronously while the entry only sits in this cache.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"

void qcow2_cache_init(Qcow2Cache *c, int size, uint64_t cluster_size)
{
    c->size = size;
    c->entries = g_new0(Qcow2CacheEntry, size);
    for (int i = 0; i < size; i++) {
        c->entries[i].table = g_malloc(cluster_size);
    }
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    for (int i = 0; c->entries && i < c->size; i++) {
        g_free(c->entries[i].table);
    }
    g_free(c->entries);
    c->entries = NULL;
}

static int cache_write_entry(BlockDriverState *bs, Qcow2Cache *c, Qcow2CacheEntry *e)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    if (!e->dirty) {
        return 0;
    }
    if (c == &s->l2_cache) {
        /* Refcounts before references. */
        ret = qcow2_cache_writeback(bs, &s->rb_cache);
        if (ret < 0) {
            return ret;
        }
        if (ret > 0 && !s->lazy_refcounts) {
            ret = bdrv_flush(bs->file);
            if (ret < 0) {
                return ret;
            }
        }
    }
    ret = bdrv_pwrite(bs->file, e->offset, s->cluster_size, e->table);
    if (ret < 0) {
        return ret;
    }
    e->dirty = false;
    return 0;
}

int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, bool fresh,
                    uint8_t **table)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CacheEntry *victim = NULL;
    int ret;

    for (int i = 0; i < c->size; i++) {
        Qcow2CacheEntry *e = &c->entries[i];
        if (e->offset == offset) {
            e->lru = ++c->lru_counter;
            if (fresh) {
                memset(e->table, 0, s->cluster_size);
            }
            *table = e->table;
            return 0;
        }
        if (!victim || (victim->offset && (!e->offset || e->lru < victim->lru))) {
            victim = e;
        }
    }
    if (victim->offset) {
        ret = cache_write_entry(bs, c, victim);
        if (ret < 0) {
            return ret;
        }
    }
    victim->offset = 0;
    if (fresh) {
        memset(victim->table, 0, s->cluster_size);
    } else {
        ret = bdrv_pread(bs->file, offset, s->cluster_size, victim->table);
        if (ret < 0) {
            return ret;
        }
    }
    victim->offset = offset;
    victim->dirty = false;
    victim->lru = ++c->lru_counter;
    *table = victim->table;
    return 0;
}

/* The cached table at offset, or NULL: never does I/O (the asynchronous read path). */
uint8_t *qcow2_cache_peek(Qcow2Cache *c, uint64_t offset)
{
    for (int i = 0; i < c->size; i++) {
        Qcow2CacheEntry *e = &c->entries[i];
        if (e->offset == offset) {
            e->lru = ++c->lru_counter;
            return e->table;
        }
    }
    return NULL;
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, uint8_t *table)
{
    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].table == table) {
            c->entries[i].dirty = true;
            return;
        }
    }
    g_assert_not_reached();
}

int qcow2_cache_writeback(BlockDriverState *bs, Qcow2Cache *c)
{
    int written = 0;

    for (int i = 0; i < c->size; i++) {
        Qcow2CacheEntry *e = &c->entries[i];
        if (e->offset && e->dirty) {
            int ret = cache_write_entry(bs, c, e);
            if (ret < 0) {
                return ret;
            }
            written++;
        }
    }
    return written;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset)
{
    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].offset == offset) {
            c->entries[i].offset = 0;
            c->entries[i].dirty = false;
        }
    }
}
