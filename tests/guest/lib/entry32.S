/*
 * Kite guest test runtime: multiboot v1 header and 32-bit entry (i386 build).
 *
 * The loader (QEMU's or Kite's -kernel multiboot path) enters _start in flat
 * 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = the multiboot
 * information structure (Multiboot Specification 0.6.96, 3.2 "Machine state").
 * Nothing else about its GDT, stack or IDT may be relied on, so we load our
 * own GDT and stack before touching C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "asm.h"

    /* Multiboot header, 3.1.1: magic, flags (bit 0 page-align modules, bit 1
     * memory info), checksum.  Must lie in the first 8 KiB of the file. */
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
    /* The x87 control and status words as the loader left them (reset.c checks them);
     * in .data, which the zeroing below does not touch. */
    fnstcw entry_fcw
    fnstsw entry_fsw
    /* Zero .bss first: the loader is not required to (3.1.3 covers only the
     * a.out kludge), and our stack, GDT copy and page tables live there. */
    mov %eax, %esi
    mov %ebx, %edx
    mov $__bss_start, %edi
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
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %esp
    push %edx                       /* multiboot info */
    push %esi                       /* magic */
    call runtime_start
2:  cli
    hlt
    jmp 2b

    /* Application processors arrive here from the real-mode trampoline
     * (trampoline.S) with CS = SEL_CODE32 and the kernel GDT loaded. */
    .globl ap_entry32
ap_entry32:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $1, %eax
    lock xadd %eax, ap_next_index   /* eax = this AP's index, 1.. */
    mov %eax, %ecx
    inc %ecx
    shl $AP_STACK_SHIFT, %ecx
    lea ap_stacks(%ecx), %esp       /* top of stack number index */
    push %eax
    call ap_main
3:  cli
    hlt
    jmp 3b

    .section .data
    .globl entry_fcw, entry_fsw
entry_fcw: .word 0xdead
entry_fsw: .word 0xdead
    .balign 8
    /* Flat descriptors (SDM vol. 3A 3.4.5): base 0, limit 4 GiB, G=1, D=1. */
    .globl gdt
gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00cf9a000000ffff        /* 0x08 ring-0 code, 32-bit */
    .quad 0x00cf92000000ffff        /* 0x10 ring-0 data */
    .fill GDT_ENTRIES - 3, 8, 0     /* free for tests (GDT_FIRST_FREE) */
gdt_end:
    .globl gdt_ptr
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt

    .globl ap_next_index
ap_next_index:
    .long 1

    .section .bss
    .balign 16
    .space BOOT_STACK_SIZE
    .globl boot_stack_top
boot_stack_top:
    .globl ap_stacks
    .balign 16
ap_stacks:
    .space AP_STACK_SIZE * MAX_CPUS
