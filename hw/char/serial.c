/*
 * 16550A UART ("isa-serial"): COM1-COM4 of the PC.
 *
 * Reference: Texas Instruments / National Semiconductor PC16550D "Universal Asynchronous
 * Receiver/Transmitter With FIFOs" data sheet (SNLS378C), section 8 "Registers": 8.1 Line
 * Control, 8.3 Programmable Baud Generator, 8.4 Line Status, 8.5 FIFO Control, 8.6 Interrupt
 * Identification (Table IV, Interrupt Control Functions), 8.7 Interrupt Enable, 8.8 Modem
 * Control, 8.9 Modem Status, 8.10 Scratchpad; 8.11 FIFO Interrupt Mode Operation (character
 * timeout); Table I, UART Reset Configuration.  The input clock is the PC's 1.8432 MHz.
 *
 * Transmission is not paced at the baud rate: a byte leaves the transmitter shift register as
 * soon as the chardev takes it.  When the chardev cannot take it, the byte stays in the shift
 * register, THR/FIFO fill up and THRE stays clear until a writable callback drains them, so a
 * guest that waits for THRE never loses output and a stalled backend never stalls Kite.
 * Reception follows the chardev's can_receive flow control.
 * Not emulated: parity/framing errors, DMA mode signalling (RXRDY/TXRDY pins), transmitting a
 * break, real modem lines (CTS, DSR and DCD read as asserted), OUT2 interrupt gating.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/char/serial.h"
#include "kite/chardev.h"
#include "kite/log.h"
#include "kite/timer.h"

/* Register offsets (Table II); DLAB = LCR bit 7 switches 0/1 to the divisor latch. */
#define UART_RBR    0       /* read */
#define UART_THR    0       /* write */
#define UART_IER    1
#define UART_IIR    2       /* read */
#define UART_FCR    2       /* write */
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define UART_MSR    6
#define UART_SCR    7

#define IER_ERBFI   0x01    /* received data available */
#define IER_ETBEI   0x02    /* transmitter holding register empty */
#define IER_ELSI    0x04    /* receiver line status */
#define IER_EDSSI   0x08    /* modem status */

#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_CTI     0x0c    /* character timeout */
#define IIR_FIFO    0xc0    /* FIFOs enabled */

#define FCR_FE      0x01
#define FCR_RFR     0x02
#define FCR_XFR     0x04
#define FCR_DMS     0x08
#define FCR_TRIGGER 0xc0

#define LCR_WLS     0x03
#define LCR_STB     0x04
#define LCR_PEN     0x08
#define LCR_SBC     0x40    /* set break */
#define LCR_DLAB    0x80

#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_PE      0x04
#define LSR_FE      0x08
#define LSR_BI      0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define LSR_RXERR   0x80    /* error in RCVR FIFO */
#define LSR_ERRORS  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS    0x01
#define MSR_DDSR    0x02
#define MSR_TERI    0x04
#define MSR_DDCD    0x08
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80
#define MSR_DELTAS  0x0f

#define UART_FIFO_SIZE  16
#define UART_CLOCK_HZ   1843200

typedef struct UartFifo {
    uint8_t data[UART_FIFO_SIZE];
    uint8_t head, count;
} UartFifo;

typedef struct SerialState {
    IsaDevice parent_obj;
    uint32_t index;
    uint32_t iobase;
    uint32_t irq_num;
    char *chardev;

    MemoryRegion io;
    IRQState *irq;
    CharFrontend fe;
    KiteTimer *timeout_timer;       /* character timeout, FIFO mode (8.11) */
    bool writable_pending;          /* waiting for the chardev to drain */
    bool rx_throttled;              /* can_receive said 0: tell the chardev when we have room */

    uint16_t divider;
    uint8_t rbr;                    /* last byte read, returned for reads of an empty RBR */
    uint8_t tsr;                    /* transmitter shift register */
    bool tsr_full;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    bool thr_ipending;              /* a THRE interrupt event not yet acknowledged */
    bool timeout_ipending;
    UartFifo rx, tx;                /* depth 1 (RBR, THR) without FIFOs */
} SerialState;

