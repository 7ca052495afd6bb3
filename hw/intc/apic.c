/*
 * Local APIC (xAPIC), one per vCPU.
 *
 * Reference: Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 3A, chapter
 * 10 "Advanced Programmable Interrupt Controller (APIC)" (section numbers below are that
 * chapter's, as in the SDM editions up to 2022; later editions renumber it chapter 11).
 * Version register 0x50014 as QEMU's: version 0x14, six LVT entries (no CMCI), no EOI
 * broadcast suppression.
 *
 * Timer: the APIC timer counts virtual-clock nanoseconds divided by the divide configuration
 * (a 1 GHz bus clock, as in QEMU).  TSC-deadline mode compares the TSC the CPU glue provides
 * (apic_set_tsc_clock; default: virtual nanoseconds, a 1 GHz TSC).
 * Not emulated: x2APIC (IA32_APIC_BASE.EXTD is refused), relocation of the register page
 * (the page stays at 0xfee00000, logged), the Remote IRR and delivery status bits of the
 * LVT, ExtINT messages on the APIC bus, focus processor checking, INIT level de-assert.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"
#include "kite/log.h"
#include "kite/timer.h"

/* Register offsets (Table 10-1), in units of 16 bytes. */
#define APIC_ID         0x02
#define APIC_VERSION    0x03
#define APIC_TPR        0x08
#define APIC_APR        0x09
#define APIC_PPR        0x0a
#define APIC_EOI        0x0b
#define APIC_RRD        0x0c
#define APIC_LDR        0x0d
#define APIC_DFR        0x0e
#define APIC_SVR        0x0f
#define APIC_ISR        0x10
#define APIC_TMR        0x18
#define APIC_IRR        0x20
#define APIC_ESR        0x28
#define APIC_ICR_LO     0x30
#define APIC_ICR_HI     0x31
#define APIC_LVT_BASE   0x32    /* timer, thermal, perf, LINT0, LINT1, error */
#define APIC_TMICT      0x38
#define APIC_TMCCT      0x39
#define APIC_TDCR       0x3e

#define APIC_VERSION_VALUE  0x50014

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_NUM };

/* LVT bits (Figure 10-8). */
#define LVT_MASKED          (1u << 16)
#define LVT_LEVEL_TRIGGER   (1u << 15)
#define LVT_TIMER_SHIFT     17
#define LVT_TIMER_MODE(v)   (((v) >> LVT_TIMER_SHIFT) & 3)
enum { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE };

/* SVR (10.9, Figure 10-23); bit 12 is absent because version bit 24 is 0. */
#define SVR_ENABLE          (1u << 8)
#define SVR_WRITABLE        0x3ffu

/* ESR (10.5.3, Figure 10-9). */
#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECV_ILLEGAL    (1u << 6)
#define ESR_ILLEGAL_REG     (1u << 7)

/* ICR (10.6.1, Figure 10-12). */
#define ICR_DEST_LOGICAL    (1u << 11)
#define ICR_LEVEL_ASSERT    (1u << 14)
#define ICR_TRIGGER_LEVEL   (1u << 15)
#define ICR_SHORTHAND(v)    (((v) >> 18) & 3)
#define ICR_WRITABLE        0x000ccfffu     /* 19:18, 15:14, 11:0 */
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };

/* A periodic timer fires at most this often: interrupts coalesce in IRR anyway, and a guest
 * programming a 1 ns period must not starve the main loop. */
#define APIC_MIN_PERIOD_NS  10000

OBJECT_DECLARE_SIMPLE_TYPE(ApicState, APIC)

struct ApicState {
    DeviceState parent_obj;
    uint32_t initial_id;        /* property "apic-id" */
    bool bsp;                   /* property "bsp" */
    CPUState *cpu;              /* the owner (parent in the QOM tree, no reference) */

    uint64_t apicbase;
    uint8_t id;
    uint8_t tpr;
    uint32_t svr;
    uint8_t ldr;                /* LDR bits 31:24 */
    uint8_t dfr_model;          /* DFR bits 31:28: 0xf flat, 0x0 cluster */
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[LVT_NUM];
    uint32_t esr;               /* readable ESR */
    uint32_t esr_pending;       /* errors since the last ESR write */
    uint32_t icr_lo, icr_hi;
    uint32_t divide_conf;
    uint32_t initial_count;
    int64_t count_load_time;    /* virtual ns when the count was (re)started */
    int64_t next_time;          /* the timer's next expiry, -1 if stopped */
    uint64_t tsc_deadline;
    KiteTimer *timer;
    int32_t sipi_vector;        /* -1: none received */
    bool wait_for_sipi;
    bool pic_level;             /* LINT0 input */

    ApicTscFn *tsc_now;
    void *tsc_opaque;
    uint64_t tsc_khz;
};

static GPtrArray *apics;        /* realized APICs in creation order */
static unsigned apics_generation;
static MemoryRegion apic_mmio;

/* --------------------------------------------------------------- helpers */

static void vec_set(uint32_t *r, int v)
{
    r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, int v)
{
    r[v >> 5] &= ~(1u << (v & 31));
}

