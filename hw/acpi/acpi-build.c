/*
 * The pc machine's ACPI tables (ACPI Specification 6.4; section numbers below are its).
 *
 * All tables except the RSDP go into one blob, "etc/acpi/tables", in this order: FACS
 * (64-byte aligned, first), DSDT, FADT, MADT, RSDT, XSDT.  Pointer fields hold offsets into
 * their target file, and the loader script says which ones to relocate and which checksums to
 * compute afterwards - the same script serves SeaBIOS (fw_cfg) and acpi_install_direct.
 *
 * The DSDT is minimal: \_S5 for soft-off, one ACPI0007 processor device per CPU, and the ISA
 * devices present (PNP0501 serial ports, PNP0B00 RTC, PNP0303/PNP0F13 keyboard and mouse,
 * QEMU0002 fw_cfg).  No PCI, HPET, CPU hotplug or sleep states other than S5 yet.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/pci.h"
#include "hw/i386/pc-pci.h"
#include "hw/acpi/acpi-build.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/aml-build.h"
#include "hw/isa.h"
#include "kite/log.h"

#define FACS_SIZE 64

/* FADT flags (§5.2.9, table 5.10). */
#define FADT_F_WBINVD           (1u << 0)
#define FADT_F_PROC_C1          (1u << 2)
#define FADT_F_SLP_BUTTON       (1u << 5)   /* no fixed sleep button */
#define FADT_F_RTC_S4           (1u << 7)
#define FADT_F_RESET_REG_SUP    (1u << 10)
/* IA-PC boot architecture flags (§5.2.9.3). */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042          (1u << 1)

/* MADT structure types and flags (§5.2.12). */
#define MADT_LOCAL_APIC         0
#define MADT_IO_APIC            1
#define MADT_INT_SRC_OVERRIDE   2
#define MADT_LOCAL_APIC_NMI     4
#define MADT_LOCAL_X2APIC       9
#define MADT_LOCAL_X2APIC_NMI   10
#define MADT_PCAT_COMPAT        1
#define MPS_INTI_POLARITY_HIGH  1
#define MPS_INTI_TRIGGER_LEVEL  (3 << 2)

void acpi_build_params_init_pc(AcpiBuildParams *p, unsigned nb_cpus, const uint32_t *apic_ids)
{
    memset(p, 0, sizeof(*p));
    g_assert(nb_cpus >= 1 && nb_cpus <= ACPI_MAX_CPUS);
    p->nb_cpus = nb_cpus;
    for (unsigned i = 0; i < nb_cpus; i++) {
        p->apic_ids[i] = apic_ids ? apic_ids[i] : i;
    }
    p->lapic_addr = 0xfee00000;
    p->ioapic_id = 0;
    p->ioapic_addr = 0xfec00000;
    p->ioapic_gsi_base = 0;
    p->pic_present = true;
    p->irq0_to_gsi2 = true;
    p->pm_io_base = ACPI_PM_IO_BASE;
    p->gpe0_base = ACPI_GPE0_BASE;
    p->sci_irq = ACPI_SCI_IRQ;
    p->reset_port = 0xcf9;
    p->reset_value = 0x06;              /* RCPU | SRST: hard reset */
    p->pci_mem_start = PC_PCI_MEM_START;
}

/* Record "this table's checksum covers [off, off + len)" once its pointers are set. */
static void table_finish(GByteArray *blob, BIOSLinker *linker, size_t off)
{
    uint32_t len = acpi_table_end(blob, off);

    bios_linker_loader_add_checksum(linker, ACPI_BUILD_TABLE_FILE, off, len, off + 9);
}

/* A pointer field of size bytes at blob offset field_off to target_off in the tables blob. */
static void table_pointer(GByteArray *blob, BIOSLinker *linker, const char *file,
                          size_t field_off, uint8_t size, uint64_t target_off)
{
    stn_le_p(blob->data + field_off, size, target_off);
    bios_linker_loader_add_pointer(linker, file, field_off, size, ACPI_BUILD_TABLE_FILE);
}

static void align_blob(GByteArray *blob, size_t align)
{
    while (blob->len % align) {
        build_append_int_noprefix(blob, 0, 1);
    }
}

