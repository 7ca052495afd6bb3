/*
 * x86 for debuggers: the gdb remote protocol's register layout and target descriptions
 * (i386 and x86-64, as gdb's org.gnu.gdb.i386.* features define them), and a page-table
 * walk without side effects for reading guest virtual memory.
 *
 * The register order is gdb's, not the encoding order: x86-64 numbers rax, rbx, rcx,
 * rdx, rsi, rdi, rbp, rsp, r8-r15, i386 numbers eax, ecx, edx, ebx, esp, ebp, esi, edi.
 * A CPU that has long mode (CPUID 0x80000001 EDX.LM) is described as x86-64 whatever mode
 * it is in, as gdb cannot change architecture in the middle of a session.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "target/i386/gdbstub.h"
#include "accel/accel.h"

#define CR0_PG  (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define EFER_LMA (1ULL << 10)
#define PTE_P   1ULL
#define PTE_PS  0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

/* ---- page walk (SDM vol. 3A, chapter 4), no A/D updates, no faults ---------------- */

static bool ld_pte(uint64_t pa, unsigned size, uint64_t *v)
{
    uint8_t b[8] = { 0 };

    if (address_space_read(&address_space_memory, pa, b, size) != MEMTX_OK) {
        return false;
    }
    *v = size == 8 ? ldq_le_p(b) : ldl_le_p(b);
    return true;
}

bool x86_debug_translate(const CPUX86State *env, uint64_t la, uint64_t *pa)
{
    uint64_t e, base;

    if (!(env->cr[0] & CR0_PG)) {
        *pa = la & 0xffffffffULL;
    } else if (env->cr[4] & CR4_PAE) {
        int level;
        if (env->efer & EFER_LMA) {
            /* SDM 3.3.7.1: bits 63:47 must all equal bit 47, else the access faults. */
            if ((int64_t)la >> 47 != 0 && (int64_t)la >> 47 != -1) {
                return false;
            }
            base = env->cr[3] & PTE_ADDR;
            level = 4;
        } else {
            la &= 0xffffffffULL;
            if (!ld_pte((env->cr[3] & 0xffffffe0ULL) + ((la >> 30) & 3) * 8, 8, &e) ||
                !(e & PTE_P)) {
                return false;
            }
            base = e & PTE_ADDR;
            level = 2;
        }
        for (; level >= 1; level--) {
            unsigned shift = 12 + 9 * (level - 1);
            if (!ld_pte(base + ((la >> shift) & 511) * 8, 8, &e) || !(e & PTE_P)) {
                return false;
            }
            if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
                uint64_t mask = (1ULL << shift) - 1;
                *pa = ((e & PTE_ADDR) & ~mask) | (la & mask);
                break;
            }
            base = e & PTE_ADDR;
        }
    } else {
        la &= 0xffffffffULL;
        if (!ld_pte((env->cr[3] & 0xfffff000ULL) + (la >> 22) * 4, 4, &e) || !(e & PTE_P)) {
            return false;
        }
        if ((e & PTE_PS) && (env->cr[4] & CR4_PSE)) {
            /* 4 MiB page; PSE-36 bits 13-20 give physical bits 32-39. */
            *pa = (e & 0xffc00000ULL) | ((e & 0x1fe000ULL) << 19) | (la & 0x3fffff);
        } else {
            if (!ld_pte((e & 0xfffff000ULL) + ((la >> 12) & 1023) * 4, 4, &e) ||
                !(e & PTE_P)) {
                return false;
            }
            *pa = (e & 0xfffff000ULL) | (la & 0xfff);
        }
    }
    if (env->a20_masked) {
        *pa &= ~(1ULL << 20);
    }
    return true;
}

static bool x86_get_phys_page_debug(CPUState *cs, uint64_t addr, uint64_t *paddr)
{
    X86Vcpu *cpu = X86_VCPU(cs);

    return cpu->env && x86_debug_translate(cpu->env, addr, paddr);
}

/* ---- registers ---------------------------------------------------------------------- */

/* gdb's order -> env.regs index. */
static const uint8_t gpr_map64[16] = { 0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15 };
/* gdb's segment order cs ss ds es fs gs -> env.segs index (ES CS SS DS FS GS). */
static const uint8_t seg_map[6] = { 1, 2, 3, 0, 4, 5 };

typedef struct X86GdbLayout {
    int ngpr, gpr_size, nxmm;
} X86GdbLayout;

static bool has_long_mode(X86Vcpu *cpu)
{
    const X86CpuidEntry *e = x86_vcpu_cpuid(cpu, 0x80000001, 0);

    return e && (e->edx & (1u << 29));
}

