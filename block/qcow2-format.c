/*
 * qcow2 on-disk structures as plain functions over byte buffers: header decode, validation
 * and encode, header extensions, L2 entries, compressed-cluster descriptors, refcount
 * entries of any width, the snapshot table and raw deflate.  Nothing here does I/O, so unit
 * tests and fuzzers can feed it arbitrary bytes.
 * Sections cited are those of QEMU's docs/interop/qcow2.txt.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include <zlib.h>

/* ------------------------------------------------------------------ header */

bool qcow2_header_decode(const uint8_t *buf, size_t len, Qcow2Header *h, Error **errp)
{
    memset(h, 0, sizeof(*h));
    if (len < QCOW2_V2_HEADER_SIZE) {
        error_setg(errp, "qcow2 image is truncated: %zu bytes, the header needs %d",
                   len, QCOW2_V2_HEADER_SIZE);
        return false;
    }
    h->magic = qcow2_ld32(buf);
    h->version = qcow2_ld32(buf + 4);
    h->backing_file_offset = qcow2_ld64(buf + 8);
    h->backing_file_size = qcow2_ld32(buf + 16);
    h->cluster_bits = qcow2_ld32(buf + 20);
    h->size = qcow2_ld64(buf + 24);
    h->crypt_method = qcow2_ld32(buf + 32);
    h->l1_size = qcow2_ld32(buf + 36);
    h->l1_table_offset = qcow2_ld64(buf + 40);
    h->refcount_table_offset = qcow2_ld64(buf + 48);
    h->refcount_table_clusters = qcow2_ld32(buf + 56);
    h->nb_snapshots = qcow2_ld32(buf + 60);
    h->snapshots_offset = qcow2_ld64(buf + 64);
    if (h->magic != QCOW2_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return false;
    }
    if (h->version == 2) {
        /* Spec "Header": a version 2 image has these implied values. */
        h->refcount_order = 4;
        h->header_length = QCOW2_V2_HEADER_SIZE;
        return true;
    }
    if (h->version != 3) {
        error_setg(errp, "Unsupported qcow2 version %" PRIu32, h->version);
        return false;
    }
    if (len < QCOW2_V3_HEADER_SIZE) {
        error_setg(errp, "qcow2 image is truncated: %zu bytes, the v3 header needs %d",
                   len, QCOW2_V3_HEADER_SIZE);
        return false;
    }
    h->incompatible_features = qcow2_ld64(buf + 72);
    h->compatible_features = qcow2_ld64(buf + 80);
    h->autoclear_features = qcow2_ld64(buf + 88);
    h->refcount_order = qcow2_ld32(buf + 96);
    h->header_length = qcow2_ld32(buf + 100);
    /* Byte 104 exists only in headers longer than 104 bytes (spec "Additional fields"). */
    if (h->header_length > 104 && len > 104) {
        h->compression_type = buf[104];
    }
    return true;
}

uint64_t qcow2_l1_entries_for(uint64_t size, int cluster_bits)
{
    int shift = cluster_bits + (cluster_bits - 3);      /* bytes one L2 table maps */
    uint64_t n = (size + (1ULL << shift) - 1) >> shift;

    return n > UINT32_MAX ? 0 : n;
}

/* A table of bytes at offset: cluster aligned, outside the header cluster, inside the file. */
static bool check_table(const char *what, uint64_t offset, uint64_t bytes,
                        uint64_t cluster_size, int64_t file_size, Error **errp)
{
    if (offset & (cluster_size - 1)) {
        error_setg(errp, "%s offset %#" PRIx64 " is not cluster aligned", what, offset);
        return false;
    }
    if (offset < cluster_size) {
        error_setg(errp, "%s at offset %#" PRIx64 " overlaps the image header", what, offset);
        return false;
    }
    if (offset > QCOW2_MAX_SIZE || bytes > QCOW2_MAX_SIZE ||
        (file_size >= 0 && offset + bytes > (uint64_t)file_size)) {
        error_setg(errp, "%s (offset %#" PRIx64 ", %" PRIu64 " bytes) is beyond the end "
                   "of the image file", what, offset, bytes);
        return false;
    }
    return true;
}

