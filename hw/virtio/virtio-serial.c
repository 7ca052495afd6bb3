/*
 * virtio-serial (virtio 1.2 section 5.3): ports backed by chardevs, multiplexed over one
 * device with the MULTIPORT control queues.
 *
 * Queues (5.3.2): 0/1 port 0 receive/transmit, 2/3 control receive/transmit, then 2n+2 and
 * 2n+3 for port n >= 1.  The handshake Linux's virtio_console runs (5.3.6.2): the driver
 * sends DEVICE_READY, the device announces each port with DEVICE_ADD, the driver answers
 * PORT_READY, the device tells it CONSOLE_PORT (an hvc console), PORT_NAME and, when the
 * chardev has a peer, PORT_OPEN; the driver sends PORT_OPEN when a program opens the port.
 *
 * Output the chardev cannot take at once stays in its element (guest memory still mapped)
 * until the chardev drains; input is read only while the guest has receive buffers posted
 * (the chardev flow-control contract), so neither direction buffers without bound.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/virtio-serial.h"
#include "kite/log.h"

/* Control messages (5.3.6.2). */
#define VIRTIO_CONSOLE_F_SIZE           0
#define VIRTIO_CONSOLE_F_MULTIPORT      1
#define VIRTIO_CONSOLE_F_EMERG_WRITE    2
#define VIRTIO_CONSOLE_DEVICE_READY     0
#define VIRTIO_CONSOLE_DEVICE_ADD       1
#define VIRTIO_CONSOLE_DEVICE_REMOVE    2
#define VIRTIO_CONSOLE_PORT_READY       3
#define VIRTIO_CONSOLE_CONSOLE_PORT     4
#define VIRTIO_CONSOLE_RESIZE           5
#define VIRTIO_CONSOLE_PORT_OPEN        6
#define VIRTIO_CONSOLE_PORT_NAME        7
#define VIRTIO_CONSOLE_CTRL_SIZE        8       /* le32 id, le16 event, le16 value */
#define VIRTIO_CONSOLE_CONFIG_SIZE      12      /* cols, rows, max_nr_ports, emerg_wr */

static VirtIOSerial *vdev_serial(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIOSerial, vdev);
}

static VirtIOSerialPort *VIRTIO_SERIAL_PORT(const void *obj)
{
    return OBJECT_CHECK(VirtIOSerialPort, obj, TYPE_VIRTIO_SERIAL_PORT);
}

