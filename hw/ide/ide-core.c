/*
 * ATA disk state machine: task file, PIO and DMA data phases, the command set Linux and
 * firmware use.  Every guest-supplied count and address is checked against the disk size
 * and the buffer before use: a bad request ends in the ATA error state (ERR + ABRT/IDNF),
 * never in a host access outside io_buffer.
 *
 * References: ATA/ATAPI-6 (T13/1410D): 6 (status/error, LBA48 HOB), 8 (commands),
 * 9 (PIO data-in/out, DMA protocols); SFF-8038i (bus master).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/ide/ide-core.h"
#include "kite/log.h"
#include <string.h>

static IDEState *cur_dev(IDEChannel *ch)
{
    return &ch->ifs[(ch->ifs[0].select >> 4) & 1];
}

static void ide_update_irq(IDEChannel *ch)
{
    irq_set_level(ch->irq, ch->irq_pending && !(ch->devctl & DC_NIEN));
}

void ide_raise_irq(IDEChannel *ch)
{
    ch->irq_pending = true;
    /* SFF-8038i 3.1.2: the Interrupt bit follows the device's INTRQ. */
    ch->bm_status |= BM_ST_INTR;
    ide_update_irq(ch);
}

void ide_set_signature(IDEState *s)
{
    /* ATA-6 9.12: after reset/diagnostics an ATA device reports 01h/01h/00h/00h, a PACKET
     * device 01h/01h/14h/EBh (how hosts tell them apart). */
    bool cd = s->kind == IDE_CD;

    s->select &= 0xf0;
    s->nsector = 1;
    s->sector = 1;
    s->lcyl = cd ? 0x14 : 0;
    s->hcyl = cd ? 0xeb : 0;
}

/* A reset meets a request in flight: wait for it and drop its result (QEMU does the same
 * rather than let a half-done transfer land after the reset). */
static void ide_cancel_io(IDEState *s)
{
    if (s->io_busy && s->blk) {
        s->io_cancel = true;
        blk_drain(s->blk);
    }
    s->io_busy = s->io_cancel = s->io_retry = false;
    s->io_op = IO_NONE;
}

static void ide_reset_dev(IDEState *s)
{
    uint8_t sel = s->select & 0x10;

    ide_cancel_io(s);
    s->select = 0xa0 | sel;
    s->feature = s->hob_feature = s->hob_nsector = s->hob_sector = 0;
    s->hob_lcyl = s->hob_hcyl = 0;
    ide_set_signature(s);
    s->error = 0x01;                               /* diagnostic code: device passed */
    s->status = s->kind != IDE_NONE ? ST_DRDY | ST_DSC : 0;
    s->mult_sectors = 0;
    s->heads = 16;
    s->spt = 63;
    s->xfer = XFER_NONE;
    s->remaining = s->block = s->data_pos = s->data_end = 0;
    s->atapi_buf_len = 0;
    s->atapi_dma = false;
    s->sense_key = s->asc = s->ascq = 0;
    s->tray_locked = false;                        /* a reset allows medium removal */
}

void ide_channel_reset(IDEChannel *ch)
{
    for (int i = 0; i < 2; i++) {
        ch->ifs[i].select = i << 4;
        ide_reset_dev(&ch->ifs[i]);
        ch->ifs[i].wcache = true;
        ch->ifs[i].xfer_mode = 0;
    }
    ch->devctl = 0;
    ch->irq_pending = false;
    ch->bm_cmd = 0;
    ch->bm_status &= 0x60;                         /* drive DMA-capable bits survive */
    ch->bm_prd = 0;
    ide_update_irq(ch);
}

void ide_attach(IDEState *s, IDEDriveKind kind, BlockBackend *blk, const char *serial)
{
    int64_t len = blk ? blk_getlength(blk) : 0;

    ide_cancel_io(s);
    s->kind = kind;
    s->blk = kind != IDE_NONE ? blk : NULL;
    s->nb_sectors = len > 0 ? (uint64_t)len / IDE_SECTOR : 0;
    g_strlcpy(s->serial, serial ? serial : "KITE0000", sizeof(s->serial));
    s->status = kind != IDE_NONE ? ST_DRDY | ST_DSC : 0;
    s->tray_open = s->tray_locked = false;
    s->unit_attention = 0;
    s->media_event = 0;
    ide_set_signature(s);
}

/* ---- data phases and completion ---------------------------------------------------- */

void ide_set_drq(IDEChannel *ch, IDEState *s, IDEXfer xfer, uint32_t pos, uint32_t end,
                 bool irq)
{
    s->data_pos = pos;
    s->data_end = end;
    s->xfer = xfer;
    s->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (irq) {
        ide_raise_irq(ch);
    }
}

void ide_stop_xfer(IDEState *s, uint8_t status)
{
    s->status = status;
    s->xfer = XFER_NONE;
    s->data_pos = s->data_end = 0;
}

void ide_start_dma(IDEChannel *ch, IDEState *s, IDEXfer xfer)
{
    s->xfer = xfer;
    s->status = ST_DRDY | ST_DSC | ST_DRQ | ST_BSY;
    ide_dma_run(ch);                               /* now if the bus master is started */
}

static void ide_cmd_done(IDEChannel *ch, IDEState *s)
{
    ide_stop_xfer(s, ST_DRDY | ST_DSC);
    ide_raise_irq(ch);
}