static const char *incompat_name(int bit)
{
    switch (bit) {
    case 0: return "dirty bit";
    case 1: return "corrupt bit";
    case 2: return "external data file";
    case 3: return "compression type";
    case 4: return "extended L2 entries";
    default: return NULL;
    }
}

bool qcow2_header_validate(const Qcow2Header *h, int64_t file_size, Error **errp)
{
    uint64_t cluster_size, need;

    if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        error_setg(errp, "Unsupported cluster size: 2^%" PRIu32 " (cluster_bits must be "
                   "%d to %d)", h->cluster_bits, QCOW2_MIN_CLUSTER_BITS,
                   QCOW2_MAX_CLUSTER_BITS);
        return false;
    }
    cluster_size = 1ULL << h->cluster_bits;
    if (h->version == 3) {
        if (h->header_length < QCOW2_V3_HEADER_SIZE) {
            error_setg(errp, "qcow2 header too short (header_length %" PRIu32 ")",
                       h->header_length);
            return false;
        }
        if (h->header_length > cluster_size) {
            error_setg(errp, "qcow2 header exceeds cluster size");
            return false;
        }
    }
    if (file_size >= 0 && (uint64_t)file_size < h->header_length) {
        error_setg(errp, "qcow2 image is truncated (%" PRId64 " bytes)", file_size);
        return false;
    }
    if (h->incompatible_features & ~QCOW2_INCOMPAT_SUPPORTED) {
        uint64_t bad = h->incompatible_features & ~QCOW2_INCOMPAT_SUPPORTED;
        int bit = __builtin_ctzll(bad);
        const char *name = incompat_name(bit);
        if (name) {
            error_setg(errp, "Unsupported qcow2 feature(s): %s", name);
        } else {
            error_setg(errp, "Unsupported qcow2 feature(s): Unknown incompatible feature: "
                       "%" PRIx64, bad);
        }
        return false;
    }
    if (h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) {
        if (h->compression_type == QCOW2_COMPRESSION_ZSTD) {
            error_setg(errp, "qcow2 compression type zstd is not supported (only zlib)");
            return false;
        }
        if (h->compression_type == QCOW2_COMPRESSION_ZLIB) {
            error_setg(errp, "qcow2: Compression type incompatible feature bit must not "
                       "be set for zlib");
            return false;
        }
        error_setg(errp, "qcow2: unknown compression type %u", h->compression_type);
        return false;
    } else if (h->compression_type != QCOW2_COMPRESSION_ZLIB) {
        error_setg(errp, "qcow2: compression type %u without its incompatible feature bit",
                   h->compression_type);
        return false;
    }
    if (h->refcount_order > 6) {
        error_setg(errp, "Refcount width can be at most 64 bits (refcount_order %" PRIu32
                   ")", h->refcount_order);
        return false;
    }
    if (h->crypt_method) {
        error_setg(errp, "Encrypted qcow2 images are not supported (crypt_method %" PRIu32
                   ")", h->crypt_method);
        return false;
    }
    if (h->size > QCOW2_MAX_SIZE) {
        error_setg(errp, "Image size too large: %" PRIu64 " bytes", h->size);
        return false;
    }
    if ((uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        error_setg(errp, "Active L1 table too large (%" PRIu32 " entries)", h->l1_size);
        return false;
    }
    need = qcow2_l1_entries_for(h->size, h->cluster_bits);
    if (need == 0 && h->size) {
        error_setg(errp, "Image size too large for cluster size %" PRIu64, cluster_size);
        return false;
    }
    if (h->l1_size < need) {
        error_setg(errp, "L1 table is too small (%" PRIu32 " entries, the image size needs "
                   "%" PRIu64 ")", h->l1_size, need);
        return false;
    }
    if (h->l1_size && !check_table("L1 table", h->l1_table_offset, (uint64_t)h->l1_size * 8,
                                   cluster_size, file_size, errp)) {
        return false;
    }
    if (h->refcount_table_clusters == 0) {
        error_setg(errp, "Image does not contain a reference count table");
        return false;
    }
    if ((uint64_t)h->refcount_table_clusters * cluster_size > QCOW2_MAX_REFTABLE_BYTES) {
        error_setg(errp, "Reference count table too large (%" PRIu32 " clusters)",
                   h->refcount_table_clusters);
        return false;
    }
    if (!check_table("Reference count table", h->refcount_table_offset,
                     (uint64_t)h->refcount_table_clusters * cluster_size, cluster_size,
                     file_size, errp)) {
        return false;
    }
    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots (%" PRIu32 ")", h->nb_snapshots);
        return false;
    }
    /* Each snapshot entry is at least 40 bytes (spec "Snapshots"). */
    if (h->nb_snapshots && !check_table("Snapshot table", h->snapshots_offset,
                                        (uint64_t)h->nb_snapshots * 40, cluster_size,
                                        file_size, errp)) {
        return false;
    }
    if (h->backing_file_offset) {
        if (h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
            h->backing_file_offset > cluster_size ||
            h->backing_file_offset + h->backing_file_size > cluster_size) {
            error_setg(errp, "Backing file name (offset %#" PRIx64 ", %" PRIu32 " bytes) "
                       "is not inside the first cluster or too long",
                       h->backing_file_offset, h->backing_file_size);
            return false;
        }
    }
    return true;
}

