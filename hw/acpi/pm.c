/*
 * ACPI fixed-hardware power management registers for the PC, PIIX4-like: the PM1a event
 * block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT) and the 24-bit PM timer, at
 * + 0, + 4 and + 8 of a 64-byte I/O block, raising the SCI.
 *
 * The registers are a core (AcpiPmRegs) that a chipset function embeds: the pc board's
 * PIIX4 PM function (hw/acpi/piix4.c) maps the block where PMBA points, and the ISA
 * device here ("isa-acpi-pm") at a fixed iobase, raising ISA IRQ sci-irq.
 *
 * References: ACPI Specification 6.4 §4.8.3 "PM1 Event Grouping", §4.8.3.2 "PM1 Control
 * Registers", §4.8.3.3 "Power Management Timer", §4.8.2.2.1 "Power Button"; the PIIX4
 * (82371AB) datasheet for the SLP_TYP encoding (hw/acpi/acpi.h).
 *
 * A GPE0 block (§4.8.4.1, status then enable, 2 bytes each) is part of the core for owners
 * that map it (the PIIX4 function at 0xafe0, as QEMU): no event source sets a status bit
 * on this machine (no hotplug), but enables and write-1-to-clear status behave, and an
 * enabled, set bit would raise the SCI.
 *
 * The hardware is always in ACPI mode (FADT SMI_CMD = 0), so SCI_EN reads 1.  SLP_TYP = S5
 * with SLP_EN powers off (system_shutdown_request); other sleep states are not emulated.
 * The power button (system_powerdown_request, QMP system_powerdown) sets PWRBTN_STS.
 * Not emulated: GPE blocks, the RTC alarm wake (RTC_STS), bus master status.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/isa.h"
#include "hw/acpi/acpi.h"
#include "kite/log.h"
#include "kite/runstate.h"
#include "kite/timer.h"

/* Status bits that can raise the SCI when enabled (§4.8.3.1 table 4.17). */
#define PM1_EN_MASK     (ACPI_BITMASK_TIMER_STATUS | ACPI_BITMASK_GLOBAL_LOCK_STATUS | \
                         ACPI_BITMASK_POWER_BUTTON_STATUS | ACPI_BITMASK_SLEEP_BUTTON_STATUS | \
                         ACPI_BITMASK_RT_CLOCK_STATUS)
#define PM1_STS_MASK    (PM1_EN_MASK | ACPI_BITMASK_BUS_MASTER_STATUS | \
                         ACPI_BITMASK_WAKE_STATUS)
/* PM1_CNT bits kept (SLP_EN and GBL_RLS are write-only). */
#define PM1_CNT_MASK    (ACPI_BITMASK_SCI_ENABLE | ACPI_BITMASK_BUS_MASTER_RLD | \
                         ACPI_SLP_TYP_MASK)
#define PM_TMR_BITS     24

typedef struct AcpiPmState {
    IsaDevice parent_obj;
    uint32_t iobase;
    uint8_t sci_irq_num;
    AcpiPmRegs regs;
} AcpiPmState;

static AcpiPmState *ACPI_PM(const void *obj)
{
    return OBJECT_CHECK(AcpiPmState, obj, TYPE_ACPI_PM);
}

static GSList *pm_devices;      /* live register blocks, for the powerdown handler */
static bool powerdown_registered;

static uint64_t pm_ticks(int64_t ns)
{
    return (unsigned __int128)ns * ACPI_PM_TIMER_FREQUENCY / NANOSECONDS_PER_SECOND;
}

/* Virtual time at which the timer's bit 23 next changes, after now. */
static int64_t pm_next_toggle_ns(int64_t now)
{
    uint64_t next = ((pm_ticks(now) >> (PM_TMR_BITS - 1)) + 1) << (PM_TMR_BITS - 1);

    /* Round up, so that the tick count at the returned time has really toggled. */
    return ((unsigned __int128)next * NANOSECONDS_PER_SECOND + ACPI_PM_TIMER_FREQUENCY - 1) /
           ACPI_PM_TIMER_FREQUENCY;
}

