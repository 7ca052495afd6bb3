/*
 * cpuid: CPUID leaves are sane and agree with what the CPU actually does.
 *
 * Reference: SDM vol. 2A "CPUID" (leaf 0 vendor and maximum leaf, leaf 1
 * family/model/stepping and feature flags, leaf 0x80000000 maximum extended
 * leaf, 0x80000001 extended features, 0x80000002-4 brand string); vol. 1
 * 3.4.3.3: CPUID is present when EFLAGS.ID (bit 21) can be toggled.
 * Features are cross-checked by using them: TSC (RDTSC advances), MSR
 * (IA32_APIC_BASE reads back the APIC base), CX8 (CMPXCHG8B), CMOV, APIC
 * (the local APIC answers), LM (this build runs in long mode), NX
 * (EFER.NXE can be set), MCA (SDM vol. 3B 15.3: IA32_MCG_CAP names banks; under the
 * interpreter, QEMU's TCG layout: MCG_CTL present, 10 banks, MCi_CTL all ones at reset and
 * taking only all zeros/ones, MCi_STATUS read/write).
 *
 * Topology, when the command line says what -smp asked for per package ("cores=C
 * threads=T"): leaf 1 EDX.HTT and EBX[23:16] logical processors per package; leaf 4
 * EAX[31:26] cores per package - 1 (when leaf 4 describes a cache); leaf 0Bh levels SMT
 * then core with their APIC ID shifts and counts, EDX the x2APIC ID (SDM vol. 2A CPUID,
 * vol. 3A 8.9 "Programming considerations for hardware multi-threading"); AMD leaf
 * 80000008h ECX[7:0] NC = logical processors per package - 1 (AMD APM vol. 3, E.4.7).
 * QEMU 7.2 makes "-smp 2" one package with two cores.
 *
 * Built twice: cpuid (i386) and cpuid64 (x86-64).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define F1_EDX_FPU  (1u << 0)
#define F1_EDX_TSC  (1u << 4)
#define F1_EDX_MSR  (1u << 5)
#define F1_EDX_PAE  (1u << 6)
#define F1_EDX_CX8  (1u << 8)
#define F1_EDX_APIC (1u << 9)
#define F1_EDX_MCA  (1u << 14)
#define F1_EDX_CMOV (1u << 15)
#define F1_EDX_FXSR (1u << 24)
#define F1_EDX_HTT  (1u << 28)
#define F1_EDX_SSE2 (1u << 26)
#define E1_EDX_NX   (1u << 20)
#define E1_EDX_LM   (1u << 29)

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

static void test_presence(void)
{
    uintptr_t f = read_flags();
    write_flags(f ^ X86_EFLAGS_ID);
    uintptr_t g = read_flags();
    write_flags(f);
    CHECK((f ^ g) & X86_EFLAGS_ID, "EFLAGS.ID toggles (CPUID present)");
}

static void test_basic(void)
{
    CpuidRegs r = cpuid(0);
    char vendor[13];
    memcpy(vendor, &r.b, 4);
    memcpy(vendor + 4, &r.d, 4);
    memcpy(vendor + 8, &r.c, 4);
    vendor[12] = '\0';
    printf("cpuid: vendor \"%s\", max leaf 0x%x\n", vendor, r.a);
    CHECK(printable(vendor, 12) && vendor[0], "vendor string is printable");
    CHECK(r.a >= 1 && r.a < 0x100, "max basic leaf 0x%x in 1..0xff", r.a);

    CpuidRegs l1 = cpuid(1);
    unsigned family = (l1.a >> 8) & 0xf, model = (l1.a >> 4) & 0xf;
    if (family == 0xf) {
        family += (l1.a >> 20) & 0xff;
    }
    if (family == 0x6 || family >= 0xf) {
        model |= ((l1.a >> 16) & 0xf) << 4;
    }
    printf("cpuid: family 0x%x model 0x%x stepping %u, leaf 1 edx 0x%x ecx 0x%x\n",
           family, model, l1.a & 0xf, l1.d, l1.c);
    CHECK(family >= 6, "family 0x%x is at least 6 (P6 or later)", family);
    uint32_t need = F1_EDX_FPU | F1_EDX_TSC | F1_EDX_MSR | F1_EDX_PAE | F1_EDX_CX8 |
                    F1_EDX_APIC | F1_EDX_CMOV | F1_EDX_FXSR | F1_EDX_SSE2;
    CHECK_EQ(l1.d & need, need, "leaf 1 EDX: FPU TSC MSR PAE CX8 APIC CMOV FXSR SSE2");
    CHECK_EQ(l1.b >> 24, lapic_id(), "leaf 1 EBX[31:24] initial APIC ID = APIC ID register");

    /* Subleaves of an unsubleafed leaf and the leaf repeat identically. */
    CpuidRegs again = cpuid(1);
    CHECK(again.a == l1.a && again.d == l1.d && again.c == l1.c,
          "leaf 1 is stable across calls");
}

