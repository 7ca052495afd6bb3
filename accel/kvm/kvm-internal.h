/*
 * KVM accelerator internals shared by the files of accel/kvm and the architecture glue
 * (target/i386/kvm*.c).  Devices and boards use include/accel/kvm.h instead.
 *
 * Threading: the KVMState and every slot/route table are touched only under the BQL.  Each
 * vCPU has its own thread; it drops the BQL around KVM_RUN and takes it to dispatch exits.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ACCEL_KVM_INTERNAL_H
#define ACCEL_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include "accel/accel.h"
#include "accel/kvm.h"
#include "hw/boards.h"
#include "hw/irq.h"

/* One KVM memory slot: a page-aligned run of a RAM or ROM section. */
typedef struct KVMSlot {
    bool used;
    uint32_t id;
    hwaddr start;              /* guest physical */
    uint64_t size;             /* bytes, multiple of 4 KiB */
    uint8_t *host;
    uint32_t flags;            /* KVM_MEM_* */
    MemoryRegion *mr;          /* the terminal RAM region */
    hwaddr mr_offset;          /* offset of start within mr */
    unsigned long *dirty_bmap; /* scratch for KVM_GET_DIRTY_LOG while logging */
} KVMSlot;

typedef struct KVMParkedVcpu {
    unsigned long vcpu_id;
    int fd;
} KVMParkedVcpu;

typedef struct KVMState {
    AccelState parent_obj;
    int fd;                    /* /dev/kvm */
    int vmfd;
    int vcpu_mmap_size;
    int irqchip_prop;          /* -accel kvm,kernel-irqchip=: OnOffSplit, or -1 */
    int irqchip_mode;          /* OnOffSplit in effect (the property, else the machine's) */
    bool irqchip_in_kernel;
    bool manual_dirty_log;     /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled */
    bool ioeventfd_any_length;
    int max_vcpu_id;

    /* Memory slots (kvm-memory.c). */
    KVMSlot *slots;
    unsigned nr_slots;         /* allocated entries */
    unsigned max_slots;        /* KVM_CAP_NR_MEMSLOTS */
    MemoryListener mem_listener;
    MemoryListener io_listener;

    /* GSI routing (kvm-irqchip.c). */
    struct kvm_irq_routing *routes;
    unsigned nr_routes_alloc;
    unsigned gsi_count;        /* KVM_CAP_IRQ_ROUTING */
    unsigned long *used_gsi;
    IRQState **gsi_lines;
    int num_gsi;

    GArray *parked;            /* of KVMParkedVcpu: fds of unplugged vCPUs */
    void *arch;                /* the architecture's VM state */
} KVMState;

/* Work run in a vCPU's context with the BQL held (kvm_run_on_vcpu). */
typedef void KVMVcpuWorkFn(CPUState *cpu, void *data);
typedef struct KVMVcpuWork {
    KVMVcpuWorkFn *fn;
    void *data;
    bool done;
    struct KVMVcpuWork *next;
} KVMVcpuWork;

/* What one vCPU's thread did, for tests and benchmarks. */
typedef struct KVMVcpuStats {
    uint64_t runs;             /* KVM_RUN calls */
    uint64_t exits[64];        /* by KVM_EXIT_* (others in exits[63]) */
    uint64_t kicks;            /* KVM_RUN interrupted by a kick */
    uint64_t exit_ns;          /* time spent outside KVM_RUN between runs */
} KVMVcpuStats;

/* cpu->accel for a KVM vCPU. */
typedef struct KVMVcpu {
    CPUState *cpu;
    unsigned long vcpu_id;
    pthread_t tid;
    bool tid_valid;            /* tid may be signalled */
    bool in_guest;             /* BQL released around KVM_RUN (set/cleared under the BQL) */
    KVMVcpuWork *work;         /* queued by kvm_run_on_vcpu */
    GCond work_cond;
    KVMVcpuStats stats;
    void *arch;                /* the architecture's per-vCPU state */
} KVMVcpu;

extern KVMState *kvm_state;

static inline KVMVcpu *kvm_vcpu(CPUState *cpu)
{
    return cpu->accel;
}

static inline struct kvm_run *kvm_cpu_run(CPUState *cpu)
{
    return cpu->kvm_run;
}

/* How much state kvm_arch_put_registers writes (QEMU's levels). */
enum {
    KVM_PUT_RUNTIME_STATE = 1, /* registers the guest can change; not the TSC */
    KVM_PUT_RESET_STATE = 2,   /* + TSC, MP state, in-kernel LAPIC, MSRs reset clears */
    KVM_PUT_FULL_STATE = 3,    /* + everything (after loadvm / migration) */
};

/* Run fn in cpu's context: directly when its thread is not inside KVM_RUN, else kick it. */
void kvm_run_on_vcpu(CPUState *cpu, KVMVcpuWorkFn *fn, void *data);
/* Kick cpu out of KVM_RUN (any thread). */
void kvm_vcpu_kick(CPUState *cpu);
bool kvm_has_cap(int cap);                     /* on the VM fd */
int kvm_ioctl(KVMState *s, unsigned long type, ...);

/* kvm-memory.c */
void kvm_memory_init(KVMState *s);

/* kvm-irqchip.c */
void kvm_irqchip_routes_init(KVMState *s);
/* Route gsi to pin of an in-kernel chip (KVM_IRQ_ROUTING_IRQCHIP). */
void kvm_irqchip_add_irq_route(KVMState *s, unsigned gsi, unsigned chip, unsigned pin);
int kvm_irqchip_commit_routes_state(KVMState *s);
IRQState **kvm_irqchip_gsi_lines(KVMState *s, int num_gsi);

/*
 * The architecture (target/<arch>/kvm.c).  All run with the BQL held; the vCPU hooks run in
 * the vCPU's thread or while that thread is outside KVM_RUN.
 */
bool kvm_arch_init(KVMState *s, MachineState *ms, Error **errp);   /* after KVM_CREATE_VM */
bool kvm_arch_irqchip_create(KVMState *s, Error **errp);            /* in-kernel chips */
bool kvm_arch_irqchip_setup(KVMState *s, int num_gsi, Error **errp);/* board's GSI routing */
void kvm_arch_pit_hpet_legacy(KVMState *s, bool on);                /* AccelClass hook */
unsigned long kvm_arch_vcpu_id(CPUState *cpu);
bool kvm_arch_init_vcpu(CPUState *cpu, Error **errp);              /* after KVM_CREATE_VCPU */
void kvm_arch_destroy_vcpu(CPUState *cpu);
int kvm_arch_get_registers(CPUState *cpu);
int kvm_arch_put_registers(CPUState *cpu, int level);
/* Before KVM_RUN (BQL held): inject interrupts, NMI, INIT/SIPI. */
void kvm_arch_pre_run(CPUState *cpu, struct kvm_run *run);
/* After KVM_RUN (BQL held): pick up IF, TPR and APIC base from the run page. */
void kvm_arch_post_run(CPUState *cpu, struct kvm_run *run);
/* Before entering the run loop: true if the vCPU halted and has nothing to do. */
bool kvm_arch_process_async_events(CPUState *cpu);
/* Exits the generic loop does not know; returns 0 to go on running, 1 to leave the loop. */
int kvm_arch_handle_exit(CPUState *cpu, struct kvm_run *run);
/* KVM_SET_GUEST_DEBUG argument from the breakpoints and cpu->singlestep_enabled. */
void kvm_arch_update_guest_debug(CPUState *cpu, struct kvm_guest_debug *dbg);

#endif
