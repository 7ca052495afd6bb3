/*
 * Split virtqueues (virtio 1.2 spec section 2.7): taking descriptor chains from the available
 * ring, returning them through the used ring, and notification suppression.
 *
 * The driver owns the rings and may rewrite them at any time (under KVM from another thread),
 * so every value is read from guest memory once into a local copy and validated there
 * (2.7.5 and the checks QEMU's virtqueue_pop makes): head and next indices below the table
 * size, chains no longer than the table (which also catches loops), total length below
 * 4 GiB, indirect tables a non-zero multiple of 16 bytes with no nested indirection and no
 * NEXT flag on the indirect descriptor, no device-readable buffer after a device-writable
 * one, and every buffer wholly inside guest RAM.  Anything else calls virtio_error().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio.h"

/* Layout of the split ring (2.7.5, 2.7.6, 2.7.8). */
#define VRING_DESC_SIZE         16
#define VRING_AVAIL_FLAGS       0
#define VRING_AVAIL_IDX         2
#define VRING_AVAIL_RING        4
#define VRING_USED_FLAGS        0
#define VRING_USED_IDX          2
#define VRING_USED_RING         4
#define VRING_USED_ELEM_SIZE    8

typedef struct VRingDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VRingDesc;

/* The driver runs concurrently under KVM: order our ring reads and writes against its
 * (2.7.13 "Supplying Buffers", 2.7.14 "Receiving Used Buffers"). */
