/*
 * x86 interpreter: execution basics in each mode: real-mode and 32-bit code, BCD,
 * self-modifying code, page-crossing instructions and data, MMIO and port I/O,
 * REP string fast paths, exact instruction budgets, CPUID.
 *
 * Expected values are worked out from the SDM's definition of each instruction
 * (comments show the arithmetic).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"

static void run_to_hlt(X86T *m, uint64_t rip)
{
    X86ExitReason r = x86t_run(m, rip, 1000000);

    g_assert_cmpint(r, ==, X86_EXIT_HLT);
}

static void test_real_mode(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_real(m);
    run_to_hlt(m, x86t_sym(m, "rm_basic") - 0x20000);
    g_assert_cmphex(env->regs[R_EAX] & 0xffff, ==, 0x1245);     /* 0x1234 + 0x10 + 1 */
    g_assert_cmphex(env->regs[R_ECX] & 0xffff, ==, 0x1244);
    g_assert_cmphex(env->regs[R_ESI] & 0xffff, ==, 0xbeef);
    g_assert_cmphex(env->regs[R_EDI] & 0xffff, ==, 0x1244);
    g_assert_cmphex(x86t_rd(m, 0x30010, 2), ==, 0xbeef);         /* ES = 0x3000 */
    g_assert_cmphex(env->segs[R_ES].base, ==, 0x30000);
    g_assert_cmphex(env->regs[R_ESP] & 0xffff, ==, 0x7000);
    x86t_free(m);
}

static void test_real_mode_int(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    uint64_t h;

    x86t_setup_real(m);
    h = x86t_sym(m, "rm_int_handler");
    x86t_wr(m, 0x30 * 4, 2, h - 0x20000);                       /* IVT: IP, then CS */
    x86t_wr(m, 0x30 * 4 + 2, 2, 0x2000);
    x86_cpu_set_eflags(env, 0x202);
    run_to_hlt(m, x86t_sym(m, "rm_int") - 0x20000);
    g_assert_cmphex(env->regs[R_EAX] & 0xffff, ==, 5 + 100 + 1);
    g_assert_cmphex(env->regs[R_EBX] & X86_EFLAGS_IF, ==, 0);  /* cleared in handler */
    g_assert_cmphex(x86_cpu_get_eflags(env) & X86_EFLAGS_IF, ==, X86_EFLAGS_IF);
    g_assert_cmphex(env->regs[R_ESP] & 0xffff, ==, 0x7000);
    x86t_free(m);
}

static void test_prot32(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_prot32(m);
    run_to_hlt(m, x86t_sym(m, "pm32_basic"));
    g_assert_cmphex(env->regs[R_EDX], ==, 0x12345688);           /* stored sum */
    g_assert_cmphex(env->regs[R_ECX], ==, 0x123455aa);           /* push/pop */
    /* DAA on AL = 0xaa: +6 (low nibble > 9), +0x60 (AL > 0x99) -> 0x10, CF = 1. */
    g_assert_cmphex(env->regs[R_EAX], ==, 0x12345510);
    g_assert_cmphex(x86_cpu_get_eflags(env) & X86_EFLAGS_CF, ==, X86_EFLAGS_CF);
    g_assert_cmphex(env->regs[R_ESP], ==, X86T_STACK);
    x86t_free(m);
}

static void test_bcd(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_prot32(m);
    run_to_hlt(m, x86t_sym(m, "pm32_bcd"));
    /* 79 + 35 = 114 in BCD: AL = 0x14, CF = 1. */
    g_assert_cmphex(env->regs[R_EBX] & 0xffff, ==, 0x1401);
    /* 35 - 47 = -12: AL = 0x88 with borrow. */
    g_assert_cmphex(env->regs[R_ECX] & 0xffff, ==, 0x8801);
    /* AAA after 0x0f + 3 = 0x12 (AF set): AX 0x0012 + 0x106 = 0x0118, AL &= 0xf. */
    g_assert_cmphex(env->regs[R_EDX] & 0xffff, ==, 0x0108);
    /* AAD: 1 * 10 + 2 = 12; AAM: 77 = 7 * 10 + 7. */
    g_assert_cmphex(env->regs[R_ESI] & 0xffff, ==, 0x000c);
    g_assert_cmphex(env->regs[R_EDI] & 0xffff, ==, 0x0707);
    x86t_free(m);
}