static void ide_abort(IDEChannel *ch, IDEState *s, uint8_t err)
{
    s->error = err;
    s->remaining = 0;
    ide_stop_xfer(s, ST_DRDY | ST_ERR);
    ide_raise_irq(ch);
}

/* Writes and flushes are not reads (rerror vs werror, UNC in the error register). */
static bool ide_op_is_read(IDEIoOp op)
{
    return op != IO_PIO_OUT && op != IO_DMA_WRITE && op != IO_FLUSH;
}

/* ---- addressing ------------------------------------------------------------------ */

static uint64_t ide_get_lba(IDEState *s, bool lba48)
{
    if (lba48) {
        return (uint64_t)s->hob_hcyl << 40 | (uint64_t)s->hob_lcyl << 32 |
               (uint64_t)s->hob_sector << 24 | (uint64_t)s->hcyl << 16 |
               (uint64_t)s->lcyl << 8 | s->sector;
    }
    if (s->select & 0x40) {
        return (uint64_t)(s->select & 0x0f) << 24 | (uint64_t)s->hcyl << 16 |
               (uint64_t)s->lcyl << 8 | s->sector;
    }
    /* CHS (ATA-6 6.2.1): sector numbers start at 1; sector 0 is invalid. */
    if (s->sector == 0 || s->spt == 0) {
        return UINT64_MAX;
    }
    return (((uint64_t)(s->hcyl << 8 | s->lcyl) * s->heads + (s->select & 0x0f)) * s->spt) +
           s->sector - 1;
}

/* After a transfer the task file holds the address of the last sector moved (ATA-6 9.x). */
static void ide_set_lba(IDEState *s, uint64_t lba, bool lba48)
{
    if (lba48) {
        s->hob_hcyl = lba >> 40;
        s->hob_lcyl = lba >> 32;
        s->hob_sector = lba >> 24;
    } else if (s->select & 0x40) {
        s->select = (s->select & 0xf0) | ((lba >> 24) & 0x0f);
    } else {
        return;                                    /* CHS: leave the registers as written */
    }
    s->hcyl = lba >> 16;
    s->lcyl = lba >> 8;
    s->sector = lba;
}

static uint32_t ide_get_count(IDEState *s, bool lba48)
{
    uint32_t n = lba48 ? (uint32_t)s->hob_nsector << 8 | s->nsector : s->nsector;

    return n ? n : (lba48 ? 65536 : 256);
}

/* ---- IDENTIFY -------------------------------------------------------------------- */

void ide_put_str(uint16_t *w, int nwords, const char *str)
{
    /* ATA strings: two characters a word, first in the high byte, space padded. */
    for (int i = 0; i < nwords * 2; i++) {
        size_t len = strlen(str);
        uint8_t c = i < (int)len ? str[i] : ' ';
        if (i & 1) {
            w[i / 2] |= c;
        } else {
            w[i / 2] = (uint16_t)c << 8;
        }
    }
}

static void ide_identify(IDEState *s, uint8_t *buf)
{
    uint16_t w[256] = { 0 };
    uint64_t n = s->nb_sectors;
    uint32_t lba28 = n > 0x0fffffff ? 0x0fffffff : n;
    uint32_t cyls = n / (16 * 63);

    if (cyls > 16383) {
        cyls = 16383;
    }
    w[0] = 0x0040;                                 /* fixed device */
    w[1] = cyls;
    w[3] = 16;
    w[6] = 63;
    ide_put_str(&w[10], 10, s->serial);
    ide_put_str(&w[23], 4, "1.0");
    ide_put_str(&w[27], 20, "KITE HARDDISK");
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = (1 << 9) | (1 << 8);                   /* LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;                                /* PIO timing mode 2 */
    w[53] = 0x0007;                                /* words 54-58, 64-70 and 88 valid */
    w[54] = cyls;
    w[55] = s->heads;
    w[56] = s->spt;
    {
        uint64_t cur = (uint64_t)cyls * s->heads * s->spt;
        w[57] = cur;
        w[58] = cur >> 16;
    }
    w[59] = s->mult_sectors ? 0x100 | s->mult_sectors : 0;
    w[60] = lba28;
    w[61] = lba28 >> 16;
    /* Multiword DMA 0-2 supported; the mode SET FEATURES selected (bits 10:8). */
    w[63] = 0x07 | ((s->xfer_mode >> 3) == 4 ? 0x100 << (s->xfer_mode & 7) : 0);
    w[64] = 0x03;                                  /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x00f0;                                /* ATA-4 to ATA-7 */
    w[81] = 0x0016;
    w[82] = (1 << 14) | (1 << 5);                  /* NOP, write cache */
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);   /* FLUSH EXT, FLUSH, LBA48 */
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (s->wcache ? 1 << 5 : 0);
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 1 << 14;
    /* Ultra DMA 0-5 supported, the selected one in bits 13:8. */
    w[88] = 0x3f | ((s->xfer_mode >> 3) == 8 ? 0x100 << (s->xfer_mode & 7) : 0);
    w[93] = (1 << 14) | (1 << 13) | 1;
    w[100] = n;
    w[101] = n >> 16;
    w[102] = n >> 32;
    w[103] = n >> 48;
    for (int i = 0; i < 256; i++) {
        buf[2 * i] = w[i];
        buf[2 * i + 1] = w[i] >> 8;
    }
}

/* ---- PIO ------------------------------------------------------------------------- */

static void ide_aio_cb(void *opaque, int ret);

