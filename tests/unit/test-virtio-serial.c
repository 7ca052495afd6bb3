/*
 * virtio-serial as Linux's virtio_console drives it (virtio 1.2 section 5.3.6): the
 * DEVICE_READY / DEVICE_ADD / PORT_READY / CONSOLE_PORT / PORT_NAME / PORT_OPEN handshake,
 * data both ways between guest buffers and file chardevs, flow control (no input without
 * an open port and posted buffers), port numbering rules, and reset.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/opts.h"
#include "kite/main-loop.h"
#include "hw/virtio/virtio-serial.h"
#include <sys/socket.h>
#include <sys/un.h>

#define RAM_SIZE    (1 * MiB)
#define QN          8
#define RING(q)     (0x10000 + (q) * 0x1000)
#define BUFS(q)     (0x80000 + (q) * 0x1000)      /* 8 buffers of 0x200 per queue */
#define CTRL_RX     2
#define CTRL_TX     3
#define FEATURES    ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 1) /* MULTIPORT */ | \
                     (1ULL << 2) /* EMERG_WRITE */)

static uint8_t *ram;
static char *tmpdir;
static uint16_t avail_idx[8], seen_used[8];

static void *ram_map(void *opaque, uint64_t gpa, uint64_t *plen, bool is_write)
{
    if (gpa >= RAM_SIZE) {
        return NULL;
    }
    *plen = MIN(*plen, RAM_SIZE - gpa);
    return ram + gpa;
}

static void ram_unmap(void *opaque, void *host, uint64_t len, bool w, uint64_t alen)
{
}

static const VirtioMemOps ram_mem = { .map = ram_map, .unmap = ram_unmap };

/* The transport stand-in: a device that owns the virtio-serial bus. */
typedef struct Host {
    DeviceState parent_obj;
    VirtIOSerial vser;
} Host;

static void host_realize(DeviceState *dev, Error **errp)
{
    Host *h = (Host *)dev;

    h->vser.max_nr_ports = 31;
    virtio_serial_realize(&h->vser, dev, errp);
    virtio_set_mem_ops(&h->vser.vdev, &ram_mem, NULL);
}

static void host_unrealize(DeviceState *dev)
{
    virtio_serial_unrealize(&((Host *)dev)->vser);
}

static const TypeInfo host_type = {
    .name = "test-vser-host", .parent = TYPE_DEVICE, .instance_size = sizeof(Host),
    .realize = host_realize, .unrealize = host_unrealize,
};
KITE_TYPE_REGISTER(host_type)

/* --- driver side --- */

static void post(VirtIODevice *vdev, unsigned q, uint64_t addr, uint32_t len, bool write)
{
    unsigned slot = avail_idx[q] % QN;
    uint8_t *d = ram + RING(q) + 16 * slot;

    stq_le_p(d, addr);
    stl_le_p(d + 8, len);
    stw_le_p(d + 12, write ? VRING_DESC_F_WRITE : 0);
    stw_le_p(ram + RING(q) + 0x100 + 4 + 2 * slot, slot);
    avail_idx[q]++;
    stw_le_p(ram + RING(q) + 0x100 + 2, avail_idx[q]);
    virtio_queue_notify(vdev, q);
}

static void send_ctrl(VirtIODevice *vdev, uint32_t id, uint16_t event, uint16_t value)
{
    uint64_t buf = BUFS(CTRL_TX) + 0x200 * (avail_idx[CTRL_TX] % QN);

    stl_le_p(ram + buf, id);
    stw_le_p(ram + buf + 4, event);
    stw_le_p(ram + buf + 6, value);
    post(vdev, CTRL_TX, buf, 8, false);
}

/* The next used entry of queue q: its buffer (posted in order) and length; NULL if none. */
static uint8_t *next_used(unsigned q, uint32_t *len)
{
    uint8_t *u = ram + RING(q) + 0x200;
    unsigned slot;

    if (lduw_le_p(u + 2) == seen_used[q]) {
        return NULL;
    }
    slot = ldl_le_p(u + 4 + 8 * (seen_used[q] % QN));
    *len = ldl_le_p(u + 8 + 8 * (seen_used[q] % QN));
    seen_used[q]++;
    return ram + BUFS(q) + 0x200 * slot;
}