static void test_smc(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    run_to_hlt(m, x86t_sym(m, "smc_next"));
    g_assert_cmphex(env->regs[R_EAX], ==, 42);
    g_assert_cmphex(env->regs[R_EBX], ==, 7);                   /* patched immediate */

    env->halted = false;
    run_to_hlt(m, x86t_sym(m, "smc_loop"));
    /* First pass adds 1, then the imm8 is patched to 10: 1 + 10 + 10. */
    g_assert_cmphex(env->regs[R_EAX], ==, 21);
    x86t_free(m);
}

/*
 * A one-trace loop re-runs without the main loop (X86_TRACE_LOOP); the instruction
 * budget must still stop it at the exact instruction.
 */
static void test_loop_budget(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    uint64_t start = x86t_sym(m, "loop_budget");

    x86t_setup_long64(m);
    /* Two XORs, five iterations of four, then ADD and INC of the sixth. */
    g_assert_cmpint(x86t_run(m, start, 2 + 5 * 4 + 2), ==, X86_EXIT_BUDGET);
    g_assert_cmphex(env->rip, ==, start + 9);
    g_assert_cmphex(env->regs[R_EAX], ==, 18);
    g_assert_cmphex(env->regs[R_ECX], ==, 6);
    run_to_hlt(m, env->rip);
    g_assert_cmphex(env->regs[R_EAX], ==, 3000);
    g_assert_cmphex(env->regs[R_ECX], ==, 1000);
    x86t_free(m);
}

/*
 * Linked traces (exec.c's trace links; these tests were written for trace chaining, which
 * was tried and taken out again): a store into linked code must still invalidate the
 * link, and an interrupt raised inside a loop of linked traces must be taken at the next
 * trace boundary.
 */
static void test_chain_smc(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    run_to_hlt(m, x86t_sym(m, "chain_smc"));
    /* The second pass's MOVABS is the one the push rewrote: the return address. */
    g_assert_cmphex(env->regs[R_EBX], ==, env->regs[R_EDX]);
    g_assert_cmphex(env->regs[R_ESP], ==, X86T_STACK);
    x86t_free(m);
}

static void test_chain_irq(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    x86t_set_gate64(m, 64, x86t_sym(m, "chain_irq_isr"), 0, 0, false);
    env->regs[R_ESP] = X86T_STACK;
    run_to_hlt(m, x86t_sym(m, "chain_irq"));
    g_assert_cmpint(env->regs[R_EAX], ==, 100);
    g_assert_cmphex(env->regs[R_ESI], ==, env->regs[9]);
    x86t_free(m);
}

static void test_smc_dma(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    /* mov $1, %eax; hlt at 0x300000 */
    uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0xf4 };

    x86t_setup_long64(m);
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    run_to_hlt(m, 0x300000);
    g_assert_cmphex(env->regs[R_EAX], ==, 1);
    /* A device writes the code behind the CPU's back and says so. */
    code[1] = 2;
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    env->halted = false;
    run_to_hlt(m, 0x300000);
    g_assert_cmphex(env->regs[R_EAX], ==, 2);
    x86t_free(m);
}

/*
 * REP MOVS/STOS into dirty-logged RAM (a framebuffer): the data lands and every page
 * written is recorded, by one note_write per page-sized run, not one per element.
 */
static void test_rep_logged(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc6, 0x00, 0x00, 0x10, 0x00,       /* mov $0x100000, %rsi */
        0x48, 0xc7, 0xc7, 0x10, 0x00, 0x20, 0x00,       /* mov $0x200010, %rdi */
        0x48, 0xc7, 0xc1, 0xb8, 0x0b, 0x00, 0x00,       /* mov $3000, %rcx */
        0xfc, 0xf3, 0xa5,                               /* cld; rep movsl */
        0xb8, 0x44, 0x33, 0x22, 0x11,                   /* mov $0x11223344, %eax */
        0x48, 0xc7, 0xc1, 0xe8, 0x03, 0x00, 0x00,       /* mov $1000, %rcx */
        0xf3, 0xab,                                     /* rep stosl */
        0xf4,
    };

    x86t_setup_long64(m);
    m->log_base = 0x200000;
    m->log_size = 64 * 4096;
    for (int i = 0; i < 3000; i++) {
        x86t_wr(m, 0x100000 + 4 * i, 4, 0xa5000000u + i);
    }
    x86t_write_bytes(m, 0x300000, code, sizeof(code));
    run_to_hlt(m, 0x300000);
    /* movs: 12000 bytes at 0x200010; stos: 4000 bytes from 0x202ef0 to 0x203e90. */
    for (int i = 0; i < 3000; i++) {
        g_assert_cmphex(x86t_rd(m, 0x200010 + 4 * i, 4), ==, 0xa5000000u + i);
    }
    for (int i = 0; i < 1000; i++) {
        g_assert_cmphex(x86t_rd(m, 0x202ef0 + 4 * i, 4), ==, 0x11223344);
    }
    g_assert_cmphex(x86t_rd(m, 0x203e90, 4), ==, 0);
    g_assert_cmphex(env->regs[R_EDI], ==, 0x203e90);
    for (unsigned p = 0; p < G_N_ELEMENTS(m->logged); p++) {
        g_assert_cmpint(m->logged[p], ==, p <= 3);
    }
    /* Per page, not per element (4000): the first element on a page fills the TLB in
     * the slow path (one record), then the rest of the page is one run (one record). */
    g_assert_cmpuint(m->note_writes, <=, 16);
    x86t_free(m);
}