static bool vec_test(const uint32_t *r, int v)
{
    return r[v >> 5] & (1u << (v & 31));
}

/* Highest set vector, or -1. */
static int vec_highest(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--) {
        if (r[i]) {
            return i * 32 + 31 - __builtin_clz(r[i]);
        }
    }
    return -1;
}

static bool apic_hw_enabled(ApicState *s)
{
    return s->apicbase & MSR_IA32_APICBASE_EN;
}

static bool apic_sw_enabled(ApicState *s)
{
    return apic_hw_enabled(s) && (s->svr & SVR_ENABLE);
}

static int apic_timer_mode(ApicState *s)
{
    return LVT_TIMER_MODE(s->lvt[LVT_TIMER]);
}

static int apic_count_shift(ApicState *s)
{
    /* 10.5.4, Figure 10-10: bits 3,1:0 give divide by 2^((v + 1) & 7). */
    uint32_t v = (s->divide_conf & 3) | ((s->divide_conf >> 1) & 4);

    return (v + 1) & 7;
}

/* 10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0. */
static uint8_t apic_ppr(ApicState *s)
{
    int isrv = vec_highest(s->isr);
    uint8_t isr_class = isrv < 0 ? 0 : isrv & 0xf0;

    return (s->tpr & 0xf0) >= isr_class ? s->tpr : isr_class;
}

/* 10.6.2.4 / Figure 10-14 (arbitration priority, used for lowest-priority delivery). */
static uint8_t apic_apr(ApicState *s)
{
    int isrv = vec_highest(s->isr), irrv = vec_highest(s->irr);
    uint8_t tpr_c = s->tpr & 0xf0, isr_c = isrv < 0 ? 0 : isrv & 0xf0;
    uint8_t irr_c = irrv < 0 ? 0 : irrv & 0xf0;

    if (tpr_c >= irr_c && tpr_c > isr_c) {
        return s->tpr;
    }
    return MAX(tpr_c, MAX(isr_c, irr_c));
}

/* The fixed vector to deliver: > 0, 0 if IRR is empty, -1 if all are blocked by PPR. */
static int apic_irq_pending(ApicState *s)
{
    int irrv = vec_highest(s->irr);

    if (irrv < 0) {
        return 0;
    }
    /* 10.8.3.1: only a priority class above the PPR's is delivered. */
    if ((irrv & 0xf0) <= (apic_ppr(s) & 0xf0)) {
        return -1;
    }
    return irrv;
}

bool apic_accept_pic_intr(DeviceState *dev)
{
    ApicState *s = APIC(dev);
    uint32_t lvt0 = s->lvt[LVT_LINT0];

    /* 10.4.3: with the APIC hardware-disabled, LINT0 is the processor's INTR pin. */
    if (!apic_hw_enabled(s)) {
        return true;
    }
    return !(lvt0 & LVT_MASKED) && ((lvt0 >> 8) & 7) == APIC_DM_EXTINT;
}

static bool apic_want_hard(ApicState *s)
{
    if (s->pic_level && apic_accept_pic_intr(DEVICE(s))) {
        return true;
    }
    return apic_sw_enabled(s) && apic_irq_pending(s) > 0;
}

/* Keep CPU_INTERRUPT_HARD equal to "something to deliver". */
static void apic_update_irq(ApicState *s)
{
    if (!s->cpu) {
        return;
    }
    if (apic_want_hard(s)) {
        cpu_interrupt(s->cpu, CPU_INTERRUPT_HARD);
    } else {
        cpu_reset_interrupt(s->cpu, CPU_INTERRUPT_HARD);
    }
}

bool apic_has_pending(DeviceState *dev)
{
    return apic_want_hard(APIC(dev));
}

static void apic_local_deliver(ApicState *s, int lvt_index);

/* 10.5.3: record an error and signal it through the error LVT. */
static void apic_error(ApicState *s, uint32_t bit)
{
    s->esr_pending |= bit;
    apic_local_deliver(s, LVT_ERROR);
}

/* Accept a fixed interrupt into IRR (10.8.4 "Interrupt Acceptance for Fixed Interrupts"). */
static void apic_set_irq(ApicState *s, int vector, bool level)
{
    if (vector < 16) {
        /* 10.5.2: vectors 0-15 are illegal; a message with one is not accepted. */
        s->esr_pending |= ESR_RECV_ILLEGAL;
        if (!(s->lvt[LVT_ERROR] & LVT_MASKED) && (s->lvt[LVT_ERROR] & 0xff) >= 16) {
            apic_local_deliver(s, LVT_ERROR);
        }
        return;
    }
    vec_set(s->irr, vector);
    if (level) {
        vec_set(s->tmr, vector);
    } else {
        vec_clear(s->tmr, vector);
    }
    apic_update_irq(s);
}

