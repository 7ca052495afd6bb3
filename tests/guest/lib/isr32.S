/*
 * Kite guest test runtime: interrupt entry stubs, i386 build.
 *
 * 256 stubs, 16 bytes apart, so idt.c computes stub address = isr_stubs +
 * 16 * vector.  Each pushes a zero where the CPU pushes no error code (error
 * codes: vectors 8, 10-14, 17, 21, 29, 30; SDM vol. 3A 6.13 and table 6-1),
 * then the vector, so every frame has the same IntFrame layout (kernel.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "asm.h"

    .altmacro
    .macro ISR_STUB vec
    .balign 16
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushl $0
    .endif
    pushl $\vec
    jmp isr_common
    .endm

    .text
    .code32
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    ISR_STUB %vec
    .set vec, vec + 1
    .endr

isr_common:
    pushal
    push %ds
    push %es
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %esp, %eax
    push %eax                       /* IntFrame * */
    cld
    call isr_dispatch
    add $4, %esp
    pop %es
    pop %ds
    popal
    add $8, %esp                    /* vector and error code */
    /* Returning to ring 3 needs IRET.  Returning to ring 0 avoids it: KVM's
     * instruction emulator implements IRET for real mode only (em_iret), and
     * hosts that emulate ring-0 guest code (kvm_pvm on the CI machines) stop
     * with "emulation failure" on a protected-mode IRET.  POPF + RET $4 has
     * the same effect when CS does not change: the frame EIP, CS, EFLAGS is
     * rewritten to EFLAGS, EIP and the CS slot dropped by RET's operand.
     * exceptions.c still checks a real same-privilege IRET. */
    testb $3, 4(%esp)
    jnz 1f
    push %eax
    mov 4(%esp), %eax               /* EIP */
    xchg %eax, 12(%esp)             /* EIP into the EFLAGS slot, EFLAGS in eax */
    mov %eax, 4(%esp)               /* EFLAGS where EIP was */
    mov 12(%esp), %eax              /* EIP ... */
    mov %eax, 8(%esp)               /* ... into the CS slot */
    pop %eax
    popfl
    ret $4
1:  iret
