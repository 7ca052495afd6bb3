/*
 * x86 interpreter: string instructions MOVS CMPS STOS LODS SCAS INS OUTS with
 * REP/REPE/REPNE (SDM vol. 2B, REP and each instruction; vol. 1, 7.3.9).
 *
 * One handler per instruction; op fields: b1 = element size, b2 = repeat kind (0 none,
 * 1 REP/REPE, 2 REPNE), asize = address size (counter and index width), seg = source
 * segment (the destination is always ES).  A repeated instruction updates rCX/rSI/rDI
 * per element, so a fault leaves a restartable state; it also stops every few
 * thousand elements if an interrupt is pending and restarts after it is handled.
 *
 * REP MOVS and REP STOS copy whole runs within a page through host pointers when
 * both pages are plain RAM in the TLB (not MMIO, not holding decoded code) and the
 * direction flag is clear; a destination under dirty logging (a framebuffer) is written
 * the same way and the run recorded once after it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/seg.h"
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/ops.h"

#define REP_YIELD_CHECK 4096    /* elements between interrupt checks */

static inline uint64_t areg(CPUX86State *env, int r, int asize)
{
    return env->regs[r] & x86_amask[asize];
}

static inline void set_areg(CPUX86State *env, int r, int asize, uint64_t v)
{
    switch (asize) {
    case 0: REG16(env, r) = v; break;
    case 1: env->regs[r] = (uint32_t)v; break;
    default: env->regs[r] = v; break;
    }
}

static inline int64_t step(CPUX86State *env, unsigned size)
{
    return (env->eflags & X86_EFLAGS_DF) ? -(int64_t)size : (int64_t)size;
}

static bool rep_should_yield(X86CPU *cpu)
{
    uint32_t req = atomic_load_explicit(&cpu->interrupt_request, memory_order_relaxed);

    return (req & ~X86_INT_HARD) ||
           ((req & X86_INT_HARD) && (cpu->env.eflags & X86_EFLAGS_IF));
}

static inline void acc_write(CPUX86State *env, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: REG8(env, 0) = v; break;
    case 2: REG16(env, R_EAX) = v; break;
    case 4: env->regs[R_EAX] = (uint32_t)v; break;
    default: env->regs[R_EAX] = v; break;
    }
}

/*
 * Number of elements of a forward run at ea (segment seg) that stay within one page
 * and the segment, or 0 when the fast path does not apply.
 */
static uint64_t run_len(X86CPU *cpu, int seg, uint64_t ea, int asize, unsigned size,
                        uint64_t count, bool write, uint64_t *la)
{
    uint64_t bytes, page_left;

    if (cpu->seg_checks) {
        if (ea < cpu->seg_lo[seg] || !(cpu->seg_rw[seg] & (write ? 2 : 1))) {
            return 0;
        }
        bytes = (uint64_t)cpu->seg_hi[seg] - ea + 1;
        count = MIN(count, bytes / size);
    }
    bytes = x86_amask[asize] - ea + 1;          /* no address-size wrap inside a run */
    count = MIN(count, bytes / size);
    *la = (cpu->seg_base[seg] + ea) & cpu->la_mask;
    page_left = 4096 - (*la & 0xfff);
    return MIN(count, page_left / size);
}

/* ---- MOVS ---------------------------------------------------------------------- */

static void movs_one(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    CPUX86State *env = &cpu->env;
    int as = op->asize;
    uint64_t si = areg(env, R_ESI, as), di = areg(env, R_EDI, as);
    uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, op->seg, si, size, false), size);

    x86_stn(cpu, op, x86_seg_la(cpu, op, R_ES, di, size, true), size, v);
    set_areg(env, R_ESI, as, si + step(env, size));
    set_areg(env, R_EDI, as, di + step(env, size));
}

/* Copy a run through host pointers; false if the fast path does not apply. */
static bool movs_run(X86CPU *cpu, const KiteOp *op, unsigned size, uint64_t *count)
{
    CPUX86State *env = &cpu->env;
    int as = op->asize;
    uint64_t si = areg(env, R_ESI, as), di = areg(env, R_EDI, as);
    uint64_t sla, dla, n, bytes;
    uint8_t *src, *dst;
    void *log = NULL;

    if (env->eflags & X86_EFLAGS_DF) {
        return false;
    }
    n = run_len(cpu, op->seg, si, as, size, *count, false, &sla);
    n = MIN(n, run_len(cpu, R_ES, di, as, size, *count, true, &dla));
    if (n < 2) {
        return false;
    }
    bytes = n * size;
    src = x86_tlb_r(cpu, sla, bytes);
    if (!src) {
        return false;
    }
    dst = x86_tlb_w(cpu, dla, bytes);
    if (!dst && !(dst = x86_tlb_w_logged(cpu, dla, bytes, &log))) {
        return false;
    }
    if (dst > src && dst < src + bytes) {
        /* Overlap where forward element order matters (e.g. pattern fill). */
        for (uint64_t i = 0; i < bytes; i++) {
            dst[i] = src[i];
        }
    } else {
        memmove(dst, src, bytes);
    }
    if (log) {
        cpu->ops->note_write(cpu->opaque, log, dst, bytes);
    }
    set_areg(env, R_ESI, as, si + bytes);
    set_areg(env, R_EDI, as, di + bytes);
    *count -= n;
    return true;
}

