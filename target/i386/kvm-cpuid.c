/*
 * The CPUID a KVM guest sees, built from what the host's KVM supports
 * (KVM_GET_SUPPORTED_CPUID, api.rst 4.46), never from a fixed list: a paravirtual or old
 * KVM hides features its host CPU has.
 *
 * "host" and "max": every supported feature.  "qemu64": QEMU's baseline model (family 15
 * model 107 stepping 1, "QEMU Virtual CPU version 2.5+"), its features masked by what KVM
 * supports, the vendor string of the host as QEMU does under KVM.  Both then get the
 * topology of -smp (leaf 1, 4, 0Bh/1Fh; AMD 80000008h, 8000001Dh/1Eh), the hypervisor
 * bit and KVM's signature leaf 40000000h with no paravirtual features: kvmclock, PV EOI
 * and the others need MSR state Kite does not save yet.  x2APIC and the TSC deadline
 * timer need the in-kernel LAPIC and are dropped without it.
 *
 * The result goes to X86Vcpu.cpuid (what the rest of Kite reads) and KVM_SET_CPUID2.
 * Bit positions: SDM vol. 2A, CPUID, tables 3-8 to 3-12; AMD APM vol. 3, appendix E.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/kvm-x86.h"
#include <cpuid.h>

/* CPUID.1:EDX */
#define F1D_FPU     (1u << 0)
#define F1D_DE      (1u << 2)
#define F1D_PSE     (1u << 3)
#define F1D_TSC     (1u << 4)
#define F1D_MSR     (1u << 5)
#define F1D_PAE     (1u << 6)
#define F1D_MCE     (1u << 7)
#define F1D_CX8     (1u << 8)
#define F1D_APIC    (1u << 9)
#define F1D_SEP     (1u << 11)
#define F1D_MTRR    (1u << 12)
#define F1D_PGE     (1u << 13)
#define F1D_MCA     (1u << 14)
#define F1D_CMOV    (1u << 15)
#define F1D_PAT     (1u << 16)
#define F1D_PSE36   (1u << 17)
#define F1D_CLFLUSH (1u << 19)
#define F1D_MMX     (1u << 23)
#define F1D_FXSR    (1u << 24)
#define F1D_SSE     (1u << 25)
#define F1D_SSE2    (1u << 26)
#define F1D_HTT     (1u << 28)
/* CPUID.1:ECX */
#define F1C_SSE3    (1u << 0)
#define F1C_CX16    (1u << 13)
#define F1C_X2APIC  (1u << 21)
#define F1C_POPCNT  (1u << 23)
#define F1C_TSC_DEADLINE (1u << 24)
#define F1C_HYPERVISOR (1u << 31)
/* CPUID.80000001h:EDX / ECX */
#define F81D_SYSCALL (1u << 11)
#define F81D_NX      (1u << 20)
#define F81D_LM      (1u << 29)
#define F81D_AMD_ALIASES 0x0183f3ffu     /* bits mirroring CPUID.1:EDX on AMD */
#define F81C_LAHF_LM (1u << 0)
#define F81C_TOPOEXT (1u << 22)

#define KVM_CPUID_SIGNATURE 0x40000000u

#define QEMU64_FEATURES_1_EDX (F1D_FPU | F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE | \
                               F1D_MCE | F1D_CX8 | F1D_APIC | F1D_SEP | F1D_MTRR | F1D_PGE | \
                               F1D_MCA | F1D_CMOV | F1D_PAT | F1D_PSE36 | F1D_CLFLUSH | \
                               F1D_MMX | F1D_FXSR | F1D_SSE | F1D_SSE2)
#define QEMU64_FEATURES_1_ECX (F1C_SSE3 | F1C_CX16 | F1C_X2APIC | F1C_POPCNT)
#define QEMU64_FEATURES_81_EDX (F81D_SYSCALL | F81D_NX | F81D_LM)
#define QEMU64_FEATURES_81_ECX (F81C_LAHF_LM)
#define QEMU64_LEVEL 0xd
#define QEMU64_XLEVEL 0x8000000au
#define QEMU64_BRAND "QEMU Virtual CPU version 2.5+"

/* APIC ID layout: SMT bits, then core bits, then die bits, then the package. */
typedef struct X86Topo {
    unsigned smt_width, core_width, die_width;
    unsigned pkg_offset;            /* APIC ID bits below the package number */
    unsigned threads, cores;
} X86Topo;

static unsigned topo_bits(unsigned n)
{
    return n <= 1 ? 0 : 32 - __builtin_clz(n - 1);
}

static X86Topo topo_from_smp(const SMPConfig *smp)
{
    X86Topo t = {
        .smt_width = topo_bits(smp->threads),
        .core_width = topo_bits(smp->cores),
        .die_width = topo_bits(smp->dies),
        .threads = smp->threads,
        .cores = smp->cores,
    };

    t.pkg_offset = t.smt_width + t.core_width + t.die_width;
    return t;
}