static void test_page_cross(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    /* mov $0x89abcdef, %eax (5 bytes) starting 2 bytes before a page end; hlt. */
    uint8_t code[] = { 0xb8, 0xef, 0xcd, 0xab, 0x89, 0xf4 };

    x86t_setup_long64(m);
    x86t_write_bytes(m, 0x300ffe, code, sizeof(code));
    run_to_hlt(m, 0x300ffe);
    g_assert_cmphex(env->regs[R_EAX], ==, 0x89abcdef);
    g_assert_cmphex(env->rip, ==, 0x301004);

    /* A qword store, load and RMW straddling 0x201000. */
    for (int k = 1; k < 8; k++) {
        env->halted = false;
        env->regs[R_EAX] = 0x0102030405060708ULL * k;
        env->regs[R_EDI] = 0x201000 - k;
        run_to_hlt(m, x86t_sym(m, "cross_page"));
        g_assert_cmphex(env->regs[R_EBX], ==, 0x0102030405060708ULL * k);
        g_assert_cmphex(env->regs[R_ECX], ==, 0x0102030405060708ULL * k + 1);
        g_assert_cmphex(x86t_rd(m, 0x201000 - k, 8), ==, 0x0102030405060708ULL * k + 1);
    }
    x86t_free(m);
}

static void test_mmio_pio(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    run_to_hlt(m, x86t_sym(m, "mmio_test"));
    g_assert_cmphex(m->mmio[0], ==, 0x1122334455667788ULL);
    g_assert_cmphex(env->regs[R_EBX], ==, 0x55667788);
    g_assert_cmphex(env->regs[R_ECX], ==, 0xbeef);
    g_assert_cmphex(env->regs[R_EDX], ==, 1);                   /* 0 + 1, via RMW */
    g_assert_cmpuint(m->mmio_reads, >=, 3);
    g_assert_cmpuint(m->mmio_writes, >=, 3);

    env->halted = false;
    run_to_hlt(m, x86t_sym(m, "io_test"));
    g_assert_cmpstr(m->console->str, ==, "Kite!");
    g_assert_cmphex(env->regs[R_EBX] & 0xff, ==, 0x5a);
    x86t_free(m);
}

static void test_rep_fast(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    run_to_hlt(m, x86t_sym(m, "rep_big"));
    g_assert_cmphex(env->regs[R_EDX], ==, 0x0101010101010101ULL);
    g_assert_cmphex(env->regs[R_ECX], ==, 0);
    g_assert_cmphex(env->regs[R_ESI], ==, 0x500000);
    for (uint64_t a = 0x600000; a < 0x700000; a += 4096) {
        g_assert_cmphex(x86t_rd(m, a + (a >> 12) % 4089, 8), ==, 0x0101010101010101ULL);
    }
    g_assert_cmphex(x86t_rd(m, 0x700000, 8), ==, 0);

    env->halted = false;
    run_to_hlt(m, x86t_sym(m, "rep_overlap"));
    g_assert_cmphex(env->regs[R_EAX], ==, 0xcdabcdabcdabcdabULL);
    x86t_free(m);
}

