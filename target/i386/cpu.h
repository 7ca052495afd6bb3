/*
 * x86 CPU: architectural state and the interface of the built-in interpreter.
 *
 * CPUX86State is a plain struct of architectural state (registers, segment caches,
 * control/debug registers, MSR values, x87/SSE state).  Both the interpreter
 * (target/i386/tcg) and the KVM glue use it: the KVM glue copies it to and from the
 * kernel's kvm_regs/kvm_sregs/kvm_fpu, the interpreter runs on it directly.
 *
 * The interpreter talks to the machine only through X86MachineOps (guest RAM pages,
 * MMIO, port I/O, interrupt acknowledge, clock, board MSRs), so it can be driven by a
 * board, a unit test or a differential tester alike.  It includes nothing from hw/,
 * accel/ or system/.
 *
 * Threading: x86_cpu_interrupt() and x86_cpu_interrupt_clear() may be called from any
 * thread; everything else from the thread that runs the vCPU.  vCPUs sharing an
 * X86CodeCache must all run on one thread (round-robin).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_CPU_H
#define TARGET_I386_CPU_H

#include "kite/osdep.h"

/* General-purpose registers, in encoding order (SDM vol. 2A, 2.1.5, table 2-2). */
enum {
    R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

/* Segment registers, in encoding order (SDM vol. 2A, 3.1.1.3). */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

/* EFLAGS (SDM vol. 1, 3.4.3). */
#define X86_EFLAGS_CF   0x00000001u
#define X86_EFLAGS_FIXED 0x00000002u    /* reserved, always 1 */
#define X86_EFLAGS_PF   0x00000004u
#define X86_EFLAGS_AF   0x00000010u
#define X86_EFLAGS_ZF   0x00000040u
#define X86_EFLAGS_SF   0x00000080u
#define X86_EFLAGS_TF   0x00000100u
#define X86_EFLAGS_IF   0x00000200u
#define X86_EFLAGS_DF   0x00000400u
#define X86_EFLAGS_OF   0x00000800u
#define X86_EFLAGS_IOPL 0x00003000u
#define X86_EFLAGS_IOPL_SHIFT 12
#define X86_EFLAGS_NT   0x00004000u
#define X86_EFLAGS_RF   0x00010000u
#define X86_EFLAGS_VM   0x00020000u
#define X86_EFLAGS_AC   0x00040000u
#define X86_EFLAGS_VIF  0x00080000u
#define X86_EFLAGS_VIP  0x00100000u
#define X86_EFLAGS_ID   0x00200000u
#define X86_EFLAGS_OSZAPC (X86_EFLAGS_OF | X86_EFLAGS_SF | X86_EFLAGS_ZF | \
                           X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF)

/* CR0 / CR4 / EFER bits (SDM vol. 3A, 2.5 and 2.2.1). */
#define X86_CR0_PE  (1u << 0)
#define X86_CR0_MP  (1u << 1)
#define X86_CR0_EM  (1u << 2)
#define X86_CR0_TS  (1u << 3)
#define X86_CR0_ET  (1u << 4)
#define X86_CR0_NE  (1u << 5)
#define X86_CR0_WP  (1u << 16)
#define X86_CR0_AM  (1u << 18)
#define X86_CR0_NW  (1u << 29)
#define X86_CR0_CD  (1u << 30)
#define X86_CR0_PG  (1u << 31)

#define X86_CR4_VME        (1u << 0)
#define X86_CR4_PVI        (1u << 1)
#define X86_CR4_TSD        (1u << 2)
#define X86_CR4_DE         (1u << 3)
#define X86_CR4_PSE        (1u << 4)
#define X86_CR4_PAE        (1u << 5)
#define X86_CR4_MCE        (1u << 6)
#define X86_CR4_PGE        (1u << 7)
#define X86_CR4_PCE        (1u << 8)
#define X86_CR4_OSFXSR     (1u << 9)
#define X86_CR4_OSXMMEXCPT (1u << 10)

#define X86_EFER_SCE (1u << 0)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define X86_EFER_NXE (1u << 11)

/*
 * Hidden part of a segment register.  attr uses the 12-bit packing of the AMD VMCB
 * segment "attrib" field (APM vol. 2, 15.5.1): descriptor bits 40-47 in bits 0-7 and
 * bits 52-55 in bits 8-11.  limit is byte granular (already scaled by G).
 */