static X86GdbLayout layout_of(X86Vcpu *cpu)
{
    return has_long_mode(cpu) ? (X86GdbLayout){ 16, 8, 16 } : (X86GdbLayout){ 8, 4, 8 };
}

/* The full x87 tag word (2 bits per physical register) from FXSAVE's abridged form. */
static uint16_t full_ftag(const CPUX86State *env)
{
    uint16_t tag = 0;

    for (int i = 0; i < 8; i++) {
        const X86FPReg *r = &env->fpregs[i];
        unsigned t, exp = r->sign_exp & 0x7fff;
        if (!(env->fptag_valid & (1u << i))) {
            t = 3;                                          /* empty */
        } else if (exp == 0 && r->mant == 0) {
            t = 1;                                          /* zero */
        } else if (exp == 0x7fff || exp == 0 || !(r->mant >> 63)) {
            t = 2;                                          /* special */
        } else {
            t = 0;                                          /* valid */
        }
        tag |= t << (2 * i);
    }
    return tag;
}

static void put(GByteArray *buf, uint64_t v, int size)
{
    uint8_t b[8];

    stq_le_p(b, v);
    g_byte_array_append(buf, b, size);
}

/*
 * Register numbers: gprs, pc, eflags, 6 segments, st0-7, 8 x87 control registers, xmm,
 * mxcsr; x86-64 adds fs_base, gs_base, k_gs_base; both end with cr0 cr2 cr3 cr4 efer.
 */
static int x86_gdb_read_register(CPUState *cs, GByteArray *buf, int n)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    X86GdbLayout l = layout_of(cpu);
    int base;

    if (!env) {
        return 0;
    }
    if (n < l.ngpr) {
        put(buf, env->regs[l.ngpr == 16 ? gpr_map64[n] : n], l.gpr_size);
        return l.gpr_size;
    }
    n -= l.ngpr;
    switch (n) {
    case 0: put(buf, env->rip, l.gpr_size); return l.gpr_size;
    case 1: put(buf, x86_cpu_get_eflags(env), 4); return 4;
    }
    if (n < 8) {
        put(buf, env->segs[seg_map[n - 2]].selector, 4);
        return 4;
    }
    if (n < 16) {
        const X86FPReg *r = &env->fpregs[(env->fpstt + n - 8) & 7];
        put(buf, r->mant, 8);
        put(buf, r->sign_exp, 2);
        return 10;
    }
    switch (n) {
    case 16: put(buf, env->fpuc, 4); return 4;
    case 17: put(buf, (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11), 4); return 4;
    case 18: put(buf, full_ftag(env), 4); return 4;
    case 19: put(buf, env->fpcs, 4); return 4;
    case 20: put(buf, (uint32_t)env->fpip, 4); return 4;
    case 21: put(buf, env->fpds, 4); return 4;
    case 22: put(buf, (uint32_t)env->fpdp, 4); return 4;
    case 23: put(buf, env->fpop, 4); return 4;
    }
    if (n < 24 + l.nxmm) {
        g_byte_array_append(buf, env->xmm[n - 24].b, 16);
        return 16;
    }
    base = 24 + l.nxmm;
    if (n == base) {
        put(buf, env->mxcsr, 4);
        return 4;
    }
    base++;
    if (l.ngpr == 16) {
        switch (n - base) {
        case 0: put(buf, env->segs[R_FS].base, 8); return 8;
        case 1: put(buf, env->segs[R_GS].base, 8); return 8;
        case 2: put(buf, env->kernel_gs_base, 8); return 8;
        }
        base += 3;
    }
    switch (n - base) {
    case 0: put(buf, env->cr[0], l.gpr_size); return l.gpr_size;
    case 1: put(buf, env->cr[2], l.gpr_size); return l.gpr_size;
    case 2: put(buf, env->cr[3], l.gpr_size); return l.gpr_size;
    case 3: put(buf, env->cr[4], l.gpr_size); return l.gpr_size;
    case 4: put(buf, env->efer, 8); return 8;
    }
    return 0;
}

static uint64_t get(const uint8_t *b, int size)
{
    uint8_t t[8] = { 0 };

    memcpy(t, b, size);
    return ldq_le_p(t);
}

/*
 * Writes: general registers, RIP, EFLAGS, x87 and SSE state.  Segment selectors, control
 * registers and EFER are shown but not writable here (loading them has side effects a
 * debugger write cannot express); such writes are accepted and ignored, as gdb expects a
 * size back.
 */
