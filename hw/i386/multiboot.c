/*
 * Multiboot v1 kernel loader (Multiboot Specification version 0.6.96).
 *
 * Accepted like QEMU's -kernel: a header in the first 8 KiB; with the address fields
 * (flag 16, the "a.out kludge") the image is loaded as they say whatever its format,
 * otherwise it must be a 32-bit little-endian i386 ELF file whose PT_LOAD segments go to
 * their physical addresses.  64-bit ELF without address fields is refused, as in QEMU.
 * Modules come from -initrd in QEMU's syntax and the kernel's command line is
 * "<kernel file> <-append text>", which is what QEMU passes.
 *
 * Not provided: the video mode (flag 2: warned about and ignored, like QEMU), a boot
 * device, drive and APM tables, ELF section headers (the kernel gets no syms).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/x86-boot.h"
#include "hw/loader.h"

/* Header (3.1.1): magic, flags, checksum, then the address fields (3.1.3). */
#define MB_HEADER_MAGIC      0x1badb002
#define MB_SEARCH_END        8192
#define MB_HDR_MIN           12
#define MB_HDR_ADDR_SIZE     32
#define MB_FLAG_PAGE_ALIGN   (1u << 0)    /* modules page aligned: always done */
#define MB_FLAG_MEMORY_INFO  (1u << 1)    /* mem_* and mmap: always given */
#define MB_FLAG_VIDEO_MODE   (1u << 2)
#define MB_FLAG_AOUT_KLUDGE  (1u << 16)

/* Machine state at entry (3.2). */
#define MB_BOOTLOADER_MAGIC  0x2badb002

/* Boot information (3.3): field offsets and flags. */
#define MBI_FLAGS            0
#define MBI_MEM_LOWER        4
#define MBI_MEM_UPPER        8
#define MBI_CMDLINE          16
#define MBI_MODS_COUNT       20
#define MBI_MODS_ADDR        24
#define MBI_MMAP_LENGTH      44
#define MBI_MMAP_ADDR        48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE             0x80         /* 88 bytes used; the mmap follows aligned */
#define MBI_F_MEM            (1u << 0)
#define MBI_F_CMDLINE        (1u << 2)
#define MBI_F_MODS           (1u << 3)
#define MBI_F_MMAP           (1u << 6)
#define MBI_F_LOADER_NAME    (1u << 9)
#define MB_MMAP_ENTRY_SIZE   24           /* size (20), base_addr, length, type */
#define MB_MOD_SIZE          16           /* mod_start, mod_end, string, reserved */

/* ELF (System V ABI, Intel386 supplement). */
#define EI_CLASS     4
#define EI_DATA      5
#define ELFCLASS32   1
#define ELFCLASS64   2
#define ELFDATA2LSB  1
#define EM_386       3
#define PT_LOAD      1
#define ELF32_EHDR_SIZE  52
#define ELF32_PHDR_SIZE  32

/* A piece of the kernel image: file bytes at paddr, zero-filled up to memsz. */
typedef struct MbSegment {
    uint64_t offset, filesz, paddr, memsz;
} MbSegment;

long multiboot_find_header(const uint8_t *image, size_t len)
{
    size_t end = MIN(len, MB_SEARCH_END);

    /* Longword aligned, wholly inside the first 8192 bytes (3.1.1). */
    for (size_t off = 0; off + MB_HDR_MIN <= end; off += 4) {
        uint32_t magic = ldl_le_p(image + off), flags = ldl_le_p(image + off + 4);
        if (magic == MB_HEADER_MAGIC &&
            (uint32_t)(magic + flags + ldl_le_p(image + off + 8)) == 0) {
            return off;
        }
    }
    return -1;
}

