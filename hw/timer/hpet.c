/*
 * HPET: IA-PC High Precision Event Timer, specification revision 1.0a (Intel, October 2004).
 * Section numbers below are that document's.
 *
 * The main counter is not stored while it runs: it is the virtual clock (which stands still
 * while the VM is stopped) divided down to 100 MHz plus an offset, so reads are exact and cost
 * no timer.  Each comparator arms one virtual-clock timer for its next match.
 *
 * Matching follows QEMU's model, which guests are tested against: a comparator written in the
 * past (signed distance <= 0 in its width) matches on the next tick rather than after a full
 * wrap; a one-shot comparator fires once; a 32-bit one-shot comparator also fires when the
 * counter's low half wraps before the match (2.3.9.2.1).  Interrupts come only from timers
 * whose Tn_INT_ENB_CNF is set (QEMU runs no timer otherwise, so the level status bit of a
 * disabled comparator stays 0 too).  FSB (MSI) delivery is not offered (Tn_FSB_INT_DEL_CAP
 * reads 0, as QEMU's default "msi=off").
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/timer/hpet.h"
#include "hw/irq.h"
#include "kite/log.h"
#include "kite/timer.h"
#include "kite/vmstate.h"

/* 2.3.1 register offsets. */
#define HPET_GCAP_ID        0x000
#define HPET_GEN_CONF       0x010
#define HPET_GINTR_STA      0x020
#define HPET_MAIN_CNT       0x0f0
#define HPET_TIMER_BASE     0x100
#define HPET_TIMER_STRIDE   0x20
#define HPET_TN_CONF        0x00
#define HPET_TN_CMP         0x08
#define HPET_TN_FSB         0x10

/* 2.3.4 General Capabilities and ID. */
#define GCAP_REV_ID         0x01
#define GCAP_NUM_TIM_SHIFT  8
#define GCAP_COUNT_SIZE     (1u << 13)
#define GCAP_LEG_RT         (1u << 15)
#define GCAP_VENDOR_SHIFT   16
#define GCAP_VENDOR_INTEL   0x8086ULL

/* 2.3.5 General Configuration. */
#define CONF_ENABLE         (1u << 0)
#define CONF_LEG_RT         (1u << 1)

/* 2.3.8 Timer N Configuration and Capabilities. */
#define TN_INT_TYPE_LEVEL   (1ULL << 1)
#define TN_INT_ENB          (1ULL << 2)
#define TN_TYPE_PERIODIC    (1ULL << 3)
#define TN_PER_INT_CAP      (1ULL << 4)
#define TN_SIZE_CAP         (1ULL << 5)
#define TN_VAL_SET          (1ULL << 6)
#define TN_32MODE           (1ULL << 8)
#define TN_INT_ROUTE_SHIFT  9
#define TN_INT_ROUTE_MASK   (0x1fULL << TN_INT_ROUTE_SHIFT)
#define TN_FSB_EN           (1ULL << 14)
#define TN_FSB_INT_DEL_CAP  (1ULL << 15)
#define TN_INT_ROUTE_CAP_SHIFT 32
/* What software may set; bit 14 stays 0 because FSB delivery is not offered. */
#define TN_CONF_WRITABLE    (TN_INT_TYPE_LEVEL | TN_INT_ENB | TN_TYPE_PERIODIC | TN_VAL_SET | \
                             TN_32MODE | TN_INT_ROUTE_MASK)

#define HPET_NS_PER_TICK    (HPET_CLK_PERIOD_FS / 1000000)

OBJECT_DECLARE_SIMPLE_TYPE(HpetState, HPET)

typedef struct HpetTimer {
    struct HpetState *s;
    uint8_t tn;
    uint64_t config;            /* Tn_CONF_CAP: capabilities and configuration */
    uint64_t cmp;               /* Tn_COMP_VAL: the next match */
    uint64_t period;            /* periodic mode: last value written to the comparator */
    uint64_t fsb;               /* Tn_FSB_INT_ROUTE: kept, unused (no FSB capability) */
    bool wrap_pending;          /* 32-bit one-shot: armed for the wrap, not the match */
    KiteTimer *timer;
} HpetTimer;

