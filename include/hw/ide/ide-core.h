/*
 * ATA device state machine (task-file registers, PIO and bus-master DMA data phases) shared
 * by the PIIX3 IDE function and its tests.  Pure state: the channel passes in plain buffers
 * and a BlockBackend, so the machine can be driven without a guest (fuzzing).
 *
 * References: ATA/ATAPI-6 (T13/1410D) chapters 6-9 (register and protocol semantics,
 * commands), SFF-8038i rev 1.0 (bus-master IDE).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_IDE_IDE_CORE_H
#define HW_IDE_IDE_CORE_H

#include "block/block.h"
#include "hw/irq.h"
#include "kite/vmstate.h"

#define TYPE_IDE_BUS "IDE"
#define TYPE_IDE_DEVICE "ide-device"
#define TYPE_IDE_HD "ide-hd"
#define TYPE_IDE_CD "ide-cd"

#define IDE_SECTOR 512
#define IDE_MAX_MULT 16                            /* sectors per DRQ block at most */
#define IDE_BUF_SIZE (IDE_MAX_MULT * IDE_SECTOR)
#define ATAPI_SECTOR 2048                          /* CD/DVD logical block (MMC) */
#define ATAPI_PACKET_SIZE 12

/* Status register bits (ATA-6 7.15.6). */
#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80
/* Error register bits. */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC  0x40
/* Device control register. */
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB  0x80

/* SFF-8038i bus-master registers. */
#define BM_CMD_START 0x01
#define BM_CMD_READ  0x08                          /* 1: device -> memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR  0x02
#define BM_ST_INTR   0x04
#define BM_PRD_MAX   8192                          /* a PRD table is at most 64 KiB */

typedef enum IDEXfer {
    XFER_NONE,
    XFER_PIO_IN,
    XFER_PIO_OUT,
    XFER_DMA_IN,                                   /* disk -> memory */
    XFER_DMA_OUT,
    XFER_PACKET,                                   /* ATAPI: host -> device command packet */
} IDEXfer;

/* What the request in flight completes (ide-core.c, ide_aio_cb). */
typedef enum IDEIoOp {
    IO_NONE,
    IO_PIO_IN,                                     /* ATA: a DRQ block read into io_buffer */
    IO_PIO_OUT,                                    /* ATA: a DRQ block written */
    IO_DMA_READ,                                   /* a DMA chunk into dma_buf */
    IO_DMA_WRITE,
    IO_FLUSH,
    IO_CD_PIO,                                     /* ATAPI: CD sectors into io_buffer */
} IDEIoOp;

#define IDE_DMA_CHUNK (128 * 1024)                 /* bytes per DMA request to the disk */

struct IDEChannel;

typedef enum IDEDriveKind {
    IDE_NONE,                                      /* nothing at this position */
    IDE_HD,                                        /* ATA disk */
    IDE_CD,                                        /* ATAPI CD/DVD-ROM (hw/ide/atapi.c) */
} IDEDriveKind;

typedef struct IDEState {
    uint8_t kind;                                  /* IDEDriveKind */
    BlockBackend *blk;                             /* NULL: no device, or an empty CD drive */
    uint64_t nb_sectors;
    char serial[21];
    /* Task file (the HOB copies are the previous writes, ATA-6 6.20). */
    uint8_t feature, error, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t mult_sectors;                          /* 0: READ/WRITE MULTIPLE disabled */
    uint8_t heads, spt;                            /* translation (INITIALIZE DEVICE PARAMS) */
    uint8_t xfer_mode;                             /* SET FEATURES 03h */
    bool wcache;
    /* Data phase. */
    uint32_t xfer;                                 /* IDEXfer */
    bool lba48;                                    /* the command in progress is EXT */
    uint64_t cur_lba;
    uint32_t remaining;                            /* sectors still to move after the buffer */
    uint32_t block;                                /* sectors per DRQ block */
    uint32_t data_pos, data_end;
    /* ATAPI (SFF-8020i / MMC): the packet, sense data, tray and media-event state. */
    uint8_t packet[ATAPI_PACKET_SIZE];
    uint8_t sense_key, asc, ascq;
    bool atapi_dma;                                /* the packet's data phase uses DMA */
    uint16_t byte_limit;                           /* bytes per DRQ block (cylinder regs) */
    uint32_t atapi_buf_len;                        /* reply/sector bytes held in io_buffer */
    bool tray_open, tray_locked;
    uint8_t unit_attention;                        /* medium changed: 1 report NOT READY,
                                                      2 then UNIT ATTENTION, 0 done */
    uint8_t media_event;                           /* GESN media event code pending, 0 none */
    /*
     * Asynchronous I/O: one request at a time, BSY while it runs; the vCPU never waits
     * for the disk.  Saving drains first (pre_save); a request parked by werror/rerror=
     * stop is migrated (subsection) and resubmitted when the destination runs.
     */
    struct IDEChannel *chan;                       /* for the completion */
    uint8_t io_op;                                 /* IDEIoOp */
    bool io_busy;                                  /* submitted, callback not run yet */
    bool io_cancel;                                /* reset while in flight: drop result */
    bool io_retry;                                 /* werror/rerror=stop: again on cont */
    bool io_dma_buf;                               /* the buffer is dma_buf, else io_buffer */
    int64_t io_off, io_len;
    uint64_t dma_off, dma_left;                    /* disk bytes of the DMA still to move */
    uint8_t dma_buf[IDE_DMA_CHUNK];                /* one DMA chunk on its way */
    uint8_t io_buffer[IDE_BUF_SIZE];
} IDEState;

