/*
 * The KVM accelerator: the VM, one thread per vCPU, and the exit loop.
 *
 * Each vCPU thread ("CPU n/KVM") runs KVM_RUN without the BQL and takes it to dispatch the
 * exit: port I/O to address_space_io, MMIO to address_space_memory, a triple fault to a
 * reset request.  Another thread gets a vCPU out of KVM_RUN with kvm_vcpu_kick(): it sets
 * the run page's immediate_exit flag, so that a KVM_RUN about to start returns at once,
 * and sends SIGUSR1, so that one already running returns with EINTR.  The vCPU clears the
 * flag after KVM_RUN returns and only then looks at its requests again, so a kick that
 * lands between that look and the next ioctl is never lost.
 *
 * Memory slots, dirty logging and ioeventfds live in kvm-memory.c, GSI routes and irqfds
 * in kvm-irqchip.c, and everything x86 (registers, CPUID, the in-kernel PIC/IOAPIC/PIT) in
 * target/i386/kvm*.c.  The ioctls are documented in Linux's
 * Documentation/virt/kvm/api.rst, cited below as "api.rst 4.x".
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "accel/kvm/kvm-internal.h"
#include "hw/core/cpu-common.h"
#include "kite/thread.h"
#include "kite/runstate.h"
#include "kite/log.h"
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define KVM_DEVICE "/dev/kvm"
#define KVM_SIG_KICK SIGUSR1

KVMState *kvm_state;

/* Capabilities every architecture needs; the architecture checks its own. */
static const struct {
    int cap;
    const char *name;
} kvm_required_caps[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_DESTROY_MEMORY_REGION_WORKS, "KVM_CAP_DESTROY_MEMORY_REGION_WORKS" },
    { KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, "KVM_CAP_JOIN_MEMORY_REGIONS_WORKS" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },  /* race-free kicks */
    { KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },      /* ROM as read-only slots */
    { KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
};

static KVMState *KVM_STATE(const void *obj)
{
    return OBJECT_CHECK(KVMState, obj, TYPE_KVM_ACCEL);
}

/* ------------------------------------------------------------ ioctl helpers */

/* ioctl returning -errno on failure; EINTR is retried (kvm_run handles its own). */
static int kvm_do_ioctl(int fd, unsigned long type, void *arg)
{
    int r;

    do {
        r = ioctl(fd, type, arg);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

int kvm_ioctl(KVMState *s, unsigned long type, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, type);
    arg = va_arg(ap, void *);
    va_end(ap);
    return kvm_do_ioctl(s->fd, type, arg);
}

int kvm_vm_ioctl(unsigned long type, ...)
{
    va_list ap;
    void *arg;

    if (!kvm_state) {
        return -ENOSYS;
    }
    va_start(ap, type);
    arg = va_arg(ap, void *);
    va_end(ap);
    return kvm_do_ioctl(kvm_state->vmfd, type, arg);
}

int kvm_vcpu_ioctl(CPUState *cpu, unsigned long type, ...)
{
    va_list ap;
    void *arg;

    if (cpu->kvm_fd < 0) {
        return -ENOSYS;
    }
    va_start(ap, type);
    arg = va_arg(ap, void *);
    va_end(ap);
    return kvm_do_ioctl(cpu->kvm_fd, type, arg);
}

/* KVM_CHECK_EXTENSION on the VM when the kernel allows it (api.rst 4.4), else on /dev/kvm. */
static int kvm_check_extension_state(KVMState *s, int cap)
{
    int fd = s->vmfd >= 0 && kvm_do_ioctl(s->fd, KVM_CHECK_EXTENSION,
                                          (void *)(uintptr_t)KVM_CAP_CHECK_EXTENSION_VM) > 0
             ? s->vmfd : s->fd;
    int r = kvm_do_ioctl(fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)cap);

    return r < 0 ? 0 : r;
}

int kvm_check_extension(int cap)
{
    return kvm_state ? kvm_check_extension_state(kvm_state, cap) : 0;
}

