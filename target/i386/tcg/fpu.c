/*
 * x86 interpreter: the x87 FPU (SDM vol. 1, chapter 8; instructions in vol. 2), the
 * FXSAVE/FXRSTOR image (vol. 1, 10.5.1), LDMXCSR/STMXCSR and the host floating-point
 * environment around x86_cpu_exec().
 *
 * Registers are kept in the 80-bit memory format (X86FPReg), which is the x86-64
 * host's long double.  Arithmetic runs on the host x87 unit with the guest's
 * precision and rounding control loaded into the host control word (all exceptions
 * masked there); the host status word after each operation gives the guest's
 * exception flags and C0-C3.  Transcendental and special instructions (FSIN, FPATAN,
 * FPREM, FXTRACT, FSCALE...) execute as the same host instruction, so their results
 * and range behaviour are the hardware's.  Unmasked exceptions set ES and are
 * reported as #MF by the next waiting instruction (CR0.NE = 1; FERR# with NE = 0 is
 * not wired to an IRQ and only logged).
 *
 * Not emulated: FISTTP (SSE3, not advertised), the data pointer of FLDENV/FRSTOR in
 * real-mode formats beyond what Linux uses, denormal-operand (DE) reporting for
 * memory operands converted by the host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/tcg/internal.h"
#include "target/i386/tcg/flags.h"
#include "target/i386/tcg/mem.h"
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/ops.h"
#include "target/i386/tcg/sse.h"
#include "target/i386/tcg/sys.h"
#include <math.h>

#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000
#define FSW_B  0x8000
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_EXC 0x003f

#define MXCSR_MASK 0xffff         /* FXSAVE's MXCSR_MASK: DAZ supported */

/* ---- host environment --------------------------------------------------------------- */

static inline uint16_t host_fnstsw(void)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=am"(sw));
    return sw;
}

static inline void host_fnclex(void)
{
    __asm__ volatile("fnclex");
}