/* The a.out kludge: load_addr.. taken from the file where the header sits (3.1.3). */
static bool aout_segment(const uint8_t *image, size_t len, size_t hdr, MbSegment *seg,
                         uint32_t *entry, Error **errp)
{
    uint32_t header_addr, load_addr, load_end, bss_end;
    uint64_t load_size;

    if (hdr + MB_HDR_ADDR_SIZE > len || hdr + MB_HDR_ADDR_SIZE > MB_SEARCH_END) {
        error_setg(errp, "multiboot header is truncated (address fields missing)");
        return false;
    }
    header_addr = ldl_le_p(image + hdr + 12);
    load_addr = ldl_le_p(image + hdr + 16);
    load_end = ldl_le_p(image + hdr + 20);
    bss_end = ldl_le_p(image + hdr + 24);
    *entry = ldl_le_p(image + hdr + 28);

    if (load_addr > header_addr || header_addr - load_addr > hdr) {
        error_setg(errp, "multiboot load_addr 0x%x does not fit header_addr 0x%x with the "
                   "header at file offset 0x%zx", load_addr, header_addr, hdr);
        return false;
    }
    seg->offset = hdr - (header_addr - load_addr);
    if (load_end) {
        if (load_end < load_addr) {
            error_setg(errp, "multiboot load_end_addr 0x%x is below load_addr 0x%x",
                       load_end, load_addr);
            return false;
        }
        load_size = load_end - load_addr;
        if (seg->offset + load_size > len) {
            error_setg(errp, "multiboot kernel is truncated: it loads 0x%" PRIx64 " bytes "
                       "from file offset 0x%" PRIx64 ", the file has %zu", load_size,
                       seg->offset, len);
            return false;
        }
    } else {
        load_size = len - seg->offset;     /* the rest of the file */
    }
    if (load_addr + load_size > E820_4G) {
        error_setg(errp, "multiboot kernel does not fit below 4 GiB");
        return false;
    }
    if (bss_end && bss_end < load_addr + load_size) {
        error_setg(errp, "multiboot bss_end_addr 0x%x is below the end of the loaded image "
                   "0x%" PRIx64, bss_end, load_addr + load_size);
        return false;
    }
    seg->paddr = load_addr;
    seg->filesz = load_size;
    seg->memsz = bss_end ? bss_end - load_addr : load_size;
    if (!seg->memsz) {
        error_setg(errp, "multiboot kernel loads nothing");
        return false;
    }
    return true;
}

/* PT_LOAD segments of an ELF32 i386 image, by physical address; entry made physical. */
static bool elf_segments(const uint8_t *image, size_t len, GArray *segs, uint32_t *entry,
                         Error **errp)
{
    uint32_t phoff, e_entry;
    unsigned phentsize, phnum;
    bool entry_done = false;

    if (len < ELF32_EHDR_SIZE || memcmp(image, "\x7f" "ELF", 4)) {
        error_setg(errp, "multiboot kernel has no address fields (flag 16) and is not an "
                   "ELF file");
        return false;
    }
    if (image[EI_CLASS] == ELFCLASS64) {
        error_setg(errp, "multiboot kernel is a 64-bit ELF file: give a 32-bit one, or set "
                   "the header's address fields (flag 16)");
        return false;
    }
    if (image[EI_CLASS] != ELFCLASS32 || image[EI_DATA] != ELFDATA2LSB ||
        lduw_le_p(image + 18) != EM_386) {
        error_setg(errp, "multiboot kernel is not a little-endian i386 ELF file");
        return false;
    }
    e_entry = ldl_le_p(image + 24);
    phoff = ldl_le_p(image + 28);
    phentsize = lduw_le_p(image + 42);
    phnum = lduw_le_p(image + 44);
    if (phentsize < ELF32_PHDR_SIZE || phoff > len ||
        (uint64_t)phnum * phentsize > len - phoff) {
        error_setg(errp, "multiboot ELF kernel is truncated (program headers)");
        return false;
    }

    *entry = e_entry;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + (size_t)i * phentsize;
        uint32_t vaddr = ldl_le_p(ph + 8);
        MbSegment s = {
            .offset = ldl_le_p(ph + 4),
            .paddr = ldl_le_p(ph + 12),
            .filesz = ldl_le_p(ph + 16),
            .memsz = ldl_le_p(ph + 20),
        };

        if (ldl_le_p(ph) != PT_LOAD || s.memsz == 0) {
            continue;
        }
        if (s.filesz > s.memsz || s.offset + s.filesz > len) {
            error_setg(errp, "multiboot ELF segment %u is truncated or malformed", i);
            return false;
        }
        if (s.paddr + s.memsz > E820_4G) {
            error_setg(errp, "multiboot ELF segment %u does not fit below 4 GiB", i);
            return false;
        }
        /*
         * e_entry is virtual; kernels linked high but loaded low (p_vaddr != p_paddr)
         * need the physical address, found through the segment holding it.
         */
        if (!entry_done && e_entry >= vaddr && e_entry - vaddr < s.memsz) {
            *entry = e_entry - vaddr + s.paddr;
            entry_done = true;
        }
        g_array_append_val(segs, s);
    }
    if (segs->len == 0) {
        error_setg(errp, "multiboot ELF kernel has no loadable segments");
        return false;
    }
    return true;
}