static bool serial_multiport(VirtIOSerial *s)
{
    return virtio_vdev_has_feature(&s->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static bool serial_driver_ok(VirtIOSerial *s)
{
    return (s->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) && !s->vdev.broken;
}

static unsigned port_rx_queue(uint32_t id)
{
    return id == 0 ? 0 : 2 * id + 2;
}

/* --- control messages to the driver --- */

static void ctrl_flush(VirtIOSerial *s)
{
    GByteArray *msg;
    bool pushed = false;

    if (!serial_driver_ok(s) || !serial_multiport(s)) {
        return;
    }
    while ((msg = g_queue_peek_head(&s->ctrl_out)) != NULL) {
        VirtQueueElement *elem = virtqueue_pop(s->c_ivq, sizeof(*elem));
        size_t n;

        if (!elem) {
            break;
        }
        n = virtio_iov_from_buf(elem->in_sg, elem->in_num, 0, msg->data, msg->len);
        virtqueue_push(s->c_ivq, elem, n);
        g_free(elem);
        g_byte_array_free(g_queue_pop_head(&s->ctrl_out), true);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(&s->vdev, s->c_ivq);
    }
}

static void ctrl_send(VirtIOSerial *s, uint32_t id, uint16_t event, uint16_t value,
                      const char *payload)
{
    GByteArray *msg;
    uint8_t hdr[VIRTIO_CONSOLE_CTRL_SIZE];

    if (!serial_multiport(s)) {
        return;
    }
    stl_le_p(hdr, id);
    stw_le_p(hdr + 4, event);
    stw_le_p(hdr + 6, value);
    msg = g_byte_array_sized_new(sizeof(hdr) + (payload ? strlen(payload) + 1 : 0));
    g_byte_array_append(msg, hdr, sizeof(hdr));
    if (payload) {
        g_byte_array_append(msg, (const uint8_t *)payload, strlen(payload) + 1);
    }
    g_queue_push_tail(&s->ctrl_out, msg);
    ctrl_flush(s);
}

/* --- port data --- */

static bool port_guest_open(VirtIOSerialPort *p)
{
    /* Without MULTIPORT, port 0 is a plain console that is always open. */
    return serial_driver_ok(p->vser) && (p->guest_connected || !serial_multiport(p->vser));
}

static void port_drop_elems(VirtIOSerialPort *p)
{
    if (p->rx_elem) {
        virtqueue_detach_element(p->ivq, p->rx_elem);
        g_clear_pointer(&p->rx_elem, g_free);
    }
    if (p->tx_elem) {
        virtqueue_detach_element(p->ovq, p->tx_elem);
        g_clear_pointer(&p->tx_elem, g_free);
    }
}

static void port_flush_tx(VirtIOSerialPort *p);

static void port_writable(void *opaque)
{
    port_flush_tx(opaque);
}

/* Guest output to the chardev; stops (keeping the element) when the chardev is full. */
static void port_flush_tx(VirtIOSerialPort *p)
{
    VirtIOSerial *s = p->vser;
    bool pushed = false;

    while (serial_driver_ok(s)) {
        size_t off;

        if (!p->tx_elem) {
            p->tx_elem = virtqueue_pop(p->ovq, sizeof(VirtQueueElement));
            p->tx_off = 0;
            if (!p->tx_elem) {
                break;
            }
        }
        off = p->tx_off;
        for (unsigned i = 0; i < p->tx_elem->out_num && chr_fe_backend_connected(&p->chr); i++) {
            const struct iovec *v = &p->tx_elem->out_sg[i];
            int n;

            if (off >= v->iov_len) {
                off -= v->iov_len;
                continue;
            }
            n = chr_fe_write(&p->chr, (const uint8_t *)v->iov_base + off, v->iov_len - off);
            p->tx_off += n;
            if ((size_t)n < v->iov_len - off) {
                chr_fe_notify_writable(&p->chr, port_writable, p);
                goto out;
            }
            off = 0;
        }
        /* 5.3.6.1: transmit buffers are returned with length 0. */
        virtqueue_push(p->ovq, p->tx_elem, 0);
        g_clear_pointer(&p->tx_elem, g_free);
        pushed = true;
    }
out:
    if (pushed) {
        virtio_notify(&s->vdev, p->ovq);
    }
}

static int port_can_receive(void *opaque)
{
    VirtIOSerialPort *p = opaque;

    if (!port_guest_open(p)) {
        return 0;
    }
    if (!p->rx_elem) {
        p->rx_elem = virtqueue_pop(p->ivq, sizeof(VirtQueueElement));
        p->rx_off = 0;
        if (!p->rx_elem) {
            return 0;
        }
    }
    return MIN(virtio_iov_size(p->rx_elem->in_sg, p->rx_elem->in_num) - p->rx_off,
               (size_t)INT_MAX);
}

static void port_receive(void *opaque, const uint8_t *buf, int len)
{
    VirtIOSerialPort *p = opaque;
    bool pushed = false;

    while (len > 0 && port_can_receive(p) > 0) {
        size_t n = virtio_iov_from_buf(p->rx_elem->in_sg, p->rx_elem->in_num, p->rx_off, buf,
                                       len);

        p->rx_off += n;
        buf += n;
        len -= n;
        /* Hand each buffer over at once: a console wants its bytes now, not when full. */
        virtqueue_push(p->ivq, p->rx_elem, p->rx_off);
        g_clear_pointer(&p->rx_elem, g_free);
        pushed = true;
    }
    if (len > 0) {
        kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: port %u dropped %d input bytes\n",
                      p->id, len);
    }
    if (pushed) {
        virtio_notify(&p->vser->vdev, p->ivq);
    }
}

static void port_event(void *opaque, ChrEvent event)
{
    VirtIOSerialPort *p = opaque;

    if (event == CHR_EVENT_OPENED || event == CHR_EVENT_CLOSED) {
        p->host_connected = event == CHR_EVENT_OPENED;
        if (p->guest_ready) {
            ctrl_send(p->vser, p->id, VIRTIO_CONSOLE_PORT_OPEN, p->host_connected, NULL);
        }
        if (p->host_connected) {
            port_flush_tx(p);
        }
    }
}

/* --- control messages from the driver --- */

static void ctrl_handle(VirtIOSerial *s, uint32_t id, uint16_t event, uint16_t value)
{
    VirtIOSerialPort *p = id < s->max_nr_ports ? s->ports[id] : NULL;

    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (!value) {
            kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: the driver failed to initialise\n");
            return;
        }
        for (uint32_t i = 0; i < s->max_nr_ports; i++) {
            if (s->ports[i]) {
                ctrl_send(s, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
            }
        }
        return;
    case VIRTIO_CONSOLE_PORT_READY:
        if (!p) {
            break;
        }
        if (!value) {
            kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: the driver failed to add port %u\n",
                          id);
            return;
        }
        p->guest_ready = true;
        if (p->is_console) {
            ctrl_send(s, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
        }
        if (p->name) {
            ctrl_send(s, id, VIRTIO_CONSOLE_PORT_NAME, 1, p->name);
        }
        if (p->host_connected) {
            ctrl_send(s, id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
        }
        return;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (!p) {
            break;
        }
        p->guest_connected = value != 0;
        if (p->guest_connected) {
            chr_fe_accept_input(&p->chr);
        }
        return;
    default:
        kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: unexpected control event %u\n", event);
        return;
    }
    kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: control event %u for unknown port %u\n",
                  event, id);
}

static void serial_handle_ctrl_out(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerial *s = vdev_serial(vdev);
    VirtQueueElement *elem;
    bool pushed = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem))) != NULL) {
        uint8_t hdr[VIRTIO_CONSOLE_CTRL_SIZE];

        if (virtio_iov_to_buf(elem->out_sg, elem->out_num, 0, hdr, sizeof(hdr)) ==
            sizeof(hdr)) {
            ctrl_handle(s, ldl_le_p(hdr), lduw_le_p(hdr + 4), lduw_le_p(hdr + 6));
        } else {
            kite_log_mask(LOG_GUEST_ERROR, "virtio-serial: short control message\n");
        }
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static void serial_handle_ctrl_in(VirtIODevice *vdev, VirtQueue *vq)
{
    ctrl_flush(vdev_serial(vdev));
}

static VirtIOSerialPort *serial_port_of_queue(VirtIOSerial *s, unsigned q)
{
    uint32_t id = q < 2 ? 0 : q / 2 - 1;

    return id < s->max_nr_ports ? s->ports[id] : NULL;
}

static void serial_handle_port_in(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerialPort *p = serial_port_of_queue(vdev_serial(vdev), vq->queue_index);

    /* New receive buffers: the chardev may read again. */
    if (p) {
        chr_fe_accept_input(&p->chr);
    }
}

static void serial_handle_port_out(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerialPort *p = serial_port_of_queue(vdev_serial(vdev), vq->queue_index);
    VirtQueueElement *elem;
    bool pushed = false;

    if (p) {
        port_flush_tx(p);
        return;
    }
    /* Output to a port nobody plugged in is discarded. */
    while ((elem = virtqueue_pop(vq, sizeof(*elem))) != NULL) {
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

/* --- the device --- */

static uint64_t serial_get_features(VirtIODevice *vdev, uint64_t f)
{
    return f | (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) | (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE);
}

static void serial_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOSerial *s = vdev_serial(vdev);

    memset(config, 0, VIRTIO_CONSOLE_CONFIG_SIZE);
    stl_le_p(config + 4, s->max_nr_ports);
}

/* 5.3.4: a character written to emerg_wr goes out on port 0 at once, before (or without)
 * any queue set-up: an early console. */
static void serial_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOSerial *s = vdev_serial(vdev);
    uint8_t c = ldl_le_p(config + 8);

    /* emerg_wr reads as 0, so a write elsewhere in the config leaves 0 here: no output. */
    if (virtio_vdev_has_feature(vdev, VIRTIO_CONSOLE_F_EMERG_WRITE) && c && s->ports[0]) {
        chr_fe_write_all(&s->ports[0]->chr, &c, 1);
    }
}

static void serial_reset(VirtIODevice *vdev)
{
    VirtIOSerial *s = vdev_serial(vdev);
    GByteArray *msg;

    while ((msg = g_queue_pop_head(&s->ctrl_out)) != NULL) {
        g_byte_array_free(msg, true);
    }
    for (uint32_t i = 0; i < s->max_nr_ports; i++) {
        VirtIOSerialPort *p = s->ports[i];

        if (p) {
            port_drop_elems(p);
            p->guest_ready = false;
            p->guest_connected = false;
        }
    }
}

static void serial_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIOSerial *s = vdev_serial(vdev);

    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        vdev->status = status;
        for (uint32_t i = 0; i < s->max_nr_ports; i++) {
            if (s->ports[i]) {
                chr_fe_accept_input(&s->ports[i]->chr);
            }
        }
    }
}

