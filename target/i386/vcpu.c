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
#include "target/i386/monitor.h"
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
    x86_cpu_set_topology(cpu->interp, cpu->nr_cores, cpu->nr_threads);
    /* Machine-check control at power-on: every error source enabled (SDM vol. 3B 15.3). */
    cpu->mcg_ctl = ~0ULL;
    for (int b = 0; b < X86_MCE_BANKS; b++) {
        cpu->mce_banks[4 * b] = ~0ULL;
    }
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
    cpu->mcg_status = 0;
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

/*
 * "info registers" / internal-error dumps in QEMU's layout (people and scripts read it): 64-bit
 * names and widths while CS is a 64-bit segment, 32-bit ones otherwise.  Segment flags are
 * shown as the descriptor's high dword (type at bit 8, G at bit 23), as QEMU keeps them.
 */
static uint32_t seg_flags(const X86Segment *s)
{
    return ((uint32_t)(s->attr & 0xff) << 8) | ((uint32_t)(s->attr & 0xf00) << 12);
}

static void dump_seg(GString *out, const CPUX86State *env, const char *name,
                     const X86Segment *s)
{
    static const char *const sys32[16] = {
        "Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate", "IntGate16",
        "TrapGate16", "Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32",
        "Reserved", "IntGate32", "TrapGate32",
    };
    static const char *const sys64[16] = {
        "<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved", "Reserved",
        "Reserved", "Reserved", "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64",
        "Reserved", "IntGate64", "TrapGate64",
    };
    unsigned type = s->attr & 0xf;

    if (env->hflags & X86_HF_CS64) {
        g_string_append_printf(out, "%-3s=%04x %016" PRIx64 " %08x %08x", name, s->selector,
                               s->base, s->limit, seg_flags(s));
    } else {
        g_string_append_printf(out, "%-3s=%04x %08x %08x %08x", name, s->selector,
                               (uint32_t)s->base, s->limit, seg_flags(s));
    }
    /* In protected mode, a present segment also gets its decoded kind. */
    if ((env->hflags & X86_HF_PE) && (s->attr & X86_SEG_P)) {
        g_string_append_printf(out, " DPL=%u ", (s->attr & X86_SEG_DPL_MASK) >> X86_SEG_DPL_SHIFT);
        if (!(s->attr & X86_SEG_S)) {
            g_string_append(out, (env->hflags & X86_HF_LMA) ? sys64[type] : sys32[type]);
        } else if (type & X86_SEG_TYPE_CODE) {
            g_string_append_printf(out, "%s [%c%c%c]",
                                   (s->attr & X86_SEG_L) ? "CS64" :
                                   (s->attr & X86_SEG_DB) ? "CS32" : "CS16",
                                   (type & 4) ? 'C' : '-', (type & 2) ? 'R' : '-',
                                   (type & 1) ? 'A' : '-');
        } else {
            g_string_append_printf(out, "%s [%c%c%c]",
                                   ((s->attr & X86_SEG_DB) || (env->hflags & X86_HF_LMA)) ?
                                   "DS  " : "DS16",
                                   (type & 4) ? 'E' : '-', (type & 2) ? 'W' : '-',
                                   (type & 1) ? 'A' : '-');
        }
    }
    g_string_append_c(out, '\n');
}