/* An LVT source fires (10.5.1). */
static void apic_local_deliver(ApicState *s, int lvt_index)
{
    uint32_t lvt = s->lvt[lvt_index];
    int mode = (lvt >> 8) & 7;

    if (lvt & LVT_MASKED) {
        return;
    }
    if (lvt_index == LVT_TIMER || lvt_index == LVT_ERROR) {
        mode = APIC_DM_FIXED;   /* these entries have no delivery mode field */
    }
    switch (mode) {
    case APIC_DM_FIXED:
        /* Only LINT0/1 may be level-triggered; the others are always edge. */
        apic_set_irq(s, lvt & 0xff, (lvt_index == LVT_LINT0 || lvt_index == LVT_LINT1) &&
                                    (lvt & LVT_LEVEL_TRIGGER));
        break;
    case APIC_DM_SMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_SMI);
        break;
    case APIC_DM_NMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_NMI);
        break;
    case APIC_DM_INIT:
        s->wait_for_sipi = !s->bsp;
        cpu_interrupt(s->cpu, CPU_INTERRUPT_INIT);
        break;
    case APIC_DM_EXTINT:
        apic_update_irq(s);     /* the 8259 supplies the vector */
        break;
    default:
        kite_log_mask(LOG_GUEST_ERROR, "apic: LVT %d has reserved delivery mode %d\n",
                      lvt_index, mode);
        break;
    }
}

void apic_deliver_pic_intr(DeviceState *dev, int level)
{
    ApicState *s = APIC(dev);
    uint32_t lvt0 = s->lvt[LVT_LINT0];
    bool rising = level && !s->pic_level;
    int mode = (lvt0 >> 8) & 7;

    s->pic_level = level;
    if (apic_hw_enabled(s) && !(lvt0 & LVT_MASKED) && mode != APIC_DM_EXTINT) {
        if (mode == APIC_DM_FIXED && (lvt0 & LVT_LEVEL_TRIGGER)) {
            /* Level-triggered LINT0: the request follows the pin until accepted. */
            if (level) {
                apic_local_deliver(s, LVT_LINT0);
            } else {
                vec_clear(s->irr, lvt0 & 0xff);
            }
        } else if (rising) {
            apic_local_deliver(s, LVT_LINT0);
        }
    }
    apic_update_irq(s);
}

/* ------------------------------------------------------------------ timer */

static uint64_t apic_tsc(ApicState *s)
{
    return s->tsc_now ? s->tsc_now(s->tsc_opaque)
                      : (uint64_t)clock_get_ns(KITE_CLOCK_VIRTUAL);
}

static void apic_timer_arm(ApicState *s, int64_t when)
{
    s->next_time = when;
    if (s->timer) {
        if (when < 0) {
            timer_del(s->timer);
        } else {
            timer_mod_ns(s->timer, when);
        }
    }
}

/* 10.5.4: the current count as the guest reads it. */
static uint32_t apic_current_count(ApicState *s, int64_t now)
{
    int shift = apic_count_shift(s);
    uint64_t d;

    if (apic_timer_mode(s) == TIMER_TSC_DEADLINE || s->initial_count == 0 ||
        now < s->count_load_time) {
        return apic_timer_mode(s) == TIMER_TSC_DEADLINE ? 0 : s->initial_count;
    }
    d = (uint64_t)(now - s->count_load_time) >> shift;
    if (apic_timer_mode(s) == TIMER_PERIODIC) {
        return s->initial_count - d % s->initial_count;
    }
    return d >= s->initial_count ? 0 : s->initial_count - d;
}

/* Arm for the next time the count reaches zero after now (one-shot/periodic). */
static void apic_timer_rearm(ApicState *s, int64_t now)
{
    int64_t period, elapsed, next;

    if (apic_timer_mode(s) == TIMER_TSC_DEADLINE || s->initial_count == 0) {
        apic_timer_arm(s, -1);
        return;
    }
    period = (int64_t)s->initial_count << apic_count_shift(s);
    elapsed = now - s->count_load_time;
    if (apic_timer_mode(s) == TIMER_PERIODIC) {
        next = s->count_load_time + (elapsed < 0 ? 1 : elapsed / period + 1) * period;
        apic_timer_arm(s, next);
    } else if (elapsed < period) {
        apic_timer_arm(s, s->count_load_time + period);
    } else {
        apic_timer_arm(s, -1);  /* one-shot already expired */
    }
}

static void apic_deadline_rearm(ApicState *s)
{
    uint64_t tsc = apic_tsc(s), delta;
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);

    if (s->tsc_deadline == 0) {
        apic_timer_arm(s, -1);
        return;
    }
    if (tsc >= s->tsc_deadline) {
        apic_timer_arm(s, now);
        return;
    }
    delta = s->tsc_deadline - tsc;
    /* ns = ceil(delta * 10^6 / tsc_khz), so the TSC has passed the deadline when it fires. */
    apic_timer_arm(s, now + (int64_t)(((unsigned __int128)delta * 1000000 + s->tsc_khz - 1) /
                                      s->tsc_khz));
}