static void test_budget(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    int64_t done;
    X86ExitReason r;

    x86t_setup_long64(m);
    env->regs[R_ECX] = 100000;
    env->rip = x86t_sym(m, "bench_loop");
    /* 2 setup instructions, then 4 per iteration. */
    r = x86_cpu_exec(m->cpu, 1000, &done);
    g_assert_cmpint(r, ==, X86_EXIT_BUDGET);
    g_assert_cmpint(done, ==, 1000);
    g_assert_cmpuint(env->regs[R_ECX], ==, 100000 - 249);
    g_assert_cmphex(env->rip, ==, x86t_sym(m, "bench_loop") + 4 + 6);  /* after add, xor */
    r = x86_cpu_exec(m->cpu, 1, &done);
    g_assert_cmpint(done, ==, 1);
    g_assert_cmpuint(env->regs[R_ECX], ==, 100000 - 250);
    r = x86_cpu_exec(m->cpu, 100000000, &done);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    g_assert_cmpint(done, ==, 1 + 4 * (100000 - 250) + 1);     /* JNZ, loops, HLT */
    g_assert_cmpuint(env->regs[R_ECX], ==, 0);
    x86t_free(m);
}

static void test_cpuid(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;

    x86t_setup_long64(m);
    run_to_hlt(m, x86t_sym(m, "cpuid_test"));
    g_assert_cmphex(env->regs[R_R8], ==, 0x68747541);           /* "Auth" */
    g_assert_cmphex(env->regs[R_R9], ==, 0x69746e65);           /* "enti" */
    g_assert_cmphex(env->regs[R_R10], ==, 0x444d4163);          /* "cAMD" */
    g_assert_true(env->regs[R_R11] & (1u << 26));               /* SSE2 */
    g_assert_true(env->regs[R_R12] & (1u << 29));               /* LM */
    g_assert_true(env->regs[R_R12] & (1u << 11));               /* SYSCALL */
    x86t_free(m);
}

static void test_divide_error(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    uint64_t h = x86t_sym(m, "excp_handler_hlt");
    uint64_t div = x86t_sym(m, "div_zero") + 2 + 5 + 2;          /* the DIV */

    x86t_setup_long64(m);
    x86t_set_gate64(m, 0, h, 0, 0, false);
    run_to_hlt(m, x86t_sym(m, "div_zero"));
    g_assert_cmphex(env->rip, ==, h + 1);
    /* #DE is a fault: the frame's RIP is the DIV itself (SDM vol. 3A, 6.15). */
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP], 8), ==, div);
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP] + 8, 8), ==, X86T_CS64);
    g_assert_cmphex(x86t_rd(m, env->regs[R_ESP] + 24, 8), ==, X86T_STACK);
    g_assert_cmphex(env->regs[R_EAX], ==, 100);                 /* unchanged */
    x86t_free(m);
}

typedef struct CpuidExpect {
    uint32_t leaf, sub, a, b, c, d;
} CpuidExpect;

static void check_cpuid(X86CPU *cpu, const CpuidExpect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r[4];
        x86_cpu_cpuid(cpu, e[i].leaf, e[i].sub, &r[0], &r[1], &r[2], &r[3]);
        if (r[0] != e[i].a || r[1] != e[i].b || r[2] != e[i].c || r[3] != e[i].d) {
            g_error("CPUID %08x.%u: %08x %08x %08x %08x, want %08x %08x %08x %08x",
                    e[i].leaf, e[i].sub, r[0], r[1], r[2], r[3],
                    e[i].a, e[i].b, e[i].c, e[i].d);
        }
    }
}

/*
 * The leaves qemu64 reports under QEMU 7.2's TCG (dumped from qemu-system-x86_64 -smp 1
 * and -smp 4,cores=2,threads=2), except what the interpreter lacks: SSE3 (1.ECX bit 0),
 * PSE-36 (1.EDX bit 17), SVM (80000001h.ECX bit 2, leaf 8000000Ah); and with
 * the invariant TSC (80000007h.EDX bit 8) kept.
 */
