/*
 * Character devices: option and legacy-spec parsing, file/pipe/socket/pty/mux backends, flow
 * control, bounded output, and the stdio terminal restore (in a child on a pty).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include "kite/main-loop.h"
#include "kite/timer.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

static char *tmpdir;

/* --- helpers --- */

static void tick(void *opaque)
{
}

/* Run the main loop until pred(opaque) holds, for at most ms milliseconds. */
static bool wait_for(bool (*pred)(void *), void *opaque, int ms)
{
    int64_t end = clock_get_ns(KITE_CLOCK_REALTIME) + ms * 1000000LL;
    KiteTimer *t = timer_new_ns(KITE_CLOCK_REALTIME, tick, NULL);
    bool ok;

    /* The tick bounds each wait, so conditions on fds the loop does not watch are seen. */
    while (!(ok = pred(opaque)) && clock_get_ns(KITE_CLOCK_REALTIME) < end) {
        timer_mod_ns(t, clock_get_ns(KITE_CLOCK_REALTIME) + 2000000);
        main_loop_wait(false);
    }
    timer_free(t);
    return ok;
}

static bool never(void *opaque)
{
    return false;
}

static void run_for(int ms)
{
    wait_for(never, NULL, ms);
}

typedef struct TestFe {
    CharFrontend fe;
    GString *rx;
    GString *events;     /* O C I(n) U(out) B */
    int room;            /* can_receive; each receive uses it up */
} TestFe;

static int fe_can_receive(void *opaque)
{
    return ((TestFe *)opaque)->room;
}

static void fe_receive(void *opaque, const uint8_t *buf, int len)
{
    TestFe *t = opaque;

    g_assert_cmpint(len, <=, t->room);   /* the backend honours can_receive */
    g_string_append_len(t->rx, (const char *)buf, len);
    t->room -= len;
}

static void fe_event(void *opaque, ChrEvent ev)
{
    static const char code[] = { [CHR_EVENT_OPENED] = 'O', [CHR_EVENT_CLOSED] = 'C',
                                 [CHR_EVENT_MUX_IN] = 'I', [CHR_EVENT_MUX_OUT] = 'U',
                                 [CHR_EVENT_BREAK] = 'B' };

    g_string_append_c(((TestFe *)opaque)->events, code[ev]);
}

static void test_fe_init(TestFe *t, Chardev *chr)
{
    t->rx = g_string_new(NULL);
    t->events = g_string_new(NULL);
    t->room = 1 << 20;
    g_assert_true(chr_fe_init(&t->fe, chr, &error_abort));
    chr_fe_set_handlers(&t->fe, fe_can_receive, fe_receive, fe_event, t);
}

static void test_fe_cleanup(TestFe *t, bool del)
{
    chr_fe_deinit(&t->fe, del);
    g_string_free(t->rx, true);
    g_string_free(t->events, true);
}

typedef struct RxWait {
    TestFe *t;
    const char *text;
} RxWait;

static bool rx_has(void *opaque)
{
    RxWait *w = opaque;
    return strstr(w->t->rx->str, w->text) != NULL;
}

static bool wait_rx(TestFe *t, const char *text)
{
    RxWait w = { t, text };
    return wait_for(rx_has, &w, 3000);
}

static bool events_has(void *opaque)
{
    RxWait *w = opaque;
    return strstr(w->t->events->str, w->text) != NULL;
}

static bool wait_events(TestFe *t, const char *text)
{
    RxWait w = { t, text };
    return wait_for(events_has, &w, 3000);
}

/* Read from a non-blocking fd into acc until it contains text, running the loop meanwhile. */
typedef struct FdWait {
    int fd;
    GString *acc;
    const char *text;
} FdWait;