/* §5.2.10 Firmware ACPI Control Structure: no header, no checksum. */
static size_t build_facs(GByteArray *blob)
{
    size_t off = blob->len;

    build_append_padded_str(blob, "FACS", 4, ' ');
    build_append_int_noprefix(blob, FACS_SIZE, 4);
    build_append_int_noprefix(blob, 0, 4);      /* Hardware Signature */
    build_append_int_noprefix(blob, 0, 4);      /* Firmware Waking Vector */
    build_append_int_noprefix(blob, 0, 4);      /* Global Lock */
    build_append_int_noprefix(blob, 0, 4);      /* Flags: no S4BIOS, no 64-bit wake */
    build_append_int_noprefix(blob, 0, 8);      /* X Firmware Waking Vector */
    build_append_int_noprefix(blob, 1, 1);      /* Version */
    build_append_int_noprefix(blob, 0, 3);
    build_append_int_noprefix(blob, 0, 4);      /* OSPM Flags */
    build_append_int_noprefix(blob, 0, 24);
    g_assert(blob->len - off == FACS_SIZE);
    return off;
}

static uint64_t prop_uint(Object *obj, const char *name, uint64_t dflt)
{
    Error *err = NULL;
    uint64_t v;

    if (!object_property_find(obj, name)) {
        return dflt;
    }
    v = object_property_get_uint(obj, name, &err);
    if (err) {
        error_free(err);
        return dflt;
    }
    return v;
}

static Aml *isa_device_aml(const char *name, const char *eisaid, int uid)
{
    Aml *dev = aml_device(name);

    aml_append(dev, aml_name_decl("_HID", aml_eisaid(eisaid)));
    if (uid >= 0) {
        aml_append(dev, aml_name_decl("_UID", aml_int(uid)));
    }
    return dev;
}

/* The ISA devices found on the bus, described as PNP devices with their resources. */
static void build_isa_devices(Aml *scope)
{
    BusState *bus = qbus_find_by_type(TYPE_ISA_BUS);
    unsigned serial_count = 0;

    for (guint i = 0; bus && i < bus->children->len; i++) {
        Object *obj = bus->children->pdata[i];
        const char *type = object_get_typename(obj);
        Aml *dev, *crs;

        if (!strcmp(type, "isa-serial") && serial_count < 4) {
            /* §6.1.5: PNP0501 16550A-compatible COM port. */
            uint16_t base = prop_uint(obj, "iobase", 0x3f8);
            g_autofree char *name = g_strdup_printf("COM%u", ++serial_count);
            dev = isa_device_aml(name, "PNP0501", serial_count);
            crs = aml_resource_template();
            aml_append(crs, aml_io(base, base, 0x00, 0x08));
            aml_append(crs, aml_irq_no_flags(prop_uint(obj, "irq", 4) & 15));
        } else if (!strcmp(type, "mc146818rtc")) {
            uint16_t base = prop_uint(obj, "iobase", 0x70);
            dev = isa_device_aml("RTC", "PNP0B00", -1);
            crs = aml_resource_template();
            aml_append(crs, aml_io(base, base, 0x01, 0x08));
            aml_append(crs, aml_irq_no_flags(prop_uint(obj, "irq", 8) & 15));
        } else if (!strcmp(type, "i8042")) {
            dev = isa_device_aml("KBD", "PNP0303", -1);
            crs = aml_resource_template();
            aml_append(crs, aml_io(0x60, 0x60, 0x01, 0x01));
            aml_append(crs, aml_io(0x64, 0x64, 0x01, 0x01));
            aml_append(crs, aml_irq_no_flags(prop_uint(obj, "kbd-irq", 1) & 15));
            aml_append(dev, aml_name_decl("_CRS", crs));
            aml_append(scope, dev);
            dev = isa_device_aml("MOU", "PNP0F13", -1);
            crs = aml_resource_template();
            aml_append(crs, aml_irq_no_flags(prop_uint(obj, "mouse-irq", 12) & 15));
        } else if (!strcmp(type, "pvpanic")) {
            /* QEMU's docs/specs/pvpanic.rst "ACPI Interface": _HID QEMU0001, the port. */
            uint16_t base = prop_uint(obj, "ioport", 0x505);
            dev = aml_device("PEVT");
            aml_append(dev, aml_name_decl("_HID", aml_string("QEMU0001")));
            aml_append(dev, aml_name_decl("_STA", aml_int(0x0f)));
            crs = aml_resource_template();
            aml_append(crs, aml_io(base, base, 0x01, 0x01));
        } else {
            continue;
        }
        aml_append(dev, aml_name_decl("_CRS", crs));
        aml_append(scope, dev);
    }
}