static inline void host_fldcw(uint16_t cw)
{
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

static inline uint16_t host_fnstcw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

/* The guest's PC and RC on the host, every exception masked. */
static void fcw_changed(X86CPU *cpu)
{
    host_fldcw((cpu->env.fpuc & 0x0f00) | 0x3f);
}

void x86_mxcsr_changed(X86CPU *cpu)
{
    uint32_t m = cpu->env.mxcsr;

    cpu->mxcsr_unmasked = (m & 0x1f80) != 0x1f80;
    _mm_setcsr((m & ~0x3fu) | 0x1f80);
}

void x86_mxcsr_sync(X86CPU *cpu)
{
    cpu->env.mxcsr |= _mm_getcsr() & 0x3f;
}

void x86_fpu_host_enter(X86CPU *cpu)
{
    cpu->host_fcw = host_fnstcw();
    cpu->host_mxcsr = _mm_getcsr();
    host_fnclex();
    fcw_changed(cpu);
    x86_mxcsr_changed(cpu);
}

void x86_fpu_host_leave(X86CPU *cpu)
{
    x86_mxcsr_sync(cpu);
    _mm_setcsr(cpu->host_mxcsr);
    host_fnclex();
    host_fldcw(cpu->host_fcw);
}

void x86_sse_exc_check(X86CPU *cpu, const KiteOp *op, uint32_t saved)
{
    CPUX86State *env = &cpu->env;
    uint32_t flags = _mm_getcsr() & 0x3f;
    uint32_t unmasked = flags & ~(env->mxcsr >> 7) & 0x3f;

    _mm_setcsr(saved | flags);
    if (unmasked) {
        env->mxcsr |= flags;
        /* SIMD FP exception: #XM, or #UD if the OS did not enable it (11.5.1). */
        x86_raise(cpu, op, (env->cr[4] & X86_CR4_OSXMMEXCPT) ? EXCP_XM : EXCP_UD, 0);
    }
}

/* LDMXCSR m32 / STMXCSR m32 (0F AE /2, /3). */
void x86_op_ldmxcsr(X86CPU *cpu, const KiteOp *op)
{
    uint32_t v;

    SSE_CHECK(cpu, op);
    v = x86_ld32(cpu, op, x86_op_la(cpu, op, 4, false));
    if (v & ~(uint32_t)MXCSR_MASK) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    cpu->env.mxcsr = v;
    x86_mxcsr_changed(cpu);
    NEXT(cpu, op);
}

void x86_op_stmxcsr(X86CPU *cpu, const KiteOp *op)
{
    SSE_CHECK(cpu, op);
    x86_mxcsr_sync(cpu);
    x86_st32(cpu, op, x86_op_la(cpu, op, 4, true), cpu->env.mxcsr);
    NEXT_W(cpu, op);
}

/* ---- registers and the stack ------------------------------------------------------ */

static inline int phys(const CPUX86State *env, int i)
{
    return (env->fpstt + i) & 7;
}

static inline long double ld_get(const X86FPReg *r)
{
    long double v = 0;
    memcpy(&v, r, 10);
    return v;
}

static inline void ld_put(X86FPReg *r, long double v)
{
    memcpy(r, &v, 10);
    r->pad[0] = r->pad[1] = r->pad[2] = 0;
}

static inline bool st_empty(const CPUX86State *env, int i)
{
    return !(env->fptag_valid & (1u << phys(env, i)));
}

static inline long double st_get(const CPUX86State *env, int i)
{
    return ld_get(&env->fpregs[phys(env, i)]);
}

static inline void st_set(CPUX86State *env, int i, long double v)
{
    int p = phys(env, i);
    ld_put(&env->fpregs[p], v);
    env->fptag_valid |= 1u << p;
}

static inline void st_pop(CPUX86State *env)
{
    env->fptag_valid &= ~(1u << env->fpstt);
    env->fpstt = (env->fpstt + 1) & 7;
}

/* The real indefinite: negative QNaN with mantissa 0xc000... (8.2.1). */
static long double indefinite(void)
{
    X86FPReg r = { .mant = 0xc000000000000000ULL, .sign_exp = 0xffff };
    return ld_get(&r);
}

/* Record exception flags; unmasked ones set ES/B for a later #MF (8.6). */
static void fp_flags(X86CPU *cpu, uint16_t flags)
{
    CPUX86State *env = &cpu->env;

    env->fpus |= flags & (FSW_EXC | FSW_SF);
    if (flags & FSW_EXC & ~env->fpuc) {
        env->fpus |= FSW_ES | FSW_B;
    }
}

static bool ie_unmasked(const CPUX86State *env)
{
    return !(env->fpuc & FSW_IE);
}

/*
 * Stack underflow check for reading ST(i): on an empty register flag IE+SF (C1 = 0)
 * and return false if the instruction must not complete (IE unmasked); with IE
 * masked the caller continues and the NaN it reads yields the indefinite.
 */
static bool check_src(X86CPU *cpu, int i, long double *v)
{
    CPUX86State *env = &cpu->env;

    if (!st_empty(env, i)) {
        *v = st_get(env, i);
        return true;
    }
    env->fpus &= ~FSW_C1;
    fp_flags(cpu, FSW_IE | FSW_SF);
    *v = indefinite();
    return !ie_unmasked(env);
}

/* Push v; overflow (ST(7) in use) flags IE+SF with C1 = 1 and pushes the indefinite. */
static void fpush(X86CPU *cpu, long double v)
{
    CPUX86State *env = &cpu->env;
    int top = (env->fpstt - 1) & 7;

    if (env->fptag_valid & (1u << top)) {
        env->fpus |= FSW_C1;
        fp_flags(cpu, FSW_IE | FSW_SF);
        if (ie_unmasked(env)) {
            return;
        }
        v = indefinite();
    }
    env->fpstt = top;
    st_set(env, 0, v);
    env->fpus &= ~FSW_C1;
}

/* ---- host computation ------------------------------------------------------------- */

/* Order x87 computations between FNCLEX and FNSTSW: the empty asm pins the value. */
#define PIN(v) __asm__ volatile("" : "+t"(v))

static void host_flags(X86CPU *cpu)
{
    uint16_t sw = host_fnstsw();
    CPUX86State *env = &cpu->env;

    /* C1 reports "rounded up" on inexact results (8.1.3.3). */
    env->fpus = (env->fpus & ~FSW_C1) | (sw & FSW_C1);
    fp_flags(cpu, sw & FSW_EXC);
}

/* k: 0 ADD, 1 MUL, 4 x - y, 5 y - x, 6 x / y, 7 y / x. */
static long double arith(X86CPU *cpu, int k, long double x, long double y)
{
    long double r;

    host_fnclex();
    PIN(x);
    PIN(y);
    switch (k) {
    case 0: r = x + y; break;
    case 1: r = x * y; break;
    case 4: r = x - y; break;
    case 5: r = y - x; break;
    case 6: r = x / y; break;
    default: r = y / x; break;
    }
    PIN(r);
    host_flags(cpu);
    return r;
}

static inline bool is_nan80(long double v)
{
    return v != v;
}

static inline bool is_snan80(long double v)
{
    X86FPReg r;
    memcpy(&r, &v, 10);
    return (r.sign_exp & 0x7fff) == 0x7fff && (r.mant << 1) != 0 && !(r.mant & (1ULL << 62));
}

/* FCOM/FUCOM family: C3 C2 C0 = 000 (>), 001 (<), 100 (=), 111 (unordered). */
static void compare(X86CPU *cpu, long double a, long double b, bool quiet)
{
    CPUX86State *env = &cpu->env;
    uint16_t cc;

    if (is_nan80(a) || is_nan80(b)) {
        cc = FSW_C3 | FSW_C2 | FSW_C0;
        if (!quiet || is_snan80(a) || is_snan80(b)) {
            fp_flags(cpu, FSW_IE);
        }
    } else if (a > b) {
        cc = 0;
    } else if (a < b) {
        cc = FSW_C0;
    } else {
        cc = FSW_C3;
    }
    env->fpus = (env->fpus & ~FSW_CC) | cc;
}

/* FCOMI/FUCOMI: ZF PF CF as C3 C2 C0, OF SF AF cleared. */
static void compare_eflags(X86CPU *cpu, long double a, long double b, bool quiet)
{
    CPUX86State *env = &cpu->env;
    uint32_t f;

    if (is_nan80(a) || is_nan80(b)) {
        f = X86_EFLAGS_ZF | X86_EFLAGS_PF | X86_EFLAGS_CF;
        if (!quiet || is_snan80(a) || is_snan80(b)) {
            fp_flags(cpu, FSW_IE);
        }
    } else if (a > b) {
        f = 0;
    } else if (a < b) {
        f = X86_EFLAGS_CF;
    } else {
        f = X86_EFLAGS_ZF;
    }
    env->fpus &= ~FSW_C1;
    x86_cc_load(env, f);
}

/* ---- memory formats ----------------------------------------------------------------- */

static long double load_m32fp(X86CPU *cpu, const KiteOp *op, uint64_t la)
{
    uint32_t bits = x86_ld32(cpu, op, la);
    float f;
    long double r;

    memcpy(&f, &bits, 4);
    host_fnclex();
    __asm__ volatile("" : "+m"(f));     /* convert after FNCLEX, not before */
    r = f;
    PIN(r);
    host_flags(cpu);           /* an SNaN operand raises IE */
    return r;
}

static long double load_m64fp(X86CPU *cpu, const KiteOp *op, uint64_t la)
{
    uint64_t bits = x86_ld64(cpu, op, la);
    double d;
    long double r;

    memcpy(&d, &bits, 8);
    host_fnclex();
    __asm__ volatile("" : "+m"(d));
    r = d;
    PIN(r);
    host_flags(cpu);
    return r;
}

static long double load_m80(X86CPU *cpu, const KiteOp *op, uint64_t la)
{
    X86FPReg r;

    r.mant = x86_ld64(cpu, op, la);
    r.sign_exp = x86_ld16(cpu, op, (la + 8) & cpu->la_mask);
    return ld_get(&r);
}

static void store_m80(X86CPU *cpu, const KiteOp *op, uint64_t la, long double v)
{
    X86FPReg r;

    ld_put(&r, v);
    cpu->env.fpus &= ~FSW_C1;          /* exact: C1 = 0 (vol. 2A, FST) */
    x86_probe_write(cpu, op, la, 10, X86_ACC_WRITE);
    x86_st64(cpu, op, la, r.mant);
    x86_st16(cpu, op, (la + 8) & cpu->la_mask, r.sign_exp);
}

/* FST/FSTP to m32fp or m64fp: rounding and exceptions by the host. */
static bool store_fp(X86CPU *cpu, const KiteOp *op, uint64_t la, long double v, int size)
{
    uint64_t bits = 0;
    uint16_t sw;

    host_fnclex();
    PIN(v);
    if (size == 4) {
        volatile float f = v;
        float ff = f;
        memcpy(&bits, &ff, 4);
    } else {
        volatile double d = v;
        double dd = d;
        memcpy(&bits, &dd, 8);
    }
    sw = host_fnstsw();
    cpu->env.fpus = (cpu->env.fpus & ~FSW_C1) | (sw & FSW_C1);
    fp_flags(cpu, sw & FSW_EXC);
    if ((sw & (FSW_IE | FSW_OE | FSW_UE)) & ~cpu->env.fpuc) {
        return false;          /* unmasked: memory is not written (8.5) */
    }
    x86_stn(cpu, op, la, size, bits);
    return true;
}

/* FIST/FISTP m16/m32/m64: the host rounds per RC; out of range gives the indefinite. */
static bool store_int(X86CPU *cpu, const KiteOp *op, uint64_t la, long double v, int size)
{
    int64_t r64;
    int32_t r32;
    int16_t r16;
    uint16_t sw;

    host_fnclex();
    switch (size) {
    case 2: __asm__ volatile("fistps %0" : "=m"(r16) : "t"(v) : "st"); break;
    case 4: __asm__ volatile("fistpl %0" : "=m"(r32) : "t"(v) : "st"); break;
    default: __asm__ volatile("fistpll %0" : "=m"(r64) : "t"(v) : "st"); break;
    }
    sw = host_fnstsw();
    fp_flags(cpu, sw & FSW_EXC);
    if ((sw & FSW_IE) && ie_unmasked(&cpu->env)) {
        return false;
    }
    x86_stn(cpu, op, la, size, size == 2 ? (uint16_t)r16 : size == 4 ? (uint32_t)r32
                                                                    : (uint64_t)r64);
    return true;
}

/* FBLD m80bcd: 18 packed BCD digits and a sign byte. */
static long double load_bcd(X86CPU *cpu, const KiteOp *op, uint64_t la)
{
    uint64_t lo = x86_ld64(cpu, op, la);
    uint16_t hi = x86_ld16(cpu, op, (la + 8) & cpu->la_mask);
    int64_t n = ((hi >> 4) & 0xf) * 10 + (hi & 0xf);
    long double v;

    /* Accumulate exactly in an integer: the load ignores precision control. */
    for (int i = 7; i >= 0; i--) {
        uint8_t b = lo >> (8 * i);
        n = n * 100 + ((b >> 4) & 0xf) * 10 + (b & 0xf);
    }
    v = n;
    return (hi & 0x8000) ? -v : v;
}

/* FBSTP m80bcd: round per RC, then pack; out of range stores the BCD indefinite. */
static bool store_bcd(X86CPU *cpu, const KiteOp *op, uint64_t la, long double v)
{
    uint64_t lo = 0;
    uint16_t hi;
    long double r;
    bool neg;

    host_fnclex();
    r = v;
    __asm__ volatile("frndint" : "+t"(r));
    host_flags(cpu);
    neg = signbit(r);
    if (neg) {
        r = -r;
    }
    if (is_nan80(v) || r >= 1e18L) {
        fp_flags(cpu, FSW_IE);
        if (ie_unmasked(&cpu->env)) {
            return false;
        }
        lo = 0xc000000000000000ULL;
        hi = 0xffff;
    } else {
        uint64_t n = (uint64_t)r;
        for (int i = 0; i < 16; i++) {
            lo |= (uint64_t)(n % 10) << (4 * i);
            n /= 10;
        }
        hi = (n % 10) | ((n / 10 % 10) << 4) | (neg ? 0x8000 : 0);
    }
    x86_probe_write(cpu, op, la, 10, X86_ACC_WRITE);
    x86_st64(cpu, op, la, lo);
    x86_st16(cpu, op, (la + 8) & cpu->la_mask, hi);
    return true;
}

/* ---- environment images (FNSTENV/FLDENV/FNSAVE/FRSTOR: 8.1.10, figures 8-9..8-12) ---- */

static void fpu_init(X86CPU *cpu)
{
    CPUX86State *env = &cpu->env;

    env->fpuc = 0x37f;
    env->fpus = 0;
    env->fpstt = 0;
    env->fptag_valid = 0;
    env->fpip = env->fpdp = 0;
    env->fpcs = env->fpds = 0;
    env->fpop = 0;
    fcw_changed(cpu);
}

/* Set the full tag word: only empty (11) versus non-empty matters for us. */
static void set_ftw(CPUX86State *env, uint16_t ftw)
{
    env->fptag_valid = 0;
    for (int i = 0; i < 8; i++) {
        if (((ftw >> (2 * i)) & 3) != 3) {
            env->fptag_valid |= 1u << i;
        }
    }
}

static void set_fsw(CPUX86State *env, uint16_t fsw)
{
    env->fpstt = (fsw >> 11) & 7;
    env->fpus = fsw & ~0x3800;
}

/* osize 2: 32-bit format (28 bytes), else 16-bit (14 bytes); returns the size. */
static unsigned store_env(X86CPU *cpu, const KiteOp *op, uint64_t la, bool is32)
{
    CPUX86State *env = &cpu->env;
    uint64_t vals[7] = { env->fpuc, x86_cpu_get_fsw(env), x86_cpu_get_ftw(env),
                         env->fpip, env->fpcs | ((uint64_t)(env->fpop & 0x7ff) << 16),
                         env->fpdp, env->fpds };
    unsigned w = is32 ? 4 : 2;

    x86_probe_write(cpu, op, la, 7 * w, X86_ACC_WRITE);
    for (int i = 0; i < 7; i++) {
        x86_stn(cpu, op, (la + i * w) & cpu->la_mask, w, vals[i]);
    }
    return 7 * w;
}

static unsigned load_env(X86CPU *cpu, const KiteOp *op, uint64_t la, bool is32)
{
    CPUX86State *env = &cpu->env;
    unsigned w = is32 ? 4 : 2;
    uint64_t v[7];

    for (int i = 0; i < 7; i++) {
        v[i] = x86_ldn(cpu, op, (la + i * w) & cpu->la_mask, w);
    }
    env->fpuc = v[0];
    set_fsw(env, v[1]);
    set_ftw(env, v[2]);
    env->fpip = v[3];
    env->fpcs = v[4] & 0xffff;
    env->fpop = (v[4] >> 16) & 0x7ff;
    env->fpdp = v[5];
    env->fpds = v[6];
    fcw_changed(cpu);
    return 7 * w;
}

/* ---- FXSAVE / FXRSTOR ------------------------------------------------------------ */

/* FXSAVE m512 (0F AE /0): b1 = REX.W (64-bit FIP/FDP format). */
void x86_op_fxsave(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, 512, true);
    int nxmm = (env->hflags & X86_HF_CS64) ? 16 : 8;

    if (unlikely(cpu->x87_fault)) {
        x86_fp_unavailable(cpu, op, cpu->x87_fault);
    }
    if (la & 15) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    x86_probe_write(cpu, op, la, 512, X86_ACC_WRITE);
    x86_mxcsr_sync(cpu);
    x86_st16(cpu, op, la, env->fpuc);
    x86_st16(cpu, op, la + 2, x86_cpu_get_fsw(env));
    x86_st8(cpu, op, la + 4, env->fptag_valid);
    x86_st8(cpu, op, la + 5, 0);
    x86_st16(cpu, op, la + 6, env->fpop);
    if (op->b1) {
        x86_st64(cpu, op, la + 8, env->fpip);
        x86_st64(cpu, op, la + 16, env->fpdp);
    } else {
        x86_st32(cpu, op, la + 8, env->fpip);
        x86_st32(cpu, op, la + 12, env->fpcs);
        x86_st32(cpu, op, la + 16, env->fpdp);
        x86_st32(cpu, op, la + 20, env->fpds);
    }
    x86_st32(cpu, op, la + 24, env->mxcsr);
    x86_st32(cpu, op, la + 28, MXCSR_MASK);
    for (int i = 0; i < 8; i++) {
        const X86FPReg *r = &env->fpregs[phys(env, i)];
        x86_st64(cpu, op, la + 32 + 16 * i, r->mant);
        x86_st64(cpu, op, la + 40 + 16 * i, r->sign_exp);
    }
    for (int i = 0; i < nxmm; i++) {
        x86_st64(cpu, op, la + 160 + 16 * i, env->xmm[i].q[0]);
        x86_st64(cpu, op, la + 168 + 16 * i, env->xmm[i].q[1]);
    }
    NEXT_W(cpu, op);
}

