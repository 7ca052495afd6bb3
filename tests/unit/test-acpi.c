/*
 * ACPI tables: AML encodings, the loader script, tables installed for direct boot and through
 * the fw_cfg loader path, checked field by field (ACPI 6.4 section numbers) and by ACPICA's
 * disassembler (iasl -d, Debian package acpica-tools) when it is installed.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "isa-harness.h"
#include "hw/acpi/acpi-build.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/acpi.h"
#include "hw/input/i8042.h"
#include "hw/rtc/mc146818rtc.h"
#include "hw/char/serial.h"

#define TABLES_ADDR 0x10000
#define RSDP_ADDR 0xf5a30

static uint8_t *ram(hwaddr a)
{
    return (uint8_t *)memory_region_get_ram_ptr(&harness_ram) + a;
}

static bool sum_ok(const uint8_t *p, size_t len)
{
    return acpi_checksum(p, len) == 0;
}

static GByteArray *aml_bytes(Aml *a)
{
    GByteArray *b = g_byte_array_new();
    aml_to_blob(b, a);
    return b;
}

static void test_aml_encoding(void)
{
    g_autoptr(GByteArray) b = NULL;
    Aml *pkg;

    /* §20.2.3: integers take the shortest encoding. */
    b = aml_bytes(aml_int(0));
    g_assert_cmpmem(b->data, b->len, "\x00", 1);
    g_byte_array_unref(b);
    b = aml_bytes(aml_int(0x1234));
    g_assert_cmpmem(b->data, b->len, "\x0b\x34\x12", 3);
    g_byte_array_unref(b);
    b = aml_bytes(aml_int(0x100000000ULL));
    g_assert_cmpmem(b->data, b->len, "\x0e\x00\x00\x00\x00\x01\x00\x00\x00", 9);
    g_byte_array_unref(b);
    /* §6.4.3.5.1 QWord memory: tag 8Ah, length 43, min/max/length as 64-bit values. */
    b = aml_bytes(aml_qword_memory(0x100000000ULL, 0x17fffffffULL, true));
    g_assert_cmpuint(b->len, ==, 46);
    g_assert_cmpmem(b->data, 6, "\x8a\x2b\x00\x00\x0c\x03", 6);
    g_assert_cmphex(ldq_le_p(b->data + 14), ==, 0x100000000ULL);
    g_assert_cmphex(ldq_le_p(b->data + 22), ==, 0x17fffffffULL);
    g_assert_cmphex(ldq_le_p(b->data + 38), ==, 0x80000000ULL);
    g_byte_array_unref(b);
    /* §6.1.5: EisaId("PNP0303") is the DWord 0x0303D041. */
    b = aml_bytes(aml_eisaid("PNP0303"));
    g_assert_cmpmem(b->data, b->len, "\x0c\x41\xd0\x03\x03", 5);
    g_byte_array_unref(b);
    /* §20.2.2: root and multi-segment names, short segments padded with '_'. */
    b = aml_bytes(aml_name("\\_SB.PCI0.ISA"));
    g_assert_cmpmem(b->data, b->len, "\\\x2f\x03_SB_PCI0ISA_", 15);
    g_byte_array_unref(b);
    b = aml_bytes(aml_name_decl("_S5", aml_int(5)));
    g_assert_cmpmem(b->data, b->len, "\x08_S5_\x0a\x05", 7);
    g_byte_array_unref(b);

    /* §20.2.4 PkgLength: one byte up to 63, then a count in bits 7-6 and a low nibble. */
    pkg = aml_package(0);
    for (int i = 0; i < 61; i++) {
        aml_append(pkg, aml_int(0));            /* body 62 bytes: PkgLength 63, 1 byte */
    }
    b = aml_bytes(pkg);
    g_assert_cmpuint(b->len, ==, 64);
    g_assert_cmpuint(b->data[1], ==, 63);
    g_byte_array_unref(b);
    pkg = aml_package(0);
    for (int i = 0; i < 62; i++) {
        aml_append(pkg, aml_int(0));            /* body 63: PkgLength 65 in 2 bytes */
    }
    b = aml_bytes(pkg);
    g_assert_cmpuint(b->len, ==, 66);
    g_assert_cmpuint(b->data[1], ==, 0x40 | (65 & 0xf));
    g_assert_cmpuint(b->data[2], ==, 65 >> 4);
    g_byte_array_unref(b);
    pkg = aml_package(0);
    for (int i = 0; i < 5000; i++) {
        aml_append(pkg, aml_int(0));            /* body 5001: 3 bytes, total 5004 */
    }
    b = aml_bytes(pkg);
    g_assert_cmpuint(b->data[1], ==, 0x80 | (5004 & 0xf));
    g_assert_cmpuint(b->data[2] | (b->data[3] << 8), ==, 5004 >> 4);
    g_byte_array_unref(b);

    /* §6.4.2: ResourceTemplate = Buffer(size){descriptors, End Tag 79 00}. */
    pkg = aml_resource_template();
    aml_append(pkg, aml_io(0x3f8, 0x3f8, 0, 8));
    aml_append(pkg, aml_irq_no_flags(4));
    b = aml_bytes(pkg);
    g_assert_cmpmem(b->data, b->len,
                    "\x11\x10\x0a\x0d" "\x47\x01\xf8\x03\xf8\x03\x00\x08" "\x22\x10\x00"
                    "\x79\x00", 17);
}

