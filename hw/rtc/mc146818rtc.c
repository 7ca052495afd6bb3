/*
 * Motorola MC146818A real-time clock plus RAM, as wired in the PC: index port 0x70 (bit 7
 * is the NMI mask of the PC's glue logic), data port 0x71, 128 bytes of CMOS, IRQ 8.
 *
 * Reference: Motorola MC146818A data sheet - "Address Map" (Figure/Table 2), "Time,
 * Calendar and Alarm Data Modes" (Table 3), "Update Cycle", "Register A" (UIP, DV2-0, RS3-0;
 * Table 5 periodic interrupt rates, Table 6 update cycle times), "Register B" (SET, PIE, AIE,
 * UIE, SQWE, DM, 24/12, DSE), "Register C" (IRQF, PF, AF, UF, cleared by a read),
 * "Register D" (VRT), "Interrupts" and "Reset".
 *
 * Time model: while updates run (SET = 0, divider running) the date is guest RTC time =
 * virtual clock + offset, and the time registers are recomputed from it when read, so the
 * update cycle is instantaneous at each second boundary; UIP is 1 from 244 us before it
 * until 1984 us after (Table 6).  While updates are inhibited the registers hold the time.
 * The date starts at the host's wall clock (CLOCK_HOST), read as UTC.  Flags are computed
 * lazily when register C is read; timers run only while an interrupt is enabled.
 * Not emulated: the square-wave output, daylight saving (DSE), the 4.19/1.05 MHz time bases
 * (DV 000/001 run at the 32.768 kHz rate), lost-tick compensation for periodic interrupts.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <time.h>
#include "hw/rtc/mc146818rtc.h"
#include "kite/log.h"
#include "kite/timer.h"

/* Address map. */
#define RTC_SECONDS         0x00
#define RTC_SECONDS_ALARM   0x01
#define RTC_MINUTES         0x02
#define RTC_MINUTES_ALARM   0x03
#define RTC_HOURS           0x04
#define RTC_HOURS_ALARM     0x05
#define RTC_DAY_OF_WEEK     0x06
#define RTC_DAY_OF_MONTH    0x07
#define RTC_MONTH           0x08
#define RTC_YEAR            0x09
#define RTC_REG_A           0x0a
#define RTC_REG_B           0x0b
#define RTC_REG_C           0x0c
#define RTC_REG_D           0x0d
#define CMOS_SIZE           128

#define REG_A_UIP           0x80
#define REG_A_DV_MASK       0x70
#define REG_A_DV_32KHZ      0x20
#define REG_A_RS_MASK       0x0f
#define REG_B_SET           0x80
#define REG_B_PIE           0x40
#define REG_B_AIE           0x20
#define REG_B_UIE           0x10
#define REG_B_SQWE          0x08
#define REG_B_DM            0x04    /* 1 = binary, 0 = BCD */
#define REG_B_24H           0x02
#define REG_C_IRQF          0x80
#define REG_C_PF            0x40
#define REG_C_AF            0x20
#define REG_C_UF            0x10
#define REG_C_FLAGS         (REG_C_PF | REG_C_AF | REG_C_UF)   /* aligned with B's enables */
#define REG_D_VRT           0x80

#define RTC_FREQ            32768
#define UIP_BEFORE_NS       244141      /* t_BUC: 8 cycles of 32.768 kHz */
#define UIP_UPDATE_NS       1984000     /* t_UC for the 32.768 kHz time base */
#define ALARM_DONT_CARE     0xc0

typedef struct RtcState {
    IsaDevice parent_obj;
    uint32_t iobase;
    uint8_t irq_num;

    MemoryRegion io;
    IRQState *irq;
    KiteTimer *periodic_timer;      /* armed while PIE is set and a rate is selected */
    KiteTimer *update_timer;        /* armed while UIE or AIE is set */

    uint8_t cmos[CMOS_SIZE];
    uint8_t index;
    bool nmi_masked;                /* port 0x70 bit 7: recorded, the NMI is not gated yet */
    int64_t offset_ns;              /* guest RTC time (ns since 1970) - virtual clock */
    int64_t last_update_sec;        /* last second boundary accounted for in UF/AF */
    int64_t last_period;            /* periodic interrupt count accounted for in PF */
} RtcState;

