/*
 * Connecting the x86 interpreter to the machine: X86MachineOps over the memory API and the
 * interrupt controllers, and the TCGCPUOps the interpreter accelerator drives.
 *
 * The interpreter runs without the BQL; every callback here that touches devices or the
 * memory map takes it.  Interrupt requests live in CPUState (set by the APIC/PIC from any
 * thread); they are mirrored into the interpreter's own request word: level-triggered HARD
 * as a copy, edge-triggered NMI/INIT/SIPI by moving the bit.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "target/i386/x86-glue.h"
#include "hw/intc/apic.h"
#include "kite/memory.h"
#include "kite/thread.h"
#include "kite/timer.h"

int (*x86_pic_read_irq)(void);

/* Call fn with the BQL held, whatever the caller holds. */
#define WITH_BQL(stmt) \
    do { \
        bool locked_ = bql_locked(); \
        if (!locked_) { \
            bql_lock(); \
        } \
        stmt; \
        if (!locked_) { \
            bql_unlock(); \
        } \
    } while (0)

static void sync_requests(X86Vcpu *cpu);

static uint8_t *glue_ram_page(void *opaque, uint64_t paddr, bool write)
{
    uint8_t *host = NULL;

    WITH_BQL({
        MemoryRegionSection s = address_space_find_section(&address_space_memory, paddr);
        hwaddr len = KITE_PAGE_SIZE;
        hwaddr page = paddr & ~(hwaddr)(KITE_PAGE_SIZE - 1);
        /* Pages under dirty logging take the slow path so every write is recorded. */
        if (s.mr && !(write && s.mr->dirty_log_mask)) {
            host = address_space_map(&address_space_memory, page, &len, write);
            if (len < KITE_PAGE_SIZE) {
                host = NULL;
            }
        }
    });
    return host;
}

/*
 * Dirty-logged RAM (a framebuffer the display scans, or migration): the interpreter writes
 * it directly and records each store in the RAM block's bitmaps, instead of a trip through
 * the BQL and the memory core per store.
 */
static uint8_t *glue_ram_page_logged(void *opaque, uint64_t paddr, void **log)
{
    uint8_t *host = NULL;

    WITH_BQL({
        MemoryRegionSection s = address_space_find_section(&address_space_memory, paddr);
        hwaddr len = KITE_PAGE_SIZE;
        hwaddr page = paddr & ~(hwaddr)(KITE_PAGE_SIZE - 1);
        uint64_t off;
        if (s.mr && memory_region_is_ram(s.mr) && !s.mr->readonly) {
            host = address_space_map(&address_space_memory, page, &len, true);
            if (len < KITE_PAGE_SIZE || !(*log = ram_block_from_host(host, &off))) {
                host = NULL;
            }
        }
    });
    return host;
}

static void glue_note_write(void *opaque, void *log, const uint8_t *host, unsigned size)
{
    RAMBlock *rb = log;

    ram_block_set_dirty(rb, host - rb->host, size);
}

static uint64_t glue_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
    uint64_t v = 0;

    WITH_BQL(address_space_load(&address_space_memory, paddr, &v, size));
    return v;
}

static void glue_mmio_write(void *opaque, uint64_t paddr, uint64_t val, unsigned size)
{
    WITH_BQL(address_space_store(&address_space_memory, paddr, val, size));
    /* The access may have raised an interrupt for this very CPU (self-IPI, EOI). */
    sync_requests(opaque);
}

static uint32_t glue_pio_read(void *opaque, uint16_t port, unsigned size)
{
    uint64_t v = 0;

    WITH_BQL(address_space_load(&address_space_io, port, &v, size));
    return v;
}

static void glue_pio_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
    WITH_BQL(address_space_store(&address_space_io, port, val, size));
    /* The access may have raised an interrupt for this very CPU (self-IPI, EOI). */
    sync_requests(opaque);
}

