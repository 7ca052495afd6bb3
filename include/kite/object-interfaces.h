/*
 * User-creatable objects (-object): types implementing this interface may be created from
 * the command line and QMP; complete() runs after all properties are set.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_OBJECT_INTERFACES_H
#define KITE_OBJECT_INTERFACES_H

#include "kite/object.h"

#define TYPE_USER_CREATABLE "user-creatable"

typedef struct UserCreatableClass {
    InterfaceClass parent_class;
    bool (*complete)(Object *obj, Error **errp);
} UserCreatableClass;

#endif
