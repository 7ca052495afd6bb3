/*
 * ioapic: ISA interrupts through the I/O APIC to the local APIC.
 *
 * The topology comes from the ACPI MADT (acpi.c): the I/O APIC's address and
 * the ISA interrupt source overrides.  On QEMU's pc machine (and so Kite's)
 * the PIT's IRQ 0 is wired to I/O APIC pin 2, announced by an override
 * "bus 0, IRQ 0 -> GSI 2"; the serial port's IRQ 4 is pin 4.
 *
 * References: 82093AA I/O APIC datasheet (290566-001) 3.2.1-3.2.4 (ID,
 * version, redirection table: vector, delivery mode, polarity, remote IRR,
 * trigger mode, mask, destination); SDM vol. 3A 10.8.4-10.8.5 (ISR, EOI),
 * 10.8.5: level-triggered interrupts leave remote IRR set until EOI.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define VEC_PIT    0x30
#define VEC_SERIAL 0x31

static AcpiInfo acpi;
static uintptr_t ioapic;
static volatile uint32_t pit_irqs, serial_irqs;
static volatile bool isr_seen, remote_irr_seen;
static volatile uint8_t serial_iir;
static unsigned serial_pin;

static void pit_handler(IntFrame *f)
{
    if (pit_irqs++ == 0) {
        isr_seen = lapic_isr_bit(VEC_PIT);
    }
    lapic_eoi();
}

static void serial_handler(IntFrame *f)
{
    /* Level-triggered: remote IRR stays set until the EOI below. */
    bool rirr = ioapic_get_redir(ioapic, serial_pin) & IOAPIC_REDIR_REMOTE_IRR;
    uint8_t iir = inb(COM1_BASE + 2);   /* reading IIR clears the THRE source */
    if (serial_irqs++ == 0) {
        remote_irr_seen = rirr;
        serial_iir = iir;
    }
    lapic_eoi();
}

static uint64_t redir(uint8_t vector, bool level)
{
    /* Fixed delivery, physical destination = this CPU, active high. */
    return vector | (level ? IOAPIC_REDIR_LEVEL : 0) | ((uint64_t)lapic_id() << 56);
}

static void test_registers(void)
{
    uint32_t id = ioapic_read(ioapic, 0x00);
    uint32_t ver = ioapic_read(ioapic, 0x01);
    unsigned max_redir = (ver >> 16) & 0xff;

    printf("ioapic: at 0x%x, ID reg 0x%x, version reg 0x%x; MADT ID %u, GSI base %u\n",
           (unsigned)ioapic, id, ver, acpi.ioapic_id, acpi.ioapic_gsi_base);
    CHECK_EQ((id >> 24) & 0x0f, acpi.ioapic_id, "I/O APIC ID register matches the MADT");
    CHECK((ver & 0xff) >= 0x11 && (ver & 0xff) <= 0x20, "I/O APIC version 0x%x", ver & 0xff);
    CHECK(max_redir >= 23, "%u redirection entries (24 on the PC)", max_redir + 1);

    /* All entries come up masked (3.2.4: mask bit reset value 1). */
    bool all_masked = true;
    for (unsigned pin = 0; pin <= max_redir && pin < 24; pin++) {
        if (!(ioapic_get_redir(ioapic, pin) & IOAPIC_REDIR_MASKED)) {
            printf("  pin %u unmasked: 0x%llx\n", pin,
                   (unsigned long long)ioapic_get_redir(ioapic, pin));
            all_masked = false;
        }
    }
    CHECK(all_masked, "every redirection entry masked after firmware");

    /* Redirection entries read back what was written (minus status bits). */
    ioapic_set_redir(ioapic, 10, 0x5a00000000010000ull | 0xa5 | IOAPIC_REDIR_LOW);
    uint64_t e = ioapic_get_redir(ioapic, 10);
    ioapic_set_redir(ioapic, 10, IOAPIC_REDIR_MASKED);
    CHECK_EQ(e, 0x5a000000000120a5ull, "redirection entry 10 read back");
}