static bool fd_has(void *opaque)
{
    FdWait *w = opaque;
    char buf[4096];
    ssize_t r;

    while ((r = read(w->fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(w->acc, buf, r);
    }
    return strstr(w->acc->str, w->text) != NULL;
}

static bool wait_fd_text(int fd, GString *acc, const char *text)
{
    FdWait w = { fd, acc, text };
    return wait_for(fd_has, &w, 3000);
}

static Chardev *new_chardev(const char *spec, Error **errp)
{
    g_autoptr(KiteOpts) opts = kite_opts_parse(spec, "backend", &error_abort);
    return chardev_new_from_opts(opts, errp);
}

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    g_assert_cmpint(send(fd, s, strlen(s), MSG_NOSIGNAL), ==, strlen(s));
}

static void fe_puts(TestFe *t, const char *s)
{
    g_assert_cmpint(chr_fe_write_all(&t->fe, (const uint8_t *)s, strlen(s)), ==, strlen(s));
}

/* Check that *errp names part1 and part2, then free and clear it. */
static void assert_error(Error **errp, const char *part1, const char *part2)
{
    Error *err = *errp;

    *errp = NULL;
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), part1) ||
        (part2 && !strstr(error_get_pretty(err), part2))) {
        g_error("error '%s' should mention '%s' and '%s'", error_get_pretty(err), part1,
                part2 ? part2 : "");
    }
    error_free(err);
}

/* --- option parsing --- */

static void expect_opts_error(const char *spec, const char *part1, const char *part2)
{
    Error *err = NULL;

    g_assert_null(new_chardev(spec, &err));
    assert_error(&err, part1, part2);
}

static void test_opts_errors(void)
{
    Error *err = NULL;

    expect_opts_error("socket,id=e1,path=/tmp/x,server=on,bogus=1", "'bogus'", "socket");
    expect_opts_error("socket,id=e2,path=/tmp/x,server=maybe", "'server'", "maybe");
    expect_opts_error("file,path=/tmp/x", "'id'", NULL);
    expect_opts_error("nosuch,id=e3", "'nosuch'", "help");
    expect_opts_error("socket,id=e4,path=/tmp/x,wait=off", "'wait'", "client");
    expect_opts_error("socket,id=e5,port=abc", "'abc'", NULL);
    expect_opts_error("socket,id=e5b,host=127.0.0.1,port=0", "port 0", NULL);
    expect_opts_error("socket,id=e5c,path=/tmp/x,server=on,reconnect=1", "'reconnect'", NULL);
    expect_opts_error("null,id=1bad", "invalid id", "'1bad'");
    expect_opts_error("file,id=e6", "'path'", NULL);
    expect_opts_error("file,id=e6b,path=/tmp/x,append=sometimes", "'append'", NULL);
    expect_opts_error("pipe,id=e6c,path=/tmp/x,append=on", "'append'", "pipe");
    expect_opts_error("stdio,id=e6d,signal=2", "'signal'", NULL);
    expect_opts_error("socket,id=e7,path=/nonexistent-dir/sock", "cannot connect",
                      "/nonexistent-dir/sock");
    expect_opts_error("null,id=e8,mux=perhaps", "'mux'", NULL);
    expect_opts_error("mux,id=e9,chardev=nothere", "'nothere'", NULL);

    /* Nothing half-made was left behind. */
    g_assert_null(chardev_find("e1"));
    g_assert_null(chardev_find("e7"));

    g_assert_nonnull(new_chardev("null,id=dup", &error_abort));
    g_assert_null(new_chardev("null,id=dup", &err));
    assert_error(&err, "'dup'", "already exists");
    g_assert_true(chardev_delete(chardev_find("dup"), &error_abort));
    g_assert_null(chardev_find("dup"));
}

/* --- the legacy -serial syntax --- */

static void expect_legacy_error(const char *spec, const char *part1, const char *part2)
{
    Error *err = NULL;

    g_assert_null(chardev_new_from_legacy("bad", spec, &err));
    assert_error(&err, part1, part2);
    g_assert_null(chardev_find("bad"));
}

