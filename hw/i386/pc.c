/*
 * The `pc` machine: an i440FX/PIIX3-style PC (QEMU's default x86 board).
 *
 * Guest-physical memory:
 *   0x00000000-0x0009ffff  RAM (low memory)
 *   0x000a0000-0x000bffff  VGA window (unassigned until a VGA card maps it)
 *   0x000c0000-0x000fffff  RAM; with firmware, the top 128 KiB show the BIOS
 *   0x00100000-...         RAM up to min(ram, 3 GiB or 3.5 GiB); the rest above 4 GiB
 *   0xfec00000             IOAPIC
 *   0xfed00000             HPET (-machine hpet=on, the default), 1 KiB
 *   0xfee00000             local APICs (each CPU sees its own)
 *   0xfffc0000-0xffffffff  BIOS ROM (firmware boot)
 * Port I/O (ISA, legacy fixed addresses):
 *   0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1  8259 PIC pair and ELCR
 *   0x40-0x43                          8254 PIT;  0x61 speaker / PIT gate 2
 *   0x60, 0x64                         i8042 keyboard controller; 0x92 port A (A20)
 *   0x70-0x71                          MC146818 RTC/CMOS
 *   0x3f8, 0x2f8, 0x3e8, 0x2e8         16550A UARTs (COM1-COM4)
 *   0x510-0x511, 0x514                 fw_cfg (+ DMA)
 *   0x600-0x63f                        ACPI PM1a event/control, PM timer (SCI = IRQ 9):
 *                                      PIIX4 PM at 00:01.3, where firmware puts PMBA
 *   0xcf9                              reset control
 * Interrupts: 24 GSIs; GSI 0-15 reach both the PIC and the IOAPIC, ISA IRQ 0 (PIT) being
 * IOAPIC pin 2 (the MADT carries that override), as on QEMU's pc.  With KVM's in-kernel
 * irqchip the GSIs go to the kernel instead.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/i386/pc.h"
#include "hw/i386/pc-pci.h"
#include "hw/pci-host/i440fx.h"
#include "hw/display/vga-pci.h"
#include "hw/sysbus.h"
#include "hw/loader.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/timer/hpet.h"
#include "hw/timer/i8254.h"
#include "hw/input/i8042.h"
#include "hw/misc/pc-misc.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/acpi-build.h"
#include "hw/rtc/mc146818rtc.h"
#include "hw/char/serial.h"
#include "target/i386/x86-glue.h"
#include "accel/accel.h"
#include "accel/kvm.h"
#include "kite/runstate.h"
#include "kite/log.h"
#include "system/system.h"

#define PC_LOWMEM_LIMIT_SMALL 0xe0000000ULL   /* below-4G RAM for guests < 3.5 GiB */
#define PC_LOWMEM_LIMIT_BIG   0xc0000000ULL   /* ... and for bigger ones (PCI hole) */
#define PC_IOAPIC_ADDR        0xfec00000ULL
#define PC_LAPIC_ADDR         0xfee00000ULL
#define PC_BIOS_AREA          0x000e0000ULL
/* Direct boot puts the ACPI tables at the top of low RAM and the RSDP in the BIOS area. */
#define PC_ACPI_TABLES_SIZE   (128 * KiB)
#define PC_RSDP_ADDR          0x000f0000ULL

static PCMachineState *the_pc;

PCMachineState *PC_MACHINE(const void *obj)
{
    return OBJECT_CHECK(PCMachineState, obj, TYPE_PC_MACHINE);
}

/* ----------------------------------------------------------- interrupts */

/* A GSI fans out to the PIC (ISA IRQs) and the IOAPIC (ISA IRQ 0 is pin 2). */
static void pc_gsi_handler(void *opaque, int n, int level)
{
    PCMachineState *pcms = opaque;

    if (n < ISA_NUM_IRQS && pcms->pic_in) {
        irq_set_level(pcms->pic_in[n], level);
    }
    if (pcms->ioapic) {
        irq_set_level(qdev_get_gpio_in(pcms->ioapic, n == 0 ? 2 : n), level);
    }
}