/* A fresh ISA bus population: keyboard controller and fw_cfg, described by the DSDT. */
static DeviceState *kbd;
static FWCfgState *fw;

static AcpiBuildTables *build(unsigned ncpus, const uint32_t *ids)
{
    AcpiBuildParams p;

    acpi_build_params_init_pc(&p, ncpus, ids);
    return acpi_build(NULL, &p);
}

/* Find a table by signature through the XSDT (and check the RSDT agrees). */
static uint8_t *find_table(const uint8_t *rsdp, const char *sig)
{
    uint8_t *xsdt = ram(ldq_le_p(rsdp + 24));
    uint8_t *rsdt = ram(ldl_le_p(rsdp + 16));
    uint32_t n = (ldl_le_p(xsdt + 4) - 36) / 8;

    g_assert_cmpuint((ldl_le_p(rsdt + 4) - 36) / 4, ==, n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t a = ldq_le_p(xsdt + 36 + 8 * i);
        g_assert_cmpuint(ldl_le_p(rsdt + 36 + 4 * i), ==, a);
        if (!memcmp(ram(a), sig, 4)) {
            return ram(a);
        }
    }
    return NULL;
}

static void check_installed(const uint8_t *rsdp, unsigned ncpus, const uint32_t *ids)
{
    uint8_t *fadt, *madt, *dsdt, *facs;
    unsigned lapics = 0, isos = 0, nmis = 0, ioapics = 0;

    /* §5.2.5.3: signature, checksum of the first 20 bytes, extended checksum of 36. */
    g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
    g_assert_true(sum_ok(rsdp, 20));
    g_assert_true(sum_ok(rsdp, 36));
    g_assert_cmpuint(rsdp[15], ==, 2);
    g_assert_cmpuint(ldl_le_p(rsdp + 20), ==, 36);
    g_assert_true(sum_ok(ram(ldl_le_p(rsdp + 16)), ldl_le_p(ram(ldl_le_p(rsdp + 16)) + 4)));
    g_assert_true(sum_ok(ram(ldq_le_p(rsdp + 24)), ldl_le_p(ram(ldq_le_p(rsdp + 24)) + 4)));

    /* QEMU's ids; the WAET says the PM timer is reliable (bit 1), as QEMU's does. */
    g_assert_cmpmem(rsdp + 9, 6, "BOCHS ", 6);
    {
        const uint8_t *waet = find_table(rsdp, "WAET");
        g_assert_nonnull(waet);
        g_assert_cmpuint(ldl_le_p(waet + 4), ==, 40);
        g_assert_true(sum_ok(waet, 40));
        g_assert_cmpmem(waet + 10, 6 + 8, "BOCHS BXPC    ", 14);
        g_assert_cmpmem(waet + 28, 4, "BXPC", 4);
        g_assert_cmpuint(ldl_le_p(waet + 36), ==, 2);
    }

    /* §5.2.9 FADT: revision 3, 244 bytes, PM blocks, SCI 9, reset register 0xcf9 <- 6. */
    fadt = find_table(rsdp, "FACP");
    g_assert_nonnull(fadt);
    g_assert_cmpuint(ldl_le_p(fadt + 4), ==, 244);
    g_assert_cmpuint(fadt[8], ==, 3);
    g_assert_true(sum_ok(fadt, 244));
    g_assert_cmpuint(lduw_le_p(fadt + 46), ==, ACPI_SCI_IRQ);
    g_assert_cmpuint(ldl_le_p(fadt + 48), ==, 0);                   /* SMI_CMD */
    g_assert_cmpuint(ldl_le_p(fadt + 56), ==, 0x600);               /* PM1a_EVT_BLK */
    g_assert_cmpuint(ldl_le_p(fadt + 64), ==, 0x604);               /* PM1a_CNT_BLK */
    g_assert_cmpuint(ldl_le_p(fadt + 76), ==, 0x608);               /* PM_TMR_BLK */
    g_assert_cmpuint(ldl_le_p(fadt + 80), ==, 0xafe0);              /* GPE0_BLK (QEMU's) */
    g_assert_cmpuint(fadt[92], ==, 4);                              /* GPE0_BLK_LEN */
    g_assert_cmpuint(fadt[220], ==, AML_AS_SYSTEM_IO);              /* X_GPE0_BLK */
    g_assert_cmpuint(ldq_le_p(fadt + 220 + 4), ==, 0xafe0);
    g_assert_cmpuint(fadt[88], ==, 4);
    g_assert_cmpuint(fadt[89], ==, 2);
    g_assert_cmpuint(fadt[91], ==, 4);
    g_assert_cmpuint(fadt[108], ==, 0x32);                          /* CENTURY */
    g_assert_cmpuint(lduw_le_p(fadt + 109) & 2, ==, 2);             /* 8042 present */
    g_assert_cmpuint(ldl_le_p(fadt + 112) & (1u << 10), ==, 1u << 10);  /* RESET_REG_SUP */
    g_assert_cmpuint(fadt[116], ==, AML_AS_SYSTEM_IO);
    g_assert_cmpuint(ldq_le_p(fadt + 120), ==, 0xcf9);
    g_assert_cmpuint(fadt[128], ==, 6);
    g_assert_cmpuint(ldq_le_p(fadt + 148 + 4), ==, 0x600);          /* X_PM1a_EVT_BLK */
    g_assert_cmpuint(ldq_le_p(fadt + 208 + 4), ==, 0x608);          /* X_PM_TMR_BLK */

    /* FIRMWARE_CTRL -> FACS, 64-byte aligned; DSDT and X_DSDT agree. */
    g_assert_cmpuint(ldl_le_p(fadt + 36) % 64, ==, 0);
    facs = ram(ldl_le_p(fadt + 36));
    g_assert_cmpmem(facs, 4, "FACS", 4);
    g_assert_cmpuint(ldl_le_p(facs + 4), ==, 64);
    g_assert_cmpuint(ldq_le_p(fadt + 140), ==, ldl_le_p(fadt + 40));
    dsdt = ram(ldl_le_p(fadt + 40));
    g_assert_cmpmem(dsdt, 4, "DSDT", 4);
    g_assert_true(sum_ok(dsdt, ldl_le_p(dsdt + 4)));
    /* The AML names what Linux needs: \_S5, processors, the keyboard. */
    g_assert_nonnull(memmem(dsdt, ldl_le_p(dsdt + 4), "_S5_", 4));
    g_assert_nonnull(memmem(dsdt, ldl_le_p(dsdt + 4), "ACPI0007", 8));
    g_assert_nonnull(memmem(dsdt, ldl_le_p(dsdt + 4), "\x0c\x41\xd0\x03\x03", 5));
    g_assert_nonnull(memmem(dsdt, ldl_le_p(dsdt + 4), "QEMU0002", 8));
    g_assert_nonnull(memmem(dsdt, ldl_le_p(dsdt + 4), "\x0c\x41\xd0\x0b\x00", 5));

    /* §5.2.12 MADT: one enabled LAPIC per CPU with its APIC ID, the IOAPIC, overrides. */
    madt = find_table(rsdp, "APIC");
    g_assert_nonnull(madt);
    g_assert_true(sum_ok(madt, ldl_le_p(madt + 4)));
    g_assert_cmpuint(ldl_le_p(madt + 36), ==, 0xfee00000);
    g_assert_cmpuint(ldl_le_p(madt + 40), ==, 1);                   /* PCAT_COMPAT */
    for (uint32_t off = 44; off < ldl_le_p(madt + 4); off += madt[off + 1]) {
        uint8_t *e = madt + off;
        g_assert_cmpuint(e[1], >=, 2);
        switch (e[0]) {
        case 0:
            g_assert_cmpuint(e[2], ==, lapics);
            g_assert_cmpuint(e[3], ==, ids ? ids[lapics] : lapics);
            g_assert_cmpuint(ldl_le_p(e + 4), ==, 1);
            lapics++;
            break;
        case 9:
            g_assert_cmpuint(ldl_le_p(e + 12), ==, lapics);
            g_assert_cmpuint(ldl_le_p(e + 4), ==, ids[lapics]);
            lapics++;
            break;
        case 1:
            g_assert_cmpuint(ldl_le_p(e + 4), ==, 0xfec00000);
            g_assert_cmpuint(ldl_le_p(e + 8), ==, 0);
            ioapics++;
            break;
        case 2:
            if (e[3] == 0) {
                g_assert_cmpuint(ldl_le_p(e + 4), ==, 2);           /* IRQ0 -> GSI 2 */
                g_assert_cmpuint(lduw_le_p(e + 8), ==, 0);
            } else {
                g_assert_cmpuint(e[3], ==, 9);
                g_assert_cmpuint(ldl_le_p(e + 4), ==, 9);
                g_assert_cmpuint(lduw_le_p(e + 8), ==, 0x0d);       /* level, active high */
            }
            isos++;
            break;
        case 4:
            g_assert_cmpuint(e[2], ==, 0xff);
            g_assert_cmpuint(e[5], ==, 1);                          /* LINT1 */
            nmis++;
            break;
        }
    }
    g_assert_cmpuint(lapics, ==, ncpus);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_cmpuint(isos, ==, 2);
    g_assert_cmpuint(nmis, ==, 1);
}

