/*
 * fw_cfg: QEMU's firmware configuration interface, I/O port variant with DMA.
 *
 * ABI: QEMU docs/specs/fw_cfg.rst ("QEMU Firmware Configuration (fw_cfg) Device").
 *   - selector register: 16-bit write at iobase (little-endian on I/O ports);
 *   - data register: 8-bit at iobase + 1, reading the selected item's bytes in order, zero
 *     past the end; data writes are ignored (fw_cfg.rst: "As of QEMU v2.4, writes to the
 *     fw_cfg data register are no longer supported");
 *   - DMA address register: 64-bit big-endian at dma_iobase; a write of the low half (offset
 *     4), or an 8-byte write at offset 0, starts the transfer described by the FWCfgDmaAccess
 *     at that guest address; reading it returns "QEMU CFG".
 * Not emulated: the MMIO variant (ARM), writable items through the legacy data port.
 *
 * DMA only ever touches guest RAM found through the memory API: a descriptor or buffer that
 * is not entirely RAM (MMIO, unassigned, ROM for writes, an address range that wraps) ends the
 * transfer with the error bit, never a host access outside guest memory.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/nvram/fw_cfg.h"
#include "hw/sysbus.h"
#include "kite/log.h"

#define FW_CFG_SIG_SIZE 4
#define FW_CFG_DIR_ENTRY_SIZE 64
KITE_BUILD_BUG_ON(sizeof(FWCfgFile) != FW_CFG_DIR_ENTRY_SIZE);
KITE_BUILD_BUG_ON(sizeof(FWCfgDmaAccess) != 16);

typedef struct FWCfgEntry {
    uint8_t *data;                /* owned copy, NULL for an absent item */
    uint32_t len;
    bool allow_write;             /* writable through DMA */
    FWCfgCallback *select_cb;
    FWCfgWriteCallback *write_cb;
    void *opaque;
} FWCfgEntry;

struct FWCfgState {
    DeviceState parent_obj;

    /* Properties. */
    uint32_t iobase;
    uint32_t dma_iobase;
    bool dma_enabled;
    uint16_t file_slots;

    /* Wiring, set before realize (fw_cfg_init_io_dma). */
    MemoryRegion *io_space;
    AddressSpace *dma_as;

    MemoryRegion comb_io;         /* selector + data, 2 ports */
    MemoryRegion dma_io;          /* DMA address register, 8 ports */
    FWCfgEntry *entries[2];       /* [generic, arch-local][key & FW_CFG_ENTRY_MASK] */
    uint8_t *dir;                 /* FW_CFG_FILE_DIR: be32 count + FWCfgFile[file_slots] */
    uint32_t file_count;

    /* Guest-visible state. */
    uint16_t cur_entry;
    uint32_t cur_offset;
    uint64_t dma_addr;
};

static FWCfgState *FW_CFG(const void *obj)
{
    return OBJECT_CHECK(FWCfgState, obj, TYPE_FW_CFG);
}

/* Exclusive limit of the index part of a key. */
static uint32_t fw_cfg_max_entry(const FWCfgState *s)
{
    return FW_CFG_FILE_FIRST + s->file_slots;
}

/* The entry for key, or NULL when the key lies outside the table. */
static FWCfgEntry *fw_cfg_entry(FWCfgState *s, uint16_t key)
{
    unsigned idx = key & FW_CFG_ENTRY_MASK;

    if (key == FW_CFG_INVALID || idx >= fw_cfg_max_entry(s)) {
        return NULL;
    }
    return &s->entries[!!(key & FW_CFG_ARCH_LOCAL)][idx];
}

/* fw_cfg.rst "Selector (Control) Register": selecting resets the data offset to zero. */
static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    FWCfgEntry *e;

    s->cur_offset = 0;
    e = fw_cfg_entry(s, key);
    if (!e) {
        s->cur_entry = FW_CFG_INVALID;
    } else {
        s->cur_entry = key;
        if (e->select_cb) {
            e->select_cb(e->opaque);
        }
    }
    kite_trace("fw_cfg_select", "key=0x%04x%s", key, e ? "" : " (invalid)");
}

