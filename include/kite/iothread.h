/*
 * User-created iothreads (-object iothread,id=x).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_IOTHREAD_H
#define KITE_IOTHREAD_H

#include "kite/object.h"
#include "kite/main-loop.h"

#define TYPE_IOTHREAD "iothread"

typedef struct IOThreadObject IOThreadObject;

IOThreadObject *iothread_find(const char *id);
KiteContext *iothread_get_context(IOThreadObject *t);

#endif