static void test_legacy(void)
{
    Error *err = NULL;
    g_autofree char *file = tmp_path("legacy.txt");
    g_autofree char *fspec = g_strdup_printf("file:%s", file);
    g_autofree char *sock = tmp_path("legacy.sock");
    g_autofree char *uspec = g_strdup_printf("unix:%s,server=on,wait=off", sock);
    Chardev *chr, *m;

    chr = chardev_new_from_legacy("l0", "null", &error_abort);
    g_assert_cmpstr(object_get_typename(OBJECT(chr)), ==, "chardev-null");
    g_assert_cmpstr(chr->id, ==, "l0");
    g_assert_cmpstr(chr->label, ==, "l0");
    g_assert_true(chardev_find("l0") == chr);

    chr = chardev_new_from_legacy("l1", fspec, &error_abort);
    g_assert_cmpstr(object_get_typename(OBJECT(chr)), ==, "chardev-file");
    g_assert_cmpstr(chr->filename, ==, fspec);

    chr = chardev_new_from_legacy("l2", uspec, &error_abort);
    g_assert_cmpstr(object_get_typename(OBJECT(chr)), ==, "chardev-socket");
    g_assert_true(g_str_has_prefix(chr->filename, "disconnected:unix:"));
    g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));

    chr = chardev_new_from_legacy("l3", "tcp:127.0.0.1:0,server,nowait", &error_abort);
    g_assert_cmpint(chardev_socket_get_port(chr), >, 0);

    m = chardev_new_from_legacy("l4", "mon:null", &error_abort);
    g_assert_true(chardev_is_mux(m));
    g_assert_true(m->legacy_monitor);
    g_assert_cmpstr(object_get_typename(OBJECT(chardev_find("l4-base"))), ==, "chardev-null");

    g_assert_true(chardev_new_from_legacy("l5", "chardev:l0", &error_abort) ==
                  chardev_find("l0"));
    g_assert_null(chardev_new_from_legacy("l6", "none", &err));
    g_assert_null(err);
    g_assert_null(chardev_find("l6"));

    expect_legacy_error("bogus", "'bogus'", NULL);
    expect_legacy_error("tcp:nohostport", "'tcp:nohostport'", "HOST:PORT");
    expect_legacy_error("unix:", "'unix:'", "path");
    expect_legacy_error("file:", "'file:'", "path");
    expect_legacy_error("chardev:nonexist", "'nonexist'", "not found");
    expect_legacy_error("tcp:127.0.0.1:0,server=on,bogus=1", "'bogus'", NULL);
    expect_legacy_error("vc:80Cx24C", "not supported", NULL);
    expect_legacy_error("mon:none", "mon:none", NULL);
    /* A duplicate label is a duplicate id. */
    g_assert_null(chardev_new_from_legacy("l0", "null", &err));
    assert_error(&err, "'l0'", "already exists");

    for (const char *const *id = (const char *const[]){ "l4", "l0", "l1", "l2", "l3", NULL };
         *id; id++) {
        g_assert_true(chardev_delete(chardev_find(*id), &error_abort));
    }
    g_assert_null(chardev_find("l4-base"));        /* mux=on's base goes with the mux */
    g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));   /* the server cleans up */
}

/* --- file and pipe --- */

static void test_file(void)
{
    g_autofree char *path = tmp_path("out.txt");
    g_autofree char *spec = g_strdup_printf("file,id=f,path=%s", path);
    g_autofree char *spec2 = g_strdup_printf("file,id=f,path=%s,append=on", path);
    g_autofree char *contents = NULL;
    TestFe t = { 0 };

    g_file_set_contents(path, "old\n", -1, NULL);
    test_fe_init(&t, new_chardev(spec, &error_abort));
    g_assert_cmpstr(t.events->str, ==, "O");      /* always open, told on attach */
    fe_puts(&t, "hello ");
    chr_fe_printf(&t.fe, "%s %d\n", "world", 42);
    test_fe_cleanup(&t, true);
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "hello world 42\n");   /* truncated, then written */
    g_free(contents);

    test_fe_init(&t, new_chardev(spec2, &error_abort));
    fe_puts(&t, "more\n");
    test_fe_cleanup(&t, true);
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "hello world 42\nmore\n");
}

static void test_pipe(void)
{
    g_autofree char *base = tmp_path("fifo");
    g_autofree char *in = g_strdup_printf("%s.in", base);
    g_autofree char *out = g_strdup_printf("%s.out", base);
    g_autofree char *spec = g_strdup_printf("pipe,id=p,path=%s", base);
    g_autoptr(GString) acc = g_string_new(NULL);
    TestFe t = { 0 };
    int fin, fout;

    g_assert_cmpint(mkfifo(in, 0600), ==, 0);
    g_assert_cmpint(mkfifo(out, 0600), ==, 0);
    test_fe_init(&t, new_chardev(spec, &error_abort));
    fin = open(in, O_RDWR | O_NONBLOCK);
    fout = open(out, O_RDWR | O_NONBLOCK);
    g_assert_cmpint(write(fin, "to-kite", 7), ==, 7);
    g_assert_true(wait_rx(&t, "to-kite"));
    fe_puts(&t, "from-kite");
    g_assert_true(wait_fd_text(fout, acc, "from-kite"));
    test_fe_cleanup(&t, true);
    close(fin);
    close(fout);
}

/* --- sockets --- */

