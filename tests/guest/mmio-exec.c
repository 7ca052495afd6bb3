/*
 * mmio-exec: jump to an address that holds no RAM (0xe0000000, in the PCI hole below 4 GiB,
 * where nothing is mapped).  Under KVM the instruction fetch cannot be emulated: KVM exits
 * with an internal error (KVM_EXIT_INTERNAL_ERROR, emulation failure) and the emulator
 * stops the VM in the internal-error run state, as QEMU does.  The interpreter reads
 * all-ones there, an invalid opcode: the runtime reports the #UD as a crash.
 *
 * Driven by tests/functional/test_qmp.py (run states); not in the manifest, as under KVM
 * the VM stays stopped rather than reporting a verdict.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define UNMAPPED_ADDR 0xe0000000u

void test_main(void)
{
    void (*fn)(void) = (void (*)(void))(uintptr_t)UNMAPPED_ADDR;

    printf("mmio-exec: jumping to 0x%x\n", UNMAPPED_ADDR);
    fn();
    test_fail("mmio-exec: returned from 0x%x", UNMAPPED_ADDR);
}
