/*
 * fw_cfg through its ports, as SeaBIOS and Linux's qemu_fw_cfg use it: signature, ID,
 * numbered items, the file directory, DMA reads/skips/writes, and DMA descriptors or buffers
 * that point outside guest RAM (which must set the error bit, never crash).
 * References are to QEMU docs/specs/fw_cfg.rst.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "hw/nvram/fw_cfg.h"

#define RAM_SIZE (1 * MiB)
#define MMIO_BASE 0x100000
#define DESC 0x1000
#define BUF 0x2000

static MemoryRegion io_root, mem_root, ram, mmio;
static AddressSpace io_as, mem_as;
static uint8_t *ram_ptr;
static unsigned mmio_accesses;

static uint64_t mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    mmio_accesses++;
    return 0;
}

static void mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    mmio_accesses++;
}

static const MemoryRegionOps mmio_ops = { .read = mmio_read, .write = mmio_write };

static void outw(uint16_t port, uint16_t v) { address_space_store(&io_as, port, v, 2); }
static void outl(uint16_t port, uint32_t v) { address_space_store(&io_as, port, v, 4); }
static uint8_t inb(uint16_t port)
{
    uint64_t v;
    address_space_load(&io_as, port, &v, 1);
    return v;
}

static void read_item(uint16_t key, void *buf, size_t len)
{
    outw(0x510, key);
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)buf)[i] = inb(0x511);
    }
}

static FWCfgState *fw_new(void)
{
    memset(ram_ptr, 0, RAM_SIZE);
    return fw_cfg_init_io_dma(&io_root, 0x510, 0x514, &mem_as);
}

static void fw_free(FWCfgState *fw)
{
    object_unparent(OBJECT(fw));
}

/* Write a descriptor at desc and kick the DMA register the way SeaBIOS does (two outl). */
static uint32_t dma_kick(uint64_t desc, uint32_t control, uint32_t length, uint64_t addr)
{
    FWCfgDmaAccess d = {
        .control = GUINT32_TO_BE(control), .length = GUINT32_TO_BE(length),
        .address = GUINT64_TO_BE(addr),
    };

    bool in_ram = desc < RAM_SIZE && desc + sizeof(d) <= RAM_SIZE;

    if (in_ram) {
        memcpy(ram_ptr + desc, &d, sizeof(d));
    }
    outl(0x514, GUINT32_SWAP_LE_BE((uint32_t)(desc >> 32)));
    outl(0x518, GUINT32_SWAP_LE_BE((uint32_t)desc));
    if (in_ram) {
        return GUINT32_FROM_BE(ldl_le_p(ram_ptr + desc));
    }
    return 0xdeadbeef;
}

static void test_signature_and_id(void)
{
    FWCfgState *fw = fw_new();
    char sig[5] = { 0 };
    uint32_t id;
    uint64_t v;

    /* "Signature": select key 0 and read four bytes "QEMU". */
    read_item(FW_CFG_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    /* "Data Register": past the end of the item reads return 0x00. */
    g_assert_cmpuint(inb(0x511), ==, 0);
    /* "Revision / feature bitmap": bit 0 traditional, bit 1 DMA. */
    read_item(FW_CFG_ID, &id, 4);
    g_assert_cmpuint(GUINT32_FROM_LE(id), ==, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    /* "Signature": the DMA address register reads "QEMU CFG" in big-endian format. */
    address_space_load(&io_as, 0x514, &v, 4);
    g_assert_cmpuint(v, ==, ldl_le_p("QEMU"));
    address_space_load(&io_as, 0x518, &v, 4);
    g_assert_cmpuint(v, ==, ldl_le_p(" CFG"));

    /* Reset selects the signature again (QEMU's fw_cfg_reset). */
    read_item(FW_CFG_ID, &id, 1);
    device_cold_reset(DEVICE(fw));
    g_assert_cmpuint(inb(0x511), ==, 'Q');

    /* Data register writes are ignored; word reads are not decoded (all-ones). */
    outw(0x510, FW_CFG_SIGNATURE);
    address_space_store(&io_as, 0x511, 0x55, 1);
    g_assert_cmpuint(inb(0x511), ==, 'Q');
    address_space_load(&io_as, 0x510, &v, 2);
    g_assert_cmpuint(v, ==, 0xffff);
    g_assert_cmpuint(inb(0x511), ==, 'E');
    fw_free(fw);
}

static void test_items(void)
{
    FWCfgState *fw = fw_new();
    uint8_t b[8];
    uint64_t ram_le;

    fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x123456789aULL);
    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 3);
    fw_cfg_add_string(fw, FW_CFG_CMDLINE_DATA, "console=ttyS0");
    fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 0xa1b2c3d4);

    /* Integers are little-endian, strings keep their order and NUL. */
    read_item(FW_CFG_RAM_SIZE, &ram_le, 8);
    g_assert_cmpuint(GUINT64_FROM_LE(ram_le), ==, 0x123456789aULL);
    read_item(FW_CFG_NB_CPUS, b, 2);
    g_assert_cmpuint(b[0], ==, 3);
    g_assert_cmpuint(b[1], ==, 0);
    read_item(FW_CFG_CMDLINE_DATA, b, 8);
    g_assert_cmpmem(b, 8, "console=", 8);
    /* Bit 15 selects the architecture-local table. */
    read_item(FW_CFG_IRQ0_OVERRIDE, b, 4);
    g_assert_cmpuint(ldl_le_p(b), ==, 0xa1b2c3d4);
    read_item(FW_CFG_IRQ0_OVERRIDE & FW_CFG_ENTRY_MASK, b, 4);   /* FW_CFG_UUID: zeros */
    g_assert_cmpuint(ldl_le_p(b), ==, 0);
    /* "Bit14 ... write mode": the same item is read through the write channel too. */
    read_item(FW_CFG_NB_CPUS | FW_CFG_WRITE_CHANNEL, b, 1);
    g_assert_cmpuint(b[0], ==, 3);

    fw_cfg_modify_i16(fw, FW_CFG_NB_CPUS, 7);
    read_item(FW_CFG_NB_CPUS, b, 1);
    g_assert_cmpuint(b[0], ==, 7);

    /* Keys beyond the table and absent items read as zeros. */
    read_item(0x3fff, b, 4);
    g_assert_cmpuint(ldl_le_p(b), ==, 0);
    read_item(FW_CFG_NUMA, b, 4);
    g_assert_cmpuint(ldl_le_p(b), ==, 0);
    fw_free(fw);
}