/* FXRSTOR m512 (0F AE /1): reserved MXCSR bits fault (#GP). Ends the trace. */
void x86_op_fxrstor(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, 512, false);
    int nxmm = (env->hflags & X86_HF_CS64) ? 16 : 8;
    uint32_t mxcsr;

    if (unlikely(cpu->x87_fault)) {
        x86_fp_unavailable(cpu, op, cpu->x87_fault);
    }
    if (la & 15) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    mxcsr = x86_ld32(cpu, op, la + 24);
    if (mxcsr & ~(uint32_t)MXCSR_MASK) {
        x86_raise(cpu, op, EXCP_GP, 0);
    }
    /* Touch the last byte first so a #PF cannot leave the state half loaded. */
    x86_ld8(cpu, op, la + 511);
    env->fpuc = x86_ld16(cpu, op, la);
    set_fsw(env, x86_ld16(cpu, op, la + 2));
    env->fptag_valid = x86_ld8(cpu, op, la + 4);
    env->fpop = x86_ld16(cpu, op, la + 6) & 0x7ff;
    if (op->b1) {
        env->fpip = x86_ld64(cpu, op, la + 8);
        env->fpdp = x86_ld64(cpu, op, la + 16);
    } else {
        env->fpip = x86_ld32(cpu, op, la + 8);
        env->fpcs = x86_ld16(cpu, op, la + 12);
        env->fpdp = x86_ld32(cpu, op, la + 16);
        env->fpds = x86_ld16(cpu, op, la + 20);
    }
    for (int i = 0; i < 8; i++) {
        X86FPReg *r = &env->fpregs[phys(env, i)];
        r->mant = x86_ld64(cpu, op, la + 32 + 16 * i);
        r->sign_exp = x86_ld16(cpu, op, la + 40 + 16 * i);
    }
    for (int i = 0; i < nxmm; i++) {
        env->xmm[i].q[0] = x86_ld64(cpu, op, la + 160 + 16 * i);
        env->xmm[i].q[1] = x86_ld64(cpu, op, la + 168 + 16 * i);
    }
    env->mxcsr = mxcsr;
    x86_mxcsr_changed(cpu);
    fcw_changed(cpu);
    env->rip += op->next_off;
}