/*
 * §4.8.3.3: "TMR_STS is set whenever bit 23 of the timer changes" - computed lazily from
 * the virtual clock, and with a timer only while TMR_EN asks for an interrupt.
 */
static void pm_update(AcpiPmRegs *s)
{
    int64_t now = clock_get_ns(KITE_CLOCK_VIRTUAL);
    bool level;

    if (now >= s->tmr_toggle_ns) {
        s->pm1_sts |= ACPI_BITMASK_TIMER_STATUS;
        s->tmr_toggle_ns = pm_next_toggle_ns(now);
    }
    if (s->pm1_en & ACPI_BITMASK_TIMER_STATUS) {
        timer_mod_ns(s->tmr_timer, s->tmr_toggle_ns);
    } else {
        timer_del(s->tmr_timer);
    }
    /* §4.8.3.1: the SCI is asserted while an enabled status bit is set and SCI_EN is 1. */
    level = ((s->pm1_sts & s->pm1_en & PM1_EN_MASK) || (s->gpe_sts & s->gpe_en)) &&
            (s->pm1_cnt & ACPI_BITMASK_SCI_ENABLE);
    irq_set_level(s->sci, level);
}

static void pm_tmr_cb(void *opaque)
{
    pm_update(opaque);
}

/* --- PM1a event block: PM1_STS (write 1 to clear) at +0, PM1_EN at +2, byte-accessed --- */

static uint64_t pm_evt_read(void *opaque, hwaddr addr, unsigned size)
{
    AcpiPmRegs *s = opaque;
    uint16_t reg;

    pm_update(s);
    reg = addr < 2 ? s->pm1_sts : s->pm1_en;
    return (reg >> ((addr & 1) * 8)) & 0xff;
}

static void pm_evt_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    AcpiPmRegs *s = opaque;
    unsigned shift = (addr & 1) * 8;
    uint16_t bits = (uint16_t)(val << shift);

    if (addr < 2) {
        pm_update(s);                   /* a toggle that already happened stays visible */
        s->pm1_sts &= ~(bits & PM1_STS_MASK);
    } else {
        s->pm1_en = (s->pm1_en & ~(0xff << shift)) | (bits & PM1_EN_MASK);
    }
    pm_update(s);
}

/* --- PM1a control block (§4.8.3.2.1) --- */

static void pm_sleep(AcpiPmRegs *s, unsigned slp_typ)
{
    switch (slp_typ) {
    case ACPI_SLP_TYP_S5:
        kite_trace("acpi_pm_sleep", "S5 soft-off");
        system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        break;
    default:
        kite_log_mask(LOG_UNIMP, "acpi-pm: sleep type %u is not emulated", slp_typ);
        break;
    }
}

static uint64_t pm_cnt_read(void *opaque, hwaddr addr, unsigned size)
{
    AcpiPmRegs *s = opaque;

    return (s->pm1_cnt >> ((addr & 1) * 8)) & 0xff;
}

static void pm_cnt_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    AcpiPmRegs *s = opaque;
    unsigned shift = (addr & 1) * 8;
    uint16_t bits = (uint16_t)(val << shift);

    s->pm1_cnt = (s->pm1_cnt & ~(0xff << shift)) | (bits & PM1_CNT_MASK);
    /* Always in ACPI mode: SCI_EN cannot be cleared. */
    s->pm1_cnt |= ACPI_BITMASK_SCI_ENABLE;
    if (bits & ACPI_BITMASK_SLEEP_ENABLE) {
        pm_sleep(s, (s->pm1_cnt & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT);
    }
    pm_update(s);
}

/* --- PM timer (§4.8.3.3): 24 bits at 3.579545 MHz, read-only --- */

static uint64_t pm_tmr_read(void *opaque, hwaddr addr, unsigned size)
{
    return pm_ticks(clock_get_ns(KITE_CLOCK_VIRTUAL)) & ((1u << PM_TMR_BITS) - 1);
}

static void pm_tmr_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    kite_log_mask(LOG_GUEST_ERROR, "acpi-pm: write to the read-only PM timer");
}

