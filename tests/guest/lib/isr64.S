/*
 * Kite guest test runtime: interrupt entry stubs, x86-64 build.
 *
 * As isr32.S: 256 stubs 16 bytes apart, a zero pushed where the CPU pushes
 * no error code, then the vector.  In 64-bit mode the CPU aligns RSP to 16
 * bytes before pushing SS:RSP, RFLAGS, CS:RIP (SDM vol. 3A 6.14.2), so after
 * 2 + 15 more pushes the C handler is called with the ABI's alignment.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "asm.h"

    .altmacro
    .macro ISR_STUB vec
    .balign 16
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp isr_common
    .endm

    .text
    .code64
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    ISR_STUB %vec
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi                  /* IntFrame * */
    cld
    call isr_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector and error code */
    iretq
