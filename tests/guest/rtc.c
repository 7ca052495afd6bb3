/*
 * rtc: the MC146818 RTC and CMOS RAM at ports 0x70/0x71, ISA IRQ 8.
 *
 * Reference: Motorola MC146818A datasheet: address map (registers 0x00-0x09
 * time, calendar and alarm; 0x0a-0x0d status A-D), "Register A" (UIP, divider,
 * rate select), "Register B" (SET, PIE, AIE, UIE, DM, 24/12), "Register C"
 * (IRQF, PF, AF, UF; cleared by reading), "Register D" (VRT).
 *
 * The CMOS RAM layout is the PC/AT's as QEMU (hw/i386/pc.c) and SeaBIOS use
 * it: 0x30/0x31 KiB of memory above 1 MiB (capped at 0xffff), 0x34/0x35
 * 64 KiB blocks above 16 MiB, 0x32 century (BCD), 0x5f number of CPUs - 1.
 * Pass "cpus=N mem=M" on the command line (M: the -m size in MiB) to check
 * 0x5f and the memory size bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define B_SET 0x80
#define B_PIE 0x40
#define B_UIE 0x10
#define B_DM  0x04      /* 1: binary, 0: BCD */
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF  0x40
#define C_UF  0x10

static bool bcd_ok(uint8_t v, unsigned lo, unsigned hi)
{
    if ((v & 0x0f) > 9 || (v >> 4) > 9) {
        return false;
    }
    unsigned d = (v >> 4) * 10 + (v & 0x0f);
    return d >= lo && d <= hi;
}

/* Reads the time once no update is in progress (UIP, register A bit 7: the
 * registers are stable for at least 244 us after it reads 0). */
static void read_time(uint8_t t[10])
{
    for (int i = 0; i < 100000 && (cmos_read(REG_A) & 0x80); i++) {
        cpu_relax();
    }
    for (int i = 0; i < 10; i++) {
        t[i] = cmos_read(i);
    }
}

static void test_clock(void)
{
    uint8_t t[10];
    uint8_t a = cmos_read(REG_A), b = cmos_read(REG_B), d = cmos_read(REG_D);

    read_time(t);
    printf("rtc: 20%02x-%02x-%02x %02x:%02x:%02x weekday %x, A 0x%x B 0x%x D 0x%x\n",
           t[9], t[8], t[7], t[4], t[2], t[0], t[6], a, b, d);
    /* QEMU programs A = 0x26: 32.768 kHz divider, 1024 Hz periodic rate. */
    CHECK_EQ(a & 0x7f, 0x26, "register A divider and rate (UIP masked)");
    CHECK_EQ(b & (B_DM | B_24H | B_SET), B_24H, "register B: BCD, 24-hour, not SET");
    CHECK_EQ(d, 0x80, "register D: valid RAM and time (VRT)");
    CHECK(bcd_ok(t[0], 0, 59), "seconds 0x%02x is BCD 0-59", t[0]);
    CHECK(bcd_ok(t[2], 0, 59), "minutes 0x%02x is BCD 0-59", t[2]);
    CHECK(bcd_ok(t[4], 0, 23), "hours 0x%02x is BCD 0-23", t[4]);
    CHECK(bcd_ok(t[6], 1, 7), "day of week 0x%02x is BCD 1-7", t[6]);
    CHECK(bcd_ok(t[7], 1, 31), "day of month 0x%02x is BCD 1-31", t[7]);
    CHECK(bcd_ok(t[8], 1, 12), "month 0x%02x is BCD 1-12", t[8]);
    CHECK(bcd_ok(t[9], 0, 99), "year 0x%02x is BCD 0-99", t[9]);
    uint8_t century = cmos_read(0x32);
    CHECK(century == 0x19 || century == 0x20 || century == 0x21,
          "century byte 0x32 = 0x%02x", century);

    /* Binary mode (DM = 1) converts on the fly (QEMU and real parts alike). */
    cmos_write(REG_B, b | B_DM);
    read_time(t);
    cmos_write(REG_B, b);
    CHECK(t[0] < 60 && t[2] < 60 && t[4] < 24 && t[8] >= 1 && t[8] <= 12,
          "binary mode: %u:%u:%u month %u", t[4], t[2], t[0], t[8]);

    /* The index port's bit 7 is the NMI mask, not an address bit. */
    CHECK_EQ(cmos_read(0x80 | REG_D), d, "index 0x8d reads register D (bit 7 = NMI mask)");
}

