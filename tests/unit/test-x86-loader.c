/*
 * Direct kernel boot: loader blobs (hw/core/loader.c), the e820 builder, and the Linux
 * bzImage and Multiboot loaders, run against synthetic images in a test machine's RAM
 * (128 MiB at 0 in address_space_memory).  The entry tests start small hand-assembled
 * kernels on the interpreter with the registers the loaders return.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include <zlib.h>
#include "kite/memory.h"
#include "kite/runstate.h"
#include "hw/loader.h"
#include "hw/i386/e820.h"
#include "hw/i386/x86-boot.h"
#include "target/i386/cpu.h"

#define RAM_SIZE (128 * MiB)

static char *tmpdir;
static uint8_t *ram_host;

static void setup_machine(void)
{
    static MemoryRegion ram;

    memory_init();
    memory_region_init_ram(&ram, NULL, "ram", RAM_SIZE, &error_abort);
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    ram_host = memory_region_get_ram_ptr(&ram);
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

static uint32_t guest_ldl(hwaddr addr)
{
    uint8_t b[4];

    guest_read(addr, b, 4);
    return ldl_le_p(b);
}

static uint64_t guest_ldq(hwaddr addr)
{
    uint8_t b[8];

    guest_read(addr, b, 8);
    return ldq_le_p(b);
}

static char *guest_string(hwaddr addr)
{
    GString *s = g_string_new(NULL);
    uint8_t c;

    for (;; addr++) {
        guest_read(addr, &c, 1);
        if (!c) {
            break;
        }
        g_string_append_c(s, c);
    }
    return g_string_free(s, false);
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

    /* Zeroes: no host copy, written at every reset like the rest. */
    guest_fill(0x10000, 0xee, 0x30000);
    g_assert_true(loader_add_zeroes("test/bss", 0x20000, 0x10000, &error_abort));
    guest_read(0x10000, buf, 1);
    g_assert_cmphex(buf[0], ==, 0);
    guest_fill(0x2fff0, 0xee, 16);
    system_run_reset_handlers();
    guest_read(0x2ffff, buf, 2);
    g_assert_cmphex(buf[0], ==, 0);
    g_assert_cmphex(buf[1], ==, 0xee);           /* the byte after it is not touched */
    g_assert_null(loader_blob_data("test/bss", NULL, NULL));

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

/* --- Linux bzImage --- */

/* A synthetic bzImage: setup header fields as given, a patterned protected-mode payload. */
typedef struct FakeLinux {
    uint16_t version;
    uint8_t setup_sects, loadflags, relocatable;
    uint16_t boot_flag, xloadflags;
    uint32_t align, init_size, initrd_max, cmdline_size, syssize_extra;
    uint64_t pref;
    size_t payload, truncate;
    const uint8_t *code;                        /* replaces the payload's first bytes */
    size_t code_len;
} FakeLinux;

static FakeLinux fake_linux(void)
{
    return (FakeLinux) {
        .version = 0x020f, .setup_sects = 4, .loadflags = 0x01, .relocatable = 1,
        .boot_flag = 0xaa55, .align = 2 * MiB, .init_size = 32 * MiB,
        .initrd_max = 0x7fffffff, .cmdline_size = 2047, .pref = 16 * MiB,
        .payload = 64 * KiB,
    };
}

static uint8_t payload_byte(size_t i)
{
    return i * 7 + 3;
}

static char *make_bzimage(const FakeLinux *f)
{
    size_t setup = (f->setup_sects + 1) * 512, len = setup + f->payload;
    g_autofree uint8_t *img = g_malloc0(len);

    img[0x1f1] = f->setup_sects;
    stl_le_p(img + 0x1f4, DIV_ROUND_UP(f->payload, 16) + f->syssize_extra);
    stw_le_p(img + 0x1fa, 0xfffd);                  /* vga=ask: the loader overrides */
    stw_le_p(img + 0x1fe, f->boot_flag);
    img[0x200] = 0xeb;
    img[0x201] = 0x66;                              /* header ends at 0x268 */
    stl_le_p(img + 0x202, 0x53726448);
    stw_le_p(img + 0x206, f->version);
    img[0x211] = f->loadflags;
    stl_le_p(img + 0x214, 0x100000);
    stl_le_p(img + 0x22c, f->initrd_max);
    stl_le_p(img + 0x230, f->align);
    img[0x234] = f->relocatable;
    stw_le_p(img + 0x236, f->xloadflags);
    stl_le_p(img + 0x238, f->cmdline_size);
    stq_le_p(img + 0x258, f->pref);
    stl_le_p(img + 0x260, f->init_size);
    stl_le_p(img + 0x264, 0x12345678);              /* handover_offset: copied as is */
    for (size_t i = 0; i < f->payload; i++) {
        img[setup + i] = payload_byte(i);
    }
    if (f->code) {
        memcpy(img + setup, f->code, f->code_len);
    }
    return write_file("bzImage", img, f->truncate ? f->truncate : len);
}

static void pc_e820(E820Table *t, uint64_t ram)
{
    e820_init_pc(t, ram, 0);
}

static void assert_flat32(const X86BootRegs *r, uint32_t eip)
{
    uint8_t gdt[32];

    g_assert_cmphex(r->rip, ==, eip);
    g_assert_cmphex(r->eflags, ==, 0x2);                    /* IF clear */
    g_assert_cmphex(r->cr0 & (X86_CR0_PE | X86_CR0_PG), ==, X86_CR0_PE);
    g_assert_cmphex(r->efer, ==, 0);
    g_assert_cmphex(r->segs[R_CS].selector, ==, 0x10);
    for (int i = R_ES; i <= R_GS; i++) {
        g_assert_cmphex(r->segs[i].base, ==, 0);
        g_assert_cmphex(r->segs[i].limit, ==, 0xffffffff);
        if (i != R_CS) {
            g_assert_cmphex(r->segs[i].selector, ==, 0x18);
            g_assert_cmphex(r->segs[i].attr, ==, 0xc93);    /* G D P S, data RW accessed */
        }
    }
    g_assert_cmphex(r->segs[R_CS].attr, ==, 0xc9b);         /* G D P S, code XR accessed */

    /* The GDT in guest RAM holds the same flat descriptors at 0x10 and 0x18. */
    g_assert_cmphex(r->gdt.base, ==, 0x500);
    g_assert_cmphex(r->gdt.limit, ==, 31);
    guest_read(0x500, gdt, sizeof(gdt));
    g_assert_cmphex(ldq_le_p(gdt), ==, 0);
    g_assert_cmphex(ldq_le_p(gdt + 0x10), ==, 0x00cf9b000000ffffULL);
    g_assert_cmphex(ldq_le_p(gdt + 0x18), ==, 0x00cf93000000ffffULL);
}

