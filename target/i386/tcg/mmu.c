/*
 * x86 interpreter: paging and the software TLB.
 *
 * Page walks follow SDM vol. 3A chapter 4: 32-bit paging (4.3, with 4 MiB PSE
 * pages), PAE paging (4.4) and 4-level paging (4.5, with 2 MiB and 1 GiB pages),
 * accessed/dirty bits (4.8), NX and CR0.WP (4.6), page-fault error codes (4.7).
 * Not emulated: PSE-36, PCIDs, protection keys, SMEP/SMAP (none are advertised),
 * and the PAE PDPTE register cache (PDPTEs are re-read on each walk).
 *
 * The TLB is direct mapped, one array per privilege (supervisor/user), each entry
 * a 4 KiB linear page; large pages are cached 4 KiB at a time and INVLPG inside the
 * region they cover flushes everything.  The fast path lives in mem.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/mem.h"

const uint64_t x86_amask[3] = { 0xffff, 0xffffffff, ~0ULL };

#define PHYS_BITS 40      /* CPUID 0x80000008 EAX[7:0] */

#define PTE_P    0x001ULL
#define PTE_RW   0x002ULL
#define PTE_US   0x004ULL
#define PTE_A    0x020ULL
#define PTE_D    0x040ULL
#define PTE_PS   0x080ULL
#define PTE_G    0x100ULL
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR (((1ULL << PHYS_BITS) - 1) & X86_PAGE_MASK)
#define PTE_RSVD_HIGH (((1ULL << 52) - 1) & ~((1ULL << PHYS_BITS) - 1))

#define PF_P    0x01
#define PF_W    0x02
#define PF_U    0x04
#define PF_RSVD 0x08
#define PF_ID   0x10

static inline uint64_t a20(X86CPU *cpu, uint64_t pa)
{
    return cpu->env.a20_masked ? pa & ~(1ULL << 20) : pa;
}

/* ---- physical memory ------------------------------------------------------------ */

/*
 * Host address of RAM page ppage for reading, NULL if it is not RAM.  Page walks read
 * a few pages over and over, so do ITLB fills, and ram_page takes the BQL and searches
 * the memory map each time; so the last pages are remembered (phys_cache).  They stay
 * valid as long as the TLB's host addresses do: memory map changes flush the whole TLB
 * (flush_tlb from the accelerator's loop), and x86_tlb_flush(include_global) clears
 * them too.
 */
static uint8_t *phys_page_r(X86CPU *cpu, uint64_t ppage)
{
    unsigned i = (ppage >> 12) & (X86_PHYS_CACHE_SIZE - 1);
    uint8_t *host;

    if (cpu->phys_cache[i].host && cpu->phys_cache[i].ppage == ppage) {
        return cpu->phys_cache[i].host;
    }
    host = cpu->ops->ram_page(cpu->opaque, ppage, false);
    if (host) {
        cpu->phys_cache[i].ppage = ppage;
        cpu->phys_cache[i].host = host;
    }
    return host;
}

uint64_t x86_phys_ld(X86CPU *cpu, uint64_t pa, unsigned size)
{
    uint8_t *page;

    pa = a20(cpu, pa);
    if ((pa & 0xfff) + size > 4096) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= x86_phys_ld(cpu, pa + i, 1) << (8 * i);
        }
        return v;
    }
    page = phys_page_r(cpu, pa & X86_PAGE_MASK);
    if (page) {
        return ldn_le_p(page + (pa & 0xfff), size);
    }
    return cpu->ops->mmio_read(cpu->opaque, pa, size);
}

void x86_phys_st(X86CPU *cpu, uint64_t pa, unsigned size, uint64_t val)
{
    uint8_t *page;

    pa = a20(cpu, pa);
    if ((pa & 0xfff) + size > 4096) {
        for (unsigned i = 0; i < size; i++) {
            x86_phys_st(cpu, pa + i, 1, val >> (8 * i));
        }
        return;
    }
    page = cpu->ops->ram_page(cpu->opaque, pa & X86_PAGE_MASK, true);
    if (page) {
        X86CodePage *cp = x86_code_page(cpu->cache, pa, false);
        if (cp && cp->lines) {
            x86_smc_check(cpu, pa, size);
        }
        stn_le_p(page + (pa & 0xfff), size, val);
        return;
    }
    cpu->ops->mmio_write(cpu->opaque, pa, val, size);
}

