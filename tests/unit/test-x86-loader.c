/*
 * Direct kernel boot: loader blobs (hw/core/loader.c), the e820 builder, and (below) the
 * Linux bzImage and Multiboot loaders, run against synthetic images in a test machine's
 * RAM (128 MiB of RAM at 0 in address_space_memory).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/memory.h"
#include "kite/runstate.h"
#include "hw/loader.h"
#include "hw/i386/e820.h"

#define RAM_SIZE (128 * MiB)

static char *tmpdir;

static void setup_machine(void)
{
    static MemoryRegion ram;

    memory_init();
    memory_region_init_ram(&ram, NULL, "ram", RAM_SIZE, &error_abort);
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    tmpdir = g_dir_make_tmp("kite-loader-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
}

/* Write a file in the test's directory; returns its path (g_free it). */
static char *write_file(const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(tmpdir, name, NULL);

    g_assert_true(g_file_set_contents(path, data, len, NULL));
    return path;
}

static void guest_read(hwaddr addr, void *buf, size_t len)
{
    g_assert_cmpint(address_space_read(&address_space_memory, addr, buf, len), ==, MEMTX_OK);
}

static void guest_fill(hwaddr addr, uint8_t v, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    memset(buf, v, len);
    address_space_write(&address_space_memory, addr, buf, len);
}

static void assert_error(Error *err, const char *fragment)
{
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), fragment)) {
        g_error("error '%s' does not mention '%s'", error_get_pretty(err), fragment);
    }
    error_free(err);
}

/* --- loader blobs --- */

static void test_blob_reset(void)
{
    const uint8_t data[] = { 1, 2, 3, 4, 5 };
    uint8_t buf[5];
    g_autoptr(GString) info = g_string_new(NULL);
    Error *err = NULL;
    size_t len;
    hwaddr gpa;

    loader_clear();
    g_assert_true(loader_add_blob("test/a", data, sizeof(data), 0x3000, &error_abort));
    guest_read(0x3000, buf, 5);
    g_assert_cmpmem(buf, 5, data, 5);

    /* The guest overwrites it; a system reset puts it back. */
    guest_fill(0x3000, 0xee, 5);
    system_run_reset_handlers();
    guest_read(0x3000, buf, 5);
    g_assert_cmpmem(buf, 5, data, 5);

    /* Overlap with another blob, outside RAM, empty and wrapping ranges are refused. */
    g_assert_false(loader_add_blob("test/b", data, sizeof(data), 0x3004, &err));
    assert_error(err, "overlaps test/a");
    err = NULL;
    g_assert_false(loader_add_blob("test/c", data, sizeof(data), RAM_SIZE - 2, &err));
    assert_error(err, "not in guest RAM");
    err = NULL;
    g_assert_false(loader_add_blob("test/d", data, 0, 0x5000, &err));
    assert_error(err, "bad guest range");
    err = NULL;
    g_assert_false(loader_add_blob("test/e", data, sizeof(data), UINT64_MAX - 1, &err));
    assert_error(err, "bad guest range");

    /* Lookup, listing and rollback. */
    g_assert_nonnull(loader_blob_data("test/a", &len, &gpa));
    g_assert_cmpuint(len, ==, 5);
    g_assert_cmphex(gpa, ==, 0x3000);
    g_assert_null(loader_blob_data("test/b", NULL, NULL));
    loader_print_info(info);
    g_assert_nonnull(strstr(info->str, "addr=0000000000003000 size=0x000005 mem=ram "
                                       "name=\"test/a\""));
    g_assert_cmpuint(loader_mark(), ==, 1);
    g_assert_true(loader_add_blob("test/f", data, sizeof(data), 0x4000, &error_abort));
    loader_rollback(1);
    g_assert_null(loader_blob_data("test/f", NULL, NULL));
    g_assert_nonnull(loader_blob_data("test/a", NULL, NULL));

    /* After clearing, resets leave guest memory alone. */
    loader_clear();
    guest_fill(0x3000, 0xee, 5);
    system_run_reset_handlers();
    guest_read(0x3000, buf, 1);
    g_assert_cmphex(buf[0], ==, 0xee);
}

