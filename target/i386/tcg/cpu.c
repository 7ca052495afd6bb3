/*
 * x86 interpreter: CPU object, reset/INIT state, derived-state maintenance and the
 * public accessors declared in target/i386/cpu.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"

/* ---- derived state -------------------------------------------------------------- */

void x86_update_mmu_idx(X86CPU *cpu)
{
    int idx = x86_cpl(cpu) == 3 ? 1 : 0;

    if (idx != cpu->mmu_idx) {
        cpu->mmu_idx = idx;
        cpu->fetch_vpage = X86_TLB_INVALID;
    }
}

void x86_update_seg_cache(X86CPU *cpu, int seg)
{
    CPUX86State *env = &cpu->env;
    X86Segment *s = &env->segs[seg];
    uint16_t a = s->attr;

    if (env->hflags & X86_HF_CS64) {
        /* 64-bit mode: no limits; only FS and GS have a base (SDM vol. 3A, 3.2.4). */
        cpu->seg_base[seg] = seg >= R_FS ? s->base : 0;
        cpu->seg_lo[seg] = 0;
        cpu->seg_hi[seg] = 0xffffffff;
        cpu->seg_rw[seg] = 3;
        return;
    }
    cpu->seg_base[seg] = (uint32_t)s->base;
    if (!(env->hflags & X86_HF_PE) || (env->hflags & X86_HF_VM)) {
        cpu->seg_lo[seg] = 0;
        cpu->seg_hi[seg] = s->limit;
        cpu->seg_rw[seg] = 3;
    } else if (!(a & X86_SEG_P)) {
        /* Null selector: any access faults. */
        cpu->seg_lo[seg] = 1;
        cpu->seg_hi[seg] = 0;
        cpu->seg_rw[seg] = 0;
    } else if (a & X86_SEG_TYPE_CODE) {
        cpu->seg_lo[seg] = 0;
        cpu->seg_hi[seg] = s->limit;
        cpu->seg_rw[seg] = (a & X86_SEG_TYPE_RW) ? 1 : 0;
    } else if (a & X86_SEG_TYPE_EC) {
        /* Expand-down: offsets above the limit are valid (3.4.5.1). */
        cpu->seg_lo[seg] = s->limit + 1;
        cpu->seg_hi[seg] = (a & X86_SEG_DB) ? 0xffffffff : 0xffff;
        cpu->seg_rw[seg] = 1 | ((a & X86_SEG_TYPE_RW) ? 2 : 0);
    } else {
        cpu->seg_lo[seg] = 0;
        cpu->seg_hi[seg] = s->limit;
        cpu->seg_rw[seg] = 1 | ((a & X86_SEG_TYPE_RW) ? 2 : 0);
    }
}

void x86_update_hflags(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    uint32_t h = env->hflags & X86_HF_CPL_MASK;

    if (env->cr[0] & X86_CR0_PE) {
        h |= X86_HF_PE;
        if (env->eflags & X86_EFLAGS_VM) {
            h |= X86_HF_VM;
        }
    }
    if (env->cr[0] & X86_CR0_PG) {
        h |= X86_HF_PG;
    }
    if (env->efer & X86_EFER_LMA) {
        h |= X86_HF_LMA;
    }
    if ((h & X86_HF_LMA) && (env->segs[R_CS].attr & X86_SEG_L)) {
        h |= X86_HF_CS64;
    } else {
        if (env->segs[R_CS].attr & X86_SEG_DB) {
            h |= X86_HF_CS32;
        }
        if (env->segs[R_SS].attr & X86_SEG_DB) {
            h |= X86_HF_SS32;
        }
    }
    env->hflags = h;
    cpu->la_mask = (h & X86_HF_CS64) ? ~0ULL : 0xffffffffULL;
    cpu->seg_checks = !(h & X86_HF_CS64);
    for (int i = 0; i < 6; i++) {
        x86_update_seg_cache(cpu, i);
    }
    x86_update_mmu_idx(cpu);
    x86_update_fp_faults(cpu);
}

/* ---- public accessors -------------------------------------------------------------- */

CPUX86State *x86_cpu_env(X86CPU *cpu)
{
    return &cpu->env;
}

X86CodeCache *x86_cpu_code_cache(X86CPU *cpu)
{
    return cpu->cache;
}

uint32_t x86_cpu_get_eflags(const CPUX86State *env)
{
    return (env->eflags & ~X86_EFLAGS_OSZAPC) | x86_cc_compute(env) | X86_EFLAGS_FIXED;
}

void x86_cpu_set_eflags(CPUX86State *env, uint32_t eflags)
{
    /* Reserved bits read as 0 except bit 1 (SDM vol. 1, 3.4.3). */
    eflags &= 0x3f7fd5;
    x86_cc_load(env, eflags);
    env->eflags = (eflags & ~X86_EFLAGS_OSZAPC) | X86_EFLAGS_FIXED;
}

