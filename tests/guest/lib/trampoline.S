/*
 * Kite guest test runtime: application-processor start-up trampoline.
 *
 * smp.c copies the bytes between ap_trampoline_start and ap_trampoline_end to
 * AP_TRAMPOLINE_ADDR and sends INIT-SIPI-SIPI with vector AP_TRAMPOLINE_ADDR
 * >> 12.  The AP starts in real mode with CS = vector << 8, IP = 0 (SDM vol.
 * 3A 8.4.4.1), so this code only uses CS-relative addresses until it has
 * loaded the kernel GDT (whose 32-bit linear address is stored below) and
 * switched to protected mode; it then far-jumps to ap_entry32 in entry*.S.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "asm.h"

    .section .rodata.trampoline, "a"
    .code16
    .globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl tramp_gdtr - ap_trampoline_start
    mov %cr0, %eax
    or $1, %eax                     /* CR0.PE */
    mov %eax, %cr0
    /* A 32-bit far jump (66 EA) reloads CS from the new GDT and leaves
     * real mode; ap_entry32 is an absolute address above 1 MiB. */
    ljmpl $SEL_CODE32, $ap_entry32
    .balign 8
tramp_gdtr:
    .word GDT_ENTRIES * 8 - 1
    .long gdt
ap_trampoline_end:
