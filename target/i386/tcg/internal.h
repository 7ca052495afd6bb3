/*
 * x86 interpreter: private definitions shared by the tcg/ sources.
 *
 * Execution model (see exec.c): guest code is decoded once into traces of KiteOps,
 * cached by guest-physical address and CPU mode.  Each op carries its handler; a
 * handler does its work and tail-calls the next op's handler (NEXT), so a trace runs
 * as a chain of indirect jumps.  The last op of a trace sets RIP and returns to the
 * main loop, which checks interrupts and the instruction budget between traces.
 *
 * While a trace runs, env.rip holds the RIP of its first instruction and each op
 * knows the offset of its end (next_off), so ordinary ops never touch RIP.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_INTERNAL_H
#define TARGET_I386_TCG_INTERNAL_H

#include "kite/osdep.h"
#include "kite/log.h"
#include "target/i386/cpu.h"
#include <setjmp.h>
#include <stdatomic.h>

/* ---- decoded ops ---------------------------------------------------------------- */

typedef struct KiteOp KiteOp;
typedef void KiteOpFn(X86CPU *cpu, const KiteOp *op);

/* Pseudo register numbers for KiteOp.base / .index (index into env.regs). */
#define X86_REG_RIP  16     /* RIP-relative: regs[16] is the trace's first RIP */
#define X86_REG_NONE 17     /* regs[17] is always zero */

struct KiteOp {
    KiteOpFn *exec;
    uint64_t imm;         /* immediate, or branch target relative to the trace start */
    int32_t disp;         /* memory displacement (RIP-relative: plus next_off) */
    uint16_t next_off;    /* end of this instruction, relative to the trace start */
    uint8_t len;          /* instruction length */
    uint8_t dst, src;     /* registers: index, or byte offset into regs for 8-bit regs */
    uint8_t base, index, scale;
    uint8_t seg;          /* segment of the memory operand (R_ES..R_GS) */
    uint8_t asize;        /* address size: 0 = 16, 1 = 32, 2 = 64 bits */
    uint8_t b1, b2;       /* handler specific (condition, size, second immediate...) */
};
KITE_BUILD_BUG_ON(sizeof(KiteOp) != 32);

/* Continue with the next op of the trace (a tail call). */
#define NEXT(cpu, op) do { (op)[1].exec((cpu), (op) + 1); return; } while (0)
/* After an op that may have written guest memory: stop if it hit decoded code. */
#define NEXT_W(cpu, op) do { \
        if (unlikely((cpu)->smc_hit)) { x86_trace_exit_next((cpu), (op)); return; } \
        NEXT(cpu, op); \
    } while (0)

/* ---- software TLB ------------------------------------------------------------------ */

#define X86_TLB_BITS 9
#define X86_TLB_SIZE (1u << X86_TLB_BITS)
#define X86_ITLB_BITS 8
#define X86_ITLB_SIZE (1u << X86_ITLB_BITS)
#define X86_PAGE_MASK (~(uint64_t)0xfff)
#define X86_PHYS_CACHE_SIZE 16

/*
 * tag_r / tag_w are the linear page when the access may use host memory directly;
 * otherwise one of these low bits is set, so the fast-path compare fails.
 */
#define X86_TLB_INVALID  0x1    /* no translation (or not for this access) cached */
#define X86_TLB_MMIO     0x2    /* translated, but not RAM: use the mmio ops */
#define X86_TLB_NOTDIRTY 0x4    /* RAM page holding decoded code (writes check SMC) or
                                   under dirty logging (writes are recorded: tlb_log) */

/* Flags in X86TLBEntry.paddr's low bits. */
#define X86_TLBP_GLOBAL  0x1
#define X86_TLBP_WRITE   0x2    /* paging allows writes at this privilege and D is set */

typedef struct X86TLBEntry {
    uint64_t tag_r;
    uint64_t tag_w;
    uintptr_t addend;     /* host address = linear address + addend */
    uint64_t paddr;       /* physical page | X86_TLBP_* */
} X86TLBEntry;

typedef struct X86CodePage X86CodePage;