static void ide_resubmit(IDEState *s)
{
    struct iovec iov = {
        .iov_base = s->io_dma_buf ? s->dma_buf : s->io_buffer, .iov_len = s->io_len,
    };

    s->io_busy = true;
    switch (s->io_op) {
    case IO_PIO_OUT:
    case IO_DMA_WRITE:
        blk_aio_pwritev(s->blk, s->io_off, &iov, 1, 0, ide_aio_cb, s);
        break;
    case IO_FLUSH:
        blk_aio_flush(s->blk, ide_aio_cb, s);
        break;
    default:
        blk_aio_preadv(s->blk, s->io_off, &iov, 1, ide_aio_cb, s);
        break;
    }
}

/* Start a request; the device is BSY (and not DRQ) until ide_aio_cb. */
static void ide_submit_buf(IDEChannel *ch, IDEState *s, IDEIoOp op, int64_t off, int64_t len,
                           bool dma_buf)
{
    s->chan = ch;
    s->io_op = op;
    s->io_off = off;
    s->io_len = len;
    s->io_dma_buf = dma_buf;
    if (op != IO_DMA_READ && op != IO_DMA_WRITE) {
        ide_stop_xfer(s, ST_DRDY | ST_DSC | ST_BSY);
    }
    ide_resubmit(s);
}

void ide_submit(IDEChannel *ch, IDEState *s, IDEIoOp op, int64_t off, int64_t len)
{
    ide_submit_buf(ch, s, op, off, len, false);
}

/* Load the next DRQ block of a read; the data phase ends when nothing remains. */
static void ide_pio_in_next(IDEChannel *ch, IDEState *s)
{
    uint32_t n;

    if (s->kind == IDE_CD && s->atapi_buf_len) {
        atapi_pio_next(ch, s);                     /* a packet's data phase */
        return;
    }
    n = s->remaining < s->block ? s->remaining : s->block;

    if (n == 0) {
        ide_stop_xfer(s, ST_DRDY | ST_DSC);         /* the last block was the interrupt */
        return;
    }
    ide_submit(ch, s, IO_PIO_IN, (int64_t)s->cur_lba * IDE_SECTOR, (int64_t)n * IDE_SECTOR);
}

/* The request of n sectors a PIO block moved is done: the taskfile shows the last one. */
static uint32_t ide_pio_advance(IDEState *s)
{
    uint32_t n = s->io_len / IDE_SECTOR;

    ide_set_lba(s, s->cur_lba + n - 1, s->lba48);
    s->cur_lba += n;
    s->remaining -= n;
    return n;
}

static void ide_pio_in_done(IDEChannel *ch, IDEState *s)
{
    uint32_t n = ide_pio_advance(s);

    ide_set_drq(ch, s, XFER_PIO_IN, 0, n * IDE_SECTOR, true);
}

/* The next DRQ block of a write; its interrupt is the caller's (none for the first). */
static void ide_pio_out_setup(IDEChannel *ch, IDEState *s, bool irq)
{
    uint32_t n = s->remaining < s->block ? s->remaining : s->block;

    ide_set_drq(ch, s, XFER_PIO_OUT, 0, n * IDE_SECTOR, irq);
}

static void ide_pio_out_block_done(IDEChannel *ch, IDEState *s)
{
    uint32_t n = s->data_end / IDE_SECTOR;

    ide_submit_buf(ch, s, IO_PIO_OUT, (int64_t)s->cur_lba * IDE_SECTOR,
                   (int64_t)n * IDE_SECTOR, false);
}

static void ide_pio_out_done(IDEChannel *ch, IDEState *s)
{
    ide_pio_advance(s);
    if (s->remaining) {
        ide_pio_out_setup(ch, s, true);
    } else {
        ide_cmd_done(ch, s);
    }
}

/* ---- DMA (SFF-8038i 3.2: Physical Region Descriptor table) ------------------------ */

/* Copy len bytes between buf and the memory the PRD table describes, continuing where
 * the last copy of this transfer stopped; false if the table ends first or the bus refuses. */
static bool prd_copy(IDEChannel *ch, uint8_t *buf, uint32_t len, bool to_mem)
{
    while (len) {
        uint32_t chunk;
        if (ch->prd_left == 0) {
            uint32_t ent[2], cnt;
            if (ch->prd_eot || ch->prd_count >= BM_PRD_MAX ||
                !ch->dma_rw(ch->dma_opaque, ch->prd_next, ent, 8, false)) {
                return false;
            }
            ch->prd_addr = GUINT32_FROM_LE(ent[0]) & ~1u;
            cnt = GUINT32_FROM_LE(ent[1]) & 0xfffe;
            ch->prd_left = cnt ? cnt : 0x10000;
            ch->prd_eot = GUINT32_FROM_LE(ent[1]) & 0x80000000u;
            ch->prd_next += 8;
            ch->prd_count++;
        }
        chunk = MIN(len, ch->prd_left);
        if (!ch->dma_rw(ch->dma_opaque, ch->prd_addr, buf, chunk, to_mem)) {
            return false;
        }
        ch->prd_addr += chunk;
        ch->prd_left -= chunk;
        buf += chunk;
        len -= chunk;
    }
    return true;
}