/* ---- page walk ------------------------------------------------------------------- */

typedef struct X86Walk {
    uint64_t pa;
    uint64_t page_size;
    bool writable;        /* a write at this privilege would be allowed */
    bool dirty;
    bool global;
    bool exec;
} X86Walk;

/* Set A (and D) in a paging-structure entry (SDM vol. 3A, 4.8). */
static void walk_update(X86CPU *cpu, uint64_t addr, uint64_t pte, uint64_t bits,
                        unsigned size)
{
    if ((pte & bits) != bits) {
        x86_phys_st(cpu, addr, size, pte | bits);
    }
}

static bool mmu_walk(X86CPU *cpu, uint64_t la, unsigned acc, bool user, X86Walk *w,
                     uint32_t *err)
{
    CPUX86State *env = &cpu->env;
    int type = acc & X86_ACC_TYPE;
    bool is_write = type == X86_ACC_WRITE, is_exec = type == X86_ACC_EXEC;
    bool pae = env->cr[4] & X86_CR4_PAE;
    bool nxe = pae && (env->efer & X86_EFER_NXE);
    uint64_t addrs[4], ptes[4];
    int n = 0, esize = pae ? 8 : 4;
    uint64_t rw = 1, us = 1, nx = 0, pte, pa, psize;
    uint32_t code = 0;

    if (!(env->cr[0] & X86_CR0_PG)) {
        w->pa = a20(cpu, la & 0xffffffffULL);
        w->page_size = 4096;
        w->writable = w->dirty = w->exec = true;
        w->global = false;
        return true;
    }

    if (!pae) {
        /* 32-bit paging (4.3): PDE, then PTE or a 4 MiB page. */
        uint64_t pde_addr = (env->cr[3] & 0xfffff000) + ((la >> 20) & 0xffc);
        uint64_t pde = x86_phys_ld(cpu, pde_addr, 4);
        if (!(pde & PTE_P)) {
            goto not_present;
        }
        rw &= pde >> 1;
        us &= pde >> 2;
        addrs[n] = pde_addr;
        ptes[n++] = pde;
        if ((pde & PTE_PS) && (env->cr[4] & X86_CR4_PSE)) {
            pte = pde;
            psize = 4 * MiB;
            pa = (pde & 0xffc00000) | (la & 0x3fffff);
        } else {
            uint64_t pte_addr = (pde & 0xfffff000) + ((la >> 10) & 0xffc);
            pte = x86_phys_ld(cpu, pte_addr, 4);
            if (!(pte & PTE_P)) {
                goto not_present;
            }
            rw &= pte >> 1;
            us &= pte >> 2;
            addrs[n] = pte_addr;
            ptes[n++] = pte;
            psize = 4096;
            pa = (pte & 0xfffff000) | (la & 0xfff);
        }
    } else {
        uint64_t rsvd = PTE_RSVD_HIGH | (nxe ? 0 : PTE_NX);
        uint64_t table;
        int shift;

        if (env->efer & X86_EFER_LMA) {
            table = env->cr[3] & PTE_ADDR;
            shift = 39;
        } else {
            /* PAE (4.4.1): the PDPTE has no R/W, U/S or NX bits. */
            uint64_t pdpte = x86_phys_ld(cpu, (env->cr[3] & 0xffffffe0) +
                                         ((la >> 27) & 0x18), 8);
            if (!(pdpte & PTE_P)) {
                goto not_present;
            }
            table = pdpte & PTE_ADDR;
            shift = 21;
        }
        for (;;) {
            uint64_t addr = table + ((la >> shift) & 0x1ff) * 8;
            pte = x86_phys_ld(cpu, addr, 8);
            if (!(pte & PTE_P)) {
                goto not_present;
            }
            if (pte & rsvd) {
                goto reserved;
            }
            rw &= pte >> 1;
            us &= pte >> 2;
            nx |= nxe ? pte >> 63 : 0;
            addrs[n] = addr;
            ptes[n++] = pte;
            if (shift == 12) {
                psize = 4096;
                pa = (pte & PTE_ADDR) | (la & 0xfff);
                break;
            }
            if (pte & PTE_PS) {
                /* 2 MiB (4.5 table 4-18) or 1 GiB pages; PS in a PML4E is reserved. */
                psize = 1ULL << shift;
                if (shift == 39 || (pte & (psize - 1) & ~0x1fffULL)) {
                    goto reserved;
                }
                pa = (pte & PTE_ADDR & ~(psize - 1)) | (la & (psize - 1));
                break;
            }
            if (shift == 39 && (pte & PTE_PS)) {
                goto reserved;
            }
            table = pte & PTE_ADDR;
            shift -= 9;
        }
    }

    /* Access rights (4.6). */
    if (user) {
        if (!us || (is_write && !rw)) {
            goto protection;
        }
    } else if (is_write && !rw && (env->cr[0] & X86_CR0_WP)) {
        goto protection;
    }
    if (is_exec && nx) {
        goto protection;
    }

    for (int i = 0; i < n - 1; i++) {
        walk_update(cpu, addrs[i], ptes[i], PTE_A, esize);
    }
    walk_update(cpu, addrs[n - 1], pte, is_write ? PTE_A | PTE_D : PTE_A, esize);

    w->pa = a20(cpu, pa);
    w->page_size = psize;
    w->writable = user ? rw : (rw || !(env->cr[0] & X86_CR0_WP));
    w->dirty = is_write || (pte & PTE_D);
    w->global = (pte & PTE_G) && (env->cr[4] & X86_CR4_PGE);
    w->exec = !nx;
    return true;

reserved:
    code |= PF_RSVD;
protection:
    code |= PF_P;
not_present:
    if (is_write) {
        code |= PF_W;
    }
    if (user) {
        code |= PF_U;
    }
    if (is_exec && nxe) {
        code |= PF_ID;
    }
    *err = code;
    return false;
}

