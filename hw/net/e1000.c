/*
 * e1000: Intel 82540EM gigabit Ethernet controller (PCI 8086:100e), the NIC every guest has
 * a driver for.
 *
 * The core (E1000State, include/hw/net/e1000.h) models the MAC: the register file (BAR0,
 * and BAR1's IOADDR/IODATA window), the Microwire EEPROM behind EECD (and EERD), the
 * internal M88E1011 PHY behind MDIC, interrupt causes with ITR throttling and the RDTR/RADV/
 * TIDV/TADV delay timers, the receive ring with the RAL/RAH/MTA/VFTA filters, and the
 * transmit ring with legacy and extended descriptors, checksum offload and TCP segmentation
 * done in software.  It reaches guest memory and the network only through E1000Ops.
 * The PCI device adds BAR0 (registers), BAR1 (I/O window), INTA# and, as QEMU's, iPXE's
 * efi-e1000.rom as expansion ROM for network boot under SeaBIOS (romfile=).
 *
 * Guest programming is never trusted: rings are checked against their length before use
 * (head or tail beyond the ring, base + length wrapping), a ring walk never takes more steps
 * than the ring has descriptors, descriptor and buffer DMA that fails (outside RAM, bus
 * mastering off) stops the operation as a master abort would, and every offset taken from a
 * descriptor is checked against the packet.
 *
 * Reference: Intel 8254x SDM ("PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual"): chapter 3 (receive and transmit), 5 (EEPROM), 13 (registers).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/net/e1000.h"
#include "hw/pci/pci.h"
#include "net/net.h"
#include "hw/loader.h"
#include "kite/log.h"
#include "e1000-regs.h"
#include <zlib.h>

#define R(off) (s->regs[(off) >> 2])

#define E1000_DEV_ID_82540EM     0x100e
#define E1000_SUBSYS_VENDOR      0x8086
#define E1000_SUBSYS_ID          0x001e      /* PRO/1000 MT Desktop */
#define E1000_PHY_ADDR           1           /* the internal PHY's MDIO address */
#define E1000_PHY_ID1_VAL        0x0141      /* M88E1011: OUI bits */
#define E1000_PHY_ID2_VAL        0x0c20      /* model 0x02, revision 0 */
#define E1000_EEPROM_SUM         0xbaba      /* words 0x00..0x3f sum to this (SDM 5.6.1) */
#define E1000_MIN_FRAME          60          /* without FCS */
#define E1000_TX_SEG_MAX         (0x10000 + 0x100)   /* one TSO segment: MSS + header */
#define E1000_SLACK              64          /* VLAN tag insertion and short-frame padding */

/* ---------------------------------------------------------------------------------------
 * Register attributes
 * --------------------------------------------------------------------------------------- */

enum {
    RF_RW = 1,        /* plain storage */
    RF_RC = 2,        /* statistics: clear on read */
    RF_SPECIAL = 4,   /* handled in reg_read/reg_write */
    RF_RO = 8,        /* reads only */
};

static uint8_t reg_flags[E1000_NREGS];

static void reg_range(uint32_t off, unsigned count, uint8_t flags)
{
    for (unsigned i = 0; i < count; i++) {
        reg_flags[(off >> 2) + i] = flags;
    }
}

__attribute__((constructor)) static void e1000_reg_table_init(void)
{
    static const uint32_t plain[] = {
        E1000_CTRL_EXT, E1000_FLA, E1000_FCAL, E1000_FCAH, E1000_FCT, E1000_VET,
        E1000_FCTTV, E1000_TXCW, E1000_TIPG, E1000_AIT, E1000_LEDCTL, E1000_PBA,
        E1000_FCRTL, E1000_FCRTH, E1000_RDFH, E1000_RDFT, E1000_RDFHS, E1000_RDFTS,
        E1000_RDFPC, E1000_RDBAH, E1000_RXDCTL, E1000_RSRPD, E1000_TXDMAC, E1000_TDFH,
        E1000_TDFT, E1000_TDFHS, E1000_TDFTS, E1000_TDFPC, E1000_TDBAH, E1000_TXDCTL,
        E1000_TSPMT, E1000_RXCSUM, E1000_WUC, E1000_WUFC, E1000_WUS, E1000_MANC,
        E1000_IPAV, E1000_WUPL,
    };
    static const uint32_t special[] = {
        E1000_CTRL, E1000_STATUS, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICR, E1000_ITR,
        E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDLEN,
        E1000_RDH, E1000_RDT, E1000_RDTR, E1000_RADV, E1000_TDBAL, E1000_TDLEN, E1000_TDH,
        E1000_TDT, E1000_TIDV, E1000_TADV,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
        reg_range(plain[i], 1, RF_RW);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(special); i++) {
        reg_range(special[i], 1, RF_SPECIAL);
    }
    reg_range(E1000_RXCW, 1, RF_RO);
    reg_range(E1000_STATS_FIRST, (E1000_STATS_LAST - E1000_STATS_FIRST) / 4 + 1, RF_RC);
    reg_range(E1000_MTA, 128, RF_RW);
    reg_range(E1000_RA, 32, RF_RW);
    reg_range(E1000_VFTA, 128, RF_RW);
    reg_range(E1000_IP4AT, 7, RF_RW);
    reg_range(E1000_IP6AT, 4, RF_RW);
    reg_range(E1000_WUPM, 32, RF_RW);
    reg_range(E1000_FFLT, 8, RF_RW);
    reg_range(E1000_FFMT, 256, RF_RW);
    reg_range(E1000_FFVT, 256, RF_RW);
}

/* ---------------------------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------------------------- */

static inline uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }
static inline uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }
static inline void st_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void st_be32(uint8_t *p, uint32_t v) { st_be16(p, v >> 16); st_be16(p + 2, v); }

/* One's complement sum of 16-bit big-endian words (RFC 1071); odd byte padded with 0. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += be16(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* Saturating statistics counter (SDM 13.7: counters stick at their maximum). */
static void stat_inc(E1000State *s, uint32_t off, uint32_t n)
{
    uint32_t v = R(off);
    R(off) = v + n < v ? UINT32_MAX : v + n;
}

/* A 64-bit counter split over a low/high register pair. */
static void stat_add64(E1000State *s, uint32_t lo, uint64_t n)
{
    uint64_t v = ((uint64_t)R(lo + 4) << 32 | R(lo)) + n;
    R(lo) = v;
    R(lo + 4) = v >> 32;
}

