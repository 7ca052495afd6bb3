/*
 * virtio core, device side: feature negotiation (2.2, 3.1.1), the status byte and device
 * reset (2.1, 2.4), the device configuration space (2.5), queue set-up from either interface
 * (modern addresses, legacy PFN: 2.7.2) and save/restore of all of it.  The ring protocol
 * itself is in virtqueue.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio.h"
#include "kite/log.h"
#include "kite/memory.h"

static void *virtio_system_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    hwaddr l = *plen;
    void *p = address_space_map(&address_space_memory, gpa, &l, is_write);

    *plen = l;
    return p;
}

static void virtio_system_unmap(void *opaque, void *host, uint64_t len, bool is_write,
                                uint64_t access_len)
{
    address_space_unmap(&address_space_memory, host, len, is_write, access_len);
}

const VirtioMemOps virtio_mem_ops_system = {
    .map = virtio_system_map,
    .unmap = virtio_system_unmap,
};

/* Ring features every device gets from the core. */
#define VIRTIO_CORE_FEATURES \
    ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
     (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) | \
     (1ULL << VIRTIO_F_ANY_LAYOUT))

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id,
                 const VirtioDeviceOps *ops, size_t config_len)
{
    memset(vdev, 0, sizeof(*vdev));
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->ops = ops;
    vdev->mem = &virtio_mem_ops_system;
    vdev->mem_opaque = NULL;
    vdev->config_len = config_len;
    vdev->config = config_len ? g_malloc0(config_len) : NULL;
    vdev->host_features = VIRTIO_CORE_FEATURES;
    if (ops->get_features) {
        vdev->host_features = ops->get_features(vdev, vdev->host_features);
    }
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].queue_index = i;
        vdev->vq[i].vector = VIRTIO_NO_VECTOR;
        vdev->vq[i].notification = true;
    }
    vdev->config_vector = VIRTIO_NO_VECTOR;
}

void virtio_cleanup(VirtIODevice *vdev)
{
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        g_clear_pointer(&vdev->vq[i].walk, g_free);
    }
    g_free(vdev->config);
    vdev->config = NULL;
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, int queue_size, VirtIOHandleOutput handler)
{
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtQueue *vq = &vdev->vq[i];

        if (!vq->handle_output) {
            g_assert(queue_size > 0 && queue_size <= VIRTQUEUE_MAX_SIZE &&
                     IS_POWER_OF_2(queue_size));
            vq->handle_output = handler;
            vq->num_max = queue_size;
            vq->num = queue_size;
            return vq;
        }
    }
    g_assert_not_reached();
}

void virtio_set_mem_ops(VirtIODevice *vdev, const VirtioMemOps *ops, void *opaque)
{
    vdev->mem = ops;
    vdev->mem_opaque = opaque;
}

void virtio_set_bus_ops(VirtIODevice *vdev, const VirtioBusOps *ops, void *opaque)
{
    vdev->bus = ops;
    vdev->bus_opaque = opaque;
}

static void virtio_queue_reset(VirtQueue *vq)
{
    vq->num = vq->num_max;
    vq->enabled = false;
    vq->desc = vq->avail = vq->used = 0;
    vq->last_avail_idx = vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->notification = true;
    vq->vector = VIRTIO_NO_VECTOR;
    vq->inuse = 0;
}

/* 2.4: writing 0 to status resets the device; so does a transport (bus) reset. */
void virtio_reset(VirtIODevice *vdev)
{
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    vdev->status = 0;
    vdev->isr = 0;
    vdev->guest_features = 0;
    vdev->queue_sel = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->broken = false;
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        virtio_queue_reset(&vdev->vq[i]);
    }
}

bool virtio_set_features(VirtIODevice *vdev, uint64_t val)
{
    /* 3.1.1: features are fixed once FEATURES_OK is set. */
    if (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) {
        return false;
    }
    vdev->guest_features = val & vdev->host_features;
    if (vdev->ops->set_features) {
        vdev->ops->set_features(vdev, vdev->guest_features);
    }
    return vdev->guest_features == val;
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    /* 2.2.2: the device refuses FEATURES_OK (it reads back clear) unless the driver
     * negotiated VERSION_1 through the modern interface; legacy drivers never set it. */
    if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    /* NEEDS_RESET is the device's bit; the driver cannot clear it except by reset. */
    val &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
    if (vdev->broken) {
        val |= VIRTIO_CONFIG_S_NEEDS_RESET;
    }
    if (vdev->ops->set_status) {
        vdev->ops->set_status(vdev, val);
    }
    vdev->status = val;
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (vdev->broken) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    kite_log_mask(LOG_GUEST_ERROR, "%s: %s; device needs reset\n", vdev->name, msg);
    g_free(msg);
    vdev->broken = true;
    /* 2.1.2: the device sets NEEDS_RESET and, in a modern device, says so with a
     * configuration change interrupt. */
    if (virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        virtio_notify_config(vdev);
    }
}

void virtio_notify_config(VirtIODevice *vdev)
{
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_CONFIG;
    vdev->config_generation++;
    if (vdev->bus) {
        vdev->bus->notify(vdev->bus_opaque, vdev->config_vector);
    }
}

bool virtio_queue_exists(VirtIODevice *vdev, unsigned n)
{
    return n < VIRTIO_QUEUE_MAX && vdev->vq[n].handle_output;
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned n)
{
    if (!virtio_queue_exists(vdev, n)) {
        kite_log_mask(LOG_GUEST_ERROR, "%s: notify of queue %u, which does not exist\n",
                      vdev->name, n);
        return;
    }
    if (virtio_queue_ready(&vdev->vq[n])) {
        vdev->vq[n].handle_output(vdev, &vdev->vq[n]);
    }
}