typedef struct X86ITLBEntry {
    uint64_t vpage;       /* linear page, or 1 if invalid */
    uint64_t ppage;
    uint8_t *host;        /* NULL: code in MMIO */
    X86CodePage *page;    /* ppage's decoded-code record (NULL with host NULL) */
    uint64_t global;
} X86ITLBEntry;

/* ---- code cache ------------------------------------------------------------------ */

#define X86_TRACE_MAX_INSNS 48

struct X86CodePage {
    uint64_t lines;       /* 64-byte lines of the page holding decoded code */
    uint32_t gen;         /* bumped when the page's traces become invalid */
    uint32_t pad;
};

typedef struct X86TraceHead X86TraceHead;

typedef struct X86Trace {
    uint64_t paddr;
    uint32_t mode;        /* X86_HF_CS64 | CS32 | SS32 of the decoding */
    uint32_t gen;         /* X86CodePage.gen at decode time */
    X86TraceHead *head;   /* in the pool, followed by the ops */
} X86Trace;

/*
 * A trace's successor, remembered by the trace that ran before it (exec.c): valid while
 * paddr, mode and gen match what the table would be asked for.
 */
typedef struct X86TraceLink {
    uint64_t paddr;
    uint32_t mode, gen;
    X86TraceHead *next;
} X86TraceLink;

/* Sits in the pool just before a trace's ops (X86_TRACE_HEAD_SLOTS ops' worth). */
struct X86TraceHead {
    X86TraceLink link[2];   /* most recent successor first */
    uint16_t n_insns;
    uint16_t bytes;
};
#define X86_TRACE_HEAD_SLOTS 2
KITE_BUILD_BUG_ON(sizeof(X86TraceHead) > X86_TRACE_HEAD_SLOTS * sizeof(KiteOp));

static inline KiteOp *x86_trace_ops(X86TraceHead *h)
{
    return (KiteOp *)h + X86_TRACE_HEAD_SLOTS;
}

struct X86CodeCache {
    X86Trace *table;
    KiteOp *pool;
    size_t pool_used, pool_size;
    X86CodePage **pages;        /* two-level table by page frame number */
    GPtrArray *cpus;
    int refcount;
    uint64_t flushes, smc_invalidations, traces_built;
};

/* ---- the CPU ------------------------------------------------------------------- */

struct X86CPU {
    CPUX86State env;

    /* Hot interpreter state, derived from env by x86_cpu_sync_state(). */
    int mmu_idx;                  /* 0: supervisor accesses, 1: user (CPL 3) */
    bool seg_checks;              /* legacy modes: check limits and rights per access */
    bool smc_hit;                 /* a store hit decoded code: end the trace */
    bool pending_local;           /* halted, shadow, TF, stop address: see exec.c */
    uint64_t seg_base[6];         /* effective bases (0 for ES/CS/SS/DS in 64-bit mode) */
    uint32_t seg_lo[6], seg_hi[6];  /* valid offset range [lo, hi] (legacy modes) */
    uint8_t seg_rw[6];            /* 1: readable, 2: writable */
    uint64_t la_mask;             /* 0xffffffff outside 64-bit mode */
    int64_t icount_left;          /* instructions left in this x86_cpu_exec() */
    const KiteOp *cur_ops;        /* ops of the running trace */
    int cur_n;                    /* its instruction count */
    int loops_left;               /* times it may still loop to itself (X86_TRACE_LOOP) */

    X86TLBEntry tlb[2][X86_TLB_SIZE];
    void *tlb_log[2][X86_TLB_SIZE];  /* ram_page_logged's cookie for NOTDIRTY writes, or NULL */
    X86ITLBEntry itlb[2][X86_ITLB_SIZE];
    uint64_t tlb_large_base, tlb_large_mask;   /* region covered by large pages */
    /* Host addresses of RAM pages read by x86_phys_ld (page tables), by page number:
     * valid while host is not NULL; cleared with the whole TLB. */
    struct { uint64_t ppage; uint8_t *host; } phys_cache[X86_PHYS_CACHE_SIZE];
    uint64_t fetch_vpage;         /* page of the last code fetch (1: none) */
    uint64_t fetch_ppage;
    uint8_t *fetch_host;
    X86CodePage *fetch_page;