/* Expect a control message (id, event, value) next on the control receive queue. */
static uint8_t *expect_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
    uint32_t len;
    uint8_t *m = next_used(CTRL_RX, &len);

    g_assert_nonnull(m);
    g_assert_cmpuint(len, >=, 8);
    g_assert_cmpuint(ldl_le_p(m), ==, id);
    g_assert_cmpuint(lduw_le_p(m + 4), ==, event);
    g_assert_cmpuint(lduw_le_p(m + 6), ==, value);
    return m;
}

static Chardev *new_file_chardev(const char *id, char **path)
{
    g_autofree char *spec = NULL;
    g_autoptr(KiteOpts) opts = NULL;

    *path = g_build_filename(tmpdir, id, NULL);
    spec = g_strdup_printf("file,id=%s,path=%s", id, *path);
    opts = kite_opts_parse(spec, "backend", &error_abort);
    return chardev_new_from_opts(opts, &error_abort);
}

static DeviceState *new_port(const char *type, BusState *bus, const char *chardev,
                             const char *name, Error **errp)
{
    DeviceState *p = qdev_new(type);

    if (chardev) {
        object_property_set_str(OBJECT(p), "chardev", chardev, &error_abort);
    }
    if (name) {
        object_property_set_str(OBJECT(p), "name", name, &error_abort);
    }
    if (!qdev_realize_and_unref(p, bus, errp)) {
        return NULL;
    }
    return p;
}

static void driver_init(VirtIODevice *vdev)
{
    memset(ram, 0, RAM_SIZE);
    memset(avail_idx, 0, sizeof(avail_idx));
    memset(seen_used, 0, sizeof(seen_used));
    virtio_reset(vdev);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    g_assert_true(virtio_set_features(vdev, FEATURES));
    virtio_set_status(vdev, 0x0b);
    for (unsigned q = 0; q < 8; q++) {
        virtio_queue_set_num(vdev, q, QN);
        virtio_queue_set_rings(vdev, q, RING(q), RING(q) + 0x100, RING(q) + 0x200);
        vdev->vq[q].enabled = true;
    }
    virtio_set_status(vdev, 0x0f);
    for (unsigned i = 0; i < 4; i++) {
        post(vdev, CTRL_RX, BUFS(CTRL_RX) + 0x200 * i, 0x200, true);
    }
}

