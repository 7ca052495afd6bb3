/*
 * Memory API: overlap and priority, aliases, access splitting/widening, unassigned space,
 * listeners, ioeventfd dispatch and dirty bitmaps.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/memory.h"
#include <sys/eventfd.h>

/* A test device recording its accesses; registers read back as 0xA0 + offset per byte. */
typedef struct Dev {
    GString *log;
    uint8_t regs[64];
} Dev;

static uint64_t dev_read(void *opaque, hwaddr addr, unsigned size)
{
    Dev *d = opaque;
    uint64_t v = 0;

    g_string_append_printf(d->log, "r%u@%u ", size, (unsigned)addr);
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)d->regs[(addr + i) % 64] << (8 * i);
    }
    return v;
}

static void dev_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    Dev *d = opaque;

    g_string_append_printf(d->log, "w%u@%u=%" PRIx64 " ", size, (unsigned)addr, val);
    for (unsigned i = 0; i < size; i++) {
        d->regs[(addr + i) % 64] = val >> (8 * i);
    }
}

static Dev *dev_new(void)
{
    Dev *d = g_new0(Dev, 1);
    d->log = g_string_new(NULL);
    for (int i = 0; i < 64; i++) {
        d->regs[i] = 0xa0 + i;
    }
    return d;
}

static void dev_free(Dev *d)
{
    g_string_free(d->log, true);
    g_free(d);
}

