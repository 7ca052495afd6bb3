/*
 * PIIX3 function 0 (00:01.0): the PCI-to-ISA bridge, here for its PIRQ route control
 * registers, which steer the four PCI interrupt lines PIRQA-D onto ISA IRQs (Intel
 * 82371SB PIIX3 datasheet, 2.2.7 PIRQRC[A:D], offsets 0x60-0x63: bit 7 disables the
 * route, bits 3:0 name the IRQ; 0, 1, 2, 8 and 13 are reserved).
 *
 * A PIRQ line is the wired-OR of the device pins swizzled onto it (the board's map_irq);
 * an ISA IRQ is driven while any PIRQ routed to it is asserted.  The board passes the 16
 * ISA IRQ lines (which reach the 8259s and the same IOAPIC pins).
 *
 * The other function-specific registers (40h-FFh) hold what is written, as in QEMU, with
 * QEMU's power-on values (IORT 4Ch, XBCS 4Eh, TOM 69h, MBIRQ0 70h, MBDMA 76h-77h, PCSC 78h,
 * SMICNTL A0h, SMIREQ A8h; datasheet 2.2); Linux's PIIX3 passive-release quirk sets DLC
 * (82h) bit 1.  They steer nothing here.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa/piix3.h"
#include "kite/vmstate.h"

#define PIIX_PIRQRC      0x60
#define PIIX_NUM_PIRQS   4
#define PIRQRC_DISABLE   0x80

PIIX3State *PIIX3(const void *obj)
{
    return OBJECT_CHECK(PIIX3State, obj, TYPE_PIIX3);
}

static bool route_valid(uint8_t rc)
{
    unsigned irq = rc & 0x0f;

    return !(rc & PIRQRC_DISABLE) && irq != 0 && irq != 1 && irq != 2 && irq != 8 &&
           irq != 13;
}

/* Drive every ISA IRQ from the PIRQ levels and the current routing. */
static void piix3_update_irqs(PIIX3State *s)
{
    uint16_t want = 0;

    for (int p = 0; p < PIIX_NUM_PIRQS; p++) {
        uint8_t rc = s->parent_obj.config[PIIX_PIRQRC + p];
        if (s->pirq_level[p] && route_valid(rc)) {
            want |= 1u << (rc & 0x0f);
        }
    }
    /* Only lines this bridge drives change: others belong to ISA devices. */
    for (int irq = 0; irq < 16; irq++) {
        bool on = want & (1u << irq), was = s->driven & (1u << irq);
        if (on != was && s->isa_irqs[irq]) {
            irq_set_level(s->isa_irqs[irq], on);
        }
    }
    s->driven = want;
}

void piix3_set_pci_irq(void *opaque, int pirq, int level)
{
    PIIX3State *s = opaque;

    if (pirq >= 0 && pirq < PIIX_NUM_PIRQS) {
        s->pirq_level[pirq] = level;
        piix3_update_irqs(s);
    }
}

void piix3_set_isa_irqs(PIIX3State *s, IRQState **irqs)
{
    memcpy(s->isa_irqs, irqs, sizeof(s->isa_irqs));
}

static void piix3_config_write(PCIDevice *dev, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(dev, addr, val, len);
    if (addr < PIIX_PIRQRC + PIIX_NUM_PIRQS && addr + len > PIIX_PIRQRC) {
        piix3_update_irqs(PIIX3(dev));
    }
}

/* The chip's PIRQ[A:D]# input pins, as GPIO inputs "pirq" 0-3 (what qtest drives). */
static void piix3_pirq_in(void *opaque, int n, int level)
{
    piix3_set_pci_irq(opaque, n, level);
}

static void piix3_realize(PCIDevice *dev, Error **errp)
{
    qdev_init_gpio_in_named(DEVICE(dev), piix3_pirq_in, "pirq", PIIX_NUM_PIRQS);
    memset(dev->wmask + 0x40, 0xff, PCI_CONFIG_SPACE_SIZE - 0x40);
    memset(dev->wmask + PIIX_PIRQRC, 0x8f, PIIX_NUM_PIRQS);
    /* Medium DEVSEL timing (datasheet PCISTS). */
    pci_set_word(dev->config + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
}

/* Power-on values QEMU's PIIX3 has (offset, value); everything else in 40h-FFh is 0. */
static const uint8_t piix3_reset_values[][2] = {
    { 0x4c, 0x4d }, { 0x4e, 0x03 }, { 0x69, 0x02 }, { 0x70, 0x80 }, { 0x76, 0x0c },
    { 0x77, 0x0c }, { 0x78, 0x02 }, { 0xa0, 0x08 }, { 0xa8, 0x0f },
};

static void piix3_reset(PCIDevice *dev)
{
    PIIX3State *s = PIIX3(dev);

    memset(dev->config + 0x40, 0, PCI_CONFIG_SPACE_SIZE - 0x40);
    memset(dev->config + PIIX_PIRQRC, PIRQRC_DISABLE, PIIX_NUM_PIRQS);
    for (size_t i = 0; i < G_N_ELEMENTS(piix3_reset_values); i++) {
        dev->config[piix3_reset_values[i][0]] = piix3_reset_values[i][1];
    }
    /*
     * The command register stays as the generic reset leaves it (0), as in QEMU, whose
     * PCI reset clears the 0007h the datasheet gives; the bits gate nothing here.
     */
    memset(s->pirq_level, 0, sizeof(s->pirq_level));
    piix3_update_irqs(s);
}

static int piix3_post_load(void *opaque, int version_id)
{
    piix3_update_irqs(opaque);
    return 0;
}

static const VMStateDescription vmstate_piix3 = {
    .name = "PIIX3",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix3_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PIIX3State),
        VMSTATE_INT32_ARRAY(pirq_level, PIIX3State, 4),
        VMSTATE_END_OF_LIST()
    },
};

static void piix3_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = 0x7000;
    pc->class_id = PCI_CLASS_BRIDGE_ISA;
    pc->config_write = piix3_config_write;
}

static const TypeInfo piix3_type = {
    .name = TYPE_PIIX3,
    .parent = TYPE_PCI_DEVICE,
    .desc = "PIIX3 PCI-to-ISA bridge (function 0)",
    .instance_size = sizeof(PIIX3State),
    .class_init = piix3_class_init,
    .realize = (void (*)(DeviceState *, Error **))piix3_realize,
    .reset = (void (*)(DeviceState *))piix3_reset,
    .vmsd = &vmstate_piix3,
};
KITE_TYPE_REGISTER(piix3_type)