static void test_handshake_and_data(void)
{
    DeviceState *hostdev = qdev_new("test-vser-host");
    Host *h = (Host *)hostdev;
    VirtIODevice *vdev;
    BusState *bus;
    Chardev *c0, *c1, *c2;
    char *p0, *p1, *p2, *out = NULL;
    uint32_t len;
    uint8_t *m;
    Error *err = NULL;
    size_t outlen;

    hostdev->id = g_strdup("vser0");
    g_assert_true(qdev_realize(hostdev, NULL, &error_abort));
    vdev = &h->vser.vdev;
    bus = BUS(h->vser.bus);
    g_assert_cmpstr(bus->name, ==, "vser0.0");
    g_assert_nonnull(bus);
    c0 = new_file_chardev("c0", &p0);
    c1 = new_file_chardev("c1", &p1);
    c2 = new_file_chardev("c2", &p2);
    g_assert_nonnull(new_port(TYPE_VIRTCONSOLE, bus, "c0", NULL, &error_abort));
    g_assert_nonnull(new_port(TYPE_VIRTSERIALPORT, bus, "c1", "org.kite.test", &error_abort));
    /* Names are unique; a chardev serves one port. */
    g_assert_null(new_port(TYPE_VIRTSERIALPORT, bus, "c2", "org.kite.test", &err));
    g_clear_pointer(&err, error_free);
    g_assert_null(new_port(TYPE_VIRTSERIALPORT, bus, "c1", NULL, &err));
    g_clear_pointer(&err, error_free);
    g_assert_cmpuint(h->vser.ports[0]->is_console, ==, true);
    g_assert_cmpstr(h->vser.ports[1]->name, ==, "org.kite.test");
    g_assert_cmpuint(virtio_config_read(vdev, 4, 4), ==, 31);

    driver_init(vdev);
    send_ctrl(vdev, 0, 0 /* DEVICE_READY */, 1);
    expect_ctrl(0, 1 /* DEVICE_ADD */, 1);
    expect_ctrl(1, 1, 1);
    g_assert_null(next_used(CTRL_RX, &len));
    /* More messages than posted buffers: the rest wait for buffers. */
    send_ctrl(vdev, 0, 3 /* PORT_READY */, 1);
    expect_ctrl(0, 4 /* CONSOLE_PORT */, 1);
    expect_ctrl(0, 6 /* PORT_OPEN */, 1);      /* a file chardev is always open */
    send_ctrl(vdev, 1, 3, 1);
    g_assert_null(next_used(CTRL_RX, &len));
    for (unsigned i = 4; i < 8; i++) {
        post(vdev, CTRL_RX, BUFS(CTRL_RX) + 0x200 * i, 0x200, true);
    }
    m = expect_ctrl(1, 7 /* PORT_NAME */, 1);
    g_assert_cmpstr((char *)m + 8, ==, "org.kite.test");
    expect_ctrl(1, 6, 1);

    /* Host input waits until the guest opens the port and posts buffers. */
    g_assert_cmpint(chardev_be_can_write(c1), ==, 0);
    send_ctrl(vdev, 1, 6 /* PORT_OPEN */, 1);
    g_assert_cmpint(chardev_be_can_write(c1), ==, 0);
    post(vdev, 4, BUFS(4), 0x10, true);
    g_assert_cmpint(chardev_be_can_write(c1), ==, 0x10);
    chardev_be_write(c1, (const uint8_t *)"ping", 4);
    m = next_used(4, &len);
    g_assert_nonnull(m);
    g_assert_cmpuint(len, ==, 4);
    g_assert_cmpmem(m, 4, "ping", 4);

    /* Guest output reaches the chardev's file; port 0 is the console. */
    memcpy(ram + BUFS(5), "pong", 4);
    post(vdev, 5, BUFS(5), 4, false);
    g_assert_nonnull(next_used(5, &len));
    g_assert_cmpuint(len, ==, 0);
    memcpy(ram + BUFS(1), "hvc0", 4);
    post(vdev, 1, BUFS(1), 4, false);
    virtio_config_write(vdev, 8, '!', 4);          /* emerg_wr: straight to port 0 */
    virtio_config_write(vdev, 0, 80, 2);            /* cols: read-only, no output */
    g_assert_true(g_file_get_contents(p1, &out, &outlen, NULL));
    g_assert_cmpmem(out, outlen, "pong", 4);
    g_free(out);
    g_assert_true(g_file_get_contents(p0, &out, &outlen, NULL));
    g_assert_cmpmem(out, outlen, "hvc0!", 5);
    g_free(out);

    /* Output to a port number nobody uses is consumed and dropped. */
    memcpy(ram + BUFS(7), "void", 4);
    post(vdev, 7, BUFS(7), 4, false);
    g_assert_nonnull(next_used(7, &len));
    g_assert_false(vdev->broken);

    /* Reset closes the guest side; input stops. */
    virtio_set_status(vdev, 0);
    g_assert_false(h->vser.ports[1]->guest_connected);
    g_assert_cmpint(chardev_be_can_write(c1), ==, 0);

    /* A hot-plugged port is announced to a running driver. */
    driver_init(vdev);
    send_ctrl(vdev, 0, 0, 1);
    expect_ctrl(0, 1, 1);
    expect_ctrl(1, 1, 1);
    g_assert_nonnull(new_port(TYPE_VIRTSERIALPORT, bus, "c2", "org.kite.two", &error_abort));
    expect_ctrl(2, 1, 1);

    qdev_unrealize(hostdev);
    object_unref(OBJECT(hostdev));
    chardev_delete(c0, &error_abort);
    chardev_delete(c1, &error_abort);
    chardev_delete(c2, &error_abort);
    unlink(p0);
    unlink(p1);
    unlink(p2);
    g_free(p0);
    g_free(p1);
    g_free(p2);
}