static void build_fw_cfg_aml(Aml *scope)
{
    FWCfgState *fw = fw_cfg_find();
    Object *obj = OBJECT(fw);
    Aml *dev, *crs;
    uint16_t base;

    if (!fw) {
        return;
    }
    /* fw_cfg.rst "ACPI Interface": _HID QEMU0002, the ports in _CRS, _STA 0x0B. */
    base = prop_uint(obj, "iobase", FW_CFG_IO_BASE);
    dev = aml_device("FWCF");
    aml_append(dev, aml_name_decl("_HID", aml_string("QEMU0002")));
    aml_append(dev, aml_name_decl("_STA", aml_int(0x0b)));
    crs = aml_resource_template();
    if (object_property_get_bool(obj, "dma_enabled", NULL)) {
        uint16_t dma = prop_uint(obj, "dma_iobase", FW_CFG_IO_BASE + 4);
        if (dma == base + 4) {
            /* QEMU's one range 0x510-0x51b: Linux's qemu_fw_cfg maps its first resource. */
            aml_append(crs, aml_io(base, base, 0x01, 0x0c));
        } else {
            aml_append(crs, aml_io(base, base, 0x01, 0x02));
            aml_append(crs, aml_io(dma, dma, 0x01, 0x08));
        }
    } else {
        aml_append(crs, aml_io(base, base, 0x01, 0x02));
    }
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(scope, dev);
}

/*
 * The PCI root bridge (§6.1.5 _HID PNP0A03): its windows in _CRS and, in _PRT (§6.2.13),
 * each slot's INTA-D as the GSI the board routes it to (the "Source 0, Source Index =
 * GSI" form: level-triggered, active-low, no link devices to program).
 */
static void build_pci_aml(Aml *scope, const AcpiBuildParams *p)
{
    Aml *dev, *crs, *prt;

    if (!pci_get_root_bus()) {
        return;
    }
    dev = aml_device("PCI0");
    aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0A03")));
    aml_append(dev, aml_name_decl("_ADR", aml_int(0)));
    aml_append(dev, aml_name_decl("_UID", aml_int(0)));
    crs = aml_resource_template();
    aml_append(crs, aml_word_bus_number(0, 0xff));
    aml_append(crs, aml_io(0xcf8, 0xcf8, 0x01, 0x08));
    aml_append(crs, aml_word_io(0x0000, 0x0cf7));
    aml_append(crs, aml_word_io(0x0d00, 0xffff));
    aml_append(crs, aml_dword_memory(0x000a0000, 0x000bffff, false));
    /* As QEMU's: the hole from the end of low RAM, and a 64-bit window above RAM. */
    aml_append(crs, aml_dword_memory(p->pci_mem_start, PC_PCI_MEM_END, false));
    if (p->pci_mem64_size) {
        aml_append(crs, aml_qword_memory(p->pci_mem64_start,
                                         p->pci_mem64_start + p->pci_mem64_size - 1, true));
    }
    aml_append(dev, aml_name_decl("_CRS", crs));
    prt = aml_package(31 * 4);
    for (int slot = 1; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            Aml *e = aml_package(4);
            aml_append(e, aml_int(((uint32_t)slot << 16) | 0xffff));
            aml_append(e, aml_int(pin));
            aml_append(e, aml_int(0));
            aml_append(e, aml_int(pc_pci_slot_irq(slot, pin)));
            aml_append(prt, e);
        }
    }
    aml_append(dev, aml_name_decl("_PRT", prt));
    aml_append(scope, dev);
}

