/*
 * x86 under KVM: VM setup, the in-kernel PIC/IOAPIC/PIT, and the vCPU run hooks.
 *
 * With the in-kernel irqchip (KVM_CREATE_IRQCHIP: two 8259s, an IOAPIC and a LAPIC per
 * vCPU; KVM_CREATE_PIT2: the 8254) interrupts never leave the kernel.  Without it
 * (kernel-irqchip=off) the board's userspace PIC/IOAPIC/LAPIC raise CPU_INTERRUPT_HARD and
 * this file injects the vector they acknowledge (KVM_INTERRUPT) when the guest can take
 * it, asks KVM for an exit when it cannot (request_interrupt_window), and handles HLT,
 * INIT and SIPI itself.  The interrupt acknowledge is the vCPU glue's INTA cycle
 * (x86_vcpu_ack_interrupt: LAPIC, then the 8259); CR8 and IA32_APIC_BASE, which KVM keeps
 * in the run page, are mirrored into the userspace APIC (hw/intc/apic.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/kvm-x86.h"
#include "target/i386/x86-glue.h"
#include "hw/core/cpu-common.h"
#include "kite/runstate.h"
#include "kite/log.h"
#include <time.h>

/* The PC's ISA IRQ 0 (PIT) is IOAPIC pin 2 (MADT interrupt source override, as QEMU). */
#define KVM_X86_IOAPIC_PINS 24

