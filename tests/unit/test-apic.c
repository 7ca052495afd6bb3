/*
 * Local APIC: reset values, TPR/PPR masking and INTA/EOI, IPIs between two vCPUs (physical,
 * logical flat and cluster, shorthands, lowest priority, NMI/SMI, INIT/SIPI), the error
 * register, the timer (one-shot, periodic, divider, TSC deadline), IA32_APIC_BASE, the 8259
 * path through LINT0, save/restore.  Section numbers: Intel SDM vol. 3A, chapter 10.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "apic-harness.h"

/* Register offsets (Table 10-1). */
#define ID      0x020
#define VER     0x030
#define TPR     0x080
#define APR     0x090
#define PPR     0x0a0
#define EOI     0x0b0
#define LDR     0x0d0
#define DFR     0x0e0
#define SVR     0x0f0
#define ISR     0x100
#define TMR     0x180
#define IRR     0x200
#define ESR     0x280
#define ICR_LO  0x300
#define ICR_HI  0x310
#define LVTT    0x320
#define LINT0   0x350
#define LINT1   0x360
#define LVTERR  0x370
#define TMICT   0x380
#define TMCCT   0x390
#define TDCR    0x3e0

static void send_ipi(CPUState *from, uint8_t dest, uint32_t lo)
{
    apic_wr(from, ICR_HI, (uint32_t)dest << 24);
    apic_wr(from, ICR_LO, lo);
}

static uint32_t read_esr(CPUState *cpu)
{
    apic_wr(cpu, ESR, 0);       /* 10.5.3: write first, then read */
    return apic_rd(cpu, ESR);
}

static void test_reset_values(void)
{
    Harness h = { 0 };

    harness_init(&h, false);
    /* 10.4.7.1 power-up state; version 0x50014 (6 LVT entries). */
    g_assert_cmphex(apic_rd(h.cpu[0], ID), ==, 0);
    g_assert_cmphex(apic_rd(h.cpu[1], ID), ==, 1u << 24);
    g_assert_cmphex(apic_rd(h.cpu[1], VER), ==, 0x50014);
    g_assert_cmphex(apic_rd(h.cpu[1], SVR), ==, 0xff);
    g_assert_cmphex(apic_rd(h.cpu[1], DFR), ==, 0xffffffff);
    g_assert_cmphex(apic_rd(h.cpu[1], LDR), ==, 0);
    g_assert_cmphex(apic_rd(h.cpu[1], TPR), ==, 0);
    g_assert_cmphex(apic_rd(h.cpu[1], LVTT), ==, 0x10000);
    g_assert_cmphex(apic_rd(h.cpu[1], LINT0), ==, 0x10000);
    g_assert_cmphex(apic_rd(h.cpu[1], LVTERR), ==, 0x10000);
    /* QEMU's deviation: the BSP's LINT0 starts in ExtINT mode, unmasked. */
    g_assert_cmphex(apic_rd(h.cpu[0], LINT0), ==, 0x700);
    /* 10.4.4: base 0xfee00000, enabled, BSP flag on CPU 0 only. */
    g_assert_cmphex(apic_get_base(h.apic[0]), ==, 0xfee00900);
    g_assert_cmphex(apic_get_base(h.apic[1]), ==, 0xfee00800);
    /* With no current CPU (the main loop, qtest) the page is CPU 0's. */
    g_assert_cmphex(apic_rd(NULL, ID), ==, 0);
    /* While software-disabled (SVR bit 8 = 0), LVT masks cannot be cleared (10.4.7.2). */
    apic_wr(h.cpu[1], LVTT, 0x30);
    g_assert_cmphex(apic_rd(h.cpu[1], LVTT), ==, 0x10030);
    harness_cleanup(&h);
}