bool kvm_has_cap(int cap)
{
    return kvm_check_extension(cap) > 0;
}

bool kvm_enabled(void)
{
    return kvm_state != NULL;
}

bool kvm_irqchip_in_kernel(void)
{
    return kvm_state && kvm_state->irqchip_in_kernel;
}

/* ------------------------------------------------------------ VM setup */

static int kvm_open_device(Error **errp)
{
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    int version;

    if (fd < 0) {
        error_setg_errno(errp, errno, "KVM: cannot open " KVM_DEVICE);
        return -1;
    }
    version = kvm_do_ioctl(fd, KVM_GET_API_VERSION, NULL);
    if (version < 0) {
        error_setg(errp, "KVM: " KVM_DEVICE " does not answer KVM_GET_API_VERSION: %s",
                   g_strerror(-version));
        close(fd);
        return -1;
    }
    if (version != KVM_API_VERSION) {
        /* api.rst 4.1: 12 is the only stable API version. */
        error_setg(errp, "KVM: API version %d, Kite needs %d", version, KVM_API_VERSION);
        close(fd);
        return -1;
    }
    return fd;
}

static bool kvm_accel_available(Error **errp)
{
    int fd = kvm_open_device(errp);

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

static void kvm_kick_signal_handler(int sig)
{
    /* Nothing: the signal only makes KVM_RUN return with EINTR. */
}

static void kvm_install_kick_handler(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kvm_kick_signal_handler;
    /*
     * KVM_RUN returns EINTR even with SA_RESTART (the kernel never restarts it); other
     * syscalls a device makes on the vCPU thread are restarted rather than failing.
     */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(KVM_SIG_KICK, &sa, NULL);
}

static bool kvm_check_required_caps(KVMState *s, Error **errp)
{
    for (size_t i = 0; i < ARRAY_SIZE(kvm_required_caps); i++) {
        if (kvm_check_extension_state(s, kvm_required_caps[i].cap) <= 0) {
            error_set(errp, ERROR_CLASS_KVM_MISSING_CAP, "KVM: capability %s missing",
                      kvm_required_caps[i].name);
            return false;
        }
    }
    return true;
}

static void kvm_state_close(KVMState *s)
{
    if (s->vmfd >= 0) {
        close(s->vmfd);
        s->vmfd = -1;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static bool kvm_accel_init_machine(AccelState *accel, MachineState *ms, Error **errp)
{
    KVMState *s = KVM_STATE(accel);
    int r;

    s->fd = kvm_open_device(errp);
    if (s->fd < 0) {
        return false;
    }
    do {
        r = kvm_do_ioctl(s->fd, KVM_CREATE_VM, NULL);   /* type 0: the default VM */
    } while (r == -EINTR);
    if (r < 0) {
        error_setg(errp, "KVM: KVM_CREATE_VM failed: %s", g_strerror(-r));
        goto fail;
    }
    s->vmfd = r;
    if (!kvm_check_required_caps(s, errp)) {
        goto fail;
    }
    s->vcpu_mmap_size = kvm_do_ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (s->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM: bad vCPU mmap size %d", s->vcpu_mmap_size);
        goto fail;
    }
    s->max_slots = kvm_check_extension_state(s, KVM_CAP_NR_MEMSLOTS);
    if (s->max_slots == 0) {
        s->max_slots = 32;       /* api.rst 4.35: the historical minimum */
    }
    s->max_vcpu_id = kvm_check_extension_state(s, KVM_CAP_MAX_VCPU_ID);
    if (s->max_vcpu_id <= 0) {
        s->max_vcpu_id = kvm_check_extension_state(s, KVM_CAP_MAX_VCPUS);
    }
    s->ioeventfd_any_length = kvm_check_extension_state(s, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
    s->irqchip_mode = s->irqchip_prop >= 0 ? s->irqchip_prop
                      : ms ? ms->kernel_irqchip : ON_OFF_SPLIT_AUTO;

    kvm_state = s;
    if (!kvm_arch_init(s, ms, errp)) {
        goto fail;
    }
    switch (s->irqchip_mode) {
    case ON_OFF_SPLIT_SPLIT:
        /* Needs a userspace IOAPIC that sends MSIs and KVM_EXIT_IOAPIC_EOI handling. */
        error_setg(errp, "KVM: kernel-irqchip=split is not supported");
        goto fail;
    case ON_OFF_SPLIT_ON:
    case ON_OFF_SPLIT_AUTO: {
        Error *err = NULL;
        if (kvm_arch_irqchip_create(s, &err)) {
            s->irqchip_in_kernel = true;
            kvm_irqchip_routes_init(s);
        } else if (s->irqchip_mode == ON_OFF_SPLIT_ON) {
            error_propagate(errp, err);
            goto fail;
        } else {
            info_report("%s; using interrupt controllers in userspace", error_get_pretty(err));
            error_free(err);
        }
        break;
    }
    default:
        break;
    }
    kvm_install_kick_handler();
    kvm_memory_init(s);
    return true;

fail:
    kvm_state = NULL;
    kvm_state_close(s);
    return false;
}

/* ------------------------------------------------------------ vCPU work and kicks */

void kvm_vcpu_kick(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    struct kvm_run *run = kvm_cpu_run(cpu);

    if (!v || !run) {
        return;
    }
    /* First the flag (covers a KVM_RUN not yet entered), then the signal (one in progress). */
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v->tid_valid, __ATOMIC_ACQUIRE)) {
        pthread_kill(v->tid, KVM_SIG_KICK);
    }
}

static void kvm_kick_vcpu_op(CPUState *cpu)
{
    kvm_vcpu_kick(cpu);
    /* A vCPU halted in userspace sleeps on halt_cond; callers hold the BQL. */
    cpu_wake(cpu);
}

void kvm_run_on_vcpu(CPUState *cpu, KVMVcpuWorkFn *fn, void *data)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    KVMVcpuWork work = { .fn = fn, .data = data };
    KVMVcpuWork **tail;

    /*
     * in_guest is only changed under the BQL, which we hold: if it is false the vCPU thread
     * cannot enter KVM_RUN before we release the lock, so its fd is ours to use.
     */
    if (current_cpu == cpu || !v->in_guest) {
        fn(cpu, data);
        return;
    }
    for (tail = &v->work; *tail; tail = &(*tail)->next) {
    }
    *tail = &work;
    kvm_vcpu_kick(cpu);
    while (!work.done) {
        bql_cond_wait(&v->work_cond);
    }
}

static void kvm_run_queued_work(KVMVcpu *v)
{
    if (!v->work) {
        return;
    }
    while (v->work) {
        KVMVcpuWork *w = v->work;
        v->work = w->next;
        w->fn(v->cpu, w->data);
        w->done = true;
    }
    g_cond_broadcast(&v->work_cond);
}

/* ------------------------------------------------------------ register sync */

static void do_kvm_get_registers(CPUState *cpu, void *data)
{
    if (!cpu->vcpu_dirty) {
        int r = kvm_arch_get_registers(cpu);
        if (r < 0) {
            error_report("KVM: reading the registers of CPU %d failed: %s", cpu->cpu_index,
                         g_strerror(-r));
        }
        cpu->vcpu_dirty = true;
    }
}

static void do_kvm_put_registers(CPUState *cpu, void *data)
{
    int level = GPOINTER_TO_INT(data);
    int r = kvm_arch_put_registers(cpu, level);

    if (r < 0) {
        error_report("KVM: writing the registers of CPU %d failed: %s", cpu->cpu_index,
                     g_strerror(-r));
    }
    cpu->vcpu_dirty = false;
}

static void kvm_synchronize_state(CPUState *cpu)
{
    if (cpu->accel && !cpu->vcpu_dirty) {
        kvm_run_on_vcpu(cpu, do_kvm_get_registers, NULL);
    }
}

static void kvm_synchronize_post_reset(CPUState *cpu)
{
    if (cpu->accel) {
        kvm_run_on_vcpu(cpu, do_kvm_put_registers, GINT_TO_POINTER(KVM_PUT_RESET_STATE));
    }
}

static void kvm_synchronize_post_init(CPUState *cpu)
{
    if (cpu->accel) {
        kvm_run_on_vcpu(cpu, do_kvm_put_registers, GINT_TO_POINTER(KVM_PUT_FULL_STATE));
    }
}

/* ------------------------------------------------------------ exits */

/*
 * Port I/O (api.rst 5, KVM_EXIT_IO): count items of size bytes at data_offset in the run
 * page; count > 1 for INS/OUTS with a REP prefix.
 */
static void kvm_handle_io(CPUState *cpu, struct kvm_run *run)
{
    unsigned size = run->io.size;
    uint64_t bytes = (uint64_t)run->io.count * size;
    uint8_t *p = (uint8_t *)run + run->io.data_offset;

    if ((size != 1 && size != 2 && size != 4) ||
        run->io.data_offset + bytes > (uint64_t)kvm_state->vcpu_mmap_size) {
        error_report("KVM: malformed I/O exit (port 0x%x size %u count %u)", run->io.port,
                     size, run->io.count);
        return;
    }
    for (uint32_t i = 0; i < run->io.count; i++, p += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            address_space_store(&address_space_io, run->io.port, ldn_le_p(p, size), size);
        } else {
            uint64_t val;
            address_space_load(&address_space_io, run->io.port, &val, size);
            stn_le_p(p, size, val);
        }
    }
}

