/*
 * PIIX4 function 3 (00:01.3 on the pc board): the power management function of the Intel
 * 82371AB, 8086:7113 revision 3, class 0680h, as QEMU's pc has it.
 *
 * References: Intel 82371AB PCI-to-ISA/IDE Xcelerator (PIIX4) datasheet, 3.x "Power
 * Management Function (Function 3) PCI Configuration Space":
 *   40h PMBA      bits 15:6 the base of the 64-byte PM I/O block, bit 0 hardwired 1
 *   58h DEVACTB   bit 25 APMC_EN (SMI on writes to the APM control port)
 *   80h PMREGMISC bit 0 PMIOSE, the PM I/O block decodes only while it is set
 *   90h SMBBA     bits 15:4 the base of the 16-byte SMBus I/O block, bit 0 hardwired 1
 *   D2h SMBHSTCFG bit 0 SMBus host enable, bits 3:1 its interrupt select
 * The PM block holds the ACPI PM1a event and control blocks and the PM timer (the
 * AcpiPmRegs core, hw/acpi/pm.c); the SCI is a GPIO output the board wires to ISA IRQ 9
 * (the DSDT's SCI_INT and the FADT's SCI_INT say 9, and firmware writes 9 to Interrupt
 * Line as SeaBIOS's piix4_pm_setup does).
 *
 * Firmware places the block: SeaBIOS writes PMBA = 0x601, PMREGMISC = 1, SMBBA = 0x701 and
 * SMBHSTCFG = 9; for direct kernel boot the board does the same (hw/i386/pc-pci.c).  Until
 * then nothing decodes.  The FADT names 0x600, where both put it.
 *
 * SMM is not emulated, so DEVACTB.APMC_EN reads 1 from reset, which QEMU also does without
 * SMM: SeaBIOS then takes SMM as already set up and never raises an SMI.
 * The SMBus host controller (hw/acpi/piix4-smbus.c, with QEMU's eight blank SPD EEPROMs)
 * decodes 16 bytes at SMBBA while SMBHSTCFG bit 0 is set.
 * The ACPI GPE0 block is at 0xafe0, where QEMU's PIIX4 has it (nothing raises a GPE here).
 * Not emulated: global control, device monitors, SMBus interrupts (as QEMU).
 * Other bytes 40h-FFh read back what the guest writes, as in QEMU.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/acpi/piix4.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/piix4-smbus.h"
#include "kite/vmstate.h"

#define PCI_CONFIG_HEADER_SIZE      0x40
#define PCI_STATUS_FAST_BACK        0x0080
#define PCI_STATUS_DEVSEL_MEDIUM    0x0200

#define PIIX4_PMBA          PIIX4_PM_PMBA
#define PIIX4_DEVACTB       0x58
#define PIIX4_DEVACTB_APMC_EN_BYTE  0x5b        /* bit 25 of DEVACTB is bit 1 here */
#define PIIX4_PMREGMISC     PIIX4_PM_PMREGMISC
#define PIIX4_PMIOSE        0x01
#define PIIX4_SMBBA         PIIX4_PM_SMBBA
#define PIIX4_SMBHSTCFG     PIIX4_PM_SMBHSTCFG

#define PIIX4_PMBA_MASK     0xffc0
#define PIIX4_SMBBA_MASK    0xfff0
#define PIIX4_SMB_HST_EN    0x01
#define PM_UNMAPPED         UINT32_MAX

typedef struct PIIX4PMState {
    PCIDevice parent_obj;
    AcpiPmRegs regs;
    uint32_t io_base;           /* where regs.io is mapped, or PM_UNMAPPED */
    PIIX4SMBus smb;
    MemoryRegion smb_io;
    uint32_t smb_base;          /* where smb_io is mapped, or PM_UNMAPPED */
} PIIX4PMState;

static PIIX4PMState *PIIX4_PM(const void *obj)
{
    return OBJECT_CHECK(PIIX4PMState, obj, TYPE_PIIX4_PM);
}

uint32_t piix4_pm_io_base(DeviceState *dev)
{
    PIIX4PMState *s = PIIX4_PM(dev);

    return s->io_base == PM_UNMAPPED ? 0 : s->io_base;
}

