/*
 * Integer op handlers for one operand size, included by ops-int.c with SZ defined
 * as 8, 16, 32 or 64.  Register forms and memory forms are separate handlers (the
 * decoder picks one), in the way of Bochs' ADD_GdEdR / ADD_GdEdM.
 *
 * Flag semantics: SDM vol. 2 for each instruction; undefined flags are left as the
 * lazy representation produces them (a differential tester must mask them).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#if SZ == 8
# define T uint8_t
# define ST int8_t
# define GETR(r) REG8(env, r)
# define SETR(r, v) (REG8(env, r) = (T)(v))
# define LD x86_ld8
# define STM x86_st8
#elif SZ == 16
# define T uint16_t
# define ST int16_t
# define GETR(r) REG16(env, r)
# define SETR(r, v) (REG16(env, r) = (T)(v))
# define LD x86_ld16
# define STM x86_st16
#elif SZ == 32
# define T uint32_t
# define ST int32_t
# define GETR(r) REG32(env, r)
# define SETR(r, v) (env->regs[r] = (T)(v))
# define LD x86_ld32
# define STM x86_st32
#else
# define T uint64_t
# define ST int64_t
# define GETR(r) (env->regs[r])
# define SETR(r, v) (env->regs[r] = (T)(v))
# define LD x86_ld64
# define STM x86_st64
#endif

#define NB (SZ / 8)
#define MSB(x) (((x) >> (SZ - 1)) & 1)
#define N2(a, b) a##b
#define N1(a, b) N2(a, b)
#define NAME(x) N1(x, SZ)

/*
 * Read-modify-write of a memory operand.  The slow path probes the write first, so
 * a fault on the store cannot come after flags or registers were changed.
 */
#define RMW_LOAD(la, a) \
    uint8_t *rmw_p = x86_tlb_w(cpu, la, NB); \
    T a; \
    if (likely(rmw_p)) { \
        memcpy(&a, rmw_p, NB); \
    } else { \
        x86_probe_write(cpu, op, la, NB, X86_ACC_WRITE); \
        a = x86_ld_slow(cpu, op, la, NB, X86_ACC_READ); \
    }
#define RMW_STORE(la, r) \
    do { \
        T rmw_v = (r); \
        if (likely(rmw_p)) { \
            memcpy(rmw_p, &rmw_v, NB); \
        } else { \
            x86_st_slow(cpu, op, la, NB, rmw_v, X86_ACC_WRITE); \
        } \
    } while (0)

/* ---- the eight ALU operations (+ TEST as 8) ------------------------------------ */

static inline T NAME(alu)(CPUX86State *env, int k, T a, T b)
{
    T r, c;

    switch (k) {
    case 0:     /* ADD */
        r = a + b;
        cc_set(env, (ST)r, cc_aux_from_vec((T)CC_ADD_VEC(a, b, r), SZ));
        break;
    case 1:     /* OR */
        r = a | b;
        cc_set_logic(env, (ST)r);
        break;
    case 2:     /* ADC */
        c = cc_cf(env);
        r = a + b + c;
        cc_set(env, (ST)r, cc_aux_from_vec((T)CC_ADD_VEC(a, b, r), SZ));
        break;
    case 3:     /* SBB */
        c = cc_cf(env);
        r = a - b - c;
        cc_set(env, (ST)r, cc_aux_from_vec((T)CC_SUB_VEC(a, b, r), SZ));
        break;
    case 4:     /* AND */
    case 8:     /* TEST */
        r = a & b;
        cc_set_logic(env, (ST)r);
        break;
    case 6:     /* XOR */
        r = a ^ b;
        cc_set_logic(env, (ST)r);
        break;
    default:    /* SUB, CMP */
        r = a - b;
        cc_set(env, (ST)r, cc_aux_from_vec((T)CC_SUB_VEC(a, b, r), SZ));
        break;
    }
    return r;
}

#define ALU_WRITES(k) ((k) != 7 && (k) != 8)

/*
 * fn with a fast path (x86_op_host_r/w in mem.h): HOSTFN gives p, the host address
 * of the SIZE-byte operand, BODY uses it, NEXTFN continues.  Anything else goes to
 * fn##_full, the complete handler, as a tail call.  (A fast-path store cannot hit
 * decoded code, whose pages are NOTDIRTY in the TLB, but NEXT_W stays for stores so
 * that a pending SMC stop is never skipped.)
 */
#define FAST_OP_SZ(fn, HOSTFN, SIZE, NEXTFN, BODY) \
static void NAME(fn)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    uint8_t *p = HOSTFN(cpu, op, SIZE); \
    if (unlikely(!p)) { \
        NAME(fn##_full)(cpu, op); \
        return; \
    } \
    BODY; \
    NEXTFN(cpu, op); \
}
#define FAST_OP(fn, HOSTFN, BODY) FAST_OP_SZ(fn, HOSTFN, NB, NEXT_W, BODY)
#define FAST_LOAD(fn, BODY) FAST_OP_SZ(fn, x86_op_host_r, NB, NEXT, BODY)
#define FULL_OP static __attribute__((noinline))