/*
 * MMIO (KVM_EXIT_MMIO): at most 8 bytes; an access that crosses a page is split by KVM,
 * so odd lengths such as 3 happen and go through the byte-wise path.
 */
static void kvm_handle_mmio(CPUState *cpu, struct kvm_run *run)
{
    hwaddr addr = run->mmio.phys_addr;
    unsigned len = run->mmio.len;
    uint8_t *data = run->mmio.data;

    if (len == 0 || len > sizeof(run->mmio.data)) {
        error_report("KVM: malformed MMIO exit (0x%" HWADDR_PRIx " len %u)", addr, len);
        return;
    }
    if (run->mmio.is_write) {
        if (IS_POWER_OF_2(len)) {
            address_space_store(&address_space_memory, addr, ldn_le_p(data, len), len);
        } else {
            address_space_write(&address_space_memory, addr, data, len);
        }
    } else {
        memset(data, 0, sizeof(run->mmio.data));
        if (IS_POWER_OF_2(len)) {
            uint64_t val;
            address_space_load(&address_space_memory, addr, &val, len);
            stn_le_p(data, len, val);
        } else {
            address_space_read(&address_space_memory, addr, data, len);
        }
    }
}

/* The vCPU cannot go on: report, stop the VM, and keep this vCPU out of KVM_RUN. */
static void kvm_stop_on_error(CPUState *cpu, const char *what)
{
    CPUClass *cc = CPU_GET_CLASS(cpu);
    g_autoptr(GString) regs = g_string_new(NULL);

    if (cc->dump_state) {
        cc->dump_state(cpu, regs);
    }
    error_report("KVM: %s on CPU %d; stopping the VM\n%s", what, cpu->cpu_index, regs->str);
    vm_stop_request(RUN_STATE_INTERNAL_ERROR);
    cpu->stop = true;
}