/* Map the PM block where PMBA points while PMIOSE is set (datasheet PMREGMISC bit 0). */
static void piix4_pm_update_io(PIIX4PMState *s)
{
    PCIDevice *d = &s->parent_obj;
    uint32_t base = pci_get_long(d->config + PIIX4_PMBA) & PIIX4_PMBA_MASK;
    uint32_t want = (d->config[PIIX4_PMREGMISC] & PIIX4_PMIOSE) && base ? base : PM_UNMAPPED;

    if (want == s->io_base) {
        return;
    }
    memory_region_transaction_begin();
    if (s->io_base != PM_UNMAPPED) {
        memory_region_del_subregion(get_system_io(), &s->regs.io);
    }
    if (want != PM_UNMAPPED) {
        memory_region_add_subregion(get_system_io(), want, &s->regs.io);
    }
    memory_region_transaction_commit();
    s->io_base = want;
}

static uint64_t smb_read(void *opaque, hwaddr addr, unsigned size)
{
    return piix4_smbus_read(&((PIIX4PMState *)opaque)->smb, addr);
}

static void smb_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    piix4_smbus_write(&((PIIX4PMState *)opaque)->smb, addr, val);
}

static const MemoryRegionOps smb_ops = {
    .read = smb_read, .write = smb_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

/* Map the SMBus block at SMBBA while SMBHSTCFG's host enable is set. */
static void piix4_smb_update_io(PIIX4PMState *s)
{
    PCIDevice *d = &s->parent_obj;
    uint32_t base = pci_get_long(d->config + PIIX4_SMBBA) & PIIX4_SMBBA_MASK;
    uint32_t want = (d->config[PIIX4_SMBHSTCFG] & PIIX4_SMB_HST_EN) && base ? base
                                                                             : PM_UNMAPPED;

    if (want == s->smb_base) {
        return;
    }
    memory_region_transaction_begin();
    if (s->smb_base != PM_UNMAPPED) {
        memory_region_del_subregion(get_system_io(), &s->smb_io);
    }
    if (want != PM_UNMAPPED) {
        memory_region_add_subregion(get_system_io(), want, &s->smb_io);
    }
    memory_region_transaction_commit();
    s->smb_base = want;
}

static bool piix4_port_present(hwaddr port)
{
    return address_space_find_section(&address_space_io, port).mr != NULL;
}

static void piix4_pm_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if ((addr < PIIX4_PMBA + 4 && addr + len > PIIX4_PMBA) ||
        (addr <= PIIX4_PMREGMISC && addr + len > PIIX4_PMREGMISC)) {
        piix4_pm_update_io(PIIX4_PM(d));
    }
    if ((addr < PIIX4_SMBBA + 4 && addr + len > PIIX4_SMBBA) ||
        (addr <= PIIX4_SMBHSTCFG && addr + len > PIIX4_SMBHSTCFG)) {
        piix4_smb_update_io(PIIX4_PM(d));
    }
}

