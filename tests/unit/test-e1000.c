/*
 * e1000 core (hw/net/e1000.c) over a fake bus: guest memory is a 1 MiB buffer, the
 * interrupt line and the network are recorded.  Covers the EEPROM (Microwire bit-banging
 * and EERD), the PHY behind MDIC, interrupt cause/mask semantics and moderation timers,
 * transmit (legacy, checksum offload, TCP segmentation, VLAN insertion), receive (filters,
 * buffer sizes, frames split over descriptors, no-buffer backpressure, VLAN stripping,
 * checksum status), statistics, reset, and hostile programming (rings and buffers outside
 * memory, heads beyond the ring, a seeded random register/descriptor storm).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/net/e1000.h"
#include "hw/net/e1000-regs.h"
#include "kite/main-loop.h"
#include "kite/vmstate.h"
#include "hw/pci/pci.h"
#include <glib.h>
#include <zlib.h>

#define RAM_SIZE  (1 << 20)
#define TX_RING   0x1000
#define RX_RING   0x3000
#define TX_BUFS   0x10000
#define RX_BUFS   0x40000

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

typedef struct Fixture {
    E1000State s;
    uint8_t *ram;
    int irq;
    int irq_rises;
    GPtrArray *sent;                   /* GByteArray per frame */
    bool backend_full;
    int rx_ready_calls;
} Fixture;

static MemTxResult f_dma_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    Fixture *f = opaque;
    if (addr >= RAM_SIZE || len > RAM_SIZE - addr) {
        return MEMTX_DECODE_ERROR;
    }
    memcpy(buf, f->ram + addr, len);
    return MEMTX_OK;
}

static MemTxResult f_dma_write(void *opaque, uint64_t addr, const void *buf, uint64_t len)
{
    Fixture *f = opaque;
    if (addr >= RAM_SIZE || len > RAM_SIZE - addr) {
        return MEMTX_DECODE_ERROR;
    }
    memcpy(f->ram + addr, buf, len);
    return MEMTX_OK;
}

static void f_set_irq(void *opaque, int level)
{
    Fixture *f = opaque;
    if (level && !f->irq) {
        f->irq_rises++;
    }
    f->irq = level;
}

static bool f_send(void *opaque, const uint8_t *buf, size_t len)
{
    Fixture *f = opaque;
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, buf, len);
    g_ptr_array_add(f->sent, b);
    return !f->backend_full;
}

static void f_rx_ready(void *opaque)
{
    ((Fixture *)opaque)->rx_ready_calls++;
}

static const E1000Ops fixture_ops = {
    .dma_read = f_dma_read, .dma_write = f_dma_write, .set_irq = f_set_irq,
    .send = f_send, .rx_ready = f_rx_ready,
};

static void setup(Fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    f->ram = g_malloc0(RAM_SIZE);
    f->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    clock_virtual_set_ns(1000000);
    e1000_core_init(&f->s, &fixture_ops, f, mac);
}

static void teardown(Fixture *f, gconstpointer data)
{
    e1000_core_cleanup(&f->s);
    g_ptr_array_unref(f->sent);
    g_free(f->ram);
}

static uint32_t rd(Fixture *f, uint32_t off)
{
    return e1000_mmio_read(&f->s, off, 4);
}

static void wr(Fixture *f, uint32_t off, uint32_t v)
{
    e1000_mmio_write(&f->s, off, v, 4);
}

static void warp(int64_t ns)
{
    clock_virtual_warp(clock_get_ns(KITE_CLOCK_VIRTUAL) + ns);
}