static RtcState *RTC(const void *obj)
{
    return OBJECT_CHECK(RtcState, obj, TYPE_MC146818_RTC);
}

/* ------------------------------------------------------- time helpers */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* DV2-0: 11x resets the divider chain and 011/10x are test modes; time stands still. */
static bool rtc_clock_running(RtcState *s)
{
    return (s->cmos[RTC_REG_A] & REG_A_DV_MASK) <= REG_A_DV_32KHZ;
}

static bool rtc_updates_enabled(RtcState *s)
{
    return rtc_clock_running(s) && !(s->cmos[RTC_REG_B] & REG_B_SET);
}

static int64_t rtc_guest_ns(RtcState *s)
{
    return clock_get_ns(KITE_CLOCK_VIRTUAL) + s->offset_ns;
}

/* Table 3: BCD or binary according to DM. */
static uint8_t rtc_to_reg(RtcState *s, int v)
{
    return (s->cmos[RTC_REG_B] & REG_B_DM) ? v : ((v / 10) << 4) | (v % 10);
}

static int rtc_from_reg(RtcState *s, uint8_t v)
{
    return (s->cmos[RTC_REG_B] & REG_B_DM) ? v : (v >> 4) * 10 + (v & 0x0f);
}

/* 12-hour mode: 1-12 with bit 7 for PM. */
static uint8_t rtc_hour_to_reg(RtcState *s, int h)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_to_reg(s, h);
    }
    return rtc_to_reg(s, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int rtc_hour_from_reg(RtcState *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & REG_B_24H) {
        return rtc_from_reg(s, v);
    }
    return rtc_from_reg(s, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* Load the time and calendar registers with second sec (UTC). */
static void rtc_regs_from_time(RtcState *s, int64_t sec)
{
    time_t t = sec;
    struct tm tm;

    gmtime_r(&t, &tm);
    s->cmos[RTC_SECONDS] = rtc_to_reg(s, tm.tm_sec);
    s->cmos[RTC_MINUTES] = rtc_to_reg(s, tm.tm_min);
    s->cmos[RTC_HOURS] = rtc_hour_to_reg(s, tm.tm_hour);
    s->cmos[RTC_DAY_OF_WEEK] = rtc_to_reg(s, tm.tm_wday + 1);   /* Sunday = 1 */
    s->cmos[RTC_DAY_OF_MONTH] = rtc_to_reg(s, tm.tm_mday);
    s->cmos[RTC_MONTH] = rtc_to_reg(s, tm.tm_mon + 1);
    s->cmos[RTC_YEAR] = rtc_to_reg(s, (tm.tm_year + 1900) % 100);
    s->cmos[RTC_CENTURY] = rtc_to_reg(s, (tm.tm_year + 1900) / 100);
}

/* The second the registers hold; any guest-written garbage just normalizes. */
static int64_t rtc_time_from_regs(RtcState *s)
{
    struct tm tm = { 0 };
    int century = rtc_from_reg(s, s->cmos[RTC_CENTURY]);
    int year = rtc_from_reg(s, s->cmos[RTC_YEAR]);

    if (century < 19 || century > 99) {
        century = year < 70 ? 20 : 19;      /* no (valid) century byte: 1970-2069 */
    }
    tm.tm_sec = rtc_from_reg(s, s->cmos[RTC_SECONDS]);
    tm.tm_min = rtc_from_reg(s, s->cmos[RTC_MINUTES]);
    tm.tm_hour = rtc_hour_from_reg(s, s->cmos[RTC_HOURS]);
    tm.tm_mday = rtc_from_reg(s, s->cmos[RTC_DAY_OF_MONTH]);
    tm.tm_mon = rtc_from_reg(s, s->cmos[RTC_MONTH]) - 1;
    tm.tm_year = century * 100 + year - 1900;
    return timegm(&tm);
}

/* While updates run, bring the registers up to the current second. */
static void rtc_refresh(RtcState *s)
{
    if (rtc_updates_enabled(s)) {
        rtc_regs_from_time(s, floor_div(rtc_guest_ns(s), NANOSECONDS_PER_SECOND));
    }
}

/* Table 5: the periodic interrupt period in 32.768 kHz cycles (RS = 1, 2 alias 8, 9). */
static int64_t rtc_period_cycles(RtcState *s)
{
    unsigned rs = s->cmos[RTC_REG_A] & REG_A_RS_MASK;

    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
}

static int64_t rtc_period_index(RtcState *s)
{
    __int128 cycles = (__int128)rtc_guest_ns(s) * RTC_FREQ / NANOSECONDS_PER_SECOND;

    return cycles / rtc_period_cycles(s);
}

/* Start counting updates and periods from now (after the time or the rate changed). */
static void rtc_resync(RtcState *s)
{
    s->last_update_sec = floor_div(rtc_guest_ns(s), NANOSECONDS_PER_SECOND);
    s->last_period = rtc_period_index(s);
}

/* Start the clock at second sec, fraction frac_ns (the divider's phase). */
static void rtc_set_time(RtcState *s, int64_t sec, int64_t frac_ns)
{
    s->offset_ns = sec * NANOSECONDS_PER_SECOND + frac_ns - clock_get_ns(KITE_CLOCK_VIRTUAL);
    rtc_resync(s);
}

/* ------------------------------------------------------ flags and IRQ */

/* "Alarm": each alarm byte matches its time byte, or is a don't-care (C0h-FFh). */
static bool rtc_alarm_matches(RtcState *s, int64_t sec)
{
    int64_t sod = sec - floor_div(sec, 86400) * 86400;
    uint8_t now[3] = {
        rtc_to_reg(s, sod % 60), rtc_to_reg(s, sod / 60 % 60), rtc_hour_to_reg(s, sod / 3600)
    };
    static const uint8_t alarm_regs[3] = {
        RTC_SECONDS_ALARM, RTC_MINUTES_ALARM, RTC_HOURS_ALARM
    };

    for (int i = 0; i < 3; i++) {
        uint8_t a = s->cmos[alarm_regs[i]];
        if ((a & ALARM_DONT_CARE) != ALARM_DONT_CARE && a != now[i]) {
            return false;
        }
    }
    return true;
}

/* "Register C": IRQF = PF.PIE + AF.AIE + UF.UIE, and the IRQ pin follows it. */
static void rtc_update_irq(RtcState *s)
{
    bool irqf = s->cmos[RTC_REG_C] & s->cmos[RTC_REG_B] & REG_C_FLAGS;

    s->cmos[RTC_REG_C] = (s->cmos[RTC_REG_C] & ~REG_C_IRQF) | (irqf ? REG_C_IRQF : 0);
    irq_set_level(s->irq, irqf);
}

/* Set UF/AF for the updates and PF for the periods that happened since the last look. */
static void rtc_check_flags(RtcState *s)
{
    if (rtc_updates_enabled(s)) {
        int64_t sec = floor_div(rtc_guest_ns(s), NANOSECONDS_PER_SECOND);
        if (sec > s->last_update_sec) {
            s->cmos[RTC_REG_C] |= REG_C_UF;
            /* The alarm repeats daily at most once per second: a day of seconds suffices. */
            for (int64_t t = MAX(s->last_update_sec + 1, sec - 86399); t <= sec; t++) {
                if (rtc_alarm_matches(s, t)) {
                    s->cmos[RTC_REG_C] |= REG_C_AF;
                    break;
                }
            }
            s->last_update_sec = sec;
        }
    }
    if (rtc_clock_running(s) && (s->cmos[RTC_REG_A] & REG_A_RS_MASK)) {
        int64_t p = rtc_period_index(s);
        if (p > s->last_period) {
            s->cmos[RTC_REG_C] |= REG_C_PF;
        }
        s->last_period = p;
    }
    rtc_update_irq(s);
}

/* Timers only for enabled interrupts: polled flags are computed when C is read. */
static void rtc_arm_timers(RtcState *s)
{
    uint8_t b = s->cmos[RTC_REG_B];

    if ((b & REG_B_PIE) && (s->cmos[RTC_REG_A] & REG_A_RS_MASK) && rtc_clock_running(s)) {
        int64_t cycles = (s->last_period + 1) * rtc_period_cycles(s);
        int64_t guest = ((__int128)cycles * NANOSECONDS_PER_SECOND + RTC_FREQ - 1) / RTC_FREQ;
        timer_mod_ns(s->periodic_timer, guest - s->offset_ns);
    } else {
        timer_del(s->periodic_timer);
    }
    if ((b & (REG_B_UIE | REG_B_AIE)) && rtc_updates_enabled(s)) {
        timer_mod_ns(s->update_timer,
                     (s->last_update_sec + 1) * NANOSECONDS_PER_SECOND - s->offset_ns);
    } else {
        timer_del(s->update_timer);
    }
}

static void rtc_timer_cb(void *opaque)
{
    RtcState *s = opaque;

    rtc_check_flags(s);
    rtc_arm_timers(s);
}

/* "Register A", UIP: set from t_BUC before an update until the update cycle ends. */
static bool rtc_uip(RtcState *s)
{
    int64_t frac;

    if (!rtc_updates_enabled(s)) {
        return false;
    }
    frac = rtc_guest_ns(s) - floor_div(rtc_guest_ns(s), NANOSECONDS_PER_SECOND) *
                            NANOSECONDS_PER_SECOND;
    return frac >= NANOSECONDS_PER_SECOND - UIP_BEFORE_NS || frac < UIP_UPDATE_NS;
}

/* ---------------------------------------------------------- registers */

static bool rtc_is_time_reg(unsigned r)
{
    return r <= RTC_YEAR && r != RTC_SECONDS_ALARM && r != RTC_MINUTES_ALARM &&
           r != RTC_HOURS_ALARM;
}

static uint8_t rtc_read_reg(RtcState *s, unsigned r)
{
    uint8_t v;

    if (rtc_is_time_reg(r) || r == RTC_CENTURY) {
        rtc_refresh(s);
        return s->cmos[r];
    }
    switch (r) {
    case RTC_REG_A:
        return (s->cmos[r] & ~REG_A_UIP) | (rtc_uip(s) ? REG_A_UIP : 0);
    case RTC_REG_C:
        /* Reading C returns the flags and clears them all, IRQF and the pin included. */
        rtc_check_flags(s);
        v = s->cmos[r];
        s->cmos[r] = 0;
        rtc_update_irq(s);
        rtc_arm_timers(s);
        return v;
    case RTC_REG_D:
        return REG_D_VRT;               /* the battery is always good */
    default:
        return s->cmos[r];
    }
}

static void rtc_write_reg_a(RtcState *s, uint8_t val)
{
    bool was_running = rtc_clock_running(s);
    uint8_t old_rs = s->cmos[RTC_REG_A] & REG_A_RS_MASK;

    rtc_check_flags(s);
    if (was_running) {
        rtc_refresh(s);                 /* the registers keep the time while stopped */
    }
    s->cmos[RTC_REG_A] = val & ~REG_A_UIP;
    if (!was_running && rtc_clock_running(s)) {
        /* "The first update cycle begins one-half second later" (DV2-0). */
        rtc_set_time(s, rtc_time_from_regs(s), NANOSECONDS_PER_SECOND / 2);
    } else if ((val & REG_A_RS_MASK) != old_rs) {
        s->last_period = rtc_period_index(s);
    }
}

static void rtc_write_reg_b(RtcState *s, uint8_t val)
{
    uint8_t old = s->cmos[RTC_REG_B];

    rtc_check_flags(s);
    if ((val & REG_B_SET) && !(old & REG_B_SET)) {
        /* SET inhibits updates (registers keep the time) and clears UIE. */
        rtc_refresh(s);
        val &= ~REG_B_UIE;
    }
    s->cmos[RTC_REG_B] = val;
    if ((old & REG_B_SET) && !(val & REG_B_SET) && rtc_clock_running(s)) {
        rtc_set_time(s, rtc_time_from_regs(s), 0);
    }
}

static void rtc_write_reg(RtcState *s, unsigned r, uint8_t val)
{
    if (rtc_is_time_reg(r) || r == RTC_CENTURY) {
        /* While updates run, a write sets the clock from all the registers at once. */
        bool running = rtc_updates_enabled(s);
        if (running) {
            rtc_check_flags(s);
            rtc_refresh(s);
        }
        s->cmos[r] = val;
        if (running) {
            rtc_set_time(s, rtc_time_from_regs(s), 0);
        }
    } else {
        switch (r) {
        case RTC_REG_A:
            rtc_write_reg_a(s, val);
            break;
        case RTC_REG_B:
            rtc_write_reg_b(s, val);
            break;
        case RTC_REG_C:
        case RTC_REG_D:
            kite_log_mask(LOG_GUEST_ERROR, "rtc: write 0x%02x to read-only register %u",
                          val, r);
            return;
        default:
            s->cmos[r] = val;           /* alarm bytes and CMOS RAM */
            return;
        }
    }
    rtc_update_irq(s);
    rtc_arm_timers(s);
}

static uint64_t rtc_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    RtcState *s = opaque;
    uint8_t v;

    if (addr == 0) {
        return 0xff;                    /* the index register is write-only */
    }
    v = rtc_read_reg(s, s->index);
    kite_trace("rtc_read", "reg=0x%02x val=0x%02x", s->index, v);
    return v;
}

static void rtc_ioport_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    RtcState *s = opaque;

    if (addr == 0) {
        s->index = val & 0x7f;
        s->nmi_masked = val & 0x80;
        return;
    }
    kite_trace("rtc_write", "reg=0x%02x val=0x%02x", s->index, (unsigned)val);
    rtc_write_reg(s, s->index, val);
}

