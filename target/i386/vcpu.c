/*
 * The x86 vCPU device: QOM glue around the interpreter's architectural state.
 *
 * Every accelerator uses the same CPUX86State: the interpreter executes on it, KVM copies it
 * in and out.  Models ("qemu64", "host", "max") are subtypes; the accelerator decides the
 * CPUID the guest sees when the vCPU is created (KVM: what the host supports for the model;
 * the interpreter: exactly what it implements).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "target/i386/x86-glue.h"
#include "target/i386/gdbstub.h"
#include "target/i386/machine.h"
#include "hw/core/cpu-common.h"
#include "accel/accel.h"
#include "kite/property.h"

X86Vcpu *X86_VCPU(const void *obj)
{
    return OBJECT_CHECK(X86Vcpu, obj, TYPE_X86_VCPU);
}

X86VcpuClass *X86_VCPU_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(X86VcpuClass, obj, TYPE_X86_VCPU);
}

const X86CpuidEntry *x86_vcpu_cpuid(X86Vcpu *cpu, uint32_t function, uint32_t index)
{
    for (guint i = 0; cpu->cpuid && i < cpu->cpuid->len; i++) {
        const X86CpuidEntry *e = &g_array_index(cpu->cpuid, X86CpuidEntry, i);
        if (e->function == function && e->index == index) {
            return e;
        }
    }
    return NULL;
}

/* Hooks the board fills: the APIC factory and a per-reset hook (boot registers). */
DeviceState *(*x86_vcpu_create_apic)(X86Vcpu *cpu, Error **errp);
void (*x86_vcpu_reset_hook)(X86Vcpu *cpu);

/* vCPUs run on one interpreter thread, so they share decoded code. */
static X86CodeCache *shared_code_cache(void)
{
    static X86CodeCache *cache;

    if (!cache) {
        cache = x86_code_cache_new();
    }
    return cache;
}

static void x86_vcpu_realize(DeviceState *dev, Error **errp)
{
    X86Vcpu *cpu = X86_VCPU(dev);

    cpu->interp = x86_cpu_new(&x86_glue_machine_ops, cpu, shared_code_cache());
    cpu->env = x86_cpu_env(cpu->interp);
    x86_cpu_set_apic_id(cpu->interp, cpu->apic_id);
    cpu->cpuid = g_array_new(false, false, sizeof(X86CpuidEntry));
    if (x86_vcpu_create_apic) {
        cpu->apic = x86_vcpu_create_apic(cpu, errp);
        if (!cpu->apic && errp && *errp) {
            goto fail;
        }
    }
    if (!cpu_common_realize(CPU(dev), errp)) {
        goto fail;
    }
    return;

fail:
    if (cpu->apic) {
        object_unparent(OBJECT(cpu->apic));
        cpu->apic = NULL;
    }
    g_array_free(cpu->cpuid, true);
    cpu->cpuid = NULL;
    x86_cpu_free(cpu->interp);
    cpu->interp = NULL;
    cpu->env = NULL;
}

static void x86_vcpu_unrealize(DeviceState *dev)
{
    X86Vcpu *cpu = X86_VCPU(dev);

    cpu_common_unrealize(CPU(dev));
    if (cpu->apic) {
        object_unparent(OBJECT(cpu->apic));
        cpu->apic = NULL;
    }
    g_array_free(cpu->cpuid, true);
    cpu->cpuid = NULL;
    x86_cpu_free(cpu->interp);
    cpu->interp = NULL;
    cpu->env = NULL;
}

/* Power-on state (SDM vol. 3A, 9.1.1): the BSP starts at f000:fff0, APs wait for SIPI. */
static void x86_vcpu_reset(DeviceState *dev)
{
    X86Vcpu *cpu = X86_VCPU(dev);
    CPUState *cs = CPU(dev);
    AccelState *accel = current_accel();

    if (!cpu->interp) {
        return;
    }
    x86_cpu_reset(cpu->interp);
    cs->halted = cpu->env->halted || cpu->env->wait_sipi;
    cpu_reset_interrupt(cs, ~0u);
    if (cpu->apic) {
        device_cold_reset(cpu->apic);
    }
    if (x86_vcpu_reset_hook) {
        x86_vcpu_reset_hook(cpu);
    }
    cs->vcpu_dirty = true;
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_post_reset) {
        ACCEL_GET_CLASS(accel)->synchronize_post_reset(cs);
    }
}

