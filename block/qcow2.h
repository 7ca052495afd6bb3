/*
 * qcow2: on-disk format (pure functions over buffers, block/qcow2-format.c) and the driver's
 * state (block/qcow2.c, qcow2-cluster.c, qcow2-refcount.c).
 *
 * Section references are to QEMU's docs/interop/qcow2.txt ("the spec").  Everything on disk
 * is big-endian.  Host offsets in L1/L2/refcount-table entries are cluster aligned.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include "kite/osdep.h"
#include "kite/error.h"

#define QCOW2_MAGIC             0x514649fbu     /* "QFI\xfb" */
#define QCOW2_V2_HEADER_SIZE    72
#define QCOW2_V3_HEADER_SIZE    104
#define QCOW2_MIN_CLUSTER_BITS  9
#define QCOW2_MAX_CLUSTER_BITS  21              /* 2 MiB, QEMU's limit */
#define QCOW2_MAX_BACKING_NAME  1023
/* QEMU's sanity limits (block/qcow2.h): bigger tables mean a corrupt or hostile image. */
#define QCOW2_MAX_L1_BYTES      (32 * MiB)
#define QCOW2_MAX_REFTABLE_BYTES (8 * MiB)
#define QCOW2_MAX_SNAPSHOTS     65536
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
/* Guest sizes are kept below 2^61 so offset arithmetic cannot overflow an int64_t. */
#define QCOW2_MAX_SIZE          (1ULL << 61)

/* Feature bits (spec "Header", bytes 72-95). */
#define QCOW2_INCOMPAT_DIRTY        (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ULL << 4)
#define QCOW2_INCOMPAT_SUPPORTED    (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | \
                                     QCOW2_INCOMPAT_COMPRESSION)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)
#define QCOW2_AUTOCLEAR_BITMAPS     (1ULL << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW    (1ULL << 1)

/* Header extension types (spec "Header extensions"). */
#define QCOW2_EXT_END               0x00000000u
#define QCOW2_EXT_BACKING_FORMAT    0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE     0x6803f857u
#define QCOW2_EXT_BITMAPS           0x23852875u
#define QCOW2_EXT_CRYPTO            0x0537be77u
#define QCOW2_EXT_DATA_FILE         0x44415441u

#define QCOW2_COMPRESSION_ZLIB      0
#define QCOW2_COMPRESSION_ZSTD      1

/* L1/L2 entries (spec "Cluster mapping"). */
#define QCOW_OFLAG_COPIED       (1ULL << 63)    /* refcount is exactly one: write in place */
#define QCOW_OFLAG_COMPRESSED   (1ULL << 62)
#define QCOW_OFLAG_ZERO         (1ULL << 0)     /* v3: reads as zeroes */
#define L1E_OFFSET_MASK         0x00fffffffffffe00ULL
#define L2E_OFFSET_MASK         0x00fffffffffffe00ULL
#define REFT_OFFSET_MASK        0xfffffffffffffe00ULL
#define L1E_RESERVED_MASK       0x7f000000000001ffULL
#define L2E_STD_RESERVED_MASK   0x3f000000000001feULL

/* Big-endian loads and stores on unaligned bytes. */
static inline uint16_t qcow2_ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return GUINT16_FROM_BE(v); }
static inline uint32_t qcow2_ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return GUINT32_FROM_BE(v); }
static inline uint64_t qcow2_ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return GUINT64_FROM_BE(v); }
static inline void qcow2_st16(uint8_t *p, uint16_t v) { v = GUINT16_TO_BE(v); memcpy(p, &v, 2); }
static inline void qcow2_st32(uint8_t *p, uint32_t v) { v = GUINT32_TO_BE(v); memcpy(p, &v, 4); }
static inline void qcow2_st64(uint8_t *p, uint64_t v) { v = GUINT64_TO_BE(v); memcpy(p, &v, 8); }

typedef struct Qcow2Header {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    /* v3 (v2 images read as: no features, refcount_order 4, header_length 72) */
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
} Qcow2Header;

/* Everything the header extensions say that Kite uses. */
typedef struct Qcow2Extensions {
    char backing_format[32];        /* empty if none */
    bool has_bitmaps;
    bool has_crypto;
    bool has_data_file;
    char unknown_incompat[256];     /* names of unsupported incompatible features, for errors */
} Qcow2Extensions;