static void test_tpr_ppr(void)
{
    Harness h = { 0 };
    CPUState *c = NULL;

    harness_init(&h, false);
    c = h.cpu[0];
    apic_enable(c);
    /* 10.8.3.1: a vector is delivered only if its class is above PPR's. */
    apic_wr(c, TPR, 0x60);
    send_ipi(c, 0, 0x44051);            /* self, fixed, vector 0x51 */
    g_assert_true(apic_bit(c, IRR, 0x51));
    g_assert_false(has_hard(c));
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, -1);
    g_assert_cmphex(apic_rd(c, PPR), ==, 0x60);
    g_assert_cmphex(apic_rd(c, APR), ==, 0x60);
    /* CR8 is TPR[7:4] (10.8.6.1). */
    apic_set_tpr(h.apic[0], 4);
    g_assert_cmphex(apic_rd(c, TPR), ==, 0x40);
    g_assert_cmpuint(apic_get_tpr(h.apic[0]), ==, 4);
    g_assert_true(has_hard(c));
    g_assert_true(apic_has_pending(h.apic[0]));
    /* 10.8.4: INTA moves the vector from IRR to ISR; PPR follows ISR. */
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, 0x51);
    g_assert_false(apic_bit(c, IRR, 0x51));
    g_assert_true(apic_bit(c, ISR, 0x51));
    g_assert_cmphex(apic_rd(c, PPR), ==, 0x50);
    g_assert_false(has_hard(c));
    /* Same class as the one in service: held until EOI. */
    send_ipi(c, 0, 0x44052);
    g_assert_false(has_hard(c));
    /* A higher class nests. */
    send_ipi(c, 0, 0x44091);
    g_assert_true(has_hard(c));
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, 0x91);
    /* 10.8.5: EOI clears the highest ISR bit first. */
    apic_wr(c, EOI, 0);
    g_assert_false(apic_bit(c, ISR, 0x91));
    g_assert_true(apic_bit(c, ISR, 0x51));
    g_assert_false(has_hard(c));
    apic_wr(c, EOI, 0);
    g_assert_true(has_hard(c));
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0x52);
    g_assert_false(has_hard(c));
    g_assert_cmphex(apic_rd(c, PPR), ==, 0x40);
    /* Highest vector first. */
    apic_set_tpr(h.apic[0], 0);
    send_ipi(c, 0, 0x44031);
    send_ipi(c, 0, 0x44081);
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0x81);
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0x31);
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, -1);
    harness_cleanup(&h);
}