/* One module of QEMU's list: text up to an unescaped ',' with ",," meaning ','. */
static const char *next_module(const char *p, GString *out)
{
    g_string_truncate(out, 0);
    for (; *p; p++) {
        if (*p == ',') {
            if (p[1] != ',') {
                return p + 1;
            }
            p++;
        }
        g_string_append_c(out, *p);
    }
    return NULL;
}

/* Is [a, a + n) clear of the loader's own low-memory data? */
static bool clear_of_boot_area(uint64_t a, uint64_t n)
{
    return a + n <= X86_BOOT_GDT_ADDR || a >= X86_BOOT_LOW_END;
}

typedef struct MbModule {
    uint8_t *data;
    size_t len;
    uint64_t addr;
    char *string;
} MbModule;

static void mb_module_clear(gpointer p)
{
    MbModule *m = p;

    g_free(m->data);
    g_free(m->string);
}

/* Load the modules, placed page by page from *next up. */
static bool load_modules(const char *list, const E820Table *e820, uint64_t *next,
                         GArray *mods, Error **errp)
{
    g_autoptr(GString) item = g_string_new(NULL);
    uint64_t ram = e820_ram_size(e820, 0, E820_4G);
    const char *p = list;

    while (p) {
        MbModule m = { 0 };
        g_autofree char *path = NULL;

        p = next_module(p, item);
        /* A space after the file name starts the module's arguments (as QEMU). */
        path = g_strndup(item->str, strcspn(item->str, " "));
        if (!*path) {
            error_setg(errp, "multiboot module list '%s' has an empty entry", list);
            return false;
        }
        if (!loader_load_file(path, &m.data, &m.len, ram, errp)) {
            error_prepend(errp, "multiboot module: ");
            return false;
        }
        m.addr = *next;
        m.string = g_strdup(item->str);
        g_array_append_val(mods, m);
        if (!e820_is_ram(e820, m.addr, m.len)) {
            error_setg(errp, "multiboot module '%s' (%zu bytes) does not fit in guest RAM "
                       "at 0x%" PRIx64, path, m.len, m.addr);
            return false;
        }
        *next = ROUND_UP(m.addr + m.len, KITE_PAGE_SIZE);
    }
    return true;
}

/*
 * The boot information blob at X86_BOOT_MB_INFO_ADDR: info structure, memory map,
 * module list, then the strings.
 */