/* The 8259's INT output goes to every CPU's LINT0; the APIC decides if it takes it. */
static void pc_pic_output(void *opaque, int n, int level)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        X86Vcpu *cpu = X86_VCPU(cs);
        if (cpu->apic) {
            apic_deliver_pic_intr(cpu->apic, level);
        } else if (level) {
            cpu_interrupt(cs, CPU_INTERRUPT_HARD);
        } else {
            cpu_reset_interrupt(cs, CPU_INTERRUPT_HARD);
        }
    }
}

static int pc_pic_read_irq(void)
{
    return the_pc && the_pc->pic_master ? pic_read_irq(the_pc->pic_master) : -1;
}

/* A20 from the keyboard controller and port 0x92: the CPUs mask address bit 20 when low. */
static void pc_a20_handler(void *opaque, int n, int level)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        X86Vcpu *cpu = X86_VCPU(cs);
        if (cpu->interp) {
            x86_cpu_set_a20(cpu->interp, level);
        }
    }
}

static DeviceState *pc_create_apic(X86Vcpu *cpu, Error **errp)
{
    if (accel_irqchip_in_kernel()) {
        return NULL;   /* the accelerator's own local APIC */
    }
    return apic_new(CPU(cpu), cpu->apic_id, cpu->bsp);
}

static void pc_create_irqchip(PCMachineState *pcms, MachineState *ms)
{
    AccelState *accel = current_accel();
    AccelClass *ac = accel ? ACCEL_GET_CLASS(accel) : NULL;
    Error *err = NULL;

    if (accel_irqchip_in_kernel() && ac->irqchip_create) {
        if (!ac->irqchip_create(accel, PC_NUM_GSI, &pcms->gsi, &err)) {
            error_report_err(err);
            exit(1);
        }
        return;
    }
    /* Userspace 8259 pair on the ISA bus and the IOAPIC on the system bus. */
    pcms->pic_out = irq_new(pc_pic_output, pcms, 0);
    pcms->pic_in = i8259_init(pcms->isa_bus, pcms->pic_out);
    pcms->pic_master = isa_pic;
    x86_pic_read_irq = pc_pic_read_irq;

    pcms->ioapic = qdev_new(TYPE_IOAPIC);
    /* /machine/i440fx/ioapic, as QEMU's pc (ioapic_init_gsi under the host bridge). */
    object_property_add_child(OBJECT(pcms->pci_host), "ioapic", OBJECT(pcms->ioapic),
                              &error_abort);
    sysbus_realize_and_unref(pcms->ioapic, &error_fatal);
    memory_region_add_subregion(get_system_memory(), PC_IOAPIC_ADDR, ioapic_mmio(pcms->ioapic));
    memory_region_add_subregion_overlap(get_system_memory(), PC_LAPIC_ADDR,
                                        apic_mmio_region(), 1);
    pcms->gsi = irq_new_array(pc_gsi_handler, pcms, PC_NUM_GSI);
}

/* ------------------------------------------------------------------ RAM */

static uint64_t vga_hole_read(void *opaque, hwaddr addr, unsigned size)
{
    return ~0ull >> (64 - 8 * size);
}

static void vga_hole_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps vga_hole_ops = {
    .read = vga_hole_read, .write = vga_hole_write,
    .valid = { 1, 8, true }, .impl = { 1, 8 },
};