/* fw_cfg.rst "Data Register": the next byte of the item, 0x00 past its end. */
static uint8_t fw_cfg_read_byte(FWCfgState *s)
{
    FWCfgEntry *e = fw_cfg_entry(s, s->cur_entry);

    if (!e || !e->data || s->cur_offset >= e->len) {
        return 0;
    }
    return e->data[s->cur_offset++];
}

static uint64_t fw_cfg_comb_read(void *opaque, hwaddr addr, unsigned size)
{
    FWCfgState *s = opaque;

    if (size != 1) {
        /* QEMU accepts only byte reads here; wider ones are not decoded. */
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: %u-byte read of port 0x%x", size,
                      (unsigned)(s->iobase + addr));
        return UINT64_MAX;
    }
    return fw_cfg_read_byte(s);
}

static void fw_cfg_comb_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;

    if (size == 2 && addr == 0) {
        fw_cfg_select(s, val);
    } else if (size == 1) {
        /* Data register writes are no-ops since QEMU 2.4 (fw_cfg.rst, NOTE). */
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: ignored write 0x%02x to the data register",
                      (unsigned)val);
    } else {
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: %u-byte write at offset %u", size,
                      (unsigned)addr);
    }
}

static const MemoryRegionOps fw_cfg_comb_ops = {
    .read = fw_cfg_comb_read,
    .write = fw_cfg_comb_write,
    .valid = { .min_access_size = 1, .max_access_size = 2 },
    .impl = { .min_access_size = 1, .max_access_size = 2 },
};

/*
 * Copy between buf and guest RAM at [addr, addr + len).  buf NULL with to_guest fills with
 * zeros.  Only RAM is accessed (written RAM is marked dirty); false on anything else.
 */
static bool fw_cfg_dma_rw(FWCfgState *s, uint64_t addr, void *buf, uint64_t len,
                          bool to_guest)
{
    uint8_t *p = buf;

    if (len && addr + len - 1 < addr) {
        return false;                                  /* wraps around 2^64 */
    }
    while (len) {
        hwaddr l = len;
        uint8_t *host = address_space_map(s->dma_as, addr, &l, to_guest);

        if (!host || l == 0) {
            return false;
        }
        if (!to_guest) {
            memcpy(p, host, l);
        } else if (p) {
            memcpy(host, p, l);
        } else {
            memset(host, 0, l);
        }
        address_space_unmap(s->dma_as, host, l, to_guest, l);
        addr += l;
        len -= l;
        if (p) {
            p += l;
        }
    }
    return true;
}

static void fw_cfg_dma_set_control(FWCfgState *s, uint64_t desc, uint32_t control)
{
    uint32_t be = GUINT32_TO_BE(control);

    if (!fw_cfg_dma_rw(s, desc + offsetof(FWCfgDmaAccess, control), &be, sizeof(be), true)) {
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: DMA descriptor at 0x%" PRIx64
                      " is not writable RAM", desc);
    }
}

