/*
 * ioport: port I/O and MMIO dispatch.
 *
 * Checked: reads of an unassigned port give all ones at every width (an ISA
 * bus with nothing driving it; QEMU's unassigned_io_ops) and writes to it go
 * nowhere; REP INS/OUTS move one element per iteration through the same
 * dispatch (SDM vol. 2A "INS", vol. 2B "OUTS"); 16- and 32-bit accesses to
 * a byte-wide device are split into byte accesses at consecutive ports (here
 * the 16550's MSR and scratch register, 0x3fe-0x3ff, and 0x3fc-0x3ff);
 * the isa-debugcon port 0xe9 reads back 0xe9 when present ("debugcon=1" on
 * the command line) and all ones when absent.
 *
 * MMIO: unassigned addresses (0xfebff000 in the PCI hole, and the first
 * byte past RAM, from "mem=<MiB>") read the same at every width and ignore
 * writes.  QEMU returns zeros there (unassigned_mem_read) where a real PC's
 * master abort returns ones; either is accepted, consistently.  The BIOS ROM
 * at 0xfffffff0 ignores writes and, when there is a BIOS, shows at 0xffff0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define PORT_UNUSED   0x110     /* nothing on the PC decodes 0x100-0x16f */
#define PORT_COM2     0x2f8     /* no second UART with -nodefaults */
#define PORT_DEBUGCON 0xe9
#define MMIO_HOLE     0xfebff000u

static void test_unassigned_ports(void)
{
    CHECK_EQ(inb(PORT_UNUSED), 0xff, "inb from unassigned port 0x110");
    CHECK_EQ(inw(PORT_UNUSED), 0xffff, "inw from unassigned port 0x110");
    CHECK_EQ(inl(PORT_UNUSED), 0xffffffff, "inl from unassigned port 0x110");
    outb(PORT_UNUSED, 0x12);
    outw(PORT_UNUSED, 0x1234);
    outl(PORT_UNUSED, 0x12345678);
    CHECK_EQ(inl(PORT_UNUSED), 0xffffffff, "inl from port 0x110 after writes to it");
    CHECK_EQ(inb(PORT_COM2), 0xff, "inb from 0x2f8 (no COM2)");

    uint8_t b[16];
    uint16_t w[8];
    uint32_t l[4];
    memset(b, 0, sizeof(b));
    memset(w, 0, sizeof(w));
    memset(l, 0, sizeof(l));
    void *p = b;
    uintptr_t n = sizeof(b);
    asm volatile("rep insb" : "+D"(p), "+c"(n) : "d"(PORT_UNUSED) : "memory");
    bool ok = n == 0 && p == b + sizeof(b);
    for (unsigned i = 0; i < sizeof(b); i++) {
        ok &= b[i] == 0xff;
    }
    CHECK(ok, "rep insb: 16 bytes of 0xff, RCX 0, RDI advanced");
    p = w;
    n = ARRAY_SIZE(w);
    asm volatile("rep insw" : "+D"(p), "+c"(n) : "d"(PORT_UNUSED) : "memory");
    ok = n == 0 && p == w + ARRAY_SIZE(w);
    for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
        ok &= w[i] == 0xffff;
    }
    CHECK(ok, "rep insw: 8 words of 0xffff");
    p = l;
    n = ARRAY_SIZE(l);
    asm volatile("rep insl" : "+D"(p), "+c"(n) : "d"(PORT_UNUSED) : "memory");
    ok = n == 0 && p == l + ARRAY_SIZE(l);
    for (unsigned i = 0; i < ARRAY_SIZE(l); i++) {
        ok &= l[i] == 0xffffffff;
    }
    CHECK(ok, "rep insl: 4 dwords of 0xffffffff");
}

static void test_string_out(void)
{
    static const char line[] = "rep outsb reached the UART\n";
    const void *p = line;
    uintptr_t n = sizeof(line) - 1;
    /* The UART's THR accepts a byte whenever THRE is set; QEMU's and
     * Kite's transmit synchronously, so no polling is needed between bytes. */
    asm volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(COM1_BASE) : "memory");
    CHECK(n == 0 && p == line + sizeof(line) - 1, "rep outsb consumed the string");
}

