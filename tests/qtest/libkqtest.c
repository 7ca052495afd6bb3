/*
 * libkqtest: the client side of the qtest protocol (see libkqtest.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libkqtest.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KITE_BUILD_ROOT
#define KITE_BUILD_ROOT "."
#endif

#define IRQ_MAX 256
#define REPLY_TIMEOUT_MS 30000

struct KQTest {
    pid_t pid;
    int fd;
    GString *rx;
    char *sock_path;
    bool irq_level[IRQ_MAX];
    unsigned irq_raises[IRQ_MAX];
    int status;
    bool exited;
};

const char *kqtest_binary(void)
{
    const char *env = getenv("KITE_BIN");

    return env ? env : KITE_BUILD_ROOT "/kite";
}

KQTest *kqtest_start(const char *fmt, ...)
{
    KQTest *qt = g_new0(KQTest, 1);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autofree char *extra = NULL;
    g_autofree char *dir = g_dir_make_tmp("kqtest-XXXXXX", NULL);
    g_auto(GStrv) extra_argv = NULL;
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    int lfd;
    va_list ap;

    va_start(ap, fmt);
    extra = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assert_nonnull(dir);
    qt->sock_path = g_build_filename(dir, "qtest.sock", NULL);
    qt->rx = g_string_new(NULL);

    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(lfd, >=, 0);
    g_strlcpy(addr.sun_path, qt->sock_path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);

    g_ptr_array_add(argv, g_strdup(kqtest_binary()));
    g_ptr_array_add(argv, g_strdup("-qtest"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s", qt->sock_path));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    extra_argv = g_strsplit_set(extra, " ", -1);
    for (int i = 0; extra_argv[i]; i++) {
        if (*extra_argv[i]) {
            g_ptr_array_add(argv, g_strdup(extra_argv[i]));
        }
    }
    g_ptr_array_add(argv, NULL);

    qt->pid = fork();
    g_assert_cmpint(qt->pid, >=, 0);
    if (qt->pid == 0) {
        execv((char *)argv->pdata[0], (char **)argv->pdata);
        fprintf(stderr, "kqtest: cannot run %s: %s\n", (char *)argv->pdata[0], strerror(errno));
        _exit(127);
    }
    g_ptr_array_free(argv, true);

    /* Wait for Kite to connect (or die). */
    for (int waited = 0;; waited += 10) {
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        int st;
        if (poll(&p, 1, 10) == 1) {
            break;
        }
        if (waitpid(qt->pid, &st, WNOHANG) == qt->pid) {
            g_error("kite exited (status %d) before connecting to the qtest socket", st);
        }
        if (waited > REPLY_TIMEOUT_MS) {
            g_error("kite did not connect to the qtest socket");
        }
    }
    qt->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(qt->fd, >=, 0);
    close(lfd);
    return qt;
}

static void reap(KQTest *qt, int timeout_ms)
{
    for (int waited = 0; !qt->exited && waited <= timeout_ms; waited += 5) {
        int st;
        if (waitpid(qt->pid, &st, WNOHANG) == qt->pid) {
            qt->exited = true;
            qt->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            return;
        }
        g_usleep(5000);
    }
}

int kqtest_wait_exit(KQTest *qt, int timeout_ms)
{
    reap(qt, timeout_ms);
    return qt->exited ? qt->status : -1;
}

void kqtest_quit(KQTest *qt)
{
    g_autofree char *dir = g_path_get_dirname(qt->sock_path);

    if (qt->fd >= 0) {
        close(qt->fd);   /* Kite shuts down when its qtest peer goes away */
    }
    reap(qt, 10000);
    if (!qt->exited) {
        kill(qt->pid, SIGKILL);
        waitpid(qt->pid, NULL, 0);
    }
    unlink(qt->sock_path);
    rmdir(dir);
    g_free(qt->sock_path);
    g_string_free(qt->rx, true);
    g_free(qt);
}

/* Read one line, handling asynchronous IRQ notifications on the way. */
static char *read_reply(KQTest *qt)
{
    for (;;) {
        char *nl = memchr(qt->rx->str, '\n', qt->rx->len);
        if (nl) {
            char *line = g_strndup(qt->rx->str, nl - qt->rx->str);
            g_string_erase(qt->rx, 0, nl - qt->rx->str + 1);
            if (g_str_has_prefix(line, "IRQ ")) {
                int n;
                if (sscanf(line, "IRQ raise %d", &n) == 1 && n >= 0 && n < IRQ_MAX) {
                    qt->irq_level[n] = true;
                    qt->irq_raises[n]++;
                } else if (sscanf(line, "IRQ lower %d", &n) == 1 && n >= 0 && n < IRQ_MAX) {
                    qt->irq_level[n] = false;
                }
                g_free(line);
                continue;
            }
            return line;
        }
        struct pollfd p = { .fd = qt->fd, .events = POLLIN };
        char buf[65536];
        ssize_t r;
        if (poll(&p, 1, REPLY_TIMEOUT_MS) != 1) {
            g_error("no reply from kite within %d ms", REPLY_TIMEOUT_MS);
        }
        r = read(qt->fd, buf, sizeof(buf));
        if (r <= 0) {
            g_error("kite closed the qtest connection");
        }
        g_string_append_len(qt->rx, buf, r);
    }
}