/* Wider accesses split into bytes: "outw 0x70" writes the index, then the data. */
static const MemoryRegionOps rtc_ops = {
    .read = rtc_ioport_read, .write = rtc_ioport_write,
    .valid = { 1, 4, true }, .impl = { 1, 1 },
};

/* -------------------------------------------------------- board API */

void rtc_set_memory(DeviceState *dev, int addr, uint8_t val)
{
    g_assert(addr >= 0 && addr < CMOS_SIZE);
    RTC(dev)->cmos[addr] = val;
}

uint8_t rtc_get_memory(DeviceState *dev, int addr)
{
    g_assert(addr >= 0 && addr < CMOS_SIZE);
    return RTC(dev)->cmos[addr];
}

/* The memory size bytes QEMU's pc_cmos_init writes and SeaBIOS reads. */
void rtc_set_pc_memory(DeviceState *dev, uint64_t below_4g, uint64_t above_4g)
{
    uint64_t v;

    v = MIN(below_4g / KiB, 640);                       /* base memory, KiB */
    rtc_set_memory(dev, 0x15, v);
    rtc_set_memory(dev, 0x16, v >> 8);
    v = below_4g > 1 * MiB ? MIN((below_4g - 1 * MiB) / KiB, 0xffff) : 0;
    rtc_set_memory(dev, 0x17, v);                       /* extended memory, KiB */
    rtc_set_memory(dev, 0x18, v >> 8);
    rtc_set_memory(dev, 0x30, v);
    rtc_set_memory(dev, 0x31, v >> 8);
    v = below_4g > 16 * MiB ? MIN((below_4g - 16 * MiB) / (64 * KiB), 0xffff) : 0;
    rtc_set_memory(dev, 0x34, v);                       /* 16 MiB-4 GiB, 64 KiB units */
    rtc_set_memory(dev, 0x35, v >> 8);
    v = above_4g / (64 * KiB);
    rtc_set_memory(dev, 0x5b, v);                       /* above 4 GiB, 64 KiB units */
    rtc_set_memory(dev, 0x5c, v >> 8);
    rtc_set_memory(dev, 0x5d, v >> 16);
}

