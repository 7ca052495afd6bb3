/*
 * pci-testdev: QEMU's PCI device for testing low-level I/O (QEMU docs/specs/pci-testdev),
 * same IDs (1b36:0005) and protocol, so kvm-unit-tests style guests run unchanged.
 *
 * BAR0 is 4 KiB of memory, BAR1 256 bytes of I/O.  Each starts with a header:
 *   0x00 test       write: select test N (reads back N)
 *   0x01 width_type read: access width of the test (1, 2 or 4); anything else = no test N
 *   0x04 offset     read: where in this BAR the test's write goes
 *   0x08 data       read: the value to write
 *   0x0c count      read: writes detected so far for this test
 *   0x10 name[]     read: NUL-terminated test name
 * Per BAR three tests: "no-eventfd" (the device's write handler counts), "wildcard-eventfd"
 * (an ioeventfd for any value counts) and "datamatch-eventfd" (only the data value
 * counts): the latter two exercise ioeventfds, in KVM when it is the accelerator.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/pci.h"
#include "kite/main-loop.h"
#include "kite/log.h"

#define TYPE_PCI_TESTDEV "pci-testdev"
#define TESTDEV_NUM_TESTS 3
#define TESTDEV_HDR_NAME  0x10
#define TESTDEV_AREA      0x80      /* test targets: 0x80, 0x84, 0x88 */
#define TESTDEV_DATAMATCH 0xfa

typedef struct TestdevTest {
    uint32_t count;
    bool eventfd, datamatch;
    EventNotifier notifier;
} TestdevTest;

typedef struct TestdevBar {
    struct PCITestDev *dev;
    MemoryRegion mr;
    bool io;
    uint8_t selected;
    TestdevTest tests[TESTDEV_NUM_TESTS];
} TestdevBar;

typedef struct PCITestDev {
    PCIDevice parent_obj;
    TestdevBar bars[2];
} PCITestDev;

static const char *const test_names[TESTDEV_NUM_TESTS] = {
    "no-eventfd", "wildcard-eventfd", "datamatch-eventfd",
};

static uint32_t test_offset(int t)
{
    return TESTDEV_AREA + 4 * t;
}

static unsigned test_width(TestdevBar *b)
{
    /* As QEMU: byte accesses on the I/O BAR, dwords on the memory BAR. */
    return b->io ? 1 : 4;
}

static uint32_t test_data(int t)
{
    return t == 2 ? TESTDEV_DATAMATCH : 0xce;
}

static uint64_t testdev_read(void *opaque, hwaddr addr, unsigned size)
{
    TestdevBar *b = opaque;
    TestdevTest *t = b->selected < TESTDEV_NUM_TESTS ? &b->tests[b->selected] : NULL;
    uint8_t hdr[0x40] = { 0 };
    uint64_t v = 0;

    if (addr + size > sizeof(hdr)) {
        return 0;
    }
    hdr[0] = b->selected;
    if (t) {
        if (t->eventfd && event_notifier_test_and_clear(&t->notifier)) {
            t->count++;
        }
        hdr[1] = test_width(b);
        pci_set_long(hdr + 4, test_offset(b->selected));
        pci_set_long(hdr + 8, test_data(b->selected));
        pci_set_long(hdr + 12, t->count);
        memcpy(hdr + TESTDEV_HDR_NAME, test_names[b->selected],
               strlen(test_names[b->selected]) + 1);
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)hdr[addr + i] << (8 * i);
    }
    return v;
}

static void testdev_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    TestdevBar *b = opaque;

    if (addr == 0) {
        b->selected = val;
        return;
    }
    for (int i = 0; i < TESTDEV_NUM_TESTS; i++) {
        TestdevTest *t = &b->tests[i];
        /* A write that reaches the handler for an eventfd test: none was registered
         * (the listener dropped it), count it here so the test still tells the truth. */
        if (addr == test_offset(i) && (!t->datamatch || val == test_data(i))) {
            t->count++;
            return;
        }
    }
    kite_log_mask(LOG_GUEST_ERROR, "pci-testdev: write of 0x%" PRIx64 " at 0x%" PRIx64
                  " is no test\n", val, (uint64_t)addr);
}

