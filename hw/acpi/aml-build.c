/*
 * ACPI table building blocks: headers, checksums, AML encoding, the linker/loader script.
 * Section numbers are those of the ACPI Specification 6.4.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/acpi/aml-build.h"

/* ------------------------------------------------------------- tables */

void build_append_int_noprefix(GByteArray *blob, uint64_t value, int size)
{
    for (int i = 0; i < size; i++) {
        uint8_t b = i < 8 ? value >> (8 * i) : 0;     /* wide fields: zero padding */
        g_byte_array_append(blob, &b, 1);
    }
}

void build_append_bytes(GByteArray *blob, const void *data, size_t len)
{
    g_byte_array_append(blob, data, len);
}

void build_append_padded_str(GByteArray *blob, const char *s, size_t len, char pad)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < len; i++) {
        uint8_t c = i < n ? s[i] : pad;
        g_byte_array_append(blob, &c, 1);
    }
}

void build_append_gas(GByteArray *blob, uint8_t space, uint8_t bit_width, uint8_t bit_offset,
                      uint8_t access_size, uint64_t address)
{
    build_append_int_noprefix(blob, space, 1);
    build_append_int_noprefix(blob, bit_width, 1);
    build_append_int_noprefix(blob, bit_offset, 1);
    build_append_int_noprefix(blob, access_size, 1);
    build_append_int_noprefix(blob, address, 8);
}

/* §5.2.6 System Description Table Header. */
size_t acpi_table_begin(GByteArray *blob, const char *sig, uint8_t rev)
{
    size_t off = blob->len;

    g_assert(strlen(sig) == 4);
    build_append_padded_str(blob, sig, 4, ' ');
    build_append_int_noprefix(blob, 0, 4);                  /* Length, set by table_end */
    build_append_int_noprefix(blob, rev, 1);
    build_append_int_noprefix(blob, 0, 1);                  /* Checksum */
    build_append_padded_str(blob, ACPI_OEM_ID, 6, ' ');
    build_append_padded_str(blob, ACPI_OEM_TABLE_ID, 8, ' ');
    build_append_int_noprefix(blob, 1, 4);                  /* OEM Revision */
    build_append_padded_str(blob, ACPI_CREATOR_ID, 4, ' ');
    build_append_int_noprefix(blob, 1, 4);                  /* Creator Revision */
    return off;
}

uint32_t acpi_table_end(GByteArray *blob, size_t offset)
{
    uint32_t len = blob->len - offset;

    stl_le_p(blob->data + offset + 4, len);
    return len;
}

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++) {
        sum += data[i];
    }
    return -sum;
}

/* ---------------------------------------------------------------- AML */

typedef enum AmlBlockKind {
    AML_RAW,            /* bytes as they are */
    AML_PKG,            /* opcode, PkgLength, body */
    AML_EXT_PKG,        /* ExtOpPrefix, opcode, PkgLength, body */
    AML_RES_TEMPLATE,   /* BufferOp, PkgLength, BufferSize, descriptors, End Tag */
} AmlBlockKind;

struct Aml {
    AmlBlockKind kind;
    uint8_t op;
    GByteArray *buf;
};

/* §20.2.1 Table and Table Header Encoding / §20.2.3 Data Objects: opcodes used here. */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0a
#define AML_WORD_PREFIX     0x0b
#define AML_DWORD_PREFIX    0x0c
#define AML_STRING_PREFIX   0x0d
#define AML_QWORD_PREFIX    0x0e
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_METHOD_OP       0x14
#define AML_DUAL_NAME       0x2e
#define AML_MULTI_NAME      0x2f
#define AML_ROOT_CHAR       0x5c
#define AML_PARENT_CHAR     0x5e
#define AML_EXT_PREFIX      0x5b
#define AML_DEVICE_OP       0x82        /* after ExtOpPrefix */
#define AML_RETURN_OP       0xa4

static Aml *aml_alloc(AmlBlockKind kind, uint8_t op)
{
    Aml *a = g_new0(Aml, 1);

    a->kind = kind;
    a->op = op;
    a->buf = g_byte_array_new();
    return a;
}

void aml_free(Aml *aml)
{
    if (aml) {
        g_byte_array_free(aml->buf, true);
        g_free(aml);
    }
}