static void pc_memory_init(PCMachineState *pcms, MachineState *ms)
{
    uint64_t lowmem = ms->ram_size >= PC_LOWMEM_LIMIT_SMALL ? PC_LOWMEM_LIMIT_BIG
                                                            : PC_LOWMEM_LIMIT_SMALL;
    Error *err = NULL;

    pcms->below_4g = MIN(ms->ram_size, lowmem);
    pcms->above_4g = ms->ram_size - pcms->below_4g;
    ms->ram = g_new0(MemoryRegion, 1);
    if (!memory_region_init_ram(ms->ram, OBJECT(ms), "pc.ram", ms->ram_size, &err)) {
        error_report_err(err);
        exit(1);
    }
    memory_region_set_ram_advice(ms->ram, ms->mem_merge, ms->dump_guest_core);
    memory_region_init_alias(&pcms->ram_below_4g, OBJECT(ms), "ram-below-4g", ms->ram, 0,
                             pcms->below_4g);
    memory_region_add_subregion(get_system_memory(), 0, &pcms->ram_below_4g);
    if (pcms->above_4g) {
        memory_region_init_alias(&pcms->ram_above_4g, OBJECT(ms), "ram-above-4g", ms->ram,
                                 pcms->below_4g, pcms->above_4g);
        memory_region_add_subregion(get_system_memory(), 4 * GiB, &pcms->ram_above_4g);
    }
    /*
     * The legacy VGA window is not RAM: without a card there, nothing answers (reads all
     * ones).  A card maps its window above this (priority 2).  An empty container would not
     * do: it is transparent and RAM would show through.
     */
    memory_region_init_io(&pcms->vga_hole, OBJECT(ms), &vga_hole_ops, pcms, "vga-window",
                          0x20000);
    memory_region_add_subregion_overlap(get_system_memory(), 0xa0000, &pcms->vga_hole, 1);

    if (ms->kernel_filename) {
        /* Direct boot: the map a BIOS would hand the kernel (EBDA and BIOS area reserved). */
        e820_init_pc(&pcms->e820, pcms->below_4g, pcms->above_4g);
    } else {
        /*
         * Firmware boot: RAM as it is, as QEMU's etc/e820 gives it; SeaBIOS reserves its
         * own areas (EBDA, shadowed BIOS) in the map it builds for the OS.
         */
        e820_init(&pcms->e820);
        e820_add(&pcms->e820, 0, pcms->below_4g, E820_RAM);
        if (pcms->above_4g) {
            e820_add(&pcms->e820, 4 * GiB, pcms->above_4g, E820_RAM);
        }
    }
    /*
     * KVM on Intel hosts keeps its real-mode TSS and identity map here; QEMU's pc reserves
     * it under KVM only, so the interpreter's guests see QEMU TCG's map.
     */
    if (kvm_enabled()) {
        e820_add(&pcms->e820, 0xfeffc000, 0x4000, E820_RESERVED);
    }
}

/* Firmware boot: the BIOS image at the top of 4 GiB, its last 128 KiB also below 1 MiB. */
static void pc_bios_init(PCMachineState *pcms, MachineState *ms)
{
    const char *name = ms->firmware ? ms->firmware : PC_DEFAULT_BIOS;
    g_autofree char *path = firmware_find(name);
    g_autofree uint8_t *data = NULL;
    size_t len = 0, isa_len;
    Error *err = NULL;

    if (!path) {
        error_report("could not find firmware '%s' (Debian package 'seabios'; or use -kernel "
                     "for direct boot)", name);
        exit(1);
    }
    if (!loader_load_file(path, &data, &len, 16 * MiB, &err)) {
        error_report_err(err);
        exit(1);
    }
    if (len % 65536 || len < 65536) {
        error_report("firmware '%s' has size %zu: not a multiple of 64 KiB", path, len);
        exit(1);
    }
    memory_region_init_rom(&pcms->bios, OBJECT(ms), "pc.bios", len, &error_fatal);
    memcpy(memory_region_get_ram_ptr(&pcms->bios), data, len);
    memory_region_add_subregion(get_system_memory(), 4 * GiB - len, &pcms->bios);
    isa_len = MIN(len, 128 * KiB);
    memory_region_init_alias(&pcms->isa_bios, OBJECT(ms), "isa-bios", &pcms->bios,
                             len - isa_len, isa_len);
    memory_region_set_readonly(&pcms->isa_bios, true);
    memory_region_add_subregion_overlap(get_system_memory(), 1 * MiB - isa_len,
                                        &pcms->isa_bios, 1);
}

/* ------------------------------------------------------------- devices */

static void pc_chipset_init(PCMachineState *pcms)
{
    pcms->chipset = qdev_new(TYPE_PC_CHIPSET);
    sysbus_realize_and_unref(pcms->chipset, &error_fatal);
    pcms->isa_bus = isa_bus_new(pcms->chipset, get_system_memory(), get_system_io());
}

static DeviceState *isa_new_realized(PCMachineState *pcms, const char *type)
{
    DeviceState *dev = qdev_new(type);

    qdev_realize_and_unref(dev, &pcms->isa_bus->parent_obj, &error_fatal);
    return dev;
}

static void pc_serial_init(PCMachineState *pcms)
{
    for (int i = 0; i < MAX_SERIAL_PORTS; i++) {
        if (serial_hd(i)) {
            isa_serial_create(pcms->isa_bus, i, serial_hd(i));
        }
    }
}