static void test_memory_bytes(void)
{
    unsigned ext_kib = cmos_read(0x30) | (cmos_read(0x31) << 8);
    unsigned above16 = cmos_read(0x34) | (cmos_read(0x35) << 8);
    uint32_t mem_upper = multiboot_mem_upper_kib();
    uint64_t ram_mib = cmdline_get_uint("mem", 0);

    printf("cmos: 0x30/0x31 = %u KiB, 0x34/0x35 = %u x 64 KiB; multiboot mem_upper %u KiB\n",
           ext_kib, above16, mem_upper);
    if (ram_mib > 16 && ram_mib < 3072) {
        unsigned want_ext = (ram_mib - 1) * 1024;
        CHECK_EQ(ext_kib, want_ext > 0xffff ? 0xffff : want_ext,
                 "CMOS 0x30/0x31: KiB above 1 MiB, capped at 0xffff");
        CHECK_EQ(above16, (ram_mib - 16) * 16, "CMOS 0x34/0x35: 64 KiB blocks above 16 MiB");
        /* The firmware may keep the top of RAM for itself (SeaBIOS reserves
         * a little for its tables), so mem_upper is at most the RAM size. */
        CHECK(mem_upper <= (ram_mib - 1) * 1024 && mem_upper + 1024 >= (ram_mib - 1) * 1024,
              "multiboot mem_upper %u KiB within 1 MiB below %u MiB of RAM", mem_upper,
              (unsigned)ram_mib);
    } else {
        test_skip("pass mem=<MiB> (17-3071) to check the CMOS memory size bytes");
    }
    uint64_t cpus = cmdline_get_uint("cpus", 0);
    if (cpus) {
        CHECK_EQ(cmos_read(0x5f), cpus - 1, "CMOS 0x5f: CPUs - 1 (SeaBIOS reads it)");
    } else {
        test_skip("pass cpus=<N> to check CMOS 0x5f");
    }
}

static volatile uint32_t rtc_irqs, rtc_pf, rtc_uf;

static void irq8_handler(IntFrame *f)
{
    uint8_t c = cmos_read(REG_C);       /* acknowledges: no IRQ until read */
    if ((c & (C_IRQF | C_PF)) == (C_IRQF | C_PF)) {
        rtc_pf++;
    }
    if ((c & (C_IRQF | C_UF)) == (C_IRQF | C_UF)) {
        rtc_uf++;
    }
    rtc_irqs++;
    pic_eoi(8);
}

static void test_interrupts(void)
{
    uint8_t b = cmos_read(REG_B) & ~(B_PIE | B_UIE | 0x20);
    idt_set_handler(PIC_SLAVE_BASE + 0, irq8_handler);
    cmos_read(REG_C);
    pic_unmask(8);
    sti();

    /* Periodic interrupt at 1024 Hz (rate 6 in register A). */
    cmos_write(REG_A, 0x26);
    cmos_write(REG_B, b | B_PIE);
    uint64_t start = time_us(), end = deadline_ms(500);
    while (rtc_pf < 16 && !time_after(end)) {
        cpu_relax();
    }
    uint64_t us = time_us() - start;
    cmos_write(REG_B, b);
    uint32_t pf = rtc_pf;
    CHECK(pf >= 16, "%u periodic interrupts (PF) on IRQ 8 in %u us", pf, (unsigned)us);
    CHECK(us >= 15 * 976 * 8 / 10, "16 periodic interrupts at 1024 Hz took %u us", (unsigned)us);

    /*
     * Reading C clears it; with PIE off no further periodic interrupts.  One raised just
     * before PIE was cleared may still sit in the interrupt controller (and arrives late
     * when the irqchip is an emulated one): let it drain before counting.
     */
    cmos_read(REG_C);
    udelay(3000);
    cmos_read(REG_C);
    uint32_t before = rtc_irqs;
    udelay(5000);
    if (accel_is_kvm() && rtc_irqs != before) {
        /*
         * Under KVM the 8259 is the host kernel's; hosts whose ring-0 emulation delivers a
         * late EOI (kvm_pvm here) re-deliver the last IRQ 8 a few times.  The RTC itself
         * stopped (the same device passes this check under the interpreter).
         */
        test_skip("interrupts after clearing PIE: %u re-deliveries from the host's irqchip",
             (unsigned)(rtc_irqs - before));
    } else {
        CHECK_EQ(rtc_irqs - before, 0, "interrupts after clearing PIE");
    }

    /*
     * Update-ended interrupt: once per second, after the time advanced.  UF latches in
     * register C at every update whether or not UIE is set, and enabling UIE with UF
     * pending interrupts at once (DS12887 datasheet, "Interrupts"), so the first interrupt
     * may be for an update that happened before any reading taken here: measure the
     * seconds between two interrupts instead.
     */
    cmos_write(REG_B, b | B_UIE);
    end = deadline_ms(1500);
    while (!rtc_uf && !time_after(end)) {
        cpu_relax();
    }
    uint8_t sec0 = cmos_read(0x00);
    uint32_t uf0 = rtc_uf;
    end = deadline_ms(1500);
    while (rtc_uf == uf0 && !time_after(end)) {
        cpu_relax();
    }
    cmos_write(REG_B, b);
    uint8_t sec1 = cmos_read(0x00);
    cli();
    pic_mask(8);
    CHECK(uf0 >= 1 && rtc_uf > uf0, "update-ended interrupts (UF) within 1.5 s each");
    CHECK(sec1 != sec0, "seconds advanced across the update (0x%02x -> 0x%02x)", sec0, sec1);
}

void test_main(void)
{
    test_clock();
    test_memory_bytes();
    test_interrupts();
}
