/*
 * lapic-timer: local APIC identification registers, the spurious-vector
 * register, self-IPIs with task priority, and the APIC timer in one-shot,
 * periodic and (when CPUID reports it) TSC-deadline modes.
 *
 * References: SDM vol. 3A 10.4.4 (IA32_APIC_BASE), 10.4.6 (local APIC ID),
 * 10.4.8 (version register: version, max LVT entry), 10.5.4 (timer: divide
 * configuration, initial and current count; 10.5.4.1 TSC-deadline mode),
 * 10.6.1 (ICR, self shorthand), 10.8.3.1 (TPR and PPR: a vector is
 * delivered only when its priority class exceeds the processor priority),
 * 10.9 (spurious-interrupt vector register).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define VEC_TIMER 0x40
#define VEC_LOW   0x45      /* priority class 4 */
#define VEC_SPUR  0xff

static volatile uint32_t timer_irqs, low_irqs;

static void timer_handler(IntFrame *f)
{
    timer_irqs++;
    lapic_eoi();
}

static void low_handler(IntFrame *f)
{
    low_irqs++;
    lapic_eoi();
}

static void test_identification(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    uint32_t ver = lapic_read(LAPIC_VERSION);
    uint32_t cpuid_id = cpuid(1).b >> 24;

    CHECK_EQ(base & 0xfffff000, 0xfee00000, "IA32_APIC_BASE address");
    CHECK(base & (1u << 8), "IA32_APIC_BASE.BSP set on the boot CPU (0x%llx)",
          (unsigned long long)base);
    CHECK(base & (1u << 11), "IA32_APIC_BASE global enable");
    CHECK_EQ(lapic_id(), cpuid_id, "APIC ID register vs CPUID.1:EBX[31:24]");
    CHECK((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15,
          "integrated APIC version 0x%x (0x10-0x15)", ver & 0xff);
    CHECK(((ver >> 16) & 0xff) >= 4, "max LVT entry %u (at least 4: timer..error)",
          (ver >> 16) & 0xff);

    lapic_write(LAPIC_SVR, 0x100 | VEC_SPUR);
    CHECK_EQ(lapic_read(LAPIC_SVR) & 0x1ff, 0x1ff, "spurious vector register read back");
}

static void test_tpr(void)
{
    idt_set_handler(VEC_LOW, low_handler);
    sti();
    lapic_send_ipi(0, APIC_ICR_SELF | APIC_ICR_ASSERT | VEC_LOW);
    udelay(1000);
    CHECK_EQ(low_irqs, 1, "self-IPI vector 0x45 delivered with TPR 0");

    /* TPR class 5 blocks vector 0x45 (class 4): it waits in IRR. */
    lapic_write(LAPIC_TPR, 0x50);
    lapic_send_ipi(0, APIC_ICR_SELF | APIC_ICR_ASSERT | VEC_LOW);
    udelay(1000);
    uint32_t blocked = low_irqs;
    bool in_irr = lapic_irr_bit(VEC_LOW);
    uint32_t ppr = lapic_read(LAPIC_PPR);
    lapic_write(LAPIC_TPR, 0x00);
    udelay(1000);
    cli();
    CHECK_EQ(blocked, 1, "vector 0x45 held back while TPR = 0x50");
    CHECK(in_irr, "vector 0x45 pending in IRR while blocked");
    CHECK_EQ(ppr & 0xf0, 0x50, "PPR follows TPR");
    CHECK_EQ(low_irqs, 2, "vector 0x45 delivered once TPR dropped to 0");
}

/* Waits for n timer interrupts or ms milliseconds; returns microseconds. */
static uint32_t wait_timer(uint32_t n, uint32_t ms)
{
    uint64_t start = time_us(), end = start + ms * 1000ull;
    while (timer_irqs < n && !time_after(end)) {
        cpu_relax();
    }
    return (uint32_t)(time_us() - start);
}

static void test_oneshot(void)
{
    idt_set_handler(VEC_TIMER, timer_handler);
    /* Divide by 16: 2,000,000 ticks are 32 ms with QEMU's 1 GHz APIC
     * clock, long enough that the count cannot run out between the write
     * and the read below even when the host deschedules the vCPU. */
    lapic_write(LAPIC_TIMER_DCR, 0x03);
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);    /* one-shot, unmasked */
    timer_irqs = 0;
    sti();
    lapic_write(LAPIC_TIMER_ICR, 2000000);
    uint32_t ccr1 = lapic_read(LAPIC_TIMER_CCR);
    uint32_t ccr2 = lapic_read(LAPIC_TIMER_CCR);
    uint32_t us = wait_timer(1, 1000);
    udelay(5000);                               /* a one-shot fires once */
    uint32_t n = timer_irqs;
    uint32_t ccr_end = lapic_read(LAPIC_TIMER_CCR);
    cli();

    CHECK(ccr1 > 0 && ccr1 <= 2000000, "current count 0x%x after arming", ccr1);
    CHECK(ccr2 <= ccr1, "current count counts down (0x%x -> 0x%x)", ccr1, ccr2);
    CHECK_EQ(n, 1, "one-shot timer interrupts");
    CHECK_EQ(ccr_end, 0, "current count after the one-shot expired");
    printf("lapic: 2,000,000 ticks at divide 16 took ~%u us\n", us);

    /* Masked LVT: the count runs out but nothing is delivered. */
    timer_irqs = 0;
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | APIC_LVT_MASKED);
    sti();
    lapic_write(LAPIC_TIMER_ICR, 1000);
    udelay(5000);
    cli();
    CHECK_EQ(timer_irqs, 0, "interrupts from a masked timer");
}