/* Byte handlers: ACPICA accesses these at their FADT width, others byte by byte. */
static const MemoryRegionOps pm_evt_ops = {
    .read = pm_evt_read, .write = pm_evt_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

static const MemoryRegionOps pm_cnt_ops = {
    .read = pm_cnt_read, .write = pm_cnt_write,
    .valid = { 1, 2 }, .impl = { 1, 1 },
};

static const MemoryRegionOps pm_tmr_ops = {
    .read = pm_tmr_read, .write = pm_tmr_write,
    .valid = { 1, 4 }, .impl = { 4, 4 },
};

/* --- GPE0 block (§4.8.4.1): GPE0_STS (write 1 to clear) at +0, GPE0_EN at +2 --- */

static uint64_t pm_gpe_read(void *opaque, hwaddr addr, unsigned size)
{
    AcpiPmRegs *s = opaque;
    uint16_t reg = addr < 2 ? s->gpe_sts : s->gpe_en;

    return (reg >> ((addr & 1) * 8)) & 0xff;
}

static void pm_gpe_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    AcpiPmRegs *s = opaque;
    unsigned shift = (addr & 1) * 8;
    uint16_t bits = (uint16_t)(val << shift);

    if (addr < 2) {
        s->gpe_sts &= ~bits;
    } else {
        s->gpe_en = (s->gpe_en & ~(0xff << shift)) | bits;
    }
    pm_update(s);
}

static const MemoryRegionOps pm_gpe_ops = {
    .read = pm_gpe_read, .write = pm_gpe_write,
    .valid = { 1, 4 }, .impl = { 1, 1 },
};

/* --- power button (§4.8.2.2.1.1 fixed power button) --- */

static void pm_powerdown(void *opaque)
{
    for (GSList *l = pm_devices; l; l = l->next) {
        AcpiPmRegs *s = l->data;
        s->pm1_sts |= ACPI_BITMASK_POWER_BUTTON_STATUS;
        pm_update(s);
    }
}

/* --- the register core --- */

void acpi_pm_regs_init(AcpiPmRegs *s, Object *owner)
{
    memory_region_init(&s->io, owner, "acpi-pm", ACPI_PM_BLOCK_LEN);
    memory_region_init_io(&s->evt_io, owner, &pm_evt_ops, s, "acpi-evt", ACPI_PM1_EVT_LEN);
    memory_region_init_io(&s->cnt_io, owner, &pm_cnt_ops, s, "acpi-cnt", ACPI_PM1_CNT_LEN);
    memory_region_init_io(&s->tmr_io, owner, &pm_tmr_ops, s, "acpi-tmr", ACPI_PM_TMR_LEN);
    memory_region_add_subregion(&s->io, ACPI_PM1_EVT_OFF, &s->evt_io);
    memory_region_add_subregion(&s->io, ACPI_PM1_CNT_OFF, &s->cnt_io);
    memory_region_add_subregion(&s->io, ACPI_PM_TMR_OFF, &s->tmr_io);
    memory_region_init_io(&s->gpe_io, owner, &pm_gpe_ops, s, "acpi-gpe0", ACPI_GPE0_LEN);
    s->tmr_timer = timer_new_ns(KITE_CLOCK_VIRTUAL, pm_tmr_cb, s);
    /* The core keeps no way to unregister a powerdown handler: register one, once. */
    if (!powerdown_registered) {
        system_register_powerdown(pm_powerdown, NULL);
        powerdown_registered = true;
    }
    pm_devices = g_slist_prepend(pm_devices, s);
}

/* The block must be out of any address space (the owner unmapped s->io). */
void acpi_pm_regs_destroy(AcpiPmRegs *s)
{
    pm_devices = g_slist_remove(pm_devices, s);
    timer_free(s->tmr_timer);
    s->tmr_timer = NULL;
    memory_region_del_subregion(&s->io, &s->evt_io);
    memory_region_del_subregion(&s->io, &s->cnt_io);
    memory_region_del_subregion(&s->io, &s->tmr_io);
    memory_region_destroy(&s->evt_io);
    memory_region_destroy(&s->cnt_io);
    memory_region_destroy(&s->tmr_io);
    memory_region_destroy(&s->gpe_io);
    memory_region_destroy(&s->io);
    s->sci = NULL;
}