/*
 * The HPET (QEMU's pc has one unless hpet=off): its outputs drive the GSIs, and ISA IRQ 0 and
 * 8 (the PIT and the RTC) pass through it so that LegacyReplacement can cut them off.
 */
static void pc_hpet_pit_legacy(void *opaque, int n, int level)
{
    accel_pit_hpet_legacy(level);
}

static void pc_hpet_init(PCMachineState *pcms, MachineState *ms, IRQState **isa_irqs)
{
    DeviceState *dev = qdev_new(TYPE_HPET);

    sysbus_realize_and_unref(dev, &error_fatal);
    memory_region_add_subregion(get_system_memory(), HPET_BASE, hpet_mmio(dev));
    for (int i = 0; i < PC_NUM_GSI; i++) {
        qdev_connect_gpio_out(dev, i, pcms->gsi[i]);
    }
    if (accel_irqchip_in_kernel()) {
        /* The accelerator's 8254 does not pass through us: tell it instead. */
        qdev_connect_gpio_out_named(dev, HPET_PIT_LEGACY_OUT, 0,
                                    irq_new(pc_hpet_pit_legacy, pcms, 0));
    }
    isa_irqs[0] = qdev_get_gpio_in(dev, HPET_LEGACY_PIT_INT);
    isa_irqs[8] = qdev_get_gpio_in(dev, HPET_LEGACY_RTC_INT);
    pcms->hpet_dev = dev;
}

static void pc_platform_devices(PCMachineState *pcms, MachineState *ms)
{
    DeviceState *dev;
    IRQState *a20 = irq_new(pc_a20_handler, pcms, 0);
    IRQState *isa_irqs[ISA_NUM_IRQS];

    memcpy(isa_irqs, pcms->gsi, sizeof(isa_irqs));
    if (pcms->hpet) {
        pc_hpet_init(pcms, ms, isa_irqs);
    }
    isa_bus_set_irqs(pcms->isa_bus, isa_irqs);

    if (!accel_irqchip_in_kernel()) {
        dev = i8254_create(pcms->isa_bus, 0x40, 0);
        pcspk_create(pcms->isa_bus, dev);
    }
    pcms->rtc = isa_new_realized(pcms, TYPE_MC146818_RTC);
    pc_serial_init(pcms);

    dev = isa_new_realized(pcms, TYPE_I8042);
    pcms->i8042 = dev;
    qdev_connect_gpio_out_named(dev, I8042_A20_LINE, 0, a20);
    dev = isa_new_realized(pcms, TYPE_PORT92);
    qdev_connect_gpio_out_named(dev, PORT92_A20_LINE, 0, a20);
    pcms->a20_line = a20;
    isa_new_realized(pcms, TYPE_RESET_CONTROL);

    pcms->fw_cfg = fw_cfg_init_io_dma(get_system_io(), FW_CFG_IO_BASE, FW_CFG_IO_BASE + 4,
                                      &address_space_memory);
}

/* CMOS bytes firmware and old kernels read (QEMU's layout, which SeaBIOS expects). */
static void pc_cmos_init(PCMachineState *pcms, MachineState *ms)
{
    rtc_set_pc_memory(pcms->rtc, pcms->below_4g, pcms->above_4g);
    rtc_set_cpu_count(pcms->rtc, ms->smp.cpus);
    rtc_set_memory(pcms->rtc, 0x3d, 0x02);            /* boot order: hard disk first */
}

static void pc_fw_cfg_init(PCMachineState *pcms, MachineState *ms)
{
    size_t e820_len;
    uint8_t *e820 = e820_to_le(&pcms->e820, &e820_len);

    fw_cfg_add_i64(pcms->fw_cfg, FW_CFG_RAM_SIZE, ms->ram_size);
    fw_cfg_add_i16(pcms->fw_cfg, FW_CFG_NB_CPUS, ms->smp.cpus);
    /*
     * Not the CPU count but one past the highest possible APIC ID, as QEMU sets it: with
     * a topology field that is not a power of two (-smp 6,sockets=2,cores=3) the IDs have
     * gaps, and SeaBIOS scans APIC IDs below this value for its MP and ACPI tables.
     */
    fw_cfg_add_i16(pcms->fw_cfg, FW_CFG_MAX_CPUS,
                   x86_apic_id_from_index(ms, ms->smp.max_cpus - 1) + 1);
    fw_cfg_modify_i16(pcms->fw_cfg, FW_CFG_NOGRAPHIC, system_config()->nographic);
    fw_cfg_add_file(pcms->fw_cfg, "etc/e820", e820, e820_len);
}