static uint8_t *build_info(const char *kernel_cmdline, GArray *mods, const E820Table *e820,
                           size_t *len, Error **errp)
{
    const hwaddr base = X86_BOOT_MB_INFO_ADDR;
    size_t mmap_off = MBI_SIZE;
    size_t mods_off = mmap_off + e820->nr * MB_MMAP_ENTRY_SIZE;
    size_t str_off = mods_off + mods->len * MB_MOD_SIZE;
    size_t size = str_off + strlen(kernel_cmdline) + 1 + sizeof("kite");
    uint8_t *info, *p;
    char *s;

    for (guint i = 0; i < mods->len; i++) {
        size += strlen(g_array_index(mods, MbModule, i).string) + 1;
    }
    if (size > X86_BOOT_LOW_END - base) {
        error_setg(errp, "multiboot command lines and module list take %zu bytes, more than "
                   "the %u bytes of low memory for them", size,
                   (unsigned)(X86_BOOT_LOW_END - base));
        return NULL;
    }
    info = g_malloc0(size);

    stl_le_p(info + MBI_FLAGS, MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP |
                               MBI_F_LOADER_NAME);
    /* KiB of RAM from 0 and from 1 MiB up to the first hole (3.3, mem_lower/upper). */
    stl_le_p(info + MBI_MEM_LOWER, (e820_ram_end(e820, 0)) / KiB);
    stl_le_p(info + MBI_MEM_UPPER,
             MIN((e820_ram_end(e820, E820_HIGH_START) ?: E820_HIGH_START) - E820_HIGH_START,
                 (uint64_t)UINT32_MAX * KiB) / KiB);

    /* mmap entries: size (of the rest, 20), base_addr, length, type. */
    p = info + mmap_off;
    for (unsigned i = 0; i < e820->nr; i++, p += MB_MMAP_ENTRY_SIZE) {
        stl_le_p(p, MB_MMAP_ENTRY_SIZE - 4);
        stq_le_p(p + 4, e820->entries[i].addr);
        stq_le_p(p + 12, e820->entries[i].size);
        stl_le_p(p + 20, e820->entries[i].type);
    }
    stl_le_p(info + MBI_MMAP_LENGTH, e820->nr * MB_MMAP_ENTRY_SIZE);
    stl_le_p(info + MBI_MMAP_ADDR, base + mmap_off);

    s = (char *)info + str_off;
    stl_le_p(info + MBI_MODS_COUNT, mods->len);
    stl_le_p(info + MBI_MODS_ADDR, base + mods_off);
    for (guint i = 0; i < mods->len; i++) {
        const MbModule *m = &g_array_index(mods, MbModule, i);
        p = info + mods_off + i * MB_MOD_SIZE;
        stl_le_p(p, m->addr);
        stl_le_p(p + 4, m->addr + m->len);        /* mod_end: first byte after */
        stl_le_p(p + 8, base + ((uint8_t *)s - info));
        s = stpcpy(s, m->string) + 1;
    }
    stl_le_p(info + MBI_CMDLINE, base + ((uint8_t *)s - info));
    s = stpcpy(s, kernel_cmdline) + 1;
    stl_le_p(info + MBI_BOOT_LOADER_NAME, base + ((uint8_t *)s - info));
    strcpy(s, "kite");
    *len = size;
    return info;
}

/* Each segment's file bytes, then its zero-filled rest (bss) without a host copy. */
static bool add_segments(const uint8_t *image, GArray *segs, Error **errp)
{
    for (guint i = 0; i < segs->len; i++) {
        const MbSegment *s = &g_array_index(segs, MbSegment, i);
        g_autofree char *name = g_strdup_printf("multiboot/segment%u", i);
        g_autofree char *bss = g_strdup_printf("multiboot/segment%u-bss", i);

        if (s->filesz &&
            !loader_add_blob(name, image + s->offset, s->filesz, s->paddr, errp)) {
            return false;
        }
        if (s->memsz > s->filesz &&
            !loader_add_zeroes(bss, s->memsz - s->filesz, s->paddr + s->filesz, errp)) {
            return false;
        }
    }
    return true;
}