/* Copy CPUState's requests into the interpreter's word (see the header comment). */
static void sync_requests(X86Vcpu *cpu)
{
    CPUState *cs = CPU(cpu);
    uint32_t edge = CPU_INTERRUPT_NMI | CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI;
    uint32_t taken = __atomic_fetch_and(&cs->interrupt_request, ~edge, __ATOMIC_ACQ_REL);
    uint32_t req = __atomic_load_n(&cs->interrupt_request, __ATOMIC_ACQUIRE);

    if (taken & CPU_INTERRUPT_NMI) {
        x86_cpu_interrupt(cpu->interp, X86_INT_NMI);
    }
    /*
     * cpu_exit() from this vCPU's own thread (a port write asking for reset or exit) does
     * not kick: the trace must still end here, not a time slice later.
     */
    if (__atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE)) {
        x86_cpu_interrupt(cpu->interp, X86_INT_EXIT);
    }
    /* INIT before SIPI: INIT resets the APIC and puts an AP back to waiting for SIPI. */
    if (taken & CPU_INTERRUPT_INIT) {
        if (cpu->apic) {
            WITH_BQL(apic_init_reset(cpu->apic));
        }
        x86_cpu_interrupt(cpu->interp, X86_INT_INIT);
    }
    if (taken & CPU_INTERRUPT_SIPI) {
        int vector = -1;
        if (cpu->apic) {
            WITH_BQL(vector = apic_get_sipi_vector(cpu->apic));
        }
        if (vector >= 0) {
            x86_cpu_sipi(cpu->interp, vector);
        }
    }
    if (req & CPU_INTERRUPT_HARD) {
        x86_cpu_interrupt(cpu->interp, X86_INT_HARD);
    } else {
        x86_cpu_interrupt_clear(cpu->interp, X86_INT_HARD);
    }
}

int x86_vcpu_ack_interrupt(X86Vcpu *cpu)
{
    int vector = -1;

    if (cpu->apic) {
        vector = apic_get_interrupt(cpu->apic);
        if (vector < 0 && apic_accept_pic_intr(cpu->apic) && x86_pic_read_irq) {
            vector = x86_pic_read_irq();
        }
    } else if (x86_pic_read_irq) {
        vector = x86_pic_read_irq();
    }
    return vector;
}

static int glue_ack_interrupt(void *opaque)
{
    X86Vcpu *cpu = opaque;
    CPUState *cs = CPU(cpu);
    int vector = -1;

    /*
     * The interpreter saw a mirrored request; the line may have dropped since (the guest
     * masked it).  Only acknowledge what is still asserted, as the INTR pin is sampled.
     */
    WITH_BQL({
        if (__atomic_load_n(&cs->interrupt_request, __ATOMIC_ACQUIRE) & CPU_INTERRUPT_HARD) {
            vector = x86_vcpu_ack_interrupt(cpu);
        }
    });
    sync_requests(cpu);
    return vector;
}

static uint64_t glue_clock_ns(void *opaque)
{
    return clock_get_ns(KITE_CLOCK_VIRTUAL);
}

#define MSR_IA32_APICBASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_K8_INT_PENDING_MSG 0xc0010055
#define MSR_MCG_CAP     0x179
#define MSR_MCG_STATUS  0x17a
#define MSR_MCG_CTL     0x17b
#define MSR_MC0_CTL     0x400
#define MCG_CTL_P       (1ULL << 8)
#define MCG_SER_P       (1ULL << 24)

/*
 * Machine-check architecture registers as QEMU's TCG has them for qemu64 (SDM vol. 3B
 * 15.3): MCG_CAP with MCG_CTL and 10 banks, MCG_CTL and each MCi_CTL all ones at power-on
 * and taking only all zeros or all ones (other values are ignored, as QEMU does; Linux's
 * K8 quirk writes one), MCi_STATUS/ADDR/MISC plain storage.  No error is ever logged.
 */
static bool mca_read(X86Vcpu *cpu, uint32_t msr, uint64_t *val)
{
    if (msr == MSR_MCG_CAP) {
        *val = MCG_CTL_P | MCG_SER_P | X86_MCE_BANKS;
    } else if (msr == MSR_MCG_STATUS) {
        *val = cpu->mcg_status;
    } else if (msr == MSR_MCG_CTL) {
        *val = cpu->mcg_ctl;
    } else if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * X86_MCE_BANKS) {
        *val = cpu->mce_banks[msr - MSR_MC0_CTL];
    } else {
        return false;
    }
    return true;
}