static void test_features_work(void)
{
    uint64_t t1 = rdtsc();
    udelay(100);
    uint64_t t2 = rdtsc();
    CHECK(t2 > t1, "TSC advances (0x%llx -> 0x%llx)", (unsigned long long)t1,
          (unsigned long long)t2);

    CHECK_EQ(rdmsr(MSR_IA32_APIC_BASE) & 0xfffff000, 0xfee00000, "RDMSR IA32_APIC_BASE");

    /*
     * Linux reads the K8 SYSCFG MSR unguarded on AMD family 0Fh-11h (MTRR set-up), so an
     * AMD-identifying CPU must not #GP on it (an unexpected #GP fails this kernel).
     */
    CpuidRegs v = cpuid(0);
    if (v.b == 0x68747541 && v.d == 0x69746e65 && v.c == 0x444d4163) {   /* AuthenticAMD */
        uint64_t syscfg = rdmsr(0xc0010010);
        printf("cpuid: AMD SYSCFG 0x%llx\n", (unsigned long long)syscfg);
    }

    uint64_t mem = 0x1122334455667788ull;
    uint32_t lo = 0x55667788, hi = 0x11223344;
    uint8_t ok;
    asm volatile("lock cmpxchg8b %1; sete %0"
                 : "=q"(ok), "+m"(mem), "+a"(lo), "+d"(hi)
                 : "b"(0xdeadbeef), "c"(0xcafef00d)
                 : "memory", "cc");
    CHECK(ok && mem == 0xcafef00ddeadbeefull, "CMPXCHG8B swapped (mem 0x%llx)",
          (unsigned long long)mem);

    uint32_t a = 1, b = 2;
    asm volatile("cmp %1, %1; cmove %1, %0" : "+r"(a) : "r"(b) : "cc");
    CHECK_EQ(a, 2, "CMOVE with ZF set");

    if (cpuid(1).d & F1_EDX_MCA) {
        uint64_t cap = rdmsr(0x179);
        unsigned banks = cap & 0xff;
        printf("cpuid: MCA, MCG_CAP 0x%llx\n", (unsigned long long)cap);
        CHECK(banks >= 1, "MCG_CAP names %u banks", banks);
        wrmsr(0x401, 0);                                    /* MC0_STATUS */
        CHECK_EQ(rdmsr(0x401), 0, "MC0_STATUS cleared");
        char acc[8];
        if (cmdline_get("accel", acc, sizeof(acc)) && !strcmp(acc, "tcg")) {
            CHECK_EQ(cap, 0x100010a, "MCG_CAP: MCG_CTL_P, MCG_SER_P, 10 banks (as QEMU)");
            CHECK_EQ(rdmsr(0x17b), ~0ull, "MCG_CTL all ones at reset");
            CHECK_EQ(rdmsr(0x400 + 4 * 9), ~0ull, "MC9_CTL all ones at reset");
            wrmsr(0x400, 0x1234);                           /* ignored: not 0 or ~0 */
            CHECK_EQ(rdmsr(0x400), ~0ull, "MC0_CTL keeps all ones on a partial write");
            wrmsr(0x400, 0);
            CHECK_EQ(rdmsr(0x400), 0, "MC0_CTL takes zero");
            wrmsr(0x402, 0xfeedf00d);                       /* MC0_ADDR */
            CHECK_EQ(rdmsr(0x402), 0xfeedf00d, "MC0_ADDR read/write");
            CHECK_EQ(rdmsr(0x8b), 0x01000065, "AMD patch level (Linux's microcode)");
        }
    }
}