static void test_periodic(void)
{
    timer_irqs = 0;
    lapic_write(LAPIC_TIMER_DCR, 0x0b);         /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | APIC_TIMER_PERIODIC);
    sti();
    lapic_write(LAPIC_TIMER_ICR, 2000000);
    uint32_t us = wait_timer(5, 1000);
    uint32_t ccr = lapic_read(LAPIC_TIMER_CCR);
    lapic_write(LAPIC_TIMER_ICR, 0);            /* a zero count stops it */
    udelay(2000);
    uint32_t after_stop = timer_irqs;
    udelay(10000);
    cli();
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | APIC_LVT_MASKED);

    CHECK(after_stop >= 5, "%u periodic interrupts in %u us", after_stop, us);
    CHECK(ccr > 0 && ccr <= 2000000, "current count reloads in periodic mode (0x%x)", ccr);
    CHECK_EQ(timer_irqs - after_stop, 0, "interrupts after writing initial count 0");
}

static void test_tsc_deadline(void)
{
    if (!(cpuid(1).c & (1u << 24))) {
        test_skip("TSC-deadline timer: CPUID.1:ECX[24] clear");
        return;
    }
    timer_irqs = 0;
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | APIC_TIMER_TSC_DEADLINE);
    sti();
    wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 1000000);
    uint32_t us = wait_timer(1, 1000);
    uint64_t msr_after = rdmsr(MSR_IA32_TSC_DEADLINE);
    /* A deadline in the past fires at once. */
    wrmsr(MSR_IA32_TSC_DEADLINE, 1);
    wait_timer(2, 100);
    cli();
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | APIC_LVT_MASKED);

    CHECK(timer_irqs >= 1, "TSC-deadline interrupt after 1,000,000 TSC ticks (%u us)", us);
    CHECK_EQ(msr_after, 0, "IA32_TSC_DEADLINE reads 0 after it fired");
    CHECK_EQ(timer_irqs, 2, "deadline already in the past fires immediately");
}

void test_main(void)
{
    lapic_enable(VEC_SPUR);
    test_identification();
    test_tpr();
    test_oneshot();
    test_periodic();
    test_tsc_deadline();
}