static void test_ipi_destinations(void)
{
    Harness h = { 0 };
    CPUState **c = h.cpu;

    harness_init(&h, false);
    apic_enable(c[0]);
    apic_enable(c[1]);
    /* 10.6.2.1 physical: APIC ID 1. */
    send_ipi(c[0], 1, 0x4040);
    g_assert_true(apic_bit(c[1], IRR, 0x40));
    g_assert_false(apic_bit(c[0], IRR, 0x40));
    g_assert_true(has_hard(c[1]));
    g_assert_false(has_hard(c[0]));
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x40);
    /* Physical 0xff is a broadcast. */
    send_ipi(c[0], 0xff, 0x4041);
    g_assert_cmpint(take_and_eoi(c[0], h.apic[0]), ==, 0x41);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x41);

    /* 10.6.2.2 logical, flat model: a bit per APIC in LDR[31:24]. */
    apic_wr(c[0], LDR, 0x01000000);
    apic_wr(c[1], LDR, 0x02000000);
    send_ipi(c[0], 0x02, 0x4842);
    g_assert_false(apic_bit(c[0], IRR, 0x42));
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x42);
    send_ipi(c[0], 0x03, 0x4843);
    g_assert_cmpint(take_and_eoi(c[0], h.apic[0]), ==, 0x43);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x43);
    send_ipi(c[0], 0x04, 0x4844);
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, -1);
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, -1);

    /* Cluster model (DFR 0x0): cluster in LDR[31:28], members in [27:24]. */
    apic_wr(c[0], DFR, 0x0fffffff);
    apic_wr(c[1], DFR, 0x0fffffff);
    g_assert_cmphex(apic_rd(c[1], DFR), ==, 0x0fffffff);
    apic_wr(c[0], LDR, 0x11000000);
    apic_wr(c[1], LDR, 0x12000000);
    send_ipi(c[0], 0x12, 0x4845);
    g_assert_false(apic_bit(c[0], IRR, 0x45));
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x45);
    send_ipi(c[0], 0x22, 0x4846);       /* cluster 2 does not exist */
    g_assert_false(apic_bit(c[1], IRR, 0x46));
    apic_wr(c[0], DFR, 0xffffffff);
    apic_wr(c[1], DFR, 0xffffffff);

    /* 10.6.1 shorthands: all excluding self, all including self. */
    send_ipi(c[1], 0, 0xc4047);
    g_assert_false(apic_bit(c[1], IRR, 0x47));
    g_assert_cmpint(take_and_eoi(c[0], h.apic[0]), ==, 0x47);
    send_ipi(c[1], 0, 0x84048);
    g_assert_cmpint(take_and_eoi(c[0], h.apic[0]), ==, 0x48);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x48);

    /* 10.6.2.4 lowest priority: the lower arbitration priority (TPR here) wins. */
    apic_wr(c[0], LDR, 0x01000000);
    apic_wr(c[1], LDR, 0x02000000);
    apic_wr(c[0], TPR, 0x20);
    apic_wr(c[1], TPR, 0x10);
    send_ipi(c[0], 0x03, 0x4949);
    g_assert_true(apic_bit(c[1], IRR, 0x49));
    g_assert_false(apic_bit(c[0], IRR, 0x49));
    apic_wr(c[1], TPR, 0x30);
    send_ipi(c[0], 0x03, 0x494a);
    g_assert_true(apic_bit(c[0], IRR, 0x4a));
    g_assert_false(apic_bit(c[1], IRR, 0x4a));

    /* A level-triggered fixed interrupt sets TMR (10.8.4). */
    send_ipi(c[0], 1, 0xc050);
    g_assert_true(apic_bit(c[1], TMR, 0x50));

    /* A software-disabled APIC does not accept fixed interrupts. */
    apic_wr(c[1], SVR, 0xff);
    send_ipi(c[0], 1, 0x4060);
    g_assert_false(apic_bit(c[1], IRR, 0x60));
    harness_cleanup(&h);
}

static void test_nmi_init_sipi(void)
{
    Harness h = { 0 };
    CPUState **c = h.cpu;

    harness_init(&h, false);
    apic_enable(c[0]);
    /* NMI and SMI: the CPU's request bits. */
    send_ipi(c[0], 1, 0x4400);
    g_assert_true(c[1]->interrupt_request & CPU_INTERRUPT_NMI);
    send_ipi(c[0], 1, 0x4200);
    g_assert_true(c[1]->interrupt_request & CPU_INTERRUPT_SMI);
    g_assert_false(c[0]->interrupt_request & (CPU_INTERRUPT_NMI | CPU_INTERRUPT_SMI));

    /* An AP waits for a SIPI after reset: INIT, then the startup IPI with its vector. */
    apic_enable(c[1]);
    apic_wr(c[1], TPR, 0x70);
    apic_wr(c[1], LDR, 0x02000000);
    send_ipi(c[0], 1, 0x4500);          /* INIT, level assert */
    g_assert_true(c[1]->interrupt_request & CPU_INTERRUPT_INIT);
    /* INIT level de-assert (trigger level, level 0) has no effect. */
    c[1]->interrupt_request = 0;
    send_ipi(c[0], 1, 0x8500);
    g_assert_cmpuint(c[1]->interrupt_request, ==, 0);
    /* The CPU glue's INIT: registers to their INIT values, the APIC ID kept (10.4.7.3). */
    apic_init_reset(h.apic[1]);
    g_assert_cmphex(apic_rd(c[1], TPR), ==, 0);
    g_assert_cmphex(apic_rd(c[1], LDR), ==, 0);
    g_assert_cmphex(apic_rd(c[1], SVR), ==, 0xff);
    g_assert_cmphex(apic_rd(c[1], ID), ==, 1u << 24);
    g_assert_cmpint(apic_get_sipi_vector(h.apic[1]), ==, -1);
    send_ipi(c[0], 1, 0x469a);          /* startup, vector 0x9a */
    g_assert_true(c[1]->interrupt_request & CPU_INTERRUPT_SIPI);
    g_assert_cmpint(apic_get_sipi_vector(h.apic[1]), ==, 0x9a);
    g_assert_cmpint(apic_get_sipi_vector(h.apic[1]), ==, -1);
    /* The second SIPI of the INIT-SIPI-SIPI sequence finds the AP running: ignored. */
    c[1]->interrupt_request = 0;
    send_ipi(c[0], 1, 0x4690);
    g_assert_false(c[1]->interrupt_request & CPU_INTERRUPT_SIPI);
    g_assert_cmpint(apic_get_sipi_vector(h.apic[1]), ==, -1);
    /* The BSP does not wait for SIPIs. */
    send_ipi(c[1], 0, 0x4690);
    g_assert_false(c[0]->interrupt_request & CPU_INTERRUPT_SIPI);
    harness_cleanup(&h);
}