/* One channel: two device positions, the device control register and bus-master regs. */
typedef struct IDEChannel {
    IDEState ifs[2];
    uint8_t devctl;
    bool irq_pending;
    IRQState *irq;
    /* Bus master (SFF-8038i 3.1): the DMA engine is owned by the PCI function. */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
    void *dma_opaque;
    /* Copy len bytes between guest memory and buf; false if the bus refused. */
    bool (*dma_rw)(void *opaque, uint64_t addr, void *buf, uint32_t len, bool to_mem);
    /* Where the PRD walk of the running transfer is (SFF-8038i 3.2). */
    uint32_t prd_next, prd_count, prd_left;
    uint64_t prd_addr;
    bool prd_eot;
} IDEChannel;

extern const VMStateDescription vmstate_ide_channel;

void ide_channel_reset(IDEChannel *ch);
/* Command block (offset 0..7 from 0x1f0/0x170), size 1, 2 or 4 (data port only). */
uint32_t ide_ioport_read(IDEChannel *ch, uint32_t addr, unsigned size);
void ide_ioport_write(IDEChannel *ch, uint32_t addr, uint32_t val, unsigned size);
/* Control block: alternate status (read) and device control (write). */
uint8_t ide_altstatus_read(IDEChannel *ch);
void ide_devctl_write(IDEChannel *ch, uint8_t val);
/* Bus-master registers at offset 0..7 of this channel's half of BAR4. */
uint32_t ide_bm_read(IDEChannel *ch, uint32_t addr, unsigned size);
void ide_bm_write(IDEChannel *ch, uint32_t addr, uint32_t val, unsigned size);
/* Attach a device to a position (realize of ide-hd/ide-cd); IDE_NONE detaches. */
void ide_attach(IDEState *s, IDEDriveKind kind, BlockBackend *blk, const char *serial);
/* A CD's medium was inserted (the tray closes) or removed (the tray opens) behind the
 * guest's back: unit attention and a GESN media event follow (MMC-6 6.6, 6.29). */
void ide_cd_medium_changed(IDEState *s, bool loaded);
/* The user asked for the tray while the guest locks it: a GESN EjectRequest event; force
 * also unlocks it (QEMU's eject_request_cb). */
void ide_cd_eject_request(IDEState *s, bool force);
/* The VM runs again: resubmit requests werror/rerror=stop parked. */
void ide_channel_resume(IDEChannel *ch);

/* ---- shared between ide-core.c and atapi.c (not for devices) ----------------------- */
void ide_raise_irq(IDEChannel *ch);
void ide_set_signature(IDEState *s);
void ide_put_str(uint16_t *w, int nwords, const char *str);
void ide_dma_run(IDEChannel *ch);
/*
 * The state changes every ATA and ATAPI command path shares (ATA-6 9.x protocols):
 * ide_set_drq() opens a PIO data phase (DRQ, io_buffer[pos, end) to be read or written;
 * the interrupt now when irq); ide_stop_xfer() ends any data phase with the given
 * status; ide_start_dma() opens a DMA data phase and runs it if the bus master is ready.
 */
void ide_set_drq(IDEChannel *ch, IDEState *s, IDEXfer xfer, uint32_t pos, uint32_t end,
                 bool irq);
void ide_stop_xfer(IDEState *s, uint8_t status);
void ide_start_dma(IDEChannel *ch, IDEState *s, IDEXfer xfer);
/* PACKET (A0h) accepted: wait for the command packet. */
void atapi_packet_start(IDEChannel *ch, IDEState *s);
/* The 12 packet bytes are in io_buffer: run the command. */
void atapi_packet_received(IDEChannel *ch, IDEState *s);
/* A PIO DRQ block was drained (or none started yet): next block or completion. */
void atapi_pio_next(IDEChannel *ch, IDEState *s);
/* Read len bytes at off into io_buffer asynchronously; op's completion follows. */
void ide_submit(IDEChannel *ch, IDEState *s, IDEIoOp op, int64_t off, int64_t len);
/* IO_CD_PIO finished: io_buffer holds the sectors. */
void atapi_pio_loaded(IDEChannel *ch, IDEState *s);
/* A read failed and rerror says report. */
void atapi_read_failed(IDEChannel *ch, IDEState *s);
/* DMA finished (ok) or failed. */
void atapi_dma_done(IDEChannel *ch, IDEState *s, bool ok);
void atapi_identify(IDEState *s, uint8_t *buf);

#endif