bool x86_mmu_translate(X86CPU *cpu, uint64_t la, unsigned acc, uint64_t *pa,
                       uint32_t *err)
{
    X86Walk w;
    bool user = !(acc & X86_ACC_SUPER) && cpu->mmu_idx == 1;

    if (!mmu_walk(cpu, la, acc, user, &w, err)) {
        return false;
    }
    *pa = w.pa;
    return true;
}

/* ---- TLB ------------------------------------------------------------------------- */

static void tlb_note_large(X86CPU *cpu, uint64_t la, uint64_t size)
{
    uint64_t mask = ~(size - 1);

    if (cpu->tlb_large_mask == 0) {
        cpu->tlb_large_base = la & mask;
        cpu->tlb_large_mask = mask;
        return;
    }
    mask &= cpu->tlb_large_mask;
    while ((la & mask) != (cpu->tlb_large_base & mask)) {
        mask <<= 1;
    }
    cpu->tlb_large_base &= mask;
    cpu->tlb_large_mask = mask;
}

static G_NORETURN void raise_noncanonical(X86CPU *cpu, const KiteOp *op, unsigned acc)
{
    x86_raise(cpu, op, (acc & X86_ACC_STACK) ? EXCP_SS : EXCP_GP, 0);
}

static inline bool is_canonical(uint64_t la)
{
    return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

static X86TLBEntry *tlb_fill(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned acc,
                             int mmu)
{
    X86Walk w;
    uint32_t err;
    uint64_t vpage = la & X86_PAGE_MASK, ppage;
    X86TLBEntry *e = &cpu->tlb[mmu][(la >> 12) & (X86_TLB_SIZE - 1)];
    uint8_t *host, *hw_first;

    if (cpu->la_mask == ~0ULL && !is_canonical(la)) {
        raise_noncanonical(cpu, op, acc);
    }
    if (!mmu_walk(cpu, la, acc, mmu == 1, &w, &err)) {
        x86_raise_pf(cpu, op, la, err);
    }
    cpu->stats.tlb_misses++;
    ppage = w.pa & X86_PAGE_MASK;
    if (w.page_size > 4096) {
        tlb_note_large(cpu, la, w.page_size);
    }
    /*
     * One trip to the memory map (and the BQL) for ordinary writable RAM: a page that
     * maps for writing maps for reading at the same host address.
     */
    hw_first = NULL;
    if (w.writable && w.dirty) {
        hw_first = cpu->ops->ram_page(cpu->opaque, ppage, true);
    }
    host = hw_first ? hw_first : phys_page_r(cpu, ppage);
    e->paddr = ppage | (w.global ? X86_TLBP_GLOBAL : 0);
    if (host) {
        e->addend = (uintptr_t)host - vpage;
        e->tag_r = vpage;
    } else {
        e->addend = 0;
        e->tag_r = vpage | X86_TLB_MMIO;
    }
    cpu->tlb_log[mmu][(la >> 12) & (X86_TLB_SIZE - 1)] = NULL;
    if (w.writable && w.dirty) {
        uint8_t *hw = hw_first;
        X86CodePage *cp;
        void *log = NULL;

        e->paddr |= X86_TLBP_WRITE;
        if (!hw && host && cpu->ops->ram_page_logged &&
            cpu->ops->ram_page_logged(cpu->opaque, ppage, &log) == host && log) {
            /* Dirty-logged RAM: direct stores, each recorded (st_page). */
            cpu->tlb_log[mmu][(la >> 12) & (X86_TLB_SIZE - 1)] = log;
            e->tag_w = vpage | X86_TLB_NOTDIRTY;
        } else if (!hw || hw != host) {
            e->tag_w = vpage | X86_TLB_MMIO;
        } else if ((cp = x86_code_page(cpu->cache, ppage, false)) && cp->lines) {
            e->tag_w = vpage | X86_TLB_NOTDIRTY;
        } else {
            e->tag_w = vpage;
        }
    } else {
        e->tag_w = vpage | X86_TLB_INVALID;
    }
    return e;
}

static inline X86TLBEntry *tlb_get(X86CPU *cpu, const KiteOp *op, uint64_t la,
                                   unsigned acc)
{
    int mmu = (acc & X86_ACC_SUPER) ? 0 : cpu->mmu_idx;
    X86TLBEntry *e = &cpu->tlb[mmu][(la >> 12) & (X86_TLB_SIZE - 1)];
    uint64_t vpage = la & X86_PAGE_MASK;
    uint64_t tag = (acc & X86_ACC_TYPE) == X86_ACC_WRITE ? e->tag_w : e->tag_r;

    if ((tag & X86_PAGE_MASK) != vpage || (tag & X86_TLB_INVALID)) {
        e = tlb_fill(cpu, op, la, acc, mmu);
    }
    return e;
}

/* Load size bytes within one page. */
static uint64_t ld_page(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                        unsigned acc)
{
    X86TLBEntry *e = tlb_get(cpu, op, la, acc);
    uint64_t v = 0;

    if (!(e->tag_r & X86_TLB_MMIO)) {
        memcpy(&v, (uint8_t *)(uintptr_t)(la + e->addend), size);
        return v;
    }
    if (size == 1 || size == 2 || size == 4 || size == 8) {
        return cpu->ops->mmio_read(cpu->opaque, (e->paddr & X86_PAGE_MASK) | (la & 0xfff),
                                   size);
    }
    for (unsigned i = 0; i < size; i++) {
        v |= cpu->ops->mmio_read(cpu->opaque,
                                 (e->paddr & X86_PAGE_MASK) | ((la + i) & 0xfff), 1)
             << (8 * i);
    }
    return v;
}

uint64_t x86_ld_slow(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                     unsigned acc)
{
    unsigned off = la & 0xfff;

    if (off + size > 4096) {
        unsigned n1 = 4096 - off;
        uint64_t lo = ld_page(cpu, op, la, n1, acc);
        uint64_t hi = ld_page(cpu, op, (la + n1) & cpu->la_mask, size - n1, acc);
        return lo | (hi << (8 * n1));
    }
    return ld_page(cpu, op, la, size, acc);
}

static void st_page(X86CPU *cpu, X86TLBEntry *e, uint64_t la, unsigned size, uint64_t v)
{
    uint64_t pa = (e->paddr & X86_PAGE_MASK) | (la & 0xfff);

    if (e->tag_w & X86_TLB_MMIO) {
        if (size == 1 || size == 2 || size == 4 || size == 8) {
            cpu->ops->mmio_write(cpu->opaque, pa, v, size);
        } else {
            for (unsigned i = 0; i < size; i++) {
                cpu->ops->mmio_write(cpu->opaque, pa + i, (v >> (8 * i)) & 0xff, 1);
            }
        }
        return;
    }
    uint8_t *host = (uint8_t *)(uintptr_t)(la + e->addend);
    void *log = NULL;

    if (e->tag_w & X86_TLB_NOTDIRTY) {
        X86CodePage *cp = x86_code_page(cpu->cache, pa, false);
        unsigned idx = e - &cpu->tlb[0][0];
        log = cpu->tlb_log[idx / X86_TLB_SIZE][idx % X86_TLB_SIZE];
        x86_smc_check(cpu, pa, size);
        if ((!cp || !cp->lines) && !log) {
            e->tag_w &= X86_PAGE_MASK;     /* no code left: direct writes again */
        }
    }
    memcpy(host, &v, size);
    if (log) {
        cpu->ops->note_write(cpu->opaque, log, host, size);
    }
}

uint8_t *x86_tlb_w_logged(X86CPU *cpu, uint64_t la, unsigned size, void **log)
{
    unsigned idx = (la >> 12) & (X86_TLB_SIZE - 1);
    X86TLBEntry *e = &cpu->tlb[cpu->mmu_idx][idx];
    void *l = cpu->tlb_log[cpu->mmu_idx][idx];
    X86CodePage *cp;

    /* The page of the last byte must be la's page, as in x86_tlb_w(). */
    if (e->tag_w != (((la + size - 1) & X86_PAGE_MASK) | X86_TLB_NOTDIRTY) || !l) {
        return NULL;
    }
    /* Code on the page: every store needs the SMC check (st_page). */
    cp = x86_code_page(cpu->cache, e->paddr & X86_PAGE_MASK, false);
    if (cp && cp->lines) {
        return NULL;
    }
    *log = l;
    return (uint8_t *)(uintptr_t)(la + e->addend);
}

void x86_st_slow(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                 uint64_t val, unsigned acc)
{
    unsigned off = la & 0xfff;

    if (off + size > 4096) {
        /* Translate both pages before writing either: no partial stores on #PF. */
        unsigned n1 = 4096 - off;
        uint64_t la2 = (la + n1) & cpu->la_mask;
        X86TLBEntry *e1 = tlb_get(cpu, op, la, acc);
        X86TLBEntry *e2 = tlb_get(cpu, op, la2, acc);
        st_page(cpu, e1, la, n1, val);
        st_page(cpu, e2, la2, size - n1, val >> (8 * n1));
        return;
    }
    st_page(cpu, tlb_get(cpu, op, la, acc), la, size, val);
}

void x86_probe_write(X86CPU *cpu, const KiteOp *op, uint64_t la, unsigned size,
                     unsigned acc)
{
    unsigned off = la & 0xfff;

    acc = (acc & ~X86_ACC_TYPE) | X86_ACC_WRITE;
    tlb_get(cpu, op, la, acc);
    if (off + size > 4096) {
        tlb_get(cpu, op, (la + 4096 - off) & cpu->la_mask, acc);
    }
}

void x86_tlb_flush(X86CPU *cpu, bool include_global)
{
    for (int m = 0; m < 2; m++) {
        for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
            X86TLBEntry *e = &cpu->tlb[m][i];
            if (include_global || !(e->paddr & X86_TLBP_GLOBAL)) {
                e->tag_r = e->tag_w = X86_TLB_INVALID;
                e->paddr = 0;
            }
        }
        for (unsigned i = 0; i < X86_ITLB_SIZE; i++) {
            X86ITLBEntry *ie = &cpu->itlb[m][i];
            if (include_global || !ie->global) {
                ie->vpage = X86_TLB_INVALID;
            }
        }
    }
    if (include_global) {
        cpu->tlb_large_mask = 0;
        memset(cpu->phys_cache, 0, sizeof(cpu->phys_cache));
    }
    cpu->fetch_vpage = X86_TLB_INVALID;
    cpu->stats.tlb_flushes++;
}

