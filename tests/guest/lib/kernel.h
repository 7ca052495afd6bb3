/*
 * Kite guest test runtime: the API a test kernel sees.
 *
 * A test kernel defines test_main().  The runtime's entry code (entry32.S or
 * entry64.S) has by then zeroed .bss, loaded its own GDT, set up a stack, and
 * runtime_start() has initialised COM1, the IDT, the PIT-based clock, masked
 * both 8259s and parsed the multiboot command line.  test_main() reports with
 * CHECK*() and ends with test_done(); see tests/guest/README.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asm.h"
#include "x86.h"

#ifndef TEST_NAME
#error "TEST_NAME must be defined by the build"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

/* ---- the test kernel's entry point ---- */
void test_main(void);

/* ---- isa-debug-exit verdicts (README.rst "Exit codes") ----
 * QEMU's isa-debug-exit turns an OUT of v into exit status (v << 1) | 1. */
#define DEBUG_EXIT_PORT   0xf4
#define EXIT_CODE_PASS    0x10      /* process exit status 33 */
#define EXIT_CODE_FAIL    0x11      /* 35: a check failed */
#define EXIT_CODE_CRASH   0x12      /* 37: unexpected exception or interrupt */

NORETURN void test_exit(uint32_t code);
NORETURN void test_done(void);                  /* PASS unless a check failed */
NORETURN PRINTF_FMT(1, 2) void test_fail(const char *fmt, ...);

/* ---- checks: each prints one "ok"/"FAIL" line; failures are counted ---- */
PRINTF_FMT(4, 5) bool check_impl(bool ok, const char *file, int line, const char *fmt, ...);
bool check_eq_impl(uint64_t got, uint64_t want, const char *file, int line,
                   const char *what);
PRINTF_FMT(1, 2) void test_skip(const char *fmt, ...);
unsigned test_failures(void);

#define CHECK(cond, ...) check_impl(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(got, want, what) \
    check_eq_impl((uint64_t)(got), (uint64_t)(want), __FILE__, __LINE__, (what))

/* ---- console (COM1, polled) ---- */
PRINTF_FMT(1, 2) void printf(const char *fmt, ...);
void vprintf(const char *fmt, va_list ap);
PRINTF_FMT(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_putc(char c);
void console_init(void);            /* 115200 8N1, FIFOs on, interrupts off */

#define COM1_BASE 0x3f8             /* first 16550 UART, ISA IRQ 4 */

/* ---- string helpers (gcc may also emit calls to mem*) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);

/* ---- multiboot command line: "key=value key2=value2" ---- */
const char *cmdline(void);
/* x87 control and status words at _start, before the kernel ran any x87 instruction. */
extern uint16_t entry_fcw, entry_fsw;
/* The first multiboot module (-initrd), physical [start, end); 0, 0 if none. */
extern uint32_t multiboot_mod_start, multiboot_mod_end;
bool cmdline_get(const char *key, char *buf, size_t size);
uint64_t cmdline_get_uint(const char *key, uint64_t dflt);   /* decimal or 0x */
uint32_t multiboot_mem_upper_kib(void);     /* 0 if the loader gave none */
/* run.py appends "accel=kvm" or "accel=tcg".  Under KVM the CPU, and with an
 * in-kernel irqchip the APICs, PIC and PIT, are the host kernel's rather than
 * the emulator's; checks of their finer points may be skipped there. */
bool accel_is_kvm(void);

/* ---- interrupts and exceptions ---- */
#ifdef __x86_64__
typedef struct IntFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss;     /* pushed by the CPU */
} IntFrame;
#else
typedef struct IntFrame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags;
    uint32_t sp, ss;                    /* only on a privilege change */
} IntFrame;
#endif

typedef void IntHandler(IntFrame *f);

void idt_init(void);                /* all 256 vectors; done by the runtime */
void idt_load(void);                /* on an AP */
void idt_set_handler(int vector, IntHandler *fn);
void idt_set_dpl(int vector, int dpl);

/*
 * Expected faults.  An instruction that is meant to fault gets an exception
 * table entry naming where to resume; the fault is recorded in last_fault
 * instead of crashing the test:
 *     fault_reset();
 *     asm volatile("1: ud2\n2:\n" EXTABLE(1b, 2b));
 *     CHECK_EQ(last_fault.vector, 6, "#UD");
 * For traps (INT3, INTO, single-step) the reported ip is the next
 * instruction, so the entry is keyed on the label after it.
 */
#define EXTABLE(from, to) \
    ".pushsection .extable,\"a\"\n.balign 8\n" ASM_PTR " " #from ", " #to "\n.popsection\n"

typedef struct FaultInfo {
    volatile uint32_t count;
    volatile uint32_t vector;
    volatile uintptr_t error, ip, cr2;
} FaultInfo;
extern FaultInfo last_fault;
void fault_reset(void);

/* Vector names, for messages ("#GP"). */
const char *exception_name(unsigned vector);

/* ---- GDT (entry*.S); selectors are in asm.h ---- */
extern uint64_t gdt[GDT_ENTRIES];

