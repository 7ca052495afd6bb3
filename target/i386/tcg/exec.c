/*
 * x86 interpreter: the decoded-code cache and the main loop.
 *
 * Traces (up to X86_TRACE_MAX_INSNS instructions, never crossing a 4 KiB page) are
 * kept in a two-way set-associative table indexed by a hash of the guest-physical
 * address of their first byte, tagged with the decode mode and the generation of their
 * page; a hit in the second way moves the trace to the first, a new trace goes to the
 * first way and pushes the older one to the second.  (Direct-mapped, two hot traces that
 * collide evict each other on every run and each rebuild eats pool space: measured on
 * Linux + busybox, as many rebuilds came from collisions as from whole-cache flushes.)
 * Their ops come from a pool that is flushed whole when full (Bochs' icache does the
 * same).  Self-modifying code: each physical page records which 64-byte lines hold
 * decoded code; TLB write entries for such pages are marked NOTDIRTY so stores take
 * the slow path, and a store (or DMA, through x86_code_cache_invalidate) that hits a
 * marked line bumps the page's generation, which invalidates all its traces.
 *
 * Trace links: looking a trace up in the table is a host cache miss more often than
 * not (the table is megabytes).  So each trace's head, which sits in the pool right
 * before its ops, remembers its last two successors with the paddr, mode and
 * generation they were decoded for; when the next trace's key matches a link of the
 * trace that just ran, the table is not read.  A link never outlives its target's ops:
 * both go when the pool is flushed, and a stale generation makes it miss.
 *
 * Instructions that cross a page boundary, code executed from MMIO, and single
 * stepping (TF, interrupt shadows, exact budgets, stop addresses) run uncached
 * through a one-instruction scratch trace.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/decode.h"

#define TRACE_TABLE_BITS 16             /* entries; sets of two */
#define TRACE_TABLE_SIZE (1u << TRACE_TABLE_BITS)
#define TRACE_POOL_OPS   (512u * 1024)
#define CODE_L2_BITS     12               /* pages per second-level chunk */
#define CODE_L1_BITS     16               /* covers 2^28 pages = 1 TiB */

/* ---- code cache ------------------------------------------------------------------ */

X86CodeCache *x86_code_cache_new(void)
{
    X86CodeCache *c = g_new0(X86CodeCache, 1);

    c->table = g_new0(X86Trace, TRACE_TABLE_SIZE);
    for (unsigned i = 0; i < TRACE_TABLE_SIZE; i++) {
        c->table[i].paddr = ~0ULL;
    }
    c->pool_size = TRACE_POOL_OPS;
    c->pool = g_new0(KiteOp, c->pool_size);
    c->pages = g_new0(X86CodePage *, 1u << CODE_L1_BITS);
    c->cpus = g_ptr_array_new();
    c->refcount = 1;
    return c;
}

void x86_code_cache_unref(X86CodeCache *c)
{
    if (!c || --c->refcount > 0) {
        return;
    }
    for (unsigned i = 0; i < (1u << CODE_L1_BITS); i++) {
        g_free(c->pages[i]);
    }
    g_free(c->pages);
    g_free(c->pool);
    g_free(c->table);
    g_ptr_array_free(c->cpus, true);
    g_free(c);
}

X86CodePage *x86_code_page(X86CodeCache *c, uint64_t paddr, bool create)
{
    uint64_t pfn = paddr >> 12;
    X86CodePage **l1;

    if (pfn >> (CODE_L1_BITS + CODE_L2_BITS)) {
        return NULL;
    }
    l1 = &c->pages[pfn >> CODE_L2_BITS];
    if (!*l1) {
        if (!create) {
            return NULL;
        }
        *l1 = g_new0(X86CodePage, 1u << CODE_L2_BITS);
    }
    return &(*l1)[pfn & ((1u << CODE_L2_BITS) - 1)];
}

/* Bit mask of the 64-byte lines touched by [off, off + len) within one page. */
static uint64_t line_mask(unsigned off, unsigned len)
{
    unsigned first = off >> 6, last = MIN(off + len - 1, 4095u) >> 6;
    uint64_t hi = last == 63 ? ~0ULL : (2ULL << last) - 1;
    return hi & ~((1ULL << first) - 1);
}