/* fw_cfg.rst "Guest-side DMA Interface". */
static void fw_cfg_dma_transfer(FWCfgState *s)
{
    uint64_t desc = s->dma_addr;
    FWCfgDmaAccess dma;
    uint32_t control, length;
    uint64_t address;
    bool read = false, write = false;
    FWCfgEntry *e;

    /* "The value for the register is 0 at startup and after an operation." */
    s->dma_addr = 0;

    if (!fw_cfg_dma_rw(s, desc, &dma, sizeof(dma), false)) {
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: DMA descriptor at 0x%" PRIx64
                      " is not in RAM", desc);
        fw_cfg_dma_set_control(s, desc, FW_CFG_DMA_CTL_ERROR);
        return;
    }
    control = GUINT32_FROM_BE(dma.control);
    length = GUINT32_FROM_BE(dma.length);
    address = GUINT64_FROM_BE(dma.address);
    kite_trace("fw_cfg_dma", "desc=0x%" PRIx64 " control=0x%x len=%u addr=0x%" PRIx64,
               desc, control, length, address);

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    /* Read wins over write, write over skip; none of them means no transfer. */
    if (control & FW_CFG_DMA_CTL_READ) {
        read = true;
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        write = true;
    } else if (!(control & FW_CFG_DMA_CTL_SKIP)) {
        length = 0;
    }

    e = fw_cfg_entry(s, s->cur_entry);
    control = 0;
    while (length > 0 && !(control & FW_CFG_DMA_CTL_ERROR)) {
        uint32_t len;

        if (!e || !e->data || s->cur_offset >= e->len) {
            /* Past the item: reads produce zeros, writes are errors, skips just advance. */
            len = length;
            if (read && !fw_cfg_dma_rw(s, address, NULL, len, true)) {
                control |= FW_CFG_DMA_CTL_ERROR;
            }
            if (write) {
                control |= FW_CFG_DMA_CTL_ERROR;
            }
        } else {
            len = MIN(length, e->len - s->cur_offset);
            if (read && !fw_cfg_dma_rw(s, address, e->data + s->cur_offset, len, true)) {
                control |= FW_CFG_DMA_CTL_ERROR;
            }
            if (write) {
                /*
                 * fw_cfg.rst: writes may neither start nor finish beyond the item ("cannot
                 * be resized"), truncated writes are dropped, read-only items refuse them.
                 */
                if (!e->allow_write || len != length ||
                    !fw_cfg_dma_rw(s, address, e->data + s->cur_offset, len, false)) {
                    control |= FW_CFG_DMA_CTL_ERROR;
                } else if (e->write_cb) {
                    e->write_cb(e->opaque, s->cur_offset, len);
                }
            }
            s->cur_offset += len;
        }
        address += len;
        length -= len;
    }
    fw_cfg_dma_set_control(s, desc, control);
}

static uint64_t fw_cfg_dma_read(void *opaque, hwaddr addr, unsigned size)
{
    /* The big-endian signature "QEMU CFG": byte i of the register is character i. */
    static const char sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

    return ldn_le_p(sig + addr, size);
}

static void fw_cfg_dma_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;

    /* The register is big-endian: the guest's first byte is the most significant one. */
    if (size == 4 && addr == 0) {
        s->dma_addr = (uint64_t)GUINT32_SWAP_LE_BE((uint32_t)val) << 32;
    } else if (size == 4 && addr == 4) {
        s->dma_addr |= GUINT32_SWAP_LE_BE((uint32_t)val);
        fw_cfg_dma_transfer(s);
    } else if (size == 8 && addr == 0) {
        s->dma_addr = GUINT64_SWAP_LE_BE(val);
        fw_cfg_dma_transfer(s);
    } else {
        kite_log_mask(LOG_GUEST_ERROR, "fw_cfg: %u-byte DMA register write at offset %u",
                      size, (unsigned)addr);
    }
}

static const MemoryRegionOps fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ------------------------------------------------------------------ items */

static void fw_cfg_set_entry(FWCfgState *s, uint16_t key, const void *data, size_t len,
                             bool replace)
{
    FWCfgEntry *e;

    g_assert((key & FW_CFG_ENTRY_MASK) < fw_cfg_max_entry(s) && len < UINT32_MAX);
    e = fw_cfg_entry(s, key & ~FW_CFG_WRITE_CHANNEL);
    g_assert(replace || !e->data);     /* two users of one key is a board bug */
    g_free(e->data);
    /* Keep a non-NULL pointer even for empty items, so "present" is data != NULL. */
    e->data = len ? g_memdup2(data, len) : g_malloc0(1);
    e->len = len;
}

void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    fw_cfg_set_entry(s, key, data, len, false);
}

void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value)
{
    fw_cfg_add_bytes(s, key, value, strlen(value) + 1);
}

void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint16_t le = GUINT16_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint32_t le = GUINT32_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint64_t le = GUINT64_TO_LE(value);
    fw_cfg_add_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_modify_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    fw_cfg_set_entry(s, key, data, len, true);
}

void fw_cfg_modify_string(FWCfgState *s, uint16_t key, const char *value)
{
    fw_cfg_modify_bytes(s, key, value, strlen(value) + 1);
}

void fw_cfg_modify_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint16_t le = GUINT16_TO_LE(value);
    fw_cfg_modify_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_modify_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint32_t le = GUINT32_TO_LE(value);
    fw_cfg_modify_bytes(s, key, &le, sizeof(le));
}