/* ---- paging, x86-64 build only (entry64.S): 4 GiB identity map, 2 MiB pages ---- */
#ifdef __x86_64__
extern uint64_t boot_pml4[512];
extern uint64_t boot_pdpt[512];
extern uint64_t boot_pd[4 * 512];
void tss_init(uintptr_t rsp0);
#endif

/* ---- wall-clock time from PIT channel 2 (pit.c) ---- */
#define PIT_HZ 1193182u
void time_init(void);
uint64_t time_us(void);             /* must be polled at least every 50 ms */
void udelay(uint32_t us);
static inline uint64_t deadline_ms(uint32_t ms)
{
    return time_us() + (uint64_t)ms * 1000;
}
static inline bool time_after(uint64_t deadline)
{
    return time_us() >= deadline;
}

/* ---- 8259 PIC pair (pic.c) ---- */
#define PIC_MASTER_BASE 0x20        /* vectors the runtime programs */
#define PIC_SLAVE_BASE  0x28
void pic_init(uint8_t master_vec, uint8_t slave_vec);   /* all lines masked */
void pic_set_mask(uint16_t mask);
uint16_t pic_get_mask(void);
void pic_unmask(int irq);
void pic_mask(int irq);
void pic_eoi(int irq);
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);

/* ---- 8254 PIT (pit.c) ---- */
void pit_set_periodic(uint32_t hz);  /* channel 0, mode 2 */
void pit_stop(void);                 /* channel 0 to one-shot mode, no new IRQs */

/* ---- MC146818 CMOS/RTC (cmos.c) ---- */
uint8_t cmos_read(uint8_t index);
void cmos_write(uint8_t index, uint8_t v);

/* ---- local APIC and I/O APIC (apic.c) ---- */
#define LAPIC_ID       0x020
#define LAPIC_VERSION  0x030
#define LAPIC_TPR      0x080
#define LAPIC_PPR      0x0a0
#define LAPIC_EOI      0x0b0
#define LAPIC_LDR      0x0d0
#define LAPIC_DFR      0x0e0
#define LAPIC_SVR      0x0f0
#define LAPIC_ISR      0x100
#define LAPIC_TMR      0x180
#define LAPIC_IRR      0x200
#define LAPIC_ESR      0x280
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0

#define APIC_LVT_MASKED        (1u << 16)
#define APIC_TIMER_PERIODIC    (1u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_ICR_INIT          (5u << 8)
#define APIC_ICR_STARTUP       (6u << 8)
#define APIC_ICR_PENDING       (1u << 12)
#define APIC_ICR_ASSERT        (1u << 14)
#define APIC_ICR_LEVEL         (1u << 15)
#define APIC_ICR_SELF          (1u << 18)

uintptr_t lapic_base(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_enable(uint8_t spurious_vector);
uint32_t lapic_id(void);
void lapic_eoi(void);
bool lapic_send_ipi(uint32_t dest, uint32_t icr_lo);   /* false: never delivered */
bool lapic_isr_bit(uint8_t vector);
bool lapic_irr_bit(uint8_t vector);

uint32_t ioapic_read(uintptr_t base, uint8_t reg);
void ioapic_write(uintptr_t base, uint8_t reg, uint32_t v);
uint64_t ioapic_get_redir(uintptr_t base, unsigned pin);
void ioapic_set_redir(uintptr_t base, unsigned pin, uint64_t entry);
#define IOAPIC_REDIR_MASKED    (1u << 16)
#define IOAPIC_REDIR_LEVEL     (1u << 15)
#define IOAPIC_REDIR_REMOTE_IRR (1u << 14)
#define IOAPIC_REDIR_LOW       (1u << 13)

/* ---- ACPI MADT (acpi.c) ---- */
typedef struct AcpiInfo {
    uintptr_t rsdp, rsdt, madt;
    uint32_t lapic_addr;
    unsigned ncpus;                 /* enabled processor-local APIC entries */
    uint8_t apic_ids[MAX_CPUS];
    unsigned nioapics;
    uint32_t ioapic_addr;           /* the first I/O APIC */
    uint32_t ioapic_gsi_base;
    uint8_t ioapic_id;
    uint32_t isa_gsi[16];           /* ISA IRQ -> GSI, after overrides */
    uint16_t isa_flags[16];         /* MPS INTI flags from the override */
} AcpiInfo;
bool acpi_read_madt(AcpiInfo *info);    /* false, with a message, on error */
const void *acpi_find_table(const AcpiInfo *info, const char sig[4]);
bool acpi_checksum_ok(const void *p, size_t len);

/* ---- SMP (smp.c) ---- */
typedef void ApEntry(unsigned cpu_index);
/* Starts every AP in info with INIT-SIPI-SIPI; each runs fn(index) with
 * index 1..n-1 on its own stack, then halts.  Returns how many came up. */
unsigned smp_start_aps(const AcpiInfo *info, ApEntry *fn, uint32_t timeout_ms);
unsigned smp_cpu_index(void);       /* 0 on the BSP */
uint8_t smp_apic_id_of(unsigned index);

#endif /* GUEST_KERNEL_H */
