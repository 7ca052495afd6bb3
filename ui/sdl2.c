/*
 * -display sdl: the guest's screen in an SDL2 window, with its keyboard and mouse.
 *
 * A DisplayChangeListener on the active console.  The console's refresh timer (30 ms; idle
 * growth off, so input stays responsive) drives everything from the main loop: each tick
 * the devices report redrawn rectangles (dpy_gfx_update), which are uploaded into a
 * streaming texture of the guest's size, then dpy_refresh drains SDL's event queue and
 * presents the texture scaled to the window (resizable; SDL_RenderCopy scales).
 *
 * Input: keys by physical position (SDL scancodes are USB HID usages -> QKeyCode via
 * ui/keymaps.c); Ctrl-Alt-G toggles the grab, Ctrl-Alt-F full screen, Ctrl-Alt-U restores
 * the guest's size (hotkeys are not passed on).  The pointer goes to the
 * guest as relative motion while grabbed (a click in the window grabs), or as absolute
 * positions when the guest has an absolute device.  Keys still held when the window loses
 * focus are released, so the guest never sees a stuck key.
 *
 * The title is "Kite (NAME)" or "Kite", with " - Paused" while the VM does not run and the
 * grab hint while grabbed.  Closing the window asks the guest to power down (ACPI power
 * button, as system_powerdown), unless window-close=off.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/sdl.h"
#include "ui/console.h"
#include "ui/input.h"
#include "kite/runstate.h"
#include "kite/log.h"

#ifdef CONFIG_SDL
#include <SDL.h>

typedef struct SdlDisplay {
    DisplayChangeListener dcl;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    DisplaySurface *surface;
    int tex_w, tex_h;
    bool dirty;                         /* something to present */
    bool grab;
    bool title_stale;                   /* atomic: the run state changed */
    bool window_close;
    char *vm_name;
    bool pressed[Q_KEY_CODE__MAX];
    unsigned buttons;                   /* SDL button mask last sent */
    void *vmstate_entry;
} SdlDisplay;

static SdlDisplay *sdl;

bool sdl_display_built(void)
{
    return true;
}

static void sdl_update_title(SdlDisplay *s)
{
    g_autoptr(GString) t = g_string_new("Kite");

    if (s->vm_name) {
        g_string_append_printf(t, " (%s)", s->vm_name);
    }
    if (!runstate_is_running()) {
        g_string_append(t, " - Paused");
    }
    if (s->grab) {
        g_string_append(t, " - Press Ctrl-Alt-G to exit grab");
    }
    SDL_SetWindowTitle(s->window, t->str);
}