bool kvm_x86_has_msr(uint32_t index)
{
    X86KvmState *ks = x86_kvm_state();

    for (unsigned i = 0; i < ks->nmsrs; i++) {
        if (ks->msrs[i] == index) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ VM */

static bool kvm_x86_require(int cap, const char *name, Error **errp)
{
    if (kvm_check_extension(cap) <= 0) {
        error_set(errp, ERROR_CLASS_KVM_MISSING_CAP, "KVM: capability %s missing", name);
        return false;
    }
    return true;
}
#define KVM_X86_REQUIRE(cap, errp) kvm_x86_require(cap, #cap, errp)

static struct kvm_cpuid2 *kvm_x86_get_supported_cpuid(KVMState *s, Error **errp)
{
    /* api.rst 4.46: E2BIG until nent is large enough. */
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        int r;

        c->nent = n;
        r = kvm_ioctl(s, KVM_GET_SUPPORTED_CPUID, c);
        if (r == 0) {
            return c;
        }
        g_free(c);
        if (r != -E2BIG) {
            error_setg(errp, "KVM: KVM_GET_SUPPORTED_CPUID failed: %s", g_strerror(-r));
            return NULL;
        }
    }
    error_setg(errp, "KVM: KVM_GET_SUPPORTED_CPUID has too many entries");
    return NULL;
}

static bool kvm_x86_get_msr_list(KVMState *s, X86KvmState *ks, Error **errp)
{
    struct kvm_msr_list probe = { .nmsrs = 0 };
    struct kvm_msr_list *list;
    int r = kvm_ioctl(s, KVM_GET_MSR_INDEX_LIST, &probe);

    if (r < 0 && r != -E2BIG) {
        error_setg(errp, "KVM: KVM_GET_MSR_INDEX_LIST failed: %s", g_strerror(-r));
        return false;
    }
    list = g_malloc0(sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
    list->nmsrs = probe.nmsrs;
    r = kvm_ioctl(s, KVM_GET_MSR_INDEX_LIST, list);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_GET_MSR_INDEX_LIST failed: %s", g_strerror(-r));
        g_free(list);
        return false;
    }
    ks->nmsrs = list->nmsrs;
    ks->msrs = g_memdup2(list->indices, list->nmsrs * sizeof(uint32_t));
    g_free(list);
    return true;
}

bool kvm_arch_init(KVMState *s, MachineState *ms, Error **errp)
{
    X86KvmState *ks = g_new0(X86KvmState, 1);
    int r;

    s->arch = ks;
    if (!KVM_X86_REQUIRE(KVM_CAP_EXT_CPUID, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_SET_TSS_ADDR, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_MP_STATE, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_VCPU_EVENTS, errp)) {
        goto fail;
    }
    ks->smp = ms ? ms->smp : (SMPConfig){ 1, 1, 1, 1, 1, 1 };
    ks->smp.sockets = MAX(ks->smp.sockets, 1u);
    ks->smp.dies = MAX(ks->smp.dies, 1u);
    ks->smp.cores = MAX(ks->smp.cores, 1u);
    ks->smp.threads = MAX(ks->smp.threads, 1u);
    ks->supported = kvm_x86_get_supported_cpuid(s, errp);
    if (!ks->supported || !kvm_x86_get_msr_list(s, ks, errp)) {
        goto fail;
    }
    if (kvm_check_extension(KVM_CAP_XSAVE) > 0) {
        int size = kvm_check_extension(KVM_CAP_XSAVE2);  /* the full size, >= 4096 */
        ks->xsave_size = MAX(size, (int)sizeof(struct kvm_xsave));
    }
    ks->has_xcrs = kvm_check_extension(KVM_CAP_XCRS) > 0;
    ks->has_debugregs = kvm_check_extension(KVM_CAP_DEBUGREGS) > 0;

    /*
     * VMX without unrestricted guest runs real mode through vm86 and needs a TSS and an
     * identity-mapped page table in guest-physical space; they sit just below the BIOS
     * (the board must keep 0xfeffc000-0xfeffffff out of RAM and report it reserved).
     */
    if (kvm_check_extension(KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t addr = KVM_X86_IDENTITY_MAP_ADDR;
        r = kvm_vm_ioctl(KVM_SET_IDENTITY_MAP_ADDR, &addr);
        if (r < 0) {
            error_setg(errp, "KVM: KVM_SET_IDENTITY_MAP_ADDR failed: %s", g_strerror(-r));
            goto fail;
        }
    }
    r = kvm_vm_ioctl(KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_X86_TSS_ADDR);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_SET_TSS_ADDR failed: %s", g_strerror(-r));
        goto fail;
    }
    return true;

fail:
    g_free(ks->supported);
    g_free(ks->msrs);
    g_free(ks);
    s->arch = NULL;
    return false;
}

/* ------------------------------------------------------------ in-kernel chips */

/* System reset: the chips go back to the state KVM created them in. */
static void kvm_x86_irqchip_reset(void *opaque)
{
    X86KvmState *ks = opaque;
    int r = 0;

    for (int i = 0; i < 2 && r == 0; i++) {
        r = kvm_vm_ioctl(KVM_SET_IRQCHIP, &ks->pic_reset[i]);
    }
    if (r == 0) {
        r = kvm_vm_ioctl(KVM_SET_IRQCHIP, &ks->ioapic_reset);
    }
    if (r == 0 && ks->has_pit) {
        r = kvm_vm_ioctl(KVM_SET_PIT2, &ks->pit_reset);
    }
    if (r < 0) {
        error_report("KVM: resetting the in-kernel interrupt controllers failed: %s",
                     g_strerror(-r));
    }
}

bool kvm_arch_irqchip_create(KVMState *s, Error **errp)
{
    X86KvmState *ks = s->arch;
    /*
     * Port 0x61 goes to KVM's speaker stub too (gate 2, OUT2, refresh toggle; no sound, no
     * NMI bits): it gates channel 2 the 8254 way, whereas driving the gate from userspace
     * means KVM_SET_PIT2, which reloads channel 0 and shifts the guest's timer tick.  A
     * board that wants port 0x61 itself drops the flag and uses kvm_pit_set_gate/get_out.
     */
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    int r;

    if (!KVM_X86_REQUIRE(KVM_CAP_IRQCHIP, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_IRQ_ROUTING, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_PIT2, errp) ||
        !KVM_X86_REQUIRE(KVM_CAP_PIT_STATE2, errp)) {
        return false;
    }
    r = kvm_vm_ioctl(KVM_CREATE_IRQCHIP, NULL);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_CREATE_IRQCHIP failed: %s", g_strerror(-r));
        return false;
    }
    ks->pic_reset[0].chip_id = KVM_IRQCHIP_PIC_MASTER;
    ks->pic_reset[1].chip_id = KVM_IRQCHIP_PIC_SLAVE;
    ks->ioapic_reset.chip_id = KVM_IRQCHIP_IOAPIC;
    if (kvm_vm_ioctl(KVM_GET_IRQCHIP, &ks->pic_reset[0]) < 0 ||
        kvm_vm_ioctl(KVM_GET_IRQCHIP, &ks->pic_reset[1]) < 0 ||
        kvm_vm_ioctl(KVM_GET_IRQCHIP, &ks->ioapic_reset) < 0) {
        error_setg(errp, "KVM: KVM_GET_IRQCHIP failed");
        return false;
    }
    r = kvm_vm_ioctl(KVM_CREATE_PIT2, &pit);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_CREATE_PIT2 failed: %s", g_strerror(-r));
        return false;
    }
    r = kvm_vm_ioctl(KVM_GET_PIT2, &ks->pit_reset);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_GET_PIT2 failed: %s", g_strerror(-r));
        return false;
    }
    ks->has_pit = true;
    system_register_reset(kvm_x86_irqchip_reset, ks);
    return true;
}

