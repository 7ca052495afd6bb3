/*
 * hello: the smallest test kernel.  Prints a line and passes.
 *
 * Also the "empty" kernel of the benchmarks: its run time is the emulator's
 * start-up, firmware and multiboot load plus a few dozen port writes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

void test_main(void)
{
    printf("hello from a %s multiboot kernel\n", GUEST_ARCH);
    CHECK(read_cr0() & CR0_PE, "running in protected mode (CR0.PE set)");
#ifdef __x86_64__
    CHECK(rdmsr(MSR_EFER) & EFER_LMA, "running in long mode (EFER.LMA set)");
#endif
}
