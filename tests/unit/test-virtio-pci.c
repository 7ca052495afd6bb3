/*
 * virtio-rng driven through the virtio-pci registers the way Linux's virtio_pci_modern and
 * virtio_pci_legacy drivers drive them (virtio 1.2 sections 3.1.1 and 4.1): feature
 * negotiation, queue set-up, a request answered with entropy, interrupts through INTx/ISR
 * and through MSI-X vectors, ioeventfd notification, rate limiting, and device reset.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/main-loop.h"
#include "kite/timer.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-rng.h"
#include "kite/object-interfaces.h"

#define RAM_SIZE    (1 * MiB)
#define BAR         0x10000000ULL       /* modern BAR */
#define IO_BAR      0xc000              /* legacy BAR, in the same test space */
#define DESC        0x10000
#define AVAIL       (DESC + 16 * 8)
#define USED        0x11000
#define BUF         0x20000

static MemoryRegion root, ram;
static AddressSpace as;
static uint8_t *ram_ptr;
static int intx_level;
static unsigned msix_count;
static uint16_t msix_last;
static bool msix_on;

static void *as_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    hwaddr l = *plen;
    void *p = address_space_map(&as, gpa, &l, is_write);

    *plen = l;
    return p;
}

static void as_unmap(void *opaque, void *host, uint64_t len, bool is_write, uint64_t alen)
{
    address_space_unmap(&as, host, len, is_write, alen);
}

static const VirtioMemOps as_mem = { .map = as_map, .unmap = as_unmap };

static bool cb_msix_enabled(void *opaque) { return msix_on; }
static void cb_msix_notify(void *opaque, uint16_t v) { msix_count++; msix_last = v; }
static void cb_set_intx(void *opaque, int level) { intx_level = level; }

static uint32_t rd(uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    address_space_load(&as, addr, &v, size);
    return v;
}

static void wr(uint64_t addr, uint32_t v, unsigned size)
{
    address_space_store(&as, addr, v, size);
}

typedef struct Dev {
    VirtIORNG rng;
    VirtIOPCIRegs regs;
} Dev;

static Dev *dev_new(bool modern, bool legacy, uint16_t nvectors, bool ioeventfd,
                    uint64_t max_bytes)
{
    Dev *d = g_new0(Dev, 1);
    Error *err = NULL;

    d->rng.max_bytes = max_bytes;
    d->rng.period_ms = 1000;
    virtio_rng_realize(&d->rng, &err);
    g_assert_null(err);
    virtio_set_mem_ops(&d->rng.vdev, &as_mem, NULL);
    d->regs.nvectors = nvectors;
    d->regs.msix_enabled = cb_msix_enabled;
    d->regs.msix_notify = cb_msix_notify;
    d->regs.set_intx = cb_set_intx;
    virtio_pci_regs_init(&d->regs, NULL, &d->rng.vdev, modern, legacy, ioeventfd);
    if (modern) {
        memory_region_add_subregion(&root, BAR, &d->regs.modern_bar);
    }
    if (legacy) {
        memory_region_add_subregion(&root, IO_BAR, &d->regs.legacy_io);
    }
    virtio_pci_regs_reset(&d->regs);
    memset(ram_ptr, 0, RAM_SIZE);
    intx_level = 0;
    msix_count = 0;
    msix_on = false;
    return d;
}

static void dev_free(Dev *d)
{
    if (d->regs.modern) {
        memory_region_del_subregion(&root, &d->regs.modern_bar);
    }
    if (d->regs.legacy) {
        memory_region_del_subregion(&root, &d->regs.legacy_io);
    }
    virtio_pci_regs_destroy(&d->regs);
    virtio_rng_unrealize(&d->rng);
    g_free(d);
}