struct HpetState {
    DeviceState parent_obj;
    MemoryRegion mmio;
    uint32_t num_timers;        /* property "timers" */
    uint32_t intcap;            /* property "hpet-intcap": Tn_INT_ROUTE_CAP of every timer */
    uint32_t saved_num_timers;  /* in the stream, checked against the property */
    uint64_t config;            /* GEN_CONF */
    uint64_t isr;               /* GINTR_STA */
    uint64_t counter;           /* the main counter while halted */
    uint64_t offset;            /* while running: counter = virtual ns / 10 + offset */
    uint8_t legacy_in;          /* levels of the PIT (bit 0) and RTC (bit 1) inputs */
    uint32_t out_level;         /* what each output line was last driven to */
    IRQState *irqs[HPET_NUM_IRQ_ROUTES];
    IRQState *pit_legacy;       /* HPET_PIT_LEGACY_OUT */
    HpetTimer timers[HPET_MAX_TIMERS];
};

/* ---------------------------------------------------------------- clock */

static bool hpet_enabled(HpetState *s)
{
    return s->config & CONF_ENABLE;
}

static bool hpet_legacy(HpetState *s)
{
    return s->config & CONF_LEG_RT;
}

static uint64_t hpet_clock_ticks(void)
{
    return (uint64_t)clock_get_ns(KITE_CLOCK_VIRTUAL) / HPET_NS_PER_TICK;
}

/* 2.3.7: the main counter now. */
static uint64_t hpet_counter(HpetState *s)
{
    return hpet_enabled(s) ? hpet_clock_ticks() + s->offset : s->counter;
}

/* ------------------------------------------------------------ interrupts */

static bool timer_periodic(HpetTimer *t)
{
    return t->config & TN_TYPE_PERIODIC;
}

static bool timer_32bit(HpetTimer *t)
{
    return t->config & TN_32MODE;
}

/* 2.3.5 LEG_RT_CNF: timer 0 goes to IRQ 0 (IOAPIC pin 2), timer 1 to IRQ 8. */
static unsigned timer_route(HpetTimer *t)
{
    if (hpet_legacy(t->s) && t->tn < 2) {
        return t->tn == 0 ? 0 : 8;
    }
    return (t->config & TN_INT_ROUTE_MASK) >> TN_INT_ROUTE_SHIFT;
}

/*
 * A level-mode timer holds its line while its status bit is set, interrupts are enabled
 * (2.3.8 Tn_INT_ENB_CNF) and the block runs (2.3.5 ENABLE_CNF: "disable all timer
 * interrupts").  Without LegacyReplacement the PIT and RTC inputs pass through on lines 0 and
 * 8; with it they are cut off.  Lines are shared, so each is the OR of its sources.
 */
static uint32_t hpet_line_levels(HpetState *s)
{
    uint32_t lines = 0;

    if (!hpet_legacy(s)) {
        lines |= (s->legacy_in & 1) ? 1u << 0 : 0;
        lines |= (s->legacy_in & 2) ? 1u << 8 : 0;
    }
    if (!hpet_enabled(s)) {
        return lines;
    }
    for (unsigned i = 0; i < s->num_timers; i++) {
        HpetTimer *t = &s->timers[i];
        if ((t->config & TN_INT_TYPE_LEVEL) && (t->config & TN_INT_ENB) &&
            (s->isr & (1ULL << i))) {
            lines |= 1u << timer_route(t);
        }
    }
    return lines;
}

static void hpet_update_lines(HpetState *s)
{
    uint32_t lines = hpet_line_levels(s);
    uint32_t changed = lines ^ s->out_level;

    s->out_level = lines;
    for (unsigned i = 0; changed; i++, changed >>= 1) {
        if (changed & 1) {
            irq_set_level(s->irqs[i], (lines >> i) & 1);
        }
    }
}

