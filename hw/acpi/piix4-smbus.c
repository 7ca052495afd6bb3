/*
 * PIIX4 SMBus host controller (Intel 82371AB datasheet, "SMBus Host Interface": the I/O
 * registers at SMBBA) and the bus behind it as QEMU's pc has it: eight 256-byte SPD
 * EEPROMs at addresses 50h-57h, blank (all zeros), which is what QEMU's pc creates.
 *
 * Registers (byte offsets):
 *   00h SMBHSTSTS  bit 0 HOST_BUSY, write-1-to-clear bits 1 INTR (done), 2 DEV_ERR
 *                  (no device acknowledged, or an invalid command), 3 BUS_ERR, 4 FAILED
 *                  (KILL)
 *   02h SMBHSTCNT  bit 0 INTEREN, bit 1 KILL, bits 4:2 the protocol (quick, byte, byte
 *                  data, word data, -, block), bit 6 START (write-only); reading it
 *                  rewinds the block data pointer
 *   03h SMBHSTCMD  the command byte; 04h SMBHSTADD address (7:1) and read (bit 0)
 *   05h/06h SMBHSTDAT0/1, 07h SMBBLKDAT (32 bytes through an auto-incrementing pointer)
 * Transactions finish at once (HOST_BUSY never reads 1).  The completion interrupt is not
 * wired, as in QEMU's PIIX4; drivers (Linux's i2c-piix4) poll.  The slave interface
 * (01h, 08h-0Dh) reads 0.
 *
 * An EEPROM behaves like a 24C02: a byte after the address sets its word pointer, later
 * bytes are stored there, reads return bytes from it; the pointer wraps at 256.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/acpi/piix4-smbus.h"

#define SMBHSTSTS   0x00
#define SMBHSTCNT   0x02
#define SMBHSTCMD   0x03
#define SMBHSTADD   0x04
#define SMBHSTDAT0  0x05
#define SMBHSTDAT1  0x06
#define SMBBLKDAT   0x07

#define STS_INTR        0x02
#define STS_DEV_ERR     0x04
#define STS_BUS_ERR     0x08
#define STS_FAILED      0x10
#define STS_W1C         (STS_INTR | STS_DEV_ERR | STS_BUS_ERR | STS_FAILED)

#define CNT_INTEREN     0x01
#define CNT_KILL        0x02
#define CNT_PROT(c)     (((c) >> 2) & 7)
#define CNT_START       0x40

enum { PROT_QUICK, PROT_BYTE, PROT_BYTE_DATA, PROT_WORD_DATA, PROT_RSVD4, PROT_BLOCK };

void piix4_smbus_reset(PIIX4SMBus *s)
{
    s->hst_sts = s->hst_cnt = s->hst_cmd = s->hst_add = s->hst_dat0 = s->hst_dat1 = 0;
    memset(s->block, 0, sizeof(s->block));
    s->block_idx = 0;
}

/* The EEPROM a 7-bit address selects, or -1: nobody acknowledges. */
static int eeprom_at(unsigned addr7)
{
    if (addr7 >= PIIX4_SMBUS_EEPROM_BASE &&
        addr7 < PIIX4_SMBUS_EEPROM_BASE + PIIX4_SMBUS_EEPROMS) {
        return addr7 - PIIX4_SMBUS_EEPROM_BASE;
    }
    return -1;
}

static uint8_t ee_recv(PIIX4SMBus *s, int e)
{
    return s->eeprom[e][s->eeprom_ptr[e]++];        /* uint8_t pointer: wraps at 256 */
}

static void ee_send(PIIX4SMBus *s, int e, uint8_t v)
{
    s->eeprom[e][s->eeprom_ptr[e]++] = v;
}