static const VirtioDeviceOps virtio_serial_ops = {
    .get_features = serial_get_features,
    .get_config = serial_get_config,
    .set_config = serial_set_config,
    .reset = serial_reset,
    .set_status = serial_set_status,
};

void virtio_serial_realize(VirtIOSerial *s, DeviceState *owner, Error **errp)
{
    g_autofree char *busname = owner->id ? g_strdup_printf("%s.0", owner->id) : NULL;

    if (s->max_nr_ports == 0 || s->max_nr_ports > VIRTIO_SERIAL_MAX_PORTS) {
        error_setg(errp, "virtio-serial: max_ports must be between 1 and %u",
                   VIRTIO_SERIAL_MAX_PORTS);
        return;
    }
    virtio_init(&s->vdev, "virtio-serial", VIRTIO_ID_CONSOLE, &virtio_serial_ops,
                VIRTIO_CONSOLE_CONFIG_SIZE);
    /* Queue numbers are the spec's (5.3.2): the order of creation matters. */
    virtio_add_queue(&s->vdev, 128, serial_handle_port_in);
    virtio_add_queue(&s->vdev, 128, serial_handle_port_out);
    s->c_ivq = virtio_add_queue(&s->vdev, 32, serial_handle_ctrl_in);
    s->c_ovq = virtio_add_queue(&s->vdev, 32, serial_handle_ctrl_out);
    for (uint32_t i = 1; i < s->max_nr_ports; i++) {
        virtio_add_queue(&s->vdev, 128, serial_handle_port_in);
        virtio_add_queue(&s->vdev, 128, serial_handle_port_out);
    }
    g_queue_init(&s->ctrl_out);
    s->bus = (VirtIOSerialBus *)qbus_new(TYPE_VIRTIO_SERIAL_BUS, owner, busname);
    s->bus->vser = s;
}

