/*
 * The qtest protocol: a test process drives port I/O, MMIO, guest memory, the virtual clock
 * and IRQ lines over a character device, with no CPU running (-accel qtest).  Commands and
 * replies are QEMU's (docs/devel/qtest.rst), so its test habits carry over:
 *
 *     outb 0x3f8 0x41        -> OK
 *     inb 0x3fd              -> OK 0x60
 *     readl 0xfec00000       -> OK 0x00170011
 *     clock_step 1000000     -> OK 1000000
 *     irq_intercept_in /machine/unattached/device[3]
 *                            -> OK, then "IRQ raise 4" / "IRQ lower 4" lines as they happen
 *
 * qtest_process_line() takes one line and returns the reply text, so a fuzzer or a unit test
 * can drive the protocol without a socket.  Malformed commands get "FAIL <reason>".
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "system/qtest.h"
#include "kite/memory.h"
#include "kite/timer.h"
#include "kite/cutils.h"
#include "hw/qdev.h"
#include "kite/chardev.h"
#include "kite/runstate.h"
#include "kite/main-loop.h"

/* Largest memory transfer one command may ask for. */
#define QTEST_MAX_XFER (256 * KiB)   /* libkqtest splits larger transfers */

static QTestIrqSink *irq_sink;
static void *irq_sink_opaque;
static bool irq_intercepted;

void qtest_set_irq_sink(QTestIrqSink *sink, void *opaque)
{
    irq_sink = sink;
    irq_sink_opaque = opaque;
}

static void intercepted_irq(void *opaque, int n, int level)
{
    if (irq_sink) {
        char line[64];
        snprintf(line, sizeof(line), "IRQ %s %d", level ? "raise" : "lower", n);
        irq_sink(irq_sink_opaque, line);
    }
}

static bool parse_u64(const char *s, uint64_t *v)
{
    return s && parse_uint64(s, v);
}

static void reply_value(GString *reply, uint64_t v)
{
    g_string_append_printf(reply, "OK 0x%016" PRIx64, v);
}

