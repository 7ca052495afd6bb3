/*
 * ATAPI CD/DVD-ROM: the PACKET command protocol and the MMC command set a host needs to
 * find, identify and read a disc image (2048-byte logical blocks).
 *
 * Protocol (ATA-6 8.23 PACKET, 9.8-9.10 packet protocols; SFF-8020i 5.x): after PACKET the
 * device asks for the 12-byte command with DRQ and Interrupt Reason CoD=1.  A data-in phase
 * comes in DRQ blocks of at most the byte count limit the host put in the cylinder
 * registers; the device writes the block's byte count there, sets IO=1, CoD=0 and raises
 * INTRQ.  Completion is IO=1, CoD=1, DRQ=0 with an interrupt; an error sets ERR with the
 * sense key in bits 7:4 of the Error register, the full sense data waiting for REQUEST
 * SENSE.  With Features bit 0 (DMA) the data moves through the bus master instead.
 *
 * Every field the guest sends (allocation lengths, LBAs, counts, page codes) is checked
 * before use; replies are built in io_buffer with explicit bounds.
 *
 * References: SFF-8020i rev 2.6; MMC-6 (T10/1836-D) for TEST UNIT READY (SPC), REQUEST
 * SENSE, INQUIRY, READ CAPACITY 6.23, READ(10)/(12) 6.19/6.20, MODE SENSE(10) and the
 * capabilities page 2Ah (MMC-2 5.5.10), GET CONFIGURATION 6.6, READ TOC/PMA/ATIP 6.38,
 * GET EVENT STATUS NOTIFICATION 6.8, START STOP UNIT 6.42, PREVENT ALLOW MEDIUM REMOVAL 6.15,
 * READ DISC INFORMATION 6.22, MECHANISM STATUS 6.11.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/ide/ide-core.h"
#include "kite/log.h"
#include <string.h>

/* Interrupt Reason (the Sector Count register during a packet command). */
#define IR_COD 0x01                                /* 1: command packet / status */
#define IR_IO  0x02                                /* 1: device -> host */

/* Sense keys and additional sense codes (SPC-3 4.5.6, MMC-6 annex F). */
#define SK_NO_SENSE       0x00
#define SK_NOT_READY      0x02
#define SK_MEDIUM_ERROR   0x03
#define SK_ILLEGAL_REQ    0x05
#define SK_UNIT_ATTENTION 0x06
#define SK_ABORTED        0x0b
#define ASC_INVALID_OPCODE     0x20
#define ASC_LBA_OUT_OF_RANGE   0x21
#define ASC_INVALID_FIELD      0x24
#define ASC_MEDIUM_CHANGED     0x28
#define ASC_SAVING_UNSUPPORTED 0x39
#define ASC_NO_MEDIUM          0x3a
#define ASC_UNRECOVERED_READ   0x11
#define ASC_REMOVAL_PREVENTED  0x53

/* Discs larger than an 80-minute CD are reported as DVD-ROM (MMC profiles). */
#define CD_MAX_SECTORS (80 * 60 * 75)

/* ---- helpers --------------------------------------------------------------------- */

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void pad_str(uint8_t *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    for (size_t i = 0; i < n; i++) {
        dst[i] = i < len ? src[i] : ' ';
    }
}

/* Logical blocks on the medium; 0 if there is none (empty drive or open tray). */
static uint64_t cd_sectors(IDEState *s)
{
    int64_t len;

    if (!s->blk || s->tray_open) {
        return 0;
    }
    len = blk_getlength(s->blk);
    return len > 0 ? (uint64_t)len / ATAPI_SECTOR : 0;
}

static bool cd_medium_present(IDEState *s)
{
    return s->blk && blk_bs(s->blk) && !s->tray_open;
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    /* MMC-6 table 531: MSF addresses count from the 2-second pre-gap (150 frames). */
    lba += 150;
    p[0] = 0;
    p[1] = lba / (60 * 75);
    p[2] = (lba / 75) % 60;
    p[3] = lba % 75;
}