bool multiboot_load(const char *kernel_name, const uint8_t *image, size_t len,
                    const char *initrd, const char *cmdline, const E820Table *e820,
                    X86BootRegs *regs, Error **errp)
{
    g_autoptr(GArray) segs = g_array_new(false, false, sizeof(MbSegment));
    g_autoptr(GArray) mods = g_array_new(false, false, sizeof(MbModule));
    g_autofree char *kernel_cmdline = NULL;
    g_autofree uint8_t *info = NULL;
    long hdr = multiboot_find_header(image, len);
    uint32_t flags, entry;
    uint64_t kernel_end = 0;
    size_t info_len;

    g_array_set_clear_func(mods, mb_module_clear);
    if (hdr < 0) {
        error_setg(errp, "'%s' has no multiboot header", kernel_name);
        return false;
    }
    flags = ldl_le_p(image + hdr + 4);
    if (flags & MB_FLAG_VIDEO_MODE) {
        warn_report("multiboot kernel asks for a video mode: not supported, ignored");
    }
    if (flags & MB_FLAG_AOUT_KLUDGE) {
        MbSegment s;
        if (!aout_segment(image, len, hdr, &s, &entry, errp)) {
            return false;
        }
        g_array_append_val(segs, s);
    } else if (!elf_segments(image, len, segs, &entry, errp)) {
        return false;
    }

    /* Every segment in RAM, clear of the boot data and of each other. */
    for (guint i = 0; i < segs->len; i++) {
        const MbSegment *s = &g_array_index(segs, MbSegment, i);
        if (!e820_is_ram(e820, s->paddr, s->memsz)) {
            error_setg(errp, "multiboot kernel segment 0x%" PRIx64 "-0x%" PRIx64 " is "
                       "outside guest RAM", s->paddr, s->paddr + s->memsz - 1);
            return false;
        }
        if (!clear_of_boot_area(s->paddr, s->memsz)) {
            error_setg(errp, "multiboot kernel segment 0x%" PRIx64 "-0x%" PRIx64 " overlaps "
                       "the boot information at 0x%x-0x%x", s->paddr,
                       s->paddr + s->memsz - 1, X86_BOOT_GDT_ADDR, X86_BOOT_LOW_END - 1);
            return false;
        }
        for (guint j = 0; j < i; j++) {
            const MbSegment *o = &g_array_index(segs, MbSegment, j);
            if (s->paddr < o->paddr + o->memsz && o->paddr < s->paddr + s->memsz) {
                error_setg(errp, "multiboot kernel segments %u and %u overlap", j, i);
                return false;
            }
        }
        kernel_end = MAX(kernel_end, s->paddr + s->memsz);
    }

    /* Modules above the kernel, and never among the low-memory boot data. */
    kernel_end = ROUND_UP(MAX(kernel_end, X86_BOOT_KERNEL_ADDR), KITE_PAGE_SIZE);
    if (initrd && !load_modules(initrd, e820, &kernel_end, mods, errp)) {
        return false;
    }
    kernel_cmdline = g_strdup_printf("%s %s", kernel_name, cmdline ? cmdline : "");
    info = build_info(kernel_cmdline, mods, e820, &info_len, errp);
    if (!info) {
        return false;
    }

    if (!add_segments(image, segs, errp) ||
        !loader_add_blob("multiboot/info", info, info_len, X86_BOOT_MB_INFO_ADDR, errp)) {
        return false;
    }
    for (guint i = 0; i < mods->len; i++) {
        MbModule *m = &g_array_index(mods, MbModule, i);
        g_autofree char *name = g_strdup_printf("multiboot/module%u", i);
        if (!loader_add_blob_owned(name, m->data, m->len, m->addr, errp)) {
            m->data = NULL;
            return false;
        }
        m->data = NULL;     /* the loader owns it now */
    }

    if (!x86_boot_setup_flat32(regs, entry, errp)) {
        return false;
    }
    regs->gpr[R_EAX] = MB_BOOTLOADER_MAGIC;
    regs->gpr[R_EBX] = X86_BOOT_MB_INFO_ADDR;
    regs->mode = X86_BOOT_MULTIBOOT;
    return true;
}