static bool intercept(DeviceState *dev, bool inputs, GString *reply)
{
    for (guint i = 0; i < dev->gpios->len; i++) {
        NamedGPIOList *gl = dev->gpios->pdata[i];
        if (gl->name) {
            continue;
        }
        if (inputs) {
            for (int n = 0; n < gl->num_in; n++) {
                gl->in[n]->handler = intercepted_irq;
                gl->in[n]->opaque = NULL;
            }
        } else {
            for (int n = 0; n < gl->num_out; n++) {
                *gl->out[n] = irq_new(intercepted_irq, NULL, n);
            }
        }
    }
    irq_intercepted = true;
    g_string_append(reply, "OK");
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = g_ascii_tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void qtest_process_line(const char *line, GString *reply)
{
    g_auto(GStrv) w = g_strsplit_set(line, " \t", -1);
    int argc = 0;
    const char *cmd;
    uint64_t a = 0, b = 0, c = 0;

    /* Drop empty tokens from repeated spaces. */
    for (int i = 0; w[i]; i++) {
        if (*w[i]) {
            w[argc++] = w[i];
        } else {
            g_free(w[i]);
        }
    }
    w[argc] = NULL;
    if (argc == 0) {
        g_string_append(reply, "FAIL empty command");
        return;
    }
    cmd = w[0];

    if (!strcmp(cmd, "outb") || !strcmp(cmd, "outw") || !strcmp(cmd, "outl")) {
        unsigned size = cmd[3] == 'b' ? 1 : cmd[3] == 'w' ? 2 : 4;
        if (argc != 3 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b) || a > 0xffff) {
            goto bad_args;
        }
        address_space_store(&address_space_io, a, b, size);
        g_string_append(reply, "OK");
    } else if (!strcmp(cmd, "inb") || !strcmp(cmd, "inw") || !strcmp(cmd, "inl")) {
        unsigned size = cmd[2] == 'b' ? 1 : cmd[2] == 'w' ? 2 : 4;
        if (argc != 2 || !parse_u64(w[1], &a) || a > 0xffff) {
            goto bad_args;
        }
        address_space_load(&address_space_io, a, &b, size);
        reply_value(reply, b);
    } else if (!strcmp(cmd, "writeb") || !strcmp(cmd, "writew") || !strcmp(cmd, "writel") ||
               !strcmp(cmd, "writeq")) {
        unsigned size = cmd[5] == 'b' ? 1 : cmd[5] == 'w' ? 2 : cmd[5] == 'l' ? 4 : 8;
        if (argc != 3 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b)) {
            goto bad_args;
        }
        address_space_store(&address_space_memory, a, b, size);
        g_string_append(reply, "OK");
    } else if (!strcmp(cmd, "readb") || !strcmp(cmd, "readw") || !strcmp(cmd, "readl") ||
               !strcmp(cmd, "readq")) {
        unsigned size = cmd[4] == 'b' ? 1 : cmd[4] == 'w' ? 2 : cmd[4] == 'l' ? 4 : 8;
        if (argc != 2 || !parse_u64(w[1], &a)) {
            goto bad_args;
        }
        address_space_load(&address_space_memory, a, &b, size);
        reply_value(reply, b);
    } else if (!strcmp(cmd, "read") || !strcmp(cmd, "b64read")) {
        g_autofree uint8_t *buf = NULL;
        if (argc != 3 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b) || b > QTEST_MAX_XFER) {
            goto bad_args;
        }
        buf = g_malloc(b ? b : 1);
        address_space_read(&address_space_memory, a, buf, b);
        if (cmd[0] == 'b') {
            g_autofree char *enc = g_base64_encode(buf, b);
            g_string_append_printf(reply, "OK %s", enc);
        } else {
            g_string_append(reply, "OK 0x");
            for (uint64_t i = 0; i < b; i++) {
                g_string_append_printf(reply, "%02x", buf[i]);
            }
        }
    } else if (!strcmp(cmd, "write")) {
        g_autofree uint8_t *buf = NULL;
        const char *hex;
        size_t hexlen;
        if (argc != 4 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b) || b > QTEST_MAX_XFER ||
            !g_str_has_prefix(w[3], "0x")) {
            goto bad_args;
        }
        hex = w[3] + 2;
        hexlen = strlen(hex);
        buf = g_malloc0(b ? b : 1);
        /* Short data is padded with zeros, as QEMU does; junk digits are refused. */
        for (uint64_t i = 0; i < b; i++) {
            int hi = 2 * i < hexlen ? hexval(hex[2 * i]) : 0;
            int lo = 2 * i + 1 < hexlen ? hexval(hex[2 * i + 1]) : 0;
            if (hi < 0 || lo < 0) {
                goto bad_args;
            }
            buf[i] = hi << 4 | lo;
        }
        address_space_write(&address_space_memory, a, buf, b);
        g_string_append(reply, "OK");
    } else if (!strcmp(cmd, "b64write")) {
        g_autofree uint8_t *dec = NULL;
        gsize declen = 0;
        if (argc != 4 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b) || b > QTEST_MAX_XFER) {
            goto bad_args;
        }
        dec = g_base64_decode(w[3], &declen);
        if (declen < b) {
            dec = g_realloc(dec, b ? b : 1);
            memset(dec + declen, 0, b - declen);
        }
        address_space_write(&address_space_memory, a, dec, b);
        g_string_append(reply, "OK");
    } else if (!strcmp(cmd, "memset")) {
        g_autofree uint8_t *buf = NULL;
        if (argc != 4 || !parse_u64(w[1], &a) || !parse_u64(w[2], &b) || !parse_u64(w[3], &c) ||
            b > QTEST_MAX_XFER || c > 0xff) {
            goto bad_args;
        }
        buf = g_malloc(b ? b : 1);
        memset(buf, c, b);
        address_space_write(&address_space_memory, a, buf, b);
        g_string_append(reply, "OK");
    } else if (!strcmp(cmd, "clock_step")) {
        int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
        int64_t target;
        if (argc == 1) {
            int64_t next = timer_next_deadline_ns(KITE_CLOCK_VIRTUAL);
            target = next < 0 ? now : next;
        } else if (argc == 2 && parse_u64(w[1], &a) && a <= INT64_MAX - now) {
            target = now + (int64_t)a;
        } else {
            goto bad_args;
        }
        clock_virtual_warp(target);
        g_string_append_printf(reply, "OK %" PRId64, clock_get_ns(KITE_CLOCK_VIRTUAL));
    } else if (!strcmp(cmd, "clock_set")) {
        int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
        if (argc != 2 || !parse_u64(w[1], &a) || (int64_t)a < 0) {
            goto bad_args;
        }
        clock_virtual_warp(MAX(now, (int64_t)a));
        g_string_append_printf(reply, "OK %" PRId64, clock_get_ns(KITE_CLOCK_VIRTUAL));
    } else if (!strcmp(cmd, "irq_intercept_in") || !strcmp(cmd, "irq_intercept_out")) {
        DeviceState *dev;
        if (argc != 2) {
            goto bad_args;
        }
        dev = qdev_find(w[1]);
        if (!dev) {
            g_string_append_printf(reply, "FAIL Unknown device '%s'", w[1]);
            return;
        }
        intercept(dev, !strcmp(cmd, "irq_intercept_in"), reply);
    } else if (!strcmp(cmd, "set_irq_in")) {
        /* set_irq_in PATH NAME NUM LEVEL (NAME "unnamed-gpio-in" for the anonymous list) */
        DeviceState *dev;
        int64_t level;
        const char *name;
        if (argc != 5 || !parse_u64(w[3], &a) || !parse_int64(w[4], &level)) {
            goto bad_args;
        }
        dev = qdev_find(w[1]);
        if (!dev) {
            g_string_append_printf(reply, "FAIL Unknown device '%s'", w[1]);
            return;
        }
        name = !strcmp(w[2], "unnamed-gpio-in") ? NULL : w[2];
        for (guint i = 0; i < dev->gpios->len; i++) {
            NamedGPIOList *gl = dev->gpios->pdata[i];
            if (g_strcmp0(gl->name, name) == 0 && a < (uint64_t)gl->num_in) {
                irq_set_level(gl->in[a], level);
                g_string_append(reply, "OK");
                return;
            }
        }
        g_string_append(reply, "FAIL no such GPIO input");
    } else if (!strcmp(cmd, "endianness")) {
        g_string_append(reply, "OK little");
    } else {
        g_string_append_printf(reply, "FAIL Unknown command '%s'", cmd);
    }
    return;

