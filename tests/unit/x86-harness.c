/*
 * Test harness for the x86 interpreter (see x86-harness.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "x86-harness.h"
#include "kite/log.h"
#include <elf.h>
#include <sys/mman.h>

/* ---- machine ops -------------------------------------------------------------------- */

static uint8_t *t_ram_page(void *opaque, uint64_t paddr, bool write)
{
    X86T *m = opaque;

    if (paddr < X86T_RAM_SIZE) {
        if (write && paddr - m->log_base < m->log_size) {
            return NULL;                /* logged: only through ram_page_logged */
        }
        return m->ram + (paddr & ~0xfffULL);
    }
    return NULL;
}

static uint8_t *t_ram_page_logged(void *opaque, uint64_t paddr, void **log)
{
    X86T *m = opaque;

    if (paddr - m->log_base < m->log_size) {
        *log = m;
        return m->ram + (paddr & ~0xfffULL);
    }
    return NULL;
}

static void t_note_write(void *opaque, void *log, const uint8_t *host, unsigned size)
{
    X86T *m = log;
    uint64_t off = host - m->ram - m->log_base;

    g_assert(size && off + size <= m->log_size);
    for (uint64_t p = off >> 12; p <= (off + size - 1) >> 12; p++) {
        g_assert(p < G_N_ELEMENTS(m->logged));
        m->logged[p] = true;
    }
    m->note_writes++;
}

static uint64_t t_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
    X86T *m = opaque;

    if (paddr >= X86T_MMIO_BASE && paddr + size <= X86T_MMIO_BASE + sizeof(m->mmio)) {
        uint64_t v = 0;
        memcpy(&v, (uint8_t *)m->mmio + (paddr - X86T_MMIO_BASE), size);
        m->mmio_reads++;
        return v;
    }
    return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void t_mmio_write(void *opaque, uint64_t paddr, uint64_t val, unsigned size)
{
    X86T *m = opaque;

    if (paddr >= X86T_MMIO_BASE && paddr + size <= X86T_MMIO_BASE + sizeof(m->mmio)) {
        memcpy((uint8_t *)m->mmio + (paddr - X86T_MMIO_BASE), &val, size);
        m->mmio_writes++;
        if (paddr == X86T_MMIO_IRQ) {
            /* Like a device raising its line in the middle of a trace. */
            m->irq_vector = val & 0xff;
            x86_cpu_interrupt(m->cpu, X86_INT_HARD);
        }
    }
}

static uint32_t t_pio_read(void *opaque, uint16_t port, unsigned size)
{
    return port == 0x80 ? 0x5a : (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static void t_pio_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
    X86T *m = opaque;

    if (port == X86T_PORT_CONSOLE) {
        g_string_append_c(m->console, val);
    } else if (port == X86T_PORT_EXIT) {
        m->exit_code = val;
    }
}

static int t_ack(void *opaque)
{
    X86T *m = opaque;
    int v = m->irq_vector;

    m->irq_vector = -1;
    x86_cpu_interrupt_clear(m->cpu, X86_INT_HARD);
    return v;
}

static uint64_t t_clock(void *opaque)
{
    X86T *m = opaque;
    return m->clock += 100;
}

static const X86MachineOps t_ops = {
    .ram_page = t_ram_page,
    .ram_page_logged = t_ram_page_logged,
    .note_write = t_note_write,
    .mmio_read = t_mmio_read,
    .mmio_write = t_mmio_write,
    .pio_read = t_pio_read,
    .pio_write = t_pio_write,
    .ack_interrupt = t_ack,
    .clock_ns = t_clock,
};

/* ---- guest ELF -------------------------------------------------------------------- */

static void load_guest(X86T *m)
{
    gchar *data;
    gsize len;
    const Elf64_Ehdr *eh;
    const Elf64_Shdr *sh;

    if (!g_file_get_contents(X86_GUEST_ELF, &data, &len, NULL)) {
        g_error("cannot read %s", X86_GUEST_ELF);
    }
    eh = (const Elf64_Ehdr *)data;
    g_assert(len > sizeof(*eh) && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(data + eh->e_phoff) + i;
        if (ph->p_type == PT_LOAD && ph->p_memsz) {
            g_assert(ph->p_paddr + ph->p_memsz <= X86T_RAM_SIZE);
            memcpy(m->ram + ph->p_paddr, data + ph->p_offset, ph->p_filesz);
        }
    }
    sh = (const Elf64_Shdr *)(data + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB) {
            const Elf64_Sym *sym = (const Elf64_Sym *)(data + sh[i].sh_offset);
            const char *str = data + sh[sh[i].sh_link].sh_offset;
            size_t n = sh[i].sh_size / sizeof(*sym);
            for (size_t j = 0; j < n; j++) {
                X86TSym *s;
                if (!sym[j].st_name) {
                    continue;
                }
                s = g_new(X86TSym, 1);
                s->addr = sym[j].st_value;
                s->size = sym[j].st_size;
                g_hash_table_insert(m->syms, g_strdup(str + sym[j].st_name), s);
            }
        }
    }
    g_free(data);
}

