/*
 * A minimal KVM machine for accelerator tests: the kvm accelerator, 1 MiB of RAM at 0, one
 * qemu64 vCPU, and test ports the guest talks to:
 *
 *     0xf0 (out)  done: records the value and wakes the test
 *     0xf4 (out)  log: appends the value (any size) to kh_log
 *     0xf8 (in)   counter: returns 0x100 + the number of reads so far
 *
 * Guest code is 16-bit real-mode code assembled into the test binary between two labels
 * (KH_GUEST) and copied to 0x1000; the vCPU starts there with CS=0x100, IP=0.  Include from
 * one test file; each test runs with the BQL held.  Without a usable /dev/kvm every test
 * skips with the reason.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_UNIT_KVM_HARNESS_H
#define TESTS_UNIT_KVM_HARNESS_H

#include "kite/osdep.h"
#include "kite/thread.h"
#include "kite/runstate.h"
#include "accel/accel.h"
#include "accel/kvm.h"
#include "hw/boards.h"
#include "hw/core/cpu-common.h"
#include "target/i386/vcpu.h"

#define KH_RAM_SIZE (1 * MiB)
#define KH_CODE 0x1000
#define KH_PORT_DONE 0xf0
#define KH_PORT_LOG 0xf4
#define KH_PORT_COUNTER 0xf8

/* Guest code: KH_GUEST(name, "asm lines") defines kh_name_start/kh_name_end. */
#define KH_GUEST(name, body) \
    extern const uint8_t kh_##name##_start[], kh_##name##_end[]; \
    __asm__(".pushsection .rodata.kh_guest, \"a\"\n" \
            ".code16\n" \
            "kh_" #name "_start:\n" body "\n" \
            "kh_" #name "_end:\n" \
            ".code64\n" \
            ".popsection\n")

/* The same for 64-bit code (kh_load_user64). */
#define KH_GUEST64(name, body) \
    extern const uint8_t kh_##name##_start[], kh_##name##_end[]; \
    __asm__(".pushsection .rodata.kh_guest, \"a\"\n" \
            "kh_" #name "_start:\n" body "\n" \
            "kh_" #name "_end:\n" \
            ".popsection\n")

static const char *kh_skip_reason;
static AccelState *kh_accel;
static MachineState kh_machine;
static MemoryRegion kh_ram, kh_ports;
static CPUState *kh_cpu;
static X86Vcpu *kh_x86;
static GCond kh_cond;
static bool kh_done;
static uint64_t kh_done_value;
static GArray *kh_log;              /* of uint64_t */
static unsigned kh_counter_reads;

static uint64_t kh_ports_read(void *opaque, hwaddr addr, unsigned size)
{
    if (addr == KH_PORT_COUNTER - KH_PORT_DONE) {
        return 0x100 + kh_counter_reads++;
    }
    return ~0ull;
}

static void kh_ports_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    switch (addr + KH_PORT_DONE) {
    case KH_PORT_DONE:
        kh_done = true;
        kh_done_value = val;
        g_cond_broadcast(&kh_cond);
        break;
    case KH_PORT_LOG:
        g_array_append_val(kh_log, val);
        g_cond_broadcast(&kh_cond);
        break;
    }
}

