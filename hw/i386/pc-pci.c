/*
 * The pc machine's PCI: the i440FX host bridge with its root bus "pci.0", PIIX3 at
 * 00:01.0 steering INTx onto ISA IRQs, its IDE at 00:01.1 and, as on QEMU's pc, the PIIX4
 * power management function at 00:01.3 (ACPI PM block, SCI on ISA IRQ 9).  For direct
 * kernel boot where no BIOS runs, the PCI set-up firmware would leave (what SeaBIOS's
 * pciinit does): PIRQA-D routed to IRQs 10, 10, 11, 11, BARs assigned in the host
 * bridge's windows, decoding and bus mastering enabled, Interrupt Line filled in, the PM
 * block at 0x600.
 *
 * INTx swizzle (as QEMU's pc, which SeaBIOS and the DSDT's _PRT assume): pin P (0 = A)
 * of slot S drives PIRQ (P + S - 1) mod 4.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/pc.h"
#include "hw/i386/pc-pci.h"
#include "hw/pci-host/i440fx.h"
#include "hw/isa/piix3.h"
#include "hw/ide/piix-ide.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/piix4.h"
#include "hw/sysbus.h"
#include "hw/pci/msix.h"
#include "hw/intc/apic.h"
#include "accel/accel.h"
#include "accel/kvm.h"

const uint8_t pc_pci_pirq_irqs[4] = { 10, 10, 11, 11 };

int pc_pci_slot_irq(int slot, int pin)
{
    return pc_pci_pirq_irqs[(pin + slot - 1) & 3];
}

static int pc_pci_map_irq(PCIDevice *dev, int pin)
{
    return (pin + PCI_SLOT(dev->devfn) - 1) & 3;
}

static DeviceState *pci_new_at(Object *parent, const char *name, PCIBus *bus, const char *type,
                               const char *addr, bool multi)
{
    DeviceState *dev = qdev_new(type);

    /* A fixed QOM name, e.g. /machine/piix3, that monitors and qtest can address. */
    object_property_add_child(parent, name, OBJECT(dev), &error_abort);

    object_property_set_str(OBJECT(dev), "addr", addr, &error_fatal);
    if (multi) {
        object_property_set_str(OBJECT(dev), "multifunction", "on", &error_fatal);
    }
    qdev_realize_and_unref(dev, BUS(bus), &error_fatal);
    return dev;
}

/* MSI/MSI-X messages: to the local APICs, or into KVM's in-kernel irqchip (vectors that
 * have no route: see pc_msi_route_send). */
static void pc_msi_send(uint64_t addr, uint32_t data)
{
    if (accel_irqchip_in_kernel()) {
        kvm_irqchip_send_msi(addr, data);
    } else {
        apic_deliver_msi(addr, data);
    }
}

/*
 * With KVM's in-kernel irqchip each vector that fires gets a GSI route and an irqfd:
 * delivery is an eventfd write the kernel turns into the message, with no ioctl, from any
 * thread, and a route can later be handed to the kernel (vhost) as is.  If GSIs run out,
 * the caller falls back to KVM_SIGNAL_MSI through pc_msi_send.
 */
bool pc_msi_route_send(PCIMsiRoute *r, uint64_t addr, uint32_t data)
{
    if (!accel_irqchip_in_kernel()) {
        return false;
    }
    if (r->virq < 0) {
        int virq = kvm_irqchip_add_msi_route(addr, data, NULL);
        if (virq < 0) {
            return false;
        }
        if (event_notifier_init(&r->e, false) < 0) {
            kvm_irqchip_release_virq(virq);
            return false;
        }
        if (kvm_irqchip_commit_routes() < 0 || kvm_irqchip_add_irqfd(&r->e, NULL, virq) < 0) {
            kvm_irqchip_release_virq(virq);
            kvm_irqchip_commit_routes();
            event_notifier_cleanup(&r->e);
            return false;
        }
        r->virq = virq;
    } else if (r->addr != addr || r->data != data) {
        if (kvm_irqchip_update_msi_route(r->virq, addr, data) < 0 ||
            kvm_irqchip_commit_routes() < 0) {
            return false;
        }
    }
    r->addr = addr;
    r->data = data;
    return event_notifier_set(&r->e) == 0;
}

void pc_msi_route_release(PCIMsiRoute *r)
{
    kvm_irqchip_remove_irqfd(&r->e, r->virq);
    kvm_irqchip_release_virq(r->virq);
    kvm_irqchip_commit_routes();
    event_notifier_cleanup(&r->e);
    r->virq = -1;
}