void x86_code_page_mark(X86CodeCache *c, uint64_t paddr, unsigned len)
{
    X86CodePage *p = x86_code_page(c, paddr, true);
    bool was_code = p->lines != 0;

    p->lines |= line_mask(paddr & 0xfff, len);
    if (!was_code) {
        x86_tlb_protect_code(c, paddr & X86_PAGE_MASK);
    }
}

static bool code_invalidate_page(X86CodeCache *c, uint64_t paddr, unsigned len)
{
    X86CodePage *p = x86_code_page(c, paddr, false);

    if (p && (p->lines & line_mask(paddr & 0xfff, len))) {
        p->lines = 0;
        p->gen++;
        c->smc_invalidations++;
        return true;
    }
    return false;
}

void x86_smc_check(X86CPU *cpu, uint64_t paddr, unsigned len)
{
    if (code_invalidate_page(cpu->cache, paddr, len)) {
        cpu->smc_hit = true;
    }
}

void x86_code_cache_invalidate(X86CodeCache *c, uint64_t paddr, uint64_t len)
{
    bool hit = false;

    while (len) {
        unsigned off = paddr & 0xfff;
        unsigned n = MIN(len, 4096 - off);
        hit |= code_invalidate_page(c, paddr, n);
        paddr += n;
        len -= n;
    }
    if (hit) {
        /* A device model may run this in the middle of an OUT or MMIO store. */
        for (unsigned i = 0; i < c->cpus->len; i++) {
            X86CPU *cpu = g_ptr_array_index(c->cpus, i);
            cpu->smc_hit = true;
        }
    }
}

void x86_code_cache_flush(X86CodeCache *c)
{
    for (unsigned i = 0; i < TRACE_TABLE_SIZE; i++) {
        c->table[i].paddr = ~0ULL;
    }
    c->pool_used = 0;
    for (unsigned i = 0; i < (1u << CODE_L1_BITS); i++) {
        X86CodePage *chunk = c->pages[i];
        if (chunk) {
            for (unsigned j = 0; j < (1u << CODE_L2_BITS); j++) {
                if (chunk[j].lines) {
                    chunk[j].lines = 0;
                    chunk[j].gen++;
                }
            }
        }
    }
    c->flushes++;
}

/* ---- trace execution helpers ---------------------------------------------------- */

void x86_trace_exit_next(X86CPU *cpu, const KiteOp *op)
{
    cpu->smc_hit = false;
    cpu->icount_left += cpu->cur_n - (op - cpu->cur_ops) - 1;
    cpu->env.rip += op->next_off;
}

/* Closes a trace whose last instruction falls through. */
void x86_op_trace_end(X86CPU *cpu, const KiteOp *op)
{
    cpu->smc_hit = false;
    cpu->env.rip += op->next_off;
}

/* First way of the set for paddr (the second way is the next entry). */
static inline uint32_t trace_set(uint64_t paddr)
{
    return (paddr ^ (paddr >> 10) ^ (paddr >> (10 + TRACE_TABLE_BITS))) << 1 &
           (TRACE_TABLE_SIZE - 2);
}

static inline bool trace_valid(const X86Trace *t, uint64_t paddr, uint32_t mode,
                               uint32_t gen)
{
    return t->paddr == paddr && t->mode == mode && t->gen == gen;
}

/* Find the trace for paddr, or pick the slot a new one goes into (way 0, after moving
 * its current occupant to way 1).  *hit tells which. */
static inline X86Trace *trace_lookup(X86CodeCache *c, uint64_t paddr, uint32_t mode,
                                     uint32_t gen, bool *hit)
{
    X86Trace *set = &c->table[trace_set(paddr)];
    X86Trace tmp;

    if (likely(trace_valid(&set[0], paddr, mode, gen))) {
        *hit = true;
        return &set[0];
    }
    tmp = set[1];
    set[1] = set[0];
    if (trace_valid(&tmp, paddr, mode, gen)) {
        set[0] = tmp;
        *hit = true;
    } else {
        *hit = false;
    }
    return &set[0];
}

/* Bytes of code available at la before the page end (if page) or the CS limit. */
static unsigned code_avail(X86CPU *cpu, uint64_t la, bool page, bool *limited)
{
    unsigned avail = page ? 4096 - (la & 0xfff) : 4096;

    *limited = false;
    if (cpu->seg_checks) {
        uint64_t eip = cpu->env.rip;
        uint32_t limit = cpu->env.segs[R_CS].limit;
        if (eip > limit) {
            x86_raise(cpu, NULL, EXCP_GP, 0);
        }
        if ((uint64_t)limit - eip + 1 < avail) {
            avail = limit - eip + 1;
            *limited = true;
        }
    }
    return avail;
}