/* ------------------------------------------------------------ entry tables */

static const struct kvm_cpuid_entry2 *supported(uint32_t fn, uint32_t idx)
{
    const struct kvm_cpuid2 *s = x86_kvm_state()->supported;

    for (uint32_t i = 0; i < s->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &s->entries[i];
        if (e->function == fn &&
            (e->index == idx || !(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))) {
            return e;
        }
    }
    return NULL;
}

/* Leaves whose subleaf (ECX) selects different data. */
static bool cpuid_indexed(uint32_t fn)
{
    const struct kvm_cpuid2 *s = x86_kvm_state()->supported;

    if (fn == 4 || fn == 7 || fn == 0xb || fn == 0xd || fn == 0x1f || fn == 0x8000001du) {
        return true;
    }
    for (uint32_t i = 0; i < s->nent; i++) {
        if (s->entries[i].function == fn &&
            (s->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)) {
            return true;
        }
    }
    return false;
}

static X86CpuidEntry *cpuid_find(GArray *a, uint32_t fn, uint32_t idx)
{
    for (guint i = 0; i < a->len; i++) {
        X86CpuidEntry *e = &g_array_index(a, X86CpuidEntry, i);
        if (e->function == fn && e->index == idx) {
            return e;
        }
    }
    return NULL;
}

static X86CpuidEntry *cpuid_set(GArray *a, uint32_t fn, uint32_t idx, uint32_t eax,
                                uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    X86CpuidEntry n = { fn, idx, eax, ebx, ecx, edx };
    X86CpuidEntry *e = cpuid_find(a, fn, idx);

    if (e) {
        *e = n;
        return e;
    }
    g_array_append_val(a, n);
    return &g_array_index(a, X86CpuidEntry, a->len - 1);
}

static void cpuid_remove_leaf(GArray *a, uint32_t fn)
{
    for (guint i = a->len; i-- > 0;) {
        if (g_array_index(a, X86CpuidEntry, i).function == fn) {
            g_array_remove_index(a, i);
        }
    }
}

static uint32_t supported_reg(uint32_t fn, uint32_t idx, int reg)
{
    const struct kvm_cpuid_entry2 *e = supported(fn, idx);

    if (!e) {
        return 0;
    }
    switch (reg) {
    case 0: return e->eax;
    case 1: return e->ebx;
    case 2: return e->ecx;
    default: return e->edx;
    }
}
#define SUP_EAX(fn, idx) supported_reg(fn, idx, 0)
#define SUP_EBX(fn, idx) supported_reg(fn, idx, 1)
#define SUP_ECX(fn, idx) supported_reg(fn, idx, 2)
#define SUP_EDX(fn, idx) supported_reg(fn, idx, 3)

static bool vendor_is_amd(void)
{
    uint32_t ebx = SUP_EBX(0, 0);

    return ebx == 0x68747541u /* "Auth"enticAMD */ || ebx == 0x6f677948u /* "Hygo"nGenuine */;
}

/* ------------------------------------------------------------ models */

/* Every leaf KVM supports, except its paravirtual range (rebuilt below). */
static void cpuid_model_host(GArray *a)
{
    const struct kvm_cpuid2 *s = x86_kvm_state()->supported;
    bool brand = false;

    for (uint32_t i = 0; i < s->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &s->entries[i];
        if ((e->function & 0xffff0000u) == KVM_CPUID_SIGNATURE) {
            continue;
        }
        cpuid_set(a, e->function, e->index, e->eax, e->ebx, e->ecx, e->edx);
        if (e->function >= 0x80000002u && e->function <= 0x80000004u &&
            (e->eax | e->ebx | e->ecx | e->edx)) {
            brand = true;
        }
    }
    /* Some KVMs leave the brand string empty: the host's is the right one here. */
    if (!brand && SUP_EAX(0x80000000u, 0) >= 0x80000004u) {
        for (uint32_t fn = 0x80000002u; fn <= 0x80000004u; fn++) {
            uint32_t r[4];
            __cpuid(fn, r[0], r[1], r[2], r[3]);
            cpuid_set(a, fn, 0, r[0], r[1], r[2], r[3]);
        }
    }
}