static inline void virtio_mb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void virtio_rmb(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void virtio_wmb(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Copy len bytes between guest-physical gpa and buf; false if any byte is not RAM. */
static bool vq_access(VirtIODevice *vdev, uint64_t gpa, void *buf, uint64_t len, bool write)
{
    uint8_t *p = buf;

    if (gpa + len < gpa) {
        return false;
    }
    while (len > 0) {
        uint64_t l = len;
        void *host = vdev->mem->map(vdev->mem_opaque, gpa, &l, write);

        if (!host || l == 0) {
            return false;
        }
        if (l > len) {
            l = len;
        }
        if (write) {
            memcpy(host, p, l);
        } else {
            memcpy(p, host, l);
        }
        vdev->mem->unmap(vdev->mem_opaque, host, l, write, write ? l : 0);
        gpa += l;
        p += l;
        len -= l;
    }
    return true;
}

static bool vq_read16(VirtQueue *vq, uint64_t gpa, uint16_t *val)
{
    uint8_t b[2];

    if (!vq_access(vq->vdev, gpa, b, 2, false)) {
        return false;
    }
    *val = b[0] | (b[1] << 8);      /* rings are little-endian (2.7.1; x86 legacy too) */
    return true;
}

static bool vq_write16(VirtQueue *vq, uint64_t gpa, uint16_t val)
{
    uint8_t b[2] = { val, val >> 8 };

    return vq_access(vq->vdev, gpa, b, 2, true);
}

static bool vq_read_desc(VirtQueue *vq, uint64_t table, unsigned i, VRingDesc *d)
{
    uint8_t b[VRING_DESC_SIZE];

    if (!vq_access(vq->vdev, table + (uint64_t)i * VRING_DESC_SIZE, b, sizeof(b), false)) {
        return false;
    }
    d->addr = ldq_le_p(b);
    d->len = ldl_le_p(b + 8);
    d->flags = lduw_le_p(b + 12);
    d->next = lduw_le_p(b + 14);
    return true;
}

/* used_event sits after the avail ring, avail_event after the used ring (2.7.10). */
static uint64_t vq_used_event_addr(VirtQueue *vq)
{
    return vq->avail + VRING_AVAIL_RING + 2ULL * vq->num;
}

static uint64_t vq_avail_event_addr(VirtQueue *vq)
{
    return vq->used + VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * vq->num;
}

bool virtio_queue_ready(VirtQueue *vq)
{
    return vq->handle_output && vq->enabled && vq->num != 0 && !vq->vdev->broken;
}

/* The driver's avail->idx, checked against how far it may run ahead of us. */
static bool vq_avail_idx(VirtQueue *vq, uint16_t *idx)
{
    if (!vq_read16(vq, vq->avail + VRING_AVAIL_IDX, idx)) {
        virtio_error(vq->vdev, "queue %u: avail ring at 0x%" PRIx64 " is not in RAM",
                     vq->queue_index, vq->avail);
        return false;
    }
    if ((uint16_t)(*idx - vq->last_avail_idx) > vq->num) {
        virtio_error(vq->vdev, "queue %u: avail idx %u is %u entries ahead of a %u-entry ring",
                     vq->queue_index, *idx, (uint16_t)(*idx - vq->last_avail_idx), vq->num);
        return false;
    }
    return true;
}

bool virtio_queue_empty(VirtQueue *vq)
{
    uint16_t idx;

    if (!virtio_queue_ready(vq)) {
        return true;
    }
    if (!vq_read16(vq, vq->avail + VRING_AVAIL_IDX, &idx)) {
        return true;
    }
    return idx == vq->last_avail_idx;
}

/* Scratch space for one chain being walked. */
typedef struct ChainWalk {
    struct iovec iov[VIRTQUEUE_MAX_SIZE];
    uint64_t addr[VIRTQUEUE_MAX_SIZE];
    bool is_write[VIRTQUEUE_MAX_SIZE];
    unsigned num;
    unsigned in_num;
} ChainWalk;

static void chain_unmap(VirtIODevice *vdev, ChainWalk *w)
{
    for (unsigned i = 0; i < w->num; i++) {
        vdev->mem->unmap(vdev->mem_opaque, w->iov[i].iov_base, w->iov[i].iov_len,
                         w->is_write[i], 0);
    }
    w->num = 0;
}

/* Map one descriptor's buffer, split where guest RAM is not contiguous on the host. */
static bool chain_map(VirtQueue *vq, ChainWalk *w, const VRingDesc *d)
{
    VirtIODevice *vdev = vq->vdev;
    bool write = d->flags & VRING_DESC_F_WRITE;
    uint64_t gpa = d->addr, len = d->len;

    if (gpa + len < gpa) {
        virtio_error(vdev, "queue %u: buffer 0x%" PRIx64 "+0x%x wraps around",
                     vq->queue_index, d->addr, d->len);
        return false;
    }
    while (len > 0) {
        uint64_t l = len;
        void *host;

        if (w->num == VIRTQUEUE_MAX_SIZE) {
            virtio_error(vdev, "queue %u: chain needs more than %u buffers", vq->queue_index,
                         VIRTQUEUE_MAX_SIZE);
            return false;
        }
        host = vdev->mem->map(vdev->mem_opaque, gpa, &l, write);
        if (!host || l == 0) {
            virtio_error(vdev, "queue %u: buffer 0x%" PRIx64 "+0x%x is not in guest RAM",
                         vq->queue_index, d->addr, d->len);
            return false;
        }
        if (l > len) {
            l = len;
        }
        w->iov[w->num].iov_base = host;
        w->iov[w->num].iov_len = l;
        w->addr[w->num] = gpa;
        w->is_write[w->num] = write;
        w->num++;
        if (write) {
            w->in_num++;
        }
        gpa += l;
        len -= l;
    }
    return true;
}

/* Walk the chain starting at head into w; false (device broken) on any malformation. */
static bool vq_walk_chain(VirtQueue *vq, unsigned head, ChainWalk *w)
{
    VirtIODevice *vdev = vq->vdev;
    uint64_t table = vq->desc, total = 0;
    unsigned max = vq->num, i = head, count = 0;
    bool indirect = false, seen_write = false;
    VRingDesc d;

    if (!vq_read_desc(vq, table, i, &d)) {
        virtio_error(vdev, "queue %u: descriptor table at 0x%" PRIx64 " is not in RAM",
                     vq->queue_index, table);
        return false;
    }
    if (d.flags & VRING_DESC_F_INDIRECT) {
        /* 2.7.5.3.1: an indirect table is len bytes of 16-byte descriptors; the driver
         * MUST NOT set NEXT together with INDIRECT. */
        if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
            virtio_error(vdev, "queue %u: indirect descriptor without INDIRECT_DESC",
                         vq->queue_index);
            return false;
        }
        if (d.flags & VRING_DESC_F_NEXT) {
            virtio_error(vdev, "queue %u: indirect descriptor %u also has NEXT",
                         vq->queue_index, i);
            return false;
        }
        if (d.len == 0 || d.len % VRING_DESC_SIZE != 0 ||
            d.len / VRING_DESC_SIZE > VIRTQUEUE_MAX_SIZE) {
            virtio_error(vdev, "queue %u: indirect table length %u is invalid",
                         vq->queue_index, d.len);
            return false;
        }
        if (d.addr + d.len < d.addr) {
            virtio_error(vdev, "queue %u: indirect table 0x%" PRIx64 " wraps around",
                         vq->queue_index, d.addr);
            return false;
        }
        table = d.addr;
        max = d.len / VRING_DESC_SIZE;
        indirect = true;
        i = 0;
        if (!vq_read_desc(vq, table, i, &d)) {
            virtio_error(vdev, "queue %u: indirect table at 0x%" PRIx64 " is not in RAM",
                         vq->queue_index, table);
            return false;
        }
    }

    for (;;) {
        /* A chain visiting more descriptors than the table holds has a loop (2.7.5.2). */
        if (++count > max) {
            virtio_error(vdev, "queue %u: descriptor chain from %u loops or is longer than %u",
                         vq->queue_index, head, max);
            goto fail;
        }
        if (d.flags & VRING_DESC_F_INDIRECT) {
            virtio_error(vdev, "queue %u: %s indirect descriptor %u", vq->queue_index,
                         indirect ? "nested" : "chained", i);
            goto fail;
        }
        if (d.flags & VRING_DESC_F_WRITE) {
            seen_write = true;
        } else if (seen_write) {
            /* 2.7.4.2: device-readable buffers come before device-writable ones. */
            virtio_error(vdev, "queue %u: read-only descriptor %u after a write-only one",
                         vq->queue_index, i);
            goto fail;
        }
        total += d.len;
        if (total > UINT32_MAX) {
            virtio_error(vdev, "queue %u: chain from %u is longer than 4 GiB",
                         vq->queue_index, head);
            goto fail;
        }
        if (!chain_map(vq, w, &d)) {
            goto fail;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
        if (i >= max) {
            virtio_error(vdev, "queue %u: next index %u beyond a %u-entry table",
                         vq->queue_index, i, max);
            goto fail;
        }
        if (!vq_read_desc(vq, table, i, &d)) {
            virtio_error(vdev, "queue %u: descriptor table at 0x%" PRIx64 " is not in RAM",
                         vq->queue_index, table);
            goto fail;
        }
    }

fail:
    chain_unmap(vdev, w);
    return false;
}

/* Walk the chain at head into a new element of sz bytes; NULL (device broken) if bad. */
static VirtQueueElement *vq_build_elem(VirtQueue *vq, unsigned head, size_t sz)
{
    VirtQueueElement *elem;
    ChainWalk *w;
    unsigned out_num, o = 0, n = 0;

    if (head >= vq->num) {
        virtio_error(vq->vdev, "queue %u: head index %u beyond a %u-entry ring",
                     vq->queue_index, head, vq->num);
        return NULL;
    }
    if (!vq->walk) {
        vq->walk = g_new(ChainWalk, 1);
    }
    w = vq->walk;
    w->num = w->in_num = 0;
    if (!vq_walk_chain(vq, head, w)) {
        return NULL;
    }
    out_num = w->num - w->in_num;
    elem = g_malloc0(sz + w->num * (sizeof(struct iovec) + sizeof(uint64_t)));
    elem->index = head;
    elem->out_num = out_num;
    elem->in_num = w->in_num;
    elem->out_sg = (struct iovec *)((uint8_t *)elem + sz);
    elem->in_sg = elem->out_sg + out_num;
    elem->out_addr = (uint64_t *)(elem->in_sg + w->in_num);
    elem->in_addr = elem->out_addr + out_num;
    for (unsigned i = 0; i < w->num; i++) {
        if (w->is_write[i]) {
            elem->in_sg[n] = w->iov[i];
            elem->in_addr[n++] = w->addr[i];
        } else {
            elem->out_sg[o] = w->iov[i];
            elem->out_addr[o++] = w->addr[i];
        }
    }
    vq->inuse++;
    return elem;
}

void *virtqueue_pop(VirtQueue *vq, size_t sz)
{
    VirtIODevice *vdev = vq->vdev;
    VirtQueueElement *elem;
    uint16_t avail_idx, head;

    g_assert(sz >= sizeof(VirtQueueElement));
    if (!virtio_queue_ready(vq)) {
        return NULL;
    }
    if (!vq_avail_idx(vq, &avail_idx) || avail_idx == vq->last_avail_idx) {
        return NULL;
    }
    /* Read the ring entry only after seeing the index that covers it. */
    virtio_rmb();
    if (!vq_read16(vq, vq->avail + VRING_AVAIL_RING + 2ULL * (vq->last_avail_idx % vq->num),
                   &head)) {
        virtio_error(vdev, "queue %u: avail ring at 0x%" PRIx64 " is not in RAM",
                     vq->queue_index, vq->avail);
        return NULL;
    }
    elem = vq_build_elem(vq, head, sz);
    if (!elem) {
        return NULL;
    }
    vq->last_avail_idx++;
    if (virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX) && vq->notification) {
        /* 2.7.10: tell the driver which index to notify us at next. */
        vq_write16(vq, vq_avail_event_addr(vq), vq->last_avail_idx);
    }
    return elem;
}

void *virtqueue_pop_head(VirtQueue *vq, unsigned head, size_t sz)
{
    g_assert(sz >= sizeof(VirtQueueElement));
    if (!virtio_queue_ready(vq)) {
        return NULL;
    }
    return vq_build_elem(vq, head, sz);
}

static void elem_unmap(VirtIODevice *vdev, VirtQueueElement *elem, unsigned len)
{
    for (unsigned i = 0; i < elem->in_num; i++) {
        size_t l = MIN(len, elem->in_sg[i].iov_len);

        vdev->mem->unmap(vdev->mem_opaque, elem->in_sg[i].iov_base, elem->in_sg[i].iov_len,
                         true, l);
        len -= l;
    }
    for (unsigned i = 0; i < elem->out_num; i++) {
        vdev->mem->unmap(vdev->mem_opaque, elem->out_sg[i].iov_base, elem->out_sg[i].iov_len,
                         false, 0);
    }
}

void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *elem)
{
    vq->last_avail_idx--;
    vq->inuse--;
    elem_unmap(vq->vdev, elem, 0);
}