static void apic_timer_cb(void *opaque)
{
    ApicState *s = opaque;
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);

    if (apic_timer_mode(s) == TIMER_TSC_DEADLINE) {
        if (s->tsc_deadline == 0) {
            return;
        }
        if (apic_tsc(s) < s->tsc_deadline) {
            apic_deadline_rearm(s);
            return;
        }
        s->tsc_deadline = 0;    /* 10.5.4.1: the MSR reads 0 once the timer fired */
        s->next_time = -1;
        apic_local_deliver(s, LVT_TIMER);
        return;
    }
    if (s->initial_count == 0) {
        return;
    }
    kite_trace("apic_timer", "id=%d", s->id);
    apic_local_deliver(s, LVT_TIMER);
    if (apic_timer_mode(s) == TIMER_PERIODIC) {
        apic_timer_rearm(s, now);
        if (s->next_time - now < APIC_MIN_PERIOD_NS) {
            apic_timer_arm(s, now + APIC_MIN_PERIOD_NS);
        }
    } else {
        s->next_time = -1;
    }
}

void apic_set_tsc_clock(DeviceState *dev, ApicTscFn *tsc_now, void *opaque, uint64_t tsc_khz)
{
    ApicState *s = APIC(dev);

    s->tsc_now = tsc_now;
    s->tsc_opaque = opaque;
    s->tsc_khz = tsc_khz ? tsc_khz : 1000000;
    if (apic_timer_mode(s) == TIMER_TSC_DEADLINE) {
        apic_deadline_rearm(s);
    }
}

uint64_t apic_get_tsc_deadline(DeviceState *dev)
{
    ApicState *s = APIC(dev);

    /* 10.5.4.1: reads 0 outside TSC-deadline mode. */
    return apic_timer_mode(s) == TIMER_TSC_DEADLINE ? s->tsc_deadline : 0;
}

void apic_set_tsc_deadline(DeviceState *dev, uint64_t deadline)
{
    ApicState *s = APIC(dev);

    /* 10.5.4.1: writes are ignored outside TSC-deadline mode; 0 disarms. */
    if (apic_timer_mode(s) != TIMER_TSC_DEADLINE) {
        return;
    }
    s->tsc_deadline = deadline;
    apic_deadline_rearm(s);
}

static void apic_write_lvt_timer(ApicState *s, uint32_t val)
{
    int old_mode = apic_timer_mode(s);
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);

    if (LVT_TIMER_MODE(val) == 3) {
        kite_log_mask(LOG_GUEST_ERROR, "apic: reserved timer mode 3\n");
        val &= ~(2u << LVT_TIMER_SHIFT);
    }
    if (old_mode == TIMER_PERIODIC && LVT_TIMER_MODE(val) == TIMER_ONESHOT &&
        s->initial_count && now > s->count_load_time) {
        /* The count in progress runs out once: restart the time base at its period. */
        int64_t period = (int64_t)s->initial_count << apic_count_shift(s);
        s->count_load_time = now - (now - s->count_load_time) % period;
    }
    s->lvt[LVT_TIMER] = val;
    /* 10.5.4.1: switching to or from TSC-deadline mode disarms the timer. */
    if ((old_mode == TIMER_TSC_DEADLINE) != (apic_timer_mode(s) == TIMER_TSC_DEADLINE)) {
        s->initial_count = 0;
        s->tsc_deadline = 0;
        apic_timer_arm(s, -1);
    } else if (apic_timer_mode(s) != TIMER_TSC_DEADLINE) {
        apic_timer_rearm(s, now);
    }
}

static void apic_write_divide(ApicState *s, uint32_t val)
{
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
    int old_shift = apic_count_shift(s), new_shift;
    uint64_t ticks = now > s->count_load_time ? (now - s->count_load_time) >> old_shift : 0;

    s->divide_conf = val & 0xb;
    new_shift = apic_count_shift(s);
    /* Keep the count where it is: only its rate changes. */
    s->count_load_time = now - (int64_t)(ticks << new_shift);
    apic_timer_rearm(s, now);
}

/* ------------------------------------------------------------ the APIC bus */

static bool apic_match_dest(ApicState *s, uint8_t dest, bool logical)
{
    if (!logical) {
        return dest == 0xff || dest == s->id;       /* 10.6.2.1 */
    }
    if (dest == 0xff) {
        return true;            /* 10.6.2.2: broadcast */
    }
    switch (s->dfr_model) {
    case 0xf:                   /* flat: a bit per APIC */
        return (s->ldr & dest) != 0;
    case 0x0:                   /* cluster: 4-bit cluster ID, 4 member bits */
        return (s->ldr >> 4) == (dest >> 4) && (s->ldr & dest & 0x0f) != 0;
    default:
        return false;
    }
}