/* Run state changes may be announced off the main thread: SDL calls stay on it (refresh). */
static void sdl_vm_state_change(void *opaque, bool running, RunState state)
{
    SdlDisplay *s = opaque;

    __atomic_store_n(&s->title_stale, true, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------- output */

static void sdl_upload(SdlDisplay *s, int x, int y, int w, int h)
{
    DisplaySurface *surf = s->surface;
    SDL_Rect r;

    if (!surf || !s->texture) {
        return;
    }
    /* Clip to the texture (the console clips to the surface, which is the same size). */
    x = MAX(x, 0);
    y = MAX(y, 0);
    w = MIN(w, s->tex_w - x);
    h = MIN(h, s->tex_h - y);
    if (w <= 0 || h <= 0) {
        return;
    }
    r = (SDL_Rect){ x, y, w, h };
    SDL_UpdateTexture(s->texture, &r, surf->data + (size_t)y * surf->stride + (size_t)x * 4,
                      surf->stride);
    s->dirty = true;
}

static void sdl_gfx_update(DisplayChangeListener *dcl, int x, int y, int w, int h)
{
    sdl_upload(container_of(dcl, SdlDisplay, dcl), x, y, w, h);
}

static void sdl_gfx_switch(DisplayChangeListener *dcl, DisplaySurface *surf)
{
    SdlDisplay *s = container_of(dcl, SdlDisplay, dcl);

    s->surface = surf;
    if (!surf) {
        return;
    }
    if (!s->texture || s->tex_w != surf->width || s->tex_h != surf->height) {
        if (s->texture) {
            SDL_DestroyTexture(s->texture);
        }
        /* The console's surfaces are xRGB8888 in host order: SDL's RGB888 (alpha unused). */
        s->texture = SDL_CreateTexture(s->renderer, SDL_PIXELFORMAT_RGB888,
                                       SDL_TEXTUREACCESS_STREAMING, surf->width, surf->height);
        if (!s->texture) {
            error_report("sdl: cannot create a %dx%d texture: %s", surf->width, surf->height,
                         SDL_GetError());
            s->tex_w = s->tex_h = 0;
            return;
        }
        s->tex_w = surf->width;
        s->tex_h = surf->height;
        /* A guest mode change shows 1:1 (unless maximized); the user may scale after. */
        if (!(SDL_GetWindowFlags(s->window) &
              (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP))) {
            SDL_SetWindowSize(s->window, surf->width, surf->height);
        }
    }
    sdl_upload(s, 0, 0, surf->width, surf->height);
}

static void sdl_present(SdlDisplay *s)
{
    SDL_SetRenderDrawColor(s->renderer, 0, 0, 0, 255);
    SDL_RenderClear(s->renderer);
    if (s->texture) {
        SDL_RenderCopy(s->renderer, s->texture, NULL, NULL);    /* scaled to the window */
    }
    SDL_RenderPresent(s->renderer);
    s->dirty = false;
}

/* ----------------------------------------------------------------- input */

static void sdl_set_grab(SdlDisplay *s, bool grab)
{
    s->grab = grab;
    SDL_SetWindowGrab(s->window, grab ? SDL_TRUE : SDL_FALSE);
    /* Relative mode hides the host cursor and reports motion beyond the window's edges. */
    SDL_SetRelativeMouseMode(grab && !input_mouse_is_absolute() ? SDL_TRUE : SDL_FALSE);
    sdl_update_title(s);
}

static void sdl_release_keys(SdlDisplay *s)
{
    for (int q = 1; q < Q_KEY_CODE__MAX; q++) {
        if (s->pressed[q]) {
            s->pressed[q] = false;
            input_event_send_key_qcode(q, false);
        }
    }
}

static void sdl_key(SdlDisplay *s, const SDL_KeyboardEvent *ev)
{
    bool down = ev->type == SDL_KEYDOWN;
    QKeyCode q = input_usb_hid_to_qcode(ev->keysym.scancode);
    /* The modifiers as the guest has them pressed (SDL's mod state can lag synthetic input). */
    bool ctrl = s->pressed[Q_KEY_CODE_CTRL] || s->pressed[Q_KEY_CODE_CTRL_R];
    bool alt = s->pressed[Q_KEY_CODE_ALT] || s->pressed[Q_KEY_CODE_ALT_R];

    /* Hotkeys (QEMU's): G grab, F full screen, U back to the guest's size.  Not passed on. */
    if (down && ctrl && alt && ev->keysym.scancode == SDL_SCANCODE_G) {
        sdl_set_grab(s, !s->grab);
        return;
    }
    if (down && ctrl && alt && ev->keysym.scancode == SDL_SCANCODE_F) {
        bool full = SDL_GetWindowFlags(s->window) & SDL_WINDOW_FULLSCREEN_DESKTOP;
        SDL_SetWindowFullscreen(s->window, full ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
        s->dirty = true;
        return;
    }
    if (down && ctrl && alt && ev->keysym.scancode == SDL_SCANCODE_U) {
        if (s->tex_w && s->tex_h &&
            !(SDL_GetWindowFlags(s->window) & SDL_WINDOW_FULLSCREEN_DESKTOP)) {
            SDL_SetWindowSize(s->window, s->tex_w, s->tex_h);
            s->dirty = true;
        }
        return;
    }
    if (q == Q_KEY_CODE_UNMAPPED || (!down && !s->pressed[q])) {
        return;
    }
    s->pressed[q] = down;
    input_event_send_key_qcode(q, down);        /* repeats become typematic make codes */
}

/* Window coordinates to the guest screen's, through the scaling. */
static void sdl_abs_position(SdlDisplay *s, int wx, int wy)
{
    int ww, wh;

    SDL_GetWindowSize(s->window, &ww, &wh);
    if (ww <= 0 || wh <= 0 || !s->tex_w || !s->tex_h) {
        return;
    }
    input_queue_abs(INPUT_AXIS_X, CLAMP((int64_t)wx * s->tex_w / ww, 0, s->tex_w - 1), s->tex_w);
    input_queue_abs(INPUT_AXIS_Y, CLAMP((int64_t)wy * s->tex_h / wh, 0, s->tex_h - 1), s->tex_h);
}

static void sdl_send_buttons(SdlDisplay *s, unsigned state)
{
    static const struct { unsigned mask; InputButton btn; } map[] = {
        { SDL_BUTTON_LMASK, INPUT_BUTTON_LEFT }, { SDL_BUTTON_MMASK, INPUT_BUTTON_MIDDLE },
        { SDL_BUTTON_RMASK, INPUT_BUTTON_RIGHT }, { SDL_BUTTON_X1MASK, INPUT_BUTTON_SIDE },
        { SDL_BUTTON_X2MASK, INPUT_BUTTON_EXTRA },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if ((state ^ s->buttons) & map[i].mask) {
            input_queue_btn(map[i].btn, state & map[i].mask);
        }
    }
    s->buttons = state;
}

static void sdl_mouse_motion(SdlDisplay *s, const SDL_MouseMotionEvent *ev)
{
    if (input_mouse_is_absolute()) {
        sdl_abs_position(s, ev->x, ev->y);
    } else if (s->grab) {
        input_queue_rel(INPUT_AXIS_X, ev->xrel);
        input_queue_rel(INPUT_AXIS_Y, ev->yrel);
    } else {
        return;                     /* a relative mouse moves only while grabbed */
    }
    input_event_sync();
}

static void sdl_mouse_button(SdlDisplay *s, const SDL_MouseButtonEvent *ev)
{
    unsigned state = SDL_GetMouseState(NULL, NULL);

    if (!s->grab && !input_mouse_is_absolute()) {
        /* The first click grabs the pointer (and is not the guest's), as in QEMU. */
        if (ev->type == SDL_MOUSEBUTTONUP && ev->button == SDL_BUTTON_LEFT) {
            sdl_set_grab(s, true);
        }
        return;
    }
    if (input_mouse_is_absolute()) {
        sdl_abs_position(s, ev->x, ev->y);
    }
    sdl_send_buttons(s, state);
    input_event_sync();
}

static void sdl_wheel(SdlDisplay *s, const SDL_MouseWheelEvent *ev)
{
    InputButton b;

    if (!s->grab && !input_mouse_is_absolute()) {
        return;
    }
    if (ev->y == 0) {
        return;
    }
    b = ev->y > 0 ? INPUT_BUTTON_WHEEL_UP : INPUT_BUTTON_WHEEL_DOWN;
    input_queue_btn(b, true);
    input_event_sync();
    input_queue_btn(b, false);
    input_event_sync();
}

static void sdl_window_event(SdlDisplay *s, const SDL_WindowEvent *ev)
{
    switch (ev->event) {
    case SDL_WINDOWEVENT_CLOSE:
        if (s->window_close) {
            info_report("sdl: window closed, asking the guest to power down");
            system_powerdown_request();
        }
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        sdl_release_keys(s);
        if (s->grab) {
            sdl_set_grab(s, false);
        }
        break;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED:
    case SDL_WINDOWEVENT_RESIZED:
        s->dirty = true;
        break;
    default:
        break;
    }
}

static void sdl_refresh(DisplayChangeListener *dcl)
{
    SdlDisplay *s = container_of(dcl, SdlDisplay, dcl);
    SDL_Event ev;

    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            sdl_key(s, &ev.key);
            break;
        case SDL_MOUSEMOTION:
            sdl_mouse_motion(s, &ev.motion);
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            sdl_mouse_button(s, &ev.button);
            break;
        case SDL_MOUSEWHEEL:
            sdl_wheel(s, &ev.wheel);
            break;
        case SDL_WINDOWEVENT:
            sdl_window_event(s, &ev.window);
            break;
        case SDL_QUIT:
            /* The last window closing also arrives as SDL_QUIT: the CLOSE event handled it. */
            break;
        default:
            break;
        }
    }
    if (__atomic_exchange_n(&s->title_stale, false, __ATOMIC_ACQ_REL)) {
        sdl_update_title(s);
    }
    if (s->dirty) {
        sdl_present(s);
    }
}

static const DisplayChangeListenerOps sdl_dcl_ops = {
    .dpy_name = "sdl2",
    .dpy_refresh = sdl_refresh,
    .dpy_gfx_update = sdl_gfx_update,
    .dpy_gfx_switch = sdl_gfx_switch,
};

bool sdl_display_init(const SdlDisplayOptions *opts, Error **errp)
{
    const char *driver;
    SdlDisplay *s;

    if (sdl) {
        error_setg(errp, "the SDL display is already open");
        return false;
    }
    /* Kite handles SIGINT/SIGTERM itself (shutdown); SDL must not turn them into SDL_QUIT. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* Keep the desktop's compositor; a VM window is not a full-screen game. */
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
        error_setg(errp, "SDL2 cannot initialise video: %s", SDL_GetError());
        return false;
    }
    /*
     * Without a desktop SDL falls back to drivers that draw nowhere; a window nobody can see
     * is an error unless the user asked for such a driver (SDL_VIDEODRIVER).
     */
    driver = SDL_GetCurrentVideoDriver();
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy")) &&
        !getenv("SDL_VIDEODRIVER")) {
        error_setg(errp, "SDL2 cannot initialise video: no desktop to open a window on "
                   "(only its '%s' driver works; is $DISPLAY or $WAYLAND_DISPLAY set?)",
                   driver);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        return false;
    }
    s = g_new0(SdlDisplay, 1);
    s->vm_name = g_strdup(opts->vm_name);
    s->window_close = opts->window_close;
    s->window = SDL_CreateWindow("Kite", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                 640, 480, SDL_WINDOW_RESIZABLE);
    if (!s->window) {
        error_setg(errp, "SDL2 cannot open a window: %s", SDL_GetError());
        goto fail;
    }
    s->renderer = SDL_CreateRenderer(s->window, -1, 0);
    if (!s->renderer) {
        error_setg(errp, "SDL2 cannot create a renderer: %s", SDL_GetError());
        goto fail;
    }
    /* Scaled output: linear filtering reads better than nearest for text and photos. */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    sdl = s;
    sdl_update_title(s);
    s->vmstate_entry = vm_state_change_add(sdl_vm_state_change, s);
    s->dcl.ops = &sdl_dcl_ops;
    s->dcl.idle_growth_off = true;
    register_displaychangelistener(&s->dcl);
    sdl_present(s);
    return true;

fail:
    if (s->renderer) {
        SDL_DestroyRenderer(s->renderer);
    }
    if (s->window) {
        SDL_DestroyWindow(s->window);
    }
    g_free(s->vm_name);
    g_free(s);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    return false;
}

#else /* !CONFIG_SDL */

bool sdl_display_built(void)
{
    return false;
}

bool sdl_display_init(const SdlDisplayOptions *opts, Error **errp)
{
    error_setg(errp, "-display sdl: this Kite was built without SDL2 (install libsdl2-dev "
               "and reconfigure)");
    return false;
}

#endif