/* PRC64..PRC1522 / PTC64..PTC1522 by frame size with FCS. */
static void stat_size_bin(E1000State *s, uint32_t first, size_t len)
{
    static const size_t limits[] = { 64, 127, 255, 511, 1023, 1522 };

    for (int i = 0; i < 6; i++) {
        if (len <= limits[i]) {
            stat_inc(s, first + 4 * i, 1);
            return;
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * Interrupts (SDM 13.4.17 - 13.4.21; ITR 13.4.18; moderation 3.2.7, 3.4.3)
 * --------------------------------------------------------------------------------------- */

static void update_irq(E1000State *s)
{
    int64_t now;
    uint32_t itr;

    if (!(R(E1000_ICR) & R(E1000_IMS))) {
        timer_del(s->itr_timer);
        if (s->irq_level) {
            s->irq_level = 0;
            s->ops->set_irq(s->opaque, 0);
        }
        return;
    }
    if (s->irq_level) {
        return;
    }
    /* ITR: at least ITR * 256 ns between the assertions of the line. */
    now = clock_get_ns(KITE_CLOCK_VIRTUAL);
    itr = R(E1000_ITR) & 0xffff;
    if (itr && now < s->last_irq_ns + (int64_t)itr * 256) {
        if (!timer_pending(s->itr_timer)) {
            timer_mod_ns(s->itr_timer, s->last_irq_ns + (int64_t)itr * 256);
        }
        return;
    }
    kite_trace("e1000_irq", "icr=0x%x ims=0x%x", R(E1000_ICR), R(E1000_IMS));
    s->irq_level = 1;
    s->last_irq_ns = now;
    s->ops->set_irq(s->opaque, 1);
}

static void set_ics(E1000State *s, uint32_t causes)
{
    R(E1000_ICR) |= causes & E1000_ICR_VALID;
    update_irq(s);
}

static void itr_timer_cb(void *opaque)
{
    update_irq(opaque);
}

/* Delay timers count in units of 1.024 us. */
static int64_t delay_ns(uint32_t units)
{
    return (int64_t)(units & 0xffff) * 1024;
}

static void rx_delay_fire(void *opaque)
{
    E1000State *s = opaque;

    timer_del(s->rdtr_timer);
    timer_del(s->radv_timer);
    set_ics(s, E1000_ICR_RXT0);
}

static void tx_delay_fire(void *opaque)
{
    E1000State *s = opaque;

    timer_del(s->tidv_timer);
    timer_del(s->tadv_timer);
    set_ics(s, E1000_ICR_TXDW);
}

/* ---------------------------------------------------------------------------------------
 * EEPROM (SDM 5.3 Microwire interface, 5.6 contents)
 * --------------------------------------------------------------------------------------- */

static void eeprom_build(E1000State *s)
{
    uint16_t *w = s->eeprom;
    uint16_t sum = 0;

    memset(s->eeprom, 0, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++) {
        w[i] = s->macaddr[2 * i] | s->macaddr[2 * i + 1] << 8;
    }
    w[0x04] = 0xffff;                 /* LED configuration: hardware default */
    w[0x05] = 0x2002;                 /* image version */
    w[0x08] = 0x4b49;                 /* PBA number */
    w[0x09] = 0x5445;
    w[0x0a] = 0x4000;                 /* initialization control 1: signature 01b */
    w[0x0b] = E1000_SUBSYS_ID;
    w[0x0c] = E1000_SUBSYS_VENDOR;
    w[0x0d] = E1000_DEV_ID_82540EM;
    w[0x0e] = PCI_VENDOR_ID_INTEL;
    w[0x0f] = 0x3000;                 /* initialization control 2: symmetric+asym pause */
    for (int i = 0; i < E1000_EEPROM_WORDS - 1; i++) {
        sum += w[i];
    }
    w[E1000_EEPROM_WORDS - 1] = E1000_EEPROM_SUM - sum;
}

static void eeprom_serial_reset(E1000State *s)
{
    s->ee_in = 0;
    s->ee_in_bits = 0;
    s->ee_out_pos = -2;
}

static uint32_t eecd_read(E1000State *s)
{
    uint32_t v = R(E1000_EECD) | E1000_EECD_PRES;

    /* The MAC grants the EEPROM to software as soon as it asks (no firmware competes). */
    if (v & E1000_EECD_REQ) {
        v |= E1000_EECD_GNT;
    }
    if ((v & E1000_EECD_CS) && s->ee_out_pos >= 0) {
        uint32_t pos = s->ee_out_pos;
        uint16_t word = s->eeprom[(s->ee_addr + pos / 16) % E1000_EEPROM_WORDS];
        if (word & (0x8000 >> (pos % 16))) {
            v |= E1000_EECD_DO;
        }
    }
    return v;
}

/*
 * 93C46 Microwire: with CS high, every rising SK edge clocks DI in.  A command starts with a
 * 1 (start bit), then a 2-bit opcode and 6 address bits; READ (10b) then shifts the word out
 * on DO, MSB first, one bit per rising edge after a dummy 0, continuing into the next words.
 * Write/erase commands are accepted and ignored: the EEPROM image is the device's.
 */
static void eecd_write(E1000State *s, uint32_t val)
{
    uint32_t old = R(E1000_EECD);
    uint32_t v = val & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE |
                        E1000_EECD_REQ);

    R(E1000_EECD) = v;
    if (!(v & E1000_EECD_CS) || !(old & E1000_EECD_CS)) {
        eeprom_serial_reset(s);        /* deselect, or a fresh select */
        return;
    }
    if ((old & E1000_EECD_SK) || !(v & E1000_EECD_SK)) {
        return;                        /* not a rising clock edge */
    }
    if (s->ee_out_pos >= -1) {
        if (s->ee_out_pos < E1000_EEPROM_WORDS * 16) {
            s->ee_out_pos++;
        }
        return;
    }
    if (s->ee_in_bits == 0 && !(v & E1000_EECD_DI)) {
        return;                        /* waiting for the start bit */
    }
    if (s->ee_in_bits >= 9) {
        return;                        /* a command other than READ was given */
    }
    s->ee_in = s->ee_in << 1 | !!(v & E1000_EECD_DI);
    if (++s->ee_in_bits == 9 && (s->ee_in >> 6) == 0x6) {
        s->ee_addr = s->ee_in & 0x3f;
        s->ee_out_pos = -1;
    }
}

/* EERD (SDM 13.4.4): read a word without bit-banging; completes at once. */
static void eerd_write(E1000State *s, uint32_t val)
{
    uint32_t addr = (val >> E1000_EERD_ADDR_SHIFT) & 0xff;

    if (!(val & E1000_EERD_START)) {
        R(E1000_EERD) = val & ~E1000_EERD_DONE;
        return;
    }
    R(E1000_EERD) = (addr << E1000_EERD_ADDR_SHIFT) | E1000_EERD_DONE |
                    (uint32_t)(addr < E1000_EEPROM_WORDS ? s->eeprom[addr] : 0)
                        << E1000_EERD_DATA_SHIFT;
}

/* ---------------------------------------------------------------------------------------
 * PHY (M88E1011 through MDIC, SDM 13.4.6 and 13.5)
 * --------------------------------------------------------------------------------------- */

static const uint16_t phy_reset_values[E1000_PHY_REGS] = {
    [PHY_CTRL] = 0x1140,               /* autoneg enabled, full duplex, 1000 Mb/s */
    [PHY_STATUS] = 0x7949,             /* capabilities; link and AN-complete are live */
    [PHY_ID1] = E1000_PHY_ID1_VAL,
    [PHY_ID2] = E1000_PHY_ID2_VAL,
    [PHY_AUTONEG_ADV] = 0x0de1,
    [PHY_LP_ABILITY] = 0x45e1,         /* partner: 10/100 half/full, pause, ack */
    [PHY_AUTONEG_EXP] = 0x000f,
    [PHY_NEXT_PAGE_TX] = 0x2001,
    [PHY_1000T_CTRL] = 0x0e00,
    [PHY_1000T_STATUS] = 0x3c00,       /* local/remote receiver OK, partner 1000 FD/HD */
    [PHY_EXT_STATUS] = 0x3000,
    [M88_PHY_SPEC_CTRL] = 0x0068,
    [M88_PHY_SPEC_STATUS] = 0xac00,    /* 1000 Mb/s, full duplex, resolved, link */
    [M88_EXT_PHY_SPEC_CTRL] = 0x0c60,
    [M88_LED_CTRL] = 0x4100,
};

/* Registers the driver may write (others are read-only or counters). */
static const bool phy_writable[E1000_PHY_REGS] = {
    [PHY_CTRL] = true, [PHY_AUTONEG_ADV] = true, [PHY_NEXT_PAGE_TX] = true,
    [PHY_1000T_CTRL] = true, [M88_PHY_SPEC_CTRL] = true, [M88_INT_ENABLE] = true,
    [M88_EXT_PHY_SPEC_CTRL] = true, [M88_LED_CTRL] = true, [M88_PHY_PAGE_SELECT] = true,
    [M88_PHY_GEN_CONTROL] = true,
};

static void phy_reset(E1000State *s)
{
    memcpy(s->phy, phy_reset_values, sizeof(s->phy));
}

static uint16_t phy_read(E1000State *s, unsigned reg)
{
    bool link = !s->link_down;

    switch (reg) {
    case PHY_STATUS:
        /* Autonegotiation completes at once against the emulated partner. */
        return (s->phy[PHY_STATUS] & ~(MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE)) |
               (link ? MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE : 0);
    case M88_PHY_SPEC_STATUS:
        return link ? s->phy[reg] : 0;
    case PHY_LP_ABILITY:
    case PHY_1000T_STATUS:
        return link ? s->phy[reg] : 0;
    default:
        return s->phy[reg];
    }
}

static void phy_write(E1000State *s, unsigned reg, uint16_t val)
{
    if (!phy_writable[reg]) {
        return;
    }
    if (reg == PHY_CTRL) {
        if (val & MII_CR_RESET) {
            phy_reset(s);
            return;
        }
        /* Restart is self-clearing; the result shows in PHY_STATUS. */
        val &= ~MII_CR_RESTART_AUTO_NEG;
    }
    s->phy[reg] = val;
}

static void mdic_write(E1000State *s, uint32_t val)
{
    unsigned phyaddr = (val >> E1000_MDIC_PHY_SHIFT) & 0x1f;
    unsigned reg = (val >> E1000_MDIC_REG_SHIFT) & 0x1f;
    uint32_t op = val & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);

    val &= ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
    if (phyaddr != E1000_PHY_ADDR || op == 0 ||
        op == (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) {
        val |= E1000_MDIC_ERROR;       /* nobody answers on that MDIO address */
    } else if (op == E1000_MDIC_OP_READ) {
        val = (val & ~E1000_MDIC_DATA_MASK) | phy_read(s, reg);
    } else {
        phy_write(s, reg, val & E1000_MDIC_DATA_MASK);
    }
    R(E1000_MDIC) = val | E1000_MDIC_READY;
    if (val & E1000_MDIC_INT_EN) {
        set_ics(s, E1000_ICR_MDAC);
    }
}

/* ---------------------------------------------------------------------------------------
 * Rings
 * --------------------------------------------------------------------------------------- */

/* A ring the device may walk: non-empty, head and tail inside, no address wrap. */
static bool ring_ok(E1000State *s, uint32_t bal, uint32_t bah, uint32_t len, uint32_t h,
                    uint32_t t, uint64_t *base, uint32_t *n)
{
    *base = (uint64_t)R(bah) << 32 | (R(bal) & ~0xfu);
    *n = (R(len) & 0xfff80) / 16;
    return *n && R(h) < *n && R(t) < *n && *base + (uint64_t)*n * 16 > *base;
}

static bool rx_ring(E1000State *s, uint64_t *base, uint32_t *n)
{
    return ring_ok(s, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT, base, n);
}

/* Descriptors software has handed to the hardware: RDH up to RDT - 1. */
static uint32_t rx_free(E1000State *s, uint32_t n)
{
    uint32_t h = R(E1000_RDH), t = R(E1000_RDT);

    return t >= h ? t - h : n - h + t;
}

static uint32_t rx_buf_size(E1000State *s)
{
    static const uint32_t normal[4] = { 2048, 1024, 512, 256 };
    static const uint32_t extended[4] = { 2048, 16384, 8192, 4096 };  /* 00b reserved */
    unsigned bs = (R(E1000_RCTL) >> E1000_RCTL_BSIZE_SHIFT) & 3;

    return (R(E1000_RCTL) & E1000_RCTL_BSEX) ? extended[bs] : normal[bs];
}

/* ---------------------------------------------------------------------------------------
 * Receive (SDM 3.2)
 * --------------------------------------------------------------------------------------- */

static bool rx_ready_for_frames(E1000State *s)
{
    return (R(E1000_RCTL) & E1000_RCTL_EN) && !s->link_down;
}

bool e1000_can_receive(E1000State *s)
{
    uint64_t base;
    uint32_t n;

    if (!rx_ready_for_frames(s)) {
        return true;                   /* taken and dropped, as on the wire */
    }
    return rx_ring(s, &base, &n) && rx_free(s, n) > 0;
}

static void rx_kick(E1000State *s)
{
    if (s->ops->rx_ready && rx_ready_for_frames(s) && e1000_can_receive(s)) {
        s->ops->rx_ready(s->opaque);
    }
}

/* Multicast table hash (SDM 13.4.67): 12 bits of the address picked by RCTL.MO. */
static unsigned mta_hash(E1000State *s, const uint8_t *a)
{
    static const int shift[4] = { 4, 3, 2, 0 };
    unsigned mo = (R(E1000_RCTL) >> E1000_RCTL_MO_SHIFT) & 3;

    return ((a[4] >> shift[mo]) | (a[5] << (8 - shift[mo]))) & 0xfff;
}

static bool ra_match(E1000State *s, const uint8_t *a)
{
    for (int i = 0; i < 16; i++) {
        uint32_t lo = s->regs[(E1000_RA >> 2) + 2 * i];
        uint32_t hi = s->regs[(E1000_RA >> 2) + 2 * i + 1];
        /* Only valid entries that match on the destination address (AS = 00b). */
        if (!(hi & E1000_RAH_AV) || (hi & 0x30000)) {
            continue;
        }
        if (ldl_le_p(a) == lo && lduw_le_p(a + 4) == (hi & 0xffff)) {
            return true;
        }
    }
    return false;
}

/* Destination address filtering (SDM 3.2.1). */
static bool rx_filter(E1000State *s, const uint8_t *frame)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint32_t rctl = R(E1000_RCTL);

    if (!memcmp(frame, bcast, 6) && (rctl & E1000_RCTL_BAM)) {
        return true;
    }
    if (frame[0] & 1) {
        unsigned h;
        if (rctl & E1000_RCTL_MPE) {
            return true;
        }
        h = mta_hash(s, frame);
        if (s->regs[(E1000_MTA >> 2) + (h >> 5)] & (1u << (h & 31))) {
            return true;
        }
        return ra_match(s, frame);
    }
    return (rctl & E1000_RCTL_UPE) || ra_match(s, frame);
}

/* Receive checksum offload (SDM 3.2.9): IPv4 header and TCP/UDP over IPv4 checked. */
static void rx_checksum(E1000State *s, const uint8_t *p, size_t len, uint8_t *status,
                        uint8_t *errors)
{
    uint32_t rxcsum = R(E1000_RXCSUM);
    size_t l3 = 14, ihl, totlen, l4len;
    uint64_t sum;
    uint8_t proto;

    if (!(rxcsum & (E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD))) {
        *status |= E1000_RXD_STAT_IXSM;
        return;
    }
    if (len < l3 + 20) {
        return;
    }
    if (be16(p + 12) == (R(E1000_VET) & 0xffff)) {
        l3 += 4;                       /* tag left in the frame (CTRL.VME clear) */
        if (len < l3 + 20) {
            return;
        }
    }
    if (be16(p + l3 - 2) != 0x0800 || (p[l3] >> 4) != 4) {
        return;
    }
    ihl = (p[l3] & 0xf) * 4;
    if (ihl < 20 || l3 + ihl > len) {
        return;
    }
    if (rxcsum & E1000_RXCSUM_IPOFLD) {
        *status |= E1000_RXD_STAT_IPCS;
        if (csum_fold(csum_add(0, p + l3, ihl)) != 0xffff) {
            *errors |= E1000_RXD_ERR_IPE;
        }
    }
    totlen = be16(p + l3 + 2);
    proto = p[l3 + 9];
    if (!(rxcsum & E1000_RXCSUM_TUOFLD) || totlen < ihl || l3 + totlen > len ||
        (be16(p + l3 + 6) & 0x3fff) || (proto != 6 && proto != 17)) {
        return;                        /* not checked: fragments, other protocols */
    }
    l4len = totlen - ihl;
    if ((proto == 6 && l4len < 20) || (proto == 17 && l4len < 8)) {
        return;
    }
    *status |= E1000_RXD_STAT_TCPCS;
    if (proto == 17 && be16(p + l3 + ihl + 6) == 0) {
        return;                        /* UDP without a checksum */
    }
    sum = csum_add(0, p + l3 + 12, 8) + proto + l4len;
    sum = csum_add(sum, p + l3 + ihl, l4len);
    if (csum_fold(sum) != 0xffff) {
        *errors |= E1000_RXD_ERR_TCPE;
    }
}

size_t e1000_receive(E1000State *s, const uint8_t *buf, size_t len)
{
    uint8_t *f = s->rx_buf;
    size_t size = len, limit, done;
    uint32_t n, bufsize, ndesc, h, vlan = 0, causes = 0;
    uint64_t base;
    uint8_t status = 0, errors = 0;
    bool tagged;

    if (!rx_ready_for_frames(s)) {
        return len;
    }
    if (len > E1000_RX_MAX) {
        stat_inc(s, E1000_ROC, 1);
        return len;
    }
    /* Short frames arrive padded to the Ethernet minimum, as from a wire. */
    memcpy(f, buf, len);
    if (size < E1000_MIN_FRAME) {
        memset(f + size, 0, E1000_MIN_FRAME - size);
        size = E1000_MIN_FRAME;
    }
    tagged = be16(f + 12) == (R(E1000_VET) & 0xffff);
    /* Without RCTL.LPE frames over 1518 bytes with FCS (1522 tagged) are dropped. */
    limit = (R(E1000_RCTL) & E1000_RCTL_LPE) ? E1000_RX_MAX : 1518 + (tagged ? 4 : 0);
    if (size + 4 > limit) {
        stat_inc(s, E1000_ROC, 1);
        return len;
    }
    if (!rx_filter(s, f)) {
        return len;
    }
    if (tagged && (R(E1000_RCTL) & E1000_RCTL_VFE)) {
        unsigned vid = be16(f + 14) & 0xfff;
        if (!(s->regs[(E1000_VFTA >> 2) + (vid >> 5)] & (1u << (vid & 31)))) {
            return len;
        }
    }
    if (tagged && (R(E1000_CTRL) & E1000_CTRL_VME)) {
        /* VLAN stripping (SDM 9.3): the tag goes to the descriptor's special field. */
        vlan = be16(f + 14);
        status |= E1000_RXD_STAT_VP;
        memmove(f + 12, f + 16, size - 16);
        size -= 4;
    }
    rx_checksum(s, f, size, &status, &errors);
    if (!(R(E1000_RCTL) & E1000_RCTL_SECRC)) {
        /* The FCS is stored after the data unless stripped (SDM 3.2.6). */
        stl_le_p(f + size, crc32(0, f, size));
        size += 4;
    }

    bufsize = rx_buf_size(s);
    ndesc = (size + bufsize - 1) / bufsize;
    if (!rx_ring(s, &base, &n)) {
        stat_inc(s, E1000_RNBC, 1);
        return 0;
    }
    if (ndesc >= n) {
        /* Can never fit, however many descriptors software posts: missed. */
        stat_inc(s, E1000_MPC, 1);
        set_ics(s, E1000_ICR_RXO);
        return len;
    }
    if (rx_free(s, n) < ndesc) {
        stat_inc(s, E1000_RNBC, 1);
        return 0;                      /* held until software posts buffers */
    }

    h = R(E1000_RDH);
    for (done = 0; done < size; ) {
        uint64_t daddr = base + (uint64_t)h * 16;
        uint8_t desc[16];
        uint32_t chunk = MIN(bufsize, size - done);
        bool last = done + chunk == size;

        if (s->ops->dma_read(s->opaque, daddr, desc, 16) != MEMTX_OK ||
            s->ops->dma_write(s->opaque, ldq_le_p(desc), f + done, chunk) != MEMTX_OK) {
            kite_log_mask(LOG_GUEST_ERROR, "e1000: receive DMA failed at descriptor %u\n", h);
            break;
        }
        stw_le_p(desc + 8, chunk);
        stw_le_p(desc + 10, csum_fold(csum_add(0, f + MIN(R(E1000_RXCSUM) &
                                                          E1000_RXCSUM_PCSS, size),
                                               size - MIN(R(E1000_RXCSUM) &
                                                          E1000_RXCSUM_PCSS, size))));
        desc[12] = E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP | status : 0);
        desc[13] = last ? errors : 0;
        stw_le_p(desc + 14, last ? vlan : 0);
        if (s->ops->dma_write(s->opaque, daddr + 8, desc + 8, 8) != MEMTX_OK) {
            kite_log_mask(LOG_GUEST_ERROR, "e1000: receive descriptor write-back failed\n");
            break;
        }
        done += chunk;
        h = (h + 1) % n;
    }
    R(E1000_RDH) = h;
    kite_trace("e1000_rx_frame", "len=%zu descriptors=%u rdh=%u rdt=%u", size, ndesc, h,
               R(E1000_RDT));
    if (done < size) {
        return len;                    /* master abort: the frame is lost */
    }

    stat_inc(s, E1000_GPRC, 1);
    stat_inc(s, E1000_TPR, 1);
    stat_add64(s, E1000_GORCL, size);
    stat_add64(s, E1000_TORL, size);
    stat_size_bin(s, E1000_PRC64, size);
    if (!memcmp(f, "\xff\xff\xff\xff\xff\xff", 6)) {
        stat_inc(s, E1000_BPRC, 1);
    } else if (f[0] & 1) {
        stat_inc(s, E1000_MPRC, 1);
    }

    /* Free descriptors down to the RDMTS fraction of the ring (1/2, 1/4, 1/8). */
    if (rx_free(s, n) <= n >> (((R(E1000_RCTL) >> E1000_RCTL_RDMTS_SHIFT) & 3) + 1)) {
        causes |= E1000_ICR_RXDMT0;
    }
    /* Receive delay (RDTR, restarted per frame) and absolute delay (RADV) timers. */
    if ((R(E1000_RDTR) & 0xffff) == 0) {
        causes |= E1000_ICR_RXT0;
    } else {
        int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
        timer_mod_ns(s->rdtr_timer, now + delay_ns(R(E1000_RDTR)));
        if ((R(E1000_RADV) & 0xffff) && !timer_pending(s->radv_timer)) {
            timer_mod_ns(s->radv_timer, now + delay_ns(R(E1000_RADV)));
        }
    }
    if (causes) {
        set_ics(s, causes);
    }
    return len;
}