void x86_op_movs(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint64_t count;
    unsigned since = 0;

    if (!op->b2) {
        movs_one(cpu, op, size);
        NEXT_W(cpu, op);
    }
    count = areg(env, R_ECX, as);
    while (count) {
        if (!movs_run(cpu, op, size, &count)) {
            movs_one(cpu, op, size);
            count--;
        }
        set_areg(env, R_ECX, as, count);
        if (++since >= REP_YIELD_CHECK / 64 && count) {
            since = 0;
            if (rep_should_yield(cpu)) {
                x86_trace_exit_before(cpu, op);
                return;
            }
        }
    }
    NEXT_W(cpu, op);
}

/* ---- STOS ------------------------------------------------------------------------ */

static bool stos_run(X86CPU *cpu, const KiteOp *op, unsigned size, uint64_t *count)
{
    CPUX86State *env = &cpu->env;
    int as = op->asize;
    uint64_t di = areg(env, R_EDI, as), dla, n, v = env->regs[R_EAX];
    uint8_t *dst;
    void *log = NULL;

    if (env->eflags & X86_EFLAGS_DF) {
        return false;
    }
    n = run_len(cpu, R_ES, di, as, size, *count, true, &dla);
    if (n < 2) {
        return false;
    }
    dst = x86_tlb_w(cpu, dla, n * size);
    if (!dst && !(dst = x86_tlb_w_logged(cpu, dla, n * size, &log))) {
        return false;
    }
    switch (size) {
    case 1:
        memset(dst, (uint8_t)v, n);
        break;
    case 2:
        for (uint64_t i = 0; i < n; i++) {
            stw_le_p(dst + 2 * i, v);
        }
        break;
    case 4:
        for (uint64_t i = 0; i < n; i++) {
            stl_le_p(dst + 4 * i, v);
        }
        break;
    default:
        for (uint64_t i = 0; i < n; i++) {
            stq_le_p(dst + 8 * i, v);
        }
        break;
    }
    if (log) {
        cpu->ops->note_write(cpu->opaque, log, dst, n * size);
    }
    set_areg(env, R_EDI, as, di + n * size);
    *count -= n;
    return true;
}

static void stos_one(X86CPU *cpu, const KiteOp *op, unsigned size)
{
    CPUX86State *env = &cpu->env;
    int as = op->asize;
    uint64_t di = areg(env, R_EDI, as);

    x86_stn(cpu, op, x86_seg_la(cpu, op, R_ES, di, size, true), size, env->regs[R_EAX]);
    set_areg(env, R_EDI, as, di + step(env, size));
}

void x86_op_stos(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint64_t count;
    unsigned since = 0;

    if (!op->b2) {
        stos_one(cpu, op, size);
        NEXT_W(cpu, op);
    }
    count = areg(env, R_ECX, as);
    while (count) {
        if (!stos_run(cpu, op, size, &count)) {
            stos_one(cpu, op, size);
            count--;
        }
        set_areg(env, R_ECX, as, count);
        if (++since >= REP_YIELD_CHECK / 64 && count) {
            since = 0;
            if (rep_should_yield(cpu)) {
                x86_trace_exit_before(cpu, op);
                return;
            }
        }
    }
    NEXT_W(cpu, op);
}

/* ---- LODS ----------------------------------------------------------------------- */

void x86_op_lods(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint64_t count = op->b2 ? areg(env, R_ECX, as) : 1;
    unsigned since = 0;

    while (count) {
        uint64_t si = areg(env, R_ESI, as);
        acc_write(env, size, x86_ldn(cpu, op, x86_seg_la(cpu, op, op->seg, si, size, false),
                                     size));
        set_areg(env, R_ESI, as, si + step(env, size));
        count--;
        if (op->b2) {
            set_areg(env, R_ECX, as, count);
            if (++since >= REP_YIELD_CHECK && count) {
                since = 0;
                if (rep_should_yield(cpu)) {
                    x86_trace_exit_before(cpu, op);
                    return;
                }
            }
        }
    }
    NEXT(cpu, op);
}

/* ---- CMPS / SCAS ------------------------------------------------------------------ */

static void cmp_flags(CPUX86State *env, unsigned size, uint64_t a, uint64_t b)
{
    int bits = size * 8;
    uint64_t mask = ~0ULL >> (64 - bits);
    uint64_t r = (a - b) & mask;
    uint64_t vec = CC_SUB_VEC(a, b, r) & mask;

    cc_set(env, (int64_t)(r << (64 - bits)) >> (64 - bits), cc_aux_from_vec(vec, bits));
}