/* Send one message to the APICs in targets[] (n of them), 10.6.1 delivery modes. */
static void apic_bus_send(ApicState **targets, int n, int mode, uint8_t vector, bool level)
{
    ApicState *best = NULL;

    switch (mode) {
    case APIC_DM_LOWPRI:
        /* 10.6.2.4: the target with the lowest arbitration priority takes it. */
        for (int i = 0; i < n; i++) {
            if (apic_sw_enabled(targets[i]) &&
                (!best || apic_apr(targets[i]) < apic_apr(best))) {
                best = targets[i];
            }
        }
        if (best) {
            apic_set_irq(best, vector, level);
        }
        return;
    case APIC_DM_FIXED:
        for (int i = 0; i < n; i++) {
            /* A software-disabled APIC does not accept fixed interrupts (10.4.7.2). */
            if (apic_sw_enabled(targets[i])) {
                apic_set_irq(targets[i], vector, level);
            }
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        ApicState *t = targets[i];
        switch (mode) {
        case APIC_DM_SMI:
            cpu_interrupt(t->cpu, CPU_INTERRUPT_SMI);
            break;
        case APIC_DM_NMI:
            cpu_interrupt(t->cpu, CPU_INTERRUPT_NMI);
            break;
        case APIC_DM_INIT:
            /* The CPU glue runs apic_init_reset; the AP then waits for a SIPI. */
            t->wait_for_sipi = !t->bsp;
            t->sipi_vector = -1;
            cpu_interrupt(t->cpu, CPU_INTERRUPT_INIT);
            break;
        case APIC_DM_STARTUP:
            /* 10.6.1 / 8.4.4: a SIPI only starts a processor that waits for one. */
            if (t->wait_for_sipi) {
                t->wait_for_sipi = false;
                t->sipi_vector = vector;
                cpu_interrupt(t->cpu, CPU_INTERRUPT_SIPI);
            }
            break;
        default:
            kite_log_mask(LOG_UNIMP, "apic: delivery mode %d on the APIC bus\n", mode);
            return;
        }
    }
}

void apic_deliver_irq(uint8_t dest, bool dest_logical, uint8_t delivery_mode, uint8_t vector,
                      bool level_trigger)
{
    guint n = apics ? apics->len : 0;
    ApicState **targets = g_newa(ApicState *, n + 1);
    int nt = 0;

    for (guint i = 0; i < n; i++) {
        ApicState *s = apics->pdata[i];
        if (apic_hw_enabled(s) && apic_match_dest(s, dest, dest_logical)) {
            targets[nt++] = s;
        }
    }
    apic_bus_send(targets, nt, delivery_mode & 7, vector, level_trigger);
}

void apic_deliver_msi(uint64_t addr, uint32_t data)
{
    /* 10.11.1: address 0xfee, dest 19:12, DM bit 2; data: vector, mode 10:8, trigger 15. */
    if ((addr >> 20) != 0xfee) {
        kite_log_mask(LOG_GUEST_ERROR, "apic: MSI to 0x%" PRIx64 " outside 0xfeexxxxx\n",
                      addr);
        return;
    }
    apic_deliver_irq((addr >> 12) & 0xff, addr & 4, (data >> 8) & 7, data & 0xff,
                     data & (1u << 15));
}

/* Write of ICR low: send an IPI (10.6.1). */
static void apic_send_ipi(ApicState *s)
{
    uint32_t icr = s->icr_lo;
    int mode = (icr >> 8) & 7;
    uint8_t vector = icr & 0xff;
    guint n = apics->len;
    ApicState **targets = g_newa(ApicState *, n + 1);
    int nt = 0;

    if (mode == 3 || mode == APIC_DM_EXTINT) {
        kite_log_mask(LOG_GUEST_ERROR, "apic: IPI with reserved delivery mode %d\n", mode);
        return;
    }
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWPRI) && vector < 16) {
        apic_error(s, ESR_SEND_ILLEGAL);
        return;
    }
    if (mode == APIC_DM_INIT && !(icr & ICR_LEVEL_ASSERT) && (icr & ICR_TRIGGER_LEVEL)) {
        return;                 /* INIT level de-assert: no effect since the Pentium 4 */
    }
    for (guint i = 0; i < n; i++) {
        ApicState *t = apics->pdata[i];
        bool hit;
        switch (ICR_SHORTHAND(icr)) {
        case SH_SELF:
            hit = t == s;
            break;
        case SH_ALL:
            hit = true;
            break;
        case SH_OTHERS:
            hit = t != s;
            break;
        default:
            hit = apic_match_dest(t, s->icr_hi >> 24, icr & ICR_DEST_LOGICAL);
            break;
        }
        if (hit && apic_hw_enabled(t)) {
            targets[nt++] = t;
        }
    }
    kite_trace("apic_ipi", "from=%d icr=0x%08x dest=0x%02x targets=%d", s->id, icr,
               s->icr_hi >> 24, nt);
    apic_bus_send(targets, nt, mode, vector, icr & ICR_TRIGGER_LEVEL);
}

/* ----------------------------------------------------------- CPU interface */

int apic_get_interrupt(DeviceState *dev)
{
    ApicState *s = APIC(dev);
    int vector;

    if (!apic_sw_enabled(s)) {
        return -1;
    }
    /* ExtINT ignores the priority scheme: let the caller acknowledge the 8259 first. */
    if (s->pic_level && apic_accept_pic_intr(dev)) {
        return -1;
    }
    vector = apic_irq_pending(s);
    if (vector <= 0) {
        return -1;
    }
    /* 10.8.4: INTA moves the vector from IRR to ISR. */
    vec_clear(s->irr, vector);
    vec_set(s->isr, vector);
    apic_update_irq(s);
    return vector;
}

/* 10.8.5: EOI clears the highest ISR bit; level-triggered vectors are EOIed at the IOAPICs. */
static void apic_eoi(ApicState *s)
{
    int isrv = vec_highest(s->isr);

    if (isrv < 0) {
        return;
    }
    vec_clear(s->isr, isrv);
    if (vec_test(s->tmr, isrv)) {
        ioapic_eoi_broadcast(isrv);
    }
    apic_update_irq(s);
}

