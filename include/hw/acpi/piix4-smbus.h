/*
 * The PIIX4 SMBus host controller (function 3's I/O block at SMBBA) with the SPD EEPROMs
 * QEMU's pc puts on the bus (hw/acpi/piix4-smbus.c).  Plain state: the register handlers
 * take the struct, so tests and fuzzers drive them without a machine.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ACPI_PIIX4_SMBUS_H
#define HW_ACPI_PIIX4_SMBUS_H

#include "kite/osdep.h"
#include "kite/vmstate.h"

#define PIIX4_SMBUS_IO_LEN      16
#define PIIX4_SMBUS_BLOCK_MAX   32
#define PIIX4_SMBUS_EEPROMS     8       /* at 7-bit addresses 50h-57h, as QEMU's pc */
#define PIIX4_SMBUS_EEPROM_BASE 0x50
#define PIIX4_SMBUS_EEPROM_SIZE 256

typedef struct PIIX4SMBus {
    uint8_t hst_sts, hst_cnt, hst_cmd, hst_add, hst_dat0, hst_dat1;
    uint8_t block[PIIX4_SMBUS_BLOCK_MAX];
    uint8_t block_idx;                  /* SMBBLKDAT's pointer; reading SMBHSTCNT resets it */
    uint8_t eeprom[PIIX4_SMBUS_EEPROMS][PIIX4_SMBUS_EEPROM_SIZE];
    uint8_t eeprom_ptr[PIIX4_SMBUS_EEPROMS];
} PIIX4SMBus;

/* Power-on register state; EEPROM contents stay (they are non-volatile). */
void piix4_smbus_reset(PIIX4SMBus *s);
/* Byte access at offset addr (0..PIIX4_SMBUS_IO_LEN-1) of the I/O block. */
uint8_t piix4_smbus_read(PIIX4SMBus *s, unsigned addr);
void piix4_smbus_write(PIIX4SMBus *s, unsigned addr, uint8_t val);
extern const VMStateDescription vmstate_piix4_smbus;

#endif