static void test_cpuid_leaves(void)
{
    static const CpuidExpect common[] = {
        { 0x0, 0, 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65 },
        { 0x2, 0, 0, 0, 0, 0 },
        { 0x4, 0, 0, 0, 0, 0 },
        { 0x5, 0, 0, 0, 3, 0 },
        { 0x6, 0, 0, 0, 0, 0 },
        { 0x7, 0, 0, 0, 0, 0 },
        { 0xd, 0, 0, 0, 0, 0 },
        { 0xd, 1, 0, 0, 0, 0 },
        { 0x40000000, 0, 0x40000001, 0x54474354, 0x43544743, 0x47435447 },
        { 0x40000001, 0, 0, 0, 0, 0 },
        { 0x80000000, 0, 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65 },
        { 0x80000002, 0, 0x554d4551, 0x72695620, 0x6c617574, 0x55504320 },
        { 0x80000003, 0, 0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b },
        { 0x80000004, 0, 0, 0, 0, 0 },
        { 0x80000005, 0, 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140 },
        { 0x80000006, 0, 0x00000000, 0x42004200, 0x02008140, 0x00808140 },
        { 0x80000007, 0, 0, 0, 0, 0x100 },
        { 0x8000000a, 0, 0, 0, 0, 0 },
    };
    static const CpuidExpect one[] = {
        { 0x1, 0, 0x00060fb1, 0x00000800, 0x80002000, 0x0789fbfd },
        { 0xb, 0, 0, 1, 0x100, 0 },
        { 0xb, 1, 0, 1, 0x201, 0 },
        { 0xb, 2, 0, 0, 2, 0 },
        { 0x80000001, 0, 0x00060fb1, 0, 0x00000001, 0x2191fbfd },
        { 0x80000008, 0, 0x00003028, 0, 0, 0 },
    };
    /* -smp 4,cores=2,threads=2, the CPU with APIC ID 3 (core 1, thread 1). */
    static const CpuidExpect topo[] = {
        { 0x1, 0, 0x00060fb1, 0x03040800, 0x80002000, 0x1789fbfd },
        { 0xb, 0, 1, 2, 0x100, 3 },
        { 0xb, 1, 2, 4, 0x201, 3 },
        { 0xb, 2, 0, 0, 2, 3 },
        { 0xb, 5, 0, 0, 5, 3 },
        { 0x80000001, 0, 0x00060fb1, 0, 0x00000003, 0x2191fbfd },
        { 0x80000008, 0, 0x00003028, 0, 0x00002003, 0 },
    };
    X86T *m = x86t_new();

    check_cpuid(m->cpu, common, G_N_ELEMENTS(common));
    check_cpuid(m->cpu, one, G_N_ELEMENTS(one));
    x86_cpu_set_topology(m->cpu, 2, 2);
    x86_cpu_set_apic_id(m->cpu, 3);
    check_cpuid(m->cpu, common, G_N_ELEMENTS(common));
    check_cpuid(m->cpu, topo, G_N_ELEMENTS(topo));
    x86t_free(m);
}

/* A fault after a flag-setting instruction: the frame holds that instruction's flags. */
static void test_flags_fault(void)
{
    X86T *m = x86t_new();
    CPUX86State *env = m->env;
    uint64_t h = x86t_sym(m, "excp_handler_hlt");
    uint64_t rflags;

    x86t_setup_long64(m);
    x86t_set_gate64(m, 0, h, 0, 0, false);
    run_to_hlt(m, x86t_sym(m, "flags_fault"));
    g_assert_cmphex(env->rip, ==, h + 1);
    rflags = x86t_rd(m, env->regs[R_ESP] + 16, 8);
    /* -1 + 1: CF, PF, AF, ZF set; SF, OF clear (SDM vol. 2A, ADD). */
    g_assert_cmphex(rflags & 0x8d5, ==, 0x55);
    g_assert_cmphex(env->regs[R_ECX], ==, 0);               /* the XOR did not run */
    x86t_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/basic/real-mode", test_real_mode);
    g_test_add_func("/x86/basic/real-mode-int", test_real_mode_int);
    g_test_add_func("/x86/basic/prot32", test_prot32);
    g_test_add_func("/x86/basic/bcd", test_bcd);
    g_test_add_func("/x86/basic/smc", test_smc);
    g_test_add_func("/x86/basic/loop-budget", test_loop_budget);
    g_test_add_func("/x86/basic/smc-dma", test_smc_dma);
    g_test_add_func("/x86/basic/chain-smc", test_chain_smc);
    g_test_add_func("/x86/basic/chain-irq", test_chain_irq);
    g_test_add_func("/x86/basic/page-cross", test_page_cross);
    g_test_add_func("/x86/basic/mmio-pio", test_mmio_pio);
    g_test_add_func("/x86/basic/rep-fast", test_rep_fast);
    g_test_add_func("/x86/basic/budget", test_budget);
    g_test_add_func("/x86/basic/rep-logged", test_rep_logged);
    g_test_add_func("/x86/basic/cpuid", test_cpuid);
    g_test_add_func("/x86/basic/cpuid-leaves", test_cpuid_leaves);
    g_test_add_func("/x86/basic/divide-error", test_divide_error);
    g_test_add_func("/x86/basic/flags-fault", test_flags_fault);
    return g_test_run();
}
