/*
 * Guest code for the x86 interpreter unit tests, assembled and linked at build time
 * (64-bit code at 1 MiB, 16-bit code in .text16 at 0x20000) and loaded by
 * x86-harness.c from the ELF file.  Snippets named in the C tests are functions: the
 * "alu_*" ones are position independent and end in RET, so the same bytes also run
 * on the host CPU for comparison.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

.macro SNIP name
    .globl \name
    .type \name, @function
\name:
.endm

.macro END name
    ret
    .size \name, . - \name
.endm

.macro ENDH name
    hlt
    .size \name, . - \name
.endm

    .text
    .code64

/* ---- ALU register forms: rax op= rbx -------------------------------------------- */
.irp op, add, or, adc, sbb, and, sub, xor, cmp, test
SNIP alu_\op\()8
    \op %bl, %al
END alu_\op\()8
SNIP alu_\op\()8h
    \op %bh, %ah
END alu_\op\()8h
SNIP alu_\op\()16
    \op %bx, %ax
END alu_\op\()16
SNIP alu_\op\()32
    \op %ebx, %eax
END alu_\op\()32
SNIP alu_\op\()64
    \op %rbx, %rax
END alu_\op\()64
SNIP alu_\op\()i8
    \op $0x5a, %al
END alu_\op\()i8
SNIP alu_\op\()i16
    \op $-3, %dx
END alu_\op\()i16
SNIP alu_\op\()i32
    \op $0x12345678, %ecx
END alu_\op\()i32
SNIP alu_\op\()i64
    \op $-0x5678, %r9
END alu_\op\()i64
SNIP alu_\op\()m32
    lea 1f(%rip), %rsi
    mov %eax, (%rsi)
    \op %ebx, (%rsi)
    mov (%rsi), %eax
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_\op\()m32, . - alu_\op\()m32
SNIP alu_\op\()rm16
    lea 1f(%rip), %rsi
    mov %bx, (%rsi)
    \op (%rsi), %ax
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_\op\()rm16, . - alu_\op\()rm16
.endr

/*
 * ---- CMP/TEST + Jcc: rcx = one bit per condition (O first), taken or not ------------
 * The interpreter runs a CMP/TEST and the Jcc right after it as one fused op.
 */
.macro JCC_ALL insn:vararg
    xor %ecx, %ecx
    .irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    shl $1, %rcx
    \insn
    j\cc 1f
    jmp 2f
1:  or $1, %rcx
2:
    .endr
.endm
SNIP alu_cmpj64
    JCC_ALL cmp %rbx, %rax
END alu_cmpj64
SNIP alu_cmpj32
    JCC_ALL cmp %ebx, %eax
END alu_cmpj32
SNIP alu_cmpj16
    JCC_ALL cmp %bx, %ax
END alu_cmpj16
SNIP alu_cmpj8
    JCC_ALL cmp %bl, %al
END alu_cmpj8
SNIP alu_cmpji32
    JCC_ALL cmp $0x12345678, %eax
END alu_cmpji32
SNIP alu_cmpji8
    JCC_ALL cmp $-3, %bl
END alu_cmpji8
SNIP alu_testj64
    JCC_ALL test %rbx, %rax
END alu_testj64
SNIP alu_testj8
    JCC_ALL test %bl, %al
END alu_testj8
SNIP alu_testji32
    JCC_ALL test $0x80000101, %eax
END alu_testji32
/* ALU and INC/DEC + Jcc, fused too (32 and 64 bits); rcx holds the outcomes. */
SNIP alu_aluj64
    JCC_ALL add %rbx, %rax
    JCC_ALL sub %rdx, %rax
    JCC_ALL and %rbx, %rdx
    JCC_ALL or %rsi, %rdi
    JCC_ALL xor %r8, %r9
    JCC_ALL add $0x7fffffff, %r10
    JCC_ALL sub $-0x80, %r11
    JCC_ALL and $-0x7fffffff, %r12
    JCC_ALL or $1, %r13
    JCC_ALL xor $-1, %r14
    JCC_ALL inc %r15
    JCC_ALL dec %rbx
END alu_aluj64
SNIP alu_aluj32
    JCC_ALL add %ebx, %eax
    JCC_ALL sub %edx, %eax
    JCC_ALL and %ebx, %edx
    JCC_ALL or %esi, %edi
    JCC_ALL xor %r8d, %r9d
    JCC_ALL add $0x7fffffff, %r10d
    JCC_ALL sub $-0x80, %r11d
    JCC_ALL and $0x80000001, %r12d
    JCC_ALL or $1, %r13d
    JCC_ALL xor $-1, %r14d
    JCC_ALL inc %r15d
    JCC_ALL dec %ebx
END alu_aluj32
SNIP alu_cmpjm32
    lea 3f(%rip), %rsi
    mov %eax, (%rsi)
    JCC_ALL cmp %ebx, (%rsi)
    JCC_ALL cmp (%rsi), %ebx
    JCC_ALL cmpl $-2, (%rsi)
    JCC_ALL testl $0x80000001, (%rsi)
    mov $0, %esi
    ret
3:  .quad 0
    .size alu_cmpjm32, . - alu_cmpjm32

/* ---- unary ------------------------------------------------------------------------ */
.irp op, inc, dec, neg, not
SNIP alu_\op\()8
    \op %bl
END alu_\op\()8
SNIP alu_\op\()16
    \op %bx
END alu_\op\()16
SNIP alu_\op\()32
    \op %ebx
END alu_\op\()32
SNIP alu_\op\()64
    \op %rbx
END alu_\op\()64
SNIP alu_\op\()m64
    lea 1f(%rip), %rsi
    mov %rbx, (%rsi)
    \op\()q (%rsi)
    mov (%rsi), %rbx
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_\op\()m64, . - alu_\op\()m64
.endr

/* ---- shifts and rotates: by CL, by 1, by imm ---------------------------------------- */
.irp op, rol, ror, rcl, rcr, shl, shr, sar
SNIP alu_\op\()8
    \op %cl, %al
END alu_\op\()8
SNIP alu_\op\()16
    \op %cl, %ax
