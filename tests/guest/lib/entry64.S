/*
 * Kite guest test runtime: multiboot v1 header, 32-bit entry and the switch
 * to long mode (x86-64 build).
 *
 * Multiboot loaders accept only 32-bit ELF files (QEMU refuses ELF64), so the
 * build links this x86-64 code at 1 MiB and rewrites the ELF container to
 * ELF32 with objcopy.  _start runs in 32-bit protected mode; it identity-maps
 * the first 4 GiB with 2 MiB pages (PML4 -> PDPT -> 4 PDs) and enables long
 * mode as in SDM vol. 3A 9.8.5 "Initializing IA-32e Mode": CR4.PAE, CR3,
 * EFER.LME, then CR0.PG, then a far jump to a 64-bit code segment.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "asm.h"

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004               /* user pages: long64 runs ring-3 code */
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    fnstcw entry_fcw                /* the x87 state the loader left, see entry32.S */
    fnstsw entry_fsw
    mov %eax, %esi                  /* multiboot magic */
    mov %ebx, %ebp                  /* multiboot info */
    mov $__bss_start, %edi          /* zero .bss, see entry32.S */
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    lgdt gdt_ptr
    ljmp $SEL_CODE32, $1f
1:  mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $boot_stack_top, %esp

    /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
    mov $boot_pdpt + (PTE_P | PTE_W | PTE_U), %eax
    mov %eax, boot_pml4
    mov $boot_pd + (PTE_P | PTE_W | PTE_U), %eax
    xor %ecx, %ecx
2:  mov %eax, boot_pdpt(, %ecx, 8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 2b
    /* 2048 PD entries of 2 MiB each.  The top GiB (0xc0000000-0xffffffff:
     * the PCI hole, I/O APIC, HPET, local APIC, BIOS) is mapped uncached. */
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
    cmp $1536, %ecx
    jb 4f
    or $(PTE_PCD | PTE_PWT), %eax
4:  mov %eax, boot_pd(, %ecx, 8)
    movl $0, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 3b

    call enter_long_mode
    .code64
    mov $boot_stack_top, %rsp
    mov %esi, %edi                  /* runtime_start(magic, info) */
    mov %ebp, %esi
    call runtime_start
5:  cli
    hlt
    jmp 5b

    /* Enables paging and long mode, then returns in 64-bit mode to the
     * 32-bit caller's return address.  Clobbers eax, ecx, edx. */
    .code32
enter_long_mode:
    mov %cr4, %eax
    or $0x20, %eax                  /* CR4.PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* IA32_EFER */
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax            /* PG | PE */
    mov %eax, %cr0
    ljmp $SEL_CODE64, $6f
    .code64
6:  mov %esp, %esp                  /* upper halves are undefined after the switch */
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    /* The 32-bit CALL pushed a 4-byte return address; pop it as such. */
    mov (%rsp), %eax
    add $4, %rsp
    jmp *%rax

    /* Application processors: from trampoline.S in 32-bit protected mode
     * with CS = SEL_CODE32.  Take an index and a stack, then join long mode
     * on the BSP's page tables. */
    .code32
    .globl ap_entry32
ap_entry32:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $1, %eax
    lock xadd %eax, ap_next_index
    mov %eax, %esi                  /* this AP's index, 1.. */
    mov %eax, %ecx
    inc %ecx
    shl $AP_STACK_SHIFT, %ecx
    lea ap_stacks(%ecx), %esp
    call enter_long_mode
    .code64
    mov %esi, %edi
    call ap_main
7:  cli
    hlt
    jmp 7b

    .section .data
    .globl entry_fcw, entry_fsw
entry_fcw: .word 0xdead
entry_fsw: .word 0xdead
    .balign 16
    .globl gdt
gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00af9a000000ffff        /* 0x08 ring-0 code, 64-bit (L=1) */
    .quad 0x00cf92000000ffff        /* 0x10 ring-0 data */
    .quad 0x00cffa000000ffff        /* 0x18 ring-3 code, 32-bit (unused) */
    .quad 0x00cff2000000ffff        /* 0x20 ring-3 data */
    .quad 0x00affa000000ffff        /* 0x28 ring-3 code, 64-bit */
    .quad 0x00cf9a000000ffff        /* 0x30 ring-0 code, 32-bit */
    .quad 0, 0                      /* 0x38 TSS, filled by tss_init() */
    .fill GDT_ENTRIES - GDT_FIRST_FREE, 8, 0
gdt_end:
    .globl gdt_ptr
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .globl ap_next_index
ap_next_index:
    .long 1

    .section .bss
    .balign 4096
    .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
    .space 4096
boot_pdpt:
    .space 4096
boot_pd:
    .space 4 * 4096
    .balign 16
    .space BOOT_STACK_SIZE
    .globl boot_stack_top
boot_stack_top:
    .globl ap_stacks
    .balign 16
ap_stacks:
    .space AP_STACK_SIZE * MAX_CPUS