static int x86_gdb_write_register(CPUState *cs, const uint8_t *b, int len, int n)
{
    X86Vcpu *cpu = X86_VCPU(cs);
    CPUX86State *env = cpu->env;
    X86GdbLayout l = layout_of(cpu);
    GByteArray *tmp;
    int size;

    /* The register's size is what reading it produces. */
    tmp = g_byte_array_new();
    size = x86_gdb_read_register(cs, tmp, n);
    g_byte_array_free(tmp, true);
    if (size == 0 || len < size) {
        return 0;
    }
    if (n < l.ngpr) {
        int r = l.ngpr == 16 ? gpr_map64[n] : n;
        env->regs[r] = l.gpr_size == 8 ? get(b, 8)
                                       : (env->regs[r] & ~0xffffffffULL) | get(b, 4);
    } else if (n == l.ngpr) {
        env->rip = get(b, l.gpr_size);
    } else if (n == l.ngpr + 1) {
        x86_cpu_set_eflags(env, get(b, 4));
    } else if (n >= l.ngpr + 8 && n < l.ngpr + 16) {
        X86FPReg *r = &env->fpregs[(env->fpstt + n - l.ngpr - 8) & 7];
        r->mant = get(b, 8);
        r->sign_exp = get(b + 8, 2);
    } else if (n == l.ngpr + 16) {
        env->fpuc = get(b, 4);
    } else if (n == l.ngpr + 17) {
        uint32_t sw = get(b, 4);
        env->fpstt = (sw >> 11) & 7;
        env->fpus = sw & ~0x3800;
    } else if (n == l.ngpr + 18) {
        uint32_t tw = get(b, 4);
        env->fptag_valid = 0;
        for (int i = 0; i < 8; i++) {
            if (((tw >> (2 * i)) & 3) != 3) {
                env->fptag_valid |= 1u << i;
            }
        }
    } else if (n >= l.ngpr + 24 && n < l.ngpr + 24 + l.nxmm) {
        memcpy(env->xmm[n - l.ngpr - 24].b, b, 16);
    } else if (n == l.ngpr + 24 + l.nxmm) {
        env->mxcsr = get(b, 4);
    }
    cs->vcpu_dirty = true;
    if (cpu->interp) {
        x86_cpu_sync_state(cpu->interp);
    }
    return size;
}

/* ---- target descriptions ------------------------------------------------------------ */

#define XML_FP_TYPES \
    "<flags id=\"i386_eflags\" size=\"4\">" \
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>" \
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>" \
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>" \
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>" \
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>" \
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>" \
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>" \
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>" \
    "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>"

#define XML_SEGS \
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>" \
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>" \
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>" \
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>" \
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>" \
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"

#define XML_X87 \
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>" \
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>"

#define XML_VEC_TYPES \
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>" \
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>" \
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>" \
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>" \
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>" \
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>" \
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>" \
    "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>" \
    "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>" \
    "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>" \
    "</union>"

#define XMM(n) "<reg name=\"xmm" #n "\" bitsize=\"128\" type=\"vec128\"/>"

static const char xml_x86_64[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target><architecture>i386:x86-64</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">" XML_FP_TYPES
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
    XML_SEGS XML_X87
    "</feature><feature name=\"org.gnu.gdb.i386.sse\">" XML_VEC_TYPES
    XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7)
    XMM(8) XMM(9) XMM(10) XMM(11) XMM(12) XMM(13) XMM(14) XMM(15)
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
    "</feature><feature name=\"org.gnu.gdb.i386.segments\">"
    "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>"
    "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>"
    "</feature><feature name=\"org.kite.x86.sys\">"
    "<reg name=\"k_gs_base\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr0\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr2\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr3\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr4\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "<reg name=\"efer\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "</feature></target>";

static const char xml_i386[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target><architecture>i386</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">" XML_FP_TYPES
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
    XML_SEGS XML_X87
    "</feature><feature name=\"org.gnu.gdb.i386.sse\">" XML_VEC_TYPES
    XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7)
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
    "</feature><feature name=\"org.kite.x86.sys\">"
    "<reg name=\"cr0\" bitsize=\"32\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr2\" bitsize=\"32\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr3\" bitsize=\"32\" type=\"int\" group=\"system\"/>"
    "<reg name=\"cr4\" bitsize=\"32\" type=\"int\" group=\"system\"/>"
    "<reg name=\"efer\" bitsize=\"64\" type=\"int\" group=\"system\"/>"
    "</feature></target>";

static const char *x86_gdb_target_xml(CPUState *cs)
{
    return has_long_mode(X86_VCPU(cs)) ? xml_x86_64 : xml_i386;
}

void x86_gdb_class_init(CPUClass *cc)
{
    cc->get_phys_page_debug = x86_get_phys_page_debug;
    cc->gdb_target_xml = x86_gdb_target_xml;
    cc->gdb_read_register = x86_gdb_read_register;
    cc->gdb_write_register = x86_gdb_write_register;
}
