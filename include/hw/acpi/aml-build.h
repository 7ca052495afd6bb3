/*
 * Building ACPI tables: system description table headers and checksums, a small AML
 * encoder (enough for a DSDT with devices, names, packages, resource templates and simple
 * methods), and the firmware linker/loader script ("etc/table-loader") that SeaBIOS and OVMF
 * execute to place the tables in guest memory and patch their pointers.
 *
 * AML terms are built bottom-up into Aml objects and appended to their parent:
 *
 *     Aml *dev = aml_device("COM1");
 *     aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0501")));
 *     aml_append(scope, dev);
 *
 * An Aml owns its children's bytes once appended (the child is consumed).  Encodings follow
 * the ACPI 6.4 specification, chapter 20 "ACPI Machine Language (AML) Specification", and
 * resource descriptors its section 6.4 "Resource Data Types for ACPI".
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ACPI_AML_BUILD_H
#define HW_ACPI_AML_BUILD_H

#include "kite/osdep.h"
#include "kite/error.h"

/* QEMU's ids (its tables say BOCHS/BXPC), which guests use to recognise the platform. */
#define ACPI_OEM_ID "BOCHS "          /* 6 characters */
#define ACPI_OEM_TABLE_ID "BXPC    "  /* 8 characters */
#define ACPI_CREATOR_ID "BXPC"
#define ACPI_TABLE_HEADER_SIZE 36

/* --- tables --- */

/* Append a 36-byte header (ACPI 6.4 §5.2.6); length and checksum are filled by table_end. */
size_t acpi_table_begin(GByteArray *blob, const char *sig, uint8_t rev);
/* Set the length of the table started at offset; returns it.  The checksum byte stays 0:
 * the loader (or acpi_table_checksum) fills it after pointers are patched. */
uint32_t acpi_table_end(GByteArray *blob, size_t offset);
/* The byte that makes [data, data + len) sum to zero when stored in a zero byte inside it. */
uint8_t acpi_checksum(const uint8_t *data, size_t len);

void build_append_int_noprefix(GByteArray *blob, uint64_t value, int size);
void build_append_bytes(GByteArray *blob, const void *data, size_t len);
void build_append_padded_str(GByteArray *blob, const char *s, size_t len, char pad);
/* Generic Address Structure (ACPI 6.4 §5.2.3.2). */
#define AML_AS_SYSTEM_MEMORY 0
#define AML_AS_SYSTEM_IO 1
void build_append_gas(GByteArray *blob, uint8_t space, uint8_t bit_width, uint8_t bit_offset,
                      uint8_t access_size, uint64_t address);

/* --- AML --- */
typedef struct Aml Aml;

Aml *aml_int(uint64_t v);                       /* shortest Integer encoding */
Aml *aml_string(const char *s);
Aml *aml_eisaid(const char *id);                /* "PNP0501" compressed to a DWord */
Aml *aml_name_decl(const char *name, Aml *value);     /* Name(NAME, value) */
Aml *aml_name(const char *name);                /* a reference to NAME */
Aml *aml_scope(const char *name);
Aml *aml_device(const char *name);
/* Method(NAME, nargs, NotSerialized) { body appended later } */
Aml *aml_method(const char *name, int nargs);
Aml *aml_return(Aml *value);
Aml *aml_package(uint8_t num_elements);         /* elements appended later */
Aml *aml_buffer(const uint8_t *data, size_t len);
/* ResourceTemplate() { descriptors appended later }: a Buffer ending with an End Tag. */
Aml *aml_resource_template(void);
/* IO(Decode16, min, max, align, len) (§6.4.2.5) and IRQNoFlags(){irq} (§6.4.2.1). */
Aml *aml_io(uint16_t min, uint16_t max, uint8_t align, uint8_t len);
Aml *aml_irq_no_flags(uint8_t irq);
/* Address space descriptors a host bridge's _CRS produces (§6.4.3.5). */
Aml *aml_word_bus_number(uint16_t min, uint16_t max);
Aml *aml_word_io(uint16_t min, uint16_t max);
Aml *aml_dword_memory(uint32_t min, uint32_t max, bool cacheable);
Aml *aml_qword_memory(uint64_t min, uint64_t max, bool cacheable);
Aml *aml_memory32_fixed(uint32_t base, uint32_t len, bool read_write);

/* Append child to parent (consuming child); returns parent. */
Aml *aml_append(Aml *parent, Aml *child);
/* A DefinitionBlock body: the AML bytes go after a table header. */
Aml *aml_definition_block(void);
/* Encode aml (consumed) at the end of blob. */
void aml_to_blob(GByteArray *blob, Aml *aml);
void aml_free(Aml *aml);

/* --- the firmware linker/loader script (QEMU hw/acpi/bios-linker-loader.c ABI) --- */
#define BIOS_LINKER_LOADER_FILESZ 56
#define BIOS_LINKER_ENTRY_SIZE 128
enum {
    BIOS_LINKER_LOADER_COMMAND_ALLOCATE = 1,
    BIOS_LINKER_LOADER_COMMAND_ADD_POINTER = 2,
    BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM = 3,
};
enum {
    BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH = 1,
    BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG = 2,     /* 0xe0000-0xfffff */
};

typedef struct BIOSLinker {
    GByteArray *cmd_blob;        /* the "etc/table-loader" file: 128-byte commands */
} BIOSLinker;

BIOSLinker *bios_linker_loader_init(void);
void bios_linker_loader_cleanup(BIOSLinker *linker);
void bios_linker_loader_alloc(BIOSLinker *linker, const char *file, uint32_t align, bool fseg);
/* dest_file[dst_offset..+size] (which holds an offset into src_file) += src_file's address. */
void bios_linker_loader_add_pointer(BIOSLinker *linker, const char *dest_file,
                                    uint32_t dst_offset, uint8_t size, const char *src_file);
/* file[checksum_offset] -= sum of file[start..start+len). */
void bios_linker_loader_add_checksum(BIOSLinker *linker, const char *file, uint32_t start,
                                     uint32_t len, uint32_t checksum_offset);

/*
 * Run a loader script the way firmware does: files[i] (named names[i], lengths lens[i]) are
 * placed at the addresses the caller chose (addrs[i]), pointers patched, checksums computed,
 * all in the caller's buffers.  Every command is bounds-checked; false with an error for a
 * malformed script, an unknown file, or an address that does not fit the pointer size.
 */
bool bios_linker_loader_execute(const uint8_t *script, size_t script_len, int nfiles,
                                const char *const *names, uint8_t *const *files,
                                const size_t *lens, const uint64_t *addrs, Error **errp);

#endif