/* ---------------------------------------------------------------------------------------
 * Transmit (SDM 3.3, TCP segmentation 3.5)
 * --------------------------------------------------------------------------------------- */

/* Insert ~sum over [css, cse] (cse 0: to the end) at cso, if the offsets fit the frame. */
static void tx_insert_csum(uint8_t *p, size_t len, unsigned css, unsigned cse, unsigned cso)
{
    size_t end = cse ? MIN((size_t)cse + 1, len) : len;
    uint16_t c;

    if (css >= end || (size_t)cso + 2 > len) {
        return;
    }
    c = ~csum_fold(csum_add(0, p + css, end - css));
    st_be16(p + cso, c);
}

/* Send one frame; buf has E1000_SLACK bytes of room after len. */
static void tx_emit(E1000State *s, uint8_t *p, size_t len, bool vle, uint16_t tci)
{
    if (vle && (R(E1000_CTRL) & E1000_CTRL_VME) && len >= 12) {
        memmove(p + 16, p + 12, len - 12);
        st_be16(p + 12, R(E1000_VET) & 0xffff);
        st_be16(p + 14, tci);
        len += 4;
    }
    if (len < E1000_MIN_FRAME && (R(E1000_TCTL) & E1000_TCTL_PSP)) {
        memset(p + len, 0, E1000_MIN_FRAME - len);
        len = E1000_MIN_FRAME;
    }
    if (len < 14) {
        kite_log_mask(LOG_GUEST_ERROR, "e1000: %zu-byte frame without a header dropped\n", len);
        return;
    }
    stat_inc(s, E1000_GPTC, 1);
    stat_inc(s, E1000_TPT, 1);
    stat_add64(s, E1000_GOTCL, len + 4);
    stat_add64(s, E1000_TOTL, len + 4);
    stat_size_bin(s, E1000_PTC64, len + 4);
    if (len >= 6 && !memcmp(p, "\xff\xff\xff\xff\xff\xff", 6)) {
        stat_inc(s, E1000_BPTC, 1);
    } else if (len >= 6 && (p[0] & 1)) {
        stat_inc(s, E1000_MPTC, 1);
    }
    kite_trace("e1000_tx_frame", "len=%zu", len);
    if (s->ops->send && !s->ops->send(s->opaque, p, len)) {
        kite_trace("e1000_tx_blocked", "backend full");
        s->tx_blocked = true;
    }
}