static void test_socket_unix_server(void)
{
    g_autofree char *path = tmp_path("server.sock");
    g_autofree char *spec = g_strdup_printf("socket,id=us,path=%s,server=on,wait=off", path);
    g_autoptr(GString) acc = g_string_new(NULL);
    Chardev *chr = new_chardev(spec, &error_abort);
    TestFe t = { 0 };
    int fd;

    test_fe_init(&t, chr);
    g_assert_cmpstr(t.events->str, ==, "");       /* wait=off: no peer yet */
    g_assert_false(chr_fe_backend_open(&t.fe));
    g_assert_true(g_str_has_prefix(chr->filename, "disconnected:unix:"));
    /* Writes with no peer are discarded, not queued for whoever connects. */
    fe_puts(&t, "lost");

    fd = unix_connect(path);
    g_assert_true(wait_events(&t, "O"));
    g_assert_true(chr_fe_backend_open(&t.fe));
    g_assert_true(g_str_has_prefix(chr->filename, "unix:"));
    g_assert_true(g_str_has_suffix(chr->filename, ",server=on"));
    send_str(fd, "ping");
    g_assert_true(wait_rx(&t, "ping"));
    fe_puts(&t, "pong");
    g_assert_true(wait_fd_text(fd, acc, "pong"));
    g_assert_null(strstr(acc->str, "lost"));

    close(fd);
    g_assert_true(wait_events(&t, "OC"));
    g_assert_false(chr_fe_backend_open(&t.fe));

    /* The server listens again after a disconnect. */
    fd = unix_connect(path);
    g_assert_true(wait_events(&t, "OCO"));
    send_str(fd, "again");
    g_assert_true(wait_rx(&t, "again"));
    close(fd);
    g_assert_true(wait_events(&t, "OCOC"));
    test_fe_cleanup(&t, true);
}

typedef struct Connector {
    char *path;
    int fd;
} Connector;

static gpointer connect_later(gpointer opaque)
{
    Connector *c = opaque;

    /* Retry until the server's socket exists and listens. */
    for (int i = 0; i < 300 && c->fd < 0; i++) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        g_strlcpy(sun.sun_path, c->path, sizeof(sun.sun_path));
        g_usleep(10 * 1000);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            c->fd = fd;
        } else {
            close(fd);
        }
    }
    return NULL;
}

static void test_socket_server_wait(void)
{
    Connector c = { tmp_path("wait.sock"), -1 };
    g_autofree char *spec = g_strdup_printf("socket,id=uw,path=%s,server=on", c.path);
    GThread *th = g_thread_new("connect", connect_later, &c);
    Chardev *chr;
    TestFe t = { 0 };

    /* wait=on (the default) returns only once the client is there. */
    chr = new_chardev(spec, &error_abort);
    g_assert_true(chr->be_open);
    g_thread_join(th);
    g_assert_cmpint(c.fd, >=, 0);
    test_fe_init(&t, chr);
    g_assert_cmpstr(t.events->str, ==, "O");
    send_str(c.fd, "hi");
    g_assert_true(wait_rx(&t, "hi"));
    close(c.fd);
    g_assert_true(wait_events(&t, "OC"));
    test_fe_cleanup(&t, true);
    g_free(c.path);
}

typedef struct Acceptor {
    int listen_fd;
    int fd;
} Acceptor;

static bool try_accept(void *opaque)
{
    Acceptor *a = opaque;

    if (a->fd < 0) {
        a->fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK);
    }
    return a->fd >= 0;
}

static void test_socket_client_reconnect(void)
{
    g_autofree char *path = tmp_path("client.sock");
    g_autofree char *spec = g_strdup_printf("socket,id=uc,path=%s,reconnect-ms=50", path);
    g_autoptr(GString) acc = g_string_new(NULL);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    Acceptor a = { socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), -1 };
    TestFe t = { 0 };
    Chardev *chr;

    /* With reconnect, a missing server is not an error: it is retried. */
    chr = new_chardev(spec, &error_abort);
    test_fe_init(&t, chr);
    g_assert_false(chr->be_open);

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(a.listen_fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(a.listen_fd, 1), ==, 0);
    g_assert_true(wait_for(try_accept, &a, 3000));
    g_assert_true(wait_events(&t, "O"));
    send_str(a.fd, "srv");
    g_assert_true(wait_rx(&t, "srv"));
    fe_puts(&t, "cli");
    g_assert_true(wait_fd_text(a.fd, acc, "cli"));

    close(a.fd);
    a.fd = -1;
    g_assert_true(wait_events(&t, "OC"));
    g_assert_true(wait_for(try_accept, &a, 3000));
    g_assert_true(wait_events(&t, "OCO"));
    send_str(a.fd, "back");
    g_assert_true(wait_rx(&t, "back"));

    test_fe_cleanup(&t, true);
    close(a.fd);
    close(a.listen_fd);
}

