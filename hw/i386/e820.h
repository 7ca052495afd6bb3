/*
 * The e820 memory map: which guest-physical ranges are RAM, reserved or ACPI tables.
 *
 * The board builds one table and every consumer reads it: the Linux zero page
 * (boot_params.e820_table), the multiboot memory map, and the "etc/e820" fw_cfg file that
 * firmware turns into its INT 15h, AX=E820h answer (ACPI 6.5, 15.1 "INT 15H, E820H - Query
 * System Address Map", table 15.1 for the types).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_I386_E820_H
#define HW_I386_E820_H

#include "kite/osdep.h"

/* Address range types (ACPI 6.5, table 15.1). */
#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3     /* ACPI reclaim: the tables, usable RAM once read */
#define E820_NVS        4     /* ACPI NVS */
#define E820_UNUSABLE   5

/* The zero page holds 128 entries (Documentation/arch/x86/zero-page.rst, 0x2D0). */
#define E820_MAX_ENTRIES 128

/* Standard PC holes (below 1 MiB) and the BIOS flash window below 4 GiB. */
#define E820_EBDA_START     0x9fc00ULL     /* 1 KiB extended BIOS data area to 640 KiB */
#define E820_LOW_END        0xa0000ULL     /* VGA window from here */
#define E820_BIOS_START     0xf0000ULL     /* system BIOS segment F000 */
#define E820_HIGH_START     0x100000ULL
#define E820_FLASH_START    0xfffc0000ULL  /* 256 KiB BIOS image (-bios / SeaBIOS) */
#define E820_4G             0x100000000ULL

typedef struct E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} E820Entry;

/* Sorted by address, non-overlapping, adjacent ranges of one type merged. */
typedef struct E820Table {
    unsigned nr;
    E820Entry entries[E820_MAX_ENTRIES];
} E820Table;

void e820_init(E820Table *t);
/*
 * Mark [addr, addr + size) as type: the part of any entry it overlaps is replaced, so
 * "add ACPI over RAM" carves the tables out of RAM.  False if the table would overflow
 * (the table is then unchanged).
 */
bool e820_add(E820Table *t, uint64_t addr, uint64_t size, uint32_t type);

/*
 * The pc machine's map: RAM 0-0x9fc00, reserved 0x9fc00-0xa0000 (EBDA), reserved
 * 0xf0000-0x100000 (BIOS), RAM from 1 MiB to below_4g, reserved 0xfffc0000-4 GiB (BIOS
 * flash), RAM from 4 GiB for above_4g bytes.  The PCI hole and the VGA/option ROM windows
 * are left out (gaps), as SeaBIOS does; Linux places PCI BARs in the gaps.  The board
 * adds its ACPI tables with e820_add(..., E820_ACPI).
 */
void e820_init_pc(E820Table *t, uint64_t below_4g, uint64_t above_4g);

/* True if [addr, addr + size) lies inside one RAM entry. */
bool e820_is_ram(const E820Table *t, uint64_t addr, uint64_t size);
/* End of the RAM entry containing addr (0 if addr is not RAM). */
uint64_t e820_ram_end(const E820Table *t, uint64_t addr);
/* Bytes of RAM in [lo, hi). */
uint64_t e820_ram_size(const E820Table *t, uint64_t lo, uint64_t hi);
/*
 * The highest address a, aligned to align (a power of two), with [a, a + size) inside one
 * RAM entry and inside [lo, hi).  False if there is none.
 */
bool e820_find_ram_top(const E820Table *t, uint64_t lo, uint64_t hi, uint64_t size,
                       uint64_t align, uint64_t *addr);

/*
 * The table as packed little-endian struct e820_entry { u64 addr; u64 size; u32 type; }
 * (20 bytes each): the layout of boot_params.e820_table and of fw_cfg "etc/e820".
 */
#define E820_ENTRY_SIZE 20
void e820_store_le(const E820Table *t, uint8_t *out);
uint8_t *e820_to_le(const E820Table *t, size_t *len);

#endif