static void kvm_handle_internal_error(CPUState *cpu, struct kvm_run *run)
{
    g_autoptr(GString) msg = g_string_new(NULL);

    g_string_printf(msg, "internal error, suberror %u", run->internal.suberror);
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        g_string_append(msg, " (instruction emulation failed)");
    }
    for (uint32_t i = 0; i < run->internal.ndata && i < ARRAY_SIZE(run->internal.data); i++) {
        g_string_append_printf(msg, "%s0x%llx", i ? " " : ", data ",
                               (unsigned long long)run->internal.data[i]);
    }
    kvm_stop_on_error(cpu, msg->str);
}

/* 0: run again; 1: leave the loop (requests to look at). */
static int kvm_handle_exit(CPUState *cpu, struct kvm_run *run)
{
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        kvm_handle_io(cpu, run);
        return 0;
    case KVM_EXIT_MMIO:
        kvm_handle_mmio(cpu, run);
        return 0;
    case KVM_EXIT_SHUTDOWN:
        /*
         * Triple fault (SDM vol. 3A, 6.15, interrupt 8: a fault while delivering #DF
         * shuts the processor down; the PC chipset turns shutdown into a reset).  Stay
         * out of KVM_RUN until the main loop has carried the reset out.
         */
        kite_log_mask(LOG_RESET, "CPU %d: triple fault", cpu->cpu_index);
        system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        cpu->stop = true;
        return 1;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
            break;
        case KVM_SYSTEM_EVENT_RESET:
            system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
            break;
        case KVM_SYSTEM_EVENT_CRASH:
            /* A panic the hypervisor reports (Hyper-V crash MSRs): -action panic= as pvpanic. */
            system_guest_panic_request(GUEST_PANIC_PANICKED);
            break;
        default:
            kvm_stop_on_error(cpu, "unknown system event");
            return 1;
        }
        cpu->stop = true;
        return 1;
    case KVM_EXIT_INTERNAL_ERROR:
        kvm_handle_internal_error(cpu, run);
        return 1;
    case KVM_EXIT_FAIL_ENTRY: {
        g_autofree char *what = g_strdup_printf(
            "VM entry failed, hardware reason 0x%llx",
            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        kvm_stop_on_error(cpu, what);
        return 1;
    }
    case KVM_EXIT_INTR:
        return 1;
    default: {
        int r = kvm_arch_handle_exit(cpu, run);
        if (r < 0) {
            g_autofree char *what = g_strdup_printf("unhandled exit reason %u",
                                                    run->exit_reason);
            kvm_stop_on_error(cpu, what);
            return 1;
        }
        return r;
    }
    }
}