static void x86_vcpu_dump_state(CPUState *cs, GString *out)
{
    /* QEMU's order: AX BX CX DX SI DI BP SP, as env->regs indices. */
    static const uint8_t order[8] = { 0, 3, 1, 2, 6, 7, 5, 4 };
    static const char *const names32[8] = { "EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP",
                                             "ESP" };
    static const char *const names64[16] = { "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP",
                                              "RSP", "R8", "R9", "R10", "R11", "R12", "R13",
                                              "R14", "R15" };
    static const char *const segnames[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    AccelState *accel = current_accel();
    bool cs64;
    uint32_t fl;
    char flags[8];

    if (!env) {
        return;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cs);
    }
    cs64 = env->hflags & X86_HF_CS64;
    fl = x86_cpu_get_eflags(env);
    /* D O S Z A P C, '-' when clear (DF 10, OF 11, SF 7, ZF 6, AF 4, PF 2, CF 0). */
    snprintf(flags, sizeof(flags), "%c%c%c%c%c%c%c", fl & 0x400 ? 'D' : '-',
             fl & 0x800 ? 'O' : '-', fl & 0x80 ? 'S' : '-', fl & 0x40 ? 'Z' : '-',
             fl & 0x10 ? 'A' : '-', fl & 0x4 ? 'P' : '-', fl & 0x1 ? 'C' : '-');
    if (cs64) {
        for (int i = 0; i < 16; i++) {
            g_string_append_printf(out, "%-3s=%016" PRIx64 "%s", names64[i],
                                   env->regs[i < 8 ? order[i] : i], i % 4 == 3 ? "\n" : " ");
        }
        g_string_append_printf(out, "RIP=%016" PRIx64 " RFL=%08x", env->rip, fl);
    } else {
        for (int i = 0; i < 8; i++) {
            g_string_append_printf(out, "%s=%08x%s", names32[i], (uint32_t)env->regs[order[i]],
                                   i % 4 == 3 ? "\n" : " ");
        }
        g_string_append_printf(out, "EIP=%08x EFL=%08x", (uint32_t)env->rip, fl);
    }
    g_string_append_printf(out, " [%s] CPL=%u II=%d A20=%d SMM=0 HLT=%d\n", flags,
                           env->hflags & X86_HF_CPL_MASK, env->int_shadow, !env->a20_masked,
                           /* QEMU's HLT= is the vCPU's halted flag: an AP waiting for its
                            * SIPI shows HLT=1 too. */
                           env->halted || cs->halted);
    for (int i = 0; i < 6; i++) {
        dump_seg(out, env, segnames[i], &env->segs[i]);
    }
    dump_seg(out, env, "LDT", &env->ldt);
    dump_seg(out, env, "TR", &env->tr);
    if (cs64) {
        g_string_append_printf(out, "GDT=     %016" PRIx64 " %08x\nIDT=     %016" PRIx64
                               " %08x\n", env->gdt.base, env->gdt.limit, env->idt.base,
                               env->idt.limit);
        g_string_append_printf(out, "CR0=%08x CR2=%016" PRIx64 " CR3=%016" PRIx64
                               " CR4=%08x\n", (uint32_t)env->cr[0], env->cr[2], env->cr[3],
                               (uint32_t)env->cr[4]);
    } else {
        g_string_append_printf(out, "GDT=     %08x %08x\nIDT=     %08x %08x\n",
                               (uint32_t)env->gdt.base, env->gdt.limit,
                               (uint32_t)env->idt.base, env->idt.limit);
        g_string_append_printf(out, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n",
                               (uint32_t)env->cr[0], (uint32_t)env->cr[2],
                               (uint32_t)env->cr[3], (uint32_t)env->cr[4]);
    }
    for (int i = 0; i < 4; i++) {
        g_string_append_printf(out, "DR%d=%016" PRIx64 " ", i, env->dr[i]);
    }
    g_string_append_printf(out, "\nDR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", env->dr[6],
                           env->dr[7]);
    g_string_append_printf(out, "EFER=%016" PRIx64 "\n", env->efer);
    /* x87 and SSE: FSW with TOP put back, FTW as FXSAVE's abridged tag. */
    g_string_append_printf(out, "FCW=%04x FSW=%04x [ST=%u] FTW=%02x MXCSR=%08x\n", env->fpuc,
                           (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11), env->fpstt & 7,
                           env->fptag_valid, env->mxcsr);
    for (int i = 0; i < 8; i++) {
        g_string_append_printf(out, "FPR%d=%016" PRIx64 " %04x%s", i, env->fpregs[i].mant,
                               env->fpregs[i].sign_exp, i & 1 ? "\n" : " ");
    }
    for (int i = 0; i < (cs64 ? 16 : 8); i++) {
        g_string_append_printf(out, "XMM%02d=%016" PRIx64 " %016" PRIx64 "%s", i,
                               env->xmm[i].q[1], env->xmm[i].q[0], i & 1 ? "\n" : " ");
    }
}

static const Property x86_vcpu_props[] = {
    DEFINE_PROP_UINT32("apic-id", X86Vcpu, apic_id, 0),
    DEFINE_PROP_UINT32("nr-cores", X86Vcpu, nr_cores, 1),
    DEFINE_PROP_UINT32("nr-threads", X86Vcpu, nr_threads, 1),
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
    cc->dump_mmu = x86_dump_mmu;
    cc->monitor_get_register = x86_monitor_get_register;
    cc->disas_mode = x86_disas_mode;
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