/* §5.2.11.1 DSDT: a header then one AML DefinitionBlock body. */
/* IA-PC HPET specification 1.0a, 3.2.5: the timer block as a PNP0103 device with its MMIO. */
static void build_hpet_aml(Aml *scope, uint32_t addr)
{
    Aml *dev = aml_device("HPET");
    Aml *crs = aml_resource_template();

    aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0103")));
    aml_append(dev, aml_name_decl("_UID", aml_int(0)));
    aml_append(dev, aml_name_decl("_STA", aml_int(0x0f)));
    aml_append(crs, aml_memory32_fixed(addr, 0x400, true));
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(scope, dev);
}

static size_t build_dsdt(GByteArray *blob, BIOSLinker *linker, const AcpiBuildParams *p)
{
    size_t off = acpi_table_begin(blob, "DSDT", 2);   /* revision 2: 64-bit integers */
    Aml *body = aml_definition_block();
    Aml *sb = aml_scope("\\_SB");
    Aml *s5;

    /* §8.4 / §19.6.103: one Processor Device (ACPI0007) per CPU, _UID = MADT UID. */
    for (unsigned i = 0; i < p->nb_cpus; i++) {
        g_autofree char *name = g_strdup_printf("C%03X", i);
        Aml *cpu = aml_device(name);
        aml_append(cpu, aml_name_decl("_HID", aml_string("ACPI0007")));
        aml_append(cpu, aml_name_decl("_UID", aml_int(i)));
        aml_append(sb, cpu);
    }
    build_isa_devices(sb);
    build_fw_cfg_aml(sb);
    if (p->hpet_addr) {
        build_hpet_aml(sb, p->hpet_addr);
    }
    build_pci_aml(sb, p);
    aml_append(body, sb);

    /* §7.4.2 \_Sx: Package {SLP_TYPa, SLP_TYPb, reserved, reserved}; S5 is soft-off. */
    s5 = aml_package(4);
    aml_append(s5, aml_int(ACPI_SLP_TYP_S5));
    aml_append(s5, aml_int(ACPI_SLP_TYP_S5));
    aml_append(s5, aml_int(0));
    aml_append(s5, aml_int(0));
    aml_append(body, aml_name_decl("\\_S5", s5));

    aml_to_blob(blob, body);
    table_finish(blob, linker, off);
    return off;
}

