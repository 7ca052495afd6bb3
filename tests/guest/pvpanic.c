/*
 * pvpanic: QEMU's paravirtual panic port (docs/specs/pvpanic.rst, ISA interface).
 *
 * Reads port 0x505 (the bits the device recognizes: PANICKED | CRASH_LOADED), then
 * reports "crash loaded" (bit 1) and "panicked" (bit 0).  What follows depends on the
 * emulator's -action panic=: with "none" the guest runs on and passes; with pause or
 * shutdown the VM stops at the write.  With "wait=1" on the command line the kernel halts
 * after the panic instead of passing, so a QMP client (tests/functional/test_qmp.py) can
 * look at the run state; it also prints "pvpanic: boot N" so the client can see a reboot.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define PVPANIC_PORT         0x505
#define PVPANIC_PANICKED     0x01
#define PVPANIC_CRASH_LOADED 0x02

void test_main(void)
{
    uint8_t bits = inb(PVPANIC_PORT);

    printf("pvpanic: port 0x505 reads 0x%x\n", bits);
    CHECK_EQ(bits, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED,
             "pvpanic: supported events PANICKED | CRASH_LOADED");
    outb(PVPANIC_PORT, PVPANIC_CRASH_LOADED);
    printf("pvpanic: crash loaded reported\n");
    outb(PVPANIC_PORT, PVPANIC_PANICKED);
    printf("pvpanic: panic reported\n");
    if (cmdline_get_uint("wait", 0)) {
        for (;;) {
            asm volatile("cli; hlt");
        }
    }
    printf("pvpanic: still running after the panic\n");
}