static void test_linux_boot(void)
{
    FakeLinux f = fake_linux();
    g_autofree char *kernel = make_bzimage(&f);
    g_autofree uint8_t *initrd_data = g_malloc(10000);
    g_autofree char *initrd = NULL;
    g_autofree char *cmdline = NULL;
    g_autofree uint8_t *payload = g_malloc(f.payload);
    E820Table t;
    X86BootRegs r;
    uint8_t bp[4096];
    uint32_t initrd_addr;

    for (int i = 0; i < 10000; i++) {
        initrd_data[i] = i ^ 0x5a;
    }
    initrd = write_file("initrd", initrd_data, 10000);
    loader_clear();
    pc_e820(&t, RAM_SIZE);
    g_assert_true(e820_add(&t, RAM_SIZE - 64 * KiB, 64 * KiB, E820_ACPI));
    g_assert_true(x86_load_kernel_files(kernel, initrd, "console=ttyS0 root=/dev/ram", &t,
                                        0xf0010, &r, &error_abort));
    g_assert_cmpint(r.mode, ==, X86_BOOT_LINUX);

    /* Entry: 32-bit protocol, ESI = zero page, EBX EBP EDI zero. */
    assert_flat32(&r, 0x100000);
    g_assert_cmphex(r.gpr[R_ESI], ==, 0x7000);
    g_assert_cmphex(r.gpr[R_EBX] | r.gpr[R_EBP] | r.gpr[R_EDI], ==, 0);

    /* The protected-mode kernel at 1 MiB. */
    guest_read(0x100000, payload, f.payload);
    for (size_t i = 0; i < f.payload; i++) {
        g_assert_cmpuint(payload[i], ==, payload_byte(i));
    }

    /* The zero page: header copied, loader fields filled in. */
    guest_read(0x7000, bp, sizeof(bp));
    g_assert_cmphex(ldl_le_p(bp + 0x202), ==, 0x53726448);
    g_assert_cmphex(lduw_le_p(bp + 0x206), ==, 0x020f);
    g_assert_cmphex(ldl_le_p(bp + 0x264), ==, 0x12345678);
    g_assert_cmphex(ldl_le_p(bp + 0x260), ==, 32 * MiB);
    g_assert_cmphex(lduw_le_p(bp + 0x1fa), ==, 0xffff);
    g_assert_cmphex(bp[0x210], ==, 0xff);
    g_assert_cmphex(ldl_le_p(bp + 0x214), ==, 0x100000);
    g_assert_cmphex(bp[0x1ef], ==, 0);                      /* sentinel */
    g_assert_cmphex(ldl_le_p(bp + 0x228), ==, 0x20000);
    cmdline = guest_string(0x20000);
    g_assert_cmpstr(cmdline, ==, "console=ttyS0 root=/dev/ram");
    g_assert_cmphex(ldq_le_p(bp + 0x70), ==, 0xf0010);
    for (int i = 0; i < 0x40; i++) {
        g_assert_cmpuint(bp[i], ==, 0);                     /* screen_info */
    }

    /* The initrd as high as RAM goes, below the ACPI tables, page aligned. */
    initrd_addr = ldl_le_p(bp + 0x218);
    g_assert_cmphex(initrd_addr, ==, ROUND_DOWN(RAM_SIZE - 64 * KiB - 10000, 4096));
    g_assert_cmpuint(ldl_le_p(bp + 0x21c), ==, 10000);
    g_assert_cmphex(ldl_le_p(bp + 0xc0) | ldl_le_p(bp + 0xc4), ==, 0);
    for (int i = 0; i < 10000; i += 997) {
        uint8_t c;
        guest_read(initrd_addr + i, &c, 1);
        g_assert_cmpuint(c, ==, (uint8_t)(i ^ 0x5a));
    }

    /* The e820 table. */
    g_assert_cmpuint(bp[0x1e8], ==, t.nr);
    for (unsigned i = 0; i < t.nr; i++) {
        const uint8_t *e = bp + 0x2d0 + i * 20;
        g_assert_cmphex(ldq_le_p(e), ==, t.entries[i].addr);
        g_assert_cmphex(ldq_le_p(e + 8), ==, t.entries[i].size);
        g_assert_cmpuint(ldl_le_p(e + 16), ==, t.entries[i].type);
    }

    /* A reboot finds everything again although the guest overwrote it. */
    guest_fill(0x7000, 0, 4096);
    guest_fill(0x20000, 0, 64);
    guest_fill(0x100000, 0, 4096);
    guest_fill(initrd_addr, 0, 4096);
    system_run_reset_handlers();
    g_assert_cmphex(guest_ldl(0x7000 + 0x218), ==, initrd_addr);
    g_assert_cmphex(guest_ldl(0x7000 + 0x202), ==, 0x53726448);
    g_free(cmdline);
    cmdline = guest_string(0x20000);
    g_assert_cmpstr(cmdline, ==, "console=ttyS0 root=/dev/ram");
    g_assert_cmpuint(guest_ldl(0x100000), ==, ldl_le_p((uint8_t[]) {
        payload_byte(0), payload_byte(1), payload_byte(2), payload_byte(3) }));
    g_assert_cmphex(guest_ldl(initrd_addr), ==, ldl_le_p(initrd_data));
    loader_clear();
}

/* Where the initrd goes for a given header and RAM size (0 for "no initrd"). */
static uint32_t linux_initrd_addr(const FakeLinux *f, uint64_t ram, size_t initrd_len)
{
    g_autofree char *kernel = make_bzimage(f);
    g_autofree uint8_t *data = g_malloc0(initrd_len);
    g_autofree char *initrd = write_file("initrd", data, initrd_len);
    E820Table t;
    X86BootRegs r;
    uint32_t addr;

    loader_clear();
    pc_e820(&t, ram);
    g_assert_true(x86_load_kernel_files(kernel, initrd, NULL, &t, 0, &r, &error_abort));
    addr = guest_ldl(0x7000 + 0x218);
    g_assert_cmphex(addr % 4096, ==, 0);
    g_assert_cmpuint(guest_ldl(0x7000 + 0x21c), ==, initrd_len);
    loader_clear();
    return addr;
}