static void ide_dma_finish(IDEChannel *ch, IDEState *s, bool ok)
{
    bool cd = s->kind == IDE_CD;

    ch->bm_status &= ~BM_ST_ACTIVE;
    if (!ok) {
        /* Short PRD table or a refused access: the transfer cannot finish. */
        ch->bm_status |= BM_ST_ERROR;
        if (cd) {
            atapi_dma_done(ch, s, false);
        } else {
            ide_abort(ch, s, ER_ABRT);
        }
        return;
    }
    if (!ch->prd_eot) {
        /* PRDs describe more than the transfer: Active stays set (SFF-8038i 3.1.2). */
        ch->bm_status |= BM_ST_ACTIVE;
    }
    if (cd) {
        atapi_dma_done(ch, s, true);
        return;
    }
    ide_set_lba(s, s->cur_lba + s->remaining - 1, s->lba48);
    s->remaining = 0;
    ide_cmd_done(ch, s);
}

/* The next chunk of a DMA transfer: disk -> dma_buf -> PRDs, or PRDs -> dma_buf -> disk. */
static void ide_dma_next(IDEChannel *ch, IDEState *s)
{
    uint32_t n;

    if (!s->dma_left) {
        ide_dma_finish(ch, s, true);
        return;
    }
    n = MIN(s->dma_left, IDE_DMA_CHUNK);
    if (s->xfer == XFER_DMA_OUT && !prd_copy(ch, s->dma_buf, n, false)) {
        ide_dma_finish(ch, s, false);
        return;
    }
    ide_submit_buf(ch, s, s->xfer == XFER_DMA_IN ? IO_DMA_READ : IO_DMA_WRITE, s->dma_off, n,
                   true);
}

static void ide_dma_chunk_done(IDEChannel *ch, IDEState *s)
{
    if (s->xfer == XFER_DMA_IN && !prd_copy(ch, s->dma_buf, s->io_len, true)) {
        ide_dma_finish(ch, s, false);
        return;
    }
    s->dma_off += s->io_len;
    s->dma_left -= s->io_len;
    ide_dma_next(ch, s);
}

void ide_dma_run(IDEChannel *ch)
{
    IDEState *s = cur_dev(ch);
    bool to_mem = s->xfer == XFER_DMA_IN;
    bool cd = s->kind == IDE_CD;

    if (s->xfer != XFER_DMA_IN && s->xfer != XFER_DMA_OUT) {
        return;
    }
    if (s->io_busy || s->io_retry) {
        return;                                    /* already moving */
    }
    if (!(ch->bm_cmd & BM_CMD_START) || !to_mem != !(ch->bm_cmd & BM_CMD_READ)) {
        return;                                    /* not started, or direction mismatch */
    }
    ch->prd_next = ch->bm_prd;
    ch->prd_count = ch->prd_left = 0;
    ch->prd_eot = false;
    if (cd && s->atapi_buf_len) {
        /* An ATAPI reply: already in io_buffer. */
        ide_dma_finish(ch, s, prd_copy(ch, s->io_buffer, s->atapi_buf_len, true));
        return;
    }
    s->dma_off = (uint64_t)s->cur_lba * (cd ? ATAPI_SECTOR : IDE_SECTOR);
    s->dma_left = (uint64_t)s->remaining * (cd ? ATAPI_SECTOR : IDE_SECTOR);
    ide_dma_next(ch, s);
}

/* A request failed and the policy says the guest hears about it. */
static void ide_io_failed(IDEChannel *ch, IDEState *s, IDEIoOp op)
{
    bool is_read = ide_op_is_read(op);

    if (op == IO_DMA_READ || op == IO_DMA_WRITE) {
        ch->bm_status &= ~BM_ST_ACTIVE;
    }
    if (s->kind == IDE_CD) {
        atapi_read_failed(ch, s);
        return;
    }
    /* ATA-6 8.x error outputs: UNC for a read that failed, ABRT otherwise. */
    ide_abort(ch, s, is_read ? ER_UNC | ER_ABRT : ER_ABRT);
}

static void ide_aio_cb(void *opaque, int ret)
{
    IDEState *s = opaque;
    IDEChannel *ch = s->chan;
    IDEIoOp op = s->io_op;

    s->io_busy = false;
    if (s->io_cancel) {
        s->io_cancel = false;
        s->io_op = IO_NONE;
        return;
    }
    if (ret < 0) {
        bool is_read = ide_op_is_read(op);
        BlockErrorAction action = blk_get_error_action(s->blk, is_read, ret);
        blk_error_action(s->blk, action, is_read, -ret);
        if (action == BLOCK_ERROR_ACTION_STOP) {
            s->io_retry = true;                    /* stays BSY; cont resubmits */
            return;
        }
        if (action == BLOCK_ERROR_ACTION_REPORT) {
            s->io_op = IO_NONE;
            ide_io_failed(ch, s, op);
            return;
        }
        /* ignore: the guest sees success */
    }
    s->io_op = IO_NONE;
    switch (op) {
    case IO_PIO_IN:
        ide_pio_in_done(ch, s);
        break;
    case IO_PIO_OUT:
        ide_pio_out_done(ch, s);
        break;
    case IO_DMA_READ:
    case IO_DMA_WRITE:
        ide_dma_chunk_done(ch, s);
        break;
    case IO_FLUSH:
        ide_cmd_done(ch, s);
        break;
    case IO_CD_PIO:
        atapi_pio_loaded(ch, s);
        break;
    default:
        break;
    }
}

void ide_channel_resume(IDEChannel *ch)
{
    for (int i = 0; i < 2; i++) {
        IDEState *s = &ch->ifs[i];
        if (s->io_retry && s->blk) {
            s->io_retry = false;
            ide_resubmit(s);
        }
    }
}