void x86_cpu_set_seg(CPUX86State *env, int seg, uint16_t sel, uint64_t base,
                     uint32_t limit, uint16_t attr)
{
    env->segs[seg] = (X86Segment){ .base = base, .limit = limit, .selector = sel,
                                   .attr = attr };
}

uint16_t x86_cpu_get_fsw(const CPUX86State *env)
{
    return (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11);
}

uint16_t x86_cpu_get_ftw(const CPUX86State *env)
{
    uint16_t tw = 0;

    for (int i = 0; i < 8; i++) {
        const X86FPReg *r = &env->fpregs[i];
        int tag;
        uint16_t e = r->sign_exp & 0x7fff;

        if (!(env->fptag_valid & (1 << i))) {
            tag = 3;                                      /* empty */
        } else if (e == 0x7fff) {
            tag = 2;                                      /* special */
        } else if (e == 0) {
            tag = r->mant ? 2 : 1;                        /* denormal / zero */
        } else {
            tag = (r->mant >> 63) ? 0 : 2;                /* valid / unnormal */
        }
        tw |= tag << (2 * i);
    }
    return tw;
}

void x86_cpu_sync_state(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    int cpl;

    if (!(env->cr[0] & X86_CR0_PE)) {
        cpl = 0;
    } else if (env->eflags & X86_EFLAGS_VM) {
        cpl = 3;
    } else {
        /* CPL is the DPL of SS (as in the VMX/SVM guest state), or CS.RPL. */
        cpl = (env->segs[R_SS].attr & X86_SEG_P) ?
              (env->segs[R_SS].attr & X86_SEG_DPL_MASK) >> X86_SEG_DPL_SHIFT :
              env->segs[R_CS].selector & 3;
    }
    env->hflags = cpl;
    cpu->mmu_idx = -1;
    x86_update_hflags(cpu);
    x86_tlb_flush(cpu, true);
    x86_update_pending(cpu);
}

void x86_cpu_set_apic_id(X86CPU *cpu, uint32_t apic_id)
{
    cpu->apic_id = apic_id;
}

void x86_cpu_set_package_cpus(X86CPU *cpu, uint32_t n)
{
    x86_cpu_set_topology(cpu, n, 1);
}

void x86_cpu_set_topology(X86CPU *cpu, uint32_t cores, uint32_t threads)
{
    cpu->pkg_cores = MAX(cores, 1u);
    cpu->core_threads = MAX(threads, 1u);
    cpu->package_cpus = cpu->pkg_cores * cpu->core_threads;
}

void x86_cpu_set_stop_rip(X86CPU *cpu, uint64_t rip)
{
    cpu->stop_rip = rip;
    x86_update_pending(cpu);
}

void x86_cpu_set_debug(X86CPU *cpu, bool noirq, bool swbp, const uint64_t *hw, int n_hw)
{
    cpu->dbg_noirq = noirq;
    cpu->dbg_swbp = swbp;
    cpu->dbg_hw_n = MIN(n_hw, 4);
    memcpy(cpu->dbg_hw, hw, cpu->dbg_hw_n * sizeof(hw[0]));
    x86_update_pending(cpu);
}

void x86_cpu_interrupt(X86CPU *cpu, unsigned mask)
{
    atomic_fetch_or(&cpu->interrupt_request, mask);
}

void x86_cpu_interrupt_clear(X86CPU *cpu, unsigned mask)
{
    atomic_fetch_and(&cpu->interrupt_request, ~mask);
}

void x86_cpu_sipi(X86CPU *cpu, uint8_t vector)
{
    cpu->env.sipi_vector = vector;
    atomic_fetch_or(&cpu->interrupt_request, X86_INT_SIPI);
}

void x86_cpu_set_a20(X86CPU *cpu, bool enabled)
{
    if (cpu->env.a20_masked != !enabled) {
        cpu->env.a20_masked = !enabled;
        x86_tlb_flush(cpu, true);
    }
}

void x86_cpu_tlb_flush_all(X86CPU *cpu)
{
    x86_tlb_flush(cpu, true);
}

void x86_cpu_get_stats(X86CPU *cpu, X86CPUStats *stats)
{
    *stats = cpu->stats;
    stats->traces_built = cpu->cache->traces_built;
    stats->trace_cache_flushes = cpu->cache->flushes;
    stats->smc_invalidations = cpu->cache->smc_invalidations;
}

/* ---- reset ---------------------------------------------------------------------- */

