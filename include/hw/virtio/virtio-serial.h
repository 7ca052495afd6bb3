/*
 * virtio console / serial (virtio 1.2 section 5.3) with multiple ports: the device owns a
 * "virtio-serial-bus" on which port devices plug, with QEMU's type names:
 *   -device virtio-serial-pci,id=vser0
 *   -device virtconsole,chardev=c0[,name=N][,nr=0]       the guest's /dev/hvcN
 *   -device virtserialport,chardev=c1,name=org.example.0  /dev/vportNpM (+ /dev/virtio-ports/N)
 * Transport-independent: the transport device embeds a VirtIOSerial and calls
 * virtio_serial_realize with itself as the bus's parent.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIRTIO_VIRTIO_SERIAL_H
#define HW_VIRTIO_VIRTIO_SERIAL_H

#include "hw/qdev.h"
#include "hw/virtio/virtio.h"
#include "kite/chardev.h"

#define VIRTIO_ID_CONSOLE 3

#define TYPE_VIRTIO_SERIAL_BUS "virtio-serial-bus"
#define TYPE_VIRTIO_SERIAL_PORT "virtio-serial-port"
#define TYPE_VIRTSERIALPORT "virtserialport"
#define TYPE_VIRTCONSOLE "virtconsole"

/* Ports 0..30: with queue pairs for each and the control pair, 64 queues (QEMU's default). */
#define VIRTIO_SERIAL_MAX_PORTS 31

typedef struct VirtIOSerial VirtIOSerial;

typedef struct VirtIOSerialPort {
    DeviceState parent_obj;
    /* properties */
    char *chardev_id;
    char *name;
    uint32_t nr;                /* port number; UINT32_MAX: first free */
    bool is_console;            /* virtconsole */

    VirtIOSerial *vser;
    CharFrontend chr;
    uint32_t id;
    VirtQueue *ivq, *ovq;       /* to the guest, from the guest */
    bool guest_ready;           /* PORT_READY received */
    bool guest_connected;       /* the guest has the port open (PORT_OPEN) */
    bool host_connected;        /* the chardev's peer is there */
    VirtQueueElement *rx_elem;  /* buffer being filled with chardev input */
    size_t rx_off;
    VirtQueueElement *tx_elem;  /* guest output the chardev could not take yet */
    size_t tx_off;
    /* save/restore of the held elements: heads (UINT32_MAX: none) and progress */
    uint32_t saved_rx_head, saved_tx_head;
    uint32_t saved_rx_off, saved_tx_off;
    KiteBH *resume_bh;          /* after a load: carry on with the restored elements */
} VirtIOSerialPort;

typedef struct VirtIOSerialBus {
    BusState parent_obj;
    VirtIOSerial *vser;
} VirtIOSerialBus;

struct VirtIOSerial {
    VirtIODevice vdev;
    uint32_t max_nr_ports;      /* property max_ports */
    VirtIOSerialBus *bus;
    VirtQueue *c_ivq, *c_ovq;
    VirtIOSerialPort *ports[VIRTIO_SERIAL_MAX_PORTS];
    GQueue ctrl_out;            /* of GByteArray *: control messages waiting for c_ivq */
};

void virtio_serial_realize(VirtIOSerial *s, DeviceState *owner, Error **errp);
void virtio_serial_unrealize(VirtIOSerial *s);

extern const VMStateDescription vmstate_virtio_serial;

#endif