/* ---------------------------------------------------------------- CPUs */

/*
 * The vCPUs come first in /machine/unattached (device[0] is the boot CPU), as on QEMU's pc
 * where x86_cpus_init runs before any other device is made: query-cpus-fast and
 * query-hotpluggable-cpus report these paths.  They are realized later, in pc_cpus_init,
 * once the irqchip exists (KVM creates its in-kernel irqchip before any vCPU).
 */
static void pc_cpus_new(PCMachineState *pcms, MachineState *ms)
{
    g_autofree char *type = g_strconcat(ms->cpu_type ? ms->cpu_type : X86_VCPU_DEFAULT_MODEL,
                                        X86_VCPU_TYPE_SUFFIX, NULL);
    ObjectClass *oc = object_class_by_name(type);

    if (!oc || !object_class_dynamic_cast(oc, TYPE_X86_VCPU) || object_class_is_abstract(oc)) {
        error_report("unknown CPU model '%s' (-cpu help lists them)", ms->cpu_type);
        exit(1);
    }
    pcms->cpus = g_new0(DeviceState *, ms->smp.cpus);
    for (unsigned i = 0; i < ms->smp.cpus; i++) {
        DeviceState *dev = qdev_new(type);

        object_property_set_uint(OBJECT(dev), "apic-id", x86_apic_id_from_index(ms, i),
                                 &error_abort);
        object_property_set_bool(OBJECT(dev), "bsp", i == 0, &error_abort);
        /* What CPUID reports a package holds (QEMU: nr_cores = dies x cores). */
        object_property_set_uint(OBJECT(dev), "nr-cores", ms->smp.dies * ms->smp.cores,
                                 &error_abort);
        object_property_set_uint(OBJECT(dev), "nr-threads", ms->smp.threads, &error_abort);
        qdev_attach_unattached(dev);
        pcms->cpus[i] = dev;
    }
}

static void pc_cpus_init(PCMachineState *pcms, MachineState *ms)
{
    x86_vcpu_create_apic = pc_create_apic;
    for (unsigned i = 0; i < ms->smp.cpus; i++) {
        qdev_realize_and_unref(pcms->cpus[i], NULL, &error_fatal);
    }
    g_clear_pointer(&pcms->cpus, g_free);
}

/* APIC IDs from the -smp topology: thread, core, die, socket fields, each a power of 2. */
uint32_t x86_apic_id_from_index(MachineState *ms, unsigned index)
{
    unsigned threads = ms->smp.threads, cores = ms->smp.cores, dies = ms->smp.dies;
    unsigned tbits = g_bit_storage(threads - 1), cbits = g_bit_storage(cores - 1);
    unsigned dbits = g_bit_storage(dies - 1);
    unsigned t = index % threads, c = (index / threads) % cores;
    unsigned d = (index / threads / cores) % dies, s = index / threads / cores / dies;

    if (threads == 1) {
        tbits = 0;
    }
    if (cores == 1) {
        cbits = 0;
    }
    if (dies == 1) {
        dbits = 0;
    }
    return t | c << tbits | d << (tbits + cbits) | s << (tbits + cbits + dbits);
}

/*
 * After each reset, with direct boot: MTRRs as SeaBIOS leaves them (default type
 * write-back, enabled) on every CPU, and the BSP at the kernel's entry point.
 */
static void pc_vcpu_reset_hook(X86Vcpu *cpu)
{
    if (!the_pc || the_pc->boot_regs.mode == X86_BOOT_NONE) {
        return;
    }
    cpu->env->mtrr_deftype = 0xc06;   /* E (bit 11), FE (bit 10), type 6 = WB */
    if (cpu->bsp) {
        x86_boot_apply(&the_pc->boot_regs, cpu->env);
    }
    x86_cpu_sync_state(cpu->interp);
}

/* -vga std: the PCI VGA at 00:02.0, where QEMU's pc puts it (and guests expect it). */
static void pc_vga_init(PCMachineState *pcms)
{
    const char *vga = system_config()->vga;
    DeviceState *dev;

    if (!vga || strcmp(vga, "std")) {
        return;
    }
    dev = qdev_new(TYPE_PCI_VGA);
    object_property_set_str(OBJECT(dev), "addr", "02.0", &error_fatal);
    qdev_realize_and_unref(dev, BUS(pcms->pci_bus), &error_fatal);
}