END alu_\op\()16
SNIP alu_\op\()32
    \op %cl, %eax
END alu_\op\()32
SNIP alu_\op\()64
    \op %cl, %rax
END alu_\op\()64
SNIP alu_\op\()1_32
    \op $1, %eax
END alu_\op\()1_32
SNIP alu_\op\()1_8
    \op $1, %bh
END alu_\op\()1_8
SNIP alu_\op\()i7_16
    \op $7, %bx
END alu_\op\()i7_16
SNIP alu_\op\()i13_64
    \op $13, %rdx
END alu_\op\()i13_64
SNIP alu_\op\()m32
    lea 1f(%rip), %rsi
    mov %eax, (%rsi)
    \op\()l %cl, (%rsi)
    mov (%rsi), %eax
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_\op\()m32, . - alu_\op\()m32
.endr

/* ---- multiply and divide (operands chosen by the test so nothing faults) ---------- */
.irp op, mul, imul, div, idiv
SNIP alu_\op\()8
    \op %bl
END alu_\op\()8
SNIP alu_\op\()16
    \op %bx
END alu_\op\()16
SNIP alu_\op\()32
    \op %ebx
END alu_\op\()32
SNIP alu_\op\()64
    \op %rbx
END alu_\op\()64
.endr

SNIP alu_imul2_16
    imul %bx, %ax
END alu_imul2_16
SNIP alu_imul2_32
    imul %ebx, %eax
END alu_imul2_32
SNIP alu_imul2_64
    imul %rbx, %rax
END alu_imul2_64
SNIP alu_imul3_32
    imul $-7, %ebx, %eax
END alu_imul3_32
SNIP alu_imul3_64
    imul $0x12345, %rbx, %rax
END alu_imul3_64
SNIP alu_imul3_16
    imul $300, %bx, %ax
END alu_imul3_16

/* ---- bit scans and tests --------------------------------------------------------- */
.irp op, bsf, bsr, popcnt
SNIP alu_\op\()16
    \op %bx, %ax
END alu_\op\()16
SNIP alu_\op\()32
    \op %ebx, %eax
END alu_\op\()32
SNIP alu_\op\()64
    \op %rbx, %rax
END alu_\op\()64
.endr

.irp op, bt, bts, btr, btc
SNIP alu_\op\()16
    \op %cx, %ax
END alu_\op\()16
SNIP alu_\op\()32
    \op %ecx, %eax
END alu_\op\()32
SNIP alu_\op\()64
    \op %rcx, %rax
END alu_\op\()64
SNIP alu_\op\()i32
    \op $19, %eax
END alu_\op\()i32
SNIP alu_\op\()m
    lea 1f(%rip), %rsi
    mov %rax, (%rsi)
    mov %rbx, 8(%rsi)
    and $127, %ecx
    \op\()q %rcx, (%rsi)
    mov (%rsi), %rax
    mov 8(%rsi), %rbx
    mov $0, %esi
    ret
1:  .quad 0, 0
    .size alu_\op\()m, . - alu_\op\()m
.endr

.irp op, shld, shrd
SNIP alu_\op\()16
    \op %cl, %bx, %ax
END alu_\op\()16
SNIP alu_\op\()32
    \op %cl, %ebx, %eax
END alu_\op\()32
SNIP alu_\op\()64
    \op %cl, %rbx, %rax
END alu_\op\()64
SNIP alu_\op\()i64
    \op $5, %rbx, %rax
END alu_\op\()i64
.endr

/* ---- exchange and compare ---------------------------------------------------------- */
SNIP alu_cmpxchg8
    cmpxchg %cl, %bl
END alu_cmpxchg8
SNIP alu_cmpxchg32
    cmpxchg %ecx, %ebx
END alu_cmpxchg32
SNIP alu_cmpxchg64
    cmpxchg %rcx, %rbx
END alu_cmpxchg64
SNIP alu_cmpxchgm32
    lea 1f(%rip), %rsi
    mov %ebx, (%rsi)
    lock cmpxchg %ecx, (%rsi)
    mov (%rsi), %ebx
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_cmpxchgm32, . - alu_cmpxchgm32
SNIP alu_xadd16
    xadd %bx, %ax
END alu_xadd16
SNIP alu_xadd64
    xadd %rbx, %rax
END alu_xadd64
SNIP alu_xchg8
    xchg %bl, %ah
END alu_xchg8
SNIP alu_xchg32
    xchg %ebx, %eax
END alu_xchg32
SNIP alu_cmpxchg8b
    lea 1f(%rip), %rsi
    mov %rdi, (%rsi)
    cmpxchg8b (%rsi)
    mov (%rsi), %rdi
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_cmpxchg8b, . - alu_cmpxchg8b
SNIP alu_cmpxchg16b
    lea 2f(%rip), %rsi
    add $15, %rsi
    and $-16, %rsi
    cmp %rdx, %rax                  /* flags independent of where the code runs */
    mov %rdi, (%rsi)
    mov %rbp, 8(%rsi)
    cmpxchg16b (%rsi)
    mov (%rsi), %rdi
    mov 8(%rsi), %rbp
    mov $0, %esi
    ret
2:  .quad 0, 0, 0, 0
    .size alu_cmpxchg16b, . - alu_cmpxchg16b

/* ---- conversions, moves, misc ---------------------------------------------------- */
SNIP alu_conv
    mov %rax, %rbx
    cbw
    mov %rax, %rcx
    mov %rbx, %rax
    cwde
    mov %rax, %rdx
    mov %rbx, %rax
    cdqe
    mov %rax, %rsi
    mov %rbx, %rax
    cwd
    mov %rdx, %r8
    cdq
    mov %rdx, %r9
    cqo
    mov %rdx, %r10
    bswap %ebx
    mov %rbx, %r11
    bswap %rax
END alu_conv
SNIP alu_movx
    movzbl %bl, %eax
    movzwl %bx, %ecx
    movsbq %bl, %rdx
    movswq %bx, %rsi
    movslq %ebx, %rdi
    movsbw %bh, %dx
    movzbl %bh, %ecx
    movsbl %bl, %r10d
    movzbw %bl, %r11w
