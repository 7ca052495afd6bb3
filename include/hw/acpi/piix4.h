/*
 * PIIX4 function 3, the power management function with the ACPI PM block (hw/acpi/piix4.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ACPI_PIIX4_H
#define HW_ACPI_PIIX4_H

#include "hw/pci/pci.h"

#define TYPE_PIIX4_PM "PIIX4_PM"

/* PIIX4 function 3 config registers firmware programs (82371AB datasheet). */
#define PIIX4_PM_PMBA           0x40
#define PIIX4_PM_PMREGMISC      0x80
#define PIIX4_PM_SMBBA          0x90
#define PIIX4_PM_SMBHSTCFG      0xd2

/* Where the PM I/O block decodes now (PMBA with PMIOSE set), or 0 if nowhere. */
uint32_t piix4_pm_io_base(DeviceState *dev);

#endif