static void test_port_numbers(void)
{
    DeviceState *hostdev = qdev_new("test-vser-host");
    Host *h = (Host *)hostdev;
    DeviceState *p;
    Error *err = NULL;

    g_assert_true(qdev_realize(hostdev, NULL, &error_abort));
    /* A virtserialport never gets port 0 (the console's); nr=0 is refused for it. */
    p = new_port(TYPE_VIRTSERIALPORT, BUS(h->vser.bus), NULL, NULL, &error_abort);
    g_assert_cmpuint(((VirtIOSerialPort *)p)->id, ==, 1);
    p = qdev_new(TYPE_VIRTSERIALPORT);
    object_property_set_str(OBJECT(p), "nr", "0", &error_abort);
    g_assert_false(qdev_realize_and_unref(p, BUS(h->vser.bus), &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "reserved"));
    g_clear_pointer(&err, error_free);
    p = new_port(TYPE_VIRTCONSOLE, BUS(h->vser.bus), NULL, NULL, &error_abort);
    g_assert_cmpuint(((VirtIOSerialPort *)p)->id, ==, 0);
    p = new_port(TYPE_VIRTCONSOLE, BUS(h->vser.bus), NULL, NULL, &error_abort);
    g_assert_cmpuint(((VirtIOSerialPort *)p)->id, ==, 2);
    qdev_unrealize(hostdev);
    object_unref(OBJECT(hostdev));
}

/*
 * Output faster than the chardev's peer reads: the device must stop taking buffers when the
 * chardev's bounded buffer is full, keep the rest in the guest's memory, and resume when the
 * peer drains, delivering every byte once and in order.
 */
static void test_backpressure(void)
{
    DeviceState *hostdev = qdev_new("test-vser-host");
    Host *h = (Host *)hostdev;
    VirtIODevice *vdev;
    g_autofree char *path = g_build_filename(tmpdir, "sock", NULL);
    g_autofree char *spec = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    g_autoptr(KiteOpts) opts = kite_opts_parse(spec, "backend", &error_abort);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    const size_t chunk = 0x200, total = 3 * MiB;
    GByteArray *got = g_byte_array_new();
    Chardev *chr;
    size_t sent = 0;
    uint32_t len;
    unsigned used = 0, stalls = 0;
    int fd;

    g_assert_true(qdev_realize(hostdev, NULL, &error_abort));
    vdev = &h->vser.vdev;
    chr = chardev_new_from_opts(opts, &error_abort);
    g_assert_nonnull(new_port(TYPE_VIRTSERIALPORT, BUS(h->vser.bus), "s0", "p", &error_abort));
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    for (int i = 0; i < 100 && !chr->be_open; i++) {
        main_loop_wait(true);
    }
    g_assert_true(chr->be_open);
    driver_init(vdev);
    send_ctrl(vdev, 0, 0, 1);
    send_ctrl(vdev, 1, 3, 1);
    send_ctrl(vdev, 1, 6, 1);

    /* Keep 8 output buffers posted (queue 5 = port 1 transmit), each a pattern chunk. */
    while (got->len < total) {
        bool progress = false;

        while (sent < total && (uint16_t)(avail_idx[5] - seen_used[5]) < QN) {
            uint64_t buf = BUFS(5) + 0x200 * (avail_idx[5] % QN);
            for (size_t i = 0; i < chunk; i++) {
                ram[buf + i] = (sent + i) * 131 + ((sent + i) >> 16);
            }
            post(vdev, 5, buf, chunk, false);
            sent += chunk;
            progress = true;
        }
        while (next_used(5, &len)) {
            used++;
            progress = true;
        }
        if (!progress || sent >= total) {
            /* The device stalled: the peer reads a little, the main loop resumes output. */
            uint8_t rb[65536];
            ssize_t n = recv(fd, rb, sizeof(rb), MSG_DONTWAIT);

            stalls += !progress;
            if (n > 0) {
                g_byte_array_append(got, rb, n);
            }
            main_loop_wait(true);
        }
    }
    g_assert_cmpuint(stalls, >, 0);             /* it really had to wait */
    g_assert_cmpuint(got->len, ==, total);
    for (size_t i = 0; i < total; i++) {
        if (got->data[i] != (uint8_t)(i * 131 + (i >> 16))) {
            g_error("byte %zu wrong", i);
        }
    }
    g_assert_false(vdev->broken);
    close(fd);
    qdev_unrealize(hostdev);
    object_unref(OBJECT(hostdev));
    chardev_delete(chr, &error_abort);
    unlink(path);
    g_byte_array_free(got, true);
}