static SerialState *ISA_SERIAL(const void *obj)
{
    return OBJECT_CHECK(SerialState, obj, TYPE_ISA_SERIAL);
}

static const uint16_t isa_serial_io[MAX_ISA_SERIAL_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t isa_serial_irq[MAX_ISA_SERIAL_PORTS] = { 4, 3, 4, 3 };
static unsigned serial_index_used;      /* bitmap of realized indices */

/* ------------------------------------------------------------ FIFOs */

static bool serial_fifo_mode(SerialState *s)
{
    return s->fcr & FCR_FE;
}

static unsigned serial_depth(SerialState *s)
{
    return serial_fifo_mode(s) ? UART_FIFO_SIZE : 1;
}

static void fifo_push(UartFifo *f, uint8_t b)
{
    f->data[(f->head + f->count) % UART_FIFO_SIZE] = b;
    f->count++;
}

static uint8_t fifo_pop(UartFifo *f)
{
    uint8_t b = f->data[f->head];

    f->head = (f->head + 1) % UART_FIFO_SIZE;
    f->count--;
    return b;
}

static void fifo_reset(UartFifo *f)
{
    f->head = f->count = 0;
}

/* 8.5: RCVR trigger levels 1, 4, 8, 14 bytes. */
static unsigned serial_rx_trigger(SerialState *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };

    return levels[(s->fcr & FCR_TRIGGER) >> 6];
}

/* One character on the line: start bit, 5-8 data bits, parity, 1 or 2 stop bits (8.1). */
static int64_t serial_char_ns(SerialState *s)
{
    int bits = 1 + 5 + (s->lcr & LCR_WLS) + ((s->lcr & LCR_PEN) ? 1 : 0) +
               ((s->lcr & LCR_STB) ? 2 : 1);
    /* 8.3: baud = clock / (16 * divisor); a zero divisor is treated as 1. */
    int64_t div = s->divider ? s->divider : 1;

    return bits * div * 16 * NANOSECONDS_PER_SECOND / UART_CLOCK_HZ;
}

/* -------------------------------------------------------- interrupts */

/* Table IV: the highest-priority pending, enabled source. */
static uint8_t serial_pending_iid(SerialState *s)
{
    if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS)) {
        return IIR_RLSI;
    }
    if (s->ier & IER_ERBFI) {
        if (serial_fifo_mode(s) && s->timeout_ipending) {
            return IIR_CTI;
        }
        if (serial_fifo_mode(s) ? s->rx.count >= serial_rx_trigger(s) : s->rx.count > 0) {
            return IIR_RDI;
        }
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending) {
        return IIR_THRI;
    }
    if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS)) {
        return IIR_MSI;
    }
    return IIR_NO_INT;
}

static void serial_update_irq(SerialState *s)
{
    irq_set_level(s->irq, serial_pending_iid(s) != IIR_NO_INT);
}

/* -------------------------------------------------------- receiving */

static void serial_rearm_timeout(SerialState *s)
{
    if (serial_fifo_mode(s) && s->rx.count) {
        timer_mod_ns(s->timeout_timer,
                     clock_get_ns(KITE_CLOCK_VIRTUAL) + 4 * serial_char_ns(s));
    } else {
        timer_del(s->timeout_timer);
    }
}

/* A character arrives in the receiver shift register (from the line or the loopback). */
static void serial_receive_byte(SerialState *s, uint8_t ch)
{
    if (s->rx.count < serial_depth(s)) {
        fifo_push(&s->rx, ch);
    } else if (serial_fifo_mode(s)) {
        /* 8.4 OE, FIFO mode: the character in the shift register is lost, the FIFO kept. */
        s->lsr |= LSR_OE;
    } else {
        /* 8.4 OE: the next character destroys the unread one in RBR. */
        s->rx.data[s->rx.head] = ch;
        s->lsr |= LSR_OE;
    }
    s->lsr |= LSR_DR;
    /* 8.11: the timeout counts from the last character put into the FIFO. */
    s->timeout_ipending = false;
    serial_rearm_timeout(s);
}

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    int room;

    /* 8.8 LOOP: the serial input is disconnected from the receiver. */
    room = (s->mcr & MCR_LOOP) ? 0 : serial_depth(s) - s->rx.count;
    if (room <= 0) {
        s->rx_throttled = true;
        return 0;
    }
    return room;
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;

    for (int i = 0; i < len; i++) {
        serial_receive_byte(s, buf[i]);
    }
    serial_update_irq(s);
}