static void test_pit(void)
{
    unsigned gsi = acpi.isa_gsi[0] - acpi.ioapic_gsi_base;
    printf("ioapic: ISA IRQ 0 -> GSI %u (flags 0x%x)\n", acpi.isa_gsi[0], acpi.isa_flags[0]);
    CHECK_EQ(gsi, 2, "MADT override: ISA IRQ 0 -> I/O APIC pin 2 (QEMU pc)");

    idt_set_handler(VEC_PIT, pit_handler);
    ioapic_set_redir(ioapic, gsi, redir(VEC_PIT, false));
    pit_set_periodic(1000);
    sti();
    uint64_t end = deadline_ms(500);
    while (pit_irqs < 10 && !time_after(end)) {
        cpu_relax();
    }
    CHECK(pit_irqs >= 10, "%u PIT interrupts through the I/O APIC", pit_irqs);
    if (isr_seen || !accel_is_kvm()) {
        CHECK(isr_seen, "LAPIC ISR bit for vector 0x%x set in the handler", VEC_PIT);
    } else {
        test_skip("LAPIC ISR empty in the handler: the host's in-kernel APIC hides "
                  "it (kvm_pvm does)");
    }
    CHECK(!lapic_isr_bit(VEC_PIT), "LAPIC ISR bit clear after EOI");

    ioapic_set_redir(ioapic, gsi, redir(VEC_PIT, false) | IOAPIC_REDIR_MASKED);
    udelay(2000);                       /* let one in flight land */
    uint32_t before = pit_irqs;
    udelay(10000);
    CHECK_EQ(pit_irqs - before, 0, "PIT interrupts with the entry masked");
    cli();
    pit_stop();
}

static void test_serial(void)
{
    serial_pin = acpi.isa_gsi[4] - acpi.ioapic_gsi_base;
    CHECK_EQ(serial_pin, 4, "ISA IRQ 4 -> I/O APIC pin 4");

    idt_set_handler(VEC_SERIAL, serial_handler);
    ioapic_set_redir(ioapic, serial_pin, redir(VEC_SERIAL, true));
    outb(COM1_BASE + 4, 0x0b);          /* MCR: DTR, RTS, OUT2 */
    sti();
    outb(COM1_BASE + 1, 0x02);          /* IER: THR empty interrupt */
    uint64_t end = deadline_ms(100);
    while (!serial_irqs && !time_after(end)) {
        cpu_relax();
    }
    udelay(2000);
    uint32_t n = serial_irqs;
    outb(COM1_BASE + 1, 0x00);
    cli();
    uint64_t e = ioapic_get_redir(ioapic, serial_pin);
    ioapic_set_redir(ioapic, serial_pin, IOAPIC_REDIR_MASKED);
    outb(COM1_BASE + 4, 0x03);

    CHECK_EQ(serial_iir, 0xc2, "IIR in the first handler: THR empty");
    if (!accel_is_kvm() || (n == 1 && remote_irr_seen)) {
        CHECK_EQ(n, 1, "serial THRE interrupts, level-triggered through pin 4");
        CHECK(remote_irr_seen, "remote IRR set in the handler before EOI");
    } else {
        /* kvm_pvm's in-kernel APIC hides ISR and handles the EOI late, so
         * the I/O APIC sees the line still high and delivers again. */
        CHECK(n >= 1, "%u serial THRE interrupts through pin 4", n);
        test_skip("%u deliveries, remote IRR %s in the handler: the host's in-kernel "
                  "irqchip differs (kvm_pvm does)", n, remote_irr_seen ? "set" : "clear");
    }
    CHECK(!(e & IOAPIC_REDIR_REMOTE_IRR), "remote IRR clear after EOI (entry 0x%llx)",
          (unsigned long long)e);
}

void test_main(void)
{
    if (!acpi_read_madt(&acpi) || !acpi.nioapics) {
        test_fail("no I/O APIC in the ACPI MADT");
    }
    ioapic = acpi.ioapic_addr;
    /* The 8259s stay fully masked (runtime), so every interrupt seen here
     * came through the I/O APIC. */
    lapic_enable(0xff);
    test_registers();
    test_pit();
    test_serial();
}