static bool mca_write(X86Vcpu *cpu, uint32_t msr, uint64_t val)
{
    bool ctl_ok = val == 0 || val == ~0ULL;

    if (msr == MSR_MCG_CAP) {
        return false;                       /* read-only */
    } else if (msr == MSR_MCG_STATUS) {
        cpu->mcg_status = val;
    } else if (msr == MSR_MCG_CTL) {
        if (ctl_ok) {
            cpu->mcg_ctl = val;
        }
    } else if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * X86_MCE_BANKS) {
        if ((msr - MSR_MC0_CTL) % 4 != 0 || ctl_ok) {
            cpu->mce_banks[msr - MSR_MC0_CTL] = val;
        }
    } else {
        return false;
    }
    return true;
}

static bool glue_msr_read(void *opaque, uint32_t msr, uint64_t *val)
{
    X86Vcpu *cpu = opaque;
    bool ok = false;

    if (mca_read(cpu, msr, val)) {
        return true;
    }
    if (msr == MSR_K8_INT_PENDING_MSG) {
        /*
         * K8 interrupt pending message register (BKDG family 0Fh, MSRC001_0055): Linux
         * reads it for AMD erratum 400; no C1E here, so zero, as under QEMU's TCG.
         */
        *val = 0;
        return true;
    }
    if (!cpu->apic) {
        return false;
    }
    WITH_BQL({
        if (msr == MSR_IA32_APICBASE) {
            *val = apic_get_base(cpu->apic);
            ok = true;
        } else if (msr == MSR_IA32_TSC_DEADLINE) {
            *val = apic_get_tsc_deadline(cpu->apic);
            ok = true;
        }
    });
    return ok;
}

static bool glue_msr_write(void *opaque, uint32_t msr, uint64_t val)
{
    X86Vcpu *cpu = opaque;
    bool ok = false;

    if (mca_write(cpu, msr, val)) {
        return true;
    }
    if (msr == MSR_K8_INT_PENDING_MSG) {
        return true;                        /* ignored, as QEMU's TCG does */
    }
    if (!cpu->apic) {
        return false;
    }
    WITH_BQL({
        if (msr == MSR_IA32_APICBASE) {
            ok = apic_set_base(cpu->apic, val);
        } else if (msr == MSR_IA32_TSC_DEADLINE) {
            apic_set_tsc_deadline(cpu->apic, val);
            ok = true;
        }
    });
    sync_requests(cpu);
    return ok;
}

static uint8_t glue_get_tpr(void *opaque)
{
    X86Vcpu *cpu = opaque;
    uint8_t v = 0;

    if (cpu->apic) {
        WITH_BQL(v = apic_get_tpr(cpu->apic));
    }
    return v;
}

static void glue_set_tpr(void *opaque, uint8_t cr8)
{
    X86Vcpu *cpu = opaque;

    if (cpu->apic) {
        WITH_BQL(apic_set_tpr(cpu->apic, cr8));
        sync_requests(cpu);
    }
}

static bool glue_debug_bp_hit(void *opaque, uint64_t la)
{
    return cpu_breakpoint_test(la, BP_SW);
}

const X86MachineOps x86_glue_machine_ops = {
    .ram_page = glue_ram_page,
    .ram_page_logged = glue_ram_page_logged,
    .note_write = glue_note_write,
    .mmio_read = glue_mmio_read,
    .mmio_write = glue_mmio_write,
    .pio_read = glue_pio_read,
    .pio_write = glue_pio_write,
    .ack_interrupt = glue_ack_interrupt,
    .clock_ns = glue_clock_ns,
    .msr_read = glue_msr_read,
    .msr_write = glue_msr_write,
    .get_tpr = glue_get_tpr,
    .set_tpr = glue_set_tpr,
    .debug_bp_hit = glue_debug_bp_hit,
};

/* TSC as the interpreter counts it (1 GHz from the virtual clock), for the APIC deadline. */
uint64_t x86_vcpu_tsc_now(void *opaque)
{
    X86Vcpu *cpu = opaque;

    return clock_get_ns(KITE_CLOCK_VIRTUAL) + cpu->env->tsc_offset;
}

/* ------------------------------------------------------------ TCGCPUOps */