uint64_t x86t_sym(X86T *m, const char *name)
{
    X86TSym *s = g_hash_table_lookup(m->syms, name);

    if (!s) {
        g_error("guest symbol %s not found", name);
    }
    return s->addr;
}

uint64_t x86t_sym_size(X86T *m, const char *name)
{
    X86TSym *s = g_hash_table_lookup(m->syms, name);

    if (!s) {
        g_error("guest symbol %s not found", name);
    }
    return s->size;
}

/* ---- memory helpers --------------------------------------------------------------- */

uint64_t x86t_rd(X86T *m, uint64_t pa, unsigned size)
{
    g_assert(pa + size <= X86T_RAM_SIZE);
    return ldn_le_p(m->ram + pa, size);
}

void x86t_wr(X86T *m, uint64_t pa, unsigned size, uint64_t v)
{
    g_assert(pa + size <= X86T_RAM_SIZE);
    stn_le_p(m->ram + pa, size, v);
    x86_code_cache_invalidate(x86_cpu_code_cache(m->cpu), pa, size);
}

void x86t_write_bytes(X86T *m, uint64_t pa, const void *buf, size_t len)
{
    g_assert(pa + len <= X86T_RAM_SIZE);
    memcpy(m->ram + pa, buf, len);
    x86_code_cache_invalidate(x86_cpu_code_cache(m->cpu), pa, len);
}

/* ---- machine ------------------------------------------------------------------- */

X86T *x86t_new(void)
{
    X86T *m = g_new0(X86T, 1);
    const char *log = g_getenv("X86T_LOG");

    if (log) {
        /* e.g. X86T_LOG=int,unimp,guest_errors */
        kite_log_parse_items(log, NULL);
    }

    m->ram = g_malloc0(X86T_RAM_SIZE);
    m->console = g_string_new(NULL);
    m->exit_code = -1;
    m->irq_vector = -1;
    m->syms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    load_guest(m);
    m->ram[X86T_HLT_STUB] = 0xf4;
    m->cpu = x86_cpu_new(&t_ops, m, NULL);
    m->env = x86_cpu_env(m->cpu);
    return m;
}

void x86t_free(X86T *m)
{
    x86_cpu_free(m->cpu);
    g_hash_table_destroy(m->syms);
    g_string_free(m->console, true);
    g_free(m->ram);
    g_free(m);
}

