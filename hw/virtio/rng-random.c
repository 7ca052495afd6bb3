/*
 * Entropy backends: rng-random (a file such as /dev/urandom or /dev/random, read without
 * blocking so a starved /dev/random never stalls the main loop) and rng-builtin (getrandom).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/virtio/rng.h"
#include "kite/object-interfaces.h"
#include "kite/property.h"
#include <fcntl.h>
#include <sys/random.h>

ssize_t rng_builtin_read(void *buf, size_t len)
{
    ssize_t n;

    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t rng_backend_read(RngBackend *rng, void *buf, size_t len)
{
    ssize_t n;

    if (rng->fd < 0) {
        return rng_builtin_read(buf, len);
    }
    do {
        n = read(rng->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return -EIO;            /* a regular file ran out: no more entropy ever */
    }
    return n < 0 ? -errno : n;
}

int rng_backend_get_fd(RngBackend *rng)
{
    return rng->fd;
}

static void rng_backend_init(Object *obj)
{
    ((RngBackend *)obj)->fd = -1;
}

static void rng_backend_finalize(Object *obj)
{
    RngBackend *rng = (RngBackend *)obj;

    if (rng->fd >= 0) {
        close(rng->fd);
        rng->fd = -1;
    }
}

static const TypeInfo rng_backend_type = {
    .name = TYPE_RNG_BACKEND,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(RngBackend),
    .instance_init = rng_backend_init,
    .instance_finalize = rng_backend_finalize,
    .abstract = true,
};
KITE_TYPE_REGISTER(rng_backend_type)

static bool rng_random_complete(Object *obj, Error **errp)
{
    RngBackend *rng = (RngBackend *)obj;
    const char *path = rng->filename ? rng->filename : "/dev/urandom";

    rng->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rng->fd < 0) {
        error_setg_errno(errp, errno, "rng-random: cannot open '%s'", path);
        return false;
    }
    return true;
}

static void rng_random_class_init(ObjectClass *oc, const void *data)
{
    UserCreatableClass *ucc =
        (UserCreatableClass *)object_class_dynamic_cast(oc, TYPE_USER_CREATABLE);

    ucc->complete = rng_random_complete;
}

static const Property rng_random_props[] = {
    DEFINE_PROP_STRING_DEFAULT("filename", RngBackend, filename, "/dev/urandom"),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo rng_random_type = {
    .name = TYPE_RNG_RANDOM,
    .parent = TYPE_RNG_BACKEND,
    .desc = "entropy read from a file or device (filename=, default /dev/urandom)",
    .class_init = rng_random_class_init,
    .props = rng_random_props,
    .interfaces = (const char *const[]){ TYPE_USER_CREATABLE, NULL },
};
KITE_TYPE_REGISTER(rng_random_type)

static bool rng_builtin_complete(Object *obj, Error **errp)
{
    return true;
}

static void rng_builtin_class_init(ObjectClass *oc, const void *data)
{
    UserCreatableClass *ucc =
        (UserCreatableClass *)object_class_dynamic_cast(oc, TYPE_USER_CREATABLE);

    ucc->complete = rng_builtin_complete;
}

static const TypeInfo rng_builtin_type = {
    .name = TYPE_RNG_BUILTIN,
    .parent = TYPE_RNG_BACKEND,
    .desc = "entropy from the host's getrandom()",
    .class_init = rng_builtin_class_init,
    .interfaces = (const char *const[]){ TYPE_USER_CREATABLE, NULL },
};
KITE_TYPE_REGISTER(rng_builtin_type)