/*
 * The PC's GSI routing (QEMU's kvm_pc_setup_irq_routing): GSI 0-7 to the master 8259 but
 * not GSI 2 (its cascade input), 8-15 to the slave, and every GSI to the IOAPIC pin of the
 * same number, except that ISA IRQ 0 is wired to pin 2 and pin 0 is unused (ACPI MADT
 * "interrupt source override" 0 -> 2, which the board's tables declare).
 */
bool kvm_arch_irqchip_setup(KVMState *s, int num_gsi, Error **errp)
{
    int r;

    if (num_gsi <= 0 || num_gsi > KVM_X86_IOAPIC_PINS || (unsigned)num_gsi > s->gsi_count) {
        error_setg(errp, "KVM: cannot route %d GSIs (the IOAPIC has %d pins)", num_gsi,
                   KVM_X86_IOAPIC_PINS);
        return false;
    }
    for (int i = 0; i < MIN(num_gsi, 16); i++) {
        if (i < 8 && i != 2) {
            kvm_irqchip_add_irq_route(s, i, KVM_IRQCHIP_PIC_MASTER, i);
        } else if (i >= 8) {
            kvm_irqchip_add_irq_route(s, i, KVM_IRQCHIP_PIC_SLAVE, i - 8);
        }
    }
    for (int i = 0; i < num_gsi; i++) {
        if (i == 0) {
            kvm_irqchip_add_irq_route(s, 0, KVM_IRQCHIP_IOAPIC, 2);
        } else if (i != 2) {
            kvm_irqchip_add_irq_route(s, i, KVM_IRQCHIP_IOAPIC, i);
        }
    }
    r = kvm_irqchip_commit_routes_state(s);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_SET_GSI_ROUTING failed: %s", g_strerror(-r));
        return false;
    }
    return true;
}

/*
 * An HPET in LegacyReplacement mode owns IRQ 0: the in-kernel 8254 keeps counting but stops
 * interrupting while KVM_PIT_FLAGS_HPET_LEGACY is set (as QEMU's kvm_pit_irq_control).  The
 * flag travels with KVM_SET_PIT2, which reloads the channels; only set it on a change.
 */
void kvm_arch_pit_hpet_legacy(KVMState *s, bool on)
{
    X86KvmState *ks = s->arch;
    struct kvm_pit_state2 st;

    if (!ks || !ks->has_pit || kvm_vm_ioctl(KVM_GET_PIT2, &st) < 0) {
        return;
    }
    if (!!(st.flags & KVM_PIT_FLAGS_HPET_LEGACY) == on) {
        return;
    }
    st.flags = on ? st.flags | KVM_PIT_FLAGS_HPET_LEGACY : st.flags & ~KVM_PIT_FLAGS_HPET_LEGACY;
    if (kvm_vm_ioctl(KVM_SET_PIT2, &st) < 0) {
        error_report("KVM: KVM_SET_PIT2 (HPET legacy %s) failed", on ? "on" : "off");
    }
}

/*
 * Port 0x61 for the in-kernel 8254.  Setting the gate goes through KVM_SET_PIT2, which
 * reloads every channel; only do it on a real change.
 */
