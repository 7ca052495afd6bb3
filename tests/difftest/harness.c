/*
 * Differential-test harness: a 64-bit guest test kernel that runs generated instruction
 * sequences in ring 3 and prints a hash of the state each leaves behind, so that the
 * same cases run under KVM (the real CPU) and under Kite's interpreter can be compared
 * line by line (tests/difftest/difftest.py generates the cases and compares).
 *
 * Cases arrive as the multiboot module (-initrd FILE): a 16-byte header
 * {"KDT1", case count, case size, 0} then fixed-size records (struct DtCase).  For each
 * case the harness fills a 512-byte data window from the case's seed, copies the code
 * to a user page followed by UD2, loads every general register (RBX then points at the
 * data window, RSP at a user stack) and RFLAGS, and IRETQs to ring 3.  Whatever
 * exception ends the run - the final UD2 or a fault on the way (#DE, #GP...) - comes
 * back to ring 0 with the registers in the interrupt frame.  The hash (FNV-1a) covers the
 * 16 GPRs, RFLAGS masked to the flags the generator says are defined, the exception
 * vector, error code and RIP offset, and the data window.  Output per case:
 *     C <index> <hash>
 * and with dump=<index> on the command line the full state of that case.  Keeping the
 * ring-0 work small matters here: under kvm_pvm ring 0 is emulated at a few MIPS and each
 * console byte is a port exit.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kernel.h"

#define DT_MAGIC     0x3154444b          /* "KDT1" */
#define DT_CODE_MAX  104
#define DT_DATA_SIZE 512

typedef struct DtCase {
    uint64_t regs[16];                   /* encoding order rax rcx rdx rbx rsp rbp rsi rdi r8.. */
    uint64_t rflags;
    uint32_t flags_mask;                 /* arithmetic flags defined at the end */
    uint32_t code_len;
    uint32_t data_seed;
    uint32_t pad;
    uint8_t code[DT_CODE_MAX];
} DtCase;
_Static_assert(sizeof(DtCase) == 256, "case record layout");

static uint8_t ucode[4096] __attribute__((aligned(4096)));
static uint8_t udata[4096] __attribute__((aligned(4096)));
static uint8_t ustack[4096] __attribute__((aligned(16)));
static uint8_t rsp0_stack[8192] __attribute__((aligned(16)));

/* Set by dt_enter (asm below), read by the exception path. */
uint64_t dt_kernel_rsp;
uint64_t dt_regs_in[16], dt_rflags_in;
static IntFrame dt_out;
static volatile bool dt_active;

void dt_enter(void);
void dt_return(void) __attribute__((noreturn));
asm(".text\n"
    ".globl dt_enter\n"
    "dt_enter:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, dt_kernel_rsp(%rip)\n"
    "    pushq $0x23\n"                          /* SS = SEL_UDATA | 3 */
    "    pushq dt_regs_in+32(%rip)\n"            /* RSP */
    "    pushq dt_rflags_in(%rip)\n"
    "    pushq $0x2b\n"                          /* CS = SEL_UCODE64 | 3 */
    "    lea ucode(%rip), %rax\n push %rax\n"    /* RIP */
    "    lea dt_regs_in(%rip), %rax\n"
    "    mov 8(%rax), %rcx\n mov 16(%rax), %rdx\n mov 24(%rax), %rbx\n"
    "    mov 40(%rax), %rbp\n mov 48(%rax), %rsi\n mov 56(%rax), %rdi\n"
    "    mov 64(%rax), %r8\n mov 72(%rax), %r9\n mov 80(%rax), %r10\n mov 88(%rax), %r11\n"
    "    mov 96(%rax), %r12\n mov 104(%rax), %r13\n mov 112(%rax), %r14\n"
    "    mov 120(%rax), %r15\n mov 0(%rax), %rax\n"
    "    iretq\n"
    ".globl dt_return\n"
    "dt_return:\n"
    "    mov dt_kernel_rsp(%rip), %rsp\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n");

static void dt_exception(IntFrame *f)
{
    if (!dt_active || (f->cs & 3) != 3) {
        printf("difftest: vector %lu in ring 0 at %lx\n", (unsigned long)f->vector,
               (unsigned long)f->ip);
        test_fail("unexpected exception in the harness");
    }
    dt_out = *f;
    dt_active = false;
    dt_return();
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    return h;
}