/* ---- FWAIT and the pending-exception check --------------------------------------------- */

static void pending_mf(X86CPU *cpu, const KiteOp *op)
{
    if (unlikely(cpu->env.fpus & FSW_ES)) {
        if (cpu->env.cr[0] & X86_CR0_NE) {
            x86_raise(cpu, op, EXCP_MF, 0);
        }
        kite_log_mask(LOG_UNIMP, "x86: x87 exception with CR0.NE = 0 (FERR#) ignored\n");
    }
}

/* FWAIT (9B): #NM with CR0.TS and MP, then any pending x87 exception. */
void x86_op_fwait(X86CPU *cpu, const KiteOp *op)
{
    uint64_t cr0 = cpu->env.cr[0];

    if ((cr0 & X86_CR0_TS) && (cr0 & X86_CR0_MP)) {
        x86_raise(cpu, op, EXCP_NM, 0);
    }
    pending_mf(cpu, op);
    NEXT(cpu, op);
}

/* ---- the x87 instruction handler ---------------------------------------------------- */

/* Constants pushed by D9 E8-EE, computed by the host so RC applies (8.3.9). */
static long double fld_const(int n)
{
    long double v;

    switch (n) {
    case 0: __asm__ volatile("fld1" : "=t"(v)); break;
    case 1: __asm__ volatile("fldl2t" : "=t"(v)); break;
    case 2: __asm__ volatile("fldl2e" : "=t"(v)); break;
    case 3: __asm__ volatile("fldpi" : "=t"(v)); break;
    case 4: __asm__ volatile("fldlg2" : "=t"(v)); break;
    case 5: __asm__ volatile("fldln2" : "=t"(v)); break;
    default: __asm__ volatile("fldz" : "=t"(v)); break;
    }
    return v;
}