static void cpuid_model_qemu64(GArray *a)
{
    uint32_t level = MIN(QEMU64_LEVEL, SUP_EAX(0, 0));
    uint32_t xlevel = MIN(QEMU64_XLEVEL, SUP_EAX(0x80000000u, 0));
    /* Family 15 (base 0xf), model 107 (ext 6, base 0xb), stepping 1 (SDM vol. 2A, fig. 3-6). */
    uint32_t fms = (0x6 << 16) | (0xf << 8) | (0xb << 4) | 1;
    uint32_t edx1 = QEMU64_FEATURES_1_EDX & SUP_EDX(1, 0);
    uint32_t edx81 = QEMU64_FEATURES_81_EDX & SUP_EDX(0x80000001u, 0);
    char brand[48] = QEMU64_BRAND;

    cpuid_set(a, 0, 0, level, SUP_EBX(0, 0), SUP_ECX(0, 0), SUP_EDX(0, 0));
    cpuid_set(a, 1, 0, fms, 0, QEMU64_FEATURES_1_ECX & SUP_ECX(1, 0), edx1);
    for (uint32_t fn = 2; fn <= level; fn++) {
        if (fn == 4) {
            /* Deterministic cache parameters (Intel only): the host's, topology fixed below. */
            uint32_t i = 0;
            for (; !vendor_is_amd() && (SUP_EAX(4, i) & 0x1f) && i < 8; i++) {
                cpuid_set(a, 4, i, SUP_EAX(4, i), SUP_EBX(4, i), SUP_ECX(4, i), SUP_EDX(4, i));
            }
            cpuid_set(a, 4, i, 0, 0, 0, 0);      /* cache type 0: no more caches */
        } else {
            /* Leaves 2, 3, 5-0Dh: no such feature in this model. */
            cpuid_set(a, fn, 0, 0, 0, 0, 0);
            if (fn == 0xd) {
                cpuid_set(a, fn, 1, 0, 0, 0, 0);
            }
        }
    }
    if (vendor_is_amd()) {
        edx81 |= edx1 & F81D_AMD_ALIASES;
    }
    cpuid_set(a, 0x80000000u, 0, xlevel, SUP_EBX(0, 0), SUP_ECX(0, 0), SUP_EDX(0, 0));
    cpuid_set(a, 0x80000001u, 0, fms, 0,
              QEMU64_FEATURES_81_ECX & SUP_ECX(0x80000001u, 0), edx81);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t r[4];
        memcpy(r, brand + 16 * i, 16);
        cpuid_set(a, 0x80000002u + i, 0, r[0], r[1], r[2], r[3]);
    }
    for (uint32_t fn = 0x80000005u; fn <= xlevel; fn++) {
        if (fn == 0x80000005u || fn == 0x80000006u) {
            /* Cache and TLB descriptions: the host's. */
            cpuid_set(a, fn, 0, SUP_EAX(fn, 0), SUP_EBX(fn, 0), SUP_ECX(fn, 0), SUP_EDX(fn, 0));
        } else if (fn == 0x80000008u) {
            /* Address sizes: at most 40 physical bits, as QEMU's default, never above the host. */
            uint32_t eax = SUP_EAX(fn, 0);
            uint32_t phys = MIN(eax & 0xff, 40u);
            cpuid_set(a, fn, 0, (eax & 0xff00) | phys, 0, 0, 0);
        } else {
            cpuid_set(a, fn, 0, 0, 0, 0, 0);
        }
    }
}

/* ------------------------------------------------------------ per-vCPU fix-ups */

/* Bits 25:14 of leaf 4 / 8000001Dh: APIC IDs sharing this cache, minus one. */
static void cpuid_cache_sharing(GArray *a, uint32_t fn, const X86Topo *t)
{
    for (uint32_t i = 0; cpuid_find(a, fn, i); i++) {
        X86CpuidEntry *e = cpuid_find(a, fn, i);
        unsigned level = (e->eax >> 5) & 7;
        unsigned share = level >= 3 ? t->pkg_offset : t->smt_width;

        if ((e->eax & 0x1f) == 0) {
            break;              /* type 0: no more caches */
        }
        e->eax = deposit64(e->eax, 14, 12, (1u << share) - 1);
        if (fn == 4) {
            /* Bits 31:26: addressable core IDs in the package, minus one. */
            e->eax = deposit64(e->eax, 26, 6,
                               MIN((1u << (t->core_width + t->die_width)) - 1, 63u));
        }
    }
}

/* Leaf 0Bh / 1Fh: x2APIC topology levels, SMT then core (SDM vol. 3A, 8.9.4). */
static void cpuid_x2apic_topology(GArray *a, uint32_t fn, const X86Topo *t, uint32_t apic_id)
{
    cpuid_remove_leaf(a, fn);
    cpuid_set(a, fn, 0, t->smt_width, t->threads, (1u << 8) | 0, apic_id);
    cpuid_set(a, fn, 1, t->pkg_offset, t->threads * t->cores, (2u << 8) | 1, apic_id);
    cpuid_set(a, fn, 2, 0, 0, 2, apic_id);     /* level type 0: the end */
}