void acpi_pm_regs_reset(AcpiPmRegs *s)
{
    s->pm1_sts = 0;
    s->pm1_en = 0;
    s->pm1_cnt = ACPI_BITMASK_SCI_ENABLE;
    s->gpe_sts = 0;
    s->gpe_en = 0;
    s->tmr_toggle_ns = pm_next_toggle_ns(clock_get_ns(KITE_CLOCK_VIRTUAL));
    pm_update(s);
}

static int pm_regs_post_load(void *opaque, int version_id)
{
    AcpiPmRegs *s = opaque;

    s->pm1_sts &= PM1_STS_MASK;
    s->pm1_en &= PM1_EN_MASK;
    s->pm1_cnt = (s->pm1_cnt & PM1_CNT_MASK) | ACPI_BITMASK_SCI_ENABLE;
    pm_update(s);
    return 0;
}

const VMStateDescription vmstate_acpi_pm_regs = {
    .name = "acpi-pm-regs", .version_id = 2, .minimum_version_id = 2,
    .post_load = pm_regs_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(pm1_sts, AcpiPmRegs),
        VMSTATE_UINT16(pm1_en, AcpiPmRegs),
        VMSTATE_UINT16(pm1_cnt, AcpiPmRegs),
        VMSTATE_INT64(tmr_toggle_ns, AcpiPmRegs),
        VMSTATE_UINT16(gpe_sts, AcpiPmRegs),
        VMSTATE_UINT16(gpe_en, AcpiPmRegs),
        VMSTATE_END_OF_LIST()
    },
};

/* --- the ISA device --- */

static void pm_reset(DeviceState *dev)
{
    acpi_pm_regs_reset(&ACPI_PM(dev)->regs);
}

static void pm_realize(DeviceState *dev, Error **errp)
{
    AcpiPmState *s = ACPI_PM(dev);
    IsaDevice *isa = ISA_DEVICE(dev);

    if (s->sci_irq_num >= ISA_NUM_IRQS || s->iobase + ACPI_PM_BLOCK_LEN > 0x10000) {
        error_setg(errp, "isa-acpi-pm: iobase 0x%x or sci-irq %u out of range", s->iobase,
                   s->sci_irq_num);
        return;
    }
    acpi_pm_regs_init(&s->regs, OBJECT(dev));
    isa_register_ioport(isa, &s->regs.io, s->iobase);
    s->regs.sci = isa_get_irq(isa, s->sci_irq_num);
}

static void pm_unrealize(DeviceState *dev)
{
    AcpiPmState *s = ACPI_PM(dev);

    isa_unregister_ioports(ISA_DEVICE(dev));
    acpi_pm_regs_destroy(&s->regs);
}

static const VMStateDescription vmstate_acpi_pm = {
    .name = "isa-acpi-pm", .version_id = 2, .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(regs, AcpiPmState, vmstate_acpi_pm_regs, AcpiPmRegs),
        VMSTATE_END_OF_LIST()
    },
};

static const Property pm_props[] = {
    DEFINE_PROP_UINT32_RANGE("iobase", AcpiPmState, iobase, ACPI_PM_IO_BASE, 0, 0xffc0),
    DEFINE_PROP_UINT8("sci-irq", AcpiPmState, sci_irq_num, ACPI_SCI_IRQ),
    DEFINE_PROP_END_OF_LIST(),
};

static const TypeInfo acpi_pm_type = {
    .name = TYPE_ACPI_PM,
    .parent = TYPE_ISA_DEVICE,
    .desc = "ACPI PM1a event/control blocks and PM timer at a fixed port (0x600), SCI on IRQ 9",
    .instance_size = sizeof(AcpiPmState),
    .realize = pm_realize,
    .unrealize = pm_unrealize,
    .reset = pm_reset,
    .props = pm_props,
    .vmsd = &vmstate_acpi_pm,
};
KITE_TYPE_REGISTER(acpi_pm_type)