int kvm_pit_set_gate(int channel, bool gate)
{
    struct kvm_pit_state2 st;
    int r;

    if (!kvm_irqchip_in_kernel() || !x86_kvm_state()->has_pit) {
        return -ENOSYS;
    }
    if (channel < 0 || channel > 2) {
        return -EINVAL;
    }
    r = kvm_vm_ioctl(KVM_GET_PIT2, &st);
    if (r < 0 || st.channels[channel].gate == gate) {
        return r < 0 ? r : 0;
    }
    st.channels[channel].gate = gate;
    return kvm_vm_ioctl(KVM_SET_PIT2, &st);
}

/*
 * OUT of a channel from its mode and the clocks elapsed since the count was loaded (Intel
 * 8254 datasheet, "Mode definitions"; the input clock is 1.193182 MHz).  KVM stamps the
 * load time with the host's CLOCK_MONOTONIC.
 */
int kvm_pit_get_out(int channel, bool *out)
{
    struct kvm_pit_state2 st;
    struct kvm_pit_channel_state *c;
    struct timespec ts;
    int64_t now, elapsed;
    uint64_t ticks, count;
    int r;

    if (!kvm_irqchip_in_kernel() || !x86_kvm_state()->has_pit) {
        return -ENOSYS;
    }
    if (channel < 0 || channel > 2) {
        return -EINVAL;
    }
    r = kvm_vm_ioctl(KVM_GET_PIT2, &st);
    if (r < 0) {
        return r;
    }
    c = &st.channels[channel];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = ts.tv_sec * 1000000000ll + ts.tv_nsec;
    elapsed = MAX(now - c->count_load_time, 0);
    ticks = (uint64_t)((unsigned __int128)elapsed * 1193182u / 1000000000u);
    count = c->count ? c->count : 0x10000;
    switch (c->mode) {
    case 0:     /* interrupt on terminal count: low, then high at TC */
    case 1:     /* hardware one-shot: low from the trigger to TC */
        *out = ticks >= count;
        break;
    case 2:     /* rate generator: low for the one clock when the count is 1 */
        *out = !c->gate || ticks % count != count - 1;
        break;
    case 3:     /* square wave: high for ceil(N/2), low for floor(N/2) */
        *out = !c->gate || ticks % count < (count + 1) / 2;
        break;
    case 4:     /* software / hardware strobe: low for one clock at TC */
    case 5:
        *out = ticks != count;
        break;
    default:    /* never programmed */
        *out = false;
        break;
    }
    return 0;
}

/* ------------------------------------------------------------ vCPUs */

/*
 * The TSC frequency: a requested one (X86Vcpu.tsc_khz) needs KVM_CAP_TSC_CONTROL, which
 * many hosts lack; then the guest runs at the host's rate, which is recorded instead.
 */
static void kvm_x86_setup_tsc_khz(X86Vcpu *cpu)
{
    CPUState *cs = CPU(cpu);
    int r;

    if (cpu->tsc_khz) {
        r = kvm_check_extension(KVM_CAP_TSC_CONTROL) > 0
            ? kvm_vcpu_ioctl(cs, KVM_SET_TSC_KHZ, (void *)(uintptr_t)cpu->tsc_khz) : -ENOTSUP;
        if (r < 0) {
            warn_report("KVM: cannot set the TSC to %" PRIu64 " kHz (%s); the guest's TSC "
                        "runs at the host's rate", cpu->tsc_khz,
                        r == -ENOTSUP ? "no KVM_CAP_TSC_CONTROL" : g_strerror(-r));
        }
    }
    r = kvm_check_extension(KVM_CAP_GET_TSC_KHZ) > 0 ? kvm_vcpu_ioctl(cs, KVM_GET_TSC_KHZ) : -1;
    if (r > 0) {
        cpu->tsc_khz = r;
    }
}

unsigned long kvm_arch_vcpu_id(CPUState *cs)
{
    return X86_VCPU(cs)->apic_id;      /* the LAPIC ID is the KVM vCPU id, as in QEMU */
}