/* ---- completion ------------------------------------------------------------------ */

/* The packet command ends (status phase, SFF-8020i 5.x: I/O and C/D set). */
static void atapi_cmd_end(IDEChannel *ch, IDEState *s, uint8_t status)
{
    s->nsector = IR_IO | IR_COD;
    s->remaining = 0;
    s->atapi_buf_len = 0;
    ide_stop_xfer(s, status);
    ide_raise_irq(ch);
}

static void atapi_cmd_ok(IDEChannel *ch, IDEState *s)
{
    s->error = 0;
    s->sense_key = SK_NO_SENSE;
    s->asc = s->ascq = 0;
    atapi_cmd_end(ch, s, ST_DRDY | ST_DSC);
}

static void atapi_cmd_error(IDEChannel *ch, IDEState *s, uint8_t key, uint8_t asc,
                            uint8_t ascq)
{
    s->sense_key = key;
    s->asc = asc;
    s->ascq = ascq;
    /* ATA-6 8.23.6: Error bits 7:4 = sense key; ABRT when the command was refused. */
    s->error = key << 4 | (key == SK_ILLEGAL_REQ || key == SK_ABORTED ? ER_ABRT : 0);
    atapi_cmd_end(ch, s, ST_DRDY | ST_ERR);
}

static void atapi_not_ready(IDEChannel *ch, IDEState *s)
{
    /* MEDIUM NOT PRESENT, ascq 1: tray closed, 2: tray open. */
    atapi_cmd_error(ch, s, SK_NOT_READY, ASC_NO_MEDIUM, s->tray_open ? 2 : 1);
}

static void atapi_start_data(IDEChannel *ch, IDEState *s)
{
    if (s->atapi_dma) {
        ide_start_dma(ch, s, XFER_DMA_IN);
    } else {
        s->data_pos = s->data_end = 0;
        atapi_pio_next(ch, s);
    }
}

/* Send len bytes of io_buffer, cut to the command's allocation length. */
static void atapi_reply(IDEChannel *ch, IDEState *s, uint32_t len, uint32_t alloc)
{
    len = MIN(len, alloc);
    len = MIN(len, IDE_BUF_SIZE);
    if (len == 0) {
        atapi_cmd_ok(ch, s);
        return;
    }
    s->remaining = 0;
    s->atapi_buf_len = len;
    atapi_start_data(ch, s);
}

/* Offer the next DRQ block of what io_buffer holds, from pos. */
static void atapi_pio_block(IDEChannel *ch, IDEState *s, uint32_t pos)
{
    uint32_t len = MIN(s->atapi_buf_len - pos, s->byte_limit);

    /* ATA-6 9.9: the byte count of this DRQ block goes to the cylinder registers. */
    s->lcyl = len;
    s->hcyl = len >> 8;
    s->nsector = IR_IO;
    ide_set_drq(ch, s, XFER_PIO_IN, pos, pos + len, true);
}

void atapi_pio_next(IDEChannel *ch, IDEState *s)
{
    uint32_t n;

    if (s->data_end < s->atapi_buf_len) {
        atapi_pio_block(ch, s, s->data_end);
        return;
    }
    n = MIN(s->remaining, IDE_BUF_SIZE / ATAPI_SECTOR);
    if (n == 0) {
        atapi_cmd_ok(ch, s);
        return;
    }
    /* BSY until the sectors are in io_buffer (atapi_pio_loaded). */
    s->atapi_buf_len = 0;
    ide_submit(ch, s, IO_CD_PIO, (int64_t)s->cur_lba * ATAPI_SECTOR,
               (int64_t)n * ATAPI_SECTOR);
}