static const MemoryRegionOps byte_ops = {
    .read = dev_read, .write = dev_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps dword_ops = {
    .read = dev_read, .write = dev_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static const MemoryRegionOps strict_ops = {
    .read = dev_read, .write = dev_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void test_overlap_priority(void)
{
    MemoryRegion root, ram, io_lo, io_hi;
    AddressSpace as;
    Dev *lo = dev_new(), *hi = dev_new();
    uint32_t v;
    uint8_t *host;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, NULL, "ram", 0x10000, &error_abort));
    memory_region_init_io(&io_lo, NULL, &byte_ops, lo, "lo", 0x100);
    memory_region_init_io(&io_hi, NULL, &byte_ops, hi, "hi", 0x10);
    host = memory_region_get_ram_ptr(&ram);
    memset(host, 0x11, 0x10000);

    memory_region_add_subregion(&root, 0, &ram);
    /* Overlapping at a higher priority hides the RAM below it. */
    memory_region_add_subregion_overlap(&root, 0x1000, &io_lo, 1);
    memory_region_add_subregion_overlap(&root, 0x1008, &io_hi, 2);

    address_space_read(&as, 0x0ffc, &v, 4);
    g_assert_cmphex(v, ==, 0x11111111);
    address_space_read(&as, 0x1000, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa0);              /* lo, offset 0 */
    address_space_read(&as, 0x1008, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa0);              /* hi, offset 0 */
    g_assert_cmpstr(hi->log->str, ==, "r1@0 ");
    address_space_read(&as, 0x1018, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa0 + 0x18);       /* lo again past hi's end */
    address_space_read(&as, 0x1100, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0x11);              /* RAM past lo's end */

    /* A read spanning RAM and MMIO is stitched together. */
    g_string_truncate(lo->log, 0);
    v = 0;
    address_space_read(&as, 0x0ffe, &v, 4);
    g_assert_cmphex(v, ==, 0xa1a01111);

    /* Disabling the top region uncovers the one below. */
    memory_region_set_enabled(&io_hi, false);
    address_space_read(&as, 0x1008, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa8);
    memory_region_set_enabled(&io_hi, true);

    /* Moving a region. */
    memory_region_set_address(&io_hi, 0x2000);
    address_space_read(&as, 0x1008, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa8);
    address_space_read(&as, 0x2001, &v, 1);
    g_assert_cmphex(v & 0xff, ==, 0xa1);

    memory_region_del_subregion(&root, &io_hi);
    memory_region_del_subregion(&root, &io_lo);
    memory_region_del_subregion(&root, &ram);
    address_space_destroy(&as);
    memory_region_destroy(&io_hi);
    memory_region_destroy(&io_lo);
    memory_region_destroy(&ram);
    memory_region_destroy(&root);
    dev_free(lo);
    dev_free(hi);
}

static void test_alias(void)
{
    MemoryRegion root, ram, alias_lo, alias_hi;
    AddressSpace as;
    uint8_t *host;
    uint8_t b;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    memory_region_init_ram(&ram, NULL, "ram", 0x200000, &error_abort);
    host = memory_region_get_ram_ptr(&ram);
    for (int i = 0; i < 0x200000; i += 0x1000) {
        host[i] = (i >= 0x100000 ? 0x80 : 0) | ((i >> 12) & 0x7f);   /* page tag */
    }
    /* Show the RAM's second MiB at 0 (offset above the alias's address: no wrap bugs)... */
    memory_region_init_alias(&alias_lo, NULL, "alias-lo", &ram, 0x100000, 0x10000);
    memory_region_add_subregion(&root, 0, &alias_lo);
    /* ...and its first 64K high up. */
    memory_region_init_alias(&alias_hi, NULL, "alias-hi", &ram, 0, 0x10000);
    memory_region_add_subregion(&root, 0xfff00000, &alias_hi);

    address_space_read(&as, 0x3000, &b, 1);
    g_assert_cmpuint(b, ==, 0x83);
    address_space_read(&as, 0xfff05000, &b, 1);
    g_assert_cmpuint(b, ==, 5);
    /* Past the alias window: unassigned. */
    address_space_read(&as, 0x10000, &b, 1);
    g_assert_cmpuint(b, ==, 0xff);
    /* Writes through an alias land in the target. */
    b = 0x77;
    address_space_write(&as, 0xfff06000, &b, 1);
    g_assert_cmpuint(host[0x6000], ==, 0x77);
    /* Changing the alias offset moves the window. */
    memory_region_set_alias_offset(&alias_lo, 0);
    address_space_read(&as, 0x6000, &b, 1);
    g_assert_cmpuint(b, ==, 0x77);
    g_assert_true(memory_region_get_ram_ptr(&alias_hi) == host);

    memory_region_del_subregion(&root, &alias_lo);
    memory_region_del_subregion(&root, &alias_hi);
    address_space_destroy(&as);
    memory_region_destroy(&alias_lo);
    memory_region_destroy(&alias_hi);
    memory_region_destroy(&ram);
    memory_region_destroy(&root);
}

static void test_access_sizes(void)
{
    MemoryRegion root, a, b, c;
    AddressSpace as;
    Dev *da = dev_new(), *db = dev_new(), *dc = dev_new();
    uint64_t v;

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "io");
    memory_region_init_io(&a, NULL, &byte_ops, da, "bytes", 16);
    memory_region_init_io(&b, NULL, &dword_ops, db, "dwords", 16);
    memory_region_init_io(&c, NULL, &strict_ops, dc, "strict", 16);
    memory_region_add_subregion(&root, 0x100, &a);
    memory_region_add_subregion(&root, 0x200, &b);
    memory_region_add_subregion(&root, 0x300, &c);

    /* A 4-byte access to a byte-wide device becomes four byte accesses, little-endian. */
    address_space_load(&as, 0x104, &v, 4);
    g_assert_cmphex(v, ==, 0xa7a6a5a4);
    g_assert_cmpstr(da->log->str, ==, "r1@4 r1@5 r1@6 r1@7 ");
    g_string_truncate(da->log, 0);
    address_space_store(&as, 0x108, 0x11223344, 2);
    g_assert_cmpstr(da->log->str, ==, "w1@8=44 w1@9=33 ");

    /* A byte access to a dword-only device is widened to the aligned dword. */
    address_space_load(&as, 0x206, &v, 1);
    g_assert_cmphex(v, ==, 0xa6);
    g_assert_cmpstr(db->log->str, ==, "r4@4 ");
    g_string_truncate(db->log, 0);
    address_space_store(&as, 0x205, 0x5a, 1);
    g_assert_cmpstr(db->log->str, ==, "w4@4=5a00 ");

    /* An 8-byte access to a dword device is two dword accesses. */
    g_string_truncate(db->log, 0);
    address_space_load(&as, 0x208, &v, 8);
    g_assert_cmpstr(db->log->str, ==, "r4@8 r4@12 ");
    g_assert_cmphex(v, ==, 0xafaeadacabaaa9a8ULL);

    /* The strict device refuses byte accesses: read all-ones, write dropped, no call. */
    g_assert_cmpint(address_space_load(&as, 0x301, &v, 1), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(v, ==, 0xff);
    address_space_store(&as, 0x302, 1, 2);
    /* ...and misaligned dwords. */
    address_space_load(&as, 0x302, &v, 4);
    g_assert_cmphex(v, ==, 0xffffffff);
    g_assert_cmpstr(dc->log->str, ==, "");
    address_space_load(&as, 0x304, &v, 4);
    g_assert_cmpstr(dc->log->str, ==, "r4@4 ");

    /* A buffer copy across a device is cut into accesses it accepts. */
    {
        uint8_t buf[7];
        g_string_truncate(dc->log, 0);
        address_space_read(&as, 0x300, buf, 7);
        /* 4 at 0, then 2 at 4 and 1 at 6 are refused (all-ones). */
        g_assert_cmpstr(dc->log->str, ==, "r4@0 ");
        g_assert_cmphex(buf[0], ==, 0xa0);
        g_assert_cmphex(buf[4], ==, 0xff);
    }

    /* Unassigned I/O reads all-ones at every size. */
    g_assert_cmpint(address_space_load(&as, 0x400, &v, 2), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(v, ==, 0xffff);
    address_space_load(&as, 0x400, &v, 4);
    g_assert_cmphex(v, ==, 0xffffffff);
    address_space_store(&as, 0x400, 0, 4);   /* dropped, no crash */
    address_space_load(&as, 0xfffe, &v, 4);  /* runs off the end of the space */
    g_assert_cmphex(v, ==, 0xffffffff);

    memory_region_del_subregion(&root, &a);
    memory_region_del_subregion(&root, &b);
    memory_region_del_subregion(&root, &c);
    address_space_destroy(&as);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
    memory_region_destroy(&c);
    memory_region_destroy(&root);
    dev_free(da);
    dev_free(db);
    dev_free(dc);
}

/*
 * QEMU's rule for a CPU access: it goes whole to the region decoding its first byte, even
 * where another region overlays later bytes (0xcf8 vs 0xcf9); the device never sees offsets
 * past its end.
 */
static void test_whole_access(void)
{
    MemoryRegion root, conf, rst, small;
    AddressSpace as;
    Dev *dconf = dev_new(), *drst = dev_new(), *dsmall = dev_new();
    uint64_t v;

    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "io");
    memory_region_init_io(&conf, NULL, &dword_ops, dconf, "conf", 4);
    memory_region_init_io(&rst, NULL, &byte_ops, drst, "rst", 1);
    memory_region_init_io(&small, NULL, &byte_ops, dsmall, "small", 2);
    memory_region_add_subregion(&root, 0xcf8, &conf);
    memory_region_add_subregion_overlap(&root, 0xcf9, &rst, 1);
    memory_region_add_subregion(&root, 0x200, &small);

    address_space_store(&as, 0xcf8, 0x80000004, 4);
    g_assert_cmpstr(dconf->log->str, ==, "w4@0=80000004 ");
    g_assert_cmpstr(drst->log->str, ==, "");
    address_space_store(&as, 0xcf9, 0x6, 1);
    g_assert_cmpstr(drst->log->str, ==, "w1@0=6 ");

    address_space_load(&as, 0x200, &v, 4);
    g_assert_cmpstr(dsmall->log->str, ==, "r1@0 r1@1 ");
    g_assert_cmphex(v, ==, 0xffffa1a0);
    address_space_store(&as, 0x200, 0x11223344, 4);
    g_assert_cmpstr(dsmall->log->str, ==, "r1@0 r1@1 w1@0=44 w1@1=33 ");

    memory_region_del_subregion(&root, &conf);
    memory_region_del_subregion(&root, &rst);
    memory_region_del_subregion(&root, &small);
    address_space_destroy(&as);
    memory_region_destroy(&conf);
    memory_region_destroy(&rst);
    memory_region_destroy(&small);
    memory_region_destroy(&root);
    dev_free(dconf);
    dev_free(drst);
    dev_free(dsmall);
}

typedef struct TestListener {
    MemoryListener l;
    GString *log;
} TestListener;

static void tl_add(MemoryListener *l, MemoryRegionSection *s)
{
    TestListener *tl = container_of(l, TestListener, l);
    g_string_append_printf(tl->log, "+%s@%" PRIx64 "/%" PRIx64 "%s ", s->mr->name,
                           s->offset_within_address_space, s->size, s->readonly ? "ro" : "");
}

static void tl_del(MemoryListener *l, MemoryRegionSection *s)
{
    TestListener *tl = container_of(l, TestListener, l);
    g_string_append_printf(tl->log, "-%s@%" PRIx64 "/%" PRIx64 " ", s->mr->name,
                           s->offset_within_address_space, s->size);
}

static void tl_log_start(MemoryListener *l, MemoryRegionSection *s, int old, int new_)
{
    TestListener *tl = container_of(l, TestListener, l);
    g_string_append_printf(tl->log, "log%d->%d ", old, new_);
}

static void test_listener(void)
{
    MemoryRegion root, ram, rom, hole;
    AddressSpace as;
    TestListener tl = { .l = { .region_add = tl_add, .region_del = tl_del,
                               .log_start = tl_log_start } };
    Dev *d = dev_new();

    tl.log = g_string_new(NULL);
    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    memory_region_init_ram(&ram, NULL, "ram", 0x100000, &error_abort);
    memory_region_init_rom(&rom, NULL, "rom", 0x10000, &error_abort);
    memory_region_add_subregion(&root, 0, &ram);
    memory_listener_register(&tl.l, &as);
    g_assert_cmpstr(tl.log->str, ==, "+ram@0/100000 ");   /* replay */

    g_string_truncate(tl.log, 0);
    memory_region_transaction_begin();
    memory_region_add_subregion(&root, 0xf0000000, &rom);
    memory_region_init_io(&hole, NULL, &byte_ops, d, "vga", 0x20000);
    memory_region_add_subregion_overlap(&root, 0xa0000, &hole, 1);
    g_assert_cmpstr(tl.log->str, ==, "");   /* nothing until commit */
    memory_region_transaction_commit();
    /* RAM is split around the MMIO hole; the ROM is read-only. */
    g_assert_cmpstr(tl.log->str, ==,
                    "-ram@0/100000 +ram@0/a0000 +vga@a0000/20000 +ram@c0000/40000 "
                    "+rom@f0000000/10000ro ");

    g_string_truncate(tl.log, 0);
    memory_region_set_log(&ram, true, DIRTY_MEMORY_VGA);
    g_assert_cmpstr(tl.log->str, ==, "log0->1 log0->1 ");

    g_string_truncate(tl.log, 0);
    memory_listener_unregister(&tl.l);
    g_assert_cmpstr(tl.log->str, ==,
                    "-rom@f0000000/10000 -ram@c0000/40000 -vga@a0000/20000 -ram@0/a0000 ");

    memory_region_del_subregion(&root, &ram);
    memory_region_del_subregion(&root, &rom);
    memory_region_del_subregion(&root, &hole);
    address_space_destroy(&as);
    memory_region_destroy(&ram);
    memory_region_destroy(&rom);
    memory_region_destroy(&hole);
    memory_region_destroy(&root);
    g_string_free(tl.log, true);
    dev_free(d);
}

static void test_rom_and_dirty(void)
{
    MemoryRegion root, ram, rom;
    AddressSpace as;
    uint32_t v = 0x12345678;
    uint8_t *rom_host;
    hwaddr len = 0x3000;
    void *p;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    memory_region_init_ram(&ram, NULL, "ram", 0x100000, &error_abort);
    memory_region_init_rom(&rom, NULL, "rom", 0x1000, &error_abort);
    memory_region_add_subregion(&root, 0, &ram);
    memory_region_add_subregion(&root, 0x200000, &rom);
    rom_host = memory_region_get_ram_ptr(&rom);

    /* Guest writes to ROM are dropped; loaders can still write it. */
    address_space_write(&as, 0x200000, &v, 4);
    g_assert_cmpuint(ldl_le_p(rom_host), ==, 0);
    address_space_write_rom(&as, 0x200000, &v, 4);
    g_assert_cmphex(ldl_le_p(rom_host), ==, 0x12345678);

    /* Writes mark pages dirty; test_and_clear clears only that client. */
    memory_region_reset_dirty(&ram, 0, 0x100000, DIRTY_MEMORY_VGA);
    memory_region_reset_dirty(&ram, 0, 0x100000, DIRTY_MEMORY_MIGRATION);
    address_space_write(&as, 0x5004, &v, 4);
    g_assert_false(memory_region_get_dirty(&ram, 0x4000, 0x1000, DIRTY_MEMORY_VGA));
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0x5000, 0x1000, DIRTY_MEMORY_VGA));
    g_assert_false(memory_region_get_dirty(&ram, 0x5000, 0x1000, DIRTY_MEMORY_VGA));
    g_assert_true(memory_region_get_dirty(&ram, 0x5000, 1, DIRTY_MEMORY_MIGRATION));

    /*
     * Snapshots: the bits written before it are in it and cleared (only within the range,
     * across bitmap words); a write after it is dirty for the next frame, whatever the
     * reader does with the snapshot.
     */
    {
        DirtyBitmapSnapshot *snap;

        for (hwaddr a = 0x3f000; a <= 0x41000; a += 0x1000) {    /* pages 63-65 */
            address_space_write(&as, a, &v, 4);
        }
        address_space_write(&as, 0x80000, &v, 4);
        snap = memory_region_snapshot_and_clear_dirty(&ram, 0x3f000, 0x3000, DIRTY_MEMORY_VGA);
        g_assert_false(memory_region_get_dirty(&ram, 0x3f000, 0x3000, DIRTY_MEMORY_VGA));
        g_assert_true(memory_region_get_dirty(&ram, 0x80000, 1, DIRTY_MEMORY_VGA));
        for (hwaddr a = 0x3f000; a <= 0x41000; a += 0x1000) {
            g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, a + 8, 1));
        }
        g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 0x3e000, 0x1000));
        g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 0x80000, 0x1000));
        address_space_write(&as, 0x40010, &v, 4);
        g_assert_true(memory_region_get_dirty(&ram, 0x40000, 1, DIRTY_MEMORY_VGA));
        g_free(snap);
        snap = memory_region_snapshot_and_clear_dirty(&ram, 0, 0x100000, DIRTY_MEMORY_VGA);
        g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 0x40000, 0x1000));
        g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 0x3f000, 0x1000));
        g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 0x7f000, 0x2000));
        g_free(snap);
        g_assert_false(memory_region_get_dirty(&ram, 0, 0x100000, DIRTY_MEMORY_VGA));
    }

    /* map: RAM only, clipped to the region; unmap after a write marks dirty. */
    p = address_space_map(&as, 0xfe000, &len, true);
    g_assert_true(p == (uint8_t *)memory_region_get_ram_ptr(&ram) + 0xfe000);
    g_assert_cmpuint(len, ==, 0x2000);
    memory_region_reset_dirty(&ram, 0, 0x100000, DIRTY_MEMORY_VGA);
    address_space_unmap(&as, p, len, true, len);
    g_assert_true(memory_region_get_dirty(&ram, 0xff000, 1, DIRTY_MEMORY_VGA));
    len = 16;
    g_assert_null(address_space_map(&as, 0x200000, &len, true));   /* ROM, for write */
    len = 16;
    g_assert_nonnull(address_space_map(&as, 0x200000, &len, false));
    len = 16;
    g_assert_null(address_space_map(&as, 0x300000, &len, false));  /* unassigned */
    g_assert_cmpuint(len, ==, 0);

    memory_region_del_subregion(&root, &ram);
    memory_region_del_subregion(&root, &rom);
    address_space_destroy(&as);
    memory_region_destroy(&ram);
    memory_region_destroy(&rom);
    memory_region_destroy(&root);
}