static void test_linux_initrd_placement(void)
{
    FakeLinux f = fake_linux();
    char *cmdline;

    /* Below initrd_addr_max (the highest byte it may occupy). */
    f.initrd_max = 64 * MiB - 1;
    g_assert_cmphex(linux_initrd_addr(&f, RAM_SIZE, 5000), ==, 64 * MiB - 8192);
    /* XLF_CAN_BE_LOADED_ABOVE_4G lifts the limit to 4 GiB: top of RAM. */
    f.version = 0x020c;
    f.xloadflags = 0x02;
    g_assert_cmphex(linux_initrd_addr(&f, RAM_SIZE, 5000), ==, RAM_SIZE - 8192);
    /* ...but only from protocol 2.12 on. */
    f.version = 0x020b;
    g_assert_cmphex(linux_initrd_addr(&f, RAM_SIZE, 5000), ==, 64 * MiB - 8192);
    /* Smaller RAM, exactly one page. */
    f = fake_linux();
    g_assert_cmphex(linux_initrd_addr(&f, 64 * MiB, 4096), ==, 64 * MiB - 4096);

    /* No initrd: zero image and size; no command line: an empty string, not NULL. */
    loader_clear();
    {
        g_autofree char *kernel = make_bzimage(&f);
        E820Table t;
        X86BootRegs r;
        pc_e820(&t, RAM_SIZE);
        guest_fill(0x20000, 'x', 16);
        g_assert_true(x86_load_kernel_files(kernel, NULL, NULL, &t, 0, &r, &error_abort));
        g_assert_cmphex(guest_ldl(0x7000 + 0x218) | guest_ldl(0x7000 + 0x21c), ==, 0);
        g_assert_cmphex(guest_ldl(0x7000 + 0x228), ==, 0x20000);
        cmdline = guest_string(0x20000);
        g_assert_cmpstr(cmdline, ==, "");
        g_free(cmdline);
        g_assert_cmphex(guest_ldq(0x7000 + 0x70), ==, 0);
    }
    loader_clear();
}

/* Load and expect an error mentioning fragment, with nothing left registered. */
static void expect_linux_error(const FakeLinux *f, uint64_t ram, const char *initrd,
                               const char *cmdline, const char *fragment)
{
    g_autofree char *kernel = make_bzimage(f);
    E820Table t;
    X86BootRegs r;
    Error *err = NULL;

    loader_clear();
    pc_e820(&t, ram);
    g_assert_false(x86_load_kernel_files(kernel, initrd, cmdline, &t, 0, &r, &err));
    assert_error(err, fragment);
    g_assert_cmpuint(loader_mark(), ==, 0);
    g_assert_cmpint(r.mode, ==, X86_BOOT_NONE);
}

static void test_linux_errors(void)
{
    FakeLinux f;
    g_autofree char *long_cmdline = g_strnfill(2048, 'a');
    g_autofree char *big = NULL;
    g_autofree char *missing = g_build_filename(tmpdir, "no-initrd", NULL);
    g_autofree uint8_t *zeros = g_malloc0(8 * MiB);

    f = fake_linux();
    f.version = 0x0205;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "2.05 is too old");
    f = fake_linux();
    f.loadflags = 0;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "zImage");
    f = fake_linux();
    f.boot_flag = 0x1234;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "0xAA55");
    f = fake_linux();
    f.truncate = 5 * 512;                       /* the setup code and nothing else */
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "truncated");
    f = fake_linux();
    f.truncate = 700;                           /* cut inside the setup header sector */
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "truncated");
    f = fake_linux();
    f.syssize_extra = 2;                        /* header claims 32 bytes more than given */
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "truncated");
    f = fake_linux();
    f.align = 3 * MiB;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "not a power of two");

    /* RAM: 16 MiB (pref_address) + 32 MiB (init_size) don't fit in 40 MiB. */
    f = fake_linux();
    expect_linux_error(&f, 40 * MiB, NULL, NULL, "RAM is too small");
    f.init_size = 0xfffff000;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "RAM is too small");
    f = fake_linux();
    f.pref = 0xfffffffffff00000ULL;
    expect_linux_error(&f, RAM_SIZE, NULL, NULL, "above 4 GiB");

    /* Command line longer than cmdline_size. */
    f = fake_linux();
    expect_linux_error(&f, RAM_SIZE, NULL, long_cmdline, "command line is too long");
    long_cmdline[2047] = 0;
    loader_clear();
    {
        g_autofree char *kernel = make_bzimage(&f);
        E820Table t;
        X86BootRegs r;
        pc_e820(&t, RAM_SIZE);
        g_assert_true(x86_load_kernel_files(kernel, NULL, long_cmdline, &t, 0, &r,
                                            &error_abort));
    }

    /* initrd: missing, a directory, or too big for the RAM above the kernel. */
    expect_linux_error(&f, RAM_SIZE, missing, NULL, "initrd: could not open");
    expect_linux_error(&f, RAM_SIZE, tmpdir, NULL, "initrd: ");
    big = write_file("big-initrd", zeros, 8 * MiB);
    expect_linux_error(&f, 52 * MiB, big, NULL, "initrd is too large");
    f.initrd_max = 50 * MiB;                   /* below the kernel's decompression area */
    expect_linux_error(&f, RAM_SIZE, big, NULL, "initrd is too large");
    loader_clear();
}

/* Kernels that are neither, and files that are not kernels at all. */
static void test_not_a_kernel(void)
{
    g_autofree uint8_t *junk = g_malloc0(16 * KiB);
    g_autofree char *junk_path = NULL;
    g_autofree char *empty = write_file("empty-kernel", "", 0);
    g_autofree char *missing = g_build_filename(tmpdir, "no-kernel", NULL);
    E820Table t;
    X86BootRegs r;
    Error *err = NULL;

    for (int i = 0; i < 16 * KiB; i++) {
        junk[i] = g_test_rand_int();
    }
    stl_le_p(junk + 0x202, 0);                  /* no accidental HdrS */
    junk_path = write_file("junk", junk, 16 * KiB);
    pc_e820(&t, RAM_SIZE);
    loader_clear();

    g_assert_false(x86_load_kernel_files(junk_path, NULL, NULL, &t, 0, &r, &err));
    assert_error(err, "is not a Linux bzImage or multiboot kernel");
    err = NULL;
    g_assert_false(x86_load_kernel_files(empty, NULL, NULL, &t, 0, &r, &err));
    assert_error(err, "kernel: ");
    err = NULL;
    g_assert_false(x86_load_kernel_files(missing, NULL, NULL, &t, 0, &r, &err));
    assert_error(err, "could not open");
    err = NULL;
    g_assert_false(x86_load_kernel_files(tmpdir, NULL, NULL, &t, 0, &r, &err));
    assert_error(err, "is a directory");
    err = NULL;

    /* A tiny file with HdrS where it belongs but nothing else. */
    memset(junk, 0, 0x300);
    stl_le_p(junk + 0x202, 0x53726448);
    g_free(junk_path);
    junk_path = write_file("tiny", junk, 0x300);
    g_assert_false(x86_load_kernel_files(junk_path, NULL, NULL, &t, 0, &r, &err));
    assert_error(err, "truncated");
    g_assert_cmpuint(loader_mark(), ==, 0);
}