/* §5.2.9 Fixed ACPI Description Table, revision 3 layout (244 bytes). */
static size_t build_fadt(GByteArray *blob, BIOSLinker *linker, const AcpiBuildParams *p,
                         size_t facs_off, size_t dsdt_off)
{
    size_t off = acpi_table_begin(blob, "FACP", 3);
    uint16_t pm = p->pm_io_base;
    size_t facs_field, dsdt_field, xdsdt_field;

    facs_field = blob->len;
    build_append_int_noprefix(blob, 0, 4);              /* FIRMWARE_CTRL */
    dsdt_field = blob->len;
    build_append_int_noprefix(blob, 0, 4);              /* DSDT */
    build_append_int_noprefix(blob, 0, 1);              /* reserved (INT_MODEL) */
    build_append_int_noprefix(blob, 0, 1);              /* Preferred_PM_Profile */
    build_append_int_noprefix(blob, p->sci_irq, 2);     /* SCI_INT */
    /* SMI_CMD 0: no legacy mode to leave, the hardware is in ACPI mode (SCI_EN = 1). */
    build_append_int_noprefix(blob, 0, 4);
    build_append_int_noprefix(blob, 0, 1);              /* ACPI_ENABLE */
    build_append_int_noprefix(blob, 0, 1);              /* ACPI_DISABLE */
    build_append_int_noprefix(blob, 0, 1);              /* S4BIOS_REQ */
    build_append_int_noprefix(blob, 0, 1);              /* PSTATE_CNT */
    build_append_int_noprefix(blob, pm + ACPI_PM1_EVT_OFF, 4);   /* PM1a_EVT_BLK */
    build_append_int_noprefix(blob, 0, 4);              /* PM1b_EVT_BLK */
    build_append_int_noprefix(blob, pm + ACPI_PM1_CNT_OFF, 4);   /* PM1a_CNT_BLK */
    build_append_int_noprefix(blob, 0, 4);              /* PM1b_CNT_BLK */
    build_append_int_noprefix(blob, 0, 4);              /* PM2_CNT_BLK */
    build_append_int_noprefix(blob, pm + ACPI_PM_TMR_OFF, 4);    /* PM_TMR_BLK */
    build_append_int_noprefix(blob, p->gpe0_base, 4);   /* GPE0_BLK */
    build_append_int_noprefix(blob, 0, 4);              /* GPE1_BLK */
    build_append_int_noprefix(blob, ACPI_PM1_EVT_LEN, 1);
    build_append_int_noprefix(blob, ACPI_PM1_CNT_LEN, 1);
    build_append_int_noprefix(blob, 0, 1);              /* PM2_CNT_LEN */
    build_append_int_noprefix(blob, ACPI_PM_TMR_LEN, 1);
    build_append_int_noprefix(blob, p->gpe0_base ? ACPI_GPE0_LEN : 0, 1);   /* GPE0_BLK_LEN */
    build_append_int_noprefix(blob, 0, 1);              /* GPE1_BLK_LEN */
    build_append_int_noprefix(blob, 0, 1);              /* GPE1_BASE */
    build_append_int_noprefix(blob, 0, 1);              /* CST_CNT */
    build_append_int_noprefix(blob, 0xfff, 2);          /* P_LVL2_LAT: > 100, no C2 */
    build_append_int_noprefix(blob, 0xfff, 2);          /* P_LVL3_LAT: > 1000, no C3 */
    build_append_int_noprefix(blob, 0, 2);              /* FLUSH_SIZE */
    build_append_int_noprefix(blob, 0, 2);              /* FLUSH_STRIDE */
    build_append_int_noprefix(blob, 0, 1);              /* DUTY_OFFSET */
    build_append_int_noprefix(blob, 0, 1);              /* DUTY_WIDTH */
    build_append_int_noprefix(blob, 0, 1);              /* DAY_ALRM: not supported */
    build_append_int_noprefix(blob, 0, 1);              /* MON_ALRM */
    build_append_int_noprefix(blob, 0x32, 1);           /* CENTURY: CMOS index */
    build_append_int_noprefix(blob, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042, 2);
    build_append_int_noprefix(blob, 0, 1);              /* reserved */
    build_append_int_noprefix(blob, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
                              FADT_F_RTC_S4 | (p->reset_port ? FADT_F_RESET_REG_SUP : 0), 4);
    /* RESET_REG (§4.8.3.6): a byte write of RESET_VALUE to the reset port. */
    build_append_gas(blob, AML_AS_SYSTEM_IO, 8, 0, 1, p->reset_port);
    build_append_int_noprefix(blob, p->reset_value, 1);
    build_append_int_noprefix(blob, 0, 3);              /* ARM_BOOT_ARCH, minor version */
    build_append_int_noprefix(blob, 0, 8);              /* X_FIRMWARE_CTRL: 32-bit one used */
    xdsdt_field = blob->len;
    build_append_int_noprefix(blob, 0, 8);              /* X_DSDT */
    build_append_gas(blob, AML_AS_SYSTEM_IO, ACPI_PM1_EVT_LEN * 8, 0, 0,
                     pm + ACPI_PM1_EVT_OFF);
    build_append_gas(blob, 0, 0, 0, 0, 0);              /* X_PM1b_EVT_BLK */
    build_append_gas(blob, AML_AS_SYSTEM_IO, ACPI_PM1_CNT_LEN * 8, 0, 0,
                     pm + ACPI_PM1_CNT_OFF);
    build_append_gas(blob, 0, 0, 0, 0, 0);              /* X_PM1b_CNT_BLK */
    build_append_gas(blob, 0, 0, 0, 0, 0);              /* X_PM2_CNT_BLK */
    build_append_gas(blob, AML_AS_SYSTEM_IO, ACPI_PM_TMR_LEN * 8, 0, 0,
                     pm + ACPI_PM_TMR_OFF);
    if (p->gpe0_base) {
        build_append_gas(blob, AML_AS_SYSTEM_IO, ACPI_GPE0_LEN * 8, 0, 0, p->gpe0_base);
    } else {
        build_append_gas(blob, 0, 0, 0, 0, 0);          /* X_GPE0_BLK */
    }
    build_append_gas(blob, 0, 0, 0, 0, 0);              /* X_GPE1_BLK */
    g_assert(blob->len - off == 244);

    table_pointer(blob, linker, ACPI_BUILD_TABLE_FILE, facs_field, 4, facs_off);
    table_pointer(blob, linker, ACPI_BUILD_TABLE_FILE, dsdt_field, 4, dsdt_off);
    table_pointer(blob, linker, ACPI_BUILD_TABLE_FILE, xdsdt_field, 8, dsdt_off);
    table_finish(blob, linker, off);
    return off;
}