void virtqueue_detach_element(VirtQueue *vq, VirtQueueElement *elem)
{
    if (vq->inuse) {
        vq->inuse--;
    }
    elem_unmap(vq->vdev, elem, 0);
}

void virtqueue_push(VirtQueue *vq, VirtQueueElement *elem, unsigned len)
{
    VirtIODevice *vdev = vq->vdev;
    uint64_t slot;
    uint8_t b[VRING_USED_ELEM_SIZE];

    elem_unmap(vdev, elem, len);
    vq->inuse--;
    if (vdev->broken || vq->num == 0) {
        return;
    }
    /* 2.7.8: write the element, then (ordered after it) the new used->idx. */
    slot = vq->used + VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * (vq->used_idx % vq->num);
    stl_le_p(b, elem->index);
    stl_le_p(b + 4, len);
    if (!vq_access(vdev, slot, b, sizeof(b), true)) {
        virtio_error(vdev, "queue %u: used ring at 0x%" PRIx64 " is not in RAM",
                     vq->queue_index, vq->used);
        return;
    }
    virtio_wmb();
    vq->used_idx++;
    if (!vq_write16(vq, vq->used + VRING_USED_IDX, vq->used_idx)) {
        virtio_error(vdev, "queue %u: used ring at 0x%" PRIx64 " is not in RAM",
                     vq->queue_index, vq->used);
    }
}