/* The gdb stub changed breakpoints or single-stepping (VM stopped, BQL held). */
static void do_kvm_set_guest_debug(CPUState *cpu, void *data)
{
    struct kvm_guest_debug dbg;
    int r;

    kvm_arch_update_guest_debug(cpu, &dbg);
    r = kvm_vcpu_ioctl(cpu, KVM_SET_GUEST_DEBUG, &dbg);
    if (r < 0) {
        error_report("KVM: KVM_SET_GUEST_DEBUG on CPU %d failed: %s", cpu->cpu_index,
                     g_strerror(-r));
    }
}

static void kvm_update_guest_debug(CPUState *cpu)
{
    if (!cpu->accel) {
        return;
    }
    if (!kvm_has_cap(KVM_CAP_SET_GUEST_DEBUG)) {
        error_report("KVM: this host has no KVM_CAP_SET_GUEST_DEBUG: "
                     "breakpoints and single-stepping will not work");
        return;
    }
    kvm_run_on_vcpu(cpu, do_kvm_set_guest_debug, NULL);
}

static uint64_t kvm_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Run guest code until something needs the vCPU's outer loop (BQL held on entry/exit). */
static void kvm_cpu_exec(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    struct kvm_run *run = kvm_cpu_run(cpu);
    uint64_t back = 0;
    int ret = 0;

    if (kvm_arch_process_async_events(cpu)) {
        __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_SEQ_CST);
        return;             /* halted: cpu_wait_io_event sleeps until there is work */
    }
    do {
        int r, err;

        if (cpu->vcpu_dirty) {
            do_kvm_put_registers(cpu, GINT_TO_POINTER(KVM_PUT_RUNTIME_STATE));
        }
        kvm_arch_pre_run(cpu, run);
        if (__atomic_load_n(&cpu->exit_request, __ATOMIC_SEQ_CST)) {
            /* Enter anyway so KVM completes pending I/O and injection, then returns. */
            __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        }
        if (back) {
            v->stats.exit_ns += kvm_now_ns() - back;
        }
        v->in_guest = true;
        bql_unlock();
        r = ioctl(cpu->kvm_fd, KVM_RUN, 0);
        err = errno;
        bql_lock();
        v->in_guest = false;
        back = kvm_now_ns();
        v->stats.runs++;
        /* Clear before looking at requests: a later kick sets it again. */
        __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        kvm_arch_post_run(cpu, run);
        kvm_run_queued_work(v);
        if (r < 0) {
            if (err == EINTR || err == EAGAIN) {
                v->stats.kicks++;
                ret = 1;
            } else {
                g_autofree char *what = g_strdup_printf("KVM_RUN failed: %s",
                                                        g_strerror(err));
                kvm_stop_on_error(cpu, what);
                ret = 1;
            }
            continue;
        }
        v->stats.exits[MIN(run->exit_reason, ARRAY_SIZE(v->stats.exits) - 1)]++;
        ret = kvm_handle_exit(cpu, run);
    } while (ret == 0);
    __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_SEQ_CST);
}