static void append_byte(GByteArray *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

/* §20.2.4 PkgLength: the encoded length counts its own bytes. */
static void append_pkglength(GByteArray *b, size_t body_len)
{
    size_t total;
    int nbytes;

    if (body_len + 1 <= 0x3f) {
        append_byte(b, body_len + 1);
        return;
    }
    if (body_len + 2 <= 0xfff) {
        nbytes = 2;
    } else if (body_len + 3 <= 0xfffff) {
        nbytes = 3;
    } else {
        g_assert(body_len + 4 <= 0xfffffff);
        nbytes = 4;
    }
    total = body_len + nbytes;
    append_byte(b, ((nbytes - 1) << 6) | (total & 0xf));
    for (int i = 1; i < nbytes; i++) {
        append_byte(b, total >> (4 + 8 * (i - 1)));
    }
}

/* §20.2.2 Name Objects Encoding: NameString from "\\_SB.PCI0", "^FOO", "_HID". */
static void append_namestring(GByteArray *b, const char *name)
{
    g_auto(GStrv) segs = NULL;
    int nsegs;

    while (*name == '\\' || *name == '^') {
        append_byte(b, *name == '\\' ? AML_ROOT_CHAR : AML_PARENT_CHAR);
        name++;
    }
    if (!*name) {
        append_byte(b, 0x00);                       /* NullName */
        return;
    }
    segs = g_strsplit(name, ".", -1);
    nsegs = g_strv_length(segs);
    if (nsegs == 2) {
        append_byte(b, AML_DUAL_NAME);
    } else if (nsegs > 2) {
        append_byte(b, AML_MULTI_NAME);
        append_byte(b, nsegs);
    }
    for (int i = 0; i < nsegs; i++) {
        size_t len = strlen(segs[i]);
        g_assert(len >= 1 && len <= 4);             /* a NameSeg is 4 characters */
        build_append_padded_str(b, segs[i], 4, '_');
    }
}

/* The final encoding of aml, appended to out; aml is consumed. */
static void aml_encode(GByteArray *out, Aml *aml)
{
    switch (aml->kind) {
    case AML_RAW:
        g_byte_array_append(out, aml->buf->data, aml->buf->len);
        break;
    case AML_PKG:
        append_byte(out, aml->op);
        append_pkglength(out, aml->buf->len);
        g_byte_array_append(out, aml->buf->data, aml->buf->len);
        break;
    case AML_EXT_PKG:
        append_byte(out, AML_EXT_PREFIX);
        append_byte(out, aml->op);
        append_pkglength(out, aml->buf->len);
        g_byte_array_append(out, aml->buf->data, aml->buf->len);
        break;
    case AML_RES_TEMPLATE: {
        /* §6.4.2.9 End Tag: checksum 0 means "treat as correct". */
        g_autoptr(GByteArray) body = g_byte_array_new();
        Aml *size;

        append_byte(aml->buf, 0x79);
        append_byte(aml->buf, 0x00);
        size = aml_int(aml->buf->len);
        aml_encode(body, size);
        g_byte_array_append(body, aml->buf->data, aml->buf->len);
        append_byte(out, AML_BUFFER_OP);
        append_pkglength(out, body->len);
        g_byte_array_append(out, body->data, body->len);
        break;
    }
    }
    aml_free(aml);
}

Aml *aml_append(Aml *parent, Aml *child)
{
    aml_encode(parent->buf, child);
    return parent;
}

void aml_to_blob(GByteArray *blob, Aml *aml)
{
    aml_encode(blob, aml);
}

/* §20.2.3 Data Objects Encoding: ComputationalData. */
Aml *aml_int(uint64_t v)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    if (v == 0) {
        append_byte(a->buf, AML_ZERO_OP);
    } else if (v == 1) {
        append_byte(a->buf, AML_ONE_OP);
    } else if (v <= 0xff) {
        append_byte(a->buf, AML_BYTE_PREFIX);
        build_append_int_noprefix(a->buf, v, 1);
    } else if (v <= 0xffff) {
        append_byte(a->buf, AML_WORD_PREFIX);
        build_append_int_noprefix(a->buf, v, 2);
    } else if (v <= 0xffffffff) {
        append_byte(a->buf, AML_DWORD_PREFIX);
        build_append_int_noprefix(a->buf, v, 4);
    } else {
        append_byte(a->buf, AML_QWORD_PREFIX);
        build_append_int_noprefix(a->buf, v, 8);
    }
    return a;
}

Aml *aml_string(const char *s)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, AML_STRING_PREFIX);
    g_byte_array_append(a->buf, (const uint8_t *)s, strlen(s) + 1);
    return a;
}

/*
 * §6.1.5 _HID: an EISA ID is three uppercase letters compressed to 5 bits each and four hex
 * digits, stored so that the bytes read in order are the big-endian 32-bit value.
 */
