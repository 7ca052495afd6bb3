/*
 * HPET: IA-PC High Precision Event Timer (Intel/Microsoft specification 1.0a, October 2004),
 * as QEMU's pc has it: one timer block at 0xfed00000 (1 KiB), a 64-bit main counter at
 * 100 MHz, three comparators, LegacyReplacement capable, vendor 8086.
 *
 * Board wiring ("hpet", a sysbus device):
 *   - map hpet_mmio() at HPET_BASE;
 *   - GPIO outputs 0..HPET_NUM_IRQ_ROUTES-1 ("IOAPIC pins" in the spec's words) go to the
 *     board's GSIs of the same number; LegacyReplacement uses outputs 0 and 8 (ISA IRQ 0 and
 *     IRQ 8, i.e. IOAPIC pin 2 through the board's IRQ 0 override);
 *   - the ISA bus takes GPIO inputs HPET_LEGACY_PIT_INT / HPET_LEGACY_RTC_INT in place of
 *     ISA IRQ 0 and 8: the HPET passes them through while LegacyReplacement is off and
 *     blocks them while it is on (spec 2.3.5, LEG_RT_CNF);
 *   - with KVM's in-kernel 8254 the board connects HPET_PIT_LEGACY_OUT to the accelerator
 *     (accel_pit_hpet_legacy), which stops that 8254's interrupts.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_TIMER_HPET_H
#define HW_TIMER_HPET_H

#include "hw/sysbus.h"

#define TYPE_HPET "hpet"
#define HPET_BASE 0xfed00000ULL
#define HPET_LEN 0x400
#define HPET_NUM_IRQ_ROUTES 32      /* Tn_INT_ROUTE_CNF is 5 bits wide */
#define HPET_MIN_TIMERS 3           /* spec 2.1: at least three comparators */
#define HPET_MAX_TIMERS 32
#define HPET_LEGACY_PIT_INT 0
#define HPET_LEGACY_RTC_INT 1
/* Named GPIO output: 1 while LegacyReplacement is on (for a PIT the HPET cannot gate). */
#define HPET_PIT_LEGACY_OUT "pit-legacy"
#define HPET_CLK_PERIOD_FS 10000000 /* 10 ns: 100 MHz, as QEMU's */

MemoryRegion *hpet_mmio(DeviceState *hpet);

/*
 * Register accesses at offset addr of the block (size 4 or 8, naturally aligned); anything
 * else is ignored (reads 0).  These are what the MMIO region calls; tests and fuzzers call
 * them directly.
 */
uint64_t hpet_reg_read(DeviceState *hpet, uint64_t addr, unsigned size);
void hpet_reg_write(DeviceState *hpet, uint64_t addr, uint64_t val, unsigned size);

#endif
