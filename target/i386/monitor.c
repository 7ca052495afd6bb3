/*
 * x86 for the human monitor: "info mem" (mapped ranges with their rights) and "info tlb"
 * (every page-table leaf) from a walk of the guest's page tables as they are in memory, in
 * QEMU's output layout.  The walk follows SDM vol. 3A chapter 4: 32-bit paging (4.3, 4 MiB
 * pages with CR4.PSE), PAE (4.4) and 4-level paging (4.5); rights are the AND of the U/S and
 * R/W bits along the path (4.6).  It reads guest memory only, never sets accessed/dirty bits.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "target/i386/monitor.h"
#include "accel/accel.h"

#define PG_P    0x001ULL
#define PG_RW   0x002ULL
#define PG_US   0x004ULL
#define PG_PWT  0x008ULL
#define PG_PCD  0x010ULL
#define PG_A    0x020ULL
#define PG_D    0x040ULL
#define PG_PS   0x080ULL
#define PG_G    0x100ULL
#define PG_NX   (1ULL << 63)
#define PG_ADDR 0x000ffffffffff000ULL

/*
 * Bounds: a guest can point every entry at the same table, which would make the walk visit
 * 512^4 leaves; stop after this many entry reads or printed leaves and say so.
 */
#define MMU_DUMP_MAX_READS  (1u << 22)
#define MMU_DUMP_MAX_LEAVES (1u << 18)

typedef struct MmuDump {
    GString *out;
    unsigned reads, leaves;
    bool stopped;
    bool tlb;                   /* one line per leaf ("info tlb"), else ranges ("info mem") */
    bool wide;                  /* 64-bit linear addresses (LMA): sign-extend bit 47 */
    /* "info mem": the run being collected. */
    bool have;
    uint64_t start, end;
    uint64_t prot;
} MmuDump;

static bool rd(MmuDump *d, uint64_t pa, unsigned size, uint64_t *v)
{
    uint8_t b[8] = { 0 };

    if (d->stopped) {
        return false;
    }
    if (++d->reads > MMU_DUMP_MAX_READS) {
        d->stopped = true;
        return false;
    }
    if (address_space_read(&address_space_memory, pa, b, size) != MEMTX_OK) {
        return false;
    }
    *v = size == 8 ? ldq_le_p(b) : ldl_le_p(b);
    return true;
}

static uint64_t canon(const MmuDump *d, uint64_t la)
{
    return d->wide && (la & (1ULL << 47)) ? la | 0xffff000000000000ULL : la;
}

static void mem_flush(MmuDump *d)
{
    if (d->have) {
        g_string_append_printf(d->out, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %c%c%c\n",
                               canon(d, d->start), canon(d, d->end), d->end - d->start,
                               d->prot & PG_US ? 'u' : '-', 'r',
                               d->prot & PG_RW ? 'w' : '-');
    }
    d->have = false;
}

/* A leaf: size bytes at linear la, entry pte (its address bits under mask), rights prot. */
static void leaf(MmuDump *d, uint64_t la, uint64_t pte, uint64_t size, uint64_t mask,
                 uint64_t prot)
{
    if (d->tlb) {
        if (++d->leaves > MMU_DUMP_MAX_LEAVES) {
            d->stopped = true;
            return;
        }
        g_string_append_printf(d->out, "%016" PRIx64 ": %016" PRIx64 " %c%c%c%c%c%c%c%c%c\n",
                               canon(d, la), pte & mask, pte & PG_NX ? 'X' : '-',
                               pte & PG_G ? 'G' : '-', pte & PG_PS ? 'P' : '-',
                               pte & PG_D ? 'D' : '-', pte & PG_A ? 'A' : '-',
                               pte & PG_PCD ? 'C' : '-', pte & PG_PWT ? 'T' : '-',
                               pte & PG_US ? 'U' : '-', pte & PG_RW ? 'W' : '-');
        return;
    }
    /* Runs join while contiguous with the same rights (the canonical hole splits them). */
    if (d->have && d->end == la && d->prot == prot && !(d->wide && la == 1ULL << 47)) {
        d->end = la + size;
        return;
    }
    mem_flush(d);
    d->have = true;
    d->start = la;
    d->end = la + size;
    d->prot = prot;
}

/* Levels of 512 8-byte entries: level 4 (PML4) down to 1 (PT); 3 and 2 may map pages. */
static void walk64(MmuDump *d, uint64_t table, int level, uint64_t la, uint64_t prot)
{
    unsigned shift = 12 + 9 * (level - 1);

    for (uint64_t i = 0; i < 512; i++) {
        uint64_t e, sub = la | (i << shift);
        uint64_t p;

        if (!rd(d, table + i * 8, 8, &e) || !(e & PG_P)) {
            continue;
        }
        p = prot & (e | ~(PG_US | PG_RW));
        if (level == 1) {
            leaf(d, sub, e & ~PG_PS, 4096, PG_ADDR, p);     /* bit 7 of a PTE is PAT */
        } else if ((level == 2 || level == 3) && (e & PG_PS)) {
            leaf(d, sub, e, 1ULL << shift, PG_ADDR & ~((1ULL << shift) - 1), p);
        } else if (level > 1) {
            walk64(d, e & PG_ADDR, level - 1, sub, p);
        }
    }
}

