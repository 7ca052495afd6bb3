/*
 * x86 interpreter: instruction decoder interface.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_DECODE_H
#define TARGET_I386_TCG_DECODE_H

#include "target/i386/tcg/internal.h"

/*
 * Decode up to max instructions from code[0 .. avail) into ops, which has room for
 * max + 1 ops.  Returns the number of instructions decoded, 0 if the first one needs
 * bytes beyond avail.  *nops gets the number of ops written (a closing op is added
 * when the last instruction falls through) and *bytes the length of code covered.
 */
int x86_decode_trace(X86CPU *cpu, const uint8_t *code, unsigned avail, KiteOp *ops,
                     int max, int *nops, unsigned *bytes);

/* Decoder state for one instruction, shared by decode*.c. */
typedef struct X86Dec {
    X86CPU *cpu;
    const uint8_t *code;
    unsigned avail;
    unsigned pos;          /* next byte, relative to the trace start */
    unsigned start;        /* this instruction's first byte */
    int idx;               /* this instruction's index in the trace */
    bool overrun;

    bool code64;           /* 64-bit mode */
    bool code32;           /* CS.D */
    bool ss32;

    uint8_t rex;           /* REX byte, 0 if none */
    bool p66, p67, lock, rep, repne;
    uint8_t last_rep;      /* 0xf2/0xf3 that came last: SSE mandatory prefix */
    int seg;               /* segment override, -1 none */
    int osize;             /* operand size: 1 = 16, 2 = 32, 3 = 64 bits */
    int asize;             /* address size: 0 = 16, 1 = 32, 2 = 64 bits */

    bool has_modrm;
    int mod, reg, rm;      /* reg and rm include REX.R / REX.B */
    bool mem;              /* ModRM designates memory */
    bool riprel;
    bool lockable;         /* LOCK allowed (with a memory destination) */

    bool end;              /* this instruction ends the trace */
    int map;               /* 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A */
    int opc;
} X86Dec;

static inline uint8_t dec_u8(X86Dec *d)
{
    if (d->pos >= d->avail) {
        d->overrun = true;
        return 0;
    }
    return d->code[d->pos++];
}

static inline uint16_t dec_u16(X86Dec *d)
{
    uint16_t lo = dec_u8(d);
    return lo | (uint16_t)dec_u8(d) << 8;
}

static inline uint32_t dec_u32(X86Dec *d)
{
    uint32_t lo = dec_u16(d);
    return lo | (uint32_t)dec_u16(d) << 16;
}

static inline uint64_t dec_u64(X86Dec *d)
{
    uint64_t lo = dec_u32(d);
    return lo | (uint64_t)dec_u32(d) << 32;
}

/* Byte offset in regs of 8-bit register r (AH..BH without REX, SPL..DIL with). */
static inline uint8_t dec_reg8(const X86Dec *d, int r)
{
    if (r < 4 || r >= 8 || d->rex) {
        return r * 8;
    }
    return (r - 4) * 8 + 1;
}

void dec_modrm(X86Dec *d, KiteOp *op);
/* Register operand number for size index s (0: 8-bit byte offset). */
static inline uint8_t dec_regop(const X86Dec *d, int r, int s)
{
    return s == 0 ? dec_reg8(d, r) : r;
}

/* Opcode-map decoders in other files: return false for #UD. */
bool x86_decode_x87(X86Dec *d, KiteOp *op);
bool x86_decode_sse(X86Dec *d, KiteOp *op);
bool x86_decode_sys(X86Dec *d, KiteOp *op);

#endif