#define DEF_ALU(k, name) \
static void NAME(op_##name##_rr)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    T r = NAME(alu)(env, k, GETR(op->dst), GETR(op->src)); \
    if (ALU_WRITES(k)) { \
        SETR(op->dst, r); \
    } \
    NEXT(cpu, op); \
} \
static void NAME(op_##name##_ri)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    T r = NAME(alu)(env, k, GETR(op->dst), (T)op->imm); \
    if (ALU_WRITES(k)) { \
        SETR(op->dst, r); \
    } \
    NEXT(cpu, op); \
} \
FULL_OP void NAME(op_##name##_rm_full)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    T b = LD(cpu, op, x86_op_la(cpu, op, NB, false)); \
    T r = NAME(alu)(env, k, GETR(op->dst), b); \
    if (ALU_WRITES(k)) { \
        SETR(op->dst, r); \
    } \
    NEXT(cpu, op); \
} \
FAST_LOAD(op_##name##_rm, \
    T b; \
    memcpy(&b, p, NB); \
    T r = NAME(alu)(env, k, GETR(op->dst), b); \
    if (ALU_WRITES(k)) { \
        SETR(op->dst, r); \
    }) \
FULL_OP void NAME(op_##name##_mr_full)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    if (!ALU_WRITES(k)) { \
        T a = LD(cpu, op, x86_op_la(cpu, op, NB, false)); \
        NAME(alu)(env, k, a, GETR(op->src)); \
        NEXT(cpu, op); \
    } else { \
        uint64_t la = x86_op_la(cpu, op, NB, true); \
        RMW_LOAD(la, a); \
        RMW_STORE(la, NAME(alu)(env, k, a, GETR(op->src))); \
        NEXT_W(cpu, op); \
    } \
} \
FAST_OP(op_##name##_mr, (ALU_WRITES(k) ? x86_op_host_w : x86_op_host_r), \
    T a; \
    memcpy(&a, p, NB); \
    T r = NAME(alu)(env, k, a, GETR(op->src)); \
    if (ALU_WRITES(k)) { \
        memcpy(p, &r, NB); \
    }) \
FULL_OP void NAME(op_##name##_mi_full)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    if (!ALU_WRITES(k)) { \
        T a = LD(cpu, op, x86_op_la(cpu, op, NB, false)); \
        NAME(alu)(env, k, a, (T)op->imm); \
        NEXT(cpu, op); \
    } else { \
        uint64_t la = x86_op_la(cpu, op, NB, true); \
        RMW_LOAD(la, a); \
        RMW_STORE(la, NAME(alu)(env, k, a, (T)op->imm)); \
        NEXT_W(cpu, op); \
    } \
} \
FAST_OP(op_##name##_mi, (ALU_WRITES(k) ? x86_op_host_w : x86_op_host_r), \
    T a; \
    memcpy(&a, p, NB); \
    T r = NAME(alu)(env, k, a, (T)op->imm); \
    if (ALU_WRITES(k)) { \
        memcpy(p, &r, NB); \
    })

DEF_ALU(0, add)
DEF_ALU(1, or)
DEF_ALU(2, adc)
DEF_ALU(3, sbb)
DEF_ALU(4, and)
DEF_ALU(5, sub)
DEF_ALU(6, xor)
DEF_ALU(7, cmp)
DEF_ALU(8, test)

/*
 * CMP/TEST fused with the Jcc right after it (64-bit mode; the decoder's peephole in
 * decode.c): one dispatch instead of two, and the condition is tested on flags the
 * compiler still holds in registers.  op is the CMP/TEST, op[1] the Jcc, whose imm is
 * the target; the pair still counts as two instructions, and a fault in the CMP's
 * memory operand still names the CMP.
 */
#define FLAGS_FN(name, k, A, B) \
static inline void NAME(flags_##name)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    NAME(alu)(env, k, A, B); \
}
FLAGS_FN(cmp_rr, 7, GETR(op->dst), GETR(op->src))
FLAGS_FN(cmp_ri, 7, GETR(op->dst), (T)op->imm)
FLAGS_FN(test_rr, 8, GETR(op->dst), GETR(op->src))
FLAGS_FN(test_ri, 8, GETR(op->dst), (T)op->imm)
#undef FLAGS_FN

/*
 * Memory forms: on anything but a TLB hit in 64-bit mode (x86_op_host_r), the plain
 * CMP/TEST handler runs instead, as a tail call, and continues into the Jcc op; so the
 * fused handler makes no call and needs no stack frame.  m is the memory operand.
 */
