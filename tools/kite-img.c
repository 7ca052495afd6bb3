/*
 * kite-img: create, inspect, check, convert and resize disk images with qemu-img's options,
 * output and exit codes (create, info [--output=json], check [-r leaks|all], convert
 * [-f -O -c -p], resize [+-]size).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include "kite/cutils.h"
#include <getopt.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: kite-img create [-f fmt] [-o opts] [-b backing -F fmt] file [size]\n"
            "       kite-img info [-f fmt] [--output=human|json] file\n"
            "       kite-img check [-f fmt] [-r leaks|all] file\n"
            "       kite-img convert [-f fmt] [-O fmt] [-c] [-p] [-o opts] src dst\n"
            "       kite-img resize [-f fmt] file [+|-]size\n");
    exit(1);
}

static int cmd_create(int argc, char **argv)
{
    const char *fmt = "raw", *b = NULL, *F = NULL;
    g_autoptr(KiteOpts) o = kite_opts_new();
    Error *err = NULL;
    int c;

    while ((c = getopt(argc, argv, "f:o:b:F:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': b = optarg; break;
        case 'F': F = optarg; break;
        case 'o': {
            g_autoptr(KiteOpts) p = kite_opts_parse(optarg, NULL, &err);
            if (!p) {
                error_report_err(err);
                return 1;
            }
            for (guint i = 0; i < p->items->len; i++) {
                KiteOpt *it = g_ptr_array_index(p->items, i);
                kite_opts_set(o, it->key, it->value);
            }
            break;
        }
        default: usage();
        }
    }
    if (optind >= argc) {
        usage();
    }
    if (b) {
        kite_opts_set(o, "backing_file", b);
    }
    if (F) {
        kite_opts_set(o, "backing_fmt", F);
    }
    if (kite_opts_has(o, "backing_file") && !kite_opts_has(o, "backing_fmt")) {
        error_report("%s: Backing file specified without backing format", argv[optind]);
        return 1;
    }
    if (optind + 1 < argc) {
        uint64_t size;
        if (!parse_size(argv[optind + 1], 1, &size)) {
            error_report("Invalid image size specified. You may use k, M, G, T, P or E "
                         "suffixes for");
            return 1;
        }
        g_autofree char *s = g_strdup_printf("%" PRIu64, size);
        kite_opts_set(o, "size", s);
    }
    g_autofree char *desc = kite_opts_to_string(o);
    printf("Formatting '%s', fmt=%s %s\n", argv[optind], fmt, desc);
    if (bdrv_create(fmt, argv[optind], o, &err) < 0) {
        error_report("%s: %s", argv[optind], error_get_pretty(err));
        error_free(err);
        return 1;
    }
    return 0;
}

static BlockDriverState *open_image(const char *file, const char *fmt, int flags)
{
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(file, fmt, NULL, flags, &err);

    if (!bs) {
        error_report("Could not open '%s': %s", file, error_get_pretty(err));
        error_free(err);
    }
    return bs;
}

static const char *human_size(uint64_t v, char *buf, size_t len)
{
    static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    double d = v;

    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%" PRIu64 " B", v);
    } else {
        snprintf(buf, len, "%.3g %s", d, units[u]);
    }
    return buf;
}

/* "lazy refcounts" -> "lazy-refcounts"; true/false and numbers stay unquoted. */
static void json_value(GString *out, const char *v)
{
    uint64_t n;

    if (!strcmp(v, "true") || !strcmp(v, "false") || parse_uint64(v, &n)) {
        g_string_append(out, v);
    } else {
        g_string_append_printf(out, "\"%s\"", v);
    }
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false;
    BlockDriverState *bs;
    BlockDriverInfo bdi;
    char a[32], b[32];
    int c;
    static struct option lo[] = { { "output", required_argument, NULL, 'O' }, { 0 } };

    while ((c = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': json = !strcmp(optarg, "json"); break;
        default: usage();
        }
    }
    if (optind >= argc) {
        usage();
    }
    bs = open_image(argv[optind], fmt, BDRV_O_NO_BACKING);
    if (!bs) {
        return 1;
    }
    int64_t vsize = bdrv_getlength(bs), dsize = bdrv_get_allocated_file_size(bs);
    bdrv_get_info(bs, &bdi);
    if (json) {
        GString *o = g_string_new("{\n");
        if (bs->backing_format) {
            g_string_append_printf(o, "    \"backing-filename-format\": \"%s\",\n",
                                   bs->backing_format);
        }
        g_string_append_printf(o, "    \"virtual-size\": %" PRId64 ",\n", vsize);
        g_string_append_printf(o, "    \"filename\": \"%s\",\n", argv[optind]);
        if (bdi.cluster_size) {
            g_string_append_printf(o, "    \"cluster-size\": %d,\n", bdi.cluster_size);
        }
        g_string_append_printf(o, "    \"format\": \"%s\",\n", bdrv_get_format_name(bs));
        g_string_append_printf(o, "    \"actual-size\": %" PRId64 ",\n", dsize);
        if (bdi.specific->items->len) {
            g_string_append_printf(o, "    \"format-specific\": {\n        \"type\": \"%s\",\n"
                                   "        \"data\": {\n", bdrv_get_format_name(bs));
            for (guint i = 0; i < bdi.specific->items->len; i++) {
                KiteOpt *it = g_ptr_array_index(bdi.specific->items, i);
                g_autofree char *k = g_strdelimit(g_strdup(it->key), " ", '-');
                g_string_append_printf(o, "            \"%s\": ", k);
                json_value(o, it->value);
                g_string_append(o, i + 1 < bdi.specific->items->len ? ",\n" : "\n");
            }
            g_string_append(o, "        }\n    },\n");
        }
        if (bs->backing_file) {
            g_autofree char *full = bdrv_get_full_backing_filename(bs, bs->backing_file);
            g_string_append_printf(o, "    \"full-backing-filename\": \"%s\",\n", full);
            g_string_append_printf(o, "    \"backing-filename\": \"%s\",\n", bs->backing_file);
        }
        g_string_append_printf(o, "    \"dirty-flag\": %s\n}\n", bdi.is_dirty ? "true" : "false");
        fputs(o->str, stdout);
        g_string_free(o, true);
    } else {
        printf("image: %s\nfile format: %s\n", argv[optind], bdrv_get_format_name(bs));
        printf("virtual size: %s (%" PRId64 " bytes)\n", human_size(vsize, a, sizeof(a)), vsize);
        printf("disk size: %s\n", dsize < 0 ? "unavailable" : human_size(dsize, b, sizeof(b)));
        if (bdi.cluster_size) {
            printf("cluster_size: %d\n", bdi.cluster_size);
        }
        if (bs->backing_file) {
            printf("backing file: %s\n", bs->backing_file);
        }
        if (bs->backing_format) {
            printf("backing file format: %s\n", bs->backing_format);
        }
        if (bdi.specific->items->len) {
            printf("Format specific information:\n");
            for (guint i = 0; i < bdi.specific->items->len; i++) {
                KiteOpt *it = g_ptr_array_index(bdi.specific->items, i);
                printf("    %s: %s\n", it->key, it->value);
            }
        }
    }
    kite_opts_free(bdi.specific);
    bdrv_unref(bs);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL;
    int fix = 0, c, ret;
    BlockDriverState *bs;
    BdrvCheckResult r;

    while ((c = getopt(argc, argv, "f:r:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r':
            fix = !strcmp(optarg, "leaks") ? BDRV_FIX_LEAKS
                : !strcmp(optarg, "all") ? BDRV_FIX_LEAKS | BDRV_FIX_ERRORS : -1;
            if (fix < 0) {
                error_report("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                             optarg);
                return 1;
            }
            break;
        default: usage();
        }
    }
    if (optind >= argc) {
        usage();
    }
    bs = open_image(argv[optind], fmt, fix ? BDRV_O_RDWR | BDRV_O_NO_BACKING
                                           : BDRV_O_NO_BACKING);
    if (!bs) {
        return 1;
    }
    ret = bdrv_check(bs, &r, fix);
    if (ret == -ENOTSUP) {
        error_report("This image format does not support checks");
        bdrv_unref(bs);
        return 63;
    }
    if (r.leaks_fixed || r.corruptions_fixed) {
        printf("The following inconsistencies were found and repaired:\n\n"
               "    %d leaked clusters\n    %d corruptions\n\n"
               "Double checking the fixed image now...\n", r.leaks_fixed, r.corruptions_fixed);
        ret = bdrv_check(bs, &r, 0);
    }
    if (!r.corruptions && !r.leaks && !r.check_errors) {
        printf("No errors were found on the image.\n");
    } else {
        if (r.corruptions) {
            printf("\n%d errors were found on the image.\nData may be corrupted, or further "
                   "writes to the image may corrupt it.\n", r.corruptions);
        }
        if (r.leaks) {
            printf("\n%d leaked clusters were found on the image.\nThis means waste of disk "
                   "space, but no harm to data.\n", r.leaks);
        }
        if (r.check_errors) {
            printf("\n%d internal errors have occurred during the check.\n", r.check_errors);
        }
    }
    if (r.bfi.total_clusters && r.bfi.allocated_clusters) {
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% "
               "compressed clusters\n", r.bfi.allocated_clusters, r.bfi.total_clusters,
               r.bfi.allocated_clusters * 100.0 / r.bfi.total_clusters,
               r.bfi.fragmented_clusters * 100.0 / r.bfi.allocated_clusters,
               r.bfi.compressed_clusters * 100.0 / r.bfi.allocated_clusters);
    }
    if (r.image_end_offset) {
        printf("Image end offset: %" PRId64 "\n", r.image_end_offset);
    }
    bdrv_unref(bs);
    if (ret < 0 || r.check_errors) {
        return 1;
    }
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
}

static int cmd_convert(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *oopts = NULL;
    bool compress = false, progress = false;
    BlockDriverState *src, *dst;
    Error *err = NULL;
    int64_t size, chunk;
    g_autofree uint8_t *buf = NULL;
    int c, ret = 0;

    while ((c = getopt(argc, argv, "f:O:o:cpq")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': oopts = optarg; break;
        case 'c': compress = true; break;
        case 'p': progress = true; break;
        case 'q': break;
        default: usage();
        }
    }
    if (optind + 2 != argc) {
        usage();
    }
    if (compress && strcmp(ofmt, "qcow2")) {
        error_report("Compression not supported for this file format");
        return 1;
    }
    src = open_image(argv[optind], fmt, 0);
    if (!src) {
        return 1;
    }
    size = bdrv_getlength(src);
    g_autoptr(KiteOpts) o = oopts ? kite_opts_parse(oopts, NULL, &err) : kite_opts_new();
    if (!o) {
        error_report_err(err);
        bdrv_unref(src);
        return 1;
    }
    g_autofree char *s = g_strdup_printf("%" PRId64, size);
    kite_opts_set(o, "size", s);
    if (bdrv_create(ofmt, argv[optind + 1], o, &err) < 0) {
        error_report("%s: error while converting %s: %s", argv[optind + 1], ofmt,
                     error_get_pretty(err));
        error_free(err);
        bdrv_unref(src);
        return 1;
    }
    dst = open_image(argv[optind + 1], ofmt, BDRV_O_RDWR);
    if (!dst) {
        bdrv_unref(src);
        return 1;
    }
    chunk = compress ? ((BDRVQcow2State *)dst->opaque)->cluster_size : 2 * MiB;
    buf = g_malloc(chunk);
    for (int64_t off = 0; off < size && ret == 0; off += chunk) {
        int64_t n = MIN(chunk, size - off), pnum;
        bool zero = true;
        int st = bdrv_block_status(src, off, n, &pnum, NULL, NULL);
        /* Skip what reads as zeroes without any backing data under it. */
        if (st >= 0 && (st & BDRV_BLOCK_ZERO) && pnum >= n) {
            continue;
        }
        ret = bdrv_pread(src, off, n, buf);
        if (ret < 0) {
            error_report("error while reading at byte %" PRId64 ": %s", off, strerror(-ret));
            break;
        }
        for (int64_t i = 0; i < n && zero; i += 8) {
            zero = i + 8 <= n ? !ldq_le_p(buf + i) : !buf[i];
        }
        if (!zero) {
            ret = compress ? qcow2_pwrite_compressed(dst, off, buf, n)
                           : bdrv_pwrite(dst, off, n, buf);
            if (ret < 0) {
                error_report("error while writing at byte %" PRId64 ": %s", off,
                             strerror(-ret));
            }
        }
        if (progress) {
            printf("    (%.2f/100%%)\r", (off + n) * 100.0 / size);
            fflush(stdout);
        }
    }
    if (progress) {
        printf("    (100.00/100%%)\n");
    }
    if (ret == 0) {
        ret = bdrv_flush(dst);
    }
    bdrv_unref(dst);
    bdrv_unref(src);
    return ret < 0 ? 1 : 0;
}

static int cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL, *arg;
    BlockDriverState *bs;
    Error *err = NULL;
    uint64_t v;
    int64_t size;
    int c;

    while ((c = getopt(argc, argv, "f:")) != -1) {
        if (c == 'f') {
            fmt = optarg;
        } else {
            usage();
        }
    }
    if (optind + 2 != argc) {
        usage();
    }
    arg = argv[optind + 1];
    if (!parse_size(arg[0] == '+' || arg[0] == '-' ? arg + 1 : arg, 1, &v)) {
        error_report("Invalid size specified");
        return 1;
    }
    bs = open_image(argv[optind], fmt, BDRV_O_RDWR);
    if (!bs) {
        return 1;
    }
    size = bdrv_getlength(bs);
    size = arg[0] == '+' ? size + (int64_t)v : arg[0] == '-' ? size - (int64_t)v : (int64_t)v;
    if (bdrv_truncate(bs, size, &err) < 0) {
        error_report_err(err);
        bdrv_unref(bs);
        return 1;
    }
    bdrv_unref(bs);
    printf("Image resized.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
    }
    optind = 2;
    if (!strcmp(argv[1], "create")) {
        return cmd_create(argc, argv);
    } else if (!strcmp(argv[1], "info")) {
        return cmd_info(argc, argv);
    } else if (!strcmp(argv[1], "check")) {
        return cmd_check(argc, argv);
    } else if (!strcmp(argv[1], "convert")) {
        return cmd_convert(argc, argv);
    } else if (!strcmp(argv[1], "resize")) {
        return cmd_resize(argc, argv);
    }
    usage();
}