/* ---- commands (ATA-6 chapter 8) ---------------------------------------------------- */

static bool ide_rw_setup(IDEChannel *ch, IDEState *s, bool lba48)
{
    uint64_t lba = ide_get_lba(s, lba48);
    uint32_t n = ide_get_count(s, lba48);

    if (lba == UINT64_MAX || lba >= s->nb_sectors || n > s->nb_sectors - lba) {
        ide_abort(ch, s, ER_IDNF);
        return false;
    }
    s->cur_lba = lba;
    s->remaining = n;
    s->lba48 = lba48;
    return true;
}

/*
 * A PACKET device implements the PACKET feature set's ATA commands (ATA-6 8.x, table in
 * annex "command matrix").  IDENTIFY DEVICE and READ SECTORS are aborted with the signature
 * in the task file, so a host that probes with them learns what it found (ATA-6 8.15.8).
 */
static void ide_exec_packet_dev_cmd(IDEChannel *ch, IDEState *s, uint8_t cmd)
{
    switch (cmd) {
    case 0xa0:                                     /* PACKET */
        atapi_packet_start(ch, s);
        break;
    case 0xa1:                                     /* IDENTIFY PACKET DEVICE */
        atapi_identify(s, s->io_buffer);
        s->remaining = 0;
        s->atapi_buf_len = 0;
        ide_set_drq(ch, s, XFER_PIO_IN, 0, IDE_SECTOR, true);
        break;
    case 0x08:                                     /* DEVICE RESET (ATA-6 8.10) */
        ide_reset_dev(s);
        s->status = 0;                             /* DRDY stays clear for PACKET devices */
        break;
    case 0xec: case 0x20: case 0x21:               /* IDENTIFY DEVICE, READ SECTORS */
        ide_set_signature(s);
        ide_abort(ch, s, ER_ABRT);
        break;
    case 0x90:                                     /* EXECUTE DEVICE DIAGNOSTIC */
        ide_set_signature(s);
        s->error = 0x01;
        ide_cmd_done(ch, s);
        break;
    case 0xef:                                     /* SET FEATURES */
        switch (s->feature) {
        case 0x03: s->xfer_mode = s->nsector; break;
        case 0x02: case 0x82: case 0x66: case 0xcc: case 0xaa: case 0x55: break;
        default:
            ide_abort(ch, s, ER_ABRT);
            return;
        }
        ide_cmd_done(ch, s);
        break;
    case 0xe5: case 0x98:                          /* CHECK POWER MODE */
        s->nsector = 0xff;
        ide_cmd_done(ch, s);
        break;
    case 0xe0: case 0xe1: case 0x94: case 0x95: case 0x00:  /* STANDBY/IDLE IMMED., NOP */
        ide_cmd_done(ch, s);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "ide-cd: ATA command 0x%02x aborted\n", cmd);
        ide_abort(ch, s, ER_ABRT);
        break;
    }
}

static void ide_exec_cmd(IDEChannel *ch, uint8_t cmd)
{
    IDEState *s = cur_dev(ch);
    bool lba48 = false;

    if (s->kind == IDE_NONE) {
        return;                                    /* no device: nothing answers */
    }
    if ((s->status & ST_BSY) && (cmd != 0x08 || s->kind != IDE_CD)) {
        return;                                    /* only DEVICE RESET gets through BSY */
    }
    s->error = 0;
    if (s->kind == IDE_CD) {
        ide_exec_packet_dev_cmd(ch, s, cmd);
        return;
    }
    switch (cmd) {
    case 0xec:                                     /* IDENTIFY DEVICE */
        ide_identify(s, s->io_buffer);
        s->remaining = 0;
        s->block = 1;
        ide_set_drq(ch, s, XFER_PIO_IN, 0, IDE_SECTOR, true);
        break;
    case 0x24: case 0x29:                          /* READ SECTORS/MULTIPLE EXT */
        lba48 = true;
        /* fall through */
    case 0x20: case 0x21: case 0xc4:               /* READ SECTORS, MULTIPLE */
        if ((cmd == 0xc4 || cmd == 0x29) && !s->mult_sectors) {
            ide_abort(ch, s, ER_ABRT);
            break;
        }
        if (ide_rw_setup(ch, s, lba48)) {
            s->block = (cmd == 0xc4 || cmd == 0x29) ? s->mult_sectors : 1;
            ide_pio_in_next(ch, s);
        }
        break;
    case 0x34: case 0x39:                          /* WRITE SECTORS/MULTIPLE EXT */
        lba48 = true;
        /* fall through */
    case 0x30: case 0x31: case 0xc5:
        if ((cmd == 0xc5 || cmd == 0x39) && !s->mult_sectors) {
            ide_abort(ch, s, ER_ABRT);
            break;
        }
        if (ide_rw_setup(ch, s, lba48)) {
            s->block = (cmd == 0xc5 || cmd == 0x39) ? s->mult_sectors : 1;
            ide_pio_out_setup(ch, s, false);
        }
        break;
    case 0x25: case 0x35:                          /* READ/WRITE DMA EXT */
        lba48 = true;
        /* fall through */
    case 0xc8: case 0xca:                          /* READ/WRITE DMA */
        if (ide_rw_setup(ch, s, lba48)) {
            ide_start_dma(ch, s, (cmd == 0xc8 || cmd == 0x25) ? XFER_DMA_IN : XFER_DMA_OUT);
        }
        break;
    case 0x42:                                     /* READ VERIFY SECTORS EXT */
        lba48 = true;
        /* fall through */
    case 0x40: case 0x41:
        if (ide_rw_setup(ch, s, lba48)) {
            ide_set_lba(s, s->cur_lba + s->remaining - 1, lba48);
            s->remaining = 0;
            ide_cmd_done(ch, s);
        }
        break;
    case 0xc6:                                     /* SET MULTIPLE MODE */
        if (s->nsector > IDE_MAX_MULT || (s->nsector & (s->nsector - 1))) {
            ide_abort(ch, s, ER_ABRT);
        } else {
            s->mult_sectors = s->nsector;
            ide_cmd_done(ch, s);
        }
        break;
    case 0xef:                                     /* SET FEATURES */
        switch (s->feature) {
        case 0x02: s->wcache = true; break;
        case 0x82: s->wcache = false; break;
        case 0x03: s->xfer_mode = s->nsector; break;
        case 0x66: case 0xcc: case 0xaa: case 0x55: break;
        default:
            ide_abort(ch, s, ER_ABRT);
            return;
        }
        ide_cmd_done(ch, s);
        break;
    case 0xe7: case 0xea:                          /* FLUSH CACHE (EXT) */
        ide_submit(ch, s, IO_FLUSH, 0, 0);
        break;
    case 0x91:                                     /* INITIALIZE DEVICE PARAMETERS */
        if (s->nsector == 0) {
            ide_abort(ch, s, ER_ABRT);
        } else {
            s->heads = (s->select & 0x0f) + 1;
            s->spt = s->nsector;
            ide_cmd_done(ch, s);
        }
        break;
    case 0xe5: case 0x98:                          /* CHECK POWER MODE: always active */
        s->nsector = 0xff;
        ide_cmd_done(ch, s);
        break;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3:    /* STANDBY/IDLE (IMMEDIATE) */
    case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x10 ... 0x1f:                            /* RECALIBRATE (obsolete) */
    case 0x70:                                     /* SEEK */
        ide_cmd_done(ch, s);
        break;
    case 0x90:                                     /* EXECUTE DEVICE DIAGNOSTIC */
        ide_set_signature(s);
        s->error = 0x01;
        ide_cmd_done(ch, s);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "ide: command 0x%02x aborted\n", cmd);
        ide_abort(ch, s, ER_ABRT);
        break;
    }
}