static void test_socket_tcp(void)
{
    Chardev *chr = new_chardev("socket,id=tcp0,host=127.0.0.1,port=0,server=on,wait=off,"
                               "nodelay=on", &error_abort);
    int port = chardev_socket_get_port(chr);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_autoptr(GString) acc = g_string_new(NULL);
    g_autofree char *expect = g_strdup_printf("tcp:127.0.0.1:%d,server=on", port);
    TestFe t = { 0 };
    int fd;

    g_assert_cmpint(port, >, 0);
    g_assert_nonnull(strstr(chr->filename, expect));
    test_fe_init(&t, chr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    g_assert_true(wait_events(&t, "O"));
    send_str(fd, "over tcp");
    g_assert_true(wait_rx(&t, "over tcp"));
    fe_puts(&t, "back over tcp");
    g_assert_true(wait_fd_text(fd, acc, "back over tcp"));
    close(fd);
    g_assert_true(wait_events(&t, "OC"));
    test_fe_cleanup(&t, true);
}

static void set_flag(void *opaque)
{
    *(int *)opaque = 1;
}

static bool flag_set(void *opaque)
{
    return *(int *)opaque;
}

/* A peer that never reads must not stall Kite: output is bounded and the excess dropped. */
static void test_socket_backpressure(void)
{
    g_autofree char *path = tmp_path("slow.sock");
    g_autofree char *spec = g_strdup_printf("socket,id=slow,path=%s,server=on,wait=off", path);
    Chardev *chr = new_chardev(spec, &error_abort);
    static uint8_t chunk[64 * 1024];
    TestFe t = { 0 };
    int64_t start;
    int fd, n, writable = 0, total = 0;
    char buf[65536];

    test_fe_init(&t, chr);
    fd = unix_connect(path);
    g_assert_true(wait_events(&t, "O"));

    /* chr_fe_write takes what fits, then 0: the socket buffer and outbuf are full. */
    memset(chunk, 'x', sizeof(chunk));
    do {
        n = chr_fe_write(&t.fe, chunk, sizeof(chunk));
        total += n;
    } while (n == sizeof(chunk) && total < (64 << 20));
    g_assert_cmpint(n, <, sizeof(chunk));
    g_assert_cmpint(chr->outbuf->len, ==, CHARDEV_OUTBUF_MAX);
    g_assert_cmpint(chr_fe_write(&t.fe, chunk, 100), ==, 0);

    /* write_all returns at once and drops what does not fit. */
    start = clock_get_ns(KITE_CLOCK_REALTIME);
    for (int i = 0; i < 16; i++) {
        g_assert_cmpint(chr_fe_write_all(&t.fe, chunk, sizeof(chunk)), ==, sizeof(chunk));
    }
    g_assert_cmpint(clock_get_ns(KITE_CLOCK_REALTIME) - start, <, NANOSECONDS_PER_SECOND);
    g_assert_cmpuint(chr->dropped_total, >=, 16 * sizeof(chunk));

    /* Once the peer drains everything, the frontend hears it can write again. */
    chr_fe_notify_writable(&t.fe, set_flag, &writable);
    run_for(20);
    g_assert_false(writable);
    for (int i = 0; i < 2000 && !writable; i++) {
        while (read(fd, buf, sizeof(buf)) > 0) {
        }
        run_for(2);
    }
    g_assert_true(writable);
    g_assert_cmpint(chr->outbuf->len, ==, 0);
    close(fd);
    test_fe_cleanup(&t, true);
}

/* Input waits while can_receive is 0 and resumes with chr_fe_accept_input. */
static void test_flow_control(void)
{
    g_autofree char *path = tmp_path("flow.sock");
    g_autofree char *spec = g_strdup_printf("socket,id=flow,path=%s,server=on,wait=off", path);
    TestFe t = { 0 };
    int fd;

    test_fe_init(&t, new_chardev(spec, &error_abort));
    t.room = 0;
    fd = unix_connect(path);
    g_assert_true(wait_events(&t, "O"));
    send_str(fd, "abcdefgh");
    run_for(30);
    g_assert_cmpstr(t.rx->str, ==, "");

    t.room = 3;
    chr_fe_accept_input(&t.fe);
    g_assert_true(wait_rx(&t, "abc"));
    run_for(30);
    g_assert_cmpstr(t.rx->str, ==, "abc");       /* exactly the room it offered */

    t.room = 100;
    chr_fe_accept_input(&t.fe);
    g_assert_true(wait_rx(&t, "abcdefgh"));
    close(fd);
    test_fe_cleanup(&t, true);
}

/* --- mux --- */

static int quit_calls;

static void mux_quit(void)
{
    quit_calls++;
}

static bool fd_quiet(int fd)
{
    char c;
    run_for(30);
    return read(fd, &c, 1) < 0 && errno == EAGAIN;
}

static void test_mux(void)
{
    g_autofree char *path = tmp_path("mux.sock");
    g_autofree char *spec = g_strdup_printf("socket,id=m,path=%s,server=on,wait=off,mux=on",
                                            path);
    g_autoptr(GString) acc = g_string_new(NULL);
    Chardev *chr = new_chardev(spec, &error_abort);
    TestFe mon = { 0 }, ser = { 0 };
    Error *err = NULL;
    int fd;

    g_assert_true(chardev_is_mux(chr));
    g_assert_cmpstr(object_get_typename(OBJECT(chardev_find("m-base"))), ==,
                    "chardev-socket");
    chardev_set_mux_quit_hook(mux_quit);

    /* The newest frontend takes the focus: the serial port, attached after the monitor. */
    test_fe_init(&mon, chr);
    test_fe_init(&ser, chr);
    g_assert_cmpstr(mon.events->str, ==, "IU");
    g_assert_cmpstr(ser.events->str, ==, "I");

    fd = unix_connect(path);
    g_assert_true(wait_events(&mon, "IUO"));
    g_assert_true(wait_events(&ser, "IO"));

    send_str(fd, "to-serial");
    g_assert_true(wait_rx(&ser, "to-serial"));
    g_assert_cmpstr(mon.rx->str, ==, "");

    /* Ctrl-A c moves the focus and writes nothing to the terminal. */
    send_str(fd, "\x01" "c");
    g_assert_true(wait_events(&mon, "IUOI"));
    g_assert_true(wait_events(&ser, "IOU"));
    g_assert_true(fd_quiet(fd));
    send_str(fd, "to-monitor");
    g_assert_true(wait_rx(&mon, "to-monitor"));
    g_assert_cmpstr(ser.rx->str, ==, "to-serial");

    /* Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A b a break, to the focus. */
    send_str(fd, "\x01\x01" "z\x01" "b");
    g_assert_true(wait_rx(&mon, "to-monitor\x01z"));
    g_assert_true(wait_events(&mon, "IUOIB"));

    /* Both frontends' output reaches the terminal, whoever has the focus. */
    fe_puts(&ser, "serial-out ");
    fe_puts(&mon, "monitor-out");
    g_assert_true(wait_fd_text(fd, acc, "serial-out monitor-out"));

    /* Escapes work while the focused frontend takes no input; its input waits in the mux. */
    mon.room = 0;
    send_str(fd, "held\x01" "c");
    g_assert_true(wait_events(&ser, "IOUI"));
    send_str(fd, "+ser");
    g_assert_true(wait_rx(&ser, "to-serial+ser"));
    mon.room = 100;
    chr_fe_accept_input(&mon.fe);
    g_assert_true(wait_rx(&mon, "to-monitor\x01zheld"));

    g_string_truncate(acc, 0);
    send_str(fd, "\x01" "h");
    g_assert_true(wait_fd_text(fd, acc, "C-a x"));
    g_assert_cmpint(quit_calls, ==, 0);
    send_str(fd, "\x01" "x");
    g_assert_true(wait_for(flag_set, &quit_calls, 3000));
    g_assert_true(wait_fd_text(fd, acc, "terminated"));

    g_assert_false(chardev_delete(chr, &err));
    assert_error(&err, "'m'", "busy");
    g_assert_false(chardev_delete(chardev_find("m-base"), &err));
    assert_error(&err, "'m-base'", "busy");

    close(fd);
    g_assert_true(wait_events(&mon, "C"));
    g_assert_true(wait_events(&ser, "C"));
    test_fe_cleanup(&mon, false);
    test_fe_cleanup(&ser, true);
    g_assert_null(chardev_find("m"));
    g_assert_null(chardev_find("m-base"));
    chardev_set_mux_quit_hook(NULL);
}

/* --- pty (in a subprocess: it prints to stdout) --- */

static void test_pty_child(void)
{
    Chardev *chr = new_chardev("pty,id=pty0", &error_abort);
    g_autoptr(GString) acc = g_string_new(NULL);
    TestFe t = { 0 };
    int slave;

    g_assert_true(g_str_has_prefix(chr->filename, "pty:/dev/pts/"));
    test_fe_init(&t, chr);
    g_assert_false(chr->be_open);        /* nobody has the slave open */
    fe_puts(&t, "unseen");               /* dropped, not queued in the pty */

    slave = open(chr->filename + 4, O_RDWR | O_NOCTTY | O_NONBLOCK);
    g_assert_cmpint(slave, >=, 0);
    g_assert_true(wait_events(&t, "O"));
    g_assert_cmpint(write(slave, "ping", 4), ==, 4);
    g_assert_true(wait_rx(&t, "ping"));
    fe_puts(&t, "pong");
    g_assert_true(wait_fd_text(slave, acc, "pong"));
    g_assert_null(strstr(acc->str, "unseen"));
    close(slave);
    g_assert_true(wait_events(&t, "OC"));
    test_fe_cleanup(&t, true);
}

static void test_pty(void)
{
    if (g_test_subprocess()) {
        test_pty_child();
        return;
    }
    g_test_trap_subprocess(NULL, 10 * 1000000, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("*char device redirected to /dev/pts/* (label pty0)*");
}

/* --- stdio: raw mode on a terminal, and its restore --- */

static void stdio_child_receive(void *opaque, const uint8_t *buf, int len)
{
    TestFe *t = opaque;

    fe_receive(t, buf, len);
    if (memchr(buf, 'q', len)) {
        fe_puts(t, "got-q");
    }
}

/* Child: stdin/stdout on the pty slave; says "R" on the sync pipe, then serves until killed. */
static void stdio_child(int slave, int sync_fd, const char *spec, const char *how)
{
    Error *err = NULL;
    TestFe t = { 0 };
    Chardev *chr;

    dup2(slave, 0);
    dup2(slave, 1);
    chr = new_chardev(spec, &err);
    if (!chr) {
        _exit(3);
    }
    test_fe_init(&t, chr);
    chr_fe_set_handlers(&t.fe, fe_can_receive, stdio_child_receive, fe_event, &t);
    if (write(sync_fd, "R", 1) != 1) {
        _exit(4);
    }
    while (!strstr(t.rx->str, "q")) {
        main_loop_wait(false);
    }
    run_for(100);                       /* let "got-q" out */
    if (!strcmp(how, "exit")) {
        exit(0);                        /* atexit restores */
    } else if (!strcmp(how, "abort")) {
        abort();                        /* the SIGABRT handler restores */
    }
    for (;;) {
        pause();                        /* the parent sends SIGTERM */
    }
}

static void run_stdio_case(const char *spec, const char *how, bool expect_isig)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int sync[2], slave, status;
    struct termios before, during, after;
    g_autoptr(GString) acc = g_string_new(NULL);
    char c;
    pid_t pid;

    g_assert_cmpint(master, >=, 0);
    g_assert_cmpint(grantpt(master) | unlockpt(master), ==, 0);
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    g_assert_cmpint(slave, >=, 0);
    g_assert_cmpint(tcgetattr(slave, &before), ==, 0);
    g_assert_true(before.c_lflag & ECHO);
    g_assert_true(before.c_lflag & ICANON);
    g_assert_cmpint(pipe(sync), ==, 0);

    pid = fork();
    if (pid == 0) {
        close(master);
        close(sync[0]);
        stdio_child(slave, sync[1], spec, how);
        _exit(5);
    }
    close(sync[1]);
    g_assert_cmpint(read(sync[0], &c, 1), ==, 1);

    g_assert_cmpint(tcgetattr(slave, &during), ==, 0);
    g_assert_false(during.c_lflag & ECHO);
    g_assert_false(during.c_lflag & ICANON);
    g_assert_cmpint(!!(during.c_lflag & ISIG), ==, expect_isig);

    /* Raw: one key without a newline reaches the guest side, and nothing is echoed. */
    g_assert_cmpint(write(master, "q", 1), ==, 1);
    fcntl(master, F_SETFL, O_NONBLOCK);
    g_assert_true(wait_fd_text(master, acc, "got-q"));
    g_assert_cmpstr(acc->str, ==, "got-q");

    if (!strcmp(how, "term")) {
        kill(pid, SIGTERM);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (!strcmp(how, "exit")) {
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    } else {
        /* Restored, then died of the signal itself (so the shell sees the real cause). */
        g_assert_true(WIFSIGNALED(status));
        g_assert_cmpint(WTERMSIG(status), ==, !strcmp(how, "term") ? SIGTERM : SIGABRT);
    }
    g_assert_cmpint(tcgetattr(slave, &after), ==, 0);
    g_assert_cmpint(after.c_lflag, ==, before.c_lflag);
    g_assert_cmpint(after.c_iflag, ==, before.c_iflag);
    close(slave);
    close(master);
    close(sync[0]);
}

static void test_stdio_terminal(void)
{
    run_stdio_case("stdio,id=s", "term", true);
    run_stdio_case("stdio,id=s,signal=off", "exit", false);
    run_stdio_case("stdio,id=s", "abort", true);
}

/* --- registry --- */

static int collect_id(Chardev *chr, void *opaque)
{
    g_string_append_printf(opaque, "%s,", chr->id);
    return 0;
}

static void test_registry_and_help(void)
{
    g_autoptr(GString) ids = g_string_new(NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    TestFe t = { 0 };
    Error *err = NULL;

    chardev_print_backends(f);
    fclose(f);
    for (const char *const *b = (const char *const[]){ "null", "stdio", "file", "pipe",
                                                       "socket", "pty", "mux", NULL };
         *b; b++) {
        g_autofree char *line = g_strdup_printf("\n  %s ", *b);
        g_assert_nonnull(strstr(text, line));
    }
    free(text);

    new_chardev("null,id=ra", &error_abort);
    new_chardev("null,id=rb", &error_abort);
    chardev_foreach(collect_id, ids);
    g_assert_nonnull(strstr(ids->str, "ra,rb,"));

    test_fe_init(&t, chardev_find("ra"));
    g_assert_false(chr_fe_init(&(CharFrontend){ 0 }, chardev_find("ra"), &err));
    assert_error(&err, "'ra'", "mux=on");
    g_assert_false(chardev_delete(chardev_find("ra"), &err));
    assert_error(&err, "'ra'", "busy");
    test_fe_cleanup(&t, false);
    g_assert_true(chardev_delete(chardev_find("ra"), &error_abort));
    g_assert_true(chardev_delete(chardev_find("rb"), &error_abort));
    g_assert_null(chardev_find("ra"));

    /* An unconnected frontend swallows output. */
    g_assert_true(chr_fe_init(&t.fe, NULL, &error_abort));
    g_assert_cmpint(chr_fe_write(&t.fe, (const uint8_t *)"x", 1), ==, 1);
    g_assert_false(chr_fe_backend_connected(&t.fe));
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    signal(SIGPIPE, SIG_IGN);
    tmpdir = g_dir_make_tmp("kite-chardev-XXXXXX", NULL);
    g_test_add_func("/chardev/opts-errors", test_opts_errors);
    g_test_add_func("/chardev/legacy", test_legacy);
    g_test_add_func("/chardev/file", test_file);
    g_test_add_func("/chardev/pipe", test_pipe);
    g_test_add_func("/chardev/socket/unix-server", test_socket_unix_server);
    g_test_add_func("/chardev/socket/server-wait", test_socket_server_wait);
    g_test_add_func("/chardev/socket/client-reconnect", test_socket_client_reconnect);
    g_test_add_func("/chardev/socket/tcp", test_socket_tcp);
    g_test_add_func("/chardev/socket/backpressure", test_socket_backpressure);
    g_test_add_func("/chardev/flow-control", test_flow_control);
    g_test_add_func("/chardev/mux", test_mux);
    g_test_add_func("/chardev/pty", test_pty);
    g_test_add_func("/chardev/stdio-terminal", test_stdio_terminal);
    g_test_add_func("/chardev/registry-and-help", test_registry_and_help);
    ret = g_test_run();
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) {
            g_printerr("could not remove %s\n", tmpdir);
        }
    }
    return ret;
}
