/*
 * smp: bring up every CPU the ACPI MADT lists and make them work together.
 *
 * Checked: the MADT's enabled processor count equals "cpus=N" from the
 * command line (QEMU's -smp N); INIT-SIPI-SIPI starts each AP exactly once
 * (lib/smp.c); each AP reports a distinct APIC ID that the MADT lists; LOCK
 * XADD/INC increments from all CPUs at once lose nothing (SDM vol. 3A 8.1.2);
 * fixed IPIs wake a halted AP, both addressed to one APIC ID and with the
 * all-excluding-self shorthand (10.6.1).
 *
 * Built twice: smp (i386) and smp64 (x86-64, where APs also enter long mode
 * on the BSP's page tables).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define VEC_IPI     0x60
#define INCREMENTS  20000

static AcpiInfo acpi;
static volatile uint32_t go, done_adding, counter;
static volatile uint32_t ipi_count[MAX_CPUS];
static volatile uint8_t reported_id[MAX_CPUS];

static void ipi_handler(IntFrame *f)
{
    atomic_inc32(&ipi_count[smp_cpu_index()]);
    lapic_eoi();
}

static void add_many(void)
{
    for (uint32_t i = 0; i < INCREMENTS; i++) {
        if (i & 1) {
            atomic_inc32(&counter);
        } else {
            atomic_fetch_add32(&counter, 1);
        }
    }
}

static void ap_work(unsigned index)
{
    reported_id[index] = lapic_id();
    while (!go) {
        cpu_relax();
    }
    add_many();
    atomic_inc32(&done_adding);
    /* Wait for IPIs with interrupts enabled; each wakes HLT. */
    for (;;) {
        sti_hlt();
    }
}

void test_main(void)
{
    unsigned want = (unsigned)cmdline_get_uint("cpus", 0);

    idt_set_handler(VEC_IPI, ipi_handler);
    if (!acpi_read_madt(&acpi)) {
        test_fail("cannot read the ACPI MADT");
    }
    printf("smp: MADT lists %u enabled CPUs, BSP APIC ID %u\n", acpi.ncpus, lapic_id());
    if (want) {
        CHECK_EQ(acpi.ncpus, want, "enabled CPUs in the MADT vs cpus= on the command line");
    } else {
        test_skip("no cpus=N on the command line; trusting the MADT");
        want = acpi.ncpus;
    }
    bool bsp_listed = false;
    for (unsigned i = 0; i < acpi.ncpus; i++) {
        bsp_listed |= acpi.apic_ids[i] == lapic_id();
    }
    CHECK(bsp_listed, "the BSP's APIC ID is in the MADT");

    unsigned started = smp_start_aps(&acpi, ap_work, 2000);
    CHECK_EQ(started, acpi.ncpus - 1, "APs that started (each exactly once)");

    /* Distinct APIC IDs, each from the MADT. */
    bool ids_ok = true;
    for (unsigned i = 1; i <= started && i < MAX_CPUS; i++) {
        uint8_t id = reported_id[i];
        bool listed = false;
        for (unsigned j = 0; j < acpi.ncpus; j++) {
            listed |= acpi.apic_ids[j] == id;
        }
        for (unsigned j = 0; j < i; j++) {
            if ((j == 0 ? (uint8_t)lapic_id() : reported_id[j]) == id) {
                listed = false;
            }
        }
        printf("smp: AP %u has APIC ID %u\n", i, id);
        ids_ok &= listed;
    }
    CHECK(ids_ok, "every AP has a distinct APIC ID listed in the MADT");

    /* Everyone increments the shared counter at once. */
    go = 1;
    add_many();
    uint64_t end = deadline_ms(2000);
    while (done_adding < started && !time_after(end)) {
        cpu_relax();
    }
    CHECK_EQ(done_adding, started, "APs that finished their increments");
    CHECK_EQ(counter, (started + 1) * INCREMENTS, "locked increments from all CPUs");

    /* A fixed IPI to each AP by APIC ID, then one broadcast. */
    for (unsigned i = 1; i <= started && i < MAX_CPUS; i++) {
        lapic_send_ipi(smp_apic_id_of(i), APIC_ICR_ASSERT | VEC_IPI);
    }
    end = deadline_ms(500);
    for (unsigned i = 1; i <= started && i < MAX_CPUS; i++) {
        while (ipi_count[i] < 1 && !time_after(end)) {
            cpu_relax();
        }
    }
    /* Destination shorthand 11: all excluding self (ICR bits 19:18). */
    lapic_send_ipi(0, (3u << 18) | APIC_ICR_ASSERT | VEC_IPI);
    end = deadline_ms(500);
    for (unsigned i = 1; i <= started && i < MAX_CPUS; i++) {
        while (ipi_count[i] < 2 && !time_after(end)) {
            cpu_relax();
        }
    }
    udelay(2000);
    bool ipis_ok = true;
    for (unsigned i = 1; i <= started && i < MAX_CPUS; i++) {
        if (ipi_count[i] != 2) {
            printf("smp: AP %u took %u IPIs, expected 2\n", i, ipi_count[i]);
            ipis_ok = false;
        }
    }
    CHECK(ipis_ok, "each AP took one directed and one broadcast IPI");
    CHECK_EQ(ipi_count[0], 0, "IPIs the BSP took (shorthand excludes self)");
}