/* What an L2 entry says about one cluster. */
typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,      /* backing file (or zeroes) */
    QCOW2_CLUSTER_ZERO_PLAIN,       /* zero flag, no host cluster */
    QCOW2_CLUSTER_ZERO_ALLOC,       /* zero flag, host cluster reserved */
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

typedef struct Qcow2Snapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str;
    char *name;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;             /* the guest size when taken (extra data, else current) */
    uint64_t icount;                /* instruction count (extra data), UINT64_MAX if none */
} Qcow2Snapshot;

/* --- qcow2-format.c: no I/O, safe on any bytes ------------------------------------ */

/* Decode the fixed header; buf holds len bytes from offset 0 (len >= 72). */
bool qcow2_header_decode(const uint8_t *buf, size_t len, Qcow2Header *h, Error **errp);
/*
 * Check every field against the spec and against file_size (the image file's length):
 * version, cluster_bits range, alignment and placement of the L1/refcount/snapshot tables,
 * sizes that would overflow, unknown incompatible features, encryption.  The first problem
 * found is reported.
 */
bool qcow2_header_validate(const Qcow2Header *h, int64_t file_size, Error **errp);
/* Walk the header extensions in the first cluster (buf holds the whole cluster). */
bool qcow2_parse_extensions(const uint8_t *buf, size_t len, const Qcow2Header *h,
                            Qcow2Extensions *ext, Error **errp);
/* Encode h (v3 layout when h->version == 3) into buf; returns the bytes written. */
size_t qcow2_header_encode(const Qcow2Header *h, uint8_t *buf);
/* Minimum number of L1 entries for a guest size (0 on overflow of the 32-bit field). */
uint64_t qcow2_l1_entries_for(uint64_t size, int cluster_bits);

Qcow2ClusterType qcow2_l2_entry_type(uint64_t l2e);
/* Host byte offset and compressed length of a compressed-cluster descriptor. */
void qcow2_compressed_decode(uint64_t l2e, int cluster_bits, uint64_t *host_off,
                             uint64_t *bytes);
/* Encode a compressed descriptor; false if the offset does not fit the field. */
bool qcow2_compressed_encode(uint64_t host_off, uint64_t bytes, int cluster_bits,
                             uint64_t *l2e);
/* Refcount entry i of a refcount block with 2^order-bit entries. */
uint64_t qcow2_refcount_get(const uint8_t *block, uint64_t i, int order);
void qcow2_refcount_set(uint8_t *block, uint64_t i, int order, uint64_t value);

/*
 * Parse the snapshot table (buf: len bytes read at snapshots_offset).  Fills *out with n
 * entries (free with qcow2_snapshots_free).  *table_bytes gets the table's size on disk.
 */
bool qcow2_snapshots_parse(const uint8_t *buf, size_t len, uint32_t n, uint64_t guest_size,
                           Qcow2Snapshot **out, uint64_t *table_bytes, Error **errp);
void qcow2_snapshots_free(Qcow2Snapshot *sn, uint32_t n);

/* Raw deflate (window bits -12, as QEMU writes it).  Return bytes out, or -1. */
ssize_t qcow2_deflate(const void *src, size_t src_len, void *dst, size_t dst_len);
int qcow2_inflate(const void *src, size_t src_len, void *dst, size_t dst_len);

/* --- the driver (qcow2.c, qcow2-cluster.c, qcow2-refcount.c, qcow2-check.c) --------- */

#include "block/block_int.h"

/* A small write-back cache of cluster-sized tables (L2 tables or refcount blocks). */
typedef struct Qcow2CacheEntry {
    uint64_t offset;                /* host offset of the table, 0 if the slot is empty */
    uint8_t *table;
    bool dirty;
    uint64_t lru;
} Qcow2CacheEntry;

typedef struct Qcow2Cache {
    Qcow2CacheEntry *entries;
    int size;
    uint64_t lru_counter;
} Qcow2Cache;