/* §5.2.12 Multiple APIC Description Table. */
static size_t build_madt(GByteArray *blob, BIOSLinker *linker, const AcpiBuildParams *p)
{
    size_t off = acpi_table_begin(blob, "APIC", 1);
    bool x2apic = false;

    build_append_int_noprefix(blob, p->lapic_addr, 4);
    build_append_int_noprefix(blob, p->pic_present ? MADT_PCAT_COMPAT : 0, 4);

    for (unsigned i = 0; i < p->nb_cpus; i++) {
        if (p->apic_ids[i] < 0xff) {
            /* §5.2.12.2 Processor Local APIC: UID, APIC ID, Enabled. */
            build_append_int_noprefix(blob, MADT_LOCAL_APIC, 1);
            build_append_int_noprefix(blob, 8, 1);
            build_append_int_noprefix(blob, i, 1);
            build_append_int_noprefix(blob, p->apic_ids[i], 1);
            build_append_int_noprefix(blob, 1, 4);
        } else {
            /* §5.2.12.12 Processor Local x2APIC for IDs that do not fit a byte. */
            x2apic = true;
            build_append_int_noprefix(blob, MADT_LOCAL_X2APIC, 1);
            build_append_int_noprefix(blob, 16, 1);
            build_append_int_noprefix(blob, 0, 2);
            build_append_int_noprefix(blob, p->apic_ids[i], 4);
            build_append_int_noprefix(blob, 1, 4);
            build_append_int_noprefix(blob, i, 4);
        }
    }

    /* §5.2.12.3 I/O APIC. */
    build_append_int_noprefix(blob, MADT_IO_APIC, 1);
    build_append_int_noprefix(blob, 12, 1);
    build_append_int_noprefix(blob, p->ioapic_id, 1);
    build_append_int_noprefix(blob, 0, 1);
    build_append_int_noprefix(blob, p->ioapic_addr, 4);
    build_append_int_noprefix(blob, p->ioapic_gsi_base, 4);

    /* §5.2.12.5 Interrupt Source Overrides: the PIT on GSI 2, the SCI level/high. */
    if (p->irq0_to_gsi2) {
        build_append_int_noprefix(blob, MADT_INT_SRC_OVERRIDE, 1);
        build_append_int_noprefix(blob, 10, 1);
        build_append_int_noprefix(blob, 0, 1);          /* Bus: ISA */
        build_append_int_noprefix(blob, 0, 1);          /* Source: IRQ 0 */
        build_append_int_noprefix(blob, 2, 4);          /* GSI 2 */
        build_append_int_noprefix(blob, 0, 2);          /* conforms to the bus */
    }
    build_append_int_noprefix(blob, MADT_INT_SRC_OVERRIDE, 1);
    build_append_int_noprefix(blob, 10, 1);
    build_append_int_noprefix(blob, 0, 1);
    build_append_int_noprefix(blob, p->sci_irq, 1);
    build_append_int_noprefix(blob, p->sci_irq, 4);
    /* §5.2.9: "the SCI is a sharable, level, active low interrupt" unless overridden; the
     * PM device drives it active high, so say so. */
    build_append_int_noprefix(blob, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_LEVEL, 2);

    /* §5.2.12.7 Local APIC NMI: LINT1 of every processor. */
    build_append_int_noprefix(blob, MADT_LOCAL_APIC_NMI, 1);
    build_append_int_noprefix(blob, 6, 1);
    build_append_int_noprefix(blob, 0xff, 1);           /* all processors */
    build_append_int_noprefix(blob, 0, 2);
    build_append_int_noprefix(blob, 1, 1);              /* LINT1 */
    if (x2apic) {
        /* §5.2.12.13 Local x2APIC NMI for the processors only the x2APIC entries name. */
        build_append_int_noprefix(blob, MADT_LOCAL_X2APIC_NMI, 1);
        build_append_int_noprefix(blob, 12, 1);
        build_append_int_noprefix(blob, 0, 2);
        build_append_int_noprefix(blob, 0xffffffff, 4);
        build_append_int_noprefix(blob, 1, 1);
        build_append_int_noprefix(blob, 0, 3);
    }
    table_finish(blob, linker, off);
    return off;
}