static void fill_data(uint32_t seed)
{
    uint32_t x = seed | 1;

    for (int i = 0; i < DT_DATA_SIZE; i += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(udata + i, &x, 4);
    }
}

/* Frame GPRs back into encoding order. */
static void frame_regs(const IntFrame *f, uint64_t r[16])
{
    r[0] = f->rax; r[1] = f->rcx; r[2] = f->rdx; r[3] = f->rbx;
    r[4] = f->sp; r[5] = f->rbp; r[6] = f->rsi; r[7] = f->rdi;
    r[8] = f->r8; r[9] = f->r9; r[10] = f->r10; r[11] = f->r11;
    r[12] = f->r12; r[13] = f->r13; r[14] = f->r14; r[15] = f->r15;
}

static void run_case(const DtCase *c, uint32_t index, bool dump)
{
    uint64_t r[16], h = 0xcbf29ce484222325ull, flags, exc[3];
    uint32_t len = c->code_len > DT_CODE_MAX ? DT_CODE_MAX : c->code_len;

    fill_data(c->data_seed);
    memcpy(ucode, c->code, len);
    ucode[len] = 0x0f;                      /* UD2 ends every sequence */
    ucode[len + 1] = 0x0b;
    memcpy(dt_regs_in, c->regs, sizeof(dt_regs_in));
    dt_regs_in[3] = (uintptr_t)udata;
    dt_regs_in[4] = (uintptr_t)ustack + sizeof(ustack) - 64;
    /* Arithmetic flags and DF from the case; IF, TF, AC, IOPL 0; bit 1 set. */
    dt_rflags_in = (c->rflags & 0x4d5) | 0x2;
    dt_active = true;
    dt_enter();

    frame_regs(&dt_out, r);
    flags = dt_out.flags & (c->flags_mask | 0x400);
    exc[0] = dt_out.vector;
    exc[1] = dt_out.vector == 14 || dt_out.vector == 13 || dt_out.vector == 12 ||
             dt_out.vector == 17 ? dt_out.error : 0;
    exc[2] = dt_out.ip - (uintptr_t)ucode;
    h = fnv(h, r, sizeof(r));
    h = fnv(h, &flags, sizeof(flags));
    h = fnv(h, exc, sizeof(exc));
    h = fnv(h, udata, DT_DATA_SIZE);
    printf("C %u %016lx\n", index, (unsigned long)h);
    if (dump) {
        static const char *const names[16] = {
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
        };
        for (int i = 0; i < 16; i++) {
            printf("R %s %016lx\n", names[i], (unsigned long)r[i]);
        }
        printf("R rflags %016lx\n", (unsigned long)flags);
        printf("R exception %lu error %lx rip+%lx\n", (unsigned long)exc[0],
               (unsigned long)exc[1], (unsigned long)exc[2]);
        for (int i = 0; i < DT_DATA_SIZE; i += 16) {
            printf("M %03x", i);
            for (int j = 0; j < 16; j++) {
                printf(" %02x", udata[i + j]);
            }
            printf("\n");
        }
    }
}

void test_main(void)
{
    const uint32_t *hdr = (const uint32_t *)(uintptr_t)multiboot_mod_start;
    uint64_t dump = cmdline_get_uint("dump", ~0ull);
    uint64_t only = cmdline_get_uint("case", ~0ull);
    uint32_t n;

    if (!multiboot_mod_start || multiboot_mod_end - multiboot_mod_start < 16 ||
        hdr[0] != DT_MAGIC || hdr[2] != sizeof(DtCase)) {
        test_fail("no difftest case file as the multiboot module (-initrd)");
        test_done();
    }
    n = hdr[1];
    if ((uint64_t)n * sizeof(DtCase) + 16 > multiboot_mod_end - multiboot_mod_start) {
        test_fail("case file truncated: %u cases announced", n);
        test_done();
    }
    tss_init((uintptr_t)rsp0_stack + sizeof(rsp0_stack));
    for (int v = 0; v < 20; v++) {
        if (v != 2) {
            idt_set_handler(v, dt_exception);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (only == ~0ull || only == i) {
            run_case((const DtCase *)(uintptr_t)(multiboot_mod_start + 16) + i, i, dump == i);
        }
    }
    printf("difftest: %u cases\n", n);
    test_done();
}