static char *vcmd(KQTest *qt, const char *fmt, va_list ap)
{
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    g_autofree char *out = g_strconcat(line, "\n", NULL);
    size_t off = 0, len = strlen(out);

    while (off < len) {
        ssize_t w = write(qt->fd, out + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(w, >, 0);
        off += w;
    }
    return read_reply(qt);
}

char *kqtest_cmd_raw(KQTest *qt, const char *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    r = vcmd(qt, fmt, ap);
    va_end(ap);
    return r;
}

char *kqtest_cmd(KQTest *qt, const char *fmt, ...)
{
    va_list ap;
    char *r, *ret;

    va_start(ap, fmt);
    r = vcmd(qt, fmt, ap);
    va_end(ap);
    if (!g_str_has_prefix(r, "OK")) {
        g_error("qtest command failed: %s", r);
    }
    ret = g_strdup(r[2] == ' ' ? r + 3 : "");
    g_free(r);
    return ret;
}

static uint64_t cmd_value(KQTest *qt, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static uint64_t cmd_value(KQTest *qt, const char *fmt, ...)
{
    va_list ap;
    char *r;
    uint64_t v;

    va_start(ap, fmt);
    r = vcmd(qt, fmt, ap);
    va_end(ap);
    if (!g_str_has_prefix(r, "OK ")) {
        g_error("qtest command failed: %s", r);
    }
    v = g_ascii_strtoull(r + 3, NULL, 0);
    g_free(r);
    return v;
}

#define OUT_FN(name, type) \
    void kqtest_##name(KQTest *qt, uint16_t port, type v) \
    { g_free(kqtest_cmd(qt, #name " 0x%x 0x%x", port, (unsigned)v)); }
OUT_FN(outb, uint8_t)
OUT_FN(outw, uint16_t)
OUT_FN(outl, uint32_t)

uint8_t kqtest_inb(KQTest *qt, uint16_t port) { return cmd_value(qt, "inb 0x%x", port); }
uint16_t kqtest_inw(KQTest *qt, uint16_t port) { return cmd_value(qt, "inw 0x%x", port); }
uint32_t kqtest_inl(KQTest *qt, uint16_t port) { return cmd_value(qt, "inl 0x%x", port); }

#define WRITE_FN(name, type) \
    void kqtest_##name(KQTest *qt, uint64_t addr, type v) \
    { g_free(kqtest_cmd(qt, #name " 0x%" G_GINT64_MODIFIER "x 0x%" G_GINT64_MODIFIER "x", \
                        addr, (uint64_t)v)); }
WRITE_FN(writeb, uint8_t)
WRITE_FN(writew, uint16_t)
WRITE_FN(writel, uint32_t)
WRITE_FN(writeq, uint64_t)

uint8_t kqtest_readb(KQTest *qt, uint64_t a) { return cmd_value(qt, "readb 0x%" G_GINT64_MODIFIER "x", a); }
uint16_t kqtest_readw(KQTest *qt, uint64_t a) { return cmd_value(qt, "readw 0x%" G_GINT64_MODIFIER "x", a); }
uint32_t kqtest_readl(KQTest *qt, uint64_t a) { return cmd_value(qt, "readl 0x%" G_GINT64_MODIFIER "x", a); }
uint64_t kqtest_readq(KQTest *qt, uint64_t a) { return cmd_value(qt, "readq 0x%" G_GINT64_MODIFIER "x", a); }

#define XFER_CHUNK (64 * 1024)

void kqtest_memread(KQTest *qt, uint64_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;

    for (size_t off = 0; off < len; off += XFER_CHUNK) {
        size_t n = MIN(len - off, XFER_CHUNK);
        g_autofree char *r = kqtest_cmd(qt, "b64read 0x%" G_GINT64_MODIFIER "x %zu",
                                        addr + off, n);
        gsize dlen;
        g_autofree guchar *data = g_base64_decode(r, &dlen);
        g_assert_cmpuint(dlen, ==, n);
        memcpy(out + off, data, n);
    }
}

void kqtest_memwrite(KQTest *qt, uint64_t addr, const void *buf, size_t len)
{
    const uint8_t *in = buf;

    for (size_t off = 0; off < len; off += XFER_CHUNK) {
        size_t n = MIN(len - off, XFER_CHUNK);
        g_autofree char *enc = g_base64_encode(in + off, n);
        g_free(kqtest_cmd(qt, "b64write 0x%" G_GINT64_MODIFIER "x %zu %s", addr + off, n, enc));
    }
}

int64_t kqtest_clock_step(KQTest *qt, int64_t ns)
{
    g_autofree char *r = ns ? kqtest_cmd(qt, "clock_step %" G_GINT64_FORMAT, ns)
                            : kqtest_cmd(qt, "clock_step");
    return g_ascii_strtoll(r, NULL, 10);
}

int64_t kqtest_clock_now(KQTest *qt)
{
    g_autofree char *r = kqtest_cmd(qt, "clock_step 0");   /* a step of 0 ns: just the time */
    return g_ascii_strtoll(r, NULL, 10);
}

void kqtest_irq_intercept_in(KQTest *qt, const char *path)
{
    g_free(kqtest_cmd(qt, "irq_intercept_in %s", path));
}

void kqtest_irq_intercept_out(KQTest *qt, const char *path)
{
    g_free(kqtest_cmd(qt, "irq_intercept_out %s", path));
}

unsigned kqtest_irq_raises(KQTest *qt, int n)
{
    g_free(kqtest_cmd(qt, "endianness"));
    g_assert(n >= 0 && n < IRQ_MAX);
    return qt->irq_raises[n];
}

bool kqtest_get_irq(KQTest *qt, int n)
{
    /* Pick up notifications already sent: a harmless round trip. */
    g_free(kqtest_cmd(qt, "endianness"));
    g_assert(n >= 0 && n < IRQ_MAX);
    return qt->irq_level[n];
}
