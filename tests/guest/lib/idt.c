/*
 * Kite guest test runtime: IDT, interrupt dispatch, expected faults, TSS.
 *
 * Every vector gets an interrupt gate (SDM vol. 3A 6.11, figure 6-2; 6.14.1
 * for the 16-byte 64-bit form) to the matching stub in isr32.S/isr64.S.
 * isr_dispatch() then, in order:
 *   1. for an exception whose ip has an exception-table entry (EXTABLE in
 *      kernel.h), records it in last_fault and resumes at the fixup;
 *   2. calls the handler a test registered for the vector;
 *   3. otherwise prints the vector, error code and registers and ends the
 *      test with EXIT_CODE_CRASH.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

void isr_dispatch(IntFrame *f);
void console_break_lock(void);
extern const char isr_stubs[];
extern const uintptr_t __extable_start[], __extable_end[];

#ifdef __x86_64__
typedef struct IdtGate {
    uint16_t off_lo, sel;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
} IdtGate;
#else
typedef struct IdtGate {
    uint16_t off_lo, sel;
    uint8_t zero, type_attr;
    uint16_t off_hi;
} IdtGate;
#endif

static IdtGate idt[256] __attribute__((aligned(16)));
static IntHandler *handlers[256];
FaultInfo last_fault;

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "exc15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "exc22", "exc23",
    "exc24", "exc25", "exc26", "exc27", "exc28", "exc29", "exc30", "exc31",
};

const char *exception_name(unsigned vector)
{
    return vector < 32 ? exc_names[vector] : "irq";
}

static void set_gate(int vec, uintptr_t target, int dpl)
{
    IdtGate *g = &idt[vec];
    g->off_lo = (uint16_t)target;
#ifdef __x86_64__
    g->sel = SEL_CODE64;
    g->ist = 0;
    g->off_mid = (uint16_t)(target >> 16);
    g->off_hi = (uint32_t)(target >> 32);
    g->reserved = 0;
#else
    g->sel = SEL_CODE32;
    g->zero = 0;
    g->off_hi = (uint16_t)(target >> 16);
#endif
    /* P=1, DPL, type 0xE: interrupt gate (IF cleared on entry). */
    g->type_attr = 0x80 | (dpl << 5) | 0x0e;
}

void idt_load(void)
{
    DescPtr p = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };
    lidt(&p);
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        set_gate(v, (uintptr_t)isr_stubs + 16 * v, 0);
    }
    idt_load();
}

void idt_set_handler(int vector, IntHandler *fn)
{
    handlers[vector & 0xff] = fn;
}

void idt_set_dpl(int vector, int dpl)
{
    set_gate(vector, (uintptr_t)isr_stubs + 16 * vector, dpl & 3);
}

void fault_reset(void)
{
    last_fault.vector = 0xffffffff;
    last_fault.error = 0;
    last_fault.ip = 0;
    last_fault.cr2 = 0;
    barrier();
    last_fault.count = 0;
}

static bool extable_fixup(IntFrame *f)
{
    for (const uintptr_t *e = __extable_start; e < __extable_end; e += 2) {
        if (e[0] == f->ip) {
            last_fault.vector = f->vector;
            last_fault.error = f->error;
            last_fault.ip = f->ip;
            last_fault.cr2 = f->vector == 14 ? read_cr2() : 0;
            last_fault.count++;
            f->ip = e[1];
            return true;
        }
    }
    return false;
}

static NORETURN void crash(IntFrame *f)
{
    console_break_lock();
    printf("\nUNEXPECTED %s: vector %u error 0x%lx at %lx:%lx flags 0x%lx "
           "cr2 0x%lx cr0 0x%lx cr3 0x%lx cr4 0x%lx\n",
           exception_name(f->vector), (unsigned)f->vector, (unsigned long)f->error,
           (unsigned long)f->cs, (unsigned long)f->ip, (unsigned long)f->flags,
           (unsigned long)read_cr2(), (unsigned long)read_cr0(),
           (unsigned long)read_cr3(), (unsigned long)read_cr4());
#ifdef __x86_64__
    printf("rax %lx rbx %lx rcx %lx rdx %lx\nrsi %lx rdi %lx rbp %lx rsp %lx\n",
           f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp, f->sp);
#else
    printf("eax %x ebx %x ecx %x edx %x esi %x edi %x ebp %x\n",
           f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
#endif
    printf("== FAIL %s (crashed)\n", TEST_NAME);
    test_exit(EXIT_CODE_CRASH);
}

void isr_dispatch(IntFrame *f)
{
    if (f->vector < 32 && extable_fixup(f)) {
        return;
    }
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    crash(f);
}

#ifdef __x86_64__
/* 64-bit TSS (SDM vol. 3A 7.7, figure 7-11): only RSP0 matters here, the
 * stack the CPU switches to on an interrupt from ring 3. */
typedef struct __attribute__((packed)) Tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} Tss64;

static Tss64 tss __attribute__((aligned(16)));

void tss_init(uintptr_t rsp0)
{
    uintptr_t base = (uintptr_t)&tss;
    uint32_t limit = sizeof(tss) - 1;

    tss.rsp[0] = rsp0;
    tss.iomap_base = sizeof(tss);   /* no I/O permission bitmap */
    /* 16-byte system descriptor, type 9 = available 64-bit TSS (7.2.3). */
    gdt[SEL_TSS / 8] = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                       (0x89ull << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                       ((uint64_t)((base >> 24) & 0xff) << 56);
    gdt[SEL_TSS / 8 + 1] = base >> 32;
    asm volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS) : "memory");
}
#endif