END alu_movx
SNIP alu_lea
    lea 0x12(%rbx,%rcx,4), %rax
    lea -0x80(%ebx,%ecx,8), %edx
    lea 7(%rbx,%rcx), %si
    lea (,%rcx,2), %rdi
END alu_lea
SNIP alu_lahf
    sahf
    lahf
END alu_lahf
SNIP alu_cmc
    cmc
    setc %bl
    stc
    setc %bh
    clc
    setc %cl
    cmc
END alu_cmc
SNIP alu_setcc
    cmp %rbx, %rax
    seto %cl
    setno %ch
    setb %dl
    setae %dh
    sete %r8b
    setne %r9b
    setbe %r10b
    seta %r11b
    sets %r12b
    setns %r13b
    setp %r14b
    setnp %r15b
    setl %sil
    setge %dil
    setle %bpl
    setg %bl
END alu_setcc
SNIP alu_cmov
    cmp %rbx, %rax
    mov $1, %ecx
    mov $2, %edx
    cmovo %rdx, %rcx
    cmovb %ecx, %r8d
    cmovae %edx, %r9d
    cmovbe %rcx, %r10
    cmova %dx, %r11w
    cmovl %ecx, %r12d
    cmovge %rdx, %r13
    cmovle %ecx, %r14d
    cmovg %edx, %r15d
    cmovs %rbx, %rsi
    cmovp %rax, %rdi
    cmovnz %rax, %rbp
END alu_cmov
/* Every condition, register forms (a handler per condition), three sizes. */
SNIP alu_cmov_all
    cmp %rbx, %rax
    mov %rdx, %rcx
    cmovo %rcx, %r8
    cmovno %ecx, %r9d
    cmovb %cx, %r10w
    cmovae %rcx, %r11
    cmove %ecx, %r12d
    cmovne %cx, %r13w
    cmovbe %rcx, %r14
    cmova %ecx, %r15d
    cmovs %rcx, %rsi
    cmovns %ecx, %edi
    cmovp %cx, %bp
    cmovnp %rcx, %rdx
    cmovl %ecx, %eax
    cmovge %rcx, %rbx
    test %r9, %r9
    cmovle %ecx, %r9d
    cmovg %rcx, %r8
    cmovnp %ecx, %r11d
    cmovns %cx, %r14w
    cmovno %rcx, %r15
    cmovne %ecx, %esi
END alu_cmov_all
SNIP alu_adc_chain
    add %rcx, %rax
    adc %rdx, %rbx
    sbb %rax, %rdx
    adc $0, %rcx
END alu_adc_chain
SNIP alu_loop
    mov $37, %ecx
    xor %eax, %eax
1:  add %ecx, %eax
    loop 1b
    mov $5, %ecx
2:  inc %edx
    cmp $3, %edx
    loopne 2b
END alu_loop
SNIP alu_stack
    push %rax
    push %rbx
    pushw $0x1234
    pushq $-5
    pop %rcx
    popw %dx
    pop %rsi
    pop %rdi
    pushf
    pop %r8
END alu_stack
SNIP alu_enter_leave
    mov %rsp, %r10
    enter $32, $0
    mov %r10, %r11
    sub %rsp, %r11
    mov %r10, %r12
    sub %rbp, %r12
    leave
    sub %rsp, %r10
END alu_enter_leave
SNIP alu_xlat
    lea 1f(%rip), %rbx
    and $15, %eax
    xlat
    mov $0, %ebx
    ret
1:  .byte 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3
    .size alu_xlat, . - alu_xlat
SNIP alu_string
    cld
    lea 1f(%rip), %rsi
    lea 64(%rsi), %rdi
    mov %rax, (%rsi)
    mov %rbx, 8(%rsi)
    mov $16, %ecx
    rep movsb
    lea 1f(%rip), %rsi
    lea 64(%rsi), %rdi
    mov $16, %ecx
    repe cmpsb
    mov %rcx, %r8
    lea 1f(%rip), %rdi
    mov $0x5a, %al
    mov $3, %ecx
    rep stosb
    lea 1f(%rip), %rdi
    mov $0x5a, %al
    mov $16, %ecx
    repe scasb
    mov %rcx, %r9
    lea 1f(%rip), %rsi
    std
    lea 7(%rsi), %rsi
    lodsb
    lodsw
    cld
    mov (%rdi), %rbx
    mov $0, %esi
    mov $0, %edi
    ret
1:  .fill 128, 1, 0
    .size alu_string, . - alu_string
SNIP alu_jcc
    xor %ecx, %ecx
    cmp %rbx, %rax
    jo 1f
    or $1, %ecx
1:  jb 2f
    or $2, %ecx
2:  je 3f
    or $4, %ecx
3:  jbe 4f
    or $8, %ecx
4:  js 5f
    or $16, %ecx
5:  jp 6f
    or $32, %ecx
6:  jl 7f
    or $64, %ecx
7:  jle 8f
    or $128, %ecx
8:  jno 9f
    or $256, %ecx
9:  jae 10f
    or $512, %ecx
10: jne 11f
    or $1024, %ecx
11: ja 12f
    or $2048, %ecx
12: jns 13f
    or $4096, %ecx
13: jnp 14f
    or $8192, %ecx
14: jge 15f
    or $16384, %ecx
15: jg 16f
    or $32768, %ecx
16:
END alu_jcc

/*
 * Dead flags: most of these instructions' flags are overwritten before anything reads
 * them, so the interpreter runs flag-less variants of them (decode.c's flag liveness);
 * the registers must come out the same.  A few are followed by readers (ADC, loads).
 */