uint8_t apic_get_tpr(DeviceState *dev)
{
    return APIC(dev)->tpr >> 4;
}

void apic_set_tpr(DeviceState *dev, uint8_t cr8)
{
    ApicState *s = APIC(dev);

    s->tpr = (cr8 & 0xf) << 4;
    apic_update_irq(s);
}

uint64_t apic_get_base(DeviceState *dev)
{
    return APIC(dev)->apicbase;
}

/* Registers to their power-up/INIT values (10.4.7.1 and 10.4.7.3), ID and base kept. */
static void apic_regs_reset(ApicState *s)
{
    s->tpr = 0;
    s->svr = 0xff;
    s->ldr = 0;
    s->dfr_model = 0xf;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    for (int i = 0; i < LVT_NUM; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    s->divide_conf = 0;
    s->initial_count = 0;
    s->count_load_time = 0;
    s->tsc_deadline = 0;
    apic_timer_arm(s, -1);
}

bool apic_set_base(DeviceState *dev, uint64_t val)
{
    ApicState *s = APIC(dev);
    /*
     * 10.4.4, Figure 10-5: bits 7:0 and 9 are reserved, EXTD (x2APIC) is not offered, and no
     * base may exceed 52 physical address bits (the CPU glue checks its own MAXPHYADDR).
     */
    const uint64_t reserved = 0xff | (1ULL << 9) | MSR_IA32_APICBASE_EXTD | (0xfffULL << 52);

    if (val & reserved) {
        kite_log_mask(LOG_GUEST_ERROR, "apic: IA32_APIC_BASE 0x%" PRIx64 " sets reserved or "
                      "x2APIC bits\n", val);
        return false;
    }
    if ((val & ~0xfffULL) != APIC_DEFAULT_ADDRESS) {
        kite_log_mask(LOG_UNIMP, "apic: relocation to 0x%" PRIx64 " not emulated\n",
                      (uint64_t)(val & ~0xfffULL));
    }
    /* The BSP flag is read-only. */
    val = (val & ~MSR_IA32_APICBASE_BSP) | (s->apicbase & MSR_IA32_APICBASE_BSP);
    if (apic_hw_enabled(s) && !(val & MSR_IA32_APICBASE_EN)) {
        /* 10.4.3: disabling returns the APIC to its power-up state. */
        apic_regs_reset(s);
    }
    s->apicbase = val;
    apic_update_irq(s);
    return true;
}

void apic_init_reset(DeviceState *dev)
{
    ApicState *s = APIC(dev);

    apic_regs_reset(s);
    apic_update_irq(s);
}

int apic_get_sipi_vector(DeviceState *dev)
{
    ApicState *s = APIC(dev);
    int v = s->sipi_vector;

    s->sipi_vector = -1;
    return v;
}

/* ---------------------------------------------------------- MMIO registers */

static ApicState *apic_find_current(void)
{
    static __thread ApicState *cached;
    static __thread CPUState *cached_cpu;
    static __thread unsigned cached_gen;
    ApicState *found = NULL;

    if (cached && cached_cpu == current_cpu && cached_gen == apics_generation) {
        return cached;
    }
    for (guint i = 0; apics && i < apics->len; i++) {
        ApicState *s = apics->pdata[i];
        if (current_cpu ? s->cpu == current_cpu : s->cpu && s->cpu->cpu_index == 0) {
            found = s;
            break;
        }
    }
    if (!found && !current_cpu && apics && apics->len) {
        found = apics->pdata[0];
    }
    cached = found;
    cached_cpu = current_cpu;
    cached_gen = apics_generation;
    return found;
}

static uint64_t apic_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    ApicState *s = apic_find_current();
    unsigned reg = addr >> 4;

    if (!s || !apic_hw_enabled(s)) {
        return 0xffffffff;      /* no APIC: the page is unassigned */
    }
    if (addr & 0xf) {
        return 0;               /* 10.4.1: registers are 16-byte aligned; the rest reads 0 */
    }
    switch (reg) {
    case APIC_ID:
        return (uint32_t)s->id << 24;
    case APIC_VERSION:
        return APIC_VERSION_VALUE;
    case APIC_TPR:
        return s->tpr;
    case APIC_APR:
        return apic_apr(s);
    case APIC_PPR:
        return apic_ppr(s);
    case APIC_EOI:
    case APIC_RRD:
        return 0;
    case APIC_LDR:
        return (uint32_t)s->ldr << 24;
    case APIC_DFR:
        return ((uint32_t)s->dfr_model << 28) | 0x0fffffff;
    case APIC_SVR:
        return s->svr;
    case APIC_ISR ... APIC_ISR + 7:
        return s->isr[reg - APIC_ISR];
    case APIC_TMR ... APIC_TMR + 7:
        return s->tmr[reg - APIC_TMR];
    case APIC_IRR ... APIC_IRR + 7:
        return s->irr[reg - APIC_IRR];
    case APIC_ESR:
        return s->esr;
    case APIC_ICR_LO:
        return s->icr_lo;
    case APIC_ICR_HI:
        return s->icr_hi;
    case APIC_LVT_BASE ... APIC_LVT_BASE + LVT_NUM - 1:
        return s->lvt[reg - APIC_LVT_BASE];
    case APIC_TMICT:
        return apic_timer_mode(s) == TIMER_TSC_DEADLINE ? 0 : s->initial_count;
    case APIC_TMCCT:
        return apic_current_count(s, clock_get_ns(KITE_CLOCK_VIRTUAL));
    case APIC_TDCR:
        return s->divide_conf;
    }
    kite_log_mask(LOG_GUEST_ERROR, "apic: read of reserved register 0x%03x\n", reg << 4);
    apic_error(s, ESR_ILLEGAL_REG);
    return 0;
}

