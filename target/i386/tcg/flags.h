/*
 * Lazy arithmetic flags.
 *
 * An arithmetic op stores two words instead of computing EFLAGS:
 *   cc_res: the result, sign-extended to 64 bits (so ZF = res == 0, SF = res < 0);
 *   cc_aux: bit 31 CF, bit 30 PO (= CF ^ OF), bit 3 AF, bits 8-15 PDB (parity delta:
 *           PF = even parity of (res ^ PDB) & 0xff), bit 0 SD (sign delta: SF ^= SD).
 * For ADD and SUB the carry/borrow-out vector gives CF, OF and AF with a few shifts.
 * The deltas let POPF/SAHF store any flag combination without a separate mode, and
 * no flag read ever switches on the last operation (the Bochs scheme, reimplemented).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_FLAGS_H
#define TARGET_I386_TCG_FLAGS_H

#include "target/i386/tcg/internal.h"

#define CC_SD     0x1u
#define CC_AF     0x8u
#define CC_PDB_SHIFT 8
#define CC_PO     (1u << 30)
#define CC_CF     (1u << 31)

/* Carry-out of every bit of a + b = r (carry-in included in r). */
#define CC_ADD_VEC(a, b, r) (((a) & (b)) | (((a) | (b)) & ~(r)))
/* Borrow-out of every bit of a - b = r. */
#define CC_SUB_VEC(a, b, r) ((~(a) & (b)) | ((~(a) | (b)) & (r)))

/* aux bits from a carry vector of an operation of 'bits' width. */
static inline uint64_t cc_aux_from_vec(uint64_t vec, int bits)
{
    return (((vec >> (bits - 2)) & 3) << 30) | (vec & CC_AF);
}

static inline void cc_set_logic(CPUX86State *env, int64_t sres)
{
    env->cc_res = sres;
    env->cc_aux = 0;
}

static inline void cc_set(CPUX86State *env, int64_t sres, uint64_t aux)
{
    env->cc_res = sres;
    env->cc_aux = aux;
}

static inline bool cc_cf(const CPUX86State *env)
{
    return (env->cc_aux >> 31) & 1;
}

static inline bool cc_of(const CPUX86State *env)
{
    return ((env->cc_aux >> 31) ^ (env->cc_aux >> 30)) & 1;
}

static inline bool cc_zf(const CPUX86State *env)
{
    return env->cc_res == 0;
}

static inline bool cc_sf(const CPUX86State *env)
{
    return ((env->cc_res >> 63) ^ env->cc_aux) & 1;
}

static inline bool cc_af(const CPUX86State *env)
{
    return (env->cc_aux >> 3) & 1;
}

static inline bool cc_pf(const CPUX86State *env)
{
    return !__builtin_parity((env->cc_res ^ (env->cc_aux >> CC_PDB_SHIFT)) & 0xff);
}

/* Replace CF (and keep OF): used by BT*, rotates, CLC/STC/CMC. */
static inline void cc_set_cf(CPUX86State *env, bool cf)
{
    bool of = cc_of(env);
    env->cc_aux = (env->cc_aux & ~(uint64_t)(CC_CF | CC_PO)) |
                  ((uint64_t)cf << 31) | ((uint64_t)(cf ^ of) << 30);
}

static inline void cc_set_cf_of(CPUX86State *env, bool cf, bool of)
{
    env->cc_aux = (env->cc_aux & ~(uint64_t)(CC_CF | CC_PO)) |
                  ((uint64_t)cf << 31) | ((uint64_t)(cf ^ of) << 30);
}

/*
 * Evaluate condition code cc (the low nibble of Jcc/SETcc/CMOVcc; SDM vol. 1,
 * appendix B).  Callers with a constant cc get a single test after inlining.
 */
static inline bool cc_test(const CPUX86State *env, int cc)
{
    bool r;

    switch (cc >> 1) {
    case 0: r = cc_of(env); break;                                  /* O */
    case 1: r = cc_cf(env); break;                                  /* B */
    case 2: r = cc_zf(env); break;                                  /* E */
    case 3: r = cc_cf(env) || cc_zf(env); break;                    /* BE */
    case 4: r = cc_sf(env); break;                                  /* S */
    case 5: r = cc_pf(env); break;                                  /* P */
    case 6: r = cc_sf(env) != cc_of(env); break;                    /* L */
    default: r = cc_zf(env) || (cc_sf(env) != cc_of(env)); break;   /* LE */
    }
    return r ^ (cc & 1);
}

/* OSZAPC as EFLAGS bits. */
uint32_t x86_cc_compute(const CPUX86State *env);
/* Set OSZAPC from EFLAGS bits in f (other bits ignored). */
void x86_cc_load(CPUX86State *env, uint32_t f);

#endif