bool kvm_arch_init_vcpu(CPUState *cs, Error **errp)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    X86KvmState *ks = x86_kvm_state();
    X86KvmVcpu *xs = g_new0(X86KvmVcpu, 1);

    kvm_vcpu(cs)->arch = xs;
    if (ks->xsave_size) {
        xs->xsave = g_malloc0(ks->xsave_size);
    }
    if (!kvm_x86_setup_cpuid(cpu, errp)) {
        kvm_arch_destroy_vcpu(cs);
        return false;
    }
    kvm_x86_setup_tsc_khz(cpu);
    kvm_x86_reset_vcpu_state(cpu);
    return true;
}

void kvm_arch_destroy_vcpu(CPUState *cs)
{
    X86KvmVcpu *xs = x86_kvm_vcpu(cs);

    if (xs) {
        g_free(xs->xsave);
        g_free(xs);
        kvm_vcpu(cs)->arch = NULL;
    }
}

int kvm_arch_get_registers(CPUState *cs)
{
    return kvm_x86_get_registers(cs);
}

int kvm_arch_put_registers(CPUState *cs, int level)
{
    if (level >= KVM_PUT_RESET_STATE && kvm_irqchip_in_kernel()) {
        /* The kernel handles HLT and wait-for-SIPI (MP state); never sleep in userspace. */
        cs->halted = false;
    }
    return kvm_x86_put_registers(cs, level);
}

/*
 * INIT (SDM vol. 3A, 9.1 and table 9-1): the processor state of a RESET, except that the
 * x87/SSE state, the MTRRs and the other MSRs keep their values; an AP then waits for a
 * SIPI, the BSP starts at the reset vector.
 */
static void kvm_x86_do_init(X86Vcpu *cpu)
{
    CPUState *cs = CPU(cpu);
    CPUX86State *env = cpu->env;
    CPUX86State *saved = g_memdup2(env, sizeof(*env));

    x86_cpu_reset(cpu->interp);
    memcpy(env->fpregs, saved->fpregs, sizeof(env->fpregs));
    env->fpuc = saved->fpuc;
    env->fpus = saved->fpus;
    env->fpstt = saved->fpstt;
    env->fptag_valid = saved->fptag_valid;
    env->fpop = saved->fpop;
    env->fpip = saved->fpip;
    env->fpdp = saved->fpdp;
    env->fpcs = saved->fpcs;
    env->fpds = saved->fpds;
    memcpy(env->xmm, saved->xmm, sizeof(env->xmm));
    env->mxcsr = saved->mxcsr;
    env->star = saved->star;
    env->lstar = saved->lstar;
    env->cstar = saved->cstar;
    env->fmask = saved->fmask;
    env->kernel_gs_base = saved->kernel_gs_base;
    env->sysenter_cs = saved->sysenter_cs;
    env->sysenter_esp = saved->sysenter_esp;
    env->sysenter_eip = saved->sysenter_eip;
    env->pat = saved->pat;
    env->tsc_aux = saved->tsc_aux;
    env->misc_enable = saved->misc_enable;
    env->mtrr_deftype = saved->mtrr_deftype;
    memcpy(env->mtrr_fixed, saved->mtrr_fixed, sizeof(env->mtrr_fixed));
    memcpy(env->mtrr_var, saved->mtrr_var, sizeof(env->mtrr_var));
    env->wait_sipi = !cpu->bsp;
    env->halted = false;
    x86_cpu_sync_state(cpu->interp);
    g_free(saved);
    if (cpu->apic) {
        apic_init_reset(cpu->apic);
    }
    /* Pending exceptions and interrupts are dropped. */
    memset(&x86_kvm_vcpu(cs)->events, 0, sizeof(x86_kvm_vcpu(cs)->events));
    cs->halted = env->wait_sipi;
    cs->vcpu_dirty = true;
}

/* SIPI (SDM vol. 3A, 8.4.4.1): start in real mode at vector * 4 KiB. */
static void kvm_x86_do_sipi(X86Vcpu *cpu, uint8_t v)
{
    CPUX86State *env = cpu->env;

    x86_cpu_set_seg(env, R_CS, v << 8, (uint32_t)v << 12, 0xffff,
                    X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW |
                    X86_SEG_TYPE_A);
    env->rip = 0;
    env->wait_sipi = false;
    env->halted = false;
    x86_cpu_sync_state(cpu->interp);
    CPU(cpu)->halted = false;
    CPU(cpu)->vcpu_dirty = true;
}