/* Post one 64-byte device-writable buffer as avail entry number n. */
static void post_buffer(unsigned n, uint32_t len)
{
    stq_le_p(ram_ptr + DESC + 16 * n, BUF + 0x100 * n);
    stl_le_p(ram_ptr + DESC + 16 * n + 8, len);
    stw_le_p(ram_ptr + DESC + 16 * n + 12, VRING_DESC_F_WRITE);
    stw_le_p(ram_ptr + AVAIL + 4 + 2 * (n % 8), n);
    stw_le_p(ram_ptr + AVAIL + 2, n + 1);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

#define C(off) (BAR + VIRTIO_PCI_COMMON_OFFSET + (off))

static void modern_setup(uint64_t want_features)
{
    uint32_t lo, hi;

    wr(C(VIRTIO_PCI_COMMON_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
    wr(C(VIRTIO_PCI_COMMON_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    wr(C(VIRTIO_PCI_COMMON_DFSELECT), 0, 4);
    lo = rd(C(VIRTIO_PCI_COMMON_DF), 4);
    wr(C(VIRTIO_PCI_COMMON_DFSELECT), 1, 4);
    hi = rd(C(VIRTIO_PCI_COMMON_DF), 4);
    g_assert_cmpuint(hi & 1, ==, 1);                         /* VERSION_1 */
    want_features &= ((uint64_t)hi << 32) | lo;
    wr(C(VIRTIO_PCI_COMMON_GFSELECT), 0, 4);
    wr(C(VIRTIO_PCI_COMMON_GF), (uint32_t)want_features, 4);
    wr(C(VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
    wr(C(VIRTIO_PCI_COMMON_GF), want_features >> 32, 4);
    wr(C(VIRTIO_PCI_COMMON_STATUS), 0x0b, 1);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_STATUS), 1), ==, 0x0b);   /* FEATURES_OK kept */
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_NUMQ), 2), ==, 1);
    wr(C(VIRTIO_PCI_COMMON_Q_SELECT), 0, 2);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_SIZE), 2), ==, 8);
    wr(C(VIRTIO_PCI_COMMON_Q_DESCLO), DESC, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_DESCHI), 0, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_AVAILLO), AVAIL, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_AVAILHI), 0, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_USEDLO), USED, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_USEDHI), 0, 4);
    wr(C(VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), ==, 1);
    wr(C(VIRTIO_PCI_COMMON_STATUS), 0x0f, 1);
}

static void test_modern_intx(void)
{
    Dev *d = dev_new(true, false, 0, false, INT64_MAX);
    uint64_t notify = BAR + VIRTIO_PCI_NOTIFY_OFFSET +
                      rd(C(VIRTIO_PCI_COMMON_Q_NOFF), 2) * VIRTIO_PCI_NOTIFY_MULT;

    modern_setup((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX));
    g_assert_cmphex(d->rng.vdev.guest_features, ==,
                    (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX));
    post_buffer(0, 64);
    wr(notify, 0, 2);
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 1);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 4), ==, 0);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 8), ==, 64);
    g_assert_false(all_zero(ram_ptr + BUF, 64));
    g_assert_true(all_zero(ram_ptr + BUF + 64, 64));
    /* INTx is up until the driver reads the ISR (which clears it). */
    g_assert_cmpint(intx_level, ==, 1);
    g_assert_cmpuint(rd(BAR + VIRTIO_PCI_ISR_OFFSET, 1), ==, VIRTIO_ISR_QUEUE);
    g_assert_cmpint(intx_level, ==, 0);
    g_assert_cmpuint(rd(BAR + VIRTIO_PCI_ISR_OFFSET, 1), ==, 0);

    /* Queue set-up is frozen once enabled; reset (status 0) returns power-on values. */
    wr(C(VIRTIO_PCI_COMMON_Q_SIZE), 4, 2);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_SIZE), 2), ==, 8);
    wr(C(VIRTIO_PCI_COMMON_STATUS), 0, 1);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_STATUS), 1), ==, 0);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), ==, 0);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_DESCLO), 4), ==, 0);
    g_assert_cmphex(d->rng.vdev.guest_features, ==, 0);
    dev_free(d);
}

