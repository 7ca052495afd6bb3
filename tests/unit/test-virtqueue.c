/*
 * The virtio core's split virtqueue over a fake guest memory: requests and responses, buffers
 * split across discontiguous RAM, indirect tables, notification suppression (NO_INTERRUPT,
 * EVENT_IDX), legacy ring layout, feature negotiation, save/restore, and every malformed
 * chain of virtio 1.2 section 2.7.5 (each must leave the device broken with NEEDS_RESET,
 * logged once, with every mapping given back and nothing outside guest RAM touched).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/log.h"
#include "hw/virtio/virtio.h"
#include <sys/mman.h>

/* Guest RAM: two 64 KiB halves at separate host addresses (so a buffer crossing 0x10000
 * needs two iovecs), and a huge reserved region at 1 TiB that no test may touch. */
#define HALF        0x10000
#define HUGE_BASE   (1ULL << 40)
#define HUGE_SIZE   (8ULL * GiB)
#define DESC        0x1000
#define AVAIL       0x2000
#define USED        0x3000
#define QSIZE       8

static uint8_t *ram_lo, *ram_hi, *huge;
static int maps_outstanding;
static unsigned notifies;
static uint16_t last_vector;
static char *log_path;

static void *fake_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    uint8_t *host;
    uint64_t avail;

    if (gpa < HALF) {
        host = ram_lo + gpa;
        avail = HALF - gpa;
    } else if (gpa < 2 * HALF) {
        host = ram_hi + gpa - HALF;
        avail = 2 * HALF - gpa;
    } else if (gpa >= HUGE_BASE && gpa < HUGE_BASE + HUGE_SIZE) {
        host = huge + (gpa - HUGE_BASE);
        avail = HUGE_BASE + HUGE_SIZE - gpa;
    } else {
        return NULL;
    }
    *plen = MIN(*plen, avail);
    maps_outstanding++;
    return host;
}

static void fake_unmap(void *opaque, void *host, uint64_t len, bool is_write,
                       uint64_t access_len)
{
    maps_outstanding--;
}

static const VirtioMemOps fake_mem = { .map = fake_map, .unmap = fake_unmap };

static void fake_notify(void *opaque, uint16_t vector)
{
    notifies++;
    last_vector = vector;
}

static const VirtioBusOps fake_bus = { .notify = fake_notify };

/* Guest-side helpers: write ring structures as a driver would. */
static uint8_t *gp(uint64_t gpa)
{
    return gpa < HALF ? ram_lo + gpa : ram_hi + gpa - HALF;
}

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *d = gp(table + 16 * i);

    stq_le_p(d, addr);
    stl_le_p(d + 8, len);
    stw_le_p(d + 12, flags);
    stw_le_p(d + 14, next);
}

static uint16_t avail_idx;

static void make_avail(unsigned head)
{
    stw_le_p(gp(AVAIL + 4 + 2 * (avail_idx % QSIZE)), head);
    avail_idx++;
    stw_le_p(gp(AVAIL + 2), avail_idx);
}

static uint16_t used_idx(void)
{
    return lduw_le_p(gp(USED + 2));
}

static unsigned handled;

static void handle(VirtIODevice *vdev, VirtQueue *vq)
{
    handled++;
}

static const VirtioDeviceOps test_ops = { 0 };

typedef struct Fixture {
    VirtIODevice vdev;
    VirtQueue *vq;
} Fixture;