void rtc_set_cpu_count(DeviceState *dev, unsigned cpus)
{
    rtc_set_memory(dev, 0x5f, cpus - 1);
}

/* -------------------------------------------------------- lifecycle */

static void rtc_reset(DeviceState *dev)
{
    RtcState *s = RTC(dev);

    /* "Reset": PIE, AIE, UIE, SQWE and all of register C clear; time and RAM are kept. */
    rtc_check_flags(s);
    s->cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    rtc_update_irq(s);
    rtc_arm_timers(s);
}

static void rtc_realize(DeviceState *dev, Error **errp)
{
    RtcState *s = RTC(dev);
    IsaDevice *isa = ISA_DEVICE(dev);

    if (s->irq_num >= ISA_NUM_IRQS || s->iobase > 0xfffe) {
        error_setg(errp, "mc146818rtc: iobase 0x%x or irq %u out of range", s->iobase,
                   s->irq_num);
        return;
    }
    memory_region_init_io(&s->io, OBJECT(dev), &rtc_ops, s, "rtc", 2);
    isa_register_ioport(isa, &s->io, s->iobase);
    s->irq = isa_get_irq(isa, s->irq_num);
    s->periodic_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, rtc_timer_cb, s);
    s->update_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, rtc_timer_cb, s);

    /* Power-on: 32.768 kHz, 1024 Hz rate (as PC BIOSes program it), 24-hour BCD, VRT. */
    memset(s->cmos, 0, sizeof(s->cmos));
    s->cmos[RTC_REG_A] = REG_A_DV_32KHZ | 0x06;
    s->cmos[RTC_REG_B] = REG_B_24H;
    s->cmos[RTC_REG_D] = REG_D_VRT;
    s->offset_ns = clock_get_ns(KITE_CLOCK_HOST) - clock_get_ns(KITE_CLOCK_VIRTUAL);
    rtc_resync(s);
    rtc_refresh(s);
}

