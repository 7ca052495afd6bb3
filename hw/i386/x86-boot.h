/*
 * Direct kernel boot for x86 machines: -kernel FILE [-initrd FILE] [-append CMDLINE].
 *
 * No firmware runs.  At machine init the board calls x86_load_kernel(), which recognises
 * a Linux bzImage or a Multiboot v1 kernel, registers everything it must put in guest RAM
 * as loader blobs (hw/loader.h: written now and again at every system reset, so a guest
 * reboot boots the same kernel), and returns the register state the boot protocol asks
 * for.  After every reset the board applies that state to the BSP:
 *
 *     x86_boot_apply(&regs, cpu->env);
 *     x86_cpu_sync_state(cpu->interp);        (then the accelerator's post-reset sync)
 *
 * Both protocols are entered in 32-bit flat protected mode with paging off, interrupts
 * off and A20 on: Linux through its 32-bit boot protocol (boot.rst, "32-bit Boot
 * Protocol", which both 32- and 64-bit kernels implement), Multiboot kernels as the
 * Multiboot 0.6.96 specification, 3.2 "Machine state", requires.
 *
 * Guest-physical layout (all below the EBDA at 0x9fc00, which e820 reserves):
 *
 *   0x00500-0x0051f  boot GDT: null, null, 0x10 flat code, 0x18 flat data (both protocols)
 *   0x07000-0x07fff  Linux: struct boot_params, the "zero page" (ESI points here)
 *   0x08000-0x9fbff  Multiboot: info structure, memory map, module list, strings (EBX)
 *   0x20000-0x2ffff  Linux: kernel command line (at most 64 KiB with its NUL)
 *   0x100000-        Linux: the protected-mode kernel, then its decompression buffer
 *                    (up to max(pref_address, 1 MiB aligned) + init_size); the initrd
 *                    goes as high as RAM below initrd_addr_max allows, page aligned.
 *                    Multiboot: the kernel's segments where its headers say, then the
 *                    modules, each page aligned, from the first page after the kernel.
 *
 * Linux reserves the first 64 KiB itself (CONFIG_X86_RESERVE_LOW) and reads the zero page
 * and command line before it allocates memory; Multiboot kernels are told where the info
 * lives and must keep it until read (spec 3.3).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_I386_X86_BOOT_H
#define HW_I386_X86_BOOT_H

#include "kite/osdep.h"
#include "kite/error.h"
#include "hw/boards.h"
#include "hw/i386/e820.h"
#include "target/i386/cpu.h"

#define X86_BOOT_GDT_ADDR        0x500
#define X86_BOOT_GDT_ENTRIES     4
#define X86_BOOT_CS              0x10     /* __BOOT_CS (boot.rst, 32-bit Boot Protocol) */
#define X86_BOOT_DS              0x18     /* __BOOT_DS */
#define X86_BOOT_ZERO_PAGE_ADDR  0x7000
#define X86_BOOT_MB_INFO_ADDR    0x8000
#define X86_BOOT_CMDLINE_ADDR    0x20000
#define X86_BOOT_CMDLINE_MAX     0x10000  /* bytes including the NUL */
#define X86_BOOT_LOW_END         0x9fc00  /* nothing the loader writes reaches the EBDA */
#define X86_BOOT_KERNEL_ADDR     0x100000

typedef enum X86BootMode {
    X86_BOOT_NONE,            /* no -kernel: firmware boots the machine */
    X86_BOOT_LINUX,           /* Linux 32-bit boot protocol */
    X86_BOOT_MULTIBOOT,       /* Multiboot v1 */
} X86BootMode;

/*
 * The BSP's state at the kernel entry.  Everything not listed keeps its reset value
 * (SDM vol. 3A, 9.1.1, table 9-1): LDTR, TR, debug registers, MSRs, x87/SSE state.
 */
typedef struct X86BootRegs {
    X86BootMode mode;
    uint64_t gpr[16];         /* R_EAX ... R_R15 */
    uint64_t rip;
    uint32_t eflags;
    uint64_t cr0, cr3, cr4, efer;
    X86DescTable gdt, idt;
    X86Segment segs[6];       /* R_ES ... R_GS */
} X86BootRegs;

/*
 * Load ms->kernel_filename (with ms->initrd_filename and ms->kernel_cmdline) for a machine
 * whose memory map is e820; acpi_rsdp is the RSDP's address for Linux's zero page (0: let
 * the kernel scan for it).  Guest RAM must already be mapped in address_space_memory.
 * Fills regs; on error nothing stays registered and regs->mode is X86_BOOT_NONE.
 */
bool x86_load_kernel(MachineState *ms, const E820Table *e820, hwaddr acpi_rsdp,
                     X86BootRegs *regs, Error **errp);
/* The same with explicit file names (initrd and cmdline may be NULL). */
bool x86_load_kernel_files(const char *kernel, const char *initrd, const char *cmdline,
                           const E820Table *e820, hwaddr acpi_rsdp, X86BootRegs *regs,
                           Error **errp);

/*
 * Put regs into env (segment caches through x86_cpu_set_seg, EFLAGS through
 * x86_cpu_set_eflags) and open the A20 gate; the caller then calls x86_cpu_sync_state().
 */
void x86_boot_apply(const X86BootRegs *regs, CPUX86State *env);

/* --- for the protocol loaders (x86-linux.c, multiboot.c) and their tests --- */

/* Register the boot GDT blob and set regs to flat 32-bit protected mode at eip. */
bool x86_boot_setup_flat32(X86BootRegs *regs, uint32_t eip, Error **errp);

/* Linux bzImage: true if the image carries the "HdrS" setup header signature. */
bool x86_linux_probe(const uint8_t *image, size_t len);
/*
 * kernel-unpack (hw/i386/x86-linux-unpack.c): decompress a bzImage's payload on the host and
 * set regs for the vmlinux's 64-bit entry.  *unpacked false (and true returned) means "not
 * possible here, boot the guest's decompressor"; false is returned only on a real error.
 * The kernel must not land in [avoid_lo, avoid_hi) (the initrd).
 */
extern bool x86_linux_unpack_enabled;
bool x86_linux_unpack(const uint8_t *payload, size_t len, const E820Table *e820,
                      uint64_t avoid_lo, uint64_t avoid_hi, X86BootRegs *regs,
                      bool *unpacked, Error **errp);
/*
 * The zero page's struct screen_info (0x40 bytes, include/uapi/linux/screen_info.h) when a
 * Linux kernel is booted directly, else NULL.  A display card created later (-device) fills
 * it to hand its linear framebuffer to the kernel; the zero page is rewritten at each reset.
 */
uint8_t *x86_linux_screen_info(void);
bool x86_linux_load(const uint8_t *image, size_t len, const char *initrd,
                    const char *cmdline, const E820Table *e820, hwaddr acpi_rsdp,
                    X86BootRegs *regs, Error **errp);

/*
 * Multiboot v1: offset of a valid header in the first 8 KiB, or -1.  initrd is QEMU's
 * module list, "file args,file args" with ",," for a literal comma; the kernel's command
 * line is "<kernel> <cmdline>" as QEMU passes it.
 */
long multiboot_find_header(const uint8_t *image, size_t len);
bool multiboot_load(const char *kernel_name, const uint8_t *image, size_t len,
                    const char *initrd, const char *cmdline, const E820Table *e820,
                    X86BootRegs *regs, Error **errp);

#endif