void atapi_pio_loaded(IDEChannel *ch, IDEState *s)
{
    uint32_t n = s->io_len / ATAPI_SECTOR;

    s->cur_lba += n;
    s->remaining -= n;
    s->atapi_buf_len = n * ATAPI_SECTOR;
    atapi_pio_block(ch, s, 0);
}

void atapi_read_failed(IDEChannel *ch, IDEState *s)
{
    atapi_cmd_error(ch, s, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
}

void atapi_dma_done(IDEChannel *ch, IDEState *s, bool ok)
{
    if (ok) {
        atapi_cmd_ok(ch, s);
    } else {
        atapi_cmd_error(ch, s, SK_ABORTED, 0, 0);
    }
}

/* ---- IDENTIFY PACKET DEVICE (ATA-6 8.16) ----------------------------------------- */

void atapi_identify(IDEState *s, uint8_t *buf)
{
    uint16_t w[256] = { 0 };

    /* ATAPI (15:14 = 10b), CD-ROM type 05h, removable, DRQ within 50 us, 12-byte packets. */
    w[0] = 0x8000 | 0x05 << 8 | 0x80 | 0x40;
    ide_put_str(&w[10], 10, s->serial);
    ide_put_str(&w[23], 4, "1.0");
    ide_put_str(&w[27], 20, "KITE DVD-ROM");
    w[49] = (1 << 9) | (1 << 8);                   /* LBA, DMA */
    w[53] = 0x0006;                                /* words 64-70 and 88 valid */
    w[63] = 0x07 | ((s->xfer_mode >> 3) == 4 ? 0x100 << (s->xfer_mode & 7) : 0);
    w[64] = 0x03;                                  /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = 30;                                    /* PACKET to bus release, ns */
    w[72] = 30;                                    /* SERVICE to BSY clear, ns */
    w[80] = 0x001e;                                /* ATA/ATAPI-1 to -4 */
    w[82] = (1 << 14) | (1 << 4);                  /* NOP, PACKET feature set */
    w[83] = 1 << 14;
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (1 << 4);
    w[86] = 0;
    w[87] = 1 << 14;
    w[88] = 0x3f | ((s->xfer_mode >> 3) == 8 ? 0x100 << (s->xfer_mode & 7) : 0);
    for (int i = 0; i < 256; i++) {
        buf[2 * i] = w[i];
        buf[2 * i + 1] = w[i] >> 8;
    }
}

/* ---- PACKET ---------------------------------------------------------------------- */

void atapi_packet_start(IDEChannel *ch, IDEState *s)
{
    uint32_t limit = s->lcyl | s->hcyl << 8;

    /* Features bit 0: DMA data phase; bit 2 (DMADIR) only matters to SATA bridges. */
    s->atapi_dma = s->feature & 1;
    /* The byte count limit must be even; 0 and FFFFh mean "as much as possible". */
    if (limit == 0 || limit == 0xffff) {
        limit = 0xfffe;
    }
    s->byte_limit = limit & ~1u;
    if (s->byte_limit == 0) {
        s->byte_limit = 2;
    }
    s->remaining = 0;
    s->atapi_buf_len = 0;
    s->nsector = IR_COD;
    /* Word 0 bits 6:5 = 10b (DRQ within 50 us): no interrupt before the packet. */
    ide_set_drq(ch, s, XFER_PACKET, 0, ATAPI_PACKET_SIZE, false);
}

static void cmd_inquiry(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;

    if (p[1] & 1) {
        /* EVPD: no vital product data pages. */
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                                   /* CD/DVD device */
    b[1] = 0x80;                                   /* removable medium */
    b[2] = 0x00;                                   /* ATAPI: version field 0 */
    b[3] = 0x21;                                   /* ATAPI version 2, response format 1 */
    b[4] = 36 - 5;
    pad_str(&b[8], 8, "KITE");
    pad_str(&b[16], 16, "KITE DVD-ROM");
    pad_str(&b[32], 4, "1.0");
    atapi_reply(ch, s, 36, get_be16(&p[3]));
}

static void cmd_request_sense(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;

    memset(b, 0, 18);
    b[0] = 0x70;                                   /* current error, fixed format */
    b[2] = s->sense_key;
    b[7] = 10;                                     /* additional sense length */
    b[12] = s->asc;
    b[13] = s->ascq;
    /* Sense data is reported once (SPC-3 4.5.1). */
    s->sense_key = SK_NO_SENSE;
    s->asc = s->ascq = 0;
    atapi_reply(ch, s, 18, p[4]);
}

static void cmd_read_capacity(IDEChannel *ch, IDEState *s)
{
    uint64_t n = cd_sectors(s);
    uint8_t *b = s->io_buffer;

    if (!cd_medium_present(s) || n == 0) {
        atapi_not_ready(ch, s);
        return;
    }
    put_be32(b, n - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(n - 1));
    put_be32(b + 4, ATAPI_SECTOR);
    atapi_reply(ch, s, 8, 8);
}

static void cmd_read(IDEChannel *ch, IDEState *s, uint64_t lba, uint32_t count)
{
    uint64_t n = cd_sectors(s);

    if (!cd_medium_present(s)) {
        atapi_not_ready(ch, s);
        return;
    }
    if (lba > n || count > n - lba) {
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (count == 0) {
        atapi_cmd_ok(ch, s);
        return;
    }
    s->cur_lba = lba;
    s->remaining = count;
    s->atapi_buf_len = 0;
    atapi_start_data(ch, s);
}

/* MODE SENSE(10) pages: 01h read error recovery, 2Ah capabilities (MMC-2 5.5.10). */
static uint32_t mode_page(IDEState *s, uint8_t page, bool changeable, uint8_t *b)
{
    switch (page) {
    case 0x01:
        memset(b, 0, 8);
        b[0] = 0x01;
        b[1] = 6;
        if (!changeable) {
            b[3] = 5;                              /* read retry count */
        }
        return 8;
    case 0x2a:
        memset(b, 0, 22);
        b[0] = 0x2a;
        b[1] = 20;
        if (changeable) {
            return 22;
        }
        b[2] = 0x09;                               /* reads CD-R and DVD-ROM media */
        b[4] = 0x40;                               /* multi-session */
        /* Lock supported, lock state, eject, tray loading mechanism (type 001b). */
        b[6] = 0x01 | (s->tray_locked ? 0x02 : 0) | 0x08 | 0x20;
        put_be16(&b[8], 2816);                     /* max read speed, kB/s (16x) */
        put_be16(&b[12], 512);                     /* buffer size, KiB */
        put_be16(&b[14], 2816);                    /* current read speed */
        return 22;
    default:
        return 0;
    }
}

static void cmd_mode_sense(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t pc = p[2] >> 6, page = p[2] & 0x3f;
    uint8_t *b = s->io_buffer;
    uint32_t len = 8;

    if (pc == 3) {
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_SAVING_UNSUPPORTED, 0);
        return;
    }
    memset(b, 0, 8);
    if (page == 0x3f) {
        len += mode_page(s, 0x01, pc == 1, b + len);
        len += mode_page(s, 0x2a, pc == 1, b + len);
    } else {
        uint32_t n = mode_page(s, page, pc == 1, b + len);
        if (!n) {
            atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
            return;
        }
        len += n;
    }
    put_be16(b, len - 2);                          /* mode data length */
    atapi_reply(ch, s, len, get_be16(&p[7]));
}

/* GET CONFIGURATION: the profile list, Core, Morphing, Removable Medium, Random Readable,
 * CD Read and DVD Read features (MMC-6 5.3). */
static uint32_t add_feature(uint8_t *b, uint32_t len, uint16_t code, uint8_t version,
                            bool current, const uint8_t *data, uint8_t dlen,
                            uint8_t rt, uint16_t start)
{
    if (code < start || (rt == 1 && !current) || (rt == 2 && code != start)) {
        return len;
    }
    put_be16(b + len, code);
    b[len + 2] = version << 2 | 0x02 | (current ? 1 : 0);    /* persistent */
    b[len + 3] = dlen;
    memcpy(b + len + 4, data, dlen);
    return len + 4 + dlen;
}

static void cmd_get_configuration(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t rt = p[1] & 3;
    uint16_t start = get_be16(&p[2]);
    uint64_t n = cd_sectors(s);
    bool present = cd_medium_present(s) && n;
    bool dvd = present && n > CD_MAX_SECTORS;
    uint16_t profile = !present ? 0 : dvd ? 0x0010 : 0x0008;
    uint8_t *b = s->io_buffer;
    uint8_t d[8];
    uint32_t len = 8;

    if (rt == 3) {
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 128);
    put_be16(&b[6], profile);
    /* Profile List: DVD-ROM, CD-ROM, the one on the medium marked current. */
    memset(d, 0, sizeof(d));
    put_be16(&d[0], 0x0010);
    d[2] = dvd;
    put_be16(&d[4], 0x0008);
    d[6] = present && !dvd;
    len = add_feature(b, len, 0x0000, 0, true, d, 8, rt, start);
    memset(d, 0, sizeof(d));
    put_be32(&d[0], 2);                            /* physical interface: ATAPI */
    len = add_feature(b, len, 0x0001, 1, true, d, 8, rt, start);
    memset(d, 0, sizeof(d));
    len = add_feature(b, len, 0x0002, 1, true, d, 4, rt, start);     /* Morphing */
    d[0] = 0x20 | 0x08 | (s->tray_locked ? 0x01 : 0) | 0x04;        /* tray, eject, lock */
    len = add_feature(b, len, 0x0003, 0, true, d, 4, rt, start);
    memset(d, 0, sizeof(d));
    put_be32(&d[0], ATAPI_SECTOR);
    put_be16(&d[4], 1);                            /* blocking */
    len = add_feature(b, len, 0x0010, 0, present, d, 8, rt, start);  /* Random Readable */
    memset(d, 0, sizeof(d));
    len = add_feature(b, len, 0x001e, 0, present && !dvd, d, 0, rt, start);  /* CD Read */
    len = add_feature(b, len, 0x001f, 0, dvd, d, 0, rt, start);              /* DVD Read */
    put_be32(b, len - 4);                          /* data length excludes itself */
    atapi_reply(ch, s, len, get_be16(&p[7]));
}

static void cmd_read_toc(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    bool msf = p[1] & 2;
    uint8_t format = p[2] & 0x0f, track = p[6];
    uint64_t n = cd_sectors(s);
    uint8_t *b = s->io_buffer;
    uint32_t len = 4;

    if (!cd_medium_present(s)) {
        atapi_not_ready(ch, s);
        return;
    }
    if (format == 0 && (p[9] >> 6)) {
        format = p[9] >> 6;                        /* SFF-8020i: format in the control byte */
    }
    n = MIN(n, 0xffffffffu - 150);
    memset(b, 0, 32);
    switch (format) {
    case 0:                                        /* TOC: one data track and the lead-out */
        if (track > 1 && track != 0xaa) {
            atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
            return;
        }
        b[2] = 1;
        b[3] = 1;
        if (track <= 1) {
            b[len + 1] = 0x14;                     /* ADR 1, data track */
            b[len + 2] = 1;
            if (msf) {
                lba_to_msf(&b[len + 4], 0);
            }
            len += 8;
        }
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa;                         /* lead-out */
        if (msf) {
            lba_to_msf(&b[len + 4], n);
        } else {
            put_be32(&b[len + 4], n);
        }
        len += 8;
        break;
    case 1:                                        /* session info: one session, track 1 */
        b[2] = 1;
        b[3] = 1;
        b[len + 1] = 0x14;
        b[len + 2] = 1;
        if (msf) {
            lba_to_msf(&b[len + 4], 0);
        }
        len += 8;
        break;
    default:
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
        return;
    }
    put_be16(b, len - 2);
    atapi_reply(ch, s, len, get_be16(&p[7]));
}

static void cmd_gesn(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    uint32_t len = 4;

    if (!(p[1] & 1)) {
        /* Asynchronous notification is not supported: Polled must be set. */
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                                   /* supported classes: media */
    if (p[4] & 0x10) {
        b[2] = 4;                                  /* media class */
        b[4] = s->media_event;
        b[5] = (cd_medium_present(s) ? 0x02 : 0) | (s->tray_open ? 0x01 : 0);
        s->media_event = 0;                        /* reported once */
        len += 4;
    } else {
        b[2] = 0x80;                               /* NEA: no requested class available */
    }
    put_be16(b, len - 2);
    atapi_reply(ch, s, len, get_be16(&p[7]));
}

static void cmd_start_stop(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    bool loej = p[4] & 2, start = p[4] & 1;

    if (loej && !start) {
        if (s->tray_locked) {
            /* MEDIUM REMOVAL PREVENTED (MMC-6 6.42). */
            atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_REMOVAL_PREVENTED, 2);
            return;
        }
        if (!s->tray_open && s->blk && blk_bs(s->blk)) {
            s->media_event = 3;                    /* MediaRemoval */
        }
        if (!s->tray_open) {
            blk_dev_tray_moved(s->blk, true);
        }
        s->tray_open = true;
    } else if (loej && start) {
        if (s->tray_open && s->blk && blk_bs(s->blk)) {
            s->media_event = 2;                    /* NewMedia */
        }
        if (s->tray_open) {
            blk_dev_tray_moved(s->blk, false);
        }
        s->tray_open = false;
    }
    atapi_cmd_ok(ch, s);
}

/* READ DISC INFORMATION, standard data (MMC-6 6.22): a finalized single-session disc. */
static void cmd_read_disc_info(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;

    if (!cd_medium_present(s)) {
        atapi_not_ready(ch, s);
        return;
    }
    if (p[1] & 7) {
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_FIELD, 0);   /* track/POW data */
        return;
    }
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;                                   /* last session complete, disc complete */
    b[3] = 1;                                      /* first track */
    b[4] = 1;                                      /* sessions */
    b[5] = 1;                                      /* first and last track of last session */
    b[6] = 1;
    b[7] = 0x20;                                   /* unrestricted use */
    memset(&b[16], 0xff, 8);                       /* complete: no lead-in/out addresses */
    atapi_reply(ch, s, 34, get_be16(&p[7]));
}

/* MECHANISM STATUS (MMC-6 6.11): no changer, the tray's state, no slot table. */
static void cmd_mechanism_status(IDEChannel *ch, IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;

    memset(b, 0, 8);
    b[1] = s->tray_open ? 0x10 : 0;                /* door open */
    atapi_reply(ch, s, 8, get_be16(&p[8]));
}

/* Commands a pending unit attention does not fail (MMC-6 4.1.6.1 / SPC-3 5.9.7). */
static bool ua_exempt(uint8_t op)
{
    return op == 0x12 || op == 0x03 || op == 0x46 || op == 0x4a;
}

void atapi_packet_received(IDEChannel *ch, IDEState *s)
{
    const uint8_t *p = s->packet;

    memcpy(s->packet, s->io_buffer, ATAPI_PACKET_SIZE);
    ide_stop_xfer(s, ST_DRDY | ST_DSC | ST_BSY);
    /*
     * A medium change is reported as QEMU does, so guests that never poll GESN still see
     * the old medium go and a new one come: once the tray is closed on a medium, the first
     * command fails NOT READY / MEDIUM NOT PRESENT, the next UNIT ATTENTION / NOT READY TO
     * READY CHANGE, MEDIUM MAY HAVE CHANGED (MMC-6 4.1.6.1).  Until then (tray open, no
     * medium) commands that need a medium fail NOT READY by themselves.
     */
    if (s->unit_attention && !ua_exempt(p[0]) && cd_medium_present(s)) {
        if (s->unit_attention == 1) {
            s->unit_attention = 2;
            atapi_cmd_error(ch, s, SK_NOT_READY, ASC_NO_MEDIUM, 0);
        } else {
            s->unit_attention = 0;
            atapi_cmd_error(ch, s, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        }
        return;
    }
    switch (p[0]) {
    case 0x00:                                     /* TEST UNIT READY */
        if (!cd_medium_present(s)) {
            atapi_not_ready(ch, s);
        } else {
            atapi_cmd_ok(ch, s);
        }
        break;
    case 0x03:                                     /* REQUEST SENSE */
        cmd_request_sense(ch, s, p);
        break;
    case 0x12:                                     /* INQUIRY */
        cmd_inquiry(ch, s, p);
        break;
    case 0x1b:                                     /* START STOP UNIT */
        cmd_start_stop(ch, s, p);
        break;
    case 0x1e:                                     /* PREVENT ALLOW MEDIUM REMOVAL */
        s->tray_locked = p[4] & 1;
        atapi_cmd_ok(ch, s);
        break;
    case 0x25:                                     /* READ CAPACITY */
        cmd_read_capacity(ch, s);
        break;
    case 0x28:                                     /* READ(10) */
        cmd_read(ch, s, get_be32(&p[2]), get_be16(&p[7]));
        break;
    case 0xa8:                                     /* READ(12) */
        cmd_read(ch, s, get_be32(&p[2]), get_be32(&p[6]));
        break;
    case 0x2b:                                     /* SEEK(10) */
        if (!cd_medium_present(s)) {
            atapi_not_ready(ch, s);
        } else if (get_be32(&p[2]) >= cd_sectors(s)) {
            atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_LBA_OUT_OF_RANGE, 0);
        } else {
            atapi_cmd_ok(ch, s);
        }
        break;
    case 0x43:                                     /* READ TOC/PMA/ATIP */
        cmd_read_toc(ch, s, p);
        break;
    case 0x46:                                     /* GET CONFIGURATION */
        cmd_get_configuration(ch, s, p);
        break;
    case 0x4a:                                     /* GET EVENT STATUS NOTIFICATION */
        cmd_gesn(ch, s, p);
        break;
    case 0x5a:                                     /* MODE SENSE(10) */
        cmd_mode_sense(ch, s, p);
        break;
    case 0x51:                                     /* READ DISC INFORMATION */
        cmd_read_disc_info(ch, s, p);
        break;
    case 0xbd:                                     /* MECHANISM STATUS */
        cmd_mechanism_status(ch, s, p);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "ide-cd: packet command 0x%02x rejected\n", p[0]);
        atapi_cmd_error(ch, s, SK_ILLEGAL_REQ, ASC_INVALID_OPCODE, 0);
        break;
    }
}

void ide_cd_medium_changed(IDEState *s, bool loaded)
{
    if (s->kind != IDE_CD) {
        return;
    }
    /*
     * The block layer moved the tray (blockdev-open-tray / -close-tray, eject,
     * blockdev-change-medium) and sends DEVICE_TRAY_MOVED itself: loading closes the tray
     * (on a medium or on nothing), unloading opens it.
     */
    s->tray_open = !loaded;
    s->unit_attention = 1;
    s->media_event = loaded ? 2 : 3;               /* NewMedia / MediaRemoval */
}

void ide_cd_eject_request(IDEState *s, bool force)
{
    if (s->kind != IDE_CD) {
        return;
    }
    /* GESN media event EjectRequest (MMC-6 table 146): the guest should unlock and eject. */
    s->media_event = 1;
    if (force) {
        s->tray_locked = false;
    }
}