/* A comparator matched (2.3.6, 2.3.8): level mode latches status, edge mode pulses. */
static void hpet_timer_fire(HpetTimer *t)
{
    HpetState *s = t->s;
    unsigned route;

    if (t->config & TN_INT_TYPE_LEVEL) {
        s->isr |= 1ULL << t->tn;
        hpet_update_lines(s);
        return;
    }
    if (!(t->config & TN_INT_ENB) || !hpet_enabled(s)) {
        return;
    }
    route = timer_route(t);
    kite_trace("hpet_fire", "timer=%u route=%u", t->tn, route);
    if (!(s->out_level & (1u << route))) {
        /* An edge; a line another source holds high already cannot make one. */
        irq_set_level(s->irqs[route], 1);
        irq_set_level(s->irqs[route], 0);
    }
}

/* ---------------------------------------------------------------- timers */

/* Ticks from cur to the comparator in the timer's width; a match in the past is 1 tick. */
static uint64_t timer_ticks_to_match(HpetTimer *t, uint64_t cur)
{
    if (timer_32bit(t)) {
        uint32_t d = (uint32_t)t->cmp - (uint32_t)cur;
        return (int32_t)d > 0 ? d : 1;
    }
    return (int64_t)(t->cmp - cur) > 0 ? t->cmp - cur : 1;
}

/*
 * A periodic timer re-arms at least this far ahead: a guest's period of a few ticks would
 * otherwise keep the main loop in the callback.  The comparator still advances by whole
 * periods (catch-up), so only the interrupt rate is capped, at 100 kHz.
 */
#define HPET_MIN_REARM_NS 10000

/* Arm the timer for its next event from counter value cur (block running, INT_ENB set). */
static void timer_arm(HpetTimer *t, uint64_t cur, bool rearm)
{
    HpetState *s = t->s;
    uint64_t diff = timer_ticks_to_match(t, cur);
    uint64_t clock_ticks;
    int64_t expire;

    t->wrap_pending = false;
    if (timer_32bit(t) && !timer_periodic(t)) {
        /* 2.3.9.2.1: in 32-bit one-shot mode the wrap of the low half interrupts too. */
        uint64_t to_wrap = 0x100000000ULL - (uint32_t)cur;
        if (to_wrap < diff) {
            diff = to_wrap;
            t->wrap_pending = true;
        }
    }
    /* The virtual clock tick at which the counter reaches cur + diff. */
    clock_ticks = cur + diff - s->offset;
    if (clock_ticks > (uint64_t)INT64_MAX / HPET_NS_PER_TICK) {
        timer_del(t->timer);            /* centuries away */
        return;
    }
    expire = (int64_t)(clock_ticks * HPET_NS_PER_TICK);
    if (rearm) {
        expire = MAX(expire, clock_get_ns(KITE_CLOCK_VIRTUAL) + HPET_MIN_REARM_NS);
    }
    timer_mod_ns(t->timer, expire);
}

static void timer_update(HpetTimer *t)
{
    if (hpet_enabled(t->s) && (t->config & TN_INT_ENB)) {
        timer_arm(t, hpet_counter(t->s), false);
    } else {
        timer_del(t->timer);
        t->wrap_pending = false;
    }
}

/*
 * Periodic mode (2.3.9.2.2): each match adds the period to the comparator.  If the host fell
 * behind by several periods, catch up at once: one interrupt, the comparator past the counter.
 * The caller makes sure the period is not 0 (a periodic timer without one fires once, as
 * QEMU's, instead of matching on every tick).
 */