static const MemoryRegionOps kh_ports_ops = {
    .read = kh_ports_read,
    .write = kh_ports_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

/* Build the machine; false (and kh_skip_reason) if KVM is not usable here. */
static bool kh_init(int kernel_irqchip)
{
    AccelClass *ac = accel_find("kvm");
    Error *err = NULL;
    DeviceState *dev;

    memory_init();
    bql_lock();
    kh_log = g_array_new(false, false, sizeof(uint64_t));
    if (!ac) {
        kh_skip_reason = "KVM is not built in";
        return false;
    }
    if (!ac->available(&err)) {
        kh_skip_reason = g_strdup(error_get_pretty(err));
        error_free(err);
        return false;
    }
    kh_machine.kernel_irqchip = kernel_irqchip;
    kh_machine.smp = (SMPConfig){ 1, 1, 1, 1, 1, 1 };
    kh_accel = (AccelState *)object_new(TYPE_KVM_ACCEL);
    accel_set_current(kh_accel);
    if (!ac->init_machine(kh_accel, &kh_machine, &err)) {
        kh_skip_reason = g_strdup_printf("KVM unusable: %s", error_get_pretty(err));
        error_free(err);
        accel_set_current(NULL);
        return false;
    }
    memory_region_init_ram(&kh_ram, NULL, "kh-ram", KH_RAM_SIZE, &error_abort);
    memory_region_add_subregion(get_system_memory(), 0, &kh_ram);
    memory_region_init_io(&kh_ports, NULL, &kh_ports_ops, NULL, "kh-ports", 16);
    memory_region_add_subregion(get_system_io(), KH_PORT_DONE, &kh_ports);

    dev = qdev_new(X86_VCPU_TYPE_NAME("qemu64"));
    object_property_set_uint(OBJECT(dev), "apic-id", 0, &error_abort);
    object_property_set_bool(OBJECT(dev), "bsp", true, &error_abort);
    qdev_realize(dev, NULL, &error_abort);
    kh_cpu = CPU(dev);
    kh_x86 = X86_VCPU(dev);
    return true;
}

static bool kh_skip(void)
{
    if (kh_skip_reason) {
        g_test_skip(kh_skip_reason);
        return true;
    }
    return false;
}

static G_GNUC_UNUSED uint8_t *kh_ram_ptr(hwaddr addr)
{
    return (uint8_t *)memory_region_get_ram_ptr(&kh_ram) + addr;
}

/*
 * Reset the vCPU (paused), load code at KH_CODE and point CS:IP at it in real mode.
 * Registers may be changed in env afterwards; they go to KVM before the next KVM_RUN
 * (kh_start pushes the MP state too).
 */
static void kh_load(const uint8_t *start, const uint8_t *end)
{
    CPUX86State *env = kh_x86->env;

    g_assert(!cpus_running());
    memcpy(kh_ram_ptr(KH_CODE), start, end - start);
    device_cold_reset(DEVICE(kh_cpu));
    x86_cpu_set_seg(env, R_CS, KH_CODE >> 4, KH_CODE, 0xffff,
                    X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW |
                    X86_SEG_TYPE_A);
    env->rip = 0;
    env->regs[R_ESP] = 0x8000;
    env->wait_sipi = false;         /* an AP (APIC ID != 0) would wait for SIPI */
    x86_cpu_sync_state(kh_x86->interp);
    kh_cpu->halted = false;
    kh_cpu->vcpu_dirty = true;
    kh_done = false;
    kh_done_value = 0;
    kh_counter_reads = 0;
    g_array_set_size(kh_log, 0);
}

/*
 * Like kh_load, then put the vCPU in 64-bit mode at CPL 3 with IOPL 3 (so port I/O works)
 * as a loader would: identity-mapped first 2 MiB (one large page, SDM vol. 3A, 4.5), a
 * GDT with ring-3 code and data, a busy 64-bit TSS.  Some KVMs (kvm_pvm) run CPL-3 code
 * natively but emulate ring 0 and real mode, without x87 or SSE.
 */
static G_GNUC_UNUSED void kh_load_user64(const uint8_t *start, const uint8_t *end)
{
    CPUX86State *env = kh_x86->env;
    uint64_t gdt[7] = {
        0, 0x00af9a000000ffffull, 0x00cf92000000ffffull,       /* ring 0 code64, data */
        0x00affa000000ffffull, 0x00cff2000000ffffull,          /* ring 3 code64, data */
        0x00008b0140000067ull, 0,                              /* busy TSS at 0x14000 */
    };
    uint16_t data3 = X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_RW | X86_SEG_TYPE_A |
                     (3 << X86_SEG_DPL_SHIFT) | X86_SEG_DB | X86_SEG_G;

    kh_load(start, end);
    memset(kh_ram_ptr(0x10000), 0, 0x5000);
    stq_le_p(kh_ram_ptr(0x10000), 0x11000 | 7);           /* PML4[0] -> PDPT */
    stq_le_p(kh_ram_ptr(0x11000), 0x12000 | 7);           /* PDPT[0] -> PD */
    stq_le_p(kh_ram_ptr(0x12000), 0x80 | 7);              /* PD[0]: 2 MiB at 0, user */
    memcpy(kh_ram_ptr(0x13000), gdt, sizeof(gdt));
    env->gdt = (X86DescTable){ .base = 0x13000, .limit = sizeof(gdt) - 1 };
    env->idt = (X86DescTable){ .base = 0, .limit = 0 };
    x86_cpu_set_seg(env, R_CS, 0x1b, 0, 0xffffffff,
                    X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW |
                    X86_SEG_TYPE_A | (3 << X86_SEG_DPL_SHIFT) | X86_SEG_L | X86_SEG_G);
    for (int s = 0; s < 6; s++) {
        if (s != R_CS) {
            x86_cpu_set_seg(env, s, 0x23, 0, 0xffffffff, data3);
        }
    }
    env->tr = (X86Segment){ .selector = 0x28, .base = 0x14000, .limit = 0x67,
                            .attr = X86_SEG_P | 11 };
    env->ldt = (X86Segment){ 0 };
    env->cr[0] = X86_CR0_PG | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP | X86_CR0_PE;
    env->cr[3] = 0x10000;
    env->cr[4] = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    env->efer = X86_EFER_LME | X86_EFER_LMA;
    env->rip = KH_CODE;
    env->regs[R_ESP] = 0x8000;
    x86_cpu_set_eflags(env, X86_EFLAGS_FIXED | (3 << X86_EFLAGS_IOPL_SHIFT));
    x86_cpu_sync_state(kh_x86->interp);
}

/* Wait (BQL released) until cond() or the timeout; false on timeout. */
static bool kh_wait(bool (*cond)(void), int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000ll;

    while (!cond()) {
        if (!bql_cond_wait_until(&kh_cond, MIN(end, g_get_monotonic_time() + 10000)) &&
            g_get_monotonic_time() >= end) {
            return cond();
        }
    }
    return true;
}

static bool kh_is_done(void)
{
    return kh_done;
}

/* Push everything kh_load set up, MP state included (as a loader does), and run. */
static void kh_start(void)
{
    ACCEL_GET_CLASS(kh_accel)->synchronize_post_init(kh_cpu);
    resume_all_vcpus();
}

/* Start the vCPU, wait for the guest to write the done port, pause again. */
static void kh_run_until_done(int timeout_ms)
{
    kh_start();
    if (!kh_wait(kh_is_done, timeout_ms)) {
        g_autoptr(GString) s = g_string_new(NULL);
        pause_all_vcpus();
        CPU_GET_CLASS(kh_cpu)->dump_state(kh_cpu, s);
        g_error("guest did not finish in %d ms:\n%s", timeout_ms, s->str);
    }
    pause_all_vcpus();
}

static G_GNUC_UNUSED uint64_t kh_log_at(unsigned i)
{
    g_assert_cmpuint(i, <, kh_log->len);
    return g_array_index(kh_log, uint64_t, i);
}

#endif