/* ---- checksum helpers for checking what the device produced ---- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

static bool ipv4_csum_ok(const uint8_t *ip)
{
    return fold(sum16(ip, (ip[0] & 0xf) * 4, 0)) == 0xffff;
}

static bool l4_csum_ok(const uint8_t *ip)
{
    unsigned ihl = (ip[0] & 0xf) * 4, tot = ip[2] << 8 | ip[3];
    uint32_t sum = sum16(ip + 12, 8, 0) + ip[9] + (tot - ihl);
    return fold(sum16(ip + ihl, tot - ihl, sum)) == 0xffff;
}

/* Ethernet + IPv4 + TCP (20-byte header) with payload bytes i & 0xff; checksums zero. */
static size_t build_tcp(uint8_t *p, const uint8_t *dst, size_t paylen, uint8_t flags)
{
    size_t tot = 20 + 20 + paylen;
    memset(p, 0, 54);
    memcpy(p, dst, 6);
    memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
    p[12] = 0x08;
    p[14] = 0x45;
    p[16] = tot >> 8;
    p[17] = tot;
    p[18] = 0x12;                      /* id 0x1234 */
    p[19] = 0x34;
    p[22] = 64;
    p[23] = 6;
    memcpy(p + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    p[34] = 0x30; p[35] = 0x39;        /* ports */
    p[36] = 0x00; p[37] = 0x50;
    p[38] = 0x11; p[39] = 0x22; p[40] = 0x33; p[41] = 0x44;   /* seq */
    p[46] = 0x50;                      /* data offset 5 */
    p[47] = flags;
    p[48] = 0xff; p[49] = 0xff;        /* window */
    for (size_t i = 0; i < paylen; i++) {
        p[54 + i] = i;
    }
    return 54 + paylen;
}

/* ---- transmit ring helpers ---- */

static void tx_setup(Fixture *f, unsigned ndesc)
{
    wr(f, E1000_TDBAL, TX_RING);
    wr(f, E1000_TDBAH, 0);
    wr(f, E1000_TDLEN, ndesc * 16);
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDT, 0);
    wr(f, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static void put_desc(Fixture *f, uint64_t ring, unsigned i, uint64_t addr, uint32_t d2,
                     uint32_t d3)
{
    uint8_t *d = f->ram + ring + 16 * i;
    memcpy(d, &addr, 8);
    memcpy(d + 8, &d2, 4);
    memcpy(d + 12, &d3, 4);
}

static void put_legacy(Fixture *f, unsigned i, uint64_t addr, uint16_t len, uint8_t cmd)
{
    put_desc(f, TX_RING, i, addr, len | (uint32_t)cmd << 24, 0);
}

static GByteArray *sent(Fixture *f, unsigned i)
{
    g_assert_cmpuint(f->sent->len, >, i);
    return g_ptr_array_index(f->sent, i);
}

/* ---- receive ring helpers ---- */

static void rx_setup(Fixture *f, unsigned ndesc, uint32_t rctl_extra)
{
    for (unsigned i = 0; i < ndesc; i++) {
        put_desc(f, RX_RING, i, RX_BUFS + i * 0x4000, 0, 0);
    }
    wr(f, E1000_RDBAL, RX_RING);
    wr(f, E1000_RDLEN, ndesc * 16);
    wr(f, E1000_RDH, 0);
    wr(f, E1000_RDT, ndesc - 1);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | rctl_extra);
}

static uint8_t rx_status(Fixture *f, unsigned i)
{
    return f->ram[RX_RING + 16 * i + 12];
}

static uint16_t rx_len(Fixture *f, unsigned i)
{
    return f->ram[RX_RING + 16 * i + 8] | f->ram[RX_RING + 16 * i + 9] << 8;
}

/* ======================================================================================= */

static void eecd_clock(Fixture *f, uint32_t *eecd, int di)
{
    *eecd = (*eecd & ~E1000_EECD_DI) | (di ? E1000_EECD_DI : 0);
    wr(f, E1000_EECD, *eecd);
    wr(f, E1000_EECD, *eecd | E1000_EECD_SK);
    wr(f, E1000_EECD, *eecd);
}

/* The driver's Microwire sequence (request/grant, CS, opcode 110b, 6 address bits). */
static uint16_t eeprom_read_bitbang(Fixture *f, unsigned addr)
{
    uint32_t eecd = E1000_EECD_REQ;
    uint16_t v = 0;

    wr(f, E1000_EECD, eecd);
    g_assert_true(rd(f, E1000_EECD) & E1000_EECD_GNT);
    g_assert_true(rd(f, E1000_EECD) & E1000_EECD_PRES);
    g_assert_false(rd(f, E1000_EECD) & E1000_EECD_SIZE);      /* 64 words */
    eecd |= E1000_EECD_CS;
    wr(f, E1000_EECD, eecd);
    eecd_clock(f, &eecd, 1);
    eecd_clock(f, &eecd, 1);
    eecd_clock(f, &eecd, 0);
    for (int b = 5; b >= 0; b--) {
        eecd_clock(f, &eecd, (addr >> b) & 1);
    }
    for (int i = 0; i < 16; i++) {
        wr(f, E1000_EECD, eecd | E1000_EECD_SK);
        v = v << 1 | !!(rd(f, E1000_EECD) & E1000_EECD_DO);
        wr(f, E1000_EECD, eecd);
    }
    wr(f, E1000_EECD, E1000_EECD_REQ);                       /* CS low: standby */
    wr(f, E1000_EECD, 0);
    return v;
}

static void test_eeprom(Fixture *f, gconstpointer data)
{
    uint16_t sum = 0;

    g_assert_cmphex(eeprom_read_bitbang(f, 0), ==, 0x5452);
    g_assert_cmphex(eeprom_read_bitbang(f, 1), ==, 0xaa00);
    g_assert_cmphex(eeprom_read_bitbang(f, 2), ==, 0xccbb);
    for (unsigned i = 0; i < 64; i++) {
        sum += eeprom_read_bitbang(f, i);
    }
    g_assert_cmphex(sum, ==, 0xbaba);
    g_assert_cmphex(eeprom_read_bitbang(f, 0x0d), ==, 0x100e);
    g_assert_cmphex(eeprom_read_bitbang(f, 0x0e), ==, 0x8086);

    /* EERD */
    wr(f, E1000_EERD, E1000_EERD_START | 0x0d << 8);
    g_assert_cmphex(rd(f, E1000_EERD), ==, 0x100e0000 | 0x0d << 8 | E1000_EERD_DONE);
    wr(f, E1000_EERD, E1000_EERD_START | 0x02 << 8);
    g_assert_cmphex(rd(f, E1000_EERD) >> 16, ==, 0xccbb);

    /* The station address is loaded into RAL0/RAH0 with Address Valid. */
    g_assert_cmphex(rd(f, E1000_RA), ==, 0xaa005452);
    g_assert_cmphex(rd(f, E1000_RA + 4), ==, 0x8000ccbb);
}

static uint32_t mdic(Fixture *f, unsigned phy, unsigned reg, bool write, uint16_t data)
{
    wr(f, E1000_MDIC, data | reg << 16 | phy << 21 |
                      (write ? E1000_MDIC_OP_WRITE : E1000_MDIC_OP_READ));
    return rd(f, E1000_MDIC);
}

static void test_phy(Fixture *f, gconstpointer data)
{
    uint32_t v;

    v = mdic(f, 1, PHY_ID1, false, 0);
    g_assert_true(v & E1000_MDIC_READY);
    g_assert_false(v & E1000_MDIC_ERROR);
    g_assert_cmphex(v & 0xffff, ==, 0x0141);
    g_assert_cmphex(mdic(f, 1, PHY_ID2, false, 0) & 0xfff0, ==, 0x0c20);
    v = mdic(f, 1, PHY_STATUS, false, 0) & 0xffff;
    g_assert_true(v & MII_SR_LINK_STATUS);
    g_assert_true(v & MII_SR_AUTONEG_COMPLETE);
    g_assert_true(mdic(f, 1, M88_PHY_SPEC_STATUS, false, 0) & M88_PSSR_LINK);
    /* Another MDIO address: nobody there. */
    g_assert_true(mdic(f, 2, PHY_ID1, false, 0) & E1000_MDIC_ERROR);
    /* Autoneg advertisement is writable, the ID is not; restart self-clears. */
    mdic(f, 1, PHY_AUTONEG_ADV, true, 0x01e1);
    g_assert_cmphex(mdic(f, 1, PHY_AUTONEG_ADV, false, 0) & 0xffff, ==, 0x01e1);
    mdic(f, 1, PHY_ID1, true, 0x1234);
    g_assert_cmphex(mdic(f, 1, PHY_ID1, false, 0) & 0xffff, ==, 0x0141);
    mdic(f, 1, PHY_CTRL, true, 0x1340);
    g_assert_cmphex(mdic(f, 1, PHY_CTRL, false, 0) & 0xffff, ==, 0x1140);
    /* PHY reset restores the defaults. */
    mdic(f, 1, PHY_CTRL, true, MII_CR_RESET);
    g_assert_cmphex(mdic(f, 1, PHY_AUTONEG_ADV, false, 0) & 0xffff, ==, 0x0de1);

    /* STATUS: link up, full duplex, 1000 Mb/s. */
    g_assert_cmphex(rd(f, E1000_STATUS) & 0xc3, ==, 0x83);
    /* Link down: STATUS, PHY and LSC follow. */
    wr(f, E1000_IMS, E1000_ICR_LSC);
    e1000_set_link(&f->s, false);
    g_assert_false(rd(f, E1000_STATUS) & E1000_STATUS_LU);
    g_assert_false(mdic(f, 1, PHY_STATUS, false, 0) & MII_SR_LINK_STATUS);
    g_assert_cmpint(f->irq, ==, 1);
    g_assert_cmphex(rd(f, E1000_ICR), ==, E1000_ICR_LSC);
    g_assert_cmpint(f->irq, ==, 0);
    e1000_set_link(&f->s, true);
    g_assert_true(rd(f, E1000_STATUS) & E1000_STATUS_LU);
    g_assert_cmphex(rd(f, E1000_ICR), ==, E1000_ICR_LSC);

    /* MDIC with the interrupt bit raises MDAC. */
    wr(f, E1000_IMS, E1000_ICR_MDAC);
    wr(f, E1000_MDIC, PHY_ID1 << 16 | 1 << 21 | E1000_MDIC_OP_READ | E1000_MDIC_INT_EN);
    g_assert_cmphex(rd(f, E1000_ICR), ==, E1000_ICR_MDAC);
}

static void test_icr(Fixture *f, gconstpointer data)
{
    wr(f, E1000_ICS, E1000_ICR_TXDW | E1000_ICR_RXT0);
    g_assert_cmpint(f->irq, ==, 0);                          /* masked */
    wr(f, E1000_IMS, E1000_ICR_RXT0);
    g_assert_cmpint(f->irq, ==, 1);
    g_assert_cmphex(rd(f, E1000_IMS), ==, E1000_ICR_RXT0);
    wr(f, E1000_IMC, E1000_ICR_RXT0);
    g_assert_cmpint(f->irq, ==, 0);
    wr(f, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    g_assert_cmpint(f->irq, ==, 1);
    /* Write 1 to clear. */
    wr(f, E1000_ICR, E1000_ICR_RXT0);
    g_assert_cmpint(f->irq, ==, 1);
    wr(f, E1000_ICS, E1000_ICR_LSC);
    /* Read clears everything and drops the line. */
    g_assert_cmphex(rd(f, E1000_ICR), ==, E1000_ICR_TXDW | E1000_ICR_LSC);
    g_assert_cmpint(f->irq, ==, 0);
    g_assert_cmphex(rd(f, E1000_ICR), ==, 0);
    /* Write-only registers read 0; a sub-dword read sees part of a register. */
    g_assert_cmphex(rd(f, E1000_ICS), ==, 0);
    g_assert_cmphex(e1000_mmio_read(&f->s, E1000_VET, 2), ==, 0x8100);
    g_assert_cmphex(e1000_mmio_read(&f->s, E1000_VET + 1, 1), ==, 0x81);
    /* The I/O window reaches the same registers. */
    e1000_io_write(&f->s, 0, E1000_IMS, 4);
    g_assert_cmphex(e1000_io_read(&f->s, 4, 4), ==, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    e1000_io_write(&f->s, 0, E1000_ICS, 4);
    e1000_io_write(&f->s, 4, E1000_ICR_RXT0, 4);
    g_assert_cmpint(f->irq, ==, 1);
}

static void test_itr(Fixture *f, gconstpointer data)
{
    wr(f, E1000_IMS, E1000_ICR_TXDW);
    wr(f, E1000_ITR, 1000);                                  /* 256 us */
    wr(f, E1000_ICS, E1000_ICR_TXDW);
    g_assert_cmpint(f->irq_rises, ==, 1);
    rd(f, E1000_ICR);
    g_assert_cmpint(f->irq, ==, 0);
    wr(f, E1000_ICS, E1000_ICR_TXDW);
    g_assert_cmpint(f->irq, ==, 0);                          /* throttled */
    warp(255000);
    g_assert_cmpint(f->irq, ==, 0);
    warp(1000);
    g_assert_cmpint(f->irq, ==, 1);
    g_assert_cmpint(f->irq_rises, ==, 2);
}

static void test_tx_legacy(Fixture *f, gconstpointer data)
{
    uint8_t frame[100];

    for (int i = 0; i < 100; i++) {
        frame[i] = i * 3;
    }
    memcpy(f->ram + TX_BUFS, frame, 60);
    memcpy(f->ram + TX_BUFS + 0x1000, frame + 60, 40);
    tx_setup(f, 8);
    wr(f, E1000_IMS, E1000_ICR_TXDW | E1000_ICR_TXQE);
    put_legacy(f, 0, TX_BUFS, 60, E1000_TXD_CMD_IFCS);
    put_legacy(f, 1, TX_BUFS + 0x1000, 40, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS |
                                           E1000_TXD_CMD_RS);
    wr(f, E1000_TDT, 2);
    g_assert_cmpuint(f->sent->len, ==, 1);
    g_assert_cmpuint(sent(f, 0)->len, ==, 100);
    g_assert_cmpmem(sent(f, 0)->data, 100, frame, 100);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 2);
    g_assert_cmphex(f->ram[TX_RING + 16 + 12] & E1000_TXD_STAT_DD, ==, E1000_TXD_STAT_DD);
    g_assert_cmphex(f->ram[TX_RING + 12] & E1000_TXD_STAT_DD, ==, 0);     /* no RS */
    g_assert_cmpint(f->irq, ==, 1);
    g_assert_cmphex(rd(f, E1000_ICR), ==, E1000_ICR_TXDW | E1000_ICR_TXQE);
    /* Statistics, clear on read. */
    g_assert_cmpuint(rd(f, E1000_GPTC), ==, 1);
    g_assert_cmpuint(rd(f, E1000_GPTC), ==, 0);
    g_assert_cmpuint(rd(f, E1000_GOTCL), ==, 104);
    g_assert_cmpuint(rd(f, E1000_PTC127), ==, 1);

    /* Legacy IC: checksum from CSS to the end stored at CSO; a short frame is padded. */
    memset(f->ram + TX_BUFS, 0, 64);
    f->ram[TX_BUFS + 20] = 0x12;
    f->ram[TX_BUFS + 21] = 0x34;
    put_desc(f, TX_RING, 2, TX_BUFS, 30 | 10u << 16 |
             (uint32_t)(E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC) << 24, 14 << 8);
    wr(f, E1000_TDT, 3);
    g_assert_cmpuint(sent(f, 1)->len, ==, 60);
    g_assert_cmphex(sent(f, 1)->data[10] << 8 | sent(f, 1)->data[11], ==, 0xffff - 0x1234);

    /* A frame too short for an Ethernet header (and no PSP) is dropped. */
    wr(f, E1000_TCTL, E1000_TCTL_EN);
    put_legacy(f, 3, TX_BUFS, 0, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(f, E1000_TDT, 4);
    g_assert_cmpuint(f->sent->len, ==, 2);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 4);
    g_assert_true(f->ram[TX_RING + 3 * 16 + 12] & E1000_TXD_STAT_DD);

    /* A full backend stops the ring after the frame it took; resume continues. */
    f->backend_full = true;
    put_legacy(f, 4, TX_BUFS, 60, E1000_TXD_CMD_EOP);
    put_legacy(f, 5, TX_BUFS, 60, E1000_TXD_CMD_EOP);
    wr(f, E1000_TDT, 6);
    g_assert_cmpuint(f->sent->len, ==, 3);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 5);
    f->backend_full = false;
    e1000_tx_resume(&f->s);
    g_assert_cmpuint(f->sent->len, ==, 4);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 6);
}

