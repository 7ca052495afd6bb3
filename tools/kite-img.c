/*
 * kite-img: create, inspect, check, convert and resize disk images with qemu-img's options,
 * output and exit codes (create, info [--output=json], check [-r leaks|all], convert
 * [-f -O -c -p], resize [+-]size, map [--output=json], compare [-s], snapshot -l).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "block/qcow2.h"
#include "kite/cutils.h"
#include <getopt.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: kite-img create [-q] [-f fmt] [-o opts] [-b backing -F fmt] file [size]\n"
            "       kite-img info [-f fmt] [--output=human|json] [--backing-chain] [-U] file\n"
            "       kite-img check [-f fmt] [--output=human|json] [-r leaks|all] [-U] file\n"
            "       kite-img convert [-f fmt] [-O fmt] [-c] [-p] [-o opts] [-U] src dst\n"
            "       kite-img resize [-q] [-f fmt] [--shrink] file [+|-]size\n"
            "       kite-img map [-f fmt] [--output=human|json] [--start-offset=N] "
            "[--max-length=N] [-U] file\n"
            "       kite-img compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] file1 file2\n"
            "       kite-img snapshot -l [-U] file\n"
            "  -U, --force-share: open the images even if another process uses them "
            "(read-only)\n");
    exit(1);
}

/* The last value given for key, without marking it used (bdrv_create reads them). */
static const char *opt_peek(KiteOpts *o, const char *key)
{
    const char *v = NULL;

    for (guint i = 0; i < o->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(o->items, i);
        if (!strcmp(it->key, key)) {
            v = it->value;
        }
    }
    return v;
}

/* A creation option as qemu-img's "Formatting" line shows it. */
typedef struct CreateOptDesc {
    const char *key, *def;
    char kind;                          /* 's': a size/number, 'b': on/off, 0: a string */
} CreateOptDesc;

static const CreateOptDesc qcow2_create_opts[] = {
    { "cluster_size", "65536", 's' }, { "extended_l2", "off", 'b' },
    { "preallocation", NULL, 0 }, { "compression_type", "zlib", 0 },
    { "size", NULL, 's' }, { "backing_file", NULL, 0 }, { "backing_fmt", NULL, 0 },
    { "compat", NULL, 0 }, { "lazy_refcounts", "off", 'b' },
    { "refcount_bits", "16", 's' },
}, raw_create_opts[] = {
    { "size", NULL, 's' }, { "preallocation", NULL, 0 },
};

/* The creation options of fmt in QEMU's order, or NULL for a format Kite cannot create. */
static const CreateOptDesc *create_opts_of(const char *fmt, size_t *n)
{
    if (!strcmp(fmt, "qcow2")) {
        *n = G_N_ELEMENTS(qcow2_create_opts);
        return qcow2_create_opts;
    } else if (!strcmp(fmt, "raw")) {
        *n = G_N_ELEMENTS(raw_create_opts);
        return raw_create_opts;
    }
    *n = 0;
    return NULL;
}

/*
 * The options part of qemu-img create's "Formatting" line: the format's creation options in
 * QEMU's order, those with a default always (sizes and widths as numbers, booleans as
 * on/off), the others only when given.  Options of other formats follow as given.
 */
static char *create_desc(const char *fmt, KiteOpts *o)
{
    size_t n;
    const CreateOptDesc *opts = create_opts_of(fmt, &n);
    GString *d = g_string_new(NULL);

    for (size_t i = 0; i < n; i++) {
        const char *key = opts[i].key, *def = opts[i].def;
        char kind = opts[i].kind;
        const char *v = opt_peek(o, key);
        uint64_t num;

        if (!v) {
            v = def;
        }
        if (!v) {
            continue;
        }
        if (kind == 's' && parse_size(v, 1, &num)) {
            g_string_append_printf(d, " %s=%" PRIu64, key, num);
        } else if (kind == 'b' && (!strcmp(v, "on") || !strcmp(v, "yes") ||
                                   !strcmp(v, "true"))) {
            g_string_append_printf(d, " %s=on", key);
        } else if (kind == 'b' && (!strcmp(v, "off") || !strcmp(v, "no") ||
                                   !strcmp(v, "false"))) {
            g_string_append_printf(d, " %s=off", key);
        } else {
            g_string_append_printf(d, " %s=%s", key, v);
        }
    }
    for (guint i = 0; i < o->items->len; i++) {
        KiteOpt *it = g_ptr_array_index(o->items, i);
        bool known = false;
        for (size_t j = 0; j < n; j++) {
            known |= !strcmp(it->key, opts[j].key);
        }
        if (!known) {
            g_string_append_printf(d, " %s=%s", it->key, it->value);
        }
    }
    return g_string_free(d, false);
}