#define X86_SEG_TYPE_MASK  0x00f
#define X86_SEG_TYPE_A     0x001     /* accessed */
#define X86_SEG_TYPE_RW    0x002     /* data: writable; code: readable */
#define X86_SEG_TYPE_EC    0x004     /* data: expand-down; code: conforming */
#define X86_SEG_TYPE_CODE  0x008
#define X86_SEG_S          0x010     /* code/data (1) or system (0) */
#define X86_SEG_DPL_SHIFT  5
#define X86_SEG_DPL_MASK   0x060
#define X86_SEG_P          0x080
#define X86_SEG_AVL        0x100
#define X86_SEG_L          0x200     /* 64-bit code segment */
#define X86_SEG_DB         0x400
#define X86_SEG_G          0x800

typedef struct X86Segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint16_t attr;
} X86Segment;

typedef struct X86DescTable {
    uint64_t base;
    uint16_t limit;
} X86DescTable;

/* An x87 data register in memory layout (FXSAVE, SDM vol. 1, 10.5.1): MMX aliases mant. */
typedef struct X86FPReg {
    uint64_t mant;
    uint16_t sign_exp;
    uint16_t pad[3];
} X86FPReg;

typedef union X86XMMReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t l[4];
    uint64_t q[2];
    float s[4];
    double d[2];
} __attribute__((aligned(16))) X86XMMReg;

/* MTRRs kept for read-back (SDM vol. 3A, 11.11): 8 variable pairs, 11 fixed. */
#define X86_MTRR_VCNT 8

typedef struct CPUX86State {
    /*
     * gpr_ext[16] is RIP.  gpr_ext[17] is always zero: the interpreter's address
     * computation reads it for "no base" / "no index" instead of branching (through the
     * union, so indexing past regs[15] is defined behaviour).  While
     * the interpreter runs a trace, rip holds the linear-offset of the trace's
     * first instruction; between x86_cpu_exec() calls it is the architectural RIP.
     */
    union {
        uint64_t gpr_ext[18];
        struct {
            uint64_t regs[16];
            uint64_t rip;
            uint64_t zero;
        };
    };

    /*
     * EFLAGS.  OF/SF/ZF/AF/PF/CF are kept lazily in cc_res/cc_aux (see
     * tcg/flags.h); every other bit lives in eflags.  Read and write the full value
     * with x86_cpu_get_eflags()/x86_cpu_set_eflags().
     */
    uint64_t cc_res;
    uint64_t cc_aux;
    uint32_t eflags;
    uint32_t hflags;          /* derived mode bits, see X86_HF_*; x86_cpu_sync_state() */

    X86Segment segs[6];       /* ES CS SS DS FS GS */
    X86Segment ldt, tr;
    X86DescTable gdt, idt;

    uint64_t cr[5];           /* CR0, (CR1 unused), CR2, CR3, CR4 */
    uint64_t efer;
    uint64_t dr[8];
    uint8_t tpr;              /* CR8 when the machine has no TPR hook */

    /* MSRs (SDM vol. 4, table 2-2; APM vol. 2, appendix A). */
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    int64_t tsc_offset;       /* TSC = clock_ns (1 GHz) + tsc_offset */
    uint64_t tsc_aux;
    uint64_t misc_enable;
    uint64_t hwcr;            /* AMD HWCR, kept for read-back */
    uint64_t syscfg;          /* AMD SYSCFG: only the MTRR/DRAM bits, kept for read-back */
    uint64_t mtrr_deftype;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[X86_MTRR_VCNT][2];   /* base, mask */

    /* x87 (SDM vol. 1, 8.1): fpregs are physical R0-R7, ST(i) = R[(fpstt + i) & 7]. */
    X86FPReg fpregs[8];
    uint16_t fpuc;
    uint16_t fpus;            /* status word with TOP (bits 11-13) cleared */
    uint8_t fpstt;            /* TOP */
    uint8_t fptag_valid;      /* bit i: R(i) is not empty (FXSAVE's abridged tag) */
    uint16_t fpop;
    uint64_t fpip, fpdp;
    uint16_t fpcs, fpds;

    /* SSE (SDM vol. 1, 10.2). */
    X86XMMReg xmm[16];
    uint32_t mxcsr;

    /* Run state. */
    bool halted;              /* HLT executed; an interrupt or NMI wakes the CPU */
    bool wait_sipi;           /* after INIT on an AP: only SIPI restarts it */
    bool int_shadow;          /* STI / MOV SS: interrupts inhibited for one insn */
    bool nmi_blocked;         /* NMI handler running until IRET */
    bool a20_masked;          /* A20 gate closed: physical bit 20 forced to 0 */
    uint8_t sipi_vector;
} CPUX86State;