static bool kvm_x86_if_set(X86Vcpu *cpu)
{
    return x86_cpu_get_eflags(cpu->env) & X86_EFLAGS_IF;
}

static uint32_t kvm_x86_requests(CPUState *cs)
{
    return __atomic_load_n(&cs->interrupt_request, __ATOMIC_SEQ_CST);
}

static void kvm_x86_pull(CPUState *cs)
{
    if (!cs->vcpu_dirty) {
        kvm_x86_get_registers(cs);
        cs->vcpu_dirty = true;
    }
}

bool kvm_arch_process_async_events(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    uint32_t req = kvm_x86_requests(cs);

    if (req & CPU_INTERRUPT_INIT) {
        cpu_reset_interrupt(cs, CPU_INTERRUPT_INIT);
        kvm_x86_pull(cs);
        kvm_x86_do_init(cpu);
        if (kvm_irqchip_in_kernel()) {
            /*
             * The in-kernel LAPIC takes its INIT values (SDM vol. 3A, 10.4.7.3: as RESET,
             * ID kept), an AP waits for SIPI; the rest (TSC too) is written back as is.
             */
            kvm_x86_lapic_reset_state(cpu);
            x86_kvm_vcpu(cs)->mp_state = KVM_MP_STATE_INIT_RECEIVED;
            kvm_arch_put_registers(cs, KVM_PUT_FULL_STATE);
            cs->vcpu_dirty = false;
        }
    }
    if (kvm_irqchip_in_kernel()) {
        cs->halted = false;
        return false;
    }
    if (req & (CPU_INTERRUPT_POLL | CPU_INTERRUPT_TPR)) {
        /* The userspace APIC re-evaluates on its own; TPR travels in run->cr8. */
        cpu_reset_interrupt(cs, CPU_INTERRUPT_POLL | CPU_INTERRUPT_TPR);
    }
    if (req & CPU_INTERRUPT_SIPI) {
        int vector = cpu->apic ? apic_get_sipi_vector(cpu->apic) : -1;
        cpu_reset_interrupt(cs, CPU_INTERRUPT_SIPI);
        if (cpu->env->wait_sipi && vector >= 0) {
            kvm_x86_pull(cs);
            kvm_x86_do_sipi(cpu, vector);
        }
    }
    if (!cpu->env->wait_sipi &&
        (((req & CPU_INTERRUPT_HARD) && kvm_x86_if_set(cpu)) || (req & CPU_INTERRUPT_NMI))) {
        cs->halted = false;
        cpu->env->halted = false;
    }
    return cs->halted;
}

void kvm_arch_pre_run(CPUState *cs, struct kvm_run *run)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    uint32_t req = kvm_x86_requests(cs);

    if (req & CPU_INTERRUPT_NMI) {
        int r;
        cpu_reset_interrupt(cs, CPU_INTERRUPT_NMI);
        r = kvm_vcpu_ioctl(cs, KVM_NMI);
        if (r < 0) {
            error_report("KVM: KVM_NMI failed: %s", g_strerror(-r));
        }
    }
    if (kvm_irqchip_in_kernel()) {
        return;
    }
    /*
     * A maskable interrupt is taken only with IF set and outside an STI/MOV SS shadow
     * (SDM vol. 3A, 6.8.1 and 6.8.3); KVM says so in ready_for_interrupt_injection.
     */
    if ((req & CPU_INTERRUPT_HARD) && run->ready_for_interrupt_injection &&
        kvm_x86_if_set(cpu)) {
        int vector = x86_vcpu_ack_interrupt(cpu);
        if (vector >= 0) {
            struct kvm_interrupt intr = { .irq = vector };
            int r = kvm_vcpu_ioctl(cs, KVM_INTERRUPT, &intr);
            if (r < 0) {
                error_report("KVM: KVM_INTERRUPT %d failed: %s", vector, g_strerror(-r));
            }
        } else {
            /* Nothing to acknowledge after all (spurious): stop asking for windows. */
            cpu_reset_interrupt(cs, CPU_INTERRUPT_HARD);
        }
    }
    run->request_interrupt_window = (kvm_x86_requests(cs) & CPU_INTERRUPT_HARD) != 0;
    if (cpu->apic) {
        run->cr8 = apic_get_tpr(cpu->apic) & 0xf;
    }
}