/* Kinds of metadata the overlap check protects (QEMU's "cached" overlap-check set). */
typedef enum Qcow2OverlapKind {
    QCOW2_OL_NONE,
    QCOW2_OL_MAIN_HEADER,
    QCOW2_OL_ACTIVE_L1,
    QCOW2_OL_ACTIVE_L2,
    QCOW2_OL_REFCOUNT_TABLE,
    QCOW2_OL_REFCOUNT_BLOCK,
    QCOW2_OL_SNAPSHOT_TABLE,
    QCOW2_OL_INACTIVE_L1,
    QCOW2_OL_COUNT,
} Qcow2OverlapKind;

/* A byte range of metadata; max_end is the furthest end of it and all ranges before it. */
typedef struct Qcow2OverlapRange {
    uint64_t start, end, max_end;
    Qcow2OverlapKind kind;
} Qcow2OverlapRange;

#define L2_CACHE_TABLES_DEFAULT 32     /* 16 GiB of guest with 64 KiB clusters */
#define RB_CACHE_BLOCKS_DEFAULT 8

typedef struct BDRVQcow2State {
    GMutex lock;                    /* all metadata; requests come from pool threads */
    /*
     * Guest data moves without the lock (its mapping is looked up under it).  Clusters are
     * only released by qcow2_apply_pending_frees, which waits for data_io to reach zero, so
     * a cluster cannot be reused while a request still reads or writes it.
     */
    int data_io;
    GCond data_io_cond;
    /*
     * Of data_io, the reads handed to the file's asynchronous path (qcow2_aio_rw).  They
     * complete under the BQL, so a BQL holder must not wait for them (see
     * qcow2_apply_pending_frees).
     */
    int data_aio;
    Qcow2Header header;
    int version;
    int cluster_bits;
    uint64_t cluster_size;
    int l2_bits;                    /* log2 of entries per L2 table */
    uint64_t l2_size;
    uint64_t size;                  /* guest size */

    uint64_t *l1_table;             /* host-endian copy */
    uint32_t l1_size;
    uint64_t l1_table_offset;
    bool l1_dirty;

    uint64_t *refcount_table;       /* host-endian copy */
    uint64_t refcount_table_size;   /* entries */
    uint64_t refcount_table_offset;
    int refcount_order;
    int refcount_block_bits;        /* log2 of entries per refcount block */
    uint64_t refcount_max;

    Qcow2Cache l2_cache;
    Qcow2Cache rb_cache;
    uint64_t free_cluster_index;    /* no free cluster below this (a search hint) */
    uint64_t free_byte_offset;      /* where the next compressed cluster may go, or 0 */
    GArray *pending_frees;          /* of uint64_t pairs (offset, bytes) */

    Qcow2Snapshot *snapshots;
    uint32_t nb_snapshots;
    uint64_t snapshots_size;        /* bytes of the table on disk */

    uint64_t incompat;
    uint64_t compat;
    uint64_t autoclear;
    bool lazy_refcounts;
    bool corrupt;                   /* metadata found broken: no more writes */
    bool check_quiet;               /* the repair on open prints nothing */
    char backing_format[32];
    /* Looks preallocated (more clusters referenced than the host file has blocks): block
     * status then asks the file where data clusters read as zero, as QEMU does. */
    bool metadata_prealloc, metadata_prealloc_checked;

    /* Metadata a data write must not hit (qcow2-overlap.c), besides L1/reftable/header. */
    GHashTable *overlap_clusters;   /* host cluster index -> active L2 / refcount block */
    Qcow2OverlapRange *overlap_ranges;  /* snapshot table, inactive L1s; sorted by start */
    size_t overlap_nranges;

    /* The last decompressed cluster (sequential reads of a compressed image). */
    uint8_t *cluster_cache;
    uint64_t cluster_cache_offset;  /* host offset of the descriptor, or UINT64_MAX */
    uint8_t *cluster_data;          /* scratch for compressed bytes */
} BDRVQcow2State;

/* qcow2-cache.c */
void qcow2_cache_init(Qcow2Cache *c, int size, uint64_t cluster_size);
void qcow2_cache_destroy(Qcow2Cache *c);
/*
 * The table at offset, read on a miss (or zero-filled if fresh: a newly allocated table).
 * Evicting a dirty L2 table first writes the refcount blocks (refcounts before references).
 */