/* Writable bits of each LVT entry (Figure 10-8). */
static const uint32_t lvt_writable[LVT_NUM] = {
    [LVT_TIMER] = 0x000710ff,   /* vector, mask, timer mode 18:17 */
    [LVT_THERMAL] = 0x000107ff, /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107ff,
    [LVT_LINT0] = 0x0001a7ff,   /* + polarity (13) and trigger mode (15) */
    [LVT_LINT1] = 0x0001a7ff,
    [LVT_ERROR] = 0x000100ff,
};

static void apic_write_lvt(ApicState *s, int idx, uint32_t val)
{
    val &= lvt_writable[idx];
    if (!(s->svr & SVR_ENABLE)) {
        val |= LVT_MASKED;      /* 10.4.7.2: masks cannot be cleared while disabled */
    }
    if (idx == LVT_TIMER) {
        apic_write_lvt_timer(s, val);
        return;
    }
    s->lvt[idx] = val;
    if (idx == LVT_LINT0) {
        /* The 8259 path may open or close; a level already high may now deliver. */
        apic_deliver_pic_intr(DEVICE(s), s->pic_level);
    }
}

static void apic_mmio_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
    ApicState *s = apic_find_current();
    unsigned reg = addr >> 4;
    uint32_t val = data;

    if (!s || !apic_hw_enabled(s) || (addr & 0xf)) {
        return;
    }
    kite_trace("apic_write", "id=%d reg=0x%03x val=0x%08x", s->id, reg << 4, val);
    switch (reg) {
    case APIC_ID:
        s->id = val >> 24;
        return;
    case APIC_TPR:
        s->tpr = val & 0xff;
        apic_update_irq(s);
        return;
    case APIC_EOI:
        apic_eoi(s);
        return;
    case APIC_LDR:
        s->ldr = val >> 24;
        return;
    case APIC_DFR:
        s->dfr_model = val >> 28;
        return;
    case APIC_SVR:
        s->svr = val & SVR_WRITABLE;
        if (!(s->svr & SVR_ENABLE)) {
            for (int i = 0; i < LVT_NUM; i++) {
                s->lvt[i] |= LVT_MASKED;
            }
        }
        apic_update_irq(s);
        return;
    case APIC_ESR:
        /* 10.5.3: a write latches the errors since the last write and clears them. */
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        return;
    case APIC_ICR_LO:
        s->icr_lo = val & ICR_WRITABLE;     /* delivery status (12) stays 0: sent at once */
        apic_send_ipi(s);
        return;
    case APIC_ICR_HI:
        s->icr_hi = val & 0xff000000;
        return;
    case APIC_LVT_BASE ... APIC_LVT_BASE + LVT_NUM - 1:
        apic_write_lvt(s, reg - APIC_LVT_BASE, val);
        return;
    case APIC_TMICT:
        /* 10.5.4: a write (re)starts the count; ignored in TSC-deadline mode. */
        if (apic_timer_mode(s) != TIMER_TSC_DEADLINE) {
            s->initial_count = val;
            s->count_load_time = clock_get_ns(KITE_CLOCK_VIRTUAL);
            apic_timer_rearm(s, s->count_load_time);
        }
        return;
    case APIC_TDCR:
        apic_write_divide(s, val);
        return;
    case APIC_VERSION:
    case APIC_APR:
    case APIC_PPR:
    case APIC_RRD:
    case APIC_ISR ... APIC_ISR + 7:
    case APIC_TMR ... APIC_TMR + 7:
    case APIC_IRR ... APIC_IRR + 7:
    case APIC_TMCCT:
        kite_log_mask(LOG_GUEST_ERROR, "apic: write to read-only register 0x%03x\n", reg << 4);
        return;
    }
    kite_log_mask(LOG_GUEST_ERROR, "apic: write to reserved register 0x%03x\n", reg << 4);
    apic_error(s, ESR_ILLEGAL_REG);
}

static const MemoryRegionOps apic_mmio_ops = {
    .read = apic_mmio_read, .write = apic_mmio_write,
    .valid = { 1, 4 }, .impl = { 4, 4 },
};

MemoryRegion *apic_mmio_region(void)
{
    if (!apic_mmio.name) {
        memory_region_init_io(&apic_mmio, NULL, &apic_mmio_ops, NULL, "apic-msi",
                              APIC_SPACE_SIZE);
    }
    return &apic_mmio;
}