    X86CodeCache *cache;
    const X86MachineOps *ops;
    void *opaque;
    _Atomic uint32_t interrupt_request;
    uint32_t apic_id;
    uint32_t package_cpus;        /* logical processors a package (CPUID) */
    uint32_t pkg_cores, core_threads;   /* -smp cores= and threads= (CPUID 0Bh), >= 1 */
    uint64_t stop_rip;
    /* Debugger (x86_cpu_set_debug). */
    bool dbg_noirq, dbg_swbp, dbg_exit;
    int dbg_hw_n;
    uint64_t dbg_hw[4];

    /* Exceptions: x86_raise() long-jumps back to the main loop with these set. */
    sigjmp_buf jmp;
    bool jmp_valid;
    int excp_vec;
    uint32_t excp_err;
    int delivering;               /* vector being delivered, -1 none (double faults) */
    bool shutdown;
    uint16_t host_fcw;            /* host x87 control word outside x86_cpu_exec() */
    uint32_t host_mxcsr;
    bool mxcsr_unmasked;          /* a SIMD exception is unmasked: check each op */
    uint8_t x87_fault, mmx_fault, sse_fault;   /* #NM/#UD vector from CR0/CR4, or 0 */

    /* Scratch trace for uncached instructions (MMIO code, page crossers, stepping). */
    KiteOp scratch[4];

    X86CPUStats stats;
    uint8_t unimp_logged[4][256 / 8];  /* per opcode map: logged #UD once */
};

/* Mode bits that change how bytes decode. */
#define X86_MODE_KEY (X86_HF_CS64 | X86_HF_CS32 | X86_HF_SS32)

static inline int x86_cpl(const X86CPU *cpu)
{
    return cpu->env.hflags & X86_HF_CPL_MASK;
}

static inline bool x86_long64(const X86CPU *cpu)
{
    return (cpu->env.hflags & X86_HF_CS64) != 0;
}

/* ---- register access ------------------------------------------------------------- */

/* 8-bit registers are addressed by byte offset into regs (AH = 1, CH = 9, ...). */
#define REG8(env, off)   (((uint8_t *)(env)->regs)[off])
#define REG16(env, r)    (*(uint16_t *)&(env)->regs[r])
#define REG32(env, r)    (*(uint32_t *)&(env)->regs[r])

/* ---- exceptions (excp.c) --------------------------------------------------------- */

enum {
    EXCP_DE = 0, EXCP_DB = 1, EXCP_NMI = 2, EXCP_BP = 3, EXCP_OF = 4, EXCP_BR = 5,
    EXCP_UD = 6, EXCP_NM = 7, EXCP_DF = 8, EXCP_TS = 10, EXCP_NP = 11, EXCP_SS = 12,
    EXCP_GP = 13, EXCP_PF = 14, EXCP_MF = 16, EXCP_AC = 17, EXCP_MC = 18, EXCP_XM = 19,
};

/*
 * Raise an exception for the instruction of op (op NULL: env.rip is already the
 * faulting instruction's RIP, e.g. during decode or interrupt delivery).  Never
 * returns: long-jumps to the main loop, which delivers it.
 */
G_NORETURN void x86_raise(X86CPU *cpu, const KiteOp *op, int vec, uint32_t err);
G_NORETURN void x86_raise_pf(X86CPU *cpu, const KiteOp *op, uint64_t la, uint32_t err);
/* Log the instruction once and raise #UD. */
G_NORETURN void x86_raise_ud(X86CPU *cpu, const KiteOp *op);

/* Deliver an event through the IVT/IDT (excp.c).  next_rip: RIP to push. */
void x86_deliver(X86CPU *cpu, const KiteOp *op, int vec, bool has_err, uint32_t err,
                 bool software, uint64_t next_rip, bool external);
void x86_deliver_exception(X86CPU *cpu, int vec, uint32_t err);
bool x86_excp_has_error(int vec);

/* ---- trace exits (exec.c) ------------------------------------------------------- */

