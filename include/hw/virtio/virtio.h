/*
 * virtio core: a device's feature bits, status, config space and split virtqueues
 * (virtio 1.2 spec sections 2.1-2.7), independent of the transport.
 *
 * A virtio device embeds a VirtIODevice and fills a VirtioDeviceOps; a transport
 * (virtio-pci) embeds or points at it, forwards the driver's register accesses to the
 * virtio_* functions below and raises interrupts when the core calls its VirtioBusOps.notify.
 *
 * Guest memory is reached only through VirtioMemOps (address_space_memory by default), so
 * the ring code can run over a plain buffer in a unit test.  Every descriptor chain is
 * validated before the device sees it; a malformed ring makes the device "broken": it sets
 * NEEDS_RESET, logs once (-d guest_errors) and processes nothing until the driver resets it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include "kite/osdep.h"
#include "kite/vmstate.h"
#include <sys/uio.h>

/* Device status bits (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 0x01
#define VIRTIO_CONFIG_S_DRIVER      0x02
#define VIRTIO_CONFIG_S_DRIVER_OK   0x04
#define VIRTIO_CONFIG_S_FEATURES_OK 0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED      0x80

/* Reserved feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VIRTIO_F_ANY_LAYOUT         27
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

/* Split virtqueue flags (2.7.5, 2.7.6, 2.7.8). */
#define VRING_DESC_F_NEXT           1
#define VRING_DESC_F_WRITE          2
#define VRING_DESC_F_INDIRECT       4
#define VRING_AVAIL_F_NO_INTERRUPT  1
#define VRING_USED_F_NO_NOTIFY      1

/* Legacy interface: queue PFN in 4096-byte pages, used ring aligned to 4096 (2.7.2). */
#define VIRTIO_LEGACY_PAGE_SHIFT    12
#define VIRTIO_LEGACY_VRING_ALIGN   4096

#define VIRTIO_QUEUE_MAX            64      /* queues per device */
#define VIRTQUEUE_MAX_SIZE          1024    /* entries per queue, and iovecs per element */
#define VIRTIO_NO_VECTOR            0xffff

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE            0x1
#define VIRTIO_ISR_CONFIG           0x2

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* Host access to guest-physical memory: map returns a pointer to gpa with *plen shrunk to
 * the contiguous run, or NULL when gpa is not RAM.  unmap marks access_len bytes dirty. */
typedef struct VirtioMemOps {
    void *(*map)(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write);
    void (*unmap)(void *opaque, void *host, uint64_t len, bool is_write, uint64_t access_len);
} VirtioMemOps;

/* The default: guest RAM through address_space_memory. */
extern const VirtioMemOps virtio_mem_ops_system;

/* One popped request: driver->device buffers (out) then device->driver buffers (in), both
 * mapped into host memory.  Devices may embed it first in a larger struct (virtqueue_pop's
 * sz).  The arrays live in the same allocation; free the element with g_free. */
typedef struct VirtQueueElement {
    unsigned index;             /* head descriptor index, returned in the used ring */
    unsigned out_num, in_num;
    struct iovec *out_sg, *in_sg;
    uint64_t *out_addr, *in_addr;
} VirtQueueElement;

typedef void (*VirtIOHandleOutput)(VirtIODevice *vdev, VirtQueue *vq);

struct VirtQueue {
    VirtIODevice *vdev;
    VirtIOHandleOutput handle_output;   /* NULL: queue not created by the device */
    unsigned queue_index;
    uint16_t num_max;           /* size the device offers */
    uint16_t num;               /* size the driver chose (power of 2 for split rings) */
    bool enabled;               /* modern queue_enable (legacy: desc != 0) */
    uint64_t desc, avail, used; /* guest-physical ring addresses */
    uint16_t last_avail_idx;    /* next avail entry the device will take */
    uint16_t used_idx;          /* device's copy of used->idx */
    uint16_t signalled_used;    /* used_idx at the last interrupt (EVENT_IDX) */
    bool signalled_used_valid;
    bool notification;          /* driver->device notifications wanted */
    uint16_t vector;            /* MSI-X vector */
    unsigned inuse;             /* popped, not yet pushed */
    void *walk;                 /* scratch for walking a chain (~25 KiB), made on first pop */
};

typedef struct VirtioDeviceOps {
    /* Features the device offers; the core adds VERSION_1, INDIRECT_DESC, EVENT_IDX,
     * NOTIFY_ON_EMPTY, ANY_LAYOUT. */
    uint64_t (*get_features)(VirtIODevice *vdev, uint64_t features);
    void (*set_features)(VirtIODevice *vdev, uint64_t features);
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* Drop in-flight requests and return device state to power-on values. */
    void (*reset)(VirtIODevice *vdev);
    void (*set_status)(VirtIODevice *vdev, uint8_t status);
} VirtioDeviceOps;