/* One transaction, on START (datasheet: the protocol in SMBHSTCNT bits 4:2). */
static void smbus_transaction(PIIX4SMBus *s)
{
    bool rd = s->hst_add & 1;
    int e = eeprom_at(s->hst_add >> 1);
    unsigned prot = CNT_PROT(s->hst_cnt);

    if (e < 0 || prot == PROT_RSVD4 || prot > PROT_BLOCK) {
        s->hst_sts |= STS_DEV_ERR;
        return;
    }
    switch (prot) {
    case PROT_QUICK:
        break;
    case PROT_BYTE:
        if (rd) {
            s->hst_dat0 = ee_recv(s, e);            /* receive byte */
        } else {
            s->eeprom_ptr[e] = s->hst_cmd;          /* send byte: HSTCMD goes out */
        }
        break;
    case PROT_BYTE_DATA:
    case PROT_WORD_DATA:
        s->eeprom_ptr[e] = s->hst_cmd;
        if (rd) {
            s->hst_dat0 = ee_recv(s, e);
            if (prot == PROT_WORD_DATA) {
                s->hst_dat1 = ee_recv(s, e);
            }
        } else {
            ee_send(s, e, s->hst_dat0);
            if (prot == PROT_WORD_DATA) {
                ee_send(s, e, s->hst_dat1);
            }
        }
        break;
    case PROT_BLOCK:
        s->eeprom_ptr[e] = s->hst_cmd;
        if (rd) {
            /* The device sends the count first (SMBus 2.0 5.5.7); at most 32 are kept. */
            unsigned n = ee_recv(s, e);
            n = MIN(n, PIIX4_SMBUS_BLOCK_MAX);
            s->hst_dat0 = n;
            for (unsigned i = 0; i < n; i++) {
                s->block[i] = ee_recv(s, e);
            }
        } else {
            unsigned n = MIN(s->hst_dat0, PIIX4_SMBUS_BLOCK_MAX);
            ee_send(s, e, n);
            for (unsigned i = 0; i < n; i++) {
                ee_send(s, e, s->block[i]);
            }
        }
        s->block_idx = 0;
        break;
    }
    s->hst_sts |= STS_INTR;
}

uint8_t piix4_smbus_read(PIIX4SMBus *s, unsigned addr)
{
    switch (addr) {
    case SMBHSTSTS:
        return s->hst_sts;
    case SMBHSTCNT:
        s->block_idx = 0;
        return s->hst_cnt & ~CNT_START;
    case SMBHSTCMD:
        return s->hst_cmd;
    case SMBHSTADD:
        return s->hst_add;
    case SMBHSTDAT0:
        return s->hst_dat0;
    case SMBHSTDAT1:
        return s->hst_dat1;
    case SMBBLKDAT: {
        uint8_t v = s->block[s->block_idx];
        s->block_idx = (s->block_idx + 1) % PIIX4_SMBUS_BLOCK_MAX;
        return v;
    }
    default:
        return 0;
    }
}

void piix4_smbus_write(PIIX4SMBus *s, unsigned addr, uint8_t val)
{
    switch (addr) {
    case SMBHSTSTS:
        s->hst_sts &= ~(val & STS_W1C);
        break;
    case SMBHSTCNT:
        s->hst_cnt = val & (CNT_INTEREN | CNT_KILL | (7 << 2));
        if (val & CNT_KILL) {
            s->hst_sts |= STS_FAILED;           /* nothing in flight to stop */
        } else if (val & CNT_START) {
            smbus_transaction(s);
        }
        break;
    case SMBHSTCMD:
        s->hst_cmd = val;
        break;
    case SMBHSTADD:
        s->hst_add = val;
        break;
    case SMBHSTDAT0:
        s->hst_dat0 = val;
        break;
    case SMBHSTDAT1:
        s->hst_dat1 = val;
        break;
    case SMBBLKDAT:
        s->block[s->block_idx] = val;
        s->block_idx = (s->block_idx + 1) % PIIX4_SMBUS_BLOCK_MAX;
        break;
    default:
        break;
    }
}

static int piix4_smbus_post_load(void *opaque, int version_id)
{
    PIIX4SMBus *s = opaque;

    s->block_idx %= PIIX4_SMBUS_BLOCK_MAX;
    return 0;
}

const VMStateDescription vmstate_piix4_smbus = {
    .name = "piix4-smbus",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix4_smbus_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(hst_sts, PIIX4SMBus),
        VMSTATE_UINT8(hst_cnt, PIIX4SMBus),
        VMSTATE_UINT8(hst_cmd, PIIX4SMBus),
        VMSTATE_UINT8(hst_add, PIIX4SMBus),
        VMSTATE_UINT8(hst_dat0, PIIX4SMBus),
        VMSTATE_UINT8(hst_dat1, PIIX4SMBus),
        VMSTATE_BUFFER(block, PIIX4SMBus),
        VMSTATE_UINT8(block_idx, PIIX4SMBus),
        VMSTATE_BUFFER(eeprom, PIIX4SMBus),
        VMSTATE_BUFFER(eeprom_ptr, PIIX4SMBus),
        VMSTATE_END_OF_LIST()
    },
};