static void test_direct_install(void)
{
    AcpiBuildTables *t = build(4, NULL);
    Error *err = NULL;

    memset(ram(0), 0, HARNESS_RAM_SIZE);
    g_assert_true(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR, RSDP_ADDR,
                                      &error_abort));
    check_installed(ram(RSDP_ADDR), 4, NULL);
    /* The builder's own blobs stay unpatched (offsets, zero checksums). */
    g_assert_cmpuint(t->rsdp->data[8], ==, 0);

    /* Placement errors: RSDP outside the F segment, misaligned, tables not in RAM. */
    g_assert_false(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR, 0x9000, &err));
    error_free(err);
    err = NULL;
    g_assert_false(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR, RSDP_ADDR + 4, &err));
    error_free(err);
    err = NULL;
    g_assert_false(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR + 32, RSDP_ADDR, &err));
    error_free(err);
    err = NULL;
    g_assert_false(acpi_install_direct(t, &harness_mem_as, 0x80000000, RSDP_ADDR, &err));
    error_free(err);
    err = NULL;
    /* 32-bit pointer fields cannot reach tables above 4 GiB. */
    g_assert_false(acpi_install_direct(t, &harness_mem_as, 0x100000000ULL, RSDP_ADDR, &err));
    error_free(err);
    acpi_build_tables_free(t);
}