static void test_file_dir(void)
{
    FWCfgState *fw = fw_new();
    uint8_t data[300];
    uint32_t count;
    FWCfgFile f;
    uint16_t key_a, key_b;
    bool found_a = false, found_b = false;
    Error *err = NULL;

    for (unsigned i = 0; i < sizeof(data); i++) {
        data[i] = i * 7;
    }
    fw_cfg_add_file(fw, "etc/a", data, sizeof(data));
    fw_cfg_add_file(fw, "opt/b", "hello", 5);
    key_a = fw_cfg_file_key(fw, "etc/a");
    key_b = fw_cfg_file_key(fw, "opt/b");
    g_assert_cmpuint(key_a, >=, FW_CFG_FILE_FIRST);
    g_assert_cmpuint(key_b, !=, key_a);

    /* "File Directory": a big-endian count, then 64-byte big-endian entries. */
    outw(0x510, FW_CFG_FILE_DIR);
    for (unsigned i = 0; i < 4; i++) {
        ((uint8_t *)&count)[i] = inb(0x511);
    }
    count = GUINT32_FROM_BE(count);
    g_assert_cmpuint(count, ==, 3);    /* etc/boot-fail-wait, etc/a, opt/b */
    for (unsigned i = 0; i < count; i++) {
        for (unsigned j = 0; j < sizeof(f); j++) {
            ((uint8_t *)&f)[j] = inb(0x511);
        }
        if (!strcmp(f.name, "etc/a")) {
            found_a = true;
            g_assert_cmpuint(GUINT32_FROM_BE(f.size), ==, sizeof(data));
            g_assert_cmpuint(GUINT16_FROM_BE(f.select), ==, key_a);
        } else if (!strcmp(f.name, "opt/b")) {
            found_b = true;
            g_assert_cmpuint(GUINT32_FROM_BE(f.size), ==, 5);
            g_assert_cmpuint(GUINT16_FROM_BE(f.select), ==, key_b);
        } else {
            g_assert_cmpstr(f.name, ==, "etc/boot-fail-wait");
        }
    }
    g_assert_true(found_a && found_b);
    /* The directory ends after count entries. */
    g_assert_cmpuint(inb(0x511), ==, 0);

    /* Reading the file through the data port gives its bytes in order. */
    outw(0x510, key_a);
    for (unsigned i = 0; i < sizeof(data); i++) {
        g_assert_cmpuint(inb(0x511), ==, data[i]);
    }

    /* modify_file changes the contents and the size the directory reports. */
    fw_cfg_modify_file(fw, "opt/b", "hi", 2);
    read_item(FW_CFG_FILE_DIR, &count, 4);
    for (unsigned i = 0; i < 3; i++) {
        for (unsigned j = 0; j < sizeof(f); j++) {
            ((uint8_t *)&f)[j] = inb(0x511);
        }
        if (!strcmp(f.name, "opt/b")) {
            g_assert_cmpuint(GUINT32_FROM_BE(f.size), ==, 2);
        }
    }
    /* A duplicate user file is refused with an error. */
    g_assert_false(fw_cfg_add_user_file(fw, "opt/b", "x", 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "duplicate"));
    error_free(err);
    err = NULL;
    g_assert_false(fw_cfg_add_user_file(fw, "opt/012345678901234567890123456789012345678901234"
                                        "56789012345", "x", 1, &err));
    error_free(err);
    fw_free(fw);
}