static int cmd_create(int argc, char **argv)
{
    const char *fmt = "raw", *b = NULL, *F = NULL;
    g_autoptr(KiteOpts) o = kite_opts_new();
    Error *err = NULL;
    bool quiet = false;
    int c;

    while ((c = getopt(argc, argv, "f:o:b:F:q")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
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
    {
        size_t n;
        const CreateOptDesc *known = create_opts_of(fmt, &n);
        for (guint i = 0; known && i < o->items->len; i++) {
            KiteOpt *it = g_ptr_array_index(o->items, i);
            bool ok = false;
            for (size_t j = 0; j < n; j++) {
                ok |= !strcmp(it->key, known[j].key);
            }
            if (!ok) {
                error_report("%s: Invalid parameter '%s'", argv[optind], it->key);
                return 1;
            }
        }
    }
    if (kite_opts_has(o, "backing_file") && !kite_opts_has(o, "backing_fmt")) {
        /* qemu-img names the probed format too, as a hint (no newline after it). */
        BlockDriverState tmp = { .filename = argv[optind] };
        g_autofree char *path = bdrv_get_full_backing_filename(&tmp,
                                                               opt_peek(o, "backing_file"));
        BlockDriverState *bb = bdrv_open(path, NULL, NULL, BDRV_O_NO_IO, NULL);

        error_report("%s: Backing file specified without backing format", argv[optind]);
        if (bb) {
            fprintf(stderr, "Detected format of %s.", bdrv_get_format_name(bb));
            bdrv_unref(bb);
        }
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
    /*
     * As qemu-img: the backing image must open (its length is the default size), and an
     * image needs a size from somewhere; both checked before the "Formatting" line.
     */
    if (kite_opts_has(o, "backing_file")) {
        BlockDriverState tmp = { .filename = argv[optind] };
        g_autofree char *path = bdrv_get_full_backing_filename(&tmp,
                                                               opt_peek(o, "backing_file"));
        BlockDriverState *bb = bdrv_open(path, opt_peek(o, "backing_fmt"), NULL,
                                         BDRV_O_NO_IO, &err);
        int64_t len;

        if (!bb) {
            error_report("%s: %s\nCould not open backing image.", argv[optind],
                         error_get_pretty(err));
            error_free(err);
            return 1;
        }
        len = bdrv_getlength(bb);
        bdrv_unref(bb);
        if (!kite_opts_has(o, "size") && len >= 0) {
            g_autofree char *s = g_strdup_printf("%" PRId64, len);
            kite_opts_set(o, "size", s);
        }
    }
    if (!kite_opts_has(o, "size")) {
        error_report("%s: Image creation needs a size parameter", argv[optind]);
        return 1;
    }
    g_autofree char *desc = create_desc(fmt, o);
    if (!quiet) {
        printf("Formatting '%s', fmt=%s%s\n", argv[optind], fmt, desc);
    }
    {
        /* The image gets whole 512-byte sectors (the line above shows the size given). */
        uint64_t sz;
        if (parse_size(opt_peek(o, "size"), 1, &sz) && sz % 512 && sz < UINT64_MAX - 512) {
            g_autofree char *r = g_strdup_printf("%" PRIu64, ROUND_UP(sz, 512));
            kite_opts_set(o, "size", r);
        }
    }
    if (bdrv_create(fmt, argv[optind], o, &err) < 0) {
        error_report("%s: %s", argv[optind], error_get_pretty(err));
        error_free(err);
        return 1;
    }
    return 0;
}

/* -U / --force-share: open the images without locking others out (read-only only). */
static bool force_share;

static BlockDriverState *open_image(const char *file, const char *fmt, int flags)
{
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(file, fmt, NULL,
                                     flags | (force_share ? BDRV_O_FORCE_SHARE : 0), &err);

    if (!bs) {
        /* With the hint, as qemu-img ("Is another process using the image [...]?"). */
        error_prepend(&err, "Could not open '%s': ", file);
        error_report_err(err);
    }
    return bs;
}

/* qemu-img's size_to_str: three significant digits; a unit goes up from 1000 of it. */
static const char *human_size(uint64_t v, char *buf, size_t len)
{
    static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    double d = v;

    while (d >= 1000 && u < 6) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, "%0.3g %s", d, units[u]);
    return buf;
}

/* A JSON string body: quotes, backslashes and control characters escaped. */
static char *json_escape(const char *v)
{
    GString *o = g_string_new(NULL);

    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') {
            g_string_append_c(o, '\\');
            g_string_append_c(o, *p);
        } else if (*p < 0x20) {
            g_string_append_printf(o, "\\u%04x", *p);
        } else {
            g_string_append_c(o, *p);
        }
    }
    return g_string_free(o, false);
}

