/*
 * The abstract machine: options common to all boards (-m, -smp, -kernel, -M key=val).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/boards.h"
#include "kite/opts.h"
#include "kite/property.h"
#include "kite/cutils.h"

static MachineState *the_machine;

MachineClass *MACHINE_GET_CLASS(const void *obj)
{
    return OBJECT_GET_CLASS(MachineClass, obj, TYPE_MACHINE);
}

MachineClass *MACHINE_CLASS(const void *klass)
{
    return OBJECT_CLASS_CHECK(MachineClass, klass, TYPE_MACHINE);
}

MachineState *MACHINE(const void *obj)
{
    return OBJECT_CHECK(MachineState, obj, TYPE_MACHINE);
}

MachineState *current_machine(void)
{
    return the_machine;
}

void machine_set_current(MachineState *ms)
{
    the_machine = ms;
}

static const char *const on_off_split_names[] = { "on", "off", "split", "auto", NULL };

static const Property machine_props[] = {
    DEFINE_PROP_STRING("kernel", MachineState, kernel_filename),
    DEFINE_PROP_STRING("initrd", MachineState, initrd_filename),
    DEFINE_PROP_STRING("append", MachineState, kernel_cmdline),
    DEFINE_PROP_STRING("firmware", MachineState, firmware),
    DEFINE_PROP_STRING("memory-backend", MachineState, memory_backend),
    DEFINE_PROP_ENUM("kernel-irqchip", MachineState, kernel_irqchip, ON_OFF_SPLIT_AUTO,
                     on_off_split_names),
    DEFINE_PROP_BOOL("dump-tree", MachineState, dump_tree, false),
    DEFINE_PROP_BOOL("mem-merge", MachineState, mem_merge, true),
    DEFINE_PROP_BOOL("dump-guest-core", MachineState, dump_guest_core, true),
    DEFINE_PROP_BOOL("usb", MachineState, usb, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void machine_class_base_init(ObjectClass *oc, const TypeInfo *info)
{
    MachineClass *mc = (MachineClass *)oc;
    const char *name = info->name;

    /* "pc-machine" -> "pc" */
    if (g_str_has_suffix(name, TYPE_MACHINE_SUFFIX)) {
        mc->name = g_strndup(name, strlen(name) - strlen(TYPE_MACHINE_SUFFIX));
    }
    if (info->desc) {
        mc->desc = info->desc;
    }
}

/*
 * QEMU's machine always has /machine/peripheral (devices with id=) and
 * /machine/peripheral-anon (without), even while they are empty.
 */
static void machine_instance_init(Object *obj)
{
    container_get(obj, "peripheral");
    container_get(obj, "peripheral-anon");
}

static void machine_finalize(Object *obj)
{
    MachineState *ms = MACHINE(obj);

    g_free(ms->cpu_type);
    g_free(ms->boot_order);
}

static const TypeInfo machine_type = {
    .name = TYPE_MACHINE,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(MachineState),
    .class_size = sizeof(MachineClass),
    .class_base_init = machine_class_base_init,
    .instance_init = machine_instance_init,
    .instance_finalize = machine_finalize,
    .props = machine_props,
};
KITE_TYPE_REGISTER(machine_type)

MachineClass *machine_find_class(const char *name)
{
    GSList *list = object_class_get_list(TYPE_MACHINE, false);
    MachineClass *found = NULL;

    for (GSList *l = list; l; l = l->next) {
        MachineClass *mc = l->data;
        if (name ? (!g_strcmp0(mc->name, name) || !g_strcmp0(mc->alias, name))
                 : mc->is_default) {
            found = mc;
            break;
        }
    }
    g_slist_free(list);
    return found;
}

/*
 * -smp [cpus=]n[,maxcpus=][,sockets=][,dies=][,clusters=][,cores=][,threads=] with QEMU
 * 7.2's rules for its current machine types (hw/core/machine-smp.c behaviour, checked
 * against Debian's qemu-system-x86_64 7.2):
 *  - an explicit 0 is deprecated: a warning, then treated as omitted;
 *  - x86 has dies but no clusters: clusters= may only be 1;
 *  - with neither cpus nor maxcpus, omitted sockets/cores/threads are 1;
 *  - otherwise maxcpus defaults to cpus and omitted values are derived from it preferring
 *    cores over sockets (QEMU 6.2 and later): cores, else sockets, then threads;
 *  - the product must equal maxcpus exactly, and maxcpus must cover cpus.
 * So "-smp 2" is 1 socket with 2 cores, as QEMU's pc machine has it.
 */
