/*
 * fb-repaint: the VNC frame-rate benchmark's guest (scripts/bench/vnc-fps.py).  Sets the
 * Bochs DISPI mode 1024x768x32 and repaints the whole linear framebuffer forever, every
 * pixel changing on every frame, so each display refresh has a full screen to send.
 * Needs at least 24 MiB of guest RAM (the pattern lives at 16 MiB).
 *
 * The framebuffer is BAR0 of the PCI stdvga (1234:1111, "-device VGA" / "-vga std"), found by
 * a bus 0 scan through configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2); when the
 * firmware left the BAR unassigned (direct kernel boot without a BIOS) it is placed at
 * lfb= (default 0xe0000000).  Without a PCI VGA, isa-vga's fixed 0xe0000000 is used.
 * Prints "repaint: running" once, then "repaint: N frames" every other frame.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

static uint32_t pci_read(unsigned dev, unsigned reg)
{
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    return inl(0xcfc);
}

static void pci_write(unsigned dev, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    outl(0xcfc, v);
}

static uint32_t find_lfb(void)
{
    uint32_t dflt = cmdline_get_uint("lfb", 0xe0000000);

    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = pci_read(dev, 0), bar;

        if (id != 0x11111234) {
            continue;
        }
        bar = pci_read(dev, 0x10) & ~0xfu;
        if (!bar) {
            pci_write(dev, 0x10, dflt);
            bar = dflt;
        }
        /* Memory space decoding on (command register bit 1). */
        pci_write(dev, 0x04, pci_read(dev, 0x04) | 2);
        printf("repaint: PCI VGA at 00:%02x.0, framebuffer 0x%x\n", dev, bar);
        return bar;
    }
    printf("repaint: no PCI VGA, framebuffer 0x%x\n", dflt);
    return dflt;
}

static void dispi(uint16_t idx, uint16_t v)
{
    outw(0x1ce, idx);
    outw(0x1cf, v);
}

void test_main(void)
{
    volatile uint32_t *fb = phys_ptr(find_lfb());
    volatile uint32_t *src = phys_ptr(0x1000000);     /* 16 MiB: 6 MiB of pattern */

    dispi(4, 0);                            /* disable, then 1024x768x32 with the LFB */
    dispi(1, 1024);
    dispi(2, 768);
    dispi(3, 32);
    dispi(4, 0x41);
    /*
     * The picture is a window into a 2048x768 pattern in RAM that moves one pixel per frame:
     * a horizontally scrolling image where every pixel changes (red steps with x), copied
     * with rep movsl so the frame rate is bounded by the emulator, not by guest arithmetic.
     */
    for (uint32_t y = 0; y < 768; y++) {
        for (uint32_t x = 0; x < 2048; x++) {
            src[y * 2048 + x] = ((x * 3) & 255) << 16 | ((y * 5) & 255) << 8 | ((x ^ y) & 255);
        }
    }
    printf("repaint: running\n");
    for (uint32_t frame = 0;; frame++) {
        for (uint32_t y = 0; y < 768; y++) {
            const volatile uint32_t *from = src + y * 2048 + (frame & 1023);
            volatile uint32_t *to = fb + y * 1024;
            uint32_t n = 1024;
            asm volatile("rep movsl" : "+S"(from), "+D"(to), "+c"(n) : : "memory");
        }
        if (frame & 1) {
            printf("repaint: %u frames\n", frame + 1);
        }
    }
}
