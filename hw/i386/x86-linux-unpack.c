/*
 * Host-side decompression of a Linux bzImage ("kernel-unpack").
 *
 * A bzImage's protected-mode part is a decompressor plus the compressed vmlinux (the
 * payload, boot protocol 2.08+: payload_offset/payload_length).  Run by the guest, the
 * decompressor costs billions of instructions: most of an interpreted boot, and hours on a
 * host whose KVM emulates guest ring 0.  When the payload is gzip or xz and holds an x86-64
 * ELF vmlinux, Kite decompresses it on the host, loads its PT_LOAD segments at their
 * physical addresses (the address it was linked for, so no relocation is needed), and
 * enters startup_64 as a 64-bit boot loader (kexec's ELF path) would: long mode, the low
 * 4 GiB identity-mapped, a GDT with flat __BOOT_CS (0x10, 64-bit) and __BOOT_DS (0x18),
 * interrupts off, RSI = boot_params (Documentation/arch/x86/boot.rst, "64-bit Boot
 * Protocol").  What the guest's decompressor would have added (KASLR) is skipped: Linux
 * then reports KASLR disabled.  Anything unusual falls back to the regular 32-bit entry.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/x86-boot.h"
#include "hw/loader.h"
#include "kite/log.h"
#include <zlib.h>
#ifdef CONFIG_LZMA
#include <lzma.h>
#endif

bool x86_linux_unpack_enabled = true;

/* Guest-physical layout of the 64-bit entry's own structures (below the zero page's
 * neighbours: GDT32 0x500, zero page 0x7000, multiboot info 0x8000, cmdline 0x20000). */
#define UNPACK_GDT_ADDR   0x600
#define UNPACK_PT_ADDR    0x9000          /* PML4, PDPT, 4 page directories */
#define UNPACK_PT_SIZE    (6 * 4096)
#define MAX_VMLINUX       (512 * MiB)

#define ELF_MAGIC 0x464c457fu
#define PT_LOAD 1

static bool gunzip(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    z_stream zs = { 0 };
    int r;

    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return false;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = len;
    zs.next_out = out;
    zs.avail_out = out_len;
    r = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    return r == Z_STREAM_END && zs.total_out == out_len;
}

static bool unxz(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
#ifdef CONFIG_LZMA
    uint64_t memlimit = 256 * MiB;
    size_t in_pos = 0, out_pos = 0;

    /* The kernel appends its 4-byte size after the xz stream: give only the stream. */
    return lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, len - 4, out, &out_pos,
                                     out_len) == LZMA_OK && out_pos == out_len;
#else
    return false;
#endif
}

/* Decompress the payload; NULL (no error) if its format is not one Kite can read. */
static uint8_t *decompress(const uint8_t *payload, size_t len, size_t *out_len)
{
    static const uint8_t gz[] = { 0x1f, 0x8b }, xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
    uint8_t *out;
    size_t size;
    bool ok;

    if (len < 16) {
        return NULL;
    }
    /* arch/x86/boot/compressed/Makefile appends the uncompressed size (size_append). */
    size = ldl_le_p(payload + len - 4);
    if (size < 4096 || size > MAX_VMLINUX) {
        return NULL;
    }
    out = g_try_malloc(size);
    if (!out) {
        return NULL;
    }
    if (!memcmp(payload, gz, sizeof(gz))) {
        ok = gunzip(payload, len, out, size);
    } else if (!memcmp(payload, xz, sizeof(xz))) {
        ok = unxz(payload, len, out, size);
    } else {
        ok = false;
    }
    if (!ok) {
        g_free(out);
        return NULL;
    }
    *out_len = size;
    return out;
}

typedef struct Elf64Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} Elf64Phdr;

static bool phdr_at(const uint8_t *elf, size_t len, uint64_t phoff, unsigned i,
                    Elf64Phdr *ph)
{
    uint64_t off = phoff + (uint64_t)i * 56;

    if (off + 56 > len) {
        return false;
    }
    ph->type = ldl_le_p(elf + off);
    ph->flags = ldl_le_p(elf + off + 4);
    ph->offset = ldq_le_p(elf + off + 8);
    ph->vaddr = ldq_le_p(elf + off + 16);
    ph->paddr = ldq_le_p(elf + off + 24);
    ph->filesz = ldq_le_p(elf + off + 32);
    ph->memsz = ldq_le_p(elf + off + 40);
    return true;
}

/* Check the ELF; fills the physical span.  Every offset is checked against len. */
static bool vmlinux_valid(const uint8_t *elf, size_t len, const E820Table *e820,
                          uint64_t *entry, uint64_t *lo, uint64_t *hi)
{
    uint64_t phoff;
    unsigned phnum;
    bool entry_ok = false;

    if (len < 64 || ldl_le_p(elf) != ELF_MAGIC || elf[4] != 2 /* ELFCLASS64 */ ||
        elf[5] != 1 /* little-endian */ || lduw_le_p(elf + 18) != 62 /* EM_X86_64 */) {
        return false;
    }
    *entry = ldq_le_p(elf + 24);
    phoff = ldq_le_p(elf + 32);
    phnum = lduw_le_p(elf + 56);
    if (phnum == 0 || phnum > 64 || lduw_le_p(elf + 54) != 56) {
        return false;
    }
    *lo = UINT64_MAX;
    *hi = 0;
    for (unsigned i = 0; i < phnum; i++) {
        Elf64Phdr ph;
        if (!phdr_at(elf, len, phoff, i, &ph)) {
            return false;
        }
        if (ph.type != PT_LOAD || !ph.memsz) {
            continue;
        }
        if (ph.filesz > ph.memsz || ph.offset > len || ph.filesz > len - ph.offset ||
            ph.paddr < X86_BOOT_KERNEL_ADDR || ph.paddr + ph.memsz < ph.paddr ||
            !e820_is_ram(e820, ph.paddr, ph.memsz)) {
            return false;
        }
        *lo = MIN(*lo, ph.paddr);
        *hi = MAX(*hi, ph.paddr + ph.memsz);
        entry_ok |= *entry >= ph.paddr && *entry < ph.paddr + ph.filesz;
    }
    return entry_ok && *lo < *hi;
}