static void test_errors(void)
{
    Harness h = { 0 };
    CPUState *c;

    harness_init(&h, false);
    c = h.cpu[0];
    apic_enable(c);
    apic_wr(c, LVTERR, 0xfe);
    /* 10.5.3: a fixed IPI with a vector below 16 is a send error, and is not sent. */
    send_ipi(c, 0, 0x44005);
    g_assert_false(apic_bit(c, IRR, 5));
    g_assert_cmphex(read_esr(c), ==, 0x20);
    /* The error LVT signalled it. */
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0xfe);
    /* ESR reads what the last write latched; the next write clears it. */
    g_assert_cmphex(apic_rd(c, ESR), ==, 0x20);
    g_assert_cmphex(read_esr(c), ==, 0);
    /* A received illegal vector (from the APIC bus). */
    apic_deliver_irq(0, false, APIC_DM_FIXED, 7, false);
    g_assert_cmphex(read_esr(c), ==, 0x40);
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0xfe);
    /* A reserved register: illegal register address. */
    g_assert_cmphex(apic_rd(c, 0x010), ==, 0);
    g_assert_cmphex(read_esr(c), ==, 0x80);
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0xfe);
    harness_cleanup(&h);
}

static void test_timer_oneshot(void)
{
    Harness h = { 0 };
    CPUState *c;
    int64_t t;

    harness_init(&h, false);
    c = h.cpu[1];
    apic_enable(c);
    /* 10.5.4: divide by 1 (TDCR 1011b), one-shot, vector 0x30; 1 ns per count here. */
    apic_wr(c, TDCR, 0xb);
    apic_wr(c, LVTT, 0x30);
    t = vnow();
    apic_wr(c, TMICT, 1000);
    g_assert_cmpuint(apic_rd(c, TMICT), ==, 1000);
    clock_virtual_warp(t + 400);
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 600);
    clock_virtual_warp(t + 999);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 1000);
    g_assert_true(apic_bit(c, IRR, 0x30));
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 0);
    g_assert_cmpint(take_and_eoi(c, h.apic[1]), ==, 0x30);
    clock_virtual_warp(t + 100000);
    g_assert_false(has_hard(c));

    /* Divide by 128 (TDCR 1010b): 10 counts are 1280 ns. */
    apic_wr(c, TDCR, 0xa);
    t = vnow();
    apic_wr(c, TMICT, 10);
    clock_virtual_warp(t + 128 * 3);
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 7);
    clock_virtual_warp(t + 1279);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 1280);
    g_assert_cmpint(take_and_eoi(c, h.apic[1]), ==, 0x30);
    /* Divide by 2 (TDCR 0000b). */
    apic_wr(c, TDCR, 0x0);
    t = vnow();
    apic_wr(c, TMICT, 50);
    clock_virtual_warp(t + 99);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 100);
    g_assert_cmpint(take_and_eoi(c, h.apic[1]), ==, 0x30);
    /* Writing 0 stops it; a masked LVT counts but does not interrupt. */
    t = vnow();
    apic_wr(c, TMICT, 50);
    apic_wr(c, TMICT, 0);
    clock_virtual_warp(t + 1000);
    g_assert_false(has_hard(c));
    apic_wr(c, LVTT, 0x10030);
    t = vnow();
    apic_wr(c, TMICT, 50);
    clock_virtual_warp(t + 1000);
    g_assert_false(has_hard(c));
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 0);
    harness_cleanup(&h);
}