/* FXAM classes in C3 C2 C0 (vol. 2A, FXAM). */
static uint16_t fxam(const CPUX86State *env)
{
    X86FPReg r = env->fpregs[phys(env, 0)];
    uint16_t e = r.sign_exp & 0x7fff, c1 = (r.sign_exp & 0x8000) ? FSW_C1 : 0;

    if (st_empty(env, 0)) {
        return FSW_C3 | FSW_C0 | c1;                        /* empty */
    }
    if (e == 0x7fff) {
        if (!(r.mant >> 63)) {
            return c1;                                      /* unsupported */
        }
        return ((r.mant << 1) ? FSW_C0 : FSW_C2 | FSW_C0) | c1;   /* NaN / infinity */
    }
    if (e == 0) {
        return (r.mant ? FSW_C3 | FSW_C2 : FSW_C3) | c1;    /* denormal / zero */
    }
    return ((r.mant >> 63) ? FSW_C2 : 0) | c1;              /* normal / unsupported */
}

/* D9 F0-FF: the transcendental and special instructions, on the host. */
static void d9_special(X86CPU *cpu, const KiteOp *op, int n)
{
    CPUX86State *env = &cpu->env;
    long double a, b, r, r2;
    uint16_t sw;

    if (!check_src(cpu, 0, &a)) {
        return;
    }
    b = 0;
    if ((n == 1 || n == 3 || n == 5 || n == 8 || n == 9 || n == 0xd) &&
        !check_src(cpu, 1, &b)) {
        return;
    }
    if ((n == 0x2 || n == 0xb) && !(fabsl(a) < 0x1p63L)) {
        /* Out of range: C2 = 1, nothing changes; infinities are invalid (IE) and
         * NaNs propagate.  Handled here because the host would not push. */
        if (isinf(a) || is_snan80(a)) {
            fp_flags(cpu, FSW_IE);
            if (ie_unmasked(env)) {
                return;
            }
            a = indefinite();
        }
        if (is_nan80(a)) {
            st_set(env, 0, a);
            fpush(cpu, a);
            env->fpus &= ~FSW_C2;
        } else {
            env->fpus |= FSW_C2;
        }
        return;
    }
    host_fnclex();
    switch (n) {
    case 0x0: __asm__ volatile("f2xm1" : "+t"(a)); st_set(env, 0, a); break;
    case 0x1: __asm__ volatile("fyl2x" : "=t"(r) : "0"(a), "u"(b) : "st(1)");
              st_pop(env); st_set(env, 0, r); break;
    case 0x2: __asm__ volatile("fptan" : "=t"(r), "=u"(r2) : "0"(a));
              sw = host_fnstsw();
              if (!(sw & FSW_C2)) {
                  st_set(env, 0, r2);
                  fpush(cpu, r);
              }
              break;
    case 0x3: __asm__ volatile("fpatan" : "=t"(r) : "0"(a), "u"(b) : "st(1)");
              st_pop(env); st_set(env, 0, r); break;
    case 0x4: __asm__ volatile("fxtract" : "=t"(r), "=u"(r2) : "0"(a));
              st_set(env, 0, r2); fpush(cpu, r); break;
    case 0x5: __asm__ volatile("fprem1" : "+t"(a) : "u"(b)); st_set(env, 0, a); break;
    case 0x8: __asm__ volatile("fprem" : "+t"(a) : "u"(b)); st_set(env, 0, a); break;
    case 0x9: __asm__ volatile("fyl2xp1" : "=t"(r) : "0"(a), "u"(b) : "st(1)");
              st_pop(env); st_set(env, 0, r); break;
    case 0xa: __asm__ volatile("fsqrt" : "+t"(a)); st_set(env, 0, a); break;
    case 0xb: __asm__ volatile("fsincos" : "=t"(r), "=u"(r2) : "0"(a));
              sw = host_fnstsw();
              if (!(sw & FSW_C2)) {
                  st_set(env, 0, r2);
                  fpush(cpu, r);
              }
              break;
    case 0xc: __asm__ volatile("frndint" : "+t"(a)); st_set(env, 0, a); break;
    case 0xd: __asm__ volatile("fscale" : "+t"(a) : "u"(b)); st_set(env, 0, a); break;
    case 0xe: __asm__ volatile("fsin" : "+t"(a)); st_set(env, 0, a); break;
    default: __asm__ volatile("fcos" : "+t"(a)); st_set(env, 0, a); break;
    }
    sw = host_fnstsw();
    /* C2 (incomplete reduction / out of range) and FPREM's C0 C3 C1 quotient bits. */
    env->fpus = (env->fpus & ~FSW_CC) | (sw & FSW_CC);
    fp_flags(cpu, sw & FSW_EXC);
    (void)op;
}

