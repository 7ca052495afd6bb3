/*
 * Kite guest test runtime: COM1 console and printf.
 *
 * The UART is driven by polling: wait for LSR.THRE, write THR (PC16550D
 * datasheet, National Semiconductor, section 8.4 "Line Status Register").
 * Output from several CPUs is serialised with a spinlock so lines do not
 * interleave mid-character.
 *
 * printf understands %d %i %u %x %X %p %s %c %% with the flags '-' and '0',
 * a width, and the length modifiers l, ll, z.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define UART_THR 0      /* transmit holding register (DLAB = 0) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0      /* divisor latch (DLAB = 1) */
#define UART_DLM 1
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static volatile uint32_t console_lock;

void console_init(void)
{
    outb(COM1_BASE + UART_IER, 0x00);       /* no interrupts */
    outb(COM1_BASE + UART_LCR, 0x80);       /* DLAB = 1 */
    outb(COM1_BASE + UART_DLL, 0x01);       /* 115200 baud = 1.8432 MHz / 16 / 1 */
    outb(COM1_BASE + UART_DLM, 0x00);
    outb(COM1_BASE + UART_LCR, 0x03);       /* 8N1, DLAB = 0 */
    outb(COM1_BASE + UART_FCR, 0x07);       /* enable and clear both FIFOs */
    outb(COM1_BASE + UART_MCR, 0x03);       /* DTR, RTS */
}

static void uart_putc(char c)
{
    /* Bounded: a UART that never reports THRE must not hang the test
     * silently; the runner's timeout then reports it. */
    for (int i = 0; i < 100000; i++) {
        if (inb(COM1_BASE + UART_LSR) & LSR_THRE) {
            break;
        }
        cpu_relax();
    }
    outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void console_putc(char c)
{
    uart_putc(c);
}

/* Waits until the transmitter is empty, so that nothing is lost when the
 * machine stops right after (LSR.TEMT, PC16550D 8.4 bit 6). */
void console_flush(void)
{
    for (int i = 0; i < 100000; i++) {
        if (inb(COM1_BASE + UART_LSR) & LSR_TEMT) {
            return;
        }
        cpu_relax();
    }
}

/* The crash path may interrupt a printf that holds the lock. */
void console_break_lock(void)
{
    console_lock = 0;
}

static void lock(void)
{
    while (atomic_xchg32(&console_lock, 1)) {
        cpu_relax();
    }
}

static void unlock(void)
{
    barrier();
    console_lock = 0;
}

/* ---- formatting ---- */

typedef struct Sink {
    char *buf;          /* NULL: write to the UART */
    size_t size, len;
} Sink;

static void sink_put(Sink *s, char c)
{
    if (!s->buf) {
        uart_putc(c);
    } else if (s->len + 1 < s->size) {
        s->buf[s->len] = c;
    }
    s->len++;
}

static void put_number(Sink *s, uint64_t v, unsigned base, bool upper, bool neg,
                       int width, bool zero, bool left)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    do {
        uint32_t rem;
        v = udiv64(v, base, &rem);
        tmp[n++] = digits[rem];
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (neg && zero) {
        sink_put(s, '-');
    }
    for (; !left && len < width; width--) {
        sink_put(s, zero ? '0' : ' ');
    }
    if (neg && !zero) {
        sink_put(s, '-');
    }
    while (n) {
        sink_put(s, tmp[--n]);
    }
    for (; left && len < width; width--) {
        sink_put(s, ' ');
    }
}

static void format(Sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink_put(s, *fmt);
            continue;
        }
        fmt++;
        bool left = false, zero = false;
        for (;; fmt++) {
            if (*fmt == '-') {
                left = true;
            } else if (*fmt == '0') {
                zero = true;
            } else {
                break;
            }
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        int lng = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            lng += (*fmt == 'z') ? (sizeof(size_t) == 8 ? 2 : 1) : 1;
            fmt++;
        }
        uint64_t u;
        int64_t i;
        switch (*fmt) {
        case 'd':
        case 'i':
            i = lng >= 2 ? va_arg(ap, long long)
                : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
            put_number(s, i < 0 ? -(uint64_t)i : (uint64_t)i, 10, false, i < 0,
                       width, zero, left);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng >= 2 ? va_arg(ap, unsigned long long)
                : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            put_number(s, u, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, zero,
                       left);
            break;
        case 'p':
            sink_put(s, '0');
            sink_put(s, 'x');
            put_number(s, (uintptr_t)va_arg(ap, void *), 16, false, false,
                       width, zero, left);
            break;
        case 'c':
            sink_put(s, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str) {
                str = "(null)";
            }
            int len = (int)strlen(str);
            for (; !left && len < width; width--) {
                sink_put(s, ' ');
            }
            while (*str) {
                sink_put(s, *str++);
            }
            for (; left && len < width; width--) {
                sink_put(s, ' ');
            }
            break;
        }
        case '%':
            sink_put(s, '%');
            break;
        case '\0':
            return;
        default:
            sink_put(s, '%');
            sink_put(s, *fmt);
            break;
        }
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    Sink s = { .buf = buf, .size = size };
    format(&s, fmt, ap);
    if (size) {
        buf[s.len < size ? s.len : size - 1] = '\0';
    }
    return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void vprintf(const char *fmt, va_list ap)
{
    Sink s = { 0 };
    lock();
    format(&s, fmt, ap);
    unlock();
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}
