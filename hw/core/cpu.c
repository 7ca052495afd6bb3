/*
 * The vCPU base type, the vCPU list, and interrupt requests.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/core/cpu.h"
#include "hw/core/cpu-common.h"
#include "accel/accel.h"
#include "kite/thread.h"

__thread CPUState *current_cpu;
GPtrArray *cpu_list;

CPUClass *CPU_CLASS(const void *klass)
{
    return OBJECT_CLASS_CHECK(CPUClass, klass, TYPE_CPU);
}

CPUClass *CPU_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(CPUClass, obj, TYPE_CPU);
}

CPUState *CPU(const void *obj)
{
    return OBJECT_CHECK(CPUState, obj, TYPE_CPU);
}

static void cpu_instance_init(Object *obj)
{
    CPUState *cpu = CPU(obj);

    g_cond_init(&cpu->halt_cond);
    cpu->kvm_fd = -1;
    cpu->cpu_index = -1;
    cpu->as = &address_space_memory;
}

static void cpu_instance_finalize(Object *obj)
{
    g_cond_clear(&CPU(obj)->halt_cond);
}

static const TypeInfo cpu_type = {
    .name = TYPE_CPU,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .instance_size = sizeof(CPUState),
    .class_size = sizeof(CPUClass),
    .instance_init = cpu_instance_init,
    .instance_finalize = cpu_instance_finalize,
};
KITE_TYPE_REGISTER(cpu_type)

bool cpu_common_realize(CPUState *cpu, Error **errp)
{
    AccelState *accel = current_accel();

    if (!cpu_list) {
        cpu_list = g_ptr_array_new();
    }
    cpu->cpu_index = cpu_list->len;
    g_ptr_array_add(cpu_list, cpu);
    if (accel && ACCEL_GET_CLASS(accel)->create_vcpu &&
        !ACCEL_GET_CLASS(accel)->create_vcpu(accel, cpu, errp)) {
        g_ptr_array_remove(cpu_list, cpu);
        cpu->cpu_index = -1;
        return false;
    }
    cpu->created = true;
    return true;
}

void cpu_common_unrealize(CPUState *cpu)
{
    AccelState *accel = current_accel();

    if (accel && ACCEL_GET_CLASS(accel)->destroy_vcpu) {
        ACCEL_GET_CLASS(accel)->destroy_vcpu(cpu);
    }
    if (cpu_list) {
        g_ptr_array_remove(cpu_list, cpu);
    }
    cpu->created = false;
}

CPUState *cpu_by_index(int index)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (cpu->cpu_index == index) {
            return cpu;
        }
    }
    return NULL;
}

CPUState *cpu_by_arch_id(int64_t id)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        CPUClass *cc = CPU_GET_CLASS(cpu);
        if ((cc->get_arch_id ? cc->get_arch_id(cpu) : cpu->cpu_index) == id) {
            return cpu;
        }
    }
    return NULL;
}

int cpu_count(void)
{
    return cpu_list ? (int)cpu_list->len : 0;
}

static void cpu_kick(CPUState *cpu)
{
    AccelState *accel = current_accel();

    if (current_cpu == cpu) {
        return;   /* the vCPU's own thread checks its requests before re-entering */
    }
    if (accel && ACCEL_GET_CLASS(accel)->kick_vcpu) {
        ACCEL_GET_CLASS(accel)->kick_vcpu(cpu);
    }
}

void cpu_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_or_fetch(&cpu->interrupt_request, mask, __ATOMIC_SEQ_CST);
    cpu_kick(cpu);
}

void cpu_reset_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_and_fetch(&cpu->interrupt_request, ~mask, __ATOMIC_SEQ_CST);
}

void cpu_exit(CPUState *cpu)
{
    __atomic_store_n(&cpu->exit_request, 1, __ATOMIC_SEQ_CST);
    cpu_kick(cpu);
}

bool cpu_has_work(CPUState *cpu)
{
    CPUClass *cc = CPU_GET_CLASS(cpu);

    return cc->has_work ? cc->has_work(cpu) : false;
}

void cpu_reset(CPUState *cpu)
{
    device_cold_reset(DEVICE(cpu));
}