/* A segment descriptor from base, limit (bytes or pages) and attr (X86_SEG_*). */
static uint64_t make_desc(uint32_t base, uint32_t limit, uint16_t attr)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)(attr & 0xff) << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)((attr >> 8) & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

#define A_CODE (X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_CODE | X86_SEG_TYPE_RW)
#define A_DATA (X86_SEG_P | X86_SEG_S | X86_SEG_TYPE_RW)
#define DPL3   (3 << X86_SEG_DPL_SHIFT)

static void build_tables(X86T *m)
{
    uint64_t *gdt = (uint64_t *)(m->ram + X86T_GDT);
    uint64_t tss_lo = make_desc(X86T_TSS, 0x68 + 128, X86_SEG_P | 9);

    memset(gdt, 0, 0x100);
    gdt[X86T_CS64 / 8] = make_desc(0, 0xfffff, A_CODE | X86_SEG_L | X86_SEG_G);
    gdt[X86T_DS / 8] = make_desc(0, 0xfffff, A_DATA | X86_SEG_DB | X86_SEG_G);
    gdt[X86T_UCS32 / 8] = make_desc(0, 0xfffff, A_CODE | DPL3 | X86_SEG_DB | X86_SEG_G);
    gdt[X86T_UDS / 8] = make_desc(0, 0xfffff, A_DATA | DPL3 | X86_SEG_DB | X86_SEG_G);
    gdt[X86T_UCS64 / 8] = make_desc(0, 0xfffff, A_CODE | DPL3 | X86_SEG_L | X86_SEG_G);
    gdt[X86T_CS32 / 8] = make_desc(0, 0xfffff, A_CODE | X86_SEG_DB | X86_SEG_G);
    gdt[X86T_CS16 / 8] = make_desc(0, 0xffff, A_CODE);
    gdt[X86T_DS16 / 8] = make_desc(0, 0xffff, A_DATA);
    gdt[X86T_TSSSEL / 8] = tss_lo;
    gdt[X86T_TSSSEL / 8 + 1] = 0;

    /* TSS: RSP0, IST1 and an I/O bitmap for ports 0-0x3ff (all allowed). */
    memset(m->ram + X86T_TSS, 0, 0x68 + 129);
    stq_le_p(m->ram + X86T_TSS + 4, X86T_STACK0);
    stq_le_p(m->ram + X86T_TSS + 0x24, X86T_IST1);
    stw_le_p(m->ram + X86T_TSS + 0x66, 0x68);
    m->ram[X86T_TSS + 0x68 + 128] = 0xff;

    /* Identity map of the first 4 GiB with 2 MiB pages, user accessible. */
    memset(m->ram + X86T_PML4, 0, 6 * 4096);
    stq_le_p(m->ram + X86T_PML4, (X86T_PML4 + 0x1000) | 7);
    for (int i = 0; i < 4; i++) {
        uint64_t pd = X86T_PML4 + 0x2000 + i * 0x1000;
        stq_le_p(m->ram + X86T_PML4 + 0x1000 + i * 8, pd | 7);
        for (int j = 0; j < 512; j++) {
            stq_le_p(m->ram + pd + j * 8, (((uint64_t)i << 30) + ((uint64_t)j << 21)) | 0x87);
        }
    }
    memset(m->ram + X86T_IDT, 0, 4096);
    x86_code_cache_flush(x86_cpu_code_cache(m->cpu));
}

static void set_tables(CPUX86State *env)
{
    env->gdt.base = X86T_GDT;
    env->gdt.limit = 0xff;
    env->idt.base = X86T_IDT;
    env->idt.limit = 0xfff;
    env->tr = (X86Segment){ .base = X86T_TSS, .limit = 0x68 + 128, .selector = X86T_TSSSEL,
                            .attr = X86_SEG_P | 11 };
    env->ldt = (X86Segment){ 0 };
}

void x86t_setup_real(X86T *m)
{
    x86_cpu_reset(m->cpu);
    build_tables(m);
    /* Real-mode IVT at 0, stack below 0x7000. */
    m->env->idt.base = 0;
    m->env->idt.limit = 0x3ff;
    x86_cpu_set_seg(m->env, R_CS, 0x2000, 0x20000, 0xffff,
                    A_CODE | X86_SEG_TYPE_A);
    x86_cpu_set_seg(m->env, R_SS, 0, 0, 0xffff, A_DATA | X86_SEG_TYPE_A);
    m->env->regs[R_ESP] = 0x7000;
    x86_cpu_sync_state(m->cpu);
}

void x86t_setup_prot32(X86T *m)
{
    CPUX86State *env = m->env;

    x86_cpu_reset(m->cpu);
    build_tables(m);
    set_tables(env);
    env->cr[0] = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
    x86_cpu_set_seg(env, R_CS, X86T_CS32, 0, 0xffffffff,
                    A_CODE | X86_SEG_DB | X86_SEG_G | X86_SEG_TYPE_A);
    for (int s = 0; s < 6; s++) {
        if (s != R_CS) {
            x86_cpu_set_seg(env, s, X86T_DS, 0, 0xffffffff,
                            A_DATA | X86_SEG_DB | X86_SEG_G | X86_SEG_TYPE_A);
        }
    }
    env->regs[R_ESP] = X86T_STACK;
    x86_cpu_sync_state(m->cpu);
}

void x86t_setup_long64(X86T *m)
{
    CPUX86State *env = m->env;

    x86_cpu_reset(m->cpu);
    build_tables(m);
    set_tables(env);
    env->cr[0] = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
                 X86_CR0_PG;
    env->cr[3] = X86T_PML4;
    env->cr[4] = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    env->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE | X86_EFER_NXE;
    x86_cpu_set_seg(env, R_CS, X86T_CS64, 0, 0xffffffff,
                    A_CODE | X86_SEG_L | X86_SEG_G | X86_SEG_TYPE_A);
    for (int s = 0; s < 6; s++) {
        if (s != R_CS) {
            x86_cpu_set_seg(env, s, X86T_DS, 0, 0xffffffff,
                            A_DATA | X86_SEG_DB | X86_SEG_G | X86_SEG_TYPE_A);
        }
    }
    env->regs[R_ESP] = X86T_STACK;
    x86_cpu_sync_state(m->cpu);
}

void x86t_set_gate64(X86T *m, int vec, uint64_t handler, int ist, int dpl, bool trap)
{
    uint64_t lo = (handler & 0xffff) | ((uint64_t)X86T_CS64 << 16) |
                  ((uint64_t)ist << 32) | ((uint64_t)(trap ? 0xf : 0xe) << 40) |
                  ((uint64_t)dpl << 45) | (1ULL << 47) |
                  ((handler >> 16) & 0xffff) << 48;

    stq_le_p(m->ram + X86T_IDT + vec * 16, lo);
    stq_le_p(m->ram + X86T_IDT + vec * 16 + 8, handler >> 32);
}

X86ExitReason x86t_run(X86T *m, uint64_t rip, int64_t max_insns)
{
    X86ExitReason r;

    m->env->rip = rip;
    r = x86_cpu_exec(m->cpu, max_insns, NULL);
    return r;
}

void x86t_call64(X86T *m, const char *name)
{
    X86ExitReason r;

    m->env->regs[R_ESP] -= 8;
    stq_le_p(m->ram + m->env->regs[R_ESP], X86T_HLT_STUB);
    r = x86t_run(m, x86t_sym(m, name), 10000000);
    g_assert_cmpint(r, ==, X86_EXIT_HLT);
    g_assert_cmphex(m->env->rip, ==, X86T_HLT_STUB + 1);
    m->env->halted = false;
}

/* ---- host execution ------------------------------------------------------------- */

#define XMM_LD(n) "  movdqu " #n "*16+144(%rdi), %xmm" #n "\n"
#define XMM_ST(n) "  movdqu %xmm" #n ", " #n "*16+144(%rdi)\n"
#define XMM_IN XMM_LD(0) XMM_LD(1) XMM_LD(2) XMM_LD(3) XMM_LD(4) XMM_LD(5) \
    XMM_LD(6) XMM_LD(7) XMM_LD(8) XMM_LD(9) XMM_LD(10) XMM_LD(11) XMM_LD(12) XMM_LD(13) \
    XMM_LD(14) XMM_LD(15)
#define XMM_OUT XMM_ST(0) XMM_ST(1) XMM_ST(2) XMM_ST(3) XMM_ST(4) XMM_ST(5) XMM_ST(6) \
    XMM_ST(7) XMM_ST(8) XMM_ST(9) XMM_ST(10) XMM_ST(11) XMM_ST(12) XMM_ST(13) XMM_ST(14) \
    XMM_ST(15)

/*
 * x86t_host_run(X86THostState *s): load GPRs (not RSP), XMM0-15, MXCSR and RFLAGS from
 * s, call
 * s->code, store GPRs and RFLAGS back.  Callee-saved registers are preserved.
 */
__asm__(
    ".text\n"
    ".globl x86t_host_run\n"
    ".type x86t_host_run, @function\n"
    "x86t_host_run:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  push %rdi\n"
    "  pushq 136(%rdi)\n"
    "  pushq 128(%rdi)\n"
    "  mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n"
    "  mov 24(%rdi), %rbx\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
    "  mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n"
    "  mov 88(%rdi), %r11\n mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n"
    "  mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n"
    "  ldmxcsr 400(%rdi)\n"
    XMM_IN
    "  mov 56(%rdi), %rdi\n"
    "  popfq\n"
    "  call *(%rsp)\n"
    "  lea 8(%rsp), %rsp\n"
    "  pushfq\n"
    "  push %rdi\n"
    "  mov 16(%rsp), %rdi\n"
    "  mov %rax, 0(%rdi)\n mov %rcx, 8(%rdi)\n mov %rdx, 16(%rdi)\n"
    "  mov %rbx, 24(%rdi)\n mov %rbp, 40(%rdi)\n mov %rsi, 48(%rdi)\n"
    "  mov %r8, 64(%rdi)\n mov %r9, 72(%rdi)\n mov %r10, 80(%rdi)\n"
    "  mov %r11, 88(%rdi)\n mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n"
    "  mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
    "  stmxcsr 400(%rdi)\n"
    XMM_OUT
    "  push $0x1f80\n ldmxcsr (%rsp)\n lea 8(%rsp), %rsp\n"
    "  pop %rax\n mov %rax, 56(%rdi)\n"
    "  pop %rax\n mov %rax, 128(%rdi)\n"
    "  cld\n"
    "  pop %rdi\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n"
    ".size x86t_host_run, . - x86t_host_run\n");

uint64_t x86t_host_code(X86T *m, const char *name)
{
    uint64_t addr = x86t_sym(m, name), size = x86t_sym_size(m, name);
    static GHashTable *cache;
    uint8_t *p;

    g_assert(size > 0 && size < 4096);
    if (!cache) {
        cache = g_hash_table_new(g_str_hash, g_str_equal);
    }
    p = g_hash_table_lookup(cache, name);
    if (!p) {
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        g_assert(p != MAP_FAILED);
        memcpy(p, m->ram + addr, size);
        g_hash_table_insert(cache, (gpointer)name, p);
    }
    return (uint64_t)(uintptr_t)p;
}

void x86t_diff(X86T *m, const char *name, const X86THostState *in, X86THostState *guest,
               X86THostState *host)
{
    CPUX86State *env = m->env;

    *host = *in;
    host->code = x86t_host_code(m, name);
    x86t_host_run(host);

    for (int r = 0; r < 16; r++) {
        env->regs[r] = in->regs[r];
        env->xmm[r] = in->xmm[r];
    }
    /* Same stack alignment as on the host: RSP = 0 mod 16 after the call. */
    env->regs[R_ESP] = X86T_STACK - 8;
    x86_cpu_set_eflags(env, in->rflags);
    env->mxcsr = in->mxcsr;
    env->fpuc = 0x37f;
    env->fpus = 0;
    env->fpstt = 0;
    env->fptag_valid = 0;
    x86t_call64(m, name);
    *guest = *in;
    for (int r = 0; r < 16; r++) {
        guest->regs[r] = env->regs[r];
        guest->xmm[r] = env->xmm[r];
    }
    guest->rflags = x86_cpu_get_eflags(env);
    guest->mxcsr = env->mxcsr;
}