/* ---- registers ------------------------------------------------------------------- */

static uint32_t ide_data_read(IDEChannel *ch, unsigned size)
{
    IDEState *s = cur_dev(ch);
    uint32_t v = 0;

    if (s->xfer != XFER_PIO_IN || s->data_pos >= s->data_end) {
        return 0;
    }
    /* An ATAPI block may have an odd length: the last word is padded (SFF-8020i 7.1). */
    for (unsigned i = 0; i < size && s->data_pos + i < s->data_end; i++) {
        v |= (uint32_t)s->io_buffer[s->data_pos + i] << (8 * i);
    }
    s->data_pos = MIN(s->data_pos + size, s->data_end);
    if (s->data_pos >= s->data_end) {
        ide_pio_in_next(ch, s);
    }
    return v;
}

static void ide_data_write(IDEChannel *ch, uint32_t val, unsigned size)
{
    IDEState *s = cur_dev(ch);

    if ((s->xfer != XFER_PIO_OUT && s->xfer != XFER_PACKET) ||
        s->data_pos + size > s->data_end) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        s->io_buffer[s->data_pos + i] = val >> (8 * i);
    }
    s->data_pos += size;
    if (s->data_pos >= s->data_end) {
        if (s->xfer == XFER_PACKET) {
            atapi_packet_received(ch, s);
        } else {
            ide_pio_out_block_done(ch, s);
        }
    }
}

uint32_t ide_ioport_read(IDEChannel *ch, uint32_t addr, unsigned size)
{
    IDEState *s = cur_dev(ch);
    bool hob = ch->devctl & DC_HOB;

    if (addr == 0 && (size == 2 || size == 4)) {
        return ide_data_read(ch, size);
    }
    if (!ch->ifs[0].kind && !ch->ifs[1].kind) {
        /* Nothing on the cable: read 0 as QEMU does, so probes fail at once (devchk). */
        return 0;
    }
    switch (addr & 7) {
    case 0: return ide_data_read(ch, 1);
    case 1: return !s->kind ? 0 : hob ? s->hob_feature : s->error;
    case 2: return !s->kind ? 0 : hob ? s->hob_nsector : s->nsector;
    case 3: return !s->kind ? 0 : hob ? s->hob_sector : s->sector;
    case 4: return !s->kind ? 0 : hob ? s->hob_lcyl : s->lcyl;
    case 5: return !s->kind ? 0 : hob ? s->hob_hcyl : s->hcyl;
    case 6: return s->select;
    default:
        /* Reading Status acknowledges the interrupt (ATA-6 5.2.11). */
        ch->irq_pending = false;
        ide_update_irq(ch);
        return s->kind ? s->status : 0;
    }
}

