/*
 * pvpanic: QEMU's paravirtual panic notification device (docs/specs/pvpanic.rst).
 *
 * ISA form ("pvpanic"): one I/O port, 0x505 by default.  A read returns the event bits the
 * device recognizes (property "events", default PANICKED | CRASH_LOADED); a write reports
 * events, bits the device does not recognize being ignored.  The guest finds the port in
 * the DSDT (_HID QEMU0001), as Linux's pvpanic-mmio driver does.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MISC_PVPANIC_H
#define HW_MISC_PVPANIC_H

#include "kite/osdep.h"

#define TYPE_PVPANIC_ISA "pvpanic"
#define PVPANIC_IOPORT 0x505

/* Event bits (spec "Bit Definition"). */
#define PVPANIC_PANICKED     (1u << 0)  /* panic: the host acts on it (-action panic=) */
#define PVPANIC_CRASH_LOADED (1u << 1)  /* panic handled by the guest (kdump): report only */
#define PVPANIC_EVENTS       (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

/*
 * The events a guest write of val raises on a device recognizing `enabled`: one event a
 * write, PANICKED first (it ends the guest's run; QEMU's order).  0 if none.
 */
static inline unsigned pvpanic_write_events(unsigned enabled, uint64_t val)
{
    unsigned ev = (unsigned)val & enabled & PVPANIC_EVENTS;

    if (ev & PVPANIC_PANICKED) {
        return PVPANIC_PANICKED;
    }
    return ev & PVPANIC_CRASH_LOADED;
}

#endif
