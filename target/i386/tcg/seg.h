/*
 * x86 interpreter: segment descriptors (SDM vol. 3A, 3.4-3.5, 5.8).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TARGET_I386_TCG_SEG_H
#define TARGET_I386_TCG_SEG_H

#include "target/i386/tcg/internal.h"

/* Fields of a raw 8-byte descriptor. */
static inline uint64_t desc_base(uint64_t d)
{
    return ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
}

static inline uint32_t desc_limit(uint64_t d)
{
    uint32_t l = (d & 0xffff) | ((d >> 32) & 0xf0000);
    return (d & (1ULL << 55)) ? (l << 12) | 0xfff : l;
}

/* Attribute bits in the X86Segment.attr packing. */
static inline uint16_t desc_attr(uint64_t d)
{
    return ((d >> 40) & 0xff) | ((d >> 44) & 0xf00);
}

static inline int attr_dpl(uint16_t a)
{
    return (a & X86_SEG_DPL_MASK) >> X86_SEG_DPL_SHIFT;
}

static inline bool attr_is_code(uint16_t a)
{
    return (a & X86_SEG_S) && (a & X86_SEG_TYPE_CODE);
}

static inline bool attr_is_data(uint16_t a)
{
    return (a & X86_SEG_S) && !(a & X86_SEG_TYPE_CODE);
}

/* System descriptor types (SDM vol. 3A, table 3-2; long mode: table 3-2 IA-32e). */
enum {
    DESC_TSS16_AVAIL = 1, DESC_LDT = 2, DESC_TSS16_BUSY = 3, DESC_CALLGATE16 = 4,
    DESC_TASKGATE = 5, DESC_INTGATE16 = 6, DESC_TRAPGATE16 = 7, DESC_TSS32_AVAIL = 9,
    DESC_TSS32_BUSY = 11, DESC_CALLGATE32 = 12, DESC_INTGATE32 = 14, DESC_TRAPGATE32 = 15,
};

/*
 * Read the descriptor for sel from the GDT or LDT; false if the selector is outside
 * the table (the caller raises the fault its instruction defines).
 */
bool x86_desc_read(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t *desc);
/* Read the high half of a 16-byte system descriptor (long mode). */
bool x86_desc_read_high(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t *hi);
void x86_desc_set_accessed(X86CPU *cpu, const KiteOp *op, uint16_t sel, uint64_t desc);

/* Load a segment register's cache from a descriptor (no checks). */
void x86_seg_set(X86CPU *cpu, int seg, uint16_t sel, uint64_t desc);
/* MOV/POP/LxS to a data or stack segment register, with all protection checks. */
void x86_load_seg(X86CPU *cpu, const KiteOp *op, int seg, uint16_t sel);
/* Load CS for a far transfer to code descriptor desc and make cpl current. */
void x86_load_cs(X86CPU *cpu, uint16_t sel, uint64_t desc, int cpl);
/* After a return to an outer privilege: null data segments the new CPL may not use. */
void x86_validate_data_segs(X86CPU *cpu);
void x86_set_cpl(X86CPU *cpu, int cpl);

/* TSS: read the inner stack for privilege level dpl (legacy) or RSPn/ISTn (long). */
void x86_tss_stack(X86CPU *cpu, const KiteOp *op, int dpl, uint16_t *ss, uint64_t *sp,
                   uint32_t ext);
uint64_t x86_tss_rsp64(X86CPU *cpu, const KiteOp *op, int idx, uint32_t ext);

/* Port I/O permission (SDM vol. 1, 19.5): raises #GP(0) when not allowed. */
void x86_check_io(X86CPU *cpu, const KiteOp *op, uint16_t port, unsigned size);

#endif