static void piix4_pm_realize(PCIDevice *d, Error **errp)
{
    PIIX4PMState *s = PIIX4_PM(d);

    /* Fast back-to-back capable, medium DEVSEL timing (datasheet PCISTS). */
    pci_set_word(d->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    d->config[PCI_INTERRUPT_PIN] = 1;
    /* As QEMU: the function-specific bytes are plain read/write storage ... */
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0xff,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    /* ... except the base registers, whose low bits are fixed. */
    pci_set_long(d->wmask + PIIX4_PMBA, PIIX4_PMBA_MASK);
    pci_set_long(d->wmask + PIIX4_SMBBA, 0xfff0);
    s->io_base = PM_UNMAPPED;
    s->smb_base = PM_UNMAPPED;
    memory_region_init_io(&s->smb_io, OBJECT(d), &smb_ops, s, "piix4-smbus",
                          PIIX4_SMBUS_IO_LEN);
    acpi_pm_regs_init(&s->regs, OBJECT(d));
    /* The GPE0 block sits at a fixed port, as in QEMU (the FADT's GPE0_BLK). */
    memory_region_add_subregion(get_system_io(), ACPI_GPE0_BASE, &s->regs.gpe_io);
    qdev_init_gpio_out(DEVICE(d), &s->regs.sci, 1);
}

static void piix4_pm_exit(PCIDevice *d)
{
    PIIX4PMState *s = PIIX4_PM(d);

    if (s->io_base != PM_UNMAPPED) {
        memory_region_del_subregion(get_system_io(), &s->regs.io);
        s->io_base = PM_UNMAPPED;
    }
    if (s->smb_base != PM_UNMAPPED) {
        memory_region_del_subregion(get_system_io(), &s->smb_io);
        s->smb_base = PM_UNMAPPED;
    }
    memory_region_destroy(&s->smb_io);
    memory_region_del_subregion(get_system_io(), &s->regs.gpe_io);
    acpi_pm_regs_destroy(&s->regs);
}

static void piix4_pm_reset(PCIDevice *d)
{
    PIIX4PMState *s = PIIX4_PM(d);

    memset(d->config + PCI_CONFIG_HEADER_SIZE, 0,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    pci_set_long(d->config + PIIX4_PMBA, 1);
    pci_set_long(d->config + PIIX4_SMBBA, 1);
    d->config[PIIX4_DEVACTB_APMC_EN_BYTE] = 0x02;
    /*
     * Device resource registers (DEVRESB/C/D high bytes) as QEMU fills them from what the
     * machine decodes: LPT1 at 0x378 (5Fh bit 7, 10h always), COM1 at 0x3f8 (67h bit 3),
     * COM2 at 0x2f8 (67h bits 7 and 4); 63h = 60h.
     */
    d->config[0x5f] = 0x10 | (piix4_port_present(0x378) ? 0x80 : 0);
    d->config[0x63] = 0x60;
    d->config[0x67] = (piix4_port_present(0x3f8) ? 0x08 : 0) |
                      (piix4_port_present(0x2f8) ? 0x90 : 0);
    piix4_pm_update_io(s);
    piix4_smb_update_io(s);
    piix4_smbus_reset(&s->smb);
    acpi_pm_regs_reset(&s->regs);
}

static int piix4_pm_post_load(void *opaque, int version_id)
{
    PIIX4PMState *s = opaque;

    pci_set_long(s->parent_obj.config + PIIX4_PMBA,
                 (pci_get_long(s->parent_obj.config + PIIX4_PMBA) & PIIX4_PMBA_MASK) | 1);
    pci_set_long(s->parent_obj.config + PIIX4_SMBBA,
                 (pci_get_long(s->parent_obj.config + PIIX4_SMBBA) & PIIX4_SMBBA_MASK) | 1);
    piix4_pm_update_io(s);
    piix4_smb_update_io(s);
    return 0;
}

static const VMStateDescription vmstate_piix4_pm = {
    .name = "piix4_pm",
    .version_id = 2,
    .minimum_version_id = 2,
    .post_load = piix4_pm_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PIIX4PMState),
        VMSTATE_STRUCT(regs, PIIX4PMState, vmstate_acpi_pm_regs, AcpiPmRegs),
        VMSTATE_STRUCT(smb, PIIX4PMState, vmstate_piix4_smbus, PIIX4SMBus),
        VMSTATE_END_OF_LIST()
    },
};

static void piix4_pm_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = 0x7113;
    pc->revision = 0x03;
    pc->class_id = 0x0680;                          /* bridge, other */
    pc->config_write = piix4_pm_config_write;
}

static const TypeInfo piix4_pm_type = {
    .name = TYPE_PIIX4_PM,
    .parent = TYPE_PCI_DEVICE,
    .desc = "PIIX4 power management function (ACPI PM block at PMBA, SCI)",
    .instance_size = sizeof(PIIX4PMState),
    .class_init = piix4_pm_class_init,
    .realize = (void (*)(DeviceState *, Error **))piix4_pm_realize,
    .unrealize = (void (*)(DeviceState *))piix4_pm_exit,
    .reset = (void (*)(DeviceState *))piix4_pm_reset,
    .vmsd = &vmstate_piix4_pm,
};
KITE_TYPE_REGISTER(piix4_pm_type)