.macro DEADSEQ s, A, B, C, D, DI, R8, R9, R10, R11, R12, R13, R14, R15, BIG
    lea 1f(%rip), %rsi
    mov %rbx, (%rsi)
    add\s %\B, %\A
    or\s $0x35, %\D
    xor\s %\C, %\D
    and\s %\DI, %\R8
    sub\s $-7, %\R9
    shl\s $3, %\R10
    shr\s $5, %\R11
    sar\s $7, %\R12
    inc\s %\R14
    neg\s %\R13
    shl\s $2, %\R13
    dec\s %\R15
    xor\s %\B, %\R15
    shl\s $\BIG, %\R14
    shr\s $\BIG, %\R11
    sar\s $\BIG, %\R10
    add\s (%rsi), %\A
    xor\s %\B, %\D
    or\s (%rsi), %\C
    add\s $5, %\DI
    and\s (%rsi), %\R8
    sub\s %\B, %\R9
    sub\s (%rsi), %\R10
    or\s %\B, %\R11
    xor\s (%rsi), %\R12
    and\s %\B, %\R13
    neg\s %\R14
    dec\s %\R15
    inc\s %\R9
    sub\s %\B, %\C
    adc\s %\D, %\A
    sar\s $1, %\B
    mov $0, %esi
    ret
1:  .quad 0
.endm
SNIP alu_dead64
    DEADSEQ q, rax, rbx, rcx, rdx, rdi, r8, r9, r10, r11, r12, r13, r14, r15, 63
    .size alu_dead64, . - alu_dead64
SNIP alu_dead32
    DEADSEQ l, eax, ebx, ecx, edx, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d, 31
    .size alu_dead32, . - alu_dead32
SNIP alu_dead16
    DEADSEQ w, ax, bx, cx, dx, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w, 20
    .size alu_dead16, . - alu_dead16
SNIP alu_dead8
    DEADSEQ b, al, bl, cl, dl, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b, 12
    .size alu_dead8, . - alu_dead8
/* Rotates and IMUL with dead flags (and two with live ones), several sizes. */
SNIP alu_deadrot
    lea 1f(%rip), %rsi
    mov %rbx, (%rsi)
    rol $5, %rax
    xor %rbx, %rcx
    ror $13, %edx
    add %ebx, %edi
    rol $3, %r8w
    sub %bx, %r9w
    ror $2, %r10b
    and %bl, %r11b
    rol $1, %r12
    or %rbx, %r12
    ror $31, %ecx
    sub %ebx, %ecx
    imul %rbx, %r13
    or %rbx, %r14
    imul $7, %ecx, %r15d
    xor %ebx, %r15d
    imul (%rsi), %ax
    add %bx, %dx
    imul $-3, (%rsi), %r8
    sub %rbx, %r8
    imul $1000, %bx, %r9w
    and %bx, %r9w
    imul %ebx, %r12d
    adc %r12d, %r10d
    rol $7, %r13
    cmovo %rax, %rcx
    ror $9, %rbp
    shl $1, %rbp
    mov $0, %esi
    ret
1:  .quad 0
    .size alu_deadrot, . - alu_deadrot
/* Register moves between dead-flag instructions: looked through, not readers. */
SNIP alu_deadmov
    add %rbx, %rax
    mov %rax, %rcx
    lea 7(%rax,%rbx,4), %rdx
    movzbl %al, %edi
    movzwl %bx, %r8d
    movsbq %cl, %r9
    movslq %edx, %r10
    mov $0x1234, %r11d
    not %r12
    xchg %r13, %r14
    nop
    sub $3, %rax
    mov %rax, %r15
    xor %rbx, %rax
END alu_deadmov

/* ---- non-differential snippets (end in HLT) -------------------------------------- */

/* Self-modifying code: patch the immediate of the next instruction. */
SNIP smc_next
    movl $42, %eax
    lea 1f(%rip), %rsi
    movl $7, 1(%rsi)                /* the imm32 of "mov $1, %ebx" below */
1:  movl $1, %ebx
    hlt
    .size smc_next, . - smc_next

/* SMC in a loop: the patched instruction already ran (and was cached) once. */
SNIP smc_loop
    xor %eax, %eax
    mov $3, %ecx
    lea 2f(%rip), %rsi
1:
2:  add $1, %eax                    /* 83 c0 01: imm8 at offset 2 */
    movb $10, 2(%rsi)
    loop 1b
    hlt
    .size smc_loop, . - smc_loop

/* A loop of one trace (the fused CMP+Jcc goes back to the trace's start). */
SNIP loop_budget
    xor %eax, %eax
    xor %ecx, %ecx
1:  add $3, %eax                    /* +4 */
    inc %ecx                        /* +7 */
    cmp $1000, %ecx                 /* +9 */
    jne 1b
    hlt
    .size loop_budget, . - loop_budget

/*
 * Trace chaining and SMC: the CALL's trace is linked to the trace it calls on the first
 * pass; on the second, the CALL's push overwrites that trace's imm64 with the return
 * address, and the chained exit must see the page's new generation.
 */
SNIP chain_smc
    mov %rsp, %r8
    mov %rsp, %rdi                  /* first pass: push onto the real stack */
    mov $2, %ecx
    jmp 1f                          /* the loop starts a trace of its own */
1:  mov %rdi, %rsp
    call 2f
3:  hlt                             /* not reached: the return address is data */
2:  movabs $0x1111111111111111, %rbx
    lea 2b+10(%rip), %rdi           /* the next push lands on the imm64, at 2b + 2 */
    dec %ecx
    jnz 1b
    mov %r8, %rsp
    lea 3b(%rip), %rdx
    hlt
    .size chain_smc, . - chain_smc

/*
 * Trace chaining and interrupts: two traces chained into a loop; on the 100th pass an
 * MMIO store raises interrupt 64 in the middle of the first, which must be taken at the
 * next trace boundary (2:), not after more chained traces.  The handler is chain_irq_isr.
 */
SNIP chain_irq
    xor %eax, %eax
    xor %esi, %esi
    mov $0xfed00078, %edi           /* X86T_MMIO_IRQ */
    lea 2f(%rip), %r9
    sti
    jmp 1f
1:  inc %eax
    cmp $100, %eax
    jne 2f
    movl $64, (%rdi)
    jmp 2f
2:  jmp 1b
    .size chain_irq, . - chain_irq

SNIP chain_irq_isr
    mov (%rsp), %rsi                /* the interrupted RIP */
    hlt
    .size chain_irq_isr, . - chain_irq_isr

/*
 * A fault right after a flag-setting instruction: the exception frame's RFLAGS must
 * hold its flags, though the XOR after the fault would overwrite them.
 */