static bool add_segments(const uint8_t *elf, size_t len, Error **errp)
{
    uint64_t phoff = ldq_le_p(elf + 32);
    unsigned phnum = lduw_le_p(elf + 56);

    for (unsigned i = 0; i < phnum; i++) {
        Elf64Phdr ph;
        g_autofree char *name = g_strdup_printf("linux/vmlinux[%u]", i);
        uint8_t *seg;

        phdr_at(elf, len, phoff, i, &ph);
        if (ph.type != PT_LOAD || !ph.memsz) {
            continue;
        }
        /* The blob covers memsz: the part past filesz (bss) is zeroed at every reset. */
        seg = g_malloc0(ph.memsz);
        memcpy(seg, elf + ph.offset, ph.filesz);
        if (!loader_add_blob_owned(name, seg, ph.memsz, ph.paddr, errp)) {
            return false;
        }
    }
    return true;
}

/* Identity map of the low 4 GiB with 2 MiB pages (SDM vol. 3A, 4.5). */
static bool add_page_tables(Error **errp)
{
    uint8_t *pt = g_malloc0(UNPACK_PT_SIZE);
    const uint64_t present_rw = 0x3, large = 0x80;

    stq_le_p(pt, (UNPACK_PT_ADDR + 0x1000) | present_rw);            /* PML4[0] -> PDPT */
    for (int i = 0; i < 4; i++) {
        stq_le_p(pt + 0x1000 + i * 8, (UNPACK_PT_ADDR + 0x2000 + i * 0x1000) | present_rw);
        for (int j = 0; j < 512; j++) {
            uint64_t addr = ((uint64_t)i << 30) | ((uint64_t)j << 21);
            stq_le_p(pt + 0x2000 + i * 0x1000 + j * 8, addr | present_rw | large);
        }
    }
    return loader_add_blob_owned("linux/page-tables", pt, UNPACK_PT_SIZE, UNPACK_PT_ADDR,
                                 errp);
}

static bool add_gdt64(Error **errp)
{
    static const uint64_t gdt[4] = {
        0, 0,
        0x00af9b000000ffffULL,   /* 0x10: 64-bit code, present, DPL 0, accessed */
        0x00cf93000000ffffULL,   /* 0x18: 4 GiB flat data, writable, accessed */
    };
    uint8_t buf[sizeof(gdt)];

    for (int i = 0; i < 4; i++) {
        stq_le_p(buf + i * 8, gdt[i]);
    }
    return loader_add_blob("linux/gdt64", buf, sizeof(buf), UNPACK_GDT_ADDR, errp);
}

bool x86_linux_unpack(const uint8_t *payload, size_t len, const E820Table *e820,
                      uint64_t avoid_lo, uint64_t avoid_hi, X86BootRegs *regs,
                      bool *unpacked, Error **errp)
{
    uint16_t code = X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW |
                    X86_SEG_TYPE_A | X86_SEG_L | X86_SEG_G;
    uint16_t data = X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_RW | X86_SEG_TYPE_A |
                    X86_SEG_DB | X86_SEG_G;
    g_autofree uint8_t *elf = NULL;
    size_t elf_len = 0;
    uint64_t entry, lo, hi;

    *unpacked = false;
    if (!x86_linux_unpack_enabled) {
        return true;
    }
    elf = decompress(payload, len, &elf_len);
    if (!elf || !vmlinux_valid(elf, elf_len, e820, &entry, &lo, &hi)) {
        kite_log_mask(LOG_UNIMP, "kernel-unpack: payload is not a gzip/xz x86-64 vmlinux "
                      "Kite can load; the guest decompresses it");
        return true;
    }
    if (hi > avoid_lo && lo < avoid_hi) {
        /* The initrd was placed where the unpacked kernel goes: keep the guest's path. */
        return true;
    }
    if (!add_segments(elf, elf_len, errp) || !add_page_tables(errp) || !add_gdt64(errp)) {
        return false;
    }
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->eflags = X86_EFLAGS_FIXED;
    regs->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
    regs->cr3 = UNPACK_PT_ADDR;
    regs->cr4 = X86_CR4_PAE;
    regs->efer = X86_EFER_LME | X86_EFER_LMA;
    regs->gdt = (X86DescTable){ .base = UNPACK_GDT_ADDR, .limit = 4 * 8 - 1 };
    for (int s = R_ES; s <= R_GS; s++) {
        regs->segs[s] = (X86Segment){ .selector = 0x18, .base = 0, .limit = 0xffffffff,
                                      .attr = data };
    }
    regs->segs[R_CS] = (X86Segment){ .selector = 0x10, .base = 0, .limit = 0xffffffff,
                                     .attr = code };
    *unpacked = true;
    return true;
}
