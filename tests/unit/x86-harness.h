/*
 * Test harness for the x86 interpreter: a flat-RAM machine with a debug port, a
 * scratch MMIO device, guest code from tests/unit/x86-guest.S (assembled at build
 * time, loaded from its ELF), helpers to set up real, protected and long mode the way
 * firmware would, and a trampoline that runs position-independent snippets on the
 * host CPU so results can be compared with real hardware.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_X86_HARNESS_H
#define TESTS_UNIT_X86_HARNESS_H

#include "kite/osdep.h"
#include "target/i386/cpu.h"

#define X86T_RAM_SIZE     (32 * MiB)
#define X86T_MMIO_BASE    0xfed00000ULL   /* 16 x 8-byte scratch registers */
#define X86T_MMIO_IRQ     (X86T_MMIO_BASE + 0x78)  /* writing v raises interrupt v */
#define X86T_PORT_CONSOLE 0xe9
#define X86T_PORT_EXIT    0xf4

/* Fixed layout of the machine the setup helpers build (all identity mapped). */
#define X86T_GDT      0x1000
#define X86T_IDT      0x2000
#define X86T_TSS      0x3000
#define X86T_PML4     0x10000          /* + PDPT at 0x11000, 4 PDs at 0x12000 */
#define X86T_STACK    0x7f000          /* initial RSP */
#define X86T_STACK0   0x7e000          /* TSS RSP0 */
#define X86T_IST1     0x7d000
#define X86T_HLT_STUB 0x6000           /* a HLT instruction: return address of snippets */

/* GDT selectors. */
#define X86T_CS64   0x08
#define X86T_DS     0x10
#define X86T_UCS32  0x18              /* SYSRET layout: STAR[63:48] = 0x18 */
#define X86T_UDS    0x20
#define X86T_UCS64  0x28
#define X86T_CS32   0x30
#define X86T_CS16   0x38
#define X86T_DS16   0x40
#define X86T_TSSSEL 0x48

typedef struct X86T {
    X86CPU *cpu;
    CPUX86State *env;
    uint8_t *ram;
    GString *console;
    int exit_code;                    /* -1 until the guest writes X86T_PORT_EXIT */
    uint64_t mmio[16];
    unsigned mmio_reads, mmio_writes;
    int irq_vector;                   /* pending interrupt for ack_interrupt, or -1 */
    uint64_t clock;
    GHashTable *syms;                 /* name -> X86TSym */
    /* Dirty logging of [log_base, log_base + log_size) (like the VGA's VRAM): writes go
     * through ram_page_logged/note_write, which sets logged[] per 4 KiB page and counts
     * calls in note_writes.  Set before the first access there. */
    uint64_t log_base, log_size;
    bool logged[64];
    unsigned note_writes;
} X86T;

typedef struct X86TSym {
    uint64_t addr, size;
} X86TSym;

X86T *x86t_new(void);
void x86t_free(X86T *m);
uint64_t x86t_sym(X86T *m, const char *name);
uint64_t x86t_sym_size(X86T *m, const char *name);

/* Firmware-style setups; leave RIP for x86t_run(). */
void x86t_setup_real(X86T *m);
void x86t_setup_prot32(X86T *m);
void x86t_setup_long64(X86T *m);
/* Long-mode IDT gate: 64-bit interrupt (trap if trap) gate to handler. */
void x86t_set_gate64(X86T *m, int vec, uint64_t handler, int ist, int dpl, bool trap);

/* Run from rip until HLT (fails the test on anything else, unless allow_other). */
X86ExitReason x86t_run(X86T *m, uint64_t rip, int64_t max_insns);
/* Run symbol name (64-bit snippet ending in RET): returns to the HLT stub. */
void x86t_call64(X86T *m, const char *name);

/* Guest memory helpers (physical = linear in the standard setups). */
uint64_t x86t_rd(X86T *m, uint64_t pa, unsigned size);
void x86t_wr(X86T *m, uint64_t pa, unsigned size, uint64_t v);
void x86t_write_bytes(X86T *m, uint64_t pa, const void *buf, size_t len);

/* Host execution of a position-independent snippet ending in RET. */
typedef struct X86THostState {
    uint64_t regs[16];          /* offset 0 */
    uint64_t rflags;            /* 128 */
    uint64_t code;              /* 136 */
    X86XMMReg xmm[16];          /* 144 */
    uint32_t mxcsr;             /* 400 */
    uint32_t pad[3];
} X86THostState;
void x86t_host_run(X86THostState *s);
/* Copy the bytes of symbol name into executable host memory; returns the address. */
uint64_t x86t_host_code(X86T *m, const char *name);
/*
 * Differential run of a position-independent 64-bit snippet ending in RET: from the
 * same registers, RFLAGS, XMM registers and MXCSR (in; RSP ignored), once in the
 * interpreter (x87 in its FNINIT state, as the host ABI has it) and once on the host.
 */
void x86t_diff(X86T *m, const char *name, const X86THostState *in, X86THostState *guest,
               X86THostState *host);

#endif