SNIP flags_fault
    mov $100, %eax
    xor %ebx, %ebx
    mov $-1, %rcx
    xor %edx, %edx
    add $1, %rcx                    /* CF PF AF ZF */
    lea 1(%rcx), %rsi
    mov %rcx, %rdi
    div %ebx
    xor %ecx, %ecx
    hlt
    .size flags_fault, . - flags_fault

/* Divide error: handler at vector 0 records it. */
SNIP div_zero
    xor %ebx, %ebx
    mov $100, %eax
    xor %edx, %edx
    div %ebx
    hlt
    .size div_zero, . - div_zero

SNIP excp_handler_hlt
    hlt
    .size excp_handler_hlt, . - excp_handler_hlt

SNIP mmio_test
    mov $0xfed00000, %esi
    movq $0x1122334455667788, %rax
    mov %rax, (%rsi)
    movl (%rsi), %ebx
    movw $0xbeef, 8(%rsi)
    movzwl 8(%rsi), %ecx
    addl $1, 16(%rsi)
    movq 16(%rsi), %rdx
    hlt
    .size mmio_test, . - mmio_test

SNIP io_test
    mov $0xe9, %dx
    mov $'K', %al
    out %al, %dx
    mov $'i', %al
    out %al, $0xe9
    in $0x80, %al
    mov %al, %bl
    lea 1f(%rip), %rsi
    mov $3, %ecx
    rep outsb
    hlt
1:  .ascii "te!"
    .size io_test, . - io_test

/* rdi = page boundary - k: copies a qword across the boundary. */
SNIP cross_page
    mov %rax, (%rdi)
    mov (%rdi), %rbx
    addq $1, (%rdi)
    mov (%rdi), %rcx
    hlt
    .size cross_page, . - cross_page

SNIP cpuid_test
    xor %eax, %eax
    cpuid
    mov %ebx, %r8d
    mov %edx, %r9d
    mov %ecx, %r10d
    mov $1, %eax
    cpuid
    mov %edx, %r11d
    mov $0x80000001, %eax
    cpuid
    mov %edx, %r12d
    hlt
    .size cpuid_test, . - cpuid_test

/* A long REP MOVSQ / STOSQ through the fast path. */
SNIP rep_big
    cld
    mov $0x400000, %rdi
    mov $0x0101010101010101, %rax
    mov $0x20000, %ecx              /* 1 MiB */
    rep stosq
    mov $0x400000, %rsi
    mov $0x600000, %rdi
    mov $0x20000, %ecx
    rep movsq
    mov $0x600000, %rdi
    mov $0xffff8, %rbx
    mov (%rdi,%rbx), %rdx
    hlt
    .size rep_big, . - rep_big

/* Overlapping REP MOVSB forward: replicates a pattern (the classic "memset by copy"). */
SNIP rep_overlap
    cld
    mov $0x400000, %rsi
    movb $0xab, (%rsi)
    movb $0xcd, 1(%rsi)
    lea 2(%rsi), %rdi
    mov $62, %ecx
    rep movsb
    mov 0x400000+56, %rax
    hlt
    .size rep_overlap, . - rep_overlap

/* Benchmark loops. */
SNIP bench_loop
    xor %eax, %eax
    xor %edx, %edx
1:  add %rcx, %rax
    xor %rax, %rdx
    sub $1, %rcx
    jnz 1b
    hlt
    .size bench_loop, . - bench_loop

SNIP bench_mixed
    lea bench_data(%rip), %rsi
    xor %eax, %eax
1:  mov %rcx, %rdx
    and $255, %edx
    mov (%rsi,%rdx,8), %rbx
    add %rbx, %rax
    mov %rax, 8(%rsi,%rdx,8)
    call 2f
    test $3, %cl
    jz 3f
    imul $3, %rax, %rax
3:  dec %rcx
    jnz 1b
    hlt
2:  push %rbx
    shr $3, %rbx
    xor %rbx, %rax
    pop %rbx
    ret
    .size bench_mixed, . - bench_mixed

    .data
    .balign 64
bench_data:
    .fill 264, 8, 0

/* ---- 32-bit protected-mode code ----------------------------------------------------- */
    .text
    .code32
SNIP pm32_basic
    mov $0x12345678, %eax
    mov $0x10, %ebx
    add %ebx, %eax
    mov %eax, 0x8000
    movw $0x55aa, %ax
    push %eax
    pop %ecx
    lea 0x8000, %esi
    mov (%esi), %edx
    call 1f
    daa
    hlt
1:  ret
    .size pm32_basic, . - pm32_basic

/* BCD in 32-bit mode: packed add of 0x79 + 0x35 = 0x114 (DAA) and friends. */
SNIP pm32_bcd
    mov $0x79, %al
    add $0x35, %al
    daa
    setc %bl
    mov %al, %bh
    mov $0x35, %al
    sub $0x47, %al
    das
    setc %cl
    mov %al, %ch
    mov $0x0f, %ax
    add $0x03, %al
    aaa
    mov %ax, %dx
    mov $0x0102, %ax
    aad $10
    mov %ax, %si
    mov $77, %al
    aam $10
    mov %ax, %di
    hlt
    .size pm32_bcd, . - pm32_bcd

/* ---- 16-bit real-mode code (linked at 0x20000, CS = 0x2000) ---------------------- */
    .section .text16, "ax"
    .code16
SNIP rm_basic
    mov $0x1234, %ax
    mov $0x10, %bx
    add %bx, %ax
    mov %ax, %ds:0x100
    push %ax
    pop %cx
    mov $0x3000, %dx
    mov %dx, %es
    movw $0xbeef, %es:0x10
    mov %es:0x10, %si
    mov $0x100, %bx
    mov (%bx), %di
    call 1f
    hlt
1:  add $1, %ax
    ret
    .size rm_basic, . - rm_basic

/* INT 0x30 through the IVT (handler installed by the test) then IRET. */
SNIP rm_int
    mov $5, %ax
    int $0x30
    add $1, %ax
    hlt
    .size rm_int, . - rm_int