Aml *aml_eisaid(const char *id)
{
    Aml *a = aml_alloc(AML_RAW, 0);
    uint32_t v;

    g_assert(strlen(id) == 7);
    v = ((uint32_t)(id[0] - 0x40) << 26) | ((uint32_t)(id[1] - 0x40) << 21) |
        ((uint32_t)(id[2] - 0x40) << 16) | (uint32_t)strtoul(id + 3, NULL, 16);
    append_byte(a->buf, AML_DWORD_PREFIX);
    build_append_int_noprefix(a->buf, GUINT32_SWAP_LE_BE(v), 4);
    return a;
}

/* §20.2.5.1 Namespace Modifier Objects: DefName := NameOp NameString DataRefObject. */
Aml *aml_name_decl(const char *name, Aml *value)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, AML_NAME_OP);
    append_namestring(a->buf, name);
    aml_append(a, value);
    return a;
}

Aml *aml_name(const char *name)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_namestring(a->buf, name);
    return a;
}

Aml *aml_scope(const char *name)
{
    Aml *a = aml_alloc(AML_PKG, AML_SCOPE_OP);

    append_namestring(a->buf, name);
    return a;
}

/* §20.2.5.2 Named Objects: DefDevice := DeviceOp PkgLength NameString TermList. */
Aml *aml_device(const char *name)
{
    Aml *a = aml_alloc(AML_EXT_PKG, AML_DEVICE_OP);

    append_namestring(a->buf, name);
    return a;
}

/* DefMethod := MethodOp PkgLength NameString MethodFlags TermList. */
Aml *aml_method(const char *name, int nargs)
{
    Aml *a = aml_alloc(AML_PKG, AML_METHOD_OP);

    g_assert(nargs >= 0 && nargs <= 7);
    append_namestring(a->buf, name);
    append_byte(a->buf, nargs);                     /* NotSerialized, SyncLevel 0 */
    return a;
}

/* §20.2.5.3 Statement Opcodes: DefReturn := ReturnOp ArgObject. */
Aml *aml_return(Aml *value)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, AML_RETURN_OP);
    aml_append(a, value);
    return a;
}

/* §20.2.5.4 Expression Opcodes: DefPackage := PackageOp PkgLength NumElements ... */
Aml *aml_package(uint8_t num_elements)
{
    Aml *a = aml_alloc(AML_PKG, AML_PACKAGE_OP);

    append_byte(a->buf, num_elements);
    return a;
}

/* DefBuffer := BufferOp PkgLength BufferSize ByteList. */
Aml *aml_buffer(const uint8_t *data, size_t len)
{
    Aml *a = aml_alloc(AML_PKG, AML_BUFFER_OP);

    aml_append(a, aml_int(len));
    g_byte_array_append(a->buf, data, len);
    return a;
}

Aml *aml_resource_template(void)
{
    return aml_alloc(AML_RES_TEMPLATE, 0);
}

/* §6.4.2.5 I/O Port Descriptor: tag 0x47, Decode16, min, max, alignment, length. */
Aml *aml_io(uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, 0x47);
    append_byte(a->buf, 0x01);                      /* 16-bit address decode */
    build_append_int_noprefix(a->buf, min, 2);
    build_append_int_noprefix(a->buf, max, 2);
    append_byte(a->buf, align);
    append_byte(a->buf, len);
    return a;
}

/*
 * §6.4.3.5.2-3 WORD and DWORD Address Space Descriptors, as a host bridge produces them:
 * general flags MinFixed | MaxFixed (positive decode, producer), length max - min + 1.
 */
static Aml *word_space(uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, 0x88);
    build_append_int_noprefix(a->buf, 13, 2);       /* length of what follows */
    append_byte(a->buf, type);
    append_byte(a->buf, 0x0c);
    append_byte(a->buf, type_flags);
    build_append_int_noprefix(a->buf, 0, 2);        /* granularity */
    build_append_int_noprefix(a->buf, min, 2);
    build_append_int_noprefix(a->buf, max, 2);
    build_append_int_noprefix(a->buf, 0, 2);        /* translation offset */
    build_append_int_noprefix(a->buf, max - min + 1, 2);
    return a;
}

Aml *aml_word_bus_number(uint16_t min, uint16_t max)
{
    return word_space(2, 0, min, max);
}

Aml *aml_word_io(uint16_t min, uint16_t max)
{
    return word_space(1, 0x03, min, max);           /* ISA and non-ISA ranges */
}

