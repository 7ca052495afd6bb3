/*
 * The monitor's x/i disassembler on plain buffers: each expected listing is what QEMU 7.2's
 * monitor printed for the same bytes at the same address (Debian qemu-system-x86_64 with
 * the guest test kernels long64.elf, kbd.elf and SeaBIOS's reset vector).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "monitor/disas.h"

/* Guest memory that exists only in [base, base + len). */
typedef struct Mem {
    uint64_t base;
    const uint8_t *bytes;
    size_t len;
    int reads;
} Mem;

static bool mem_read(void *opaque, uint64_t addr, uint8_t *buf, size_t len)
{
    Mem *m = opaque;

    m->reads++;
    if (addr < m->base || addr - m->base > m->len || len > m->len - (addr - m->base)) {
        return false;
    }
    memcpy(buf, m->bytes + (addr - m->base), len);
    return true;
}

static char *listing(int mode, uint64_t base, const uint8_t *bytes, size_t len, uint64_t pc,
                     int count)
{
    Mem m = { base, bytes, len, 0 };
    GString *out = g_string_new(NULL);

    g_assert_true(disas_x86_monitor(out, mode, pc, count, mem_read, &m));
    g_assert_cmpint(m.reads, >=, 1);
    return g_string_free(out, false);
}

static void test_long_mode(void)
{
    /* long64.elf's idle loop; the 11-byte nopw continues on a second line. */
    static const uint8_t code[64] = {   /* the rest of the page follows */
        0xeb, 0xfc, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x90, 0x8b, 0x05, 0xb2, 0x44, 0x03, 0x00, 0xc3, 0xcc, 0xcc, 0xcc,
    };
    g_autofree char *s = listing(64, 0x101b42, code, sizeof(code), 0x101b42, 5);

    g_assert_cmpstr(s, ==,
        "0x00101b42:  eb fc                    jmp      0x101b40\n"
        "0x00101b44:  66 66 2e 0f 1f 84 00 00  nopw     %cs:(%rax, %rax)\n"
        "0x00101b4c:  00 00 00\n"
        "0x00101b4f:  90                       nop      \n"
        "0x00101b50:  8b 05 b2 44 03 00        movl     0x344b2(%rip), %eax\n"
        "0x00101b56:  c3                       retq     \n");
}

static void test_protected_mode(void)
{
    static const uint8_t code[64] = {
        0xeb, 0xfc, 0x8d, 0x74, 0x26, 0x00, 0xa1, 0x08, 0x7e, 0x12, 0x00, 0xc3, 0x90,
    };
    g_autofree char *s = listing(32, 0x1016ea, code, sizeof(code), 0x1016ea, 4);

    g_assert_cmpstr(s, ==,
        "0x001016ea:  eb fc                    jmp      0x1016e8\n"
        "0x001016ec:  8d 74 26 00              leal     (%esi), %esi\n"
        "0x001016f0:  a1 08 7e 12 00           movl     0x127e08, %eax\n"
        "0x001016f5:  c3                       retl     \n");
}

static void test_real_mode_and_end_of_memory(void)
{
    /* The reset vector at the top of the 4 GiB space: nothing readable above it. */
    static const uint8_t reset[] = {
        0xea, 0x5b, 0xe0, 0x00, 0xf0, 0x30, 0x36, 0x2f, 0x32, 0x33, 0x2f, 0x39, 0x39,
        0x00, 0xfc, 0x00,
    };
    g_autofree char *top = listing(16, 0xfffffff0, reset, sizeof(reset), 0xfffffff0, 3);
    uint8_t ram[64] = { 0 };
    g_autofree char *low = NULL;

    memcpy(ram, reset, sizeof(reset));
    low = listing(16, 0xffff0, ram, sizeof(ram), 0xffff0, 2);

    /* The refill for the second insn reaches past the end, so QEMU stops there. */
    g_assert_cmpstr(top, ==,
        "0xfffffff0:  ea 5b e0 00 f0           ljmpw    $0xf000:$0xe05b\n"
        "0xfffffff5: unable to read memory\n");
    /* The same bytes a page below (the BIOS's low alias) with memory after them. */
    g_assert_cmpstr(low, ==,
        "0x000ffff0:  ea 5b e0 00 f0           ljmpw    $0xf000:$0xe05b\n"
        "0x000ffff5:  30 36 2f 32              xorb     %dh, 0x322f\n");
}

static void test_unreadable(void)
{
    static const uint8_t zeros[4] = { 0 };
    static const uint8_t ea[16] = { 0xea };
    g_autofree char *none = listing(64, 0x1000, zeros, sizeof(zeros), 0x140000000ull, 2);
    g_autofree char *partial = listing(64, 0x3fffffc, zeros, sizeof(zeros), 0x3fffffc, 3);
    g_autofree char *skip = listing(64, 0xfffffff0, ea, sizeof(ea), 0xfffffff0, 2);

    g_assert_cmpstr(none, ==, "0x140000000: unable to read memory\n");
    /* QEMU reads only up to the 1 KiB boundary first, then fails refilling for insn 2. */
    g_assert_cmpstr(partial, ==,
        "0x03fffffc:  00 00                    addb     %al, (%rax)\n"
        "0x03fffffe: unable to read memory\n");
    /* A far jmp does not exist in 64-bit mode: shown as data, as QEMU does. */
    g_assert_cmpstr(skip, ==,
        "0xfffffff0:  ea                       .byte    0xea\n"
        "0xfffffff1: unable to read memory\n");
}

static void test_count(void)
{
    static const uint8_t nops[64] = { [0 ... 63] = 0x90 };
    g_autofree char *zero = listing(32, 0x2000, nops, sizeof(nops), 0x2000, 0);
    g_autofree char *many = listing(32, 0x2000, nops, sizeof(nops), 0x2000, 40);

    /* x/0i prints one instruction in QEMU; a listing never reads outside the buffer. */
    g_assert_cmpstr(zero, ==, "0x00002000:  90                       nop      \n");
    /* QEMU keeps a 32-byte window full: it fails 31 bytes before the end of memory. */
    g_assert_true(g_str_has_suffix(many, "0x00002020:  90                       nop      \n"
                                         "0x00002021: unable to read memory\n"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!disas_available()) {
        GString *out = g_string_new(NULL);
        Mem m = { 0, NULL, 0, 0 };
        /* Without capstone the helper says so and prints nothing. */
        g_assert_false(disas_x86_monitor(out, 64, 0, 1, mem_read, &m));
        g_assert_cmpuint(out->len, ==, 0);
        g_string_free(out, true);
        return 0;
    }
    g_test_add_func("/disas/long-mode", test_long_mode);
    g_test_add_func("/disas/protected-mode", test_protected_mode);
    g_test_add_func("/disas/real-mode", test_real_mode_and_end_of_memory);
    g_test_add_func("/disas/unreadable", test_unreadable);
    g_test_add_func("/disas/count", test_count);
    return g_test_run();
}
