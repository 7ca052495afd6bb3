/*
 * The PC's ACPI tables: RSDP (v2), RSDT, XSDT, FADT (revision 3) with FACS, DSDT, MADT and,
 * with an HPET, the HPET table.
 *
 * Board usage:
 *
 *     AcpiBuildParams p;
 *     acpi_build_params_init_pc(&p, nb_cpus, apic_ids);
 *     AcpiBuildTables *t = acpi_build(ms, &p);
 *     acpi_setup_fw_cfg(fw_cfg, t);                  // firmware boot (SeaBIOS)
 *     acpi_install_direct(t, &address_space_memory,  // direct kernel boot
 *                         tables_addr, rsdp_addr, &error_fatal);
 *     acpi_build_tables_free(t);
 *
 * For direct boot the board reserves acpi_tables_size(t) bytes at tables_addr (64-byte
 * aligned, marked E820_ACPI) and gives a 16-byte aligned rsdp_addr in 0xe0000-0xfffff.
 * The DSDT describes the ISA devices it finds on the ISA bus (isa-serial, mc146818rtc,
 * i8042, fw_cfg) with their current iobase/irq properties, so call acpi_build after the
 * devices are realized.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ACPI_ACPI_BUILD_H
#define HW_ACPI_ACPI_BUILD_H

#include "hw/boards.h"
#include "hw/nvram/fw_cfg.h"

#define ACPI_BUILD_TABLE_FILE "etc/acpi/tables"
#define ACPI_BUILD_RSDP_FILE "etc/acpi/rsdp"
#define ACPI_BUILD_LOADER_FILE "etc/table-loader"

#define ACPI_MAX_CPUS 1024

typedef struct AcpiBuildParams {
    unsigned nb_cpus;
    uint32_t apic_ids[ACPI_MAX_CPUS];   /* APIC ID of CPU i (its ACPI processor UID is i) */
    uint32_t lapic_addr;                /* 0xfee00000 */
    uint8_t ioapic_id;
    uint32_t ioapic_addr;               /* 0xfec00000 */
    uint32_t ioapic_gsi_base;
    bool pic_present;                   /* MADT PCAT_COMPAT: dual 8259s to mask */
    bool irq0_to_gsi2;                  /* ISA IRQ 0 -> GSI 2 override (QEMU wiring) */
    uint16_t pm_io_base;                /* PM1a_EVT at +0, PM1a_CNT at +4, PM_TMR at +8 */
    uint16_t gpe0_base;                 /* GPE0_BLK, ACPI_GPE0_LEN bytes (0: none) */
    uint8_t sci_irq;
    uint16_t reset_port;                /* FADT RESET_REG (0: none) */
    uint8_t reset_value;
    uint32_t hpet_addr;                 /* HPET table and DSDT device HPET (0: no HPET) */
    uint32_t hpet_block_id;             /* its GCAP_ID bits 31:0 */
    uint32_t pci_mem_start;             /* 32-bit PCI window: here to 0xfebfffff */
    uint64_t pci_mem64_start, pci_mem64_size;   /* 64-bit PCI window (size 0: none) */
} AcpiBuildParams;

typedef struct AcpiBuildTables {
    GByteArray *tables;                 /* ACPI_BUILD_TABLE_FILE: FACS, DSDT, FADT, ... */
    GByteArray *rsdp;                   /* ACPI_BUILD_RSDP_FILE */
    GByteArray *linker;                 /* ACPI_BUILD_LOADER_FILE: the loader script */
} AcpiBuildTables;

/* The pc board's values: LAPIC/IOAPIC at their defaults, PM at 0x600, SCI 9, 0xcf9 <- 6. */
void acpi_build_params_init_pc(AcpiBuildParams *p, unsigned nb_cpus, const uint32_t *apic_ids);
/* Build all tables; ms may be NULL (only the parameters are used then). */
AcpiBuildTables *acpi_build(MachineState *ms, const AcpiBuildParams *p);
void acpi_build_tables_free(AcpiBuildTables *t);
size_t acpi_tables_size(const AcpiBuildTables *t);
/* Publish the three files for firmware (SeaBIOS runs the loader script). */
void acpi_setup_fw_cfg(FWCfgState *fw, const AcpiBuildTables *t);
/*
 * Place the tables in guest memory without firmware: run the loader script with the tables
 * at tables_addr and the RSDP at rsdp_addr, then write both (ROM allowed).  t is unchanged.
 */
bool acpi_install_direct(const AcpiBuildTables *t, AddressSpace *as, hwaddr tables_addr,
                         hwaddr rsdp_addr, Error **errp);

#endif