static void find_pci_vga(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    PCIDevice **found = opaque;

    if (!*found && object_dynamic_cast(OBJECT(dev), TYPE_PCI_VGA)) {
        *found = dev;
    }
}

/*
 * Direct boot with a PCI VGA and no other card that claimed screen_info (isa-vga does at
 * realize): give the kernel the PCI card's framebuffer.  BAR 0 gets its address from the
 * firmware set-up that every reset repeats; do it now to learn the address.
 */
static void pc_direct_boot_screen_info(PCMachineState *pcms)
{
    uint8_t *si = x86_linux_screen_info();
    PCIDevice *vga = NULL;

    if (!si || si[0x0f]) {                 /* not Linux, or orig_video_isVGA already set */
        return;
    }
    pci_for_each_device(pcms->pci_bus, find_pci_vga, &vga);
    if (!vga) {
        return;
    }
    pc_pci_firmware_init(pcms);
    pci_vga_set_boot_mode(DEVICE(vga), si);
}

/* -------------------------------------------------------------- tables */

static void pc_machine_done(MachineState *ms, void *opaque)
{
    PCMachineState *pcms = opaque;
    AcpiBuildParams params;
    uint32_t apic_ids[ACPI_MAX_CPUS];
    CPUState *cs;
    unsigned n = 0;
    Error *err = NULL;

    CPU_FOREACH(cs) {
        if (n < ACPI_MAX_CPUS) {
            apic_ids[n++] = X86_VCPU(cs)->apic_id;
        }
    }
    acpi_build_params_init_pc(&params, n, apic_ids);
    /*
     * QEMU's PCI windows: the 32-bit hole from the end of low RAM, and a 2 GiB 64-bit one
     * from the first GiB boundary after high RAM (i440FX pci-hole64-size).
     */
    params.pci_mem_start = pcms->below_4g;
    params.pci_mem64_start = ROUND_UP(4 * GiB + pcms->above_4g, 1 * GiB);
    params.pci_mem64_size = 2 * GiB;
    params.pic_present = true;
    params.irq0_to_gsi2 = true;
    if (pcms->hpet_dev) {
        /* The ACPI HPET table's Event Timer Block ID is GCAP_ID's low half. */
        params.hpet_addr = HPET_BASE;
        params.hpet_block_id = hpet_reg_read(pcms->hpet_dev, 0, 4);
    }
    pcms->acpi = acpi_build(ms, &params);
    acpi_setup_fw_cfg(pcms->fw_cfg, pcms->acpi);
    if (ms->kernel_filename) {
        pc_direct_boot_screen_info(pcms);
    }
    if (pcms->boot_regs.mode != X86_BOOT_NONE &&
        !acpi_install_direct(pcms->acpi, &address_space_memory, pcms->acpi_tables_addr,
                             PC_RSDP_ADDR, &err)) {
        error_report_err(err);
        exit(1);
    }
}

/* ------------------------------------------------------------- machine */