static bool x86_vcpu_has_work(CPUState *cs)
{
    uint32_t req = __atomic_load_n(&cs->interrupt_request, __ATOMIC_ACQUIRE);
    X86Vcpu *cpu = X86_VCPU(cs);

    if (req & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI | CPU_INTERRUPT_NMI |
               CPU_INTERRUPT_POLL)) {
        return true;
    }
    /* A maskable interrupt wakes HLT only if IF allows delivery (SDM vol. 3A, 6.8.1). */
    return (req & CPU_INTERRUPT_HARD) && cpu->env &&
           (x86_cpu_get_eflags(cpu->env) & X86_EFLAGS_IF) && !cpu->env->wait_sipi;
}

static int64_t x86_vcpu_get_arch_id(CPUState *cs)
{
    return X86_VCPU(cs)->apic_id;
}

static uint64_t x86_vcpu_get_pc(CPUState *cs)
{
    X86Vcpu *cpu = X86_VCPU(cs);

    return cpu->env ? cpu->env->segs[R_CS].base + cpu->env->rip : 0;
}

static void dump_seg(GString *out, const char *name, const X86Segment *s)
{
    g_string_append_printf(out, "%-3s=%04x %016" PRIx64 " %08x %03x\n", name, s->selector,
                           s->base, s->limit, s->attr);
}

static void x86_vcpu_dump_state(CPUState *cs, GString *out)
{
    static const char *const regnames[16] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    static const char *const segnames[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    AccelState *accel = current_accel();

    if (!env) {
        return;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cs);
    }
    for (int i = 0; i < 16; i++) {
        g_string_append_printf(out, "%-3s=%016" PRIx64 "%s", regnames[i], env->regs[i],
                               i % 4 == 3 ? "\n" : " ");
    }
    g_string_append_printf(out, "RIP=%016" PRIx64 " RFL=%08x [CPL=%u] HLT=%d\n", env->rip,
                           x86_cpu_get_eflags(env), env->hflags & X86_HF_CPL_MASK,
                           env->halted);
    for (int i = 0; i < 6; i++) {
        dump_seg(out, segnames[i], &env->segs[i]);
    }
    dump_seg(out, "LDT", &env->ldt);
    dump_seg(out, "TR", &env->tr);
    g_string_append_printf(out, "GDT=     %016" PRIx64 " %08x\nIDT=     %016" PRIx64 " %08x\n",
                           env->gdt.base, env->gdt.limit, env->idt.base, env->idt.limit);
    g_string_append_printf(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64
                           " CR4=%08" PRIx64 "\nEFER=%016" PRIx64 "\n", env->cr[0], env->cr[2],
                           env->cr[3], env->cr[4], env->efer);
}

static const Property x86_vcpu_props[] = {
    DEFINE_PROP_UINT32("apic-id", X86Vcpu, apic_id, 0),
    DEFINE_PROP_BOOL("bsp", X86Vcpu, bsp, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void x86_vcpu_class_init(ObjectClass *oc, const void *data)
{
    CPUClass *cc = (CPUClass *)oc;

    cc->has_work = x86_vcpu_has_work;
    cc->get_arch_id = x86_vcpu_get_arch_id;
    cc->get_pc = x86_vcpu_get_pc;
    cc->dump_state = x86_vcpu_dump_state;
    cc->tcg_ops = &x86_tcg_ops;
    x86_gdb_class_init(cc);
}

static const TypeInfo x86_vcpu_type = {
    .name = TYPE_X86_VCPU,
    .parent = TYPE_CPU,
    .abstract = true,
    .instance_size = sizeof(X86Vcpu),
    .class_size = sizeof(X86VcpuClass),
    .class_init = x86_vcpu_class_init,
    .realize = x86_vcpu_realize,
    .unrealize = x86_vcpu_unrealize,
    .reset = x86_vcpu_reset,
    .props = x86_vcpu_props,
    .vmsd = &vmstate_x86_vcpu,
};
KITE_TYPE_REGISTER(x86_vcpu_type)

/*
 * Models.  The feature policy per model is the accelerator's (see accel/kvm and the
 * interpreter's CPUID); the model gives the name the user picks.
 */
static void x86_model_class_init(ObjectClass *oc, const void *data)
{
    ((X86VcpuClass *)oc)->model_name = data;
}

#define X86_MODEL(var, model, description) \
    static const TypeInfo var = { \
        .name = X86_VCPU_TYPE_NAME(model), .parent = TYPE_X86_VCPU, \
        .desc = description, .class_init = x86_model_class_init, .class_data = model, \
    }; \
    KITE_TYPE_REGISTER(var)

X86_MODEL(x86_model_qemu64, "qemu64", "QEMU Virtual CPU version 2.5+")
X86_MODEL(x86_model_host, "host", "the host CPU's features (KVM only)")
X86_MODEL(x86_model_max, "max", "every feature the accelerator supports")