static void timer_advance_period(HpetTimer *t, uint64_t cur)
{
    uint64_t behind, n;

    if (timer_32bit(t)) {
        uint32_t p = (uint32_t)t->period;
        uint32_t b = (uint32_t)cur - (uint32_t)t->cmp;
        n = (int32_t)b >= 0 ? (uint64_t)b / p + 1 : 1;
        t->cmp = (uint32_t)((uint32_t)t->cmp + (uint32_t)(n * p));
        return;
    }
    behind = cur - t->cmp;
    n = (int64_t)behind >= 0 ? behind / t->period + 1 : 1;
    t->cmp += n * t->period;
}

static void hpet_timer_cb(void *opaque)
{
    HpetTimer *t = opaque;
    HpetState *s = t->s;
    uint64_t cur = hpet_counter(s);

    kite_trace("hpet_timer", "timer=%u counter=0x%" PRIx64 " cmp=0x%" PRIx64, t->tn, cur,
               t->cmp);
    if (!hpet_enabled(s) || !(t->config & TN_INT_ENB)) {
        return;
    }
    if (timer_periodic(t) && (timer_32bit(t) ? (uint32_t)t->period : t->period)) {
        timer_advance_period(t, cur);
        hpet_timer_fire(t);
        timer_arm(t, cur, true);
    } else if (t->wrap_pending) {
        hpet_timer_fire(t);
        timer_arm(t, cur, false);       /* now for the match itself */
    } else {
        hpet_timer_fire(t);             /* one-shot: done */
    }
}

/* ------------------------------------------------------------- registers */

static uint64_t timer_reg_read(HpetTimer *t, unsigned reg)
{
    switch (reg) {
    case HPET_TN_CONF:
        return t->config;
    case HPET_TN_CMP:
        return timer_32bit(t) ? (uint32_t)t->cmp : t->cmp;
    case HPET_TN_FSB:
        return t->fsb;
    }
    return 0;
}

