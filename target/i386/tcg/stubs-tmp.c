/* Temporary: x87/SSE not implemented yet (removed when fpu.c/sse.c land). */
#include "target/i386/tcg/decode.h"
#include "target/i386/tcg/ops.h"
#include "target/i386/tcg/sys.h"

bool x86_decode_x87(X86Dec *d, KiteOp *op) { return false; }
bool x86_decode_sse(X86Dec *d, KiteOp *op) { return false; }
void x86_fpu_host_enter(X86CPU *cpu) {}
void x86_fpu_host_leave(X86CPU *cpu) {}
void x86_op_fwait(X86CPU *cpu, const KiteOp *op) { NEXT(cpu, op); }
void x86_op_fxsave(X86CPU *cpu, const KiteOp *op) { x86_raise(cpu, op, EXCP_UD, 0); }
void x86_op_fxrstor(X86CPU *cpu, const KiteOp *op) { x86_raise(cpu, op, EXCP_UD, 0); }
void x86_op_ldmxcsr(X86CPU *cpu, const KiteOp *op) { x86_raise(cpu, op, EXCP_UD, 0); }
void x86_op_stmxcsr(X86CPU *cpu, const KiteOp *op) { x86_raise(cpu, op, EXCP_UD, 0); }
