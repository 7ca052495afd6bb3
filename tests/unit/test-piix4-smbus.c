/*
 * The PIIX4 SMBus host controller on plain state (hw/acpi/piix4-smbus.c): quick, byte,
 * byte/word data and block transactions with the SPD EEPROMs at 50h-57h, DEV_ERR for an
 * absent address or a reserved protocol, write-1-to-clear status, KILL, the block data
 * pointer, and a random-register fuzz loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/acpi/piix4-smbus.h"
#include <glib.h>

enum { STS = 0, CNT = 2, CMD = 3, ADD = 4, DAT0 = 5, DAT1 = 6, BLK = 7 };
enum { QUICK = 0 << 2, BYTE = 1 << 2, BYTE_DATA = 2 << 2, WORD_DATA = 3 << 2,
       BLOCK = 5 << 2, START = 0x40, KILL = 0x02 };

static uint8_t run(PIIX4SMBus *s, uint8_t addr7, bool rd, uint8_t cmd, uint8_t prot)
{
    uint8_t sts;

    piix4_smbus_write(s, STS, 0x1e);                        /* clear INTR and errors */
    piix4_smbus_write(s, ADD, addr7 << 1 | rd);
    piix4_smbus_write(s, CMD, cmd);
    piix4_smbus_write(s, CNT, prot | START);
    sts = piix4_smbus_read(s, STS);
    g_assert_cmphex(sts & 1, ==, 0);                        /* never busy */
    return sts;
}

static void test_transactions(void)
{
    PIIX4SMBus *s = g_new0(PIIX4SMBus, 1);

    piix4_smbus_reset(s);
    /* QEMU's pc: blank SPD EEPROMs answer at 50h-57h, nobody at 48h or 58h. */
    g_assert_cmphex(run(s, 0x50, true, 0, QUICK), ==, 0x02);
    g_assert_cmphex(run(s, 0x57, true, 0, QUICK), ==, 0x02);
    g_assert_cmphex(run(s, 0x58, true, 0, QUICK), ==, 0x04);    /* DEV_ERR */
    g_assert_cmphex(run(s, 0x48, false, 0, BYTE_DATA), ==, 0x04);
    g_assert_cmphex(run(s, 0x50, true, 0, 4 << 2), ==, 0x04);   /* reserved protocol */

    /* Byte data write then read back; word data; the pointer auto-increments. */
    piix4_smbus_write(s, DAT0, 0xa5);
    g_assert_cmphex(run(s, 0x51, false, 0x10, BYTE_DATA), ==, 0x02);
    piix4_smbus_write(s, DAT0, 0x11);
    piix4_smbus_write(s, DAT1, 0x22);
    g_assert_cmphex(run(s, 0x51, false, 0x11, WORD_DATA), ==, 0x02);
    piix4_smbus_write(s, DAT0, 0);
    g_assert_cmphex(run(s, 0x51, true, 0x10, BYTE_DATA), ==, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0xa5);
    g_assert_cmphex(run(s, 0x51, true, 0, BYTE), ==, 0x02);       /* receive byte: 11h */
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0x11);
    g_assert_cmphex(run(s, 0x51, true, 0x11, WORD_DATA), ==, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0x11);
    g_assert_cmphex(piix4_smbus_read(s, DAT1), ==, 0x22);
    /* Another EEPROM is untouched and reads 0 (blank SPD, as QEMU's). */
    g_assert_cmphex(run(s, 0x52, true, 0x10, BYTE_DATA), ==, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0);
    /* Send byte sets the pointer; the pointer wraps at 256. */
    g_assert_cmphex(run(s, 0x51, false, 0xff, BYTE), ==, 0x02);
    run(s, 0x51, true, 0, BYTE);
    run(s, 0x51, true, 0, BYTE);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0);            /* byte 0 after ffh */

    /* Block write: count in DAT0, bytes through BLKDAT; reading CNT rewinds the pointer. */
    piix4_smbus_read(s, CNT);
    for (int i = 0; i < 4; i++) {
        piix4_smbus_write(s, BLK, 0xc0 + i);
    }
    piix4_smbus_write(s, DAT0, 4);
    g_assert_cmphex(run(s, 0x53, false, 0x20, BLOCK), ==, 0x02);
    g_assert_cmphex(run(s, 0x53, true, 0x20, BLOCK), ==, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 4);
    piix4_smbus_read(s, CNT);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(piix4_smbus_read(s, BLK), ==, 0xc0 + i);
    }
    /* A count above 32 is cut to 32. */
    g_assert_cmphex(run(s, 0x53, false, 0x40, BYTE_DATA), ==, 0x02);   /* DAT0 = 4 */
    piix4_smbus_write(s, DAT0, 200);
    run(s, 0x53, false, 0x40, BYTE_DATA);
    run(s, 0x53, true, 0x40, BLOCK);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, PIIX4_SMBUS_BLOCK_MAX);

    /* Status bits are write-1-to-clear; KILL sets FAILED; START reads 0. */
    run(s, 0x58, true, 0, QUICK);
    piix4_smbus_write(s, STS, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, STS), ==, 0x04);
    piix4_smbus_write(s, STS, 0x04);
    g_assert_cmphex(piix4_smbus_read(s, STS), ==, 0);
    piix4_smbus_write(s, CNT, KILL);
    g_assert_cmphex(piix4_smbus_read(s, STS), ==, 0x10);
    piix4_smbus_write(s, CNT, BYTE | START);
    g_assert_cmphex(piix4_smbus_read(s, CNT), ==, BYTE);
    /* Reset clears the registers, not the EEPROMs. */
    piix4_smbus_reset(s);
    g_assert_cmphex(piix4_smbus_read(s, STS), ==, 0);
    g_assert_cmphex(run(s, 0x51, true, 0x10, BYTE_DATA), ==, 0x02);
    g_assert_cmphex(piix4_smbus_read(s, DAT0), ==, 0xa5);
    g_free(s);
}

/* Random register traffic: no crash, no access outside the state, invariants hold. */
static void test_fuzz(void)
{
    PIIX4SMBus *s = g_new0(PIIX4SMBus, 1);
    GRand *r = g_rand_new_with_seed(0x5a4b);

    piix4_smbus_reset(s);
    for (int i = 0; i < 200000; i++) {
        unsigned addr = g_rand_int_range(r, 0, PIIX4_SMBUS_IO_LEN);
        if (g_rand_boolean(r)) {
            piix4_smbus_write(s, addr, g_rand_int_range(r, 0, 256));
        } else {
            piix4_smbus_read(s, addr);
        }
        g_assert_cmpuint(s->block_idx, <, PIIX4_SMBUS_BLOCK_MAX);
        g_assert_cmphex(s->hst_sts & ~0x1e, ==, 0);
    }
    g_rand_free(r);
    g_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/piix4-smbus/transactions", test_transactions);
    g_test_add_func("/piix4-smbus/fuzz", test_fuzz);
    return g_test_run();
}