static void test_timer_periodic(void)
{
    Harness h = { 0 };
    CPUState *c;
    int64_t t;

    harness_init(&h, false);
    c = h.cpu[0];
    apic_enable(c);
    apic_wr(c, TDCR, 0xb);
    apic_wr(c, LVTT, 0x20031);          /* periodic, vector 0x31 */
    t = vnow();
    apic_wr(c, TMICT, 20000);
    for (int i = 1; i <= 5; i++) {
        clock_virtual_warp(t + 20000 * i - 1);
        g_assert_false(has_hard(c));
        clock_virtual_warp(t + 20000 * i);
        g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0x31);
    }
    /* The count reloads: half a period after the fifth expiry, half the count remains. */
    clock_virtual_warp(t + 110000);
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 10000);
    /* Changing the divider keeps the current count (it only changes the rate). */
    apic_wr(c, TDCR, 0x0);
    clock_virtual_warp(t + 110000 + 200);
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 9900);
    /* Switching to one-shot: the running count finishes, then no more interrupts. */
    apic_wr(c, TDCR, 0xb);
    apic_wr(c, LVTT, 0x31);
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 9900);
    clock_virtual_warp(t + 110200 + 9899);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 110200 + 9900);
    g_assert_cmpint(take_and_eoi(c, h.apic[0]), ==, 0x31);
    clock_virtual_warp(t + 1000000);
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, -1);

    /* A 1-count period does not flood the main loop (fires at most every 10 us). */
    apic_wr(c, LVTT, 0x20031);
    t = vnow();
    apic_wr(c, TMICT, 1);
    clock_virtual_warp(t + 1000000);
    g_assert_true(apic_bit(c, IRR, 0x31));
    apic_wr(c, TMICT, 0);
    harness_cleanup(&h);
}

static uint64_t tsc_3ghz(void *opaque)
{
    return (uint64_t)clock_get_ns(KITE_CLOCK_VIRTUAL) * 3 + 12345;
}