static void serial_event(void *opaque, ChrEvent event)
{
    SerialState *s = opaque;

    if (event == CHR_EVENT_BREAK && !(s->mcr & MCR_LOOP)) {
        /* 8.4 BI: a break arrives as an all-zero character flagged BI. */
        serial_receive_byte(s, 0);
        s->lsr |= LSR_BI;
        serial_update_irq(s);
    }
}

static void serial_timeout(void *opaque)
{
    SerialState *s = opaque;

    if (serial_fifo_mode(s) && s->rx.count) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

/*
 * Called when the guest made room in the receiver.  Tell the backend every time, not only
 * after can_receive said 0: a backend that buffers (the mux) may have filled the FIFO
 * without ever asking again, and would otherwise wait for a signal that never comes.
 */
static void serial_rx_room(SerialState *s)
{
    if (!(s->mcr & MCR_LOOP)) {
        s->rx_throttled = false;
        chr_fe_accept_input(&s->fe);
    }
}

/* ----------------------------------------------------- transmitting */

static void serial_xmit(SerialState *s);

static void serial_writable(void *opaque)
{
    SerialState *s = opaque;

    s->writable_pending = false;
    serial_xmit(s);
}

/* Move bytes THR/FIFO -> shift register -> chardev (or receiver, in loopback). */
static void serial_xmit(SerialState *s)
{
    for (;;) {
        if (!s->tsr_full) {
            if (!s->tx.count) {
                break;
            }
            s->tsr = fifo_pop(&s->tx);
            s->tsr_full = true;
            if (!s->tx.count) {
                /* THR (or the FIFO) just became empty: a THRE interrupt event. */
                s->lsr |= LSR_THRE;
                s->thr_ipending = true;
            }
        }
        if (s->mcr & MCR_LOOP) {
            /* 8.8 LOOP: the transmitter output goes straight to the receiver. */
            serial_receive_byte(s, s->tsr);
        } else if (chr_fe_write(&s->fe, &s->tsr, 1) != 1) {
            if (!s->writable_pending) {
                s->writable_pending = true;
                chr_fe_notify_writable(&s->fe, serial_writable, s);
            }
            break;
        }
        kite_trace("serial_xmit", "port=0x%x byte=0x%02x", s->iobase, s->tsr);
        s->tsr_full = false;
    }
    if (!s->tsr_full && !s->tx.count) {
        s->lsr |= LSR_TEMT;
    }
    serial_update_irq(s);
}

/* ------------------------------------------------------------ modem */

/* 8.9: set the input lines (MSR bits 4-7) and note the changes in bits 0-3. */
static void serial_set_lines(SerialState *s, uint8_t lines)
{
    uint8_t old = s->msr;

    if ((old ^ lines) & MSR_CTS) {
        s->msr |= MSR_DCTS;
    }
    if ((old ^ lines) & MSR_DSR) {
        s->msr |= MSR_DDSR;
    }
    if ((old & MSR_RI) && !(lines & MSR_RI)) {
        s->msr |= MSR_TERI;                     /* trailing edge of the ring indicator */
    }
    if ((old ^ lines) & MSR_DCD) {
        s->msr |= MSR_DDCD;
    }
    s->msr = (s->msr & MSR_DELTAS) | lines;
}

/* Without loopback the modem lines are asserted; with it they follow MCR (8.8). */
static void serial_update_lines(SerialState *s)
{
    uint8_t m = s->mcr;

    if (m & MCR_LOOP) {
        serial_set_lines(s, ((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
                            ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
    } else {
        serial_set_lines(s, MSR_CTS | MSR_DSR | MSR_DCD);
    }
}

/* ---------------------------------------------------------- registers */

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    /* Changing FCR0 clears both FIFOs (8.5). */
    if ((val ^ s->fcr) & FCR_FE) {
        val |= FCR_RFR | FCR_XFR;
        s->fcr = val & FCR_FE;
    }
    if (val & FCR_RFR) {
        fifo_reset(&s->rx);
        s->lsr &= ~(LSR_DR | LSR_RXERR);
        s->timeout_ipending = false;
        timer_del(s->timeout_timer);
        serial_rx_room(s);
    }
    if (val & FCR_XFR) {
        fifo_reset(&s->tx);
        s->lsr |= LSR_THRE;
        s->thr_ipending = true;
        if (!s->tsr_full) {
            s->lsr |= LSR_TEMT;
        }
    }
    /* "FCR0 must be 1 when other FCR bits are written to or they will not be programmed." */
    s->fcr = (val & FCR_FE) ? val & (FCR_FE | FCR_DMS | FCR_TRIGGER) : 0;
}

static void serial_write_thr(SerialState *s, uint8_t val)
{
    if (s->tx.count < serial_depth(s)) {
        fifo_push(&s->tx, val);
    } else if (serial_fifo_mode(s)) {
        kite_log_mask(LOG_GUEST_ERROR, "serial 0x%x: transmit FIFO overflow", s->iobase);
    } else {
        s->tx.data[s->tx.head] = val;           /* THR overwritten before it was sent */
    }
    /* Writing THR acknowledges the THRE interrupt (Table IV). */
    s->lsr &= ~(LSR_THRE | LSR_TEMT);
    s->thr_ipending = false;
    serial_xmit(s);
}

static void serial_write_ier(SerialState *s, uint8_t val)
{
    uint8_t changed = (val ^ s->ier) & IER_ETBEI;

    s->ier = val & 0x0f;
    /*
     * Turning ETBEI on while THR is empty raises the THRE interrupt even if an earlier one
     * was acknowledged by reading IIR.  The data sheet is silent; 16550-compatible parts do
     * it, Windows depends on it (QEMU, Bochs), and Linux's THRE test probes for it.
     */
    if (changed) {
        s->thr_ipending = (s->ier & IER_ETBEI) && (s->lsr & LSR_THRE);
    }
}

static uint64_t serial_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v;

    switch (addr) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB) {
            return s->divider & 0xff;
        }
        if (s->rx.count) {
            s->rbr = fifo_pop(&s->rx);
        }
        if (!s->rx.count) {
            s->lsr &= ~(LSR_DR | LSR_RXERR);
        }
        /* 8.11: reading a character resets the timeout and clears its interrupt. */
        s->timeout_ipending = false;
        serial_rearm_timeout(s);
        serial_rx_room(s);
        serial_update_irq(s);
        return s->rbr;
    case UART_IER:
        return (s->lcr & LCR_DLAB) ? s->divider >> 8 : s->ier;
    case UART_IIR:
        v = serial_pending_iid(s);
        /* Reading IIR acknowledges THRE when that is the interrupt it reports. */
        if (v == IIR_THRI) {
            s->thr_ipending = false;
            serial_update_irq(s);
        }
        return v | (serial_fifo_mode(s) ? IIR_FIFO : 0);
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        v = s->lsr;
        if (serial_fifo_mode(s) && (v & LSR_BI)) {
            v |= LSR_RXERR;
        }
        /* 8.4: OE, PE, FE and BI are reset when the LSR is read. */
        s->lsr &= ~(LSR_ERRORS | LSR_RXERR);
        serial_update_irq(s);
        return v;
    case UART_MSR:
        v = s->msr;
        s->msr &= ~MSR_DELTAS;                  /* 8.9: deltas reset when read */
        serial_update_irq(s);
        return v;
    case UART_SCR:
        return s->scr;
    }
    return 0xff;
}

