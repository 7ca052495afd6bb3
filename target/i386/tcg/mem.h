/*
 * Guest memory access from op handlers: effective address, segmentation, and the
 * software-TLB fast path (one compare, then a host load/store).  Everything else
 * (page walks, MMIO, page-crossing accesses, self-modifying-code checks) is in the
 * out-of-line slow paths of mmu.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_MEM_H
#define TARGET_I386_TCG_MEM_H

#include "target/i386/tcg/internal.h"

/* Access kinds for the slow paths and page walks. */
#define X86_ACC_READ   0
#define X86_ACC_WRITE  1
#define X86_ACC_EXEC   2
#define X86_ACC_TYPE   3
#define X86_ACC_SUPER  0x10   /* implicit supervisor access (GDT, IDT, TSS) */
#define X86_ACC_STACK  0x20   /* fault as #SS rather than #GP */

extern const uint64_t x86_amask[3];

/* Cold: the compiler keeps them out of the op handlers' straight-line fast path. */
uint64_t x86_ld_slow(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                     unsigned acc) __attribute__((cold));
/*
 * Bulk stores (REP MOVS/STOS) to a dirty-logged RAM page holding no decoded code: the host
 * pointer for size bytes at la within one page, with *log for note_write, or NULL.  The
 * caller writes the whole run and then records it with one note_write, instead of one
 * slow-path store and one record per element.
 */
uint8_t *x86_tlb_w_logged(X86CPU *cpu, uint64_t la, unsigned size, void **log);
void x86_st_slow(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                 uint64_t val, unsigned acc) __attribute__((cold));
/* Legacy-mode segment limit/rights check; returns the linear address (seg.c). */
uint64_t x86_seg_la_check(X86CPU *cpu, const KiteOp *op, int seg, uint64_t ea,
                          unsigned size, bool write);

static inline uint64_t x86_ea(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t ea = env->gpr_ext[op->base] + (env->gpr_ext[op->index] << op->scale) +
                  (int64_t)op->disp;
    return ea & x86_amask[op->asize];
}

/* Linear address of seg:ea for an access of size bytes. */
static inline uint64_t x86_seg_la(X86CPU *cpu, const KiteOp *op, int seg, uint64_t ea,
                                  unsigned size, bool write)
{
    if (unlikely(cpu->seg_checks)) {
        return x86_seg_la_check(cpu, op, seg, ea, size, write);
    }
    return cpu->seg_base[seg] + ea;
}

/* Linear address of the op's memory operand. */
static inline uint64_t x86_op_la(X86CPU *cpu, const KiteOp *op, unsigned size, bool write)
{
    return x86_seg_la(cpu, op, op->seg, x86_ea(cpu, op), size, write);
}

/*
 * Host pointer for a size-byte access at la, or NULL if the slow path must handle it.
 * The entry is chosen by la's page and compared with the page of the last byte, so a
 * page-crossing access misses without a separate test.
 */
static inline uint8_t *x86_tlb_r(X86CPU *cpu, uint64_t la, unsigned size)
{
    const X86TLBEntry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_r == ((la + size - 1) & X86_PAGE_MASK))) {
        return (uint8_t *)(uintptr_t)(la + e->addend);
    }
    return NULL;
}

static inline uint8_t *x86_tlb_w(X86CPU *cpu, uint64_t la, unsigned size)
{
    const X86TLBEntry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)];
    if (likely(e->tag_w == ((la + size - 1) & X86_PAGE_MASK))) {
        return (uint8_t *)(uintptr_t)(la + e->addend);
    }
    return NULL;
}

/*
 * The loads and stores test the tag themselves rather than a pointer from x86_tlb_r/w:
 * la + addend may be any value, so the compiler cannot drop a NULL test on it.
 */
/*
 * Host address of the op's memory operand when the access can go straight to host
 * memory: 64-bit mode (no limit or rights checks) and a TLB hit for the whole access.
 * NULL otherwise.  Hot handlers test this first and otherwise tail-call their full
 * form (see X86_FAST_OP in ops-int-tmpl.h): with no call left on the fast path, it
 * needs no stack frame, where the full form saves and restores registers around its
 * slow-path calls on every run.  (Always inlined: GCC otherwise kept ~280 out-of-line
 * calls to them in the handlers, which brought the frames back.)
 */
static inline __attribute__((always_inline))
uint8_t *x86_op_host_r(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    if (unlikely(cpu->seg_checks)) {
        return NULL;
    }
    return x86_tlb_r(cpu, cpu->seg_base[op->seg] + x86_ea(cpu, op), size);
}

static inline __attribute__((always_inline))
uint8_t *x86_op_host_w(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    if (unlikely(cpu->seg_checks)) {
        return NULL;
    }
    return x86_tlb_w(cpu, cpu->seg_base[op->seg] + x86_ea(cpu, op), size);
}

