/*
 * x86 interpreter: system behaviour: mode switches done by guest code, paging and
 * page-fault error codes (SDM vol. 3A, 4.7), exceptions through the IDT, IST stacks
 * (6.14.5), double and triple faults (6.15, table 6-5), SYSCALL/SYSRET (AMD APM
 * vol. 3), privilege and I/O-bitmap faults in user mode, hardware interrupts, the STI
 * shadow, HLT wake-up and NMI.
 *
 * Guest handlers (x86-guest.S, HANDLER macro) record each exception in a mailbox at
 * 0x40000 + vector * 128: count, error code, RIP, CS, RFLAGS, RSP, SS, CR2, and the
 * handler's stack pointer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"

#define MB(vec, off) (0x40000 + (vec) * 128 + (off))
#define MB_COUNT 0
#define MB_ERR   8
#define MB_RIP   16
#define MB_CS    24
#define MB_FLAGS 32
#define MB_RSP   40
#define MB_SS    48
#define MB_CR2   56
#define MB_HRSP  64

#define PF_P    1
#define PF_W    2
#define PF_U    4
#define PF_RSVD 8
#define PF_ID   16

static uint64_t mb(X86T *m, int vec, int off)
{
    return x86t_rd(m, MB(vec, off), 8);
}

static void mb_clear(X86T *m)
{
    memset(m->ram + MB(0, 0), 0, 256 * 128);
}

/* Install h_N (record and halt) or r_N (record and return) gates for the vectors. */
static void gates(X86T *m, bool ret)
{
    static const int vecs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17,
                                18, 19, 32, 64, 128 };
    for (unsigned i = 0; i < ARRAY_SIZE(vecs); i++) {
        g_autofree char *name = g_strdup_printf("%c_%d", ret ? 'r' : 'h', vecs[i]);
        x86t_set_gate64(m, vecs[i], x86t_sym(m, name), 0, 0, false);
    }
}

static X86T *long_machine(void)
{
    X86T *m = x86t_new();

    x86t_setup_long64(m);
    gates(m, false);
    mb_clear(m);
    return m;
}

/* Run from rip with a fresh stack until HLT. */
static void run(X86T *m, uint64_t rip)
{
    X86ExitReason r;

    m->env->halted = false;
    m->env->regs[R_ESP] = X86T_STACK;
    r = x86t_run(m, rip, 10000000);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
}

/* ---- 4 KiB page tables for a 2 MiB region --------------------------------------------- */

#define PT_AREA 0x50000

/* Split the identity-mapped 2 MiB page holding la into 4 KiB pages (flags 7). */
static void split_2m(X86T *m, uint64_t la)
{
    uint64_t pde = X86T_PML4 + 0x2000 + (la >> 30) * 0x1000 + ((la >> 21) & 511) * 8;
    uint64_t pt = PT_AREA + ((la >> 21) & 15) * 0x1000;

    for (int j = 0; j < 512; j++) {
        x86t_wr(m, pt + j * 8, 8, ((la & ~0x1fffffULL) + j * 4096) | 7);
    }
    x86t_wr(m, pde, 8, pt | 7);
    x86_cpu_tlb_flush_all(m->cpu);
}

static uint64_t pte_addr(uint64_t la)
{
    return PT_AREA + ((la >> 21) & 15) * 0x1000 + ((la >> 12) & 511) * 8;
}