/* hflags: derived from the state above by x86_cpu_sync_state(). */
#define X86_HF_CPL_MASK 0x3
#define X86_HF_PE   (1u << 2)    /* CR0.PE */
#define X86_HF_VM   (1u << 3)    /* virtual-8086 mode */
#define X86_HF_LMA  (1u << 4)    /* IA-32e mode active */
#define X86_HF_CS64 (1u << 5)    /* 64-bit code segment */
#define X86_HF_CS32 (1u << 6)    /* CS.D: 32-bit default operand/address size */
#define X86_HF_SS32 (1u << 7)    /* SS.B: 32-bit stack pointer */
#define X86_HF_PG   (1u << 8)    /* CR0.PG */

/*
 * What the interpreter needs from the machine.  All callbacks get the opaque pointer
 * given to x86_cpu_new() (one per vCPU, so the glue knows which LAPIC is meant).
 */
typedef struct X86MachineOps {
    /*
     * Host pointer to the start of the 4 KiB guest-physical page containing paddr if
     * it is RAM (or ROM, for reads), else NULL: the access then goes to mmio_read /
     * mmio_write.  For write == true, NULL too when the page must not be written
     * directly (ROM, dirty tracking).  The pointer stays valid until the glue calls
     * x86_cpu_tlb_flush_all().
     */
    uint8_t *(*ram_page)(void *opaque, uint64_t paddr, bool write);
    /*
     * Optional, for RAM pages whose writes must be recorded (dirty logging: the display's
     * framebuffer, migration): the host page for writing, with *log set to what
     * note_write needs, or NULL (then writes go to mmio_write).  Stores go to host memory
     * and are followed by note_write(opaque, log, host address written, size), which must
     * be callable without the BQL.
     */
    uint8_t *(*ram_page_logged)(void *opaque, uint64_t paddr, void **log);
    void (*note_write)(void *opaque, void *log, const uint8_t *host, unsigned size);
    uint64_t (*mmio_read)(void *opaque, uint64_t paddr, unsigned size);
    void (*mmio_write)(void *opaque, uint64_t paddr, uint64_t val, unsigned size);
    uint32_t (*pio_read)(void *opaque, uint16_t port, unsigned size);
    void (*pio_write)(void *opaque, uint16_t port, uint32_t val, unsigned size);
    /* Vector of the highest-priority pending interrupt (acknowledging it), or -1. */
    int (*ack_interrupt)(void *opaque);
    /* Virtual clock in ns; the TSC runs at 1 GHz from it.  NULL: TSC counts insns. */
    uint64_t (*clock_ns)(void *opaque);
    /* MSRs the board owns (APIC base, x2APIC, TSC deadline...); false => #GP. */
    bool (*msr_read)(void *opaque, uint32_t msr, uint64_t *val);
    bool (*msr_write)(void *opaque, uint32_t msr, uint64_t val);
    /* CR8 <-> local APIC TPR (bits 7:4 of the TPR); NULL => kept in env.tpr. */
    uint8_t (*get_tpr)(void *opaque);
    void (*set_tpr)(void *opaque, uint8_t cr8);
    /* With debug breakpoints on: is the INT3 at linear address la a debugger's? */
    bool (*debug_bp_hit)(void *opaque, uint64_t la);
} X86MachineOps;

typedef struct X86CPU X86CPU;
typedef struct X86CodeCache X86CodeCache;

/* Bits of the interrupt_request word (x86_cpu_interrupt). */
#define X86_INT_HARD (1u << 0)   /* maskable interrupt pending (level: clear it yourself) */
#define X86_INT_NMI  (1u << 1)   /* edge: consumed when delivered */
#define X86_INT_INIT (1u << 2)   /* edge */
#define X86_INT_SIPI (1u << 3)   /* edge; vector from x86_cpu_sipi() */
#define X86_INT_EXIT (1u << 4)   /* make x86_cpu_exec() return soon; consumed */

/* Why x86_cpu_exec() returned. */
typedef enum X86ExitReason {
    X86_EXIT_BUDGET,     /* max_insns executed */
    X86_EXIT_REQUEST,    /* X86_INT_EXIT was set */
    X86_EXIT_HLT,        /* halted (HLT, or waiting for SIPI): sleep until an interrupt */
    X86_EXIT_SHUTDOWN,   /* triple fault */
    X86_EXIT_DEBUG,      /* reached a stop address set with x86_cpu_set_stop_rip() */
} X86ExitReason;