static void fixture_setup(Fixture *f, uint64_t features)
{
    memset(ram_lo, 0, HALF);
    memset(ram_hi, 0, HALF);
    memset(f, 0, sizeof(*f));
    avail_idx = 0;
    notifies = 0;
    handled = 0;
    virtio_init(&f->vdev, "virtio-test", 4, &test_ops, 8);
    virtio_set_mem_ops(&f->vdev, &fake_mem, NULL);
    virtio_set_bus_ops(&f->vdev, &fake_bus, NULL);
    f->vq = virtio_add_queue(&f->vdev, QSIZE, handle);
    virtio_reset(&f->vdev);
    virtio_set_status(&f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    g_assert_true(virtio_set_features(&f->vdev, features));
    virtio_set_status(&f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                      VIRTIO_CONFIG_S_FEATURES_OK);
    virtio_queue_set_num(&f->vdev, 0, QSIZE);
    virtio_queue_set_rings(&f->vdev, 0, DESC, AVAIL, USED);
    f->vq->enabled = true;
    virtio_set_status(&f->vdev, f->vdev.status | VIRTIO_CONFIG_S_DRIVER_OK);
    g_assert_cmpint(!!(f->vdev.status & VIRTIO_CONFIG_S_FEATURES_OK), ==,
                    virtio_has_feature(features, VIRTIO_F_VERSION_1));
}

#define FEAT_ALL ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC))

static char *read_log(void)
{
    char *s = NULL;

    g_assert_true(g_file_get_contents(log_path, &s, NULL, NULL));
    return s;
}

static unsigned count_substr(const char *s, const char *sub)
{
    unsigned n = 0;

    while ((s = strstr(s, sub)) != NULL) {
        n++;
        s += strlen(sub);
    }
    return n;
}

static void test_request_response(void)
{
    Fixture f;
    VirtQueueElement *e;

    fixture_setup(&f, FEAT_ALL);
    memcpy(gp(0x4000), "hello virtio", 12);
    set_desc(DESC, 3, 0x4000, 12, VRING_DESC_F_NEXT, 5);
    set_desc(DESC, 5, 0x5000, 64, VRING_DESC_F_WRITE, 0);
    make_avail(3);

    g_assert_false(virtio_queue_empty(f.vq));
    e = virtqueue_pop(f.vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 3);
    g_assert_cmpuint(e->out_num, ==, 1);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmpmem(e->out_sg[0].iov_base, 12, "hello virtio", 12);
    g_assert_cmphex(e->in_addr[0], ==, 0x5000);
    g_assert_cmpuint(virtio_iov_from_buf(e->in_sg, e->in_num, 0, "reply", 5), ==, 5);
    g_assert_true(virtio_queue_empty(f.vq));
    g_assert_null(virtqueue_pop(f.vq, sizeof(*e)));

    virtqueue_push(f.vq, e, 5);
    g_free(e);
    virtio_notify(&f.vdev, f.vq);
    g_assert_cmpuint(used_idx(), ==, 1);
    g_assert_cmpuint(ldl_le_p(gp(USED + 4)), ==, 3);
    g_assert_cmpuint(ldl_le_p(gp(USED + 8)), ==, 5);
    g_assert_cmpmem(gp(0x5000), 5, "reply", 5);
    g_assert_cmpuint(notifies, ==, 1);
    g_assert_cmpuint(f.vdev.isr & VIRTIO_ISR_QUEUE, ==, VIRTIO_ISR_QUEUE);
    g_assert_cmpint(maps_outstanding, ==, 0);

    /* A notification runs the handler; unpop returns an element for the next pop. */
    virtio_queue_notify(&f.vdev, 0);
    g_assert_cmpuint(handled, ==, 1);
    make_avail(3);
    e = virtqueue_pop(f.vq, sizeof(*e));
    virtqueue_unpop(f.vq, e);
    g_free(e);
    e = virtqueue_pop(f.vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 3);
    virtqueue_push(f.vq, e, 0);
    g_free(e);
    g_assert_cmpint(maps_outstanding, ==, 0);
    g_assert_false(f.vdev.broken);
    virtio_cleanup(&f.vdev);
}

static void test_split_buffer(void)
{
    Fixture f;
    VirtQueueElement *e;

    fixture_setup(&f, FEAT_ALL);
    /* 0x100 bytes straddling the two host allocations; a zero-length buffer is skipped. */
    set_desc(DESC, 0, HALF - 0x80, 0x100, VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 0x6000, 0, VRING_DESC_F_WRITE, 0);
    make_avail(0);
    e = virtqueue_pop(f.vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 0);
    g_assert_true(e->out_sg[0].iov_base == ram_lo + HALF - 0x80);
    g_assert_cmpuint(e->out_sg[0].iov_len, ==, 0x80);
    g_assert_true(e->out_sg[1].iov_base == ram_hi);
    g_assert_cmpuint(virtio_iov_size(e->out_sg, e->out_num), ==, 0x100);
    virtqueue_push(f.vq, e, 0);
    g_free(e);
    g_assert_cmpint(maps_outstanding, ==, 0);
    virtio_cleanup(&f.vdev);
}

static void test_indirect(void)
{
    Fixture f;
    VirtQueueElement *e;
    const uint64_t table = 0x7000;

    fixture_setup(&f, FEAT_ALL);
    set_desc(table, 0, 0x4000, 16, VRING_DESC_F_NEXT, 2);
    set_desc(table, 2, 0x4100, 512, VRING_DESC_F_NEXT, 1);
    set_desc(table, 1, 0x4400, 1, VRING_DESC_F_WRITE, 0);
    set_desc(DESC, 6, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(6);
    e = virtqueue_pop(f.vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 6);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmphex(e->out_addr[1], ==, 0x4100);
    g_assert_cmphex(e->in_addr[0], ==, 0x4400);
    virtqueue_push(f.vq, e, 1);
    g_free(e);
    g_assert_cmpint(maps_outstanding, ==, 0);
    g_assert_false(f.vdev.broken);
    virtio_cleanup(&f.vdev);
}

static void push_one(Fixture *f)
{
    VirtQueueElement *e;

    set_desc(DESC, 0, 0x5000, 8, VRING_DESC_F_WRITE, 0);
    make_avail(0);
    e = virtqueue_pop(f->vq, sizeof(*e));
    g_assert_nonnull(e);
    virtqueue_push(f->vq, e, 8);
    g_free(e);
    virtio_notify(&f->vdev, f->vq);
}

static void test_no_interrupt(void)
{
    Fixture f;

    fixture_setup(&f, FEAT_ALL);
    f.vq->vector = 3;
    stw_le_p(gp(AVAIL), VRING_AVAIL_F_NO_INTERRUPT);
    push_one(&f);
    g_assert_cmpuint(notifies, ==, 0);
    stw_le_p(gp(AVAIL), 0);
    push_one(&f);
    g_assert_cmpuint(notifies, ==, 1);
    g_assert_cmpuint(last_vector, ==, 3);

    /* The device suppresses driver notifications through used->flags. */
    virtio_queue_set_notification(f.vq, false);
    g_assert_cmpuint(lduw_le_p(gp(USED)) & VRING_USED_F_NO_NOTIFY, ==, VRING_USED_F_NO_NOTIFY);
    virtio_queue_set_notification(f.vq, true);
    g_assert_cmpuint(lduw_le_p(gp(USED)) & VRING_USED_F_NO_NOTIFY, ==, 0);
    virtio_cleanup(&f.vdev);
}

static void test_event_idx(void)
{
    Fixture f;
    const uint64_t used_event = AVAIL + 4 + 2 * QSIZE;
    const uint64_t avail_event = USED + 4 + 8 * QSIZE;

    fixture_setup(&f, FEAT_ALL | (1ULL << VIRTIO_RING_F_EVENT_IDX));
    /* The first interrupt always goes out; then only when used_idx passes used_event. */
    stw_le_p(gp(used_event), 2);
    push_one(&f);
    g_assert_cmpuint(notifies, ==, 1);
    g_assert_cmpuint(lduw_le_p(gp(avail_event)), ==, 1);
    push_one(&f);                   /* used_idx 2: event 2 not yet passed */
    g_assert_cmpuint(notifies, ==, 1);
    push_one(&f);                   /* used_idx 3: passed 2 */
    g_assert_cmpuint(notifies, ==, 2);
    push_one(&f);
    g_assert_cmpuint(notifies, ==, 2);
    stw_le_p(gp(used_event), 4);
    push_one(&f);                   /* used_idx 5 passes 4 */
    g_assert_cmpuint(notifies, ==, 3);
    /* Flags are ignored with EVENT_IDX (2.7.7). */
    g_assert_cmpuint(lduw_le_p(gp(avail_event)), ==, 5);
    virtio_cleanup(&f.vdev);
}

static void test_legacy_layout(void)
{
    Fixture f;

    fixture_setup(&f, 0);
    /* Without VERSION_1 the device refuses FEATURES_OK (legacy drivers never set it). */
    g_assert_cmpint(f.vdev.status & VIRTIO_CONFIG_S_FEATURES_OK, ==, 0);
    virtio_queue_set_legacy_pfn(&f.vdev, 0, 0x8);
    g_assert_cmphex(f.vq->desc, ==, 0x8000);
    g_assert_cmphex(f.vq->avail, ==, 0x8000 + 16 * QSIZE);
    g_assert_cmphex(f.vq->used, ==, 0x9000);
    g_assert_cmpuint(virtio_queue_get_legacy_pfn(&f.vdev, 0), ==, 8);
    virtio_queue_set_legacy_pfn(&f.vdev, 0, 0);
    g_assert_false(f.vq->enabled);
    g_assert_cmpuint(virtio_queue_get_legacy_pfn(&f.vdev, 0), ==, 0);
    virtio_cleanup(&f.vdev);
}

static void test_features(void)
{
    Fixture f;

    fixture_setup(&f, FEAT_ALL);
    /* Fixed after FEATURES_OK (3.1.1). */
    g_assert_false(virtio_set_features(&f.vdev, 1ULL << VIRTIO_F_VERSION_1));
    g_assert_cmphex(f.vdev.guest_features, ==, FEAT_ALL);
    virtio_set_status(&f.vdev, 0);
    g_assert_cmphex(f.vdev.guest_features, ==, 0);
    g_assert_cmpuint(f.vdev.status, ==, 0);
    g_assert_cmphex(f.vq->desc, ==, 0);
    g_assert_false(f.vq->enabled);
    /* Bits the device does not offer are dropped. */
    g_assert_false(virtio_set_features(&f.vdev, 1ULL << 60));
    g_assert_cmphex(f.vdev.guest_features, ==, 0);
    /* Queue sizes: powers of 2 up to the maximum, anything else makes the queue unusable. */
    virtio_queue_set_num(&f.vdev, 0, 6);
    g_assert_cmpuint(f.vq->num, ==, 0);
    virtio_queue_set_num(&f.vdev, 0, 4);
    g_assert_cmpuint(f.vq->num, ==, 4);
    virtio_queue_set_num(&f.vdev, 0, 16);
    g_assert_cmpuint(f.vq->num, ==, 0);
    /* Config space bounds. */
    g_assert_cmphex(virtio_config_read(&f.vdev, 6, 4), ==, 0xffffffff);
    virtio_config_write(&f.vdev, 4, 0x12345678, 4);
    g_assert_cmphex(virtio_config_read(&f.vdev, 4, 4), ==, 0x12345678);
    g_assert_cmphex(virtio_config_read(&f.vdev, 0xfffffffe, 4), ==, 0xffffffff);
    virtio_cleanup(&f.vdev);
}

static void test_vmstate(void)
{
    Fixture a, b;
    GByteArray *buf = g_byte_array_new();
    size_t pos = 0;
    Error *err = NULL;
    VirtQueueElement *e;

    fixture_setup(&a, FEAT_ALL);
    push_one(&a);
    set_desc(DESC, 0, 0x5000, 8, VRING_DESC_F_WRITE, 0);
    make_avail(0);
    e = virtqueue_pop(a.vq, sizeof(*e));        /* in flight at save time */
    g_assert_cmpint(vmstate_save(buf, &vmstate_virtio, &a.vdev, &err), ==, 0);

    virtio_init(&b.vdev, "virtio-test", 4, &test_ops, 8);
    virtio_set_mem_ops(&b.vdev, &fake_mem, NULL);
    b.vq = virtio_add_queue(&b.vdev, QSIZE, handle);
    if (!vmstate_load(buf->data, buf->len, &pos, &vmstate_virtio, &b.vdev, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_cmpuint(b.vdev.status, ==, a.vdev.status);
    g_assert_cmphex(b.vdev.guest_features, ==, FEAT_ALL);
    g_assert_cmphex(b.vq->used, ==, USED);
    g_assert_cmpuint(b.vq->last_avail_idx, ==, 2);
    g_assert_cmpuint(b.vq->used_idx, ==, 1);
    /* The request in flight is rebuilt from its saved head on the destination. */
    g_assert_cmpuint(b.vq->inuse, ==, 0);
    {
        VirtQueueElement *again = virtqueue_pop_head(b.vq, e->index, sizeof(*again));

        g_assert_nonnull(again);
        g_assert_cmpuint(again->in_num, ==, 1);
        g_assert_cmphex(again->in_addr[0], ==, 0x5000);
        g_assert_cmpuint(b.vq->inuse, ==, 1);
        g_assert_cmpuint(b.vq->last_avail_idx, ==, 2);
        virtqueue_push(b.vq, again, 8);
        g_free(again);
        g_assert_cmpuint(used_idx(), ==, 2);
        g_assert_null(virtqueue_pop_head(b.vq, QSIZE, sizeof(*again)));
        g_assert_true(b.vdev.broken);
    }

    /* A stream with a queue size the device does not offer is refused. */
    a.vq->num = 3;
    g_byte_array_set_size(buf, 0);
    g_assert_cmpint(vmstate_save(buf, &vmstate_virtio, &a.vdev, &err), ==, 0);
    pos = 0;
    g_assert_false(vmstate_load(buf->data, buf->len, &pos, &vmstate_virtio, &b.vdev, &err));
    g_clear_pointer(&err, error_free);
    a.vq->num = QSIZE;
    virtqueue_push(a.vq, e, 0);
    g_free(e);
    g_byte_array_free(buf, true);
    virtio_cleanup(&a.vdev);
    virtio_cleanup(&b.vdev);
}

/* --- malformed chains --- */

typedef struct BadCase {
    const char *name;
    uint64_t features;
    void (*build)(void);
    const char *msg;            /* expected in the log */
} BadCase;

static void bad_head(void) { make_avail(QSIZE); }
static void bad_next(void)
{
    set_desc(DESC, 0, 0x4000, 8, VRING_DESC_F_NEXT, QSIZE + 3);
    make_avail(0);
}
static void bad_loop(void)
{
    set_desc(DESC, 0, 0x4000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 0x4000, 8, VRING_DESC_F_NEXT, 0);
    make_avail(0);
}
static void bad_self_loop(void)
{
    set_desc(DESC, 2, 0x4000, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    make_avail(2);
}
static void bad_indirect_loop(void)
{
    set_desc(0x7000, 0, 0x4000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(0x7000, 1, 0x4000, 8, VRING_DESC_F_NEXT, 0);
    set_desc(DESC, 0, 0x7000, 32, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_indirect_next_range(void)
{
    set_desc(0x7000, 0, 0x4000, 8, VRING_DESC_F_NEXT, 2);    /* table holds 2 */
    set_desc(DESC, 0, 0x7000, 32, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_overflow(void)
{
    /* Three 3 GiB buffers in (reserved) RAM: the total passes 4 GiB. */
    set_desc(DESC, 0, HUGE_BASE, 0xc0000000u, VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, HUGE_BASE + 3 * GiB, 0xc0000000u, VRING_DESC_F_NEXT, 2);
    set_desc(DESC, 2, 0x4000, 8, 0, 0);
    make_avail(0);
}
static void bad_wrap(void)
{
    set_desc(DESC, 0, UINT64_MAX - 0xf, 0x100, 0, 0);
    make_avail(0);
}
static void bad_indirect_len(void)
{
    set_desc(DESC, 0, 0x7000, 24, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_indirect_zero(void)
{
    set_desc(DESC, 0, 0x7000, 0, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_indirect_nested(void)
{
    set_desc(0x7000, 0, 0x7100, 16, VRING_DESC_F_INDIRECT, 0);
    set_desc(DESC, 0, 0x7000, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_indirect_next(void)
{
    set_desc(0x7000, 0, 0x4000, 8, 0, 0);
    set_desc(DESC, 0, 0x7000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 0x4000, 8, 0, 0);
    make_avail(0);
}
static void bad_indirect_chained(void)
{
    set_desc(0x7000, 0, 0x4000, 8, 0, 0);
    set_desc(DESC, 0, 0x4000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 0x7000, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_indirect_table_outside(void)
{
    set_desc(DESC, 0, 0x900000, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(0);
}
static void bad_order(void)
{
    set_desc(DESC, 0, 0x4000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 0x4100, 8, 0, 0);
    make_avail(0);
}
static void bad_outside(void)
{
    set_desc(DESC, 0, 0x4000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(DESC, 1, 2 * HALF - 4, 8, VRING_DESC_F_WRITE, 0);   /* runs off RAM's end */
    make_avail(0);
}
static void bad_avail_idx(void)
{
    set_desc(DESC, 0, 0x4000, 8, 0, 0);
    make_avail(0);
    stw_le_p(gp(AVAIL + 2), QSIZE + 1);
}
static void bad_desc_table(void)
{
    /* test_bad_chain then moves the descriptor table outside RAM. */
    make_avail(0);
}

static const BadCase bad_cases[] = {
    { "head-out-of-range", FEAT_ALL, bad_head, "head index 8" },
    { "next-out-of-range", FEAT_ALL, bad_next, "next index 11" },
    { "loop", FEAT_ALL, bad_loop, "loops" },
    { "self-loop", FEAT_ALL, bad_self_loop, "loops" },
    { "indirect-loop", FEAT_ALL, bad_indirect_loop, "loops or is longer than 2" },
    { "indirect-next-out-of-range", FEAT_ALL, bad_indirect_next_range, "next index 2" },
    { "length-over-4g", FEAT_ALL, bad_overflow, "longer than 4 GiB" },
    { "address-wraps", FEAT_ALL, bad_wrap, "wraps around" },
    { "indirect-len-not-16", FEAT_ALL, bad_indirect_len, "indirect table length 24" },
    { "indirect-len-zero", FEAT_ALL, bad_indirect_zero, "indirect table length 0" },
    { "indirect-nested", FEAT_ALL, bad_indirect_nested, "nested indirect" },
    { "indirect-with-next", FEAT_ALL, bad_indirect_next, "also has NEXT" },
    { "indirect-chained", FEAT_ALL, bad_indirect_chained, "chained indirect" },
    { "indirect-not-negotiated", 1ULL << VIRTIO_F_VERSION_1, bad_indirect_len,
      "without INDIRECT_DESC" },
    { "indirect-table-outside-ram", FEAT_ALL, bad_indirect_table_outside, "not in RAM" },
    { "write-before-read", FEAT_ALL, bad_order, "read-only descriptor 1 after" },
    { "buffer-outside-ram", FEAT_ALL, bad_outside, "is not in guest RAM" },
    { "avail-idx-too-far", FEAT_ALL, bad_avail_idx, "entries ahead" },
    { "desc-table-outside-ram", FEAT_ALL, bad_desc_table, "descriptor table at" },
};

static void test_bad_chain(gconstpointer data)
{
    const BadCase *c = data;
    Fixture f;
    VirtQueueElement *e;
    char *log;

    g_assert_cmpint(truncate(log_path, 0), ==, 0);
    fixture_setup(&f, c->features);
    c->build();
    if (c->build == bad_desc_table) {
        virtio_queue_set_rings(&f.vdev, 0, 0x900000, AVAIL, USED);
    }
    notifies = 0;
    g_assert_null(virtqueue_pop(f.vq, sizeof(*e)));
    g_assert_true(f.vdev.broken);
    g_assert_cmpint(maps_outstanding, ==, 0);
    /* 2.1.2: NEEDS_RESET, and a config interrupt since DRIVER_OK is set. */
    g_assert_cmpuint(f.vdev.status & VIRTIO_CONFIG_S_NEEDS_RESET, ==,
                     VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmpuint(f.vdev.isr & VIRTIO_ISR_CONFIG, ==, VIRTIO_ISR_CONFIG);
    g_assert_cmpuint(notifies, ==, 1);
    g_assert_cmpuint(used_idx(), ==, 0);

    /* Nothing more is processed until reset, and the error is logged once. */
    set_desc(DESC, 5, 0x4000, 8, 0, 0);
    make_avail(5);
    g_assert_null(virtqueue_pop(f.vq, sizeof(*e)));
    virtio_queue_notify(&f.vdev, 0);
    g_assert_cmpuint(handled, ==, 0);
    virtio_set_status(&f.vdev, f.vdev.status & ~VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmpuint(f.vdev.status & VIRTIO_CONFIG_S_NEEDS_RESET, !=, 0);
    log = read_log();
    g_assert_nonnull(strstr(log, c->msg));
    g_assert_cmpuint(count_substr(log, "needs reset"), ==, 1);
    g_free(log);

    /* After a reset and a fresh set-up the device works again. */
    virtio_cleanup(&f.vdev);
    fixture_setup(&f, FEAT_ALL);
    g_assert_false(f.vdev.broken);
    push_one(&f);
    g_assert_cmpuint(used_idx(), ==, 1);
    g_assert_cmpint(maps_outstanding, ==, 0);
    virtio_cleanup(&f.vdev);
}

int main(int argc, char **argv)
{
    int fd, ret;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    ram_lo = g_malloc0(HALF);
    ram_hi = g_malloc0(HALF);
    /* Reserved, inaccessible: any touch of the "huge RAM" would fault. */
    huge = mmap(NULL, HUGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    g_assert_true(huge != MAP_FAILED);
    fd = g_file_open_tmp("test-virtqueue-XXXXXX.log", &log_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(kite_log_parse_items("guest_errors", &err));
    g_assert_true(kite_log_set_file(log_path, &err));

    g_test_add_func("/virtqueue/request-response", test_request_response);
    g_test_add_func("/virtqueue/split-buffer", test_split_buffer);
    g_test_add_func("/virtqueue/indirect", test_indirect);
    g_test_add_func("/virtqueue/no-interrupt", test_no_interrupt);
    g_test_add_func("/virtqueue/event-idx", test_event_idx);
    g_test_add_func("/virtqueue/legacy-layout", test_legacy_layout);
    g_test_add_func("/virtqueue/features", test_features);
    g_test_add_func("/virtqueue/vmstate", test_vmstate);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        char *path = g_strdup_printf("/virtqueue/bad/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad_chain);
        g_free(path);
    }
    ret = g_test_run();
    unlink(log_path);
    g_free(log_path);
    munmap(huge, HUGE_SIZE);
    g_free(ram_lo);
    g_free(ram_hi);
    return ret;
}