void fw_cfg_modify_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint64_t le = GUINT64_TO_LE(value);
    fw_cfg_modify_bytes(s, key, &le, sizeof(le));
}

/* ------------------------------------------------------------------ files */

static FWCfgFile *fw_cfg_dir_entry(FWCfgState *s, uint32_t i)
{
    return (FWCfgFile *)(s->dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE);
}

uint16_t fw_cfg_file_key(FWCfgState *s, const char *filename)
{
    for (uint32_t i = 0; i < s->file_count; i++) {
        FWCfgFile *f = fw_cfg_dir_entry(s, i);
        if (strncmp(f->name, filename, FW_CFG_MAX_FILE_PATH) == 0) {
            return FW_CFG_FILE_FIRST + i;
        }
    }
    return FW_CFG_INVALID;
}

static bool fw_cfg_check_file(FWCfgState *s, const char *filename, Error **errp)
{
    if (strlen(filename) >= FW_CFG_MAX_FILE_PATH) {
        error_setg(errp, "fw_cfg file name '%s' is longer than %d characters", filename,
                   FW_CFG_MAX_FILE_PATH - 1);
        return false;
    }
    if (fw_cfg_file_key(s, filename) != FW_CFG_INVALID) {
        error_setg(errp, "duplicate fw_cfg file name '%s'", filename);
        return false;
    }
    if (s->file_count >= s->file_slots) {
        error_setg(errp, "fw_cfg: no free file slot for '%s' (x-file-slots=%u)", filename,
                   s->file_slots);
        return false;
    }
    return true;
}

static void fw_cfg_add_file_internal(FWCfgState *s, const char *filename,
                                     FWCfgCallback *select_cb, FWCfgWriteCallback *write_cb,
                                     void *opaque, const void *data, size_t len,
                                     bool read_only)
{
    uint32_t i = s->file_count++;
    uint16_t key = FW_CFG_FILE_FIRST + i;
    FWCfgFile *f = fw_cfg_dir_entry(s, i);
    FWCfgEntry *e;

    fw_cfg_add_bytes(s, key, data, len);
    e = fw_cfg_entry(s, key);
    e->select_cb = select_cb;
    e->write_cb = write_cb;
    e->opaque = opaque;
    e->allow_write = !read_only;

    memset(f, 0, sizeof(*f));
    f->size = GUINT32_TO_BE((uint32_t)len);
    f->select = GUINT16_TO_BE(key);
    g_strlcpy(f->name, filename, sizeof(f->name));
    stl_le_p(s->dir, GUINT32_TO_BE(s->file_count));
    fw_cfg_entry(s, FW_CFG_FILE_DIR)->len = 4 + s->file_count * FW_CFG_DIR_ENTRY_SIZE;
}

void fw_cfg_add_file_callback(FWCfgState *s, const char *filename, FWCfgCallback *select_cb,
                              FWCfgWriteCallback *write_cb, void *opaque,
                              const void *data, size_t len, bool read_only)
{
    Error *err = NULL;

    if (!fw_cfg_check_file(s, filename, &err)) {
        error_report("%s", error_get_pretty(err));   /* a board bug: two users of a name */
        abort();
    }
    fw_cfg_add_file_internal(s, filename, select_cb, write_cb, opaque, data, len, read_only);
}

void fw_cfg_add_file(FWCfgState *s, const char *filename, const void *data, size_t len)
{
    fw_cfg_add_file_callback(s, filename, NULL, NULL, NULL, data, len, true);
}

bool fw_cfg_add_user_file(FWCfgState *s, const char *filename, const void *data, size_t len,
                          Error **errp)
{
    if (!fw_cfg_check_file(s, filename, errp)) {
        return false;
    }
    if (strncmp(filename, "opt/", 4) != 0) {
        /* fw_cfg.rst "Externally Provided Items": names outside opt/ are unsupported. */
        warn_report("externally provided fw_cfg item names should be prefixed with \"opt/\"");
    }
    fw_cfg_add_file_internal(s, filename, NULL, NULL, NULL, data, len, true);
    return true;
}

