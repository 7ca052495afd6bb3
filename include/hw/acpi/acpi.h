/*
 * ACPI fixed hardware shared by the PM device (hw/acpi/pm.c) and the table builder: register
 * layout of the PM1a event/control blocks and the PM timer (ACPI 6.4 §4.8), and the sleep
 * type values the DSDT's \_S5 package announces.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ACPI_ACPI_H
#define HW_ACPI_ACPI_H

#define TYPE_ACPI_PM "isa-acpi-pm"

#define ACPI_PM_IO_BASE     0x600
#define ACPI_PM1_EVT_OFF    0x00        /* PM1_STS at +0, PM1_EN at +2 */
#define ACPI_PM1_EVT_LEN    4
#define ACPI_PM1_CNT_OFF    0x04
#define ACPI_PM1_CNT_LEN    2
#define ACPI_PM_TMR_OFF     0x08
#define ACPI_PM_TMR_LEN     4
#define ACPI_PM_IO_LEN      0x0c        /* the registers in use */
#define ACPI_PM_BLOCK_LEN   0x40        /* the PIIX4's PM I/O block (PMBA bits 15:6) */
#define ACPI_SCI_IRQ        9
/* The GPE0 block (§4.8.4.1): GPE0_STS then GPE0_EN, 2 bytes each; QEMU's PIIX4 puts it at
 * 0xafe0. */
#define ACPI_GPE0_BASE      0xafe0
#define ACPI_GPE0_LEN       4

/* PM1 status/enable bits (§4.8.3.1, tables 4.16/4.17). */
#define ACPI_BITMASK_TIMER_STATUS       0x0001
#define ACPI_BITMASK_BUS_MASTER_STATUS  0x0010
#define ACPI_BITMASK_GLOBAL_LOCK_STATUS 0x0020
#define ACPI_BITMASK_POWER_BUTTON_STATUS 0x0100
#define ACPI_BITMASK_SLEEP_BUTTON_STATUS 0x0200
#define ACPI_BITMASK_RT_CLOCK_STATUS    0x0400
#define ACPI_BITMASK_WAKE_STATUS        0x8000

/* PM1 control bits (§4.8.3.2.1, table 4.18). */
#define ACPI_BITMASK_SCI_ENABLE         0x0001
#define ACPI_BITMASK_BUS_MASTER_RLD     0x0002
#define ACPI_BITMASK_GLOBAL_LOCK_RELEASE 0x0004
#define ACPI_SLP_TYP_SHIFT              10
#define ACPI_SLP_TYP_MASK               (7 << ACPI_SLP_TYP_SHIFT)
#define ACPI_BITMASK_SLEEP_ENABLE       0x2000

/*
 * SLP_TYPx values.  They are chipset-defined; Kite uses the PIIX4's (82371AB datasheet,
 * PMCNTRL SUS_TYP: 000b soft off, 001b suspend to RAM), as QEMU's pc machine does.
 */
#define ACPI_SLP_TYP_S5     0
#define ACPI_SLP_TYP_S3     1

#define ACPI_PM_TIMER_FREQUENCY 3579545     /* Hz (§4.8.3.3) */

#include "kite/memory.h"
#include "kite/timer.h"
#include "kite/vmstate.h"
#include "hw/irq.h"

/*
 * The PM1a event/control blocks and PM timer (hw/acpi/pm.c) as a core a chipset function
 * embeds: `io` is the ACPI_PM_BLOCK_LEN-byte block the owner maps, `sci` the line it
 * drives (set by the owner before reset).
 */
typedef struct AcpiPmRegs {
    MemoryRegion io, evt_io, cnt_io, tmr_io;
    MemoryRegion gpe_io;        /* the GPE0 block, ACPI_GPE0_LEN bytes, if the owner maps it */
    uint16_t gpe_sts, gpe_en;
    IRQState *sci;
    KiteTimer *tmr_timer;       /* fires at the next PM timer bit-23 toggle, if TMR_EN */
    uint16_t pm1_sts;
    uint16_t pm1_en;
    uint16_t pm1_cnt;
    int64_t tmr_toggle_ns;      /* virtual time of the next TMR_STS event */
} AcpiPmRegs;

void acpi_pm_regs_init(AcpiPmRegs *s, Object *owner);
void acpi_pm_regs_reset(AcpiPmRegs *s);
/* After the owner took s->io out of its address space. */
void acpi_pm_regs_destroy(AcpiPmRegs *s);
extern const VMStateDescription vmstate_acpi_pm_regs;

#endif