static gpointer kvm_vcpu_thread_fn(gpointer opaque)
{
    CPUState *cpu = opaque;
    KVMVcpu *v = kvm_vcpu(cpu);
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, KVM_SIG_KICK);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    /* Before the BQL: the creator holds it while it waits for this. */
    kite_thread_publish_tid(&cpu->thread_id);
    bql_lock();
    current_cpu = cpu;
    v->tid = pthread_self();
    __atomic_store_n(&v->tid_valid, true, __ATOMIC_RELEASE);
    while (!cpu->unplug) {
        if (cpu_can_run(cpu)) {
            kvm_cpu_exec(cpu);
        }
        cpu_wait_io_event(cpu);
        kvm_run_queued_work(v);
    }
    __atomic_store_n(&v->tid_valid, false, __ATOMIC_RELEASE);
    kvm_run_queued_work(v);
    cpu->thread_exited = true;
    cpu_handle_stop_request(cpu);
    current_cpu = NULL;
    bql_unlock();
    return NULL;
}

/* ------------------------------------------------------------ vCPU create/destroy */

static int kvm_get_vcpu_fd(KVMState *s, unsigned long vcpu_id)
{
    /* A vCPU fd cannot be destroyed (api.rst 4.7): reuse one parked by an unplug. */
    for (guint i = 0; s->parked && i < s->parked->len; i++) {
        KVMParkedVcpu *p = &g_array_index(s->parked, KVMParkedVcpu, i);
        if (p->vcpu_id == vcpu_id) {
            int fd = p->fd;
            g_array_remove_index_fast(s->parked, i);
            return fd;
        }
    }
    return kvm_do_ioctl(s->vmfd, KVM_CREATE_VCPU, (void *)(uintptr_t)vcpu_id);
}

static void kvm_park_vcpu_fd(KVMState *s, unsigned long vcpu_id, int fd)
{
    KVMParkedVcpu p = { vcpu_id, fd };

    if (!s->parked) {
        s->parked = g_array_new(false, false, sizeof(KVMParkedVcpu));
    }
    g_array_append_val(s->parked, p);
}

static void kvm_vcpu_release(KVMState *s, CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);

    if (cpu->kvm_run) {
        munmap(cpu->kvm_run, s->vcpu_mmap_size);
        cpu->kvm_run = NULL;
    }
    if (cpu->kvm_fd >= 0) {
        kvm_park_vcpu_fd(s, v->vcpu_id, cpu->kvm_fd);
        cpu->kvm_fd = -1;
    }
    g_cond_clear(&v->work_cond);
    g_free(v);
    cpu->accel = NULL;
}

