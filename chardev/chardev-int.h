/*
 * Chardev internals shared by the files in chardev/.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CHARDEV_INT_H
#define CHARDEV_INT_H

#include "kite/chardev.h"

/* Put chr at /chardevs/<chr->id> (the container then owns it). */
bool chardev_add_to_tree(Chardev *chr, Error **errp);
/* A mux named id over drv, which it deletes with itself (mux=on). */
Chardev *chardev_mux_create(const char *id, Chardev *drv, Error **errp);
void chardev_mux_quit(void);

#endif