static void test_dma(void)
{
    FWCfgState *fw = fw_new();
    uint8_t data[100];
    uint8_t wdata[16] = { 0 };
    uint16_t key, wkey;

    for (unsigned i = 0; i < sizeof(data); i++) {
        data[i] = 0x80 + i;
    }
    fw_cfg_add_file(fw, "etc/data", data, sizeof(data));
    fw_cfg_add_file_callback(fw, "etc/writable", NULL, NULL, NULL, wdata, sizeof(wdata), false);
    key = fw_cfg_file_key(fw, "etc/data");
    wkey = fw_cfg_file_key(fw, "etc/writable");

    /* Select + read, longer than the item: the tail is zero-filled, control clears to 0. */
    memset(ram_ptr + BUF, 0xaa, 200);
    g_assert_cmpuint(dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
                              120, BUF), ==, 0);
    g_assert_cmpmem(ram_ptr + BUF, 100, data, 100);
    for (unsigned i = 100; i < 120; i++) {
        g_assert_cmpuint(ram_ptr[BUF + i], ==, 0);
    }
    g_assert_cmpuint(ram_ptr[BUF + 120], ==, 0xaa);
    /* "The value for the register is 0 ... after an operation": a lone low write reuses it. */

    /* Skip 10 bytes, then read 4 without re-selecting: offset 10..13. */
    g_assert_cmpuint(dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
                              10, 0), ==, 0);
    g_assert_cmpuint(dma_kick(DESC, FW_CFG_DMA_CTL_READ, 4, BUF), ==, 0);
    g_assert_cmpmem(ram_ptr + BUF, 4, data + 10, 4);
    /* The DMA and port interfaces share the offset. */
    g_assert_cmpuint(inb(0x511), ==, data[14]);

    /* Writes: refused on a read-only item, accepted on a writable one. */
    memcpy(ram_ptr + BUF, "WRITTEN!", 8);
    g_assert_cmpuint(dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
                              8, BUF), ==, FW_CFG_DMA_CTL_ERROR);
    read_item(key, ram_ptr + BUF + 64, 8);
    g_assert_cmpmem(ram_ptr + BUF + 64, 8, data, 8);
    g_assert_cmpuint(dma_kick(DESC, (wkey << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
                              8, BUF), ==, 0);
    read_item(wkey, ram_ptr + BUF + 64, 8);
    g_assert_cmpmem(ram_ptr + BUF + 64, 8, "WRITTEN!", 8);
    /* "Truncated writes are dropped entirely": 20 bytes into a 16-byte item. */
    memcpy(ram_ptr + BUF, "XXXXXXXXXXXXXXXXXXXX", 20);
    g_assert_cmpuint(dma_kick(DESC, (wkey << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
                              20, BUF), ==, FW_CFG_DMA_CTL_ERROR);
    read_item(wkey, ram_ptr + BUF + 64, 8);
    g_assert_cmpmem(ram_ptr + BUF + 64, 8, "WRITTEN!", 8);

    /* No operation bit: nothing is transferred, control still clears. */
    memset(ram_ptr + BUF, 0xaa, 16);
    g_assert_cmpuint(dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT, 16, BUF), ==, 0);
    g_assert_cmpuint(ram_ptr[BUF], ==, 0xaa);

    /* A single 8-byte big-endian write also starts a transfer. */
    dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF);
    memset(ram_ptr + BUF, 0, 4);
    stl_le_p(ram_ptr + DESC, GUINT32_TO_BE((key << 16) | FW_CFG_DMA_CTL_SELECT |
                                           FW_CFG_DMA_CTL_READ));
    address_space_store(&io_as, 0x514, GUINT64_SWAP_LE_BE((uint64_t)DESC), 8);
    g_assert_cmpuint(ldl_le_p(ram_ptr + DESC), ==, 0);
    g_assert_cmpmem(ram_ptr + BUF, 4, data, 4);
    fw_free(fw);
}

