/*
 * The SDL2 window front-end (ui/sdl2.c): -display sdl.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_SDL_H
#define UI_SDL_H

#include "kite/osdep.h"
#include "kite/error.h"

typedef struct SdlDisplayOptions {
    const char *vm_name;        /* -name, shown in the title; NULL for none */
    bool window_close;          /* closing the window asks the guest to power down */
} SdlDisplayOptions;

/* Whether this build has SDL2 at all. */
bool sdl_display_built(void);
/*
 * Open the window and start following the active console.  Fails (with errp) when SDL2
 * cannot initialise its video subsystem, e.g. no X server or Wayland compositor.
 */
bool sdl_display_init(const SdlDisplayOptions *opts, Error **errp);

#endif