static void test_modern_features_refused(void)
{
    Dev *d = dev_new(true, true, 0, false, INT64_MAX);

    /* A driver acking a bit the device never offered does not get FEATURES_OK. */
    wr(C(VIRTIO_PCI_COMMON_STATUS), 3, 1);
    wr(C(VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
    wr(C(VIRTIO_PCI_COMMON_GF), 1 | (1u << 20), 4);
    wr(C(VIRTIO_PCI_COMMON_STATUS), 0x0b, 1);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_STATUS), 1) & VIRTIO_CONFIG_S_FEATURES_OK, ==, 0);
    dev_free(d);
}

static void test_modern_msix(void)
{
    Dev *d = dev_new(true, false, 2, false, INT64_MAX);

    msix_on = true;
    wr(C(VIRTIO_PCI_COMMON_MSIX), 0, 2);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_MSIX), 2), ==, 0);
    wr(C(VIRTIO_PCI_COMMON_MSIX), 7, 2);                    /* no such vector */
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_MSIX), 2), ==, VIRTIO_NO_VECTOR);
    modern_setup(1ULL << VIRTIO_F_VERSION_1);
    d->rng.vq->enabled = false;                             /* vector set before enable */
    wr(C(VIRTIO_PCI_COMMON_Q_MSIX), 1, 2);
    g_assert_cmpuint(rd(C(VIRTIO_PCI_COMMON_Q_MSIX), 2), ==, 1);
    wr(C(VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
    post_buffer(0, 16);
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_cmpuint(msix_count, ==, 1);
    g_assert_cmpuint(msix_last, ==, 1);
    g_assert_cmpint(intx_level, ==, 0);
    dev_free(d);
}

static void test_legacy(void)
{
    Dev *d = dev_new(false, true, 0, false, INT64_MAX);
    uint32_t host;

    /* A legacy-only device offers no VERSION_1 and its driver never sets FEATURES_OK. */
    g_assert_cmpuint(memory_region_size(&d->regs.legacy_io), ==, 32);
    wr(IO_BAR + VIRTIO_PCI_STATUS, 3, 1);
    host = rd(IO_BAR + VIRTIO_PCI_HOST_FEATURES, 4);
    g_assert_cmpuint(host & (1u << VIRTIO_RING_F_INDIRECT_DESC), !=, 0);
    wr(IO_BAR + VIRTIO_PCI_GUEST_FEATURES, host & (1u << VIRTIO_RING_F_INDIRECT_DESC), 4);
    wr(IO_BAR + VIRTIO_PCI_QUEUE_SEL, 0, 2);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_PCI_QUEUE_NUM, 2), ==, 8);
    /* 2.7.2 layout at PFN 0x10: descriptors 0x10000, avail 0x10080, used 0x11000. */
    wr(IO_BAR + VIRTIO_PCI_QUEUE_PFN, DESC >> 12, 4);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_PCI_QUEUE_PFN, 4), ==, DESC >> 12);
    wr(IO_BAR + VIRTIO_PCI_STATUS, 7, 1);
    post_buffer(0, 32);
    wr(IO_BAR + VIRTIO_PCI_QUEUE_NOTIFY, 0, 2);
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 1);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 8), ==, 32);
    g_assert_false(all_zero(ram_ptr + BUF, 32));
    g_assert_cmpint(intx_level, ==, 1);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_PCI_ISR, 1), ==, 1);
    g_assert_cmpint(intx_level, ==, 0);
    /* Reset through status 0; a notify of a queue that does not exist is ignored. */
    wr(IO_BAR + VIRTIO_PCI_QUEUE_NOTIFY, 5, 2);
    wr(IO_BAR + VIRTIO_PCI_STATUS, 0, 1);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_PCI_QUEUE_PFN, 4), ==, 0);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_PCI_GUEST_FEATURES, 4), ==, 0);
    dev_free(d);
}