static void put_context(Fixture *f, unsigned i, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse,
                        uint8_t tucss, uint8_t tucso, uint16_t tucse, uint32_t paylen,
                        uint8_t tucmd, uint8_t hdrlen, uint16_t mss)
{
    uint64_t lo = ipcss | ipcso << 8 | (uint64_t)ipcse << 16 | (uint64_t)tucss << 32 |
                  (uint64_t)tucso << 40 | (uint64_t)tucse << 48;
    put_desc(f, TX_RING, i, lo, paylen | (uint32_t)(tucmd | E1000_TXD_CMD_DEXT) << 24,
             hdrlen << 8 | (uint32_t)mss << 16);
}

static void put_data(Fixture *f, unsigned i, uint64_t addr, uint32_t len, uint8_t dcmd,
                     uint8_t popts, uint16_t special)
{
    put_desc(f, TX_RING, i, addr, len | 1u << 20 |
             (uint32_t)(dcmd | E1000_TXD_CMD_DEXT) << 24, popts << 8 | (uint32_t)special << 16);
}

static void test_tx_csum_offload(Fixture *f, gconstpointer data)
{
    uint8_t *p = f->ram + TX_BUFS;
    size_t len = build_tcp(p, mac, 300, 0x18);
    uint32_t ph;

    /* The driver's pseudo-header sum (with length) in the TCP checksum field. */
    ph = fold(sum16(p + 26, 8, 0) + 6 + 320);
    p[50] = ph >> 8;
    p[51] = ph;
    tx_setup(f, 8);
    put_context(f, 0, 14, 24, 33, 34, 50, 0, 0, E1000_TXD_TUCMD_TCP | E1000_TXD_TUCMD_IP,
                0, 0);
    put_data(f, 1, TX_BUFS, 100, 0, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, 0);
    put_data(f, 2, TX_BUFS + 100, len - 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    wr(f, E1000_TDT, 3);
    g_assert_cmpuint(f->sent->len, ==, 1);
    g_assert_cmpuint(sent(f, 0)->len, ==, len);
    g_assert_true(ipv4_csum_ok(sent(f, 0)->data + 14));
    g_assert_true(l4_csum_ok(sent(f, 0)->data + 14));
    g_assert_true(f->ram[TX_RING + 32 + 12] & E1000_TXD_STAT_DD);

    /* VLAN insertion with CTRL.VME and the data descriptor's VLE. */
    wr(f, E1000_CTRL, rd(f, E1000_CTRL) | E1000_CTRL_VME);
    put_data(f, 3, TX_BUFS, len, E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE, 0, 0x2005);
    wr(f, E1000_TDT, 4);
    g_assert_cmpuint(sent(f, 1)->len, ==, len + 4);
    g_assert_cmphex(sent(f, 1)->data[12] << 8 | sent(f, 1)->data[13], ==, 0x8100);
    g_assert_cmphex(sent(f, 1)->data[14] << 8 | sent(f, 1)->data[15], ==, 0x2005);
    g_assert_cmpmem(sent(f, 1)->data + 16, len - 12, p + 12, len - 12);
}

static void test_tx_tso(Fixture *f, gconstpointer data)
{
    uint8_t *p = f->ram + TX_BUFS;
    size_t len = build_tcp(p, mac, 2500, 0x19);             /* FIN | PSH | ACK */
    uint32_t ph = fold(sum16(p + 26, 8, 0) + 6);           /* pseudo header, no length */

    p[50] = ph >> 8;
    p[51] = ph;
    tx_setup(f, 8);
    put_context(f, 0, 14, 24, 33, 34, 50, 0, 2500,
                E1000_TXD_TUCMD_TCP | E1000_TXD_TUCMD_IP | E1000_TXD_CMD_TSE, 54, 1000);
    put_data(f, 1, TX_BUFS, 54, E1000_TXD_CMD_TSE,
             E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, 0);
    put_data(f, 2, TX_BUFS + 54, len - 54, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP |
             E1000_TXD_CMD_RS, 0, 0);
    wr(f, E1000_TDT, 3);
    g_assert_cmpuint(f->sent->len, ==, 3);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *s = sent(f, i)->data;
        unsigned pay = i < 2 ? 1000 : 500;
        uint32_t seq = 0x11223344 + i * 1000;
        g_assert_cmpuint(sent(f, i)->len, ==, 54 + pay);
        g_assert_cmpuint(s[16] << 8 | s[17], ==, 40 + pay);
        g_assert_cmpuint(s[18] << 8 | s[19], ==, 0x1234 + i);
        g_assert_cmphex((uint32_t)s[38] << 24 | s[39] << 16 | s[40] << 8 | s[41], ==, seq);
        g_assert_cmphex(s[47], ==, i < 2 ? 0x10 : 0x19);
        g_assert_true(ipv4_csum_ok(s + 14));
        g_assert_true(l4_csum_ok(s + 14));
        g_assert_cmpmem(s + 54, pay, p + 54 + i * 1000, pay);
    }
    g_assert_cmpuint(rd(f, E1000_TSCTC), ==, 1);
    /* The template is untouched: the next TSO packet segments the same way. */
    g_assert_cmphex(p[50] << 8 | p[51], ==, ph);
}