/* A real kernel, if the functional tests built one (scripts/build-linux-guest.sh). */
static void test_linux_real(void)
{
    const char *candidates[] = {
        g_getenv("KITE_TEST_VMLINUZ"),
        KITE_BUILDDIR "/guest/vmlinuz",
        KITE_SRCDIR "/build/guest/vmlinuz",
    };
    const char *path = NULL;
    g_autofree uint8_t *image = NULL;
    size_t len;
    E820Table t;
    X86BootRegs r;

    for (unsigned i = 0; i < ARRAY_SIZE(candidates) && !path; i++) {
        if (candidates[i] && g_file_test(candidates[i], G_FILE_TEST_IS_REGULAR)) {
            path = candidates[i];
        }
    }
    if (!path) {
        g_test_skip("no guest kernel (set KITE_TEST_VMLINUZ or build build/guest/vmlinuz)");
        return;
    }
    g_assert_true(g_file_get_contents(path, (char **)&image, &len, NULL));
    loader_clear();
    pc_e820(&t, RAM_SIZE);
    g_assert_true(x86_load_kernel_files(path, NULL, "console=ttyS0", &t, 0, &r,
                                        &error_abort));
    g_assert_cmpint(r.mode, ==, X86_BOOT_LINUX);
    /* The zero page carries the file's protocol version; any recent kernel is 2.12+. */
    g_assert_cmphex(guest_ldl(0x7000 + 0x206) & 0xffff, ==, lduw_le_p(image + 0x206));
    g_assert_cmphex(lduw_le_p(image + 0x206), >=, 0x020c);
    g_assert_cmphex(guest_ldl(0x7000 + 0x260), ==, ldl_le_p(image + 0x260));
    if (r.efer & X86_EFER_LMA) {
        /* kernel-unpack: the vmlinux is at its link address, entered at startup_64. */
        g_assert_cmphex(r.rip, >=, 16 * MiB);
        g_assert_cmphex(r.gpr[R_ESI], ==, 0x7000);
    } else {
        g_assert_cmpuint(guest_ldl(0x100000), ==,
                         ldl_le_p(image + (image[0x1f1] + 1) * 512));
    }
    /* And the guest's own decompressor path, with kernel-unpack off. */
    loader_clear();
    x86_linux_unpack_enabled = false;
    g_assert_true(x86_load_kernel_files(path, NULL, "console=ttyS0", &t, 0, &r,
                                        &error_abort));
    x86_linux_unpack_enabled = true;
    g_assert_cmpuint(guest_ldl(0x100000), ==, ldl_le_p(image + (image[0x1f1] + 1) * 512));
    loader_clear();
}

/* --- Multiboot --- */

#define MB_MAGIC 0x1badb002

static void put_mb_header(uint8_t *p, uint32_t flags)
{
    stl_le_p(p, MB_MAGIC);
    stl_le_p(p + 4, flags);
    stl_le_p(p + 8, -(MB_MAGIC + flags));
}

/*
 * An ELF32 kernel linked at 0xc0100000 and loaded at 1 MiB (p_vaddr != p_paddr): a text
 * segment from file offset 0x1000 holding the multiboot header, and a data segment with
 * 0x100 bytes of file data and 0x2f00 of bss at 2 MiB.
 */
static uint8_t *make_elf(size_t *len, uint32_t mb_flags)
{
    uint8_t *img = g_malloc0(0x3100);
    uint8_t *ph;

    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 1;                          /* ELFCLASS32 */
    img[5] = 1;                          /* little-endian */
    img[6] = 1;
    stw_le_p(img + 16, 2);               /* ET_EXEC */
    stw_le_p(img + 18, 3);               /* EM_386 */
    stl_le_p(img + 20, 1);
    stl_le_p(img + 24, 0xc0100010);      /* e_entry, virtual */
    stl_le_p(img + 28, 52);              /* e_phoff */
    stw_le_p(img + 40, 52);
    stw_le_p(img + 42, 32);
    stw_le_p(img + 44, 3);               /* 2 PT_LOAD + a PT_NOTE-like one to skip */

    ph = img + 52;
    stl_le_p(ph, 1);
    stl_le_p(ph + 4, 0x1000);
    stl_le_p(ph + 8, 0xc0100000);
    stl_le_p(ph + 12, 0x100000);
    stl_le_p(ph + 16, 0x2000);
    stl_le_p(ph + 20, 0x2000);
    ph += 32;
    stl_le_p(ph, 1);
    stl_le_p(ph + 4, 0x3000);
    stl_le_p(ph + 8, 0xc0200000);
    stl_le_p(ph + 12, 0x200000);
    stl_le_p(ph + 16, 0x100);
    stl_le_p(ph + 20, 0x3000);
    ph += 32;
    stl_le_p(ph, 4);                     /* PT_NOTE at a silly address: ignored */
    stl_le_p(ph + 12, 0xfffff000);
    stl_le_p(ph + 20, 0x100000);

    for (int i = 0x1000; i < 0x3100; i++) {
        img[i] = i * 13;                 /* recognisable bytes */
    }
    put_mb_header(img + 0x1000, mb_flags);
    *len = 0x3100;
    return img;
}