static uint64_t hpet_read64(HpetState *s, uint64_t reg)
{
    uint64_t tn;

    switch (reg) {
    case HPET_GCAP_ID:
        return ((uint64_t)HPET_CLK_PERIOD_FS << 32) | (GCAP_VENDOR_INTEL << GCAP_VENDOR_SHIFT) |
               GCAP_LEG_RT | GCAP_COUNT_SIZE |
               ((s->num_timers - 1) << GCAP_NUM_TIM_SHIFT) | GCAP_REV_ID;
    case HPET_GEN_CONF:
        return s->config;
    case HPET_GINTR_STA:
        return s->isr;
    case HPET_MAIN_CNT:
        return hpet_counter(s);
    }
    if (reg >= HPET_TIMER_BASE) {
        tn = (reg - HPET_TIMER_BASE) / HPET_TIMER_STRIDE;
        if (tn < s->num_timers) {
            return timer_reg_read(&s->timers[tn], (reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE);
        }
    }
    kite_log_mask(LOG_GUEST_ERROR, "hpet: read of reserved offset 0x%" PRIx64 "\n", reg);
    return 0;
}

/* 2.3.5 ENABLE_CNF and LEG_RT_CNF. */
static void hpet_write_config(HpetState *s, uint64_t val)
{
    uint64_t old = s->config;

    s->config = val & (CONF_ENABLE | CONF_LEG_RT);
    if ((old ^ s->config) & CONF_ENABLE) {
        if (s->config & CONF_ENABLE) {
            /* The counter resumes from the value it halted at. */
            s->offset = s->counter - hpet_clock_ticks();
        } else {
            s->counter = hpet_clock_ticks() + s->offset;
        }
        for (unsigned i = 0; i < s->num_timers; i++) {
            timer_update(&s->timers[i]);
        }
    }
    if ((old ^ s->config) & CONF_LEG_RT) {
        kite_trace("hpet_legacy", "on=%d", !!(s->config & CONF_LEG_RT));
        irq_set_level(s->pit_legacy, hpet_legacy(s));
    }
    hpet_update_lines(s);
}

/* 2.3.8 Tn_CONF: route, type, mode, width; reserved and capability bits keep their value. */
static void timer_write_config(HpetTimer *t, uint64_t val)
{
    HpetState *s = t->s;
    uint64_t old = t->config;
    uint64_t route = (val & TN_INT_ROUTE_MASK) >> TN_INT_ROUTE_SHIFT;

    if (!(s->intcap & (1u << route))) {
        /* 2.3.8: an unsupported route does not take (it reads back as before). */
        kite_log_mask(LOG_GUEST_ERROR, "hpet: timer %u: IRQ %u not in Tn_INT_ROUTE_CAP 0x%x\n",
                      t->tn, (unsigned)route, s->intcap);
        val = (val & ~TN_INT_ROUTE_MASK) | (old & TN_INT_ROUTE_MASK);
    }
    if (!(old & TN_PER_INT_CAP)) {
        val &= ~TN_TYPE_PERIODIC;
    }
    t->config = (old & ~TN_CONF_WRITABLE) | (val & TN_CONF_WRITABLE);
    if (timer_32bit(t)) {
        /* 2.3.8 Tn_32MODE_CNF: the comparator is 32 bits wide from now on. */
        t->cmp = (uint32_t)t->cmp;
        t->period = (uint32_t)t->period;
    }
    if (!(t->config & TN_INT_TYPE_LEVEL)) {
        /* 2.3.6: in edge mode the status bit is not used and reads 0. */
        s->isr &= ~(1ULL << t->tn);
    }
    if ((old ^ t->config) & (TN_INT_ENB | TN_TYPE_PERIODIC | TN_32MODE)) {
        timer_update(t);
    }
    hpet_update_lines(s);
}

/*
 * 2.3.9 Tn_COMP: in one-shot mode, or right after Tn_VAL_SET_CNF in periodic mode, a write
 * sets the comparator; every write also sets the period that periodic matches add.  The
 * VAL_SET bit clears itself after the write.
 */
static void timer_write_cmp(HpetTimer *t, uint64_t val, uint64_t mask)
{
    if (timer_32bit(t)) {
        mask &= 0xffffffffULL;
    }
    if (!timer_periodic(t) || (t->config & TN_VAL_SET)) {
        t->cmp = (t->cmp & ~mask) | (val & mask);
    }
    t->period = (t->period & ~mask) | (val & mask);
    t->config &= ~TN_VAL_SET;
    timer_update(t);
}

static void hpet_write64(HpetState *s, uint64_t reg, uint64_t val, uint64_t mask)
{
    uint64_t tn;

    switch (reg) {
    case HPET_GCAP_ID:
        return;                                     /* read-only */
    case HPET_GEN_CONF:
        hpet_write_config(s, (s->config & ~mask) | (val & mask));
        return;
    case HPET_GINTR_STA:
        /* 2.3.6: writing 1 clears a level-mode status bit; 0 has no effect. */
        s->isr &= ~(val & mask);
        hpet_update_lines(s);
        return;
    case HPET_MAIN_CNT:
        if (hpet_enabled(s)) {
            /* 2.3.7: software writes it only while halted. */
            kite_log_mask(LOG_GUEST_ERROR, "hpet: main counter written while running\n");
            return;
        }
        s->counter = (s->counter & ~mask) | (val & mask);
        return;
    }
    if (reg >= HPET_TIMER_BASE) {
        tn = (reg - HPET_TIMER_BASE) / HPET_TIMER_STRIDE;
        if (tn < s->num_timers) {
            HpetTimer *t = &s->timers[tn];
            switch ((reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE) {
            case HPET_TN_CONF:
                timer_write_config(t, (t->config & ~mask) | (val & mask));
                return;
            case HPET_TN_CMP:
                timer_write_cmp(t, val, mask);
                return;
            case HPET_TN_FSB:
                t->fsb = (t->fsb & ~mask) | (val & mask);
                return;
            }
        }
    }
    kite_log_mask(LOG_GUEST_ERROR, "hpet: write to reserved offset 0x%" PRIx64 "\n", reg);
}

static bool hpet_access_ok(uint64_t addr, unsigned size)
{
    if ((size != 4 && size != 8) || (addr & (size - 1)) || addr >= HPET_LEN) {
        kite_log_mask(LOG_GUEST_ERROR, "hpet: bad %u-byte access at 0x%" PRIx64 "\n",
                      size, addr);
        return false;
    }
    return true;
}

uint64_t hpet_reg_read(DeviceState *dev, uint64_t addr, unsigned size)
{
    HpetState *s = HPET(dev);
    unsigned shift = (addr & 4) * 8;

    if (!hpet_access_ok(addr, size)) {
        return 0;
    }
    return size == 8 ? hpet_read64(s, addr) : (uint32_t)(hpet_read64(s, addr & ~7ULL) >> shift);
}

void hpet_reg_write(DeviceState *dev, uint64_t addr, uint64_t val, unsigned size)
{
    HpetState *s = HPET(dev);
    unsigned shift = (addr & 4) * 8;

    if (!hpet_access_ok(addr, size)) {
        return;
    }
    if (size == 8) {
        hpet_write64(s, addr, val, ~0ULL);
    } else {
        hpet_write64(s, addr & ~7ULL, (uint64_t)(uint32_t)val << shift, 0xffffffffULL << shift);
    }
}

static uint64_t hpet_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    return hpet_reg_read(opaque, addr, size);
}

static void hpet_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    hpet_reg_write(opaque, addr, val, size);
}