size_t qcow2_header_encode(const Qcow2Header *h, uint8_t *buf)
{
    size_t len = h->version >= 3 ? 112 : QCOW2_V2_HEADER_SIZE;

    memset(buf, 0, len);
    qcow2_st32(buf, QCOW2_MAGIC);
    qcow2_st32(buf + 4, h->version);
    qcow2_st64(buf + 8, h->backing_file_offset);
    qcow2_st32(buf + 16, h->backing_file_size);
    qcow2_st32(buf + 20, h->cluster_bits);
    qcow2_st64(buf + 24, h->size);
    qcow2_st32(buf + 32, h->crypt_method);
    qcow2_st32(buf + 36, h->l1_size);
    qcow2_st64(buf + 40, h->l1_table_offset);
    qcow2_st64(buf + 48, h->refcount_table_offset);
    qcow2_st32(buf + 56, h->refcount_table_clusters);
    qcow2_st32(buf + 60, h->nb_snapshots);
    qcow2_st64(buf + 64, h->snapshots_offset);
    if (h->version >= 3) {
        qcow2_st64(buf + 72, h->incompatible_features);
        qcow2_st64(buf + 80, h->compatible_features);
        qcow2_st64(buf + 88, h->autoclear_features);
        qcow2_st32(buf + 96, h->refcount_order);
        /* 112: the compression type byte plus padding to a multiple of 8, as QEMU writes. */
        qcow2_st32(buf + 100, 112);
        buf[104] = h->compression_type;
    }
    return len;
}

/* ------------------------------------------------------- header extensions */