static void test_x2apic_ids(void)
{
    uint32_t ids[3] = { 0, 7, 300 };
    AcpiBuildTables *t = build(3, ids);

    memset(ram(0), 0, HARNESS_RAM_SIZE);
    g_assert_true(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR, RSDP_ADDR,
                                      &error_abort));
    check_installed(ram(RSDP_ADDR), 3, ids);
    acpi_build_tables_free(t);
}

/* The fw_cfg files, loaded the way SeaBIOS does it, give the same valid tables. */
static void test_fw_cfg_loader(void)
{
    AcpiBuildTables *t = build(2, NULL);
    const char *names[2] = { ACPI_BUILD_TABLE_FILE, ACPI_BUILD_RSDP_FILE };
    const void *script, *tables, *rsdp;
    size_t script_len, lens[2];
    uint8_t *files[2];
    uint64_t addrs[2] = { 0x40000, 0xe0010 };

    acpi_setup_fw_cfg(fw, t);
    acpi_build_tables_free(t);
    script = fw_cfg_get_file(fw, ACPI_BUILD_LOADER_FILE, &script_len);
    tables = fw_cfg_get_file(fw, ACPI_BUILD_TABLE_FILE, &lens[0]);
    rsdp = fw_cfg_get_file(fw, ACPI_BUILD_RSDP_FILE, &lens[1]);
    g_assert_nonnull(script);
    g_assert_cmpuint(script_len % 128, ==, 0);
    /* The script starts with the two ALLOCATE commands: tables high, RSDP in the F segment. */
    g_assert_cmpuint(ldl_le_p(script), ==, BIOS_LINKER_LOADER_COMMAND_ALLOCATE);
    g_assert_cmpstr((const char *)script + 4, ==, ACPI_BUILD_TABLE_FILE);
    g_assert_cmpuint(ldl_le_p((const uint8_t *)script + 60), ==, 64);
    g_assert_cmpuint(((const uint8_t *)script)[64], ==, BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH);
    g_assert_cmpuint(((const uint8_t *)script)[128 + 64], ==,
                     BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG);

    memset(ram(0), 0, HARNESS_RAM_SIZE);
    files[0] = ram(addrs[0]);
    files[1] = ram(addrs[1]);
    memcpy(files[0], tables, lens[0]);
    memcpy(files[1], rsdp, lens[1]);
    g_assert_true(bios_linker_loader_execute(script, script_len, 2, names, files, lens, addrs,
                                             &error_abort));
    check_installed(files[1], 2, NULL);
}

