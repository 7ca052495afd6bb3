/*
 * The pc machine's PCI: the i440FX host bridge with its root bus "pci.0", PIIX3 at
 * 00:01.0 steering INTx onto ISA IRQs, its IDE at 00:01.1 and, as on QEMU's pc, the PIIX4
 * power management function at 00:01.3 (ACPI PM block, SCI on ISA IRQ 9).  For direct
 * kernel boot where no BIOS runs, the PCI set-up firmware would leave (what SeaBIOS's
 * pciinit does): PIRQA-D routed to IRQs 10, 10, 11, 11, BARs placed where SeaBIOS puts
 * them, I/O, memory and SERR enabled (bus mastering is the drivers' to turn on, as under
 * SeaBIOS), Interrupt Line filled in, the PM block at 0x600.
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

    /*
     * A fixed QOM name, e.g. /machine/piix3, that monitors and qtest can address; without
     * one, /machine/unattached/device[N] as in QEMU.
     */
    if (name) {
        object_property_add_child(parent, name, OBJECT(dev), &error_abort);
    }

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

/*
 * QEMU's pc has the host bridge at /machine/i440fx (with the IOAPIC as its child "ioapic"
 * and the bus as "pci.0") and the 00.0 function in /machine/unattached.  Made before the
 * irqchip so that the IOAPIC can go under it; realized in pc_pci_init.
 */
void pc_pci_host_new(PCMachineState *pcms)
{
    pcms->pci_host = qdev_new(TYPE_I440FX_PCI_HOST);
    object_property_add_child(OBJECT(pcms), "i440fx", OBJECT(pcms->pci_host), &error_abort);
}

void pc_pci_init(PCMachineState *pcms)
{
    DeviceState *host = pcms->pci_host;

    sysbus_realize_and_unref(host, &error_fatal);
    pcms->pci_bus = I440FX_HOST(host)->bus;
    pci_new_at(OBJECT(pcms), NULL, pcms->pci_bus, TYPE_I440FX_PCI_DEVICE, "00.0", false);
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

/*
 * BAR placement as SeaBIOS's pciinit does it under QEMU, so a guest finds its devices at
 * the same addresses with or without -kernel: every BAR (expansion ROMs too, left
 * disabled) goes in one of three regions, I/O, memory and prefetchable memory (64-bit
 * BARs included: they fit below 4 GiB here); in each region BARs are sorted by size,
 * largest first (in bus order among equals), and packed upwards from the region's base.
 * I/O starts at 0xc000.  The memory region with the smaller alignment ends at the top of
 * the window (0xfec00000), the other one sits right below it, each base aligned down to
 * its largest BAR.  Memory BARs take at least 4 KiB, I/O BARs 4 bytes.
 */
enum { PCI_FW_IO, PCI_FW_MEM, PCI_FW_PREF, PCI_FW_NREGIONS };

typedef struct PciFwBar {
    PCIDevice *dev;
    int n;
    uint64_t size;
} PciFwBar;

typedef struct PciFwRegion {
    GArray *bars;               /* of PciFwBar, sorted by size, largest first */
    uint64_t sum, align, base;
} PciFwRegion;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void collect_bars(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    PciFwRegion *regions = opaque;

    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &dev->io_regions[n];
        PciFwBar bar = { .dev = dev, .n = n, .size = r->size };
        PciFwRegion *reg;
        guint i;

        if (!r->size) {
            continue;
        }
        if (n != PCI_ROM_SLOT && (r->type & PCI_BASE_ADDRESS_SPACE_IO)) {
            reg = &regions[PCI_FW_IO];
            bar.size = MAX(bar.size, 4);
        } else {
            bool pref = n != PCI_ROM_SLOT && (r->type & PCI_BASE_ADDRESS_MEM_PREFETCH);
            reg = &regions[pref ? PCI_FW_PREF : PCI_FW_MEM];
            bar.size = MAX(bar.size, 4096);
        }
        /* After every BAR at least as large: stable, largest first. */
        for (i = 0; i < reg->bars->len; i++) {
            if (g_array_index(reg->bars, PciFwBar, i).size < bar.size) {
                break;
            }
        }
        g_array_insert_val(reg->bars, i, bar);
        reg->sum += bar.size;
        reg->align = MAX(reg->align, bar.size);
    }
}

static void place_bars(PciFwRegion *reg)
{
    uint64_t addr = reg->base;

    for (guint i = 0; i < reg->bars->len; i++) {
        PciFwBar *b = &g_array_index(reg->bars, PciFwBar, i);
        PCIIORegion *r = &b->dev->io_regions[b->n];
        int off = b->n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * b->n;

        addr = align_up(addr, b->size);
        /* An expansion ROM gets its address with the enable bit clear (SeaBIOS's too). */
        pci_config_write(b->dev, off, addr, 4);
        if (b->n != PCI_ROM_SLOT && !(r->type & PCI_BASE_ADDRESS_SPACE_IO) &&
            (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64)) {
            pci_config_write(b->dev, off + 4, 0, 4);
        }
        addr += b->size;
    }
}