void fw_cfg_modify_file(FWCfgState *s, const char *filename, const void *data, size_t len)
{
    uint16_t key = fw_cfg_file_key(s, filename);
    FWCfgEntry *e;

    if (key == FW_CFG_INVALID) {
        fw_cfg_add_file(s, filename, data, len);
        return;
    }
    e = fw_cfg_entry(s, key);
    g_assert(len < UINT32_MAX);
    g_free(e->data);
    e->data = len ? g_memdup2(data, len) : g_malloc0(1);
    e->len = len;
    fw_cfg_dir_entry(s, key - FW_CFG_FILE_FIRST)->size = GUINT32_TO_BE((uint32_t)len);
}

const void *fw_cfg_get_file(FWCfgState *s, const char *filename, size_t *len)
{
    uint16_t key = fw_cfg_file_key(s, filename);
    FWCfgEntry *e = key == FW_CFG_INVALID ? NULL : fw_cfg_entry(s, key);

    if (!e) {
        return NULL;
    }
    *len = e->len;
    return e->data;
}

/* ------------------------------------------------------------ lifecycle */

static void fw_cfg_reset(DeviceState *dev)
{
    FWCfgState *s = FW_CFG(dev);

    /* Power-on: the signature is selected, the DMA address register reads back 0. */
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_addr = 0;
}

static void fw_cfg_io_realize(DeviceState *dev, Error **errp)
{
    FWCfgState *s = FW_CFG(dev);
    FWCfgEntry *dir;
    uint8_t uuid[16] = { 0 };
    uint32_t boot_fail_wait = GUINT32_TO_LE(UINT32_MAX);

    if (s->file_slots < FW_CFG_FILE_SLOTS_MIN || s->file_slots > 0x1000) {
        error_setg(errp, "x-file-slots must be between %d and %d", FW_CFG_FILE_SLOTS_MIN,
                   0x1000);
        return;
    }
    if (s->iobase > 0xfffe || (s->dma_enabled && s->dma_iobase > 0xfff8)) {
        error_setg(errp, "fw_cfg: I/O base out of range");
        return;
    }
    if (!s->io_space) {
        s->io_space = get_system_io();
    }
    if (!s->dma_as) {
        s->dma_as = &address_space_memory;
    }
    s->entries[0] = g_new0(FWCfgEntry, fw_cfg_max_entry(s));
    s->entries[1] = g_new0(FWCfgEntry, fw_cfg_max_entry(s));
    s->file_count = 0;

    /* Items every fw_cfg has (QEMU fw_cfg_common_realize). */
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", FW_CFG_SIG_SIZE);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | (s->dma_enabled ? FW_CFG_VERSION_DMA : 0));
    fw_cfg_add_bytes(s, FW_CFG_UUID, uuid, sizeof(uuid));
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, 0);
    /* The directory: a big-endian count then 64-byte entries, grown as files are added. */
    s->dir = g_malloc0(4 + (size_t)s->file_slots * FW_CFG_DIR_ENTRY_SIZE);
    dir = fw_cfg_entry(s, FW_CFG_FILE_DIR);
    dir->data = s->dir;
    dir->len = 4;
    /* SeaBIOS reboots this many ms after a failed boot; -1 (QEMU's default) never. */
    fw_cfg_add_file(s, "etc/boot-fail-wait", &boot_fail_wait, sizeof(boot_fail_wait));

    memory_region_init_io(&s->comb_io, OBJECT(s), &fw_cfg_comb_ops, s, "fwcfg", 2);
    memory_region_add_subregion(s->io_space, s->iobase, &s->comb_io);
    if (s->dma_enabled) {
        memory_region_init_io(&s->dma_io, OBJECT(s), &fw_cfg_dma_ops, s, "fwcfg.dma", 8);
        memory_region_add_subregion(s->io_space, s->dma_iobase, &s->dma_io);
    }
    fw_cfg_reset(dev);
}

