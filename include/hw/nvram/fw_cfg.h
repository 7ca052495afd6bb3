/*
 * QEMU's firmware configuration device (fw_cfg): the board publishes blobs (RAM size, CPU
 * count, kernel, ACPI tables, e820 map, boot order) that firmware such as SeaBIOS reads back
 * through two I/O ports or a DMA descriptor.  The guest ABI is QEMU's docs/specs/fw_cfg.rst;
 * Kite keeps it bit for bit so SeaBIOS and Linux's qemu_fw_cfg driver work unchanged.
 *
 * Board usage:
 *
 *     FWCfgState *fw = fw_cfg_init_io_dma(NULL, FW_CFG_IO_BASE, FW_CFG_IO_BASE + 4,
 *                                         &address_space_memory);
 *     fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, ram_size);
 *     fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, smp_cpus);
 *     fw_cfg_add_file(fw, "etc/e820", e820, n * sizeof(struct e820 entry));
 *
 * Items are copied when added; the device owns its copies.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NVRAM_FW_CFG_H
#define HW_NVRAM_FW_CFG_H

#include "hw/qdev.h"
#include "kite/memory.h"

#define TYPE_FW_CFG "fw_cfg"
#define TYPE_FW_CFG_IO "fw_cfg_io"

#define FW_CFG_IO_BASE 0x510          /* selector; data at +1, DMA address at +4 */

/* Selector keys of the "well-known" items (fw_cfg.rst, and QEMU's fw_cfg_keys.h). */
#define FW_CFG_SIGNATURE        0x00
#define FW_CFG_ID               0x01
#define FW_CFG_UUID             0x02
#define FW_CFG_RAM_SIZE         0x03
#define FW_CFG_NOGRAPHIC        0x04
#define FW_CFG_NB_CPUS          0x05
#define FW_CFG_MACHINE_ID       0x06
#define FW_CFG_KERNEL_ADDR      0x07
#define FW_CFG_KERNEL_SIZE      0x08
#define FW_CFG_KERNEL_CMDLINE   0x09
#define FW_CFG_INITRD_ADDR      0x0a
#define FW_CFG_INITRD_SIZE      0x0b
#define FW_CFG_BOOT_DEVICE      0x0c
#define FW_CFG_NUMA             0x0d
#define FW_CFG_BOOT_MENU        0x0e
#define FW_CFG_MAX_CPUS         0x0f
#define FW_CFG_KERNEL_ENTRY     0x10
#define FW_CFG_KERNEL_DATA      0x11
#define FW_CFG_INITRD_DATA      0x12
#define FW_CFG_CMDLINE_ADDR     0x13
#define FW_CFG_CMDLINE_SIZE     0x14
#define FW_CFG_CMDLINE_DATA     0x15
#define FW_CFG_SETUP_ADDR       0x16
#define FW_CFG_SETUP_SIZE       0x17
#define FW_CFG_SETUP_DATA       0x18
#define FW_CFG_FILE_DIR         0x19
#define FW_CFG_FILE_FIRST       0x20
#define FW_CFG_FILE_SLOTS_MIN   0x10
#define FW_CFG_FILE_SLOTS_DFLT  0x20

#define FW_CFG_WRITE_CHANNEL    0x4000
#define FW_CFG_ARCH_LOCAL       0x8000
#define FW_CFG_ENTRY_MASK       ((uint16_t)~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL))
#define FW_CFG_INVALID          0xffff

/* x86 architecture-local keys (QEMU's hw/i386/fw_cfg.h). */
#define FW_CFG_ACPI_TABLES      (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES   (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE    (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE       (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET             (FW_CFG_ARCH_LOCAL + 4)

/* FW_CFG_ID feature bits. */
#define FW_CFG_VERSION          0x01
#define FW_CFG_VERSION_DMA      0x02

/* FWCfgDmaAccess.control bits. */
#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SKIP     0x04
#define FW_CFG_DMA_CTL_SELECT   0x08
#define FW_CFG_DMA_CTL_WRITE    0x10