static void test_timer_tsc_deadline(void)
{
    Harness h = { 0 };
    CPUState *c;
    DeviceState *a;
    int64_t t;

    harness_init(&h, false);
    c = h.cpu[0];
    a = h.apic[0];
    apic_enable(c);
    /* 10.5.4.1: outside TSC-deadline mode the MSR ignores writes and reads 0. */
    apic_set_tsc_deadline(a, vnow() + 10);
    g_assert_cmpuint(apic_get_tsc_deadline(a), ==, 0);
    apic_wr(c, LVTT, 0x40032);          /* TSC-deadline mode, vector 0x32 */
    /* The initial-count register is ignored in this mode. */
    apic_wr(c, TMICT, 100);
    g_assert_cmpuint(apic_rd(c, TMICT), ==, 0);
    /* Default TSC: the virtual clock in ns. */
    t = vnow();
    apic_set_tsc_deadline(a, t + 5000);
    g_assert_cmpuint(apic_get_tsc_deadline(a), ==, t + 5000);
    clock_virtual_warp(t + 4999);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 5000);
    g_assert_cmpint(take_and_eoi(c, a), ==, 0x32);
    g_assert_cmpuint(apic_get_tsc_deadline(a), ==, 0);   /* cleared when it fires */
    /* Writing 0 disarms. */
    t = vnow();
    apic_set_tsc_deadline(a, t + 100);
    apic_set_tsc_deadline(a, 0);
    clock_virtual_warp(t + 1000);
    g_assert_false(has_hard(c));
    /* A deadline already passed fires at once. */
    apic_set_tsc_deadline(a, 1);
    clock_virtual_warp(vnow());
    g_assert_cmpint(take_and_eoi(c, a), ==, 0x32);

    /* A 3 GHz TSC from the CPU glue: 3000 TSC cycles are 1000 ns. */
    apic_set_tsc_clock(a, tsc_3ghz, NULL, 3000000);
    t = vnow();
    apic_set_tsc_deadline(a, tsc_3ghz(NULL) + 3000);
    clock_virtual_warp(t + 999);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 1000);
    g_assert_cmpint(take_and_eoi(c, a), ==, 0x32);
    /* Leaving TSC-deadline mode disarms the timer. */
    t = vnow();
    apic_set_tsc_deadline(a, tsc_3ghz(NULL) + 3000);
    apic_wr(c, LVTT, 0x32);
    clock_virtual_warp(t + 5000);
    g_assert_false(has_hard(c));
    harness_cleanup(&h);
}

static void test_apic_base_and_pic(void)
{
    Harness h = { 0 };
    CPUState **c = h.cpu;

    harness_init(&h, false);
    /* The 8259's INTR reaches the BSP through LINT0 (ExtINT) even before SVR enables it. */
    apic_deliver_pic_intr(h.apic[0], 1);
    apic_deliver_pic_intr(h.apic[1], 1);
    g_assert_true(has_hard(c[0]));
    g_assert_true(apic_accept_pic_intr(h.apic[0]));
    g_assert_cmpint(apic_get_interrupt(h.apic[0]), ==, -1);  /* acknowledge the 8259 */
    /* The AP's LINT0 is masked. */
    g_assert_false(has_hard(c[1]));
    g_assert_false(apic_accept_pic_intr(h.apic[1]));
    /* Unmasking it in ExtINT mode opens the path. */
    apic_enable(c[1]);
    apic_wr(c[1], LINT0, 0x700);
    g_assert_true(has_hard(c[1]));
    apic_deliver_pic_intr(h.apic[0], 0);
    apic_deliver_pic_intr(h.apic[1], 0);
    g_assert_false(has_hard(c[0]));
    g_assert_false(has_hard(c[1]));
    /* LINT0 in fixed mode, edge: each rising edge is one interrupt. */
    apic_wr(c[1], LINT0, 0x0041);
    apic_deliver_pic_intr(h.apic[1], 1);
    g_assert_cmpint(take_and_eoi(c[1], h.apic[1]), ==, 0x41);
    g_assert_false(apic_accept_pic_intr(h.apic[1]));
    apic_deliver_pic_intr(h.apic[1], 1);
    g_assert_false(has_hard(c[1]));
    apic_deliver_pic_intr(h.apic[1], 0);
    /* LINT1 as NMI is the usual wiring; here just check the entry is writable. */
    apic_wr(c[1], LINT1, 0x400);
    g_assert_cmphex(apic_rd(c[1], LINT1), ==, 0x400);

    /* 10.4.4: reserved bits and x2APIC (EXTD) are refused (#GP). */
    g_assert_false(apic_set_base(h.apic[1], 0xfee00a00));
    g_assert_false(apic_set_base(h.apic[1], 0xfee00c00));
    g_assert_false(apic_set_base(h.apic[1], 0xfee00801));
    /* The BSP flag is read-only. */
    g_assert_true(apic_set_base(h.apic[1], 0xfee00900));
    g_assert_cmphex(apic_get_base(h.apic[1]), ==, 0xfee00800);
    /* 10.4.3: disabled, the APIC is gone: LINT0 is INTR, the page unassigned. */
    apic_wr(c[1], TPR, 0x30);
    g_assert_true(apic_set_base(h.apic[1], 0xfee00000));
    g_assert_cmphex(apic_rd(c[1], VER), ==, 0xffffffff);
    g_assert_true(apic_accept_pic_intr(h.apic[1]));
    apic_deliver_pic_intr(h.apic[1], 1);
    g_assert_true(has_hard(c[1]));
    apic_deliver_pic_intr(h.apic[1], 0);
    /* It does not receive IPIs either. */
    apic_enable(c[0]);
    send_ipi(c[0], 1, 0x4500);
    g_assert_false(c[1]->interrupt_request & CPU_INTERRUPT_INIT);
    /* Re-enabled, it is in its power-up state. */
    g_assert_true(apic_set_base(h.apic[1], 0xfee00800));
    g_assert_cmphex(apic_rd(c[1], TPR), ==, 0);
    g_assert_cmphex(apic_rd(c[1], SVR), ==, 0xff);
    g_assert_cmphex(apic_rd(c[1], LINT0), ==, 0x10000);
    harness_cleanup(&h);
}