uint8_t *qcow2_cache_peek(Qcow2Cache *c, uint64_t offset);
int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t offset, bool fresh,
                    uint8_t **table);
void qcow2_cache_mark_dirty(Qcow2Cache *c, uint8_t *table);
/* Write every dirty table: the number written, or -errno. */
int qcow2_cache_writeback(BlockDriverState *bs, Qcow2Cache *c);
/* Forget a table (freed cluster) without writing it. */
void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset);

/* qcow2-refcount.c */
int qcow2_refcount_init(BlockDriverState *bs, Error **errp);
int qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster_index, uint64_t *refcount);
/* Add delta to the refcount of every cluster touching [offset, offset+bytes). */
int qcow2_update_refcount(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int64_t delta);
/* n contiguous new clusters with refcount 1: host offset, or -errno. */
int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n);
/* Bytes for compressed data (may share a cluster with other compressed data). */
int64_t qcow2_alloc_bytes(BlockDriverState *bs, uint64_t bytes);
/* Drop one reference to what l2e points at once the L2 change is on disk (next flush). */
void qcow2_free_entry_deferred(BlockDriverState *bs, uint64_t l2e);
void qcow2_free_deferred(BlockDriverState *bs, uint64_t offset, uint64_t bytes);
int qcow2_apply_pending_frees(BlockDriverState *bs);

/* qcow2-check.c */
int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix);

/* qcow2-cluster.c */
/* The L2 entry for a guest offset (0 if no L2 table); -errno on corrupt metadata. */
int qcow2_get_l2_entry(BlockDriverState *bs, uint64_t guest_off, uint64_t *l2e);
bool qcow2_peek_normal_l2_entry(BlockDriverState *bs, uint64_t guest_off, uint64_t *l2e);
/*
 * The L2 table slot for guest_off, allocating or copying the L2 table (COW of a table a
 * snapshot shares) so it can be changed.  *table stays valid until the next cache call.
 */
int qcow2_get_l2_for_write(BlockDriverState *bs, uint64_t guest_off, uint8_t **table,
                           uint64_t *index);
int qcow2_grow_l1(BlockDriverState *bs, uint64_t min_size);
/* Mark the image corrupt (once, with a message); returns -EIO for the caller to pass on. */
int qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Write back refcount blocks, L2 tables, L1 in that order with flushes between. */
int qcow2_flush_metadata(BlockDriverState *bs);
/* Write header fields in place (keeps header extensions). */
int qcow2_write_header_u64(BlockDriverState *bs, int offset, uint64_t value);
int qcow2_write_header_u32(BlockDriverState *bs, int offset, uint32_t value);

/* qcow2-overlap.c */
/* Index the metadata from the L1 table, refcount table and snapshot table (after open). */
void qcow2_overlap_rebuild(BlockDriverState *bs);
void qcow2_overlap_free(BDRVQcow2State *s);
/* Record/forget one cluster of metadata (an L1 or refcount-table entry changed). */
void qcow2_overlap_add(BDRVQcow2State *s, uint64_t offset, Qcow2OverlapKind kind);
void qcow2_overlap_remove(BDRVQcow2State *s, uint64_t offset);
/* The metadata [host, host+len) would overwrite, or QCOW2_OL_NONE. */
Qcow2OverlapKind qcow2_overlap_check(BDRVQcow2State *s, uint64_t host, uint64_t len);
const char *qcow2_overlap_name(Qcow2OverlapKind kind);
/* As QEMU: a write onto metadata marks the image corrupt and fails with -EIO. */
int qcow2_prevent_overlap(BlockDriverState *bs, uint64_t host, uint64_t len);

/* qcow2-open.c */
int qcow2_open(BlockDriverState *bs, KiteOpts *opts, int flags, Error **errp);
void qcow2_close(BlockDriverState *bs);
int qcow2_create(const char *filename, KiteOpts *opts, Error **errp);

/* qcow2.c: write one whole guest cluster compressed (kite-img convert -c). */
int qcow2_pwrite_compressed(BlockDriverState *bs, int64_t offset, const void *buf,
                            int64_t bytes);

#endif