static void cpuid_finish(X86Vcpu *cpu, GArray *a, const X86Topo *t)
{
    uint32_t apic_id = cpu->apic_id;
    uint32_t logical = MIN(1u << t->pkg_offset, 255u);
    uint32_t level = cpuid_find(a, 0, 0)->eax;
    uint32_t xlevel = cpuid_find(a, 0x80000000u, 0) ? cpuid_find(a, 0x80000000u, 0)->eax : 0;
    X86CpuidEntry *e = cpuid_find(a, 1, 0);

    /* Leaf 1: initial APIC ID, logical processors per package, CLFLUSH line = 8 * 8. */
    e->ebx = (apic_id << 24) | (logical << 16) | (8 << 8);
    e->edx = logical > 1 ? e->edx | F1D_HTT : e->edx & ~F1D_HTT;
    e->ecx |= F1C_HYPERVISOR;
    if (!kvm_irqchip_in_kernel()) {
        e->ecx &= ~(F1C_X2APIC | F1C_TSC_DEADLINE);
    }
    if (level >= 4 && !vendor_is_amd()) {
        cpuid_cache_sharing(a, 4, t);
    }
    if (level >= 0xb) {
        cpuid_x2apic_topology(a, 0xb, t, apic_id);
    }
    if (level >= 0x1f) {
        cpuid_x2apic_topology(a, 0x1f, t, apic_id);
    }
    if (vendor_is_amd() && xlevel >= 0x80000008u) {
        /* NC: threads in the package minus one; ApicIdCoreIdSize (APM vol. 3, E.4.7). */
        e = cpuid_find(a, 0x80000008u, 0);
        e->ecx = (t->pkg_offset << 12) | (t->threads * t->cores - 1);
    }
    if (xlevel >= 0x8000001du) {
        cpuid_cache_sharing(a, 0x8000001du, t);
    }
    e = cpuid_find(a, 0x80000001u, 0);
    if (xlevel >= 0x8000001eu && e && (e->ecx & F81C_TOPOEXT)) {
        /* Extended APIC ID, compute unit (core) ID and threads per unit; one node. */
        cpuid_set(a, 0x8000001eu, 0, apic_id,
                  ((t->threads - 1) << 8) | ((apic_id >> t->smt_width) &
                                             ((1u << t->core_width) - 1)), 0, 0);
    }
    /* KVM's signature (Linux Documentation/virt/kvm/x86/cpuid.rst), no PV features. */
    cpuid_set(a, KVM_CPUID_SIGNATURE, 0, KVM_CPUID_SIGNATURE + 1, 0x4b4d564b, 0x564b4d56,
              0x4d);
    cpuid_set(a, KVM_CPUID_SIGNATURE + 1, 0, 0, 0, 0, 0);
}

bool kvm_x86_setup_cpuid(X86Vcpu *cpu, Error **errp)
{
    X86VcpuClass *xc = X86_VCPU_GET_CLASS(cpu);
    const char *model = xc->model_name ? xc->model_name : X86_VCPU_DEFAULT_MODEL;
    X86Topo topo = topo_from_smp(&x86_kvm_state()->smp);
    GArray *a = cpu->cpuid;
    struct kvm_cpuid2 *c;
    X86KvmVcpu *xs = x86_kvm_vcpu(CPU(cpu));
    const X86CpuidEntry *e;
    int r;

    g_array_set_size(a, 0);
    if (!strcmp(model, "host") || !strcmp(model, "max")) {
        cpuid_model_host(a);
    } else if (!strcmp(model, "qemu64")) {
        cpuid_model_qemu64(a);
    } else {
        error_setg(errp, "KVM: CPU model '%s' is not supported", model);
        return false;
    }
    if (!cpuid_find(a, 0, 0) || !cpuid_find(a, 1, 0)) {
        error_setg(errp, "KVM: the host reports no CPUID leaf 1");
        return false;
    }
    cpuid_finish(cpu, a, &topo);

    c = g_malloc0(sizeof(*c) + a->len * sizeof(c->entries[0]));
    c->nent = a->len;
    for (guint i = 0; i < a->len; i++) {
        const X86CpuidEntry *src = &g_array_index(a, X86CpuidEntry, i);
        struct kvm_cpuid_entry2 *dst = &c->entries[i];
        dst->function = src->function;
        dst->index = src->index;
        dst->flags = cpuid_indexed(src->function) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
        dst->eax = src->eax;
        dst->ebx = src->ebx;
        dst->ecx = src->ecx;
        dst->edx = src->edx;
    }
    r = kvm_vcpu_ioctl(CPU(cpu), KVM_SET_CPUID2, c);
    g_free(c);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_SET_CPUID2 failed: %s", g_strerror(-r));
        return false;
    }
    e = cpuid_find(a, 1, 0);
    xs->has_mtrr = e->edx & F1D_MTRR;
    e = cpuid_find(a, 0x80000001u, 0);
    xs->has_lm = e && (e->edx & F81D_LM);
    return true;
}
