/*
 * Small PC platform devices on the ISA bus, all created with their defaults by the board:
 *
 *   port92           0x92: System Control Port A - A20 gate (bit 1) and fast reset (bit 0).
 *                    Output GPIO PORT92_A20_LINE ("a20"): connect to the CPU's A20 mask.
 *   reset-control    0xcf9: the PIIX3 Reset Control Register (bit 2 set -> guest reset).
 *   isa-debug-exit   iobase=0x501 iosize=2 (props): writing v exits the process with status
 *                    (v << 1) | 1, as QEMU does for test kernels.
 *   pc-testdev       QEMU's test device for kvm-unit-tests: 0xe0 (4-byte register), 0xe4
 *                    (flush page), 0xe8 (same register, byte access), 0x2000-0x2017 (ISA IRQ
 *                    lines), memory 0xff000000-0xff00ffff (scratch MMIO).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MISC_PC_MISC_H
#define HW_MISC_PC_MISC_H

#define TYPE_PORT92 "port92"
#define PORT92_A20_LINE "a20"
#define TYPE_RESET_CONTROL "reset-control"
#define TYPE_ISA_DEBUG_EXIT "isa-debug-exit"
#define TYPE_PC_TESTDEV "pc-testdev"

#endif