static void test_legacy_msix_layout(void)
{
    Dev *d = dev_new(true, true, 2, false, INT64_MAX);

    /* With MSI-X on, the vector registers sit at 0x14/0x16 and config moves to 0x18. */
    msix_on = true;
    wr(IO_BAR + VIRTIO_MSI_CONFIG_VECTOR, 1, 2);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_MSI_CONFIG_VECTOR, 2), ==, 1);
    g_assert_cmpuint(d->rng.vdev.config_vector, ==, 1);
    wr(IO_BAR + VIRTIO_MSI_QUEUE_VECTOR, 9, 2);
    g_assert_cmpuint(rd(IO_BAR + VIRTIO_MSI_QUEUE_VECTOR, 2), ==, VIRTIO_NO_VECTOR);
    dev_free(d);
}

static void test_ioeventfd(void)
{
    Dev *d = dev_new(true, true, 0, true, INT64_MAX);

    modern_setup(1ULL << VIRTIO_F_VERSION_1);
    post_buffer(0, 16);
    /* The write only signals the eventfd; the main loop runs the queue. */
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 0);
    for (int i = 0; i < 10 && lduw_le_p(ram_ptr + USED + 2) == 0; i++) {
        main_loop_wait(true);
    }
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 1);
    dev_free(d);
}

static void test_rate_limit(void)
{
    Dev *d = dev_new(true, false, 0, false, 40);

    modern_setup(1ULL << VIRTIO_F_VERSION_1);
    post_buffer(0, 32);
    post_buffer(1, 32);
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    /* 40 bytes per second: 32, then 8, then the next period. */
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 2);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 8), ==, 32);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 16), ==, 8);
    post_buffer(2, 32);
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 2);
    clock_virtual_set_ns(clock_get_ns(KITE_CLOCK_VIRTUAL) + 1001 * 1000000LL);
    timers_run_expired_main();
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 3);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 4 + 8 * 2 + 4), ==, 32);
    dev_free(d);
}