#define FLAGS_FN_M(name, plain, k, A, B) \
static inline bool NAME(flags_##name)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    const uint8_t *p = x86_op_host_r(cpu, op, NB); \
    T m; \
    if (unlikely(!p)) { \
        return false; \
    } \
    memcpy(&m, p, NB); \
    NAME(alu)(env, k, A, B); \
    return true; \
} \
static void NAME(unfused_##name)(X86CPU *cpu, const KiteOp *op) \
{ \
    NAME(plain)(cpu, op); \
}
FLAGS_FN_M(cmp_rm, op_cmp_rm, 7, GETR(op->dst), m)
FLAGS_FN_M(cmp_mr, op_cmp_mr, 7, m, GETR(op->src))
FLAGS_FN_M(cmp_mi, op_cmp_mi, 7, m, (T)op->imm)
FLAGS_FN_M(test_mi, op_test_mi, 8, m, (T)op->imm)
#undef FLAGS_FN_M

/*
 * One handler per condition for a flag-setting op fused with the Jcc after it (op[1]), and
 * the table the decoder picks from: DEF_JCC_TABLE(name, ONE) instantiates ONE(name, cc)
 * for cc 0-15.  FUSED_J1 is the plain handler; flags_##name sets the flags (and may write
 * a register).
 */
#define FUSED_J1(name, cc) \
static void NAME(op_##name##_j##cc)(X86CPU *cpu, const KiteOp *op) \
{ \
    NAME(flags_##name)(cpu, op); \
    if (cc_test(&cpu->env, cc)) { \
        X86_TAKEN64(cpu, op + 1, op[1].imm); \
    } \
    NEXT(cpu, op + 1); \
}
#define DEF_JCC_TABLE(name, ONE) \
    ONE(name, 0) ONE(name, 1) ONE(name, 2) ONE(name, 3) ONE(name, 4) ONE(name, 5) \
    ONE(name, 6) ONE(name, 7) ONE(name, 8) ONE(name, 9) ONE(name, 10) ONE(name, 11) \
    ONE(name, 12) ONE(name, 13) ONE(name, 14) ONE(name, 15) \
static KiteOpFn *const NAME(name##_jcc)[16] = { \
    NAME(op_##name##_j0), NAME(op_##name##_j1), NAME(op_##name##_j2), \
    NAME(op_##name##_j3), NAME(op_##name##_j4), NAME(op_##name##_j5), \
    NAME(op_##name##_j6), NAME(op_##name##_j7), NAME(op_##name##_j8), \
    NAME(op_##name##_j9), NAME(op_##name##_j10), NAME(op_##name##_j11), \
    NAME(op_##name##_j12), NAME(op_##name##_j13), NAME(op_##name##_j14), \
    NAME(op_##name##_j15), \
};
DEF_JCC_TABLE(cmp_rr, FUSED_J1)
DEF_JCC_TABLE(cmp_ri, FUSED_J1)
DEF_JCC_TABLE(test_rr, FUSED_J1)
DEF_JCC_TABLE(test_ri, FUSED_J1)

/* Memory forms: without a TLB hit flags_##name does nothing and the plain handler runs. */
#define FUSED_J1_MEM(name, cc) \
static void NAME(op_##name##_j##cc)(X86CPU *cpu, const KiteOp *op) \
{ \
    if (unlikely(!NAME(flags_##name)(cpu, op))) { \
        NAME(unfused_##name)(cpu, op); \
        return; \
    } \
    if (cc_test(&cpu->env, cc)) { \
        X86_TAKEN64(cpu, op + 1, op[1].imm); \
    } \
    NEXT(cpu, op + 1); \
}
DEF_JCC_TABLE(cmp_rm, FUSED_J1_MEM)
DEF_JCC_TABLE(cmp_mr, FUSED_J1_MEM)
DEF_JCC_TABLE(cmp_mi, FUSED_J1_MEM)
DEF_JCC_TABLE(test_mi, FUSED_J1_MEM)
#undef FUSED_J1_MEM

/* ---- MOV ---------------------------------------------------------------------- */

static void NAME(op_mov_rr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, GETR(op->src));
    NEXT(cpu, op);
}

static void NAME(op_mov_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, op->imm);
    NEXT(cpu, op);
}

FULL_OP void NAME(op_mov_rm_full)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, LD(cpu, op, x86_op_la(cpu, op, NB, false)));
    NEXT(cpu, op);
}
FAST_LOAD(op_mov_rm, T v; memcpy(&v, p, NB); SETR(op->dst, v))

FULL_OP void NAME(op_mov_mr_full)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    STM(cpu, op, x86_op_la(cpu, op, NB, true), GETR(op->src));
    NEXT_W(cpu, op);
}
FAST_OP(op_mov_mr, x86_op_host_w, T v = GETR(op->src); memcpy(p, &v, NB))

static void NAME(op_mov_mi)(X86CPU *cpu, const KiteOp *op)
{
    STM(cpu, op, x86_op_la(cpu, op, NB, true), (T)op->imm);
    NEXT_W(cpu, op);
}

/* ---- INC / DEC / NOT / NEG (SDM vol. 2A) -------------------------------------- */

static inline T NAME(incdec)(CPUX86State *env, T a, bool dec)
{
    T r = dec ? a - 1 : a + 1;
    uint64_t vec = dec ? (T)CC_SUB_VEC(a, (T)1, r) : (T)CC_ADD_VEC(a, (T)1, r);
    uint64_t cf = env->cc_aux & CC_CF;
    /* CF is preserved: keep it and store PO = OF ^ CF so OF comes out right. */
    uint64_t of = ((vec >> (SZ - 1)) ^ (vec >> (SZ - 2))) & 1;
    env->cc_res = (ST)r;
    env->cc_aux = cf | ((of ^ (cf >> 31)) << 30) | (vec & CC_AF);
    return r;
}

static void NAME(op_inc_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(incdec)(env, GETR(op->dst), false));
    NEXT(cpu, op);
}

static void NAME(op_dec_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(incdec)(env, GETR(op->dst), true));
    NEXT(cpu, op);
}

static void NAME(op_inc_m)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    RMW_STORE(la, NAME(incdec)(env, a, false));
    NEXT_W(cpu, op);
}

static void NAME(op_dec_m)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    RMW_STORE(la, NAME(incdec)(env, a, true));
    NEXT_W(cpu, op);
}

static inline T NAME(neg)(CPUX86State *env, T b)
{
    T r = (T)0 - b;
    cc_set(env, (ST)r, cc_aux_from_vec((T)CC_SUB_VEC((T)0, b, r), SZ));
    return r;
}

static void NAME(op_not_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, ~GETR(op->dst));
    NEXT(cpu, op);
}

static void NAME(op_not_m)(X86CPU *cpu, const KiteOp *op)
{
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    RMW_STORE(la, ~a);
    NEXT_W(cpu, op);
}

static void NAME(op_neg_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(neg)(env, GETR(op->dst)));
    NEXT(cpu, op);
}

static void NAME(op_neg_m)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    RMW_STORE(la, NAME(neg)(env, a));
    NEXT_W(cpu, op);
}

/*
 * ADD/OR/AND/SUB/XOR (register and immediate forms) and INC/DEC fused with the Jcc
 * right after them, as CMP/TEST above (decode.c's peephole; 32 and 64 bits, which
 * loop counters and masks use): op is the ALU instruction, op[1] the Jcc.
 */
#if SZ >= 32
#define ALU_J_FN(name, k, B) \
static inline void NAME(flags_##name)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    SETR(op->dst, NAME(alu)(env, k, GETR(op->dst), B)); \
}
ALU_J_FN(add_rr, 0, GETR(op->src))
ALU_J_FN(or_rr, 1, GETR(op->src))
ALU_J_FN(and_rr, 4, GETR(op->src))
ALU_J_FN(sub_rr, 5, GETR(op->src))
ALU_J_FN(xor_rr, 6, GETR(op->src))
ALU_J_FN(add_ri, 0, (T)op->imm)
ALU_J_FN(or_ri, 1, (T)op->imm)
ALU_J_FN(and_ri, 4, (T)op->imm)
ALU_J_FN(sub_ri, 5, (T)op->imm)
ALU_J_FN(xor_ri, 6, (T)op->imm)
#undef ALU_J_FN
static inline void NAME(flags_inc_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(incdec)(env, GETR(op->dst), false));
}
static inline void NAME(flags_dec_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(incdec)(env, GETR(op->dst), true));
}