static void set_pte(X86T *m, uint64_t la, uint64_t v)
{
    x86t_wr(m, pte_addr(la), 8, v);
    x86_cpu_tlb_flush_all(m->cpu);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_mode_switch(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    X86ExitReason r;

    x86t_setup_real(m);
    r = x86t_run(m, x86t_sym(m, "rm_to_long") - 0x20000, 1000);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    g_assert_cmphex(env->regs[R_EAX], ==, 0x123456789abcdef0ULL);
    g_assert_cmphex(env->regs[R_EBX] & 0x500, ==, 0x500);          /* LME and LMA */
    g_assert_true(env->hflags & X86_HF_CS64);
    g_assert_cmphex(env->segs[R_CS].selector, ==, X86T_CS64);
    g_assert_cmphex(env->cr[0] & 0x80000001, ==, 0x80000001);
    x86t_free(m);
}

static void expect_pf(X86T *m, uint64_t rip, uint64_t cr2, uint32_t err)
{
    g_assert_cmpuint(mb(m, 14, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 14, MB_ERR), ==, err);
    g_assert_cmphex(mb(m, 14, MB_CR2), ==, cr2);
    g_assert_cmphex(mb(m, 14, MB_RIP), ==, rip);
    g_assert_cmphex(m->env->cr[2], ==, cr2);
    mb_clear(m);
}

static void test_page_faults(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;
    uint64_t ld = x86t_sym(m, "sys_load"), st = x86t_sym(m, "sys_store");

    split_2m(m, 0x800000);

    /* Not present: read, then write. */
    set_pte(m, 0x800000, 0);
    env->regs[R_EDI] = 0x800010;
    run(m, ld);
    expect_pf(m, ld, 0x800010, 0);
    env->regs[R_EDI] = 0x800010;
    run(m, st);
    expect_pf(m, st, 0x800010, PF_W);

    /* Read-only page, supervisor write with CR0.WP = 1. */
    set_pte(m, 0x800000, 0x800000 | 5);
    env->regs[R_EDI] = 0x800020;
    run(m, st);
    expect_pf(m, st, 0x800020, PF_P | PF_W);
    /* ... and with WP = 0 the write goes through. */
    env->cr[0] &= ~X86_CR0_WP;
    x86_cpu_sync_state(m->cpu);
    run(m, st);
    g_assert_cmpuint(mb(m, 14, MB_COUNT), ==, 0);
    g_assert_cmphex(x86t_rd(m, 0x800020, 8), ==, 0x1234);
    env->cr[0] |= X86_CR0_WP;
    x86_cpu_sync_state(m->cpu);

    /* A reserved physical-address bit (above MAXPHYADDR = 40). */
    set_pte(m, 0x800000, 0x800000 | (1ULL << 45) | 7);
    env->regs[R_EDI] = 0x800000;
    run(m, ld);
    expect_pf(m, ld, 0x800000, PF_P | PF_RSVD);

    /* Accessed and dirty bits (4.8). */
    set_pte(m, 0x800000, 0x800000 | 7);
    run(m, ld);
    g_assert_cmphex(x86t_rd(m, pte_addr(0x800000), 8) & 0x60, ==, 0x20);
    run(m, st);
    g_assert_cmphex(x86t_rd(m, pte_addr(0x800000), 8) & 0x60, ==, 0x60);

    /* NX: a fetch from the page faults with I/D set; RIP is the target itself. */
    set_pte(m, 0x801000, 0x801000 | 7 | (1ULL << 63));
    env->regs[R_EDI] = 0x801000;
    run(m, x86t_sym(m, "sys_jump"));
    expect_pf(m, 0x801000, 0x801000, PF_P | PF_ID);

    /* A store straddling into a non-present page writes nothing. */
    set_pte(m, 0x802000, 0);
    x86t_wr(m, 0x801ffc, 4, 0xaabbccdd);
    env->regs[R_EDI] = 0x801ffc;
    run(m, st);
    expect_pf(m, st, 0x802000, PF_W);
    g_assert_cmphex(x86t_rd(m, 0x801ffc, 4), ==, 0xaabbccdd);

    /* An instruction straddling into a non-present page: fault at its start. */
    {
        uint8_t code[] = { 0xb8, 1, 2 };       /* mov $imm32, %eax: 2 bytes missing */
        set_pte(m, 0x804000, 0);
        x86t_write_bytes(m, 0x803ffd, code, sizeof(code));
        run(m, 0x803ffd);
        expect_pf(m, 0x803ffd, 0x804000, PF_ID);
    }
    x86t_free(m);
}

static void test_invlpg(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;

    split_2m(m, 0x800000);
    x86t_wr(m, 0x805000, 8, 0x1111);
    x86t_wr(m, 0x806000, 8, 0x2222);
    env->regs[R_EDI] = 0x805000;
    env->regs[R_ESI] = 0x806000 | 7;
    env->regs[R_EDX] = pte_addr(0x805000);
    run(m, x86t_sym(m, "sys_invlpg"));
    g_assert_cmphex(env->regs[R_EAX], ==, 0x1111);
    g_assert_cmphex(env->regs[R_EBX], ==, 0x2222);
    x86t_free(m);
}

static void test_chain_remap(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;
    /* mov $1, %eax; ret -- and the same with 2 */
    uint8_t one[] = { 0xb8, 1, 0, 0, 0, 0xc3 }, two[] = { 0xb8, 2, 0, 0, 0, 0xc3 };

    split_2m(m, 0x800000);
    x86t_write_bytes(m, 0x805000, one, sizeof(one));
    x86t_write_bytes(m, 0x806000, two, sizeof(two));
    env->regs[R_EDI] = 0x805000;
    env->regs[R_ESI] = 0x806000 | 7;
    env->regs[R_EDX] = pte_addr(0x805000);
    run(m, x86t_sym(m, "sys_chain_remap"));
    g_assert_cmphex(env->regs[R_EBX], ==, 0x112);
    x86t_free(m);
}

static void test_exceptions(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;
    uint64_t p;

    p = x86t_sym(m, "sys_ud2");
    run(m, p);
    g_assert_cmpuint(mb(m, 6, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 6, MB_RIP), ==, p);
    g_assert_cmphex(mb(m, 6, MB_ERR), ==, ~0ULL);                 /* no error code */
    g_assert_cmphex(mb(m, 6, MB_CS), ==, X86T_CS64);
    g_assert_cmphex(mb(m, 6, MB_RSP), ==, X86T_STACK);
    g_assert_cmphex(mb(m, 6, MB_SS), ==, X86T_DS);

    /* #BP is a trap: the handler returns after the INT3. */
    x86t_set_gate64(m, 3, x86t_sym(m, "r_3"), 0, 0, false);
    p = x86t_sym(m, "sys_int3");
    run(m, p);
    g_assert_cmphex(mb(m, 3, MB_RIP), ==, p + 1);
    g_assert_cmphex(env->regs[R_EBX], ==, 77);

    /* Selector 0x1234 (TI = 1, beyond the LDT): #GP(selector & ~RPL) (6.13). */
    p = x86t_sym(m, "sys_bad_ds");
    run(m, p);
    g_assert_cmpuint(mb(m, 13, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 13, MB_ERR), ==, 0x1234);
    g_assert_cmphex(mb(m, 13, MB_RIP), ==, p + 4);
    x86t_free(m);
}

static void test_ist(void)
{
    X86T *m = long_machine();

    x86t_set_gate64(m, 6, x86t_sym(m, "h_6"), 1, 0, false);
    run(m, x86t_sym(m, "sys_ud2"));
    /* IST1 from the TSS, five qwords pushed. */
    g_assert_cmphex(mb(m, 6, MB_HRSP), ==, X86T_IST1 - 40);
    g_assert_cmphex(mb(m, 6, MB_RSP), ==, X86T_STACK);
    x86t_free(m);
}

static void test_double_fault(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;

    /* #PF's gate lies beyond the IDT limit: #GP while delivering #PF -> #DF. */
    env->idt.limit = 14 * 16 - 1;
    split_2m(m, 0x800000);
    set_pte(m, 0x800000, 0);
    env->regs[R_EDI] = 0x800000;
    run(m, x86t_sym(m, "sys_load"));
    g_assert_cmpuint(mb(m, 8, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 8, MB_ERR), ==, 0);
    g_assert_cmpuint(mb(m, 14, MB_COUNT), ==, 0);
    g_assert_cmpuint(mb(m, 13, MB_COUNT), ==, 0);
    x86t_free(m);
}

static void test_triple_fault(void)
{
    X86T *m = long_machine();
    X86ExitReason r;

    m->env->idt.limit = 0;
    m->env->regs[R_ESP] = X86T_STACK;
    r = x86t_run(m, x86t_sym(m, "sys_ud2"), 1000);
    g_assert_cmpint(r, ==, X86_EXIT_SHUTDOWN);
    /* A shut-down CPU stays down until reset. */
    r = x86_cpu_exec(m->cpu, 1000, NULL);
    g_assert_cmpint(r, ==, X86_EXIT_SHUTDOWN);
    x86t_free(m);
}

/* Set up SYSCALL and enter user code at entry with a user stack. */
static void run_user(X86T *m, const char *entry)
{
    CPUX86State *env = m->env;

    env->star = ((uint64_t)X86T_UCS32 << 48) | ((uint64_t)X86T_CS64 << 32);
    env->lstar = x86t_sym(m, "syscall_entry");
    env->fmask = X86_EFLAGS_IF;
    env->regs[R_EDI] = x86t_sym(m, entry);
    env->regs[R_ESI] = 0x70000;
    run(m, x86t_sym(m, "sys_to_user"));
}

static void test_syscall(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;
    uint64_t u = x86t_sym(m, "user_syscall");

    run_user(m, "user_syscall");
    /* In the kernel: RCX = return RIP, R11 = user RFLAGS, IF masked, CS/SS from STAR. */
    g_assert_cmphex(x86t_rd(m, 0x48000, 8), ==, u + 7);            /* after mov + syscall */
    g_assert_cmphex(x86t_rd(m, 0x48008, 8) & X86_EFLAGS_IF, ==, X86_EFLAGS_IF);
    g_assert_cmphex(x86t_rd(m, 0x48010, 8), ==, 42);
    g_assert_cmphex(x86t_rd(m, 0x48018, 8) & X86_EFLAGS_IF, ==, 0);
    g_assert_cmphex(x86t_rd(m, 0x48020, 4), ==, X86T_CS64);
    g_assert_cmphex(x86t_rd(m, 0x48028, 4), ==, X86T_DS);
    /* Back in user mode after SYSRET: the result, the port write, then HLT faults. */
    g_assert_cmphex(env->regs[R_R12], ==, 43);
    g_assert_cmpstr(m->console->str, ==, "u");
    g_assert_cmpuint(mb(m, 13, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 13, MB_ERR), ==, 0);
    g_assert_cmphex(mb(m, 13, MB_CS), ==, X86T_UCS64 | 3);
    g_assert_cmphex(mb(m, 13, MB_SS), ==, X86T_UDS | 3);
    g_assert_cmphex(mb(m, 13, MB_RSP), ==, 0x70000);
    g_assert_cmphex(mb(m, 13, MB_RIP), ==, u + 7 + 3 + 4 + 2 + 1);  /* the HLT */
    /* The handler ran on RSP0 from the TSS (RIP slot after popping the error code). */
    g_assert_cmphex(mb(m, 13, MB_HRSP), ==, X86T_STACK0 - 40);
    g_assert_cmpint(env->hflags & X86_HF_CPL_MASK, ==, 0);
    x86t_free(m);
}

static void test_user_faults(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;

    run_user(m, "user_cli");                       /* CPL 3 > IOPL 0 */
    g_assert_cmpuint(mb(m, 13, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 13, MB_RIP), ==, x86t_sym(m, "user_cli"));
    mb_clear(m);

    /* A supervisor-only page read from user mode: #PF with P and U. */
    split_2m(m, 0x800000);
    set_pte(m, 0x807000, 0x807000 | 3);
    {
        /* mov 0x807000, %rax; hlt -- in a user page */
        uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x70, 0x80, 0x00, 0xf4 };
        x86t_write_bytes(m, 0x808000, code, sizeof(code));
        env->regs[R_EDI] = 0x808000;
        env->regs[R_ESI] = 0x70000;
        run(m, x86t_sym(m, "sys_to_user"));
    }
    g_assert_cmpuint(mb(m, 14, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 14, MB_ERR), ==, PF_P | PF_U);
    g_assert_cmphex(mb(m, 14, MB_CR2), ==, 0x807000);
    g_assert_cmphex(mb(m, 14, MB_RIP), ==, 0x808000);
    mb_clear(m);

    /* Port 0x80 denied by the TSS I/O bitmap (SDM vol. 1, 19.5.2). */
    m->ram[X86T_TSS + 0x68 + 0x80 / 8] |= 1;
    run_user(m, "user_out80");
    g_assert_cmpuint(mb(m, 13, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 13, MB_RIP), ==, x86t_sym(m, "user_out80"));
    x86t_free(m);
}