void pc_pci_init(PCMachineState *pcms)
{
    DeviceState *host = qdev_new(TYPE_I440FX_PCI_HOST);

    sysbus_realize_and_unref(host, &error_fatal);
    pcms->pci_bus = I440FX_HOST(host)->bus;
    pci_new_at(OBJECT(pcms), "i440fx", pcms->pci_bus, TYPE_I440FX_PCI_DEVICE, "00.0", false);
    pcms->piix3 = pci_new_at(OBJECT(pcms), "piix3", pcms->pci_bus, TYPE_PIIX3, "01.0", true);
    piix3_set_isa_irqs(PIIX3(pcms->piix3), pcms->gsi);
    pci_bus_irqs(pcms->pci_bus, piix3_set_pci_irq, pc_pci_map_irq, PIIX3(pcms->piix3), 4);
    pci_msi_trigger = pc_msi_send;
    pci_msi_route_send = pc_msi_route_send;
    pci_msi_route_release = pc_msi_route_release;
    piix3_ide_create(pcms->pci_bus, pcms->gsi);
    pcms->pm = pci_new_at(OBJECT(pcms), "pm", pcms->pci_bus, TYPE_PIIX4_PM, "01.3", false);
    qdev_connect_gpio_out(pcms->pm, 0, pcms->gsi[ACPI_SCI_IRQ]);
}

/* ---- direct boot: the firmware's part ---------------------------------------------- */

typedef struct BarAlloc {
    uint64_t io_next, mem_next;
} BarAlloc;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void assign_device(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    BarAlloc *a = opaque;
    uint16_t cmd = PCI_COMMAND_MASTER;
    int pin = dev->config[PCI_INTERRUPT_PIN];

    if (PCI_SLOT(dev->devfn) == 0 || object_dynamic_cast(OBJECT(dev), TYPE_PIIX3) ||
        object_dynamic_cast(OBJECT(dev), TYPE_PIIX4_PM)) {
        return;                                     /* the chipset's own functions */
    }
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &dev->io_regions[n];
        int off = n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * n;
        if (!r->size || n == PCI_ROM_SLOT) {
            continue;                               /* option ROMs stay off */
        }
        if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
            uint64_t addr = align_up(a->io_next, r->size);
            if (addr + r->size > PC_PCI_IO_END + 1) {
                continue;
            }
            pci_config_write(dev, off, addr, 4);
            a->io_next = addr + r->size;
            cmd |= PCI_COMMAND_IO;
        } else {
            uint64_t addr = align_up(a->mem_next, r->size);
            if (addr + r->size > PC_PCI_MEM_END + 1) {
                continue;
            }
            pci_config_write(dev, off, addr, 4);
            if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
                pci_config_write(dev, off + 4, 0, 4);
            }
            a->mem_next = addr + r->size;
            cmd |= PCI_COMMAND_MEMORY;
        }
    }
    if (pin >= 1 && pin <= 4) {
        pci_config_write(dev, PCI_INTERRUPT_LINE, pc_pci_slot_irq(PCI_SLOT(dev->devfn),
                                                                 pin - 1), 1);
    }
    pci_config_write(dev, PCI_COMMAND, cmd, 2);
}

void pc_pci_firmware_init(PCMachineState *pcms)
{
    PCIDevice *piix3 = PCI_DEVICE(pcms->piix3);
    PCIDevice *ide;
    BarAlloc a = { .io_next = PC_PCI_IO_START, .mem_next = PC_PCI_MEM_START };

    for (int p = 0; p < 4; p++) {
        pci_config_write(piix3, 0x60 + p, pc_pci_pirq_irqs[p], 1);
    }
    pci_for_each_device(pcms->pci_bus, assign_device, &a);
    /* As SeaBIOS: enable the IDE channels' decode (PIIX3 IDETIM bit 15, Linux checks it). */
    if ((ide = pci_find_device(pcms->pci_bus, PCI_DEVFN(1, 1))) != NULL) {
        pci_config_write(ide, 0x40, 0x80008000, 4);
    }
    /*
     * SeaBIOS's piix4_pm_setup: SCI on IRQ 9 in Interrupt Line, the PM block at 0x600
     * (what the FADT says) and decoding, SMBus at 0x700 and enabled with IRQ 9 selected;
     * pci_bios_init_device turns on I/O, memory and SERR as for every function.
     */
    if (pcms->pm) {
        PCIDevice *pm = PCI_DEVICE(pcms->pm);
        pci_config_write(pm, PCI_INTERRUPT_LINE, ACPI_SCI_IRQ, 1);
        pci_config_write(pm, PIIX4_PM_PMBA, ACPI_PM_IO_BASE | 1, 4);
        pci_config_write(pm, PIIX4_PM_PMREGMISC, 0x01, 1);
        pci_config_write(pm, PIIX4_PM_SMBBA, (ACPI_PM_IO_BASE + 0x100) | 1, 4);
        pci_config_write(pm, PIIX4_PM_SMBHSTCFG, 0x09, 1);
        pci_config_write(pm, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                         PCI_COMMAND_SERR, 2);
    }
}