static void test_bad_scripts(void)
{
    AcpiBuildTables *t = build(1, NULL);
    const char *names[2] = { ACPI_BUILD_TABLE_FILE, ACPI_BUILD_RSDP_FILE };
    g_autofree uint8_t *tables = g_memdup2(t->tables->data, t->tables->len);
    g_autofree uint8_t *rsdp = g_memdup2(t->rsdp->data, t->rsdp->len);
    uint8_t *files[2] = { tables, rsdp };
    size_t lens[2] = { t->tables->len, t->rsdp->len };
    uint64_t addrs[2] = { 0x10000, 0xe0000 };
    g_autoptr(GByteArray) s = g_byte_array_new();
    Error *err = NULL;

    /* Truncated script. */
    g_assert_false(bios_linker_loader_execute(t->linker->data, 100, 2, names, files, lens,
                                              addrs, &err));
    error_free(err);
    err = NULL;
    /* Every corruption of every command byte: an error or success, never a crash. */
    for (guint i = 0; i < t->linker->len; i++) {
        g_byte_array_set_size(s, 0);
        g_byte_array_append(s, t->linker->data, t->linker->len);
        s->data[i] ^= 0xa5;
        memcpy(tables, t->tables->data, lens[0]);
        memcpy(rsdp, t->rsdp->data, lens[1]);
        if (!bios_linker_loader_execute(s->data, s->len, 2, names, files, lens, addrs, &err)) {
            error_free(err);
            err = NULL;
        }
    }
    /* Pointer and checksum ranges past a file's end are refused. */
    {
        BIOSLinker *l = bios_linker_loader_init();
        bios_linker_loader_add_pointer(l, ACPI_BUILD_RSDP_FILE, 34, 4, ACPI_BUILD_TABLE_FILE);
        g_assert_false(bios_linker_loader_execute(l->cmd_blob->data, l->cmd_blob->len, 2,
                                                  names, files, lens, addrs, &err));
        error_free(err);
        err = NULL;
        bios_linker_loader_cleanup(l);
        l = bios_linker_loader_init();
        bios_linker_loader_add_checksum(l, ACPI_BUILD_RSDP_FILE, 30, 0xfffffff0, 8);
        g_assert_false(bios_linker_loader_execute(l->cmd_blob->data, l->cmd_blob->len, 2,
                                                  names, files, lens, addrs, &err));
        error_free(err);
        err = NULL;
        bios_linker_loader_cleanup(l);
        l = bios_linker_loader_init();
        bios_linker_loader_alloc(l, "etc/nonexistent", 16, false);
        g_assert_false(bios_linker_loader_execute(l->cmd_blob->data, l->cmd_blob->len, 2,
                                                  names, files, lens, addrs, &err));
        g_assert_nonnull(strstr(error_get_pretty(err), "unknown file"));
        error_free(err);
        bios_linker_loader_cleanup(l);
    }
    acpi_build_tables_free(t);
}