static bool kvm_accel_create_vcpu(AccelState *accel, CPUState *cpu, Error **errp)
{
    KVMState *s = KVM_STATE(accel);
    KVMVcpu *v = g_new0(KVMVcpu, 1);
    g_autofree char *name = NULL;
    GError *gerr = NULL;
    int fd;

    v->cpu = cpu;
    v->vcpu_id = kvm_arch_vcpu_id(cpu);
    g_cond_init(&v->work_cond);
    cpu->accel = v;
    if (s->max_vcpu_id > 0 && v->vcpu_id >= (unsigned long)s->max_vcpu_id) {
        error_setg(errp, "KVM: vCPU id %lu is above the host's limit %d", v->vcpu_id,
                   s->max_vcpu_id - 1);
        goto fail;
    }
    fd = kvm_get_vcpu_fd(s, v->vcpu_id);
    if (fd < 0) {
        error_setg(errp, "KVM: KVM_CREATE_VCPU %lu failed: %s", v->vcpu_id, g_strerror(-fd));
        goto fail;
    }
    cpu->kvm_fd = fd;
    cpu->kvm_run = mmap(NULL, s->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (cpu->kvm_run == MAP_FAILED) {
        cpu->kvm_run = NULL;
        error_setg_errno(errp, errno, "KVM: cannot map the run page of vCPU %lu",
                         v->vcpu_id);
        goto fail;
    }
    if (!kvm_arch_init_vcpu(cpu, errp)) {
        goto fail;
    }
    /* The thread waits in cpu_wait_io_event until the VM runs. */
    name = g_strdup_printf("CPU %d/KVM", cpu->cpu_index);
    __atomic_store_n(&cpu->thread_id, 0, __ATOMIC_RELEASE);
    cpu->thread = g_thread_try_new(name, kvm_vcpu_thread_fn, cpu, &gerr);
    if (!cpu->thread) {
        error_setg(errp, "KVM: cannot create the thread of CPU %d: %s", cpu->cpu_index,
                   gerr->message);
        g_error_free(gerr);
        kvm_arch_destroy_vcpu(cpu);
        goto fail;
    }
    /*
     * Like QEMU, return only once the thread runs: query-cpus-fast and "info cpus" must
     * show its TID, not the main thread's, however late the host schedules it.
     */
    kite_thread_wait_tid(&cpu->thread_id);
    return true;

fail:
    kvm_vcpu_release(s, cpu);
    return false;
}

static void kvm_accel_destroy_vcpu(CPUState *cpu)
{
    KVMState *s = kvm_state;

    if (!cpu->accel || !s) {
        return;
    }
    g_assert(current_cpu != cpu);
    if (cpu->thread) {
        cpu->unplug = true;
        cpu_exit(cpu);
        cpu_wake(cpu);
        /* The thread needs the BQL to finish its iteration. */
        bql_unlock();
        g_thread_join(cpu->thread);
        bql_lock();
        cpu->thread = NULL;
    }
    kvm_arch_destroy_vcpu(cpu);
    kvm_vcpu_release(s, cpu);
}

uint64_t kvm_vcpu_exit_count(CPUState *cpu, unsigned reason)
{
    KVMVcpu *v = kvm_vcpu(cpu);

    if (!v || !kvm_state) {
        return 0;
    }
    return v->stats.exits[MIN(reason, ARRAY_SIZE(v->stats.exits) - 1)];
}

uint64_t kvm_vcpu_exit_handling_ns(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);

    return v && kvm_state ? v->stats.exit_ns : 0;
}

/* ------------------------------------------------------------ the accelerator type */

static bool kvm_accel_irqchip_in_kernel(AccelState *accel)
{
    return KVM_STATE(accel)->irqchip_in_kernel;
}