/* TCP segmentation (SDM 3.5): one frame per MSS of payload behind a copy of the header. */
static void tx_tso(E1000State *s, bool vle, uint16_t tci)
{
    const E1000TxContext *c = &s->tso_ctx;
    uint32_t hdr = c->hdrlen, mss = c->mss, pay, off = 0, seg = 0;
    bool ipv4 = c->tucmd & E1000_TXD_TUCMD_IP, tcp = c->tucmd & E1000_TXD_TUCMD_TCP;

    if (hdr == 0 || hdr > s->tx_len || mss == 0 || mss > 0x10000 - hdr) {
        kite_log_mask(LOG_GUEST_ERROR, "e1000: bad TSO context (hdrlen %u mss %u len %u)\n",
                      hdr, mss, s->tx_len);
        stat_inc(s, E1000_TSCTFC, 1);
        return;
    }
    pay = s->tx_len - hdr;
    /*
     * Every segment goes out even if the backend fills up on the way: the ones it queues
     * are bounded by this packet (at most 64 KiB / MSS of them), and the ring stops after it.
     */
    kite_trace("e1000_tx_tso", "hdrlen=%u mss=%u payload=%u segments=%u", hdr, mss, pay,
               pay ? (pay + mss - 1) / mss : 1);
    do {
        uint32_t chunk = MIN(mss, pay - off), flen = hdr + chunk;
        bool last = off + chunk >= pay;
        uint8_t *f = s->tx_seg;

        memcpy(f, s->tx_buf, hdr);
        memcpy(f + hdr, s->tx_buf + hdr + off, chunk);
        if (ipv4 && c->ipcss + 20u <= hdr) {
            st_be16(f + c->ipcss + 2, flen - c->ipcss);                 /* total length */
            st_be16(f + c->ipcss + 4, be16(f + c->ipcss + 4) + seg);    /* identification */
        } else if (!ipv4 && c->ipcss + 40u <= hdr) {
            st_be16(f + c->ipcss + 4, flen - c->ipcss - 40);            /* payload length */
        }
        if (tcp && c->tucss + 20u <= hdr) {
            st_be32(f + c->tucss + 4, be32(f + c->tucss + 4) + off);    /* sequence */
            if (!last) {
                f[c->tucss + 13] &= ~0x09;                              /* FIN, PSH */
            }
        } else if (!tcp && c->tucss + 8u <= hdr) {
            st_be16(f + c->tucss + 4, flen - c->tucss);                 /* UDP length */
        }
        if (s->tx_popts & E1000_TXD_POPTS_IXSM) {
            tx_insert_csum(f, flen, c->ipcss, c->ipcse, c->ipcso);
        }
        if ((s->tx_popts & E1000_TXD_POPTS_TXSM) && c->tucso + 2u <= hdr &&
            c->tucss < flen) {
            /* The driver leaves the pseudo-header sum without the length: add it. */
            uint64_t ph = (uint64_t)be16(f + c->tucso) + (flen - c->tucss);
            st_be16(f + c->tucso, csum_fold(ph));
            tx_insert_csum(f, flen, c->tucss, 0, c->tucso);
        }
        tx_emit(s, f, flen, vle, tci);
        off += chunk;
        seg++;
    } while (off < pay);
}