static void walk32(MmuDump *d, const CPUX86State *env)
{
    uint64_t pd = env->cr[3] & 0xfffff000ULL;

    for (uint64_t i = 0; i < 1024; i++) {
        uint64_t e;

        if (!rd(d, pd + i * 4, 4, &e) || !(e & PG_P)) {
            continue;
        }
        if ((e & PG_PS) && (env->cr[4] & X86_CR4_PSE)) {
            /* 4 MiB page; PSE-36 puts physical bits 32-39 in PDE bits 13-20. */
            uint64_t pte = (e & 0xffc00fffULL) | ((e & 0x1fe000ULL) << 19);
            leaf(d, i << 22, pte, 1ULL << 22, 0xffffc00000ULL, e & (PG_US | PG_RW));
            continue;
        }
        for (uint64_t j = 0; j < 1024; j++) {
            uint64_t t;
            if (!rd(d, (e & 0xfffff000ULL) + j * 4, 4, &t) || !(t & PG_P)) {
                continue;
            }
            leaf(d, (i << 22) | (j << 12), t & ~PG_PS, 4096, 0xfffff000ULL,
                 e & t & (PG_US | PG_RW));
        }
    }
}

void x86_dump_mmu(CPUState *cs, GString *out, bool tlb)
{
    CPUX86State *env = X86_VCPU(cs)->env;
    AccelState *accel = current_accel();

    if (!env) {
        return;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cs);
    }
    x86_dump_mmu_env(env, out, tlb);
}

void x86_dump_mmu_env(const CPUX86State *env, GString *out, bool tlb)
{
    MmuDump d = { .out = out, .tlb = tlb };

    if (!(env->cr[0] & X86_CR0_PG)) {
        g_string_append(out, "PG disabled\n");
        return;
    }
    if (env->efer & X86_EFER_LMA) {
        d.wide = true;
        walk64(&d, env->cr[3] & PG_ADDR, 4, 0, PG_US | PG_RW);
    } else if (env->cr[4] & X86_CR4_PAE) {
        /* Four PDPTEs; they carry no rights bits (SDM 4.4.1). */
        for (uint64_t i = 0; i < 4; i++) {
            uint64_t e;
            if (rd(&d, (env->cr[3] & 0xffffffe0ULL) + i * 8, 8, &e) && (e & PG_P)) {
                walk64(&d, e & PG_ADDR, 2, i << 30, PG_US | PG_RW);
            }
        }
    } else {
        walk32(&d, env);
    }
    mem_flush(&d);
    if (d.stopped) {
        g_string_append(out, "(walk stopped: too many page-table entries)\n");
    }
}

bool x86_monitor_get_register_env(const CPUX86State *env, const char *name, uint64_t *val)
{
    /* QEMU's order of the general registers, which is the encoding's (R_EAX...). */
    static const char *const gpr[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                       "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    static const char *const seg[] = { "es", "cs", "ss", "ds", "fs", "gs" };
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);

    for (int i = 0; i < 16 && !dot; i++) {
        if (!strcmp(name, gpr[i])) {
            *val = env->regs[i];
            return true;
        }
    }
    for (int i = 0; i < 6; i++) {
        if (len == 2 && !strncmp(name, seg[i], 2)) {
            if (!dot) {
                *val = env->segs[i].selector;
            } else if (!strcmp(dot, ".base")) {
                *val = env->segs[i].base;
            } else if (!strcmp(dot, ".limit")) {
                *val = env->segs[i].limit;
            } else {
                return false;
            }
            return true;
        }
    }
    if (!strcmp(name, "eflags")) {
        *val = x86_cpu_get_eflags(env);
    } else if (!strcmp(name, "eip")) {
        *val = env->rip;
    } else if (!strcmp(name, "pc")) {
        *val = env->segs[R_CS].base + env->rip;
    } else {
        return false;
    }
    return true;
}

bool x86_monitor_get_register(CPUState *cs, const char *name, uint64_t *val)
{
    CPUX86State *env = X86_VCPU(cs)->env;
    AccelState *accel = current_accel();

    if (!env) {
        return false;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cs);
    }
    return x86_monitor_get_register_env(env, name, val);
}

int x86_disas_mode_env(const CPUX86State *env)
{
    /* hflags holds CS64 = EFER.LMA && CS.L and CS32 = CS.D, kept by x86_cpu_sync_state(). */
    if (env->hflags & X86_HF_CS64) {
        return 64;
    }
    return env->hflags & X86_HF_CS32 ? 32 : 16;
}

int x86_disas_mode(CPUState *cs)
{
    CPUX86State *env = X86_VCPU(cs)->env;
    AccelState *accel = current_accel();

    if (!env) {
        return 16;
    }
    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cs);
    }
    return x86_disas_mode_env(env);
}
