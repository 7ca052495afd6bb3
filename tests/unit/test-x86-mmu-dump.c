/*
 * "info mem" / "info tlb" page-table walks over guest RAM built by the test: 32-bit paging
 * with 4 KiB and PSE 4 MiB pages, PAE, and 4-level paging with the canonical upper half.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/memory.h"
#include "target/i386/monitor.h"

#define P 1ULL
#define RW 2ULL
#define US 4ULL
#define PS 0x80ULL
#define G 0x100ULL
#define NX (1ULL << 63)

static MemoryRegion ram;
static uint8_t *mem;

static void w32(uint64_t pa, uint32_t v)
{
    memcpy(mem + pa, &v, 4);
}

static void w64(uint64_t pa, uint64_t v)
{
    memcpy(mem + pa, &v, 8);
}

static char *dump(const CPUX86State *env, bool tlb)
{
    GString *s = g_string_new(NULL);

    x86_dump_mmu_env(env, s, tlb);
    return g_string_free(s, false);
}

static void test_no_paging(void)
{
    CPUX86State env = { 0 };
    g_autofree char *m = dump(&env, false);

    g_assert_cmpstr(m, ==, "PG disabled\n");
}

static void test_paging32(void)
{
    CPUX86State env = { 0 };

    memset(mem, 0, 4 * MiB);
    env.cr[0] = X86_CR0_PG | 1;
    env.cr[3] = 0x10000;
    env.cr[4] = X86_CR4_PSE;
    /* PDE 0 -> page table at 0x11000: pages 0 (user rw), 1 (user ro), 3 (supervisor rw). */
    w32(0x10000, 0x11000 | P | RW | US);
    w32(0x11000 + 0 * 4, 0x20000 | P | RW | US);
    w32(0x11000 + 1 * 4, 0x21000 | P | US);
    w32(0x11000 + 3 * 4, 0x23000 | P | RW);
    /* PDE 2: a 4 MiB page with PSE-36 bits (physical 0x1_0080_0000 -> bit 32 in PDE bit 13). */
    w32(0x10000 + 2 * 4, 0x00800000 | (1u << 13) | P | RW | PS);
    /* A PDE whose table denies user access: its user PTE stays supervisor-only. */
    w32(0x10000 + 3 * 4, 0x12000 | P | RW);
    w32(0x12000, 0x30000 | P | RW | US);

    g_autofree char *m = dump(&env, false);
    g_assert_cmpstr(m, ==,
        "0000000000000000-0000000000001000 0000000000001000 urw\n"
        "0000000000001000-0000000000002000 0000000000001000 ur-\n"
        "0000000000003000-0000000000004000 0000000000001000 -rw\n"
        "0000000000800000-0000000000c01000 0000000000401000 -rw\n");   /* same rights: one run */
    g_autofree char *t = dump(&env, true);
    g_assert_nonnull(strstr(t, "0000000000800000: 0000000100800000 --P-----W\n"));
    g_assert_nonnull(strstr(t, "0000000000001000: 0000000000021000 -------U-\n"));
    /* Without CR4.PSE the PS bit is ignored: PDE 2 points at a page table. */
    env.cr[4] = 0;
    g_autofree char *n = dump(&env, false);
    g_assert_null(strstr(n, "0000000000800000-"));
}

static void test_pae(void)
{
    CPUX86State env = { 0 };

    memset(mem, 0, 4 * MiB);
    env.cr[0] = X86_CR0_PG | 1;
    env.cr[3] = 0x10020;         /* 32-byte aligned PDPT */
    env.cr[4] = X86_CR4_PAE;
    w64(0x10020 + 3 * 8, 0x11000 | P);          /* the 3-4 GiB quarter */
    w64(0x11000 + 511 * 8, 0x200000 | P | RW | US | PS | G);
    w64(0x11000 + 0 * 8, 0x12000 | P | RW);
    w64(0x12000 + 5 * 8, 0x5000 | P | RW | US | NX);

    g_autofree char *m = dump(&env, false);
    g_assert_cmpstr(m, ==,
        "00000000c0005000-00000000c0006000 0000000000001000 -rw\n"
        "00000000ffe00000-0000000100000000 0000000000200000 urw\n");
    g_autofree char *t = dump(&env, true);
    g_assert_cmpstr(t, ==,
        "00000000c0005000: 0000000000005000 X------UW\n"   /* the leaf's own bits */
        "00000000ffe00000: 0000000000200000 -GP----UW\n");
}

