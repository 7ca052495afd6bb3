/*
 * reset: the four ways a PC guest resets itself, one per boot.
 *
 * Needs reboot=1 in the manifest (no -no-reboot).  A CMOS RAM byte, which a
 * system reset does not clear (only the RTC's status registers are reset),
 * counts the boots; the kernel is loaded again by the emulator each time:
 *   boot 1: PIIX3 reset control register, port 0xcf9: write 0x02 (system
 *           reset type) then 0x06 (bit 2 starts it) (82371AB PIIX4 datasheet
 *           4.1.17 "RC - Reset Control Register");
 *   boot 2: i8042 keyboard controller command 0xfe, pulse output port bit 0
 *           (the CPU reset line), written to port 0x64 once the input buffer
 *           is empty (status bit 1 clear);
 *   boot 3: System Control Port A, port 0x92, bit 0 "fast reset";
 *   boot 4: a triple fault: with an empty IDT, the #UD from UD2 cannot be
 *           delivered, nor can the #GP and #DF that follow, and the CPU shuts
 *           down, which the chipset turns into a reset (SDM vol. 3A 6.15,
 *           interrupt 8).  UD2 rather than INT3: kvm_pvm's ring-0 emulator
 *           cannot execute INT n;
 *   boot 5: clears the byte and passes.
 *
 * Every boot also checks the x87 state the kernel finds at entry: QEMU resets the FPU to
 * FNINIT's state (FCW 037Fh, FSW 0) under both accelerators, where the SDM (vol. 3A,
 * table 9-1) gives FCW 0040H at power-up and RESET; guests see QEMU's.  Each boot loads
 * another control word before resetting, so a reset that kept it would show.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

/* Not used by QEMU's pc CMOS layout (hw/i386/pc.c), SeaBIOS or Kite. */
#define CMOS_BOOT_STAGE 0x7e
#define STAGE_MAGIC     0xa0

static void set_stage(unsigned stage)
{
    cmos_write(CMOS_BOOT_STAGE, STAGE_MAGIC | stage);
}

static NORETURN void wait_for_reset(const char *how)
{
    udelay(500000);
    test_fail("still running 500 ms after %s", how);
}

static void reset_cf9(void)
{
    outb(0xcf9, 0x02);
    outb(0xcf9, 0x06);
    wait_for_reset("writing 0x06 to port 0xcf9");
}

static void reset_kbc(void)
{
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++) {
        cpu_relax();
    }
    outb(0x64, 0xfe);
    wait_for_reset("keyboard controller command 0xfe");
}

static void reset_port92(void)
{
    uint8_t v = inb(0x92) & ~0x01;
    outb(0x92, v);                      /* bit 0 acts on a 0 -> 1 transition */
    outb(0x92, v | 0x01);
    wait_for_reset("setting port 0x92 bit 0");
}

static void reset_triple_fault(void)
{
    DescPtr empty = { .limit = 0, .base = 0 };
    cli();
    lidt(&empty);
    asm volatile("ud2");
    wait_for_reset("a triple fault");
}

static void check_entry_fpu(void)
{
    static uint8_t fx[512] __attribute__((aligned(16)));

    CHECK_EQ(entry_fcw, 0x037f, "x87 FCW at entry (FNINIT state, as QEMU resets it)");
    CHECK_EQ(entry_fsw, 0, "x87 FSW at entry");
    if (test_failures()) {
        test_fail("x87 state at entry");     /* before a reset would lose the count */
    }
    /*
     * Another control word (53-bit precision, #P and #D masked) for the reset to undo.
     * Through FXRSTOR: kvm_pvm's ring-0 emulator has no FLDCW.
     */
    asm volatile("fxsave %0" : "=m"(fx));
    fx[0] = 0x62;                       /* bit 6 reads as 1 on hardware */
    fx[1] = 0x02;
    asm volatile("fxrstor %0" : : "m"(fx));
    uint16_t cw;
    asm volatile("fnstcw %0" : "=m"(cw));
    CHECK_EQ(cw, 0x0262, "x87 FCW loaded before the reset");
}

void test_main(void)
{
    uint8_t v = cmos_read(CMOS_BOOT_STAGE);
    unsigned stage = (v & 0xf0) == STAGE_MAGIC ? v & 0x0f : 0;

    printf("reset: boot %u (CMOS 0x%x = 0x%02x)\n", stage + 1, CMOS_BOOT_STAGE, v);
    check_entry_fpu();
    switch (stage) {
    case 0:
        set_stage(1);
        printf("reset: resetting through port 0xcf9\n");
        reset_cf9();
        break;
    case 1:
        set_stage(2);
        printf("reset: resetting through the keyboard controller\n");
        reset_kbc();
        break;
    case 2:
        set_stage(3);
        printf("reset: resetting through port 0x92\n");
        reset_port92();
        break;
    case 3:
        set_stage(4);
        printf("reset: triple fault\n");
        reset_triple_fault();
        break;
    case 4:
        cmos_write(CMOS_BOOT_STAGE, 0);
        printf("reset: came back after 0xcf9, keyboard controller, port 0x92 and "
               "triple-fault resets\n");
        CHECK_EQ(cmos_read(CMOS_BOOT_STAGE), 0, "CMOS boot counter cleared");
        break;
    default:
        test_fail("CMOS 0x%x holds 0x%02x: not a stage this test writes", CMOS_BOOT_STAGE, v);
    }
}
