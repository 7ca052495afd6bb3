/*
 * acpi-pm: the ACPI fixed hardware an OS uses, found through the tables,
 * ending with a soft-off (S5) that must stop the emulator with status 0.
 *
 * References: ACPI Specification 6.4: 5.2.9 FADT (table 5.9: SCI_INT,
 * SMI_CMD, ACPI_ENABLE, PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK, the _LEN
 * fields, Flags.TMR_VAL_EXT), 5.2.10 FACS, 4.8.3.1 PM1 control (SCI_EN bit
 * 0, SLP_TYP bits 12:10, SLP_EN bit 13), 4.8.3.3 power management timer
 * (3.579545 MHz, 24 or 32 bits), 7.4.2 \_Sx objects (\_S5 = Package
 * {SLP_TYPa, SLP_TYPb, ...}), 20.2 AML encoding (NameOp 0x08, PackageOp
 * 0x12, ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0a).  On the PC the SCI is
 * ISA IRQ 9, level-triggered, active high (MADT override flags 0x000d).
 *
 * The manifest expects exit status 0: a guest power-off ends the emulator
 * normally.  Any failed check ends the test with FAIL before S5.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define PM_TIMER_HZ 3579545u

typedef struct Fadt {
    uint32_t facs, dsdt;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint32_t pm1a_evt, pm1a_cnt, pm_tmr;
    uint8_t pm1_evt_len, pm1_cnt_len, pm_tmr_len;
    uint32_t flags;
} Fadt;

static bool read_fadt(const AcpiInfo *acpi, Fadt *f)
{
    const uint8_t *t = acpi_find_table(acpi, "FACP");
    if (!t) {
        return false;
    }
    uint32_t len = *(const uint32_t *)(t + 4);
    CHECK(acpi_checksum_ok(t, len), "FADT checksum (%u bytes, revision %u)", len, t[8]);
    f->facs = *(const uint32_t *)(t + 36);
    f->dsdt = *(const uint32_t *)(t + 40);
    f->sci_int = *(const uint16_t *)(t + 46);
    f->smi_cmd = *(const uint32_t *)(t + 48);
    f->acpi_enable = t[52];
    f->pm1a_evt = *(const uint32_t *)(t + 56);
    f->pm1a_cnt = *(const uint32_t *)(t + 64);
    f->pm_tmr = *(const uint32_t *)(t + 76);
    f->pm1_evt_len = t[88];
    f->pm1_cnt_len = t[89];
    f->pm_tmr_len = t[91];
    f->flags = len >= 116 ? *(const uint32_t *)(t + 112) : 0;
    return true;
}

/* Finds "Name(\_S5, Package() {a, ...})" in the DSDT; returns SLP_TYPa or
 * -1.  Handles the encodings an integer constant takes in a package. */
static int find_s5(const uint8_t *dsdt, uint32_t len)
{
    for (uint32_t i = 0; i + 8 < len; i++) {
        if (memcmp(dsdt + i, "_S5_", 4) || dsdt[i + 4] != 0x12) {
            continue;
        }
        const uint8_t *p = dsdt + i + 5;
        p += 1 + (p[0] >> 6);           /* PkgLength: 1 + follow-on bytes */
        p++;                            /* NumElements */
        switch (p[0]) {
        case 0x00:
            return 0;
        case 0x01:
            return 1;
        case 0x0a:
            return p[1];
        default:
            return -1;
        }
    }
    return -1;
}

static uint32_t pm_timer(const Fadt *f)
{
    uint32_t v = inl(f->pm_tmr);
    return (f->flags & (1u << 8)) ? v : v & 0xffffff;
}

