/*
 * stdio backend: Kite's own terminal.
 *
 * When stdin is a terminal it is put in raw mode with echo off, so the guest sees every key and
 * does its own echo.  signal=on (the default, as in QEMU) keeps ISIG, so Ctrl-C still kills
 * Kite; with signal=off Ctrl-C goes to the guest.  The original settings come back on every
 * exit we can catch: exit() (atexit), the fatal signals SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT,
 * and SIGTERM/SIGINT/SIGHUP when nobody else handles them (main's glib handlers turn those into
 * a clean shutdown, which ends in exit()).  After Ctrl-Z, SIGCONT puts raw mode back.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include <fcntl.h>
#include <signal.h>
#include <termios.h>

typedef struct StdioChardev {
    Chardev parent;
    bool allow_signal;
} StdioChardev;
#define STDIO_CHARDEV(obj) OBJECT_CHECK(StdioChardev, obj, TYPE_CHARDEV_PREFIX "stdio")

/* Written before the handlers are installed and read-only afterwards: signal-safe. */
static bool stdio_in_use;
static bool term_saved;
static struct termios term_orig, term_raw;
static int fd0_flags = -1, fd1_flags = -1;
static volatile sig_atomic_t term_active;

/* Async-signal-safe: only tcsetattr and fcntl. */
static void term_restore(void)
{
    if (!term_active) {
        return;
    }
    term_active = 0;
    if (term_saved) {
        tcsetattr(0, TCSANOW, &term_orig);
    }
    if (fd0_flags >= 0) {
        fcntl(0, F_SETFL, fd0_flags);
    }
    if (fd1_flags >= 0) {
        fcntl(1, F_SETFL, fd1_flags);
    }
}

/* SA_RESETHAND put the default action back: restore the terminal and die of the signal. */
static void term_fatal_signal(int sig)
{
    term_restore();
    raise(sig);
}

static void term_sigcont(int sig)
{
    if (term_active && term_saved) {
        tcsetattr(0, TCSANOW, &term_raw);
    }
}

static void term_install_handlers(void)
{
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    static const int polite[] = { SIGTERM, SIGINT, SIGHUP };
    struct sigaction sa = { .sa_handler = term_fatal_signal, .sa_flags = SA_RESETHAND };
    struct sigaction old;
    static bool installed;

    if (installed) {
        return;
    }
    installed = true;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(fatal); i++) {
        sigaction(fatal[i], NULL, &old);
        if (old.sa_handler == SIG_DFL) {
            sigaction(fatal[i], &sa, NULL);
        }
    }
    /* Leave handlers someone installed alone (main's glib watches end in exit()). */
    for (size_t i = 0; i < ARRAY_SIZE(polite); i++) {
        sigaction(polite[i], NULL, &old);
        if (old.sa_handler == SIG_DFL) {
            sigaction(polite[i], &sa, NULL);
        }
    }
    sa.sa_handler = term_sigcont;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCONT, &sa, NULL);
    atexit(term_restore);
}

static bool stdio_parse(Chardev *chr, KiteOpts *opts, Error **errp)
{
    StdioChardev *s = STDIO_CHARDEV(chr);

    s->allow_signal = true;
    return kite_opts_get_bool(opts, "signal", &s->allow_signal, errp);
}

static bool stdio_open(Chardev *chr, Error **errp)
{
    StdioChardev *s = STDIO_CHARDEV(chr);

    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_in_use = true;

    if (isatty(0) && tcgetattr(0, &term_orig) == 0) {
        term_raw = term_orig;
        /* Raw input: no CR/NL mapping, no XON/XOFF, no line editing, no echo. */
        term_raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        term_raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
        if (!s->allow_signal) {
            term_raw.c_lflag &= ~ISIG;
        }
        /* Output keeps OPOST so a guest's bare '\n' still returns the carriage. */
        term_raw.c_oflag |= OPOST;
        term_raw.c_cflag &= ~(CSIZE | PARENB);
        term_raw.c_cflag |= CS8;
        term_raw.c_cc[VMIN] = 1;
        term_raw.c_cc[VTIME] = 0;
        term_saved = true;
    }
    fd0_flags = fcntl(0, F_GETFL);
    fd1_flags = fcntl(1, F_GETFL);
    term_active = 1;
    term_install_handlers();
    if (term_saved) {
        tcsetattr(0, TCSANOW, &term_raw);
    }
    /* Non-blocking, so a stalled terminal or pipe reader never stalls the main loop. */
    if (fd0_flags >= 0) {
        fcntl(0, F_SETFL, fd0_flags | O_NONBLOCK);
    }
    if (fd1_flags >= 0) {
        fcntl(1, F_SETFL, fd1_flags | O_NONBLOCK);
    }

    chr->fd_keep_open = true;
    chardev_fd_attach(chr, 0, 1, false);
    chardev_set_filename(chr, "stdio");
    chr->be_open = true;
    return true;
}

static void stdio_finalize(Object *obj)
{
    Chardev *chr = CHARDEV(obj);

    if (chr->fd_out == 1) {
        chardev_fd_detach(chr);
        term_restore();
        stdio_in_use = false;
    }
}

static void stdio_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->parse = stdio_parse;
    cc->open = stdio_open;
}

static const TypeInfo stdio_type = {
    .name = TYPE_CHARDEV_PREFIX "stdio",
    .parent = TYPE_CHARDEV,
    .desc = "Kite's terminal (raw mode while Kite runs), option signal=on|off",
    .instance_size = sizeof(StdioChardev),
    .class_init = stdio_class_init,
    .instance_finalize = stdio_finalize,
};
KITE_TYPE_REGISTER(stdio_type)