SNIP rm_int_handler
    add $100, %ax
    pushf
    pop %bx
    iret
    .size rm_int_handler, . - rm_int_handler

/* ==== system tests (test-x86-sys.c) ================================================ */

/* Mailbox per vector at 0x40000 + vec * 128: count, err, rip, cs, rflags, rsp, ss, cr2,
 * the handler's own rsp. */
#define MB(vec, off) (0x40000 + (vec) * 128 + (off))

    .text
    .code64
.macro HANDLER vec, has_err, ret
SNIP \ret\()_\vec
    .if \has_err
    pop MB(\vec, 8)
    .else
    movq $-1, MB(\vec, 8)
    .endif
    push %rax
    mov 8(%rsp), %rax
    mov %rax, MB(\vec, 16)
    mov 16(%rsp), %rax
    mov %rax, MB(\vec, 24)
    mov 24(%rsp), %rax
    mov %rax, MB(\vec, 32)
    mov 32(%rsp), %rax
    mov %rax, MB(\vec, 40)
    mov 40(%rsp), %rax
    mov %rax, MB(\vec, 48)
    mov %cr2, %rax
    mov %rax, MB(\vec, 56)
    lea 8(%rsp), %rax
    mov %rax, MB(\vec, 64)
    incq MB(\vec, 0)
    pop %rax
    .ifc \ret, h
    hlt
    .else
    iretq
    .endif
    .size \ret\()_\vec, . - \ret\()_\vec
.endm

.irp vec, 0, 1, 2, 3, 4, 5, 6, 7, 9, 16, 18, 19, 32, 64, 128
HANDLER \vec, 0, h
HANDLER \vec, 0, r
.endr
.irp vec, 8, 10, 11, 12, 13, 14, 17
HANDLER \vec, 1, h
HANDLER \vec, 1, r
.endr

/* rdi = address: load, store, fetch. */
SNIP sys_load
    mov (%rdi), %rax
    hlt
    .size sys_load, . - sys_load
SNIP sys_store
    movq $0x1234, (%rdi)
    hlt
    .size sys_store, . - sys_store
SNIP sys_jump
    jmp *%rdi
    .size sys_jump, . - sys_jump
SNIP sys_ud2
    ud2
    .size sys_ud2, . - sys_ud2
SNIP sys_int3
    int3
    mov $77, %ebx
    hlt
    .size sys_int3, . - sys_int3
SNIP sys_bad_ds
    mov $0x1234, %ax
    mov %ax, %ds
    hlt
    .size sys_bad_ds, . - sys_bad_ds
SNIP sys_invlpg
    mov (%rdi), %rax                /* old mapping */
    mov %rsi, (%rdx)                /* rdx: the PTE, rsi: new value */
    invlpg (%rdi)
    mov (%rdi), %rbx                /* new mapping */
    mov %cr3, %rcx
    mov %rcx, %cr3
    hlt
    .size sys_invlpg, . - sys_invlpg

/*
 * Trace chaining across pages: the CALL's trace is linked to the code at rdi (another
 * page) by the first pass and chains to it on the second; before the third, that page is
 * remapped (PTE at rdx := rsi) and INVLPG'd, so the chained call must not reach the old
 * code.  rbx collects each pass's EAX a nibble at a time.
 */
SNIP sys_chain_remap
    xor %ebx, %ebx
    mov $3, %ecx
    jmp 1f
1:  call *%rdi
    shl $4, %ebx
    add %eax, %ebx
    cmp $2, %ecx
    jne 2f
    mov %rsi, (%rdx)
    invlpg (%rdi)
2:  dec %ecx
    jnz 1b
    hlt
    .size sys_chain_remap, . - sys_chain_remap
SNIP sys_sti_hlt
    sti
    hlt
    mov $5, %ecx
    hlt
    .size sys_sti_hlt, . - sys_sti_hlt
SNIP sys_spin
    sti
1:  inc %rcx
    cmp $1000000, %rcx
    jb 1b
    hlt
    .size sys_spin, . - sys_spin

/* Enter CPL 3 at rdi (user code) with user stack rsi via IRETQ. */
SNIP sys_to_user
    pushq $0x23                     /* SS = UDS | 3 */
    push %rsi
    pushq $0x202                    /* IF */
    pushq $0x2b                     /* CS = UCS64 | 3 */
    push %rdi
    iretq
    .size sys_to_user, . - sys_to_user

/* User code: a system call, then privileged work that must fault. */
SNIP user_syscall
    mov $42, %edi
    syscall
    mov %rax, %r12                  /* the kernel's return value */
    mov $0xe9, %dx
    mov $'u', %al
    out %al, %dx                    /* allowed by the I/O bitmap */
    hlt                             /* #GP at CPL 3 */
    .size user_syscall, . - user_syscall
SNIP user_cli
    cli
    hlt
    .size user_cli, . - user_cli
SNIP user_load
    mov (%rdi), %rax
    hlt
    .size user_load, . - user_load
SNIP user_out80
    out %al, $0x80
    hlt
    .size user_out80, . - user_out80

/* LSTAR target: CPL 0 with the user's RSP still loaded. */
SNIP syscall_entry
    mov %rcx, 0x48000               /* user RIP */
    mov %r11, 0x48008               /* user RFLAGS */
    mov %rdi, 0x48010
    pushfq
    pop %rax
    mov %rax, 0x48018               /* RFLAGS after FMASK */
    mov %cs, %eax
    mov %eax, 0x48020
    mov %ss, %eax
    mov %eax, 0x48028
    lea 1(%rdi), %rax
    sysretq
    .size syscall_entry, . - syscall_entry

/* Real mode -> protected mode -> long mode, as a boot loader does it. */
    .code32
SNIP pm_entry32
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7f000, %esp
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $0x10000, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax            /* PG: IA-32e mode becomes active */
    mov %eax, %cr0
    ljmp $0x08, $lm_entry64
    .size pm_entry32, . - pm_entry32
    .code64
SNIP lm_entry64
    mov $0x10, %ax
    mov %ax, %ds
    mov $0xc0000080, %ecx
    rdmsr
    mov %eax, %ebx
    movabs $0x123456789abcdef0, %rax
    hlt
    .size lm_entry64, . - lm_entry64

    .section .text16, "ax"
    .code16