void virtio_serial_unrealize(VirtIOSerial *s)
{
    GByteArray *msg;

    if (s->bus) {
        qbus_unrealize(BUS(s->bus));
        s->bus->vser = NULL;
        s->bus = NULL;
    }
    while ((msg = g_queue_pop_head(&s->ctrl_out)) != NULL) {
        g_byte_array_free(msg, true);
    }
    virtio_cleanup(&s->vdev);
}

const VMStateDescription vmstate_virtio_serial = {
    .name = "virtio-serial", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(vdev, VirtIOSerial, vmstate_virtio, VirtIODevice),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo virtio_serial_bus_type = {
    .name = TYPE_VIRTIO_SERIAL_BUS,
    .parent = TYPE_BUS,
    .instance_size = sizeof(VirtIOSerialBus),
};
KITE_TYPE_REGISTER(virtio_serial_bus_type)

/* --- port devices --- */

static void port_resume(void *opaque);

static void port_realize(DeviceState *dev, Error **errp)
{
    VirtIOSerialPort *p = VIRTIO_SERIAL_PORT(dev);
    VirtIOSerialBus *bus = (VirtIOSerialBus *)dev->parent_bus;
    VirtIOSerial *s = bus ? bus->vser : NULL;
    uint32_t id = p->nr;

    if (!s) {
        error_setg(errp, "%s: needs a virtio-serial bus", object_get_typename(OBJECT(dev)));
        return;
    }
    if (id == UINT32_MAX) {
        /* Port 0 is the console's, as in QEMU (older drivers only had port 0). */
        id = p->is_console && !s->ports[0] ? 0 : 1;
        while (id < s->max_nr_ports && s->ports[id]) {
            id++;
        }
    }
    if (id >= s->max_nr_ports) {
        error_setg(errp, "virtio-serial: no free port (max_ports=%u)", s->max_nr_ports);
        return;
    }
    if (id == 0 && !p->is_console) {
        error_setg(errp, "virtio-serial: port number 0 is reserved for virtconsole");
        return;
    }
    if (s->ports[id]) {
        error_setg(errp, "virtio-serial: port %u is already in use", id);
        return;
    }
    for (uint32_t i = 0; p->name && i < s->max_nr_ports; i++) {
        if (s->ports[i] && s->ports[i]->name && !strcmp(s->ports[i]->name, p->name)) {
            error_setg(errp, "virtio-serial: a port named '%s' already exists", p->name);
            return;
        }
    }
    if (p->chardev_id) {
        Chardev *chr = chardev_find(p->chardev_id);

        if (!chr) {
            error_setg(errp, "%s: chardev '%s' not found", object_get_typename(OBJECT(dev)),
                       p->chardev_id);
            return;
        }
        if (!chr_fe_init(&p->chr, chr, errp)) {
            return;
        }
    } else {
        chr_fe_init(&p->chr, NULL, &error_abort);
    }
    p->vser = s;
    p->id = id;
    p->resume_bh = kite_bh_new(port_resume, p);
    p->ivq = &s->vdev.vq[port_rx_queue(id)];
    p->ovq = &s->vdev.vq[port_rx_queue(id) + 1];
    s->ports[id] = p;
    chr_fe_set_handlers(&p->chr, port_can_receive, port_receive, port_event, p);
    if (serial_driver_ok(s)) {
        ctrl_send(s, id, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);     /* hot-plug */
    }
}

static void port_unrealize(DeviceState *dev)
{
    VirtIOSerialPort *p = VIRTIO_SERIAL_PORT(dev);
    VirtIOSerial *s = p->vser;

    if (!s) {
        return;
    }
    port_drop_elems(p);
    kite_bh_delete(p->resume_bh);
    p->resume_bh = NULL;
    chr_fe_deinit(&p->chr, false);
    s->ports[p->id] = NULL;
    if (serial_driver_ok(s)) {
        ctrl_send(s, p->id, VIRTIO_CONSOLE_DEVICE_REMOVE, 1, NULL);
    }
    p->vser = NULL;
}

static const Property port_props[] = {
    DEFINE_PROP_STRING("chardev", VirtIOSerialPort, chardev_id),
    DEFINE_PROP_STRING("name", VirtIOSerialPort, name),
    DEFINE_PROP_UINT32("nr", VirtIOSerialPort, nr, UINT32_MAX),
    DEFINE_PROP_END_OF_LIST(),
};

/*
 * A port may hold a receive buffer it is filling and a transmit buffer the chardev has
 * only partly taken.  Both are saved as heads plus progress and rebuilt from the (migrated)
 * descriptor table on load, so no guest buffer is lost and no output byte repeated.
 */
static int port_pre_save(void *opaque)
{
    VirtIOSerialPort *p = opaque;

    p->saved_rx_head = p->rx_elem ? p->rx_elem->index : UINT32_MAX;
    p->saved_rx_off = p->rx_elem ? p->rx_off : 0;
    p->saved_tx_head = p->tx_elem ? p->tx_elem->index : UINT32_MAX;
    p->saved_tx_off = p->tx_elem ? p->tx_off : 0;
    return 0;
}

static VirtQueueElement *port_rebuild(VirtQueue *vq, uint32_t head, uint32_t off, bool in)
{
    VirtQueueElement *e = virtqueue_pop_head(vq, head, sizeof(VirtQueueElement));

    if (e && off > (in ? virtio_iov_size(e->in_sg, e->in_num)
                       : virtio_iov_size(e->out_sg, e->out_num))) {
        virtqueue_detach_element(vq, e);
        g_free(e);
        return NULL;
    }
    return e;
}

static void port_resume(void *opaque)
{
    VirtIOSerialPort *p = opaque;

    port_flush_tx(p);
    chr_fe_accept_input(&p->chr);
}

static int port_post_load(void *opaque, int version_id)
{
    VirtIOSerialPort *p = opaque;

    if (!p->vser) {
        return p->saved_rx_head == UINT32_MAX && p->saved_tx_head == UINT32_MAX ? 0 : -EINVAL;
    }
    port_drop_elems(p);
    if (p->saved_rx_head != UINT32_MAX) {
        p->rx_elem = port_rebuild(p->ivq, p->saved_rx_head, p->saved_rx_off, true);
        if (!p->rx_elem) {
            return -EINVAL;
        }
        p->rx_off = p->saved_rx_off;
    }
    if (p->saved_tx_head != UINT32_MAX) {
        p->tx_elem = port_rebuild(p->ovq, p->saved_tx_head, p->saved_tx_off, false);
        if (!p->tx_elem) {
            return -EINVAL;
        }
        p->tx_off = p->saved_tx_off;
    }
    kite_bh_schedule(p->resume_bh);
    return 0;
}

static const VMStateDescription vmstate_virtio_serial_port = {
    .name = "virtio-serial-port", .version_id = 1, .minimum_version_id = 1,
    .pre_save = port_pre_save,
    .post_load = port_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(guest_ready, VirtIOSerialPort),
        VMSTATE_BOOL(guest_connected, VirtIOSerialPort),
        VMSTATE_UINT32(saved_rx_head, VirtIOSerialPort),
        VMSTATE_UINT32(saved_rx_off, VirtIOSerialPort),
        VMSTATE_UINT32(saved_tx_head, VirtIOSerialPort),
        VMSTATE_UINT32(saved_tx_off, VirtIOSerialPort),
        VMSTATE_END_OF_LIST()
    },
};

static const TypeInfo virtio_serial_port_type = {
    .name = TYPE_VIRTIO_SERIAL_PORT,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(VirtIOSerialPort),
    .abstract = true,
    .realize = port_realize,
    .unrealize = port_unrealize,
    .props = port_props,
    .vmsd = &vmstate_virtio_serial_port,
    .bus_type = TYPE_VIRTIO_SERIAL_BUS,
};
KITE_TYPE_REGISTER(virtio_serial_port_type)

static const TypeInfo virtserialport_type = {
    .name = TYPE_VIRTSERIALPORT,
    .parent = TYPE_VIRTIO_SERIAL_PORT,
    .desc = "a virtio-serial port (/dev/vportNpM in the guest), chardev=, name=",
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtserialport_type)

static void virtconsole_init(Object *obj)
{
    VIRTIO_SERIAL_PORT(obj)->is_console = true;
}

static const TypeInfo virtconsole_type = {
    .name = TYPE_VIRTCONSOLE,
    .parent = TYPE_VIRTIO_SERIAL_PORT,
    .desc = "a virtio console port (/dev/hvcN in the guest), chardev=",
    .instance_init = virtconsole_init,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(virtconsole_type)
