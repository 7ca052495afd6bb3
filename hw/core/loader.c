/*
 * Blobs the machine writes into guest memory at every reset (kernels, initrds, boot
 * tables), and reading the files they come from.  See include/hw/loader.h.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/loader.h"
#include "kite/memory.h"
#include "kite/runstate.h"
#include "kite/log.h"
#include <fcntl.h>
#include <sys/stat.h>

typedef struct LoaderBlob {
    char *name;
    uint8_t *data;                /* NULL: len zero bytes */
    size_t len;
    hwaddr gpa;
} LoaderBlob;

char *(*loader_firmware_finder)(const char *name);

char *loader_find_firmware(const char *name)
{
    if (loader_firmware_finder) {
        return loader_firmware_finder(name);
    }
    return strchr(name, '/') && g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name)
                                                                           : NULL;
}

static GPtrArray *blobs;          /* of LoaderBlob *, in order of registration */
static bool reset_registered;

static void blob_free(gpointer p)
{
    LoaderBlob *b = p;

    g_free(b->name);
    g_free(b->data);
    g_free(b);
}

static void blob_write(const LoaderBlob *b)
{
    static const uint8_t zeroes[64 * KiB];

    kite_trace("loader_write", "%s gpa=0x%" HWADDR_PRIx " len=0x%zx", b->name, b->gpa, b->len);
    if (b->data) {
        address_space_write_rom(&address_space_memory, b->gpa, b->data, b->len);
        return;
    }
    for (size_t done = 0; done < b->len; done += sizeof(zeroes)) {
        address_space_write_rom(&address_space_memory, b->gpa + done, zeroes,
                                MIN(sizeof(zeroes), b->len - done));
    }
}

void loader_write_all(void)
{
    for (guint i = 0; blobs && i < blobs->len; i++) {
        blob_write(g_ptr_array_index(blobs, i));
    }
}

static void loader_reset(void *opaque)
{
    loader_write_all();
}

/* True if every byte of [gpa, gpa + len) is RAM or ROM in guest-physical memory. */
static bool range_is_ram(hwaddr gpa, size_t len)
{
    hwaddr addr = gpa, end = gpa + len;

    while (addr < end) {
        MemoryRegionSection s = address_space_find_section(&address_space_memory, addr);
        hwaddr next = s.offset_within_address_space + s.size;

        if (!s.mr || !memory_region_is_ram(s.mr)) {
            return false;
        }
        if (next <= addr) {
            return true;    /* the section reaches the top of the address space */
        }
        addr = next;
    }
    return true;
}

/* data NULL: zeroes. */
static bool blob_add(const char *name, void *data, size_t len, hwaddr gpa, Error **errp)
{
    LoaderBlob *b;

    if (len == 0 || gpa + len - 1 < gpa) {
        error_setg(errp, "%s: bad guest range 0x%" HWADDR_PRIx " + 0x%zx", name, gpa, len);
        g_free(data);
        return false;
    }
    for (guint i = 0; blobs && i < blobs->len; i++) {
        LoaderBlob *o = g_ptr_array_index(blobs, i);
        if (gpa < o->gpa + o->len && o->gpa < gpa + len) {
            error_setg(errp, "%s [0x%" HWADDR_PRIx "-0x%" HWADDR_PRIx "] overlaps %s "
                       "[0x%" HWADDR_PRIx "-0x%" HWADDR_PRIx "]", name, gpa, gpa + len - 1,
                       o->name, o->gpa, o->gpa + o->len - 1);
            g_free(data);
            return false;
        }
    }
    if (!range_is_ram(gpa, len)) {
        error_setg(errp, "%s [0x%" HWADDR_PRIx "-0x%" HWADDR_PRIx "] is not in guest RAM",
                   name, gpa, gpa + len - 1);
        g_free(data);
        return false;
    }

    b = g_new0(LoaderBlob, 1);
    b->name = g_strdup(name);
    b->data = data;
    b->len = len;
    b->gpa = gpa;
    if (!blobs) {
        blobs = g_ptr_array_new_with_free_func(blob_free);
    }
    g_ptr_array_add(blobs, b);
    if (!reset_registered) {
        system_register_reset(loader_reset, NULL);
        reset_registered = true;
    }
    /* Written now as well, so the machine's first reset is not needed to see it. */
    blob_write(b);
    return true;
}

bool loader_add_blob_owned(const char *name, void *data, size_t len, hwaddr gpa,
                           Error **errp)
{
    g_assert(data || len == 0);
    return blob_add(name, data, len, gpa, errp);
}

bool loader_add_blob(const char *name, const void *data, size_t len, hwaddr gpa,
                     Error **errp)
{
    return blob_add(name, len ? g_memdup2(data, len) : NULL, len, gpa, errp);
}

bool loader_add_zeroes(const char *name, size_t len, hwaddr gpa, Error **errp)
{
    return blob_add(name, NULL, len, gpa, errp);
}

void *loader_blob_data(const char *name, size_t *len, hwaddr *gpa)
{
    for (guint i = 0; blobs && i < blobs->len; i++) {
        LoaderBlob *b = g_ptr_array_index(blobs, i);
        if (!strcmp(b->name, name) && b->data) {
            if (len) {
                *len = b->len;
            }
            if (gpa) {
                *gpa = b->gpa;
            }
            return b->data;
        }
    }
    return NULL;
}

void loader_print_info(GString *out)
{
    for (guint i = 0; blobs && i < blobs->len; i++) {
        LoaderBlob *b = g_ptr_array_index(blobs, i);
        g_string_append_printf(out, "addr=%016" HWADDR_PRIx " size=0x%06zx mem=ram "
                               "name=\"%s\"%s\n", b->gpa, b->len, b->name,
                               b->data ? "" : " (zeroes)");
    }
}

unsigned loader_mark(void)
{
    return blobs ? blobs->len : 0;
}

void loader_rollback(unsigned mark)
{
    if (blobs && mark < blobs->len) {
        g_ptr_array_remove_range(blobs, mark, blobs->len - mark);
    }
}

void loader_clear(void)
{
    if (blobs) {
        g_ptr_array_free(blobs, true);
        blobs = NULL;
    }
    if (reset_registered) {
        system_unregister_reset(loader_reset, NULL);
        reset_registered = false;
    }
}

bool loader_load_file(const char *path, uint8_t **buf, size_t *len, size_t max,
                      Error **errp)
{
    struct stat st;
    uint8_t *data;
    size_t size, done = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open '%s'", path);
        return false;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "could not stat '%s'", path);
        close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        error_setg(errp, "'%s' is a directory, not a file", path);
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' is not a regular file", path);
        close(fd);
        return false;
    }
    if (st.st_size == 0) {
        error_setg(errp, "'%s' is empty", path);
        close(fd);
        return false;
    }
    if ((uint64_t)st.st_size > max) {
        error_setg(errp, "'%s' is too large (%" PRIu64 " bytes, at most %zu fit)", path,
                   (uint64_t)st.st_size, max);
        close(fd);
        return false;
    }

    size = st.st_size;
    data = g_try_malloc(size);
    if (!data) {
        error_setg(errp, "out of memory reading '%s' (%zu bytes)", path, size);
        close(fd);
        return false;
    }
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0) {
                error_setg_errno(errp, errno, "could not read '%s'", path);
            } else {
                error_setg(errp, "'%s' shrank while being read", path);
            }
            g_free(data);
            close(fd);
            return false;
        }
        done += n;
    }
    close(fd);
    *buf = data;
    *len = size;
    return true;
}