void ide_ioport_write(IDEChannel *ch, uint32_t addr, uint32_t val, unsigned size)
{
    if (addr == 0 && (size == 2 || size == 4)) {
        ide_data_write(ch, val, size);
        return;
    }
    val &= 0xff;
    if ((addr & 7) >= 1 && (addr & 7) <= 6) {
        ch->devctl &= ~DC_HOB;                     /* a register write clears HOB (6.20) */
    }
    for (int i = 0; i < 2 && (addr & 7) != 0 && (addr & 7) != 7; i++) {
        IDEState *s = &ch->ifs[i];
        /* Both devices latch command-block writes; each keeps the previous value. */
        switch (addr & 7) {
        case 1: s->hob_feature = s->feature; s->feature = val; break;
        case 2: s->hob_nsector = s->nsector; s->nsector = val; break;
        case 3: s->hob_sector = s->sector; s->sector = val; break;
        case 4: s->hob_lcyl = s->lcyl; s->lcyl = val; break;
        case 5: s->hob_hcyl = s->hcyl; s->hcyl = val; break;
        case 6: s->select = (val & ~0x10) | 0xa0 | (i << 4); break;
        }
    }
    if ((addr & 7) == 6) {
        /* DEV (bit 4) is shared: remember it in both copies' view of who is selected. */
        ch->ifs[0].select = (ch->ifs[0].select & ~0x10) | (val & 0x10);
        ch->ifs[1].select = (ch->ifs[1].select & ~0x10) | (val & 0x10);
    } else if ((addr & 7) == 7) {
        ch->irq_pending = false;
        ide_update_irq(ch);
        ide_exec_cmd(ch, val);
    } else if ((addr & 7) == 0) {
        ide_data_write(ch, val, 1);
    }
}

uint8_t ide_altstatus_read(IDEChannel *ch)
{
    IDEState *s = cur_dev(ch);

    if (!ch->ifs[0].kind && !ch->ifs[1].kind) {
        return 0;
    }
    return s->kind ? s->status : 0;
}

void ide_devctl_write(IDEChannel *ch, uint8_t val)
{
    /* SRST: devices go busy while it is set and reset on its falling edge (ATA-6 9.2). */
    if (!(ch->devctl & DC_SRST) && (val & DC_SRST)) {
        for (int i = 0; i < 2; i++) {
            if (ch->ifs[i].kind) {
                ch->ifs[i].status = ST_BSY | ST_DSC;
            }
        }
    } else if ((ch->devctl & DC_SRST) && !(val & DC_SRST)) {
        for (int i = 0; i < 2; i++) {
            ide_reset_dev(&ch->ifs[i]);
            ch->ifs[i].select = (ch->ifs[i].select & ~0x10);
        }
        ch->irq_pending = false;
    }
    ch->devctl = val;
    ide_update_irq(ch);
}

/* ---- bus master ------------------------------------------------------------------ */

uint32_t ide_bm_read(IDEChannel *ch, uint32_t addr, unsigned size)
{
    uint8_t regs[8] = { ch->bm_cmd, 0, ch->bm_status, 0 };
    uint32_t v = 0;

    regs[4] = ch->bm_prd;
    regs[5] = ch->bm_prd >> 8;
    regs[6] = ch->bm_prd >> 16;
    regs[7] = ch->bm_prd >> 24;
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        v |= (uint32_t)regs[addr + i] << (8 * i);
    }
    return v;
}

void ide_bm_write(IDEChannel *ch, uint32_t addr, uint32_t val, unsigned size)
{
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        uint8_t b = val >> (8 * i);
        uint32_t a = addr + i;
        if (a == 0) {
            bool start = !(ch->bm_cmd & BM_CMD_START) && (b & BM_CMD_START);
            ch->bm_cmd = b & (BM_CMD_START | BM_CMD_READ);
            if (!(b & BM_CMD_START)) {
                IDEState *s = cur_dev(ch);
                /* A transfer cannot be cut off half-way on the disk: let it finish
                 * (SFF-8038i leaves this to the device; QEMU waits as well). */
                if (s->io_busy && (s->io_op == IO_DMA_READ || s->io_op == IO_DMA_WRITE)) {
                    blk_drain(s->blk);
                }
                ch->bm_status &= ~BM_ST_ACTIVE;
            } else if (start) {
                ch->bm_status |= BM_ST_ACTIVE;
                ide_dma_run(ch);
            }
        } else if (a == 2) {
            /* Bits 6:5 are read/write, Error and Interrupt are write-one-to-clear. */
            ch->bm_status = (ch->bm_status & ~0x60 & ~(b & (BM_ST_ERROR | BM_ST_INTR))) |
                            (b & 0x60);
        } else if (a >= 4) {
            int sh = 8 * (a - 4);
            ch->bm_prd = (ch->bm_prd & ~(0xffu << sh)) | ((uint32_t)b << sh);
            ch->bm_prd &= ~3u;                     /* dword aligned (SFF-8038i 3.1.3) */
        }
    }
}

/* ---- migration ------------------------------------------------------------------- */

/* A request werror/rerror=stop parked: what to resubmit, and a DMA's progress. */
static bool ide_retry_needed(void *opaque)
{
    return ((IDEState *)opaque)->io_retry;
}