static void test_multiboot_elf(void)
{
    size_t len;
    g_autofree uint8_t *img = make_elf(&len, 0x3);
    g_autofree char *kernel = write_file("mb.elf", img, len);
    g_autofree char *mod_a = write_file("mod_a", "AAAA", 4);
    g_autofree uint8_t *b = g_malloc(5000);
    g_autofree char *mod_b = NULL;
    g_autofree char *modlist = NULL;
    g_autofree char *expect_cmdline = NULL;
    g_autofree char *expect_mod_a = NULL;
    g_autofree char *expect_mod_b = NULL;
    E820Table t;
    X86BootRegs r;
    uint8_t mbi[88], buf[0x3000];
    uint32_t mods, mmap;

    memset(b, 'B', 5000);
    mod_b = write_file("mod_b", b, 5000);
    modlist = g_strdup_printf("%s arg1 arg2,%s x=1,,y=2", mod_a, mod_b);
    loader_clear();
    pc_e820(&t, RAM_SIZE);
    guest_fill(0x200000, 0xaa, 0x3000);          /* the bss must come out zero */
    g_assert_true(x86_load_kernel_files(kernel, modlist, "hello world", &t, 0, &r,
                                        &error_abort));
    g_assert_cmpint(r.mode, ==, X86_BOOT_MULTIBOOT);

    /* Entry (3.2): magic in EAX, info in EBX, the entry point made physical. */
    assert_flat32(&r, 0x100010);
    g_assert_cmphex(r.gpr[R_EAX], ==, 0x2badb002);
    g_assert_cmphex(r.gpr[R_EBX], ==, 0x8000);

    /* Segments at their physical addresses, bss zeroed. */
    guest_read(0x100000, buf, 0x2000);
    g_assert_cmpmem(buf, 0x2000, img + 0x1000, 0x2000);
    guest_read(0x200000, buf, 0x3000);
    for (int i = 0; i < 0x3000; i++) {
        g_assert_cmpuint(buf[i], ==, i < 0x100 ? img[0x3000 + i] : 0);
    }

    /* The info structure (3.3). */
    guest_read(0x8000, mbi, sizeof(mbi));
    g_assert_cmphex(ldl_le_p(mbi), ==, 0x24d);        /* mem, cmdline, mods, mmap, name */
    g_assert_cmpuint(ldl_le_p(mbi + 4), ==, 639);
    g_assert_cmpuint(ldl_le_p(mbi + 8), ==, (RAM_SIZE - MiB) / KiB);
    expect_cmdline = g_strdup_printf("%s hello world", kernel);
    {
        g_autofree char *s = guest_string(ldl_le_p(mbi + 16));
        g_assert_cmpstr(s, ==, expect_cmdline);
    }
    {
        g_autofree char *s = guest_string(ldl_le_p(mbi + 64));
        g_assert_cmpstr(s, ==, "kite");
    }

    /* Modules: page aligned from the first page after the kernel, with their strings. */
    g_assert_cmpuint(ldl_le_p(mbi + 20), ==, 2);
    mods = ldl_le_p(mbi + 24);
    g_assert_cmphex(guest_ldl(mods), ==, 0x203000);
    g_assert_cmphex(guest_ldl(mods + 4), ==, 0x203004);
    g_assert_cmphex(guest_ldl(mods + 16), ==, 0x204000);
    g_assert_cmphex(guest_ldl(mods + 20), ==, 0x204000 + 5000);
    g_assert_cmphex(guest_ldl(0x203000), ==, ldl_le_p("AAAA"));
    g_assert_cmphex(guest_ldl(0x204000 + 4996), ==, ldl_le_p("BBBB"));
    expect_mod_a = g_strdup_printf("%s arg1 arg2", mod_a);
    expect_mod_b = g_strdup_printf("%s x=1,y=2", mod_b);
    {
        g_autofree char *s = guest_string(guest_ldl(mods + 8));
        g_assert_cmpstr(s, ==, expect_mod_a);
    }
    {
        g_autofree char *s = guest_string(guest_ldl(mods + 24));
        g_assert_cmpstr(s, ==, expect_mod_b);
    }

    /* The memory map: the e820 table with a size field before each entry. */
    g_assert_cmpuint(ldl_le_p(mbi + 44), ==, t.nr * 24);
    mmap = ldl_le_p(mbi + 48);
    for (unsigned i = 0; i < t.nr; i++, mmap += 24) {
        g_assert_cmpuint(guest_ldl(mmap), ==, 20);
        g_assert_cmphex(guest_ldq(mmap + 4), ==, t.entries[i].addr);
        g_assert_cmphex(guest_ldq(mmap + 12), ==, t.entries[i].size);
        g_assert_cmpuint(guest_ldl(mmap + 20), ==, t.entries[i].type);
    }

    /* Rebooting rewrites the bss and the modules too. */
    guest_fill(0x200100, 0x55, 16);
    guest_fill(0x203000, 0x55, 16);
    system_run_reset_handlers();
    g_assert_cmphex(guest_ldl(0x200100), ==, 0);
    g_assert_cmphex(guest_ldl(0x203000), ==, ldl_le_p("AAAA"));
    loader_clear();
}

/* The a.out kludge: header at file offset 0x80, image from offset 0 to 2 MiB. */
static uint8_t *make_aout(size_t *len, uint32_t header_addr, uint32_t load_addr,
                          uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    uint8_t *img = g_malloc(0x1800);

    for (int i = 0; i < 0x1800; i++) {
        img[i] = i * 13;
    }
    put_mb_header(img + 0x80, 0x10003);
    stl_le_p(img + 0x80 + 12, header_addr);
    stl_le_p(img + 0x80 + 16, load_addr);
    stl_le_p(img + 0x80 + 20, load_end);
    stl_le_p(img + 0x80 + 24, bss_end);
    stl_le_p(img + 0x80 + 28, entry);
    *len = 0x1800;
    return img;
}

static void test_multiboot_aout(void)
{
    size_t len;
    g_autofree uint8_t *img = make_aout(&len, 0x200080, 0x200000, 0x201000, 0x203000,
                                        0x200100);
    g_autofree char *kernel = write_file("mb.aout", img, len);
    g_autofree uint8_t *buf = g_malloc(0x3000);
    E820Table t;
    X86BootRegs r;

    loader_clear();
    pc_e820(&t, RAM_SIZE);
    guest_fill(0x200000, 0xaa, 0x4000);
    g_assert_true(x86_load_kernel_files(kernel, NULL, NULL, &t, 0, &r, &error_abort));
    assert_flat32(&r, 0x200100);
    g_assert_cmphex(r.gpr[R_EAX], ==, 0x2badb002);

    /* load_end - load_addr bytes from the file, then bss to bss_end, nothing more. */
    guest_read(0x200000, buf, 0x3000);
    for (int i = 0; i < 0x3000; i++) {
        g_assert_cmpuint(buf[i], ==, i < 0x1000 ? img[i] : 0);
    }
    g_assert_cmphex(guest_ldl(0x203000), ==, 0xaaaaaaaa);

    /* No modules: the count is zero; the command line is "<kernel> ". */
    g_assert_cmpuint(guest_ldl(0x8000 + 20), ==, 0);
    {
        g_autofree char *s = guest_string(guest_ldl(0x8000 + 16));
        g_autofree char *expect = g_strdup_printf("%s ", kernel);
        g_assert_cmpstr(s, ==, expect);
    }
    loader_clear();

    /* load_end_addr 0: the rest of the file; bss_end 0: no bss. */
    g_free(img);
    img = make_aout(&len, 0x300080, 0x300000, 0, 0, 0x300000);
    g_free(kernel);
    kernel = write_file("mb.aout", img, len);
    guest_fill(0x300000, 0xaa, 0x2000);
    g_assert_true(x86_load_kernel_files(kernel, NULL, NULL, &t, 0, &r, &error_abort));
    guest_read(0x300000, buf, 0x2000);
    for (int i = 0; i < 0x2000; i++) {
        g_assert_cmpuint(buf[i], ==, i < 0x1800 ? img[i] : 0xaa);
    }
    loader_clear();
}