DEF_JCC_TABLE(add_rr, FUSED_J1) DEF_JCC_TABLE(or_rr, FUSED_J1) DEF_JCC_TABLE(and_rr, FUSED_J1)
DEF_JCC_TABLE(sub_rr, FUSED_J1) DEF_JCC_TABLE(xor_rr, FUSED_J1)
DEF_JCC_TABLE(add_ri, FUSED_J1) DEF_JCC_TABLE(or_ri, FUSED_J1) DEF_JCC_TABLE(and_ri, FUSED_J1)
DEF_JCC_TABLE(sub_ri, FUSED_J1) DEF_JCC_TABLE(xor_ri, FUSED_J1)
DEF_JCC_TABLE(inc_r, FUSED_J1) DEF_JCC_TABLE(dec_r, FUSED_J1)
#endif
#undef DEF_JCC_TABLE
#undef FUSED_J1

/* ---- shifts and rotates (SDM vol. 2B, SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR) -------- */

/*
 * kind: 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL (= SHL), 7 SAR.  c is the
 * count already masked to 5 (6 for 64-bit) bits and non-zero: a zero count changes
 * neither the operand nor any flag.
 */
static inline T NAME(shift)(CPUX86State *env, int kind, T a, unsigned c)
{
    T r;
    bool cf, of;

    switch (kind) {
    case 0: {
        unsigned n = c % SZ;
        r = n ? (T)((a << n) | (a >> (SZ - n))) : a;
        cf = r & 1;
        cc_set_cf_of(env, cf, MSB(r) ^ cf);
        return r;
    }
    case 1: {
        unsigned n = c % SZ;
        r = n ? (T)((a >> n) | (a << (SZ - n))) : a;
        cc_set_cf_of(env, MSB(r), MSB(r) ^ ((r >> (SZ - 2)) & 1));
        return r;
    }
    case 2:
    case 3: {
        /* Rotate the SZ+1 bit quantity CF:a. */
        unsigned n = c % (SZ + 1);
        unsigned __int128 v = ((unsigned __int128)cc_cf(env) << SZ) | a;
        unsigned __int128 m = ((unsigned __int128)1 << (SZ + 1)) - 1;
        if (n) {
            if (kind == 2) {
                v = ((v << n) | (v >> (SZ + 1 - n))) & m;
            } else {
                v = ((v >> n) | (v << (SZ + 1 - n))) & m;
            }
        }
        r = (T)v;
        cf = (v >> SZ) & 1;
        if (kind == 2) {
            of = MSB(r) ^ cf;
        } else {
            of = MSB(r) ^ ((r >> (SZ - 2)) & 1);
        }
        cc_set_cf_of(env, cf, of);
        return r;
    }
    case 4:
    case 6:
        r = c < SZ ? (T)((uint64_t)a << c) : 0;
        cf = c <= SZ ? ((uint64_t)a >> (SZ - c)) & 1 : 0;
        of = MSB(r) ^ cf;
        break;
    case 5:
        r = c < SZ ? (T)(a >> c) : 0;
        cf = c <= SZ ? (a >> (c - 1)) & 1 : 0;
        of = MSB(a);
        break;
    default: {
        int64_t s = (ST)a;
        r = (T)(s >> (c < 64 ? c : 63));
        cf = (s >> (c - 1 < 63 ? c - 1 : 63)) & 1;
        of = false;
        break;
    }
    }
    env->cc_res = (ST)r;
    env->cc_aux = ((uint64_t)cf << 31) | ((uint64_t)(cf ^ of) << 30);
    return r;
}