static TCGExitReason x86_tcg_exec(CPUState *cs, int64_t budget, int64_t *executed)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    X86ExitReason r;

    sync_requests(cpu);
    if (__atomic_load_n(&cs->exit_request, __ATOMIC_ACQUIRE)) {
        return TCG_EXIT_REQUEST;
    }
    r = x86_cpu_exec(cpu->interp, budget, executed);
    switch (r) {
    case X86_EXIT_HLT:
        return TCG_EXIT_HALTED;
    case X86_EXIT_SHUTDOWN:
        return TCG_EXIT_SHUTDOWN;
    case X86_EXIT_DEBUG:
        return TCG_EXIT_DEBUG;
    case X86_EXIT_REQUEST:
        return TCG_EXIT_REQUEST;
    case X86_EXIT_BUDGET:
    default:
        return TCG_EXIT_BUDGET;
    }
}

static void x86_tcg_kick(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);

    if (cpu->interp) {
        sync_requests(cpu);
        x86_cpu_interrupt(cpu->interp, X86_INT_EXIT);
    }
}

static void x86_tcg_flush_tlb(CPUState *cs)
{
    x86_cpu_tlb_flush_all(X86_VCPU(cs)->interp);
}

static void glue_code_write(RAMBlock *rb, uint64_t offset, uint64_t len);

/* The gdb stub changed breakpoints or single-stepping (VM stopped). */
static void x86_tcg_update_debug(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    uint64_t hw[CPU_MAX_HW_BREAKPOINTS];
    int n = cpu_hw_breakpoints(hw);

    if (cpu->interp) {
        x86_cpu_set_debug(cpu->interp, cs->singlestep_enabled & SSTEP_NOIRQ,
                          cpu_sw_breakpoints_present(), hw, n);
    }
}

/* CPUID the guest sees: exactly what the interpreter implements. */
static void x86_tcg_init_vcpu(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    uint32_t max_basic, max_ext, b, c, d;

    g_array_set_size(cpu->cpuid, 0);
    x86_cpu_cpuid(cpu->interp, 0, 0, &max_basic, &b, &c, &d);
    x86_cpu_cpuid(cpu->interp, 0x80000000, 0, &max_ext, &b, &c, &d);
    for (uint32_t leaf = 0; leaf <= MIN(max_basic, 0x20); leaf++) {
        X86CpuidEntry e = { .function = leaf };
        x86_cpu_cpuid(cpu->interp, leaf, 0, &e.eax, &e.ebx, &e.ecx, &e.edx);
        g_array_append_val(cpu->cpuid, e);
    }
    for (uint32_t leaf = 0x80000000; leaf <= MIN(max_ext, 0x80000020); leaf++) {
        X86CpuidEntry e = { .function = leaf };
        x86_cpu_cpuid(cpu->interp, leaf, 0, &e.eax, &e.ebx, &e.ecx, &e.edx);
        g_array_append_val(cpu->cpuid, e);
    }
    if (cpu->apic) {
        apic_set_tsc_clock(cpu->apic, x86_vcpu_tsc_now, cpu, 1000000);
    }
    ram_code_write_hook = glue_code_write;
}

const TCGCPUOps x86_tcg_ops = {
    .init_vcpu = x86_tcg_init_vcpu,
    .exec = x86_tcg_exec,
    .kick = x86_tcg_kick,
    .flush_tlb = x86_tcg_flush_tlb,
    .update_debug = x86_tcg_update_debug,
};

/* DMA and loaders wrote guest RAM: decoded code there is stale. */
static void invalidate_gpa(hwaddr gpa, uint64_t len, void *opaque)
{
    x86_code_cache_invalidate(opaque, gpa, len);
}

static void glue_code_write(RAMBlock *rb, uint64_t offset, uint64_t len)
{
    CPUState *cs;

    /* vCPUs share one code cache (they run on one thread): the first one's will do. */
    CPU_FOREACH(cs) {
        X86Vcpu *cpu = X86_VCPU(cs);
        if (cpu->interp) {
            address_space_ram_to_gpa(&address_space_memory, rb, offset, len, invalidate_gpa,
                                     x86_cpu_code_cache(cpu->interp));
            return;
        }
    }
}