static bool pc_pci_place_mem(PciFwRegion *regions, uint64_t start)
{
    PciFwRegion *top = &regions[PCI_FW_PREF], *below = &regions[PCI_FW_MEM];
    uint64_t end = PC_PCI_MEM_END + 1;

    /* SeaBIOS's pci_bios_init_root_regions_mem: the less-aligned region goes on top. */
    if (below->align < top->align) {
        top = &regions[PCI_FW_MEM];
        below = &regions[PCI_FW_PREF];
    }
    if (top->sum > end - start) {
        return false;
    }
    top->base = (end - top->sum) & ~(MAX(top->align, 1) - 1);
    if (below->sum > top->base - start) {
        return false;
    }
    below->base = (top->base - below->sum) & ~(MAX(below->align, 1) - 1);
    return below->base >= start;
}

/* Interrupt Line, and decoding as SeaBIOS's pci_bios_init_device: I/O, memory, SERR. */
static void init_device(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    int pin = dev->config[PCI_INTERRUPT_PIN];

    if (object_dynamic_cast(OBJECT(dev), TYPE_PIIX4_PM)) {
        pin = 0;                        /* the SCI: Interrupt Line 9, set below */
    }
    if (pin >= 1 && pin <= 4) {
        pci_config_write(dev, PCI_INTERRUPT_LINE, pc_pci_slot_irq(PCI_SLOT(dev->devfn),
                                                                 pin - 1), 1);
    }
    pci_config_write(dev, PCI_COMMAND, pci_config_read(dev, PCI_COMMAND, 2) |
                     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR, 2);
}

static void pc_pci_assign_bars(PCMachineState *pcms)
{
    PciFwRegion regions[PCI_FW_NREGIONS] = { 0 };

    for (int i = 0; i < PCI_FW_NREGIONS; i++) {
        regions[i].bars = g_array_new(false, false, sizeof(PciFwBar));
    }
    pci_for_each_device(pcms->pci_bus, collect_bars, regions);
    regions[PCI_FW_IO].base = PC_PCI_IO_START;
    if (regions[PCI_FW_IO].sum <= PC_PCI_IO_END + 1 - PC_PCI_IO_START) {
        place_bars(&regions[PCI_FW_IO]);
    } else {
        warn_report("pc: PCI I/O BARs need 0x%" PRIx64 " bytes, more than the window; "
                    "left unassigned", regions[PCI_FW_IO].sum);
    }
    /* The window starts where low RAM ends (as the DSDT's _CRS says). */
    if (pc_pci_place_mem(regions, pcms->below_4g)) {
        place_bars(&regions[PCI_FW_MEM]);
        place_bars(&regions[PCI_FW_PREF]);
    } else {
        warn_report("pc: PCI memory BARs do not fit below 4 GiB; left unassigned");
    }
    for (int i = 0; i < PCI_FW_NREGIONS; i++) {
        g_array_free(regions[i].bars, true);
    }
}

void pc_pci_firmware_init(PCMachineState *pcms)
{
    PCIDevice *piix3 = PCI_DEVICE(pcms->piix3);
    PCIDevice *ide;

    for (int p = 0; p < 4; p++) {
        pci_config_write(piix3, 0x60 + p, pc_pci_pirq_irqs[p], 1);
    }
    pc_pci_assign_bars(pcms);
    pci_for_each_device(pcms->pci_bus, init_device, NULL);
    /* As SeaBIOS: enable the IDE channels' decode (PIIX3 IDETIM bit 15, Linux checks it). */
    if ((ide = pci_find_device(pcms->pci_bus, PCI_DEVFN(1, 1))) != NULL) {
        pci_config_write(ide, 0x40, 0x80008000, 4);
    }
    /*
     * SeaBIOS's piix4_pm_setup: SCI on IRQ 9 in Interrupt Line, the PM block at 0x600
     * (what the FADT says) and decoding, SMBus at 0x700 and enabled with IRQ 9 selected.
     */
    if (pcms->pm) {
        PCIDevice *pm = PCI_DEVICE(pcms->pm);
        pci_config_write(pm, PCI_INTERRUPT_LINE, ACPI_SCI_IRQ, 1);
        pci_config_write(pm, PIIX4_PM_PMBA, ACPI_PM_IO_BASE | 1, 4);
        pci_config_write(pm, PIIX4_PM_PMREGMISC, 0x01, 1);
        pci_config_write(pm, PIIX4_PM_SMBBA, (ACPI_PM_IO_BASE + 0x100) | 1, 4);
        pci_config_write(pm, PIIX4_PM_SMBHSTCFG, 0x09, 1);
    }
}