static void serial_ioport_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    SerialState *s = opaque;
    uint8_t old;

    kite_trace("serial_write", "port=0x%x reg=%u val=0x%02x", s->iobase, (unsigned)addr,
               (unsigned)val);
    switch (addr) {
    case UART_THR:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
            return;
        }
        serial_write_thr(s, val);
        return;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (val << 8);
            return;
        }
        serial_write_ier(s, val);
        break;
    case UART_FCR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        old = s->lcr;
        s->lcr = val;
        if ((val ^ old) & LCR_SBC) {
            kite_log_mask(LOG_UNIMP, "serial 0x%x: transmitting a break", s->iobase);
        }
        return;
    case UART_MCR:
        old = s->mcr;
        s->mcr = val & 0x1f;
        serial_update_lines(s);
        if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP)) {
            serial_rx_room(s);                  /* the line is connected again */
            serial_xmit(s);
        }
        break;
    case UART_LSR:
    case UART_MSR:
        kite_log_mask(LOG_GUEST_ERROR, "serial 0x%x: write to read-only register %u",
                      s->iobase, (unsigned)addr);
        return;
    case UART_SCR:
        s->scr = val;
        return;
    }
    serial_update_irq(s);
}

/* Word and dword accesses reach consecutive registers a byte at a time, as in QEMU. */
static const MemoryRegionOps serial_ops = {
    .read = serial_ioport_read, .write = serial_ioport_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

/* ---------------------------------------------------------- lifecycle */

static void serial_reset(DeviceState *dev)
{
    SerialState *s = ISA_SERIAL(dev);

    /* Table I; the divisor and scratch register are not reset there: 9600 baud, as QEMU. */
    s->divider = 0x0c;
    s->rbr = 0;
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->fcr = 0;
    s->scr = 0;
    s->lsr = LSR_TEMT | LSR_THRE;
    s->msr = MSR_CTS | MSR_DSR | MSR_DCD;
    s->tsr_full = false;
    s->thr_ipending = false;
    s->timeout_ipending = false;
    fifo_reset(&s->rx);
    fifo_reset(&s->tx);
    timer_del(s->timeout_timer);
    serial_rx_room(s);
    irq_lower(s->irq);
}

static void serial_realize(DeviceState *dev, Error **errp)
{
    SerialState *s = ISA_SERIAL(dev);
    IsaDevice *isa = ISA_DEVICE(dev);
    Chardev *chr = NULL;

    if (s->index == UINT32_MAX) {
        for (s->index = 0; s->index < MAX_ISA_SERIAL_PORTS; s->index++) {
            if (!(serial_index_used & (1u << s->index))) {
                break;
            }
        }
    }
    if (s->index < MAX_ISA_SERIAL_PORTS && (serial_index_used & (1u << s->index))) {
        error_setg(errp, "isa-serial: index %u is already in use", s->index);
        return;
    }
    if (s->index >= MAX_ISA_SERIAL_PORTS &&
        (s->iobase == UINT32_MAX || s->irq_num == UINT32_MAX)) {
        error_setg(errp, "isa-serial: index %u needs explicit iobase and irq (max %d ports)",
                   s->index, MAX_ISA_SERIAL_PORTS);
        return;
    }
    if (s->iobase == UINT32_MAX) {
        s->iobase = isa_serial_io[s->index];
    }
    if (s->irq_num == UINT32_MAX) {
        s->irq_num = isa_serial_irq[s->index];
    }
    if (s->iobase > 0xfff8 || s->irq_num >= ISA_NUM_IRQS) {
        error_setg(errp, "isa-serial: iobase 0x%x or irq %u out of range", s->iobase,
                   s->irq_num);
        return;
    }
    if (s->chardev) {
        chr = chardev_find(s->chardev);
        if (!chr) {
            error_setg(errp, "isa-serial: chardev '%s' not found", s->chardev);
            return;
        }
    }
    if (!chr_fe_init(&s->fe, chr, errp)) {
        return;
    }
    if (s->index < MAX_ISA_SERIAL_PORTS) {
        serial_index_used |= 1u << s->index;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &serial_ops, s, "serial", 8);
    isa_register_ioport(isa, &s->io, s->iobase);
    s->irq = isa_get_irq(isa, s->irq_num);
    s->timeout_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, serial_timeout, s);
    serial_reset(dev);
    chr_fe_set_handlers(&s->fe, serial_can_receive, serial_receive, serial_event, s);
}