static bool kvm_accel_irqchip_create(AccelState *accel, int num_gsi, IRQState ***gsi_lines,
                                     Error **errp)
{
    KVMState *s = KVM_STATE(accel);

    if (!s->irqchip_in_kernel) {
        error_setg(errp, "KVM: the interrupt controllers are not in the kernel");
        return false;
    }
    if (s->gsi_lines) {
        error_setg(errp, "KVM: the GSI lines were already created");
        return false;
    }
    if (!kvm_arch_irqchip_setup(s, num_gsi, errp)) {
        return false;
    }
    *gsi_lines = kvm_irqchip_gsi_lines(s, num_gsi);
    return true;
}

static void kvm_accel_pit_hpet_legacy(AccelState *accel, bool on)
{
    KVMState *s = KVM_STATE(accel);

    if (s->irqchip_in_kernel) {
        kvm_arch_pit_hpet_legacy(s, on);
    }
}

static void kvm_accel_instance_init(Object *obj)
{
    KVMState *s = KVM_STATE(obj);

    s->fd = -1;
    s->vmfd = -1;
    s->irqchip_prop = -1;
}

/* -accel kvm,kernel-irqchip=on|off|split, as QEMU; overrides -M kernel-irqchip. */
static const char *const kvm_irqchip_names[] = {
    [ON_OFF_SPLIT_ON] = "on", [ON_OFF_SPLIT_OFF] = "off",
    [ON_OFF_SPLIT_SPLIT] = "split", [ON_OFF_SPLIT_AUTO] = "auto",
};

static char *kvm_get_kernel_irqchip(Object *obj, ObjectProperty *prop, Error **errp)
{
    KVMState *s = KVM_STATE(obj);

    return g_strdup(kvm_irqchip_names[s->irqchip_prop >= 0 ? s->irqchip_prop
                                                          : ON_OFF_SPLIT_AUTO]);
}

static bool kvm_set_kernel_irqchip(Object *obj, ObjectProperty *prop, const char *value,
                                   Error **errp)
{
    for (size_t i = 0; i < ARRAY_SIZE(kvm_irqchip_names); i++) {
        if (!strcmp(value, kvm_irqchip_names[i])) {
            KVM_STATE(obj)->irqchip_prop = i;
            return true;
        }
    }
    error_setg(errp, "kernel-irqchip: '%s' is not on, off, split or auto", value);
    return false;
}

static void kvm_accel_class_init(ObjectClass *oc, const void *data)
{
    AccelClass *ac = (AccelClass *)oc;

    ac->name = "kvm";
    ac->available = kvm_accel_available;
    ac->init_machine = kvm_accel_init_machine;
    ac->create_vcpu = kvm_accel_create_vcpu;
    ac->destroy_vcpu = kvm_accel_destroy_vcpu;
    ac->kick_vcpu = kvm_kick_vcpu_op;
    ac->synchronize_state = kvm_synchronize_state;
    ac->synchronize_post_reset = kvm_synchronize_post_reset;
    ac->synchronize_post_init = kvm_synchronize_post_init;
    ac->irqchip_in_kernel = kvm_accel_irqchip_in_kernel;
    ac->irqchip_create = kvm_accel_irqchip_create;
    ac->pit_hpet_legacy = kvm_accel_pit_hpet_legacy;
    ac->update_guest_debug = kvm_update_guest_debug;
    object_property_set_description(
        object_class_property_add(oc, "kernel-irqchip", "OnOffSplit", kvm_get_kernel_irqchip,
                                  kvm_set_kernel_irqchip, NULL),
        "interrupt controllers in the kernel: on, off, split (unsupported) or auto");
}

static const TypeInfo kvm_accel_type = {
    .name = TYPE_KVM_ACCEL,
    .parent = TYPE_ACCEL,
    .desc = "Linux KVM: guest code runs on the host CPU",
    .instance_size = sizeof(KVMState),
    .instance_init = kvm_accel_instance_init,
    .class_init = kvm_accel_class_init,
};
KITE_TYPE_REGISTER(kvm_accel_type)