/* -------------------------------------------------------------- lifecycle */

/*
 * Power-up (10.4.7.1).  One deviation, as in QEMU: the BSP's LINT0 starts unmasked in ExtINT
 * mode - what every PC BIOS programs - so the 8259 reaches the BSP for guests started without
 * a BIOS (direct kernel boot, test kernels).
 */
static void apic_reset(DeviceState *dev)
{
    ApicState *s = APIC(dev);

    s->apicbase = APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_EN |
                  (s->bsp ? MSR_IA32_APICBASE_BSP : 0);
    s->id = s->initial_id;
    apic_regs_reset(s);
    if (s->bsp) {
        s->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    }
    s->wait_for_sipi = !s->bsp;
    s->sipi_vector = -1;
    apic_update_irq(s);
}

static void apic_realize(DeviceState *dev, Error **errp)
{
    ApicState *s = APIC(dev);

    if (!s->cpu) {
        error_setg(errp, "apic: create it with apic_new() for its CPU");
        return;
    }
    if (s->initial_id > 0xfe) {
        error_setg(errp, "apic: xAPIC ID %u does not fit in 8 bits (0xff is broadcast)",
                   s->initial_id);
        return;
    }
    s->timer = timer_new_ns(KITE_CLOCK_VIRTUAL, apic_timer_cb, s);
    s->next_time = -1;
    if (!s->tsc_khz) {
        s->tsc_khz = 1000000;
    }
    if (!apics) {
        apics = g_ptr_array_new();
    }
    g_ptr_array_add(apics, s);
    apics_generation++;
}

static void apic_unrealize(DeviceState *dev)
{
    ApicState *s = APIC(dev);

    g_ptr_array_remove(apics, s);
    apics_generation++;
    timer_free(s->timer);
    s->timer = NULL;
}

DeviceState *apic_new(CPUState *cpu, uint32_t apic_id, bool bsp)
{
    DeviceState *dev = qdev_new(TYPE_APIC);

    APIC(dev)->cpu = cpu;
    object_property_set_uint(OBJECT(dev), "apic-id", apic_id, &error_abort);
    object_property_set_bool(OBJECT(dev), "bsp", bsp, &error_abort);
    object_property_add_child(OBJECT(cpu), "lapic", OBJECT(dev), &error_abort);
    qdev_realize_and_unref(dev, NULL, &error_fatal);
    return dev;
}

static int apic_post_load(void *opaque, int version_id)
{
    ApicState *s = opaque;

    s->divide_conf &= 0xb;
    s->svr &= SVR_WRITABLE;
    for (int i = 0; i < LVT_NUM; i++) {
        s->lvt[i] &= lvt_writable[i];
    }
    if (s->sipi_vector < -1 || s->sipi_vector > 0xff) {
        return -1;
    }
    /* The timer itself was re-armed from its saved expiry by the stream. */
    apic_update_irq(s);
    return 0;
}

static const VMStateDescription vmstate_apic = {
    .name = "apic", .version_id = 1, .minimum_version_id = 1,
    .post_load = apic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(apicbase, ApicState),
        VMSTATE_UINT8(id, ApicState),
        VMSTATE_UINT8(tpr, ApicState),
        VMSTATE_UINT32(svr, ApicState),
        VMSTATE_UINT8(ldr, ApicState),
        VMSTATE_UINT8(dfr_model, ApicState),
        VMSTATE_UINT32_ARRAY(isr, ApicState, 8),
        VMSTATE_UINT32_ARRAY(tmr, ApicState, 8),
        VMSTATE_UINT32_ARRAY(irr, ApicState, 8),
        VMSTATE_UINT32_ARRAY(lvt, ApicState, LVT_NUM),
        VMSTATE_UINT32(esr, ApicState),
        VMSTATE_UINT32(esr_pending, ApicState),
        VMSTATE_UINT32(icr_lo, ApicState),
        VMSTATE_UINT32(icr_hi, ApicState),
        VMSTATE_UINT32(divide_conf, ApicState),
        VMSTATE_UINT32(initial_count, ApicState),
        VMSTATE_INT64(count_load_time, ApicState),
        VMSTATE_INT64(next_time, ApicState),
        VMSTATE_UINT64(tsc_deadline, ApicState),
        VMSTATE_TIMER_PTR(timer, ApicState),
        VMSTATE_INT32(sipi_vector, ApicState),
        VMSTATE_BOOL(wait_for_sipi, ApicState),
        VMSTATE_BOOL(pic_level, ApicState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property apic_props[] = {
    DEFINE_PROP_UINT32("apic-id", ApicState, initial_id, 0),
    DEFINE_PROP_BOOL("bsp", ApicState, bsp, false),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo apic_type = {
    .name = TYPE_APIC,
    .parent = TYPE_DEVICE,
    .desc = "local APIC (xAPIC) of one vCPU",
    .instance_size = sizeof(ApicState),
    .realize = apic_realize,
    .unrealize = apic_unrealize,
    .reset = apic_reset,
    .props = apic_props,
    .vmsd = &vmstate_apic,
};
KITE_TYPE_REGISTER(apic_type)
