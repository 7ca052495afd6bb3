/*
 * QEMU-style option strings: "value,key=val,key2=val2".
 *
 * ",," is a literal comma inside a value.  The first element may omit its key when the option
 * has an implied key (-device e1000 -> driver=e1000, -m 128 -> size=128).  A bare "key" means
 * key=on and a bare "nokey" means key=off, as in QEMU (-chardev socket,server,nowait).
 * Getters mark keys as used so that kite_opts_check_unused() can name an unknown key.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KITE_OPTS_H
#define KITE_OPTS_H

#include "kite/osdep.h"
#include "kite/error.h"

typedef struct KiteOpt {
    char *key;
    char *value;
    bool used;
} KiteOpt;

typedef struct KiteOpts {
    GPtrArray *items;   /* of KiteOpt *, in order of appearance */
} KiteOpts;

KiteOpts *kite_opts_new(void);
KiteOpts *kite_opts_parse(const char *str, const char *implied_key, Error **errp);
void kite_opts_free(KiteOpts *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KiteOpts, kite_opts_free)

void kite_opts_set(KiteOpts *opts, const char *key, const char *value);
bool kite_opts_has(KiteOpts *opts, const char *key);
/* The last value given for key (marks it used), or NULL. */
const char *kite_opts_get(KiteOpts *opts, const char *key);
/* Typed getters: true if absent (val untouched) or valid; false with an error otherwise. */
bool kite_opts_get_bool(KiteOpts *opts, const char *key, bool *val, Error **errp);
bool kite_opts_get_uint(KiteOpts *opts, const char *key, uint64_t *val, Error **errp);
bool kite_opts_get_size(KiteOpts *opts, const char *key, uint64_t default_unit, uint64_t *val,
                        Error **errp);
/* Remove key and return its value (caller frees), or NULL. */
char *kite_opts_take(KiteOpts *opts, const char *key);
/* Error naming the first key nobody read: "'what' does not take parameter 'key'". */
bool kite_opts_check_unused(KiteOpts *opts, const char *what, Error **errp);
/* Back to "k=v,k2=v2" with commas doubled. */
char *kite_opts_to_string(KiteOpts *opts);

#endif