static void test_rx(Fixture *f, gconstpointer data)
{
    uint8_t frame[200];
    uint8_t other[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcd };

    build_tcp(frame, mac, 146, 0x10);
    rx_setup(f, 8, 0);
    wr(f, E1000_IMS, E1000_ICR_RXT0);
    g_assert_true(e1000_can_receive(&f->s));
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 200);
    g_assert_cmphex(rx_status(f, 0) & 3, ==, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    g_assert_cmpuint(rx_len(f, 0), ==, 204);                /* FCS kept (no SECRC) */
    g_assert_cmpmem(f->ram + RX_BUFS, 200, frame, 200);
    g_assert_cmphex(ldl_le_p(f->ram + RX_BUFS + 200), ==, crc32(0, frame, 200));
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 1);
    g_assert_cmpint(f->irq, ==, 1);
    g_assert_cmphex(rd(f, E1000_ICR) & E1000_ICR_RXT0, ==, E1000_ICR_RXT0);
    g_assert_cmpuint(rd(f, E1000_GPRC), ==, 1);
    g_assert_cmpuint(rd(f, E1000_GORCL), ==, 204);

    /* Another unicast address: filtered out, until promiscuous. */
    memcpy(frame, other, 6);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 1);
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) | E1000_RCTL_UPE);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 2);
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) & ~E1000_RCTL_UPE);
    /* A second station address in RA[1]. */
    wr(f, E1000_RA + 8, ldl_le_p(other));
    wr(f, E1000_RA + 12, lduw_le_p(other + 4) | E1000_RAH_AV);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 3);

    /* Broadcast needs BAM; multicast needs its MTA bit (MO=0: address bits 47:36). */
    memset(frame, 0xff, 6);
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) & ~E1000_RCTL_BAM);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 3);
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) | E1000_RCTL_BAM);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 4);
    memcpy(frame, "\x01\x00\x5e\x00\x00\xfb", 6);
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 4);
    {
        unsigned h = (0x00 >> 4 | 0xfb << 4) & 0xfff;
        wr(f, E1000_MTA + 4 * (h >> 5), 1u << (h & 31));
    }
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 5);

    /* SECRC strips the FCS; a short frame arrives padded to 60. */
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) | E1000_RCTL_SECRC);
    memcpy(frame, mac, 6);
    e1000_receive(&f->s, frame, 42);
    g_assert_cmpuint(rx_len(f, 5), ==, 60);

    /* Ring full (RDH reaches RDT): held back, rx_ready once software posts buffers. */
    e1000_receive(&f->s, frame, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 7);
    g_assert_false(e1000_can_receive(&f->s));
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 0);
    f->rx_ready_calls = 0;
    wr(f, E1000_RDT, 3);
    g_assert_cmpint(f->rx_ready_calls, ==, 1);
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 0);

    /* Receiver disabled: frames are dropped, never queued. */
    wr(f, E1000_RCTL, 0);
    g_assert_true(e1000_can_receive(&f->s));
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 200);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 0);
}