static X86Trace *trace_build(X86CPU *cpu, X86Trace *t, uint64_t la, uint64_t paddr)
{
    X86CodeCache *c = cpu->cache;
    unsigned bytes, avail;
    int n, nops;
    bool limited;
    KiteOp *ops;

    X86TraceHead *head;

    if (c->pool_size - c->pool_used < X86_TRACE_HEAD_SLOTS + X86_TRACE_MAX_INSNS + 2) {
        x86_code_cache_flush(c);
    }
    avail = code_avail(cpu, la, true, &limited);
    head = (X86TraceHead *)(c->pool + c->pool_used);
    ops = x86_trace_ops(head);
    n = x86_decode_trace(cpu, cpu->fetch_host + (la & 0xfff), avail, ops,
                         X86_TRACE_MAX_INSNS, &nops, &bytes);
    if (n == 0) {
        return NULL;
    }
    c->pool_used += X86_TRACE_HEAD_SLOTS + nops;
    c->traces_built++;
    x86_code_page_mark(c, paddr, bytes);
    memset(head, 0, sizeof(*head));
    head->link[0].paddr = head->link[1].paddr = ~0ULL;
    head->n_insns = n;
    head->bytes = bytes;
    t->paddr = paddr;
    t->mode = cpu->env.hflags & X86_MODE_KEY;
    t->gen = cpu->fetch_page->gen;
    t->head = head;
    return t;
}

/*
 * Decode and run the single instruction at la without caching it: for page-crossing
 * instructions, code in MMIO, and single-stepping.
 */
static void exec_uncached(X86CPU *cpu, uint64_t la)
{
    uint8_t buf[16];
    unsigned avail, bytes, have;
    bool limited;
    int n, nops;

    avail = code_avail(cpu, la, false, &limited);
    have = MIN(avail, 15u);
    /* Fetch only what this page holds first: the next page may not be mapped. */
    x86_fetch_bytes(cpu, la, buf, MIN(have, 4096 - (unsigned)(la & 0xfff)));
    n = x86_decode_trace(cpu, buf, MIN(have, 4096 - (unsigned)(la & 0xfff)),
                         cpu->scratch, 1, &nops, &bytes);
    if (n == 0) {
        unsigned first = MIN(have, 4096 - (unsigned)(la & 0xfff));
        if (first == have) {
            /* Needs bytes past the CS limit, or longer than 15 bytes. */
            x86_raise(cpu, NULL, EXCP_GP, 0);
        }
        x86_fetch_bytes(cpu, (la + first) & cpu->la_mask, buf + first, have - first);
        n = x86_decode_trace(cpu, buf, have, cpu->scratch, 1, &nops, &bytes);
        if (n == 0) {
            x86_raise(cpu, NULL, EXCP_GP, 0);
        }
    }
    cpu->icount_left -= 1;
    cpu->cur_ops = cpu->scratch;
    cpu->cur_n = 1;
    cpu->scratch[0].exec(cpu, cpu->scratch);
}

/* ---- events between traces ----------------------------------------------------- */

void x86_update_pending(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    cpu->pending_local = env->halted || env->wait_sipi || env->int_shadow ||
                         (env->eflags & X86_EFLAGS_TF) || cpu->stop_rip != ~0ULL ||
                         cpu->dbg_hw_n || cpu->dbg_exit;
}

static bool hard_irq_deliverable(X86CPU *cpu, uint32_t req)
{
    return (req & X86_INT_HARD) && (cpu->env.eflags & X86_EFLAGS_IF) && !cpu->dbg_noirq;
}

/* A debugger's hardware breakpoint at the next instruction? */
static bool dbg_hw_hit(X86CPU *cpu)
{
    uint64_t la = (cpu->seg_base[R_CS] + cpu->env.rip) & cpu->la_mask;

    for (int i = 0; i < cpu->dbg_hw_n; i++) {
        if (cpu->dbg_hw[i] == la) {
            return true;
        }
    }
    return false;
}

/*
 * Handle interrupt requests and local events.  Returns an exit reason, or -1 to go
 * on with the main loop.
 */