/* b1 = size; kind: CMPS compares [seg:rSI] with ES:[rDI], SCAS rAX with ES:[rDI]. */
static bool cmps_scas(X86CPU *cpu, const KiteOp *op, bool cmps)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint64_t count = op->b2 ? areg(env, R_ECX, as) : 1;
    uint64_t mask = ~0ULL >> (64 - 8 * size);
    unsigned since = 0;

    while (count) {
        uint64_t di = areg(env, R_EDI, as), a;
        uint64_t b;
        if (cmps) {
            uint64_t si = areg(env, R_ESI, as);
            a = x86_ldn(cpu, op, x86_seg_la(cpu, op, op->seg, si, size, false), size);
            b = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_ES, di, size, false), size);
            set_areg(env, R_ESI, as, si + step(env, size));
        } else {
            a = env->regs[R_EAX] & mask;
            b = x86_ldn(cpu, op, x86_seg_la(cpu, op, R_ES, di, size, false), size);
        }
        set_areg(env, R_EDI, as, di + step(env, size));
        cmp_flags(env, size, a, b);
        count--;
        if (!op->b2) {
            break;
        }
        set_areg(env, R_ECX, as, count);
        /* REPE stops on ZF = 0, REPNE on ZF = 1. */
        if ((op->b2 == 1) != (a == b)) {
            break;
        }
        if (++since >= REP_YIELD_CHECK && count) {
            since = 0;
            if (rep_should_yield(cpu)) {
                x86_trace_exit_before(cpu, op);
                return true;
            }
        }
    }
    return false;
}

void x86_op_cmps(X86CPU *cpu, const KiteOp *op)
{
    if (cmps_scas(cpu, op, true)) {
        return;
    }
    NEXT(cpu, op);
}

void x86_op_scas(X86CPU *cpu, const KiteOp *op)
{
    if (cmps_scas(cpu, op, false)) {
        return;
    }
    NEXT(cpu, op);
}

/* ---- INS / OUTS (always end the trace) ----------------------------------------------- */

void x86_op_ins(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint16_t port = REG16(env, R_EDX);
    uint64_t count = op->b2 ? areg(env, R_ECX, as) : 1;
    unsigned since = 0;

    x86_check_io(cpu, op, port, size);
    while (count) {
        uint64_t di = areg(env, R_EDI, as);
        uint64_t la = x86_seg_la(cpu, op, R_ES, di, size, true);
        /* Probe first: the device read must not happen twice on a restart. */
        x86_probe_write(cpu, op, la, size, X86_ACC_WRITE);
        x86_stn(cpu, op, la, size, cpu->ops->pio_read(cpu->opaque, port, size));
        set_areg(env, R_EDI, as, di + step(env, size));
        count--;
        if (op->b2) {
            set_areg(env, R_ECX, as, count);
            if (++since >= REP_YIELD_CHECK && count && rep_should_yield(cpu)) {
                x86_trace_exit_before(cpu, op);
                return;
            }
        }
    }
    cpu->smc_hit = false;
    env->rip += op->next_off;
}

void x86_op_outs(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned size = op->b1;
    int as = op->asize;
    uint16_t port = REG16(env, R_EDX);
    uint64_t count = op->b2 ? areg(env, R_ECX, as) : 1;
    unsigned since = 0;

    x86_check_io(cpu, op, port, size);
    while (count) {
        uint64_t si = areg(env, R_ESI, as);
        uint64_t v = x86_ldn(cpu, op, x86_seg_la(cpu, op, op->seg, si, size, false), size);
        cpu->ops->pio_write(cpu->opaque, port, v, size);
        set_areg(env, R_ESI, as, si + step(env, size));
        count--;
        if (op->b2) {
            set_areg(env, R_ECX, as, count);
            if (++since >= REP_YIELD_CHECK && count && rep_should_yield(cpu)) {
                x86_trace_exit_before(cpu, op);
                return;
            }
        }
    }
    cpu->smc_hit = false;
    env->rip += op->next_off;
}

/* ---- decoder -------------------------------------------------------------------- */

bool x86_decode_string(X86Dec *d, KiteOp *op, int opc)
{
    bool byte = !(opc & 1);
    bool cmp = opc == 0xa6 || opc == 0xa7 || opc == 0xae || opc == 0xaf;

    op->b1 = byte ? 1 : 1u << d->osize;
    op->seg = d->seg >= 0 ? d->seg : R_DS;
    op->asize = d->asize;
    if (cmp) {
        op->b2 = d->last_rep == 0xf3 ? 1 : d->last_rep == 0xf2 ? 2 : 0;
    } else {
        op->b2 = (d->rep || d->repne) ? 1 : 0;
    }
    switch (opc) {
    case 0x6c: case 0x6d:
        op->exec = x86_op_ins;
        op->b1 = MIN(op->b1, 4u);
        d->end = true;
        break;
    case 0x6e: case 0x6f:
        op->exec = x86_op_outs;
        op->b1 = MIN(op->b1, 4u);
        d->end = true;
        break;
    case 0xa4: case 0xa5:
        op->exec = x86_op_movs;
        break;
    case 0xa6: case 0xa7:
        op->exec = x86_op_cmps;
        break;
    case 0xaa: case 0xab:
        op->exec = x86_op_stos;
        break;
    case 0xac: case 0xad:
        op->exec = x86_op_lods;
        break;
    default:
        op->exec = x86_op_scas;
        break;
    }
    return true;
}