static void test_ioeventfd(void)
{
    MemoryRegion root, io;
    AddressSpace as;
    Dev *d = dev_new();
    EventNotifier e;
    uint64_t cnt = 0;

    e.rfd = e.wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_assert_cmpint(e.rfd, >=, 0);
    memory_region_init(&root, NULL, "root", 0x10000);
    address_space_init(&as, &root, "io");
    memory_region_init_io(&io, NULL, &byte_ops, d, "notify", 16);
    memory_region_add_subregion(&root, 0x500, &io);
    memory_region_add_eventfd(&io, 4, 2, true, 3, &e);

    address_space_store(&as, 0x504, 3, 2);   /* matches: eventfd, not the handler */
    g_assert_cmpstr(d->log->str, ==, "");
    g_assert_cmpint(read(e.rfd, &cnt, 8), ==, 8);
    g_assert_cmpuint(cnt, ==, 1);
    address_space_store(&as, 0x504, 4, 2);   /* other data: the handler */
    g_assert_cmpstr(d->log->str, ==, "w1@4=4 w1@5=0 ");
    g_assert_cmpint(read(e.rfd, &cnt, 8), ==, -1);

    memory_region_del_eventfd(&io, 4, 2, true, 3, &e);
    address_space_store(&as, 0x504, 3, 2);
    g_assert_cmpint(read(e.rfd, &cnt, 8), ==, -1);

    memory_region_del_subregion(&root, &io);
    address_space_destroy(&as);
    memory_region_destroy(&io);
    memory_region_destroy(&root);
    close(e.rfd);
    dev_free(d);
}

