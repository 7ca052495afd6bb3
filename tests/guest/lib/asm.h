/*
 * Kite guest test runtime: constants shared by the assembly and C parts.
 * Only #defines, so both .S and .c files include it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

/* Multiboot v1 header (Multiboot Specification 0.6.96, 3.1.1). */
#define MB_MAGIC        0x1badb002
#define MB_FLAGS        0x00000003  /* page-align modules, want memory info */
#define MB_BOOT_MAGIC   0x2badb002  /* in EAX at entry (3.2) */

/* GDT layout.  SEL_DATA is flat ring-0 data in both builds. */
#define GDT_ENTRIES     16
#define SEL_DATA        0x10
#ifdef __x86_64__
#define SEL_CODE64      0x08
#define SEL_UCODE32     0x18        /* SYSRET layout: STAR[63:48] = 0x18 */
#define SEL_UDATA       0x20        /*   SS = STAR[63:48] + 8 */
#define SEL_UCODE64     0x28        /*   CS = STAR[63:48] + 16 (SDM vol. 2B SYSRET) */
#define SEL_CODE32      0x30        /* entry code and the AP trampoline */
#define SEL_TSS         0x38        /* a 16-byte descriptor */
#define GDT_FIRST_FREE  9
#else
#define SEL_CODE32      0x08
#define GDT_FIRST_FREE  3
#endif

#define MAX_CPUS        16
#define BOOT_STACK_SIZE 16384
#define AP_STACK_SHIFT  13
#define AP_STACK_SIZE   (1 << AP_STACK_SHIFT)

/* The AP start-up trampoline is copied here: SIPI vector 0x08 starts the AP
 * in real mode at 0800:0000 (SDM vol. 3A 8.4.4.1 / 10.6.1 "Startup").  Below
 * QEMU's multiboot info at 0x9000, which we have copied by then anyway. */
#define AP_TRAMPOLINE_ADDR 0x8000

#endif /* GUEST_ASM_H */