static void serial_unrealize(DeviceState *dev)
{
    SerialState *s = ISA_SERIAL(dev);

    chr_fe_deinit(&s->fe, false);
    timer_free(s->timeout_timer);
    s->timeout_timer = NULL;
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
    if (s->index < MAX_ISA_SERIAL_PORTS) {
        serial_index_used &= ~(1u << s->index);
    }
    s->irq = NULL;
    s->writable_pending = false;
}

static int serial_post_load(void *opaque, int version_id)
{
    SerialState *s = opaque;

    /* FIFO indices come from the stream: keep them in bounds. */
    s->rx.head %= UART_FIFO_SIZE;
    s->tx.head %= UART_FIFO_SIZE;
    s->rx.count = MIN(s->rx.count, serial_depth(s));
    s->tx.count = MIN(s->tx.count, serial_depth(s));
    serial_update_irq(s);
    serial_xmit(s);                         /* resume output that was waiting */
    s->rx_throttled = true;
    serial_rx_room(s);
    return 0;
}

static const VMStateDescription vmstate_uart_fifo = {
    .name = "uart-fifo", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(data, UartFifo, UART_FIFO_SIZE),
        VMSTATE_UINT8(head, UartFifo),
        VMSTATE_UINT8(count, UartFifo),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_serial = {
    .name = "isa-serial", .version_id = 1, .minimum_version_id = 1,
    .post_load = serial_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(divider, SerialState),
        VMSTATE_UINT8(rbr, SerialState),
        VMSTATE_UINT8(tsr, SerialState),
        VMSTATE_BOOL(tsr_full, SerialState),
        VMSTATE_UINT8(ier, SerialState),
        VMSTATE_UINT8(lcr, SerialState),
        VMSTATE_UINT8(mcr, SerialState),
        VMSTATE_UINT8(lsr, SerialState),
        VMSTATE_UINT8(msr, SerialState),
        VMSTATE_UINT8(scr, SerialState),
        VMSTATE_UINT8(fcr, SerialState),
        VMSTATE_BOOL(thr_ipending, SerialState),
        VMSTATE_BOOL(timeout_ipending, SerialState),
        VMSTATE_STRUCT(rx, SerialState, vmstate_uart_fifo, UartFifo),
        VMSTATE_STRUCT(tx, SerialState, vmstate_uart_fifo, UartFifo),
        VMSTATE_TIMER_PTR(timeout_timer, SerialState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property serial_props[] = {
    DEFINE_PROP_UINT32("index", SerialState, index, UINT32_MAX),
    DEFINE_PROP_UINT32("iobase", SerialState, iobase, UINT32_MAX),
    DEFINE_PROP_UINT32("irq", SerialState, irq_num, UINT32_MAX),
    DEFINE_PROP_STRING("chardev", SerialState, chardev),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo serial_type = {
    .name = TYPE_ISA_SERIAL,
    .parent = TYPE_ISA_DEVICE,
    .desc = "16550A UART (COM1-COM4)",
    .instance_size = sizeof(SerialState),
    .realize = serial_realize,
    .unrealize = serial_unrealize,
    .reset = serial_reset,
    .props = serial_props,
    .vmsd = &vmstate_serial,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(serial_type)

DeviceState *isa_serial_create(IsaBus *bus, int index, Chardev *chr)
{
    DeviceState *dev = qdev_new(TYPE_ISA_SERIAL);

    object_property_set_uint(OBJECT(dev), "index", index, &error_abort);
    if (chr) {
        object_property_set_str(OBJECT(dev), "chardev", chr->id, &error_abort);
    }
    qdev_realize_and_unref(dev, &bus->parent_obj, &error_fatal);
    return dev;
}