void kvm_arch_post_run(CPUState *cs, struct kvm_run *run)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    X86KvmVcpu *xs = x86_kvm_vcpu(cs);
    uint32_t eflags = x86_cpu_get_eflags(cpu->env);

    /* IF decides has_work and injection; the rest of env is refreshed on demand. */
    if (!cs->vcpu_dirty) {
        x86_cpu_set_eflags(cpu->env, run->if_flag ? eflags | X86_EFLAGS_IF
                                                  : eflags & ~X86_EFLAGS_IF);
    }
    if (kvm_irqchip_in_kernel() || !cpu->apic) {
        return;
    }
    apic_set_tpr(cpu->apic, run->cr8);
    if (run->apic_base != xs->apic_base) {
        /* The guest wrote IA32_APIC_BASE: KVM took it, the userspace APIC must follow. */
        xs->apic_base = run->apic_base;
        if (!apic_set_base(cpu->apic, run->apic_base)) {
            kite_log_mask(LOG_GUEST_ERROR, "KVM: IA32_APIC_BASE 0x%llx refused by the APIC",
                          (unsigned long long)run->apic_base);
        }
    }
}

void kvm_arch_update_guest_debug(CPUState *cs, struct kvm_guest_debug *dbg)
{
    uint64_t hw[CPU_MAX_HW_BREAKPOINTS];
    int n = cpu_hw_breakpoints(hw);

    memset(dbg, 0, sizeof(*dbg));
    if (cs->singlestep_enabled) {
        dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    }
    if (cpu_sw_breakpoints_present()) {
        dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    }
    if (n) {
        /*
         * Instruction breakpoints in DR0-DR3: DR7 G<n> set, R/W<n> = 00 (execute) and
         * LEN<n> = 00, as execution breakpoints require (SDM vol. 3B, 17.2.4).
         */
        dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
        for (int i = 0; i < n; i++) {
            dbg->arch.debugreg[i] = hw[i];
            dbg->arch.debugreg[7] |= 2ULL << (2 * i);
        }
    }
}

/*
 * KVM_EXIT_DEBUG: a single step, a debug-register hit, or an INT3 while the debugger
 * intercepts them.  A #DB or #BP that is not the debugger's goes back to the guest.
 */
static int kvm_x86_handle_debug(CPUState *cs, const struct kvm_debug_exit_arch *a)
{
    struct kvm_vcpu_events ev;

    if (a->exception == 1) {
        if (cs->singlestep_enabled || (a->dr6 & 0xf)) {
            cpu_debug_stop(cs);
            return 1;
        }
    } else if (a->exception == 3 && cpu_breakpoint_test(a->pc, BP_SW)) {
        cpu_debug_stop(cs);
        return 1;
    }
    if (kvm_vcpu_ioctl(cs, KVM_GET_VCPU_EVENTS, &ev) == 0) {
        ev.exception.injected = 1;
        ev.exception.nr = a->exception;
        ev.exception.has_error_code = 0;
        ev.flags = 0;
        kvm_vcpu_ioctl(cs, KVM_SET_VCPU_EVENTS, &ev);
    }
    return 0;
}

int kvm_arch_handle_exit(CPUState *cs, struct kvm_run *run)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    uint32_t req;

    switch (run->exit_reason) {
    case KVM_EXIT_HLT:
        /* Only without the in-kernel LAPIC.  HLT resumes on an interrupt or NMI. */
        req = kvm_x86_requests(cs);
        if (((req & CPU_INTERRUPT_HARD) && kvm_x86_if_set(cpu)) ||
            (req & CPU_INTERRUPT_NMI)) {
            return 0;
        }
        cs->halted = true;
        cpu->env->halted = true;
        return 1;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_SET_TPR:
        return 0;           /* pre_run injects / syncs the TPR */
    case KVM_EXIT_DEBUG:
        return kvm_x86_handle_debug(cs, &run->debug.arch);
    default:
        return -1;
    }
}
