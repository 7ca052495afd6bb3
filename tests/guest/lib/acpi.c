/*
 * Kite guest test runtime: find the ACPI MADT and read the CPU and interrupt
 * topology from it.
 * Reference: ACPI Specification 6.4, 5.2.5.1 "Finding the RSDP on IA-PC
 * Systems" (first KiB of the EBDA, whose segment is the word at 0x40e, then
 * 0xe0000-0xfffff on 16-byte boundaries), 5.2.5.3 RSDP layout, 5.2.7 RSDT,
 * 5.2.12 MADT with 5.2.12.2 processor local APIC, 5.2.12.3 I/O APIC and
 * 5.2.12.5 interrupt source override structures.
 *
 * Under QEMU and Kite the firmware (SeaBIOS) builds these tables before the
 * multiboot kernel runs.  Paging is off or identity-mapped, so physical
 * addresses are used as pointers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

typedef struct __attribute__((packed)) AcpiHeader {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_revision, creator_id, creator_revision;
} AcpiHeader;

bool acpi_checksum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    while (len--) {
        sum += *b++;
    }
    return sum == 0;
}

static uintptr_t scan_rsdp(uintptr_t start, uintptr_t end)
{
    for (uintptr_t a = start; a + 20 <= end; a += 16) {
        if (!memcmp((const void *)a, "RSD PTR ", 8) && acpi_checksum_ok((const void *)a, 20)) {
            return a;
        }
    }
    return 0;
}

const void *acpi_find_table(const AcpiInfo *info, const char sig[4])
{
    const AcpiHeader *rsdt = (const AcpiHeader *)info->rsdt;
    unsigned n = (rsdt->length - sizeof(AcpiHeader)) / 4;
    const uint32_t *entries = (const uint32_t *)(rsdt + 1);

    for (unsigned i = 0; i < n; i++) {
        const AcpiHeader *t = (const AcpiHeader *)(uintptr_t)entries[i];
        if (!memcmp(t->sig, sig, 4)) {
            return t;
        }
    }
    return NULL;
}

bool acpi_read_madt(AcpiInfo *info)
{
    memset(info, 0, sizeof(*info));
    for (int i = 0; i < 16; i++) {
        info->isa_gsi[i] = i;           /* identity unless overridden */
    }

    uintptr_t ebda = (uintptr_t)(*(volatile uint16_t *)phys_ptr(0x40e)) << 4;
    if (ebda >= 0x80000 && ebda < 0xa0000) {
        info->rsdp = scan_rsdp(ebda, ebda + 1024);
    }
    if (!info->rsdp) {
        info->rsdp = scan_rsdp(0xe0000, 0x100000);
    }
    if (!info->rsdp) {
        printf("acpi: no RSDP in the EBDA or 0xe0000-0xfffff\n");
        return false;
    }
    info->rsdt = *(const uint32_t *)(info->rsdp + 16);
    const AcpiHeader *rsdt = (const AcpiHeader *)info->rsdt;
    if (memcmp(rsdt->sig, "RSDT", 4) || !acpi_checksum_ok(rsdt, rsdt->length)) {
        printf("acpi: bad RSDT at 0x%lx\n", (unsigned long)info->rsdt);
        return false;
    }
    const AcpiHeader *madt = acpi_find_table(info, "APIC");
    if (!madt || !acpi_checksum_ok(madt, madt->length)) {
        printf("acpi: %s MADT\n", madt ? "bad checksum in the" : "no");
        return false;
    }
    info->madt = (uintptr_t)madt;
    const uint8_t *p = (const uint8_t *)(madt + 1);
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    info->lapic_addr = *(const uint32_t *)p;
    p += 8;                             /* local APIC address, flags */

    while (p + 2 <= end && p[1] >= 2) {
        switch (p[0]) {
        case 0:                         /* processor local APIC */
            if ((p[4] & 1) && info->ncpus < MAX_CPUS) {
                info->apic_ids[info->ncpus++] = p[3];
            }
            break;
        case 1:                         /* I/O APIC */
            if (info->nioapics++ == 0) {
                info->ioapic_id = p[2];
                info->ioapic_addr = *(const uint32_t *)(p + 4);
                info->ioapic_gsi_base = *(const uint32_t *)(p + 8);
            }
            break;
        case 2:                         /* interrupt source override */
            if (p[2] == 0 && p[3] < 16) {
                info->isa_gsi[p[3]] = *(const uint32_t *)(p + 4);
                info->isa_flags[p[3]] = *(const uint16_t *)(p + 8);
            }
            break;
        }
        p += p[1];
    }
    return true;
}