#define SHIFT_MASK (SZ == 64 ? 63 : 31)

/* src: kind; b1: count (imm or 1), b2 bit 0: count from CL. */
static inline unsigned NAME(shift_count)(CPUX86State *env, const KiteOp *op)
{
    return ((op->b2 & 1) ? REG8(env, R_ECX * 8) : op->b1) & SHIFT_MASK;
}

static void NAME(op_shift_r)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned c = NAME(shift_count)(env, op);
    if (c) {
        SETR(op->dst, NAME(shift)(env, op->src, GETR(op->dst), c));
    }
#if SZ == 32
    else {
        env->regs[op->dst] = (uint32_t)env->regs[op->dst];   /* written even so */
    }
#endif
    NEXT(cpu, op);
}

static void NAME(op_shift_m)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned c = NAME(shift_count)(env, op);
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    if (c) {
        RMW_STORE(la, NAME(shift)(env, op->src, a, c));
    }
    NEXT_W(cpu, op);
}

/* Common shifts by an immediate on a register get their own handlers. */
static void NAME(op_shl_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(shift)(env, 4, GETR(op->dst), op->b1));
    NEXT(cpu, op);
}

static void NAME(op_shr_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(shift)(env, 5, GETR(op->dst), op->b1));
    NEXT(cpu, op);
}

static void NAME(op_sar_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(shift)(env, 7, GETR(op->dst), op->b1));
    NEXT(cpu, op);
}

/* Rotates by an immediate: hash and cipher rounds (the kernel's BLAKE2s and ChaCha). */
static void NAME(op_rol_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(shift)(env, 0, GETR(op->dst), op->b1));
    NEXT(cpu, op);
}

static void NAME(op_ror_ri)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, NAME(shift)(env, 1, GETR(op->dst), op->b1));
    NEXT(cpu, op);
}

/*
 * SHL/SHR/SAR of a register by CL, the other common form (inflate, bitmap and hash
 * code): the kind is a constant here, so shift() reduces to a few instructions.
 */
#define DEF_SHIFT_CL(name, kind) \
static void NAME(op_##name##_rcl)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    unsigned c = REG8(env, R_ECX * 8) & SHIFT_MASK; \
    if (likely(c)) { \
        SETR(op->dst, NAME(shift)(env, kind, GETR(op->dst), c)); \
    } else if (SZ == 32) { \
        env->regs[op->dst] = (uint32_t)env->regs[op->dst];   /* written even so */ \
    } \
    NEXT(cpu, op); \
}
DEF_SHIFT_CL(shl, 4)
DEF_SHIFT_CL(shr, 5)
DEF_SHIFT_CL(sar, 7)
#undef DEF_SHIFT_CL

/*
 * ---- flag-less variants ----------------------------------------------------------
 *
 * The same operations without the OSZAPC update, for instructions whose flags nothing
 * can observe: decode.c's flag liveness picks them (x86_flag_info in ops-int.c says
 * which handler has which).  Their results must equal the flag-setting handlers'.
 */