static void test_rx_split(Fixture *f, gconstpointer data)
{
    uint8_t frame[1000];
    uint8_t got[1004];

    build_tcp(frame, mac, 946, 0x10);
    rx_setup(f, 16, 3u << E1000_RCTL_BSIZE_SHIFT);           /* 256-byte buffers */
    g_assert_cmpuint(e1000_receive(&f->s, frame, 1000), ==, 1000);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmphex(rx_status(f, i) & 3, ==, i == 3 ? 3 : 1);
        g_assert_cmpuint(rx_len(f, i), ==, i == 3 ? 1004 - 768 : 256);
        memcpy(got + 256 * i, f->ram + RX_BUFS + i * 0x4000, rx_len(f, i));
    }
    g_assert_cmpmem(got, 1000, frame, 1000);

    /* Long frames need LPE; BSEX picks the 16K/8K/4K sizes. */
    {
        static uint8_t big[9000];
        memcpy(big, mac, 6);
        g_assert_cmpuint(e1000_receive(&f->s, big, 9000), ==, 9000);
        g_assert_cmpuint(rd(f, E1000_RDH), ==, 4);
        g_assert_cmpuint(rd(f, E1000_ROC), ==, 1);
        wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_LPE | E1000_RCTL_BSEX |
                          1u << E1000_RCTL_BSIZE_SHIFT);     /* 16384 */
        g_assert_cmpuint(e1000_receive(&f->s, big, 9000), ==, 9000);
        g_assert_cmpuint(rd(f, E1000_RDH), ==, 5);
        g_assert_cmpuint(rx_len(f, 4), ==, 9004);
    }
}