static void tx_packet_start(E1000State *s, uint8_t popts, bool tse)
{
    s->tx_in_packet = true;
    s->tx_len = 0;
    s->tx_overflow = false;
    s->tx_popts = popts;
    s->tx_tse = tse;
}

static void tx_append(E1000State *s, uint64_t addr, uint32_t len)
{
    if (s->tx_overflow || len == 0) {
        return;
    }
    if (len > E1000_TX_MAX - s->tx_len) {
        kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit packet over %u bytes dropped\n",
                      E1000_TX_MAX);
        s->tx_overflow = true;
        return;
    }
    if (s->ops->dma_read(s->opaque, addr, s->tx_buf + s->tx_len, len) != MEMTX_OK) {
        kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit buffer DMA failed\n");
        s->tx_overflow = true;
        return;
    }
    s->tx_len += len;
}

/* One descriptor; its format is in byte 11 (DEXT) and byte 10 bits 7:4 (DTYP). */
static void tx_descriptor(E1000State *s, const uint8_t *d)
{
    uint64_t addr = ldq_le_p(d);
    uint32_t d2 = ldl_le_p(d + 8), d3 = ldl_le_p(d + 12);
    uint8_t cmd = d2 >> 24;

    if (!(cmd & E1000_TXD_CMD_DEXT)) {
        /* Legacy (SDM 3.3.3): CSO/CSS/IC and VLE count on the EOP descriptor. */
        if (!s->tx_in_packet) {
            tx_packet_start(s, 0, false);
        }
        tx_append(s, addr, d2 & 0xffff);
        if (cmd & E1000_TXD_CMD_EOP) {
            s->tx_in_packet = false;
            if (s->tx_overflow) {
                return;
            }
            if (cmd & E1000_TXD_CMD_IC) {
                tx_insert_csum(s->tx_buf, s->tx_len, (d3 >> 8) & 0xff, 0, (d2 >> 16) & 0xff);
            }
            tx_emit(s, s->tx_buf, s->tx_len, cmd & E1000_TXD_CMD_VLE, d3 >> 16);
        }
        return;
    }
    switch ((d2 >> 20) & 0xf) {
    case E1000_TXD_DTYP_CTX: {
        /* Context (SDM 3.3.6); TSO and plain offloads keep separate contexts. */
        E1000TxContext c = {
            .ipcss = d[0], .ipcso = d[1], .ipcse = lduw_le_p(d + 2),
            .tucss = d[4], .tucso = d[5], .tucse = lduw_le_p(d + 6),
            .paylen = d2 & 0xfffff, .tucmd = cmd,
            .hdrlen = (d3 >> 8) & 0xff, .mss = d3 >> 16,
        };
        if (cmd & E1000_TXD_CMD_TSE) {
            s->tso_ctx = c;
            stat_inc(s, E1000_TSCTC, 1);
        } else {
            s->ctx = c;
        }
        break;
    }
    case E1000_TXD_DTYP_DATA:
        /* Data (SDM 3.3.7): POPTS and TSE are taken from the packet's first descriptor. */
        if (!s->tx_in_packet) {
            tx_packet_start(s, (d3 >> 8) & 0xff, cmd & E1000_TXD_CMD_TSE);
        }
        tx_append(s, addr, d2 & 0xfffff);
        if (cmd & E1000_TXD_CMD_EOP) {
            s->tx_in_packet = false;
            if (s->tx_overflow) {
                return;
            }
            if (s->tx_tse) {
                tx_tso(s, cmd & E1000_TXD_CMD_VLE, d3 >> 16);
                return;
            }
            if (s->tx_popts & E1000_TXD_POPTS_TXSM) {
                tx_insert_csum(s->tx_buf, s->tx_len, s->ctx.tucss, s->ctx.tucse,
                               s->ctx.tucso);
            }
            if (s->tx_popts & E1000_TXD_POPTS_IXSM) {
                tx_insert_csum(s->tx_buf, s->tx_len, s->ctx.ipcss, s->ctx.ipcse,
                               s->ctx.ipcso);
            }
            tx_emit(s, s->tx_buf, s->tx_len, cmd & E1000_TXD_CMD_VLE, d3 >> 16);
        }
        break;
    default:
        kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit descriptor type %u ignored\n",
                      (d2 >> 20) & 0xf);
        break;
    }
}

