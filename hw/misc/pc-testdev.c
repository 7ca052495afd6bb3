/*
 * pc-testdev: QEMU's x86 test device for kvm-unit-tests (QEMU hw/misc/pc-testdev.c), with the
 * same ports so the same test binaries run:
 *   0xe0-0xe3    a 32-bit register, accessed at any width and offset;
 *   0xe4         a 32-bit write of a guest physical address makes the host unmap and remap
 *                the page behind it (tests that the accelerator survives a host mapping
 *                change);
 *   0xe8-0xeb    the same register, accessed a byte at a time;
 *   0x2000-0x2017 a byte write of v to 0x2000 + n sets ISA IRQ line n to !!v;
 *   memory 0xff000000-0xff00ffff  64 KiB of scratch "MMIO" that reads back what was written.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sys/mman.h>
#include "hw/isa.h"
#include "hw/misc/pc-misc.h"
#include "kite/log.h"

#define IOMEM_BASE 0xff000000
#define IOMEM_LEN 0x10000
#define IRQ_PORTS 24

typedef struct PCTestdevState {
    IsaDevice parent_obj;
    MemoryRegion ioport, ioport_byte, flush, irq, iomem;
    uint32_t ioport_data;
    uint8_t iomem_buf[IOMEM_LEN];
} PCTestdevState;

static PCTestdevState *PC_TESTDEV(const void *obj)
{
    return OBJECT_CHECK(PCTestdevState, obj, TYPE_PC_TESTDEV);
}

static uint32_t width_mask(unsigned size)
{
    return size >= 4 ? UINT32_MAX : (1u << (size * 8)) - 1;
}

static uint64_t testdev_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    PCTestdevState *s = opaque;
    unsigned shift = (addr & 3) * 8;

    return (s->ioport_data >> shift) & width_mask(size);
}

static void testdev_ioport_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCTestdevState *s = opaque;
    unsigned shift = (addr & 3) * 8;
    uint32_t mask = width_mask(size) << shift;

    s->ioport_data = (s->ioport_data & ~mask) | (((uint32_t)val << shift) & mask);
}

static const MemoryRegionOps testdev_ioport_ops = {
    .read = testdev_ioport_read, .write = testdev_ioport_write,
    .valid = { 1, 4 }, .impl = { 1, 4 },
};

static const MemoryRegionOps testdev_ioport_byte_ops = {
    .read = testdev_ioport_read, .write = testdev_ioport_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

static uint64_t testdev_zero_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void testdev_flush_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    hwaddr len = KITE_PAGE_SIZE;
    uint8_t *host;

    if (!address_space_memory.root) {
        return;
    }
    host = address_space_map(&address_space_memory, val & ~(hwaddr)(KITE_PAGE_SIZE - 1), &len,
                             false);
    /* Only a whole, host-page-aligned page of RAM is remapped; anything else is a no-op. */
    if (host && len == KITE_PAGE_SIZE && ((uintptr_t)host % getpagesize()) == 0 &&
        getpagesize() == KITE_PAGE_SIZE) {
        mprotect(host, len, PROT_NONE);
        mprotect(host, len, PROT_READ | PROT_WRITE);
    }
}

static const MemoryRegionOps testdev_flush_ops = {
    .read = testdev_zero_read, .write = testdev_flush_write,
    .valid = { 4, 4 }, .impl = { 4, 4 },
};

static void testdev_irq_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCTestdevState *s = opaque;

    /* QEMU decodes 24 lines; the ISA bus has 16, the rest are ignored. */
    if (addr >= ISA_NUM_IRQS) {
        kite_log_mask(LOG_GUEST_ERROR, "pc-testdev: no ISA IRQ %u", (unsigned)addr);
        return;
    }
    irq_set_level(isa_get_irq(ISA_DEVICE(s), addr), !!val);
}

static const MemoryRegionOps testdev_irq_ops = {
    .read = testdev_zero_read, .write = testdev_irq_write,
    .valid = { 1, 1 }, .impl = { 1, 1 },
};

static uint64_t testdev_iomem_read(void *opaque, hwaddr addr, unsigned size)
{
    PCTestdevState *s = opaque;

    if (addr + size > IOMEM_LEN) {
        return 0;
    }
    return ldn_le_p(s->iomem_buf + addr, size);
}

static void testdev_iomem_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCTestdevState *s = opaque;

    if (addr + size <= IOMEM_LEN) {
        stn_le_p(s->iomem_buf + addr, size, val);
    }
}

static const MemoryRegionOps testdev_iomem_ops = {
    .read = testdev_iomem_read, .write = testdev_iomem_write,
    .valid = { 1, 8 }, .impl = { 1, 8 },
};

static void testdev_reset(DeviceState *dev)
{
    PCTestdevState *s = PC_TESTDEV(dev);

    s->ioport_data = 0;
    memset(s->iomem_buf, 0, sizeof(s->iomem_buf));
}

static void testdev_realize(DeviceState *dev, Error **errp)
{
    PCTestdevState *s = PC_TESTDEV(dev);
    IsaDevice *isa = ISA_DEVICE(dev);
    MemoryRegion *mem = isa_bus_of(isa)->address_space_mem;

    if (!mem) {
        error_setg(errp, "pc-testdev needs an ISA bus with a memory space");
        return;
    }
    memory_region_init_io(&s->ioport, OBJECT(dev), &testdev_ioport_ops, s,
                          "pc-testdev-ioport", 4);
    memory_region_init_io(&s->flush, OBJECT(dev), &testdev_flush_ops, s,
                          "pc-testdev-flush-page", 4);
    memory_region_init_io(&s->ioport_byte, OBJECT(dev), &testdev_ioport_byte_ops, s,
                          "pc-testdev-ioport-byte", 4);
    memory_region_init_io(&s->irq, OBJECT(dev), &testdev_irq_ops, s, "pc-testdev-irq-line",
                          IRQ_PORTS);
    memory_region_init_io(&s->iomem, OBJECT(dev), &testdev_iomem_ops, s, "pc-testdev-iomem",
                          IOMEM_LEN);
    isa_register_ioport(isa, &s->ioport, 0xe0);
    isa_register_ioport(isa, &s->flush, 0xe4);
    isa_register_ioport(isa, &s->ioport_byte, 0xe8);
    isa_register_ioport(isa, &s->irq, 0x2000);
    memory_region_add_subregion(mem, IOMEM_BASE, &s->iomem);
}

static void testdev_unrealize(DeviceState *dev)
{
    PCTestdevState *s = PC_TESTDEV(dev);

    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_del_subregion(s->iomem.container, &s->iomem);
    memory_region_destroy(&s->ioport);
    memory_region_destroy(&s->flush);
    memory_region_destroy(&s->ioport_byte);
    memory_region_destroy(&s->irq);
    memory_region_destroy(&s->iomem);
}

static const VMStateDescription vmstate_testdev = {
    .name = "pc-testdev", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ioport_data, PCTestdevState),
        VMSTATE_UINT8_ARRAY(iomem_buf, PCTestdevState, IOMEM_LEN),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo testdev_type = {
    .name = TYPE_PC_TESTDEV,
    .parent = TYPE_ISA_DEVICE,
    .desc = "QEMU's x86 test device for kvm-unit-tests",
    .instance_size = sizeof(PCTestdevState),
    .realize = testdev_realize,
    .unrealize = testdev_unrealize,
    .reset = testdev_reset,
    .vmsd = &vmstate_testdev,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(testdev_type)