/*
 * Accesses from another thread (a vCPU or an iothread) while the main thread keeps changing
 * the topology: every access must see a whole view, old or new, never a freed one (ASan
 * catches the use-after-free this guards against).
 */
typedef struct RaceState {
    AddressSpace *as;
    volatile bool stop;
    uint64_t reads;
} RaceState;

static uint64_t counter_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0x5a;
}

static void counter_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps counter_ops = {
    .read = counter_read, .write = counter_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static gpointer race_reader(gpointer opaque)
{
    RaceState *r = opaque;

    while (!r->stop) {
        uint64_t v;
        uint8_t buf[16];
        hwaddr len = 16;
        address_space_load(r->as, 0x1000, &v, 4);
        g_assert_true(v == 0x5a || v == 0xffffffff);
        address_space_read(r->as, 0xff8, buf, 16);    /* RAM, then MMIO or hole */
        address_space_store(r->as, 0x1004, 1, 4);
        g_assert_nonnull(address_space_map(r->as, 0x10, &len, false));
        r->reads++;
    }
    return NULL;
}

static void test_concurrent_topology(void)
{
    MemoryRegion root, ram, mmio;
    AddressSpace as;
    RaceState r = { .as = &as };
    GThread *t;

    memory_region_init(&root, NULL, "root", UINT64_MAX);
    address_space_init(&as, &root, "race");
    memory_region_init_ram(&ram, NULL, "ram", 0x1000, &error_abort);
    memory_region_add_subregion(&root, 0, &ram);
    memory_region_init_io(&mmio, NULL, &counter_ops, NULL, "mmio", 0x1000);
    t = g_thread_new("race-reader", race_reader, &r);
    /* Until the reader has overlapped plenty of changes (bounded, for slow machines). */
    for (int i = 0; i < 2000000 && __atomic_load_n(&r.reads, __ATOMIC_RELAXED) < 300000; i++) {
        memory_region_add_subregion(&root, 0x1000, &mmio);
        memory_region_del_subregion(&root, &mmio);
    }
    r.stop = true;
    g_thread_join(t);
    g_assert_cmpuint(r.reads, >, 0);
    memory_region_del_subregion(&root, &ram);
    address_space_destroy(&as);
    memory_region_destroy(&mmio);
    memory_region_destroy(&ram);
    memory_region_destroy(&root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/overlap-priority", test_overlap_priority);
    g_test_add_func("/memory/alias", test_alias);
    g_test_add_func("/memory/access-sizes", test_access_sizes);
    g_test_add_func("/memory/whole-access", test_whole_access);
    g_test_add_func("/memory/listener", test_listener);
    g_test_add_func("/memory/rom-and-dirty", test_rom_and_dirty);
    g_test_add_func("/memory/ioeventfd", test_ioeventfd);
    g_test_add_func("/memory/concurrent-topology", test_concurrent_topology);
    return g_test_run();
}
