/*
 * Kite guest test runtime: x86 instructions as inline functions.
 *
 * Port I/O, control registers, MSRs, CPUID, TSC and the descriptor-table
 * instructions, for both the i386 and the x86-64 build of the runtime.
 * References: Intel SDM vol. 2 (instruction set), vol. 3A ch. 2 (system
 * registers).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __x86_64__
#define ASM_PTR ".quad"
#define GUEST_ARCH "x86_64"
#else
#define ASM_PTR ".long"
#define GUEST_ARCH "i386"
#endif

/* ---- port I/O (SDM vol. 2A "IN", vol. 2B "OUT") ---- */

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* ---- MMIO: volatile accesses of an exact width ---- */

/* A pointer to a physical address (identity-mapped).  The empty asm hides
 * the constant from gcc, which otherwise warns that small addresses such as
 * the BIOS data area "point to nothing" (-Warray-bounds). */
static inline void *phys_ptr(uintptr_t addr)
{
    asm("" : "+r"(addr));
    return (void *)addr;
}

static inline uint8_t mmio_read8(uintptr_t addr)
{
    return *(volatile uint8_t *)addr;
}

static inline uint16_t mmio_read16(uintptr_t addr)
{
    return *(volatile uint16_t *)addr;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
    *(volatile uint8_t *)addr = v;
}

static inline void mmio_write16(uintptr_t addr, uint16_t v)
{
    *(volatile uint16_t *)addr = v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

/* ---- flags and interrupts ---- */

#define X86_EFLAGS_CF   (1u << 0)
#define X86_EFLAGS_ZF   (1u << 6)
#define X86_EFLAGS_TF   (1u << 8)
#define X86_EFLAGS_IF   (1u << 9)
#define X86_EFLAGS_DF   (1u << 10)
#define X86_EFLAGS_OF   (1u << 11)
#define X86_EFLAGS_IOPL (3u << 12)
#define X86_EFLAGS_AC   (1u << 18)
#define X86_EFLAGS_ID   (1u << 21)

static inline uintptr_t read_flags(void)
{
    uintptr_t f;
    asm volatile("pushf; pop %0" : "=r"(f) : : "memory");
    return f;
}

static inline void write_flags(uintptr_t f)
{
    asm volatile("push %0; popf" : : "r"(f) : "memory", "cc");
}

static inline void cli(void)
{
    asm volatile("cli" : : : "memory");
}

static inline void sti(void)
{
    asm volatile("sti" : : : "memory");
}

/* STI's one-instruction interrupt shadow (SDM vol. 2B "STI") makes
 * "sti; hlt" race-free: an interrupt can only arrive once HLT waits. */
static inline void sti_hlt(void)
{
    asm volatile("sti; hlt" : : : "memory");
}

static inline void hlt(void)
{
    asm volatile("hlt" : : : "memory");
}

static inline void cpu_relax(void)
{
    asm volatile("pause" : : : "memory");
}

static inline void barrier(void)
{
    asm volatile("" : : : "memory");
}

/* ---- CPUID (SDM vol. 2A "CPUID") ---- */

typedef struct CpuidRegs {
    uint32_t a, b, c, d;
} CpuidRegs;

static inline CpuidRegs cpuid2(uint32_t leaf, uint32_t subleaf)
{
    CpuidRegs r;
    asm volatile("cpuid"
                 : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

static inline CpuidRegs cpuid(uint32_t leaf)
{
    return cpuid2(leaf, 0);
}

/* ---- MSRs (SDM vol. 4) ---- */

#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_EFER              0xc0000080
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_FMASK             0xc0000084
#define MSR_FS_BASE           0xc0000100
#define MSR_GS_BASE           0xc0000101
#define MSR_KERNEL_GS_BASE    0xc0000102

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                 : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ---- control registers (SDM vol. 3A 2.5) ---- */

#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)

#define DEFINE_CR(n)                                                  \
    static inline uintptr_t read_cr##n(void)                          \
    {                                                                 \
        uintptr_t v;                                                  \
        asm volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
        return v;                                                     \
    }                                                                 \
    static inline void write_cr##n(uintptr_t v)                       \
    {                                                                 \
        asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");        \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(uintptr_t addr)
{
    asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* ---- descriptor tables ---- */

typedef struct __attribute__((packed)) DescPtr {
    uint16_t limit;
    uintptr_t base;
} DescPtr;

static inline void lidt(const DescPtr *p)
{
    asm volatile("lidt %0" : : "m"(*p));
}

static inline void sidt(DescPtr *p)
{
    asm volatile("sidt %0" : "=m"(*p));
}

static inline void sgdt(DescPtr *p)
{
    asm volatile("sgdt %0" : "=m"(*p));
}

static inline uint16_t read_cs(void)
{
    uint16_t v;
    asm volatile("mov %%cs, %0" : "=r"(v));
    return v;
}

/* ---- atomics (SDM vol. 3A 8.1.2, LOCK prefix) ---- */

static inline uint32_t atomic_fetch_add32(volatile uint32_t *p, uint32_t v)
{
    asm volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

static inline void atomic_inc32(volatile uint32_t *p)
{
    asm volatile("lock incl %0" : "+m"(*p) : : "memory");
}

static inline uint32_t atomic_xchg32(volatile uint32_t *p, uint32_t v)
{
    /* XCHG with a memory operand is always locked (SDM vol. 2B "XCHG"). */
    asm volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

#endif /* GUEST_X86_H */