static const MemoryRegionOps testdev_ops = {
    .read = testdev_read, .write = testdev_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void testdev_bar_init(PCITestDev *d, int n, bool io, uint64_t size, Error **errp)
{
    TestdevBar *b = &d->bars[n];

    b->dev = d;
    b->io = io;
    memory_region_init_io(&b->mr, OBJECT(d), &testdev_ops, b,
                          io ? "pci-testdev-portio" : "pci-testdev-mmio", size);
    for (int i = 0; i < TESTDEV_NUM_TESTS; i++) {
        TestdevTest *t = &b->tests[i];
        t->eventfd = i > 0;
        t->datamatch = i == 2;
        if (t->eventfd) {
            if (event_notifier_init(&t->notifier, false) < 0) {
                error_setg(errp, "pci-testdev: cannot create an eventfd");
                return;
            }
            memory_region_add_eventfd(&b->mr, test_offset(i), test_width(b), t->datamatch,
                                      test_data(i), &t->notifier);
        }
    }
    pci_register_bar(PCI_DEVICE(d), n, io ? PCI_BASE_ADDRESS_SPACE_IO
                                          : PCI_BASE_ADDRESS_SPACE_MEMORY, &b->mr);
}

static void testdev_bar_destroy(TestdevBar *b)
{
    for (int i = 0; i < TESTDEV_NUM_TESTS; i++) {
        TestdevTest *t = &b->tests[i];
        if (t->eventfd) {
            memory_region_del_eventfd(&b->mr, test_offset(i), test_width(b), t->datamatch,
                                      test_data(i), &t->notifier);
            event_notifier_cleanup(&t->notifier);
        }
    }
    memory_region_destroy(&b->mr);
}

static void pci_testdev_realize(PCIDevice *dev, Error **errp)
{
    PCITestDev *d = (PCITestDev *)dev;
    Error *err = NULL;

    testdev_bar_init(d, 0, false, 4096, &err);
    if (!err) {
        testdev_bar_init(d, 1, true, 256, &err);
    }
    error_propagate(errp, err);
}

static void pci_testdev_exit(PCIDevice *dev)
{
    PCITestDev *d = (PCITestDev *)dev;

    testdev_bar_destroy(&d->bars[0]);
    testdev_bar_destroy(&d->bars[1]);
}

static void pci_testdev_reset(PCIDevice *dev)
{
    PCITestDev *d = (PCITestDev *)dev;

    for (int n = 0; n < 2; n++) {
        d->bars[n].selected = 0;
        for (int i = 0; i < TESTDEV_NUM_TESTS; i++) {
            TestdevTest *t = &d->bars[n].tests[i];
            t->count = 0;
            if (t->eventfd) {
                event_notifier_test_and_clear(&t->notifier);
            }
        }
    }
}

static const VMStateDescription vmstate_pci_testdev = {
    .name = "pci-testdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, PCITestDev),
        VMSTATE_UINT8(bars[0].selected, PCITestDev),
        VMSTATE_UINT8(bars[1].selected, PCITestDev),
        VMSTATE_END_OF_LIST()
    },
};

static void pci_testdev_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = 0x0005;
    pc->revision = 0;
    /*
     * QEMU gives it PCI_CLASS_OTHERS from its own pci_ids.h, where that is 0x00ff (base
     * class 00h "unclassified", sub-class ffh) rather than the PCI code ff00h: match the
     * value guests and tests see under QEMU.
     */
    pc->class_id = 0x00ff;
}

static const TypeInfo pci_testdev_type = {
    .name = TYPE_PCI_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .desc = "PCI device for testing low-level I/O (QEMU's pci-testdev)",
    .instance_size = sizeof(PCITestDev),
    .class_init = pci_testdev_class_init,
    .realize = (void (*)(DeviceState *, Error **))pci_testdev_realize,
    .unrealize = (void (*)(DeviceState *))pci_testdev_exit,
    .reset = (void (*)(DeviceState *))pci_testdev_reset,
    .vmsd = &vmstate_pci_testdev,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(pci_testdev_type)