static void fw_cfg_io_unrealize(DeviceState *dev)
{
    FWCfgState *s = FW_CFG(dev);

    memory_region_del_subregion(s->io_space, &s->comb_io);
    memory_region_destroy(&s->comb_io);
    if (s->dma_enabled) {
        memory_region_del_subregion(s->io_space, &s->dma_io);
        memory_region_destroy(&s->dma_io);
    }
    for (int arch = 0; arch < 2; arch++) {
        for (uint32_t i = 0; i < fw_cfg_max_entry(s); i++) {
            g_free(s->entries[arch][i].data);      /* the directory's data is s->dir */
        }
        g_free(s->entries[arch]);
        s->entries[arch] = NULL;
    }
    s->dir = NULL;
    s->file_count = 0;
}

static bool fw_cfg_dma_needed(void *opaque)
{
    return FW_CFG(opaque)->dma_enabled;
}

static const VMStateDescription vmstate_fw_cfg_dma = {
    .name = "fw_cfg/dma", .version_id = 1, .minimum_version_id = 1,
    .needed = fw_cfg_dma_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(dma_addr, FWCfgState),
        VMSTATE_END_OF_LIST()
    },
};

static int fw_cfg_post_load(void *opaque, int version_id)
{
    FWCfgState *s = opaque;

    /* A stream may name a key this machine does not have: treat it as invalid. */
    if (!fw_cfg_entry(s, s->cur_entry)) {
        s->cur_entry = FW_CFG_INVALID;
    }
    return 0;
}

static const VMStateDescription vmstate_fw_cfg = {
    .name = "fw_cfg", .version_id = 2, .minimum_version_id = 2,
    .post_load = fw_cfg_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(cur_entry, FWCfgState),
        VMSTATE_UINT32(cur_offset, FWCfgState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) { &vmstate_fw_cfg_dma, NULL },
};

static const Property fw_cfg_io_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", FWCfgState, iobase, FW_CFG_IO_BASE, 0, 0xfffe),
    DEFINE_PROP_UINT32_RANGE("dma_iobase", FWCfgState, dma_iobase, FW_CFG_IO_BASE + 4,
                             0, 0xfff8),
    DEFINE_PROP_BOOL("dma_enabled", FWCfgState, dma_enabled, true),
    DEFINE_PROP_UINT16("x-file-slots", FWCfgState, file_slots, FW_CFG_FILE_SLOTS_DFLT),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo fw_cfg_type = {
    .name = TYPE_FW_CFG,
    .parent = TYPE_SYS_BUS_DEVICE,
    .abstract = true,
    .instance_size = sizeof(FWCfgState),
    .reset = fw_cfg_reset,
    .vmsd = &vmstate_fw_cfg,
};
KITE_TYPE_REGISTER(fw_cfg_type)

static const TypeInfo fw_cfg_io_type = {
    .name = TYPE_FW_CFG_IO,
    .parent = TYPE_FW_CFG,
    .desc = "QEMU firmware configuration interface (I/O ports 0x510/0x511, DMA 0x514)",
    .realize = fw_cfg_io_realize,
    .unrealize = fw_cfg_io_unrealize,
    .props = fw_cfg_io_props,
};
KITE_TYPE_REGISTER(fw_cfg_io_type)

FWCfgState *fw_cfg_init_io_dma(MemoryRegion *io, uint16_t iobase, uint16_t dma_iobase,
                               AddressSpace *dma_as)
{
    DeviceState *dev = qdev_new(TYPE_FW_CFG_IO);
    FWCfgState *s = FW_CFG(dev);

    object_property_set_uint(OBJECT(dev), "iobase", iobase, &error_abort);
    if (dma_iobase) {
        object_property_set_uint(OBJECT(dev), "dma_iobase", dma_iobase, &error_abort);
    } else {
        object_property_set_bool(OBJECT(dev), "dma_enabled", false, &error_abort);
    }
    s->io_space = io;
    s->dma_as = dma_as;
    object_property_add_child(qdev_get_machine(), TYPE_FW_CFG, OBJECT(dev), &error_abort);
    sysbus_realize_and_unref(dev, &error_fatal);
    return s;
}

FWCfgState *fw_cfg_find(void)
{
    Object *o = object_resolve_path_type("/machine/" TYPE_FW_CFG, TYPE_FW_CFG, NULL);

    return o ? FW_CFG(o) : NULL;
}
