/*
 * The architecture-neutral part of a vCPU.
 *
 * Each target (target/i386, later riscv64) derives its CPU type from TYPE_CPU.  The
 * accelerator owns how a vCPU runs (a KVM thread per vCPU, or the interpreter's round-robin
 * thread); this file owns what every accelerator shares: the vCPU list, interrupt requests,
 * and stop/resume handshakes with the main loop.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_CORE_CPU_H
#define HW_CORE_CPU_H

#include "hw/qdev.h"
#include "kite/memory.h"

#define TYPE_CPU "cpu"

/* interrupt_request bits. */
enum {
    CPU_INTERRUPT_HARD = 1 << 0,     /* a maskable interrupt is pending at the PIC/APIC */
    CPU_INTERRUPT_NMI = 1 << 1,
    CPU_INTERRUPT_INIT = 1 << 2,
    CPU_INTERRUPT_SIPI = 1 << 3,
    CPU_INTERRUPT_SMI = 1 << 4,
    CPU_INTERRUPT_POLL = 1 << 5,     /* re-evaluate the APIC (TPR changed, EOI, ...) */
    CPU_INTERRUPT_TPR = 1 << 6,
};

typedef struct CPUState CPUState;

/* Why a target's interpreter returned to the accelerator's loop. */
typedef enum TCGExitReason {
    TCG_EXIT_BUDGET,      /* ran its instruction budget */
    TCG_EXIT_REQUEST,     /* a kick (cpu_exit, interrupt) asked it to return */
    TCG_EXIT_HALTED,      /* HLT or waiting for a startup IPI: sleep until there is work */
    TCG_EXIT_SHUTDOWN,    /* triple fault: the machine resets */
    TCG_EXIT_DEBUG,       /* breakpoint or single step (gdb stub) */
} TCGExitReason;

/* What the architecture-neutral interpreter driver (accel/tcg) needs from a target. */
typedef struct TCGCPUOps {
    /* Create the interpreter state for cs (vCPU creation, BQL held). */
    void (*init_vcpu)(CPUState *cs);
    /* Run guest code for up to budget instructions, without the BQL. */
    TCGExitReason (*exec)(CPUState *cs, int64_t budget, int64_t *executed);
    /* From any thread: make a running exec() return soon. */
    void (*kick)(CPUState *cs);
    /* On the vCPU thread: the memory map changed, drop cached translations. */
    void (*flush_tlb)(CPUState *cs);
    /* Breakpoints or singlestep_enabled changed (VM stopped, BQL held). */
    void (*update_debug)(CPUState *cs);
} TCGCPUOps;

typedef struct CPUClass {
    DeviceClass parent_class;
    /* True if the vCPU has something to do even though it halted (a pending interrupt). */
    bool (*has_work)(CPUState *cpu);
    void (*dump_state)(CPUState *cpu, GString *out);
    /* "info mem" (tlb false: mapped ranges and rights) / "info tlb" (every leaf entry). */
    void (*dump_mmu)(CPUState *cpu, GString *out, bool tlb);
    int64_t (*get_arch_id)(CPUState *cpu);        /* x86: APIC ID */
    uint64_t (*get_pc)(CPUState *cpu);
    /* The monitor's $name in expressions (QEMU's per-target register table); false: none. */
    bool (*monitor_get_register)(CPUState *cpu, const char *name, uint64_t *val);
    /* Bits of the code segment the vCPU runs in (x86: 16, 32, 64), for the monitor's x/i. */
    int (*disas_mode)(CPUState *cpu);
    const TCGCPUOps *tcg_ops;

    /*
     * Debugger access (gdb stub, monitor x/xp); the caller has synchronized the registers.
     * get_phys_page_debug: the guest-physical address of virtual address addr through the
     * guest's page tables as they are, without setting accessed/dirty bits or faulting.
     */
    bool (*get_phys_page_debug)(CPUState *cpu, uint64_t addr, uint64_t *paddr);
    /* gdb target description (XML) and registers in its order; 0 = no such register. */
    const char *(*gdb_target_xml)(CPUState *cpu);
    int (*gdb_read_register)(CPUState *cpu, GByteArray *buf, int n);
    int (*gdb_write_register)(CPUState *cpu, const uint8_t *buf, int len, int n);
} CPUClass;

