/*
 * Random rings for the split virtqueue: descriptor tables, indirect tables and avail rings
 * filled with values biased towards almost-valid (addresses near the ends of RAM, indices
 * around the queue size, every flag combination), under random feature sets.  Guest RAM sits
 * between PROT_NONE guard pages, so a host access outside it faults.  Every element popped
 * must lie wholly inside RAM with its device-readable buffers first, every mapping must be
 * given back, and a broken device must pop nothing.  The seed is fixed (reproducible);
 * KITE_FUZZ_SEED and KITE_FUZZ_ITERS override it for longer runs.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "hw/virtio/virtio.h"
#include <sys/mman.h>

#define RAM_SIZE    0x10000
#define PAGE        4096

static uint8_t *ram;
static int maps;
static GRand *rnd;

static void *fz_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    if (gpa >= RAM_SIZE) {
        return NULL;
    }
    *plen = MIN(*plen, RAM_SIZE - gpa);
    maps++;
    return ram + gpa;
}

static void fz_unmap(void *opaque, void *host, uint64_t len, bool w, uint64_t alen)
{
    g_assert_true((uint8_t *)host >= ram && (uint8_t *)host + len <= ram + RAM_SIZE);
    g_assert_cmpuint(alen, <=, len);
    maps--;
}

static const VirtioMemOps fz_mem = { .map = fz_map, .unmap = fz_unmap };
static const VirtioDeviceOps fz_ops = { 0 };

static void fz_handle(VirtIODevice *vdev, VirtQueue *vq)
{
}

static uint32_t pick(uint32_t n)
{
    return g_rand_int_range(rnd, 0, n);
}

/* An address biased to the interesting places: low RAM, the end of RAM, beyond it. */
static uint64_t rand_addr(void)
{
    switch (pick(8)) {
    case 0:
        return RAM_SIZE - pick(64);
    case 1:
        return (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
    case 2:
        return UINT64_MAX - pick(4096);
    default:
        return 0x4000 + pick(RAM_SIZE - 0x4000);
    }
}

static uint32_t rand_len(void)
{
    switch (pick(8)) {
    case 0:
        return g_rand_int(rnd);
    case 1:
        return 16 * pick(9);            /* indirect table sizes, 0 included */
    case 2:
        return RAM_SIZE - pick(16);
    default:
        return pick(512);
    }
}

static void rand_desc(uint8_t *d, unsigned num)
{
    stq_le_p(d, rand_addr());
    stl_le_p(d + 8, rand_len());
    stw_le_p(d + 12, pick(8) | (pick(16) == 0 ? 0xfff8 : 0));
    stw_le_p(d + 14, pick(4) ? pick(num) : pick(num + 4));
}

static void check_elem(VirtQueueElement *e, unsigned num)
{
    uint64_t total = 0;

    g_assert_cmpuint(e->index, <, num);
    for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
        const struct iovec *v = i < e->out_num ? &e->out_sg[i] : &e->in_sg[i - e->out_num];
        uint64_t gpa = i < e->out_num ? e->out_addr[i] : e->in_addr[i - e->out_num];

        g_assert_true((uint8_t *)v->iov_base >= ram);
        g_assert_true((uint8_t *)v->iov_base + v->iov_len <= ram + RAM_SIZE);
        g_assert_true((uint8_t *)v->iov_base == ram + gpa);
        total += v->iov_len;
        /* Touch every byte: a bad pointer faults here, under ASan or not. */
        if (v->iov_len) {
            volatile uint8_t *p = v->iov_base;
            (void)p[0];
            (void)p[v->iov_len - 1];
        }
    }
    g_assert_cmpuint(total, <=, UINT32_MAX);
}

static void test_fuzz(void)
{
    const char *seed_env = g_getenv("KITE_FUZZ_SEED");
    const char *iters_env = g_getenv("KITE_FUZZ_ITERS");
    unsigned iters = iters_env ? atoi(iters_env) : 20000;
    unsigned popped = 0, broken = 0;
    VirtIODevice *vdev = g_new0(VirtIODevice, 1);

    rnd = g_rand_new_with_seed(seed_env ? atoi(seed_env) : 0x6b697465);
    virtio_init(vdev, "virtio-fuzz", 4, &fz_ops, 0);
    virtio_set_mem_ops(vdev, &fz_mem, NULL);
    virtio_add_queue(vdev, 256, fz_handle);

    for (unsigned it = 0; it < iters; it++) {
        VirtQueue *vq = &vdev->vq[0];
        unsigned num = 1u << pick(9);               /* 1..256 */
        uint64_t features = (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
        VirtQueueElement *e;
        unsigned budget = 64;

        virtio_reset(vdev);
        virtio_set_features(vdev, features | (1ULL << VIRTIO_F_VERSION_1));
        virtio_set_status(vdev, 0x0f);
        virtio_queue_set_num(vdev, 0, num);
        /* Rings at fixed places (descriptor table 0..0x1000, avail, used) or near the end. */
        if (pick(16) == 0) {
            virtio_queue_set_rings(vdev, 0, RAM_SIZE - 16 * pick(8), 0x1000, 0x2000);
        } else {
            virtio_queue_set_rings(vdev, 0, 0, 0x1000, 0x2000);
        }
        vq->enabled = true;
        /* Random descriptors, plus a few random indirect tables somewhere in RAM. */
        for (unsigned i = 0; i < num; i++) {
            rand_desc(ram + 16 * i, num);
        }
        for (unsigned t = 0; t < 8; t++) {
            uint64_t at = 0x4000 + 16 * pick((RAM_SIZE - 0x4000) / 16 - 16);
            for (unsigned i = 0; i < 16; i++) {
                rand_desc(ram + at + 16 * i, 16);
            }
            if (pick(2)) {
                stq_le_p(ram + 16 * pick(num), at);
            }
        }
        stw_le_p(ram + 0x1000, pick(2));
        stw_le_p(ram + 0x1002, pick(4) ? pick(num + 1) : g_rand_int(rnd));
        for (unsigned i = 0; i < num + 1; i++) {
            stw_le_p(ram + 0x1004 + 2 * i, pick(8) ? pick(num) : g_rand_int(rnd));
        }

        while (budget-- && (e = virtqueue_pop(vq, sizeof(*e))) != NULL) {
            uint32_t in = virtio_iov_size(e->in_sg, e->in_num);

            g_assert_false(vdev->broken);
            check_elem(e, num);
            popped++;
            virtqueue_push(vq, e, in ? pick(in + 1) : 0);
            g_free(e);
            virtio_notify(vdev, vq);
        }
        if (vdev->broken) {
            broken++;
            g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
            g_assert_cmpuint(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET, !=, 0);
        }
        g_assert_cmpint(maps, ==, 0);
    }
    /* The generator must exercise both outcomes, or it tests nothing. */
    g_test_message("%u iterations: %u elements popped, %u rings broken", iters, popped, broken);
    g_assert_cmpuint(popped, >, iters / 20);
    g_assert_cmpuint(broken, >, iters / 20);
    virtio_cleanup(vdev);
    g_free(vdev);
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    uint8_t *area;

    g_test_init(&argc, &argv, NULL);
    /* [guard][RAM][guard] */
    area = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(area != MAP_FAILED);
    ram = area + PAGE;
    g_assert_cmpint(mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE), ==, 0);
    g_test_add_func("/virtqueue/fuzz", test_fuzz);
    return g_test_run();
}