/* The register state shared by RESET and INIT (SDM vol. 3A, 9.1.1, table 9-1). */
static void reset_common(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;
    uint16_t data = X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_RW | X86_SEG_TYPE_A;
    uint32_t a, b, c, d;

    memset(env->regs, 0, sizeof(env->regs));
    x86_cpu_cpuid(cpu, 1, 0, &a, &b, &c, &d);
    env->regs[R_EDX] = a;
    env->rip = 0xfff0;
    env->zero = 0;
    x86_cpu_set_eflags(env, X86_EFLAGS_FIXED);
    x86_cpu_set_seg(env, R_CS, 0xf000, 0xffff0000, 0xffff, data | X86_SEG_TYPE_CODE);
    for (int s = 0; s < 6; s++) {
        if (s != R_CS) {
            x86_cpu_set_seg(env, s, 0, 0, 0xffff, data);
        }
    }
    env->gdt = (X86DescTable){ .base = 0, .limit = 0xffff };
    env->idt = (X86DescTable){ .base = 0, .limit = 0xffff };
    env->ldt = (X86Segment){ .limit = 0xffff, .attr = X86_SEG_P | 2 };
    env->tr = (X86Segment){ .limit = 0xffff, .attr = X86_SEG_P | 11 };
    env->cr[0] = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
    env->cr[2] = env->cr[3] = env->cr[4] = 0;
    env->efer = 0;
    memset(env->dr, 0, sizeof(env->dr));
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->halted = false;
    env->int_shadow = false;
    env->nmi_blocked = false;
    cpu->delivering = -1;
    cpu->shutdown = false;
    /* The BSP starts at the reset vector; APs wait for a startup IPI (8.4.1). */
    env->wait_sipi = cpu->apic_id != 0;
    x86_cpu_sync_state(cpu);
}

void x86_cpu_reset(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    reset_common(cpu);
    env->star = env->lstar = env->cstar = env->fmask = env->kernel_gs_base = 0;
    env->sysenter_cs = env->sysenter_esp = env->sysenter_eip = 0;
    env->pat = 0x0007040600070406ULL;
    env->tsc_offset = 0;
    env->tsc_offset = -(int64_t)(cpu->ops->clock_ns ? cpu->ops->clock_ns(cpu->opaque) : 0);
    env->tsc_aux = 0;
    env->misc_enable = 1;           /* fast strings */
    env->hwcr = 0;
    env->syscfg = 0;
    env->mtrr_deftype = 0;
    memset(env->mtrr_fixed, 0, sizeof(env->mtrr_fixed));
    memset(env->mtrr_var, 0, sizeof(env->mtrr_var));
    env->tpr = 0;
    memset(env->fpregs, 0, sizeof(env->fpregs));
    /*
     * FNINIT's control word (all exceptions masked, 64-bit precision, round to nearest), not
     * the 0040H of the SDM's power-up column (vol. 3A, table 9-1): QEMU resets to 037Fh
     * under every accelerator, and guests that skip FNINIT (multiboot kernels) see it.
     * The KVM glue writes this state to the vCPU (KVM_SET_XSAVE/KVM_SET_FPU) at reset.
     */
    env->fpuc = 0x37f;
    env->fpus = 0;
    env->fpstt = 0;
    env->fptag_valid = 0;
    env->fpop = 0;
    env->fpip = env->fpdp = 0;
    env->fpcs = env->fpds = 0;
    memset(env->xmm, 0, sizeof(env->xmm));
    env->mxcsr = 0x1f80;
    env->a20_masked = false;
    atomic_store(&cpu->interrupt_request, 0);
    x86_cpu_sync_state(cpu);
}

/* INIT: like RESET but MSRs, x87/SSE state and caches are kept (9.1). */
void x86_cpu_do_init(X86CPU *cpu)
{
    reset_common(cpu);
}

/* ---- object ----------------------------------------------------------------------- */

X86CPU *x86_cpu_new(const X86MachineOps *ops, void *opaque, X86CodeCache *cache)
{
    X86CPU *cpu = g_new0(X86CPU, 1);

    cpu->ops = ops;
    cpu->opaque = opaque;
    if (cache) {
        cache->refcount++;
        cpu->cache = cache;
    } else {
        cpu->cache = x86_code_cache_new();
    }
    g_ptr_array_add(cpu->cache->cpus, cpu);
    cpu->stop_rip = ~0ULL;
    x86_cpu_set_topology(cpu, 1, 1);
    cpu->delivering = -1;
    cpu->mmu_idx = 0;
    x86_tlb_flush(cpu, true);
    x86_cpu_reset(cpu);
    return cpu;
}

void x86_cpu_free(X86CPU *cpu)
{
    if (!cpu) {
        return;
    }
    g_ptr_array_remove(cpu->cache->cpus, cpu);
    x86_code_cache_unref(cpu->cache);
    g_free(cpu);
}