static void tx_process(E1000State *s)
{
    uint64_t base;
    uint32_t n, steps = 0, causes = 0;
    bool delayed = false;

    if (s->tx_busy || s->tx_blocked || !(R(E1000_TCTL) & E1000_TCTL_EN)) {
        return;
    }
    if (!ring_ok(s, E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT, &base, &n)) {
        if (R(E1000_TDH) != R(E1000_TDT)) {
            kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit ring invalid (len 0x%x h %u t %u)\n",
                          R(E1000_TDLEN), R(E1000_TDH), R(E1000_TDT));
        }
        return;
    }
    s->tx_busy = true;
    /* At most one lap: TDT < n, so the head reaches it within n steps. */
    while (R(E1000_TDH) != R(E1000_TDT) && steps++ < n && !s->tx_blocked) {
        uint64_t daddr = base + (uint64_t)R(E1000_TDH) * 16;
        uint8_t desc[16];
        uint8_t cmd;

        if (s->ops->dma_read(s->opaque, daddr, desc, 16) != MEMTX_OK) {
            kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit descriptor fetch failed\n");
            break;
        }
        tx_descriptor(s, desc);
        cmd = desc[11];
        if (cmd & E1000_TXD_CMD_RS) {
            /* Report status: DD in the status byte (SDM 3.3.3.2). */
            uint8_t sta = desc[12] | E1000_TXD_STAT_DD;
            if (s->ops->dma_write(s->opaque, daddr + 12, &sta, 1) != MEMTX_OK) {
                kite_log_mask(LOG_GUEST_ERROR, "e1000: transmit write-back failed\n");
            }
            if (cmd & E1000_TXD_CMD_IDE) {
                delayed = true;
            } else {
                causes |= E1000_ICR_TXDW;
            }
        }
        R(E1000_TDH) = (R(E1000_TDH) + 1) % n;
    }
    s->tx_busy = false;

    if (delayed) {
        if ((R(E1000_TIDV) & 0xffff) == 0) {
            causes |= E1000_ICR_TXDW;
        } else {
            int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
            timer_mod_ns(s->tidv_timer, now + delay_ns(R(E1000_TIDV)));
            if ((R(E1000_TADV) & 0xffff) && !timer_pending(s->tadv_timer)) {
                timer_mod_ns(s->tadv_timer, now + delay_ns(R(E1000_TADV)));
            }
        }
    }
    if (R(E1000_TDH) == R(E1000_TDT)) {
        causes |= E1000_ICR_TXQE;
    }
    if (causes) {
        set_ics(s, causes);
    }
}

static void tx_bh_cb(void *opaque)
{
    tx_process(opaque);
}

void e1000_tx_resume(E1000State *s)
{
    s->tx_blocked = false;
    tx_process(s);
}

/* ---------------------------------------------------------------------------------------
 * Register file
 * --------------------------------------------------------------------------------------- */

static uint32_t status_read(E1000State *s)
{
    uint32_t v = E1000_STATUS_FD | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000;

    if (!s->link_down) {
        v |= E1000_STATUS_LU;
    }
    return v;
}

static uint32_t reg_read(E1000State *s, uint32_t off)
{
    uint32_t idx = off >> 2, v;

    switch (off) {
    case E1000_STATUS:
        return status_read(s);
    case E1000_EECD:
        return eecd_read(s);
    case E1000_ICR:
        /* 82540: reading ICR clears every cause (SDM 13.4.17). */
        v = R(E1000_ICR);
        R(E1000_ICR) = 0;
        update_irq(s);
        return v;
    case E1000_ICS:
    case E1000_IMC:
        return 0;                      /* write-only */
    }
    if (reg_flags[idx] & RF_RC) {
        v = s->regs[idx];
        s->regs[idx] = 0;
        return v;
    }
    if (reg_flags[idx]) {
        return s->regs[idx];
    }
    kite_log_mask(LOG_UNIMP, "e1000: read of unknown register 0x%05x\n", off);
    return 0;
}

static void reg_write(E1000State *s, uint32_t off, uint32_t val)
{
    uint32_t idx = off >> 2, old;

    switch (off) {
    case E1000_CTRL:
        if (val & E1000_CTRL_RST) {
            e1000_core_reset(s);       /* self-clearing software reset (SDM 13.4.1) */
            return;
        }
        old = R(E1000_CTRL);
        R(E1000_CTRL) = val;
        if ((old & E1000_CTRL_PHY_RST) && !(val & E1000_CTRL_PHY_RST)) {
            phy_reset(s);              /* PHY held in reset while the bit was set */
        }
        return;
    case E1000_EECD:
        eecd_write(s, val);
        return;
    case E1000_EERD:
        eerd_write(s, val);
        return;
    case E1000_MDIC:
        mdic_write(s, val);
        return;
    case E1000_ICR:
        R(E1000_ICR) &= ~val;
        update_irq(s);
        return;
    case E1000_ICS:
        set_ics(s, val);
        return;
    case E1000_IMS:
        R(E1000_IMS) |= val & E1000_ICR_VALID;
        update_irq(s);
        return;
    case E1000_IMC:
        R(E1000_IMS) &= ~val;
        update_irq(s);
        return;
    case E1000_ITR:
        R(E1000_ITR) = val & 0xffff;
        update_irq(s);
        return;
    case E1000_RCTL:
        R(E1000_RCTL) = val;
        rx_kick(s);
        return;
    case E1000_TCTL:
        R(E1000_TCTL) = val;
        tx_process(s);
        return;
    case E1000_RDBAL:
    case E1000_TDBAL:
        s->regs[idx] = val & ~0xfu;
        return;
    case E1000_RDLEN:
    case E1000_TDLEN:
        s->regs[idx] = val & 0xfff80;
        return;
    case E1000_RDH:
    case E1000_TDH:
        s->regs[idx] = val & 0xffff;
        return;
    case E1000_RDT:
        R(E1000_RDT) = val & 0xffff;
        rx_kick(s);
        return;
    case E1000_TDT:
        R(E1000_TDT) = val & 0xffff;
        tx_process(s);
        return;
    case E1000_RDTR:
        R(E1000_RDTR) = val & 0xffff;
        if (val & E1000_RDTR_FPD) {
            /* Flush partial descriptor block: report what is pending now. */
            if (timer_pending(s->rdtr_timer) || timer_pending(s->radv_timer)) {
                rx_delay_fire(s);
            }
        }
        return;
    case E1000_RADV:
    case E1000_TIDV:
    case E1000_TADV:
        s->regs[idx] = val & 0xffff;
        return;
    case E1000_STATUS:
        return;
    }
    if (reg_flags[idx] & RF_RW) {
        s->regs[idx] = val;
        return;
    }
    if (!reg_flags[idx]) {
        kite_log_mask(LOG_UNIMP, "e1000: write of 0x%x to unknown register 0x%05x\n",
                      val, off);
    }
}

uint64_t e1000_mmio_read(E1000State *s, uint64_t addr, unsigned size)
{
    uint32_t v;

    if (addr >= E1000_MMIO_SIZE || size == 0 || size > 4 || (addr & 3) + size > 4) {
        return 0;
    }
    v = reg_read(s, addr & ~3u);
    return extract64(v, (addr & 3) * 8, size * 8);
}

void e1000_mmio_write(E1000State *s, uint64_t addr, uint64_t val, unsigned size)
{
    /* The registers take dword accesses only (SDM 13.3). */
    if (addr >= E1000_MMIO_SIZE || size != 4 || (addr & 3)) {
        kite_log_mask(LOG_GUEST_ERROR, "e1000: %u-byte write at 0x%" PRIx64 " ignored\n",
                      size, addr);
        return;
    }
    reg_write(s, addr, val);
}

