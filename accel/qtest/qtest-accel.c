/*
 * The qtest accelerator: no vCPU ever runs; a test drives devices over the qtest protocol
 * and moves the virtual clock itself (QEMU's -accel qtest).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/accel.h"
#include "kite/timer.h"

static bool qtest_init_machine(AccelState *accel, MachineState *ms, Error **errp)
{
    /* Virtual time moves only with clock_step, but timers fire when it reaches them. */
    clock_virtual_set_manual(true);
    return true;
}

static bool qtest_create_vcpu(AccelState *accel, CPUState *cpu, Error **errp)
{
    return true;
}

static void qtest_class_init(ObjectClass *oc, const void *data)
{
    AccelClass *ac = (AccelClass *)oc;

    ac->name = "qtest";
    ac->init_machine = qtest_init_machine;
    ac->create_vcpu = qtest_create_vcpu;
}

static const TypeInfo qtest_accel_type = {
    .name = "qtest" ACCEL_CLASS_SUFFIX,
    .parent = TYPE_ACCEL,
    .instance_size = sizeof(AccelState),
    .class_init = qtest_class_init,
};
KITE_TYPE_REGISTER(qtest_accel_type)
