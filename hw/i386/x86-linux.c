/*
 * Linux/x86 boot protocol loader for bzImage kernels, entered through the 32-bit boot
 * protocol (Documentation/arch/x86/boot.rst; zero page layout in zero-page.rst).
 *
 * The real-mode setup code is never run: Kite builds struct boot_params (the "zero page")
 * itself, as a BIOS-less boot loader does, so the kernel gets its memory map from
 * boot_params.e820_table rather than INT 15h.  screen_info is zero (no video mode set up)
 * unless a display card fills it through x86_linux_screen_info(); EDD and APM info are
 * absent.
 *
 * Protocol 2.06 (Linux 2.6.22) or later is required: from 2.06 the header says how long
 * the command line may be.  zImage kernels (not LOADED_HIGH) are refused.  The initrd is
 * kept below 4 GiB, so the ext_ramdisk_* fields stay zero.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/x86-boot.h"
#include "hw/loader.h"

/* Setup header fields: offsets in the image and in boot_params (boot.rst, table). */
#define HDR_SETUP_SECTS      0x1f1
#define HDR_SYSSIZE          0x1f4
#define HDR_VID_MODE         0x1fa
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP             0x200
#define HDR_HEADER           0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PAYLOAD_OFFSET   0x248
#define HDR_PAYLOAD_LENGTH   0x24c
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260

#define HDR_MAGIC            0x53726448      /* "HdrS" */
#define BOOT_FLAG_MAGIC      0xaa55
#define LOADED_HIGH          0x01            /* loadflags bit 0 */
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02      /* xloadflags bit 1 */
#define LOADER_TYPE_UNDEFINED 0xff           /* "0xFF = undefined" boot loader ID */
#define VID_MODE_NORMAL      0xffff          /* vga=normal */

/* struct boot_params (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_SCREEN_INFO       0x000
#define BP_E820_ENTRIES      0x1e8
#define BP_HDR_END_MAX       0x290           /* edd_mbr_sig_buffer follows the header */
#define BP_E820_TABLE        0x2d0
#define BP_SIZE              0x1000

#define PROTOCOL_MIN         0x0206

bool x86_linux_probe(const uint8_t *image, size_t len)
{
    return len >= HDR_HEADER + 4 && ldl_le_p(image + HDR_HEADER) == HDR_MAGIC;
}

/* The page-aligned address for the initrd, as high as RAM and the kernel allow. */
static bool place_initrd(const uint8_t *image, uint16_t version, size_t size,
                         uint64_t kernel_end, const E820Table *e820, uint64_t *addr,
                         Error **errp)
{
    uint64_t initrd_max;

    /*
     * initrd_addr_max is the highest byte the initrd may occupy (boot.rst).  Kernels that
     * say they can live above 4 GiB (2.12+) take any 32-bit address, as in QEMU.
     */
    if (version >= 0x020c &&
        (lduw_le_p(image + HDR_XLOADFLAGS) & XLF_CAN_BE_LOADED_ABOVE_4G)) {
        initrd_max = UINT32_MAX;
    } else {
        initrd_max = ldl_le_p(image + HDR_INITRD_ADDR_MAX);
    }
    if (!e820_find_ram_top(e820, kernel_end, initrd_max + 1, size, KITE_PAGE_SIZE, addr)) {
        error_setg(errp, "initrd is too large: %zu bytes do not fit in guest RAM between "
                   "the kernel's end (0x%" PRIx64 ") and the kernel's initrd limit "
                   "(0x%" PRIx64 ")", size, kernel_end, initrd_max);
        return false;
    }
    return true;
}

uint8_t *x86_linux_screen_info(void)
{
    size_t len;
    uint8_t *bp = loader_blob_data("linux/zero-page", &len, NULL);

    return bp && len >= BP_SIZE ? bp + BP_SCREEN_INFO : NULL;
}