void x86_tlb_flush_page(X86CPU *cpu, uint64_t la)
{
    uint64_t vpage = la & X86_PAGE_MASK;

    if (cpu->tlb_large_mask && (la & cpu->tlb_large_mask) == cpu->tlb_large_base) {
        x86_tlb_flush(cpu, true);
        return;
    }
    for (int m = 0; m < 2; m++) {
        X86TLBEntry *e = &cpu->tlb[m][(la >> 12) & (X86_TLB_SIZE - 1)];
        X86ITLBEntry *ie = &cpu->itlb[m][(la >> 12) & (X86_ITLB_SIZE - 1)];
        if ((e->tag_r & X86_PAGE_MASK) == vpage || (e->tag_w & X86_PAGE_MASK) == vpage) {
            e->tag_r = e->tag_w = X86_TLB_INVALID;
            e->paddr = 0;
        }
        if (ie->vpage == vpage) {
            ie->vpage = X86_TLB_INVALID;
        }
    }
    if (cpu->fetch_vpage == vpage) {
        cpu->fetch_vpage = X86_TLB_INVALID;
    }
}

void x86_tlb_protect_code(X86CodeCache *cache, uint64_t ppage)
{
    for (unsigned c = 0; c < cache->cpus->len; c++) {
        X86CPU *cpu = g_ptr_array_index(cache->cpus, c);
        for (int m = 0; m < 2; m++) {
            for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
                X86TLBEntry *e = &cpu->tlb[m][i];
                if ((e->paddr & X86_PAGE_MASK) == ppage &&
                    !(e->tag_w & (X86_TLB_INVALID | X86_TLB_MMIO))) {
                    e->tag_w |= X86_TLB_NOTDIRTY;
                }
            }
        }
    }
}