/* The internal snapshot table as qemu-img prints it (bdrv_snapshot_dump). */
static void dump_snapshots(BlockDriverState *bs)
{
    BDRVQcow2State *s;

    if (strcmp(bdrv_get_format_name(bs), "qcow2")) {
        return;                                    /* no internal snapshots */
    }
    s = bs->opaque;
    if (!s->nb_snapshots) {
        return;
    }
    printf("Snapshot list:\n%-10s%-17s%8s%20s%13s%11s\n",
           "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &s->snapshots[i];
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(sn->date_sec);
        g_autofree char *date = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S")
                                   : g_strdup("");
        uint64_t secs = sn->vm_clock_nsec / 1000000000;
        char clock[64], size[32], icount[32] = "";
        snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
                 (int)((secs / 60) % 60), (int)(secs % 60),
                 (int)((sn->vm_clock_nsec / 1000000) % 1000));
        if (sn->icount != UINT64_MAX) {
            snprintf(icount, sizeof(icount), "%" PRId64, (int64_t)sn->icount);
        }
        printf("%-9s %-16s %8s%20s%13s%11s\n", sn->id_str, sn->name,
               human_size(sn->vm_state_size, size, sizeof(size)), date, clock, icount);
    }
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

/* One image's info (qemu-img's human text or JSON object; JSON indented in a chain). */
static void print_info(BlockDriverState *bs, const char *name, bool json, int indent,
                       bool last)
{
    BlockDriverInfo bdi;
    char a[32], b[32];

    int64_t vsize = bdrv_getlength(bs), dsize = bdrv_get_allocated_file_size(bs);
    bdrv_get_info(bs, &bdi);
    if (json) {
        GString *o = g_string_new("{\n");
        if (bs->backing_format) {
            g_string_append_printf(o, "    \"backing-filename-format\": \"%s\",\n",
                                   bs->backing_format);
        }
        if (!strcmp(bdrv_get_format_name(bs), "qcow2") &&
            ((BDRVQcow2State *)bs->opaque)->nb_snapshots) {
            BDRVQcow2State *qs = bs->opaque;
            g_string_append(o, "    \"snapshots\": [\n");
            for (uint32_t i = 0; i < qs->nb_snapshots; i++) {
                Qcow2Snapshot *sn = &qs->snapshots[i];
                g_autofree char *name = json_escape(sn->name);
                g_autofree char *id = json_escape(sn->id_str);
                g_string_append(o, "        {\n");
                if (sn->icount != UINT64_MAX) {
                    g_string_append_printf(o, "            \"icount\": %" PRIu64 ",\n",
                                           sn->icount);
                }
                g_string_append_printf(o, "            \"vm-clock-nsec\": %" PRIu64 ",\n"
                                       "            \"name\": \"%s\",\n"
                                       "            \"date-sec\": %" PRIu32 ",\n"
                                       "            \"date-nsec\": %" PRIu32 ",\n"
                                       "            \"vm-clock-sec\": %" PRIu64 ",\n"
                                       "            \"id\": \"%s\",\n"
                                       "            \"vm-state-size\": %" PRIu64 "\n"
                                       "        }%s\n",
                                       sn->vm_clock_nsec % 1000000000, name, sn->date_sec,
                                       sn->date_nsec, sn->vm_clock_nsec / 1000000000,
                                       id, sn->vm_state_size,
                                       i + 1 < qs->nb_snapshots ? "," : "");
            }
            g_string_append(o, "    ],\n");
        }
        g_string_append_printf(o, "    \"virtual-size\": %" PRId64 ",\n", vsize);
        g_string_append_printf(o, "    \"filename\": \"%s\",\n", name);
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
        /* Inside --backing-chain's array every line moves right by indent. */
        g_auto(GStrv) lines = g_strsplit(o->str, "\n", -1);
        for (int i = 0; lines[i] && lines[i + 1]; i++) {
            printf("%*s%s%s\n", indent, "", lines[i],
                   indent && !lines[i + 2] && !last ? "," : "");
        }
        g_string_free(o, true);
    } else {
        printf("image: %s\nfile format: %s\n", name, bdrv_get_format_name(bs));
        printf("virtual size: %s (%" PRId64 " bytes)\n", human_size(vsize, a, sizeof(a)), vsize);
        printf("disk size: %s\n", dsize < 0 ? "unavailable" : human_size(dsize, b, sizeof(b)));
        if (bdi.cluster_size) {
            printf("cluster_size: %d\n", bdi.cluster_size);
        }
        if (bs->backing_file) {
            g_autofree char *full = bdrv_get_full_backing_filename(bs, bs->backing_file);
            printf("backing file: %s", bs->backing_file);
            if (strcmp(full, bs->backing_file)) {
                printf(" (actual path: %s)", full);     /* qemu-img names the resolved one */
            }
            printf("\n");
        }
        if (bs->backing_format) {
            printf("backing file format: %s\n", bs->backing_format);
        }
        dump_snapshots(bs);
        if (bdi.specific->items->len) {
            printf("Format specific information:\n");
            for (guint i = 0; i < bdi.specific->items->len; i++) {
                KiteOpt *it = g_ptr_array_index(bdi.specific->items, i);
                printf("    %s: %s\n", it->key, it->value);
            }
        }
    }
    kite_opts_free(bdi.specific);
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, chain = false;
    g_autofree char *name = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    BlockDriverState *bs;
    int c;
    static struct option lo[] = { { "output", required_argument, NULL, 'O' },
                                  { "backing-chain", no_argument, NULL, 'B' },
                                  { "force-share", no_argument, NULL, 'U' }, { 0 } };

    while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force_share = true; break;
        case 'O': json = !strcmp(optarg, "json"); break;
        case 'B': chain = true; break;
        default: usage();
        }
    }
    if (optind >= argc) {
        usage();
    }
    /*
     * --backing-chain: the image, then each backing file (named as resolved from the image
     * that refers to it, opened with the recorded format), as a JSON array or separated by
     * blank lines.
     */
    name = g_strdup(argv[optind]);
    bs = open_image(name, fmt, BDRV_O_NO_BACKING);
    if (!bs) {
        return 1;
    }
    if (chain && json) {
        printf("[\n");
    }
    for (bool first = true; bs; first = false) {
        BlockDriverState *next = NULL;
        g_autofree char *next_name = NULL;

        g_hash_table_add(seen, g_strdup(name));
        if (chain && bs->backing_file) {
            next_name = bdrv_get_full_backing_filename(bs, bs->backing_file);
            if (g_hash_table_contains(seen, next_name)) {
                error_report("Backing file '%s' creates an infinite loop.", next_name);
                bdrv_unref(bs);
                return 1;
            }
            next = open_image(next_name, bs->backing_format, BDRV_O_NO_BACKING);
            if (!next) {
                bdrv_unref(bs);
                return 1;
            }
        }
        if (chain && !json && !first) {
            printf("\n");
        }
        print_info(bs, name, json, chain && json ? 4 : 0, !next);
        bdrv_unref(bs);
        bs = next;
        if (next) {
            g_free(name);
            name = g_steal_pointer(&next_name);
        }
    }
    if (chain && json) {
        printf("]\n");
    }
    return 0;
}