static void rtc_unrealize(DeviceState *dev)
{
    RtcState *s = RTC(dev);

    timer_free(s->periodic_timer);
    timer_free(s->update_timer);
    s->periodic_timer = s->update_timer = NULL;
    isa_unregister_ioports(ISA_DEVICE(dev));
    memory_region_destroy(&s->io);
    s->irq = NULL;
}

static int rtc_post_load(void *opaque, int version_id)
{
    RtcState *s = opaque;

    s->index &= 0x7f;
    rtc_update_irq(s);
    rtc_arm_timers(s);
    return 0;
}

static const VMStateDescription vmstate_rtc = {
    .name = "mc146818rtc", .version_id = 1, .minimum_version_id = 1,
    .post_load = rtc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(cmos, RtcState, CMOS_SIZE),
        VMSTATE_UINT8(index, RtcState),
        VMSTATE_BOOL(nmi_masked, RtcState),
        VMSTATE_INT64(offset_ns, RtcState),
        VMSTATE_INT64(last_update_sec, RtcState),
        VMSTATE_INT64(last_period, RtcState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property rtc_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", RtcState, iobase, 0x70, 0, 0xfffe),
    DEFINE_PROP_UINT8("irq", RtcState, irq_num, RTC_ISA_IRQ),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo rtc_type = {
    .name = TYPE_MC146818_RTC,
    .parent = TYPE_ISA_DEVICE,
    .desc = "MC146818A real-time clock and CMOS RAM (ports 0x70/0x71, IRQ 8)",
    .instance_size = sizeof(RtcState),
    .realize = rtc_realize,
    .unrealize = rtc_unrealize,
    .reset = rtc_reset,
    .props = rtc_props,
    .vmsd = &vmstate_rtc,
};
KITE_TYPE_REGISTER(rtc_type)