void virtio_queue_set_num(VirtIODevice *vdev, unsigned n, unsigned num)
{
    /* 2.7: a split queue's size is a power of 2 no larger than the device offers; anything
     * else leaves the queue unusable (size 0) rather than trusted. */
    if (!virtio_queue_exists(vdev, n)) {
        return;
    }
    if (num > vdev->vq[n].num_max || (num != 0 && !IS_POWER_OF_2(num))) {
        kite_log_mask(LOG_GUEST_ERROR, "%s: queue %u size %u invalid (max %u)\n", vdev->name,
                      n, num, vdev->vq[n].num_max);
        num = 0;
    }
    vdev->vq[n].num = num;
}

void virtio_queue_set_rings(VirtIODevice *vdev, unsigned n, uint64_t desc, uint64_t avail,
                            uint64_t used)
{
    if (!virtio_queue_exists(vdev, n)) {
        return;
    }
    vdev->vq[n].desc = desc;
    vdev->vq[n].avail = avail;
    vdev->vq[n].used = used;
}

void virtio_queue_set_legacy_pfn(VirtIODevice *vdev, unsigned n, uint32_t pfn)
{
    VirtQueue *vq;
    uint64_t base = (uint64_t)pfn << VIRTIO_LEGACY_PAGE_SHIFT;

    if (!virtio_queue_exists(vdev, n)) {
        return;
    }
    vq = &vdev->vq[n];
    if (pfn == 0) {
        /* 4.1.4.8: writing 0 to the queue address disables the queue. */
        vq->enabled = false;
        vq->desc = vq->avail = vq->used = 0;
        return;
    }
    /* 2.7.2 legacy layout: descriptors, avail ring (+ used_event), padding to 4096, used. */
    vq->num = vq->num_max;
    vq->desc = base;
    vq->avail = base + 16ULL * vq->num;
    vq->used = ROUND_UP(vq->avail + 6 + 2ULL * vq->num, (uint64_t)VIRTIO_LEGACY_VRING_ALIGN);
    vq->enabled = true;
}

uint32_t virtio_queue_get_legacy_pfn(VirtIODevice *vdev, unsigned n)
{
    if (!virtio_queue_exists(vdev, n) || !vdev->vq[n].enabled) {
        return 0;
    }
    return vdev->vq[n].desc >> VIRTIO_LEGACY_PAGE_SHIFT;
}

uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size)
{
    if ((size != 1 && size != 2 && size != 4) || addr > vdev->config_len ||
        size > vdev->config_len - addr) {
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    }
    if (vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
    return ldn_le_p(vdev->config + addr, size);
}

void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val, unsigned size)
{
    if ((size != 1 && size != 2 && size != 4) || addr > vdev->config_len ||
        size > vdev->config_len - addr) {
        return;
    }
    if (vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
    stn_le_p(vdev->config + addr, size, val);
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

/* --- save/restore --- */

static const VMStateDescription vmstate_virtqueue = {
    .name = "virtqueue", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(num, VirtQueue),
        VMSTATE_BOOL(enabled, VirtQueue),
        VMSTATE_UINT64(desc, VirtQueue),
        VMSTATE_UINT64(avail, VirtQueue),
        VMSTATE_UINT64(used, VirtQueue),
        VMSTATE_UINT16(last_avail_idx, VirtQueue),
        VMSTATE_UINT16(used_idx, VirtQueue),
        VMSTATE_UINT16(signalled_used, VirtQueue),
        VMSTATE_BOOL(signalled_used_valid, VirtQueue),
        VMSTATE_BOOL(notification, VirtQueue),
        VMSTATE_UINT16(vector, VirtQueue),
        VMSTATE_END_OF_LIST()
    },
};

static int virtio_post_load(void *opaque, int version_id)
{
    VirtIODevice *vdev = opaque;

    /* The stream is untrusted: queue sizes must still be ones the device offers, and the
     * guest can only have features the device has. */
    if (vdev->guest_features & ~vdev->host_features) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtQueue *vq = &vdev->vq[i];

        if (vq->num > vq->num_max || (vq->num && !IS_POWER_OF_2(vq->num))) {
            return -EINVAL;
        }
        /* Requests in flight at save time are the device's to rebuild from their saved
         * heads (virtqueue_pop_head), which counts them again. */
        vq->inuse = 0;
        if (vq->num && (uint16_t)(vq->last_avail_idx - vq->used_idx) > vq->num) {
            return -EINVAL;
        }
    }
    return 0;
}

const VMStateDescription vmstate_virtio = {
    .name = "virtio", .version_id = 1, .minimum_version_id = 1,
    .post_load = virtio_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(status, VirtIODevice),
        VMSTATE_UINT8(isr, VirtIODevice),
        VMSTATE_UINT16(queue_sel, VirtIODevice),
        VMSTATE_UINT64(guest_features, VirtIODevice),
        VMSTATE_UINT16(config_vector, VirtIODevice),
        VMSTATE_UINT8(config_generation, VirtIODevice),
        VMSTATE_BOOL(broken, VirtIODevice),
        VMSTATE_STRUCT_ARRAY(vq, VirtIODevice, VIRTIO_QUEUE_MAX, vmstate_virtqueue, VirtQueue),
        VMSTATE_END_OF_LIST()
    },
};