static void test_timer(const Fadt *f)
{
    uint32_t mask = (f->flags & (1u << 8)) ? 0xffffffffu : 0xffffffu;
    printf("acpi-pm: PM timer at port 0x%x, %u bits\n", f->pm_tmr, mask == 0xffffff ? 24 : 32);
    CHECK_EQ(f->pm_tmr_len, 4, "FADT PM_TMR_LEN");

    /* Monotonic (modulo the wrap) over a burst of reads. */
    bool mono = true;
    uint32_t prev = pm_timer(f);
    for (int i = 0; i < 200; i++) {
        uint32_t now = pm_timer(f);
        if (((now - prev) & mask) > mask / 2) {
            mono = false;
        }
        prev = now;
    }
    CHECK(mono, "PM timer never runs backwards");

    /* Rate against the PIT over 50 ms (~178977 ticks).  Each PM timer read
     * is bracketed by two PIT reads, so a vCPU preempted between them
     * widens the allowed range instead of skewing the result. */
    uint64_t s0 = time_us();
    uint32_t a = pm_timer(f);
    uint64_t s1 = time_us();
    udelay(50000);
    uint64_t e0 = time_us();
    uint32_t b = pm_timer(f);
    uint64_t e1 = time_us();
    uint64_t ticks = (b - a) & mask;
    uint64_t lo = udiv64((uint64_t)PM_TIMER_HZ * (e0 - s1), 1000000, NULL);
    uint64_t hi = udiv64((uint64_t)PM_TIMER_HZ * (e1 - s0), 1000000, NULL);
    CHECK(ticks * 100 >= lo * 95 && ticks * 100 <= hi * 105,
          "PM timer: %u ticks while the PIT counted %u-%u us (want %u-%u +- 5%%)",
          (unsigned)ticks, (unsigned)(e0 - s1), (unsigned)(e1 - s0), (unsigned)lo,
          (unsigned)hi);
}

void test_main(void)
{
    AcpiInfo acpi;
    Fadt f;

    if (!acpi_read_madt(&acpi)) {
        test_fail("no ACPI tables");
    }
    if (!read_fadt(&acpi, &f)) {
        test_fail("no FADT (\"FACP\") in the RSDT");
    }
    printf("acpi-pm: SCI %u, SMI_CMD 0x%x, PM1a_EVT 0x%x, PM1a_CNT 0x%x, flags 0x%x\n",
           f.sci_int, f.smi_cmd, f.pm1a_evt, f.pm1a_cnt, f.flags);
    CHECK_EQ(f.sci_int, 9, "SCI on ISA IRQ 9");
    if (acpi.isa_gsi[9] != 9 || acpi.isa_flags[9]) {
        CHECK_EQ(acpi.isa_flags[9], 0x000d, "MADT override for IRQ 9: level, active high");
    }
    CHECK_EQ(f.pm1_evt_len, 4, "FADT PM1_EVT_LEN");
    CHECK_EQ(f.pm1_cnt_len, 2, "FADT PM1_CNT_LEN");
    if (f.facs) {
        CHECK(!memcmp(phys_ptr(f.facs), "FACS", 4), "FACS signature at 0x%x", f.facs);
    }
    const uint8_t *dsdt = phys_ptr(f.dsdt);
    uint32_t dsdt_len = *(const uint32_t *)(dsdt + 4);
    CHECK(!memcmp(dsdt, "DSDT", 4) && acpi_checksum_ok(dsdt, dsdt_len),
          "DSDT at 0x%x: signature and checksum (%u bytes)", f.dsdt, dsdt_len);
    int s5 = find_s5(dsdt, dsdt_len);
    CHECK(s5 >= 0 && s5 < 8, "\\_S5 package in the DSDT gives SLP_TYP %d", s5);

    test_timer(&f);

    /* Enter ACPI mode if the firmware left us in legacy mode (4.8.2.1). */
    if (!(inw(f.pm1a_cnt) & 1) && f.smi_cmd && f.acpi_enable) {
        outb(f.smi_cmd, f.acpi_enable);
        uint64_t end = deadline_ms(100);
        while (!(inw(f.pm1a_cnt) & 1) && !time_after(end)) {
            cpu_relax();
        }
    }
    CHECK(inw(f.pm1a_cnt) & 1, "PM1 control SCI_EN set (ACPI mode)");

    if (test_failures()) {
        return;                         /* FAIL through test_done() */
    }
    printf("acpi-pm: all checks passed, entering S5 (SLP_TYP %d)\n", s5);
    outw(f.pm1a_cnt, (inw(f.pm1a_cnt) & ~(7u << 10)) | ((uint16_t)s5 << 10) | (1u << 13));
    udelay(500000);
    test_fail("still running 500 ms after writing SLP_EN with SLP_TYP %d", s5);
}
