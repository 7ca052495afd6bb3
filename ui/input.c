/*
 * Input routing: events from front-ends to the active device handler of their kind, and the
 * keyboard LED state from the keyboard back to front-ends.  See include/ui/input.h.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ui/input.h"

struct InputHandlerState {
    DeviceState *dev;
    const InputHandler *handler;
    InputHandlerState *next;
    bool pending;               /* got events since the last sync */
};

typedef struct LedNotifier {
    InputLedNotify *cb;
    void *opaque;
} LedNotifier;

/* Most recently activated first. */
static InputHandlerState *handlers;
static GSList *led_notifiers;
static unsigned led_state;

static void handler_unlink(InputHandlerState *s)
{
    for (InputHandlerState **p = &handlers; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            s->next = NULL;
            return;
        }
    }
}

InputHandlerState *input_handler_register(DeviceState *dev, const InputHandler *h)
{
    InputHandlerState *s = g_new0(InputHandlerState, 1);

    s->dev = dev;
    s->handler = h;
    s->next = handlers;
    handlers = s;
    return s;
}

void input_handler_activate(InputHandlerState *s)
{
    handler_unlink(s);
    s->next = handlers;
    handlers = s;
}

void input_handler_unregister(InputHandlerState *s)
{
    if (s) {
        handler_unlink(s);
        g_free(s);
    }
}

static InputHandlerState *input_find(InputEventKind kind)
{
    for (InputHandlerState *s = handlers; s; s = s->next) {
        if (s->handler->mask & (1u << kind)) {
            return s;
        }
    }
    return NULL;
}

static void input_deliver(const InputEvent *evt)
{
    InputHandlerState *s = input_find(evt->kind);

    if (s) {
        s->handler->event(s->dev, evt);
        s->pending = true;
    }
}

void input_event_sync(void)
{
    for (InputHandlerState *s = handlers; s; s = s->next) {
        if (s->pending) {
            s->pending = false;
            if (s->handler->sync) {
                s->handler->sync(s->dev);
            }
        }
    }
}

void input_event_send_key_qcode(QKeyCode qcode, bool down)
{
    InputEvent evt = { .kind = INPUT_EVENT_KIND_KEY };

    if (qcode <= Q_KEY_CODE_UNMAPPED || qcode >= Q_KEY_CODE__MAX) {
        return;
    }
    evt.key.qcode = qcode;
    evt.key.down = down;
    input_deliver(&evt);
    input_event_sync();
}

void input_queue_btn(InputButton btn, bool down)
{
    InputEvent evt = { .kind = INPUT_EVENT_KIND_BTN };

    if ((unsigned)btn >= INPUT_BUTTON__MAX) {
        return;
    }
    evt.btn.button = btn;
    evt.btn.down = down;
    input_deliver(&evt);
}

void input_queue_rel(InputAxis axis, int64_t delta)
{
    InputEvent evt = { .kind = INPUT_EVENT_KIND_REL };

    if ((unsigned)axis >= INPUT_AXIS__MAX || !delta) {
        return;
    }
    evt.move.axis = axis;
    evt.move.value = delta;
    input_deliver(&evt);
}

void input_queue_abs(InputAxis axis, int64_t value, int64_t size)
{
    InputEvent evt = { .kind = INPUT_EVENT_KIND_ABS };

    if ((unsigned)axis >= INPUT_AXIS__MAX || size <= 0) {
        return;
    }
    value = CLAMP(value, 0, size - 1);
    evt.move.axis = axis;
    /* Both ends reach the ends of the range: 0 -> MIN, size-1 -> MAX. */
    evt.move.value = size > 1 ? INPUT_ABS_MIN +
                     value * (INPUT_ABS_MAX - INPUT_ABS_MIN) / (size - 1) : INPUT_ABS_MIN;
    input_deliver(&evt);
}

bool input_mouse_is_absolute(void)
{
    InputHandlerState *s = input_find(INPUT_EVENT_KIND_ABS);
    InputHandlerState *r = input_find(INPUT_EVENT_KIND_REL);

    /* An absolute handler wins unless a relative one was activated after it. */
    for (InputHandlerState *p = handlers; p; p = p->next) {
        if (p == s) {
            return true;
        }
        if (p == r) {
            return false;
        }
    }
    return false;
}

void input_led_notifier_add(InputLedNotify *cb, void *opaque)
{
    LedNotifier *n = g_new0(LedNotifier, 1);

    n->cb = cb;
    n->opaque = opaque;
    led_notifiers = g_slist_append(led_notifiers, n);
}

void input_led_notifier_remove(InputLedNotify *cb, void *opaque)
{
    for (GSList *l = led_notifiers; l; l = l->next) {
        LedNotifier *n = l->data;
        if (n->cb == cb && n->opaque == opaque) {
            led_notifiers = g_slist_delete_link(led_notifiers, l);
            g_free(n);
            return;
        }
    }
}

void input_set_leds(unsigned ledstate)
{
    ledstate &= INPUT_LED_SCROLL | INPUT_LED_NUM | INPUT_LED_CAPS;
    if (ledstate == led_state) {
        return;
    }
    led_state = ledstate;
    for (GSList *l = led_notifiers; l; l = l->next) {
        LedNotifier *n = l->data;
        n->cb(n->opaque, ledstate);
    }
}

unsigned input_get_leds(void)
{
    return led_state;
}
