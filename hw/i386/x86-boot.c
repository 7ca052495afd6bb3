/*
 * Direct kernel boot for x86: recognise the kernel, and the entry state both boot
 * protocols share (see x86-boot.h for the guest memory layout).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/x86-boot.h"
#include "hw/loader.h"

/*
 * A flat 4 GiB segment descriptor (SDM vol. 3A, 3.4.5): base 0, limit 0xfffff with G=1,
 * D/B=1 (32-bit), present, DPL 0, code/data, the given type.  Returned as the 64-bit
 * descriptor for the GDT; X86_SEG_* attr packs descriptor bits 40-47 and 52-55.
 */
static uint16_t flat_attr(unsigned type)
{
    return type | X86_SEG_S | X86_SEG_P | X86_SEG_DB | X86_SEG_G;
}

static uint64_t flat_descriptor(unsigned type)
{
    uint64_t attr = flat_attr(type);

    return 0xffffULL |                       /* limit 15:0 */
           ((attr & 0xff) << 40) |           /* type, S, DPL, P */
           (0xfULL << 48) |                  /* limit 19:16 */
           ((attr >> 8) & 0xfULL) << 52;     /* AVL, L, D/B, G */
}

/* Type 0xb: execute/read, accessed; 0x3: read/write, accessed (SDM vol. 3A, 3.4.5.1). */
#define FLAT_CODE_TYPE (X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW | X86_SEG_TYPE_A)
#define FLAT_DATA_TYPE (X86_SEG_TYPE_RW | X86_SEG_TYPE_A)

bool x86_boot_setup_flat32(X86BootRegs *regs, uint32_t eip, Error **errp)
{
    uint8_t gdt[X86_BOOT_GDT_ENTRIES * 8] = { 0 };

    stq_le_p(gdt + X86_BOOT_CS, flat_descriptor(FLAT_CODE_TYPE));
    stq_le_p(gdt + X86_BOOT_DS, flat_descriptor(FLAT_DATA_TYPE));
    if (!loader_add_blob("x86/boot-gdt", gdt, sizeof(gdt), X86_BOOT_GDT_ADDR, errp)) {
        return false;
    }

    memset(regs->gpr, 0, sizeof(regs->gpr));
    regs->rip = eip;
    regs->eflags = X86_EFLAGS_FIXED;                 /* IF = 0: interrupts off */
    /* PE on, paging off; caches on (CD = NW = 0), unlike the power-on CR0. */
    regs->cr0 = X86_CR0_PE | X86_CR0_ET;
    regs->cr3 = 0;
    regs->cr4 = 0;
    regs->efer = 0;
    regs->gdt = (X86DescTable) { .base = X86_BOOT_GDT_ADDR, .limit = sizeof(gdt) - 1 };
    /* No IDT: an exception before the kernel loads its own shuts the machine down. */
    regs->idt = (X86DescTable) { .base = 0, .limit = 0 };
    for (int i = R_ES; i <= R_GS; i++) {
        bool code = i == R_CS;
        regs->segs[i] = (X86Segment) {
            .base = 0,
            .limit = 0xffffffff,
            .selector = code ? X86_BOOT_CS : X86_BOOT_DS,
            .attr = flat_attr(code ? FLAT_CODE_TYPE : FLAT_DATA_TYPE),
        };
    }
    return true;
}

void x86_boot_apply(const X86BootRegs *regs, CPUX86State *env)
{
    for (int i = 0; i < 16; i++) {
        env->regs[i] = regs->gpr[i];
    }
    env->rip = regs->rip;
    env->cr[0] = regs->cr0;
    env->cr[3] = regs->cr3;
    env->cr[4] = regs->cr4;
    env->efer = regs->efer;
    env->gdt = regs->gdt;
    env->idt = regs->idt;
    for (int i = R_ES; i <= R_GS; i++) {
        const X86Segment *s = &regs->segs[i];
        x86_cpu_set_seg(env, i, s->selector, s->base, s->limit, s->attr);
    }
    x86_cpu_set_eflags(env, regs->eflags);
    /* Both protocols promise A20 enabled (Multiboot 3.2; Linux runs above 1 MiB). */
    env->a20_masked = false;
    env->halted = false;
}

bool x86_load_kernel_files(const char *kernel, const char *initrd, const char *cmdline,
                           const E820Table *e820, hwaddr acpi_rsdp, X86BootRegs *regs,
                           Error **errp)
{
    unsigned mark = loader_mark();
    uint64_t ram = e820_ram_size(e820, 0, E820_4G);
    uint8_t *image;
    size_t len;
    bool ok;

    memset(regs, 0, sizeof(*regs));
    if (!loader_load_file(kernel, &image, &len, ram, errp)) {
        error_prepend(errp, "kernel: ");
        return false;
    }
    /* Linux first, as QEMU does: a bzImage may carry a multiboot header too. */
    if (x86_linux_probe(image, len)) {
        ok = x86_linux_load(image, len, initrd, cmdline, e820, acpi_rsdp, regs, errp);
    } else if (multiboot_find_header(image, len) >= 0) {
        ok = multiboot_load(kernel, image, len, initrd, cmdline, e820, regs, errp);
    } else {
        error_setg(errp, "kernel '%s' is not a Linux bzImage or multiboot kernel", kernel);
        ok = false;
    }
    g_free(image);
    if (!ok) {
        loader_rollback(mark);
        memset(regs, 0, sizeof(*regs));
    }
    return ok;
}

bool x86_load_kernel(MachineState *ms, const E820Table *e820, hwaddr acpi_rsdp,
                     X86BootRegs *regs, Error **errp)
{
    if (!ms->kernel_filename) {
        memset(regs, 0, sizeof(*regs));
        if (ms->initrd_filename || (ms->kernel_cmdline && *ms->kernel_cmdline)) {
            error_setg(errp, "-initrd and -append need -kernel");
            return false;
        }
        return true;
    }
    return x86_load_kernel_files(ms->kernel_filename, ms->initrd_filename,
                                 ms->kernel_cmdline, e820, acpi_rsdp, regs, errp);
}