static void test_rng_random_backend(void)
{
    Dev *d;
    Object *o = object_new(TYPE_RNG_RANDOM);
    UserCreatableClass *ucc = (UserCreatableClass *)
        object_class_dynamic_cast(o->klass, TYPE_USER_CREATABLE);
    Error *err = NULL;
    char *path;
    int fd = g_file_open_tmp("test-rng-XXXXXX", &path, NULL);

    /* A file as the entropy source: the guest gets exactly its bytes, then nothing. */
    g_assert_cmpint(write(fd, "0123456789abcdef", 16), ==, 16);
    close(fd);
    g_assert_true(object_property_set_str(o, "filename", path, &err));
    g_assert_true(ucc->complete(o, &err));
    d = dev_new(true, false, 0, false, INT64_MAX);
    d->rng.rng = (RngBackend *)o;
    modern_setup(1ULL << VIRTIO_F_VERSION_1);
    post_buffer(0, 64);
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_cmpuint(ldl_le_p(ram_ptr + USED + 8), ==, 16);
    g_assert_cmpmem(ram_ptr + BUF, 16, "0123456789abcdef", 16);
    post_buffer(1, 64);
    wr(BAR + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_cmpuint(lduw_le_p(ram_ptr + USED + 2), ==, 1);
    d->rng.rng = NULL;
    dev_free(d);
    object_unref(o);
    unlink(path);
    g_free(path);
}

/* Any value written to any register at any width, in any order, never crashes the device
 * or makes it touch memory outside guest RAM (ASan watches the latter). */
static void test_hostile_registers(void)
{
    GRand *r = g_rand_new_with_seed(0x76697274);
    static const unsigned sizes[] = { 1, 2, 4 };

    for (unsigned round = 0; round < 20; round++) {
        Dev *d = dev_new(true, true, g_rand_int_range(r, 0, 4), false,
                         g_rand_int_range(r, 1, 256));

        msix_on = g_rand_boolean(r);
        for (unsigned i = 0; i < 4000; i++) {
            unsigned size = sizes[g_rand_int_range(r, 0, 3)];
            uint32_t val = g_rand_int_range(r, 0, 4) ? g_rand_int_range(r, 0, 0x40)
                                                     : g_rand_int(r);
            uint64_t addr;

            switch (g_rand_int_range(r, 0, 4)) {
            case 0:
                addr = IO_BAR + g_rand_int_range(r, 0, 0x20);
                break;
            case 1:
                addr = BAR + g_rand_int_range(r, 0, VIRTIO_PCI_MODERN_BAR_SIZE);
                break;
            default:
                addr = C(g_rand_int_range(r, 0, VIRTIO_PCI_COMMON_SIZE));
                break;
            }
            if (g_rand_boolean(r)) {
                rd(addr, size);
            } else {
                /* Ring addresses: sometimes valid RAM with random contents there. */
                if (g_rand_int_range(r, 0, 8) == 0) {
                    val = g_rand_int_range(r, 0, RAM_SIZE);
                    ram_ptr[g_rand_int_range(r, 0, RAM_SIZE)] = g_rand_int(r);
                }
                wr(addr, val, size);
            }
        }
        dev_free(d);
    }
    g_rand_free(r);
}

static void test_ids_and_caps(void)
{
    VirtIOPCIIds ids;
    uint8_t cap[24];

    g_assert_true(virtio_pci_get_ids(2, true, &ids));
    g_assert_cmphex(ids.vendor_id, ==, 0x1af4);
    g_assert_cmphex(ids.device_id, ==, 0x1001);
    g_assert_cmphex(ids.subsystem_id, ==, 2);
    g_assert_cmpuint(ids.revision, ==, 0);
    g_assert_cmphex(ids.class_id, ==, 0x0100);
    g_assert_true(virtio_pci_get_ids(4, false, &ids));
    g_assert_cmphex(ids.device_id, ==, 0x1044);
    g_assert_cmpuint(ids.revision, ==, 1);
    g_assert_true(virtio_pci_get_ids(3, true, &ids));
    g_assert_cmphex(ids.device_id, ==, 0x1003);
    g_assert_cmphex(ids.class_id, ==, 0x0780);
    g_assert_false(virtio_pci_get_ids(26, true, &ids));

    memset(cap, 0xee, sizeof(cap));
    g_assert_cmpuint(virtio_pci_cap_fill(cap, VIRTIO_PCI_CAP_NOTIFY_CFG, 4,
                                         VIRTIO_PCI_NOTIFY_OFFSET, VIRTIO_PCI_REGION_SIZE),
                     ==, 20);
    g_assert_cmpmem(cap + 2, 18, "\x14\x02\x04\x00\x00\x00\x00\x30\x00\x00"
                    "\x00\x10\x00\x00\x04\x00\x00\x00", 18);
    g_assert_cmpuint(cap[20], ==, 0xee);
    g_assert_cmpuint(virtio_pci_cap_fill(cap, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000), ==, 16);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    memory_region_init(&root, NULL, "root", UINT64_MAX);
    g_assert_true(memory_region_init_ram(&ram, NULL, "ram", RAM_SIZE, &err));
    memory_region_add_subregion(&root, 0, &ram);
    address_space_init(&as, &root, "test");
    ram_ptr = memory_region_get_ram_ptr(&ram);

    g_test_add_func("/virtio-pci/modern-intx", test_modern_intx);
    g_test_add_func("/virtio-pci/modern-features-refused", test_modern_features_refused);
    g_test_add_func("/virtio-pci/modern-msix", test_modern_msix);
    g_test_add_func("/virtio-pci/legacy", test_legacy);
    g_test_add_func("/virtio-pci/legacy-msix-layout", test_legacy_msix_layout);
    g_test_add_func("/virtio-pci/ioeventfd", test_ioeventfd);
    g_test_add_func("/virtio-pci/rate-limit", test_rate_limit);
    g_test_add_func("/virtio-pci/rng-random", test_rng_random_backend);
    g_test_add_func("/virtio-pci/ids-and-caps", test_ids_and_caps);
    g_test_add_func("/virtio-pci/hostile-registers", test_hostile_registers);
    return g_test_run();
}
