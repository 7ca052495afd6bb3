/*
 * The pc machine's state (hw/i386/pc.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_I386_PC_H
#define HW_I386_PC_H

#include "hw/boards.h"
#include "hw/isa.h"
#include "hw/i386/e820.h"
#include "hw/i386/x86-boot.h"

/* QEMU 7.2's current pc machine type: -M pc-i440fx-7.2, or its alias pc. */
#define TYPE_PC_MACHINE "pc-i440fx-7.2" TYPE_MACHINE_SUFFIX
#define TYPE_PC_CHIPSET "pc-chipset"
#define PC_NUM_GSI 24
#define PC_DEFAULT_BIOS "bios-256k.bin"

typedef struct FWCfgState FWCfgState;
typedef struct AcpiBuildTables AcpiBuildTables;

typedef struct PCMachineState {
    MachineState parent_obj;
    uint64_t below_4g, above_4g;
    MemoryRegion ram_below_4g, ram_above_4g, vga_hole;
    MemoryRegion bios, isa_bios;
    DeviceState *chipset;
    IsaBus *isa_bus;
    IRQState **gsi;               /* PC_NUM_GSI lines */
    IRQState **pic_in;            /* userspace 8259 inputs (NULL with KVM's irqchip) */
    IRQState *pic_out;
    DeviceState *pic_master;
    DeviceState *ioapic;
    DeviceState *pci_host;        /* /machine/i440fx */
    DeviceState *rtc;
    IRQState *a20_line;
    DeviceState *i8042;
    FWCfgState *fw_cfg;
    E820Table e820;
    X86BootRegs boot_regs;
    hwaddr acpi_tables_addr;
    AcpiBuildTables *acpi;
    bool kernel_unpack;           /* property "kernel-unpack" */
    bool hpet;                    /* property "hpet" */
    DeviceState *hpet_dev;        /* NULL with hpet=off */
    struct PCIBus *pci_bus;       /* "pci.0" (hw/i386/pc-pci.c) */
    DeviceState *piix3;
    DeviceState *pm;              /* PIIX4 PM function 00:01.3 (ACPI PM block) */
    DeviceState **cpus;           /* made first, realized after the irqchip (pc_init only) */
} PCMachineState;

PCMachineState *PC_MACHINE(const void *obj);
uint32_t x86_apic_id_from_index(MachineState *ms, unsigned index);

#endif