/* Run iasl -d on a table; its output must contain every string in want (NULL-terminated). */
static void iasl_check(const char *dir, const char *name, const uint8_t *table,
                       const char *const *want)
{
    g_autofree char *dat = g_strdup_printf("%s/%s.dat", dir, name);
    g_autofree char *dsl = g_strdup_printf("%s/%s.dsl", dir, name);
    g_autofree char *cmd = g_strdup_printf("iasl -d %s", dat);
    g_autofree char *out = NULL, *errout = NULL, *text = NULL;
    int status;

    g_assert_true(g_file_set_contents(dat, (const char *)table, ldl_le_p(table + 4), NULL));
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &errout, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strstr(out, "Error") ||
        strstr(errout, "rror")) {
        g_test_message("iasl -d %s:\n%s\n%s", name, out, errout);
        g_assert_not_reached();
    }
    g_assert_true(g_file_get_contents(dsl, &text, NULL, NULL));
    for (int i = 0; want[i]; i++) {
        if (!strstr(text, want[i])) {
            g_test_message("%s lacks \"%s\":\n%s", name, want[i], text);
            g_assert_not_reached();
        }
    }
    /* ACPICA reports checksum problems in the listing. */
    g_assert_null(strstr(text, "Incorrect checksum"));
    g_assert_null(strstr(text, "Invalid"));
}

static void test_iasl(void)
{
    g_autofree char *iasl = g_find_program_in_path("iasl");
    g_autofree char *dir = NULL;
    AcpiBuildTables *t;
    uint8_t *rsdp, *fadt;
    static const char *const dsdt_want[] = {
        "Name (\\_S5, Package (0x04)", "\"ACPI0007\"", "EisaId (\"PNP0303\")",
        "EisaId (\"PNP0F13\")", "IRQNoFlags ()", "{12}", "\"QEMU0002\"",
        "0x0C,               // Length", "Device (C001)", "EisaId (\"PNP0B00\")", "0x0070,", "{8}",
        "Device (COM1)", "EisaId (\"PNP0501\")", "0x02F8,", "{3}", NULL
    };
    static const char *const fadt_want[] = {
        "PM1A Event Block Address : 00000600", "PM Timer Block Address : 00000608",
        "SCI Interrupt : 0009", "Value to cause reset : 06", NULL
    };
    static const char *const madt_want[] = {
        "Local Apic Address : FEE00000", "Interrupt Source Override", "[Local APIC NMI]",
        "Address : FEC00000", NULL
    };
    static const char *const none[] = { NULL };

    if (!iasl) {
        g_test_skip("iasl not installed (Debian: acpica-tools)");
        return;
    }
    dir = g_dir_make_tmp("kite-acpi-XXXXXX", NULL);
    t = build(2, NULL);
    memset(ram(0), 0, HARNESS_RAM_SIZE);
    g_assert_true(acpi_install_direct(t, &harness_mem_as, TABLES_ADDR, RSDP_ADDR,
                                      &error_abort));
    rsdp = ram(RSDP_ADDR);
    fadt = find_table(rsdp, "FACP");
    iasl_check(dir, "dsdt", ram(ldl_le_p(fadt + 40)), dsdt_want);
    iasl_check(dir, "facp", fadt, fadt_want);
    iasl_check(dir, "apic", find_table(rsdp, "APIC"), madt_want);
    iasl_check(dir, "xsdt", ram(ldq_le_p(rsdp + 24)), none);
    iasl_check(dir, "rsdt", ram(ldl_le_p(rsdp + 16)), none);
    iasl_check(dir, "facs", ram(ldl_le_p(fadt + 36)), none);
    acpi_build_tables_free(t);
    {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *f;
        while ((f = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, f, NULL);
            g_unlink(p);
        }
        g_rmdir(dir);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    harness_init();
    kbd = harness_new(TYPE_I8042, NULL);
    harness_new(TYPE_MC146818_RTC, NULL);
    harness_new(TYPE_ISA_SERIAL, "index=1");
    fw = fw_cfg_init_io_dma(&harness_io_root, 0x510, 0x514, &harness_mem_as);
    g_test_add_func("/acpi/aml-encoding", test_aml_encoding);
    g_test_add_func("/acpi/direct-install", test_direct_install);
    g_test_add_func("/acpi/x2apic-ids", test_x2apic_ids);
    g_test_add_func("/acpi/fw-cfg-loader", test_fw_cfg_loader);
    g_test_add_func("/acpi/bad-scripts", test_bad_scripts);
    g_test_add_func("/acpi/iasl", test_iasl);
    return g_test_run();
}