static void test_load_file(void)
{
    g_autofree char *empty = write_file("empty", "", 0);
    g_autofree char *ten = write_file("ten", "0123456789", 10);
    g_autofree char *missing = g_build_filename(tmpdir, "missing", NULL);
    uint8_t *buf = NULL;
    size_t len = 0;
    Error *err = NULL;

    g_assert_true(loader_load_file(ten, &buf, &len, 10, &error_abort));
    g_assert_cmpmem(buf, len, "0123456789", 10);
    g_free(buf);

    g_assert_false(loader_load_file(ten, &buf, &len, 9, &err));
    assert_error(err, "too large");
    err = NULL;
    g_assert_false(loader_load_file(empty, &buf, &len, 10, &err));
    assert_error(err, "is empty");
    err = NULL;
    g_assert_false(loader_load_file(tmpdir, &buf, &len, 10, &err));
    assert_error(err, "is a directory");
    err = NULL;
    g_assert_false(loader_load_file(missing, &buf, &len, 10, &err));
    assert_error(err, "could not open");
    err = NULL;
    g_assert_false(loader_load_file("/dev/null", &buf, &len, 10, &err));
    assert_error(err, "not a regular file");
}

/* --- e820 --- */

static void assert_entry(const E820Table *t, unsigned i, uint64_t addr, uint64_t size,
                         uint32_t type)
{
    g_assert_cmpuint(i, <, t->nr);
    g_assert_cmphex(t->entries[i].addr, ==, addr);
    g_assert_cmphex(t->entries[i].size, ==, size);
    g_assert_cmpuint(t->entries[i].type, ==, type);
}

static void test_e820_pc(void)
{
    E820Table t;
    g_autofree uint8_t *le = NULL;
    size_t len;
    uint64_t a;

    /* 3 GiB below 4 GiB, 1 GiB above, ACPI tables carved out of the top 128 KiB. */
    e820_init_pc(&t, 3 * GiB, 1 * GiB);
    g_assert_true(e820_add(&t, 3 * GiB - 128 * KiB, 128 * KiB, E820_ACPI));
    g_assert_cmpuint(t.nr, ==, 7);
    assert_entry(&t, 0, 0, 0x9fc00, E820_RAM);
    assert_entry(&t, 1, 0x9fc00, 0x400, E820_RESERVED);
    assert_entry(&t, 2, 0xf0000, 0x10000, E820_RESERVED);
    assert_entry(&t, 3, 0x100000, 3 * GiB - 128 * KiB - MiB, E820_RAM);
    assert_entry(&t, 4, 3 * GiB - 128 * KiB, 128 * KiB, E820_ACPI);
    assert_entry(&t, 5, 0xfffc0000, 0x40000, E820_RESERVED);
    assert_entry(&t, 6, 4 * GiB, 1 * GiB, E820_RAM);

    g_assert_true(e820_is_ram(&t, 0x100000, 16 * MiB));
    g_assert_false(e820_is_ram(&t, 0x9f000, 0x1000));         /* runs into the EBDA */
    g_assert_false(e820_is_ram(&t, 3 * GiB - 4096, 4096));     /* ACPI */
    g_assert_cmphex(e820_ram_end(&t, 0x100000), ==, 3 * GiB - 128 * KiB);
    g_assert_cmphex(e820_ram_end(&t, 0xa0000), ==, 0);
    g_assert_cmphex(e820_ram_size(&t, 0, E820_4G), ==, 0x9fc00 + 3 * GiB - 128 * KiB - MiB);
    g_assert_cmphex(e820_ram_size(&t, 0, UINT64_MAX), ==,
                    0x9fc00 + 3 * GiB - 128 * KiB - MiB + 1 * GiB);

    /* Highest aligned fit: below the ACPI tables, or below a limit, or nowhere. */
    g_assert_true(e820_find_ram_top(&t, MiB, E820_4G, 10000, 4096, &a));
    g_assert_cmphex(a, ==, ROUND_DOWN(3 * GiB - 128 * KiB - 10000, 4096));
    g_assert_true(e820_find_ram_top(&t, MiB, 0x38000000, 0x1000, 4096, &a));
    g_assert_cmphex(a, ==, 0x37fff000);
    g_assert_false(e820_find_ram_top(&t, MiB, E820_4G, 4 * GiB, 4096, &a));
    g_assert_false(e820_find_ram_top(&t, 2 * GiB, 2 * GiB + 4096, 8192, 4096, &a));

    /* Packed little-endian entries for the zero page and fw_cfg "etc/e820". */
    le = e820_to_le(&t, &len);
    g_assert_cmpuint(len, ==, 7 * 20);
    g_assert_cmphex(ldq_le_p(le + 3 * 20), ==, 0x100000);
    g_assert_cmphex(ldq_le_p(le + 3 * 20 + 8), ==, 3 * GiB - 128 * KiB - MiB);
    g_assert_cmpuint(ldl_le_p(le + 4 * 20 + 16), ==, E820_ACPI);
    g_assert_cmphex(ldq_le_p(le + 6 * 20), ==, 4 * GiB);
}