static void test_split_access(void)
{
    outb(COM1_BASE + 7, 0x00);
    outw(COM1_BASE + 6, 0xa55a);        /* MSR (read-only) and SCR */
    uint8_t scr = inb(COM1_BASE + 7);
    uint16_t w = inw(COM1_BASE + 6);
    uint32_t l = inl(COM1_BASE + 4);    /* MCR, LSR, MSR, SCR */
    CHECK_EQ(scr, 0xa5, "outw to 0x3fe put its high byte in the scratch register");
    CHECK_EQ(w >> 8, 0xa5, "inw from 0x3fe: high byte from the scratch register");
    CHECK_EQ(l >> 24, 0xa5, "inl from 0x3fc: byte 3 from the scratch register");
    CHECK_EQ((l >> 8) & 0x60, 0x60, "inl from 0x3fc: byte 1 is LSR with THRE|TEMT");
    CHECK_EQ(l & 0xff, inb(COM1_BASE + 4), "inl from 0x3fc: byte 0 is MCR");
}

static void test_debugcon(void)
{
    uint8_t v = inb(PORT_DEBUGCON);
    if (cmdline_get_uint("debugcon", 0)) {
        CHECK_EQ(v, 0xe9, "isa-debugcon port 0xe9 reads back 0xe9");
        outb(PORT_DEBUGCON, 'k');       /* goes to the debugcon chardev */
    } else {
        CHECK_EQ(v, 0xff, "port 0xe9 without isa-debugcon reads as unassigned");
    }
}

/* An unassigned MMIO range reads the same value at every width, all zeros
 * or all ones, before and after writes. */
static void check_unassigned_mmio(uintptr_t a, const char *what)
{
    uint8_t b = mmio_read8(a);
    uint16_t w = mmio_read16(a);
    uint32_t l = mmio_read32(a);
    mmio_write32(a, 0x5a5aa5a5);
    mmio_write8(a + 1, 0x11);
    uint32_t after = mmio_read32(a);
    bool zeros = b == 0 && w == 0 && l == 0;
    bool ones = b == 0xff && w == 0xffff && l == 0xffffffff;
    CHECK(zeros || ones, "%s 0x%lx reads all %s at 8/16/32 bits (0x%x 0x%x 0x%x)",
          what, (unsigned long)a, ones ? "ones" : "zeros", b, w, l);
    CHECK_EQ(after, l, "read after writing to unassigned MMIO");
}

static void test_mmio(void)
{
    check_unassigned_mmio(MMIO_HOLE, "PCI hole");

    uint64_t mib = cmdline_get_uint("mem", 0);
    if (mib >= 2 && mib < 3072) {
        uintptr_t end = (uintptr_t)mib << 20;
        /* Firmware keeps its ACPI tables up there: put the word back. */
        uint32_t saved = mmio_read32(end - 4);
        mmio_write32(end - 4, 0x600dcafe);
        uint32_t got = mmio_read32(end - 4);
        mmio_write32(end - 4, saved);
        CHECK_EQ(got, 0x600dcafe, "last dword of RAM is writable");
        check_unassigned_mmio(end, "first byte past RAM");
    } else {
        test_skip("pass mem=<MiB> to check the end of RAM");
    }

    /* With firmware (QEMU always; Kite when it boots through the BIOS) the
     * ROM's reset vector is at 0xfffffff0 and the BIOS's top 64 KiB show at
     * 0xf0000.  Kite's direct -kernel boot maps no ROM there. */
    uint32_t rom = mmio_read32(0xfffffff0);
    mmio_write32(0xfffffff0, ~rom);
    CHECK_EQ(mmio_read32(0xfffffff0), rom, "0xfffffff0 (BIOS ROM or unassigned) ignores writes");
    if ((rom & 0xff) != 0xea) {
        test_skip("no BIOS reset vector at 0xfffffff0 (0x%x): direct kernel boot", rom);
        return;
    }
    /* Whether 0xf0000-0xfffff is then write-protected is the firmware's
     * choice (PAM registers), not checked. */
    CHECK_EQ(mmio_read32(0xffff0), rom, "0xffff0 shows the same reset vector as 0xfffffff0");
}

void test_main(void)
{
    test_unassigned_ports();
    test_string_out();
    test_split_access();
    test_debugcon();
    test_mmio();
}