bool qcow2_parse_extensions(const uint8_t *buf, size_t len, const Qcow2Header *h,
                            Qcow2Extensions *ext, Error **errp)
{
    size_t off = h->header_length;
    size_t end = MIN(len, (size_t)1 << h->cluster_bits);

    memset(ext, 0, sizeof(*ext));
    /* The backing file name, if any, follows the extensions (spec "Header extensions"). */
    if (h->backing_file_offset && h->backing_file_offset < end) {
        end = h->backing_file_offset;
    }
    while (off + 8 <= end) {
        uint32_t type = qcow2_ld32(buf + off);
        uint32_t elen = qcow2_ld32(buf + off + 4);
        const uint8_t *data = buf + off + 8;

        if (type == QCOW2_EXT_END) {
            break;
        }
        if (elen > end - off - 8) {
            error_setg(errp, "qcow2 header extension %#" PRIx32 " (%" PRIu32 " bytes) runs "
                       "past the header area", type, elen);
            return false;
        }
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (elen >= sizeof(ext->backing_format)) {
                error_setg(errp, "qcow2 backing format name too long (%" PRIu32 " bytes)",
                           elen);
                return false;
            }
            memcpy(ext->backing_format, data, elen);
            ext->backing_format[elen] = 0;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            /* 48-byte entries: type, bit number, 46-byte name (spec "Feature name table"). */
            for (uint32_t i = 0; i + 48 <= elen; i += 48) {
                uint64_t bit = data[i + 1];
                if (data[i] == 0 && bit < 64 &&
                    (h->incompatible_features & ~QCOW2_INCOMPAT_SUPPORTED & (1ULL << bit))) {
                    size_t n = strlen(ext->unknown_incompat);
                    snprintf(ext->unknown_incompat + n, sizeof(ext->unknown_incompat) - n,
                             "%s%.46s", n ? ", " : "", (const char *)data + i + 2);
                }
            }
            break;
        case QCOW2_EXT_BITMAPS:
            ext->has_bitmaps = true;
            break;
        case QCOW2_EXT_CRYPTO:
            ext->has_crypto = true;
            break;
        case QCOW2_EXT_DATA_FILE:
            ext->has_data_file = true;
            break;
        default:
            break;      /* unknown extensions are ignored (and dropped on header rewrite) */
        }
        off += 8 + ROUND_UP((size_t)elen, 8);
    }
    return true;
}

/* ---------------------------------------------------------------- entries */

