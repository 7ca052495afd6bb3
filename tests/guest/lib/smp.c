/*
 * Kite guest test runtime: starting the application processors.
 *
 * SDM vol. 3A 8.4.4.1 "Typical BSP Initialization Sequence": INIT IPI, wait
 * 10 ms, STARTUP IPI, wait 200 us, second STARTUP IPI.  Both SIPIs are always
 * sent, as in the SDM's universal algorithm, so a CPU that is already running
 * must ignore the second one (10.6.1: a SIPI is only accepted in the
 * wait-for-SIPI state); an AP that starts twice shows up as one too many.
 *
 * Each AP runs the real-mode trampoline (trampoline.S), then ap_entry32
 * (entry*.S), which takes an index and a stack, and then ap_main() below.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

void ap_main(unsigned index);
extern const char ap_trampoline_start[], ap_trampoline_end[];

static ApEntry *volatile ap_fn;
static volatile uint32_t ap_started;
static volatile uint8_t index_apic_id[MAX_CPUS];

void ap_main(unsigned index)
{
    idt_load();
    if (index >= MAX_CPUS) {
        /* More APs than stacks: cannot happen with a sane MADT. */
        test_fail("AP index %u out of range", index);
    }
    index_apic_id[index] = lapic_id();
    lapic_enable(0xff);
    barrier();
    atomic_inc32(&ap_started);
    if (ap_fn) {
        ap_fn(index);
    }
    for (;;) {
        cli();
        hlt();
    }
}

unsigned smp_cpu_index(void)
{
    uint32_t id = lapic_id();
    for (unsigned i = 1; i < MAX_CPUS; i++) {
        if (index_apic_id[i] == id) {
            return i;
        }
    }
    return 0;
}

unsigned smp_start_aps(const AcpiInfo *info, ApEntry *fn, uint32_t timeout_ms)
{
    uint32_t bsp = lapic_id();
    unsigned expected = 0;

    for (unsigned i = 0; i < MAX_CPUS; i++) {
        index_apic_id[i] = 0xff;
    }
    index_apic_id[0] = bsp;
    ap_fn = fn;
    memcpy(phys_ptr(AP_TRAMPOLINE_ADDR), ap_trampoline_start,
           ap_trampoline_end - ap_trampoline_start);
    lapic_enable(0xff);

    for (unsigned i = 0; i < info->ncpus; i++) {
        uint32_t id = info->apic_ids[i];
        if (id == bsp) {
            continue;
        }
        expected++;
        if (!lapic_send_ipi(id, APIC_ICR_INIT | APIC_ICR_ASSERT | APIC_ICR_LEVEL)) {
            printf("smp: INIT to APIC %u stayed pending\n", id);
        }
        udelay(10000);
        for (int n = 0; n < 2; n++) {
            if (!lapic_send_ipi(id, APIC_ICR_STARTUP | (AP_TRAMPOLINE_ADDR >> 12))) {
                printf("smp: SIPI to APIC %u stayed pending\n", id);
            }
            udelay(200);
        }
    }

    uint64_t end = deadline_ms(timeout_ms);
    while (ap_started < expected && !time_after(end)) {
        cpu_relax();
    }
    /* Catch an AP that starts twice: give stragglers a moment. */
    udelay(5000);
    return ap_started;
}

uint8_t smp_apic_id_of(unsigned index)
{
    return index < MAX_CPUS ? index_apic_id[index] : 0xff;
}