/* ---- code fetch ----------------------------------------------------------------- */

static X86ITLBEntry *itlb_get(X86CPU *cpu, uint64_t la)
{
    uint64_t vpage = la & X86_PAGE_MASK;
    X86ITLBEntry *ie = &cpu->itlb[cpu->mmu_idx][(la >> 12) & (X86_ITLB_SIZE - 1)];
    X86Walk w;
    uint32_t err;

    if (ie->vpage == vpage) {
        return ie;
    }
    if (cpu->la_mask == ~0ULL && !is_canonical(la)) {
        x86_raise(cpu, NULL, EXCP_GP, 0);
    }
    if (!mmu_walk(cpu, la, X86_ACC_EXEC, cpu->mmu_idx == 1, &w, &err)) {
        x86_raise_pf(cpu, NULL, la, err);
    }
    if (w.page_size > 4096) {
        tlb_note_large(cpu, la, w.page_size);
    }
    ie->vpage = vpage;
    ie->ppage = w.pa & X86_PAGE_MASK;
    ie->host = phys_page_r(cpu, ie->ppage);
    ie->page = ie->host ? x86_code_page(cpu->cache, ie->ppage, true) : NULL;
    ie->global = w.global;
    return ie;
}

void x86_fetch_page(X86CPU *cpu, uint64_t la)
{
    X86ITLBEntry *ie = itlb_get(cpu, la);

    cpu->fetch_vpage = ie->vpage;
    cpu->fetch_ppage = ie->ppage;
    cpu->fetch_host = ie->host;
    cpu->fetch_page = ie->page;
}

void x86_fetch_bytes(X86CPU *cpu, uint64_t la, uint8_t *buf, unsigned len)
{
    while (len) {
        X86ITLBEntry *ie = itlb_get(cpu, la);
        unsigned off = la & 0xfff, n = MIN(len, 4096 - off);
        if (ie->host) {
            memcpy(buf, ie->host + off, n);
        } else {
            for (unsigned i = 0; i < n; i++) {
                buf[i] = cpu->ops->mmio_read(cpu->opaque, ie->ppage | (off + i), 1);
            }
        }
        buf += n;
        len -= n;
        la = (la + n) & cpu->la_mask;
    }
}
