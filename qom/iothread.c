/*
 * -object iothread,id=NAME: a thread with its own event loop for block and network
 * backends (devices take it with an iothread= property).  In the core layer so that
 * devices can look one up by id.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/iothread.h"
#include "kite/object-interfaces.h"

struct IOThreadObject {
    Object parent_obj;
    KiteIOThread *thread;
};

static bool iothread_complete(Object *obj, Error **errp)
{
    IOThreadObject *t = (IOThreadObject *)obj;
    g_autofree char *name = g_strdup_printf("IO %s", object_get_name(obj));

    t->thread = kite_iothread_new(name, errp);
    return t->thread != NULL;
}

static void iothread_finalize(Object *obj)
{
    IOThreadObject *t = (IOThreadObject *)obj;

    if (t->thread) {
        kite_iothread_destroy(t->thread);
        t->thread = NULL;
    }
}

static void iothread_class_init(ObjectClass *oc, const void *data)
{
    UserCreatableClass *ucc =
        (UserCreatableClass *)object_class_dynamic_cast(oc, TYPE_USER_CREATABLE);

    ucc->complete = iothread_complete;
}

static const TypeInfo iothread_type = {
    .name = TYPE_IOTHREAD,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(IOThreadObject),
    .class_init = iothread_class_init,
    .instance_finalize = iothread_finalize,
    .interfaces = (const char *const[]){ TYPE_USER_CREATABLE, NULL },
};
KITE_TYPE_REGISTER(iothread_type)

IOThreadObject *iothread_find(const char *id)
{
    g_autofree char *path = g_strconcat("/objects/", id, NULL);

    return (IOThreadObject *)object_resolve_path_type(path, TYPE_IOTHREAD, NULL);
}

KiteContext *iothread_get_context(IOThreadObject *t)
{
    return kite_iothread_get_context(t->thread);
}
