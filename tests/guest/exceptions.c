/*
 * exceptions: protected-mode exceptions and interrupts (i386 build).
 *
 * Each case runs an instruction that must fault or trap and checks the
 * vector, the error code, the saved instruction pointer (the faulting
 * instruction for faults, the next one for traps), and CR2 for page faults.
 * Reference: SDM vol. 3A 6.15 "Exception and Interrupt Reference" (per
 * vector: class, error code, saved EIP), 6.13 (error code format: selector
 * index, TI, IDT, EXT), 4.7 (page-fault error code: P, W/R, U/S), 4.3 (32-bit
 * paging with 4 MiB pages, CR4.PSE), 2.5 (CR0.WP, CR0.TS), 17.3.1.4 and
 * 6.15 "Interrupt 1" (single-step: DR6.BS, trap after the instruction).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

/* Runs `insn` at a label with an exception-table entry resuming after it. */
#define FAULTING(insn, ...) \
    asm volatile("1: " insn "\n2:\n" EXTABLE(1b, 2b) __VA_ARGS__)

static void check_fault(unsigned vector, uintptr_t error, const char *what)
{
    if (!CHECK(last_fault.count == 1 && last_fault.vector == vector,
               "%s raises %s (got %u faults, vector %u)", what, exception_name(vector),
               last_fault.count, last_fault.vector)) {
        return;
    }
    CHECK_EQ(last_fault.error, error, "  error code");
}

static void test_simple_faults(void)
{
    fault_reset();
    FAULTING("divl %%ecx", : : "a"(1), "d"(0), "c"(0) : "cc");
    check_fault(0, 0, "DIV by zero");

    fault_reset();
    FAULTING("ud2");
    check_fault(6, 0, "UD2");

    uint32_t bounds[2] = { 0, 10 };
    fault_reset();
    FAULTING("boundl %0, %1", : : "r"(20), "m"(bounds));
    check_fault(5, 0, "BOUND with the index above the upper bound");
    fault_reset();
    asm volatile("boundl %0, %1" : : "r"(5), "m"(bounds));
    CHECK_EQ(last_fault.count, 0, "faults from BOUND with the index in range");

    /* CR0.TS makes the next x87 instruction raise #NM (2.5). */
    write_cr0(read_cr0() | (1u << 3));
    fault_reset();
    FAULTING("fninit");
    write_cr0(read_cr0() & ~(1u << 3));
    check_fault(7, 0, "FNINIT with CR0.TS set");

    /* A null selector in SS outside 64-bit mode raises #GP(0) (vol. 2A
     * "MOV": "If attempt is made to load SS register with NULL selector"). */
    fault_reset();
    FAULTING("mov %0, %%ss", : : "r"((uint16_t)0));
    check_fault(13, 0, "loading SS with the null selector");
}

static void test_traps(void)
{
    uintptr_t next;

    /* INT3 and INTO are traps: the saved EIP is the next instruction, so
     * the table entry is keyed on the label after them. */
    fault_reset();
    asm volatile("int3\n1:\n" EXTABLE(1b, 1b) "mov $1b, %0" : "=r"(next));
    check_fault(3, 0, "INT3");
    CHECK_EQ(last_fault.ip, next, "INT3 saved EIP is the next instruction");

    fault_reset();
    asm volatile("mov $0x7fffffff, %%eax\n add $1, %%eax\n into\n1:\n" EXTABLE(1b, 1b)
                 "mov $1b, %0" : "=r"(next) : : "eax", "cc");
    check_fault(4, 0, "INTO with OF set");
    fault_reset();
    asm volatile("xor %%eax, %%eax\n into" : : : "eax", "cc");
    CHECK_EQ(last_fault.count, 0, "faults from INTO with OF clear");
}

static volatile uint32_t db_count;
static volatile uintptr_t db_ip, db_dr6;

static void db_handler(IntFrame *f)
{
    uintptr_t dr6;
    asm volatile("mov %%dr6, %0" : "=r"(dr6));
    db_count++;
    db_ip = f->ip;
    db_dr6 = dr6;
    f->flags &= ~X86_EFLAGS_TF;
    asm volatile("mov %0, %%dr6" : : "r"((uintptr_t)0xffff0ff0));
}

static void test_single_step(void)
{
    uintptr_t expect;

    idt_set_handler(1, db_handler);
    /* POPF sets TF: the trap comes after the instruction following POPF. */
    asm volatile("pushf\n orl $0x100, (%%esp)\n popf\n nop\n1: nop\n mov $1b, %0"
                 : "=r"(expect) : : "cc", "memory");
    idt_set_handler(1, NULL);
    CHECK_EQ(db_count, 1, "single-step #DB traps after one instruction");
    CHECK_EQ(db_ip, expect, "#DB saved EIP: the instruction after the stepped one");
    CHECK(db_dr6 & (1u << 14), "DR6.BS set by a single-step trap (DR6 0x%lx)",
          (unsigned long)db_dr6);
}