static void expect_mb_error(const void *img, size_t len, const char *modules,
                            uint64_t ram, const char *fragment)
{
    g_autofree char *kernel = write_file("mb-bad", img, len);
    E820Table t;
    X86BootRegs r;
    Error *err = NULL;

    loader_clear();
    pc_e820(&t, ram);
    g_assert_false(x86_load_kernel_files(kernel, modules, NULL, &t, 0, &r, &err));
    assert_error(err, fragment);
    g_assert_cmpuint(loader_mark(), ==, 0);
    g_assert_cmpint(r.mode, ==, X86_BOOT_NONE);
}

static void test_multiboot_errors(void)
{
    size_t len;
    uint8_t *img;
    g_autofree char *missing = g_build_filename(tmpdir, "no-module", NULL);
    g_autofree char *mod = write_file("mod", "m", 1);
    g_autofree char *list = NULL;
    uint8_t small[64] = { 0 };

    /* a.out kludge: inconsistent address fields, a file too short for load_end. */
    img = make_aout(&len, 0x200000, 0x200080, 0, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "load_addr");
    g_free(img);
    img = make_aout(&len, 0x200080 + 0x1000, 0x200000, 0, 0, 0);  /* header before file */
    expect_mb_error(img, len, NULL, RAM_SIZE, "load_addr");
    g_free(img);
    img = make_aout(&len, 0x200080, 0x200000, 0x1ff000, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "load_end_addr");
    g_free(img);
    img = make_aout(&len, 0x200080, 0x200000, 0x202000, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "truncated");
    g_free(img);
    img = make_aout(&len, 0x200080, 0x200000, 0x201000, 0x200800, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "bss_end_addr");
    g_free(img);
    /* Outside RAM, across the EBDA, over the boot information, below 4 GiB only. */
    img = make_aout(&len, 0x7000080, 0x7000000, 0, 0x9000000, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "outside guest RAM");
    g_free(img);
    img = make_aout(&len, 0x9f080, 0x9f000, 0, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "outside guest RAM");
    g_free(img);
    img = make_aout(&len, 0x8080, 0x8000, 0, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "boot information");
    g_free(img);
    img = make_aout(&len, 0xfffff080, 0xfffff000, 0, 0, 0);
    expect_mb_error(img, len, NULL, RAM_SIZE, "below 4 GiB");
    g_free(img);
    /* The header's address fields cut off by the end of the file. */
    put_mb_header(small + 40, 0x10000);
    expect_mb_error(small, sizeof(small), NULL, RAM_SIZE, "header is truncated");

    /* ELF: 64-bit, not ELF at all, wrong machine, truncated, overlapping, empty. */
    img = make_elf(&len, 0x3);
    img[4] = 2;
    expect_mb_error(img, len, NULL, RAM_SIZE, "64-bit ELF");
    img[4] = 1;
    img[0] = 0;
    expect_mb_error(img, len, NULL, RAM_SIZE, "not an ELF file");
    img[0] = 0x7f;
    stw_le_p(img + 18, 62);
    expect_mb_error(img, len, NULL, RAM_SIZE, "not a little-endian i386 ELF");
    stw_le_p(img + 18, 3);
    stw_le_p(img + 44, 0x800);
    expect_mb_error(img, len, NULL, RAM_SIZE, "program headers");
    stw_le_p(img + 44, 3);
    stl_le_p(img + 52 + 32 + 16, 0x4000);            /* filesz past the end of file */
    expect_mb_error(img, len, NULL, RAM_SIZE, "segment 1 is truncated");
    stl_le_p(img + 52 + 32 + 16, 0x100);
    stl_le_p(img + 52 + 32 + 12, 0x101000);          /* data over text */
    expect_mb_error(img, len, NULL, RAM_SIZE, "segments 0 and 1 overlap");
    stl_le_p(img + 52 + 32 + 12, 0x200000);
    stl_le_p(img + 52, 6);                           /* neither segment is PT_LOAD */
    stl_le_p(img + 52 + 32, 6);
    expect_mb_error(img, len, NULL, RAM_SIZE, "no loadable segments");
    g_free(img);

    /* Modules: missing, empty entry, too big for RAM after the kernel. */
    img = make_elf(&len, 0x3);
    list = g_strdup_printf("%s,%s", mod, missing);
    expect_mb_error(img, len, list, RAM_SIZE, "multiboot module: could not open");
    g_free(list);
    list = g_strdup_printf("%s,", mod);
    expect_mb_error(img, len, list, RAM_SIZE, "empty entry");
    expect_mb_error(img, len, mod, 2 * MiB + 0x3000, "does not fit in guest RAM");
    g_free(img);
}

/* Corrupted headers give an error or a load, never a crash (run it under ASan too). */
static void test_corrupt_headers(void)
{
    FakeLinux f = fake_linux();
    g_autofree char *bz = make_bzimage(&f);
    size_t elf_len, aout_len, bz_len;
    g_autofree uint8_t *elf = make_elf(&elf_len, 0x3);
    g_autofree uint8_t *aout = make_aout(&aout_len, 0x200080, 0x200000, 0x201000, 0x203000,
                                         0x200100);
    g_autofree uint8_t *bz_img = NULL;
    struct { uint8_t *img; size_t len, from, to; } cases[3];
    E820Table t;

    g_assert_true(g_file_get_contents(bz, (char **)&bz_img, &bz_len, NULL));
    cases[0] = (typeof(cases[0])) { bz_img, bz_len, 0x1f1, 0x268 };
    cases[1] = (typeof(cases[0])) { elf, elf_len, 0, 52 + 3 * 32 };
    cases[2] = (typeof(cases[0])) { aout, aout_len, 0x80, 0xa0 };
    pc_e820(&t, RAM_SIZE);

    for (int c = 0; c < 3; c++) {
        g_autofree uint8_t *img = g_malloc(cases[c].len);
        for (int iter = 0; iter < 300; iter++) {
            g_autofree char *path = NULL;
            X86BootRegs r;
            Error *err = NULL;
            memcpy(img, cases[c].img, cases[c].len);
            for (int k = 0, n = g_test_rand_int_range(1, 6); k < n; k++) {
                size_t off = g_test_rand_int_range(cases[c].from, cases[c].to);
                img[off] = g_test_rand_int();
            }
            if (c == 2) {
                /* Keep the checksum right so that the address fields get parsed. */
                put_mb_header(img + 0x80, (0x10000 | ldl_le_p(img + 0x84)) & ~4u);
            }
            path = write_file("corrupt", img, g_test_rand_int_range(cases[c].len / 2,
                                                                    cases[c].len + 1));
            loader_clear();
            if (!x86_load_kernel_files(path, NULL, "x", &t, 0, &r, &err)) {
                g_assert_nonnull(err);
                g_assert_cmpuint(loader_mark(), ==, 0);
                error_free(err);
            } else {
                g_assert_cmpint(r.mode, !=, X86_BOOT_NONE);
            }
        }
    }
    loader_clear();
}