static void test_dma_bad_addresses(void)
{
    FWCfgState *fw = fw_new();
    uint8_t data[64];
    uint16_t key;
    uint32_t ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;

    memset(data, 0x5a, sizeof(data));
    fw_cfg_add_file(fw, "etc/data", data, sizeof(data));
    key = fw_cfg_file_key(fw, "etc/data");
    ctl |= key << 16;

    /* Buffer in unassigned space: error bit, nothing else happens. */
    g_assert_cmpuint(dma_kick(DESC, ctl, 16, 0x80000000), ==, FW_CFG_DMA_CTL_ERROR);
    /* Buffer in MMIO: error, and the device behind it is never called. */
    mmio_accesses = 0;
    g_assert_cmpuint(dma_kick(DESC, ctl, 16, MMIO_BASE), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmpuint(mmio_accesses, ==, 0);
    /* Buffer running off the end of RAM: error; the RAM part may be written, no more. */
    g_assert_cmpuint(dma_kick(DESC, ctl, 64, RAM_SIZE - 8), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmpuint(mmio_accesses, ==, 0);
    /* Buffer address wrapping around 2^64. */
    g_assert_cmpuint(dma_kick(DESC, ctl, 64, UINT64_MAX - 15), ==, FW_CFG_DMA_CTL_ERROR);
    /* Huge length past the item: zero fill of 4 GiB - 1 must stop at the end of RAM. */
    g_assert_cmpuint(dma_kick(DESC, ctl, UINT32_MAX, BUF), ==, FW_CFG_DMA_CTL_ERROR);
    /* Skip of a huge length is fine: nothing is accessed. */
    g_assert_cmpuint(dma_kick(DESC, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
                              UINT32_MAX, UINT64_MAX), ==, 0);

    /* Descriptor outside RAM: unassigned, MMIO, straddling the end, wrapping. */
    mmio_accesses = 0;
    dma_kick(0x80000000, ctl, 16, BUF);
    dma_kick(MMIO_BASE, ctl, 16, BUF);
    g_assert_cmpuint(mmio_accesses, ==, 0);
    dma_kick(RAM_SIZE - 8, ctl, 16, BUF);
    dma_kick(UINT64_MAX - 7, ctl, 16, BUF);
    /* After all that, the device still works. */
    memset(ram_ptr + BUF, 0, 16);
    g_assert_cmpuint(dma_kick(DESC, ctl, 16, BUF), ==, 0);
    g_assert_cmpmem(ram_ptr + BUF, 16, data, 16);
    /* Partial register writes are ignored (no transfer starts). */
    stl_le_p(ram_ptr + DESC, 0x12345678);
    address_space_store(&io_as, 0x516, 0x1000, 2);
    address_space_store(&io_as, 0x519, 0x10, 1);
    g_assert_cmpuint(ldl_le_p(ram_ptr + DESC), ==, 0x12345678);
    fw_free(fw);
}

static void test_vmstate(void)
{
    FWCfgState *fw = fw_new();
    g_autoptr(GByteArray) buf = g_byte_array_new();
    DeviceClass *dc = DEVICE_GET_CLASS(fw);
    size_t pos = 0;
    uint16_t key;

    fw_cfg_add_file(fw, "etc/x", "abcdef", 6);
    key = fw_cfg_file_key(fw, "etc/x");
    outw(0x510, key);
    g_assert_cmpuint(inb(0x511), ==, 'a');
    g_assert_cmpuint(inb(0x511), ==, 'b');
    outl(0x514, GUINT32_SWAP_LE_BE(0x12));          /* half-written DMA address */
    g_assert_cmpint(vmstate_save(buf, dc->vmsd, fw, &error_abort), ==, 0);
    outw(0x510, FW_CFG_SIGNATURE);
    outl(0x514, 0);
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, dc->vmsd, fw, &error_abort));
    g_assert_cmpuint(pos, ==, buf->len);
    g_assert_cmpuint(inb(0x511), ==, 'c');
    /* The restored high half is combined with the next low write. */
    dma_kick(0, 0, 0, 0);                         /* uses 0x12_00000000: not RAM, no crash */
    fw_free(fw);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_region_init(&io_root, NULL, "io", 0x10000);
    address_space_init(&io_as, &io_root, "I/O");
    memory_region_init(&mem_root, NULL, "mem", UINT64_MAX);
    memory_region_init_ram(&ram, NULL, "ram", RAM_SIZE, &error_abort);
    memory_region_add_subregion(&mem_root, 0, &ram);
    memory_region_init_io(&mmio, NULL, &mmio_ops, NULL, "mmio", 0x1000);
    memory_region_add_subregion(&mem_root, MMIO_BASE, &mmio);
    address_space_init(&mem_as, &mem_root, "memory");
    ram_ptr = memory_region_get_ram_ptr(&ram);

    g_test_add_func("/fw_cfg/signature-id", test_signature_and_id);
    g_test_add_func("/fw_cfg/items", test_items);
    g_test_add_func("/fw_cfg/file-dir", test_file_dir);
    g_test_add_func("/fw_cfg/dma", test_dma);
    g_test_add_func("/fw_cfg/dma-bad-addresses", test_dma_bad_addresses);
    g_test_add_func("/fw_cfg/vmstate", test_vmstate);
    return g_test_run();
}