/* CPUState.singlestep_enabled bits (as QEMU's gdb stub uses them). */
#define SSTEP_ENABLE  0x1     /* stop after each instruction */
#define SSTEP_NOIRQ   0x2     /* and take no interrupts while stepping */

/* Debug breakpoint kinds (VM-wide, set by the gdb stub). */
#define BP_SW  1              /* INT3 written into guest memory; #BP there stops the VM */
#define BP_HW  2              /* instruction breakpoint that leaves memory alone */

struct CPUState {
    DeviceState parent_obj;
    int cpu_index;
    AddressSpace *as;

    /* Thread state, protected by the BQL unless noted. */
    GThread *thread;
    int thread_id;               /* host TID of the thread running it (query-cpus-fast) */
    GCond halt_cond;
    bool created;
    bool stop;                   /* pause requested */
    bool stopped;                /* acknowledged: not running guest code */
    bool halted;                 /* guest executed HLT (or is a waiting AP) */
    bool unplug;                 /* thread should exit */
    bool thread_exited;
    uint32_t interrupt_request;  /* CPU_INTERRUPT_*, set atomically from any thread */
    int exit_request;            /* atomic: leave guest execution soon */
    bool vcpu_dirty;             /* registers in the CPU struct are newer than the accel's */
    int singlestep_enabled;      /* SSTEP_*: set by the gdb stub with the VM stopped */
    bool tlb_flush_pending;      /* atomic: memory map changed, flush before running */

    /* Accelerator state. */
    int kvm_fd;
    void *kvm_run;
    void *accel;
};

CPUClass *CPU_CLASS(const void *klass);
CPUClass *CPU_GET_CLASS(const void *obj);
CPUState *CPU(const void *obj);

/* The vCPU the calling thread runs (NULL in the main loop and iothreads). */
extern __thread CPUState *current_cpu;

/* The vCPU list, in cpu_index order. */
extern GPtrArray *cpu_list;
#define CPU_FOREACH(cpu) \
    for (guint cpu_iter_ = 0; cpu_list && cpu_iter_ < cpu_list->len && \
         ((cpu) = cpu_list->pdata[cpu_iter_], 1); cpu_iter_++)
CPUState *cpu_by_index(int index);
CPUState *cpu_by_arch_id(int64_t id);
int cpu_count(void);

/* Raise/clear interrupt request bits; raising kicks the vCPU out of guest code or HLT. */
void cpu_interrupt(CPUState *cpu, uint32_t mask);
void cpu_reset_interrupt(CPUState *cpu, uint32_t mask);
/* Ask the vCPU to leave guest execution and look at its requests. */
void cpu_exit(CPUState *cpu);
bool cpu_has_work(CPUState *cpu);
void cpu_reset(CPUState *cpu);

/*
 * Debugging (hw/core/cpu-debug.c), BQL held, VM stopped when changing things.
 * Breakpoints are VM-wide: every vCPU stops at them.  The accelerator is told through
 * AccelClass.update_guest_debug.
 */
/* Read or write guest virtual memory through cpu's page tables; false if unmapped. */
bool cpu_memory_rw_debug(CPUState *cpu, uint64_t addr, void *buf, size_t len, bool is_write);
bool cpu_breakpoint_insert(uint64_t pc, int kind);       /* false: no room (BP_HW) */
bool cpu_breakpoint_remove(uint64_t pc, int kind);       /* false: not set */
void cpu_breakpoint_remove_all(void);
/* Is there a breakpoint of one of the kinds in mask at pc (a linear address)? Any thread. */
bool cpu_breakpoint_test(uint64_t pc, int mask);
/* Up to CPU_MAX_HW_BREAKPOINTS BP_HW addresses, for the accelerators. */
#define CPU_MAX_HW_BREAKPOINTS 4
int cpu_hw_breakpoints(uint64_t *pcs);
bool cpu_sw_breakpoints_present(void);
void cpu_single_step(CPUState *cpu, int flags);
/* Push breakpoint and single-step state to the accelerator for every vCPU. */
void cpu_update_guest_debug_all(void);
/* The accelerator stopped the VM at a breakpoint or after a step on this vCPU. */
void cpu_debug_stop(CPUState *cpu);
/* The vCPU that last stopped for debugging (NULL: none since the last call); clears it. */
CPUState *cpu_take_debug_stop_cpu(void);

#endif