/* --- entering the kernel on the interpreter --- */

static uint32_t exit_port_writes;

static uint8_t *interp_ram_page(void *opaque, uint64_t paddr, bool write)
{
    return paddr < RAM_SIZE ? ram_host + (paddr & ~(uint64_t)0xfff) : NULL;
}

static uint64_t interp_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
    return ~0ULL;
}

static void interp_mmio_write(void *opaque, uint64_t paddr, uint64_t val, unsigned size)
{
}

static uint32_t interp_pio_read(void *opaque, uint16_t port, unsigned size)
{
    return ~0u;
}

static void interp_pio_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
    exit_port_writes++;
}

static int interp_ack(void *opaque)
{
    return -1;
}

static bool interp_msr_read(void *opaque, uint32_t msr, uint64_t *val)
{
    return false;
}

static bool interp_msr_write(void *opaque, uint32_t msr, uint64_t val)
{
    return false;
}

static const X86MachineOps interp_ops = {
    .ram_page = interp_ram_page,
    .mmio_read = interp_mmio_read,
    .mmio_write = interp_mmio_write,
    .pio_read = interp_pio_read,
    .pio_write = interp_pio_write,
    .ack_interrupt = interp_ack,
    .msr_read = interp_msr_read,
    .msr_write = interp_msr_write,
};

/* Reset a CPU, apply the boot registers as the board does, run to HLT. */
static void run_kernel(const X86BootRegs *r)
{
    X86CPU *cpu = x86_cpu_new(&interp_ops, NULL, NULL);
    int64_t executed = 0;

    x86_boot_apply(r, x86_cpu_env(cpu));
    x86_cpu_sync_state(cpu);
    g_assert_cmpint(x86_cpu_exec(cpu, 1000, &executed), ==, X86_EXIT_HLT);
    g_assert_cmpint(executed, <, 20);
    x86_cpu_free(cpu);
}

/*
 * A bzImage whose protected-mode code stores ESI, boot_params.hdr.cmd_line_ptr (read
 * through ESI), DS and EFLAGS (through the stack) at 0x300000 and halts.
 */
static void test_linux_entry(void)
{
    static const uint8_t code[] = {
        0x89, 0x35, 0x00, 0x00, 0x30, 0x00,     /* mov %esi, 0x300000 */
        0x8b, 0x8e, 0x28, 0x02, 0x00, 0x00,     /* mov 0x228(%esi), %ecx */
        0x89, 0x0d, 0x04, 0x00, 0x30, 0x00,     /* mov %ecx, 0x300004 */
        0x8c, 0xd9,                             /* mov %ds, %ecx */
        0x89, 0x0d, 0x08, 0x00, 0x30, 0x00,     /* mov %ecx, 0x300008 */
        0x9c,                                   /* pushf */
        0x59,                                   /* pop %ecx */
        0x89, 0x0d, 0x0c, 0x00, 0x30, 0x00,     /* mov %ecx, 0x30000c */
        0xf4,                                   /* hlt */
    };
    FakeLinux f = fake_linux();
    g_autofree char *kernel = NULL;
    E820Table t;
    X86BootRegs r;

    f.code = code;
    f.code_len = sizeof(code);
    kernel = make_bzimage(&f);
    loader_clear();
    pc_e820(&t, RAM_SIZE);
    g_assert_true(x86_load_kernel_files(kernel, NULL, "quiet", &t, 0, &r, &error_abort));

    /* Twice: the second time after the guest trashed its memory and the machine reset. */
    for (int boot = 0; boot < 2; boot++) {
        guest_fill(0x300000, 0, 16);
        run_kernel(&r);
        g_assert_cmphex(guest_ldl(0x300000), ==, 0x7000);
        g_assert_cmphex(guest_ldl(0x300004), ==, 0x20000);
        g_assert_cmphex(guest_ldl(0x300008) & 0xffff, ==, 0x18);
        g_assert_cmphex(guest_ldl(0x30000c) & (X86_EFLAGS_IF | X86_EFLAGS_FIXED), ==,
                        X86_EFLAGS_FIXED);
        guest_fill(0x100000, 0xf4, 64);
        guest_fill(0x7000, 0, 4096);
        guest_fill(0x500, 0, 32);
        system_run_reset_handlers();
    }
    loader_clear();
}