SNIP rm_to_long
    cli
    lgdtl %cs:(gdtr_rm - 0x20000)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x30, $pm_entry32
    .size rm_to_long, . - rm_to_long
    .balign 8
gdtr_rm:
    .word 0xff
    .long 0x1000

/* ==== floating point and vector tests (test-x86-fp.c) =============================== */
    .text
    .code64

/* SSE2 integer, xmm0 op= xmm1 */
.irp op, paddb, paddw, paddd, paddq, psubb, psubw, psubd, psubq, paddsb, paddsw, paddusb, paddusw, psubsb, psubsw, psubusb, psubusw, pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, pand, pandn, por, pxor, pcmpeqb, pcmpeqw, pcmpeqd, pcmpgtb, pcmpgtw, pcmpgtd, pavgb, pavgw, pminub, pmaxub, pminsw, pmaxsw, psadbw, punpcklbw, punpcklwd, punpckldq, punpcklqdq, punpckhbw, punpckhwd, punpckhdq, punpckhqdq, packsswb, packuswb, packssdw, unpcklps, unpckhps, unpcklpd, unpckhpd, andps, andnps, orps, xorps
SNIP sse_\op
    \op %xmm1, %xmm0
    \op %xmm10, %xmm9
END sse_\op
SNIP ssem_\op
    lea -32(%rsp), %rsp
    movdqu %xmm1, (%rsp)
    \op (%rsp), %xmm0
    lea 32(%rsp), %rsp
END ssem_\op
.endr

/* shifts by a register count (the test keeps counts small) and by immediates */
.irp op, psllw, pslld, psllq, psrlw, psrld, psrlq, psraw, psrad
SNIP sse_\op
    \op %xmm1, %xmm0
END sse_\op
.endr
SNIP sse_shift_imm
    psllw $3, %xmm0
    pslld $17, %xmm1
    psllq $33, %xmm2
    psrlw $5, %xmm3
    psrld $31, %xmm4
    psrlq $63, %xmm5
    psraw $7, %xmm6
    psrad $20, %xmm7
    psrldq $3, %xmm8
    pslldq $9, %xmm9
    psrlw $16, %xmm10
    psraw $40, %xmm11
END sse_shift_imm
SNIP sse_shuffles
    pshufd $0x1b, %xmm0, %xmm1
    pshufhw $0x4e, %xmm2, %xmm3
    pshuflw $0xb1, %xmm4, %xmm5
    shufps $0x4e, %xmm6, %xmm7
    shufpd $1, %xmm8, %xmm9
    movhlps %xmm10, %xmm11
    movlhps %xmm12, %xmm13
    movss %xmm14, %xmm15
    movsd %xmm0, %xmm2
END sse_shuffles
SNIP sse_moves
    movd %eax, %xmm0
    movq %rbx, %xmm1
    movd %xmm2, %ecx
    movq %xmm3, %rdx
    movq %xmm4, %xmm5
    pmovmskb %xmm6, %esi
    pextrw $5, %xmm7, %edi
    pinsrw $3, %r8d, %xmm8
    movmskps %xmm9, %r9d
    movmskpd %xmm10, %r10d
    lea -64(%rsp), %rsp
    movdqu %xmm11, (%rsp)
    movdqu %xmm12, 16(%rsp)
    movss 4(%rsp), %xmm11
    movsd 8(%rsp), %xmm12
    movlps 16(%rsp), %xmm13
    movhps 24(%rsp), %xmm14
    movhpd %xmm15, 32(%rsp)
    movlpd %xmm15, 40(%rsp)
    movdqa (%rsp), %xmm15
    mov 32(%rsp), %r11
    mov 40(%rsp), %r12
    movq (%rsp), %xmm7
    lea 64(%rsp), %rsp
END sse_moves

/* SSE/SSE2 floating point */
.irp op, addps, addpd, addss, addsd, subps, subpd, subss, subsd, mulps, mulpd, mulss, mulsd, divps, divpd, divss, divsd, minps, minpd, minss, minsd, maxps, maxpd, maxss, maxsd, sqrtps, sqrtpd, sqrtss, sqrtsd, rcpps, rcpss, rsqrtps, rsqrtss, cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss, cvtdq2ps, cvtps2dq, cvttps2dq, cvtdq2pd, cvtpd2dq, cvttpd2dq
SNIP ssef_\op
    \op %xmm1, %xmm0
    \op %xmm3, %xmm2
END ssef_\op
.endr
.irp k, 0, 1, 2, 3, 4, 5, 6, 7
SNIP ssef_cmp\k
    cmpps $\k, %xmm1, %xmm0
    cmppd $\k, %xmm3, %xmm2
    cmpss $\k, %xmm5, %xmm4
    cmpsd $\k, %xmm7, %xmm6
END ssef_cmp\k
.endr
.irp op, comiss, ucomiss, comisd, ucomisd
SNIP ssef_\op
    \op %xmm1, %xmm0
    setz %al
    setp %bl
    setc %cl
END ssef_\op
.endr
SNIP ssef_cvtint
    cvtsi2ss %eax, %xmm0
    cvtsi2sd %rbx, %xmm1
    cvtsi2ssq %rcx, %xmm2
    cvtsi2sdl %edx, %xmm3
    cvtss2si %xmm4, %esi
    cvttss2si %xmm4, %rdi
    cvtsd2si %xmm5, %r8
    cvttsd2si %xmm5, %r9d
    cvtsd2si %xmm6, %r10d
    cvttss2si %xmm6, %r11d
END ssef_cvtint
SNIP ssef_mxcsr
    lea -16(%rsp), %rsp
    stmxcsr (%rsp)
    mov (%rsp), %eax
    andl $~0x3f, (%rsp)
    orl $0x6000, (%rsp)
    ldmxcsr (%rsp)
    addsd %xmm1, %xmm0
    stmxcsr 4(%rsp)
    mov 4(%rsp), %ebx
    lea 16(%rsp), %rsp
END ssef_mxcsr

