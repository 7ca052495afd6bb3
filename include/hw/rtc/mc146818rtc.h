/*
 * MC146818A real-time clock and CMOS RAM (ports 0x70/0x71, ISA IRQ 8).
 *
 * Board usage, after realizing the device:
 *
 *     rtc_set_pc_memory(rtc, below_4g, above_4g);   // CMOS 0x15-0x18, 0x30-0x31, 0x34-0x35,
 *                                                   // 0x5b-0x5d as QEMU/SeaBIOS expect
 *     rtc_set_cpu_count(rtc, smp_cpus);             // CMOS 0x5f = cpus - 1
 *     rtc_set_memory(rtc, 0x14, equipment_byte);    // any other byte
 *
 * CMOS contents survive a system reset, as the battery-backed RAM does.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_RTC_MC146818RTC_H
#define HW_RTC_MC146818RTC_H

#include "hw/isa.h"

#define TYPE_MC146818_RTC "mc146818rtc"
#define RTC_ISA_IRQ 8
#define RTC_CENTURY 0x32                /* IBM PC century byte (FADT CENTURY) */

void rtc_set_memory(DeviceState *rtc, int addr, uint8_t val);
uint8_t rtc_get_memory(DeviceState *rtc, int addr);
void rtc_set_pc_memory(DeviceState *rtc, uint64_t below_4g, uint64_t above_4g);
void rtc_set_cpu_count(DeviceState *rtc, unsigned cpus);

#endif