Aml *aml_dword_memory(uint32_t min, uint32_t max, bool cacheable)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, 0x87);
    build_append_int_noprefix(a->buf, 23, 2);
    append_byte(a->buf, 0);                          /* memory range */
    append_byte(a->buf, 0x0c);
    append_byte(a->buf, 0x01 | (cacheable ? 0x02 : 0));   /* read-write */
    build_append_int_noprefix(a->buf, 0, 4);
    build_append_int_noprefix(a->buf, min, 4);
    build_append_int_noprefix(a->buf, max, 4);
    build_append_int_noprefix(a->buf, 0, 4);
    build_append_int_noprefix(a->buf, (uint64_t)max - min + 1, 4);
    return a;
}

/*
 * §6.4.3.5.1 QWord Address Space Descriptor, memory range: tag 0x8A, length 43, fixed
 * minimum and maximum, read-write; granularity and translation 0.
 */
Aml *aml_qword_memory(uint64_t min, uint64_t max, bool cacheable)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, 0x8a);
    build_append_int_noprefix(a->buf, 43, 2);
    append_byte(a->buf, 0);                          /* memory range */
    append_byte(a->buf, 0x0c);
    append_byte(a->buf, 0x01 | (cacheable ? 0x02 : 0));   /* read-write */
    build_append_int_noprefix(a->buf, 0, 8);
    build_append_int_noprefix(a->buf, min, 8);
    build_append_int_noprefix(a->buf, max, 8);
    build_append_int_noprefix(a->buf, 0, 8);
    build_append_int_noprefix(a->buf, max - min + 1, 8);
    return a;
}

/* §6.4.3.4 32-Bit Fixed Memory Range Descriptor: tag 0x86, length 9, info, base, length. */
Aml *aml_memory32_fixed(uint32_t base, uint32_t len, bool read_write)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    append_byte(a->buf, 0x86);
    build_append_int_noprefix(a->buf, 9, 2);
    append_byte(a->buf, read_write ? 1 : 0);
    build_append_int_noprefix(a->buf, base, 4);
    build_append_int_noprefix(a->buf, len, 4);
    return a;
}

/* §6.4.2.1 IRQ Descriptor, 2-byte form (edge, active high, exclusive): tag 0x22 + mask. */
Aml *aml_irq_no_flags(uint8_t irq)
{
    Aml *a = aml_alloc(AML_RAW, 0);

    g_assert(irq < 16);
    append_byte(a->buf, 0x22);
    build_append_int_noprefix(a->buf, 1u << irq, 2);
    return a;
}

Aml *aml_definition_block(void)
{
    return aml_alloc(AML_RAW, 0);
}

/* ------------------------------------------------- linker/loader script */

#define CMD_OFF 0
#define ARG_OFF 4

BIOSLinker *bios_linker_loader_init(void)
{
    BIOSLinker *l = g_new0(BIOSLinker, 1);

    l->cmd_blob = g_byte_array_new();
    return l;
}

void bios_linker_loader_cleanup(BIOSLinker *linker)
{
    g_byte_array_free(linker->cmd_blob, true);
    g_free(linker);
}

static uint8_t *linker_new_entry(BIOSLinker *linker, uint32_t command)
{
    size_t off = linker->cmd_blob->len;

    g_byte_array_set_size(linker->cmd_blob, off + BIOS_LINKER_ENTRY_SIZE);
    memset(linker->cmd_blob->data + off, 0, BIOS_LINKER_ENTRY_SIZE);
    stl_le_p(linker->cmd_blob->data + off + CMD_OFF, command);
    return linker->cmd_blob->data + off;
}

static void put_name(uint8_t *dst, const char *name)
{
    g_assert(strlen(name) < BIOS_LINKER_LOADER_FILESZ);
    memcpy(dst, name, strlen(name));
}

void bios_linker_loader_alloc(BIOSLinker *linker, const char *file, uint32_t align, bool fseg)
{
    uint8_t *e = linker_new_entry(linker, BIOS_LINKER_LOADER_COMMAND_ALLOCATE);

    g_assert(IS_POWER_OF_2(align));
    put_name(e + ARG_OFF, file);
    stl_le_p(e + ARG_OFF + 56, align);
    e[ARG_OFF + 60] = fseg ? BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG
                           : BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH;
}

void bios_linker_loader_add_pointer(BIOSLinker *linker, const char *dest_file,
                                    uint32_t dst_offset, uint8_t size, const char *src_file)
{
    uint8_t *e = linker_new_entry(linker, BIOS_LINKER_LOADER_COMMAND_ADD_POINTER);

    g_assert(size == 1 || size == 2 || size == 4 || size == 8);
    put_name(e + ARG_OFF, dest_file);
    put_name(e + ARG_OFF + 56, src_file);
    stl_le_p(e + ARG_OFF + 112, dst_offset);
    e[ARG_OFF + 116] = size;
}