static inline T NAME(alu_nf)(int k, T a, T b)
{
    switch (k) {
    case 0:
        return a + b;
    case 1:
        return a | b;
    case 4:
        return a & b;
    case 5:
        return a - b;
    default:
        return a ^ b;
    }
}

#define DEF_ALU_NF(k, name) \
static void NAME(op_##name##_rr_nf)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    SETR(op->dst, NAME(alu_nf)(k, GETR(op->dst), GETR(op->src))); \
    NEXT(cpu, op); \
} \
static void NAME(op_##name##_ri_nf)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    SETR(op->dst, NAME(alu_nf)(k, GETR(op->dst), (T)op->imm)); \
    NEXT(cpu, op); \
} \
static void NAME(op_##name##_rm_nf)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    const uint8_t *p = x86_op_host_r(cpu, op, NB); \
    T b; \
    if (unlikely(!p)) { \
        NAME(op_##name##_rm_full)(cpu, op);     /* sets flags too: harmless */ \
        return; \
    } \
    memcpy(&b, p, NB); \
    SETR(op->dst, NAME(alu_nf)(k, GETR(op->dst), b)); \
    NEXT(cpu, op); \
}
DEF_ALU_NF(0, add)
DEF_ALU_NF(1, or)
DEF_ALU_NF(4, and)
DEF_ALU_NF(5, sub)
DEF_ALU_NF(6, xor)
#undef DEF_ALU_NF

/* Rotates by an immediate (b1 masked, non-zero): CF and OF are all they set. */
static void NAME(op_rol_ri_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned n = op->b1 % SZ;
    T a = GETR(op->dst);
    SETR(op->dst, n ? (T)((a << n) | (a >> (SZ - n))) : a);
    NEXT(cpu, op);
}

static void NAME(op_ror_ri_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned n = op->b1 % SZ;
    T a = GETR(op->dst);
    SETR(op->dst, n ? (T)((a >> n) | (a << (SZ - n))) : a);
    NEXT(cpu, op);
}

/* b1: the count, masked and non-zero (as for op_shl_ri and co). */
static void NAME(op_shl_ri_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned c = op->b1;
    SETR(op->dst, c < SZ ? (T)((uint64_t)GETR(op->dst) << c) : 0);
    NEXT(cpu, op);
}

static void NAME(op_shr_ri_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned c = op->b1;
    SETR(op->dst, c < SZ ? (T)(GETR(op->dst) >> c) : 0);
    NEXT(cpu, op);
}

static void NAME(op_sar_ri_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    unsigned c = op->b1;
    SETR(op->dst, (T)((int64_t)(ST)GETR(op->dst) >> (c < SZ ? c : SZ - 1)));
    NEXT(cpu, op);
}

static void NAME(op_inc_r_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, (T)(GETR(op->dst) + 1));
    NEXT(cpu, op);
}

static void NAME(op_dec_r_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, (T)(GETR(op->dst) - 1));
    NEXT(cpu, op);
}

static void NAME(op_neg_r_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, (T)((T)0 - GETR(op->dst)));
    NEXT(cpu, op);
}

/* ---- TEST/XCHG/XADD/CMPXCHG --------------------------------------------------- */

static void NAME(op_xchg_rr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T a = GETR(op->dst), b = GETR(op->src);
    SETR(op->dst, b);
    SETR(op->src, a);
    NEXT(cpu, op);
}

static void NAME(op_xchg_mr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    RMW_STORE(la, GETR(op->src));
    SETR(op->src, a);
    NEXT_W(cpu, op);
}

static void NAME(op_xadd_rr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T a = GETR(op->dst), b = GETR(op->src);
    T r = NAME(alu)(env, 0, a, b);
    SETR(op->src, a);
    SETR(op->dst, r);
    NEXT(cpu, op);
}

static void NAME(op_xadd_mr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, a);
    T b = GETR(op->src);
    RMW_STORE(la, NAME(alu)(env, 0, a, b));
    SETR(op->src, a);
    NEXT_W(cpu, op);
}

/* CMPXCHG (SDM vol. 2A): compare accumulator with dest; the dest is always written. */
static void NAME(op_cmpxchg_rr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T acc = GETR(0), d = GETR(op->dst);
    NAME(alu)(env, 7, acc, d);
    if (acc == d) {
        SETR(op->dst, GETR(op->src));
    } else {
        SETR(0, d);
    }
    NEXT(cpu, op);
}

static void NAME(op_cmpxchg_mr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t la = x86_op_la(cpu, op, NB, true);
    RMW_LOAD(la, d);
    T acc = GETR(0);
    if (acc == d) {
        RMW_STORE(la, GETR(op->src));
    } else {
        RMW_STORE(la, d);
        SETR(0, d);
    }
    NAME(alu)(env, 7, acc, d);
    NEXT_W(cpu, op);
}