static int exec_events(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    uint32_t req = atomic_load(&cpu->interrupt_request);

    if (req & X86_INT_EXIT) {
        atomic_fetch_and(&cpu->interrupt_request, ~X86_INT_EXIT);
        return X86_EXIT_REQUEST;
    }
    if (cpu->dbg_exit) {
        /* A debugger's INT3: RIP is on it, nothing was delivered. */
        cpu->dbg_exit = false;
        x86_update_pending(cpu);
        return X86_EXIT_DEBUG;
    }
    if (req & X86_INT_INIT) {
        atomic_fetch_and(&cpu->interrupt_request, ~X86_INT_INIT);
        x86_cpu_do_init(cpu);
        return -1;
    }
    if (req & X86_INT_SIPI) {
        atomic_fetch_and(&cpu->interrupt_request, ~X86_INT_SIPI);
        if (env->wait_sipi) {
            /* SDM vol. 3A, 8.4.4.1: start in real mode at vector * 4 KiB. */
            x86_cpu_set_seg(env, R_CS, env->sipi_vector << 8, env->sipi_vector << 12,
                            0xffff, X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE |
                            X86_SEG_TYPE_RW | X86_SEG_TYPE_A);
            env->rip = 0;
            env->wait_sipi = false;
            env->halted = false;
            x86_cpu_sync_state(cpu);
        }
    }
    if (env->wait_sipi) {
        return X86_EXIT_HLT;
    }
    if (env->int_shadow) {
        /* STI / MOV SS: the next instruction runs before any interrupt. */
        if ((req & X86_INT_NMI) || hard_irq_deliverable(cpu, req)) {
            env->int_shadow = false;
            x86_update_pending(cpu);
            if (cpu->icount_left <= 0) {
                return X86_EXIT_BUDGET;
            }
            exec_uncached(cpu, (cpu->seg_base[R_CS] + env->rip) & cpu->la_mask);
            if (env->int_shadow) {
                return -1;      /* a second shadow (MOV SS after STI): one more instruction */
            }
            /*
             * The interrupt is taken at the boundary right after that instruction (SDM vol.
             * 3A, 6.8.3), not after the next trace: "sti; nop; nop; cli" (iPXE's BIOS timer)
             * opens a window of two instructions only, and if the IRQ that was pending
             * missed it every time, the guest would never take it.
             */
            req = atomic_load(&cpu->interrupt_request);
        } else {
            env->int_shadow = false;
        }
    }
    if ((req & X86_INT_NMI) && !env->nmi_blocked && !cpu->dbg_noirq) {
        atomic_fetch_and(&cpu->interrupt_request, ~X86_INT_NMI);
        env->halted = false;
        env->nmi_blocked = true;
        cpu->stats.interrupts++;
        x86_update_pending(cpu);
        x86_deliver(cpu, NULL, EXCP_NMI, false, 0, false, env->rip, true);
        return -1;
    }
    if (hard_irq_deliverable(cpu, req)) {
        int vec = cpu->ops->ack_interrupt ? cpu->ops->ack_interrupt(cpu->opaque) : -1;
        if (vec >= 0) {
            env->halted = false;
            cpu->stats.interrupts++;
            x86_update_pending(cpu);
            x86_deliver(cpu, NULL, vec & 0xff, false, 0, false, env->rip, true);
            return -1;
        }
    }
    if (env->halted) {
        return X86_EXIT_HLT;
    }
    x86_update_pending(cpu);
    if (cpu->stop_rip != ~0ULL || (env->eflags & X86_EFLAGS_TF) || cpu->dbg_hw_n) {
        bool tf = env->eflags & X86_EFLAGS_TF;
        if (env->rip == cpu->stop_rip || (cpu->dbg_hw_n && dbg_hw_hit(cpu))) {
            return X86_EXIT_DEBUG;
        }
        if (cpu->icount_left <= 0) {
            return X86_EXIT_BUDGET;
        }
        exec_uncached(cpu, (cpu->seg_base[R_CS] + env->rip) & cpu->la_mask);
        if (tf) {
            /* Single-step trap after the instruction (SDM vol. 3B, 17.3.1.4). */
            env->dr[6] |= 1u << 14;
            x86_deliver(cpu, NULL, EXCP_DB, false, 0, false, env->rip, true);
        }
        return -1;
    }
    return -1;
}

/* ---- main loop -------------------------------------------------------------------- */