static void test_rx_vlan_csum(Fixture *f, gconstpointer data)
{
    uint8_t frame[300], tagged[304];
    uint8_t *ip;
    uint16_t c;

    build_tcp(frame, mac, 246, 0x10);
    ip = frame + 14;
    c = ~fold(sum16(ip, 20, 0));
    ip[10] = c >> 8;
    ip[11] = c;
    {
        uint32_t sum = sum16(ip + 12, 8, 0) + 6 + 266;
        c = ~fold(sum16(ip + 20, 266, sum));
        ip[36] = c >> 8;
        ip[37] = c;
    }
    rx_setup(f, 8, E1000_RCTL_SECRC);
    wr(f, E1000_RXCSUM, E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD);
    e1000_receive(&f->s, frame, 300);
    g_assert_cmphex(rx_status(f, 0), ==, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP |
                    E1000_RXD_STAT_IPCS | E1000_RXD_STAT_TCPCS);
    g_assert_cmphex(f->ram[RX_RING + 13], ==, 0);
    frame[100] ^= 1;                                         /* corrupt the payload */
    e1000_receive(&f->s, frame, 300);
    g_assert_cmphex(f->ram[RX_RING + 16 + 13], ==, E1000_RXD_ERR_TCPE);
    frame[100] ^= 1;

    /* A tagged frame with CTRL.VME: the tag moves to the descriptor. */
    memcpy(tagged, frame, 12);
    memcpy(tagged + 12, "\x81\x00\x20\x05", 4);
    memcpy(tagged + 16, frame + 12, 288);
    wr(f, E1000_CTRL, rd(f, E1000_CTRL) | E1000_CTRL_VME);
    e1000_receive(&f->s, tagged, 304);
    g_assert_cmpuint(rx_len(f, 2), ==, 300);
    g_assert_true(rx_status(f, 2) & E1000_RXD_STAT_VP);
    g_assert_true(rx_status(f, 2) & E1000_RXD_STAT_TCPCS);
    g_assert_cmphex(lduw_le_p(f->ram + RX_RING + 32 + 14), ==, 0x2005);
    g_assert_cmpmem(f->ram + RX_BUFS + 2 * 0x4000, 300, frame, 300);
    /* VLAN filter: VID 5 not in VFTA drops it. */
    wr(f, E1000_RCTL, rd(f, E1000_RCTL) | E1000_RCTL_VFE);
    e1000_receive(&f->s, tagged, 304);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 3);
    wr(f, E1000_VFTA, 1u << 5);
    e1000_receive(&f->s, tagged, 304);
    g_assert_cmpuint(rd(f, E1000_RDH), ==, 4);
}

static void test_rx_delay(Fixture *f, gconstpointer data)
{
    uint8_t frame[100] = { 0 };

    memcpy(frame, mac, 6);
    rx_setup(f, 8, 0);
    wr(f, E1000_IMS, E1000_ICR_RXT0);
    wr(f, E1000_RDTR, 100);                                  /* 102.4 us, per frame */
    wr(f, E1000_RADV, 150);                                  /* 153.6 us, absolute */
    e1000_receive(&f->s, frame, 100);
    g_assert_cmpint(f->irq, ==, 0);
    warp(80000);
    e1000_receive(&f->s, frame, 100);                        /* restarts RDTR */
    warp(60000);
    g_assert_cmpint(f->irq, ==, 0);
    warp(14000);                                             /* RADV expires at 153.6 */
    g_assert_cmpint(f->irq, ==, 1);
    rd(f, E1000_ICR);
    /* FPD flushes a pending delay at once. */
    e1000_receive(&f->s, frame, 100);
    g_assert_cmpint(f->irq, ==, 0);
    wr(f, E1000_RDTR, 100 | E1000_RDTR_FPD);
    g_assert_cmpint(f->irq, ==, 1);
}

static void test_reset(Fixture *f, gconstpointer data)
{
    wr(f, E1000_IMS, 0xffff);
    wr(f, E1000_ICS, E1000_ICR_LSC);
    wr(f, E1000_RCTL, E1000_RCTL_EN);
    wr(f, E1000_RA, 0);
    g_assert_cmpint(f->irq, ==, 1);
    wr(f, E1000_CTRL, E1000_CTRL_RST);
    g_assert_cmpint(f->irq, ==, 0);
    g_assert_cmphex(rd(f, E1000_IMS), ==, 0);
    g_assert_cmphex(rd(f, E1000_RCTL), ==, 0);
    g_assert_cmphex(rd(f, E1000_CTRL) & E1000_CTRL_RST, ==, 0);
    g_assert_cmphex(rd(f, E1000_RA), ==, 0xaa005452);
    g_assert_cmphex(rd(f, E1000_LEDCTL), ==, 0x07068302);
}