/* I/O BAR (SDM 13.2.2): IOADDR selects a register offset, IODATA reads/writes it. */
uint64_t e1000_io_read(E1000State *s, uint64_t addr, unsigned size)
{
    uint32_t v;

    if (size == 0 || size > 4 || (addr & 3) + size > 4) {
        return 0;
    }
    switch (addr & ~3ull) {
    case 0:
        v = s->ioaddr;
        break;
    case 4:
        v = s->ioaddr < E1000_MMIO_SIZE ? reg_read(s, s->ioaddr) : 0;
        break;
    default:
        return 0;
    }
    return extract64(v, (addr & 3) * 8, size * 8);
}

void e1000_io_write(E1000State *s, uint64_t addr, uint64_t val, unsigned size)
{
    if (size != 4) {
        return;
    }
    if (addr == 0) {
        s->ioaddr = val & 0x1fffc;
    } else if (addr == 4 && s->ioaddr < E1000_MMIO_SIZE) {
        reg_write(s, s->ioaddr, val);
    }
}

/* ---------------------------------------------------------------------------------------
 * Link, reset, life cycle
 * --------------------------------------------------------------------------------------- */

void e1000_set_link(E1000State *s, bool up)
{
    if (s->link_down == !up) {
        return;
    }
    s->link_down = !up;
    set_ics(s, E1000_ICR_LSC);
    if (up) {
        rx_kick(s);
    }
}

void e1000_core_reset(E1000State *s)
{
    kite_bh_cancel(s->tx_bh);
    timer_del(s->itr_timer);
    timer_del(s->rdtr_timer);
    timer_del(s->radv_timer);
    timer_del(s->tidv_timer);
    timer_del(s->tadv_timer);
    memset(s->regs, 0, sizeof(s->regs));
    R(E1000_CTRL) = E1000_CTRL_FD | E1000_CTRL_ASDE | E1000_CTRL_SLU | E1000_CTRL_SPD_1000;
    R(E1000_LEDCTL) = 0x07068302;
    R(E1000_PBA) = 0x00000030;       /* 48 KiB receive, 16 KiB transmit packet buffer */
    R(E1000_VET) = 0x8100;
    R(E1000_RXCSUM) = E1000_RXCSUM_IPOFLD;
    R(E1000_TIPG) = 0x00602008;
    R(E1000_MDIC) = E1000_MDIC_READY;
    eeprom_build(s);
    eeprom_serial_reset(s);
    /* The MAC loads its station address from the EEPROM into RAL0/RAH0 (SDM 5.6.1). */
    R(E1000_RA) = ldl_le_p(s->macaddr);
    R(E1000_RA + 4) = lduw_le_p(s->macaddr + 4) | E1000_RAH_AV;
    phy_reset(s);
    s->ioaddr = 0;
    memset(&s->ctx, 0, sizeof(s->ctx));
    memset(&s->tso_ctx, 0, sizeof(s->tso_ctx));
    s->tx_in_packet = false;
    s->tx_len = 0;
    s->tx_overflow = false;
    s->tx_blocked = false;
    s->last_irq_ns = INT64_MIN / 2;
    if (s->irq_level) {
        s->irq_level = 0;
        s->ops->set_irq(s->opaque, 0);
    }
}

void e1000_core_post_load(E1000State *s)
{
    /* A loaded stream may carry any value: keep the serial state in range. */
    if (s->ee_out_pos < -2 || s->ee_out_pos > E1000_EEPROM_WORDS * 16) {
        eeprom_serial_reset(s);
    }
    s->ee_addr &= E1000_EEPROM_WORDS - 1;
    if (s->tx_len > E1000_TX_MAX) {
        s->tx_len = 0;
        s->tx_in_packet = false;
    }
    s->tx_busy = false;
    s->tx_blocked = false;
    s->irq_level = 0;
    s->ops->set_irq(s->opaque, 0);
    update_irq(s);
    /* Descriptors the source had not sent yet go out once the machine runs. */
    if (R(E1000_TDH) != R(E1000_TDT)) {
        kite_bh_schedule(s->tx_bh);
    }
}

void e1000_core_init(E1000State *s, const E1000Ops *ops, void *opaque, const uint8_t mac[6])
{
    s->ops = ops;
    s->opaque = opaque;
    memcpy(s->macaddr, mac, 6);
    s->tx_buf = g_malloc(E1000_TX_MAX + E1000_SLACK);
    s->tx_seg = g_malloc(E1000_TX_SEG_MAX + E1000_SLACK);
    s->rx_buf = g_malloc(E1000_RX_MAX + E1000_SLACK);
    s->itr_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, itr_timer_cb, s);
    s->rdtr_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, rx_delay_fire, s);
    s->radv_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, rx_delay_fire, s);
    s->tidv_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, tx_delay_fire, s);
    s->tadv_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, tx_delay_fire, s);
    s->tx_bh = kite_bh_new(tx_bh_cb, s);
    s->irq_level = 0;
    e1000_core_reset(s);
}

void e1000_core_cleanup(E1000State *s)
{
    timer_free(s->itr_timer);
    timer_free(s->rdtr_timer);
    timer_free(s->radv_timer);
    timer_free(s->tidv_timer);
    timer_free(s->tadv_timer);
    s->itr_timer = s->rdtr_timer = s->radv_timer = s->tidv_timer = s->tadv_timer = NULL;
    kite_bh_delete(s->tx_bh);
    s->tx_bh = NULL;
    g_free(s->tx_buf);
    g_free(s->tx_seg);
    g_free(s->rx_buf);
    s->tx_buf = s->tx_seg = s->rx_buf = NULL;
}

/* ---------------------------------------------------------------------------------------
 * The PCI device
 * --------------------------------------------------------------------------------------- */

typedef struct E1000PCI {
    PCIDevice parent_obj;
    E1000State core;
    MemoryRegion mmio, io;
    NICConf conf;                      /* properties "mac" and "netdev" */
    NetClientState *nc;
    char *romfile;                     /* option ROM (PXE); NULL: efi-e1000.rom if present */
    MemoryRegion rom;
    bool has_rom;
} E1000PCI;

#define E1000_DEFAULT_ROM "efi-e1000.rom"      /* iPXE, Debian package ipxe-qemu */

/*
 * The expansion ROM (PCI 3.0, 6.3): with firmware boot SeaBIOS runs it, which gives the
 * machine network boot as QEMU's e1000 does.  An explicit romfile= must exist; the default
 * is used when installed; romfile= with no value means none.
 */
static bool e1000_load_rom(E1000PCI *d, Error **errp)
{
    const char *name = d->romfile ? d->romfile : E1000_DEFAULT_ROM;
    g_autofree char *path = NULL;

    if (!*name) {
        return true;
    }
    path = loader_find_firmware(name);
    if (!path) {
        if (!d->romfile) {
            return true;
        }
        error_setg(errp, "e1000: could not find option ROM '%s' (romfile= with no value "
                   "means none)", name);
        return false;
    }
    if (!pci_rom_init_from_file(PCI_DEVICE(d), &d->rom, "e1000.rom", path, errp)) {
        return false;
    }
    d->has_rom = true;
    return true;
}

static uint64_t e1000_pci_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    return e1000_mmio_read(&((E1000PCI *)opaque)->core, addr, size);
}

static void e1000_pci_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    e1000_mmio_write(&((E1000PCI *)opaque)->core, addr, val, size);
}

static uint64_t e1000_pci_io_read(void *opaque, hwaddr addr, unsigned size)
{
    return e1000_io_read(&((E1000PCI *)opaque)->core, addr, size);
}

static void e1000_pci_io_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    e1000_io_write(&((E1000PCI *)opaque)->core, addr, val, size);
}