/* 2.3.1: 32- or 64-bit accesses, naturally aligned. */
static const MemoryRegionOps hpet_ops = {
    .read = hpet_mmio_read, .write = hpet_mmio_write,
    .valid = { 4, 8 }, .impl = { 4, 8 },
};

MemoryRegion *hpet_mmio(DeviceState *dev)
{
    return &HPET(dev)->mmio;
}

/* ------------------------------------------------------- legacy inputs */

/* ISA IRQ 0 (the 8254's OUT0) and IRQ 8 (the RTC) reach the board through here. */
static void hpet_legacy_in(void *opaque, int n, int level)
{
    HpetState *s = opaque;
    uint8_t bit = n == HPET_LEGACY_PIT_INT ? 1 : 2;

    if (n != HPET_LEGACY_PIT_INT && n != HPET_LEGACY_RTC_INT) {
        return;
    }
    s->legacy_in = level ? s->legacy_in | bit : s->legacy_in & ~bit;
    hpet_update_lines(s);
}

/* --------------------------------------------------------------- device */

/* 2.3: power-on values (comparators all ones, as QEMU's; everything else 0). */
static void hpet_reset(DeviceState *dev)
{
    HpetState *s = HPET(dev);

    for (unsigned i = 0; i < s->num_timers; i++) {
        HpetTimer *t = &s->timers[i];
        timer_del(t->timer);
        t->config = TN_PER_INT_CAP | TN_SIZE_CAP | ((uint64_t)s->intcap << TN_INT_ROUTE_CAP_SHIFT);
        t->cmp = ~0ULL;
        t->period = 0;
        t->fsb = 0;
        t->wrap_pending = false;
    }
    s->config = 0;
    s->isr = 0;
    s->counter = 0;
    s->offset = 0;
    hpet_update_lines(s);
    irq_set_level(s->pit_legacy, 0);
}

static void hpet_instance_init(Object *obj)
{
    HpetState *s = HPET(obj);
    DeviceState *dev = DEVICE(obj);

    qdev_init_gpio_out(dev, s->irqs, HPET_NUM_IRQ_ROUTES);
    qdev_init_gpio_in(dev, hpet_legacy_in, 2);
    qdev_init_gpio_out_named(dev, &s->pit_legacy, HPET_PIT_LEGACY_OUT, 1);
}

