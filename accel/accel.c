/*
 * Accelerator type registry and the current accelerator.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/accel.h"

static AccelState *the_accel;

static const TypeInfo accel_type = {
    .name = TYPE_ACCEL,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(AccelState),
    .class_size = sizeof(AccelClass),
};
KITE_TYPE_REGISTER(accel_type)

AccelClass *ACCEL_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(AccelClass, obj, TYPE_ACCEL);
}

AccelClass *accel_find(const char *name)
{
    g_autofree char *type = g_strconcat(name, ACCEL_CLASS_SUFFIX, NULL);
    ObjectClass *oc = object_class_by_name(type);

    return oc && object_class_dynamic_cast(oc, TYPE_ACCEL) ? (AccelClass *)oc : NULL;
}

AccelState *current_accel(void)
{
    return the_accel;
}

const char *current_accel_name(void)
{
    return the_accel ? ACCEL_GET_CLASS(the_accel)->name : "none";
}

void accel_set_current(AccelState *accel)
{
    the_accel = accel;
}

void accel_pit_hpet_legacy(bool on)
{
    AccelClass *ac = the_accel ? ACCEL_GET_CLASS(the_accel) : NULL;

    if (ac && ac->pit_hpet_legacy) {
        ac->pit_hpet_legacy(the_accel, on);
    }
}

bool accel_irqchip_in_kernel(void)
{
    AccelClass *ac = the_accel ? ACCEL_GET_CLASS(the_accel) : NULL;

    return ac && ac->irqchip_in_kernel && ac->irqchip_in_kernel(the_accel);
}