static void test_hostile(Fixture *f, gconstpointer data)
{
    uint8_t frame[200] = { 0 };

    memcpy(frame, mac, 6);
    /* Tail beyond the ring: nothing happens. */
    tx_setup(f, 8);
    put_legacy(f, 0, TX_BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(f, E1000_TDT, 9);
    g_assert_cmpuint(f->sent->len, ==, 0);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 0);
    /* Head beyond the ring. */
    wr(f, E1000_TDH, 100);
    wr(f, E1000_TDT, 1);
    g_assert_cmpuint(f->sent->len, ==, 0);
    /* Ring base + length wrapping the address space. */
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDBAL, 0xfffffff0);
    wr(f, E1000_TDBAH, 0xffffffff);
    wr(f, E1000_TDT, 2);
    g_assert_cmpuint(f->sent->len, ==, 0);
    /* Ring outside memory: descriptor fetch fails, processing stops. */
    wr(f, E1000_TDBAH, 0x10);
    wr(f, E1000_TDT, 3);
    g_assert_cmpuint(f->sent->len, ==, 0);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 0);
    /* Buffers outside memory: the packet is dropped, the ring moves on. */
    wr(f, E1000_TDBAL, TX_RING);
    wr(f, E1000_TDBAH, 0);
    wr(f, E1000_TDT, 0);
    put_legacy(f, 0, 0xfffffffffff0ull, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    put_legacy(f, 1, RAM_SIZE - 10, 60, E1000_TXD_CMD_EOP);
    put_legacy(f, 2, TX_BUFS, 60, E1000_TXD_CMD_EOP);
    wr(f, E1000_TDT, 3);
    g_assert_cmpuint(f->sent->len, ==, 1);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 3);
    /* A whole ring of descriptors without EOP, each as long as possible: bounded. */
    wr(f, E1000_TDLEN, 128 * 16);
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDT, 0);
    for (unsigned i = 0; i < 128; i++) {
        put_desc(f, TX_RING, i, 0, 0xfffff | 1u << 20 | (uint32_t)E1000_TXD_CMD_DEXT << 24, 0);
    }
    wr(f, E1000_TDT, 127);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 127);
    g_assert_cmpuint(f->sent->len, ==, 1);
    /* A bad TSO context (MSS 0, header beyond the packet) sends nothing. */
    put_context(f, 127, 14, 24, 33, 34, 50, 0, 0, E1000_TXD_CMD_TSE, 200, 0);
    put_data(f, 0, TX_BUFS, 60, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 0, 0);
    wr(f, E1000_TDT, 1);
    g_assert_cmpuint(f->sent->len, ==, 1);

    /* Receive: ring outside memory, buffers outside memory. */
    rx_setup(f, 8, 0);
    put_desc(f, RX_RING, 0, 0xffffffffffffff00ull, 0, 0);
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 200);
    g_assert_cmphex(rx_status(f, 0), ==, 0);
    wr(f, E1000_RDBAH, 0x1);
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 200);
    wr(f, E1000_RDBAH, 0);
    wr(f, E1000_RDH, 50);
    g_assert_false(e1000_can_receive(&f->s));
    g_assert_cmpuint(e1000_receive(&f->s, frame, 200), ==, 0);
    /* A frame that can never fit the ring is dropped rather than held forever. */
    wr(f, E1000_RDH, 0);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_LPE | 3u << E1000_RCTL_BSIZE_SHIFT);
    {
        static uint8_t big[4000];
        memcpy(big, mac, 6);
        g_assert_cmpuint(e1000_receive(&f->s, big, 4000), ==, 4000);
        g_assert_cmpuint(rd(f, E1000_MPC), ==, 1);
    }
    /* Sub-dword writes are ignored; offsets beyond BAR0 read 0. */
    e1000_mmio_write(&f->s, E1000_IMS, 0xff, 1);
    g_assert_cmphex(rd(f, E1000_IMS), ==, 0);
    g_assert_cmphex(e1000_mmio_read(&f->s, E1000_MMIO_SIZE + 4, 4), ==, 0);
    e1000_io_write(&f->s, 0, 0xffffffff, 4);
    e1000_io_write(&f->s, 4, 0xffffffff, 4);
}

/* Random register writes, descriptors and frames; the device must stay in bounds. */
static void test_fuzz(Fixture *f, gconstpointer data)
{
    static const uint32_t regs[] = {
        E1000_CTRL, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICR, E1000_ITR, E1000_ICS,
        E1000_IMS, E1000_IMC, E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDBAH,
        E1000_RDLEN, E1000_RDH, E1000_RDT, E1000_RDTR, E1000_RADV, E1000_TDBAL,
        E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT, E1000_TIDV, E1000_TADV,
        E1000_RXCSUM, E1000_RA, E1000_RA + 4, E1000_MTA, E1000_VFTA, E1000_VET,
    };
    GRand *r = g_rand_new_with_seed(0xe1000);
    uint8_t frame[2000];

    for (int iter = 0; iter < 20000; iter++) {
        unsigned what = g_rand_int_range(r, 0, 10);
        if (what < 5) {
            uint32_t reg = regs[g_rand_int_range(r, 0, G_N_ELEMENTS(regs))];
            uint32_t v = g_rand_int(r);
            if (reg == E1000_RDBAL || reg == E1000_TDBAL) {
                v &= RAM_SIZE - 1;
            } else if (reg == E1000_RDBAH || reg == E1000_TDBAH) {
                v = g_rand_int_range(r, 0, 8) == 0 ? v : 0;
            } else if (reg == E1000_RDLEN || reg == E1000_TDLEN) {
                v &= 0x3ff80;
            } else if (reg == E1000_TDT || reg == E1000_RDT || reg == E1000_RDH ||
                       reg == E1000_TDH) {
                v &= 0x3ff;
            } else if (reg == E1000_CTRL) {
                v &= ~E1000_CTRL_RST | (g_rand_int_range(r, 0, 50) ? 0 : E1000_CTRL_RST);
            }
            wr(f, reg, v);
        } else if (what < 7) {
            /* Scribble descriptors: random bytes somewhere in the first 64 KiB. */
            uint32_t off = g_rand_int_range(r, 0, 0x10000 - 16);
            for (int i = 0; i < 16; i++) {
                f->ram[off + i] = g_rand_int(r);
            }
        } else if (what < 9) {
            size_t len = g_rand_int_range(r, 1, sizeof(frame));
            for (size_t i = 0; i < len; i++) {
                frame[i] = g_rand_int(r);
            }
            if (g_rand_boolean(r)) {
                memcpy(frame, mac, MIN(len, 6));
            }
            e1000_receive(&f->s, frame, len);
        } else {
            rd(f, regs[g_rand_int_range(r, 0, G_N_ELEMENTS(regs))]);
            if (g_rand_int_range(r, 0, 20) == 0) {
                warp(g_rand_int_range(r, 0, 1000000));
            }
            if (g_rand_int_range(r, 0, 20) == 0) {
                f->backend_full = !f->backend_full;
                e1000_tx_resume(&f->s);
            }
        }
    }
    g_rand_free(r);
    for (unsigned i = 0; i < f->sent->len; i++) {
        g_assert_cmpuint(sent(f, i)->len, <=, E1000_TX_MAX + 4);
    }
}