/* ---- MUL / IMUL / DIV / IDIV (group 3) ---------------------------------------- */

static inline T NAME(rm_load)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    if (op->b2 & 2) {
        return LD(cpu, op, x86_op_la(cpu, op, NB, false));
    }
    return GETR(op->src);
}

/* src: register (or memory if b2 & 2); b1: 4 MUL, 5 IMUL, 6 DIV, 7 IDIV. */
static void NAME(op_muldiv)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T b = NAME(rm_load)(cpu, op);
#if SZ == 8
    uint16_t ax = REG16(env, R_EAX);
    switch (op->b1) {
    case 4: {
        uint16_t r = (uint16_t)(uint8_t)ax * b;
        REG16(env, R_EAX) = r;
        cc_set(env, (int8_t)r, (r >> 8) ? CC_CF : 0);
        break;
    }
    case 5: {
        int16_t r = (int16_t)(int8_t)ax * (int8_t)b;
        REG16(env, R_EAX) = r;
        cc_set(env, (int8_t)r, r != (int8_t)r ? CC_CF : 0);
        break;
    }
    case 6: {
        if (b == 0 || ax / b > 0xff) {
            x86_raise(cpu, op, EXCP_DE, 0);
        }
        REG16(env, R_EAX) = (uint16_t)((ax % b) << 8 | (ax / b));
        break;
    }
    default: {
        int16_t n = ax;
        int8_t d = b;
        if (d == 0 || (n == INT16_MIN && d == -1) || n / d > 127 || n / d < -128) {
            x86_raise(cpu, op, EXCP_DE, 0);
        }
        REG16(env, R_EAX) = (uint16_t)((uint8_t)(n % d) << 8 | (uint8_t)(n / d));
        break;
    }
    }
#else
# if SZ == 16
    typedef uint32_t DT;
    typedef int32_t SDT;
# elif SZ == 32
    typedef uint64_t DT;
    typedef int64_t SDT;
# else
    typedef unsigned __int128 DT;
    typedef __int128 SDT;
# endif
    T a = GETR(R_EAX);
    switch (op->b1) {
    case 4: {
        DT r = (DT)a * b;
        SETR(R_EAX, r);
        SETR(R_EDX, r >> SZ);
        cc_set(env, (ST)r, (T)(r >> SZ) ? CC_CF : 0);
        break;
    }
    case 5: {
        SDT r = (SDT)(ST)a * (ST)b;
        SETR(R_EAX, r);
        SETR(R_EDX, (DT)r >> SZ);
        cc_set(env, (ST)r, r != (ST)r ? CC_CF : 0);
        break;
    }
    case 6: {
        DT n = ((DT)GETR(R_EDX) << SZ) | a;
        if (b == 0 || n / b > (T)~(T)0) {
            x86_raise(cpu, op, EXCP_DE, 0);
        }
        SETR(R_EAX, n / b);
        SETR(R_EDX, n % b);
        break;
    }
    default: {
        SDT n = (SDT)(((DT)GETR(R_EDX) << SZ) | a);
        ST d = b;
        SDT q;
        if (d == 0 || (d == -1 && n == -n && n != 0)) {
            x86_raise(cpu, op, EXCP_DE, 0);
        }
        q = n / d;
        if (q != (ST)q) {
            x86_raise(cpu, op, EXCP_DE, 0);
        }
        SETR(R_EAX, q);
        SETR(R_EDX, n % d);
        break;
    }
    }
#endif
    NEXT(cpu, op);
}

#if SZ != 8
/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): b2 & 4 selects the immediate. */
static void NAME(op_imul2)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    ST b = (ST)NAME(rm_load)(cpu, op);
    ST a = (op->b2 & 4) ? (ST)op->imm : (ST)GETR(op->dst);
# if SZ == 64
    __int128 r = (__int128)a * b;
# else
    int64_t r = (int64_t)a * b;
# endif
    SETR(op->dst, r);
    cc_set(env, (ST)r, r != (ST)r ? CC_CF : 0);
    NEXT(cpu, op);
}

/* IMUL without flags (x86_flag_info): the low half is the same signed or not. */
static void NAME(op_imul2_nf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T b = NAME(rm_load)(cpu, op);
    T a = (op->b2 & 4) ? (T)op->imm : GETR(op->dst);
    SETR(op->dst, (T)((uint64_t)a * b));
    NEXT(cpu, op);
}

/* CMOVcc (SDM vol. 2A): the source is read even when the condition is false. */
static void NAME(op_cmov)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T v = NAME(rm_load)(cpu, op);
    if (cc_test(env, op->b1)) {
        SETR(op->dst, v);
    }
# if SZ == 32
    else {
        env->regs[op->dst] = (uint32_t)env->regs[op->dst];   /* zero-extends anyway */
    }
# endif
    NEXT(cpu, op);
}