/*
 * IA-PC HPET specification 1.0a, 3.2.4 "The ACPI 2.0 HPET Description Table": block ID,
 * base address, HPET number 0, minimum periodic tick 0x80 (QEMU's value), no page protection.
 */
static size_t build_hpet(GByteArray *blob, BIOSLinker *linker, const AcpiBuildParams *p)
{
    size_t off = acpi_table_begin(blob, "HPET", 1);

    build_append_int_noprefix(blob, p->hpet_block_id, 4);
    build_append_gas(blob, AML_AS_SYSTEM_MEMORY, 0, 0, 0, p->hpet_addr);
    build_append_int_noprefix(blob, 0, 1);              /* HPET Number */
    build_append_int_noprefix(blob, 0x80, 2);           /* Main Counter Minimum Clock_tick */
    build_append_int_noprefix(blob, 0, 1);              /* Page Protection and OEM Attribute */
    table_finish(blob, linker, off);
    return off;
}

/*
 * Microsoft's "Windows ACPI Emulated Devices Table" (WAET, 2009 spec): Emulated Device
 * Flags bit 1, the ACPI PM timer is reliable (a read needs no re-read); bit 0 (RTC good)
 * clear.  QEMU's pc has the same table with the same flags.
 */
static size_t build_waet(GByteArray *blob, BIOSLinker *linker)
{
    size_t off = acpi_table_begin(blob, "WAET", 1);

    build_append_int_noprefix(blob, 1u << 1, 4);
    table_finish(blob, linker, off);
    return off;
}

/* §5.2.7 RSDT (32-bit entries) and §5.2.8 XSDT (64-bit entries). */
static size_t build_xsdt(GByteArray *blob, BIOSLinker *linker, const size_t *tables, int n,
                         bool x)
{
    size_t off = acpi_table_begin(blob, x ? "XSDT" : "RSDT", 1);
    int size = x ? 8 : 4;

    for (int i = 0; i < n; i++) {
        size_t field = blob->len;
        build_append_int_noprefix(blob, 0, size);
        table_pointer(blob, linker, ACPI_BUILD_TABLE_FILE, field, size, tables[i]);
    }
    table_finish(blob, linker, off);
    return off;
}

/* §5.2.5.3 Root System Description Pointer, revision 2 (ACPI 2.0+), 36 bytes. */
static void build_rsdp(GByteArray *rsdp, BIOSLinker *linker, size_t rsdt_off, size_t xsdt_off)
{
    build_append_padded_str(rsdp, "RSD PTR ", 8, ' ');
    build_append_int_noprefix(rsdp, 0, 1);              /* Checksum of bytes 0-19 */
    build_append_padded_str(rsdp, ACPI_OEM_ID, 6, ' ');
    build_append_int_noprefix(rsdp, 2, 1);              /* Revision */
    build_append_int_noprefix(rsdp, 0, 4);              /* RsdtAddress */
    build_append_int_noprefix(rsdp, 36, 4);             /* Length */
    build_append_int_noprefix(rsdp, 0, 8);              /* XsdtAddress */
    build_append_int_noprefix(rsdp, 0, 1);              /* Extended Checksum */
    build_append_int_noprefix(rsdp, 0, 3);
    table_pointer(rsdp, linker, ACPI_BUILD_RSDP_FILE, 16, 4, rsdt_off);
    table_pointer(rsdp, linker, ACPI_BUILD_RSDP_FILE, 24, 8, xsdt_off);
    bios_linker_loader_add_checksum(linker, ACPI_BUILD_RSDP_FILE, 0, 20, 8);
    bios_linker_loader_add_checksum(linker, ACPI_BUILD_RSDP_FILE, 0, 36, 32);
}