static const MemoryRegionOps e1000_mmio_ops = {
    .read = e1000_pci_mmio_read, .write = e1000_pci_mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static const MemoryRegionOps e1000_io_ops = {
    .read = e1000_pci_io_read, .write = e1000_pci_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static MemTxResult e1000_pci_dma_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    return pci_dma_read(PCI_DEVICE(opaque), addr, buf, len);
}

static MemTxResult e1000_pci_dma_write(void *opaque, uint64_t addr, const void *buf,
                                       uint64_t len)
{
    return pci_dma_write(PCI_DEVICE(opaque), addr, buf, len);
}

static void e1000_pci_set_irq(void *opaque, int level)
{
    pci_set_irq(PCI_DEVICE(opaque), level);
}

/* The backend took a frame it had queued: transmission may go on. */
static void e1000_pci_tx_done(NetClientState *nc, ssize_t len)
{
    E1000PCI *d = nc->opaque;

    e1000_tx_resume(&d->core);
}

static bool e1000_pci_send(void *opaque, const uint8_t *buf, size_t len)
{
    E1000PCI *d = opaque;

    /* 0: queued behind a full backend; stop until e1000_pci_tx_done. */
    return net_send_packet_async(d->nc, buf, len, e1000_pci_tx_done) != 0;
}

static void e1000_pci_rx_ready(void *opaque)
{
    net_flush_queued_packets(((E1000PCI *)opaque)->nc);
}

static const E1000Ops e1000_pci_ops = {
    .dma_read = e1000_pci_dma_read,
    .dma_write = e1000_pci_dma_write,
    .set_irq = e1000_pci_set_irq,
    .send = e1000_pci_send,
    .rx_ready = e1000_pci_rx_ready,
};

static bool e1000_nc_can_receive(NetClientState *nc)
{
    return e1000_can_receive(&((E1000PCI *)nc->opaque)->core);
}

static ssize_t e1000_nc_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    return e1000_receive(&((E1000PCI *)nc->opaque)->core, buf, len);
}

static void e1000_nc_link_changed(NetClientState *nc)
{
    e1000_set_link(&((E1000PCI *)nc->opaque)->core, !nc->link_down);
}

static const NetClientInfo e1000_net_info = {
    .type = NET_CLIENT_NIC,
    .can_receive = e1000_nc_can_receive,
    .receive = e1000_nc_receive,
    .link_status_changed = e1000_nc_link_changed,
};

static void e1000_pci_realize(PCIDevice *dev, Error **errp)
{
    E1000PCI *d = (E1000PCI *)dev;

    if (!e1000_load_rom(d, errp)) {
        return;
    }
    d->nc = net_nic_new(&e1000_net_info, &d->conf, TYPE_E1000, DEVICE(d)->id, d, errp);
    if (!d->nc) {
        if (d->has_rom) {
            memory_region_destroy(&d->rom);
            d->has_rom = false;
        }
        return;
    }
    dev->config[PCI_INTERRUPT_PIN] = 1;    /* INTA# */
    e1000_core_init(&d->core, &e1000_pci_ops, d, d->conf.macaddr.a);
    d->core.link_down = d->nc->link_down;
    memory_region_init_io(&d->mmio, OBJECT(d), &e1000_mmio_ops, d, "e1000-mmio",
                          E1000_MMIO_SIZE);
    memory_region_init_io(&d->io, OBJECT(d), &e1000_io_ops, d, "e1000-io", E1000_IO_SIZE);
    pci_register_bar(dev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &d->mmio);
    pci_register_bar(dev, 1, PCI_BASE_ADDRESS_SPACE_IO, &d->io);
    if (d->has_rom) {
        pci_register_bar(dev, PCI_ROM_SLOT, 0, &d->rom);
    }
}

static void e1000_pci_exit(PCIDevice *dev)
{
    E1000PCI *d = (E1000PCI *)dev;

    net_client_free(d->nc);
    d->nc = NULL;
    e1000_core_cleanup(&d->core);
    memory_region_destroy(&d->mmio);
    memory_region_destroy(&d->io);
    if (d->has_rom) {
        memory_region_destroy(&d->rom);
        d->has_rom = false;
    }
}

static void e1000_pci_reset(PCIDevice *dev)
{
    e1000_core_reset(&((E1000PCI *)dev)->core);
}

static int e1000_pci_post_load(void *opaque, int version_id)
{
    e1000_core_post_load(&((E1000PCI *)opaque)->core);
    return 0;
}

static const VMStateDescription vmstate_e1000_ctx = {
    .name = "e1000-tx-context",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(ipcss, E1000TxContext),
        VMSTATE_UINT8(ipcso, E1000TxContext),
        VMSTATE_UINT16(ipcse, E1000TxContext),
        VMSTATE_UINT8(tucss, E1000TxContext),
        VMSTATE_UINT8(tucso, E1000TxContext),
        VMSTATE_UINT16(tucse, E1000TxContext),
        VMSTATE_UINT32(paylen, E1000TxContext),
        VMSTATE_UINT8(tucmd, E1000TxContext),
        VMSTATE_UINT8(hdrlen, E1000TxContext),
        VMSTATE_UINT16(mss, E1000TxContext),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_e1000 = {
    .name = "e1000",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = e1000_pci_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, E1000PCI),
        VMSTATE_UINT8_ARRAY(core.macaddr, E1000PCI, 6),
        VMSTATE_UINT32_ARRAY(core.regs, E1000PCI, E1000_NREGS),
        VMSTATE_UINT16_ARRAY(core.eeprom, E1000PCI, E1000_EEPROM_WORDS),
        VMSTATE_UINT16_ARRAY(core.phy, E1000PCI, E1000_PHY_REGS),
        VMSTATE_UINT32(core.ioaddr, E1000PCI),
        VMSTATE_BOOL(core.link_down, E1000PCI),
        VMSTATE_UINT16(core.ee_in, E1000PCI),
        VMSTATE_UINT8(core.ee_in_bits, E1000PCI),
        VMSTATE_INT32(core.ee_out_pos, E1000PCI),
        VMSTATE_UINT8(core.ee_addr, E1000PCI),
        VMSTATE_STRUCT(core.ctx, E1000PCI, vmstate_e1000_ctx, E1000TxContext),
        VMSTATE_STRUCT(core.tso_ctx, E1000PCI, vmstate_e1000_ctx, E1000TxContext),
        VMSTATE_INT64(core.last_irq_ns, E1000PCI),
        VMSTATE_TIMER_PTR(core.itr_timer, E1000PCI),
        VMSTATE_TIMER_PTR(core.rdtr_timer, E1000PCI),
        VMSTATE_TIMER_PTR(core.radv_timer, E1000PCI),
        VMSTATE_TIMER_PTR(core.tidv_timer, E1000PCI),
        VMSTATE_TIMER_PTR(core.tadv_timer, E1000PCI),
        VMSTATE_END_OF_LIST()
    },
};

static const Property e1000_props[] = {
    DEFINE_NIC_PROPERTIES(E1000PCI, conf),
    DEFINE_PROP_STRING("romfile", E1000PCI, romfile),
    DEFINE_PROP_END_OF_LIST(),
};

static void e1000_class_init(ObjectClass *oc, const void *data)
{
    PCIDeviceClass *pc = (PCIDeviceClass *)oc;

    pc->vendor_id = PCI_VENDOR_ID_INTEL;
    pc->device_id = E1000_DEV_ID_82540EM;
    /* Config space: QEMU's default subsystem (the EEPROM keeps the card's own). */
    pc->revision = 0x03;
    pc->class_id = 0x0200;             /* network controller, Ethernet */
}

static const TypeInfo e1000_type = {
    .name = TYPE_E1000,
    .parent = TYPE_PCI_DEVICE,
    .desc = "Intel Gigabit Ethernet (82540EM)",
    .instance_size = sizeof(E1000PCI),
    .class_init = e1000_class_init,
    .realize = (void (*)(DeviceState *, Error **))e1000_pci_realize,
    .unrealize = (void (*)(DeviceState *))e1000_pci_exit,
    .reset = (void (*)(DeviceState *))e1000_pci_reset,
    .props = e1000_props,
    .vmsd = &vmstate_e1000,
    .user_creatable = true,
};
KITE_TYPE_REGISTER(e1000_type)
