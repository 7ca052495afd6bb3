/*
 * e1000: the Intel 82540EM gigabit Ethernet controller (PCI 8086:100e).
 *
 * The device core (E1000State) is independent of PCI and of the net layer: it reaches
 * guest memory, its interrupt line and the network through E1000Ops, so unit tests and
 * fuzzers drive e1000_mmio_read/write and e1000_receive over plain buffers without a VM.
 * The PCI device "e1000" (hw/net/e1000.c) wraps it.
 *
 * Reference: Intel "PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual" (8254x SDM).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_E1000_H
#define HW_NET_E1000_H

#include "kite/osdep.h"
#include "kite/memory.h"
#include "kite/timer.h"

#define TYPE_E1000 "e1000"
#define E1000_MMIO_SIZE   0x20000      /* BAR0: 128 KiB of registers */
#define E1000_IO_SIZE     0x40         /* BAR1: IOADDR at 0, IODATA at 4 */
#define E1000_NREGS       (E1000_MMIO_SIZE / 4)
#define E1000_EEPROM_WORDS 64          /* 93C46 Microwire EEPROM (EECD.SIZE clear) */
#define E1000_PHY_REGS    32
#define E1000_TX_MAX      (256 * 1024) /* largest packet (incl. a TSO one) the model gathers */
#define E1000_RX_MAX      16384        /* largest frame accepted with RCTL.LPE */

typedef struct E1000Ops {
    /* Bus-master DMA; anything but MEMTX_OK stops the current ring operation. */
    MemTxResult (*dma_read)(void *opaque, uint64_t addr, void *buf, uint64_t len);
    MemTxResult (*dma_write)(void *opaque, uint64_t addr, const void *buf, uint64_t len);
    void (*set_irq)(void *opaque, int level);
    /*
     * One frame (no FCS) to the network.  The frame is taken either way; returning false
     * says the backend is full: transmission pauses until e1000_tx_resume().
     */
    bool (*send)(void *opaque, const uint8_t *buf, size_t len);
    /* Receive descriptors became available: the network may retry queued frames. */
    void (*rx_ready)(void *opaque);
} E1000Ops;

/* Offload context from a context descriptor (SDM 3.3.6). */
typedef struct E1000TxContext {
    uint8_t ipcss, ipcso;
    uint16_t ipcse;
    uint8_t tucss, tucso;
    uint16_t tucse;
    uint32_t paylen;
    uint8_t tucmd, hdrlen;
    uint16_t mss;
} E1000TxContext;

typedef struct E1000State {
    const E1000Ops *ops;
    void *opaque;
    uint8_t macaddr[6];

    uint32_t regs[E1000_NREGS];
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ioaddr;                 /* I/O BAR's IOADDR window */
    bool link_down;                  /* the backend's link (set_link) */

    /* Microwire EEPROM serial state (SDM 5.3.1) */
    uint16_t ee_in;                  /* bits shifted in while CS high */
    uint8_t ee_in_bits;
    int32_t ee_out_pos;              /* data bit being driven on DO, -1 none */
    uint8_t ee_addr;

    /* Transmit: contexts and the packet being gathered */
    E1000TxContext ctx, tso_ctx;
    uint8_t *tx_buf;                 /* E1000_TX_MAX bytes */
    uint8_t *tx_seg;                 /* one TSO segment */
    uint8_t *rx_buf;                 /* the frame being received */
    uint32_t tx_len;
    bool tx_overflow;                /* packet grew beyond E1000_TX_MAX: dropped at EOP */
    bool tx_in_packet;
    uint8_t tx_popts, tx_dcmd;       /* from the packet's first data descriptor */
    bool tx_tse;
    uint16_t tx_vlan;
    bool tx_busy;                    /* inside e1000_tx_process (re-entry guard) */
    bool tx_blocked;                 /* backend full, waiting for e1000_tx_resume */

    /* Interrupt state and moderation (SDM 3.2.7, 3.4) */
    int irq_level;
    int64_t last_irq_ns;
    KiteTimer *itr_timer;            /* ITR: earliest next assertion */
    KiteTimer *rdtr_timer, *radv_timer;
    KiteTimer *tidv_timer, *tadv_timer;
    KiteBH *tx_bh;                   /* resumes transmission after a state load */
} E1000State;

void e1000_core_init(E1000State *s, const E1000Ops *ops, void *opaque, const uint8_t mac[6]);
void e1000_core_cleanup(E1000State *s);
/* Power-on / CTRL.RST state; the EEPROM is rebuilt from the MAC address. */
void e1000_core_reset(E1000State *s);
/* Re-evaluate the interrupt line after loading state and resume a pending transmit ring. */
void e1000_core_post_load(E1000State *s);

/* BAR0 registers: addr is the offset, any size 1..4 (sub-dword writes are ignored). */
uint64_t e1000_mmio_read(E1000State *s, uint64_t addr, unsigned size);
void e1000_mmio_write(E1000State *s, uint64_t addr, uint64_t val, unsigned size);
/* BAR1: IOADDR (0) selects a register, IODATA (4) accesses it. */
uint64_t e1000_io_read(E1000State *s, uint64_t addr, unsigned size);
void e1000_io_write(E1000State *s, uint64_t addr, uint64_t val, unsigned size);

/* Would a frame be taken now (receiver off counts as yes: it is dropped)? */
bool e1000_can_receive(E1000State *s);
/* A frame (no FCS) from the network: len if taken or dropped, 0 if no room (queue it). */
size_t e1000_receive(E1000State *s, const uint8_t *buf, size_t len);
/* Link state from the backend; a change raises LSC. */
void e1000_set_link(E1000State *s, bool up);
/* The backend has room again: continue transmitting. */
void e1000_tx_resume(E1000State *s);

#endif