static void test_long(void)
{
    CPUX86State env = { 0 };

    memset(mem, 0, 4 * MiB);
    env.cr[0] = X86_CR0_PG | 1;
    env.cr[3] = 0x10000;
    env.cr[4] = X86_CR4_PAE;
    env.efer = X86_EFER_LMA;
    /* Low half: 1 GiB page at 0 and two 2 MiB pages right after it (one run). */
    w64(0x10000, 0x11000 | P | RW | US);
    w64(0x11000, 0 | P | RW | US | PS);
    w64(0x11000 + 8, 0x12000 | P | RW | US);
    w64(0x12000, 0x200000 | P | RW | US | PS);
    w64(0x12000 + 8, 0x400000 | P | RW | US | PS);
    /* Upper half: PML4 entry 511, PDPT entry 510 -> 0xffffffff80000000, a 4 KiB page. */
    w64(0x10000 + 511 * 8, 0x13000 | P | RW);
    w64(0x13000 + 510 * 8, 0x14000 | P | RW);
    w64(0x14000, 0x15000 | P | RW);
    w64(0x15000, 0x100000 | P | RW | PS);     /* bit 7 of a PTE is PAT, not a page size */
    /* A self-referencing entry must not loop: PML4 entry 1 points at the PML4. */
    w64(0x10000 + 8, 0x10000 | P | RW);

    g_autofree char *m = dump(&env, false);
    g_assert_true(g_str_has_prefix(m,
        "0000000000000000-0000000040400000 0000000040400000 urw\n"));
    g_assert_true(g_str_has_suffix(m,
        "ffffffff80000000-ffffffff80001000 0000000000001000 -rw\n"));
    g_autofree char *t = dump(&env, true);
    g_assert_true(g_str_has_prefix(t, "0000000000000000: 0000000000000000 --P----UW\n"
                                      "0000000040000000: 0000000000200000 --P----UW\n"));
    g_assert_nonnull(strstr(t, "ffffffff80000000: 0000000000100000 --------W\n"));
}

/* Every entry of every level pointing at one table: the walk is bounded and says so. */
static void test_hostile(void)
{
    CPUX86State env = { 0 };

    memset(mem, 0, 4 * MiB);
    env.cr[0] = X86_CR0_PG | 1;
    env.cr[3] = 0x10000;
    env.cr[4] = X86_CR4_PAE;
    env.efer = X86_EFER_LMA;
    for (int i = 0; i < 512; i++) {
        w64(0x10000 + i * 8, 0x10000 | P | RW | US);
    }
    g_autofree char *m = dump(&env, false);
    g_assert_true(g_str_has_suffix(m, "(walk stopped: too many page-table entries)\n"));
    g_autofree char *t = dump(&env, true);
    g_assert_true(g_str_has_suffix(t, "(walk stopped: too many page-table entries)\n"));
    g_assert_cmpuint(strlen(t), <, 64 * MiB);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_init();
    g_assert_true(memory_region_init_ram(&ram, NULL, "ram", 4 * MiB, NULL));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    mem = memory_region_get_ram_ptr(&ram);
    g_test_add_func("/x86-mmu-dump/no-paging", test_no_paging);
    g_test_add_func("/x86-mmu-dump/32-bit", test_paging32);
    g_test_add_func("/x86-mmu-dump/pae", test_pae);
    g_test_add_func("/x86-mmu-dump/long", test_long);
    g_test_add_func("/x86-mmu-dump/hostile", test_hostile);
    return g_test_run();
}