typedef struct VirtioBusOps {
    /* Interrupt the driver: MSI-X vector, or INTx when vectors are off (read vdev->isr). */
    void (*notify)(void *opaque, uint16_t vector);
} VirtioBusOps;

struct VirtIODevice {
    const char *name;
    uint16_t device_id;
    const VirtioDeviceOps *ops;
    const VirtioMemOps *mem;
    void *mem_opaque;
    const VirtioBusOps *bus;
    void *bus_opaque;

    uint64_t host_features;
    uint64_t guest_features;
    uint8_t status;
    uint8_t isr;
    uint16_t queue_sel;
    uint16_t config_vector;
    uint8_t config_generation;
    bool broken;                /* a malformed ring was seen: NEEDS_RESET until reset */
    size_t config_len;
    uint8_t *config;
    VirtQueue vq[VIRTIO_QUEUE_MAX];
};

/* --- device side --- */
void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id,
                 const VirtioDeviceOps *ops, size_t config_len);
void virtio_cleanup(VirtIODevice *vdev);
VirtQueue *virtio_add_queue(VirtIODevice *vdev, int queue_size, VirtIOHandleOutput handler);
void virtio_set_mem_ops(VirtIODevice *vdev, const VirtioMemOps *ops, void *opaque);
void virtio_set_bus_ops(VirtIODevice *vdev, const VirtioBusOps *ops, void *opaque);

static inline bool virtio_has_feature(uint64_t features, unsigned bit)
{
    return (features >> bit) & 1;
}

static inline bool virtio_vdev_has_feature(VirtIODevice *vdev, unsigned bit)
{
    return virtio_has_feature(vdev->guest_features, bit);
}

/* Pop the next available chain as an element of sz bytes (>= sizeof(VirtQueueElement)),
 * or NULL when the ring is empty, not set up, or the device is broken. */
void *virtqueue_pop(VirtQueue *vq, size_t sz);
/* Rebuild the element of a chain popped before a save (its head saved by the device);
 * the ring indices are not touched.  NULL if the chain is no longer valid (device broken). */
void *virtqueue_pop_head(VirtQueue *vq, unsigned head, size_t sz);
/* Give elem back so the next pop returns it again (e.g. no data to fill it yet). */
void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *elem);
/* Drop elem without returning it (device reset): unmaps it; the ring is reset anyway. */
void virtqueue_detach_element(VirtQueue *vq, VirtQueueElement *elem);
/* Return elem to the driver with len bytes written into its in buffers (unmaps it). */
void virtqueue_push(VirtQueue *vq, VirtQueueElement *elem, unsigned len);
bool virtio_queue_empty(VirtQueue *vq);
bool virtio_queue_ready(VirtQueue *vq);
/* Ask the driver for (enable) or tell it to skip (disable) notifications of new buffers. */
void virtio_queue_set_notification(VirtQueue *vq, bool enable);
/* Interrupt the driver for vq unless it suppressed that (NO_INTERRUPT / used_event). */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
void virtio_notify_config(VirtIODevice *vdev);
/* The driver broke the protocol: NEEDS_RESET, log once, stop processing. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Copy between a buffer and an iovec array starting at byte off; return bytes copied. */
size_t virtio_iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                    size_t len);
size_t virtio_iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t virtio_iov_size(const struct iovec *iov, unsigned n);

/* --- transport side --- */
void virtio_reset(VirtIODevice *vdev);
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
/* The driver's feature write; refused (false) after FEATURES_OK. */
bool virtio_set_features(VirtIODevice *vdev, uint64_t val);
/* Run the queue's handler (a driver notification). */
void virtio_queue_notify(VirtIODevice *vdev, unsigned n);
void virtio_queue_set_num(VirtIODevice *vdev, unsigned n, unsigned num);
void virtio_queue_set_rings(VirtIODevice *vdev, unsigned n, uint64_t desc, uint64_t avail,
                            uint64_t used);
/* Legacy: rings contiguous from pfn << 12, used ring aligned to 4096 (2.7.2). */
void virtio_queue_set_legacy_pfn(VirtIODevice *vdev, unsigned n, uint32_t pfn);
uint32_t virtio_queue_get_legacy_pfn(VirtIODevice *vdev, unsigned n);
bool virtio_queue_exists(VirtIODevice *vdev, unsigned n);
uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val, unsigned size);

extern const VMStateDescription vmstate_virtio;

#endif
