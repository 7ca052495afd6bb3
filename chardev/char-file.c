/*
 * file and pipe backends.
 *
 * file,path=P[,append=on]: output only, to a regular file (truncated unless append=on).
 * pipe,path=P: both ways through FIFOs, P.in (towards Kite) and P.out if both exist, else P
 * itself.  FIFOs are opened O_RDWR so that opening does not wait for the other end, as QEMU does.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/chardev.h"
#include <fcntl.h>

typedef struct FileChardev {
    Chardev parent;
    char *path;
    bool append;
} FileChardev;
#define FILE_CHARDEV(obj) OBJECT_CHECK(FileChardev, obj, TYPE_CHARDEV_PREFIX "file")

static bool file_parse_path(FileChardev *f, KiteOpts *opts, const char *backend, Error **errp)
{
    const char *path = kite_opts_get(opts, "path");

    if (!path || !*path) {
        error_setg(errp, "chardev backend '%s' needs parameter 'path'", backend);
        return false;
    }
    f->path = g_strdup(path);
    return true;
}

static bool file_parse(Chardev *chr, KiteOpts *opts, Error **errp)
{
    FileChardev *f = FILE_CHARDEV(chr);

    return file_parse_path(f, opts, "file", errp) &&
           kite_opts_get_bool(opts, "append", &f->append, errp);
}

static bool file_open(Chardev *chr, Error **errp)
{
    FileChardev *f = FILE_CHARDEV(chr);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK |
                  (f->append ? O_APPEND : O_TRUNC), 0666);

    if (fd < 0) {
        error_setg_errno(errp, errno, "chardev '%s': cannot open '%s'", chr->id, f->path);
        return false;
    }
    chardev_fd_attach(chr, -1, fd, false);
    chardev_set_filename(chr, "file:%s", f->path);
    chr->be_open = true;
    return true;
}

static void file_finalize(Object *obj)
{
    g_free(FILE_CHARDEV(obj)->path);
}

static void file_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->parse = file_parse;
    cc->open = file_open;
}

static const TypeInfo file_type = {
    .name = TYPE_CHARDEV_PREFIX "file",
    .parent = TYPE_CHARDEV,
    .desc = "output to a file: path=P[,append=on]",
    .instance_size = sizeof(FileChardev),
    .class_init = file_class_init,
    .instance_finalize = file_finalize,
};
KITE_TYPE_REGISTER(file_type)

/* --- pipe --- */

static bool pipe_parse(Chardev *chr, KiteOpts *opts, Error **errp)
{
    return file_parse_path(FILE_CHARDEV(chr), opts, "pipe", errp);
}

static bool pipe_open(Chardev *chr, Error **errp)
{
    FileChardev *f = FILE_CHARDEV(chr);
    g_autofree char *in = g_strdup_printf("%s.in", f->path);
    g_autofree char *out = g_strdup_printf("%s.out", f->path);
    int fd_in, fd_out;

    fd_in = open(in, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    fd_out = open(out, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd_in < 0 || fd_out < 0) {
        if (fd_in >= 0) {
            close(fd_in);
        }
        if (fd_out >= 0) {
            close(fd_out);
        }
        fd_in = fd_out = open(f->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd_in < 0) {
            error_setg_errno(errp, errno, "chardev '%s': cannot open '%s' (nor '%s' and '%s')",
                             chr->id, f->path, in, out);
            return false;
        }
    }
    chardev_fd_attach(chr, fd_in, fd_out, false);
    chardev_set_filename(chr, "pipe:%s", f->path);
    chr->be_open = true;
    return true;
}

static void pipe_class_init(ObjectClass *klass, const void *data)
{
    ChardevClass *cc = CHARDEV_CLASS(klass);

    cc->parse = pipe_parse;
    cc->open = pipe_open;
}

static const TypeInfo pipe_type = {
    .name = TYPE_CHARDEV_PREFIX "pipe",
    .parent = TYPE_CHARDEV_PREFIX "file",
    .desc = "both ways through FIFOs: path=P (P.in and P.out, or P)",
    .class_init = pipe_class_init,
};
KITE_TYPE_REGISTER(pipe_type)