static void hpet_realize(DeviceState *dev, Error **errp)
{
    HpetState *s = HPET(dev);

    if (s->num_timers < HPET_MIN_TIMERS || s->num_timers > HPET_MAX_TIMERS) {
        error_setg(errp, "hpet: timers must be %d..%d, not %u", HPET_MIN_TIMERS,
                   HPET_MAX_TIMERS, s->num_timers);
        return;
    }
    s->saved_num_timers = s->num_timers;
    for (unsigned i = 0; i < s->num_timers; i++) {
        HpetTimer *t = &s->timers[i];
        t->s = s;
        t->tn = i;
        t->timer = timer_new_ns(KITE_CLOCK_VIRTUAL, hpet_timer_cb, t);
    }
    memory_region_init_io(&s->mmio, OBJECT(dev), &hpet_ops, s, "hpet", HPET_LEN);
}

static void hpet_unrealize(DeviceState *dev)
{
    HpetState *s = HPET(dev);

    for (unsigned i = 0; i < s->num_timers; i++) {
        timer_free(s->timers[i].timer);
        s->timers[i].timer = NULL;
    }
    if (memory_region_is_mapped(&s->mmio)) {
        memory_region_del_subregion(s->mmio.container, &s->mmio);
    }
    memory_region_destroy(&s->mmio);
}

static int hpet_post_load(void *opaque, int version_id)
{
    HpetState *s = opaque;

    if (s->saved_num_timers != s->num_timers) {
        return -1;                      /* configured differently */
    }
    s->config &= CONF_ENABLE | CONF_LEG_RT;
    for (unsigned i = 0; i < s->num_timers; i++) {
        HpetTimer *t = &s->timers[i];
        t->config = (t->config & TN_CONF_WRITABLE) | TN_PER_INT_CAP | TN_SIZE_CAP |
                    ((uint64_t)s->intcap << TN_INT_ROUTE_CAP_SHIFT);
    }
    /* The output lines are recomputed; the board's lines were restored by their owners. */
    s->out_level = hpet_line_levels(s);
    irq_set_level(s->pit_legacy, hpet_legacy(s));
    return 0;
}

static const VMStateDescription vmstate_hpet_timer = {
    .name = "hpet-timer", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(config, HpetTimer),
        VMSTATE_UINT64(cmp, HpetTimer),
        VMSTATE_UINT64(period, HpetTimer),
        VMSTATE_UINT64(fsb, HpetTimer),
        VMSTATE_BOOL(wrap_pending, HpetTimer),
        VMSTATE_TIMER_PTR(timer, HpetTimer),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_hpet = {
    .name = "hpet", .version_id = 1, .minimum_version_id = 1,
    .post_load = hpet_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(saved_num_timers, HpetState),
        VMSTATE_UINT64(config, HpetState),
        VMSTATE_UINT64(isr, HpetState),
        VMSTATE_UINT64(counter, HpetState),
        VMSTATE_UINT64(offset, HpetState),
        VMSTATE_UINT8(legacy_in, HpetState),
        VMSTATE_STRUCT_ARRAY(timers, HpetState, HPET_MAX_TIMERS, vmstate_hpet_timer, HpetTimer),
        VMSTATE_END_OF_LIST()
    },
};

static const Property hpet_props[] = {
    DEFINE_PROP_UINT32("timers", HpetState, num_timers, HPET_MIN_TIMERS),
    /* QEMU's pc: every timer may use IOAPIC pin 2 only (LegacyReplacement aside). */
    DEFINE_PROP_UINT32("hpet-intcap", HpetState, intcap, 0x4),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo hpet_type = {
    .name = TYPE_HPET,
    .parent = TYPE_SYS_BUS_DEVICE,
    .desc = "High Precision Event Timer",
    .instance_size = sizeof(HpetState),
    .instance_init = hpet_instance_init,
    .realize = hpet_realize,
    .unrealize = hpet_unrealize,
    .reset = hpet_reset,
    .props = hpet_props,
    .vmsd = &vmstate_hpet,
};
KITE_TYPE_REGISTER(hpet_type)