static inline bool link_valid(const X86TraceLink *l, uint64_t paddr, uint32_t mode,
                              uint32_t gen)
{
    return l->paddr == paddr && l->mode == mode && l->gen == gen;
}

static X86ExitReason exec_loop(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    X86CodeCache *c = cpu->cache;
    X86TraceHead *prev = NULL;      /* the trace that ran last, if nothing came between */
    uint64_t flushes = c->flushes;

    for (;;) {
        uint64_t la, paddr;
        uint32_t mode, gen;
        X86TraceHead *h;
        X86Trace *t;
        bool hit;

        if (unlikely(atomic_load_explicit(&cpu->interrupt_request, memory_order_relaxed) |
                     cpu->pending_local)) {
            int r = exec_events(cpu);
            if (r >= 0) {
                return r;
            }
            prev = NULL;
            if (cpu->pending_local) {
                continue;
            }
        }
        if (unlikely(cpu->icount_left <= 0)) {
            return X86_EXIT_BUDGET;
        }
        la = (cpu->seg_base[R_CS] + env->rip) & cpu->la_mask;
        if (unlikely((la & X86_PAGE_MASK) != cpu->fetch_vpage)) {
            x86_fetch_page(cpu, la);
        }
        if (unlikely(!cpu->fetch_page)) {
            exec_uncached(cpu, la);
            prev = NULL;
            continue;
        }
        paddr = cpu->fetch_ppage | (la & 0xfff);
        mode = env->hflags & X86_MODE_KEY;
        gen = cpu->fetch_page->gen;
        if (unlikely(c->flushes != flushes)) {
            /* The pool was flushed (by a trace build, or x86_code_cache_flush). */
            flushes = c->flushes;
            prev = NULL;
        }
        if (prev && likely(link_valid(&prev->link[0], paddr, mode, gen))) {
            h = prev->link[0].next;
        } else if (prev && link_valid(&prev->link[1], paddr, mode, gen)) {
            h = prev->link[1].next;
        } else {
            t = trace_lookup(c, paddr, mode, gen, &hit);
            if (unlikely(!hit)) {
                if (!trace_build(cpu, t, la, paddr)) {
                    t->paddr = ~0ULL;
                    exec_uncached(cpu, la);
                    prev = NULL;
                    continue;
                }
                if (c->flushes != flushes) {
                    flushes = c->flushes;
                    prev = NULL;
                }
            }
            h = t->head;
            if (prev) {
                prev->link[1] = prev->link[0];
                prev->link[0] = (X86TraceLink){ paddr, mode, gen, h };
            }
        }
        /* A limit can shrink under a cached trace (built with a larger one). */
        if (unlikely(cpu->seg_checks) &&
            env->rip + h->bytes - 1 > env->segs[R_CS].limit) {
            exec_uncached(cpu, la);
            prev = NULL;
            continue;
        }
        if (unlikely(h->n_insns > cpu->icount_left)) {
            exec_uncached(cpu, la);
            prev = NULL;
            continue;
        }
        cpu->icount_left -= h->n_insns;
        cpu->cur_ops = x86_trace_ops(h);
        cpu->cur_n = h->n_insns;
        cpu->stats.traces_run++;
        cpu->loops_left = X86_LOOPS_MAX;
        prev = h;
        cpu->cur_ops->exec(cpu, cpu->cur_ops);
    }
}

X86ExitReason x86_cpu_exec(X86CPU *cpu, int64_t max_insns, int64_t *executed)
{
    X86ExitReason reason;

    if (cpu->shutdown) {
        if (executed) {
            *executed = 0;
        }
        return X86_EXIT_SHUTDOWN;
    }
    cpu->icount_left = max_insns;
    x86_fpu_host_enter(cpu);
    cpu->jmp_valid = true;
    if (sigsetjmp(cpu->jmp, 0) != 0) {
        /* x86_raise() came back here with cpu->excp_vec set. */
        cpu->stats.exceptions++;
        if (!x86_handle_exception(cpu)) {
            reason = X86_EXIT_SHUTDOWN;
            goto out;
        }
    }
    reason = exec_loop(cpu);
out:
    cpu->jmp_valid = false;
    x86_fpu_host_leave(cpu);
    cpu->stats.insns += max_insns - cpu->icount_left;
    if (executed) {
        *executed = max_insns - cpu->icount_left;
    }
    return reason;
}