void bios_linker_loader_add_checksum(BIOSLinker *linker, const char *file, uint32_t start,
                                     uint32_t len, uint32_t checksum_offset)
{
    uint8_t *e = linker_new_entry(linker, BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM);

    put_name(e + ARG_OFF, file);
    stl_le_p(e + ARG_OFF + 56, checksum_offset);
    stl_le_p(e + ARG_OFF + 60, start);
    stl_le_p(e + ARG_OFF + 64, len);
}

static int find_file(const uint8_t *field, int nfiles, const char *const *names, Error **errp)
{
    char name[BIOS_LINKER_LOADER_FILESZ + 1] = { 0 };

    memcpy(name, field, BIOS_LINKER_LOADER_FILESZ);
    for (int i = 0; i < nfiles; i++) {
        if (strcmp(names[i], name) == 0) {
            return i;
        }
    }
    error_setg(errp, "table-loader: unknown file '%s'", name);
    return -1;
}

bool bios_linker_loader_execute(const uint8_t *script, size_t script_len, int nfiles,
                                const char *const *names, uint8_t *const *files,
                                const size_t *lens, const uint64_t *addrs, Error **errp)
{
    if (script_len % BIOS_LINKER_ENTRY_SIZE) {
        error_setg(errp, "table-loader: script length %zu is not a multiple of %d",
                   script_len, BIOS_LINKER_ENTRY_SIZE);
        return false;
    }
    for (size_t off = 0; off < script_len; off += BIOS_LINKER_ENTRY_SIZE) {
        const uint8_t *e = script + off;
        uint32_t cmd = ldl_le_p(e + CMD_OFF);
        int f, src;

        switch (cmd) {
        case BIOS_LINKER_LOADER_COMMAND_ALLOCATE: {
            uint32_t align = ldl_le_p(e + ARG_OFF + 56);
            if ((f = find_file(e + ARG_OFF, nfiles, names, errp)) < 0) {
                return false;
            }
            if (!IS_POWER_OF_2(align) || addrs[f] % align) {
                error_setg(errp, "table-loader: '%s' at 0x%" PRIx64 " breaks alignment %u",
                           names[f], addrs[f], align);
                return false;
            }
            if (e[ARG_OFF + 60] == BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG &&
                (addrs[f] < 0xe0000 || addrs[f] + lens[f] > 0x100000)) {
                error_setg(errp, "table-loader: '%s' must be in 0xe0000-0xfffff", names[f]);
                return false;
            }
            break;
        }
        case BIOS_LINKER_LOADER_COMMAND_ADD_POINTER: {
            uint32_t dst_off = ldl_le_p(e + ARG_OFF + 112);
            uint8_t size = e[ARG_OFF + 116];
            uint64_t v;
            if ((f = find_file(e + ARG_OFF, nfiles, names, errp)) < 0 ||
                (src = find_file(e + ARG_OFF + 56, nfiles, names, errp)) < 0) {
                return false;
            }
            if ((size != 1 && size != 2 && size != 4 && size != 8) ||
                dst_off > lens[f] || size > lens[f] - dst_off) {
                error_setg(errp, "table-loader: bad pointer at %u size %u in '%s'", dst_off,
                           size, names[f]);
                return false;
            }
            v = ldn_le_p(files[f] + dst_off, size) + addrs[src];
            if (size < 8 && (v >> (8 * size))) {
                error_setg(errp, "table-loader: address 0x%" PRIx64 " does not fit %u bytes",
                           v, size);
                return false;
            }
            stn_le_p(files[f] + dst_off, size, v);
            break;
        }
        case BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM: {
            uint32_t cks = ldl_le_p(e + ARG_OFF + 56);
            uint32_t start = ldl_le_p(e + ARG_OFF + 60);
            uint32_t len = ldl_le_p(e + ARG_OFF + 64);
            if ((f = find_file(e + ARG_OFF, nfiles, names, errp)) < 0) {
                return false;
            }
            if (cks >= lens[f] || start > lens[f] || len > lens[f] - start) {
                error_setg(errp, "table-loader: bad checksum range in '%s'", names[f]);
                return false;
            }
            /* As firmware does: subtract the range's sum (the checksum byte starts at 0). */
            files[f][cks] += acpi_checksum(files[f] + start, len);
            break;
        }
        default:
            error_setg(errp, "table-loader: unknown command %u", cmd);
            return false;
        }
    }
    return true;
}