/* After a state load, descriptors between TDH and TDT go out once the main loop runs. */
static void test_post_load_tx(Fixture *f, gconstpointer data)
{
    tx_setup(f, 8);
    wr(f, E1000_TCTL, 0);
    put_legacy(f, 0, TX_BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(f, E1000_TDT, 1);                                     /* transmitter off: held */
    f->s.regs[E1000_TCTL >> 2] = E1000_TCTL_EN;              /* as a loaded stream has it */
    g_assert_cmpuint(f->sent->len, ==, 0);
    e1000_core_post_load(&f->s);
    g_assert_cmpuint(f->sent->len, ==, 0);                   /* not from inside the load */
    for (int i = 0; i < 10 && f->sent->len == 0; i++) {
        main_loop_wait(true);
    }
    g_assert_cmpuint(f->sent->len, ==, 1);
    g_assert_cmpuint(rd(f, E1000_TDH), ==, 1);
}

/* ---- the PCI device: save/restore and unrealize, through qdev on a bare PCI bus ---- */

static PCIBus *test_bus(void)
{
    static MemoryRegion mem, io;
    static PCIBus *bus;

    if (!bus) {
        memory_region_init(&mem, NULL, "pci-mem", UINT64_MAX);
        memory_region_init(&io, NULL, "pci-io", 0x10000);
        bus = pci_root_bus_new(NULL, "pci.0", &mem, &io);
    }
    return bus;
}

static DeviceState *new_nic(const char *macstr)
{
    DeviceState *d = qdev_new("e1000");

    if (macstr) {
        object_property_set_str(OBJECT(d), "mac", macstr, &error_abort);
    }
    g_assert_true(qdev_realize(d, BUS(test_bus()), &error_abort));
    return d;
}

static uint32_t dev_rd(DeviceState *d, uint32_t off)
{
    uint64_t v = 0;
    g_assert_cmpint(memory_region_dispatch_read(PCI_DEVICE(d)->io_regions[0].mr, off, &v, 4),
                    ==, MEMTX_OK);
    return v;
}

static void dev_wr(DeviceState *d, uint32_t off, uint32_t v)
{
    memory_region_dispatch_write(PCI_DEVICE(d)->io_regions[0].mr, off, v, 4);
}

static void test_vmstate(void)
{
    const VMStateDescription *vmsd;
    DeviceState *a = new_nic("52:54:00:01:02:03"), *b = new_nic("52:54:00:09:09:09");
    GByteArray *buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    vmsd = DEVICE_GET_CLASS(a)->vmsd;
    g_assert_nonnull(vmsd);
    g_assert_cmphex(PCI_DEVICE(a)->io_regions[0].size, ==, E1000_MMIO_SIZE);
    g_assert_cmphex(PCI_DEVICE(a)->io_regions[1].size, ==, E1000_IO_SIZE);
    dev_wr(a, E1000_RDBAL, 0x12340);
    dev_wr(a, E1000_RDLEN, 0x400);
    dev_wr(a, E1000_MTA + 8, 0xdeadbeef);
    dev_wr(a, E1000_RCTL, E1000_RCTL_BAM);
    dev_wr(a, E1000_MDIC, PHY_AUTONEG_ADV << 16 | 1 << 21 | E1000_MDIC_OP_WRITE | 0x01e1);
    dev_wr(a, E1000_RDTR, 77);
    dev_wr(a, E1000_TXDCTL, 0x01010000);
    g_assert_cmpint(vmstate_save(buf, vmsd, a, &err), ==, 0);
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, vmsd, b, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, buf->len);
    g_assert_cmphex(dev_rd(b, E1000_RDBAL), ==, 0x12340);
    g_assert_cmphex(dev_rd(b, E1000_RDLEN), ==, 0x400);
    g_assert_cmphex(dev_rd(b, E1000_MTA + 8), ==, 0xdeadbeef);
    g_assert_cmphex(dev_rd(b, E1000_RCTL), ==, E1000_RCTL_BAM);
    g_assert_cmphex(dev_rd(b, E1000_RDTR), ==, 77);
    g_assert_cmphex(dev_rd(b, E1000_TXDCTL), ==, 0x01010000);
    g_assert_cmphex(dev_rd(b, E1000_RA), ==, 0x01005452);       /* a's station address */
    dev_wr(b, E1000_MDIC, PHY_AUTONEG_ADV << 16 | 1 << 21 | E1000_MDIC_OP_READ);
    g_assert_cmphex(dev_rd(b, E1000_MDIC) & 0xffff, ==, 0x01e1);
    /* A truncated stream is refused, whatever the cut. */
    for (size_t cut = 0; cut < buf->len; cut += 997) {
        pos = 0;
        g_assert_false(vmstate_load(buf->data, cut, &pos, vmsd, b, &err));
        g_clear_pointer(&err, error_free);
    }
    g_byte_array_unref(buf);
    qdev_unrealize(a);
    qdev_unrealize(b);
    object_unref(OBJECT(a));
    object_unref(OBJECT(b));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
#define ADD(path, fn) g_test_add("/e1000/" path, Fixture, NULL, setup, fn, teardown)
    ADD("eeprom", test_eeprom);
    ADD("phy-link", test_phy);
    ADD("icr", test_icr);
    ADD("itr", test_itr);
    ADD("tx-legacy", test_tx_legacy);
    ADD("tx-csum-offload", test_tx_csum_offload);
    ADD("tx-tso", test_tx_tso);
    ADD("rx", test_rx);
    ADD("rx-split", test_rx_split);
    ADD("rx-vlan-csum", test_rx_vlan_csum);
    ADD("rx-delay", test_rx_delay);
    ADD("reset", test_reset);
    ADD("hostile", test_hostile);
    ADD("fuzz", test_fuzz);
    ADD("post-load-tx", test_post_load_tx);
    g_test_add_func("/e1000/vmstate", test_vmstate);
    return g_test_run();
}