/* CMOVcc from a register, a handler per condition: the test folds to a few insns. */
#define DEF_CMOV_R(cc) \
static void NAME(op_cmov_r##cc)(X86CPU *cpu, const KiteOp *op) \
{ \
    CPUX86State *env = &cpu->env; \
    if (cc_test(env, cc)) { \
        SETR(op->dst, GETR(op->src)); \
    } else if (SZ == 32) { \
        env->regs[op->dst] = (uint32_t)env->regs[op->dst];   /* zero-extends anyway */ \
    } \
    NEXT(cpu, op); \
}
DEF_CMOV_R(0) DEF_CMOV_R(1) DEF_CMOV_R(2) DEF_CMOV_R(3) DEF_CMOV_R(4) DEF_CMOV_R(5)
DEF_CMOV_R(6) DEF_CMOV_R(7) DEF_CMOV_R(8) DEF_CMOV_R(9) DEF_CMOV_R(10) DEF_CMOV_R(11)
DEF_CMOV_R(12) DEF_CMOV_R(13) DEF_CMOV_R(14) DEF_CMOV_R(15)
#undef DEF_CMOV_R
static KiteOpFn *const NAME(cmov_r)[16] = {
    NAME(op_cmov_r0), NAME(op_cmov_r1), NAME(op_cmov_r2), NAME(op_cmov_r3),
    NAME(op_cmov_r4), NAME(op_cmov_r5), NAME(op_cmov_r6), NAME(op_cmov_r7),
    NAME(op_cmov_r8), NAME(op_cmov_r9), NAME(op_cmov_r10), NAME(op_cmov_r11),
    NAME(op_cmov_r12), NAME(op_cmov_r13), NAME(op_cmov_r14), NAME(op_cmov_r15),
};

/* BSF / BSR (0F BC/BD): ZF = (src == 0), dest unchanged then (as AMD documents). */
static void NAME(op_bsf)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T v = NAME(rm_load)(cpu, op);
    if (v == 0) {
        cc_set(env, 0, 0);
    } else {
        SETR(op->dst, (T)__builtin_ctzll(v));
        cc_set(env, 1, 0);
    }
    NEXT(cpu, op);
}

static void NAME(op_bsr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T v = NAME(rm_load)(cpu, op);
    if (v == 0) {
        cc_set(env, 0, 0);
    } else {
        SETR(op->dst, (T)(63 - __builtin_clzll(v)));
        cc_set(env, 1, 0);
    }
    NEXT(cpu, op);
}

/* POPCNT (F3 0F B8): ZF = (src == 0), other flags cleared. */
static void NAME(op_popcnt)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    T v = NAME(rm_load)(cpu, op);
    SETR(op->dst, (T)__builtin_popcountll(v));
    /* ZF from the source, PF = 0: for res 0 the parity delta makes PF odd. */
    cc_set(env, v != 0, (uint64_t)(v == 0) << CC_PDB_SHIFT);
    NEXT(cpu, op);
}

/* MOVZX/MOVSX from 8 and 16 bits: b1 = source size (1 or 2), b2 & 8: sign-extend. */
static void NAME(op_movx)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    uint64_t v;
    if (op->b2 & 2) {
        uint64_t la = x86_op_la(cpu, op, op->b1, false);
        v = op->b1 == 1 ? x86_ld8(cpu, op, la) : x86_ld16(cpu, op, la);
    } else {
        v = op->b1 == 1 ? REG8(env, op->src) : REG16(env, op->src);
    }
    if (op->b2 & 8) {
        v = op->b1 == 1 ? (uint64_t)(int8_t)v : (uint64_t)(int16_t)v;
    }
    SETR(op->dst, v);
    NEXT(cpu, op);
}

static void NAME(op_movzx8_rr)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, REG8(env, op->src));
    NEXT(cpu, op);
}

FULL_OP void NAME(op_movzx8_rm_full)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, x86_ld8(cpu, op, x86_op_la(cpu, op, 1, false)));
    NEXT(cpu, op);
}
FAST_OP_SZ(op_movzx8_rm, x86_op_host_r, 1, NEXT, SETR(op->dst, *p))

FULL_OP void NAME(op_movzx16_rm_full)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, x86_ld16(cpu, op, x86_op_la(cpu, op, 2, false)));
    NEXT(cpu, op);
}
FAST_OP_SZ(op_movzx16_rm, x86_op_host_r, 2, NEXT,
           uint16_t v; memcpy(&v, p, 2); SETR(op->dst, v))

static void NAME(op_lea)(X86CPU *cpu, const KiteOp *op)
{
    CPUX86State *env = &cpu->env;
    SETR(op->dst, x86_ea(cpu, op));
    NEXT(cpu, op);
}
#endif

#undef T
#undef ST
#undef GETR
#undef SETR
#undef LD
#undef STM
#undef NB
#undef MSB
#undef NAME
#undef SHIFT_MASK
#undef RMW_LOAD
#undef RMW_STORE
#undef DEF_ALU
#undef ALU_WRITES
#undef SZ