/*
 * qemu-img check --output=json: QEMU's ImageCheck members, the optional ones only when not
 * zero, in the order QEMU's QDict hash table yields them.
 */
static void print_check_json(const char *file, const char *fmt, const BdrvCheckResult *r,
                             int leaks_fixed, int corruptions_fixed)
{
    g_autofree char *name = json_escape(file);
    GString *o = g_string_new("{\n");

    if (r->image_end_offset) {
        g_string_append_printf(o, "    \"image-end-offset\": %" PRId64 ",\n",
                               r->image_end_offset);
    }
    if (r->bfi.compressed_clusters) {
        g_string_append_printf(o, "    \"compressed-clusters\": %" PRIu64 ",\n",
                               r->bfi.compressed_clusters);
    }
    if (r->bfi.total_clusters) {
        g_string_append_printf(o, "    \"total-clusters\": %" PRIu64 ",\n",
                               r->bfi.total_clusters);
    }
    if (r->corruptions) {
        g_string_append_printf(o, "    \"corruptions\": %d,\n", r->corruptions);
    }
    if (corruptions_fixed) {
        g_string_append_printf(o, "    \"corruptions-fixed\": %d,\n", corruptions_fixed);
    }
    g_string_append_printf(o, "    \"check-errors\": %d,\n", r->check_errors);
    if (r->leaks) {
        g_string_append_printf(o, "    \"leaks\": %d,\n", r->leaks);
    }
    if (leaks_fixed) {
        g_string_append_printf(o, "    \"leaks-fixed\": %d,\n", leaks_fixed);
    }
    if (r->bfi.allocated_clusters) {
        g_string_append_printf(o, "    \"allocated-clusters\": %" PRIu64 ",\n",
                               r->bfi.allocated_clusters);
    }
    g_string_append_printf(o, "    \"filename\": \"%s\",\n    \"format\": \"%s\"", name, fmt);
    if (r->bfi.fragmented_clusters) {
        g_string_append_printf(o, ",\n    \"fragmented-clusters\": %" PRIu64,
                               r->bfi.fragmented_clusters);
    }
    g_string_append(o, "\n}\n");
    fputs(o->str, stdout);
    g_string_free(o, true);
}

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL;
    int fix = 0, c, ret, leaks_fixed = 0, corruptions_fixed = 0;
    bool json = false;
    BlockDriverState *bs;
    BdrvCheckResult r;
    static struct option lo[] = { { "output", required_argument, NULL, 'O' },
                                  { "force-share", no_argument, NULL, 'U' }, { 0 } };

    while ((c = getopt_long(argc, argv, "f:r:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force_share = true; break;
        case 'O':
            if (strcmp(optarg, "json") && strcmp(optarg, "human")) {
                error_report("--output must be used with human or json as argument.");
                return 1;
            }
            json = !strcmp(optarg, "json");
            break;
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
    if (ret < 0) {
        error_report("Check failed: %s", strerror(-ret));
        bdrv_unref(bs);
        return 1;
    }
    if (r.leaks_fixed || r.corruptions_fixed) {
        leaks_fixed = r.leaks_fixed;
        corruptions_fixed = r.corruptions_fixed;
        if (!json) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %d leaked clusters\n    %d corruptions\n\n"
                   "Double checking the fixed image now...\n", leaks_fixed,
                   corruptions_fixed);
        }
        ret = bdrv_check(bs, &r, 0);
    }
    if (json) {
        print_check_json(argv[optind], bdrv_get_format_name(bs), &r, leaks_fixed,
                         corruptions_fixed);
    } else if (!r.corruptions && !r.leaks && !r.check_errors) {
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
    if (!json && r.bfi.total_clusters && r.bfi.allocated_clusters) {
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% "
               "compressed clusters\n", r.bfi.allocated_clusters, r.bfi.total_clusters,
               r.bfi.allocated_clusters * 100.0 / r.bfi.total_clusters,
               r.bfi.fragmented_clusters * 100.0 / r.bfi.allocated_clusters,
               r.bfi.compressed_clusters * 100.0 / r.bfi.allocated_clusters);
    }
    if (!json && r.image_end_offset) {
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
    int64_t size, chunk, gran;
    g_autofree uint8_t *buf = NULL;
    int c, ret = 0;

    bool share_src = false;

    while ((c = getopt(argc, argv, "f:O:o:cpqU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': share_src = true; break;      /* the source only: the target is written */
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
    src = open_image(argv[optind], fmt, share_src ? BDRV_O_FORCE_SHARE : 0);
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
    /* Whole 512-byte sectors, as qemu-img makes them (QEMU reads qcow2 sizes in sectors). */
    g_autofree char *s = g_strdup_printf("%" PRId64, ROUND_UP(size, 512));
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
    gran = !strcmp(bdrv_get_format_name(dst), "qcow2")
        ? ((BDRVQcow2State *)dst->opaque)->cluster_size : 4096;
    buf = g_malloc(chunk);
    if (progress) {
        printf("    (0.00/100%%)\r");
        fflush(stdout);
    }
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
        if (compress) {
            for (int64_t i = 0; i < n && zero; i += 8) {
                zero = i + 8 <= n ? !ldq_le_p(buf + i) : !buf[i];
            }
            if (!zero) {
                ret = qcow2_pwrite_compressed(dst, off, buf, n);
            }
        } else {
            /*
             * Zero blocks are not written (the new image reads them as zeroes anyway), at
             * the granularity of the target's allocation: its cluster, or qemu-img's
             * default -S 4k for raw; consecutive data blocks go in one write.
             */
            int64_t start = -1;
            for (int64_t i = 0; ret == 0; i += gran) {
                bool end = i >= n, z = true;
                for (int64_t j = i; j < MIN(i + gran, n) && z; j += 8) {
                    z = j + 8 <= n ? !ldq_le_p(buf + j) : !buf[j];
                }
                if (!end && !z && start < 0) {
                    start = i;
                } else if ((end || z) && start >= 0) {
                    ret = bdrv_pwrite(dst, off + start, MIN(i, n) - start, buf + start);
                    start = -1;
                }
                if (end) {
                    break;
                }
            }
        }
        if (ret < 0) {
            error_report("error while writing at byte %" PRId64 ": %s", off, strerror(-ret));
        }
        if (progress) {
            printf("    (%.2f/100%%)\r", (off + n) * 100.0 / size);
            fflush(stdout);
        }
    }
    if (progress) {
        printf("    (100.00/100%%)\r\n");          /* qemu-img's last line */
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
    bool shrink = false, quiet = false;
    uint64_t v;
    int64_t size, cur;
    int c;
    static struct option lo[] = { { "shrink", no_argument, NULL, 'S' }, { 0 } };

    /* As qemu-img: the size is the last argument, taken before getopt sees "-1G". */
    if (argc < 4) {
        error_report("Not enough arguments\nTry 'kite-img --help' for more information");
        return 1;
    }
    arg = argv[--argc];
    while ((c = getopt_long(argc, argv, "f:q", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'S': shrink = true; break;
        default: usage();
        }
    }
    if (optind + 1 != argc) {
        usage();
    }
    if (!parse_size(arg[0] == '+' || arg[0] == '-' ? arg + 1 : arg, 1, &v) ||
        v > INT64_MAX) {
        error_report("Parameter 'size' expects a non-negative number below 2^64\n"
                     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                     "peta-\nand exabytes, respectively.");
        return 1;
    }
    bs = open_image(argv[optind], fmt, BDRV_O_RDWR);
    if (!bs) {
        return 1;
    }
    cur = bdrv_getlength(bs);
    size = arg[0] == '+' ? cur + (int64_t)v : arg[0] == '-' ? cur - (int64_t)v : (int64_t)v;
    if (size <= 0) {
        error_report("New image size must be positive");
        bdrv_unref(bs);
        return 1;
    }
    if (size < cur && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        warn_report("Shrinking an image will delete all data beyond the shrunken image's "
                    "end. Before performing such an operation, make sure there is no "
                    "important data there.");
        bdrv_unref(bs);
        return 1;
    }
    if (bdrv_truncate(bs, size, &err) < 0) {
        error_report_err(err);
        bdrv_unref(bs);
        return 1;
    }
    bdrv_unref(bs);
    if (!quiet) {
        printf("Image resized.\n");
    }
    return 0;
}

/* ---- map ---------------------------------------------------------------------- */

typedef struct MapEntry {
    int64_t start, length, offset;
    int depth;
    bool present, zero, data, has_offset;
    const char *filename;                          /* of the node holding the data */
} MapEntry;

static int map_status(BlockDriverState *bs, int64_t offset, int64_t bytes, MapEntry *e)
{
    BlockDriverState *file = NULL;
    int64_t map = 0, pnum;
    int depth, ret = bdrv_block_status_above(bs, offset, bytes, &pnum, &map, &file, &depth);

    if (ret < 0) {
        return ret;
    }
    if (pnum <= 0) {
        return -EIO;
    }
    *e = (MapEntry) {
        .start = offset, .length = pnum, .offset = map, .depth = depth,
        .present = ret & BDRV_BLOCK_ALLOCATED, .zero = ret & BDRV_BLOCK_ZERO,
        .data = ret & BDRV_BLOCK_DATA, .has_offset = ret & BDRV_BLOCK_OFFSET_VALID,
    };
    e->filename = file && e->has_offset ? bdrv_get_filename(file) : NULL;
    return 0;
}

static bool map_mergeable(const MapEntry *a, const MapEntry *b)
{
    if (a->length == 0 || a->zero != b->zero || a->data != b->data || a->depth != b->depth ||
        a->present != b->present || !a->filename != !b->filename ||
        a->has_offset != b->has_offset) {
        return false;
    }
    if (a->filename && strcmp(a->filename, b->filename)) {
        return false;
    }
    return !a->has_offset || a->offset + a->length == b->offset;
}

static int map_dump(bool json, const MapEntry *e, MapEntry *next)
{
    if (json) {
        printf("{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s", e->start, e->length,
               e->depth, e->present ? "true" : "false", e->zero ? "true" : "false",
               e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRId64, e->offset);
        }
        putchar('}');
        if (next) {
            puts(",");
        }
        return 0;
    }
    if (e->data && !e->has_offset) {
        error_report("File contains external, encrypted or compressed clusters.");
        return -1;
    }
    if (e->data) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->length,
               e->offset, e->filename);
    }
    /* The human format shows only data: holes of any kind may merge (as qemu-img). */
    if (next && (!next->data || next->zero)) {
        next->data = false;
        next->zero = true;
    }
    return 0;
}

static int cmd_map(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false;
    int64_t start = 0, max_len = -1, len;
    BlockDriverState *bs;
    MapEntry cur = { 0 }, next;
    uint64_t v;
    int c, ret = 0;
    static struct option lo[] = {
        { "output", required_argument, NULL, 'O' },
        { "start-offset", required_argument, NULL, 's' },
        { "max-length", required_argument, NULL, 'l' },
        { "force-share", no_argument, NULL, 'U' },
        { 0 }
    };

    while ((c = getopt_long(argc, argv, "f:hU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force_share = true; break;
        case 'O':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (!strcmp(optarg, "human")) {
                json = false;
            } else {
                error_report("--output must be used with human or json as argument.");
                return 1;
            }
            break;
        case 's':
        case 'l':
            if (!parse_size(optarg, 1, &v) || v > INT64_MAX) {
                error_report("Invalid %s specified. You may use k, M, G, T, P or E suffixes "
                             "for", c == 's' ? "start offset" : "max length");
                return 1;
            }
            *(c == 's' ? &start : &max_len) = v;
            break;
        default: usage();
        }
    }
    if (optind + 1 != argc) {
        error_report("Expecting one image file name");
        return 1;
    }
    bs = open_image(argv[optind], fmt, 0);
    if (!bs) {
        return 1;
    }
    len = bdrv_getlength(bs);
    if (len < 0) {
        error_report("Failed to get size for '%s'", argv[optind]);
        bdrv_unref(bs);
        return 1;
    }
    if (max_len != -1 && start <= len && max_len < len - start) {
        len = start + max_len;
    }
    if (json) {
        putchar('[');
    } else {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    cur.start = start;
    while (cur.start + cur.length < len) {
        int64_t off = cur.start + cur.length;
        ret = map_status(bs, off, len - off, &next);
        if (ret < 0) {
            error_report("Could not read file metadata: %s", strerror(-ret));
            break;
        }
        if (map_mergeable(&cur, &next)) {
            cur.length += next.length;
            continue;
        }
        if (cur.length > 0 && (ret = map_dump(json, &cur, &next)) < 0) {
            break;
        }
        cur = next;
    }
    if (ret >= 0) {
        ret = map_dump(json, &cur, NULL);
    }
    if (json) {
        printf("]\n");
    }
    bdrv_unref(bs);
    return ret < 0 ? 1 : 0;
}

/* ---- compare ------------------------------------------------------------------ */

#define COMPARE_BUF (2 * MiB)

/* Bytes equal (or different) from the start, in 512-byte steps as qemu-img counts. */
static bool compare_buffers(const uint8_t *a, const uint8_t *b, int64_t n, int64_t *pnum)
{
    int64_t i = MIN(n, 512);
    bool differ = memcmp(a, b, i) != 0;

    while (i < n) {
        int64_t l = MIN(n - i, 512);
        if ((memcmp(a + i, b + i, l) != 0) != differ) {
            break;
        }
        i += l;
    }
    *pnum = i;
    return differ;
}

/* 0 if [off, off+n) reads as zeroes, 1 (after saying where) if not, 4 on a read error. */
static int check_empty(BlockDriverState *bs, int64_t off, int64_t n, const char *name,
                       uint8_t *buf, bool quiet)
{
    int ret = bdrv_pread(bs, off, n, buf);

    if (ret < 0) {
        error_report("Error while reading offset %" PRId64 " of %s: %s", off, name,
                     strerror(-ret));
        return 4;
    }
    for (int64_t i = 0; i < n; i += 512) {
        int64_t l = MIN(512, n - i);
        bool zero = true;
        for (int64_t j = 0; j < l && zero; j++) {
            zero = !buf[i + j];
        }
        if (!zero) {
            if (!quiet) {
                printf("Content mismatch at offset %" PRId64 "!\n", off + i);
            }
            return 1;
        }
    }
    return 0;
}

static int cmd_compare(int argc, char **argv)
{
    const char *fmt1 = NULL, *fmt2 = NULL, *f1, *f2;
    bool quiet = false, strict = false, progress = false;
    BlockDriverState *bs1 = NULL, *bs2 = NULL;
    g_autofree uint8_t *buf1 = NULL, *buf2 = NULL;
    int64_t size1, size2, total, base, off = 0;
    int c, ret = 2;
    static struct option lo[] = { { "force-share", no_argument, NULL, 'U' }, { 0 } };

    while ((c = getopt_long(argc, argv, "hf:F:T:pqsU", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 's': strict = true; break;
        case 'T': break;
        case 'U': force_share = true; break;
        default: usage();
        }
    }
    if (quiet) {
        progress = false;
    }
    if (optind + 2 != argc) {
        error_report("Expecting two image file names");
        return 2;
    }
    f1 = argv[optind];
    f2 = argv[optind + 1];
    bs1 = open_image(f1, fmt1, 0);
    bs2 = bs1 ? open_image(f2, fmt2, 0) : NULL;
    if (!bs2) {
        goto out;
    }
    size1 = bdrv_getlength(bs1);
    size2 = bdrv_getlength(bs2);
    if (size1 < 0 || size2 < 0) {
        error_report("Can't get size of %s: %s", size1 < 0 ? f1 : f2,
                     strerror(-(int)(size1 < 0 ? size1 : size2)));
        ret = 4;
        goto out;
    }
    buf1 = g_malloc(COMPARE_BUF);
    buf2 = g_malloc(COMPARE_BUF);
    if (progress) {
        printf("    (0.00/100%%)\r");
        fflush(stdout);
    }
    total = MIN(size1, size2);
    base = MAX(size1, size2);
    if (strict && size1 != size2) {
        ret = 1;
        if (!quiet) {
            printf("Strict mode: Image size mismatch!\n");
        }
        goto out;
    }
    while (off < total) {
        int64_t p1, p2, chunk;
        int st1 = bdrv_block_status_above(bs1, off, size1 - off, &p1, NULL, NULL, NULL);
        int st2 = st1 < 0 ? 0 : bdrv_block_status_above(bs2, off, size2 - off, &p2, NULL,
                                                           NULL, NULL);
        bool a1, a2;
        if (st1 < 0 || st2 < 0) {
            error_report("Sector allocation test failed for %s", st1 < 0 ? f1 : f2);
            ret = 3;
            goto out;
        }
        a1 = st1 & BDRV_BLOCK_ALLOCATED;
        a2 = st2 & BDRV_BLOCK_ALLOCATED;
        chunk = MIN(MIN(p1, p2), total - off);
        if (strict && st1 != st2) {
            ret = 1;
            if (!quiet) {
                printf("Strict mode: Offset %" PRId64 " block status mismatch!\n", off);
            }
            goto out;
        }
        if ((st1 & BDRV_BLOCK_ZERO) && (st2 & BDRV_BLOCK_ZERO)) {
            /* both read as zeroes */
        } else if (a1 == a2) {
            if (a1) {
                int64_t same;
                chunk = MIN(chunk, COMPARE_BUF);
                if ((ret = bdrv_pread(bs1, off, chunk, buf1)) < 0 ||
                    (ret = bdrv_pread(bs2, off, chunk, buf2)) < 0) {
                    error_report("Error while reading offset %" PRId64 ": %s", off,
                                 strerror(-ret));
                    ret = 4;
                    goto out;
                }
                bool differ = compare_buffers(buf1, buf2, chunk, &same);
                if (differ || same != chunk) {
                    if (!quiet) {
                        printf("Content mismatch at offset %" PRId64 "!\n",
                               off + (differ ? 0 : same));
                    }
                    ret = 1;
                    goto out;
                }
            }
        } else {
            chunk = MIN(chunk, COMPARE_BUF);
            ret = check_empty(a1 ? bs1 : bs2, off, chunk, a1 ? f1 : f2, buf1, quiet);
            if (ret) {
                goto out;
            }
        }
        off += chunk;
        if (progress) {
            printf("    (%.2f/100%%)\r", off * 100.0 / base);
            fflush(stdout);
        }
    }
    if (size1 != size2) {
        BlockDriverState *over = size1 > size2 ? bs1 : bs2;
        const char *fover = size1 > size2 ? f1 : f2;
        if (!quiet) {
            printf("Warning: Image size mismatch!\n");
        }
        while (off < base) {
            int64_t chunk;
            int st = bdrv_block_status_above(over, off, base - off, &chunk, NULL, NULL, NULL);
            if (st < 0 || chunk <= 0) {
                error_report("Sector allocation test failed for %s", fover);
                ret = 3;
                goto out;
            }
            if ((st & BDRV_BLOCK_ALLOCATED) && !(st & BDRV_BLOCK_ZERO)) {
                chunk = MIN(chunk, COMPARE_BUF);
                ret = check_empty(over, off, chunk, fover, buf1, quiet);
                if (ret) {
                    goto out;
                }
            }
            off += chunk;
        }
    }
    if (!quiet) {
        printf("Images are identical.\n");
    }
    ret = 0;
out:
    if (progress) {
        printf("\n");                  /* qemu-img ends its progress line last */
    }
    bdrv_unref(bs2);
    bdrv_unref(bs1);
    return ret;
}

/* ---- snapshot ----------------------------------------------------------------- */

static int cmd_snapshot(int argc, char **argv)
{
    BlockDriverState *bs;
    bool list = false;
    int c;
    static struct option lo[] = { { "force-share", no_argument, NULL, 'U' }, { 0 } };

    while ((c = getopt_long(argc, argv, "la:c:d:hqU", lo, NULL)) != -1) {
        switch (c) {
        case 'l': list = true; break;
        case 'q': break;
        case 'U': force_share = true; break;
        case 'a': case 'c': case 'd':
            error_report("snapshot -%c is not supported yet (only -l lists snapshots)", c);
            return 1;
        default: usage();
        }
    }
    if (!list || optind + 1 != argc) {
        usage();
    }
    bs = open_image(argv[optind], NULL, BDRV_O_NO_BACKING);
    if (!bs) {
        return 1;
    }
    dump_snapshots(bs);
    bdrv_unref(bs);
    return 0;
}

int main(int argc, char **argv)
{
    error_set_progname("kite-img");       /* messages start "kite-img: " as qemu-img's do */
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
    } else if (!strcmp(argv[1], "map")) {
        return cmd_map(argc, argv);
    } else if (!strcmp(argv[1], "compare")) {
        return cmd_compare(argc, argv);
    } else if (!strcmp(argv[1], "snapshot")) {
        return cmd_snapshot(argc, argv);
    }
    usage();
}