/* A receive buffer the port holds at save time is filled on the destination. */
static void test_migrate_held_buffer(void)
{
    DeviceState *a = qdev_new("test-vser-host"), *b = qdev_new("test-vser-host");
    Host *ha = (Host *)a, *hb = (Host *)b;
    char *pa, *pb;
    Chardev *ca, *cb;
    DeviceState *porta, *portb;
    GByteArray *dev_state = g_byte_array_new(), *port_state = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    uint32_t len;
    uint8_t *m;

    g_assert_true(qdev_realize(a, NULL, &error_abort));
    g_assert_true(qdev_realize(b, NULL, &error_abort));
    ca = new_file_chardev("ma", &pa);
    cb = new_file_chardev("mb", &pb);
    porta = new_port(TYPE_VIRTSERIALPORT, BUS(ha->vser.bus), "ma", "m", &error_abort);
    portb = new_port(TYPE_VIRTSERIALPORT, BUS(hb->vser.bus), "mb", "m", &error_abort);
    driver_init(&ha->vser.vdev);
    send_ctrl(&ha->vser.vdev, 0, 0, 1);
    send_ctrl(&ha->vser.vdev, 1, 3, 1);
    send_ctrl(&ha->vser.vdev, 1, 6, 1);
    post(&ha->vser.vdev, 4, BUFS(4) + 0x200 * avail_idx[4], 0x40, true);
    g_assert_cmpint(chardev_be_can_write(ca), ==, 0x40);      /* the port holds it now */
    g_assert_nonnull(((VirtIOSerialPort *)porta)->rx_elem);

    g_assert_cmpint(vmstate_save(dev_state, &vmstate_virtio_serial, &ha->vser, &err), ==, 0);
    g_assert_cmpint(vmstate_save(port_state, DEVICE_GET_CLASS(porta)->vmsd, porta, &err), ==, 0);
    g_assert_true(vmstate_load(dev_state->data, dev_state->len, &pos, &vmstate_virtio_serial,
                               &hb->vser, &err));
    pos = 0;
    g_assert_true(vmstate_load(port_state->data, port_state->len, &pos,
                               DEVICE_GET_CLASS(portb)->vmsd, portb, &err));
    g_assert_nonnull(((VirtIOSerialPort *)portb)->rx_elem);
    chardev_be_write(cb, (const uint8_t *)"after", 5);
    m = next_used(4, &len);
    g_assert_nonnull(m);
    g_assert_cmpuint(len, ==, 5);
    g_assert_cmpmem(m, 5, "after", 5);

    qdev_unrealize(a);
    object_unref(OBJECT(a));
    qdev_unrealize(b);
    object_unref(OBJECT(b));
    chardev_delete(ca, &error_abort);
    chardev_delete(cb, &error_abort);
    unlink(pa);
    unlink(pb);
    g_free(pa);
    g_free(pb);
    g_byte_array_free(dev_state, true);
    g_byte_array_free(port_state, true);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    ram = g_malloc0(RAM_SIZE);
    tmpdir = g_dir_make_tmp("test-vser-XXXXXX", NULL);
    g_test_add_func("/virtio-serial/handshake-and-data", test_handshake_and_data);
    g_test_add_func("/virtio-serial/port-numbers", test_port_numbers);
    g_test_add_func("/virtio-serial/backpressure", test_backpressure);
    g_test_add_func("/virtio-serial/migrate-held-buffer", test_migrate_held_buffer);
    ret = g_test_run();
    rmdir(tmpdir);
    g_free(tmpdir);
    g_free(ram);
    return ret;
}