static const VMStateDescription vmstate_ide_retry = {
    .name = "ide-drive/retry", .version_id = 1, .minimum_version_id = 1,
    .needed = ide_retry_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(io_retry, IDEState), VMSTATE_UINT8(io_op, IDEState),
        VMSTATE_BOOL(io_dma_buf, IDEState), VMSTATE_INT64(io_off, IDEState),
        VMSTATE_INT64(io_len, IDEState), VMSTATE_UINT64(dma_off, IDEState),
        VMSTATE_UINT64(dma_left, IDEState),
        VMSTATE_UINT8_ARRAY(dma_buf, IDEState, IDE_DMA_CHUNK),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_ide_state = {
    .name = "ide-drive", .version_id = 2, .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(feature, IDEState), VMSTATE_UINT8(error, IDEState),
        VMSTATE_UINT8(nsector, IDEState), VMSTATE_UINT8(sector, IDEState),
        VMSTATE_UINT8(lcyl, IDEState), VMSTATE_UINT8(hcyl, IDEState),
        VMSTATE_UINT8(select, IDEState), VMSTATE_UINT8(status, IDEState),
        VMSTATE_UINT8(hob_feature, IDEState), VMSTATE_UINT8(hob_nsector, IDEState),
        VMSTATE_UINT8(hob_sector, IDEState), VMSTATE_UINT8(hob_lcyl, IDEState),
        VMSTATE_UINT8(hob_hcyl, IDEState), VMSTATE_UINT8(mult_sectors, IDEState),
        VMSTATE_UINT8(heads, IDEState), VMSTATE_UINT8(spt, IDEState),
        VMSTATE_UINT8(xfer_mode, IDEState), VMSTATE_BOOL(wcache, IDEState),
        VMSTATE_BOOL(lba48, IDEState),
        VMSTATE_UINT32(xfer, IDEState), VMSTATE_UINT64(cur_lba, IDEState),
        VMSTATE_UINT32(remaining, IDEState), VMSTATE_UINT32(block, IDEState),
        VMSTATE_UINT32(data_pos, IDEState), VMSTATE_UINT32(data_end, IDEState),
        VMSTATE_UINT8_ARRAY(packet, IDEState, ATAPI_PACKET_SIZE),
        VMSTATE_UINT8(sense_key, IDEState), VMSTATE_UINT8(asc, IDEState),
        VMSTATE_UINT8(ascq, IDEState), VMSTATE_BOOL(atapi_dma, IDEState),
        VMSTATE_UINT16(byte_limit, IDEState), VMSTATE_UINT32(atapi_buf_len, IDEState),
        VMSTATE_BOOL(tray_open, IDEState), VMSTATE_BOOL(tray_locked, IDEState),
        VMSTATE_UINT8(unit_attention, IDEState), VMSTATE_UINT8(media_event, IDEState),
        VMSTATE_UINT8_ARRAY(io_buffer, IDEState, IDE_BUF_SIZE),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) { &vmstate_ide_retry, NULL },
};

/* Where the PRD walk stands, for a DMA parked by werror/rerror=stop. */
static bool ide_prd_needed(void *opaque)
{
    IDEChannel *ch = opaque;

    return ch->ifs[0].io_retry || ch->ifs[1].io_retry;
}

static const VMStateDescription vmstate_ide_prd = {
    .name = "ide-channel/prd", .version_id = 1, .minimum_version_id = 1,
    .needed = ide_prd_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(prd_next, IDEChannel), VMSTATE_UINT32(prd_count, IDEChannel),
        VMSTATE_UINT32(prd_left, IDEChannel), VMSTATE_UINT64(prd_addr, IDEChannel),
        VMSTATE_BOOL(prd_eot, IDEChannel),
        VMSTATE_END_OF_LIST()
    },
};

static int ide_channel_pre_save(void *opaque)
{
    IDEChannel *ch = opaque;

    /* Requests in flight finish first: their completion state is not in the stream. */
    for (int i = 0; i < 2; i++) {
        if (ch->ifs[i].io_busy && ch->ifs[i].blk) {
            blk_drain(ch->ifs[i].blk);
        }
    }
    return 0;
}

static int ide_channel_post_load(void *opaque, int version_id)
{
    IDEChannel *ch = opaque;

    for (int i = 0; i < 2; i++) {
        IDEState *s = &ch->ifs[i];
        if (s->io_retry &&
            (!s->blk || s->io_op == IO_NONE || s->io_op > IO_CD_PIO || s->io_len < 0 ||
             s->io_off < 0 || s->io_len > (s->io_dma_buf ? IDE_DMA_CHUNK : IDE_BUF_SIZE))) {
            return -1;                             /* a parked request that cannot be */
        }
        s->chan = ch;
        if (ch->prd_left > 0x10000 ||
            s->xfer > XFER_PACKET || s->data_end > IDE_BUF_SIZE || s->data_pos > s->data_end ||
            s->block > IDE_MAX_MULT || s->atapi_buf_len > IDE_BUF_SIZE ||
            (s->xfer == XFER_PACKET && s->data_end != ATAPI_PACKET_SIZE) ||
            (s->kind != IDE_CD && (s->xfer == XFER_PACKET || s->atapi_buf_len))) {
            return -1;                             /* hostile stream: refuse */
        }
    }
    ide_update_irq(ch);
    return 0;
}

const VMStateDescription vmstate_ide_channel = {
    .name = "ide-channel", .version_id = 2, .minimum_version_id = 2,
    .pre_save = ide_channel_pre_save,
    .post_load = ide_channel_post_load,
    .subsections = (const VMStateDescription *const[]) { &vmstate_ide_prd, NULL },
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(ifs, IDEChannel, 2, vmstate_ide_state, IDEState),
        VMSTATE_UINT8(devctl, IDEChannel), VMSTATE_BOOL(irq_pending, IDEChannel),
        VMSTATE_UINT8(bm_cmd, IDEChannel), VMSTATE_UINT8(bm_status, IDEChannel),
        VMSTATE_UINT32(bm_prd, IDEChannel),
        VMSTATE_END_OF_LIST()
    },
};
