/*
 * Kite guest test runtime: local APIC (xAPIC MMIO mode) and I/O APIC.
 * References: SDM vol. 3A ch. 10 "Advanced Programmable Interrupt Controller
 * (APIC)" (10.4.1 APIC base MSR, 10.5 LVT, 10.6 ICR, 10.8.5 EOI, 10.9
 * spurious vector); Intel 82093AA I/O APIC datasheet (order 290566-001),
 * 3.0 "Register Description": IOREGSEL at +0x00, IOWIN at +0x10, ID (0x00),
 * version (0x01), redirection table (0x10 + 2 * pin).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

uintptr_t lapic_base(void)
{
    /* IA32_APIC_BASE bits 12-35: physical base (10.4.4). */
    return (uintptr_t)(rdmsr(MSR_IA32_APIC_BASE) & 0xfffff000u);
}

uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(lapic_base() + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(lapic_base() + reg, v);
}

uint32_t lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(uint8_t spurious_vector)
{
    /* Global enable (MSR bit 11), then software enable (SVR bit 8). */
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & (1u << 11))) {
        wrmsr(MSR_IA32_APIC_BASE, base | (1u << 11));
    }
    lapic_write(LAPIC_SVR, 0x100 | spurious_vector);
    lapic_write(LAPIC_TPR, 0);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

bool lapic_isr_bit(uint8_t vector)
{
    return (lapic_read(LAPIC_ISR + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

bool lapic_irr_bit(uint8_t vector)
{
    return (lapic_read(LAPIC_IRR + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

/* Writing ICR low sends the IPI; delivery status (bit 12) stays set while
 * it is pending (10.6.1).  Bounded wait: false if it never clears. */
bool lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    for (int i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & APIC_ICR_PENDING)) {
            return true;
        }
        cpu_relax();
    }
    return false;
}

uint32_t ioapic_read(uintptr_t base, uint8_t reg)
{
    mmio_write32(base, reg);
    return mmio_read32(base + 0x10);
}

void ioapic_write(uintptr_t base, uint8_t reg, uint32_t v)
{
    mmio_write32(base, reg);
    mmio_write32(base + 0x10, v);
}

uint64_t ioapic_get_redir(uintptr_t base, unsigned pin)
{
    uint32_t lo = ioapic_read(base, 0x10 + 2 * pin);
    uint32_t hi = ioapic_read(base, 0x11 + 2 * pin);
    return ((uint64_t)hi << 32) | lo;
}

void ioapic_set_redir(uintptr_t base, unsigned pin, uint64_t entry)
{
    /* Mask first, so the entry is never live half-written. */
    ioapic_write(base, 0x10 + 2 * pin, IOAPIC_REDIR_MASKED);
    ioapic_write(base, 0x11 + 2 * pin, (uint32_t)(entry >> 32));
    ioapic_write(base, 0x10 + 2 * pin, (uint32_t)entry);
}