/* End the trace after op, continuing at the next instruction. */
void x86_trace_exit_next(X86CPU *cpu, const KiteOp *op);
/* End the trace after op (counted as executed), continuing at rip. */
static inline void x86_trace_exit_to(X86CPU *cpu, const KiteOp *op, uint64_t rip)
{
    cpu->icount_left += cpu->cur_n - (op - cpu->cur_ops) - 1;
    cpu->env.rip = rip;
}
/*
 * A taken near branch in 64-bit code (jop: the JMP/Jcc op, whose b2 is its index in the
 * trace; rel: the target relative to the trace start).  A branch to the start of its
 * own trace (rel 0: a loop of one trace) runs the trace again at once when nothing needs
 * the main loop: no event or SMC stop pending, budget left.  Nothing else can have
 * changed under the trace: it is 64-bit code (no segment limits) and a store into its
 * own code would have stopped it (NEXT_W).  RIP stays (it is the trace's start), and
 * the budget, charged the whole trace at its start, is charged the b2 + 1 instructions
 * that ran.  loops_left (set by the main loop) bounds the run, so that the host stack
 * stays bounded even where the compiler does not turn the handlers' calls into jumps.
 * Anything else leaves the trace.  A tail call: the handler returns after it.
 */
#define X86_LOOPS_MAX 64
#define X86_TAKEN64(cpu, jop, rel) do { \
        int64_t loop_left_ = (cpu)->icount_left - (jop)->b2 - 1; \
        if ((rel) == 0 && (cpu)->loops_left > 0 && loop_left_ >= 0 && \
            !((cpu)->smc_hit | (cpu)->pending_local | \
              atomic_load_explicit(&(cpu)->interrupt_request, memory_order_relaxed))) { \
            (cpu)->loops_left--; \
            (cpu)->icount_left = loop_left_; \
            (cpu)->stats.traces_run++; \
            (cpu)->cur_ops->exec((cpu), (cpu)->cur_ops); \
            return; \
        } \
        x86_trace_exit_to((cpu), (jop), (cpu)->env.rip + (rel)); \
        return; \
    } while (0)

/* End the trace before op (op not executed: it runs again next time). */
static inline void x86_trace_exit_before(X86CPU *cpu, const KiteOp *op)
{
    cpu->icount_left += cpu->cur_n - (op - cpu->cur_ops);
    cpu->env.rip += op->next_off - op->len;
}
static inline uint64_t x86_next_rip(X86CPU *cpu, const KiteOp *op)
{
    return cpu->env.rip + op->next_off;
}
static inline uint64_t x86_cur_rip(X86CPU *cpu, const KiteOp *op)
{
    return cpu->env.rip + op->next_off - op->len;
}

/* ---- code cache / exec ------------------------------------------------------------ */

X86CodePage *x86_code_page(X86CodeCache *cache, uint64_t paddr, bool create);
void x86_code_page_mark(X86CodeCache *cache, uint64_t paddr, unsigned len);
/* A store to RAM at paddr hit a page with decoded code (slow path of mmu.c). */
void x86_smc_check(X86CPU *cpu, uint64_t paddr, unsigned len);

/* ---- state helpers (cpu.c) ------------------------------------------------------- */

void x86_update_hflags(X86CPU *cpu);
void x86_update_pending(X86CPU *cpu);
void x86_cpu_do_init(X86CPU *cpu);
/* Deliver cpu->excp_vec after x86_raise(); false on triple fault (shutdown). */
bool x86_handle_exception(X86CPU *cpu);
/* EFLAGS bits POPF may change at the current privilege (ops-ctrl.c). */
uint32_t x86_eflags_writable(X86CPU *cpu);
/* Host FPU/SSE control state around x86_cpu_exec() (fpu.c). */
void x86_fpu_host_enter(X86CPU *cpu);
void x86_fpu_host_leave(X86CPU *cpu);
void x86_update_fp_faults(X86CPU *cpu);
void x86_update_seg_cache(X86CPU *cpu, int seg);
void x86_update_mmu_idx(X86CPU *cpu);
void x86_log_unimp(X86CPU *cpu, const uint8_t *bytes, int len, int map, int opc);

#endif