/* gzip data + the 4-byte uncompressed size, as arch/x86/boot/compressed builds payloads. */
static uint8_t *gzip_payload(const uint8_t *data, size_t len, size_t *out_len)
{
    z_stream zs = { 0 };
    uint8_t *out = g_malloc(len + 1024);

    g_assert_cmpint(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                    ==, Z_OK);
    zs.next_in = (Bytef *)data;
    zs.avail_in = len;
    zs.next_out = out;
    zs.avail_out = len + 1024 - 4;
    g_assert_cmpint(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
    stl_le_p(out + zs.total_out, len);
    *out_len = zs.total_out + 4;
    deflateEnd(&zs);
    return out;
}

/*
 * kernel-unpack: a bzImage whose payload is a gzip'ed x86-64 ELF is decompressed on the
 * host, its PT_LOAD segment (with bss) placed at its physical address, and entered in 64-bit
 * mode with RSI = boot_params.  The code stores RSI, CS and a bss qword, then halts.
 */
static void test_linux_unpack(void)
{
    static const uint8_t code[] = {
        0x48, 0x89, 0x34, 0x25, 0x00, 0x00, 0x30, 0x00,   /* mov %rsi, 0x300000 */
        0x8c, 0xc8,                                       /* mov %cs, %eax */
        0x89, 0x04, 0x25, 0x08, 0x00, 0x30, 0x00,         /* mov %eax, 0x300008 */
        0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x01,   /* mov 0x1002000, %rax (bss) */
        0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x30, 0x00,   /* mov %rax, 0x300010 */
        0xf4,                                             /* hlt */
    };
    const uint64_t load = 16 * MiB, filesz = 0x2000, memsz = 0x3000;
    size_t elf_len = 0x1000 + filesz, gz_len;
    g_autofree uint8_t *elf = g_malloc0(elf_len);
    g_autofree uint8_t *gz = NULL;
    g_autofree uint8_t *img = NULL;
    g_autofree char *kernel = NULL;
    FakeLinux f = fake_linux();
    size_t setup = (f.setup_sects + 1) * 512;
    E820Table t;
    X86BootRegs r;

    /* ELF64 header + one PT_LOAD (offset 0x1000, paddr 16 MiB, bss beyond filesz). */
    stl_le_p(elf, 0x464c457f);
    elf[4] = 2;
    elf[5] = 1;
    elf[6] = 1;
    stw_le_p(elf + 16, 2);
    stw_le_p(elf + 18, 62);
    stq_le_p(elf + 24, load);                 /* e_entry: phys_startup_64 */
    stq_le_p(elf + 32, 64);                   /* e_phoff */
    stw_le_p(elf + 52, 64);
    stw_le_p(elf + 54, 56);
    stw_le_p(elf + 56, 1);
    stl_le_p(elf + 64, 1);                    /* PT_LOAD */
    stq_le_p(elf + 64 + 8, 0x1000);
    stq_le_p(elf + 64 + 16, 0xffffffff81000000ULL);
    stq_le_p(elf + 64 + 24, load);
    stq_le_p(elf + 64 + 32, filesz);
    stq_le_p(elf + 64 + 40, memsz);
    memcpy(elf + 0x1000, code, sizeof(code));
    gz = gzip_payload(elf, elf_len, &gz_len);

    /* The payload sits at the start of the protected-mode part (payload_offset 0). */
    f.payload = gz_len;
    kernel = make_bzimage(&f);
    g_free(kernel);
    img = g_malloc0(setup + gz_len);
    {
        g_autofree char *tmp = make_bzimage(&f);
        gsize l;
        g_autofree gchar *data = NULL;
        g_assert_true(g_file_get_contents(tmp, &data, &l, NULL));
        memcpy(img, data, setup);
    }
    memcpy(img + setup, gz, gz_len);
    stl_le_p(img + 0x248, 0);
    stl_le_p(img + 0x24c, gz_len);
    kernel = write_file("bzImage-gz", img, setup + gz_len);

    loader_clear();
    pc_e820(&t, RAM_SIZE);
    guest_fill(load + 0x2000, 0xee, 8);       /* bss must come back zeroed */
    g_assert_true(x86_load_kernel_files(kernel, NULL, "quiet", &t, 0, &r, &error_abort));
    g_assert_cmphex(r.rip, ==, load);
    g_assert_cmphex(r.efer & (X86_EFER_LME | X86_EFER_LMA), ==, X86_EFER_LME | X86_EFER_LMA);
    g_assert_cmphex(r.segs[R_CS].selector, ==, 0x10);
    g_assert_true(r.segs[R_CS].attr & X86_SEG_L);
    for (int boot = 0; boot < 2; boot++) {
        guest_fill(0x300000, 0x55, 24);
        run_kernel(&r);
        g_assert_cmphex(guest_ldq(0x300000), ==, 0x7000);
        g_assert_cmphex(guest_ldl(0x300008) & 0xffff, ==, 0x10);
        g_assert_cmphex(guest_ldq(0x300010), ==, 0);
        /* The guest trashes its kernel; a reset brings it back. */
        guest_fill(load, 0, 64);
        guest_fill(load + 0x2000, 0xee, 8);
        system_run_reset_handlers();
    }

    /* With kernel-unpack off the same image takes the 32-bit path. */
    loader_clear();
    x86_linux_unpack_enabled = false;
    g_assert_true(x86_load_kernel_files(kernel, NULL, "quiet", &t, 0, &r, &error_abort));
    assert_flat32(&r, 0x100000);
    x86_linux_unpack_enabled = true;
    loader_clear();
}

/*
 * An a.out-kludge multiboot kernel that stores EAX, EBX and the info flags (read
 * through EBX), reloads CS and DS from the boot GDT, stores CS and halts.
 */
static void test_multiboot_entry(void)
{
    static const uint8_t code[] = {
        0xa3, 0x00, 0x00, 0x30, 0x00,             /* mov %eax, 0x300000 */
        0x89, 0x1d, 0x04, 0x00, 0x30, 0x00,       /* mov %ebx, 0x300004 */
        0x8b, 0x0b,                               /* mov (%ebx), %ecx */
        0x89, 0x0d, 0x08, 0x00, 0x30, 0x00,       /* mov %ecx, 0x300008 */
        0xea, 0x1a, 0x01, 0x20, 0x00, 0x10, 0x00, /* ljmp $0x10, $0x20011a */
        0x66, 0xb8, 0x18, 0x00,                   /* mov $0x18, %ax */
        0x8e, 0xd8,                               /* mov %ax, %ds */
        0x8c, 0xc9,                               /* mov %cs, %ecx */
        0x89, 0x0d, 0x0c, 0x00, 0x30, 0x00,       /* mov %ecx, 0x30000c */
        0xf4,                                     /* hlt */
    };
    size_t len;
    g_autofree uint8_t *img = make_aout(&len, 0x200080, 0x200000, 0x201000, 0x203000,
                                        0x200100);
    g_autofree char *kernel = NULL;
    E820Table t;
    X86BootRegs r;

    memcpy(img + 0x100, code, sizeof(code));
    kernel = write_file("mb-entry", img, len);
    loader_clear();
    pc_e820(&t, RAM_SIZE);
    g_assert_true(x86_load_kernel_files(kernel, NULL, NULL, &t, 0, &r, &error_abort));
    guest_fill(0x300000, 0, 16);
    run_kernel(&r);
    g_assert_cmphex(guest_ldl(0x300000), ==, 0x2badb002);
    g_assert_cmphex(guest_ldl(0x300004), ==, 0x8000);
    g_assert_cmphex(guest_ldl(0x300008), ==, 0x24d);
    g_assert_cmphex(guest_ldl(0x30000c) & 0xffff, ==, 0x10);
    loader_clear();
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
    g_test_add_func("/x86-boot/linux/boot", test_linux_boot);
    g_test_add_func("/x86-boot/linux/initrd-placement", test_linux_initrd_placement);
    g_test_add_func("/x86-boot/linux/errors", test_linux_errors);
    g_test_add_func("/x86-boot/linux/real-kernel", test_linux_real);
    g_test_add_func("/x86-boot/not-a-kernel", test_not_a_kernel);
    g_test_add_func("/x86-boot/multiboot/elf", test_multiboot_elf);
    g_test_add_func("/x86-boot/multiboot/aout-kludge", test_multiboot_aout);
    g_test_add_func("/x86-boot/multiboot/errors", test_multiboot_errors);
    g_test_add_func("/x86-boot/corrupt-headers", test_corrupt_headers);
    g_test_add_func("/x86-boot/linux/entry", test_linux_entry);
    g_test_add_func("/x86-boot/linux/unpack", test_linux_unpack);
    g_test_add_func("/x86-boot/multiboot/entry", test_multiboot_entry);
    ret = g_test_run();
    loader_clear();
    remove_tmpdir();
    return ret;
}
