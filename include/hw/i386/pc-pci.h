/*
 * The pc machine's PCI wiring (hw/i386/pc-pci.c), shared with its ACPI tables.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_I386_PC_PCI_H
#define HW_I386_PC_PCI_H

#include "kite/osdep.h"

/* Host bridge windows (the DSDT's PCI0._CRS) and where direct boot places BARs. */
#define PC_PCI_IO_START   0xc000
#define PC_PCI_IO_END     0xffff
#define PC_PCI_MEM_START  0xc0000000ULL
#define PC_PCI_MEM_END    0xfebfffffULL

/* ISA IRQs PIRQA-D are routed to (direct boot; SeaBIOS picks the same). */
extern const uint8_t pc_pci_pirq_irqs[4];
/* The IRQ (= GSI) INTx pin (0 = A) of slot reaches. */
int pc_pci_slot_irq(int slot, int pin);

typedef struct PCMachineState PCMachineState;
void pc_pci_host_new(PCMachineState *pcms);
void pc_pci_init(PCMachineState *pcms);

/* MSI/MSI-X vectors through KVM GSI routes and irqfds (pci_msi_route_send/release). */
struct PCIMsiRoute;
bool pc_msi_route_send(struct PCIMsiRoute *r, uint64_t addr, uint32_t data);
void pc_msi_route_release(struct PCIMsiRoute *r);
void pc_pci_firmware_init(PCMachineState *pcms);

#endif