AcpiBuildTables *acpi_build(MachineState *ms, const AcpiBuildParams *p)
{
    AcpiBuildTables *t = g_new0(AcpiBuildTables, 1);
    BIOSLinker *linker = bios_linker_loader_init();
    size_t facs, dsdt, fadt, madt, rsdt, xsdt, tables[4];
    int n = 2;

    g_assert(p->nb_cpus >= 1 && p->nb_cpus <= ACPI_MAX_CPUS);
    t->tables = g_byte_array_new();
    t->rsdp = g_byte_array_new();
    /* High memory, 64-byte aligned for the FACS (§5.2.10); the RSDP in the F segment. */
    bios_linker_loader_alloc(linker, ACPI_BUILD_TABLE_FILE, 64, false);
    bios_linker_loader_alloc(linker, ACPI_BUILD_RSDP_FILE, 16, true);

    facs = build_facs(t->tables);
    dsdt = build_dsdt(t->tables, linker, p);
    align_blob(t->tables, 8);
    fadt = build_fadt(t->tables, linker, p, facs, dsdt);
    align_blob(t->tables, 8);
    madt = build_madt(t->tables, linker, p);
    tables[0] = fadt;
    tables[1] = madt;
    if (p->hpet_addr) {
        align_blob(t->tables, 8);
        tables[n++] = build_hpet(t->tables, linker, p);
    }
    align_blob(t->tables, 8);
    tables[n++] = build_waet(t->tables, linker);
    align_blob(t->tables, 8);
    rsdt = build_xsdt(t->tables, linker, tables, n, false);
    align_blob(t->tables, 8);
    xsdt = build_xsdt(t->tables, linker, tables, n, true);
    build_rsdp(t->rsdp, linker, rsdt, xsdt);

    t->linker = linker->cmd_blob;
    linker->cmd_blob = NULL;
    g_free(linker);
    return t;
}

void acpi_build_tables_free(AcpiBuildTables *t)
{
    if (t) {
        g_byte_array_free(t->tables, true);
        g_byte_array_free(t->rsdp, true);
        g_byte_array_free(t->linker, true);
        g_free(t);
    }
}

size_t acpi_tables_size(const AcpiBuildTables *t)
{
    return t->tables->len;
}

void acpi_setup_fw_cfg(FWCfgState *fw, const AcpiBuildTables *t)
{
    fw_cfg_add_file(fw, ACPI_BUILD_TABLE_FILE, t->tables->data, t->tables->len);
    fw_cfg_add_file(fw, ACPI_BUILD_RSDP_FILE, t->rsdp->data, t->rsdp->len);
    fw_cfg_add_file(fw, ACPI_BUILD_LOADER_FILE, t->linker->data, t->linker->len);
}

bool acpi_install_direct(const AcpiBuildTables *t, AddressSpace *as, hwaddr tables_addr,
                         hwaddr rsdp_addr, Error **errp)
{
    g_autofree uint8_t *tables = g_memdup2(t->tables->data, t->tables->len);
    g_autofree uint8_t *rsdp = g_memdup2(t->rsdp->data, t->rsdp->len);
    const char *names[2] = { ACPI_BUILD_TABLE_FILE, ACPI_BUILD_RSDP_FILE };
    uint8_t *files[2] = { tables, rsdp };
    size_t lens[2] = { t->tables->len, t->rsdp->len };
    uint64_t addrs[2] = { tables_addr, rsdp_addr };

    if (rsdp_addr < tables_addr + lens[0] && tables_addr < rsdp_addr + lens[1]) {
        error_setg(errp, "ACPI: the RSDP at 0x%" PRIx64 " overlaps the tables at 0x%" PRIx64,
                   rsdp_addr, tables_addr);
        return false;
    }
    if (!bios_linker_loader_execute(t->linker->data, t->linker->len, 2, names, files, lens,
                                    addrs, errp)) {
        return false;
    }
    if (address_space_write_rom(as, tables_addr, tables, lens[0]) != MEMTX_OK ||
        address_space_write_rom(as, rsdp_addr, rsdp, lens[1]) != MEMTX_OK) {
        error_setg(errp, "ACPI: tables at 0x%" PRIx64 " or RSDP at 0x%" PRIx64
                   " are not in guest memory", tables_addr, rsdp_addr);
        return false;
    }
    return true;
}