static void pc_init(MachineState *ms)
{
    PCMachineState *pcms = PC_MACHINE(ms);
    Error *err = NULL;

    the_pc = pcms;
    pc_cpus_new(pcms, ms);
    pc_memory_init(pcms, ms);
    if (ms->kernel_filename) {
        /* Direct boot: ACPI tables at the top of low RAM, reserved in the e820 map. */
        if (pcms->below_4g < 16 * MiB) {
            error_report("-kernel needs at least 16 MiB of RAM");
            exit(1);
        }
        pcms->acpi_tables_addr = pcms->below_4g - PC_ACPI_TABLES_SIZE;
        /* "reserved", as SeaBIOS marks the high zone it puts them in under QEMU. */
        e820_add(&pcms->e820, pcms->acpi_tables_addr, PC_ACPI_TABLES_SIZE, E820_RESERVED);
    } else {
        pc_bios_init(pcms, ms);
    }

    pc_chipset_init(pcms);
    pc_pci_host_new(pcms);
    pc_create_irqchip(pcms, ms);
    pc_pci_init(pcms);
    if (!ms->kernel_filename) {
        /*
         * Firmware boot: the i440FX's PAM registers decide what 0xc0000-0xfffff shows
         * (SeaBIOS shadows itself there).  Direct boot keeps RAM there, as a BIOS would
         * leave it.
         */
        uint64_t len = memory_region_size(&pcms->bios);
        uint64_t isa_len = memory_region_size(&pcms->isa_bios);
        const uint8_t *rom = memory_region_get_ram_ptr(&pcms->bios);

        i440fx_init_pam(pci_find_device(pcms->pci_bus, PCI_DEVFN(0, 0)), get_system_memory(),
                        ms->ram, rom + len - isa_len, 1 * MiB - isa_len);
    }
    pc_vga_init(pcms);
    pc_cpus_init(pcms, ms);
    pc_platform_devices(pcms, ms);
    pc_cmos_init(pcms, ms);
    pc_fw_cfg_init(pcms, ms);

    if (ms->kernel_filename) {
        x86_linux_unpack_enabled = pcms->kernel_unpack;
        if (!x86_load_kernel(ms, &pcms->e820, PC_RSDP_ADDR, &pcms->boot_regs, &err)) {
            error_report_err(err);
            exit(1);
        }
        x86_vcpu_reset_hook = pc_vcpu_reset_hook;
    }
    machine_add_done_notifier(pc_machine_done, pcms);
}

static void pc_reset(MachineState *ms)
{
    CPUState *cs;

    bus_cold_reset(sysbus_get_default());
    if (ms->kernel_filename) {
        /* No BIOS will set PCI up: do its part (IRQ routing, BARs). */
        pc_pci_firmware_init(PC_MACHINE(ms));
        /*
         * The keyboard controller as SeaBIOS leaves it for the OS (src/hw/ps2port.c,
         * ps2_keyboard_setup): keyboard interrupt on, scancode translation on, the aux port
         * disabled; Linux then finds an "AT Translated Set 2 keyboard" as under QEMU, which
         * runs SeaBIOS even with -kernel.  The i8042's own reset keeps the power-on value.
         */
        i8042_set_command_byte(PC_MACHINE(ms)->i8042, 0x61);
    }
    CPU_FOREACH(cs) {
        cpu_reset(cs);
    }
    /* A20 is enabled at reset (the i8042 output port's default). */
    irq_set_level(PC_MACHINE(ms)->a20_line, 1);
}

static void pc_machine_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "Standard PC (i440FX + PIIX, 1996)";
    mc->init = pc_init;
    mc->reset = pc_reset;
    mc->max_cpus = 255;
    mc->default_ram_size = 128 * MiB;
    mc->default_nic = "e1000";          /* QEMU's pc: -nic user,model=e1000 by default */
    mc->default_cdrom = true;           /* QEMU's pc: empty ide1-cd0 for eject/change */
    mc->is_default = true;
    mc->alias = "pc";                   /* QEMU 7.2: "pc" names pc-i440fx-7.2 */
    mc->default_cpu_type = X86_VCPU_TYPE_NAME(X86_VCPU_DEFAULT_MODEL);   /* query-machines */
}

static const Property pc_machine_props[] = {
    /*
     * Decompress a bzImage's vmlinux on the host and enter it at startup_64 (see
     * hw/i386/x86-linux-unpack.c); off runs the kernel's own decompressor as QEMU does.
     */
    DEFINE_PROP_BOOL("kernel-unpack", PCMachineState, kernel_unpack, true),
    /* The HPET at 0xfed00000, on by default as on QEMU's pc (-no-hpet turns it off). */
    DEFINE_PROP_BOOL("hpet", PCMachineState, hpet, true),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo pc_machine_type = {
    .name = TYPE_PC_MACHINE,
    .parent = TYPE_MACHINE,
    .instance_size = sizeof(PCMachineState),
    .class_init = pc_machine_class_init,
    .props = pc_machine_props,
};
KITE_TYPE_REGISTER(pc_machine_type)

/* The chipset device that owns the ISA bus (the PIIX3 ISA bridge's role). */
static const TypeInfo pc_chipset_type = {
    .name = TYPE_PC_CHIPSET,
    .parent = TYPE_SYS_BUS_DEVICE,
    .desc = "PC chipset (ISA bridge)",
    .instance_size = sizeof(DeviceState),
};
KITE_TYPE_REGISTER(pc_chipset_type)