bool x86_linux_load(const uint8_t *image, size_t len, const char *initrd,
                    const char *cmdline, const E820Table *e820, hwaddr acpi_rsdp,
                    X86BootRegs *regs, Error **errp)
{
    unsigned setup_sects, hdr_end;
    uint16_t version;
    uint32_t align, init_size = 0, cmdline_size;
    uint64_t setup_size, pm_size, runtime_start, kernel_end, initrd_addr = 0;
    size_t cmdline_len, initrd_len = 0;
    uint8_t *bp, *initrd_data = NULL;
    bool relocatable, unpacked = false;

    cmdline = cmdline ? cmdline : "";

    /* --- the setup header --- */
    if (len < 1024) {
        error_setg(errp, "Linux kernel image is truncated (%zu bytes, no setup header)", len);
        return false;
    }
    if (lduw_le_p(image + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC) {
        error_setg(errp, "Linux kernel image has no 0xAA55 boot flag at 0x1fe");
        return false;
    }
    version = lduw_le_p(image + HDR_VERSION);
    if (version < PROTOCOL_MIN) {
        error_setg(errp, "Linux boot protocol %u.%02u is too old: Kite needs 2.06 or later "
                   "(Linux 2.6.22+)", version >> 8, version & 0xff);
        return false;
    }
    if (!(image[HDR_LOADFLAGS] & LOADED_HIGH)) {
        error_setg(errp, "Linux zImage kernels (not loaded high) are not supported");
        return false;
    }
    setup_sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS] : 4;
    setup_size = (setup_sects + 1) * 512ULL;
    if (len <= setup_size) {
        error_setg(errp, "Linux kernel image is truncated: %zu bytes, but the setup code "
                   "alone takes %" PRIu64, len, setup_size);
        return false;
    }
    pm_size = len - setup_size;
    /* syssize counts 16-byte paragraphs of protected-mode code (2.04+). */
    if ((uint64_t)ldl_le_p(image + HDR_SYSSIZE) * 16 > pm_size + 15) {
        error_setg(errp, "Linux kernel image is truncated: the header announces %" PRIu64
                   " bytes of protected-mode code, the file has %" PRIu64,
                   (uint64_t)ldl_le_p(image + HDR_SYSSIZE) * 16, pm_size);
        return false;
    }

    /*
     * Where the kernel will run: a relocatable kernel decompresses at its load address
     * rounded up to kernel_alignment, but never below LOAD_PHYSICAL_ADDR, which the header
     * exports as pref_address (arch/x86/boot/compressed/head_{32,64}.S); others at
     * pref_address.  init_size (2.10+) bytes from there must be RAM.
     */
    relocatable = image[HDR_RELOCATABLE];
    align = ldl_le_p(image + HDR_KERNEL_ALIGNMENT);
    if (relocatable && !IS_POWER_OF_2(align)) {
        error_setg(errp, "Linux kernel_alignment 0x%x is not a power of two", align);
        return false;
    }
    runtime_start = relocatable ? ROUND_UP((uint64_t)X86_BOOT_KERNEL_ADDR, align)
                                : X86_BOOT_KERNEL_ADDR;
    if (version >= 0x020a) {
        runtime_start = MAX(runtime_start, ldq_le_p(image + HDR_PREF_ADDRESS));
        init_size = ldl_le_p(image + HDR_INIT_SIZE);
    }
    if (runtime_start >= E820_4G) {
        error_setg(errp, "Linux kernel wants to run at 0x%" PRIx64 ", above 4 GiB",
                   runtime_start);
        return false;
    }
    kernel_end = MAX(X86_BOOT_KERNEL_ADDR + pm_size, runtime_start + init_size);
    if (kernel_end > E820_4G ||
        !e820_is_ram(e820, X86_BOOT_KERNEL_ADDR, kernel_end - X86_BOOT_KERNEL_ADDR)) {
        error_setg(errp, "guest RAM is too small for this Linux kernel: it needs RAM from "
                   "1 MiB to 0x%" PRIx64 " (%" PRIu64 " MiB), RAM ends at 0x%" PRIx64,
                   kernel_end, (uint64_t)DIV_ROUND_UP(kernel_end, MiB),
                   e820_ram_end(e820, X86_BOOT_KERNEL_ADDR));
        return false;
    }

    /* --- command line --- */
    cmdline_len = strlen(cmdline);
    cmdline_size = ldl_le_p(image + HDR_CMDLINE_SIZE);
    if (cmdline_len > cmdline_size || cmdline_len >= X86_BOOT_CMDLINE_MAX) {
        error_setg(errp, "kernel command line is too long: %zu bytes, this kernel accepts "
                   "%u", cmdline_len, MIN(cmdline_size, X86_BOOT_CMDLINE_MAX - 1));
        return false;
    }

    /* --- initrd --- */
    if (initrd) {
        uint64_t ram = e820_ram_size(e820, 0, E820_4G);
        if (!loader_load_file(initrd, &initrd_data, &initrd_len, ram, errp)) {
            error_prepend(errp, "initrd: ");
            return false;
        }
        if (!place_initrd(image, version, initrd_len, kernel_end, e820, &initrd_addr,
                          errp)) {
            g_free(initrd_data);
            return false;
        }
    }

    /* --- the zero page --- */
    bp = g_malloc0(BP_SIZE);
    /* The header runs to 0x202 + the jump's offset byte (boot.rst, 32-bit Boot Protocol). */
    hdr_end = MIN(HDR_HEADER + image[HDR_JUMP + 1], BP_HDR_END_MAX);
    memcpy(bp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    stw_le_p(bp + HDR_VID_MODE, VID_MODE_NORMAL);
    bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    stl_le_p(bp + HDR_CODE32_START, X86_BOOT_KERNEL_ADDR);
    stl_le_p(bp + HDR_RAMDISK_IMAGE, initrd_addr);
    stl_le_p(bp + HDR_RAMDISK_SIZE, initrd_len);
    stl_le_p(bp + HDR_CMD_LINE_PTR, X86_BOOT_CMDLINE_ADDR);
    stq_le_p(bp + BP_ACPI_RSDP_ADDR, acpi_rsdp);
    bp[BP_E820_ENTRIES] = e820->nr;
    e820_store_le(e820, bp + BP_E820_TABLE);

    /* --- into guest memory, and the entry state --- */
    if (!loader_add_blob_owned("linux/zero-page", bp, BP_SIZE, X86_BOOT_ZERO_PAGE_ADDR,
                               errp) ||
        !loader_add_blob("linux/cmdline", cmdline, cmdline_len + 1, X86_BOOT_CMDLINE_ADDR,
                         errp)) {
        g_free(initrd_data);
        return false;
    }
    /* The compressed vmlinux (2.08+): unpacked on the host when possible (kernel-unpack). */
    if (version >= 0x0208) {
        uint32_t poff = ldl_le_p(image + HDR_PAYLOAD_OFFSET);
        uint32_t plen = ldl_le_p(image + HDR_PAYLOAD_LENGTH);
        if (poff <= pm_size && plen <= pm_size - poff &&
            !x86_linux_unpack(image + setup_size + poff, plen, e820, initrd_addr,
                              initrd_addr + initrd_len, regs, &unpacked, errp)) {
            g_free(initrd_data);
            return false;
        }
    }
    if (!unpacked &&
        !loader_add_blob("linux/kernel", image + setup_size, pm_size, X86_BOOT_KERNEL_ADDR,
                         errp)) {
        g_free(initrd_data);
        return false;
    }
    if (initrd_data && !loader_add_blob_owned("linux/initrd", initrd_data, initrd_len,
                                              initrd_addr, errp)) {
        return false;
    }
    if (!unpacked && !x86_boot_setup_flat32(regs, X86_BOOT_KERNEL_ADDR, errp)) {
        return false;
    }
    /* ESI = boot_params; EBP, EDI, EBX zero (boot.rst, 32-bit Boot Protocol). */
    regs->gpr[R_ESI] = X86_BOOT_ZERO_PAGE_ADDR;
    regs->gpr[R_ESP] = X86_BOOT_ZERO_PAGE_ADDR;   /* any stack below the zero page */
    regs->mode = X86_BOOT_LINUX;
    return true;
}