/* Conditions of FCMOVcc: DA C0-DF (B, E, BE, U), DB C0-DF (NB, NE, NBE, NU). */
static bool fcmov_cond(const CPUX86State *env, int k)
{
    switch (k & 3) {
    case 0: return cc_cf(env);
    case 1: return cc_zf(env);
    case 2: return cc_cf(env) || cc_zf(env);
    default: return cc_pf(env);
    }
}

/* Remember the last non-control instruction (FIP, FCS, FOP, FDP, FDS: 8.1.8). */
static void note_insn(X86CPU *cpu, const KiteOp *op, uint64_t la_ea)
{
    CPUX86State *env = &cpu->env;

    env->fpip = x86_cur_rip(cpu, op);
    env->fpcs = env->segs[R_CS].selector;
    env->fpop = ((op->b1 & 7) << 8) | op->b2;
    if (op->b1 & 8) {
        env->fpdp = la_ea;
        env->fpds = env->segs[op->seg].selector;
    }
}

/*
 * One handler for D8-DF: b1 = opcode & 7 | 8 if the operand is memory, b2 = ModRM.
 * Control instructions that do not wait (FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV,
 * FNSAVE) skip the pending-exception check.
 */
void x86_op_x87(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    int opc = op->b1 & 7, modrm = op->b2, reg = (modrm >> 3) & 7, i = modrm & 7;
    bool mem = op->b1 & 8;
    uint64_t ea = 0;
    long double a, b;

    if (unlikely(cpu->x87_fault)) {
        x86_fp_unavailable(cpu, op, cpu->x87_fault);
    }
    if (mem) {
        ea = x86_ea(cpu, op);
    }
    /* Non-waiting control forms first. */
    if (opc == 3 && modrm == 0xe2) {                    /* FNCLEX */
        env->fpus &= ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
        NEXT(cpu, op);
    }
    if (opc == 3 && modrm == 0xe3) {                    /* FNINIT */
        fpu_init(cpu);
        NEXT(cpu, op);
    }
    if (opc == 7 && modrm == 0xe0) {                    /* FNSTSW AX */
        REG16(env, R_EAX) = x86_cpu_get_fsw(env);
        NEXT(cpu, op);
    }
    if (mem && opc == 5 && reg == 7) {                  /* FNSTSW m16 */
        x86_st16(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 2, true), x86_cpu_get_fsw(env));
        NEXT_W(cpu, op);
    }
    if (mem && opc == 1 && reg == 7) {                  /* FNSTCW m16 */
        x86_st16(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 2, true), env->fpuc);
        NEXT_W(cpu, op);
    }
    if (mem && opc == 1 && reg == 6) {                  /* FNSTENV */
        store_env(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 28, true),
                  op->imm != 1);
        env->fpuc |= 0x3f;
        fcw_changed(cpu);
        NEXT_W(cpu, op);
    }
    if (mem && opc == 5 && reg == 6) {                  /* FNSAVE */
        uint64_t l = x86_seg_la(cpu, op, op->seg, ea, 108, true);
        unsigned n = store_env(cpu, op, l, op->imm != 1);
        for (int k = 0; k < 8; k++) {
            store_m80(cpu, op, (l + n + 10 * k) & cpu->la_mask, st_get(env, k));
        }
        fpu_init(cpu);
        NEXT_W(cpu, op);
    }
    pending_mf(cpu, op);

    if (mem) {
        switch (opc) {
        case 0: case 2: case 4: case 6: {               /* arithmetic with memory */
            uint64_t l;
            switch (opc) {
            case 0:
                b = load_m32fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 4, false));
                break;
            case 4:
                b = load_m64fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 8, false));
                break;
            case 2:
                l = x86_seg_la(cpu, op, op->seg, ea, 4, false);
                b = (int32_t)x86_ld32(cpu, op, l);
                break;
            default:
                l = x86_seg_la(cpu, op, op->seg, ea, 2, false);
                b = (int16_t)x86_ld16(cpu, op, l);
                break;
            }
            if (!check_src(cpu, 0, &a)) {
                break;
            }
            if (reg == 2 || reg == 3) {
                compare(cpu, a, b, false);
                if (reg == 3) {
                    st_pop(env);
                }
            } else {
                st_set(env, 0, arith(cpu, reg, a, b));
            }
            break;
        }
        case 1:
            switch (reg) {
            case 0:                                     /* FLD m32fp */
                fpush(cpu, load_m32fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 4, false)));
                break;
            case 2: case 3:                             /* FST/FSTP m32fp */
                if (check_src(cpu, 0, &a) &&
                    store_fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 4, true), a, 4) &&
                    reg == 3) {
                    st_pop(env);
                }
                break;
            case 4:                                     /* FLDENV */
                load_env(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 28, false),
                         op->imm != 1);
                break;
            case 5: {                                   /* FLDCW */
                uint16_t cw = x86_ld16(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 2, false));
                env->fpuc = cw | 0x40;
                fcw_changed(cpu);
                /* Unmasking a flagged exception makes it pending. */
                if (env->fpus & FSW_EXC & ~cw) {
                    env->fpus |= FSW_ES | FSW_B;
                } else {
                    env->fpus &= ~(FSW_ES | FSW_B);
                }
                NEXT(cpu, op);
            }
            default:
                x86_raise_ud(cpu, op);
            }
            break;
        case 3:
            switch (reg) {
            case 0:                                     /* FILD m32int */
                fpush(cpu, (int32_t)x86_ld32(cpu, op,
                                             x86_seg_la(cpu, op, op->seg, ea, 4, false)));
                break;
            case 2: case 3:                             /* FIST/FISTP m32int */
                if (check_src(cpu, 0, &a) &&
                    store_int(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 4, true), a, 4) &&
                    reg == 3) {
                    st_pop(env);
                }
                break;
            case 5:                                     /* FLD m80fp */
                fpush(cpu, load_m80(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 10, false)));
                break;
            case 7:                                     /* FSTP m80fp */
                if (check_src(cpu, 0, &a)) {
                    store_m80(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 10, true), a);
                    st_pop(env);
                }
                break;
            default:
                x86_raise_ud(cpu, op);
            }
            break;
        case 5:
            switch (reg) {
            case 0:                                     /* FLD m64fp */
                fpush(cpu, load_m64fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 8, false)));
                break;
            case 2: case 3:                             /* FST/FSTP m64fp */
                if (check_src(cpu, 0, &a) &&
                    store_fp(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 8, true), a, 8) &&
                    reg == 3) {
                    st_pop(env);
                }
                break;
            case 4: {                                   /* FRSTOR */
                uint64_t l = x86_seg_la(cpu, op, op->seg, ea, 108, false);
                unsigned n = op->imm != 1 ? 28 : 14;
                long double regs[8];
                for (int k = 0; k < 8; k++) {
                    regs[k] = load_m80(cpu, op, (l + n + 10 * k) & cpu->la_mask);
                }
                load_env(cpu, op, l, op->imm != 1);
                for (int k = 0; k < 8; k++) {
                    ld_put(&env->fpregs[phys(env, k)], regs[k]);
                }
                NEXT(cpu, op);
            }
            default:
                x86_raise_ud(cpu, op);
            }
            break;
        default:                                        /* DF */
            switch (reg) {
            case 0:                                     /* FILD m16int */
                fpush(cpu, (int16_t)x86_ld16(cpu, op,
                                             x86_seg_la(cpu, op, op->seg, ea, 2, false)));
                break;
            case 2: case 3:                             /* FIST/FISTP m16int */
                if (check_src(cpu, 0, &a) &&
                    store_int(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 2, true), a, 2) &&
                    reg == 3) {
                    st_pop(env);
                }
                break;
            case 4:                                     /* FBLD m80bcd */
                fpush(cpu, load_bcd(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 10, false)));
                break;
            case 5:                                     /* FILD m64int */
                fpush(cpu, (int64_t)x86_ld64(cpu, op,
                                             x86_seg_la(cpu, op, op->seg, ea, 8, false)));
                break;
            case 6:                                     /* FBSTP m80bcd */
                if (check_src(cpu, 0, &a) &&
                    store_bcd(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 10, true), a)) {
                    st_pop(env);
                }
                break;
            case 7:                                     /* FISTP m64int */
                if (check_src(cpu, 0, &a) &&
                    store_int(cpu, op, x86_seg_la(cpu, op, op->seg, ea, 8, true), a, 8)) {
                    st_pop(env);
                }
                break;
            default:
                x86_raise_ud(cpu, op);
            }
            break;
        }
        note_insn(cpu, op, ea);
        NEXT_W(cpu, op);
    }

    /* Register forms. */
    switch (opc) {
    case 0:                                             /* D8: ST0 op ST(i) */
        if (!check_src(cpu, 0, &a) || !check_src(cpu, i, &b)) {
            break;
        }
        if (reg == 2 || reg == 3) {
            compare(cpu, a, b, false);
            if (reg == 3) {
                st_pop(env);
            }
        } else {
            st_set(env, 0, arith(cpu, reg, a, b));
        }
        break;
    case 4:                                             /* DC: ST(i) op= ST0 */
    case 6:                                             /* DE: ... and pop */
        if (opc == 6 && reg == 3) {
            if (i != 1) {
                x86_raise_ud(cpu, op);
            }
            if (check_src(cpu, 0, &a) && check_src(cpu, 1, &b)) {    /* FCOMPP */
                compare(cpu, a, b, false);
                st_pop(env);
                st_pop(env);
            }
            break;
        }
        if (!check_src(cpu, 0, &a) || !check_src(cpu, i, &b)) {
            break;
        }
        if (reg == 2 || reg == 3) {                     /* FCOM2/FCOMP3 aliases */
            compare(cpu, a, b, false);
            if (reg == 3 || opc == 6) {
                st_pop(env);
            }
            break;
        }
        /* Destination ST(i): the reversed forms swap (SDM vol. 2A, FSUB/FSUBR). */
        {
            static const int swap[8] = { 0, 1, 2, 3, 5, 4, 7, 6 };
            st_set(env, i, arith(cpu, swap[reg], b, a));
        }
        if (opc == 6) {
            st_pop(env);
        }
        break;
    case 1:                                             /* D9 */
        switch (reg) {
        case 0:                                         /* FLD ST(i) */
            if (check_src(cpu, i, &a)) {
                fpush(cpu, a);
            }
            break;
        case 1:                                         /* FXCH */
        case 3: {                                       /* FSTP1 alias: as FSTP ST(i) */
            X86FPReg t;
            int p0 = phys(env, 0), pi = phys(env, i);
            if (reg == 3) {
                if (check_src(cpu, 0, &a)) {
                    st_set(env, i, a);
                    st_pop(env);
                }
                break;
            }
            if (st_empty(env, 0) || st_empty(env, i)) {
                env->fpus &= ~FSW_C1;
                fp_flags(cpu, FSW_IE | FSW_SF);
                if (ie_unmasked(env)) {
                    break;
                }
                /* Masked underflow: empty registers read as the indefinite. */
                if (st_empty(env, 0)) {
                    st_set(env, 0, indefinite());
                }
                if (st_empty(env, i)) {
                    st_set(env, i, indefinite());
                }
            }
            t = env->fpregs[p0];
            env->fpregs[p0] = env->fpregs[pi];
            env->fpregs[pi] = t;
            env->fpus &= ~FSW_C1;
            break;
        }
        case 2:                                         /* FNOP (D9 D0) */
            if (i != 0) {
                x86_raise_ud(cpu, op);
            }
            break;
        case 4:
            switch (i) {
            case 0:                                     /* FCHS */
                if (check_src(cpu, 0, &a)) {
                    X86FPReg *r = &env->fpregs[phys(env, 0)];
                    r->sign_exp ^= 0x8000;
                    env->fpus &= ~FSW_C1;
                }
                break;
            case 1:                                     /* FABS */
                if (check_src(cpu, 0, &a)) {
                    env->fpregs[phys(env, 0)].sign_exp &= 0x7fff;
                    env->fpus &= ~FSW_C1;
                }
                break;
            case 4:                                     /* FTST */
                if (check_src(cpu, 0, &a)) {
                    compare(cpu, a, 0.0L, false);
                }
                break;
            case 5:                                     /* FXAM */
                env->fpus = (env->fpus & ~FSW_CC) | fxam(env);
                break;
            default:
                x86_raise_ud(cpu, op);
            }
            break;
        case 5:                                         /* FLD1 ... FLDZ */
            if (i == 7) {
                x86_raise_ud(cpu, op);
            }
            fpush(cpu, fld_const(i));
            break;
        case 6:
            if (i == 6) {                               /* FDECSTP */
                env->fpstt = (env->fpstt - 1) & 7;
                env->fpus &= ~FSW_C1;
            } else if (i == 7) {                        /* FINCSTP */
                env->fpstt = (env->fpstt + 1) & 7;
                env->fpus &= ~FSW_C1;
            } else {
                d9_special(cpu, op, i);
            }
            break;
        default:
            d9_special(cpu, op, 8 + i);
            break;
        }
        break;
    case 2:                                             /* DA: FCMOVcc, FUCOMPP */
    case 3:                                             /* DB: FCMOVNcc, FUCOMI, FCOMI */
        if (opc == 2 && modrm == 0xe9) {                /* FUCOMPP */
            if (check_src(cpu, 0, &a) && check_src(cpu, 1, &b)) {
                compare(cpu, a, b, true);
                st_pop(env);
                st_pop(env);
            }
            break;
        }
        if (reg < 4) {
            bool c = fcmov_cond(env, reg);
            if (opc == 3) {
                c = !c;
            }
            if (check_src(cpu, 0, &a) && check_src(cpu, i, &b) && c) {
                st_set(env, 0, b);
            }
            break;
        }
        if (opc == 3 && (reg == 5 || reg == 6)) {       /* FUCOMI / FCOMI */
            if (check_src(cpu, 0, &a) && check_src(cpu, i, &b)) {
                compare_eflags(cpu, a, b, reg == 5);
            }
            break;
        }
        if (opc == 3 && reg == 4 && (i == 0 || i == 1 || i == 4)) {
            break;                                      /* FENI, FDISI, FSETPM: no-ops */
        }
        x86_raise_ud(cpu, op);
    case 5:                                             /* DD */
        switch (reg) {
        case 0:                                         /* FFREE ST(i) */
            env->fptag_valid &= ~(1u << phys(env, i));
            break;
        case 1:                                         /* FXCH4 alias */
            if (check_src(cpu, 0, &a) && check_src(cpu, i, &b)) {
                st_set(env, 0, b);
                st_set(env, i, a);
            }
            break;
        case 2: case 3:                                 /* FST/FSTP ST(i) */
            if (check_src(cpu, 0, &a)) {
                env->fpus &= ~FSW_C1;
                st_set(env, i, a);
                if (reg == 3) {
                    st_pop(env);
                }
            }
            break;
        case 4: case 5:                                 /* FUCOM/FUCOMP */
            if (check_src(cpu, 0, &a) && check_src(cpu, i, &b)) {
                compare(cpu, a, b, true);
                if (reg == 5) {
                    st_pop(env);
                }
            }
            break;
        default:
            x86_raise_ud(cpu, op);
        }
        break;
    default:                                            /* DF */
        if (reg == 5 || reg == 6) {                     /* FUCOMIP / FCOMIP */
            if (check_src(cpu, 0, &a) && check_src(cpu, i, &b)) {
                compare_eflags(cpu, a, b, reg == 5);
                st_pop(env);
            }
            break;
        }
        if (reg == 0) {                                 /* FFREEP */
            env->fptag_valid &= ~(1u << phys(env, i));
            st_pop(env);
            break;
        }
        if (reg == 1 || reg == 2 || reg == 3) {         /* FXCH7, FSTP8, FSTP9 aliases */
            if (check_src(cpu, 0, &a)) {
                st_set(env, i, a);
                if (reg != 1) {
                    st_pop(env);
                }
            }
            break;
        }
        x86_raise_ud(cpu, op);
    }
    note_insn(cpu, op, 0);
    NEXT(cpu, op);
}

