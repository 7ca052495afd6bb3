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
 * -smp [cpus=]n[,maxcpus=][,sockets=][,dies=][,cores=][,threads=]: missing values are
 * derived as QEMU does (prefer sockets), and the product must cover maxcpus.
 */
bool machine_parse_smp(MachineState *ms, const char *optarg, Error **errp)
{
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    g_autoptr(KiteOpts) opts = kite_opts_parse(optarg, "cpus", errp);
    uint64_t cpus = 0, maxcpus = 0, sockets = 0, dies = 1, cores = 0, threads = 0;

    if (!opts) {
        return false;
    }
    if (!kite_opts_get_uint(opts, "cpus", &cpus, errp) ||
        !kite_opts_get_uint(opts, "maxcpus", &maxcpus, errp) ||
        !kite_opts_get_uint(opts, "sockets", &sockets, errp) ||
        !kite_opts_get_uint(opts, "dies", &dies, errp) ||
        !kite_opts_get_uint(opts, "cores", &cores, errp) ||
        !kite_opts_get_uint(opts, "threads", &threads, errp) ||
        !kite_opts_check_unused(opts, "-smp", errp)) {
        return false;
    }
    if (kite_opts_has(opts, "cpus") && cpus == 0) {
        error_setg(errp, "cpus must be at least 1");
        return false;
    }
    if (dies == 0 || (kite_opts_has(opts, "sockets") && sockets == 0) ||
        (kite_opts_has(opts, "cores") && cores == 0) ||
        (kite_opts_has(opts, "threads") && threads == 0)) {
        error_setg(errp, "topology values must be at least 1");
        return false;
    }
    maxcpus = maxcpus ? maxcpus : cpus;
    threads = threads ? threads : 1;
    if (!cpus && !maxcpus) {
        cpus = maxcpus = (sockets ? sockets : 1) * dies * (cores ? cores : 1) * threads;
    }
    if (!cpus) {
        cpus = maxcpus;
    }
    if (!maxcpus) {
        maxcpus = cpus;
    }
    cores = cores ? cores : 1;
    if (!sockets) {
        sockets = DIV_ROUND_UP(maxcpus, dies * cores * threads);
    }
    if (sockets * dies * cores * threads < maxcpus) {
        error_setg(errp, "topology (sockets=%" PRIu64 " dies=%" PRIu64 " cores=%" PRIu64
                   " threads=%" PRIu64 ") is too small for %" PRIu64 " CPUs",
                   sockets, dies, cores, threads, maxcpus);
        return false;
    }
    if (cpus > maxcpus) {
        error_setg(errp, "maxcpus (%" PRIu64 ") must be at least cpus (%" PRIu64 ")",
                   maxcpus, cpus);
        return false;
    }
    if (mc->max_cpus && maxcpus > mc->max_cpus) {
        error_setg(errp, "machine '%s' supports at most %u CPUs, not %" PRIu64,
                   mc->name, mc->max_cpus, maxcpus);
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