/* Code cache: decoded traces keyed by guest-physical address; shareable by vCPUs. */
X86CodeCache *x86_code_cache_new(void);
void x86_code_cache_unref(X86CodeCache *cache);
/* Guest RAM changed behind the CPUs' back (DMA, loader): drop decoded code there. */
void x86_code_cache_invalidate(X86CodeCache *cache, uint64_t paddr, uint64_t len);
void x86_code_cache_flush(X86CodeCache *cache);

/* cache NULL: the CPU gets a private code cache. */
X86CPU *x86_cpu_new(const X86MachineOps *ops, void *opaque, X86CodeCache *cache);
void x86_cpu_free(X86CPU *cpu);
CPUX86State *x86_cpu_env(X86CPU *cpu);
X86CodeCache *x86_cpu_code_cache(X86CPU *cpu);
void x86_cpu_set_apic_id(X86CPU *cpu, uint32_t apic_id);
/* Logical processors a package (cores x threads, >= 1), for CPUID leaves 1 and 80000008h. */
void x86_cpu_set_package_cpus(X86CPU *cpu, uint32_t n);
/* -smp topology a package: cores x threads (CPUID leaves 1, 0Bh, 80000008h). */
void x86_cpu_set_topology(X86CPU *cpu, uint32_t cores, uint32_t threads);
/* Power-on / RESET state (SDM vol. 3A, 9.1.1); bsp false: wait for SIPI after INIT. */
void x86_cpu_reset(X86CPU *cpu);

/*
 * Run up to max_insns instructions (exactly that many if nothing else stops it).
 * Returns why it stopped; *executed (if not NULL) gets the count.
 */
X86ExitReason x86_cpu_exec(X86CPU *cpu, int64_t max_insns, int64_t *executed);
/* Stop with X86_EXIT_DEBUG before executing the instruction at this RIP (~0: none). */
void x86_cpu_set_stop_rip(X86CPU *cpu, uint64_t rip);
/*
 * Debugger state (gdb stub): noirq - take no interrupts (single-stepping); swbp - an INT3
 * for which ops->debug_bp_hit() says yes stops with X86_EXIT_DEBUG, RIP on the INT3;
 * hw[0..n_hw) - linear addresses to stop at before executing (n_hw <= 4).
 */
void x86_cpu_set_debug(X86CPU *cpu, bool noirq, bool swbp, const uint64_t *hw, int n_hw);

void x86_cpu_interrupt(X86CPU *cpu, unsigned mask);        /* thread-safe */
void x86_cpu_interrupt_clear(X86CPU *cpu, unsigned mask);  /* thread-safe */
void x86_cpu_sipi(X86CPU *cpu, uint8_t vector);            /* thread-safe */
void x86_cpu_set_a20(X86CPU *cpu, bool enabled);

/* The memory map changed: forget every cached translation and host pointer. */
void x86_cpu_tlb_flush_all(X86CPU *cpu);

/*
 * Direct state access (firmware-like setup, KVM sync, differential testing): change
 * env fields freely, then call x86_cpu_sync_state() so derived state (hflags, TLB,
 * segment caches) follows.  EFLAGS must go through the accessors.
 */
void x86_cpu_sync_state(X86CPU *cpu);
uint32_t x86_cpu_get_eflags(const CPUX86State *env);
void x86_cpu_set_eflags(CPUX86State *env, uint32_t eflags);
/* Load a flat segment cache: selector, base, limit, attr (X86_SEG_* bits). */
void x86_cpu_set_seg(CPUX86State *env, int seg, uint16_t sel, uint64_t base,
                     uint32_t limit, uint16_t attr);
/* The x87 status word with TOP, and the full 16-bit tag word (SDM vol. 1, 8.1.7). */
uint16_t x86_cpu_get_fsw(const CPUX86State *env);
uint16_t x86_cpu_get_ftw(const CPUX86State *env);

/* CPUID as this interpreter advertises it (KVM glue may reuse it). */
void x86_cpu_cpuid(X86CPU *cpu, uint32_t leaf, uint32_t subleaf,
                   uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

/* Statistics, for benchmarks and -d: counters since x86_cpu_new(). */
typedef struct X86CPUStats {
    uint64_t insns, traces_run, traces_built, trace_cache_flushes, smc_invalidations,
             tlb_flushes, tlb_misses, exceptions, interrupts;
} X86CPUStats;
void x86_cpu_get_stats(X86CPU *cpu, X86CPUStats *stats);

#endif