bad_args:
    g_string_append_printf(reply, "FAIL bad arguments for '%s'", cmd);
}

/* ------------------------------------------------------------ server */

typedef struct QTestServer {
    CharFrontend fe;
    GString *inbuf;
    FILE *log;
} QTestServer;

static QTestServer *server;

bool qtest_enabled(void)
{
    return server != NULL;
}

static void server_send(QTestServer *s, const char *line)
{
    chr_fe_write_all(&s->fe, (const uint8_t *)line, strlen(line));
    chr_fe_write_all(&s->fe, (const uint8_t *)"\n", 1);
    if (s->log) {
        fprintf(s->log, "[R] %s\n", line);
        fflush(s->log);
    }
}

static void server_irq_line(void *opaque, const char *line)
{
    server_send(opaque, line);
}

static int server_can_receive(void *opaque)
{
    return 4096;
}

static void server_receive(void *opaque, const uint8_t *buf, int len)
{
    QTestServer *s = opaque;
    char *nl;

    g_string_append_len(s->inbuf, (const char *)buf, len);
    while ((nl = memchr(s->inbuf->str, '\n', s->inbuf->len))) {
        g_autofree char *line = g_strndup(s->inbuf->str, nl - s->inbuf->str);
        g_autoptr(GString) reply = g_string_new(NULL);
        size_t l = strlen(line);

        g_string_erase(s->inbuf, 0, nl - s->inbuf->str + 1);
        if (l && line[l - 1] == '\r') {
            line[l - 1] = '\0';
        }
        if (s->log) {
            fprintf(s->log, "[S] %s\n", line);
        }
        qtest_process_line(line, reply);
        server_send(s, reply->str);
    }
    /* A line longer than any command is garbage: drop it rather than grow without bound. */
    if (s->inbuf->len > 4 * QTEST_MAX_XFER) {
        g_string_truncate(s->inbuf, 0);
        server_send(s, "FAIL line too long");
    }
}

static void server_event(void *opaque, ChrEvent event)
{
    QTestServer *s = opaque;

    if (event == CHR_EVENT_CLOSED) {
        /* The test went away: nobody will ever drive this VM again. */
        g_string_truncate(s->inbuf, 0);
        system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    }
}

bool qtest_server_start(const char *spec, const char *logfile, Error **errp)
{
    QTestServer *s = g_new0(QTestServer, 1);
    Chardev *chr = chardev_new_from_legacy("qtest", spec, errp);

    if (!chr) {
        g_free(s);
        return false;
    }
    if (!chr_fe_init(&s->fe, chr, errp)) {
        g_free(s);
        return false;
    }
    if (logfile && !(s->log = fopen(logfile, "w"))) {
        error_setg_errno(errp, errno, "cannot open qtest log '%s'", logfile);
        chr_fe_deinit(&s->fe, true);
        g_free(s);
        return false;
    }
    s->inbuf = g_string_new(NULL);
    server = s;
    qtest_set_irq_sink(server_irq_line, s);
    chr_fe_set_handlers(&s->fe, server_can_receive, server_receive, server_event, s);
    return true;
}