static void test_extended(void)
{
    uint32_t max = cpuid(0x80000000).a;
    printf("cpuid: max extended leaf 0x%x\n", max);
    CHECK(max >= 0x80000001 && max < 0x80000100, "max extended leaf 0x%x", max);
    if (max < 0x80000001) {
        return;
    }
    CpuidRegs e1 = cpuid(0x80000001);
#ifdef __x86_64__
    CHECK(e1.d & E1_EDX_LM, "0x80000001 EDX.LM set while running in long mode");
#else
    printf("cpuid: long mode %s\n", (e1.d & E1_EDX_LM) ? "supported" : "not supported");
#endif
    if (e1.d & E1_EDX_NX) {
        uint64_t efer = rdmsr(MSR_EFER);
        wrmsr(MSR_EFER, efer | EFER_NXE);
        uint64_t set = rdmsr(MSR_EFER);
        wrmsr(MSR_EFER, efer);
        CHECK(set & EFER_NXE, "EFER.NXE can be set when 0x80000001 EDX.NX is");
    }

    if (max >= 0x80000004) {
        char brand[49];
        for (int i = 0; i < 3; i++) {
            CpuidRegs r = cpuid(0x80000002 + i);
            memcpy(brand + 16 * i, &r, 16);
        }
        brand[48] = '\0';
        printf("cpuid: brand \"%s\"\n", brand);
        CHECK(printable(brand, 48), "brand string is printable");
    }
}

/* Bits of an APIC ID field for n units: ceil(log2(n)). */
static unsigned field_bits(unsigned n)
{
    unsigned b = 0;

    while ((1u << b) < n) {
        b++;
    }
    return b;
}

static bool is_amd(void)
{
    CpuidRegs v = cpuid(0);
    return v.b == 0x68747541 && v.d == 0x69746e65 && v.c == 0x444d4163;  /* AuthenticAMD */
}

static void test_topology(void)
{
    unsigned cores = cmdline_get_uint("cores", 0), threads = cmdline_get_uint("threads", 1);
    if (!cores) {
        printf("cpuid: no cores= on the command line, topology not checked\n");
        return;
    }
    unsigned per_pkg = cores * threads;
    printf("cpuid: expecting %u cores x %u threads per package\n", cores, threads);

    CpuidRegs l1 = cpuid(1);
    if (per_pkg > 1) {
        CHECK(l1.d & F1_EDX_HTT, "leaf 1 EDX.HTT set for %u logical CPUs a package", per_pkg);
        CHECK_EQ((l1.b >> 16) & 0xff, per_pkg, "leaf 1 EBX[23:16] logical CPUs a package");
    } else {
        CHECK(!(l1.d & F1_EDX_HTT), "leaf 1 EDX.HTT clear for one CPU a package");
    }

    uint32_t max = cpuid(0).a;
    if (max >= 4) {
        CpuidRegs l4 = cpuid2(4, 0);
        if (l4.a & 0x1f) {
            CHECK_EQ(l4.a >> 26, cores - 1, "leaf 4 EAX[31:26] cores a package - 1");
        }
    }
    if (max >= 0xb) {
        CpuidRegs s0 = cpuid2(0xb, 0), s1 = cpuid2(0xb, 1), s2 = cpuid2(0xb, 2);
        CHECK_EQ((s0.c >> 8) & 0xff, 1, "leaf 0Bh.0 level type SMT");
        CHECK_EQ(s0.b & 0xffff, threads, "leaf 0Bh.0 EBX threads a core");
        CHECK_EQ(s0.a & 0x1f, field_bits(threads), "leaf 0Bh.0 EAX APIC ID shift");
        CHECK_EQ((s1.c >> 8) & 0xff, 2, "leaf 0Bh.1 level type core");
        CHECK_EQ(s1.b & 0xffff, per_pkg, "leaf 0Bh.1 EBX logical CPUs a package");
        CHECK_EQ(s1.a & 0x1f, field_bits(threads) + field_bits(cores),
                 "leaf 0Bh.1 EAX APIC ID shift to the package");
        CHECK_EQ((s2.c >> 8) & 0xff, 0, "leaf 0Bh.2 level type invalid");
        CHECK_EQ(s0.d, lapic_id(), "leaf 0Bh EDX x2APIC ID = APIC ID register");
    }
    if (is_amd() && cpuid(0x80000000).a >= 0x80000008) {
        CHECK_EQ(cpuid(0x80000008).c & 0xff, per_pkg - 1,
                 "leaf 80000008h ECX[7:0] logical CPUs a package - 1");
    }
}

void test_main(void)
{
    lapic_enable(0xff);
    test_presence();
    test_basic();
    test_features_work();
    test_extended();
    test_topology();
}