void virtio_queue_set_notification(VirtQueue *vq, bool enable)
{
    uint16_t flags;

    vq->notification = enable;
    if (!virtio_queue_ready(vq)) {
        return;
    }
    if (virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        if (enable) {
            uint16_t idx;

            if (vq_read16(vq, vq->avail + VRING_AVAIL_IDX, &idx)) {
                vq_write16(vq, vq_avail_event_addr(vq), idx);
            }
        }
    } else if (vq_read16(vq, vq->used + VRING_USED_FLAGS, &flags)) {
        flags = enable ? flags & ~VRING_USED_F_NO_NOTIFY : flags | VRING_USED_F_NO_NOTIFY;
        vq_write16(vq, vq->used + VRING_USED_FLAGS, flags);
    }
    if (enable) {
        /* Let the driver see the flag before we look at the ring again. */
        virtio_mb();
    }
}

/* 2.7.10: with EVENT_IDX, interrupt when used_idx passes the driver's used_event. */
static bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

static bool virtio_should_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    uint16_t flags, event, old;
    bool valid;

    virtio_mb();
    if (virtio_vdev_has_feature(vdev, VIRTIO_F_NOTIFY_ON_EMPTY) && vq->inuse == 0 &&
        virtio_queue_empty(vq)) {
        return true;
    }
    if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return !vq_read16(vq, vq->avail + VRING_AVAIL_FLAGS, &flags) ||
               !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    valid = vq->signalled_used_valid;
    old = vq->signalled_used;
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    if (!valid || !vq_read16(vq, vq_used_event_addr(vq), &event)) {
        return true;
    }
    return vring_need_event(event, vq->used_idx, old);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (vdev->broken || !virtio_should_notify(vdev, vq)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_QUEUE;
    if (vdev->bus) {
        vdev->bus->notify(vdev->bus_opaque, vq->vector);
    }
}

size_t virtio_iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                           size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t l = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, l);
        done += l;
        off = 0;
    }
    return done;
}

size_t virtio_iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t l = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, l);
        done += l;
        off = 0;
    }
    return done;
}

size_t virtio_iov_size(const struct iovec *iov, unsigned n)
{
    size_t s = 0;

    for (unsigned i = 0; i < n; i++) {
        s += iov[i].iov_len;
    }
    return s;
}