static void test_interrupts(void)
{
    X86T *m = long_machine();
    CPUX86State *env = m->env;
    uint64_t p = x86t_sym(m, "sys_sti_hlt");
    X86ExitReason r;

    x86t_set_gate64(m, 64, x86t_sym(m, "r_64"), 0, 0, false);

    /* HLT with nothing pending returns to the caller; an interrupt wakes the CPU. */
    env->regs[R_ESP] = X86T_STACK;
    r = x86t_run(m, p, 1000);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    g_assert_cmphex(env->rip, ==, p + 2);
    r = x86_cpu_exec(m->cpu, 1000, NULL);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);                           /* still asleep */
    m->irq_vector = 64;
    x86_cpu_interrupt(m->cpu, X86_INT_HARD);
    r = x86_cpu_exec(m->cpu, 1000, NULL);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    g_assert_cmpuint(mb(m, 64, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 64, MB_RIP), ==, p + 2);
    g_assert_cmphex(env->regs[R_ECX], ==, 5);
    mb_clear(m);

    /* Pending before STI: the STI shadow lets the HLT run first (SDM vol. 2B, STI). */
    x86_cpu_set_eflags(env, 0x2);
    env->regs[R_ECX] = 0;
    m->irq_vector = 64;
    x86_cpu_interrupt(m->cpu, X86_INT_HARD);
    run(m, p);
    g_assert_cmpuint(mb(m, 64, MB_COUNT), ==, 1);
    g_assert_cmphex(mb(m, 64, MB_RIP), ==, p + 2);
    g_assert_cmphex(env->regs[R_ECX], ==, 5);
    mb_clear(m);

    /* Masked while IF = 0, delivered in a loop once STI ran. */
    x86_cpu_set_eflags(env, 0x2);
    env->regs[R_ECX] = 0;
    m->irq_vector = 64;
    x86_cpu_interrupt(m->cpu, X86_INT_HARD);
    run(m, x86t_sym(m, "sys_spin"));
    g_assert_cmpuint(mb(m, 64, MB_COUNT), ==, 1);
    g_assert_cmphex(env->regs[R_ECX], ==, 1000000);
    mb_clear(m);

    /* NMI ignores IF. */
    x86t_set_gate64(m, 2, x86t_sym(m, "r_2"), 0, 0, false);
    x86_cpu_set_eflags(env, 0x2);
    x86_cpu_interrupt(m->cpu, X86_INT_NMI);
    run(m, x86t_sym(m, "sys_int3") + 1);
    g_assert_cmpuint(mb(m, 2, MB_COUNT), ==, 1);
    g_assert_cmphex(env->regs[R_EBX], ==, 77);
    g_assert_false(env->nmi_blocked);                              /* IRETQ unblocked */
    x86t_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/sys/mode-switch", test_mode_switch);
    g_test_add_func("/x86/sys/page-faults", test_page_faults);
    g_test_add_func("/x86/sys/invlpg", test_invlpg);
    g_test_add_func("/x86/sys/chain-remap", test_chain_remap);
    g_test_add_func("/x86/sys/exceptions", test_exceptions);
    g_test_add_func("/x86/sys/ist", test_ist);
    g_test_add_func("/x86/sys/double-fault", test_double_fault);
    g_test_add_func("/x86/sys/triple-fault", test_triple_fault);
    g_test_add_func("/x86/sys/syscall", test_syscall);
    g_test_add_func("/x86/sys/user-faults", test_user_faults);
    g_test_add_func("/x86/sys/interrupts", test_interrupts);
    return g_test_run();
}