/* a * b * c * d, or UINT64_MAX when that does not fit (absurd -smp values). */
static uint64_t smp_product(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t r;

    if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, c, &r) ||
        __builtin_mul_overflow(r, d, &r)) {
        return UINT64_MAX;
    }
    return r;
}

bool machine_parse_smp(MachineState *ms, const char *optarg, Error **errp)
{
    static const char *const keys[] = {
        "cpus", "maxcpus", "sockets", "dies", "clusters", "cores", "threads",
    };
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    g_autoptr(KiteOpts) opts = kite_opts_parse(optarg, "cpus", errp);
    uint64_t v[G_N_ELEMENTS(keys)] = { 0 };
    bool zero = false;

    if (!opts) {
        return false;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        if (!kite_opts_get_uint(opts, keys[k], &v[k], errp)) {
            return false;
        }
        zero |= kite_opts_has(opts, keys[k]) && v[k] == 0;
    }
    if (!kite_opts_check_unused(opts, "-smp", errp)) {
        return false;
    }
    if (zero) {
        warn_report("Deprecated CPU topology (considered invalid): "
                    "CPU topology parameters must be greater than zero");
    }

    uint64_t cpus = v[0], maxcpus = v[1], sockets = v[2], dies = v[3], clusters = v[4];
    uint64_t cores = v[5], threads = v[6];

    if (clusters > 1) {
        error_setg(errp, "clusters not supported by this machine's CPU topology");
        return false;
    }
    dies = dies ? dies : 1;
    if (!cpus && !maxcpus) {
        sockets = sockets ? sockets : 1;
        cores = cores ? cores : 1;
        threads = threads ? threads : 1;
    } else {
        maxcpus = maxcpus ? maxcpus : cpus;
        if (!cores) {
            sockets = sockets ? sockets : 1;
            threads = threads ? threads : 1;
            cores = maxcpus / smp_product(sockets, dies, threads, 1);
        } else if (!sockets) {
            threads = threads ? threads : 1;
            sockets = maxcpus / smp_product(dies, cores, threads, 1);
        }
        if (!threads) {
            threads = maxcpus / smp_product(sockets, dies, cores, 1);
        }
    }
    maxcpus = maxcpus ? maxcpus : smp_product(sockets, dies, cores, threads);
    cpus = cpus ? cpus : maxcpus;

    if (smp_product(sockets, dies, cores, threads) != maxcpus) {
        error_setg(errp, "Invalid CPU topology: product of the hierarchy must match "
                   "maxcpus: sockets (%" PRIu64 ") * dies (%" PRIu64 ") * cores (%" PRIu64
                   ") * threads (%" PRIu64 ") != maxcpus (%" PRIu64 ")",
                   sockets, dies, cores, threads, maxcpus);
        return false;
    }
    if (maxcpus < cpus) {
        error_setg(errp, "Invalid CPU topology: maxcpus must be equal to or greater than "
                   "smp: sockets (%" PRIu64 ") * dies (%" PRIu64 ") * cores (%" PRIu64
                   ") * threads (%" PRIu64 ") == maxcpus (%" PRIu64 ") < smp_cpus (%" PRIu64
                   ")", sockets, dies, cores, threads, maxcpus, cpus);
        return false;
    }
    if (mc->max_cpus && maxcpus > mc->max_cpus) {
        error_setg(errp, "Invalid SMP CPUs %" PRIu64 ". The max CPUs supported by machine "
                   "'%s' is %u", maxcpus, mc->name, mc->max_cpus);
        return false;
    }
    ms->smp.cpus = cpus;
    ms->smp.max_cpus = maxcpus;
    ms->smp.sockets = sockets;
    ms->smp.dies = dies;
    ms->smp.cores = cores;
    ms->smp.threads = threads;
    return true;
}