Qcow2ClusterType qcow2_l2_entry_type(uint64_t l2e)
{
    if (l2e & QCOW_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    if (l2e & QCOW_OFLAG_ZERO) {
        return (l2e & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    return (l2e & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

/*
 * Spec "Compressed Clusters Descriptor": with x = 62 - (cluster_bits - 8), bits 0..x-1 are
 * the host byte offset and bits x..61 the number of 512-byte sectors used beyond the one
 * holding the offset.
 */
void qcow2_compressed_decode(uint64_t l2e, int cluster_bits, uint64_t *host_off,
                             uint64_t *bytes)
{
    int x = 62 - (cluster_bits - 8);
    uint64_t off = l2e & ((1ULL << x) - 1);
    uint64_t nsect = ((l2e >> x) & ((1ULL << (cluster_bits - 8)) - 1)) + 1;

    *host_off = off;
    *bytes = nsect * 512 - (off & 511);
}

bool qcow2_compressed_encode(uint64_t host_off, uint64_t bytes, int cluster_bits,
                             uint64_t *l2e)
{
    int x = 62 - (cluster_bits - 8);
    uint64_t extra = ((host_off + bytes - 1) >> 9) - (host_off >> 9);

    if (bytes == 0 || host_off >= (1ULL << x) || extra >= (1ULL << (cluster_bits - 8))) {
        return false;
    }
    *l2e = QCOW_OFLAG_COMPRESSED | (extra << x) | host_off;
    return true;
}

/* Spec "Refcount blocks": entries are 2^order bits wide, big-endian for order >= 3. */
uint64_t qcow2_refcount_get(const uint8_t *block, uint64_t i, int order)
{
    switch (order) {
    case 3: return block[i];
    case 4: return qcow2_ld16(block + i * 2);
    case 5: return qcow2_ld32(block + i * 4);
    case 6: return qcow2_ld64(block + i * 8);
    default: {
        int bits = 1 << order;
        int per_byte = 8 / bits;
        int shift = (i % per_byte) * bits;
        return (block[i / per_byte] >> shift) & ((1 << bits) - 1);
    }
    }
}

void qcow2_refcount_set(uint8_t *block, uint64_t i, int order, uint64_t value)
{
    switch (order) {
    case 3: block[i] = value; break;
    case 4: qcow2_st16(block + i * 2, value); break;
    case 5: qcow2_st32(block + i * 4, value); break;
    case 6: qcow2_st64(block + i * 8, value); break;
    default: {
        int bits = 1 << order;
        int per_byte = 8 / bits;
        int shift = (i % per_byte) * bits;
        uint8_t mask = ((1 << bits) - 1) << shift;
        block[i / per_byte] = (block[i / per_byte] & ~mask) | ((value << shift) & mask);
        break;
    }
    }
}

/* --------------------------------------------------------------- snapshots */

bool qcow2_snapshots_parse(const uint8_t *buf, size_t len, uint32_t n, uint64_t guest_size,
                           Qcow2Snapshot **out, uint64_t *table_bytes, Error **errp)
{
    Qcow2Snapshot *sn = g_new0(Qcow2Snapshot, MAX(n, 1));
    size_t off = 0;

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = buf + off;
        uint32_t extra, id_len, name_len;

        /* Spec "Snapshot table entry": 40 fixed bytes, extra data, id, name, padding. */
        if (len - off < 40) {
            error_setg(errp, "Snapshot table entry %" PRIu32 " is truncated", i);
            goto fail;
        }
        sn[i].l1_table_offset = qcow2_ld64(e);
        sn[i].l1_size = qcow2_ld32(e + 8);
        id_len = qcow2_ld16(e + 12);
        name_len = qcow2_ld16(e + 14);
        sn[i].date_sec = qcow2_ld32(e + 16);
        sn[i].date_nsec = qcow2_ld32(e + 20);
        sn[i].vm_clock_nsec = qcow2_ld64(e + 24);
        sn[i].vm_state_size = qcow2_ld32(e + 32);
        extra = qcow2_ld32(e + 36);
        sn[i].disk_size = guest_size;
        if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
            error_setg(errp, "Snapshot %" PRIu32 ": too much extra data (%" PRIu32 " bytes)",
                       i, extra);
            goto fail;
        }
        if (len - off - 40 < (size_t)extra + id_len + name_len) {
            error_setg(errp, "Snapshot table entry %" PRIu32 " is truncated", i);
            goto fail;
        }
        if (extra >= 8) {
            sn[i].vm_state_size = qcow2_ld64(e + 40);
        }
        if (extra >= 16) {
            sn[i].disk_size = qcow2_ld64(e + 48);
        }
        sn[i].icount = extra >= 24 ? qcow2_ld64(e + 56) : UINT64_MAX;
        if ((uint64_t)sn[i].l1_size * 8 > QCOW2_MAX_L1_BYTES) {
            error_setg(errp, "Snapshot %" PRIu32 ": L1 table too large", i);
            goto fail;
        }
        sn[i].id_str = g_strndup((const char *)e + 40 + extra, id_len);
        sn[i].name = g_strndup((const char *)e + 40 + extra + id_len, name_len);
        off += ROUND_UP(40 + (size_t)extra + id_len + name_len, 8);
        if (off > len) {
            off = len;
        }
    }
    *out = sn;
    *table_bytes = off;
    return true;

fail:
    qcow2_snapshots_free(sn, n);
    *out = NULL;
    return false;
}

void qcow2_snapshots_free(Qcow2Snapshot *sn, uint32_t n)
{
    for (uint32_t i = 0; sn && i < n; i++) {
        g_free(sn[i].id_str);
        g_free(sn[i].name);
    }
    g_free(sn);
}

/* ------------------------------------------------------------------ zlib */

/* QEMU compresses with deflateInit2(level default, window bits -12): raw deflate, 4 KiB window. */
ssize_t qcow2_deflate(const void *src, size_t src_len, void *dst, size_t dst_len)
{
    z_stream z = { 0 };
    ssize_t ret = -1;

    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return -1;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = src_len;
    z.next_out = dst;
    z.avail_out = dst_len;
    if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
        ret = dst_len - z.avail_out;
    }
    deflateEnd(&z);
    return ret;
}

/* Fills exactly dst_len bytes; the compressed stream may end with padding (0) or not. */
int qcow2_inflate(const void *src, size_t src_len, void *dst, size_t dst_len)
{
    z_stream z = { 0 };
    int ret;

    if (inflateInit2(&z, -12) != Z_OK) {
        return -1;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = src_len;
    z.next_out = dst;
    z.avail_out = dst_len;
    ret = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if ((ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK) && z.avail_out == 0) {
        return 0;
    }
    return -1;
}