#define X86_DEF_LDST(SZ, T) \
static inline T x86_ld##SZ(X86CPU *cpu, const KiteOp *op, uint64_t la) \
{ \
    const X86TLBEntry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)]; \
    if (likely(e->tag_r == ((la + sizeof(T) - 1) & X86_PAGE_MASK))) { \
        T v; \
        memcpy(&v, (const void *)(uintptr_t)(la + e->addend), sizeof(T)); \
        return v; \
    } \
    return x86_ld_slow(cpu, op, la, sizeof(T), X86_ACC_READ); \
} \
static inline void x86_st##SZ(X86CPU *cpu, const KiteOp *op, uint64_t la, T v) \
{ \
    const X86TLBEntry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (X86_TLB_SIZE - 1)]; \
    if (likely(e->tag_w == ((la + sizeof(T) - 1) & X86_PAGE_MASK))) { \
        memcpy((void *)(uintptr_t)(la + e->addend), &v, sizeof(T)); \
        return; \
    } \
    x86_st_slow(cpu, op, la, sizeof(T), v, X86_ACC_WRITE); \
}

X86_DEF_LDST(8, uint8_t)
X86_DEF_LDST(16, uint16_t)
X86_DEF_LDST(32, uint32_t)
X86_DEF_LDST(64, uint64_t)

/* Size-generic forms for rarely used paths. */
static inline uint64_t x86_ldn(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size)
{
    switch (size) {
    case 1: return x86_ld8(cpu, op, la);
    case 2: return x86_ld16(cpu, op, la);
    case 4: return x86_ld32(cpu, op, la);
    default: return x86_ld64(cpu, op, la);
    }
}

static inline void x86_stn(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                           uint64_t v)
{
    switch (size) {
    case 1: x86_st8(cpu, op, la, v); break;
    case 2: x86_st16(cpu, op, la, v); break;
    case 4: x86_st32(cpu, op, la, v); break;
    default: x86_st64(cpu, op, la, v); break;
    }
}

/* Implicit supervisor accesses (descriptor tables, TSS, IDT): always slow path. */
static inline uint64_t x86_ld_super(X86CPU *cpu, const KiteOp *op, uint64_t la,
                                    unsigned size)
{
    return x86_ld_slow(cpu, op, la, size, X86_ACC_READ | X86_ACC_SUPER);
}

static inline void x86_st_super(X86CPU *cpu, const KiteOp *op, uint64_t la,
                                unsigned size, uint64_t v)
{
    x86_st_slow(cpu, op, la, size, v, X86_ACC_WRITE | X86_ACC_SUPER);
}

/* Make sure a write of size bytes at la would not fault (for multi-part stores). */
void x86_probe_write(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                     unsigned acc);

/* ---- mmu.c: TLB maintenance and translation ---------------------------------------- */

void x86_tlb_flush(X86CPU *cpu, bool include_global);
void x86_tlb_flush_page(X86CPU *cpu, uint64_t la);
/* Translate la for access acc; false and *err = #PF error code on failure. */
bool x86_mmu_translate(X86CPU *cpu, uint64_t la, unsigned acc, uint64_t *pa,
                       uint32_t *err);
/* Code fetch: make fetch_vpage/ppage/host describe la's page (may raise #PF). */
void x86_fetch_page(X86CPU *cpu, uint64_t la);
/* Read code bytes at la (any page), raising #PF with op NULL on failure. */
void x86_fetch_bytes(X86CPU *cpu, uint64_t la, uint8_t *buf, unsigned len);
/* A page became code: drop direct write access to it from every CPU's TLB. */
void x86_tlb_protect_code(X86CodeCache *cache, uint64_t ppage);

/* Physical memory (page walks, loaders): RAM or MMIO, little-endian. */
uint64_t x86_phys_ld(X86CPU *cpu, uint64_t pa, unsigned size);
void x86_phys_st(X86CPU *cpu, uint64_t pa, unsigned size, uint64_t val);

/* ---- stack (ops-ctrl.c) -------------------------------------------------------- */

/* Width of the stack pointer: 64-bit mode, else SS.B (SDM vol. 1, 6.2.3). */
static inline uint64_t x86_sp_mask(const X86CPU *cpu)
{
    if (cpu->env.hflags & X86_HF_CS64) {
        return ~0ULL;
    }
    return (cpu->env.hflags & X86_HF_SS32) ? 0xffffffffULL : 0xffff;
}

static inline void x86_set_sp(X86CPU *cpu, uint64_t mask, uint64_t sp)
{
    cpu->env.regs[R_ESP] = (cpu->env.regs[R_ESP] & ~mask) | (sp & mask);
}

void x86_push(X86CPU *cpu, const KiteOp *op, uint64_t v, unsigned size);
uint64_t x86_pop(X86CPU *cpu, const KiteOp *op, unsigned size);

#endif