/* ---- decoder ------------------------------------------------------------------------ */

bool x86_decode_x87(X86Dec *d, KiteOp *op)
{
    int opc = d->opc;

    dec_modrm(d, op);
    op->exec = x86_op_x87;
    op->b1 = (opc & 7) | (d->mem ? 8 : 0);
    op->b2 = (d->mod << 6) | ((d->reg & 7) << 3) | (d->rm & 7);
    op->imm = d->osize;                     /* FNSTENV/FNSAVE image format */
    return true;
}

/* CR0/CR4 bits that make x87/MMX/SSE instructions fault (SDM vol. 3A, 2.5, 13.1). */
void x86_update_fp_faults(X86CPU *cpu)
{
    uint64_t cr0 = cpu->env.cr[0], cr4 = cpu->env.cr[4];

    cpu->x87_fault = (cr0 & (X86_CR0_EM | X86_CR0_TS)) ? EXCP_NM : 0;
    cpu->mmx_fault = (cr0 & X86_CR0_EM) ? EXCP_UD : (cr0 & X86_CR0_TS) ? EXCP_NM : 0;
    cpu->sse_fault = ((cr0 & X86_CR0_EM) || !(cr4 & X86_CR4_OSFXSR)) ? EXCP_UD :
                     (cr0 & X86_CR0_TS) ? EXCP_NM : 0;
}