static void test_e820_add(void)
{
    E820Table t;

    /* Carving splits an entry; re-adding the same type merges it back. */
    e820_init(&t);
    g_assert_true(e820_add(&t, 0, 0x10000, E820_RAM));
    g_assert_true(e820_add(&t, 0x4000, 0x1000, E820_RESERVED));
    g_assert_cmpuint(t.nr, ==, 3);
    assert_entry(&t, 0, 0, 0x4000, E820_RAM);
    assert_entry(&t, 1, 0x4000, 0x1000, E820_RESERVED);
    assert_entry(&t, 2, 0x5000, 0xb000, E820_RAM);
    g_assert_true(e820_add(&t, 0x4000, 0x1000, E820_RAM));
    g_assert_cmpuint(t.nr, ==, 1);
    assert_entry(&t, 0, 0, 0x10000, E820_RAM);

    /* A range covering several entries replaces them all; touching RAM merges. */
    g_assert_true(e820_add(&t, 0x20000, 0x1000, E820_NVS));
    g_assert_cmpuint(t.nr, ==, 2);
    g_assert_true(e820_add(&t, 0x8000, 0x20000, E820_RAM));
    g_assert_cmpuint(t.nr, ==, 1);
    assert_entry(&t, 0, 0, 0x28000, E820_RAM);

    /* A full table refuses more entries and stays as it was. */
    e820_init(&t);
    for (unsigned i = 0; i < E820_MAX_ENTRIES; i++) {
        g_assert_true(e820_add(&t, i * 0x2000ULL, 0x1000, E820_RAM));
    }
    g_assert_false(e820_add(&t, 0x1000000, 0x1000, E820_RESERVED));
    g_assert_cmpuint(t.nr, ==, E820_MAX_ENTRIES);
    assert_entry(&t, E820_MAX_ENTRIES - 1, (E820_MAX_ENTRIES - 1) * 0x2000ULL, 0x1000,
                 E820_RAM);
    g_assert_false(e820_add(&t, UINT64_MAX - 10, 100, E820_RAM));
}

static void remove_tmpdir(void)
{
    GDir *dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(tmpdir, name, NULL);
        unlink(path);
    }
    if (dir) {
        g_dir_close(dir);
    }
    rmdir(tmpdir);
    g_free(tmpdir);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    setup_machine();
    g_test_add_func("/loader/blob-reset", test_blob_reset);
    g_test_add_func("/loader/load-file", test_load_file);
    g_test_add_func("/e820/pc", test_e820_pc);
    g_test_add_func("/e820/add", test_e820_add);
    ret = g_test_run();
    loader_clear();
    remove_tmpdir();
    return ret;
}