#define FW_CFG_DMA_SIGNATURE    0x51454d5520434647ULL   /* "QEMU CFG" */
#define FW_CFG_MAX_FILE_PATH    56

/* One file directory entry, as the guest sees it (all fields big-endian). */
typedef struct FWCfgFile {
    uint32_t size;
    uint16_t select;
    uint16_t reserved;
    char name[FW_CFG_MAX_FILE_PATH];
} FWCfgFile;

/* The DMA descriptor in guest memory (all fields big-endian). */
typedef struct FWCfgDmaAccess {
    uint32_t control;
    uint32_t length;
    uint64_t address;
} __attribute__((packed)) FWCfgDmaAccess;

/* "etc/e820" entries: little-endian, packed, as SeaBIOS reads them. */
typedef struct FWCfgE820Entry {
    uint64_t address;
    uint64_t length;
    uint32_t type;
} __attribute__((packed)) FWCfgE820Entry;

typedef struct FWCfgState FWCfgState;
/* Runs when the guest selects the item (e.g. to build it lazily). */
typedef void FWCfgCallback(void *opaque);
/* Runs after the guest wrote len bytes at offset into a writable item (DMA write). */
typedef void FWCfgWriteCallback(void *opaque, uint32_t offset, uint32_t len);

/*
 * Create the I/O-port variant: selector at iobase (16-bit), data at iobase + 1 (8-bit), the
 * DMA address register at dma_iobase (0: no DMA interface).  io is the I/O space to map into
 * (NULL: the system's), dma_as the guest memory DMA reads and writes (NULL: the system's).
 * The device is realized and placed at /machine/fw_cfg.
 */
FWCfgState *fw_cfg_init_io_dma(MemoryRegion *io, uint16_t iobase, uint16_t dma_iobase,
                               AddressSpace *dma_as);
/* The machine's fw_cfg device, or NULL. */
FWCfgState *fw_cfg_find(void);

/*
 * Numbered items.  Keys must be below FW_CFG_FILE_FIRST (optionally | FW_CFG_ARCH_LOCAL) and
 * not yet used; integers are stored little-endian.  The data is copied.
 */
void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len);
void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value);   /* with its NUL */
void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value);
/* Replace an existing numbered item (adds it if missing). */
void fw_cfg_modify_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len);
void fw_cfg_modify_string(FWCfgState *s, uint16_t key, const char *value);
void fw_cfg_modify_i16(FWCfgState *s, uint16_t key, uint16_t value);
void fw_cfg_modify_i32(FWCfgState *s, uint16_t key, uint32_t value);
void fw_cfg_modify_i64(FWCfgState *s, uint16_t key, uint64_t value);

/*
 * Named files, listed in the directory at FW_CFG_FILE_DIR in order of addition.  A duplicate
 * name or a full directory is a board bug (aborts); fw_cfg_add_user_file is the checked
 * variant for -fw_cfg.
 */
void fw_cfg_add_file(FWCfgState *s, const char *filename, const void *data, size_t len);
void fw_cfg_add_file_callback(FWCfgState *s, const char *filename, FWCfgCallback *select_cb,
                              FWCfgWriteCallback *write_cb, void *opaque,
                              const void *data, size_t len, bool read_only);
bool fw_cfg_add_user_file(FWCfgState *s, const char *filename, const void *data, size_t len,
                          Error **errp);
/* Replace a file's contents (size may change), adding the file if it does not exist. */
void fw_cfg_modify_file(FWCfgState *s, const char *filename, const void *data, size_t len);
/* A file's current contents and length, or NULL (for the board and tests). */
const void *fw_cfg_get_file(FWCfgState *s, const char *filename, size_t *len);
/* The selector key of a file, or FW_CFG_INVALID. */
uint16_t fw_cfg_file_key(FWCfgState *s, const char *filename);

#endif