static void test_vmstate(void)
{
    Harness h = { 0 };
    CPUState *c;
    g_autoptr(GByteArray) buf = g_byte_array_new();
    int64_t t;

    harness_init(&h, false);
    c = h.cpu[1];
    apic_enable(c);
    apic_wr(c, TPR, 0x20);
    apic_wr(c, LDR, 0x02000000);
    apic_wr(c, TDCR, 0xb);
    apic_wr(c, LVTT, 0x20033);
    t = vnow();
    apic_wr(c, TMICT, 70000);
    send_ipi(c, 0, 0x44055);
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x55);
    send_ipi(c, 0, 0x44066);
    clock_virtual_warp(t + 10000);
    g_assert_cmpint(vmstate_save_all(buf, &error_abort), ==, 0);

    device_cold_reset(h.apic[1]);
    g_assert_cmphex(apic_rd(c, TPR), ==, 0);
    g_assert_true(vmstate_load_all(buf->data, buf->len, &error_abort));
    g_assert_cmphex(apic_rd(c, TPR), ==, 0x20);
    g_assert_cmphex(apic_rd(c, LDR), ==, 0x02000000);
    g_assert_true(apic_bit(c, ISR, 0x55));
    g_assert_true(apic_bit(c, IRR, 0x66));
    g_assert_true(has_hard(c));
    g_assert_cmpuint(apic_rd(c, TMCCT), ==, 60000);
    /* The timer runs on from the restored state. */
    g_assert_cmpint(apic_get_interrupt(h.apic[1]), ==, 0x66);
    apic_wr(c, EOI, 0);
    apic_wr(c, EOI, 0);
    clock_virtual_warp(t + 69999);
    g_assert_false(has_hard(c));
    clock_virtual_warp(t + 70000);
    g_assert_cmpint(take_and_eoi(c, h.apic[1]), ==, 0x33);
    clock_virtual_warp(t + 140000);
    g_assert_cmpint(take_and_eoi(c, h.apic[1]), ==, 0x33);
    harness_cleanup(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_main_init();
    g_test_add_func("/apic/reset-values", test_reset_values);
    g_test_add_func("/apic/tpr-ppr", test_tpr_ppr);
    g_test_add_func("/apic/ipi-destinations", test_ipi_destinations);
    g_test_add_func("/apic/nmi-init-sipi", test_nmi_init_sipi);
    g_test_add_func("/apic/errors", test_errors);
    g_test_add_func("/apic/timer-oneshot", test_timer_oneshot);
    g_test_add_func("/apic/timer-periodic", test_timer_periodic);
    g_test_add_func("/apic/timer-tsc-deadline", test_timer_tsc_deadline);
    g_test_add_func("/apic/base-msr-pic", test_apic_base_and_pic);
    g_test_add_func("/apic/vmstate", test_vmstate);
    return g_test_run();
}