/* MMX: mm0 op= mm1 loaded from rax, rbx; result to rax */
.irp op, paddb, paddw, paddd, paddq, psubb, psubw, psubd, psubq, paddsb, paddusw, psubsw, psubusb, pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, pand, pandn, por, pxor, pcmpeqb, pcmpgtw, pcmpgtd, pavgb, pminub, pmaxsw, psadbw, punpcklbw, punpcklwd, punpckldq, punpckhbw, punpckhwd, punpckhdq, packsswb, packuswb, packssdw, psllw, psrld, psraw, psrlq
SNIP mmx_\op
    movq %rax, %mm0
    movq %rbx, %mm1
    \op %mm1, %mm0
    movq %mm0, %rax
    emms
END mmx_\op
.endr
SNIP mmx_misc
    movq %rax, %mm2
    pshufw $0x93, %mm2, %mm3
    movq %mm3, %rcx
    pmovmskb %mm2, %edx
    pextrw $2, %mm2, %esi
    pinsrw $1, %ebx, %mm2
    movq %mm2, %rdi
    psllq $12, %mm2
    movq %mm2, %r8
    movd %mm2, %r9d
    emms
END mmx_misc

/* x87: double inputs in rax (a) and rbx (b); 80-bit result in rax:rdx */
.macro X87_2 name, insn
SNIP x87_\name
    fninit                          /* a defined status word to start from */
    push %rbx
    push %rax
    fldl 8(%rsp)
    fldl (%rsp)
    \insn
    lea -16(%rsp), %rsp
    fstpt (%rsp)
    fnstsw 10(%rsp)
    movzwl 10(%rsp), %ecx
    mov (%rsp), %rax
    movzwl 8(%rsp), %edx
    lea 32(%rsp), %rsp
END x87_\name
.endm
X87_2 add, "faddp"
X87_2 sub, "fsubrp"
X87_2 subr, "fsubp"
X87_2 mul, "fmulp"
X87_2 div, "fdivrp"
X87_2 divr, "fdivp"
X87_2 prem, "fprem; fstp %st(1)"
X87_2 prem1, "fprem1; fstp %st(1)"
X87_2 scale, "fscale; fstp %st(1)"
X87_2 patan, "fpatan"
X87_2 yl2x, "fyl2x"
X87_2 yl2xp1, "fyl2xp1"
X87_2 st0i, "fadd %st(0), %st(1); fstp %st(0)"
X87_2 subst, "fsub %st(1), %st(0); fstp %st(1)"
X87_2 divrst, "fdivr %st(1), %st(0); fstp %st(1)"

.macro X87_1 name, insn
SNIP x87_\name
    fninit
    push %rax
    fldl (%rsp)
    \insn
    lea -16(%rsp), %rsp
    fstpt (%rsp)
    fnstsw 10(%rsp)
    movzwl 10(%rsp), %ecx
    mov (%rsp), %rax
    movzwl 8(%rsp), %edx
    lea 24(%rsp), %rsp
END x87_\name
.endm
X87_1 sqrt, "fsqrt"
X87_1 sin, "fsin"
X87_1 cos, "fcos"
X87_1 tan, "fptan; fstp %st(0)"
X87_1 sincos, "fsincos; faddp"
X87_1 f2xm1, "f2xm1"
X87_1 rndint, "frndint"
X87_1 xtract, "fxtract; faddp"
X87_1 chs, "fchs"
X87_1 abs, "fabs"
X87_1 ldpi, "fldpi; fmulp"
X87_1 ldl2e, "fldl2e; faddp"

/* Comparisons: C3 C2 C0 via fnstsw and EFLAGS via fcomi. */
SNIP x87_compare
    fninit
    push %rbx
    push %rax
    fldl 8(%rsp)
    fldl (%rsp)
    fcom %st(1)
    fnstsw %ax
    fucomi %st(1), %st(0)
    setz %bl
    setp %bh
    setc %cl
    fcomip %st(1), %st(0)
    fxam
    fnstsw (%rsp)
    movzwl (%rsp), %edx
    ftst
    fnstsw (%rsp)
    movzwl (%rsp), %esi
    fstp %st(0)
    lea 16(%rsp), %rsp
END x87_compare

/* Integer and BCD conversions with the rounding control taken from rcx. */
SNIP x87_int
    fninit
    push %rcx
    push %rax
    fnstcw 8(%rsp)
    mov 8(%rsp), %r8w
    mov %cx, 8(%rsp)
    fldcw 8(%rsp)
    fldl (%rsp)
    fld %st(0)
    fistpll (%rsp)
    mov (%rsp), %rax
    fld %st(0)
    fistpl (%rsp)
    mov (%rsp), %ebx
    fld %st(0)
    fistps (%rsp)
    movzwl (%rsp), %edx
    lea -16(%rsp), %rsp
    fbstp (%rsp)
    mov (%rsp), %rsi
    movzwl 8(%rsp), %edi
    fbld (%rsp)
    fistpll (%rsp)
    mov (%rsp), %r9
    fildl 4(%rsp)
    fistpll (%rsp)
    mov (%rsp), %r10
    fnstsw (%rsp)
    movzwl (%rsp), %r11d
    lea 16(%rsp), %rsp
    mov %r8w, 8(%rsp)
    fldcw 8(%rsp)
    lea 16(%rsp), %rsp
END x87_int

/* Stores to float/double and the constants, under the rounding control in rcx. */
SNIP x87_store
    fninit
    lea -32(%rsp), %rsp
    fnstcw 16(%rsp)
    mov %cx, 18(%rsp)
    fldcw 18(%rsp)
    mov %rax, (%rsp)
    mov %dx, 8(%rsp)
    fldt (%rsp)
    fld %st(0)
    fstps (%rsp)
    mov (%rsp), %ebx
    fstl (%rsp)
    mov (%rsp), %rdx
    fldpi
    fmulp
    fstpl (%rsp)
    mov (%rsp), %rsi
    fldlg2
    fstpt (%rsp)
    mov (%rsp), %rdi
    fnstsw (%rsp)
    movzwl (%rsp), %r11d
    fldcw 16(%rsp)
    lea 32(%rsp), %rsp
END x87_store