static void test_segments(void)
{
    /* A data descriptor with P = 0 (3.4.5): loading it into DS raises #NP,
     * into SS raises #SS, both with the selector as error code (6.13). */
    unsigned idx = GDT_FIRST_FREE;
    uint16_t sel = idx * 8;
    gdt[idx] = 0x00cf12000000ffffull;
    fault_reset();
    FAULTING("mov %0, %%ds", : : "r"(sel));
    check_fault(11, sel, "loading DS with a not-present descriptor");
    fault_reset();
    FAULTING("mov %0, %%ss", : : "r"(sel));
    check_fault(12, sel, "loading SS with a not-present descriptor");

    /* Beyond the GDT limit (16 entries): #GP with the selector. */
    fault_reset();
    FAULTING("mov %0, %%es", : : "r"((uint16_t)(GDT_ENTRIES * 8)));
    check_fault(13, GDT_ENTRIES * 8, "loading ES with a selector past the GDT limit");

    /* A present, writable data segment loads fine; restore flat DS/ES. */
    gdt[idx] = 0x00cf92000000ffffull;
    fault_reset();
    asm volatile("mov %0, %%es\n mov %1, %%es" : : "r"(sel), "r"((uint16_t)SEL_DATA));
    CHECK_EQ(last_fault.count, 0, "faults loading a present data descriptor");
    gdt[idx] = 0;
}

static uint32_t page_dir[1024] __attribute__((aligned(4096)));

static void test_paging(void)
{
    if (!(cpuid(1).d & (1u << 3))) {
        test_skip("no PSE: 4 MiB pages unavailable");
        return;
    }
    /* Identity map 4 GiB with 4 MiB pages (P, W, PS), except: 1 GiB not
     * present, 1 GiB + 4 MiB read-only. */
    for (uint32_t i = 0; i < 1024; i++) {
        page_dir[i] = (i << 22) | 0x83;
    }
    page_dir[0x40000000 >> 22] = 0;
    page_dir[0x40400000 >> 22] &= ~2u;
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((uintptr_t)page_dir);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);

    volatile uint32_t *absent = (volatile uint32_t *)0x40000124;
    volatile uint32_t *readonly = (volatile uint32_t *)0x40400040;
    uint32_t v;
    fault_reset();
    FAULTING("movl (%1), %0", : "=r"(v) : "r"(absent) : "memory");
    (void)v;
    uint32_t read_count = last_fault.count, read_err = last_fault.error;
    uintptr_t read_cr2_v = last_fault.cr2;
    fault_reset();
    FAULTING("movl %0, (%1)", : : "r"(1), "r"(absent) : "memory");
    uint32_t write_err = last_fault.error;
    fault_reset();
    FAULTING("movl %0, (%1)", : : "r"(1), "r"(readonly) : "memory");
    uint32_t ro_count = last_fault.count, ro_err = last_fault.error;
    uintptr_t ro_cr2 = last_fault.cr2;
    /* With CR0.WP clear, ring 0 may write read-only pages. */
    write_cr0(read_cr0() & ~CR0_WP);
    fault_reset();
    asm volatile("movl %0, (%1)" : : "r"(1), "r"(readonly) : "memory");
    uint32_t nowp_count = last_fault.count;
    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~CR4_PSE);

    CHECK_EQ(read_count, 1, "#PF reading a not-present page");
    CHECK_EQ(read_err, 0, "  error code: not present, read, supervisor");
    CHECK_EQ(read_cr2_v, (uintptr_t)absent, "  CR2 = the faulting address");
    CHECK_EQ(write_err, 2, "#PF error code writing a not-present page (W/R)");
    CHECK_EQ(ro_count, 1, "#PF writing a read-only page with CR0.WP set");
    CHECK_EQ(ro_err, 3, "  error code: present, write");
    CHECK_EQ(ro_cr2, (uintptr_t)readonly, "  CR2");
    CHECK_EQ(nowp_count, 0, "faults writing a read-only page with CR0.WP clear");
}

static volatile uint32_t soft_vector, soft_if;

static void soft_handler(IntFrame *f)
{
    soft_vector = f->vector;
    soft_if = read_flags() & X86_EFLAGS_IF;
    f->eax = 0x600d;                    /* handlers can change saved registers */
}

static void test_soft_int(void)
{
    uint32_t eax;
    idt_set_handler(0x81, soft_handler);
    sti();
    asm volatile("int $0x81" : "=a"(eax) : "a"(0) : "memory");
    uintptr_t flags = read_flags();
    cli();
    CHECK_EQ(soft_vector, 0x81, "INT 0x81 reaches vector 0x81");
    CHECK_EQ(soft_if, 0, "interrupt gate cleared IF in the handler");
    CHECK(flags & X86_EFLAGS_IF, "IF restored on return");
    CHECK_EQ(eax, 0x600d, "EAX changed by the handler");
}

static void test_iret(void)
{
    if (accel_is_kvm()) {
        /* isr32.S explains why the runtime avoids IRET to ring 0. */
        test_skip("protected-mode IRET under KVM: the host's CPU, and kvm_pvm's "
                  "emulator cannot run it");
        return;
    }
    uint32_t out = 0;
    asm volatile("pushf\n push %%cs\n push $1f\n movl $0x17, %0\n iret\n"
                 "movl $0xbad, %0\n1:"
                 : "+r"(out) : : "memory");
    CHECK_EQ(out, 0x17, "IRET to the same privilege level returns to its target");
}

void test_main(void)
{
    test_simple_faults();
    test_traps();
    test_single_step();
    test_segments();
    test_paging();
    test_soft_int();
    test_iret();
}
